"""Train chapter 15's models and store the scores in lstm_lessons/experiments/data/ch15_xlstm.json.

Run: ``OMP_NUM_THREADS=1 python scripts/ch15_xlstm.py`` (about 10 minutes on one core). It
trains, on held-out data from the harness's seeds,

1. ``relevance``: the LSTM and the sLSTM on the most-relevant-item task (C28), each seed of
   ``xlstm.RELEVANCE``;
2. ``recall``: on associative recall with each number of pairs (C29), the mLSTM of head size
   ``RECALL["head_size"]`` and the LSTMs matched to it by state size and by parameter count;
3. ``head_sizes``: the mLSTM of each head size at the largest number of pairs;
4. ``long``: both comparisons again with ``xlstm.LONG_STEPS`` training steps (the relevance
   task; recall with ``LONG_PAIRS`` pairs for the mLSTM and the LSTM matched by state), to see
   whether more training closes the gaps.

``python scripts/ch15_xlstm.py long`` runs stage 4 only and keeps the rest of the file.

The chapter reads the file; ``tests/test_claims_ch15.py`` re-runs a slice and compares.
"""

import json
import sys
import time

import torch

from lstm_lessons.experiments import xlstm

torch.set_num_threads(1)
#: The numbers of pairs of stage 4's recall runs.
LONG_PAIRS = (4, 8)


def main():
    start = time.time()
    rel, rec = xlstm.RELEVANCE, xlstm.RECALL
    out = {"relevance_config": rel, "recall_config": rec, "relevance": {}, "recall": {}}
    for cell in ("lstm", "slstm"):
        out["relevance"][cell] = [xlstm.train_relevance(cell, s) for s in rel["seeds"]]
        print(cell, out["relevance"][cell], f"{time.time() - start:.0f} s", flush=True)
    d = rec["head_size"]
    by_state, by_params = xlstm.recall_sizes(d)
    models = {f"mlstm_d{d}": ("mlstm", d), f"lstm_h{by_state}": ("lstm", by_state),
              f"lstm_h{by_params}": ("lstm", by_params)}  # fmt: skip
    out["recall_models"] = {k: list(v) for k, v in models.items()}
    for pairs in rec["pairs"]:
        for name, (cell, H) in models.items():
            scores = [xlstm.train_recall(cell, H, pairs, s) for s in rec["seeds"]]
            out["recall"].setdefault(name, {})[str(pairs)] = scores
            print(pairs, name, scores, f"{time.time() - start:.0f} s", flush=True)
    pairs = max(rec["pairs"])
    for size in rec["head_sizes"]:
        name = f"mlstm_d{size}"
        if str(pairs) in out["recall"].get(name, {}):
            continue
        scores = [xlstm.train_recall("mlstm", size, pairs, s) for s in rec["seeds"]]
        out["recall"].setdefault(name, {})[str(pairs)] = scores
        print(pairs, name, scores, f"{time.time() - start:.0f} s", flush=True)
    xlstm.RESULTS_FILE.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {xlstm.RESULTS_FILE} in {time.time() - start:.0f} s")


def long():
    """Stage 4; entries already in the file are kept, so an interrupted run can go on."""
    start = time.time()
    out = xlstm.load_results()
    rel, rec = xlstm.RELEVANCE, xlstm.RECALL
    steps = xlstm.LONG_STEPS
    out["long_steps"] = steps
    relevance = out.setdefault("relevance_long", {})
    for cell in ("lstm", "slstm"):
        if cell not in relevance:
            relevance[cell] = [xlstm.train_relevance(cell, s, steps=steps) for s in rel["seeds"]]
        print(cell, relevance[cell], f"{time.time() - start:.0f} s", flush=True)
    d = rec["head_size"]
    by_state, _ = xlstm.recall_sizes(d)
    recall = out.setdefault("recall_long", {})
    for pairs in LONG_PAIRS:
        for name, cell, H in ((f"lstm_h{by_state}", "lstm", by_state), (f"mlstm_d{d}", "mlstm", d)):
            runs = recall.setdefault(name, {})
            if str(pairs) not in runs:
                runs[str(pairs)] = [
                    xlstm.train_recall(cell, H, pairs, s, steps=steps) for s in rec["seeds"]
                ]
                xlstm.RESULTS_FILE.write_text(json.dumps(out, indent=1) + "\n")
            print(pairs, name, runs[str(pairs)], f"{time.time() - start:.0f} s", flush=True)
    xlstm.RESULTS_FILE.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    long() if sys.argv[1:] == ["long"] else main()
