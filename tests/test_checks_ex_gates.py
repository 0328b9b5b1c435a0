"""lstm_lessons.homework.sets.gates: the checks of the exercise sets of chapters 4 and 5.

Right answers, written in more than one way, pass; each deliberate mistake is rejected
with the words of its diagnosis; a blank answer (None, ...) is reported as not done yet.
"""

from functools import partial

import numpy as np
import pytest
import torch
from helpers import failure

import lstm_lessons as ll
from lstm_lessons.homework.checks import check_forget_gate, check_lstm_step
from lstm_lessons.homework.sets.gates import (
    check_bias_table,
    check_compare_with_torch,
    check_gap,
    check_gate_survival,
)

# The hidden tests of chapters 4 and 5 run the shared checks on other sizes.
OTHER_SIZES = ((2, 3, 7, 5), (5, 1, 3, 6))

# Chapter 4, task 1: the forget gate on other sizes.


def forget_gate(x, h_prev, W_xf, W_hf, b_f):
    return ll.sigmoid(x @ W_xf + h_prev @ W_hf + b_f)


def forget_gate_loops(x, h_prev, W_xf, W_hf, b_f):
    N, H = h_prev.shape
    f = np.empty((N, H))
    for n in range(N):
        for k in range(H):
            a = x[n] @ W_xf[:, k] + h_prev[n] @ W_hf[:, k] + b_f[k]
            f[n, k] = 1 / (1 + np.exp(-a))
    return f


@pytest.mark.parametrize("fn", [forget_gate, forget_gate_loops])
def test_forget_gate_cases_accept_right_answers(fn):
    assert "passed" in check_forget_gate(fn, cases=OTHER_SIZES)


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda x, h, Wx, Wh, b: ll.sigmoid(x @ Wx + h @ Wh), "bias b_f is missing"),
        (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh + b), "you used tanh"),
        (lambda x, h, Wx, Wh, b: ll.sigmoid(x @ Wx + h @ Wh.T + b), "W_hf is transposed"),
        # Right only when H is 4 or 2, the public check's sizes.
        (lambda x, h, Wx, Wh, b: forget_gate(x, h, Wx, Wh, b)[:, :2], "wrong shape"),
    ],
)
def test_forget_gate_cases_reject_mistakes(fn, words):
    assert words in failure(partial(check_forget_gate, cases=OTHER_SIZES), fn)


# Chapter 4, task 2: the survival of a stored value.


def gate_survival(x, params):
    N, H = x.shape[1], params["W_h"].shape[0]
    zeros = np.zeros((N, H))
    f = ll.lstm_forward(x, zeros, zeros, params)[2].gate("f")
    return f.mean(), f.prod(axis=0).mean()


def gate_survival_own_cell(x, params):
    """Written differently: its own loop over steps, the log of the product, Python floats."""
    N, H = x.shape[1], params["W_h"].shape[0]
    h, c = np.zeros((N, H)), np.zeros((N, H))
    log_kept, total = np.zeros((N, H)), 0.0
    for x_t in x:
        a = x_t @ params["W_x"] + h @ params["W_h"] + params["b"]
        i, f, g, o = np.split(a, 4, axis=1)
        f = ll.sigmoid(f)
        c = f * c + ll.sigmoid(i) * np.tanh(g)
        h = ll.sigmoid(o) * np.tanh(c)
        log_kept += np.log(f)
        total += f.sum()
    return float(total / (len(x) * N * H)), float(np.exp(log_kept).mean())


def _gates(x, params):
    N, H = x.shape[1], params["W_h"].shape[0]
    zeros = np.zeros((N, H))
    cache = ll.lstm_forward(x, zeros, zeros, params)[2]
    return {k: cache.gate(k) for k in "ifo"}


def survival_from(fn):
    def gate_survival(x, params):
        return fn(_gates(x, params), x.shape[0])

    return gate_survival


@pytest.mark.parametrize("fn", [gate_survival, gate_survival_own_cell])
@pytest.mark.parametrize("kwargs", [{}, dict(T=4, N=1, D=2, H=3, seed=7, bias=2.0)])
def test_gate_survival_accepts_right_answers(fn, kwargs):
    assert "passed" in check_gate_survival(fn, **kwargs)


@pytest.mark.parametrize(
    "fn, words",
    [
        (
            survival_from(lambda g, T: (g["f"].mean(), ll.sigmoid(1.0) ** T)),
            "the estimate sigma(b_f) ** T",
        ),
        (
            survival_from(lambda g, T: (g["f"].mean(), g["f"].mean() ** T)),
            "averaged the gates first",
        ),
        (
            survival_from(lambda g, T: (g["f"].mean(), g["f"][1:].prod(axis=0).mean())),
            "multiplies T - 1 gates",
        ),
        (
            survival_from(lambda g, T: (g["f"].mean(), g["f"].prod(axis=1).mean())),
            "over axis 1, the sequences",
        ),
        (
            survival_from(lambda g, T: (g["i"].mean(), g["i"].prod(axis=0).mean())),
            "you read the input gate i",
        ),
        (
            survival_from(lambda g, T: (g["f"].prod(axis=0).mean(), g["f"].mean())),
            "(kept, f_mean)",
        ),
        (survival_from(lambda g, T: (g["f"].mean(axis=0), 0.5)), "expected one number"),
        (lambda x, params: None, "returned None"),
        (lambda x, params: ..., "not done yet"),
    ],
)
def test_gate_survival_rejects_mistakes(fn, words):
    assert words in failure(check_gate_survival, fn)


def _table(x, H, seed, survival=gate_survival, biases=(0, 1, 2)):
    D = x.shape[2]
    return {b: survival(x, ll.init_lstm_params(D, H, seed=seed, forget_bias=b)) for b in biases}


def test_bias_table_accepts_the_measurement_and_rejects_mistakes():
    x = np.random.default_rng(3).standard_normal((10, 8, 6))
    H, seed = 16, 3
    table = _table(x, H, seed)
    assert "times more" in check_bias_table(table, x, H, seed)
    assert "passed" in check_bias_table(
        {float(b): list(v) for b, v in _table(x, H, seed, gate_survival_own_cell).items()},
        x,
        H,
        seed,
    )
    assert "not computed yet" in failure(check_bias_table, {}, x, H, seed)
    assert "not computed yet" in failure(check_bias_table, dict.fromkeys((0, 1, 2), ...), x, H, 3)
    same = {b: table[0] for b in (0, 1, 2)}
    assert "pass forget_bias=b" in failure(check_bias_table, same, x, H, seed)
    swapped = {b: v[::-1] for b, v in table.items()}
    assert "the order is (f_mean, kept)" in failure(check_bias_table, swapped, x, H, seed)
    assert "keys of table" in failure(check_bias_table, _table(x, H, seed, biases=(0, 1)), x, H, 3)
    other_seed = _table(x, H, seed + 1)
    wrong = failure(check_bias_table, other_seed, x, H, seed)
    assert "table[0] = (" in wrong and "are not right" in wrong


# Chapter 5, task 1: the LSTM step on other sizes.


def lstm_step(x, h_prev, c_prev, W_x, W_h, b):
    a = x @ W_x + h_prev @ W_h + b
    i, f, g, o = np.split(a, 4, axis=1)
    c = ll.sigmoid(f) * c_prev + ll.sigmoid(i) * np.tanh(g)
    return ll.sigmoid(o) * np.tanh(c), c


def lstm_step_per_gate(x, h_prev, c_prev, W_x, W_h, b):
    """Written differently: one matmul per gate, in float32 inside."""
    H = h_prev.shape[1]

    def pre(k):
        cols = slice(k * H, (k + 1) * H)
        return (x @ W_x[:, cols] + h_prev @ W_h[:, cols] + b[cols]).astype(np.float32)

    i, f, g, o = ll.sigmoid(pre(0)), ll.sigmoid(pre(1)), np.tanh(pre(2)), ll.sigmoid(pre(3))
    c = f * c_prev.astype(np.float32) + i * g
    return (o * np.tanh(c)).astype(np.float64), c.astype(np.float64)


def _swap_if(x, h_prev, c_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    a = x @ W_x + h_prev @ W_h + b
    f, i, g, o = np.split(a, 4, axis=1)
    c = ll.sigmoid(f) * c_prev + ll.sigmoid(i) * np.tanh(g)
    assert c.shape[1] == H
    return ll.sigmoid(o) * np.tanh(c), c


@pytest.mark.parametrize("fn", [lstm_step, lstm_step_per_gate])
def test_lstm_step_cases_accept_right_answers(fn):
    assert "passed" in check_lstm_step(fn, cases=OTHER_SIZES)


@pytest.mark.parametrize(
    "fn, words",
    [
        (_swap_if, "in the order f, i, g, o"),
        (lambda *a: lstm_step(*a)[::-1], "you returned (c, h)"),
        (lambda x, h, c, Wx, Wh, b: lstm_step(x, h, c, Wx, Wh, 0 * b), "bias b is missing"),
        (lambda *a: (lstm_step(*a)[0][:, :2], lstm_step(*a)[1]), "wrong shape"),
    ],
)
def test_lstm_step_cases_reject_mistakes(fn, words):
    assert words in failure(partial(check_lstm_step, cases=OTHER_SIZES), fn)


# Chapter 5, task 3: the comparison with torch.nn.LSTM.


def _both(step, x, h0, c0, params, dtype=torch.float64, carry=True):
    """h, c of ``step`` and of torch.nn.LSTM at every step, (T, N, H) each."""
    T, N, D = x.shape
    H = h0.shape[1]
    hs, cs, h, c = [], [], h0, c0
    for t in range(T):
        h, c = step(x[t], h, c, params["W_x"], params["W_h"], params["b"])
        hs.append(h)
        cs.append(c)
    lstm = torch.nn.LSTM(D, H).to(dtype)
    lstm.load_state_dict({k: v.to(dtype) for k, v in ll.to_torch(params).items()})
    start = (torch.from_numpy(h0)[None].to(dtype), torch.from_numpy(c0)[None].to(dtype))
    state, th, tc = start, [], []
    with torch.no_grad():
        for t in range(T):
            _, state = lstm(torch.from_numpy(x[t : t + 1]).to(dtype), state if carry else start)
            th.append(state[0][0].double().numpy())
            tc.append(state[1][0].double().numpy())
    return np.stack(hs), np.stack(cs), np.stack(th), np.stack(tc)


def compare_with_torch(step, x, h0, c0, params):
    hs, cs, th, tc = _both(step, x, h0, c0, params)
    return float(max(np.abs(hs - th).max(), np.abs(cs - tc).max()))


def compare_with_torch_whole_sequence(step, x, h0, c0, params):
    """Written differently: every h_t from one call on the whole sequence, c_t step by step."""
    T, N, D = x.shape
    lstm = torch.nn.LSTM(D, h0.shape[1]).double()
    lstm.load_state_dict(ll.to_torch(params))
    state = (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None])
    with torch.no_grad():
        out = lstm(torch.from_numpy(x), state)[0].numpy()  # (T, N, H)
        c_torch = []
        for t in range(T):
            _, state = lstm(torch.from_numpy(x[t : t + 1]), state)
            c_torch.append(state[1][0].numpy())
    gaps, h, c = [], h0, c0
    for t in range(T):
        h, c = step(x[t], h, c, params["W_x"], params["W_h"], params["b"])
        gaps += [np.abs(h - out[t]).max(), np.abs(c - c_torch[t]).max()]
    return max(gaps)


def gap_of(combine, **kwargs):
    def compare(step, x, h0, c0, params):
        hs, cs, th, tc = _both(step, x, h0, c0, params, **kwargs)
        return combine(np.abs(hs - th), np.abs(cs - tc))

    return compare


@pytest.mark.parametrize("fn", [compare_with_torch, compare_with_torch_whole_sequence])
@pytest.mark.parametrize("kwargs", [{}, dict(T=3, N=1, D=2, H=4, seed=9)])
def test_compare_with_torch_accepts_right_answers(fn, kwargs):
    assert "passed" in check_compare_with_torch(fn, **kwargs)


@pytest.mark.parametrize(
    "fn, words",
    [
        (gap_of(lambda dh, dc: dh.max()), "not c_t at every step"),
        (gap_of(lambda dh, dc: dc.max()), "you compared only c"),
        (gap_of(lambda dh, dc: max(dh[-1].max(), dc[-1].max())), "only the last step"),
        (gap_of(lambda dh, dc: max(dh.mean(), dc.mean())), "you averaged"),
        (gap_of(lambda dh, dc: max(dh.max(), dc[-1].max())), "c_t at every step"),
        (gap_of(lambda dh, dc: max(dh.max(), dc.max()), dtype=torch.float32), "float32"),
        (gap_of(lambda dh, dc: max(dh.max(), dc.max()), carry=False), "carried from step"),
        (lambda step, x, h0, c0, params: compare_with_torch(lstm_step, x, h0, c0, params), "use"),
        (gap_of(lambda dh, dc: np.maximum(dh, dc).max(axis=0)), "expected one number"),
        (lambda step, x, h0, c0, params: None, "returned None"),
    ],
)
def test_compare_with_torch_rejects_mistakes(fn, words):
    assert words in failure(check_compare_with_torch, fn)


def test_compare_with_torch_explains_a_torch_error():
    def float32_module(step, x, h0, c0, params):
        lstm = torch.nn.LSTM(x.shape[2], h0.shape[1])  # float32, inputs float64
        lstm.load_state_dict(ll.to_torch(params))
        lstm(torch.from_numpy(x))
        return 0.0

    message = failure(check_compare_with_torch, float32_module)
    assert "raised" in message


def _given_gap_data():
    """The data of chapter 5's given cell, as the grader makes it, and the right gap on it."""
    from lstm_lessons.homework.given import given_values
    from lstm_lessons.homework.runner import load_public_manifest
    from lstm_lessons.homework.sets.gates import _package_step, _torch_gap

    given = given_values(load_public_manifest("ch05_input_gate"))
    data = {k: given[k] for k in ("x", "h0", "c0", "params")}
    return data, _torch_gap(_package_step, **data, name="lstm_step")


def lstm_step(x, h_prev, c_prev, W_x, W_h, b):
    return ll.lstm_step_forward(x, h_prev, c_prev, {"W_x": W_x, "W_h": W_h, "b": b})[:2]


def whole_sequence_gap(step, x, h0, c0, params):
    """compare_with_torch written another right way: torch fed the whole sequence at once."""
    hs, cs, h, c = [], [], h0, c0
    for x_t in x:
        h, c = step(x_t, h, c, params["W_x"], params["W_h"], params["b"])
        hs.append(h)
        cs.append(c)
    lstm = torch.nn.LSTM(x.shape[2], h0.shape[1]).double()
    lstm.load_state_dict(ll.to_torch(params))
    with torch.no_grad():
        state = (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None])
        out, (_, c_T) = lstm(torch.from_numpy(x), state)
    return max(np.abs(np.stack(hs) - out.numpy()).max(), np.abs(cs[-1] - c_T[0].numpy()).max())


def test_gap_is_the_measured_gap_on_the_given_data():
    data, real = _given_gap_data()
    assert 0 < real < 1e-14
    assert "torch.nn.LSTM computes" in check_gap(real, lstm_step, **data)
    # compare_with_torch written another right way reports a gap the check accepts too.
    other = whole_sequence_gap(lstm_step, **data)
    assert "torch.nn.LSTM computes" in check_gap(other, lstm_step, **data)


@pytest.mark.parametrize("typed", [1e-10, 1e-12, 1e-13])
def test_a_typed_gap_below_the_limit_fails(typed):
    """Any number in (0, 1e-10] used to pass: the grader now measures the gap itself."""
    data, real = _given_gap_data()
    assert "rather than typing" in failure(check_gap, typed, lstm_step, **data)


def test_a_gap_measured_on_other_data_or_with_a_wrong_step_fails():
    data, real = _given_gap_data()
    assert "disagree" in failure(check_gap, 0.2, lstm_step, **data)
    assert "pass task 1 first" in failure(check_gap, real, _wrong_bias_step, **data)
    assert "not computed yet" in failure(check_gap, ..., lstm_step, **data)
    assert "expected one number" in failure(check_gap, np.zeros(3), lstm_step, **data)
    assert "given cell" in failure(check_gap, real, None)


def _wrong_bias_step(x, h_prev, c_prev, W_x, W_h, b):
    return lstm_step(x, h_prev, c_prev, W_x, W_h, b + 1e-3)
