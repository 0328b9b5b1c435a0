"""Chapter 8: hard-sigmoid gates (C15): exact 0 and 1, an exact carousel, and dead gradients.

    definitions          the package's hard sigmoid beside the other libraries' ones
    one_threshold        the smallest x at which a float gate function returns exactly 1.0
    rounding_threshold   where the sigmoid rounds to 1.0, predicted from the precision
    carousel_gradient    dc_T/dc_0 through T steps of a cell whose forget gate sits at f = 1
    gate_gradient        |dL/db_f|, the gradient reaching the forget gate's own bias
    activation_cost      median time of sigmoid and hard sigmoid, NumPy and torch

The carousel and gate experiments run the package's engine (``lstm_forward`` and
``lstm_backward``) with W_h = 0, so that the only path from c_0 to c_T is the cell
state itself and dc_T/dc_0 is exactly the product of the forget gates.

Shapes: T steps, N sequences, D = 1 input, H units.
"""

import time

import numpy as np
import torch

from ..cells.activations import HARD_SIGMOID_OFFSET, HARD_SIGMOID_SLOPE, hard_sigmoid, sigmoid
from ..cells.lstm import init_lstm_params, lstm_backward, lstm_forward
from ..pytorch.cells import hard_sigmoid as torch_hard_sigmoid

#: (slope, offset) of min(1, max(0, slope * x + offset)) in other libraries.
DEFINITIONS = {
    "lstm_lessons, Theano, Keras 2": (HARD_SIGMOID_SLOPE, HARD_SIGMOID_OFFSET),
    "PyTorch nn.Hardsigmoid, Keras 3": (1 / 6, 0.5),
}


def definitions(x):
    """Each definition of :data:`DEFINITIONS` evaluated on ``x``: {name: y}."""
    x = np.asarray(x, dtype=np.float64)
    return {name: hard_sigmoid(x, slope=s, offset=b) for name, (s, b) in DEFINITIONS.items()}


def saturation_point(slope, offset=0.5):
    """The x above which min(1, max(0, slope x + offset)) is exactly 1: (1 - offset) / slope."""
    return (1 - offset) / slope


def one_threshold(dtype=np.float32, via=None, fn=sigmoid, lo=0.0, hi=100.0):
    """The smallest x of ``dtype`` for which ``fn`` (the package's sigmoid) returns exactly 1.0.

    ``fn`` is computed in ``via`` (default: ``dtype`` itself) and the result rounded
    to ``dtype``. Found by bisection over the representable numbers of ``dtype``
    (``fn`` is monotone, and so is its rounding), so nothing about the threshold is
    assumed; :func:`rounding_threshold` says where it should be for the sigmoid.
    """
    dtype = np.dtype(dtype)
    via = dtype if via is None else np.dtype(via)

    def is_one(x):
        return fn(np.array(x, dtype=dtype).astype(via)).astype(dtype) == 1

    lo, hi = np.array(lo, dtype=dtype), np.array(hi, dtype=dtype)
    if is_one(lo) or not is_one(hi):
        raise ValueError(f"one_threshold: expected {fn.__name__} < 1 at {lo} and == 1 at {hi}")
    while np.nextafter(lo, hi) < hi:
        mid = np.array((lo.astype(np.float64) + hi.astype(np.float64)) / 2, dtype=dtype)
        if mid in (lo, hi):
            mid = np.nextafter(lo, hi)
        lo, hi = (lo, mid) if is_one(mid) else (mid, hi)
    return float(hi)


def rounding_threshold(dtype=np.float32, via=None):
    """The x from which 1 / (1 + e^-x), computed in ``via`` and rounded to ``dtype``, is 1.0.

    With m mantissa bits, the numbers of ``dtype`` just above 1 are 2^-m apart and
    those just below 1 are 2^-(m+1) apart; a tie rounds to the even neighbour, 1.

    - Computed in ``dtype`` itself (``via`` None), the sum 1 + e^-x rounds to 1 once
      e^-x <= 2^-(m+1), half the gap above 1: x >= (m + 1) ln 2 (24 ln 2 = 16.64 in
      float32, 53 ln 2 = 36.74 in float64), and then 1 / 1 = 1.
    - Computed in a wider ``via`` and rounded once at the end, the result 1 - e^-x
      becomes 1 once it is within half the gap *below* 1, e^-x <= 2^-(m+2):
      x >= (m + 2) ln 2 (25 ln 2 = 17.33 for float32 through float64).
    """
    dtype = np.dtype(dtype)
    via = dtype if via is None else np.dtype(via)
    m = np.finfo(dtype).nmant
    if via == dtype:
        return (m + 1) * np.log(2.0)
    if np.finfo(via).nmant <= m + 1:
        raise ValueError(
            f"rounding_threshold: expected via wider than {dtype} (or None), got {via}"
        )
    return (m + 2) * np.log(2.0)


def _cell(gate, forget_bias, H, dtype, seed):
    """A cell of ``gate`` ("sigmoid" or "hard_sigmoid") with W_h = 0 and the given forget bias.

    Its forget gate reads only the bias (its input weights are zero), so f is the same
    at every step: gate(forget_bias).
    """
    variant = "standard" if gate == "sigmoid" else gate
    params = init_lstm_params(1, H, variant, seed=seed, dtype=dtype)
    params["W_h"][...] = 0.0
    params["W_x"][:, H : 2 * H] = 0.0
    params["b"][H : 2 * H] = forget_bias
    return params, variant


def carousel_gradient(gate, forget_bias, T=1000, H=4, dtype=np.float64, seed=0):
    """dc_T/dc_0 of each unit (H,), through T steps, by the package's backward pass.

    The loss is L = sum(c_T); with W_h = 0 the gradient reaching c_0 is the product
    of the T forget gates.
    """
    params, variant = _cell(gate, forget_bias, H, dtype, seed)
    x = np.random.default_rng(seed).standard_normal((T, 1, 1)).astype(dtype)
    zeros = np.zeros((1, H), dtype=dtype)
    _, _, cache = lstm_forward(x, zeros, zeros, params, variant)
    dcs = np.zeros((T, 1, H), dtype=dtype)
    dcs[-1] = 1.0
    _, _, dc0, _ = lstm_backward(np.zeros_like(dcs), cache, dcs)
    return dc0[0]


def gate_gradient(gate, forget_biases, T=50, H=4, seed=0):
    """|dL/db_f| averaged over the H units, for each forget bias: how much the bias can learn.

    L = sum over t of (h_t - y_t)^2 / 2 with a random target y, from random c_0, in float64.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, 1, 1))
    y = rng.standard_normal((T, 1, H))
    c0 = rng.standard_normal((1, H))
    out = []
    for b in np.atleast_1d(forget_biases):
        params, variant = _cell(gate, b, H, np.float64, seed)
        hs, _, cache = lstm_forward(x, np.zeros((1, H)), c0, params, variant)
        grads = lstm_backward(hs - y, cache)[3]
        out.append(np.abs(grads["b"][H : 2 * H]).mean())
    return np.array(out)


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def activation_cost(n=1_000_000, repeats=15, dtype=np.float32, seed=0):
    """Median seconds of one call on ``n`` numbers: {(library, name): seconds}.

    NumPy: the package's ``sigmoid`` and ``hard_sigmoid`` writing into a preallocated
    array; torch (one thread): ``torch.sigmoid`` and the twin's hard sigmoid (scale,
    shift, clamp) and ``torch.nn.functional.hardsigmoid`` (one fused kernel).
    """
    x = (4 * np.random.default_rng(seed).standard_normal(n)).astype(dtype)
    out = np.empty_like(x)
    xt = torch.from_numpy(x)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fns = {
            ("NumPy", "sigmoid"): lambda: sigmoid(x, out=out),
            ("NumPy", "hard sigmoid"): lambda: hard_sigmoid(x, out=out),
            ("torch", "sigmoid"): lambda: torch.sigmoid(xt),
            ("torch", "hard sigmoid (clamp)"): lambda: torch_hard_sigmoid(xt),
            ("torch", "F.hardsigmoid"): lambda: torch.nn.functional.hardsigmoid(xt),
        }
        for fn in fns.values():
            fn()  # warm up
        return {key: _median_time(fn, repeats) for key, fn in fns.items()}
    finally:
        torch.set_num_threads(threads)
