"""The output gate as a trapdoor (活板门): it hides the memory, and shields it from gradients.

Both experiments of chapter 7 rest on the last two lines of the cell
(see :mod:`lstm_lessons.cells.lstm`):

    o = sigma(a_o)                          output gate
    h = o * tanh(c)                         hidden state

Forward: with o ~ 0, whatever c holds barely reaches h. On the KEY/QUERY task
(:func:`lstm_lessons.training.tasks.key_query`) a value is stored at KEY and must stay
out of the output until QUERY. :func:`train_trapdoor_model` trains a small
LSTM on it; :func:`storing_unit` finds the unit whose cell state holds the
value, :func:`visibility` measures how much of it shows in c and in h
while it is held, and :func:`inspect_trapdoor` gathers these numbers for a
trained model; :func:`mirrored_pair` makes two sequences that differ only in
the stored value. The task follows the motivation of Hochreiter & Schmidhuber
(1997), whose output gates protect other units from memory contents that are
not relevant yet.

Backward: the chain rule through ``h = o * tanh(c)`` gives

    dL/dc (through h) = dh * o * (1 - tanh(c)**2),

so the gradient that reaches the memory is proportional to o.
:func:`output_gate_gradient_sweep` measures it with the package's
:func:`lstm_lessons.lstm_step_backward` while it shifts the output gate's
bias, so that o sweeps from ~0 to ~1 and nothing else in the step changes.

Shapes: N sequences, T steps, D input size (3 for the task), H hidden size.
Sequences are time-major: x (T, N, D), states (T, N, H).
"""

import numpy as np
import torch

from ..cells.lstm import lstm_step_backward, lstm_step_forward
from ..cells.validation import check_array, check_index, check_int, check_shape
from ..training.harness import fit
from ..training.tasks import key_query

#: The flag channels of key_query's input; channel 0 carries the value.
KEY, QUERY = 1, 2


def train_trapdoor_model(
    T=16, hidden_size=2, steps=800, lr=0.02, forget_bias=2.0, batch_size=64, seed=0
):
    """Train an LSTM with a readout at every step on ``key_query``; returns (model, history).

    The loss is the mean squared error over all T steps, so the network is
    punished for any output before the query. Every step draws a fresh batch
    from a seed derived from ``seed``, so the run is reproducible. A forget
    bias of 2 starts f near sigma(2) ~ 0.88, which lets the stored value
    survive the wait from the start of training.
    """
    check_int("T", T)
    if T < 3:
        raise ValueError(f"T: expected at least 3 steps (KEY, a wait, QUERY), got {T!r}")
    for name, value in (("hidden_size", hidden_size), ("batch_size", batch_size)):
        check_int(name, value)
    if not lr > 0:
        raise ValueError(f"lr: expected a positive learning rate, got {lr!r}")
    return fit(
        lambda rng: key_query(batch_size, T, rng=rng),
        steps,
        seed=seed,
        loss="mse",
        lr=lr,
        input_size=3,
        hidden_size=hidden_size,
        output_size=1,
        cell="lstm",
        readout="all",
        forget_bias=forget_bias,
    )


def _check_task(x, y):
    """Check a key_query batch; returns the KEY step of each sequence, (N,)."""
    T, N, _ = check_array("x", x, "TND")
    check_shape("x", x, (T, N, 3), "TND")
    check_array("y", y, "TND")
    check_shape("y", y, (T, N, 1), "TND")
    flags = x[:, :, KEY]
    if not np.all((flags == 1.0).sum(axis=0) == 1):
        raise ValueError("x: expected exactly one KEY flag (channel 1 == 1) in every sequence")
    if not np.all(x[-1, :, QUERY] == 1.0):
        raise ValueError("x: expected the QUERY flag (channel 2 == 1) at the last step")
    return flags.argmax(axis=0)


def stored_values(x, y):
    """The value each sequence stores at KEY, +1 or -1: y at the query, (N,)."""
    _check_task(x, y)
    return y[-1, :, 0].astype(np.float64)


def hold_mask(x, y):
    """(T, N) boolean: the steps strictly between each sequence's KEY and the QUERY.

    These are the steps at which the value must be in memory but not in the output.
    """
    key = _check_task(x, y)
    t = np.arange(x.shape[0])[:, None]
    return (t > key[None, :]) & (t < x.shape[0] - 1)


def readout(model, x):
    """The trained model's output at every step, (T, N), as a NumPy array."""
    check_array("x", x, "TND")
    with torch.no_grad():
        out = model(torch.as_tensor(np.asarray(x, dtype=np.float32)))
    return out.numpy()[..., 0].astype(np.float64)


def query_accuracy(model, x, y):
    """Fraction of sequences whose output at the query has the sign of the stored value."""
    values = stored_values(x, y)
    return float(np.mean(np.sign(readout(model, x)[-1]) == values))


def _signal(state, values):
    """How far ``state`` moves per unit of stored value: cov(state, v) / var(v).

    With v = +-1 in equal numbers this is half the gap between the two groups' means.
    """
    v = values - values.mean()
    return float(np.sum((state - state.mean()) * v) / np.sum(v * v))


def _held(a, x, y):
    """The entries of ``a`` (T, N, ...) at hold steps, and each one's stored value."""
    mask = hold_mask(x, y)
    values = np.broadcast_to(stored_values(x, y), mask.shape)[mask]
    if values.size < 2 or np.all(values == values[0]):
        raise ValueError("x, y: expected hold steps with both stored values, +1 and -1")
    return a[mask], values


def storing_unit(cs, x, y):
    """The unit whose cell state carries the largest signal of the stored value while it is held.

    cs (T, N, H) are the cell states of a run over ``x``; returns the unit's index.
    """
    T, N, H = check_array("cs", cs, "TNH")
    check_shape("cs", cs, (x.shape[0], x.shape[1], H), "TNH")
    held, values = _held(cs, x, y)  # (M, H), (M,)
    return int(np.argmax([abs(_signal(held[:, k], values)) for k in range(H)]))


def visibility(hs, cs, o, x, y, unit):
    """How much of the stored value shows in c and in h of one unit, and what o does.

    hs, cs, o (T, N, H): hidden states, cell states and output gates of a run
    over ``x``. Returns a dict of floats:

    - ``signal_c``, ``signal_h``: how far c and h move per unit of stored value
      at the hold steps (cov / var, see :func:`_signal`);
    - ``exposure``: ``|signal_h / signal_c|``, the fraction of the memory's
      signal that reaches h;
    - ``corr_c``, ``corr_h``: correlation of the stored value with c and with h
      at the hold steps. Correlation ignores scale, so a small h that keeps the
      sign of c still correlates strongly: read it beside ``exposure``;
    - ``o_hold``: mean output gate at the hold steps; ``o_query``: at the query.
    """
    shape = check_array("cs", cs, "TNH")
    for name, a in (("hs", hs), ("o", o)):
        check_array(name, a, "TNH")
        check_shape(name, a, shape, "TNH")
    check_index("unit", unit, shape[2])
    c, values = _held(cs[..., unit], x, y)
    h, _ = _held(hs[..., unit], x, y)
    o_held, _ = _held(o[..., unit], x, y)
    signal_c, signal_h = _signal(c, values), _signal(h, values)
    return {
        "signal_c": signal_c,
        "signal_h": signal_h,
        "exposure": abs(signal_h / signal_c),
        "corr_c": float(np.corrcoef(c, values)[0, 1]),
        "corr_h": float(np.corrcoef(h, values)[0, 1]),
        "o_hold": float(o_held.mean()),
        "o_query": float(o[-1, :, unit].mean()),
    }


def inspect_trapdoor(model, x, y):
    """Everything chapter 7 asks of a trained trapdoor model, on the batch ``x``, ``y``.

    Returns the dict of :func:`visibility` for the :func:`storing_unit`, plus:

    - ``accuracy``: :func:`query_accuracy`; ``unit``: the storing unit;
    - ``signal_h_layer``: the norm over all H units of each unit's signal in h,
      the stored value's whole footprint in the hidden state while it is held;
    - ``signal_out``: the signal in the model's output at the hold steps, the
      part of that footprint the readout lets through.
    """
    hs, cs, cache = model.run_numpy(x)
    o = cache.gate("o")
    unit = storing_unit(cs, x, y)
    held, values = _held(hs, x, y)  # (M, H), (M,)
    out, _ = _held(readout(model, x), x, y)
    return {
        "accuracy": query_accuracy(model, x, y),
        "unit": unit,
        **visibility(hs, cs, o, x, y, unit),
        "signal_h_layer": float(np.hypot.reduce([_signal(h, values) for h in held.T])),
        "signal_out": _signal(out, values),
    }


def mirrored_pair(x, y, n=0):
    """Sequence ``n`` of a key_query batch and its mirror image: x (T, 2, 3), y (T, 2, 1).

    The mirror stores the opposite value and is otherwise identical (same KEY
    step, same distractors), so any difference between the two runs is the
    stored value's doing.
    """
    key = _check_task(x, y)
    check_index("n", n, x.shape[1], "a sequence index")
    pair_x = np.repeat(x[:, n : n + 1], 2, axis=1)  # (T, 2, 3), a copy
    pair_y = np.repeat(y[:, n : n + 1], 2, axis=1)  # (T, 2, 1)
    pair_x[key[n], 1, 0] *= -1
    pair_y[-1, 1, 0] *= -1
    return pair_x, pair_y


def output_gate_gradient_sweep(params, x, h_prev, c_prev, dh, bias_shifts):
    """The gradient one step sends into the memory, while the output gate's bias is shifted.

    For each shift s in ``bias_shifts`` (S,), the output gate's bias block
    b[3H:4H] becomes b_o + s, one standard LSTM step runs on x (N, D),
    h_prev (N, H), c_prev (N, H), and ``lstm_step_backward(dh, 0, ...)``
    returns the gradients of L = sum(dh * h). Only o depends on s: c, f, i, g
    are computed before o and do not read it. Returns a dict of arrays:

    - ``o`` (S, N, H): the output gate;
    - ``dc`` (S, N, H): dL/dc_t, all of which arrives through h_t here; it is
      ``dc_prev / f``, exact because c_prev reaches c_t only as f * c_prev;
    - ``dc_prev`` (S, N, H): dL/dc_{t-1}, the gradient that reaches the old memory;
    - ``write_grad`` (S,): norm of the gradient of the parameters of the
      i, f and g blocks, the weights that write the memory;
    - ``gate_grad`` (S,): norm of the gradient of the o block's own parameters.
    """
    N, D = check_array("x", x, "ND")
    H = check_array("h_prev", h_prev, "NH", x.dtype)[1]
    check_array("c_prev", c_prev, "NH", x.dtype)
    check_shape("c_prev", c_prev, (N, H), "NH")
    check_array("dh", dh, "NH", x.dtype)
    check_shape("dh", dh, (N, H), "NH")
    shifts = np.asarray(bias_shifts, dtype=np.float64)
    if shifts.ndim != 1 or shifts.size == 0 or not np.isfinite(shifts).all():
        raise ValueError(
            f"bias_shifts: expected a non-empty 1-D array of finite numbers, got {bias_shifts!r}"
        )
    if not isinstance(params, dict) or not isinstance(params.get("b"), np.ndarray):
        raise TypeError(f"params: expected a dict of standard-LSTM arrays with 'b', got {params!r}")
    write, gate = slice(0, 3 * H), slice(3 * H, 4 * H)  # blocks i, f, g | o
    out = {k: [] for k in ("o", "dc", "dc_prev", "write_grad", "gate_grad")}
    for s in shifts:
        shifted = dict(params, b=params["b"].copy())  # never change the caller's arrays
        shifted["b"][gate] += s
        _, _, cache = lstm_step_forward(x, h_prev, c_prev, shifted)
        _, _, dc_prev, grads = lstm_step_backward(dh, np.zeros_like(dh), cache)
        out["o"].append(cache.o)
        out["dc"].append(dc_prev / cache.f)
        out["dc_prev"].append(dc_prev)
        out["write_grad"].append(
            np.sqrt(sum(np.sum(grads[k][..., write] ** 2) for k in ("W_x", "W_h", "b")))
        )
        out["gate_grad"].append(
            np.sqrt(sum(np.sum(grads[k][..., gate] ** 2) for k in ("W_x", "W_h", "b")))
        )
    return {k: np.array(v) for k, v in out.items()}
