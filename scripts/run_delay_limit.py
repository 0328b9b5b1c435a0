"""Run chapter 13's delay study and store it in lstm_lessons/experiments/data/delay_limit.json.

Run: ``OMP_NUM_THREADS=1 python scripts/run_delay_limit.py`` (about eight minutes on one
core). It trains chapter 1's recall LSTM on every seed of ``ic.DELAY_STUDY`` at every
delay, at the chapter's budget and at four times that budget on the long delays, and
measures the gradient that reaches the remembered input (``ic.gradient_reach``) for the
networks trained at ``ic.REACH["trained_delay"]`` and for the untrained networks.

The chapter reads the file; ``tests/test_claims_ch13.py`` retrains a slice and compares.
"""

import time

import torch

from lstm_lessons.experiments import in_context as ic


def main():
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    results = ic.delay_study()
    seconds = round(time.perf_counter() - t0, 1)
    ic.save_study(results, seconds=seconds, torch=torch.__version__)
    print(f"done in {seconds:.0f} s")


if __name__ == "__main__":
    main()
