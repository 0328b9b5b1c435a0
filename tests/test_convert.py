"""The one conversion between NumPy and PyTorch parameters, for every cell and variant."""

import numpy as np
import pytest
import torch
from helpers import ALL_VARIANTS

import lstm_lessons as ll
from lstm_lessons.pytorch.cells import LSTM


@pytest.mark.parametrize("variant", ALL_VARIANTS)
def test_numpy_to_torch_to_numpy_is_exact(variant):
    params = ll.init_lstm_params(3, 4, variant, seed=5)
    back = ll.from_torch(ll.to_torch(params, "lstm", variant), "lstm", variant)
    assert back.keys() == params.keys()
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])


@pytest.mark.parametrize("variant", ALL_VARIANTS)
def test_module_state_dict_has_the_variant_layout(variant):
    module = LSTM(3, 4, variant)
    sd = ll.to_torch(ll.from_torch(module, "lstm", variant), "lstm", variant)
    assert {k: tuple(v.shape) for k, v in sd.items()} == {
        k: tuple(v.shape) for k, v in module.state_dict().items()
    }
    module.load_state_dict(sd)  # strict: every name must match


def test_torch_to_numpy_to_torch_keeps_the_function():
    ref = torch.nn.LSTM(3, 4)
    sd = ll.to_torch(ll.from_torch(ref))
    twin = torch.nn.LSTM(3, 4)
    twin.load_state_dict(sd)
    x = torch.randn(7, 2, 3)
    torch.testing.assert_close(twin(x)[0], ref(x)[0], rtol=0, atol=1e-6)


def test_standard_state_dict_moves_unchanged_between_our_module_and_torch_nn_lstm():
    ours, ref = LSTM(5, 6), torch.nn.LSTM(5, 6)
    ref.load_state_dict(ours.state_dict())
    ours.load_state_dict(ref.state_dict())
    assert list(ours.state_dict()) == list(ref.state_dict())


def test_gru_and_rnn_round_trip():
    for cell, ref in (("gru", torch.nn.GRU(3, 4)), ("rnn", torch.nn.RNN(3, 4))):
        params = ll.from_torch(ref, cell)
        twin = type(ref)(3, 4)
        twin.load_state_dict(ll.to_torch(params, cell))
        x = torch.randn(6, 2, 3)
        torch.testing.assert_close(twin(x)[0], ref(x)[0], rtol=0, atol=1e-6)
