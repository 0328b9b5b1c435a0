"""Many small models trained at once: E LSTMs stacked along a leading model axis.

The experiments of Part III train dozens of tiny models (a variant times a
seed). At this size the arithmetic is cheap and each torch operation's fixed
overhead dominates, so E models cost almost what one costs when every
operation works on all of them: one batched matmul per step instead of E
small ones. Each model keeps its own loss, its own gradient, its own clipping
and its own Adam moments (Adam works element by element), so model k of an
:class:`Ensemble` trained for S steps equals the same model trained alone on
the same batches (``tests/test_ensemble.py`` checks it in float64).

Shapes: E models, T steps, N batch, D input, H hidden, O outputs, G gate
blocks of the variant. Parameters are those of torch.nn.LSTM and nn.Linear with
a leading E: ``weight_ih`` (E, G*H, D), ``weight_hh`` (E, G*H, H), ``bias_ih``
and ``bias_hh`` (E, G*H), ``peephole_k`` (E, H), ``readout_weight`` (E, O, H),
``readout_bias`` (E, O).

Whether stacking pays depends on the sizes: ``benchmarks/bench_ensemble.py``
measures it (see the README's benchmark section).
"""

import numpy as np
import torch
from torch import nn

from ..pytorch.cells import engine_weights, lstm_cell
from ..pytorch.sequence import run_sequence
from .loop import LOSSES, History
from .model import SequenceModel

_LINEAR = ("readout_weight", "readout_bias")


def model_seeds(n, first=0):
    """The seeds of n models: the one place that decides how an experiment's models are seeded."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive number of models, got {n!r}")
    return [int(first) + k for k in range(n)]


class Ensemble(nn.Module):
    """E :class:`SequenceModel` LSTMs of one variant, stacked; ``forward(x) -> (E, N, O)``.

    Build it from models (:meth:`from_models`) or from seeds (:meth:`create`);
    :meth:`member` gives model k back as a :class:`SequenceModel`.
    """

    def __init__(self, models):
        super().__init__()
        models = list(models)
        if not models or not all(isinstance(m, SequenceModel) for m in models):
            raise TypeError("Ensemble: expected a non-empty list of SequenceModel")
        first = models[0]
        if first.cell != "lstm":
            raise ValueError(f"Ensemble: expected LSTM models, got {first.cell!r}")
        for m in models:
            if (m.cell, m.variant, m.readout_mode) != (first.cell, first.variant,
                                                       first.readout_mode):
                raise ValueError(
                    "Ensemble: every model must have the same cell, variant and readout; got "
                    f"{first.variant.name}/{first.readout_mode} and "
                    f"{m.variant.name}/{m.readout_mode}"
                )
        self.variant, self.readout_mode = first.variant, first.readout_mode
        self.input_size, self.hidden_size = first.rnn.input_size, first.rnn.hidden_size
        self.output_size = first.readout.out_features
        for name, tensors in self._member_tensors(models).items():
            self.register_parameter(name, nn.Parameter(torch.stack(tensors).detach().clone()))

    @staticmethod
    def _member_tensors(models):
        out = {}
        for m in models:
            state = dict(m.rnn.named_parameters())
            for name, value in state.items():
                out.setdefault(name.removesuffix("_l0"), []).append(value)
            out.setdefault("readout_weight", []).append(m.readout.weight)
            out.setdefault("readout_bias", []).append(m.readout.bias)
        return out

    @classmethod
    def from_models(cls, models):
        return cls(models)

    @classmethod
    def create(cls, input_size, hidden_size, output_size, seeds, variant="standard", **kwargs):
        """One model per seed, each initialised as ``SequenceModel(..., seed=s, **kwargs)``."""
        return cls(
            SequenceModel(input_size, hidden_size, output_size, "lstm", variant, seed=s, **kwargs)
            for s in seeds
        )

    def __len__(self):
        return self.weight_ih.shape[0]

    def member(self, k):
        """Model k as a SequenceModel (a copy: training it leaves the ensemble alone)."""
        E = len(self)
        if not isinstance(k, (int, np.integer)) or not 0 <= k < E:
            raise ValueError(f"member: expected an index in [0, {E}), got {k!r}")
        model = SequenceModel(self.input_size, self.hidden_size, self.output_size, "lstm",
                              self.variant, self.readout_mode).to(self.weight_ih.dtype)
        with torch.no_grad():
            for name, p in model.rnn.named_parameters():
                p.copy_(getattr(self, name.removesuffix("_l0"))[k])
            model.readout.weight.copy_(self.readout_weight[k])
            model.readout.bias.copy_(self.readout_bias[k])
        return model

    def forward(self, x):
        """x (T, N, D), the same for every model, or (E, T, N, D) -> (E, N, O) or (E, T, N, O)."""
        E, H = len(self), self.hidden_size
        if x.dim() == 3:
            x = x.unsqueeze(1)  # (T, 1, N, D): every model reads the same batch
        elif x.dim() == 4 and x.shape[0] == E:
            x = x.transpose(0, 1)  # (T, E, N, D)
        else:
            raise ValueError(
                f"Ensemble: expected input of shape (T, N, D) or (E={E}, T, N, D), "
                f"got {tuple(x.shape)}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(f"Ensemble: expected D={self.input_size}, got {tuple(x.shape)}")
        peep = {f"p_{k}": getattr(self, f"peephole_{k}") for k in "ifo"
                if hasattr(self, f"peephole_{k}")}
        W_in, b, W_rec, p_o = engine_weights(
            self.variant, self.weight_ih, self.weight_hh, self.bias_ih + self.bias_hh, peep
        )
        if x.shape[1] == 1:
            # One batch for all models: one (T*N, D) @ (D, E*G*H) product. Broadcasting x over
            # the models instead makes autograd sum a (T, E, D, G*H) gradient over T.
            T, _, N, D = x.shape
            W_all = W_in.transpose(0, 1).flatten(1)  # (D, E*G*H)
            ax = (x.reshape(T * N, D) @ W_all).view(T, N, E, -1).transpose(1, 2)
            ax = ax + b.unsqueeze(1)  # (T, E, N, G*H)
        else:
            ax = torch.einsum("tend,edg->teng", x, W_in) + b.unsqueeze(1)  # (T, E, N, G*H)
        N = ax.shape[2]
        h = c = ax.new_zeros(E, N, H)
        out, _ = run_sequence(lstm_cell, ax, h, c, W_rec, p_o, self.variant)  # (T, E, N, H)
        if self.readout_mode == "last":
            top = out[-1]  # (E, N, H)
        else:
            top = out.transpose(0, 1).flatten(1, 2)  # (E, T*N, H)
        out = torch.baddbmm(self.readout_bias.unsqueeze(1), top,
                            self.readout_weight.transpose(1, 2))
        if self.readout_mode == "all":
            out = out.view(E, x.shape[0], N, -1)
        return out


def member_losses(out, y, loss="mse"):
    """Each model's mean loss, (E,): out (E, ...) against y, the same for all or (E, ...)."""
    E = out.shape[0]
    if loss == "mse":
        return ((out - y) ** 2).reshape(E, -1).mean(dim=1)
    if loss == "ce":
        C = out.shape[-1]
        if y.dim() == out.dim() - 2:  # the same labels for every model
            y = y.expand(out.shape[:-1])
        per = nn.functional.cross_entropy(out.reshape(-1, C), y.reshape(-1), reduction="none")
        return per.view(E, -1).mean(dim=1)
    raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")


@torch.no_grad()
def accuracies(out, y):
    """Each model's accuracy, (E,), from class scores out (E, ..., C)."""
    return (out.argmax(dim=-1) == y).float().reshape(out.shape[0], -1).mean(dim=1)


def _clip_each_(params, clip):
    """Each model's gradient norm (E,) before clipping; rescale each to at most ``clip``."""
    E = params[0].shape[0]
    squares = torch.stack([p.grad.reshape(E, -1).pow(2).sum(dim=1) for p in params])
    norms = squares.sum(dim=0).sqrt()
    if clip is not None:
        # As torch.nn.utils.clip_grad_norm_: coefficient max_norm / (norm + 1e-6), at most 1.
        coef = torch.clamp(clip / (norms + 1e-6), max=1.0)
        for p in params:
            p.grad.mul_(coef.view(E, *([1] * (p.dim() - 1))))
    return norms


def train_ensemble(ensemble, batches, steps, loss="mse", lr=1e-2, clip=None, threads=1):
    """Train every model of ``ensemble`` with Adam for ``steps`` steps: one History per model.

    ``batches(step)`` returns NumPy ``(x, y)``: x (T, N, D) shared by all models,
    or (E, T, N, D) with y (E, ...) for a batch of its own per model. ``clip``
    bounds each model's own gradient norm, as :func:`~lstm_lessons.training.loop.train`
    does for one. A model whose loss or gradient overflows stops recording; the
    others go on.
    """
    if not isinstance(ensemble, Ensemble):
        raise TypeError(f"ensemble: expected an Ensemble, got {type(ensemble).__name__}")
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps: expected a positive integer, got {steps!r}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip: expected a positive maximum norm or None, got {clip!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
    params = list(ensemble.parameters())
    dtype = params[0].dtype
    optimiser = torch.optim.Adam(params, lr=lr)
    histories = [History() for _ in range(len(ensemble))]
    live = np.ones(len(ensemble), dtype=bool)
    threads_before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for step in range(steps):
            x, y = batches(step)
            x = torch.as_tensor(np.asarray(x), dtype=dtype)
            y = torch.as_tensor(np.asarray(y), dtype=torch.int64 if loss == "ce" else dtype)
            optimiser.zero_grad()
            values = member_losses(ensemble(x), y, loss)
            values.sum().backward()  # model k's gradient is that of its own loss
            norms = _clip_each_(params, clip)
            values, norms = values.detach().numpy(), norms.numpy()
            for k in np.flatnonzero(live):
                histories[k].loss.append(float(values[k]))
                histories[k].grad_norm.append(float(norms[k]))
                live[k] = np.isfinite(histories[k].loss[-1]) and np.isfinite(
                    histories[k].grad_norm[-1])
            if not live.any():
                break
            optimiser.step()
    finally:
        torch.set_num_threads(threads_before)
    return histories


@torch.no_grad()
def evaluate_ensemble(ensemble, x, y, loss="mse"):
    """Each model's loss on (x, y), (E,) NumPy, and accuracy (E,) when ``loss == "ce"``."""
    dtype = ensemble.weight_ih.dtype
    xt = torch.as_tensor(np.asarray(x), dtype=dtype)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.int64 if loss == "ce" else dtype)
    out = ensemble(xt)
    result = {"loss": member_losses(out, yt, loss).numpy()}
    if loss == "ce":
        result["accuracy"] = accuracies(out, yt).numpy()
    return result
