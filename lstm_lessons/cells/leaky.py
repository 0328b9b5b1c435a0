r"""The cell update as a leaky integrator, and the exponential moving average.

With the gates held fixed, the LSTM's cell update

    c_t = f * c_{t-1} + i * u_t

is a first-order linear filter, a *leaky integrator*: f is how much of the old
state survives a step and i how much of the new input is written. The
exponential moving average (EMA) is the special case f = a, i = 1 - a:

    c_t = a * c_{t-1} + (1 - a) * x_t.

As equations (``leaky_integrate``, then ``ema``), with gates that may change
from step to step and \odot for the element-wise *:

.. math::

    c_t = f_t \odot c_{t-1} + i_t \odot u_t
    c_t = a\, c_{t-1} + (1 - a)\, x_t

With constant gates the first unrolls into a geometric sum of the inputs, and
with |u_t| <= g_max (and |c_0| no larger) it never leaves the bound that
``leaky_bound`` returns:

.. math::

    c_t = f^t c_0 + i \sum_{k=0}^{t-1} f^k\, u_{t-k}
    |c_t| \le \frac{i\, g_{\max}}{1 - f}

Shapes: the input ``u`` is (T, ...) with time first; gates are numbers or
arrays that broadcast against ``u`` (one value per step and unit, if wished).
"""

import numpy as np


def _as_series(name, u):
    u = np.asarray(u)
    if u.dtype.kind not in "fiu":
        raise TypeError(f"{name}: expected real numbers, got dtype {u.dtype}")
    if u.ndim < 1:
        raise ValueError(
            f"{name}: expected an array of shape (T, ...) with time first, got a scalar"
        )
    if not np.isfinite(u).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return u.astype(np.result_type(u.dtype, np.float32), copy=False)


def leaky_integrate(u, f, i, c0=0.0):
    """``c_t = f_t * c_{t-1} + i_t * u_t`` for t = 1..T; returns c (T, ...).

    ``f`` and ``i`` are numbers, or arrays shaped like ``u`` (gates that change
    over time) or broadcastable to one step ``u[t]``.
    """
    u = _as_series("u", u)
    f = np.asarray(f, dtype=u.dtype)
    i = np.asarray(i, dtype=u.dtype)
    per_step = {name: g.shape == u.shape and u.ndim > 0 for name, g in (("f", f), ("i", i))}
    c = np.empty_like(u)
    c_prev = np.broadcast_to(np.asarray(c0, dtype=u.dtype), u.shape[1:])
    for t in range(len(u)):
        f_t = f[t] if per_step["f"] else f
        i_t = i[t] if per_step["i"] else i
        c[t] = f_t * c_prev + i_t * u[t]
        c_prev = c[t]
    return c


def ema(x, a, c0=0.0):
    """Exponential moving average ``c_t = a c_{t-1} + (1 - a) x_t``, with 0 <= a <= 1."""
    a_arr = np.asarray(a, dtype=np.float64)
    if np.any((a_arr < 0) | (a_arr > 1)):
        raise ValueError(f"ema: expected a leak a in [0, 1], got {a}")
    return leaky_integrate(x, a, 1.0 - a_arr, c0)


def leaky_bound(f, i, g_max=1.0):
    """The largest |c| a leaky integrator reaches when |u_t| <= g_max: ``i g_max / (1 - f)``.

    Starting from |c_0| <= that bound, |c_t| <= f |c_{t-1}| + i g_max stays
    below it for ever; the geometric series sums to it exactly when every
    input is +g_max.
    """
    f = np.asarray(f, dtype=np.float64)
    if np.any((f < 0) | (f >= 1)):
        raise ValueError(f"leaky_bound: expected 0 <= f < 1 (with f = 1 nothing bounds c), got {f}")
    return np.asarray(i, dtype=np.float64) * g_max / (1.0 - f)


def check_leak(a):
    """One leak ``a`` with 0 <= a < 1, as a float; ValueError otherwise."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 0 or not 0 <= a < 1:
        raise ValueError(f"a: expected one leak with 0 <= a < 1, got {a}")
    return float(a)


def step_lag(a, frac=0.9):
    """Steps after a unit step until the noise-free EMA first reaches ``frac``; 0 = at once.

    Measured by running :func:`ema` on the step, not from
    the formula ceil(log(1 - frac) / log a) - 1, which it should match.
    """
    a = check_leak(a)
    if not 0 < frac < 1:
        raise ValueError(f"frac: expected a fraction strictly between 0 and 1, got {frac!r}")
    T = 1
    while True:  # lengthen until the response gets there: slow leaks need long steps
        c = ema(np.ones(T), a)
        reached = np.flatnonzero(c >= frac)
        if reached.size:
            return int(reached[0])
        T *= 2


def residual_noise(a, noise=1.0, T=20_000, rng=0):
    """Standard deviation of white noise of std ``noise`` after an EMA with leak ``a``.

    The filter is linear, so on a noisy signal its output is the response to
    the clean signal plus the response to the noise alone; this measures the
    second, over ``T`` steps after a burn-in of 20 time constants.
    """
    a = check_leak(a)
    if not noise >= 0:
        raise ValueError(f"noise: expected a standard deviation >= 0, got {noise!r}")
    burn_in = int(np.ceil(20 / (1 - a)))
    e = noise * np.random.default_rng(rng).standard_normal(burn_in + T)
    return float(ema(e, a)[burn_in:].std())
