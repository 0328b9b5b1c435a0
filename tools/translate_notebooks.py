"""Write the Chinese copies of the exercise and solution notebooks, from the English ones and the
Chinese edition's catalogs.

Usage:
    python tools/translate_notebooks.py           write exercises/zh/ and solutions/zh/
    python tools/translate_notebooks.py --check   compare instead: exit 1, listing the problems,
                                                  if a copy is missing, stale or not translated

A Chinese copy is the English notebook with each paragraph, heading, list item and table cell of
its Markdown cells replaced by its translation in ``locales/zh_CN/LC_MESSAGES/<folder>/<set>.po``
(the catalog the Chinese edition of the same page uses: one translation for the site and the
notebook). Its code is the English notebook's, but for the grader, which gives its feedback in
Chinese: ``Grader("<set>", language="zh")``; the notebook's metadata says so too
(``lstm_lessons_language``), for the class grader. A solution's grading manifest stays with the
English notebook. Links to other files of the repository are
moved one folder up, where the copy lies. A paragraph without a translation is an error: the copy
is not written half in English.
"""

import argparse
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import translations  # noqa: E402

FOLDERS = ("exercises", "solutions")
LANGUAGE = "zh"
SUBFOLDER = "zh"
METADATA_KEY = "lstm_lessons_language"
MANIFEST_KEY = "lstm_lessons"
_GRADER = re.compile(r'Grader\((["\'])([\w-]+)\1\)')
# MyST syntax that CommonMark reads as a paragraph: a label target, a comment, a block break.
_MYST_ONLY = re.compile(r"^(\([\w:.-]+\)=|% |\+\+\+)")
_RELATIVE_LINK = re.compile(r"\]\((?!https?:|mailto:|#|/)([^)\s]+)\)")


def _markdown():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.colon_fence import colon_fence_plugin
    from mdit_py_plugins.deflist import deflist_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    # The book's Markdown (_config.yml: MyST with tables, math, definition lists, ::: fences).
    md = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin, allow_space=True)
    return md.use(deflist_plugin).use(colon_fence_plugin)


def _key(text):
    """A paragraph as Sphinx's catalogs key it: its MyST source on one line."""
    return text.replace("\n", " ").strip()


def translate_markdown(source, catalog):
    """``(translated source, [English not translated])`` of one Markdown cell."""
    lines = source.split("\n")
    missing = []
    replaced = {}  # first line -> (last line + 1, new text)
    for token in _markdown().parse(source):
        if token.type in ("fence", "colon_fence") and token.map is not None:
            start, end = token.map
            body, gaps = _translate_directive(token, lines[start + 1 : end - 1], catalog)
            if body is not None:
                replaced[start] = (end - 1, "\n".join([lines[start], *body]))
                missing += gaps
            continue
        if token.type != "inline" or token.map is None:
            continue
        key = _key(token.content)
        if not key or _MYST_ONLY.match(key) or not translations.needs_translation(key):
            continue
        chinese = catalog.get(key)
        if chinese is None:
            missing.append(key)
            continue
        start, end = token.map
        if len(lines[start:end]) == 1 and lines[start].lstrip().startswith("|"):
            row = replaced.get(start, (end, lines[start]))[1]
            replaced[start] = (end, _replace_cell(row, token.content, chinese))
            continue
        first = token.content.split("\n", 1)[0]
        prefix = lines[start][: lines[start].find(first)] if first in lines[start] else ""
        replaced[start] = (end, prefix + chinese.replace("\n", " "))
    out, i = [], 0
    while i < len(lines):
        if i in replaced:
            end, text = replaced[i]
            out.append(text)
            i = max(end, i + 1)
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out), missing


# Directives whose options and body are prose: a figure's alt text and caption, an admonition.
PROSE_DIRECTIVES = {"glue:figure", "figure", "admonition", "note", "tip", "important", "warning"}
_OPTION = re.compile(r"^(\s*:(alt|caption|title):\s*)(.+)$")


def _translate_directive(token, body, catalog):
    """The translated body lines of a fenced directive, and what had no translation;
    ``(None, [])`` for a directive whose body is not prose (code, math, an include)."""
    name = token.info.strip().split(" ", 1)[0].strip("{}")
    if name not in PROSE_DIRECTIVES:
        return None, []
    missing, out, k = [], [], 0
    while k < len(body) and body[k].lstrip().startswith(":"):
        match = _OPTION.match(body[k])
        if match and translations.needs_translation(_key(match.group(3))):
            chinese = catalog.get(_key(match.group(3)))
            if chinese is None:
                missing.append(_key(match.group(3)))
            else:
                body[k] = match.group(1) + chinese
        out.append(body[k])
        k += 1
    text, gaps = translate_markdown("\n".join(body[k:]), catalog)
    return out + text.split("\n"), missing + gaps


def _replace_cell(row, english, chinese):
    cells = row.split("|")
    for k, cell in enumerate(cells):
        if cell.strip() == english.strip():
            cells[k] = cell.replace(english.strip(), chinese.strip())
            break
    return "|".join(cells)


def translate_notebook(notebook, catalog):
    """``(Chinese copy, [English not translated])`` of a notebook (a JSON dict)."""
    nb = copy.deepcopy(notebook)
    missing = []
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            source, gaps = translate_markdown(source, catalog)
            missing += gaps
            source = _RELATIVE_LINK.sub(lambda m: f"](../{m.group(1)})", source)
        elif cell["cell_type"] == "code":
            source = _GRADER.sub(
                lambda m: f'Grader({m.group(1)}{m.group(2)}{m.group(1)}, language="{LANGUAGE}")',
                source,
            )
        cell["source"] = source
    nb["metadata"][METADATA_KEY] = LANGUAGE
    # A solution's grading manifest (hidden tests included) stays with the English notebook,
    # where the grader reads it; a copy meant for readers does not carry it.
    nb["metadata"].pop(MANIFEST_KEY, None)
    return nb, missing


def copies(root=ROOT):
    """``{path of the copy: (notebook, [English not translated])}`` for every set."""
    from lstm_lessons.homework.language import read_po

    made = {}
    for folder in FOLDERS:
        for path in sorted((root / folder).glob("*.ipynb")):
            po = translations.CATALOG_DIR / folder / f"{path.stem}.po"
            catalog = read_po(po) if po.exists() else {}
            notebook = json.loads(path.read_text(encoding="utf-8"))
            made[root / folder / SUBFOLDER / path.name] = translate_notebook(notebook, catalog)
    return made


def dumps(notebook):
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed copies")
    args = parser.parse_args(argv)
    problems = []
    for path, (notebook, missing) in copies().items():
        rel = path.relative_to(ROOT)
        for english in missing:
            problems.append(f"{rel}: not translated: {english[:80]!r}")
        if args.check:
            if not path.exists():
                problems.append(f"{rel}: missing (run python tools/translate_notebooks.py)")
            elif path.read_text(encoding="utf-8") != dumps(notebook):
                problems.append(f"{rel}: differs from what the English and the catalog make")
        elif not missing:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dumps(notebook), encoding="utf-8")
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problems (the catalogs: python tools/translations.py check)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
