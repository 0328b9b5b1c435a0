"""Checks for the exercise set of chapter 16 (what the recurrence buys: state tracking).

    check                        the student's answer
    check_parity_unit            parity_unit(bits) -> h (T, N), a one-unit linear recurrence
                                 h_t = a(x_t) h_{t-1} + b(x_t) with constant a(0), a(1),
                                 b(0), b(1); and parity_from_h(h) -> (T, N) of 0/1, a threshold
    check_best_interval_accuracy best_interval_accuracy, the best per-step parity accuracy of
                                 a unit with a(0), a(1) in [0, 1] on the given bits and grid
    check_transition             transition(dt, A, negative) -> a (..., H, S), the selective
                                 SSM's exp(dt A), or 2 exp(dt A) - 1 with the negative range

Parity by hand is compared with :func:`~lstm_lessons.cells.parity.parity` on random streams
and on streams of LONG_T steps (all zeros, all ones, random), where a unit whose state
grows at every step overflows and one whose state settles loses the parity. The check
also reads the four numbers a(0), a(1), b(0), b(1) back from h and the bits (least squares
over the steps of each bit) and verifies that the recurrence holds at every step, and that
``parity_from_h`` is one cut of h: the recurrence must carry the parity, not the readout.
"""

import numbers
from functools import lru_cache

import numpy as np

from ...cells.parity import best_unit_interval_accuracy, parity
from ...cells.ssm import transition as _transition
from ..checks.calling import call, describe, display_name, fail, refuse_package_call, source_of
from ..checks.report import structure, verdict
from ..language import tr

#: (T, N, seed) of the random streams; then the long streams of LONG_T steps.
PARITY_CASES = ((500, 8, 0), (300, 5, 1))
LONG_T = 20_000
#: A recurrence holds when every residual is below this, relative to the size of h.
RECURRENCE_TOL = 1e-9
FORBIDDEN_PARITY = (
    "parity",
    "parity_by_hand",
    "linear_unit",
    "best_unit_interval_accuracy",
    "cumsum",
)


def _refuse(fn, forbidden, name, common=()):
    """refuse_package_call, without the names in ``common`` for a notebook graded in a sandbox.

    There the notebook's source is read, strings included, and the package's names other
    than its few helpers are refused anyway; a word such as "parity" or "transition" in a
    docstring must not count as a call.
    """
    if isinstance(getattr(fn, "grading_cells", None), (list, tuple)):
        forbidden = tuple(f for f in forbidden if f not in common)
    refuse_package_call(fn, forbidden, name)


def _bits(T, N, seed):
    return np.random.default_rng(seed).integers(0, 2, size=(T, N))


def long_bits(T=LONG_T):
    """(T, 3) streams: all zeros, all ones, and random bits."""
    bits = np.zeros((T, 3), dtype=np.int64)
    bits[:, 1] = 1
    bits[:, 2] = _bits(T, 1, 7)[:, 0]
    return bits


def fit_recurrence(h, bits):
    """(a0, a1, b0, b1) fitted to h_t = a(x_t) h_{t-1} + b(x_t), and the largest residual.

    Over t >= 1 of every stream, by least squares for each value of the bit; the residual is
    relative to the size of h.
    """
    prev, now, x = h[:-1].ravel(), h[1:].ravel(), bits[1:].ravel()
    coef, worst = {}, 0.0
    for bit in (0, 1):
        sel = x == bit
        if not sel.any():
            coef[bit] = (np.nan, np.nan)
            continue
        design = np.stack([prev[sel], np.ones(sel.sum())], axis=1)
        (a, b), *_ = np.linalg.lstsq(design, now[sel], rcond=None)
        coef[bit] = (float(a), float(b))
        scale = 1.0 + np.abs(now[sel]).max()
        worst = max(worst, float(np.abs(design @ (a, b) - now[sel]).max() / scale))
    return (coef[0][0], coef[1][0], coef[0][1], coef[1][1]), worst


def _h_array(h, bits, name):
    """``h`` checked to be a finite float array of the bits' shape; else CheckFailed."""
    if isinstance(h, np.ndarray) and h.dtype.kind in "biu":
        fail(
            tr(
                "Your {name} returned an integer array; expected a float array of shape "
                "(T, N) = {shape}: the unit's state h_t is a real number (and a state made "
                "of integers is a count, which no one-unit recurrence needs).",
                name=name,
                shape=bits.shape,
            )
        )
    dtype = h.dtype if isinstance(h, np.ndarray) and h.dtype.kind == "f" else np.float64
    problem = structure(h, np.zeros(bits.shape, dtype=dtype), "h", letters=("T", "N"))
    if problem and not (
        isinstance(h, np.ndarray)
        and h.shape == bits.shape
        and h.dtype.kind == "f"
        and "NaN or infinite" in problem
    ):
        fail(tr("Your {name} is not right yet: {problem}", name=name, problem=problem))
    return np.asarray(h, dtype=np.float64)


def _readout(parity_from_h, h, bits, name):
    got = call(parity_from_h, {"h": h}, name=name)
    if got is Ellipsis or got is None:
        fail(
            tr(
                "Your {name} returned {got}: the task is not done yet.",
                name=name,
                got=describe(got),
            )
        )
    if not isinstance(got, np.ndarray) or got.shape != bits.shape:
        fail(
            tr(
                "Your {name} returned {got}; expected an array of shape (T, N) = "
                "{shape} of 0s and 1s.",
                name=name,
                got=describe(got),
                shape=bits.shape,
            )
        )
    if got.dtype.kind == "b":
        got = got.astype(np.int64)
    if got.dtype.kind not in "biuf" or not np.isin(got, (0, 1)).all():
        fail(
            tr(
                "Your {name} returned values other than 0 and 1; expected the parity, 0 or 1 "
                "at each step.",
                name=name,
            )
        )
    return got.astype(np.int64)


def _is_threshold(h, labels):
    """Whether labels (0/1) are one cut of h: all 0s below and all 1s above, or the reverse."""
    order = np.argsort(h, kind="stable")
    hs, ls = h[order], labels[order]
    for low, high in ((0, 1), (1, 0)):
        # the largest h labelled `low` must lie below the smallest h labelled `high`
        lows, highs = hs[ls == low], hs[ls == high]
        if not len(lows) or not len(highs) or lows.max() < highs.min():
            return True
    return False


def _wrong_parity(coefs, h, bits, got, want, name, length):
    a0, a1, b0, b1 = coefs
    k = int(np.argmax((got != want).any(axis=1)))
    head = tr(
        "Your {name} does not give the running parity on {streams}: the first wrong "
        "step is t = {k}.",
        name=name,
        streams=length,
        k=k,
    )
    if np.array_equal(got, 1 - want):
        cause = tr(
            "your readout is the other way round: 1 should mean an odd number of ones so far."
        )
    elif k > 0 and np.array_equal(got[1:], want[:-1]):
        cause = tr("your parity lags one step behind: the parity at step t counts bit t too.")
    elif a1 >= 0 and a0 >= 0:
        cause = tr(
            "your unit's transitions are a(0) = {a0:.3g} and a(1) = {a1:.3g}, both at "
            "least 0. Along a run of ones the same non-decreasing map is applied again "
            "and again, so h moves monotonically and crosses any threshold at most "
            "once, while the parity flips at every one.",
            a0=a0,
            a1=a1,
        )
    elif 0 < min(abs(a0), abs(a1)) < 1 or abs(b0) + abs(b1) > 0 and max(abs(a0), abs(a1)) < 1:
        cause = tr(
            "with a(0) = {a0:.3g} and a(1) = {a1:.3g} the state shrinks (or settles) "
            "step after step, so on long streams the two parities' states draw "
            "together until rounding or underflow makes them equal. A unit that tracks "
            "parity at every length keeps the size of its state.",
            a0=a0,
            a1=a1,
        )
    elif max(abs(a0), abs(a1)) > 1:
        cause = tr(
            "with a(0) = {a0:.3g} and a(1) = {a1:.3g} the state grows step after step "
            "until it overflows. A unit that tracks parity at every length keeps the "
            "size of its state.",
            a0=a0,
            a1=a1,
        )
    else:
        cause = tr(
            "check which values h takes after an even and after an odd number of ones, "
            "and put the threshold of parity_from_h between them."
        )
    fail(head + "\n" + tr("Likely cause: {cause}", cause=cause))


def check_parity_unit(parity_unit, parity_from_h, cases=PARITY_CASES, long=True):
    """Check ``parity_unit(bits) -> h`` and ``parity_from_h(h) -> parity`` (see the module)."""
    name = display_name(parity_unit, "parity_unit")
    readout = display_name(parity_from_h, "parity_from_h")
    both = tr("{name} and {readout}", name=name, readout=readout)  # who failed, said once
    if "cumsum" in source_of(parity_unit):
        fail(
            tr(
                "Your {name} counts the ones with cumsum. The task is a recurrence that "
                "updates one number per step, h_t = a(x_t) h_{{t-1}} + b(x_t): write the loop "
                "over t.",
                name=name,
            )
        )
    _refuse(parity_unit, FORBIDDEN_PARITY, name, common=("parity",))
    _refuse(parity_from_h, FORBIDDEN_PARITY, readout, common=("parity",))
    coefs = None
    for T, N, seed in cases:
        bits = _bits(T, N, seed)
        h = _h_array(call(parity_unit, {"bits": bits}, name=name), bits, name)
        if not np.isfinite(h).all():
            fail(
                tr(
                    "Your {name} gives inf or nan within {T} steps: the state must keep its size.",
                    name=name,
                    T=T,
                )
            )
        coefs, residual = fit_recurrence(h, bits)
        if residual > RECURRENCE_TOL:
            fail(
                tr(
                    "Your {name}'s h is not a linear recurrence with constant coefficients: "
                    "no four numbers a(0), a(1), b(0), b(1) give h_t = a(x_t) h_{{t-1}} + b(x_t) "
                    "at every step. Use the same a and b for every 0 and the same for every 1, "
                    "and nothing but h_{{t-1}} and x_t.",
                    name=name,
                )
            )
        labels = _readout(parity_from_h, h, bits, readout)
        if not _is_threshold(h.ravel(), labels.ravel()):
            fail(
                tr(
                    "Your {name} is not one threshold on h: no single cut of h gives your "
                    "0s on one side and your 1s on the other. Read the parity with one cut "
                    "(h > theta or h < theta, or the sign of h): the recurrence, not the "
                    "readout, must carry the parity.",
                    name=readout,
                )
            )
        want = parity(bits)
        if not np.array_equal(labels, want):
            _wrong_parity(
                coefs,
                h,
                bits,
                labels,
                want,
                both,
                tr("random streams of {T} steps", T=T),
            )
    if long:
        bits = long_bits()
        h = _h_array(call(parity_unit, {"bits": bits}, name=name), bits, name)
        finite = np.isfinite(h)
        labels = _readout(parity_from_h, np.where(finite, h, 0.0), bits, readout)
        want = parity(bits)
        if not finite.all() or not np.array_equal(labels, want):
            if not finite.all():
                labels = np.where(finite, labels, 1 - want)
            _wrong_parity(
                coefs,
                h,
                bits,
                labels,
                want,
                both,
                tr("streams of {T:,} steps (all zeros, all ones, random)", T=LONG_T),
            )
    a0, a1 = coefs[0], coefs[1]
    return tr(
        "{name} and {readout}: passed, exact on streams of {T:,} steps "
        "(your transitions: a(0) = {a0:.3g}, a(1) = {a1:.3g}).",
        name=name,
        readout=readout,
        T=LONG_T,
        a0=a0,
        a1=a1,
    )


def check_parity_unit_more(parity_unit, parity_from_h):
    """Other streams, one step long and a single stream (hidden test)."""
    check_parity_unit(
        parity_unit, parity_from_h, cases=((1, 4, 3), (700, 1, 4), (50, 20, 5)), long=False
    )
    return tr("{name}: passed on other streams.", name=display_name(parity_unit, "parity_unit"))


@lru_cache(maxsize=8)
def _best_accuracy(data, shape, grid):
    """best_unit_interval_accuracy's accuracy, once per (bits, grid): a search takes a second."""
    bits = np.frombuffer(data, dtype=np.int64).reshape(shape)
    return best_unit_interval_accuracy(bits, grid)[0]


def best_accuracy(bits, grid):
    bits = np.ascontiguousarray(bits, dtype=np.int64)
    return _best_accuracy(bits.tobytes(), bits.shape, int(grid))


def check_best_interval_accuracy(best_interval_accuracy, bits, grid):
    """Check ``best_interval_accuracy`` against best_unit_interval_accuracy(bits, grid)."""
    value = best_interval_accuracy
    if value is None or value is Ellipsis:
        fail(
            tr(
                "best_interval_accuracy is not computed yet: replace the ... with your code "
                "and run the cell."
            )
        )
    if isinstance(value, tuple) and len(value) == 2:
        fail(
            tr(
                "best_interval_accuracy should be one number, the accuracy; "
                "best_unit_interval_accuracy returns (accuracy, setting): take the first."
            )
        )
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(tr("best_interval_accuracy should be one number; got {got}.", got=describe(value)))
    value = float(value)
    want = best_accuracy(bits, grid)
    if abs(value - want) <= 1e-6:  # accuracies are multiples of 1 / (T N)
        return tr(
            "best_interval_accuracy = {value:.3f}: passed. No unit with transitions in "
            "[0, 1] on that grid does better, against 1.000 for a(1) = -1.",
            value=value,
        )
    causes = [
        (100 * want, tr("that is a percentage; give the accuracy as a fraction between 0 and 1.")),
        (
            1.0,
            tr(
                "1.0 is the accuracy of the unit with a(1) = -1, outside [0, 1]; the task asks "
                "for the best unit whose transitions both lie in [0, 1]."
            ),
        ),
    ]
    for other in (grid - 1, grid + 1):
        if other >= 2:
            causes.append(
                (
                    lambda other=other: best_accuracy(bits, other),
                    tr(
                        "that is the best over a grid of {other} values; use grid = "
                        "{grid}, as given.",
                        other=other,
                        grid=grid,
                    ),
                )
            )
    cause = next((m for v, m in causes if abs((v() if callable(v) else v) - value) <= 1e-6), None)
    if cause is None and value < want:
        cause = tr(
            "a better unit exists on the grid: search every a(0), a(1), b(0), b(1), h_0 "
            "of the grid and every threshold, in both directions (h > theta and "
            "h < theta)."
        )
    if cause is None:
        cause = tr(
            "no unit on the grid reaches that accuracy: compute the accuracy per step, "
            "over every step of every stream, with one threshold for all of them."
        )
    fail(
        tr("best_interval_accuracy = {value:.6g} is not the value asked for.", value=value)
        + "\n"
        + tr("Likely cause: {cause}", cause=cause)
    )


#: (leading axes of dt, H, S, seed) for the transition's check: dt (..., H), A (H, S).
TRANSITION_CASES = (((4,), 3, 5, 0), ((6, 2), 4, 2, 1))
HIDDEN_TRANSITION_CASES = (((1,), 1, 3, 2), ((3, 5), 6, 7, 3))


def transition_inputs(shape, H, S, seed):
    rng = np.random.default_rng(seed)
    dt = np.log1p(np.exp(rng.standard_normal(shape)))  # softplus: dt > 0
    A = -np.exp(rng.uniform(-1.0, 1.5, (H, S)))  # A < 0
    return dt, A


def _transition_mistakes(dt, A, negative):
    e = np.exp(dt[..., None] * A)

    def signed(v):
        return 2.0 * v - 1.0 if negative else v

    found = {
        tr("the step size and A are multiplied in the exponent, exp(dt * A), not added."): signed(
            np.exp(dt[..., None] + A)
        ),
        tr(
            "the sign of the exponent is wrong: A is already negative, so the transition "
            "exp(dt * A) lies below 1."
        ): signed(np.exp(-dt[..., None] * A)),
        tr("the exponent lost its A: each state s of channel h has its own A[h, s]."): signed(
            np.broadcast_to(np.exp(dt)[..., None], e.shape)
        ),
    }
    if negative:
        found[
            tr(
                "with the negative range the transition is 2 exp(dt * A) - 1; you have "
                "1 - 2 exp(dt * A), its negative."
            )
        ] = 1.0 - 2.0 * e
        found[
            tr(
                "`negative` is ignored: with negative=True the transition is stretched from "
                "(0, 1) to (-1, 1)."
            )
        ] = e
        found[
            tr(
                "with the negative range the transition is stretched to (-1, 1) by 2 e - 1; "
                "-e only covers (-1, 0)."
            )
        ] = -e
        found[
            tr(
                "with the negative range the whole map is 2 e - 1 (e = exp(dt * A)); 2 e "
                "alone reaches 2."
            )
        ] = 2.0 * e
    else:
        found[
            tr(
                "with negative=False the transition is exp(dt * A) itself, in (0, 1); the "
                "stretch to (-1, 1) is only for negative=True."
            )
        ] = 2.0 * e - 1.0
        found[tr("that is 1 - exp(dt * A), the share that is written, not the share kept.")] = 1 - e
    return found


def check_transition(transition, cases=TRANSITION_CASES):
    """Check ``transition(dt, A, negative) -> a`` against the package's, both ranges."""
    name = display_name(transition, "transition")
    _refuse(transition, ("transition", "ssm_forward"), name, common=("transition",))
    hints = (
        (
            lambda e: isinstance(e, ValueError) and "broadcast" in str(e),
            tr(
                "dt has shape (..., H) and A (H, S): give dt a last axis, dt[..., None], so "
                "that the product has shape (..., H, S)."
            ),
        ),
    )
    for shape, H, S, seed in cases:
        dt, A = transition_inputs(shape + (H,), H, S, seed)
        for negative in (False, True):
            got = call(transition, {"dt": dt, "A": A, "negative": negative}, name=name, hints=hints)
            verdict(
                f"{name}(dt, A, negative={negative})",
                got,
                _transition(dt, A, negative),
                "a",
                letters=(("N",) if len(shape) == 1 else ("T", "N")) + ("H", "S"),
                candidates=lambda d=dt, a=A, n=negative: _transition_mistakes(d, a, n),
                recipe="the transition of the chapter",
            )
    return tr("{name}: passed.", name=name)


def check_transition_more(transition):
    """Other shapes, H = 1 included (hidden test)."""
    check_transition(transition, cases=HIDDEN_TRANSITION_CASES)
    return tr("{name}: passed on other shapes.", name=display_name(transition, "transition"))


__all__ = [
    "check_best_interval_accuracy",
    "check_parity_unit",
    "check_parity_unit_more",
    "check_transition",
    "check_transition_more",
    "fit_recurrence",
    "long_bits",
    "transition_inputs",
]
