"""The language of the checks' feedback: English (the default) or Chinese.

Every message a student reads is written once, in English, as a template:
``tr("{name} is None; expected an {want}.", name=name, want=want)``. In Chinese, the template is
looked up in the catalog ``locale/zh_CN.po`` beside this module (gettext's form; its entries are
extracted from the ``tr`` calls by ``tools/translations.py feedback``), and the Chinese template is
filled with the same values. A template without a translation is said in English, never dropped.

The language is, from the first that is set:

1. :func:`use` (a ``with`` block, for the thread it runs in; the class grader grades each
   submission in the language its notebook asks for, ``lstm_lessons_language`` in its metadata);
2. :func:`set_language`, for the rest of the session (the in-notebook grader's ``language=``);
3. the environment variable ``LSTM_LESSONS_LANG`` (``zh`` or ``en``);
4. English.
"""

import contextlib
import os
import re
import threading
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("en", "zh")
ENV = "LSTM_LESSONS_LANG"
CATALOG = Path(__file__).resolve().parent / "locale" / "zh_CN.po"

# set_language's choice, for the whole session; use()'s, a stack per thread (the class grader
# grades several submissions at once in threads, each in its own language).
_session = []
_local = threading.local()


def _stack():
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def _check(language):
    if language not in LANGUAGES:
        raise ValueError(
            f"language must be one of {', '.join(map(repr, LANGUAGES))}, got {language!r}"
        )
    return language


def language():
    """The language feedback is given in now: ``"en"`` or ``"zh"``."""
    if _stack():
        return _stack()[-1]
    if _session:
        return _session[-1]
    value = os.environ.get(ENV, "").strip().lower()
    if value.startswith("zh"):
        return "zh"
    return "en"


def set_language(language):
    """Give feedback in ``language`` (``"en"`` or ``"zh"``) from now on."""
    _session[:] = [_check(language)]


@contextlib.contextmanager
def use(language):
    """Give feedback in ``language`` inside the ``with`` block (``None``: leave it as it is)."""
    if language is None:
        yield
        return
    stack = _stack()
    stack.append(_check(language))
    try:
        yield
    finally:
        stack.pop()


def tr(template, /, **values):
    """``template`` in the current language, filled with ``values`` (``str.format``)."""
    if language() == "zh":
        template = catalog().get(template) or template
    return template.format(**values) if values else template


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(text):
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), text)


def read_po(path):
    """``{msgid: msgstr}`` of the translated, current entries of a gettext catalog.

    A small reader of the form ``sphinx-intl`` and Babel write, entries apart by blank lines (the
    grader's sandbox has no Babel): fuzzy and obsolete entries, and the header, are left out.
    """
    entries = {}
    for block in re.split(r"\n\s*\n", Path(path).read_text(encoding="utf-8")):
        fields, key, fuzzy = {}, None, False
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            elif line.startswith(("msgid ", "msgstr ")):
                key, _, rest = line.partition(" ")
                fields[key] = "".join(_unquote(m) for m in _QUOTED.findall(rest))
            elif line.startswith('"') and key:
                fields[key] += "".join(_unquote(m) for m in _QUOTED.findall(line))
            elif not line.startswith("#"):
                key = None
        if fields.get("msgid") and fields.get("msgstr") and not fuzzy:
            entries[fields["msgid"]] = fields["msgstr"]
    return entries


@lru_cache(maxsize=1)
def catalog():
    """The Chinese templates, ``{English template: Chinese template}``."""
    return read_po(CATALOG) if CATALOG.exists() else {}
