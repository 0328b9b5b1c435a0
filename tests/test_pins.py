"""Pins: small hand-built cases, with answers worked out by hand, for code whose numbers the
book prints. Each test names the function it pins; a single-line change to that function
(a wrong index, ``>`` for ``>=``, a dropped factor) makes it fail, as a mutation pass showed
for each one (tools/mutate.py, tools/mutations.txt).
"""

import numpy as np
import pytest

import lstm_lessons as ll
import lstm_lessons.homework.checks as checks
from lstm_lessons.cells.gradcheck import relative_error
from lstm_lessons.cells.leaky import residual_noise
from lstm_lessons.experiments import (
    forget_gate,
    input_gate,
    leaky_integrator,
    output_gate,
    rnn_memory,
)
from lstm_lessons.homework.checks import CheckFailed
from lstm_lessons.training import tasks
from lstm_lessons.training.model import SequenceModel

# forget_gate.continual_stream: the bound G / (1 - F)


def test_pin_continual_stream_bound_is_g_over_one_minus_f_of_the_gates_it_saw():
    """The bound is G / (1 - F) of the documented cell, not a multiple of it.

    The cell is rebuilt as the docstring describes it (init_lstm_params with the forget
    bias, candidate weights and bias made non-negative) and must give the same c_t; then
    F (the largest f) and G (the largest i |g|) of each unit give the bound.
    """
    D, H, T, seed, b_f = 1, 2, 6, 3, 0.5
    stream = forget_gate.continual_stream(
        T=T, hidden_size=H, input_size=D, forget_bias=b_f, seed=seed
    )
    params = ll.init_lstm_params(D, H, seed=seed, forget_bias=b_f)
    g = slice(2 * H, 3 * H)
    params["W_x"][:, g] = np.abs(params["W_x"][:, g])
    params["b"][g] = np.abs(params["b"][g])
    zeros = np.zeros((1, H))
    _, c, cache = ll.lstm_forward(stream.x[:, None, :], zeros, zeros, params)
    np.testing.assert_array_equal(c[:, 0], stream.c_standard)  # the same cell, the same stream
    F = cache.gate("f")[:, 0].max(axis=0)
    G = (cache.gate("i") * np.abs(cache.gate("g")))[:, 0].max(axis=0)
    np.testing.assert_allclose(stream.bound, G / (1.0 - F), rtol=1e-12)
    assert np.all(F > 0.5)  # b_f = 0.5 > 0 and inputs >= 0: the 1 / (1 - F) factor matters


def test_pin_continual_stream_bound_is_reached_when_the_cell_forgets_everything():
    """With f ~ 0 (b_f = -60), c_t = i_t g_t, so G = max |c_t| and the bound is exactly it."""
    stream = forget_gate.continual_stream(T=50, hidden_size=3, forget_bias=-60.0, seed=1)
    np.testing.assert_allclose(stream.bound, np.abs(stream.c_standard).max(axis=0), rtol=1e-12)


# input_gate.storing_unit: the memory before the query is cs[-2]


def test_pin_storing_unit_reads_the_state_before_the_query():
    """cs[-2] separates the symbols in unit 1; cs[-1] (after the query) in unit 0."""
    y = np.array([0, 1, 0, 1])
    cs = np.zeros((3, 4, 2))
    cs[-2, :, 1] = [-1.0, 1.0, -1.0, 1.0]  # before the query: unit 1 holds the symbol
    cs[-2, :, 0] = [1.0, 1.0, -1.0, -1.0]  # unit 0 does not
    cs[-1] = cs[-2, :, ::-1]  # after the query the roles are swapped
    unit, eta2 = input_gate.storing_unit(cs, y, 2)
    assert unit == 1
    np.testing.assert_allclose(eta2, [0.0, 1.0], atol=1e-12)


def test_pin_separation_is_the_explained_fraction_of_variance():
    """Class means 0 and 2, within-class variance 1: total 2, explained 1 - 1/2 = 1/2."""
    values = np.array([-1.0, 1.0, 1.0, 3.0])[:, None]
    labels = np.array([0, 0, 1, 1])
    np.testing.assert_allclose(input_gate.separation(values, labels, 2), [0.5], rtol=1e-12)
    # Unequal class sizes: classes are weighted equally, within = mean(0, 1) = 1/2.
    values = np.array([0.0, 0.0, 1.0, 3.0])[:, None]
    labels = np.array([0, 0, 1, 1])
    total = np.var([0.0, 0.0, 1.0, 3.0])
    np.testing.assert_allclose(
        input_gate.separation(values, labels, 2), [1 - 0.5 / total], rtol=1e-12
    )


def test_pin_gate_summary_of_a_cell_with_constant_gates():
    """f = i = o = 1/2 and g = x (niaf), unit k reads channel k: c_t = (c_{t-1} + x_t) / 2.

    With K = 2 and delay = 2 (steps: marker, two distractors, query), the marker unit
    (channel K) holds 1/2 after the marker and 1/8 before the query; the query unit
    (channel K + 1) holds 0 before the query and 1/2 only after it.
    """
    K, delay, N = 2, 2, 6
    x, y = tasks.delayed_recall(N, delay, K, rng=0, dtype=np.float64)
    params = leaky_integrator.constant_gate_params(0.5, np.full(K + 2, 0.5), variant="niaf")
    zeros = np.zeros((N, K + 2))
    _, _, cache = ll.lstm_forward(x, zeros, zeros, params, "niaf")
    marker = input_gate.gate_summary(cache, x, y, K)
    assert marker["c_marker"] == pytest.approx(0.5)
    assert marker["c_query"] == pytest.approx(0.125)
    assert marker["i_marker"] == pytest.approx(0.5) and marker["f_delay"] == pytest.approx(0.5)
    assert marker["f_product"] == pytest.approx(0.25)
    query = input_gate.gate_summary(cache, x, y, K + 1)
    assert query["c_marker"] == 0.0 and query["c_query"] == 0.0


# output_gate.hold_mask: strictly between KEY and QUERY


def _one_key(T, key_steps):
    x = np.zeros((T, len(key_steps), 3))
    y = np.zeros((T, len(key_steps), 1))
    for n, k in enumerate(key_steps):
        x[k, n, 0] = y[-1, n, 0] = 1.0 if n % 2 == 0 else -1.0
        x[k, n, 1] = 1.0
    x[-1, :, 2] = 1.0
    return x, y


def test_pin_hold_mask_is_strictly_between_key_and_query():
    x, y = _one_key(6, [1, 0])
    expected = np.array(
        [
            [False, False],
            [False, True],
            [True, True],
            [True, True],
            [True, True],
            [False, False],  # the query itself
        ]
    )
    np.testing.assert_array_equal(output_gate.hold_mask(x, y), expected)


def test_pin_trapdoor_storing_unit_uses_the_hold_steps_only():
    """Unit 0 carries the value strongly at KEY and at the query, unit 1 while it is held.

    Over the hold steps unit 0 moves 0.1 per unit of stored value and unit 1 moves 1, so
    unit 1 stores it; counting the KEY step or the query as held would pick unit 0.
    """
    T, key = 6, np.array([1, 1, 2, 2])
    x, y = _one_key(T, key)
    values = output_gate.stored_values(x, y)
    np.testing.assert_array_equal(values, [1.0, -1.0, 1.0, -1.0])
    t = np.arange(T)[:, None]
    held = (t > key) & (t < T - 1)
    cs = np.zeros((T, 4, 2))
    cs[:, :, 0] = 0.1 * values
    cs[key, np.arange(4), 0] = 5.0 * values
    cs[-1, :, 0] = 5.0 * values
    cs[:, :, 1] = np.where(held, values, 0.0)
    assert output_gate.storing_unit(cs, x, y) == 1


def test_pin_visibility_of_a_hand_made_unit():
    """c moves 2 per unit of stored value while it is held, h moves 0.1: exposure 0.05."""
    T, key = 6, np.array([1, 1, 2, 2])
    x, y = _one_key(T, key)
    values = output_gate.stored_values(x, y)
    t = np.arange(T)[:, None]
    held = (t > key) & (t < T - 1)
    cs = np.zeros((T, 4, 2))
    hs = np.zeros((T, 4, 2))
    cs[:, :, 1] = np.where(held, 2.0 * values + 0.5, 7.0)  # an offset does not count
    hs[:, :, 1] = np.where(held, -0.1 * values, 3.0)  # the sign of h is h's own
    o = np.full((T, 4, 2), 0.9)
    o[:, :, 1] = np.where(held, 0.2, 0.9)
    r = output_gate.visibility(hs, cs, o, x, y, 1)
    assert r["signal_c"] == pytest.approx(2.0, rel=1e-12)
    assert r["signal_h"] == pytest.approx(-0.1, rel=1e-12)
    assert r["exposure"] == pytest.approx(0.05, rel=1e-12)
    assert r["corr_c"] == pytest.approx(1.0) and r["corr_h"] == pytest.approx(-1.0)
    assert r["o_hold"] == pytest.approx(0.2) and r["o_query"] == pytest.approx(0.9)


# leaky_integrator.output_shares: w_k^2 var(h_k), normalised


def test_pin_output_shares_weigh_variance_by_the_squared_weight():
    hs = np.zeros((2, 2, 2))
    hs[:, :, 0] = [[1.0, -1.0], [1.0, -1.0]]  # var 1
    hs[:, :, 1] = [[2.0, -2.0], [2.0, -2.0]]  # var 4
    w = np.array([-2.0, 1.0])  # w^2 var: 4 * 1 and 1 * 4
    np.testing.assert_allclose(leaky_integrator.output_shares(w, hs), [0.5, 0.5], rtol=1e-12)
    w = np.array([1.0, -2.0])  # 1 * 1 and 4 * 4
    np.testing.assert_allclose(leaky_integrator.output_shares(w, hs), [1 / 17, 16 / 17], rtol=1e-12)


# tasks.key_query: the layout of its channels


def test_pin_key_query_channels():
    T, n = 8, 64
    x, y = tasks.key_query(n, T, rng=3)
    key = x[:, :, 1].argmax(axis=0)
    cols = np.arange(n)
    assert np.all((x[:, :, 1] == 1.0).sum(axis=0) == 1)  # one KEY flag per sequence
    assert np.all(key < T // 2)  # in the first half
    assert set(np.unique(key)) == set(range(T // 2))  # anywhere in it
    np.testing.assert_array_equal(x[key, cols, 0], y[-1, :, 0])  # the value at KEY is asked for
    assert set(np.unique(y[-1, :, 0])) == {-1.0, 1.0}
    np.testing.assert_array_equal(x[-1, :, 2], 1.0)  # QUERY at the last step ...
    np.testing.assert_array_equal(x[:-1, :, 2], 0.0)  # ... and nowhere else
    np.testing.assert_array_equal(x[-1, :, 0], 0.0)  # the query step shows no value
    np.testing.assert_array_equal(y[:-1], 0.0)  # silence until the query
    others = np.ones((T, n), dtype=bool)
    others[key, cols] = False
    others[-1] = False
    distractors = x[:, :, 0][others]
    assert np.all(np.abs(distractors) <= 1.0) and distractors.std() > 0.4  # uniform in [-1, 1]
    x0, _ = tasks.key_query(n, T, rng=3, distractors=False)
    np.testing.assert_array_equal(x0[:, :, 0][others], 0.0)


# gradcheck.relative_error: max |a - b| / max(|a| + |b|)


def test_pin_relative_error_is_the_largest_error_over_the_largest_scale():
    a = np.array([4.0, 0.0, 0.0, 1.0])
    b = np.array([4.0, 0.0, 0.0, 0.0])
    # max |a - b| = 1, max(|a| + |b|) = 8; a mean in either place gives another number.
    assert relative_error(a, b) == pytest.approx(1 / 8, rel=1e-15)
    assert relative_error(-a, -b) == pytest.approx(1 / 8, rel=1e-15)
    assert relative_error(np.array([1.0, -1.0]), np.array([-1.0, 1.0])) == 1.0


# cells.leaky.residual_noise: the standard deviation after a burn-in of 20 time constants


def test_pin_residual_noise_is_the_std_after_twenty_time_constants():
    a, noise, T, seed = 0.75, 0.3, 300, 4
    burn_in = 80  # 20 / (1 - 0.75)
    e = noise * np.random.default_rng(seed).standard_normal(burn_in + T)
    expected = ll.ema(e, a)[burn_in:].std()
    assert residual_noise(a, noise, T, rng=seed) == pytest.approx(expected, rel=1e-12)


# leaky_integrator.lag_and_noise: a hand-made response to one change


def test_pin_lag_and_noise_of_a_hand_made_response():
    T = 50
    y = np.zeros((T, 1, 1))
    y[5:] = 1.0  # one change, at step 5, from 0 to 1
    changes = np.zeros((T, 1), dtype=bool)
    changes[5] = True
    pred = y[:, :, 0].copy()
    pred[5:8, 0] = [0.3, 0.6, 0.95]  # reaches 0.9 of the jump 2 steps after it
    pred[30, 0] += 0.5  # one noisy step on the stable stretch (steps >= 25 and 0..4)
    lag, noise = leaky_integrator.lag_and_noise(pred, y, changes, stable=20, horizon=40)
    assert lag == 2
    stable = np.r_[0:5, 25:50]
    assert noise == pytest.approx((pred[stable, 0] - y[stable, 0, 0]).std(), rel=1e-12)


# homework checks: the numbers they compare with


def test_pin_check_shrink_uses_d0_and_twenty_steps():
    """On distances that do not shrink geometrically, only (d[20] / d[0]) ** (1/20) passes."""
    d = np.r_[1.0, 0.5 * 0.9 ** np.arange(29.0)]  # a first drop, then 0.9 per step
    right = (d[20] / d[0]) ** (1 / 20)
    assert f"{right:.3f}" in checks.check_shrink(right, d)
    for wrong in (
        (d[20] / d[1]) ** (1 / 19),
        (d[21] / d[1]) ** (1 / 20),
        (d[19] / d[0]) ** (1 / 19),
    ):
        with pytest.raises(CheckFailed, match=r"\(d\[20\] / d\[0\]\) \*\* \(1 / 20\)"):
            checks.check_shrink(wrong, d)


def test_pin_check_gradient_tolerance_is_one_in_a_million():
    x = np.linspace(-2, 2, 7)
    dout = np.ones(7)

    def close(x, dout):  # relative error about 5e-9
        return dout * np.cos(x) * (1 + 1e-8)

    def off(x, dout):  # relative error about 5e-6: a real mistake somewhere
        return dout * np.cos(x) * (1 + 1e-5)

    assert "passed" in checks.check_gradient(close, np.sin, x, dout)
    with pytest.raises(CheckFailed, match="must be below 1e-06"):
        checks.check_gradient(off, np.sin, x, dout)


# rnn_memory.symbol_trace: the twin differs in the marked symbol only


def test_pin_symbol_trace_compares_with_a_twin_whose_marked_symbol_is_the_next_one():
    K, delay, n, seed = 3, 4, 16, 7
    model = SequenceModel(K + 2, 5, K, cell="rnn", seed=0)
    trace = rnn_memory.symbol_trace(model, delay, n_symbols=K, n=n, seed=seed)
    x, y = tasks.delayed_recall(n, delay, n_symbols=K, rng=seed, dtype=np.float64)
    twin = x.copy()
    twin[0, :, :K] = np.eye(K)[(y + 1) % K]
    params = model.numpy_params()
    zeros = np.zeros((n, 5))
    hs = ll.rnn_forward(x, zeros, params)[0]
    hs_twin = ll.rnn_forward(twin, zeros, params)[0]
    expected = np.linalg.norm(hs - hs_twin, axis=2).mean(axis=1)
    np.testing.assert_allclose(trace["h"], expected, rtol=1e-10)


# Survivors of the J mutations (tools/mutations.txt): forget_gate, output_gate,
# leaky_integrator and vanishing_gradients.


def test_pin_steps_to_solve_averages_over_exactly_the_window():
    """forget_gate.steps_to_solve: the running mean of ``window`` losses (J16).

    Losses 1, 1, 1, 0, ...: the window of 4 ending at step 4 averages 3/4, the next 2/4.
    """
    loss = np.r_[1.0, 1.0, 1.0, np.zeros(7)]
    assert forget_gate.steps_to_solve(loss, threshold=0.76, window=4) == 4.0
    assert forget_gate.steps_to_solve(loss, threshold=0.6, window=4) == 5.0


def test_pin_output_gate_sweep_splits_write_blocks_from_the_gate_block():
    """output_gate.output_gate_gradient_sweep: write_grad is the i, f, g blocks, gate_grad o
    (J24)."""
    from lstm_lessons.cells.lstm import lstm_step_backward, lstm_step_forward

    rng = np.random.default_rng(0)
    N, D, H = 3, 2, 2
    params = ll.init_lstm_params(D, H, seed=0)
    params["b"] = rng.uniform(-1, 1, 4 * H)
    x = rng.standard_normal((N, D))
    h, c, dh = rng.standard_normal((3, N, H))
    out = output_gate.output_gate_gradient_sweep(params, x, h, c, dh, [0.0])
    _, _, cache = lstm_step_forward(x, h, c, params)
    grads = lstm_step_backward(dh, np.zeros_like(dh), cache)[3]

    def norm(cols):
        return np.sqrt(sum(np.sum(grads[k][..., cols] ** 2) for k in ("W_x", "W_h", "b")))

    np.testing.assert_allclose(out["write_grad"][0], norm(slice(0, 3 * H)), rtol=1e-12)
    np.testing.assert_allclose(out["gate_grad"][0], norm(slice(3 * H, 4 * H)), rtol=1e-12)


def test_pin_around_changes_after_counts_large_changes_only():
    """leaky_integrator.around_changes: "after" averages only steps after a large jump (J27).

    A small jump (0.1) at step 3 and a large one (0.9) at step 6: with after=2 only steps
    6 and 7 count, so the mean of values = t is 6.5 (5.0 if the small jump counted too).
    """
    T = 12
    y = np.zeros((T, 1, 1))
    y[3:6], y[6:] = 0.1, 1.0
    changes = np.zeros((T, 1), dtype=bool)
    changes[[3, 6], 0] = True
    values = np.arange(T, dtype=np.float64)[:, None]
    out = leaky_integrator.around_changes(values, y, changes, min_jump=0.6, after=2, lags=[0, 1])
    assert out["after"] == 6.5
    assert out["n_changes"] == 1
    np.testing.assert_array_equal(out["curve"], [6.0, 7.0])


def test_pin_rnn_gradient_norms_slope_is_the_mean_tanh_derivative():
    """vanishing_gradients.rnn_gradient_norms: slope is the mean of 1 - h_t^2 per step (J31)."""
    from lstm_lessons.cells.rnn import rnn_forward
    from lstm_lessons.experiments import vanishing_gradients

    T, N, H = 5, 3, 4
    W_h = vanishing_gradients.matrix_with_spectral_radius(H, 0.9, seed=1)
    out = vanishing_gradients.rnn_gradient_norms(W_h, T, input_scale=1.0, N=N, seed=2)
    x = np.random.default_rng(2).standard_normal((T, N, H))
    hs, _ = rnn_forward(x, np.zeros((N, H)), {"W_x": np.eye(H), "W_h": W_h, "b": np.zeros(H)})
    np.testing.assert_allclose(out.slope, (1.0 - hs**2).mean(axis=(1, 2)), rtol=1e-12)
    assert out.slope.min() < 0.9  # saturated enough that |h| and h^2 differ
