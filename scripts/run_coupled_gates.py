"""Run chapter 9's training experiments and store them in lstm_lessons/experiments/data/.

Run: ``OMP_NUM_THREADS=1 python scripts/run_coupled_gates.py`` (about 20 minutes on
one free core). It

1. ``recall``: trains the standard LSTM, CIFG and the GRU on delayed recall from
   ``cg.RECALL``'s seeds, with the biases as drawn and with a forget bias of 1;
2. ``n24`` and ``n64``: for a fixed training set of 24 and of 64 adding-problem sequences,
   chooses the standard cell's settings on validation data (``cg.tune`` over ``cg.GRIDS``,
   on the tuning seeds ``cg.TUNING``) and runs the paired small-data study
   (``cg.generalisation_gap``) at that setting on the study's seeds ``cg.STUDY``; for 24
   sequences also at ``cg.FIRST_SETTING``.

``--stages n64`` (for example) recomputes only the stages named and keeps the others in the
file. The chapter reads the file; ``tests/test_claims_ch09.py`` retrains slices and compares.
"""

import argparse
import time

import torch

from lstm_lessons.experiments import coupled_gates as cg
from lstm_lessons.training.ensemble import model_seeds

STAGES = ("recall", *(f"n{n}" for n in cg.N_TRAIN))


def recall():
    return {key: cg.train_cells(forget_bias=bias, **cg.RECALL)
            for key, bias in (("default", None), ("forget1", 1.0))}


def small(n_train):
    task = dict(cg.SMALL_TASK, n_train=n_train)
    tuning = cg.tune(grid=cg.GRIDS[n_train], task=task)
    chosen = cg.choose(tuning)
    print(f"n_train={n_train}: chosen {chosen}", flush=True)
    out = {"tuning": tuning, "chosen_setting": chosen}
    seeds = model_seeds(cg.STUDY["n_seeds"])
    settings = {"chosen": chosen}
    if n_train == cg.N_TRAIN[0]:
        settings["first"] = cg.FIRST_SETTING
    for name, setting in settings.items():
        out[name] = cg.generalisation_gap(seeds, task=task,
                                          first_record=cg.STUDY["first_record"], **setting)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    args = parser.parse_args()
    torch.set_num_threads(1)
    try:
        results, meta = cg.load_results()
    except FileNotFoundError:
        results, meta = {}, {}
    cpu = dict(meta.get("cpu_seconds", {}))
    for stage in args.stages:
        t0 = time.process_time()
        results[stage] = recall() if stage == "recall" else small(int(stage[1:]))
        cpu[stage] = round(time.process_time() - t0, 1)
        print(f"{stage}: {cpu[stage]:.0f} s of CPU", flush=True)
    results = {k: results[k] for k in STAGES}
    cg.save_results(
        results, cg.RESULTS_FILE,
        recall=cg.RECALL, small_task=cg.SMALL_TASK, n_train=cg.N_TRAIN,
        grids={str(n): g for n, g in cg.GRIDS.items()},
        tuning=cg.TUNING, first=cg.FIRST_SETTING, study=cg.STUDY, cpu_seconds=cpu,
    )


if __name__ == "__main__":
    main()
