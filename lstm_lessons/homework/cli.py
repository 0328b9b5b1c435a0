"""The command line of class grading: ``python -m lstm_lessons.grade`` (``lstm-lessons-grade``)."""

import argparse
import sys
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from .cluster import open_client, require_distributed
from .collect import find_submissions, not_notebooks
from .gradebook import (
    RowCache,
    manual_marks_total,
    options_key,
    points_text,
    printable,
    read_gradebook,
    read_roster,
    write_gradebook,
    write_reports,
)
from .grading import grade_folder
from .runner import load_manifest
from .sandbox import NO_SANDBOX_WARNING, bwrap_path
from .score import Limits, add_extra_tests

#: A secret shorter than this (32 hex digits: 128 bits) is warned about.
MIN_SECRET = 32


def main(argv=None):
    """Grade a class from the command line; 0 when done, 130 when stopped with Ctrl-C."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _main(argv):
    parser = argparse.ArgumentParser(
        prog="python -m lstm_lessons.grade",
        description="Grade a folder of submitted notebooks with public and hidden tests.",
    )
    parser.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    parser.add_argument("--assignment", required=True, help="set name, or a solution notebook")
    parser.add_argument("--solutions", type=Path, default=Path("solutions"))
    parser.add_argument("--out", type=Path, default=Path("gradebook.csv"))
    parser.add_argument("--jobs", type=int, default=1, help="submissions run at once")
    parser.add_argument("--roster", type=Path, help="CSV: submission, name, id, email")
    parser.add_argument("--extra-tests", type=Path, help="JSON of the instructor's hidden tests")
    parser.add_argument("--no-sandbox", action="store_true", help="(unsafe) grade without bwrap")
    parser.add_argument(
        "--secret-file", type=Path, help="re-seed the notebooks' data from the secret in this file"
    )
    defaults = Limits()
    parser.add_argument("--timeout", type=float, default=defaults.timeout_s, help="s per notebook")
    parser.add_argument("--cell-timeout", type=float, default=defaults.cell_timeout_s)
    parser.add_argument("--test-timeout", type=float, default=defaults.test_timeout_s)
    parser.add_argument("--cpu", type=int, default=defaults.cpu_s, help="CPU seconds")
    parser.add_argument("--memory", type=int, default=defaults.memory_mb, help="MB")
    parser.add_argument(
        "--regrade", action="store_true",
        help="grade every submission again, even one graded before with the same file, "
        "grader version and options",
    )  # fmt: skip
    parser.add_argument(
        "--canvas-assignment-id", help="the Canvas assignment's ID, for the column of canvas.csv"
    )
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument(
        "--dask", metavar="ADDRESS",
        help="grade each submission as a task on the Dask cluster whose scheduler is at "
        "ADDRESS (e.g. tcp://10.0.0.5:8786); needs the extra grading-cluster",
    )  # fmt: skip
    cluster.add_argument(
        "--dask-local", metavar="N", type=int,
        help="grade on a Dask LocalCluster of N worker processes (one thread each) on this "
        "machine; needs the extra grading-cluster",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.dask_local is not None and args.dask_local < 1:
        parser.error(f"--dask-local: expected a number of workers of at least 1, got "
                     f"{args.dask_local}")  # fmt: skip
    on_cluster = args.dask is not None or args.dask_local is not None
    if on_cluster and args.jobs != 1:
        parser.error(
            "--jobs counts the submissions graded at once on this machine; with --dask or "
            "--dask-local the workers' threads set that: leave --jobs out"
        )
    if on_cluster:
        try:
            require_distributed("--dask" if args.dask is not None else "--dask-local")
        except RuntimeError as e:
            parser.error(str(e))

    solution = Path(args.assignment)
    if solution.suffix != ".ipynb":
        solution = args.solutions / f"{args.assignment}.ipynb"
    manifest = load_manifest(solution)
    if args.extra_tests:
        manifest = add_extra_tests(manifest, args.extra_tests)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    roster = read_roster(args.roster) if args.roster else None
    if args.canvas_assignment_id is not None and not args.canvas_assignment_id.isdigit():
        parser.error(f"--canvas-assignment-id: expected the assignment's number, got "
                     f"{args.canvas_assignment_id!r}")  # fmt: skip
    limits = replace(
        Limits(),
        timeout_s=args.timeout,
        cell_timeout_s=args.cell_timeout,
        test_timeout_s=args.test_timeout,
        cpu_s=args.cpu,
        memory_mb=args.memory,
    )
    use_bwrap = False if args.no_sandbox else bwrap_path() is not None
    if not use_bwrap:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
    if not args.out.parent.is_dir():
        parser.error(f"--out: expected the gradebook's file in an existing folder; "
                     f"{args.out.parent} does not exist")  # fmt: skip
    secret = None
    if args.secret_file:
        try:
            secret = args.secret_file.read_text().strip()
        except OSError as e:
            parser.error(f"--secret-file: cannot read {args.secret_file}: {e.strerror}")
        if not secret:
            parser.error(f"--secret-file: {args.secret_file} is empty; expected a random secret")
        if len(secret) < MIN_SECRET:
            print(f"warning: the secret has {len(secret)} characters; anyone can test guesses "
                  "of it offline: use a random one of at least 128 bits (32 hex digits)",
                  file=sys.stderr)  # fmt: skip
    start = time.monotonic()
    # The earlier gradebook is read once, before anything is written: its hand marks go into
    # every write, and its rows stay until their submissions are graded again.
    marks, earlier = read_gradebook(args.out, manifest)
    notebooks, notes = find_submissions(args.submissions)
    present = {p.relative_to(args.submissions).as_posix() for p in notebooks}
    present |= set(not_notebooks(args.submissions))
    carried = {s: r for s, r in earlier.items() if s in present}
    cache = None
    if not args.regrade:
        key = options_key(manifest, limits, use_bwrap, secret)
        cache = RowCache(Path(f"{args.out}.d") / "rows", key)

    def progress(done, total, name, row):
        score = f"{points_text(row['total'])}/{points_text(row['possible'])}"
        how = ", unchanged: not graded again" if row.get("unchanged") else ""
        print(f"[{done}/{total}] {printable(name)}: {score} ({row['status']}{how}), "
              f"{time.monotonic() - start:.0f} s", file=sys.stderr)  # fmt: skip

    def partial(rows):
        write_gradebook(rows, manifest, args.out, kept=marks, carried=carried)

    try:
        with ExitStack() as stack:
            client = None
            if on_cluster:
                client = stack.enter_context(open_client(args.dask, args.dask_local))
            rows = grade_folder(args.submissions, manifest, limits, args.jobs, progress,
                                partial, use_bwrap, secret, cache, client)  # fmt: skip
        partial(rows)
        reports = write_reports(rows, manifest, args.out, roster, marks={
            s: manual_marks_total(m) for s, m in marks.items()}, notes=notes,
            canvas_assignment_id=args.canvas_assignment_id)  # fmt: skip
    except KeyboardInterrupt:
        print(f"interrupted; the gradebook {args.out} holds every row graded so far and "
              "the earlier rows of the rest", file=sys.stderr)  # fmt: skip
        return 130
    for submission, row in rows.items():
        score = f"{points_text(row['total'])}/{points_text(row['possible'])}"
        print(f"{printable(submission)}: {score} ({row['status']})")
    again = sum(1 for row in rows.values() if row.get("unchanged"))
    print(f"{len(rows)} files in {time.monotonic() - start:.0f} s ({again} unchanged, not "
          f"graded again); gradebook: {args.out}; feedback, summary, LMS files: {reports}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
