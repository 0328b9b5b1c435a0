"""Synthetic sequence tasks, generated from a seed: nothing is downloaded.

Every generator returns NumPy arrays, time-major like the cells: inputs
``x`` of shape (T, N, D) and targets whose shape each function states.
``rng`` may be a seed (int) or a ``numpy.random.Generator``; the same seed
always gives the same data.

- :func:`adding_problem`: add the two numbers that carry a marker; one target
  per sequence. This is the later form of the task (Le et al. 2015, Arjovsky
  et al. 2016), not Hochreiter & Schmidhuber's (1997) experiment 4.
- :func:`delayed_recall`: remember the symbol shown with a marker, ignore
  ``delay`` distractor symbols, name it when asked; one class per sequence.
- :func:`key_query`: the "trapdoor" task: store a value at KEY, output
  nothing until QUERY, then output the value; a target at every step.
- :func:`piecewise_constant`: a level that jumps now and then, seen through
  noise; the target at every step is the clean level.
"""

import numpy as np

from ..cells.validation import check_int
from ..cells.validation import check_rng as _rng


def adding_problem(n, T, rng=0, dtype=np.float32):
    """The adding problem: x (T, n, 2), y (n, 1).

    Channel 0 holds numbers drawn uniformly from [0, 1]; channel 1 marks two
    steps with 1, one in the first half and one in the second. The target is
    the sum of the two marked numbers. Predicting the mean, 1, gives a mean
    squared error of 1/6; a network that has learnt the task does far better.

    This is the form of Le et al. (2015) and Arjovsky et al. (2016). The original,
    experiment 4 of Hochreiter & Schmidhuber (1997), draws values from [-1, 1],
    puts the first marker within the first ten steps, and asks for
    0.5 + (X1 + X2) / 4.
    """
    check_int("n", n, 1)
    check_int("T", T, 2)
    rng = _rng(rng)
    values = rng.uniform(0.0, 1.0, size=(T, n))
    first = rng.integers(0, T // 2, size=n)
    second = rng.integers(T // 2, T, size=n)
    marks = np.zeros((T, n))
    cols = np.arange(n)
    marks[first, cols] = 1.0
    marks[second, cols] = 1.0
    x = np.stack([values, marks], axis=-1).astype(dtype)  # (T, n, 2)
    y = (values[first, cols] + values[second, cols])[:, None].astype(dtype)  # (n, 1)
    return x, y


def delayed_recall(n, delay, n_symbols=4, rng=0, dtype=np.float32):
    """Remember a marked symbol across ``delay`` distractors: x (delay + 2, n, K + 2), y (n,).

    With K = ``n_symbols``, channels 0..K-1 are a one-hot symbol, channel K
    marks the symbol to remember (step 0), channel K + 1 is the query (last
    step, where no symbol is shown). Steps 1..delay show random distractor
    symbols without the marker. ``y`` is the index of the marked symbol;
    chance accuracy is 1/K.
    """
    check_int("n", n, 1)
    check_int("delay", delay, 0)
    check_int("n_symbols", n_symbols, 2)
    rng = _rng(rng)
    K = n_symbols
    T = delay + 2
    symbols = rng.integers(0, K, size=(T - 1, n))  # step 0 is the one to remember
    x = np.zeros((T, n, K + 2), dtype=dtype)
    steps, cols = np.meshgrid(np.arange(T - 1), np.arange(n), indexing="ij")
    x[steps, cols, symbols] = 1.0
    x[0, :, K] = 1.0  # marker
    x[-1, :, K + 1] = 1.0  # query
    return x, symbols[0].astype(np.int64)


def key_query(n, T, rng=0, dtype=np.float32, distractors=True):
    """The trapdoor task: x (T, n, 3), y (T, n, 1).

    Channel 0 carries a value, channel 1 the KEY flag, channel 2 the QUERY
    flag. At one step in the first half the KEY flag is 1 and channel 0 holds
    the value to store, +1 or -1. The QUERY flag is 1 at the last step. The
    target is 0 at every step except the query, where it is the stored value,
    so a network must keep the value out of its output until it is asked.
    With ``distractors``, channel 0 holds random values in [-1, 1] at the
    other steps, which must not be stored.
    """
    check_int("n", n, 1)
    check_int("T", T, 3)
    rng = _rng(rng)
    key_step = rng.integers(0, T // 2, size=n)
    value = rng.choice([-1.0, 1.0], size=n)
    cols = np.arange(n)
    x = np.zeros((T, n, 3))
    if distractors:
        x[:, :, 0] = rng.uniform(-1.0, 1.0, size=(T, n))
    x[-1, :, 0] = 0.0
    x[key_step, cols, 0] = value
    x[key_step, cols, 1] = 1.0
    x[-1, :, 2] = 1.0
    y = np.zeros((T, n, 1))
    y[-1, :, 0] = value
    return x.astype(dtype), y.astype(dtype)


def piecewise_constant(n, T, p_change=0.02, noise=0.3, rng=0, dtype=np.float32):
    """A noisy piecewise-constant signal: x (T, n, 1), y (T, n, 1), changes (T, n).

    The level starts uniform in [-1, 1] and at each step, with probability
    ``p_change``, jumps to a new uniform level. ``x`` is the level plus
    Gaussian noise of standard deviation ``noise``; ``y`` is the clean level;
    ``changes[t]`` is True where a jump happened at step t.
    """
    check_int("n", n, 1)
    check_int("T", T, 1)
    if not 0.0 <= p_change <= 1.0:
        raise ValueError(f"p_change: expected a probability in [0, 1], got {p_change!r}")
    if not noise >= 0.0:
        raise ValueError(f"noise: expected a standard deviation >= 0, got {noise!r}")
    rng = _rng(rng)
    changes = rng.random((T, n)) < p_change
    changes[0] = False
    new_levels = rng.uniform(-1.0, 1.0, size=(T, n))
    # Each step's level is the new level drawn at the most recent change (or at step 0).
    last_change = np.maximum.accumulate(np.where(changes, np.arange(T)[:, None], 0), axis=0)
    level = new_levels[last_change, np.arange(n)]
    x = level + noise * rng.standard_normal((T, n))
    return x[..., None].astype(dtype), level[..., None].astype(dtype), changes
