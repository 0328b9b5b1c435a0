"""PyTorch is optional: the NumPy cells, the diagrams and the checks of the NumPy exercise sets
run without it. The layers that need it (``pytorch``, ``training``, ``experiments``) call
:func:`require_torch` first, so that using one without torch says what to install.
"""

__all__ = ["EXTRA", "require_torch"]

# The extra that installs torch with the package: pip install "lstm-lessons[torch]".
EXTRA = "torch"


def require_torch(what):
    """``torch``, or an ImportError that names ``what`` needs it and how to install it."""
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            f"{what} needs PyTorch, an optional dependency of lstm-lessons that is not "
            f'installed. Install it with the package: pip install "lstm-lessons[{EXTRA}]" '
            "(on Linux, add --extra-index-url https://download.pytorch.org/whl/cpu to get the "
            "CPU build rather than the multi-gigabyte CUDA one). The NumPy cells, the diagrams "
            "and the NumPy exercise checks work without it."
        ) from error
    return torch
