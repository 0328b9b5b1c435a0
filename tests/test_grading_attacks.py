"""Attacks on the grader, replayed: each must fail, and every other row must stay right.

Two parts. The sandbox probe runs hostile cells in one sandboxed session and reads back what
they could see and do (files of the grader, other processes, the network, a fork bomb). The
hostile class grades chapter 1 with honest submissions beside attackers, as an instructor
would, and checks the gradebook row by row.
"""

import hashlib
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from grading_helpers import ROOT, TINY, need_bwrap, notebook, process_cmdlines

from lstm_lessons.homework.grading import Limits, grade_folder, write_gradebook
from lstm_lessons.homework.runner import load_manifest
from lstm_lessons.homework.sandbox import Namespace, Session, read_only_paths

CH01 = "ch01_simple_rnn"
LEFTOVER = "317.25"  # how long a process that an attacker leaves behind sleeps

PROBE = """\
import os, socket, subprocess
seen = {p: os.path.exists(p) for p in PATHS}
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    network = "connected"
except OSError as e:
    network = type(e).__name__
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
cmdlines = [open(f"/proc/{p}/cmdline", "rb").read().decode(errors="replace") for p in pids]
try:
    os.kill(GRADER_PID, 0)
    signalled = True
except OSError:
    signalled = False
writes = {}
for target in ["/opt/lstm-grading/lstm_lessons/x.py", "/usr/x", "/tmp/x", "x.txt"]:
    try:
        with open(target, "w") as f:
            f.write("x")
        writes[target] = True
    except OSError:
        writes[target] = False
uid = os.getuid()
# Read-only mounts, whatever the permissions of the user would allow.
import sys
readonly = {p: bool(os.statvfs(p).f_flag & os.ST_RDONLY)
            for p in ["/opt/lstm-grading/lstm_lessons", "/usr", sys.prefix, "/scratch"]}
listing = []
for folder, dirs, files in os.walk("/"):
    if folder.startswith(("/proc", "/sys", "/dev", "/usr", "/opt", "/etc", "/tmp", "/scratch")):
        dirs[:] = []
    elif not any(folder.startswith(p) for p in READ_ONLY):
        listing += [os.path.join(folder, f) for f in files]
"""
FORK_BOMB = """\
import os, time
leader, forks = os.getpid(), 0
for _ in range(9):  # 512 processes if nothing stops it
    try:
        os.fork()
    except OSError:
        break
    if os.getpid() == leader:
        forks += 1
if os.getpid() != leader:
    time.sleep(30)
    os._exit(0)
"""

# Forks one after the other (unlike FORK_BOMB, whose count depends on scheduling).
SLEEPERS = """\
import os, time
forks = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    forks += 1
"""


def test_the_sandbox_hides_the_grader_and_the_machine(tmp_path):
    need_bwrap()
    secret = tmp_path / "gradebook.csv"
    secret.write_text("the gradebook")
    paths = [str(secret), str(tmp_path), str(ROOT / "solutions"), str(ROOT / "exercises_src"),
             str(ROOT / "lstm_lessons"), "/home", os.getcwd()]  # fmt: skip
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    setup = f"PATHS = {paths!r}\nGRADER_PID = {os.getpid()}\nREAD_ONLY = {read_only_paths()!r}\n"
    cells = [setup, PROBE, SLEEPERS]
    session = Session(cells, replace(TINY, cell_timeout_s=60, test_timeout_s=30), scratch)
    try:
        session.start()
        assert session.notes == []
        ns = Namespace(session)
        seen = ns["seen"]
        # The venv is bound read-only at its own path, so the folders above it exist (empty
        # but for the venv) when it lies inside the repository, as in a CI clone.
        venv = Path(sys.prefix)
        assert seen == {p: venv.is_relative_to(p) for p in paths}, seen
        # Outside the system, Python and the venv (read-only), no file is in sight.
        assert ns["listing"] == [], ns["listing"]
        assert ns["network"] in {"OSError", "gaierror", "ConnectionRefusedError"}, ns["network"]
        assert len(ns["pids"]) <= 4, ns["cmdlines"]  # bwrap's init, the worker, the bomb's
        # No host path in sight, not even in bwrap's own command line (its pid 1).
        cmdlines = [c.replace(sys.prefix, "<venv>") for c in ns["cmdlines"]]
        assert not any("pytest" in c or str(ROOT) in c for c in cmdlines), cmdlines
        assert ns["signalled"] is False
        assert ns["writes"] == {
            "/opt/lstm-grading/lstm_lessons/x.py": False,
            "/usr/x": False,
            "/tmp/x": True,  # its own, private /tmp
            "x.txt": True,  # its scratch folder
        }
        assert ns["uid"] != 0
        assert ns["readonly"] == {
            "/opt/lstm-grading/lstm_lessons": True,
            "/usr": True,
            sys.prefix: True,
            "/scratch": False,
        }
        if os.geteuid() == 0:  # only then can the sandbox run as a user of its own
            assert 0 < ns["forks"] < TINY.processes  # RLIMIT_NPROC stopped the forks
    finally:
        session.close()
    # Nothing it wrote reached the grader's side except the scratch folder.
    assert not (ROOT / "lstm_lessons" / "x.py").exists()


# The attackers of chapter 1. Each is the blank student notebook with cells added at the end.
PATCH_CHECKS = """\
import lstm_lessons.homework.checks as checks
import lstm_lessons.homework.runner as runner
for name in dir(checks):
    if name.startswith("check_"):
        setattr(checks, name, lambda *a, **k: "passed")
runner.run_test = lambda q, t, env: runner.TestResult(q, t["name"], t["hidden"], t["points"],
                                                      True, "passed")
"""
PATCH_INTERPRETER = """\
import builtins, gc, sys
real_exec = builtins.exec
builtins.exec = lambda *a, **k: None  # the grader's test runner calls exec
AssertionError.__init__ = lambda self, *a: None
for obj in gc.get_objects():
    if type(obj).__name__ == "QuestionResult":
        pass
sys.modules["lstm_lessons.homework.checks.report"].verdict = lambda *a, **k: None
"""
FAKE_RESULT = """\
import json, os
result = {"questions": [{"name": q, "score": 10, "failures": []} for q in ("q1", "q2", "q3")],
          "notes": [], "status": "graded", "total": 99}
for path in ["result.json", "../result.json", "/tmp/result.json", "/scratch/result.json"]:
    try:
        with open(path, "w") as f:
            json.dump(result, f)
    except OSError:
        pass
print(json.dumps({"result": {"$np": "<f8", "b64": ""}}))
os._exit(0)
"""
FAKE_REFERENCE = """\
import numpy as np
import lstm_lessons.cells.rnn as rnn
import lstm_lessons.homework.checks.cells as cells

def rnn_step(x, h_prev, W_x, W_h, b):
    return np.zeros((x.shape[0], W_h.shape[0]))

rnn.rnn_step_forward = lambda *a, **k: (np.zeros((a[0].shape[0], a[2].shape[0])), None)
cells.rnn_step_forward = rnn.rnn_step_forward
"""
OVERWRITE_CLASSMATES = """\
import os
hits = []
for top in ["/", os.path.expanduser("~"), "..", "/tmp", "/work", "/root"]:
    for folder, dirs, files in os.walk(top):
        if folder.startswith(("/proc", "/sys", "/usr")) or folder.count("/") > 5:
            dirs[:] = []
            continue
        for f in files:
            if f.lower().endswith((".ipynb", ".csv", ".json")):
                try:
                    with open(os.path.join(folder, f), "w") as out:
                        out.write("{}")
                    hits.append(os.path.join(folder, f))
                except OSError:
                    pass
"""
DETACHED = f"""\
import subprocess
subprocess.Popen(["setsid", "sh", "-c", "sleep {LEFTOVER}; echo 'victim,0' >> gradebook.csv"],
                 start_new_session=True)
subprocess.Popen(["sleep", "{LEFTOVER}"])
"""
STEAL_HIDDEN = """\
import glob, os
stolen = []
patterns = ["/proc/*/cmdline", "/proc/*/environ", "/*/*/solutions/*.ipynb", "/*/solutions/*",
            "/tmp/*/*", "/tmp/*", "../*", "/opt/*/*/homework/manifests/*.json"]
for pattern in patterns:
    for path in glob.glob(pattern)[:200]:
        try:
            text = open(path, "rb").read().decode(errors="replace")
        except OSError:
            continue
        if '"hidden": true' in text or "_hidden" in text:
            stolen.append(path)
assert not stolen, stolen
"""
NETWORK = """\
import urllib.request
urllib.request.urlopen("http://example.com", timeout=3).read()
"""
# Each entry: (answers: "solution" or "blank", extra cells, expected points of q1, q2, q3).
CLASS = {
    "alice.ipynb": ("solution", [], (2, 2, 3)),
    "victim.ipynb": ("solution", [], (2, 2, 3)),
    "blank.ipynb": ("blank", [], (0, 0, 0)),
    "patch_checks.ipynb": ("blank", [PATCH_CHECKS], (0, 0, 0)),
    "patch_interpreter.ipynb": ("blank", [PATCH_INTERPRETER], (0, 0, 0)),
    "fake_result.ipynb": ("blank", [FAKE_RESULT], (0, 0, 0)),
    # shrink is right for the d it computed before the attack: q3 keeps that point.
    "fake_reference.ipynb": ("solution", [FAKE_REFERENCE], (2, 0, 1)),
    "overwrites_classmates.ipynb": ("blank", [OVERWRITE_CLASSMATES], (0, 0, 0)),
    "detached.ipynb": ("solution", [DETACHED], (2, 2, 3)),
    "steals_hidden_tests.ipynb": ("solution", [STEAL_HIDDEN], (2, 2, 3)),
    "network.ipynb": ("solution", [NETWORK], (2, 2, 3)),
    "fork_bomb.ipynb": ("solution", [FORK_BOMB], (2, 2, 3)),
}


def _ch01(path, answers, extra):
    import nbformat

    source = ROOT / ("solutions" if answers == "solution" else "exercises") / f"{CH01}.ipynb"
    nb = nbformat.read(source, as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(c) for c in extra]
    nbformat.write(nb, path)


def _hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_a_hostile_class_gets_the_right_gradebook(tmp_path):
    need_bwrap()
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name, (answers, extra, _) in CLASS.items():
        _ch01(folder / name, answers, extra)
    before = _hashes(folder)
    manifest = load_manifest(ROOT / "solutions" / f"{CH01}.ipynb")
    limits = Limits(timeout_s=300, cell_timeout_s=60, test_timeout_s=60, memory_mb=2048,
                    file_mb=8, output_kb=64, kill_grace_s=10)  # fmt: skip
    out = tmp_path / "gradebook.csv"
    write_gradebook({}, manifest, out)

    rows = grade_folder(folder, manifest, limits, jobs=2)
    print({name: round(row["seconds"], 1) for name, row in rows.items()})

    assert list(rows) == sorted(CLASS)
    for name, (_, _, points) in CLASS.items():
        row = rows[name]
        got = tuple(row["scores"][q] for q in ("q1", "q2", "q3"))
        assert (got, row["status"]) == (points, "graded"), f"{name}: {row['reasons']}"
        assert row["sha256"] == before[name]
    # Honest rows carry no reason at all but the duplicate notes they earn.
    for name in ("alice.ipynb", "victim.ipynb"):
        assert all("duplicate" in r for r in rows[name]["reasons"]), rows[name]["reasons"]
    assert any("raised URLError" in r for r in rows["network.ipynb"]["reasons"])
    assert not any("AssertionError" in r for r in rows["steals_hidden_tests.ipynb"]["reasons"])
    # Nothing reached the submissions or the gradebook, and nothing outlived its grading.
    assert _hashes(folder) == before
    assert out.read_text().count("\n") == 1
    time.sleep(0.5)
    assert not [c for c in process_cmdlines() if LEFTOVER in " ".join(c)]


@pytest.mark.parametrize("answers", ["blank"])
def test_an_attack_alone_scores_what_it_scores_in_the_class(answers, tmp_path):
    """The patched checks give a blank notebook nothing, whether or not others are graded."""
    need_bwrap()
    folder = tmp_path / "one"
    folder.mkdir()
    _ch01(folder / "a.ipynb", answers, [PATCH_CHECKS])
    notebook(folder / "b.ipynb", ["x = 1\n"])
    manifest = load_manifest(ROOT / "solutions" / f"{CH01}.ipynb")
    rows = grade_folder(folder, manifest, Limits(cell_timeout_s=60, test_timeout_s=60))
    assert rows["a.ipynb"]["total"] == rows["b.ipynb"]["total"] == 0
