r"""minGRU and minLSTM (Feng et al. 2024): the GRU and the LSTM with gates that read x_t only.

Shapes: N batch size, T number of steps, D input size, H hidden size.

minGRU is the GRU of :mod:`lstm_lessons.cells.gru` except these lines: the update gate and
the candidate read x_t only (no h_{t-1} W_h term), the reset gate is gone (it only mattered
inside the candidate's recurrent term) and the candidate has no tanh (the paper's plain
form). Parameters ``W_x`` (D, 2H), ``b`` (2H,), columns in the order z, n:

    z   = sigma(x @ W_x^z + b^z)              update gate: reads x only
    n   = x @ W_x^n + b^n                     candidate: reads x only, no tanh
    a   = 1 - z          (negative: 1 - 2 z)  the transition, in [0, 1] (negative: [-1, 1])
    h   = a * h_prev + z * n

(this package writes the GRU as h = (1 - z) n + z h_prev, torch's convention; minGRU follows
the paper, where z weighs the candidate.) With ``negative=True`` the transition ranges over
[-1, 1], so a channel can flip its sign at each step (Grazzi et al. 2025).

minLSTM is the LSTM of :mod:`lstm_lessons.cells.lstm` except these lines: f, i and the
candidate read x_t only, the output gate and tanh(c) are gone (h is the cell), and f, i are
normalised so that they sum to one (the state's scale then does not depend on T).
Parameters ``W_x`` (D, 3H), ``b`` (3H,), columns in the order f, i, g:

    f   = sigma(x @ W_x^f + b^f)
    i   = sigma(x @ W_x^i + b^i)
    g   = x @ W_x^g + b^g                     candidate, no tanh
    f'  = f / (f + i),   i' = i / (f + i)     the normalised gates
    h   = f' * h_prev + i' * g

In the book's notation, with a_t, b_t the recurrence's coefficients,

.. math::

    \text{minGRU:}\quad h_t = \underbrace{(1 - z_t)}_{a_t} \odot h_{t-1}
        + \underbrace{z_t \odot \tilde h_t}_{b_t}, \qquad
    \text{minLSTM:}\quad h_t = \underbrace{f'_t}_{a_t} \odot h_{t-1}
        + \underbrace{i'_t \odot \tilde h_t}_{b_t}.

Because a_t and b_t depend on x only, they are computed for all t at once and h comes from
one call of :func:`lstm_lessons.cells.scan.linear_scan`. Backward: the scan's backward
(:func:`~lstm_lessons.cells.scan.scan_backward`) gives da_t, db_t; then, per step,

.. math::

    \text{minGRU:}\quad \mathrm{d}z = -\kappa\,\mathrm{d}a + \mathrm{d}b \odot n, \quad
        \mathrm{d}n = \mathrm{d}b \odot z, \quad \mathrm{d}a^z = \mathrm{d}z \odot z (1 - z)

with kappa = 1 (kappa = 2 when negative), and, with s = f + i,

.. math::

    \text{minLSTM:}\quad \mathrm{d}f = \tfrac{i}{s^2}(\mathrm{d}a - \mathrm{d}b \odot g), \quad
        \mathrm{d}i = \tfrac{f}{s^2}(\mathrm{d}b \odot g - \mathrm{d}a), \quad
        \mathrm{d}g = \mathrm{d}b \odot i', \quad
        \mathrm{d}a^{f} = \mathrm{d}f \odot f(1 - f), \quad
        \mathrm{d}a^{i} = \mathrm{d}i \odot i(1 - i);

dW_x = x^T da^x, db = sum of da^x, dx = da^x W_x^T over the stacked blocks da^x.
"""

from typing import NamedTuple

import numpy as np

from .activations import sigmoid
from .initialise import uniform_init
from .scan import linear_scan, scan_backward
from .validation import check_array, check_params, check_shape

CELLS = ("mingru", "minlstm")
#: the column blocks of W_x and b, in order
BLOCKS = {"mingru": ("z", "n"), "minlstm": ("f", "i", "g")}


def minimal_param_shapes(cell, D, H):
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of {CELLS}, got {cell!r}")
    G = len(BLOCKS[cell])
    return {"W_x": ((D, G * H), ("D", f"{G}H")), "b": ((G * H,), (f"{G}H",))}


def init_minimal_params(cell, D, H, *, seed=0, dtype=np.float64):
    """Random parameters, uniform in (-1/sqrt(H), 1/sqrt(H)) like the other cells."""
    return uniform_init(minimal_param_shapes(cell, D, H), D, H, seed, dtype)


def _check_inputs(cell, x, h0, params, x_letters, h_name):
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of {CELLS}, got {cell!r}")
    N, D = check_array("x", x, x_letters)[-2:]
    check_array(h_name, h0, "NH", x.dtype)
    H = h0.shape[1]
    check_shape(h_name, h0, (N, H), "NH")
    check_params(params, minimal_param_shapes(cell, D, H), x.dtype)


def _coefficients(cell, ax, negative):
    """The gates from the input projection ax (..., G*H): the coefficients a, b and the parts."""
    H = ax.shape[-1] // len(BLOCKS[cell])
    if cell == "mingru":
        z = sigmoid(ax[..., :H])
        n = ax[..., H:]
        a = 1.0 - 2.0 * z if negative else 1.0 - z
        return a, z * n, (z, n)
    f = sigmoid(ax[..., :H])
    i = sigmoid(ax[..., H : 2 * H])
    g = ax[..., 2 * H :]
    s = f + i
    return f / s, (i / s) * g, (f, i, g)


def minimal_step_forward(cell, x, h_prev, params, negative=False):
    """One step: x (N, D), h_prev (N, H) -> h (N, H). The reference the scan is tested against."""
    _check_inputs(cell, x, h_prev, params, "ND", "h_prev")
    if negative and cell != "mingru":
        raise ValueError(f"negative: only minGRU has the negative option, got cell={cell!r}")
    a, b, _ = _coefficients(cell, x @ params["W_x"] + params["b"], negative)
    return a * h_prev + b


class MinimalCache(NamedTuple):
    """What the backward needs. ``h`` (T, N, H) excludes h0. Read-only."""

    cell: str
    negative: bool
    x: np.ndarray
    h0: np.ndarray
    a: np.ndarray
    h: np.ndarray
    parts: tuple
    params: dict


def minimal_forward(cell, x, h0, params, negative=False, method="blelloch"):
    """x (T, N, D), h0 (N, H) -> hs (T, N, H), cache; h by the scan form ``method``."""
    _check_inputs(cell, x, h0, params, "TND", "h0")
    if negative and cell != "mingru":
        raise ValueError(f"negative: only minGRU has the negative option, got cell={cell!r}")
    T, N, D = x.shape
    ax = (x.reshape(T * N, D) @ params["W_x"]).reshape(T, N, -1) + params["b"]  # (T, N, G*H)
    a, b, parts = _coefficients(cell, ax, negative)
    h = linear_scan(a, b, h0, method)  # (T, N, H)
    for arr in (a, h, *parts):
        arr.flags.writeable = False
    return h, MinimalCache(cell, bool(negative), x.copy(), h0.copy(), a, h, parts, params)


def minimal_backward(dhs, cache):
    """dhs (T, N, H) -> dx (T, N, D), dh0 (N, H), grads {"W_x", "b"}."""
    cell, negative, x, h0, a, h, parts, params = cache
    T, N, D = x.shape
    check_array("dhs", dhs, "TNH", x.dtype)
    check_shape("dhs", dhs, h.shape, "TNH")
    da, db, dh0 = scan_backward(dhs, a, h, h0)
    if cell == "mingru":
        z, n = parts
        dz = db * n - (2.0 if negative else 1.0) * da
        dax = np.concatenate([dz * z * (1.0 - z), db * z], axis=-1)
    else:
        f, i, g = parts
        s2 = (f + i) ** 2
        df = i / s2 * (da - db * g)
        di = f / s2 * (db * g - da)
        dax = np.concatenate([df * f * (1.0 - f), di * i * (1.0 - i), db * i / (f + i)], axis=-1)
    dax2 = dax.reshape(T * N, -1)
    grads = {"W_x": x.reshape(T * N, D).T @ dax2, "b": dax2.sum(axis=0)}
    return (dax2 @ params["W_x"].T).reshape(T, N, D), dh0, grads
