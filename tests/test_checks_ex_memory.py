"""The checks of the chapter 6 and 7 exercise sets: right answers pass, mistakes are named."""

import numpy as np
import pytest

from lstm_lessons import lstm_step_backward, lstm_step_forward
from lstm_lessons.homework.checks import CheckFailed
from lstm_lessons.homework.sets.memory import (
    check_cell_backward_more,
    check_ema_long,
    check_gate_slope,
    check_leak_choice,
    check_memory_gradient,
    check_residual_noise,
    check_step_lag,
    gradient_inputs,
)


def ema(x, a):
    c = np.empty_like(x)
    c_prev = 0.0
    for t in range(len(x)):
        c_prev = a * c_prev + (1 - a) * x[t]
        c[t] = c_prev
    return c


def ema_float64(x, a):
    return ema(np.asarray(x, dtype=np.float64), a)


def ema_swapped(x, a):
    return ema(x, 1 - a)


def step_lag(a, frac):
    return int(np.flatnonzero(ema(np.ones(1000), a) >= frac)[0])


def step_lag_formula(a, frac):
    return int(np.ceil(np.log(1 - frac) / np.log(a)) - 1)


def step_lag_from_one(a, frac):
    return step_lag(a, frac) + 1


def step_lag_time_constant(a, frac):
    return round(1 / (1 - a))


def residual_noise(a, e, burn_in):
    return float(ema(e, a)[burn_in:].std())


def residual_noise_ddof1(a, e, burn_in):
    return float(np.std(ema(e, a)[burn_in:], ddof=1))


def residual_noise_variance(a, e, burn_in):
    return float(ema(e, a)[burn_in:].var())


def residual_noise_no_burn_in(a, e, burn_in):
    return float(ema(e, a).std())


def residual_noise_formula(a, e, burn_in):
    return float(e.std() * np.sqrt((1 - a) / (1 + a)))


def cell_backward(dh, dc, i, f, g, o, c_prev, c):
    tc = np.tanh(c)
    d_c = dc + dh * o * (1 - tc**2)
    return (
        d_c * g * i * (1 - i),
        d_c * c_prev * f * (1 - f),
        d_c * i * (1 - g**2),
        dh * tc * o * (1 - o),
        d_c * f,
    )


def cell_backward_loops(dh, dc, i, f, g, o, c_prev, c):
    """The same, entry by entry, so that nothing relies on broadcasting."""
    out = [np.empty_like(dh) for _ in range(5)]
    for (n, k), _ in np.ndenumerate(dh):
        tc = np.tanh(c[n, k])
        d_c = dc[n, k] + dh[n, k] * o[n, k] * (1 - tc * tc)
        out[0][n, k] = d_c * g[n, k] * i[n, k] * (1 - i[n, k])
        out[1][n, k] = d_c * c_prev[n, k] * f[n, k] * (1 - f[n, k])
        out[2][n, k] = d_c * i[n, k] * (1 - g[n, k] ** 2)
        out[3][n, k] = dh[n, k] * tc * o[n, k] * (1 - o[n, k])
        out[4][n, k] = d_c * f[n, k]
    return tuple(out)


def cell_backward_float64(dh, dc, i, f, g, o, c_prev, c):
    args = (dh, dc, i, f, g, o, c_prev, c)
    return cell_backward(*(np.asarray(v, dtype=np.float64) for v in args))


def cell_backward_no_h_path(dh, dc, i, f, g, o, c_prev, c):
    return cell_backward(np.zeros_like(dh), dc, i, f, g, o, c_prev, c)[:3] + (
        dh * np.tanh(c) * o * (1 - o),
        dc * f,
    )


def memory_gradient(params, x, h_prev, c_prev, dh, shift):
    H = h_prev.shape[1]
    b = params["b"].copy()
    b[3 * H :] += shift
    _, c, cache = lstm_step_forward(x, h_prev, c_prev, {**params, "b": b})
    return cache.o, dh * cache.o * (1 - np.tanh(c) ** 2)


def memory_gradient_via_backward(params, x, h_prev, c_prev, dh, shift):
    """dc from the package's backward pass, which the task forbids (the check's reference)."""
    H = h_prev.shape[1]
    b = params["b"] + shift * (np.arange(4 * H) >= 3 * H)
    _, _, cache = lstm_step_forward(x, h_prev, c_prev, dict(params, b=b))
    _, _, dc_prev, _ = lstm_step_backward(dh, np.zeros_like(dh), cache)
    return cache.o, dc_prev / cache.f


def memory_gradient_dc_prev(params, x, h_prev, c_prev, dh, shift):
    o, dc = memory_gradient(params, x, h_prev, c_prev, dh, shift)
    H = h_prev.shape[1]
    b = params["b"].copy()
    b[3 * H :] += shift
    f = lstm_step_forward(x, h_prev, c_prev, {**params, "b": b})[2].f
    return o, dc * f


def memory_gradient_block_i(params, x, h_prev, c_prev, dh, shift):
    H = h_prev.shape[1]
    b = params["b"].copy()
    b[:H] += shift
    _, c, cache = lstm_step_forward(x, h_prev, c_prev, {**params, "b": b})
    return cache.o, dh * cache.o * (1 - np.tanh(c) ** 2)


def memory_gradient_in_place(params, x, h_prev, c_prev, dh, shift):
    H = h_prev.shape[1]
    params["b"][3 * H :] += shift
    _, c, cache = lstm_step_forward(x, h_prev, c_prev, params)
    return cache.o, dh * cache.o * (1 - np.tanh(c) ** 2)


def memory_gradient_no_o(params, x, h_prev, c_prev, dh, shift):
    o, dc = memory_gradient(params, x, h_prev, c_prev, dh, shift)
    return o, dc / o


@pytest.mark.parametrize(
    "check, fn",
    [
        (check_ema_long, ema),
        (check_step_lag, step_lag),
        (check_step_lag, step_lag_formula),
        (check_residual_noise, residual_noise),
        (check_residual_noise, residual_noise_ddof1),
        (check_cell_backward_more, cell_backward),
        (check_cell_backward_more, cell_backward_loops),
        (check_memory_gradient, memory_gradient),
    ],
)
def test_correct_answers_pass(check, fn):
    assert "passed" in check(fn)


def test_hidden_variants_pass_for_correct_answers():
    assert "passed" in check_step_lag(step_lag, leaks=(0.6, 0.85, 0.97, 0.99), frac=0.5)
    cases = ((0.9, 4000, 300, 1), (0.98, 3000, 1000, 2))
    assert "passed" in check_residual_noise(residual_noise, cases=cases)
    assert "passed" in check_memory_gradient(memory_gradient, N=1, D=2, H=3, seed=4, shift=-3.0)
    assert "passed" in check_memory_gradient(memory_gradient, N=4, D=5, H=2, seed=5, shift=8.0)


def test_the_package_backward_pass_is_refused():
    """dc from the package's backward pass is what the check compares with: refused."""
    with pytest.raises(CheckFailed, match="calls the package's `lstm_step_backward`"):
        check_memory_gradient(memory_gradient_via_backward)


@pytest.mark.parametrize(
    "check, fn, words",
    [
        (check_ema_long, ema_float64, "dtype float64; expected float32"),
        (check_ema_long, ema_swapped, "a and 1 - a are swapped"),
        (check_step_lag, step_lag_from_one, "you counted from 1"),
        (check_step_lag, step_lag_time_constant, "time constant"),
        (check_residual_noise, residual_noise_variance, "this is the variance"),
        (check_residual_noise, residual_noise_no_burn_in, "the burn-in is missing"),
        (check_residual_noise, residual_noise_formula, "the task is to measure"),
        (check_cell_backward_more, cell_backward_float64, "expected float32"),
        (check_cell_backward_more, cell_backward_no_h_path, "the path through h is missing"),
        (check_memory_gradient, memory_gradient_dc_prev, "dL/dc_{t-1}"),
        (check_memory_gradient, memory_gradient_block_i, "you shifted block i"),
        (check_memory_gradient, memory_gradient_in_place, "changed params['b'] in place"),
        (check_memory_gradient, memory_gradient_no_o, "dc misses the factor o"),
    ],
)
def test_each_mistake_is_rejected_with_its_diagnosis(check, fn, words):
    with pytest.raises(CheckFailed) as info:
        check(fn)
    assert words in str(info.value), str(info.value)
    assert "Traceback" not in str(info.value)


def test_stubs_say_not_done_yet():
    def stub(*args): ...

    for check in (check_ema_long, check_step_lag, check_residual_noise, check_memory_gradient):
        with pytest.raises(CheckFailed, match="None|not computed yet|not done yet"):
            check(stub)
    with pytest.raises(CheckFailed, match="not computed yet"):
        check_leak_choice(...)


def test_leak_choice_is_the_smoothest_leak_within_the_budget():
    assert "0.8" in check_leak_choice(0.8)
    for choice, words in [
        (0.3, "the quickest leak"),
        (0.75, "equal to the budget is allowed"),
        (0.9, "over the budget"),
        (0.98, "over the budget"),
        (0.81, "not one of the leaks"),
        (np.array([0.8, 0.9]), "one number"),
    ]:
        with pytest.raises(CheckFailed) as info:
            check_leak_choice(choice)
        assert words in str(info.value), (choice, str(info.value))


def test_gate_slope_is_dh_times_tanh_slope_and_mistakes_are_named():
    args = gradient_inputs(N=2, D=3, H=4, seed=0)
    inputs = [args[k] for k in ("params", "x", "h_prev", "c_prev", "dh")]
    _, c, cache = lstm_step_forward(*inputs[1:4], inputs[0])
    slopes = 1 - np.tanh(c) ** 2
    o = np.linspace(0.01, 0.99, 9)  # a fitted line through the origin, as the notebook does
    dc = slopes[0, 2] * o
    assert "passed" not in check_gate_slope(float(o @ dc / (o @ o)), *inputs)  # no word "passed"
    for value, words in [
        (1 / slopes[0, 2], "this is o against dc"),
        (slopes[0, 2] * cache.f[0, 2], "dc_prev"),
        (1 - c[0, 2] ** 2, "not 1 - c**2"),
        (slopes[1, 3], "sequence 1, unit 3"),
        (slopes, "one number"),
        (None, "not computed yet"),
    ]:
        with pytest.raises(CheckFailed) as info:
            check_gate_slope(value, *inputs)
        assert words in str(info.value), (value, str(info.value))
