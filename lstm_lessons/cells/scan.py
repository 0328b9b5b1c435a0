r"""The first-order linear recurrence h_t = a_t h_{t-1} + b_t, computed five ways, and its backward.

Shapes: T steps, N batch size, H hidden size; ``a`` and ``b`` are (T, N, H), ``h0`` (N, H)
(zeros when None), and every form returns ``h`` (T, N, H) with h_t at index t - 1 (h0 is
not repeated in the output). Every product is element-wise: each of the N*H channels is its
own scalar recurrence.

Why a scan works. Write step t as the pair (a_t, b_t), the affine map h -> a_t h + b_t.
Doing (a_1, b_1) and then (a_2, b_2) is again such a map,

.. math::

    (a_1, b_1) \bullet (a_2, b_2) = (a_2 a_1,\; a_2 b_1 + b_2),

and composition of maps is associative, so the prefixes (a_1..t, h_t) can be combined in any
bracketing: a tree of depth O(log T) instead of a chain of T steps. The forms:

* :func:`loop_scan`, the reference: one step after another, T multiply-adds per channel.
* :func:`blelloch_scan`, work-efficient (Blelloch 1990): an up-sweep combines neighbours in
  pairs up a binary tree (T - 1 combines), a down-sweep hands each subtree the prefix to its
  left (T - 1 more): about 2T combines, depth about 2 log2 T. Any T, not only powers of 2: a level
  with an odd number of nodes carries its last node up unchanged.
* :func:`hillis_steele_scan`: step-efficient, log2 T rounds of T combines each
  (T log2 T work); shown for the operation count.
* :func:`chunked_scan`: split time into chunks of length L; inside each chunk run the loop
  for all chunks at once (the chunk axis is a batch axis), then carry the state across
  chunk boundaries (T/L steps) and correct each chunk with the cumulative product of its a.
* :func:`log_scan`, for a_t > 0 (Heinsen 2023): with log a*_t = sum_{s<=t} log a_s,

  .. math::

      h_t = a^*_t \Big(h_0 + \sum_{s \le t} b_s / a^*_s\Big),
      \quad \log|h_t| \text{ from } \mathrm{logcumsumexp}(\log b_s - \log a^*_s) + \log a^*_t,

  computed in log space so that a long product of a < 1 never underflows on its own. Signs
  of b (and h0) are carried by splitting b into its positive and negative parts, each summed
  with ``logaddexp.accumulate`` (a zero part is log 0 = -inf, which logaddexp handles). It
  needs a_t > 0 (log a must be real); a negative transition, as parity needs, must use
  the real-domain forms above.

The naive closed form :func:`cumprod_scan` (the formula above with plain ``cumprod`` and
division) is the one that fails: a*_t underflows, b/a* overflows to inf, and h becomes inf
or nan.

Backward. With L a loss and dh_t = dL/dh_t its direct gradient, h_t reaches L directly and
through h_{t+1} = a_{t+1} h_t + b_{t+1}, so the total gradient g_t = dL/dh_t (all paths) is

.. math::

    g_T = \mathrm{d}h_T, \quad g_t = \mathrm{d}h_t + a_{t+1} g_{t+1}

which is the same linear recurrence run in reverse time, with a shifted by one step. Then,
since a_t and b_t enter only h_t,

.. math::

    \mathrm{d}a_t = g_t h_{t-1}, \quad \mathrm{d}b_t = g_t, \quad \mathrm{d}h_0 = a_1 g_1.

:func:`scan_backward` computes g with any forward form (``method``) applied to the flipped
sequences.
"""

import numpy as np

from .validation import check_array, check_int, check_shape

METHODS = ("loop", "blelloch", "hillis_steele", "chunked", "log", "cumprod")


def _check(a, b, h0):
    T, N, H = check_array("a", a, "TNH")
    check_array("b", b, "TNH", a.dtype)
    check_shape("b", b, (T, N, H), "TNH")
    if h0 is None:
        return np.zeros((N, H), dtype=a.dtype)
    check_array("h0", h0, "NH", a.dtype)
    check_shape("h0", h0, (N, H), "NH")
    return h0


def _fold_h0(a, b, h0):
    """b with h0 folded into its first step: b_1 + a_1 h0, so the scan can start from zero."""
    b = b.copy()
    b[0] += a[0] * h0
    return b


def loop_scan(a, b, h0=None):
    """h_t = a_t * h_{t-1} + b_t, one step at a time: a, b (T, N, H), h0 (N, H) -> h (T, N, H)."""
    return _loop(a, b, _check(a, b, h0))


def _loop(a, b, h_prev):
    h = np.empty_like(b)
    for t in range(a.shape[0]):
        h_prev = h[t] = a[t] * h_prev + b[t]
    return h


def blelloch_scan(a, b, h0=None):
    """The work-efficient scan: an up-sweep and a down-sweep over a binary tree, any T.

    Level 0 holds the T pairs (a_t, b_t). The up-sweep combines pairs (2k, 2k+1) of each
    level into one node of the next, until one node is left (the whole sequence); an odd
    last node goes up alone. The down-sweep then walks back down with, for every node, the
    state just before its first step (the "carry", h0 at the root): a left child gets its
    parent's carry, a right child the carry after its left sibling. At level 0 the carry is
    h_{t-1}, and h_t = a_t carry_t + b_t. Work: T - 1 combines up (two products and a sum
    each), T - 1 carries down (a product and a sum) and T leaf steps: about 7T operations,
    3.5 times the loop's 2T, at depth 2 ceil(log2 T) + 1 (:func:`operation_counts`).
    """
    return _blelloch(a, b, _check(a, b, h0))


def _blelloch(a, b, h0):
    levels = [(a, b)]
    while levels[-1][0].shape[0] > 1:
        A, B = levels[-1]
        m = A.shape[0] // 2
        A_left, B_left = A[0 : 2 * m : 2], B[0 : 2 * m : 2]
        A_right, B_right = A[1 : 2 * m : 2], B[1 : 2 * m : 2]
        A_up = A_right * A_left  # (m, N, H): the pair's map applied in order
        B_up = A_right * B_left + B_right
        if A.shape[0] % 2:
            A_up = np.concatenate([A_up, A[-1:]])
            B_up = np.concatenate([B_up, B[-1:]])
        levels.append((A_up, B_up))
    carry = h0[None]  # (1, N, H): the state before the root's first step
    for A, B in reversed(levels[:-1]):
        m = A.shape[0] // 2
        down = np.empty_like(A)
        down[0 : 2 * m : 2] = carry[:m]  # left child: the parent's carry
        down[1 : 2 * m : 2] = A[0 : 2 * m : 2] * carry[:m] + B[0 : 2 * m : 2]  # after the left
        if A.shape[0] % 2:
            down[-1] = carry[-1]
        carry = down
    return a * carry + b


def hillis_steele_scan(a, b, h0=None):
    """The step-efficient scan: log2 T rounds, round k combining each step with the one 2^k back."""
    return _hillis_steele(a, b, _check(a, b, h0))


def _hillis_steele(a, b, h0):
    A, B = a, _fold_h0(a, b, h0)
    shift = 1
    while shift < A.shape[0]:
        A_new, B_new = A.copy(), B.copy()
        A_new[shift:] = A[shift:] * A[:-shift]
        B_new[shift:] = A[shift:] * B[:-shift] + B[shift:]
        A, B = A_new, B_new
        shift *= 2
    return B


def chunked_scan(a, b, h0=None, chunk=64):
    """Loop inside chunks of ``chunk`` steps (all chunks at once), then carry across chunks."""
    h0 = _check(a, b, h0)
    L = check_int("chunk", chunk)
    T, N, H = a.shape
    C = -(-T // L)  # number of chunks
    pad = C * L - T
    # Padding with a = 1, b = 0 leaves the state unchanged, so the padded steps are harmless.
    ap = np.concatenate([a, np.ones((pad, N, H), a.dtype)]).reshape(C, L, N, H)
    bp = np.concatenate([b, np.zeros((pad, N, H), b.dtype)]).reshape(C, L, N, H)
    local = np.empty_like(bp)  # each chunk's states from a zero start
    prod = np.empty_like(ap)  # each chunk's cumulative product of a
    s, p = np.zeros((C, N, H), a.dtype), np.ones((C, N, H), a.dtype)
    for k in range(L):
        s = local[:, k] = ap[:, k] * s + bp[:, k]
        p = prod[:, k] = ap[:, k] * p
    starts = np.empty((C, N, H), a.dtype)  # the state entering each chunk
    carry = h0
    for c in range(C):
        starts[c] = carry
        carry = prod[c, -1] * carry + local[c, -1]
    h = local + prod * starts[:, None]
    return h.reshape(C * L, N, H)[:T]


def cumprod_scan(a, b, h0=None):
    """The closed form h_t = a*_t (h0 + sum_s b_s / a*_s) with a plain cumulative product.

    Equal to the loop in exact arithmetic; in floating point the product of many a < 1
    underflows: once a*_s falls below |b_s| divided by the largest number (about 3.4e38 in
    float32, so log a*_s below about -88), b_s / a*_s or the running sum of these terms
    overflows to inf, and every later step of that channel is inf or nan (inf * 0,
    inf - inf). Shown as the thing not to do.
    """
    h0 = _check(a, b, h0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        a_star = np.cumprod(a, axis=0)
        return a_star * (h0 + np.cumsum(b / a_star, axis=0))


def _log_parts(v):
    """log of the positive and of the negative part of v (log 0 = -inf)."""
    with np.errstate(divide="ignore"):
        return np.log(np.maximum(v, 0)), np.log(np.maximum(-v, 0))


def log_scan(a, b, h0=None):
    """The scan in log space (Heinsen 2023), for a_t > 0 and b, h0 of either sign.

    log a*_t = cumsum(log a); log of the positive and of the negative part of
    sum_s b_s / a*_s each by ``logaddexp.accumulate``; h_t = exp(log a*_t + log P_t)
    - exp(log a*_t + log M_t). Nothing is divided by a small a*, so nothing overflows.
    """
    h0 = _check(a, b, h0)
    if not (a > 0).all():
        where = tuple(int(k) for k in np.argwhere(~(a > 0))[0])
        raise ValueError(
            f"a: log_scan expected a > 0 (log a must be real), got {a[where]} at index "
            f"{where}; use loop_scan or blelloch_scan for a transition of either sign"
        )
    log_a_star = np.cumsum(np.log(a), axis=0)  # (T, N, H)
    b_ext = np.concatenate([h0[None], b])  # (T+1, N, H): h0 is b_0 with a*_0 = 1
    shift = np.concatenate([np.zeros_like(h0)[None], log_a_star])
    pos, neg = _log_parts(b_ext)
    with np.errstate(invalid="ignore"):
        log_P = np.logaddexp.accumulate(pos - shift, axis=0)[1:]
        log_M = np.logaddexp.accumulate(neg - shift, axis=0)[1:]
    return np.exp(log_a_star + log_P) - np.exp(log_a_star + log_M)


_FORMS = {
    "loop": loop_scan,
    "blelloch": blelloch_scan,
    "hillis_steele": hillis_steele_scan,
    "chunked": chunked_scan,
    "log": log_scan,
    "cumprod": cumprod_scan,
}


def linear_scan(a, b, h0=None, method="blelloch"):
    """h_t = a_t h_{t-1} + b_t for all t by the named form (default: the work-efficient scan).

    a, b (T, N, H), h0 (N, H) or None (zeros) -> h (T, N, H). ``method`` is one of
    :data:`METHODS`.
    """
    if method not in _FORMS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    return _FORMS[method](a, b, h0)


def scan_backward(dh, a, h, h0=None, method="blelloch"):
    """The backward of the recurrence: dh (T, N, H) -> da (T, N, H), db (T, N, H), dh0 (N, H).

    ``a`` is the forward's transitions, ``h`` its output, ``h0`` its initial state (None:
    zeros). g_t = dh_t + a_{t+1} g_{t+1} is computed by the forward form ``method`` run on
    the flipped sequences (a shifted by one step, a_{T+1} = 0); then da_t = g_t h_{t-1},
    db_t = g_t, dh0 = a_1 g_1.
    """
    h0 = _check(a, h, h0)
    check_array("dh", dh, "TNH", a.dtype)
    check_shape("dh", dh, a.shape, "TNH")
    a_next = np.concatenate([a[1:], np.zeros_like(a[:1])])  # a_{t+1}, with a_{T+1} = 0
    if method == "log":
        # g is a sum of signed terms; log_scan needs a > 0, which a_{T+1} = 0 is not.
        method = "blelloch"
    g = linear_scan(a_next[::-1], dh[::-1], None, method)[::-1]
    h_prev = np.concatenate([h0[None], h[:-1]])
    return g * h_prev, g.copy(), a[0] * g[0]


def operation_counts(T, method):
    """Arithmetic operations per channel, and the depth, of a form at length T.

    A loop step a h + b is 2 operations (a multiply and an add); a combine
    (a1, b1) . (a2, b2) = (a2 a1, a2 b1 + b2) is 3, and a down-sweep step a carry + b is 2.
    ``"blelloch"``: T - 1 combines up, T - 1 carries down, 2T at the leaves: about 7T in all,
    3.5 times the loop's work, at depth 2 ceil(log2 T) + 1. ``"hillis_steele"``: 3 (T - 2^k)
    in round k, about 3 T log2 T. The counts are exact (tested by running the forms on
    numbers that count their own operations). Returns ``{"ops": int, "depth": int}``, depth
    being the longest chain of dependent steps: what parallel hardware must wait for.
    """
    T = check_int("T", T)
    if method == "loop":
        return {"ops": 2 * T, "depth": T}
    if method == "blelloch":
        ops, levels, n = 2 * T, 0, T  # the leaves: h_t = a_t carry_t + b_t
        while n > 1:
            ops += 3 * (n // 2) + 2 * (n // 2)  # a combine per pair up, a carry per pair down
            n = n // 2 + n % 2
            levels += 1
        return {"ops": ops, "depth": 2 * levels + 1}
    if method == "hillis_steele":
        ops, rounds, shift = 2, 0, 1  # folding h0 into b_1
        while shift < T:
            ops += 3 * (T - shift)
            rounds += 1
            shift *= 2
        return {"ops": ops, "depth": rounds + 1}
    raise ValueError(
        f"method: expected one of ('loop', 'blelloch', 'hillis_steele'), got {method!r}"
    )
