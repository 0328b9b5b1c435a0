"""Claims C16 (CIFG couples the gates; does the coupling regularise?) and C25 (the GRU, a
close relative) of chapter 9, and the stored results of scripts/run_coupled_gates.py against
retrained slices."""

import itertools
import math

import numpy as np
import pytest
import torch
from helpers import random_inputs, randomise_biases

import lstm_lessons as ll
from lstm_lessons.cells import plain
from lstm_lessons.experiments import coupled_gates as cg
from lstm_lessons.experiments.significance import sign_flip_test

STORED, META = cg.load_results()
SIGMA_1 = 1.0 / (1.0 + math.exp(-1.0))


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


# --- The models of one seed: paired, and the forget-bias control ---------------------------


@pytest.mark.parametrize("cell", cg.CELLS)
def test_c16_the_keep_gate_starts_at_sigma_of_the_forget_bias(cell):
    """The forget-bias control starts the gate that keeps the memory at sigma(1) in every
    cell (read from the NumPy cells: f = 1 - i in CIFG, z in the GRU), and leaves it alone
    without the control."""
    with_bias = cg.paired_models(7, 3, 5, 2, forget_bias=1.0)[cell]
    np.testing.assert_allclose(cg.keep_gate_at_rest(with_bias), SIGMA_1, rtol=0, atol=1e-12)
    drawn = cg.keep_gate_at_rest(cg.paired_models(7, 3, 5, 2)[cell])
    assert np.all(np.abs(drawn - 0.5) < 0.15)  # biases drawn in +-1/sqrt(5): gates near 1/2


def test_c16_paired_models_share_every_block_they_have_in_common():
    """CIFG starts from the standard cell's i, g and o blocks, and all three cells from its
    readout, so that paired runs differ only where the cells differ."""
    H = 4
    models = cg.paired_models(5, 3, H, 2)
    std, cifg = models["standard"].rnn, models["cifg"].rnn
    for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        s, c = getattr(std, name).detach(), getattr(cifg, name).detach()
        torch.testing.assert_close(c, torch.cat([s[:H], s[2 * H:]]), rtol=0, atol=0)
    for cell in ("cifg", "gru"):
        for name, value in models["standard"].readout.state_dict().items():
            torch.testing.assert_close(models[cell].readout.state_dict()[name], value,
                                       rtol=0, atol=0)
    assert all(m.readout.weight.dtype == torch.float64 for m in models.values())


# --- Re-running slices of the stored study ------------------------------------------------


@pytest.mark.parametrize("cell", cg.CELLS)
def test_c16_recall_slice_reproduces_the_stored_run(cell):
    """Seed 0 of each cell (biases as drawn), retrained alone for the full budget, gives the
    stored test loss and accuracy. The stored run trained 16 seeds as one float32 stack,
    which changes only the rounding: 1e-5 relative here. (After a forget bias of 1 the
    standard cell's seed 0 drives its loss to 0.003, where the stack's rounding grows to a
    few per cent, so this slice runs without it; the bias itself is pinned above.)"""
    fresh = cg.train_cells(cells=(cell,), **dict(cg.RECALL, n_seeds=1))
    stored = STORED["recall"]["default"][cell]
    np.testing.assert_allclose(fresh[cell]["loss"][0], stored["loss"][0], rtol=1e-5)
    assert fresh[cell]["accuracy"][0] == pytest.approx(stored["accuracy"][0], abs=1e-6)


def test_c16_recall_slice_with_the_forget_bias_reproduces_the_stored_run():
    """Seed 0 of CIFG with a forget bias of 1 (an input-gate bias of -1), which solves the
    task, retrained alone: the stored test loss to 1e-5, accuracy 1."""
    fresh = cg.train_cells(forget_bias=1.0, cells=("cifg",), **dict(cg.RECALL, n_seeds=1))
    stored = STORED["recall"]["forget1"]["cifg"]
    np.testing.assert_allclose(fresh["cifg"]["loss"][0], stored["loss"][0], rtol=1e-5)
    assert fresh["cifg"]["accuracy"][0] == stored["accuracy"][0] == 1.0


@pytest.mark.parametrize("n_train,cell", list(itertools.product(cg.N_TRAIN, cg.CELLS)))
def test_c16_small_data_slice_reproduces_the_stored_study(n_train, cell):
    """Seed 0 of each cell at the chosen setting: the untrained test error and the mean
    predictor equal the stored ones exactly (same data, same initial weights), and the
    training error after the first 100 steps to the rounding of the 16-model stack."""
    study = STORED[f"n{n_train}"]
    setting = dict(study["chosen_setting"], steps=META["study"]["first_record"])
    fresh = cg.generalisation_gap([0], cells=(cell,), task=dict(cg.SMALL_TASK, n_train=n_train),
                                  first_record=setting["steps"], **setting)
    stored = study["chosen"]
    assert fresh["mean_predictor"]["test"][0] == stored["mean_predictor"]["test"][0]
    assert fresh[cell]["untrained"][0] == stored[cell]["untrained"][0]
    np.testing.assert_allclose(fresh[cell]["first_train"][0], stored[cell]["first_train"][0],
                               rtol=1e-9)


def test_c16_the_chosen_baseline_fits_and_generalises_end_to_end():
    """The precondition of the comparison, re-computed: seed 0 of the standard cell at the
    setting chosen for the larger training set fits it and beats the mean predictor on
    held-out data by a wide margin, and reproduces the stored run (to 1e-3: the stored run
    trained 16 seeds as one stack, whose rounding grows to about 3e-5 over 500 steps)."""
    n_train = cg.N_TRAIN[-1]
    study = STORED[f"n{n_train}"]
    fresh = cg.generalisation_gap([0], cells=("standard",), task=dict(cg.SMALL_TASK,
                                                                      n_train=n_train),
                                  **study["chosen_setting"])
    stored = study["chosen"]["standard"]
    for key in ("train", "test", "gap"):
        np.testing.assert_allclose(fresh["standard"][key][0], stored[key][0], rtol=1e-3)
    assert fresh["standard"]["train"][0] < 0.01
    assert fresh["standard"]["test"][0] < 0.25 * fresh["mean_predictor"]["test"][0]


def test_detectable_effect_is_the_normal_approximation():
    """(z_0.975 + z_0.8) / sqrt(n): 0.70 standard deviations of the differences at n = 16."""
    assert cg.detectable_effect(16) == pytest.approx((1.959964 + 0.841621) / 4, abs=1e-6)
    assert cg.detectable_effect(64) == pytest.approx(cg.detectable_effect(16) / 2)


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="positive number of models"):
        cg.train_cells(n_seeds=0)
    with pytest.raises(ValueError, match="expected a non-empty selection"):
        cg.paired_models(0, 2, 3, 1, cells=("lstm",))
    with pytest.raises(ValueError, match="seed"):
        cg.paired_models(-1, 2, 3, 1)
    with pytest.raises(ValueError, match="weight_decay"):
        cg.fit_fixed(cg.paired_models(0, 2, 3, 1, cells=("gru",)).values(),
                     [cg.small_data(0, n_train=4, n_val=4, n_test=4)], 2, weight_decay=-1.0)
    with pytest.raises(ValueError, match="one data set per model"):
        cg.fit_fixed(cg.paired_models(0, 2, 3, 1, cells=("gru",)).values(), [], 2)


def _beats_mean(study, cell):
    return int(np.sum(study[cell]["test"] < study["mean_predictor"]["test"]))


def test_c16_at_the_first_setting_the_baseline_is_worse_than_the_mean_predictor():
    """The first comparison (24 sequences, H = 32, 300 steps) and the best setting of the grid
    for 24 sequences: the standard cell fits its training set but its mean test error is above
    the mean predictor's; it beats that trivial rule on 3 of 16 seeds."""
    for key in ("first", "chosen"):
        study = STORED["n24"][key]
        assert study["standard"]["train"].mean() < 0.02
        assert study["standard"]["test"].mean() > study["mean_predictor"]["test"].mean()
        assert _beats_mean(study, "standard") == 3
    assert STORED["n24"]["chosen_setting"] == dict(hidden_size=32, steps=1000, lr=1e-2,
                                                   weight_decay=0.0, forget_bias=None)


def test_c16_with_64_sequences_the_baseline_works_and_the_coupled_gap_is_smaller():
    """C16, the regularisation claim as found: at the setting chosen on validation data for 64
    sequences the standard cell beats the mean predictor on 12 of 16 seeds (mean test error
    below half of it); CIFG's gap is smaller on every seed (the smallest p the 16 pairs allow),
    the GRU's on 15; and the coupled cells also fit better (so not a regulariser's trade)."""
    study = STORED["n64"]["chosen"]
    mean_predictor = study["mean_predictor"]["test"].mean()
    assert _beats_mean(study, "standard") == 12
    assert study["standard"]["test"].mean() < 0.5 * mean_predictor
    assert _beats_mean(study, "cifg") == _beats_mean(study, "gru") == 16
    smaller = {c: int(np.sum(study[c]["gap"] < study["standard"]["gap"])) for c in ("cifg", "gru")}
    assert smaller == {"cifg": 16, "gru": 15}
    assert sign_flip_test(study["cifg"]["gap"], study["standard"]["gap"]) == 2 / 2**16
    assert sign_flip_test(study["gru"]["gap"], study["standard"]["gap"]) < 1e-3
    assert int(np.sum(study["cifg"]["train"] < study["standard"]["train"])) == 14
    assert study["cifg"]["train"].mean() < 0.1 * study["standard"]["train"].mean()


def test_c16_coupled_cells_learn_recall_more_often_and_the_forget_bias_closes_the_gap():
    """C16/C25 with Jozefowicz et al. (2015): with the biases as drawn the standard LSTM solves
    recall (> 95 %) from 0 of 16 seeds, CIFG from 7 and the GRU from 11 (paired sign-flip
    p < 0.01 each); a forget bias of 1 lifts the standard cell to 11 and the others to 16."""
    solved = {b: {c: int(np.sum(STORED["recall"][b][c]["accuracy"] > 0.95)) for c in cg.CELLS}
              for b in ("default", "forget1")}
    assert solved == {"default": {"standard": 0, "cifg": 7, "gru": 11},
                      "forget1": {"standard": 11, "cifg": 16, "gru": 16}}
    acc = {c: STORED["recall"]["default"][c]["accuracy"] for c in cg.CELLS}
    for cell in ("cifg", "gru"):
        assert sign_flip_test(acc[cell], acc["standard"]) < 0.01
