r"""The PyTorch twin of :mod:`lstm_lessons.cells.ssm`: a diagonal selective state-space layer.

Shapes: N batch size, T number of steps, D input size, H channels, S state size
per channel. The parameters keep the NumPy cell's names and layout (``W_u`` (D, H),
``b_u`` (H,), ``W_dt`` (D, H), ``b_dt`` (H,), ``W_B`` (D, S), ``W_C`` (D, S),
``A_log`` (H, S), ``D_skip`` (H,)), so :meth:`SelectiveSSM.numpy_params` is the
whole conversion. The equations, one line each in :func:`selective_ssm`:

    u = x W_u + b_u,  dt = softplus(x W_dt + b_dt),  B = x W_B,  C = x W_C,  A = -exp(A_log)
    a = exp(dt A)  (or 2 exp(dt A) - 1 with negative=True),  b = dt B u
    h_t = a_t * h_{t-1} + b_t,  y_t = C_t . h_t + D_skip * u_t

The recurrence loops over t and autograd differentiates it; the backward pass
written by hand is the NumPy cell's, tested equal to this one.
"""

import math

import torch
from torch import nn

from ..cells.validation import check_int


def selective_ssm(x, params, negative=False, h0=None):
    """x (T, N, D) -> ys (T, N, H), h_T (N, H, S), a (T, N, H, S); params as the NumPy cell's."""
    T, N, D = x.shape
    H, S = params["A_log"].shape
    u = x @ params["W_u"] + params["b_u"]  # (T, N, H)
    dt = nn.functional.softplus(x @ params["W_dt"] + params["b_dt"])  # (T, N, H)
    B = x @ params["W_B"]  # (T, N, S)
    C = x @ params["W_C"]  # (T, N, S)
    A = -torch.exp(params["A_log"])  # (H, S)
    e = torch.exp(dt[..., None] * A)  # (T, N, H, S)
    a = 2.0 * e - 1.0 if negative else e
    b = dt[..., None] * B[:, :, None, :] * u[..., None]  # (T, N, H, S)
    h = x.new_zeros((N, H, S)) if h0 is None else h0
    hs = []
    for t in range(T):
        h = a[t] * h + b[t]
        hs.append(h)
    ys = torch.einsum("tns,tnhs->tnh", C, torch.stack(hs)) + params["D_skip"] * u  # (T, N, H)
    return ys, h, a


class SelectiveSSM(nn.Module):
    """H channels of a selective state space, each with a state of size ``state_size`` (S).

    ``SelectiveSSM(input_size, hidden_size, state_size=4, negative=False)``;
    ``forward(x)`` takes x (T, N, D) and returns ``(ys, h_T)``: ys (T, N, H) in x's
    dtype and the last state (N, H, S). ``negative=True`` lets the transition reach
    into (-1, 1] instead of (0, 1]. :meth:`transitions` gives the a_t (T, N, H, S).
    Initialised as :func:`lstm_lessons.cells.ssm.init_ssm_params` does (from torch's
    random state, which :class:`~lstm_lessons.training.model.SequenceModel` seeds).
    """

    def __init__(self, input_size, hidden_size, state_size=4, negative=False):
        super().__init__()
        D = check_int("input_size", input_size)
        H = check_int("hidden_size", hidden_size)
        S = check_int("state_size", state_size)
        if not isinstance(negative, bool):
            raise TypeError(f"negative: expected a bool, got {type(negative).__name__}")
        self.input_size, self.hidden_size, self.state_size = D, H, S
        self.negative = negative
        k = 1.0 / math.sqrt(H)

        def uniform(*shape):
            return nn.Parameter(torch.empty(shape).uniform_(-k, k))

        self.W_u, self.b_u = uniform(D, H), uniform(H)
        self.W_dt = uniform(D, H)
        self.b_dt = nn.Parameter(torch.empty(H).uniform_(-k, k) + math.log(math.expm1(0.1)))
        self.W_B, self.W_C = uniform(D, S), uniform(D, S)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, S + 1.0)).repeat(H, 1))
        self.D_skip = uniform(H)

    def _params(self, dtype):
        return {name: p.to(dtype) for name, p in self.named_parameters()}

    def _check(self, x):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x: expected a tensor of shape (T, N, D), got {type(x).__name__}")
        if x.dim() != 3 or x.shape[2] != self.input_size:
            raise ValueError(
                f"x: expected shape (T, N, D={self.input_size}), got {tuple(x.shape)}"
            )

    def forward(self, x):
        self._check(x)
        ys, h, _ = selective_ssm(x, self._params(x.dtype), self.negative)
        return ys, h

    def transitions(self, x):
        """The transitions a_t (T, N, H, S) this layer applies to x (T, N, D)."""
        self._check(x)
        return selective_ssm(x, self._params(x.dtype), self.negative)[2]

    def numpy_params(self):
        """The parameters as float64 arrays, for :func:`~lstm_lessons.cells.ssm.ssm_forward`."""
        return {name: p.detach().double().numpy().copy() for name, p in self.named_parameters()}

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}, state_size={self.state_size}, "
                f"negative={self.negative}")


__all__ = ["SelectiveSSM", "selective_ssm"]
