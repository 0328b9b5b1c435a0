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

from ..cells.validation import check_int
from .loop import History, train
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
    history = train(
        model,
        batches(task, seed),
        steps,
        loss=loss,
        lr=lr,
        clip=clip,
        seed=seed,
        progress=False,
        optimizer=optimizer,
    )
    return Fit(model, history)


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
