"""Train chapter 12's character-level LSTM and write lstm_lessons/data/char_lstm.npz.

Deterministic: one CPU thread, seeded batches and initial weights. Takes a few
minutes on one core; the book loads the weights it writes instead of training.

    python scripts/train_char_lstm.py
"""

import time
from pathlib import Path

from lstm_lessons.experiments import char_language as cl

OUT = Path(__file__).resolve().parents[1] / "lstm_lessons" / "data" / cl.WEIGHTS_FILE
SETTINGS = {"hidden_size": 48, "steps": 2000, "batch_size": 16, "T": 64, "lr": 1e-2, "seed": 0}


def main():
    start = time.perf_counter()
    model, vocab, losses = cl.train_char_lstm(**SETTINGS)
    cl.save_weights(model, vocab, OUT)
    bits = cl.held_out_loss(model, vocab)
    print(
        f"{SETTINGS}: {time.perf_counter() - start:.0f} s, final training loss "
        f"{losses[-100:].mean():.3f} nats/char, held-out {bits:.3f} bits/char; wrote {OUT}"
    )


if __name__ == "__main__":
    main()
