"""lstm_lessons: the code behind the LSTM gating course.

NumPy cells with hand-written forward and backward passes (``rnn``, ``lstm``
with its variants, ``gru``), the leaky integrator they generalise
(``leaky``), a gradient checker (``gradcheck``), PyTorch twins of every cell
(``torch_cells``) and the one conversion between the two (``convert``).

Shapes everywhere: N batch size, T number of steps, D input size, H hidden
size; sequences are time-major, (T, N, D), as in ``torch.nn.LSTM``.
"""

from . import activations, convert, gradcheck, gru, leaky, lstm, rnn, torch_cells, variants
from .activations import hard_sigmoid, sigmoid
from .convert import from_torch, to_torch
from .gradcheck import gradient_check, numerical_gradient, relative_error
from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward, init_gru_params
from .leaky import ema, leaky_bound, leaky_integrate
from .lstm import (
    init_lstm_params,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from .rnn import init_rnn_params, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from .variants import VARIANT_NAMES, Variant, get_variant

__all__ = [
    "activations",
    "convert",
    "gradcheck",
    "gru",
    "leaky",
    "lstm",
    "rnn",
    "torch_cells",
    "variants",
    "sigmoid",
    "hard_sigmoid",
    "to_torch",
    "from_torch",
    "numerical_gradient",
    "relative_error",
    "gradient_check",
    "init_gru_params",
    "gru_forward",
    "gru_backward",
    "gru_step_forward",
    "gru_step_backward",
    "ema",
    "leaky_integrate",
    "leaky_bound",
    "init_lstm_params",
    "lstm_forward",
    "lstm_backward",
    "lstm_step_forward",
    "lstm_step_backward",
    "init_rnn_params",
    "rnn_forward",
    "rnn_backward",
    "rnn_step_forward",
    "rnn_step_backward",
    "VARIANT_NAMES",
    "Variant",
    "get_variant",
]
__version__ = "0.1.0"
