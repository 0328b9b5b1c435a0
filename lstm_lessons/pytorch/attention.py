"""The PyTorch twin of :mod:`lstm_lessons.cells.attention`, and its conversion.

:class:`CausalBlock` computes the NumPy block's lines with torch operations
(autograd supplies the backward). Its parameters carry the names of
``torch.nn.TransformerEncoderLayer``'s, so one ``state_dict`` loads into both:

    self_attn.in_proj_weight  (3D, D) = W_qkv.T     self_attn.in_proj_bias  (3D,) = b_qkv
    self_attn.out_proj.weight (D, D)  = W_o.T       self_attn.out_proj.bias (D,)  = b_o
    linear1.weight            (F, D)  = W_1.T       linear1.bias            (F,)  = b_1
    linear2.weight            (D, F)  = W_2.T       linear2.bias            (D,)  = b_2
    norm1.weight, norm1.bias  (D,)    = g_1, beta_1 norm2.weight, norm2.bias (D,) = g_2, beta_2

:func:`transformer_encoder_layer` builds torch's own layer with the same
settings (post-norm, ReLU, no dropout); called with ``is_causal=True`` and a
causal mask it computes the same function. Input (T, N, D), time-major.
"""

import math

import numpy as np
import torch
from torch import nn

from ..cells.attention import LAYER_NORM_EPS, block_param_shapes, init_block_params
from ..cells.validation import check_int, check_params

# NumPy name -> (torch name, transposed?)
_NAMES = {
    "W_qkv": ("self_attn.in_proj_weight", True),
    "b_qkv": ("self_attn.in_proj_bias", False),
    "W_o": ("self_attn.out_proj.weight", True),
    "b_o": ("self_attn.out_proj.bias", False),
    "g_1": ("norm1.weight", False),
    "beta_1": ("norm1.bias", False),
    "W_1": ("linear1.weight", True),
    "b_1": ("linear1.bias", False),
    "W_2": ("linear2.weight", True),
    "b_2": ("linear2.bias", False),
    "g_2": ("norm2.weight", False),
    "beta_2": ("norm2.bias", False),
}


def block_to_torch(params):
    """NumPy block parameters -> a ``state_dict`` for :class:`CausalBlock` or torch's layer."""
    if not isinstance(params, dict) or "W_1" not in params:
        raise ValueError("params: expected a dict with the keys of block_param_shapes(D, F)")
    D, F = np.shape(params["W_1"])
    check_params(params, block_param_shapes(D, F), np.asarray(params["W_1"]).dtype)
    return {
        name: torch.from_numpy(np.ascontiguousarray(params[k].T if t else params[k]))
        for k, (name, t) in _NAMES.items()
    }


def block_from_torch(state_dict):
    """A ``state_dict`` of :class:`CausalBlock` or torch's layer -> NumPy block parameters."""
    missing = sorted(name for name, _ in _NAMES.values() if name not in state_dict)
    if missing:
        raise ValueError(f"state_dict: expected the keys of CausalBlock's, missing {missing}")
    out = {}
    for k, (name, t) in _NAMES.items():
        a = state_dict[name].detach().cpu().numpy()
        out[k] = np.ascontiguousarray(a.T if t else a)
    return out


class _Attention(nn.Module):
    def __init__(self, D):
        super().__init__()
        self.in_proj_weight = nn.Parameter(torch.empty(3 * D, D))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * D))
        self.out_proj = nn.Linear(D, D)


class CausalBlock(nn.Module):
    """Causal self-attention and a feed-forward layer, each with a residual sum and a layer norm.

    ``CausalBlock(D, F, heads)``: input (T, N, D) -> output (T, N, D), the
    lines of :func:`lstm_lessons.cells.attention.block_forward` one by one.
    """

    def __init__(self, width, ff_width, heads=1, *, seed=0, dtype=torch.float32):
        super().__init__()
        D, F = check_int("width", width), check_int("ff_width", ff_width)
        A = check_int("heads", heads)
        if D % A:
            raise ValueError(f"heads: expected a divisor of the width {D}, got {A}")
        self.heads = A
        self.self_attn = _Attention(D)
        self.linear1 = nn.Linear(D, F)
        self.linear2 = nn.Linear(F, D)
        self.norm1 = nn.LayerNorm(D, eps=LAYER_NORM_EPS)
        self.norm2 = nn.LayerNorm(D, eps=LAYER_NORM_EPS)
        self.load_state_dict(block_to_torch(init_block_params(D, F, seed=seed)))
        self.to(dtype)

    def forward(self, x):
        T, N, D = x.shape
        A, E = self.heads, D // self.heads
        qkv = x @ self.self_attn.in_proj_weight.T + self.self_attn.in_proj_bias  # (T, N, 3D)
        q, k, v = (z.reshape(T, N, A, E).permute(1, 2, 0, 3) for z in qkv.chunk(3, dim=-1))
        s = q @ k.transpose(-1, -2) / math.sqrt(E)  # (N, A, T, T)
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        p = torch.softmax(s.masked_fill(~causal, -math.inf), dim=-1)
        o = (p @ v).permute(2, 0, 1, 3).reshape(T, N, D)
        y = self.norm1(x + self.self_attn.out_proj(o))
        u = torch.relu(self.linear1(y))  # (T, N, F)
        return self.norm2(y + self.linear2(u))


def transformer_encoder_layer(width, ff_width, heads=1, *, dtype=torch.float32):
    """``torch.nn.TransformerEncoderLayer`` with the block's settings (call it with a causal
    mask)."""
    return nn.TransformerEncoderLayer(
        width, heads, ff_width, dropout=0.0, activation="relu", layer_norm_eps=LAYER_NORM_EPS,
        norm_first=False, dtype=dtype,
    )  # fmt: skip


def causal_mask(T, dtype=torch.float32):
    """The (T, T) additive mask of torch's layers: 0 on and below the diagonal, -inf above."""
    return nn.Transformer.generate_square_subsequent_mask(check_int("T", T), dtype=dtype)
