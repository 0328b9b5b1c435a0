"""Which parts of the LSTM matter: a small ablation in the manner of Greff et al. (2017).

Every variant of :mod:`lstm_lessons.cells.variants` that removes or changes one part of the
cell is trained on two synthetic tasks from many seeds, and each is compared with the standard
cell. The design follows what an ablation needs to be believed:

- **A baseline that learns.** The budget (:data:`TASKS`: steps, batch, clipping) is one at
  which the standard cell solves both tasks on most seeds; :func:`check_baseline` refuses a
  study whose baseline does not beat the trivial predictor by a wide margin.
- **Settings chosen fairly.** Each variant picks its learning rate from one shared grid,
  :data:`LEARNING_RATES`, by its median loss on validation data (:func:`tune`), on seeds of
  its own (:data:`TUNING_SEEDS`), never on the test set or the study's seeds.
- **Paired runs.** Run s of every variant sees the same training batches
  (:func:`~lstm_lessons.training.harness.batch_seed`) and starts from the standard cell's
  initial weights for every block the two share (:func:`paired_models`), so that a difference
  between two runs of one seed is the variant's, not the luck of the draw.
- **Enough seeds, one family of tests.** :data:`N_SEEDS` seeds per variant, compared with the
  standard cell by the paired sign-flip test, and every comparison of the study corrected
  together by Holm's method (:func:`summarise`); the power of that design is computed by
  :func:`lstm_lessons.experiments.significance.power`.
- **Controls.** The trivial predictor (the best constant) and the untrained network.

Shapes: E models (one per seed), T steps, N batch, D input, H hidden.

Greff et al. named their variants after what they take away from the "vanilla" LSTM, which has
peepholes. Our standard cell has none, so their NP ("no peepholes") is our ``standard``, and
our ``peephole`` cell is their vanilla.

The whole study trains hundreds of models: ``scripts/run_ablation.py`` runs it offline
(:func:`run_task`) and stores it (:func:`save_results`); the chapter reads it
(:func:`load_results`), and the tests retrain slices of it (:func:`train_stack`).
"""

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..training import harness, tasks
from ..training.ensemble import Ensemble, evaluate_ensemble, model_seeds, train_ensemble
from ..training.model import SequenceModel
from .significance import holm, permutation_test, sign_flip_test

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
#: The shared grid from which every variant picks its learning rate.
LEARNING_RATES = (3e-3, 1e-2, 3e-2)
#: Runs (seeds 0, 1, ...) per variant in the study, chosen from the power of the design.
N_SEEDS = 20
#: Runs per learning rate and variant when the learning rate is chosen.
N_TUNING_SEEDS = 4
#: The seeds of those runs: never among the study's 0 .. N_SEEDS - 1.
TUNING_SEEDS = model_seeds(N_TUNING_SEEDS, first=1000)
#: Training losses of seed 0 stored per (task, variant), for the tests to reproduce.
FINGERPRINT_STEPS = 20
#: Each comparison's p-value: the paired sign-flip test with this many random sign patterns.
N_RESAMPLES = 100_000
RESULTS_FILE = Path(__file__).resolve().parent / "data" / "ablation.json"
DTYPE = torch.float64  # the study runs in float64, so that a slice reproduces it exactly


@dataclass(frozen=True)
class TaskSpec:
    """One task of the ablation; its score is the test loss (lower is better).

    A run *solves* the task when its test MSE is below ``solved_mse`` (adding) or its test
    accuracy at least ``solved_accuracy`` (recall).
    """

    name: str
    loss: str  # "mse" or "ce"
    length: int  # T for the adding problem, the delay for delayed recall
    hidden_size: int = 16
    batch: int = 32
    steps: int = 1500
    clip: float = 1.0
    n_test: int = 1000
    solved_mse: float = 0.01
    solved_accuracy: float = 0.99

    def task(self, n):
        """The task as a function ``rng -> (x, y)`` of ``n`` sequences, float64."""
        if self.name == "adding":
            return lambda rng: tasks.adding_problem(n, self.length, rng=rng, dtype=np.float64)
        if self.name == "recall":
            return lambda rng: tasks.delayed_recall(n, self.length, 4, rng=rng,
                                                    dtype=np.float64)
        raise ValueError(f"task: expected 'adding' or 'recall', got {self.name!r}")

    @property
    def sizes(self):
        """(input size, output size)."""
        return (2, 1) if self.name == "adding" else (6, 4)

    def solved(self, loss, accuracy=None):
        """Which runs solved the task: a boolean array from their test losses (and accuracies)."""
        if self.loss == "mse":
            return np.asarray(loss) < self.solved_mse
        return np.asarray(accuracy) >= self.solved_accuracy


TASKS = {
    "adding": TaskSpec("adding", "mse", 30),
    "recall": TaskSpec("recall", "ce", 15),
}


def initial_biases(variant):
    """Every cell starts with its forget gate at about sigma(1), as is common practice.

    Gers et al. (2000) and Jozefowicz et al. (2015) start the forget gate open with a bias of
    1. CIFG has no forget-gate bias: an input-gate bias of -1 gives it f = 1 - sigma(-1) =
    sigma(1). NFG's forget gate is 1 anyway.
    """
    if variant == "cifg":
        return {"input_bias": -1.0}
    if variant == "nfg":
        return {}
    return {"forget_bias": 1.0}


def paired_models(spec, variant, seeds):
    """One float64 model of ``variant`` per seed, starting where the standard cell starts.

    Model s is the standard cell seeded s (``torch.nn.LSTM``'s initialisation, with the
    biases of :func:`initial_biases`) with every block the variant lacks taken away; blocks of
    its own (peephole weights) keep their seeded draw. So two variants of one seed differ at
    the start only in what the variants change, and each has the same readout.
    """
    D, O = spec.sizes
    H = spec.hidden_size
    models = []
    for s in seeds:
        base = SequenceModel(D, H, O, "lstm", "standard", seed=s, **initial_biases(variant))
        model = SequenceModel(D, H, O, "lstm", variant, seed=s)
        blocks = [("ifgo".index(g)) for g in model.variant.gates]
        rows = torch.cat([torch.arange(k * H, (k + 1) * H) for k in blocks])
        with torch.no_grad():
            for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                getattr(model.rnn, name).copy_(getattr(base.rnn, name)[rows])
            model.readout.load_state_dict(base.readout.state_dict())
        models.append(model.to(DTYPE))
    return models


def stacked_batches(spec, seeds):
    """Training batches for a stack: ``step -> (x (E, T, N, D), y (E, ...))``, run s's batch
    being ``harness.batches(task, s)(step)``."""
    draws = [harness.batches(spec.task(spec.batch), s) for s in seeds]

    def draw(step):
        xs, ys = zip(*(d(step) for d in draws), strict=True)
        return np.stack(xs), np.stack(ys)

    return draw


def train_stack(spec, variant, seeds, lr, steps=None):
    """Train the paired models of ``seeds`` as one stack: ``(ensemble, histories)``."""
    ensemble = Ensemble.from_models(paired_models(spec, variant, seeds))
    histories = train_ensemble(ensemble, stacked_batches(spec, seeds), steps or spec.steps,
                               loss=spec.loss, lr=lr, clip=spec.clip)
    return ensemble, histories


def score(ensemble, spec, data):
    """Each model's loss on ``data`` = (x, y), and its accuracy on recall: a dict of lists."""
    ev = evaluate_ensemble(ensemble, *data, loss=spec.loss)
    return {k: v.tolist() for k, v in ev.items()}


def tune(spec, variant, learning_rates=LEARNING_RATES, n_seeds=N_TUNING_SEEDS, steps=None):
    """Validation losses of the first ``n_seeds`` tuning seeds at each learning rate:
    ``{str(lr): [loss, ...]}``."""
    seeds = TUNING_SEEDS[:n_seeds]
    val = harness.validation(spec.task(spec.n_test))
    return {repr(lr): score(train_stack(spec, variant, seeds, lr, steps)[0], spec, val)["loss"]
            for lr in learning_rates}


def choose_lr(tuning):
    """The learning rate with the lowest median validation loss (the first of equals)."""
    medians = {lr: float(np.median(v)) for lr, v in tuning.items()}
    return float(min(medians, key=medians.get))


def trivial_loss(spec, y):
    """The test loss of the best constant prediction (the trivial predictor) on targets y."""
    y = np.asarray(y)
    if spec.loss == "mse":
        return float(np.mean((y - y.mean()) ** 2))
    freq = np.bincount(y.ravel(), minlength=spec.sizes[1]) / y.size
    return float(-np.mean(np.log(freq[y.ravel()])))


def run_task(spec, variants=VARIANTS, n_seeds=N_SEEDS, learning_rates=LEARNING_RATES,
             n_tuning_seeds=N_TUNING_SEEDS, steps=None, log=print):
    """The study on one task: tuning, the study's runs, and the controls, as a dict."""
    seeds = model_seeds(n_seeds)
    test = harness.held_out(spec.task(spec.n_test))
    untrained = Ensemble.from_models(paired_models(spec, "standard", seeds))
    out = {
        "controls": {"trivial": trivial_loss(spec, test[1]), "untrained": score(untrained, spec,
                                                                                 test)},
        "variants": {},
    }
    for variant in variants:
        t0 = time.perf_counter()
        tuning = tune(spec, variant, learning_rates, n_tuning_seeds, steps)
        lr = choose_lr(tuning)
        ensemble, histories = train_stack(spec, variant, seeds, lr, steps)
        out["variants"][variant] = {
            "lr": lr,
            "tuning": tuning,
            **score(ensemble, spec, test),
            "first_losses": histories[0].loss[:FINGERPRINT_STEPS],
        }
        log(f"{spec.name} {variant}: lr {lr:g}, {time.perf_counter() - t0:.0f} s")
        if variant == "standard":
            check_baseline({spec.name: out})  # a study without a working baseline stops here
    return out


def check_baseline(results, min_solved=0.75, max_ratio=0.1):
    """Refuse a study whose standard cell does not learn: it must solve at least
    ``min_solved`` of its runs on every task, with a median test loss at most ``max_ratio``
    times the trivial predictor's. Returns ``{task: (share solved, median / trivial)}``."""
    out = {}
    for name, res in results.items():
        spec, std = TASKS[name], res["variants"]["standard"]
        solved = float(np.mean(spec.solved(std["loss"], std.get("accuracy"))))
        ratio = float(np.median(std["loss"]) / res["controls"]["trivial"])
        if solved < min_solved or ratio > max_ratio:
            raise ValueError(
                f"check_baseline: the standard cell must solve {name} on at least "
                f"{min_solved:.0%} of its runs with a median test loss at most {max_ratio} "
                f"times the trivial predictor's; it solved {solved:.0%}, ratio {ratio:.3f}"
            )
        out[name] = (solved, ratio)
    return out


def summarise(results, alpha=0.05):
    """``{task: {variant: row}}``: mean, sd, median, min, max, share solved, mean difference to
    the standard cell, p (paired sign-flip test) and p_holm (Holm over every comparison of the
    study, both tasks), and ``significant`` (p_holm <= alpha)."""
    rows, family = {}, []
    for name, res in results.items():
        spec = TASKS[name]
        base = np.asarray(res["variants"]["standard"]["loss"])
        rows[name] = {}
        for v, run in res["variants"].items():
            s = np.asarray(run["loss"])
            row = {
                "mean": float(s.mean()),
                "sd": float(s.std(ddof=1)),
                "median": float(np.median(s)),
                "min": float(s.min()),
                "max": float(s.max()),
                "solved": float(np.mean(spec.solved(s, run.get("accuracy")))),
                "diff": float(s.mean() - base.mean()),
                "lr": run["lr"],
            }
            if "accuracy" in run:
                row["accuracy"] = float(np.mean(run["accuracy"]))
            if v != "standard":
                row["p"] = sign_flip_test(s, base, n_resamples=N_RESAMPLES, seed=0)
                family.append((name, v))
            rows[name][v] = row
    adjusted = holm([rows[t][v]["p"] for t, v in family]) if family else []
    for (t, v), p in zip(family, adjusted, strict=True):
        rows[t][v]["p_holm"] = float(p)
        rows[t][v]["significant"] = bool(p <= alpha)
    return rows


def models_per_minute(task_name="recall", variant="cifg", n_seeds=8, steps=40):
    """Models of ``task_name`` trained per minute, one after another and stacked.

    Times ``steps`` steps of ``n_seeds`` paired models both ways (a stack of one at a time,
    and all at once) and scales to the task's full number of steps.
    """
    spec = TASKS[task_name]
    seeds = model_seeds(n_seeds)
    t0 = time.perf_counter()
    for s in seeds:
        train_stack(spec, variant, [s], 1e-2, steps)
    alone = time.perf_counter() - t0
    t0 = time.perf_counter()
    train_stack(spec, variant, seeds, 1e-2, steps)
    stacked = time.perf_counter() - t0
    per_model = {"one_by_one": alone / n_seeds, "stacked": stacked / n_seeds}
    return {k: 60.0 / (t * spec.steps / steps) for k, t in per_model.items()}


def save_results(results, path=RESULTS_FILE, **meta):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = {name: asdict(spec) for name, spec in TASKS.items()}
    settings["learning_rates"] = list(LEARNING_RATES)
    payload = {"settings": settings, "meta": meta, "results": results}
    path.write_text(json.dumps(payload, indent=1) + "\n")


def load_results(path=RESULTS_FILE):
    """The stored ablation: ``(results, settings, meta)``."""
    payload = json.loads(Path(path).read_text())
    return payload["results"], payload["settings"], payload["meta"]


__all__ = [
    "FINGERPRINT_STEPS", "GREFF_NAMES", "LEARNING_RATES", "N_RESAMPLES", "N_SEEDS",
    "N_TUNING_SEEDS", "TASKS", "TUNING_SEEDS", "VARIANTS", "TaskSpec",
    "check_baseline", "choose_lr", "initial_biases", "load_results", "models_per_minute",
    "paired_models", "permutation_test", "run_task", "save_results", "score", "sign_flip_test",
    "stacked_batches", "summarise", "train_stack", "trivial_loss", "tune",
]
