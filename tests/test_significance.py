"""The permutation tests, Holm's correction and the power simulation of experiments/significance."""

import itertools
from functools import partial

import numpy as np
import pytest
from helpers import brute_force_permutation_p

from lstm_lessons.experiments import significance as sg


def _brute_force_sign_flip_p(a, b):
    d = np.asarray(a) - np.asarray(b)
    observed = abs(d.mean())
    means = [abs(np.mean(np.array(s) * d)) for s in itertools.product((1, -1), repeat=len(d))]
    return np.mean(np.array(means) >= observed - 1e-12)


def test_permutation_test_is_exact_when_the_splits_are_few():
    rng = np.random.default_rng(0)
    for n, m in ((3, 4), (5, 5), (2, 6), (8, 8)):
        a, b = rng.standard_normal(n), rng.standard_normal(m) + 0.5
        assert sg.permutation_test(a, b) == pytest.approx(brute_force_permutation_p(a, b),
                                                          abs=1e-12)
    # Completely separated samples of 8 and 8: only the observed split and its mirror.
    assert sg.permutation_test(np.arange(8.0), np.arange(8.0) + 100) == pytest.approx(2 / 12870)
    assert sg.permutation_test(np.ones(4), np.ones(4)) == 1.0


def test_permutation_test_draws_at_random_when_the_splits_are_many():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(20), rng.standard_normal(20) + 0.6
    exact_like = sg.permutation_test(a, b, n_resamples=200_000, seed=3)
    again = sg.permutation_test(a, b, n_resamples=200_000, seed=3)
    assert exact_like == again  # seeded
    # C(40, 20) splits are too many to list: compare two independent Monte Carlo estimates.
    other = sg.permutation_test(a, b, n_resamples=200_000, seed=4)
    assert abs(exact_like - other) < 4 * np.sqrt(exact_like / 200_000) + 1e-5
    # Small samples with n_resamples given also draw, and agree with the exact value.
    a, b = rng.standard_normal(6), rng.standard_normal(6) + 1.0
    exact = sg.permutation_test(a, b)
    assert sg.permutation_test(a, b, n_resamples=100_000) == pytest.approx(exact, abs=0.006)
    # Resolution: completely separated samples give (1 + 0) / (1 + R) at best.
    assert sg.permutation_test(np.arange(20.0), np.arange(20.0) + 100,
                               n_resamples=999) == pytest.approx(1 / 1000)


def test_sign_flip_test_is_exact_for_small_pairs():
    rng = np.random.default_rng(2)
    for n in (2, 5, 9, 12):
        a = rng.standard_normal(n)
        b = a + rng.standard_normal(n) * 0.5 - 0.3
        assert sg.sign_flip_test(a, b) == pytest.approx(_brute_force_sign_flip_p(a, b), abs=1e-12)
    # Every difference of one sign: only the observed pattern and its mirror count.
    assert sg.sign_flip_test(np.arange(10.0) + 1, np.zeros(10)) == pytest.approx(2 / 2**10)
    assert sg.sign_flip_test(np.ones(16), np.zeros(16)) == pytest.approx(2 / 2**16)
    # The test is paired: it ignores a shift shared by both members of a pair.
    a = rng.standard_normal(8)
    shift = rng.standard_normal(8) * 100
    assert sg.sign_flip_test(a + shift, a * 0 + shift) == pytest.approx(
        sg.sign_flip_test(a, np.zeros(8)))


def test_sign_flip_test_draws_above_max_exact():
    rng = np.random.default_rng(5)
    d = rng.standard_normal(20) + 0.5
    p = sg.sign_flip_test(d, np.zeros(20), n_resamples=100_000, seed=0)
    assert p == sg.sign_flip_test(d, np.zeros(20))  # the default for 2**20 > MAX_EXACT
    # Agrees with the exact value on the first 16 pairs, drawn instead of listed.
    exact = sg.sign_flip_test(d[:16], np.zeros(16))
    drawn = sg.sign_flip_test(d[:16], np.zeros(16), n_resamples=100_000, seed=1)
    assert drawn == pytest.approx(exact, abs=4 * np.sqrt(exact / 100_000) + 2e-5)
    assert sg.sign_flip_test(np.ones(20), np.zeros(20), n_resamples=999) == pytest.approx(1e-3)


def test_holm_matches_the_step_down_rule():
    p = [0.01, 0.04, 0.03, 0.005]
    # Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> running max 0.06.
    np.testing.assert_allclose(sg.holm(p), [0.03, 0.06, 0.06, 0.02])
    assert sg.holm([0.5, 0.9])[1] == 1.0  # capped
    np.testing.assert_allclose(sg.holm([0.2]), [0.2])
    # At least as many rejections as Bonferroni, never more false alarms than the level allows.
    rng = np.random.default_rng(0)
    for _ in range(50):
        q = rng.random(10) ** 3
        assert np.all(sg.holm(q) <= np.minimum(1, q * 10) + 1e-15)
        assert np.all(sg.holm(q) >= q)


def test_power_of_the_chapter_design():
    """Eight paired seeds can never pass a correction over 16 comparisons (2 / 2**8 > 0.05/16);
    twenty can, and find a variant that solves half the seeds most of the time."""
    test = partial(sg.sign_flip_test, n_resamples=2000)
    assert sg.power(test, 8, 1.0, 0.5, 0.05 / 16, n_sim=50) == 0.0
    assert sg.power(test, 20, 1.0, 0.5, 0.05 / 16, n_sim=100) > 0.5
    assert sg.power(test, 20, 1.0, 1.0, 0.05, n_sim=50) == 0.0  # no difference, no finding


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: sg.permutation_test([[1.0, 2.0]], [1.0, 2.0]), "1-D sample of at least 2"),
        (lambda: sg.permutation_test([1.0, np.nan], [1.0, 2.0]), "finite"),
        (lambda: sg.sign_flip_test([1.0, 2.0], [1.0, 2.0, 3.0]), "paired samples of one length"),
        (lambda: sg.sign_flip_test([1.0, 2.0], [1.0, 3.0], n_resamples=0), "n_resamples"),
        (lambda: sg.holm([0.1, 1.5]), "p-values in \\[0, 1\\]"),
        (lambda: sg.holm([]), "p-values in \\[0, 1\\]"),
        (lambda: sg.power(sg.permutation_test, 8, 1.2, 0.5, 0.05), "solve_a: expected a prob"),
    ],
)
def test_bad_arguments_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
