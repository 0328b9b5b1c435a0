"""Install requirements.txt and the package (editable) into a virtual environment.

    python tools/install_env.py VENV_PYTHON [--jobs N]

The install is done by uv (pinned below, itself installed with pip): on a 2-core machine it
takes about 10 s where pip took about 2 minutes, most of them spent unpacking PyTorch's wheel
and byte-compiling its files one at a time. uv resolves the same pins to the same versions.

uv does not read pip's configuration, so the settings pip would use here (its config files and
``PIP_*`` variables: index, extra indexes, find-links, constraints) are passed on to uv. That is
what makes ``torch==2.13.0`` pick the CPU build where it lies in a find-links folder, as it does
with pip. ``--index-strategy unsafe-best-match`` is pip's own rule: every index is searched and
the best match wins, whichever index it is on.

uv does not compile the installed modules to bytecode: byte-compiling all 11,440 files took
30 s. Instead the modules that the course's processes import (notebook kernels, test workers,
the graders' sandboxed kernels, which cannot write bytecode) are imported once here, with
bytecode writing on, so that no process compiles them from source again (importing torch
without its bytecode takes 6.6 s instead of 3.0 s). The Makefile lets the rest be written at
first import.

PyTorch's CPU build. ``torch==X`` on the public index is the CUDA build (several gigabytes of
NVIDIA libraries the course never uses). Where a configured find-links folder holds the CPU
wheel of the pinned version (``torch-X+cpu-...whl``), the settings passed on already pick it.
Otherwise uv gets ``--torch-backend cpu``, which takes torch from PyTorch's CPU index, and pip
(the fallback) gets that index as an extra index. :func:`torch_arguments` makes the choice;
tests/test_install_env.py tests it for both configurations.

Where uv cannot be installed or fails, pip does the install, as before (slower), after a
message that says why. ``--pip`` skips uv.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

UV_VERSION = "0.13.9"

# pip's option name -> uv's, for the options that decide where packages come from.
PIP_TO_UV = {
    "index-url": "--index-url",
    "extra-index-url": "--extra-index-url",
    "find-links": "--find-links",
    "constraint": "--constraint",
}


def pip_settings(config_list: str) -> dict[str, list[str]]:
    """Read `pip config list` output into {option: values}, for the options of PIP_TO_UV.

    Lines look like ``global.find-links='/opt/wheels'`` or ``:env:.extra-index-url='a b'``.
    As in pip, an environment variable wins over the config files, and ``install.`` over
    ``global.``; a value may hold several entries separated by whitespace.
    """
    rank = {":env:": 3, "install": 2, "global": 1}
    best: dict[str, tuple[int, list[str]]] = {}
    for line in config_list.splitlines():
        key, sep, raw = line.partition("=")
        if not sep or "." not in key:
            continue
        section, _, option = key.rpartition(".")
        if option not in PIP_TO_UV or section not in rank:
            continue
        values = shlex.split(raw)
        values = [v for value in values for v in value.split()]
        if rank[section] >= best.get(option, (0, []))[0]:
            best[option] = (rank[section], values)
    return {option: values for option, (_, values) in best.items()}


def uv_arguments(settings: dict[str, list[str]]) -> list[str]:
    args = ["--index-strategy", "unsafe-best-match"]
    for option, values in settings.items():
        for value in values:
            args += [PIP_TO_UV[option], value]
    return args


# PyTorch's index of CPU builds, for pip where no find-links folder offers one.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def pinned_torch(requirements: str) -> str | None:
    """The version requirements.txt pins torch to (``torch==X``), or None."""
    match = re.search(r"^torch==([^\s;#+]+)", requirements, flags=re.MULTILINE)
    return match.group(1) if match else None


def cpu_wheel_offered(settings: dict[str, list[str]], version: str) -> bool:
    """Whether a find-links folder of ``settings`` holds the CPU wheel of torch ``version``.

    A find-links address on the web (``https://``) counts as offering it: that is how a reader
    who cannot reach PyTorch's index points pip at a mirror of its CPU builds (README.md), and
    the address cannot be looked into without the network.
    """
    for folder in settings.get("find-links", []):
        if folder.startswith(("https://", "http://")):
            return True
        folder = Path(folder.removeprefix("file://"))
        if folder.is_dir() and any(folder.glob(f"torch-{version}+cpu-*.whl")):
            return True
    return False


def torch_arguments(settings: dict[str, list[str]], version: str | None, tool: str) -> list[str]:
    """What makes ``tool`` ("uv" or "pip") install the CPU build of torch ``version``.

    Nothing where a find-links folder offers that CPU wheel (the settings passed on pick it, and
    no network is needed); otherwise uv's ``--torch-backend cpu`` or, for pip, PyTorch's CPU
    index as an extra index.
    """
    if tool not in ("uv", "pip"):
        raise ValueError(f"tool must be 'uv' or 'pip', got {tool!r}")
    if version is None or cpu_wheel_offered(settings, version):
        return []
    return ["--torch-backend", "cpu"] if tool == "uv" else ["--extra-index-url", TORCH_CPU_INDEX]


def run(cmd: list[str]) -> int:
    print("+", shlex.join(cmd), flush=True)
    return subprocess.call(cmd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("python", help="the virtual environment's python")
    parser.add_argument("--jobs", type=int, default=1, help="cores for pip's byte-compiling")
    parser.add_argument("--pip", action="store_true", help="install with pip, not uv")
    args = parser.parse_args(argv)
    py = args.python
    targets = ["-r", "requirements.txt", "-e", "."]
    quiet = ["--quiet", "--disable-pip-version-check"]

    listing = subprocess.run(
        [py, "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout
    settings = pip_settings(listing)
    torch = pinned_torch(Path("requirements.txt").read_text(encoding="utf-8"))
    if not args.pip:
        uv_install = [py, "-m", "uv", "pip", "install", "--python", py]
        uv_install += [*uv_arguments(settings), *torch_arguments(settings, torch, "uv"), *targets]
        if run([py, "-m", "pip", "install", *quiet, f"uv=={UV_VERSION}"]) != 0:
            why = f"uv {UV_VERSION} could not be installed"
        elif run(uv_install) != 0:
            why = "uv failed (above)"
        else:
            return warm_bytecode(py)
        print(f"install: {why}; installing with pip instead (slower)", file=sys.stderr)

    # pip compiles every module to bytecode one file at a time; compileall does it on --jobs
    # cores. A file that does not compile (some packages ship Python 2 examples) is no error
    # here, as it is none for pip.
    rc = run([py, "-m", "pip", "install", "--no-compile", *torch_arguments(settings, torch, "pip"),
              *targets])  # fmt: skip
    if rc == 0:
        subprocess.run(
            [py, "-m", "compileall", "-q", "-j", str(args.jobs), _prefix(py) + "/lib"],
            stdout=subprocess.DEVNULL,
        )
    return rc


# What a notebook kernel and a test worker import.
WARM_IMPORTS = (
    "torch",
    "numpy",
    "matplotlib.pyplot",
    "IPython",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "jupyter_client",
    "nbclient",
    "nbformat",
    "pytest",
    "lstm_lessons",
)


def warm_bytecode(py: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    code = "; ".join(f"import {name}" for name in WARM_IMPORTS)
    return subprocess.call([py, "-c", code], env=env)


def _prefix(py: str) -> str:
    return subprocess.run(
        [py, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True, check=True
    ).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
