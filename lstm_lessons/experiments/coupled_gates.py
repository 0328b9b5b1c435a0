"""Coupled gates: the CIFG cell (f = 1 - i) and the GRU, against the standard LSTM.

Shapes: E models (one per seed), T steps, N batch, D input, H hidden.

The CIFG cell is the standard cell except one line (Greff et al. 2017):

    f = 1 - i                        instead of  f = sigma(a_f)

so it stores three gate blocks (i, g, o) instead of four. The GRU (Cho et al.
2014) couples the same way, h = z * h_prev + (1 - z) * n, with z in the role
of f, and goes further: no separate cell state, no output gate, and a reset
gate r inside the candidate.

Every run is seeded by the harness (:mod:`lstm_lessons.training.harness`):
run s draws its training data from ``batch_seed(s, step)``, settings are
chosen on ``validation`` data and scores are measured on ``held_out`` data.
The three cells of one seed are *paired*: they see the same data, and the
blocks they share start from the same weights (:func:`paired_models`).

Inside:

- :func:`parameter_counts`: parameters of the standard cell, CIFG and the GRU.
- :func:`paired_models`: the three cells of one seed, with shared blocks
  equal and, optionally, the gate that keeps the memory started at
  sigma(forget_bias) in each (Jozefowicz et al. 2015).
- :func:`train_cells`: train the three cells on delayed recall from several
  seeds and return each model's test scores.
- :func:`fit_fixed`: full-batch training on one small fixed training set,
  recording the training and validation error on the way.
- :func:`tune`: the standard cell's validation error over a grid of
  settings (capacity, weight decay, forget bias, steps).
- :func:`generalisation_gap`: the paired study: each cell's training and
  test error and their gap, with the controls (the mean predictor and the
  untrained network).
- :func:`detectable_effect`: how large a paired difference the design can
  detect. The paired test itself is
  :func:`lstm_lessons.experiments.significance.sign_flip_test`.
"""

import itertools
import json
from pathlib import Path
from statistics import NormalDist

import numpy as np
import torch

from ..cells.gru import gru_step_forward, init_gru_params
from ..cells.lstm import init_lstm_params, lstm_step_forward
from ..cells.validation import check_int
from ..training import harness, tasks
from ..training.ensemble import Ensemble, evaluate_ensemble, model_seeds, train_ensemble
from ..training.model import SequenceModel

#: The three cells that chapter 9 compares.
CELLS = ("standard", "cifg", "gru")
RESULTS_FILE = Path(__file__).resolve().parent / "data" / "coupled_gates.json"
#: Delayed recall, the first comparison of chapter 9; scripts/run_coupled_gates.py runs it.
RECALL = dict(delay=10, n_symbols=4, hidden_size=16, steps=200, n_seeds=16)
#: The small-data task: a fixed training set of the adding problem, its validation and test sets.
SMALL_TASK = dict(n_train=24, length=20, n_val=500, n_test=2000)
#: The grid on which :func:`tune` chooses the standard cell's settings (learning rate 1e-2).
GRID = dict(hidden_size=(8, 32), weight_decay=(0.0, 1e-3), forget_bias=(None, 1.0),
            checkpoints=(250, 500, 1000))
#: The grid for the larger training set: without weight decay, and at most 500 steps, to fit
#: the offline run's budget (three times the data costs three times the time per step).
GRID_LARGE = dict(hidden_size=(8, 32), weight_decay=(0.0,), forget_bias=(None, 1.0),
                  checkpoints=(250, 500))
#: The training-set sizes of the small-data studies, and the grid each is tuned on.
N_TRAIN = (24, 64)
GRIDS = {24: GRID, 64: GRID_LARGE}
#: The tuning runs' seeds: model_seeds(n, first), apart from the study's seeds 0, 1, ...
TUNING = dict(n_seeds=3, first=100)
#: The setting chapter 9 first reported, at which the standard cell overfits.
FIRST_SETTING = dict(hidden_size=32, steps=300, lr=1e-2, weight_decay=0.0, forget_bias=None)
#: Seeds of the paired study, and the step at which the first training error is recorded.
STUDY = dict(n_seeds=16, first_record=100)


def parameter_counts(D, H):
    """Parameters of one layer (the NumPy layout: one bias per gate block) for each cell."""
    count = {v: sum(p.size for p in init_lstm_params(D, H, v).values()) for v in CELLS[:2]}
    count["gru"] = sum(p.size for p in init_gru_params(D, H).values())
    return count


def _check_cells(cells):
    cells = tuple(cells)
    unknown = [c for c in cells if c not in CELLS]
    if not cells or unknown:
        raise ValueError(f"cells: expected a non-empty selection of {CELLS}, got {cells!r}")
    return cells


def _set_keep_bias(model, cell, value):
    """Start the gate that keeps the memory at sigma(value): f's bias in the standard cell,
    minus i's bias in CIFG (f = 1 - sigma(a_i) = sigma(-a_i)), z's bias in the GRU."""
    H = model.rnn.hidden_size
    # Blocks: torch.nn.LSTM i, f, g, o; CIFG i, g, o; torch.nn.GRU r, z, n.
    block, bias = {"standard": (1, value), "cifg": (0, -value), "gru": (1, value)}[cell]
    with torch.no_grad():  # the gate's bias is bias_ih + bias_hh: all of it in bias_ih
        model.rnn.bias_ih_l0[block * H : (block + 1) * H] = bias
        model.rnn.bias_hh_l0[block * H : (block + 1) * H] = 0.0


def paired_models(seed, input_size, hidden_size, output_size, forget_bias=None, cells=CELLS,
                  dtype=torch.float64):
    """The models of one seed, ``{cell: SequenceModel}``, with the blocks they share equal.

    The standard LSTM is ``SequenceModel(..., seed=seed)``; CIFG takes its i, g and o
    blocks (it has no f block) and every model its readout, so that paired models differ
    only where the cells differ. The GRU's gate blocks are its own, drawn from the same
    seed. ``forget_bias`` None keeps the biases as drawn (small, around 0); a number starts
    each cell's keeping gate at sigma(forget_bias) (see :func:`_set_keep_bias`).
    """
    seed = harness.check_seed(seed)
    cells = _check_cells(cells)
    D, H, O = input_size, hidden_size, output_size
    std = SequenceModel(D, H, O, "lstm", "standard", seed=seed).to(dtype)
    models = {}
    for cell in cells:
        if cell == "standard":
            model = std
        elif cell == "cifg":
            model = SequenceModel(D, H, O, "lstm", "cifg", seed=seed).to(dtype)
            with torch.no_grad():
                for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                    own, given = getattr(model.rnn, name), getattr(std.rnn, name)
                    own[:H] = given[:H]  # i
                    own[H:] = given[2 * H :]  # g, o
        else:
            model = SequenceModel(D, H, O, "gru", seed=seed).to(dtype)
        if cell != "standard":
            model.readout.load_state_dict(std.readout.state_dict())
        if forget_bias is not None:
            _set_keep_bias(model, cell, forget_bias)
        models[cell] = model
    return models


def keep_gate_at_rest(model):
    """The gate that keeps the memory, at zero input and zero state, from the NumPy cells:
    f of an LSTM (1 - i for CIFG), z of the GRU; (H,)."""
    params, H, D = model.numpy_params(), model.rnn.hidden_size, model.rnn.input_size
    x, zeros = np.zeros((1, D)), np.zeros((1, H))
    if model.cell == "gru":
        return gru_step_forward(x, zeros, params)[1].z[0]
    return lstm_step_forward(x, zeros, zeros, params, model.variant)[2].f[0]


def train_cells(
    delay=10,
    n_symbols=4,
    hidden_size=16,
    steps=200,
    n_seeds=6,
    forget_bias=None,
    batch=32,
    lr=1e-2,
    clip=1.0,
    cells=CELLS,
):
    """Train each cell on delayed recall from ``n_seeds`` seeds: ``{cell: {"accuracy", "loss"}}``.

    Run s trains on the harness's batches of seed s (the same for every cell) from the
    paired models of seed s, and is scored on the task's held-out data, in float32. The
    LSTMs of one kind train together as an :class:`Ensemble`; the GRUs (``torch.nn.GRU``,
    already fused by PyTorch) one after another.
    """
    cells = _check_cells(cells)
    D, O = n_symbols + 2, n_symbols
    seeds = model_seeds(n_seeds)

    def task(rng):
        return tasks.delayed_recall(batch, delay, n_symbols, rng=rng)

    x_test, y_test = harness.held_out(lambda rng: tasks.delayed_recall(1000, delay, n_symbols,
                                                                       rng=rng))
    draws = [harness.batches(task, s) for s in seeds]

    def stacked(step):
        xs, ys = zip(*(d(step) for d in draws), strict=True)
        return np.stack(xs), np.stack(ys)

    models = [paired_models(s, D, hidden_size, O, forget_bias, cells, torch.float32)
              for s in seeds]
    out = {}
    for cell in cells:
        if cell == "gru":
            scores = [_train_gru(m[cell], draw, steps, lr, clip, x_test, y_test)
                      for m, draw in zip(models, draws, strict=True)]
            out[cell] = {k: np.array([r[k] for r in scores]) for k in ("accuracy", "loss")}
        else:
            ens = Ensemble.from_models([m[cell] for m in models])
            train_ensemble(ens, stacked, steps, loss="ce", lr=lr, clip=clip)
            out[cell] = evaluate_ensemble(ens, x_test, y_test, loss="ce")
    return out


def _train_gru(model, draw, steps, lr, clip, x_test, y_test):
    """Train one GRU classifier as :func:`train_ensemble` trains each LSTM (Adam, each
    gradient clipped to norm ``clip``), in the model's precision; its test scores."""
    dtype = model.readout.weight.dtype
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for step in range(steps):
            x, y = draw(step)
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(torch.as_tensor(x, dtype=dtype)),
                                                     torch.as_tensor(y))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimiser.step()
        with torch.no_grad():
            out = model(torch.as_tensor(x_test, dtype=dtype))
            y = torch.as_tensor(y_test)
            return {"loss": float(torch.nn.functional.cross_entropy(out, y)),
                    "accuracy": float((out.argmax(dim=-1) == y).double().mean())}
    finally:
        torch.set_num_threads(threads)


def small_data(seed, n_train=24, length=20, n_val=500, n_test=2000):
    """The data of run ``seed``: ``{"train", "val", "test"}``, each ``(x, y)`` in float64.

    The training set is the run's first batch, ``batch_seed(seed, 0)``, and stays fixed;
    validation and test data are the harness's, the same for every run.
    """
    def task(n):
        return lambda rng: tasks.adding_problem(n, length, rng=rng, dtype=np.float64)

    return {
        "train": task(n_train)(harness.batch_seed(seed, 0)),
        "val": harness.validation(task(n_val)),
        "test": harness.held_out(task(n_test)),
    }


@torch.no_grad()
def mse(model, data):
    """Mean squared error of ``model`` on ``data = (x, y)``."""
    x, y = (torch.as_tensor(a, dtype=model.readout.weight.dtype) for a in data)
    return float(((model(x) - y) ** 2).mean())


def fit_fixed(models, datas, steps, lr=1e-2, weight_decay=0.0, record=()):
    """Train each model with full-batch Adam on its own fixed training set: the trained models.

    ``models`` are :class:`SequenceModel` of one cell (and variant); ``datas[k]`` is model
    k's :func:`small_data`. LSTMs train together as one :class:`Ensemble` (each with its own
    loss, gradient and Adam moments, so as if alone); GRUs one after another.
    ``weight_decay`` is Adam's L2 penalty. Returns ``(models, records)``: the trained
    models and, per model, ``{step: (train MSE, validation MSE)}`` at each step of
    ``record`` (after that many updates).
    """
    steps = check_int("steps", steps)
    record = sorted(check_int("record", r, 1, steps) for r in record)
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay: expected a number >= 0, got {weight_decay!r}")
    models, datas = list(models), list(datas)
    if len(models) != len(datas) or not models:
        raise ValueError(f"fit_fixed: expected one data set per model, got {len(models)} "
                         f"models and {len(datas)} data sets")
    if models[0].cell == "gru":
        out = [_fit(m, d, steps, lr, weight_decay, record)
               for m, d in zip(models, datas, strict=True)]
        return models, [r for _, r in out]
    ens = Ensemble.from_models(models)
    trained, records = _fit(ens, datas, steps, lr, weight_decay, record)
    return [trained.member(k) for k in range(len(models))], records


def _fit(model, datas, steps, lr, weight_decay, record):
    """The loop of :func:`fit_fixed` for one model, or an Ensemble with one data set each."""
    dtype = model.readout_weight.dtype if isinstance(model, Ensemble) else (
        model.readout.weight.dtype)

    def tensors(part):
        if isinstance(model, Ensemble):
            return tuple(torch.as_tensor(np.stack([d[part][j] for d in datas]), dtype=dtype)
                         for j in (0, 1))
        return tuple(torch.as_tensor(a, dtype=dtype) for a in datas[part])

    def errors(part):
        x, y = tensors(part)
        with torch.no_grad():
            return ((model(x) - y) ** 2).flatten(1 if isinstance(model, Ensemble) else 0
                                                 ).mean(-1).numpy()

    x, y = tensors("train")
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = {}
    try:
        for step in range(1, steps + 1):
            optimiser.zero_grad()
            losses = ((model(x) - y) ** 2).flatten(1 if isinstance(model, Ensemble) else 0
                                                   ).mean(-1)
            losses.sum().backward()  # model k's gradient is that of its own loss
            optimiser.step()
            if step in record:
                out[step] = (errors("train"), errors("val"))
    finally:
        torch.set_num_threads(threads)
    if isinstance(model, Ensemble):
        return model, [{s: (float(tr[k]), float(va[k])) for s, (tr, va) in out.items()}
                       for k in range(len(datas))]
    return model, {s: (float(tr), float(va)) for s, (tr, va) in out.items()}


def tune(grid=GRID, n_seeds=TUNING["n_seeds"], first=TUNING["first"], lr=1e-2,
         task=SMALL_TASK):
    """The standard cell's validation MSE over ``grid``: a list of rows
    ``{"hidden_size", "weight_decay", "forget_bias", "steps", "lr", "val": [per seed]}``."""
    seeds = model_seeds(n_seeds, first=first)
    datas = [small_data(s, **task) for s in seeds]
    rows = []
    for H, wd in itertools.product(grid["hidden_size"], grid["weight_decay"]):
        # The forget biases only set initial values: their models train in one stack.
        runs = list(itertools.product(grid["forget_bias"], range(len(seeds))))
        models = [paired_models(seeds[k], 2, H, 1, fb, cells=("standard",))["standard"]
                  for fb, k in runs]
        _, curves = fit_fixed(models, [datas[k] for _, k in runs], max(grid["checkpoints"]),
                              lr, wd, record=grid["checkpoints"])
        for fb in grid["forget_bias"]:
            mine = [c for (b, _), c in zip(runs, curves, strict=True) if b == fb]
            for steps in grid["checkpoints"]:
                rows.append(dict(hidden_size=H, weight_decay=wd, forget_bias=fb, steps=steps,
                                 lr=lr, val=[c[steps][1] for c in mine]))
    return rows


def choose(rows):
    """The setting of the row with the lowest mean validation MSE (the first of equals)."""
    best = min(rows, key=lambda r: float(np.mean(r["val"])))
    return {k: best[k] for k in ("hidden_size", "steps", "lr", "weight_decay", "forget_bias")}


def generalisation_gap(seeds, hidden_size=32, steps=300, lr=1e-2, weight_decay=0.0,
                       forget_bias=None, cells=CELLS, task=SMALL_TASK, first_record=100):
    """The paired small-data study: ``{cell: {key: array over seeds}}`` and the controls.

    For each seed the three cells (:func:`paired_models`) fit the run's fixed training set
    (:func:`small_data`) with :func:`fit_fixed`. Keys: ``train``, ``val``, ``test`` (MSE at
    the end), ``gap`` (test - train), ``untrained`` (test MSE of the model before training)
    and ``first_train`` (training MSE after ``first_record`` steps, for the slice test).
    ``out["mean_predictor"]["test"]`` is the test MSE of always answering the mean of the
    run's training targets.
    """
    cells = _check_cells(cells)
    seeds = [harness.check_seed(s) for s in seeds]
    first_record = min(first_record, steps)
    datas = [small_data(s, **task) for s in seeds]
    paired = [paired_models(s, 2, hidden_size, 1, forget_bias, cells) for s in seeds]
    out = {"mean_predictor": {"test": np.array(
        [float(((d["test"][1] - d["train"][1].mean()) ** 2).mean()) for d in datas])}}
    for cell in cells:
        models = [p[cell] for p in paired]
        untrained = [mse(m, d["test"]) for m, d in zip(models, datas, strict=True)]
        models, curves = fit_fixed(models, datas, steps, lr, weight_decay,
                                   record=(first_record,))
        row = {part: np.array([mse(m, d[part]) for m, d in zip(models, datas, strict=True)])
               for part in ("train", "val", "test")}
        row["gap"] = row["test"] - row["train"]
        row["untrained"] = np.array(untrained)
        row["first_train"] = np.array([c[first_record][0] for c in curves])
        out[cell] = row
    return out


def detectable_effect(n, alpha=0.05, power=0.8):
    """The smallest mean paired difference, in standard deviations of the differences, that
    a two-sided test at level ``alpha`` finds with probability ``power`` from ``n`` pairs
    (the normal approximation: (z_{1-alpha/2} + z_power) / sqrt(n))."""
    n = check_int("n", n, 2)
    z = NormalDist().inv_cdf
    return (z(1 - alpha / 2) + z(power)) / np.sqrt(n)


def save_results(results, path, **meta):
    """Store nested dicts of arrays as JSON (lists), with ``meta``."""

    def plain(obj):
        if isinstance(obj, dict):
            return {k: plain(v) for k, v in obj.items()}
        if isinstance(obj, list) and obj and isinstance(obj[0], dict):
            return [plain(v) for v in obj]
        return np.asarray(obj).tolist()

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "results": plain(results)}, indent=1) + "\n")


def load_results(path=RESULTS_FILE):
    """The stored results of ``scripts/run_coupled_gates.py``: ``(results, meta)``."""

    def arrays(obj):
        if isinstance(obj, dict):
            return {k: arrays(v) for k, v in obj.items()}
        if isinstance(obj, list) and obj and isinstance(obj[0], dict):
            return [arrays(v) for v in obj]
        return np.asarray(obj) if isinstance(obj, list) else obj

    payload = json.loads(Path(path).read_text())
    return arrays(payload["results"]), payload["meta"]
