r"""What a recurrent network's gates do on a batch: statistics per layer, direction and unit.

Shapes: N sequences, T steps, H units per layer and direction. Every
statistic of a unit is taken over all its T * N steps ("a step" below is
one step of one sequence).

For each gate (i, f, o of the LSTM; z, r of the GRU): its mean and spread
(standard deviation), and the share of steps at which it is saturated, below
:data:`SATURATED_LOW` (shut) or above :data:`SATURATED_HIGH` (wide open).
A gate shut or open at more than :data:`STUCK_SHARE` of the steps is stuck:
a shut input gate writes nothing, a shut output gate hides the cell.

Then what the chapters read from them:

- the forget gate's half-life (半衰期) in steps (:func:`half_life`): a cell
  state multiplied by f at every step keeps half of its content after n
  steps when f^n = 1/2; with the unit's mean forget gate for f, that is the
  equation below, infinite for a mean of 1 (nothing is ever forgotten) and 0
  for a mean of 0;
- carousel units: at a step, a unit is a carousel (the constant error
  carousel of Hochreiter & Schmidhuber 1997) when f > :data:`CAROUSEL_F` and
  i < :data:`CAROUSEL_I`: it keeps its cell state and writes nothing new. A
  carousel unit is one at more than :data:`CAROUSEL_SHARE` of the steps;
- the output gate's exposure: how much of the squashed cell state reaches
  h, mean |o * tanh(c)| / mean |tanh(c)|, between 0 (the cell is hidden) and
  1 (all of it shows).

The half-life of a unit whose mean forget gate is :math:`\bar f`:

.. math::

    n_{1/2} = -\ln 2 / \ln \bar f

The GRU has no cell state apart from h and no output gate: its update gate z
keeps z of the old state (``h = (1 - z) * n + z * h_prev``), so z takes f's
place in the half-life and a carousel step is z > :data:`CAROUSEL_F` (and so
1 - z, the part written, below 1 - CAROUSEL_F); the reset gate r has no
counterpart in the LSTM and the exposure does not apply.
"""

from dataclasses import dataclass

import numpy as np

from ..cells.stacked import GATES, StackedRNN

#: A gate value below this is shut.
SATURATED_LOW = 0.05
#: A gate value above this is wide open.
SATURATED_HIGH = 0.95
#: A gate shut (or open) at more than this share of the steps is stuck there.
STUCK_SHARE = 0.95
#: A carousel step: the forget gate (GRU: the update gate) above this ...
CAROUSEL_F = 0.95
#: ... and the input gate below this (an LSTM only).
CAROUSEL_I = 0.05
#: A carousel unit is a carousel at more than this share of the steps.
CAROUSEL_SHARE = 0.5
#: The direction names, by index (0 reads the sequence forward).
DIRECTIONS = ("forward", "backward")


def half_life(f_mean):
    """The forget gate's half-life in steps, -ln 2 / ln f_mean: inf at 1, 0 at 0."""
    f_mean = np.asarray(f_mean, dtype=np.float64)
    if np.any((f_mean < 0) | (f_mean > 1)):
        raise ValueError(f"f_mean: expected values in [0, 1], got {f_mean}")
    with np.errstate(divide="ignore"):
        steps = np.log(2.0) / -np.log(f_mean)
    return np.where(f_mean == 1.0, np.inf, steps)[()]  # ln 1 = 0: never halves


def _fields(cell):
    fields = [("layer", "i4"), ("direction", "U8"), ("unit", "i4")]
    for g in GATES[cell]:
        fields += [(f"{g}_{s}", "f8") for s in ("mean", "std", "shut", "open")]
    fields += [("half_life", "f8"), ("carousel_share", "f8"), ("carousel", "?")]
    if cell == "lstm":
        fields.append(("exposure", "f8"))
    return fields


def unit_table(model, trace):
    """The statistics of every unit as a structured array, one row per (layer, direction, unit).

    ``trace`` is :attr:`StackedOutput.trace <lstm_lessons.cells.stacked.StackedOutput>`.
    Fields: ``layer``, ``direction``, ``unit``; for each gate g, ``g_mean``,
    ``g_std``, ``g_shut`` and ``g_open`` (shares of steps below
    :data:`SATURATED_LOW`, above :data:`SATURATED_HIGH`); ``half_life``,
    ``carousel_share``, ``carousel`` and, for the LSTM, ``exposure``.
    """
    H = model.hidden_size
    keep = "f" if model.cell == "lstm" else "z"  # the gate that keeps the old state
    rows = []
    for k, layer in enumerate(trace):
        for d, tr in enumerate(layer):
            block = np.zeros(H, dtype=_fields(model.cell))
            block["layer"], block["direction"], block["unit"] = k, DIRECTIONS[d], np.arange(H)
            for g, values in tr.gates.items():  # (T, N, H)
                block[f"{g}_mean"] = values.mean(axis=(0, 1))
                block[f"{g}_std"] = values.std(axis=(0, 1))
                block[f"{g}_shut"] = (values < SATURATED_LOW).mean(axis=(0, 1))
                block[f"{g}_open"] = (values > SATURATED_HIGH).mean(axis=(0, 1))
            block["half_life"] = half_life(block[f"{keep}_mean"])
            holds = tr.gates[keep] > CAROUSEL_F
            if model.cell == "lstm":
                holds &= tr.gates["i"] < CAROUSEL_I
            block["carousel_share"] = holds.mean(axis=(0, 1))
            block["carousel"] = block["carousel_share"] > CAROUSEL_SHARE
            if model.cell == "lstm":
                squashed = np.abs(np.tanh(tr.c))
                exposed = (tr.gates["o"] * squashed).mean(axis=(0, 1))
                block["exposure"] = exposed / np.maximum(squashed.mean(axis=(0, 1)), 1e-300)
            rows.append(block)
    return np.concatenate(rows)


@dataclass(frozen=True, eq=False)
class Report:
    """The inspection of ``model`` on one batch: :attr:`table` and the gate values behind it.

    ``str(report)`` is :meth:`summary`; :meth:`to_frame` gives the table as a
    pandas DataFrame; :meth:`plot_gates` and :meth:`plot_half_lives` draw it.
    ``traces[k][d]`` holds the gate values of layer k, direction d, in time
    order (a :class:`~lstm_lessons.cells.stacked.DirectionTrace`). ``name`` is
    the recurrent layer's name inside a whole model ('' for the layer itself).
    """

    model: StackedRNN
    steps: int
    sequences: int
    table: np.ndarray
    traces: list
    name: str = ""

    def rows(self, layer=None, direction=None):
        """The table's rows of one layer and/or direction (a name or 0/1)."""
        keep = np.ones(len(self.table), dtype=bool)
        if layer is not None:
            keep &= self.table["layer"] == layer
        if direction is not None:
            name = DIRECTIONS[direction] if isinstance(direction, int) else direction
            keep &= self.table["direction"] == name
        return self.table[keep]

    def carousel_units(self, layer=0, direction=0):
        """The units of one layer and direction that are carousels most of the time."""
        rows = self.rows(layer, direction)
        return [int(u) for u in rows["unit"][rows["carousel"]]]

    def stuck(self, layer=0, direction=0):
        """``{(gate, 'shut' or 'open'): [units]}``: gates at one end at over STUCK_SHARE."""
        rows = self.rows(layer, direction)
        out = {}
        for g in GATES[self.model.cell]:
            for end in ("shut", "open"):
                units = rows["unit"][rows[f"{g}_{end}"] > STUCK_SHARE]
                if len(units):
                    out[(g, end)] = [int(u) for u in units]
        return out

    def to_frame(self):
        """The table as a pandas DataFrame (pandas is needed for this one method)."""
        try:
            import pandas as pd
        except ImportError as err:
            raise ImportError(
                "Report.to_frame needs pandas (pip install pandas); without it, "
                "Report.table is the same table as a NumPy structured array"
            ) from err
        return pd.DataFrame({name: self.table[name] for name in self.table.dtype.names})

    def plot_gates(self, layer=0, direction=0, sample=0, **kwargs):
        """Heat maps of every gate over time: :func:`lstm_lessons.inspect.figures.plot_gates`."""
        from .figures import plot_gates

        return plot_gates(self, layer, direction, sample, **kwargs)

    def plot_half_lives(self, **kwargs):
        """Half-lives per layer: :func:`lstm_lessons.inspect.figures.plot_half_lives`."""
        from .figures import plot_half_lives

        return plot_half_lives(self, **kwargs)

    def summary(self):
        """The report as text: per layer and direction, the gates, memory and carousels."""
        m = self.model
        lines = [
            (f"{self.name}: " if self.name else "") + m.describe(),
            f"read on {self.sequences} sequence(s) of {self.steps} steps; a gate is shut below "
            f"{SATURATED_LOW} and open above {SATURATED_HIGH}, stuck when so at over "
            f"{STUCK_SHARE:.0%} of steps",
        ]
        if m.dropout:
            lines.append(f"dropout between layers (p={m.dropout}) is off: the model in eval mode")
        if m.cell == "gru":
            lines.append(
                "GRU: the update gate z keeps z of the old state, so its half-life is "
                "-ln 2 / ln mean(z); no output gate, so no exposure"
            )
        for k in range(m.num_layers):
            for d in range(m.num_directions):
                lines += ["", *self._block(k, d)]
        return "\n".join(lines)

    __str__ = summary

    def _block(self, k, d):
        rows = self.rows(k, d)
        H = len(rows)
        out = [f"layer {k}, {DIRECTIONS[d]} ({H} units)"]
        out.append("  gate   mean  spread   shut   open")
        for g in GATES[self.model.cell]:
            out.append(
                f"  {g:<4} {rows[f'{g}_mean'].mean():6.2f} {rows[f'{g}_std'].mean():7.2f}"
                f" {rows[f'{g}_shut'].mean():6.0%} {rows[f'{g}_open'].mean():6.0%}"
            )
        hl = rows["half_life"]
        finite = hl[np.isfinite(hl)]
        longest = int(rows["unit"][np.argmax(hl)])
        out.append(
            f"  half-life: median {np.median(hl):.1f} steps, longest {hl.max():.1f} "
            f"(unit {longest}); {int((hl > self.steps).sum())} of {H} units longer than the "
            f"{self.steps} steps read, {H - len(finite)} infinite"
        )
        carousels = self.carousel_units(k, d)
        rule = (
            f"f > {CAROUSEL_F} and i < {CAROUSEL_I}"
            if self.model.cell == "lstm"
            else (f"z > {CAROUSEL_F}")
        )
        out.append(
            f"  carousels ({rule} at over {CAROUSEL_SHARE:.0%} of steps): "
            + (f"{len(carousels)} units {carousels}" if carousels else "none")
        )
        stuck = self.stuck(k, d)
        out.append(
            "  stuck gates: "
            + ("; ".join(f"{g} {end} in units {u}" for (g, end), u in stuck.items()) or "none")
        )
        if self.model.cell == "lstm":
            e = rows["exposure"]
            out.append(
                f"  output exposure: median {np.median(e):.2f}, range {e.min():.2f}-{e.max():.2f}"
            )
        return out
