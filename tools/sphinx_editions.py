"""Sphinx extension: the book's two editions, and no hidden test in either.

- **Self-study** (the default): the chapters, their exercises and the worked solutions.
- **Student** (``make book EDITION=student``): the same book without the worked solutions, for
  a class whose homework is graded. ``tools/editions.py`` builds it with a table of contents and
  a configuration that leave out ``solutions/`` and set ``lstm_lessons_edition: student``; here,
  every reference to a solution page (a chapter's "worked solutions: ..." link) becomes the text
  :data:`NO_SOLUTION` instead of a broken link.

In both editions, the hidden tests stay unpublished. A solution notebook carries its set's
grading manifest, public and hidden tests, in its metadata (the grader reads it from the
repository); the copies the site publishes (``_sources/``, downloads) are rewritten without the
hidden tests when the build finishes, and the whole output is then searched for the name and the
source of every hidden test of every set: a hit is an error, naming the file.
"""

import html
import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

EDITIONS = ("self-study", "student")
SOLUTIONS = "solutions/"
NO_SOLUTION = "from your instructor"
# Where a notebook keeps its set's grading manifest (tools/build_exercises.py).
MANIFEST_KEY = "lstm_lessons"


def hidden_tests(manifest):
    """``[(question, name, source)]`` of the hidden tests in a grading manifest."""
    return [
        (q["name"], t["name"], t["source"])
        for q in manifest.get("questions", [])
        for t in q.get("tests", [])
        if t.get("hidden")
    ]


def strip_hidden(notebook):
    """``notebook`` (a JSON dict) without the hidden tests of its manifest; True if it had any."""
    manifest = notebook.get("metadata", {}).get(MANIFEST_KEY)
    if not isinstance(manifest, dict) or not hidden_tests(manifest):
        return False
    for question in manifest.get("questions", []):
        question["tests"] = [t for t in question.get("tests", []) if not t.get("hidden")]
    return True


def secrets(srcdir):
    """Every hidden test of the book's sets, from the solution notebooks in ``srcdir``:
    ``[(set, question, name, source, lines it shares with a public test)]``."""
    found = []
    for path in sorted(Path(srcdir, SOLUTIONS).glob("*.ipynb")):
        manifest = (
            json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get(MANIFEST_KEY)
        )
        if not isinstance(manifest, dict):
            continue
        public = {
            line.strip()
            for q in manifest.get("questions", [])
            for t in q.get("tests", [])
            if not t.get("hidden")
            for line in t.get("source", "").splitlines()
        }
        found += [(path.stem, *test, public) for test in hidden_tests(manifest)]
    return found


def _markers(source, public=frozenset()):
    """Strings that betray a hidden test's source: its ``def`` line and its longest line that
    no public test has (an import line is often the same in both)."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    own = [line for line in lines[1:] if line not in public]
    return ({lines[0]} if lines else set()) | ({max(own, key=len)} if own else set())


def leaks(outdir, tests):
    """``[(file, what)]``: each file under ``outdir`` that shows a hidden test of ``tests``
    (as :func:`secrets` lists them; the last item, the public lines, is optional)."""
    needles = {}
    for set_name, question, name, source, *public in tests:
        for marker in _markers(source, *public) | {name}:
            needles.setdefault(marker, f"{set_name} {question} {name}")
    found = []
    for path in sorted(Path(outdir).rglob("*")):
        if not path.is_file() or path.suffix in {".png", ".jpg", ".svg", ".woff", ".woff2", ".ttf"}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        # JSON files escape quotes and newlines: look in the text as well as what it encodes.
        texts = [text]
        if path.name.endswith((".ipynb", ".ipynb.txt")):
            texts.append(json.dumps(json.loads(text), ensure_ascii=False))
        if path.suffix == ".html":
            # Code is split into one <span> a word: compare the page's text.
            texts.append(html.unescape(re.sub(r"<[^>]+>", "", text)))
        for needle, what in needles.items():
            if any(needle in t or json.dumps(needle)[1:-1] in t for t in texts):
                found.append((path.relative_to(outdir).as_posix(), what))
                break
    return found


def _notebooks(outdir):
    """The notebooks the site publishes: downloads (``.ipynb``) and sources (``.ipynb.txt``)."""
    return sorted(
        p
        for p in Path(outdir).rglob("*")
        if p.is_file() and p.name.endswith((".ipynb", ".ipynb.txt"))
    )


def _strip_published(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for path in _notebooks(outdir):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        if strip_hidden(notebook):
            path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")  # fmt: skip
    found = leaks(outdir, secrets(app.srcdir))
    if found:
        listing = "\n".join(f"  {path}: {what}" for path, what in found)
        raise ExtensionError(f"the built book shows hidden tests:\n{listing}")


def _missing_solution(app, env, node, contnode):
    """In the student edition, a link to a solution page is the text NO_SOLUTION."""
    if app.config.lstm_lessons_edition != "student" or node.get("reftype") != "doc":
        return None
    target = node.get("reftarget", "")
    from posixpath import dirname, join, normpath

    docname = normpath(join(dirname(node.get("refdoc", "")), target)).lstrip("/")
    if docname.startswith(SOLUTIONS):
        return nodes.inline("", NO_SOLUTION, classes=["no-solution"])
    return None


def _check_edition(app, config):
    if config.lstm_lessons_edition not in EDITIONS:
        raise ExtensionError(
            f"lstm_lessons_edition must be one of {EDITIONS}, got {config.lstm_lessons_edition!r}"
        )


def setup(app):
    app.add_config_value("lstm_lessons_edition", "self-study", "env")
    app.connect("config-inited", _check_edition)
    app.connect("missing-reference", _missing_solution)
    app.connect("build-finished", _strip_published)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
