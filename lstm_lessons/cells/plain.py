"""The standard LSTM step, plainly: one line per equation, forward beside backward.

This is the cell the book shows. The engine in :mod:`lstm_lessons.cells.lstm`
computes the same step (and every variant) with in-place writes and switches,
and is tested against these functions.

Shapes: N batch size, D input size, H hidden size. Row vectors, as everywhere
in the course: x (N, D), h_prev and c_prev (N, H), W_x (D, 4H), W_h (H, 4H),
b (4H,), and the four blocks of 4H columns in the order i, f, g, o.

    a = x W_x + h_prev W_h + b      pre-activations, split into a_i, a_f, a_g, a_o
    i = sigma(a_i)                  input gate
    f = sigma(a_f)                  forget gate
    g = tanh(a_g)                   candidate
    o = sigma(a_o)                  output gate
    c = f * c_prev + i * g          cell state
    h = o * tanh(c)                 hidden state

The backward pass runs the same lines from the bottom up; each line's local
derivative sits beside it, as in CS231n's ``lstm_step_backward``.

A variant that chapter 9 shows is written as the standard step with its one
line changed: ``cifg_step_forward`` (f = 1 - i).
"""

import numpy as np

from .activations import sigmoid


def lstm_step_forward(x, h_prev, c_prev, W_x, W_h, b):
    """One step of the standard cell: h (N, H), c (N, H) and what the backward pass needs."""
    a = x @ W_x + h_prev @ W_h + b  # (N, 4H)
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)  # (N, H) each
    i = sigmoid(a_i)
    f = sigmoid(a_f)
    g = np.tanh(a_g)
    o = sigmoid(a_o)
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    cache = (x, h_prev, c_prev, W_x, W_h, i, f, g, o, c)
    return h, c, cache


def lstm_step_backward(dh, dc, cache):
    """Gradients of one step from dL/dh and dL/dc (N, H): dx, dh_prev, dc_prev, dW_x, dW_h, db.

    ``dc`` is the gradient that reaches c from later steps; the part that
    comes through h = o * tanh(c) is added here.
    """
    x, h_prev, c_prev, W_x, W_h, i, f, g, o, c = cache
    tc = np.tanh(c)
    do = dh * tc  # h = o * tanh(c)
    dc = dc + dh * o * (1 - tc**2)
    df = dc * c_prev  # c = f * c_prev + i * g
    di = dc * g
    dg = dc * i
    dc_prev = dc * f
    da = np.concatenate(  # back through each activation: sigma' = s(1 - s), tanh' = 1 - t^2
        [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1
    )  # (N, 4H)
    dx = da @ W_x.T  # a = x W_x + h_prev W_h + b
    dh_prev = da @ W_h.T
    dW_x = x.T @ da
    dW_h = h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dc_prev, dW_x, dW_h, db


def peephole_step_forward(x, h_prev, c_prev, W_x, W_h, b, p_i, p_f, p_o):
    """The standard step, except that the gates read the cell state (p_i, p_f, p_o (H,)).

    i and f look at the old state c_prev; o at the new state c, so it is computed after c.
    """
    a = x @ W_x + h_prev @ W_h + b  # (N, 4H)
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)  # (N, H) each
    i = sigmoid(a_i + p_i * c_prev)  # peephole: i reads c_{t-1}
    f = sigmoid(a_f + p_f * c_prev)  # peephole: f reads c_{t-1}
    g = np.tanh(a_g)
    c = f * c_prev + i * g
    o = sigmoid(a_o + p_o * c)  # peephole: o reads c_t
    h = o * np.tanh(c)
    cache = (x, h_prev, c_prev, W_x, W_h, p_i, p_f, p_o, i, f, g, o, c)
    return h, c, cache


def peephole_step_backward(dh, dc, cache):
    """The standard backward step, plus the three peephole paths into c and c_prev.

    Returns dx, dh_prev, dc_prev, dW_x, dW_h, db, dp_i, dp_f, dp_o.
    """
    x, h_prev, c_prev, W_x, W_h, p_i, p_f, p_o, i, f, g, o, c = cache
    tc = np.tanh(c)
    do = dh * tc  # h = o * tanh(c)
    da_o = do * o * (1 - o)
    dc = dc + dh * o * (1 - tc**2) + da_o * p_o  # peephole: o read c
    df = dc * c_prev  # c = f * c_prev + i * g
    di = dc * g
    dg = dc * i
    da_i = di * i * (1 - i)
    da_f = df * f * (1 - f)
    da_g = dg * (1 - g**2)
    dc_prev = dc * f + da_i * p_i + da_f * p_f  # peephole: i and f read c_prev
    dp_i = (da_i * c_prev).sum(axis=0)
    dp_f = (da_f * c_prev).sum(axis=0)
    dp_o = (da_o * c).sum(axis=0)
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)  # (N, 4H)
    dx = da @ W_x.T  # a = x W_x + h_prev W_h + b
    dh_prev = da @ W_h.T
    dW_x = x.T @ da
    dW_h = h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dc_prev, dW_x, dW_h, db, dp_i, dp_f, dp_o
def cifg_step_forward(x, h_prev, c_prev, W_x, W_h, b):
    """One step of the CIFG cell: the standard step, except ``f = 1 - i``.

    With no forget-gate block, W_x is (D, 3H), W_h (H, 3H) and b (3H,), the
    blocks in the order i, g, o.
    """
    a = x @ W_x + h_prev @ W_h + b  # (N, 3H)
    a_i, a_g, a_o = np.split(a, 3, axis=1)  # (N, H) each
    i = sigmoid(a_i)
    f = 1 - i  # the one line that differs: the forget gate is coupled to the input gate
    g = np.tanh(a_g)
    o = sigmoid(a_o)
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, c
