r"""Sphinx extension: the package's docstrings as written, in monospace, with their math typeset.

The docstrings of ``lstm_lessons`` are plain text, not reStructuredText: their equations are
written in the code's own symbols (``c = f * c_prev + i * g``), aligned in columns, with
``|x|`` for magnitudes. Parsed as reST, those turn into substitutions, emphasis and block
quotes; shown as a literal block, the API reference reads exactly like the source.

The one exception is a TeX block in the NumPy-docs form, which also reads well in ``help()``::

    .. math::

        i_t = \sigma(a_t^i)
        c_t = f_t \odot c_{t-1} + i_t \odot g_t

A line ``.. math::``, then (after optional blank lines) lines indented deeper than it, one
equation per line, up to the first blank line or the first line indented no deeper. That block
becomes a real ``math`` directive, so MathJax renders it; the text around it stays literal.
A ``.. math::`` line with nothing indented under it stays literal.

Sphinx shows the equations of one directive as rows of ``align``, which, without an ``&``, sets
each row flush right. So, unless the author placed an ``&`` somewhere in the block, each row
gets one before its first relation outside braces (``=``, ``\approx``, ``\le``, ``\ge``), and a
row without one starts at that column.
"""

import re

# A relation to align rows at: "=" (not part of "<=", ">=", "!="), or \approx, \le(q), \ge(q).
_RELATION = re.compile(r"(?<![<>!\\])=|\\(?:approx|leq?|geq?)(?![a-zA-Z])")


def _indent(line):
    return len(line) - len(line.lstrip(" "))


def _align(equation):
    """``equation`` with ``&`` before its first relation outside braces (or at its start)."""
    depth = 0
    for n, ch in enumerate(equation):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth == 0 and _RELATION.match(equation, n):
            return f"{equation[:n]}&{equation[n:]}"
    return f"&{equation}"


def _math_block(lines, start):
    """The TeX lines of a ``.. math::`` block at ``lines[start]`` and the index after it."""
    indent = _indent(lines[start])
    n = start + 1
    while n < len(lines) and not lines[n].strip():
        n += 1
    tex = []
    while n < len(lines) and lines[n].strip() and _indent(lines[n]) > indent:
        tex.append(lines[n].strip())
        n += 1
    return tex, n


def _literal_block(lines):
    # "code:: text", not "::": a plain "::" block is highlighted as Python, which colours
    # the prose's "with", "for" and "in" as keywords.
    if not any(line.strip() for line in lines):
        return []
    return [".. code:: text", "", *("    " + line for line in lines), ""]


def render(lines):
    """reST for a docstring: literal blocks of its text, ``math`` directives of its TeX blocks."""
    out, text, n = [], [], 0
    while n < len(lines):
        if lines[n].strip() == ".. math::":
            tex, end = _math_block(lines, n)
            if tex:
                out += _literal_block(text)
                text = []
                if len(tex) > 1 and not any("&" in eq for eq in tex):
                    tex = [_align(eq) for eq in tex]
                # A blank line between equations makes each one a row of its own.
                body = [row for eq in tex for row in ("", "   " + eq)]
                out += [".. math::", *body, ""]
                n = end
                continue
        text.append(lines[n])
        n += 1
    return out + _literal_block(text)


def _process(app, what, name, obj, options, lines):
    if lines:
        lines[:] = render(lines)


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-docstring", _process)
    app.config.autodoc_typehints = "none"
    return {"parallel_read_safe": True, "parallel_write_safe": True}
