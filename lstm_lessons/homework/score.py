"""Scoring one submission: run it in its sandbox, ask the checks, make its row; flag copies.

:func:`grade_submission` turns one copied notebook into a gradebook row (points per question,
total, status, reasons, feedback); :func:`flag_duplicates` notes submissions that are the same
file or nearly the same answer code; :func:`add_extra_tests` adds an instructor's hidden tests
to a manifest.
"""

import ast
import difflib
import functools
import importlib
import inspect
import json
import os
import pkgutil
import re
import shutil
import signal
import tempfile
import textwrap
import threading
import time
from copy import deepcopy
from dataclasses import asdict, dataclass
from pathlib import Path

from .collect import read_cells
from .given import changed_given, given_values
from .language import LANGUAGES, tr, use
from .runner import TestResult, TimeLimitExceeded, run_question, run_test
from .sandbox import (
    NO_SANDBOX_WARNING,
    Namespace,
    Session,
    SessionDied,
    StudentCrash,
    StudentFunction,
)

REASON_CHARS = 400  # one reason in the gradebook; the feedback file has the whole message
MIN_COMPARED = 40  # characters of a function's body below which it is not compared
NEAR_DUPLICATE = 0.97  # similarity of the answer code above which two submissions are flagged


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
    processes: int = 64  # processes and threads of the sandbox's user (bubblewrap only)
    kill_grace_s: float = 5.0  # waited beyond a cell's or call's own time limit before a kill

    def as_child(self):
        return asdict(self)


def _short(text, limit=REASON_CHARS):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else tr("{start} ... (shortened)", start=text[: limit - 25])


def hidden_failed():
    """What the student's feedback says of a hidden test that did not pass, in place of its
    message (which may name the test's inputs)."""
    return tr(
        "A hidden test of this question did not pass. Its inputs are not shown; the public "
        "checks of the question, with grader.check, show the kind of mistake they find."
    )


class Stop:
    """Stops the submissions being graded, from another thread (Ctrl-C): each row then ends.

    :meth:`lstm_lessons.homework.score.Stop.stop` ends the running sandboxes at once and
    makes every later call of theirs fail without running; a row graded while stopping is
    incomplete, and is thrown away.
    """

    def __init__(self):
        self.event = threading.Event()
        self.sessions = set()
        self.lock = threading.Lock()

    def is_set(self):
        return self.event.is_set()

    def add(self, session):
        with self.lock:
            self.sessions.add(session)
        if self.is_set():
            self.stop()

    def remove(self, session):
        with self.lock:
            self.sessions.discard(session)

    def stop(self):
        self.event.set()
        with self.lock:
            sessions = list(self.sessions)
        for session in sessions:
            session.deadline = time.monotonic() - 1.0  # every wait of the session ends now
            proc = session.proc
            if proc is not None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass


class Stopped(Exception):
    """The grading was stopped (:class:`Stop`) before this submission's row was complete."""


class TrustedNamespace(Namespace):
    """The notebook's variables, whose functions carry the grader's own copy of the code cells.

    A check that refuses delegation to the package's reference
    (:func:`lstm_lessons.homework.checks.calling.refuse_package_call`) decides from these
    cells, read here from the grader's copy of the file, never from what the sandbox says.
    """

    def __init__(self, session, cells, given=None):
        super().__init__(session)
        self._cells = tuple(cells)
        self._given = given or {}

    def get(self, name, default=None):
        if name in self._given:  # the data of the given cells, as the grader's run made it
            return deepcopy(self._given[name])
        value = super().get(name, default)
        if isinstance(value, StudentFunction):
            value.grading_cells = self._cells
            value.grading_name = name
        return value


def _run_tests(manifest, session, limits, stop=None, secret=None):
    env = TrustedNamespace(session, session.cells, given_values(manifest, secret))

    def run_guarded(question, test, env):
        if stop is not None and stop.is_set():
            return TestResult(question, test["name"], test["hidden"], test["points"], False,
                              "stopped")  # fmt: skip
        try:
            return run_test(question, test, env)
        except (SessionDied, StudentCrash, TimeLimitExceeded) as e:  # pragma: no cover
            return TestResult(question, test["name"], test["hidden"], test["points"], False, str(e))

    return [run_question(q, env, run=run_guarded) for q in manifest["questions"]]


def run_submission(copy, manifest, limits, use_bwrap=True, secret=None, stop=None):
    """Grade one copied notebook: {"questions": [...], "notes": [...], "status", ...}.

    Raises :class:`lstm_lessons.homework.score.Stopped` when ``stop`` was set before it finished.
    """
    if stop is not None and stop.is_set():
        raise Stopped()
    try:
        cells, answers, written = read_cells(copy, secret)
    except (OSError, ValueError) as e:
        return {"status": "unreadable", "error": str(e), "questions": [], "notes": []}
    scratch = tempfile.mkdtemp(prefix="lstm-grade-scratch-")
    session = Session(cells, limits, scratch, use_bwrap=use_bwrap)
    session.deadline = time.monotonic() + limits.timeout_s
    if stop is not None:
        stop.add(session)
    try:
        session.start()
        graded = _run_tests(manifest, session, limits, stop, secret)
        discarded = session.output_discarded() if session.proc else 0
    finally:
        if stop is not None:
            stop.remove(session)
        session.close()
        shutil.rmtree(scratch, ignore_errors=True)
    if stop is not None and stop.is_set():
        raise Stopped()
    notes = list(session.notes)
    for cell in changed_given(manifest, cells, secret):
        first = next((line for line in cell.splitlines() if line.strip()), "")
        notes.append(
            tr(
                "a given cell was changed (the one that begins `{start}`): the checks used "
                "the values the given cell makes, not yours",
                start=first[:60],
            )
        )
    if discarded:
        notes.append(
            tr(
                "the notebook printed {mb:.1f} MB more than the {kb} KB of output kept; the "
                "rest was discarded",
                mb=discarded / (1 << 20),
                kb=limits.output_kb,
            )
        )
    status = "graded"
    if session.deadline is not None and time.monotonic() >= session.deadline:
        status = "timed out"
        notes.insert(
            0, tr("stopped after {seconds:g} s for the whole notebook", seconds=limits.timeout_s)
        )
    return {
        "status": status,
        "questions": graded,
        "notes": notes,
        "answers": answers,
        "written": written,
        "cpu_s": getattr(session, "cpu_s", None),  # as the child reports it: not trusted
        "stopped": list(session.setup_failed),
    }


# Where a notebook asks for its feedback in another language (the Chinese exercise notebooks).
LANGUAGE_KEY = "lstm_lessons_language"


def submission_language(path):
    """The language a submission's notebook asks its feedback in (``"en"`` or ``"zh"``): its
    metadata's ``lstm_lessons_language``, English when it has none, a wrong one, or is not a
    notebook. It chooses only the language of that submission's own feedback."""
    try:
        metadata = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {})
        value = metadata.get(LANGUAGE_KEY)
    except (OSError, ValueError, AttributeError):
        return "en"
    return value if value in LANGUAGES else "en"


def grade_submission(copy, manifest, limits, use_bwrap=True, secret=None, stop=None):
    """One gradebook row: {question: points}, total, possible, status, reasons, feedback.

    An unreadable notebook's row has ``error``: why it could not be read. The row's messages
    are in the language the notebook asks for (:func:`submission_language`), and its
    ``language`` says which.
    """
    language = submission_language(copy)
    with use(language):
        row = _grade_submission(copy, manifest, limits, use_bwrap, secret, stop)
    return {**row, "language": language}


def _grade_submission(copy, manifest, limits, use_bwrap, secret, stop):
    start = time.monotonic()
    result = run_submission(copy, manifest, limits, use_bwrap, secret, stop)
    graded = {q.name: q for q in result.get("questions", [])}
    row, reasons, feedback = {}, [], []
    for question in manifest["questions"]:
        name = question["name"]
        if question["manual"]:
            row[name] = None
            continue
        q = graded.get(name)
        row[name] = q.score if q else 0
        for r in q.results if q else ():
            hidden = " [hidden]" if r.hidden else ""
            if not r.passed:
                reasons.append(f"{name}{hidden}: {_short(r.message)} (-{r.points:g})")
            # A hidden test's message may name its inputs (sizes, seeds, values): the
            # gradebook keeps it for the instructor, the student's feedback does not.
            message = hidden_failed() if r.hidden and not r.passed else r.message
            feedback.append((name, r.hidden, r.passed, r.points, message))
    if "error" in result:
        reasons.insert(0, result["error"])
    stopped = result.get("stopped", [])
    if stopped and any("NameError" in r for r in reasons):
        # A setup cell that ran out of time is the cause, not the NameErrors that follow.
        reasons.insert(
            0,
            tr(
                "{cell} ran out of time and was stopped, so the names it defines are "
                "missing: the NameErrors below follow from that (a busy machine, or a slow cell)",
                cell=stopped[0],
            ),
        )
    reasons += [f"note: {_short(note)}" for note in result.get("notes", [])]
    reasons += published_notes(result.get("answers", []), manifest)
    if not use_bwrap:
        reasons.append(f"note: {NO_SANDBOX_WARNING}")
    auto = [q for q in manifest["questions"] if not q["manual"]]
    return {
        "scores": row,
        "total": sum(row[q["name"]] for q in auto),
        "possible": sum(q["points"] for q in auto),
        "status": result["status"],
        "reasons": reasons,
        "feedback": feedback,
        "answers": result.get("answers", []),
        "written": result.get("written", []),
        "seconds": time.monotonic() - start,
        "cpu_s": result.get("cpu_s"),
        **({"error": result["error"]} if "error" in result else {}),
    }


def not_graded_row(manifest, reason):
    """The row of a file that is not a notebook: no points, status ``not graded``, why."""
    auto = [q for q in manifest["questions"] if not q["manual"]]
    return {
        "scores": {q["name"]: (None if q["manual"] else 0) for q in manifest["questions"]},
        "total": 0,
        "possible": sum(q["points"] for q in auto),
        "status": "not graded",
        "reasons": [reason],
        "feedback": [],
        "answers": [],
        "written": [],
        "error": reason,
    }


def flag_duplicates(rows):
    """Notes on submissions with the same file (hash) or nearly the same answer code.

    A note never names a classmate (the feedback file a student reads shows the notes): the
    names go to the row's ``duplicate_of``, for the instructor. Copies that score nothing
    (the blank template handed in by several students) are not flagged.
    """
    rows = {n: r for n, r in rows.items() if r.get("status") != "not graded" and r.get("total")}
    others = {n: set() for n in rows}
    by_hash = {}
    for name, row in rows.items():
        by_hash.setdefault(row.get("sha256"), []).append(name)
    for names in by_hash.values():
        if len(names) > 1:
            for name in names:
                others[name] |= set(names) - {name}
                count = len(names) - 1
                # "note: " and "duplicate: " are read back (gradebook.write_feedback, its summary)
                same = (
                    tr("the same file as {n} other submission", n=count)
                    if count == 1
                    else tr("the same file as {n} other submissions", n=count)
                )
                rows[name]["reasons"].append(f"note: duplicate: {same}")
    codes = {n: re.sub(r"#.*|\s+", "", "\n".join(r.get("answers", []))) for n, r in rows.items()}
    names = [n for n in rows if codes[n]]
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if rows[a].get("sha256") == rows[b].get("sha256"):
                continue
            matcher = difflib.SequenceMatcher(None, codes[a], codes[b], autojunk=False)
            if min(matcher.real_quick_ratio(), matcher.quick_ratio()) < NEAR_DUPLICATE:
                continue
            ratio = matcher.ratio()
            if ratio >= NEAR_DUPLICATE:
                for x, y in ((a, b), (b, a)):
                    others[x].add(y)
                    same = tr("its answer code is {ratio:.0%} the same as "
                              "another submission's", ratio=ratio)  # fmt: skip
                    rows[x]["reasons"].append(f"note: near-duplicate: {same}")
    for name, found in others.items():
        if found:
            rows[name]["duplicate_of"] = sorted(found)


def _functions(source):
    """{name: normalised body} of the functions defined in ``source`` (docstrings dropped)."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError):
        return {}
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            text = re.sub(r"\s+", "", "\n".join(ast.unparse(b) for b in body))
            if len(text) >= MIN_COMPARED:  # ``...`` and one-liners say nothing
                out[node.name] = text
    return out


@functools.lru_cache(maxsize=1)
def _package_functions():
    """{qualified name: normalised body} of every function of the package's cells."""
    from .. import cells

    out = {}
    for info in pkgutil.iter_modules(cells.__path__):
        module = importlib.import_module(f"{cells.__name__}.{info.name}")
        try:
            source = inspect.getsource(module)
        except (OSError, TypeError):
            continue
        for name, text in _functions(source).items():
            out[f"{module.__name__}.{name}"] = text
    return out


def _similar(a, b):
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if min(matcher.real_quick_ratio(), matcher.quick_ratio()) < NEAR_DUPLICATE:
        return 0.0
    return matcher.ratio()


def published_notes(answers, manifest):
    """Notes on answer functions that are (nearly) the published solution's or the package's."""
    mine = {}
    for cell in answers:
        mine.update(_functions(cell))
    if not mine:
        return []
    published = {}
    for cell in manifest.get("published", []):
        published.update(_functions(cell))
    notes = []
    for name, text in mine.items():
        ratio = max((_similar(text, p) for p in published.values()), default=0.0)
        if ratio >= NEAR_DUPLICATE:
            same = tr("{name} is {ratio:.0%} the published solution's", name=name, ratio=ratio)
            notes.append(f"note: near-duplicate: {same}")
            continue
        for where, p in _package_functions().items():
            ratio = _similar(text, p)
            if ratio >= NEAR_DUPLICATE:
                same = tr(
                    "{name} is {ratio:.0%} the package's {where}",
                    name=name,
                    ratio=ratio,
                    where=where,
                )
                notes.append(f"note: near-duplicate: {same}")
                break
    return notes


def add_extra_tests(manifest, path):
    """The manifest with an instructor's hidden tests from ``path`` added to its questions.

    Each test adds its points to its question's.

    ``path`` is JSON: {"q2": [{"name": "test_x", "points": 1, "source": "def test_x(f): ..."}]}.
    """
    extra = json.loads(Path(path).read_text(encoding="utf-8"))
    questions = {q["name"]: q for q in manifest["questions"]}
    if not isinstance(extra, dict) or not set(extra) <= set(questions):
        raise ValueError(f"{path}: expected {{question: [tests]}} for questions {list(questions)}")
    out = json.loads(json.dumps(manifest))
    for q in out["questions"]:
        for test in extra.get(q["name"], []):
            if not {"name", "points", "source"} <= set(test):
                raise ValueError(f"{path}: each test needs name, points and source, got {test}")
            q["tests"].append({"success_message": None, "failure_message": None, **test,
                               "hidden": True})  # fmt: skip
            q["points"] += test["points"]
    return out
