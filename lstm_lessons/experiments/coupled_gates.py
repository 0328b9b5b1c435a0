"""Coupled gates: the CIFG cell (f = 1 - i) and the GRU, against the standard LSTM.

Shapes: E models (one per seed), T steps, N batch, D input, H hidden.

The CIFG cell is the standard cell except one line (Greff et al. 2017):

    f = 1 - i                        instead of  f = sigma(a_f)

so it stores three gate blocks (i, g, o) instead of four. The GRU (Cho et al.
2014) couples the same way, h = z * h_prev + (1 - z) * n, with z in the role
of f, and goes further: no separate cell state, no output gate, and a reset
gate r inside the candidate.

Inside:

- :func:`parameter_counts`: parameters of the standard cell, CIFG and the GRU.
- :func:`train_cells`: train the standard LSTM, CIFG and the GRU on one task
  from several seeds, with or without a forget bias of 1 (Jozefowicz et al.
  2015), and return each model's test scores.
- :func:`generalisation_gap`: train on a small fixed training set and return
  each model's training loss, test loss and their gap: the test of the claim
  that coupling regularises.
"""

import json
from pathlib import Path

import numpy as np
import torch

from ..cells.gru import init_gru_params
from ..cells.lstm import init_lstm_params
from ..training import tasks
from ..training.ensemble import Ensemble, evaluate_ensemble, model_seeds, train_ensemble
from ..training.loop import evaluate, train
from ..training.model import SequenceModel

#: The three cells that chapter 9 compares.
CELLS = ("standard", "cifg", "gru")
TEST_SEED = 10**6
RESULTS_FILE = Path(__file__).resolve().parent / "data" / "coupled_gates.json"
# The settings chapter 9 reports; scripts/run_coupled_gates.py runs them.
RECALL = dict(delay=10, n_symbols=4, hidden_size=16, steps=200, n_seeds=8)
SMALL_DATA = dict(n_train=24, length=20, hidden_size=32, steps=300, n_seeds=8)


def parameter_counts(D, H):
    """Parameters of one layer (the NumPy layout: one bias per gate block) for each cell."""
    count = {v: sum(p.size for p in init_lstm_params(D, H, v).values()) for v in CELLS[:2]}
    count["gru"] = sum(p.size for p in init_gru_params(D, H).values())
    return count


def _bias_kwargs(cell, forget_bias):
    """Start the forget gate at sigma(forget_bias): through i's bias for CIFG (f = 1 - i)."""
    if not forget_bias:
        return {}
    if cell == "cifg":
        return {"input_bias": -forget_bias}
    return {"forget_bias": forget_bias}


def _gru_model(D, H, O, seed, forget_bias):
    model = SequenceModel(D, H, O, cell="gru", seed=seed)
    if forget_bias:
        with torch.no_grad():  # z keeps the old state as f does: its bias is the forget bias
            model.rnn.bias_ih_l0[H : 2 * H] = forget_bias
            model.rnn.bias_hh_l0[H : 2 * H] = 0.0
    return model


def train_cells(
    delay=10,
    n_symbols=4,
    hidden_size=16,
    steps=200,
    n_seeds=6,
    forget_bias=0.0,
    batch=32,
    lr=1e-2,
    clip=1.0,
    cells=CELLS,
):
    """Train each cell on delayed recall from ``n_seeds`` seeds: ``{cell: {"accuracy", "loss"}}``.

    The LSTMs of one kind train together as an :class:`Ensemble`; the GRUs
    (``torch.nn.GRU``, already fused by PyTorch) one after another. Every model
    sees the same batches; models differ only in their initial weights.
    """
    D, O = n_symbols + 2, n_symbols
    x_test, y_test = tasks.delayed_recall(1000, delay, n_symbols, rng=TEST_SEED)

    def batches(step):
        return tasks.delayed_recall(batch, delay, n_symbols, rng=step)

    seeds = model_seeds(n_seeds)
    kw = dict(loss="ce", lr=lr, clip=clip)
    out = {}
    for cell in cells:
        if cell == "gru":
            scores = []
            for s in seeds:
                model = _gru_model(D, hidden_size, O, s, forget_bias)
                train(model, batches, steps, progress=False, **kw)
                scores.append(evaluate(model, x_test, y_test, loss="ce"))
            out[cell] = {k: np.array([r[k] for r in scores]) for k in ("accuracy", "loss")}
        else:
            ens = Ensemble.create(D, hidden_size, O, seeds, cell,
                                  **_bias_kwargs(cell, forget_bias))
            train_ensemble(ens, batches, steps, **kw)
            out[cell] = evaluate_ensemble(ens, x_test, y_test, loss="ce")
    return out


def generalisation_gap(
    n_train=24,
    length=20,
    hidden_size=32,
    steps=300,
    n_seeds=6,
    lr=1e-2,
    cells=CELLS,
):
    """Fit a small fixed training set of the adding problem: each model's train and test loss.

    Every step is a full pass over the same ``n_train`` sequences, so a large
    enough network can memorise them; the gap ``test - train`` (mean squared
    errors) measures how much it overfits. Returns ``{cell: {"train", "test",
    "gap"}}``, arrays over seeds.
    """
    x_train, y_train = tasks.adding_problem(n_train, length, rng=1)
    x_test, y_test = tasks.adding_problem(2000, length, rng=TEST_SEED)
    seeds = model_seeds(n_seeds)
    out = {}
    def fixed(step):
        return x_train, y_train

    for cell in cells:
        if cell == "gru":
            models = [_gru_model(2, hidden_size, 1, s, 0.0) for s in seeds]
            for model in models:
                train(model, fixed, steps, lr=lr, progress=False)
            tr = np.array([evaluate(m, x_train, y_train)["loss"] for m in models])
            te = np.array([evaluate(m, x_test, y_test)["loss"] for m in models])
        else:
            ens = Ensemble.create(2, hidden_size, 1, seeds, cell)
            train_ensemble(ens, fixed, steps, lr=lr)
            tr = evaluate_ensemble(ens, x_train, y_train)["loss"]
            te = evaluate_ensemble(ens, x_test, y_test)["loss"]
        out[cell] = {"train": tr, "test": te, "gap": te - tr}
    return out


def save_results(results, path, **meta):
    """Store nested dicts of arrays as JSON (lists), with ``meta``."""

    def plain(obj):
        if isinstance(obj, dict):
            return {k: plain(v) for k, v in obj.items()}
        return np.asarray(obj).tolist()

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "results": plain(results)}, indent=1) + "\n")


def load_results(path=RESULTS_FILE):
    """The stored results of ``scripts/run_coupled_gates.py``: ``(results, meta)``."""

    def arrays(obj):
        if isinstance(obj, dict):
            return {k: arrays(v) for k, v in obj.items()}
        return np.asarray(obj)

    payload = json.loads(Path(path).read_text())
    return arrays(payload["results"]), payload["meta"]
