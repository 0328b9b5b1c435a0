"""minGRU and minLSTM: the scan equals the step loop, the backward checks, torch agrees."""

import numpy as np
import pytest
import torch

from lstm_lessons.cells.gradcheck import gradient_check
from lstm_lessons.cells.minimal import (
    init_minimal_params,
    minimal_backward,
    minimal_forward,
    minimal_step_forward,
)
from lstm_lessons.pytorch.minimal import MinGRU, MinLSTM
from lstm_lessons.training.model import SequenceModel

CASES = [("mingru", False), ("mingru", True), ("minlstm", False)]
LAYERS = {"mingru": MinGRU, "minlstm": MinLSTM}


def _problem(cell, seed):
    rng = np.random.default_rng(seed)
    T, N, D, H = (int(v) for v in rng.integers(2, 7, 4))
    params = init_minimal_params(cell, D, H, seed=seed)
    params["b"] = rng.standard_normal(params["b"].shape)  # non-zero biases
    return params, rng.standard_normal((T, N, D)), rng.standard_normal((N, H)), rng


@pytest.mark.parametrize("method", ["blelloch", "loop", "chunked", "hillis_steele"])
@pytest.mark.parametrize(("cell", "negative"), CASES)
def test_the_scan_equals_the_step_loop(cell, negative, method):
    params, x, h0, _ = _problem(cell, seed=1)
    hs, _ = minimal_forward(cell, x, h0, params, negative, method)
    h = h0
    for t in range(x.shape[0]):
        h = minimal_step_forward(cell, x[t], h, params, negative)
        np.testing.assert_allclose(hs[t], h, rtol=0, atol=1e-13)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("cell", "negative"), CASES)
def test_the_hand_written_backward_passes_the_gradient_check(cell, negative, seed):
    params, x, h0, rng = _problem(cell, seed=10 + seed)
    hs, cache = minimal_forward(cell, x, h0, params, negative)
    dhs = rng.standard_normal(hs.shape)
    dx, dh0, grads = minimal_backward(dhs, cache)

    def run(x_=x, h0_=h0, **p):
        return minimal_forward(cell, x_, h0_, {**params, **p}, negative)[0]

    assert gradient_check(lambda v: run(x_=v), x, dx, dhs) < 1e-7
    assert gradient_check(lambda v: run(h0_=v), h0, dh0, dhs) < 1e-7
    for k in params:
        assert gradient_check(lambda v, k=k: run(**{k: v}), params[k], grads[k], dhs) < 1e-7


@pytest.mark.parametrize(("cell", "negative"), CASES)
def test_the_torch_layer_equals_the_numpy_cell_and_its_backward(cell, negative):
    params, x, h0, rng = _problem(cell, seed=3)
    D, H = x.shape[2], h0.shape[1]
    layer = LAYERS[cell](D, H, **({"negative": True} if negative else {})).double()
    layer.load_numpy_params(params)
    hs, cache = minimal_forward(cell, x, h0, params, negative)
    tx, th = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    out, last = layer(tx, th)
    np.testing.assert_allclose(out.detach().numpy(), hs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(last.detach().numpy(), hs[-1], rtol=0, atol=1e-12)
    dhs = rng.standard_normal(hs.shape)
    dx, dh0, grads = minimal_backward(dhs, cache)
    out.backward(torch.tensor(dhs))
    np.testing.assert_allclose(tx.grad.numpy(), dx, rtol=0, atol=1e-12)
    np.testing.assert_allclose(th.grad.numpy(), dh0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.linear.weight.grad.numpy().T, grads["W_x"], rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(layer.linear.bias.grad.numpy(), grads["b"], rtol=0, atol=1e-12)
    assert out.dtype == torch.float64
    assert layer(tx.float())[0].dtype == torch.float32


def test_the_negative_transition_reaches_minus_one_and_the_plain_one_stays_in_0_1():
    params, x, h0, _ = _problem("mingru", seed=4)
    x = 30.0 * x  # saturate the gate both ways
    a_plain = minimal_forward("mingru", x, h0, params)[1].a
    a_neg = minimal_forward("mingru", x, h0, params, negative=True)[1].a
    assert a_plain.min() >= 0.0 and a_plain.max() <= 1.0
    assert a_neg.min() < -0.99 and a_neg.max() > 0.99
    np.testing.assert_allclose(a_neg, 2.0 * a_plain - 1.0, rtol=0, atol=1e-15)


def test_minlstm_normalised_gates_sum_to_one_and_bound_the_state():
    params, x, h0, _ = _problem("minlstm", seed=5)
    _, cache = minimal_forward("minlstm", x, h0, params)
    f, i, _ = cache.parts
    np.testing.assert_allclose(cache.a + i / (f + i), 1.0, rtol=0, atol=1e-15)


@pytest.mark.parametrize(("cell", "options"), [("mingru", {}), ("mingru", {"negative": True}),
                                               ("minlstm", {})])
def test_the_training_model_stacks_the_layers(cell, options):
    model = SequenceModel(3, 4, 2, cell=cell, layers=2, cell_options=options)
    assert model(torch.randn(6, 5, 3)).shape == (5, 2)
    assert len(model.rnn.layers) == 2 and model.rnn.layers[1].input_size == 4


def test_errors_say_what_was_expected_and_what_came():
    params, x, h0, _ = _problem("minlstm", seed=6)
    with pytest.raises(ValueError, match="cell: expected one of"):
        minimal_forward("mingru2", x, h0, params)
    with pytest.raises(ValueError, match="only minGRU has the negative option"):
        minimal_forward("minlstm", x, h0, params, negative=True)
    with pytest.raises(ValueError, match=r"params: expected keys"):
        minimal_forward("minlstm", x, h0, {"W_x": params["W_x"]})
    with pytest.raises(ValueError, match=r"params\['W_x'\]: expected shape"):
        minimal_forward("mingru", x, h0, params)
    with pytest.raises(ValueError, match=r"h0: expected shape"):
        minimal_forward("minlstm", x, h0[:1], params)
    with pytest.raises(ValueError, match=r"x: expected a tensor of shape \(T, N, 3\)"):
        MinGRU(3, 4)(torch.zeros(5, 2, 4))
    with pytest.raises(ValueError, match="negative: expected True or False"):
        MinGRU(3, 4, negative=1)
    with pytest.raises(ValueError, match="hidden_size: expected a positive integer"):
        MinLSTM(3, 0)
