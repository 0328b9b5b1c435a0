"""Initialisation, read-only caches, default states and aliasing: the quiet ways to be wrong."""

import numpy as np
import pytest
import torch
from helpers import random_inputs

import lstm_lessons as ll
from lstm_lessons.pytorch.cells import GRU, LSTM


@pytest.mark.parametrize("variant,f_block", [("standard", 1), ("nig", 0), ("peephole", 1)])
def test_forget_bias_shifts_exactly_the_forget_block(variant, f_block):
    H = 3
    base = ll.init_lstm_params(4, H, variant, seed=2)
    shifted = ll.init_lstm_params(4, H, variant, seed=2, forget_bias=1.5)
    diff = (shifted["b"] - base["b"]).reshape(-1, H)
    expected = np.zeros_like(diff)
    expected[f_block] = 1.5
    np.testing.assert_allclose(diff, expected, atol=1e-12)


@pytest.mark.parametrize(
    "init",
    [ll.init_lstm_params, ll.init_gru_params, ll.init_rnn_params],
    ids=["lstm", "gru", "rnn"],
)
def test_init_range_follows_the_hidden_size(init):
    D, H = 100, 4  # D != H, so a range of 1/sqrt(D) would show
    params = init(D, H, seed=0)
    largest = max(np.abs(p).max() for p in params.values())
    assert 0.9 / np.sqrt(H) < largest <= 1 / np.sqrt(H)


def test_sequence_caches_are_read_only():
    x, h0, c0 = random_inputs(3, 2, 4, 5)
    hs, cs, cache = ll.lstm_forward(x, h0, c0, ll.init_lstm_params(4, 5))
    for arr in (hs, cs, cache.h, cache.c, cache.acts):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0.0
    _, rnn_cache = ll.rnn_forward(x, h0, ll.init_rnn_params(4, 5))
    _, gru_cache = ll.gru_forward(x, h0, ll.init_gru_params(4, 5))
    for arr in (rnn_cache.h, gru_cache.h, gru_cache.z):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0.0


def test_changing_x_after_forward_does_not_change_the_gradients():
    x, h0, c0 = random_inputs(4, 2, 3, 5, seed=1)
    params = ll.init_lstm_params(3, 5)
    dhs = np.ones((4, 2, 5))
    expected = ll.lstm_backward(dhs, ll.lstm_forward(x, h0, c0, params)[2])[3]["W_x"]
    _, _, cache = ll.lstm_forward(x, h0, c0, params)
    x[:] = 0.0
    np.testing.assert_array_equal(ll.lstm_backward(dhs, cache)[3]["W_x"], expected)


def test_torch_modules_start_from_zero_states_by_default():
    x = torch.randn(5, 2, 3)
    lstm, gru = LSTM(3, 4), GRU(3, 4)
    zeros = torch.zeros(1, 2, 4)
    torch.testing.assert_close(lstm(x)[0], lstm(x, (zeros, zeros))[0], rtol=0, atol=0)
    torch.testing.assert_close(gru(x)[0], gru(x, zeros)[0], rtol=0, atol=0)


def test_from_torch_copies_instead_of_sharing_memory():
    module = LSTM(3, 4, "peephole")
    params = ll.from_torch(module, "lstm", "peephole")
    for name, p in params.items():
        for tensor in module.state_dict().values():
            assert not np.shares_memory(p, tensor.numpy()), name
