"""Models trained side by side in one wide layer equal the same models trained alone."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from lstm_lessons.training import tasks
from lstm_lessons.training.harness import batch_seed, fit
from lstm_lessons.training.model import SequenceModel
from lstm_lessons.training.wide import SideBySide, fit_side_by_side

SEEDS = (3, 0, 7)


def recall_task(rng):
    return tasks.delayed_recall(8, 5, n_symbols=3, rng=rng)


def adding_task(rng):
    return tasks.adding_problem(8, 6, rng=rng)


def models(cell, readout="last", dtype=torch.float64, output_size=3, input_size=5):
    return [SequenceModel(input_size, 4, output_size, cell, readout=readout, seed=s).to(dtype)
            for s in SEEDS]  # fmt: skip


def alone(model, task, seed, steps, loss, lr, clip):
    """The reference: one model, torch's own clipping and Adam, in the model's dtype."""
    dtype = model.readout.weight.dtype
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    losses, norms = [], []
    for step in range(steps):
        x, y = task(batch_seed(seed, step))
        x = torch.as_tensor(x, dtype=dtype)
        y = torch.as_tensor(y, dtype=torch.int64 if loss == "ce" else dtype)
        optimiser.zero_grad()
        out = model(x)
        if loss == "ce":
            value = nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        else:
            value = ((out - y) ** 2).mean()
        value.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), clip if clip else math.inf)
        losses.append(value.item())
        norms.append(float(norm))
        optimiser.step()
    return losses, norms


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("clip", [None, 0.05])
def test_each_model_equals_the_same_model_trained_alone(cell, clip):
    steps = 8
    fits = fit_side_by_side(recall_task, models(cell), SEEDS, steps, loss="ce", lr=0.05,
                            clip=clip)  # fmt: skip
    for k, (trained, seed) in enumerate(zip(fits, SEEDS, strict=True)):
        reference = models(cell)[k]
        losses, norms = alone(reference, recall_task, seed, steps, "ce", 0.05, clip)
        np.testing.assert_allclose(trained.history.loss, losses, rtol=1e-10)
        np.testing.assert_allclose(trained.history.grad_norm, norms, rtol=1e-10)
        pairs = zip(trained.model.named_parameters(), reference.parameters(), strict=True)
        for (name, p), q in pairs:
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-9,
                                       atol=1e-12, err_msg=f"{cell} model {k}: {name}")  # fmt: skip
    if clip is not None:  # the clipping did act, on each model's own norm
        assert all(min(f.history.grad_norm) > clip for f in fits)


def test_a_readout_at_every_step_and_the_squared_loss():
    # The adding problem's target is one number per sequence; give each step a target instead.
    def every_step(rng):
        x, y = adding_task(rng)
        return x, np.repeat(y[None], x.shape[0], axis=0)

    fits = fit_side_by_side(every_step, models("lstm", "all", output_size=1, input_size=2),
                            SEEDS, 5, loss="mse", lr=0.02)  # fmt: skip
    for k, seed in enumerate(SEEDS):
        reference = models("lstm", "all", output_size=1, input_size=2)[k]
        losses, _ = alone(reference, every_step, seed, 5, "mse", 0.02, None)
        np.testing.assert_allclose(fits[k].history.loss, losses, rtol=1e-10)


def test_in_float32_it_follows_the_harness_fit():
    steps = 4
    side = fit_side_by_side(recall_task, models("rnn", dtype=torch.float32), SEEDS, steps,
                            loss="ce", lr=0.01, clip=1.0)  # fmt: skip
    for k, seed in enumerate(SEEDS):
        single = fit(recall_task, steps, seed=seed, model=models("rnn", dtype=torch.float32)[k],
                     loss="ce", lr=0.01, clip=1.0)  # fmt: skip
        np.testing.assert_allclose(side[k].history.loss, single.history.loss, rtol=1e-5)


def test_the_wide_layer_is_block_diagonal_and_gives_each_model_its_output():
    group = models("gru")
    wide = SideBySide(group)
    x = torch.randn(len(SEEDS), 6, 2, 5, dtype=torch.float64)
    out = wide(x)
    for k, model in enumerate(group):
        np.testing.assert_allclose(out[k].detach().numpy(), model(x[k]).detach().numpy(),
                                   rtol=1e-12)  # fmt: skip
    # Model 0's input does not reach model 1.
    y = x.clone()
    y[0] += 1.0
    assert torch.equal(wide(y)[1], out[1])


def test_the_off_diagonal_blocks_stay_zero_through_training():
    wide = SideBySide(models("lstm"))
    optimiser = torch.optim.Adam(wide.parameters(), lr=0.1)
    x = torch.randn(len(SEEDS), 4, 2, 5, dtype=torch.float64)
    for _ in range(3):
        optimiser.zero_grad()
        wide(x).pow(2).sum().backward()
        wide.clip_each_(None)
        optimiser.step()
    for name in ("weight_ih", "weight_hh", "readout_weight"):  # the biases have no off-blocks
        p, off = wide.parameters_by_name()[name], wide.owners[name] < 0
        assert off.any() and torch.all(p[off] == 0), name
        assert torch.all(p[~off] != 0), f"{name}: every model's own block trained"


def test_an_overflow_stops_the_run_with_a_clear_error():
    def huge(rng):
        x, y = adding_task(rng)
        return x, y * 1e30

    with pytest.raises(FloatingPointError, match="model 0 .*train it alone"):
        fit_side_by_side(huge, models("rnn", output_size=1, input_size=2, dtype=torch.float32),
                         SEEDS, 3, loss="mse")  # fmt: skip


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda g: g + [SequenceModel(5, 8, 3, "rnn")], "one shape"),
        (lambda g: [SequenceModel(5, 4, 3, "lstm", variant="cifg")] * 3, "standard cells"),
        (lambda g: [], "non-empty list"),
        (lambda g: ["model"], "non-empty list"),
    ],
)
def test_models_that_cannot_stand_side_by_side_are_rejected(change, message):
    group = change(models("rnn", dtype=torch.float32))
    with pytest.raises((ValueError, TypeError), match=message):
        fit_side_by_side(recall_task, group, list(range(len(group))), 2, loss="ce")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"seeds": (0, 1)}, "one per model"),
        ({"seeds": (0, 1, True)}, "seed"),
        ({"steps": 0}, "positive integer"),
        ({"steps": True}, "positive integer"),
        ({"loss": "l1"}, "loss"),
        ({"clip": 0}, "clip"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    args = {"seeds": SEEDS, "steps": 2, "loss": "ce"} | kwargs
    with pytest.raises(ValueError, match=message):
        fit_side_by_side(recall_task, models("rnn", dtype=torch.float32), args.pop("seeds"),
                         args.pop("steps"), **args)  # fmt: skip


def test_the_recall_sweep_trains_seeds_side_by_side_as_it_trains_them_alone():
    from lstm_lessons.experiments import rnn_memory as recall

    settings = dict(steps=3, batch_size=8, hidden_size=6)
    side = recall.train_recall_side_by_side("rnn", 4, (0, 1), **settings)
    for k, seed in enumerate((0, 1)):
        _, history = recall.train_recall("rnn", 4, seed=seed, **settings)
        np.testing.assert_allclose(side[k].history.loss, history.loss, rtol=1e-5)
    with pytest.raises(TypeError, match="expected settings among"):
        recall.train_recall_side_by_side("rnn", 4, (0, 1), step=3)


def test_the_adding_seeds_train_side_by_side_as_they_train_alone():
    from lstm_lessons.experiments import vanishing_gradients as gf

    side = gf.train_adding_seeds("rnn", 5, (0, 2), steps=3, hidden_size=6, batch_size=8)
    for (_, history), seed in zip(side, (0, 2), strict=True):
        _, alone_history = gf.train_adding("rnn", 5, seed=seed, steps=3, hidden_size=6,
                                           batch_size=8)  # fmt: skip
        np.testing.assert_allclose(history.loss, alone_history.loss, rtol=1e-5)
    with pytest.raises(TypeError, match="unknown settings"):
        gf.train_adding_seeds("rnn", 5, (0, 2), steps=3, hidden=6)
