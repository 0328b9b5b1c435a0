"""The leaky integrator and EMA, and the gradient checker itself."""

import numpy as np
import pytest

import lstm_lessons as ll


def test_ema_matches_its_recurrence():
    x = np.random.default_rng(0).standard_normal(50)
    a = 0.8
    c, expected = ll.ema(x, a), []
    prev = 0.0
    for x_t in x:
        prev = a * prev + (1 - a) * x_t
        expected.append(prev)
    np.testing.assert_allclose(c, expected, rtol=0, atol=1e-15)


def test_leaky_integrate_with_time_varying_gates():
    rng = np.random.default_rng(1)
    u, f, i = rng.standard_normal((3, 20, 4))
    c = ll.leaky_integrate(u, f, i, c0=np.ones(4))
    assert np.allclose(c[0], f[0] * 1.0 + i[0] * u[0])
    assert np.allclose(c[7], f[7] * c[6] + i[7] * u[7])


def test_leaky_bound_is_reached_by_constant_maximal_input_and_never_exceeded():
    f, i = 0.9, 0.3
    c = ll.leaky_integrate(np.ones(500), f, i)
    bound = ll.leaky_bound(f, i)
    assert bound == pytest.approx(3.0)
    assert c.max() <= bound and c[-1] == pytest.approx(bound, rel=1e-12)


def test_numerical_gradient_leaves_its_input_alone_and_is_accurate():
    x = np.random.default_rng(2).standard_normal((3, 4))
    before = x.copy()
    g = ll.numerical_gradient(lambda a: np.sin(a) * a, x, np.ones_like(x))
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x), rtol=0, atol=1e-9)


def test_gradient_check_flags_a_wrong_gradient():
    x = np.random.default_rng(3).standard_normal(5)
    good = ll.gradient_check(np.tanh, x, 1 - np.tanh(x) ** 2, np.ones(5))
    bad = ll.gradient_check(np.tanh, x, 1 - np.tanh(x), np.ones(5))
    assert good < 1e-9 and bad > 1e-2
    assert ll.relative_error(np.zeros(3), np.zeros(3)) == 0.0


def test_leaky_integrate_with_one_leak_per_unit():
    u = np.random.default_rng(4).standard_normal((30, 4))
    f = np.array([0.1, 0.5, 0.9, 0.99])
    c = ll.leaky_integrate(u, f, 1 - f)
    for k in range(4):
        np.testing.assert_allclose(c[:, k], ll.ema(u[:, k], f[k]), rtol=0, atol=1e-14)


def test_numerical_gradient_does_not_perturb_the_callers_array():
    x = np.array([1.0, -2.0, 3.0])
    # f reads the caller's x as a constant: perturbing x in place would double the gradient.
    g = ll.numerical_gradient(lambda a: a * x, x, np.ones(3))
    np.testing.assert_allclose(g, x, rtol=1e-7)


def test_relative_error_is_symmetric_and_sees_a_zero_gradient():
    assert ll.relative_error(np.zeros(2), np.ones(2)) == 1.0
    assert ll.relative_error(np.ones(2), np.zeros(2)) == 1.0


def test_gradient_check_uses_its_step_size():
    x = np.linspace(-1, 1, 5)
    coarse = ll.gradient_check(np.sin, x, np.cos(x), np.ones(5), eps=1e-2)
    fine = ll.gradient_check(np.sin, x, np.cos(x), np.ones(5), eps=1e-5)
    assert coarse > 1e-6 > fine
