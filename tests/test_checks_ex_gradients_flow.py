"""Checks of the exercise sets of chapters 2 and 3: right answers pass, each mistake is named.

Every correct implementation below, however it is written, must pass; every wrong one must be
rejected with a message that names its mistake, in plain words and without a traceback.
"""

import numpy as np
import pytest
import torch
from helpers import failure

import lstm_lessons as ll
from lstm_lessons.experiments import cell_state as carousel
from lstm_lessons.experiments import vanishing_gradients as gf
from lstm_lessons.homework.sets import gradient_flow as ex

# Chapter 2, task 1: clip_gradients on float32, zeros and a norm at the limit.


def clip_copy(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g * g) for g in grads))
    if norm <= max_norm:
        return [g.copy() for g in grads]
    return [g * (max_norm / norm) for g in grads]


def clip_concatenate(grads, max_norm):
    norm = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
    return [g * min(1.0, max_norm / max(norm, 1e-300)) for g in grads]


def clip_torch(grads, max_norm):
    tensors = [torch.tensor(g) for g in grads]
    for t in tensors:
        t.grad = t.clone()
    torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    return [t.grad.numpy() for t in tensors]


def clip_divides_by_zero(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g * g) for g in grads))
    with np.errstate(all="ignore"):
        return [g * min(1.0, max_norm / norm) if norm > 0 else g / norm for g in grads]


def clip_in_float64(grads, max_norm):
    return [np.asarray(g, dtype=np.float64) for g in clip_copy(grads, max_norm)]


def clip_always(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g * g) for g in grads))
    with np.errstate(all="ignore"):
        return [g * (max_norm / norm) for g in grads]


def clip_large_epsilon(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g * g) for g in grads))
    if norm < max_norm:
        return [g.copy() for g in grads]
    return [g * (max_norm / (norm + 1e-3)) for g in grads]


def clip_per_array(grads, max_norm):
    with np.errstate(all="ignore"):
        return [g * min(1.0, max_norm / np.linalg.norm(g)) for g in grads]


@pytest.mark.parametrize("fn", [clip_copy, clip_concatenate, clip_torch])
def test_clip_more_passes_right_answers(fn):
    assert "passed" in ex.check_clip_more(fn)


@pytest.mark.parametrize(
    "fn, words",
    [
        (clip_divides_by_zero, ["all-zero gradients", "NaN", "divided by the global norm"]),
        (clip_in_float64, ["float32 arrays", "values are right", "keep the dtype"]),
        (clip_always, ["all-zero gradients", "NaN"]),
        (clip_large_epsilon, ["norm equals max_norm", "clipped[0] has wrong values"]),
        (clip_per_array, ["float32 arrays", "each array by its own norm"]),
        (lambda grads, max_norm: ..., ["not done yet"]),
    ],
)
def test_clip_more_names_the_mistake(fn, words):
    message = failure(ex.check_clip_more, fn)
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"


# Chapter 2, task 2: gradient norms through time and the rate per step.


def norms_loop(x, h0, params, u):
    hs, _ = ll.rnn_forward(x, h0, params)
    h = np.concatenate([h0[None], hs])
    T = hs.shape[0]
    d = u
    norms = [np.linalg.norm(d, axis=1)]
    for t in range(T, 0, -1):
        d = (d * (1 - h[t] ** 2)) @ params["W_h"].T
        norms.append(np.linalg.norm(d, axis=1))
    return np.array(norms)


def norms_by_units(x, h0, params, u):
    """Written differently: own forward pass, one unit at a time, Jacobians as matrices."""
    T, N, _ = x.shape
    H = h0.shape[1]
    h = [h0]
    for t in range(T):
        h.append(np.tanh(x[t] @ params["W_x"] + h[-1] @ params["W_h"] + params["b"]))
    out = np.zeros((T + 1, N))
    for n in range(N):
        d = u[n]
        out[0, n] = np.sqrt(np.sum(d**2))
        for k in range(1, T + 1):
            J = np.diag(1 - h[T - k + 1][n] ** 2) @ params["W_h"].T  # (H, H)
            d = d @ J
            out[k, n] = np.sqrt(sum(d[m] ** 2 for m in range(H)))
    return out


def norms_package(x, h0, params, u):
    return gf.gradient_norms_through_time(params, x, h0, u)


def _wrong_norms(**kwargs):
    def fn(x, h0, params, u):
        return ex._norms_with(x, h0, params, u, **kwargs)

    return fn


def norms_no_slope(x, h0, params, u):
    hs, _ = ll.rnn_forward(x, h0, params)
    d, norms = u, [np.linalg.norm(u, axis=1)]
    for _ in range(hs.shape[0]):
        d = d @ params["W_h"].T
        norms.append(np.linalg.norm(d, axis=1))
    return np.array(norms)


def norms_by_step(x, h0, params, u):
    return norms_loop(x, h0, params, u)[::-1]


def norms_squared(x, h0, params, u):
    return norms_loop(x, h0, params, u) ** 2


def norms_without_distance_0(x, h0, params, u):
    return norms_loop(x, h0, params, u)[1:]


def norms_mean_over_batch(x, h0, params, u):
    return norms_loop(x, h0, params, u).mean(axis=1)


ALL_CASES = [{}, {"T": 9, "N": 1, "D": 4, "H": 6, "seed": 5, "h0_scale": 0.5, "w_scale": 3.0}]


@pytest.mark.parametrize("fn", [norms_loop, norms_by_units, norms_package])
@pytest.mark.parametrize("case", ALL_CASES)
def test_gradient_norms_passes_right_answers(fn, case):
    assert "passed" in ex.check_gradient_norms(fn, **case)


@pytest.mark.parametrize(
    "fn, words",
    [
        (norms_no_slope, ["slope is missing", "1 - h_t**2"]),
        (_wrong_norms(transpose=False), ["you multiplied by W_h", "transpose"]),
        (_wrong_norms(slope="h_prev"), ["off by one in time", "h_{t-1}"]),
        (_wrong_norms(slope="tanh_again"), ["applied tanh to h again"]),
        (_wrong_norms(slope="no_square"), ["with a square"]),
        (norms_by_step, ["order of the steps", "reverse"]),
        (norms_squared, ["squared norms"]),
        (norms_without_distance_0, ["10 rows for 10 steps", "distance 0"]),
        (norms_mean_over_batch, ["one norm per sequence"]),
        (lambda x, h0, params, u: ..., ["not done yet"]),
        (lambda x, h0, params, u: None, ["None"]),
        (None, ["not defined yet"]),
    ],
)
def test_gradient_norms_names_the_mistake(fn, words):
    message = failure(ex.check_gradient_norms, fn)
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"


def test_hidden_case_catches_what_the_public_one_cannot():
    """An answer that hard-codes h0 = 0 passes the public check and fails the hidden one."""

    def zero_start(x, h0, params, u):
        return norms_loop(x, np.zeros_like(h0), params, u)

    assert "passed" in ex.check_gradient_norms(zero_start)
    failure(ex.check_gradient_norms, zero_start, **ALL_CASES[1])


@pytest.fixture(scope="module")
def network():
    """The setup of the ch02 notebook."""
    H, T, N = 16, 40, 8
    W_h = gf.matrix_with_spectral_radius(H, 0.9, kind="gaussian", seed=0)
    params = {"W_x": 1e-3 * np.eye(H), "W_h": W_h, "b": np.zeros(H)}
    rng = np.random.default_rng(1)
    x = rng.standard_normal((T, N, H))
    h0 = np.zeros((N, H))
    u = rng.standard_normal((N, H))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return {"norms": norms_loop(x, h0, params, u), "x": x, "h0": h0, "params": params, "u": u}


def test_decay_rate_passes_and_compares_with_rho(network):
    norms = network["norms"]
    T = norms.shape[0] - 1
    typical = np.exp(np.log(norms).mean(axis=1))
    rate = (typical[T] / typical[T // 2]) ** (1 / (T - T // 2))
    message = ex.check_decay_rate(rate, **network)
    assert "spectral radius rho(W_h) = 0.900" in message and "sigma_max" in message
    assert abs(rate - 0.9) < 0.01  # the measured rate is close to rho, far from sigma_max


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda n: 1 / ex._rate(n), ["upside down"]),
        (lambda n: ex._rate(n, root=1), ["20-th root"]),
        (lambda n: ex._rate(n, root=40), ["not T = 40"]),
        (lambda n: ex._rate(n, start=0), ["transient", "second half"]),
        (lambda n: ex._rate(n, mean="arithmetic"), ["geometric mean"]),
        (lambda n: 0.5, ["The formula is rate = (typical[T] / typical[T // 2])"]),
        (lambda n: ..., ["not computed yet"]),
        (lambda n: n[:, 0], ["one number"]),
    ],
)
def test_decay_rate_names_the_mistake(network, change, words):
    message = failure(ex.check_decay_rate, change(network["norms"]), **network)
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"


def test_decay_rate_blames_wrong_norms_not_the_formula(network):
    # The right formula on wrong norms keeps its point: the norms' task already lost one.
    wrong = ex._norms_with(network["x"], network["h0"], network["params"], network["u"],
                           transpose=False)  # fmt: skip
    passed = ex.check_decay_rate(ex._rate(wrong), **{**network, "norms": wrong})
    assert "the right formula for your norms" in passed and "not right yet" in passed


# Chapter 3, task 1: the cell update over many steps.


def cell_update(f, i, g, c_prev):
    return f * c_prev + i * g


def cell_update_loops(f, i, g, c_prev):
    c = np.empty_like(c_prev)
    for n in range(c.shape[0]):
        for k in range(c.shape[1]):
            c[n, k] = f[n, k] * c_prev[n, k] + i[n, k] * g[n, k]
    return c


@pytest.mark.parametrize("fn", [cell_update, cell_update_loops])
def test_cell_update_carousel_passes_right_answers(fn):
    assert "carousel" in ex.check_cell_update_carousel(fn)


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda f, i, g, c_prev: np.tanh(f * c_prev + i * g), ["tanh to c"]),
        (lambda f, i, g, c_prev: f * g + i * c_prev, ["f and i are swapped"]),
        (lambda f, i, g, c_prev: (f * c_prev + i * g).astype(np.float64), ["dtype float64"]),
        (
            lambda f, i, g, c_prev: (
                (f * c_prev + i * g) * np.where(f == 1, 0.999, 1).astype(f.dtype)
            ),
            ["carousel"],
        ),
        (lambda f, i, g, c_prev: ..., ["not done yet"]),
    ],
)
def test_cell_update_carousel_names_the_mistake(fn, words):
    message = failure(ex.check_cell_update_carousel, fn)
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"


# Chapter 3, task 2: products of forget gates and the ratio measured / predicted.


def products_loop(f):
    T = f.shape[0]
    P = np.ones((T + 1, *f.shape[1:]))
    for t in reversed(range(T)):
        P[t] = f[t] * P[t + 1]
    return P


def products_cumprod(f):
    tail = np.cumprod(f[::-1], axis=0)[::-1]  # tail[t] = f[t] * ... * f[T-1]
    return np.concatenate([tail, np.ones((1, *f.shape[1:]))])


def products_by_division(f):
    total = np.prod(f, axis=0)
    with np.errstate(all="ignore"):
        return np.concatenate([total[None], total / np.cumprod(f, axis=0)])


def products_skip(f):
    return np.concatenate([products_loop(f)[1:], np.ones((1, *f.shape[1:]))])


def products_from_start(f):
    return np.concatenate([np.ones((1, *f.shape[1:])), np.cumprod(f, axis=0)])


@pytest.mark.parametrize("fn", [products_loop, products_cumprod])
@pytest.mark.parametrize("closed", [False, True])
def test_forget_products_passes_right_answers(fn, closed):
    assert "passed" in ex.check_forget_products(fn, T=6, N=3, H=4, seed=5, closed=closed)


def test_reference_products_are_the_packages():
    params = ll.init_lstm_params(3, 4, seed=2, forget_bias=1.0)
    x = np.random.default_rng(0).standard_normal((7, 2, 3))
    _, _, cache = ll.lstm_forward(x, np.zeros((2, 4)), np.zeros((2, 4)), params)
    expected = carousel.forget_gate_products(cache)
    np.testing.assert_allclose(ex._products(cache.gate("f")), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "fn, words, kwargs",
    [
        (products_skip, ["one step too late"], {}),
        (products_from_start, ["from the start of the sequence"], {}),
        (lambda f: products_loop(f)[::-1], ["order of the distance"], {}),
        (lambda f: products_loop(1 - f), ["products of (1 - f)"], {}),
        (lambda f: products_loop(f)[:-1], ["8 rows for 8 steps", "P[T] = 1"], {}),
        (products_by_division, ["exactly 0", "multiply backwards"], {"closed": True}),
        (lambda f: ..., ["not done yet"], {}),
    ],
)
def test_forget_products_names_the_mistake(fn, words, kwargs):
    message = failure(ex.check_forget_products, fn, **kwargs)
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"


def test_division_passes_the_public_check_and_fails_the_hidden_one():
    assert "passed" in ex.check_forget_products(products_by_division)
    failure(ex.check_forget_products, products_by_division, T=6, N=3, H=4, seed=5, closed=True)


@pytest.fixture(scope="module")
def cells():
    """The setup of the ch03 notebook, with the right ratios."""
    T, D, H = 40, 4, 6
    x = np.random.default_rng(0).standard_normal((T, D))
    cells = {
        "strong": ll.init_lstm_params(D, H, seed=1, forget_bias=3.0),
        "weak": ll.init_lstm_params(D, H, seed=1, forget_bias=0.0),
    }
    grads = {name: carousel.carousel_gradients(x, p) for name, p in cells.items()}
    return x, cells, grads


def _ratios(grads, products=products_loop, **kwargs):
    out = {}
    for name, g in grads.items():
        P = products(g.cache.gate("f"))[:, 0]
        out[name] = ex._ratio(g.measured, P, **kwargs)
    return out


def test_carousel_ratio_passes_and_reports_the_distance_20(cells):
    x, params, grads = cells
    message = ex.check_carousel_ratio(_ratios(grads), x, params)
    assert "0.9 times the product for the cell 'strong'" in message
    assert "13 times the product for the cell 'weak'" in message


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda g: {k: 1 / v for k, v in _ratios(g).items()}, ["upside down"]),
        (lambda g: _ratios(g, reduce=np.mean), ["median"]),
        (lambda g: {k: v[::-1] for k, v in _ratios(g).items()}, ["order of the distance"]),
        (lambda g: _ratios(g, products=products_skip), ["forget_products is not right yet"]),
        (lambda g: {"strong": _ratios(g)["strong"]}, ["no entry for 'weak'"]),
        (lambda g: {}, ["still empty", "not done yet"]),
        (lambda g: ..., ["not computed yet"]),
        (lambda g: [1.0, 2.0], ["should be a dict"]),
    ],
)
def test_carousel_ratio_names_the_mistake(cells, make, words):
    x, params, grads = cells
    message = failure(ex.check_carousel_ratio, make(grads), x, params)
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"
