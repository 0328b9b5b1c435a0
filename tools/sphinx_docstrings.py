r"""Sphinx extension: the package's docstrings, written for ``help()``, shown as documentation.

The docstrings of ``lstm_lessons`` are plain text with reST's inline markup: paragraphs that
use ``literals``, roles such as ``:func:`name``` and **bold**, bullet lists, and blocks indented
under the text (equations in the code's own symbols, tables and shape listings) whose columns
are aligned by spaces::

    c = f * c_prev + i * g          cell state
    h = o * tanh(c)                 hidden state

:func:`render` turns such a docstring into reST that reads as documentation:

- Prose stays reST: paragraphs flow, roles link, ``literals`` are inline code, lists are lists.
  Outside inline markup, ``|`` and ``\`` are escaped, and so is a ``*`` that stands alone
  before punctuation, so that ``|x|`` is a magnitude, not a substitution, and ``\odot`` or
  "the element-wise *:" in a sentence is shown as written.
- A block indented deeper than the text around it becomes a ``code:: text`` block (a plain
  ``::`` block would highlight the prose's "with", "for" and "in" as Python keywords), so that
  its alignment survives; a ``::`` that ends the paragraph before it is dropped, as reST does.
  So does a table whose rows wrap: lines in columns with deeper lines right under them. In a
  code block, inline literals lose their backticks, and the next column keeps its place.
- A ``.. math::`` block of TeX, the NumPy-docs form that also reads well in ``help()``::

      .. math::

          i_t = \sigma(a_t^i)
          c_t = f_t \odot c_{t-1} + i_t \odot g_t

  (a line ``.. math::``, then lines indented deeper than it, one equation per line, up to the
  first line indented no deeper; blank lines may separate groups) becomes a ``math``
  directive, which MathJax typesets. Sphinx shows the equations of one directive as
  rows of ``align``, which, without an ``&``, sets each row flush right. So, unless the author
  placed an ``&`` somewhere in the block, each row gets one before its first relation outside
  braces (``=``, ``\approx``, ``\le``, ``\ge``), and a row without one starts at that column.
  A ``.. math::`` line with nothing indented under it is shown as written, in a code block.
- Any other directive (``.. note::``) and its indented body are left as they are.

A module docstring whose lines after the summary are all indented (a table of the package's
modules) loses that indentation to autodoc's dedent; it is put back, so the table is a table.
A docstring that a class inherits from outside the package (``torch.nn.Module.forward``'s) is
reST already and is left alone, except that its roles, which name torch's objects relative to
torch's modules, become inline literals.

A role that Sphinx cannot resolve among the documented names is looked up as Python would
where it is written (:func:`lookup`): ``:class:`SequenceModel``` in a module that imports it
links to the class where the reference documents it. A role to an object outside the
package (``:class:`torch.nn.LSTM```, ``:class:`float```), which cannot resolve without
intersphinx inventories, or to an object of the package that the reference does not document
(a private helper, a constant without a doc comment) is shown as an inline literal, without a
warning. A role to a name that names nothing there (a typo, a renamed function) is still
reported, so the strict build (``-n -W``) fails on it.
"""

import builtins
import importlib
import inspect
import re
import sys

# A relation to align rows at: "=" (not part of "<=", ">=", "!="), or \approx, \le(q), \ge(q).
_RELATION = re.compile(r"(?<![<>!\\])=|\\(?:approx|leq?|geq?)(?![a-zA-Z])")
# A bullet or enumerated list item: its marker and the spaces up to its text.
_LIST_ITEM = re.compile(r"(?:[-*+]|\d+[.)]|\(\d+\)) +(?=\S)")
# Inline markup whose text is left as written: ``literals``, roles and `interpreted text`.
_INLINE = re.compile(r"``.+?``|(?::[\w.:+-]+:)?`[^`]+`(?::[\w.:+-]+:|__?)?", re.S)
# A "*" that would open emphasis but stands for itself ("the element-wise *: ...").
_LONE_STAR = re.compile(r"(?<![^\s(\[{])\*(?=[)\]}:;,.!?'\"]|$)", re.M)
_ROLE = re.compile(r":[\w.:+-]+:`~?!?([^`]+)`")
# An inline literal or a role in a code block, shown as plain text there.
_CODE_MARKUP = re.compile(r"``(?P<literal>[^`]+)``|:[\w.:+-]+:`(?P<target>[^`]+)`")
_COLUMN_GAP = re.compile(r"  +")
_COLUMNS = re.compile(r"\S {2,}\S")


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
    n, tex = start + 1, []
    while n < len(lines) and (not lines[n].strip() or _indent(lines[n]) > indent):
        if lines[n].strip():
            tex.append(lines[n].strip())
            end = n + 1
        n += 1
    return tex, end if tex else start + 1


def _starts_math(lines, n):
    """Whether ``lines[n]`` is a ``.. math::`` line with TeX indented under it."""
    return lines[n].strip() == ".. math::" and bool(_math_block(lines, n)[0])


def _math_directive(tex, at):
    """A ``math`` directive at indentation ``at``, one row per equation."""
    if len(tex) > 1 and not any("&" in eq for eq in tex):
        tex = [_align(eq) for eq in tex]
    # A blank line between equations makes each one a row of its own.
    pad = " " * at
    return [f"{pad}.. math::", *(row for eq in tex for row in ("", f"{pad}   {eq}")), ""]


def _plain(match):
    """The text a reader sees for an inline literal or a role: ``x`` -> x, :func:`~a.f` -> f."""
    if match.group("literal") is not None:
        return match.group("literal")
    text = match.group("target")
    titled = re.fullmatch(r"(.*?)\s*<[^<>]+>", text, re.S)
    if titled:
        return titled.group(1)
    text = text.lstrip("!")
    return text.lstrip("~").rsplit(".", 1)[-1] if text.startswith("~") else text


def _unquote_literals(line):
    """A code line with ``x`` shown as x (a role as its name), the next column in its place."""
    out, owed, last = [], 0, 0
    for match in _CODE_MARKUP.finditer(line):
        plain = _plain(match)
        out += [line[last : match.start()], plain]
        owed, last = owed + len(match.group()) - len(plain), match.end()
        gap = _COLUMN_GAP.search(line, last)
        next_match = _CODE_MARKUP.search(line, last)
        if gap and (next_match is None or gap.start() < next_match.start()):
            out += [line[last : gap.end()], " " * owed]
            owed, last = 0, gap.end()
    out.append(line[last:])
    return "".join(out).rstrip()


def _code_block(block, at):
    """A ``code:: text`` block at indentation ``at`` of lines, keeping their relative indent."""
    margin = min(_indent(line) for line in block if line.strip())
    pad = " " * (at + 4)
    body = [pad + _unquote_literals(line[margin:]) if line.strip() else "" for line in block]
    while body and not body[-1]:
        body.pop()
    return [" " * at + ".. code:: text", "", *body, ""]


def _escape_text(text):
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return _LONE_STAR.sub(r"\\*", text)


def _escape(text):
    r"""Prose with ``\``, ``|`` and a lone ``*`` escaped outside inline markup."""
    parts, last = [], 0
    for match in _INLINE.finditer(text):
        parts += [_escape_text(text[last : match.start()]), match.group()]
        last = match.end()
    return "".join([*parts, _escape_text(text[last:])])


def _separate(out):
    """A blank line at the end of ``out`` (a directive must not follow text directly)."""
    if out and out[-1].strip():
        out.append("")


def _drop_literal_marker(out):
    """A paragraph's ``::`` before a block that is now a directive: ``text::`` -> ``text:``."""
    n = len(out) - 1
    while n >= 0 and not out[n].strip():
        n -= 1
    if n >= 0 and out[n].rstrip().endswith("::") and not out[n].lstrip().startswith(".."):
        line = out[n].rstrip()
        if line.strip() == "::":
            out[n] = ""
        elif line[-3] in " \t":
            out[n] = line[:-3].rstrip()
        else:
            out[n] = line[:-1]


def render(lines):
    """reST for a plain-text docstring (see the module's docstring), as a list of lines."""
    out = []
    level = 0  # the indentation of the text a line may continue: 0, or a list item's text
    n = 0
    while n < len(lines):
        line = lines[n]
        if not line.strip():
            out.append("")
            n += 1
            continue
        ind, stripped = _indent(line), line.strip()
        if _starts_math(lines, n):
            tex, end = _math_block(lines, n)
            level = min(ind, level)
            _separate(out)
            out += _math_directive(tex, level)
            n = end
            continue
        if stripped == ".. math::" and ind <= level:  # nothing under it: shown as written
            level = ind
            _separate(out)
            out += _code_block([line], level)
            n += 1
            continue
        if stripped.startswith(".. ") and ind <= level:
            # Another directive (or a math directive with its TeX on the line): as written.
            end = n + 1
            while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > ind):
                end += 1
            level = ind
            _separate(out)
            out += [*lines[n:end], ""]
            n = end
            continue
        if ind > level:
            # A block indented under the text: a code block, up to the first line no deeper
            # than the text (or a math block, which is typeset).
            end = n + 1
            while end < len(lines) and (
                not lines[end].strip()
                or (_indent(lines[end]) > level and not _starts_math(lines, end))
            ):
                end += 1
            _drop_literal_marker(out)
            _separate(out)
            out += _code_block(lines[n:end], level)
            n = end
            continue
        # A paragraph, or a list item: its lines up to a blank line, a line at another
        # indentation or a directive. As in reST, a marker that continues a paragraph
        # ("... the update is\n+ (1 - f) * g") is text; one that starts a block is an item.
        item = _LIST_ITEM.match(stripped)
        if ind < level and out and out[-1].strip():
            out.append("")  # reST needs a blank line after a list
        level = ind + (item.end() if item else 0)
        end = n + 1
        while (
            end < len(lines)
            and lines[end].strip()
            and _indent(lines[end]) == level
            and not lines[end].strip().startswith(".. ")
        ):
            end += 1
        if (
            not item
            and _COLUMNS.search(stripped)
            and end < len(lines)
            and lines[end].strip()
            and _indent(lines[end]) > level
        ):
            # Columns, and lines indented deeper right under them: a table whose rows wrap
            # ("``get``   what ...\n          value ..."), not prose. The whole block is code.
            while end < len(lines) and lines[end].strip() and _indent(lines[end]) >= level:
                end += 1
            _drop_literal_marker(out)
            _separate(out)
            out += _code_block(lines[n:end], level)
            n = end
            continue
        paragraph = _escape("\n".join(lines[n:end]))
        out += paragraph.split("\n")
        n = end
    return out


def _inherited_from_outside(what, name, obj):
    """Whether autodoc's docstring of a method is inherited from a class outside the package."""
    if what not in ("method", "function", "property") or getattr(obj, "__doc__", None):
        return False
    module_name, _, rest = name.rpartition(".")
    owner = None
    while module_name:
        owner_path = rest.split(".")[:-1]
        module = sys.modules.get(module_name)
        if module is not None and owner_path:
            owner = module
            for part in owner_path:
                owner = getattr(owner, part, None)
            break
        module_name, _, head = module_name.rpartition(".")
        rest = f"{head}.{rest}"
    if not inspect.isclass(owner):
        return False
    attr = name.rpartition(".")[2]
    for base in owner.__mro__[1:]:
        member = vars(base).get(attr)
        if member is not None and getattr(member, "__doc__", None):
            return not base.__module__.startswith("lstm_lessons")
    return False


def _restore_module_indent(obj, lines):
    """Lines after the summary with the indentation that autodoc's dedent took away."""
    raw = (getattr(obj, "__doc__", None) or "").expandtabs().splitlines()
    if len(raw) < 2 or not raw[0].strip():
        return lines
    margin = min((_indent(line) for line in raw[1:] if line.strip()), default=0)
    return lines[:1] + [" " * margin + line if line.strip() else line for line in lines[1:]]


def _process(app, what, name, obj, options, lines):
    if not lines:
        return
    if _inherited_from_outside(what, name, obj):
        lines[:] = [_ROLE.sub(r"``\1``", line) for line in lines]
        return
    if what == "module":
        lines[:] = _restore_module_indent(obj, lines)
    lines[:] = render(lines)


_MISSING = object()


# An attribute that a class declares by annotation only (a dataclass field without a default):
# it exists, but has no object to link to.
_DECLARED = object()


def _getattr_path(obj, dotted):
    for part in dotted.split("."):
        found = getattr(obj, part, _MISSING)
        if found is _MISSING and inspect.isclass(obj):
            declared = any(part in vars(c).get("__annotations__", {}) for c in obj.__mro__)
            found = _DECLARED if declared else _MISSING
        obj = found
        if obj is _MISSING:
            break
    return obj


def _absolute(target):
    """The object of a dotted name from an imported module (a package module is imported)."""
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        module = sys.modules.get(name)
        if module is None and parts[0] == "lstm_lessons":
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
        if module is not None:
            return _getattr_path(module, ".".join(parts[cut:])) if cut < len(parts) else module
    return _MISSING


def lookup(target, scopes=()):
    """The object ``target`` names where the role is written, as Python would find it.

    Tried in order: an attribute of each of ``scopes`` (the class and the module the role is
    written in; imported names count, so ``:class:`SequenceModel``` in a module that imports
    it is that class), a dotted name from an imported module, a builtin. ``_MISSING`` if none.
    """
    for scope in scopes:
        obj = _getattr_path(scope, target)
        if obj is not _MISSING:
            return obj
    obj = _absolute(target)
    return vars(builtins).get(target, _MISSING) if obj is _MISSING else obj


def _scopes(node):
    """Where a role's name is looked up: the class and module that document it, and, for a
    docstring shown under another module than its own (a name in ``__all__`` imported from
    a submodule), the classes and module of the object's own name, from autodoc's source."""
    scopes = []
    module = sys.modules.get(node.get("py:module") or "")
    if module is not None:
        if node.get("py:class"):
            scopes.append(_getattr_path(module, node["py:class"]))
        scopes.append(module)
    own = re.search(r"docstring of (\S+)$", node.source or "")
    if own:
        parts = own.group(1).split(".")
        for cut in range(len(parts) - 1, 0, -1):
            obj = _absolute(".".join(parts[:cut]))
            if inspect.isclass(obj) or inspect.ismodule(obj):
                scopes.append(obj)
    return [scope for scope in scopes if scope is not _MISSING]


def home(obj):
    """The dotted name a module, class or function is defined under (None for other objects)."""
    if inspect.ismodule(obj):
        return obj.__name__
    obj = getattr(obj, "__func__", obj)
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and "<" not in qualname:
        return f"{module}.{qualname}"
    return None


def _missing_reference(app, env, node, contnode):
    """A role that Sphinx could not resolve by its documented names, resolved as Python would.

    Linked to the object's entry if the name, looked up where the role is written, is an
    object that the reference documents under another name (imported from another module);
    shown as an inline literal if it is an object outside the package, or one of the package
    that the reference does not document; reported (so the strict build fails) if no such
    object exists.
    """
    if node.get("refdomain") != "py":
        return None
    obj = lookup(node.get("reftarget", ""), _scopes(node))
    if obj is _MISSING:
        return None
    domain = env.get_domain("py")
    name = home(obj)
    if name and name in domain.objects:
        return domain.resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], name, node, contnode
        )
    return contnode


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-docstring", _process)
    app.connect("missing-reference", _missing_reference)
    app.config.autodoc_typehints = "none"
    return {"parallel_read_safe": True, "parallel_write_safe": True}
