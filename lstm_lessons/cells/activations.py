r"""Activation functions, each paired with its derivative.

Every derivative here is written in terms of the function's *output* ``y``,
because that is what a forward pass keeps in its cache:

    sigmoid       y = 1 / (1 + exp(-x))             dy/dx = y (1 - y)
    hard_sigmoid  y = min(1, max(0, s x + b))       dy/dx = s where 0 < y < 1, else 0
    tanh          y = tanh(x)                       dy/dx = 1 - y^2
    identity      y = x                             dy/dx = 1

with the hard sigmoid's slope s = HARD_SIGMOID_SLOPE (0.2) and offset
b = HARD_SIGMOID_OFFSET (0.5). As equations, with hs for the hard sigmoid, id
for the identity, and y the output of the function being differentiated:

.. math::

    \sigma(x) = \frac{1}{1 + e^{-x}}
    \sigma'(x) = y\,(1 - y)
    \operatorname{hs}(x) = \min\big(1, \max(0,\, s\,x + b)\big)
    \operatorname{hs}'(x) = s \text{ if } 0 < y < 1 \text{, else } 0
    \tanh'(x) = 1 - y^2
    \operatorname{id}(x) = x
    \operatorname{id}'(x) = 1

An :class:`Activation` bundles a function with its derivative so that a cell
can take the gate function as an argument (the hard-sigmoid LSTM is the
standard cell with another ``Activation``), as Flax's ``OptimizedLSTMCell`` does.
"""

import functools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

#: The slope of the hard sigmoid, min(1, max(0, slope * x + offset)).
HARD_SIGMOID_SLOPE = 0.2
#: The offset of the hard sigmoid: its value at x = 0.
HARD_SIGMOID_OFFSET = 0.5


def sigmoid(x, out=None):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, without overflow for any input.

    ``exp(-x)`` overflows for x below -log(max float), about -88.7 in float32
    and -709.8 in float64, so x is first clamped to 1 above that. This changes
    only results already smaller than the smallest normal number (the value
    at the clamp is e / max float, below ``tiny``), so the answer stays within ``tiny`` of
    the exact one everywhere and keeps full relative accuracy above it; the
    ``1 / (1 + e)`` form also keeps the left tail, where ``0.5 * (1 + tanh(x / 2))``
    would round ``sigmoid(-20)`` in float32 to 0. Five passes, no temporaries:
    the cell calls it once per gate and step. ``out`` may be ``x`` itself.

    For large x the result rounds to exactly 1.0: computed in float32, 1 + exp(-x)
    is 1 once exp(-x) <= 2^-24, from x = 24 ln 2 (16.64; in float64 53 ln 2, 36.74).
    Computed in float64 and rounded to float32 once, it is 1.0 only from 25 ln 2
    (17.33). See ``lstm_lessons.experiments.hard_sigmoid.rounding_threshold``.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if out is None:
        out = np.empty_like(x)
    np.maximum(x, _sigmoid_floor(x.dtype), out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out


@functools.cache
def _sigmoid_floor(dtype):
    # The clamp of sigmoid, once per dtype: np.finfo and np.log cost more than the
    # five passes over a small gate.
    return 1.0 - np.log(np.finfo(dtype).max)


def sigmoid_grad(y):
    """Derivative of the sigmoid, from its output ``y = sigmoid(x)``."""
    return y * (1.0 - y)


def hard_sigmoid(x, out=None, slope=HARD_SIGMOID_SLOPE, offset=HARD_SIGMOID_OFFSET):
    """Piecewise-linear sigmoid ``min(1, max(0, slope * x + offset))``.

    It reaches exactly 0 and 1, which is what lets a gate close or open completely,
    and where it does is set by the formula: from |x| = (1 - offset) / slope (2.5).
    Rounding moves that point only to the number just below 2.5 in float32 and float64
    (in float32 it is 1 already at 2.4999998, where 0.2 x + 0.5 rounds up to 1). The
    logistic sigmoid only approaches 0 and 1 in exact arithmetic, and reaches 1.0 in
    floating point at a point set by the precision and the order of operations (see
    :func:`sigmoid`).
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if out is None:
        out = np.empty_like(x)
    np.multiply(x, slope, out=out)
    out += offset
    return np.clip(out, 0.0, 1.0, out=out)


def hard_sigmoid_grad(y, slope=HARD_SIGMOID_SLOPE):
    """Derivative of the hard sigmoid from its output: ``slope`` inside, 0 in saturation."""
    return np.where((y > 0.0) & (y < 1.0), slope, 0.0).astype(y.dtype, copy=False)


def tanh_grad(y):
    """Derivative of tanh, from its output ``y = tanh(x)``."""
    return 1.0 - y * y


def identity(x, out=None):
    if out is None:
        return np.asarray(x)
    out[...] = x
    return out


def identity_grad(y):
    return np.ones_like(y)


class Activation(NamedTuple):
    """A function ``fn(x, out=None) -> y`` with its derivative ``grad(y) -> dy/dx``."""

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
