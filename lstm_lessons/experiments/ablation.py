"""Which parts of the LSTM matter: a small ablation in the manner of Greff et al. (2017).

Every variant of :mod:`lstm_lessons.cells.variants` that removes or changes one
part of the cell is trained on synthetic tasks from several seeds, and each is
compared with the standard cell by an exact permutation test.

Shapes: E models (one per seed), T steps, N batch, D input, H hidden.

Greff et al. named their variants after what they take away from the "vanilla"
LSTM, which has peepholes. Our standard cell has none, so their NP ("no
peepholes") is our ``standard``, and our ``peephole`` cell is their vanilla.

Inside:

- :data:`TASKS`: the two tasks and their settings (:class:`TaskSpec`).
- :func:`run_ablation`: train every (task, variant) for the given seeds with
  :mod:`lstm_lessons.training.ensemble` and return one score per model.
- :func:`permutation_test`: the exact two-sided permutation test of a
  difference in means (all splits of the pooled scores).
- :func:`summarise`: mean, spread and p-value against the standard cell, per
  task and variant.
- :func:`load_results` / :func:`save_results`: the stored results of
  ``scripts/run_ablation.py``, which the chapter reads.
"""

import itertools
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..training import tasks
from ..training.ensemble import Ensemble, evaluate_ensemble, model_seeds, train_ensemble
from ..training.loop import evaluate, train
from ..training.model import SequenceModel

#: The variants of the ablation, in the order of its tables.
VARIANTS = ("standard", "nig", "nfg", "nog", "niaf", "noaf", "cifg", "hard_sigmoid", "peephole")
#: Each variant's name in Greff et al. (2017).
GREFF_NAMES = {
    "standard": "NP",
    "nig": "NIG",
    "nfg": "NFG",
    "nog": "NOG",
    "niaf": "NIAF",
    "noaf": "NOAF",
    "cifg": "CIFG",
    "hard_sigmoid": "not in their study",
    "peephole": "vanilla",
}
RESULTS_FILE = Path(__file__).resolve().parent / "data" / "ablation.json"


@dataclass(frozen=True)
class TaskSpec:
    """One task of the ablation; ``score`` is what the table reports (lower is better)."""

    name: str
    loss: str  # "mse" or "ce"
    length: int  # T for the adding problem, the delay for delayed recall
    hidden_size: int = 16
    batch: int = 32
    steps: int = 400
    lr: float = 1e-2
    clip: float = 1.0
    n_test: int = 1000

    def data(self, n, seed):
        if self.name == "adding":
            return tasks.adding_problem(n, self.length, rng=seed)
        if self.name == "recall":
            return tasks.delayed_recall(n, self.length, 4, rng=seed)
        raise ValueError(f"task: expected 'adding' or 'recall', got {self.name!r}")

    @property
    def sizes(self):
        """(input size, output size)."""
        return (2, 1) if self.name == "adding" else (6, 4)


TASKS = {
    "adding": TaskSpec("adding", "mse", 30, steps=300),
    "recall": TaskSpec("recall", "ce", 15, steps=300),
}


def initial_biases(variant):
    """Every cell starts with its forget gate at about sigma(1), as is common practice.

    Gers et al. (2000) and Jozefowicz et al. (2015) start the forget gate open
    with a bias of 1; without it, the standard cell of this study often never
    leaves the plateau of the recall task within the training budget. CIFG has
    no forget-gate bias: an input-gate bias of -1 gives it f = 1 - sigma(-1) =
    sigma(1). NFG's forget gate is 1 anyway.
    """
    if variant == "cifg":
        return {"input_bias": -1.0}
    if variant == "nfg":
        return {}
    return {"forget_bias": 1.0}
TEST_SEED = 10**6  # the test set's data seed, far from the training batches' 0, 1, 2, ...


def _batches(spec):
    return lambda step: spec.data(spec.batch, step)


def run_ablation(task_names=tuple(TASKS), variants=VARIANTS, n_seeds=8, steps=None):
    """Train every (task, variant) from ``n_seeds`` seeds: ``{task: {variant: scores (E,)}}``.

    The score is the test loss (mean squared error for adding, cross-entropy
    for recall), and for recall also the accuracy, under ``"<variant>/accuracy"``.
    All seeds of one variant train together as one :class:`Ensemble`, on the
    same batches (the data seed is the step), so models differ only in their
    initial weights. ``steps`` overrides each task's number of steps.
    """
    seeds = model_seeds(n_seeds)
    results = {}
    for name in task_names:
        spec = TASKS[name]
        D, O = spec.sizes
        x_test, y_test = spec.data(spec.n_test, TEST_SEED)
        scores = {}
        for variant in variants:
            ens = Ensemble.create(D, spec.hidden_size, O, seeds, variant,
                                  **initial_biases(variant))
            train_ensemble(ens, _batches(spec), steps or spec.steps, loss=spec.loss,
                           lr=spec.lr, clip=spec.clip)
            ev = evaluate_ensemble(ens, x_test, y_test, loss=spec.loss)
            scores[variant] = ev["loss"].tolist()
            if "accuracy" in ev:
                scores[f"{variant}/accuracy"] = ev["accuracy"].tolist()
        results[name] = scores
    return results


def models_per_minute(task_name="recall", variant="cifg", n_seeds=8, steps=40):
    """Models of ``task_name`` trained per minute, one after another and stacked.

    Times ``steps`` steps of ``n_seeds`` models both ways (``train`` on one
    :class:`SequenceModel` at a time, and ``train_ensemble`` on all at once)
    and scales to the task's full number of steps.
    """
    spec = TASKS[task_name]
    D, O = spec.sizes
    seeds = model_seeds(n_seeds)
    kw = dict(loss=spec.loss, lr=spec.lr, clip=spec.clip)
    t0 = time.perf_counter()
    for s in seeds:
        model = SequenceModel(D, spec.hidden_size, O, variant=variant, seed=s,
                              **initial_biases(variant))
        train(model, _batches(spec), steps, progress=False, **kw)
    alone = time.perf_counter() - t0
    t0 = time.perf_counter()
    ens = Ensemble.create(D, spec.hidden_size, O, seeds, variant, **initial_biases(variant))
    train_ensemble(ens, _batches(spec), steps, **kw)
    stacked = time.perf_counter() - t0
    per_model = {"one_by_one": alone / n_seeds, "stacked": stacked / n_seeds}
    return {k: 60.0 / (t * spec.steps / steps) for k, t in per_model.items()}


def train_one(task_name, variant, seed, steps=None):
    """One model trained alone, the way :func:`run_ablation` trains it in a stack: its score."""
    spec = TASKS[task_name]
    D, O = spec.sizes
    model = SequenceModel(D, spec.hidden_size, O, variant=variant, seed=seed,
                          **initial_biases(variant))
    train(model, _batches(spec), steps or spec.steps, loss=spec.loss, lr=spec.lr,
          clip=spec.clip, progress=False)
    return evaluate(model, *spec.data(spec.n_test, TEST_SEED), loss=spec.loss)


def permutation_test(a, b):
    """Exact two-sided p-value of mean(a) - mean(b) over every split of the pooled values.

    With n = len(a) and m = len(b) there are C(n + m, n) splits (12870 for
    8 and 8); the p-value is the share of splits whose |difference of means| is
    at least the observed one, so the smallest possible p-value is 2 / C(n + m, n).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or b.ndim != 1 or len(a) < 2 or len(b) < 2:
        raise ValueError(
            f"permutation_test: expected two 1-D samples of at least 2 values, got shapes "
            f"{a.shape} and {b.shape}"
        )
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("permutation_test: expected finite values")
    pooled = np.concatenate([a, b])
    n, total = len(a), pooled.sum()
    splits = np.array(list(itertools.combinations(range(len(pooled)), n)))
    sums_a = pooled[splits].sum(axis=1)
    diffs = sums_a / n - (total - sums_a) / len(b)
    observed = a.mean() - b.mean()
    # A small tolerance: the observed split itself must count despite rounding.
    return float(np.mean(np.abs(diffs) >= abs(observed) - 1e-12 * (1 + abs(observed))))


def summarise(results, metric=""):
    """``{task: {variant: {mean, std, min, max, diff, p}}}``, each against ``standard``.

    ``metric`` "" takes the test losses, "accuracy" the accuracies (recall only).
    ``std`` is the sample standard deviation over seeds.
    """
    out = {}
    for task, scores in results.items():
        key = (lambda v: f"{v}/{metric}") if metric else (lambda v: v)
        if key("standard") not in scores:
            continue
        base = np.asarray(scores[key("standard")])
        rows = {}
        for v in VARIANTS:
            if key(v) not in scores:
                continue
            s = np.asarray(scores[key(v)])
            rows[v] = {
                "mean": float(s.mean()),
                "std": float(s.std(ddof=1)),
                "min": float(s.min()),
                "max": float(s.max()),
                "diff": float(s.mean() - base.mean()),
                "p": 1.0 if v == "standard" else permutation_test(s, base),
            }
        out[task] = rows
    return out


def save_results(results, path=RESULTS_FILE, **meta):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = {name: asdict(spec) for name, spec in TASKS.items()}
    payload = {"settings": settings, "meta": meta, "results": results}
    path.write_text(json.dumps(payload, indent=1) + "\n")


def load_results(path=RESULTS_FILE):
    """The stored ablation: ``(results, settings, meta)``."""
    payload = json.loads(Path(path).read_text())
    return payload["results"], payload["settings"], payload["meta"]
