"""The notebook copies of the chapters (``tools/build_notebooks.py``): what a reader opens on
Colab, Binder, a hub or GitHub.

- the resolver, on a small page and a small book: every role and directive the chapters use
  becomes plain Markdown (glued numbers and tables, figures as attachments with their number,
  references, citations, terms, API names, numbered equations, included code), and one it cannot
  render is an error that names it;
- the comparison ``--check`` makes after the book build: a changed prose or code fails, image
  bytes and the values of timing cells do not;
- the committed copies, without a build: no MyST syntax, every figure the page places attached,
  the page's code (with the glue that shows figures), the setup cell that installs the release;
- the glue that the copies import shows a figure when run.

The full comparison of the committed copies with the build runs in ``make test``'s ``copies``
stage, after the book build has executed the notebooks.
"""

import copy
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from helpers import MYST_HEADER, load_tool

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"


load_tool("sphinx_launch")
bn = load_tool("build_notebooks")

THEME = {
    "repository_url": "https://github.com/someone/course",
    "repository_branch": "spring",
    "path_to_docs": "",
    "launch_buttons": {"binderhub_url": "https://mybinder.org", "colab_url": "https://colab.x"},
}
SITE = "https://someone.github.io/course/"
SETUP = 'if "google.colab" in sys.modules: pass'


def small_book():
    return bn.Book(
        labels={
            "fig-a": ("book/ch01", "fig-a", ""),
            "sec-b": ("book/ch02", "sec-b", "The second section"),
        },
        numbers={"book/ch01": {"figure": {"fig-a": (1, 2)}}},
        sections={"book/ch02": {"#sec-b": (2, 3)}},
        equations={"eq-x": ("book/ch01", 4), "eq-y": ("book/ch02", 1)},
        titles={"book/ch01": "1. First", "book/ch02": "2. Second", "book/references": "References"},
        objects={"lstm_lessons.lstm_forward": ("book/api/cells", "lstm_lessons.lstm_forward")},
        terms={"cell state": "term-cell-state"},
        citations={
            "hochreiter1997": ("Hochreiter and Schmidhuber", "1997"),
            "greff2017": ("Greff et al.", "2017"),
        },  # fmt: skip
        site=SITE,
        theme=THEME,
    )


GLUED = {
    "n": {"text/plain": "0.123456"},
    "word": {"text/plain": "'twelve'"},
    "table": {"text/markdown": "| a | b |\n|:-|:-|\n| {glue:text}`n:.2f` | 2 |"},
    "fig-key": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"},
}


def page(glued=GLUED):
    return bn.Page("book/ch01", small_book(), glued)


@pytest.mark.parametrize(
    ("myst", "markdown"),
    [
        ("{glue:text}`n`", "0.123456"),
        ("{glue:text}`n:.2f`", "0.12"),
        ("{glue:text}`word`", "twelve"),
        ("{glue:md}`table:myst`", "| a | b |\n|:-|:-|\n| 0.12 | 2 |"),
        ("{numref}`fig-a`", f"[Fig. 1.2]({SITE}book/ch01.html#fig-a)"),
        ("{numref}`Figure %s <fig-a>`", f"[Figure 1.2]({SITE}book/ch01.html#fig-a)"),
        (
            "{numref}`Section {number}, {name} <sec-b>`",
            f"[Section 2.3, The second section]({SITE}book/ch02.html#sec-b)",
        ),
        ("{ref}`sec-b`", f"[The second section]({SITE}book/ch02.html#sec-b)"),
        ("{doc}`ch02`", f"[2. Second]({SITE}book/ch02.html)"),
        ("{doc}`the next one <ch02>`", f"[the next one]({SITE}book/ch02.html)"),
        ("{eq}`eq-x`", "(4)"),
        ("{eq}`eq-y`", f"[(1) of 2. Second]({SITE}book/ch02.html)"),
        (
            "{cite:t}`hochreiter1997`",
            f"[Hochreiter and Schmidhuber (1997)]({SITE}book/references.html)",
        ),
        (
            "{cite:p}`hochreiter1997,greff2017`",
            f"([Hochreiter and Schmidhuber, 1997]({SITE}book/references.html); "
            f"[Greff et al., 2017]({SITE}book/references.html))",
        ),
        ("{term}`Cell state`", f"[Cell state]({SITE}book/glossary.html#term-cell-state)"),
        ("{term}`states <cell state>`", f"[states]({SITE}book/glossary.html#term-cell-state)"),
        (
            "{py:func}`lstm_lessons.lstm_forward`",
            f"[`lstm_lessons.lstm_forward()`]({SITE}book/api/cells.html#lstm_lessons.lstm_forward)",
        ),
        (
            "{py:func}`~lstm_lessons.lstm_forward`",
            f"[`lstm_forward()`]({SITE}book/api/cells.html#lstm_lessons.lstm_forward)",
        ),  # fmt: skip
        ("{py:mod}`numpy`", "`numpy`"),
        (
            "{download}`get it <../exercises/ex.ipynb>`",
            "[get it](https://github.com/someone/course/blob/spring/exercises/ex.ipynb)",
        ),
        (
            "{colab}`../exercises/ex.ipynb`",
            "[Colab](https://colab.x/github/someone/course/blob/spring/exercises/ex.ipynb)",
        ),
        ("(sec-b)=\n# Title", "# Title"),
        ("$$\nx = 1\n$$ (eq-x)", "$$\nx = 1 \\tag{4}\n$$"),
        (
            "Fixed point (不动点)\n: A state.\n  More.\n  - a list\n\nNext",
            "**Fixed point (不动点)**: A state.\nMore.\n- a list\n\nNext",
        ),
        ("```{note}\nMind the gap.\n```", "> **Note**\n>\n> Mind the gap."),
        ("Plain $x_t$ and **bold**.", "Plain $x_t$ and **bold**."),
    ],
)
def test_each_role_and_directive_becomes_plain_markdown(myst, markdown):
    out = page().markdown(myst)
    assert out == markdown
    assert not bn.RAW_SYNTAX.search(out)


def test_a_glued_figure_becomes_an_attachment_with_its_number_and_caption():
    p = page()
    out = p.markdown(
        "```{glue:figure} fig-key\n:alt: Two curves [a and b].\n:name: fig-a\n\n"
        "The caption, at delay {glue:text}`n:.1f`.\n```"
    )
    figure = "![Two curves (a and b).](attachment:fig-key.png)"
    assert out == f"{figure}\n\n**Fig. 1.2.** The caption, at delay 0.1."
    assert p.attachments == {"fig-key.png": {"image/png": "iVBORw0KGgo="}}


def test_included_code_is_a_code_block():
    out = page().markdown(
        "```{literalinclude} ../lstm_lessons/cells/activations.py\n:pyobject: sigmoid\n"
        ":language: python\n```"
    )
    assert out.startswith("```python\ndef sigmoid(")
    assert out.endswith("\n```")


@pytest.mark.parametrize(
    ("myst", "message"),
    [
        ("{glue:text}`missing`", "nothing glued as text under 'missing'"),
        ("{glue:md}`n`", "nothing glued as Markdown under 'n'"),
        ("{numref}`fig-none`", "no label 'fig-none'"),
        ("{cite:t}`nobody2020`", "no reference 'nobody2020'"),
        ("{term}`no such term`", "no glossary term"),
        ("{abbr}`LSTM`", "role {abbr} has no rendering"),
        ("```{glossary}\nx\n: y\n```", "directive {glossary} has no rendering"),
        ("```{glue:figure} n\n```", "nothing glued as a figure under 'n'"),
        ("```{note}\nnever closed", "is not closed"),
    ],
)
def test_what_cannot_be_rendered_is_an_error_naming_it(myst, message):
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        page().markdown(myst)
    assert "book/ch01" in str(error.value)


# --- A whole copy and the comparison --------------------------------------------------------

PAGE = (
    MYST_HEADER
    + """
# One

```{code-cell} ipython3
:tags: [remove-cell]
from myst_nb import glue
glue("n", 0.123456)
```

The value is {glue:text}`n:.3f`.

```{code-cell} ipython3
:tags: [remove-cell, nbval-ignore-output]
glue("seconds", 1.5)
```

It took {glue:text}`seconds` s.

```{glue:figure} fig-key
:alt: A curve.
:name: fig-a

A caption.
```
"""
)


def executed(seconds="1.5", image="iVBORw0KGgo="):
    """The executed notebook of PAGE, as the book build leaves it."""
    nb = jupytext.reads(PAGE, fmt="md:myst")

    def record(name, data):
        return nbformat.v4.new_output(
            "display_data",
            data={f"{bn.RECORD}{k}": v for k, v in data.items()},
            metadata={"scrapbook": {"name": name, "mime_prefix": bn.RECORD}},
        )

    code = [c for c in nb.cells if c.cell_type == "code"]
    code[0].outputs = [
        record("n", {"text/plain": "0.123456"}),
        record("fig-key", {"image/png": image, "text/plain": "<Figure>"}),
        nbformat.v4.new_output("stream", name="stdout", text="at 0x7f3a2b1c\n"),
        nbformat.v4.new_output("display_data", data={"image/png": image, "text/plain": "<Fig>"}),
    ]
    code[1].outputs = [record("seconds", {"text/plain": seconds})]
    return nb


@pytest.fixture()
def tree(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "ch01.md").write_text(PAGE, encoding="utf-8")
    return tmp_path


def test_a_copy_resolves_its_page_and_keeps_code_and_outputs(tree):
    nb = bn.build_copy(tree / "book" / "ch01.md", executed(), small_book(), SETUP, tree)
    assert [c.cell_type for c in nb.cells] == ["code", "markdown", "code", "markdown", "code",
                                               "markdown"]  # fmt: skip
    assert nb.cells[0].source == SETUP
    glue_cell = nb.cells[2]
    assert bn.GLUE_SHIM in glue_cell.source and bn.GLUE_IMPORT not in glue_cell.source
    assert glue_cell.metadata["jupyter"] == {"source_hidden": True}
    # The glue records are shown in the prose, not under the cell; other outputs stay.
    assert [o.output_type for o in glue_cell.outputs] == ["stream", "display_data"]
    assert nb.cells[3].source == "The value is 0.123."
    prose = nb.cells[5].source
    assert "It took 1.5 s." in prose
    assert "![A curve.](attachment:fig-key.png)" in prose and "**Fig. 1.2.** A caption." in prose
    assert nb.cells[5].attachments["fig-key.png"] == {"image/png": "iVBORw0KGgo="}
    assert nb.metadata[bn.META]["volatile"] == {"seconds": {"text/plain": "1.5"}}
    assert bn.problems_of("x", nb) == []


def test_code_that_differs_from_the_page_is_refused(tree):
    nb = executed()
    nb.cells[1].source += "\nprint(1)"
    with pytest.raises(ValueError, match="executed notebook's code differs"):
        bn.build_copy(tree / "book" / "ch01.md", nb, small_book(), SETUP, tree)


def write(tree, nb):
    path = tree / "notebooks" / "ch01.ipynb"
    path.parent.mkdir(exist_ok=True)
    nbformat.write(nb, path)


def test_compare_ignores_image_bytes_and_timings_but_not_prose_or_code(tree):
    make = lambda **kw: bn.build_copy(  # noqa: E731
        tree / "book" / "ch01.md", executed(**kw), small_book(), SETUP, tree
    )
    committed = make()
    write(tree, committed)
    rel = "notebooks/ch01.ipynb"
    # Another machine: other PNG bytes, another timing (pinned to the committed value, as
    # --check does), another memory address: no difference.
    other = bn.build_copy(
        tree / "book" / "ch01.md",
        bn._pin_volatile(executed(seconds="2.5", image="AAAA"), committed),
        small_book(), SETUP, tree,
    )  # fmt: skip
    other.cells[2].outputs[0]["text"] = "at 0x55aa00\n"
    assert bn.compare({rel: other}, tree) == []
    # A changed number in the prose, a changed code line, a figure gone: differences.
    changed = copy.deepcopy(other)
    changed.cells[3].source = changed.cells[3].source.replace("0.123", "0.124")
    assert bn.compare({rel: changed}, tree) == [f"{rel}: differs from what its page builds"]
    changed = copy.deepcopy(other)
    changed.cells[4].source += "\n1"
    assert bn.compare({rel: changed}, tree) == [f"{rel}: differs from what its page builds"]
    changed = copy.deepcopy(other)
    del changed.cells[5]["attachments"]
    assert bn.compare({rel: changed}, tree) == [
        f"{rel}: cell 5 shows attachment fig-key.png that it lacks",
        f"{rel}: differs from what its page builds",
    ]
    # Missing and orphaned copies.
    (tree / rel).rename(tree / "notebooks" / "orphan.ipynb")
    assert bn.compare({rel: other}, tree) == [
        f"{rel}: missing",
        "notebooks/orphan.ipynb: has no page in book/",
    ]


def test_problems_of_a_copy_name_raw_syntax_and_a_missing_setup_cell():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(bn.GLUE_IMPORT),
            nbformat.v4.new_markdown_cell("σ(0) = {glue:text}`c4-f0`"),
            nbformat.v4.new_markdown_cell("```{glue:figure} fig\n```"),
            nbformat.v4.new_markdown_cell("$$\nx\n$$ (eq-x)"),
        ]
    )
    problems = bn.problems_of("c.ipynb", nb)
    assert problems == [
        "c.ipynb: cell 1 shows MyST syntax '{glue:text}`'",
        "c.ipynb: cell 2 shows MyST syntax '```{'",
        "c.ipynb: cell 3 shows MyST syntax '$$ (eq-x)'",
        "c.ipynb: the first cell is not the setup cell",
        "c.ipynb: imports myst_nb's glue, which shows no figure when run",
    ]


# --- The committed copies, without a build ---------------------------------------------------


def committed():
    return bn.committed_copies()


@pytest.fixture(scope="module")
def copies():
    return committed()


def test_every_page_with_code_has_a_copy_and_no_copy_is_an_orphan(copies):
    pages = {bn.copy_path(p.relative_to(ROOT).with_suffix("").as_posix()) for p in bn.sources()}
    # Each page has its Chinese copy too, in notebooks/zh.
    chinese = {f"{bn.COPY_DIR}/{bn.ZH}/{Path(p).name}" for p in pages}
    assert pages and set(copies) == pages | chinese
    assert {f"notebooks/{p.stem}.ipynb" for p in (ROOT / "book").glob("ch*.md")} <= pages


def test_committed_copies_show_no_myst_and_every_figure(copies):
    problems = [p for rel, nb in copies.items() for p in bn.problems_of(rel, nb)]
    assert not problems, "rebuild with make book && make notebooks:\n" + "\n".join(problems)
    for rel, nb in copies.items():
        page_text = (ROOT / nb.metadata[bn.META]["page"]).read_text(encoding="utf-8")
        figures = re.findall(r"^```\{glue:figure\}\s*(\S+)", page_text, re.MULTILINE)
        attached = {name.rsplit(".", 1)[0] for c in nb.cells for name in c.get("attachments", {})}
        assert set(figures) <= attached, f"{rel}: figures not attached: {set(figures) - attached}"


def test_committed_copies_run_the_pages_code(copies):
    for rel, nb in copies.items():
        page = jupytext.read(ROOT / nb.metadata[bn.META]["page"])
        expected = [c.source.replace(bn.GLUE_IMPORT, bn.GLUE_SHIM) for c in page.cells
                    if c.cell_type == "code"]  # fmt: skip
        assert [c.source for c in nb.cells[1:] if c.cell_type == "code"] == expected, (
            f"{rel} is stale: make book && make notebooks"
        )
        assert sum(c.cell_type == "markdown" for c in nb.cells) == sum(
            c.cell_type == "markdown" for c in page.cells
        ), rel


def test_the_setup_cell_installs_the_release_and_is_valid_ipython(copies, monkeypatch, tmp_path):
    from IPython.core.inputtransformer2 import TransformerManager

    tag = bn.release()
    config = bn.settings()
    expected = bn.first_cell_source(config["theme"], tag)
    assert {nb.cells[0].source for nb in copies.values()} == {expected}
    assert f"--branch {tag} " in expected and re.fullmatch(r"v\d+\.\d+\.\d+", tag)
    python = TransformerManager().transform_cell(expected)

    class Shell:
        def __init__(self):
            self.calls = []

        def system(self, command):
            self.calls.append(("!", command))

        def run_line_magic(self, name, line, _stack_depth=1):
            self.calls.append((f"%{name}", line))

    # Off Colab, beside book/: no clone, no install; it moves into book/.
    (tmp_path / "book").mkdir()
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    shell = Shell()
    exec(python, {"get_ipython": lambda: shell})
    assert shell.calls == [] and Path.cwd() == tmp_path / "book"
    # On Colab: clone the release, install it, move into its book/.
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    exec(python, {"get_ipython": lambda: shell})
    url = THEME_URL = config["theme"]["repository_url"].rstrip("/")
    clone = bn.CLONE_DIR
    assert shell.calls == [
        ("!", f"git clone --quiet --depth 1 --branch {tag} {THEME_URL}.git {clone}"),
        ("%pip", f"install --quiet {clone}"),
        ("%cd", f"{clone}/book"),
    ], url


def test_the_release_is_the_packages_version():
    import lstm_lessons

    assert bn.release() == f"v{lstm_lessons.__version__}"


# --- The glue the copies import ---------------------------------------------------------------


def test_glue_shows_a_figure_and_what_is_glued_to_display(monkeypatch):
    import IPython.display
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lstm_lessons.plotting.glue import glue

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    fig = plt.figure()
    glue("fig", fig, display=False)
    glue("n", 3.0, display=False)
    glue("m", 4.0)
    plt.close(fig)
    assert shown == [fig, 4.0]
    with pytest.raises(ValueError, match="name must be a non-empty string, got ''"):
        glue("", 1)


def test_only_times_and_addresses_are_volatile_not_any_number_of_one_decimal():
    """nbval's sanitiser masks any glued text of one decimal ('0.3'): a copy used to keep such
    a value from the committed copy, so a changed result ('0.3' to '0.12') stayed stale."""
    import nbformat

    def glue_cell(name, text, tags=()):
        cell = nbformat.v4.new_code_cell("glue(...)", metadata={"tags": list(tags)})
        cell.outputs = [nbformat.v4.new_output(
            "display_data", data={"application/papermill.record/text/plain": text},
            metadata={"scrapbook": {"name": name}})]  # fmt: skip
        return cell

    nb = nbformat.v4.new_notebook(cells=[
        glue_cell("c14-first-minlstm-1", "'0.3'"),
        glue_cell("train-seconds", "'12.3'"),
        glue_cell("where", "'<function f at 0x7f3a2c1d0e50>'"),
        glue_cell("timed", "'4'", tags=["nbval-ignore-output"]),
    ])  # fmt: skip
    values, volatile = bn.glued_values(nb)
    assert values["c14-first-minlstm-1"] == {"text/plain": "'0.3'"}
    assert volatile == {"train-seconds", "where", "timed"}
