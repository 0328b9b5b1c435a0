"""Checks for the exercise sets of chapters 4 (the forget gate) and 5 (the input gate).

    check                          the student's answer
    check_gate_survival            gate_survival(x, params) -> (f_mean, kept)
    check_bias_table               table {b: (f_mean, kept)} for the biases 0, 1, 2
    check_compare_with_torch       compare_with_torch(step, x, h0, c0, params) -> gap
    check_gap                      gap, a number computed with the student's own step

The forget gate's survival (chapter 4): run the package's cell from zero states over
x (T, N, D) and read f (T, N, H) from the cache; then

    f_mean = mean of f over t, n, k
    kept   = mean over n, k of the product over t of f_t[n, k]

``kept`` is the fraction of a value stored before step 1 that is left after the T steps
if nothing is written. The comparison with PyTorch (chapter 5) is the largest
|mine - torch| over h_t and c_t at every step t = 1..T.
"""

import numbers
from functools import partial

import numpy as np

from ...cells.activations import sigmoid as _sigmoid
from ...cells.lstm import init_lstm_params, lstm_forward
from ..checks.calling import call, describe, display_name, fail, refuse_package_call
from ..checks.cases import step
from ..checks.cells import UNPACK_HINT
from ..checks.report import unpack, verdict
from ..language import tr

NH = ("N", "H")
BIASES = (0.0, 1.0, 2.0)
GAP_LIMIT = 1e-10  # float64 rounding over a few steps is about 1e-16; float32 about 1e-7


def _gates(x, params):
    """i, f, o (T, N, H) of the package's cell run from zero states over x."""
    N, H = x.shape[1], params["W_h"].shape[0]
    zeros = np.zeros((N, H))
    cache = lstm_forward(x, zeros, zeros, params)[2]
    return cache.gate("i"), cache.gate("f"), cache.gate("o")


def _survival(f):
    return np.array(f.mean()), np.array(f.prod(axis=0).mean())


def _survival_mistakes(i, f, o, bias):
    T = len(f)
    f_mean = np.array(f.mean())
    return {
        tr(
            "kept is the estimate sigma(b_f) ** T of the chapter, not the measurement: multiply "
            "the gates f_t that the cell actually computed, step by step, then average."
        ): (f_mean, np.array(_sigmoid(bias) ** T)),
        tr(
            "kept is f_mean ** T: you averaged the gates first and then took the power. Multiply "
            "first, unit by unit, over the T steps, then average: f.prod(axis=0).mean()."
        ): (f_mean, f_mean**T),
        tr(
            "kept multiplies T - 1 gates (f[1:] or f[:-1]); a delay of T steps multiplies all T "
            "of them, f_1 to f_T."
        ): (f_mean, np.array(f[1:].prod(axis=0).mean())),
        tr(
            "kept multiplies T - 1 gates (f[:-1]); a delay of T steps multiplies all T of "
            "them, f_1 to f_T."
        ): (f_mean, np.array(f[:-1].prod(axis=0).mean())),
        tr("kept multiplies over axis 1, the sequences; time is axis 0 of f (T, N, H)."): (
            f_mean,
            np.array(f.prod(axis=1).mean()),
        ),
        tr(
            "kept adds the gates instead of multiplying them: each step multiplies the stored "
            "value by f_t."
        ): (f_mean, np.array(f.sum(axis=0).mean())),
        tr("you read the input gate i; the forget gate is cache.gate('f'), the second block."): (
            _survival(i)
        ),
        tr("you read the output gate o; the forget gate is cache.gate('f'), the second block."): (
            _survival(o)
        ),
        tr("you returned (kept, f_mean); the order is `return f_mean, kept`."): (
            _survival(f)[::-1]
        ),
    }


def _survival_inputs(T, N, D, H, seed, bias):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, D))
    params = init_lstm_params(D, H, seed=seed, forget_bias=bias)
    return {"x": x, "params": params}


def check_gate_survival(gate_survival, T=10, N=16, D=3, H=8, seed=0, bias=1.0):
    """Check ``gate_survival(x, params) -> (f_mean, kept)``.

    x (T, N, D); params from ``init_lstm_params(D, H, forget_bias=bias)``. The cell runs
    from h0 = c0 = 0; f (T, N, H) is its forget gate; f_mean = f.mean() and
    kept = f.prod(axis=0).mean().
    """
    name = display_name(gate_survival, "gate_survival")
    args = _survival_inputs(T, N, D, H, seed, bias)
    got = call(gate_survival, args, name=name, hints=UNPACK_HINT)
    got = unpack(got, ("f_mean", "kept"), name, want=tr("two numbers (f_mean, kept)"))
    for value, what in zip(got, ("f_mean", "kept"), strict=True):
        if np.ndim(value) != 0 and value is not Ellipsis and value is not None:
            fail(
                tr(
                    "Your {name} returned {what} as {got}; expected one number. "
                    "Average over every axis that is left (.mean() with no axis).",
                    name=name,
                    what=what,
                    got=describe(value),
                )
            )
    i, f, o = _gates(args["x"], args["params"])
    verdict(
        name,
        got,
        _survival(f),
        ("f_mean", "kept"),
        candidates=partial(_survival_mistakes, i, f, o, bias),
        recipe="f = cache.gate('f') of ll.lstm_forward(x, 0, 0, params), shape (T, N, H); "
        "f_mean = f.mean(); kept = f.prod(axis=0).mean().",
    )
    return tr(
        "{name}: passed (T={T}, N={N}, D={D}, H={H}, forget bias {bias:g}).",
        name=name,
        T=T,
        N=N,
        D=D,
        H=H,
        bias=bias,
    )


def check_bias_table(table, x, H, seed):
    """``table`` maps each bias b in 0, 1, 2 to (f_mean, kept) for params with forget_bias=b.

    The params are ``init_lstm_params(D, H, seed=seed, forget_bias=b)``, D = x.shape[2].
    """
    if table is None or table is Ellipsis or (isinstance(table, dict) and not table):
        fail(tr("table is not computed yet: replace the ... with your code."))
    if not isinstance(table, dict):
        fail(tr("table should be a dict {{bias: (f_mean, kept)}}, got {got}.", got=describe(table)))
    bad_keys = tr("the keys of table should be the biases 0, 1, 2, got {keys}.", keys=list(table))
    try:
        rows = {float(k): v for k, v in table.items()}
    except (TypeError, ValueError):
        fail(bad_keys)
    if sorted(rows) != list(BIASES):
        fail(bad_keys)
    if x is None or np.ndim(x) != 3:
        fail(tr("x should be the input of shape (T, N, D) defined above; run that cell again."))
    D = np.shape(x)[2]
    expected = {}
    for b in BIASES:
        params = init_lstm_params(D, H, seed=seed, forget_bias=b)
        expected[b] = tuple(float(v) for v in _survival(_gates(np.asarray(x), params)[1]))
    for b in BIASES:
        row = rows[b]
        if row is None or row is Ellipsis:
            fail(tr("table[{b:g}] is not computed yet: replace the ... with your code.", b=b))
        if not isinstance(row, (tuple, list)) or len(row) != 2:
            fail(
                tr(
                    "table[{b:g}] should be the pair (f_mean, kept), got {got}.",
                    b=b,
                    got=describe(row),
                )
            )
        if not all(isinstance(v, numbers.Real) or np.ndim(v) == 0 for v in row):
            fail(tr("table[{b:g}] should hold two numbers, got {got}.", b=b, got=describe(row)))
    got = {b: tuple(float(v) for v in rows[b]) for b in BIASES}
    if len({got[b] for b in BIASES}) == 1:
        fail(
            tr(
                "Every row of table is the same: pass forget_bias=b to ll.init_lstm_params, "
                "so that each row uses its own bias."
            )
        )
    for b in BIASES:
        if np.allclose(got[b], expected[b], rtol=1e-6, atol=1e-9):
            continue
        if np.allclose(got[b], expected[b][::-1], rtol=1e-6, atol=1e-9):
            fail(tr("table[{b:g}] is (kept, f_mean); the order is (f_mean, kept).", b=b))
        wrong = [k for k, (g, e) in enumerate(zip(got[b], expected[b], strict=True))
                 if not np.isclose(g, e, rtol=1e-6, atol=1e-9)]  # fmt: skip
        f_mean, kept = got[b]
        if len(wrong) == 1:
            fail(
                tr(
                    "table[{b:g}] = ({f_mean:.4g}, {kept:.4g}): {what} is not right for params = "
                    "ll.init_lstm_params(D, H, seed=seed, forget_bias={b:g}) and the x above.",
                    b=b,
                    f_mean=f_mean,
                    kept=kept,
                    what=("f_mean", "kept")[wrong[0]],
                )
            )
        fail(
            tr(
                "table[{b:g}] = ({f_mean:.4g}, {kept:.4g}): f_mean and kept are not right for "
                "params = ll.init_lstm_params(D, H, seed=seed, forget_bias={b:g}) and the x above.",
                b=b,
                f_mean=f_mean,
                kept=kept,
            )
        )
    k0, k2 = got[0.0][1], got[2.0][1]
    return tr(
        "table: passed. Over {T} steps, bias 0 keeps {k0:.2g} of a stored value, "
        "bias 2 keeps {k2:.2g}: {ratio:.0f} times more.",
        T=np.shape(x)[0],
        k0=k0,
        k2=k2,
        ratio=k2 / k0,
    )


def _swapped_step(x, h_prev, c_prev, W_x, W_h, b):
    """The standard step with the blocks of i and f read the wrong way round."""
    H = h_prev.shape[1]
    a = x @ W_x + h_prev @ W_h + b  # (N, 4H)
    f, i = _sigmoid(a[:, :H]), _sigmoid(a[:, H : 2 * H])
    g, o = np.tanh(a[:, 2 * H : 3 * H]), _sigmoid(a[:, 3 * H :])
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def _no_tanh_step(x, h_prev, c_prev, W_x, W_h, b):
    """The standard step with h = o * c: only h is wrong."""
    H = h_prev.shape[1]
    a = x @ W_x + h_prev @ W_h + b  # (N, 4H)
    i, f = _sigmoid(a[:, :H]), _sigmoid(a[:, H : 2 * H])
    g, o = np.tanh(a[:, 2 * H : 3 * H]), _sigmoid(a[:, 3 * H :])
    c = f * c_prev + i * g
    return o * c, c


# (what the step gets wrong, in the language of the feedback; the step)
WRONG_STEPS = (
    (lambda: tr("a step with the i and f blocks swapped"), _swapped_step),
    (lambda: tr("a step that computes h = o * c, without the tanh"), _no_tanh_step),
)


def _package_step(x, h_prev, c_prev, W_x, W_h, b):
    """The package's standard step, with the student's signature."""
    h, c, _ = step({"x": x, "h_prev": h_prev, "c_prev": c_prev, "W_x": W_x, "W_h": W_h, "b": b})
    return h, c


def _run(step_fn, x, h0, c0, params):
    hs, cs, h, c = [], [], h0, c0
    for x_t in x:
        h, c = step_fn(x_t, h, c, params["W_x"], params["W_h"], params["b"])
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)  # (T, N, H) each


def _gap_mistakes(dh, dc):
    """What common slips report for the largest difference, from dh, dc (T, N, H)."""
    return {
        tr(
            "you compared h_t at every step but not c_t at every step (torch's output holds every "
            "h_t, its state only the last c): feed torch one step at a time and compare c_t too."
        ): dh.max(),
        tr(
            "you compared h_t at every step but c only at the last step: torch's state holds only "
            "the last c, so feed torch one step at a time and compare c_t after every step."
        ): max(dh.max(), dc[-1].max()),
        tr("you compared only c; compare h_t at every step as well."): dc.max(),
        tr(
            "you compared only the last step; torch.nn.LSTM returns only the last (h, c), so feed "
            "it one step at a time and compare h_t and c_t after every step."
        ): max(dh[-1].max(), dc[-1].max()),
        tr("you averaged the differences; report the largest one, np.abs(...).max()."): max(
            dh.mean(), dc.mean()
        ),
    }


def _gap_inputs(T, N, D, H, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, D))
    h0 = 0.5 * rng.standard_normal((N, H))
    c0 = rng.standard_normal((N, H))
    params = init_lstm_params(D, H, seed=seed, forget_bias=1.0)
    params["b"] = params["b"] + rng.uniform(-0.5, 0.5, 4 * H)
    return {"x": x, "h0": h0, "c0": c0, "params": params}


def _number(got, name, case):
    """``got`` as one number >= 0, a largest difference; else CheckFailed.

    ``case`` says what ``got`` is: what the student's ``name`` returned for a correct step
    (``"right"``) or for a wrong one (``"wrong"``), or the student's variable gap (``"gap"``).
    """
    if got is None or got is Ellipsis:
        if case == "gap":
            fail(
                tr("gap is {got}; expected one number, the largest difference.", got=describe(got))
            )
        fail(
            tr(
                "Your {name} returned {got}; expected one number, the largest difference.",
                name=name,
                got=describe(got),
            )
        )
    if type(got).__name__ == "Tensor":
        if got.numel() != 1:
            shape = tuple(got.shape)
            if case == "gap":
                fail(tr("gap is a tensor of shape {shape}; expected one number.", shape=shape))
            fail(
                tr(
                    "Your {name} returned a tensor of shape {shape}; expected one number.",
                    name=name,
                    shape=shape,
                )
            )
        got = got.item()
    if np.ndim(got) != 0 or not isinstance(np.asarray(got).item(), numbers.Real):
        text = describe(got)
        if case == "right":
            fail(
                tr(
                    "Your {name} returned {got} for a correct step; expected one number, the "
                    "largest |mine - torch| over h and c and all steps (use .max()).",
                    name=name,
                    got=text,
                )
            )
        if case == "wrong":
            fail(
                tr(
                    "Your {name} returned {got} for a wrong step; expected one number, the "
                    "largest |mine - torch| over h and c and all steps (use .max()).",
                    name=name,
                    got=text,
                )
            )
        fail(
            tr(
                "gap is {got}; expected one number, the largest |mine - torch| over h and c and "
                "all steps (use .max()).",
                got=text,
            )
        )
    value = float(got)
    if not np.isfinite(value) or value < 0:
        if case == "right":
            fail(
                tr(
                    "Your {name} returned {value} for a correct step: a largest |difference| is "
                    "a number >= 0.",
                    name=name,
                    value=value,
                )
            )
        if case == "wrong":
            fail(
                tr(
                    "Your {name} returned {value} for a wrong step: a largest |difference| is "
                    "a number >= 0.",
                    name=name,
                    value=value,
                )
            )
        fail(tr("gap is {value}: a largest |difference| is a number >= 0.", value=value))
    return value


def check_compare_with_torch(compare_with_torch, T=5, N=3, D=4, H=6, seed=2):
    """Check ``compare_with_torch(step, x, h0, c0, params) -> gap``.

    It must run ``step`` over x (T, N, D) from (h0, c0) and torch.nn.LSTM (float64) with the
    weights of ``ll.to_torch(params)`` from the same state, and return the largest
    |mine - torch| over h_t and c_t at every step. The check passes it the package's step,
    which must give a gap below 1e-10, and the wrong steps of ``WRONG_STEPS``, whose gap must
    be the real largest difference. With the default inputs, the largest difference of one
    wrong step lies in c and of the other in h, both before the last step, so that comparing
    only h, only c or only the last step each gives a different number.
    """
    name = display_name(compare_with_torch, "compare_with_torch")
    refuse_package_call(compare_with_torch, ("lstm_forward", "_package_step", "_run"), name)
    args = _gap_inputs(T, N, D, H, seed)
    hints = (
        (
            lambda e: "expected scalar type" in str(e) or "dtype" in str(e).lower(),
            tr("torch.nn.LSTM is float32 unless you call .double() on it; the inputs are float64."),
        ),
        (
            lambda e: "size mismatch" in str(e) or "Missing key" in str(e),
            tr(
                "load the converted weights into torch.nn.LSTM(D, H): "
                "lstm.load_state_dict(ll.to_torch(params)), with D = x.shape[2], H = h0.shape[1]."
            ),
        ),
    )
    right = _number(
        call(compare_with_torch, {"step": _package_step, **args}, name=name, hints=hints),
        name,
        "right",
    )
    if right > GAP_LIMIT:
        if right < 1e-4:
            why = tr(
                "That is the size of float32 rounding: call .double() on torch.nn.LSTM and give "
                "it float64 tensors (torch.from_numpy keeps float64)."
            )
        else:
            why = tr(
                "Check that torch starts from (h0, c0) with shape (1, N, H), that its state is "
                "carried from step to step, and that the weights come from ll.to_torch(params)."
            )
        fail(
            tr(
                "With the package's own (correct) step, your {name} reported a largest difference "
                "of {gap:.3g}; two float64 computations of the same cell agree to about 1e-15, "
                "so it should be below {limit:g}. {why}",
                name=name,
                gap=right,
                limit=GAP_LIMIT,
                why=why,
            )
        )
    hs, cs = _run(_package_step, **args)
    for what, wrong_step in WRONG_STEPS:
        hs_w, cs_w = _run(wrong_step, **args)
        dh, dc = np.abs(hs_w - hs), np.abs(cs_w - cs)  # (T, N, H)
        expected = max(dh.max(), dc.max())
        wrong = _number(
            call(compare_with_torch, {"step": wrong_step, **args}, name=name, hints=hints),
            name,
            "wrong",
        )
        if np.isclose(wrong, expected, rtol=1e-6, atol=1e-12):
            continue
        lines = [
            tr(
                "Your {name} is not right yet. Given {step}, it reported a largest difference of "
                "{gap:.6g}; the real one, over h_t and c_t at all {T} steps, is {expected:.6g}.",
                name=name,
                step=what(),
                gap=wrong,
                T=T,
                expected=expected,
            )
        ]
        for message, value in _gap_mistakes(dh, dc).items():
            if np.isclose(wrong, value, rtol=1e-6, atol=1e-12):
                lines.append(tr("Likely cause: {cause}", cause=message))
                break
        else:
            if wrong < 1e-8:
                cause = tr(
                    "your function does not use its argument `step`: run the step it is given, "
                    "not the package's cell or a global name."
                )
                lines.append(tr("Likely cause: {cause}", cause=cause))
        fail("\n".join(lines))
    return tr(
        "{name}: passed (it reports about 0 for a right step and the real gap for wrong ones).",
        name=name,
    )


def _torch_gap(step_fn, x, h0, c0, params, name):
    """The largest |step - torch.nn.LSTM| over h_t and c_t, torch fed one step at a time."""
    import torch

    from ...pytorch.convert import to_torch

    hs, cs, h, c = [], [], h0, c0
    for x_t in x:
        args = {"x": x_t, "h_prev": h, "c_prev": c, **{k: params[k] for k in ("W_x", "W_h", "b")}}
        h, c = (np.asarray(v) for v in unpack(call(step_fn, args, name=name), ("h", "c"), name))
        if h.shape != h0.shape or c.shape != c0.shape:
            fail(
                tr(
                    "Your {name} returned h {h}, c {c}; expected both {shape}.",
                    name=name,
                    h=h.shape,
                    c=c.shape,
                    shape=h0.shape,
                )
            )
        hs.append(h)
        cs.append(c)
    D, H = x.shape[2], h0.shape[1]
    lstm = torch.nn.LSTM(D, H).double()
    lstm.load_state_dict(to_torch(params))
    h_t, c_t = torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]
    gap = 0.0
    with torch.no_grad():
        for t in range(len(x)):
            _, (h_t, c_t) = lstm(torch.from_numpy(x[t : t + 1]), (h_t, c_t))
            gap_h = np.abs(hs[t] - h_t[0].numpy()).max()
            gap = max(gap, gap_h, np.abs(cs[t] - c_t[0].numpy()).max())
    return float(gap)


#: How far a reported gap may lie from the grader's own measurement of it: the two are
#: float64 rounding of the same computation (about 1e-16 each), whose largest value over
#: all steps depends on how torch is fed (a step at a time or the whole sequence).
GAP_FACTOR = 8.0


def check_gap(gap, lstm_step=None, x=None, h0=None, c0=None, params=None):
    """``gap``, what compare_with_torch reported for the student's own step on the given data.

    With the student's ``lstm_step`` and the given data, the grader measures the gap itself
    (:func:`_torch_gap`); ``gap`` must be that measurement within float64 rounding (a factor
    of ``GAP_FACTOR``), so that a number typed rather than computed fails, as does a gap
    computed on other data.
    """
    if gap is None or gap is Ellipsis:
        fail(tr("gap is not computed yet: replace the ... with your code."))
    value = _number(gap, "gap", "gap")
    if value > GAP_LIMIT:
        fail(
            tr(
                "gap = {gap:.3g}: your lstm_step and torch.nn.LSTM disagree by more than "
                "{limit:g}. Make lstm_step pass task 1 and compare_with_torch pass its check.",
                gap=value,
                limit=GAP_LIMIT,
            )
        )
    if lstm_step is None or x is None:
        fail(tr("gap needs lstm_step (task 1) and the data of the given cell (x, h0, c0, params)."))
    name = display_name(lstm_step, "lstm_step")
    real = _torch_gap(lstm_step, x, h0, c0, params, name)
    if real > GAP_LIMIT:
        fail(
            tr(
                "Your {name} and torch.nn.LSTM differ by {real:.3g} on the given data: make "
                "{name} pass task 1 first.",
                name=name,
                real=real,
            )
        )
    if value == 0 and real > 0:
        fail(
            tr(
                "gap is exactly 0. Two float64 computations of the cell, NumPy's and torch's, "
                "differ by rounding (about 1e-16): compute gap with compare_with_torch(lstm_step, "
                "...) rather than typing a number."
            )
        )
    if not real / GAP_FACTOR <= value <= real * GAP_FACTOR:
        fail(
            tr(
                "gap = {gap:.3g}, but your {name} and torch.nn.LSTM differ by {real:.3g} on the "
                "data of the given cell (x, h0, c0, params): compute gap with "
                "compare_with_torch(lstm_step, x, h0, c0, params) on that data rather than typing "
                "a number or changing the data.",
                gap=value,
                name=name,
                real=real,
            )
        )
    return tr("gap = {gap:.1e}: your cell computes what torch.nn.LSTM computes.", gap=value)
