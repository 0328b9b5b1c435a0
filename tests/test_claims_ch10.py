"""Claims C17 and C18 of chapter 10 (peepholes and the cell as a dynamical system)."""

import numpy as np
import pytest
import torch
from helpers import random_inputs, randomise_biases

from lstm_lessons import init_lstm_params, lstm_backward, lstm_forward, lstm_step_forward
from lstm_lessons.cells import plain
from lstm_lessons.cells.gradcheck import gradient_check
from lstm_lessons.experiments import peephole_dynamics as pd
from lstm_lessons.pytorch.cells import LSTM
from lstm_lessons.pytorch.convert import to_torch

PEEP = ("p_i", "p_f", "p_o")


def _peephole_params(D, H, seed):
    params = randomise_biases(init_lstm_params(D, H, "peephole", seed=seed), seed=seed + 1)
    rng = np.random.default_rng(seed + 2)
    for k in PEEP:
        params[k] = rng.uniform(0.5, 1.5, H) * rng.choice([-1.0, 1.0], H)
    return params


def _plain_args(params):
    return [params[k] for k in ("W_x", "W_h", "b", *PEEP)]


def test_c17_plain_peephole_step_equals_engine():
    """C17: the plain peephole step (the standard one plus three lines) is the engine's step."""
    params = _peephole_params(5, 3, seed=0)
    x, h0, c0 = random_inputs(1, 4, 5, 3, seed=1)[:3]
    h, c, _ = plain.peephole_step_forward(x[0], h0, c0, *_plain_args(params))
    h_e, c_e, _ = lstm_step_forward(x[0], h0, c0, params, "peephole")
    np.testing.assert_allclose(h, h_e, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(c, c_e, rtol=1e-13, atol=1e-15)


def test_c17_plain_peephole_backward_matches_finite_differences():
    """C17: every gradient of the plain peephole step, including dp_i, dp_f, dp_o and dc_prev."""
    D, H = 4, 3
    params = _peephole_params(D, H, seed=3)
    x, h0, c0 = random_inputs(1, 2, D, H, seed=4)[:3]
    rng = np.random.default_rng(5)
    dh, dc = rng.standard_normal((2, 2, H))
    args = {"x": x[0], "h_prev": h0, "c_prev": c0, **params}
    _, _, cache = plain.peephole_step_forward(x[0], h0, c0, *_plain_args(params))
    grads = plain.peephole_step_backward(dh, dc, cache)
    names = ("x", "h_prev", "c_prev", "W_x", "W_h", "b", *PEEP)
    for name, analytic in zip(names, grads, strict=True):

        def f(v, name=name):
            a = dict(args, **{name: v})
            h, c, _ = plain.peephole_step_forward(
                a["x"], a["h_prev"], a["c_prev"], *(a[k] for k in ("W_x", "W_h", "b", *PEEP))
            )
            return np.concatenate([h, c])

        err = gradient_check(f, args[name], analytic, np.concatenate([dh, dc]))
        assert err < 1e-7, (name, err)


def test_c17_engine_peephole_backward_matches_torch_twin():
    """C17: BPTT through the engine's peephole cell equals autograd through the PyTorch twin."""
    T, N, D, H = 7, 3, 4, 5
    params = _peephole_params(D, H, seed=6)
    x, h0, c0 = random_inputs(T, N, D, H, seed=7)[:3]
    dhs = np.random.default_rng(8).standard_normal((T, N, H))
    hs, cs, cache = lstm_forward(x, h0, c0, params, "peephole")
    dx, dh0, dc0, grads = lstm_backward(dhs, cache)

    model = LSTM(D, H, "peephole", dtype=torch.float64)
    model.load_state_dict(to_torch(params, variant="peephole"))
    xt = torch.from_numpy(x).requires_grad_()
    h0t = torch.from_numpy(h0)[None].requires_grad_()
    c0t = torch.from_numpy(c0)[None].requires_grad_()
    out, _ = model(xt, (h0t, c0t))
    np.testing.assert_allclose(out.detach().numpy(), hs, rtol=1e-12, atol=1e-14)
    (out * torch.from_numpy(dhs)).sum().backward()
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dh0, h0t.grad[0].numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dc0, c0t.grad[0].numpy(), rtol=1e-10, atol=1e-12)
    for k in PEEP:
        got = getattr(model, "peephole_" + k[2:] + "_l0").grad.numpy()
        np.testing.assert_allclose(grads[k], got, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads["W_x"], model.weight_ih_l0.grad.numpy().T, rtol=1e-10)


@pytest.mark.parametrize("p, coupling", [([-3.0], 0.0), ([-20.0], 0.0), ([-8.5, -8.5], 8.0)])
def test_c18_map_jacobian_agrees_three_ways(p, coupling):
    """C18: the Jacobian of (c, h) -> (c', h') by the backward pass = finite differences = torch."""
    params = pd.cell_params(p, coupling)
    rng = np.random.default_rng(0)
    c, h = rng.uniform(-1, 1, (2, len(p)))
    J = pd.jacobian(c, h, params)
    np.testing.assert_allclose(J, pd.jacobian_fd(c, h, params), atol=1e-8)
    np.testing.assert_allclose(J, pd.jacobian_torch(c, h, params), rtol=1e-12, atol=1e-14)


def test_c18_fixed_points_are_fixed_points():
    """C18: the fixed points (one unit by bisection, two units by Newton) map to themselves."""
    params = pd.cell_params([0.0, -3.0, -10.0, -30.0])
    c, h = pd.fixed_points(params)
    c1, h1 = pd.step(c[None], h[None], params)
    np.testing.assert_allclose(c1[0], c, atol=1e-12)
    np.testing.assert_allclose(h1[0], h, atol=1e-12)
    params = pd.cell_params([-9.0, -9.0], coupling=8.0)
    c, h = pd.fixed_point(params)
    c1, h1 = pd.step(c[None], h[None], params)
    np.testing.assert_allclose(np.concatenate([c1[0], h1[0]]), np.concatenate([c, h]), atol=1e-12)


@pytest.fixture(scope="module")
def flip():
    return pd.flip_point()


def test_c18_eigenvalue_crosses_minus_one_at_the_flip(flip):
    """C18: one unit: the fixed point's eigenvalue passes -1 at p_flip, and it is the only one."""
    assert -12 < flip < -2
    for p, inside in ((flip + 0.05, True), (flip - 0.05, False)):
        params = pd.cell_params([p])
        c, h = pd.fixed_points(params)
        ev = np.linalg.eigvals(pd.jacobian(c, h, params))
        lead = ev[np.argmax(np.abs(ev))]
        assert abs(lead.imag) < 1e-12 and lead.real < 0  # a real, negative eigenvalue
        assert (abs(lead) < 1) == inside
        assert np.sort(np.abs(ev))[0] < 1e-12  # h feeds nothing back: the other one is 0


def test_c18_period_two_past_the_flip_fixed_point_before(flip):
    """C18: before p_flip the orbit settles on the fixed point; past it on a period-2 cycle."""
    p = np.array([flip + 0.5, flip - 0.5, flip - 3.0])
    cs, lyap = pd.sweep(p, steps=128, discard=3000)
    np.testing.assert_array_equal(pd.period(cs), [1, 2, 2])
    c_star, _ = pd.fixed_points(pd.cell_params(p))
    assert abs(cs[-1, 0] - c_star[0]) < 1e-9
    # The cycle straddles the now unstable fixed point.
    assert cs[-2:, 1].min() < c_star[1] < cs[-2:, 1].max()
    assert np.all(lyap < 0)


def test_c18_period_doubling_then_chaos():
    """C18: period 4 and 8 further on, then a chaotic window with a positive Lyapunov exponent."""
    p = np.array([-3.0, -17.0, -20.2, -28.0])
    cs, lyap = pd.sweep(p, steps=400, discard=2000)
    per = pd.period(cs)
    assert list(per[:3]) == [1, 4, 8]
    assert per[3] == 0  # no period up to 64
    assert lyap[0] < -0.1 and lyap[1] < 0 and lyap[2] < 0
    assert lyap[3] > 0.1
    # The engine's map is deterministic, but a chaotic orbit separates nearby starts.
    params = pd.cell_params([-28.0])
    a, _ = pd.orbit(params, 60, c0=[0.3])
    b, _ = pd.orbit(params, 60, c0=[0.3 + 1e-10])
    assert abs(a[-1, 0] - b[-1, 0]) > 1e-3


def test_c18_two_units_neimark_sacker_closed_curve():
    """C18: two coupled units: a complex pair leaves the unit circle, and a closed curve appears.

    What the chapter reports: the leading pair crosses |lambda| = 1 between p = -8.2 and -8.4
    at an angle far from 0 and pi; just past it the orbit neither settles nor repeats (no period
    up to 64), has Lyapunov exponent ~ 0 and circles the fixed point at a distance that grows
    from zero as p moves past the crossing.
    """
    lams, _ = pd.leading_eigenvalues(np.array([-8.0, -8.2, -8.4]), coupling=8.0)
    assert np.all(np.abs(lams.imag) > 0.3)
    assert abs(lams[1]) < 1 < abs(lams[2])
    assert 100 < abs(np.degrees(np.angle(lams[2]))) < 170
    near = pd.invariant_curve(-8.5, coupling=8.0, steps=600, discard=1500)
    far = pd.invariant_curve(-9.0, coupling=8.0, steps=600, discard=1500)
    for r in (near, far):
        assert r["period"] == 0
        assert abs(r["lyapunov"]) < 0.01
        assert 0.3 < r["rotation"] < 0.5
        assert r["r_min"] > 0.005  # it does not spiral into the fixed point
    assert near["r_max"] < far["r_max"]


def test_cell_params_rejects_bad_input():
    with pytest.raises(ValueError, match="two units"):
        pd.cell_params([-1.0, -2.0, -3.0], coupling=1.0)
    with pytest.raises(ValueError, match="1-D"):
        pd.cell_params(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="independent units"):
        pd.slopes(np.zeros((1, 2)), pd.cell_params([-1.0, -1.0], coupling=1.0))
