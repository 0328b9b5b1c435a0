"""PyTorch twins of the NumPy cells: the same equations, with autograd's backward.

Shapes follow ``torch.nn.LSTM`` with ``batch_first=False``: input (T, N, D),
states (1, N, H), output (T, N, H). Parameters are named and laid out like
``torch.nn.LSTM``'s and ``torch.nn.GRU``'s: ``weight_ih_l0`` (G*H, D),
``weight_hh_l0`` (G*H, H), ``bias_ih_l0`` and ``bias_hh_l0`` (G*H,), with the
gate blocks in the order i, f, g, o (r, z, n for the GRU). For the standard
variant a ``state_dict`` therefore loads into ``torch.nn.LSTM(D, H)``
unchanged. Peephole cells add ``peephole_i_l0``, ``peephole_f_l0`` and
``peephole_o_l0`` (H,).

Each ``_cell`` here is line for line the one in :mod:`lstm_lessons.cells.lstm`.
"""

import math

import torch
from torch import nn

from ..cells.activations import HARD_SIGMOID_OFFSET, HARD_SIGMOID_SLOPE
from ..cells.variants import get_variant


def hard_sigmoid(x):
    return torch.clamp(HARD_SIGMOID_SLOPE * x + HARD_SIGMOID_OFFSET, 0.0, 1.0)


GATE_FNS = {"sigmoid": torch.sigmoid, "hard_sigmoid": hard_sigmoid}


def _check_input(name, x, D, hx, H):
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{name}: expected a torch.Tensor of shape (T, N, D), got {type(x).__name__}"
        )
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point input, got {x.dtype}")
    if x.dim() != 3 or x.shape[2] != D:
        raise ValueError(f"{name}: expected input of shape (T, N, D={D}), got {tuple(x.shape)}")
    N = x.shape[1]
    for k, s in enumerate(hx or ()):
        if tuple(s.shape) != (1, N, H):
            raise ValueError(
                f"{name}: expected state {k} of shape (1, N={N}, H={H}), got {tuple(s.shape)}"
            )


class LSTM(nn.Module):
    """A one-layer LSTM of any variant of :mod:`lstm_lessons.cells.variants`.

    ``forward(x, (h0, c0)) -> output, (h_n, c_n)`` as in ``torch.nn.LSTM``.
    """

    def __init__(self, input_size, hidden_size, variant="standard", dtype=None):
        super().__init__()
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

    def _cell(self, a, c_prev):
        v, H = self.variant, self.hidden_size
        sigma = GATE_FNS[v.gate_fn]
        blk = dict(zip(v.gates, a.split(H, dim=1), strict=True))
        a_i, a_f, a_g, a_o = blk.get("i"), blk.get("f"), blk["g"], blk.get("o")
        if v.peephole and v.input_gate:
            a_i = torch.addcmul(a_i, self.peephole_i_l0, c_prev)  # a_i + p_i * c_prev
        if v.peephole and v.has_f_block:
            a_f = torch.addcmul(a_f, self.peephole_f_l0, c_prev)

        i = sigma(a_i) if v.input_gate else 1.0
        if v.cifg:
            f = 1.0 - i
        else:
            f = sigma(a_f) if v.forget_gate else 1.0
        g = torch.tanh(a_g) if v.input_activation else a_g
        c = f * c_prev + i * g
        if v.peephole and v.output_gate:
            a_o = torch.addcmul(a_o, self.peephole_o_l0, c)  # o reads c_t
        o = sigma(a_o) if v.output_gate else 1.0
        tc = torch.tanh(c) if v.output_activation else c
        h = o * tc
        return h, c

    def forward(self, x, hx=None):
        _check_input("LSTM", x, self.input_size, hx, self.hidden_size)
        T, N, _ = x.shape
        if hx is None:
            zeros = x.new_zeros(N, self.hidden_size)
            h, c = zeros, zeros
        else:
            h, c = hx[0][0], hx[1][0]
        # All steps' input projections in one matmul, as in the NumPy cell.
        ax = x @ self.weight_ih_l0.T + (self.bias_ih_l0 + self.bias_hh_l0)  # (T, N, G*H)
        W_hh_T = self.weight_hh_l0.T
        outputs = []
        # unbind, not ax[t]: each ax[t] would cost a zero-filled (T, N, G*H) gradient in backward.
        for ax_t in ax.unbind(0):
            h, c = self._cell(torch.addmm(ax_t, h, W_hh_T), c)
            outputs.append(h)
        return torch.stack(outputs), (h.unsqueeze(0), c.unsqueeze(0))


class GRU(nn.Module):
    """A one-layer GRU with ``torch.nn.GRU``'s parameters: ``forward(x, h0) -> output, h_n``."""

    def __init__(self, input_size, hidden_size, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(3 * hidden_size, input_size, dtype=dtype))
        self.weight_hh_l0 = nn.Parameter(torch.empty(3 * hidden_size, hidden_size, dtype=dtype))
        self.bias_ih_l0 = nn.Parameter(torch.empty(3 * hidden_size, dtype=dtype))
        self.bias_hh_l0 = nn.Parameter(torch.empty(3 * hidden_size, dtype=dtype))
        k = 1.0 / math.sqrt(hidden_size)
        for w in self.parameters():
            nn.init.uniform_(w, -k, k)

    def forward(self, x, hx=None):
        _check_input("GRU", x, self.input_size, None if hx is None else (hx,), self.hidden_size)
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
