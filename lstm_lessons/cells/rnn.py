r"""The simple (Elman) RNN in NumPy: forward beside backward, as pure functions.

Shapes: N batch size, T number of steps, D input size, H hidden size.
Parameters: ``W_x`` (D, H), ``W_h`` (H, H), ``b`` (H,). One step is

    a = x @ W_x + h_prev @ W_h + b      (N, H)
    h = tanh(a)

which is ``torch.nn.RNN`` with ``weight_ih_l0 = W_x.T``, ``weight_hh_l0 = W_h.T``
and ``bias_ih_l0 + bias_hh_l0 = b``. In the book's notation (step t's x and
h_prev are x_t and h_{t-1}):

.. math::

    a_t = x_t W_x + h_{t-1} W_h + b
    h_t = \tanh(a_t)

The backward pass through T steps multiplies the gradient by
``diag(1 - h^2) W_h^T`` once per step, which is where vanishing and exploding
gradients come from. Writing dv for dL/dv, with dh_t the gradient on h_t from
outside (``dhs[t]``) plus the one handed back from step t + 1, ``rnn_backward``
computes, going back from t = T to t = 1,

.. math::

    \mathrm{d}a_t = \mathrm{d}h_t \odot (1 - h_t^2)
    \mathrm{d}h_{t-1} = \mathrm{d}a_t\, W_h^\top
    \mathrm{d}x_t = \mathrm{d}a_t\, W_x^\top
    \mathrm{d}W_x = \textstyle\sum_t x_t^\top \mathrm{d}a_t
    \mathrm{d}W_h = \textstyle\sum_t h_{t-1}^\top \mathrm{d}a_t
    \mathrm{d}b = \textstyle\sum_t \sum_n (\mathrm{d}a_t)_n
"""

from typing import NamedTuple

import numpy as np

from .initialise import uniform_init
from .validation import check_array, check_params, check_shape


def rnn_param_shapes(D, H):
    return {"W_x": ((D, H), "DH"), "W_h": ((H, H), "HH"), "b": ((H,), "H")}


def init_rnn_params(D, H, *, seed=0, dtype=np.float64):
    """Random parameters, uniform in (-1/sqrt(H), 1/sqrt(H)) like ``torch.nn.RNN``."""
    return uniform_init(rnn_param_shapes(D, H), D, H, seed, dtype)


def _check_inputs(x, h_prev, params, x_letters, h_name):
    N, D = check_array("x", x, x_letters)[-2:]
    check_array(h_name, h_prev, "NH", x.dtype)
    H = h_prev.shape[1]
    check_shape(h_name, h_prev, (N, H), "NH")
    check_params(params, rnn_param_shapes(D, H), x.dtype)


class RNNStepCache(NamedTuple):
    x: np.ndarray
    h_prev: np.ndarray
    h: np.ndarray
    params: dict


def rnn_step_forward(x, h_prev, params):
    """One step: x (N, D), h_prev (N, H) -> h (N, H), cache."""
    _check_inputs(x, h_prev, params, "ND", "h_prev")
    h = np.tanh(x @ params["W_x"] + h_prev @ params["W_h"] + params["b"])  # (N, H)
    return h, RNNStepCache(x, h_prev, h, params)


def rnn_step_backward(dh, cache):
    """dh (N, H) -> dx (N, D), dh_prev (N, H), grads."""
    x, h_prev, h, params = cache
    check_array("dh", dh, "NH", x.dtype)
    check_shape("dh", dh, h.shape, "NH")
    da = dh * (1.0 - h * h)  # tanh' from the output
    grads = {"W_x": x.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}
    return da @ params["W_x"].T, da @ params["W_h"].T, grads


class RNNCache(NamedTuple):
    """``h`` is (T+1, N, H) with h0 at index 0; read-only."""

    x: np.ndarray
    h: np.ndarray
    params: dict


def rnn_forward(x, h0, params):
    """x (T, N, D), h0 (N, H) -> hs (T, N, H), cache. ``hs[t]`` is h after step t."""
    _check_inputs(x, h0, params, "TND", "h0")
    T, N, D = x.shape
    H = h0.shape[1]
    ax = (x.reshape(T * N, D) @ params["W_x"]).reshape(T, N, H)
    ax += params["b"]
    h = np.empty((T + 1, N, H), dtype=x.dtype)
    h[0] = h0
    for t in range(T):
        h[t + 1] = np.tanh(ax[t] + h[t] @ params["W_h"])
    h.flags.writeable = False
    return h[1:], RNNCache(x.copy(), h, params)


def rnn_backward(dhs, cache):
    """Backpropagation through time: dhs (T, N, H) -> dx (T, N, D), dh0 (N, H), grads."""
    x, h, params = cache
    T, N, D = x.shape
    H = h.shape[2]
    check_array("dhs", dhs, "TNH", x.dtype)
    check_shape("dhs", dhs, (T, N, H), "TNH")
    da = np.empty((T, N, H), dtype=x.dtype)
    dh_next = np.zeros((N, H), dtype=x.dtype)
    for t in reversed(range(T)):
        da[t] = (dhs[t] + dh_next) * (1.0 - h[t + 1] * h[t + 1])
        dh_next = da[t] @ params["W_h"].T
    da2 = da.reshape(T * N, H)
    grads = {
        "W_x": x.reshape(T * N, D).T @ da2,
        "W_h": h[:-1].reshape(T * N, H).T @ da2,
        "b": da2.sum(axis=0),
    }
    return (da2 @ params["W_x"].T).reshape(T, N, D), dh_next, grads
