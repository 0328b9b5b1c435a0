"""The grader's limits, on tiny notebooks that import nothing heavy (short limits are safe here).

Each submission of the toy set (tests/grading_helpers.py) goes wrong in one way; its row must
say what went wrong, and a loop, a crash or a hog must cost only its own task. The limits are
short (3 s per cell and call) because these notebooks need milliseconds; the tests that
solutions score full marks use generous limits instead (tests/test_grading.py).
"""

import csv

import pytest
from grading_helpers import HONEST, TINY, TOY, need_bwrap, notebook

from lstm_lessons.homework.grading import (
    find_submissions,
    grade_folder,
    manual_marks,
    write_gradebook,
    write_reports,
)

DOUBLE_IGNORING_LIMITS = """\
import time
def double(x):
    while True:  # swallows the grader's TimeLimitExceeded: only a kill stops it
        try:
            time.sleep(0.5)
        except BaseException:
            pass
"""
# Each entry: extra cells put before the honest answers (or "only": cells instead of them),
# the expected points of q1, q2, q3, and words that some reason must contain.
CLASS = {
    "honest.ipynb": ({}, (1, 1, 2), []),
    "blank.ipynb": ({"only": ["import math\n"]}, (0, 0, 0), ["value should be 7, got None"]),
    "endless_cell.ipynb": ({"before": ["while True:\n    pass\n"]}, (1, 1, 2),
                           ["ran longer than 3 s and was stopped"]),  # fmt: skip
    "ignores_time_limit.ipynb": (
        {"before": ["import time\nwhile True:\n    try:\n        time.sleep(0.5)\n"
                    "    except BaseException:\n        pass\n"]},
        (1, 1, 2),
        ["did not stop at its time limit of 3 s and was killed"],
    ),  # fmt: skip
    "loop_in_a_call.ipynb": ({"only": [DOUBLE_IGNORING_LIMITS, *HONEST[1:]]}, (0, 1, 2),
                             ["the call of double did not stop"]),  # fmt: skip
    "setup_times_out.ipynb": (
        {"only": ["import time\ntime.sleep(30)\nimport math\n", "value = math.floor(7.5)\n",
                  "def double(x):\n    return int(math.pow(2, 1)) * x\n", HONEST[2]]},
        (0, 0, 2),
        ["ran longer than 3 s and was stopped", "NameError: name 'math' is not defined",
         "raised NameError: name 'math' is not defined (perhaps because code cell 1",
         "code cell 1 (import time) ran out of time and was stopped, so the names it defines "
         "are missing: the NameErrors below follow"],
    ),  # fmt: skip
    "exits.ipynb": ({"before": ["import os\nos._exit(3)\n"]}, (1, 1, 2),
                    ["ended the grading process (ended (exit code 3))"]),  # fmt: skip
    "raises.ipynb": ({"only": ["def double(x):\n    raise ValueError('not ready')\n",
                               *HONEST[1:]]}, (0, 1, 2), ["ValueError: not ready"]),  # fmt: skip
    "long_message.ipynb": ({"only": ["def double(x):\n    raise ValueError('why ' * 2000)\n",
                                     *HONEST[1:]]}, (0, 1, 2), ["... (shortened)"]),  # fmt: skip
    "half_right.ipynb": ({"only": [*HONEST[:2], "def half(x):\n    return x // 2\n"]},
                         (1, 1, 0), ["half(9)"]),  # fmt: skip
    "hog.ipynb": (
        {"before": [
            "for i in range(2_000):\n    print('spam ' * 100)\n",  # 1 MB
            "import os\nfor _ in range(9):\n    os.write(1, b'x' * (1 << 20))\n",  # 9 MB
            "big = bytearray(2 << 30)  # 2 GB, over the limit of 1 GB\n",
        ]},
        (1, 1, 2),
        ["MB more than the 64 KB of output kept", "OSError: [Errno 27] File too large",
         "raised MemoryError"],
    ),  # fmt: skip
}


RUN = {}  # what the fixture saw while grading: progress calls, partial gradebooks


def _cells(spec):
    return spec.get("only") or [*spec.get("before", []), *HONEST]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    need_bwrap()
    folder = tmp_path_factory.mktemp("toy") / "submissions"
    for name, (spec, *_) in CLASS.items():
        notebook(folder / name, _cells(spec), markdown=[f"My answer, by {name}."])
    notebook(folder / ".ipynb_checkpoints" / "honest-checkpoint.ipynb", HONEST)
    notebook(folder / "upper" / "SHOUTS.IPYNB", HONEST)
    (folder / "copy").mkdir()
    (folder / "copy" / "honest.ipynb").write_bytes((folder / "honest.ipynb").read_bytes())
    (folder / "notes.txt").write_text("not a notebook")
    seen, written = [], []
    rows = grade_folder(
        folder,
        TOY,
        TINY,
        jobs=2,
        progress=lambda done, total, name, row: seen.append((done, total, name)),
        on_row=lambda rows: written.append(list(rows)),
    )
    RUN.update(progress=seen, partial=written)
    return folder, rows


@pytest.mark.parametrize("name", sorted(CLASS))
def test_each_mistake_costs_only_its_task(graded, name):
    _, rows = graded
    _, points, words = CLASS[name]
    row = rows[name]
    assert tuple(row["scores"][q] for q in ("q1", "q2", "q3")) == points, row["reasons"]
    assert row["status"] == "graded" and row["scores"]["q4"] is None
    assert row["possible"] == 4 and row["total"] == sum(points)
    for word in words:
        assert any(word in r for r in row["reasons"]), f"{word!r} not in {row['reasons']}"
    for reason in row["reasons"]:
        assert "Traceback" not in reason and 'File "' not in reason and len(reason) < 500


def test_all_or_nothing_scores_zero_unless_every_test_passes(graded):
    _, rows = graded
    # half_right passes test_half (8 // 2 == 4) but not test_third: q3 is worth nothing.
    assert rows["half_right.ipynb"]["scores"]["q3"] == 0
    reasons = [r for r in rows["half_right.ipynb"]["reasons"] if r.startswith("q3")]
    assert reasons == ["q3: half(9) (-1)"]


def test_checkpoints_are_skipped_and_odd_suffixes_graded_and_noted(graded):
    folder, rows = graded
    assert not [name for name in rows if ".ipynb_checkpoints" in name]
    assert rows["upper/SHOUTS.IPYNB"]["total"] == 4
    assert any("suffix is '.IPYNB'" in r for r in rows["upper/SHOUTS.IPYNB"]["reasons"])
    found, notes = find_submissions(folder)
    assert "notes.txt: not a notebook (.ipynb); not graded" in notes
    assert len(found) == len(CLASS) + 2


def test_duplicates_are_flagged(graded):
    _, rows = graded
    # SHOUTS.IPYNB is honest.ipynb's code with no markdown answer: a near-duplicate. The
    # notes name no classmate; the instructor finds the names in duplicate_of.
    reasons = rows["honest.ipynb"]["reasons"]
    assert any("near-duplicate" in r and "another submission's" in r for r in reasons)
    assert "note: duplicate: the same file as 1 other submission" in reasons
    assert {"copy/honest.ipynb", "upper/SHOUTS.IPYNB"} <= set(rows["honest.ipynb"]["duplicate_of"])
    assert not any("duplicate" in r for r in rows["raises.ipynb"]["reasons"])


def test_gradebook_reports_and_hand_marks_survive_a_rerun(graded, tmp_path):
    _, rows = graded
    out = tmp_path / "gradebook.csv"
    write_gradebook(rows, TOY, out)
    with open(out, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [r["submission"] for r in table] == list(rows)
    assert all(len(r["sha256"]) == 64 for r in table)
    # A person marks a written answer; grading again keeps the mark.
    table[0]["q4"] = "1.5"
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    write_gradebook(rows, TOY, out)
    with open(out, newline="", encoding="utf-8") as f:
        assert next(csv.DictReader(f))["q4"] == "1.5"
    assert manual_marks(out, TOY)[table[0]["submission"]] == 1.5
    reports = write_reports(rows, TOY, out)
    first = table[0]["submission"]
    assert "My answer, by blank.ipynb." in (reports / "written_answers.md").read_text()
    assert "Score histogram" in (reports / "summary.md").read_text()
    with open(reports / "canvas.csv", newline="", encoding="utf-8") as f:
        canvas = list(csv.reader(f))
    assert canvas[0][-1] == "toy" and canvas[1] == ["Points Possible", "", "", "", "", "6"]
    assert canvas[2][0] == first and float(canvas[2][-1]) == rows[first]["total"] + 1.5
    assert (reports / "moodle.csv").read_text().startswith("Email address,Full name,Grade")
    feedback = (reports / "feedback" / "endless_cell.ipynb.md").read_text()
    assert "ran longer than 3 s" in feedback


def test_progress_and_a_partial_gradebook_after_each_submission(graded):
    _, rows = graded
    n = len(rows)
    assert [(d, total) for d, total, _ in RUN["progress"]] == [(k, n) for k in range(1, n + 1)]
    # After each submission the rows so far (what an interrupted run leaves), in path order.
    assert [len(r) for r in RUN["partial"]] == list(range(1, n + 1))
    assert all(r == sorted(r) for r in RUN["partial"]) and RUN["partial"][-1] == list(rows)


def test_without_a_sandbox_every_row_says_so(tmp_path):
    notebook(tmp_path / "a.ipynb", HONEST)
    rows = grade_folder(tmp_path, TOY, TINY, use_bwrap=False)
    assert rows["a.ipynb"]["total"] == 4
    assert any("WARNING: graded without a sandbox" in r for r in rows["a.ipynb"]["reasons"])


# -- Resources bounded on the host: each limit with a case just inside and one just outside.

PROBE = r"""
import ctypes, os, subprocess, threading
def size_mb(folder):
    st = os.statvfs(folder)
    return st.f_blocks * st.f_frsize / (1 << 20)
sizes = {f: size_mb(f) for f in ("/tmp", "/scratch")}
def fill(folder):
    written = 0
    try:
        for k in range(100):
            with open(f"{folder}/fill{k}", "wb") as f:
                f.write(b"x" * (1 << 20))
            written += 1
    except OSError as e:
        return written, e.errno
    return written, None
filled = {f: fill(f) for f in ("/tmp", "/scratch")}
for f in ("/tmp", "/scratch"):
    for k in range(100):
        if os.path.exists(f"{f}/fill{k}"):
            os.remove(f"{f}/fill{k}")
try:
    with open("/tmp/big", "wb") as f:
        for _ in range(3):
            f.write(b"x" * (1 << 20))
            f.flush()
    big = None
except OSError as e:
    big = (e.errno, os.path.getsize("/tmp/big"))
libc = ctypes.CDLL(None, use_errno=True)
def errno_of(result):
    return ctypes.get_errno() if result == -1 else 0
namespaces = {
    "unshare user": errno_of(libc.unshare(0x10000000)),
    "unshare net": errno_of(libc.unshare(0x40000000)),
    "setns": errno_of(libc.setns(-1, 0)),  # EPERM from the filter, before EBADF
    "unshare -r": subprocess.run(["unshare", "-r", "id", "-u"], capture_output=True).returncode,
}
import platform
clone, clone3 = {"x86_64": (56, 435), "aarch64": (220, 435)}[platform.machine()]
child = libc.syscall(clone, 0x10000000 | 17, 0, 0, 0, 0)  # CLONE_NEWUSER | SIGCHLD
if child == 0:
    os._exit(0)
namespaces["clone user"] = errno_of(child)
namespaces["clone3"] = errno_of(libc.syscall(clone3, 0, 0))  # ENOSYS: the C library uses clone
box = []
thread = threading.Thread(target=box.append, args=(1,))
thread.start()
thread.join()
pid = os.fork()
if pid == 0:
    os._exit(7)
works = {"thread": box, "fork": os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]),
         "subprocess": subprocess.run(["id", "-u"], capture_output=True).returncode}
mounts = [line.split(" - ") for line in open("/proc/self/mountinfo").read().splitlines()]
writable = sorted({(a.split()[4], b.split()[0]) for a, b in mounts
                   if a.split()[5].startswith("rw")})
mountinfo = open("/proc/self/mountinfo").read()
"""


def test_writable_folders_and_namespaces_are_bounded_in_the_sandbox(tmp_path):
    from dataclasses import replace

    from lstm_lessons.homework.sandbox import TMPFS_FILES, Namespace, Session

    need_bwrap()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    limits = replace(TINY, file_mb=2, cell_timeout_s=30)
    session = Session([PROBE], limits, scratch)
    try:
        session.start()
        assert session.notes == []
        ns = Namespace(session)
        # /tmp and the scratch folder: tmpfs of TMPFS_FILES files of the largest size each.
        assert TMPFS_FILES == 2
        assert ns["sizes"] == {"/tmp": 4.0, "/scratch": 4.0}
        # /tmp takes exactly 4 files of 1 MB, a fifth finds no room (ENOSPC); the scratch
        # folder holds the notebook's output log and IPython's files too.
        assert ns["filled"]["/tmp"] == (4, 28)
        assert ns["filled"]["/scratch"][1] == 28 and ns["filled"]["/scratch"][0] in (2, 3)
        assert ns["big"] == (27, 2 << 20)  # one file: 2 MB, then EFBIG
        # No new namespace, by any road; threads, fork and subprocesses work.
        assert ns["namespaces"] == {"unshare user": 1, "unshare net": 1, "setns": 1,
                                    "unshare -r": 1, "clone user": 1, "clone3": 38}  # fmt: skip
        assert ns["works"] == {"thread": [1], "fork": 7, "subprocess": 0}
        # Every writable mount is the sandbox's own (tmpfs, /proc, /dev), none a host folder.
        assert {kind for _, kind in ns["writable"]} <= {"tmpfs", "proc", "devtmpfs", "devpts"}, ns[
            "writable"
        ]
        assert str(scratch) not in ns["mountinfo"] and str(tmp_path) not in ns["mountinfo"]
    finally:
        session.close()


def test_seccomp_filter_is_built_for_known_machines_only():
    from lstm_lessons.homework.sandbox import seccomp_filter

    assert len(seccomp_filter("x86_64")) == len(seccomp_filter("aarch64")) == 13 * 8
    assert seccomp_filter("x86_64") != seccomp_filter("aarch64")
    assert seccomp_filter("riscv64") is None


# Bytes without an end of line on the grader's channel (wherever the worker keeps it), for
# ever: the worker's time limit cannot stop it, so only the line limit ends it early.
JUNK = """\
import os, stat, time
fds = [fd for fd in range(3, 12) if os.path.exists(f"/proc/self/fd/{fd}")]
fds = [fd for fd in fds if stat.S_ISFIFO(os.fstat(fd).st_mode)]
while True:
    for fd in fds:
        try:
            os.write(fd, b"x" * 65536)
            time.sleep(0.01)
        except BaseException:
            pass
"""


def test_a_child_that_sends_too_much_is_stopped_at_the_line_limit(tmp_path):
    import numpy as np

    from lstm_lessons.homework.protocol import dumps, encode
    from lstm_lessons.homework.sandbox import Namespace, Session

    need_bwrap()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    cells = ["import numpy as np\nbig = np.arange(10_000.0)\n", JUNK]
    session = Session(cells, TINY, scratch)
    session.max_line = 100_000
    try:
        # Killed once more than max_line bytes came, not at the cell's time limit (3 s); the
        # notebook runs again without that cell.
        session.start()
        assert any("code cell 2 (import os, stat, time) ended the grading process (sent too much)"
                   in n for n in session.notes), session.notes  # fmt: skip
        # A message of exactly max_line bytes is read; one byte less of room refuses it.
        line = dumps({"kind": "value", "value": encode(np.arange(10_000.0))})
        session.max_line = len(line) - 1
        assert np.array_equal(Namespace(session)["big"], np.arange(10_000.0))
        session.max_line = len(line) - 2
        assert Namespace(session).get("big", "refused") == "refused"
    finally:
        session.close()


def test_a_notebook_over_the_size_limit_is_neither_read_nor_copied_whole(tmp_path):
    import hashlib
    import json

    from lstm_lessons.homework.collect import MAX_NOTEBOOK_MB, copy_and_hash, read_cells

    folder, into = tmp_path / "in", tmp_path / "copies"
    folder.mkdir()
    into.mkdir()
    assert MAX_NOTEBOOK_MB == 20
    limit = 20 << 20
    # Just inside: a real notebook of exactly the limit is copied whole and read.
    nb = {"cells": [{"cell_type": "code", "source": "x = 1\n", "metadata": {}}], "pad": ""}
    nb["pad"] = " " * (limit - len(json.dumps(nb)))
    (folder / "inside.ipynb").write_text(json.dumps(nb))
    # Just outside, and far outside: sparse files, cheap to make, expensive to read whole.
    for name, size in (("outside.ipynb", limit + 1), ("huge.ipynb", 3 << 30)):
        with open(folder / name, "wb") as f:
            f.truncate(size)
    names = ["inside.ipynb", "outside.ipynb", "huge.ipynb"]
    copies = copy_and_hash(folder, [folder / n for n in names], into)
    inside, digest = copies["inside.ipynb"]
    assert inside.stat().st_size == limit
    assert digest == hashlib.sha256((folder / "inside.ipynb").read_bytes()).hexdigest()
    assert read_cells(inside)[0] == ["x = 1\n"]
    for name in ("outside.ipynb", "huge.ipynb"):
        copy, digest = copies[name]
        assert copy.stat().st_size == limit + 1  # no more than that was read
        assert digest == hashlib.sha256(bytes(limit + 1)).hexdigest()
        with pytest.raises(ValueError, match="larger than 20 MB"):
            read_cells(copy)
    # The limit is an option: 1 MB.
    small = copy_and_hash(folder, [folder / "outside.ipynb"], into, max_mb=1)
    assert small["outside.ipynb"][0].stat().st_size == (1 << 20) + 1
    with pytest.raises(ValueError, match="larger than 1 MB"):
        read_cells(inside, max_mb=1)


def test_reseeded_seeds_lie_in_their_range():
    from lstm_lessons.homework.collect import RESEED_OFFSET, RESEED_RANGE, reseed

    assert (RESEED_OFFSET, RESEED_RANGE) == (1000, 1_000_000)
    # Seeds whose draws lie nearest the ends of the range (found by search, over 0-19999).
    assert reseed("seed=9424", "s3cret") == "seed=1014"
    assert reseed("seed=15809", "s3cret") == "seed=1000885"
    drawn = [int(reseed(f"seed={k}", "s3cret")[5:]) for k in range(2000)]
    assert RESEED_OFFSET <= min(drawn) and max(drawn) < RESEED_OFFSET + RESEED_RANGE


def _similar(k, n=100):
    """Answer code of n characters, and a copy with k of them changed: similarity 1 - k/n."""
    code = "".join(chr(0x4E00 + j) for j in range(n))  # all different: no chance matches
    changed = "".join("Z" if j % (n // k) == 0 and j // (n // k) < k else c
                      for j, c in enumerate(code))  # fmt: skip
    return code, changed


@pytest.mark.parametrize("k, flagged", [(3, True), (4, False)])
def test_near_duplicate_threshold_is_exact(k, flagged):
    import difflib

    from lstm_lessons.homework.score import NEAR_DUPLICATE, flag_duplicates

    a, b = _similar(k)
    ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    assert ratio == 1 - k / 100 and NEAR_DUPLICATE == 0.97
    rows = {name: {"sha256": name, "status": "graded", "total": 1.0, "answers": [code],
                   "reasons": []} for name, code in (("a.ipynb", a), ("b.ipynb", b))}  # fmt: skip
    flag_duplicates(rows)
    for row in rows.values():
        assert any("near-duplicate" in r for r in row["reasons"]) == flagged, row["reasons"]


def test_a_call_returning_far_more_than_it_was_given_is_stopped_unread(tmp_path):
    from dataclasses import replace

    import numpy as np

    from lstm_lessons.homework.protocol import MAX_LINE, dumps, encode
    from lstm_lessons.homework.sandbox import (
        REPLY_FACTOR,
        REPLY_FLOOR,
        Namespace,
        Session,
        StudentCrash,
        reply_limit,
    )

    assert (REPLY_FACTOR, REPLY_FLOOR) == (16, 4 << 20)
    assert reply_limit(1000) == REPLY_FLOOR
    assert reply_limit(REPLY_FLOOR // REPLY_FACTOR + 1) == REPLY_FLOOR + REPLY_FACTOR
    assert reply_limit(MAX_LINE) == MAX_LINE

    def line(k):  # the reply to zeros(k), without its end of line
        return len(dumps({"result": encode(np.zeros(k, np.uint8)), "changed": {}})) - 1

    k = 3 * REPLY_FLOOR // 4
    while line(k) > REPLY_FLOOR:
        k -= 1
    assert line(k) <= REPLY_FLOOR < line(k + 3) <= REPLY_FLOOR + 4
    need_bwrap()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    cells = ["import numpy as np\ndef zeros(k):\n    return np.zeros(k, np.uint8)\n"]
    session = Session(cells, replace(TINY, test_timeout_s=30), scratch)
    try:
        session.start()
        zeros = Namespace(session)["zeros"]
        assert zeros(k).shape == (k,)  # just inside: read
        with pytest.raises(StudentCrash, match="the call of zeros returned more than 4 MB"):
            zeros(k + 3)  # just outside: stopped after REPLY_FLOOR bytes
    finally:
        session.close()
