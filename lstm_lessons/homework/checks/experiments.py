"""Checks of measurements that students make with their own code (exercise set of chapter 1).

    check                 the student's answer
    check_state_distance  state_distance(x, x_prime, h0, params) -> d      d (T,)
    check_shrink          shrink, a number computed from d

The distance at step t is the Euclidean norm over the H units of the gap between
the hidden states of two runs of the simple RNN that differ only in their first
input, averaged over the N sequences: d_t = mean_n ||h_t - h'_t||.
"""

import numpy as np

from ...cells.rnn import init_rnn_params, rnn_forward
from ..language import tr
from .calling import call, display_name, fail
from .report import verdict


def _distance_inputs(T, N, D, H, seed, h0_scale):
    rng = np.random.default_rng(seed)
    params = init_rnn_params(D, H, seed=seed)
    x = rng.standard_normal((T, N, D))
    x_prime = x.copy()
    x_prime[0] = rng.standard_normal((N, D))
    h0 = h0_scale * rng.standard_normal((N, H))
    return {"x": x, "x_prime": x_prime, "h0": h0, "params": params}


def check_state_distance(state_distance, T=12, N=3, D=2, H=5, seed=0, h0_scale=0.0):
    """Check ``state_distance(x, x_prime, h0, params) -> d`` of shape (T,).

    x, x_prime (T, N, D) differ only at step 0; params is the dict of
    ``init_rnn_params``; d_t = mean over n of ||h_t - h'_t||, for t = 1..T.
    """
    name = display_name(state_distance, "state_distance")
    args = _distance_inputs(T, N, D, H, seed, h0_scale)
    got = call(state_distance, args, name=name)
    if np.shape(got) == (T, N):
        fail(
            tr(
                "Your {name} returned one distance per step and sequence, shape {shape}. "
                "Average over the sequences to get one number per step, shape (T,).",
                name=name,
                shape=(T, N),
            )
        )
    if np.shape(got) == (T + 1,):
        fail(
            tr(
                "Your {name} returned {n} distances for {T} steps: leave out h0 and return "
                "the distances after steps 1 to T.",
                name=name,
                n=T + 1,
                T=T,
            )
        )
    hs, _ = rnn_forward(args["x"], args["h0"], args["params"])
    hs_prime, _ = rnn_forward(args["x_prime"], args["h0"], args["params"])
    gap = hs - hs_prime  # (T, N, H)
    expected = np.linalg.norm(gap, axis=2).mean(axis=1)  # (T,)
    candidates = {
        tr("these are squared distances; take the square root."): (gap**2).sum(axis=2).mean(axis=1),
        tr("this is the sum over the sequences; take the mean."): np.linalg.norm(gap, axis=2).sum(
            axis=1
        ),
        tr("this is the sum of |differences|; use the Euclidean norm."): np.abs(gap)
        .sum(axis=2)
        .mean(axis=1),
    }
    verdict(
        name,
        got,
        expected,
        "d",
        letters=("T",),
        candidates=candidates,
        recipe="d[t] = mean over n of ||h_t - h'_t||, the norm over the H units.",
    )
    return tr("{name}: passed.", name=name)


def check_shrink(shrink, d):
    """``shrink`` is the mean factor per step over the first 20 steps: (d[20] / d[0]) ** (1/20)."""
    if shrink is None or shrink is Ellipsis:
        fail(tr("shrink is not computed yet: replace the ... with your code."))
    if d is None or d is Ellipsis:
        fail(tr("d is not computed yet: run the cell of task 3 that computes d first."))
    if np.ndim(shrink) != 0:
        fail(tr("shrink should be one number, but it has shape {shape}.", shape=np.shape(shrink)))
    if np.ndim(d) != 1 or len(d) < 21:
        fail(
            tr(
                "d should be the distances of task 3, shape (T,) with T = 30; it has shape "
                "{shape}. Check state_distance first.",
                shape=np.shape(d),
            )
        )
    value, d = float(shrink), np.asarray(d, dtype=float)
    if not np.isfinite(value) or not 0.0 < value < 1.0:
        fail(
            tr(
                "The distance shrinks, so shrink should be between 0 and 1, got {value}.",
                value=value,
            )
        )
    expected = (d[20] / d[0]) ** (1 / 20)
    if not np.isclose(value, expected, rtol=1e-6):
        fail(tr("shrink = {value:.4g} is not (d[20] / d[0]) ** (1 / 20) for your d.", value=value))
    return tr(
        "shrink = {value:.3f}: the difference shrinks by that factor at every step.", value=value
    )
