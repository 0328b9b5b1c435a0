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
- :func:`scan_accuracy`: the expert's rule, a scan for the best match to the
  motif anywhere in the sequence, with its threshold chosen on the data.
- :func:`seed_summary`: one seed's numbers (accuracy, the holding unit, its
  input gate on and off the motif, its forget gate), and an untrained twin's
  holding unit as the control; ``scripts/run_gates_at_work.py`` stores them
  (:func:`stored_seeds` reads them).
"""

import json
from pathlib import Path

import numpy as np

from ..cells.validation import check_int
from ..training import harness
from ..training.applied_tasks import MOTIF, planted_motif
from ..training.harness import HELD_OUT_SEED
from ..training.loop import evaluate
from ..training.model import SequenceModel

MOTIF_LENGTH = len(MOTIF)


def scan_accuracy(x, y, motif=MOTIF):
    """Accuracy of "present if some window matches at least k bases of the motif", best k.

    The matched filter of the task: it knows the motif, reads every window of
    ``len(motif)`` bases and counts matches. ``k`` is chosen on ``(x, y)``
    themselves, which favours the rule. Returns (accuracy, k).
    """
    bases = np.asarray(x).argmax(axis=2)  # (T, N)
    code = np.array(["ACGT".index(b) for b in motif])
    m = len(motif)
    T = bases.shape[0]
    matches = np.stack([(bases[s : s + m] == code[:, None]).sum(0) for s in range(T - m + 1)])
    best = matches.max(axis=0)  # (N,)
    scores = [(float(((best >= k) == (np.asarray(y) == 1)).mean()), k) for k in range(m + 1)]
    return max(scores)


def train_motif_model(
    *, hidden_size=8, T=60, mutation_rate=0.1, steps=400, batch_size=64, lr=1e-2, seed=0
):
    """Train a small LSTM to say whether the motif is present; returns the model and history."""
    for name, value in (("hidden_size", hidden_size), ("steps", steps), ("batch_size", batch_size)):
        check_int(name, value, 1)
    model = motif_model(hidden_size, seed)

    def task(rng):
        x, y, _ = planted_motif(batch_size, T, mutation_rate=mutation_rate, rng=rng)
        return x, y

    fitted = harness.fit(task, steps, seed=seed, model=model, loss="ce", lr=lr, clip=1.0)
    return fitted.model, fitted.history


def motif_model(hidden_size=8, seed=0):
    """The untrained network: ``SequenceModel(4, H, 2)`` with forget bias 2."""
    return SequenceModel(4, hidden_size, 2, forget_bias=2.0, seed=harness.check_seed(seed))


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


def gate_ratio(aligned, unit, m=MOTIF_LENGTH):
    """The unit's input gate at its highest on the motif over its median before the motif.

    Returns (ratio, highest on the motif, median before it, median forget gate before it).
    """
    offsets = aligned["offsets"]
    i, f = aligned["i"][:, unit], aligned["f"][:, unit]
    on_motif = float(i[(offsets >= 0) & (offsets < m)].max())
    background = float(np.median(i[offsets < 0]))
    return on_motif / background, on_motif, background, float(np.median(f[offsets < 0]))


def untrained_holding(seed, x, y):
    """The control: the largest absolute correlation of a final cell state with the label in the
    untrained network of ``seed`` (:func:`motif_model`)."""
    return float(np.abs(holding_units(motif_model(seed=seed), x, y)[0]).max())


def seed_summary(seed, *, steps=400, n=1024, rates=(0.0, 0.1, 0.2, 0.3)):
    """One seed's trained network, and its untrained twin, on held-out sequences.

    Returns a dict: ``accuracy`` at each mutation rate in ``rates``; ``unit``
    and ``corr``, the unit whose final cell state correlates most with the
    label and that correlation; ``ratio``, ``i_motif``, ``i_background`` and
    ``f_background`` of :func:`gate_ratio` for that unit; ``untrained_corr``,
    the same search in the untrained network.
    """
    model, _ = train_motif_model(steps=steps, seed=seed)
    x, y, start = planted_motif(n, 60, rng=HELD_OUT_SEED)
    corr, cs, cache = holding_units(model, x, y)
    unit = int(np.argmax(np.abs(corr)))
    ratio, i_motif, i_background, f_background = gate_ratio(aligned_gates(cache, cs, start), unit)
    return {
        "seed": seed,
        "accuracy": [motif_accuracy(model, mutation_rate=q, n=n) for q in rates],
        "unit": unit,
        "corr": float(corr[unit]),
        "ratio": ratio,
        "i_motif": i_motif,
        "i_background": i_background,
        "f_background": f_background,
        "untrained_corr": untrained_holding(seed, x, y),
    }


#: The seed study that ``scripts/run_gates_at_work.py`` writes.
RESULTS_FILE = Path(__file__).resolve().parent / "data" / "gates_at_work.json"


def stored_seeds(path=RESULTS_FILE):
    """The stored :func:`seed_summary` of every seed of the study, a list of dicts."""
    return json.loads(Path(path).read_text())["motifs"]
