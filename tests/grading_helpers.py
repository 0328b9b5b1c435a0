"""Helpers of the grading tests: tiny notebooks, a toy manifest, the sandbox requirement."""

import os
from pathlib import Path

import nbformat
import pytest

from lstm_lessons.homework.grading import Limits
from lstm_lessons.homework.sandbox import bwrap_path

ROOT = Path(__file__).resolve().parent.parent
# CI sets this (.ci/run installs bubblewrap): there the isolation tests must run, not skip.
REQUIRE_SANDBOX = os.environ.get("LSTM_LESSONS_REQUIRE_SANDBOX") == "1"


def need_bwrap():
    if bwrap_path() is None:
        if REQUIRE_SANDBOX:
            pytest.fail("bubblewrap (bwrap) is required here but does not work")
        pytest.skip("bubblewrap (bwrap) is not available")


def _test(name, source, points=1.0, hidden=False):
    return {
        "name": name,
        "hidden": hidden,
        "points": points,
        "source": source,
        "success_message": None,
        "failure_message": None,
    }


def _question(name, tests, points=None, manual=False, all_or_nothing=False):
    return {
        "name": name,
        "points": points if points is not None else sum(t["points"] for t in tests),
        "manual": manual,
        "all_or_nothing": all_or_nothing,
        "tests": tests,
    }


# A set that needs nothing heavy: q1 calls a function, q2 reads a value, q3 is
# all-or-nothing over two tests, q4 is a written answer.
TOY = {
    "assignment": "toy",
    "questions": [
        _question(
            "q1",
            [_test("test_double", "def test_double(double):\n"
                   "    assert double(2) == 4, f'double(2) should be 4, got {double(2)!r}'\n")],
        ),  # fmt: skip
        _question(
            "q2",
            [_test("test_value", "def test_value(value):\n"
                   "    assert value == 7, f'value should be 7, got {value!r}'\n")],
        ),  # fmt: skip
        _question(
            "q3",
            [
                _test("test_half", "def test_half(half):\n    assert half(8) == 4, 'half(8)'\n"),
                _test("test_third", "def test_third(half):\n    assert half(9) == 4.5, 'half(9)'"),
            ],
            all_or_nothing=True,
        ),
        _question("q4", [], points=2, manual=True),
    ],
}
HONEST = ["def double(x):\n    return 2 * x\n", "value = 7\n", "def half(x):\n    return x / 2\n"]
# Short limits: these notebooks import nothing and their cells run in milliseconds (the
# hog's in well under a second); 3 s leaves room on a busy machine.
TINY = Limits(
    timeout_s=120, cell_timeout_s=3, test_timeout_s=3, memory_mb=1024, file_mb=8, output_kb=64,
    kill_grace_s=2,
)  # fmt: skip


def notebook(path, cells, markdown=()):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    for text in markdown:
        cell = nbformat.v4.new_markdown_cell(text)
        cell.metadata["tags"] = ["otter_answer_cell"]
        nb.cells.append(cell)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def process_cmdlines():
    out = []
    for p in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            out.append(p.read_bytes().decode("utf-8", "replace").split("\0")[:-1])
        except OSError:  # the process ended meanwhile
            pass
    return out
