"""The synthetic tasks and the training helper: shapes, seeds, meaning, and clear errors."""

import numpy as np
import pytest
import torch

from lstm_lessons.training import tasks
from lstm_lessons.training.loop import SequenceModel, evaluate, train


def test_adding_problem_target_is_the_sum_of_the_marked_values():
    x, y = tasks.adding_problem(16, 30, rng=3)
    assert x.shape == (30, 16, 2) and y.shape == (16, 1)
    assert np.all(x[:, :, 1].sum(axis=0) == 2)
    assert np.all(x[:15, :, 1].sum(axis=0) == 1)  # one mark in each half
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * x[:, :, 1]).sum(axis=0), rtol=1e-6)


def test_delayed_recall_layout():
    x, y = tasks.delayed_recall(8, delay=5, n_symbols=3, rng=1)
    assert x.shape == (7, 8, 5) and y.shape == (8,)
    np.testing.assert_array_equal(x[0, :, :3].argmax(axis=1), y)
    assert np.all(x[0, :, 3] == 1) and np.all(x[1:, :, 3] == 0)  # marker only at step 0
    assert np.all(x[-1, :, 4] == 1) and np.all(x[-1, :, :3] == 0)  # query, no symbol


def test_key_query_target_is_zero_until_the_query():
    x, y = tasks.key_query(10, 12, rng=2)
    assert x.shape == (12, 10, 3) and y.shape == (12, 10, 1)
    assert np.all(y[:-1] == 0)
    key = x[:, :, 1].argmax(axis=0)
    np.testing.assert_array_equal(y[-1, :, 0], x[key, np.arange(10), 0])
    assert np.all(key < 6) and np.all(np.abs(y[-1]) == 1)


def test_piecewise_constant_changes_only_at_change_points():
    x, y, changes = tasks.piecewise_constant(4, 500, p_change=0.05, noise=0.2, rng=5)
    assert x.shape == y.shape == (500, 4, 1) and changes.shape == (500, 4)
    jumps = np.diff(y[:, :, 0], axis=0) != 0
    np.testing.assert_array_equal(jumps, changes[1:])
    assert 0.15 < np.std(x - y) < 0.25


@pytest.mark.parametrize(
    "make", [lambda s: tasks.adding_problem(4, 10, rng=s), lambda s: tasks.key_query(4, 10, rng=s)]
)
def test_same_seed_same_data(make):
    a, b, c = make(7), make(7), make(8)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: tasks.adding_problem(0, 10), r"n: expected a positive integer, got 0"),
        (lambda: tasks.adding_problem(4, 1), r"T: expected an integer >= 2, got 1"),
        (lambda: tasks.delayed_recall(4, -1), r"delay: expected an integer >= 0, got -1"),
        (lambda: tasks.delayed_recall(4, 3, n_symbols=1), r"n_symbols: expected an integer >= 2"),
        (lambda: tasks.key_query(4, 2.5), r"T: expected an integer >= 3, got 2.5"),
        (
            lambda: tasks.piecewise_constant(4, 10, p_change=1.5),
            r"p_change: expected a probability",
        ),
        (
            lambda: tasks.piecewise_constant(4, 10, noise=-1),
            r"noise: expected a standard deviation",
        ),
        (lambda: SequenceModel(2, 4, 1, cell="lsmt"), r"cell: expected one of"),
        (lambda: SequenceModel(2, 4, 1, cell="gru", variant="cifg"), r"only the LSTM has variants"),
        (
            lambda: SequenceModel(2, 4, 1, variant="cifg", forget_bias=1.0),
            r"has no forget gate bias",
        ),
    ],
)
def test_bad_task_and_model_parameters_are_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_seed_type_is_rejected():
    with pytest.raises(TypeError, match=r"rng: expected an int seed or a numpy Generator, got str"):
        tasks.adding_problem(4, 10, rng="seed")


def test_training_is_seeded_and_learns_a_short_recall():
    def run():
        model = SequenceModel(6, 16, 4, cell="lstm", seed=3)
        history = train(
            model, lambda s: tasks.delayed_recall(32, 3, rng=s), 150, loss="ce", progress=False
        )
        return model, history

    (m1, h1), (_, h2) = run(), run()
    assert h1.loss == h2.loss  # bit-for-bit the same run
    acc = evaluate(m1, *tasks.delayed_recall(256, 3, rng=10**6), loss="ce")["accuracy"]
    assert acc > 0.95


def test_clipping_bounds_the_update_but_records_the_raw_norm():
    """One plain gradient step with lr = 1 moves the weights by the clipped gradient, whose
    norm is the clip (the raw one is far larger), while the history keeps the raw norm."""
    model = SequenceModel(2, 8, 1, cell="rnn", seed=0)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    history = train(
        model,
        lambda s: tasks.adding_problem(8, 20, rng=s),
        1,
        clip=1e-3,
        lr=1.0,
        optimizer="sgd",
        progress=False,
    )
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert history.grad_norm[0] > 0.1  # the raw norm, 100 times the clip
    assert float(torch.linalg.vector_norm(after - before)) == pytest.approx(1e-3, rel=1e-3)
    # Without clipping, the same step moves the weights by the raw norm.
    model = SequenceModel(2, 8, 1, cell="rnn", seed=0)
    train(
        model,
        lambda s: tasks.adding_problem(8, 20, rng=s),
        1,
        lr=1.0,
        optimizer="sgd",
        progress=False,
    )
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    step = float(torch.linalg.vector_norm(after - before))
    assert step == pytest.approx(history.grad_norm[0], rel=1e-3)


def test_forget_bias_sets_b_f_and_numpy_run_matches_torch():
    model = SequenceModel(3, 5, 1, cell="lstm", forget_bias=2.0, readout="all", seed=1)
    b = model.numpy_params()["b"]
    np.testing.assert_allclose(b[5:10], 2.0, rtol=1e-6)
    x, _ = tasks.key_query(2, 9, rng=0)
    hs, _, cache = model.run_numpy(x)
    with torch.no_grad():
        out = model.rnn(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(hs, out, atol=1e-5)
    assert np.all(cache.gate("f")[0] > 0.8)


def test_input_bias_sets_b_i_and_needs_an_input_gate():
    model = SequenceModel(3, 4, 1, input_bias=-2.0, forget_bias=3.0, seed=0)
    b = model.numpy_params()["b"]
    np.testing.assert_allclose(b[:4], -2.0, rtol=1e-6)
    np.testing.assert_allclose(b[4:8], 3.0, rtol=1e-6)
    with pytest.raises(ValueError, match=r"input_bias: a lstm \(nig\) has no input gate bias"):
        SequenceModel(3, 4, 1, variant="nig", input_bias=1.0)


def test_sgd_run_that_overflows_stops_at_the_first_non_finite_step():
    model = SequenceModel(2, 8, 1, cell="rnn", seed=0)
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(30.0)  # a recurrent matrix this large explodes at once
    history = train(
        model,
        lambda s: tasks.adding_problem(8, 40, rng=s),
        500,
        lr=10.0,
        optimizer="sgd",
        progress=False,
    )
    assert len(history.loss) < 500
    assert not np.isfinite(history.loss[-1]) or not np.isfinite(history.grad_norm[-1])
    assert np.all(np.isfinite(history.loss[:-1]))


def test_unknown_optimizer_is_rejected():
    model = SequenceModel(2, 4, 1, cell="rnn")
    with pytest.raises(
        ValueError, match=r"optimizer: expected one of \('adam', 'sgd'\), got 'rmsprop'"
    ):
        train(model, lambda s: tasks.adding_problem(4, 5, rng=s), 1, optimizer="rmsprop")


def test_a_model_stacks_layers_and_refuses_options_it_cannot_take():
    import torch

    from lstm_lessons.training.model import SequenceModel

    two = SequenceModel(3, 5, 1, cell="lstm", layers=2)
    assert two.rnn.num_layers == 2
    assert two(torch.zeros(4, 2, 3)).shape == (2, 1)
    with pytest.raises(ValueError, match="layers: expected an integer >= 1, got 0"):
        SequenceModel(3, 5, 1, layers=0)
    with pytest.raises(ValueError, match="cell_options: only the later cells"):
        SequenceModel(3, 5, 1, cell="lstm", cell_options={"k": 1})
    with pytest.raises(ValueError, match="numpy_params: expected one layer"):
        two.numpy_params()


@pytest.mark.parametrize("cell", ["mingru", "minlstm", "slstm", "mlstm", "ssm"])
def test_a_later_cell_trains_through_the_harness(cell):
    from lstm_lessons.training import harness, tasks

    task = lambda rng: tasks.adding_problem(8, 6, rng=rng)  # noqa: E731
    fitted = harness.fit(task, 2, seed=0, input_size=2, hidden_size=4, output_size=1,
                         cell=cell, layers=2)  # fmt: skip
    assert fitted.model.rnn.input_size == 2 and len(fitted.model.rnn.layers) == 2
    assert len(fitted.history.loss) == 2 and all(np.isfinite(fitted.history.loss))
