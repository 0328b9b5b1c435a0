"""The plain teaching cell: the engine equals it, and its backward pass is right twice over."""

import numpy as np
import pytest
import torch
from helpers import random_inputs, randomise_biases

import lstm_lessons as ll
from lstm_lessons.cells import plain


def _case(N, D, H, seed):
    _, h_prev, c_prev = random_inputs(1, N, D, H, seed=seed)
    x = np.random.default_rng(seed + 1).standard_normal((N, D))
    params = randomise_biases(ll.init_lstm_params(D, H, seed=seed + 2), seed=seed + 3)
    return x, h_prev, c_prev, params


@pytest.mark.parametrize("N,D,H", [(1, 3, 2), (4, 5, 3), (2, 2, 7)])
def test_engine_step_equals_plain_step(N, D, H):
    x, h_prev, c_prev, p = _case(N, D, H, seed=N + D + H)
    h, c, cache = plain.lstm_step_forward(x, h_prev, c_prev, p["W_x"], p["W_h"], p["b"])
    h_e, c_e, cache_e = ll.lstm_step_forward(x, h_prev, c_prev, p)
    np.testing.assert_allclose(h_e, h, rtol=0, atol=1e-15)
    np.testing.assert_allclose(c_e, c, rtol=0, atol=1e-15)
    rng = np.random.default_rng(5)
    dh, dc = rng.standard_normal((2, N, H))
    got = plain.lstm_step_backward(dh, dc, cache)
    dx, dh_prev, dc_prev, grads = ll.lstm_step_backward(dh, dc, cache_e)
    want = (dx, dh_prev, dc_prev, grads["W_x"], grads["W_h"], grads["b"])
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)


def test_engine_sequence_equals_plain_steps():
    T, N, D, H = 9, 3, 4, 5
    x, h0, c0 = random_inputs(T, N, D, H, seed=40)
    p = randomise_biases(ll.init_lstm_params(D, H, seed=41), seed=42)
    hs, cs, _ = ll.lstm_forward(x, h0, c0, p)
    h, c = h0, c0
    for t in range(T):
        h, c, _ = plain.lstm_step_forward(x[t], h, c, p["W_x"], p["W_h"], p["b"])
        np.testing.assert_allclose(hs[t], h, rtol=0, atol=1e-14)
        np.testing.assert_allclose(cs[t], c, rtol=0, atol=1e-14)


def test_plain_backward_equals_autograd():
    N, D, H = 3, 4, 2
    x, h_prev, c_prev, p = _case(N, D, H, seed=50)
    args = [x, h_prev, c_prev, p["W_x"], p["W_h"], p["b"]]
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    rng = np.random.default_rng(51)
    dh, dc = rng.standard_normal((2, N, H))
    a = ts[0] @ ts[3] + ts[1] @ ts[4] + ts[5]
    a_i, a_f, a_g, a_o = a.split(H, dim=1)
    c = torch.sigmoid(a_f) * ts[2] + torch.sigmoid(a_i) * torch.tanh(a_g)
    h = torch.sigmoid(a_o) * torch.tanh(c)
    ((h * torch.from_numpy(dh)).sum() + (c * torch.from_numpy(dc)).sum()).backward()
    _, _, cache = plain.lstm_step_forward(*args)
    got = plain.lstm_step_backward(dh, dc, cache)
    for g, t in zip(got, [ts[0], ts[1], ts[2], ts[3], ts[4], ts[5]], strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=0, atol=1e-12)


def test_plain_backward_equals_finite_differences():
    N, D, H = 2, 3, 2
    x, h_prev, c_prev, p = _case(N, D, H, seed=60)
    rng = np.random.default_rng(61)
    dh, dc = rng.standard_normal((2, N, H))
    args = [x, h_prev, c_prev, p["W_x"], p["W_h"], p["b"]]

    def loss(*a):
        h, c, _ = plain.lstm_step_forward(*a)
        return float((h * dh).sum() + (c * dc).sum())

    grads = plain.lstm_step_backward(dh, dc, plain.lstm_step_forward(*args)[2])
    for k, g in enumerate(grads):
        num = ll.numerical_gradient(lambda v, k=k: loss(*args[:k], v, *args[k + 1 :]), args[k], 1.0)
        assert ll.relative_error(g, num) < 1e-7
