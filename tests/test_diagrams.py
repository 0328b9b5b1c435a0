"""The cell diagrams of lstm_lessons.plotting.diagrams: each runs, each highlight changes
what it names (and only that), and an unknown part is refused with the valid names."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from lstm_lessons.plotting import diagrams  # noqa: E402

DRAW = {
    "lstm": diagrams.draw_lstm_cell,
    "rnn": diagrams.draw_rnn_cell,
    "gru": diagrams.draw_gru_cell,
    "unrolled": lambda **kw: diagrams.draw_unrolled(steps=3, cell_state=True, **kw),
    "peephole": lambda **kw: diagrams.draw_lstm_cell(variant="peephole", **kw),
    "cifg": lambda **kw: diagrams.draw_lstm_cell(variant="cifg", **kw),
}
NAMES = {kind: diagrams.part_names(kind) for kind in ("lstm", "rnn", "gru", "unrolled")}
NAMES.update({v: diagrams.part_names("lstm", variant=v) for v in ("peephole", "cifg")})
COLOURS = {kind: diagrams._PARTS[kind] for kind in ("lstm", "rnn", "gru", "unrolled")}
COLOURS.update({v: diagrams._lstm_parts(v) for v in ("peephole", "cifg")})


def _colours(ax):
    """gid -> sorted colours of the artists of that part (edge colour for patches)."""
    found = {}
    for artist in [*ax.patches, *ax.lines, *ax.texts]:
        gid = artist.get_gid()
        if hasattr(artist, "get_edgecolor") and not hasattr(artist, "get_text"):
            colour = to_hex(artist.get_edgecolor())
        else:
            colour = to_hex(artist.get_color())
        found.setdefault(gid, []).append(colour)
    return {gid: sorted(c) for gid, c in found.items()}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.mark.parametrize("kind", DRAW)
def test_each_diagram_draws_on_its_own_axes_and_on_a_given_one(kind):
    ax = DRAW[kind]()
    assert isinstance(ax, matplotlib.axes.Axes) and len(ax.patches) > 3
    _, given = plt.subplots()
    assert DRAW[kind](ax=given) is given


@pytest.mark.parametrize(
    "kind,name", [(kind, name) for kind in DRAW for name in NAMES[kind]]
)
def test_each_highlight_colours_its_part_and_greys_the_others(kind, name):
    plain = _colours(DRAW[kind]())
    lit = _colours(DRAW[kind](highlight=(name,)))
    assert name in lit, f"{name} draws nothing"
    own = to_hex(COLOURS[kind][name])
    assert own in lit[name], f"{name} is not drawn in its colour {own}"
    others = [gid for gid in plain if gid not in (name, "frame", None)]
    for gid in others:
        assert diagrams.GREY in lit[gid] or lit[gid] == [to_hex(diagrams.INK)] * len(lit[gid]) \
            or gid == name, f"{gid} is not greyed out when only {name} is highlighted"
    assert lit != plain


def test_an_unknown_part_is_refused_with_the_valid_names():
    with pytest.raises(ValueError, match="forget_gate") as err:
        diagrams.draw_lstm_cell(highlight=("forget",))
    assert "'forget'" in str(err.value)
    with pytest.raises(ValueError, match="reset_gate"):
        diagrams.draw_gru_cell(highlight="forget_gate")
    with pytest.raises(ValueError, match="cell_state=True"):
        diagrams.draw_unrolled(highlight=("cell_path",))
    with pytest.raises(ValueError, match="expected one of"):
        diagrams.part_names("transformer")
    with pytest.raises(ValueError, match="peepholes"):  # a variant's part, on the standard cell
        diagrams.draw_lstm_cell(highlight=("coupling",), variant="peephole")
    with pytest.raises(ValueError, match="cifg"):
        diagrams.draw_lstm_cell(variant="gru")
    with pytest.raises(ValueError, match="from 1 to 8"):
        diagrams.draw_unrolled(steps=0)
    with pytest.raises(TypeError, match="int"):
        diagrams.draw_unrolled(steps=2.0)


def test_labels_are_the_books_symbols():
    texts = {t.get_text() for t in diagrams.draw_lstm_cell().texts}
    assert {"$f_t$", "$i_t$", "$g_t$", "$o_t$", "$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$",
            "$x_t$", r"$\sigma$", r"$\tanh$", r"$\odot$", "$+$"} <= texts
    texts = {t.get_text() for t in diagrams.draw_gru_cell().texts}
    assert {"$r_t$", "$z_t$", "$n_t$", "$1-$"} <= texts


def test_figure_myst_puts_computed_alt_text_into_a_glue_figure():
    from lstm_lessons.plotting import figure_myst

    text = figure_myst("fig-x", "The caption, $x$.", "A line that starts at 0.73.")
    assert text.startswith("```{glue:figure} fig-x\n")
    assert ":alt: A line that starts at 0.73.\n" in text and ":name: fig-x\n" in text
    assert text.rstrip().endswith("The caption, $x$.\n```")
    with pytest.raises(ValueError, match="alt"):
        figure_myst("fig-x", "caption", "two\nlines")
    with pytest.raises(ValueError, match="caption"):
        figure_myst("fig-x", "", "alt")
