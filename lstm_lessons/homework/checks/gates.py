"""Checks for the pieces of one step: the sigmoid, the forget gate, the cell update, the EMA.

Each check takes the student's function, runs it on seeded inputs beside the
package's own code, and returns a short "passed" line or raises
:class:`~lstm_lessons.homework.checks.CheckFailed` with a diagnosis.
"""

from functools import partial

import numpy as np

from ...cells.activations import sigmoid as _sigmoid
from ...cells.leaky import ema as _ema
from ...cells.leaky import leaky_integrate
from ..language import tr
from .calling import call, display_name, source_of
from .cases import CASES, lstm_inputs, step
from .report import verdict

NH = ("N", "H")

# Sorted by size, so that the first failure is the smallest x that breaks the formula.
_EXTREMES = (0.0, -30.0, 30.0, -100.0, 100.0, -1000.0, 1000.0, -1e4, 1e4)


def _sigmoid_mistakes(x, got):
    s = _sigmoid(x)
    return _clip_guess(x, got) | {
        tr(
            "you computed sigma(-x) = 1 - sigma(x), e.g. 1 / (1 + exp(x)): "
            "the exponent is -x, so write np.exp(-x)."
        ): _sigmoid(-x),
        tr(
            "you computed tanh(x). The gates use the logistic sigmoid 1 / (1 + exp(-x)), "
            "whose values lie between 0 and 1."
        ): np.tanh(x),
        tr(
            "0.5 * (1 + tanh(x)) is sigma(2x); the identity is sigma(x) = 0.5 * (1 + tanh(x / 2))."
        ): _sigmoid(2 * x),
        tr("you returned 1 + exp(-x); the sigmoid is its reciprocal, 1 / (1 + exp(-x))."): (
            1 + np.exp(-x)
        ),
        tr("the denominator is 1 + exp(-x), not 1 - exp(-x) (wrong sign)."): 1 / (1 - np.exp(-x)),
        tr("you returned the derivative sigma(x) * (1 - sigma(x)), not sigma(x)."): s * (1 - s),
    }


def _overflow_hint(fn):
    hint = tr(
        "np.exp overflowed: exp(-x) is larger than the largest float for very negative x "
        "(x < -709 in float64, x < -88 in float32). Compute exp only of non-positive numbers: "
        "z = np.exp(-np.abs(x)) lies in (0, 1], and sigma(x) = 1 / (1 + z) where x >= 0, "
        "z / (1 + z) where x < 0."
    )
    if "where" in source_of(fn):
        hint = tr(
            "{hint} np.where does not help by itself: it evaluates both branches on every element.",
            hint=hint,
        )
    return hint


def check_sigmoid(sigmoid):
    """Check the student's ``sigmoid(x) -> y``, the logistic sigmoid element by element.

    ``y = 1 / (1 + exp(-x))`` with the shape and dtype of ``x``, for float64 and
    float32 arrays; finite and free of NumPy overflow warnings for |x| up to 1e4.
    """
    name = display_name(sigmoid, "sigmoid")
    rng = np.random.default_rng(0)
    x = 4.0 * rng.standard_normal((3, 4))
    recipe = "1 / (1 + np.exp(-x)) element by element, keeping x's shape and dtype."
    for xd in (x, x.astype(np.float32), 10.0 * rng.standard_normal((2, 3, 4))):
        got = call(sigmoid, {"x": xd}, name=name)
        verdict(
            name,
            got,
            _sigmoid(xd),
            "sigmoid(x)",
            candidates=partial(_sigmoid_mistakes, xd, got),
            recipe=recipe,
        )
    hints = (
        (
            lambda e: isinstance(e, (Warning, OverflowError, FloatingPointError)),
            _overflow_hint(sigmoid),
        ),
    )
    for dtype in (np.float64, np.float32):
        for v in _EXTREMES:
            xv = np.array([v], dtype=dtype)
            got = call(sigmoid, {"x": xv}, name=name, hints=hints, strict=True)
            what = tr("sigmoid(x) for x = {x:g} ({dtype})", x=v, dtype=np.dtype(dtype))
            verdict(name, got, _sigmoid(xv), what, candidates=partial(_clip_guess, xv, got))
    return tr("{name}: passed (float64 and float32, |x| up to 1e4, no overflow).", name=name)


def _clip_guess(x, got):
    """If ``got`` is sigma(clip(x, -L, L)) for some L < max |x|, the student clipped x."""
    try:
        y = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return {}
    inside = (y > 0) & (y < 1)
    if y.shape != x.shape or not inside.any():
        return {}
    L = float(np.max(np.abs(np.log(y[inside] / (1 - y[inside])))))
    if not 1 < L < float(np.max(np.abs(x))) - 1:
        return {}
    message = tr(
        "your results stop at sigma(+-{L:.3g}): it looks as if x was clipped to +-{L:.3g}, "
        "which changes the result visibly. Use the stable form instead of clipping.",
        L=L,
    )
    return {message: _sigmoid(np.clip(x, -L, L))}


def check_forget_gate(forget_gate, cases=CASES):
    """Check the student's ``forget_gate(x, h_prev, W_xf, W_hf, b_f) -> f``.

    x (N, D), h_prev (N, H), W_xf (D, H), W_hf (H, H), b_f (H,) ->
    f = sigma(x @ W_xf + h_prev @ W_hf + b_f), shape (N, H): the forget-gate block
    of the package's ``lstm_step_forward``. ``cases`` lists the (N, D, H, seed) to try.
    """
    name = display_name(forget_gate, "forget_gate")
    for N, D, H, seed in cases:
        args = lstm_inputs(N, D, H, seed)
        cols = slice(H, 2 * H)  # the f block
        gate_args = {
            "x": args["x"],
            "h_prev": args["h_prev"],
            "W_xf": args["W_x"][:, cols],
            "W_hf": args["W_h"][:, cols],
            "b_f": args["b"][cols],
        }
        expected = np.array(step(args)[2].f)
        got = call(forget_gate, gate_args, name=name)
        verdict(
            name,
            got,
            expected,
            "f",
            letters=NH,
            candidates=partial(_forget_mistakes, **gate_args),
            recipe="f = sigma(x @ W_xf + h_prev @ W_hf + b_f).",
        )
    return tr("{name}: passed.", name=name)


def _forget_mistakes(x, h_prev, W_xf, W_hf, b_f):
    xw, hw = x @ W_xf, h_prev @ W_hf
    a = xw + hw + b_f
    return {
        tr("the bias b_f is missing: f = sigma(x @ W_xf + h_prev @ W_hf + b_f)."): (
            _sigmoid(xw + hw)
        ),
        tr("the bias b_f is added after the sigmoid; it belongs inside: sigma(... + b_f)."): (
            _sigmoid(xw + hw) + b_f
        ),
        tr("you used tanh where the sigmoid belongs; a gate is sigma(a), between 0 and 1."): (
            np.tanh(a)
        ),
        tr("the sigmoid is missing: f = sigma(a), not the pre-activation a itself."): a,
        tr(
            "you computed sigma(-a): your sigmoid uses exp(x) where exp(-x) belongs, "
            "or a sign is flipped."
        ): _sigmoid(-a),
        tr("your sigmoid computes sigma(2a) (0.5 * (1 + tanh(a)) needs tanh(a / 2))."): (
            _sigmoid(2 * a)
        ),
        tr(
            "W_hf is transposed: with row vectors the recurrent term is h_prev @ W_hf, "
            "(N, H) @ (H, H)."
        ): _sigmoid(xw + h_prev @ W_hf.T + b_f),
        tr("the recurrent term h_prev @ W_hf is missing."): _sigmoid(xw + b_f),
        tr("the input term x @ W_xf is missing."): _sigmoid(hw + b_f),
    }


def check_cell_update(cell_update):
    """Check the student's ``cell_update(f, i, g, c_prev) -> c``, each (N, H).

    c = f * c_prev + i * g, element by element: the package's leaky integrator
    for one step.
    """
    name = display_name(cell_update, "cell_update")
    for N, _, H, seed in CASES:
        rng = np.random.default_rng(seed)
        f, i = _sigmoid(rng.standard_normal((2, N, H)))
        g = np.tanh(rng.standard_normal((N, H)))
        c_prev = rng.standard_normal((N, H))
        expected = leaky_integrate(g[None], f, i, c0=c_prev)[0]
        hints = (
            (
                lambda e: "matmul" in str(e) or "aligned" in str(e),
                tr("the update is element by element: use *, not @ or np.dot."),
            ),
        )
        got = call(cell_update, {"f": f, "i": i, "g": g, "c_prev": c_prev}, name=name, hints=hints)
        verdict(
            name,
            got,
            expected,
            "c",
            letters=NH,
            candidates=partial(cell_update_mistakes, f, i, g, c_prev),
            recipe="c = f * c_prev + i * g (element by element).",
        )
    return tr("{name}: passed.", name=name)


def cell_update_mistakes(f, i, g, c_prev):
    c = f * c_prev + i * g
    return {
        tr(
            "f and i are swapped: f scales the old state c_prev and i the candidate g, "
            "c = f * c_prev + i * g."
        ): f * g + i * c_prev,
        tr("the factor f is missing: the old state is scaled by the forget gate, f * c_prev."): (
            c_prev + i * g
        ),
        tr("the factor i is missing: the candidate is scaled by the input gate, i * g."): (
            f * c_prev + g
        ),
        tr("the old state is missing: c = f * c_prev + i * g."): i * g,
        tr("the new candidate is missing: c = f * c_prev + i * g."): f * c_prev,
        tr("wrong sign: the two terms are added, c = f * c_prev + i * g."): f * c_prev - i * g,
        tr("you applied tanh to c; the cell state is not squashed (tanh comes later, in h)."): (
            np.tanh(c)
        ),
        tr("you scaled c_prev by i as well: c = f * c_prev + i * g."): i * c_prev + i * g,
        tr("you scaled g by f as well: c = f * c_prev + i * g."): f * c_prev + f * g,
        tr("you used (1 - f) where f belongs: f is the fraction of c_prev that is kept."): (
            (1 - f) * c_prev + i * g
        ),
        tr("you multiplied the two terms; they are added: c = f * c_prev + i * g."): (
            f * c_prev * i * g
        ),
    }


def check_ema(ema, cases=((8, 0.7, 0, np.float64), (5, 0.25, 1, np.float32))):
    """Check the student's ``ema(x, a) -> c``: x (T,), 0 < a < 1, c (T,).

    c_t = a * c_{t-1} + (1 - a) * x_t for t = 1..T, from c_0 = 0; the result holds
    c_1, ..., c_T (not c_0), like the package's ``leaky.ema``, in the dtype of x.
    ``cases`` lists (T, a, seed, dtype) to try.
    """
    name = display_name(ema, "ema")
    for T, a, seed, dtype in cases:
        # Mean 1, so that a wrong start shows.
        x = (1.0 + np.random.default_rng(seed).standard_normal(T)).astype(dtype)
        hints = (
            (
                lambda e: isinstance(e, IndexError),
                tr(
                    "c_0 = 0 is not part of the result: keep it in a variable (c = 0.0) and "
                    "store c_1, ..., c_T."
                ),
            ),
        )
        got = call(ema, {"x": x, "a": a}, name=name, hints=hints)
        verdict(
            name,
            got,
            _ema(x, a),
            "c",
            candidates=partial(_ema_mistakes, x, a, got),
            recipe="c_t = a * c_{t-1} + (1 - a) * x_t from c_0 = 0, returning c_1, ..., c_T, "
            "in the dtype of x.",
        )
    return tr("{name}: passed.", name=name)


def _ema_mistakes(x, a, got):
    c = _ema(x, a)
    T = len(x)
    # c_{t-1} and x_{t-1} go in as values: braces in a template are placeholders.
    mistakes = {
        tr(
            "a and 1 - a are swapped: a multiplies the old value {c_prev}, (1 - a) the new "
            "input x_t.",
            c_prev="c_{t-1}",
        ): _ema(x, 1 - a),
        tr(
            "you started from c_0 = x_1 (so c_1 = x_1); the average starts from c_0 = 0, "
            "so c_1 = (1 - a) * x_1."
        ): _ema(x, a, c0=x[0]),
        tr(
            "off by one in time: your entry t holds {c_prev}, either because c was stored before "
            "it was updated or because step t read {x_prev}. The first entry must be "
            "c_1 = (1 - a) * x_1.",
            c_prev="c_{t-1}",
            x_prev="x_{t-1}",
        ): np.concatenate([[0.0], c[:-1]]),
        tr(
            "your result has T + 1 = {n} entries and starts with c_0 = 0: "
            "return only c_1, ..., c_T.",
            n=T + 1,
        ): np.concatenate([[0.0], c]),
        tr(
            "the factor (1 - a) on x_t is missing: c_t = a * {c_prev} + (1 - a) * x_t.",
            c_prev="c_{t-1}",
        ): leaky_integrate(x, a, 1.0),
        tr("you returned only the last value c_T; return all of c_1, ..., c_T."): c[-1],
    }
    # A wrong start c_0 = K adds K * a^t to every c_t.
    if isinstance(got, np.ndarray) and got.shape == c.shape and np.isfinite(got).all():
        K = (got[0] - c[0]) / a
        if abs(K) > 1e-3:
            mistakes[
                tr("you started from c_0 = {K:.4g}; the average starts from c_0 = 0.", K=K)
            ] = _ema(x, a, c0=K)
    return mistakes
