"""Write the table of contents and configuration of the book's student edition.

Usage:
    python tools/editions.py OUT     write OUT/_toc.yml and OUT/_config.yml

The student edition is the book without the worked solutions, for a class whose exercises are
graded: ``make book EDITION=student`` runs this, then ``jupyter-book build`` with
``--toc OUT/_toc.yml --config OUT/_config.yml``. Both files are made from the book's own
``_toc.yml`` and ``_config.yml``, so the editions never drift apart:

- the table of contents loses every entry under ``solutions/`` (and a part left empty);
- the configuration excludes ``solutions/`` from the build, sets
  ``lstm_lessons_edition: student`` (``tools/sphinx_editions.py`` then writes every link to a
  solution as plain text) and points the execution cache at the self-study build's, so the
  chapters are not executed a second time.
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


def student_config(config, cache, root=ROOT):
    """``config`` (the parsed ``_config.yml``) for the student edition.

    Jupyter Book finds local extensions relative to the configuration file, which for this
    edition is not at the root: their folders become absolute paths.
    """
    config = yaml.safe_load(yaml.safe_dump(config))  # a deep copy
    extensions = (config.get("sphinx") or {}).get("local_extensions") or {}
    for name, path in extensions.items():
        extensions[name] = str((Path(root) / path).resolve())
    config["exclude_patterns"] = [*config.get("exclude_patterns", []), "solutions"]
    config.setdefault("execute", {})["cache"] = str(cache)
    sphinx = config.setdefault("sphinx", {})
    sphinx.setdefault("config", {})["lstm_lessons_edition"] = "student"
    config["title"] = f"{config.get('title', 'The book')} (student edition)"
    return config


def write(out, root=ROOT):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    header = "# Written by tools/editions.py from the book's own file: edit that one.\n"
    (out / "_toc.yml").write_text(
        header + yaml.safe_dump(student_toc(toc), sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    cache = (root / "_build" / ".jupyter_cache").resolve()
    (out / "_config.yml").write_text(
        header
        + yaml.safe_dump(student_config(config, cache, root), sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "out", type=Path, help="folder for the student edition's _toc.yml and _config.yml"
    )
    args = parser.parse_args(argv)
    write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
