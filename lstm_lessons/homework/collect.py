"""Finding and reading a class's submissions: the files, their copies and hashes, their cells.

Every file of the submissions folder is looked at; each ``*.ipynb`` (any case) is one
submission. Before any runs, each is copied into a private folder of the grader and hashed
(SHA-256). :func:`read_cells` reads a copy's code cells, its answer code and its written
answers; with a secret, :func:`reseed` re-seeds the literal seeds of its given cells.
"""

import hashlib
import json
import re
from pathlib import Path

CHECK_CELL = re.compile(r"""^\s*grader\.check(_all)?\((["'][\w-]+["'])?\)\s*$""")
MAX_NOTEBOOK_MB = 20


def find_submissions(folder):
    """(notebooks, notes): every ``*.ipynb`` in any case, outside ``.ipynb_checkpoints``.

    Every other file is noted as not graded (:func:`not_notebooks` gives each its row's
    reason); hidden files (a name starting with ``.``) are skipped.
    """
    folder = Path(folder)
    found, notes = [], []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if ".ipynb_checkpoints" in rel.parts or not p.is_file():
            continue
        if p.suffix.lower() == ".ipynb":
            found.append(p)
            if p.suffix != ".ipynb":
                notes.append(f"{rel.as_posix()}: graded, although its suffix is {p.suffix!r}")
        elif not any(part.startswith(".") for part in rel.parts):
            notes.append(f"{rel.as_posix()}: not a notebook (.ipynb); not graded")
    return found, notes


def not_notebooks(folder):
    """{relative path: why it was not graded} for every file that is not a notebook."""
    out = {}
    for note in find_submissions(folder)[1]:
        name, _, what = note.rpartition(": ")
        if what == "not a notebook (.ipynb); not graded":
            suffix = Path(name).suffix.lower()
            kind = "a .zip archive is not opened" if suffix == ".zip" else (
                f"a {suffix} file" if suffix else "a file without a suffix")
            out[name] = (f"not graded: not a notebook (.ipynb): {kind}; "
                         "hand in the .ipynb file itself")  # fmt: skip
    return out


def copy_and_hash(folder, notebooks, into, max_mb=MAX_NOTEBOOK_MB):
    """Copy each submission into ``into`` before any runs; {relative path: (copy, sha256)}.

    The file is copied and hashed in blocks, never held whole, and no more than ``max_mb`` MB
    and one byte of it are read: a larger file's copy is that much of it (so that
    :func:`read_cells` refuses it as too large) and its hash is the hash of that part.
    """
    out = {}
    limit = (max_mb << 20) + 1
    for k, nb in enumerate(notebooks):
        copy = Path(into) / f"{k:05d}.ipynb"
        digest = hashlib.sha256()
        with open(nb, "rb") as src, open(copy, "wb") as dst:
            left = limit
            while left > 0:
                block = src.read(min(left, 1 << 20))
                if not block:
                    break
                digest.update(block)
                dst.write(block)
                left -= len(block)
        out[Path(nb).relative_to(folder).as_posix()] = (copy, digest.hexdigest())
    return out


#: The smallest seed :func:`reseed` draws: never one of the small seeds (0 to 999) that a
#: published notebook uses.
RESEED_OFFSET = 1000
#: How many seeds :func:`reseed` draws from: RESEED_OFFSET to RESEED_OFFSET + RESEED_RANGE - 1.
RESEED_RANGE = 1_000_000
SEED = re.compile(r"\b(seed\s*=\s*|default_rng\(\s*|manual_seed\(\s*)(\d+)\b")


def reseed(source, secret):
    """``source`` with every literal seed (``seed=3``, ``default_rng(0)``) drawn from ``secret``.

    Applied to the given (not answer) cells of a submission, it changes the data of the
    notebook's experiments, so that a number copied from a published solution is wrong
    while a notebook that computes its answers still passes: the checks of values
    (``gap``, ``slope``, ``rate``, ...) recompute the expected value from the notebook's
    own data.
    """

    def draw(match):
        digest = hashlib.sha256(f"{secret}:{match.group(2)}".encode()).hexdigest()
        return f"{match.group(1)}{int(digest, 16) % RESEED_RANGE + RESEED_OFFSET}"

    return SEED.sub(draw, source)


def read_cells(path, secret=None, max_mb=MAX_NOTEBOOK_MB):
    """(code cells to run, answer code, written answers) of a notebook file, or ValueError.

    The answer code is that of the cells tagged ``otter_answer_cell``, or all the code when
    none is tagged; the written answers are the tagged Markdown cells, in order. A file of
    more than ``max_mb`` MB is refused before it is read.
    """
    if Path(path).stat().st_size > max_mb << 20:
        raise ValueError(f"the file is larger than {max_mb} MB")
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        cells = nb["cells"]
        assert isinstance(cells, list)
    except (ValueError, KeyError, TypeError, AssertionError) as e:
        raise ValueError(f"not a readable notebook: {type(e).__name__}: {e}") from None
    code, answers, written = [], [], []
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        tags = (cell.get("metadata") or {}).get("tags") or []
        if cell.get("cell_type") == "code":
            if secret and "otter_answer_cell" not in tags:
                source = reseed(source, secret)
            if not CHECK_CELL.match(source):
                code.append(source)
            if "otter_answer_cell" in tags:
                answers.append(source)
        elif cell.get("cell_type") == "markdown" and "otter_answer_cell" in tags:
            written.append(source)
    return code, answers or code, written
