"""Run chapter 11's ablation and store it in lstm_lessons/experiments/data/ablation.json.

Run: ``python scripts/run_ablation.py [--jobs 2]``. For every task of
:data:`lstm_lessons.experiments.ablation.TASKS` and every variant: the learning rate is chosen
from the shared grid on validation data with tuning seeds of its own, then the study's
:data:`~lstm_lessons.experiments.ablation.N_SEEDS` paired runs are trained as one stack, in
float64, and scored on the held-out data; the controls (trivial predictor, untrained network)
are scored beside them. The script stops with an error if the standard cell does not learn
(:func:`~lstm_lessons.experiments.ablation.check_baseline`). ``--jobs 2`` runs the two tasks
in two processes; ``--dask ADDRESS`` (a Dask scheduler) or ``--dask-local N`` (a LocalCluster of
N worker processes) runs each task as a task on the cluster's workers instead
(:func:`lstm_lessons.homework.cluster.map_units`; needs the extra ``grading-cluster``). It also
measures how many models a minute one thread trains one after
another and stacked. The chapter reads the file; ``tests/test_claims_ch11.py`` retrains slices
of it.
"""

import argparse
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack

import torch

from lstm_lessons.experiments import ablation
from lstm_lessons.homework.cluster import map_units, open_client


def run_one(task_name):
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    result = ablation.run_task(ablation.TASKS[task_name],
                               log=lambda line: print(line, flush=True))
    return task_name, result, time.perf_counter() - t0


def run_units(function, units, jobs=1, client=None):
    """[function(unit) for unit in units]: ``jobs`` processes here, or tasks of a Dask client."""
    if client is not None:
        done = dict(map_units(client, function, units))
        return [done[k] for k in range(len(units))]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(function, units))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="tasks run at once (1 or 2)")
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument("--dask", metavar="ADDRESS", help="a Dask scheduler's address")
    cluster.add_argument("--dask-local", metavar="N", type=int, help="a LocalCluster of N workers")
    args = parser.parse_args()
    t0 = time.perf_counter()
    with ExitStack() as stack:
        client = None
        if args.dask is not None or args.dask_local is not None:
            client = stack.enter_context(
                open_client(args.dask, args.dask_local, what="run_ablation.py --dask")
            )
        done = run_units(run_one, list(ablation.TASKS), args.jobs, client)
    seconds = time.perf_counter() - t0
    results = {name: result for name, result, _ in done}
    baseline = ablation.check_baseline(results)
    n_models = sum(
        len(v["loss"]) + len(v["tuning"]) * len(next(iter(v["tuning"].values())))
        for res in results.values() for v in res["variants"].values()
    )
    torch.set_num_threads(1)
    rate = ablation.models_per_minute()
    ablation.save_results(
        results,
        n_seeds=ablation.N_SEEDS,
        seconds=round(seconds, 1),
        jobs=args.jobs,
        models=n_models,
        models_per_minute_recall_cifg={k: round(v, 2) for k, v in rate.items()},
        machine=f"{platform.machine()}, torch {torch.__version__}, one thread per task",
    )
    print(f"{n_models} models in {seconds:.0f} s; baseline {baseline}; per minute: {rate}")


if __name__ == "__main__":
    main()
