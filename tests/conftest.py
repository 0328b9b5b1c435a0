"""Every test starts from the same torch seed, so modules built inside tests are reproducible."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)
