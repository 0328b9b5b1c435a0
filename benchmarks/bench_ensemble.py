"""Time the torch variant cells against torch.nn.LSTM, and E stacked models against one.

Run: ``python benchmarks/bench_ensemble.py`` (a few minutes on a busy 2-core
machine). Single thread. The contestants of each table are timed back to back,
round after round, and each row reports the median over the rounds of its
time divided by the reference's time in the same round, so that a change of
load during the run shifts both alike.

1. Forward + backward of every torch variant cell at T=100, N=32, D=H=32,
   float32, as a multiple of ``torch.nn.LSTM`` (target: at most 4x).
2. One training step (forward, backward, Adam) of E = 8 stacked models
   (:class:`lstm_lessons.training.ensemble.Ensemble`) as a multiple of one
   step of a single model of the same variant, at T=100, D=H=32 and several
   batch sizes N (target at N=8: at most 2x).
"""

import argparse
import statistics
import time

import numpy as np
import torch

from lstm_lessons.cells.variants import VARIANT_NAMES
from lstm_lessons.pytorch.cells import LSTM
from lstm_lessons.training.ensemble import Ensemble, member_losses
from lstm_lessons.training.model import SequenceModel


def ratios(contestants, reference, rounds):
    """Median over rounds of (time of each contestant / time of the reference), and ref's ms."""
    for fn in [reference, *contestants.values()]:
        fn()  # warm-up
    out = {name: [] for name in contestants}
    ref_times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        reference()
        ref = time.perf_counter() - t0
        ref_times.append(ref)
        for name, fn in contestants.items():
            t0 = time.perf_counter()
            fn()
            out[name].append((time.perf_counter() - t0) / ref)
    return {k: statistics.median(v) for k, v in out.items()}, 1e3 * statistics.median(ref_times)


def cell_step(module, x):
    def run():
        xg = x.clone().requires_grad_(True)
        out, _ = module(xg)
        out.sum().backward()

    return run


def train_step(model, x, y):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def run():
        opt.zero_grad()
        out = model(x)
        loss = member_losses(out, y).sum() if out.dim() == 3 else ((out - y) ** 2).mean()
        loss.backward()
        opt.step()

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    T, D, H = 100, 32, 32

    x = torch.randn(T, 32, D)
    cells = {v: cell_step(LSTM(D, H, v), x) for v in VARIANT_NAMES}
    r, ref_ms = ratios(cells, cell_step(torch.nn.LSTM(D, H), x), args.rounds)
    print(f"Forward + backward, T={T}, N=32, D=H={H}, float32, one thread; "
          f"torch.nn.LSTM: {ref_ms:.1f} ms (median of {args.rounds} rounds)\n")
    print("| cell | time / torch.nn.LSTM |\n|---|---:|")
    for v, value in r.items():
        print(f"| {v} | {value:.2f}x |")

    E = 8
    print(f"\nOne Adam step of E={E} stacked models / one step of one model, T={T}, D=H={H}\n")
    print("| variant | N | E stacked / one | E stacked / E one after another | one / nn.LSTM |")
    print("|---|---:|---:|---:|---:|")
    for variant in ("cifg", "peephole"):
        for N in (1, 8, 32):
            xb = torch.randn(T, N, D)
            y = torch.randn(N, 1)
            one = SequenceModel(D, H, 1, variant=variant)
            ens = Ensemble.create(D, H, 1, list(range(E)), variant)
            nn_lstm = SequenceModel(D, H, 1)  # the standard cell: torch.nn.LSTM
            r, _ = ratios({"ens": train_step(ens, xb, y), "nn": train_step(nn_lstm, xb, y)},
                          train_step(one, xb, y), args.rounds)
            print(f"| {variant} | {N} | {r['ens']:.2f}x | {r['ens'] / E:.2f}x | "
                  f"{1 / r['nn']:.2f}x |")
    print(f"\nnumpy {np.__version__}, torch {torch.__version__}")


if __name__ == "__main__":
    main()
