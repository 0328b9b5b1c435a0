"""The experiment harness: how every experiment of the book seeds, trains and tests a model.

Every trained result in the book comes from the same recipe: build a
:class:`~lstm_lessons.training.model.SequenceModel` from a seed, train it
with :func:`~lstm_lessons.training.loop.train` on a fresh batch at every
step, and measure it on held-out data that no training batch can equal.
This module is the one place that recipe is written down, so that two
experiments cannot drift apart in how they derive their data seeds:

- :func:`batch_seed`: the seed of training batch ``step`` of run ``seed``,
  ``seed * SEED_STRIDE + step``. Runs with different seeds never share a
  batch, because a run's steps are numbered 0 .. ``SEED_STRIDE - 1`` at most.
  (Before the harness, some experiments used a stride of 100_003 and others
  1_000_003; the harness keeps the larger. Seed 0 draws the same batches
  under both.)
- :data:`HELD_OUT_SEED`: the seed of the held-out (test) data, and
  :data:`VALIDATION_SEED` the seed of the validation data on which an
  experiment may choose its settings. Seeds are below :data:`SEED_LIMIT`, so
  every batch seed is below ``SEED_LIMIT * SEED_STRIDE``, which is smaller than
  both: no training batch is drawn from them, and they differ from each other.
- :func:`batches`, :func:`validation` and :func:`held_out`: a task's training
  batches, its validation data and its held-out data, from a task function
  ``task(rng) -> (x, y)``.
- :func:`fit`: the seeded fit itself; returns the model and its
  :class:`~lstm_lessons.training.loop.History`.
- :func:`check_seed`: a run's seed, an integer in [0, SEED_LIMIT) (not a bool).
  The other integer checks are :func:`lstm_lessons.cells.validation.check_int`.

A task function draws one batch from an integer seed, for example
``lambda rng: tasks.adding_problem(32, 50, rng=rng)``; one that returns
more than ``(x, y)`` (like ``piecewise_constant``) is wrapped to drop the rest.
"""

from typing import NamedTuple

import numpy as np
import torch

from ..cells.validation import check_int
from .loop import LOSSES, History, train
from .model import SequenceModel

SEED_STRIDE = 1_000_003  # a prime above any run's number of steps
SEED_LIMIT = 2_000  # runs are seeded 0 .. SEED_LIMIT - 1
#: The seed of held-out data, above every batch seed: SEED_LIMIT * SEED_STRIDE < 2**31 - 1.
HELD_OUT_SEED = 2**31 - 1
#: The seed of validation data, for choosing settings: never a batch seed, never the test set's.
VALIDATION_SEED = 2**31 - 2


def check_seed(seed, name="seed"):
    """Check that ``seed`` is an integer in [0, SEED_LIMIT), not a bool; returns it as an int."""
    return check_int(name, seed, 0, SEED_LIMIT - 1)


def batch_seed(seed, step):
    """The data seed of training batch ``step`` (0, 1, ...) of the run seeded ``seed``."""
    seed = check_seed(seed)
    step = check_int("step", step, 0, SEED_STRIDE - 1)
    return seed * SEED_STRIDE + step


def batches(task, seed):
    """The training batches of run ``seed``: a function ``step -> task(batch_seed(seed, step))``.

    This is the ``batches`` argument that :func:`~lstm_lessons.training.loop.train` takes.
    """
    if not callable(task):
        raise TypeError(f"task: expected a function rng -> (x, y), got {type(task).__name__}")
    check_seed(seed)
    return lambda step: task(batch_seed(seed, step))


def validation(task):
    """The validation data of ``task``: ``task(VALIDATION_SEED)``, for choosing settings.

    Settings chosen here and scored on :func:`held_out` data are never chosen on the test set.
    """
    if not callable(task):
        raise TypeError(f"task: expected a function rng -> (x, y), got {type(task).__name__}")
    return task(VALIDATION_SEED)


def held_out(task):
    """The held-out data of ``task``: ``task(HELD_OUT_SEED)``, which no training batch equals."""
    if not callable(task):
        raise TypeError(f"task: expected a function rng -> (x, y), got {type(task).__name__}")
    return task(HELD_OUT_SEED)


class Fit(NamedTuple):
    """A trained model and the :class:`~lstm_lessons.training.loop.History` of its training."""

    model: SequenceModel
    history: History


def fit(
    task,
    steps,
    *,
    seed=0,
    model=None,
    loss="mse",
    lr=1e-2,
    clip=None,
    optimizer="adam",
    **model_args,
):
    """Train a seeded model on ``steps`` fresh batches of ``task``; returns :class:`Fit`.

    The model is ``SequenceModel(**model_args, seed=seed)`` (for example
    ``input_size=2, hidden_size=32, output_size=1, cell="lstm", forget_bias=2.0``),
    or ``model`` when the caller has built one (and set its weights) already.
    ``seed`` fixes the initial weights, the training batches (see
    :func:`batch_seed`) and torch's own random state during training; the
    same seed gives the same trained weights. ``loss``, ``lr``, ``clip`` and
    ``optimizer`` go to :func:`~lstm_lessons.training.loop.train`, which
    runs on one thread and without a progress bar.

    Before the first step, training batch 0 is checked against the model (and
    then trained on as drawn): a batch that is empty or holds a NaN or inf, an x
    whose last axis is not the model's input size, and targets that are not
    shaped like the model's output (for ``loss="mse"``) or are not class indices
    below ``output_size`` (for ``loss="ce"``) raise ValueError.
    """
    seed = check_seed(seed)
    steps = check_int("steps", steps)
    if steps > SEED_STRIDE:
        raise ValueError(f"steps: expected at most SEED_STRIDE={SEED_STRIDE} steps, got {steps}")
    if model is None:
        model = SequenceModel(**model_args, seed=seed)
    elif model_args:
        raise ValueError(
            f"model: got a model and model arguments {sorted(model_args)}; pass one or the other"
        )
    elif not isinstance(model, SequenceModel):
        raise TypeError(f"model: expected a SequenceModel or None, got {type(model).__name__}")
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
    draw = batches(task, seed)
    first = {0: draw(0)}  # checked here, and handed to training as it is: drawn once
    _check_first_batch(model, first[0], loss)
    history = train(
        model,
        lambda step: first.pop(step) if step in first else draw(step),
        steps,
        loss=loss,
        lr=lr,
        clip=clip,
        seed=seed,
        progress=False,
        optimizer=optimizer,
    )
    return Fit(model, history)


def _first_bad(a):
    where = tuple(int(k) for k in np.argwhere(~np.isfinite(a))[0])
    return f"{a[where]} at index {where}"


def _check_first_batch(model, batch, loss):
    """Cheap checks of training batch 0 against the model, before any step is taken.

    Without them a NaN or an empty batch trains to a loss of NaN in silence, and
    targets that are not shaped like the model's output are broadcast against it
    (torch only warns). Raises ValueError (TypeError for a batch that is not a
    pair) saying what was expected and what came.
    """
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        got = f"a {type(batch).__name__}" + (
            f" of {len(batch)} items" if isinstance(batch, (tuple, list)) else ""
        )
        raise TypeError(f"task: expected a function rng -> (x, y), got {got} from batch 0")
    x, y = (np.asarray(a) for a in batch)
    for name, a in (("x", x), ("y", y)):
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise TypeError(f"task: expected a numeric {name}, got dtype {a.dtype} in batch 0")
        if a.size == 0:
            raise ValueError(f"task: expected a non-empty {name}, got shape {a.shape} in batch 0")
        if not np.isfinite(a).all():
            raise ValueError(f"task: expected finite values in {name}, got {_first_bad(a)} "
                             f"in batch 0")  # fmt: skip
    D = model.rnn.input_size
    if x.ndim != 3 or x.shape[2] != D:
        raise ValueError(f"task: expected x of shape (T, N, D={D}), got {x.shape} in batch 0")
    with torch.no_grad():
        out = model(torch.as_tensor(np.asarray(x, dtype=np.float32)))
    out_shape = tuple(out.shape)
    if loss == "mse":
        if y.shape != out_shape:
            raise ValueError(
                f"y: expected targets of the model's output shape {out_shape} (output_size="
                f"{model.readout.out_features}), got {y.shape} in batch 0"
            )
        return
    # Cross-entropy: class scores on axis 1 (axis 0 for one sample), a class index per score row.
    axis = 1 if out.dim() > 1 else 0
    C = out_shape[axis]
    expected = out_shape[:axis] + out_shape[axis + 1 :]
    if y.shape != expected:
        raise ValueError(
            f"y: expected class indices of shape {expected} for the model's output "
            f"{out_shape} (classes on axis {axis}), got {y.shape} in batch 0"
        )
    if not np.all((y >= 0) & (y < C) & (y == np.round(y))):
        bad = y[~((y >= 0) & (y < C) & (y == np.round(y)))].flat[0]
        raise ValueError(
            f"y: expected class indices 0 .. {C - 1} (output_size={model.readout.out_features}), "
            f"got {bad} in batch 0"
        )


__all__ = [
    "HELD_OUT_SEED",
    "SEED_LIMIT",
    "SEED_STRIDE",
    "VALIDATION_SEED",
    "Fit",
    "batch_seed",
    "batches",
    "check_seed",
    "fit",
    "held_out",
    "validation",
]
