"""The command line of class grading: ``python -m lstm_lessons.grade`` (``lstm-lessons-grade``)."""

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from .gradebook import points_text, read_roster, write_gradebook, write_reports
from .grading import grade_folder
from .runner import load_manifest
from .sandbox import NO_SANDBOX_WARNING, bwrap_path
from .score import Limits, add_extra_tests


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
    args = parser.parse_args(argv)

    solution = Path(args.assignment)
    if solution.suffix != ".ipynb":
        solution = args.solutions / f"{args.assignment}.ipynb"
    manifest = load_manifest(solution)
    if args.extra_tests:
        manifest = add_extra_tests(manifest, args.extra_tests)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    roster = read_roster(args.roster) if args.roster else None
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
    start = time.monotonic()

    def progress(done, total, name, row):
        score = f"{points_text(row['total'])}/{points_text(row['possible'])}"
        print(f"[{done}/{total}] {name}: {score} ({row['status']}), "
              f"{time.monotonic() - start:.0f} s", file=sys.stderr)  # fmt: skip

    def partial(rows):
        write_gradebook(rows, manifest, args.out)

    try:
        secret = args.secret_file.read_text().strip() if args.secret_file else None
        rows = grade_folder(args.submissions, manifest, limits, args.jobs, progress, partial,
                            use_bwrap, secret)  # fmt: skip
    except KeyboardInterrupt:
        print(f"interrupted; the gradebook {args.out} holds the submissions graded so far",
              file=sys.stderr)  # fmt: skip
        return 130
    write_gradebook(rows, manifest, args.out)
    reports = write_reports(rows, manifest, args.out, roster)
    for submission, row in rows.items():
        score = f"{points_text(row['total'])}/{points_text(row['possible'])}"
        print(f"{submission}: {score} ({row['status']})")
    print(f"{len(rows)} submissions graded in {time.monotonic() - start:.0f} s; "
          f"gradebook: {args.out}; feedback, summary, LMS files: {reports}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
