"""Part I's claims (chapters 1 and 2): why plain RNNs struggle.

C01  a simple RNN forgets over long delays where an LSTM remembers;
C02  BPTT gradients are products of per-step Jacobians, bounded by ||W_h||_2^(T-t),
     vanishing or exploding with the spectral radius, and damped by tanh saturation;
C03  exploding gradients wreck plain gradient descent, and norm clipping tames them;
and the adding problem of Hochreiter & Schmidhuber (1997): an LSTM solves it at a
length where a simple RNN does not.

The training tests use the chapters' seeds and settings (smaller where they can be) and
assert with wide margins, so that float noise across machines cannot flip them.
"""

import numpy as np
import pytest
import torch

from lstm_lessons import init_rnn_params, rnn_forward
from lstm_lessons.experiments import rnn_memory as recall
from lstm_lessons.experiments import vanishing_gradients as gf
from lstm_lessons.training.loop import SequenceModel

# --- C01: recall against delay -------------------------------------------------------

SHORT, LONG = 10, 40


@pytest.fixture(scope="module")
def recall_sweep():
    return recall.accuracy_vs_delay(("rnn", "lstm"), (SHORT, LONG), (0,))


def test_c01_lstm_recalls_across_a_long_delay_where_the_rnn_is_at_chance(recall_sweep):
    rnn, lstm = recall_sweep.accuracy["rnn"][0], recall_sweep.accuracy["lstm"][0]
    assert rnn[0] > 0.9 and lstm[0] > 0.9  # both learn the short delay
    assert lstm[1] > 0.9  # the LSTM keeps the symbol over the long one
    assert rnn[1] < 0.5  # chance is 1/4; the RNN is near it
    assert recall_sweep.chance == pytest.approx(0.25)


def test_c01_the_symbol_fades_from_the_rnn_state_but_not_from_the_lstm_cell(recall_sweep):
    rnn = recall.symbol_trace(recall_sweep.models[("rnn", LONG, 0)], LONG)
    lstm = recall.symbol_trace(recall_sweep.models[("lstm", LONG, 0)], LONG)
    assert set(rnn) == {"h"} and set(lstm) == {"h", "c"}
    assert rnn["h"].shape == lstm["c"].shape == (LONG + 2,)
    # Exponential fading in the RNN: a million-fold loss over the delay, at a steady rate.
    assert rnn["h"][-1] < 1e-6 * rnn["h"][0]
    assert np.all(np.diff(np.log(rnn["h"][:20])) < 0)
    # The LSTM's cell state still tells the two symbols apart at the query.
    assert lstm["c"][-1] > lstm["c"][0] > 0.1


def test_c01_at_this_budget_the_lstm_needs_its_starting_gate_biases():
    """Chapter 1's second caution: from PyTorch's default biases, the LSTM does not learn."""
    model, _ = recall.train_recall("lstm", SHORT, forget_bias=None, input_bias=None)
    assert recall.recall_accuracy(model, SHORT) < 0.5


def test_c01_recall_model_starts_the_lstm_gates_as_requested():
    model = recall.recall_model("lstm", hidden_size=5, forget_bias=4.0, input_bias=-3.0)
    b = (model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0).detach().numpy()
    np.testing.assert_allclose(b[:5], -3.0)  # i block
    np.testing.assert_allclose(b[5:10], 4.0)  # f block
    untouched = recall.recall_model("lstm", hidden_size=5, input_bias=None)
    b_untouched = (untouched.rnn.bias_ih_l0 + untouched.rnn.bias_hh_l0).detach().numpy()
    assert np.abs(b_untouched[:5]).max() < 1  # PyTorch's own small initial values


# --- C02: gradients through time ------------------------------------------------------


def test_c02_gradient_is_the_product_of_per_step_jacobians():
    """BPTT's dL/dh_t equals u J_T J_{T-1} ... J_{t+1}, J_j = diag(1 - h_j^2) W_h^T."""
    T, N, D, H = 7, 3, 2, 4
    rng = np.random.default_rng(5)
    params = init_rnn_params(D, H, seed=1)
    params["b"] = params["b"] + rng.uniform(0.1, 0.5, size=H)  # non-zero bias
    x = rng.standard_normal((T, N, D))
    h0 = 0.5 * rng.standard_normal((N, H))
    u = rng.standard_normal((N, H))

    norms = gf.gradient_norms_through_time(params, x, h0, u)
    hs, _ = rnn_forward(x, h0, params)
    for n in range(N):
        g = u[n]
        for k in range(T + 1):  # k = T - t
            np.testing.assert_allclose(norms[k, n], np.linalg.norm(g), rtol=1e-12)
            if k < T:
                J = np.diag(1.0 - hs[T - 1 - k, n] ** 2) @ params["W_h"].T  # J_{T-k}
                g = g @ J  # the row vector multiplies from the left


def test_c02_matrix_with_spectral_radius():
    for kind in gf.MATRIX_KINDS:
        W = gf.matrix_with_spectral_radius(12, 0.9, kind=kind, seed=3)
        assert np.abs(np.linalg.eigvals(W)).max() == pytest.approx(0.9)
    Q = gf.matrix_with_spectral_radius(12, 0.9, kind="orthogonal", seed=3)
    np.testing.assert_allclose(np.linalg.svd(Q, compute_uv=False), 0.9)
    G = gf.matrix_with_spectral_radius(12, 0.9, kind="gaussian", seed=3)
    assert np.linalg.norm(G, 2) > 1.2 * 0.9  # non-normal: sigma_max well above rho


@pytest.mark.parametrize("kind", gf.MATRIX_KINDS)
@pytest.mark.parametrize("rho", [0.8, 1.0, 1.2])
@pytest.mark.parametrize("input_scale", [1e-6, 1.0])
def test_c02_gradient_never_exceeds_the_singular_value_bound(kind, rho, input_scale):
    W = gf.matrix_with_spectral_radius(16, rho, kind=kind, seed=0)
    result = gf.rnn_gradient_norms(W, 30, input_scale=input_scale, N=4)
    bound = gf.jacobian_bound(W, result.distance)
    assert np.all(result.norms <= bound[:, None] * (1 + 1e-9))


def test_c02_in_the_linear_range_the_gradient_changes_like_rho_to_the_distance():
    T = 40
    rates = {}
    for rho in (0.8, 1.0, 1.2):
        W = gf.matrix_with_spectral_radius(16, rho, seed=0)
        result = gf.rnn_gradient_norms(W, T, input_scale=1e-6, N=4)
        log_norm = np.log(result.norms).mean(axis=1)
        slope, intercept = np.polyfit(result.distance, log_norm, 1)
        rates[rho] = np.exp(slope)
        # Exponential: the log of the norm is a straight line in the distance.
        assert np.abs(log_norm - (slope * result.distance + intercept)).max() < 0.05
    assert rates[0.8] == pytest.approx(0.8, rel=0.01)  # vanishing
    assert rates[1.0] == pytest.approx(1.0, rel=0.01)
    assert rates[1.2] == pytest.approx(1.2, rel=0.01)  # exploding: 1.2^40 ~ 1.5e3


def test_c02_saturation_makes_the_gradient_vanish_even_above_radius_one():
    W = gf.matrix_with_spectral_radius(16, 1.2, seed=0)
    linear = gf.rnn_gradient_norms(W, 40, input_scale=1e-6, N=4)
    saturated = gf.rnn_gradient_norms(W, 40, input_scale=1.0, N=4)
    assert linear.norms[-1].min() > 100  # grows where tanh is linear
    assert saturated.norms[-1].max() < 1e-3  # vanishes where it saturates
    assert saturated.slope.mean() < 0.7 < 0.99 < linear.slope.min()


def test_c02_gaussian_matrix_decays_at_rate_rho_although_its_bound_grows():
    W = gf.matrix_with_spectral_radius(16, 0.8, kind="gaussian", seed=0)
    result = gf.rnn_gradient_norms(W, 40, input_scale=1e-6, N=4)
    assert gf.jacobian_bound(W, 40) > 1  # the bound says nothing here
    far = result.distance >= 20
    slope = np.polyfit(result.distance[far], np.log(result.norms[far]).mean(axis=1), 1)[0]
    assert np.exp(slope) == pytest.approx(0.8, rel=0.03)


# --- C03: clipping --------------------------------------------------------------------


@pytest.fixture(scope="module")
def clipping_runs():
    return gf.clipping_experiment(None), gf.clipping_experiment(1.0)


def test_c03_without_clipping_the_gradient_explodes_and_training_diverges(clipping_runs):
    unclipped, _ = clipping_runs
    grad = np.asarray(unclipped.grad_norm)
    loss = np.asarray(unclipped.loss)
    assert grad[np.isfinite(grad)].max() > 1e6
    assert loss[np.isfinite(loss)].max() > 1e3 * loss[0]
    assert len(loss) < 200 or not np.isfinite(loss[-1])  # it overflowed


def test_c03_with_clipping_the_gradient_stays_bounded_and_the_loss_falls(clipping_runs):
    unclipped, clipped = clipping_runs
    assert len(clipped.loss) == 200 and np.all(np.isfinite(clipped.loss))
    assert max(clipped.grad_norm) < 100
    assert clipped.loss[0] == unclipped.loss[0]  # same start, same first batch
    assert np.mean(clipped.loss[-20:]) < min(0.25, 0.5 * clipped.loss[0])


# --- The adding problem ---------------------------------------------------------------


def test_adding_problem_lstm_solves_long_T_where_the_rnn_does_not():
    T = 50
    lstm, _ = gf.train_adding("lstm", T, seed=0)
    rnn, _ = gf.train_adding("rnn", T, seed=0)
    assert gf.adding_mse(lstm, T) < 0.3 * gf.ADDING_BASELINE
    assert gf.adding_mse(rnn, T) > 0.8 * gf.ADDING_BASELINE


def test_adding_baseline_is_the_variance_of_the_target():
    model = SequenceModel(2, 4, 1, cell="rnn")
    with torch.no_grad():  # a network that always answers 1, the target's mean
        for p in model.parameters():
            p.zero_()
        model.readout.bias.fill_(1.0)
    assert gf.adding_mse(model, 20, n=20_000) == pytest.approx(gf.ADDING_BASELINE, rel=0.03)


# --- Bad input ------------------------------------------------------------------------

W4 = np.eye(4)
PARAMS = init_rnn_params(2, 4)
X = np.zeros((3, 2, 2))
H0 = np.zeros((2, 4))

BAD_CALLS = {
    "H zero": (lambda: gf.matrix_with_spectral_radius(0, 1.0), ValueError, r"H: expected a pos"),
    "rho negative": (
        lambda: gf.matrix_with_spectral_radius(4, -1.0),
        ValueError,
        r"rho: expected a positive number, got -1.0",
    ),
    "rho string": (
        lambda: gf.matrix_with_spectral_radius(4, "1"),
        TypeError,
        r"rho: expected a positive number, got str",
    ),
    "unknown kind": (
        lambda: gf.matrix_with_spectral_radius(4, 1.0, kind="unitary"),
        ValueError,
        r"kind: expected one of \('orthogonal', 'gaussian'\), got 'unitary'",
    ),
    "u of wrong shape": (
        lambda: gf.gradient_norms_through_time(PARAMS, X, H0, np.ones(4)),
        ValueError,
        r"u: expected shape \(N, H\) = \(2, 4\), got \(4,\)",
    ),
    "x of rank 2": (
        lambda: gf.gradient_norms_through_time(PARAMS, X[0], H0, H0),
        ValueError,
        r"x: expected a 3-D array",
    ),
    "W_h not square": (
        lambda: gf.rnn_gradient_norms(np.ones((3, 4)), 5),
        ValueError,
        r"W_h: expected a square \(H, H\) matrix, got shape \(3, 4\)",
    ),
    "T zero": (lambda: gf.rnn_gradient_norms(W4, 0), ValueError, r"T: expected a positive int"),
    "negative input scale": (
        lambda: gf.rnn_gradient_norms(W4, 5, input_scale=-1.0),
        ValueError,
        r"input_scale: expected a number >= 0",
    ),
    "negative distance": (
        lambda: gf.jacobian_bound(W4, [-1, 2]),
        ValueError,
        r"distances: expected finite distances",
    ),
    "clip zero": (
        lambda: gf.clipping_experiment(0.0),
        ValueError,
        r"clip: expected a positive number, got 0.0",
    ),
    "lr negative": (
        lambda: gf.clipping_experiment(None, lr=-0.1),
        ValueError,
        r"lr: expected a positive number",
    ),
    "adding with a GRU": (
        lambda: gf.train_adding("gru", 10),
        ValueError,
        r"cell: expected one of \('rnn', 'lstm'\), got 'gru'",
    ),
    "adding with T = 0": (lambda: gf.train_adding("rnn", 0), ValueError, r"T: expected a pos"),
    "recall with an unknown cell": (
        lambda: recall.train_recall("transformer", 5),
        ValueError,
        r"cell: expected one of \('rnn', 'lstm', 'gru'\), got 'transformer'",
    ),
    "negative delay": (
        lambda: recall.train_recall("rnn", -1),
        ValueError,
        r"delay: expected an integer >= 0, got -1",
    ),
    "one symbol": (
        lambda: recall.recall_model("rnn", n_symbols=1),
        ValueError,
        r"n_symbols: expected an integer >= 2, got 1",
    ),
    "no delays": (
        lambda: recall.accuracy_vs_delay(delays=()),
        ValueError,
        r"expected one or more of each",
    ),
    "trace of a non-model": (
        lambda: recall.symbol_trace("model", 5),
        TypeError,
        r"model: expected a SequenceModel, got str",
    ),
    "trace with the wrong number of symbols": (
        lambda: recall.symbol_trace(recall.recall_model("rnn", n_symbols=4), 5, n_symbols=3),
        ValueError,
        r"n_symbols: the model reads 4 symbols, got 3",
    ),
}


@pytest.mark.parametrize("case", BAD_CALLS, ids=list(BAD_CALLS))
def test_bad_parameters_are_rejected_with_a_clear_message(case):
    call, error, message = BAD_CALLS[case]
    with pytest.raises(error, match=message):
        call()
