"""Claims C16 (CIFG couples the gates) and C25 (the GRU, a close relative) of chapter 9,
and the stored results of scripts/run_coupled_gates.py against a retrained slice."""

import numpy as np
import pytest
import torch
from helpers import random_inputs, randomise_biases

import lstm_lessons as ll
from lstm_lessons.cells import plain
from lstm_lessons.experiments import coupled_gates as cg
from lstm_lessons.experiments.ablation import permutation_test


def test_c16_plain_cifg_step_equals_the_engine():
    """C16: the plain CIFG step (the standard step but f = 1 - i) is the engine's cifg."""
    N, D, H = 4, 5, 3
    x, h_prev, c_prev = random_inputs(1, N, D, H, seed=3)
    p = randomise_biases(ll.init_lstm_params(D, H, "cifg", seed=4))
    h, c = plain.cifg_step_forward(x[0], h_prev, c_prev, p["W_x"], p["W_h"], p["b"])
    h_e, c_e, cache = ll.lstm_step_forward(x[0], h_prev, c_prev, p, "cifg")
    np.testing.assert_allclose(h, h_e, rtol=0, atol=1e-15)
    np.testing.assert_allclose(c, c_e, rtol=0, atol=1e-15)
    np.testing.assert_allclose(cache.f, 1 - cache.i, rtol=0, atol=0)


def test_c16_cifg_is_a_standard_cell_whose_forget_block_is_one_minus_input():
    """C16: a standard cell with f's weights set to minus i's and f's bias to minus i's
    computes sigma(-a_i) = 1 - sigma(a_i): exactly the CIFG cell."""
    T, N, D, H = 7, 3, 4, 5
    x, h0, c0 = random_inputs(T, N, D, H, seed=8)
    p = randomise_biases(ll.init_lstm_params(D, H, "cifg", seed=9))
    full = {}
    for k in ("W_x", "W_h", "b"):
        i_blk, g_blk, o_blk = np.split(p[k], 3, axis=-1)
        full[k] = np.concatenate([i_blk, -i_blk, g_blk, o_blk], axis=-1)
    hs, cs, _ = ll.lstm_forward(x, h0, c0, p, "cifg")
    hs_f, cs_f, _ = ll.lstm_forward(x, h0, c0, full)
    np.testing.assert_allclose(hs, hs_f, rtol=0, atol=1e-14)


@pytest.mark.parametrize("D,H", [(6, 16), (2, 32), (3, 5)])
def test_c16_cifg_removes_a_quarter_of_the_gate_parameters(D, H):
    """C16: standard 4H(D+H+1), CIFG 3H(D+H+1); the GRU 3H(D+H+1) + H (its b_hn)."""
    count = cg.parameter_counts(D, H)
    assert count["standard"] == 4 * H * (D + H + 1)
    assert count["cifg"] == 3 * H * (D + H + 1) == 0.75 * count["standard"]
    assert count["gru"] == count["cifg"] + H


def test_c25_gru_update_is_the_cifg_update_with_z_as_f():
    """C25: h = z * h_prev + (1 - z) * n is c = f * c_prev + i * g with f = z, i = 1 - z."""
    N, D, H = 3, 4, 5
    x, h_prev, _ = random_inputs(1, N, D, H, seed=12)
    p = randomise_biases(ll.init_gru_params(D, H, seed=13))
    h, cache = ll.gru_step_forward(x[0], h_prev, p)
    z, n = cache.z, cache.n
    f, i = z, 1 - z
    np.testing.assert_allclose(h, f * h_prev + i * n, rtol=0, atol=1e-15)
    # The GRU's candidate sees the reset hidden state; with r = 1 it is the LSTM candidate's
    # form tanh(x W + h W + b) with no output gate and no separate cell state.
    assert not hasattr(cache, "o") and not hasattr(cache, "c")


def test_c25_gru_torch_module_matches_numpy():
    """C25: the GRU we train (torch.nn.GRU) is the package's NumPy GRU."""
    T, N, D, H = 6, 2, 3, 4
    x, h0, _ = random_inputs(T, N, D, H, seed=20)
    p = randomise_biases(ll.init_gru_params(D, H, seed=21))
    hs, _ = ll.gru_forward(x, h0, p)
    gru = torch.nn.GRU(D, H).double()
    gru.load_state_dict(ll.to_torch(p, "gru"))
    out, _ = gru(torch.from_numpy(x), torch.from_numpy(h0)[None])
    np.testing.assert_allclose(hs, out.detach().numpy(), rtol=0, atol=1e-12)


def test_c16_stored_results_are_reproduced_by_a_retrained_slice():
    """C16: retrain the small-data slice for two seeds; it equals the stored numbers."""
    stored, meta = cg.load_results()
    settings = dict(meta["small_data"], n_seeds=2)
    fresh = cg.generalisation_gap(cells=("cifg",), **settings)
    for key in ("train", "test"):
        np.testing.assert_allclose(fresh["cifg"][key], stored["small_data"]["cifg"][key][:2],
                                   rtol=2e-2, atol=2e-4)


def test_c16_coupling_narrows_the_generalisation_gap_on_small_data():
    """C16 (the seed's regularisation claim), as found: on a small fixed training set of the
    adding problem CIFG's test-minus-train gap is smaller than the standard cell's over the
    seeds, and the difference is significant by an exact permutation test."""
    stored, _ = cg.load_results()
    gap = stored["small_data"]
    assert gap["cifg"]["gap"].mean() < gap["standard"]["gap"].mean()
    assert permutation_test(gap["cifg"]["gap"], gap["standard"]["gap"]) < 0.01


def test_c16_coupled_cells_learn_recall_more_often_without_a_forget_bias():
    """C16/C25: with every bias at 0, CIFG and the GRU solve recall (> 95 %) from more seeds
    than the standard LSTM, and CIFG's mean accuracy is significantly higher."""
    stored, _ = cg.load_results()
    acc = {c: stored["recall"]["bias0"][c]["accuracy"] for c in cg.CELLS}
    solved = {c: int(np.sum(a > 0.95)) for c, a in acc.items()}
    assert solved["cifg"] > solved["standard"] and solved["gru"] > solved["standard"]
    assert permutation_test(acc["cifg"], acc["standard"]) < 0.01


def test_c16_forget_bias_narrows_the_gap_between_cells():
    """C16/C25 with Jozefowicz et al. (2015): a forget bias of 1 lifts the standard LSTM's
    recall accuracy, and the gap to the best cell shrinks to less than half."""
    stored, _ = cg.load_results()
    no_bias, bias = stored["recall"]["bias0"], stored["recall"]["bias1"]
    assert bias["standard"]["accuracy"].mean() > no_bias["standard"]["accuracy"].mean() + 0.2

    def gap(runs):
        means = [runs[c]["accuracy"].mean() for c in cg.CELLS]
        return max(means) - runs["standard"]["accuracy"].mean()

    assert gap(bias) < 0.5 * gap(no_bias)


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="positive number of models"):
        cg.train_cells(n_seeds=0)
    with pytest.raises(ValueError, match="expected two 1-D samples"):
        permutation_test([1.0], [2.0, 3.0])
