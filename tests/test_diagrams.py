"""The cell diagrams of lstm_lessons.plotting.diagrams: each runs, each highlight changes
what it names (and only that), and an unknown part is refused with the valid names; and
each cell drawing, run as the computation it records, is the package's cell."""

import functools
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from lstm_lessons.cells.activations import hard_sigmoid, sigmoid  # noqa: E402
from lstm_lessons.cells.gru import gru_step_forward, init_gru_params  # noqa: E402
from lstm_lessons.cells.lstm import init_lstm_params, lstm_step_forward  # noqa: E402
from lstm_lessons.cells.rnn import init_rnn_params, rnn_step_forward  # noqa: E402
from lstm_lessons.cells.variants import get_variant  # noqa: E402
from lstm_lessons.plotting import diagrams  # noqa: E402

VARIANTS = [v for v in diagrams.LSTM_VARIANTS if v != "standard"]

DRAW = {
    "lstm": diagrams.draw_lstm_cell,
    "rnn": diagrams.draw_rnn_cell,
    "gru": diagrams.draw_gru_cell,
    "unrolled": lambda **kw: diagrams.draw_unrolled(steps=3, cell_state=True, **kw),
}
DRAW.update({v: functools.partial(diagrams.draw_lstm_cell, variant=v) for v in VARIANTS})
NAMES = {kind: diagrams.part_names(kind) for kind in ("lstm", "rnn", "gru", "unrolled")}
NAMES.update({v: diagrams.part_names("lstm", variant=v) for v in VARIANTS})
COLOURS = {kind: diagrams._PARTS[kind] for kind in ("lstm", "rnn", "gru", "unrolled")}
COLOURS.update({v: diagrams._lstm_parts(v) for v in VARIANTS})


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
    with pytest.raises(ValueError, match="hard_sigmoid"):
        diagrams.draw_variant_comparison("standard")
    with pytest.raises(ValueError, match="two Axes"):
        diagrams.draw_variant_comparison("cifg", axes=plt.subplots(1, 3)[1])
    with pytest.raises(ValueError, match="only the 'lstm'"):
        diagrams.diagram_graph("gru", "cifg")
    with pytest.raises(ValueError, match="expected one of"):
        diagrams.diagram_graph("unrolled")
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


# The drawings as computations. A drawing records each node (the signal it computes and
# its operation) and each wire (the signal it carries, the node it feeds); run_graph runs
# that record on numbers, with the package's parameters, so a drawing that wires a signal
# into the wrong node, or gives a node the wrong operation, computes another cell.

_FUNCTIONS = {"sigma": sigmoid, "hard_sigmoid": hard_sigmoid, "tanh": np.tanh,
              "linear": lambda a: a}
_POINTWISE = {"mul": (np.multiply, 2), "add": (np.add, 2), "one_minus": (lambda a: 1.0 - a, 1),
              "tanh": (np.tanh, 1), "sigma": (sigmoid, 1)}
_BLOCK = {"m_t": "n"}  # the GRU's m_t is the recurrent side of the candidate's block n


def run_graph(graph, inputs, params, blocks, H):
    """The value of every node of ``graph``, from ``inputs`` (signal -> array).

    A layer node computing ``k_t`` uses the weights of block k (the letters ``blocks``, in
    storage order, H columns each): x_t contributes x W_x^k + b^k, h_{t-1} contributes
    h W_h^k (plus b_hn on the GRU's candidate block), the bus [h_{t-1}, x_t] both, a cell
    state (a peephole) p_k * c, and any other signal is added as it is.
    """
    values = dict(inputs)
    pending = dict(graph.nodes)
    while pending:
        ready = [n for n in pending if all(s in values for s in graph.inputs_of(n))]
        assert ready, f"nodes fed by nothing computable: {sorted(pending)}"
        for name in ready:
            node = pending.pop(name)
            fed = graph.inputs_of(name)
            assert fed, f"node {name} is fed by no wire"
            if node.op == "concat":
                values[name] = ("concat", tuple(fed))
            elif node.layer or node.op == "linear":
                values[name] = _layer(node, fed, values, params, blocks, H)
            else:
                args = [values[s] for s in fed]
                assert not any(isinstance(a, tuple) for a in args), f"{name} reads the bus"
                op, arity = _POINTWISE[node.op]
                assert len(args) == arity, f"{name} ({node.op}) is fed by {fed}"
                values[name] = op(*args)
    return values


def _layer(node, fed, values, params, blocks, H):
    k = _BLOCK.get(node.name, node.name[0])
    assert k in blocks, (f"the drawing gives {node.name} weights of its own (block {k}); "
                         f"the cell stores the blocks {blocks!r}")
    cols = slice(blocks.index(k) * H, (blocks.index(k) + 1) * H)
    signals = []
    for s in fed:
        signals += list(values[s][1]) if isinstance(values[s], tuple) else [s]
    a = 0.0
    for s in signals:
        if s == "x_t":
            a = a + values[s] @ params["W_x"][:, cols] + params["b"][cols]
        elif s == "h_{t-1}":
            a = a + values[s] @ params["W_h"][:, cols] + (params["b_hn"] if k == "n" and
                                                          "b_hn" in params else 0.0)
        elif s in ("c_{t-1}", "c_t"):
            assert f"p_{k}" in params, f"{node.name} reads {s}, the cell has no p_{k}"
            a = a + params[f"p_{k}"] * values[s]
        else:
            a = a + values[s]
    return _FUNCTIONS[node.op](a)


def _data(D, H, seed=0, scale=2.0):
    rng = np.random.default_rng(seed)
    N = 3
    # pre-activations from about -6 to 6, so the hard sigmoid meets its ramp and both ends
    return (scale * rng.normal(size=(N, D)), rng.uniform(-1, 1, (N, H)),
            scale * rng.normal(size=(N, H)))


@pytest.mark.parametrize("variant", diagrams.LSTM_VARIANTS)
def test_the_lstm_drawing_computes_the_package_cell(variant):
    D, H = 4, 5
    params = init_lstm_params(D, H, variant, seed=3, forget_bias=0.0)
    params = {k: v * 3.0 for k, v in params.items()}  # gates off their linear middle
    x, h_prev, c_prev = _data(D, H)
    h, c, cache = lstm_step_forward(x, h_prev, c_prev, params, variant)
    drawn = run_graph(diagrams.diagram_graph("lstm", variant),
                      {"x_t": x, "h_{t-1}": h_prev, "c_{t-1}": c_prev}, params,
                      get_variant(variant).gates, H)
    expected = {"i_t": cache.i, "g_t": cache.g, "o_t": cache.o, "c_t": c, "h_t": h}
    if variant == "nfg":
        assert "f_t" not in drawn and cache.f == 1.0  # f = 1: no node, the state passes
    else:
        expected["f_t"] = cache.f
    for name, value in expected.items():
        np.testing.assert_allclose(drawn[name], value, rtol=1e-12, atol=1e-12, err_msg=name)
    if variant == "hard_sigmoid":  # the gates met both flat parts and the ramp
        gates = np.concatenate([cache.i, cache.f, cache.o], axis=None)
        assert (gates == 0).any() and (gates == 1).any() and ((gates > 0) & (gates < 1)).any()


def test_the_gru_drawing_computes_the_package_gru():
    D, H = 4, 5
    params = {k: v * 3.0 for k, v in init_gru_params(D, H, seed=4).items()}
    x, h_prev, _ = _data(D, H, seed=1)
    h, cache = gru_step_forward(x, h_prev, params)
    drawn = run_graph(diagrams.diagram_graph("gru"), {"x_t": x, "h_{t-1}": h_prev}, params,
                      "rzn", H)
    for name, value in {"r_t": cache.r, "z_t": cache.z, "m_t": cache.m, "n_t": cache.n,
                        "h_t": h}.items():
        np.testing.assert_allclose(drawn[name], value, rtol=1e-12, atol=1e-12, err_msg=name)


def test_the_rnn_drawing_computes_the_package_rnn():
    D, H = 4, 5
    params = init_rnn_params(D, H, seed=5)
    x, h_prev, _ = _data(D, H, seed=2)
    h, _ = rnn_step_forward(x, h_prev, params)
    drawn = run_graph(diagrams.diagram_graph("rnn"), {"x_t": x, "h_{t-1}": h_prev}, params,
                      "h", H)
    np.testing.assert_allclose(drawn["h_t"], h, rtol=1e-12, atol=1e-12)


def test_each_variant_is_wired_as_its_equations_say():
    lstm = {v: diagrams.diagram_graph("lstm", v) for v in diagrams.LSTM_VARIANTS}
    bus = "[h_{t-1},x_t]"
    # CIFG: f_t = 1 - i_t (the forget gate is fed by the input gate, not the other way)
    cifg = lstm["cifg"]
    assert cifg.inputs_of("f_t") == ["i_t"] and cifg.nodes["f_t"].op == "one_minus"
    assert cifg.inputs_of("i_t") == [bus] and cifg.nodes["i_t"].layer
    # peepholes: i and f read c_{t-1} (before the forget gate), o reads the new c_t
    peep = lstm["peephole"]
    assert peep.inputs_of("i_t") == peep.inputs_of("f_t") == [bus, "c_{t-1}"]
    assert peep.inputs_of("o_t") == [bus, "c_t"]
    # hard sigmoid: i, f, o use it; the candidate keeps tanh
    ops = {k: lstm["hard_sigmoid"].nodes[f"{k}_t"].op for k in "ifgo"}
    assert ops == {"i": "hard_sigmoid", "f": "hard_sigmoid", "g": "tanh", "o": "hard_sigmoid"}
    assert {lstm["standard"].nodes[f"{k}_t"].op for k in "ifo"} == {"sigma"}
    # no forget gate: c_{t-1} goes straight into the sum
    assert "f_t" not in lstm["nfg"].nodes
    assert lstm["nfg"].inputs_of("c_t") == ["c_{t-1}", "i_t*g_t"]
    assert lstm["standard"].inputs_of("c_t") == ["f_t*c_{t-1}", "i_t*g_t"]
    # GRU: the reset gate scales m_t = h_{t-1} W_h^n + b_hn; x_t's part joins after it
    gru = diagrams.diagram_graph("gru")
    assert gru.inputs_of("m_t") == ["h_{t-1}"] and gru.nodes["m_t"].op == "linear"
    assert gru.inputs_of("r_t*m_t") == ["m_t", "r_t"]
    assert gru.inputs_of("n_t") == ["r_t*m_t", "x_t"] and gru.nodes["n_t"].op == "tanh"
    assert gru.inputs_of("1-z_t") == ["z_t"]
    assert gru.inputs_of("h_t") == ["(1-z_t)*n_t", "z_t*h_{t-1}"]
    assert gru.inputs_of("z_t*h_{t-1}") == ["h_{t-1}", "z_t"]


GRAPHS = [("lstm", v) for v in diagrams.LSTM_VARIANTS] + [("gru", "standard"),
                                                          ("rnn", "standard")]


@pytest.mark.parametrize("diagram,variant", GRAPHS)
def test_every_wire_starts_on_its_signal_and_ends_on_its_node(diagram, variant):
    """The record and the picture agree: a wire that says it carries c_{t-1} is drawn from
    the line or node that carries c_{t-1} (a peephole drawn from f_t * c_{t-1} fails)."""
    graph = diagrams.diagram_graph(diagram, variant)
    for w in graph.wires:
        start = diagrams.distance_to_signal(w.points[0], graph, w.signal, exclude=w)
        assert start < 0.05, f"the wire of {w.signal} into {w.target} starts off its signal"
        if w.target is not None:
            end = diagrams.distance_to_node(w.points[-1], graph.nodes[w.target])
            assert end < 0.05, f"the wire of {w.signal} ends off its node {w.target}"
    computed = set(graph.inputs) | set(graph.nodes)
    assert {w.signal for w in graph.wires} <= computed


@pytest.mark.parametrize("diagram,variant", GRAPHS)
def test_each_box_shows_its_operation_and_each_gate_its_symbol(diagram, variant):
    draw = {"lstm": lambda: diagrams.draw_lstm_cell(variant=variant),
            "gru": diagrams.draw_gru_cell, "rnn": diagrams.draw_rnn_cell}[diagram]
    ax = draw()
    graph = diagrams.diagram_graph(diagram, variant)
    texts = {tuple(np.round(t.get_position(), 6)): t.get_text() for t in ax.texts}
    symbols = {"mul": r"$\odot$", "add": "$+$", "sigma": r"$\sigma$", "tanh": r"$\tanh$",
               "hard_sigmoid": r"$\mathrm{hs}$", "one_minus": "$1-$", "linear": "$W_h^n$"}
    labels = set(texts.values())
    for node in graph.nodes.values():
        if node.op == "concat":
            continue
        centre = tuple(np.round(node.shape[1:3], 6))
        assert texts.get(centre) == symbols[node.op], f"{node.name} shows {texts.get(centre)}"
        if re.fullmatch(r"[a-z]_t", node.name):  # a gate, a candidate or a state
            assert f"${node.name}$" in labels, f"{node.name} has no label"


def test_fig_3_5_draws_the_gradient_along_the_cell_state():
    """With a cell state, the error flows back along c (dL/dc, one f_t per step); without
    one, along h (dL/dh)."""
    ax = diagrams.draw_unrolled(steps=3, cell="LSTM", cell_state=True,
                                highlight=("gradient_path", "cell_path"))
    def heights(part):
        return [y for p in ax.patches if p.get_gid() == part and hasattr(p, "_posA_posB")
                and p._posA_posB is not None for (_, y) in p._posA_posB]
    c_y, back = set(heights("cell_path")), heights("gradient_path")
    h_y = set(heights("forward_path"))
    (c_line,), (h_line,) = c_y, h_y
    flat = [y for y in back if abs(y - back[-1]) < 1e-9]
    assert len(flat) >= 6  # one dashed arrow back across each gap
    assert abs(back[-1] - c_line) < abs(back[-1] - h_line) and back[-1] > c_line
    text = " ".join(t.get_text() for t in ax.texts if t.get_gid() == "gradient_path")
    assert r"\partial L/\partial c" in text and r"\partial L/\partial h" not in text
    ax = diagrams.draw_unrolled(steps=3, highlight=("gradient_path",))
    text = " ".join(t.get_text() for t in ax.texts if t.get_gid() == "gradient_path")
    assert r"\partial L/\partial h" in text


@pytest.mark.parametrize("variant", diagrams.CHANGED_PARTS)
def test_a_variant_beside_the_standard_cell_highlights_what_changes(variant):
    fig = diagrams.draw_variant_comparison(variant)
    left, right = fig.axes
    assert left.get_title() == "standard LSTM" and right.get_title()
    assert diagrams.GREY not in _colours(left).get("cell_path", [])
    lit = _colours(right)
    parts = diagrams.GRU_PARTS if variant == "gru" else diagrams._lstm_parts(variant)
    for name in diagrams.CHANGED_PARTS[variant]:
        assert to_hex(parts[name]) in lit[name]
    unchanged = "hidden_path"
    assert diagrams.GREY in lit[unchanged]
    assert set(lit[unchanged]) <= {diagrams.GREY, to_hex(diagrams.INK)}
    _, given = plt.subplots(1, 2)
    assert diagrams.draw_variant_comparison(variant, axes=given) is given[0].figure
