r"""A diagonal selective state-space layer, Mamba-style (Gu and Dao 2023), in NumPy.

Shapes: N batch size, T number of steps, D input size, H channels, S state
size per channel. Parameters: ``W_u`` (D, H), ``b_u`` (H,), ``W_dt`` (D, H),
``b_dt`` (H,), ``W_B`` (D, S), ``W_C`` (D, S), ``A_log`` (H, S), ``D_skip`` (H,).
One step reads the input x_t (N, D) and the state h_{t-1} (N, H, S):

    u     = x @ W_u + b_u                      (N, H)    each channel's input
    dt    = softplus(x @ W_dt + b_dt)          (N, H)    the step size Delta_t > 0
    B     = x @ W_B                            (N, S)    input direction, shared by the channels
    C     = x @ W_C                            (N, S)    readout direction
    A     = -exp(A_log)                        (H, S)    A < 0, so exp(dt * A) lies in (0, 1)
    e     = exp(dt[:, :, None] * A)            (N, H, S)
    a     = e                  (negative=False: a in (0, 1))
    a     = 2 e - 1            (negative=True:  a in (-1, 1), Grazzi et al. 2025)
    b     = dt[:, :, None] * B[:, None, :] * u[:, :, None]          (N, H, S)
    h     = a * h_prev + b                                          (N, H, S)
    y     = sum over S of C[:, None, :] * h  +  D_skip * u          (N, H)

As equations, with \odot element-wise and \Delta_t for ``dt``:

.. math::

    \Delta_t = \operatorname{softplus}(x_t W_\Delta + b_\Delta), \quad
    a_t = \exp(\Delta_t A), \quad b_t = \Delta_t B_t u_t, \\
    h_t = a_t \odot h_{t-1} + b_t, \qquad y_t = C_t \cdot h_t + D u_t .

This is a gated linear recurrence. Beside the LSTM's cell update
c_t = f_t c_{t-1} + i_t g_t, the transition a_t = exp(Delta_t A) plays the
forget gate f_t, Delta_t B_t plays the input gate i_t, and u_t the candidate
g_t. Both "gates" are chosen by the input x_t alone (selectivity): a large
Delta_t forgets (a_t -> 0) and writes (b_t grows), a small one keeps (a_t -> 1)
and ignores the input. The LSTM's gates read h_{t-1} as well. Because a_t does
not depend on h, the recurrence is linear in h and could be run as a scan; the
layer here loops over t, which is plain and fast enough for T of a few hundred.

With ``negative=False`` every a_t lies in (0, 1): the state can only decay
towards a fixed point, never flip sign, which is what keeps it from tracking
parity (:mod:`lstm_lessons.cells.parity`). ``negative=True`` maps the same
exp(Delta_t A) to 2 exp(Delta_t A) - 1 in (-1, 1): a large Delta_t now flips.

The backward pass runs the lines in reverse. Writing g_t for dL/dh_t (from
y_t and from h_{t+1}):

.. math::

    g_t = \mathrm{d}y_t\, C_t + a_{t+1} \odot g_{t+1}, \quad
    \mathrm{d}a_t = g_t \odot h_{t-1}, \quad \mathrm{d}b_t = g_t, \\
    \mathrm{d}(\Delta_t A) = \mathrm{d}a_t \odot e_t \cdot (1 \text{ or } 2), \quad
    \mathrm{d}\Delta_t = \textstyle\sum_S \mathrm{d}(\Delta_t A) \odot A
        + \sum_S \mathrm{d}b_t \odot B_t u_t, \\
    \mathrm{d}A = \textstyle\sum_{t,n} \mathrm{d}(\Delta_t A)\, \Delta_t, \quad
    \mathrm{d}A_{\log} = \mathrm{d}A \odot A, \quad
    \mathrm{d}p_t = \mathrm{d}\Delta_t\, \sigma(p_t),

where p_t = x_t W_Delta + b_Delta (softplus' = sigma), and the gradient on h_0 is
a_1 \odot g_1: the backward pass is itself a linear recurrence, run in reverse time.
"""

from typing import NamedTuple

import numpy as np

from .activations import sigmoid
from .initialise import uniform_init
from .validation import check_array, check_params, check_shape

#: The order of the parameters, stated once.
SSM_PARAMS = ("W_u", "b_u", "W_dt", "b_dt", "W_B", "W_C", "A_log", "D_skip")


def ssm_param_shapes(D, H, S):
    return {
        "W_u": ((D, H), "DH"),
        "b_u": ((H,), "H"),
        "W_dt": ((D, H), "DH"),
        "b_dt": ((H,), "H"),
        "W_B": ((D, S), "DS"),
        "W_C": ((D, S), "DS"),
        "A_log": ((H, S), "HS"),
        "D_skip": ((H,), "H"),
    }


def init_ssm_params(D, H, S, *, seed=0, dtype=np.float64):
    """Random parameters: weights uniform in (-1/sqrt(H), 1/sqrt(H)); A = -(1 .. S) as in Mamba.

    ``b_dt`` starts at softplus^{-1}(0.1): a step size near 0.1, so that at first each
    transition keeps most of the state (a near exp(-0.1 s) for the s-th state).
    """
    for name, n in (("D", D), ("H", H), ("S", S)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{name}: expected a positive integer, got {n!r}")
    params = uniform_init(ssm_param_shapes(D, H, S), D, H, seed, dtype)
    params["A_log"] = np.log(np.tile(np.arange(1, S + 1, dtype=dtype), (H, 1)))
    params["b_dt"] = (params["b_dt"] + np.log(np.expm1(0.1))).astype(dtype)
    return params


def softplus(p):
    """log(1 + exp(p)), without overflow; its derivative is sigmoid(p)."""
    return np.logaddexp(0.0, p)


def transition(dt, A, negative=False):
    """a = exp(dt A), or 2 exp(dt A) - 1 with ``negative``: dt (..., H), A (H, S) -> (..., H, S)."""
    e = np.exp(dt[..., None] * A)
    return 2.0 * e - 1.0 if negative else e


class SSMCache(NamedTuple):
    """``h`` is (T+1, N, H, S) with h0 at index 0; ``a`` (T, N, H, S) is the transition a_t."""

    x: np.ndarray
    h: np.ndarray
    u: np.ndarray
    p: np.ndarray
    dt: np.ndarray
    B: np.ndarray
    C: np.ndarray
    e: np.ndarray
    a: np.ndarray
    negative: bool
    params: dict


def _check_inputs(x, h0, params):
    T, N, D = check_array("x", x, "TND")
    check_array("h0", h0, "NHS", x.dtype)
    _, H, S = h0.shape
    check_shape("h0", h0, (N, H, S), "NHS")
    check_params(params, ssm_param_shapes(D, H, S), x.dtype)


def ssm_forward(x, h0, params, negative=False):
    """x (T, N, D), h0 (N, H, S) -> ys (T, N, H), cache (with the transitions ``cache.a``)."""
    if not isinstance(negative, (bool, np.bool_)):
        raise TypeError(f"negative: expected a bool, got {type(negative).__name__}")
    _check_inputs(x, h0, params)
    T, N, D = x.shape
    _, H, S = h0.shape
    u = x @ params["W_u"] + params["b_u"]  # (T, N, H)
    p = x @ params["W_dt"] + params["b_dt"]  # (T, N, H)
    dt = softplus(p)
    B = x @ params["W_B"]  # (T, N, S)
    C = x @ params["W_C"]  # (T, N, S)
    A = -np.exp(params["A_log"])  # (H, S)
    e = np.exp(dt[..., None] * A)  # (T, N, H, S)
    a = 2.0 * e - 1.0 if negative else e
    b = dt[..., None] * B[:, :, None, :] * u[..., None]  # (T, N, H, S)
    h = np.empty((T + 1, N, H, S), dtype=x.dtype)
    h[0] = h0
    for t in range(T):
        h[t + 1] = a[t] * h[t] + b[t]
    ys = np.einsum("tns,tnhs->tnh", C, h[1:]) + params["D_skip"] * u  # (T, N, H)
    for arr in (h, u, p, dt, B, C, e, a):
        arr.flags.writeable = False
    return ys, SSMCache(x.copy(), h, u, p, dt, B, C, e, a, bool(negative), params)


def ssm_backward(dys, cache):
    """dys (T, N, H) -> dx (T, N, D), dh0 (N, H, S), grads (the keys of the parameters)."""
    x, h, u, p, dt, B, C, e, a, negative, params = cache
    T, N, D = x.shape
    _, _, H, S = h.shape
    check_array("dys", dys, "TNH", x.dtype)
    check_shape("dys", dys, (T, N, H), "TNH")
    A = -np.exp(params["A_log"])
    g_direct = dys[..., None] * C[:, :, None, :]  # (T, N, H, S)
    g = np.empty_like(g_direct)
    g_next = np.zeros((N, H, S), dtype=x.dtype)  # a_{t+1} * g_{t+1}
    for t in reversed(range(T)):
        g[t] = g_direct[t] + g_next
        g_next = a[t] * g[t]
    da = g * h[:-1]
    db = g
    d_dtA = da * e * (2.0 if negative else 1.0)  # (T, N, H, S)
    ddt = (d_dtA * A).sum(axis=-1) + (db * B[:, :, None, :] * u[..., None]).sum(axis=-1)
    dB = np.einsum("tnhs,tnh->tns", db, dt * u)  # (T, N, S)
    du = np.einsum("tnhs,tns->tnh", db, B) * dt + dys * params["D_skip"]  # (T, N, H)
    dC = np.einsum("tnh,tnhs->tns", dys, h[1:])  # (T, N, S)
    dp = ddt * sigmoid(p)  # (T, N, H)
    x2 = x.reshape(T * N, D)
    grads = {
        "W_u": x2.T @ du.reshape(T * N, H),
        "b_u": du.sum(axis=(0, 1)),
        "W_dt": x2.T @ dp.reshape(T * N, H),
        "b_dt": dp.sum(axis=(0, 1)),
        "W_B": x2.T @ dB.reshape(T * N, S),
        "W_C": x2.T @ dC.reshape(T * N, S),
        "A_log": np.einsum("tnhs,tnh->hs", d_dtA, dt) * A,
        "D_skip": (dys * u).sum(axis=(0, 1)),
    }
    dx = du @ params["W_u"].T + dp @ params["W_dt"].T + dB @ params["W_B"].T + dC @ params["W_C"].T
    return dx, g_next, grads


__all__ = [
    "SSMCache",
    "SSM_PARAMS",
    "init_ssm_params",
    "softplus",
    "ssm_backward",
    "ssm_forward",
    "ssm_param_shapes",
    "transition",
]
