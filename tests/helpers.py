"""Shared test data: random inputs with non-zero biases and non-zero initial states."""

import itertools

import numpy as np

from lstm_lessons import VARIANT_NAMES

# Every switch alone, plus the combinations the course uses.
ALL_VARIANTS = [*VARIANT_NAMES, "cifg+peephole", "nfg+peephole", "hard_sigmoid+peephole+noaf"]

SHAPES = [  # (T, N, D, H): batch 1 and > 1, T = 1 and long, D != H
    (1, 1, 3, 2),
    (6, 4, 5, 3),
    (60, 2, 2, 7),
]


def random_inputs(T, N, D, H, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, D)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype) * 0.5
    c0 = rng.standard_normal((N, H)).astype(dtype)
    return x, h0, c0


def randomise_biases(params, seed=1):
    """Shift every bias and peephole weight away from zero by 0.1 to 0.5."""
    rng = np.random.default_rng(seed)
    out = dict(params)
    for k in out:
        if k.startswith("b") or k.startswith("p_"):
            out[k] = out[k] + rng.uniform(0.1, 0.5, size=out[k].shape) * rng.choice(
                [-1, 1], size=out[k].shape
            )
    return out


def brute_force_permutation_p(a, b):
    """Exact two-sided permutation p-value of the difference in means, by listing every split."""
    pooled = np.concatenate([a, b])
    observed = abs(np.mean(a) - np.mean(b))
    hits = total = 0
    for chosen in itertools.combinations(range(len(pooled)), len(a)):
        mask = np.zeros(len(pooled), bool)
        mask[list(chosen)] = True
        hits += abs(pooled[mask].mean() - pooled[~mask].mean()) >= observed - 1e-12
        total += 1
    return hits / total


def load_tool(name):
    """The module ``tools/<name>.py`` (the tools folder is not a package), imported once under
    its own name, so that one tool can import another by name (build_notebooks imports
    sphinx_launch)."""
    import importlib.util
    import sys
    from pathlib import Path

    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parent.parent / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# The front matter that makes a Markdown file a MyST notebook (as the book's chapters have it).
MYST_HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  name: python3
  display_name: Python 3
  language: python
---
"""


def failure(check, *args, **kwargs):
    """The message of the CheckFailed that ``check(*args, **kwargs)`` raises, as a student reads
    it: never a traceback, and no quote at either end (otter would cut it off)."""
    import pytest

    from lstm_lessons.homework.checks import CheckFailed

    with pytest.raises(CheckFailed) as info:
        check(*args, **kwargs)
    message = str(info.value)
    assert "Traceback" not in message and 'File "' not in message
    assert message == message.strip("'"), "otter would cut a quote off this message"
    return message
