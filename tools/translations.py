"""The Chinese edition's translations: one gettext catalog per page, checked.

Usage:
    python tools/translations.py update          extract the English messages (a gettext build
                                                 of the book) and merge them into the catalogs
    python tools/translations.py check [PAGE...] check the catalogs; exit 1 on any problem
    python tools/translations.py status          entries translated, missing and out of date
    python tools/translations.py export PAGE     the entries of PAGE still to translate, as text
    python tools/translations.py import PAGE FILE  write the translations in FILE into PAGE
    python tools/translations.py feedback        extract the checks' feedback templates (tr calls)
                                                 into lstm_lessons/homework/locale/zh_CN.po
    python tools/translations.py reuse [PAGE...] fill entries whose English is translated elsewhere

The catalogs are Sphinx's standard form (``sphinx-intl``): ``locales/zh_CN/LC_MESSAGES/<page>.po``,
one per page of the book (``book/ch01_simple_rnn`` and so on), each message a paragraph, heading,
caption or list item in MyST source. When an English paragraph changes, ``update`` keeps its
old translation as *fuzzy* (out of date) beside the new English, and ``check`` names it; the
Chinese build (``tools/sphinx_i18n.py``) fails on any paragraph without a current translation.
The API reference stays in English and has no catalogs.

``export``/``import`` use a plain-text form that needs no escaping: each entry is a line
``@@@ N @@@`` followed by its text, English in the export and Chinese in the file imported.

``check`` reads each translated entry as a Chinese reader and as the build would:

- every role target (``{numref}`...<target>```, ``{glue:text}`key```, ``{py:func}`...```),
  inline code, math and link address of the English is in the Chinese, unchanged, and every
  number the English states is there too;
- no English is left beside the Chinese, except code, symbols, proper names (capitalised),
  words in :data:`LATIN_WORDS` and an English term in brackets after its Chinese term;
- Chinese punctuation (，。；：？！（）) next to Chinese text, and no space between Chinese and
  inline math, code or Latin words;
- no markup that would show raw (an emphasis that does not close);
- each glossary term is translated by the glossary's Chinese term (the book's, not an alias).
"""

import argparse
import re
import subprocess
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = "zh_CN"
LOCALE_DIR = ROOT / "locales"
CATALOG_DIR = LOCALE_DIR / LOCALE / "LC_MESSAGES"
POT_DIR = ROOT / "_build" / "i18n" / "_build" / "gettext"
# Pages that stay in English: the API reference, built from the package's docstrings.
ENGLISH_ONLY = ("book/api/",)
GLOSSARY = ROOT / "book" / "glossary.md"

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_PUNCT = "\u3000-\u303f\uff00-\uffef\u2018\u2019\u201c\u201d\u2014\u2026"
_CJK = re.compile(f"[{CJK}]")
# Lower-case words a Chinese ML text writes in Latin letters.
LATIN_WORDS = {
    "sigmoid",
    "tanh",
    "softmax",
    "relu",
    "exp",
    "log",
    "max",
    "min",
    "argmax",
    "sign",
    "float16",
    "float32",
    "float64",
    "int64",
    "bfloat16",
    "pip",
    "conda",
    "jupyter",
    "jupytext",
    "nbval",
    "otter",
    "pytest",
    "cpu",
    "gpu",
    "html",
    "ipynb",
    "md",
    "vs",
    "et",
    "al",
    "e",
    "i",
    "x",
    "y",
    "n",
    "s",
    "ms",
    "mb",
    "gb",
    "kb",
    "api",
    "url",
    "id",
    "ok",
    "mlp",
    "hs",
    "logit",
    "logits",
    "torch",
    "autograd",
    "rms",
    "mse",
    "auc",
    "nan",
    "inf",
}
MARKER = re.compile(r"^@@@ (\d+) @@@$", re.M)

# Spans that must come through a translation unchanged. A role keeps its name and target; the
# text of a role written `text <target>` may be translated, as may a {term}'s (to another name
# of the same glossary term) and a link's text.
_AUTOLINK = re.compile(r"<(https?://[^>]+)>|(https?://[^\s)>]*[^\s)>.,;:。，；：])")
_HTML = re.compile(r"<[^>\n]+>")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])\d+(?:[.,]\d+)*")
# A role with the text given is written {role}`text <target>`.
_TARGET = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)
TEXT_ROLES = {"term", "doc", "ref", "numref", "download"}


def _norm(text):
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=1)
def _markdown():
    """A Markdown parser for one entry, with the book's roles and math (_config.yml)."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.myst_role import myst_role_plugin

    md = MarkdownIt("commonmark").use(dollarmath_plugin, allow_digits=True, allow_space=True)
    return md.use(myst_role_plugin)


def tokens(text):
    """The inline tokens of an entry: text, roles, code, math, links, emphasis."""
    return _markdown().parseInline(text)[0].children or []


def _role_key(name, content):
    match = _TARGET.match(content)
    if name == "term":
        return (name, None)  # checked against the glossary instead
    if match and name in TEXT_ROLES:
        return (name, _norm(match.group(2)))
    return (name, _norm(content))


def role_keys(text):
    """``[(role, target)]``: what each role in ``text`` points at (the text may change)."""
    return [_role_key(t.meta["name"], t.content) for t in tokens(text) if t.type == "myst_role"]


def protected(text):
    """What a translation of ``text`` must keep: role targets, code, math, links, numbers."""
    found = {kind: Counter() for kind in ("role", "code", "math", "link", "number")}
    for token in tokens(text):
        if token.type == "myst_role":
            found["role"][_role_key(token.meta["name"], token.content)] += 1
        elif token.type == "code_inline":
            found["code"][_norm(token.content)] += 1
        elif token.type.startswith("math"):
            found["math"][_norm(token.content)] += 1
        elif token.type == "link_open":
            found["link"][token.attrs.get("href", "")] += 1
        elif token.type == "text":
            for a, b in _AUTOLINK.findall(token.content):
                found["link"][a or b] += 1
            rest = _HTML.sub(" ", _AUTOLINK.sub(" ", token.content))
            for number in _NUMBER.findall(rest):
                found["number"][number.replace(",", "")] += 1
    return found


def prose(text):
    """``text`` without roles, code, math, links and HTML: the words a reader reads (the text
    of a role that shows its own text, ``{term}`遗忘门``` or ``{numref}`第 {number} 节 <x>```,
    included)."""
    pieces = []
    for token in tokens(text):
        if token.type == "text":
            pieces.append(_HTML.sub(" ", _AUTOLINK.sub(" ", token.content)))
        elif token.type == "myst_role":
            pieces.append(" " + _role_text(token.meta["name"], token.content) + " ")
        elif token.type in ("softbreak", "hardbreak"):
            pieces.append("\n")
        elif token.type in ("code_inline",) or token.type.startswith("math"):
            pieces.append(" ")
    return "".join(pieces)


def _role_text(name, content):
    target = _TARGET.match(content)
    if name in TEXT_ROLES and target:
        return re.sub(r"\{(number|name)\}", " ", target.group(1))
    return content if name == "term" else ""


def to_translate(page, catalog):
    """The entries of ``page``'s catalog that need a Chinese text. The glossary's term names
    are not among them: they stay as they are, so that a link to a term by either of its names,
    English or Chinese, works in both editions."""
    if page == FEEDBACK_PAGE:
        return [m for m in messages(catalog) if needs_translation(_unfilled(m.id))]
    skip = all_glossary_names() if page == "book/glossary" else set()
    return [m for m in messages(catalog) if needs_translation(m.id) and m.id.lower() not in skip]


def _unfilled(template):
    return re.sub(r"\{[^{}]*\}", " ", template)


def _flat(text):
    """``text`` with each role, code span and inline equation one opaque Latin token, so that
    the spacing around them can be checked without looking inside them."""
    pieces = []
    for token in tokens(text):
        if token.type == "text":
            pieces.append(token.content)
        elif token.type == "myst_role":
            pieces.append("`R`")
        elif token.type == "code_inline":
            pieces.append("`C`")
        elif token.type.startswith("math"):
            pieces.append("$M$")
        elif token.type in ("softbreak", "hardbreak"):
            pieces.append("\n")
        elif token.type in ("strong_open", "strong_close"):
            pieces.append("**")
        elif token.type in ("em_open", "em_close"):
            pieces.append("*")
    return "".join(pieces)


def needs_translation(msgid):
    """Whether ``msgid`` has words to translate (not only math, code, names or numbers)."""
    if msgid.startswith("\n") and msgid.endswith("\n"):
        return False  # a display equation ($$ ... $$ or {math})
    # A word joined to others by "_" or "." is a name in code (lstm_lessons, F.hardsigmoid).
    words = re.findall(r"(?<![A-Za-z0-9_.])[A-Za-z][a-z]+(?![A-Za-z0-9_]|\.[A-Za-z])", prose(msgid))
    return bool(words)


def english_left(msgstr):
    """Latin words in ``msgstr`` that a Chinese reader would read as untranslated English."""
    text = prose(msgstr)
    # An English term in brackets right after its Chinese term: 隐藏状态（hidden state）.
    text = re.sub(f"(?<=[{CJK}])\\s*\\*{{0,2}}\\s*[（(][^（）()]*[）)]", " ", text)
    left = []
    for run in re.findall(r"[A-Za-z][A-Za-z0-9_.'’-]*(?:\s+[A-Za-z][A-Za-z0-9_.'’-]*)*", text):
        words = [w for w in run.split() if not _allowed(w)]
        if words:
            left.append(run)
    return left


@lru_cache(maxsize=1)
def _variant_names():
    """The cell variants' names (standard, cifg, nig, ...): identifiers the book uses as names."""
    from lstm_lessons import VARIANT_NAMES

    return {name.lower() for name in VARIANT_NAMES}


def _allowed(word):
    bare = word.strip("'’-.")
    if bare.lower() in _variant_names():
        return True
    if "_" in bare or "." in bare:
        return True  # a name in code: lstm_lessons, nn.Hardsigmoid
    if not bare:
        return True
    if bare.lower() in LATIN_WORDS:
        return True
    if bare[0].isupper() or any(ch.isupper() or ch.isdigit() for ch in bare[1:]):
        return True  # a name, an acronym, minGRU, sLSTM, x2
    return len(bare) == 1


def punctuation(msgstr):
    """Places where ``msgstr`` puts Western punctuation or a space next to Chinese text."""
    text = prose(msgstr)
    problems = []
    for match in re.finditer(f"[{CJK}][,;:?!()]|[,;:?!()][{CJK}]|[{CJK}]\\.(?=\\s|$)", text):
        problems.append(f"Western punctuation beside Chinese: {match.group(0)!r}")
    spaced = re.compile(
        f"[{CJK}{CJK_PUNCT}] +(?=[$`{{A-Za-z0-9*])|(?<=[$`}}A-Za-z0-9*]) +[{CJK}{CJK_PUNCT}]"
    )
    # A role counts as Latin text; the text inside it is not looked at.
    flat = _flat(msgstr)
    for match in spaced.finditer(flat):
        around = flat[max(0, match.start() - 6) : match.end() + 6]
        problems.append(f"a space between Chinese and Latin text or math: {around!r}")
    return problems


def raw_markup(msgstr):
    """Markup in ``msgstr`` that Markdown would not read, and so would show as typed."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.myst_role import myst_role_plugin

    md = MarkdownIt("commonmark").use(dollarmath_plugin, allow_digits=True, allow_space=True)
    md.use(myst_role_plugin)
    problems = []
    for token in md.parseInline(msgstr)[0].children or []:
        if token.type == "text" and re.search(r"\*|(?<!\\)`|\{[\w:]+\}", token.content):
            problems.append(f"markup that would show as typed: {token.content.strip()!r}")
    return problems


def glossary_terms(path=GLOSSARY):
    """``[(english names, chinese term)]`` from the glossary: the Chinese is the book's term
    (the first Chinese name of the entry; the others are aliases). Acronyms and one-word names
    with capitals inside (LSTM, minGRU) are names, not terms to translate."""
    text = Path(path).read_text(encoding="utf-8")
    body = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    groups, current = [], []
    for line in body.splitlines():
        if not line.strip() or line.startswith((":", " ")):
            if current:
                groups.append(current)
                current = []
            continue
        current.append(line.strip())
    terms = []
    for names in groups:
        chinese = [n for n in names if _CJK.search(n)]
        english = [
            n
            for n in names
            if not _CJK.search(n) and not (" " not in n and any(c.isupper() for c in n[1:]))
        ]
        if chinese and english:
            terms.append((english, chinese[0]))
    return terms


def all_glossary_names(path=GLOSSARY):
    text = Path(path).read_text(encoding="utf-8")
    body = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    return {
        line.strip().lower()
        for line in body.splitlines()
        if line.strip() and not line.startswith((":", " "))
    }


def term_problems(msgid, msgstr, terms):
    """Glossary terms of ``msgid`` whose Chinese term ``msgstr`` does not use."""
    english = prose(msgid).lower()
    problems = []
    for names, chinese in terms:
        for name in names:
            pattern = r"(?<![\w-])" + re.escape(name.lower()) + r"(?:s|es)?(?![\w-])"
            if re.search(pattern, english) and chinese not in msgstr:
                problems.append(f"the glossary term {name!r} is {chinese} in this book")
                break
    return problems


def entry_problems(msgid, msgstr, terms=None, names=None):
    """What is wrong with one translated entry (an empty list when nothing is)."""
    problems = []
    want, got = protected(msgid), protected(msgstr)
    for kind in want:
        missing = want[kind] - got[kind]
        extra = got[kind] - want[kind]
        if kind == "number":
            extra = Counter()  # a translation may add a number (第 3 节); it may not lose one
        for item in missing:
            problems.append(f"{kind} {_show(item)} of the English is missing")
        for item in extra:
            problems.append(f"{kind} {_show(item)} is not in the English")
    if names is not None:
        for token in tokens(msgstr):
            name, content = token.meta.get("name"), token.content
            if token.type == "myst_role" and name == "term":
                match = _TARGET.match(content)
                target = (match.group(2) if match else content).strip().lower()
                if target not in names:
                    problems.append(f"{{term}} {content!r} is not a glossary term")
    left = english_left(msgstr)
    if left:
        problems.append("English left untranslated: " + "; ".join(repr(w) for w in left[:4]))
    problems += punctuation(msgstr)
    problems += raw_markup(msgstr)
    if terms:
        problems += term_problems(msgid, msgstr, terms)
    return problems


def _show(item):
    return repr(item if not isinstance(item, tuple) else "{{{}}}`{}`".format(*item))


def page_of(path):
    if Path(path) == FEEDBACK:
        return FEEDBACK_PAGE
    return Path(path).relative_to(CATALOG_DIR).with_suffix("").as_posix()


def catalogs(pages=None):
    """``{page: path}`` of the catalogs (all, or those of ``pages``)."""
    found = {page_of(p): p for p in sorted(CATALOG_DIR.rglob("*.po"))}
    if FEEDBACK.exists():
        found[FEEDBACK_PAGE] = FEEDBACK
    if pages:
        unknown = [p for p in pages if p not in found]
        if unknown:
            raise SystemExit(
                f"no catalog for {', '.join(unknown)}: expected a page like book/ch01_simple_rnn "
                f"(catalogs in {CATALOG_DIR})"
            )
        found = {p: found[p] for p in pages}
    return found


def read(path):
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        return read_po(f, locale=LOCALE)


def write(catalog, path):
    from babel.messages.pofile import write_po

    with open(path, "wb") as f:
        write_po(f, catalog, width=0, omit_header=False, include_previous=True)


def messages(catalog):
    return [m for m in catalog if m.id and not isinstance(m.id, tuple)]


def check_catalog(path, terms, names):
    """``[(msgid, problem)]`` for one catalog: untranslated, out of date, or wrong."""
    if Path(path) == FEEDBACK:
        return check_feedback()
    found = []
    for message in to_translate(page_of(path), read(path)):
        if not message.string:
            found.append((message.id, "not translated"))
        elif message.fuzzy:
            found.append((message.id, "out of date: its English changed since it was translated"))
        else:
            problems = entry_problems(message.id, message.string, terms, names)
            found += [(message.id, p) for p in problems]
    return found


def status():
    rows = []
    for page, path in catalogs().items():
        entries = to_translate(page, read(path))
        done = sum(1 for m in entries if m.string and not m.fuzzy)
        fuzzy = sum(1 for m in entries if m.fuzzy)
        rows.append((page, done, fuzzy, len(entries) - done - fuzzy))
    return rows


def export(page):
    entries = to_translate(page, read(catalogs([page])[page]))
    out = []
    for n, message in enumerate(entries, 1):
        if message.string and not message.fuzzy:
            continue
        out.append(f"@@@ {n} @@@\n{message.id}\n")
    return "\n".join(out)


def import_(page, text):
    """Write the translations in ``text`` (``@@@ N @@@`` blocks) into ``page``'s catalog;
    returns the number written."""
    path = catalogs([page])[page]
    catalog = read(path)
    entries = to_translate(page, catalog)
    parts = MARKER.split(text)
    written = 0
    for number, body in zip(parts[1::2], parts[2::2], strict=True):
        n = int(number)
        if not 1 <= n <= len(entries):
            raise SystemExit(f"{page}: entry {n} does not exist (expected 1 to {len(entries)})")
        message = entries[n - 1]
        message.string = body.strip("\n")
        message.flags.discard("fuzzy")
        message.previous_id = ()
        written += 1
    write(catalog, path)
    return written


def reuse(pages=None):
    """Fill each untranslated entry of ``pages`` (all catalogs by default) whose English is
    translated in another catalog (an exercise and its solution share most of their text);
    returns the number filled."""
    memory = {}
    for path in catalogs().values():
        for message in messages(read(path)):
            if message.string and not message.fuzzy:
                memory.setdefault(message.id, message.string)
    filled = 0
    for path in catalogs(pages).values():
        catalog = read(path)
        changed = False
        for message in messages(catalog):
            if not message.string and message.id in memory:
                message.string = memory[message.id]
                filled += 1
                changed = True
        if changed:
            write(catalog, path)
    return filled


# The checks' feedback: templates in tr("...") calls in the package, one catalog in the package.
PACKAGE = ROOT / "lstm_lessons"
FEEDBACK = PACKAGE / "homework" / "locale" / "zh_CN.po"
FEEDBACK_PAGE = "feedback"


def tr_calls(root=PACKAGE):
    """``[(path, line, template, keywords)]`` of every ``tr("...", key=...)`` in the package;
    ``keywords`` is None where the call passes ``**values``."""
    import ast

    found = []
    for path in sorted(Path(root).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr"):
                continue
            if not node.args or not isinstance(node.args[0], ast.Constant):
                raise SystemExit(
                    f"{path}:{node.lineno}: tr() takes its template as a string literal, "
                    "so that the template can be extracted for translation"
                )
            keywords = {k.arg for k in node.keywords}
            found.append(
                (path, node.lineno, node.args[0].value, None if None in keywords else keywords)
            )
    return found


def fields(template):
    """The names a ``str.format`` template fills: ``{name}``, ``{n:.3g}``, ``{x!r}``."""
    import string

    return {
        name.split(".")[0].split("[")[0]
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    }


def update_feedback():
    """Merge the package's ``tr`` templates into the feedback catalog; returns their number."""
    from babel.messages.catalog import Catalog

    template = Catalog(locale=LOCALE)
    for path, line, msgid, _ in tr_calls():
        template.add(msgid, locations=[(path.relative_to(ROOT).as_posix(), line)])
    if FEEDBACK.exists():
        catalog = read(FEEDBACK)
    else:
        FEEDBACK.parent.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale=LOCALE, project="lstm-lessons feedback")
    catalog.update(template, update_header_comment=False)
    catalog.obsolete.clear()
    with open(FEEDBACK, "wb") as f:
        from babel.messages.pofile import write_po

        write_po(f, catalog, width=0, include_previous=True, no_location=True)
    return len(template)


def feedback_problems(msgid, msgstr):
    """What is wrong with one translated feedback template."""
    problems = []
    if fields(msgid) != fields(msgstr):
        problems.append(
            f"placeholders {sorted(fields(msgid))} of the English, "
            f"{sorted(fields(msgstr))} in the Chinese"
        )
    want, got = protected(msgid), protected(msgstr)
    for kind in ("code", "math", "link"):
        for item in want[kind] - got[kind]:
            problems.append(f"{kind} {_show(item)} of the English is missing")
    text = _unfilled(msgstr)
    left = english_left(text)
    if left:
        problems.append("English left untranslated: " + "; ".join(repr(w) for w in left[:4]))
    problems += [p for p in punctuation(text) if "space" not in p]
    return problems


def check_feedback():
    """``[(msgid, problem)]`` for the feedback catalog."""
    found = []
    for message in to_translate(FEEDBACK_PAGE, read(FEEDBACK)):
        if not message.string:
            found.append((message.id, "not translated"))
        elif message.fuzzy:
            found.append((message.id, "out of date: the English changed since it was translated"))
        else:
            found += [(message.id, p) for p in feedback_problems(message.id, message.string)]
    return found


def update(jobs=1):
    """Extract the English messages with a gettext build and merge them into the catalogs."""
    import yaml

    sys.path.insert(0, str(ROOT / "tools"))
    import editions

    out = ROOT / "_build" / "i18n"
    out.mkdir(parents=True, exist_ok=True)
    config = editions.gettext_config(
        yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    )
    (out / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    subprocess.run(
        [
            str(Path(sys.executable).parent / "jupyter-book"),
            "build",
            str(ROOT),
            "--path-output",
            str(out),
            "--config",
            str(out / "_config.yml"),
            "--builder",
            "custom",
            "--custom-builder",
            "gettext",
            "--all",
            "-n",
            "-W",
            "--keep-going",
        ],
        check=True,
        cwd=ROOT,
    )
    for pot in POT_DIR.rglob("*.pot"):
        if pot.relative_to(POT_DIR).as_posix().startswith(ENGLISH_ONLY):
            pot.unlink()
    subprocess.run(
        [
            str(Path(sys.executable).parent / "sphinx-intl"),
            "update",
            "-p",
            str(POT_DIR),
            "-l",
            LOCALE,
            "-d",
            str(LOCALE_DIR),
            "-w",
            "0",
        ],
        check=True,
        cwd=ROOT,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("update")
    sub.add_parser("feedback")
    check = sub.add_parser("check")
    check.add_argument("pages", nargs="*")
    sub.add_parser("status")
    reuse_ = sub.add_parser("reuse")
    reuse_.add_argument("pages", nargs="*")
    exp = sub.add_parser("export")
    exp.add_argument("page")
    imp = sub.add_parser("import")
    imp.add_argument("page")
    imp.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
    elif args.command == "feedback":
        print(f"{update_feedback()} feedback templates in {FEEDBACK.relative_to(ROOT)}")
    elif args.command == "status":
        rows = status()
        for page, done, fuzzy, missing in rows:
            print(f"{page:45s} {done:4d} translated {fuzzy:4d} out of date {missing:4d} missing")
        total = [sum(r[i] for r in rows) for i in (1, 2, 3)]
        print(
            f"{'all':45s} {total[0]:4d} translated {total[1]:4d} out of date {total[2]:4d} missing"
        )  # noqa: E501
    elif args.command == "reuse":
        print(f"{reuse(args.pages)} entries filled from other catalogs")
    elif args.command == "export":
        print(export(args.page))
    elif args.command == "import":
        written = import_(args.page, args.file.read_text(encoding="utf-8"))
        print(f"{args.page}: {written} entries written")
    elif args.command == "check":
        terms, names = glossary_terms(), all_glossary_names()
        bad = 0
        for page, path in catalogs(args.pages).items():
            for msgid, problem in check_catalog(path, terms, names):
                bad += 1
                print(f"{page}: {problem}\n    English: {msgid[:100]!r}")
        print(f"{bad} problems")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
