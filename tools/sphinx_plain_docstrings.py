"""Sphinx extension: show the package's docstrings as written, in monospace.

The docstrings of ``lstm_lessons`` are plain text, not reStructuredText: their equations are
written in the code's own symbols (``c = f * c_prev + i * g``), aligned in columns, with
``|x|`` for magnitudes. Parsed as reST, those turn into substitutions, emphasis and block
quotes; shown as a literal block, the API reference reads exactly like the source.
"""


def _literal(app, what, name, obj, options, lines):
    if lines:
        lines[:] = ["::", "", *("    " + line for line in lines), ""]


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-docstring", _literal)
    app.config.autodoc_typehints = "none"
    return {"parallel_read_safe": True, "parallel_write_safe": True}
