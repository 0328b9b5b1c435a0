"""Students' implementations for the checks in ``lstm_lessons.homework.checks``: right and wrong.

``CORRECT[check]`` lists implementations that must pass ``check``: the package's
own code wrapped in the student's signature, and versions written differently
(loops instead of matmuls, one matmul per gate, float32 inside, torch autograd).
``WRONG[check]`` lists ``(implementation, words)``: each implementation makes one
known mistake, and the check must fail with a message that contains every one of
``words``. ``CHECK_ARGS[check]`` holds extra positional arguments of a check.
The exercise pipeline's CI runs them against the checks, like tests/test_checks.py::

    getattr(lstm_lessons.homework.checks, name)(fn, *CHECK_ARGS.get(name, ()))
"""

import math

import numpy as np
import torch

from lstm_lessons import gru_step_forward, lstm_step_forward, rnn_step_forward
from lstm_lessons import sigmoid as package_sigmoid


def _sig(z):
    """A stable sigmoid, so that a wrong implementation below makes only its own mistake."""
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _blocks(a, n):
    return np.split(a, n, axis=1)


# sigmoid(x) -> y


def sigmoid_package(x):
    return package_sigmoid(x)


def sigmoid_branches(x):
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def sigmoid_logaddexp(x):
    return np.exp(-np.logaddexp(0, -x))


def sigmoid_loop(x):
    y = np.empty_like(x)
    for k in np.ndindex(x.shape):
        v = float(x[k])
        y[k] = 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
    return y


def sigmoid_naive(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_naive_where(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def sigmoid_clip_700(x):  # safe in float64, overflows in float32
    return 1 / (1 + np.exp(-np.clip(x, -700, 700)))


def sigmoid_clip_10(x):
    return 1 / (1 + np.exp(-np.clip(x, -10, 10)))


def sigmoid_exp_plus(x):
    return 1 / (1 + np.exp(x))


def sigmoid_tanh(x):
    return np.tanh(x)


def sigmoid_half_tanh(x):
    return 0.5 * (1 + np.tanh(x))


def sigmoid_no_reciprocal(x):
    return 1 + np.exp(-x)


def sigmoid_minus(x):
    return 1 / (1 - np.exp(-x))


def sigmoid_derivative(x):
    s = _sig(x)
    return s * (1 - s)


def sigmoid_float64(x):
    return _sig(x).astype(np.float64)


def sigmoid_list(x):
    return _sig(x).tolist()


# forget_gate(x, h_prev, W_xf, W_hf, b_f) -> f


def forget_gate(x, h_prev, W_xf, W_hf, b_f):
    return _sig(x @ W_xf + h_prev @ W_hf + b_f)


def forget_gate_loops(x, h_prev, W_xf, W_hf, b_f):
    N, D = x.shape
    H = h_prev.shape[1]
    f = np.zeros((N, H))
    for n in range(N):
        for k in range(H):
            a = b_f[k]
            for d in range(D):
                a += x[n, d] * W_xf[d, k]
            for j in range(H):
                a += h_prev[n, j] * W_hf[j, k]
            f[n, k] = 1 / (1 + math.exp(-a))
    return f


def forget_gate_float32_inside(x, h_prev, W_xf, W_hf, b_f):
    a = (x.astype(np.float32) @ W_xf.astype(np.float32)) + h_prev.astype(np.float32) @ W_hf.astype(
        np.float32
    )
    return _sig(a + b_f.astype(np.float32)).astype(x.dtype)


def forget_gate_no_bias(x, h_prev, W_xf, W_hf, b_f):
    return _sig(x @ W_xf + h_prev @ W_hf)


def forget_gate_bias_outside(x, h_prev, W_xf, W_hf, b_f):
    return _sig(x @ W_xf + h_prev @ W_hf) + b_f


def forget_gate_tanh(x, h_prev, W_xf, W_hf, b_f):
    return np.tanh(x @ W_xf + h_prev @ W_hf + b_f)


def forget_gate_exp_plus(x, h_prev, W_xf, W_hf, b_f):
    return 1 / (1 + np.exp(x @ W_xf + h_prev @ W_hf + b_f))


def forget_gate_W_hf_transposed(x, h_prev, W_xf, W_hf, b_f):
    return _sig(x @ W_xf + h_prev @ W_hf.T + b_f)


def forget_gate_no_recurrence(x, h_prev, W_xf, W_hf, b_f):
    return _sig(x @ W_xf + b_f)


def forget_gate_column_vectors(x, h_prev, W_xf, W_hf, b_f):
    return _sig(W_xf @ x + W_hf @ h_prev + b_f)


def forget_gate_transposed_result(x, h_prev, W_xf, W_hf, b_f):
    return _sig(x @ W_xf + h_prev @ W_hf + b_f).T


# cell_update(f, i, g, c_prev) -> c


def cell_update(f, i, g, c_prev):
    return f * c_prev + i * g


def cell_update_other_order(f, i, g, c_prev):
    return np.add(np.multiply(g, i), np.multiply(c_prev, f))


def cell_update_swapped(f, i, g, c_prev):
    return f * g + i * c_prev


def cell_update_no_f(f, i, g, c_prev):
    return c_prev + i * g


def cell_update_i_twice(f, i, g, c_prev):
    return i * c_prev + i * g


def cell_update_minus(f, i, g, c_prev):
    return f * c_prev - i * g


def cell_update_tanh(f, i, g, c_prev):
    return np.tanh(f * c_prev + i * g)


def cell_update_matmul(f, i, g, c_prev):
    return f @ c_prev + i @ g


# ema(x, a) -> c


def ema_loop(x, a):
    c, out = 0.0, []
    for x_t in x:
        c = a * c + (1 - a) * x_t
        out.append(c)
    return np.array(out)


def ema_closed_form(x, a):
    T = len(x)
    t = np.arange(1, T + 1)
    weights = (1 - a) * a ** (t[:, None] - t[None, :]) * (t[:, None] >= t[None, :])
    return (weights @ x).astype(x.dtype)  # the task asks for the dtype of x


def ema_swapped(x, a):
    return ema_loop(x, 1 - a)


def ema_start_at_x1(x, a):
    c = np.empty_like(x)
    c[0] = x[0]
    for t in range(1, len(x)):
        c[t] = a * c[t - 1] + (1 - a) * x[t]
    return c


def ema_stored_before_update(x, a):
    c, out = 0.0, []
    for x_t in x:
        out.append(c)
        c = a * c + (1 - a) * x_t
    return np.array(out)


def ema_with_c0(x, a):
    return np.concatenate([[0.0], ema_loop(x, a)])


def ema_previous_input(x, a):
    return ema_loop(np.concatenate([[0.0], x[:-1]]), a)


def ema_start_at_1(x, a):
    c, out = 1.0, []
    for x_t in x:
        c = a * c + (1 - a) * x_t
        out.append(c)
    return np.array(out)


def ema_no_one_minus_a(x, a):
    c, out = 0.0, []
    for x_t in x:
        c = a * c + x_t
        out.append(c)
    return np.array(out)


def ema_list(x, a):
    return ema_loop(x, a).tolist()


def ema_last_only(x, a):
    return float(ema_loop(x, a)[-1])


def ema_index_error(x, a):
    c = np.zeros_like(x)
    for t in range(len(x)):
        c[t] = a * c[t - 1] + (1 - a) * x[t] if t > 0 else (1 - a) * x[t]
    return c[len(x)]


# rnn_step(x, h_prev, W_x, W_h, b) -> h


def rnn_step_package(x, h_prev, W_x, W_h, b):
    return rnn_step_forward(x, h_prev, {"W_x": W_x, "W_h": W_h, "b": b})[0]


def rnn_step_einsum(x, h_prev, W_x, W_h, b):
    return np.tanh(np.einsum("nd,dh->nh", x, W_x) + np.einsum("nk,kh->nh", h_prev, W_h) + b)


def rnn_step_no_tanh(x, h_prev, W_x, W_h, b):
    return x @ W_x + h_prev @ W_h + b


def rnn_step_no_bias(x, h_prev, W_x, W_h, b):
    return np.tanh(x @ W_x + h_prev @ W_h)


def rnn_step_no_recurrence(x, h_prev, W_x, W_h, b):
    return np.tanh(x @ W_x + b)


def rnn_step_sigmoid(x, h_prev, W_x, W_h, b):
    return _sig(x @ W_x + h_prev @ W_h + b)


def rnn_step_W_h_transposed(x, h_prev, W_x, W_h, b):
    return np.tanh(x @ W_x + h_prev @ W_h.T + b)


# lstm_step(x, h_prev, c_prev, W_x, W_h, b) -> (h, c)


def lstm_step_package(x, h_prev, c_prev, W_x, W_h, b):
    h, c, _ = lstm_step_forward(x, h_prev, c_prev, {"W_x": W_x, "W_h": W_h, "b": b})
    return h, c


def _lstm(x, h_prev, c_prev, W_x, W_h, b, order="ifgo", gate=_sig, cand=np.tanh, out=np.tanh):
    a = x @ W_x + h_prev @ W_h + b
    blk = dict(zip(order, _blocks(a, 4), strict=True))
    i, f, o, g = gate(blk["i"]), gate(blk["f"]), gate(blk["o"]), cand(blk["g"])
    c = f * c_prev + i * g
    return o * out(c), c


def lstm_step_four_matmuls(x, h_prev, c_prev, W_x, W_h, b):
    H = h_prev.shape[1]

    def pre(k):
        cols = slice(k * H, (k + 1) * H)
        return x @ W_x[:, cols] + h_prev @ W_h[:, cols] + b[cols]

    o = _sig(pre(3))
    g = np.tanh(pre(2))
    f = _sig(pre(1))
    i = _sig(pre(0))
    c = i * g + f * c_prev
    return o * np.tanh(c), c


def lstm_step_loops(x, h_prev, c_prev, W_x, W_h, b):
    N, D = x.shape
    H = h_prev.shape[1]
    h, c = np.zeros((N, H)), np.zeros((N, H))
    for n in range(N):
        for k in range(H):
            a = [b[m * H + k] for m in range(4)]
            for m in range(4):
                a[m] += sum(x[n, d] * W_x[d, m * H + k] for d in range(D))
                a[m] += sum(h_prev[n, j] * W_h[j, m * H + k] for j in range(H))
            i, f, o = (1 / (1 + math.exp(-a[m])) for m in (0, 1, 3))
            c[n, k] = f * c_prev[n, k] + i * math.tanh(a[2])
            h[n, k] = o * math.tanh(c[n, k])
    return h, c


def lstm_step_float32_inside(x, h_prev, c_prev, W_x, W_h, b):
    args = (v.astype(np.float32) for v in (x, h_prev, c_prev, W_x, W_h, b))
    return tuple(v.astype(np.float64) for v in _lstm(*args))


def lstm_step_order_figo(*args):
    return _lstm(*args, order="figo")


def lstm_step_order_ifog(*args):
    return _lstm(*args, order="ifog")


def lstm_step_no_bias(x, h_prev, c_prev, W_x, W_h, b):
    return _lstm(x, h_prev, c_prev, W_x, W_h, 0.0 * b)


def lstm_step_no_tanh_on_c(*args):
    return _lstm(*args, out=lambda c: c)


def lstm_step_tanh_c_prev(x, h_prev, c_prev, W_x, W_h, b):
    h, c = _lstm(x, h_prev, c_prev, W_x, W_h, b)
    o = _sig((x @ W_x + h_prev @ W_h + b)[:, 3 * h.shape[1] :])
    return o * np.tanh(c_prev), c


def lstm_step_sigmoid_candidate(*args):
    return _lstm(*args, cand=_sig)


def lstm_step_tanh_gates(*args):
    return _lstm(*args, gate=np.tanh)


def lstm_step_exp_plus(*args):
    return _lstm(*args, gate=lambda z: 1 / (1 + np.exp(z)))


def lstm_step_returns_c_h(*args):
    h, c = _lstm(*args)
    return c, h


def lstm_step_returns_cache(*args):
    h, c = _lstm(*args)
    return h, c, {"h": h, "c": c}


def lstm_step_in_place(x, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = _blocks(x @ W_x + h_prev @ W_h + b, 4)
    c_prev *= _sig(f)
    c_prev += _sig(i) * np.tanh(g)
    return _sig(o) * np.tanh(c_prev), c_prev


def lstm_step_transposed(*args):
    h, c = _lstm(*args)
    return h.T, c.T


def lstm_step_float32_result(*args):
    return tuple(v.astype(np.float32) for v in _lstm(*args))


# cifg_step(x, h_prev, c_prev, W_x, W_h, b) -> (h, c)


def cifg_step_package(x, h_prev, c_prev, W_x, W_h, b):
    params = {"W_x": W_x, "W_h": W_h, "b": b}
    h, c, _ = lstm_step_forward(x, h_prev, c_prev, params, variant="cifg")
    return h, c


def _cifg(x, h_prev, c_prev, W_x, W_h, b, order="igo", keep=lambda i: 1 - i, out=np.tanh):
    blk = dict(zip(order, _blocks(x @ W_x + h_prev @ W_h + b, 3), strict=True))
    i, g, o = _sig(blk["i"]), np.tanh(blk["g"]), _sig(blk["o"])
    c = keep(i) * c_prev + i * g
    return o * out(c), c


def cifg_step_separate(x, h_prev, c_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    i = _sig(x @ W_x[:, :H] + h_prev @ W_h[:, :H] + b[:H])
    g = np.tanh(x @ W_x[:, H : 2 * H] + h_prev @ W_h[:, H : 2 * H] + b[H : 2 * H])
    o = _sig(x @ W_x[:, 2 * H :] + h_prev @ W_h[:, 2 * H :] + b[2 * H :])
    c = c_prev + i * (g - c_prev)  # = (1 - i) * c_prev + i * g
    return o * np.tanh(c), c


def cifg_step_f_equals_i(*args):
    return _cifg(*args, keep=lambda i: i)


def cifg_step_roles_swapped(x, h_prev, c_prev, W_x, W_h, b):
    i, g, o = _blocks(x @ W_x + h_prev @ W_h + b, 3)
    i, g, o = _sig(i), np.tanh(g), _sig(o)
    c = i * c_prev + (1 - i) * g
    return o * np.tanh(c), c


def cifg_step_four_blocks(x, h_prev, c_prev, W_x, W_h, b):
    H = W_x.shape[1] // 4
    i, f, g, o = (x @ W_x + h_prev @ W_h + b)[:, : 4 * H].reshape(len(x), 4, H).transpose(1, 0, 2)
    c = _sig(f) * c_prev + _sig(i) * np.tanh(g)
    return _sig(o) * np.tanh(c), c


def cifg_step_order_gio(*args):
    return _cifg(*args, order="gio")


def cifg_step_no_bias(x, h_prev, c_prev, W_x, W_h, b):
    return _cifg(x, h_prev, c_prev, W_x, W_h, 0.0 * b)


def cifg_step_tanh_c_prev(x, h_prev, c_prev, W_x, W_h, b):
    h, c = _cifg(x, h_prev, c_prev, W_x, W_h, b)
    o = _sig((x @ W_x + h_prev @ W_h + b)[:, 2 * h.shape[1] :])
    return o * np.tanh(c_prev), c


# peephole_gates(a, c_prev, p_i, p_f, p_o) -> (i, f, g, o, c)


def peephole_gates(a, c_prev, p_i, p_f, p_o, order="ifgo", o_state=None, outside=False):
    blk = dict(zip(order, _blocks(a, 4), strict=True))

    def gate(k, p, state):
        return _sig(blk[k]) + p * state if outside else _sig(blk[k] + p * state)

    i, f, g = gate("i", p_i, c_prev), gate("f", p_f, c_prev), np.tanh(blk["g"])
    c = f * c_prev + i * g
    o = gate("o", p_o, c if o_state is None else o_state)
    return i, f, g, o, c


def peephole_gates_package(a, c_prev, p_i, p_f, p_o):
    N, GH = a.shape
    H = GH // 4
    params = {"W_x": np.eye(GH), "W_h": np.zeros((H, GH)), "b": np.zeros(GH)}
    params.update(p_i=p_i, p_f=p_f, p_o=p_o)
    _, c, cache = lstm_step_forward(a, np.zeros((N, H)), c_prev, params, variant="peephole")
    return tuple(np.array(v) for v in (cache.i, cache.f, cache.g, cache.o, c))


def peephole_gates_loops(a, c_prev, p_i, p_f, p_o):
    N, H = c_prev.shape
    out = [np.zeros((N, H)) for _ in range(5)]
    for n in range(N):
        for k in range(H):
            ai, af, ag, ao = (a[n, m * H + k] for m in range(4))
            i = 1 / (1 + math.exp(-(ai + p_i[k] * c_prev[n, k])))
            f = 1 / (1 + math.exp(-(af + p_f[k] * c_prev[n, k])))
            g = math.tanh(ag)
            c = f * c_prev[n, k] + i * g
            o = 1 / (1 + math.exp(-(ao + p_o[k] * c)))
            for arr, v in zip(out, (i, f, g, o, c), strict=True):
                arr[n, k] = v
    return tuple(out)


def peephole_gates_o_reads_c_prev(a, c_prev, p_i, p_f, p_o):
    return peephole_gates(a, c_prev, p_i, p_f, p_o, o_state=c_prev)


def peephole_gates_p_swapped(a, c_prev, p_i, p_f, p_o):
    return peephole_gates(a, c_prev, p_f, p_i, p_o)


def peephole_gates_outside(a, c_prev, p_i, p_f, p_o):
    return peephole_gates(a, c_prev, p_i, p_f, p_o, outside=True)


def peephole_gates_no_p_o(a, c_prev, p_i, p_f, p_o):
    return peephole_gates(a, c_prev, p_i, p_f, 0.0 * p_o)


def peephole_gates_order_figo(a, c_prev, p_i, p_f, p_o):
    return peephole_gates(a, c_prev, p_i, p_f, p_o, order="figo")


def peephole_gates_returns_h_c(a, c_prev, p_i, p_f, p_o):
    i, f, g, o, c = peephole_gates(a, c_prev, p_i, p_f, p_o)
    return o * np.tanh(c), c


# gru_step(x, h_prev, W_x, W_h, b, b_hn) -> h


def gru_step_package(x, h_prev, W_x, W_h, b, b_hn):
    return gru_step_forward(x, h_prev, {"W_x": W_x, "W_h": W_h, "b": b, "b_hn": b_hn})[0]


def gru_step(x, h_prev, W_x, W_h, b, b_hn, order="rzn", reset="inside", swap_z=False):
    bx = dict(zip(order, _blocks(x @ W_x + b, 3), strict=True))
    bh = dict(zip(order, _blocks(h_prev @ W_h, 3), strict=True))
    r, z = _sig(bx["r"] + bh["r"]), _sig(bx["z"] + bh["z"])
    if reset == "inside":
        n = np.tanh(bx["n"] + r * (bh["n"] + b_hn))
    elif reset == "outside":
        n = np.tanh(bx["n"] + r * bh["n"] + b_hn)
    else:  # r applied to h_prev before the matmul
        H = h_prev.shape[1]
        n = np.tanh(bx["n"] + (r * h_prev) @ W_h[:, 2 * H :] + b_hn)
    return z * n + (1 - z) * h_prev if swap_z else (1 - z) * n + z * h_prev


def gru_step_separate(x, h_prev, W_x, W_h, b, b_hn):
    H = h_prev.shape[1]
    W_xr, W_xz, W_xn = np.split(W_x, 3, axis=1)
    W_hr, W_hz, W_hn = np.split(W_h, 3, axis=1)
    b_r, b_z, b_n = np.split(b, 3)
    z = _sig(x @ W_xz + b_z + h_prev @ W_hz)
    r = _sig(x @ W_xr + b_r + h_prev @ W_hr)
    n = np.tanh(x @ W_xn + b_n + r * (h_prev @ W_hn + b_hn))
    assert n.shape[1] == H
    return n + z * (h_prev - n)


def gru_step_z_swapped(*args):
    return gru_step(*args, swap_z=True)


def gru_step_reset_outside(*args):
    return gru_step(*args, reset="outside")


def gru_step_reset_before(*args):
    return gru_step(*args, reset="before")


def gru_step_order_zrn(*args):
    return gru_step(*args, order="zrn")


def gru_step_no_b_hn(x, h_prev, W_x, W_h, b, b_hn):
    return gru_step(x, h_prev, W_x, W_h, b, 0.0 * b_hn)


def gru_step_sigmoid_candidate(x, h_prev, W_x, W_h, b, b_hn):
    ax_r, ax_z, ax_n = _blocks(x @ W_x + b, 3)
    ah_r, ah_z, ah_n = _blocks(h_prev @ W_h, 3)
    r, z = _sig(ax_r + ah_r), _sig(ax_z + ah_z)
    n = _sig(ax_n + r * (ah_n + b_hn))
    return (1 - z) * n + z * h_prev


# lstm_cell_backward(dh, dc, i, f, g, o, c_prev, c) -> (da_i, da_f, da_g, da_o, dc_prev)


def cell_backward(dh, dc, i, f, g, o, c_prev, c, h_path=True, sig_grad=None, dc_prev_f=True):
    sig_grad = sig_grad or (lambda s: s * (1 - s))
    tc = np.tanh(c)
    dc_total = dc + (dh * o * (1 - tc**2) if h_path else 0.0)
    da_o = dh * tc * sig_grad(o)
    da_i = dc_total * g * sig_grad(i)
    da_f = dc_total * c_prev * sig_grad(f)
    da_g = dc_total * i * (1 - g**2)
    return da_i, da_f, da_g, da_o, dc_total * f if dc_prev_f else dc_total


def cell_backward_autograd(dh, dc, i, f, g, o, c_prev, c):
    """From the pre-activations, by torch autograd: nothing written by hand."""
    a = torch.tensor(
        np.concatenate(
            [np.log(i / (1 - i)), np.log(f / (1 - f)), np.arctanh(g), np.log(o / (1 - o))], 1
        ),
        requires_grad=True,
    )
    cp = torch.tensor(c_prev, requires_grad=True)
    ai, af, ag, ao = a.chunk(4, dim=1)
    c_new = torch.sigmoid(af) * cp + torch.sigmoid(ai) * torch.tanh(ag)
    h = torch.sigmoid(ao) * torch.tanh(c_new)
    loss = (h * torch.from_numpy(dh)).sum() + (c_new * torch.from_numpy(dc)).sum()
    loss.backward()
    return (*(t.numpy() for t in a.grad.chunk(4, dim=1)), cp.grad.numpy())


def cell_backward_no_h_path(*args):
    return cell_backward(*args, h_path=False)


def cell_backward_one_minus_c_squared(dh, dc, i, f, g, o, c_prev, c):
    dc_total = dc + dh * o * (1 - c**2)
    s = lambda v: v * (1 - v)  # noqa: E731
    return (dc_total * g * s(i), dc_total * c_prev * s(f), dc_total * i * (1 - g**2),
            dh * np.tanh(c) * s(o), dc_total * f)  # fmt: skip


def cell_backward_dc_prev_without_f(*args):
    return cell_backward(*args, dc_prev_f=False)


def cell_backward_sigmoid_grad_s(*args):
    return cell_backward(*args, sig_grad=lambda s: s)


def cell_backward_di_df_swapped(dh, dc, i, f, g, o, c_prev, c):
    da_i, da_f, da_g, da_o, dc_prev = cell_backward(dh, dc, i, f, g, o, c_prev, c)
    dc_total = dc_prev / f
    return dc_total * c_prev * i * (1 - i), dc_total * g * f * (1 - f), da_g, da_o, dc_prev


def cell_backward_order_f_i(*args):
    da_i, da_f, da_g, da_o, dc_prev = cell_backward(*args)
    return da_f, da_i, da_g, da_o, dc_prev


def cell_backward_do_with_c(dh, dc, i, f, g, o, c_prev, c):
    da_i, da_f, da_g, _, dc_prev = cell_backward(dh, dc, i, f, g, o, c_prev, c)
    return da_i, da_f, da_g, dh * c * o * (1 - o), dc_prev


def cell_backward_only_da_o_wrong(dh, dc, i, f, g, o, c_prev, c):
    da_i, da_f, da_g, _, dc_prev = cell_backward(dh, dc, i, f, g, o, c_prev, c)
    return da_i, da_f, da_g, dh * np.tanh(c) * o, dc_prev


def cell_backward_sign(*args):
    return tuple(-v for v in cell_backward(*args))


# clip_gradients(grads, max_norm) -> list of arrays


def clip_gradients(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    return [g * (max_norm / norm) for g in grads] if norm > max_norm else [g.copy() for g in grads]


def clip_gradients_concatenate(grads, max_norm):
    norm = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
    scale = min(1.0, max_norm / norm)
    return tuple(scale * g for g in grads)


def clip_gradients_torch(grads, max_norm):
    tensors = [torch.tensor(g, requires_grad=True) for g in grads]
    for t in tensors:
        t.grad = t.detach().clone()
    torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    return [t.grad.numpy() for t in tensors]


def clip_gradients_per_array(grads, max_norm):
    return [g * min(1.0, max_norm / np.linalg.norm(g)) for g in grads]


def clip_gradients_elementwise(grads, max_norm):
    return [np.clip(g, -max_norm, max_norm) for g in grads]


def clip_gradients_always(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    return [g * (max_norm / norm) for g in grads]


def clip_gradients_in_place(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    if norm > max_norm:
        for g in grads:
            g *= max_norm / norm
    return grads


def clip_gradients_inverted(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    return [g * (norm / max_norm) for g in grads] if norm > max_norm else list(grads)


def clip_gradients_sum_of_norms(grads, max_norm):
    norm = sum(np.linalg.norm(g) for g in grads)
    return [g * (max_norm / norm) for g in grads] if norm > max_norm else list(grads)


def clip_gradients_with_norm(grads, max_norm):
    return clip_gradients(grads, max_norm), float(np.sqrt(sum(np.sum(g**2) for g in grads)))


def clip_gradients_one_array(grads, max_norm):
    return np.concatenate([g.ravel() for g in clip_gradients(grads, max_norm)])


# check_gradient(grad_fn, package_sigmoid): grad_fn(x, dout) -> dL/dx of L = sum(sigmoid(x) * dout)


def sigmoid_grad(x, dout):
    s = _sig(x)
    return dout * s * (1 - s)


def sigmoid_grad_loop(x, dout):
    dx = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        e = math.exp(-x[k])
        dx[k] = dout[k] * e / (1 + e) ** 2
    return dx


def sigmoid_grad_sign(x, dout):
    return -sigmoid_grad(x, dout)


def sigmoid_grad_no_dout(x, dout):
    s = _sig(x)
    return s * (1 - s)


def sigmoid_grad_twice(x, dout):
    return 2 * sigmoid_grad(x, dout)


def sigmoid_grad_forward(x, dout):
    return _sig(x)


def sigmoid_grad_tanh_rule(x, dout):
    s = _sig(x)
    return dout * (1 - s**2)


def sigmoid_grad_transposed(x, dout):
    return sigmoid_grad(x, dout).T


# check_state_distance: d_t = mean over n of ||h_t - h'_t|| for two runs of the simple RNN.
def _rnn_states(x, h0, params):
    h, hs = h0, []
    for x_t in x:
        h = np.tanh(x_t @ params["W_x"] + h @ params["W_h"] + params["b"])
        hs.append(h)
    return np.array(hs)  # (T, N, H)


def state_distance_loop(x, x_prime, h0, params):
    gap = _rnn_states(x, h0, params) - _rnn_states(x_prime, h0, params)
    return np.array([np.mean([np.sqrt(np.sum(g_n**2)) for g_n in g_t]) for g_t in gap])


def state_distance_package(x, x_prime, h0, params):
    from lstm_lessons import rnn_forward

    gap = rnn_forward(x, h0, params)[0] - rnn_forward(x_prime, h0, params)[0]
    return np.linalg.norm(gap, axis=2).mean(axis=1)


def state_distance_squared(x, x_prime, h0, params):
    gap = _rnn_states(x, h0, params) - _rnn_states(x_prime, h0, params)
    return (gap**2).sum(axis=2).mean(axis=1)


def state_distance_summed(x, x_prime, h0, params):
    gap = _rnn_states(x, h0, params) - _rnn_states(x_prime, h0, params)
    return np.linalg.norm(gap, axis=2).sum(axis=1)


def state_distance_per_sequence(x, x_prime, h0, params):
    gap = _rnn_states(x, h0, params) - _rnn_states(x_prime, h0, params)
    return np.linalg.norm(gap, axis=2)  # (T, N): not averaged


def state_distance_with_h0(x, x_prime, h0, params):
    d = state_distance_package(x, x_prime, h0, params)
    return np.concatenate([[0.0], d])  # T + 1 entries


CORRECT = {
    "check_sigmoid": [sigmoid_package, sigmoid_branches, sigmoid_logaddexp, sigmoid_loop],
    "check_forget_gate": [forget_gate, forget_gate_loops, forget_gate_float32_inside],
    "check_cell_update": [cell_update, cell_update_other_order],
    "check_ema": [ema_loop, ema_closed_form],
    "check_rnn_step": [rnn_step_einsum],
    "check_lstm_step": [
        lstm_step_four_matmuls,
        lstm_step_loops,
        lstm_step_float32_inside,
    ],
    "check_cifg_step": [cifg_step_separate],
    "check_peephole_gate": [peephole_gates, peephole_gates_package, peephole_gates_loops],
    "check_gru_step": [gru_step_package, gru_step, gru_step_separate],
    "check_lstm_step_backward": [cell_backward, cell_backward_autograd],
    "check_clip_gradients": [clip_gradients, clip_gradients_concatenate, clip_gradients_torch],
    "check_gradient": [sigmoid_grad, sigmoid_grad_loop],
    "check_state_distance": [state_distance_loop, state_distance_package],
}

# Right answers that call the package's function the check compares with, which the task
# forbids: the check refuses them (tests/test_grading_checks.py).
FORBIDDEN = {
    "check_rnn_step": rnn_step_package,
    "check_lstm_step": lstm_step_package,
    "check_cifg_step": cifg_step_package,
}

WRONG = {
    "check_sigmoid": [
        (sigmoid_naive, ["overflow", "x = [-1000.]", "non-positive"]),
        (sigmoid_naive_where, ["overflow", "both branches"]),
        (sigmoid_clip_700, ["overflow", "x = [-100.] (float32)"]),
        (sigmoid_clip_10, ["clipped to +-10"]),
        (sigmoid_exp_plus, ["exp(-x)"]),
        (sigmoid_tanh, ["tanh(x)"]),
        (sigmoid_half_tanh, ["sigma(2x)", "tanh(x / 2)"]),
        (sigmoid_no_reciprocal, ["reciprocal"]),
        (sigmoid_minus, ["not 1 - exp(-x)"]),
        (sigmoid_derivative, ["derivative"]),
        (sigmoid_float64, ["dtype float64; expected float32"]),
        (sigmoid_list, ["is a list", "expected a NumPy array of shape (3, 4)"]),
    ],
    "check_forget_gate": [
        (forget_gate_no_bias, ["bias b_f is missing"]),
        (forget_gate_bias_outside, ["after the sigmoid"]),
        (forget_gate_tanh, ["tanh where the sigmoid belongs"]),
        (forget_gate_exp_plus, ["exp(-x)"]),
        (forget_gate_W_hf_transposed, ["W_hf is transposed"]),
        (forget_gate_no_recurrence, ["h_prev @ W_hf is missing"]),
        (forget_gate_column_vectors, ["raised ValueError", "row vectors", "W_xf @ x"]),
        (forget_gate_transposed_result, ["expected (N, H) = (3, 4), got (4, 3)", "transpose"]),
    ],
    "check_cell_update": [
        (cell_update_swapped, ["f and i are swapped"]),
        (cell_update_no_f, ["factor f is missing"]),
        (cell_update_i_twice, ["scaled c_prev by i"]),
        (cell_update_minus, ["wrong sign"]),
        (cell_update_tanh, ["tanh"]),
        (cell_update_matmul, ["raised ValueError", "element by element"]),
    ],
    "check_ema": [
        (ema_swapped, ["a and 1 - a are swapped"]),
        (ema_start_at_x1, ["c_0 = x_1"]),
        (ema_stored_before_update, ["off by one in time", "c_{t-1}"]),
        (ema_with_c0, ["T + 1 = 9", "c_0 = 0"]),
        (ema_previous_input, ["off by one in time", "x_{t-1}"]),
        (ema_start_at_1, ["c_0 = 1;"]),
        (ema_no_one_minus_a, ["factor (1 - a)"]),
        (ema_list, ["is a list"]),
        (ema_last_only, ["single number", "only the last value"]),
        (ema_index_error, ["raised IndexError", "c_0 = 0 is not part of the result"]),
    ],
    "check_rnn_step": [
        (rnn_step_no_tanh, ["tanh is missing"]),
        (rnn_step_no_bias, ["bias b is missing"]),
        (rnn_step_no_recurrence, ["h_prev @ W_h is missing"]),
        (rnn_step_sigmoid, ["simple RNN uses tanh"]),
        (rnn_step_W_h_transposed, ["W_h is transposed"]),
    ],
    "check_lstm_step": [
        (lstm_step_order_figo, ["order f, i, g, o", "order is i, f, g, o"]),
        (lstm_step_order_ifog, ["order i, f, o, g"]),
        (lstm_step_no_bias, ["bias b is missing"]),
        (lstm_step_no_tanh_on_c, ["h = o * c", "tanh of the cell state"]),
        (lstm_step_tanh_c_prev, ["c_{t-1}", "These are right: c."]),
        (lstm_step_sigmoid_candidate, ["sigmoid to the candidate"]),
        (lstm_step_tanh_gates, ["tanh for the gates"]),
        (lstm_step_exp_plus, ["exp(-x)"]),
        (lstm_step_returns_c_h, ["(c, h)"]),
        (lstm_step_returns_cache, ["returned 3 values", "(h, c)"]),
        (lstm_step_in_place, ["in place", "c_prev"]),
        (lstm_step_transposed, ["expected (N, H) = (3, 4), got (4, 3)"]),
        (lstm_step_float32_result, ["dtype float32; expected float64"]),
    ],
    "check_cifg_step": [
        (cifg_step_f_equals_i, ["f = i"]),
        (cifg_step_roles_swapped, ["i and 1 - i are swapped"]),
        (cifg_step_four_blocks, ["raised ValueError", "no f block"]),
        (cifg_step_order_gio, ["order g, i, o", "order is i, g, o"]),
        (cifg_step_no_bias, ["bias b is missing"]),
        (cifg_step_tanh_c_prev, ["c_{t-1}"]),
    ],
    "check_peephole_gate": [
        (peephole_gates_o_reads_c_prev, ["output gate reads the new state", "c_{t-1}"]),
        (peephole_gates_p_swapped, ["p_i and p_f are swapped"]),
        (peephole_gates_outside, ["after the sigmoid"]),
        (peephole_gates_no_p_o, ["p_o * c of the output gate is missing"]),
        (peephole_gates_order_figo, ["order f, i, g, o"]),
        (peephole_gates_returns_h_c, ["returned 2 values", "(i, f, g, o, c)"]),
    ],
    "check_gru_step": [
        (gru_step_z_swapped, ["z and 1 - z are swapped"]),
        (gru_step_reset_outside, ["b_hn outside"]),
        (gru_step_reset_before, ["before the matmul"]),
        (gru_step_order_zrn, ["order z, r, n", "order is r, z, n"]),
        (gru_step_no_b_hn, ["b_hn is missing"]),
        (gru_step_sigmoid_candidate, ["sigmoid to the candidate"]),
    ],
    "check_lstm_step_backward": [
        (cell_backward_no_h_path, ["path through h is missing"]),
        (cell_backward_one_minus_c_squared, ["not 1 - c**2"]),
        (cell_backward_dc_prev_without_f, ["dc_prev misses the factor f"]),
        (cell_backward_sigmoid_grad_s, ["s alone"]),
        (cell_backward_di_df_swapped, ["di and df are swapped"]),
        (cell_backward_order_f_i, ["order (da_f, da_i, da_g, da_o, dc_prev)"]),
        (cell_backward_do_with_c, ["do = dh * tanh(c)"]),
        (cell_backward_only_da_o_wrong, ["- da_o:", "s alone", "right: da_i, da_f, da_g, dc_prev"]),
        (cell_backward_sign, ["wrong sign"]),
    ],
    "check_clip_gradients": [
        (clip_gradients_per_array, ["its own norm"]),
        (clip_gradients_elementwise, ["element by element"]),
        (clip_gradients_always, ["below max_norm"]),
        (clip_gradients_in_place, ["changed its argument `grads[0]` in place"]),
        (clip_gradients_inverted, ["max_norm / norm, not norm / max_norm"]),
        (clip_gradients_sum_of_norms, ["sum of the arrays' norms"]),
        (clip_gradients_with_norm, ["(clipped, norm)"]),
        (clip_gradients_one_array, ["returned an array of shape (26,)", "a list of 3 arrays"]),
    ],
    "check_gradient": [
        (sigmoid_grad_sign, ["relative error", "sign is wrong"]),
        (sigmoid_grad_no_dout, ["dout is missing"]),
        (sigmoid_grad_twice, ["twice"]),
        (sigmoid_grad_forward, ["forward value"]),
        (sigmoid_grad_tanh_rule, ["relative error", "largest error is at dx["]),
        (sigmoid_grad_transposed, ["dx is transposed"]),
    ],
    "check_state_distance": [
        (state_distance_squared, ["squared distances"]),
        (state_distance_summed, ["sum over the sequences"]),
        (state_distance_per_sequence, ["one distance per step and sequence"]),
        (state_distance_with_h0, ["leave out h0"]),
    ],
}

CHECK_ARGS = {"check_gradient": (package_sigmoid,)}
