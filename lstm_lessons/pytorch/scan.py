r"""The linear recurrence h_t = a_t h_{t-1} + b_t in torch, each form one autograd operation.

The torch twin of :mod:`lstm_lessons.cells.scan` (equations and shapes there: a, b
(T, N, H), h0 (N, H) or None for zeros, h (T, N, H)). Autograd through a step loop records
a few operations per step and replays them one by one; autograd through the sweeps of a scan
records every level. Neither is needed: the backward of the recurrence is the same recurrence
in reverse time,

.. math::

    g_t = \mathrm{d}h_t + a_{t+1} g_{t+1}, \quad
    \mathrm{d}a_t = g_t h_{t-1}, \quad \mathrm{d}b_t = g_t, \quad \mathrm{d}h_0 = a_1 g_1,

so :class:`_LinearScan` runs the forward without recording and computes g with the same
form (loop or scan) on the flipped sequences. :func:`linear_scan` is the scan
(Blelloch's up- and down-sweep), :func:`loop_scan` the loop with this hand-written backward
(as :mod:`lstm_lessons.pytorch.sequence` does for the LSTM), :func:`log_scan` the log-space
form for a > 0 (autograd through ``logcumsumexp``; it exists for stability, not speed).
Real domain, any sign of a, for the first two.
"""

import torch


def _check(a, b, h0):
    for name, v in (("a", a), ("b", b)):
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor of shape (T, N, H), got "
                            f"{type(v).__name__}")
        if v.dim() != 3:
            raise ValueError(f"{name}: expected a 3-D tensor of shape (T, N, H), got "
                             f"{v.dim()}-D with shape {tuple(v.shape)}")
        if not v.is_floating_point():
            raise TypeError(f"{name}: expected a floating-point tensor, got {v.dtype}")
    if a.shape != b.shape or a.dtype != b.dtype:
        raise ValueError(f"b: expected a's shape {tuple(a.shape)} and dtype {a.dtype}, got "
                         f"{tuple(b.shape)} and {b.dtype}")
    T, N, H = a.shape
    if T == 0:
        raise ValueError("a: expected at least one step (T >= 1), got T = 0")
    if h0 is None:
        return a.new_zeros(N, H)
    if not isinstance(h0, torch.Tensor) or tuple(h0.shape) != (N, H) or h0.dtype != a.dtype:
        got = (f"{tuple(h0.shape)} {h0.dtype}" if isinstance(h0, torch.Tensor)
               else type(h0).__name__)
        raise ValueError(f"h0: expected a tensor of shape ({N}, {H}) (N, H) and dtype {a.dtype}, "
                         f"or None, got {got}")
    return h0


def _loop(a, b, h0):
    h = torch.empty_like(b)
    h_prev = h0
    for t in range(a.shape[0]):
        h_prev = torch.addcmul(b[t], a[t], h_prev, out=h[t])
    return h


def _blelloch(a, b, h0):
    levels = [(a, b)]
    while levels[-1][0].shape[0] > 1:
        A, B = levels[-1]
        m = A.shape[0] // 2
        A_left, B_left = A[0 : 2 * m : 2], B[0 : 2 * m : 2]
        A_right, B_right = A[1 : 2 * m : 2], B[1 : 2 * m : 2]
        A_up = A_right * A_left
        B_up = torch.addcmul(B_right, A_right, B_left)
        if A.shape[0] % 2:
            A_up = torch.cat([A_up, A[-1:]])
            B_up = torch.cat([B_up, B[-1:]])
        levels.append((A_up, B_up))
    carry = h0.unsqueeze(0)
    for A, B in reversed(levels[:-1]):
        m = A.shape[0] // 2
        down = torch.empty_like(A)
        down[0 : 2 * m : 2] = carry[:m]
        torch.addcmul(B[0 : 2 * m : 2], A[0 : 2 * m : 2], carry[:m], out=down[1 : 2 * m : 2])
        if A.shape[0] % 2:
            down[-1] = carry[-1]
        carry = down
    return torch.addcmul(b, a, carry)


_FORMS = {"loop": _loop, "blelloch": _blelloch}


class _LinearScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, h0, form):
        h = _FORMS[form](a, b, h0)
        ctx.form = form
        ctx.save_for_backward(a, h, h0)
        return h

    @staticmethod
    def backward(ctx, dh):
        a, h, h0 = ctx.saved_tensors
        a_next = torch.cat([a[1:], torch.zeros_like(a[:1])])  # a_{t+1}, a_{T+1} = 0
        g = _FORMS[ctx.form](a_next.flip(0), dh.flip(0), torch.zeros_like(h0)).flip(0)
        h_prev = torch.cat([h0.unsqueeze(0), h[:-1]])
        return g * h_prev, g, a[0] * g[0], None


def linear_scan(a, b, h0=None):
    """h_t = a_t h_{t-1} + b_t by the work-efficient scan; backward by the reverse scan.

    a, b (T, N, H), h0 (N, H) or None (zeros) -> h (T, N, H); any real a.
    """
    h0 = _check(a, b, h0)
    return _LinearScan.apply(a, b, h0, "blelloch")


def loop_scan(a, b, h0=None):
    """The same recurrence one step at a time, with the hand-written reverse-loop backward."""
    h0 = _check(a, b, h0)
    return _LinearScan.apply(a, b, h0, "loop")


def log_scan(a, b, h0=None):
    """The log-space form for a > 0 (Heinsen 2023), b and h0 of either sign; autograd backward.

    Signs are carried by splitting b into positive and negative parts, as
    :func:`lstm_lessons.cells.scan.log_scan` does.
    """
    h0 = _check(a, b, h0)
    if not bool((a > 0).all()):
        raise ValueError("a: log_scan expected a > 0 (log a must be real), got a value <= 0; "
                         "use linear_scan for a transition of either sign")
    log_a_star = torch.cumsum(torch.log(a), dim=0)
    b_ext = torch.cat([h0.unsqueeze(0), b])
    shift = torch.cat([torch.zeros_like(h0).unsqueeze(0), log_a_star])
    h = 0.0
    for sign in (1.0, -1.0):
        part = sign * b_ext
        # log of the part where it is positive, -inf elsewhere. The -inf is a constant
        # branch of ``where`` (not log 0): logcumsumexp's gradient there is nan, and it must
        # reach no input.
        z = torch.where(part > 0, torch.log(torch.where(part > 0, part, 1.0)) - shift,
                        float("-inf"))
        h = h + sign * torch.exp(log_a_star + torch.logcumsumexp(z, dim=0)[1:])
    return h
