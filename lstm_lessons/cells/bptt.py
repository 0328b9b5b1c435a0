r"""How much of a gradient survives backpropagation through time, measured by the cells' own BPTT.

Shapes: N batch size, T number of steps, D input size, H hidden size.

Simple RNN, h_j = tanh(a_j): the gradient of a loss on h_T that reaches step t is
a product of T - t Jacobians diag(1 - h_j^2) W_h^T; :func:`gradient_norms_through_time`
measures its norm at every distance with :func:`~lstm_lessons.cells.rnn.rnn_backward`.
With row vectors, as in the code:

.. math::

    \frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_T}\, J_T\, J_{T-1} \cdots J_{t+1}
    J_j = \operatorname{diag}(1 - h_j^2)\, W_h^\top

LSTM, c_t = f_t * c_{t-1} + i_t * g_t: where the indirect path through h is small,
the gradient on c_T that reaches c_t is scaled by the product of the forget gates
in between (the constant error carousel when f = 1):

.. math::

    \frac{\partial L}{\partial c_t} \approx \frac{\partial L}{\partial c_T} \odot\prod_{j=t+1}^T f_j

:func:`forget_gate_products` is that prediction; :func:`cell_gradient_through_time`
measures dL/dc_t with :func:`~lstm_lessons.cells.lstm.lstm_backward`, every path
included; :func:`carousel_gradients` puts the two side by side for every unit.
"""

from typing import NamedTuple

import numpy as np

from .lstm import SequenceCache, lstm_backward, lstm_forward
from .rnn import rnn_backward, rnn_forward


def gradient_norms_through_time(params, x, h0, u):
    """||dL/dh_t|| for L = sum_n u_n . h_T, at every distance T - t: an array (T + 1, N).

    ``params`` are a simple RNN's (``W_x`` (D, H), ``W_h`` (H, H), ``b`` (H,)),
    ``x`` (T, N, D) the inputs, ``h0`` (N, H) the initial state and ``u``
    (N, H) the direction in which the loss reads h_T. Row k holds the norms
    at t = T - k, so row 0 is ||u_n||.

    The gradients come from the package's BPTT, ``rnn_backward``: dL/dh_t is
    the ``dh0`` of the same network run from h_t over the remaining steps.
    Running from h_t retraces the states of the full run, so this is the
    gradient that reaches step t of the full run.
    """
    hs, _ = rnn_forward(x, h0, params)  # checks every shape; (T, N, H)
    T, N, H = hs.shape
    u = np.asarray(u, dtype=x.dtype)
    if u.shape != (N, H):
        raise ValueError(f"u: expected shape (N, H) = {(N, H)}, got {u.shape}")
    h = np.concatenate([h0[None], hs])  # (T + 1, N, H), h[t] = h_t
    norms = np.empty((T + 1, N))
    norms[0] = np.linalg.norm(u, axis=1)
    for t in range(T):
        _, cache = rnn_forward(x[t:], h[t], params)
        dhs = np.zeros((T - t, N, H), dtype=x.dtype)
        dhs[-1] = u
        norms[T - t] = np.linalg.norm(rnn_backward(dhs, cache)[1], axis=1)  # dh0 = dL/dh_t
    return norms


def check_cache(cache):
    """Raise TypeError unless ``cache`` is an LSTM forward pass's SequenceCache."""
    if not isinstance(cache, SequenceCache):
        got = type(cache).__name__
        raise TypeError(f"cache: expected the SequenceCache returned by lstm_forward, got {got}")


def forget_gate_products(cache):
    """P (T+1, N, H) with P[t] = prod_{j=t+1..T} f_j, so P[T] = 1 and P[0] spans all T steps.

    This is the carousel's prediction of how much of a gradient on c_T
    reaches c_t. For the 1997 cell without a forget gate, P is 1 everywhere.
    """
    check_cache(cache)
    f = cache.gate("f")  # (T, N, H); f[t] is f_{t+1} in the 1-based notation
    P = np.ones((f.shape[0] + 1, *f.shape[1:]), dtype=np.float64)
    for t in reversed(range(f.shape[0])):
        P[t] = f[t] * P[t + 1]
    return P


def cell_gradient_through_time(cache, dc_T):
    """dL/dc_t (T+1, N, H) for t = 0..T, for the loss L = sum(dc_T * c_T).

    ``dc_T`` (N, H) is the gradient put on the last cell state, e.g. ones on
    one unit and zeros elsewhere. Entry t is the gradient with respect to
    the cell state handed to step t+1 with h_t held as it is, which is what
    :func:`lstm_lessons.cells.lstm.lstm_backward` returns as ``dc0`` for the rest of
    the sequence started from (h_t, c_t). It counts every path from c_t to
    c_T, the direct one through the forget gates and the indirect ones
    through h and the gates. One backward pass per t: O(T^2) steps, which
    is fine for the few hundred steps a figure needs.
    """
    check_cache(cache)
    T, N, _ = cache.x.shape
    H = cache.h.shape[2]
    dc_T = np.asarray(dc_T)
    if dc_T.shape != (N, H):
        raise ValueError(f"dc_T: expected shape (N, H) = ({N}, {H}), got {dc_T.shape}")
    dtype = cache.x.dtype
    grads = np.empty((T + 1, N, H), dtype=np.float64)
    grads[T] = dc_T
    for t in range(T):
        _, _, rest = lstm_forward(cache.x[t:], cache.h[t], cache.c[t], cache.params, cache.variant)
        dhs = np.zeros((T - t, N, H), dtype=dtype)
        dcs = np.zeros((T - t, N, H), dtype=dtype)
        dcs[-1] = dc_T
        grads[t] = lstm_backward(dhs, rest, dcs)[2]
    return grads


class CarouselGradients(NamedTuple):
    """Results of :func:`carousel_gradients`, (T+1, H) each, for t = 0..T.

    ``measured[t, k]`` is dL_k/dc_t[k] for the loss L_k = c_T[k] on unit k;
    ``predicted[t, k]`` is prod_{j=t+1..T} f_j[k], the carousel's prediction.
    ``cache`` is the forward pass over the sequence.
    """

    measured: np.ndarray
    predicted: np.ndarray
    cache: SequenceCache


def carousel_gradients(x, params, variant="standard"):
    """How much of a gradient on c_T[k] reaches c_t[k], measured and predicted, for every k.

    ``x`` (T, D) is one sequence, run from h_0 = c_0 = 0. To ask all H
    questions in one backward pass, the sequence is copied into a batch of
    N = H identical sequences and copy k gets the loss L_k = c_T[k] alone.
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x: expected one sequence of shape (T, D), got shape {x.shape}")
    if not isinstance(params, dict) or "W_h" not in params:
        raise ValueError("params: expected a dict of LSTM parameters with 'W_x', 'W_h' and 'b'")
    H = params["W_h"].shape[0]
    xb = np.repeat(x[:, None, :], H, axis=1)  # (T, H, D): copy k of the sequence is for unit k
    zeros = np.zeros((H, H), dtype=x.dtype)
    _, _, cache = lstm_forward(xb, zeros, zeros, params, variant)
    grads = cell_gradient_through_time(cache, np.eye(H, dtype=x.dtype))  # (T+1, H, H)
    products = forget_gate_products(cache)  # (T+1, H, H); all copies are the same
    measured = np.diagonal(grads, axis1=1, axis2=2)  # copy k, unit k
    return CarouselGradients(measured.copy(), products[:, 0].copy(), cache)
