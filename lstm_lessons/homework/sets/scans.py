"""Checks for the exercise set of chapter 14 (parallel scans).

    check                    the student's answer
    check_combine            combine(a1, b1, a2, b2) -> (a, b): step 1, then step 2
    check_doubling_round     doubling_round(A, B, d) -> (A_new, B_new): one round of the
                             step-efficient (Hillis-Steele) scan
    check_scan_backward      scan_backward(dh, a, h, h0) -> (da, db, dh0)
    check_first_bad          first_bad, a number computed from the given a and b

The recurrence is h_t = a_t h_{t-1} + b_t, element-wise, with a, b (T, N, H), h0 (N, H).
A step is the affine map h -> a h + b; doing (a1, b1) and then (a2, b2) is the map
(a2 a1, a2 b1 + b2). A round of the doubling scan with offset d replaces, for every t >= d,
the pair at t by "the pair at t - d, then the pair at t"; the pairs before d stay. After the
rounds d = 1, 2, 4, ... < T, the pair at t covers steps 1..t, so its b is h_t when h0 has been
folded into b_1 (b_1 + a_1 h0). The backward pass is the same recurrence in reverse time,
g_t = dh_t + a_{t+1} g_{t+1}, with da_t = g_t h_{t-1}, db_t = g_t and dh0 = a_1 g_1 (chapter 14).
``first_bad`` is the first step (counted from 1) at which the naive closed form with a plain
cumulative product, in float32, gives inf or nan, as ``cells.scan.cumprod_scan`` computes it.
"""

import numpy as np

from ...cells.scan import cumprod_scan, loop_scan
from ...cells.scan import scan_backward as _scan_backward
from ..checks.calling import call, describe, display_name, fail, refuse_package_call
from ..checks.report import unpack, verdict
from ..language import tr

TNH = ("T", "N", "H")
NH = ("N", "H")
FORBIDDEN = ("linear_scan", "loop_scan", "blelloch_scan", "hillis_steele_scan",
             "chunked_scan", "log_scan", "cumprod_scan", "scan_backward")  # fmt: skip


def _pairs(seed, shape):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, shape) for _ in range(4)]


def _combine_mistakes(a1, b1, a2, b2):
    return {
        tr(
            "the maps are applied in the wrong order: (a1, b1) comes first, so the second map "
            "multiplies the first one's offset: b = a2 * b1 + b2."
        ): (a1 * a2, a1 * b2 + b1),
        tr(
            "the offsets are added without the second map's factor: b1 passes through "
            "h -> a2 h + b2 as well."
        ): (a1 * a2, b1 + b2),
        tr("the transitions are added; applying two maps one after the other multiplies them."): (
            a1 + a2,
            a2 * b1 + b2,
        ),
    }


def check_combine(combine, cases=((2, 3, 0), (4, 1, 1))):
    """Check ``combine(a1, b1, a2, b2) -> (a, b)``: the map (a1, b1) followed by (a2, b2)."""
    name = display_name(combine, "combine")
    refuse_package_call(combine, FORBIDDEN, name)
    for N, H, seed in cases:
        a1, b1, a2, b2 = _pairs(seed, (N, H))
        args = {"a1": a1, "b1": b1, "a2": a2, "b2": b2}
        got = call(combine, args, name=name)
        verdict(
            name, got, (a2 * a1, a2 * b1 + b2), ("a", "b"), letters=NH,
            candidates=lambda a1=a1, b1=b1, a2=a2, b2=b2: _combine_mistakes(a1, b1, a2, b2),
        )  # fmt: skip
    return tr("{name}: passed (first (a1, b1), then (a2, b2): (a2 a1, a2 b1 + b2)).", name=name)


def _round(A, B, d):
    A_new, B_new = A.copy(), B.copy()
    A_new[d:] = A[d:] * A[:-d]
    B_new[d:] = A[d:] * B[:-d] + B[d:]
    return A_new, B_new


def _round_mistakes(A, B, d):
    A_new, B_wrong_order = A.copy(), B.copy()
    A_new[d:] = A[d:] * A[:-d]
    B_wrong_order[d:] = A[:-d] * B[d:] + B[:-d]
    B_after = B.copy()
    B_after[d:] = A_new[d:] * B[:-d] + B[d:]
    A_roll = A * np.roll(A, d, axis=0)
    B_roll = A * np.roll(B, d, axis=0) + B
    return {
        tr(
            "the pair at t - d comes first and the pair at t second: B_new[t] = A[t] * B[t - d] "
            "+ B[t]."
        ): (A_new, B_wrong_order),
        tr(
            "B_new is computed with the A of this round already updated; both must use the A "
            "the round started with (compute B_new before you change A, or from a copy)."
        ): (A_new, B_after),
        tr(
            "np.roll wraps around: the first d steps were combined with the last d. Steps "
            "before d have no partner d steps back and stay as they are."
        ): (A_roll, B_roll),
    }


def _doubling_scan(doubling_round, a, b, h0, name):
    B = b.copy()
    B[0] = B[0] + a[0] * h0
    A, d = a, 1
    while d < len(a):
        A, B = unpack(call(doubling_round, {"A": A, "B": B, "d": d}, name=name),
                      ("A_new", "B_new"), name)  # fmt: skip
        A, B = np.asarray(A), np.asarray(B)
        d *= 2
    return B


def check_doubling_round(doubling_round, cases=((7, 2, 3, 0), (13, 1, 2, 1), (1, 2, 2, 2))):
    """Check ``doubling_round(A, B, d) -> (A_new, B_new)`` for every d = 1, 2, 4, ... < T,
    then the whole scan built from the student's rounds against the step loop."""
    name = display_name(doubling_round, "doubling_round")
    refuse_package_call(doubling_round, FORBIDDEN, name)
    for T, N, H, seed in cases:
        rng = np.random.default_rng(seed)
        A, B = rng.uniform(-1.2, 1.2, (T, N, H)), rng.standard_normal((T, N, H))
        d = 1
        while d < max(T, 2):
            got = call(doubling_round, {"A": A, "B": B, "d": d}, name=name)
            verdict(
                f"{name}(A, B, d={d})", got, _round(A, B, d), ("A_new", "B_new"), letters=TNH,
                candidates=lambda A=A, B=B, d=d: _round_mistakes(A, B, d),
            )  # fmt: skip
            A, B = _round(A, B, d)
            d *= 2
    rng = np.random.default_rng(7)
    a, b = rng.uniform(-1.0, 1.0, (37, 2, 3)), rng.standard_normal((37, 2, 3))
    h0 = rng.standard_normal((2, 3))
    h = _doubling_scan(doubling_round, a, b, h0, name)
    verdict(tr("the doubling scan built from your rounds"), h, loop_scan(a, b, h0), "h",
            letters=TNH)  # fmt: skip
    return tr(
        "{name}: passed; the scan of its ceil(log2 T) rounds equals the step loop, "
        "negative transitions included.",
        name=name,
    )


def _backward_mistakes(dh, a, h, h0):
    g_right = _scan_backward(dh, a, h, h0, method="loop")[1]
    h_prev = np.concatenate([h0[None], h[:-1]])
    # g_t = dh_t + a_t g_{t+1}: the transition of the same step, not the next one.
    g_same = loop_scan(a[::-1], dh[::-1], None)[::-1]
    # g accumulated forward in time.
    g_forward = np.concatenate([dh[:1], dh[1:] + a[1:] * loop_scan(a, dh, None)[:-1]])
    return {
        # The equations with braces are values, so that a template without values has none.
        tr("{rule}: the gradient reaches h_t through the NEXT step's transition {a_next} "
           "(and nothing comes after step T); you used a_t.",
           rule="g_t = dh_t + a_{t+1} g_{t+1}", a_next="a_{t+1}"): (
            g_same * h_prev, g_same, a[0] * g_same[0]),
        tr("da_t multiplies g_t by the state the step started from, {h_prev} (h0 at the first "
           "step), not by h_t.", h_prev="h_{t-1}"): (g_right * h, g_right, a[0] * g_right[0]),
        tr("dh0 = a_1 g_1: h0 reaches the loss only through the first step, "
           "h_1 = a_1 h0 + b_1."): (g_right * h_prev, g_right, g_right[0]),
        tr("the gradients run backward in time: start from the last step and go to the first "
           "(g_T = dh_T)."): (g_forward * h_prev, g_forward, a[0] * g_forward[0]),
        tr("db_t is the whole gradient g_t that reaches h_t, the later steps' share included, "
           "not only dh_t."): (dh * h_prev, dh, a[0] * dh[0]),
    }  # fmt: skip


def check_scan_backward(scan_backward, cases=((6, 2, 3, 0), (9, 1, 4, 1))):
    """Check ``scan_backward(dh, a, h, h0) -> (da, db, dh0)`` against the reverse-time scan."""
    name = display_name(scan_backward, "scan_backward")
    # A forward scan run on the flipped sequences is a right way to do it; the backward is not.
    refuse_package_call(scan_backward, ("scan_backward",), name)
    for T, N, H, seed in cases:
        rng = np.random.default_rng(seed)
        a, b = rng.uniform(-1.2, 1.2, (T, N, H)), rng.standard_normal((T, N, H))
        h0, dh = rng.standard_normal((N, H)), rng.standard_normal((T, N, H))
        h = loop_scan(a, b, h0)
        args = {"dh": dh, "a": a, "h": h, "h0": h0}
        got = call(scan_backward, args, name=name)
        verdict(
            name, got, _scan_backward(dh, a, h, h0, method="loop"), ("da", "db", "dh0"),
            letters=TNH,
            candidates=lambda dh=dh, a=a, h=h, h0=h0: _backward_mistakes(dh, a, h, h0),
        )  # fmt: skip
    return tr("{name}: passed (the reverse-time scan g_t = dh_t + a_(t+1) g_(t+1)).", name=name)


def _first_bad(a, b):
    h = cumprod_scan(a, b)
    bad = ~np.isfinite(h).reshape(len(h), -1).all(axis=1)
    return int(np.argmax(bad)) + 1 if bad.any() else 0


def check_first_bad(first_bad, a=None, b=None):
    """``first_bad``: the first step (from 1) where the float32 cumprod closed form fails."""
    if first_bad is None or first_bad is Ellipsis:
        fail(tr("first_bad is not computed yet: replace the ... with your code."))
    if a is None or b is None:
        fail(tr("first_bad needs the a and b of the given cell: run it first."))
    if isinstance(first_bad, bool) or np.ndim(first_bad) != 0:
        fail(
            tr(
                "first_bad is {got}; expected one whole number, a step.",
                got=describe(first_bad),
            )
        )
    try:
        value = float(first_bad)
    except (TypeError, ValueError):
        fail(
            tr(
                "first_bad is {got}; expected one whole number, a step.",
                got=describe(first_bad),
            )
        )
    expected = _first_bad(np.asarray(a, np.float32), np.asarray(b, np.float32))
    if value == expected:
        return tr(
            "first_bad = {step}: from that step on, the closed form is inf or nan.", step=expected
        )
    if value == expected - 1:
        fail(tr("first_bad = {value:g} counts steps from 0; count them from 1, as h_1 is the "
                "first step.", value=value))  # fmt: skip
    with np.errstate(all="ignore"):
        in64 = _first_bad(np.asarray(a, np.float64), np.asarray(b, np.float64))
    if value == in64 and in64 != expected:
        fail(
            tr(
                "first_bad = {value:g} is where the closed form fails in float64; the task "
                "runs it in float32 (a.astype(np.float32)), whose range ends near 3.4e38.",
                value=value,
            )
        )
    fail(
        tr(
            "first_bad = {value:g} is not the first step at which the float32 closed form "
            "h_t = a*_t (sum_s b_s / a*_s), with a* = np.cumprod(a), gives inf or nan for the "
            "given a and b. Compute it on the given data and find the first step where "
            "np.isfinite(h) fails for any entry.",
            value=value,
        )
    )
