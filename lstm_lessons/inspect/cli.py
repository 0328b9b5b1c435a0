"""The command ``lstm-lessons-inspect``: the gate report of a model saved to disk.

    lstm-lessons-inspect MODEL --input BATCH.npy [--figures DIR]
    python -m lstm_lessons.inspect MODEL --input BATCH.npy [--figures DIR]

MODEL is what ``torch.save`` wrote (a whole module, or a state dict) or a
TorchScript module (``torch.jit.save``). A state dict does not record
``batch_first``, so for one the command asks for ``--batch-first`` or
``--time-major``; the cell, layers, directions and projection are read from
its keys and shapes (``--cell`` checks the cell). BATCH.npy holds the input as
the model takes it: (T, N, D), or (N, T, D) for a ``batch_first`` model. The
summary is printed; ``--figures DIR`` also writes the gate heat maps of
sequence 0 for every layer and direction and the half-life histogram as PNG.

Loading a whole module unpickles it: do so only with files you trust.
"""

import argparse
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._torch import require_torch

PROG = "lstm-lessons-inspect"


def _parser():
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Print what the gates of a saved recurrent PyTorch model do on a batch.",
    )
    p.add_argument("model", type=Path, help="a torch.save'd module or state dict, or TorchScript")
    p.add_argument("--input", required=True, type=Path, help=".npy batch, (T, N, D) or (N, T, D)")
    p.add_argument("--figures", type=Path, help="folder to write the figures into (PNG)")
    p.add_argument("--cell", choices=("lstm", "gru"), help="the cell of a state dict (checked)")
    order = p.add_mutually_exclusive_group()
    order.add_argument(
        "--batch-first", action="store_true", help="a state dict's input is (N, T, D)"
    )
    order.add_argument(
        "--time-major", action="store_true", help="a state dict's input is (T, N, D)"
    )
    p.add_argument("--layer", help="the recurrent submodule of a whole model, if it holds several")
    return p


def load_model(path, cell=None, batch_first=None):
    """The module (or StackedRNN, for a state dict) saved in ``path``."""
    torch = require_torch(PROG)  # reading a saved module needs torch; say how to install it

    from ..pytorch.convert import from_torch

    if not path.is_file():
        raise ValueError(f"MODEL: no such file {str(path)!r}")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            scripted = any(n.split("/")[1:2] == ["code"] for n in z.namelist())
        if scripted:  # torch.load would dispatch to jit.load too, but with a warning
            return torch.jit.load(str(path), map_location="cpu")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a whole module: weights_only refuses it
        try:
            obj = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as err:
            raise ValueError(
                f"MODEL: expected a file written by torch.save or torch.jit.save, "
                f"could not read {str(path)!r}: {err}"
            ) from err
    if isinstance(obj, Mapping):
        if batch_first is None:
            raise ValueError(
                "MODEL is a state dict, which does not record batch_first: "
                "say --batch-first (input (N, T, D)) or --time-major (input (T, N, D))"
            )
        return from_torch(obj, cell, batch_first=batch_first, stacked=True)
    if not isinstance(obj, torch.nn.Module):
        raise ValueError(
            f"MODEL: expected a module or a state dict, got {type(obj).__name__} in {str(path)!r}"
        )
    return obj


def load_input(path):
    if not path.is_file():
        raise ValueError(f"--input: no such file {str(path)!r}")
    try:
        x = np.load(path, allow_pickle=False)
    except Exception as err:
        raise ValueError(
            f"--input: expected a .npy array of shape (T, N, D) or (N, T, D), "
            f"could not read {str(path)!r}: {err}"
        ) from err
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError(f"--input: expected a float array, got dtype {getattr(x, 'dtype', '?')}")
    return x


def main(argv=None):
    """Run the command; returns the exit status (0, or 2 for bad input)."""
    parser = _parser()
    args = parser.parse_args(argv)
    from . import inspect

    batch_first = True if args.batch_first else False if args.time_major else None
    try:
        model = load_model(args.model, args.cell, batch_first)
        x = load_input(args.input)
        report = inspect(model, x, layer=args.layer)
    except (ValueError, TypeError, ImportError) as err:
        message = str(err)
        if message.startswith("x: "):  # the batch is the --input file here
            message = "--input" + message[1:]
        parser.exit(2, f"{PROG}: error: {message}\n")
    print(report.summary())
    if args.figures:
        write_figures(report, args.figures)
    return 0


def write_figures(report, folder):
    """Write the heat maps (gates_l{k}_{direction}.png) and half_lives.png into ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting.style import use_course_style

    use_course_style()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for k in range(report.model.num_layers):
        for d in range(report.model.num_directions):
            fig = report.plot_gates(k, d)
            written.append(folder / f"gates_l{k}_{('forward', 'backward')[d]}.png")
            fig.savefig(written[-1], bbox_inches="tight")
            plt.close(fig)
    fig = report.plot_half_lives()
    written.append(folder / "half_lives.png")
    fig.savefig(written[-1], bbox_inches="tight")
    plt.close(fig)
    print("\nfigures: " + ", ".join(str(p) for p in written), file=sys.stdout)
    return written
