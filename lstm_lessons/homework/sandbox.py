"""The grader's side of a sandboxed submission: start it, talk to it, kill it.

A :class:`Session` runs one submission's code cells in a child process
(:mod:`lstm_lessons.homework.worker`) and then lends the checks a :class:`Namespace`: looking
a name up asks the child; a function comes back as a :class:`StudentFunction`, whose call
sends the arguments to the child and returns what the student's function returned there,
so that the checks, unchanged, run here in the grader with their own references.

The child runs in a sandbox made with bubblewrap (``bwrap``) where it is available:

- new PID, network, IPC and UTS namespaces: no network at all, and no other process in
  sight (nothing to read in /proc, nothing to signal); ``--die-with-parent``, and when its
  first process ends the kernel kills every process left in the namespace, so nothing
  outlives the submission, not even a process that left its session;
- a new root holding only the system's /usr, a few files of /etc, the Python installation,
  the virtual environment and the ``lstm_lessons`` package, all read-only. The only writable
  folders are /tmp and the scratch folder (the working directory), each an empty tmpfs of
  its own of at most ``2 * file_mb`` MB (:data:`TMPFS_FILES`), so that every byte the
  submission writes counts against its limits (it holds host memory beyond each process's
  ``memory_mb``: at most the two folders) and no host path of a writable folder shows in
  /proc/self/mountinfo (the read-only venv and package do show theirs). The
  submissions, the copies the grader made, the solutions with the hidden tests and the
  gradebook are not in the sandbox at all;
- a seccomp filter (:func:`seccomp_filter`) refuses new namespaces: ``unshare``, ``setns``,
  and ``clone`` with a namespace flag fail with EPERM (``clone3``, whose flags a filter
  cannot read, with ENOSYS, so that the C library falls back to ``clone``), so that
  ``unshare -r`` cannot make the submission root of a user namespace of its own;
- run as root, the child becomes an unprivileged user with a process limit
  (``RLIMIT_NPROC``), so a fork bomb stops at that limit; the CPU, memory and file-size
  limits of :class:`lstm_lessons.homework.grading.Limits` hold as well;
- the grader kills the whole sandbox when a cell or a call does not answer in time (a loop
  in compiled code that the child's own timer cannot stop), then starts it again, skipping
  that cell: one such loop costs its task, not the notebook.

What the child sends is bounded on the grader's side too: a message is read in time linear
in its length and refused, the child killed, once it passes ``MAX_LINE`` bytes
(:data:`lstm_lessons.homework.protocol.MAX_LINE`), and the reply to a call once it passes
:func:`reply_limit` of the call's own size, before the grader decodes or compares anything.

Without bubblewrap (macOS, or Linux without user namespaces) the child is only a process in
its own session, which can see the machine; the gradebook then says so on every row. See the
README for the container alternative.
"""

import builtins
import functools
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from .protocol import MAX_LINE, Other, ProtocolError, decode, dumps, encode, loads
from .runner import TimeLimitExceeded

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # lstm_lessons
SANDBOX_PACKAGE = "/opt/lstm-grading"
SANDBOX_SCRATCH = "/scratch"
# Unprivileged user ids, one per running sandbox of this grader, so that RLIMIT_NPROC (which
# counts the processes of a user) gives each sandbox its own budget.
_UID_BASE = 100_000 + (os.getpid() % 100_000) * 16
_uids_free = list(range(_UID_BASE, _UID_BASE + 16))
_uids_lock = threading.Lock()
#: /tmp and the scratch folder are each a tmpfs of this many times ``file_mb`` MB.
TMPFS_FILES = 2
#: A call's reply may be this many times as long as the call's request (:func:`reply_limit`),
REPLY_FACTOR = 16
#: and this many bytes in any case.
REPLY_FLOOR = 4 << 20
STARTUP_S = 120.0  # starting Python, NumPy and IPython on a busy machine
ENDED_WAIT_S = 5.0  # a child whose output closed has exited or is about to; reaping it is quick
CHILD_ENV = {
    "MPLBACKEND": "Agg",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TQDM_DISABLE": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONNOUSERSITE": "1",
    "LANG": "C.UTF-8",
}
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts", "passwd", "group")
NO_SANDBOX_WARNING = (
    "WARNING: graded without a sandbox (bubblewrap not available): the submission could "
    "see and change other files and processes of this machine"
)


def reply_limit(request_bytes):
    """Bytes of a call's reply that the grader reads: ``REPLY_FACTOR`` times the request,
    at least ``REPLY_FLOOR`` (what a check's function returns is about the size of its
    inputs), at most the protocol's ``MAX_LINE``."""
    return min(MAX_LINE, max(REPLY_FLOOR, REPLY_FACTOR * request_bytes))


class SessionDied(Exception):
    """The child did not answer in time, ended, or broke the protocol; it has been killed."""


class StudentCrash(BaseException):
    """Raised into a check when the student's process died during a call."""


@functools.cache
def bwrap_path():
    """The path of a working ``bwrap``, or None (tried once: it may be installed but barred).

    It must size a tmpfs (``--size``, bubblewrap 0.7 or later): an older one could not bound
    what a submission writes, and counts as none.
    """
    path = shutil.which("bwrap")
    if not path or sys.platform != "linux":
        return None
    try:
        done = subprocess.run(
            [path, "--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
             "--size", "1048576", "--tmpfs", "/tmp", "true"],  # fmt: skip
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if done.returncode == 0 else None


def read_only_paths():
    """Host paths the child needs to read: the system, Python, the venv."""
    paths = ["/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin"]
    paths += [f"/etc/{name}" for name in ETC]
    for p in {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))}:
        paths.append(os.path.realpath(p))
        paths.append(p)
    seen, out = set(), []
    for p in paths:
        if p not in seen and os.path.lexists(p):
            seen.add(p)
            out.append(p)
    return out


def _parents(path):
    parts = Path(path).parts
    return ["/" + "/".join(parts[1:k]) for k in range(2, len(parts))]


# The seccomp filter: classic BPF over struct seccomp_data (nr at 0, arch at 4, args at 16).
_SECCOMP_ARCHES = {  # machine: (AUDIT_ARCH_*, unshare, setns, clone, clone3)
    "x86_64": (0xC000003E, 272, 308, 56, 435),
    "aarch64": (0xC00000B7, 97, 268, 220, 435),
}
CLONE_NEW_FLAGS = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET


def seccomp_filter(machine=None):
    """The BPF program that refuses new namespaces (bytes for ``bwrap --seccomp``), or None.

    ``unshare`` and ``setns`` fail with EPERM, ``clone`` too when its flags ask for a new
    namespace, ``clone3`` with ENOSYS (its flags lie in memory that a filter cannot read; the
    C library then uses ``clone``); a system call of another ABI (x32, i386) fails with EPERM.
    None on a machine whose system call numbers are not known here.
    """
    import platform
    import struct

    found = _SECCOMP_ARCHES.get(machine or platform.machine())
    if found is None:
        return None
    arch, unshare, setns, clone, clone3 = found
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38
    program = [  # (code, jump if true, jump if false, k); a jump skips that many lines
        (ld, 0, 0, 4),  # 0: A = arch
        (jeq, 0, 9, arch),  # 1: another ABI (i386): deny
        (ld, 0, 0, 0),  # 2: A = the system call's number
        (jge, 7, 0, 0x40000000),  # 3: x32: deny
        (jeq, 6, 0, unshare),  # 4: deny
        (jeq, 5, 0, setns),  # 5: deny
        (jeq, 5, 0, clone3),  # 6: ENOSYS
        (jeq, 0, 2, clone),  # 7: any other call: allow
        (ld, 0, 0, 16),  # 8: A = clone's flags (the low 32 bits of its first argument)
        (jset, 1, 0, CLONE_NEW_FLAGS),  # 9: a new namespace: deny
        (ret, 0, 0, allow),  # 10
        (ret, 0, 0, eperm),  # 11: deny
        (ret, 0, 0, enosys),  # 12
    ]
    return b"".join(struct.pack("=HBBI", *line) for line in program)


def sandbox_command(scratch, limits_json, use_bwrap=True, folder_mb=None):
    """The command that runs the worker on ``scratch``: in bwrap, or only as a process.

    In bwrap, /tmp and the scratch folder are tmpfs of ``folder_mb`` MB each (the host's
    ``scratch`` folder is not used).
    """
    python = [sys.executable, "-m", "lstm_lessons.homework.worker", limits_json]
    env = {**CHILD_ENV, "HOME": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib"}
    if not use_bwrap:
        pythonpath = os.pathsep.join(filter(None, [str(PACKAGE_DIR.parent)]))
        env.update(PATH=os.environ.get("PATH", "/usr/bin:/bin"), PYTHONPATH=pythonpath)
        return python, env, str(scratch)
    env.update(PATH=f"{os.path.dirname(sys.executable)}:/usr/bin:/bin", PYTHONPATH=SANDBOX_PACKAGE)
    cmd = [bwrap_path(), "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    cmd += ["--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
    if os.geteuid() == 0:  # the worker drops to an unprivileged user itself
        cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        cmd += ["--unshare-user"]
    # The private /tmp comes first: a venv or package that lies under the host's /tmp (a clone
    # in /tmp) is bound on top of it below, not hidden by it.
    size = [] if folder_mb is None else ["--size", str(int(folder_mb) << 20)]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", *size, "--tmpfs", "/tmp"]
    made = set()
    targets = [*read_only_paths(), f"{SANDBOX_PACKAGE}/lstm_lessons", SANDBOX_SCRATCH]
    for target in targets:
        for parent in _parents(target):
            if parent not in made and not any(parent == t or parent.startswith(t + "/")
                                              for t in targets if t != target):  # fmt: skip
                made.add(parent)
                cmd += ["--perms", "0755", "--dir", parent]
    for p in read_only_paths():
        if os.path.islink(p) and os.path.dirname(p) == "/":
            cmd += ["--symlink", os.readlink(p), p]
        else:
            cmd += ["--ro-bind", p, p]
    cmd += ["--ro-bind", str(PACKAGE_DIR), f"{SANDBOX_PACKAGE}/lstm_lessons"]
    cmd += ["--perms", "1777", *size, "--tmpfs", SANDBOX_SCRATCH, "--chdir", SANDBOX_SCRATCH]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    return [*cmd, "--", *python], None, None


def _pipe_holding(data):
    """The reading end of a pipe that holds ``data`` (under 64 KiB) and is closed for writing."""
    if len(data) > 60_000:  # a pipe holds 64 KiB; far more than the sandbox's options
        raise ValueError("too many sandbox options")
    read, write = os.pipe()
    os.write(write, data)
    os.close(write)
    return read


def _spawn_bwrap(cmd):
    """Start bwrap with its options passed through a pipe (``--args``), not the command line.

    Inside the sandbox, /proc/1/cmdline is bwrap's command line: this way it shows no host
    path (the venv), only ``bwrap --args 3`` and the worker's command. The seccomp filter
    (:func:`seccomp_filter`) goes through a pipe of its own.
    """
    split = cmd.index("--")
    options, rest = cmd[1:split], cmd[split + 1 :]
    fds = []
    try:
        program = seccomp_filter()
        if program is not None:
            fds.append(_pipe_holding(program))
            options = [*options, "--seccomp", str(fds[-1])]
        fds.append(_pipe_holding(b"".join(arg.encode() + b"\0" for arg in options)))
        return subprocess.Popen(
            [cmd[0], "--args", str(fds[-1]), "--", *rest], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin"},
            start_new_session=True, pass_fds=tuple(fds),
        )  # fmt: skip
    finally:
        for fd in fds:
            os.close(fd)


def describe_cell(cell_number, source):
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return f"code cell {cell_number} ({first[:40]}{'...' if len(first) > 40 else ''})"


def _builtin_exception(name, message):
    cls = getattr(builtins, name, None) if name.isidentifier() else None
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except Exception:
            pass
    safe = name if name.isidentifier() else "Exception"
    return type(safe, (Exception,), {})(message)


def _write_back(target, new):
    """Copy ``new`` into ``target`` in place, as the child's function changed its argument."""
    if isinstance(target, np.ndarray):
        if isinstance(new, np.ndarray) and new.shape == target.shape:
            np.copyto(target, new, casting="unsafe")
        elif target.size:
            target.flat[0] = np.nan if target.dtype.kind in "fc" else target.flat[0] + 1
    elif isinstance(target, list) and isinstance(new, list):
        if len(target) == len(new):
            for k, (t, n) in enumerate(zip(target, new, strict=True)):
                if isinstance(t, (np.ndarray, list, dict, tuple)):
                    _write_back(t, n)
                else:
                    target[k] = n
        else:
            target[:] = new
    elif isinstance(target, tuple) and isinstance(new, tuple) and len(target) == len(new):
        for t, n in zip(target, new, strict=True):
            _write_back(t, n)
    elif isinstance(target, dict) and isinstance(new, dict):
        for key in list(target):
            if key not in new:
                del target[key]
        for key, value in new.items():
            if key in target and isinstance(target[key], (np.ndarray, list, dict, tuple)):
                _write_back(target[key], value)
            else:
                target[key] = value


def _warnings_are_errors():
    for action, _, category, _, _ in warnings.filters:
        if issubclass(RuntimeWarning, category):
            return action == "error"
    return False


class StudentFunction:
    """A function of the submission: calling it calls it in the sandbox."""

    def __init__(self, session, name, display, source):
        self._session, self._name = session, name
        self.__name__ = display if display.isidentifier() else name
        self.grading_source = source

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError("the grader passes arguments by position only")
        reply = self._session.call(self._name, args)
        if reply.get("timed_out"):
            raise TimeLimitExceeded(str(reply.get("message", "the call ran too long")))
        if "raised" in reply:
            exc = _builtin_exception(str(reply["raised"]), str(reply.get("message", "")))
            line = reply.get("line")
            exc.grading_line = line if isinstance(line, str) else None
            raise exc
        try:
            result = decode(reply.get("result"))
            changed = reply.get("changed", {})
            for key, value in changed.items() if isinstance(changed, dict) else ():
                k = int(key)
                if 0 <= k < len(args):
                    _write_back(args[k], decode(value))
        except (ProtocolError, ValueError, TypeError):
            return Other("unreadable value", "")
        return result


class Namespace:
    """The notebook's variables, as the checks see them: looked up in the sandbox."""

    def __init__(self, session):
        self._session = session

    def get(self, name, default=None):
        seconds = self._session.limits.test_timeout_s
        try:
            reply = self._session.request({"op": "get", "name": name}, seconds)
        except SessionDied:
            return default
        kind = reply.get("kind")
        if kind == "function":
            display, source = reply.get("name"), reply.get("source")
            return StudentFunction(
                self._session,
                name,
                display if isinstance(display, str) else name,
                source if isinstance(source, str) else "",
            )
        if kind == "value":
            try:
                return decode(reply.get("value"))
            except (ProtocolError, ValueError, TypeError):
                return Other("unreadable value", "")
        return default

    def __getitem__(self, name):
        value = self.get(name, KeyError)
        if value is KeyError:
            raise KeyError(name)
        return value

    def __contains__(self, name):
        return self.get(name, KeyError) is not KeyError


class Session:
    """One submission's code, run in a sandboxed child that can be killed and started again.

    ``cells`` are the code cells' sources. :meth:`start` runs them all; a cell that makes
    the child die or hang is killed, noted, and skipped when the child is started again,
    which :meth:`request` does by itself after a call killed it (up to ``restarts`` times).
    """

    def __init__(self, cells, limits, scratch, use_bwrap=True, restarts=3):
        self.cells, self.limits, self.scratch = list(cells), limits, Path(scratch)
        self.use_bwrap, self.restarts = use_bwrap, restarts
        self.skip, self.notes, self.setup_failed = set(), [], []
        self.proc, self.buffer, self.deadline = None, b"", None
        self.started, self.uid = 0, None
        self.max_line = MAX_LINE  # bytes of one message of the child's

    # -- the child process ---------------------------------------------------------------
    def _spawn(self):
        import json

        limits = {**self.limits.as_child()}
        root = os.geteuid() == 0 and self.use_bwrap
        if root and self.uid is None:
            with _uids_lock:
                self.uid = _uids_free.pop(0) if _uids_free else _UID_BASE + 15
        if root:
            limits.update(uid=self.uid, gid=self.uid)
        if not root:  # RLIMIT_NPROC would count every process of the grader's own user
            limits["processes"] = 0
        for p in self.scratch.iterdir():
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        if root:
            os.chown(self.scratch, self.uid, self.uid)
        cmd, env, cwd = sandbox_command(self.scratch, json.dumps(limits), self.use_bwrap,
                                        TMPFS_FILES * self.limits.file_mb)  # fmt: skip
        if self.use_bwrap:
            self.proc = _spawn_bwrap(cmd)
        else:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=env, cwd=cwd, start_new_session=True,
            )  # fmt: skip
        self.buffer = b""
        self.started += 1
        reply = self._read(STARTUP_S)
        if not reply.get("ready"):
            raise SessionDied("the grading process did not start")

    def close(self):
        """Kill the child and give back its user id."""
        self.kill()
        if self.uid is not None:
            with _uids_lock:
                if self.uid not in _uids_free:
                    _uids_free.append(self.uid)
            self.uid = None

    def kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.proc.wait()
        self.proc = None

    def _read(self, timeout, limit=None):
        """The child's next message. Linear in its length: each chunk read is searched for
        the end of the line once, and the chunks are joined once; a line longer than
        ``max_line`` bytes (or ``limit``, when smaller) is refused, the child killed, as soon
        as that many have come."""
        max_line = self.max_line if limit is None else min(limit, self.max_line)
        end = time.monotonic() + timeout
        if self.deadline is not None:
            end = min(end, self.deadline)
        fd = self.proc.stdout.fileno()
        chunks, size = [self.buffer], len(self.buffer)
        while b"\n" not in chunks[-1]:
            if size > max_line:
                self.kill()
                raise SessionDied("sent too much")
            left = end - time.monotonic()
            if left <= 0:
                self.kill()
                raise SessionDied("timeout")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise self._ended()
            chunks.append(chunk)
            size += len(chunk)
        line, _, self.buffer = b"".join(chunks).partition(b"\n")
        if len(line) > max_line:
            self.kill()
            raise SessionDied("sent too much")
        try:
            return loads(line, max_line)
        except ProtocolError as e:
            self.kill()
            raise SessionDied(f"sent something that is not a message ({e})") from None

    def _send(self, message, timeout, limit=None):
        try:
            self.proc.stdin.write(message if isinstance(message, bytes) else dumps(message))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._ended() from None
        return self._read(timeout, limit)

    def _ended(self):
        """The child closed its end: reap it and say how it ended.

        Its pipe closes a moment before the kernel records its exit status, so poll() right
        after EOF can still say "running"; waiting briefly makes the reported exit code
        (which tells a student that their own code called exit) not depend on that race.
        """
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=ENDED_WAIT_S)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        return SessionDied(f"ended (exit code {code})" if code is not None else "ended")

    # -- what the grader asks --------------------------------------------------------------
    def start(self):
        """Start the child and run the cells; notes say which failed or were skipped."""
        self.notes = []
        self.setup_failed = []
        while True:
            try:
                self._spawn()
                self._run_cells()
                return
            except SessionDied as e:
                if self.started > self.restarts or "timeout" == str(e) and self._past_deadline():
                    self.notes.append(f"the notebook could not be run to the end ({e})")
                    self.kill()
                    return

    def _past_deadline(self):
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _run_cells(self):
        notes = []
        for k, source in enumerate(self.cells):
            where = describe_cell(k + 1, source)
            if k in self.skip:  # the note of its kill is kept
                continue
            seconds = self.limits.cell_timeout_s
            try:
                reply = self._send({"op": "cell", "source": source, "timeout": seconds},
                                   seconds + self.limits.kill_grace_s)  # fmt: skip
            except SessionDied as e:
                self.skip.add(k)
                why = (
                    f"did not stop at its time limit of {seconds:g} s and was killed "
                    "(a loop inside compiled code?)"
                    if str(e) == "timeout"
                    else f"ended the grading process ({e}) and was killed"
                )
                self.notes = [*notes, f"{where} {why}; the notebook was run again without it"]
                raise
            if not reply.get("ok"):
                raised = str(reply.get("raised", "an error"))[:100]
                message = " ".join(str(reply.get("message", "")).split())[:300]
                if reply.get("timed_out"):
                    notes.append(f"{where} ran longer than {seconds:g} s and was stopped")
                    self.setup_failed.append(where)
                else:
                    after = ""
                    if raised == "NameError" and self.setup_failed:
                        after = f" (perhaps because {self.setup_failed[0]} was stopped)"
                    notes.append(f"{where} raised {raised}: {message}{after}")
        self.notes = [*self.notes, *notes]

    def ensure_running(self):
        if self.proc is None:
            if self.started > self.restarts or self._past_deadline():
                raise SessionDied("not running")
            kept = list(self.notes)
            self.start()
            self.notes = kept + [n for n in self.notes if n not in kept]

    def request(self, message, timeout, limit=None):
        self.ensure_running()
        if self.proc is None:
            raise SessionDied("not running")
        reply = self._send(message, timeout + self.limits.kill_grace_s, limit)
        if "protocol_error" in reply:
            raise SessionDied(str(reply["protocol_error"])[:200])
        return reply

    def call(self, name, args):
        """The child's reply to calling ``name`` on ``args`` (see the worker's ``call``).

        The reply may be at most :func:`reply_limit` of the request's size: a function that
        returns far more than it was given (a wrong shape of millions of entries) is stopped
        before the grader reads, decodes or compares it.
        """
        seconds = self.limits.test_timeout_s
        message = dumps({
            "op": "call",
            "name": name,
            "args": encode(list(args)),
            "timeout": seconds,
            "errstate": dict(np.geterr()),
            "warnings_are_errors": _warnings_are_errors(),
        })  # fmt: skip
        limit = reply_limit(len(message))
        try:
            return self.request(message, seconds, limit)
        except SessionDied as e:
            if str(e) == "sent too much" and limit < self.max_line:
                raise StudentCrash(
                    f"the call of {name} returned more than {limit / (1 << 20):g} MB, far more "
                    f"than its arguments (about {max(1, round(len(message) / 1024))} KB): check "
                    "the shape of what it returns. It was stopped before it was read."
                ) from None
            if str(e) == "timeout":
                raise TimeLimitExceeded(
                    f"the call of {name} did not stop at its time limit of {seconds:g} s and "
                    "was killed (a loop inside compiled code?)."
                ) from None
            raise StudentCrash(
                f"the process running {name} {e} during the call, so it could not be checked."
            ) from None

    def output_discarded(self):
        """Bytes of output the child discarded; sets ``cpu_s``, the CPU time it reports."""
        try:
            reply = self.request({"op": "output"}, 10)
            self.cpu_s = float(reply.get("cpu_s", 0.0))
            return int(reply.get("discarded", 0))
        except (SessionDied, ValueError, TypeError):
            return 0
