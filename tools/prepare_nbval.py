"""Copy the course's notebook folders for nbval and turn MyST notebooks into .ipynb.

Usage: python tools/prepare_nbval.py OUT_DIR FOLDER [FOLDER ...]

Each FOLDER that exists is copied whole into OUT_DIR, so that a notebook still
finds the files beside it when nbval runs it there. In the copy, every
`.md` file that MyST-NB treats as a notebook (same test as the book build) is
converted to `.ipynb` with jupytext; `.ipynb` files already in the folder are
kept. The paths of all notebooks in OUT_DIR are printed, one a line; no output
means there is nothing for nbval to run. A missing FOLDER is skipped.
"""

import shutil
import sys
from pathlib import Path

import jupytext
from myst_nb.core.read import is_myst_markdown_notebook


def main(out_dir: Path, folders: list[Path]) -> list[Path]:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    for folder in folders:
        if folder.is_dir():
            shutil.copytree(
                folder, out_dir / folder.name, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
            )

    for md in sorted(out_dir.rglob("*.md")):
        if is_myst_markdown_notebook(md.read_text(encoding="utf-8")):
            ipynb = md.with_suffix(".ipynb")
            # A committed .ipynb paired with this .md would be overwritten silently.
            if ipynb.exists():
                raise SystemExit(f"prepare_nbval: {md.parent} has both {md.name} and {ipynb.name}")
            jupytext.write(jupytext.read(md), ipynb)

    return sorted(out_dir.rglob("*.ipynb"))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    for path in main(Path(sys.argv[1]), [Path(arg) for arg in sys.argv[2:]]):
        print(path)
