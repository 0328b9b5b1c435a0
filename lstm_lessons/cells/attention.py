r"""A causal Transformer block (Vaswani et al. 2017) in NumPy: forward and backward.

Shapes: T steps, N batch size, D model width (input and output), F width of
the feed-forward layer, A heads of width E = D / A.

Parameters (:func:`block_param_shapes`): ``W_qkv`` (D, 3D) and ``b_qkv`` (3D,)
with the columns in the order q, k, v; ``W_o`` (D, D), ``b_o`` (D,);
``W_1`` (D, F), ``b_1`` (F,), ``W_2`` (F, D), ``b_2`` (D,); the layer norms'
``g_1``, ``beta_1``, ``g_2``, ``beta_2`` (D,). In all
4 D^2 + 2 D F + F + 9 D numbers. The block is the encoder layer of Vaswani et
al. with a causal mask, as ``torch.nn.TransformerEncoderLayer(D, A, F,
dropout=0)`` computes it when given ``is_causal=True``: the normalisation after
each residual sum ("post-norm"), ReLU in the feed-forward layer. Over a
sequence x (T, N, D), time-major like ``torch.nn.LSTM``:

    q, k, v = x @ W_qkv + b_qkv                 (T, N, D) each, split into A heads (N, A, T, E)
    s   = q k^T / sqrt(E), s_tj = -inf for j > t (N, A, T, T): step t sees steps 0..t only
    p   = softmax(s)                            over j, each row sums to 1
    a   = (p v) @ W_o + b_o                     (T, N, D), the heads joined again
    y   = layer_norm(x + a; g_1, beta_1)
    u   = relu(y @ W_1 + b_1)                   (T, N, F)
    out = layer_norm(y + u @ W_2 + b_2; g_2, beta_2)

where layer_norm(z; g, beta) = (z - mean(z)) / sqrt(var(z) + eps) * g + beta over
the D features of each position (var without Bessel's correction, eps = 1e-5 as in
torch). The backward pass runs these lines in reverse (dv is dL/dv):

.. math::

    \mathrm{d}z_2 = \mathrm{LN}'(\mathrm{d}out), \quad
    \mathrm{d}u = \mathrm{d}z_2 W_2^\top \odot [y W_1 + b_1 > 0], \quad
    \mathrm{d}y = \mathrm{d}z_2 + \mathrm{d}u\, W_1^\top

    \mathrm{d}z_1 = \mathrm{LN}'(\mathrm{d}y), \quad
    \mathrm{d}o = \mathrm{d}z_1 W_o^\top, \quad
    \mathrm{d}p = \mathrm{d}o\, v^\top, \quad
    \mathrm{d}v = p^\top \mathrm{d}o

    \mathrm{d}s = p \odot (\mathrm{d}p - \textstyle\sum_j p \odot \mathrm{d}p), \quad
    \mathrm{d}q = \mathrm{d}s\, k / \sqrt{E}, \quad
    \mathrm{d}k = \mathrm{d}s^\top q / \sqrt{E}, \quad
    \mathrm{d}x = \mathrm{d}z_1 + [\mathrm{d}q, \mathrm{d}k, \mathrm{d}v] W_{qkv}^\top

with LN' the backward of a layer norm, dz = (dn - mean(dn) - n mean(dn n)) / sqrt(var + eps)
for dn = d(out) g and n the normalised z. The masked scores have p = 0, so ds
is 0 there without a second mask. Every matrix product of the forward pass
has two in the backward pass (one per factor), so a forward and backward pass
costs three times the forward's multiply-adds.
"""

import math
from typing import NamedTuple

import numpy as np

from .initialise import uniform_init
from .validation import check_array, check_int, check_params, check_shape

LAYER_NORM_EPS = 1e-5


def block_param_shapes(D, F):
    """``{name: (shape, letters)}`` of a block of width D with a feed-forward layer of width F."""
    return {
        "W_qkv": ((D, 3 * D), ("D", "3D")),
        "b_qkv": ((3 * D,), ("3D",)),
        "W_o": ((D, D), "DD"),
        "b_o": ((D,), "D"),
        "g_1": ((D,), "D"),
        "beta_1": ((D,), "D"),
        "W_1": ((D, F), "DF"),
        "b_1": ((F,), "F"),
        "W_2": ((F, D), "FD"),
        "b_2": ((D,), "D"),
        "g_2": ((D,), "D"),
        "beta_2": ((D,), "D"),
    }


def block_param_count(D, F):
    """Parameters of a block: 4 D^2 (q, k, v, output) + 2 D F (feed-forward) + F + 9 D
    (biases and norms)."""
    check_int("D", D)
    check_int("F", F)
    return 4 * D * D + 2 * D * F + F + 9 * D


def init_block_params(D, F, *, seed=0, dtype=np.float64):
    """Weights and biases uniform in (-1/sqrt(D), 1/sqrt(D)); the norms' gains 1 and shifts 0."""
    check_int("F", F)
    params = uniform_init(block_param_shapes(D, F), D, D, seed, dtype)
    for k in ("g_1", "g_2"):
        params[k] = np.ones(D, dtype=dtype)
    for k in ("beta_1", "beta_2"):
        params[k] = np.zeros(D, dtype=dtype)
    return params


def _heads(z, A):
    """(T, N, D) -> (N, A, T, E)."""
    T, N, D = z.shape
    return z.reshape(T, N, A, D // A).transpose(1, 2, 0, 3)


def _join(z):
    """(N, A, T, E) -> (T, N, D), the inverse of :func:`_heads`."""
    N, A, T, E = z.shape
    return z.transpose(2, 0, 1, 3).reshape(T, N, A * E)


def _layer_norm(z, g, beta):
    mu = z.mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt(z.var(axis=-1, keepdims=True) + LAYER_NORM_EPS)
    n = (z - mu) * rstd
    return n * g + beta, (n, rstd)


def _layer_norm_backward(dout, g, cache):
    n, rstd = cache
    dn = dout * g
    dz = rstd * (dn - dn.mean(axis=-1, keepdims=True) - n * (dn * n).mean(axis=-1, keepdims=True))
    return dz, (dout * n).sum(axis=(0, 1)), dout.sum(axis=(0, 1))


class BlockCache(NamedTuple):
    """What :func:`block_backward` needs from :func:`block_forward`."""

    x: np.ndarray
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    p: np.ndarray
    o: np.ndarray
    ln_1: tuple
    y: np.ndarray
    u: np.ndarray
    ln_2: tuple
    params: dict
    heads: int


def _check_block(x, params, heads):
    T, N, D = check_array("x", x, "TND")
    heads = check_int("heads", heads)
    if D % heads:
        raise ValueError(f"heads: expected a divisor of the width D={D}, got {heads}")
    if not isinstance(params, dict) or "W_1" not in params:
        raise ValueError("params: expected a dict with the keys of block_param_shapes(D, F)")
    F = np.shape(params["W_1"])[-1]
    check_params(params, block_param_shapes(D, F), x.dtype)
    return heads


def block_forward(x, params, heads=1):
    """Run the causal block over a sequence: x (T, N, D) -> out (T, N, D), cache.

    ``out[t]`` depends on ``x[0..t]`` only. ``heads`` (A) must divide D.
    """
    A = _check_block(x, params, heads)
    T, N, D = x.shape
    qkv = x @ params["W_qkv"] + params["b_qkv"]  # (T, N, 3D)
    q, k, v = (_heads(z, A) for z in np.split(qkv, 3, axis=-1))  # each (N, A, T, E)
    s = q @ k.swapaxes(-1, -2) / math.sqrt(D // A)  # (N, A, T, T); a float keeps float32
    s = np.where(np.tri(T, dtype=bool), s, -np.inf)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    o = _join(p @ v)  # (T, N, D)
    a = o @ params["W_o"] + params["b_o"]
    y, ln_1 = _layer_norm(x + a, params["g_1"], params["beta_1"])
    u = np.maximum(y @ params["W_1"] + params["b_1"], 0.0)  # (T, N, F)
    out, ln_2 = _layer_norm(y + u @ params["W_2"] + params["b_2"], params["g_2"], params["beta_2"])
    return out, BlockCache(x, q, k, v, p, o, ln_1, y, u, ln_2, params, A)


def block_backward(dout, cache):
    """dout (T, N, D): dL/dout -> dx (T, N, D) and a dict of parameter gradients."""
    x, q, k, v, p, o, ln_1, y, u, ln_2, params, A = cache
    T, N, D = x.shape
    check_array("dout", dout, "TND", x.dtype)
    check_shape("dout", dout, (T, N, D), "TND")
    g = {}
    dz2, g["g_2"], g["beta_2"] = _layer_norm_backward(dout, params["g_2"], ln_2)
    g["W_2"] = u.reshape(-1, u.shape[-1]).T @ dz2.reshape(-1, D)
    g["b_2"] = dz2.sum(axis=(0, 1))
    du = (dz2 @ params["W_2"].T) * (u > 0)  # (T, N, F)
    g["W_1"] = y.reshape(-1, D).T @ du.reshape(-1, du.shape[-1])
    g["b_1"] = du.sum(axis=(0, 1))
    dy = dz2 + du @ params["W_1"].T
    dz1, g["g_1"], g["beta_1"] = _layer_norm_backward(dy, params["g_1"], ln_1)
    g["W_o"] = o.reshape(-1, D).T @ dz1.reshape(-1, D)
    g["b_o"] = dz1.sum(axis=(0, 1))
    do = _heads(dz1 @ params["W_o"].T, A)  # (N, A, T, E)
    dp = do @ v.swapaxes(-1, -2)  # (N, A, T, T)
    dv = p.swapaxes(-1, -2) @ do
    ds = p * (dp - (p * dp).sum(axis=-1, keepdims=True)) / math.sqrt(D // A)
    dq = ds @ k
    dk = ds.swapaxes(-1, -2) @ q
    dqkv = np.concatenate([_join(dq), _join(dk), _join(dv)], axis=-1)  # (T, N, 3D)
    g["W_qkv"] = x.reshape(-1, D).T @ dqkv.reshape(-1, 3 * D)
    g["b_qkv"] = dqkv.sum(axis=(0, 1))
    dx = dz1 + dqkv @ params["W_qkv"].T
    return dx, g
