"""Bad input raises TypeError/ValueError that says what was expected and what came."""

import numpy as np
import pytest
import torch

import lstm_lessons as ll
from lstm_lessons.pytorch.cells import GRU, LSTM

T, N, D, H = 4, 2, 3, 5
rng = np.random.default_rng(0)
X = rng.standard_normal((T, N, D))
H0 = np.zeros((N, H))
C0 = np.zeros((N, H))
P = ll.init_lstm_params(D, H)


def with_nan(a, index):
    a = a.copy()
    a[index] = np.nan
    return a


CASES = {
    "x of rank 2": (
        lambda: ll.lstm_forward(X[0], H0, C0, P),
        ValueError,
        r"x: expected a 3-D array of shape \(T, N, D\), got 2-D",
    ),
    "x of rank 4": (
        lambda: ll.lstm_forward(X[None], H0, C0, P),
        ValueError,
        r"expected a 3-D array .* got 4-D with shape \(1, 4, 2, 3\)",
    ),
    "step x of rank 3": (
        lambda: ll.lstm_step_forward(X, H0, C0, P),
        ValueError,
        r"x: expected a 2-D array of shape \(N, D\), got 3-D",
    ),
    "integer x": (
        lambda: ll.lstm_forward(X.astype(np.int64), H0, C0, P),
        TypeError,
        r"x: expected dtype float32 or float64, got int64",
    ),
    "list instead of array": (
        lambda: ll.lstm_forward(X.tolist(), H0, C0, P),
        TypeError,
        r"x: expected a NumPy array .* got list",
    ),
    "NaN in x": (
        lambda: ll.lstm_forward(with_nan(X, (2, 1, 0)), H0, C0, P),
        ValueError,
        r"x: expected finite values, got nan at index \(2, 1, 0\)",
    ),
    "NaN in h0": (
        lambda: ll.lstm_forward(X, with_nan(H0, (0, 3)), C0, P),
        ValueError,
        r"h0: expected finite values, got nan at index \(0, 3\)",
    ),
    "h0 with the wrong batch size": (
        lambda: ll.lstm_forward(X, np.zeros((N + 1, H)), C0, P),
        ValueError,
        r"h0: expected shape \(2, 5\) \(N=2, H=5\), got \(3, 5\)",
    ),
    "c0 with the wrong hidden size": (
        lambda: ll.lstm_forward(X, H0, np.zeros((N, H + 1)), P),
        ValueError,
        r"c0: expected shape \(2, 5\) \(N=2, H=5\), got \(2, 6\)",
    ),
    "float32 h0 with float64 x": (
        lambda: ll.lstm_forward(X, H0.astype(np.float32), C0, P),
        TypeError,
        r"h0: expected dtype float64 to match the other inputs, got float32",
    ),
    "W_x for another input size": (
        lambda: ll.lstm_forward(X, H0, C0, ll.init_lstm_params(D + 1, H)),
        ValueError,
        r"params\['W_x'\]: expected shape \(3, 20\) \(D=3, 4H=20\), got \(4, 20\)",
    ),
    "params of another variant": (
        lambda: ll.lstm_forward(X, H0, C0, P, "peephole"),
        ValueError,
        r"params: expected keys .* missing \['p_f', 'p_i', 'p_o'\]",
    ),
    "peephole params for the standard cell": (
        lambda: ll.lstm_forward(X, H0, C0, ll.init_lstm_params(D, H, "peephole")),
        ValueError,
        r"unexpected \['p_f', 'p_i', 'p_o'\]",
    ),
    "params not a dict": (
        lambda: ll.lstm_forward(X, H0, C0, [P["W_x"]]),
        TypeError,
        r"params: expected a dict of arrays, got list",
    ),
    "unknown variant": (
        lambda: ll.lstm_forward(X, H0, C0, P, "peepholes"),
        ValueError,
        r"unknown LSTM variant 'peepholes'.*expected names from",
    ),
    "contradictory variant": (
        lambda: ll.get_variant("cifg+nfg"),
        ValueError,
        r"cannot be combined with nfg",
    ),
    "variant of the wrong type": (
        lambda: ll.get_variant(3),
        TypeError,
        r"variant: expected a name or a Variant, got int",
    ),
    "backward with the wrong dhs shape": (
        lambda: ll.lstm_backward(np.zeros((T, N, H + 1)), ll.lstm_forward(X, H0, C0, P)[2]),
        ValueError,
        r"dhs: expected shape \(4, 2, 5\) \(T=4, N=2, H=5\), got \(4, 2, 6\)",
    ),
    "forget bias on a cell without one": (
        lambda: ll.init_lstm_params(D, H, "cifg", forget_bias=1.0),
        ValueError,
        r"variant 'cifg' has no forget-gate parameters",
    ),
    "negative hidden size": (
        lambda: ll.init_lstm_params(D, -1),
        ValueError,
        r"expected positive integers, got D=3, H=-1",
    ),
    "GRU x of rank 2": (
        lambda: ll.gru_forward(X[0], H0, ll.init_gru_params(D, H)),
        ValueError,
        r"x: expected a 3-D array",
    ),
    "RNN h0 of the wrong size": (
        lambda: ll.rnn_forward(X, np.zeros((N, H + 1)), ll.init_rnn_params(D, H)),
        ValueError,
        r"params\['W_x'\]: expected shape \(3, 6\) \(D=3, H=6\), got \(3, 5\)",
    ),
    "EMA leak outside [0, 1]": (
        lambda: ll.ema(np.ones(5), 1.5),
        ValueError,
        r"expected a leak a in \[0, 1\], got 1.5",
    ),
    "leaky bound with f = 1": (
        lambda: ll.leaky_bound(1.0, 0.5),
        ValueError,
        r"expected 0 <= f < 1",
    ),
    "unknown cell in to_torch": (
        lambda: ll.to_torch(P, cell="lstmm"),
        ValueError,
        r"cell: expected one of \('lstm', 'gru', 'rnn'\), got 'lstmm'",
    ),
    "torch state_dict of another variant": (
        lambda: ll.from_torch(torch.nn.LSTM(D, H), "lstm", "peephole"),
        ValueError,
        r"state_dict: expected keys .*peephole_i_l0",
    ),
    "torch module input of rank 2": (
        lambda: LSTM(D, H)(torch.zeros(N, D)),
        ValueError,
        r"LSTM: expected input of shape \(T, N, D=3\), got \(2, 3\)",
    ),
    "torch module integer input": (
        lambda: LSTM(D, H)(torch.zeros(T, N, D, dtype=torch.long)),
        TypeError,
        r"LSTM: expected a floating-point input, got torch.int64",
    ),
    "torch module state of the wrong shape": (
        lambda: LSTM(D, H)(torch.zeros(T, N, D), (torch.zeros(1, N, H + 1), torch.zeros(1, N, H))),
        ValueError,
        r"LSTM: expected state 0 of shape \(1, N=2, H=5\), got \(1, 2, 6\)",
    ),
    "torch GRU with the wrong input size": (
        lambda: GRU(D, H)(torch.zeros(T, N, D + 1)),
        ValueError,
        r"GRU: expected input of shape \(T, N, D=3\), got \(4, 2, 4\)",
    ),
    "step backward with dc of the wrong shape": (
        lambda: ll.lstm_step_backward(
            np.zeros((N, H)), np.zeros(H), ll.lstm_step_forward(X[0], H0, C0, P)[2]
        ),
        ValueError,
        r"dc: expected a 2-D array of shape \(N, H\), got 1-D",
    ),
    "step backward with dc of the wrong dtype": (
        lambda: ll.lstm_step_backward(
            np.zeros((N, H)), np.zeros((N, H), np.float32), ll.lstm_step_forward(X[0], H0, C0, P)[2]
        ),
        TypeError,
        r"dc: expected dtype float64 to match the other inputs, got float32",
    ),
    "backward with dcs of the wrong shape": (
        lambda: ll.lstm_backward(
            np.zeros((T, N, H)), ll.lstm_forward(X, H0, C0, P)[2], np.zeros((T, N, 1))
        ),
        ValueError,
        r"dcs: expected shape \(4, 2, 5\) \(T=4, N=2, H=5\), got \(4, 2, 1\)",
    ),
    "cifg without an input gate": (
        lambda: ll.get_variant("cifg+nig"),
        ValueError,
        r"cifg sets f = 1 - i, so it needs the input gate",
    ),
    "state_dict with extra peephole keys": (
        lambda: ll.from_torch(LSTM(D, H, "peephole"), "lstm", "standard"),
        ValueError,
        r"state_dict: expected keys .* got .*peephole_f_l0",
    ),
    "EMA leak below 0": (
        lambda: ll.ema(np.ones(5), -0.1),
        ValueError,
        r"expected a leak a in \[0, 1\]",
    ),
    "leaky bound with f < 0": (
        lambda: ll.leaky_bound(-0.1, 0.5),
        ValueError,
        r"expected 0 <= f < 1",
    ),
    "NaN in a leaky integrator's input": (
        lambda: ll.leaky_integrate([1.0, np.nan], 0.5, 0.5),
        ValueError,
        r"u: expected finite values, got NaN or inf",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_a_clear_error(case):
    call, error, message = CASES[case]
    with pytest.raises(error, match=message):
        call()
