"""Run chapter 9's training experiments and store them in lstm_lessons/experiments/data/.

Run: ``python scripts/run_coupled_gates.py`` (several minutes on a busy 2-core
machine). Trains the standard LSTM, CIFG and the GRU on delayed recall from 8
seeds, without and with a forget bias of 1, and fits a small fixed training set
of the adding problem to measure each cell's generalisation gap. The chapter
reads the file; ``tests/test_claims_ch09.py`` retrains a slice and compares.
"""

import time

import torch

from lstm_lessons.experiments import coupled_gates as cg


def main():
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    results = {
        "recall": {f"bias{b:g}": cg.train_cells(forget_bias=b, **cg.RECALL) for b in (0.0, 1.0)},
        "small_data": cg.generalisation_gap(**cg.SMALL_DATA),
    }
    seconds = time.perf_counter() - t0
    cg.save_results(results, cg.RESULTS_FILE, recall=cg.RECALL, small_data=cg.SMALL_DATA,
                    seconds=round(seconds, 1))
    print(f"done in {seconds:.0f} s")


if __name__ == "__main__":
    main()
