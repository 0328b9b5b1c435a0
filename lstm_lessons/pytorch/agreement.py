"""How closely the NumPy cell agrees with ``torch.nn.LSTM``: one number over a whole sequence.

Shapes: N batch size, T number of steps, D input size, H hidden size.
"""

import numpy as np
import torch

from ..cells.lstm import lstm_forward
from .convert import to_torch


def torch_gap(x, h0, c0, params):
    """Max |NumPy - PyTorch| over h and c at every step, for the standard cell.

    x (T, N, D), h0 (N, H), c0 (N, H) in float64. ``torch.nn.LSTM`` returns
    only the last cell state, so it is run one step at a time, its state
    carried from step to step, to compare c_t at every t.
    """
    hs, cs, _ = lstm_forward(x, h0, c0, params)  # checks every shape and dtype
    if x.dtype != np.float64:
        raise TypeError(f"x: expected float64 to compare to float64 precision, got {x.dtype}")
    D, H = params["W_x"].shape[0], params["W_h"].shape[0]
    reference = torch.nn.LSTM(D, H).double()
    reference.load_state_dict(to_torch(params))
    h, c = torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]  # (1, N, H)
    gap = 0.0
    with torch.no_grad():
        for t in range(len(x)):
            _, (h, c) = reference(torch.from_numpy(x[t : t + 1]), (h, c))
            gap = max(gap, np.abs(hs[t] - h[0].numpy()).max(), np.abs(cs[t] - c[0].numpy()).max())
    return float(gap)
