"""The child of the class grader: it runs one submission's code and answers requests.

    python -m lstm_lessons.homework.worker LIMITS

:mod:`lstm_lessons.homework.sandbox` starts this inside the sandbox. The child never sees
a test, the manifest or the gradebook, and what it says is never trusted. In order, it

1. sets its resource limits (CPU seconds, address space, size of any file it writes,
   processes, no core dumps) and, started as root, becomes an unprivileged user, so that
   the limits hold for everything the notebook does;
2. keeps its standard input and output for the grader's messages (one JSON line each, see
   :mod:`lstm_lessons.homework.protocol`) and points file descriptors 0, 1 and 2 at
   /dev/null and a log file, so that the notebook's prints cannot mix with the messages;
3. answers the grader's requests one by one:

   ``cell``  run a code cell of the notebook in an IPython shell, under a time limit;
   ``get``   what a name of the notebook holds: a function (its name and source) or a
             value (numbers and arrays only; anything else is only described);
   ``call``  call a function of the notebook on the arguments sent, under a time limit;
             reply with what it returned and with the arguments it changed in place, or
             with the exception it raised (type, message, the student's line);
   ``exit``  end at once with ``os._exit``, so that threads left running cannot keep it.

The checks and the references they compare with run in the grader, outside the sandbox:
nothing the notebook does to this process (replacing the checks, NumPy, the package's
cells, writing files) changes how it is graded, only what its own functions return.
LIMITS is the JSON of ``lstm_lessons.homework.grading.Limits`` plus ``uid``/``gid``.
"""

import json
import os
import resource
import signal
import sys
import warnings
from contextlib import contextmanager

import numpy as np

from .checks.calling import source_of, student_line
from .protocol import MAX_LINE, ProtocolError, decode, dumps, encode, loads
from .runner import TimeLimitExceeded

MB = 1 << 20
SOURCE_LIMIT = 20_000  # characters of a function's source sent to the grader


def set_limits(limits):
    cpu = int(limits["cpu_s"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limits["memory_mb"] * MB,) * 2)
    except (ValueError, OSError):  # macOS does not support it; grade without
        pass
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_mb"] * MB,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.get("processes"):
        n = int(limits["processes"])
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
    # Past the file-size limit, a write fails with an OSError instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def drop_privileges(uid, gid):
    """As root, become ``uid``/``gid`` for good (RLIMIT_NPROC does not bind root)."""
    if os.getuid() != 0 or uid is None:
        return
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("could not drop privileges")


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


def _snapshot(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_snapshot(v) for v in value)
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    return value


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _encode_or_describe(value):
    try:
        return encode(value)
    except (ProtocolError, RecursionError):
        return {"$other": type(value).__qualname__, "text": ""}


def _exception(e):
    return {
        "raised": type(e).__name__,
        "module": type(e).__module__,
        "message": str(e)[:2000],
        "line": student_line(e),
    }


class Child:
    def __init__(self, shell, stdout, stderr):
        self.shell, self.stdout, self.stderr = shell, stdout, stderr

    def cell(self, request):
        source, seconds = str(request["source"]), float(request["timeout"])
        try:
            with time_limit(seconds, "this cell"):
                result = self.shell.run_cell(source, store_history=False)
            error = result.error_before_exec or result.error_in_exec
        except TimeLimitExceeded as e:  # the timer fired outside the cell's own code
            error = e
        if error is None:
            return {"ok": True}
        return {"ok": False, "timed_out": isinstance(error, TimeLimitExceeded), **_exception(error)}

    def get(self, request):
        name = str(request["name"])
        ns = self.shell.user_ns
        if name not in ns:
            return {"kind": "missing"}
        value = ns[name]
        if callable(value) and not isinstance(value, (np.ndarray, np.generic, type)):
            return {
                "kind": "function",
                "name": str(getattr(value, "__name__", ""))[:100],
                "source": source_of(value)[:SOURCE_LIMIT],
            }
        return {"kind": "value", "value": _encode_or_describe(value)}

    def call(self, request):
        fn = self.shell.user_ns.get(str(request["name"]))
        if not callable(fn):
            return {"raised": "NameError", "module": "builtins", "message": "not defined"}
        args = decode(request["args"], functions=True)
        if not isinstance(args, list):
            raise ProtocolError("call arguments must be a list")
        before = [_snapshot(a) for a in args]
        seconds = float(request["timeout"])
        try:
            with warnings.catch_warnings(), np.errstate(**request.get("errstate", {})):
                if request.get("warnings_are_errors"):
                    warnings.simplefilter("error", RuntimeWarning)
                with time_limit(seconds, "the call"):
                    result = fn(*args)
        except TimeLimitExceeded as e:
            return {"timed_out": True, "message": str(e)}
        except BaseException as e:  # anything, SystemExit included, is the student's answer
            return _exception(e)
        changed = {
            str(k): _encode_or_describe(a)
            for k, (a, b) in enumerate(zip(args, before, strict=True))
            if not _same(a, b)
        }
        return {"result": _encode_or_describe(result), "changed": changed}

    def output(self, request):
        cpu = sum(
            u.ru_utime + u.ru_stime
            for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        )
        return {"discarded": self.stdout.discarded + self.stderr.discarded, "cpu_s": cpu}


def serve(child, requests, replies):
    ops = {"cell": child.cell, "get": child.get, "call": child.call, "output": child.output}
    for line in iter(lambda: requests.readline(MAX_LINE + 1), b""):
        request = loads(line)
        op = request.get("op")
        if op == "exit":
            break
        try:
            reply = ops[op](request)
        except (KeyError, ProtocolError, ValueError, TypeError) as e:
            reply = {"protocol_error": f"{type(e).__name__}: {e}"}
        replies.write(dumps(reply))
        replies.flush()


def main(limits):
    set_limits(limits)
    drop_privileges(limits.get("uid"), limits.get("gid"))
    # The grader's channel: copies of fds 0 and 1 (not inherited by subprocesses).
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open("output.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    cap = limits["output_kb"] * 1024
    stdout = sys.stdout = CappedStream(open(1, "w", closefd=False), cap)  # noqa: SIM115
    stderr = sys.stderr = CappedStream(open(2, "w", closefd=False), cap)  # noqa: SIM115
    shell = make_shell(os.path.join(os.getcwd(), ".ipython"))
    replies.write(dumps({"ready": True}))
    replies.flush()
    try:
        serve(Child(shell, stdout, stderr), requests, replies)
    finally:
        os._exit(0)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
