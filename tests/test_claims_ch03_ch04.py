"""Claims C04, C05 (chapter 3) and C06, C23 (chapter 4), and the input checks of their modules.

C04  gates are sigmoid valves: 0 closed, 1 open.
C05  along the cell-state path dc_t/dc_{t-1} = diag(f_t) plus indirect paths, and the
     product of forget gates predicts the gradient that reaches an early step.
C06  a positive forget-gate bias (1 or 2) helps learning a long delay.
C23  without a forget gate the cell state grows without bound on a continual stream.
"""

import numpy as np
import pytest

import lstm_lessons as ll
from lstm_lessons.experiments import cell_state as carousel
from lstm_lessons.experiments import forget_gate as forgetting
from lstm_lessons.training import tasks

T, D, H = 40, 4, 8


def random_cell(forget_bias, seed=0):
    """One random input sequence (T, D) and a cell whose forget-gate bias is shifted."""
    x = np.random.default_rng(seed).standard_normal((T, D))
    return x, ll.init_lstm_params(D, H, seed=seed + 1, forget_bias=forget_bias)


def forward(x, params, variant="standard"):
    zeros = np.zeros((1, H))
    return ll.lstm_forward(x[:, None, :], zeros, zeros, params, variant)[2]


# C04: gates are valves.


def test_c04_sigmoid_gate_lies_between_closed_and_open():
    a = np.linspace(-30.0, 30.0, 601)
    s = ll.sigmoid(a)
    assert np.all((s > 0.0) & (s < 1.0))
    assert np.all(np.diff(s) > 0)  # a larger pre-activation opens the valve further
    assert ll.sigmoid(-10.0) < 1e-4 and ll.sigmoid(10.0) > 1 - 1e-4
    np.testing.assert_allclose(ll.sigmoid(0.0), 0.5)


def test_c04_hand_wired_input_gate_opens_only_at_the_markers():
    x, y = tasks.adding_problem(200, 50, rng=3, dtype=np.float64)
    params = carousel.adding_cell_params(write_scale=0.1)
    zeros = np.zeros((200, 1))
    _, cs, cache = ll.lstm_forward(x, zeros, zeros, params)
    i = cache.gate("i")[:, :, 0]
    marked = x[:, :, 1] == 1
    assert i[marked].min() > 0.99 and i[~marked].max() < 0.01
    # On a real input the gate moves over its whole range within every sequence.
    assert np.all(i.max(axis=0) - i.min(axis=0) > 0.98)
    answer = cs[-1, :, 0] / 0.1
    assert np.abs(answer - y[:, 0]).max() < 0.05
    assert np.mean((answer - y[:, 0]) ** 2) < 0.01 * np.var(y)


# C05: the carousel.


def test_c05_exact_jacobian_matches_the_chapter_formula():
    x, params = random_cell(forget_bias=1.0)
    cache = forward(x, params)
    W_i, W_f, W_g = (params["W_h"][:, k * H : (k + 1) * H] for k in range(3))
    for t in (2, 17, T):
        i, f, g, _ = (np.asarray(v)[0] for v in cache.gates(t - 1))
        o_prev = np.asarray(cache.gates(t - 2)[3])[0]
        c_prev = cache.c[t - 1, 0]
        indirect = (
            np.diag(c_prev * f * (1 - f)) @ W_f.T
            + np.diag(g * i * (1 - i)) @ W_i.T
            + np.diag(i * (1 - g**2)) @ W_g.T
        ) @ np.diag(o_prev * (1 - np.tanh(c_prev) ** 2))
        exact = carousel.cell_state_jacobian(cache, t)
        np.testing.assert_allclose(exact, np.diag(f) + indirect, rtol=1e-10, atol=1e-12)


def test_c05_exact_jacobian_diagonal_is_close_to_forget_gate():
    x, params = random_cell(forget_bias=3.0)
    check = carousel.jacobian_check(forward(x, params))
    # At t = 1, h_0 does not depend on c_0: the Jacobian is diag(f_1) exactly.
    np.testing.assert_allclose(check.jacobians[0], np.diag(check.f[0]), atol=1e-14)
    assert check.diag_gap.max() < 0.2
    assert np.median(check.indirect) < 0.15
    # Cut the indirect paths (no gate reads h): exactly diag(f_t) at every step.
    cut = {**params, "W_h": np.zeros_like(params["W_h"])}
    check_cut = carousel.jacobian_check(forward(x, cut))
    np.testing.assert_allclose(check_cut.indirect, 0.0, atol=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_c05_forget_gate_product_predicts_gradient(seed):
    x, params = random_cell(forget_bias=3.0, seed=seed)
    result = carousel.carousel_gradients(x, params)
    ratio = result.measured[-21:-1] / result.predicted[-21:-1]  # distances 1..20
    assert np.mean((ratio > 0.5) & (ratio < 2.0)) >= 0.8
    assert 0.9 < np.median(ratio) < 1.1
    # Without the indirect paths the product is the gradient, to rounding error.
    cut = carousel.carousel_gradients(x, {**params, "W_h": np.zeros_like(params["W_h"])})
    np.testing.assert_allclose(cut.measured, cut.predicted, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("seed", [0, 1])
def test_c05_weak_forget_bias_gradient_decays_faster(seed):
    x, strong = random_cell(forget_bias=3.0, seed=seed)
    _, weak = random_cell(forget_bias=0.0, seed=seed)
    g_strong = carousel.carousel_gradients(x, strong)
    g_weak = carousel.carousel_gradients(x, weak)
    assert np.median(np.abs(g_strong.measured[0])) > 1e-3
    assert np.median(np.abs(g_weak.measured[0])) < 1e-6 * np.median(np.abs(g_strong.measured[0]))
    assert np.median(g_weak.predicted[0]) < 1e-6 * np.median(g_strong.predicted[0])


def test_c05_without_forget_gate_the_carousel_passes_the_error_unchanged():
    x, params = random_cell(forget_bias=0.0)
    nfg = carousel.drop_forget_gate({**params, "W_h": np.zeros_like(params["W_h"])})
    result = carousel.carousel_gradients(x, nfg, "nfg")
    np.testing.assert_array_equal(result.predicted, 1.0)
    np.testing.assert_allclose(result.measured, 1.0, rtol=1e-12)


def test_c05_forget_gate_products_are_reverse_cumulative_products():
    x, params = random_cell(forget_bias=1.0)
    cache = forward(x, params)
    f = cache.gate("f")[:, 0]
    P = carousel.forget_gate_products(cache)[:, 0]
    assert P.shape == (T + 1, H)
    np.testing.assert_array_equal(P[T], 1.0)
    for t in (0, 5, T - 1):
        np.testing.assert_allclose(P[t], np.prod(f[t:], axis=0), rtol=1e-12)


def test_c05_cell_gradient_matches_finite_differences():
    # Nudge c_t (with h_t as it is), rerun the rest of the sequence, and watch L = w . c_T.
    x, params = random_cell(forget_bias=1.0)
    cache = forward(x, params)
    w = np.random.default_rng(5).standard_normal((1, H))
    grads = carousel.cell_gradient_through_time(cache, w)
    t, k, eps = 12, 3, 1e-6

    def loss(c_t):
        cs = ll.lstm_forward(x[t:, None, :], cache.h[t], c_t, params)[1]
        return float((w * cs[-1]).sum())

    bump = np.zeros((1, H))
    bump[0, k] = eps
    numeric = (loss(cache.c[t] + bump) - loss(cache.c[t] - bump)) / (2 * eps)
    np.testing.assert_allclose(grads[t, 0, k], numeric, rtol=1e-6)


# C06: the forget-gate bias.


def test_c06_positive_forget_bias_helps_long_delay():
    """The chapter's sweep, with its settings and seeds. Between biases 1 and 2 its four seeds
    cannot tell a difference (the chapter says so, from an exact permutation test)."""
    from lstm_lessons.experiments.significance import permutation_test

    sweep = forgetting.forget_bias_sweep(
        biases=(0.0, 1.0, 2.0), seeds=(0, 1, 2, 3), delay=10, n_symbols=4, hidden_size=16,
        steps=300, lr=0.02, batch_size=64, solved_fraction=0.1)
    assert permutation_test(sweep.accuracy[1], sweep.accuracy[2]) > 0.05
    acc = sweep.accuracy.mean(axis=1)
    assert acc[0] < 0.6, f"bias 0 should struggle, got mean accuracy {acc[0]:.2f}"
    # Over the chapter's four seeds bias 1 solves three (one stays near chance), bias 2 all.
    assert acc[1] > 0.75 and acc[2] > 0.9, f"bias 1 and 2 should learn, got {acc[1:]}"
    assert np.all(np.isnan(sweep.steps_to_solve[0]))
    assert not np.any(np.isnan(sweep.steps_to_solve[2]))
    # At the start f ~ sigma(b): the bias is what sets the starting point.
    np.testing.assert_allclose(
        sweep.f_start.mean(axis=1), ll.sigmoid(np.array(sweep.biases)), atol=0.05
    )


def test_c06_steps_to_solve_finds_first_window_below_threshold():
    loss = np.r_[np.full(20, 1.0), np.full(20, 0.01)]
    assert forgetting.steps_to_solve(loss, threshold=0.5, window=4) == 23.0
    assert np.isnan(forgetting.steps_to_solve(loss, threshold=0.001, window=4))
    assert np.isnan(forgetting.steps_to_solve(loss[:3], threshold=2.0, window=4))


# C23: no forget gate, no bound.


def test_c23_no_forget_gate_cell_grows_without_bound_standard_stays_bounded():
    sizes = {}
    for length in (500, 1000, 2000):
        stream = forgetting.continual_stream(T=length, forget_bias=1.0, seed=0)
        sizes[length] = np.abs(stream.c_nfg[-1]).max()
        # With a forget gate: never above the bound G / (1 - F), which stays small.
        assert np.all(np.abs(stream.c_standard) <= stream.bound + 1e-12)
        assert stream.bound.max() < 10.0
    # Without: roughly linear growth, so doubling T doubles |c_T|, past any fixed bound.
    assert 1.8 < sizes[1000] / sizes[500] < 2.2
    assert 1.8 < sizes[2000] / sizes[1000] < 2.2
    assert sizes[2000] > 100 * stream.bound.max()


def test_c23_nfg_cell_is_the_standard_cell_with_f_equal_to_one():
    x, params = random_cell(forget_bias=0.0)
    # A forget-gate bias of 1000 makes f = sigma(1000) = 1.0 exactly in float64.
    shut = {**params, "b": params["b"].copy()}
    shut["b"][H : 2 * H] = 1000.0
    assert np.all(forward(x, shut).gate("f") == 1.0)
    nfg = carousel.drop_forget_gate(params)
    assert nfg["W_x"].shape == (D, 3 * H) and nfg["W_h"].shape == (H, 3 * H)
    # Equal up to the rounding of matrix products of different widths.
    np.testing.assert_allclose(forward(x, nfg, "nfg").c, forward(x, shut).c, rtol=1e-12, atol=1e-14)


# The modules' public functions reject bad input with clear messages.


@pytest.fixture(scope="module")
def cache():
    x, params = random_cell(forget_bias=1.0)
    return forward(x[:5], params)


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda c: carousel.adding_cell_params(gate_gain=-1.0), ValueError, r"gate_gain: expected"),
        (lambda c: carousel.adding_cell_params(write_scale=0.0), ValueError, r"write_scale"),
        (lambda c: carousel.adding_cell_params(forget_bias=np.inf), ValueError, r"forget_bias"),
        (lambda c: carousel.cell_state_jacobian(c, 0), ValueError, r"t: expected an int.* got 0"),
        (lambda c: carousel.cell_state_jacobian(c, 6), ValueError, r"between 1 and 5, got 6"),
        (lambda c: carousel.cell_state_jacobian(c, 1, 1), ValueError, r"sample: expected"),
        (lambda c: carousel.cell_state_jacobian({}, 1), TypeError, r"cache: expected the Seq"),
        (lambda c: carousel.forget_gate_products(None), TypeError, r"got NoneType"),
        (lambda c: carousel.jacobian_check("cache"), TypeError, r"got str"),
        (
            lambda c: carousel.cell_gradient_through_time(c, np.ones(H)),
            ValueError,
            r"dc_T: expected shape \(N, H\) = \(1, 8\), got \(8,\)",
        ),
        (
            lambda c: carousel.carousel_gradients(np.ones((5, 1, D)), c.params),
            ValueError,
            r"x: expected one sequence of shape \(T, D\)",
        ),
        (lambda c: carousel.carousel_gradients(np.ones((5, D)), None), ValueError, r"params"),
        (
            lambda c: carousel.drop_forget_gate(carousel.drop_forget_gate(c.params)),
            ValueError,
            r"expected shape \(H, 4H\)",
        ),
        (
            lambda c: carousel.drop_forget_gate(ll.init_lstm_params(D, H, "peephole")),
            ValueError,
            r"expected the standard cell's keys",
        ),
        (lambda c: forgetting.forget_bias_sweep(biases=()), ValueError, r"biases: expected"),
        (lambda c: forgetting.forget_bias_sweep(seeds=()), ValueError, r"seeds: expected"),
        (lambda c: forgetting.forget_bias_sweep(seeds=(-1,)), ValueError, r"seeds: expected"),
        (lambda c: forgetting.forget_bias_sweep(steps=0), ValueError, r"steps: expected a pos"),
        (lambda c: forgetting.forget_bias_sweep(lr=0.0), ValueError, r"lr: expected a positive"),
        (lambda c: forgetting.forget_bias_sweep(delay=2.5), ValueError, r"delay: expected"),
        (lambda c: forgetting.forget_bias_sweep(window=0), ValueError, r"window: expected"),
        (
            lambda c: forgetting.forget_bias_sweep(solved_fraction=1.5),
            ValueError,
            r"solved_fraction: expected a number in \(0, 1\), got 1.5",
        ),
        (lambda c: forgetting.steps_to_solve(np.ones((3, 3)), 0.1), ValueError, r"1-D array"),
        (lambda c: forgetting.steps_to_solve(np.ones(30), 0.1, window=0), ValueError, r"window"),
        (lambda c: forgetting.continual_stream(T=0), ValueError, r"T: expected a positive int"),
        (lambda c: forgetting.continual_stream(forget_bias=np.nan), ValueError, r"forget_bias"),
    ],
)
def test_public_functions_reject_bad_input(cache, call, error, message):
    with pytest.raises(error, match=message):
        call(cache)


def test_cell_state_jacobian_rejects_peephole_cells():
    x, _ = random_cell(forget_bias=0.0)
    params = ll.init_lstm_params(D, H, "peephole", seed=1)
    cache = forward(x[:3], params, "peephole")
    with pytest.raises(ValueError, match=r"expected a variant without peepholes, got 'peephole'"):
        carousel.cell_state_jacobian(cache, 2)

