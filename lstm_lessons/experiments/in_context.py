"""The LSTM beside the simple RNN, the GRU and a Transformer block: size, speed, reach.

Shapes: T steps (the sequence length), N batch size, D input size, H hidden
size; for the Transformer block D is its width and F the width of its
feed-forward layer.

- :func:`parameter_count`, :func:`count_formula`, :func:`step_flops`:
  parameters of one ``torch.nn`` RNN, GRU or LSTM layer, measured and by
  formula, and the multiply-adds of one step; an LSTM has four blocks
  (i, f, g, o) where the simple RNN has one. :func:`step_time` measures a step.
- :func:`delay_limit`, :func:`delay_study`, :func:`gradient_reach`: push the
  delay of chapter 1's recall task until the LSTM fails too, beside the
  untrained network with the same gate biases, and measure the product of
  forget gates and the gradient that reaches the remembered step.
- :func:`race`: an LSTM layer against a causal Transformer block
  (:mod:`lstm_lessons.cells.attention`) with the same number of parameters
  (:func:`matched_ff_width`), timed over sequence lengths in NumPy and torch,
  forward and forward + backward (:func:`race_time`), beside the FLOPs of
  their matrix products (:func:`matmul_flops`); :func:`crossover` finds where
  the curves cross. :func:`sequential_steps` and :func:`path_length` are the
  counts that explain the curves' shapes.
- :func:`state_size`: the memory a model needs to read one more step of a
  stream: fixed for an LSTM, growing with T for attention (its keys and values).
"""


import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..cells.attention import block_backward, block_forward, block_param_count, init_block_params
from ..cells.lstm import init_lstm_params, lstm_backward, lstm_forward
from ..cells.validation import check_int
from ..pytorch.attention import block_to_torch, causal_mask, transformer_encoder_layer
from ..pytorch.convert import to_torch
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


def step_flops(kind, input_size, hidden_size, batch_size=1):
    """FLOPs of the matrix products of one step of a cell: blocks * 2 N H (D + H).

    x_t @ W_x is (N, D) by (D, blocks H), h_{t-1} @ W_h is (N, H) by (H, blocks H);
    each product of (m, k) by (k, n) costs 2 m k n. The gates' element-wise work
    is left out.
    """
    _check_kind(kind, LAYERS)
    D, H = check_int("input_size", input_size), check_int("hidden_size", hidden_size)
    return BLOCKS[kind] * 2 * check_int("batch_size", batch_size) * H * (D + H)


def _times(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _median_time(fn, repeats):
    return float(np.median(_times(fn, repeats)))


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


#: Chapter 13's delay study (:func:`delay_study`): chapter 1's recall network, pushed
#: to longer delays, at the chapter's budget and at four times that budget.
DELAY_STUDY = {
    "seeds": tuple(range(8)),
    "delays": (10, 50, 100, 250),
    "steps": 150,
    "long_steps": 600,
    "long_delays": (100, 250),
    "hidden_size": 16,
    "forget_bias": 5.0,
    "input_bias": -2.0,
}
#: The networks trained at ``trained_delay``, run at longer ``delays`` (:func:`gradient_reach`).
REACH = {"trained_delay": 50, "delays": (10, 50, 250, 1000, 2000)}
RESULTS_FILE = Path(__file__).resolve().parent / "data" / "delay_limit.json"


def delay_limit(delays, *, seeds=(0,), steps=200, hidden_size=16, forget_bias=5.0,
                input_bias=-2.0, return_models=False):  # fmt: skip
    """Train the LSTM of chapter 1's recall task at each delay; return accuracy and forget products.

    Returns a dict of arrays (seeds, delays): ``accuracy`` on 256 held-out
    sequences; ``f_product``, the product of the storing unit's forget gates
    over the delay (the unit whose cell state differs most between two
    sequences that differ only in the remembered symbol), averaged over
    sequences: the factor by which the carousel scales the stored value and
    the gradient that reaches it; ``f_mean``, its geometric mean per step; and
    the same three for the *untrained* network of each seed (``..._untrained``),
    which starts from the same weights and gate biases (``forget_bias``,
    ``input_bias``; see :func:`~lstm_lessons.experiments.rnn_memory.recall_model`):
    the control that says what training added. ``return_models=True`` adds
    ``models``, ``{(seed, delay): trained model}``.
    """
    delays = tuple(check_int("delay", d, 1) for d in delays)
    settings = dict(hidden_size=hidden_size, forget_bias=forget_bias, input_bias=input_bias)
    out = {k: np.empty((len(seeds), len(delays)))
           for k in ("accuracy", "f_mean", "accuracy_untrained", "f_mean_untrained")}  # fmt: skip
    models = {}
    for s, seed in enumerate(seeds):
        untrained = rnn_memory.recall_model("lstm", seed=seed, **settings)
        for k, delay in enumerate(delays):
            model, _ = rnn_memory.train_recall("lstm", delay, seed=seed, steps=steps, **settings)
            models[(seed, delay)] = model
            x, y = tasks.delayed_recall(64, delay, rng=rnn_memory.HELD_OUT_SEED)
            for m, tag in ((model, ""), (untrained, "_untrained")):
                out["accuracy" + tag][s, k] = rnn_memory.recall_accuracy(m, delay, n=256)
                out["f_mean" + tag][s, k] = _storing_forget_product(m, x, y, delay) ** (1 / delay)
    out["delays"] = np.array(delays)
    for tag in ("", "_untrained"):
        out["f_product" + tag] = out["f_mean" + tag] ** out["delays"]
    if return_models:
        out["models"] = models
    return out


def delay_study(seeds=DELAY_STUDY["seeds"], config=DELAY_STUDY, reach=REACH):
    """Chapter 13's delay study over ``seeds``, with ``config`` (:data:`DELAY_STUDY`) and ``reach``.

    Returns ``{"budget": delay_limit(...) at config["steps"], "long":
    delay_limit(...) at "long_steps" over "long_delays", "reach": {"grad",
    "f_product"} (seeds, reach["delays"]) for the networks trained at
    reach["trained_delay"], "reach_untrained": the same for the untrained
    networks}``, every array one row per seed, without the models.
    """
    c = config
    settings = {k: c[k] for k in ("hidden_size", "forget_bias", "input_bias")}
    budget = delay_limit(c["delays"], seeds=seeds, steps=c["steps"], return_models=True,
                         **settings)  # fmt: skip
    models = budget.pop("models")
    long = delay_limit(c["long_delays"], seeds=seeds, steps=c["long_steps"], **settings)
    grads = {"reach": {"grad": [], "f_product": []},
             "reach_untrained": {"grad": [], "f_product": []}}  # fmt: skip
    for seed in seeds:
        for m, key in ((models[(seed, reach["trained_delay"])], "reach"),
                       (rnn_memory.recall_model("lstm", seed=seed, **settings),
                        "reach_untrained")):
            r = gradient_reach(m, reach["delays"])
            grads[key]["grad"].append(r["grad"])
            grads[key]["f_product"].append(r["f_product"])
    return {"budget": budget, "long": long,
            **{key: {k: np.array(v) for k, v in d.items()}
               for key, d in grads.items()}}


def save_study(results, path=RESULTS_FILE, **meta):
    """Store :func:`delay_study`'s results (arrays as lists) and ``meta`` as JSON."""

    def plain(obj):
        if isinstance(obj, dict):
            return {k: plain(v) for k, v in obj.items()}
        return np.asarray(obj).tolist()

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"meta": plain(meta), "settings": plain(DELAY_STUDY | {"reach": REACH}),
               "results": plain(results)}  # fmt: skip
    path.write_text(json.dumps(payload, indent=1) + "\n")


def load_study(path=RESULTS_FILE):
    """The stored results of ``scripts/run_delay_limit.py``: ``(results, settings, meta)``."""

    def arrays(obj):
        if isinstance(obj, dict):
            return {k: arrays(v) for k, v in obj.items()}
        return np.asarray(obj)

    payload = json.loads(Path(path).read_text())
    return arrays(payload["results"]), payload["settings"], payload["meta"]


def matched_ff_width(width, target):
    """The feed-forward width F that brings a block of width D closest to ``target`` parameters.

    The block has 4 D^2 + 2 D F + F + 9 D parameters
    (:func:`~lstm_lessons.cells.attention.block_param_count`), so F is the
    rounded solution of that count = ``target``; ties go to the smaller F.
    """
    D = check_int("width", width)
    target = check_int("target", target)
    rest = target - block_param_count(D, 1) + (2 * D + 1)
    if rest < 2 * D + 1:
        raise ValueError(
            f"target: expected at least {block_param_count(D, 1)} parameters for width {D}, "
            f"got {target}"
        )
    F = rest // (2 * D + 1)
    below, above = block_param_count(D, F), block_param_count(D, F + 1)
    return F if target - below <= above - target else F + 1


def matmul_flops(kind, T, batch_size, width, ff_width=None, backward=False):
    """Floating-point operations of the matrix products of one layer over T steps.

    A product of (m, k) and (k, n) costs 2 m k n (a multiply and an add per
    term). With N = ``batch_size``, D = H = ``width``, F = ``ff_width``:

    - ``"lstm"``, ``torch.nn.LSTM(D, H)``: every step, x_t @ W_x and
      h_{t-1} @ W_h into 4H columns: 2 T N 4H (D + H), in T steps that must
      wait for each other.
    - ``"transformer"``, the causal block of :mod:`lstm_lessons.cells.attention`:
      q, k, v and the output projection 2 T N 4 D^2, the feed-forward layer
      2 T N 2 D F, the scores q k^T and the weighted sum p v 2 N T^2 D each (over
      all heads; the masked half of the scores is computed and then discarded,
      as in torch's layer). Every position at once.

    ``backward=True`` adds the backward pass, two products per product (one per
    factor): three times the forward's count. Element-wise work (gates, softmax,
    norms) is left out: it grows like the products' outputs, not their inner sizes.
    """
    _check_kind(kind, ("lstm", "transformer"))
    T, N, D = check_int("T", T), check_int("batch_size", batch_size), check_int("width", width)
    if kind == "lstm":
        forward = 2 * T * N * 4 * D * (D + D)
    else:
        F = check_int("ff_width", ff_width)
        forward = 2 * T * N * (4 * D * D + 2 * D * F) + 2 * 2 * N * T * T * D
    return 3 * forward if backward else forward


def race_contenders(kind, library, T, *, batch_size=1, width=64, ff_width=None, heads=4,
                    backward=False, seed=0):  # fmt: skip
    """The function that :func:`race_time` times: one forward (and backward) pass, float32.

    ``library`` "numpy": :func:`~lstm_lessons.cells.lstm.lstm_forward` (and
    ``lstm_backward``) or :func:`~lstm_lessons.cells.attention.block_forward`
    (and ``block_backward``); "torch": ``torch.nn.LSTM`` or
    ``torch.nn.TransformerEncoderLayer`` with a causal mask, the torch twin's
    settings, loaded with the same weights as the NumPy layer. Both layers
    read and write (T, N, width). The function returns the output (T, N, width),
    or with ``backward=True`` the gradient on the input for a fixed random
    upstream gradient, so that the NumPy and torch contenders can be compared.
    """
    _check_kind(kind, ("lstm", "transformer"))
    _check_kind(library, ("numpy", "torch"))
    T, N, D = check_int("T", T), check_int("batch_size", batch_size), check_int("width", width)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, D)).astype(np.float32)
    dout = rng.standard_normal((T, N, D)).astype(np.float32)
    if kind == "lstm":
        params = init_lstm_params(D, D, seed=seed, dtype=np.float32)
    else:
        F = check_int("ff_width", ff_width)
        params = init_block_params(D, F, seed=seed, dtype=np.float32)
    if library == "numpy":
        if kind == "lstm":
            h0 = np.zeros((N, D), dtype=np.float32)

            def forward():
                hs, _, cache = lstm_forward(x, h0, h0, params)
                return hs, cache

            def back(cache):
                return lstm_backward(dout, cache)[0]
        else:

            def forward():
                return block_forward(x, params, heads)

            def back(cache):
                return block_backward(dout, cache)[0]

        def run_numpy():
            out, cache = forward()
            return back(cache) if backward else out

        return run_numpy
    if kind == "lstm":
        layer, extra = nn.LSTM(D, D), {}
        layer.load_state_dict(to_torch(params))
    else:
        layer = transformer_encoder_layer(D, F, heads)
        layer.load_state_dict(block_to_torch(params))
        extra = {"src_mask": causal_mask(T), "is_causal": True}
    xt, dt = torch.from_numpy(x), torch.from_numpy(dout)

    def run_torch():
        xg = xt.detach().requires_grad_(backward)  # a new leaf: no gradient piles up
        out = layer(xg, **extra)
        out = out[0] if kind == "lstm" else out
        if backward:
            out.backward(dt)
            return xg.grad
        return out

    if backward:
        return run_torch
    layer.eval()
    return torch.no_grad()(run_torch)


def race_time(kinds, library, T, *, batch_size=1, width=64, ff_width=None, heads=4,
              backward=False, repeats=5, seed=0):  # fmt: skip
    """Shortest CPU time in seconds of ``repeats`` runs of :func:`race_contenders`, one thread.

    ``kinds`` is "lstm", "transformer" or a tuple of both; with a tuple the
    contenders run in turns (one run of each per round), so that both meet the
    same conditions on the machine, and a tuple of times comes back. The CPU
    time of this process, not the wall time: on a machine shared with other
    work, the wall time also counts the time slices the other processes take,
    while with one thread the CPU time is the layer's own cost (on a quiet
    machine the two agree). The shortest run is the one least disturbed
    (caches, frequency), so it is the steadiest estimate. NumPy's BLAS keeps the
    thread count it started with (``OMP_NUM_THREADS=1`` sets it to one).
    """
    check_int("repeats", repeats, 1)
    one = isinstance(kinds, str)
    kinds = (kinds,) if one else tuple(kinds)
    fns = [race_contenders(kind, library, T, batch_size=batch_size, width=width,
                           ff_width=ff_width, heads=heads, backward=backward, seed=seed)
           for kind in kinds]  # fmt: skip
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for fn in fns:
            fn()
        best = [math.inf] * len(fns)
        for _ in range(repeats):
            for k, fn in enumerate(fns):
                start = time.process_time()
                fn()
                best[k] = min(best[k], time.process_time() - start)
    finally:
        torch.set_num_threads(before)
    return best[0] if one else tuple(best)


def race(lengths, *, batch_size=1, width=64, heads=4, repeats=5, libraries=("numpy", "torch"),
         passes=(False, True), seed=0):  # fmt: skip
    """Time an LSTM layer and a causal Transformer block of the same size over ``lengths``.

    The block has width D = ``width`` and the feed-forward width that matches
    its parameter count to ``torch.nn.LSTM(D, D)``'s (:func:`matched_ff_width`).
    The two run in turns at each length (:func:`race_time`). Returns a dict:
    ``lengths``, ``ff_width``, ``params`` {"lstm", "transformer"}, and for each
    (library, backward) pair a dict with the times of each kind (lists over
    ``lengths``), the matrix-product FLOPs of each, and the ``crossover``
    length (:func:`crossover`).
    """
    lengths = tuple(check_int("T", T) for T in lengths)
    D = check_int("width", width)
    lstm_params = count_formula("lstm", D, D)
    F = matched_ff_width(D, lstm_params)
    result = {"lengths": lengths, "batch_size": batch_size, "width": D, "ff_width": F,
              "heads": heads, "params": {"lstm": lstm_params,
                                         "transformer": block_param_count(D, F)}}  # fmt: skip
    kinds = ("lstm", "transformer")
    for library in libraries:
        for backward in passes:
            pairs = [race_time(kinds, library, T, batch_size=batch_size, width=D, ff_width=F,
                               heads=heads, backward=backward, repeats=repeats, seed=seed)
                     for T in lengths]  # fmt: skip
            times = {kind: [p[k] for p in pairs] for k, kind in enumerate(kinds)}
            flops = {
                kind: [matmul_flops(kind, T, batch_size, D, F, backward) for T in lengths]
                for kind in kinds
            }
            result[(library, backward)] = {
                "times": times,
                "flops": flops,
                "crossover": crossover(lengths, times["lstm"], times["transformer"]),
            }
    return result


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
