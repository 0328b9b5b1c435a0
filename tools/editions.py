"""Write the table of contents and configuration of the book's other editions.

Usage:
    python tools/editions.py OUT                 the student edition's OUT/_toc.yml and _config.yml
    python tools/editions.py OUT --edition zh    the Chinese edition's

The student edition is the book without the worked solutions, for a class whose exercises are
graded: ``make book EDITION=student`` runs this, then ``jupyter-book build`` with
``--toc OUT/_toc.yml --config OUT/_config.yml``. Both files are made from the book's own
``_toc.yml`` and ``_config.yml``, so the editions never drift apart:

- the table of contents loses every entry under ``solutions/`` (and a part left empty);
- the configuration excludes ``solutions/`` from the build, sets
  ``lstm_lessons_edition: student`` (``tools/sphinx_editions.py`` then writes every link to a
  solution as plain text) and points the execution cache at the self-study build's, so the
  chapters are not executed a second time.

The Chinese edition (``make book`` builds it beside the English, into ``_build/html/zh``) has
the English table of contents and a configuration that sets the language and the catalogs'
folder (``locales/``, ``tools/translations.py``), from the same execution cache: its code,
outputs and numbers are the English edition's.
"""

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = "solutions/"


def _drop_solutions(entries):
    kept = []
    for entry in entries:
        if str(entry.get("file", "")).startswith(SOLUTIONS):
            continue
        entry = dict(entry)
        for key in ("chapters", "sections"):
            if key in entry:
                entry[key] = _drop_solutions(entry[key])
                if not entry[key]:
                    del entry[key]
        kept.append(entry)
    return kept


def student_toc(toc):
    """``toc`` (the parsed ``_toc.yml``) without the solution pages."""
    if str(toc.get("root", "")).startswith(SOLUTIONS):
        raise ValueError("_toc.yml: the root page cannot be a solution")
    toc = dict(toc)
    if "parts" in toc:
        parts = []
        for part in toc["parts"]:
            part = dict(part)
            part["chapters"] = _drop_solutions(part.get("chapters", []))
            if part["chapters"]:
                parts.append(part)
        toc["parts"] = parts
    if "chapters" in toc:
        toc["chapters"] = _drop_solutions(toc["chapters"])
    return toc


def _from_book(config, cache, root=ROOT):
    """A deep copy of ``config`` that builds from ``root`` and ``cache``: Jupyter Book finds local
    extensions relative to the configuration file, which for another edition is not at the
    root, so their folders become absolute paths; the execution cache is the self-study
    build's, so no notebook is executed a second time."""
    config = yaml.safe_load(yaml.safe_dump(config))  # a deep copy
    extensions = (config.get("sphinx") or {}).get("local_extensions") or {}
    for name, path in extensions.items():
        extensions[name] = str((Path(root) / path).resolve())
    config.setdefault("execute", {})["cache"] = str(cache)
    config.setdefault("sphinx", {}).setdefault("config", {})
    return config


def student_config(config, cache, root=ROOT):
    """``config`` (the parsed ``_config.yml``) for the student edition."""
    config = _from_book(config, cache, root)
    config["exclude_patterns"] = [*config.get("exclude_patterns", []), "solutions"]
    config["sphinx"]["config"]["lstm_lessons_edition"] = "student"
    # The student edition has no Chinese twin to link to.
    config["sphinx"]["config"]["lstm_lessons_other_language"] = None
    # Nor the bundle, which holds the worked solutions.
    config["sphinx"]["config"]["lstm_lessons_bundle"] = None
    config["title"] = f"{config.get('title', 'The book')} (student edition)"
    return config


# What the catalogs need: one per page (not one per folder), and no source lines or ids in them,
# so that a catalog changes only where the English does.
GETTEXT = {"gettext_compact": False, "gettext_location": False, "gettext_uuid": False}


def gettext_config(config, cache=None, root=ROOT):
    """``config`` for extracting the book's English messages (``tools/translations.py``).

    myst-nb renders a cell's outputs only for the builders it knows; for the gettext builder it
    is told to render them as for HTML, so that what the outputs put on a page (a figure's alt
    text, a table made by code) is extracted too.
    """
    from myst_nb.core.render import base_render_priority

    cache = cache or (Path(root) / "_build" / ".jupyter_cache").resolve()
    config = _from_book(config, cache, root)
    config["sphinx"]["config"].update(GETTEXT)
    config["sphinx"]["config"]["nb_mime_priority_overrides"] = [
        ["gettext", mime, priority] for mime, priority in base_render_priority()["html"].items()
    ]
    return config


def translated_toc(toc, catalog):
    """``toc`` with each part's caption in the language of ``catalog`` (``{English: text}``, the
    root page's, where Sphinx extracts the captions): the table of contents is read before the
    catalogs are applied, so the Chinese edition's gets its captions here."""
    toc = yaml.safe_load(yaml.safe_dump(toc))
    for part in toc.get("parts", []):
        caption = part.get("caption")
        if caption in catalog:
            part["caption"] = catalog[caption]
    return toc


CHINESE_TITLE = "LSTM 门控：动手实践课程"


def chinese_config(config, cache, root=ROOT):
    """``config`` for the Chinese edition: the same pages in Chinese from the catalogs in
    ``locales/``, its search segmented by jieba, and a link on every page to the English."""
    config = _from_book(config, cache, root)
    config["sphinx"]["config"].update(
        GETTEXT,
        language="zh_CN",
        locale_dirs=[str((Path(root) / "locales").resolve())],
        html_search_language="zh",
        lstm_lessons_other_language={
            "prefix": "../",
            "label": "English",
            "lang": "en",
            "line": "This page in English",
            "tooltip": "English edition",
        },
        lstm_lessons_require_translation=True,
        lstm_lessons_notebook_language="zh",
        lstm_lessons_bundle="../lstm-lessons-notebooks.zip",
        lstm_lessons_bundle_tooltip="全部笔记本，中英文版（.zip）",
        lstm_lessons_glued_values=str(
            (Path(root) / "locales" / "zh_CN" / "glued_values.yml").resolve()
        ),
    )
    config["title"] = CHINESE_TITLE
    return config


EDITIONS = ("student", "zh")


def chinese_terms(root=ROOT):
    """The Chinese names of the glossary's terms, without spaces (jieba's words have none)."""
    text = (Path(root) / "book" / "glossary.md").read_text(encoding="utf-8")
    body = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    return sorted(
        {
            line.strip()
            for line in body.splitlines()
            if line.strip()
            and not line.startswith((" ", ":"))
            and " " not in line.strip()
            and any("\u4e00" <= ch <= "\u9fff" for ch in line)
        }
    )


def write(out, edition="student", root=ROOT):
    """Write ``out/_toc.yml`` and ``out/_config.yml`` of ``edition``."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {', '.join(EDITIONS)}, got {edition!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    cache = (root / "_build" / ".jupyter_cache").resolve()
    if edition == "student":
        toc, config = student_toc(toc), student_config(config, cache, root)
    else:
        from lstm_lessons.homework.language import read_po

        config = chinese_config(config, cache, root)
        po = Path(root) / "locales" / "zh_CN" / "LC_MESSAGES" / f"{toc['root']}.po"
        toc = translated_toc(toc, read_po(po) if po.exists() else {})
        # Sphinx cuts Chinese text into words with jieba, for the search index; the glossary's
        # terms are words of their own (细胞状态, not 细胞 and 状态 only).
        words = out / "search_words.txt"
        words.write_text("".join(f"{w} 1000 n\n" for w in chinese_terms(root)), encoding="utf-8")
        config["sphinx"]["config"]["html_search_options"] = {"dict": str(words.resolve())}
    header = "# Written by tools/editions.py from the book's own file: edit that one.\n"
    for name, data in (("_toc.yml", toc), ("_config.yml", config)):
        (out / name).write_text(
            header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the edition's _toc.yml and _config.yml")
    parser.add_argument(
        "--edition", choices=EDITIONS, default="student", help="which edition (default: student)"
    )
    args = parser.parse_args(argv)
    write(args.out, args.edition)
    return 0


if __name__ == "__main__":
    sys.exit(main())
