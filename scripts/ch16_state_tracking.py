"""Run chapter 16's parity sweep and store it in lstm_lessons/experiments/data/.

Run: ``OMP_NUM_THREADS=1 python scripts/ch16_state_tracking.py`` (about three minutes of
one core). It trains each model of ``state_tracking.MODELS`` from each of ``SEEDS`` on
the running parity of streams of ``TRAIN_T`` steps and scores it at every step of
held-out streams ``FACTOR`` times longer (C30), and records the trained SSMs' transitions
and the LSTM's forget gate at the ones and the zeros of the stream (C31). The chapter
reads the file; ``tests/test_claims_ch16.py`` retrains seed 0 and compares.
"""

import time

import torch

from lstm_lessons.experiments import state_tracking as st


def main():
    torch.set_num_threads(1)
    t0 = time.process_time()
    results = st.run_parity()
    st.save_results(
        results,
        train_T=st.TRAIN_T, factor=st.FACTOR, hidden_size=st.HIDDEN, state_size=st.STATE,
        batch_size=st.BATCH, steps=st.STEPS, lr=st.LR, clip=st.CLIP,
        held_out_n=st.HELD_OUT_N, seeds=list(st.SEEDS),
        cpu_seconds=round(time.process_time() - t0, 1),
    )


if __name__ == "__main__":
    main()
