"""The NumPy cells and our PyTorch modules equal torch.nn.LSTM / GRU / RNN (float64, <= 1e-12)."""

import numpy as np
import pytest
import torch
from helpers import SHAPES, random_inputs

import lstm_lessons as ll
from lstm_lessons.pytorch.cells import GRU, LSTM

TOL = 1e-12


def _nn_lstm(params, D, H):
    m = torch.nn.LSTM(D, H).double()
    m.load_state_dict(ll.to_torch(params))  # the names and layout are torch.nn.LSTM's own
    return m


@pytest.mark.parametrize("T,N,D,H", SHAPES)
def test_numpy_lstm_equals_torch_nn_lstm(T, N, D, H):
    x, h0, c0 = random_inputs(T, N, D, H)
    params = ll.init_lstm_params(D, H, seed=T, forget_bias=0.7)
    assert np.all(params["b"] != 0)
    hs, cs, _ = ll.lstm_forward(x, h0, c0, params)

    out, (h_n, c_n) = _nn_lstm(params, D, H)(
        torch.from_numpy(x), (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None])
    )
    np.testing.assert_allclose(hs, out.detach().numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(hs[-1], h_n[0].detach().numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(cs[-1], c_n[0].detach().numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("T,N,D,H", SHAPES)
def test_torch_module_lstm_equals_torch_nn_lstm(T, N, D, H):
    x, h0, c0 = (torch.from_numpy(a) for a in random_inputs(T, N, D, H, seed=3))
    ours = LSTM(D, H, dtype=torch.float64)
    ref = torch.nn.LSTM(D, H).double()
    ref.load_state_dict(ours.state_dict())  # unchanged: same names, shapes and gate order
    out1, (h1, c1) = ours(x, (h0[None], c0[None]))
    out2, (h2, c2) = ref(x, (h0[None], c0[None]))
    for a, b in ((out1, out2), (h1, h2), (c1, c2)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("T,N,D,H", SHAPES)
def test_numpy_and_torch_module_gru_equal_torch_nn_gru(T, N, D, H):
    x, h0, _ = random_inputs(T, N, D, H, seed=5)
    ref = torch.nn.GRU(D, H).double()
    params = ll.from_torch(ref, cell="gru")
    assert np.all(params["b_hn"] != 0)
    out_ref, h_ref = ref(torch.from_numpy(x), torch.from_numpy(h0)[None])

    hs, _ = ll.gru_forward(x, h0, params)
    np.testing.assert_allclose(hs, out_ref.detach().numpy(), rtol=0, atol=TOL)

    ours = GRU(D, H, dtype=torch.float64)
    ours.load_state_dict(ref.state_dict())
    out, h_n = ours(torch.from_numpy(x), torch.from_numpy(h0)[None])
    np.testing.assert_allclose(out.detach().numpy(), out_ref.detach().numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(h_n.detach().numpy(), h_ref.detach().numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("T,N,D,H", SHAPES)
def test_numpy_rnn_equals_torch_nn_rnn(T, N, D, H):
    x, h0, _ = random_inputs(T, N, D, H, seed=7)
    ref = torch.nn.RNN(D, H).double()
    params = ll.from_torch(ref, cell="rnn")
    out_ref, _ = ref(torch.from_numpy(x), torch.from_numpy(h0)[None])
    hs, _ = ll.rnn_forward(x, h0, params)
    np.testing.assert_allclose(hs, out_ref.detach().numpy(), rtol=0, atol=TOL)


def test_step_functions_equal_one_step_of_the_sequence():
    T, N, D, H = 4, 3, 5, 2
    x, h0, c0 = random_inputs(T, N, D, H, seed=11)
    params = ll.init_lstm_params(D, H, seed=1)
    hs, cs, _ = ll.lstm_forward(x, h0, c0, params)
    h, c = h0, c0
    for t in range(T):
        h, c, _ = ll.lstm_step_forward(x[t], h, c, params)
    np.testing.assert_allclose(h, hs[-1], rtol=0, atol=TOL)
    np.testing.assert_allclose(c, cs[-1], rtol=0, atol=TOL)
