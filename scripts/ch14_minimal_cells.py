"""Chapter 14, C27: train the LSTM, minGRU and minLSTM (one and two layers, several seeds) on the
first-mark, last-mark and adding tasks; write lstm_lessons/experiments/data/ch14_minimal_cells.json.

About 10 minutes on one thread. Run from the repository root:
    OMP_NUM_THREADS=1 python scripts/ch14_minimal_cells.py
"""

import time

import torch

from lstm_lessons.experiments import parallel_scan as E


def main():
    torch.set_num_threads(1)
    start = time.perf_counter()
    results = E.train_cells()
    settings = {k: v for k, v in E.SWEEP.items()}
    E.save_results(results, sweep=settings, n_test=E.N_TEST)
    print(f"wrote {E.RESULTS_FILE} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
