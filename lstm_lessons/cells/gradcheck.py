"""Numerical gradients by centred differences, to check hand-written backward passes.

For a function ``f`` whose output is contracted with a fixed upstream gradient
``dout`` (so that the loss is ``L = sum(f(x) * dout)``),

    dL/dx[k] ~ (L(x + eps e_k) - L(x - eps e_k)) / (2 eps).

Two errors compete. Truncation, from the Taylor series, is of order eps^2
times the third derivative: about 1e-12 at the default eps = 1e-6. Rounding
is of order (machine epsilon, 2.2e-16) * |L| / eps: about 1e-10 relative at
eps = 1e-6, so at the default step rounding dominates, and a relative error
near 1e-9 to 1e-10 is what a correct gradient gives. The total is smallest
near eps ~ 1e-5 and grows on both sides (a V on log-log axes).

The input is copied to float64 first, and the caller's array is never touched
(CS231n's ``eval_numerical_gradient_array`` perturbs its argument in place).
"""

import numpy as np

from .validation import check_positive


def _first_bad(a):
    """The first non-finite entry of ``a``, as ``"nan at index (2, 0)"``; None if none."""
    if np.isfinite(a).all():
        return None
    where = tuple(int(k) for k in np.argwhere(~np.isfinite(a))[0])
    return f"{a[where]} at index {where}"


def _loss(f, x, dout):
    """``sum(f(x) * dout)``; ValueError when f's output is not shaped like ``dout``."""
    out = np.asarray(f(x), dtype=np.float64)
    if out.shape != dout.shape:
        raise ValueError(f"dout: expected the shape of f's output, {out.shape}, got {dout.shape}")
    return np.sum(out * dout)


def numerical_gradient(f, x, dout, eps=1e-6):
    """dL/dx of ``L = sum(f(x) * dout)``, by centred differences, in float64.

    ``f`` takes an array shaped like ``x`` and returns an array shaped like ``dout``
    (a ValueError otherwise: a broadcast would check another loss). ``eps`` is a
    positive step.
    """
    check_positive("eps", eps)
    x = np.array(x, dtype=np.float64)  # a copy: the caller's array stays as it was
    dout = np.asarray(dout, dtype=np.float64)
    grad = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        old = x[k]
        x[k] = old + eps
        plus = _loss(f, x, dout)
        x[k] = old - eps
        minus = _loss(f, x, dout)
        x[k] = old
        grad[k] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """max |a - b| / max(|a| + |b|), a scale-free distance; 0 when both are 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: expected equal shapes, got {a.shape} and {b.shape}")
    scale = np.max(np.abs(a) + np.abs(b), initial=0.0)
    return 0.0 if scale == 0 else float(np.max(np.abs(a - b)) / scale)


def gradient_check(f, x, analytic, dout, eps=1e-6):
    """Relative error between an analytic gradient and the centred-difference one.

    A check that cannot fail is refused: an empty ``x`` (the error would be 0
    whatever the gradient), an ``analytic`` gradient of another shape or with a
    NaN or inf in it, or a numerical one that is not finite (the error would be
    NaN, which no tolerance rejects) raise ValueError, as do ``eps <= 0`` and a
    ``dout`` not shaped like f's output.
    """
    x = np.asarray(x)
    if x.size == 0:
        raise ValueError(f"x: expected a non-empty array to check, got shape {x.shape}")
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != x.shape:
        raise ValueError(f"analytic: expected x's shape {x.shape}, got {analytic.shape}")
    bad = _first_bad(analytic)
    if bad is not None:
        raise ValueError(f"analytic: expected finite values, got {bad}")
    numerical = numerical_gradient(f, x, dout, eps)
    bad = _first_bad(numerical)
    if bad is not None:
        raise ValueError(
            f"f: expected finite values of sum(f(x) * dout) near x, so that the numerical "
            f"gradient is finite; got {bad} of the numerical gradient"
        )
    return relative_error(analytic, numerical)
