"""Run chapter 11's ablation and store its results in lstm_lessons/experiments/data/ablation.json.

Run: ``python scripts/run_ablation.py`` (about 10 minutes on a busy 2-core
machine, a few on a quiet one). Every variant of
:data:`lstm_lessons.experiments.ablation.VARIANTS` on both tasks of
:data:`~lstm_lessons.experiments.ablation.TASKS`, from 8 seeds each, trained
eight at a time as a stacked ensemble. It also measures how many models a
minute the machine trains one after another and stacked. The chapter reads the
file; ``tests/test_claims_ch11.py`` retrains a slice and compares it with it.
"""

import platform
import time

import torch

from lstm_lessons.experiments import ablation

N_SEEDS = 8


def main():
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    results = ablation.run_ablation(n_seeds=N_SEEDS)
    seconds = time.perf_counter() - t0
    n_models = sum(len(v) for task in results.values() for k, v in task.items() if "/" not in k)
    rate = ablation.models_per_minute()
    ablation.save_results(
        results,
        n_seeds=N_SEEDS,
        seconds=round(seconds, 1),
        models=n_models,
        models_per_minute_measured=round(60.0 * n_models / seconds, 2),
        models_per_minute_recall_cifg=({k: round(v, 2) for k, v in rate.items()}),
        machine=f"{platform.machine()}, torch {torch.__version__}, one thread",
    )
    print(f"{n_models} models in {seconds:.0f} s; per minute: {rate}")


if __name__ == "__main__":
    main()
