"""Biology: an LSTM that finds a motif in DNA-like sequences, and the gate that writes it down.

Shapes: T steps (bases), N sequences, H hidden size, m motif length.

The data are :func:`lstm_lessons.training.applied_tasks.planted_motif`: random
A/C/G/T sequences, half of them carrying the motif TATAAT somewhere, perhaps
with mutations. The network reads the bases one-hot and answers at the end
whether the motif was there (a ``SequenceModel(4, H, 2)``). To answer, it must
notice the motif wherever it is and then keep that fact to the end: write
once (input gate open), hold (forget gate near 1).

- :func:`train_motif_model`, :func:`motif_accuracy`.
- :func:`holding_units`: which units carry the answer in their final cell state.
- :func:`aligned_gates`: gates and cell state averaged over sequences,
  aligned on the motif's position.
"""

import numpy as np

from ..cells.validation import check_int
from ..training.applied_tasks import MOTIF, planted_motif
from ..training.harness import HELD_OUT_SEED, batch_seed
from ..training.loop import evaluate, train
from ..training.model import SequenceModel

MOTIF_LENGTH = len(MOTIF)


def train_motif_model(
    *, hidden_size=8, T=60, mutation_rate=0.1, steps=400, batch_size=64, lr=1e-2, seed=0
):
    """Train a small LSTM to say whether the motif is present; returns the model and history."""
    for name, value in (("hidden_size", hidden_size), ("steps", steps), ("batch_size", batch_size)):
        check_int(name, value, 1)
    model = SequenceModel(4, hidden_size, 2, forget_bias=2.0, seed=seed)

    def batches(step):
        x, y, _ = planted_motif(
            batch_size, T, mutation_rate=mutation_rate, rng=batch_seed(seed, step)
        )
        return x, y

    history = train(model, batches, steps, loss="ce", lr=lr, clip=1.0, seed=seed, progress=False)
    return model, history


def motif_accuracy(model, *, T=60, mutation_rate=0.1, n=1024, seed=HELD_OUT_SEED):
    """Accuracy on ``n`` held-out sequences (chance: 0.5)."""
    x, y, _ = planted_motif(n, T, mutation_rate=mutation_rate, rng=seed)
    return evaluate(model, x, y, loss="ce")["accuracy"]


def holding_units(model, x, y):
    """Correlation of each unit's final cell state with the answer, (H,), and the cache."""
    _, cs, cache = model.run_numpy(x)
    c_last = cs[-1]  # (N, H)
    yz = (y - y.mean()) / y.std()
    cz = (c_last - c_last.mean(0)) / (c_last.std(0) + 1e-12)
    return cz.T @ yz / len(y), cs, cache


def aligned_gates(cache, cs, start, m=MOTIF_LENGTH, before=8, after=16):
    """Gates i, f and cell state c averaged over sequences, aligned on the motif's start.

    ``m`` is the motif's length. Only sequences with a motif far enough from
    both ends count. Returns a dict with ``offsets`` (steps relative to the
    motif's first base), ``n`` (sequences used) and, for "i", "f", "c", an
    array (offsets, H).
    """
    T = cs.shape[0]
    keep = [n for n, s in enumerate(start) if s - before >= 0 and s + m + after <= T]
    out = {"offsets": np.arange(-before, m + after), "n": len(keep)}
    series = {"i": cache.gate("i"), "f": cache.gate("f"), "c": cs}
    for k, v in series.items():
        out[k] = np.mean([v[start[n] - before : start[n] + m + after, n] for n in keep], axis=0)
    return out
