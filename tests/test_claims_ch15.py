"""Claims C28 and C29 (chapter 15): exponential gates with a stabiliser, and a matrix memory.

The stored runs (lstm_lessons/experiments/data/ch15_xlstm.json, from scripts/ch15_xlstm.py)
are checked by re-running one seed of each comparison; everything else is re-computed.
"""

import numpy as np
import pytest
import torch

from lstm_lessons.cells.mlstm import init_mlstm_params, mlstm_forward, mlstm_parallel
from lstm_lessons.experiments import xlstm
from lstm_lessons.pytorch.xlstm import MLSTM

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def results():
    return xlstm.load_results()


def test_C28_without_the_stabiliser_float32_goes_wrong_with_it_the_output_is_unchanged():
    r = xlstm.overflow()
    # the plain cell's normaliser needs exp(220); float32 stops at exp(88.7)
    assert r["max_exponent"] == pytest.approx(220.42, abs=0.01)
    assert r["exp_limit"] == pytest.approx(88.72, abs=0.01)
    assert r["first_wrong_step"] == 81  # n_t = inf, c_t finite: h_t = 0, finite and wrong
    assert r["first_nonfinite_step"] == 83
    assert r["plain_error_before"] < 1e-6
    assert 1e-8 < r["stabilised_error"] < 1e-7  # float32 rounding, against float64
    assert r["float64_plain_vs_stabilised"] < 1e-14  # m cancels in c / n


def test_C28_controls_of_the_most_relevant_item_task():
    x, y = xlstm.relevance_data()
    assert xlstm.chance() == 0.125
    assert xlstm.last_item_accuracy(x, y) == pytest.approx(0.202, abs=1e-9)
    theta, accuracy = xlstm.best_threshold_rule()
    assert theta == pytest.approx(0.86, abs=1e-9)
    assert accuracy == pytest.approx(0.619, abs=1e-9)


def test_C28_untrained_networks_guess():
    scores = [xlstm.untrained_relevance(cell, s) for cell in ("lstm", "slstm") for s in (0, 1, 2)]
    assert scores == pytest.approx([0.1155, 0.134, 0.107, 0.132, 0.1185, 0.141], abs=0.005)


def test_C28_an_exponential_input_gate_keeps_the_most_relevant_item_by_hand():
    """exp(beta r) weights: the larger beta, the more decisively a more relevant item wins."""
    expected = {1: 0.4385, 10: 0.947, 30: 0.9945, 100: 0.999}
    assert {b: xlstm.hand_set_accuracy(b) for b in expected} == pytest.approx(expected, abs=1e-9)
    # the same weights without the stabiliser, in float32: equal until exp(100 r) overflows
    plain = {b: xlstm.hand_set_accuracy(b, stabilise=False, dtype=np.float32) for b in expected}
    assert plain == pytest.approx({**expected, 100: 0.31}, abs=1e-9)


def test_C28_trained_slstm_beats_the_lstm_on_every_seed(results):
    lstm, slstm = results["relevance"]["lstm"], results["relevance"]["slstm"]
    assert len(lstm) == len(slstm) == 3
    assert min(slstm) > max(lstm)
    assert np.mean(slstm) - np.mean(lstm) == pytest.approx(0.0707, abs=0.005)
    _, best_rule = xlstm.best_threshold_rule()
    assert min(lstm) > best_rule + 0.15  # the LSTM compares with its state: above the rule


def test_C28_the_gap_survives_three_times_the_training(results):
    """Stored only (a 3000-step run takes a minute); the 1000-step runs are re-run below."""
    assert results["long_steps"] == 3 * results["relevance_config"]["steps"]
    lstm, slstm = results["relevance_long"]["lstm"], results["relevance_long"]["slstm"]
    assert min(slstm) > max(lstm)
    assert np.mean(slstm) - np.mean(lstm) == pytest.approx(0.0420, abs=0.005)
    assert np.mean(lstm) > np.mean(results["relevance"]["lstm"]) + 0.05  # the LSTM did improve


@pytest.mark.parametrize("cell", ["lstm", "slstm"])
def test_C28_stored_relevance_runs_reproduce(results, cell):
    assert xlstm.train_relevance(cell, 0) == pytest.approx(results["relevance"][cell][0], abs=0.01)


def test_C29_parallel_form_equals_the_recurrent_form_on_the_chapters_case():
    x = np.random.default_rng(0).normal(size=(64, 4, 6))
    params = init_mlstm_params(6, 8, seed=1)
    assert np.abs(mlstm_parallel(x, params) - mlstm_forward(x, params)[0]).max() < 1e-14


def test_C29_parallel_form_equals_the_recurrent_form():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3, 5))
    params = {k: 2 * v for k, v in init_mlstm_params(5, 4, seed=3).items()}
    for forget in ("sigmoid", "exp"):
        recurrent = mlstm_forward(x, params, forget=forget)[0]
        assert np.abs(mlstm_parallel(x, params, forget=forget) - recurrent).max() < 1e-12
        module = MLSTM(5, 4, forget=forget, dtype=torch.float64).load_numpy(params)
        with torch.no_grad():
            torch_out = module(torch.tensor(x))[0].numpy()
        assert np.abs(torch_out - recurrent).max() < 1e-12


def test_C29_matched_sizes():
    assert xlstm.recall_sizes(8) == (36, 7)  # 2 * 36 = 8^2 + 8; 4 * 7 * (25 + 7 + 1) ~ 884
    assert xlstm.mlstm_parameters(25, 8) == 884
    assert xlstm.lstm_parameters(25, 7) == 924


def test_C29_the_mlstm_recalls_where_the_lstms_do_not(results):
    rec = results["recall"]
    for pairs in ("2", "4", "8"):
        mlstm = rec["mlstm_d8"][pairs]
        majority = xlstm.majority_value_accuracy(int(pairs))
        for lstm in ("lstm_h36", "lstm_h7"):
            assert min(mlstm) > max(rec[lstm][pairs]) + 0.2, (pairs, lstm)
            # the LSTMs do little better than the rule that ignores the query
            assert abs(np.mean(rec[lstm][pairs]) - majority) < 0.03, (pairs, lstm)


def test_C29_untrained_networks_guess():
    models = (("mlstm", 8), ("lstm", 36), ("lstm", 7))
    scores = [
        xlstm.untrained_recall(c, H, p, s) for c, H in models for p in (2, 4, 8) for s in (0, 1, 2)
    ]
    assert min(scores) == pytest.approx(0.109, abs=0.005)
    assert max(scores) == pytest.approx(0.1385, abs=0.005)


def test_C29_the_rule_that_ignores_the_query():
    scores = [xlstm.majority_value_accuracy(p) for p in (2, 4, 8)]
    assert scores == pytest.approx([0.566, 0.424, 0.3235], abs=1e-9)


def test_C29_with_three_times_the_training_the_lstm_recalls_and_stays_behind(results):
    """Stored only (a 3000-step run takes a minute); the 1000-step runs are re-run below."""
    long = results["recall_long"]
    mlstm, lstm = long["mlstm_d8"], long["lstm_h36"]
    assert np.mean(lstm["4"]) > xlstm.majority_value_accuracy(4) + 0.4  # it learnt the task
    assert np.mean(mlstm["4"]) - np.mean(lstm["4"]) == pytest.approx(0.0383, abs=0.005)
    assert np.mean(mlstm["8"]) - np.mean(lstm["8"]) == pytest.approx(0.1392, abs=0.005)
    assert min(mlstm["8"]) > max(lstm["8"]) + 0.05


def test_C29_recall_grows_with_the_head_size(results):
    scores = [np.mean(results["recall"][f"mlstm_d{d}"]["8"]) for d in (4, 8, 16)]
    assert scores == pytest.approx([0.5392, 0.8913, 0.9972], abs=0.005)


@pytest.mark.parametrize("cell,H", [("mlstm", 8), ("lstm", 36)])
def test_C29_stored_recall_runs_reproduce(results, cell, H):
    name = f"{cell}_{'d' if cell == 'mlstm' else 'h'}{H}"
    assert xlstm.train_recall(cell, H, 4, 0) == pytest.approx(
        results["recall"][name]["4"][0], abs=0.01
    )
