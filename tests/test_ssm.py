"""The selective state-space layer: hand-written backward against centred differences and
autograd, the torch module equal to the NumPy cell, its errors; parity by hand."""

import numpy as np
import pytest
import torch

from lstm_lessons.cells.gradcheck import gradient_check
from lstm_lessons.cells.parity import (
    linear_unit,
    parity,
    parity_by_hand,
    threshold_accuracy,
)
from lstm_lessons.cells.ssm import (
    SSM_PARAMS,
    init_ssm_params,
    ssm_backward,
    ssm_forward,
    transition,
)
from lstm_lessons.pytorch.ssm import SelectiveSSM, selective_ssm

FD_TOL = 1e-7
AUTOGRAD_TOL = 1e-10
CASES = [(seed, negative) for seed in (0, 1, 2) for negative in (False, True)]


def _setup(seed, negative):
    """Random sizes, parameters with non-zero random biases and A, a random h0 and upstream dys."""
    rng = np.random.default_rng(seed)
    T, N, D, H, S = (int(v) for v in rng.integers((2, 1, 1, 1, 1), (7, 4, 5, 4, 4)))
    params = init_ssm_params(D, H, S, seed=seed + 10)
    params = {k: v + rng.normal(0.0, 0.3, v.shape) for k, v in params.items()}
    x = rng.normal(size=(T, N, D))
    h0 = rng.normal(size=(N, H, S))
    dys = rng.normal(size=(T, N, H))
    return x, h0, params, dys


@pytest.mark.parametrize(("seed", "negative"), CASES)
def test_backward_equals_centred_differences(seed, negative):
    x, h0, params, dys = _setup(seed, negative)
    _, cache = ssm_forward(x, h0, params, negative)
    dx, dh0, grads = ssm_backward(dys, cache)
    assert gradient_check(lambda z: ssm_forward(z, h0, params, negative)[0], x, dx, dys) < FD_TOL
    assert gradient_check(lambda z: ssm_forward(x, z, params, negative)[0], h0, dh0, dys) < FD_TOL
    for name in SSM_PARAMS:
        def f(z, name=name):
            return ssm_forward(x, h0, {**params, name: z}, negative)[0]

        err = gradient_check(f, params[name], grads[name], dys)
        assert err < FD_TOL, f"{name}: relative error {err:.2e}"


@pytest.mark.parametrize(("seed", "negative"), CASES)
def test_backward_and_forward_equal_autograd(seed, negative):
    x, h0, params, dys = _setup(seed, negative)
    ys, cache = ssm_forward(x, h0, params, negative)
    dx, dh0, grads = ssm_backward(dys, cache)
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    yt, _, at = selective_ssm(xt, tp, negative, h0t)
    (yt * torch.from_numpy(dys)).sum().backward()
    np.testing.assert_allclose(yt.detach().numpy(), ys, rtol=0, atol=1e-12)
    np.testing.assert_allclose(at.detach().numpy(), cache.a, rtol=0, atol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), dx, rtol=0, atol=AUTOGRAD_TOL)
    np.testing.assert_allclose(h0t.grad.numpy(), dh0, rtol=0, atol=AUTOGRAD_TOL)
    for name in SSM_PARAMS:
        np.testing.assert_allclose(tp[name].grad.numpy(), grads[name], rtol=0,
                                   atol=AUTOGRAD_TOL, err_msg=name)


@pytest.mark.parametrize("negative", [False, True])
def test_module_equals_numpy_cell_in_float64(negative):
    layer = SelectiveSSM(3, 5, state_size=2, negative=negative)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.2 * torch.randn_like(p))
    x = np.random.default_rng(4).normal(size=(9, 2, 3))
    ys, h = layer(torch.tensor(x))
    assert ys.dtype == torch.float64 and ys.shape == (9, 2, 5) and h.shape == (2, 5, 2)
    expected, cache = ssm_forward(x, np.zeros((2, 5, 2)), layer.numpy_params(), negative)
    np.testing.assert_allclose(ys.detach().numpy(), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h.detach().numpy(), cache.h[-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.transitions(torch.tensor(x)).detach().numpy(), cache.a,
                               rtol=0, atol=1e-12)
    assert layer(torch.tensor(x, dtype=torch.float32))[0].dtype == torch.float32


def test_transitions_lie_in_their_ranges():
    dt = np.array([0.0, 1e-3, 1.0, 50.0])
    A = -np.array([[0.5, 2.0]])
    a = transition(dt[:, None], A)[:, 0]  # (4, 2)
    assert np.all((a > 0) & (a <= 1)) and a[0].tolist() == [1.0, 1.0]
    neg = transition(dt[:, None], A, negative=True)[:, 0]
    assert np.all((neg >= -1) & (neg <= 1)) and neg[-1, 1] == pytest.approx(-1.0, abs=1e-12)
    layer = SelectiveSSM(2, 3, negative=True)
    with torch.no_grad():
        layer.b_dt.fill_(30.0)  # a huge step: every transition near -1
    a = layer.transitions(torch.ones(4, 2, 2))
    assert float(a.max()) < -0.999


def test_errors_say_what_was_expected():
    params = init_ssm_params(2, 3, 2)
    with pytest.raises(ValueError, match=r"h0: expected shape \(4, 3, 2\)"):
        ssm_forward(np.zeros((5, 4, 2)), np.zeros((1, 3, 2)), params)
    with pytest.raises(ValueError, match=r"x: expected a 3-D array"):
        ssm_forward(np.zeros((4, 2)), np.zeros((4, 3, 2)), params)
    with pytest.raises(ValueError, match=r"params: expected keys"):
        ssm_forward(np.zeros((5, 4, 2)), np.zeros((4, 3, 2)), {**params, "extra": params["b_u"]})
    with pytest.raises(TypeError, match="negative: expected a bool"):
        ssm_forward(np.zeros((5, 4, 2)), np.zeros((4, 3, 2)), params, negative="yes")
    _, cache = ssm_forward(np.zeros((5, 4, 2)), np.zeros((4, 3, 2)), params)
    with pytest.raises(ValueError, match=r"dys: expected shape \(5, 4, 3\)"):
        ssm_backward(np.zeros((5, 4, 2)), cache)
    with pytest.raises(ValueError, match="S: expected a positive integer, got 0"):
        init_ssm_params(2, 3, 0)
    with pytest.raises(ValueError, match=r"x: expected shape \(T, N, D=2\), got \(5, 4, 3\)"):
        SelectiveSSM(2, 3)(torch.zeros(5, 4, 3))
    with pytest.raises(ValueError, match="state_size: expected a positive integer"):
        SelectiveSSM(2, 3, state_size=0)
    with pytest.raises(TypeError, match="negative: expected a bool"):
        SelectiveSSM(2, 3, negative=1)
    with pytest.raises(ValueError, match="bits: expected only 0s and 1s, got 2"):
        parity(np.array([[0, 2]]))
    with pytest.raises(ValueError, match=r"bits: expected a non-empty 2-D array"):
        parity_by_hand(np.array([0, 1]))


def test_parity_by_hand_is_exact_at_every_length():
    bits = np.random.default_rng(0).integers(0, 2, size=(200, 16))
    h = parity_by_hand(bits)
    np.testing.assert_array_equal(h, np.where(parity(bits) == 1, -1.0, 1.0))
    # the affine form: h -> 1 - h on a one, h_0 = 0, gives the parity itself
    np.testing.assert_array_equal(linear_unit(bits, 1.0, -1.0, 0.0, 1.0, 0.0), parity(bits))


def test_threshold_accuracy_cannot_split_equal_states():
    target = np.array([0, 1, 0, 1])
    assert threshold_accuracy(np.zeros((1, 4)), target)[0] == 0.5
    assert threshold_accuracy(np.array([[0.0, 1.0, 0.0, 1.0]]), target)[0] == 1.0
    assert threshold_accuracy(np.array([[1.0, 0.0, 1.0, 0.0]]), target)[0] == 1.0
