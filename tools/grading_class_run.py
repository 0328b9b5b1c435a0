"""Grade a generated class of chapter 1 and report the time: a mixed class, or throughput.

    PYTHONPATH=. python tools/grading_class_run.py mixed [--jobs 2]
    PYTHONPATH=. python tools/grading_class_run.py throughput [--n 100] [--jobs 2]

``mixed`` builds a class of 32 submissions from the test classes (honest answers, honest
mistakes and every attack of tests/test_grading_attacks.py, plus copies), grades it, checks
every row against its expected points and prints the wall time. ``throughput`` grades N
submissions (solutions, blank notebooks and partly wrong ones, in turn) and prints the
submissions per minute, the wall time per submission and the CPU seconds per submission.
Run once by hand (minutes), not in CI.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import test_grading as honest  # noqa: E402
import test_grading_attacks as attacks  # noqa: E402

from lstm_lessons.homework.grading import Limits, grade_folder  # noqa: E402
from lstm_lessons.homework.runner import load_manifest  # noqa: E402

LIMITS = Limits(timeout_s=600, cell_timeout_s=120, test_timeout_s=60, kill_grace_s=10)


def mixed_class(folder):
    """{name: expected points of q1, q2, q3}, with the notebooks written into ``folder``."""
    expected = {}
    for name, (answers, extra, points) in attacks.CLASS.items():
        attacks._ch01(folder / f"attack_{name}", answers, extra)
        expected[f"attack_{name}"] = points
    for name, (answers, points, _, _) in honest.CLASS.items():
        honest.submission(folder / f"mistake_{name}", **answers)
        expected[f"mistake_{name}"] = points
    k = 0
    while len(expected) < 32:
        kind = ("solution", "blank")[k % 2]
        attacks._ch01(folder / f"copy_{k:02d}_{kind}.ipynb", kind, [])
        expected[f"copy_{k:02d}_{kind}.ipynb"] = (2, 2, 3) if kind == "solution" else (0, 0, 0)
        k += 1
    return expected


def throughput_class(folder, n):
    kinds = [("solution", {}), ("blank", None), ("partial", honest.CLASS["partial.ipynb"][0])]
    for k in range(n):
        label, answers = kinds[k % len(kinds)]
        path = folder / f"s{k:03d}_{label}.ipynb"
        if answers is None:
            attacks._ch01(path, "blank", [])
        else:
            honest.submission(path, **answers)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["mixed", "throughput"])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    manifest = load_manifest(ROOT / "solutions" / "ch01_simple_rnn.ipynb")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        expected = mixed_class(folder) if args.kind == "mixed" else None
        if expected is None:
            throughput_class(folder, args.n)
        n = len(list(folder.iterdir()))
        start, parent_cpu = time.monotonic(), time.process_time()
        rows = grade_folder(folder, manifest, LIMITS, jobs=args.jobs)
        wall, parent_cpu = time.monotonic() - start, time.process_time() - parent_cpu
        cpu = parent_cpu + sum(row.get("cpu_s") or 0.0 for row in rows.values())
    print(f"{n} submissions, jobs={args.jobs}: {wall:.0f} s, {60 * n / wall:.1f} per minute, "
          f"{wall * args.jobs / n:.1f} s per submission per job slot, "
          f"{cpu / n:.2f} CPU s per submission (grader and sandbox, last run of each), "
          f"{parent_cpu / n:.2f} of them in the grader")  # fmt: skip
    if expected is not None:
        wrong = {}
        for name, points in expected.items():
            got = tuple(rows[name]["scores"][q] for q in ("q1", "q2", "q3"))
            if got != points or rows[name]["status"] != "graded":
                wrong[name] = (got, points, rows[name]["reasons"])
        print(f"{len(expected) - len(wrong)} of {len(expected)} rows as expected")
        for name, (got, want, reasons) in wrong.items():
            print(f"  {name}: got {got}, expected {want}: {reasons}")
        return 1 if wrong else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
