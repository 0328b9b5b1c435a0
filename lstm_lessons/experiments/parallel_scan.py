"""Chapter 14's experiments: the scan's numerics and cost (C26), what the minimal cells lose (C27).

Shapes: T steps, N batch, H hidden size.

Inside:

- :func:`underflow` (inputs from :func:`underflow_inputs`): the naive closed form (a plain
  cumulative product, then a division) against the log-space scan and the loop, in float32,
  as T grows: the product of many a < 1 underflows, and the closed form returns inf or nan
  where the log-space scan does not.
- :func:`operation_table`: the work and depth of the loop, Blelloch's scan and the
  Hillis-Steele scan from :func:`lstm_lessons.cells.scan.operation_counts`.
- :func:`marked_value`: the tasks of C27. A stream of values with two to four marked steps;
  the target is the value at the FIRST mark (whether to write depends on whether something
  is stored already: on the state) or at the LAST mark (a gate that opens on each mark,
  reading the input only, suffices).
- :func:`task_fn`: a task of C27 by name ("first", "last", or the adding problem).
- :func:`rule_errors`: the controls: the trivial predictor (0, the mean) and the best simple
  rules (the value at the last mark, the mean of the marked values) on each task.
- :func:`train_one`, :func:`train_cells`: the LSTM, minGRU and minLSTM, one and two layers,
  several seeds, seeded and tested by the harness; the held-out error of each run and of the
  same network untrained (:func:`held_out_error`).
- :func:`save_results`, :func:`load_results`: the precomputed sweep
  (``scripts/ch14_minimal_cells.py`` writes ``data/ch14_minimal_cells.json``).
"""

import json
from pathlib import Path

import numpy as np
import torch

from ..cells.scan import cumprod_scan, log_scan, loop_scan, operation_counts
from ..cells.validation import check_int
from ..training import harness, tasks
from ..training.model import SequenceModel

RESULTS_FILE = Path(__file__).resolve().parent / "data" / "ch14_minimal_cells.json"
#: The cells that C27 compares, as SequenceModel cell names.
CELLS = ("lstm", "mingru", "minlstm")
#: The C27 sweep: tasks, sizes and training (scripts/ch14_minimal_cells.py runs it). Each
#: model (task, cell, layers) takes the learning rate of ``lrs`` whose run of seed 0 has the
#: lowest error on the task's validation data (:func:`choose_lr`); the test data is never used.
SWEEP = dict(layers={"first": (1, 2), "last": (1, 2), "adding": (1,)}, seeds=(0, 1, 2, 3),
             T=20, hidden_size=24, steps=1500, batch=64, lrs=(1e-2, 3e-3, 1e-3))
#: The held-out batch size of every task.
N_TEST = 1000


UNDERFLOW = dict(lengths=(64, 256, 1024, 4096, 16384), N=4, H=16, low=0.9, high=0.99, seed=0)


def underflow_inputs(T, N=UNDERFLOW["N"], H=UNDERFLOW["H"], low=UNDERFLOW["low"],
                     high=UNDERFLOW["high"], seed=UNDERFLOW["seed"]):
    """a ~ U(low, high) and b ~ N(0, 1), each (T, N, H) float64. :func:`underflow` draws them
    once at its longest T and takes the first T steps for each shorter one."""
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, (T, N, H)), rng.standard_normal((T, N, H))


def underflow(lengths=UNDERFLOW["lengths"], N=UNDERFLOW["N"], H=UNDERFLOW["H"],
              low=UNDERFLOW["low"], high=UNDERFLOW["high"], seed=UNDERFLOW["seed"]):
    """float32: the share of non-finite outputs and the worst error of each form, against T.

    a_t ~ U(low, high), b_t ~ N(0, 1); the reference is the loop in float64. Returns a list
    of rows ``{"T", "log_a_star_min", "cumprod_nonfinite", "cumprod_error", "log_error",
    "loop_error"}`` (errors: max |h - h_ref| over the finite entries, relative to max |h_ref|;
    nan when none is finite). ``log_a_star_min`` is the smallest log of the cumulative product:
    float32 underflows below about -103.3 (its smallest subnormal is 1.4e-45).
    """
    T_max = max(check_int("T", T) for T in lengths)
    a64, b64 = underflow_inputs(T_max, N, H, low, high, seed)
    rows = []
    for T in lengths:
        a, b = a64[:T], b64[:T]
        ref = loop_scan(a, b)
        scale = np.abs(ref).max()
        row = {"T": int(T), "log_a_star_min": float(np.log(a).sum(axis=0).min())}
        for name, form in (("cumprod", cumprod_scan), ("log", log_scan), ("loop", loop_scan)):
            h = form(a.astype(np.float32), b.astype(np.float32)).astype(np.float64)
            ok = np.isfinite(h)
            if name == "cumprod":
                row["cumprod_nonfinite"] = float(1.0 - ok.mean())
            err = np.abs(h - ref)[ok]
            row[f"{name}_error"] = float(err.max() / scale) if err.size else float("nan")
        rows.append(row)
    return rows


def operation_table(lengths=(64, 256, 1024, 4096, 16384)):
    """Rows ``{"T", "<form>_ops", "<form>_depth"}`` for the loop, Blelloch and Hillis-Steele."""
    rows = []
    for T in lengths:
        row = {"T": int(T)}
        for form in ("loop", "blelloch", "hillis_steele"):
            counts = operation_counts(T, form)
            row[f"{form}_ops"], row[f"{form}_depth"] = counts["ops"], counts["depth"]
        rows.append(row)
    return rows


def marked_value(n, T, which="first", rng=0, dtype=np.float32):
    """A stream of values with 2 to 4 marked steps; the target is the value at the first/last mark.

    x (T, n, 2): channel 0 a value ~ U(-1, 1) at every step, channel 1 the mark (0 or 1);
    the marks fall at distinct random steps. y (n, 1): the value at the first mark
    (``which="first"``: a later mark must be ignored, so whether to store depends on what is
    stored) or at the last (``which="last"``: store at every mark, overwriting).
    """
    if which not in ("first", "last"):
        raise ValueError(f"which: expected 'first' or 'last', got {which!r}")
    n, T = check_int("n", n), check_int("T", T, low=4)
    rng = np.random.default_rng(rng)
    x = np.zeros((T, n, 2), dtype=dtype)
    x[:, :, 0] = rng.uniform(-1.0, 1.0, (T, n))
    k = rng.integers(2, 5, n)  # marks per sequence
    order = np.argsort(rng.random((n, T)), axis=1)  # a random permutation of the steps per row
    y = np.empty((n, 1), dtype=dtype)
    for j in range(n):
        steps = np.sort(order[j, : k[j]])
        x[steps, j, 1] = 1.0
        y[j, 0] = x[steps[0] if which == "first" else steps[-1], j, 0]
    return x, y


def task_fn(name, T=SWEEP["T"], batch=SWEEP["batch"]):
    """The task ``rng -> (x, y)`` of C27 by name: "first", "last" or "adding"."""
    if name in ("first", "last"):
        return lambda rng: marked_value(batch, T, name, rng=rng)
    if name == "adding":
        return lambda rng: tasks.adding_problem(batch, T, rng=rng)
    raise ValueError(f"task: expected 'first', 'last' or 'adding', got {name!r}")


def rule_errors(name, T=SWEEP["T"]):
    """Held-out MSE of the controls: the mean (0 for the marked tasks, the targets' mean for
    adding), the value at the last mark, and the mean of the marked values."""
    x, y = harness.held_out(task_fn(name, T, N_TEST))
    y = y[:, 0].astype(np.float64)
    out = {"mean": float(np.mean((y - y.mean()) ** 2))}
    if name in ("first", "last"):
        mark = x[:, :, 1].astype(bool)
        last = np.array([x[np.flatnonzero(mark[:, j])[-1], j, 0] for j in range(y.size)])
        mean = (x[:, :, 0] * mark).sum(0) / mark.sum(0)
        out["last_mark"] = float(np.mean((y - last) ** 2))
        out["mean_of_marks"] = float(np.mean((y - mean) ** 2))
    return out


def held_out_error(model, name, T=SWEEP["T"], data=harness.held_out):
    """Held-out MSE of a trained model on task ``name`` (``data=harness.validation``: on the
    validation data instead)."""
    x, y = data(task_fn(name, T, N_TEST))
    with torch.no_grad():
        pred = model(torch.as_tensor(x)).numpy()
    return float(np.mean((pred.astype(np.float64) - y) ** 2))


def train_one(name, cell, layers, seed, lr, T=SWEEP["T"], hidden_size=SWEEP["hidden_size"],
              steps=SWEEP["steps"], batch=SWEEP["batch"]):
    """One run: ``{"lr", "validation_mse", "test_mse", "untrained_mse"}``."""
    torch.set_num_threads(1)
    untrained = SequenceModel(2, hidden_size, 1, cell=cell, layers=layers, seed=seed)
    model = harness.fit(task_fn(name, T, batch), steps, seed=seed, loss="mse", lr=lr,
                        input_size=2, hidden_size=hidden_size, output_size=1, cell=cell,
                        layers=layers).model  # fmt: skip
    return {"lr": lr, "validation_mse": held_out_error(model, name, T, harness.validation),
            "test_mse": held_out_error(model, name, T),
            "untrained_mse": held_out_error(untrained, name, T)}


def choose_lr(name, cell, layers, lrs=SWEEP["lrs"], **kwargs):
    """(chosen lr, the runs of seed 0 at every lr): the lr of least validation error."""
    runs = [train_one(name, cell, layers, 0, lr, **kwargs) for lr in lrs]
    best = min(runs, key=lambda run: run["validation_mse"])
    return best["lr"], runs


def train_cells(layers=SWEEP["layers"], cells=CELLS, seeds=SWEEP["seeds"], lrs=SWEEP["lrs"],
                **kwargs):  # fmt: skip
    """The sweep: ``{task: {"rules": ..., "choice": ..., cell: {layers: [run, ...]}}}``.

    ``layers`` maps each task name to the numbers of layers to train. For each model the
    learning rate is chosen first (:func:`choose_lr`); ``choice[cell][layers]`` keeps the
    validation runs of that choice, and the seeds are then trained at the chosen rate (seed 0's
    run of the choice is reused).
    """
    units = [(name, cell, L) for name, depths in layers.items() for cell in cells for L in depths]
    return collect(units, [train_model(*u, seeds, lrs, **kwargs) for u in units], **kwargs)


def train_model(name, cell, layers, seeds=SWEEP["seeds"], lrs=SWEEP["lrs"], **kwargs):
    """One model of the sweep: ``{"lr", "choice": runs of seed 0 at every lr, "runs"}``."""
    lr, tried = choose_lr(name, cell, layers, lrs, **kwargs)
    first = next(run for run in tried if run["lr"] == lr)
    runs = [first if s == 0 else train_one(name, cell, layers, s, lr, **kwargs) for s in seeds]
    return {"lr": lr, "choice": tried, "runs": runs}


def collect(units, models, **kwargs):
    """The sweep's results from ``units`` (task, cell, layers) and their :func:`train_model`."""
    out = {}
    for (name, cell, L), model in zip(units, models, strict=True):
        task = out.setdefault(name, {"rules": rule_errors(name, kwargs.get("T", SWEEP["T"])),
                                     "choice": {}})  # fmt: skip
        task.setdefault(cell, {})[str(L)] = model["runs"]
        task["choice"].setdefault(cell, {})[str(L)] = {"lr": model["lr"], "runs": model["choice"]}
    return out


def save_results(results, path=RESULTS_FILE, **meta):
    Path(path).write_text(json.dumps({"meta": meta, "results": results}, indent=1) + "\n")


def load_results(path=RESULTS_FILE):
    """The stored C27 sweep of ``scripts/ch14_minimal_cells.py``: ``{"meta", "results"}``."""
    return json.loads(Path(path).read_text())
