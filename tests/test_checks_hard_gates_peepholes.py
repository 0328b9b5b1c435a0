"""lstm_lessons.homework.sets.hard_gates_peepholes: the checks of the sets of chapters 8 and 10.

Right answers, written in more than one way, pass; each deliberate mistake is rejected with
the words of its diagnosis; a blank answer is reported as not done yet; the experiment checks
never print the value they expect.
"""

import numpy as np
import pytest
import torch
from helpers import failure

import lstm_lessons as ll
from lstm_lessons.homework.sets import hard_gates_peepholes as S

# Chapter 8, task 1: the hard sigmoid and its derivative.


def hs_clip(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def hs_loop(x):
    y = np.empty_like(x)
    for k in np.ndindex(x.shape):
        y[k] = min(1.0, max(0.0, 0.2 * float(x[k]) + 0.5))
    return y


def hs_minmax_float32_inside(x):
    y = np.minimum(1, np.maximum(0, x.astype(np.float32) / 5 + np.float32(0.5)))
    return y.astype(x.dtype)


@pytest.mark.parametrize("fn", [hs_clip, hs_loop, hs_minmax_float32_inside, ll.hard_sigmoid])
def test_hard_sigmoid_accepts_right_answers(fn):
    assert "passed" in S.check_hard_sigmoid(fn)


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda x: np.clip(x / 6 + 0.5, 0, 1), "slope 1/6"),
        (lambda x: np.clip(0.25 * x + 0.5, 0, 1), "slope 0.25"),
        (lambda x: 0.2 * x + 0.5, "not cut off at 0 and 1"),
        (lambda x: np.minimum(0.2 * x + 0.5, 1), "cut off at 1 but not at 0"),
        (lambda x: np.maximum(0.2 * x + 0.5, 0), "cut off at 0 but not at 1"),
        (lambda x: np.clip(0.2 * x, 0, 1), "offset 0.5 is missing"),
        (ll.sigmoid, "logistic sigmoid"),
        (lambda x: np.clip(0.2 * x + 0.5, 0, 1).astype(np.float64), "dtype"),
    ],
)
def test_hard_sigmoid_rejects_mistakes(fn, words):
    assert words in failure(S.check_hard_sigmoid, fn)


def hs_grad_where(y):
    return np.where((y > 0) & (y < 1), 0.2, 0.0).astype(y.dtype)


def hs_grad_mask(y):
    return (0.2 * ((0 < y) & (y < 1))).astype(y.dtype)


@pytest.mark.parametrize("fn", [hs_grad_where, hs_grad_mask, ll.activations.hard_sigmoid_grad])
def test_hard_sigmoid_grad_accepts_right_answers(fn):
    assert "passed" in S.check_hard_sigmoid_grad(fn)


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda y: np.full_like(y, 0.2), "flat"),
        (lambda y: np.where((y >= 0) & (y <= 1), 0.2, 0.0).astype(y.dtype), "flat"),
        (lambda y: y * (1 - y), "sigmoid's derivative"),
        (lambda y: ((y > 0) & (y < 1)).astype(y.dtype), "ramp's slope"),
        (lambda y: (((y > 0) & (y < 1)) / 6).astype(y.dtype), "slope 1/6"),
        (lambda y: np.where((y > 0) & (y < 1), 0.0, 0.2).astype(y.dtype), "swapped"),
    ],
)
def test_hard_sigmoid_grad_rejects_mistakes(fn, words):
    assert words in failure(S.check_hard_sigmoid_grad, fn)


def test_blank_answers_are_not_done_yet():
    def hard_sigmoid(x):
        """Template."""
        ...

    assert "not done yet" in failure(S.check_hard_sigmoid, hard_sigmoid)
    assert "not computed yet" in failure(S.check_kept, ...)
    assert "not computed yet" in failure(S.check_p_flip, ...)


# Chapter 8, task 2: the carousel.


def carousel(x, params, variant):
    T, N, _ = x.shape
    H = params["W_h"].shape[0]
    zeros = np.zeros((N, H))
    _, _, cache = ll.lstm_forward(x, zeros, zeros, params, variant)
    dcs = np.zeros((T, N, H))
    dcs[-1] = 1.0
    return ll.lstm_backward(np.zeros((T, N, H)), cache, dcs)[2]


def carousel_torch(x, params, variant):
    """Written differently: autograd through the PyTorch twin."""
    from lstm_lessons.pytorch.cells import LSTM

    T, N, D = x.shape
    H = params["W_h"].shape[0]
    model = LSTM(D, H, variant, dtype=torch.float64)
    model.load_state_dict(ll.to_torch(params, variant=variant))
    c0 = torch.zeros(1, N, H, dtype=torch.float64, requires_grad=True)
    _, (_, c_T) = model(torch.from_numpy(x), (torch.zeros(1, N, H, dtype=torch.float64), c0))
    c_T.sum().backward()
    return c0.grad[0].numpy()


@pytest.mark.parametrize("fn", [carousel, carousel_torch])
def test_carousel_accepts_right_answers(fn):
    assert "passed" in S.check_carousel(fn)
    hidden = ((12, 1, 2, 5, 7, "hard_sigmoid"), (9, 4, 1, 2, 8, "peephole"))
    assert "passed" in S.check_carousel(fn, cases=hidden)


def _wrong_carousel(mistake):
    def fn(x, params, variant):
        T, N, _ = x.shape
        H = params["W_h"].shape[0]
        zeros = np.zeros((N, H))
        _, _, cache = ll.lstm_forward(x, zeros, zeros, params, variant)
        seeds = np.zeros((T, N, H))
        seeds[-1] = 1.0
        if mistake == "h":
            return ll.lstm_backward(seeds, cache)[2]
        if mistake == "all":
            return ll.lstm_backward(np.zeros_like(seeds), cache, np.ones_like(seeds))[2]
        if mistake == "h0":
            return ll.lstm_backward(np.zeros_like(seeds), cache, seeds)[1]
        return cache.gate("f").prod(axis=0)

    return fn


@pytest.mark.parametrize(
    "mistake, words",
    [
        ("h", "seeded the gradient of h_T"),
        ("all", "every step"),
        ("h0", "dL/dh_0"),
        ("f", "product of the forget gates"),
    ],
)
def test_carousel_rejects_mistakes(mistake, words):
    assert words in failure(S.check_carousel, _wrong_carousel(mistake))


def test_kept_accepts_the_measurement_and_hides_the_answer():
    kept = {v: carousel(*S.kept_cell(v), v)[0, 0] for v in ("standard", "hard_sigmoid")}
    assert kept["hard_sigmoid"] == 1.0 and kept["standard"] < 1e-15
    assert "passed" in S.check_kept(kept)
    assert "passed" in S.check_kept({k: float(v) for k, v in kept.items()})
    # Wrong: swapped variants, the gate value instead of the gradient, the wrong keys.
    swapped = {"standard": kept["hard_sigmoid"], "hard_sigmoid": kept["standard"]}
    for wrong in (swapped, {"standard": float(ll.sigmoid(np.array(3.0))), "hard_sigmoid": 0.5}):
        message = failure(S.check_kept, wrong)
        assert "not what" in message
        assert f"{kept['standard']:.3g}" not in message and "7.9" not in message
    assert "keys" in failure(S.check_kept, {"sigmoid": 1.0})
    assert "one number" in failure(S.check_kept, {"standard": np.ones(3), "hard_sigmoid": 1.0})


# Chapter 10, task 2: the peephole backward pass.


def peephole_backward(dh, dc, i, f, g, o, c_prev, c, p_i, p_f, p_o):
    tc = np.tanh(c)
    da_o = dh * tc * o * (1 - o)
    dc = dc + dh * o * (1 - tc**2) + da_o * p_o
    da_i, da_f, da_g = dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2)
    dc_prev = dc * f + da_i * p_i + da_f * p_f
    dps = [(da * s).sum(axis=0) for da, s in ((da_i, c_prev), (da_f, c_prev), (da_o, c))]
    return (da_i, da_f, da_g, da_o, dc_prev, *dps)


def peephole_backward_loops(dh, dc, i, f, g, o, c_prev, c, p_i, p_f, p_o):
    """Written differently: unit by unit, float32 inside, einsum for the sums."""
    N, H = dh.shape
    out = [np.empty((N, H)) for _ in range(5)]
    for k in range(H):
        o32, c32 = o[:, k].astype(np.float32), c[:, k].astype(np.float32)
        da_o = dh[:, k] * np.tanh(c32) * o32 * (1 - o32)
        dct = dc[:, k] + dh[:, k] * o32 * (1 - np.tanh(c32) ** 2) + da_o * p_o[k]
        da_i = dct * g[:, k] * i[:, k] * (1 - i[:, k])
        da_f = dct * c_prev[:, k] * f[:, k] * (1 - f[:, k])
        out[0][:, k], out[1][:, k], out[3][:, k] = da_i, da_f, da_o
        out[2][:, k] = dct * i[:, k] * (1 - g[:, k] ** 2)
        out[4][:, k] = dct * f[:, k] + da_i * p_i[k] + da_f * p_f[k]
    dps = [np.einsum("nh,nh->h", out[j], s) for j, s in ((0, c_prev), (1, c_prev), (3, c))]
    return (*out, *dps)


def peephole_backward_torch(dh, dc, i, f, g, o, c_prev, c, p_i, p_f, p_o):
    """Written differently: autograd on the pre-activations, recovered from the gates."""
    t = {k: torch.from_numpy(v) for k, v in dict(i=i, f=f, g=g, o=o, c_prev=c_prev).items()}
    peep = {
        k: torch.from_numpy(v).requires_grad_() for k, v in dict(p_i=p_i, p_f=p_f, p_o=p_o).items()
    }
    cp = t["c_prev"].clone().requires_grad_()
    a_i = (torch.logit(t["i"]) - peep["p_i"].detach() * t["c_prev"]).requires_grad_()
    a_f = (torch.logit(t["f"]) - peep["p_f"].detach() * t["c_prev"]).requires_grad_()
    a_g = torch.atanh(t["g"]).requires_grad_()
    c_new = torch.sigmoid(a_f + peep["p_f"] * cp) * cp + torch.sigmoid(
        a_i + peep["p_i"] * cp
    ) * torch.tanh(a_g)
    a_o = (torch.logit(t["o"]) - peep["p_o"].detach() * c_new.detach()).requires_grad_()
    h = torch.sigmoid(a_o + peep["p_o"] * c_new) * torch.tanh(c_new)
    ((h * torch.from_numpy(dh)).sum() + (c_new * torch.from_numpy(dc)).sum()).backward()
    return (
        a_i.grad.numpy(),
        a_f.grad.numpy(),
        a_g.grad.numpy(),
        a_o.grad.numpy(),
        cp.grad.numpy(),
        *(peep[k].grad.numpy() for k in ("p_i", "p_f", "p_o")),
    )


@pytest.mark.parametrize(
    "fn", [peephole_backward, peephole_backward_loops, peephole_backward_torch]
)
def test_peephole_backward_accepts_right_answers(fn):
    assert "passed" in S.check_peephole_backward(fn)
    assert "passed" in S.check_peephole_backward(fn, cases=((2, 3, 7, 5), (5, 1, 3, 6)))


def _wrong_backward(**switches):
    def fn(dh, dc, i, f, g, o, c_prev, c, p_i, p_f, p_o):
        return S._peephole_backward(dh, dc, i, f, g, o, c_prev, c, p_i, p_f, p_o, **switches)

    return fn


def _unsummed(dh, dc, i, f, g, o, c_prev, c, p_i, p_f, p_o):
    r = peephole_backward(dh, dc, i, f, g, o, c_prev, c, p_i, p_f, p_o)
    tc = np.tanh(c)
    da_o = dh * tc * o * (1 - o)
    return (*r[:7], da_o * c)


@pytest.mark.parametrize(
    "fn, words",
    [
        (_wrong_backward(o_term=False), "da_o * p_o; it is missing"),
        (_wrong_backward(if_terms=False), "da_i * p_i + da_f * p_f"),
        (_wrong_backward(late_o=True), "too late"),
        (_wrong_backward(dp_o_state="c_prev"), "dp_o multiplies da_o"),
        (_unsummed, "summed over the batch"),
        (lambda *a: tuple(-v for v in peephole_backward(*a)), "wrong sign"),
        (lambda *a: peephole_backward(*a)[:5], "returned 5 values"),
    ],
)
def test_peephole_backward_rejects_mistakes(fn, words):
    assert words in failure(S.check_peephole_backward, fn)


# Chapter 10, task 3: the fixed point and p_flip.


def fixed_point_bisection(params):
    def next_c(c):
        h = np.zeros((1, 1))
        return ll.lstm_step_forward(np.ones((1, 1)), h, np.array([[c]]), params, "peephole")[1][
            0, 0
        ]

    f = ll.sigmoid(params["W_x"][0, 1])
    lo, hi = -1 / (1 - f), 1 / (1 - f)
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if next_c(mid) > mid else (lo, mid)
    c = (lo + hi) / 2
    return c, (next_c(c + 1e-6) - next_c(c - 1e-6)) / 2e-6


def fixed_point_newton(params):
    """Written differently: the equations by hand, Newton's method, analytic slope, float32 out."""
    a_i, a_f, a_g, _ = params["W_x"][0]
    p = params["p_i"][0]
    f, g = ll.sigmoid(a_f), np.tanh(a_g)

    def slope(c):
        i = ll.sigmoid(a_i + p * c)
        return f + i * (1 - i) * p * g

    def r(c):
        return f * c + ll.sigmoid(a_i + p * c) * g - c

    grid = np.linspace(-1 / (1 - f), 1 / (1 - f), 2001)
    c = grid[np.argmax(r(grid) < 0)]  # the first grid point past the root, then Newton
    for _ in range(50):
        c = c - r(c) / (slope(c) - 1)
    return np.float32(c), np.float32(slope(c))


def fixed_point_iterated(params):
    """Wrong past the flip: iterating converges only to a stable fixed point."""
    c = np.zeros((1, 1))
    for _ in range(500):
        c = ll.lstm_step_forward(np.ones((1, 1)), np.zeros((1, 1)), c, params, "peephole")[1]
    return fixed_point_bisection(params)[1] * 0 + c[0, 0], fixed_point_bisection(params)[1]


@pytest.mark.parametrize("fn", [fixed_point_bisection, fixed_point_newton])
def test_fixed_point_accepts_right_answers(fn):
    assert "passed" in S.check_fixed_point(fn)
    hidden = ((-12.0, (3.0, 0.5, 1.5, 0.0)), (-1.0, (1.0, -1.0, 0.5, 1.0)))
    assert "passed" in S.check_fixed_point(fn, cases=hidden)


@pytest.mark.parametrize(
    "fn, words",
    [
        (fixed_point_iterated, "converges only to a stable fixed point"),
        (
            lambda params: (fixed_point_bisection(params)[0], -fixed_point_bisection(params)[1]),
            "sign is flipped",
        ),
        (
            lambda params: (fixed_point_bisection(params)[0], fixed_point_bisection(params)[1] - 1),
            "slope of c' - c",
        ),
        (lambda params: (fixed_point_bisection(params)[0], 0.0), "dc'/dc"),
        (lambda params: fixed_point_bisection(params)[0], "expected the 2 values"),
    ],
)
def test_fixed_point_rejects_mistakes(fn, words):
    message = failure(S.check_fixed_point, fn)
    assert words in message


def test_p_flip_accepts_values_within_the_tolerance_and_hides_the_answer():
    lo, hi = -12.0, 0.0
    while hi - lo > 1e-6:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if S._slope_at(mid) > -1 else (mid, hi)
    p = (lo + hi) / 2
    assert "passed" in S.check_p_flip(p)
    assert "passed" in S.check_p_flip(np.float32(p + 5e-4))
    for wrong in (p + 0.01, p - 0.01, -3.0):
        message = failure(S.check_p_flip, wrong)
        assert "not -1" in message and f"{p:.3f}" not in message
    assert "negative" in failure(S.check_p_flip, 6.8)
    assert "one number" in failure(S.check_p_flip, [p, p])
