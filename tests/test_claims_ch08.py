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
    """C15: with f = 1 exactly, dc_T/dc_0 = 1 over 1000 steps; a sigmoid gate cannot do that."""
    hard = hs.carousel_gradient("hard_sigmoid", forget_bias=3.0, T=1000)
    np.testing.assert_array_equal(hard, 1.0)
    soft = hs.carousel_gradient("sigmoid", forget_bias=3.0, T=1000)
    np.testing.assert_allclose(soft, sigmoid(np.array(3.0)) ** 1000, rtol=1e-9)
    assert np.all(soft < 1e-15)
    # Even a very open sigmoid gate (bias 10) leaks over 1000 steps in float64.
    assert np.all(hs.carousel_gradient("sigmoid", forget_bias=10.0, T=1000) < 0.96)


def test_c15_hard_gate_just_below_saturation_leaks():
    """C15: the carousel is exact only in saturation: f = 0.98 leaves 0.98^1000 after 1000 steps."""
    g = hs.carousel_gradient("hard_sigmoid", forget_bias=2.4, T=1000)
    np.testing.assert_allclose(g, 0.98**1000, rtol=1e-9)


def test_c15_float32_sigmoid_rounds_to_exactly_one():
    """C15: a float32 sigmoid is exactly 1.0 past a threshold that depends on the computation."""
    direct = hs.one_threshold(np.float32)
    via64 = hs.one_threshold(np.float32, via=np.float64)
    ways = {direct: lambda x: sigmoid(x), via64: lambda x: sigmoid(x.astype(np.float64))}
    for t, sig in ways.items():
        x = np.array(t, dtype=np.float32)
        assert sig(x).astype(np.float32) == 1.0
        assert sig(np.nextafter(x, np.float32(0))).astype(np.float32) < 1.0
    assert 10 < direct < via64 < 25  # the two ways differ; float64 rounding is later
    assert hs.one_threshold(np.float64) > 30
    # A float32 sigmoid gate past the threshold is an exact carousel too.
    g32 = hs.carousel_gradient("sigmoid", forget_bias=direct + 1, T=1000, dtype=np.float32)
    np.testing.assert_array_equal(g32, 1.0)


def test_c15_saturated_hard_gate_gets_no_gradient():
    """C15: a saturated hard gate's own bias gets exactly zero gradient; a sigmoid's does not."""
    biases = [1.0, 2.5, 3.0, 5.0]
    hard = hs.gate_gradient("hard_sigmoid", biases)
    soft = hs.gate_gradient("sigmoid", biases)
    assert hard[0] > 0.1  # inside the linear part it learns
    np.testing.assert_array_equal(hard[1:], 0.0)
    assert np.all(soft > 0.01)
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


def test_c15_activation_cost_returns_positive_times():
    """C15 "cheaper" is machine-dependent: the chapter reports the ratio; here only the shape."""
    cost = hs.activation_cost(n=1000, repeats=3)
    assert set(lib for lib, _ in cost) == {"NumPy", "torch"}
    assert all(t > 0 for t in cost.values())


def test_one_threshold_rejects_a_bracket_without_the_threshold():
    with pytest.raises(ValueError, match="expected sigmoid < 1"):
        hs.one_threshold(np.float32, lo=0.0, hi=5.0)
