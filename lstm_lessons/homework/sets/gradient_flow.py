"""Checks for the exercise sets of chapters 2 and 3: the gradient through time, and along the belt.

    check                        the student's answer
    check_clip_more              clip_gradients(grads, max_norm) -> list of arrays
                                     (float32, all-zero gradients, one array, norm at the limit)
    check_gradient_norms         gradient_norms(x, h0, params, u) -> norms       norms (T+1, N)
    check_decay_rate             rate, a number computed from norms
    check_cell_update_carousel   cell_update(f, i, g, c_prev) -> c, run over many steps
    check_forget_products        forget_products(f) -> P                         f (T, N, H),
                                                                                 P (T+1, N, H)
    check_carousel_ratio         ratio, a dict {"strong": (T+1,), "weak": (T+1,)}

Chapter 2. For the simple RNN h_t = tanh(x_t W_x + h_{t-1} W_h + b) and the loss
L = sum_n u_n . h_T, one step of backpropagation through time is

    dL/dh_{t-1} = (dL/dh_t * (1 - h_t^2)) W_h^T,        dL/dh_T = u,

and ``norms[k, n]`` is ||dL/dh_t|| of sequence n at the distance k = T - t. The
per-step factor ``rate`` is measured on the geometric mean over the sequences,
typical[k] = exp(mean_n log norms[k, n]), over the second half of the distances:
rate = (typical[T] / typical[T // 2]) ** (1 / (T - T // 2)).

Chapter 3. The cell update is c = f * c_prev + i * g. Along the belt the gradient
of a loss on c_T reaches c_t scaled by P[t] = prod_{j=t+1..T} f_j (P[T] = 1), and
``ratio[name][t]`` is the median over the H units of |measured dL_k/dc_t[k]| / P[t, k]
for the cell ``name``, as
:func:`lstm_lessons.experiments.cell_state.carousel_gradients` measures it.
"""

from functools import partial

import numpy as np

from ...cells.activations import sigmoid as _sigmoid
from ...cells.bptt import carousel_gradients, gradient_norms_through_time
from ...cells.rnn import init_rnn_params, rnn_forward
from ..checks.calling import call, describe, display_name, fail
from ..checks.gates import cell_update_mistakes
from ..checks.gradients import clip_mistakes, clip_reference
from ..checks.report import verdict
from ..language import tr


def _not_done(value, name):
    if value is None or value is Ellipsis:
        fail(
            tr(
                "{name} is not computed yet: replace the ... in its cell with your code and "
                "run it.",
                name=name,
            )
        )


def _one_number(value, name):
    if isinstance(value, bool) or np.ndim(value) != 0:
        fail(tr("{name} should be one number, but it is {got}.", name=name, got=describe(value)))
    try:
        return float(value)
    except (TypeError, ValueError):
        fail(tr("{name} should be one number, but it is {got}.", name=name, got=describe(value)))


# Chapter 2, task 1: clipping in the cases the public check leaves out.


def check_clip_more(clip_gradients):
    """``clip_gradients`` on float32 arrays, all-zero gradients, one array, and norm = max_norm.

    The clipped arrays keep their dtype; a zero gradient comes back as zeros
    (not NaN: there is nothing to rescale); a gradient whose norm equals
    max_norm is left as it is.
    """
    name = display_name(clip_gradients, "clip_gradients")
    rng = np.random.default_rng(7)
    big = [3 * rng.standard_normal((4, 2)).astype(np.float32) for _ in range(2)]
    big.append(3 * rng.standard_normal((2, 3, 2)).astype(np.float32))
    one = [rng.standard_normal(6)]
    zeros = tr("all-zero gradients")
    cases = (
        (tr("one array whose norm equals max_norm"), one, float(np.linalg.norm(one[0]))),
        (zeros, [np.zeros((2, 3)), np.zeros(3)], 1.0),
        (tr("float32 arrays"), big, 0.5),
    )
    for what, grads, max_norm in cases:
        got = call(clip_gradients, {"grads": grads, "max_norm": max_norm}, name=name)
        if len(grads) == 1:
            want = tr("a list of {n} array, one per gradient", n=len(grads))
        else:
            want = tr("a list of {n} arrays, one per gradient", n=len(grads))
        if not isinstance(got, (list, tuple)):
            fail(
                tr(
                    "For {case}, your {name} returned {got}; expected {want}.",
                    case=what,
                    name=name,
                    got=describe(got),
                    want=want,
                )
            )
        if len(got) != len(grads):
            fail(
                tr(
                    "For {case}, your {name} returned {n} items; expected {want}.",
                    case=what,
                    name=name,
                    n=len(got),
                    want=want,
                )
            )
        if what == zeros and any(
            isinstance(g, np.ndarray) and not np.isfinite(g).all() for g in got
        ):
            fail(
                tr(
                    "For {case}, your {name} returned NaN: it divided by the global norm, which "
                    "is 0 here. Rescale only when norm > max_norm; a zero gradient stays zero.",
                    case=what,
                    name=name,
                )
            )
        expected = tuple(
            c.astype(g.dtype) for c, g in zip(clip_reference(grads, max_norm), grads, strict=True)
        )
        if all(
            isinstance(c, np.ndarray)
            and c.dtype == np.float64 != g.dtype
            and c.shape == e.shape
            and np.allclose(c, e, rtol=1e-5, atol=1e-6)
            for c, e, g in zip(got, expected, grads, strict=True)
        ):
            fail(
                tr(
                    "For {case}, the values are right, but your {name} returned float64 arrays "
                    "for float32 gradients: keep the dtype of the inputs. In NumPy, a float64 "
                    "number (np.sqrt of a Python float is one) times a float32 array gives "
                    "float64; multiply by a Python float, float(scale), or compute the norm from "
                    "the arrays.",
                    case=what,
                    name=name,
                )
            )
        try:
            verdict(
                name,
                tuple(got),
                expected,
                tuple(f"clipped[{j}]" for j in range(len(grads))),
                candidates=partial(clip_mistakes, grads, max_norm),
                recipe="norm = sqrt(sum of g**2 over all arrays); if norm > max_norm, "
                "every g becomes g * max_norm / norm.",
            )
        except AssertionError as exc:
            fail(tr("For {case}: {problem}", case=what, problem=exc))
    return tr("{name}: passed (float32, zero gradients, norm at the limit).", name=name)


# Chapter 2, task 2: the gradient norm through time, and its rate per step.


def _norms_with(x, h0, params, u, *, slope="h_t", transpose=True):
    """||dL/dh_t|| at distance k = T - t, (T+1, N), with one step of BPTT done right or wrong."""
    hs, _ = rnn_forward(x, h0, params)
    h = np.concatenate([h0[None], hs])  # (T + 1, N, H), h[t] = h_t
    T = hs.shape[0]
    W = params["W_h"].T if transpose else params["W_h"]
    d = u
    norms = np.empty((T + 1, x.shape[1]))
    norms[0] = np.linalg.norm(u, axis=1)
    for k in range(1, T + 1):
        t = T - k + 1  # d holds dL/dh_t; this step computes dL/dh_{t-1}
        s = {
            "h_t": 1 - h[t] ** 2,
            "h_prev": 1 - h[t - 1] ** 2,
            "none": 1.0,
            "tanh_again": 1 - np.tanh(h[t]) ** 2,
            "no_square": 1 - h[t],
        }[slope]
        d = (d * s) @ W  # (N, H)
        norms[k] = np.linalg.norm(d, axis=1)
    return norms


def _norm_mistakes(x, h0, params, u, expected):
    rows = partial(_norms_with, x, h0, params, u)
    # dL/dh_{t-1} and h_{t-1} go in as values: braces in a template are placeholders.
    return {
        tr(
            "tanh's slope is missing: each step back multiplies by (1 - h_t**2) before W_h.T, "
            "{dh_prev} = (dL/dh_t * (1 - h_t**2)) @ W_h.T.",
            dh_prev="dL/dh_{t-1}",
        ): lambda: rows(slope="none"),
        tr("you multiplied by W_h; the step back multiplies by its transpose, W_h.T."): (
            lambda: rows(transpose=False)
        ),
        tr(
            "off by one in time: the slope in the step from dL/dh_t to {dh_prev} is "
            "1 - h_t**2, of the state h_t that step t computed; you used {h_prev}.",
            dh_prev="dL/dh_{t-1}",
            h_prev="h_{t-1}",
        ): lambda: rows(slope="h_prev"),
        tr(
            "you applied tanh to h again: h is already tanh(a), so the slope is 1 - h**2, "
            "not 1 - tanh(h)**2."
        ): lambda: rows(slope="tanh_again"),
        tr("the slope of tanh is 1 - h**2, with a square."): lambda: rows(slope="no_square"),
        tr(
            "the rows are in the order of the steps t = 0..T; row k must be the distance "
            "k = T - t (row 0 is ||u||, at h_T): reverse them."
        ): expected[::-1],
        tr("these are squared norms; take the square root (np.linalg.norm)."): expected**2,
    }


def _norm_inputs(T, N, D, H, seed, h0_scale, w_scale):
    rng = np.random.default_rng(seed)
    params = init_rnn_params(D, H, seed=seed)
    params["W_h"] = w_scale * params["W_h"]
    x = rng.standard_normal((T, N, D))
    h0 = h0_scale * rng.standard_normal((N, H))
    u = rng.standard_normal((N, H))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return {"x": x, "h0": h0, "params": params, "u": u}


def check_gradient_norms(gradient_norms, T=10, N=3, D=2, H=5, seed=0, h0_scale=0.0, w_scale=1.0):
    """Check ``gradient_norms(x, h0, params, u) -> norms``, (T+1, N).

    x (T, N, D), h0 (N, H), u (N, H) and the dict ``params`` of a simple RNN;
    norms[k, n] = ||dL/dh_{T-k}|| for L = sum_n u_n . h_T, compared with the
    package's :func:`lstm_lessons.experiments.vanishing_gradients.gradient_norms_through_time`.
    """
    name = display_name(gradient_norms, "gradient_norms")
    args = _norm_inputs(T, N, D, H, seed, h0_scale, w_scale)
    got = call(gradient_norms, args, name=name)
    shape = np.shape(got) if isinstance(got, np.ndarray) else None
    if shape == (T, N):
        fail(
            tr(
                "Your {name} returned {T} rows for {T} steps; expected T + 1 = {n}: row 0 is "
                "the distance 0, ||dL/dh_T|| = ||u||, and row T is ||dL/dh_0||.",
                name=name,
                T=T,
                n=T + 1,
            )
        )
    if shape == (T + 1,):
        fail(
            tr(
                "Your {name} returned one number per distance, shape {shape}; expected one norm "
                "per sequence, shape (T+1, N) = {want}: take the norm over the H units only, "
                "np.linalg.norm(d, axis=1).",
                name=name,
                shape=(T + 1,),
                want=(T + 1, N),
            )
        )
    if shape == (T + 1, N, H):
        fail(
            tr(
                "Your {name} returned the gradients themselves, shape {shape}; expected "
                "their norms over the H units, shape (T+1, N) = {want}.",
                name=name,
                shape=(T + 1, N, H),
                want=(T + 1, N),
            )
        )
    expected = gradient_norms_through_time(args["params"], args["x"], args["h0"], args["u"])
    verdict(
        name,
        got,
        expected,
        "norms",
        candidates=lambda: _norm_mistakes(
            args["x"], args["h0"], args["params"], args["u"], expected
        ),
        recipe="d = u, then for t = T, ..., 1: d = (d * (1 - h_t**2)) @ W_h.T, and "
        "norms[T - t + 1] = np.linalg.norm(d, axis=1), with norms[0] = np.linalg.norm(u, axis=1).",
    )
    return tr("{name}: passed.", name=name)


def _rate(norms, *, start=None, root=None, mean="geometric"):
    T = norms.shape[0] - 1
    start = T // 2 if start is None else start
    if mean == "geometric":
        typical = np.exp(np.log(norms).mean(axis=1))
    else:
        typical = norms.mean(axis=1)
    root = T - start if root is None else root
    return (typical[T] / typical[start]) ** (1 / root)


def check_decay_rate(rate, norms, x, h0, params, u):
    """``rate`` = (typical[T] / typical[T // 2]) ** (1 / (T - T // 2)) for the true norms.

    ``norms`` is the student's array of task 2, used only to tell a wrong
    formula from a right formula on wrong norms.
    """
    _not_done(rate, "rate")
    value = _one_number(rate, "rate")
    for var, val in (("x", x), ("h0", h0), ("params", params), ("u", u)):
        if val is None:
            fail(tr("{var} is not defined: run the cell that sets up the network first.", var=var))
    true = gradient_norms_through_time(params, x, h0, u)  # (T + 1, N)
    T = true.shape[0] - 1
    half = T // 2
    expected = _rate(true)
    W_h = params["W_h"]
    rho = np.abs(np.linalg.eigvals(W_h)).max()
    sigma_max = np.linalg.norm(W_h, ord=2)
    if np.isclose(value, expected, rtol=1e-6):
        return tr(
            "rate = {rate:.3f} per step: close to the spectral radius rho(W_h) = {rho:.3f}, "
            "far from the largest singular value sigma_max(W_h) = {sigma_max:.3f} of the bound.",
            rate=value,
            rho=rho,
            sigma_max=sigma_max,
        )
    lines = [tr("rate = {rate:.6g} is not the measured factor per step.", rate=value)]
    mine = np.asarray(norms, dtype=float) if isinstance(norms, np.ndarray) else None
    with np.errstate(all="ignore"):
        if (
            mine is not None
            and mine.shape == true.shape
            and np.all(mine > 0)
            and np.isclose(value, _rate(mine), rtol=1e-6)
        ):
            # A mistake in gradient_norms costs that task, not this one as well.
            return tr(
                "rate = {rate:.3f}: the right formula for your norms. (Your norms are not "
                "right yet: fix gradient_norms until its check passes, then run the cells again.)",
                rate=value,
            )
        candidates = {
            tr(
                "the ratio is upside down: divide the farther norm by the nearer one, "
                "typical[T] / typical[T // 2]."
            ): 1 / expected,
            tr(
                "this is the change over all {n} steps; take the {n}-th root to "
                "get the factor per step.",
                n=T - half,
            ): _rate(true, root=1),
            tr(
                "the root must be the number of steps between the two distances, T - T // 2 = "
                "{n}, not T = {T}.",
                n=T - half,
                T=T,
            ): _rate(true, root=T),
            tr(
                "you measured from distance 0; the first steps are a transient, so the rate is "
                "measured over the second half, from T // 2 to T."
            ): _rate(true, start=0),
            tr(
                "this uses the arithmetic mean over the sequences; use the geometric mean, "
                "typical = np.exp(np.log(norms).mean(axis=1))."
            ): _rate(true, mean="arithmetic"),
        }
    for message, candidate in candidates.items():
        if np.isfinite(candidate) and np.isclose(value, candidate, rtol=1e-6):
            lines.append(tr("Likely cause: {cause}", cause=message))
            break
    else:
        lines.append(
            tr(
                "The formula is rate = (typical[T] / typical[T // 2]) ** (1 / (T - T // 2)), "
                "with T = {T}.",
                T=T,
            )
        )
    fail(" ".join(lines))


# Chapter 3, task 1: the cell update, run over many steps.


def check_cell_update_carousel(cell_update, T=40, N=2, H=5, seed=3):
    """``cell_update`` in float32, and over T steps with f = 1, i = 0: c_T = c_0 exactly.

    The first keeps the dtype of the inputs; the second is the constant error
    carousel, which any extra factor or squashing of c breaks.
    """
    name = display_name(cell_update, "cell_update")
    rng = np.random.default_rng(seed)
    f, i = _sigmoid(rng.standard_normal((2, N, H))).astype(np.float32)
    g = np.tanh(rng.standard_normal((N, H))).astype(np.float32)
    c_prev = (2 * rng.standard_normal((N, H))).astype(np.float32)
    got = call(cell_update, {"f": f, "i": i, "g": g, "c_prev": c_prev}, name=name)
    verdict(
        name,
        got,
        f * c_prev + i * g,
        "c",
        letters=("N", "H"),
        candidates=partial(cell_update_mistakes, f, i, g, c_prev),
        recipe="c = f * c_prev + i * g (element by element), in the dtype of the inputs.",
    )
    c0 = (3 * rng.standard_normal((N, H))).astype(np.float64)
    ones, zeros = np.ones((N, H)), np.zeros((N, H))
    c = c0
    for t in range(1, T + 1):
        c = call(cell_update, {"f": ones, "i": zeros, "g": g.astype(np.float64), "c_prev": c},
                 name=name)  # fmt: skip
        if not isinstance(c, np.ndarray) or c.shape != c0.shape:
            fail(
                tr(
                    "At step {t} of the carousel, your {name} returned {got}.",
                    t=t,
                    name=name,
                    got=describe(c),
                )
            )
        if not np.allclose(c, c0, rtol=1e-5, atol=1e-6):
            if t == 1:
                fail(
                    tr(
                        "With the forget gate open (f = 1) and the input gate shut (i = 0), the "
                        "cell must keep its state exactly: this is the constant error carousel. "
                        "Your {name} changed it after {t} step: c[0, 0] went from {start:.4g} to "
                        "{end:.4g}. The update is c = f * c_prev + i * g, with no other factor "
                        "and no tanh.",
                        name=name,
                        t=t,
                        start=c0[0, 0],
                        end=c[0, 0],
                    )
                )
            fail(
                tr(
                    "With the forget gate open (f = 1) and the input gate shut (i = 0), the "
                    "cell must keep its state exactly: this is the constant error carousel. "
                    "Your {name} changed it after {t} steps: c[0, 0] went from {start:.4g} to "
                    "{end:.4g}. The update is c = f * c_prev + i * g, with no other factor "
                    "and no tanh.",
                    name=name,
                    t=t,
                    start=c0[0, 0],
                    end=c[0, 0],
                )
            )
    return tr("{name}: passed (float32, and {T} steps of the carousel).", name=name, T=T)


# Chapter 3, task 2: the product of forget gates, and how well it predicts the gradient.


def _products(f):
    """P (T+1, N, H), P[t] = f[t] * ... * f[T-1] = prod_{j=t+1..T} f_j, P[T] = 1."""
    P = np.ones((f.shape[0] + 1, *f.shape[1:]))
    for t in reversed(range(f.shape[0])):
        P[t] = f[t] * P[t + 1]
    return P


def _product_mistakes(f, P):
    T = f.shape[0]
    ones = np.ones((1, *f.shape[1:]))
    skip = np.concatenate([P[1:], ones])  # P[t] = f[t+1] * ... * f[T-1]
    extra = np.concatenate([P[:1], f[:-1] * P[1:T], ones])  # P[t] = f[t-1] * ... for t >= 1
    from_start = np.concatenate([ones, np.cumprod(f, axis=0)])  # f_1 * ... * f_t
    sums = np.concatenate([np.cumsum(f[::-1], axis=0)[::-1], 0 * ones])
    # prod_{j=t+1..T} f_j and f_{t+1} go in as values: braces in a template are placeholders.
    product, f_next = "prod_{j=t+1..T} f_j", "f_{t+1}"
    return {
        tr(
            "the products start one step too late: P[t] = {product}, and in the array "
            "f[t] holds {f_next}, so P[t] = f[t] * f[t+1] * ... * f[T-1].",
            product=product,
            f_next=f_next,
        ): skip,
        tr(
            "the products start one step too early: P[t] = {product} does not contain "
            "f_t = f[t-1]; in the array, P[t] = f[t] * ... * f[T-1].",
            product=product,
        ): extra,
        tr(
            "these are products from the start of the sequence, f_1 * ... * f_t; the gradient "
            "from c_T back to c_t crosses the later steps, {f_next} * ... * f_T.",
            f_next=f_next,
        ): from_start,
        tr(
            "the rows are in the order of the distance T - t; row t must be the step t "
            "(P[T] = 1, P[0] spans all T steps): reverse them."
        ): P[::-1],
        tr("these are products of (1 - f); the belt keeps the fraction f of c at every step."): (
            _products(1 - f)
        ),
        tr(
            "these are sums of the gates; the factors multiply: P[t] = {f_next} * ... * f_T.",
            f_next=f_next,
        ): sums,
    }


def check_forget_products(forget_products, T=8, N=2, H=3, seed=0, closed=False):
    """Check ``forget_products(f) -> P``: f (T, N, H) -> P (T+1, N, H), P[t] = prod_{j>t} f_j.

    ``closed=True`` sets some gates to exactly 0 and some to exactly 1.
    """
    name = display_name(forget_products, "forget_products")
    rng = np.random.default_rng(seed)
    f = _sigmoid(rng.normal(1.5, 1.5, (T, N, H)))
    if closed:
        f[T // 2, 0, 0] = 0.0
        f[1, -1, -1] = 0.0
        f[-1, 0, -1] = 1.0
    got = call(forget_products, {"f": f}, name=name)
    if isinstance(got, np.ndarray) and got.shape == (T, N, H):
        fail(
            tr(
                "Your {name} returned {T} rows for {T} steps; expected T + 1 = {n}, for "
                "t = 0..T. The last row is P[T] = 1, the empty product: no step lies between c_T "
                "and itself.",
                name=name,
                T=T,
                n=T + 1,
            )
        )
    expected = _products(f)
    if closed and isinstance(got, np.ndarray) and got.shape == expected.shape:
        if not np.isfinite(got).all():
            fail(
                tr(
                    "Your {name} is not right yet: P contains NaN or infinity where a gate is "
                    "exactly 0 (a closed valve). Dividing cumulative products, such as "
                    "total / np.cumprod(f), divides by 0 there; multiply backwards from P[T] = 1 "
                    "instead: P[t] = f[t] * P[t + 1].",
                    name=name,
                )
            )
    verdict(
        name,
        got,
        expected,
        "P",
        candidates=lambda: _product_mistakes(f, expected),
        recipe="P[T] = 1 and P[t] = f[t] * P[t + 1] for t = T-1, ..., 0.",
    )
    return tr("{name}: passed.", name=name)


def _ratio(measured, P, *, reduce=np.median, absolute=True):
    m = np.abs(measured) if absolute else measured
    return reduce(m / P, axis=1)


def check_carousel_ratio(ratio, x, cells, distance=20):
    """``ratio[name][t]`` = median over units of |measured[t]| / P[t], t = 0..T, for each cell.

    ``x`` (T, D) and ``cells`` ({name: LSTM params}) are the notebook's; the
    gradients come from :func:`lstm_lessons.experiments.cell_state.carousel_gradients`.
    """
    _not_done(ratio, "ratio")
    if not isinstance(ratio, dict):
        fail(
            tr(
                "ratio should be a dict with the keys {keys}, but it is {got}.",
                keys=sorted(cells),
                got=describe(ratio),
            )
        )
    if not ratio:
        fail(tr("ratio is still empty: the task is not done yet, fill the loop over the cells."))
    missing = [k for k in cells if k not in ratio]
    if missing:
        fail(
            tr(
                "ratio has no entry for {missing}: the loop should "
                "fill ratio[name] for every cell in cells ({cells}).",
                missing=", ".join(repr(k) for k in missing),
                cells=", ".join(map(repr, cells)),
            )
        )
    T = np.shape(x)[0]
    summary = []
    for key, params in cells.items():
        g = carousel_gradients(x, params)
        P = g.predicted  # (T + 1, H), the package's products of forget gates
        expected = _ratio(g.measured, P)
        got = ratio[key]
        label = f'ratio["{key}"]'
        f = g.cache.gate("f")[:, 0]  # (T, H); every copy of the sequence has the same gates

        def mistakes(g=g, P=P, f=f, expected=expected):
            wrong_P = _product_mistakes(f[:, None, :], P[:, None, :])
            found = {
                tr(
                    "the ratio is upside down: it is the measured gradient divided by the "
                    "product of forget gates, |measured| / P."
                ): 1 / expected,
                tr(
                    "you took the mean over the units; take the median, which one extreme "
                    "unit cannot pull away."
                ): _ratio(g.measured, P, reduce=np.mean),
                tr(
                    "the measured gradient can be negative: divide its absolute value, "
                    "np.abs(g.measured) / P."
                ): _ratio(g.measured, P, absolute=False),
                tr(
                    "the entries are in the order of the distance T - t; entry t must be step t "
                    "(entry T is 1). Reverse them."
                ): expected[::-1],
            }
            for message, bad in wrong_P.items():
                message = tr(
                    "your forget_products is not right yet, so neither is the ratio: {cause}",
                    cause=message,
                )
                found[message] = _ratio(g.measured, bad[:, 0])
            return found

        verdict(
            label,
            np.asarray(got, dtype=float) if isinstance(got, (list, np.ndarray)) else got,
            expected,
            label,
            candidates=mistakes,
            recipe=f"{label} = np.median(np.abs(g.measured) / P, axis=1), with P the products "
            "of forget gates of copy 0, shape (T+1, H).",
            reveal=False,
        )
        k = min(distance, T)
        summary.append(
            tr(
                "{ratio:.2g} times the product for the cell {cell!r}",
                ratio=expected[T - k],
                cell=key,
            )
        )
    k = min(distance, T)
    ratios = summary[0]
    for part in summary[1:]:
        ratios = tr("{first} and {second}", first=ratios, second=part)
    return tr(
        "ratio: passed. At the distance {k}, the measured gradient is {ratios} "
        "(median over the units).",
        k=k,
        ratios=ratios,
    )


__all__ = [
    "check_clip_more",
    "check_gradient_norms",
    "check_decay_rate",
    "check_cell_update_carousel",
    "check_forget_products",
    "check_carousel_ratio",
]
