"""The training loop's optimiser: foreach kernels, the same weights as a loop over parameters."""

import pytest
import torch

from lstm_lessons.training import loop, tasks
from lstm_lessons.training.model import SequenceModel


@pytest.mark.parametrize("optimizer", sorted(loop.OPTIMIZERS))
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_foreach_gives_the_weights_of_a_loop_over_parameters_bit_for_bit(monkeypatch, optimizer,
                                                                         cell):  # fmt: skip
    def batches(step):
        return tasks.delayed_recall(16, 6, n_symbols=4, rng=step)

    def trained(foreach):
        model = SequenceModel(6, 8, 4, cell, seed=1)
        base = loop.OPTIMIZERS[optimizer]
        # Whatever foreach the loop asks for, this run gets ours.
        monkeypatch.setitem(loop.OPTIMIZERS, optimizer,
                            lambda params, lr, **_: base(params, lr=lr, foreach=foreach))
        loop.train(model, batches, 20, loss="ce", lr=0.05, clip=0.5, progress=False,
                   optimizer=optimizer)  # fmt: skip
        monkeypatch.undo()
        return list(model.parameters())

    fast, slow = trained(True), trained(False)
    assert not torch.equal(fast[0], SequenceModel(6, 8, 4, cell, seed=1).rnn.weight_ih_l0)
    for a, b in zip(fast, slow, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("optimizer", sorted(loop.OPTIMIZERS))
def test_a_non_finite_gradient_norm_stops_training_before_the_step(optimizer):
    # A readout weight of 1e18 keeps the loss finite (about 3e34) while the gradient of the
    # recurrent weights, about 1e18 times larger, overflows float32: the norm is inf, the loss
    # is not. Training must record that step and stop before the optimiser takes it, else the
    # weights turn to inf or NaN and every later record is NaN.
    model = SequenceModel(2, 8, 1, "lstm", seed=0)
    with torch.no_grad():
        model.readout.weight.fill_(1e18)
    before = [p.detach().clone() for p in model.parameters()]
    history = loop.train(model, lambda s: tasks.adding_problem(8, 10, rng=s), 5,
                         optimizer=optimizer, progress=False)  # fmt: skip
    assert history.loss == [pytest.approx(3.1646635e34, rel=1e-6)]
    assert history.grad_norm == [float("inf")]
    for a, b in zip(model.parameters(), before, strict=True):
        assert torch.equal(a, b)
