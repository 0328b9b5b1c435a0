"""The inspection's figures in the course's style: gates over time, half-lives per layer.

Gate values run from 0 to 1 on the colour-blind-safe ``cividis`` map (shut
dark, open light); directions keep the palette's first two colours.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from ..cells.stacked import GATES
from ..plotting.style import CYCLE, GATE_STYLE
from .report import DIRECTIONS

GATE_LABELS = {
    **{g: GATE_STYLE[g]["label"] for g in "ifo"},
    "z": "update gate $z_t$",
    "r": "reset gate $r_t$",
}
CMAP = "cividis"


def plot_gates(report, layer=0, direction=0, sample=0, units=None):
    """Heat maps of each gate of one layer and direction over time, for one sequence.

    One panel per gate (i, f, o; or z, r for a GRU): a row per unit, a column
    per step, the colour the gate's value. ``units`` picks rows (default all).
    Returns the figure.
    """
    d = DIRECTIONS.index(direction) if isinstance(direction, str) else direction
    trace = report.traces[layer][d]
    if not 0 <= sample < report.sequences:
        raise ValueError(
            f"sample: expected a sequence index in [0, {report.sequences}), got {sample}"
        )
    units = np.arange(report.model.hidden_size) if units is None else np.asarray(units)
    gates = GATES[report.model.cell]
    fig, axes = plt.subplots(
        len(gates),
        1,
        figsize=(7.0, 1.2 + 1.1 * len(gates)),
        sharex=True,
        squeeze=False,
        layout="constrained",
    )
    T = report.steps
    for ax, g in zip(axes[:, 0], gates, strict=True):
        image = ax.imshow(
            trace.gates[g][:, sample, units].T,
            aspect="auto",
            cmap=CMAP,
            vmin=0.0,
            vmax=1.0,
            interpolation="nearest",
            extent=(0.5, T + 0.5, len(units) - 0.5, -0.5),
        )
        ax.set_title(GATE_LABELS[g], loc="left", fontsize=10)
        ax.set_ylabel("unit")
        rows = np.arange(len(units))[:: max(1, len(units) // 8)]
        ax.set_yticks(rows, [str(u) for u in units[rows]])  # the unit's number, not its row
        ax.grid(False)
    axes[-1, 0].set_xlabel("time step $t$")
    axes[-1, 0].xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.colorbar(image, ax=axes[:, 0], label="gate value", fraction=0.04, pad=0.02)
    fig.suptitle(f"layer {layer}, {DIRECTIONS[d]} direction, sequence {sample}", fontsize=11)
    return fig


def plot_half_lives(report, bins=20):
    """A histogram of the units' forget-gate half-lives (GRU: update gate), a panel per layer.

    Log-spaced bins; both directions of a bidirectional layer side by side in
    their colours; units with an infinite half-life are counted in the legend.
    Returns the figure.
    """
    L = report.model.num_layers
    hl = report.table["half_life"]
    finite = hl[np.isfinite(hl) & (hl > 0)]
    low = min(0.1, finite.min()) if len(finite) else 0.1
    high = max(report.steps, finite.max() if len(finite) else 1.0) * 1.5
    edges = np.geomspace(low, high, bins + 1)
    fig, axes = plt.subplots(
        1, L, figsize=(3.2 * L + 1.0, 3.0), sharey=True, squeeze=False, layout="constrained"
    )
    for k, ax in enumerate(axes[0]):
        values, colours, labels = [], [], []
        for d in range(report.model.num_directions):
            h = report.rows(k, d)["half_life"]
            n_inf = int(np.isinf(h).sum())
            values.append(np.clip(h[np.isfinite(h)], low, high))
            colours.append(CYCLE[d])
            labels.append(DIRECTIONS[d] + (f" ({n_inf} infinite)" if n_inf else ""))
        ax.hist(values, bins=edges, color=colours, label=labels)
        ax.axvline(report.steps, color="0.4", linewidth=1, linestyle=":", label="steps read")
        ax.set_xscale("log")
        ax.set_xlabel("half-life (steps)")
        ax.set_title(f"layer {k}", fontsize=10)
        ax.legend(loc="upper right")
    axes[0, 0].set_ylabel("units")
    return fig
