"""Checks for whole cells: a step of the simple RNN, the LSTM, CIFG, the peephole gates, the GRU.

Every mistake a check can name is written out below as the cell it computes
(``_lstm``, ``_cifg``, ``_peephole``, ``_gru`` with one switch flipped); a
student's output that equals one of them, to the checks' tolerance, gets that
mistake's message. The gate-order mistakes try every order of the blocks.
"""

from functools import partial
from itertools import permutations

import numpy as np

from ...cells.activations import sigmoid as _sigmoid
from ...cells.gru import gru_step_forward
from ...cells.rnn import rnn_step_forward
from ..language import tr
from .calling import call, display_name, refuse_package_call
from .cases import CASES, cell_from_a, lstm_inputs, step
from .report import verdict

# The package's functions that compute a step of the LSTM (or its variants): what the
# checks of lstm_step and cifg_step compare with, so a graded step must not use them.
REFERENCE_STEPS = ("lstm_step_forward", "lstm_forward", "cifg_step_forward",
                   "peephole_step_forward")  # fmt: skip

NH = ("N", "H")


def _identity(z):
    return z


def _neg_sigmoid(z):
    return _sigmoid(-z)


def _blocks(a, order, H):
    return {k: a[:, n * H : (n + 1) * H] for n, k in enumerate(order)}


def _order_message(order, correct, what="a = x @ W_x + h_prev @ W_h + b"):
    return tr(
        "you read the blocks of {what} in the order {order}; the package's order is "
        "{correct} (columns 0 to H-1 hold block {first}, the next H columns "
        "block {second}, and so on).",
        what=what,
        order=", ".join(order),
        correct=", ".join(correct),
        first=correct[0],
        second=correct[1],
    )


# Unpacking the wrong number of blocks, e.g. `i, f, g, o = np.split(a, 3, axis=1)`.
# The hint is a function, so that it is said in the language of the moment it is shown.
UNPACK_HINT = (
    (
        lambda e: isinstance(e, ValueError) and "unpack" in str(e),
        lambda: tr(
            "a has 4 blocks of H columns, in the order i, f, g, o: "
            "`i, f, g, o = np.split(a, 4, axis=1)`."
        ),
    ),
)


def _rnn_mistakes(x, h_prev, W_x, W_h, b):
    xw, hw = x @ W_x, h_prev @ W_h
    return {
        tr("the tanh is missing: h = tanh(a) with a = x @ W_x + h_prev @ W_h + b."): xw + hw + b,
        tr("the bias b is missing: h = tanh(x @ W_x + h_prev @ W_h + b)."): np.tanh(xw + hw),
        tr("the recurrent term h_prev @ W_h is missing: the previous state must feed in."): (
            np.tanh(xw + b)
        ),
        tr("you used the sigmoid; the simple RNN uses tanh."): _sigmoid(xw + hw + b),
        tr(
            "W_h is transposed: with row vectors the recurrent term is h_prev @ W_h, "
            "(N, H) @ (H, H)."
        ): np.tanh(xw + h_prev @ W_h.T + b),
    }


def check_rnn_step(rnn_step, cases=CASES):
    """Check the student's ``rnn_step(x, h_prev, W_x, W_h, b) -> h``.

    x (N, D), h_prev (N, H), W_x (D, H), W_h (H, H), b (H,) ->
    h = tanh(x @ W_x + h_prev @ W_h + b), shape (N, H), as the package's
    ``rnn_step_forward``. ``cases`` lists the (N, D, H, seed) to try.
    """
    name = display_name(rnn_step, "rnn_step")
    refuse_package_call(rnn_step, ("rnn_step_forward",), name)
    for N, D, H, seed in cases:
        args = lstm_inputs(N, D, H, seed, G=1)
        del args["c_prev"]
        params = {k: args[k] for k in ("W_x", "W_h", "b")}
        expected, _ = rnn_step_forward(args["x"], args["h_prev"], params)
        got = call(rnn_step, args, name=name)
        verdict(
            name,
            got,
            expected,
            "h",
            letters=NH,
            candidates=partial(_rnn_mistakes, **args),
            recipe="h = tanh(x @ W_x + h_prev @ W_h + b).",
        )
    return tr("{name}: passed.", name=name)


def _lstm(
    x,
    h_prev,
    c_prev,
    W_x,
    W_h,
    b,
    *,
    order="ifgo",
    sigma=_sigmoid,
    phi_g=np.tanh,
    phi_c=np.tanh,
    bias=True,
    h_reads_c_prev=False,
    c_from_h_prev=False,
    use_o=True,
):
    """The standard cell with switches for the mistakes a student can make; returns (h, c)."""
    H = h_prev.shape[1]
    blk = _blocks(x @ W_x + h_prev @ W_h + (b if bias else 0.0), order, H)  # (N, 4H)
    i, f, o = sigma(blk["i"]), sigma(blk["f"]), sigma(blk["o"])
    g = phi_g(blk["g"])
    c = f * (h_prev if c_from_h_prev else c_prev) + i * g
    h = (o if use_o else 1.0) * phi_c(c_prev if h_reads_c_prev else c)
    return h, c


def _lstm_mistakes(args):
    h, c = _lstm(**args)
    # c_{t-1} goes in as a value: braces in a template are placeholders.
    mistakes = {
        tr("you returned (c, h); the order is (h, c): `return h, c`."): (c, h),
        tr("the bias b is missing: a = x @ W_x + h_prev @ W_h + b."): _lstm(**args, bias=False),
        tr("h = o * c: the tanh of the cell state is missing, h = o * tanh(c)."): (
            _lstm(**args, phi_c=_identity)
        ),
        tr(
            "h = o * tanh(c_prev): h reads the new cell state c_t of this step, not {c_prev}.",
            c_prev="c_{t-1}",
        ): _lstm(**args, h_reads_c_prev=True),
        tr("the output gate is missing: h = o * tanh(c)."): _lstm(**args, use_o=False),
        tr("you applied the sigmoid to the candidate; g = tanh(a_g), between -1 and 1."): (
            _lstm(**args, phi_g=_sigmoid)
        ),
        tr("the candidate has no tanh: g = tanh(a_g)."): _lstm(**args, phi_g=_identity),
        tr("you used tanh for the gates i, f, o; gates use the sigmoid."): (
            _lstm(**args, sigma=np.tanh)
        ),
        tr("your gates are sigma(-a): the sigmoid uses exp(x) where exp(-x) belongs."): (
            _lstm(**args, sigma=_neg_sigmoid)
        ),
        tr(
            "c = f * h_prev + i * g: the forget gate scales the old cell state c_prev, not h_prev."
        ): _lstm(**args, c_from_h_prev=True),
    }
    for order in permutations("ifgo"):
        if order != tuple("ifgo"):
            mistakes[_order_message(order, "ifgo")] = _lstm(**args, order=order)
    return mistakes


def check_lstm_step(lstm_step, cases=CASES):
    """Check the student's ``lstm_step(x, h_prev, c_prev, W_x, W_h, b) -> (h, c)``.

    x (N, D), h_prev and c_prev (N, H), W_x (D, 4H), W_h (H, 4H), b (4H,), with the
    blocks of 4H in the order i, f, g, o; h and c (N, H) as computed by the
    package's ``lstm_step_forward``. ``cases`` lists the (N, D, H, seed) to try.
    """
    name = display_name(lstm_step, "lstm_step")
    refuse_package_call(lstm_step, REFERENCE_STEPS, name)
    for N, D, H, seed in cases:
        args = lstm_inputs(N, D, H, seed)
        h, c, _ = step(args)
        got = call(lstm_step, args, name=name, hints=UNPACK_HINT)
        verdict(
            name,
            got,
            (h, c),
            ("h", "c"),
            letters=NH,
            candidates=partial(_lstm_mistakes, args),
            recipe="a = x @ W_x + h_prev @ W_h + b, split into a_i, a_f, a_g, a_o; "
            "i, f, o = sigma(a_i), sigma(a_f), sigma(a_o); g = tanh(a_g); "
            "c = f * c_prev + i * g; h = o * tanh(c).",
        )
    return tr("{name}: passed.", name=name)


def _cifg(
    x,
    h_prev,
    c_prev,
    W_x,
    W_h,
    b,
    *,
    order="igo",
    forget="1-i",
    bias=True,
    phi_g=np.tanh,
    phi_c=np.tanh,
    h_reads_c_prev=False,
):
    """The CIFG cell (f = 1 - i) with switches for the mistakes; returns (h, c)."""
    H = h_prev.shape[1]
    blk = _blocks(x @ W_x + h_prev @ W_h + (b if bias else 0.0), order, H)  # (N, 3H)
    i, g, o = _sigmoid(blk["i"]), phi_g(blk["g"]), _sigmoid(blk["o"])
    keep, write = {"1-i": (1 - i, i), "i": (i, i), "swap": (i, 1 - i), "1": (1.0, i)}[forget]
    c = keep * c_prev + write * g
    h = o * phi_c(c_prev if h_reads_c_prev else c)
    return h, c


def _cifg_mistakes(args):
    mistakes = {
        tr("you set f = i; in the CIFG cell the forget gate is f = 1 - i."): (
            _cifg(**args, forget="i")
        ),
        tr(
            "i and 1 - i are swapped: f = 1 - i keeps the old state, i writes the candidate, "
            "c = (1 - i) * c_prev + i * g."
        ): _cifg(**args, forget="swap"),
        tr("you used f = 1 (the cell without forget gate); CIFG uses f = 1 - i."): (
            _cifg(**args, forget="1")
        ),
        tr("the bias b is missing: a = x @ W_x + h_prev @ W_h + b."): _cifg(**args, bias=False),
        tr("h = o * c: the tanh of the cell state is missing, h = o * tanh(c)."): (
            _cifg(**args, phi_c=_identity)
        ),
        tr(
            "h = o * tanh(c_prev): h reads the new cell state c_t, not {c_prev}.",
            c_prev="c_{t-1}",
        ): _cifg(**args, h_reads_c_prev=True),
        tr("you applied the sigmoid to the candidate; g = tanh(a_g)."): (
            _cifg(**args, phi_g=_sigmoid)
        ),
    }
    for order in permutations("igo"):
        if order != tuple("igo"):
            mistakes[_order_message(order, "igo")] = _cifg(**args, order=order)
    return mistakes


def check_cifg_step(cifg_step):
    """Check the student's ``cifg_step(x, h_prev, c_prev, W_x, W_h, b) -> (h, c)``.

    The coupled input-forget gate cell: W_x (D, 3H), W_h (H, 3H), b (3H,) hold
    three blocks, in the order i, g, o, and f = 1 - i. Compared with the package's
    ``lstm_step_forward(..., variant="cifg")``.
    """
    name = display_name(cifg_step, "cifg_step")
    refuse_package_call(cifg_step, REFERENCE_STEPS, name)
    hints = (
        (
            lambda e: not isinstance(e, (NotImplementedError, NameError)),
            tr(
                "the CIFG weights have 3H columns, the blocks i, g, o: there is no f block, "
                "f = 1 - i. Take H from h_prev.shape[1], not from W_x.shape[1] // 4."
            ),
        ),
    )
    for N, D, H, seed in CASES:
        args = lstm_inputs(N, D, H, seed, G=3)
        h, c, _ = step(args, "cifg")
        got = call(cifg_step, args, name=name, hints=hints)
        verdict(
            name,
            got,
            (h, c),
            ("h", "c"),
            letters=NH,
            candidates=partial(_cifg_mistakes, args),
            recipe="a = x @ W_x + h_prev @ W_h + b, split into a_i, a_g, a_o; "
            "i, o = sigma(a_i), sigma(a_o); g = tanh(a_g); f = 1 - i; "
            "c = f * c_prev + i * g; h = o * tanh(c).",
        )
    return tr("{name}: passed.", name=name)


def _peephole(
    a,
    c_prev,
    p_i,
    p_f,
    p_o,
    *,
    order="ifgo",
    o_reads_c_prev=False,
    swap_pif=False,
    outside=False,
    skip="",
):
    """The peephole gates with switches for the mistakes; returns (i, f, g, o, c)."""
    blk = _blocks(a, order, c_prev.shape[1])
    peep = {"i": p_f if swap_pif else p_i, "f": p_i if swap_pif else p_f, "o": p_o}
    for k in skip:
        peep[k] = 0.0

    def gate(k, state):
        if outside:
            return _sigmoid(blk[k]) + peep[k] * state
        return _sigmoid(blk[k] + peep[k] * state)

    i, f, g = gate("i", c_prev), gate("f", c_prev), np.tanh(blk["g"])
    c = f * c_prev + i * g
    o = gate("o", c_prev if o_reads_c_prev else c)
    return i, f, g, o, c


def _peephole_mistakes(args):
    # c_{t-1} goes in as a value: braces in a template are placeholders.
    mistakes = {
        tr(
            "the output gate reads the new state: o = sigma(a_o + p_o * c) with c = c_t, computed "
            "first. You used c_prev ({c_prev}), which only i and f read.",
            c_prev="c_{t-1}",
        ): _peephole(**args, o_reads_c_prev=True),
        tr(
            "p_i and p_f are swapped: i = sigma(a_i + p_i * c_prev), f = sigma(a_f + p_f * c_prev)."
        ): _peephole(**args, swap_pif=True),
        tr("you added the peephole term after the sigmoid; it belongs inside, sigma(a + p * c)."): (
            _peephole(**args, outside=True)
        ),
        tr("the peephole term p_i * c_prev of the input gate is missing."): (
            _peephole(**args, skip="i")
        ),
        tr("the peephole term p_f * c_prev of the forget gate is missing."): (
            _peephole(**args, skip="f")
        ),
        tr("the peephole term p_o * c of the output gate is missing."): (
            _peephole(**args, skip="o")
        ),
        tr("all peephole terms are missing: i, f read c_prev and o reads c."): (
            _peephole(**args, skip="ifo")
        ),
    }
    for order in permutations("ifgo"):
        if order != tuple("ifgo"):
            mistakes[_order_message(order, "ifgo", what="a")] = _peephole(**args, order=order)
    return mistakes


def check_peephole_gate(peephole_gates):
    """Check the student's ``peephole_gates(a, c_prev, p_i, p_f, p_o) -> (i, f, g, o, c)``.

    a (N, 4H) is the pre-activation x @ W_x + h_prev @ W_h + b, blocks i, f, g, o;
    c_prev (N, H); p_i, p_f, p_o (H,). The input and forget gates look at the old
    state, the output gate at the new one:

        i = sigma(a_i + p_i * c_prev)      f = sigma(a_f + p_f * c_prev)
        g = tanh(a_g)                      c = f * c_prev + i * g
        o = sigma(a_o + p_o * c)

    Compared with the package's ``lstm_step_forward(..., variant="peephole")``.
    """
    name = display_name(peephole_gates, "peephole_gates")
    for N, _, H, seed in CASES:
        rng = np.random.default_rng(seed)
        p = rng.uniform(0.5, 1.5, (3, H)) * rng.choice([-1.0, 1.0], (3, H))
        args = {
            "a": rng.standard_normal((N, 4 * H)),
            "c_prev": 1.5 * rng.standard_normal((N, H)),
            "p_i": p[0],
            "p_f": p[1],
            "p_o": p[2],
        }
        peep = {k: args[k] for k in ("p_i", "p_f", "p_o")}
        cache = cell_from_a(args["a"], args["c_prev"], "peephole", peep)[2]
        expected = tuple(np.array(v) for v in (cache.i, cache.f, cache.g, cache.o, cache.c))
        got = call(peephole_gates, args, name=name)
        verdict(
            name,
            got,
            expected,
            ("i", "f", "g", "o", "c"),
            letters=NH,
            candidates=partial(_peephole_mistakes, args),
            recipe="i = sigma(a_i + p_i * c_prev), f = sigma(a_f + p_f * c_prev), "
            "g = tanh(a_g), c = f * c_prev + i * g, o = sigma(a_o + p_o * c).",
        )
    return tr("{name}: passed.", name=name)


def _gru(
    x,
    h_prev,
    W_x,
    W_h,
    b,
    b_hn,
    *,
    order="rzn",
    swap_z=False,
    reset="inside",
    use_b=True,
    use_b_hn=True,
    phi=np.tanh,
):
    """The GRU step with switches for the mistakes; returns h."""
    H = h_prev.shape[1]
    bx = _blocks(x @ W_x + (b if use_b else 0.0), order, H)
    bh = _blocks(h_prev @ W_h, order, H)
    bhn = b_hn if use_b_hn else 0.0
    r = _sigmoid(bx["r"] + bh["r"])
    z = _sigmoid(bx["z"] + bh["z"])
    if reset == "inside":
        n = phi(bx["n"] + r * (bh["n"] + bhn))
    elif reset == "outside":
        n = phi(bx["n"] + r * bh["n"] + bhn)
    elif reset == "before":
        n = phi(bx["n"] + (r * h_prev) @ W_h[:, 2 * H :] + bhn)
    else:
        n = phi(bx["n"] + bh["n"] + bhn)
    return z * n + (1 - z) * h_prev if swap_z else (1 - z) * n + z * h_prev


def _gru_mistakes(args):
    mistakes = {
        tr(
            "z and 1 - z are swapped: h = (1 - z) * n + z * h_prev, so z is the part of h_prev "
            "that is kept."
        ): _gru(**args, swap_z=True),
        tr(
            "the reset gate must multiply b_hn too: n = tanh(ax_n + r * (h_prev @ W_hn + b_hn)); "
            "you added b_hn outside."
        ): _gru(**args, reset="outside"),
        tr(
            "you applied r to h_prev before the matmul, (r * h_prev) @ W_hn (the form of Cho et "
            "al. 2014); the package and torch.nn.GRU use r * (h_prev @ W_hn + b_hn)."
        ): _gru(**args, reset="before"),
        tr(
            "the reset gate is missing from the candidate: "
            "n = tanh(ax_n + r * (h_prev @ W_hn + b_hn))."
        ): _gru(**args, reset="none"),
        tr("the bias b_hn is missing."): _gru(**args, use_b_hn=False),
        tr("the bias b is missing: ax = x @ W_x + b."): _gru(**args, use_b=False),
        tr("you applied the sigmoid to the candidate; n = tanh(...)."): _gru(**args, phi=_sigmoid),
    }
    for order in permutations("rzn"):
        if order != tuple("rzn"):
            what = "x @ W_x + b and h_prev @ W_h"
            mistakes[_order_message(order, "rzn", what)] = _gru(**args, order=order)
    return mistakes


def check_gru_step(gru_step):
    """Check the student's ``gru_step(x, h_prev, W_x, W_h, b, b_hn) -> h``.

    x (N, D), h_prev (N, H), W_x (D, 3H), W_h (H, 3H), b (3H,), b_hn (H,), the
    blocks in the order r, z, n of ``torch.nn.GRU``:

        r = sigma(ax_r + ah_r)      z = sigma(ax_z + ah_z)
        n = tanh(ax_n + r * (ah_n + b_hn))
        h = (1 - z) * n + z * h_prev

    with ax = x @ W_x + b and ah = h_prev @ W_h. Compared with the package's
    ``gru_step_forward``.
    """
    name = display_name(gru_step, "gru_step")
    for N, D, H, seed in CASES:
        args = lstm_inputs(N, D, H, seed, G=3)
        del args["c_prev"]
        rng = np.random.default_rng(seed + 100)
        args["b_hn"] = rng.uniform(0.2, 0.6, H) * rng.choice([-1.0, 1.0], H)
        expected, _ = gru_step_forward(
            args["x"], args["h_prev"], {k: args[k] for k in args if k[0] in "Wb"}
        )
        got = call(gru_step, args, name=name)
        verdict(
            name,
            got,
            expected,
            "h",
            letters=NH,
            candidates=partial(_gru_mistakes, args),
            recipe="ax = x @ W_x + b, ah = h_prev @ W_h (blocks r, z, n); r = sigma(ax_r + ah_r), "
            "z = sigma(ax_z + ah_z), n = tanh(ax_n + r * (ah_n + b_hn)), "
            "h = (1 - z) * n + z * h_prev.",
        )
    return tr("{name}: passed.", name=name)
