"""Tasks of storing and replacing items, generated from a seed: the xLSTM chapter's tasks.

Conventions of :mod:`lstm_lessons.training.tasks`: ``rng`` is an int seed or a
``numpy.random.Generator``, inputs x are time-major (T, N, D), one class index
per sequence as the target (N,), and the same seed gives the same data.

- :func:`associative_recall`: ``pairs`` key-value pairs are shown, one a step,
  then a query key; the target is the value stored under it. The keys of a
  sequence are distinct, the values are not.
- :func:`most_relevant`: items shown one a step, each with a relevance score;
  the target is the item with the highest score, so a later, more relevant
  item must replace the one kept so far, and a less relevant one must not.
"""

import numpy as np

from ..cells.validation import check_int
from ..cells.validation import check_rng as _rng


def associative_recall(n, pairs, n_keys=16, n_values=8, rng=0, dtype=np.float32):
    """Key-value recall: x (pairs + 1, n, K + V + 1), y (n,).

    With K = ``n_keys`` and V = ``n_values``, channels 0..K-1 are a one-hot key,
    K..K+V-1 a one-hot value, and channel K + V marks the query step (the last
    one, which shows a key and no value). Steps 0..pairs-1 each show a key and
    its value, the keys of a sequence drawn without replacement. ``y`` is the
    value stored under the queried key, a key drawn uniformly from the shown ones.
    Chance accuracy is 1/V.
    """
    check_int("n", n, 1)
    check_int("n_keys", n_keys, 2)
    check_int("n_values", n_values, 2)
    check_int("pairs", pairs, 1, n_keys)
    rng = _rng(rng)
    K, V, T = n_keys, n_values, pairs + 1
    keys = np.argsort(rng.random((n, K)), axis=1)[:, :pairs].T  # (pairs, n), distinct per column
    values = rng.integers(0, V, size=(pairs, n))
    asked = rng.integers(0, pairs, size=n)
    cols = np.arange(n)
    x = np.zeros((T, n, K + V + 1), dtype=dtype)
    steps = np.arange(pairs)[:, None]
    x[steps, cols, keys] = 1.0
    x[steps, cols, K + values] = 1.0
    x[-1, cols, keys[asked, cols]] = 1.0
    x[-1, :, K + V] = 1.0
    return x, values[asked, cols]


def most_relevant(n, T, n_symbols=8, rng=0, dtype=np.float32):
    """Keep the most relevant item: x (T, n, K + 1), y (n,).

    With K = ``n_symbols``, channels 0..K-1 show a one-hot symbol at every step
    and channel K its relevance, drawn uniformly from [0, 1). ``y`` is the symbol
    shown with the highest relevance (read at the last step). Chance accuracy
    is 1/K; always naming the last symbol scores about 1/T + (1 - 1/T)/K.
    """
    check_int("n", n, 1)
    check_int("T", T, 1)
    check_int("n_symbols", n_symbols, 2)
    rng = _rng(rng)
    K = n_symbols
    symbols = rng.integers(0, K, size=(T, n))
    relevance = rng.random((T, n))
    x = np.zeros((T, n, K + 1), dtype=dtype)
    steps, cols = np.meshgrid(np.arange(T), np.arange(n), indexing="ij")
    x[steps, cols, symbols] = 1.0
    x[:, :, K] = relevance
    return x, symbols[relevance.argmax(axis=0), np.arange(n)]


__all__ = ["associative_recall", "most_relevant"]
