"""For every variant, the NumPy cell and the PyTorch module compute the same thing (float64)."""

import numpy as np
import pytest
import torch
from helpers import ALL_VARIANTS, random_inputs, randomise_biases

import lstm_lessons as ll
from lstm_lessons.pytorch.cells import LSTM


@pytest.mark.parametrize("variant", ALL_VARIANTS)
def test_numpy_and_torch_variant_forward_agree(variant):
    T, N, D, H = 12, 3, 4, 5
    x, h0, c0 = random_inputs(T, N, D, H, seed=21)
    params = randomise_biases(ll.init_lstm_params(D, H, variant, seed=22))
    hs, cs, _ = ll.lstm_forward(x, h0, c0, params, variant)
    module = LSTM(D, H, variant, dtype=torch.float64)
    module.load_state_dict(ll.to_torch(params, "lstm", variant))
    out, (h_n, c_n) = module(
        torch.from_numpy(x), (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None])
    )
    np.testing.assert_allclose(hs, out.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(cs[-1], c_n[0].detach().numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "variant,gates,n_peep",
    [
        ("standard", "ifgo", 0),
        ("cifg", "igo", 0),
        ("nfg", "igo", 0),
        ("nig", "fgo", 0),
        ("nog", "ifg", 0),
        ("peephole", "ifgo", 3),
        ("cifg+peephole", "igo", 2),
        ("niaf", "ifgo", 0),
    ],
)
def test_variant_parameter_layout(variant, gates, n_peep):
    v = ll.get_variant(variant)
    assert v.gates == gates
    params = ll.init_lstm_params(4, 3, variant)
    assert params["W_x"].shape == (4, 3 * len(gates))
    assert len(v.peepholes) == n_peep
    assert ll.get_variant(v.name) == v


def test_each_switch_changes_the_output():
    """A switch that the cell ignored would leave the output unchanged; none may."""
    T, N, D, H = 8, 2, 3, 4
    x, h0, c0 = random_inputs(T, N, D, H, seed=30)
    std = randomise_biases(ll.init_lstm_params(D, H, seed=31), seed=32)
    hs_std, _, _ = ll.lstm_forward(x, h0, c0, std)
    for name in ll.VARIANT_NAMES[1:]:
        v = ll.get_variant(name)
        params = randomise_biases(ll.init_lstm_params(D, H, v, seed=31), seed=32)
        # Share every weight the two cells have in common, so only the switched line differs.
        H_blocks = {k: n for n, k in enumerate(v.gates)}
        for key in ("W_x", "W_h", "b"):
            for k, n in H_blocks.items():
                m = "ifgo".index(k)
                params[key][..., n * H : (n + 1) * H] = std[key][..., m * H : (m + 1) * H]
        hs, _, _ = ll.lstm_forward(x, h0, c0, params, v)
        assert np.max(np.abs(hs - hs_std)) > 1e-3, f"{name} computes the standard cell"


def test_cifg_forget_gate_is_one_minus_input_gate():
    x, h0, c0 = random_inputs(5, 2, 3, 4)
    _, _, cache = ll.lstm_forward(x, h0, c0, ll.init_lstm_params(3, 4, "cifg"), "cifg")
    np.testing.assert_allclose(cache.gate("f"), 1.0 - cache.gate("i"), rtol=0, atol=1e-15)


def test_nfg_forget_gate_is_one():
    x, h0, c0 = random_inputs(5, 2, 3, 4)
    _, _, cache = ll.lstm_forward(x, h0, c0, ll.init_lstm_params(3, 4, "nfg"), "nfg")
    assert np.all(cache.gate("f") == 1.0)


def test_variant_names_forgive_case_and_dashes():
    assert ll.get_variant("Hard-Sigmoid") == ll.get_variant("hard_sigmoid")
    assert ll.get_variant("Peephole + CIFG") == ll.get_variant("cifg+peephole")


def test_the_torch_hard_sigmoid_has_the_numpy_derivative_also_at_its_corners():
    # slope * x + offset is exactly 0 at x = -2.5 and exactly 1 at x = 2.5.
    from lstm_lessons.cells.activations import hard_sigmoid as np_hard_sigmoid
    from lstm_lessons.cells.activations import hard_sigmoid_grad
    from lstm_lessons.pytorch.cells import hard_sigmoid as torch_hard_sigmoid

    x = torch.tensor([-3.0, -2.5, -1.0, 0.0, 2.0, 2.5, 4.0], dtype=torch.float64,
                     requires_grad=True)  # fmt: skip
    y = torch_hard_sigmoid(x)
    y.sum().backward()
    expected_y = np_hard_sigmoid(x.detach().numpy())
    np.testing.assert_array_equal(y.detach().numpy(), expected_y)
    np.testing.assert_array_equal(x.grad.numpy(), hard_sigmoid_grad(expected_y))
