"""PyTorch twins of the NumPy cells: the same equations, with autograd's backward.

Shapes follow ``torch.nn.LSTM`` with ``batch_first=False``: input (T, N, D),
states (1, N, H), output (T, N, H). Parameters are named and laid out like
``torch.nn.LSTM``'s and ``torch.nn.GRU``'s: ``weight_ih_l0`` (G*H, D),
``weight_hh_l0`` (G*H, H), ``bias_ih_l0`` and ``bias_hh_l0`` (G*H,), with the
gate blocks in the order i, f, g, o (r, z, n for the GRU). For the standard
variant a ``state_dict`` therefore loads into ``torch.nn.LSTM(D, H)``
unchanged. Peephole cells add ``peephole_i_l0``, ``peephole_f_l0`` and
``peephole_o_l0`` (H,).

:func:`lstm_cell` is the one in :mod:`lstm_lessons.cells.lstm`, line for line
but for shortcuts for speed (see its docstring and :func:`engine_weights`): this
is an engine, tested against the NumPy cells. :mod:`lstm_lessons.pytorch.sequence`
runs it over the steps as one autograd operation with a hand-written backward
pass. All of them take any leading axes, so :mod:`lstm_lessons.training.ensemble`
runs E stacked models through them.
"""

import math

import torch
from torch import nn

from ..cells.activations import HARD_SIGMOID_OFFSET, HARD_SIGMOID_SLOPE
from ..cells.validation import check_int
from ..cells.variants import get_variant
from .sequence import run_sequence


def _clip01(a):
    """min(1, max(0, a)), with the NumPy cells' derivative: 1 strictly inside, 0 from 0 and 1 on.

    ``hardtanh`` rather than ``torch.clamp``: the same values, but its backward is one
    fused kernel where clamp's is several (the hard-sigmoid cell ran at 6x
    ``torch.nn.LSTM`` with clamp, under 4x with hardtanh), and its derivative at
    exactly 0 or 1 is 0, as ``hard_sigmoid_grad`` of the NumPy cells has it (clamp's is 1).
    """
    return nn.functional.hardtanh(a, 0.0, 1.0)


def hard_sigmoid(x):
    return _clip01(HARD_SIGMOID_SLOPE * x + HARD_SIGMOID_OFFSET)


GATE_FNS = {"sigmoid": torch.sigmoid, "hard_sigmoid": hard_sigmoid}

# Each gate function as (slope, offset, what is left): sigma(a) = rest(slope * a + offset).
# The engine folds slope and offset into the weights once per sequence, so that a
# hard-sigmoid gate costs one clamp per step, like a sigmoid gate one sigmoid.
_AFFINE_GATES = {
    "sigmoid": (1.0, 0.0, torch.sigmoid),
    "hard_sigmoid": (HARD_SIGMOID_SLOPE, HARD_SIGMOID_OFFSET, _clip01),
}


def engine_weights(v, weight_ih, weight_hh, bias, peep):
    r"""The weights the engine runs with, from torch.nn's layout; any leading axes (E,).

    ``weight_ih`` (..., G*H, D), ``weight_hh`` (..., G*H, H), ``bias`` (..., G*H),
    ``peep`` {"p_i": (..., H), ...} -> ``W_in`` (..., D, G*H), ``b`` (..., G*H),
    ``W_rec`` (..., K, G*H) and ``p_o`` (..., 1, H) or None. The recurrent product
    reads ``[h_prev, c_prev]`` (K = 2H) when i or f has a peephole: its lower rows
    are the diagonal peephole weights, so one matmul adds ``p_i * c_prev`` and
    ``p_f * c_prev`` (K = H otherwise). The gate blocks come multiplied by the gate
    function's slope and shifted by its offset (see ``_AFFINE_GATES``).

    That fold, for a gate function written as sigma(a) = rest(s a + beta): the
    sigmoid has s = 1, beta = 0 and rest = sigmoid; the hard sigmoid its slope
    and offset, and rest = clamp to [0, 1]. With W_x = weight_ih^T, W_h =
    weight_hh^T and b = bias, each gate block (i, f, o, not the candidate's g)
    of the engine's weights gives the argument of rest directly:

    .. math::

        \sigma(a) = \operatorname{rest}(s\,a + \beta)
        s\,a_t + \beta = x_t\,(s\,W_x) + h_{t-1}\,(s\,W_h) + (s\,b + \beta)
    """
    H = weight_hh.shape[-1]
    slope, offset, _ = _AFFINE_GATES[v.gate_fn]
    is_gate = torch.tensor([k != "g" for k in v.gates]).repeat_interleave(H)  # (G*H,)
    scale = torch.ones(is_gate.shape, dtype=weight_hh.dtype)
    scale[is_gate] = slope
    shift = torch.zeros(is_gate.shape, dtype=weight_hh.dtype)
    shift[is_gate] = offset
    W_rec = weight_hh.transpose(-1, -2)  # (..., H, G*H)
    if "p_i" in peep or "p_f" in peep:
        zeros = W_rec.new_zeros(W_rec.shape)
        blocks = [
            torch.diag_embed(peep[f"p_{k}"]) if f"p_{k}" in peep and k in "if" else zeros[..., :H]
            for k in v.gates
        ]
        W_rec = torch.cat([W_rec, torch.cat(blocks, dim=-1)], dim=-2)  # (..., 2H, G*H)
    p_o = peep.get("p_o")
    return (
        weight_ih.transpose(-1, -2) * scale,
        bias * scale + shift,
        W_rec * scale,
        None if p_o is None else (slope * p_o).unsqueeze(-2),
    )


def lstm_cell(a, c_prev, p_o, v, parts=False):
    """The cell's equations from the pre-activation on: h, c (..., H); any leading axes.

    ``a`` (..., G*H) already holds the peephole terms of i and f, and its gate
    blocks come in the gate function's affine form (see :func:`engine_weights`),
    so that one call of what is left of the gate function, over all blocks at once
    (wasted on g's block), gives i, f and o. The models are so small that each
    torch operation costs more in overhead than in arithmetic: fewer of them is
    what makes this engine fast. Otherwise the lines are those of
    :mod:`lstm_lessons.cells.lstm`. ``parts=True`` also returns what the backward
    pass of :mod:`lstm_lessons.pytorch.sequence` reads: ``(y, g, o, tc)``, the gate
    function over all blocks, the candidate, the output gate (None without one) and
    the squashed cell state.
    """
    gate_fn = _AFFINE_GATES[v.gate_fn][2]
    y = gate_fn(a)
    G = len(v.gates)  # chunk, not split(H): the same blocks, at about half the overhead
    blk = dict(zip(v.gates, a.chunk(G, dim=-1), strict=True))
    gates = dict(zip(v.gates, y.chunk(G, dim=-1), strict=True))
    i = gates["i"] if v.input_gate else 1.0
    if v.cifg:
        f = 1.0 - i
    else:
        f = gates["f"] if v.forget_gate else 1.0
    g = torch.tanh(blk["g"]) if v.input_activation else blk["g"]
    c = torch.addcmul(f * c_prev, i, g) if v.input_gate else f * c_prev + g
    if v.peephole and v.output_gate:
        gates["o"] = gate_fn(torch.addcmul(blk["o"], p_o, c))  # o reads c_t
    o = gates["o"] if v.output_gate else None
    tc = torch.tanh(c) if v.output_activation else c
    h = tc if o is None else o * tc
    if parts:
        return h, c, (y, g, o, tc)
    return h, c


def _check_sizes(name, input_size, hidden_size):
    """The constructor's sizes, each a positive integer (a bool or 2.5 is refused)."""
    check_int(f"{name}: input_size", input_size)
    check_int(f"{name}: hidden_size", hidden_size)


def _check_finite(name, what, t):
    if not torch.isfinite(t).all():
        where = tuple(int(k) for k in torch.nonzero(~torch.isfinite(t))[0])
        raise ValueError(f"{name}: expected finite {what}, got {t[where].item()} at index {where}")


def _check_input(name, x, D, hx, H, dtype):
    """The input and the states of ``forward``: type, dtype, shape, and finite values.

    ``dtype`` is the module's parameters' dtype, which the input must have (torch's
    own error names matrices, not the argument). A NaN or inf is refused, as by the
    NumPy cells: it would run through every later step without an error.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{name}: expected a torch.Tensor of shape (T, N, D), got {type(x).__name__}"
        )
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point input, got {x.dtype}")
    if x.dtype != dtype:
        raise TypeError(
            f"{name}: expected input of the module's dtype {dtype}, got {x.dtype} "
            f"(convert one of them, e.g. x.to({dtype}))"
        )
    if x.dim() != 3 or x.shape[2] != D:
        raise ValueError(f"{name}: expected input of shape (T, N, D={D}), got {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(
            f"{name}: expected at least one step (T >= 1), got input of shape {tuple(x.shape)}"
        )
    _check_finite(name, "input values", x)
    N = x.shape[1]
    for k, s in enumerate(hx or ()):
        if not isinstance(s, torch.Tensor):
            raise TypeError(f"{name}: expected state {k} as a torch.Tensor, got {type(s).__name__}")
        if tuple(s.shape) != (1, N, H):
            raise ValueError(
                f"{name}: expected state {k} of shape (1, N={N}, H={H}), got {tuple(s.shape)}"
            )
        if s.dtype != dtype:
            raise TypeError(
                f"{name}: expected state {k} of the module's dtype {dtype}, got {s.dtype}"
            )
        _check_finite(name, f"values in state {k}", s)


class LSTM(nn.Module):
    """A one-layer LSTM of any variant of :mod:`lstm_lessons.cells.variants`.

    ``forward(x, (h0, c0)) -> output, (h_n, c_n)`` as in ``torch.nn.LSTM``. Sizes must be
    positive integers; the input and the states must have the parameters' dtype, at
    least one step and finite values (a NaN would run through every later step):
    otherwise a TypeError or ValueError names the argument.
    """

    def __init__(self, input_size, hidden_size, variant="standard", dtype=None):
        super().__init__()
        _check_sizes("LSTM", input_size, hidden_size)
        self.variant = get_variant(variant)
        self.input_size, self.hidden_size = input_size, hidden_size
        GH = len(self.variant.gates) * hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(GH, input_size, dtype=dtype))
        self.weight_hh_l0 = nn.Parameter(torch.empty(GH, hidden_size, dtype=dtype))
        self.bias_ih_l0 = nn.Parameter(torch.empty(GH, dtype=dtype))
        self.bias_hh_l0 = nn.Parameter(torch.empty(GH, dtype=dtype))
        for p in self.variant.peepholes:
            self.register_parameter(
                "peephole_" + p[2:] + "_l0", nn.Parameter(torch.empty(hidden_size, dtype=dtype))
            )
        k = 1.0 / math.sqrt(hidden_size)
        for w in self.parameters():
            nn.init.uniform_(w, -k, k)

    def peepholes(self):
        """The peephole weights by their NumPy names, ``{"p_i": (H,), ...}``."""
        return {p: getattr(self, "peephole_" + p[2:] + "_l0") for p in self.variant.peepholes}

    def forward(self, x, hx=None):
        _check_input("LSTM", x, self.input_size, hx, self.hidden_size, self.weight_hh_l0.dtype)
        T, N, _ = x.shape
        if hx is None:
            zeros = x.new_zeros(N, self.hidden_size)
            h, c = zeros, zeros
        else:
            h, c = hx[0][0], hx[1][0]
        W_in, b, W_rec, p_o = engine_weights(
            self.variant, self.weight_ih_l0, self.weight_hh_l0,
            self.bias_ih_l0 + self.bias_hh_l0, self.peepholes(),
        )
        # All steps' input projections in one matmul, as in the NumPy cell.
        ax = x @ W_in + b  # (T, N, G*H)
        out, c = run_sequence(lstm_cell, ax, h, c, W_rec, p_o, self.variant)
        return out, (out[-1].unsqueeze(0), c.unsqueeze(0))


class GRU(nn.Module):
    """A one-layer GRU with ``torch.nn.GRU``'s parameters: ``forward(x, h0) -> output, h_n``."""

    def __init__(self, input_size, hidden_size, dtype=None):
        super().__init__()
        _check_sizes("GRU", input_size, hidden_size)
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(3 * hidden_size, input_size, dtype=dtype))
        self.weight_hh_l0 = nn.Parameter(torch.empty(3 * hidden_size, hidden_size, dtype=dtype))
        self.bias_ih_l0 = nn.Parameter(torch.empty(3 * hidden_size, dtype=dtype))
        self.bias_hh_l0 = nn.Parameter(torch.empty(3 * hidden_size, dtype=dtype))
        k = 1.0 / math.sqrt(hidden_size)
        for w in self.parameters():
            nn.init.uniform_(w, -k, k)

    def forward(self, x, hx=None):
        _check_input("GRU", x, self.input_size, None if hx is None else (hx,), self.hidden_size,
                     self.weight_hh_l0.dtype)  # fmt: skip
        T, N, _ = x.shape
        H = self.hidden_size
        h = x.new_zeros(N, H) if hx is None else hx[0]
        ax = x @ self.weight_ih_l0.T + self.bias_ih_l0  # (T, N, 3H)
        outputs = []
        for ax_t in ax.unbind(0):  # see LSTM.forward
            ah = torch.addmm(self.bias_hh_l0, h, self.weight_hh_l0.T)  # (N, 3H)
            ax_r, ax_z, ax_n = ax_t.split(H, dim=1)
            ah_r, ah_z, ah_n = ah.split(H, dim=1)
            r = torch.sigmoid(ax_r + ah_r)
            z = torch.sigmoid(ax_z + ah_z)
            n = torch.tanh(ax_n + r * ah_n)
            h = (1.0 - z) * n + z * h
            outputs.append(h)
        return torch.stack(outputs), h.unsqueeze(0)
