"""Grade a class: every submitted notebook of an exercise set, each in a sandbox of its own.

    python -m lstm_lessons.grade SUBMISSIONS --assignment ch01_simple_rnn --out gradebook.csv

SUBMISSIONS is a folder of submitted notebooks, searched recursively; each file is one
submission, named in the gradebook by its path inside the folder (``.IPYNB`` and other
spellings of the suffix count too, and are noted; ``.ipynb_checkpoints`` folders do not).
The tests, public and hidden, come from the grading manifest in the metadata of
``solutions/<assignment>.ipynb`` (``--solutions`` names another folder; ``--assignment`` may
also be the path of a solution notebook); ``--extra-tests FILE.json`` adds an instructor's
own hidden tests that are in no public file (README, "For instructors").

How a submission is graded (see :mod:`lstm_lessons.homework.sandbox` for the sandbox):

1. before any submission runs, every one is copied into a private folder of the grader and
   hashed (SHA-256); the copy is what is graded and the hash goes into the gradebook;
2. the grader reads the copy's code cells and sends them, one by one, to a child process
   in a sandbox that holds none of: the submissions, the copies, the manifest, the
   solutions, the gradebook, the network, other processes;
3. the checks run here, in the grader, with their own reference computations: a check
   asks the child to call the student's function on inputs it sends and compares the
   answer with its own; a test that takes a value (``gap``, ``slope``) gets the value from
   the child, as numbers and arrays only. What the notebook does to its own process
   (replacing the checks, NumPy or the package, writing files, exiting) changes only what
   its own functions return;
4. the row is what the grader saw; the gradebook is written atomically after each
   submission, with every row and every hand mark (an interrupted run loses neither);
5. a re-run takes the row of a submission graded before with the same file, grader version
   and options from ``<out>.d/rows/`` instead of running it again.

The gradebook (CSV) has one row per file: its SHA-256, the points of each question (a
written answer is left for a person, and what a person enters there is kept when the grading
is run again), the total and the points possible of the automatic part, a status
(``graded``, ``timed out``, ``unreadable``, ``not graded``) and the reasons: one per lost
point, then notes (cells that failed, duplicates, a missing sandbox). Beside it, in
``<out>.d/``: a feedback file per submission, the written answers of the class in one file,
a summary with a score histogram, and grade CSVs that Canvas and Moodle import (``--roster``
maps submissions to students). The modules: :mod:`lstm_lessons.homework.collect` (finding
and reading), :mod:`lstm_lessons.homework.score` (one row),
:mod:`lstm_lessons.homework.gradebook` (what is written), :mod:`lstm_lessons.homework.cli`
(the command).

POSIX only; the sandbox needs Linux with bubblewrap. Tested on Linux.
"""

import hashlib
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from .collect import (
    CHECK_CELL,
    MAX_NOTEBOOK_MB,
    SEED,
    copy_and_hash,
    find_submissions,
    not_notebooks,
    read_cells,
    reseed,
)
from .gradebook import (
    RowCache,
    escape_cell,
    manual_marks,
    options_key,
    read_gradebook,
    read_roster,
    write_gradebook,
    write_reports,
)
from .sandbox import bwrap_path
from .score import (
    NEAR_DUPLICATE,
    REASON_CHARS,
    Limits,
    Stop,
    add_extra_tests,
    flag_duplicates,
    grade_submission,
    not_graded_row,
    run_submission,
)

__all__ = [
    "CHECK_CELL",
    "MAX_NOTEBOOK_MB",
    "NEAR_DUPLICATE",
    "REASON_CHARS",
    "SEED",
    "Limits",
    "RowCache",
    "Stop",
    "add_extra_tests",
    "copy_and_hash",
    "escape_cell",
    "find_submissions",
    "flag_duplicates",
    "grade_folder",
    "grade_submission",
    "main",
    "manual_marks",
    "not_graded_row",
    "not_notebooks",
    "options_key",
    "read_cells",
    "read_gradebook",
    "read_roster",
    "reseed",
    "run_submission",
    "write_gradebook",
    "write_reports",
]


def _file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def grade_folder(folder, manifest, limits=None, jobs=1, progress=None, on_row=None,
                 use_bwrap=None, secret=None, cache=None, client=None):  # fmt: skip
    """Grade every submission in ``folder``: {relative path: row}, in path order.

    Copies and hashes every submission first. Every file gets a row: a file that is not a
    notebook gets one with the status ``not graded`` and why. ``progress(done, total, name,
    row)`` is called as each row is ready, ``on_row(rows so far)`` too (for a partial
    gradebook). ``secret`` re-seeds the notebooks' given cells (:func:`reseed`). ``cache``
    (a :class:`lstm_lessons.homework.gradebook.RowCache`) gives the rows of submissions
    graded before with the same file, grader version and options, which are not run again,
    and keeps each new row as soon as it is graded. ``client`` (a ``distributed.Client``)
    grades each submission as a task on the cluster's workers instead of ``jobs`` threads here
    (:mod:`lstm_lessons.homework.cluster`); the rows are the same.

    A ``KeyboardInterrupt`` (Ctrl-C) stops the running sandboxes at once, drops the rows
    they had not finished, cancels the rest and is raised again: the rows passed to
    ``on_row`` so far are every row that was finished.
    """
    if limits is None:
        limits = Limits()
    if use_bwrap is None:
        use_bwrap = bwrap_path() is not None
    folder = Path(folder)
    notebooks, found_notes = find_submissions(folder)
    others = not_notebooks(folder)
    total = len(notebooks) + len(others)
    rows = {}

    def record(name, row):
        rows[name] = row
        if progress:
            progress(len(rows), total, name, row)
        if on_row:
            on_row(dict(sorted(rows.items())))

    def keep(name, digest, row):
        if cache is not None and row["status"] not in ("timed out", "not graded"):
            cache.put(digest, row)
        record(name, {"sha256": digest, **row})

    with tempfile.TemporaryDirectory(prefix="lstm-grade-copies-") as private:
        os.chmod(private, 0o700)
        copies = copy_and_hash(folder, notebooks, private)
        for name, reason in sorted(others.items()):
            record(name, {"sha256": _file_sha256(folder / name),
                          **not_graded_row(manifest, reason)})  # fmt: skip
        todo = {}
        for name, (copy, digest) in copies.items():
            kept = cache.get(digest) if cache is not None else None
            if kept is not None:
                record(name, {**kept, "sha256": digest, "unchanged": True})
            else:
                todo[name] = (copy, digest)
        if client is not None:
            from .cluster import grade_on_cluster

            finished = grade_on_cluster(client, todo, manifest, limits, use_bwrap, secret)
            try:
                for name, digest, row in finished:
                    keep(name, digest, row)
            finally:
                finished.close()
        else:
            stop = Stop()
            pool = ThreadPoolExecutor(max_workers=jobs)
            try:
                futures = {
                    pool.submit(grade_submission, copy, manifest, limits, use_bwrap, secret,
                                stop): (name, digest)
                    for name, (copy, digest) in todo.items()
                }  # fmt: skip
                for future in as_completed(futures):
                    name, digest = futures[future]
                    keep(name, digest, future.result())
            except BaseException:
                stop.stop()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            pool.shutdown(wait=True)
    rows = dict(sorted(rows.items()))
    flag_duplicates(rows)
    for note in found_notes:
        name, _, what = note.partition(": ")
        if name in rows and rows[name]["status"] != "not graded":
            rows[name]["reasons"].append(f"note: {what}")
    return rows


def main(argv=None):
    """The command line (:func:`lstm_lessons.homework.cli.main`)."""
    from .cli import main as cli_main

    return cli_main(argv)
