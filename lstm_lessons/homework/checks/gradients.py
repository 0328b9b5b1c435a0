"""Checks for gradients: one step of the LSTM's backward pass, gradient clipping, any gradient.

The backward check compares the student's five gradients with the package's
``lstm_step_backward``; the generic :func:`check_gradient` compares an analytic
gradient with centred differences (``gradcheck``), by relative error.
"""

from functools import partial
from itertools import permutations

import numpy as np

from ...cells.gradcheck import numerical_gradient, relative_error
from ...cells.lstm import lstm_step_backward
from ..language import tr
from .calling import CheckFailed, call, describe, display_name, fail, refuse_package_call
from .cases import CASES, cell_from_a
from .report import diagnose, largest_error, structure, verdict

NH = ("N", "H")
BACKWARD_OUTPUTS = ("da_i", "da_f", "da_g", "da_o", "dc_prev")


def _sigmoid_grad(s):
    return s * (1 - s)


def _tanh_grad(y):
    return 1 - y * y


def _backward(
    dh,
    dc,
    i,
    f,
    g,
    o,
    c_prev,
    c,
    *,
    h_path="tanh",
    gate_grad=_sigmoid_grad,
    cand_grad=_tanh_grad,
    dc_prev_from="total",
    swap_if=False,
    dg_from="i",
    do_from="tanh",
):
    """The cell's backward pass with switches for the mistakes; returns the five gradients."""
    tc = np.tanh(c)
    through_h = {
        "tanh": dh * o * (1 - tc * tc),
        "none": 0.0,
        "c": dh * o * (1 - c * c),
        "no square": dh * o * (1 - tc),
        "no o": dh * (1 - tc * tc),
    }[h_path]
    dc_total = dc + through_h  # c reaches the loss through c_{t+1} and through h
    do = dh * (tc if do_from == "tanh" else c)
    di = dc_total * (c_prev if swap_if else g)
    df = dc_total * (g if swap_if else c_prev)
    dg = dc_total * (i if dg_from == "i" else f)
    dc_prev = {"total": dc_total * f, "no f": dc_total, "incoming": dc * f}[dc_prev_from]
    return (di * gate_grad(i), df * gate_grad(f), dg * cand_grad(g), do * gate_grad(o), dc_prev)


def _backward_mistakes(args):
    right = _backward(**args)
    mistakes = {
        tr(
            "the path through h is missing: c also reaches the loss through h = o * tanh(c), so "
            "its total gradient is dc + dh * o * (1 - tanh(c)**2)."
        ): _backward(**args, h_path="none"),
        tr(
            "the derivative of tanh(c) is 1 - tanh(c)**2, not 1 - c**2: tanh' is evaluated at "
            "tanh(c)."
        ): _backward(**args, h_path="c"),
        tr("the derivative of tanh(c) is 1 - tanh(c)**2; the square is missing."): (
            _backward(**args, h_path="no square")
        ),
        tr("the path through h misses the factor o: dh * o * (1 - tanh(c)**2)."): (
            _backward(**args, h_path="no o")
        ),
        tr("dc_prev misses the factor f: c = f * c_prev + i * g, so dc_prev = dc_total * f."): (
            _backward(**args, dc_prev_from="no f")
        ),
        tr(
            "dc_prev must use the total gradient of c, including the path through h: "
            "dc_prev = (dc + dh * o * (1 - tanh(c)**2)) * f."
        ): _backward(**args, dc_prev_from="incoming"),
        tr("the sigmoid's derivative is s * (1 - s) with s = sigma(a); you used s alone."): (
            _backward(**args, gate_grad=lambda s: s)
        ),
        tr("the sigmoid's derivative is s * (1 - s); you used 1 - s."): (
            _backward(**args, gate_grad=lambda s: 1 - s)
        ),
        tr("you used tanh's derivative 1 - s**2 for the gates; the sigmoid's is s * (1 - s)."): (
            _backward(**args, gate_grad=_tanh_grad)
        ),
        tr(
            "g = tanh(a_g), so da_g = dg * (1 - g**2); you used the sigmoid's derivative "
            "g * (1 - g)."
        ): _backward(**args, cand_grad=_sigmoid_grad),
        tr(
            "you returned the gradients of the gate values (di, df, dg, do), not of the "
            "pre-activations: multiply by sigma' = s * (1 - s) and tanh' = 1 - g**2."
        ): _backward(**args, gate_grad=np.ones_like, cand_grad=np.ones_like),
        tr("da_o: h = o * tanh(c), so do = dh * tanh(c); you used c."): (
            _backward(**args, do_from="c")
        ),
        tr(
            "di and df are swapped: c = f * c_prev + i * g gives di = dc_total * g and "
            "df = dc_total * c_prev."
        ): _backward(**args, swap_if=True),
        tr("g is scaled by i, so dg = dc_total * i; you used f."): _backward(**args, dg_from="f"),
        tr("every gradient has the wrong sign."): tuple(-v for v in right),
    }
    for order in permutations(range(4)):
        if order != (0, 1, 2, 3):
            names = ", ".join(BACKWARD_OUTPUTS[k] for k in order)
            message = tr(
                "you returned the gradients in the order ({order}, dc_prev); the expected "
                "order is ({expected}).",
                order=names,
                expected=", ".join(BACKWARD_OUTPUTS),
            )
            mistakes[message] = (*(right[k] for k in order), right[4])
    return mistakes


# (N, H, scale of the pre-activations, seed, dtype) for check_lstm_step_backward.
BACKWARD_CASES = tuple((N, H, 1.0, seed, np.float64) for N, _, H, seed in CASES)


def check_lstm_step_backward(lstm_cell_backward, cases=BACKWARD_CASES):
    """Check the student's ``lstm_cell_backward(dh, dc, i, f, g, o, c_prev, c)``.

    One step of the backward pass inside the cell, from the gradients that reach
    h_t (``dh``) and c_t from step t+1 (``dc``), all (N, H), to the gradients of the
    pre-activations and of the old state, returned as the tuple
    ``(da_i, da_f, da_g, da_o, dc_prev)``:

        dc_total = dc + dh * o * (1 - tanh(c)**2)
        da_o = dh * tanh(c) * o * (1 - o)
        da_i = dc_total * g * i * (1 - i)
        da_f = dc_total * c_prev * f * (1 - f)
        da_g = dc_total * i * (1 - g**2)
        dc_prev = dc_total * f

    Compared with the package's ``lstm_step_backward``. ``cases`` lists
    (N, H, scale of the pre-activations, seed, dtype): a large scale saturates
    the gates, and float32 inputs must give float32 gradients.
    """
    name = display_name(lstm_cell_backward, "lstm_cell_backward")
    refuse_package_call(lstm_cell_backward, ("lstm_step_backward", "lstm_backward",
                                             "peephole_step_backward"), name)  # fmt: skip
    for N, H, scale, seed, dtype in cases:
        rng = np.random.default_rng(seed)
        a = scale * rng.standard_normal((N, 4 * H))
        c_prev, dh, dc = rng.standard_normal((3, N, H))
        cache = cell_from_a(a, c_prev)[2]
        da, _, dc_prev, _ = lstm_step_backward(dh, dc, cache)  # dx is da: W_x = I
        args = {"dh": dh, "dc": dc}
        args.update({k: np.array(getattr(cache, k)) for k in ("i", "f", "g", "o")})
        args.update({"c_prev": c_prev, "c": np.array(cache.c)})
        args = {k: v.astype(dtype) for k, v in args.items()}
        expected = tuple(v.astype(dtype) for v in (*np.split(da, 4, axis=1), dc_prev))
        got = call(lstm_cell_backward, args, name=name)
        verdict(
            name,
            got,
            expected,
            BACKWARD_OUTPUTS,
            letters=NH,
            candidates=partial(_backward_mistakes, args),
            recipe="dc_total = dc + dh * o * (1 - tanh(c)**2); da_i = dc_total * g * i * (1 - i); "
            "da_f = dc_total * c_prev * f * (1 - f); da_g = dc_total * i * (1 - g**2); "
            "da_o = dh * tanh(c) * o * (1 - o); dc_prev = dc_total * f; in the inputs' dtype.",
        )
    return tr("{name}: passed.", name=name)


def clip_reference(grads, max_norm):
    """Rescale all arrays by one factor so that their global norm is at most ``max_norm``."""
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return [g * scale for g in grads]


def clip_mistakes(grads, max_norm):
    norms = [np.sqrt(np.sum(g * g)) for g in grads]
    norm = np.sqrt(sum(n * n for n in norms))
    mistakes = {
        tr(
            "you clipped each array by its own norm; clipping rescales all arrays by one factor, "
            "from the global norm sqrt(sum of the squares of all entries)."
        ): tuple(g * min(1.0, max_norm / n) for g, n in zip(grads, norms, strict=True)),
        tr(
            "you clipped element by element (np.clip); rescale the whole list by one factor "
            "instead, so that the gradient keeps its direction."
        ): tuple(np.clip(g, -max_norm, max_norm) for g in grads),
        tr("the factor is max_norm / norm, not norm / max_norm."): tuple(
            g * (norm / max_norm) for g in grads
        ),
        tr(
            "the global norm is sqrt(sum of the squares of all entries), not the sum of the "
            "arrays' norms."
        ): tuple(g * min(1.0, max_norm / sum(norms)) for g in grads),
        tr("the global norm needs the square root: sqrt(sum of squares)."): tuple(
            g * min(1.0, max_norm / norm**2) for g in grads
        ),
    }
    if norm <= max_norm:
        message = tr(
            "you rescaled although the global norm ({norm:.4g}) is below max_norm "
            "({max_norm:.4g}); then the gradients must stay as they are.",
            norm=norm,
            max_norm=max_norm,
        )
        mistakes = {message: tuple(g * (max_norm / norm) for g in grads), **mistakes}
    return mistakes


def check_clip_gradients(clip_gradients):
    """Check the student's ``clip_gradients(grads, max_norm) -> list of arrays``.

    ``grads`` is a list of arrays of any shapes. When their global norm
    ``sqrt(sum of the squares of all entries)`` exceeds ``max_norm``, every array
    is multiplied by ``max_norm / norm``; otherwise they come back unchanged. The
    inputs must not be modified. (``torch.nn.utils.clip_grad_norm_``, which divides
    by norm + 1e-6, passes too.)
    """
    name = display_name(clip_gradients, "clip_gradients")
    rng = np.random.default_rng(0)
    grads = [2 * rng.standard_normal((3, 4)), 0.1 * rng.standard_normal(4)]
    grads.append(2 * rng.standard_normal((2, 5)))
    names = tuple(f"clipped[{j}]" for j in range(len(grads)))
    norm = np.sqrt(sum(np.sum(g * g) for g in grads))
    for max_norm in (1.0, 2 * norm):  # above the threshold, then below it
        args = {"grads": grads, "max_norm": max_norm}
        got = call(clip_gradients, args, name=name)
        want = tr("a list of {n} arrays, one per gradient", n=len(grads))
        if not isinstance(got, (list, tuple)):
            fail(
                tr(
                    "Your {name} returned {got}; expected {want}.",
                    name=name,
                    got=describe(got),
                    want=want,
                )
            )
        if len(got) != len(grads):
            if len(got) == 2 and np.ndim(got[1]) == 0:
                fail(
                    tr(
                        "Your {name} returned {n} items; expected {want}. It looks like "
                        "(clipped, norm): return only the list.",
                        name=name,
                        n=len(got),
                        want=want,
                    )
                )
            fail(
                tr(
                    "Your {name} returned {n} items; expected {want}.",
                    name=name,
                    n=len(got),
                    want=want,
                )
            )
        verdict(
            name,
            tuple(got),
            tuple(clip_reference(grads, max_norm)),
            names,
            candidates=partial(clip_mistakes, grads, max_norm),
            recipe="norm = sqrt(sum of g**2 over all arrays); if norm > max_norm, "
            "every g becomes g * max_norm / norm.",
        )
    return tr("{name}: passed.", name=name)


def check_gradient(grad_fn, f, x=None, dout=None, *, tol=1e-6):
    """Check an analytic gradient against centred differences.

    ``f(x) -> y`` is a forward function (the package's or the student's) and
    ``grad_fn(x, dout) -> dx`` the student's gradient of ``L = sum(f(x) * dout)``
    with respect to x, an array of x's shape. ``x`` and ``dout`` default to seeded
    normal arrays ((3, 4) and f(x)'s shape). Passes when the relative error
    ``max |dx - numerical| / max(|dx| + |numerical|)`` is below ``tol``.
    """
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)) if x is None else np.array(x, dtype=np.float64)
    y = call(f, {"x": x}, name=tr("forward function f"))
    if dout is None:
        dout = rng.standard_normal(np.shape(y))
    dout = np.asarray(dout, dtype=np.float64)
    got = call(grad_fn, {"x": x, "dout": dout}, name=tr("gradient function"))
    try:
        numerical = numerical_gradient(f, x, dout)
    except Exception as exc:
        message = tr(
            "The forward function f raised {error}: {exc} on a perturbed x.",
            error=type(exc).__name__,
            exc=exc,
        )
        raise CheckFailed(message) from None
    problem = structure(got, numerical, "dx")
    if problem:
        cause = diagnose(got, {tr("dx is transposed."): numerical.T})
        if cause:
            fail(
                tr(
                    "Your gradient function is not right yet.\n{problem}\n{cause}",
                    problem=problem,
                    cause=cause,
                )
            )
        fail(tr("Your gradient function is not right yet.\n{problem}", problem=problem))
    err = relative_error(got, numerical)
    if err < tol:
        return tr("gradient: passed (relative error {err:.1e}).", err=err)
    lines = [
        tr(
            "Your gradient does not match centred differences: relative error "
            "{err:.3g} (it must be below {tol:g}); {largest}.",
            err=err,
            tol=tol,
            largest=largest_error(got, numerical, "dx"),
        ),
    ]
    candidates = {
        tr("the sign is wrong."): -numerical,
        tr("it is twice the right gradient."): 2 * numerical,
        tr("it is half the right gradient."): numerical / 2,
        tr("you returned f(x), the forward value, not its gradient."): y,
        tr("you returned zeros."): np.zeros_like(numerical),
        tr(
            "dout is missing: by the chain rule the gradient of sum(f(x) * dout) is multiplied "
            "by dout."
        ): lambda: numerical_gradient(f, x, np.ones_like(dout)),
        tr("you multiplied by dout twice."): lambda: numerical_gradient(f, x, dout * dout),
    }
    cause = diagnose(got, candidates)
    if cause:
        lines.append(tr("Likely cause: {cause}", cause=cause))
    fail("\n".join(lines))
