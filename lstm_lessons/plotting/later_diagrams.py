r"""Schematics of the cells after attention: minGRU beside the GRU, the sLSTM cell, the mLSTM's
matrix memory, and Blelloch's scan tree.

They follow :mod:`lstm_lessons.plotting.diagrams`: every drawing is made of named parts
(each artist's ``gid`` is its part's name), ``highlight`` names the parts to show in colour
and greys the rest, and an unknown name raises a ValueError that lists the valid ones
(:func:`later_part_names`). The two cell drawings record what they draw as a computation
(:func:`later_diagram_graph` returns a :class:`~lstm_lessons.plotting.diagrams.CellGraph`),
so that the tests run each drawing as a cell and compare it with the package's cell:

* minGRU (:mod:`lstm_lessons.cells.minimal`), in the paper's form, where z_t weighs the
  candidate::

      z_t = sigma(x_t W_x^z + b^z),   h~_t = x_t W_x^n + b^n,   h_t = (1 - z_t) h_{t-1} + z_t h~_t

* the sLSTM (:mod:`lstm_lessons.cells.slstm`)::

      log f_t = log sigma(f~_t),   m_t = max(log f_t + m_{t-1}, i~_t)
      i'_t = exp(i~_t - m_t),   f'_t = exp(log f_t + m_{t-1} - m_t)
      c_t = f'_t c_{t-1} + i'_t z_t,   n_t = f'_t n_{t-1} + i'_t,   h_t = o_t c_t / n_t

A node whose operation takes its inputs in an order ('max' takes any; 'exp_sub', exp(a - b),
and 'div', a / b, do not) is an :class:`OrderedNode` that lists them.

The mLSTM memory (:func:`draw_mlstm_memory`) is drawn from a real step of
:func:`~lstm_lessons.cells.mlstm.mlstm_forward` (:func:`mlstm_memory_example`): each matrix
and vector is a small heat map with its symbol. The scan tree (:func:`draw_scan_tree`) is
drawn from :func:`scan_tree`, the record of which spans Blelloch's up-sweep combines and which
carry each node of the down-sweep receives, the same tree as
:func:`~lstm_lessons.cells.scan.blelloch_scan` walks.
"""

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from ..cells.mlstm import init_mlstm_params, mlstm_forward
from ..cells.validation import check_int
from .diagrams import (
    GRU_PARTS,
    HIDDEN_COLOR,
    PATH_COLOR,
    Canvas,
    Node,
    diagram_graph,
    draw_gru_cell,
)
from .style import GATE_STYLE, OKABE_ITO

MINGRU_PARTS = {k: v for k, v in GRU_PARTS.items() if k != "reset_gate"}
SLSTM_PARTS = {
    "candidate": GATE_STYLE["g"]["color"],
    "input_gate": GATE_STYLE["i"]["color"],
    "forget_gate": GATE_STYLE["f"]["color"],
    "output_gate": GATE_STYLE["o"]["color"],
    "stabiliser": OKABE_ITO["black"],  # drawn dashed, the normaliser solid
    "cell_path": PATH_COLOR,
    "normaliser": OKABE_ITO["black"],
    "hidden_path": HIDDEN_COLOR,
}
MLSTM_PARTS = {
    "forget": GATE_STYLE["f"]["color"],
    "write": GATE_STYLE["i"]["color"],
    "memory": PATH_COLOR,
    "read": OKABE_ITO["sky"],
    "normaliser": OKABE_ITO["black"],
    "output": GATE_STYLE["o"]["color"],
}
SCAN_PARTS = {
    "steps": GATE_STYLE["g"]["color"],
    "up_sweep": OKABE_ITO["blue"],
    "down_sweep": OKABE_ITO["vermilion"],
}
_PARTS = {"mingru": MINGRU_PARTS, "slstm": SLSTM_PARTS, "mlstm_memory": MLSTM_PARTS,
          "scan_tree": SCAN_PARTS}
#: What minGRU removes from the GRU, as marked on the GRU by :func:`draw_mingru_comparison`:
#: mark -> the node of ``diagram_graph("gru")`` it sits on (or, for the h_{t-1} input of the
#: gates, the wire that carries h_{t-1} into the gates' bus).
MINGRU_REMOVED = {
    "h_{t-1} into the gates": ("h_{t-1}", "[h_{t-1},x_t]"),
    "reset gate": "r_t",
    "h_{t-1} into the candidate": "m_t",
    "tanh": "n_t",
}
_REMOVED_COLOR = OKABE_ITO["black"]


def later_part_names(diagram):
    """The names ``highlight`` accepts for ``diagram``: 'mingru', 'slstm', 'mlstm_memory' or
    'scan_tree'."""
    if diagram not in _PARTS:
        raise ValueError(f"diagram: expected one of {sorted(_PARTS)}, got {diagram!r}")
    return tuple(_PARTS[diagram])


@dataclass(frozen=True)
class OrderedNode(Node):
    """A node whose operation takes its inputs in order: ``args`` lists them (for 'exp_sub',
    exp(args[0] - args[1]); for 'div', args[0] / args[1])."""

    args: tuple = ()


def _ordered_block(cv, xy, op, name, args, part, text, width=0.8, height=0.5):
    cv.block(xy, op, name, part, width=width, height=height, layer=False, text=text)
    node = cv.nodes[name]
    cv.nodes[name] = OrderedNode(node.name, node.op, node.layer, node.part, node.shape,
                                 tuple(args))


# --- minGRU ------------------------------------------------------------------------------


def draw_mingru_cell(highlight=(), ax=None):
    """The minGRU cell of :mod:`lstm_lessons.cells.minimal`; returns the Axes.

    Drawn on the GRU's layout (:func:`~lstm_lessons.plotting.diagrams.draw_gru_cell`), so
    that the two read side by side. Top line: h_{t-1} -> (times 1 - z_t) -> (plus z_t h~_t)
    -> h_t. Both blocks read x_t only: the update gate z_t (a sigmoid) and the candidate
    h~_t (an affine map, no tanh); there is no reset gate.

    Alt text (suggested): "The minGRU cell. The previous state h_{t-1} runs along the top,
    is multiplied by one minus the update gate z_t, and the update gate times the candidate
    is added to give h_t. Below, the input x_t alone feeds two boxes: a sigmoid giving z_t
    and a plain linear map giving the candidate; no line from h_{t-1} reaches either box."
    """
    cv = Canvas(ax, MINGRU_PARTS, highlight, size=(6.4, 4.0))
    _mingru(cv)
    return cv.ax


def _mingru(cv):
    cv.frame(0.0, 0.0, 10.0, 5.6)
    top, bus, gate_y, keep_y, cand_y, mix_y = 4.6, 0.8, 2.0, 3.5, 2.5, 3.5
    xz, xs, xn, xj = 4.8, 6.1, 7.4, 0.9
    cand = r"\tilde h_t"
    # h_{t-1} runs along the top: 1 - z_t decides how much of it is kept
    cv.source("h_{t-1}", (-1.0, top), (-0.6, top + 0.4), color=cv.color("hidden_path"))
    cv.wire([(-1.0, top), (xz - 0.24, top)], "h_{t-1}", "(1-z_t)*h_{t-1}", "hidden_path")
    cv.node((xz, top), "mul", "(1-z_t)*h_{t-1}", "update_gate")
    cv.wire([(xz + 0.24, top), (xn - 0.24, top)], "(1-z_t)*h_{t-1}", "h_t", "hidden_path")
    cv.node((xn, top), "add", "h_t", "hidden_path")
    cv.wire([(xn + 0.24, top), (11.0, top)], "h_t", None, "hidden_path")
    cv.wire([(9.3, top), (9.3, 6.6)], "h_t", None, "hidden_path")
    cv.label((10.6, top + 0.4), "$h_t$", "hidden_path")
    cv.label((9.75, 6.4), "$h_t$", "hidden_path")
    # x_t alone feeds the update gate and the candidate
    cv.source("x_t", (xj, -1.0), (xj, -1.3))
    cv.wire([(xj, -1.0), (xj, bus), (xn, bus), (xn, cand_y - 0.29)], "x_t", cand, None)
    cv.wire([(xz, bus), (xz, gate_y - 0.32)], "x_t", "z_t", None)
    cv.block((xz, gate_y), "sigma", "z_t", "update_gate")
    cv.label((xz - 0.35, gate_y + 0.65), "$z_t$", "update_gate", fontsize=11)
    cv.block((xn, cand_y), "linear", cand, "candidate", width=1.0, height=0.5,
             text=r"$W_x^n$")
    cv.label((xn + 0.95, cand_y), f"${cand}$", "candidate", fontsize=11)
    # 1 - z_t keeps the old state; z_t weighs the candidate
    cv.wire([(xz, gate_y + 0.32), (xz, keep_y - 0.27)], "z_t", "1-z_t", "update_gate")
    cv.block((xz, keep_y), "one_minus", "1-z_t", "update_gate", width=0.7, height=0.45,
             layer=False)
    cv.wire([(xz, keep_y + 0.27), (xz, top - 0.24)], "1-z_t", "(1-z_t)*h_{t-1}",
            "update_gate")
    cv.wire([(xz, 2.8), (xs, 2.8), (xs, mix_y), (xn - 0.24, mix_y)], "z_t",
            f"z_t*{cand}", "update_gate")
    cv.wire([(xn, cand_y + 0.29), (xn, mix_y - 0.24)], cand, f"z_t*{cand}", "candidate")
    cv.node((xn, mix_y), "mul", f"z_t*{cand}", "candidate")
    cv.wire([(xn, mix_y + 0.24), (xn, top - 0.24)], f"z_t*{cand}", "h_t", "candidate")
    cv.ax.set_xlim(-1.3, 11.3)
    cv.ax.set_ylim(-1.6, 6.9)


def removed_marks():
    """Where :func:`draw_mingru_comparison` marks the GRU: mark -> (x, y), read from
    ``diagram_graph("gru")`` (a node's centre, or the middle of the h_{t-1} wire into the
    gates' bus)."""
    graph = diagram_graph("gru")
    marks = {}
    for mark, where in MINGRU_REMOVED.items():
        if isinstance(where, tuple):
            (wire,) = [w for w in graph.wires if (w.signal, w.target) == where]
            (x0, y0), (x1, y1) = wire.points[1], wire.points[2]  # the vertical run
            marks[mark] = ((x0 + x1) / 2, (y0 + y1) / 2)
        else:
            marks[mark] = tuple(graph.nodes[where].shape[1:3])
    return marks


def draw_mingru_comparison(axes=None):
    """The GRU (left) beside minGRU (right); on the GRU, a cross marks what minGRU removes.

    The crosses (part "removed", :data:`MINGRU_REMOVED`) sit on the h_{t-1} line into the
    gates' bus, the reset gate r_t, the recurrent map W_h^n of the candidate, and its tanh.
    ``axes`` is a pair of Axes (else a new figure). Returns the Figure.

    Alt text (suggested): "Two cells side by side. Left, the GRU, with four black crosses:
    on the line that brings h_{t-1} into the gates, on the reset gate, on the map that brings
    h_{t-1} into the candidate, and on the candidate's tanh. Right, minGRU: the same top line
    from h_{t-1} to h_t, but its update gate and candidate read x_t alone."
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.0))
    else:
        axes = tuple(axes)
        if len(axes) != 2:
            raise ValueError(f"axes: expected two Axes, got {len(axes)}")
        fig = axes[0].figure
    left, right = axes
    draw_gru_cell(ax=left)
    for x, y in removed_marks().values():
        d = 0.24
        for dy in (d, -d):
            (line,) = left.plot([x - d, x + d], [y - dy, y + dy], color=_REMOVED_COLOR, lw=2.4,
                                solid_capstyle="round", zorder=6)
            line.set_gid("removed")
    text = left.text(5.0, -1.15, r"$\times$: removed in minGRU", ha="center", va="center",
                     fontsize=10, color=_REMOVED_COLOR)
    text.set_gid("removed")
    draw_mingru_cell(ax=right)
    left.set_title(r"GRU: gates and candidate read $h_{t-1}$")
    right.set_title(r"minGRU: $h_t = (1 - z_t)\,h_{t-1} + z_t\,\tilde h_t$, from $x_t$ alone")
    return fig


# --- sLSTM -------------------------------------------------------------------------------

_I_PRE, _LOG_F = r"\tilde{\imath}_t", r"\log f_t"
_LOG_F_M = r"\log f_t+m_{t-1}"


def draw_slstm_cell(highlight=(), ax=None):
    """The sLSTM cell of :mod:`lstm_lessons.cells.slstm`; returns the Axes.

    Three states run left to right: the stabiliser m (top), the normaliser n and the cell c.
    From the bus [h_{t-1}, x_t] (the recurrent weights R act on h_{t-1}) four blocks give
    log f_t (log sigma), the input pre-activation i~_t (no function: the gate is exp),
    the candidate z_t (tanh) and the output gate o_t (sigma). The stabiliser
    m_t = max(log f_t + m_{t-1}, i~_t) is subtracted inside both exponentials, which gives
    the gates f'_t and i'_t; then c_t = f'_t c_{t-1} + i'_t z_t, n_t = f'_t n_{t-1} + i'_t
    and h_t = o_t c_t / n_t.

    Alt text (suggested): "The sLSTM cell. Three lines run across the top: the stabiliser m,
    the normaliser n and the cell state c. From h_{t-1} and x_t, four boxes compute the log
    forget gate, the input gate's pre-activation, the candidate z_t and the output gate o_t.
    The stabiliser m_t is the larger of log f_t + m_{t-1} and the input pre-activation; it is
    subtracted inside two exponentials that give the gates f' and i'. The cell state is
    f' c_{t-1} + i' z_t, the normaliser f' n_{t-1} + i', and h_t is o_t times c_t over n_t."
    """
    cv = Canvas(ax, SLSTM_PARTS, highlight, size=(8.6, 6.6))
    _slstm(cv)
    return cv.ax


def _slstm(cv):
    cv.frame(0.0, 0.0, 12.0, 9.2)
    bus, gate_y, stab_y, exp_y, yc, yn, ym = 0.8, 2.0, 3.4, 4.8, 6.2, 7.4, 8.6
    xf, xi, xz, xo, xj, xe, xnm, xd, xh = 1.7, 3.3, 6.6, 10.2, 0.9, 4.75, 2.6, 8.6, 11.2
    exp_w = 1.3
    # the states come in from the left
    for signal, y, part in [("m_{t-1}", ym, "stabiliser"), ("n_{t-1}", yn, "normaliser"),
                            ("c_{t-1}", yc, "cell_path")]:
        cv.source(signal, (-1.0, y), (-0.55, y + 0.35), color=cv.color(part))
    # the input bus: h_{t-1} (through R) and x_t (through W_x) feed the four blocks
    cv.source("h_{t-1}", (-1.0, bus), (-0.55, bus + 0.35), color=cv.color("hidden_path"))
    cv.source("x_t", (xj, -1.0), (xj, -1.3))
    bus_signal = "[h_{t-1},x_t]"
    cv.wire([(-1.0, bus), (xj - 0.06, bus)], "h_{t-1}", bus_signal, "hidden_path", arrow=False)
    cv.wire([(xj, -1.0), (xj, bus - 0.06)], "x_t", bus_signal, None, arrow=False)
    cv.node((xj, bus), "concat", bus_signal, None, radius=0.06)
    cv.wire([(xj + 0.06, bus), (xo, bus)], bus_signal, None, "hidden_path", arrow=False)
    blocks = [(xf, "log_sigma", _LOG_F, "forget_gate", r"$\log\sigma$", 1.0, -0.75),
              (xi, "linear", _I_PRE, "input_gate", r"$W, R$", 0.9, 0.8),
              (xz, "tanh", "z_t", "candidate", r"$\tanh$", 1.0, -0.75),
              (xo, "sigma", "o_t", "output_gate", r"$\sigma$", 0.8, -0.6)]
    for x, op, name, part, text, width, dx in blocks:
        cv.wire([(x, bus), (x, gate_y - 0.32)], bus_signal, name, part)
        cv.block((x, gate_y), op, name, part, width=width, text=text)
        dy = 0.05 if name == _I_PRE else 0.5  # beside the box: a wire runs above it
        cv.label((x + dx, gate_y + dy), f"${name}$", part, fontsize=10)
    # the stabiliser: m_t = max(log f_t + m_{t-1}, i~_t)
    cv.wire([(-1.0, ym), (0.6, ym), (0.6, stab_y), (xf - 0.24, stab_y)], "m_{t-1}", _LOG_F_M,
            "stabiliser", style="--")
    cv.wire([(xf, gate_y + 0.32), (xf, stab_y - 0.24)], _LOG_F, _LOG_F_M, "forget_gate")
    cv.node((xf, stab_y), "add", _LOG_F_M, "stabiliser")
    cv.wire([(xf + 0.24, stab_y), (xi - 0.44, stab_y)], _LOG_F_M, "m_t", "stabiliser",
            style="--")
    cv.wire([(xi, gate_y + 0.32), (xi, stab_y - 0.29)], _I_PRE, "m_t", "input_gate")
    cv.block((xi, stab_y), "max", "m_t", "stabiliser", width=0.8, height=0.5, layer=False,
             text=r"$\max$")
    cv.label((xi - 0.4, stab_y + 0.55), "$m_t$", "stabiliser", fontsize=10)
    # the gates: f'_t = exp(log f_t + m_{t-1} - m_t), i'_t = exp(i~_t - m_t)
    half = exp_w / 2 + 0.04
    cv.wire([(xi, stab_y + 0.29), (xi, exp_y), (xf + half, exp_y)], "m_t", "f'_t",
            "stabiliser", style="--")
    cv.wire([(xi, exp_y), (xe - half, exp_y)], "m_t", "i'_t", "stabiliser", style="--")
    cv.wire([(xi, exp_y), (xi, ym), (13.0, ym)], "m_t", None, "stabiliser", style="--")
    cv.wire([(xf, stab_y + 0.24), (xf, exp_y - 0.29)], _LOG_F_M, "f'_t", "forget_gate")
    _ordered_block(cv, (xf, exp_y), "exp_sub", "f'_t", (_LOG_F_M, "m_t"), "forget_gate",
                   r"$e^{\,\cdot\, - m_t}$", width=exp_w)
    cv.label((xf - 0.4, exp_y + 0.6), "$f'_t$", "forget_gate", fontsize=11)
    cv.wire([(xi, 2.7), (xe, 2.7), (xe, exp_y - 0.29)], _I_PRE, "i'_t", "input_gate")
    _ordered_block(cv, (xe, exp_y), "exp_sub", "i'_t", (_I_PRE, "m_t"), "input_gate",
                   r"$e^{\,\cdot\, - m_t}$", width=exp_w)
    cv.label((xe - 0.4, exp_y + 0.6), "$i'_t$", "input_gate", fontsize=11)
    # the cell: c_t = f'_t c_{t-1} + i'_t z_t
    cv.wire([(-1.0, yc), (xf - 0.24, yc)], "c_{t-1}", "f'_t*c_{t-1}", "cell_path")
    cv.wire([(xf, exp_y + 0.29), (xf, yc - 0.24)], "f'_t", "f'_t*c_{t-1}", "forget_gate")
    cv.node((xf, yc), "mul", "f'_t*c_{t-1}", "forget_gate")
    cv.wire([(xf + 0.24, yc), (xz - 0.24, yc)], "f'_t*c_{t-1}", "c_t", "cell_path")
    cv.wire([(xe, exp_y + 0.29), (xe, 5.4), (xz - 0.24, 5.4)], "i'_t", "i'_t*z_t", "input_gate")
    cv.wire([(xz, gate_y + 0.32), (xz, 5.4 - 0.24)], "z_t", "i'_t*z_t", "candidate")
    cv.node((xz, 5.4), "mul", "i'_t*z_t", "input_gate")
    cv.wire([(xz, 5.64), (xz, yc - 0.24)], "i'_t*z_t", "c_t", "candidate")
    cv.node((xz, yc), "add", "c_t", "cell_path")
    cv.wire([(xz + 0.24, yc), (13.0, yc)], "c_t", None, "cell_path")
    # the normaliser: n_t = f'_t n_{t-1} + i'_t
    cv.wire([(-1.0, yn), (xnm - 0.24, yn)], "n_{t-1}", "f'_t*n_{t-1}", "normaliser")
    cv.wire([(xf, 5.6), (xnm, 5.6), (xnm, yn - 0.24)], "f'_t", "f'_t*n_{t-1}", "forget_gate")
    cv.node((xnm, yn), "mul", "f'_t*n_{t-1}", "forget_gate")
    cv.wire([(xnm + 0.24, yn), (xe - 0.24, yn)], "f'_t*n_{t-1}", "n_t", "normaliser")
    cv.wire([(xe, 5.4), (xe, yn - 0.24)], "i'_t", "n_t", "input_gate")
    cv.node((xe, yn), "add", "n_t", "normaliser")
    cv.wire([(xe + 0.24, yn), (13.0, yn)], "n_t", None, "normaliser")
    for signal, y, part in [("m_t", ym, "stabiliser"), ("n_t", yn, "normaliser"),
                            ("c_t", yc, "cell_path")]:
        cv.label((12.6, y + 0.35), f"${signal}$", part)
    # the output: h_t = o_t c_t / n_t
    cv.wire([(xd, yc), (xd, 5.4 + 0.29)], "c_t", "c_t/n_t", "cell_path")
    cv.wire([(7.6, yn), (7.6, 5.4), (xd - 0.54, 5.4)], "n_t", "c_t/n_t", "normaliser")
    _ordered_block(cv, (xd, 5.4), "div", "c_t/n_t", ("c_t", "n_t"), "hidden_path",
                   r"$c_t / n_t$", width=1.0)
    cv.wire([(xd + 0.54, 5.4), (xo - 0.24, 5.4)], "c_t/n_t", "h_t", "hidden_path")
    cv.wire([(xo, gate_y + 0.32), (xo, 5.4 - 0.24)], "o_t", "h_t", "output_gate")
    cv.node((xo, 5.4), "mul", "h_t", "output_gate")
    cv.wire([(xo + 0.24, 5.4), (xh, 5.4), (xh, bus), (13.0, bus)], "h_t", None, "hidden_path")
    cv.label((12.6, bus + 0.35), "$h_t$", "hidden_path")
    cv.ax.set_xlim(-1.3, 13.3)
    cv.ax.set_ylim(-1.6, 9.5)


_GRAPHS = {"mingru": (MINGRU_PARTS, _mingru), "slstm": (SLSTM_PARTS, _slstm)}


def later_diagram_graph(diagram):
    """The :class:`~lstm_lessons.plotting.diagrams.CellGraph` of 'mingru' or 'slstm' (drawn
    on a figure of its own, which is not shown)."""
    if diagram not in _GRAPHS:
        raise ValueError(f"diagram: expected one of {sorted(_GRAPHS)}, got {diagram!r}")
    parts, draw = _GRAPHS[diagram]
    cv = Canvas(Figure().add_subplot(), parts, (), None)
    draw(cv)
    return cv.graph


# --- the mLSTM's matrix memory ------------------------------------------------------------


def mlstm_memory_example(H=4, T=3, seed=0):
    """The values of the last step of one sequence through the package's mLSTM.

    Runs :func:`~lstm_lessons.cells.mlstm.mlstm_forward` on T steps of random input (D = 3,
    parameters :func:`~lstm_lessons.cells.mlstm.init_mlstm_params` times 2, seed ``seed``)
    and returns, for step t = T: the memory before and after, its gates, the key, value and
    query, the normaliser, and the output, keyed by their symbols (``"C_{t-1}"``,
    ``"f'_t"``, ``"i'_t v_t k_t^T"``, ``"C_t q_t"``, ``"h_t"``, ...). ``"C_t"`` and ``"h_t"``
    are the cell's own; the others are the terms of
    C_t = f'_t C_{t-1} + i'_t v_t k_t^T and h_t = o_t (C_t q_t) / max(|n_t^T q_t|, e^{-m_t}).
    """
    H = check_int("H", H, 1, 8)
    T = check_int("T", T, 1, 64)
    D = 3
    rng = np.random.default_rng(seed)
    params = {k: 2.0 * v for k, v in init_mlstm_params(D, H, seed=seed).items()}
    hs, cache = mlstm_forward(rng.normal(size=(T, 1, D)), params)
    t = T - 1
    q, k, v, o = (np.array(a[t, 0]) for a in (cache.q, cache.k, cache.v, cache.o))
    f, i = float(cache.f[t, 0]), float(cache.i[t, 0])
    C_prev, C = np.array(cache.C[t, 0]), np.array(cache.C[t + 1, 0])
    n = np.array(cache.n[t + 1, 0])
    return {"C_{t-1}": C_prev, "f'_t": f, "i'_t": i, "v_t": v, "k_t": k,
            "f'_t C_{t-1}": f * C_prev, "i'_t v_t k_t^T": i * np.outer(v, k), "C_t": C,
            "q_t": q, "C_t q_t": C @ q, "n_t": n, "n_t^T q_t": float(n @ q),
            "e^{-m_t}": float(np.exp(-cache.m[t + 1, 0])), "o_t": o, "h_t": np.array(hs[t, 0])}


def draw_mlstm_memory(highlight=(), ax=None, H=4, T=3, seed=0):
    """The mLSTM's matrix memory at one step, drawn from :func:`mlstm_memory_example`.

    Top row, the write: f'_t C_{t-1} + i'_t v_t k_t^T = C_t, each an H x H heat map
    (v_t as a column, k_t^T as a row: the outer product is their multiplication table).
    Bottom row, the read: C_t q_t, divided by max(|n_t^T q_t|, e^{-m_t}) and times o_t,
    gives h_t. Each heat map's image has its symbol as its label and its part as its gid;
    one colour scale (blue negative, red positive) for all. The step is the last of ``T``
    (:func:`mlstm_memory_example`); one of its two stabilised gates is exactly 1, the one
    whose exponent the max picked (with the defaults f'_t < 1 and i'_t = 1; T = 4 shows the
    other case). Returns the Axes.

    Alt text (suggested): "The mLSTM's memory at one step, as heat maps. Top row: the old
    memory C_{t-1}, scaled by the forget gate, plus the outer product of the value v_t and
    the key k_t, scaled by the input gate, gives the new H by H memory C_t. Bottom row: C_t
    times the query q_t gives a vector; divided by the larger of |n_t . q_t| and e^{-m_t}
    and multiplied by the output gate, it is h_t."
    """
    values = mlstm_memory_example(H=H, T=T, seed=seed)
    cv = Canvas(ax, MLSTM_PARTS, highlight, size=(9.0, 5.0))
    s = 0.45  # one cell of a heat map
    g = H * s
    vmax = max(float(np.max(np.abs(np.atleast_1d(v)))) for v in values.values())
    texts = {"fontsize": 12}

    def heat(x0, y0, array, signal, part, label_side="below"):
        array = np.atleast_2d(array)
        rows, cols = array.shape
        lit = not cv.highlight or part in cv.highlight
        image = cv.ax.imshow(array, cmap="RdBu_r" if lit else "Greys", vmin=-vmax,
                             vmax=vmax, alpha=1.0 if lit else 0.35, origin="upper",
                             extent=(x0, x0 + cols * s, y0, y0 + rows * s), zorder=2,
                             interpolation="nearest")
        image.set_gid(part)
        image.set_label(signal)
        frame = Rectangle((x0, y0), cols * s, rows * s, fill=False,
                          edgecolor=cv.color(part), lw=cv.width(part, 1.4), zorder=3)
        cv.add(frame)
        frame.set_gid(part)
        y = y0 - 0.3 if label_side == "below" else y0 + rows * s + 0.3
        cv.label((x0 + cols * s / 2, y), f"${signal}$", part, fontsize=11)

    def sign(x, y, text, part=None, **kwargs):
        cv.label((x, y), text, part, **{**texts, **kwargs})

    # the write: f'_t C_{t-1} + i'_t v_t k_t^T = C_t
    y0 = 2.4
    sign(-0.7, y0 + g + 0.75, "write", "memory", fontsize=11, ha="left")
    f, i = values["f'_t"], values["i'_t"]
    sign(0.0, y0 + g / 2, f"$f'_t = {f:.2f}$\n$\\times$", "forget", fontsize=10)
    heat(0.8, y0, values["C_{t-1}"], "C_{t-1}", "forget")
    sign(0.8 + g + 0.45, y0 + g / 2, "$+$")
    x_w = 0.8 + g + 1.6
    sign(x_w - 0.2, y0 + g / 2, f"$i'_t = {i:.2f}$\n$\\times$", "write", fontsize=10)
    heat(x_w + 0.55, y0, values["v_t"][:, None], "v_t", "write")
    heat(x_w + 0.55 + s + 0.15, y0 + g + 0.15, values["k_t"][None, :], "k_t^T", "write",
         label_side="above")
    heat(x_w + 0.55 + s + 0.15, y0, values["i'_t v_t k_t^T"], "i'_t v_t k_t^T", "write")
    x_c = x_w + 0.55 + s + 0.15 + g + 0.9
    sign(x_c - 0.45, y0 + g / 2, "$=$")
    heat(x_c, y0, values["C_t"], "C_t", "memory")
    heat(x_c + g + 0.6, y0, values["n_t"][:, None], "n_t", "normaliser")
    # the read: h_t = o_t (C_t q_t) / max(|n_t^T q_t|, e^{-m_t})
    y1 = -0.6
    sign(-0.7, y1 + g + 0.45, "read", "read", fontsize=11, ha="left")
    sign(0.35, y1 + g / 2, r"$C_t\,\times$", "read")
    heat(0.9, y1, values["q_t"][:, None], "q_t", "read")
    sign(0.9 + s + 0.4, y1 + g / 2, "$=$")
    heat(0.9 + s + 0.8, y1, values["C_t q_t"][:, None], "C_t q_t", "read")
    x = 0.9 + 2 * s + 1.0
    n_q, floor = values["n_t^T q_t"], values["e^{-m_t}"]
    sign(x, y1 + g / 2, f"$\\div\\ \\max(|n_t^\\top q_t|,\\ e^{{-m_t}})$\n"
         f"$= \\max({abs(n_q):.2f},\\ {floor:.2f})$", "normaliser", fontsize=10, ha="left")
    x += 3.3
    sign(x, y1 + g / 2, r"$\odot$")
    heat(x + 0.4, y1, values["o_t"][:, None], "o_t", "output")
    sign(x + s + 0.8, y1 + g / 2, "$=$")
    heat(x + s + 1.2, y1, values["h_t"][:, None], "h_t", "output")
    x_end = max(x + 2 * s + 1.6, x_c + g + 0.6 + s + 0.4)
    cv.ax.set_xlim(-0.8, x_end)
    cv.ax.set_ylim(y1 - 0.8, y0 + g + 1.0)
    return cv.ax


# --- the scan tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanTree:
    """Blelloch's tree over T steps, level 0 the steps, the last level the root.

    ``spans[l][k]`` = (s, e): node k of level l combines steps s..e (1-based, inclusive).
    ``children[l][k]``: its nodes in level l - 1 (one for a node carried up alone; empty at
    level 0). ``carries[l][k]`` = j: in the down-sweep the node receives h_j, the state just
    before its first step; ``sources[l][k]`` says how: 'h0' (the root), 'parent' (a left or
    lone child gets its parent's carry) or 'left' (a right child gets the carry after its
    left sibling, (A, B) of the sibling applied to the parent's carry).
    """

    T: int
    spans: tuple
    children: tuple
    carries: tuple
    sources: tuple


def scan_tree(T):
    """The :class:`ScanTree` of :func:`~lstm_lessons.cells.scan.blelloch_scan` over T steps."""
    T = check_int("T", T, 1, 64)
    spans, children = [tuple((t, t) for t in range(1, T + 1))], [tuple(() for _ in range(T))]
    while len(spans[-1]) > 1:
        below = spans[-1]
        m = len(below) // 2
        up = [(below[2 * k][0], below[2 * k + 1][1]) for k in range(m)]
        kids = [(2 * k, 2 * k + 1) for k in range(m)]
        if len(below) % 2:  # an odd last node goes up alone
            up.append(below[-1])
            kids.append((len(below) - 1,))
        spans.append(tuple(up))
        children.append(tuple(kids))
    carries = [None] * len(spans)
    sources = [None] * len(spans)
    carries[-1], sources[-1] = (0,), ("h0",)
    for level in range(len(spans) - 1, 0, -1):
        below_carries = [None] * len(spans[level - 1])
        below_sources = [None] * len(spans[level - 1])
        for k, kids in enumerate(children[level]):
            below_carries[kids[0]] = carries[level][k]
            below_sources[kids[0]] = "parent"
            if len(kids) == 2:  # the right child starts after its left sibling's last step
                below_carries[kids[1]] = spans[level - 1][kids[0]][1]
                below_sources[kids[1]] = "left"
        carries[level - 1], sources[level - 1] = tuple(below_carries), tuple(below_sources)
    return ScanTree(T, tuple(spans), tuple(children), tuple(carries), tuple(sources))


def draw_scan_tree(T=8, highlight=(), ax=None):
    """Blelloch's scan over T steps as two trees: the up-sweep (left) and the down-sweep
    (right), drawn from :func:`scan_tree`; returns the Axes.

    Up-sweep: the steps 1..T at the bottom; each node above combines its two children and
    is labelled by the span of steps it covers ("1:2", "1:4", ...); a level with an odd
    number of nodes carries its last one up alone. Down-sweep: the root receives h_0; a left
    (or lone) child receives its parent's carry, a right child the state after its left
    sibling (dotted arrow from the sibling); each node is labelled by the carry it receives,
    and at the bottom the steps compute h_t = a_t h_{t-1} + b_t. Parts: "steps",
    "up_sweep", "down_sweep".

    Alt text (suggested, T = 8): "Two binary trees over eight steps. Left, the up-sweep: the
    steps 1 to 8 at the bottom are combined in pairs into spans 1:2, 3:4, 5:6 and 7:8, then
    1:4 and 5:8, then 1:8 at the top. Right, the down-sweep, from the top: the root receives
    h_0; going down, each left child receives its parent's state and each right child the
    state after its left sibling, so that the bottom row receives h_0 to h_7, and each step
    t computes h_t from h_{t-1}."
    """
    tree = scan_tree(T)
    levels = len(tree.spans)
    pitch, rise, r = 1.0, 1.2, 0.36
    width = T * pitch
    cv = Canvas(ax, SCAN_PARTS, highlight, size=(max(6.0, 1.25 * T + 2.0), 0.9 * levels + 2.6))
    fontsize = 9 if T <= 16 else 7

    def x_of(span, offset):
        return offset + ((span[0] + span[1]) / 2 - 0.5) * pitch

    def circle(xy, text, part):
        color = cv.color(part)
        patch = Circle(xy, r, facecolor="white", edgecolor=color, lw=cv.width(part, 1.4),
                       zorder=3)
        cv.add(patch)
        patch.set_gid(part)
        cv.label(xy, text, part, fontsize=fontsize, zorder=4)

    up_off, down_off = 0.0, width + 1.5
    # up-sweep: steps at the bottom, spans above
    for level, spans in enumerate(tree.spans):
        for k, span in enumerate(spans):
            xy = (x_of(span, up_off), level * rise)
            text = f"{span[0]}" if level == 0 else f"{span[0]}:{span[1]}"
            circle(xy, text, "steps" if level == 0 else "up_sweep")
            for child in tree.children[level][k]:
                c = (x_of(tree.spans[level - 1][child], up_off), (level - 1) * rise)
                cv.line(_shorten(c, xy, r), "up_sweep")
    # down-sweep: the root at the top, the carries going down
    for level in range(levels - 1, -1, -1):
        for k, span in enumerate(tree.spans[level]):
            xy = (x_of(span, down_off), level * rise)
            circle(xy, f"$h_{{{tree.carries[level][k]}}}$", "down_sweep")
            if level == 0:
                continue
            for child in tree.children[level][k]:
                c = (x_of(tree.spans[level - 1][child], down_off), (level - 1) * rise)
                if tree.sources[level - 1][child] == "parent":
                    cv.line(_shorten(xy, c, r), "down_sweep")
                else:
                    left = tree.children[level][k][0]
                    s = (x_of(tree.spans[level - 1][left], down_off), (level - 1) * rise)
                    cv.line(_shorten(xy, c, r), "down_sweep")
                    cv.line(_shorten(s, c, r), "down_sweep", style=":")
    # the steps below the down-sweep: h_t = a_t h_{t-1} + b_t
    for t in range(1, T + 1):
        x = x_of((t, t), down_off)
        cv.line([(x, -r), (x, -rise + r)], "steps")
        circle((x, -rise), f"$h_{{{t}}}$", "steps")
    cv.label((width / 2, (levels - 1) * rise + 0.9), "up-sweep: spans combined", "up_sweep",
             fontsize=10)
    cv.label((down_off + width / 2, (levels - 1) * rise + 0.9),
             "down-sweep: the state each node receives", "down_sweep", fontsize=10)
    cv.label((down_off + width / 2, -rise - 0.75), r"$h_t = a_t h_{t-1} + b_t$", "steps",
             fontsize=10)
    cv.ax.set_xlim(-0.6, down_off + width + 0.1)
    cv.ax.set_ylim(-rise - 1.1, (levels - 1) * rise + 1.3)
    return cv.ax


def _shorten(a, b, r):
    """The segment from circle a to circle b, both of radius r, from edge to edge."""
    (x0, y0), (x1, y1) = a, b
    d = float(np.hypot(x1 - x0, y1 - y0))
    ux, uy = (x1 - x0) / d, (y1 - y0) / d
    return [(x0 + r * ux, y0 + r * uy), (x1 - r * ux, y1 - r * uy)]


__all__ = [
    "MINGRU_PARTS",
    "MINGRU_REMOVED",
    "MLSTM_PARTS",
    "SCAN_PARTS",
    "SLSTM_PARTS",
    "OrderedNode",
    "ScanTree",
    "draw_mingru_cell",
    "draw_mingru_comparison",
    "draw_mlstm_memory",
    "draw_scan_tree",
    "draw_slstm_cell",
    "later_diagram_graph",
    "later_part_names",
    "mlstm_memory_example",
    "removed_marks",
    "scan_tree",
]
