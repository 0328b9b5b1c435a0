r"""The sLSTM cell of xLSTM (Beck et al. 2024, section 2.2): exponential gates, one head.

Shapes: N batch size, T number of steps, D input size, H hidden size.
Parameters: ``W_x`` (D, 4H), ``R`` (H, 4H) (the recurrent weights on h_{t-1}),
``b`` (4H,), the 4H columns in the gate order :data:`SLSTM_GATES` = z, i, f, o.
One step, from the states (h_prev, c_prev, n_prev, m_prev), is

    a    = x @ W_x + h_prev @ R + b          (N, 4H), split into zt, it, ft, ot
    z    = tanh(zt)                          candidate
    o    = sigma(ot)                         output gate
    lf   = log sigma(ft)   or   ft           log of the forget gate (forget="sigmoid" or "exp")
    m    = max(lf + m_prev, it)              stabiliser state
    i    = exp(it - m)                       stabilised exponential input gate
    f    = exp(lf + m_prev - m)              stabilised forget gate
    c    = f * c_prev + i * z                cell state
    n    = f * n_prev + i                    normaliser state
    h    = o * c / n

In the book's notation (\tilde\imath_t is ``it``, and so on):

.. math::

    m_t = \max(\log f_t + m_{t-1},\ \tilde\imath_t)
    i'_t = \exp(\tilde\imath_t - m_t)
    f'_t = \exp(\log f_t + m_{t-1} - m_t)
    c_t = f'_t\, c_{t-1} + i'_t\, z_t
    n_t = f'_t\, n_{t-1} + i'_t
    h_t = o_t \odot c_t / n_t

Without the stabiliser (``stabilise=False``) m is 0 at every step, so that
i = exp(it) and f = exp(lf): the paper's unstabilised cell, whose exp overflows
float32 once an exponent passes log(3.4e38) = 88.7 (:data:`FLOAT32_EXP_LIMIT`).
The stabiliser changes nothing else: every state starts at 0, so by induction
c_t and n_t are the unstabilised states times exp(-m_t), and the factor cancels
in h = o * c / n. The output does not depend on m at all, whatever m is.

That is why the backward pass holds m fixed (no gradient through the max), as
the paper does: since h is the same function of the inputs for every m, its
derivative with m held fixed is its whole derivative, at a tie of the max too.
Writing dv for dL/dv and dh for the gradient on h_t (from the loss and from
step t+1 through R), with dc, dn carried back from step t+1:

.. math::

    \mathrm{d}o = \mathrm{d}h \odot c_t / n_t
    \mathrm{d}c = \mathrm{d}c + \mathrm{d}h \odot o_t / n_t
    \mathrm{d}n = \mathrm{d}n - \mathrm{d}h \odot o_t\, c_t / n_t^2
    \mathrm{d}z = \mathrm{d}c \odot i'_t
    \mathrm{d}\tilde\imath = (\mathrm{d}c \odot z_t + \mathrm{d}n) \odot i'_t
    \mathrm{d}\log f = (\mathrm{d}c \odot c_{t-1} + \mathrm{d}n \odot n_{t-1}) \odot f'_t
    \mathrm{d}\tilde f = \mathrm{d}\log f \odot \sigma(-\tilde f_t) \text{ (sigmoid)},
        \quad \mathrm{d}\tilde f = \mathrm{d}\log f \text{ (exp)}
    \mathrm{d}c_{t-1} = \mathrm{d}c \odot f'_t, \quad \mathrm{d}n_{t-1} = \mathrm{d}n \odot f'_t
    \mathrm{d}a = [\mathrm{d}z \odot (1 - z_t^2),\ \mathrm{d}\tilde\imath,\ \mathrm{d}\tilde f,
        \ \mathrm{d}o \odot o_t (1 - o_t)]
    \mathrm{d}x_t = \mathrm{d}a\, W_x^\top, \quad \mathrm{d}h_{t-1} = \mathrm{d}a\, R^\top

The states start at zero (h_0 = c_0 = n_0 = m_0 = 0); n_1 = i'_1 > 0, so c / n
is defined from the first step on.
"""

from typing import NamedTuple

import numpy as np

from .activations import sigmoid
from .initialise import uniform_init
from .validation import check_array, check_params, check_shape

#: The gate order of the 4H columns of W_x, R and b.
SLSTM_GATES = ("z", "i", "f", "o")
#: The forget gates: a sigmoid (log f = log sigma(ft)) or an exponential (log f = ft).
FORGET_GATES = ("sigmoid", "exp")
#: exp(x) overflows float32 above this: log of the largest float32, 3.4028235e38.
FLOAT32_EXP_LIMIT = float(np.log(np.finfo(np.float32).max))


def slstm_param_shapes(D, H):
    return {
        "W_x": ((D, 4 * H), ("D", "4H")),
        "R": ((H, 4 * H), ("H", "4H")),
        "b": ((4 * H,), ("4H",)),
    }


def init_slstm_params(D, H, *, seed=0, dtype=np.float64):
    """Random parameters, uniform in (-1/sqrt(H), 1/sqrt(H)), the biases too."""
    return uniform_init(slstm_param_shapes(D, H), D, H, seed, dtype)


def check_forget(forget):
    if forget not in FORGET_GATES:
        raise ValueError(f"forget: expected one of {FORGET_GATES}, got {forget!r}")


def log_forget(ft, forget):
    """log f from the forget pre-activation ``ft``: log sigma(ft) = -log(1 + exp(-ft)), or ft."""
    return -np.logaddexp(0.0, -ft) if forget == "sigmoid" else ft


def log_forget_grad(ft, forget):
    """d log f / d ft: sigma(-ft) for the sigmoid gate, 1 for the exponential one."""
    return sigmoid(-ft) if forget == "sigmoid" else np.ones_like(ft)


class SLSTMCache(NamedTuple):
    """States (T+1, N, H) with the zero state at index 0; gates (T, N, H). Read-only."""

    x: np.ndarray
    h: np.ndarray
    c: np.ndarray
    n: np.ndarray
    m: np.ndarray
    z: np.ndarray
    i: np.ndarray
    f: np.ndarray
    o: np.ndarray
    ft: np.ndarray
    params: dict
    forget: str


def slstm_forward(x, params, *, forget="sigmoid", stabilise=True):
    """x (T, N, D) -> hs (T, N, H), cache; the states start at zero.

    With ``stabilise=False`` an overflow is not an error: it is what that cell
    does, and the returned hs then hold inf or nan (see :data:`FLOAT32_EXP_LIMIT`).
    """
    T, N, D = check_array("x", x, "TND")
    check_forget(forget)
    if "R" not in params or not hasattr(params["R"], "shape") or params["R"].ndim != 2:
        raise ValueError(f"params: expected an 'R' of shape (H, 4H), got keys {sorted(params)}")
    H = params["R"].shape[0]
    check_params(params, slstm_param_shapes(D, H), x.dtype)
    ax = (x.reshape(T * N, D) @ params["W_x"]).reshape(T, N, 4 * H) + params["b"]
    h, c, n, m = (np.zeros((T + 1, N, H), dtype=x.dtype) for _ in range(4))
    z, i, f, o, ft = (np.empty((T, N, H), dtype=x.dtype) for _ in range(5))
    with np.errstate(over="ignore", invalid="ignore"):  # the unstabilised cell may overflow
        for t in range(T):
            a = ax[t] + h[t] @ params["R"]  # (N, 4H)
            zt, it, ft[t], ot = np.split(a, 4, axis=1)
            z[t] = np.tanh(zt)
            o[t] = sigmoid(ot)
            lf = log_forget(ft[t], forget)
            m[t + 1] = np.maximum(lf + m[t], it) if stabilise else 0.0
            i[t] = np.exp(it - m[t + 1])
            f[t] = np.exp(lf + m[t] - m[t + 1])
            c[t + 1] = f[t] * c[t] + i[t] * z[t]
            n[t + 1] = f[t] * n[t] + i[t]
            h[t + 1] = o[t] * c[t + 1] / n[t + 1]
    for arr in (h, c, n, m, z, i, f, o, ft):
        arr.flags.writeable = False
    return h[1:], SLSTMCache(x.copy(), h, c, n, m, z, i, f, o, ft, params, forget)


def slstm_backward(dhs, cache):
    """Backpropagation through time: dhs (T, N, H) -> dx (T, N, D), grads (m held fixed)."""
    x, h, c, n, m, z, i, f, o, ft, params, forget = cache
    T, N, D = x.shape
    H = h.shape[2]
    check_array("dhs", dhs, "TNH", x.dtype)
    check_shape("dhs", dhs, (T, N, H), "TNH")
    da = np.empty((T, N, 4 * H), dtype=x.dtype)
    dh_next, dc, dn = (np.zeros((N, H), dtype=x.dtype) for _ in range(3))
    for t in reversed(range(T)):
        dh = dhs[t] + dh_next
        do = dh * c[t + 1] / n[t + 1]
        dc = dc + dh * o[t] / n[t + 1]
        dn = dn - dh * o[t] * c[t + 1] / n[t + 1] ** 2
        dz = dc * i[t]
        dit = (dc * z[t] + dn) * i[t]
        dlf = (dc * c[t] + dn * n[t]) * f[t]
        dc, dn = dc * f[t], dn * f[t]
        da[t] = np.concatenate(
            [
                dz * (1 - z[t] ** 2),
                dit,
                dlf * log_forget_grad(ft[t], forget),
                do * o[t] * (1 - o[t]),
            ],
            axis=1,
        )
        dh_next = da[t] @ params["R"].T
    da2 = da.reshape(T * N, 4 * H)
    grads = {
        "W_x": x.reshape(T * N, D).T @ da2,
        "R": h[:-1].reshape(T * N, H).T @ da2,
        "b": da2.sum(axis=0),
    }
    return (da2 @ params["W_x"].T).reshape(T, N, D), grads


__all__ = [
    "FLOAT32_EXP_LIMIT",
    "FORGET_GATES",
    "SLSTM_GATES",
    "SLSTMCache",
    "init_slstm_params",
    "log_forget",
    "log_forget_grad",
    "slstm_backward",
    "slstm_forward",
    "slstm_param_shapes",
]
