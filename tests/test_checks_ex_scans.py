"""lstm_lessons.homework.sets.scans: the checks of chapter 14's exercise set.

Right answers, written in more than one way, pass; each deliberate mistake is rejected
with the words of its diagnosis; a blank answer (``...``) is reported as not done yet.
"""

import numpy as np
import pytest
from helpers import failure

from lstm_lessons.cells.scan import cumprod_scan, loop_scan
from lstm_lessons.homework.given import given_values
from lstm_lessons.homework.runner import load_public_manifest
from lstm_lessons.homework.sets.scans import (
    check_combine,
    check_doubling_round,
    check_first_bad,
    check_scan_backward,
)

# Task 1: combine


def combine(a1, b1, a2, b2):
    return a2 * a1, a2 * b1 + b2


def combine_as_maps(a1, b1, a2, b2):
    """Another right way: apply both maps to h = 0 and h = 1 and read the line off."""
    at0 = a2 * (a1 * 0 + b1) + b2
    at1 = a2 * (a1 * 1 + b1) + b2
    return at1 - at0, at0


def test_combine_right_answers_pass():
    assert "passed" in check_combine(combine)
    assert "passed" in check_combine(combine_as_maps)


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (lambda a1, b1, a2, b2: (a1 * a2, a1 * b2 + b1), "applied in the wrong order"),
        (lambda a1, b1, a2, b2: (a1 * a2, b1 + b2), "without the second map's factor"),
        (lambda a1, b1, a2, b2: (a1 + a2, a2 * b1 + b2), "the transitions are added"),
    ],
)
def test_combine_mistakes_are_named(wrong, words):
    assert words in failure(check_combine, wrong)


def test_a_blank_combine_is_not_done_yet():
    def combine(a1, b1, a2, b2):
        """The map (a1, b1) followed by (a2, b2), as one pair (a, b)."""
        ...

    assert "still the template" in failure(check_combine, combine)


# Task 2: one round of the doubling scan


def doubling_round(A, B, d):
    A_new, B_new = A.copy(), B.copy()
    A_new[d:], B_new[d:] = combine(A[:-d], B[:-d], A[d:], B[d:])
    return A_new, B_new


def doubling_round_by_steps(A, B, d):
    A_new, B_new = np.array(A), np.array(B)
    for t in range(d, len(A)):
        A_new[t] = A[t] * A[t - d]
        B_new[t] = A[t] * B[t - d] + B[t]
    return A_new, B_new


def test_doubling_round_right_answers_pass():
    assert "equals the step loop" in check_doubling_round(doubling_round)
    assert "passed" in check_doubling_round(doubling_round_by_steps)


def round_in_wrong_order(A, B, d):
    A_new, B_new = A.copy(), B.copy()
    A_new[d:] = A[d:] * A[:-d]
    B_new[d:] = A[:-d] * B[d:] + B[:-d]
    return A_new, B_new


def round_with_updated_A(A, B, d):
    A_new, B_new = A.copy(), B.copy()
    A_new[d:] = A[d:] * A[:-d]
    B_new[d:] = A_new[d:] * B[:-d] + B[d:]
    return A_new, B_new


def round_with_roll(A, B, d):
    return A * np.roll(A, d, axis=0), A * np.roll(B, d, axis=0) + B


def round_in_place(A, B, d):
    A[d:], B[d:] = A[d:] * A[:-d], A[d:] * B[:-d] + B[d:]
    return A, B


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (round_in_wrong_order, "the pair at t - d comes first"),
        (round_with_updated_A, "already updated"),
        (round_with_roll, "np.roll wraps around"),
        (round_in_place, "changed its argument `A` in place"),
    ],
)
def test_doubling_round_mistakes_are_named(wrong, words):
    assert words in failure(check_doubling_round, wrong)


# Task 3: the backward pass


def scan_backward(dh, a, h, h0):
    g, g_next = np.empty_like(dh), np.zeros_like(h0)
    for t in reversed(range(len(dh))):
        g[t] = g_next = dh[t] + (a[t + 1] if t + 1 < len(dh) else 0.0) * g_next
    h_prev = np.concatenate([h0[None], h[:-1]])
    return g * h_prev, g, a[0] * g[0]


_right = scan_backward


def scan_backward_by_flipping(dh, a, h, h0):
    """Another right way: the forward loop on the flipped, shifted sequences."""
    a_next = np.concatenate([a[1:], np.zeros_like(a[:1])])
    g = loop_scan(a_next[::-1].copy(), dh[::-1].copy())[::-1]
    return g * np.concatenate([h0[None], h[:-1]]), g, a[0] * g[0]


def test_scan_backward_right_answers_pass():
    assert "passed" in check_scan_backward(scan_backward)
    assert "passed" in check_scan_backward(scan_backward_by_flipping)


def backward_same_step(dh, a, h, h0):
    g = loop_scan(a[::-1].copy(), dh[::-1].copy())[::-1]
    return g * np.concatenate([h0[None], h[:-1]]), g, a[0] * g[0]


def backward_times_h(dh, a, h, h0):
    da, db, dh0 = _right(dh, a, h, h0)
    return db * h, db, dh0


def backward_without_a1(dh, a, h, h0):
    da, db, dh0 = _right(dh, a, h, h0)
    return da, db, db[0]


def backward_direct_only(dh, a, h, h0):
    return dh * np.concatenate([h0[None], h[:-1]]), dh, a[0] * dh[0]


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (backward_same_step, "NEXT step's transition"),
        (backward_times_h, "not by h_t"),
        (backward_without_a1, "dh0 = a_1 g_1"),
        (backward_direct_only, "not only dh_t"),
    ],
)
def test_scan_backward_mistakes_are_named(wrong, words):
    assert words in failure(check_scan_backward, wrong)


def test_scan_backward_that_calls_the_package_scores_nothing():
    from lstm_lessons.cells import scan as package_scan

    def scan_backward(dh, a, h, h0):
        return package_scan.scan_backward(dh, a, h, h0)

    assert "calls the package's `scan_backward`" in failure(check_scan_backward, scan_backward)


# Task 4: where the closed form breaks, on the given data


def _given():
    values = given_values(load_public_manifest("ch14_parallel_scans"))
    return values["a"], values["b"]


def test_first_bad_is_recomputed_from_the_given_data():
    a, b = _given()
    with np.errstate(all="ignore"):
        h = cumprod_scan(a, b)
    right = int(np.argmax(~np.isfinite(h).reshape(len(h), -1).all(axis=1))) + 1
    assert 250 < right < 350  # the float32 product of a in (0.6, 0.9) passes 1e-38 there
    assert f"first_bad = {right}" in check_first_bad(right, a, b)
    assert "counts steps from 0" in failure(check_first_bad, right - 1, a, b)
    assert "is not the first step" in failure(check_first_bad, right + 5, a, b)
    assert "in float64" in failure(check_first_bad, 0, a, b)  # float64 holds out past T


def test_first_bad_blank_or_not_a_number():
    a, b = _given()
    assert "not computed yet" in failure(check_first_bad, ..., a, b)
    assert "expected one whole number" in failure(check_first_bad, np.zeros(3), a, b)
    assert "given cell" in failure(check_first_bad, 3, None, None)
