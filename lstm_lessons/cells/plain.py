r"""The standard LSTM step, plainly: one line per equation, forward beside backward.

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

In the book's notation (step t's x, h_prev, c_prev are x_t, h_{t-1}, c_{t-1};
a_i is a_t^i; the element-wise * is \odot), ``lstm_step_forward`` computes

.. math::

    a_t = x_t W_x + h_{t-1} W_h + b
    i_t = \sigma(a_t^i)
    f_t = \sigma(a_t^f)
    g_t = \tanh(a_t^g)
    o_t = \sigma(a_t^o)
    c_t = f_t \odot c_{t-1} + i_t \odot g_t
    h_t = o_t \odot \tanh(c_t)

The backward pass runs the same lines from the bottom up; each line's local
derivative sits beside it, as in CS231n's ``lstm_step_backward``. Writing dv
for dL/dv, and dc^future for the ``dc`` that reaches c_t from later steps,
``lstm_step_backward`` computes

.. math::

    \mathrm{d}o = \mathrm{d}h \odot \tanh(c_t)
    \mathrm{d}c = \mathrm{d}c^{\text{future}} + \mathrm{d}h \odot o_t \odot (1 - \tanh^2(c_t))
    \mathrm{d}f = \mathrm{d}c \odot c_{t-1}
    \mathrm{d}i = \mathrm{d}c \odot g_t
    \mathrm{d}g = \mathrm{d}c \odot i_t
    \mathrm{d}c_{t-1} = \mathrm{d}c \odot f_t
    \mathrm{d}a^i = \mathrm{d}i \odot i_t (1 - i_t)
    \mathrm{d}a^f = \mathrm{d}f \odot f_t (1 - f_t)
    \mathrm{d}a^g = \mathrm{d}g \odot (1 - g_t^2)
    \mathrm{d}a^o = \mathrm{d}o \odot o_t (1 - o_t)
    \mathrm{d}x_t = \mathrm{d}a\, W_x^\top
    \mathrm{d}h_{t-1} = \mathrm{d}a\, W_h^\top
    \mathrm{d}W_x = x_t^\top \mathrm{d}a
    \mathrm{d}W_h = h_{t-1}^\top \mathrm{d}a
    \mathrm{d}b = \textstyle\sum_n \mathrm{d}a_n

where da is the row [da^i, da^f, da^g, da^o] (N, 4H) and the sum for db runs
over the batch.

Variants that chapters 9 and 10 show are written as the standard step with
their lines changed. ``cifg_step_forward`` couples the forget gate to the input
gate (and so has no forget-gate block: three blocks i, g, o):

.. math::

    f_t = 1 - i_t

``peephole_step_forward`` lets the gates read the cell state through p_i, p_f,
p_o (H,); o reads the new state, so it is computed after c:

.. math::

    i_t = \sigma(a_t^i + p_i \odot c_{t-1})
    f_t = \sigma(a_t^f + p_f \odot c_{t-1})
    o_t = \sigma(a_t^o + p_o \odot c_t)

Each peephole is one more path into a cell state, so ``peephole_step_backward``
adds to the standard step's dc (written dc^std) and dc_{t-1}, and returns the
peepholes' gradients:

.. math::

    \mathrm{d}c = \mathrm{d}c^{\text{std}} + \mathrm{d}a^o \odot p_o
    \mathrm{d}c_{t-1} = \mathrm{d}c \odot f_t + \mathrm{d}a^i \odot p_i + \mathrm{d}a^f \odot p_f
    \mathrm{d}p_i = \textstyle\sum_n (\mathrm{d}a^i \odot c_{t-1})_n
    \mathrm{d}p_f = \textstyle\sum_n (\mathrm{d}a^f \odot c_{t-1})_n
    \mathrm{d}p_o = \textstyle\sum_n (\mathrm{d}a^o \odot c_t)_n
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
