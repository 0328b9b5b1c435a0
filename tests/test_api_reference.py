"""The API reference (book/api/): every public module of the package, layer by layer, its
plain-text docstrings rendered as documentation by tools/sphinx_docstrings.py.

The math blocks' transform is tested in test_api_math.py.
"""

import importlib
import importlib.util
import inspect
import io
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docutils.core import publish_doctree
from sphinx.util.docstrings import prepare_docstring

import lstm_lessons

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("cells", "pytorch", "training", "experiments", "plotting", "homework")


def _public_modules(package_name, path):
    names = [package_name]
    for info in pkgutil.iter_modules([str(path)]):
        if not info.name.startswith("_"):
            sub = path / info.name
            if info.ispkg:
                names += _public_modules(f"{package_name}.{info.name}", sub)
            else:
                names.append(f"{package_name}.{info.name}")
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_every_public_module_has_its_automodule(layer):
    page = (ROOT / "book" / "api" / f"{layer}.md").read_text(encoding="utf-8")
    path = Path(lstm_lessons.__file__).parent / layer
    missing = [
        name
        for name in _public_modules(f"lstm_lessons.{layer}", path)
        if f".. automodule:: {name}\n" not in page
    ]
    assert not missing, f"book/api/{layer}.md lacks {missing}"


def test_every_layer_page_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for layer in LAYERS:
        assert f"- file: book/api/{layer}\n" in toc
    assert "- file: book/api/index\n" in toc


# The rendering of the package's plain-text docstrings (tools/sphinx_docstrings.py)

_spec = importlib.util.spec_from_file_location(
    "sphinx_docstrings", ROOT / "tools" / "sphinx_docstrings.py"
)
ext = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ext)


def parsed(rendered):
    """The doctree docutils makes of the extension's reST, and the warnings it gave."""
    messages = io.StringIO()
    tree = publish_doctree(
        "\n".join(rendered),
        settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": messages},
    )
    return tree, messages.getvalue()


def blocks(lines):
    """(kind, text) of each top-level block of a rendered docstring; it parses without warnings."""
    tree, messages = parsed(ext.render(lines))
    assert messages == ""
    return [(n.tagname, n.astext()) for n in tree.children]


def test_prose_is_text_with_its_inline_markup():
    lines = [
        r"The cell keeps ``c``, *the* state; |c| <= 1, \odot is a product, and so is *: a",
        "sentence over two lines.",
    ]
    tree, messages = parsed(ext.render(lines))
    assert messages == ""
    [paragraph] = tree.children
    assert paragraph.tagname == "paragraph"
    assert paragraph.astext() == "\n".join(lines).replace("``", "").replace("*the*", "the")
    assert [n.tagname for n in paragraph.children if n.tagname != "#text"] == [
        "literal",
        "emphasis",
    ]
    # Roles are kept for Sphinx, their targets untouched.
    assert ext.render(["See :func:`~lstm_lessons.cells.lstm.lstm_forward` and |x|."]) == [
        r"See :func:`~lstm_lessons.cells.lstm.lstm_forward` and \|x\|."
    ]


def test_an_indented_block_is_code_with_its_columns():
    table = [
        "    sigmoid       y = 1 / (1 + exp(-x))       dy/dx = y (1 - y)",
        "    tanh          y = tanh(x)                 dy/dx = 1 - y^2",
    ]
    assert blocks(["Each function with its derivative::", "", *table, "", "After."]) == [
        ("paragraph", "Each function with its derivative:"),
        ("literal_block", "\n".join(line[4:] for line in table)),
        ("paragraph", "After."),
    ]
    # Right under a line of text (no blank line), and inside a list item.
    assert blocks(["The update", "    c = f * c_prev + i * g", "is linear in c."]) == [
        ("paragraph", "The update"),
        ("literal_block", "c = f * c_prev + i * g"),
        ("paragraph", "is linear in c."),
    ]
    tree, _ = parsed(ext.render(["- an item:", "", "      a = b", "", "- another"]))
    [bullets] = tree.children
    assert [n.tagname for n in bullets[0].children] == ["paragraph", "literal_block"]


def test_a_literal_in_a_code_block_loses_its_backticks_not_its_column():
    lines = [
        "Requests:",
        "",
        '    ``get``     a name of the notebook, e.g. ``grader.check("q1")`` in it',
        "    ``exit``    end at once",
        "    :func:`~lstm_lessons.cells.lstm.lstm_forward`          the engine",
        "    :class:`the model <lstm_lessons.training.model.SequenceModel>`  its model",
    ]
    kind, code = blocks(lines)[1]
    rows = code.splitlines()
    assert kind == "literal_block"
    assert [re.split(r"  +", row) for row in rows] == [
        ["get", 'a name of the notebook, e.g. grader.check("q1") in it'],
        ["exit", "end at once"],
        ["lstm_forward", "the engine"],
        ["the model", "its model"],
    ]
    # Each row's second column starts where it started in the source.
    for source, row in zip(lines[2:], rows, strict=True):
        assert re.search("  +", row).end() == re.search("  +", source.strip()).end()


def test_lists_follow_restructuredtext():
    lines = [
        "Three points:",
        "",
        "- one, over",
        "  two lines;",
        "- two;",
        "1. three",
        "After the list, a paragraph whose literal ``|a|",
        "+ |b|`` starts a line with a plus sign.",
    ]
    tree, messages = parsed(ext.render(lines))
    assert messages == ""
    kinds = [(n.tagname, len(n.children)) for n in tree.children]
    assert kinds == [("paragraph", 1), ("bullet_list", 2), ("enumerated_list", 1), ("paragraph", 3)]
    assert tree.children[1][0].astext() == "one, over\ntwo lines;"
    # One paragraph, its literal whole: a marker that continues a line of text is text.
    assert tree.children[3].astext() == (
        "After the list, a paragraph whose literal |a|\n+ |b| starts a line with a plus sign."
    )


def test_a_table_whose_rows_wrap_is_code():
    lines = [
        "3. answers requests:",
        "",
        "   ``get``   what a name holds: a function or a",
        "             value;",
        "   ``exit``  end at once.",
        "",
        "Then it stops.",
    ]
    tree, messages = parsed(ext.render(lines))
    assert messages == ""
    item = tree.children[0][0]
    assert item[1].tagname == "literal_block"
    assert item[1].astext() == (
        "get       what a name holds: a function or a\n          value;\nexit      end at once."
    )


class _Module:
    __doc__ = "The layers.\n\n    cells   the NumPy cells\n    wide    E models side by side\n"


def test_a_module_table_keeps_the_indentation_autodoc_takes_away():
    lines = prepare_docstring(_Module.__doc__)
    assert lines[2].startswith("cells")  # autodoc's dedent
    ext._process(None, "module", "m", _Module, {}, lines)
    tree, messages = parsed(lines)
    assert [n.tagname for n in tree.children] == ["paragraph", "literal_block"]


def test_a_docstring_inherited_from_torch_keeps_its_text_without_its_roles():
    from lstm_lessons.pytorch.cells import LSTM

    name = "lstm_lessons.pytorch.cells.LSTM.forward"
    lines = prepare_docstring(inspect.getdoc(LSTM.forward))
    assert any(":class:`Module`" in line for line in lines)  # torch's, relative to torch
    ext._process(None, "method", name, LSTM.forward, {}, lines)
    assert not any(":class:" in line for line in lines)
    assert any("``Module``" in line for line in lines)
    # A docstring of the package's own is rendered.
    from lstm_lessons.training.model import SequenceModel

    name, method = "lstm_lessons.training.model.SequenceModel.run_numpy", SequenceModel.run_numpy
    own = ["Step.", "", "    a = b", ""]
    ext._process(None, "method", name, method, {}, own)
    assert ".. code:: text" in own


# The reference built by Sphinx, as the book builds it (-n -W): the eval-rst blocks of
# book/api/*.md (their automodules; the pages' Markdown links to chapters are left out), a
# page of roles that must resolve, and one of roles that must fail the build.

API_PAGES = sorted(path.stem for path in (ROOT / "book" / "api").glob("*.md"))
EVAL_RST = re.compile(r"^```\{eval-rst\}\n(.*?)^```", re.M | re.S)
ROLES_PAGE = """\
Roles
=====

Outside the package: :class:`numpy.ndarray`, :class:`float`, :func:`numpy.tanh`.
Imported from the module that documents it: :func:`lstm_lessons.cells.lstm.tanh_grad`.
Of the package, not documented: :func:`lstm_lessons.cells.activations._sigmoid_floor`,
and a field that a class declares by annotation: :attr:`lstm_lessons.training.loop.History.loss`.
"""
# Names that name nothing: each must be reported (and -W then fails the build).
MISSING = (
    "lstm_lessons.cells.activations.no_such_function",
    "lstm_lessons.training.loop.History.no_such_field",
    "numpy.NoSuchClass",
    "not_a_module.f",
)
BROKEN_PAGE = "Broken\n======\n\n" + "\n".join(f":func:`{name}`" for name in MISSING) + "\n"
CONF = f"""\
import sys
sys.path.insert(0, {str(ROOT / "tools")!r})
extensions = ["sphinx_docstrings"]
project = "api"
"""


def sphinx_build(src, out):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "sphinx", "-E", "-q", "-n", "-W", "--keep-going"]
    return subprocess.run(
        [*command, "-b", "html", str(src), str(out)], env=env, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    src = tmp_path_factory.mktemp("api_src")
    (src / "api").mkdir()
    for name in API_PAGES:
        page = (ROOT / "book" / "api" / f"{name}.md").read_text(encoding="utf-8")
        rst = "".join(EVAL_RST.findall(page))
        (src / "api" / f"{name}.rst").write_text(f"{name}\n{'=' * len(name)}\n\n{rst}", "utf-8")
    (src / "roles.rst").write_text(ROLES_PAGE, encoding="utf-8")
    (src / "broken.rst").write_text(BROKEN_PAGE, encoding="utf-8")
    pages = [*(f"api/{n}" for n in API_PAGES), "roles", "broken"]
    toctree = "\n".join(f"   {page}" for page in pages)
    (src / "index.rst").write_text(f"API\n===\n\n.. toctree::\n\n{toctree}\n", encoding="utf-8")
    (src / "conf.py").write_text(CONF, encoding="utf-8")
    out = tmp_path_factory.mktemp("api_html")
    return sphinx_build(src, out), out


def page_text(out, page):
    """The text of a page's main part, and the text of its code blocks."""
    html = (out / f"{page}.html").read_text(encoding="utf-8")
    main = html[html.index('role="main"') :]
    code = "".join(re.findall(r"<pre>(.*?)</pre>", main, re.S))
    return re.sub(r"<[^>]+>", "", main), re.sub(r"<[^>]+>", "", code), main


def test_the_reference_builds_without_a_warning(built):
    result, _ = built
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    # Every warning is one of the broken page's, so the API pages and the roles page are clean.
    assert all("broken.rst" in line for line in warnings), result.stderr[-3000:]


def test_a_role_to_a_name_that_does_not_exist_fails_the_build(built):
    result, _ = built
    assert result.returncode != 0
    found = re.findall(r"broken\.rst:\d+: WARNING: py:func reference target not found: (\S+)",
                       result.stderr)
    assert sorted(found) == sorted(MISSING)


@pytest.mark.parametrize("page", [f"api/{name}" for name in API_PAGES])
def test_no_markup_reaches_the_reader(built, page):
    _, out = built
    text, _, _ = page_text(out, page)
    assert not re.findall(r":[a-z]+:`", text)  # a role left as text, code blocks included
    assert "``" not in text


def test_docstrings_read_as_documentation(built):
    _, out = built
    text, code, html = page_text(out, "api/cells")
    # Paragraphs, not one preformatted block per docstring.
    assert "NumPy cells, forward beside backward" not in code
    # The aligned table of the activations, column for column.
    doc = importlib.import_module("lstm_lessons.cells.activations").__doc__
    rows = [line[4:] for line in doc.splitlines() if line.startswith("    sigmoid ")]
    assert rows and rows[0] in code
    # Typeset math, the attention block's backward pass (three groups of rows) included.
    maths = re.findall(r'<div class="math[^"]*">(.*?)</div>', html, re.S)
    assert any(r"\mathrm{d}z_1" in m and r"\mathrm{d}z_2" in m for m in maths)


def test_a_role_links_to_the_object_that_python_finds_there(built):
    _, out = built
    # lstm_lessons.experiments.cell_state imports carousel_gradients from cells.bptt, which
    # the reference documents: its docstring's :func:`carousel_gradients` links there.
    _, _, html = page_text(out, "api/experiments")
    assert 'href="cells.html#lstm_lessons.cells.bptt.carousel_gradients"' in html


def test_a_role_outside_the_package_or_to_an_undocumented_name_is_a_literal(built):
    _, out = built
    _, _, html = page_text(out, "roles")
    undocumented = "lstm_lessons.cells.activations._sigmoid_floor()"
    field = "lstm_lessons.training.loop.History.loss"
    for name in ("numpy.ndarray", "float", "numpy.tanh()", undocumented, field):
        assert re.search(rf'<code class="xref[^"]*"><span class="pre">{re.escape(name)}', html)
        assert not re.search(rf"<a [^>]*><code[^>]*><span class=\"pre\">{re.escape(name)}<", html)
    assert 'href="api/cells.html#lstm_lessons.cells.activations.tanh_grad"' in html
