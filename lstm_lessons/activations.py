"""Activation functions, each paired with its derivative.

Every derivative here is written in terms of the function's *output* ``y``,
because that is what a forward pass keeps in its cache:

    sigmoid       y = 1 / (1 + exp(-x))             dy/dx = y (1 - y)
    hard_sigmoid  y = min(1, max(0, s x + b))       dy/dx = s where 0 < y < 1, else 0
    tanh          y = tanh(x)                       dy/dx = 1 - y^2
    identity      y = x                             dy/dx = 1

An :class:`Activation` bundles a function with its derivative so that a cell
can take the gate function as an argument (the hard-sigmoid LSTM is the
standard cell with another ``Activation``), as Flax's ``OptimizedLSTMCell`` does.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

HARD_SIGMOID_SLOPE = 0.2
HARD_SIGMOID_OFFSET = 0.5


def sigmoid(x):
    """Logistic sigmoid, without overflow for any finite input.

    The textbook form ``1 / (1 + exp(-x))`` overflows in ``exp`` for
    x < -89 (float32) or x < -710 (float64). Both branches below only ever
    exponentiate a non-positive number, so ``e`` lies in (0, 1]:
    ``1 / (1 + e)`` for x >= 0 and ``e / (1 + e)`` for x < 0.
    """
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    r = 1.0 / (1.0 + e)
    return np.where(x >= 0, r, e * r).astype(x.dtype, copy=False)


def sigmoid_grad(y):
    """Derivative of the sigmoid, from its output ``y = sigmoid(x)``."""
    return y * (1.0 - y)


def hard_sigmoid(x, slope=HARD_SIGMOID_SLOPE, offset=HARD_SIGMOID_OFFSET):
    """Piecewise-linear sigmoid ``min(1, max(0, slope * x + offset))``.

    It reaches exactly 0 and 1 (the logistic sigmoid only approaches them),
    which is what lets a gate close or open completely.
    """
    x = np.asarray(x)
    return np.clip(slope * x + offset, 0.0, 1.0).astype(x.dtype, copy=False)


def hard_sigmoid_grad(y, slope=HARD_SIGMOID_SLOPE):
    """Derivative of the hard sigmoid from its output: ``slope`` inside, 0 in saturation."""
    return np.where((y > 0.0) & (y < 1.0), slope, 0.0).astype(y.dtype, copy=False)


def tanh_grad(y):
    """Derivative of tanh, from its output ``y = tanh(x)``."""
    return 1.0 - y * y


def identity(x):
    return np.asarray(x)


def identity_grad(y):
    return np.ones_like(y)


class Activation(NamedTuple):
    """A function ``fn(x) -> y`` with its derivative ``grad(y) -> dy/dx``."""

    name: str
    fn: Callable
    grad: Callable


SIGMOID = Activation("sigmoid", sigmoid, sigmoid_grad)
HARD_SIGMOID = Activation("hard_sigmoid", hard_sigmoid, hard_sigmoid_grad)
TANH = Activation("tanh", np.tanh, tanh_grad)
IDENTITY = Activation("identity", identity, identity_grad)

ACTIVATIONS = {a.name: a for a in (SIGMOID, HARD_SIGMOID, TANH, IDENTITY)}


def get_activation(name):
    """Look up an :class:`Activation` by name, with a clear error for unknown names."""
    if isinstance(name, Activation):
        return name
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]
