"""Every test starts from the same torch seed, so modules built inside tests are reproducible.

Where torch is not installed (tests/test_without_torch.py runs the NumPy layers' tests so),
there is nothing to seed.
"""

import pytest

try:
    import torch
except ImportError:
    torch = None


@pytest.fixture(autouse=True)
def _seed_torch():
    if torch is not None:
        torch.manual_seed(0)
