"""lstm_lessons: the code behind the LSTM gating course.

The folder tree is the architecture; each layer imports only from the layers
above it in this list:

    cells/        NumPy cells with hand-written forward and backward passes
                  (RNN, LSTM and its variants, GRU), the leaky integrator, a
                  gradient checker. NumPy only: no torch.
    pytorch/      the PyTorch twins of every cell and the one conversion
                  between the two parameter layouts.
    training/     synthetic tasks, the model and loop, and the experiment
                  harness (seeded fits, batch and held-out seeds).
    experiments/  one module per chapter topic (table in its ``__init__``).
    plotting/     the course's figure style and the diagrams of the cells.
    homework/     checks for the exercises, the in-notebook grader and the
                  grading of a class.

``import lstm_lessons`` gives the NumPy API below without importing torch;
the torch-facing names (``to_torch``, ``from_torch``) and the subpackages
load on first use. Old module paths (``lstm_lessons.lstm``,
``lstm_lessons.carousel``, ``lstm_lessons.checks``, ...) still import, as
aliases of their new homes: see :mod:`lstm_lessons._legacy`.

Shapes everywhere: N batch size, T number of steps, D input size, H hidden
size; sequences are time-major, (T, N, D), as in ``torch.nn.LSTM``.
"""

import importlib

from . import _legacy
from .cells import activations, gradcheck, gru, leaky, lstm, rnn, variants
from .cells.activations import hard_sigmoid, sigmoid
from .cells.gradcheck import gradient_check, numerical_gradient, relative_error
from .cells.gru import (
    gru_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
    init_gru_params,
)
from .cells.leaky import ema, leaky_bound, leaky_integrate
from .cells.lstm import (
    init_lstm_params,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from .cells.rnn import (
    init_rnn_params,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)
from .cells.variants import VARIANT_NAMES, Variant, get_variant

_legacy.install()

# Names that need torch, and the module each comes from: imported on first use.
_LAZY = {
    "to_torch": "lstm_lessons.pytorch.convert",
    "from_torch": "lstm_lessons.pytorch.convert",
    "inspect": "lstm_lessons.inspect",
}


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        # lstm_lessons.inspect is a module that can be called: the name is the module itself.
        value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
        globals()[name] = value
        return value
    if name in _legacy.MOVED or name in _legacy.SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_legacy.SUBPACKAGES))


__all__ = [
    "activations",
    "gradcheck",
    "gru",
    "leaky",
    "lstm",
    "rnn",
    "variants",
    "sigmoid",
    "hard_sigmoid",
    "to_torch",
    "from_torch",
    "inspect",
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
from ._version import __version__  # noqa: E402, F401  (the one place it is written)
