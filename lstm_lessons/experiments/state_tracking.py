"""What the recurrence buys: parity, trained, against length (C30); the selective SSM's gates (C31).

C30. Five models learn the running parity of a bit stream from streams of
``TRAIN_T`` steps, with a target at every step: the LSTM (the working
baseline), minGRU with its transition a_t = 1 - z_t in [0, 1] and with
a_t = 1 - 2 z_t in [-1, 1], and the selective state-space layer
(:mod:`lstm_lessons.cells.ssm`) with a_t = exp(Delta_t A) in (0, 1] and with
2 exp(Delta_t A) - 1 in [-1, 1]. Each is scored on held-out streams
``FACTOR`` times longer: the prediction at step t is the parity of a stream of
length t, so one long stream scores every length, inside the training lengths
and beyond. Chance is 50% (the parity is a fair coin at every step after the
first); the best one-unit linear recurrence with a transition in [0, 1]
(:func:`lstm_lessons.cells.parity.best_unit_interval_accuracy`) is the best
simple rule of its class.

C31. The trained gates at the events that matter (a 1 in the stream) and
between them (a 0), for the (channel, state) or unit that tells the two apart
most (:func:`events_summary`): the selective SSM's transition a_t, which with
the negative range flips (a_t near -1) on a 1 and keeps (a_t near 1) on a 0,
and without it can only forget (a_t near 0) on a 1; beside it, the trained
LSTM's forget gate f_t on the same streams, which forgets on a 1 too but reads
the state to write the flipped value back. :func:`untrained_accuracy` is the
control of a network that has not learnt anything.

Sizes: hidden size ``HIDDEN`` (state size ``STATE`` per SSM channel), batches
of ``BATCH`` fresh streams, ``STEPS`` Adam steps. The sweep over models and
seeds runs in scripts/ch16_state_tracking.py and is stored in
lstm_lessons/experiments/data/ch16_state_tracking.json; a test re-runs a slice.
"""

import json
from pathlib import Path

import numpy as np
import torch

from ..cells.parity import best_unit_interval_accuracy, parity_by_hand
from ..cells.ssm import ssm_forward
from ..cells.validation import check_int
from ..training import harness
from ..training.model import SequenceModel
from ..training.state_tasks import length_groups, parity_stream

#: The length of the training streams: training sees the parity after 1 to TRAIN_T bits.
TRAIN_T = 20
#: The held-out streams are FACTOR times as long as the training streams.
FACTOR = 4
HIDDEN = 8
STATE = 2
BATCH = 32
STEPS = 600
LR = 1e-2
CLIP = 1.0
#: How many held-out streams score each model.
HELD_OUT_N = 256
SEEDS = (0, 1, 2, 3, 4)
RESULTS_FILE = Path(__file__).resolve().parent / "data" / "ch16_state_tracking.json"

#: name -> (cell, cell_options): the models of C30, the baseline first.
MODELS = {
    "lstm": ("lstm", {}),
    "mingru": ("mingru", {}),
    "mingru_negative": ("mingru", {"negative": True}),
    "ssm": ("ssm", {"state_size": STATE}),
    "ssm_negative": ("ssm", {"state_size": STATE, "negative": True}),
}


class ParityModel(SequenceModel):
    """A ``SequenceModel(2, H, 2, readout="all")`` with its logits as (N, 2, T).

    The layout is the one torch's cross-entropy takes for a class at every step
    (targets (N, T)); the layer and the readout are the plain model's.
    """

    def __init__(self, name, hidden_size=HIDDEN, seed=0):
        if name not in MODELS:
            raise ValueError(f"name: expected one of {tuple(MODELS)}, got {name!r}")
        cell, options = MODELS[name]
        super().__init__(2, hidden_size, 2, cell=cell, readout="all", seed=seed,
                         cell_options=options or None)
        self.name = name
        # The harness reads the layer's input size; the stack of a later cell does not carry one.
        if not hasattr(self.rnn, "input_size"):
            self.rnn.input_size = 2

    def forward(self, x):
        return super().forward(x).permute(1, 2, 0)  # (N, 2, T)


def parity_task(T=TRAIN_T, batch_size=BATCH):
    """The training task: ``rng -> (x (T, N, 2), y (N, T))``, the running parity at every step."""
    check_int("T", T, 1)
    check_int("batch_size", batch_size, 1)

    def task(rng):
        x, y = parity_stream(batch_size, T, rng=rng)
        return x, y.T

    return task


def train_parity(name, seed=0, steps=STEPS, hidden_size=HIDDEN, lr=LR):
    """Train one model of :data:`MODELS` on parity; returns the model and its History."""
    model = ParityModel(name, hidden_size, seed=harness.check_seed(seed))
    fitted = harness.fit(parity_task(), steps, seed=seed, model=model, loss="ce", lr=lr,
                         clip=CLIP)
    return fitted.model, fitted.history


def held_out_streams(n=HELD_OUT_N, T=FACTOR * TRAIN_T):
    """Held-out streams of ``FACTOR`` times the training length: x (T, n, 2), y (T, n)."""
    return parity_stream(n, T, rng=harness.HELD_OUT_SEED)


@torch.no_grad()
def accuracy_by_step(model, x, y):
    """The fraction of streams whose parity the model gets right at each step: (T,)."""
    logits = model(torch.as_tensor(x))  # (N, 2, T)
    predicted = logits.argmax(dim=1).numpy().T  # (T, N)
    return (predicted == y).mean(axis=1)


def accuracy_by_group(per_step, train_T=TRAIN_T, factor=FACTOR):
    """Mean accuracy over the steps of each group of :func:`length_groups`: {name: accuracy}."""
    per_step = np.asarray(per_step)
    return {name: float(per_step[first - 1 : last].mean())
            for name, (first, last) in length_groups(train_T, factor).items()}


def by_hand(n=64, grid=6):
    """C30 by hand, on held-out streams: the unit with a(1) = -1 at every step up to
    ``FACTOR * TRAIN_T``, and the best one-unit rule with transitions in [0, 1] over ``n``
    streams of ``TRAIN_T`` steps (a grid search, :func:`best_unit_interval_accuracy`).

    Returns {"negative": accuracy, "unit_interval": accuracy, "unit_interval_setting": {...}}.
    """
    x, y = held_out_streams()
    bits = x[..., 1].astype(np.int64)
    negative = float(((parity_by_hand(bits) < 0) == y).mean())
    best, setting = best_unit_interval_accuracy(bits[:TRAIN_T, :n], grid=grid)
    return {"negative": negative, "unit_interval": best, "unit_interval_setting": setting}


def untrained_accuracy(name, seed=0):
    """The accuracy of a fresh, untrained model of ``name`` on the held-out streams, by group."""
    x, y = held_out_streams()
    return accuracy_by_group(accuracy_by_step(ParityModel(name, seed=seed), x, y))


def run_one(name, seed, steps=STEPS):
    """Train one model and score it: {"by_step", "by_group", "final_loss"} and, for the SSMs and
    the LSTM, "events" (:func:`events_summary`) on the held-out streams."""
    x, y = held_out_streams()
    model, history = train_parity(name, seed, steps)
    per_step = accuracy_by_step(model, x, y)
    row = {
        "by_step": per_step.tolist(),
        "by_group": accuracy_by_group(per_step),
        "final_loss": float(np.mean(history.loss[-20:])),
    }
    if name in ("lstm", "ssm", "ssm_negative"):
        row["events"] = events_summary(model, x[:TRAIN_T])
    return row


def run_parity(names=tuple(MODELS), seeds=SEEDS, steps=STEPS):
    """C30 and C31 over seeds: {name: [run_one(name, seed) for seed in seeds]}."""
    return {name: [run_one(name, seed, steps) for seed in seeds] for name in names}


def save_results(results, path=RESULTS_FILE, **meta):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "results": results}, indent=1) + "\n")


def load_results(path=RESULTS_FILE):
    """The stored sweep of scripts/ch16_state_tracking.py: (results, meta)."""
    payload = json.loads(Path(path).read_text())
    return payload["results"], payload["meta"]


def events_summary(model, x):
    """The gate that does most of the choosing, at the events (a 1) and between them (a 0).

    For the SSM, the transition a_t of each (channel, state); for the LSTM, the
    forget gate f_t of each unit (:func:`gates_and_states`). Returns the mean at a 1
    and at a 0 of the one that differs most between the two ("most_selective"), with
    its effective transition ("state_slope": the least-squares slope of its state after
    the step on its state before it, over the streams; near -1 where the state flips,
    near 0 where it is erased, near 1 where it is kept), and the means of all of them.
    For the SSM the slope is a_t itself, the input being one-hot; for the LSTM it is what
    the forget gate, the input gate and the candidate, which all read h_{t-1}, do together.
    """
    gates, states = gates_and_states(model, x)  # (T, N, K), (T + 1, N, K)
    bits = x[..., 1] > 0.5  # (T, N)
    at_one, at_zero = gates[bits].mean(axis=0), gates[~bits].mean(axis=0)  # (K,)
    k = int(np.argmax(np.abs(at_one - at_zero)))
    before, after = states[:-1, :, k], states[1:, :, k]  # (T, N)
    return {
        "most_selective": {"at_one": float(at_one[k]), "at_zero": float(at_zero[k])},
        "state_slope": {"at_one": _slope(before[bits], after[bits]),
                        "at_zero": _slope(before[~bits], after[~bits])},
        "at_one": at_one.tolist(),
        "at_zero": at_zero.tolist(),
    }


def _slope(before, after):
    """The least-squares slope of ``after`` on ``before`` (with an intercept)."""
    before = before - before.mean()
    return float(np.dot(before, after - after.mean()) / np.dot(before, before))


def gates_and_states(model, x):
    """The gate that keeps or forgets, and the state it acts on, of a trained one-layer model.

    For the selective SSM, its transitions a_t (T, N, K) and states h_t (T + 1, N, K) with
    h_0 at index 0, K = H * S, from the NumPy cell run on the trained weights in float64;
    for the LSTM, its forget gate f_t (T, N, H) and cell state c_t (T + 1, N, H).
    """
    x = np.asarray(x, dtype=np.float64)
    T, N, _ = x.shape
    if model.cell == "lstm":
        _, _, cache = model.run_numpy(x)
        return cache.gate("f"), np.asarray(cache.c)
    if model.cell != "ssm" or model.layers != 1:
        raise ValueError(f"model: expected the LSTM or a one-layer selective SSM, got "
                         f"{getattr(model, 'name', model.cell)!r}")
    layer = model.rnn.layers[0]
    H, S = layer.hidden_size, layer.state_size
    _, cache = ssm_forward(x, np.zeros((N, H, S)), layer.numpy_params(), layer.negative)
    return cache.a.reshape(T, N, H * S), cache.h.reshape(T + 1, N, H * S)
