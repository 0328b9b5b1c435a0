"""A small, seeded training loop: a recurrent layer, a linear readout, Adam.

Shapes: inputs (T, N, D), time-major; the readout maps the hidden size H to
``output_size`` at the last step (``readout="last"``: (N, output_size)) or at
every step (``readout="all"``: (T, N, output_size)).

The recurrent layer is ``torch.nn.RNN``/``LSTM``/``GRU`` for the standard
cells (fast, fused by PyTorch) and :class:`lstm_lessons.torch_cells.LSTM`
for the variants; :meth:`SequenceModel.numpy_params` moves the trained
weights to the NumPy cells, whose caches show every gate.

The progress bar is tqdm's; it stays silent where ``TQDM_DISABLE=1`` is set
(the book build and the tests set it) or with ``progress=False``.
"""

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from .convert import from_torch
from .lstm import lstm_forward
from .torch_cells import LSTM
from .variants import get_variant

CELLS = ("rnn", "lstm", "gru")
LOSSES = ("mse", "ce")
OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


class SequenceModel(nn.Module):
    def __init__(
        self,
        input_size,
        hidden_size,
        output_size,
        cell="lstm",
        variant="standard",
        readout="last",
        forget_bias=None,
        input_bias=None,
        seed=0,
    ):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell: expected one of {CELLS}, got {cell!r}")
        if readout not in ("last", "all"):
            raise ValueError(f"readout: expected 'last' or 'all', got {readout!r}")
        self.cell, self.variant, self.readout_mode = cell, get_variant(variant), readout
        if cell != "lstm" and self.variant.name != "standard":
            raise ValueError(f"variant: only the LSTM has variants, got {cell!r} with {variant!r}")
        torch.manual_seed(seed)
        if cell == "rnn":
            self.rnn = nn.RNN(input_size, hidden_size)
        elif cell == "gru":
            self.rnn = nn.GRU(input_size, hidden_size)
        elif self.variant.name == "standard":
            self.rnn = nn.LSTM(input_size, hidden_size)
        else:
            self.rnn = LSTM(input_size, hidden_size, self.variant)
        self.readout = nn.Linear(hidden_size, output_size)
        for gate, value in (("f", forget_bias), ("i", input_bias)):
            if value is not None:
                self._set_gate_bias(gate, value)

    def _set_gate_bias(self, gate, value):
        name, word = {"f": ("forget_bias", "forget"), "i": ("input_bias", "input")}[gate]
        if self.cell != "lstm" or gate not in self.variant.gates:
            raise ValueError(f"{name}: a {self.cell} ({self.variant.name}) has no {word} gate bias")
        H = self.rnn.hidden_size
        n = self.variant.gates.index(gate)
        with torch.no_grad():
            # The gate's bias is bias_ih + bias_hh over its block; put all of it in bias_ih.
            self.rnn.bias_ih_l0[n * H : (n + 1) * H] = value
            self.rnn.bias_hh_l0[n * H : (n + 1) * H] = 0.0

    def forward(self, x):
        out = self.rnn(x)[0]  # (T, N, H)
        return self.readout(out[-1] if self.readout_mode == "last" else out)

    def numpy_params(self):
        """The recurrent layer's parameters in the NumPy layout, float64."""
        params = from_torch(self.rnn.state_dict(), self.cell, self.variant)
        return {k: v.astype(np.float64) for k, v in params.items()}

    def run_numpy(self, x):
        """Run the trained LSTM layer with the NumPy cell: hs, cs and a cache with every gate."""
        if self.cell != "lstm":
            raise ValueError(f"run_numpy: expected an LSTM model, got {self.cell!r}")
        x = np.asarray(x, dtype=np.float64)
        N, H = x.shape[1], self.rnn.hidden_size
        zeros = np.zeros((N, H))
        return lstm_forward(x, zeros, zeros, self.numpy_params(), self.variant)


@dataclass
class History:
    """Per-step records of a training run; ``grad_norm`` is measured before clipping."""

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)


def _loss_fn(loss):
    if loss == "mse":
        return nn.functional.mse_loss
    if loss == "ce":
        return nn.functional.cross_entropy
    raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")


def _to_tensors(x, y, loss):
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64 if loss == "ce" else np.float32))
    return xt, yt


def train(
    model,
    batches,
    steps,
    loss="mse",
    lr=1e-2,
    clip=None,
    seed=0,
    progress=True,
    threads=1,
    optimizer="adam",
):
    """Train ``model`` for ``steps`` steps and return its :class:`History`.

    ``batches(step)`` returns the step's ``(x, y)`` as NumPy arrays, for
    example ``lambda s: adding_problem(32, 50, rng=s)``: fresh, seeded data
    at each step. ``clip`` is a maximum gradient norm (None: no clipping):
    a larger gradient g is rescaled to ``clip * g / ||g||`` before the step.
    ``optimizer`` is ``"adam"`` or ``"sgd"`` (plain gradient descent, whose
    step grows with the gradient, so that an exploding gradient shows).
    ``threads`` is torch's thread count during training: the course's models
    are so small that one thread is fastest, and a second one, spinning while
    it waits, slows training several-fold on a busy machine.

    A run whose loss or gradient overflows stops there: its last record is
    not finite, and every later step would be too.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: expected a positive integer, got {steps!r}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip: expected a positive maximum norm or None, got {clip!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: expected one of {tuple(OPTIMIZERS)}, got {optimizer!r}")
    criterion = _loss_fn(loss)
    torch.manual_seed(seed)
    optimiser = OPTIMIZERS[optimizer](model.parameters(), lr=lr)
    history = History()
    threads_before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        _run(model, batches, steps, loss, criterion, optimiser, clip, progress, history)
    finally:
        torch.set_num_threads(threads_before)
    return history


def _run(model, batches, steps, loss, criterion, optimiser, clip, progress, history):
    for step in tqdm(range(steps), disable=not progress, desc="training", leave=False):
        x, y = _to_tensors(*batches(step), loss)
        optimiser.zero_grad()
        value = criterion(model(x), y)
        value.backward()
        # With max_norm=inf, clip_grad_norm_ only measures: one code path for both cases.
        norm = nn.utils.clip_grad_norm_(model.parameters(), clip if clip else float("inf"))
        history.loss.append(value.item())
        history.grad_norm.append(float(norm))
        if not (np.isfinite(history.loss[-1]) and np.isfinite(history.grad_norm[-1])):
            break
        optimiser.step()


@torch.no_grad()
def evaluate(model, x, y, loss="mse"):
    """Loss on ``(x, y)``, and accuracy as well when ``loss == "ce"``."""
    xt, yt = _to_tensors(x, y, loss)
    out = model(xt)
    result = {"loss": float(_loss_fn(loss)(out, yt))}
    if loss == "ce":
        result["accuracy"] = float((out.argmax(dim=-1) == yt).float().mean())
    return result
