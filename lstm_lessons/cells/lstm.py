"""The LSTM cell and its variants in NumPy: forward beside backward, as pure functions.

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

A variant changes one of these lines (peepholes add ``p * c`` to a gate's
pre-activation; CIFG sets ``f = 1 - i``; NFG ``f = 1``; NIG ``i = 1``; NOG
``o = 1``; NIAF ``g = a_g``; NOAF ``h = o * c``; the hard-sigmoid cell swaps
sigma). The backward pass runs the same lines in reverse.
"""

from typing import NamedTuple

import numpy as np

from .activations import IDENTITY, TANH, get_activation
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


def _cell(a, c_prev, params, v, c, tc, h):
    """The cell's equations from the pre-activation ``a`` (N, G*H) on, in place.

    Each gate's value overwrites its own block of ``a`` (the cache keeps
    them there), and c, tc = tanh(c) and h are written into the given (N, H)
    arrays, so the time loop allocates almost nothing. Returns i, f, g, o:
    views of ``a``, or the number 1.0 for a gate the variant lacks (and
    ``1 - i`` for f under CIFG).
    """
    sigma = get_activation(v.gate_fn).fn
    blk = _blocks(a, v.gates, c_prev.shape[1])
    a_i, a_f, a_g, a_o = blk.get("i"), blk.get("f"), blk["g"], blk.get("o")
    if v.peephole and v.input_gate:
        a_i += params["p_i"] * c_prev  # peephole: i reads c_{t-1}
    if v.peephole and v.has_f_block:
        a_f += params["p_f"] * c_prev  # peephole: f reads c_{t-1}

    i = sigma(a_i, out=a_i) if v.input_gate else 1.0
    if v.cifg:
        f = 1.0 - i
    else:
        f = sigma(a_f, out=a_f) if v.forget_gate else 1.0
    g = np.tanh(a_g, out=a_g) if v.input_activation else a_g
    c[...] = f * c_prev + i * g
    if v.peephole and v.output_gate:
        a_o += params["p_o"] * c  # peephole: o reads c_t, the new state
    o = sigma(a_o, out=a_o) if v.output_gate else 1.0
    if v.output_activation:
        np.tanh(c, out=tc)
    else:
        tc[...] = c
    np.multiply(o, tc, out=h)  # h = o * tc
    return i, f, g, o


def _cell_backward(dh, dc, i, f, g, o, c_prev, c, tc, params, v, da):
    """Reverse of :func:`_cell`: from dL/dh and dL/dc to dL/da and dL/dc_prev.

    ``dc`` is the gradient that reaches c from the future (through c_{t+1});
    the gradient through h is added here. dL/da is written into ``da``
    (N, G*H), block by block. Returns ``dc_prev`` and the peephole gradients.
    """
    gate = get_activation(v.gate_fn)
    phi_c = TANH if v.output_activation else IDENTITY
    phi_g = TANH if v.input_activation else IDENTITY
    blk = _blocks(da, v.gates, c.shape[1])
    dpeep = {}

    do = dh * tc  # h = o * tc
    dc = dc + dh * o * phi_c.grad(tc)
    if v.output_gate:
        np.multiply(do, gate.grad(o), out=blk["o"])
        if v.peephole:  # o read c
            dc += blk["o"] * params["p_o"]
            dpeep["p_o"] = (blk["o"] * c).sum(axis=0)

    dc_prev = dc * f  # c = f * c_prev + i * g
    di = dc * g
    df = dc * c_prev
    if v.cifg:
        di -= df  # f = 1 - i
    if v.input_gate:
        np.multiply(di, gate.grad(i), out=blk["i"])
    if v.has_f_block:
        np.multiply(df, gate.grad(f), out=blk["f"])
    np.multiply(dc * i, phi_g.grad(g), out=blk["g"])  # dg = dc * i

    if v.peephole and v.input_gate:  # i read c_prev
        dc_prev += blk["i"] * params["p_i"]
        dpeep["p_i"] = (blk["i"] * c_prev).sum(axis=0)
    if v.peephole and v.has_f_block:  # f read c_prev
        dc_prev += blk["f"] * params["p_f"]
        dpeep["p_f"] = (blk["f"] * c_prev).sum(axis=0)
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
    i, f, g, o = _cell(a, c_prev, params, v, c, tc, h)
    return h, c, StepCache(x, h_prev, c_prev, i, f, g, o, c, tc, params, v)


def lstm_step_backward(dh, dc, cache):
    """Gradients of one step: dh, dc (N, H) -> dx, dh_prev, dc_prev, grads of each parameter."""
    x, h_prev, c_prev, i, f, g, o, c, tc, params, v = cache
    check_array("dh", dh, "NH", x.dtype)
    check_shape("dh", dh, c.shape, "NH")
    check_array("dc", dc, "NH", x.dtype)
    check_shape("dc", dc, c.shape, "NH")
    da = np.empty((x.shape[0], params["W_h"].shape[1]), dtype=x.dtype)  # (N, G*H)
    dc_prev, dpeep = _cell_backward(dh, dc, i, f, g, o, c_prev, c, tc, params, v, da)
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
    for t in range(T):
        a = acts[t]
        a += h[t] @ W_h  # a = x W_x + b + h_prev W_h, (N, G*H)
        _cell(a, c[t], params, v, c[t + 1], tc[t], h[t + 1])

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
    x, h, c, tc, acts, params, v = cache
    T, N, D = x.shape
    H = h.shape[2]
    check_array("dhs", dhs, "TNH", x.dtype)
    check_shape("dhs", dhs, (T, N, H), "TNH")
    if dcs is not None:
        check_array("dcs", dcs, "TNH", x.dtype)
        check_shape("dcs", dcs, (T, N, H), "TNH")

    W_h = params["W_h"]
    da = np.empty_like(acts)  # (T, N, G*H)
    dh_next = np.zeros((N, H), dtype=x.dtype)
    dc_next = np.zeros((N, H), dtype=x.dtype)
    dpeep = {p: np.zeros(H, dtype=x.dtype) for p in v.peepholes}
    for t in reversed(range(T)):
        dh_t = dhs[t] + dh_next
        dc_t = dc_next if dcs is None else dc_next + dcs[t]
        i, f, g, o = cache.gates(t)
        dc_next, dp = _cell_backward(
            dh_t, dc_t, i, f, g, o, c[t], c[t + 1], tc[t], params, v, da[t]
        )
        dh_next = da[t] @ W_h.T  # (N, H)
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
