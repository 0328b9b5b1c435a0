"""Checks that teach without giving the answer away, and the scoring holes that were found."""

import numpy as np
import pytest
import wrong_implementations as impl

import lstm_lessons as ll
from lstm_lessons.homework import checks
from lstm_lessons.homework.checks import CheckFailed
from lstm_lessons.homework.sets.gates import check_gap
from lstm_lessons.homework.sets.memory import check_gate_slope


def _message(check, *args):
    with pytest.raises(CheckFailed) as info:
        check(*args)
    return str(info.value)


@pytest.mark.parametrize("name", sorted(impl.FORBIDDEN))
def test_calling_the_package_where_the_task_forbids_it_fails(name):
    message = _message(getattr(checks, name), impl.FORBIDDEN[name])
    assert "calls the package's" in message and "Write the equations yourself" in message


def test_a_function_may_share_the_name_of_the_package_function():
    def rnn_step_forward(x, h_prev, W_x, W_h, b):  # its own name, not the package's
        return (
            np.tanh(x @ W_x + h_prev @ W_h + b)
            if x is None
            else rnn_step_forward(None, h_prev, W_x, W_h, b)
            if False
            else np.tanh(x @ W_x + h_prev @ W_h + b)
        )

    assert "passed" in checks.check_rnn_step(rnn_step_forward)


def test_no_message_gives_the_reference_recipe():
    def wrong_backward(dh, dc, i, f, g, o, c_prev, c):
        return tuple(0.5 * dh for _ in range(5))

    message = _message(checks.check_lstm_step_backward, wrong_backward)
    assert "The reference computes" not in message and "dc_total =" not in message
    assert "No common mistake" in message and "da_i" in message  # where, not how


def test_the_slope_message_does_not_print_the_expected_slope():
    from lstm_lessons.cells.lstm import init_lstm_params, lstm_step_forward

    rng = np.random.default_rng(0)
    params = init_lstm_params(3, 4, seed=0)
    x, h_prev, c_prev, dh = (rng.standard_normal(s) for s in ((2, 3), (2, 4), (2, 4), (2, 4)))
    c = lstm_step_forward(x, h_prev, c_prev, params)[1]
    expected = float((dh * (1 - np.tanh(c) ** 2))[0, 2])
    # The right slope passes (the check raises CheckFailed otherwise) and says why it is right.
    passed = check_gate_slope(expected, params, x, h_prev, c_prev, dh)
    assert passed == (
        f"slope = {expected:.4f} = dh * (1 - tanh(c_t)**2): the gradient into the memory is "
        "proportional to o_t."
    )
    message = _message(check_gate_slope, expected * 1.37, params, x, h_prev, c_prev, dh)
    for digits in (f"{expected:.6g}", f"{expected:.4g}", f"{expected:.3g}"):
        assert digits not in message, message


@pytest.mark.parametrize("gap", [0.0, 0, np.float64(0.0)])
def test_a_typed_zero_gap_scores_nothing(gap):
    from lstm_lessons.homework.sets.gates import _package_step, _torch_gap

    rng = np.random.default_rng(0)
    data = {"x": rng.standard_normal((4, 2, 3)), "h0": np.zeros((2, 5)), "c0": np.zeros((2, 5)),
            "params": ll.init_lstm_params(3, 5, seed=1)}  # fmt: skip
    real = _torch_gap(_package_step, **data, name="lstm_step")
    assert real > 0
    assert "exactly 0" in _message(check_gap, gap, _package_step, *data.values())
    assert "gap =" in check_gap(real, _package_step, *data.values())


def test_long_arguments_are_summarised_in_messages():
    def state_distance(x, x_prime, h0, params):
        raise ValueError("boom")

    message = _message(checks.check_state_distance, state_distance)
    assert "params = a dict of W_x (" in message and "array(" not in message
    assert len(message) < 600


def test_the_public_ema_check_catches_what_the_hidden_one_would():
    def ema_float64(x, a):
        c, out = 0.0, np.zeros(len(x))
        for t in range(len(x)):
            c = a * c + (1 - a) * x[t]
            out[t] = c
        return out

    def ema_short_loop(x, a):
        c, out = 0.0, np.zeros_like(x)
        for t in range(len(x) - 1):
            c = a * c + (1 - a) * x[t]
            out[t] = c
        return out

    assert "dtype float64; expected float32" in _message(checks.check_ema, ema_float64)
    assert "the largest error is at c[7]" in _message(checks.check_ema, ema_short_loop)
