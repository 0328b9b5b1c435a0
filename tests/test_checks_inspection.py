"""The checks of the exercise set "Inspect your own network": their references are the
inspector's definitions, right answers pass every test of the set (public and hidden), common
mistakes get their diagnosis, and no wrong answer passes."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import lstm_lessons as ll
from lstm_lessons.experiments import inspection as ins
from lstm_lessons.homework.checks.calling import CheckFailed
from lstm_lessons.homework.sets import inspection as checks
from lstm_lessons.inspect import report as rp

ROOT = Path(__file__).resolve().parent.parent
SET = "inspect_your_network"
CAROUSEL_CASES = ((10, 5, 14, 0), (16, 5, 20, 3), (7, 10, 15, 8), (4, 5, 12, 1))


def _tests(question):
    """The set's tests of ``question`` (public and hidden) as functions, from the solution."""
    nb = json.loads((ROOT / "solutions" / f"{SET}.ipynb").read_text())
    (q,) = [q for q in nb["metadata"]["lstm_lessons"]["questions"] if q["name"] == question]
    found = []
    for test in q["tests"]:
        space = {}
        exec(test["source"], space)
        found.append(space[test["name"]])
    assert any(t["hidden"] for t in q["tests"]) and len(found) >= 2
    return found


def test_the_references_restate_the_inspector():
    assert (checks.CAROUSEL_F, checks.CAROUSEL_I, checks.CAROUSEL_SHARE) == (
        rp.CAROUSEL_F,
        rp.CAROUSEL_I,
        rp.CAROUSEL_SHARE,
    )
    for H, seed, edges in ((12, 0, True), (30, 5, False), (9, 11, True), (200, 7, False)):
        f = checks.half_life_case(H, seed, edges)
        np.testing.assert_array_equal(checks.reference_half_life(f), rp.half_life(f))
    edges = checks.half_life_case(12, 0, True)[-7:]
    assert list(checks.reference_half_life(edges)[[0, 4]]) == [1.0, 0.0]
    assert np.isinf(rp.half_life(1.0)) and np.isnan(rp.half_life(np.nan))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rp.half_life([0.5, 1.25])


def _unit_table_carousels(f, i):
    """The inspector's own carousel column for gate arrays f, i (T, N, H) of one direction."""
    T, N, H = f.shape
    model = SimpleNamespace(hidden_size=H, cell="lstm")
    trace = SimpleNamespace(gates={"i": i, "f": f, "o": np.full_like(f, 0.5)}, c=np.ones_like(f))
    table = rp.unit_table(model, [[trace]])
    return [int(u) for u in table["unit"][table["carousel"]]]


@pytest.mark.parametrize("case", CAROUSEL_CASES)
def test_the_planted_units_are_what_the_inspector_says(case):
    f, i, planted = checks.carousel_case(*case)
    expected = sorted(planted[kind] for kind, carousel in checks.PLANTED if carousel)
    assert checks.reference_carousel_units(f, i) == expected == _unit_table_carousels(f, i)
    # Each misreading of the rule gives a set of its own: none is right, empty, or another's.
    wrong = [tuple(units) for units in checks._carousel_mistakes(f, i).values()]
    assert len(set(wrong)) == len(wrong)
    assert tuple(expected) not in wrong and () not in wrong


def test_the_reference_agrees_with_an_inspected_network():
    # A torch.nn.LSTM whose units 0 and 3 keep their state and write nothing, unit 5 almost.
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 6)
    H = 6
    with torch.no_grad():
        lstm.weight_ih_l0.mul_(0.3)
        lstm.weight_hh_l0.mul_(0.3)
        lstm.bias_hh_l0.zero_()
        for u, f_bias in ((0, 6.0), (3, 6.0), (5, 2.9)):
            lstm.bias_ih_l0[u] = -6.0  # i
            lstm.bias_ih_l0[H + u] = f_bias  # f
    x = np.random.default_rng(1).standard_normal((20, 8, 3)).astype(np.float32)
    report = ll.inspect(lstm, x)
    gates = report.traces[0][0].gates
    assert report.carousel_units() == [0, 3]
    assert checks.reference_carousel_units(gates["f"], gates["i"]) == [0, 3]
    table = report.rows(0, 0)
    np.testing.assert_array_equal(checks.reference_half_life(table["f_mean"]), table["half_life"])


def good_half_life(f_mean):
    f_mean = np.asarray(f_mean, dtype=float)
    if np.any((f_mean < 0) | (f_mean > 1)):
        raise ValueError(f"f_mean: expected mean gates in [0, 1], got {f_mean}")
    with np.errstate(divide="ignore"):
        n = -np.log(2.0) / np.log(f_mean)
    return np.where(f_mean == 1.0, np.inf, n)


def half_life_log2(f_mean):
    f = np.asarray(f_mean)
    if np.any((f < 0) | (f > 1)):
        raise ValueError(f"expected [0, 1], got {f}")
    with np.errstate(divide="ignore"):
        return np.where(f == 1.0, np.inf, -1.0 / np.log2(f))


def good_carousel_units(f, i):
    holds = (f > 0.95) & (i < 0.05)
    return np.flatnonzero(holds.mean(axis=(0, 1)) > 0.5)


def carousel_units_loops(f, i):
    T, N, H = f.shape
    out = []
    for u in range(H):
        count = sum(f[t, n, u] > 0.95 and i[t, n, u] < 0.05 for t in range(T) for n in range(N))
        if count > T * N / 2:
            out.append(u)
    return out[::-1]  # any order


def test_right_answers_pass_every_test_of_the_set():
    for test in _tests("q1"):
        assert "passed" in test(good_half_life)
        assert "passed" in test(half_life_log2)
    for test in _tests("q2"):
        assert "passed" in test(good_carousel_units)
        assert "passed" in test(carousel_units_loops)


def _guarded(formula):
    """A half_life with the right guards (range, NaN, inf at 1) around a wrong formula."""

    def half_life(f_mean):
        f = np.asarray(f_mean, dtype=float)
        if np.any((f < 0) | (f > 1)):
            raise ValueError(f"f_mean: expected [0, 1], got {f}")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(f == 1.0, np.inf, formula(f))

    return half_life


def _no_inf(f_mean):
    f = np.asarray(f_mean, dtype=float)
    if np.any((f < 0) | (f > 1)):
        raise ValueError(f"f_mean: expected [0, 1], got {f}")
    with np.errstate(divide="ignore"):
        return -np.log(2.0) / np.log(f)


def _no_range_check(f_mean):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(f_mean == 1.0, np.inf, -np.log(2.0) / np.log(f_mean))


def _nan_refused(f_mean):
    if not np.all((f_mean >= 0) & (f_mean <= 1)):
        raise ValueError(f"f_mean: expected [0, 1], got {f_mean}")
    with np.errstate(divide="ignore"):
        return np.where(f_mean == 1.0, np.inf, -np.log(2.0) / np.log(f_mean))


def _silent_error(f_mean):
    if np.any((f_mean < 0) | (f_mean > 1)):
        raise ValueError
    return good_half_life(f_mean)


def _type_error(f_mean):
    if np.any((f_mean < 0) | (f_mean > 1)):
        raise TypeError("bad f_mean")
    return good_half_life(f_mean)


HALF_LIFE_MISTAKES = [
    (_guarded(lambda f: -1.0 / np.log(f)), "time constant"),
    (_guarded(lambda f: -np.log(2.0) / np.log2(f)), "mixed logarithms"),
    (_guarded(lambda f: np.log(2.0) / np.log(f)), "minus sign"),
    (_guarded(lambda f: -np.log(f) / np.log(2.0)), "upside down"),
    (_guarded(lambda f: np.log(2.0) / (1.0 - f)), "approximation"),
    (_guarded(lambda f: 1.0 / (1.0 - f)), "mean time"),
    (_guarded(lambda f: -np.log(2.0) / np.log(f) * 1.001), "No common mistake"),
    (_no_inf, "expected inf"),
    (_no_range_check, "raise a ValueError"),
    (_nan_refused, "NaN must give NaN"),
    (lambda f_mean: np.nan_to_num(good_half_life(f_mean), nan=0.0, posinf=np.inf), "expected nan"),
    (_silent_error, "without a message"),
    (_type_error, "raised TypeError"),
    (lambda f_mean: list(good_half_life(f_mean)), "a NumPy array"),
    (lambda f_mean: good_half_life(f_mean).astype(np.float32), "dtype float32"),
    (lambda f_mean: good_half_life(f_mean)[:-1], "shape"),
    (lambda f_mean: float(good_half_life(f_mean)[0]), "a NumPy array"),
]


@pytest.mark.parametrize("wrong, cause", HALF_LIFE_MISTAKES, ids=[c for _, c in HALF_LIFE_MISTAKES])
def test_half_life_mistakes_fail_every_test_with_their_diagnosis(wrong, cause):
    for test in _tests("q1"):
        with pytest.raises(CheckFailed, match=cause):
            test(wrong)


def test_half_life_that_calls_the_package_is_refused():
    def half_life(f_mean):
        return rp.half_life(f_mean)

    with pytest.raises(CheckFailed, match="not to use"):
        checks.check_half_life(half_life)


def _rule(f_cmp, i_cmp, share_cmp=np.greater, axis=(0, 1)):
    def carousel_units(f, i):
        holds = f_cmp(f, 0.95) & i_cmp(i, 0.05)
        return np.flatnonzero(share_cmp(holds.mean(axis=axis), 0.5))

    return carousel_units


def _per_sequence(reduce):
    def carousel_units(f, i):
        holds = (f > 0.95) & (i < 0.05)
        return np.flatnonzero(reduce(holds.mean(axis=0) > 0.5, axis=0))

    return carousel_units


def _in_place(f, i):
    f[f > 0.95] = 1.0
    return good_carousel_units(f, i)


CAROUSEL_MISTAKES = [
    (_rule(np.greater_equal, np.less_equal, np.greater_equal), ">= where the rule says >"),
    (_rule(np.greater_equal, np.less_equal), "the rule is strict"),
    (_rule(np.greater, np.less, np.greater_equal), "exactly half"),
    (lambda f, i: np.flatnonzero(((f > 0.95) & (i < 0.05)).all(axis=(0, 1))), "every step"),
    (lambda f, i: np.flatnonzero(((f > 0.95) & (i < 0.05)).any(axis=(0, 1))), "single step"),
    (
        lambda f, i: np.flatnonzero(
            ((f > 0.95).mean(axis=(0, 1)) > 0.5) & ((i < 0.05).mean(axis=(0, 1)) > 0.5)
        ),
        "separately",
    ),
    (
        lambda f, i: np.flatnonzero((f.mean(axis=(0, 1)) > 0.95) & (i.mean(axis=(0, 1)) < 0.05)),
        "mean gates",
    ),
    (lambda f, i: good_carousel_units(i, f), "swapped"),
    (_per_sequence(np.all), "every sequence"),
    (_per_sequence(np.any), "some sequence"),
    (lambda f, i: good_carousel_units(f, i)[:-1], "unit .* is a carousel"),
    (lambda f, i: [], "is a carousel"),
    (lambda f, i: ((f > 0.95) & (i < 0.05)).mean(axis=(0, 1)) > 0.5, "boolean array"),
    (lambda f, i: np.where(((f > 0.95) & (i < 0.05)).mean(axis=(0, 1)) > 0.5), "np.where"),
    (lambda f, i: np.flatnonzero(((f > 0.95) & (i < 0.05)).mean(axis=0) > 0.5), "one axis only"),
    (lambda f, i: 3, "a list or a 1-D array"),
    (lambda f, i: [float(u) for u in good_carousel_units(f, i)], "whole numbers"),
    (_in_place, "in place"),
]


@pytest.mark.parametrize("wrong, cause", CAROUSEL_MISTAKES, ids=[c for _, c in CAROUSEL_MISTAKES])
def test_carousel_mistakes_fail_every_test_with_their_diagnosis(wrong, cause):
    for test in _tests("q2"):
        with pytest.raises(CheckFailed, match=cause):
            test(wrong)


def test_carousel_units_that_calls_the_report_is_refused():
    def carousel_units_of_report(f, i):
        return SimpleNamespace(carousel_units=lambda: [0]).carousel_units()

    with pytest.raises(CheckFailed, match="not to use"):
        checks.check_carousel_units(carousel_units_of_report)


def test_the_model_answer_reads_the_trained_network():
    """What the solution's written answer says of the recaller of seed 0 and its untrained copy."""
    torch.set_num_threads(1)
    model, _ = ins.train_recaller(seed=0)
    x = ins.test_data()[0][:, :64]
    trained, untrained = ll.inspect(model, x), ll.inspect(ins.recaller(seed=0), x)
    T = x.shape[0]
    long = {
        (k, d): [
            int(u) for u in trained.rows(k, d)["unit"][trained.rows(k, d)["half_life"] > ins.DELAY]
        ]
        for k in (0, 1)
        for d in (0, 1)
    }
    # Long memories in the forward directions only: a few in layer 0, one in layer 1.
    assert len(long[(0, 0)]) >= 2 and len(long[(1, 0)]) == 1
    assert long[(0, 1)] == [] and long[(1, 1)] == []
    # Most of them near the delay; one, stuck open, several times the whole sequence.
    hl = trained.rows(0, 0)["half_life"]
    longest = int(np.argmax(hl))
    assert hl[longest] > 3 * T
    others = sorted(hl[long[(0, 0)]])[:-1] + list(trained.rows(1, 0)["half_life"][long[(1, 0)]])
    assert all(ins.DELAY < n < 2 * ins.DELAY for n in others)
    # The only stuck gate: that unit's forget gate, open. No carousel anywhere.
    stuck = {(k, d): trained.stuck(k, d) for k in (0, 1) for d in (0, 1)}
    assert stuck == {(0, 0): {("f", "open"): [longest]}, (0, 1): {}, (1, 0): {}, (1, 1): {}}
    assert not trained.table["carousel"].any()
    # The untrained copy: nothing longer than the delay, nothing stuck, no carousel; its
    # half-lives near that of sigma(1), the forget-gate bias; about chance.
    assert not (untrained.table["half_life"] > ins.DELAY).any()
    assert all(untrained.stuck(k, d) == {} for k in (0, 1) for d in (0, 1))
    assert not untrained.table["carousel"].any()
    bias_half_life = rp.half_life(1 / (1 + np.exp(-ins.FORGET_BIAS)))
    assert np.median(untrained.table["half_life"]) == pytest.approx(bias_half_life, rel=0.1)
    assert ins.accuracy(model) == 1.0
    assert abs(ins.accuracy(ins.recaller(seed=0)) - 1 / ins.N_SYMBOLS) < 0.05
