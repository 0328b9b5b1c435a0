"""Write the exercise notebooks alone, to hand out on a JupyterHub (or anywhere else).

Usage:
    python tools/handout.py OUT [SET ...]   OUT/<set>.ipynb for each set (all by default),
                                            and OUT/README.md for the students

An nbgitpuller link to this repository gives each student the whole repository, worked
solutions and hidden tests included. Instead, put the folder this writes in a repository of its
own (or the hub's shared folder) and point the hub's link there: it holds the exercise notebooks,
which install or import the package and check each answer with its public checks, and nothing
else. The tool refuses a notebook that carries a grading manifest or a solution marker, and
names it.
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
# What must never be handed out: a grading manifest (the solutions' metadata) or solution code.
FORBIDDEN_META = "lstm_lessons"
FORBIDDEN_TEXT = ("# BEGIN SOLUTION", "# END SOLUTION", "# HIDDEN")

README = """# Exercises

One notebook per chapter of *{title}* ({site}). Open a notebook, work through it from the top,
and run each `grader.check("q1")` cell after a task: it tells you whether the task passes and,
if not, what is wrong. Hand back the `.ipynb` file as your instructor asks.

Sets: {sets}.
"""


def problems(path):
    """Why ``path`` must not be handed out; empty if it may."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    found = []
    if FORBIDDEN_META in notebook.get("metadata", {}):
        found.append(f"{path.name}: carries a grading manifest (metadata.{FORBIDDEN_META})")
    for cell in notebook.get("cells", []):
        source = "".join(cell.get("source", ""))
        for marker in FORBIDDEN_TEXT:
            if marker in source:
                found.append(f"{path.name}: a cell contains {marker!r}")
    return found


def handout(out, sets=(), exercises=EXERCISES, root=ROOT):
    """Copy the exercise notebooks of ``sets`` (all if empty) into ``out``; their paths."""
    import yaml

    available = sorted(p.stem for p in exercises.glob("*.ipynb"))
    unknown = sorted(set(sets) - set(available))
    if unknown:
        raise ValueError(f"no exercise set {unknown}; the sets are {available}")
    chosen = list(sets) or available
    found = [p for name in chosen for p in problems(exercises / f"{name}.ipynb")]
    if found:
        raise ValueError("not handed out:\n" + "\n".join(found))
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written = []
    for name in chosen:
        written.append(Path(shutil.copy2(exercises / f"{name}.ipynb", out / f"{name}.ipynb")))
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    site = (config.get("html") or {}).get("baseurl", "")
    (out / "README.md").write_text(
        README.format(title=config.get("title", "the course"), site=site, sets=", ".join(chosen)),
        encoding="utf-8",
    )
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the folder to write (replaced if it exists)")
    parser.add_argument(
        "sets", nargs="*", help="exercise sets, e.g. ch01_simple_rnn (default: all)"
    )
    args = parser.parse_args(argv)
    try:
        written = handout(args.out, args.sets)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{len(written)} exercise notebooks and README.md in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
