"""Seeded inputs for the checks, and the package's cell run on a given pre-activation.

N, D and H differ in every case so that a transposed weight or a swapped axis
changes a shape or a value; biases are non-zero so that a missing bias shows;
the second case has a batch of one.
"""

import numpy as np

from ...cells.lstm import lstm_step_forward

CASES = ((3, 5, 4, 0), (1, 6, 2, 1))  # (N, D, H, seed)


def lstm_inputs(N, D, H, seed, G=4):
    """x, h_prev, c_prev and W_x (D, G*H), W_h (H, G*H), b (G*H,) for one step, as a dict."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((N, D)),
        "h_prev": 0.5 * rng.standard_normal((N, H)),
        "c_prev": rng.standard_normal((N, H)),
        "W_x": 0.5 * rng.standard_normal((D, G * H)),
        "W_h": 0.5 * rng.standard_normal((H, G * H)),
        "b": rng.uniform(0.1, 0.5, G * H) * rng.choice([-1.0, 1.0], G * H),
    }


def step(args, variant="standard"):
    """The package's ``lstm_step_forward`` on the arguments of :func:`lstm_inputs`."""
    params = {k: args[k] for k in ("W_x", "W_h", "b")}
    return lstm_step_forward(args["x"], args["h_prev"], args["c_prev"], params, variant)


def cell_from_a(a, c_prev, variant="standard", peepholes=None):
    """The package's cell on a given pre-activation ``a`` (N, G*H): h, c and the step's cache.

    It is ``lstm_step_forward`` with x = a, W_x = I, W_h = 0 and b = 0, so that
    x @ W_x + h_prev @ W_h + b is ``a`` exactly.
    """
    N, GH = a.shape
    H = c_prev.shape[1]
    params = {"W_x": np.eye(GH), "W_h": np.zeros((H, GH)), "b": np.zeros(GH), **(peepholes or {})}
    return lstm_step_forward(a, np.zeros((N, H)), c_prev, params, variant)
