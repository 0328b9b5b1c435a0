"""lstm_lessons.homework.sets.state_tracking: the checks of the exercise set of chapter 16.

Right answers, written in more than one way, pass; each deliberate mistake is rejected with
the words of its diagnosis; a blank answer is "not done yet"; no message holds a traceback.
"""

import numpy as np
import pytest
from helpers import failure

from lstm_lessons.cells.parity import best_unit_interval_accuracy, linear_unit
from lstm_lessons.homework.given import GIVEN_KEY, given_values
from lstm_lessons.homework.runner import load_public_manifest
from lstm_lessons.homework.sets.state_tracking import (
    check_best_interval_accuracy,
    check_parity_unit,
    check_parity_unit_more,
    check_transition,
    check_transition_more,
    fit_recurrence,
)

# Task 1: parity by hand.


def unit(a0, a1, b0=0.0, b1=0.0, h0=1.0):
    """A one-unit linear recurrence with the given coefficients, written as a student would."""

    def parity_unit(bits):
        T, N = bits.shape
        h = np.empty((T, N))
        prev = np.full(N, h0)
        for t in range(T):
            prev = np.where(bits[t] == 1, a1, a0) * prev + np.where(bits[t] == 1, b1, b0)
            h[t] = prev
        return h

    return parity_unit


def negative(h):
    return (h < 0).astype(int)


def above_half(h):
    return (h > 0.5).astype(int)


def squashed_unit(bits):
    """A nonlinear recurrence: tanh around the flip."""
    rows, h = [], np.zeros(bits.shape[1])
    for row in bits:
        h = np.tanh(2.0 * np.where(row == 1, 1.0 - h, h))
        rows.append(h)
    return np.array(rows)


def signs_unit(bits):
    """The chapter's unit, written with a Python loop over a list of rows."""
    rows, h = [], np.ones(bits.shape[1])
    for row in bits:
        h = h * (1.0 - 2.0 * row)  # a(1) = -1, a(0) = 1
        rows.append(h)
    return np.array(rows)


@pytest.mark.parametrize(
    "parity_unit, parity_from_h",
    [
        (unit(1.0, -1.0), negative),  # the chapter's unit: the sign is the parity
        (unit(1.0, -1.0, 0.0, 1.0, 0.0), above_half),  # the state is the parity
        (unit(1.0, -1.0, h0=-1.0), lambda h: (h > 0).astype(bool)),
        (unit(1.0, -0.9), negative),  # a decaying flip: its sign stays exact in float64
        (signs_unit, lambda h: np.where(h < 0, 1, 0)),
    ],
)
def test_right_units_pass(parity_unit, parity_from_h):
    assert "passed" in check_parity_unit(parity_unit, parity_from_h)
    assert "passed" in check_parity_unit_more(parity_unit, parity_from_h)


@pytest.mark.parametrize(
    "parity_unit, parity_from_h, words",
    [
        (unit(1.0, 0.5, 0.0, 0.5, 0.0), above_half, "both at least 0"),
        (unit(1.0, 1.0, 0.0, 1.0, 0.0), lambda h: (h % 2).astype(int), "not one threshold"),
        (unit(1.0, -1.0), lambda h: (h > 0).astype(int), "other way round"),
        (unit(1.0, -0.9, 0.0, 1.0, 0.0), above_half, "the state shrinks"),
        (unit(1.0, -1.1), negative, "the state grows"),
        (squashed_unit, above_half, "not a linear recurrence with constant coefficients"),
        (lambda bits: (np.cumsum(bits, axis=0) % 2).astype(float), above_half,
         "counts the ones with cumsum"),
        (lambda bits: np.add.accumulate(bits, axis=0) % 2, above_half, "integer array"),
        (lambda bits: unit(1.0, -1.0)(bits)[:, :1], negative, "wrong shape"),
    ],
)
def test_parity_mistakes_are_named(parity_unit, parity_from_h, words):
    with np.errstate(all="ignore"):
        message = failure(check_parity_unit, parity_unit, parity_from_h)
    assert words in message, message


def test_a_lagging_readout_is_named():
    def lagging(bits):  # the state before bit t is read as the parity at t
        h = unit(1.0, -1.0)(bits)
        return np.concatenate([np.ones((1, bits.shape[1])), h[:-1]])

    message = failure(check_parity_unit, lagging, negative)
    assert "not a linear recurrence" in message or "one step behind" in message


def test_parity_blank_and_package_calls():
    def parity_unit(bits):
        """One unit per stream."""
        ...

    assert "not done yet" in failure(check_parity_unit, parity_unit, negative)

    def delegating(bits):
        return linear_unit(bits, 1.0, -1.0)

    assert "linear_unit" in failure(check_parity_unit, delegating, negative)


def test_the_recurrence_is_read_back_from_h():
    bits = np.random.default_rng(0).integers(0, 2, (200, 4))
    h = linear_unit(bits, 0.7, -1.3, 0.2, -0.4, h0=0.5)
    coefs, residual = fit_recurrence(h, bits)
    assert np.allclose(coefs, (0.7, -1.3, 0.2, -0.4)) and residual < 1e-12
    _, residual = fit_recurrence(np.tanh(h), bits)
    assert residual > 1e-3


# Task 2: the best unit with transitions in [0, 1].


def given():
    return np.random.default_rng(16).integers(0, 2, size=(40, 16)), 6


def test_best_interval_accuracy_right_answers_pass():
    bits, grid = given()
    want, _ = best_unit_interval_accuracy(bits, grid)
    assert 0.5 < want < 0.6
    for value in (want, np.float32(want), np.array(want)):
        assert "passed" in check_best_interval_accuracy(value, bits, grid)


def test_best_interval_accuracy_mistakes_are_named():
    bits, grid = given()
    want, setting = best_unit_interval_accuracy(bits, grid)
    assert "percentage" in failure(check_best_interval_accuracy, 100 * want, bits, grid)
    assert "outside [0, 1]" in failure(check_best_interval_accuracy, 1.0, bits, grid)
    assert "grid of 5" in failure(
        check_best_interval_accuracy, best_unit_interval_accuracy(bits, 5)[0], bits, grid
    )
    assert "take the first" in failure(check_best_interval_accuracy, (want, setting), bits, grid)
    message = failure(check_best_interval_accuracy, want - 0.01, bits, grid)
    assert "better unit exists" in message
    assert f"{want:.3f}" not in message and f"{want:.6g}" not in message
    assert "no unit on the grid" in failure(check_best_interval_accuracy, 0.99, bits, grid)
    assert "not computed yet" in failure(check_best_interval_accuracy, ..., bits, grid)


def test_best_interval_accuracy_is_recomputed_from_the_given_bits():
    bits, grid = given()
    other = np.random.default_rng(5).integers(0, 2, size=(40, 16))
    want, _ = best_unit_interval_accuracy(bits, grid)
    assert want != best_unit_interval_accuracy(other, grid)[0]
    failure(check_best_interval_accuracy, want, other, grid)


# Task 3: the selective SSM's transition.


def transition(dt, A, negative):
    e = np.exp(dt[..., None] * A)
    return 2.0 * e - 1.0 if negative else e


def transition_by_einsum(dt, A, negative):
    e = np.exp(np.einsum("...h,hs->...hs", dt, A))
    return e + (e - 1.0) * negative


@pytest.mark.parametrize("fn", [transition, transition_by_einsum])
def test_right_transitions_pass(fn):
    assert "passed" in check_transition(fn)
    assert "passed" in check_transition_more(fn)


def _with(f_plain, f_negative):
    return lambda dt, A, negative: (f_negative if negative else f_plain)(dt[..., None], A)


@pytest.mark.parametrize(
    "fn, words",
    [
        (_with(lambda d, A: np.exp(d + A), lambda d, A: 2 * np.exp(d + A) - 1), "not added"),
        (_with(lambda d, A: np.exp(-d * A), lambda d, A: 2 * np.exp(-d * A) - 1),
         "sign of the exponent"),
        (_with(lambda d, A: np.exp(d * A), lambda d, A: 1 - 2 * np.exp(d * A)), "its negative"),
        (_with(lambda d, A: np.exp(d * A), lambda d, A: np.exp(d * A)), "is ignored"),
        (_with(lambda d, A: np.exp(d * A), lambda d, A: -np.exp(d * A)), "only covers (-1, 0)"),
        (_with(lambda d, A: 2 * np.exp(d * A) - 1, lambda d, A: 2 * np.exp(d * A) - 1),
         "only for negative=True"),
        (_with(lambda d, A: 1 - np.exp(d * A), lambda d, A: 2 * np.exp(d * A) - 1),
         "not the share kept"),
        (lambda dt, A, negative: np.exp(dt * A), "dt[..., None]"),
    ],
)
def test_transition_mistakes_are_named(fn, words):
    with np.errstate(all="ignore"):
        message = failure(check_transition, fn)
    assert words in message, message


def test_transition_blank_and_package_call():
    def blank(dt, A, negative):
        """The transition."""
        ...

    assert "not done yet" in failure(check_transition, blank)

    def delegating(dt, A, negative):
        from lstm_lessons.cells import ssm

        return ssm.transition(dt, A, negative)

    assert "transition" in failure(check_transition, delegating)


def test_a_docstring_that_names_the_transition_is_not_refused_in_the_sandbox():
    """Graded from a notebook, the word in a docstring is no call; an import still is."""
    source = (
        "def transition(dt, A, negative):\n"
        '    """The transition of the selective SSM: its parity depends on it."""\n'
        "    e = np.exp(dt[..., None] * A)\n"
        "    return 2.0 * e - 1.0 if negative else e\n"
    )
    namespace = {"np": np}
    exec(source, namespace)
    fn = namespace["transition"]
    fn.grading_cells, fn.grading_name = ["import numpy as np", source], "transition"
    assert "passed" in check_transition(fn)
    fn.grading_cells = [
        "import numpy as np\nfrom lstm_lessons.cells.ssm import transition as reference",
        source.replace("e = np.exp(dt[..., None] * A)", "e = reference(dt, A)"),
    ]
    assert "not checked" in failure(check_transition, fn)


def test_the_set_ships_its_given_cell():
    manifest = load_public_manifest("ch16_state_tracking")
    assert {"bits", "grid"} <= set(manifest[GIVEN_KEY]["names"])
    values = given_values(manifest, secret="some secret")
    bits, grid = given()
    assert values["grid"] == grid and values["bits"].shape == bits.shape
    assert not np.array_equal(values["bits"], bits)  # re-seeded
