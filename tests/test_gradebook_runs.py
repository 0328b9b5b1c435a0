"""Grading runs as an instructor makes them: hand marks across re-runs, a re-run that resumes,
Ctrl-C from both commands, and a class whose file names try to break the outputs.

The toy set (tests/grading_helpers.py) keeps each notebook to milliseconds; the commands read
its manifest from a solution notebook written here.
"""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from grading_helpers import HONEST, TOY, need_bwrap, notebook

import lstm_lessons
from lstm_lessons.homework import grading
from lstm_lessons.homework.cli import main

STOP_S = 10.0  # Ctrl-C must end a run within this (a sandbox is killed, not waited for)
SLOW = "import time\ntime.sleep(60)\n"  # a cell the run is inside when Ctrl-C comes


def _solution(path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["lstm_lessons"] = TOY
    nbformat.write(nb, path)
    return path


def _args(folder, out, solution, *extra):
    return [str(folder), "--assignment", str(solution), "--out", str(out),
            "--cell-timeout", "90", "--test-timeout", "5", *extra]  # fmt: skip


def _table(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _enter_marks(path, mark):
    table = _table(path)
    for r in table:
        r["q4"] = mark
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)


@pytest.fixture
def counted(monkeypatch):
    """The names of the submissions that ran in a sandbox (not taken from an earlier run)."""
    ran = []
    real = grading.grade_submission

    def grade_submission(copy, *args, **kwargs):
        ran.append(copy)
        return real(copy, *args, **kwargs)

    monkeypatch.setattr(grading, "grade_submission", grade_submission)
    return ran


def test_hand_marks_survive_a_rerun_that_grades_again(tmp_path, counted, monkeypatch):
    # The two-student class: each has full automatic marks and 2 hand marks; Canvas
    # showed the hand marks of only the row that finished first.
    need_bwrap()
    folder = tmp_path / "class"
    for name in ("alice.ipynb", "bob.ipynb"):
        notebook(folder / name, HONEST, markdown=["An answer."])
    solution, out = _solution(tmp_path / "toy.ipynb"), tmp_path / "gradebook.csv"
    assert main(_args(folder, out, solution)) == 0
    _enter_marks(out, "2")
    monkeypatch.setattr(lstm_lessons, "__version__", "0.0.0-next")  # a new grader: grade again
    counted.clear()
    assert main(_args(folder, out, solution)) == 0
    assert len(counted) == 2
    assert [(r["submission"], r["q4"], r["total"]) for r in _table(out)] == [
        ("alice.ipynb", "2", "4"), ("bob.ipynb", "2", "4")]  # fmt: skip
    with open(f"{out}.d/canvas.csv", newline="", encoding="utf-8") as f:
        assert [r[-1] for r in csv.reader(f)][1:] == ["6", "6", "6"]  # points possible, then each


def test_a_rerun_grades_only_what_changed(tmp_path, counted, capsys):
    need_bwrap()
    folder = tmp_path / "class"
    notebook(folder / "a.ipynb", HONEST)
    notebook(folder / "b.ipynb", HONEST[:2])
    solution, out = _solution(tmp_path / "toy.ipynb"), tmp_path / "gradebook.csv"
    assert main(_args(folder, out, solution)) == 0
    assert len(counted) == 2
    first = _table(out)
    capsys.readouterr()
    counted.clear()
    assert main(_args(folder, out, solution)) == 0  # nothing changed: nothing runs
    assert counted == [] and _table(out) == first
    err = capsys.readouterr().err
    assert err.count("unchanged: not graded again") == 2
    notebook(folder / "b.ipynb", HONEST)  # b is handed in again
    assert main(_args(folder, out, solution)) == 0
    assert len(counted) == 1 and [r["total"] for r in _table(out)] == ["4", "4"]
    counted.clear()
    assert main(_args(folder, out, solution, "--test-timeout", "6")) == 0  # other options
    assert len(counted) == 2
    counted.clear()
    assert main(_args(folder, out, solution, "--test-timeout", "6", "--regrade")) == 0
    assert len(counted) == 2


def _command(entry):
    if entry == "module":
        return [sys.executable, "-m", "lstm_lessons.grade"]
    return [str(Path(sys.executable).parent / "lstm-lessons-grade")]


@pytest.mark.parametrize("entry", ["module", "script"])
def test_ctrl_c_stops_within_seconds_keeps_every_row_and_exits_130(tmp_path, entry):
    need_bwrap()
    folder = tmp_path / "class"
    for name in ("a.ipynb", "b.ipynb", "c.ipynb"):
        notebook(folder / name, HONEST, markdown=[f"By {name}."])
    solution, out = _solution(tmp_path / "toy.ipynb"), tmp_path / "gradebook.csv"
    assert main(_args(folder, out, solution)) == 0
    _enter_marks(out, "1.5")
    notebook(folder / "b.ipynb", [SLOW, *HONEST], markdown=["By b, again."])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [*_command(entry), *_args(folder, out, solution, "--test-timeout", "6")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        lines = []
        while not any(line.startswith("[1/3] a.ipynb") for line in lines):
            line = proc.stderr.readline()
            assert line, "".join(lines)
            lines.append(line)
        time.sleep(1.0)  # b's sandbox is now in its slow cell
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        stopped = time.monotonic() - sent
    finally:
        proc.kill()
    assert proc.returncode == 130, "".join(lines) + err
    assert stopped < STOP_S, stopped
    table = _table(out)
    # a was graded again; b (interrupted) and c (not reached) keep their earlier rows.
    assert [(r["submission"], r["q4"], r["total"], r["status"]) for r in table] == [
        ("a.ipynb", "1.5", "4", "graded"),
        ("b.ipynb", "1.5", "4", "graded"),
        ("c.ipynb", "1.5", "4", "graded"),
    ]
    assert "[2/3]" not in "".join(lines) + err  # b's incomplete row was not recorded


def test_names_that_break_outputs_each_get_their_own_row_and_feedback(tmp_path, capsys):
    need_bwrap()
    folder = tmp_path / "class"
    notebook(folder / "=HYPERLINK(1).ipynb", HONEST)
    notebook(folder / "new\nline.ipynb", HONEST)
    notebook(folder / "jane_doe.ipynb", HONEST)
    notebook(folder / "jane doe.ipynb", ["import math\n"])
    (folder / "work.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    (folder / "corrupt.ipynb").write_text('{"cells": [{"cell_type": "code"', encoding="utf-8")
    solution, out = _solution(tmp_path / "toy.ipynb"), tmp_path / "gradebook.csv"
    assert main(_args(folder, out, solution, "--jobs", "2")) == 0
    err = capsys.readouterr().err
    progress = [line for line in err.splitlines() if line]
    assert len(progress) == 6 and all(line.startswith("[") for line in progress), err
    assert any("new\\nline.ipynb: 4/4" in line for line in progress)
    table = {r["submission"]: r for r in _table(out)}
    assert set(table) == {"'=HYPERLINK(1).ipynb", "new\nline.ipynb", "jane_doe.ipynb",
                          "jane doe.ipynb", "work.zip", "corrupt.ipynb"}  # fmt: skip
    assert table["work.zip"]["status"] == "not graded"
    assert table["corrupt.ipynb"]["status"] == "unreadable"
    feedback = {p.read_text().splitlines()[0]: p.read_text()
                for p in Path(f"{out}.d/feedback").iterdir()}  # fmt: skip
    assert len(feedback) == 6
    assert "**4 / 4**" in feedback["# toy: feedback for jane_doe.ipynb"]
    assert "**0 / 4**" in feedback["# toy: feedback for jane doe.ipynb"]
    assert "could not be read: not a readable notebook" in (
        feedback["# toy: feedback for corrupt.ipynb"])
    assert "a .zip archive is not opened" in feedback["# toy: feedback for work.zip"]
