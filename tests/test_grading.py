"""Grading: solutions score full marks, blank notebooks zero, honest mistakes are diagnosed.

These tests use generous limits, so that they hold on a busy machine: they prove what the
grader scores, not its limits (tests/test_grading_limits.py proves those on tiny notebooks,
tests/test_grading_attacks.py replays attacks). The class of chapter 1 below holds one
submission for each honest mistake (an exception, NaN, a wrong shape, an argument changed in
place, a template left as it was); each is built from the student notebook by putting answers
into its answer cells, and the test checks every row of the gradebook: points, status, and
that each reason names what went wrong.
"""

import csv
import hashlib
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lstm_lessons.homework.grading import Limits, grade_folder, main, write_gradebook
from lstm_lessons.homework.notebook import Grader
from lstm_lessons.homework.runner import load_manifest

ROOT = Path(__file__).resolve().parent.parent
SETS = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
# Solutions must score full marks on a busy machine too: limits with room to spare.
GENEROUS = Limits(
    timeout_s=600, cell_timeout_s=120, test_timeout_s=120, memory_mb=4096, file_mb=8, output_kb=64
)


def test_there_is_an_exercise_set():
    assert SETS == sorted(p.stem for p in (ROOT / "exercises").glob("*.ipynb")) != []


@pytest.mark.parametrize("stem", SETS)
def test_solution_scores_full_marks_and_blank_scores_zero(stem, tmp_path):
    (tmp_path / "solution.ipynb").write_bytes((ROOT / "solutions" / f"{stem}.ipynb").read_bytes())
    (tmp_path / "blank.ipynb").write_bytes((ROOT / "exercises" / f"{stem}.ipynb").read_bytes())
    manifest = load_manifest(ROOT / "solutions" / f"{stem}.ipynb")
    rows = grade_folder(tmp_path, manifest, GENEROUS, jobs=2)
    solution, blank = rows["solution.ipynb"], rows["blank.ipynb"]
    assert solution["possible"] > 0
    # Its only notes say that it is the published solution (tests/test_grading_integrity.py).
    own = [r for r in solution["reasons"] if not r.endswith("the published solution's")]
    assert (solution["status"], solution["total"], own) == ("graded", solution["possible"], [])
    # The blank notebook runs to the end (no cell fails) and every automatic point is lost.
    assert blank["status"] == "graded" and blank["total"] == 0
    assert not [r for r in blank["reasons"] if r.startswith("note:")]
    tests = sum(len(q["tests"]) for q in manifest["questions"])
    assert len(blank["reasons"]) == tests
    for reason in blank["reasons"]:  # "q3 [hidden]: <the check's message> (-1)"
        assert re.fullmatch(r"q\d+( \[hidden\])?: \S.{10,} \(-[\d.]+\)", reason), reason
        assert "Traceback" not in reason and 'File "' not in reason


CH01 = "ch01_simple_rnn"


def submission(path, **answers):
    """The ch01 student notebook with its answer cells filled in, written to ``path``.

    Each answer cell gets the solution's code unless ``answers`` replaces it: the key is the
    name the cell defines (``sigmoid``, ``rnn_step``, ``state_distance``, ``shrink``);
    ``extra`` is a list of code cells added at the end.
    """
    student = nbformat.read(ROOT / "exercises" / f"{CH01}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "solutions" / f"{CH01}.ipynb", as_version=4)
    by_first_line = {c.source.splitlines()[0]: c.source for c in solution.cells if c.source}
    keys = {
        "def sigmoid": "sigmoid",
        "def rnn_step": "rnn_step",
        "def state_distance": "state_distance",
        "# Plot d": "shrink",
    }
    for cell in student.cells:
        if cell.cell_type == "code" and "otter_answer_cell" in cell.metadata.get("tags", []):
            first = cell.source.splitlines()[0]
            key = next(k for prefix, k in keys.items() if first.startswith(prefix))
            cell.source = answers.get(key, by_first_line[first])
    student.cells += [nbformat.v4.new_code_cell(src) for src in answers.get("extra", [])]
    nbformat.write(student, path)


STUB = {
    "state_distance": 'def state_distance(x, x_prime, h0, params):\n    """..."""\n    ...\n\n\n'
    "d = state_distance(x, x_prime, h0, params)",
    "shrink": "shrink = ...",
}
MUTATING_SIGMOID = """\
def sigmoid(x):
    z = np.exp(-np.abs(x))
    x[...] = np.where(x >= 0, 1 / (1 + z), z / (1 + z))  # overwrites the caller's array
    return x
"""
PER_SEQUENCE_DISTANCE = """\
def state_distance(x, x_prime, h0, params):
    h, h_prime, d = h0, h0, []
    for t in range(x.shape[0]):
        h = rnn_step(x[t], h, params["W_x"], params["W_h"], params["b"])
        h_prime = rnn_step(x_prime[t], h_prime, params["W_x"], params["W_h"], params["b"])
        d.append(np.linalg.norm(h - h_prime, axis=1))
    return np.array(d)  # (T, N): not averaged over the sequences


d = state_distance(x, x_prime, h0, params)
"""
# Each entry: the answers, then the expected points of q1, q2, q3, the status, and words that
# the reasons must contain (each reason must contain one of them).
CLASS = {
    "correct.ipynb": ({}, (2, 2, 3), "graded", []),
    "partial.ipynb": (
        {
            "sigmoid": MUTATING_SIGMOID,
            # Right for the public checks' sizes, wrong for a hidden one with H = 6.
            "rnn_step": "def rnn_step(x, h_prev, W_x, W_h, b):\n"
            "    return np.tanh(x @ W_x + h_prev @ W_h + b)[:, :4]\n",
            **STUB,
        },
        (0, 1, 0),
        "graded",
        [
            "q1: Your sigmoid changed its argument `x` in place",
            "q2 [hidden]: Your rnn_step is not right yet. h has the wrong shape",
            "still the template: the task is not done yet",
            "shrink is not computed yet",
        ],
    ),  # fmt: skip
    "raises.ipynb": (
        {
            # The exception's type crosses the sandbox: the template hint needs it.
            "sigmoid": "def sigmoid(x):\n    raise NotImplementedError('not ready')\n",
            "rnn_step": "def rnn_step(x, h_prev, W_x, W_h, b):\n"
            "    return np.tanh(x @ W_x + h_prev @ W_h + b)\n\n"
            "raise RuntimeError('a slip after the definition')\n",
        },
        (0, 2, 3),
        "graded",
        [
            "sigmoid raised NotImplementedError: not ready",
            "Hint: the function is still the template",
            "raised RuntimeError: a slip after",
        ],
    ),
    # NumPy's overflow warning in the sandbox fails the check, as it does in a notebook.
    "overflows.ipynb": (
        {"sigmoid": "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n"},
        (0, 2, 3),
        "graded",
        ["Your sigmoid made NumPy warn (RuntimeWarning: overflow encountered in exp)"],
    ),
    "nan.ipynb": (
        {
            "rnn_step": "def rnn_step(x, h_prev, W_x, W_h, b):\n"
            "    return np.tanh(x @ W_x + h_prev @ W_h + b) * np.nan\n"
        },
        (2, 0, 0),
        "graded",
        [
            "h contains nan at h[0, 0]",
            "d contains nan at d[0]",
            "shrink should be between 0 and 1, got nan",
        ],
    ),  # fmt: skip
    "wrong_shape.ipynb": (
        {"state_distance": PER_SEQUENCE_DISTANCE},
        (2, 2, 0),
        "graded",
        [
            "returned one distance per step and sequence, shape (12, 3)",
            "returned one distance per step and sequence, shape (7, 1)",
            "shrink should be one number, but it has shape (8,)",
        ],
    ),  # fmt: skip
}


def test_a_mixed_class_gives_the_right_gradebook(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name, (answers, *_) in CLASS.items():
        submission(folder / name, **answers)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    manifest = load_manifest(ROOT / "solutions" / f"{CH01}.ipynb")

    rows = grade_folder(folder, manifest, GENEROUS, jobs=2)

    assert list(rows) == sorted(CLASS)
    for name, (_, points, status, words) in CLASS.items():
        row = rows[name]
        got = (tuple(row["scores"][q] for q in ("q1", "q2", "q3")), row["status"])
        assert got == (points, status), f"{name}: {row}"
        assert row["scores"]["q4"] is None and row["possible"] == 7
        assert row["total"] == sum(points)
        for word in words:
            assert any(word in r for r in row["reasons"]), f"{name}: {word!r} not in {row}"
        for reason in row["reasons"]:
            if "duplicate: " in reason:  # built from one solution, they are near-duplicates
                continue
            assert any(w in reason for w in words), f"{name}: unexpected reason {reason!r}"
            assert "Traceback" not in reason and 'File "' not in reason
    lost = sum(1 for r in rows["partial.ipynb"]["reasons"] if not r.startswith("note"))
    assert lost == 5  # q1, q2 hidden, q3 three tests
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()} == before
    assert {n: r["sha256"] for n, r in rows.items()} == before

    out = tmp_path / "gradebook.csv"
    write_gradebook(rows, manifest, out)
    with open(out, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [r["submission"] for r in table] == sorted(CLASS)
    partial = table[[r["submission"] for r in table].index("partial.ipynb")]
    assert (partial["q1"], partial["q2"], partial["q3"], partial["q4"]) == ("0", "1", "0", "")
    assert (partial["total"], partial["possible"], partial["status"]) == ("1", "7", "graded")
    assert (
        "q2 [hidden]: Your rnn_step is not right yet. h has the wrong shape" in partial["reasons"]
    )


def test_the_command_line_writes_a_gradebook(tmp_path, capsys):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice").mkdir()
    submission(folder / "alice" / f"{CH01}.ipynb")
    digest = hashlib.sha256((folder / "alice" / f"{CH01}.ipynb").read_bytes()).hexdigest()
    out = tmp_path / "gradebook.csv"
    args = [str(folder), "--assignment", CH01, "--solutions", str(ROOT / "solutions")]
    assert main([*args, "--out", str(out), "--timeout", "600"]) == 0
    assert "alice/ch01_simple_rnn.ipynb: 7/7 (graded)" in capsys.readouterr().out
    with open(out, newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == [
            ["submission", "sha256", "q1", "q2", "q3", "q4", "total", "possible", "status",
             "reasons"],
            [f"alice/{CH01}.ipynb", digest, "2", "2", "3", "", "7", "7", "graded",
             "note: near-duplicate: sigmoid is 100% the published solution's | "
             "note: near-duplicate: state_distance is 100% the published solution's"],
        ]  # fmt: skip


def test_grader_check_in_a_notebook_prints_plain_messages():
    grader = Grader(CH01)
    env = {"sigmoid": lambda x: None, "rnn_step": lambda x, h, W_x, W_h, b: np.tanh(x @ W_x + b)}
    shown = [repr(grader.check(q, env)) for q in ("q1", "q2", "q3", "q4")]
    assert shown[0] == (
        "q1: not passed yet\n"
        "❌ Your sigmoid is not right yet.\n"
        "   sigmoid(x) is None; expected an array of shape (3, 4). "
        "Does the function end without `return`?"
    )
    assert shown[1] == (
        "q2: not passed yet\n"
        "❌ Your rnn_step is not right yet.\n"
        "   h has wrong values: the largest error is at h[1, 2] (n=1, h=2), expected -0.836735, "
        "got -0.257672; 12 of 12 entries are off.\n"
        "   Likely cause: the recurrent term h_prev @ W_h is missing: "
        "the previous state must feed in."
    )
    assert shown[2].splitlines()[1] == (
        "❌ `state_distance` is not defined yet (got None): run the cell that defines it, "
        "then the check."
    )
    assert shown[3] == "q4: there is nothing to check automatically here."
    # The students' manifest has no hidden test.
    public = {q: [t["name"] for t in grader.questions[q]["tests"]] for q in grader.questions}
    full = load_manifest(ROOT / "solutions" / f"{CH01}.ipynb")
    hidden = {t["name"] for q in full["questions"] for t in q["tests"] if t["hidden"]}
    assert hidden and not hidden & {n for names in public.values() for n in names}
    assert json.dumps(public)  # what a notebook needs is plain data
