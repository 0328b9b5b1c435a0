"""The one place where parameters cross between NumPy and PyTorch.

NumPy cells multiply batch rows from the right (``x @ W_x``), so their
weights are the transposes of PyTorch's; PyTorch keeps two biases where one
suffices. For every cell:

    W_x = weight_ih_l0.T        (D, G*H)
    W_h = weight_hh_l0.T        (H, G*H)
    b   = bias_ih_l0 + bias_hh_l0

except that the GRU keeps the n block of ``bias_hh_l0`` apart as ``b_hn``,
because its reset gate multiplies it. Peephole vectors keep their values
(``p_i`` <-> ``peephole_i_l0``). Going to PyTorch, the whole bias is put in
``bias_ih_l0`` and ``bias_hh_l0`` is zero, so NumPy -> PyTorch -> NumPy
returns the same arrays, and PyTorch -> NumPy -> PyTorch the same function.
"""

import numpy as np
import torch

from ..cells.gru import gru_param_shapes
from ..cells.rnn import rnn_param_shapes
from ..cells.validation import check_params
from ..cells.variants import get_variant, param_shapes

CELLS = ("lstm", "gru", "rnn")


def _shapes(cell, variant, D, H):
    if cell == "lstm":
        return param_shapes(get_variant(variant), D, H)
    if cell == "gru":
        return gru_param_shapes(D, H)
    if cell == "rnn":
        return rnn_param_shapes(D, H)
    raise ValueError(f"cell: expected one of {CELLS}, got {cell!r}")


def to_torch(params, cell="lstm", variant="standard"):
    """NumPy parameters -> a ``state_dict`` for ``torch.nn.LSTM``/``GRU``/``RNN`` or our modules."""
    if not isinstance(params, dict) or "W_h" not in params or "W_x" not in params:
        raise ValueError("params: expected a dict with at least 'W_x' and 'W_h'")
    (D, _), H = np.shape(params["W_x"]), np.shape(params["W_h"])[0]
    check_params(params, _shapes(cell, variant, D, H), np.asarray(params["W_x"]).dtype)

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a))

    b_hh = np.zeros_like(params["b"])
    if cell == "gru":
        b_hh[2 * H :] = params["b_hn"]
    sd = {
        "weight_ih_l0": t(params["W_x"].T),
        "weight_hh_l0": t(params["W_h"].T),
        "bias_ih_l0": t(params["b"]),
        "bias_hh_l0": t(b_hh),
    }
    for p in get_variant(variant).peepholes if cell == "lstm" else ():
        sd["peephole_" + p[2:] + "_l0"] = t(params[p])
    return sd


def from_torch(state_dict, cell="lstm", variant="standard"):
    """A ``state_dict`` (or module) of ``torch.nn.LSTM``/``GRU``/``RNN`` or ours -> NumPy params."""
    if isinstance(state_dict, torch.nn.Module):
        state_dict = state_dict.state_dict()
    expected = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
    if cell == "lstm":
        expected |= {"peephole_" + p[2:] + "_l0" for p in get_variant(variant).peepholes}
    if set(state_dict) != expected:
        raise ValueError(
            f"state_dict: expected keys {sorted(expected)} for a one-layer {cell} "
            f"({variant}), got {sorted(state_dict)}"
        )

    def a(name):
        return state_dict[name].detach().cpu().numpy().copy()

    W_x, W_h = a("weight_ih_l0").T.copy(), a("weight_hh_l0").T.copy()
    b_ih, b_hh = a("bias_ih_l0"), a("bias_hh_l0")
    H = W_h.shape[0]
    if cell == "gru":
        params = {"W_x": W_x, "W_h": W_h, "b": b_ih.copy(), "b_hn": b_hh[2 * H :].copy()}
        params["b"][: 2 * H] += b_hh[: 2 * H]
    else:
        params = {"W_x": W_x, "W_h": W_h, "b": b_ih + b_hh}
    if cell == "lstm":
        for p in get_variant(variant).peepholes:
            params[p] = a("peephole_" + p[2:] + "_l0")
    check_params(params, _shapes(cell, variant, W_x.shape[0], H), W_x.dtype)
    return params
