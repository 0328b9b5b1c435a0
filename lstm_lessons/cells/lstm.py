r"""The LSTM cell and its variants in NumPy: forward beside backward, as pure functions.

Shapes: N batch size, T number of steps, D input size, H hidden size, and G
the number of gate blocks the variant stores (4 for the standard cell).

Parameters are a dict: ``W_x`` (D, G*H), ``W_h`` (H, G*H), ``b`` (G*H,) and,
for peephole cells, ``p_i``, ``p_f``, ``p_o`` (H,). The G blocks of H columns
are in the order i, f, g, o of ``torch.nn.LSTM`` (blocks that a variant lacks
are left out; see :mod:`lstm_lessons.cells.variants`). ``lstm_lessons.pytorch.convert``
moves them to and from PyTorch.

The standard cell (Hochreiter & Schmidhuber 1997, with the forget gate of
Gers, Schmidhuber & Cummins 2000), in the order the code computes it:

    a   = x @ W_x + h_prev @ W_h + b       (N, 4H), split into a_i, a_f, a_g, a_o
    i   = sigma(a_i)                        input gate
    f   = sigma(a_f)                        forget gate
    g   = tanh(a_g)                         candidate, c~
    c   = f * c_prev + i * g                cell state
    o   = sigma(a_o)                        output gate
    h   = o * tanh(c)                       hidden state

and the same lines in the book's notation, where step t's x, h_prev and c_prev
are x_t, h_{t-1} and c_{t-1}, a_i is a_t^i, and the element-wise * is \odot:

.. math::

    a_t = x_t W_x + h_{t-1} W_h + b
    i_t = \sigma(a_t^i)
    f_t = \sigma(a_t^f)
    g_t = \tanh(a_t^g)
    c_t = f_t \odot c_{t-1} + i_t \odot g_t
    o_t = \sigma(a_t^o)
    h_t = o_t \odot \tanh(c_t)

A variant changes one of these lines (peepholes add ``p * c`` to a gate's
pre-activation; CIFG sets ``f = 1 - i``; NFG ``f = 1``; NIG ``i = 1``; NOG
``o = 1``; NIAF ``g = a_g``; NOAF ``h = o * c``; the hard-sigmoid cell swaps
sigma). The backward pass runs the same lines in reverse.
"""

from typing import NamedTuple

import numpy as np

from .activations import get_activation, tanh_grad
from .initialise import uniform_init
from .validation import check_array, check_params, check_shape
from .variants import get_variant, param_shapes


def init_lstm_params(D, H, variant="standard", *, seed=0, dtype=np.float64, forget_bias=0.0):
    """Random parameters, uniform in (-1/sqrt(H), 1/sqrt(H)) like ``torch.nn.LSTM``.

    ``forget_bias`` is added to the forget gate's block of ``b``, so that
    ``f = sigma(1)`` or ``sigma(2)`` at the start of training.
    """
    v = get_variant(variant)
    params = uniform_init(param_shapes(v, D, H), D, H, seed, dtype)
    if forget_bias:
        if not v.has_f_block:
            raise ValueError(f"forget_bias: variant {v.name!r} has no forget-gate parameters")
        n = v.gates.index("f")
        params["b"][n * H : (n + 1) * H] += forget_bias
    return params


def _blocks(a, gates, H):
    """Split the last axis of ``a`` (..., G*H) into named views of H columns each."""
    return {k: a[..., n * H : (n + 1) * H] for n, k in enumerate(gates)}


class _Step:
    """One step of a variant's cell, forward and backward, with the variant resolved once.

    The time loop calls :meth:`forward` and :meth:`backward` T times. At small
    sizes (N = 1, H = 32) a step's arithmetic is a few microseconds, and
    looking the variant up again at every step (its properties, the
    activation by name, a dict of block views) cost more than the arithmetic.
    So the block slices, the switches and the functions are fixed here, once
    per sequence. Every value is computed by the same NumPy operations, in the
    same order, as the equations in the module docstring, so the results do
    not depend on this bookkeeping.
    """

    def __init__(self, v, params, H):
        cols = {k: slice(n * H, (n + 1) * H) for n, k in enumerate(v.gates)}
        self.i, self.f, self.g, self.o = (cols.get(k) for k in "ifgo")
        # The stored i and f blocks come first (order i, f, g, o), so that one call of
        # the gate function, and of its derivative, covers both.
        n_if = v.gates.index("g")
        self.i_f = slice(0, n_if * H) if n_if else None
        self.cifg = v.cifg
        self.peephole = v.peephole
        self.output_activation = v.output_activation
        self.input_activation = v.input_activation
        gate = get_activation(v.gate_fn)
        self.sigma, self.sigma_grad = gate.fn, gate.grad
        self.p_i, self.p_f, self.p_o = (params.get(k) for k in ("p_i", "p_f", "p_o"))

    def forward(self, a, c_prev, c, tc, h):
        """The cell's equations from the pre-activation ``a`` (N, G*H) on, in place.

        Each gate's value overwrites its own block of ``a`` (the cache keeps
        them there), and c, tc = tanh(c) and h are written into the given
        (N, H) arrays, so the time loop allocates almost nothing. Returns i, f,
        g, o: views of ``a``, or the number 1.0 for a gate the variant lacks
        (and ``1 - i`` for f under CIFG).
        """
        g = a[:, self.g]
        if self.peephole:
            if self.i is not None:
                a[:, self.i] += self.p_i * c_prev  # peephole: i reads c_{t-1}
            if self.f is not None:
                a[:, self.f] += self.p_f * c_prev  # peephole: f reads c_{t-1}
            if self.i_f is not None:
                self.sigma(a[:, self.i_f], out=a[:, self.i_f])  # i and f in one call
            if self.input_activation:
                np.tanh(g, out=g)
        else:
            # No gate reads c, so all are known now: one call of the gate function over
            # the whole row, with the candidate kept aside in tc (free until tanh(c)).
            if self.input_activation:
                np.tanh(g, out=tc)
            else:
                tc[...] = g
            self.sigma(a, out=a)
            g[...] = tc
        i, f, _, o = self.gates(a)
        np.multiply(f, c_prev, out=c)  # c = f * c_prev + i * g
        c += i * g
        if self.peephole and self.o is not None:
            o += self.p_o * c  # peephole: o reads c_t, the new state
            self.sigma(o, out=o)
        if self.output_activation:
            np.tanh(c, out=tc)
        else:
            tc[...] = c
        np.multiply(o, tc, out=h)  # h = o * tc
        return i, f, g, o

    def gates(self, a):
        """i, f, g, o of one step from the gate values ``a`` that :meth:`forward` left."""
        i = a[:, self.i] if self.i is not None else 1.0
        if self.cifg:
            f = 1.0 - i
        else:
            f = a[:, self.f] if self.f is not None else 1.0
        return i, f, a[:, self.g], a[:, self.o] if self.o is not None else 1.0

    def backward(self, dh, dc, acts, c_prev, c, tc, da):
        """Reverse of :meth:`forward`: from dL/dh and dL/dc to dL/da and dL/dc_prev.

        ``acts`` (N, G*H) are the step's gate values as :meth:`forward` left
        them. ``dc`` is the gradient that reaches c from the future (through
        c_{t+1}); the gradient through h is added here. dL/da is written into
        ``da`` (N, G*H), block by block. Returns ``dc_prev`` and the peephole
        gradients.
        """
        i, f, g, o = self.gates(acts)
        gate_grad = self.sigma_grad(acts)  # (N, G*H), for all gates at once; not used for g
        dpeep = {}

        do = dh * tc  # h = o * tc
        if self.output_activation:
            dc = dc + dh * o * tanh_grad(tc)
        else:
            dc = dc + dh * o
        if self.o is not None:
            da_o = da[:, self.o]
            np.multiply(do, gate_grad[:, self.o], out=da_o)
            if self.peephole:  # o read c
                dc += da_o * self.p_o
                dpeep["p_o"] = (da_o * c).sum(axis=0)

        dc_prev = dc * f  # c = f * c_prev + i * g
        if self.i is not None:
            np.multiply(dc, g, out=da[:, self.i])  # di
        if self.f is not None:
            np.multiply(dc, c_prev, out=da[:, self.f])  # df
        elif self.cifg:
            da[:, self.i] -= dc * c_prev  # f = 1 - i, so df counts against di
        if self.i_f is not None:
            da[:, self.i_f] *= gate_grad[:, self.i_f]
        da_g = np.multiply(dc, i, out=da[:, self.g])  # dg = dc * i
        if self.input_activation:
            da_g *= tanh_grad(g)

        if self.peephole and self.i is not None:  # i read c_prev
            dc_prev += da[:, self.i] * self.p_i
            dpeep["p_i"] = (da[:, self.i] * c_prev).sum(axis=0)
        if self.peephole and self.f is not None:  # f read c_prev
            dc_prev += da[:, self.f] * self.p_f
            dpeep["p_f"] = (da[:, self.f] * c_prev).sum(axis=0)
        return dc_prev, dpeep


def _check_inputs(x, h_prev, c_prev, params, variant, x_letters):
    v = get_variant(variant)
    shape = check_array("x", x, x_letters)
    N, D = shape[-2:]
    check_array("h0" if x_letters == "TND" else "h_prev", h_prev, "NH", x.dtype)
    H = h_prev.shape[1]
    check_shape("h0" if x_letters == "TND" else "h_prev", h_prev, (N, H), "NH")
    check_array("c0" if x_letters == "TND" else "c_prev", c_prev, "NH", x.dtype)
    check_shape("c0" if x_letters == "TND" else "c_prev", c_prev, (N, H), "NH")
    check_params(params, param_shapes(v, D, H), x.dtype)
    return v


def _check_cache(cache, expected, forward):
    """TypeError unless ``cache`` is the ``expected`` cache class that ``forward`` returns.

    The message says what came: the other function's cache, or the whole return
    value ``(h, c, cache)`` of a forward pass instead of its third item.
    """
    if isinstance(cache, expected):
        return
    if isinstance(cache, (StepCache, SequenceCache)):
        other = "lstm_step_forward" if isinstance(cache, StepCache) else "lstm_forward"
        backward = "lstm_step_backward" if isinstance(cache, StepCache) else "lstm_backward"
        got = f"the {type(cache).__name__} of {other} (its gradients come from {backward})"
    elif isinstance(cache, tuple) and len(cache) == 3 and isinstance(cache[2], expected):
        got = f"a tuple (h, c, cache): the whole return value of {forward}, not its third item"
    elif isinstance(cache, tuple):
        got = f"a tuple of {len(cache)} items"
    else:
        got = type(cache).__name__
    raise TypeError(f"cache: expected the {expected.__name__} that {forward} returns, got {got}")


class StepCache(NamedTuple):
    """What one step's backward pass needs. Gates a variant lacks are 1.0."""

    x: np.ndarray
    h_prev: np.ndarray
    c_prev: np.ndarray
    i: object
    f: object
    g: np.ndarray
    o: object
    c: np.ndarray
    tc: np.ndarray
    params: dict
    variant: object


def lstm_step_forward(x, h_prev, c_prev, params, variant="standard"):
    """One step: x (N, D), h_prev (N, H), c_prev (N, H) -> h (N, H), c (N, H), cache."""
    v = _check_inputs(x, h_prev, c_prev, params, variant, "ND")
    a = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]  # (N, G*H)
    c, tc, h = (np.empty_like(c_prev) for _ in range(3))
    i, f, g, o = _Step(v, params, h_prev.shape[1]).forward(a, c_prev, c, tc, h)
    return h, c, StepCache(x, h_prev, c_prev, i, f, g, o, c, tc, params, v)


def lstm_step_backward(dh, dc, cache):
    """Gradients of one step: dh, dc (N, H) -> dx, dh_prev, dc_prev, grads of each parameter."""
    _check_cache(cache, StepCache, "lstm_step_forward")
    x, h_prev, c_prev, i, f, g, o, c, tc, params, v = cache
    check_array("dh", dh, "NH", x.dtype)
    check_shape("dh", dh, c.shape, "NH")
    check_array("dc", dc, "NH", x.dtype)
    check_shape("dc", dc, c.shape, "NH")
    step = _Step(v, params, c.shape[1])
    # The gate values side by side, as a sequence's cache keeps them; a gate the variant
    # lacks is the number 1.0, and CIFG's f = 1 - i has no block of its own.
    stored = (i, None if v.cifg else f, g, o)
    acts = np.concatenate([a for a in stored if isinstance(a, np.ndarray)], axis=1)  # (N, G*H)
    da = np.empty_like(acts)
    dc_prev, dpeep = step.backward(dh, dc, acts, c_prev, c, tc, da)
    dx = da @ params["W_x"].T  # (N, D)
    dh_prev = da @ params["W_h"].T  # (N, H)
    grads = {"W_x": x.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0), **dpeep}
    return dx, dh_prev, dc_prev, grads


class SequenceCache(NamedTuple):
    """Everything a forward pass over T steps computed, kept for the backward pass.

    ``h`` and ``c`` are (T+1, N, H) with the initial states at index 0;
    ``acts`` (T, N, G*H) holds the stored gates' values. All are read-only.
    """

    x: np.ndarray
    h: np.ndarray
    c: np.ndarray
    tc: np.ndarray
    acts: np.ndarray
    params: dict
    variant: object

    def gates(self, t):
        """i, f, g, o at step t, each (N, H) or the number 1.0 for a gate the variant lacks."""
        v, H = self.variant, self.h.shape[2]
        blk = _blocks(self.acts[t], v.gates, H)
        i = blk.get("i", 1.0)
        f = 1.0 - i if v.cifg else blk.get("f", 1.0)
        return i, f, blk["g"], blk.get("o", 1.0)

    def gate(self, name):
        """The values of gate ``name`` ('i', 'f', 'g' or 'o') over time, (T, N, H)."""
        if name not in ("i", "f", "g", "o"):
            raise ValueError(f"gate: expected one of 'i', 'f', 'g', 'o', got {name!r}")
        k = "ifgo".index(name)
        return np.stack(
            [np.broadcast_to(self.gates(t)[k], self.tc.shape[1:]) for t in range(len(self.tc))]
        )


def lstm_forward(x, h0, c0, params, variant="standard"):
    """Run the cell over a sequence.

    x (T, N, D), h0 (N, H), c0 (N, H) -> hs (T, N, H), cs (T, N, H), cache.
    ``hs[t]`` and ``cs[t]`` are h and c after step t; the final states are
    ``hs[-1]`` and ``cs[-1]``.
    """
    v = _check_inputs(x, h0, c0, params, variant, "TND")
    T, N, D = x.shape
    H = h0.shape[1]
    G = len(v.gates)
    W_h = params["W_h"]
    # All steps' input projections in one matmul: only h_prev @ W_h must wait for the
    # previous step. The gates are then computed in place, in the cache's own array.
    acts = (x.reshape(T * N, D) @ params["W_x"]).reshape(T, N, G * H)
    acts += params["b"]  # in place: `x @ W_x + b` would allocate and fill a second (T, N, G*H)
    h = np.empty((T + 1, N, H), dtype=x.dtype)
    c = np.empty((T + 1, N, H), dtype=x.dtype)
    tc = np.empty((T, N, H), dtype=x.dtype)
    h[0], c[0] = h0, c0
    step = _Step(v, params, H)
    for t in range(T):
        a = acts[t]
        a += h[t] @ W_h  # a = x W_x + b + h_prev W_h, (N, G*H)
        step.forward(a, c[t], c[t + 1], tc[t], h[t + 1])

    for arr in (h, c, tc, acts):
        arr.flags.writeable = False
    cache = SequenceCache(x.copy(), h, c, tc, acts, params, v)
    return h[1:], c[1:], cache


def lstm_backward(dhs, cache, dcs=None):
    """Backpropagation through time.

    dhs (T, N, H): dL/dh_t from outside the recurrence (e.g. from a readout)
    at every step; dcs (T, N, H), optional, likewise for c_t. Returns
    dx (T, N, D), dh0 (N, H), dc0 (N, H) and a dict of parameter gradients.
    """
    _check_cache(cache, SequenceCache, "lstm_forward")
    x, h, c, tc, acts, params, v = cache
    T, N, D = x.shape
    H = h.shape[2]
    check_array("dhs", dhs, "TNH", x.dtype)
    check_shape("dhs", dhs, (T, N, H), "TNH")
    if dcs is not None:
        check_array("dcs", dcs, "TNH", x.dtype)
        check_shape("dcs", dcs, (T, N, H), "TNH")

    W_h_T = params["W_h"].T
    da = np.empty_like(acts)  # (T, N, G*H)
    dh_next = np.zeros((N, H), dtype=x.dtype)
    dc_next = np.zeros((N, H), dtype=x.dtype)
    dpeep = {p: np.zeros(H, dtype=x.dtype) for p in v.peepholes}
    step = _Step(v, params, H)
    for t in reversed(range(T)):
        dh_t = dhs[t] + dh_next
        dc_t = dc_next if dcs is None else dc_next + dcs[t]
        dc_next, dp = step.backward(dh_t, dc_t, acts[t], c[t], c[t + 1], tc[t], da[t])
        dh_next = da[t] @ W_h_T  # (N, H)
        for p in dp:
            dpeep[p] += dp[p]

    # The weight gradients sum over all steps: one matmul each, after the loop.
    da2 = da.reshape(T * N, -1)
    dx = (da2 @ params["W_x"].T).reshape(T, N, D)
    grads = {
        "W_x": x.reshape(T * N, D).T @ da2,
        "W_h": h[:-1].reshape(T * N, H).T @ da2,
        "b": da2.sum(axis=0),
        **dpeep,
    }
    return dx, dh_next, dc_next, grads
