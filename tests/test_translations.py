"""The Chinese edition's catalogs (locales/, tools/translations.py) and its build's checks
(tools/sphinx_i18n.py).

- Every page of the book but the API reference has a catalog, and every catalog a page.
- Every catalog is complete, current and right: each paragraph translated, none out of date,
  every role target, code span, equation, link and number kept, no English left, Chinese
  punctuation, no markup that would show raw (``translations.py check`` on all of them).
- Each glossary term is written, where the English uses it, with the Chinese term the glossary
  gives (not an alias).
- Each rule of the checker fails on the mistake it is for.
- A paragraph whose English changed is found: ``update`` keeps its old translation as out of
  date, ``check`` names it, and the Chinese build fails on it with -W (a small Sphinx project).
- The glued values that are words come out in Chinese.
"""

import re
import textwrap
from pathlib import Path

import pytest
import yaml
from helpers import load_tool

translations = load_tool("translations")
sphinx_i18n = load_tool("sphinx_i18n")
ROOT = Path(__file__).resolve().parent.parent


def toc_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("chapters", []) + entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    return pages


def test_every_page_but_the_api_reference_has_a_catalog():
    pages = {p for p in toc_pages() if not p.startswith(translations.ENGLISH_ONLY)}
    catalogs = set(translations.catalogs()) - {translations.FEEDBACK_PAGE}
    assert pages - catalogs == set(), "pages without a catalog: run tools/translations.py update"
    assert catalogs - pages == set(), "catalogs of pages that are not in the book"


@pytest.fixture(scope="module")
def glossary():
    return translations.glossary_terms(), translations.all_glossary_names()


def test_every_catalog_is_translated_current_and_right(glossary):
    terms, names = glossary
    problems = []
    for page, path in translations.catalogs().items():
        if page == translations.FEEDBACK_PAGE:
            continue
        problems += [
            f"{page}: {p} ({m[:60]!r})" for m, p in translations.check_catalog(path, terms, names)
        ]
    assert not problems, f"{len(problems)} problems, the first: " + "; ".join(problems[:5])


def test_each_glossary_term_has_the_glossarys_chinese_term_where_the_english_uses_it(glossary):
    terms, _ = glossary
    used = 0
    for page, path in translations.catalogs().items():
        if page == translations.FEEDBACK_PAGE:
            continue
        for message in translations.to_translate(page, translations.read(path)):
            if not message.string:
                continue
            wrong = translations.term_problems(message.id, message.string, terms)
            assert not wrong, f"{page}: {wrong[0]}: {message.string[:80]!r}"
            used += any(
                re.search(r"(?<![\w-])" + re.escape(n.lower()), message.id.lower())
                for names, _ in terms
                for n in names
            )
    assert used > 500  # the rule is exercised: most paragraphs use some glossary term


def test_the_glossary_gives_the_book_s_term_first_and_d2l_s_as_an_alias():
    terms = dict((tuple(english), chinese) for english, chinese in translations.glossary_terms())
    assert terms[("cell state",)] == "细胞状态"
    assert terms[("hidden state",)] == "隐藏状态"
    assert terms[("candidate", "candidate state")] == "候选值"
    names = translations.all_glossary_names()
    assert {"记忆元", "隐状态", "候选记忆元"} <= names  # d2l's terms still link


@pytest.mark.parametrize(
    ("english", "chinese", "problem"),
    [
        ("The forget gate keeps 3 values.", "遗忘门保留3个值.", "Western punctuation"),
        ("The forget gate keeps 3 values.", "遗忘门保留个值。", "number '3'"),
        ("The forget gate keeps 3 values.", "forget gate保留3个值。", "English left"),
        ("The forget gate keeps 3 values.", "遗忘阀保留3个值。", "glossary term 'forget gate'"),
        ("It is $h_t$.", "它是 $h_t$。", "a space between Chinese"),
        ("It is $h_t$.", "它是$h_{t}$。", "math 'h_t' of the English is missing"),
        ("Run `f(x)` now.", "现在运行f(x)。", "code 'f(x)' of the English is missing"),
        ("See {numref}`fig-a`.", "见{numref}`fig-b`。", "of the English is missing"),
        ("Read {glue:text}`n-steps` steps.", "读取步。", "glue:text"),
        ("See [the docs](https://a.org/x).", "见[文档](https://a.org/y)。", "link"),
        ("It is **one step**.", "它是**“一步”**的。", "markup that would show as typed"),
        ("See {term}`forget gate`.", "见{term}`遗忘阀门`。", "not a glossary term"),
    ],
)
def test_each_rule_finds_its_mistake(english, chinese, problem, glossary):
    found = translations.entry_problems(english, chinese, *glossary)
    assert any(problem in p for p in found), found


def test_a_right_translation_passes(glossary):
    english = (
        "The hidden state (隐藏状态) $h_t$ of the {term}`forget gate`, see "
        "{numref}`Section {number}, {name} <ch01-bptt>` and {cite:p}`hochreiter1997long`, "
        "has {glue:text}`n-units` units in float64."
    )
    chinese = (
        "{term}`遗忘门`的隐藏状态（hidden state）$h_t$有{glue:text}`n-units`个单元，使用float64，"
        "见{numref}`第 {number} 节“{name}” <ch01-bptt>`和{cite:p}`hochreiter1997long`。"
    )
    assert translations.entry_problems(english, chinese, *glossary) == []


def _catalog(tmp_path, entries, fuzzy=()):
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale="zh_CN")
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr, flags=["fuzzy"] if msgid in fuzzy else [])
    path = tmp_path / "page.po"
    translations.write(catalog, path)
    return path


def test_check_names_a_paragraph_untranslated_or_out_of_date(tmp_path, glossary, monkeypatch):
    monkeypatch.setattr(translations, "page_of", lambda path: "book/page")
    path = _catalog(
        tmp_path,
        {"The gate opens.": "门打开。", "The gate closes.": "", "The gate stays shut.": "门关着。"},
        fuzzy={"The gate stays shut."},
    )
    found = dict((m, p) for m, p in translations.check_catalog(path, *glossary))
    assert set(found) == {"The gate closes.", "The gate stays shut."}
    assert found["The gate closes."] == "not translated"
    assert found["The gate stays shut."].startswith("out of date")


def test_export_and_import_round_trip_a_page(tmp_path, monkeypatch):
    path = _catalog(tmp_path, {"The gate opens.": "", "It is $h_t$ again.": ""})
    monkeypatch.setattr(translations, "catalogs", lambda pages=None: {"book/page": path})
    text = translations.export("book/page")
    assert text.startswith("@@@ 1 @@@\nThe gate opens.")
    written = translations.import_("book/page", "@@@ 1 @@@\n门打开。\n\n@@@ 2 @@@\n又是$h_t$。\n")
    assert written == 2
    assert translations.export("book/page") == ""
    with pytest.raises(SystemExit, match="entry 3 does not exist"):
        translations.import_("book/page", "@@@ 3 @@@\n多余。\n")


SPHINX_PROJECT = {
    "conf.py": """
        extensions = ["sphinx_i18n"]
        language = "zh_CN"
        locale_dirs = ["locales"]
        gettext_compact = False
        lstm_lessons_require_translation = True
    """,
    "index.rst": """
        Title
        =====

        The gate opens.

        The gate closes.
    """,
}


def _sphinx_build(tmp_path, translated):
    """The warnings of a Chinese build of a two-paragraph project (in a process of its own: a
    Sphinx application leaves registrations and loaded catalogs behind in its process)."""
    import os
    import subprocess
    import sys

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    tmp_path.mkdir(parents=True)
    for name, text in SPHINX_PROJECT.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    catalog = Catalog(locale="zh_CN")
    for msgid, msgstr in translated.items():
        catalog.add(msgid, msgstr)
    folder = tmp_path / "locales" / "zh_CN" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / "index.mo", "wb") as f:
        write_mo(f, catalog)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tools")}
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", str(tmp_path), str(tmp_path / "_b")],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    return done.stderr


def test_the_chinese_build_warns_about_each_paragraph_without_a_current_translation(tmp_path):
    everything = {"Title": "标题", "The gate opens.": "门打开。", "The gate closes.": "门关上。"}
    assert "not translated" not in _sphinx_build(tmp_path / "a", everything)
    # The English of the last paragraph changed since it was translated: its entry no longer
    # matches, and the build says which paragraph it is.
    stale = {"Title": "标题", "The gate opens.": "门打开。", "The gate closed.": "门关上。"}
    warnings = _sphinx_build(tmp_path / "b", stale)
    assert warnings.count("not translated") == 1
    assert "'The gate closes.'" in warnings
    assert "locales/zh_CN/LC_MESSAGES/index.po" in warnings


GLUED = [
    "0.0255 to 0.0397",
    "none",
    "none up to 64",
    "significantly worse",
    "significantly better",
    "no significant difference",
    "3.1e-05 (the smallest possible)",
    "as drawn",
    "250, 500 and 1000",
    "nig 2 runs, nog 2 runs, niaf 3 runs, hard_sigmoid 1 run",
    "the input gate in 3, the forget gate in 1, the output gate in 6",
    "forget gate",
    "*verse position* and *log verse position*",
    "5 × 10⁵ (3 × 10² to 5 × 10⁹)",
    "82 % (48 to 100 %)",
    "T = 16 to 256",
    "no length",
    "no length measured, forward or backward",
    "T = 16 to 256 in the NumPy forward pass and T = 16 to 512 in the NumPy forward and "
    "backward pass",
    "T = 16 to 32 in the NumPy forward pass, T = 8 to 16 in the NumPy forward and backward "
    "pass and no length in torch",
    "AMD EPYC (2 cores, load average 3.2 at the start), NumPy 2.4.6, torch 2.13.0+cpu",
    "AMD EPYC, a 2-core VM",
    "the mean accuracies, 0.82 and 1.00, cannot be told apart with 4 runs each: an exact "
    "permutation test gives p = 1.00, a difference that chance alone produces often",
    "bias 2 reached the higher mean accuracy, 0.95 against 0.71 (exact permutation test, "
    "p = 0.029)",
]


@pytest.mark.parametrize("value", GLUED)
def test_glued_words_come_out_in_chinese(value):
    rules = sphinx_i18n._rules(str(ROOT / "locales" / "zh_CN" / "glued_values.yml"))
    said = sphinx_i18n.say_glued(value, rules)
    assert sphinx_i18n.english_words(said) == [], said
    assert re.findall(r"\d+(?:\.\d+)?", said) == re.findall(r"\d+(?:\.\d+)?", value)
