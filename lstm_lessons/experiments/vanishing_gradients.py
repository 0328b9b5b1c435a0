"""Gradients through time in a simple RNN: why they vanish or explode, and what helps.

Shapes: N batch size, T number of steps, D input size, H hidden size.

A simple RNN computes h_j = tanh(a_j) with a_j = x_j W_x + h_{j-1} W_h + b.
Backpropagation through time (BPTT) takes one step back with the chain rule;
gradients are row vectors, like the states, so each factor multiplies from
the right:

    dL/dh_{j-1} = (dL/dh_j * (1 - h_j^2)) W_h^T = dL/dh_j diag(1 - h_j^2) W_h^T.

For a loss that reads only h_T, the gradient at step t is therefore

    dL/dh_t = dL/dh_T J_T J_{T-1} ... J_{t+1},   J_j = diag(1 - h_j^2) W_h^T,

a product of T - t Jacobians. Because 0 < 1 - h^2 <= 1 (tanh' is at most 1,
at h = 0), each factor has spectral norm at most ||W_h||_2, the largest
singular value of W_h, and

    ||dL/dh_t|| <= ||dL/dh_T|| ||W_h||_2^(T - t)                (the bound)

(Bengio, Simard & Frasconi 1994; Pascanu, Mikolov & Bengio 2013). Whether the
product shrinks or grows over many steps is set by the spectral radius of
W_h (its largest |eigenvalue|) and by how far the tanh units are from
saturation.

What is inside:

- :func:`matrix_with_spectral_radius`: a random W_h with a chosen spectral
  radius, orthogonal (all singular values equal, so the bound is tight) or
  Gaussian (non-normal, so ||W_h||_2 is larger than the spectral radius).
- :func:`gradient_norms_through_time`: ||dL/dh_t|| against the distance
  T - t for any simple RNN and input, computed by the package's own BPTT,
  :func:`lstm_lessons.cells.rnn.rnn_backward`.
- :func:`rnn_gradient_norms`: the same for a network built around a given
  W_h, with inputs of a chosen size (small: linear tanh; large: saturated).
- :func:`jacobian_bound`: ||W_h||_2^(T - t).
- :func:`clipping_experiment`: a simple RNN whose gradients explode, trained
  by plain SGD with or without gradient-norm clipping (Pascanu et al. 2013).
- :func:`train_adding` (:func:`train_adding_seeds` for several seeds) and
  :func:`adding_mse`: the adding problem of
  Hochreiter & Schmidhuber (1997), on which an LSTM learns long-range sums
  that a simple RNN does not.
"""

from typing import NamedTuple

import numpy as np
import torch

from ..cells.bptt import gradient_norms_through_time
from ..cells.rnn import rnn_forward
from ..cells.validation import check_int, check_positive
from ..training import tasks
from ..training.harness import HELD_OUT_SEED, check_seed, fit
from ..training.loop import evaluate
from ..training.model import SequenceModel
from ..training.wide import fit_side_by_side

MATRIX_KINDS = ("orthogonal", "gaussian")


def matrix_with_spectral_radius(H, rho, *, kind="orthogonal", seed=0):
    """A random (H, H) matrix whose spectral radius (largest |eigenvalue|) is ``rho``.

    ``kind="orthogonal"``: ``rho`` times a random orthogonal matrix. Every
    singular value, and every |eigenvalue|, equals ``rho``, so ||W||_2 = rho.
    ``kind="gaussian"``: a matrix of independent normal entries, rescaled to
    spectral radius ``rho``. It is far from orthogonal: its largest singular
    value is about twice its spectral radius.
    """
    check_int("H", H)
    check_positive("rho", rho)
    if kind not in MATRIX_KINDS:
        raise ValueError(f"kind: expected one of {MATRIX_KINDS}, got {kind!r}")
    A = np.random.default_rng(seed).standard_normal((H, H))
    if kind == "orthogonal":
        Q, R = np.linalg.qr(A)
        # Fixing the signs of R's diagonal makes Q uniformly distributed (Haar).
        return rho * Q * np.sign(np.diag(R))
    return rho * A / np.abs(np.linalg.eigvals(A)).max()


class GradientNorms(NamedTuple):
    """Results of :func:`rnn_gradient_norms`.

    ``distance`` (T + 1,) is T - t = 0, 1, ..., T; ``norms`` (T + 1, N) is
    ||dL/dh_t|| of each sequence at that distance (1 at distance 0);
    ``slope`` (T,) is the mean tanh slope 1 - h_t^2 at steps t = 1..T, over
    sequences and units: 1 in the linear regime, near 0 in saturation.
    """

    distance: np.ndarray
    norms: np.ndarray
    slope: np.ndarray


def rnn_gradient_norms(W_h, T, *, input_scale=0.01, N=16, seed=0):
    """||dL/dh_t|| against T - t for a simple RNN with recurrent weights ``W_h`` (H, H).

    The network has D = H inputs, W_x = ``input_scale`` times the identity
    and b = 0, so each unit receives Gaussian noise of standard deviation
    ``input_scale``; h_0 = 0. A small scale keeps the units near h = 0, where
    tanh is linear; a scale near 1 saturates them. The loss L = sum_n u_n . h_T
    reads the last state through random unit vectors u_n, so ||dL/dh_T|| = 1.
    """
    W_h = np.asarray(W_h, dtype=np.float64)
    if W_h.ndim != 2 or W_h.shape[0] != W_h.shape[1]:
        raise ValueError(f"W_h: expected a square (H, H) matrix, got shape {W_h.shape}")
    check_int("T", T)
    check_int("N", N)
    if isinstance(input_scale, bool) or not (np.isfinite(input_scale) and input_scale >= 0):
        raise ValueError(f"input_scale: expected a number >= 0, got {input_scale!r}")
    H = W_h.shape[0]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, H))
    u = rng.standard_normal((N, H))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    params = {"W_x": input_scale * np.eye(H), "W_h": W_h, "b": np.zeros(H)}
    h0 = np.zeros((N, H))
    norms = gradient_norms_through_time(params, x, h0, u)
    hs, _ = rnn_forward(x, h0, params)
    return GradientNorms(np.arange(T + 1), norms, (1.0 - hs**2).mean(axis=(1, 2)))


def jacobian_bound(W_h, distances):
    """The bound ||W_h||_2^k on ||dL/dh_{T-k}|| / ||dL/dh_T|| for each distance k."""
    W_h = np.asarray(W_h, dtype=np.float64)
    if W_h.ndim != 2 or W_h.shape[0] != W_h.shape[1]:
        raise ValueError(f"W_h: expected a square (H, H) matrix, got shape {W_h.shape}")
    distances = np.asarray(distances)
    if distances.size and (distances.min() < 0 or not np.all(np.isfinite(distances))):
        raise ValueError("distances: expected finite distances T - t >= 0")
    # max tanh' = 1, so the singular value alone bounds each factor.
    return np.linalg.norm(W_h, ord=2) ** distances


def _rnn_with_radius(hidden_size, radius, seed):
    model = SequenceModel(2, hidden_size, 1, cell="rnn", seed=seed)
    W_h = matrix_with_spectral_radius(hidden_size, radius, seed=seed)
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(torch.from_numpy(W_h.T))  # torch stores W_h^T
    return model


def clipping_experiment(
    clip,
    *,
    T=50,
    steps=200,
    lr=0.1,
    hidden_size=32,
    batch_size=32,
    radius=1.2,
    seed=0,
):
    """Train a simple RNN on the adding problem by plain SGD, clipping or not.

    The recurrent matrix starts as ``radius`` times a random orthogonal
    matrix: with radius > 1, the first gradients are already large and the
    first large steps make them larger. ``clip`` is the maximum gradient
    norm (None: no clipping). Each step computes g, rescales it to
    ``clip * g / ||g||`` when ||g|| > ``clip``, and moves the weights by
    ``-lr`` times the result (Pascanu, Mikolov & Bengio 2013, algorithm 2).

    Plain SGD rather than Adam, which divides every step by a running
    gradient scale and so hides most of the effect. Returns a
    :class:`~lstm_lessons.training.loop.History`; its ``grad_norm`` is measured
    before clipping, and a run that overflows stops with ``nan`` or ``inf``.
    """
    if clip is not None:
        check_positive("clip", clip)
    check_positive("lr", lr)
    check_positive("radius", radius)
    for name, value in (("T", T), ("hidden_size", hidden_size), ("batch_size", batch_size)):
        check_int(name, value)
    model = _rnn_with_radius(hidden_size, radius, check_seed(seed))
    return fit(
        lambda rng: tasks.adding_problem(batch_size, T, rng=rng),
        steps,
        seed=seed,
        model=model,
        lr=lr,
        clip=clip,
        optimizer="sgd",
    ).history


# Each cell's learning rate for the adding problem: of 1e-2 and 3e-2, the larger
# made the simple RNN's training erratic even at T = 10, and the smaller kept the
# LSTM on its initial plateau for most of the budget at T = 50.
#: Each cell's learning rate on the adding problem.
ADDING_LR = {"rnn": 1e-2, "lstm": 3e-2}
#: The MSE of always answering 1, the mean of the target.
ADDING_BASELINE = 1.0 / 6.0


def train_adding(
    cell, T, *, seed=0, steps=600, hidden_size=32, batch_size=32, lr=None, forget_bias=2.0
):
    """Train ``SequenceModel(2, hidden_size, 1, cell)`` on ``adding_problem`` batches of length T.

    Adam with gradient-norm clipping at 1 and a fresh batch every step;
    ``lr=None`` takes the cell's rate from :data:`ADDING_LR`. An LSTM's
    forget-gate bias starts at ``forget_bias`` (ignored for the RNN), so
    that f starts near 1. Returns the model and its training
    :class:`~lstm_lessons.training.loop.History`.
    """
    if cell not in ADDING_LR:
        raise ValueError(f"cell: expected one of {tuple(ADDING_LR)}, got {cell!r}")
    for name, value in (("T", T), ("hidden_size", hidden_size), ("batch_size", batch_size)):
        check_int(name, value)
    lr = ADDING_LR[cell] if lr is None else lr
    check_positive("lr", lr)
    return fit(
        lambda rng: tasks.adding_problem(batch_size, T, rng=rng),
        steps,
        seed=seed,
        loss="mse",
        lr=lr,
        clip=1.0,
        input_size=2,
        hidden_size=hidden_size,
        output_size=1,
        cell=cell,
        forget_bias=forget_bias if cell == "lstm" else None,
    )


def train_adding_seeds(cell, T, seeds, *, steps=600, **settings):
    """:func:`train_adding` for every seed in ``seeds``: a list of ``(model, history)``.

    The simple RNN's seeds train side by side in one wide layer
    (:mod:`lstm_lessons.training.wide`: the same models up to float32 rounding, in
    about 0.4x the time); the LSTM's, which gain nothing from it, one after another.
    ``settings`` are those of :func:`train_adding` (``hidden_size``, ``batch_size``,
    ``lr``, ``forget_bias``).
    """
    seeds = [check_seed(s) for s in seeds]
    if cell != "rnn" or len(seeds) == 1:
        return [tuple(train_adding(cell, T, seed=s, steps=steps, **settings)) for s in seeds]
    unknown = sorted(set(settings) - {"hidden_size", "batch_size", "lr", "forget_bias"})
    if unknown:
        raise TypeError(f"train_adding_seeds: unknown settings {unknown}")
    check_int("T", T)
    hidden_size = check_int("hidden_size", settings.get("hidden_size", 32))
    batch_size = check_int("batch_size", settings.get("batch_size", 32))
    lr = settings.get("lr") or ADDING_LR[cell]
    check_positive("lr", lr)
    models = [SequenceModel(2, hidden_size, 1, cell, seed=s) for s in seeds]
    fits = fit_side_by_side(lambda rng: tasks.adding_problem(batch_size, T, rng=rng), models,
                            seeds, steps, loss="mse", lr=lr, clip=1.0)  # fmt: skip
    return [tuple(f) for f in fits]


def adding_mse(model, T, *, n=1000, seed=HELD_OUT_SEED):
    """Mean squared error of ``model`` on ``n`` held-out adding-problem sequences of length T.

    The default seed is :data:`~lstm_lessons.training.harness.HELD_OUT_SEED`,
    which no training batch uses.
    """
    check_int("n", n)
    x, y = tasks.adding_problem(n, T, rng=seed)
    return evaluate(model, x, y, loss="mse")["loss"]
