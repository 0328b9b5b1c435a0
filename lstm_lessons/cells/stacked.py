r"""Stacked and bidirectional LSTMs and GRUs in NumPy, as ``torch.nn.LSTM``/``GRU`` run them.

Shapes: N batch size, T number of steps, D input size, H hidden size, P the
projection size of an LSTM with ``proj_size`` (P = H without one), S = 2 for
a bidirectional model and 1 otherwise, L the number of layers.

A :class:`StackedRNN` holds a converted model: its settings (the arguments of
``torch.nn.LSTM``/``GRU``) and, for each layer and direction, a parameter dict
in the layout of :mod:`lstm_lessons.cells.lstm` or :mod:`lstm_lessons.cells.gru`.
:func:`stacked_forward` runs it the way PyTorch does:

- layer k reads the outputs of layer k - 1 (layer 0 reads x), both directions
  side by side, forward first: its input size is S * P;
- the backward direction (``_reverse`` in PyTorch's names) reads the sequence
  from its last step to its first, and its outputs are put back in time order,
  so that row t of the output holds both directions' h after reading x_t;
- ``batch_first`` models take and give (N, T, ...); the cells run time-major,
  so x is transposed on the way in and the output on the way out, never
  guessed from the shape (with N == T a guess would go unnoticed).

An LSTM with a projection (Sak, Senior & Beaufays 2014; ``proj_size`` in
PyTorch) is the standard cell, except this line: the hidden state is the
gated cell output projected to P numbers,

    h   = (o * tanh(c)) @ W_hr              (N, P), W_hr (H, P)

and so ``W_h`` is (P, 4H): the gates read the projected h_{t-1}. In the book's
notation, :math:`h_t = (o_t \odot \tanh(c_t))\, W_{hr}`.

Dropout between layers is a training-time device; this is the model in eval
mode. A model without biases (``bias=False``) has ``b`` (and ``b_hn``) zero.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .activations import sigmoid
from .gru import gru_forward
from .lstm import lstm_forward
from .validation import check_array

CELLS = ("lstm", "gru")
#: The gates each cell has, in the order the inspector reports them. The GRU's
#: update gate z keeps the old state (the role of f) and has no output gate.
GATES = {"lstm": ("i", "f", "o"), "gru": ("z", "r")}


@dataclass(frozen=True, eq=False)
class StackedRNN:
    """A converted ``torch.nn.LSTM``/``GRU`` (or ``LSTMCell``/``GRUCell``): settings and params.

    ``layers[k][s]`` is the parameter dict of layer k, direction s (0 forward,
    1 backward): ``W_x``, ``W_h``, ``b`` (and ``b_hn`` for the GRU, ``W_hr`` for
    an LSTM with a projection). ``is_cell`` marks a converted ``LSTMCell`` or
    ``GRUCell``: one layer, one direction, run here over a time-major sequence.
    """

    cell: str
    input_size: int
    hidden_size: int
    num_layers: int
    bidirectional: bool
    batch_first: bool
    proj_size: int
    bias: bool
    layers: tuple
    is_cell: bool = False
    dropout: float = 0.0

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    @property
    def output_size(self):
        """The size of one direction's h: P with a projection, H without."""
        return self.proj_size or self.hidden_size

    @property
    def dtype(self):
        return self.layers[0][0]["W_x"].dtype

    def params(self, layer=0, direction=0):
        """The parameter dict of one layer and direction (for a one-layer model: the dict form)."""
        return self.layers[layer][direction]

    def describe(self):
        """The settings in words, e.g. ``'LSTM, 2 layers, bidirectional, H=32, batch_first'``."""
        kind = self.cell.upper() + ("Cell" if self.is_cell else "")
        words = [kind, f"{self.num_layers} layer{'s' * (self.num_layers > 1)}"]
        words.append("bidirectional" if self.bidirectional else "one direction")
        words.append(f"D={self.input_size}, H={self.hidden_size}")
        if self.proj_size:
            words.append(f"projection P={self.proj_size}")
        if not self.bias:
            words.append("no biases")
        words.append("batch_first (N, T, D)" if self.batch_first else "time-major (T, N, D)")
        return ", ".join(words)


class DirectionTrace(NamedTuple):
    """What one layer's direction computed, in time order, each (T, N, H).

    ``gates`` maps a gate's name ('i', 'f', 'o' for the LSTM, 'z', 'r' for the
    GRU) to its values; ``c`` is the LSTM's cell state (None for the GRU) and
    ``h`` the direction's output (N, P) per step. For the backward direction
    row t is the step that read x_t, so both directions line up in time.
    """

    gates: dict
    c: object
    h: np.ndarray


class StackedOutput(NamedTuple):
    """``output`` as PyTorch gives it ((T, N, S*P), or (N, T, S*P) for batch_first),
    ``h_n`` (L*S, N, P), ``c_n`` (L*S, N, H) or None for the GRU, and
    ``trace[k][s]``, the :class:`DirectionTrace` of layer k, direction s."""

    output: np.ndarray
    h_n: np.ndarray
    c_n: object
    trace: list


def lstmp_forward(x, h0, c0, params):
    """The LSTM with a projection: x (T, N, D), h0 (N, P), c0 (N, H) -> hs (T, N, P), cs, gates.

    The standard cell, line for line, except the last one (h is projected by
    ``W_hr``). ``gates`` maps 'i', 'f', 'o' to their values (T, N, H).
    """
    T = x.shape[0]
    H = c0.shape[1]
    W_x, W_h, b, W_hr = params["W_x"], params["W_h"], params["b"], params["W_hr"]
    h, c = h0, c0
    hs, cs, gates = [], [], {k: [] for k in "ifo"}
    for t in range(T):
        a = x[t] @ W_x + h @ W_h + b  # (N, 4H)
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H : 2 * H])
        g = np.tanh(a[:, 2 * H : 3 * H])
        c = f * c + i * g
        o = sigmoid(a[:, 3 * H :])
        h = (o * np.tanh(c)) @ W_hr  # (N, P): the projection, the one line that differs
        hs.append(h)
        cs.append(c)
        for k, v in zip("ifo", (i, f, o), strict=True):
            gates[k].append(v)
    stack = np.stack
    return stack(hs), stack(cs), {k: stack(v) for k, v in gates.items()}


def _run_direction(model, params, x, h0, c0):
    """One direction of one layer over x (T, N, D_in) in the order given."""
    if model.cell == "gru":
        hs, cache = gru_forward(x, h0, params)
        return hs, None, {"z": cache.z, "r": cache.r}
    if model.proj_size:
        return lstmp_forward(x, h0, c0, params)
    hs, cs, cache = lstm_forward(x, h0, c0, params)
    return hs, cs, {k: cache.gate(k) for k in "ifo"}


def check_sequence(model, x, name="x"):
    """Check that ``x`` is a sequence as ``model`` takes it; return it time-major, (T, N, D)."""
    layout = "NTD" if model.batch_first and not model.is_cell else "TND"
    check_array(name, x, layout, model.dtype)
    if x.shape[-1] != model.input_size:
        shape = "(" + ", ".join(layout) + ")"
        raise ValueError(
            f"{name}: expected shape {shape} with D={model.input_size} "
            f"({model.describe()}), got {x.shape}"
        )
    if min(x.shape[:2]) == 0:
        raise ValueError(f"{name}: expected at least one step and one sequence, got {x.shape}")
    return np.ascontiguousarray(x.transpose(1, 0, 2)) if layout == "NTD" else x


def stacked_forward(model, x):
    """Run a :class:`StackedRNN` on ``x`` as the PyTorch module would, from zero states.

    ``x`` is (T, N, D), or (N, T, D) when ``model.batch_first``; a converted
    ``LSTMCell``/``GRUCell`` runs over a time-major (T, N, D) sequence.
    Returns a :class:`StackedOutput`.
    """
    seq = check_sequence(model, x)  # (T, N, D)
    N = seq.shape[1]
    H, P = model.hidden_size, model.output_size
    zeros_h = np.zeros((N, P), dtype=seq.dtype)
    zeros_c = np.zeros((N, H), dtype=seq.dtype)
    trace, h_n, c_n = [], [], []
    for layer in model.layers:
        outs, trace_k = [], []
        for s, params in enumerate(layer):
            # The backward direction reads the sequence from its end; its rows are put back
            # in time order afterwards, so that row t is the step that read x_t.
            inp = seq if s == 0 else np.ascontiguousarray(seq[::-1])
            hs, cs, gates = _run_direction(model, params, inp, zeros_h, zeros_c)
            h_n.append(hs[-1])
            c_n.append(cs[-1] if cs is not None else None)
            if s == 1:
                hs = hs[::-1]
                cs = cs[::-1] if cs is not None else None
                gates = {k: v[::-1] for k, v in gates.items()}
            outs.append(hs)
            trace_k.append(DirectionTrace(gates, cs, hs))
        seq = np.concatenate(outs, axis=2)  # (T, N, S*P): the next layer's input
        trace.append(trace_k)
    output = seq.transpose(1, 0, 2) if model.batch_first and not model.is_cell else seq
    c_n = None if model.cell == "gru" else np.stack(c_n)
    return StackedOutput(output, np.stack(h_n), c_n, trace)
