"""Checks for the exercise sets of chapters 6 (leaky integrator) and 7 (output gate).

    check                        the student's answer
    check_ema_long               ema(x, a) -> c          longer series, slow leaks, float32
    check_step_lag               step_lag(a, frac) -> lag, an integer number of steps
    check_residual_noise         residual_noise(a, e, burn_in) -> std, a number
    check_leak_choice            a_choice, one leak of LEAKS
    check_cell_backward_more     lstm_cell_backward(dh, dc, i, f, g, o, c_prev, c)
                                     -> (da_i, da_f, da_g, da_o, dc_prev), other shapes
    check_memory_gradient        memory_gradient(params, x, h_prev, c_prev, dh, shift) -> (o, dc)
    check_gate_slope             slope, a number read off the sweep of dc against o

Chapter 6: the EMA c_t = a c_{t-1} + (1 - a) x_t from c_0 = 0. On a unit step
its output k steps after the change is 1 - a^(k+1); the *lag* is the first k
with c_k >= frac. The *residual noise* is the standard deviation of the EMA of
pure noise e after ``burn_in`` steps. Chapter 7: with L = sum(dh * h_t) and no
gradient from step t + 1, dL/dc_t = dh * o_t * (1 - tanh(c_t)^2), a straight line
in o_t whose slope is dh * (1 - tanh(c_t)^2).
"""

import numbers

import numpy as np

from ...cells.leaky import ema as _ema
from ...cells.leaky import step_lag as _step_lag
from ...cells.lstm import lstm_step_backward, lstm_step_forward
from ..checks.calling import call, describe, display_name, fail, refuse_package_call
from ..checks.gates import check_ema
from ..checks.gradients import NH, check_lstm_step_backward
from ..checks.report import verdict
from ..language import tr

# The leaks, lag budget and fraction of the chapter 6 exercises (the notebook states the same).
LEAKS = (0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98)
LAG_BUDGET = 10
FRAC = 0.9


def _not_done(value, name):
    if value is None or value is Ellipsis:
        fail(
            tr(
                "{name} is not computed yet: replace the ... with your code and run the cell.",
                name=name,
            )
        )


def _number(value, name):
    """``value`` as a float, or CheckFailed saying what came instead of one number."""
    _not_done(value, name)
    if isinstance(value, bool) or np.ndim(value) != 0:
        fail(tr("{name} should be one number; got {got}.", name=name, got=describe(value)))
    try:
        number = float(value)
    except (TypeError, ValueError):
        fail(tr("{name} should be one number; got {got}.", name=name, got=describe(value)))
    if not np.isfinite(number):
        fail(tr("{name} is {number}; expected a finite number.", name=name, number=number))
    return number


def check_ema_long(ema):
    """Check ``ema(x, a) -> c`` on a longer float32 series and slow leaks (hidden test)."""
    check_ema(ema, cases=((40, 0.9, 3, np.float32), (60, 0.97, 4, np.float64)))
    name = display_name(ema, "ema")
    return tr("{name}: passed on long series, slow leaks and float32.", name=name)


def check_step_lag(step_lag, leaks=(0.3, 0.5, 0.8, 0.9, 0.95), frac=FRAC):
    """Check ``step_lag(a, frac) -> lag``: the first k with 1 - a^(k+1) >= frac."""
    name = display_name(step_lag, "step_lag")
    got = []
    for a in leaks:
        value = call(step_lag, {"a": a, "frac": frac}, name=name)
        got.append(
            _number(
                value, tr("the lag that {name}({a}, {frac}) returned", name=name, a=a, frac=frac)
            )
        )
    got = np.array(got)
    expected = np.array([_step_lag(a, frac) for a in leaks])
    if np.array_equal(got, expected):
        return tr("{name}: passed.", name=name)
    k = int(np.flatnonzero(got != expected)[0])
    head = tr(
        "Your {name}({a}, {frac}) returned {got:g}; expected {expected} steps "
        "(your lags for a = {leaks}: {got_all}; expected {expected_all}).",
        name=name,
        a=leaks[k],
        frac=frac,
        got=got[k],
        expected=expected[k],
        leaks=", ".join(f"{a:g}" for a in leaks),
        got_all=", ".join(f"{v:g}" for v in got),
        expected_all=", ".join(map(str, expected)),
    )
    ratio = np.log(1 - frac) / np.log(np.array(leaks))
    causes = (
        (
            expected + 1,
            tr(
                "you counted from 1. The output at the step itself, c[0] = 1 - a, is "
                "lag 0: the lag is the index k of the first c[k] >= frac."
            ),
        ),
        (
            expected - 1,
            tr(
                "you returned the last index whose output is still below frac; the "
                "lag is the first index where the output has reached frac."
            ),
        ),
        (
            np.array([_step_lag(a, 1 - frac) for a in leaks]),
            tr(
                "these are the lags to {low:g} of the step; frac = {frac:g} means the output "
                "must reach {frac:g}.",
                low=1 - frac,
                frac=frac,
            ),
        ),
        (np.floor(ratio) - 1, tr("the formula rounds up: ceil(log(1 - frac) / log(a)) - 1.")),
        (
            np.round(1 / (1 - np.array(leaks))),
            tr(
                "this is the time constant 1 / (1 - a), not the lag: run your ema on a clean "
                "step np.ones(T) and find the first index with c >= frac."
            ),
        ),
    )
    cause = next((m for v, m in causes if np.array_equal(got, v)), None)
    if cause is None and not float(got[k]).is_integer():
        cause = tr("the lag counts steps, so it is a whole number (the formula needs ceil).")
    if cause:
        head += "\n" + tr("Likely cause: {cause}", cause=cause)
    fail(head)


def _noise_series(T, seed, dtype):
    return (0.3 * np.random.default_rng(seed).standard_normal(T)).astype(dtype)


def check_residual_noise(residual_noise, cases=((0.5, 3000, 200, 0), (0.9, 3000, 200, 1))):
    """Check ``residual_noise(a, e, burn_in) -> std``: std of ema(e, a)[burn_in:].

    ``cases`` holds (a, T, burn_in, seed); e is noise of standard deviation 0.3.
    Within 0.1 %, so that ddof=1 and a burn-in one step off pass.
    """
    name = display_name(residual_noise, "residual_noise")
    for a, T, burn_in, seed in cases:
        for dtype in (np.float64, np.float32) if seed else (np.float64,):
            e = _noise_series(T, seed, dtype)
            got = call(residual_noise, {"a": a, "e": e, "burn_in": burn_in}, name=name)
            value = _number(
                got,
                tr(
                    "the noise that {name}({a}, e, {burn_in}) returned",
                    name=name,
                    a=a,
                    burn_in=burn_in,
                ),
            )
            c = _ema(e.astype(np.float64), a)
            expected = float(c[burn_in:].std())
            if np.isclose(value, expected, rtol=1e-3, atol=0):
                continue
            head = tr(
                "Your {name}({a}, e, burn_in={burn_in}) returned {got:.5g}; expected "
                "{expected:.5g}, the standard deviation of ema(e, a) after the first "
                "{burn_in} steps.",
                name=name,
                a=a,
                burn_in=burn_in,
                got=value,
                expected=expected,
            )
            s = float(e.std())
            causes = (
                (expected**2, tr("this is the variance; the residual noise is its square root.")),
                (float(c.std()), tr("the burn-in is missing: drop the first burn_in outputs.")),
                (
                    float(_ema(e.astype(np.float64), 1 - a)[burn_in:].std()),
                    tr(
                        "a and 1 - a are swapped in the average: a multiplies the old value "
                        "{c_prev}.",
                        c_prev="c_{t-1}",
                    ),
                ),
                (s, tr("this is the noise of the input e itself; filter it with ema first.")),
                (
                    float(np.asarray(c[burn_in:]).mean()),
                    tr(
                        "this is the mean of the output; the residual noise is its standard "
                        "deviation."
                    ),
                ),
                (
                    s * np.sqrt((1 - a) / (1 + a)),
                    tr(
                        "this is the formula s * sqrt((1 - a) / (1 + a)); the task is to measure: "
                        "run your ema on e and take the std."
                    ),
                ),
                (
                    0.3 * np.sqrt((1 - a) / (1 + a)),
                    tr(
                        "this is the formula 0.3 * sqrt((1 - a) / (1 + a)); the task is to "
                        "measure: run your ema on e and take the std."
                    ),
                ),
            )
            cause = next((m for v, m in causes if np.isclose(value, v, rtol=1e-3)), None)
            if cause:
                head += "\n" + tr("Likely cause: {cause}", cause=cause)
            fail(head)
    return tr("{name}: passed.", name=name)


def check_leak_choice(a_choice, leaks=LEAKS, budget=LAG_BUDGET, frac=FRAC):
    """Check ``a_choice``: of ``leaks``, the one with least residual noise and lag <= budget.

    The residual noise falls as the leak grows, so that is the largest leak within budget.
    """
    value = _number(a_choice, "a_choice")
    lags = {a: _step_lag(a, frac) for a in leaks}
    within = [a for a in leaks if lags[a] <= budget]
    expected = max(within)
    if np.isclose(value, expected, rtol=0, atol=1e-9):
        return tr(
            "a_choice = {a:g}: lag {lag} steps, the smoothest leak within the budget of "
            "{budget} steps.",
            a=expected,
            lag=lags[expected],
            budget=budget,
        )
    match = [a for a in leaks if np.isclose(value, a, rtol=0, atol=1e-9)]
    if not match:
        fail(
            tr(
                "a_choice = {a:g} is not one of the leaks of the table, {leaks}.",
                a=value,
                leaks=list(leaks),
            )
        )
    a = match[0]
    head = tr("a_choice = {a:g} has lag {lag} steps; it is not the best choice.", a=a, lag=lags[a])
    if lags[a] > budget:
        cause = tr(
            "its lag is over the budget of {budget} steps: it is smoother, but too slow. "
            "Keep only the leaks with lag <= budget.",
            budget=budget,
        )
    elif a == min(within):
        cause = tr(
            "you chose the quickest leak. Every leak within the budget is quick enough; of "
            "those, pick the one with the least residual noise."
        )
    elif a == max(b for b in within if lags[b] < budget):
        cause = tr(
            "a lag equal to the budget is allowed (lag <= {budget}), and the leak with lag "
            "{budget} leaves less noise.",
            budget=budget,
        )
    else:
        cause = tr("within the budget, a larger leak leaves less residual noise.")
    fail(head + "\n" + tr("Likely cause: {cause}", cause=cause))


def check_cell_backward_more(lstm_cell_backward):
    """``lstm_cell_backward`` on other shapes, saturated gates and float32 (hidden test)."""
    check_lstm_step_backward(
        lstm_cell_backward, cases=((1, 7, 3.0, 5, np.float64), (4, 3, 1.0, 6, np.float32))
    )
    name = display_name(lstm_cell_backward, "lstm_cell_backward")
    return tr("{name}: passed on other shapes, saturated gates and float32.", name=name)


def gradient_inputs(N=2, D=3, H=4, seed=0):
    """A standard cell with non-zero random biases, one step's inputs and dh = 1, as a dict."""
    rng = np.random.default_rng(seed)
    params = {
        "W_x": 0.5 * rng.standard_normal((D, 4 * H)),
        "W_h": 0.5 * rng.standard_normal((H, 4 * H)),
        "b": rng.uniform(-1.0, 1.0, 4 * H),
    }
    return {
        "params": params,
        "x": rng.standard_normal((N, D)),
        "h_prev": 0.5 * rng.standard_normal((N, H)),
        "c_prev": rng.standard_normal((N, H)),
        "dh": np.ones((N, H)),
    }


def _gate_and_memory_gradient(params, x, h_prev, c_prev, dh, shifts):
    """(o, dc) of one step for a shift of each bias block given in ``shifts`` (4H,)."""
    shifted = dict(params, b=params["b"] + shifts)
    _, c, cache = lstm_step_forward(x, h_prev, c_prev, shifted)
    _, _, dc_prev, _ = lstm_step_backward(dh, np.zeros_like(dh), cache)
    return cache.o, dc_prev / cache.f, dc_prev, c


def check_memory_gradient(memory_gradient, N=2, D=3, H=4, seed=0, shift=1.5):
    """Check ``memory_gradient(params, x, h_prev, c_prev, dh, shift) -> (o, dc)``.

    The output gate's bias block b[3H:4H] is shifted by ``shift``; one step runs
    forward; o (N, H) is its output gate and dc (N, H) is dL/dc_t for
    L = sum(dh * h_t) with no gradient from step t + 1: dh * o * (1 - tanh(c_t)**2).
    """
    name = display_name(memory_gradient, "memory_gradient")
    # One forward step of the package is allowed; its backward is what the check uses.
    refuse_package_call(memory_gradient, ("lstm_step_backward", "lstm_backward"), name,
                        allowed=("lstm_step_forward",))  # fmt: skip
    args = gradient_inputs(N, D, H, seed)
    dh_all = args["dh"]
    b_before = args["params"]["b"].copy()
    got = call(memory_gradient, {**args, "shift": shift}, name=name)
    if not np.array_equal(args["params"]["b"], b_before):
        fail(
            tr(
                "Your {name} changed params['b'] in place, so every later call starts from a "
                "shifted bias. Shift a copy: b = params['b'].copy(), or params['b'] + shifts.",
                name=name,
            )
        )

    def block(k, s):
        shifts = np.zeros(4 * H)
        shifts[k * H : (k + 1) * H] = s
        return shifts

    inputs = [args[k] for k in ("params", "x", "h_prev", "c_prev", "dh")]
    o, dc, dc_prev, c = _gate_and_memory_gradient(*inputs, block(3, shift))

    def mistakes():
        tc = np.tanh(c)
        found = {
            tr(
                "dc is dL/d{c_prev}, the gradient of the old memory, which carries the extra "
                "factor f. The memory of this step is c_t: dc = dh * o * (1 - tanh(c_t)**2), or "
                "dc_prev / f.",
                c_prev="c_{t-1}",
            ): (o, dc_prev),
            tr(
                "dc misses the factor o: the gradient through h = o * tanh(c) is "
                "dh * o * (1 - tanh(c)**2)."
            ): (o, dh_all * (1 - tc**2)),
            tr("tanh's derivative is 1 - tanh(c)**2, not 1 - c**2."): (
                o,
                dh_all * o * (1 - c**2),
            ),
            tr("this dc is dL/do = dh * tanh(c), the gradient of the gate, not of the memory."): (
                o,
                dh_all * tc,
            ),
            tr(
                "the shift did not reach the gate: add it to the output gate's block b[3H:4H] of "
                "a copy of b."
            ): _gate_and_memory_gradient(*inputs, block(3, 0.0))[:2],
            tr("the shift has the wrong sign: b_o + shift, not b_o - shift."): (
                _gate_and_memory_gradient(*inputs, block(3, -shift))[:2]
            ),
            tr("you shifted every block of b; shift only the output gate's, b[3H:4H]."): (
                _gate_and_memory_gradient(*inputs, np.full(4 * H, shift))[:2]
            ),
        }
        for k, gate in enumerate("ifg"):
            found[
                tr(
                    "you shifted block {gate}, b[{start}H:{stop}H]; in the order i, f, g, o the "
                    "output gate is the last block, b[3H:4H].",
                    gate=gate,
                    start=k,
                    stop=k + 1,
                )
            ] = _gate_and_memory_gradient(*inputs, block(k, shift))[:2]
        return found

    verdict(
        name,
        got,
        (o, dc),
        ("o", "dc"),
        letters=NH,
        candidates=mistakes,
        recipe="o from one forward step with b[3H:4H] + shift, and "
        "dc = dh * o * (1 - tanh(c_t)**2).",
    )
    return tr("{name}: passed.", name=name)


def check_gate_slope(slope, params, x, h_prev, c_prev, dh, n=0, unit=2):
    """Check ``slope``: d(dc)/d(o) of sequence ``n``, unit ``unit``, dh * (1 - tanh(c_t)**2)."""
    value = _number(slope, "slope")
    for k, v in (("params", params), ("x", x), ("h_prev", h_prev), ("c_prev", c_prev), ("dh", dh)):
        _not_done(v, k)
    _, c, cache = lstm_step_forward(x, h_prev, c_prev, params)
    slopes = dh * (1 - np.tanh(c) ** 2)  # (N, H): every unit's slope
    expected = float(slopes[n, unit])
    if np.isclose(value, expected, rtol=1e-6, atol=1e-9):
        return tr(
            "slope = {slope:.4f} = dh * (1 - tanh(c_t)**2): the gradient into the memory is "
            "proportional to o_t.",
            slope=value,
        )
    head = tr(
        "slope = {slope:.6g} is not the slope of dc against o for sequence {n}, unit {unit}.",
        slope=value,
        n=n,
        unit=unit,
    )
    causes = [
        (
            1 / expected,
            tr("this is o against dc; the slope is dc divided by o (dc on the y axis)."),
        ),
        (
            expected * float(cache.f[n, unit]),
            tr(
                "this is the slope of dc_prev, which carries the factor f; measure the gradient "
                "of c_t itself."
            ),
        ),
        (
            float(dh[n, unit] * (1 - c[n, unit] ** 2)),
            tr("tanh's derivative is 1 - tanh(c)**2, not 1 - c**2."),
        ),
        (-expected, tr("the sign is wrong: dc grows with o here.")),
    ]
    for (m, k), other in np.ndenumerate(slopes):
        if (m, k) != (n, unit):
            causes.append(
                (
                    float(other),
                    tr(
                        "this is the slope of sequence {m}, unit {k}; read sequence {n}, unit "
                        "{unit}: o_s[:, {n}, {unit}].",
                        m=m,
                        k=k,
                        n=n,
                        unit=unit,
                    ),
                )
            )
    cause = next((msg for v, msg in causes if np.isclose(value, v, rtol=1e-6, atol=1e-9)), None)
    if cause is None and isinstance(slope, numbers.Number):
        cause = tr(
            "fit a line through the origin to the points (o, dc) of that unit: "
            "slope = sum(o * dc) / sum(o * o)."
        )
    if cause:
        head += "\n" + tr("Likely cause: {cause}", cause=cause)
    fail(head)
