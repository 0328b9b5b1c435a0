"""The experiment harness: one batch-seed convention, one held-out seed, a deterministic fit."""

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

import lstm_lessons
from lstm_lessons.cells.validation import check_index, check_int
from lstm_lessons.training import harness, tasks
from lstm_lessons.training.harness import (
    HELD_OUT_SEED,
    SEED_LIMIT,
    SEED_STRIDE,
    VALIDATION_SEED,
    batch_seed,
    batches,
    fit,
    held_out,
    validation,
)

EXPERIMENTS = Path(lstm_lessons.__file__).parent / "experiments"


def _adding(rng):
    return tasks.adding_problem(4, 6, rng=rng)


def _small_fit(seed):
    return fit(
        _adding, 5, seed=seed, input_size=2, hidden_size=3, output_size=1, cell="lstm", lr=0.05
    )


def test_batch_seed_is_seed_times_stride_plus_step():
    assert batch_seed(0, 0) == 0
    assert batch_seed(0, 7) == 7
    assert batch_seed(3, 7) == 3 * SEED_STRIDE + 7
    assert batch_seed(np.int64(2), np.int32(1)) == 2 * SEED_STRIDE + 1


def test_runs_with_different_seeds_never_share_a_batch_seed():
    # Steps stop below the stride, so seed * stride + step is one-to-one.
    a = {batch_seed(1, s) for s in (0, 1, SEED_STRIDE - 1)}
    b = {batch_seed(2, s) for s in (0, 1, SEED_STRIDE - 1)}
    assert not a & b
    with pytest.raises(ValueError, match="step: expected an integer between 0 and"):
        batch_seed(1, SEED_STRIDE)


def test_held_out_seed_is_above_every_batch_seed():
    assert batch_seed(SEED_LIMIT - 1, SEED_STRIDE - 1) < HELD_OUT_SEED
    with pytest.raises(
        ValueError, match=f"seed: expected an integer between 0 and {SEED_LIMIT - 1}"
    ):
        batch_seed(SEED_LIMIT, 0)
    with pytest.raises(ValueError, match="seed: expected an integer between 0 and"):
        batch_seed(-1, 0)


def test_held_out_data_never_equals_a_training_batch():
    x_test, y_test = held_out(_adding)
    np.testing.assert_array_equal(x_test, _adding(HELD_OUT_SEED)[0])
    for seed in (0, 1, SEED_LIMIT - 1):
        draw = batches(_adding, seed)
        for step in (0, 1, 2, 999):
            x, _ = draw(step)
            assert not np.array_equal(x, x_test)


def test_validation_data_is_neither_a_training_batch_nor_the_test_set():
    assert batch_seed(SEED_LIMIT - 1, SEED_STRIDE - 1) < VALIDATION_SEED < HELD_OUT_SEED
    x_val, _ = validation(_adding)
    np.testing.assert_array_equal(x_val, _adding(VALIDATION_SEED)[0])
    assert not np.array_equal(x_val, held_out(_adding)[0])
    for seed in (0, SEED_LIMIT - 1):
        assert not np.array_equal(batches(_adding, seed)(0)[0], x_val)
    with pytest.raises(TypeError, match="task: expected a function"):
        validation(None)


def test_batches_follow_the_convention():
    draw = batches(_adding, 2)
    np.testing.assert_array_equal(draw(5)[0], _adding(2 * SEED_STRIDE + 5)[0])


def test_same_seed_gives_the_same_weights_and_history():
    a, b, c = _small_fit(1), _small_fit(1), _small_fit(2)
    for (name, p), q in zip(
        a.model.state_dict().items(), b.model.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q), name
    assert a.history.loss == b.history.loss
    assert a.history.loss != c.history.loss
    assert len(a.history.loss) == 5


def test_fit_trains_the_model_it_is_given():
    model = harness.SequenceModel(2, 3, 1, seed=4)
    before = [p.detach().clone() for p in model.parameters()]
    result = fit(_adding, 3, seed=4, model=model)
    assert result.model is model
    assert any(not torch.equal(p, q) for p, q in zip(before, model.parameters(), strict=True))
    # Built from the same seed, a fresh model trains to the same weights.
    fresh = fit(_adding, 3, seed=4, input_size=2, hidden_size=3, output_size=1)
    for p, q in zip(model.parameters(), fresh.model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_fit_checks_the_first_batch_without_drawing_it_twice():
    # The check of batch 0 must hand that same batch to training: a task with state of its
    # own (here a call log) sees each batch seed once, in order, as without the check.
    seeds = []

    def logged(rng):
        seeds.append(rng)
        return _adding(rng)

    fit(logged, 3, seed=2, input_size=2, hidden_size=3, output_size=1)
    assert seeds == [batch_seed(2, step) for step in range(3)]


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: check_int("steps", True),
            ValueError,
            "steps: expected a positive integer, got True, a bool",
        ),
        (
            lambda: check_int("n", np.True_, 0),
            ValueError,
            r"n: expected an integer >= 0, got np.True_, a bool",
        ),
        (lambda: check_int("T", 2.0), ValueError, "T: expected a positive integer, got 2.0"),
        (lambda: check_int("T", 0), ValueError, "T: expected a positive integer, got 0"),
        (
            lambda: check_int("t", 5, 1, 4),
            ValueError,
            "t: expected an integer between 1 and 4, got 5",
        ),
        (
            lambda: check_index("unit", True, 3),
            ValueError,
            r"unit: expected an integer in \[0, 3\)",
        ),
        (lambda: check_index("unit", 3, 3), ValueError, r"unit: expected an integer in \[0, 3\)"),
        (lambda: batch_seed(False, 0), ValueError, "seed: expected .* got False, a bool"),
        (lambda: batch_seed(0, True), ValueError, "step: expected .* got True, a bool"),
        (lambda: _small_fit(True), ValueError, "seed: expected .* got True, a bool"),
        (
            lambda: fit(_adding, True, input_size=2, hidden_size=3, output_size=1),
            ValueError,
            "steps: expected a positive integer, got True, a bool",
        ),
        (
            lambda: fit(_adding, SEED_STRIDE + 1, input_size=2, hidden_size=3, output_size=1),
            ValueError,
            "steps: expected at most SEED_STRIDE",
        ),
        (lambda: batches("adding", 0), TypeError, "task: expected a function"),
        (lambda: held_out(None), TypeError, "task: expected a function"),
        (
            lambda: fit(_adding, 2, model=harness.SequenceModel(2, 3, 1), hidden_size=3),
            ValueError,
            "model: got a model and model arguments",
        ),
        (
            lambda: fit(_adding, 2, model=torch.nn.Linear(2, 1)),
            TypeError,
            "model: expected a SequenceModel",
        ),
    ],
)
def test_bad_arguments_get_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_check_int_accepts_numpy_integers_and_returns_an_int():
    assert check_int("n", np.int64(3)) == 3
    assert type(check_int("n", np.int64(3))) is int
    assert check_index("k", np.int32(2), 3) == 2


def _seeds_of_its_own(tree):
    """Where a module picks a data or weight seed itself instead of asking the harness.

    A name bound at module level that ends in SEED (TEST_SEED = 10**6), or a seeding call
    (``rng=``, ``seed=`` or ``random_state=`` arguments, ``default_rng``, ``manual_seed``)
    whose seed is a large constant or arithmetic on one (``rng=10**6 + step``).
    """
    found = [t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
             for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
             if isinstance(t, ast.Name) and t.id.upper().endswith("SEED")]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func).rsplit(".", 1)[-1]
        seeds = [kw.value for kw in node.keywords if kw.arg in ("rng", "seed", "random_state")]
        if name in ("default_rng", "manual_seed", "RandomState"):
            seeds += node.args[:1]
        for value in seeds:
            constants = [c.value for c in ast.walk(value) if isinstance(c, ast.Constant)
                         and isinstance(c.value, int) and not isinstance(c.value, bool)]
            if any(abs(c) >= 1000 for c in constants) or (
                constants and isinstance(value, ast.BinOp) and max(constants) >= 10):
                found.append(ast.unparse(value))
    return found


@pytest.mark.parametrize("path", sorted(EXPERIMENTS.glob("*.py")), ids=lambda p: p.name)
def test_experiments_spell_no_seed_conventions_of_their_own(path):
    """Data seeds, the held-out seed and integer checks come from one place each."""
    text = path.read_text()
    tree = ast.parse(text)
    known = ("100003", "1000003", "2**31")  # the harness's constants, in any spelling
    spelled = [k for k in known if k in text.replace("_", "").replace(" ", "")]
    assert not spelled, f"{path.name} spells a seed convention itself: {spelled}"
    own = _seeds_of_its_own(tree)
    assert not own, f"{path.name} picks seeds of its own: {own}; use the harness's"
    assert "np.integer" not in text, f"{path.name} checks an integer inline; use check_int"
