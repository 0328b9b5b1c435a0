"""Every hand-written backward equals torch autograd (<= 1e-10) and centred differences (< 1e-7).

Variants are compared with our PyTorch modules (whose backward is autograd),
the standard cell and the GRU also with torch.nn.LSTM / torch.nn.GRU.
"""

import numpy as np
import pytest
import torch
from helpers import ALL_VARIANTS, random_inputs, randomise_biases

import lstm_lessons as ll
from lstm_lessons.pytorch.cells import GRU, LSTM

AUTOGRAD_TOL = 1e-10
FD_TOL = 1e-7


def _lstm_setup(variant, T=5, N=3, D=4, H=3, seed=0):
    x, h0, c0 = random_inputs(T, N, D, H, seed=seed)
    params = randomise_biases(ll.init_lstm_params(D, H, variant, seed=seed + 1), seed=seed + 2)
    rng = np.random.default_rng(seed + 3)
    dhs = rng.standard_normal((T, N, H))
    dcs = np.zeros((T, N, H))
    dcs[-1] = rng.standard_normal((N, H))  # a loss on the final cell state too
    return x, h0, c0, params, dhs, dcs


def _torch_grads(module, x, h0, c0, dhs, dcs):
    xt, h0t, c0t = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    out, (_, c_n) = module(xt, (h0t[None], c0t[None]))
    loss = (out * torch.from_numpy(dhs)).sum() + (c_n[0] * torch.from_numpy(dcs[-1])).sum()
    loss.backward()
    grads = {k: p.grad.numpy() for k, p in module.named_parameters()}
    return xt.grad.numpy(), h0t.grad.numpy(), c0t.grad.numpy(), grads


def _assert_close(ours, theirs, tol, what):
    err = np.max(np.abs(np.asarray(ours) - np.asarray(theirs)))
    assert err <= tol, f"{what}: max |difference| {err:.3e} > {tol:g}"


@pytest.mark.parametrize("variant", ALL_VARIANTS)
def test_lstm_backward_equals_autograd(variant):
    x, h0, c0, params, dhs, dcs = _lstm_setup(variant)
    _, _, cache = ll.lstm_forward(x, h0, c0, params, variant)
    dx, dh0, dc0, grads = ll.lstm_backward(dhs, cache, dcs)

    module = LSTM(x.shape[2], h0.shape[1], variant, dtype=torch.float64)
    module.load_state_dict(ll.to_torch(params, "lstm", variant))
    tdx, tdh0, tdc0, tgrads = _torch_grads(module, x, h0, c0, dhs, dcs)

    _assert_close(dx, tdx, AUTOGRAD_TOL, "dx")
    _assert_close(dh0, tdh0, AUTOGRAD_TOL, "dh0")
    _assert_close(dc0, tdc0, AUTOGRAD_TOL, "dc0")
    # Both torch biases receive dL/db, since b = bias_ih + bias_hh.
    expected = ll.to_torch(grads, "lstm", variant)
    expected["bias_hh_l0"] = expected["bias_ih_l0"]
    for k in tgrads:
        _assert_close(expected[k].numpy(), tgrads[k], AUTOGRAD_TOL, k)


def test_standard_lstm_backward_equals_torch_nn_lstm():
    x, h0, c0, params, dhs, dcs = _lstm_setup("standard", T=30, N=2, D=3, H=5, seed=9)
    _, _, cache = ll.lstm_forward(x, h0, c0, params)
    dx, dh0, dc0, grads = ll.lstm_backward(dhs, cache, dcs)
    module = torch.nn.LSTM(3, 5).double()
    module.load_state_dict(ll.to_torch(params))
    tdx, tdh0, tdc0, tgrads = _torch_grads(module, x, h0, c0, dhs, dcs)
    _assert_close(dx, tdx, AUTOGRAD_TOL, "dx")
    _assert_close(dh0, tdh0, AUTOGRAD_TOL, "dh0")
    _assert_close(dc0, tdc0, AUTOGRAD_TOL, "dc0")
    _assert_close(grads["W_x"], tgrads["weight_ih_l0"].T, AUTOGRAD_TOL, "W_x")
    _assert_close(grads["W_h"], tgrads["weight_hh_l0"].T, AUTOGRAD_TOL, "W_h")
    _assert_close(grads["b"], tgrads["bias_ih_l0"], AUTOGRAD_TOL, "b")


@pytest.mark.parametrize("variant", ALL_VARIANTS)
def test_lstm_backward_passes_finite_differences(variant):
    x, h0, c0, params, dhs, dcs = _lstm_setup(variant, T=3, N=2, D=3, H=2, seed=4)
    _, _, cache = ll.lstm_forward(x, h0, c0, params, variant)
    dx, dh0, dc0, grads = ll.lstm_backward(dhs, cache, dcs)
    dout = np.concatenate([dhs, dcs])

    def run(x=x, h0=h0, c0=c0, **changed):
        hs, cs, _ = ll.lstm_forward(x, h0, c0, {**params, **changed}, variant)
        return np.concatenate([hs, cs])

    inputs = {"x": (x, dx), "h0": (h0, dh0), "c0": (c0, dc0)}
    for name, (value, analytic) in inputs.items():
        err = ll.gradient_check(lambda a, name=name: run(**{name: a}), value, analytic, dout)
        assert err < FD_TOL, f"d{name}: relative error {err:.2e}"
    for name in params:
        err = ll.gradient_check(
            lambda a, name=name: run(**{name: a}), params[name], grads[name], dout
        )
        assert err < FD_TOL, f"d{name}: relative error {err:.2e}"


@pytest.mark.parametrize("variant", ["standard", "peephole", "cifg+peephole", "nfg", "noaf"])
def test_lstm_step_backward_matches_finite_differences(variant):
    x, h0, c0, params, dhs, dcs = _lstm_setup(variant, T=1, N=2, D=3, H=4, seed=6)
    h, c, cache = ll.lstm_step_forward(x[0], h0, c0, params, variant)
    dx, dh_prev, dc_prev, grads = ll.lstm_step_backward(dhs[0], dcs[0], cache)
    dout = np.concatenate([dhs[0], dcs[0]])

    def run(x=x[0], h_prev=h0, c_prev=c0, **changed):
        h, c, _ = ll.lstm_step_forward(x, h_prev, c_prev, {**params, **changed}, variant)
        return np.concatenate([h, c])

    for name, value, analytic in (
        ("x", x[0], dx),
        ("h_prev", h0, dh_prev),
        ("c_prev", c0, dc_prev),
    ):
        err = ll.gradient_check(lambda a, name=name: run(**{name: a}), value, analytic, dout)
        assert err < FD_TOL, f"d{name}: relative error {err:.2e}"
    for name in params:
        err = ll.gradient_check(
            lambda a, name=name: run(**{name: a}), params[name], grads[name], dout
        )
        assert err < FD_TOL, f"d{name}: relative error {err:.2e}"


def test_gru_backward_equals_autograd_and_finite_differences():
    T, N, D, H = 5, 3, 4, 3
    x, h0, _ = random_inputs(T, N, D, H, seed=2)
    ref = torch.nn.GRU(D, H).double()
    params = ll.from_torch(ref, cell="gru")
    dhs = np.random.default_rng(8).standard_normal((T, N, H))
    _, cache = ll.gru_forward(x, h0, params)
    dx, dh0, grads = ll.gru_backward(dhs, cache)

    for module in (ref, GRU(D, H, dtype=torch.float64)):
        module.load_state_dict(ref.state_dict())
        xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
        out, _ = module(xt, h0t[None])
        (out * torch.from_numpy(dhs)).sum().backward()
        _assert_close(dx, xt.grad.numpy(), AUTOGRAD_TOL, "dx")
        _assert_close(dh0, h0t.grad.numpy(), AUTOGRAD_TOL, "dh0")
        g = {k: p.grad.numpy() for k, p in module.named_parameters()}
        _assert_close(grads["W_x"], g["weight_ih_l0"].T, AUTOGRAD_TOL, "W_x")
        _assert_close(grads["W_h"], g["weight_hh_l0"].T, AUTOGRAD_TOL, "W_h")
        _assert_close(grads["b"], g["bias_ih_l0"], AUTOGRAD_TOL, "b")
        _assert_close(grads["b_hn"], g["bias_hh_l0"][2 * H :], AUTOGRAD_TOL, "b_hn")

    def run(x=x, h0=h0, **changed):
        return ll.gru_forward(x, h0, {**params, **changed})[0]

    for name, value, analytic in (("x", x, dx), ("h0", h0, dh0)):
        assert (
            ll.gradient_check(lambda a, name=name: run(**{name: a}), value, analytic, dhs) < FD_TOL
        )
    for name in params:
        err = ll.gradient_check(
            lambda a, name=name: run(**{name: a}), params[name], grads[name], dhs
        )
        assert err < FD_TOL, f"d{name}: relative error {err:.2e}"

    h, step_cache = ll.gru_step_forward(x[0], h0, params)
    np.testing.assert_allclose(h, ll.gru_forward(x[:1], h0, params)[0][0], rtol=0, atol=1e-15)
    sdx, sdh, sgrads = ll.gru_step_backward(dhs[0], step_cache)
    for name in params:
        err = ll.gradient_check(
            lambda a, name=name: ll.gru_step_forward(x[0], h0, {**params, name: a})[0],
            params[name],
            sgrads[name],
            dhs[0],
        )
        assert err < FD_TOL, f"step d{name}: relative error {err:.2e}"
    err = ll.gradient_check(lambda a: ll.gru_step_forward(a, h0, params)[0], x[0], sdx, dhs[0])
    assert err < FD_TOL
    err = ll.gradient_check(lambda a: ll.gru_step_forward(x[0], a, params)[0], h0, sdh, dhs[0])
    assert err < FD_TOL


def test_rnn_backward_equals_autograd_and_finite_differences():
    T, N, D, H = 6, 2, 3, 4
    x, h0, _ = random_inputs(T, N, D, H, seed=12)
    ref = torch.nn.RNN(D, H).double()
    params = ll.from_torch(ref, cell="rnn")
    dhs = np.random.default_rng(13).standard_normal((T, N, H))
    _, cache = ll.rnn_forward(x, h0, params)
    dx, dh0, grads = ll.rnn_backward(dhs, cache)

    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    out, _ = ref(xt, h0t[None])
    (out * torch.from_numpy(dhs)).sum().backward()
    _assert_close(dx, xt.grad.numpy(), AUTOGRAD_TOL, "dx")
    _assert_close(dh0, h0t.grad.numpy(), AUTOGRAD_TOL, "dh0")
    _assert_close(grads["W_h"], ref.weight_hh_l0.grad.numpy().T, AUTOGRAD_TOL, "W_h")
    _assert_close(grads["W_x"], ref.weight_ih_l0.grad.numpy().T, AUTOGRAD_TOL, "W_x")
    _assert_close(grads["b"], ref.bias_ih_l0.grad.numpy(), AUTOGRAD_TOL, "b")

    for name in params:
        err = ll.gradient_check(
            lambda a, name=name: ll.rnn_forward(x, h0, {**params, name: a})[0],
            params[name],
            grads[name],
            dhs,
        )
        assert err < FD_TOL, f"d{name}: relative error {err:.2e}"

    h, step_cache = ll.rnn_step_forward(x[0], h0, params)
    np.testing.assert_allclose(h, ll.rnn_forward(x[:1], h0, params)[0][0], rtol=0, atol=1e-15)
    sdx, sdh, sgrads = ll.rnn_step_backward(dhs[0], step_cache)
    for name in params:
        err = ll.gradient_check(
            lambda a, name=name: ll.rnn_step_forward(x[0], h0, {**params, name: a})[0],
            params[name],
            sgrads[name],
            dhs[0],
        )
        assert err < FD_TOL, f"step d{name}: relative error {err:.2e}"
    assert (
        ll.gradient_check(lambda a: ll.rnn_step_forward(a, h0, params)[0], x[0], sdx, dhs[0])
        < FD_TOL
    )
    assert (
        ll.gradient_check(lambda a: ll.rnn_step_forward(x[0], a, params)[0], h0, sdh, dhs[0])
        < FD_TOL
    )
