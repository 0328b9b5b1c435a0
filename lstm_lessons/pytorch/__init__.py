"""The PyTorch twins of the NumPy cells, and the one conversion between the two layouts.

    cells      LSTM (every variant) and GRU modules with torch.nn's parameter names
    sequence   the engine over a whole sequence, with a hand-written backward pass
    attention  the causal Transformer block's twin and its conversion
    scan       the linear recurrence's loop and scan, each with a hand-written backward
    minimal    MinGRU and MinLSTM layers
    xlstm      SLSTM and MLSTM layers
    ssm        SelectiveSSM, the selective state-space layer
    convert    to_torch / from_torch: NumPy parameters <-> torch state dicts
    agreement  how closely the NumPy cell matches torch.nn.LSTM over a sequence
"""

from .._torch import require_torch

require_torch("lstm_lessons.pytorch")
