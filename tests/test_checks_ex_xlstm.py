"""lstm_lessons.homework.sets.xlstm: the checks of the exercise set of chapter 15.

Right answers, written in more than one way, pass; each deliberate mistake is rejected with
the words of its diagnosis; a blank answer is "not done yet"; no message holds a traceback.
"""

import numpy as np
import pytest
from helpers import failure

import lstm_lessons as ll
from lstm_lessons.cells.slstm import init_slstm_params
from lstm_lessons.homework.given import GIVEN_KEY, given_values
from lstm_lessons.homework.runner import load_public_manifest
from lstm_lessons.homework.sets.xlstm import (
    STEP_CASES,
    check_first_overflow,
    check_slstm_step,
    check_slstm_step_more,
    first_overflow_of,
)


def make_step(order="zifo", stabilise=True, m_prev_in_max=True, f_scaled=True, forget="sigmoid",
              normalise=True, exp_outside=False):
    """An sLSTM step, right by default, with one known mistake switched on by an argument."""

    def slstm_step(x, h_prev, c_prev, n_prev, m_prev, W_x, R, b):
        a = x @ W_x + h_prev @ R + b
        blocks = dict(zip(order, np.split(a, 4, axis=1), strict=True))
        z, o = np.tanh(blocks["z"]), ll.sigmoid(blocks["o"])
        it, ft = blocks["i"], blocks["f"]
        log_f = -np.logaddexp(0.0, -ft) if forget == "sigmoid" else ft
        if not stabilise:
            m = np.zeros_like(m_prev)
            i, f = np.exp(it), ll.sigmoid(ft)
        else:
            m = np.maximum(log_f + m_prev, it) if m_prev_in_max else np.maximum(log_f, it)
            i = np.exp(it) / np.exp(m) if exp_outside else np.exp(it - m)
            f = np.exp(log_f + m_prev - m) if f_scaled else ll.sigmoid(ft)
        c = f * c_prev + i * z
        n = f * n_prev + i
        return (o * c / n if normalise else o * c), c, n, m

    return slstm_step


def step_in_other_words(x, h_prev, c_prev, n_prev, m_prev, W_x, R, b):
    """The same step with the gates sliced by hand and the forget gate as log(sigmoid)."""
    H = h_prev.shape[1]
    a = x @ W_x + h_prev @ R + b
    it, ft = a[:, H : 2 * H], a[:, 2 * H : 3 * H]
    m = np.maximum(np.log(ll.sigmoid(ft)) + m_prev, it)
    f_scaled = ll.sigmoid(ft) * np.exp(m_prev - m)
    c = f_scaled * c_prev + np.exp(it - m) * np.tanh(a[:, :H])
    n = f_scaled * n_prev + np.exp(it - m)
    h = ll.sigmoid(a[:, 3 * H :]) * (c / n)
    return h, c, n, m


@pytest.mark.parametrize("step", [make_step(), step_in_other_words])
def test_right_steps_pass(step):
    with np.errstate(divide="ignore", over="ignore"):
        assert "passed" in check_slstm_step(step)
        assert "passed" in check_slstm_step_more(step)


@pytest.mark.parametrize(
    "step, words",
    [
        (make_step(stabilise=False), "there is no stabiliser"),
        (make_step(m_prev_in_max=False), "forgets m_prev"),
        (make_step(f_scaled=False), "without the stabiliser"),
        (make_step(forget="exp"), "log f = log sigma(f~)"),
        (make_step(normalise=False), "h is not normalised"),
        (make_step(order="ifzo"), "order i, f, z, o"),
        (make_step(order="zfio"), "order z, f, i, o"),
    ],
)
def test_step_mistakes_are_named(step, words):
    with np.errstate(all="ignore"):
        message = failure(check_slstm_step, step)
    assert words in message, message


@pytest.mark.parametrize("step", [make_step(stabilise=False), make_step(exp_outside=True)])
def test_overflow_in_the_large_case_is_named(step):
    """Input-gate pre-activations near 95 in float32: only a stabilised exponent stays finite."""
    with np.errstate(all="ignore"):
        message = failure(check_slstm_step, step, cases=(STEP_CASES[2],))
    assert "inf or nan" in message and "exp(a) / exp(m) overflows" in message, message


def test_step_blank_and_package_call():
    def slstm_step(x, h_prev, c_prev, n_prev, m_prev, W_x, R, b):
        """One step."""
        ...

    assert "not done yet" in failure(check_slstm_step, slstm_step)

    def delegating(x, h_prev, c_prev, n_prev, m_prev, W_x, R, b):
        from lstm_lessons.cells.slstm import slstm_forward

        return slstm_forward(x[None], {"W_x": W_x, "R": R, "b": b})

    assert "slstm_forward" in failure(check_slstm_step, delegating)


def given():
    """The given cell of task 2."""
    T, N, D, H = 60, 4, 3, 8
    rng = np.random.default_rng(15)
    params = init_slstm_params(D, H, seed=15, dtype=np.float32)
    ramp = np.linspace(1.0, 300.0, T)[:, None, None]
    x = (ramp * rng.standard_normal((T, N, D))).astype(np.float32)
    return x, params


def test_first_overflow_right_answers_pass():
    x, params = given()
    want = first_overflow_of(x, params)
    assert 0 < want < len(x)
    # by hand: the unstabilised loop written out in float32
    H = params["R"].shape[0]
    h = c = n = np.zeros((x.shape[1], H), np.float32)
    with np.errstate(all="ignore"):
        for t in range(len(x)):
            zt, it, ft, ot = np.split(x[t] @ params["W_x"] + h @ params["R"] + params["b"], 4, 1)
            f, i = ll.sigmoid(ft), np.exp(it)
            c, n = f * c + i * np.tanh(zt), f * n + i
            h = ll.sigmoid(ot) * c / n
            if not np.isfinite(h).all():
                break
    assert t == want
    for value in (want, np.int64(want), float(want), np.array(want)):
        assert "passed" in check_first_overflow(value, x, params)


def test_first_overflow_mistakes_are_named():
    x, params = given()
    want = first_overflow_of(x, params)
    assert "counted the steps from 1" in failure(check_first_overflow, want + 1, x, params)
    assert "last step at which" in failure(check_first_overflow, want - 1, x, params)
    assert "not computed yet" in failure(check_first_overflow, ..., x, params)
    assert "whole number" in failure(check_first_overflow, 2.5, x, params)
    assert "one whole number" in failure(check_first_overflow, [want], x, params)
    message = failure(check_first_overflow, want + 7, x, params)
    assert "not the step asked for" in message and str(want) not in message.split("\n")[1]


def test_first_overflow_is_recomputed_from_the_given_data():
    """Other seeds move the step: a number copied from another notebook fails."""
    x, params = given()
    rng = np.random.default_rng(3)
    other_x = (np.linspace(1.0, 300.0, 60)[:, None, None]
               * rng.standard_normal(x.shape)).astype(np.float32)
    other = first_overflow_of(other_x, init_slstm_params(3, 8, seed=3, dtype=np.float32))
    assert other != first_overflow_of(x, params)
    assert "passed" in check_first_overflow(other, other_x,
                                            init_slstm_params(3, 8, seed=3, dtype=np.float32))
    failure(check_first_overflow, first_overflow_of(x, params), other_x,
            init_slstm_params(3, 8, seed=3, dtype=np.float32))


def test_the_set_ships_its_given_cell_and_every_reseeding_overflows():
    """The grader re-seeds the given cell per submission: each draw must still overflow."""
    manifest = load_public_manifest("ch15_xlstm")
    assert {"x", "params"} <= set(manifest[GIVEN_KEY]["names"])
    steps = set()
    for secret in range(20):
        values = given_values(manifest, secret=f"secret-{secret}")
        assert values["x"].dtype == np.float32
        step = first_overflow_of(values["x"], values["params"])
        assert step is not None and 0 < step < len(values["x"])
        steps.add(step)
        assert "passed" in check_first_overflow(step, values["x"], values["params"])
    assert len(steps) > 3  # a number copied from the published solution is usually wrong
