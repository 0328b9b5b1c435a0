"""The LSTM beside the simple RNN, the GRU and self-attention: size, speed, reach.

Shapes: T steps (the sequence length), N batch size, D input size, H hidden
(or model) size.

- :func:`parameter_count`, :func:`count_formula`: parameters of one
  ``torch.nn`` RNN, GRU or LSTM layer, measured and by formula; an LSTM has
  four blocks (i, f, g, o) where the simple RNN has one.
- :func:`step_time`: measured wall time of one step of a cell.
- :func:`delay_limit`: push the delay of the recall task until the LSTM
  fails too, and measure the product of forget gates over the delay.
- :class:`SelfAttention`, :func:`layer_time`: one head of scaled dot-product
  self-attention (Vaswani et al. 2017) against an LSTM layer, timed over
  sequence lengths; :func:`sequential_steps` and :func:`path_length` are
  the counts that explain the shape of the curves.
- :func:`state_size`: the memory a model needs to read one more step of a
  stream: fixed for an LSTM, growing with T for attention (its keys and values).
"""

import math
import time

import numpy as np
import torch
from torch import nn

from ..cells.validation import check_int
from ..training import tasks
from . import rnn_memory

LAYERS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}
CELLS = {"rnn": nn.RNNCell, "gru": nn.GRUCell, "lstm": nn.LSTMCell}


def _check_kind(kind, allowed):
    if kind not in allowed:
        raise ValueError(f"kind: expected one of {tuple(allowed)}, got {kind!r}")


def parameter_count(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    """Number of parameters of ``torch.nn.<RNN|GRU|LSTM>(input_size, hidden_size, ...)``."""
    _check_kind(kind, LAYERS)
    layer = LAYERS[kind](
        input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional
    )
    return sum(p.numel() for p in layer.parameters())


def count_formula(kind, input_size, hidden_size):
    """The same count for one layer by formula: blocks * (H * D + H * H + 2 H).

    Each block (one for the RNN, three for the GRU, four for the LSTM) has an
    input matrix (H, D), a recurrent matrix (H, H) and, in torch's layout, two
    bias vectors of H (``bias_ih`` and ``bias_hh``).
    """
    _check_kind(kind, LAYERS)
    D, H = input_size, hidden_size
    return BLOCKS[kind] * (H * D + H * H + 2 * H)


def _times(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _median_time(fn, repeats):
    return float(np.median(_times(fn, repeats)))


def _min_time(fn, repeats):
    return float(min(_times(fn, repeats)))


@torch.no_grad()
def step_time(kind, input_size, hidden_size, batch_size=1, repeats=200, seed=0):
    """Median wall time in seconds of one step of ``torch.nn.<RNN|GRU|LSTM>Cell``, one thread."""
    _check_kind(kind, CELLS)
    check_int("repeats", repeats, 1)
    torch.manual_seed(seed)
    cell = CELLS[kind](input_size, hidden_size)
    x = torch.randn(batch_size, input_size)
    h = torch.zeros(batch_size, hidden_size)
    state = (h, h.clone()) if kind == "lstm" else h
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(10):
            cell(x, state)
        return _median_time(lambda: cell(x, state), repeats)
    finally:
        torch.set_num_threads(threads)


def delay_limit(delays, *, seeds=(0,), steps=200, hidden_size=16, forget_bias=5.0):
    """Train the LSTM of chapter 1's recall task at each delay; return accuracy and forget products.

    Returns a dict with ``accuracy`` (seeds, delays), ``f_product`` (seeds,
    delays): the product of the storing unit's forget gates over the delay
    (the unit whose cell state differs most between two sequences that
    differ only in the remembered symbol), averaged over sequences: the
    factor by which the carousel scales the stored value and the gradient
    that reaches it; and ``f_mean``, its geometric mean per step.
    """
    delays = tuple(delays)
    for d in delays:
        check_int("delay", d, 1)
    acc = np.empty((len(seeds), len(delays)))
    f_mean = np.empty_like(acc)
    for s, seed in enumerate(seeds):
        for k, delay in enumerate(delays):
            model, _ = rnn_memory.train_recall(
                "lstm",
                delay,
                seed=seed,
                steps=steps,
                hidden_size=hidden_size,
                forget_bias=forget_bias,
            )
            acc[s, k] = rnn_memory.recall_accuracy(model, delay, n=256)
            x, y = tasks.delayed_recall(64, delay, rng=rnn_memory.HELD_OUT_SEED)
            f_mean[s, k] = _storing_forget_product(model, x, y, delay) ** (1 / delay)
    return {
        "delays": np.array(delays),
        "accuracy": acc,
        "f_mean": f_mean,
        "f_product": f_mean ** np.array(delays),
    }


class SelfAttention(nn.Module):
    """One head of scaled dot-product self-attention with an output projection.

    ``softmax(q k^T / sqrt(H)) v`` over all T positions at once: time-major
    input (T, N, H) -> (T, N, H), like ``torch.nn.LSTM(H, H)``.
    """

    def __init__(self, hidden_size):
        super().__init__()
        check_int("hidden_size", hidden_size, 1)
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.out = nn.Linear(hidden_size, hidden_size)

    def forward(self, x):
        q, k, v = self.qkv(x.transpose(0, 1)).chunk(3, dim=-1)  # each (N, T, H)
        scores = q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])  # (N, T, T)
        return self.out(torch.softmax(scores, dim=-1) @ v).transpose(0, 1)  # (T, N, H)


@torch.no_grad()
def layer_time(kind, T, hidden_size=64, batch_size=1, repeats=5, threads=1, seed=0):
    """Shortest wall time in seconds of ``repeats`` forward passes over T steps.

    ``kind`` is "lstm" or "attention". The shortest run is the one least
    disturbed by other work on the machine, so it is the steadiest estimate of
    the layer's own cost.
    """
    _check_kind(kind, ("lstm", "attention"))
    check_int("T", T, 1)
    torch.manual_seed(seed)
    layer = nn.LSTM(hidden_size, hidden_size) if kind == "lstm" else SelfAttention(hidden_size)
    x = torch.randn(T, batch_size, hidden_size)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        layer(x)
        return _min_time(lambda: layer(x), repeats)
    finally:
        torch.set_num_threads(before)


def crossover(lengths, lstm_times, attention_times):
    """The shortest length from which attention is slower than the LSTM at every longer length.

    None if attention is not slower at the longest length measured. Asking for
    "every longer length" keeps one noisy measurement from moving the answer.
    """
    result = None
    for T, a, b in reversed(list(zip(lengths, lstm_times, attention_times, strict=True))):
        if b <= a:
            break
        result = int(T)
    return result


def sequential_steps(kind, T):
    """Operations that must wait for the one before: T cell steps for an LSTM, 1 for attention."""
    _check_kind(kind, ("lstm", "attention"))
    check_int("T", T, 1)
    return T if kind == "lstm" else 1


def path_length(kind, t1, t2):
    """Steps a signal travels from position t1 to t2 (t1 <= t2) inside one layer."""
    _check_kind(kind, ("lstm", "attention"))
    if not 0 <= t1 <= t2:
        raise ValueError(f"t1, t2: expected 0 <= t1 <= t2, got {t1}, {t2}")
    return t2 - t1 if kind == "lstm" else (0 if t1 == t2 else 1)


def state_size(kind, T, hidden_size):
    """Numbers a layer keeps to read step T + 1 of a stream.

    (h, c) for an LSTM: 2 H, whatever T; the keys and values of every earlier
    position for one head of attention: 2 T H.
    """
    _check_kind(kind, ("lstm", "attention"))
    check_int("T", T, 0)
    return 2 * hidden_size if kind == "lstm" else 2 * T * hidden_size


def gradient_reach(model, delays, n=64, seed=rnn_memory.HELD_OUT_SEED):
    """How much gradient reaches the remembered step, for a recall model run at longer delays.

    For each delay d: the mean norm of dL/dx_0 (L the cross-entropy at the
    query, x_0 the marked input) over ``n`` sequences, and the storing unit's
    product of forget gates over the d distractor steps. Returns a dict of
    arrays (delays,): ``grad`` and ``f_product``.
    """
    grads, products = [], []
    for delay in delays:
        check_int("delay", delay, 1)
        x, y = tasks.delayed_recall(n, delay, rng=seed)
        xt = torch.as_tensor(x).requires_grad_(True)
        loss = nn.functional.cross_entropy(model(xt), torch.as_tensor(y), reduction="sum")
        loss.backward()
        grads.append(float(xt.grad[0].norm(dim=-1).mean()))
        products.append(_storing_forget_product(model, x, y, delay))
    return {"delays": np.array(delays), "grad": np.array(grads), "f_product": np.array(products)}


def _storing_forget_product(model, x, y, delay):
    twin = x.copy()
    cols = np.arange(x.shape[1])
    K = x.shape[2] - 2
    twin[0, cols, y] = 0.0
    twin[0, cols, (y + 1) % K] = 1.0
    _, cs, cache = model.run_numpy(x)
    _, cs_twin, _ = model.run_numpy(twin)
    unit = int(np.argmax(np.abs(cs[1] - cs_twin[1]).mean(axis=0)))
    return float(np.exp(np.log(cache.gate("f")[1 : delay + 1, :, unit]).sum(axis=0)).mean())
