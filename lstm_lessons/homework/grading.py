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
   submission (an interrupted run leaves a gradebook of those graded so far).

The gradebook (CSV) has one row per submission: its SHA-256, the points of each question
(a written answer is left for a person, and what a person enters there is kept when the
grading is run again), the total and the points possible of the automatic part, a status
(``graded``, ``timed out``, ``unreadable``) and the reasons: one per lost point, then notes
(cells that failed, duplicates, a missing sandbox). Beside it, in ``<out>.d/``: a feedback
file per submission, the written answers of the class in one file, a summary with a score
histogram, and grade CSVs that Canvas and Moodle import (``--roster`` maps submissions to
students).

POSIX only; the sandbox needs Linux with bubblewrap. Tested on Linux.
"""

import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

from .collect import (
    CHECK_CELL,
    MAX_NOTEBOOK_MB,
    SEED,
    copy_and_hash,
    find_submissions,
    read_cells,
    reseed,
)
from .gradebook import manual_marks, read_roster, write_gradebook, write_reports
from .sandbox import bwrap_path
from .score import (
    NEAR_DUPLICATE,
    REASON_CHARS,
    Limits,
    add_extra_tests,
    flag_duplicates,
    grade_submission,
    run_submission,
)

__all__ = [
    "CHECK_CELL",
    "MAX_NOTEBOOK_MB",
    "NEAR_DUPLICATE",
    "REASON_CHARS",
    "SEED",
    "Limits",
    "add_extra_tests",
    "copy_and_hash",
    "find_submissions",
    "flag_duplicates",
    "grade_folder",
    "grade_submission",
    "main",
    "manual_marks",
    "read_cells",
    "read_roster",
    "reseed",
    "run_submission",
    "write_gradebook",
    "write_reports",
]


def grade_folder(folder, manifest, limits=None, jobs=1, progress=None, on_row=None,
                 use_bwrap=None, secret=None):  # fmt: skip
    """Grade every submission in ``folder``: {relative path: row}, in path order.

    Copies and hashes every submission first. ``progress(done, total, name, row)`` is called
    as each finishes, ``on_row(rows so far)`` too (for a partial gradebook). ``secret``
    re-seeds the notebooks' given cells (:func:`reseed`).
    """
    if limits is None:
        limits = Limits()
    if use_bwrap is None:
        use_bwrap = bwrap_path() is not None
    notebooks, found_notes = find_submissions(folder)
    with tempfile.TemporaryDirectory(prefix="lstm-grade-copies-") as private:
        os.chmod(private, 0o700)
        copies = copy_and_hash(folder, notebooks, private)
        rows, lock = {}, threading.Lock()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {
                pool.submit(grade_submission, copy, manifest, limits, use_bwrap, secret): (
                    name,
                    digest,
                )
                for name, (copy, digest) in copies.items()
            }
            for future in as_completed(futures):
                name, digest = futures[future]
                row = {"sha256": digest, **future.result()}
                with lock:
                    rows[name] = row
                    if progress:
                        progress(len(rows), len(copies), name, row)
                    if on_row:
                        on_row(dict(sorted(rows.items())))
    rows = dict(sorted(rows.items()))
    flag_duplicates(rows)
    for note in found_notes:
        name = note.split(":")[0]
        if name in rows:
            rows[name]["reasons"].append(f"note: {note.split(': ', 1)[1]}")
    grade_folder.found_notes = found_notes
    return rows


def main(argv=None):
    """The command line (:func:`lstm_lessons.homework.cli.main`)."""
    from .cli import main as cli_main

    return cli_main(argv)
