"""Time the loop against the scans of h_t = a_t h_{t-1} + b_t over the length T, NumPy and torch.

Run (about four minutes on one core; chapter 14 and benchmarks/scan.md read the result):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        python benchmarks/scan_curves.py --json benchmarks/scan_curves.json

N = 8, H = 64, float32, one thread, T = 64 .. 16384 (powers of 2). For every T it times:

- NumPy forward: the step loop, Blelloch's scan, the chunked form (chunks of 64), the
  Hillis-Steele scan and the log-space scan of :mod:`lstm_lessons.cells.scan`;
- NumPy forward and backward: the loop with the reverse loop, and Blelloch's scan with the
  reverse scan (:func:`~lstm_lessons.cells.scan.scan_backward`);
- torch forward and forward+backward: :func:`lstm_lessons.pytorch.scan.loop_scan` (the loop
  with its hand-written backward), :func:`~lstm_lessons.pytorch.scan.linear_scan` (the scan
  with the reverse scan), :func:`~lstm_lessons.pytorch.scan.log_scan` (autograd through
  ``logcumsumexp``), and, up to T = 4096, the loop through autograd (a node per operation
  per step).

Each entry is the median (and the shortest) of ``--repeats`` runs, timed by the process's
CPU time (steadier than wall time on a shared machine). It then fits the slope of log time
against log T (T >= 1024) and finds the crossover, the first T from which the scan is faster
than the loop.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from lstm_lessons.cells import scan as S
from lstm_lessons.pytorch import scan as P

LENGTHS = tuple(2**k for k in range(6, 15))  # 64 .. 16384
N, H = 8, 64
NAIVE_MAX_T = 4096


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return float(np.median(times)), float(min(times))


def naive_autograd(a, b):
    h, out = torch.zeros_like(a[0]), []
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
        out.append(h)
    return torch.stack(out)


def numpy_cases(a, b, dh):
    def fwd_bwd(method):
        def run():
            h = S.linear_scan(a, b, None, method)
            S.scan_backward(dh, a, h, None, method)
        return run

    return {
        "numpy_forward": {
            "loop": lambda: S.loop_scan(a, b),
            "blelloch": lambda: S.blelloch_scan(a, b),
            "chunked": lambda: S.chunked_scan(a, b, chunk=64),
            "hillis_steele": lambda: S.hillis_steele_scan(a, b),
            "log": lambda: S.log_scan(a, b),
        },
        "numpy_forward_backward": {"loop": fwd_bwd("loop"), "blelloch": fwd_bwd("blelloch")},
    }


def torch_cases(a, b, dh, T):
    def fwd(form):
        def run():
            with torch.no_grad():
                form(a, b)
        return run

    def fwd_bwd(form):
        def run():
            ta, tb = a.detach().requires_grad_(), b.detach().requires_grad_()
            form(ta, tb).backward(dh)
        return run

    forms = {"loop": P.loop_scan, "scan": P.linear_scan, "log": P.log_scan}
    cases = {
        "torch_forward": {k: fwd(f) for k, f in forms.items()},
        "torch_forward_backward": {k: fwd_bwd(f) for k, f in forms.items()},
    }
    if T <= NAIVE_MAX_T:
        cases["torch_forward"]["loop_autograd"] = fwd(naive_autograd)
        cases["torch_forward_backward"]["loop_autograd"] = fwd_bwd(naive_autograd)
    return cases


def slope(lengths, times, low=1024):
    pts = [(np.log(T), np.log(t)) for T, t in zip(lengths, times, strict=True) if T >= low]
    x, y = np.array(pts).T
    return float(np.polyfit(x, y, 1)[0])


def crossover(lengths, loop, scan):
    """The first T from which the scan stays faster than the loop; None if it never does."""
    for k, T in enumerate(lengths):
        if all(s < lo for s, lo in zip(scan[k:], loop[k:], strict=True)):
            return int(T)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default="benchmarks/scan_curves.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    runs = {}
    for T in LENGTHS:
        a = rng.uniform(0.5, 1.0, (T, N, H)).astype(np.float32)
        b = rng.standard_normal((T, N, H)).astype(np.float32)
        dh = rng.standard_normal((T, N, H)).astype(np.float32)
        groups = numpy_cases(a, b, dh)
        groups.update(torch_cases(*(torch.from_numpy(v) for v in (a, b, dh)), T))
        repeats = args.repeats if T <= 4096 else 3
        for group, cases in groups.items():
            for name, fn in cases.items():
                fn()  # warm up
                reps = 1 if name == "loop_autograd" and T > 1024 else repeats
                median, best = timed(fn, reps)
                runs.setdefault(group, {}).setdefault(name, {})[str(T)] = {
                    "median_s": median, "min_s": best, "repeats": reps}
        print(f"T = {T}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    summary = {}
    for group, scan_name in (("numpy_forward", "blelloch"), ("numpy_forward_backward", "blelloch"),
                             ("torch_forward", "scan"), ("torch_forward_backward", "scan")):
        loop = [runs[group]["loop"][str(T)]["median_s"] for T in LENGTHS]
        scan = [runs[group][scan_name][str(T)]["median_s"] for T in LENGTHS]
        summary[group] = {
            "slope_loop": slope(LENGTHS, loop),
            "slope_scan": slope(LENGTHS, scan),
            "scan_over_loop_at_4096": scan[LENGTHS.index(4096)] / loop[LENGTHS.index(4096)],
            "crossover_T": crossover(LENGTHS, loop, scan),
        }
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", *sys.argv]),
        "machine": {
            "cpu": cpu_model(), "cpus": os.cpu_count(), "threads": 1,
            "python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__, "platform": platform.platform(),
            "load_average": round(os.getloadavg()[0], 2),
        },
        "shape": {"N": N, "H": H, "dtype": "float32"},
        "lengths": list(LENGTHS),
        "seconds": round(time.perf_counter() - start, 1),
        "runs": runs,
        "summary": summary,
    }
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
