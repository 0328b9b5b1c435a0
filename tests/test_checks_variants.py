"""lstm_lessons.homework.sets.variants: the checks of the exercise sets of chapters 9 and 11.

Right answers, written in more than one way, pass; each deliberate mistake is rejected with
the words of its diagnosis, and no diagnosis gives the expected number away.
"""

import itertools
import math

import numpy as np
import pytest
from helpers import brute_force_permutation_p, failure

import lstm_lessons as ll
from lstm_lessons.experiments import ablation
from lstm_lessons.homework.checks import check_cifg_step, check_gru_step
from lstm_lessons.homework.sets.variants import (
    check_ablation_p,
    check_count_params,
    check_mean_and_spread,
    check_permutation_p,
)

# Chapter 9, tasks 1 and 2: the shared CIFG and GRU checks accept the set's own ways of writing.


def cifg_convex(x, h_prev, c_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    a = x @ W_x + h_prev @ W_h + b
    i, g, o = ll.sigmoid(a[:, :H]), np.tanh(a[:, H : 2 * H]), ll.sigmoid(a[:, 2 * H :])
    c = c_prev + i * (g - c_prev)
    return o * np.tanh(c), c


def gru_as_cifg(x, h_prev, W_x, W_h, b, b_hn):
    ax_r, ax_z, ax_n = np.split(x @ W_x + b, 3, axis=1)
    ah_r, ah_z, ah_n = np.split(h_prev @ W_h, 3, axis=1)
    z = ll.sigmoid(ax_z + ah_z)
    n = np.tanh(ax_n + ll.sigmoid(ax_r + ah_r) * (ah_n + b_hn))
    return z * h_prev + (1 - z) * n


def test_cifg_and_gru_written_as_in_the_solution_pass():
    assert "passed" in check_cifg_step(cifg_convex)
    assert "passed" in check_gru_step(gru_as_cifg)


def test_gru_with_z_and_1_minus_z_swapped_fails():
    def swapped(x, h_prev, W_x, W_h, b, b_hn):
        ax_r, ax_z, ax_n = np.split(x @ W_x + b, 3, axis=1)
        ah_r, ah_z, ah_n = np.split(h_prev @ W_h, 3, axis=1)
        z = ll.sigmoid(ax_z + ah_z)
        n = np.tanh(ax_n + ll.sigmoid(ax_r + ah_r) * (ah_n + b_hn))
        return (1 - z) * h_prev + z * n

    assert "not right yet" in failure(check_gru_step, swapped)


# Chapter 9, task 3: parameter counts.


def count_formula(cell, D, H):
    blocks = {"standard": 4, "cifg": 3, "gru": 3}[cell]
    return blocks * (D * H + H * H + H) + (H if cell == "gru" else 0)


def count_by_building(cell, D, H):
    params = ll.init_gru_params(D, H) if cell == "gru" else ll.init_lstm_params(D, H, cell)
    return sum(p.size for p in params.values())


@pytest.mark.parametrize("fn", [count_formula, count_by_building,
                                lambda cell, D, H: float(count_formula(cell, D, H))])
def test_count_params_accepts_right_answers(fn):
    assert "passed" in check_count_params(fn)


def _blocks(cell):
    return {"standard": 4, "cifg": 3, "gru": 3}[cell]


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda c, D, H: _blocks(c) * H * (D + H) + (H if c == "gru" else 0), "biases are missing"),
        (lambda c, D, H: _blocks(c) * H * (D + 1) + (H if c == "gru" else 0), "W_h"),
        (lambda c, D, H: _blocks(c) * H * (D + H + 2) + (H if c == "gru" else 0), "two bias"),
        (lambda c, D, H: (3 if c == "gru" else 4) * H * (D + H + 1) + (H if c == "gru" else 0),
         "no forget-gate block"),
        (lambda c, D, H: _blocks(c) * H * (D + H + 1), "b_hn"),
        (lambda c, D, H: count_formula(c, D, H) + 1, "Count, for each gate block"),
    ],
)
def test_count_params_rejects_mistakes_with_a_diagnosis(fn, words):
    message = failure(check_count_params, fn)
    assert words in message
    # The diagnosis never states the right count.
    for D, H in ((6, 16), (3, 5), (10, 2)):
        for cell in ("standard", "cifg", "gru"):
            assert f" {count_formula(cell, D, H)}" not in message


def test_count_params_blank_and_wrong_type():
    def template(cell, D, H):
        """..."""
        ...

    assert "not done yet" in failure(check_count_params, template)
    assert "whole number" in failure(check_count_params, lambda c, D, H: "1472")


# Chapter 11, task 1: mean and spread.


def spread_numpy(scores):
    return np.mean(scores), np.std(scores, ddof=1)


def spread_by_hand(scores):
    n = len(scores)
    m = sum(scores) / n
    return m, math.sqrt(sum((s - m) ** 2 for s in scores) / (n - 1))


@pytest.mark.parametrize("fn", [spread_numpy, spread_by_hand])
def test_mean_and_spread_accepts_right_answers(fn):
    assert "passed" in check_mean_and_spread(fn)
    assert "passed" in check_mean_and_spread(fn, seeds=(2, 3))


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda s: (np.mean(s), np.std(s)), "ddof"),
        (lambda s: (np.mean(s), np.var(s, ddof=1)), "variance"),
        (lambda s: (np.mean(s), np.std(s, ddof=1) / np.sqrt(len(s))), "standard error"),
        (lambda s: (np.std(s, ddof=1), np.mean(s)), "order"),
        (lambda s: (np.median(s), np.std(s, ddof=1)), "median"),
        (lambda s: np.mean(s), "two numbers"),
    ],
)
def test_mean_and_spread_rejects_mistakes(fn, words):
    assert words in failure(check_mean_and_spread, fn)


# Chapter 11, task 2: the exact permutation test.


# A student's loop over every split is the reference itself.
p_loops = brute_force_permutation_p


def p_sums(a, b):
    """The same test by sums: mean(a) - mean(b) is a monotone function of sum(a)."""
    pooled = np.concatenate([a, b])
    n, m, total = len(a), len(b), pooled.sum()
    sums = np.array([pooled[list(c)].sum()
                     for c in itertools.combinations(range(n + m), n)])
    diffs = sums / n - (total - sums) / m
    return float(np.mean(np.abs(diffs) >= abs(np.mean(a) - np.mean(b)) - 1e-12))


@pytest.mark.parametrize("fn", [p_loops, p_sums, ablation.permutation_test])
def test_permutation_p_accepts_right_answers(fn):
    assert "passed" in check_permutation_p(fn)


def p_one_sided(a, b):
    pooled = np.concatenate([a, b])
    obs = np.mean(a) - np.mean(b)
    return float(np.mean([pooled[list(c)].mean() - np.delete(pooled, list(c)).mean() >= obs - 1e-12
                          for c in itertools.combinations(range(len(pooled)), len(a))]))


def p_strict(a, b):
    pooled = np.concatenate([a, b])
    obs = abs(np.mean(a) - np.mean(b))
    return float(np.mean([abs(pooled[list(c)].mean() - np.delete(pooled, list(c)).mean()) > obs
                          for c in itertools.combinations(range(len(pooled)), len(a))]))


def p_random(a, b):
    rng = np.random.default_rng(0)
    pooled = np.concatenate([a, b])
    obs = abs(np.mean(a) - np.mean(b))
    hits = 0
    for _ in range(2000):
        p = rng.permutation(pooled)
        hits += abs(p[: len(a)].mean() - p[len(a):].mean()) >= obs - 1e-12
    return hits / 2000


@pytest.mark.parametrize(
    "fn, words",
    [
        (p_one_sided, "two-sided"),
        (lambda a, b: p_loops(a, b) * math.comb(len(a) + len(b), len(a)), "share of splits"),
        (p_random, "close but not exact"),
        (lambda a, b: 0.5, "Pool the two samples"),
        (lambda a, b: None, "one number"),
    ],
)
def test_permutation_p_rejects_mistakes(fn, words):
    assert words in failure(check_permutation_p, fn)


def test_permutation_p_strict_inequality_is_diagnosed():
    assert ">=, not >" in failure(check_permutation_p, p_strict)


# Chapter 11, task 3: the p-value of NFG on the stored ablation.


def test_ablation_p_accepts_the_right_value_and_rejects_wrong_ones_without_giving_it():
    runs = ablation.load_results()[0]["recall"]["variants"]
    right = ablation.permutation_test(runs["nfg"]["loss"][:8], runs["standard"]["loss"][:8])
    assert right == brute_force_permutation_p(runs["nfg"]["loss"][:8],
                                              runs["standard"]["loss"][:8])
    assert "passed" in check_ablation_p(right)
    assert "passed" in check_ablation_p(np.float64(right))
    for wrong in (right + 0.3, -1.0):
        message = failure(check_ablation_p, wrong)
        assert "not right yet" in message and f"{right:.3g}" not in message
    assert "not computed yet" in failure(check_ablation_p, ...)
    assert "one number" in failure(check_ablation_p, [right])
    accuracies = ablation.permutation_test(runs["nfg"]["accuracy"][:8],
                                           runs["standard"]["accuracy"][:8])
    if accuracies != right:
        assert "compared accuracies" in failure(check_ablation_p, accuracies)
    all_seeds = ablation.permutation_test(runs["nfg"]["loss"], runs["standard"]["loss"],
                                          n_resamples=20_000)
    assert "not right yet" in failure(check_ablation_p, all_seeds)
