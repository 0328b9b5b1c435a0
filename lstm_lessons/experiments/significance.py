"""Is a difference between two sets of runs real? Permutation tests, a correction, and power.

The experiments of Part III compare cells by training each from several seeds. Their scores
are far from normal (a seed either solves a task or stays on a plateau), so the tests here make
no assumption about their distribution: they ask how often relabelling the runs at random gives
a difference at least as large as the one observed.

- :func:`permutation_test`: two independent samples; the exact test over every split of the
  pooled scores when there are few enough, otherwise a Monte Carlo test.
- :func:`sign_flip_test`: paired scores (run s of one cell beside run s of the other); the
  exact test over every pattern of signs of the differences, otherwise Monte Carlo.
- :func:`holm`: Holm's (1979) step-down correction of a family of p-values, which keeps the
  chance of any false alarm in the family below the level, like Bonferroni's, and rejects at
  least as often.
- :func:`power`: how often a test finds a difference of a given kind, by simulation: the
  question to ask *before* a study, to choose its number of seeds.

A Monte Carlo p-value is ``(1 + hits) / (1 + n_resamples)``: it counts the observed labelling
as one of the draws, so it is never 0, and its resolution (the smallest value it can take) is
``1 / (1 + n_resamples)``.
"""

import itertools
import math

import numpy as np

from ..cells.validation import check_int

#: Exact tests enumerate at most this many relabellings; above it they draw at random.
MAX_EXACT = 2**16


def _sample(name, values):
    a = np.asarray(values, dtype=float)
    if a.ndim != 1 or len(a) < 2:
        raise ValueError(f"{name}: expected a 1-D sample of at least 2 values, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected finite values, got {a.tolist()}")
    return a


def _tolerance(observed):
    # The observed labelling itself must count despite rounding in the sums.
    return 1e-12 * (1.0 + abs(observed))


def _monte_carlo(draw, observed, n_resamples, seed):
    """``(1 + hits) / (1 + n_resamples)``, where ``draw(rng, size) -> (size,)`` gives the
    statistic under random relabellings, drawn 10,000 at a time from ``seed``, and a hit is one
    at least as far from zero as ``observed``."""
    n_resamples = check_int("n_resamples", 100_000 if n_resamples is None else n_resamples, 1)
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_resamples, 10_000):
        size = min(10_000, n_resamples - start)
        hits += int(np.sum(np.abs(draw(rng, size)) >= abs(observed) - _tolerance(observed)))
    return (1 + hits) / (1 + n_resamples)


def permutation_test(a, b, n_resamples=None, seed=0):
    """Two-sided p-value of mean(a) - mean(b) for independent samples, by relabelling.

    With n = len(a) and m = len(b) there are C(n + m, n) splits of the pooled scores. When
    that is at most :data:`MAX_EXACT` (and ``n_resamples`` is None) every split is counted and
    the p-value is exact: the share of splits whose |difference of means| is at least the
    observed one (the smallest possible value is 2 / C(n + m, n)). Otherwise ``n_resamples``
    random splits (default 100,000) are drawn from ``seed``, and the p-value is
    ``(1 + hits) / (1 + n_resamples)``.
    """
    a, b = _sample("a", a), _sample("b", b)
    pooled = np.concatenate([a, b])
    n, total = len(a), pooled.sum()
    observed = a.mean() - b.mean()
    if n_resamples is None and math.comb(len(pooled), n) <= MAX_EXACT:
        splits = np.array(list(itertools.combinations(range(len(pooled)), n)))
        sums_a = pooled[splits].sum(axis=1)
        diffs = sums_a / n - (total - sums_a) / len(b)
        return float(np.mean(np.abs(diffs) >= abs(observed) - _tolerance(observed)))

    def draw(rng, size):
        order = rng.permuted(np.tile(np.arange(len(pooled)), (size, 1)), axis=1)
        sums_a = pooled[order[:, :n]].sum(axis=1)
        return sums_a / n - (total - sums_a) / len(b)

    return _monte_carlo(draw, observed, n_resamples, seed)


def sign_flip_test(a, b, n_resamples=None, seed=0):
    """Two-sided p-value of the mean paired difference mean(a - b), by flipping signs.

    ``a[s]`` and ``b[s]`` are paired (the same seed's data and starting weights). Under the
    null hypothesis each difference d_s = a_s - b_s is as likely to have either sign, so the
    test counts the sign patterns whose |mean| is at least the observed one: all 2**n of
    them when 2**n is at most :data:`MAX_EXACT` (the smallest possible value is 2 / 2**n),
    otherwise ``n_resamples`` random patterns (default 100,000) from ``seed``.
    """
    a, b = _sample("a", a), _sample("b", b)
    if a.shape != b.shape:
        raise ValueError(f"sign_flip_test: expected paired samples of one length, got "
                         f"{len(a)} and {len(b)}")
    d = a - b
    n, observed = len(d), d.mean()
    if n_resamples is None and 2**n <= MAX_EXACT:
        signs = 1.0 - 2.0 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)  # (2**n, n)
        means = signs @ d / n
        return float(np.mean(np.abs(means) >= abs(observed) - _tolerance(observed)))
    return _monte_carlo(lambda rng, size: rng.choice((-1.0, 1.0), size=(size, n)) @ d / n,
                        observed, n_resamples, seed)


def holm(p_values):
    """Holm-adjusted p-values, in the order given: reject hypothesis k at level alpha
    when ``holm(p)[k] <= alpha``; the chance of any false rejection stays below alpha.

    Sorted ascending, the j-th smallest (from 0) is multiplied by (m - j); the adjusted
    values are then made non-decreasing in that order and capped at 1.
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1 or p.size == 0 or np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError(f"holm: expected a 1-D array of p-values in [0, 1], got {p_values!r}")
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def power(test, n, solve_a, solve_b, alpha, n_sim=400, seed=0, solved=0.01, failed=1.0):
    """Share of simulated studies in which ``test`` finds a difference at level ``alpha``.

    Each simulated run of cell a solves its task with probability ``solve_a`` (score near
    ``solved``) and otherwise stays on the plateau (score near ``failed``); likewise for cell b,
    independently of a, with ``n`` runs each. Scores are spread by a factor of up to 2 either
    way (log-uniform), as real runs are. ``test(a, b) -> p`` is for example
    :func:`permutation_test` or :func:`sign_flip_test` (with ``n_resamples`` fixed, the
    simulation stays cheap).
    """
    n = check_int("n", n, 2)
    n_sim = check_int("n_sim", n_sim, 1)
    for name, q in (("solve_a", solve_a), ("solve_b", solve_b), ("alpha", alpha)):
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"{name}: expected a probability in [0, 1], got {q!r}")
    rng = np.random.default_rng(seed)

    def runs(q):
        level = np.where(rng.random(n) < q, solved, failed)
        return level * np.exp(rng.uniform(-np.log(2), np.log(2), n))

    hits = sum(test(runs(solve_a), runs(solve_b)) <= alpha for _ in range(n_sim))
    return hits / n_sim


__all__ = ["MAX_EXACT", "holm", "permutation_test", "power", "sign_flip_test"]
