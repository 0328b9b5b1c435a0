r"""Parity by hand: one linear unit that tracks it, and why a transition in [0, 1] cannot.

Shapes: T number of steps, N number of bit streams. ``bits`` is (T, N) of 0s and 1s.

A one-unit linear recurrence whose transition is read from the input,

.. math::

    h_t = a(x_t)\, h_{t-1} + b(x_t), \qquad a(1) = -1,\; a(0) = 1,\; b = 0,\; h_0 = 1,

gives h_t = (-1)^{(number of ones up to t)}: the sign of h_t is the parity, exactly,
at every length (:func:`parity_by_hand`). The same unit with b(1) = 1, h_0 = 0 gives
h_t = parity itself (h -> 1 - h on a 1).

With a(0), a(1) in [0, 1] no choice of a, b, h_0 and threshold can. Along a run of
ones the unit applies the same map f(h) = a(1) h + b(1) again and again; f is
non-decreasing (a(1) >= 0), so the iterates h, f(h), f(f(h)), ... are monotone (if
f(h) >= h then f(f(h)) >= f(h), and so on), and a monotone sequence crosses any
threshold at most once. Parity must cross it at every step of the run. A state of
S such units with a linear readout fares no better for long runs: the readout
along the run is a constant plus a sum of S geometric terms c_s a_s^n with
a_s >= 0, which changes sign at most S times, while parity changes sign n times.
:func:`best_unit_interval_accuracy` checks the one-unit case numerically: the best
per-step accuracy over a grid of transitions in [0, 1], biases, starting states
and thresholds, against 100% for the unit with a(1) = -1.
"""

import numpy as np

from .validation import check_int


def _check_bits(bits):
    if not isinstance(bits, np.ndarray):
        raise TypeError(f"bits: expected a NumPy array of shape (T, N), got {type(bits).__name__}")
    if bits.ndim != 2 or bits.size == 0:
        raise ValueError(f"bits: expected a non-empty 2-D array of shape (T, N), got {bits.shape}")
    if not np.isin(bits, (0, 1)).all():
        bad = bits[~np.isin(bits, (0, 1))].flat[0]
        raise ValueError(f"bits: expected only 0s and 1s, got {bad.item()!r}")
    return bits.astype(np.int64)


def parity(bits):
    """The running parity: (T, N) of 0/1, 1 where an odd number of ones came so far."""
    return np.cumsum(_check_bits(bits), axis=0) % 2


def linear_unit(bits, a0, a1, b0=0.0, b1=0.0, h0=1.0):
    """h_t = a(x_t) h_{t-1} + b(x_t) for a one-unit recurrence: bits (T, N) -> h (T, N)."""
    bits = _check_bits(bits)
    T, N = bits.shape
    a = np.where(bits == 1, a1, a0).astype(np.float64)
    b = np.where(bits == 1, b1, b0).astype(np.float64)
    h = np.empty((T, N))
    prev = np.full(N, float(h0))
    for t in range(T):
        prev = a[t] * prev + b[t]
        h[t] = prev
    return h


def parity_by_hand(bits):
    """The unit with a(1) = -1, a(0) = 1, b = 0, h_0 = 1: h_t = (-1)^(ones so far), (T, N)."""
    return linear_unit(bits, a0=1.0, a1=-1.0, b0=0.0, b1=0.0, h0=1.0)


def threshold_accuracy(h, target):
    """The best accuracy of ``h > theta`` (or ``h < theta``) for ``target``, over every theta.

    h (..., M) holds the unit's states of M (stream, step) pairs for each of ``...``
    settings, target (M,) the parity of each; returns (...) accuracies.
    """
    order = np.argsort(h, axis=-1, kind="stable")
    t = np.asarray(target)[order]  # targets sorted by h
    M = t.shape[-1]
    ones_below = np.concatenate([np.zeros(t.shape[:-1] + (1,)), np.cumsum(t, axis=-1)], axis=-1)
    k = np.arange(M + 1)
    # Threshold after the k smallest states: predict 0 below and 1 above, or the reverse.
    zeros_below = k - ones_below
    ones_above = ones_below[..., -1:] - ones_below
    up = (zeros_below + ones_above) / M
    # A threshold cannot split equal states: only cuts between distinct values count.
    hs = np.take_along_axis(h, order, axis=-1)
    edge = np.ones(hs.shape[:-1] + (1,), dtype=bool)
    cut = np.concatenate([edge, np.diff(hs, axis=-1) > 0, edge], axis=-1)
    return np.where(cut, np.maximum(up, 1.0 - up), 0.0).max(axis=-1)


def best_unit_interval_accuracy(bits, grid=6):
    """The best per-step parity accuracy of any one-unit recurrence with a(0), a(1) in [0, 1].

    Searches a(0), a(1) over ``grid`` values in [0, 1], b(0), b(1) and h_0 over
    ``grid - 1`` values in [-1, 1], and every threshold in both directions, on the
    streams ``bits`` (T, N). Returns the best accuracy (a fraction) and its setting.
    """
    bits = _check_bits(bits)
    grid = check_int("grid", grid, 2)
    target = (np.cumsum(bits, axis=0) % 2).ravel()
    a_values = np.linspace(0.0, 1.0, grid)
    b_values = np.linspace(-1.0, 1.0, grid - 1)
    settings = np.array(np.meshgrid(a_values, a_values, b_values, b_values, b_values,
                                    indexing="ij")).reshape(5, -1).T  # (K, 5)
    T, N = bits.shape
    ones = bits[:, None, :] == 1  # (T, 1, N)
    a = np.where(ones, settings[None, :, 1:2], settings[None, :, 0:1])  # (T, K, N)
    b = np.where(ones, settings[None, :, 3:4], settings[None, :, 2:3])
    h = np.empty((T,) + a.shape[1:])
    prev = np.broadcast_to(settings[:, 4:5], a.shape[1:])
    for t in range(T):
        prev = a[t] * prev + b[t]
        h[t] = prev
    accuracy = threshold_accuracy(h.transpose(1, 0, 2).reshape(len(settings), T * N), target)
    best = int(np.argmax(accuracy))
    names = ("a0", "a1", "b0", "b1", "h0")
    return float(accuracy[best]), dict(zip(names, settings[best].tolist(), strict=True))


__all__ = [
    "best_unit_interval_accuracy",
    "linear_unit",
    "parity",
    "parity_by_hand",
    "threshold_accuracy",
]
