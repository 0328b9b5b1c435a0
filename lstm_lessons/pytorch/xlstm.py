"""PyTorch twins of the xLSTM cells: :class:`SLSTM` and :class:`MLSTM`, one head each.

Shapes: input x (T, N, D), time-major; output (T, N, H), as ``torch.nn.LSTM``
with ``batch_first=False``. The parameters are the NumPy cells' own, in their
layout (:mod:`lstm_lessons.cells.slstm`: ``W_x`` (D, 4H), ``R`` (H, 4H), ``b``
(4H,), gates z, i, f, o; :mod:`lstm_lessons.cells.mlstm`: ``W`` (D, 4H + 2),
``b`` (4H + 2,), columns q, k, v, o, i, f), so that each layer's ``numpy_params()``
hands them to the NumPy cells unchanged (and ``load_numpy(params)`` takes them back), and
the tests hold the two equal in float64.
Autograd does the backward pass; the states start at zero.

The :class:`MLSTM` runs its parallel form by default (``form="parallel"``: the
T x T decay-masked matrix, all steps at once) or the step loop
(``form="recurrent"``); both give the same output.
"""

import math

import numpy as np
import torch
from torch import nn

from ..cells.slstm import FORGET_GATES
from ..cells.validation import check_int

FORMS = ("parallel", "recurrent")


def _log_forget(ft, forget):
    return nn.functional.logsigmoid(ft) if forget == "sigmoid" else ft


def _check_options(forget, stabilise):
    if forget not in FORGET_GATES:
        raise ValueError(f"forget: expected one of {FORGET_GATES}, got {forget!r}")
    if not isinstance(stabilise, bool):
        raise TypeError(f"stabilise: expected True or False, got {stabilise!r}")


def _check_x(name, x, D):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of shape (T, N, D={D}), got "
                        f"{type(x).__name__}")  # fmt: skip
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {x.dtype}")
    if x.dim() != 3 or x.shape[2] != D:
        raise ValueError(f"{name}: expected x of shape (T, N, D={D}), got {tuple(x.shape)}")


class _XLSTMLayer(nn.Module):
    def __init__(self, input_size, hidden_size, shapes, forget, stabilise, forget_bias,
                 input_bias, dtype):  # fmt: skip
        super().__init__()
        check_int("input_size", input_size)
        check_int("hidden_size", hidden_size)
        _check_options(forget, stabilise)
        self.input_size, self.hidden_size = input_size, hidden_size
        self.forget, self.stabilise = forget, stabilise
        k = 1.0 / math.sqrt(hidden_size)
        for name, shape in shapes.items():
            weight = torch.empty(shape, dtype=dtype or torch.float32).uniform_(-k, k)
            self.register_parameter(name, nn.Parameter(weight))
        with torch.no_grad():
            for value, cols in ((forget_bias, self._f_cols), (input_bias, self._i_cols)):
                if value is not None:
                    self.b[cols] = value

    def numpy_params(self):
        """The parameters as NumPy float64 arrays, for the NumPy cell."""
        return {name: p.detach().double().numpy().copy() for name, p in self.named_parameters()}

    def load_numpy(self, params):
        """Copy NumPy parameters (the NumPy cell's layout) into this layer; returns the layer."""
        names = sorted(name for name, _ in self.named_parameters())
        if not isinstance(params, dict) or sorted(params) != names:
            got = sorted(params) if isinstance(params, dict) else type(params).__name__
            raise ValueError(f"params: expected a dict with keys {names}, got {got}")
        with torch.no_grad():
            for name, p in self.named_parameters():
                value = torch.as_tensor(np.asarray(params[name]), dtype=p.dtype)
                if value.shape != p.shape:
                    raise ValueError(f"params[{name!r}]: expected shape {tuple(p.shape)}, "
                                     f"got {tuple(value.shape)}")  # fmt: skip
                p.copy_(value)
        return self

    def _weights(self, x):
        _check_x("x", x, self.input_size)
        return {name: p.to(x.dtype) for name, p in self.named_parameters()}


class SLSTM(_XLSTMLayer):
    """The sLSTM layer: exponential input gate, normaliser, stabiliser, recurrent weights R.

    ``forget`` is ``"sigmoid"`` or ``"exp"``; ``stabilise=False`` runs the
    unstabilised cell (which overflows where exp does). ``forget_bias`` and
    ``input_bias``, if given, set those gates' biases. ``forward(x)`` returns
    ``(out, (h, c, n, m))``, each state (N, H) at the last step.
    """

    def __init__(self, input_size, hidden_size, forget="sigmoid", stabilise=True,
                 forget_bias=None, input_bias=None, dtype=None):  # fmt: skip
        H = hidden_size
        self._i_cols, self._f_cols = slice(H, 2 * H), slice(2 * H, 3 * H)
        shapes = {"W_x": (input_size, 4 * H), "R": (H, 4 * H), "b": (4 * H,)}
        super().__init__(input_size, hidden_size, shapes, forget, stabilise, forget_bias,
                         input_bias, dtype)  # fmt: skip

    def forward(self, x):
        w = self._weights(x)
        T, N, _ = x.shape
        H = self.hidden_size
        ax = x @ w["W_x"] + w["b"]  # (T, N, 4H)
        h, c, n, m = (x.new_zeros(N, H) for _ in range(4))
        out = []
        for t in range(T):
            zt, it, ft, ot = (ax[t] + h @ w["R"]).chunk(4, dim=1)
            lf = _log_forget(ft, self.forget)
            m_new = torch.maximum(lf + m, it).detach() if self.stabilise else torch.zeros_like(m)
            i = torch.exp(it - m_new)
            f = torch.exp(lf + m - m_new)
            c = f * c + i * torch.tanh(zt)
            n = f * n + i
            h = torch.sigmoid(ot) * c / n
            m = m_new
            out.append(h)
        return torch.stack(out), (h, c, n, m)


class MLSTM(_XLSTMLayer):
    """The mLSTM layer: a matrix memory C (H x H) written with v k^T, read with a query q.

    Options as :class:`SLSTM`, and ``form``: ``"parallel"`` (default) or
    ``"recurrent"``. ``forward(x)`` returns ``(out, (C, n, m))`` at the last
    step: C (N, H, H), n (N, H), m (N,), stabilised with m (the parallel form's
    m is its last row's maximum, the recurrent form's the running one).
    """

    def __init__(self, input_size, hidden_size, forget="sigmoid", stabilise=True,
                 form="parallel", forget_bias=None, input_bias=None, dtype=None):  # fmt: skip
        if form not in FORMS:
            raise ValueError(f"form: expected one of {FORMS}, got {form!r}")
        self.form = form
        H = hidden_size
        self._i_cols, self._f_cols = 4 * H, 4 * H + 1
        shapes = {"W": (input_size, 4 * H + 2), "b": (4 * H + 2,)}
        super().__init__(input_size, hidden_size, shapes, forget, stabilise, forget_bias,
                         input_bias, dtype)  # fmt: skip

    def _project(self, x):
        w = self._weights(x)
        H = self.hidden_size
        a = x @ w["W"] + w["b"]  # (T, N, 4H + 2)
        q, k, v, ot = a[..., : 4 * H].split(H, dim=-1)
        lf = _log_forget(a[..., 4 * H + 1], self.forget)
        return q, k / math.sqrt(H), v, torch.sigmoid(ot), a[..., 4 * H], lf

    def forward(self, x):
        if self.form == "recurrent":
            return self._recurrent(x)
        q, k, v, o, it, lf = (a.transpose(0, 1) for a in self._project(x))  # (N, T, ...)
        N, T, H = q.shape
        F = torch.cumsum(lf, dim=1)  # (N, T)
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        logD = (F[:, :, None] - F[:, None, :] + it[:, None, :]).masked_fill(~causal, -math.inf)
        m = logD.amax(dim=2).detach() if self.stabilise else x.new_zeros(N, T)  # (N, T)
        D = torch.exp(logD - m[:, :, None])  # (N, T, T)
        S = (q @ k.transpose(1, 2)) * D
        den = torch.maximum(S.sum(dim=2).abs(), torch.exp(-m))  # (N, T)
        out = o * (S @ v) / den[:, :, None]
        C = torch.einsum("ns,nsi,nsj->nij", D[:, -1], v, k)
        n = torch.einsum("ns,nsj->nj", D[:, -1], k)
        return out.transpose(0, 1), (C, n, m[:, -1])

    def _recurrent(self, x):
        q, k, v, o, it, lf = self._project(x)
        T, N, H = q.shape
        C, n, m = x.new_zeros(N, H, H), x.new_zeros(N, H), x.new_zeros(N)
        out = []
        for t in range(T):
            m_new = torch.maximum(lf[t] + m, it[t]).detach() if self.stabilise else m * 0
            i = torch.exp(it[t] - m_new)
            f = torch.exp(lf[t] + m - m_new)
            C = f[:, None, None] * C + i[:, None, None] * v[t][:, :, None] * k[t][:, None, :]
            n = f[:, None] * n + i[:, None] * k[t]
            den = torch.maximum((n * q[t]).sum(dim=1).abs(), torch.exp(-m_new))
            out.append(o[t] * torch.einsum("nij,nj->ni", C, q[t]) / den[:, None])
            m = m_new
        return torch.stack(out), (C, n, m)


__all__ = ["FORMS", "MLSTM", "SLSTM"]
