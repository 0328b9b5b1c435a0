"""State-tracking tasks, generated from a seed: the parity of a bit stream.

Conventions as :mod:`lstm_lessons.training.tasks`: ``rng`` is an int seed or a
``numpy.random.Generator``, inputs are time-major (T, N, D) float32, and the
same seed gives the same data.

- :func:`parity_stream`: bits in, the parity of all bits so far out, at every
  step (``per_step=True``, targets (T, N)) or at the last one (targets (N,)).
  The bit is one-hot over two channels, so that a 0 is an input too.
- :func:`length_groups`: which steps of a long stream lie inside the training
  lengths and which beyond, so that one stream of length ``factor * T_train``
  scores a model trained at ``T_train`` at every length up to it: the
  prediction at step t is the parity of a stream of length t.
"""

import numpy as np

from ..cells.validation import check_int
from ..cells.validation import check_rng as _rng


def parity_stream(n, T, rng=0, dtype=np.float32, per_step=True, p_one=0.5):
    """Bits and their running parity: x (T, n, 2), y (T, n) (or (n,) with ``per_step=False``).

    ``x[t, :, 1]`` is the bit at step t and ``x[t, :, 0]`` its complement; ``y[t]``
    is 1 where an odd number of ones came up to and including step t. Bits are 1
    with probability ``p_one``. Always answering 0 scores 50%: the chance level.
    """
    check_int("n", n, 1)
    check_int("T", T, 1)
    if not (isinstance(p_one, (int, float, np.floating)) and 0.0 < p_one < 1.0):
        raise ValueError(f"p_one: expected a probability strictly between 0 and 1, got {p_one!r}")
    if not isinstance(per_step, (bool, np.bool_)):
        raise TypeError(f"per_step: expected a bool, got {type(per_step).__name__}")
    rng = _rng(rng)
    bits = (rng.random((T, n)) < p_one).astype(np.int64)  # (T, n)
    x = np.stack([1 - bits, bits], axis=-1).astype(dtype)  # (T, n, 2)
    y = np.cumsum(bits, axis=0) % 2  # (T, n)
    return x, (y if per_step else y[-1])


def length_groups(train_T, factor=4):
    """Steps 1 .. factor * train_T in groups: the training lengths, then doublings beyond.

    Returns a dict of name -> (first, last) step (1-based, inclusive): ``"1-T"``
    for the training lengths, then ``"T+1-2T"``, ``"2T+1-4T"``, ... up to
    ``factor * train_T``. ``factor`` is a power of two, at least 2.
    """
    train_T = check_int("train_T", train_T, 1)
    factor = check_int("factor", factor, 2)
    if factor & (factor - 1):
        raise ValueError(f"factor: expected a power of two (2, 4, 8, ...), got {factor}")
    groups = {f"1-{train_T}": (1, train_T)}
    low = train_T
    while low < factor * train_T:
        groups[f"{low + 1}-{2 * low}"] = (low + 1, 2 * low)
        low *= 2
    return groups


__all__ = ["length_groups", "parity_stream"]
