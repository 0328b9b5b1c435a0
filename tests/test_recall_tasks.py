"""The xLSTM chapter's tasks: layout, targets, seeds and errors."""

import numpy as np
import pytest

from lstm_lessons.training.recall_tasks import associative_recall, most_relevant


def test_associative_recall_layout_and_target():
    x, y = associative_recall(50, 5, n_keys=7, n_values=3, rng=4)
    assert x.shape == (6, 50, 11) and y.shape == (50,) and x.dtype == np.float32
    keys = x[:-1, :, :7].argmax(axis=2)  # (5, 50)
    values = x[:-1, :, 7:10].argmax(axis=2)
    assert np.all(x[:-1, :, :7].sum(axis=2) == 1) and np.all(x[:-1, :, 7:10].sum(axis=2) == 1)
    assert all(len(set(keys[:, j])) == 5 for j in range(50))  # distinct keys per sequence
    assert np.all(x[:-1, :, 10] == 0) and np.all(x[-1, :, 10] == 1)  # the query flag
    assert np.all(x[-1, :, 7:10] == 0)  # no value at the query
    query = x[-1, :, :7].argmax(axis=1)
    where = np.argmax(keys == query, axis=0)
    assert np.all((keys == query).sum(axis=0) == 1)
    np.testing.assert_array_equal(y, values[where, np.arange(50)])


def test_most_relevant_target_is_the_symbol_with_the_highest_relevance():
    x, y = most_relevant(40, 9, n_symbols=5, rng=2)
    assert x.shape == (9, 40, 6) and y.shape == (40,)
    assert np.all(x[:, :, :5].sum(axis=2) == 1)
    r = x[:, :, 5]
    assert np.all((r >= 0) & (r < 1))
    best = r.argmax(axis=0)
    np.testing.assert_array_equal(y, x[best, np.arange(40), :5].argmax(axis=1))
    # the target is often not the last symbol: later items must not always win
    assert np.mean(best == 8) < 0.3


@pytest.mark.parametrize("task,args", [(associative_recall, (8, 3)), (most_relevant, (8, 6))])
def test_same_seed_same_data(task, args):
    a, b = task(*args, rng=11), task(*args, rng=np.random.default_rng(11))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], task(*args, rng=12)[0])


def test_errors_say_what_was_expected():
    with pytest.raises(ValueError, match="pairs: expected an integer between 1 and 4, got 5"):
        associative_recall(3, 5, n_keys=4)
    with pytest.raises(ValueError, match="n_values: expected an integer >= 2, got 1"):
        associative_recall(3, 2, n_values=1)
    with pytest.raises(ValueError, match="T: expected a positive integer, got 0"):
        most_relevant(3, 0)
    with pytest.raises(TypeError, match="rng: expected an int seed or a numpy Generator, got str"):
        most_relevant(3, 4, rng="7")
