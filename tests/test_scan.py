"""The linear recurrence h_t = a_t h_{t-1} + b_t: every form equals the loop, the backward checks.

NumPy forms (lstm_lessons.cells.scan) in float64 against the step loop, the reverse-scan
backward against centred differences, the torch forms (lstm_lessons.pytorch.scan) against
the NumPy ones and torch.autograd.gradcheck, and the operation counts against an
instrumented run.
"""

import numpy as np
import pytest
import torch

from lstm_lessons.cells import scan as S
from lstm_lessons.cells.gradcheck import gradient_check
from lstm_lessons.pytorch import scan as P

LENGTHS = (1, 2, 3, 5, 8, 13, 31, 64, 100)


def _problem(T, seed, positive=False, N=2, H=3):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.05, 1.2, (T, N, H)) if positive else rng.uniform(-1.2, 1.2, (T, N, H))
    return a, rng.standard_normal((T, N, H)), rng.standard_normal((N, H))


@pytest.mark.parametrize("method", ["blelloch", "hillis_steele", "chunked", "cumprod"])
@pytest.mark.parametrize("T", LENGTHS)
def test_every_real_domain_form_equals_the_loop(method, T):
    a, b, h0 = _problem(T, seed=T)
    ref = S.loop_scan(a, b, h0)
    np.testing.assert_allclose(S.linear_scan(a, b, h0, method), ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(S.linear_scan(a, b, None, method), S.loop_scan(a, b), atol=1e-12)


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 200])
def test_the_chunked_form_equals_the_loop_for_any_chunk(chunk):
    a, b, h0 = _problem(100, seed=chunk)
    np.testing.assert_allclose(S.chunked_scan(a, b, h0, chunk=chunk), S.loop_scan(a, b, h0),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("T", LENGTHS)
def test_the_log_space_form_equals_the_loop_for_positive_a_and_signed_b(T):
    a, b, h0 = _problem(T, seed=10 + T, positive=True)
    np.testing.assert_allclose(S.log_scan(a, b, h0), S.loop_scan(a, b, h0), rtol=1e-10,
                               atol=1e-12)


def test_the_log_space_form_refuses_a_transition_that_is_not_positive():
    a, b, h0 = _problem(5, seed=0, positive=True)
    a[2, 1, 0] = -0.5
    with pytest.raises(ValueError, match=r"expected a > 0 .* got -0.5 at index \(2, 1, 0\)"):
        S.log_scan(a, b, h0)


@pytest.mark.parametrize("method", ["loop", "blelloch", "chunked", "hillis_steele"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_reverse_scan_is_the_gradient(method, seed):
    rng = np.random.default_rng(100 + seed)
    T, N, H = (int(v) for v in rng.integers(1, 9, 3))
    a, b, h0 = _problem(T, seed=seed, N=N, H=H)
    dh = rng.standard_normal((T, N, H))
    h = S.loop_scan(a, b, h0)
    da, db, dh0 = S.scan_backward(dh, a, h, h0, method)
    assert gradient_check(lambda v: S.loop_scan(v, b, h0), a, da, dh) < 1e-7
    assert gradient_check(lambda v: S.loop_scan(a, v, h0), b, db, dh) < 1e-7
    assert gradient_check(lambda v: S.loop_scan(a, b, v), h0, dh0, dh) < 1e-7


def test_the_reverse_scan_is_the_forward_scan_on_flipped_time():
    a, b, h0 = _problem(9, seed=4)
    dh = np.random.default_rng(5).standard_normal(a.shape)
    g = S.scan_backward(dh, a, S.loop_scan(a, b, h0), h0)[1]
    g_loop = np.zeros_like(dh)
    g_next, a_next = np.zeros_like(h0), np.zeros_like(h0)
    for t in reversed(range(9)):
        g_loop[t] = g_next = dh[t] + a_next * g_next
        a_next = a[t]
    np.testing.assert_allclose(g, g_loop, rtol=0, atol=1e-12)


@pytest.mark.parametrize("T", (1, 2, 5, 8, 17, 33))
def test_the_torch_forms_equal_numpy_and_pass_gradcheck(T):
    a, b, h0 = _problem(T, seed=20 + T)
    ta, tb, th = (torch.tensor(v, requires_grad=True) for v in (a, b, h0))
    ref = S.loop_scan(a, b, h0)
    dh = np.random.default_rng(T).standard_normal(a.shape)
    grads = S.scan_backward(dh, a, ref, h0)
    for form in (P.linear_scan, P.loop_scan):
        h = form(ta, tb, th)
        np.testing.assert_allclose(h.detach().numpy(), ref, rtol=0, atol=1e-12)
        got = torch.autograd.grad(h, (ta, tb, th), torch.tensor(dh))
        for g, want in zip(got, grads, strict=True):
            np.testing.assert_allclose(g.numpy(), want, rtol=0, atol=1e-12)
        if T <= 17:  # gradcheck's cost grows as T^2; the equality above covers longer T
            assert torch.autograd.gradcheck(form, (ta, tb, th))
            assert torch.autograd.gradcheck(lambda a_, b_, f=form: f(a_, b_), (ta, tb))


def test_the_torch_scan_is_one_autograd_node_with_the_hand_written_backward():
    a, b, h0 = (torch.tensor(v, requires_grad=True) for v in _problem(64, seed=3))
    for form in (P.linear_scan, P.loop_scan):
        h = form(a, b, h0)
        assert type(h.grad_fn).__name__ == "_LinearScanBackward"
        assert {type(f).__name__ for f, _ in h.grad_fn.next_functions} == {"AccumulateGrad"}


@pytest.mark.parametrize("T", (1, 4, 19))
def test_the_torch_log_space_form_equals_the_loop_and_passes_gradcheck(T):
    a, b, h0 = _problem(T, seed=30 + T, positive=True)
    ta, tb, th = (torch.tensor(v, requires_grad=True) for v in (a, b, h0))
    np.testing.assert_allclose(P.log_scan(ta, tb, th).detach().numpy(), S.loop_scan(a, b, h0),
                               rtol=1e-10, atol=1e-12)
    assert torch.autograd.gradcheck(P.log_scan, (ta, tb, th))
    with pytest.raises(ValueError, match="expected a > 0"):
        P.log_scan(-ta, tb, th)


class _Counted:
    """A number that counts every multiply and add done with it."""

    ops = 0

    def __mul__(self, other):
        _Counted.ops += 1
        return _Counted()

    __rmul__ = __add__ = __radd__ = __mul__


def _counted(shape):
    out = np.empty(shape, dtype=object)
    for k in np.ndindex(shape):
        out[k] = _Counted()
    return out


@pytest.mark.parametrize("T", (1, 2, 3, 7, 8, 100, 1000))
def test_the_operation_counts_are_what_the_forms_do(T):
    for method, core in (("loop", S._loop), ("blelloch", S._blelloch),
                         ("hillis_steele", S._hillis_steele)):
        _Counted.ops = 0
        core(_counted((T, 1, 1)), _counted((T, 1, 1)), _counted((1, 1)))
        assert _Counted.ops == S.operation_counts(T, method)["ops"], method


def test_errors_say_what_was_expected_and_what_came():
    a, b, h0 = _problem(4, seed=0)
    with pytest.raises(ValueError, match=r"b: expected shape \(4, 2, 3\)"):
        S.linear_scan(a, b[:3], h0)
    with pytest.raises(ValueError, match=r"h0: expected shape \(2, 3\)"):
        S.linear_scan(a, b, h0[:1])
    with pytest.raises(TypeError, match="b: expected dtype float64 to match"):
        S.linear_scan(a, b.astype(np.float32))
    bad = b.copy()
    bad[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="b: expected finite values, got nan"):
        S.linear_scan(a, bad)
    with pytest.raises(ValueError, match="method: expected one of"):
        S.linear_scan(a, b, method="fast")
    with pytest.raises(ValueError, match="chunk: expected a positive integer"):
        S.chunked_scan(a, b, chunk=0)
    with pytest.raises(ValueError, match="method: expected one of"):
        S.operation_counts(8, "log")
    ta, tb = torch.tensor(a), torch.tensor(b)
    with pytest.raises(ValueError, match=r"b: expected a's shape \(4, 2, 3\)"):
        P.linear_scan(ta, tb[:2])
    with pytest.raises(ValueError, match=r"h0: expected a tensor of shape \(2, 3\)"):
        P.linear_scan(ta, tb, torch.zeros(3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="expected a 3-D tensor"):
        P.loop_scan(ta[0], tb[0])
