"""Data for chapter 12's case studies, made from a seed or shipped: nothing is downloaded.

Shapes as in :mod:`lstm_lessons.training.tasks`: time-major inputs x (T, N, D).

- :func:`regime_returns`: daily returns of a market that switches between a
  calm and a volatile regime (a two-state Markov chain), with the regime at
  every step as the target.
- :func:`planted_motif`: DNA-like sequences over A, C, G, T in half of which a
  motif is planted, at a random position and with a mutation rate; the target
  is whether the motif is there.
- :func:`load_text`, :class:`CharVocab`, :func:`char_batches`: the shipped
  public-domain text (Genesis, King James Version, in the 1769 standard text
  with modern spelling; see ``lstm_lessons/data/README.md``) and next-character
  batches from it.
"""

from importlib import resources

import numpy as np

from ..cells.validation import check_int
from ..cells.validation import check_rng as _rng

BASES = "ACGT"
#: The planted motif: the bacterial Pribnow box (the -10 promoter element, about ten bases
#: upstream of the transcription start site).
MOTIF = "TATAAT"
#: The regime-switching market of :func:`regime_returns`: switch probability per step, and the
#: standard deviation and mean of a return in the calm (0) and the volatile (1) regime.
P_SWITCH = 0.02
SIGMAS = (0.5, 2.0)
DRIFTS = (0.05, -0.1)
TEXT_FILE = "genesis_kjv.txt"



def _check_probability(name, value):
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: expected a probability in [0, 1], got {value!r}")


def regime_returns(
    n, T, p_switch=P_SWITCH, sigmas=SIGMAS, drifts=DRIFTS, rng=0, dtype=np.float32
):
    """Returns of a regime-switching market: x (T, n, 1), regime (T, n), changes (T, n).

    The regime is a Markov chain over calm (0) and volatile (1): at each step
    it switches with probability ``p_switch``; the first regime is drawn with
    equal odds. In regime k a return is Gaussian with mean ``drifts[k]`` and
    standard deviation ``sigmas[k]`` (in per cent per day, say). ``changes[t]``
    is True where the regime switched at step t. Classifying the regime from
    the returns alone needs a memory of recent volatility.
    """
    check_int("n", n, 1)
    check_int("T", T, 1)
    _check_probability("p_switch", p_switch)
    if len(sigmas) != 2 or len(drifts) != 2 or min(sigmas) <= 0:
        raise ValueError(f"sigmas, drifts: expected two each, sigmas > 0, got {sigmas}, {drifts}")
    rng = _rng(rng)
    changes = rng.random((T, n)) < p_switch
    changes[0] = False
    start = rng.integers(0, 2, size=n)
    regime = (start + np.cumsum(changes, axis=0)) % 2  # (T, n)
    sigma, drift = np.asarray(sigmas)[regime], np.asarray(drifts)[regime]
    x = drift + sigma * rng.standard_normal((T, n))
    return x[..., None].astype(dtype), regime.astype(np.int64), changes


def planted_motif(n, T, motif=MOTIF, mutation_rate=0.0, p_present=0.5, rng=0, dtype=np.float32):
    """DNA-like sequences with a planted motif: x (T, n, 4), y (n,), start (n,).

    Bases are uniform over A, C, G, T, one-hot in that order. In each sequence,
    with probability ``p_present``, ``motif`` is written at a uniformly random
    start (``start``, -1 where there is none), and each of its bases is then
    replaced by a random different base with probability ``mutation_rate``.
    ``y`` is 1 where the motif was planted. A random sequence can also contain
    the motif by chance (about (T - m + 1) / 4^m of them, m the motif length).
    """
    check_int("n", n, 1)
    check_int("T", T, len(motif))
    if not motif or set(motif) - set(BASES):
        raise ValueError(f"motif: expected a non-empty string over {BASES!r}, got {motif!r}")
    _check_probability("mutation_rate", mutation_rate)
    _check_probability("p_present", p_present)
    rng = _rng(rng)
    m = len(motif)
    bases = rng.integers(0, 4, size=(T, n))
    y = rng.random(n) < p_present
    start = np.where(y, rng.integers(0, T - m + 1, size=n), -1)
    code = np.array([BASES.index(b) for b in motif])
    # A mutated base moves by 1, 2 or 3 places round the alphabet: always a different base.
    mutated = rng.random((m, n)) < mutation_rate
    shifts = rng.integers(1, 4, size=(m, n))
    planted = (code[:, None] + mutated * shifts) % 4  # (m, n)
    for col in np.flatnonzero(y):
        bases[start[col] : start[col] + m, col] = planted[:, col]
    x = np.eye(4, dtype=dtype)[bases]  # (T, n, 4)
    return x, y.astype(np.int64), start


def load_text():
    """The shipped text (Genesis, King James Version, 1769 standard text, ASCII) as one string."""
    return resources.files("lstm_lessons").joinpath("data", TEXT_FILE).read_text(encoding="ascii")


class CharVocab:
    """Characters to indices and back, in sorted order of the characters of ``text``."""

    def __init__(self, text):
        if not isinstance(text, str) or not text:
            raise ValueError(f"text: expected a non-empty string, got {type(text).__name__}")
        self.chars = sorted(set(text))
        self.index = {ch: k for k, ch in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        missing = set(text) - set(self.index)
        if missing:
            raise ValueError(f"text: characters not in the vocabulary: {sorted(missing)!r}")
        return np.array([self.index[ch] for ch in text], dtype=np.int64)

    def decode(self, codes):
        return "".join(self.chars[int(k)] for k in codes)


def char_batches(codes, n, T, rng=0):
    """Random windows of ``codes``: inputs (T, n) and next-character targets (T, n), int64."""
    check_int("n", n, 1)
    check_int("T", T, 1)
    codes = np.asarray(codes)
    if codes.ndim != 1 or len(codes) < T + 1:
        raise ValueError(
            f"codes: expected a 1-D array of at least T + 1 = {T + 1} codes, got {codes.shape}"
        )
    starts = _rng(rng).integers(0, len(codes) - T, size=n)
    windows = codes[starts[None, :] + np.arange(T + 1)[:, None]]  # (T + 1, n)
    return windows[:-1], windows[1:]
