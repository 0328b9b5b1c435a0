"""The forget gate: how it is initialised, and what the cell does without it.

Shapes: N batch size, T number of steps, D input size, H hidden size.

The forget gate f_t = sigma(a_f) scales the old cell state in

    c_t = f_t * c_{t-1} + i_t * g_t.

Two experiments live here.

- :func:`forget_bias_sweep`: train the same LSTM on a long-delay recall task
  with the forget-gate bias b_f set to 0, 1, 2, ... at the start, over
  several seeds. A positive b_f makes f_t = sigma(b_f + ...) start near 1,
  so that gradients cross the delay (Gers, Schmidhuber & Cummins 2000;
  Jozefowicz, Zaremba & Sutskever 2015 recommend b_f = 1).
- :func:`continual_stream`: drive a cell with and without a forget gate
  (the "nfg" variant, f = 1, as in Hochreiter & Schmidhuber 1997) by one
  long stream of positive inputs. Without f, c_t = c_{t-1} + i_t * g_t only
  ever adds, and grows without bound; Gers et al. (2000) added the forget
  gate so that a cell can reset itself on a continual input stream.
"""

from typing import NamedTuple

import numpy as np

from ..cells.lstm import init_lstm_params, lstm_forward
from ..cells.validation import check_int
from ..training import tasks
from ..training.harness import check_seed, fit, held_out
from ..training.loop import evaluate
from ..training.model import SequenceModel
from .cell_state import drop_forget_gate


def steps_to_solve(loss, threshold, window=10):
    """The first training step at which the mean loss over the last ``window`` steps
    is below ``threshold``; ``nan`` if that never happens.

    Every batch is fresh data, so the training loss estimates the loss on
    unseen sequences; averaging over a window keeps one lucky batch from
    counting as a solution. Steps count from 1.
    """
    loss = np.asarray(loss, dtype=np.float64)
    if loss.ndim != 1:
        raise ValueError(f"loss: expected a 1-D array of per-step losses, got shape {loss.shape}")
    check_int("window", window)
    if len(loss) < window:
        return float("nan")
    running = np.convolve(loss, np.ones(window) / window, mode="valid")
    below = np.flatnonzero(running < threshold)
    return float(below[0] + window) if below.size else float("nan")


class BiasSweep(NamedTuple):
    """Results of :func:`forget_bias_sweep`; rows follow ``biases``, columns ``seeds``.

    ``accuracy`` (B, S) on held-out sequences after training; ``steps_to_solve``
    (B, S), ``nan`` where a run never got its loss below ``threshold``; ``loss``
    (B, S, steps), the training loss at every step; ``f_start`` and ``f_end``
    (B, S), the forget gate's mean over the held-out sequences' steps and
    units before and after training. ``threshold`` is the loss that counts
    as solved, ``chance`` the loss of guessing, ln(n_symbols), and ``window``
    the number of steps the running loss averages.
    """

    biases: tuple
    seeds: tuple
    accuracy: np.ndarray
    steps_to_solve: np.ndarray
    loss: np.ndarray
    f_start: np.ndarray
    f_end: np.ndarray
    threshold: float
    chance: float
    window: int


def forget_bias_sweep(
    biases=(0.0, 1.0, 2.0),
    seeds=(0, 1, 2, 3),
    delay=10,
    hidden_size=16,
    steps=300,
    lr=0.02,
    n_symbols=4,
    batch_size=64,
    solved_fraction=0.1,
    window=10,
    n_eval=512,
):
    """Train an LSTM on :func:`lstm_lessons.training.tasks.delayed_recall` for every bias and seed.

    Each run builds ``SequenceModel(..., forget_bias=b, seed=seed)`` (the
    bias of the f block at ``b``, everything else as PyTorch initialises
    it), trains it with Adam and cross-entropy on fresh batches for
    ``steps`` steps, and measures accuracy on ``n_eval`` held-out sequences.
    A run counts as solved at the first step where its loss, averaged over
    ``window`` steps, drops below ``solved_fraction`` times the loss of
    guessing, ln(n_symbols) (see :func:`steps_to_solve`).
    Seed ``s`` fixes both the initial weights and the training data, so
    the runs with different biases of one seed see the same batches.
    """
    biases = tuple(float(b) for b in biases)
    seeds = tuple(check_seed(s, "seeds") for s in seeds)
    if not biases or not all(np.isfinite(biases)):
        raise ValueError(f"biases: expected one or more finite numbers, got {biases!r}")
    if not seeds:
        raise ValueError(f"seeds: expected one or more seeds, got {seeds!r}")
    if not (np.isscalar(lr) and lr > 0):
        raise ValueError(f"lr: expected a positive learning rate, got {lr!r}")
    for name, value in (("delay", delay), ("hidden_size", hidden_size), ("steps", steps)):
        check_int(name, value)
    check_int("batch_size", batch_size)
    check_int("window", window)
    if not 0.0 < solved_fraction < 1.0:
        raise ValueError(f"solved_fraction: expected a number in (0, 1), got {solved_fraction!r}")

    K = n_symbols
    chance = float(np.log(K))
    threshold = solved_fraction * chance

    def task(rng, n=batch_size):
        return tasks.delayed_recall(n, delay, n_symbols=K, rng=rng)

    x_eval, y_eval = held_out(lambda rng: task(rng, n_eval))
    accuracy, solved_at, f_start, f_end = (np.empty((len(biases), len(seeds))) for _ in range(4))
    loss = np.empty((len(biases), len(seeds), steps))
    for s, seed in enumerate(seeds):
        for b, bias in enumerate(biases):
            model = SequenceModel(K + 2, hidden_size, K, cell="lstm", forget_bias=bias, seed=seed)
            f_start[b, s] = model.run_numpy(x_eval)[2].gate("f").mean()
            _, history = fit(task, steps, seed=seed, model=model, loss="ce", lr=lr)
            loss[b, s] = history.loss
            solved_at[b, s] = steps_to_solve(history.loss, threshold, window)
            accuracy[b, s] = evaluate(model, x_eval, y_eval, loss="ce")["accuracy"]
            f_end[b, s] = model.run_numpy(x_eval)[2].gate("f").mean()
    return BiasSweep(
        biases, seeds, accuracy, solved_at, loss, f_start, f_end, threshold, chance, window
    )


class Stream(NamedTuple):
    """Results of :func:`continual_stream`, for one sequence.

    ``x`` (T, D) the input; ``c_standard`` and ``c_nfg`` (T, H) the cell state
    after every step of the standard cell and of the same cell without a
    forget gate; ``bound`` (H,) the most the standard cell's |c_t| can reach
    given the gates it saw (see :func:`continual_stream`); ``positive_writes``
    the fraction of steps and units at which the standard cell wrote
    i_t * g_t > 0.
    """

    x: np.ndarray
    c_standard: np.ndarray
    c_nfg: np.ndarray
    bound: np.ndarray
    positive_writes: float


def continual_stream(T=3000, hidden_size=4, input_size=2, forget_bias=1.0, seed=0):
    """Run a cell with and without a forget gate over one stream of T positive inputs.

    The inputs are uniform in [0, 1]: their mean is 1/2, and nothing in the
    stream marks a place to start again. The weights are
    :func:`lstm_lessons.cells.lstm.init_lstm_params` with the forget-gate bias
    ``forget_bias``, except that the candidate's input weights and bias are
    made non-negative: then g_t > 0, and every write has the same sign,
    unless the recurrent input h_{t-1} W_h outweighs the input.
    The nfg cell is the same cell with its f block removed
    (:func:`lstm_lessons.experiments.cell_state.drop_forget_gate`):
    c_t = c_{t-1} + i_t * g_t can then only grow.

    For the standard cell, with F the largest f_t and G the largest
    i_t * |g_t| of a unit over the stream, |c_t| <= F |c_{t-1}| + G, so from
    c_0 = 0 it never exceeds ``bound`` = G / (1 - F).
    """
    for name, value in (("T", T), ("hidden_size", hidden_size), ("input_size", input_size)):
        check_int(name, value)
    if not np.isfinite(forget_bias):
        raise ValueError(f"forget_bias: expected a finite number, got {forget_bias!r}")
    D, H = input_size, hidden_size
    params = init_lstm_params(D, H, seed=seed, forget_bias=forget_bias)
    g = slice(2 * H, 3 * H)  # the candidate's block
    params["W_x"][:, g] = np.abs(params["W_x"][:, g])
    params["b"][g] = np.abs(params["b"][g])
    x = np.random.default_rng(seed).uniform(0.0, 1.0, size=(T, 1, D))
    zeros = np.zeros((1, H))
    _, c_standard, cache = lstm_forward(x, zeros, zeros, params)
    _, c_nfg, _ = lstm_forward(x, zeros, zeros, drop_forget_gate(params), "nfg")
    F = cache.gate("f")[:, 0].max(axis=0)  # (H,)
    G = (cache.gate("i") * np.abs(cache.gate("g")))[:, 0].max(axis=0)  # (H,)
    positive = float((cache.gate("g") > 0).mean())  # i > 0 always, so g sets the sign
    return Stream(x[:, 0], c_standard[:, 0], c_nfg[:, 0], G / (1.0 - F), positive)
