"""The causal Transformer block: NumPy forward and backward, its torch twin, torch's own layer."""

import numpy as np
import pytest
import torch

from lstm_lessons.cells import attention as at
from lstm_lessons.cells.gradcheck import numerical_gradient
from lstm_lessons.pytorch import attention as pa


def _random_block(D, F, seed):
    """Parameters with non-zero random gains and shifts (the defaults would hide their
    gradients)."""
    rng = np.random.default_rng(seed)
    params = at.init_block_params(D, F, seed=seed)
    return {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in params.items()}


CASES = [(7, 3, 8, 5, 2), (1, 1, 4, 3, 1), (12, 2, 6, 9, 3)]


@pytest.mark.parametrize("T, N, D, F, A", CASES)
def test_numpy_block_equals_the_torch_twin_and_torch_layer(T, N, D, F, A):
    params = _random_block(D, F, seed=T)
    x = np.random.default_rng(1).standard_normal((T, N, D))
    out, _ = at.block_forward(x, params, heads=A)
    twin = pa.CausalBlock(D, F, A, dtype=torch.float64)
    twin.load_state_dict(pa.block_to_torch(params))
    layer = pa.transformer_encoder_layer(D, F, A, dtype=torch.float64)
    layer.load_state_dict(pa.block_to_torch(params))
    xt = torch.from_numpy(x)
    np.testing.assert_allclose(twin(xt).detach().numpy(), out, rtol=0, atol=1e-12)
    mask = pa.causal_mask(T, torch.float64)
    np.testing.assert_allclose(
        layer(xt, src_mask=mask, is_causal=True).detach().numpy(), out, rtol=0, atol=1e-12
    )
    # The block's settings are torch's defaults (eps 1e-5, ReLU, post-norm), not only its twin's.
    default = torch.nn.TransformerEncoderLayer(D, A, F, dropout=0.0, dtype=torch.float64)
    default.load_state_dict(pa.block_to_torch(params))
    np.testing.assert_allclose(
        default(xt, src_mask=mask, is_causal=True).detach().numpy(), out, rtol=0, atol=1e-12
    )
    layer.eval()  # torch's fast path for inference computes the same function
    with torch.no_grad():
        fast = layer(xt, src_mask=mask, is_causal=True).numpy()
    np.testing.assert_allclose(fast, out, rtol=0, atol=1e-12)


@pytest.mark.parametrize("T, N, D, F, A", CASES)
def test_numpy_backward_equals_autograd(T, N, D, F, A):
    params = _random_block(D, F, seed=T + 1)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((T, N, D))
    dout = rng.standard_normal((T, N, D))
    out, cache = at.block_forward(x, params, heads=A)
    dx, grads = at.block_backward(dout, cache)
    twin = pa.CausalBlock(D, F, A, dtype=torch.float64)
    twin.load_state_dict(pa.block_to_torch(params))
    xt = torch.from_numpy(x).requires_grad_(True)
    twin(xt).backward(torch.from_numpy(dout))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-11)
    torch_grads = pa.block_from_torch({k: p.grad for k, p in twin.named_parameters()})
    assert set(torch_grads) == set(grads) == set(params)
    for k in params:
        np.testing.assert_allclose(grads[k], torch_grads[k], rtol=0, atol=1e-11, err_msg=k)


def test_numpy_backward_equals_finite_differences():
    T, N, D, F, A = 5, 2, 4, 3, 2
    params = _random_block(D, F, seed=9)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((T, N, D))
    dout = rng.standard_normal((T, N, D))
    dx, grads = at.block_backward(dout, at.block_forward(x, params, heads=A)[1])

    def out_of(name):
        if name == "x":
            return lambda a: at.block_forward(a, params, heads=A)[0]
        return lambda a: at.block_forward(x, params | {name: a}, heads=A)[0]

    np.testing.assert_allclose(numerical_gradient(out_of("x"), x, dout), dx, rtol=1e-6, atol=1e-8)
    for k in params:
        num = numerical_gradient(out_of(k), params[k], dout)
        np.testing.assert_allclose(num, grads[k], rtol=1e-6, atol=1e-8, err_msg=k)


def test_the_block_is_causal_and_attends_across_the_sequence():
    """Output t changes with every input 0..t and with no later input."""
    T, N, D, F, A = 9, 2, 6, 4, 3
    params = _random_block(D, F, seed=4)
    x = np.random.default_rng(5).standard_normal((T, N, D))
    out, _ = at.block_forward(x, params, heads=A)
    for t in range(T):
        moved = x.copy()
        moved[t] += 1.0
        changed = np.abs(at.block_forward(moved, params, heads=A)[0] - out).max(axis=(1, 2))
        assert np.all(changed[:t] == 0.0), t  # earlier outputs never see a later input
        assert np.all(changed[t:] > 1e-3), t  # every later output sees it, through attention


@pytest.mark.parametrize("D, F", [(1, 1), (8, 5), (64, 127), (64, 256)])
def test_parameter_count_is_torch_layers(D, F):
    A = 1
    layer = pa.transformer_encoder_layer(D, F, A)
    assert at.block_param_count(D, F) == sum(p.numel() for p in layer.parameters())
    shapes = at.block_param_shapes(D, F)
    assert at.block_param_count(D, F) == sum(int(np.prod(s)) for s, _ in shapes.values())
    assert pa.CausalBlock(D, F, A).state_dict().keys() == layer.state_dict().keys()


def test_conversion_round_trip_and_default_init():
    params = _random_block(6, 4, seed=1)
    back = pa.block_from_torch(pa.block_to_torch(params))
    assert back.keys() == params.keys()
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])
    p0 = at.init_block_params(6, 4, seed=0)
    assert np.all(p0["g_1"] == 1) and np.all(p0["beta_2"] == 0)
    assert np.abs(p0["W_qkv"]).max() <= 1 / np.sqrt(6)


def test_float32_stays_float32():
    params = at.init_block_params(8, 5, dtype=np.float32)
    x = np.random.default_rng(0).standard_normal((6, 2, 8)).astype(np.float32)
    out, cache = at.block_forward(x, params, heads=2)
    dx, grads = at.block_backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == np.float32
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}


def test_bad_input_says_what_was_expected():
    params = at.init_block_params(6, 4)
    x = np.zeros((3, 2, 6))
    with pytest.raises(ValueError, match="heads: expected a divisor of the width D=6, got 4"):
        at.block_forward(x, params, heads=4)
    with pytest.raises(ValueError, match=r"expected a 3-D array of shape \(T, N, D\)"):
        at.block_forward(np.zeros((3, 6)), params)
    with pytest.raises(ValueError, match="params"):
        at.block_forward(np.zeros((3, 2, 5)), params)
    with pytest.raises(ValueError, match="dout"):
        at.block_backward(np.zeros((3, 2, 5)), at.block_forward(x, params)[1])
    with pytest.raises(ValueError, match="missing"):
        pa.block_from_torch({})
    with pytest.raises(ValueError, match="heads"):
        pa.CausalBlock(6, 4, 4)
