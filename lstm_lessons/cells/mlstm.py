r"""The mLSTM cell of xLSTM (Beck et al. 2024, section 2.3): a matrix memory, one head.

Shapes: N batch size, T number of steps, D input size, H head size (the memory
C is H x H). Parameters: ``W`` (D, 4H + 2) and ``b`` (4H + 2,), the columns in
the order :data:`MLSTM_COLUMNS`: query q, key k, value v, output gate o (H
each), then the input and forget pre-activations (one each: scalar gates per
head). Every gate reads x_t only; there are no recurrent weights. One step is

    a    = x @ W + b                         (N, 4H + 2): q, k~, v, ot, it, ft
    k    = k~ / sqrt(H)
    o    = sigma(ot)
    lf   = log sigma(ft)   or   ft           (forget="sigmoid" or "exp")
    m    = max(lf + m_prev, it)              stabiliser (N,)
    i    = exp(it - m),  f = exp(lf + m_prev - m)
    C    = f C_prev + i v k^T                (N, H, H) the matrix memory
    n    = f n_prev + i k                    (N, H) the normaliser
    h    = o * (C q) / max(|n . q|, exp(-m))

In the book's notation:

.. math::

    C_t = f'_t\, C_{t-1} + i'_t\, v_t k_t^\top
    n_t = f'_t\, n_{t-1} + i'_t\, k_t
    h_t = o_t \odot \frac{C_t q_t}{\max(|n_t^\top q_t|,\ e^{-m_t})}

As in the sLSTM (:mod:`lstm_lessons.cells.slstm`), every state starts at 0,
so C_t and n_t are the unstabilised ones times exp(-m_t), and the lower bound
exp(-m_t) is the paper's 1 times the same factor: h_t is the unstabilised
o * (C q) / max(|n . q|, 1) for any m, and the backward pass holds m fixed.
``stabilise=False`` sets m = 0.

Because the gates read x only, C_t is a sum over earlier steps,
C_t = sum_{s<=t} D_ts v_s k_s^T with D_ts = (prod_{u=s+1..t} f_u) i_s, and
the whole sequence can be computed at once (:func:`mlstm_parallel`, the
paper's appendix): with F_t = sum_{u<=t} log f_u,

.. math::

    \log D_{ts} = F_t - F_s + \tilde\imath_s \ (s \le t), \quad -\infty \ (s > t)
    m_t = \max_s \log D_{ts}, \quad D'_{ts} = \exp(\log D_{ts} - m_t)
    S = (Q K^\top) \odot D'
    h_t = o_t \odot \frac{\sum_s S_{ts} v_s}{\max(|\sum_s S_{ts}|,\ e^{-m_t})}

a T x T matrix per sequence: O(T^2 H) work instead of the loop's O(T H^2),
but no step waits for the one before.

The backward pass of the recurrent form, with dh the gradient on h_t and dC,
dn carried back from step t+1 (s = n_t . q_t, d = the denominator, u = C_t q_t):

.. math::

    \mathrm{d}o = \mathrm{d}h \odot u / d, \quad \mathrm{d}u = \mathrm{d}h \odot o_t / d
    \mathrm{d}s = -\frac{(\mathrm{d}h \odot o_t) \cdot u}{d^2}
        \, \mathrm{sign}(s)\, [|s| > e^{-m_t}]
    \mathrm{d}q = C_t^\top \mathrm{d}u + \mathrm{d}s\, n_t
    \mathrm{d}C = \mathrm{d}C + \mathrm{d}u\, q_t^\top
    \mathrm{d}n = \mathrm{d}n + \mathrm{d}s\, q_t
    \mathrm{d}v = i'_t\, \mathrm{d}C\, k_t
    \mathrm{d}k = i'_t (\mathrm{d}C^\top v_t + \mathrm{d}n)
    \mathrm{d}\tilde\imath = i'_t (v_t^\top \mathrm{d}C\, k_t + \mathrm{d}n \cdot k_t)
    \mathrm{d}\log f = f'_t (\langle \mathrm{d}C, C_{t-1} \rangle + \mathrm{d}n \cdot n_{t-1})
    \mathrm{d}C_{t-1} = f'_t\, \mathrm{d}C, \quad \mathrm{d}n_{t-1} = f'_t\, \mathrm{d}n
"""

from typing import NamedTuple

import numpy as np

from .activations import sigmoid
from .initialise import uniform_init
from .slstm import check_forget, log_forget, log_forget_grad
from .validation import check_array, check_params, check_shape

#: The column blocks of W and b: q, k, v, o (H columns each), then i and f (one each).
MLSTM_COLUMNS = ("q", "k", "v", "o", "i", "f")


def mlstm_param_shapes(D, H):
    return {"W": ((D, 4 * H + 2), ("D", "4H+2")), "b": ((4 * H + 2,), ("4H+2",))}


def init_mlstm_params(D, H, *, seed=0, dtype=np.float64):
    """Random parameters, uniform in (-1/sqrt(H), 1/sqrt(H)), the biases too."""
    return uniform_init(mlstm_param_shapes(D, H), D, H, seed, dtype)


def _head_size(params, x):
    T, N, D = check_array("x", x, "TND")
    if "W" not in params or not hasattr(params["W"], "shape") or params["W"].ndim != 2:
        raise ValueError(f"params: expected a 'W' of shape (D, 4H + 2), got keys {sorted(params)}")
    cols = params["W"].shape[1]
    if cols < 6 or (cols - 2) % 4:
        raise ValueError(f"params['W']: expected 4H + 2 columns (H >= 1), got {cols}")
    H = (cols - 2) // 4
    check_params(params, mlstm_param_shapes(D, H), x.dtype)
    return T, N, D, H


def _project(x, params, forget, H):
    """The input projections: q, k, v, o (T, N, H); it, lf, ft (T, N)."""
    a = x @ params["W"] + params["b"]  # (T, N, 4H + 2)
    q, k, v, ot = (a[..., j * H : (j + 1) * H] for j in range(4))
    it, ft = a[..., 4 * H], a[..., 4 * H + 1]
    return q, k / np.sqrt(H), v, sigmoid(ot), it, log_forget(ft, forget), ft


class MLSTMCache(NamedTuple):
    """States C (T+1, N, H, H), n (T+1, N, H), m (T+1, N), zero at index 0. Read-only."""

    x: np.ndarray
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    o: np.ndarray
    i: np.ndarray
    f: np.ndarray
    ft: np.ndarray
    C: np.ndarray
    n: np.ndarray
    m: np.ndarray
    params: dict
    forget: str


def mlstm_forward(x, params, *, forget="sigmoid", stabilise=True):
    """The recurrent form: x (T, N, D) -> hs (T, N, H), cache; the states start at zero."""
    T, N, D, H = _head_size(params, x)
    check_forget(forget)
    q, k, v, o, it, lf, ft = _project(x, params, forget, H)
    C = np.zeros((T + 1, N, H, H), dtype=x.dtype)
    n = np.zeros((T + 1, N, H), dtype=x.dtype)
    m = np.zeros((T + 1, N), dtype=x.dtype)
    i, f = (np.empty((T, N), dtype=x.dtype) for _ in range(2))
    h = np.empty((T, N, H), dtype=x.dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # the unstabilised cell may overflow
        for t in range(T):
            m[t + 1] = np.maximum(lf[t] + m[t], it[t]) if stabilise else 0.0
            i[t] = np.exp(it[t] - m[t + 1])
            f[t] = np.exp(lf[t] + m[t] - m[t + 1])
            C[t + 1] = (
                f[t][:, None, None] * C[t]
                + i[t][:, None, None] * v[t][:, :, None] * k[t][:, None, :]
            )
            n[t + 1] = f[t][:, None] * n[t] + i[t][:, None] * k[t]
            den = np.maximum(np.abs(np.sum(n[t + 1] * q[t], axis=1)), np.exp(-m[t + 1]))  # (N,)
            h[t] = o[t] * np.einsum("nij,nj->ni", C[t + 1], q[t]) / den[:, None]
    for arr in (q, k, v, o, i, f, ft, C, n, m):
        arr.flags.writeable = False
    return h, MLSTMCache(x.copy(), q, k, v, o, i, f, ft, C, n, m, params, forget)


def mlstm_backward(dhs, cache):
    """Backpropagation through time of the recurrent form: dhs (T, N, H) -> dx (T, N, D), grads."""
    x, q, k, v, o, i, f, ft, C, n, m, params, forget = cache
    T, N, D = x.shape
    H = q.shape[2]
    check_array("dhs", dhs, "TNH", x.dtype)
    check_shape("dhs", dhs, (T, N, H), "TNH")
    dq, dk, dv, dot = (np.empty((T, N, H), dtype=x.dtype) for _ in range(4))
    dit, dft = (np.empty((T, N), dtype=x.dtype) for _ in range(2))
    dC = np.zeros((N, H, H), dtype=x.dtype)
    dn = np.zeros((N, H), dtype=x.dtype)
    for t in reversed(range(T)):
        u = np.einsum("nij,nj->ni", C[t + 1], q[t])  # (N, H)
        s = np.sum(n[t + 1] * q[t], axis=1)  # (N,)
        floor = np.exp(-m[t + 1])
        den = np.maximum(np.abs(s), floor)
        dh = dhs[t]
        dot[t] = dh * u / den[:, None] * o[t] * (1 - o[t])
        du = dh * o[t] / den[:, None]
        ds = -np.sum(du * u, axis=1) / den * np.sign(s) * (np.abs(s) > floor)
        dq[t] = np.einsum("nij,ni->nj", C[t + 1], du) + ds[:, None] * n[t + 1]
        dC = dC + du[:, :, None] * q[t][:, None, :]
        dn = dn + ds[:, None] * q[t]
        dCk = np.einsum("nij,nj->ni", dC, k[t])  # (N, H)
        dv[t] = i[t][:, None] * dCk
        dk[t] = i[t][:, None] * (np.einsum("nij,ni->nj", dC, v[t]) + dn)
        dit[t] = i[t] * (np.sum(v[t] * dCk, axis=1) + np.sum(dn * k[t], axis=1))
        dlf = f[t] * (np.sum(dC * C[t], axis=(1, 2)) + np.sum(dn * n[t], axis=1))
        dft[t] = dlf * log_forget_grad(ft[t], forget)
        dC, dn = f[t][:, None, None] * dC, f[t][:, None] * dn
    da = np.concatenate([dq, dk / np.sqrt(H), dv, dot, dit[..., None], dft[..., None]], axis=2)
    da2 = da.reshape(T * N, 4 * H + 2)
    grads = {"W": x.reshape(T * N, D).T @ da2, "b": da2.sum(axis=0)}
    return (da2 @ params["W"].T).reshape(T, N, D), grads


def mlstm_parallel(x, params, *, forget="sigmoid", stabilise=True):
    """The parallel form: x (T, N, D) -> hs (T, N, H), all steps at once (no backward here)."""
    T, N, D, H = _head_size(params, x)
    check_forget(forget)
    q, k, v, o, it, lf, _ = (np.moveaxis(a, 0, 1) for a in _project(x, params, forget, H))
    F = np.cumsum(lf, axis=1)  # (N, T)
    causal = np.tril(np.ones((T, T), dtype=bool))
    logD = np.where(causal, F[:, :, None] - F[:, None, :] + it[:, None, :], -np.inf)  # (N, T, T)
    m = logD.max(axis=2) if stabilise else np.zeros((N, T), dtype=x.dtype)  # (N, T)
    with np.errstate(over="ignore", invalid="ignore"):
        S = (q @ np.swapaxes(k, 1, 2)) * np.exp(logD - m[:, :, None])  # (N, T, T)
        den = np.maximum(np.abs(S.sum(axis=2)), np.exp(-m))  # (N, T)
        h = o * (S @ v) / den[:, :, None]  # (N, T, H)
    return np.moveaxis(h, 1, 0)


__all__ = [
    "MLSTM_COLUMNS",
    "MLSTMCache",
    "init_mlstm_params",
    "mlstm_backward",
    "mlstm_forward",
    "mlstm_parallel",
    "mlstm_param_shapes",
]
