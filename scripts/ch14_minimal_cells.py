"""Chapter 14, C27: train the LSTM, minGRU and minLSTM (one and two layers, several seeds) on the
first-mark, last-mark and adding tasks; write lstm_lessons/experiments/data/ch14_minimal_cells.json.

Each model first chooses its learning rate on validation data (seed 0 at each rate of
SWEEP["lrs"]), then trains every seed at that rate. The models run in parallel, one per process
(--jobs, default 2), each on one thread; the results do not depend on the number of jobs. About
8 minutes with 2 jobs. Run from the repository root:
    OMP_NUM_THREADS=1 python scripts/ch14_minimal_cells.py
"""

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import torch

from lstm_lessons.experiments import parallel_scan as E


def run(unit):
    torch.set_num_threads(1)
    return E.train_model(*unit)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    start = time.perf_counter()
    units = [(name, cell, L) for name, depths in E.SWEEP["layers"].items()
             for cell in E.CELLS for L in depths]  # fmt: skip
    with ProcessPoolExecutor(args.jobs) as pool:
        models = list(pool.map(run, units))
    results = E.collect(units, models)
    E.save_results(results, sweep=dict(E.SWEEP), n_test=E.N_TEST)
    print(f"wrote {E.RESULTS_FILE} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
