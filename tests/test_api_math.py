"""The API reference typesets the package's equations: tools/sphinx_docstrings.py.

The extension turns a docstring's ``.. math::`` blocks of TeX into math directives (its prose
and indented blocks are tested in test_api_reference.py). These tests check the transform on
sample docstrings, and that the modules whose code is an equation carry that equation as a
well-formed math block.
"""

import ast
import importlib
import importlib.util
import inspect
import re
from pathlib import Path

import pytest
from docutils.core import publish_doctree

from lstm_lessons.cells.activations import HARD_SIGMOID_OFFSET, HARD_SIGMOID_SLOPE

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "sphinx_docstrings", ROOT / "tools" / "sphinx_docstrings.py"
)
ext = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ext)

MODULES_WITH_MATH = (
    "lstm_lessons.cells.activations",
    "lstm_lessons.cells.attention",
    "lstm_lessons.cells.bptt",
    "lstm_lessons.cells.gru",
    "lstm_lessons.cells.leaky",
    "lstm_lessons.cells.lstm",
    "lstm_lessons.cells.plain",
    "lstm_lessons.cells.rnn",
    "lstm_lessons.cells.variants",
    "lstm_lessons.pytorch.cells",
)


def nodes(rendered):
    """(kind, text) of each block docutils parses from the extension's reST."""
    tree = publish_doctree("\n".join(rendered), settings_overrides={"report_level": 5})
    return [(n.tagname, n.astext()) for n in tree.children]


def math_blocks(rendered):
    """The TeX rows of each math directive in the extension's output, ``&`` removed."""
    blocks, current = [], None
    for line in rendered:
        if line == ".. math::":
            current = []
            blocks.append(current)
        elif current is not None and line.startswith("   "):
            current.append(line.strip().replace("&", "", 1))
        elif line and current is not None:
            current = None
    return blocks


def docstrings(module_name):
    """The module's docstring and those of the functions and classes it defines, as lines."""
    module = importlib.import_module(module_name)
    defined = [
        obj
        for _, obj in inspect.getmembers(module)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module_name
    ]
    objects = [module, *defined]
    return [inspect.getdoc(obj).splitlines() for obj in objects if inspect.getdoc(obj)]


SAMPLE = [
    r"One step of the cell. Shapes: x (N, D), |x| is a norm, \odot a product, x * y too.",
    "",
    ".. math::",
    "",
    r"    i_t = \sigma(a_t^i)",
    r"    c_t = f_t \odot c_{t-1} + i_t \odot g_t",
    "",
    "In the code's symbols:",
    "",
    "    a = x @ W_x + b      (N, 4H)",
    "    h = o * tanh(c)",
    "",
]


# The transform on sample docstrings


@pytest.mark.parametrize(
    "lines",
    [
        ["One line."],
        ["Summary.", "", "    a = x @ W_x + b      (N, 4H)", "    h = o * tanh(c)", ""],
        ["Text with |x|, *stars*, `ticks` and a literal marker::", "", "    code", ""],
        ["A docstring that only mentions the directive ``.. math::`` in a sentence."],
        ["", "  indented first line", "", "", "last"],
    ],
)
def test_a_docstring_without_math_has_no_math(lines):
    rendered = ext.render(lines)
    assert not math_blocks(rendered)
    assert "math_block" not in [kind for kind, _ in nodes(rendered)]


def test_a_math_block_becomes_a_math_directive_and_the_rest_stays_text():
    rendered = ext.render(SAMPLE)
    assert nodes(rendered) == [
        ("paragraph", SAMPLE[0]),
        ("math_block", r"i_t &= \sigma(a_t^i)"),
        ("math_block", r"c_t &= f_t \odot c_{t-1} + i_t \odot g_t"),
        ("paragraph", "In the code's symbols:"),
        ("literal_block", "a = x @ W_x + b      (N, 4H)\nh = o * tanh(c)"),
    ]


def test_each_equation_is_a_row_of_its_own_with_its_tex_intact():
    rendered = ext.render(SAMPLE)
    start = rendered.index(".. math::")
    # Sphinx's math directive joins its content and splits equations at blank lines.
    assert rendered[start : start + 6] == [
        ".. math::",
        "",
        r"   i_t &= \sigma(a_t^i)",
        "",
        r"   c_t &= f_t \odot c_{t-1} + i_t \odot g_t",
        "",
    ]
    assert math_blocks(rendered) == [[SAMPLE[4].strip(), SAMPLE[5].strip()]]


@pytest.mark.parametrize(
    ("tex", "aligned"),
    [
        (r"a = b", r"a &= b"),
        (r"\frac{x = y}{2} = z", r"\frac{x = y}{2} &= z"),  # not inside braces
        (r"\left( a \right) \le b = c", r"\left( a \right) &\le b = c"),  # \left is not \le
        (r"x \leq y", r"x &\leq y"),
        (r"L \approx M", r"L &\approx M"),
        (r"a <= b = c", r"a <= b &= c"),
        (r"\text{nfg:}\quad f_t = 1", r"\text{nfg:}\quad f_t &= 1"),
        (r"f_t", r"&f_t"),  # no relation: the row starts at the alignment column
    ],
)
def test_rows_are_aligned_at_their_first_relation(tex, aligned):
    rendered = ext.render([".. math::", "", "    x = 1", "    " + tex])
    assert rendered[-2] == "   " + aligned


def test_one_equation_or_an_authors_alignment_is_left_alone():
    one = ext.render([".. math::", "", r"    h_t = \tanh(a_t)"])
    assert one == [".. math::", "", r"   h_t = \tanh(a_t)", ""]
    own = ext.render([".. math::", "", "    a &= b", "    cc = d"])
    assert own == [".. math::", "", "   a &= b", "", "   cc = d", ""]


def test_math_block_edge_cases_of_indentation():
    # No blank line after the directive, deeper indentation, and a block at the very end.
    assert nodes(ext.render(["Intro.", ".. math::", "        a = b"])) == [
        ("paragraph", "Intro."),
        ("math_block", "a = b"),
    ]
    # A directive inside indented text: rows must be indented deeper than the directive; the
    # indented line after it is a code block.
    lines = ["Text:", "", "    .. math::", "", "        a = b", "        c = d", "    back to code"]
    assert nodes(ext.render(lines)) == [
        ("paragraph", "Text:"),
        ("math_block", "a &= b"),
        ("math_block", "c &= d"),
        ("literal_block", "back to code"),
    ]
    # A line indented no deeper than the directive ends the block without a blank line.
    assert nodes(ext.render([".. math::", "    a = b", "after"])) == [
        ("math_block", "a = b"),
        ("paragraph", "after"),
    ]
    # As in reST, a blank line does not end the block; the first line no deeper than the
    # directive does.
    rendered = ext.render([".. math::", "    a = b", "", "    c = d", "", "text"])
    assert nodes(rendered) == [
        ("math_block", "a &= b"),
        ("math_block", "c &= d"),
        ("paragraph", "text"),
    ]
    # Two blocks in one docstring.
    assert [k for k, _ in nodes(ext.render(SAMPLE + SAMPLE))].count("math_block") == 4


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["Text.", ".. math::"], [("paragraph", "Text."), ("literal_block", ".. math::")]),
        (
            ["Text.", ".. math::", "", "not indented"],
            [("paragraph", "Text."), ("literal_block", ".. math::"), ("paragraph", "not indented")],
        ),
        # Indented as deep as the directive, not deeper: a code block of both lines.
        (
            ["Text.", "", "    .. math::", "    a = b"],
            [("paragraph", "Text."), ("literal_block", ".. math::\na = b")],
        ),
    ],
)
def test_a_directive_without_an_indented_block_is_shown_as_written(lines, expected):
    assert nodes(ext.render(lines)) == expected


def test_tex_on_the_directives_line_is_left_to_sphinx():
    # Not this extension's form, but reST's own: the directive is passed on as written.
    assert nodes(ext.render(["Text.", "", r".. math:: a = \sigma"])) == [
        ("paragraph", "Text."),
        ("math_block", r"a = \sigma"),
    ]


def test_the_extension_rewrites_autodocs_lines_in_place_and_is_parallel_safe():
    lines = list(SAMPLE)
    ext._process(None, "module", "m", None, {}, lines)
    assert lines == ext.render(SAMPLE)

    class App:
        config = type("Config", (), {})()
        events = []

        def setup_extension(self, name):
            pass

        def connect(self, event, fn):
            self.events.append(event)

    app = App()
    assert ext.setup(app) == {"parallel_read_safe": True, "parallel_write_safe": True}
    assert app.events == ["autodoc-process-docstring", "missing-reference"]


# The package's docstrings


def _balanced_braces(tex):
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _balanced_left_right(tex):
    depth = 0
    for word in re.findall(r"\\(left|right)(?![a-zA-Z])", tex):
        depth += 1 if word == "left" else -1
        if depth < 0:
            return False
    return depth == 0


def test_the_checks_of_well_formed_tex_can_fail():
    assert not _balanced_braces(r"c_{t-1")
    assert not _balanced_braces(r"}{")
    assert _balanced_braces(r"\{ x \}")
    assert not _balanced_left_right(r"\left( x")
    assert not _balanced_left_right(r"\right) x \left(")
    assert _balanced_left_right(r"\left( x \leftarrow y \right)")


@pytest.mark.parametrize("module_name", MODULES_WITH_MATH)
def test_each_module_states_its_equations_as_math(module_name):
    blocks = [b for lines in docstrings(module_name) for b in math_blocks(ext.render(lines))]
    assert blocks, f"{module_name}: no '.. math::' block with TeX under it"


@pytest.mark.parametrize("module_name", MODULES_WITH_MATH)
def test_every_math_block_is_well_formed_tex(module_name):
    for lines in docstrings(module_name):
        directives = sum(line.strip() == ".. math::" for line in lines)
        blocks = math_blocks(ext.render(lines))
        # A directive with nothing under it would silently show as text.
        assert len(blocks) == directives, f"{module_name}: an empty '.. math::' block"
        for block in blocks:
            assert block and all(row.strip() for row in block)
            for row in block:
                assert not re.search(r"[\x00-\x1f]", row), f"{module_name}: {row!r}"
                assert _balanced_braces(row), f"{module_name}: unbalanced braces in {row!r}"
                assert _balanced_left_right(row), f"{module_name}: \\left/\\right in {row!r}"


@pytest.mark.parametrize("module_name", MODULES_WITH_MATH)
def test_every_docstring_with_math_is_a_raw_string(module_name):
    # Without the r prefix, "\tanh" holds a tab, "\frac" a form feed and "\right" a carriage
    # return (and inspect.getdoc turns the tab into spaces, so the TeX checks cannot see it).
    path = Path(importlib.import_module(module_name).__file__)
    source = path.read_text(encoding="utf-8")
    kinds = (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)
    for node in ast.walk(ast.parse(source)):
        doc = ast.get_docstring(node, clean=False) if isinstance(node, kinds) else None
        if doc and ".. math::" in doc:
            literal = ast.get_source_segment(source, node.body[0])
            assert literal.lower().startswith("r"), f"{path.name}: {literal.splitlines()[0]}"


def test_the_hard_sigmoid_constants_in_the_docstring_are_the_codes():
    doc = importlib.import_module("lstm_lessons.cells.activations").__doc__
    assert f"HARD_SIGMOID_SLOPE ({HARD_SIGMOID_SLOPE})" in doc
    assert f"HARD_SIGMOID_OFFSET ({HARD_SIGMOID_OFFSET})" in doc
