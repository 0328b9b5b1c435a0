"""Build the exercise notebooks, the solutions and the checks from their masters.

Usage:
    python tools/build_exercises.py           write the files below for every master
    python tools/build_exercises.py --check   build in a temporary folder and compare: exit 1,
                                              listing the files, if any committed file differs

Each master ``exercises_src/<set>.md`` is a MyST Markdown notebook in otter-grader's
``otter assign`` format: raw cells delimit questions, solutions and tests, solution lines
are marked with ``# BEGIN SOLUTION``/``# END SOLUTION`` or a trailing ``# SOLUTION``, and a
test cell whose first line is ``# HIDDEN`` holds a hidden test. The master is converted to
``.ipynb`` in a temporary folder and run through ``otter assign``; from its two notebooks
this script writes

    exercises/<set>.ipynb                  the student notebook: stubs, ``grader.check`` cells
    solutions/<set>.ipynb                  the worked solution, with the grading manifest
                                           (public and hidden tests) in its metadata
    lstm_lessons/homework/manifests/<set>.json  the public tests that ``grader.check`` runs

The output depends on the master alone: cell ids are hashes of the cells, and everything
otter or jupytext adds that varies between runs (ids, versions, zip files) is left out, so
that a rebuild is identical byte for byte and ``--check`` can compare bytes.
"""

import argparse
import ast
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupytext
import nbformat
import yaml
from otter.test_files.exception_test import ExceptionTestFile

from lstm_lessons.homework.collect import CHECK_CELL
from lstm_lessons.homework.given import GIVEN_KEY, answer_names, given_cells

ROOT = Path(__file__).resolve().parent.parent
MASTERS = "exercises_src"
STUDENT_DIR = "exercises"
SOLUTION_DIR = "solutions"
CHECKS_DIR = "lstm_lessons/homework/manifests"
MANIFEST_KEY = "lstm_lessons"  # the same key as lstm_lessons.homework.notebook.MANIFEST_KEY

# otter's markers that may be left in its solution notebook, and what becomes of them there.
SOLUTION_MARKER_LINE = re.compile(r"^\s*# (BEGIN|END) SOLUTION( NO PROMPT)?\s*$")
SOLUTION_SUFFIX = re.compile(r"\s*# SOLUTION( NO PROMPT)?\s*$")
PROMPT_BEGIN = re.compile(r"^\s*(\"\"\"|''')\s*# BEGIN PROMPT\s*$")
PROMPT_END = re.compile(r"^\s*(\"\"\"|''')\s*# END PROMPT\s*$")
# Cells that mark a manual question's ends for otter's PDF export, which the course does not use.
QUESTION_COMMENT = re.compile(r"^<!-- (BEGIN|END) QUESTION -->\n*")
# The one otter tag the student notebook keeps: it marks the cells where answers go.
ANSWER_TAG = "otter_answer_cell"


def question_configs(master_nb):
    """The ``# BEGIN QUESTION`` configs of the master, in order."""
    configs = []
    for cell in master_nb.cells:
        first, _, rest = cell.source.partition("\n")
        if cell.cell_type == "raw" and first.strip() == "# BEGIN QUESTION":
            config = yaml.safe_load(rest) or {}
            if "name" not in config:
                raise SystemExit(f"a question has no name: {cell.source!r}")
            configs.append(config)
    return configs


def _number(x):
    """2.0 as 2, so that the manifest shows points as they were written."""
    return int(x) if float(x).is_integer() else x


def parse_test_file(source):
    """otter's exception-based test file for one question -> the manifest's list of tests."""
    test_file = ExceptionTestFile.from_string(source)
    functions = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef) and node.decorator_list
    ]
    if len(functions) != len(test_file.test_cases):
        raise SystemExit(f"test file of {test_file.name}: cannot match tests to functions")
    return test_file, [
        {
            "name": node.name,
            "hidden": case.hidden,
            "points": _number(case.points),
            "source": ast.get_source_segment(source, node) + "\n",
            "success_message": case.success_message,
            "failure_message": case.failure_message,
        }
        for node, case in zip(functions, test_file.test_cases, strict=True)
    ]


def manifest(stem, configs, otter_tests, hidden):
    """The questions in order, with points and tests (``hidden=False``: public tests only)."""
    questions = []
    for config in configs:
        name = config["name"]
        tests, all_or_nothing = [], bool(config.get("all_or_nothing", False))
        points = config.get("points", 1)
        if name in otter_tests:
            test_file, tests = parse_test_file(otter_tests[name])
            points, all_or_nothing = _number(test_file.possible), test_file.all_or_nothing
        elif not config.get("manual", False):
            raise SystemExit(f"{stem}: question {name} has no tests and is not manual: true")
        questions.append(
            {
                "name": name,
                "points": points,
                "manual": bool(config.get("manual", False)),
                "all_or_nothing": all_or_nothing,
                "tests": [t for t in tests if hidden or not t["hidden"]],
            }
        )
    return {"assignment": stem, "questions": questions}


def given(student, full):
    """The given cells that make the data the checks take (:mod:`lstm_lessons.homework.given`)."""
    answers, cells = [], []
    for cell in student.cells:
        if cell.cell_type != "code":
            continue
        if ANSWER_TAG in cell.metadata.get("tags", []):
            answers.append(cell.source)
        elif not CHECK_CELL.match(cell.source):
            cells.append(cell.source)
    wanted = set()
    for question in full["questions"]:
        for test in question["tests"]:
            function = ast.parse(test["source"]).body[0]
            wanted |= {a.arg for a in function.args.args}
    try:
        return given_cells(cells, answer_names(answers), wanted)
    except ValueError as e:
        raise SystemExit(f"{full['assignment']}: {e}") from None


def solution_source(source):
    """A solution cell without otter's markers: what a reader of the solution should see."""
    lines, in_prompt = [], False
    for line in source.split("\n"):
        if PROMPT_BEGIN.match(line):
            in_prompt = True
        elif PROMPT_END.match(line):
            in_prompt = False
        elif not in_prompt and not SOLUTION_MARKER_LINE.match(line):
            lines.append(SOLUTION_SUFFIX.sub("", line))
    cleaned = "\n".join(lines)
    if re.search(r"# (BEGIN|END) (SOLUTION|PROMPT)|# SOLUTION|# SEED", cleaned):
        raise SystemExit(f"an otter marker is left in a solution cell:\n{cleaned}")
    return cleaned


def clean_cells(cells, solution):
    """Drop otter's PDF-export markers; in a solution, also its markers and answer stubs."""
    kept = []
    for cell in cells:
        tags = cell.metadata.get("tags", [])
        if solution and ANSWER_TAG in tags:
            continue  # the "Type your answer here" stub of a written answer
        if cell.cell_type == "markdown":
            cell.source = QUESTION_COMMENT.sub("", cell.source)
            if not cell.source.strip():
                continue
        if solution:
            if cell.cell_type == "code":
                cell.source = solution_source(cell.source)
            # Only myst-nb's display options survive (a plot's alt text on the built page).
            cell.metadata = {k: v for k, v in cell.metadata.items() if k == "mystnb"}
        elif tags:
            del cell.metadata["tags"]
            if ANSWER_TAG in tags:
                cell.metadata["tags"] = [ANSWER_TAG]
        kept.append(cell)
    return kept


def normalise(nb, metadata):
    """Fix everything that could differ between two builds of the same master."""
    seen = {}
    for cell in nb.cells:
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:12]
        seen[digest] = seen.get(digest, 0) + 1
        cell["id"] = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata = metadata
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def retitle_solution(nb, stem):
    """``# Exercises: X`` becomes ``# Solutions: X``, with a pointer to the exercises."""
    first = nb.cells[0]
    title, _, rest = first.source.partition("\n")
    if first.cell_type != "markdown" or not title.startswith("# Exercises: "):
        raise SystemExit(f"{stem}: the master must start with a '# Exercises: ...' heading")
    note = (
        f"Worked solutions to the exercises in [{STUDENT_DIR}/{stem}.ipynb]"
        f"(../{STUDENT_DIR}/{stem}.ipynb). Try each task yourself before you read its answer."
    )
    first.source = f"# Solutions: {title.removeprefix('# Exercises: ')}\n\n{note}\n{rest}"


def build_set(master, tmp):
    """All files generated from one master: {path relative to the repository: text}."""
    stem = master.stem
    master_nb = jupytext.read(master)
    work = Path(tmp) / stem
    work.mkdir()
    nbformat.write(master_nb, work / f"{stem}.ipynb")
    run = subprocess.run(
        [sys.executable, "-m", "otter", "assign", "--no-pdfs", "--no-run-tests",
         f"{stem}.ipynb", "dist"],
        cwd=work, capture_output=True, text=True,
    )  # fmt: skip
    if run.returncode != 0:
        raise SystemExit(f"otter assign failed on {master}:\n{run.stdout}{run.stderr}")
    student = nbformat.read(work / "dist" / "student" / f"{stem}.ipynb", as_version=4)
    solution = nbformat.read(work / "dist" / "autograder" / f"{stem}.ipynb", as_version=4)
    otter_tests = solution.metadata["otter"]["tests"]
    configs = question_configs(master_nb)
    kernelspec = dict(master_nb.metadata["kernelspec"])

    student.cells = clean_cells(student.cells, solution=False)
    solution.cells = clean_cells(solution.cells, solution=True)
    retitle_solution(solution, stem)
    public = manifest(stem, configs, otter_tests, hidden=False)
    full = manifest(stem, configs, otter_tests, hidden=True)
    public[GIVEN_KEY] = full[GIVEN_KEY] = given(student, full)
    return {
        f"{STUDENT_DIR}/{stem}.ipynb": normalise(student, {"kernelspec": kernelspec}),
        f"{SOLUTION_DIR}/{stem}.ipynb": normalise(
            solution, {"kernelspec": kernelspec, MANIFEST_KEY: full}
        ),
        f"{CHECKS_DIR}/{stem}.json": json.dumps(public, indent=1, ensure_ascii=False) + "\n",
    }


def build(root=ROOT):
    """Every generated file, from every master under ``root``."""
    files = {}
    masters = sorted((root / MASTERS).glob("*.md"))
    # Each set's `otter assign` is a process of its own (about 2.5 s, mostly its start-up):
    # one per core at a time. The files come back in the masters' order whatever the timing.
    with tempfile.TemporaryDirectory(prefix="build-exercises-") as tmp:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for built in pool.map(lambda master: build_set(master, tmp), masters):
                files.update(built)
    return files


def generated_paths(root=ROOT):
    """The files now in the output folders, which must all come from a master."""
    patterns = [(STUDENT_DIR, "*.ipynb"), (SOLUTION_DIR, "*.ipynb"), (CHECKS_DIR, "*.json")]
    return {
        path.relative_to(root).as_posix()
        for folder, pattern in patterns
        for path in (root / folder).glob(pattern)
    }


def compare(files, root=ROOT):
    """Problems that make the committed files differ from a fresh build; empty if none."""
    problems = []
    for rel, text in files.items():
        path = root / rel
        if not path.exists():
            problems.append(f"{rel}: missing")
        elif path.read_bytes() != text.encode("utf-8"):
            problems.append(f"{rel}: differs from its master")
    for rel in sorted(generated_paths(root) - set(files)):
        problems.append(f"{rel}: has no master in {MASTERS}/")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    files = build()
    if args.check:
        problems = compare(files)
        for problem in problems:
            print(problem)
        if problems:
            print("Rebuild with: python tools/build_exercises.py", file=sys.stderr)
        return 1 if problems else 0
    stale = sorted(generated_paths() - set(files))
    if stale:
        print("no master for: " + ", ".join(stale) + "; delete them", file=sys.stderr)
        return 1
    for rel, text in files.items():
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
