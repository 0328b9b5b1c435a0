"""Every test starts from the same torch seed, so modules built inside tests are reproducible,
and with the checks' feedback in English (a test that chooses Chinese does not leak it).

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


@pytest.fixture(autouse=True)
def _feedback_in_english(monkeypatch):
    from lstm_lessons.homework import language

    monkeypatch.delenv(language.ENV, raising=False)
    saved = list(language._session)
    language._session.clear()
    yield
    language._session[:] = saved
