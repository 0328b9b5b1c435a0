"""Run chapter 12's seed studies and store them in lstm_lessons/experiments/data/gates_at_work.json.

Run: ``OMP_NUM_THREADS=1 python scripts/run_gates_at_work.py`` (about two minutes on
one core). For every seed of ``SEEDS`` it trains the regime classifier
(:func:`lstm_lessons.experiments.regimes.seed_summary`) and the motif detector
(:func:`lstm_lessons.experiments.motifs.seed_summary`) with the chapter's settings and
scores them, with an untrained network of the same shape beside each, on the held-out data.

The chapter trains seed 0 of each itself and reads the other seeds from the file;
``tests/test_claims_ch12.py`` retrains a seed of each and compares with the file.
"""

import json
import time
from pathlib import Path

import torch

from lstm_lessons.experiments import motifs as mo
from lstm_lessons.experiments import regimes as rg
from lstm_lessons.training.ensemble import model_seeds

OUT = Path(__file__).resolve().parents[1] / "lstm_lessons" / "experiments" / "data"
SEEDS = {"regimes": model_seeds(10), "motifs": model_seeds(12)}


def main():
    torch.set_num_threads(1)
    start = time.perf_counter()
    data = rg.held_out()
    results = {
        "regimes": [rg.seed_summary(s, data=data) for s in SEEDS["regimes"]],
        "motifs": [mo.seed_summary(s) for s in SEEDS["motifs"]],
    }
    (OUT / "gates_at_work.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"{time.perf_counter() - start:.0f} s; wrote {OUT / 'gates_at_work.json'}")


if __name__ == "__main__":
    main()
