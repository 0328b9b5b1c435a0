"""The stable sigmoid, the hard sigmoid and their derivatives."""

import warnings

import numpy as np
import pytest
import torch

import lstm_lessons as ll
from lstm_lessons.cells.activations import ACTIVATIONS, get_activation


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_and_correct_up_to_1e4(dtype):
    x = np.sort(np.concatenate([-np.logspace(-3, 4, 200), [0.0], np.logspace(-3, 4, 200)])).astype(
        dtype
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would raise here
        y = ll.sigmoid(x)
    assert y.dtype == dtype
    ref = torch.sigmoid(torch.from_numpy(x.astype(np.float64))).numpy()
    tiny = np.finfo(dtype).tiny
    # Relative accuracy wherever the true value is representable, even deep in the left tail.
    ok = ref > 100 * tiny
    rel = np.abs(y[ok].astype(np.float64) - ref[ok]) / ref[ok]
    assert rel.max() < 4 * np.finfo(dtype).eps
    assert np.all((y >= 0) & (y <= 1))
    # Below the smallest normal number, within one `tiny` of the exact value.
    assert np.all(np.abs(y[~ok].astype(np.float64) - ref[~ok]) <= tiny)
    assert y[-1] == 1.0 and y[0] <= tiny
    assert np.all(np.diff(y.astype(np.float64)) >= 0)  # monotone


def test_sigmoid_left_tail_is_not_flushed_to_zero():
    # 1 / (1 + exp(50)) = 1.9e-22: a tanh-based formula would return 0 here.
    assert ll.sigmoid(np.array(-50.0)) == pytest.approx(1.9287498479639178e-22, rel=1e-14)


def test_hard_sigmoid_reaches_exactly_zero_and_one():
    x = np.array([-10.0, -2.5, 0.0, 1.0, 2.5, 10.0])
    np.testing.assert_array_equal(ll.hard_sigmoid(x), [0.0, 0.0, 0.5, 0.7, 1.0, 1.0])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivatives_match_finite_differences(name):
    act = get_activation(name)
    x = np.linspace(-4.0, 4.0, 81) + 0.0123  # off the hard sigmoid's kinks at +-2.5
    numeric = ll.numerical_gradient(act.fn, x, np.ones_like(x))
    analytic = act.grad(act.fn(x))
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=1e-8)


def test_sigmoid_accepts_integers_and_returns_floats():
    y = ll.sigmoid(np.array([0, 1, -2]))
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-np.array([0.0, 1.0, -2.0]))), rtol=1e-15)
