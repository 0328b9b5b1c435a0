"""Schematics of the cells, drawn from named parts: LSTM and its variants, simple RNN, GRU,
a network unrolled, and a variant beside the standard cell.

Each drawing is made of named parts ("forget_gate", "cell_path", ...); every
artist of a part carries the part's name as its ``gid``, so a test (or an SVG
reader) can find it. ``highlight`` names the parts to show in colour; the rest
of the drawing is then greyed out, so a chapter can point at one gate or one
path. An unknown name raises a ValueError that lists the valid ones
(:func:`part_names` gives them too).

A cell drawing also records what it draws as a computation: each box or circle
is a node that computes one signal (``"i_t"``, ``"c_t"``, ``"f_t*c_{t-1}"``, ...)
with one operation, and each line is a wire that carries one signal into one
node. :func:`diagram_graph` returns that record, a :class:`CellGraph`, so the
tests can run the drawing as a cell and compare it with the package's cells
(:mod:`lstm_lessons.cells.lstm`, :mod:`lstm_lessons.cells.gru`), and check that
every wire starts on a line or a node that carries its signal.

The labels are the book's symbols (``f_t``, ``i_t``, ``g_t``, ``o_t``,
``c_{t-1}``, ``h_t``, ``r_t``, ``z_t``, ``n_t``) and each gate has its course
colour from :data:`~lstm_lessons.plotting.style.GATE_STYLE`. The LSTM drawing
follows the step of :mod:`lstm_lessons.cells.plain` line by line:

    a = x W_x + h_prev W_h + b          the input bus (x_t and h_{t-1} meet)
    i, f, o = sigma(a_i), sigma(a_f), sigma(a_o);  g = tanh(a_g)      four blocks
    c = f * c_prev + i * g              the cell path: one product, one sum
    h = o * tanh(c)                     the output: tanh of c, one product

and each variant changes what :mod:`lstm_lessons.cells.variants` says it
changes: 'hard_sigmoid' the gates' function, 'cifg' f = 1 - i, 'nfg' f = 1,
'peephole' the taps c_{t-1} -> i, f and c_t -> o. The GRU drawing follows
:mod:`lstm_lessons.cells.gru`, with the reset gate on the recurrent part of the
candidate, r * (h_prev W_h^n + b_hn), as ``torch.nn.GRU`` applies it.
"""

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from .style import GATE_STYLE, OKABE_ITO

GREY = "#b0b0b0"
INK = "#222222"
CELL_FILL = "#f4f4f4"
PATH_COLOR = GATE_STYLE["c"]["color"]
HIDDEN_COLOR = OKABE_ITO["sky"]
GRADIENT_COLOR = OKABE_ITO["vermilion"]
CHANGE_COLOR = OKABE_ITO["yellow"]
_LIGHT = {CHANGE_COLOR}  # fills light enough to take dark text

LSTM_PARTS = {
    "forget_gate": GATE_STYLE["f"]["color"],
    "input_gate": GATE_STYLE["i"]["color"],
    "candidate": GATE_STYLE["g"]["color"],
    "output_gate": GATE_STYLE["o"]["color"],
    "cell_path": PATH_COLOR,
    "output_tanh": INK,
    "hidden_path": HIDDEN_COLOR,
    "gradient_path": GRADIENT_COLOR,
}
RNN_PARTS = {
    "tanh": INK,
    "hidden_path": HIDDEN_COLOR,
    "gradient_path": GRADIENT_COLOR,
}
GRU_PARTS = {
    "reset_gate": OKABE_ITO["sky"],
    "update_gate": GATE_STYLE["f"]["color"],
    "candidate": GATE_STYLE["g"]["color"],
    "hidden_path": HIDDEN_COLOR,
}
# Parts that only a variant of the LSTM cell has (``draw_lstm_cell(variant=...)``).
VARIANT_PARTS = {
    "peephole": {"peepholes": PATH_COLOR},
    "cifg": {"coupling": GATE_STYLE["f"]["color"]},
    "nfg": {"carousel": PATH_COLOR},
    "hard_sigmoid": {"hard_sigmoid": CHANGE_COLOR},
}
LSTM_VARIANTS = ("standard", *VARIANT_PARTS)
UNROLLED_PARTS = {
    "forward_path": HIDDEN_COLOR,
    "cell_path": PATH_COLOR,
    "gradient_path": GRADIENT_COLOR,
    "inputs": INK,
    "outputs": INK,
}
_PARTS = {"lstm": LSTM_PARTS, "rnn": RNN_PARTS, "gru": GRU_PARTS, "unrolled": UNROLLED_PARTS}

# What :func:`draw_variant_comparison` highlights in the variant, and its panel title.
CHANGED_PARTS = {
    "hard_sigmoid": ("hard_sigmoid",),
    "cifg": ("coupling",),
    "nfg": ("carousel",),
    "peephole": ("peepholes",),
    "gru": ("update_gate", "reset_gate"),
}
_TITLES = {
    "standard": "standard LSTM",
    "hard_sigmoid": r"hard-sigmoid gates: hs in place of $\sigma$",
    "cifg": r"CIFG: $f_t = 1 - i_t$",
    "nfg": r"no forget gate: $f_t = 1$",
    "peephole": r"peepholes: $i_t, f_t$ read $c_{t-1}$; $o_t$ reads $c_t$",
    "gru": r"GRU: update gate $z_t$, reset gate $r_t$",
}

_BLOCK_TEXT = {"sigma": r"$\sigma$", "hard_sigmoid": r"$\mathrm{hs}$", "tanh": r"$\tanh$",
               "one_minus": "$1-$"}
_NODE_TEXT = {"mul": r"$\odot$", "add": "$+$"}


def part_names(diagram, variant="standard"):
    """The names ``highlight`` accepts for ``diagram`` ('lstm', 'rnn', 'gru' or 'unrolled').

    For 'lstm', ``variant`` (one of ``LSTM_VARIANTS``) adds the parts of that variant.
    """
    if diagram not in _PARTS:
        raise ValueError(f"diagram: expected one of {sorted(_PARTS)}, got {diagram!r}")
    return tuple(_lstm_parts(variant) if diagram == "lstm" else _PARTS[diagram])


def _lstm_parts(variant):
    if variant not in LSTM_VARIANTS:
        raise ValueError(f"variant: expected one of {list(LSTM_VARIANTS)}, got {variant!r}")
    parts = {**LSTM_PARTS, **VARIANT_PARTS.get(variant, {})}
    if variant == "nfg":  # no forget gate to point at
        del parts["forget_gate"]
    return parts


@dataclass(frozen=True)
class Node:
    """A box or circle of a drawing: it computes the signal ``name`` with ``op``.

    ``op`` is 'sigma', 'hard_sigmoid' or 'tanh' (with ``layer=True``: the function of an
    affine map of the node's inputs, with the weights of block ``name``; without, of the
    one input), 'linear' (an affine map alone), 'mul', 'add', 'one_minus' or 'concat'.
    ``shape`` is ``("circle", x, y, r)`` or ``("box", x, y, width, height)``.
    """

    name: str
    op: str
    layer: bool
    part: str | None
    shape: tuple


@dataclass(frozen=True)
class Wire:
    """A line of a drawing that carries ``signal`` into the node ``target`` (None: out of
    the cell, or a trunk that other wires branch from), along ``points``."""

    signal: str
    target: str | None
    points: tuple
    part: str | None


@dataclass(frozen=True)
class CellGraph:
    """What a cell drawing computes: its inputs (signal -> entry point), nodes and wires."""

    inputs: dict
    nodes: dict
    wires: tuple

    @property
    def edges(self):
        """``{(source signal, target node)}``: which signal feeds which node."""
        return {(w.signal, w.target) for w in self.wires if w.target is not None}

    def inputs_of(self, name):
        """The signals that feed node ``name``, sorted."""
        return sorted({s for s, t in self.edges if t == name})


class _Canvas:
    """Draws named parts on one Axes, in colour when highlighted and grey otherwise, and
    records each node and wire it draws."""

    def __init__(self, ax, parts, highlight, size):
        if isinstance(highlight, str):
            highlight = (highlight,)
        highlight = tuple(highlight)
        unknown = [name for name in highlight if name not in parts]
        if unknown:
            raise ValueError(
                f"highlight: expected names from {list(parts)}, got unknown {unknown}"
            )
        if ax is None:
            _, ax = plt.subplots(figsize=size)
        self.ax, self.parts, self.highlight = ax, parts, set(highlight)
        self.inputs, self.nodes, self.wires = {}, {}, []
        ax.set_aspect("equal")
        ax.axis("off")

    @property
    def graph(self):
        return CellGraph(dict(self.inputs), dict(self.nodes), tuple(self.wires))

    def color(self, part):
        """The part's colour: its own when highlighted or when nothing is, else grey."""
        if part is None:
            return INK
        if not self.highlight or part in self.highlight:
            return self.parts[part]
        return GREY

    def width(self, part, base=1.6):
        return base * 1.9 if part in self.highlight else base

    def _tag(self, artist, part):
        artist.set_gid(part or "frame")
        return artist

    def add(self, patch):
        # Every drawing sets its own limits, so the patch need not update them (which
        # add_patch does, at most of the cost of a drawing).
        self.ax.add_artist(patch)

    def line(self, points, part=None, arrow=True, style="-", zorder=1):
        """A polyline through ``points``, with an arrow head at the end (no signal)."""
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        color, lw = self.color(part), self.width(part)
        if len(points) > 2:
            (segment,) = self.ax.plot(xs[:-1], ys[:-1], color=color, lw=lw, linestyle=style,
                                      solid_capstyle="round", zorder=zorder)
            self._tag(segment, part)
        head = FancyArrowPatch(points[-2], points[-1], color=color, lw=lw, linestyle=style,
                               arrowstyle="-|>" if arrow else "-", mutation_scale=12,
                               shrinkA=0, shrinkB=0, zorder=zorder)
        self.add(self._tag(head, part))

    def source(self, signal, xy, label_xy, **kwargs):
        """Where an input of the cell enters, with its label."""
        self.inputs[signal] = xy
        self.label(label_xy, f"${signal}$", **kwargs)

    def wire(self, points, signal, target=None, part=None, arrow=True, style="-"):
        """A line that carries ``signal`` into node ``target``."""
        self.wires.append(Wire(signal, target, tuple(points), part))
        self.line(points, part, arrow=arrow, style=style)

    def block(self, xy, op, name, part=None, width=0.8, height=0.6, layer=True, text=None):
        """A layer or a function: a rounded box centred on ``xy`` that computes ``name``."""
        x, y = xy
        self.nodes[name] = Node(name, op, layer, part, ("box", x, y, width, height))
        color = self.color(part)
        filled = part in self.highlight
        box = FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                             boxstyle="round,pad=0.04,rounding_size=0.12",
                             facecolor=color if filled else "white", edgecolor=color,
                             lw=self.width(part, 1.5), zorder=3)
        self.add(self._tag(box, part))
        ink = "white" if filled and color not in _LIGHT else INK
        artist = self.ax.text(x, y, text or _BLOCK_TEXT[op], ha="center", va="center",
                              fontsize=12, zorder=4, color=ink)
        self._tag(artist, part)

    def node(self, xy, op, name, part=None, radius=0.24):
        """A point-wise operation: a circle with its symbol ('mul', 'add'), or a junction
        where lines meet ('concat', a dot)."""
        self.nodes[name] = Node(name, op, False, part, ("circle", *xy, radius))
        color = self.color(part)
        if op == "concat":
            dot = Circle(xy, radius, facecolor=color, edgecolor=color, zorder=3)
            self.add(self._tag(dot, part))
            return
        circle = Circle(xy, radius, facecolor="white", edgecolor=color,
                        lw=self.width(part, 1.5), zorder=3)
        self.add(self._tag(circle, part))
        text = self.ax.text(*xy, _NODE_TEXT[op], ha="center", va="center", fontsize=13,
                            zorder=4, color=INK)
        self._tag(text, part)

    def label(self, xy, text, part=None, **kwargs):
        kwargs = {"ha": "center", "va": "center", "fontsize": 12,
                  "color": self.color(part) if part else INK, **kwargs}
        artist = self.ax.text(*xy, text, **kwargs)
        self._tag(artist, part)

    def frame(self, x0, y0, x1, y1, text=None):
        box = FancyBboxPatch((x0, y0), x1 - x0, y1 - y0,
                             boxstyle="round,pad=0.05,rounding_size=0.3",
                             facecolor=CELL_FILL, edgecolor="#888888", lw=1.0, zorder=0)
        self.add(self._tag(box, None))
        if text:
            self.label((x0 + 0.15, y1 - 0.3), text, ha="left", fontsize=10, color="#666666")


#: The canvas under its public name, for the drawings of other modules
#: (:mod:`lstm_lessons.plotting.later_diagrams`).
Canvas = _Canvas


def draw_lstm_cell(highlight=(), ax=None, variant="standard"):
    """The LSTM cell at step t; ``highlight`` names parts from :func:`part_names`.

    Returns the Axes. Top line: the cell path c_{t-1} -> (times f_t) -> (plus i_t g_t)
    -> c_t. Bottom line: h_{t-1} and x_t feed the gate blocks; h_t leaves on the right
    (to the next step) and at the top (to the output layer). ``variant`` draws what a
    variant of :mod:`lstm_lessons.cells.variants` changes: 'hard_sigmoid' the gates'
    function (part "hard_sigmoid"), 'cifg' the forget gate as 1 - i_t (part "coupling"),
    'nfg' no forget gate (part "carousel"), 'peephole' the lines from the cell state into
    the gates (part "peepholes": c_{t-1} into i and f, c_t into o).
    """
    cv = _Canvas(ax, _lstm_parts(variant), highlight, size=(6.4, 4.0))
    _lstm(cv, variant)
    return cv.ax


def _lstm(cv, variant):
    cv.frame(0.0, 0.0, 10.0, 5.6)
    top, bus, gate_y, yig = 4.6, 0.8, 2.0, 3.3
    xf, xi, xg, xo, xh, xj = 1.8, 3.3, 4.8, 6.6, 8.2, 0.9
    gate_fn = "hard_sigmoid" if variant == "hard_sigmoid" else "sigma"
    gate_box = "hard_sigmoid" if variant == "hard_sigmoid" else None
    # cell path: c_{t-1} -> (x f) -> + -> c_t; without a forget gate, straight to the sum
    cv.source("c_{t-1}", (-1.0, top), (-0.6, top + 0.4), color=cv.color("cell_path"))
    if variant == "nfg":
        cv.wire([(-1.0, top), (xg - 0.24, top)], "c_{t-1}", "c_t", "carousel")
        cv.label((xf, top + 0.4), "$f_t = 1$", "carousel", fontsize=11)
    else:
        cv.wire([(-1.0, top), (xf - 0.24, top)], "c_{t-1}", "f_t*c_{t-1}", "cell_path")
        cv.node((xf, top), "mul", "f_t*c_{t-1}", "forget_gate")
        cv.wire([(xf + 0.24, top), (xg - 0.24, top)], "f_t*c_{t-1}", "c_t", "cell_path")
    cv.node((xg, top), "add", "c_t", "cell_path")
    cv.wire([(xg + 0.24, top), (11.0, top)], "c_t", None, "cell_path")
    cv.label((10.6, top + 0.4), "$c_t$", "cell_path")
    # input bus: h_{t-1} from the left and x_t from below meet, then feed the blocks
    bus_signal = _input_bus(cv, bus, xj)
    cv.wire([(xj + 0.06, bus), (xo, bus)], bus_signal, None, "hidden_path", arrow=False)
    blocks = [(xi, gate_fn, "input_gate", "i", gate_box, 0.35),
              (xg, "tanh", "candidate", "g", None, -0.35),
              (xo, gate_fn, "output_gate", "o", gate_box, -0.35)]
    if variant not in ("cifg", "nfg"):
        blocks.insert(0, (xf, gate_fn, "forget_gate", "f", gate_box, -0.35))
    for x, op, part, letter, box_part, dx in blocks:
        cv.wire([(x, bus), (x, gate_y - 0.32)], bus_signal, f"{letter}_t", part)
        cv.block((x, gate_y), op, f"{letter}_t", box_part or part,
                 width=1.0 if part == "candidate" else 0.8)
        cv.label((x + dx, gate_y + 0.65), f"${letter}_t$", part, fontsize=11)
    # the forget gate up to its product: its own block, or 1 - i_t under CIFG
    if variant == "cifg":
        cv.wire([(xi, 2.6), (2.55, 2.6), (2.55, gate_y), (xf + 0.39, gate_y)], "i_t", "f_t",
                "coupling")
        cv.block((xf, gate_y), "one_minus", "f_t", "coupling", width=0.7, height=0.45,
                 layer=False)
        cv.label((xf - 0.35, gate_y + 0.65), "$f_t$", "coupling", fontsize=11)
        cv.wire([(xf, gate_y + 0.27), (xf, top - 0.24)], "f_t", "f_t*c_{t-1}", "coupling")
    elif variant != "nfg":
        cv.wire([(xf, gate_y + 0.32), (xf, top - 0.24)], "f_t", "f_t*c_{t-1}", "forget_gate")
    if variant == "peephole":
        # i and f read the old state c_{t-1}, before the forget gate scales it; o reads c_t
        cv.wire([(0.6, top), (0.6, gate_y), (xf - 0.42, gate_y)], "c_{t-1}", "f_t",
                "peepholes", style=":")
        cv.wire([(1.2, top), (1.2, 3.8), (xi - 0.3, 3.8), (xi - 0.3, gate_y + 0.32)],
                "c_{t-1}", "i_t", "peepholes", style=":")
        cv.wire([(7.3, top), (7.3, 2.8), (xo + 0.2, 2.8), (xo + 0.2, gate_y + 0.32)],
                "c_t", "o_t", "peepholes", style=":")
    # input gate and candidate meet in a product, then go up to the sum
    cv.wire([(xi, gate_y + 0.32), (xi, yig), (xg - 0.24, yig)], "i_t", "i_t*g_t", "input_gate")
    cv.wire([(xg, gate_y + 0.32), (xg, yig - 0.24)], "g_t", "i_t*g_t", "candidate")
    cv.node((xg, yig), "mul", "i_t*g_t", "input_gate")
    cv.wire([(xg, yig + 0.24), (xg, top - 0.24)], "i_t*g_t", "c_t", "candidate")
    # output: tanh(c_t) times o_t gives h_t
    cv.wire([(xh, top), (xh, 3.8)], "c_t", "tanh(c_t)", "output_tanh")
    cv.block((xh, 3.55), "tanh", "tanh(c_t)", "output_tanh", width=1.0, height=0.5,
             layer=False)
    cv.wire([(xh, 3.3), (xh, 2.24)], "tanh(c_t)", "h_t", "output_tanh")
    cv.wire([(xo, gate_y + 0.32), (xo, gate_y), (xh - 0.24, gate_y)], "o_t", "h_t",
            "output_gate")
    cv.node((xh, gate_y), "mul", "h_t", "output_gate")
    cv.wire([(xh, 1.76), (xh, bus), (11.0, bus)], "h_t", None, "hidden_path")
    cv.wire([(9.3, bus), (9.3, 6.6)], "h_t", None, "hidden_path")
    cv.label((10.6, bus + 0.4), "$h_t$", "hidden_path")
    cv.label((9.75, 6.4), "$h_t$", "hidden_path")
    # the gradient along the cell path, from c_t back to c_{t-1}
    if "gradient_path" in cv.highlight:
        cv.line([(10.8, top + 0.95), (-0.8, top + 0.95)], "gradient_path", style="--")
        cv.label((5.0, top + 1.3),
                 r"$\partial L/\partial c_{t-1} = \partial L/\partial c_t \odot f_t$ + ...",
                 "gradient_path", fontsize=11)
    cv.ax.set_xlim(-1.3, 11.3)
    cv.ax.set_ylim(-1.6, 6.9)


def draw_rnn_cell(highlight=(), ax=None):
    """The simple RNN cell, h_t = tanh(x_t W_x + h_{t-1} W_h + b); returns the Axes."""
    cv = _Canvas(ax, RNN_PARTS, highlight, size=(4.8, 3.4))
    _rnn(cv)
    return cv.ax


def _input_bus(cv, bus, xj):
    """h_{t-1} from the left and x_t from below, joined at (xj, bus): returns the bus's signal."""
    cv.source("h_{t-1}", (-1.0, bus), (-0.6, bus + 0.4), color=cv.color("hidden_path"))
    cv.source("x_t", (xj, -1.0), (xj, -1.3))
    bus_signal = "[h_{t-1},x_t]"
    cv.wire([(-1.0, bus), (xj - 0.06, bus)], "h_{t-1}", bus_signal, "hidden_path", arrow=False)
    cv.wire([(xj, -1.0), (xj, bus - 0.06)], "x_t", bus_signal, None, arrow=False)
    cv.node((xj, bus), "concat", bus_signal, None, radius=0.06)
    return bus_signal


def _rnn(cv):
    cv.frame(0.0, 0.0, 6.0, 4.0)
    bus, y, xj = 0.8, 2.2, 1.5
    bus_signal = _input_bus(cv, bus, xj)
    cv.wire([(xj + 0.06, bus), (3.0, bus), (3.0, y - 0.32)], bus_signal, "h_t", "tanh")
    cv.block((3.0, y), "tanh", "h_t", "tanh", width=0.9)
    cv.wire([(3.0, y + 0.32), (3.0, 3.2), (4.6, 3.2), (4.6, bus), (7.0, bus)], "h_t", None,
            "hidden_path")
    cv.wire([(4.6, 3.2), (4.6, 5.0)], "h_t", None, "hidden_path")
    cv.label((6.6, bus + 0.4), "$h_t$", "hidden_path")
    cv.label((5.05, 4.8), "$h_t$", "hidden_path")
    if "gradient_path" in cv.highlight:
        cv.line([(6.8, bus - 0.45), (-0.8, bus - 0.45)], "gradient_path", style="--")
        cv.label((4.3, -0.6), r"$\times\,\mathrm{diag}(1-h_t^2)\,W_h^\top$ per step",
                 "gradient_path", fontsize=11)
    cv.ax.set_xlim(-1.3, 7.3)
    cv.ax.set_ylim(-1.6, 5.3)


def draw_gru_cell(highlight=(), ax=None):
    """The GRU cell of :mod:`lstm_lessons.cells.gru`; returns the Axes.

    Top line: h_{t-1} -> (times z_t) -> (plus (1 - z_t) n_t) -> h_t. The reset gate
    scales the recurrent part of the candidate, m_t = h_{t-1} W_h^n + b_hn (the box
    W_h^n), before x_t's part is added and tanh gives n_t.
    """
    cv = _Canvas(ax, GRU_PARTS, highlight, size=(6.4, 4.0))
    _gru(cv)
    return cv.ax


def _gru(cv):
    cv.frame(0.0, 0.0, 10.0, 5.6)
    top, bus, gate_y, rm_y, mix_y = 4.6, 0.8, 2.0, 2.6, 3.5
    xr, xm, xz, xc, xn, xj = 1.8, 3.3, 4.8, 6.1, 7.4, 0.9
    # h_{t-1} runs along the top: z_t decides how much of it is kept
    cv.source("h_{t-1}", (-1.0, top), (-0.6, top + 0.4), color=cv.color("hidden_path"))
    cv.wire([(-1.0, top), (xz - 0.24, top)], "h_{t-1}", "z_t*h_{t-1}", "hidden_path")
    cv.node((xz, top), "mul", "z_t*h_{t-1}", "update_gate")
    cv.wire([(xz + 0.24, top), (xn - 0.24, top)], "z_t*h_{t-1}", "h_t", "hidden_path")
    cv.node((xn, top), "add", "h_t", "hidden_path")
    cv.wire([(xn + 0.24, top), (11.0, top)], "h_t", None, "hidden_path")
    cv.wire([(9.3, top), (9.3, 6.6)], "h_t", None, "hidden_path")
    cv.label((10.6, top + 0.4), "$h_t$", "hidden_path")
    cv.label((9.75, 6.4), "$h_t$", "hidden_path")
    # the input bus: h_{t-1} (down the left side) and x_t meet, and feed both gates
    cv.source("x_t", (xj, -1.0), (xj, -1.3))
    bus_signal = "[h_{t-1},x_t]"
    cv.wire([(-0.3, top), (-0.3, bus), (xj - 0.06, bus)], "h_{t-1}", bus_signal,
            "hidden_path", arrow=False)
    cv.wire([(xj, -1.0), (xj, bus - 0.06)], "x_t", bus_signal, None, arrow=False)
    cv.node((xj, bus), "concat", bus_signal, None, radius=0.06)
    cv.wire([(xj + 0.06, bus), (xz, bus)], bus_signal, None, "hidden_path", arrow=False)
    for x, part, letter, dx, dy in [(xr, "reset_gate", "r", -0.35, 0.65),
                                    (xz, "update_gate", "z", 0.35, 1.1)]:
        cv.wire([(x, bus), (x, gate_y - 0.32)], bus_signal, f"{letter}_t", part)
        cv.block((x, gate_y), "sigma", f"{letter}_t", part)
        cv.label((x + dx, gate_y + dy), f"${letter}_t$", part, fontsize=11)
    cv.wire([(xz, gate_y + 0.32), (xz, top - 0.24)], "z_t", "z_t*h_{t-1}", "update_gate")
    # 1 - z_t weighs the candidate
    cv.wire([(xz, mix_y), (xc - 0.39, mix_y)], "z_t", "1-z_t", "update_gate")
    cv.block((xc, mix_y), "one_minus", "1-z_t", "update_gate", width=0.7, height=0.45,
             layer=False)
    cv.wire([(xc + 0.39, mix_y), (xn - 0.24, mix_y)], "1-z_t", "(1-z_t)*n_t", "update_gate")
    # the reset gate scales the recurrent part m_t = h_{t-1} W_h^n + b_hn of the candidate
    cv.wire([(xm, top), (xm, 3.8)], "h_{t-1}", "m_t", "candidate")
    cv.block((xm, 3.55), "linear", "m_t", "candidate", width=0.9, height=0.5,
             text=r"$W_h^n$")
    cv.label((xm - 0.75, 3.55), "$m_t$", "candidate", fontsize=11)
    cv.wire([(xm, 3.3), (xm, rm_y + 0.24)], "m_t", "r_t*m_t", "candidate")
    cv.wire([(xr, gate_y + 0.32), (xr, rm_y), (xm - 0.24, rm_y)], "r_t", "r_t*m_t",
            "reset_gate")
    cv.node((xm, rm_y), "mul", "r_t*m_t", "reset_gate")
    cv.wire([(xm + 0.24, rm_y), (xn - 0.5, rm_y)], "r_t*m_t", "n_t", "reset_gate")
    # x_t's own part of the candidate: no reset gate on it
    cv.wire([(xj, 0.3), (xn, 0.3), (xn, rm_y - 0.32)], "x_t", "n_t", "candidate")
    cv.block((xn, rm_y), "tanh", "n_t", "candidate", width=1.0)
    cv.label((xn + 0.8, rm_y + 0.45), "$n_t$", "candidate", fontsize=11)
    cv.wire([(xn, rm_y + 0.32), (xn, mix_y - 0.24)], "n_t", "(1-z_t)*n_t", "candidate")
    cv.node((xn, mix_y), "mul", "(1-z_t)*n_t", "candidate")
    cv.wire([(xn, mix_y + 0.24), (xn, top - 0.24)], "(1-z_t)*n_t", "h_t", "candidate")
    cv.ax.set_xlim(-1.3, 11.3)
    cv.ax.set_ylim(-1.6, 6.9)


_GRAPHS = {"lstm": (LSTM_PARTS, _lstm), "rnn": (RNN_PARTS, _rnn), "gru": (GRU_PARTS, _gru)}


def diagram_graph(diagram, variant="standard"):
    """The :class:`CellGraph` of a cell drawing: 'lstm' (with ``variant``), 'gru' or 'rnn'.

    The drawing is made on a figure of its own, which is not shown.
    """
    if diagram not in _GRAPHS:
        raise ValueError(f"diagram: expected one of {sorted(_GRAPHS)}, got {diagram!r}")
    parts, draw = _GRAPHS[diagram]
    if diagram == "lstm":
        parts = _lstm_parts(variant)
    elif variant != "standard":
        raise ValueError(f"variant: only the 'lstm' diagram has variants, got {variant!r}")
    cv = _Canvas(Figure().add_subplot(), parts, (), None)
    if diagram == "lstm":
        draw(cv, variant)
    else:
        draw(cv)
    return cv.graph


def draw_variant_comparison(variant, axes=None):
    """The standard LSTM cell (left) beside ``variant`` (right), its change highlighted.

    ``variant`` is 'hard_sigmoid', 'cifg', 'nfg', 'peephole' or 'gru'; the right panel
    shows ``CHANGED_PARTS[variant]`` in colour and the rest in grey, as in
    Olah's "Understanding LSTM Networks". ``axes`` is a pair of Axes to draw on (else a
    new figure). Returns the Figure.
    """
    if variant not in CHANGED_PARTS:
        raise ValueError(f"variant: expected one of {list(CHANGED_PARTS)}, got {variant!r}")
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.0))
    else:
        axes = tuple(axes)
        if len(axes) != 2:
            raise ValueError(f"axes: expected two Axes, got {len(axes)}")
        fig = axes[0].figure
    left, right = axes
    draw_lstm_cell(ax=left)
    if variant == "gru":
        draw_gru_cell(highlight=CHANGED_PARTS[variant], ax=right)
    else:
        draw_lstm_cell(highlight=CHANGED_PARTS[variant], ax=right, variant=variant)
    left.set_title(_TITLES["standard"])
    right.set_title(_TITLES[variant])
    return fig


def draw_unrolled(steps=4, cell="RNN", cell_state=False, highlight=(), ax=None):
    """A recurrent network unrolled through ``steps`` steps; returns the Axes.

    One box per step, all sharing the same weights; x_t enters below, h_t leaves
    above and to the right. ``cell_state=True`` adds the LSTM's second line
    c_0 -> c_1 -> ...; the part "gradient_path" draws the error flowing back from
    the loss at the last step: along the hidden states (dL/dh, one Jacobian per
    step), or with ``cell_state=True`` along the cell state (dL/dc, one forget gate
    per step), which is the path the LSTM keeps open.
    """
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"steps: expected an int, got {type(steps).__name__}")
    if not 1 <= steps <= 8:
        raise ValueError(f"steps: expected an int from 1 to 8, got {steps}")
    if not cell_state and "cell_path" in (
        (highlight,) if isinstance(highlight, str) else tuple(highlight)
    ):
        raise ValueError("highlight: 'cell_path' needs cell_state=True")
    cv = _Canvas(ax, UNROLLED_PARTS, highlight, size=(1.6 * steps + 1.6, 3.2))
    pitch, w, h = 2.6, 1.4, 1.2
    # with a cell state, its line runs above h's, and the error flows back just above it
    y_h, y_c, y_text = (0.72, 1.26, 0.9) if cell_state else (1.02, None, 0.68)
    for k in range(steps):
        x0 = k * pitch
        box = FancyBboxPatch((x0, 0.3), w, h, boxstyle="round,pad=0.04,rounding_size=0.15",
                             facecolor=CELL_FILL, edgecolor="#888888", lw=1.0, zorder=2)
        cv.add(cv._tag(box, None))
        cv.label((x0 + w / 2, y_text), cell, fontsize=10, color="#555555")
        t = k + 1
        cv.line([(x0 + w / 2, -0.7), (x0 + w / 2, 0.3)], "inputs")
        cv.label((x0 + w / 2, -0.95), f"$x_{{{t}}}$", "inputs")
        cv.line([(x0 + w / 2, 1.5), (x0 + w / 2, 2.4)], "outputs")
        cv.label((x0 + w / 2, 2.65), f"$h_{{{t}}}$", "outputs")
        cv.line([(x0 - pitch + w, y_h), (x0, y_h)], "forward_path")
        cv.label((x0 - (pitch - w) / 2, y_h - 0.24), f"$h_{{{t - 1}}}$", "forward_path",
                 fontsize=10)
        if cell_state:
            cv.line([(x0 - pitch + w, y_c), (x0, y_c)], "cell_path")
            lift = 0.6 if "gradient_path" in cv.highlight else 0.25  # above the error's line
            cv.label((x0 - (pitch - w) / 2, y_c + lift), f"$c_{{{t - 1}}}$", "cell_path",
                     fontsize=10)
    last = (steps - 1) * pitch + w / 2
    if "gradient_path" in cv.highlight:
        # the error enters at the loss and flows back, one box at a time: along h (one
        # Jacobian per step), or along c (one forget gate per step)
        y_back = y_c + 0.24 if cell_state else 0.42
        cv.label((last + 0.9, 2.65), "$L$", "gradient_path")
        cv.line([(last + 0.9, 2.4), (last + 0.9, y_back), (last + w / 2 + 0.05, y_back)],
                "gradient_path", style="--")
        for k in range(steps):
            x0 = k * pitch
            cv.line([(x0 - 0.05, y_back), (x0 - pitch + w + 0.05, y_back)], "gradient_path",
                    style="--")
        text = (r"error $\partial L/\partial c$ flows back along the cell state: "
                r"one $f_t$ per step" if cell_state else
                r"error $\partial L/\partial h$ flows back: one Jacobian per step")
        cv.label((last / 2, 3.15), text, "gradient_path", fontsize=10)
    cv.ax.set_xlim(-pitch + w - 0.3, last + w / 2 + 0.8)
    cv.ax.set_ylim(-1.3, 3.5)
    return cv.ax


def _distance_to_segment(p, a, b):
    (px, py), (ax_, ay), (bx, by) = p, a, b
    dx, dy = bx - ax_, by - ay
    length2 = dx * dx + dy * dy
    s = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax_) * dx + (py - ay) * dy) / length2))
    return math.hypot(px - ax_ - s * dx, py - ay - s * dy)


def distance_to_node(point, node):
    """How far ``point`` is from a node's drawn shape (0 inside it)."""
    x, y = point
    kind, cx, cy, *size = node.shape
    if kind == "circle":
        return max(0.0, math.hypot(x - cx, y - cy) - size[0])
    half_w, half_h = size[0] / 2 + 0.04, size[1] / 2 + 0.04  # the box's rounding pad
    return math.hypot(max(0.0, abs(x - cx) - half_w), max(0.0, abs(y - cy) - half_h))


def distance_to_signal(point, graph, signal, exclude=None):
    """How far ``point`` is from where ``signal`` is drawn: its entry point, the node that
    computes it, or a wire that carries it (other than ``exclude``)."""
    found = []
    if signal in graph.inputs:
        found.append(math.dist(point, graph.inputs[signal]))
    if signal in graph.nodes:
        found.append(distance_to_node(point, graph.nodes[signal]))
    for w in graph.wires:
        if w.signal == signal and w is not exclude:
            segments = zip(w.points, w.points[1:], strict=False)
            found += [_distance_to_segment(point, a, b) for a, b in segments]
    return min(found, default=math.inf)
