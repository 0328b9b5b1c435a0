"""Claims C07-C12 of chapters 5 (the input gate) and 6 (the leaky integrator), and input checks
of lstm_lessons.experiments.input_gate and lstm_lessons.experiments.leaky_integrator."""

import numpy as np
import pytest
from helpers import random_inputs, randomise_biases

import lstm_lessons as ll
from lstm_lessons.experiments import input_gate as gp
from lstm_lessons.experiments import leaky_integrator as fl
from lstm_lessons.pytorch.agreement import torch_gap
from lstm_lessons.training import tasks
from lstm_lessons.training.loop import evaluate

K, DELAY = 4, 15  # chapter 5's delayed-recall task
P_CHANGE, NOISE = 0.01, 0.3  # chapter 6's piecewise-constant task


# C07: the candidate, the input gate and the cell update


def test_c07_numpy_cell_matches_torch_lstm_to_float64_precision():
    """C07: the package's cell is torch.nn.LSTM's, on a random cell and on chapter 5's latch."""
    T, N, D, H = 30, 8, 3, 4
    x, h0, c0 = random_inputs(T, N, D, H, seed=11)
    params = randomise_biases(ll.init_lstm_params(D, H, seed=2, forget_bias=1.0))
    assert torch_gap(x, h0, c0, params) < 1e-12

    x, _ = tasks.delayed_recall(64, DELAY, K, rng=5, dtype=np.float64)
    zeros = np.zeros((64, K))
    assert torch_gap(x, zeros, zeros, gp.latch_params(K)) < 1e-12


def test_c07_candidate_lies_in_open_interval_and_update_is_keep_plus_write():
    """C07: g = tanh(a_g) in (-1, 1), i in (0, 1), and c_t = f_t c_{t-1} + i_t g_t exactly."""
    T, N, D, H = 40, 16, 3, 5
    x, h0, c0 = random_inputs(T, N, D, H, seed=3)
    params = randomise_biases(ll.init_lstm_params(D, H, seed=4))
    hs, cs, cache = ll.lstm_forward(3.0 * x, h0, c0, params)
    i, f, g = cache.gate("i"), cache.gate("f"), cache.gate("g")
    assert np.all(np.abs(g) < 1) and np.all((i > 0) & (i < 1))
    assert np.all(np.abs(i * g) < i)  # the write never exceeds the input gate
    c_prev = np.concatenate([c0[None], cs[:-1]])
    np.testing.assert_allclose(cs, f * c_prev + i * g, rtol=0, atol=1e-15)
    # In float64, tanh rounds to exactly 1 once its argument passes about 19: |g| <= 1 there.
    _, _, big = ll.lstm_forward(100.0 * x, h0, c0, params)
    assert np.abs(big.gate("g")).max() == 1.0


# C08: constant gates make a leaky integrator; the EMA is the special case


def test_c08_constant_gate_cell_is_the_exponential_moving_average():
    """C08: with f = a, i = 1 - a and g = x (niaf), the LSTM cell computes ema(x, a)."""
    leaks = np.array([0.3, 0.8, 0.95])
    x = np.random.default_rng(0).standard_normal((200, 6, 3))
    zeros = np.zeros((6, 3))
    params = fl.constant_gate_params(leaks, 1 - leaks, variant="niaf")
    _, cs, cache = ll.lstm_forward(x, zeros, zeros, params, variant="niaf")
    np.testing.assert_allclose(cache.gate("f"), np.broadcast_to(leaks, cs.shape), atol=1e-15)
    np.testing.assert_allclose(cs, ll.ema(x, leaks), rtol=0, atol=1e-14)
    # The standard cell with the same gates is the EMA of tanh(x), not of x.
    std = fl.constant_gate_params(leaks, 1 - leaks, variant="standard")
    _, cs_std, _ = ll.lstm_forward(x, zeros, zeros, std)
    np.testing.assert_allclose(cs_std, ll.ema(np.tanh(x), leaks), rtol=0, atol=1e-14)
    assert np.abs(cs_std - ll.ema(x, leaks)).max() > 0.1


# C09: a fixed leak trades lag for noise


def test_c09_smaller_leak_adapts_faster_but_leaves_more_noise():
    """C09: as a decreases, the lag falls and the residual noise rises, both monotonically."""
    leaks = [0.98, 0.95, 0.9, 0.8, 0.7, 0.5, 0.3]  # decreasing
    sweep = fl.tradeoff_sweep(leaks, noise=NOISE, T=20_000)
    assert np.all(np.diff(sweep["lag"]) < 0)
    assert np.all(np.diff(sweep["noise"]) > 0)
    np.testing.assert_array_equal(sweep["lag"], sweep["lag_formula"])
    np.testing.assert_allclose(sweep["noise"], sweep["noise_formula"], rtol=0.1)


def test_lag_and_noise_of_an_ema_on_an_isolated_clean_step_is_its_step_lag():
    T, N = 200, 4
    y = np.zeros((T, N, 1))
    y[50:] = 1.0
    changes = np.zeros((T, N), dtype=bool)
    changes[50] = True
    for a in (0.5, 0.8, 0.9):
        lag, noise = fl.lag_and_noise(ll.ema(y, a)[:, :, 0], y, changes)
        assert lag == fl.step_lag(a)
        assert noise < 0.02  # no noise: only the old level's fading tail, a^21 at most


def test_steps_since_change_counts_from_each_change():
    changes = np.zeros((8, 2), dtype=bool)
    changes[2, 0] = changes[5, 0] = True
    since = fl.steps_since_change(changes)
    np.testing.assert_array_equal(since[2:, 0], [0, 1, 2, 0, 1, 2])
    assert np.all(since[:2, 0] > 10**6) and np.all(since[:, 1] > 10**6)  # nothing changed yet


# C10: an LSTM whose gates follow the input escapes the trade-off


@pytest.fixture(scope="module")
def tracker():
    """Chapter 6's level tracker (H = 8, 1000 steps, seed 0): a few seconds on one thread."""
    model, _ = fl.train_level_tracker(
        T=200, p_change=P_CHANGE, noise=NOISE, hidden_size=8, steps=1000, seed=0
    )
    return model


def test_c10_trained_lstm_beats_best_ema_and_its_gates_react_to_changes(tracker):
    """C10: lower error than the best fixed leak, quicker *and* smoother; f dips, i rises."""
    x, y, changes = tasks.piecewise_constant(128, 400, P_CHANGE, NOISE, rng=10**6)
    a_best, mse_ema, _ = fl.best_ema(x, y, np.linspace(0, 0.99, 100))
    pred = fl.tracker_output(tracker, x)
    mse_lstm = np.mean((pred - y[:, :, 0]) ** 2)
    assert mse_lstm < 0.8 * mse_ema  # the chapter's run: about 0.55

    lag_lstm, noise_lstm = fl.lag_and_noise(pred, y, changes)
    lag_ema, noise_ema = fl.lag_and_noise(ll.ema(x, a_best)[:, :, 0], y, changes)
    assert lag_lstm < lag_ema and noise_lstm < noise_ema

    hs, _, cache = tracker.run_numpy(x)
    shares = fl.output_shares(tracker.readout.weight.detach().numpy()[0], hs)
    f = fl.around_changes(cache.gate("f") @ shares, y, changes)
    i = fl.around_changes(cache.gate("i") @ shares, y, changes)
    assert f["after"] < f["stable"] - 0.02  # the chapter's run: 0.74 -> 0.69
    assert i["after"] > i["stable"] + 0.02  # 0.63 -> 0.67
    assert f["curve"].min() < f["curve"][0] - 0.05  # the dip right at the change


def test_best_ema_finds_the_leak_with_the_smallest_error():
    x, y, _ = tasks.piecewise_constant(16, 300, P_CHANGE, NOISE, rng=2)
    leaks = np.linspace(0, 0.95, 20)
    a_best, mse_best, mses = fl.best_ema(x, y, leaks)
    brute = [np.mean((ll.ema(x.astype(np.float64), a) - y) ** 2) for a in leaks]
    np.testing.assert_allclose(mses, brute, rtol=1e-9)
    assert a_best == leaks[np.argmin(brute)] and mse_best == pytest.approx(min(brute))


def test_tracker_output_is_the_torch_models_output(tracker):
    import torch

    x, _, _ = tasks.piecewise_constant(4, 50, rng=1)
    with torch.no_grad():
        expected = tracker(torch.from_numpy(x))[:, :, 0].numpy()
    np.testing.assert_allclose(fl.tracker_output(tracker, x), expected, atol=1e-5)


# C11: the input gate at the marker, and what a trained LSTM does instead


def test_c11_hand_built_latch_opens_input_gate_only_at_the_marker():
    """C11, the textbook mechanism: i ~ 1 at the marker, i ~ 0 and f ~ 1 through the delay."""
    x, y = tasks.delayed_recall(400, DELAY, K, rng=3, dtype=np.float64)
    zeros = np.zeros((400, K))
    _, cs, cache = ll.lstm_forward(x, zeros, zeros, gp.latch_params(K))
    assert np.mean(cache.h[-1].argmax(axis=1) == y) == 1.0
    s = gp.gate_summary(cache, x, y, unit=y)  # each sequence at its own storing unit
    assert s["i_marker"] > 0.999 and s["i_delay"] < 1e-3
    assert s["f_delay"] > 0.999 and s["f_product"] > 0.99
    assert s["c_marker"] > 0.99 and abs(s["c_query"] - s["c_marker"]) < 0.01


@pytest.fixture(scope="module")
def recall_model():
    """Chapter 5's trained model (H = 16, 400 steps, seed 0): about a second."""
    model, _ = gp.train_recall_model(
        delay=DELAY, n_symbols=K, hidden_size=16, steps=400, forget_bias=2.0, clip=1.0, seed=0
    )
    return model


def test_c11_trained_lstm_keeps_forget_gate_high_and_distractors_out(recall_model):
    """C11 as training finds it: recall is right, f stays high, and the distractors do not get
    into what the storing unit writes, although its input gate stays open (chapter 5's table)."""
    x, y = tasks.delayed_recall(1000, DELAY, K, rng=10**6, dtype=np.float64)
    assert evaluate(recall_model, x, y, loss="ce")["accuracy"] > 0.95
    _, cs, cache = recall_model.run_numpy(x)
    unit, eta2 = gp.storing_unit(cs, y, K)
    assert eta2[unit] > 0.9
    s = gp.gate_summary(cache, x, y, unit)
    assert s["f_delay"] > 0.75  # high (0.93 in the chapter's run), though not 1
    assert s["write_by_stored"] > 0.8  # what is written during the delay is the memory ...
    assert s["write_by_distractor"] < 0.2  # ... not the distractor in front of it
    # The chapter says that this is not the latch: the gate stays open and c keeps growing.
    assert s["i_delay"] > 0.2
    assert s["c_query"] > 2 * s["c_marker"]


def test_separation_is_one_for_separated_classes_and_near_zero_for_noise():
    labels = np.repeat(np.arange(3), 50)
    values = np.stack([labels * 2.0, np.random.default_rng(0).standard_normal(150)], axis=1)
    eta2 = gp.separation(values, labels, 3)
    assert eta2[0] == pytest.approx(1.0) and eta2[1] < 0.1


# C12: with f < 1 the cell state is bounded by i / (1 - f)


def test_c12_worst_case_input_converges_to_bound_and_never_exceeds_it():
    """C12: constant gates, g = +1 at every step (tanh(30) == 1.0): c climbs to i/(1-f)."""
    f = np.array([0.5, 0.8, 0.9])
    i = np.array([0.5, 0.5, 0.3])
    x = np.full((300, 1, 3), 30.0)
    zeros = np.zeros((1, 3))
    _, cs, cache = ll.lstm_forward(x, zeros, zeros, fl.constant_gate_params(f, i, "standard"))
    assert np.all(cache.gate("g") == 1.0)
    bound = ll.leaky_bound(cache.gate("f")[0, 0], cache.gate("i")[0, 0])
    np.testing.assert_allclose(bound, i / (1 - f), rtol=1e-12)
    c = cs[:, 0, :]
    assert np.all(c <= bound * (1 + 1e-12))  # never above, up to the last bit of rounding
    assert np.all(np.diff(c, axis=0) >= 0)  # climbing all the way
    np.testing.assert_allclose(c[-1], bound, rtol=1e-9)  # and arriving


def test_c12_random_bounded_input_never_exceeds_bound():
    """C12 for any input with |g| <= 1 (here the leaky integrator itself, many random drives)."""
    rng = np.random.default_rng(7)
    f, i = rng.uniform(0.1, 0.99, 50), rng.uniform(0.01, 1.0, 50)
    g = rng.choice([-1.0, 1.0], size=(500, 50)) * rng.uniform(0.5, 1.0, size=(500, 50))
    c = ll.leaky_integrate(g, f, i)
    assert np.all(np.abs(c) <= ll.leaky_bound(f, i) * (1 + 1e-12))


def test_c12_greedy_adversary_stays_within_bound_of_its_largest_gates():
    """C12 with varying gates: the greedy adversary beats random input, but
    |c_t| <= i_max / (1 - f_max) over the gates it provoked."""
    params = ll.init_lstm_params(3, 4, seed=3, forget_bias=2.0)
    levels = np.linspace(-3.0, 3.0, 7)
    candidates = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    x, cache = fl.greedy_drive(params, candidates, T=300, unit=0)
    c = cache.c[1:, 0, 0]
    f_max, i_max = cache.gate("f")[:, 0, 0].max(), cache.gate("i")[:, 0, 0].max()
    assert np.abs(c).max() <= ll.leaky_bound(f_max, i_max)

    x_rand = np.random.default_rng(0).uniform(-3.0, 3.0, size=(300, 1, 3))
    _, cs_rand, _ = ll.lstm_forward(x_rand, np.zeros((1, 4)), np.zeros((1, 4)), params)
    assert c.max() > 5 * np.abs(cs_rand[:, 0, 0]).max()  # it is an adversary


# Input checks: every public function says what it expected and what came


def _recall_cache():
    x, y = tasks.delayed_recall(8, 3, K, rng=0, dtype=np.float64)
    zeros = np.zeros((8, K))
    return x, y, ll.lstm_forward(x, zeros, zeros, gp.latch_params(K))[2]


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda: gp.latch_params(n_symbols=1), ValueError, r"n_symbols: expected an integer >= 2"),
        (lambda: gp.latch_params(gain=0.0), ValueError, r"gain: expected a positive number"),
        (lambda: gp.train_recall_model(delay=0), ValueError, r"delay: expected a positive"),
        (lambda: gp.train_recall_model(steps=2.5), ValueError, r"steps: expected a positive"),
        (
            lambda: gp.separation(np.zeros((4, 2)), np.zeros(3, dtype=int), 2),
            ValueError,
            r"labels: expected an integer array of shape \(4,\)",
        ),
        (
            lambda: gp.separation(np.zeros(4), np.zeros(4, dtype=int), 2),
            ValueError,
            r"values: expected a 2-D array",
        ),
        (
            lambda: gp.storing_unit(np.zeros((5, 4)), np.zeros(5, dtype=int), 2),
            ValueError,
            r"cs: expected a 3-D array",
        ),
        (
            lambda: gp.gate_summary(_recall_cache()[2], *_recall_cache()[:2], unit=K),
            ValueError,
            r"unit: expected an integer .* in \[0, 4\)",
        ),
        (
            lambda: gp.gate_summary(_recall_cache()[2], np.zeros((5, 8, 3)), _recall_cache()[1], 0),
            ValueError,
            r"x: expected delayed-recall inputs",
        ),
        (
            lambda: torch_gap(
                np.zeros((3, 2, K + 2), dtype=np.float32),
                np.zeros((2, K), dtype=np.float32),
                np.zeros((2, K), dtype=np.float32),
                {k: v.astype(np.float32) for k, v in gp.latch_params(K).items()},
            ),
            TypeError,
            r"x: expected float64",
        ),
    ],
)
def test_gate_probes_reject_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    "call,message",
    [
        (
            lambda: fl.constant_gate_params(1.0, 0.5),
            r"f: expected numbers strictly between 0 and 1",
        ),
        (
            lambda: fl.constant_gate_params(0.5, 0.0),
            r"i: expected numbers strictly between 0 and 1",
        ),
        (lambda: fl.constant_gate_params(0.5, 0.5, "cifg"), r"variant: expected 'niaf' or"),
        (lambda: fl.step_lag(1.0), r"a: expected one leak with 0 <= a < 1"),
        (lambda: fl.step_lag(0.5, frac=1.5), r"frac: expected a fraction"),
        (lambda: fl.residual_noise(0.5, noise=-1.0), r"noise: expected a standard deviation"),
        (lambda: fl.tradeoff_sweep([]), r"leaks: expected a 1-D array"),
        (
            lambda: fl.best_ema(np.zeros((5, 2, 1)), np.zeros((5, 3, 1)), [0.5]),
            r"x, y: expected two arrays of the same shape",
        ),
        (
            lambda: fl.best_ema(np.zeros((5, 2, 1)), np.zeros((5, 2, 1)), [1.5]),
            r"leaks: expected a 1-D array of leaks in \[0, 1\]",
        ),
        (lambda: fl.train_level_tracker(steps=0), r"steps: expected a positive integer"),
        (lambda: fl.steps_since_change(np.zeros((5, 2))), r"changes: expected a boolean array"),
        (
            lambda: fl.output_shares(np.ones(3), np.zeros((5, 2, 4))),
            r"readout_weight: expected shape \(4,\)",
        ),
        (
            lambda: fl.around_changes(
                np.zeros((5, 3)), np.zeros((5, 2, 1)), np.zeros((5, 2), dtype=bool)
            ),
            r"values: expected shape \(5, 2\)",
        ),
        (
            lambda: fl.around_changes(
                np.zeros((5, 2)), np.zeros((5, 2, 1)), np.zeros((5, 2), dtype=bool), stat="mode"
            ),
            r"stat: expected 'mean' or 'median'",
        ),
        (
            lambda: fl.lag_and_noise(
                np.zeros((5, 3)), np.zeros((5, 2, 1)), np.zeros((5, 2), dtype=bool)
            ),
            r"pred, y: expected shapes",
        ),
        (
            lambda: fl.greedy_drive(ll.init_lstm_params(3, 2), np.zeros((4, 2)), T=5),
            r"candidates: expected D=3 columns",
        ),
        (
            lambda: fl.greedy_drive(ll.init_lstm_params(3, 2), np.zeros((4, 3)), T=0),
            r"T: expected a positive integer",
        ),
    ],
)
def test_filtering_rejects_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
