"""Bad input raises TypeError/ValueError that says what was expected and what came."""

import numpy as np
import pytest
import torch

import lstm_lessons as ll
from lstm_lessons.pytorch.cells import GRU, LSTM
from lstm_lessons.training import harness, tasks

T, N, D, H = 4, 2, 3, 5
rng = np.random.default_rng(0)
X = rng.standard_normal((T, N, D))
H0 = np.zeros((N, H))
C0 = np.zeros((N, H))
P = ll.init_lstm_params(D, H)


def with_nan(a, index):
    a = a.clone() if isinstance(a, torch.Tensor) else a.copy()
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
    # The caches of the two backward passes: each names the cache it expected and what came.
    "backward given a step cache": (
        lambda: ll.lstm_backward(np.zeros((T, N, H)), ll.lstm_step_forward(X[0], H0, C0, P)[2]),
        TypeError,
        r"cache: expected the SequenceCache that lstm_forward returns, "
        r"got the StepCache of lstm_step_forward \(its gradients come from lstm_step_backward\)",
    ),
    "backward given forward's whole return value": (
        lambda: ll.lstm_backward(np.zeros((T, N, H)), ll.lstm_forward(X, H0, C0, P)),
        TypeError,
        r"expected the SequenceCache .* got a tuple \(h, c, cache\): the whole return value "
        r"of lstm_forward, not its third item",
    ),
    "backward given a tuple": (
        lambda: ll.lstm_backward(np.zeros((T, N, H)), (X, H0)),
        TypeError,
        r"cache: expected the SequenceCache that lstm_forward returns, got a tuple of 2 items",
    ),
    "backward given None": (
        lambda: ll.lstm_backward(np.zeros((T, N, H)), None),
        TypeError,
        r"cache: expected the SequenceCache that lstm_forward returns, got NoneType",
    ),
    "step backward given a sequence cache": (
        lambda: ll.lstm_step_backward(H0, C0, ll.lstm_forward(X, H0, C0, P)[2]),
        TypeError,
        r"cache: expected the StepCache that lstm_step_forward returns, "
        r"got the SequenceCache of lstm_forward \(its gradients come from lstm_backward\)",
    ),
    # gradient_check: a check that cannot fail (NaN, an empty x) is refused.
    "gradient check with a NaN analytic gradient": (
        lambda: ll.gradient_check(np.sin, np.ones(3), with_nan(np.cos(np.ones(3)), 1), np.ones(3)),
        ValueError,
        r"analytic: expected finite values, got nan at index \(1,\)",
    ),
    "gradient check with eps = 0": (
        lambda: ll.gradient_check(np.sin, np.ones(3), np.cos(np.ones(3)), np.ones(3), eps=0),
        ValueError,
        r"eps: expected a positive number, got 0",
    ),
    "gradient check with eps < 0": (
        lambda: ll.gradient_check(np.sin, np.ones(3), np.cos(np.ones(3)), np.ones(3), eps=-1e-6),
        ValueError,
        r"eps: expected a positive number, got -1e-06",
    ),
    "numerical gradient with eps = NaN": (
        lambda: ll.numerical_gradient(np.sin, np.ones(3), np.ones(3), eps=np.nan),
        ValueError,
        r"eps: expected a positive number, got nan",
    ),
    "gradient check of an empty x": (
        lambda: ll.gradient_check(np.sin, np.ones((0, 3)), np.ones((0, 3)), np.ones((0, 3))),
        ValueError,
        r"x: expected a non-empty array to check, got shape \(0, 3\)",
    ),
    "gradient check with dout of the wrong shape": (
        lambda: ll.gradient_check(np.sin, np.ones(3), np.cos(np.ones(3)), np.ones(4)),
        ValueError,
        r"dout: expected the shape of f's output, \(3,\), got \(4,\)",
    ),
    "gradient check with dout that would broadcast": (
        lambda: ll.gradient_check(np.sin, np.ones(3), np.cos(np.ones(3)), np.ones(1)),
        ValueError,
        r"dout: expected the shape of f's output, \(3,\), got \(1,\)",
    ),
    "gradient check with an analytic gradient of another shape": (
        lambda: ll.gradient_check(np.sin, np.ones(3), np.ones((3, 1)), np.ones(3)),
        ValueError,
        r"analytic: expected x's shape \(3,\), got \(3, 1\)",
    ),
    "gradient check of an f that is not finite": (
        lambda: ll.gradient_check(
            lambda v: np.where(v > 0.5, np.inf, v), np.array([0.0, 0.5]), np.ones(2), np.ones(2)
        ),
        ValueError,
        r"f: expected finite values of sum\(f\(x\) \* dout\) near x, so that the numerical "
        r"gradient is finite; got inf at index \(1,\) of the numerical gradient",
    ),
    # The torch LSTM and GRU modules: sizes at construction, input and states in forward.
    "torch module: float32 input into a float64 module": (
        lambda: LSTM(D, H, dtype=torch.float64)(torch.zeros(T, N, D)),
        TypeError,
        r"LSTM: expected input of the module's dtype torch.float64, got torch.float32",
    ),
    "torch module: float64 state with float32 input": (
        lambda: LSTM(D, H)(
            torch.zeros(T, N, D), (torch.zeros(1, N, H, dtype=torch.float64), torch.zeros(1, N, H))
        ),
        TypeError,
        r"LSTM: expected state 0 of the module's dtype torch.float32, got torch.float64",
    ),
    "torch module: no steps": (
        lambda: LSTM(D, H)(torch.zeros(0, N, D)),
        ValueError,
        r"LSTM: expected at least one step \(T >= 1\), got input of shape \(0, 2, 3\)",
    ),
    "torch module: hidden size 0": (
        lambda: LSTM(D, 0),
        ValueError,
        r"LSTM: hidden_size: expected a positive integer, got 0",
    ),
    "torch module: hidden size 2.5": (
        lambda: LSTM(D, 2.5),
        ValueError,
        r"LSTM: hidden_size: expected a positive integer, got 2.5",
    ),
    "torch module: input size True": (
        lambda: LSTM(True, H),
        ValueError,
        r"LSTM: input_size: expected a positive integer, got True, a bool",
    ),
    "torch module: NaN input": (
        lambda: LSTM(D, H)(with_nan(torch.zeros(T, N, D), (2, 1, 0))),
        ValueError,
        r"LSTM: expected finite input values, got nan at index \(2, 1, 0\)",
    ),
    "torch module: inf in the cell state": (
        lambda: LSTM(D, H)(
            torch.zeros(T, N, D), (torch.zeros(1, N, H), torch.full((1, N, H), float("inf")))
        ),
        ValueError,
        r"LSTM: expected finite values in state 1, got inf at index \(0, 0, 0\)",
    ),
    "torch GRU: hidden size 0": (
        lambda: GRU(D, 0),
        ValueError,
        r"GRU: hidden_size: expected a positive integer, got 0",
    ),
    "torch GRU: no steps": (
        lambda: GRU(D, H)(torch.zeros(0, N, D)),
        ValueError,
        r"GRU: expected at least one step \(T >= 1\)",
    ),
    "torch GRU: NaN input": (
        lambda: GRU(D, H)(with_nan(torch.zeros(T, N, D), (0, 0, 2))),
        ValueError,
        r"GRU: expected finite input values, got nan at index \(0, 0, 2\)",
    ),
    # harness.fit checks the first batch against the model before it trains.
    "fit on NaN data": (
        lambda: fit_on(lambda x, y: (with_nan(x, (3, 1, 0)), y)),
        ValueError,
        r"task: expected finite values in x, got nan at index \(3, 1, 0\) in batch 0",
    ),
    "fit on NaN targets": (
        lambda: fit_on(lambda x, y: (x, with_nan(y, (2, 0)))),
        ValueError,
        r"task: expected finite values in y, got nan at index \(2, 0\) in batch 0",
    ),
    "fit on an empty batch": (
        lambda: fit_on(lambda x, y: (x[:, :0], y[:0])),
        ValueError,
        r"task: expected a non-empty x, got shape \(6, 0, 2\) in batch 0",
    ),
    "fit with an output size that does not match the targets": (
        lambda: fit_on(lambda x, y: (x, y), output_size=2),
        ValueError,
        r"y: expected targets of the model's output shape \(4, 2\) \(output_size=2\), "
        r"got \(4, 1\) in batch 0",
    ),
    "fit with targets that would broadcast": (
        lambda: fit_on(lambda x, y: (x, y[:, 0])),
        ValueError,
        r"y: expected targets of the model's output shape \(4, 1\) \(output_size=1\), "
        r"got \(4,\) in batch 0",
    ),
    "fit with inputs of another size": (
        lambda: fit_on(lambda x, y: (x[..., :1], y)),
        ValueError,
        r"task: expected x of shape \(T, N, D=2\), got \(6, 4, 1\) in batch 0",
    ),
    "fit with a task that returns three things": (
        lambda: fit_on(lambda x, y: (x, y, None)),
        TypeError,
        r"task: expected a function rng -> \(x, y\), got a tuple of 3 items from batch 0",
    ),
    "fit with class indices beyond output_size": (
        lambda: fit_on(lambda x, y: (x, np.array([0, 1, 2, 3])), output_size=3, loss="ce"),
        ValueError,
        r"y: expected class indices 0 .. 2 \(output_size=3\), got 3 in batch 0",
    ),
    "fit with class indices of the wrong shape": (
        lambda: fit_on(lambda x, y: (x, np.zeros((4, 1), int)), output_size=3, loss="ce"),
        ValueError,
        r"y: expected class indices of shape \(4,\) for the model's output \(4, 3\) "
        r"\(classes on axis 1\), got \(4, 1\) in batch 0",
    ),
    "fit with an unknown loss": (
        lambda: fit_on(lambda x, y: (x, y), loss="mae"),
        ValueError,
        r"loss: expected one of \('mse', 'ce'\), got 'mae'",
    ),
}


def fit_on(change, output_size=1, loss="mse"):
    """harness.fit on the adding problem (x (6, 4, 2), y (4, 1)) with ``change(x, y)`` applied."""

    def task(rng):
        return change(*tasks.adding_problem(4, 6, rng=rng))

    return harness.fit(task, 2, input_size=2, hidden_size=3, output_size=output_size,
                                   loss=loss)  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_a_clear_error(case):
    call, error, message = CASES[case]
    with pytest.raises(error, match=message):
        call()
