"""cells/bptt.py: the gradient on c_t that BPTT returns, from its seed dL/dc_T = dc_T on."""

import numpy as np

import lstm_lessons as ll
from lstm_lessons.cells import bptt

T, N, D, H = 6, 2, 3, 4


def _run():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((T, N, D))
    params = ll.init_lstm_params(D, H, seed=3, forget_bias=1.0)
    zeros = np.zeros((N, H))
    cache = ll.lstm_forward(x, zeros, zeros, params)[2]
    dc_T = rng.standard_normal((N, H))  # signed, and different on every unit and sample
    return x, params, cache, dc_T


def test_cell_gradient_starts_from_its_seed_and_matches_finite_differences_everywhere():
    x, params, cache, dc_T = _run()
    grads = bptt.cell_gradient_through_time(cache, dc_T)
    assert grads.shape == (T + 1, N, H)
    # The seed of the backward product: dL/dc_T is dc_T itself, as given.
    np.testing.assert_array_equal(grads[T], dc_T)
    # Every other row: nudge unit k of c_t (h_t held), rerun the rest, watch L = sum(dc_T * c_T).
    eps = 1e-6
    numeric = np.empty((T, N, H))
    for t in range(T):
        for k in range(H):
            bump = np.zeros((N, H))
            bump[:, k] = eps
            plus, minus = (
                ll.lstm_forward(x[t:], cache.h[t], cache.c[t] + s * bump, params)[1][-1]
                for s in (1, -1)
            )
            numeric[t, :, k] = ((plus - minus) * dc_T).sum(axis=1) / (2 * eps)
    np.testing.assert_allclose(grads[:T], numeric, rtol=1e-6, atol=1e-10)
