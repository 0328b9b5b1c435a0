"""The exercise notebooks, solutions and checks are what their masters build, byte for byte.

``tools/build_exercises.py`` writes them from ``exercises_src/<set>.md``; these tests rebuild
them in memory and compare, so that a master edited without a rebuild, or a generated file
edited by hand, fails here. The fix for a failure is ``python tools/build_exercises.py``.
"""

import importlib.util
import json
import re
import shutil
import warnings
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("build_exercises", ROOT / "tools/build_exercises.py")
build_exercises = importlib.util.module_from_spec(_spec)
with warnings.catch_warnings():  # otter's imports declare traitlets the deprecated way
    warnings.simplefilter("ignore", DeprecationWarning)
    _spec.loader.exec_module(build_exercises)

MASTERS = sorted((ROOT / "exercises_src").glob("*.md"))


@pytest.fixture(scope="module")
def built():
    return build_exercises.build()


def test_there_is_an_exercise_set():
    assert MASTERS, "no master notebooks in exercises_src/"


def test_committed_files_match_their_masters(built):
    problems = build_exercises.compare(built)
    assert not problems, "rebuild with python tools/build_exercises.py:\n" + "\n".join(problems)


def test_build_is_reproducible(built, tmp_path):
    # A second build of one set gives its files again, byte for byte. (The other sets are
    # covered by the test above: their committed files come from an earlier build.)
    master = sorted((ROOT / build_exercises.MASTERS).glob("*.md"))[0]
    again = build_exercises.build_set(master, tmp_path)
    assert again and {rel: built[rel] for rel in again} == again


def test_compare_reports_an_edited_a_missing_and_an_orphaned_file(built, tmp_path):
    for rel, text in built.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    assert build_exercises.compare(built, tmp_path) == []
    edited, missing = sorted(built)[:2]
    (tmp_path / edited).write_text(built[edited].replace("\n", "\r\n"), encoding="utf-8")
    (tmp_path / missing).unlink()
    shutil.copyfile(tmp_path / edited, tmp_path / "solutions" / "orphan.ipynb")
    assert build_exercises.compare(built, tmp_path) == [
        f"{edited}: differs from its master",
        f"{missing}: missing",
        "solutions/orphan.ipynb: has no master in exercises_src/",
    ]


@pytest.mark.parametrize("master", MASTERS, ids=lambda p: p.stem)
def test_master_round_trips_through_jupytext(master):
    nb = jupytext.read(master)
    again = jupytext.reads(jupytext.writes(nb, "md:myst"), "md:myst")
    cells = [(c.cell_type, c.source, dict(c.metadata)) for c in nb.cells]
    assert [(c.cell_type, c.source, dict(c.metadata)) for c in again.cells] == cells
    assert any(c.cell_type == "raw" and "# BEGIN QUESTION" in c.source for c in nb.cells)


def _solution_lines(master):
    """The non-blank lines between # BEGIN SOLUTION and # END SOLUTION in the master's code."""
    lines, inside = [], False
    for cell in jupytext.read(master).cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            if line.strip().startswith("# BEGIN SOLUTION"):
                inside = True
            elif line.strip() == "# END SOLUTION":
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
            elif line.rstrip().endswith("# SOLUTION"):
                lines.append(re.sub(r"\s*# SOLUTION$", "", line.strip()))
    return lines


@pytest.mark.parametrize("master", MASTERS, ids=lambda p: p.stem)
def test_students_see_no_solution_and_no_hidden_test(master, built):
    stem = master.stem
    student = built[f"exercises/{stem}.ipynb"]
    public = built[f"lstm_lessons/homework/manifests/{stem}.json"]
    solution = json.loads(built[f"solutions/{stem}.ipynb"])
    cells = json.loads(student)["cells"]
    sources = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    solution_lines = _solution_lines(master)
    assert solution_lines
    for line in solution_lines:
        assert line not in sources, f"solution line in the student notebook: {line}"
    hidden = [
        t["name"]
        for q in solution["metadata"]["lstm_lessons"]["questions"]
        for t in q["tests"]
        if t["hidden"]
    ]
    assert hidden, "the set has no hidden test"
    for name in hidden:
        assert name not in student and name not in public
    assert "grader.check(" in sources


@pytest.mark.parametrize("master", MASTERS, ids=lambda p: p.stem)
def test_solution_shows_no_otter_markers(master, built):
    nb = json.loads(built[f"solutions/{master.stem}.ipynb"])
    text = "\n".join("".join(c["source"]) for c in nb["cells"])
    assert not re.search(r"SOLUTION|BEGIN PROMPT|END PROMPT|QUESTION -->|Type your answer", text)
    assert nb["cells"][0]["source"][0].startswith("# Solutions: ")
