"""Claim C15 of chapter 8 (hard-sigmoid gates), and the input checks of its experiments."""

import numpy as np
import pytest

from lstm_lessons import hard_sigmoid, sigmoid
from lstm_lessons.cells.activations import hard_sigmoid_grad
from lstm_lessons.experiments import hard_sigmoid as hs


def test_c15_hard_sigmoid_reaches_exactly_0_and_1():
    """C15: the hard sigmoid is exactly 0 and 1 past +-2.5; the sigmoid only approaches them."""
    x = np.array([-100.0, -2.5, 2.5, 100.0])
    np.testing.assert_array_equal(hard_sigmoid(x), [0.0, 0.0, 1.0, 1.0])
    assert hs.saturation_point(0.2) == 2.5
    assert 0 < sigmoid(np.array(-30.0)) and sigmoid(np.array(30.0)) < 1


def test_c15_exact_carousel_passes_gradient_unchanged_over_1000_steps():
    """C15: with f = 1 exactly, dc_T/dc_0 = 1 over 1000 steps; a sigmoid gate cannot do that.

    The chapter prints 7.9e-22 (bias 3), 0.9556 (bias 10) and 0.9999979 (bias 20) for the
    sigmoid gate in float64: each is sigmoid(b)^1000, pinned here to its printed digits.
    """
    hard = hs.carousel_gradient("hard_sigmoid", forget_bias=3.0, T=1000)
    np.testing.assert_array_equal(hard, 1.0)
    printed = {3.0: ("7.9e-22", ".1e"), 10.0: ("0.9556", ".4f"), 20.0: ("0.9999979", ".7f")}
    for bias, (text, fmt) in printed.items():
        soft = hs.carousel_gradient("sigmoid", forget_bias=bias, T=1000)
        np.testing.assert_allclose(soft, sigmoid(np.array(bias)) ** 1000, rtol=1e-9)
        assert format(soft[0], fmt) == text, (bias, soft[0])


def test_c15_hard_gate_just_below_saturation_leaks():
    """C15: the carousel is exact only in saturation: f = 0.98 leaves 0.98^1000 after 1000 steps."""
    g = hs.carousel_gradient("hard_sigmoid", forget_bias=2.4, T=1000)
    np.testing.assert_allclose(g, 0.98**1000, rtol=1e-9)
    assert f"{g[0]:.1e}" == "1.7e-09"  # as printed


@pytest.mark.parametrize(
    "dtype, via, bits, printed",
    [
        (np.float32, None, 24, "16.6355"),  # 1 + e^-a rounds to 1: e^-a <= 2^-24
        (np.float32, np.float64, 25, "17.3287"),  # only the final rounding: e^-a <= 2^-25
        (np.float64, None, 53, "36.7368"),
    ],
)
def test_c15_sigmoid_rounds_to_one_where_the_float_format_predicts(dtype, via, bits, printed):
    """C15: the measured threshold is the first number of dtype at or above bits * ln 2.

    The chapter's table prints the measured thresholds with 6 digits; they are exact
    consequences of the format, so they are pinned to the digit.
    """
    predicted = hs.rounding_threshold(dtype, via=via)
    assert predicted == bits * np.log(2.0)
    measured = hs.one_threshold(dtype, via=via)
    assert 0 <= measured - predicted <= np.spacing(dtype(measured))
    assert f"{measured:.6g}" == printed
    compute = np.dtype(dtype if via is None else via).type
    x = dtype(measured)
    assert sigmoid(np.array(x).astype(compute)).astype(dtype) == 1.0
    assert sigmoid(np.array(np.nextafter(x, dtype(0))).astype(compute)).astype(dtype) < 1.0


def test_c15_the_two_float32_mechanisms_differ():
    """C15: in float32 the sum 1 + e^-a is what rounds; via float64 only the result rounds."""
    direct = np.float32(hs.one_threshold(np.float32))
    via64 = np.float32(hs.one_threshold(np.float32, via=np.float64))
    e = np.exp(-direct)  # float32
    assert np.float32(1) + e == 1 and e <= np.float32(2.0**-24)
    below = np.nextafter(direct, np.float32(0))
    assert np.float32(1) + np.exp(-below) > 1
    # At the float32 threshold the float64 sigmoid still rounds below 1 ...
    assert np.float32(sigmoid(np.float64(direct))) < 1
    # ... and it reaches 1 where 1 - e^-a is within half the gap below 1 (2^-25).
    assert np.exp(-np.float64(via64)) <= 2.0**-25 < np.exp(-np.float64(np.nextafter(via64, 0)))
    # A float32 sigmoid gate past the threshold is an exact carousel too.
    g32 = hs.carousel_gradient("sigmoid", forget_bias=float(direct), T=1000, dtype=np.float32)
    np.testing.assert_array_equal(g32, 1.0)


def test_c15_hard_sigmoid_threshold_moves_only_by_the_last_number():
    """C15: the hard sigmoid is 1 from (1 - b) / s = 2.5, up to one representable number.

    The chapter prints 2.4999998 (float32) and 2.4999999999999996 (float64): the number
    just below 2.5 in each, where 0.2 a + 0.5 rounds to 1.
    """
    t32 = hs.one_threshold(np.float32, fn=hard_sigmoid, hi=10.0)
    t64 = hs.one_threshold(np.float64, fn=hard_sigmoid, hi=10.0)
    assert t32 == np.nextafter(np.float32(2.5), np.float32(0)) and f"{t32:.8g}" == "2.4999998"
    assert t64 == np.nextafter(2.5, 0.0) and f"{t64:.17g}" == "2.4999999999999996"
    ramp = np.float32(0.2) * np.float32(t32)
    assert 0.5 - float(ramp) == 2.0**-25 and np.float32(0.5) + ramp == 1.0
    assert hs.one_threshold(np.float16, fn=hard_sigmoid, hi=10.0) == 2.5


def test_rounding_threshold_rejects_a_narrower_via():
    with pytest.raises(ValueError, match="expected via wider than float32"):
        hs.rounding_threshold(np.float32, via=np.float16)


def test_c15_saturated_hard_gate_gets_no_gradient():
    """C15: a saturated hard gate's own bias gets exactly zero gradient; a sigmoid's does not.

    The chapter prints |dL/db_f| = 0.075 for the sigmoid gate at b_f = 5 and a largest
    hard-gate gradient of 3 on its grid of biases (both deterministic, pinned to their digits).
    """
    biases = np.linspace(-1, 8, 46)
    hard = hs.gate_gradient("hard_sigmoid", biases)
    soft = hs.gate_gradient("sigmoid", biases)
    np.testing.assert_array_equal(hard[biases >= 2.5], 0.0)
    assert np.all(hard[(biases > -2.5) & (biases < 2.5)] > 0)  # inside the ramp it learns
    assert np.all(soft > 0)
    assert f"{soft[np.argmin(np.abs(biases - 5))]:.2g}" == "0.075"
    assert f"{hard.max():.2g}" == "3"
    y = hard_sigmoid(np.array([-3.0, 0.3, 3.0]))
    np.testing.assert_array_equal(hard_sigmoid_grad(y), [0.0, 0.2, 0.0])


def test_c15_definitions_differ_between_libraries():
    """C15: the package's hard sigmoid is Theano's/Keras 2's, not PyTorch's x/6 + 1/2."""
    x = np.array([-3.0, -1.0, 0.0, 1.0, 2.0, 3.0])
    ys = hs.definitions(x)
    np.testing.assert_allclose(ys["lstm_lessons, Theano, Keras 2"], hard_sigmoid(x))
    np.testing.assert_allclose(ys["PyTorch nn.Hardsigmoid, Keras 3"], np.clip(x / 6 + 0.5, 0, 1))
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(
        torch.nn.Hardsigmoid()(torch.from_numpy(x)).numpy(), ys["PyTorch nn.Hardsigmoid, Keras 3"]
    )


def test_c15_the_hard_sigmoid_needs_no_exponential(monkeypatch):
    """C15 "cheaper", by its cause: the sigmoid calls exp and a reciprocal, the hard sigmoid not.

    The chapter's timings depend on the machine and are not tested; what is tested is the
    work each function does: the NumPy calls of each, counted through the module's ``np``.
    """
    from lstm_lessons.cells import activations

    calls = []

    class CountingNumpy:
        def __getattr__(self, name):
            attr = getattr(np, name)
            if callable(attr) and not isinstance(attr, type):

                def counted(*args, **kwargs):
                    calls.append(name)
                    return attr(*args, **kwargs)

                return counted
            return attr

    monkeypatch.setattr(activations, "np", CountingNumpy())
    x = np.linspace(-6, 6, 13, dtype=np.float32)
    activations.sigmoid(x)
    sigmoid_calls, calls[:] = list(calls), []
    activations.hard_sigmoid(x)
    assert {"exp", "reciprocal"} <= set(sigmoid_calls)
    assert {"exp", "reciprocal", "divide", "true_divide"}.isdisjoint(calls)
    assert {"multiply", "clip"} <= set(calls)


def test_c15_activation_cost_times_every_function_it_names():
    """activation_cost returns a median time for each of the five functions the chapter shows."""
    cost = hs.activation_cost(n=1000, repeats=3)
    assert list(cost) == [
        ("NumPy", "sigmoid"),
        ("NumPy", "hard sigmoid"),
        ("torch", "sigmoid"),
        ("torch", "hard sigmoid (clamp)"),
        ("torch", "F.hardsigmoid"),
    ]
    assert all(np.isfinite(t) and t > 0 for t in cost.values())


def test_one_threshold_rejects_a_bracket_without_the_threshold():
    with pytest.raises(ValueError, match="expected sigmoid < 1"):
        hs.one_threshold(np.float32, lo=0.0, hi=5.0)
