"""The sLSTM and mLSTM cells: gradient checks, their forms and stabilisers, the torch twins."""

import numpy as np
import pytest
import torch

from lstm_lessons.cells.gradcheck import gradient_check
from lstm_lessons.cells.mlstm import (
    init_mlstm_params,
    mlstm_backward,
    mlstm_forward,
    mlstm_parallel,
)
from lstm_lessons.cells.slstm import (
    FLOAT32_EXP_LIMIT,
    init_slstm_params,
    slstm_backward,
    slstm_forward,
)
from lstm_lessons.pytorch.xlstm import MLSTM, SLSTM
from lstm_lessons.training.model import SequenceModel

CELLS = {
    "slstm": (init_slstm_params, slstm_forward, slstm_backward),
    "mlstm": (init_mlstm_params, mlstm_forward, mlstm_backward),
}
TOL = 1e-7


def _case(seed, cell, scale=1.5):
    """Random sizes, inputs, upstream gradient and parameters with non-zero random biases."""
    rng = np.random.default_rng(seed)
    T, N, D, H = (int(v) for v in rng.integers(2, 6, size=4))
    params = CELLS[cell][0](D, H, seed=seed)
    params = {k: scale * v for k, v in params.items()}
    params[next(k for k in params if k.startswith("b"))] += rng.normal(size=params["b"].shape)
    return rng.normal(size=(T, N, D)), rng.normal(size=(T, N, H)), params


@pytest.mark.parametrize("forget", ["sigmoid", "exp"])
@pytest.mark.parametrize("cell", ["slstm", "mlstm"])
@pytest.mark.parametrize("seed", [0, 1])
def test_backward_matches_centred_differences(cell, forget, seed):
    _, forward, backward = CELLS[cell]
    x, dh, params = _case(seed, cell)
    assert np.all(params["b"] != 0)
    hs, cache = forward(x, params, forget=forget)
    dx, grads = backward(dh, cache)
    assert gradient_check(lambda v: forward(v, params, forget=forget)[0], x, dx, dh) < TOL
    for key in params:
        f = lambda w, key=key: forward(x, {**params, key: w}, forget=forget)[0]  # noqa: E731
        assert gradient_check(f, params[key], grads[key], dh) < TOL, key


def test_mlstm_backward_on_both_sides_of_the_denominator_floor():
    """max(|n.q|, exp(-m)): in this case a third of the steps sit on the floor, the rest above."""
    x, dh, params = _case(1, "mlstm", scale=2.0)
    hs, cache = mlstm_forward(x, params)
    s = np.abs(np.einsum("tnh,tnh->tn", cache.n[1:], cache.q))
    on_floor = s < np.exp(-cache.m[1:])
    assert on_floor.any() and not on_floor.all()
    dx, grads = mlstm_backward(dh, cache)
    assert gradient_check(lambda v: mlstm_forward(v, params)[0], x, dx, dh) < TOL
    f = lambda w: mlstm_forward(x, {**params, "W": w})[0]  # noqa: E731
    assert gradient_check(f, params["W"], grads["W"], dh) < TOL


@pytest.mark.parametrize("forget", ["sigmoid", "exp"])
@pytest.mark.parametrize("cell", ["slstm", "mlstm"])
def test_numpy_backward_equals_torch_autograd(cell, forget):
    _, forward, backward = CELLS[cell]
    x, dh, params = _case(5, cell)
    layer = {"slstm": SLSTM, "mlstm": MLSTM}[cell]
    D, H = x.shape[2], dh.shape[2]
    forms = [{}] if cell == "slstm" else [{"form": "parallel"}, {"form": "recurrent"}]
    hs, cache = forward(x, params, forget=forget)
    dx, grads = backward(dh, cache)
    for form in forms:
        module = layer(D, H, forget=forget, dtype=torch.float64, **form).load_numpy(params)
        xt = torch.tensor(x, requires_grad=True)
        out, _ = module(xt)
        (out * torch.tensor(dh)).sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), hs, rtol=0, atol=1e-12)
        np.testing.assert_allclose(xt.grad.numpy(), dx, rtol=0, atol=1e-12)
        for name, p in module.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), grads[name], rtol=0, atol=1e-12)


@pytest.mark.parametrize("forget", ["sigmoid", "exp"])
@pytest.mark.parametrize("cell", ["slstm", "mlstm"])
def test_the_stabiliser_changes_nothing_where_the_plain_cell_does_not_overflow(cell, forget):
    _, forward, _ = CELLS[cell]
    x, _, params = _case(7, cell, scale=3.0)
    hs, cache = forward(x, params, forget=forget)
    plain, plain_cache = forward(x, params, forget=forget, stabilise=False)
    assert np.abs(cache.m).max() > 1.0  # the stabiliser did shift the states
    np.testing.assert_allclose(hs, plain, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", ["slstm", "mlstm"])
def test_without_the_stabiliser_float32_overflows_with_it_not(cell):
    """An input-gate pre-activation past log(float32 max) = 88.7: exp gives inf, then inf/inf."""
    _, forward, _ = CELLS[cell]
    x, _, params = _case(8, cell)
    b = params["b"].copy()
    H = b.shape[0] // 4
    input_cols = slice(H, 2 * H) if cell == "slstm" else slice(4 * H, 4 * H + 1)
    b[input_cols] += FLOAT32_EXP_LIMIT + 1.0
    params = {**params, "b": b}
    single = {k: v.astype(np.float32) for k, v in params.items()}
    plain, _ = forward(x.astype(np.float32), single, stabilise=False)
    hs, _ = forward(x.astype(np.float32), single)
    assert not np.isfinite(plain).all()
    reference, _ = forward(x, params)
    np.testing.assert_allclose(hs, reference, rtol=0, atol=1e-5)


@pytest.mark.parametrize("forget", ["sigmoid", "exp"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mlstm_parallel_form_equals_the_recurrent_form(forget, seed):
    x, _, params = _case(seed, "mlstm", scale=3.0)
    np.testing.assert_allclose(
        mlstm_parallel(x, params, forget=forget), mlstm_forward(x, params, forget=forget)[0],
        rtol=0, atol=1e-12,
    )  # fmt: skip


def test_mlstm_parallel_state_is_the_recurrent_one():
    x, _, params = _case(4, "mlstm")
    module = MLSTM(x.shape[2], (params["W"].shape[1] - 2) // 4, dtype=torch.float64)
    module.load_numpy(params)
    with torch.no_grad():
        _, (C, n, m) = module(torch.tensor(x))
    _, cache = mlstm_forward(x, params)
    scale = np.exp(cache.m[-1] - m.numpy())  # the two forms stabilise with different m
    np.testing.assert_allclose(C.numpy(), cache.C[-1] * scale[:, None, None], atol=1e-12)
    np.testing.assert_allclose(n.numpy(), cache.n[-1] * scale[:, None], atol=1e-12)


@pytest.mark.parametrize("cell", ["slstm", "mlstm"])
def test_sequence_model_builds_the_later_cells(cell):
    model = SequenceModel(3, 4, 2, cell=cell, layers=2, cell_options={"forget": "exp"})
    out = model(torch.randn(5, 6, 3))
    assert out.shape == (6, 2) and out.dtype == torch.float32


def test_errors_say_what_was_expected():
    x = np.zeros((3, 2, 4))
    params = init_slstm_params(4, 5)
    with pytest.raises(ValueError, match="forget: expected one of"):
        slstm_forward(x, params, forget="tanh")
    with pytest.raises(ValueError, match=r"params\['W_x'\]: expected shape \(4, 20\)"):
        slstm_forward(x, init_slstm_params(3, 5))
    with pytest.raises(ValueError, match="expected a 3-D array"):
        slstm_forward(x[0], params)
    with pytest.raises(TypeError, match="float32 or float64"):
        mlstm_forward(x.astype(int), init_mlstm_params(4, 5))
    with pytest.raises(ValueError, match="4H \\+ 2 columns"):
        mlstm_forward(x, {"W": np.zeros((4, 7)), "b": np.zeros(7)})
    with pytest.raises(ValueError, match=r"dhs: expected shape \(3, 2, 5\)"):
        slstm_backward(np.zeros((3, 2, 4)), slstm_forward(x, params)[1])
    with pytest.raises(ValueError, match=r"expected x of shape \(T, N, D=4\), got \(3, 2, 3\)"):
        SLSTM(4, 5)(torch.zeros(3, 2, 3))
    with pytest.raises(ValueError, match="form: expected one of"):
        MLSTM(4, 5, form="fast")
    with pytest.raises(TypeError, match="stabilise: expected True or False"):
        MLSTM(4, 5, stabilise="yes")
    with pytest.raises(
        ValueError, match=r"params: expected a dict with keys \['W', 'b'\], got \['W'\]"
    ):
        MLSTM(4, 5).load_numpy({"W": np.zeros((4, 22))})
    with pytest.raises(ValueError, match=r"params\['R'\]: expected shape \(5, 20\), got \(4, 20\)"):
        SLSTM(4, 5).load_numpy({**init_slstm_params(4, 5), "R": np.zeros((4, 20))})
