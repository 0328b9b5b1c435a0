"""Mutation testing, one hand-picked single-line change at a time.

Usage: python tools/mutate.py [--list FILE] [--out FILE] [--only ID ...] [--timeout S]
                              [--tests-from REV] [--no-baseline]

Each mutation in the list (default tools/mutations.txt) names a file, a line,
the text to replace on that line, its replacement and the tests to run. For
each one this script changes that line in a scratch copy of the repository
(the files git tracks, plus untracked ones it does not ignore), runs
``python -m pytest -x -q`` on the named tests with PYTHONPATH pointing at the
copy, and restores the line. A mutant is *killed* when pytest fails, *survived*
when it passes; *timeout* and *error* (pytest could not run) are recorded too.
Every test group also runs once unmutated first: a group that fails there
makes its mutants *invalid* instead of falsely killed.

The list is tab-separated, one mutation a line; ``#`` starts a comment line:

    ID <TAB> path <TAB> line <TAB> old text <TAB> new text <TAB> tests (space-separated)

The line number is a hint: when the old text is not on that line (the file has
moved on), the one line of the file that contains it is used, and the new line
number is reported; old text found on no line or on several is an error.
Results go to a tab-separated table (--out, default _build/mutation/results.tsv)
and a summary is printed. ``--tests-from main`` runs main's tests instead of the
working tree's, to see which mutants the suite caught before new tests were added
(test files that REV lacks are left out).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent


class Mutation(NamedTuple):
    id: str
    path: str
    line: int
    old: str
    new: str
    tests: tuple


def read_mutations(path):
    """The mutations of a list file; ValueError naming the line of a malformed entry."""
    mutations = []
    for number, text in enumerate(Path(path).read_text().splitlines(), 1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        fields = text.split("\t")
        if len(fields) != 6 or not fields[2].strip().isdigit():
            raise ValueError(
                f"{path}:{number}: expected 6 tab-separated fields "
                f"(id, path, line, old, new, tests), got {len(fields)}: {text!r}"
            )
        mid, file, line, old, new, tests = fields
        if not old or old == new:
            raise ValueError(f"{path}:{number}: {mid}: old text must be non-empty and differ")
        mutations.append(Mutation(mid, file, int(line), old, new, tuple(tests.split())))
    ids = [m.id for m in mutations]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: mutation ids must be unique, got duplicates")
    return mutations


def locate(lines, mutation):
    """The 0-based index of the line to mutate (see the module docstring)."""
    hint = mutation.line - 1
    if 0 <= hint < len(lines) and mutation.old in lines[hint]:
        return hint
    found = [k for k, text in enumerate(lines) if mutation.old in text]
    if len(found) != 1:
        raise LookupError(
            f"{mutation.id}: {mutation.old!r} is on {len(found)} lines of {mutation.path}, "
            f"not on line {mutation.line}"
        )
    return found[0]


def scratch_copy(dest):
    """Copy the repository's tracked and untracked-but-not-ignored files to ``dest``."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        src = ROOT / os.fsdecode(name)
        if src.is_file():
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def replace_tests(copy, rev):
    """Put the tests/ folder of git revision ``rev`` in place of the copy's."""
    shutil.rmtree(copy / "tests")
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "tests"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(copy)], input=archive, check=True)


def run_tests(copy, tests, timeout):
    """('passed' | 'failed' | 'timeout' | 'error', seconds, last line of pytest's output)."""
    env = dict(
        os.environ,
        PYTHONPATH=str(copy),
        PYTHONDONTWRITEBYTECODE="1",  # no stale .pyc of a mutant survives its restore
        TQDM_DISABLE="1",
        PYTHONHASHSEED="0",
    )
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    start = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start, ""
    seconds = time.monotonic() - start
    tail = (done.stdout.strip().splitlines() or [""])[-1]
    # pytest: 0 all passed, 1 a test failed, 2 interrupted (with -x: a module that no longer
    # imports, which a mutant can cause); anything else (usage, internal error) is an error.
    status = {0: "passed", 1: "failed", 2: "failed"}.get(done.returncode, "error")
    return status, seconds, tail


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", default=ROOT / "tools" / "mutations.txt", type=Path)
    parser.add_argument("--out", default=ROOT / "_build" / "mutation" / "results.tsv", type=Path)
    parser.add_argument("--only", nargs="+", help="run only these mutation ids")
    parser.add_argument("--timeout", default=900, type=float, help="seconds per pytest run")
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the unmutated runs (when the suite is known to pass, e.g. on CI)",
    )
    parser.add_argument(
        "--tests-from",
        metavar="REV",
        help="run the tests/ folder of git revision REV (e.g. main) instead of the working tree's",
    )
    args = parser.parse_args(argv)

    mutations = read_mutations(args.list)
    if args.only:
        unknown = set(args.only) - {m.id for m in mutations}
        if unknown:
            parser.error(f"--only: unknown mutation ids {sorted(unknown)}")
        mutations = [m for m in mutations if m.id in args.only]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mutate-") as tmp:
        copy = Path(tmp)
        scratch_copy(copy)
        if args.tests_from:
            replace_tests(copy, args.tests_from)
        if args.tests_from:  # test files that REV lacks are left out of every group
            mutations = [
                m._replace(tests=tuple(t for t in m.tests if (copy / t.split("::")[0]).exists()))
                for m in mutations
            ]
        baseline = {}
        for tests in dict.fromkeys(m.tests for m in mutations):
            if args.no_baseline:
                baseline[tests] = "passed"
                continue
            status, seconds, tail = run_tests(copy, tests, args.timeout)
            baseline[tests] = status
            print(f"baseline {' '.join(tests)}: {status} ({seconds:.0f} s) {tail}", flush=True)
        for m in mutations:
            path = copy / m.path
            original = path.read_text()
            lines = original.splitlines(keepends=True)
            try:
                k = locate(lines, m)
            except (LookupError, FileNotFoundError) as exc:
                rows.append((m, m.line, "error", 0.0, str(exc)))
                print(f"{m.id}: error: {exc}", flush=True)
                continue
            if baseline[m.tests] != "passed":
                rows.append((m, k + 1, "invalid", 0.0, "the tests fail unmutated"))
                continue
            lines[k] = lines[k].replace(m.old, m.new, 1)
            path.write_text("".join(lines))
            try:
                status, seconds, tail = run_tests(copy, m.tests, args.timeout)
            finally:
                path.write_text(original)
            result = {"failed": "killed", "passed": "survived"}.get(status, status)
            rows.append((m, k + 1, result, seconds, tail))
            print(f"{m.id}: {result} ({seconds:.0f} s) {m.path}:{k + 1} {tail}", flush=True)

    with open(args.out, "w") as out:
        out.write("id\tpath\tline\tresult\tseconds\told\tnew\ttests\tpytest\n")
        for m, line, result, seconds, tail in rows:
            out.write(
                f"{m.id}\t{m.path}\t{line}\t{result}\t{seconds:.0f}\t{m.old}\t{m.new}\t"
                f"{' '.join(m.tests)}\t{tail}\n"
            )
    counts = {}
    for _, _, result, _, _ in rows:
        counts[result] = counts.get(result, 0) + 1
    print(", ".join(f"{n} {r}" for r, n in sorted(counts.items())) + f"; table: {args.out}")
    survivors = [m.id for m, _, result, _, _ in rows if result == "survived"]
    if survivors:
        print("survived: " + " ".join(survivors))
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
