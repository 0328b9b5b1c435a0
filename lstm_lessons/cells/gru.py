r"""The gated recurrent unit (Cho et al. 2014) in NumPy, in PyTorch's convention.

Shapes: N batch size, T number of steps, D input size, H hidden size.
Parameters: ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b`` (3H,), ``b_hn`` (H,), the
3H columns in the order r, z, n of ``torch.nn.GRU``. One step is

    ax  = x @ W_x + b                   (N, 3H), split into ax_r, ax_z, ax_n
    ah  = h_prev @ W_h                  (N, 3H), split into ah_r, ah_z, ah_n
    r   = sigma(ax_r + ah_r)            reset gate
    z   = sigma(ax_z + ah_z)            update gate
    m   = ah_n + b_hn                   the recurrent part of the candidate
    n   = tanh(ax_n + r * m)            candidate
    h   = (1 - z) * n + z * h_prev

In the book's notation, where a superscript picks a block of H columns (W_x^r
is the r block of W_x, b^r that of b), step t's x and h_prev are x_t and
h_{t-1}, and the element-wise * is \odot:

.. math::

    r_t = \sigma(x_t W_x^r + h_{t-1} W_h^r + b^r)
    z_t = \sigma(x_t W_x^z + h_{t-1} W_h^z + b^z)
    m_t = h_{t-1} W_h^n + b_{hn}
    n_t = \tanh(x_t W_x^n + b^n + r_t \odot m_t)
    h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}

``b_hn`` stays separate because the reset gate multiplies it; the other
recurrent biases of ``torch.nn.GRU`` are folded into ``b``. With z in the role
of f and 1 - z in the role of i, the update is the CIFG cell's ``c = f * c_prev
+ (1 - f) * g``, with no separate cell state and no output gate.

The backward pass runs these lines in reverse. Writing dv for dL/dv, da^r,
da^z, da^n for the gradients on the arguments of the three activations, and
dh for the gradient on h_t:

.. math::

    \mathrm{d}n = \mathrm{d}h \odot (1 - z_t)
    \mathrm{d}z = \mathrm{d}h \odot (h_{t-1} - n_t)
    \mathrm{d}a^n = \mathrm{d}n \odot (1 - n_t^2)
    \mathrm{d}a^r = \mathrm{d}a^n \odot m_t \odot r_t (1 - r_t)
    \mathrm{d}a^z = \mathrm{d}z \odot z_t (1 - z_t)
    \mathrm{d}a^x = [\mathrm{d}a^r, \mathrm{d}a^z, \mathrm{d}a^n]
    \mathrm{d}a^h = [\mathrm{d}a^r, \mathrm{d}a^z, \mathrm{d}a^n \odot r_t]
    \mathrm{d}x_t = \mathrm{d}a^x\, W_x^\top
    \mathrm{d}h_{t-1} = \mathrm{d}h \odot z_t + \mathrm{d}a^h\, W_h^\top

da^x and da^h are the code's ``dax`` and ``dah`` (N, 3H): the reset gate
multiplies the whole recurrent part m_t, so the n block of the recurrent side
(and b_hn) gets da^n * r_t where the input side gets da^n. dW_x, db come from
da^x and dW_h, db_hn from da^h.
"""

from typing import NamedTuple

import numpy as np

from .activations import sigmoid
from .initialise import uniform_init
from .validation import check_array, check_params, check_shape


def gru_param_shapes(D, H):
    return {
        "W_x": ((D, 3 * H), ("D", "3H")),
        "W_h": ((H, 3 * H), ("H", "3H")),
        "b": ((3 * H,), ("3H",)),
        "b_hn": ((H,), "H"),
    }


def init_gru_params(D, H, *, seed=0, dtype=np.float64):
    """Random parameters, uniform in (-1/sqrt(H), 1/sqrt(H)) like ``torch.nn.GRU``."""
    return uniform_init(gru_param_shapes(D, H), D, H, seed, dtype)


def _check_inputs(x, h_prev, params, x_letters, h_name):
    N, D = check_array("x", x, x_letters)[-2:]
    check_array(h_name, h_prev, "NH", x.dtype)
    H = h_prev.shape[1]
    check_shape(h_name, h_prev, (N, H), "NH")
    check_params(params, gru_param_shapes(D, H), x.dtype)


def _cell(ax, h_prev, params):
    H = h_prev.shape[1]
    ah = h_prev @ params["W_h"]  # (N, 3H)
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H : 2 * H] + ah[:, H : 2 * H])
    m = ah[:, 2 * H :] + params["b_hn"]
    n = np.tanh(ax[:, 2 * H :] + r * m)
    h = (1.0 - z) * n + z * h_prev  # (N, H)
    return r, z, m, n, h


def _cell_backward(dh, h_prev, r, z, m, n):
    """From dL/dh to dL/dax and dL/dah (each (N, 3H)) and the direct part of dL/dh_prev."""
    dn = dh * (1.0 - z)
    dz = dh * (h_prev - n)
    dh_prev = dh * z
    da_n = dn * (1.0 - n * n)
    dr = da_n * m
    da_r = dr * r * (1.0 - r)
    da_z = dz * z * (1.0 - z)
    dax = np.concatenate([da_r, da_z, da_n], axis=1)
    dah = np.concatenate([da_r, da_z, da_n * r], axis=1)
    return dax, dah, dh_prev


class GRUStepCache(NamedTuple):
    x: np.ndarray
    h_prev: np.ndarray
    r: np.ndarray
    z: np.ndarray
    m: np.ndarray
    n: np.ndarray
    params: dict


def gru_step_forward(x, h_prev, params):
    """One step: x (N, D), h_prev (N, H) -> h (N, H), cache."""
    _check_inputs(x, h_prev, params, "ND", "h_prev")
    r, z, m, n, h = _cell(x @ params["W_x"] + params["b"], h_prev, params)
    return h, GRUStepCache(x, h_prev, r, z, m, n, params)


def gru_step_backward(dh, cache):
    """dh (N, H) -> dx (N, D), dh_prev (N, H), grads."""
    x, h_prev, r, z, m, n, params = cache
    check_array("dh", dh, "NH", x.dtype)
    check_shape("dh", dh, h_prev.shape, "NH")
    H = h_prev.shape[1]
    dax, dah, dh_prev = _cell_backward(dh, h_prev, r, z, m, n)
    grads = {
        "W_x": x.T @ dax,
        "W_h": h_prev.T @ dah,
        "b": dax.sum(axis=0),
        "b_hn": dah[:, 2 * H :].sum(axis=0),
    }
    return dax @ params["W_x"].T, dh_prev + dah @ params["W_h"].T, grads


class GRUCache(NamedTuple):
    """``h`` is (T+1, N, H) with h0 at index 0; r, z, m, n are (T, N, H). Read-only."""

    x: np.ndarray
    h: np.ndarray
    r: np.ndarray
    z: np.ndarray
    m: np.ndarray
    n: np.ndarray
    params: dict


def gru_forward(x, h0, params):
    """x (T, N, D), h0 (N, H) -> hs (T, N, H), cache."""
    _check_inputs(x, h0, params, "TND", "h0")
    T, N, D = x.shape
    H = h0.shape[1]
    ax = (x.reshape(T * N, D) @ params["W_x"]).reshape(T, N, 3 * H)
    ax += params["b"]
    h = np.empty((T + 1, N, H), dtype=x.dtype)
    r, z, m, n = (np.empty((T, N, H), dtype=x.dtype) for _ in range(4))
    h[0] = h0
    for t in range(T):
        r[t], z[t], m[t], n[t], h[t + 1] = _cell(ax[t], h[t], params)
    for arr in (h, r, z, m, n):
        arr.flags.writeable = False
    return h[1:], GRUCache(x.copy(), h, r, z, m, n, params)


def gru_backward(dhs, cache):
    """Backpropagation through time: dhs (T, N, H) -> dx (T, N, D), dh0 (N, H), grads."""
    x, h, r, z, m, n, params = cache
    T, N, D = x.shape
    H = h.shape[2]
    check_array("dhs", dhs, "TNH", x.dtype)
    check_shape("dhs", dhs, (T, N, H), "TNH")
    dax = np.empty((T, N, 3 * H), dtype=x.dtype)
    dah = np.empty((T, N, 3 * H), dtype=x.dtype)
    dh_next = np.zeros((N, H), dtype=x.dtype)
    for t in reversed(range(T)):
        dax[t], dah[t], dh_direct = _cell_backward(dhs[t] + dh_next, h[t], r[t], z[t], m[t], n[t])
        dh_next = dh_direct + dah[t] @ params["W_h"].T
    dax2 = dax.reshape(T * N, 3 * H)
    dah2 = dah.reshape(T * N, 3 * H)
    grads = {
        "W_x": x.reshape(T * N, D).T @ dax2,
        "W_h": h[:-1].reshape(T * N, H).T @ dah2,
        "b": dax2.sum(axis=0),
        "b_hn": dah2[:, 2 * H :].sum(axis=0),
    }
    return (dax2 @ params["W_x"].T).reshape(T, N, D), dh_next, grads
