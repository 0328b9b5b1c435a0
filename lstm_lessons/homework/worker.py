"""The child process of the class grader: run one submitted notebook, then its tests.

    python -m lstm_lessons.homework.worker NOTEBOOK MANIFEST RESULT LIMITS

``lstm_lessons.homework.grading`` starts this in a fresh working directory that holds only a copy of
the notebook, in a session of its own, with its output going to a file. In order, it

1. sets its resource limits (CPU seconds, address space, size of any file it writes, no
   core dumps), so that they hold for everything the notebook does;
2. reads the manifest (the tests) and the notebook, before any student code runs;
3. runs the notebook's code cells one by one in an IPython shell (magics work, no Jupyter
   kernel), each under a wall-clock time limit, and goes on after a cell that fails, as a
   student's "Run all" would not, so that one broken task costs only its own points;
   the ``grader.check`` cells are skipped, since step 4 runs their tests and more;
4. runs every test of the manifest against the notebook's variables, each under a time
   limit, and writes the scores, the reasons for lost points and notes on failed cells
   as JSON to RESULT; then it ends with ``os._exit``, so that threads the notebook left
   running cannot keep it alive.

Printed output is kept up to a cap and counted beyond it. LIMITS is the JSON of
``lstm_lessons.homework.grading.Limits``.
"""

import json
import os
import re
import resource
import signal
import sys
from contextlib import contextmanager

import nbformat

from .runner import TestResult, TimeLimitExceeded, run_question, run_test

MB = 1 << 20
CHECK_CELL = re.compile(r"""^\s*grader\.check(_all)?\((["'][\w-]+["'])?\)\s*$""")


def set_limits(limits):
    cpu = limits["cpu_s"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limits["memory_mb"] * MB,) * 2)
    except (ValueError, OSError):  # macOS does not support it; grade without
        pass
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_mb"] * MB,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Past the file-size limit, a write fails with an OSError instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


class CappedStream:
    """A text stream that passes on the first ``cap`` bytes and counts the rest."""

    def __init__(self, stream, cap):
        self.stream, self.cap, self.written, self.discarded = stream, cap, 0, 0

    def write(self, text):
        data = text.encode("utf-8", "replace")
        room = max(self.cap - self.written, 0)
        if room:
            self.stream.write(data[:room].decode("utf-8", "ignore"))
            self.written += min(room, len(data))
        self.discarded += max(len(data) - room, 0)
        return len(text)

    def flush(self):
        self.stream.flush()

    def isatty(self):
        return False

    def __getattr__(self, name):  # encoding, fileno, ... as the real stream has them
        return getattr(self.stream, name)


@contextmanager
def time_limit(seconds, what):
    """Raise ``TimeLimitExceeded`` into the running code after ``seconds`` of wall time."""

    def expire(signum, frame):
        raise TimeLimitExceeded(
            f"{what} ran longer than {seconds:g} s and was stopped (an endless loop?)."
        )

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def make_shell(ipython_dir):
    os.environ["IPYTHONDIR"] = ipython_dir
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    return InteractiveShell.instance(config=config)


def describe(cell_number, source):
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return f"code cell {cell_number} ({first[:40]}{'...' if len(first) > 40 else ''})"


def run_cells(nb, shell, seconds):
    """Run every code cell; return notes on the cells that failed or ran too long."""
    notes = []
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        if CHECK_CELL.match(cell.source):
            continue
        where = describe(number, cell.source)
        try:
            with time_limit(seconds, where):
                result = shell.run_cell(cell.source, store_history=False)
            error = result.error_before_exec or result.error_in_exec
        except TimeLimitExceeded as e:  # the timer fired outside the cell's own code
            error = e
        if isinstance(error, TimeLimitExceeded):
            notes.append(str(error))
        elif error is not None:
            notes.append(f"{where} raised {type(error).__name__}: {error}")
    return notes


def main(notebook, manifest_path, result_path, limits):
    set_limits(limits)
    stdout = sys.stdout = CappedStream(sys.stdout, limits["output_kb"] * 1024)
    stderr = sys.stderr = CappedStream(sys.stderr, limits["output_kb"] * 1024)
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    result = {"questions": [], "notes": []}
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as e:
        result["error"] = f"not a readable notebook: {type(e).__name__}: {e}"
        nb = None
    if nb is not None:
        shell = make_shell(os.path.join(os.path.dirname(result_path), "ipython"))
        result["notes"] = run_cells(nb, shell, limits["cell_timeout_s"])

        def run_timed(question, test, env):
            try:
                with time_limit(limits["test_timeout_s"], f"the check {test['name']}"):
                    return run_test(question, test, env)
            except TimeLimitExceeded as e:  # the timer fired just outside the test
                return TestResult(
                    question, test["name"], test["hidden"], test["points"], False, str(e)
                )

        for question in manifest["questions"]:
            graded = run_question(question, shell.user_ns, run=run_timed)
            result["questions"].append(
                {
                    "name": graded.name,
                    "score": graded.score,
                    "failures": [r._asdict() for r in graded.results if not r.passed],
                }
            )
    discarded = stdout.discarded + stderr.discarded
    if discarded:
        result["notes"].append(
            f"the notebook printed {discarded / MB:.1f} MB more than the "
            f"{limits['output_kb']} KB of output kept; the rest was discarded"
        )
    with open(result_path, "w", encoding="utf-8") as f:
        json.dump(result, f)
    sys.__stdout__.flush()
    sys.__stderr__.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))
