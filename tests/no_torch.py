"""A pytest plugin (``-p no_torch``) and a module that make ``import torch`` fail.

Imported first, it installs a meta path finder that refuses ``torch`` and every ``torch.*``
module, as in an environment where PyTorch is not installed (``pip install lstm-lessons``
without the ``[torch]`` extra). ``tests/test_without_torch.py`` runs the NumPy layers' tests
under it.
"""

import importlib.abc
import sys


class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


if "torch" in sys.modules:
    raise RuntimeError("no_torch must be loaded before anything imports torch")
sys.meta_path.insert(0, _NoTorch())
