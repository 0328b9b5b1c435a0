"""Checks for the exercise set of chapter 15 (xLSTM: exponential gates and a matrix memory).

    check                   the student's answer
    check_slstm_step        slstm_step(x, h_prev, c_prev, n_prev, m_prev, W_x, R, b)
                                -> (h, c, n, m), one stabilised sLSTM step, sigmoid forget gate
    check_first_overflow    first_overflow, the first step at which the unstabilised cell,
                            run in float32 over the given x and params, gives inf or nan

The step is compared with the package's :func:`~lstm_lessons.cells.slstm.slstm_forward`:
the states it holds at some step t of a random sequence are handed to the student's step
with x[t], and what comes back must be the states at t + 1. One case has input-gate
pre-activations near 95, past float32's exp limit of 88.7, where only a stabilised step
stays finite.
"""

import itertools
import numbers

import numpy as np

from ...cells.activations import sigmoid
from ...cells.slstm import FLOAT32_EXP_LIMIT, SLSTM_GATES, init_slstm_params, slstm_forward
from ..checks.calling import call, describe, display_name, fail, refuse_package_call
from ..checks.report import verdict
from ..language import tr

NH = ("N", "H")
OUTPUTS = ("h", "c", "n", "m")
#: (N, D, H, T, t, seed, dtype, input-gate bias shift): N, D, H all different, biases non-zero.
STEP_CASES = (
    (3, 4, 5, 6, 3, 0, np.float64, 0.0),
    (2, 5, 3, 8, 5, 1, np.float64, 0.0),
    (4, 3, 2, 5, 2, 2, np.float32, 95.0),  # exp(i~) would overflow float32 without m
)
HIDDEN_STEP_CASES = (
    (1, 2, 7, 4, 1, 3, np.float64, 0.0),
    (5, 6, 4, 9, 7, 4, np.float32, 120.0),
)


def step_inputs(N, D, H, T, t, seed, dtype, shift):
    """The student's arguments at step t of a random sequence, and the package's states at t+1."""
    rng = np.random.default_rng(seed)
    params = init_slstm_params(D, H, seed=seed, dtype=dtype)
    params["b"] = (params["b"] + rng.uniform(-1.0, 1.0, 4 * H)).astype(dtype)
    params["b"][H : 2 * H] += dtype(shift)  # the input gate's block (order z, i, f, o)
    params["W_x"] = (2.0 * params["W_x"]).astype(dtype)
    x = rng.standard_normal((T, N, D)).astype(dtype)
    _, cache = slstm_forward(x, params)
    args = {
        "x": x[t],
        "h_prev": np.array(cache.h[t]),
        "c_prev": np.array(cache.c[t]),
        "n_prev": np.array(cache.n[t]),
        "m_prev": np.array(cache.m[t]),
        "W_x": params["W_x"],
        "R": params["R"],
        "b": params["b"],
    }
    expected = tuple(np.array(s[t + 1]) for s in (cache.h, cache.c, cache.n, cache.m))
    return args, expected


def _step(
    args,
    *,
    order=SLSTM_GATES,
    stabilise=True,
    m_prev_in_max=True,
    f_factor=True,
    forget="sigmoid",
    normalise=True,
    m_prev_in_f=True,
):
    """One sLSTM step with one thing done as a known mistake does it (for the diagnoses)."""
    x, h_prev, c_prev, n_prev, m_prev = (
        args[k] for k in ("x", "h_prev", "c_prev", "n_prev", "m_prev")
    )
    a = x @ args["W_x"] + h_prev @ args["R"] + args["b"]
    blocks = dict(zip(order, np.split(a, 4, axis=1), strict=True))
    z, o = np.tanh(blocks["z"]), sigmoid(blocks["o"])
    it, ft = blocks["i"], blocks["f"]
    lf = -np.logaddexp(0.0, -ft) if forget == "sigmoid" else ft
    if not stabilise:
        m = np.zeros_like(m_prev)
        i, f = np.exp(it), np.exp(lf)
    else:
        m = np.maximum(lf + m_prev, it) if m_prev_in_max else np.maximum(lf, it)
        i = np.exp(it - m)
        if not f_factor:
            f = np.exp(lf)
        else:
            f = np.exp(lf + m_prev - m) if m_prev_in_f else np.exp(lf - m)
    c = f * c_prev + i * z
    n = f * n_prev + i
    h = o * c / n if normalise else o * c
    return h, c, n, m


def _step_mistakes(args):
    found = {
        tr("there is no stabiliser: with m = 0 the exponential input gate is exp(i~) itself, "
           "which overflows for large pre-activations, and the states c_prev and n_prev you "
           "were given are scaled by exp(-m_prev), so they no longer match."):
            lambda: _step(args, stabilise=False),
        tr("the new stabiliser m forgets m_prev: it is the larger of the input gate's "
           "pre-activation and log f + m_prev, the stabiliser carried from the last step."):
            lambda: _step(args, m_prev_in_max=False),
        tr("the new stabiliser m forgets m_prev, in the max and in the forget gate's "
           "exponent."): lambda: _step(args, m_prev_in_max=False, m_prev_in_f=False),
        tr("the forget gate is used as sigma(f~) without the stabiliser: c_prev and n_prev "
           "carry the factor exp(-m_prev), so the stabilised forget gate must take them to the "
           "new scale exp(-m) as well."): lambda: _step(args, f_factor=False),
        tr("the forget gate here is a sigmoid: log f = log sigma(f~), not f~ (that is the "
           "exponential forget gate)."): lambda: _step(args, forget="exp"),
        tr("h is not normalised: the output divides the cell state by the normaliser state n."):
            lambda: _step(args, normalise=False),
    }  # fmt: skip
    for order in itertools.permutations(SLSTM_GATES):
        if order != SLSTM_GATES:
            found[
                tr(
                    "the gate blocks are read in the order {order}; the 4H columns hold "
                    "{gates}, H columns each.",
                    order=", ".join(order),
                    gates=", ".join(SLSTM_GATES),
                )
            ] = (lambda o: lambda: _step(args, order=o))(order)
    return found


def _finite(got):
    return all(
        isinstance(g, np.ndarray) and g.dtype.kind == "f" and np.isfinite(g).all() for g in got
    )


def check_slstm_step(slstm_step, cases=STEP_CASES):
    """Check ``slstm_step(x, h_prev, c_prev, n_prev, m_prev, W_x, R, b) -> (h, c, n, m)``."""
    name = display_name(slstm_step, "slstm_step")
    refuse_package_call(slstm_step, ("slstm_forward", "slstm_backward"), name)
    for case in cases:
        args, expected = step_inputs(*case)
        shift, dtype = case[-1], case[-2]
        with np.errstate(all="ignore"):  # an unstabilised step may overflow: said below
            got = call(slstm_step, args, name=name)
        if (
            shift > FLOAT32_EXP_LIMIT
            and isinstance(got, (tuple, list))
            and len(got) == 4
            and all(
                isinstance(g, np.ndarray) and g.shape == e.shape
                for g, e in zip(got, expected, strict=True)
            )
            and not _finite(got)
        ):
            fail(
                tr(
                    "Your {name} gives inf or nan when the input gate's pre-activations are near "
                    "{shift:g} in {dtype} (exp overflows {dtype} past {limit:.1f}).\nLikely "
                    "cause: an exponential is taken of a number that is too large. With the "
                    "stabiliser no exponent is ever positive: subtract m inside each exponent, "
                    "before exp is taken (exp(a) / exp(m) overflows just the same).",
                    name=name,
                    shift=shift,
                    dtype=np.dtype(dtype).name,
                    limit=FLOAT32_EXP_LIMIT,
                )
            )
        verdict(
            name,
            got,
            expected,
            OUTPUTS,
            letters=NH,
            candidates=lambda a=args: _step_mistakes(a),
            recipe="the sLSTM step of the chapter",
        )
    return tr("{name}: passed.", name=name)


def check_slstm_step_more(slstm_step):
    """``slstm_step`` on other sizes and larger pre-activations (hidden test)."""
    check_slstm_step(slstm_step, cases=HIDDEN_STEP_CASES)
    name = display_name(slstm_step, "slstm_step")
    return tr("{name}: passed on other sizes and larger pre-activations.", name=name)


def first_overflow_of(x, params):
    """The first step t (from 0) at which the unstabilised float32 cell's h_t is not finite."""
    hs, _ = slstm_forward(x, params, stabilise=False)
    bad = ~np.isfinite(hs).all(axis=(1, 2))
    return int(np.argmax(bad)) if bad.any() else None


def check_first_overflow(first_overflow, x, params):
    """Check ``first_overflow`` against the given ``x`` (T, N, D) float32 and ``params``."""
    if first_overflow is None or first_overflow is Ellipsis:
        fail(
            tr(
                "first_overflow is not computed yet: replace the ... with your code and run "
                "the cell."
            )
        )
    value = first_overflow
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(
            tr(
                "first_overflow should be one whole number, a step index; got {got}.",
                got=describe(value),
            )
        )
    if not float(value).is_integer():
        fail(
            tr(
                "first_overflow = {value!r} is not a whole number: it is a step index t.",
                value=value,
            )
        )
    value = int(value)
    want = first_overflow_of(x, params)
    if want is None:  # the given cell was changed so that nothing overflows
        fail(
            tr(
                "With the given x and params the unstabilised cell does not overflow at all: "
                "run the given cell again as it was handed out."
            )
        )
    if value == want:
        return tr(
            "first_overflow = {value}: passed. The stabilised cell stays finite over the "
            "same inputs.",
            value=value,
        )
    hs, _ = slstm_forward(x, params, stabilise=False)
    bad = ~np.isfinite(hs)  # (T, N, H)
    per_sequence = [
        int(np.argmax(bad[:, k].any(axis=1))) for k in range(bad.shape[1]) if bad[:, k].any()
    ]
    all_bad = bad.reshape(bad.shape[0], -1).all(axis=1)
    causes = [
        (
            want + 1,
            tr(
                "you counted the steps from 1; first_overflow is the index t into hs, "
                "which counts from 0."
            ),
        ),
        (
            want - 1,
            tr(
                "that is the last step at which every h is still finite; the task asks "
                "for the first step that is not."
            ),
        ),
        (
            int(bad.any(axis=(1, 2)).sum()),
            tr("that is the number of steps with an overflow, not the first of them."),
        ),
    ]
    if all_bad.any():
        causes.append(
            (
                int(np.argmax(all_bad)),
                tr(
                    "that is the first step at which every "
                    "entry of h has overflowed; the task asks for the first step at which "
                    "any entry has."
                ),
            )
        )
    causes += [
        (
            t,
            tr(
                "that is the first overflow of one sequence; the task asks for the first "
                "step at which any sequence overflows."
            ),
        )
        for t in per_sequence
    ]
    cause = next((m for v, m in causes if v == value), None)
    if cause is None:
        cause = tr(
            "run the unstabilised cell (stabilise=False) in float32 over the given x and "
            "params and find the first t at which some entry of hs[t] is inf or nan "
            "(np.isfinite)."
        )
    fail(
        tr("first_overflow = {value} is not the step asked for.", value=value)
        + "\n"
        + tr("Likely cause: {cause}", cause=cause)
    )


__all__ = [
    "check_first_overflow",
    "check_slstm_step",
    "check_slstm_step_more",
    "first_overflow_of",
    "step_inputs",
]
