"""Pins: small hand-built cases, with answers worked out by hand, for code whose numbers the
book prints. Each test names the function it pins; a single-line change to that function
(a wrong index, ``>`` for ``>=``, a dropped factor) makes it fail, as a mutation pass showed
for each one (tools/mutate.py, tools/mutations.txt).
"""

import numpy as np
import pytest

import lstm_lessons as ll
from lstm_lessons.cells.gradcheck import relative_error
from lstm_lessons.experiments import forget_gate, input_gate, leaky_integrator, output_gate
from lstm_lessons.training import tasks

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
