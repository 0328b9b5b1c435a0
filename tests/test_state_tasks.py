"""The parity task: its targets, its seeding, its length groups and its errors."""

import numpy as np
import pytest

from lstm_lessons.cells.parity import parity
from lstm_lessons.training.state_tasks import length_groups, parity_stream


def test_parity_stream_targets_are_the_running_parity():
    x, y = parity_stream(50, 30, rng=3)
    assert x.shape == (30, 50, 2) and x.dtype == np.float32 and y.shape == (30, 50)
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)  # one-hot: a 0 is an input too
    bits = x[..., 1].astype(np.int64)
    np.testing.assert_array_equal(y, parity(bits))
    # by hand on one stream: 1 0 1 1 -> 1 1 0 1
    stream = np.array([[1], [0], [1], [1]])
    np.testing.assert_array_equal(parity(stream)[:, 0], [1, 1, 0, 1])
    _, last = parity_stream(50, 30, rng=3, per_step=False)
    np.testing.assert_array_equal(last, y[-1])


def test_parity_stream_is_seeded_and_fair():
    a, ya = parity_stream(400, 40, rng=7)
    b, yb = parity_stream(400, 40, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a, parity_stream(400, 40, rng=8)[0])
    assert abs(a[..., 1].mean() - 0.5) < 0.02 and abs(ya.mean() - 0.5) < 0.02
    dense, _ = parity_stream(400, 40, rng=7, p_one=0.9)
    assert abs(dense[..., 1].mean() - 0.9) < 0.02


def test_length_groups_cover_inside_and_beyond():
    assert length_groups(20, 4) == {"1-20": (1, 20), "21-40": (21, 40), "41-80": (41, 80)}
    assert length_groups(5, 2) == {"1-5": (1, 5), "6-10": (6, 10)}


def test_errors_say_what_was_expected():
    with pytest.raises(ValueError, match="T: expected a positive integer, got 0"):
        parity_stream(4, 0)
    with pytest.raises(ValueError, match="p_one: expected a probability strictly between"):
        parity_stream(4, 5, p_one=1.0)
    with pytest.raises(TypeError, match="per_step: expected a bool"):
        parity_stream(4, 5, per_step="yes")
    with pytest.raises(TypeError, match="rng: expected an int seed"):
        parity_stream(4, 5, rng=1.5)
    with pytest.raises(ValueError, match="factor: expected a power of two"):
        length_groups(20, 3)
    with pytest.raises(ValueError, match="train_T: expected a positive integer"):
        length_groups(0)
