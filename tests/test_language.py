"""The checks' feedback in two languages (lstm_lessons/homework/language.py).

- English is the default; ``LSTM_LESSONS_LANG``, :func:`set_language` and :func:`use` choose
  Chinese, in that order of precedence from the last; a bad language is a clear error.
- A template is looked up in the Chinese catalog and filled with the same values; one without a
  translation is said in English.
- The catalog reader (the sandbox has no Babel) reads what Babel reads, on every catalog of the
  book and the feedback's own.
- Every ``tr`` call in the package passes exactly the values its template names, so that no
  message fails to format in either language; the Chinese templates name the same values.
"""

from pathlib import Path

import pytest
from helpers import load_tool

from lstm_lessons.homework import language, runner
from lstm_lessons.homework.language import read_po, set_language, tr, use

translations = load_tool("translations")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def catalog(monkeypatch):
    entries = {"{name}: all checks passed": "{name}：全部检查通过"}
    monkeypatch.setattr(language, "catalog", lambda: entries)
    return entries


def test_english_is_the_default(catalog):
    assert language.language() == "en"
    assert tr("{name}: all checks passed", name="q1") == "q1: all checks passed"


def test_the_environment_variable_chooses_chinese(catalog, monkeypatch):
    monkeypatch.setenv(language.ENV, "zh_CN")
    assert tr("{name}: all checks passed", name="q1") == "q1：全部检查通过"
    monkeypatch.setenv(language.ENV, "en")
    assert tr("{name}: all checks passed", name="q1") == "q1: all checks passed"


def test_set_language_and_use_override_the_environment(catalog, monkeypatch):
    monkeypatch.setenv(language.ENV, "zh")
    set_language("en")
    assert language.language() == "en"
    with use("zh"):
        assert tr("{name}: all checks passed", name="q2") == "q2：全部检查通过"
        with use(None):
            assert language.language() == "zh"
    assert language.language() == "en"


def test_each_thread_has_its_own_language(catalog):
    import threading

    seen = {}
    inside = threading.Event()
    leave = threading.Event()

    def grade(name, lang):
        with use(lang):
            inside.set() if lang == "zh" else None
            leave.wait(5) if lang == "zh" else inside.wait(5)
            seen[name] = tr("{name}: all checks passed", name=name)
        if lang == "en":
            leave.set()

    threads = [threading.Thread(target=grade, args=a) for a in (("a", "zh"), ("b", "en"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"a": "a：全部检查通过", "b": "b: all checks passed"}


def test_an_untranslated_template_is_said_in_english(catalog):
    with use("zh"):
        assert tr("{name}: not passed yet", name="q1") == "q1: not passed yet"


def test_a_bad_language_says_what_was_expected():
    with pytest.raises(ValueError, match=r"one of 'en', 'zh', got 'fr'"):
        set_language("fr")
    with pytest.raises(ValueError, match="got 'chinese'"), use("chinese"):
        pass


def test_a_notebook_result_is_shown_in_the_chosen_language(catalog):
    passed = runner.TestResult("q1", "t", False, 1, True, "ok")
    result = runner.QuestionResult("q1", 1, False, (passed,))
    assert repr(result).startswith("q1: all checks passed")
    with use("zh"):
        assert repr(result).startswith("q1：全部检查通过")


def test_the_reader_reads_what_babel_reads():
    from babel.messages.pofile import read_po as babel_read

    paths = sorted((ROOT / "locales").rglob("*.po")) + [language.CATALOG]
    assert len(paths) > 50
    read = 0
    for path in paths:
        with open(path, "rb") as f:
            catalog = babel_read(f)
        expected = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
        assert read_po(path) == expected, path
        read += len(expected)
    assert read > 0


def test_the_reader_leaves_out_fuzzy_obsolete_and_empty_entries(tmp_path):
    path = tmp_path / "x.po"
    path.write_text(
        'msgid ""\nmsgstr "header"\n\n'
        'msgid "a"\nmsgstr "甲"\n\n'
        '#, fuzzy\nmsgid "b"\nmsgstr "乙"\n\n'
        'msgid "c"\nmsgstr ""\n\n'
        '#~ msgid "d"\n#~ msgstr "丁"\n\n'
        'msgid ""\n"long "\n"one\\n"\nmsgstr "长\\"的\\""\n',
        encoding="utf-8",
    )
    assert read_po(path) == {"a": "甲", "long one\n": '长"的"'}


def test_every_tr_call_passes_what_its_template_names():
    calls = translations.tr_calls()
    assert calls, "no tr() call found in the package"
    for path, line, template, keywords in calls:
        if keywords is None:
            continue
        assert translations.fields(template) == keywords, f"{path}:{line}: {template!r}"


def test_the_chinese_templates_name_what_the_english_ones_name():
    for msgid, msgstr in read_po(language.CATALOG).items():
        assert translations.fields(msgstr) == translations.fields(msgid), msgid


def test_the_feedback_catalog_has_every_template_of_the_package():
    from babel.messages.pofile import read_po as babel_read

    with open(language.CATALOG, "rb") as f:
        ids = {m.id for m in babel_read(f) if m.id}
    missing = {t for _, _, t, _ in translations.tr_calls()} - ids
    assert not missing, (
        f"{len(missing)} templates are not in {language.CATALOG.name}: run "
        f"`python tools/translations.py feedback`; the first is {sorted(missing)[0]!r}"
    )
