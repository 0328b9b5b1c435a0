"""Training E models stacked (lstm_lessons.training.ensemble) equals training each alone."""

import numpy as np
import pytest
import torch
from helpers import ALL_VARIANTS

from lstm_lessons.training import tasks
from lstm_lessons.training.ensemble import (
    Ensemble,
    evaluate_ensemble,
    model_seeds,
    train_ensemble,
)
from lstm_lessons.training.loop import evaluate, train
from lstm_lessons.training.model import SequenceModel


def _alone(model, batches, steps, loss, lr, clip):
    """The reference: one float64 model, torch's Adam and clip_grad_norm_, nothing shared."""
    torch.set_num_threads(1)  # as train() does: tiny models, and a second thread only spins
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    crit = torch.nn.functional.mse_loss if loss == "mse" else torch.nn.functional.cross_entropy
    for step in range(steps):
        x, y = batches(step)
        x = torch.as_tensor(x, dtype=torch.float64)
        y = torch.as_tensor(y, dtype=torch.int64 if loss == "ce" else torch.float64)
        optimiser.zero_grad()
        crit(model(x), y).backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimiser.step()
    return model


@pytest.mark.parametrize("variant", ALL_VARIANTS)
def test_each_member_equals_the_same_model_trained_alone_float64(variant):
    seeds = [3, 4, 5]

    def batches(step):
        return tasks.adding_problem(6, 8, rng=100 + step, dtype=np.float64)

    kwargs = dict(input_size=2, hidden_size=5, output_size=1, variant=variant)
    models = [SequenceModel(cell="lstm", seed=s, **kwargs).double() for s in seeds]
    ens = Ensemble.from_models(models)
    # clip 0.05 bites: each model is clipped by its own norm.
    histories = train_ensemble(ens, batches, 12, lr=0.05, clip=0.05)
    assert all(len(h.loss) == 12 and max(h.grad_norm) > 0.05 for h in histories)
    for k, s in enumerate(seeds):
        alone = _alone(SequenceModel(cell="lstm", seed=s, **kwargs).double(), batches, 12,
                       "mse", 0.05, 0.05)
        member = ens.member(k)
        for (name, p), q in zip(alone.named_parameters(), member.parameters(), strict=True):
            np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=0,
                                       atol=1e-10, err_msg=f"{variant} model {k}: {name}")


def test_members_with_batches_of_their_own_and_cross_entropy_equal_train():
    """float32, against the course's own train(): per-model data, class labels, Adam."""
    seeds = model_seeds(3, first=7)

    def data(step, k):
        return tasks.delayed_recall(8, 4, 3, rng=1000 * k + step)

    def stacked(step):
        xs, ys = zip(*(data(step, k) for k in range(3)), strict=True)
        return np.stack(xs), np.stack(ys)

    ens = Ensemble.create(5, 6, 3, seeds, "nig", forget_bias=1.0)
    train_ensemble(ens, stacked, 10, loss="ce", lr=0.02)
    x_test, y_test = tasks.delayed_recall(50, 4, 3, rng=99)
    ens_eval = evaluate_ensemble(ens, x_test, y_test, loss="ce")
    for k, s in enumerate(seeds):
        model = SequenceModel(5, 6, 3, "lstm", "nig", seed=s, forget_bias=1.0)
        train(model, lambda step, k=k: data(step, k), 10, loss="ce", lr=0.02, progress=False)
        for p, q in zip(model.parameters(), ens.member(k).parameters(), strict=True):
            np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), atol=2e-5)
        alone = evaluate(model, x_test, y_test, loss="ce")
        assert ens_eval["loss"][k] == pytest.approx(alone["loss"], abs=1e-4)
        assert ens_eval["accuracy"][k] == pytest.approx(alone["accuracy"], abs=1e-9)


def test_readout_at_every_step_matches_the_member():
    ens = Ensemble.create(3, 4, 2, [0, 1], "peephole", readout="all")
    x, _ = tasks.key_query(5, 9, rng=0)
    out = ens(torch.as_tensor(x))
    assert out.shape == (2, 9, 5, 2)
    for k in range(2):
        np.testing.assert_allclose(out[k].detach().numpy(),
                                   ens.member(k)(torch.as_tensor(x)).detach().numpy(), atol=1e-6)


def test_an_overflowing_member_stops_alone():
    ens = Ensemble.create(2, 3, 1, [0, 1])
    with torch.no_grad():
        ens.readout_weight[1] = float("inf")
    histories = train_ensemble(ens, lambda s: tasks.adding_problem(4, 5, rng=s), 3)
    assert len(histories[0].loss) == 3 and np.all(np.isfinite(histories[0].loss))
    assert len(histories[1].loss) == 1 and not np.isfinite(histories[1].loss[0])


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(TypeError, match="SequenceModel"):
        Ensemble([])
    with pytest.raises(ValueError, match="same cell, variant"):
        Ensemble([SequenceModel(2, 3, 1), SequenceModel(2, 3, 1, variant="cifg")])
    with pytest.raises(ValueError, match="LSTM models"):
        Ensemble([SequenceModel(2, 3, 1, cell="gru")])
    ens = Ensemble.create(2, 3, 1, [0, 1])
    with pytest.raises(ValueError, match=r"\(T, N, D\) or \(E=2"):
        ens(torch.zeros(3, 2, 4, 2))
    with pytest.raises(ValueError, match="index in"):
        ens.member(2)
    with pytest.raises(ValueError, match="positive integer"):
        train_ensemble(ens, lambda s: tasks.adding_problem(4, 5, rng=s), 0)
    with pytest.raises(ValueError, match="loss"):
        train_ensemble(ens, lambda s: tasks.adding_problem(4, 5, rng=s), 1, loss="l1")
    with pytest.raises(ValueError, match="positive number of models"):
        model_seeds(0)
