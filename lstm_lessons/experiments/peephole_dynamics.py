"""Chapter 10: peephole feedback, and the cell with constant input as a dynamical system (C17, C18).

With a constant input x = 1 the peephole cell is a map of its state,

    s_t = (c_t, h_t) = F(s_{t-1}),

computed here only by the package's own ``lstm_step_forward(..., variant="peephole")``;
its Jacobian dF/ds comes from the package's ``lstm_step_backward`` (one seeded row per
output) and is checked against finite differences and against autograd through the
PyTorch twin (:func:`jacobian_torch`).

The chapter's cell: every unit gets the same constant pre-activations ``DRIVE``
(a_i = 4, a_f = 0, a_g = 2, a_o = 2), so f = 1/2, and the input gate reads the
cell state through its peephole, i = sigma(4 + p c_{t-1}). With p < 0 a full cell
closes its own input gate: negative feedback, which a strong p overdoes.

- One unit, no recurrent weights: c_t = c_{t-1} / 2 + tanh(2) sigma(4 + p c_{t-1}),
  a map of c alone (h follows c and feeds nothing back). Independent units in one
  layer, one value of p each, sweep p in a single call per step.
- Two units coupled through their input gates by a rotation, i_1 reads -k h_2 and
  i_2 reads +k h_1 (``coupling=k``): a four-dimensional map whose leading eigenvalues
  can be a complex pair.

Lyapunov exponents: ``sweep`` (one unit, from the slope along the orbit), ``lyapunov``
(any cell, a tangent vector pushed through the Jacobian) and ``cycle_lyapunov`` (exact,
for a cycle, from the product of the Jacobians along it).

Shapes: H units; states c, h (H,) for one cell, or (N, H) for a batch of N states.
"""

import numpy as np
import torch

from ..cells.lstm import lstm_step_backward, lstm_step_forward
from ..pytorch.cells import LSTM
from ..pytorch.convert import to_torch

VARIANT = "peephole"
DRIVE = {"i": 4.0, "f": 0.0, "g": 2.0, "o": 2.0}  # a = x W_x with x = 1, per unit


def cell_params(p_i, coupling=0.0, drive=None):
    """Parameters of the chapter's peephole cell, one unit per entry of ``p_i``.

    W_x (1, 4H) holds the constant pre-activations ``drive`` (default ``DRIVE``), b = 0,
    p_f = p_o = 0. With ``coupling`` k (two units only) the input gates read each other's
    hidden state: W_h[1, i-block of unit 0] = -k, W_h[0, i-block of unit 1] = +k.
    """
    p_i = np.atleast_1d(np.asarray(p_i, dtype=np.float64))
    if p_i.ndim != 1:
        raise ValueError(f"p_i: expected a number or a 1-D array, got shape {p_i.shape}")
    H = len(p_i)
    if coupling and H != 2:
        raise ValueError(f"coupling: expected two units (len(p_i) == 2), got {H}")
    drive = DRIVE if drive is None else drive
    W_x = np.concatenate([np.full(H, float(drive[k])) for k in "ifgo"])[None, :]  # (1, 4H)
    W_h = np.zeros((H, 4 * H))
    if coupling:
        W_h[1, 0] = -coupling  # h_2 -> a_i of unit 1
        W_h[0, 1] = coupling  # h_1 -> a_i of unit 2
    zeros = np.zeros(H)
    return {"W_x": W_x, "W_h": W_h, "b": np.zeros(4 * H), "p_i": p_i, "p_f": zeros, "p_o": zeros}


def step(c, h, params):
    """One step of the map from the constant input x = 1: (c, h) -> (c', h'), each (N, H)."""
    x = np.ones((c.shape[0], 1))
    h_next, c_next, _ = lstm_step_forward(x, h, c, params, VARIANT)
    return c_next, h_next


def orbit(params, steps, c0=None, h0=None, discard=0):
    """The states after ``discard`` transient steps: cs, hs (steps, H), from c0 = h0 = 0."""
    H = params["W_h"].shape[0]
    c = np.zeros((1, H)) if c0 is None else np.asarray(c0, dtype=np.float64).reshape(1, H)
    h = np.zeros((1, H)) if h0 is None else np.asarray(h0, dtype=np.float64).reshape(1, H)
    cs, hs = np.empty((steps, H)), np.empty((steps, H))
    for t in range(discard + steps):
        c, h = step(c, h, params)
        if t >= discard:
            cs[t - discard], hs[t - discard] = c[0], h[0]
    return cs, hs


def jacobian(c, h, params):
    """dF/ds (2H, 2H) at s = (c, h), each (H,): row k is the gradient of output k of (c', h').

    From the package's backward pass: a batch of 2H copies of the state, and row k of
    the batch seeded with dL/d(c', h') = e_k, returns e_k^T J as (dc_prev, dh_prev).
    """
    H = len(c)
    x = np.ones((2 * H, 1))
    cc, hh = np.tile(c, (2 * H, 1)), np.tile(h, (2 * H, 1))
    _, _, cache = lstm_step_forward(x, hh, cc, params, VARIANT)
    seeds = np.eye(2 * H)
    _, dh_prev, dc_prev, _ = lstm_step_backward(seeds[:, H:], seeds[:, :H], cache)
    return np.hstack([dc_prev, dh_prev])


def jacobian_fd(c, h, params, eps=1e-6):
    """dF/ds by centred finite differences of :func:`step`, to check :func:`jacobian`."""
    H = len(c)
    s = np.concatenate([c, h])
    J = np.empty((2 * H, 2 * H))
    for k in range(2 * H):
        e = np.zeros(2 * H)
        e[k] = eps
        plus = np.hstack(step((s + e)[None, :H], (s + e)[None, H:], params))[0]
        minus = np.hstack(step((s - e)[None, :H], (s - e)[None, H:], params))[0]
        J[:, k] = (plus - minus) / (2 * eps)
    return J


def jacobian_torch(c, h, params):
    """dF/ds by autograd through the PyTorch twin ``LSTM(variant="peephole")``, float64."""
    H = len(c)
    model = LSTM(1, H, VARIANT, dtype=torch.float64)
    model.load_state_dict(to_torch(params, variant=VARIANT))
    x = torch.ones(1, 1, 1, dtype=torch.float64)

    def F(s):
        _, (h_n, c_n) = model(x, (s[H:].view(1, 1, H), s[:H].view(1, 1, H)))
        return torch.cat([c_n.view(H), h_n.view(H)])

    s = torch.from_numpy(np.concatenate([c, h]))
    return torch.autograd.functional.jacobian(F, s).numpy()


def slopes(c, params):
    """dc'/dc of each independent unit at states c (N, H) (no recurrent weights, p_f = 0)."""
    _check_independent(params)
    c = np.atleast_2d(c)
    zeros = np.zeros_like(c)
    _, _, cache = lstm_step_forward(np.ones((c.shape[0], 1)), zeros, c, params, VARIANT)
    _, _, dc_prev, _ = lstm_step_backward(zeros, np.ones_like(c), cache)
    return dc_prev


def _check_independent(params):
    if np.any(params["W_h"]) or np.any(params["p_f"]):
        raise ValueError("expected independent units (W_h = 0) with p_f = 0, the one-unit map")


def fixed_points(params, iterations=60):
    """Fixed points c*, h* (H,) of independent units, by bisection on c' - c.

    With p_f = 0 the forget gate is a constant f = sigma(a_f) < 1 and c' - c falls from
    positive to negative on [-1/(1 - f), 1/(1 - f)], since |i g| < 1; for p_i <= 0 it
    is strictly decreasing, so the root is the only fixed point.
    """
    _check_independent(params)
    H = params["W_h"].shape[0]
    f = 1 / (1 + np.exp(-params["W_x"][0, H : 2 * H]))
    lo, hi = -1 / (1 - f), 1 / (1 - f)
    zeros = np.zeros((1, H))
    for _ in range(iterations):
        mid = (lo + hi) / 2
        c_next, _ = step(mid[None], zeros, params)
        above = c_next[0] > mid  # c' - c > 0: the root lies to the right
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    c_star = (lo + hi) / 2
    _, h_star = step(c_star[None], zeros, params)
    return c_star, h_star[0]


def fixed_point(params, c0=None, h0=None, warmup=200, newton=30):
    """A fixed point (c*, h*) of any cell: iterate ``warmup`` steps, then Newton with J - I."""
    cs, hs = orbit(params, 1, c0, h0, discard=warmup)
    s = np.concatenate([cs[0], hs[0]])
    H = len(cs[0])
    for _ in range(newton):
        c_next, h_next = step(s[None, :H], s[None, H:], params)
        r = np.concatenate([c_next[0], h_next[0]]) - s
        J = jacobian(s[:H], s[H:], params)
        s = s - np.linalg.solve(J - np.eye(2 * H), r)
    return s[:H], s[H:]


def flip_point(lo=-12.0, hi=0.0, rounds=6, grid=32):
    """The peephole weight p where dc'/dc at the one-unit fixed point crosses -1.

    Expects the slope above -1 at ``hi`` and below -1 at ``lo``; each round evaluates
    ``grid`` values of p at once and keeps the interval where the slope crosses -1,
    so the answer is within (hi - lo) / (grid - 1)^rounds / 2 of the crossing
    (1e-8 with the defaults).
    """
    for _ in range(rounds):
        p = np.linspace(lo, hi, grid)
        params = cell_params(p)
        slope = slopes(fixed_points(params)[0][None], params)[0]
        above = slope > -1
        if above[0] or not above[-1]:
            raise ValueError(f"flip_point: expected slope > -1 at p={hi} and < -1 at p={lo}")
        k = int(np.argmax(above))  # the first p (from lo) whose slope is above -1
        lo, hi = p[k - 1], p[k]
    return (lo + hi) / 2


def sweep(p_values, steps=1000, discard=1000, chunk=64, c0=None):
    """The one-unit map for every p in ``p_values`` (P,), in layers of ``chunk`` independent units.

    Each unit starts from c = ``c0`` (P,) (default 0) and h = 0. Returns cs (steps, P), the
    states c after ``discard`` transient steps, and the largest Lyapunov exponent of each p,
    the mean of log |dc'/dc| over those steps. (A layer of independent units has a dense,
    mostly zero W_h, so its cost grows as H^2: hence chunks.)
    """
    p_values = np.asarray(p_values, dtype=np.float64)
    c_start = np.zeros(len(p_values)) if c0 is None else np.asarray(c0, dtype=np.float64)
    if c_start.shape != p_values.shape:
        raise ValueError(
            f"c0: expected one start per p, shape {p_values.shape}, got {c_start.shape}"
        )
    cs = np.empty((steps, len(p_values)))
    lyap = np.empty(len(p_values))
    for start in range(0, len(p_values), chunk):
        part = slice(start, start + chunk)
        params = cell_params(p_values[part])
        H = len(params["p_i"])
        x, c, h = np.ones((1, 1)), c_start[None, part].copy(), np.zeros((1, H))
        total = np.zeros(H)
        for t in range(discard + steps):
            h, c_next, cache = lstm_step_forward(x, h, c, params, VARIANT)
            if t >= discard:
                # dc'/dc from the backward pass of the same step, seeded with dc' = 1.
                dc_prev = lstm_step_backward(np.zeros((1, H)), np.ones((1, H)), cache)[2]
                total += np.log(np.abs(dc_prev[0]))
                cs[t - discard, part] = c_next[0]
            c = c_next
        lyap[part] = total / steps
    return cs, lyap


def period(cs, max_period=64, tol=1e-7):
    """The smallest period q <= max_period of each column of ``cs`` (T, P), or 0 if none.

    A period must repeat at least once in the T states, so q <= T // 2 as well.
    """
    cs = np.asarray(cs)
    found = np.zeros(cs.shape[1], dtype=int)
    for q in range(1, min(max_period, len(cs) // 2) + 1):
        ok = (np.abs(cs[q:] - cs[:-q]).max(axis=0) < tol) & (found == 0)
        found[ok] = q
    return found


def lyapunov(params, steps=2000, discard=1000, c0=None, h0=None):
    """Largest Lyapunov exponent of any cell's map: a tangent vector pushed through J."""
    cs, hs = orbit(params, 1, c0, h0, discard=discard)
    c, h = cs[0], hs[0]
    v = np.ones(2 * len(c)) / np.sqrt(2 * len(c))
    total = 0.0
    for _ in range(steps):
        v = jacobian(c, h, params) @ v
        norm = np.linalg.norm(v)
        total += np.log(norm)
        v /= norm
        c_next, h_next = step(c[None], h[None], params)
        c, h = c_next[0], h_next[0]
    return total / steps


def cycle_lyapunov(params, c, h, period):
    """The exact largest Lyapunov exponent of a cycle of ``period`` through the state (c, h).

    The product of the Jacobians along one turn of the cycle maps a deviation once round;
    its eigenvalue of largest modulus, mu, gives the exponent log|mu| / period.
    """
    M = np.eye(2 * len(c))
    for _ in range(period):
        M = jacobian(c, h, params) @ M
        c_next, h_next = step(c[None], h[None], params)
        c, h = c_next[0], h_next[0]
    return float(np.log(np.abs(np.linalg.eigvals(M)).max()) / period)


def leading_eigenvalues(p_values, coupling, c0=None, h0=None):
    """The eigenvalue of largest modulus at the fixed point of the coupled two-unit cell, per p.

    Follows the fixed point along ``p_values`` (each Newton solve starts from the last);
    returns the eigenvalues (P,) complex, and the fixed points' c (P, 2).
    """
    lams, cstars = [], []
    c, h = c0, h0
    for p in p_values:
        params = cell_params([p, p], coupling)
        c, h = fixed_point(params, c, h, warmup=0 if c is not None else 200)
        ev = np.linalg.eigvals(jacobian(c, h, params))
        lams.append(ev[np.argmax(np.abs(ev))])
        cstars.append(c)
    return np.array(lams), np.array(cstars)


def invariant_curve(p, coupling, steps=1000, discard=2000):
    """The orbit of the coupled cell past the fixed point, and what it is.

    Starts next to the fixed point; returns a dict with the orbit cs, hs (steps, 2), the fixed
    point c_star, the smallest and largest distance of c from c_star, the period (0 if none up
    to 64), the largest Lyapunov exponent and the mean rotation per step about c_star, in turns.
    """
    params = cell_params([p, p], coupling)
    c_star, h_star = fixed_point(params)
    c0, h0 = c_star + 1e-3, h_star
    cs, hs = orbit(params, steps, c0, h0, discard=discard)
    radius = np.linalg.norm(cs - c_star, axis=1)
    angle = np.unwrap(np.arctan2(cs[:, 1] - c_star[1], cs[:, 0] - c_star[0]))
    return {
        "cs": cs,
        "hs": hs,
        "c_star": c_star,
        "r_min": float(radius.min()),
        "r_max": float(radius.max()),
        "period": int(period(cs[:, :1], tol=1e-9)[0]),
        "lyapunov": lyapunov(params, steps=steps, discard=0, c0=cs[0], h0=hs[0]),
        "rotation": float((angle[-1] - angle[0]) / (2 * np.pi * (steps - 1))),
    }
