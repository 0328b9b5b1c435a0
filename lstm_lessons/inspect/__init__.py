"""Read the gates of your own recurrent network: ``lstm_lessons.inspect(model, x)``.

    report   the statistics per layer, direction and unit, and the Report
    figures  gate heat maps over time and half-life histograms, in the course's style
    cli      the command ``lstm-lessons-inspect`` (``python -m lstm_lessons.inspect``)

``model`` is a ``torch.nn.LSTM``, ``GRU``, ``LSTMCell`` or ``GRUCell`` (any
layers, directions, ``batch_first``, ``proj_size``, ``bias``), a whole model
with one of them inside, a converted
:class:`~lstm_lessons.cells.stacked.StackedRNN`, or a one-layer NumPy
parameter dict. ``x`` is a batch as the model takes it. The gates are
computed by the NumPy cells (:func:`~lstm_lessons.cells.stacked.stacked_forward`):
torch is needed only to convert a module, and the module is never changed.

The module itself is callable, ``lstm_lessons.inspect(model, x)``, so that the
name means the same whether or not ``lstm_lessons.inspect`` was imported first.
"""

import sys
import types

import numpy as np

from ..cells.stacked import StackedRNN, stacked_forward
from ..cells.validation import check_params
from .report import (
    CAROUSEL_F,
    CAROUSEL_I,
    CAROUSEL_SHARE,
    DIRECTIONS,
    SATURATED_HIGH,
    SATURATED_LOW,
    STUCK_SHARE,
    Report,
    half_life,
    unit_table,
)


def inspect(model, x, *, layer=None):
    """Run ``model`` on the batch ``x`` and return a :class:`~lstm_lessons.inspect.report.Report`.

    ``x`` is a NumPy array or a torch tensor shaped as the model takes it:
    (T, N, D), or (N, T, D) for a ``batch_first`` model; a time-major
    (T, N, D) sequence for a cell or a parameter dict. For a whole model
    (an embedding, then an LSTM, ...) ``x`` is the model's own input and
    ``layer`` names the recurrent submodule when there are several.
    """
    name = ""
    if _is_torch(model):
        from ..pytorch.convert import from_torch, recurrent_kind

        if recurrent_kind(model) is None:
            name, model, x = _recurrent_input(model, x, layer)
        converted = from_torch(model, stacked=True)
    elif isinstance(model, StackedRNN):
        converted = model
    elif isinstance(model, dict):
        converted = _from_params(model)
    else:
        raise TypeError(
            "model: expected a torch.nn.LSTM/GRU (or a module holding one), a StackedRNN or a "
            f"parameter dict, got {type(model).__name__}"
        )
    x = _as_array(x, converted)
    out = stacked_forward(converted, x)
    T, N = out.trace[0][0].h.shape[:2]
    return Report(converted, T, N, unit_table(converted, out.trace), out.trace, name)


def _is_torch(obj):
    return type(obj).__module__.split(".")[0] == "torch" or any(
        c.__module__.startswith("torch.nn") for c in type(obj).__mro__[1:]
    )


def _as_array(x, model):
    if _is_torch(x):
        x = x.detach().cpu().numpy()
    if isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.dtype != model.dtype:
        x = x.astype(model.dtype)  # a float64 batch for a float32 model reads the same
    return x


def _from_params(params):
    """A one-layer NumPy parameter dict (standard LSTM or GRU) as a time-major StackedRNN."""
    if np.ndim(params.get("W_x")) != 2:
        raise ValueError("model: a parameter dict needs 'W_x' of shape (D, G*H)")
    cell = "gru" if "b_hn" in params else "lstm"
    D, GH = np.shape(params["W_x"])
    H = GH // (3 if cell == "gru" else 4)
    shapes = {"W_x": ((D, GH), "DG"), "W_h": ((H, GH), "HG"), "b": ((GH,), "G")}
    if cell == "gru":
        shapes["b_hn"] = ((H,), "H")
    check_params(params, shapes, np.asarray(params["W_x"]).dtype)
    return StackedRNN(cell, D, H, 1, False, False, 0, True, ((params,),))


def _recurrent_input(model, x, layer):
    """The recurrent submodule of a whole model and the input it receives from ``x``.

    A forward pre-hook records the submodule's input while the model runs once
    in eval mode without gradients; every module's training flag is put back.
    """
    import torch

    from ..pytorch.convert import recurrent_kind

    found = {n: m for n, m in model.named_modules() if n and recurrent_kind(m) is not None}
    if not found:
        raise TypeError(
            f"model: expected a torch.nn.LSTM, GRU, LSTMCell or GRUCell, or a module holding "
            f"one; {type(model).__name__} holds none"
        )
    if layer is None and len(found) > 1:
        raise ValueError(
            f"layer: the model holds several recurrent layers {sorted(found)}: say which"
        )
    name = layer if layer is not None else next(iter(found))
    if name not in found:
        raise ValueError(f"layer: expected one of {sorted(found)}, got {layer!r}")
    if isinstance(x, np.ndarray):  # a NumPy batch: as a tensor, floats in the layer's dtype
        x = torch.from_numpy(x)
        if x.is_floating_point():
            x = x.to(
                found[name].weight_ih_l0.dtype
                if hasattr(found[name], "weight_ih_l0")
                else found[name].weight_ih.dtype
            )
    target, calls = found[name], []
    handle = target.register_forward_pre_hook(lambda module, args: calls.append(args[0]))
    training = {m: m.training for m in model.modules()}
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        handle.remove()
        for m, flag in training.items():
            m.training = flag
    if not calls or not isinstance(calls[0], torch.Tensor):
        raise TypeError(f"layer {name!r}: expected a tensor input, got {type(calls[0]).__name__}")
    # A cell is called once per step: its inputs, stacked, are the sequence it read.
    return name, target, torch.stack(calls) if recurrent_kind(target).endswith("Cell") else calls[0]


class _CallableModule(types.ModuleType):
    def __call__(self, model, x, **kwargs):
        return inspect(model, x, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "CAROUSEL_F",
    "CAROUSEL_I",
    "CAROUSEL_SHARE",
    "DIRECTIONS",
    "SATURATED_HIGH",
    "SATURATED_LOW",
    "STUCK_SHARE",
    "Report",
    "half_life",
    "inspect",
    "unit_table",
]
