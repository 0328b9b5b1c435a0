"""Time the NumPy LSTM against torch.nn.LSTM, and both against the bare matrix products.

Run: ``python benchmarks/bench_lstm.py`` (about a minute on 2 cores). Prints a
Markdown table. Every row is the median of ``--repeats`` runs in this one
process, with NumPy's BLAS and torch limited to the same number of threads.
``--json PATH`` also writes the results, the machine and the date to PATH; the
book's Benchmarks page reads ``benchmarks/bench_lstm.json`` written this way
(``make benchmarks``), because the run takes too long for every book build.

The floor row times only the matrix products an LSTM over T steps cannot
avoid: one (T*N, D) @ (D, 4H) for the input projections and T products
(N, H) @ (H, 4H) for the recurrence, and for the backward pass the matching
transposed products. No LSTM on this CPU can be faster than that.

The small-shape section (T=100, N=1, D=H=32, float32) measures what a step
costs when the arithmetic is tiny and Python's per-operation overhead is all
there is: microseconds per step for the NumPy engine's forward and
forward + backward pass and for ``torch.nn.LSTM``, on one thread (torch,
OpenMP and BLAS), as the median of ``--repeats`` rounds in which every
contender runs once, by CPU time of this process. On a machine shared with
other jobs, CPU time is far steadier than wall time, and with one thread the
two agree on a quiet machine. ``--only small`` runs this section alone:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_lstm.py --only small
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import time

import numpy as np
import torch

import lstm_lessons as ll
from lstm_lessons.pytorch.cells import LSTM


def median_time(fn, repeats):
    fn()  # warm-up: first-call allocations and lazy initialisation
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def floor_products(T, N, D, H, dtype, backward):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T * N, D)).astype(dtype)
    h = rng.standard_normal((N, H)).astype(dtype)
    W_x = rng.standard_normal((D, 4 * H)).astype(dtype)
    W_h = rng.standard_normal((H, 4 * H)).astype(dtype)
    da = rng.standard_normal((T * N, 4 * H)).astype(dtype)

    def run():
        x @ W_x
        for _ in range(T):
            h @ W_h
        if backward:
            for t in range(T):
                da[t * N : (t + 1) * N] @ W_h.T  # dh_prev, one step at a time
            da @ W_x.T  # dx
            x.T @ da  # dW_x
            x.T @ da  # dW_h has the same cost when D = H

    return run


def bench(T, N, D, H, dtype, repeats):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, D)).astype(dtype)
    h0 = np.zeros((N, H), dtype=dtype)
    c0 = np.zeros((N, H), dtype=dtype)
    params = ll.init_lstm_params(D, H, dtype=dtype)
    dhs = rng.standard_normal((T, N, H)).astype(dtype)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64

    def np_fwd():
        ll.lstm_forward(x, h0, c0, params)

    def np_fwd_bwd():
        _, _, cache = ll.lstm_forward(x, h0, c0, params)
        ll.lstm_backward(dhs, cache)

    def torch_runner(module):
        xt = torch.from_numpy(x)
        dh = torch.from_numpy(dhs)

        def fwd():
            with torch.no_grad():
                module(xt)

        def fwd_bwd():
            xg = xt.clone().requires_grad_(True)
            out, _ = module(xg)
            out.backward(dh)

        return fwd, fwd_bwd

    nn_fwd, nn_fwd_bwd = torch_runner(torch.nn.LSTM(D, H).to(tdtype))
    rows = {
        "matmul floor, forward": median_time(floor_products(T, N, D, H, dtype, False), repeats),
        "matmul floor, fwd+bwd": median_time(floor_products(T, N, D, H, dtype, True), repeats),
        "torch.nn.LSTM forward": median_time(nn_fwd, repeats),
        "torch.nn.LSTM fwd+bwd": median_time(nn_fwd_bwd, repeats),
        "NumPy lstm forward": median_time(np_fwd, repeats),
        "NumPy lstm fwd+bwd": median_time(np_fwd_bwd, repeats),
    }
    for variant in ("standard", "peephole", "cifg", "hard_sigmoid"):
        _, fwd_bwd = torch_runner(LSTM(D, H, variant, dtype=tdtype))
        rows[f"torch_cells.LSTM({variant}) fwd+bwd"] = median_time(fwd_bwd, repeats)
    return rows


def small_shape(repeats, T=100, N=1, D=32, H=32, dtype=np.float32):
    """Microseconds per step, single thread: {row name: (NumPy or torch us/step)}."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, D)).astype(dtype)
    h0 = np.zeros((N, H), dtype=dtype)
    params = ll.init_lstm_params(D, H, dtype=dtype)
    dhs = rng.standard_normal((T, N, H)).astype(dtype)
    module = torch.nn.LSTM(D, H)
    xt, dht = torch.from_numpy(x), torch.from_numpy(dhs)

    def np_fwd():
        ll.lstm_forward(x, h0, h0, params)

    def np_fwd_bwd():
        ll.lstm_backward(dhs, ll.lstm_forward(x, h0, h0, params)[2])

    def nn_fwd():
        with torch.no_grad():
            module(xt)

    def nn_fwd_bwd():
        module(xt.clone().requires_grad_(True))[0].backward(dht)

    runs = {
        "NumPy lstm forward": np_fwd,
        "NumPy lstm fwd+bwd": np_fwd_bwd,
        "torch.nn.LSTM forward": nn_fwd,
        "torch.nn.LSTM fwd+bwd": nn_fwd_bwd,
    }
    times = {name: [] for name in runs}
    for fn in runs.values():
        fn()  # warm-up
    for _ in range(repeats):  # round-robin, so that a busy spell hits every row alike
        for name, fn in runs.items():
            t0 = time.process_time()
            fn()
            times[name].append(time.process_time() - t0)
    return {name: 1e6 * statistics.median(t) / T for name, t in times.items()}


def print_small(us):
    print("T=100, N=1, D=32, H=32, float32, one thread: microseconds per step (CPU time)\n")
    print("| | us/step | vs nn.LSTM |")
    print("|---|---:|---:|")
    for name, value in us.items():
        ref = us["torch.nn.LSTM fwd+bwd" if "bwd" in name else "torch.nn.LSTM forward"]
        print(f"| {name} | {value:.1f} | {value / ref:.2f}x |")
    print()


# Set to the same count as --threads, these keep NumPy's BLAS and torch from starting more
# threads than there are cores (where threadpoolctl is not installed to do it).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cpu_model():
    """The CPU's model name from /proc/cpuinfo where there is one, else what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--only", choices=("large", "small"), default=None)
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:
        pass  # NumPy's BLAS then uses its default, which is the core count, like torch's

    machine = {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "threads": args.threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "platform": platform.platform(),
        # Other work on the machine slows every row: the 1-minute load average at the start.
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    print(f"Machine: {machine['cpu']}, {machine['cpus']} CPUs, "
          f"{args.threads} threads; NumPy {np.__version__}, torch {torch.__version__}; "
          f"median of {args.repeats} runs, milliseconds.\n")
    shapes = [(100, 64, 256, 256), (100, 1, 32, 32)]
    record = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(
            [f"{k}={os.environ[k]}" for k in THREAD_VARIABLES if k in os.environ]
            + ["python benchmarks/bench_lstm.py", f"--repeats {args.repeats}",
               f"--threads {args.threads}"]),
        "machine": machine,
        "repeats": args.repeats,
        "shapes": [],
    }
    if args.only == "small":
        shapes = []
    for T, N, D, H in shapes:
        results = {dt: bench(T, N, D, H, dt, args.repeats) for dt in (np.float32, np.float64)}
        record["shapes"].append({
            "T": T, "N": N, "D": D, "H": H,
            "seconds": {np.dtype(dt).name: results[dt] for dt in results},
        })
        print(f"T={T}, N={N}, D={D}, H={H}\n")
        print("| | float32 ms | vs nn.LSTM | float64 ms | vs nn.LSTM |")
        print("|---|---:|---:|---:|---:|")
        for name in results[np.float32]:
            cells = []
            for dt in (np.float32, np.float64):
                r = results[dt]
                ref = r["torch.nn.LSTM fwd+bwd" if "bwd" in name else "torch.nn.LSTM forward"]
                cells += [f"{1e3 * r[name]:.2f}", f"{r[name] / ref:.2f}x"]
            print(f"| {name} | " + " | ".join(cells) + " |")
        print()
    if args.only != "large":
        record["small_shape_us_per_step"] = small_shape(max(args.repeats, 15))
        print_small(record["small_shape_us_per_step"])
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
