"""Several small models of one standard cell trained side by side, as one wide layer.

An experiment that repeats a run over seeds trains E small models of the same shape.
PyTorch's fused ``nn.RNN``/``nn.LSTM``/``nn.GRU`` spends most of a step of such a model
on fixed overhead, not arithmetic, so E models placed side by side in one layer E times
as wide cost much less than E. The wide layer's weights are block-diagonal: model k's
inputs (columns ``k*D .. (k+1)*D``) reach only model k's hidden units, and its hidden
units only its own. Each gate block of the wide layer holds the same gate of every
model, in the model order: rows ``g*E*H + k*H .. g*E*H + (k+1)*H`` are model k's
rows ``g*H .. (g+1)*H`` (G = 1, 4 or 3 gate blocks for the RNN, LSTM and GRU, in
PyTorch's order).

Each model keeps everything of its own, so model k trained here equals model k trained
alone by :func:`~lstm_lessons.training.harness.fit` on the same batches:

- its loss: the wide layer's loss is the sum of the models' own mean losses, so the
  gradient of model k's weights is that of its own loss;
- its clipping: each model's gradient norm is measured and clipped over its own blocks;
- its Adam moments: Adam works element by element, and the off-diagonal blocks, which
  start at zero and whose gradient is set to zero before every step, stay exactly zero.

``tests/test_wide.py`` checks this in float64. In float32 the wide layer sums its
products in another order, so the two agree to rounding, then drift apart as any two
trainings do.

When it pays (one thread, 300 steps, T = 62, N = 32, H = 16, D = 6; see
``tests/test_wide.py`` and the chapter 1 sweep): three ``nn.RNN`` models side by side
take about 0.4x the time of three alone, six about 0.3x; ``nn.LSTM`` gains little
(three side by side about 0.9x), so the experiments use it for the simple RNN.

A run in which any model's loss or gradient overflows cannot go on: zeros times
infinity would spread it into every model. :func:`fit_side_by_side` raises then;
train such models alone.
"""

import numpy as np
import torch
from torch import nn

from .harness import Fit, batches, check_seed
from .loop import LOSSES, History
from .model import SequenceModel

# Gate blocks of PyTorch's layers, in their weight order.
GATE_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}
_LAYER = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _check_models(models):
    models = list(models)
    if not models or not all(isinstance(m, SequenceModel) for m in models):
        raise TypeError("models: expected a non-empty list of SequenceModel")
    first = models[0]
    if first.variant.name != "standard":
        raise ValueError(
            f"models: expected standard cells (PyTorch's fused layers), got the "
            f"{first.variant.name!r} variant; train variants with an Ensemble or alone"
        )
    shape = (first.cell, first.readout_mode, first.rnn.input_size, first.rnn.hidden_size,
             first.readout.out_features)  # fmt: skip
    for m in models[1:]:
        other = (m.cell, m.readout_mode, m.rnn.input_size, m.rnn.hidden_size,
                 m.readout.out_features)  # fmt: skip
        if other != shape or m.variant.name != "standard":
            raise ValueError(
                "models: expected models of one shape (cell, readout, D, H, O), got "
                f"{shape} and {other}"
            )
    return models


class SideBySide(nn.Module):
    """E models of one standard cell as one wide layer and one wide readout.

    ``forward(xs)`` takes xs (E, T, N, D), one input per model, and returns
    (E, N, O) for ``readout="last"`` or (E, T, N, O) for ``readout="all"``.
    """

    def __init__(self, models):
        super().__init__()
        models = _check_models(models)
        first = models[0]
        self.cell, self.readout_mode = first.cell, first.readout_mode
        E, D, H = len(models), first.rnn.input_size, first.rnn.hidden_size
        O = first.readout.out_features
        self.E, self.D, self.H, self.O = E, D, H, O
        dtype = first.readout.weight.dtype
        self.rnn = _LAYER[self.cell](E * D, E * H).to(dtype)
        self.readout = nn.Linear(E * H, E * O).to(dtype)
        # owner[name]: for each entry of a wide tensor, the model it belongs to (-1: none).
        self.owners = {}
        with torch.no_grad():
            for name, wide in self.parameters_by_name().items():
                wide.zero_()
                owner = torch.full(wide.shape, -1, dtype=torch.int64)
                for k, model in enumerate(models):
                    for index, small in self._blocks(name, k, model):
                        wide[index] = small
                        owner[index] = k
                self.owners[name] = owner

    def parameters_by_name(self):
        return {
            "weight_ih": self.rnn.weight_ih_l0,
            "weight_hh": self.rnn.weight_hh_l0,
            "bias_ih": self.rnn.bias_ih_l0,
            "bias_hh": self.rnn.bias_hh_l0,
            "readout_weight": self.readout.weight,
            "readout_bias": self.readout.bias,
        }

    def _blocks(self, name, k, model):
        """(index, model k's tensor) for each block that model k holds in wide ``name``."""
        E, D, H, O = self.E, self.D, self.H, self.O
        if name == "readout_weight":
            return [((slice(k * O, (k + 1) * O), slice(k * H, (k + 1) * H)), model.readout.weight)]
        if name == "readout_bias":
            return [((slice(k * O, (k + 1) * O),), model.readout.bias)]
        small = getattr(model.rnn, f"{name}_l0")
        cols = {"weight_ih": slice(k * D, (k + 1) * D), "weight_hh": slice(k * H, (k + 1) * H)}
        blocks = []
        for g in range(GATE_BLOCKS[self.cell]):
            rows = slice(g * E * H + k * H, g * E * H + (k + 1) * H)
            index = (rows,) if name.startswith("bias") else (rows, cols[name])
            blocks.append((index, small[g * H : (g + 1) * H]))
        return blocks

    def forward(self, xs):
        E, D = self.E, self.D
        if xs.dim() != 4 or xs.shape[0] != E or xs.shape[-1] != D:
            raise ValueError(
                f"SideBySide: expected inputs of shape (E={E}, T, N, D={D}), got {tuple(xs.shape)}"
            )
        x = xs.permute(1, 2, 0, 3).reshape(xs.shape[1], xs.shape[2], E * D)  # (T, N, E*D)
        top = self.rnn(x)[0]  # (T, N, E*H)
        if self.readout_mode == "last":
            top = top[-1]
        out = self.readout(top)  # (..., N, E*O)
        out = out.reshape(*out.shape[:-1], E, self.O)
        return out.movedim(-2, 0)  # (E, ..., N, O)

    def write_back(self, models):
        """Copy model k's trained blocks into ``models[k]``."""
        with torch.no_grad():
            for name in self.parameters_by_name():
                wide = self.parameters_by_name()[name]
                for k, model in enumerate(models):
                    for index, small in self._blocks(name, k, model):
                        small.copy_(wide[index])

    def clip_each_(self, clip):
        """Zero the off-diagonal gradients; clip each model's own gradient; its norms (E,)."""
        squares = torch.zeros(self.E, dtype=torch.float64)
        params = self.parameters_by_name()
        for name, p in params.items():
            owner = self.owners[name]
            mine = owner >= 0
            p.grad[~mine] = 0.0
            squares.index_add_(0, owner[mine], p.grad[mine].double() ** 2)
        norms = squares.sqrt()
        if clip is not None:
            # As torch.nn.utils.clip_grad_norm_: coefficient clip / (norm + 1e-6), at most 1.
            coef = torch.clamp(clip / (norms + 1e-6), max=1.0)
            for name, p in params.items():
                owner = self.owners[name]
                mine = owner >= 0
                p.grad[mine] *= coef[owner[mine]].to(p.grad.dtype)
        return norms


def _member_loss(out, y, loss):
    if loss == "mse":
        return ((out - y) ** 2).mean()
    return nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


def fit_side_by_side(task, models, seeds, steps, *, loss="mse", lr=1e-2, clip=None):
    """Train ``models[k]`` on the batches of run ``seeds[k]`` of ``task``, all at once.

    The same as ``[harness.fit(task, steps, seed=s, model=m, loss=loss, lr=lr,
    clip=clip) for m, s in zip(models, seeds)]`` (Adam, one thread), model by
    model; the models are trained in place and returned as a list of
    :class:`~lstm_lessons.training.harness.Fit`. Raises ``FloatingPointError``
    when a model's loss or gradient overflows (see the module's docstring).
    """
    models = _check_models(models)
    seeds = [check_seed(s) for s in seeds]
    if len(seeds) != len(models):
        raise ValueError(f"seeds: expected one per model ({len(models)}), got {len(seeds)}")
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps: expected a positive integer, got {steps!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip: expected a positive maximum norm or None, got {clip!r}")
    wide = SideBySide(models)
    dtype = wide.readout.weight.dtype
    runs = [batches(task, s) for s in seeds]
    optimiser = torch.optim.Adam(wide.parameters(), lr=lr)
    histories = [History() for _ in models]
    threads_before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for step in range(steps):
            pairs = [run(step) for run in runs]
            xs = torch.as_tensor(np.stack([np.asarray(x) for x, _ in pairs]), dtype=dtype)
            ys = np.stack([np.asarray(y) for _, y in pairs])
            ys = torch.as_tensor(ys, dtype=torch.int64 if loss == "ce" else dtype)
            optimiser.zero_grad()
            out = wide(xs)
            values = torch.stack([_member_loss(out[k], ys[k], loss) for k in range(len(models))])
            values.sum().backward()
            norms = wide.clip_each_(clip)
            for k, history in enumerate(histories):
                history.loss.append(float(values[k].detach()))
                history.grad_norm.append(float(norms[k]))
                if not (np.isfinite(history.loss[-1]) and np.isfinite(history.grad_norm[-1])):
                    raise FloatingPointError(
                        f"fit_side_by_side: model {k} (seed {seeds[k]}) overflowed at step "
                        f"{step}; side by side it would spread into the others: train it alone"
                    )
            optimiser.step()
    finally:
        torch.set_num_threads(threads_before)
    wide.write_back(models)
    return [Fit(m, h) for m, h in zip(models, histories, strict=True)]


__all__ = ["GATE_BLOCKS", "SideBySide", "fit_side_by_side"]
