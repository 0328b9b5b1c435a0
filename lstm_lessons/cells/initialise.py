"""Random initialisation shared by the NumPy cells.

Every parameter is drawn uniformly from (-1/sqrt(H), 1/sqrt(H)), the scheme of
``torch.nn.RNN``, ``LSTM`` and ``GRU``, so that a NumPy cell and a fresh
PyTorch one start from weights of the same size.
"""

import numpy as np


def uniform_init(shapes, D, H, seed, dtype):
    """Draw every parameter of ``shapes`` (``{name: (shape, letters)}``) for sizes D and H."""
    if not (isinstance(D, int) and isinstance(H, int) and D > 0 and H > 0):
        raise ValueError(f"D and H: expected positive integers, got D={D!r}, H={H!r}")
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(H)
    return {
        name: rng.uniform(-k, k, size=shape).astype(dtype) for name, (shape, _) in shapes.items()
    }
