"""The diagrams of lstm_lessons.plotting.later_diagrams: each draws, each highlight colours
what it names and greys the rest; the minGRU and sLSTM drawings, run as the computations they
record, are the package's cells; the mLSTM memory shows the package's own step; and the scan
tree's spans and carries are those of Blelloch's scan, run on numbers."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from lstm_lessons.cells.activations import sigmoid  # noqa: E402
from lstm_lessons.cells.minimal import (  # noqa: E402
    BLOCKS,
    init_minimal_params,
    minimal_step_forward,
)
from lstm_lessons.cells.mlstm import init_mlstm_params, mlstm_forward  # noqa: E402
from lstm_lessons.cells.scan import blelloch_scan, loop_scan  # noqa: E402
from lstm_lessons.cells.slstm import SLSTM_GATES, init_slstm_params, slstm_forward  # noqa: E402
from lstm_lessons.plotting import diagrams  # noqa: E402
from lstm_lessons.plotting import later_diagrams as later  # noqa: E402

DRAW = {
    "mingru": later.draw_mingru_cell,
    "slstm": later.draw_slstm_cell,
    "mlstm_memory": later.draw_mlstm_memory,
    "scan_tree": lambda **kw: later.draw_scan_tree(7, **kw),
}
CANDIDATE, I_PRE, LOG_F = r"\tilde h_t", r"\tilde{\imath}_t", r"\log f_t"
# The block of the cell's stored weights each layer node of a drawing must use.
LAYER_BLOCKS = {
    "mingru": ({"z_t": "z", CANDIDATE: "n"}, BLOCKS["mingru"]),
    "slstm": ({"z_t": "z", I_PRE: "i", LOG_F: "f", "o_t": "o"}, SLSTM_GATES),
}


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
def test_each_drawing_draws_on_its_own_axes_and_on_a_given_one(kind):
    ax = DRAW[kind]()
    assert isinstance(ax, matplotlib.axes.Axes) and len(ax.patches) > 3
    _, given = plt.subplots()
    assert DRAW[kind](ax=given) is given


@pytest.mark.parametrize("kind", DRAW)
def test_each_highlight_colours_its_part_and_greys_the_others(kind):
    plain = _colours(DRAW[kind]())
    parts = later.later_part_names(kind)
    assert set(parts) <= set(plain), f"parts that draw nothing: {set(parts) - set(plain)}"
    for name in parts:
        lit = _colours(DRAW[kind](highlight=(name,)))
        own = to_hex(later._PARTS[kind][name])
        assert own not in (diagrams.GREY, to_hex(diagrams.INK))
        assert own in lit[name], f"{name} is not drawn in its colour {own}"
        for gid in plain:
            if gid in (name, "frame", None):
                continue
            assert set(lit[gid]) <= {diagrams.GREY, to_hex(diagrams.INK)}, \
                f"{gid} is not greyed out when only {name} is highlighted"
        assert lit != plain
        plt.close("all")


def test_the_mlstm_heat_maps_of_a_greyed_part_lose_their_colour_map():
    ax = later.draw_mlstm_memory(highlight="write")
    maps = {im.get_label(): im.get_cmap().name for im in ax.images}
    assert maps["v_t"] == maps["i'_t v_t k_t^T"] == "RdBu_r"
    assert maps["C_t"] == maps["C_{t-1}"] == maps["h_t"] == "Greys"


def test_unknown_parts_and_bad_arguments_are_refused_with_what_was_expected():
    with pytest.raises(ValueError, match="stabiliser") as err:
        later.draw_slstm_cell(highlight=("m",))
    assert "'m'" in str(err.value)
    with pytest.raises(ValueError, match="update_gate"):
        later.draw_mingru_cell(highlight="reset_gate")  # minGRU has none
    with pytest.raises(ValueError, match="expected one of"):
        later.later_part_names("mamba")
    with pytest.raises(ValueError, match="expected one of"):
        later.later_diagram_graph("mlstm_memory")
    with pytest.raises(ValueError, match="between 1 and 64"):
        later.draw_scan_tree(0)
    with pytest.raises(ValueError, match="bool"):
        later.scan_tree(True)
    with pytest.raises(ValueError, match="between 1 and 8"):
        later.draw_mlstm_memory(H=9)
    with pytest.raises(ValueError, match="two Axes"):
        later.draw_mingru_comparison(axes=plt.subplots(1, 3)[1])


# The cell drawings as computations: run_graph runs the recorded nodes and wires on numbers.

_POINTWISE = {
    "mul": np.multiply, "add": np.add, "max": np.maximum, "one_minus": lambda a: 1.0 - a,
    "exp_sub": lambda a, b: np.exp(a - b), "div": np.divide,
}
_FUNCTIONS = {"sigma": sigmoid, "tanh": np.tanh, "linear": lambda a: a,
              "log_sigma": lambda a: -np.logaddexp(0.0, -a)}
_ARITY = {"one_minus": 1}


def run_graph(graph, inputs, params, blocks, order, H, W_h):
    """The value of every node of ``graph`` from ``inputs``. A layer node reads the columns of
    block ``blocks[name]`` (``order``: the blocks in storage order, H columns each): x_t adds
    x W_x + b, h_{t-1} adds h params[W_h], the bus both."""
    values, pending = dict(inputs), dict(graph.nodes)
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
                assert name in blocks, f"{name} has no block of weights in the cell"
                j = order.index(blocks[name])
                cols = slice(j * H, (j + 1) * H)
                signals = []
                for s in fed:
                    signals += list(values[s][1]) if isinstance(values[s], tuple) else [s]
                a = 0.0
                for s in signals:
                    assert s in ("x_t", "h_{t-1}"), f"{name} reads {s}"
                    a = a + (values[s] @ params["W_x"][:, cols] + params["b"][cols]
                             if s == "x_t" else values[s] @ params[W_h][:, cols])
                values[name] = _FUNCTIONS[node.op](a)
            else:
                if isinstance(node, later.OrderedNode):
                    assert sorted(node.args) == fed, f"{name}: args {node.args}, wires {fed}"
                    fed = list(node.args)
                args = [values[s] for s in fed]
                assert not any(isinstance(v, tuple) for v in args), f"{name} reads the bus"
                assert len(args) == _ARITY.get(node.op, 2), f"{name} ({node.op}) fed by {fed}"
                values[name] = _POINTWISE[node.op](*args)
    return values


def test_the_mingru_drawing_computes_the_package_mingru():
    D, H = 4, 5
    params = {k: 3.0 * v for k, v in init_minimal_params("mingru", D, H, seed=2).items()}
    rng = np.random.default_rng(0)
    x, h_prev = 2.0 * rng.normal(size=(3, D)), rng.uniform(-1, 1, (3, H))
    blocks, order = LAYER_BLOCKS["mingru"]
    drawn = run_graph(later.later_diagram_graph("mingru"), {"x_t": x, "h_{t-1}": h_prev},
                      params, blocks, order, H, None)
    np.testing.assert_allclose(drawn["h_t"], minimal_step_forward("mingru", x, h_prev, params),
                               rtol=1e-12, atol=1e-12)
    z = sigmoid(x @ params["W_x"][:, :H] + params["b"][:H])
    np.testing.assert_allclose(drawn["z_t"], z, rtol=1e-12)
    assert (z > 0.1).any() and (z < 0.9).any()  # the gate is not stuck at one end


def test_mingru_is_the_gru_without_what_the_comparison_crosses_out():
    gru, mingru = diagrams.diagram_graph("gru"), later.later_diagram_graph("mingru")
    # the GRU's blocks read h_{t-1}; minGRU's read x_t alone, and it has no reset gate
    assert "h_{t-1}" in gru.inputs_of("[h_{t-1},x_t]") and "r_t" in gru.nodes
    assert mingru.inputs_of("z_t") == ["x_t"] and mingru.inputs_of(CANDIDATE) == ["x_t"]
    assert "r_t" not in mingru.nodes and "[h_{t-1},x_t]" not in mingru.nodes
    assert mingru.nodes[CANDIDATE].op == "linear" and gru.nodes["n_t"].op == "tanh"
    assert {w.signal for w in mingru.wires if w.target is not None and
            w.target in ("z_t", CANDIDATE)} == {"x_t"}
    assert mingru.inputs_of("h_t") == sorted([f"z_t*{CANDIDATE}", "(1-z_t)*h_{t-1}"])
    # each cross sits on what it names, and the comparison draws exactly those crosses
    assert later.MINGRU_REMOVED == {"h_{t-1} into the gates": ("h_{t-1}", "[h_{t-1},x_t]"),
                                    "reset gate": "r_t", "h_{t-1} into the candidate": "m_t",
                                    "tanh": "n_t"}
    marks = later.removed_marks()
    for mark, where in later.MINGRU_REMOVED.items():
        if isinstance(where, tuple):
            (wire,) = [w for w in gru.wires if (w.signal, w.target) == where]
            assert diagrams.distance_to_signal(marks[mark], gru, "h_{t-1}") < 1e-9
        else:
            assert diagrams.distance_to_node(marks[mark], gru.nodes[where]) == 0.0
    left, right = later.draw_mingru_comparison().axes
    crosses = [ln for ln in left.lines if ln.get_gid() == "removed"]
    centres = {tuple(np.round(np.mean(ln.get_xydata(), axis=0), 6)) for ln in crosses}
    assert centres == {tuple(np.round(p, 6)) for p in marks.values()}
    assert len(crosses) == 2 * len(marks)
    assert "minGRU" in right.get_title() and "GRU" in left.get_title()


def test_the_slstm_drawing_computes_the_package_slstm_from_its_cached_states():
    D, H, T = 3, 4, 5
    params = {k: 3.0 * v for k, v in init_slstm_params(D, H, seed=1).items()}
    x = 2.0 * np.random.default_rng(3).normal(size=(T, 2, D))
    _, cache = slstm_forward(x, params)
    graph = later.later_diagram_graph("slstm")
    blocks, order = LAYER_BLOCKS["slstm"]
    picked_gate = []
    for t in range(T):
        inputs = {"x_t": x[t], "h_{t-1}": cache.h[t], "c_{t-1}": cache.c[t],
                  "n_{t-1}": cache.n[t], "m_{t-1}": cache.m[t]}
        drawn = run_graph(graph, inputs, params, blocks, order, H, "R")
        expected = {"z_t": cache.z[t], "o_t": cache.o[t], "i'_t": cache.i[t],
                    "f'_t": cache.f[t], "m_t": cache.m[t + 1], "c_t": cache.c[t + 1],
                    "n_t": cache.n[t + 1], "h_t": cache.h[t + 1]}
        for name, value in expected.items():
            np.testing.assert_allclose(drawn[name], value, rtol=1e-11, atol=1e-12,
                                       err_msg=f"{name} at step {t + 1}")
        picked_gate.append(drawn["m_t"] == drawn[I_PRE])
    picked = np.array(picked_gate)
    assert picked.any() and (~picked).any()  # the max took each of its two inputs


def test_the_slstm_drawing_is_wired_as_its_equations_say():
    g = later.later_diagram_graph("slstm")
    bus = "[h_{t-1},x_t]"
    assert {n: g.inputs_of(n) for n in ("z_t", I_PRE, LOG_F, "o_t")} == dict.fromkeys(
        ("z_t", I_PRE, LOG_F, "o_t"), [bus])
    assert g.inputs_of(bus) == ["h_{t-1}", "x_t"]
    assert g.nodes["m_t"].op == "max" and g.inputs_of("m_t") == [r"\log f_t+m_{t-1}", I_PRE]
    assert g.nodes["i'_t"].args == (I_PRE, "m_t")
    assert g.nodes["f'_t"].args == (r"\log f_t+m_{t-1}", "m_t")
    assert g.nodes["c_t/n_t"].args == ("c_t", "n_t")
    assert g.inputs_of("n_t") == ["f'_t*n_{t-1}", "i'_t"]
    assert g.inputs_of("c_t") == ["f'_t*c_{t-1}", "i'_t*z_t"]


@pytest.mark.parametrize("diagram", ["mingru", "slstm"])
def test_every_wire_starts_on_its_signal_and_ends_on_its_node(diagram):
    graph = later.later_diagram_graph(diagram)
    for w in graph.wires:
        start = diagrams.distance_to_signal(w.points[0], graph, w.signal, exclude=w)
        assert start < 0.05, f"the wire of {w.signal} into {w.target} starts off its signal"
        if w.target is not None:
            end = diagrams.distance_to_node(w.points[-1], graph.nodes[w.target])
            assert end < 0.05, f"the wire of {w.signal} ends off its node {w.target}"
    assert {w.signal for w in graph.wires} <= set(graph.inputs) | set(graph.nodes)


@pytest.mark.parametrize("diagram", ["mingru", "slstm"])
def test_each_box_shows_its_operation_and_each_signal_its_symbol(diagram):
    ax = DRAW[diagram]()
    graph = later.later_diagram_graph(diagram)
    texts = {tuple(np.round(t.get_position(), 6)): t.get_text() for t in ax.texts}
    symbols = {"mul": r"$\odot$", "add": "$+$", "sigma": r"$\sigma$", "tanh": r"$\tanh$",
               "one_minus": "$1-$", "max": r"$\max$", "log_sigma": r"$\log\sigma$",
               "exp_sub": r"$e^{\,\cdot\, - m_t}$", "div": "$c_t / n_t$"}
    linear = {CANDIDATE: r"$W_x^n$", I_PRE: "$W, R$"}
    labels = set(texts.values())
    for node in graph.nodes.values():
        if node.op == "concat":
            continue
        shown = texts.get(tuple(np.round(node.shape[1:3], 6)))
        want = linear[node.name] if node.op == "linear" else symbols[node.op]
        assert shown == want, f"{node.name} shows {shown}"
        if re.fullmatch(r"[a-z]'?_t|\\tilde.*|\\log f_t", node.name):
            assert f"${node.name}$" in labels, f"{node.name} has no label"
    for signal in graph.inputs:
        assert f"${signal}$" in labels


# The mLSTM memory: the heat maps are the package's step.


@pytest.mark.parametrize("T,gate_below_one", [(3, "f'_t"), (4, "i'_t")])
def test_the_mlstm_memory_shows_the_package_step_and_its_two_equations(T, gate_below_one):
    """The max of the stabiliser sets one of the two gates to 1: T = 3 draws f'_t < 1,
    T = 4 draws i'_t < 1, so that a drawing that drops either gate fails one of them."""
    H, seed = 4, 0
    values = later.mlstm_memory_example(H=H, T=T, seed=seed)
    other = ({"f'_t", "i'_t"} - {gate_below_one}).pop()
    assert values[gate_below_one] < 0.9 and values[other] == 1.0
    params = {k: 2.0 * v for k, v in init_mlstm_params(3, H, seed=seed).items()}
    x = np.random.default_rng(seed).normal(size=(T, 1, 3))
    hs, cache = mlstm_forward(x, params)
    np.testing.assert_array_equal(values["C_t"], cache.C[T, 0])
    np.testing.assert_array_equal(values["C_{t-1}"], cache.C[T - 1, 0])
    np.testing.assert_array_equal(values["h_t"], hs[T - 1, 0])
    # the write and the read, as drawn, give the cell's C_t and h_t
    np.testing.assert_allclose(values["f'_t C_{t-1}"] + values["i'_t v_t k_t^T"],
                               values["C_t"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(values["i'_t v_t k_t^T"],
                               values["i'_t"] * np.outer(values["v_t"], values["k_t"]))
    den = max(abs(values["n_t^T q_t"]), values["e^{-m_t}"])
    np.testing.assert_allclose(values["o_t"] * values["C_t q_t"] / den, values["h_t"],
                               rtol=1e-12, atol=1e-14)
    assert np.abs(values["C_{t-1}"]).max() > 0.5
    ax = later.draw_mlstm_memory(H=H, T=T, seed=seed)
    images = {im.get_label(): np.asarray(im.get_array()) for im in ax.images}
    for signal in ("C_{t-1}", "i'_t v_t k_t^T", "C_t", "C_t q_t", "n_t", "h_t"):
        np.testing.assert_array_equal(images[signal].reshape(values[signal].shape),
                                      values[signal], err_msg=signal)
    np.testing.assert_array_equal(images["v_t"].ravel(), values["v_t"])
    np.testing.assert_array_equal(images["k_t^T"].ravel(), values["k_t"])
    assert images["C_t"].shape == (H, H) and images["k_t^T"].shape == (1, H)
    texts = " ".join(t.get_text() for t in ax.texts)
    f, i = values["f'_t"], values["i'_t"]
    assert f"f'_t = {f:.2f}" in texts and f"i'_t = {i:.2f}" in texts
    assert f"{abs(values['n_t^T q_t']):.2f}" in texts


# The scan tree: its record, run on numbers, is Blelloch's scan.


def test_the_scan_tree_of_eight_steps_has_the_books_labels():
    tree = later.scan_tree(8)
    assert tree.spans[1:] == (((1, 2), (3, 4), (5, 6), (7, 8)), ((1, 4), (5, 8)), ((1, 8),))
    assert tree.carries == ((0, 1, 2, 3, 4, 5, 6, 7), (0, 2, 4, 6), (0, 4), (0,))
    ax = later.draw_scan_tree(8)
    up = sorted(t.get_text() for t in ax.texts if t.get_gid() == "up_sweep" and
                re.fullmatch(r"\d+:\d+", t.get_text()))
    assert up == sorted(["1:2", "3:4", "5:6", "7:8", "1:4", "5:8", "1:8"])
    down = sorted(t.get_text() for t in ax.texts if t.get_gid() == "down_sweep" and
                  t.get_text().startswith("$h"))
    assert down == sorted(f"$h_{{{j}}}$" for level in tree.carries for j in level)


@pytest.mark.parametrize("T", [1, 2, 3, 5, 7, 8, 12, 13])
def test_the_scan_trees_spans_and_carries_are_blellochs_on_numbers(T):
    rng = np.random.default_rng(T)
    a, b = rng.uniform(-1.2, 1.2, (T, 1, 1)), rng.normal(size=(T, 1, 1))
    h0 = rng.normal(size=(1, 1))
    h = loop_scan(a, b, h0)
    before = np.concatenate([h0[None], h[:-1]])  # h_{t-1} for t = 1..T
    tree = later.scan_tree(T)
    # up-sweep: each node combines its children into the map of the steps of its span
    maps = [[(a[t], b[t]) for t in range(T)]]
    for level in range(1, len(tree.spans)):
        row = []
        for k, kids in enumerate(tree.children[level]):
            (A, B), *rest = [maps[level - 1][c] for c in kids]
            for A2, B2 in rest:
                A, B = A2 * A, A2 * B + B2
            s, e = tree.spans[level][k]
            assert (s, e) == (tree.spans[level - 1][kids[0]][0],
                              tree.spans[level - 1][kids[-1]][1])
            np.testing.assert_allclose(A, np.prod(a[s - 1 : e], axis=0), rtol=1e-12)
            np.testing.assert_allclose(B, loop_scan(a[s - 1 : e], b[s - 1 : e])[-1],
                                       rtol=1e-12, atol=1e-12)
            row.append((A, B))
        maps.append(row)
    assert sum(len(k) == 2 for level in tree.children for k in level) == T - 1
    assert len(tree.spans[-1]) == 1 and tree.spans[-1][0] == (1, T)
    # down-sweep: each node's carry, by the record's rule, is the loop's h_{s-1}
    carry = {(len(tree.spans) - 1, 0): h0}
    for level in range(len(tree.spans) - 1, 0, -1):
        for k, kids in enumerate(tree.children[level]):
            for c in kids:
                source = tree.sources[level - 1][c]
                if source == "parent":
                    carry[level - 1, c] = carry[level, k]
                else:
                    assert source == "left" and c == kids[1]
                    A, B = maps[level - 1][kids[0]]
                    carry[level - 1, c] = A * carry[level, k] + B
    for (level, k), value in carry.items():
        s = tree.spans[level][k][0]
        assert tree.carries[level][k] == s - 1
        np.testing.assert_allclose(value, before[s - 1], rtol=1e-12, atol=1e-12)
    # the leaves' carries give the package's scan
    leaves = np.stack([carry[0, t] for t in range(T)])
    np.testing.assert_allclose(a * leaves + b, blelloch_scan(a, b, h0), rtol=1e-12,
                               atol=1e-12)
