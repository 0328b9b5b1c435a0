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


def _closed_form_flip():
    """The flip point from the one-unit map written out, c' = c/2 + tanh(2) sigma(4 + p c).

    Independent of the package: Newton on (fixed point, slope + 1) = 0 in (c, p), with the
    slope 1/2 + tanh(2) sigma'(4 + p c) p written by hand.
    """

    def sig(z):
        return 1 / (1 + np.exp(-z))

    def residual(v):
        c, p = v
        s = sig(4 + p * c)
        return np.array([c / 2 + np.tanh(2) * s - c, 0.5 + np.tanh(2) * s * (1 - s) * p + 1])

    v = np.array([0.7, -6.8])
    for _ in range(30):
        J = np.empty((2, 2))
        for k in range(2):
            e = np.zeros(2)
            e[k] = 1e-7
            J[:, k] = (residual(v + e) - residual(v - e)) / 2e-7
        v = v - np.linalg.solve(J, residual(v))
    assert np.abs(residual(v)).max() < 1e-12
    return v[1]


@pytest.fixture(scope="module")
def flip():
    return pd.flip_point()


def test_c18_flip_point_is_where_the_closed_form_puts_it(flip):
    """C18: the chapter prints p_flip = -6.83658; it is the written-out map's flip, to 1e-7."""
    assert abs(flip - _closed_form_flip()) < 1e-7
    assert f"{flip:.5f}" == "-6.83658"


def test_c18_eigenvalue_crosses_minus_one_at_the_flip(flip):
    """C18: one unit: the fixed point's eigenvalue passes -1 at p_flip, and it is the only one."""
    for p, inside in ((flip + 1e-4, True), (flip - 1e-4, False)):
        params = pd.cell_params([p])
        c, h = pd.fixed_points(params)
        ev = np.linalg.eigvals(pd.jacobian(c, h, params))
        lead = ev[np.argmax(np.abs(ev))]
        assert abs(lead.imag) < 1e-12 and lead.real < 0  # a real, negative eigenvalue
        assert (abs(lead) < 1) == inside
        assert np.sort(np.abs(ev))[0] < 1e-12  # h feeds nothing back: the other one is 0
    # The eigenvalues the chapter prints at p = -3 and p = -8.
    for p, printed in ((-3.0, "-0.186"), (-8.0, "-1.152")):
        params = pd.cell_params([p])
        c, h = pd.fixed_points(params)
        assert f"{np.linalg.eigvals(pd.jacobian(c, h, params)).real.min():.3f}" == printed


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


@pytest.fixture(scope="module")
def grid_sweep():
    """The chapter's sweep: 321 values of p from 0 to -40, 600 steps after 600 of transient."""
    p_grid = np.linspace(0, -40, 321)
    cs, lyap = pd.sweep(p_grid, steps=600, discard=600, chunk=len(p_grid))
    return p_grid, pd.period(cs), lyap


def test_c18_the_cascade_where_the_chapter_prints_it(grid_sweep):
    """C18: periods 2, 4, 8 first found at p = -7.00, -15.50, -19.75; chaos from about -21.12.

    The periodic orbits are not sensitive to rounding, so their grid points are pinned exactly.
    The onset of chaos is read from a 600-step estimate of the exponent, which near the onset
    is small and varies with the orbit (by about 0.01 from 600 steps at p = -28): it is pinned
    to within two grid steps.
    """
    p_grid, periods, lyap = grid_sweep

    def first(mask):
        return float(p_grid[np.argmax(mask)])

    assert [first(periods == q) for q in (2, 4, 8)] == [-7.0, -15.5, -19.75]
    assert abs(first(lyap > 0.01) - (-21.125)) <= 0.25
    assert periods[np.argmin(np.abs(p_grid + 28))] == 0  # "none up to 64"


def test_c18_lyapunov_exponent_of_a_fixed_point_is_log_of_its_eigenvalue(grid_sweep):
    """C18: the chapter prints -1.68 at p = -3: there the exponent is log|lambda| exactly."""
    p_grid, _, lyap = grid_sweep
    stable = (p_grid > -6.5) & (p_grid < -0.5)
    params = pd.cell_params(p_grid[stable])
    c_star, _ = pd.fixed_points(params)
    log_lam = np.log(np.abs(pd.slopes(c_star[None], params)[0]))
    np.testing.assert_allclose(lyap[stable], log_lam, rtol=1e-6)
    assert f"{lyap[np.argmin(np.abs(p_grid + 3))]:.2f}" == "-1.68"


def test_c18_chaos_at_minus_28_has_the_printed_lyapunov_exponent():
    """C18: the chapter prints 0.357 (sd 0.006) from 32 starting states, 2000 steps each.

    A chaotic orbit amplifies rounding, so its estimate is pinned to the spread between
    starting states: the mean of 32 has a standard error of 0.006 / sqrt(32) = 0.0011, and
    the tolerance is 0.004. Halving the exponent (0.18) or a 600-step bias does not pass.
    """
    starts = np.linspace(0.05, 1.85, 32)
    _, lyap = pd.sweep(np.full(32, -28.0), steps=2000, discard=600, c0=starts, chunk=32)
    assert abs(lyap.mean() - 0.357) < 0.004
    assert 0.003 < lyap.std(ddof=1) < 0.012
    assert np.all(lyap > 0.3)
    # A deviation in the eighth decimal exceeds 0.1 after 42 steps, as printed.
    params = pd.cell_params([-28.0])
    a, _ = pd.orbit(params, 200, c0=[0.3])
    b, _ = pd.orbit(params, 200, c0=[0.3 + 1e-8])
    assert abs(int(np.argmax(np.abs(a[:, 0] - b[:, 0]) > 0.1)) + 1 - 42) <= 1


def test_c18_period_doubling_then_chaos():
    """C18: period 4 and 8 further on, then a chaotic window with a positive Lyapunov exponent."""
    p = np.array([-3.0, -17.0, -20.2, -28.0])
    cs, lyap = pd.sweep(p, steps=400, discard=2000)
    assert list(pd.period(cs)) == [1, 4, 8, 0]  # 0: no period up to 64
    # On a cycle the exponent is log|product of the slopes around it| / period, exactly.
    for k, q in ((1, 4), (2, 8)):
        params = pd.cell_params([p[k]])
        slopes = pd.slopes(cs[-q - 1 : -1, k : k + 1], params)[:, 0]
        np.testing.assert_allclose(lyap[k], np.log(np.abs(slopes.prod())) / q, rtol=1e-6)


def test_c18_cycle_lyapunov_is_exact_on_a_period_two_cycle():
    """cycle_lyapunov: on the one-unit period-2 cycle it is log|f'(c1) f'(c2)| / 2."""
    params = pd.cell_params([-10.0])
    cs, hs = pd.orbit(params, 2, discard=1000)
    slopes = pd.slopes(cs, params)[:, 0]
    expected = np.log(np.abs(slopes.prod())) / 2
    assert abs(pd.cycle_lyapunov(params, cs[0], hs[0], 2) - expected) < 1e-9


def test_c18_finite_difference_error_at_the_default_step_is_rounding():
    """C18/C17: the chapter prints 8.3e-10 for the check at eps = 1e-6 and calls it rounding.

    Truncation grows as eps^2 (measured at eps = 1e-3 and extrapolated); rounding as 1/eps.
    At 1e-6 the error is hundreds of times the extrapolated truncation, and grows when the
    step shrinks. The value itself is rounding, so it depends on the order of floating-point
    operations: across eight random cells it ranges from 4e-10 to 4e-9; the chapter's cell is
    pinned to a factor of 2.
    """
    rng = np.random.default_rng(0)
    T, N, D, H = 6, 3, 4, 5
    params = init_lstm_params(D, H, "peephole", seed=1)
    params["b"] = rng.uniform(-1, 1, 4 * H)
    for k in PEEP:
        params[k] = rng.uniform(-1.5, 1.5, H)
    x = rng.standard_normal((T, N, D))
    h0, c0 = rng.standard_normal((2, N, H))
    dh, dc = rng.standard_normal((2, N, H))
    names = ("W_x", "W_h", "b", *PEEP)
    _, _, cache = plain.peephole_step_forward(x[0], h0, c0, *(params[k] for k in names))
    grads = dict(zip(("x", "h_prev", "c_prev", *names),
                     plain.peephole_step_backward(dh, dc, cache), strict=True))
    inputs = {"x": x[0], "h_prev": h0, "c_prev": c0, **params}

    def error(eps):
        def out(name, v):
            a = {**inputs, name: v}
            h, c, _ = plain.peephole_step_forward(
                a["x"], a["h_prev"], a["c_prev"], *(a[k] for k in names)
            )
            return np.concatenate([h, c])

        return max(
            gradient_check(lambda v, k=k: out(k, v), inputs[k], grads[k],
                           np.concatenate([dh, dc]), eps=eps)
            for k in grads
        )  # fmt: skip

    e3, e4, e6, e7 = (error(eps) for eps in (1e-3, 1e-4, 1e-6, 1e-7))
    assert 80 < e3 / e4 < 120  # the truncation branch: error ~ eps^2
    truncation_at_1e6 = e3 * (1e-6 / 1e-3) ** 2
    assert e6 > 100 * truncation_at_1e6
    assert e7 > 3 * e6  # the rounding branch: the error grows as the step shrinks
    assert 8.3e-10 / 2 < e6 < 8.3e-10 * 2


@pytest.fixture(scope="module")
def neimark_sacker():
    """The chapter's two-unit computation: the crossing, the orbits past it, the locked cycle."""
    p_two = np.linspace(-6.0, -10.0, 41)
    lams, _ = pd.leading_eigenvalues(p_two, 8.0)
    k = int(np.argmax(np.abs(lams) > 1))
    p_ns = float(np.interp(1.0, np.abs(lams[k - 1 : k + 1]), p_two[k - 1 : k + 1]))
    curves = [pd.invariant_curve(p_ns - d, 8.0, steps=800, discard=1500) for d in (0.2, 0.6)]
    lock = pd.invariant_curve(-11.0, 8.0, steps=800, discard=1500)
    return lams[k], p_ns, curves, lock


def test_c18_two_units_neimark_sacker_numbers_as_printed(neimark_sacker):
    """C18: the crossing at -8.28 at 145 degrees (0.404 turns); the curve just past it.

    Quasi-periodic orbits are not sensitive to rounding: the printed numbers are pinned to
    their digits. The interpolated crossing is also checked against bisection to 1e-3.
    """
    lam, p_ns, (near, far), _ = neimark_sacker
    assert f"{p_ns:.2f}" == "-8.28"
    lo, hi = -8.2, -8.4
    for _ in range(12):
        mid = (lo + hi) / 2
        inside = abs(pd.leading_eigenvalues(np.array([mid]), 8.0)[0][0]) < 1
        lo, hi = (mid, hi) if inside else (lo, mid)
    assert abs(p_ns - (lo + hi) / 2) < 1e-3
    angle = np.degrees(abs(np.angle(lam)))
    assert f"{angle:.0f}" == "145" and f"{angle / 360:.3f}" == "0.404"
    printed = {"r_min": "0.016", "r_max": "0.057", "rotation": "0.405"}
    assert {key: f"{near[key]:.3f}" for key in printed} == printed
    assert f"{far['r_max']:.3f}" == "0.098"
    for r in (near, far):
        assert r["period"] == 0  # no period up to 64
        assert abs(r["lyapunov"]) < 2e-3  # zero to the accuracy of an 800-step estimate


def test_c18_neimark_sacker_is_supercritical(neimark_sacker):
    """C18: the curve's size grows like sqrt(distance past the crossing): 0.128 and 0.126."""
    _, _, (near, far), _ = neimark_sacker
    scaled = [near["r_max"] / np.sqrt(0.2), far["r_max"] / np.sqrt(0.6)]
    assert [f"{v:.3f}" for v in scaled] == ["0.128", "0.126"]
    # A linear growth (r ~ distance) would give a ratio of 3, a jump a ratio near 1 at large r.
    assert abs(far["r_max"] / near["r_max"] - np.sqrt(3)) < 0.03


def test_c18_locked_cycle_lyapunov_exponent(neimark_sacker):
    """C18: at p = -11 a period-9 cycle; its exponent -0.14 along the orbit, -0.139 exactly."""
    *_, lock = neimark_sacker
    assert lock["period"] == 9
    params = pd.cell_params([-11.0, -11.0], 8.0)
    exact = pd.cycle_lyapunov(params, lock["cs"][-1], lock["hs"][-1], 9)
    assert f"{exact:.3f}" == "-0.139" and f"{lock['lyapunov']:.2f}" == "-0.14"
    assert abs(lock["lyapunov"] - exact) < 0.005


def test_c18_two_units_neimark_sacker_closed_curve():
    """C18: two coupled units: a complex pair leaves the unit circle, and a closed curve appears.

    The leading pair is complex and crosses |lambda| = 1 between p = -8.2 and -8.4 (the
    orbits past it are tested above).
    """
    lams, _ = pd.leading_eigenvalues(np.array([-8.0, -8.2, -8.4]), coupling=8.0)
    assert np.all(np.abs(lams.imag) > 0.3)
    assert abs(lams[1]) < 1 < abs(lams[2])


def test_sweep_rejects_a_start_per_p_of_the_wrong_shape():
    with pytest.raises(ValueError, match="one start per p"):
        pd.sweep(np.array([-1.0, -2.0]), steps=2, discard=0, c0=[0.1])


def test_cell_params_rejects_bad_input():
    with pytest.raises(ValueError, match="two units"):
        pd.cell_params([-1.0, -2.0, -3.0], coupling=1.0)
    with pytest.raises(ValueError, match="1-D"):
        pd.cell_params(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="independent units"):
        pd.slopes(np.zeros((1, 2)), pd.cell_params([-1.0, -1.0], coupling=1.0))
