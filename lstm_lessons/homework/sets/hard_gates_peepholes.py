"""Checks for the exercise sets of chapters 8 (hard-sigmoid gates) and 10 (peepholes, dynamics).

    check                      the student's answer
    check_hard_sigmoid         hard_sigmoid(x) -> y = min(1, max(0, 0.2 x + 0.5))
    check_hard_sigmoid_grad    hard_sigmoid_grad(y) -> 0.2 where 0 < y < 1, else 0
    check_carousel             carousel(x, params, variant) -> dL/dc_0 (N, H), L = sum(c_T)
    check_kept                 kept, {"standard": ..., "hard_sigmoid": ...} for the set's cell
    check_peephole_backward    peephole_cell_backward(dh, dc, i, f, g, o, c_prev, c, p_i, p_f, p_o)
                                   -> (da_i, da_f, da_g, da_o, dc_prev, dp_i, dp_f, dp_o)
    check_fixed_point          fixed_point(p) -> (c_star, slope) of the one-unit map of chapter 10
    check_p_flip               p_flip, where the slope at the fixed point is -1

The experiment checks (carousel values, fixed point, p_flip) never print the value they
expect: they say what is wrong with the student's number in terms of the student's own
number (its shape, whether it is a fixed point, the slope at it).
"""

from functools import partial

import numpy as np

from ...cells.activations import hard_sigmoid as _hard_sigmoid
from ...cells.activations import sigmoid as _sigmoid
from ...cells.lstm import (
    init_lstm_params,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from ..checks.calling import call, describe, display_name, fail
from ..checks.cases import CASES, cell_from_a
from ..checks.report import unpack, verdict
from ..language import tr

NH = ("N", "H")
SLOPE = 0.2

# Chapter 8, task 1: the hard sigmoid and its derivative.


def _hs_inputs(rng):
    x = 3.0 * rng.standard_normal((4, 5))
    x.flat[:6] = [-2.5, 2.5, -10.0, 10.0, 0.0, 2.4]  # the corners and deep saturation
    return x


def _hs_mistakes(x):
    return {
        tr(
            "your ramp has slope 1/6 (x / 6 + 1/2, PyTorch's nn.Hardsigmoid); the course's hard "
            "sigmoid has slope 0.2."
        ): np.clip(x / 6 + 0.5, 0, 1),
        tr(
            "your ramp has slope 0.25, the sigmoid's slope at 0; the course's has slope 0.2."
        ): np.clip(0.25 * x + 0.5, 0, 1),
        tr("the values are not cut off at 0 and 1: a gate must stay between 0 and 1."): 0.2 * x
        + 0.5,
        tr("the values are cut off at 1 but not at 0."): np.minimum(0.2 * x + 0.5, 1),
        tr("the values are cut off at 0 but not at 1."): np.maximum(0.2 * x + 0.5, 0),
        tr("the offset 0.5 is missing: the ramp must pass through (0, 0.5)."): np.clip(
            0.2 * x, 0, 1
        ),
        tr(
            "you returned the logistic sigmoid; this task is its piecewise-linear version."
        ): _sigmoid(x),
    }


def check_hard_sigmoid(hard_sigmoid):
    """Check ``hard_sigmoid(x) -> y``: min(1, max(0, 0.2 x + 0.5)), in the dtype of x."""
    name = display_name(hard_sigmoid, "hard_sigmoid")
    rng = np.random.default_rng(0)
    for x in (_hs_inputs(rng), _hs_inputs(rng).astype(np.float32), 5 * rng.standard_normal(7)):
        got = call(hard_sigmoid, {"x": x}, name=name)
        verdict(name, got, _hard_sigmoid(x), "y", candidates=partial(_hs_mistakes, x))
    return tr(
        "{name}: passed (float64 and float32, saturation and the corners at +-2.5).", name=name
    )


def _hs_grad_mistakes(y):
    inside = (y > 0) & (y < 1)
    return {
        tr(
            "your derivative is 0.2 where y is exactly 0 or 1 too; there the function is flat, "
            "so the derivative is 0 (compare with strict inequalities, 0 < y < 1)."
        ): np.full_like(y, SLOPE),
        tr(
            "you used the sigmoid's derivative y (1 - y); the hard sigmoid's is a constant "
            "on its ramp."
        ): y * (1 - y),
        tr("you returned 1 on the ramp; the derivative there is the ramp's slope."): inside * 1.0,
        tr("you used slope 1/6 (PyTorch's definition); the course's slope is 0.2."): inside / 6,
        tr("your derivative is swapped: 0.2 must be on the ramp and 0 in saturation."): np.where(
            inside, 0.0, SLOPE
        ),
    }


def check_hard_sigmoid_grad(hard_sigmoid_grad):
    """Check ``hard_sigmoid_grad(y) -> dy/dx`` from the output y: 0.2 where 0 < y < 1, else 0."""
    name = display_name(hard_sigmoid_grad, "hard_sigmoid_grad")
    rng = np.random.default_rng(1)
    for dtype in (np.float64, np.float32):
        y = _hard_sigmoid(_hs_inputs(rng)).astype(dtype)
        expected = np.where((y > 0) & (y < 1), SLOPE, 0.0).astype(dtype)
        got = call(hard_sigmoid_grad, {"y": y}, name=name)
        verdict(name, got, expected, "dy", candidates=partial(_hs_grad_mistakes, y))
    return tr("{name}: passed (float64 and float32, with exact 0s and 1s).", name=name)


# Chapter 8, task 2: the carousel measured with the package's backward pass.


def carousel_inputs(T, N, D, H, seed, variant="standard", forget_bias=3.0):
    """x (T, N, D) and params of ``variant``: a large forget bias, small recurrent weights."""
    rng = np.random.default_rng(seed)
    params = init_lstm_params(D, H, variant, seed=seed, forget_bias=forget_bias)
    params["W_h"] *= 0.5
    params["b"] += rng.uniform(-0.3, 0.3, params["b"].shape)
    return {"x": rng.standard_normal((T, N, D)), "params": params, "variant": variant}


def _carousel(x, params, variant, seed="last", wrt="c0"):
    T, N, _ = x.shape
    H = params["W_h"].shape[0]
    zeros = np.zeros((N, H))
    _, _, cache = lstm_forward(x, zeros, zeros, params, variant)
    seeds = np.zeros((T, N, H))
    if seed == "all":
        seeds[...] = 1.0
    else:
        seeds[-1] = 1.0
    if seed == "h":
        _, dh0, dc0, _ = lstm_backward(seeds, cache)
    else:
        _, dh0, dc0, _ = lstm_backward(np.zeros_like(seeds), cache, seeds)
    if wrt == "f":
        return cache.gate("f").prod(axis=0)
    return dh0 if wrt == "h0" else dc0


def _carousel_mistakes(args):
    return {
        tr(
            "you seeded the gradient of h_T (dhs); the loss is sum(c_T), so seed dcs at the last "
            "step and leave dhs at zero."
        ): lambda: _carousel(**args, seed="h"),
        tr(
            "you seeded dL/dc_t = 1 at every step; L = sum(c_T) depends on the last step only."
        ): lambda: _carousel(**args, seed="all"),
        tr("you returned dL/dh_0; the task asks for dL/dc_0."): lambda: _carousel(**args, wrt="h0"),
        tr(
            "you returned the product of the forget gates: that is the cell-state path alone. "
            "With W_h != 0 the gradient also flows through h and the gates: use the backward "
            "pass."
        ): lambda: _carousel(**args, wrt="f"),
    }


def check_carousel(
    carousel, cases=((30, 3, 2, 4, 0, "standard"), (20, 2, 3, 3, 1, "hard_sigmoid"))
):
    """Check ``carousel(x, params, variant) -> dL/dc_0`` (N, H), L = sum(c_T), from h0 = c0 = 0.

    ``cases`` lists (T, N, D, H, seed, variant).
    """
    name = display_name(carousel, "carousel")
    for T, N, D, H, seed, variant in cases:
        args = carousel_inputs(T, N, D, H, seed, variant)
        got = call(carousel, args, name=name)
        verdict(
            name,
            got,
            _carousel(**args),
            "dc0",
            letters=NH,
            candidates=partial(_carousel_mistakes, args),
        )
    return tr("{name}: passed.", name=name)


KEPT_CELL = {"T": 1000, "H": 4, "forget_bias": 3.0, "seed": 0}


def kept_cell(variant):
    """The cell of the set's task 2: W_h = 0, the forget gate reading only its bias 3."""
    H, seed = KEPT_CELL["H"], KEPT_CELL["seed"]
    params = init_lstm_params(1, H, variant, seed=seed)
    params["W_h"][...] = 0.0
    params["W_x"][:, H : 2 * H] = 0.0
    params["b"][H : 2 * H] = KEPT_CELL["forget_bias"]
    x = np.random.default_rng(seed).standard_normal((KEPT_CELL["T"], 1, 1))
    return x, params


def check_kept(kept):
    """``kept`` maps "standard" and "hard_sigmoid" to dL/dc_0 of unit 0 for :func:`kept_cell`."""
    if kept is None or kept is Ellipsis or kept == {}:
        fail(tr("kept is not computed yet: replace the ... with your code."))
    if not isinstance(kept, dict) or set(kept) != {"standard", "hard_sigmoid"}:
        fail(
            tr(
                'kept should be a dict with the keys "standard" and "hard_sigmoid", got {got}.',
                got=describe(kept),
            )
        )
    for variant in ("standard", "hard_sigmoid"):
        value = kept[variant]
        if np.ndim(value) != 0 or value is Ellipsis or value is None:
            fail(
                tr(
                    'kept["{variant}"] should be one number (unit 0 of dc0), got {got}.',
                    variant=variant,
                    got=describe(value),
                )
            )
        x, params = kept_cell(variant)
        expected = float(_carousel(x, params, variant)[0, 0])
        value = float(value)
        if np.isclose(value, expected, rtol=1e-6, atol=1e-300):
            continue
        if variant == "hard_sigmoid" and value != 1.0:
            fail(
                tr(
                    'kept["hard_sigmoid"] is not what the carousel of this cell gives. Its forget '
                    "gate reads only the bias; work out the gate's value and what 1000 such steps "
                    "do to a gradient, then check the variant name you passed."
                )
            )
        fail(
            tr(
                'kept["{variant}"] is not what your carousel gives for the cell x, params = '
                'kept_cell("{variant}"): run carousel(x, params, "{variant}") and take unit 0.',
                variant=variant,
            )
        )
    return tr("kept: passed. One gate is exactly 1 and keeps the gradient whole; the other leaks.")


# Chapter 10, task 2: the backward pass of the peephole gates.

PEEPHOLE_OUTPUTS = ("da_i", "da_f", "da_g", "da_o", "dc_prev", "dp_i", "dp_f", "dp_o")


def _peephole_backward(
    dh,
    dc,
    i,
    f,
    g,
    o,
    c_prev,
    c,
    p_i,
    p_f,
    p_o,
    *,
    o_term=True,
    if_terms=True,
    late_o=False,
    dp_o_state="c",
):
    """The peephole cell's backward pass, with switches for the mistakes."""
    tc = np.tanh(c)
    da_o = dh * tc * o * (1 - o)
    dc_total = dc + dh * o * (1 - tc**2)
    dc_used = dc_total + (da_o * p_o if o_term and not late_o else 0.0)
    da_i = dc_used * g * i * (1 - i)
    da_f = dc_used * c_prev * f * (1 - f)
    da_g = dc_used * i * (1 - g**2)
    dc_prev = dc_used * f + (da_i * p_i + da_f * p_f if if_terms else 0.0)
    if late_o and o_term:
        dc_prev = dc_prev + da_o * p_o * f
    dp_i = (da_i * c_prev).sum(axis=0)
    dp_f = (da_f * c_prev).sum(axis=0)
    dp_o = (da_o * (c if dp_o_state == "c" else c_prev)).sum(axis=0)
    return da_i, da_f, da_g, da_o, dc_prev, dp_i, dp_f, dp_o


def _peephole_backward_mistakes(args):
    right = _peephole_backward(**args)
    return {
        tr(
            "the output gate read c_t, so c_t gets the extra gradient da_o * p_o; it is missing."
        ): _peephole_backward(**args, o_term=False),
        tr(
            "the gates i and f read c_prev, so dc_prev gets da_i * p_i + da_f * p_f; they are "
            "missing."
        ): _peephole_backward(**args, if_terms=False),
        tr(
            "the term da_o * p_o belongs in the gradient of c_t before that gradient is used for "
            "i, f, g and c_prev; you added it too late."
        ): _peephole_backward(**args, late_o=True),
        tr(
            "dp_o multiplies da_o by the state the output gate read: c_t, not c_prev."
        ): _peephole_backward(**args, dp_o_state="c_prev"),
        tr("dp_i, dp_f and dp_o must be summed over the batch: one number per unit, shape (H,)."): (
            *right[:5],
            *(v * 0 for v in right[5:]),
        ),
        tr("every gradient has the wrong sign."): tuple(-v for v in right),
    }


def check_peephole_backward(peephole_cell_backward, cases=CASES):
    """Check ``peephole_cell_backward(dh, dc, i, f, g, o, c_prev, c, p_i, p_f, p_o)``.

    All (N, H) but p_i, p_f, p_o (H,). Returns the tuple
    ``(da_i, da_f, da_g, da_o, dc_prev, dp_i, dp_f, dp_o)``, compared with the package's
    ``lstm_step_backward(..., variant="peephole")``.
    """
    name = display_name(peephole_cell_backward, "peephole_cell_backward")
    for N, _, H, seed in cases:
        rng = np.random.default_rng(seed + 10)
        a = rng.standard_normal((N, 4 * H))
        c_prev, dh, dc = rng.standard_normal((3, N, H))
        p = rng.uniform(0.5, 1.5, (3, H)) * rng.choice([-1.0, 1.0], (3, H))
        peep = {"p_i": p[0], "p_f": p[1], "p_o": p[2]}
        cache = cell_from_a(a, c_prev, "peephole", peep)[2]
        da, _, dc_prev, grads = lstm_step_backward(dh, dc, cache)  # dx is da: W_x = I
        args = {"dh": dh, "dc": dc}
        args.update({k: np.array(getattr(cache, k)) for k in ("i", "f", "g", "o")})
        args.update({"c_prev": c_prev, "c": np.array(cache.c), **peep})
        expected = (*np.split(da, 4, axis=1), dc_prev, grads["p_i"], grads["p_f"], grads["p_o"])
        got = call(peephole_cell_backward, args, name=name)
        if isinstance(got, (tuple, list)) and len(got) == 8:
            for k in (5, 6, 7):
                if np.shape(got[k]) == (N, H) and N > 1:
                    fail(
                        tr(
                            "Your {name} returned {output} of shape {shape}; a peephole weight is "
                            "one number per unit, so its gradient is summed over the batch: "
                            "shape (H,).",
                            name=name,
                            output=PEEPHOLE_OUTPUTS[k],
                            shape=(N, H),
                        )
                    )
        verdict(
            name,
            got,
            expected,
            PEEPHOLE_OUTPUTS,
            candidates=partial(_peephole_backward_mistakes, args),
        )
    return tr("{name}: passed.", name=name)


# Chapter 10, task 3: the fixed point of a one-unit map and its slope.

CHAPTER_DRIVE = (4.0, 0.0, 2.0, 2.0)  # a_i, a_f, a_g, a_o of chapter 10's cell
FIXED_POINT_CASES = (
    (-3.0, CHAPTER_DRIVE),
    (-8.0, CHAPTER_DRIVE),
    (-20.0, CHAPTER_DRIVE),
    (-6.0, (2.0, 1.0, -1.0, 0.0)),
)


def one_unit_cell(p, drive=CHAPTER_DRIVE):
    """A peephole cell of one unit, D = 1, for x = 1: W_x = drive, W_h = 0, b = 0, p_i = p."""
    return {
        "W_x": np.array([drive], dtype=np.float64),
        "W_h": np.zeros((1, 4)),
        "b": np.zeros(4),
        "p_i": np.array([float(p)]),
        "p_f": np.zeros(1),
        "p_o": np.zeros(1),
    }


def _next_c(c, params):
    """c' for states c (N, 1) of a one-unit cell, and the step's cache."""
    ones, zeros = np.ones((len(c), 1)), np.zeros((len(c), 1))
    _, c_next, cache = lstm_step_forward(ones, zeros, c, params, "peephole")
    return c_next, cache


def _reference_fixed_point(params):
    """c* by bisection on c' - c over [-1/(1 - f), 1/(1 - f)], and dc'/dc there by backward."""
    f = _sigmoid(params["W_x"][0, 1])
    lo, hi = -1 / (1 - f), 1 / (1 - f)
    for _ in range(80):
        mid = (lo + hi) / 2
        above = _next_c(np.array([[mid]]), params)[0][0, 0] > mid
        lo, hi = (mid, hi) if above else (lo, mid)
    c_star = (lo + hi) / 2
    cache = _next_c(np.array([[c_star]]), params)[1]
    slope = lstm_step_backward(np.zeros((1, 1)), np.ones((1, 1)), cache)[2][0, 0]
    return float(c_star), float(slope)


def check_fixed_point(fixed_point, cases=FIXED_POINT_CASES):
    """Check ``fixed_point(params) -> (c_star, slope)`` of a one-unit peephole cell, x = 1.

    params as :func:`one_unit_cell` builds them (W_h = 0, p_f = 0); c_star solves c' = c and
    slope is dc'/dc at c_star. Both within 1e-6 (relative 1e-5). ``cases``: (p, drive).
    """
    name = display_name(fixed_point, "fixed_point")
    for p, drive in cases:
        params = one_unit_cell(p, drive)
        got = unpack(call(fixed_point, {"params": params}, name=name), ("c_star", "slope"), name)
        for value, what in zip(got, ("c_star", "slope"), strict=True):
            if np.size(value) != 1 or not np.isfinite(np.asarray(value, dtype=float)).all():
                fail(
                    tr(
                        "For p = {p:g}, your {name} returned {what} as {got}; expected one finite "
                        "number.",
                        p=p,
                        name=name,
                        what=what,
                        got=describe(value),
                    )
                )
        c_star, slope = (float(np.asarray(v, dtype=float).reshape(())) for v in got)
        c_ref, s_ref = _reference_fixed_point(params)
        if not np.isclose(c_star, c_ref, rtol=1e-5, atol=1e-6):
            moved = float(_next_c(np.array([[c_star]]), params)[0][0, 0] - c_star)
            fail(
                tr(
                    "For p = {p:g}, your c_star is not a fixed point: one step of the map moves it "
                    "by {moved:+.3g}. If you iterated the map: that converges only to a stable "
                    "fixed point; solve c' - c = 0 instead (bisection or Newton).",
                    p=p,
                    moved=moved,
                )
            )
        if not np.isclose(slope, s_ref, rtol=1e-5, atol=1e-6):
            if np.isclose(slope, -s_ref, rtol=1e-4, atol=1e-5):
                why = tr("Its sign is flipped.")
            elif np.isclose(slope, s_ref - 1, rtol=1e-4, atol=1e-5):
                why = tr("You computed the slope of c' - c; the map's slope is that plus 1.")
            else:
                why = tr(
                    "It is dc'/dc, the derivative of the next cell state with respect to the "
                    "current one (centred differences with a step of about 1e-6, or the "
                    "backward pass seeded with dc' = 1)."
                )
            fail(
                tr(
                    "For p = {p:g}, c_star is right but the slope at it is not. {why}",
                    p=p,
                    why=why,
                )
            )
    return tr(
        "{name}: passed ({n} cells, stable and unstable fixed points).", name=name, n=len(cases)
    )


def _slope_at(p):
    return _reference_fixed_point(one_unit_cell(p))[1]


def check_p_flip(p_flip):
    """``p_flip``: the p_i of chapter 10's cell where the slope at the fixed point is -1 (1e-3)."""
    if p_flip is None or p_flip is Ellipsis:
        fail(tr("p_flip is not computed yet: replace the ... with your code."))
    if np.size(p_flip) != 1:
        fail(tr("p_flip should be one number, got {got}.", got=describe(p_flip)))
    p = float(np.asarray(p_flip, dtype=float).reshape(()))
    if not np.isfinite(p) or p >= 0:
        fail(tr("p_flip should be a negative number (the feedback is negative), got {p}.", p=p))
    slope = _slope_at(p)
    # The slope falls as p falls; the flip lies within 1e-3 of p when it changes side there.
    if not (_slope_at(p + 1e-3) > -1 > _slope_at(p - 1e-3)):
        fail(
            tr(
                "At your p_flip = {p:.6g} the slope at the fixed point is {slope:.6g}, not -1 "
                "(to the 1e-3 in p that this check asks for).",
                p=p,
                slope=slope,
            )
        )
    return tr("p_flip = {p:.4f}: passed. The fixed point loses stability there.", p=p)
