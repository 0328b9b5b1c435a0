"""A small, seeded training loop for :class:`~lstm_lessons.training.model.SequenceModel`.

Shapes: inputs (T, N, D), time-major; targets as the model's readout gives them.

The progress bar is tqdm's; it stays silent where ``TQDM_DISABLE=1`` is set
(the book build and the tests set it) or with ``progress=False``.
"""

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ..cells.validation import check_int
from .model import CELLS, SequenceModel

LOSSES = ("mse", "ce")
OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


@dataclass
class History:
    """Per-step records of a training run; ``grad_norm`` is measured before clipping."""

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)


def _loss_fn(loss):
    if loss == "mse":
        return nn.functional.mse_loss
    if loss == "ce":
        return nn.functional.cross_entropy
    raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")


def _to_tensors(x, y, loss):
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64 if loss == "ce" else np.float32))
    return xt, yt


def train(
    model,
    batches,
    steps,
    loss="mse",
    lr=1e-2,
    clip=None,
    seed=0,
    progress=True,
    threads=1,
    optimizer="adam",
):
    """Train ``model`` for ``steps`` steps and return its :class:`History`.

    ``batches(step)`` returns the step's ``(x, y)`` as NumPy arrays, for
    example ``lambda s: adding_problem(32, 50, rng=s)``: fresh, seeded data
    at each step. ``clip`` is a maximum gradient norm (None: no clipping):
    a larger gradient g is rescaled to ``clip * g / ||g||`` before the step.
    ``optimizer`` is ``"adam"`` or ``"sgd"`` (plain gradient descent, whose
    step grows with the gradient, so that an exploding gradient shows).
    ``threads`` is torch's thread count during training: the course's models
    are so small that one thread is fastest, and a second one, spinning while
    it waits, slows training several-fold on a busy machine.

    A run whose loss or gradient overflows stops there: its last record is
    not finite, and every later step would be too.
    """
    check_int("steps", steps)
    if clip is not None and not clip > 0:
        raise ValueError(f"clip: expected a positive maximum norm or None, got {clip!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: expected one of {tuple(OPTIMIZERS)}, got {optimizer!r}")
    criterion = _loss_fn(loss)
    torch.manual_seed(seed)
    # foreach: one kernel per operation over all the parameters instead of a loop over them;
    # the same arithmetic, so the same trained weights, bit for bit (tests/test_loop.py), in
    # less time for these small models.
    optimiser = OPTIMIZERS[optimizer](model.parameters(), lr=lr, foreach=True)
    history = History()
    threads_before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        _run(model, batches, steps, loss, criterion, optimiser, clip, progress, history)
    finally:
        torch.set_num_threads(threads_before)
    return history


def _run(model, batches, steps, loss, criterion, optimiser, clip, progress, history):
    for step in tqdm(range(steps), disable=not progress, desc="training", leave=False):
        x, y = _to_tensors(*batches(step), loss)
        optimiser.zero_grad()
        value = criterion(model(x), y)
        value.backward()
        # With max_norm=inf, clip_grad_norm_ only measures: one code path for both cases.
        norm = nn.utils.clip_grad_norm_(model.parameters(), clip if clip else float("inf"))
        history.loss.append(value.item())
        history.grad_norm.append(float(norm))
        if not (np.isfinite(history.loss[-1]) and np.isfinite(history.grad_norm[-1])):
            break
        optimiser.step()


@torch.no_grad()
def evaluate(model, x, y, loss="mse"):
    """Loss on ``(x, y)``, and accuracy as well when ``loss == "ce"``."""
    xt, yt = _to_tensors(x, y, loss)
    out = model(xt)
    result = {"loss": float(_loss_fn(loss)(out, yt))}
    if loss == "ce":
        result["accuracy"] = float((out.argmax(dim=-1) == yt).float().mean())
    return result


__all__ = ["CELLS", "History", "OPTIMIZERS", "LOSSES", "SequenceModel", "evaluate", "train"]
