"""The one place where parameters cross between NumPy and PyTorch.

NumPy cells multiply batch rows from the right (``x @ W_x``), so their
weights are the transposes of PyTorch's; PyTorch keeps two biases where one
suffices. For every cell, layer k and direction (suffix ``_l{k}``, and
``_reverse`` for the backward direction):

    W_x  = weight_ih_l{k}.T       (D_k, G*H), D_0 = D, D_k = S*P above
    W_h  = weight_hh_l{k}.T       (P, G*H)
    b    = bias_ih_l{k} + bias_hh_l{k}
    W_hr = weight_hr_l{k}.T       (H, P), only for an LSTM with proj_size = P

The G blocks of H columns keep PyTorch's gate order: i, f, g, o for the LSTM,
r, z, n for the GRU. The GRU keeps the n block of ``bias_hh`` apart as
``b_hn``, because its reset gate multiplies it. Peephole vectors keep their
values (``p_i`` <-> ``peephole_i_l0``). Without biases (``bias=False``) ``b``
and ``b_hn`` are zero. Going to PyTorch, the whole bias is put in ``bias_ih``
and ``bias_hh`` is zero (but for the GRU's ``b_hn``), so NumPy -> PyTorch ->
NumPy returns the same arrays, and PyTorch -> NumPy -> PyTorch the same
function.

:func:`from_torch` takes a module or a state dict:

- ``torch.nn.LSTM``, ``torch.nn.GRU`` (any ``num_layers``, ``bidirectional``,
  ``batch_first``, ``proj_size``, ``bias``), ``torch.nn.LSTMCell``,
  ``torch.nn.GRUCell``, or the TorchScript of one: a
  :class:`~lstm_lessons.cells.stacked.StackedRNN`, the parameters of every
  layer and direction with the module's settings;
- but where the one-layer parameter dict of :mod:`lstm_lessons.cells` says
  everything (one layer, one direction, biases, no projection, time-major),
  that dict, as the chapters use it; so too for a one-layer state dict (keys
  ``*_l0``) and for the course's modules (:mod:`lstm_lessons.pytorch.cells`,
  ``torch.nn.RNN``). ``stacked=True`` asks for a ``StackedRNN`` always;
- any other state dict of an LSTM or GRU: a ``StackedRNN`` whose settings are
  read from the keys and shapes (``batch_first`` cannot be: say it).
"""

import re
from collections.abc import Mapping

import numpy as np
import torch

from ..cells.gru import gru_param_shapes
from ..cells.rnn import rnn_param_shapes
from ..cells.stacked import StackedRNN
from ..cells.validation import check_params
from ..cells.variants import get_variant, param_shapes

CELLS = ("lstm", "gru", "rnn")
#: Gate blocks per cell in PyTorch's layout.
N_BLOCKS = {"lstm": 4, "gru": 3, "rnn": 1}
#: The torch module classes (by name, so that TorchScript copies count) that become a StackedRNN.
STACKED_MODULES = {
    "LSTM": ("lstm", False),
    "GRU": ("gru", False),
    "LSTMCell": ("lstm", True),
    "GRUCell": ("gru", True),
}
_KEY = re.compile(r"^(weight_ih|weight_hh|weight_hr|bias_ih|bias_hh)(?:_l(\d+)(_reverse)?)?$")


def _shapes(cell, variant, D, H):
    if cell == "lstm":
        return param_shapes(get_variant(variant), D, H)
    if cell == "gru":
        return gru_param_shapes(D, H)
    if cell == "rnn":
        return rnn_param_shapes(D, H)
    raise ValueError(f"cell: expected one of {CELLS}, got {cell!r}")


def _tensor(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def to_torch(params, cell="lstm", variant="standard"):
    """NumPy parameters -> a ``state_dict`` for ``torch.nn.LSTM``/``GRU``/``RNN`` or our modules.

    ``params`` is a one-layer parameter dict (``cell`` and ``variant`` say
    which) or a :class:`~lstm_lessons.cells.stacked.StackedRNN`, whose state
    dict has every layer and direction of the module it came from.
    """
    if isinstance(params, StackedRNN):
        return _stacked_to_torch(params)
    if not isinstance(params, dict) or "W_h" not in params or "W_x" not in params:
        raise ValueError("params: expected a dict with at least 'W_x' and 'W_h'")
    (D, _), H = np.shape(params["W_x"]), np.shape(params["W_h"])[0]
    check_params(params, _shapes(cell, variant, D, H), np.asarray(params["W_x"]).dtype)
    sd = _layer_to_torch(params, cell, "_l0", True)
    for p in get_variant(variant).peepholes if cell == "lstm" else ():
        sd["peephole_" + p[2:] + "_l0"] = _tensor(params[p])
    return sd


def _layer_to_torch(params, cell, suffix, bias):
    sd = {
        "weight_ih" + suffix: _tensor(params["W_x"].T),
        "weight_hh" + suffix: _tensor(params["W_h"].T),
    }
    if bias:
        b_hh = np.zeros_like(params["b"])
        if cell == "gru":
            H = params["b_hn"].shape[0]
            b_hh[2 * H :] = params["b_hn"]
        sd["bias_ih" + suffix] = _tensor(params["b"])
        sd["bias_hh" + suffix] = _tensor(b_hh)
    if "W_hr" in params:
        sd["weight_hr" + suffix] = _tensor(params["W_hr"].T)
    return sd


def _suffix(is_cell, layer, direction):
    """PyTorch's name ending for a layer and direction: '_l1_reverse'; none for a cell."""
    return "" if is_cell else f"_l{layer}" + ("_reverse" if direction else "")


def _stacked_to_torch(model):
    sd = {}
    for k, layer in enumerate(model.layers):
        for s, params in enumerate(layer):
            sd.update(_layer_to_torch(params, model.cell, _suffix(model.is_cell, k, s), model.bias))
    return sd


def recurrent_kind(module):
    """'LSTM', 'GRU', 'LSTMCell' or 'GRUCell' for such a module or its TorchScript, else None."""
    if isinstance(module, torch.jit.ScriptModule):
        name = getattr(module, "original_name", None)
        return name if name in STACKED_MODULES else None
    for name in STACKED_MODULES:
        if type(module) is getattr(torch.nn, name):
            return name
    return None


def from_torch(source, cell=None, variant="standard", *, batch_first=False, stacked=False):
    """A module or ``state_dict`` of PyTorch -> NumPy parameters (see the module docstring).

    ``cell`` ('lstm', 'gru' or 'rnn') is read from a module's type, or from a
    state dict's shapes when left out; given, it must agree with them.
    ``batch_first`` is for a state dict of a ``batch_first`` model (a module
    says it itself). With ``stacked=True`` an LSTM or GRU always comes back as
    a :class:`~lstm_lessons.cells.stacked.StackedRNN`, never as the one-layer dict.
    """
    from . import cells as course_modules

    if cell is not None and cell not in CELLS:
        raise ValueError(f"cell: expected one of {CELLS} or None, got {cell!r}")
    if isinstance(source, torch.nn.Module):
        kind = recurrent_kind(source)
        if kind is not None and get_variant(variant).name != "standard" and not stacked:
            # A variant asked of a torch.nn module: the one-layer check names what is missing.
            return _from_one_layer(_numpy_dict(source.state_dict()), cell, variant)
        if kind is not None:
            model = _from_module(source, kind, cell, variant)
            return model if stacked or not _is_plain(model) else model.params()
        if isinstance(source, (course_modules.LSTM, course_modules.GRU, torch.nn.RNN)):
            if isinstance(source, torch.nn.RNN) and (
                source.num_layers != 1 or source.bidirectional or not source.bias
            ):
                raise ValueError(
                    "source: torch.nn.RNN converts with one layer, one direction and biases "
                    f"only; got num_layers={source.num_layers}, "
                    f"bidirectional={source.bidirectional}, bias={source.bias}"
                )
            default = {course_modules.GRU: "gru", torch.nn.RNN: "rnn"}.get(type(source), "lstm")
            return _from_one_layer(_numpy_dict(source.state_dict()), cell or default, variant)
        found = [
            f"{name!r} ({type(m).__name__})"
            for name, m in source.named_modules()
            if name and recurrent_kind(m) is not None
        ]
        hint = f"; it contains {', '.join(found)}: pass that" if found else ""
        raise TypeError(
            "source: expected torch.nn.LSTM, GRU, LSTMCell or GRUCell (or a course module, "
            f"or a state dict), got {type(source).__name__}{hint}"
        )
    if not isinstance(source, Mapping):
        raise TypeError(
            "source: expected a torch module or a state dict (parameter names -> tensors), "
            f"got {type(source).__name__}"
        )
    arrays = _numpy_dict(source)
    one_layer = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
    if not (batch_first or stacked) and one_layer <= set(arrays):
        if set(arrays) - one_layer <= {k for k in arrays if "peephole" in k}:
            return _from_one_layer(arrays, cell, variant)
    return _from_keys(arrays, cell, variant, batch_first)


def _is_plain(model):
    """Whether the one-layer dict form says everything about ``model``."""
    return not (
        model.is_cell
        or model.num_layers > 1
        or model.bidirectional
        or model.batch_first
        or model.proj_size
        or not model.bias
    )


def _numpy_dict(source):
    """A state dict's values as NumPy copies; tensors and arrays are accepted."""
    out = {}
    for key, value in source.items():
        if isinstance(value, torch.Tensor):
            if value.dtype not in (torch.float32, torch.float64):
                raise TypeError(
                    f"state_dict[{key!r}]: expected float32 or float64, got {value.dtype} "
                    "(convert the module first, e.g. module.float())"
                )
            out[key] = value.detach().cpu().numpy().copy()
        elif isinstance(value, np.ndarray):
            out[key] = value.copy()
        else:
            raise TypeError(
                f"state_dict[{key!r}]: expected a tensor or a NumPy array, "
                f"got {type(value).__name__}"
            )
    return out


def _infer_cell(arrays, cell, variant, suffix, H):
    """The cell a weight_hh of G*H rows means; ``cell`` given must agree."""
    rows = arrays["weight_hh" + suffix].shape[0]
    v = get_variant(variant)
    if cell is None and v.name == "standard":
        found = {n * H: c for c, n in N_BLOCKS.items()}.get(rows)
        if found is None:
            raise ValueError(
                f"state_dict['weight_hh{suffix}']: expected 4H, 3H or H rows (LSTM, GRU or RNN) "
                f"for H = {H}, got {rows}"
            )
        return found
    cell = cell or "lstm"
    blocks = len(v.gates) if cell == "lstm" else N_BLOCKS[cell]
    if rows != blocks * H:
        names = {4: "an LSTM's (i, f, g, o)", 3: "a GRU's (r, z, n)", 1: "an RNN's"}
        got = names.get(rows // H, f"{rows // H} blocks") if rows % H == 0 else f"{rows} rows"
        raise ValueError(
            f"state_dict['weight_hh{suffix}']: cell={cell!r} ({v.name}) expects {blocks}H = "
            f"{blocks * H} rows for H = {H}, got {rows}: {got} layout"
            + ("; pass cell='gru'" if rows == 3 * H and cell == "lstm" else "")
        )
    return cell


def _from_one_layer(arrays, cell, variant):
    """The one-layer dict form, as the chapters use it."""
    if "weight_hh_l0" not in arrays or arrays["weight_hh_l0"].ndim != 2:
        raise ValueError("state_dict: expected 'weight_hh_l0' of shape (G*H, H)")
    H = arrays["weight_hh_l0"].shape[1]
    cell = _infer_cell(arrays, cell, variant, "_l0", H)
    expected = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
    if cell == "lstm":
        expected |= {"peephole_" + p[2:] + "_l0" for p in get_variant(variant).peepholes}
    if set(arrays) != expected:
        raise ValueError(
            f"state_dict: expected keys {sorted(expected)} for a one-layer {cell} "
            f"({get_variant(variant).name}), got {sorted(arrays)}"
        )
    G = len(get_variant(variant).gates) if cell == "lstm" else N_BLOCKS[cell]
    D = arrays["weight_ih_l0"].shape[-1]
    shapes = {
        "weight_ih_l0": ((G * H, D), f"{G}H={G * H}, D={D}"),
        "weight_hh_l0": ((G * H, H), f"{G}H={G * H}, H={H}"),
        "bias_ih_l0": ((G * H,), f"{G}H={G * H}"),
        "bias_hh_l0": ((G * H,), f"{G}H={G * H}"),
    }
    for key, (shape, letters) in shapes.items():
        if arrays[key].shape != shape:  # named as the state dict names it
            raise ValueError(
                f"state_dict[{key!r}]: expected shape {shape} ({letters}), got {arrays[key].shape}"
            )
    params = _layer(arrays, "_l0", cell, H, bias=True, proj=False)
    if cell == "lstm":
        for p in get_variant(variant).peepholes:
            params[p] = arrays["peephole_" + p[2:] + "_l0"]
    W_x = params["W_x"]
    check_params(params, _shapes(cell, variant, W_x.shape[0], H), W_x.dtype)
    return params


def _layer(arrays, suffix, cell, H, bias, proj):
    """The parameter dict of one layer and direction: the equations of the module docstring."""
    W_ih, W_hh = arrays["weight_ih" + suffix], arrays["weight_hh" + suffix]
    zeros = np.zeros(W_ih.shape[0], dtype=W_ih.dtype)
    b_ih = arrays["bias_ih" + suffix] if bias else zeros
    b_hh = arrays["bias_hh" + suffix] if bias else zeros
    params = {"W_x": W_ih.T.copy(), "W_h": W_hh.T.copy()}
    if cell == "gru":
        # The reset gate multiplies the n block of bias_hh: it stays apart as b_hn.
        params["b"] = b_ih.copy()
        params["b"][: 2 * H] += b_hh[: 2 * H]
        params["b_hn"] = b_hh[2 * H :].copy()
    else:
        params["b"] = b_ih + b_hh
    if proj:
        params["W_hr"] = arrays["weight_hr" + suffix].T.copy()
    return params


def _from_module(module, kind, cell, variant):
    found, is_cell = STACKED_MODULES[kind]
    if cell is not None and cell != found:
        raise ValueError(f"cell: the module is a torch.nn.{kind}, a {found}; got cell={cell!r}")
    if get_variant(variant).name != "standard":
        raise ValueError(
            f"variant: torch.nn.{kind} is the standard cell; got variant={variant!r} "
            "(the variants are lstm_lessons.pytorch.cells.LSTM modules)"
        )
    settings = {
        "cell": found,
        "is_cell": is_cell,
        "input_size": int(module.input_size),
        "hidden_size": int(module.hidden_size),
        "bias": bool(module.bias),
        "num_layers": 1 if is_cell else int(module.num_layers),
        "bidirectional": False if is_cell else bool(module.bidirectional),
        "batch_first": False if is_cell else bool(module.batch_first),
        "proj_size": int(getattr(module, "proj_size", 0) or 0),
        "dropout": 0.0 if is_cell else float(module.dropout),
    }
    return _build(_numpy_dict(module.state_dict()), settings, f"torch.nn.{kind}")


def _from_keys(arrays, cell, variant, batch_first):
    """A StackedRNN whose settings are read from the state dict's keys and shapes."""
    parsed = {k: _KEY.match(k) for k in arrays}
    unknown = sorted(k for k, m in parsed.items() if m is None)
    if unknown:
        raise ValueError(
            f"state_dict: unknown keys {unknown}: expected the parameters of torch.nn.LSTM or "
            "GRU (weight_ih_l0, weight_hh_l0, bias_ih_l0, ... weight_hr_l0, *_reverse), or of "
            "LSTMCell/GRUCell (weight_ih, weight_hh, bias_ih, bias_hh)"
        )
    is_cell = all(m.group(2) is None for m in parsed.values())
    suffix0 = "" if is_cell else "_l0"
    for need in ("weight_ih", "weight_hh"):
        if need + suffix0 not in arrays:
            raise ValueError(f"state_dict: expected a key {need + suffix0!r}, got {sorted(arrays)}")
    proj = arrays.get("weight_hr" + suffix0)
    H = proj.shape[1] if proj is not None else arrays["weight_hh" + suffix0].shape[1]
    if get_variant(variant).name != "standard":
        raise ValueError(
            f"variant: a multi-layer state dict is the standard cell, got variant={variant!r}"
        )
    found = _infer_cell(arrays, cell, variant, suffix0, H)
    if found == "rnn":
        raise ValueError("state_dict: a torch.nn.RNN converts with one layer only (keys *_l0)")
    layers = [int(m.group(2)) for m in parsed.values() if m.group(2) is not None]
    settings = {
        "cell": found,
        "is_cell": is_cell,
        "input_size": int(arrays["weight_ih" + suffix0].shape[1]),
        "hidden_size": int(H),
        "bias": any(k.startswith("bias") for k in arrays),
        "num_layers": 1 if is_cell else max(layers) + 1,
        "bidirectional": any(m.group(3) for m in parsed.values()),
        "batch_first": bool(batch_first) and not is_cell,
        "proj_size": 0 if proj is None else int(proj.shape[0]),
    }
    return _build(arrays, settings, "the state dict")


def _build(arrays, s, what):
    """Check every key and shape against the settings ``s``, then convert layer by layer."""
    cell, H, P = s["cell"], s["hidden_size"], s["proj_size"] or s["hidden_size"]
    G = N_BLOCKS[cell]
    S = 2 if s["bidirectional"] else 1
    if s["proj_size"] and cell != "lstm":
        raise ValueError(f"{what}: proj_size is an LSTM setting, got a {cell} with weight_hr")
    expected = {}
    for k in range(s["num_layers"]):
        D_k = s["input_size"] if k == 0 else S * P
        for d in range(S):
            suffix = _suffix(s["is_cell"], k, d)
            expected["weight_ih" + suffix] = ((G * H, D_k), f"{G}H={G * H}, D_in={D_k}")
            expected["weight_hh" + suffix] = (
                (G * H, P),
                f"{G}H={G * H}, {'P' if s['proj_size'] else 'H'}={P}",
            )
            if s["bias"]:
                expected["bias_ih" + suffix] = ((G * H,), f"{G}H={G * H}")
                expected["bias_hh" + suffix] = ((G * H,), f"{G}H={G * H}")
            if s["proj_size"]:
                expected["weight_hr" + suffix] = ((P, H), f"P={P}, H={H}")
    settings = ", ".join(f"{k}={v}" for k, v in s.items() if k not in ("cell", "is_cell"))
    missing = sorted(set(expected) - set(arrays))
    extra = sorted(set(arrays) - set(expected))
    if missing or extra:
        raise ValueError(
            f"{what}: for a {cell} with {settings} expected keys {sorted(expected)}; "
            f"missing {missing}, unknown {extra} (from_torch converts only the standard "
            "parameters; a module with parameters of its own is not supported)"
        )
    dtypes = {a.dtype for a in arrays.values()}
    if len(dtypes) != 1 or dtypes.pop().type not in (np.float32, np.float64):
        raise TypeError(
            f"{what}: expected float32 or float64 parameters of one dtype, got {dtypes}"
        )
    for key, (shape, letters) in expected.items():
        if arrays[key].shape != shape:
            raise ValueError(
                f"{what}: {key!r} expected shape {shape} ({letters}), got {arrays[key].shape}"
            )
        if not np.isfinite(arrays[key]).all():
            raise ValueError(f"{what}: {key!r} expected finite values, got NaN or inf")
    layers = tuple(
        tuple(
            _layer(arrays, _suffix(s["is_cell"], k, d), cell, H, s["bias"], bool(s["proj_size"]))
            for d in range(S)
        )
        for k in range(s["num_layers"])
    )
    return StackedRNN(layers=layers, **s)
