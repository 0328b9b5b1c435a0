"""Sphinx extension: the book in two languages, from one source.

The Chinese edition is the English book built again with ``language: zh_CN`` and the catalogs in
``locales/`` (``tools/editions.py`` writes its configuration; ``tools/translations.py`` keeps the
catalogs). This extension does three things the stock tools do not:

- **Numbers in translated paragraphs.** myst-nb's ``{glue}`` roles look their value up in the
  notebook being parsed, but Sphinx parses a translated paragraph as a document of its own, where
  that lookup fails. The renderer of the page being read is remembered, and a lookup from a
  translated paragraph is answered from it: the Chinese page shows the numbers the English page
  shows, from the same executed notebook.
- **Glued values that are words.** A value glued as English text ("0.0255 to 0.0397", "none",
  "significantly worse") is rewritten by the rules of ``lstm_lessons_glued_values``
  (``locales/zh_CN/glued_values.yml``); a value that keeps English words after them is a warning.
- **A language link on every page** (``lstm_lessons_other_language``): a button in the header and
  a line above the page's text lead to the same page in the other edition, and the page names
  its twin for search engines (``<link rel="alternate" hreflang>``).
- **The offline bundle** (``lstm_lessons_bundle``, written by ``tools/bundle.py``): an entry in
  every page's download menu.
- **No page half in English** (``lstm_lessons_require_translation``, set for the Chinese edition):
  every paragraph, heading, caption and list item that has words to translate must have come out
  of its catalog; one that did not (never translated, or its English changed since) is a warning,
  which ``-W`` makes an error. The API reference, built from the package's docstrings, stays in
  English.
"""

import dataclasses
import html
import json
import re
import sys
from functools import lru_cache
from pathlib import Path

import yaml
from docutils import nodes
from sphinx.util import logging
from sphinx.util.nodes import extract_messages

sys.path.insert(0, str(Path(__file__).resolve().parent))
import translations  # noqa: E402

logger = logging.getLogger(__name__)
_CJK = re.compile("[\u4e00-\u9fff]")

# The myst-nb renderer of the notebook page read last (a process reads one page at a time).
_RENDERERS = []


def _remember_renderers():
    """Wrap myst-nb so that the renderer of each notebook page is kept while it is read."""
    import myst_nb.sphinx_ as nb_sphinx

    if getattr(nb_sphinx.load_renderer, "_lstm_lessons", False):
        return
    load_renderer = nb_sphinx.load_renderer

    def remembering(name):
        make = load_renderer(name)

        def create(mdit_renderer, logger_):
            renderer = make(mdit_renderer, logger_)
            _RENDERERS[:] = [renderer]
            return renderer

        return create

    remembering._lstm_lessons = True
    nb_sphinx.load_renderer = remembering


def _answer_translated_lookups():
    """Let ``retrieve_glue_data`` answer from the page's renderer in a translated paragraph."""
    from myst_nb.ext.glue import directives, roles, utils

    if getattr(utils.retrieve_glue_data, "_lstm_lessons", False):
        return
    retrieve = utils.retrieve_glue_data

    def retrieve_glue_data(document, key):
        env = getattr(document.settings, "env", None)
        if "nb_renderer" not in document:
            renderer = _renderer_of(env)
            if renderer is not None:
                document["nb_renderer"] = renderer
                try:
                    return _say(retrieve(document, key), key, env)
                finally:
                    del document["nb_renderer"]
        return _say(retrieve(document, key), key, env)

    retrieve_glue_data._lstm_lessons = True
    for module in (utils, roles, directives):
        module.retrieve_glue_data = retrieve_glue_data


def _renderer_of(env):
    """The remembered renderer, if it is the one of the page ``env`` is reading."""
    if env is None or not _RENDERERS:
        return None
    renderer = _RENDERERS[0]
    try:
        docname = renderer.renderer.document.settings.env.docname
    except AttributeError:
        return None
    return renderer if docname == env.docname else None


@lru_cache(maxsize=4)
def _rules(path):
    rules = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    return [(re.compile(pattern), replacement) for pattern, replacement in rules]


def say_glued(text, rules):
    """``text`` rewritten by ``rules`` (``[(pattern, replacement)]``), in order."""
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


# Lower-case words a glued value may keep: the names of the cell variants, and of libraries.
def _names():
    from lstm_lessons import VARIANT_NAMES

    return {*VARIANT_NAMES, "torch", "numpy", "cpu", "e"}


def english_words(text):
    """The English words left in a glued value (variant and library names are not)."""
    words = re.findall(r"(?<![A-Za-z0-9_])[a-z]{2,}(?![A-Za-z0-9_])", text)
    return [w for w in words if w not in _names()]


def _say(output, key, env):
    """A glued text value as the Chinese edition says it (see ``say_glued``)."""
    config = getattr(env, "config", None) if env is not None else None
    path = getattr(config, "lstm_lessons_glued_values", None)
    text = output.data.get("text/plain") if path else None
    if not isinstance(text, str) or len(output.data) != 1:
        return output
    quote = text[:1] if text[:1] in "'\"" and text[-1:] == text[:1] else ""
    inner = text[len(quote) : len(text) - len(quote)]
    said = say_glued(inner, _rules(path))
    left = english_words(said)
    if left:
        logger.warning(
            f"the glued value {key!r} keeps English words in Chinese: {said!r} "
            f"({', '.join(left)}); add a rule to {path}",
            type="lstm_lessons",
            subtype="glued",
        )
    data = {**output.data, "text/plain": quote + said + quote}
    return dataclasses.replace(output, data=data)


def _is_english_only(docname):
    return docname.startswith(translations.ENGLISH_ONLY)


def check_translated(app, doctree):
    """Warn about each paragraph of the page that has no current translation."""
    if not app.config.lstm_lessons_require_translation:
        return
    docname = app.env.docname
    if _is_english_only(docname):
        return
    glossary = translations.all_glossary_names() if docname == "book/glossary" else set()
    missing = []
    for node, message in extract_messages(doctree):
        if node.get("translated") or isinstance(node, (nodes.term, nodes.math_block)):
            continue
        # Sphinx never marks a translated image as such; its alt text is what it says.
        if isinstance(node, nodes.image) and _CJK.search(message):
            continue
        if message.lower() in glossary or not translations.needs_translation(message):
            continue
        missing.append((node, message))
    catalog = f"locales/{translations.LOCALE}/LC_MESSAGES/{docname}.po"
    for node, message in missing:
        logger.warning(
            f"not translated, or its English changed since it was: {message[:70]!r} "
            f"(translate it in {catalog}; `python tools/translations.py update` marks what "
            "changed, `check` lists it)",
            location=node,
            type="lstm_lessons",
            subtype="untranslated",
        )


def _other(app, pagename):
    other = app.config.lstm_lessons_other_language
    if not other:
        return None
    depth = pagename.count("/")
    return other, "../" * depth + other["prefix"] + pagename + ".html"


def add_language_link(app, pagename, templatename, context, doctree):
    """A header button and a line above the text, to the same page in the other edition."""
    found = _other(app, pagename)
    if found is None or doctree is None:
        return
    other, url = found
    label = other["label"]
    # A "link" button would open a new tab; the other edition replaces this page instead.
    context.setdefault("header_buttons", []).append(
        {
            "type": "javascript",
            "javascript": f"window.location.href={json.dumps(url)}",
            "text": label,
            "tooltip": other.get("tooltip", label),
            "icon": "fas fa-language",
            "label": "language-button",
        }
    )
    link = (
        f'<p class="lstm-language-link"><a href="{html.escape(url)}" '
        f'hreflang="{html.escape(other["lang"])}" lang="{html.escape(other["lang"])}">'
        f"{html.escape(other.get('line', label))}</a></p>\n"
    )
    context["body"] = link + context.get("body", "")
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{html.escape(other["lang"])}" '
        f'href="{html.escape(url)}" />'
    )


class _Terms(set):
    """A set that takes ``extend``: what Sphinx's Chinese search keeps its Latin words in."""

    def extend(self, words):
        self.update(words)


def _fast_chinese_search():
    """Sphinx 7.4's Chinese search keeps every Latin word of the book in a list and looks each
    new word up in it, so that indexing takes time quadratic in the book's length (minutes for
    this book); a set gives the same index at once."""
    from sphinx.search import zh

    if isinstance(zh.SearchChinese.latin_terms, _Terms):
        return
    init = zh.SearchChinese.init

    def init_with_set(self, options):
        init(self, options)
        self.latin_terms = _Terms()

    zh.SearchChinese.latin_terms = _Terms()
    zh.SearchChinese.init = init_with_set


def _patch_for_translations(app, config):
    if config.language and not config.language.startswith("en"):
        _remember_renderers()
        _answer_translated_lookups()
    if config.html_search_language == "zh" or (config.language or "").startswith("zh"):
        _fast_chinese_search()


def add_bundle_link(app, pagename, templatename, context, doctree):
    """An entry in the page's download menu: every notebook, both languages, in one zip."""
    bundle = app.config.lstm_lessons_bundle
    if not bundle or doctree is None:
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].append(
                {
                    "type": "link",
                    "url": "../" * pagename.count("/") + bundle,
                    "text": ".zip",
                    "tooltip": app.config.lstm_lessons_bundle_tooltip,
                    "icon": "fas fa-file-archive",
                    "label": "download-bundle-button",
                }
            )


def setup(app):
    app.add_config_value("lstm_lessons_other_language", None, "html")
    app.add_config_value("lstm_lessons_require_translation", False, "env")
    app.add_config_value("lstm_lessons_glued_values", None, "env")
    app.add_config_value("lstm_lessons_bundle", None, "html")
    app.add_config_value("lstm_lessons_bundle_tooltip", "All notebooks (.zip)", "html")
    app.connect("config-inited", _patch_for_translations)
    app.connect("doctree-read", check_translated)
    # After the theme's own buttons (priority 501), so that the language comes last.
    app.connect("html-page-context", add_language_link, priority=502)
    app.connect("html-page-context", add_bundle_link, priority=502)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
