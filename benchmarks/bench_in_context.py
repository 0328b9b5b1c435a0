"""Time an LSTM layer against a causal Transformer block of the same size over sequence length.

Run (about seven minutes on one core; chapter 13 reads the result):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        python benchmarks/bench_in_context.py --repeats 7 --json benchmarks/bench_in_context.json

For batch 1 and batch 16, and for every length T, it times the forward pass and the
forward and backward pass of ``torch.nn.LSTM(64, 64)`` (33,280 parameters) and of the
causal block of :mod:`lstm_lessons.cells.attention` with width 64, four heads and the
feed-forward width that brings it to the LSTM's count, in NumPy (the course's own
``lstm_forward``/``lstm_backward`` and ``block_forward``/``block_backward``) and in torch
(``torch.nn.LSTM`` and ``torch.nn.TransformerEncoderLayer`` with a causal mask). Every
entry is the shortest of ``--repeats`` runs (:func:`lstm_lessons.experiments.in_context.race`),
the LSTM and the block in turns, on one thread, float32, by the CPU time of the process
(steadier than wall time on a shared machine); beside the times it stores the matrix-product
FLOPs of every run
(:func:`~lstm_lessons.experiments.in_context.matmul_flops`) and the machine.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np
import torch
from bench_lstm import cpu_model  # the machine described as the LSTM benchmark describes it

from lstm_lessons.experiments import in_context as ic

LENGTHS = {
    1: (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048),
    16: (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024),
}


def plain(result):
    """:func:`ic.race`'s dict with its (library, backward) keys spelt out, for JSON."""
    out = {}
    for key, value in result.items():
        if isinstance(key, tuple):
            library, backward = key
            key = f"{library} {'forward+backward' if backward else 'forward'}"
        out[key] = value
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    args = parser.parse_args()
    torch.set_num_threads(1)
    machine = {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "threads": 1,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "platform": platform.platform(),
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    print(f"Machine: {machine['cpu']}, one thread; "
          f"NumPy {np.__version__}, torch {torch.__version__}")
    start = time.perf_counter()
    runs = {}
    for N, lengths in LENGTHS.items():
        runs[str(N)] = plain(ic.race(lengths, batch_size=N, repeats=args.repeats))
        for key, r in runs[str(N)].items():
            if isinstance(r, dict) and "crossover" in r:
                print(f"batch {N:2d}, {key:24s}: crossover T = {r['crossover']}", flush=True)
    payload = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python "
        + " ".join(["benchmarks/bench_in_context.py", *sys.argv[1:]]),
        "machine": machine,
        "repeats": args.repeats,
        "seconds": round(time.perf_counter() - start, 1),
        "runs": runs,
    }
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
