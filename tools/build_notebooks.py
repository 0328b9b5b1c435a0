"""Write the notebook copies of the book's Markdown notebooks, which Colab can open.

Usage:
    python tools/build_notebooks.py           write notebooks/<name>.ipynb for every page
    python tools/build_notebooks.py --check   compare instead: exit 1, listing the files, if a
                                              committed copy differs from what its page builds

Colab opens ``.ipynb`` files only, and the book's chapters are MyST Markdown notebooks
(``book/<name>.md`` with a ``kernelspec``). Each becomes ``notebooks/<name>.ipynb``: the same
cells, no outputs, and a first cell that on Colab (only) clones the repository named in
``_config.yml`` (``repository.url`` at ``repository.branch``), installs its package and the
pinned ``myst-nb`` (the chapters ``glue`` their numbers) and moves into its ``book/`` folder,
where the book runs its notebooks. The Colab button of a chapter page opens the copy
(``tools/sphinx_launch.py``). The output depends on the pages and ``_config.yml`` alone (cell
ids are hashes of the cells), so ``--check`` compares bytes; ``tests/test_launch.py`` runs it.
"""

import argparse
import hashlib
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from sphinx_launch import COPY_DIR, SOURCE_DIR, copy_path  # noqa: E402

# Where a Colab session keeps the clone (its working folder is /content).
CLONE_DIR = "/content/lstm-lessons"


def repository_setting(root=ROOT):
    """(url, branch) of ``repository:`` in ``_config.yml``."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    url, branch = repo.get("url"), repo.get("branch")
    if not url or not branch:
        raise SystemExit(f"_config.yml: repository.url and .branch must be set, got {repo!r}")
    return url.rstrip("/").removesuffix(".git"), branch


def pinned(package, root=ROOT):
    """``package==version`` as requirements.txt pins it."""
    text = (root / "requirements.txt").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(package)}==\S+$", text, flags=re.MULTILINE)
    if not match:
        raise SystemExit(f"requirements.txt does not pin {package}")
    return match.group(0)


def colab_cell_source(url, branch, myst_nb):
    """The first cell of every copy."""
    return (
        "# On Colab, fetch the course and install its package first (elsewhere it is installed).\n"
        "# Written by tools/build_notebooks.py from the repository setting in _config.yml.\n"
        "import os\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    if not os.path.isdir("{CLONE_DIR}"):\n'
        f"        !git clone --quiet --depth 1 --branch {branch} {url}.git {CLONE_DIR}\n"
        f'    %pip install --quiet {CLONE_DIR} "{myst_nb}"\n'
        f"    %cd {CLONE_DIR}/{SOURCE_DIR}"
    )


def sources(root=ROOT):
    """The Markdown notebooks of the book: ``book/**/*.md`` with a kernelspec."""
    pages = []
    for path in sorted((root / SOURCE_DIR).rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if text.startswith("---\n") and "\nkernelspec:" in text.split("\n---\n", 1)[0]:
            pages.append(path)
    return pages


def build_copy(page, first_cell):
    """The text of the copy of one page."""
    nb = jupytext.read(page)
    nb.cells.insert(0, nbformat.v4.new_code_cell(first_cell))
    seen = {}
    for cell in nb.cells:
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:12]
        seen[digest] = seen.get(digest, 0) + 1
        cell["id"] = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata = {"kernelspec": dict(nb.metadata["kernelspec"])}
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def build(root=ROOT):
    """Every copy: {path relative to the repository: text}."""
    url, branch = repository_setting(root)
    first_cell = colab_cell_source(url, branch, pinned("myst-nb", root))
    return {
        copy_path(page.relative_to(root).with_suffix("").as_posix()): build_copy(page, first_cell)
        for page in sources(root)
    }


def compare(files, root=ROOT):
    """Problems that make the committed copies differ from a fresh build; empty if none."""
    problems = []
    for rel, text in files.items():
        path = root / rel
        if not path.exists():
            problems.append(f"{rel}: missing")
        elif path.read_bytes() != text.encode("utf-8"):
            problems.append(f"{rel}: differs from its page or from _config.yml")
    for path in sorted((root / COPY_DIR).rglob("*.ipynb")):
        rel = path.relative_to(root).as_posix()
        if rel not in files:
            problems.append(f"{rel}: has no page in {SOURCE_DIR}/")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    files = build()
    problems = compare(files)
    if args.check:
        for problem in problems:
            print(problem)
        if problems:
            print("Rebuild with: python tools/build_notebooks.py", file=sys.stderr)
        return 1 if problems else 0
    for problem in problems:
        if problem.endswith(f"has no page in {SOURCE_DIR}/"):
            (ROOT / problem.split(":")[0]).unlink()
            print(f"removed {problem.split(':')[0]} (its page is gone)")
    for rel, text in files.items():
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != text.encode("utf-8"):
            path.write_bytes(text.encode("utf-8"))
            print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
