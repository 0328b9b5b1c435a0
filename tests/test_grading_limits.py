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
    # SHOUTS.IPYNB is honest.ipynb's code with no markdown answer: a near-duplicate.
    assert any("near-duplicate" in r and "upper/SHOUTS.IPYNB" in r
               for r in rows["honest.ipynb"]["reasons"])  # fmt: skip
    assert not any("duplicate" in r for r in rows["raises.ipynb"]["reasons"])
    assert "note: duplicate: the same file as copy/honest.ipynb" in rows["honest.ipynb"]["reasons"]


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
