"""Copy the course's notebook folders for nbval and turn MyST notebooks into .ipynb.

Usage: python tools/prepare_nbval.py [--cache DIR] OUT_DIR FOLDER [FOLDER ...]

Each FOLDER that exists is copied whole into OUT_DIR, so that a notebook still
finds the files beside it when nbval runs it there. In the copy, every
`.md` file that MyST-NB treats as a notebook (same test as the book build) is
converted to `.ipynb` with jupytext; `.ipynb` files already in the folder are
kept. A missing FOLDER is skipped, and so are the Chinese copies in its ``zh/``.

With ``--cache DIR`` (the book build's jupyter-cache, ``_build/.jupyter_cache``),
each notebook whose code the book build executed (the cache matches notebooks
by the source of their code cells) gets the outputs that run stored, so that
nbval in strict mode checks that a second run prints what the book shows.
(The cache is read rather than ``_build/jupyter_execute``, whose copies of
notebooks taken from the cache have no outputs in myst-nb 1.4.)

Prints one line per notebook in OUT_DIR: ``strict PATH`` for a notebook with the
build's outputs, ``lax PATH`` for any other (one the build did not execute, such
as the exercise notebooks); no output means there is nothing for nbval to run.
"""

import argparse
import shutil
from pathlib import Path

import jupytext
import nbformat
from myst_nb.core.read import is_myst_markdown_notebook


def main(out_dir: Path, folders: list[Path], cache_dir: Path | None = None):
    """Prepare OUT_DIR; return (mode, path) for each notebook in it, mode "strict" or "lax"."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    for folder in folders:
        if folder.is_dir():
            # The Chinese copies (exercises/zh, solutions/zh) are the English notebooks' code
            # with translated Markdown (tools/translate_notebooks.py, which --check compares);
            # tests/test_chinese_notebooks.py runs their grader.
            shutil.copytree(
                folder,
                out_dir / folder.name,
                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "zh"),
            )

    for md in sorted(out_dir.rglob("*.md")):
        if is_myst_markdown_notebook(md.read_text(encoding="utf-8")):
            ipynb = md.with_suffix(".ipynb")
            # A committed .ipynb paired with this .md would be overwritten silently.
            if ipynb.exists():
                raise SystemExit(f"prepare_nbval: {md.parent} has both {md.name} and {ipynb.name}")
            jupytext.write(jupytext.read(md), ipynb)

    cache = None
    if cache_dir is not None:
        from jupyter_cache import get_cache

        cache = get_cache(cache_dir)
    notebooks = []
    for ipynb in sorted(out_dir.rglob("*.ipynb")):
        mode = "lax"
        if cache is not None:
            nb = nbformat.read(ipynb, as_version=4)
            try:
                _, executed = cache.merge_match_into_notebook(nb)
            except KeyError:  # not executed by the book build, in this version
                pass
            else:
                nbformat.write(executed, ipynb)
                mode = "strict"
        notebooks.append((mode, ipynb))
    return notebooks


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], usage=__doc__)
    parser.add_argument("--cache", type=Path, metavar="DIR")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("folders", type=Path, nargs="+")
    args = parser.parse_args()
    if args.cache is not None and not args.cache.is_dir():
        raise SystemExit(f"prepare_nbval: {args.cache} not found; build the book first")
    for mode, path in main(args.out_dir, args.folders, args.cache):
        print(mode, path)
