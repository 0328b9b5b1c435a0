"""Train and inspect the appendix's bidirectional recaller on every seed; store the counts.

Run: ``OMP_NUM_THREADS=1 python scripts/run_inspection_seeds.py`` (under a minute on one
core). For each seed of ``lstm_lessons.experiments.inspection.SEEDS`` it trains the
two-layer bidirectional LSTM, measures its held-out accuracy and that of the untrained
network, and counts with ``lstm_lessons.inspect`` the units per layer and direction whose
forget-gate half-life exceeds the delay. The appendix "Inspect your own network" reads
lstm_lessons/experiments/data/inspection.json; ``tests/test_inspect.py`` retrains seed 0
and compares.
"""

import time

import torch

import lstm_lessons as ll
from lstm_lessons.experiments import inspection


def main():
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    results = inspection.seed_study(ll.inspect)
    seconds = round(time.perf_counter() - t0, 1)
    inspection.save_results(results, seconds=seconds, torch=torch.__version__)
    print(f"done in {seconds:.0f} s")


if __name__ == "__main__":
    main()
