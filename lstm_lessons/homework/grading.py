"""Grade a class: run every submitted notebook of an exercise set, each in its own process.

    python -m lstm_lessons.grade SUBMISSIONS --assignment ch01_simple_rnn --out gradebook.csv

SUBMISSIONS is a folder of submitted ``.ipynb`` files, searched recursively; each file is
one submission, named in the gradebook by its path inside the folder. The tests, public and
hidden, come from the grading manifest in the metadata of ``solutions/<assignment>.ipynb``
(``--solutions`` names another folder; ``--assignment`` may also be the path of a solution
notebook). The gradebook (CSV) has one row per submission: the points of each question,
left empty for a written answer that a person grades; the total and the points possible of
the automatic part; a status (``graded``, ``timed out``, ``killed``, ``crashed``,
``unreadable``); and the reasons: one per lost point (the check's message, ``[hidden]`` for
a hidden test, and the points lost), then notes on cells that failed.

What each submission gets (see ``_grade_worker`` for the child's side):

- its own Python process, in a session and process group of its own, with stdin from
  /dev/null and its output going to a file; after ``--timeout`` seconds of wall time the
  whole group is killed with SIGKILL, and so is whatever the notebook left running in it
  when it ends normally;
- a fresh temporary working directory holding only a copy of the notebook, deleted
  afterwards, so that a notebook that deletes or writes files in its working directory
  harms only its copy; the submitted file itself is only read;
- resource limits set with ``setrlimit`` in the child before any student code runs: CPU
  seconds (``--cpu``), address space (``--memory``, so a huge allocation raises
  MemoryError), the size of any file it writes (64 MB), no core dumps;
- a wall-clock limit per code cell (``--cell-timeout``) and per test (``--test-timeout``),
  delivered as an exception by SIGALRM: an endless loop in one task costs that task's
  points, and the other tasks are still graded;
- printed output kept up to 1 MB per stream and counted beyond, so that a notebook that
  prints gigabytes uses neither memory nor disk.

What it does NOT get. This protects the grading of a class against mistakes, not against a
student who attacks the grader:

- it runs as the same user, on the same machine, with the same network: it can read,
  change or delete any file that user can reach by an absolute path (the other
  submissions, the gradebook, the home folder), open network connections and signal the
  grader's processes; there is no container, chroot, namespace or seccomp filter;
- a process that leaves its session (``setsid``, a daemon's double fork) escapes the kill;
  the number of processes and threads is not limited (``RLIMIT_NPROC`` counts every
  process of the user, so it cannot be set per submission), so a fork bomb can hurt the
  machine; the memory limit bounds address space per process, not the machine's memory;
- the tests run in the same interpreter as the student's code, after it, so a notebook can
  change what they see (replace ``numpy`` functions, the checks, builtins) or write a fake
  result; the per-cell timer cannot stop a long computation inside compiled code, only the
  wall-clock kill can;
- hidden tests are hidden from the student notebook, not secret: they are in the masters
  and the solution notebooks of the repository.

For grading that must resist deliberate attacks, run each submission in a container or
virtual machine without network (for example ``otter grade``, which uses Docker).

POSIX only (``resource``, process groups, SIGALRM); tested on Linux. On macOS the address
space limit cannot be set and is skipped.
"""

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from .runner import load_manifest

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds lstm_lessons
# What a child's environment gets on top of the grader's.
CHILD_ENV = {
    "MPLBACKEND": "Agg",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TQDM_DISABLE": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}
SIGNAL_REASONS = {
    signal.SIGXCPU: "used more CPU time than allowed",
    signal.SIGKILL: "was killed (SIGKILL), perhaps by the system for using too much memory",
    signal.SIGSEGV: "crashed with a segmentation fault",
}


@dataclass(frozen=True)
class Limits:
    """What one submission may use; the defaults suit a notebook of small experiments."""

    timeout_s: float = 300.0  # wall clock for the whole submission
    cell_timeout_s: float = 60.0
    test_timeout_s: float = 30.0
    cpu_s: int = 300
    memory_mb: int = 4096
    file_mb: int = 64
    output_kb: int = 1024


def find_submissions(folder):
    folder = Path(folder)
    return sorted(
        p
        for p in folder.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.relative_to(folder).parts
    )


def _wait(proc, timeout_s):
    """Wait for the child without reaping it; True if it ended in time.

    Not reaping keeps its process id, which is its group's id, from being reused before
    the group is killed.
    """
    if not hasattr(os, "waitid"):  # macOS: wait and reap
        try:
            proc.wait(timeout_s)
            return True
        except subprocess.TimeoutExpired:
            return False
    deadline = time.monotonic() + timeout_s
    while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path, size=300):
    with open(path, "rb") as f:
        f.seek(max(path.stat().st_size - size, 0))
        return f.read().decode("utf-8", "replace").strip()


def run_submission(notebook, manifest, limits):
    """Run one submission in a child process; return its result (see ``_grade_worker``)."""
    with tempfile.TemporaryDirectory(prefix="lstm-grade-", ignore_cleanup_errors=True) as tmp:
        scratch = Path(tmp)
        work = scratch / "work"
        work.mkdir()
        shutil.copyfile(notebook, work / Path(notebook).name)
        manifest_path, result_path = scratch / "manifest.json", scratch / "result.json"
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
        pythonpath = os.pathsep.join(
            filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")])
        )
        env = {**os.environ, **CHILD_ENV, "PYTHONPATH": pythonpath}
        command = [
            sys.executable, "-m", "lstm_lessons.homework.worker", str(work / Path(notebook).name),
            str(manifest_path), str(result_path), json.dumps(asdict(limits)),
        ]  # fmt: skip
        log_path = scratch / "output.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            in_time = _wait(proc, limits.timeout_s)
            _kill_group(proc.pid)
            proc.wait()
        if not in_time:
            return {
                "status": "timed out",
                "error": f"stopped after {limits.timeout_s:g} s: the notebook did not finish "
                "(an endless loop that ignores the per-cell time limit?); nothing was graded",
            }
        try:
            return {"status": "graded", **json.loads(result_path.read_text(encoding="utf-8"))}
        except (OSError, ValueError):
            pass
        code = proc.returncode
        if code < 0:
            why = SIGNAL_REASONS.get(-code, f"was stopped by signal {signal.Signals(-code).name}")
            return {"status": "killed", "error": f"the notebook {why}; nothing was graded"}
        tail = _tail(log_path)
        return {
            "status": "crashed",
            "error": f"the grading process ended early (exit code {code}), perhaps because the "
            "notebook called exit; nothing was graded"
            + (f". Last output: {tail!r}" if tail else ""),
        }


def grade_submission(notebook, manifest, limits):
    """One gradebook row: {question: points}, total, possible, status and reasons."""
    result = run_submission(notebook, manifest, limits)
    if "error" in result and result["status"] == "graded":
        result["status"] = "unreadable"
    graded = {q["name"]: q for q in result.get("questions", [])}
    row, reasons = {}, []
    for question in manifest["questions"]:
        name = question["name"]
        if question["manual"]:
            row[name] = None
        elif name in graded:
            row[name] = graded[name]["score"]
            for failure in graded[name]["failures"]:
                hidden = " [hidden]" if failure["hidden"] else ""
                lost = f"-{failure['points']:g}"
                message = " ".join(failure["message"].split())  # one line per reason
                reasons.append(f"{name}{hidden}: {message} ({lost})")
        else:
            row[name] = 0
    if "error" in result:
        reasons.insert(0, result["error"])
    reasons += [f"note: {note}" for note in result.get("notes", [])]
    auto = [q for q in manifest["questions"] if not q["manual"]]
    return {
        "scores": row,
        "total": sum(row[q["name"]] for q in auto),
        "possible": sum(q["points"] for q in auto),
        "status": result["status"],
        "reasons": reasons,
    }


def grade_folder(folder, manifest, limits=Limits(), jobs=1):
    """Grade every submission in ``folder``: {relative path: row}, in path order."""
    notebooks = find_submissions(folder)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        rows = pool.map(lambda nb: grade_submission(nb, manifest, limits), notebooks)
        return {
            nb.relative_to(folder).as_posix(): row for nb, row in zip(notebooks, rows, strict=True)
        }


def _points(x):
    return "" if x is None else f"{round(x, 2):g}"


def write_gradebook(rows, manifest, path):
    names = [q["name"] for q in manifest["questions"]]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", *names, "total", "possible", "status", "reasons"])
        for submission, row in rows.items():
            writer.writerow(
                [submission]
                + [_points(row["scores"][n]) for n in names]
                + [_points(row["total"]), _points(row["possible"]), row["status"]]
                + [" | ".join(row["reasons"])]
            )


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m lstm_lessons.grade",
        description="Grade a folder of submitted notebooks with public and hidden tests.",
    )
    parser.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    parser.add_argument("--assignment", required=True, help="set name, or a solution notebook")
    parser.add_argument("--solutions", type=Path, default=Path("solutions"))
    parser.add_argument("--out", type=Path, default=Path("gradebook.csv"))
    parser.add_argument("--jobs", type=int, default=1, help="submissions run at once")
    defaults = Limits()
    parser.add_argument("--timeout", type=float, default=defaults.timeout_s, help="s per notebook")
    parser.add_argument("--cell-timeout", type=float, default=defaults.cell_timeout_s)
    parser.add_argument("--test-timeout", type=float, default=defaults.test_timeout_s)
    parser.add_argument("--cpu", type=int, default=defaults.cpu_s, help="CPU seconds")
    parser.add_argument("--memory", type=int, default=defaults.memory_mb, help="MB")
    args = parser.parse_args(argv)

    solution = Path(args.assignment)
    if solution.suffix != ".ipynb":
        solution = args.solutions / f"{args.assignment}.ipynb"
    manifest = load_manifest(solution)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    limits = Limits(
        timeout_s=args.timeout,
        cell_timeout_s=args.cell_timeout,
        test_timeout_s=args.test_timeout,
        cpu_s=args.cpu,
        memory_mb=args.memory,
    )
    rows = grade_folder(args.submissions, manifest, limits, args.jobs)
    write_gradebook(rows, manifest, args.out)
    for submission, row in rows.items():
        print(f"{submission}: {_points(row['total'])}/{_points(row['possible'])} ({row['status']})")
    print(f"{len(rows)} submissions graded; gradebook: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
