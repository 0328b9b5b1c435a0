"""The model every experiment trains: a recurrent layer and a linear readout.

Shapes: inputs (T, N, D), time-major; the readout maps the hidden size H to
``output_size`` at the last step (``readout="last"``: (N, output_size)) or at
every step (``readout="all"``: (T, N, output_size)).

The recurrent layer is ``torch.nn.RNN``/``LSTM``/``GRU`` for the standard
cells (fast, fused by PyTorch) and :class:`lstm_lessons.pytorch.cells.LSTM`
for the variants; :meth:`SequenceModel.numpy_params` moves the trained
weights to the NumPy cells, whose caches show every gate. The cells of gating
after attention (:data:`LATER_CELLS`: minGRU, minLSTM, sLSTM, mLSTM, a
selective state-space layer) are the package's torch modules, each built as
``Layer(input_size, hidden_size, **cell_options)`` and returning ``(out, state)``
with ``out`` (T, N, H), as ``torch.nn.LSTM`` does. ``layers`` stacks layers of
one kind, each reading the outputs of the one below.
"""

import importlib

import numpy as np
import torch
from torch import nn

from ..cells.lstm import lstm_forward
from ..cells.variants import get_variant
from ..pytorch.cells import LSTM
from ..pytorch.convert import from_torch

#: {cell: (module, class)}: the layers of the later cells, imported when a model needs one.
LATER_CELLS = {
    "mingru": ("lstm_lessons.pytorch.minimal", "MinGRU"),
    "minlstm": ("lstm_lessons.pytorch.minimal", "MinLSTM"),
    "slstm": ("lstm_lessons.pytorch.xlstm", "SLSTM"),
    "mlstm": ("lstm_lessons.pytorch.xlstm", "MLSTM"),
    "ssm": ("lstm_lessons.pytorch.ssm", "SelectiveSSM"),
}
CELLS = ("rnn", "lstm", "gru", *LATER_CELLS)


class Stack(nn.Module):
    """Layers of one later cell, each reading the outputs (T, N, H) of the one below."""

    def __init__(self, layer, input_size, hidden_size, layers, options):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.layers = nn.ModuleList(
            layer(input_size if k == 0 else hidden_size, hidden_size, **options)
            for k in range(layers)
        )

    def forward(self, x):
        states = []
        for layer in self.layers:
            x, state = layer(x)
            states.append(state)
        return x, states


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
        layers=1,
        cell_options=None,
    ):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell: expected one of {CELLS}, got {cell!r}")
        if isinstance(layers, bool) or not isinstance(layers, int) or layers < 1:
            raise ValueError(f"layers: expected an integer >= 1, got {layers!r}")
        if cell_options and cell not in LATER_CELLS:
            raise ValueError(
                f"cell_options: only the later cells {tuple(LATER_CELLS)} take options, "
                f"got {sorted(cell_options)} for {cell!r}"
            )
        self.layers = layers
        if readout not in ("last", "all"):
            raise ValueError(f"readout: expected 'last' or 'all', got {readout!r}")
        self.cell, self.variant, self.readout_mode = cell, get_variant(variant), readout
        if cell != "lstm" and self.variant.name != "standard":
            raise ValueError(f"variant: only the LSTM has variants, got {cell!r} with {variant!r}")
        torch.manual_seed(seed)
        if cell in LATER_CELLS:
            module, name = LATER_CELLS[cell]
            layer = getattr(importlib.import_module(module), name)
            self.rnn = Stack(layer, input_size, hidden_size, layers, cell_options or {})
        elif cell == "rnn":
            self.rnn = nn.RNN(input_size, hidden_size, num_layers=layers)
        elif cell == "gru":
            self.rnn = nn.GRU(input_size, hidden_size, num_layers=layers)
        elif self.variant.name == "standard":
            self.rnn = nn.LSTM(input_size, hidden_size, num_layers=layers)
        elif layers == 1:
            self.rnn = LSTM(input_size, hidden_size, self.variant)
        else:
            raise ValueError(f"layers: the variant cells have one layer, got layers={layers}")
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
        if self.cell in LATER_CELLS or self.layers > 1:
            raise ValueError(
                f"numpy_params: expected one layer of rnn, lstm or gru, got {self.layers} of "
                f"{self.cell!r}"
            )
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
