"""A reader's own network to inspect: a two-layer bidirectional LSTM that recalls a symbol.

The appendix "Inspect your own network" reads the gates of a model that is not
one of the course's :class:`~lstm_lessons.training.model.SequenceModel`: a
plain ``torch.nn.LSTM`` with two layers and both directions, and a readout of
the last step's output (:class:`Recaller`), trained on delayed recall
(:func:`lstm_lessons.training.tasks.delayed_recall`: remember the symbol
shown first, across :data:`DELAY` distractors, and name it at the query).

At the last step the forward direction has read the whole sequence, the
backward direction only the query: whatever the answer needs must be carried
forward in time, and the report shows where.

- :func:`text_batch`: held-out stretches of chapter 12's text, one-hot, for its
  character model;
- :func:`recaller`, :func:`train_recaller`: build and train a seeded model
  (data from :mod:`lstm_lessons.training.harness`);
- :func:`test_data`, :func:`accuracy`: the held-out batch and the share named right;
- :func:`memory_counts`: from an inspection's table, the units per layer and
  direction whose half-life exceeds the delay, and their carousels;
- :func:`seed_study`, :func:`save_results`, :func:`load_results`: every seed of
  :data:`SEEDS`, stored by ``scripts/run_inspection_seeds.py`` in
  :data:`RESULTS_FILE`.
"""

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..cells.validation import check_int
from ..training import harness, tasks
from ..training.loop import evaluate, train

#: Distractors between the symbol and the query.
DELAY = 10
#: Symbols to tell apart; chance accuracy is 1 / N_SYMBOLS.
N_SYMBOLS = 4
#: Units per layer and direction.
HIDDEN_SIZE = 12
#: The forget gate's bias at the start (chapter 4): sigma(1) = 0.73.
FORGET_BIAS = 1.0
#: Training steps (batches), at learning rate LR, of BATCH sequences each.
STEPS = 500
LR = 0.02
BATCH = 32
#: Sequences in the held-out batch.
N_TEST = 1000
#: The seeds that scripts/run_inspection_seeds.py trains and inspects.
SEEDS = (0, 1, 2, 3, 4)
#: The stored study: lstm_lessons/experiments/data/inspection.json.
RESULTS_FILE = Path(__file__).resolve().parent / "data" / "inspection.json"


class Recaller(nn.Module):
    """``torch.nn.LSTM(K + 2, H, num_layers=2, bidirectional=True)`` and a linear readout.

    ``forward(x)``: x (T, N, K + 2) -> logits (N, K) from the output at the
    last step (both directions side by side).
    """

    def __init__(self, seed=0, hidden_size=HIDDEN_SIZE, forget_bias=FORGET_BIAS):
        super().__init__()
        torch.manual_seed(seed)
        H = hidden_size
        self.lstm = nn.LSTM(N_SYMBOLS + 2, H, num_layers=2, bidirectional=True)
        self.readout = nn.Linear(2 * H, N_SYMBOLS)
        with torch.no_grad():
            for name, p in self.lstm.named_parameters():
                if name.startswith("bias_"):  # the f block (i, f, g, o): all of it in bias_ih
                    p[H : 2 * H] = forget_bias if name.startswith("bias_ih") else 0.0

    def forward(self, x):
        out, _ = self.lstm(x)  # (T, N, 2H)
        return self.readout(out[-1])


def text_batch(vocab, text, steps=300, sequences=8):
    """``sequences`` stretches of ``steps`` characters from the text's last tenth (which the
    character model never trained on), evenly spaced, one-hot: (steps, sequences, V) float32."""
    check_int("steps", steps)
    check_int("sequences", sequences)
    tail = text[int(0.9 * len(text)) :]
    starts = np.arange(sequences) * (len(tail) // sequences)
    codes = np.stack([vocab.encode(tail[s : s + steps]) for s in starts], axis=1)  # (T, N)
    return np.eye(len(vocab), dtype=np.float32)[codes]


def task(rng):
    """A training batch of delayed recall: x (DELAY + 2, BATCH, N_SYMBOLS + 2), y (BATCH,)."""
    return tasks.delayed_recall(BATCH, DELAY, N_SYMBOLS, rng=rng)


def test_data():
    """The held-out batch: :data:`N_TEST` sequences that no training batch equals."""
    return harness.held_out(lambda rng: tasks.delayed_recall(N_TEST, DELAY, N_SYMBOLS, rng=rng))


def recaller(seed=0):
    """An untrained :class:`Recaller` seeded ``seed``."""
    return Recaller(harness.check_seed(seed))


def train_recaller(seed=0, steps=STEPS):
    """A :class:`Recaller` trained on ``steps`` fresh batches of run ``seed``; (model, history)."""
    steps = check_int("steps", steps)
    model = recaller(seed)
    history = train(
        model, harness.batches(task, seed), steps, loss="ce", lr=LR, seed=seed, progress=False
    )
    return model, history


def accuracy(model):
    """The share of the held-out sequences whose symbol ``model`` names."""
    x, y = test_data()
    return evaluate(model, x, y, loss="ce")["accuracy"]


def memory_counts(table, delay=DELAY):
    """Per layer and direction of an inspection's table: units remembering longer than ``delay``.

    Returns ``{"l0_forward": {"long": n, "median": m, "carousels": c}, ...}``
    with n the units whose half-life exceeds ``delay``, m the median
    half-life in steps and c the carousel units.
    """
    out = {}
    for k in np.unique(table["layer"]):
        for d in ("forward", "backward"):
            rows = table[(table["layer"] == k) & (table["direction"] == d)]
            if len(rows):
                out[f"l{k}_{d}"] = {
                    "long": int((rows["half_life"] > delay).sum()),
                    "median": float(np.median(rows["half_life"])),
                    "carousels": int(rows["carousel"].sum()),
                }
    return out


def seed_study(inspect, seeds=SEEDS):
    """Train and inspect every seed: ``{seed: {"accuracy", "untrained_accuracy", "trained",
    "untrained"}}``, the last two :func:`memory_counts` of the trained and untrained model.

    ``inspect`` is :func:`lstm_lessons.inspect.inspect` (passed in: the
    experiments sit above the inspector in the package's layers). The
    inspection reads the first 64 held-out sequences.
    """
    x = test_data()[0][:, :64]
    results = {}
    for seed in seeds:
        model, _ = train_recaller(seed)
        untrained = recaller(seed)
        results[str(seed)] = {
            "accuracy": accuracy(model),
            "untrained_accuracy": accuracy(untrained),
            "trained": memory_counts(inspect(model, x).table),
            "untrained": memory_counts(inspect(untrained, x).table),
        }
    return results


def save_results(results, **meta):
    RESULTS_FILE.write_text(json.dumps({"meta": meta, "seeds": results}, indent=1) + "\n")


def load_results():
    """The stored :func:`seed_study` of every seed, and how it was made."""
    return json.loads(RESULTS_FILE.read_text())
