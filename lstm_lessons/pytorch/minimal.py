"""minGRU and minLSTM as torch layers: the twins of :mod:`lstm_lessons.cells.minimal`.

Shapes: x (T, N, D) time-major, out (T, N, H), as ``torch.nn.LSTM``. Each layer is one
``nn.Linear`` from D to the G*H gate and candidate columns (minGRU z, n; minLSTM f, i, g:
the NumPy cells' ``W_x`` is its weight transposed, ``b`` its bias), the coefficients a_t, b_t
for all steps at once, and :func:`lstm_lessons.pytorch.scan.linear_scan` (whose backward is
the reverse scan). The layer computes in x's dtype.
"""

import numpy as np
import torch
from torch import nn

from .scan import linear_scan, loop_scan

_SCANS = {"blelloch": linear_scan, "loop": loop_scan}


class _Minimal(nn.Module):
    blocks = 0

    def __init__(self, input_size, hidden_size, method="blelloch"):
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")
        if method not in _SCANS:
            raise ValueError(f"method: expected one of {tuple(_SCANS)}, got {method!r}")
        self.input_size, self.hidden_size, self.method = input_size, hidden_size, method
        self.linear = nn.Linear(input_size, self.blocks * hidden_size)

    def forward(self, x, h0=None):
        """x (T, N, D), h0 (N, H) or None -> out (T, N, H), h_T (N, H)."""
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[-1] != self.input_size:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x: expected a tensor of shape (T, N, {self.input_size}) "
                             f"(T, N, D), got {got}")
        ax = nn.functional.linear(x, self.linear.weight.to(x.dtype),
                                  self.linear.bias.to(x.dtype))  # (T, N, G*H)
        a, b = self.coefficients(ax)
        h = _SCANS[self.method](a, b, h0)
        return h, h[-1]

    def numpy_params(self):
        """The NumPy cell's parameters, float64: ``W_x`` (D, G*H), ``b`` (G*H,)."""
        return {
            "W_x": self.linear.weight.detach().double().numpy().T.copy(),
            "b": self.linear.bias.detach().double().numpy().copy(),
        }

    def load_numpy_params(self, params):
        """Set the weights from the NumPy cell's ``W_x`` (D, G*H) and ``b`` (G*H,)."""
        shape = (self.input_size, self.blocks * self.hidden_size)
        if np.shape(params["W_x"]) != shape or np.shape(params["b"]) != shape[1:]:
            raise ValueError(f"params: expected W_x {shape} and b {shape[1:]}, got "
                             f"{np.shape(params['W_x'])} and {np.shape(params['b'])}")
        with torch.no_grad():
            self.linear.weight.copy_(torch.as_tensor(np.asarray(params["W_x"]).T))
            self.linear.bias.copy_(torch.as_tensor(np.asarray(params["b"])))


class MinGRU(_Minimal):
    """h_t = (1 - z_t) h_{t-1} + z_t n_t, z and n from x_t only; ``negative``: a_t = 1 - 2 z_t."""

    blocks = 2

    def __init__(self, input_size, hidden_size, negative=False, method="blelloch"):
        super().__init__(input_size, hidden_size, method)
        if not isinstance(negative, bool):
            raise ValueError(f"negative: expected True or False, got {negative!r}")
        self.negative = negative

    def coefficients(self, ax):
        H = self.hidden_size
        z = torch.sigmoid(ax[..., :H])
        a = 1.0 - 2.0 * z if self.negative else 1.0 - z
        return a, z * ax[..., H:]


class MinLSTM(_Minimal):
    """h_t = f'_t h_{t-1} + i'_t g_t with f' = f / (f + i), i' = i / (f + i), all from x_t."""

    blocks = 3

    def coefficients(self, ax):
        H = self.hidden_size
        f = torch.sigmoid(ax[..., :H])
        i = torch.sigmoid(ax[..., H : 2 * H])
        s = f + i
        return f / s, i / s * ax[..., 2 * H :]
