"""Schematics of the cells, drawn from named parts: LSTM, simple RNN, GRU, a network unrolled.

Each drawing is made of named parts ("forget_gate", "cell_path", ...); every
artist of a part carries the part's name as its ``gid``, so a test (or an SVG
reader) can find it. ``highlight`` names the parts to show in colour; the rest
of the drawing is then greyed out, so a chapter can point at one gate or one
path. An unknown name raises a ValueError that lists the valid ones
(:func:`part_names` gives them too).

The labels are the book's symbols (``f_t``, ``i_t``, ``g_t``, ``o_t``,
``c_{t-1}``, ``h_t``, ``r_t``, ``z_t``, ``n_t``) and each gate has its course
colour from :data:`~lstm_lessons.plotting.style.GATE_STYLE`. The LSTM drawing
follows the step of :mod:`lstm_lessons.cells.plain` line by line:

    a = x W_x + h_prev W_h + b          the input bus (x_t and h_{t-1} meet)
    i, f, o = sigma(a_i), sigma(a_f), sigma(a_o);  g = tanh(a_g)      four blocks
    c = f * c_prev + i * g              the cell path: one product, one sum
    h = o * tanh(c)                     the output: tanh of c, one product

The GRU drawing follows :mod:`lstm_lessons.cells.gru`.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from .style import GATE_STYLE, OKABE_ITO

GREY = "#b0b0b0"
INK = "#222222"
CELL_FILL = "#f4f4f4"
PATH_COLOR = GATE_STYLE["c"]["color"]
HIDDEN_COLOR = OKABE_ITO["sky"]
GRADIENT_COLOR = OKABE_ITO["vermilion"]

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
}
UNROLLED_PARTS = {
    "forward_path": HIDDEN_COLOR,
    "cell_path": PATH_COLOR,
    "gradient_path": GRADIENT_COLOR,
    "inputs": INK,
    "outputs": INK,
}
_PARTS = {"lstm": LSTM_PARTS, "rnn": RNN_PARTS, "gru": GRU_PARTS, "unrolled": UNROLLED_PARTS}


def part_names(diagram, variant="standard"):
    """The names ``highlight`` accepts for ``diagram`` ('lstm', 'rnn', 'gru' or 'unrolled').

    For 'lstm', ``variant`` ('standard', 'peephole' or 'cifg') adds the parts of that variant.
    """
    if diagram not in _PARTS:
        raise ValueError(f"diagram: expected one of {sorted(_PARTS)}, got {diagram!r}")
    return tuple(_lstm_parts(variant) if diagram == "lstm" else _PARTS[diagram])


def _lstm_parts(variant):
    if variant != "standard" and variant not in VARIANT_PARTS:
        raise ValueError(
            f"variant: expected one of {['standard', *VARIANT_PARTS]}, got {variant!r}"
        )
    return {**LSTM_PARTS, **VARIANT_PARTS.get(variant, {})}


class _Canvas:
    """Draws named parts on one Axes, in colour when highlighted and grey otherwise."""

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
        ax.set_aspect("equal")
        ax.axis("off")

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

    def line(self, points, part=None, arrow=True, style="-", zorder=1):
        """A polyline through ``points``, with an arrow head at the end."""
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
        self.ax.add_patch(self._tag(head, part))

    def block(self, xy, label, part=None, width=0.9, height=0.6):
        """A layer (sigma or tanh): a rounded box centred on ``xy``."""
        x, y = xy
        color = self.color(part)
        filled = part in self.highlight
        box = FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                             boxstyle="round,pad=0.04,rounding_size=0.12",
                             facecolor=color if filled else "white", edgecolor=color,
                             lw=self.width(part, 1.5), zorder=3)
        self.ax.add_patch(self._tag(box, part))
        text = self.ax.text(x, y, label, ha="center", va="center", fontsize=12, zorder=4,
                            color="white" if filled else INK)
        self._tag(text, part)

    def node(self, xy, symbol, part=None, radius=0.24):
        """A point-wise operation: a circle with its symbol."""
        color = self.color(part)
        circle = Circle(xy, radius, facecolor="white", edgecolor=color,
                        lw=self.width(part, 1.5), zorder=3)
        self.ax.add_patch(self._tag(circle, part))
        text = self.ax.text(*xy, symbol, ha="center", va="center", fontsize=13, zorder=4,
                            color=INK)
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
        self.ax.add_patch(self._tag(box, None))
        if text:
            self.label((x0 + 0.15, y1 - 0.3), text, ha="left", fontsize=10, color="#666666")


def draw_lstm_cell(highlight=(), ax=None, variant="standard"):
    """The LSTM cell at step t; ``highlight`` names parts from :func:`part_names`.

    Returns the Axes. Top line: the cell path c_{t-1} -> (times f_t) -> (plus i_t g_t)
    -> c_t. Bottom line: h_{t-1} and x_t feed the four blocks; h_t leaves on the right
    (to the next step) and at the top (to the output layer). ``variant`` draws what a
    variant changes: 'peephole' adds the lines from the cell state into the gates (part
    "peepholes"), 'cifg' computes the input gate as 1 - f_t (part "coupling").
    """
    cv = _Canvas(ax, _lstm_parts(variant), highlight, size=(6.4, 4.0))
    cv.frame(0.0, 0.0, 10.0, 5.6)
    top, bus = 4.6, 0.8
    xf, xi, xg, xo = 1.8, 3.3, 4.8, 6.6
    gate_y = 2.0
    # cell path: c_{t-1} -> x f -> + -> c_t
    cv.line([(-1.0, top), (xf - 0.24, top)], "cell_path")
    cv.line([(xf + 0.24, top), (xg - 0.24, top)], "cell_path")
    cv.line([(xg + 0.24, top), (11.0, top)], "cell_path")
    cv.node((xf, top), r"$\odot$", "forget_gate")
    cv.node((xg, top), "$+$", "cell_path")
    cv.label((-0.6, top + 0.4), "$c_{t-1}$", "cell_path")
    cv.label((10.6, top + 0.4), "$c_t$", "cell_path")
    # input bus: h_{t-1} from the left, x_t from below
    cv.line([(-1.0, bus), (xo, bus)], "hidden_path", arrow=False)
    cv.label((-0.6, bus + 0.4), "$h_{t-1}$", "hidden_path")
    cv.line([(0.9, -1.0), (0.9, bus)], None, arrow=False)
    cv.label((0.9, -1.3), "$x_t$")
    # the four blocks, fed from the bus
    blocks = [(xf, r"$\sigma$", "forget_gate", "f"), (xi, r"$\sigma$", "input_gate", "i"),
              (xg, r"$\tanh$", "candidate", "g"), (xo, r"$\sigma$", "output_gate", "o")]
    for x, text, part, letter in blocks:
        if variant == "cifg" and part == "input_gate":
            # i_t = 1 - f_t: no weights of its own, fed from the forget gate
            cv.line([(xf, 2.75), (2.55, 2.75), (2.55, gate_y), (x - 0.4, gate_y)], "coupling")
            cv.block((x, gate_y), "$1-$", "coupling", width=0.8)
            cv.label((x - 0.35, gate_y + 0.65), f"${letter}_t$", part, fontsize=11)
            continue
        cv.line([(x, bus), (x, gate_y - 0.32)], part)
        cv.block((x, gate_y), text, part, width=1.0 if part == "candidate" else 0.8)
        cv.label((x - 0.35, gate_y + 0.65), f"${letter}_t$", part, fontsize=11)
    if variant == "peephole":
        # f and i read c_{t-1}; o reads the new c_t
        for start, end in [((1.0, top), (xf - 0.3, gate_y + 0.32)),
                           ((2.6, top), (xi - 0.3, gate_y + 0.32)),
                           ((7.2, top), (xo + 0.3, gate_y + 0.32))]:
            cv.line([start, end], "peepholes", style=":")
    # forget gate up to its product
    cv.line([(xf, gate_y + 0.32), (xf, top - 0.24)], "forget_gate")
    # input gate and candidate meet in a product, then go up to the sum
    xig, yig = xg, 3.3
    cv.line([(xi, gate_y + 0.32), (xi, yig), (xig - 0.24, yig)], "input_gate")
    cv.line([(xg, gate_y + 0.32), (xg, yig - 0.24)], "candidate")
    cv.node((xig, yig), r"$\odot$", "input_gate")
    cv.line([(xig, yig + 0.24), (xig, top - 0.24)], "candidate")
    # output: tanh(c_t) times o_t gives h_t
    xt, xh = 8.2, 8.2
    cv.line([(xt, top), (xt, 3.9)], "output_tanh")
    cv.block((xt, 3.55), r"$\tanh$", "output_tanh", width=1.0, height=0.5)
    cv.line([(xt, 3.3), (xh, 2.24)], "output_tanh")
    cv.line([(xo, gate_y + 0.32), (xo, 2.0 - 0.0), (xh - 0.24, 2.0)], "output_gate")
    cv.node((xh, 2.0), r"$\odot$", "output_gate")
    cv.line([(xh, 1.76), (xh, bus), (11.0, bus)], "hidden_path")
    cv.line([(9.3, bus), (9.3, 6.6)], "hidden_path")
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
    return cv.ax


def draw_rnn_cell(highlight=(), ax=None):
    """The simple RNN cell, h_t = tanh(x_t W_x + h_{t-1} W_h + b); returns the Axes."""
    cv = _Canvas(ax, RNN_PARTS, highlight, size=(4.8, 3.4))
    cv.frame(0.0, 0.0, 6.0, 4.0)
    bus, y = 0.8, 2.2
    cv.line([(-1.0, bus), (3.0, bus)], "hidden_path", arrow=False)
    cv.label((-0.6, bus + 0.4), "$h_{t-1}$", "hidden_path")
    cv.line([(1.5, -1.0), (1.5, bus)], None, arrow=False)
    cv.label((1.5, -1.3), "$x_t$")
    cv.line([(3.0, bus), (3.0, y - 0.32)], "tanh")
    cv.block((3.0, y), r"$\tanh$", "tanh")
    cv.line([(3.0, y + 0.32), (3.0, 3.2), (4.6, 3.2), (4.6, bus), (7.0, bus)], "hidden_path")
    cv.line([(4.6, 3.2), (4.6, 5.0)], "hidden_path")
    cv.label((6.6, bus + 0.4), "$h_t$", "hidden_path")
    cv.label((5.05, 4.8), "$h_t$", "hidden_path")
    if "gradient_path" in cv.highlight:
        cv.line([(6.8, bus - 0.45), (-0.8, bus - 0.45)], "gradient_path", style="--")
        cv.label((4.3, -0.6), r"$\times\,\mathrm{diag}(1-h_t^2)\,W_h^\top$ per step",
                 "gradient_path", fontsize=11)
    cv.ax.set_xlim(-1.3, 7.3)
    cv.ax.set_ylim(-1.6, 5.3)
    return cv.ax


def draw_gru_cell(highlight=(), ax=None):
    """The GRU cell of :mod:`lstm_lessons.cells.gru`: h = (1 - z) n + z h_prev; returns the Axes."""
    cv = _Canvas(ax, GRU_PARTS, highlight, size=(6.0, 4.0))
    cv.frame(0.0, 0.0, 9.0, 5.6)
    top, bus, gate_y, mix_y = 4.6, 0.8, 2.0, 3.4
    xr, xz, xm, xn = 1.8, 3.6, 5.5, 7.0
    # h_{t-1} runs along the top: z_t decides how much of it is kept
    cv.line([(-1.0, top), (xz - 0.24, top)], "hidden_path")
    cv.line([(xz + 0.24, top), (xn - 0.24, top)], "hidden_path")
    cv.line([(xn + 0.24, top), (10.0, top)], "hidden_path")
    cv.node((xz, top), r"$\odot$", "update_gate")
    cv.node((xn, top), "$+$", "hidden_path")
    cv.label((-0.6, top + 0.4), "$h_{t-1}$", "hidden_path")
    cv.label((9.6, top + 0.4), "$h_t$", "hidden_path")
    cv.line([(8.4, top), (8.4, 6.6)], "hidden_path")
    cv.label((8.85, 6.4), "$h_t$", "hidden_path")
    # the input bus: h_{t-1} and x_t feed both gates and the candidate
    cv.line([(-0.3, top), (-0.3, bus), (xn, bus)], "hidden_path", arrow=False)
    cv.line([(0.9, -1.0), (0.9, bus)], None, arrow=False)
    cv.label((0.9, -1.3), "$x_t$")
    for x, part, letter in [(xr, "reset_gate", "r"), (xz, "update_gate", "z")]:
        cv.line([(x, bus), (x, gate_y - 0.32)], part)
        cv.block((x, gate_y), r"$\sigma$", part)
        cv.label((x - 0.35, gate_y + 0.65), f"${letter}_t$", part, fontsize=11)
    cv.line([(xz, gate_y + 0.32), (xz, top - 0.24)], "update_gate")
    # 1 - z_t weighs the candidate
    cv.line([(xz, mix_y), (4.65, mix_y)], "update_gate")
    cv.block((5.05, mix_y), "$1-$", "update_gate", width=0.7, height=0.45)
    cv.line([(5.45, mix_y), (xn - 0.24, mix_y)], "update_gate")
    # the reset gate scales the recurrent part of the candidate
    cv.line([(xr, gate_y + 0.32), (xr, 2.8), (xm, 2.8), (xm, gate_y + 0.24)], "reset_gate")
    cv.line([(xm, bus), (xm, gate_y - 0.24)], "reset_gate")
    cv.node((xm, gate_y), r"$\odot$", "reset_gate")
    cv.line([(xm + 0.24, gate_y), (xn - 0.5, gate_y)], "candidate")
    cv.line([(xn, bus), (xn, gate_y - 0.32)], "candidate")
    cv.block((xn, gate_y), r"$\tanh$", "candidate", width=1.0)
    cv.label((xn + 0.4, gate_y + 0.65), "$n_t$", "candidate", fontsize=11)
    cv.line([(xn, gate_y + 0.32), (xn, mix_y - 0.24)], "candidate")
    cv.node((xn, mix_y), r"$\odot$", "candidate")
    cv.line([(xn, mix_y + 0.24), (xn, top - 0.24)], "candidate")
    cv.ax.set_xlim(-1.3, 10.3)
    cv.ax.set_ylim(-1.6, 6.9)
    return cv.ax


def draw_unrolled(steps=4, cell="RNN", cell_state=False, highlight=(), ax=None):
    """A recurrent network unrolled through ``steps`` steps; returns the Axes.

    One box per step, all sharing the same weights; x_t enters below, h_t leaves
    above and to the right. ``cell_state=True`` adds the LSTM's second line
    c_0 -> c_1 -> ...; the part "gradient_path" draws the error flowing back from
    the loss at the last step.
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
    y_h, y_c = 1.02, 1.38
    for k in range(steps):
        x0 = k * pitch
        box = FancyBboxPatch((x0, 0.3), w, h, boxstyle="round,pad=0.04,rounding_size=0.15",
                             facecolor=CELL_FILL, edgecolor="#888888", lw=1.0, zorder=2)
        cv.ax.add_patch(cv._tag(box, None))
        cv.label((x0 + w / 2, 0.68), cell, fontsize=10, color="#555555")
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
            cv.label((x0 - (pitch - w) / 2, y_c + 0.25), f"$c_{{{t - 1}}}$", "cell_path",
                     fontsize=10)
    last = (steps - 1) * pitch + w / 2
    if "gradient_path" in cv.highlight:
        # the error enters at the loss and flows back, one box (one Jacobian) at a time
        cv.label((last + 0.9, 2.65), "$L$", "gradient_path")
        cv.line([(last + 0.9, 2.4), (last + 0.9, 0.42), (last + w / 2 + 0.05, 0.42)],
                "gradient_path", style="--")
        for k in range(steps):
            x0 = k * pitch
            cv.line([(x0 - 0.05, 0.42), (x0 - pitch + w + 0.05, 0.42)], "gradient_path",
                    style="--")
        cv.label((last / 2, 3.15), r"error $\partial L/\partial h$ flows back: "
                 "one Jacobian per step", "gradient_path", fontsize=10)
    cv.ax.set_xlim(-pitch + w - 0.3, last + w / 2 + 0.8)
    cv.ax.set_ylim(-1.3, 3.5)
    return cv.ax
