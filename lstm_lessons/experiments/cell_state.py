"""The cell state as a conveyor belt: gates as valves, and the constant error carousel.

Shapes: N batch size, T number of steps, D input size, H hidden size.

The cell update of the standard LSTM (see :mod:`lstm_lessons.cells.lstm`) is

    c_t = f_t * c_{t-1} + i_t * g_t,        h_t = o_t * tanh(c_t).

Hochreiter & Schmidhuber (1997) built the cell around a self-connection of
weight exactly 1 (f = 1), so that an error signal on c_t flows back to
c_{t-1} unchanged: the *constant error carousel*. Gers, Schmidhuber &
Cummins (2000) made that weight a gate, f_t. Differentiating one step,

    dc_t/dc_{t-1} = diag(f_t) + (dc_t/dh_{t-1}) diag(o_{t-1} * tanh'(c_{t-1})),

where the second term is the indirect path: c_{t-1} also sets h_{t-1}, which
feeds every gate and the candidate of step t. Where that term is small, the
gradient of a loss L on c_T that reaches an early step t is scaled by the
product of the forget gates in between:

    dL/dc_t ~ dL/dc_T * prod_{j=t+1..T} f_j.

Inside:

- :func:`adding_cell_params`: a hand-wired one-unit cell for the adding
  problem whose input gate is a valve that opens only at the two markers.
- :func:`drop_forget_gate`: the same cell without its forget gate, the
  1997 carousel with f = 1 (the "nfg" variant).
- :func:`cell_state_jacobian`: the exact (H, H) Jacobian dc_t/dc_{t-1},
  indirect path included, by autograd through the package's PyTorch cell;
  :func:`jacobian_check` compares it with diag(f_t) at every step.
- :func:`forget_gate_products`: prod_{j=t+1..T} f_j for every t.
- :func:`cell_gradient_through_time`: dL/dc_t for every t, by the package's
  hand-written :func:`lstm_lessons.cells.lstm.lstm_backward`;
  :func:`carousel_gradients` sets one such loss on each unit in turn and
  puts the measured gradients beside the products of forget gates.
"""

from typing import NamedTuple

import numpy as np
import torch

# The carousel's gradients are computed in the cells layer (the homework checks use them
# too); chapter 3 reads them from here.
from ..cells.bptt import (  # noqa: F401
    CarouselGradients,
    carousel_gradients,
    cell_gradient_through_time,
    check_cache,
    forget_gate_products,
)
from ..cells.validation import check_index, check_int
from ..pytorch.cells import LSTM
from ..pytorch.convert import to_torch


def adding_cell_params(gate_gain=20.0, write_scale=0.1, forget_bias=8.0, dtype=np.float64):
    """Weights, set by hand, of an LSTM with D = 2, H = 1 that solves the adding problem.

    The input is ``(value, marker)`` as in :func:`lstm_lessons.training.tasks.adding_problem`.
    The pre-activations are

        a_i = gate_gain * (marker - 1/2)      i ~ 1 at a marker, ~ 0 elsewhere
        a_f = forget_bias                     f ~ 1: keep what was written
        a_g = write_scale * value             g = tanh(a_g) ~ write_scale * value
        a_o = 0                               o = 1/2 (nothing reads h here)

    so c_T ~ write_scale * (sum of the two marked values). The input gate
    must be shut tight between markers, because every step it leaks
    sigma(-gate_gain / 2) of a distractor into the cell.
    """
    for name, value in (("gate_gain", gate_gain), ("write_scale", write_scale)):
        if not (np.isscalar(value) and np.isfinite(value) and value > 0):
            raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    if not (np.isscalar(forget_bias) and np.isfinite(forget_bias)):
        raise ValueError(f"forget_bias: expected a finite number, got {forget_bias!r}")
    # Columns are the blocks i, f, g, o of one unit each; rows are the inputs value, marker.
    W_x = np.array([[0.0, 0.0, write_scale, 0.0], [gate_gain, 0.0, 0.0, 0.0]], dtype=dtype)
    W_h = np.zeros((1, 4), dtype=dtype)
    b = np.array([-gate_gain / 2, forget_bias, 0.0, 0.0], dtype=dtype)
    return {"W_x": W_x, "W_h": W_h, "b": b}


def drop_forget_gate(params):
    """The parameters of the standard cell without its f block: the same cell, f = 1.

    The standard layout has blocks i, f, g, o (4H columns); the "nfg"
    variant stores i, g, o (3H columns). Returns new arrays.
    """
    if not isinstance(params, dict) or set(params) != {"W_x", "W_h", "b"}:
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(
            f"params: expected the standard cell's keys ['W_h', 'W_x', 'b'], got {got}"
        )
    H = params["W_h"].shape[0]
    if params["W_h"].shape != (H, 4 * H):
        raise ValueError(
            f"params['W_h']: expected shape (H, 4H) of the standard cell, got {params['W_h'].shape}"
        )
    keep = np.r_[0:H, 2 * H : 4 * H]  # columns of i, g, o
    return {k: params[k][..., keep] for k in ("W_x", "W_h", "b")}


def cell_state_jacobian(cache, t, sample=0):
    """The exact Jacobian dc_t/dc_{t-1} (H, H) of one sequence, at step t of a forward pass.

    ``cache`` comes from :func:`lstm_lessons.cells.lstm.lstm_forward`; ``t`` counts
    steps from 1 to T, as the equations do, and entry ``[k, m]`` is
    d c_t[k] / d c_{t-1}[m]. The Jacobian includes the indirect path: for
    t >= 2 the hidden state h_{t-1} = o_{t-1} * tanh(c_{t-1}) is recomputed
    from c_{t-1} (o_{t-1} does not depend on c_{t-1} without peepholes). At
    t = 1 the initial h_0 is an input of its own, so only diag(f_1) remains.
    Autograd runs through :class:`lstm_lessons.pytorch.cells.LSTM` in float64,
    independent of the NumPy cell and its hand-written backward.
    """
    check_cache(cache)
    v = cache.variant
    if v.peephole:
        # With peepholes o_{t-1} reads c_{t-1} too; this function leaves that path out.
        raise ValueError(f"cache: expected a variant without peepholes, got {v.name!r}")
    T, N, D = cache.x.shape
    H = cache.h.shape[2]
    check_int("t", t, 1, T)
    check_index("sample", sample, N, "a sequence index")

    cell = LSTM(D, H, v, dtype=torch.float64)
    params64 = {k: np.asarray(p, dtype=np.float64) for k, p in cache.params.items()}
    cell.load_state_dict(to_torch(params64, "lstm", v))
    x_t = torch.from_numpy(cache.x[t - 1, sample].astype(np.float64)).reshape(1, 1, D)
    c_prev = torch.from_numpy(cache.c[t - 1, sample].astype(np.float64))  # (H,)
    h0 = torch.from_numpy(cache.h[0, sample].astype(np.float64))  # (H,)
    o_prev = np.broadcast_to(cache.gates(t - 2)[3], (N, H))[sample] if t >= 2 else None

    def hidden(c):
        if t == 1:
            return h0
        tc = torch.tanh(c) if v.output_activation else c
        return torch.from_numpy(o_prev.astype(np.float64)) * tc

    def step(c):
        _, (_, c_new) = cell(x_t, (hidden(c).reshape(1, 1, H), c.reshape(1, 1, H)))
        return c_new.reshape(H)

    return torch.autograd.functional.jacobian(step, c_prev).numpy()  # (H, H)


class JacobianCheck(NamedTuple):
    """Results of :func:`jacobian_check` for steps t = 1..T of one sequence.

    ``jacobians`` (T, H, H) the exact dc_t/dc_{t-1}; ``f`` (T, H) the forget
    gate f_t; ``diag_gap`` (T,) the largest |J_t[k, k] - f_t[k]|;
    ``indirect`` (T,) the relative Frobenius size of everything but the
    carousel, ||J_t - diag(f_t)||_F / ||J_t||_F.
    """

    jacobians: np.ndarray
    f: np.ndarray
    diag_gap: np.ndarray
    indirect: np.ndarray


def jacobian_check(cache, sample=0):
    """Compare the exact dc_t/dc_{t-1} with diag(f_t) at every step of one sequence."""
    check_cache(cache)
    T = cache.x.shape[0]
    J = np.stack([cell_state_jacobian(cache, t, sample) for t in range(1, T + 1)])  # (T, H, H)
    f = np.broadcast_to(cache.gate("f")[:, sample], J.shape[:2]).astype(np.float64)  # (T, H)
    rest = J - f[:, :, None] * np.eye(J.shape[1])  # J_t - diag(f_t)
    diag_gap = np.abs(np.diagonal(rest, axis1=1, axis2=2)).max(axis=1)
    indirect = np.linalg.norm(rest, axis=(1, 2)) / np.linalg.norm(J, axis=(1, 2))
    return JacobianCheck(J, f, diag_gap, indirect)


