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

import argparse
import csv
import difflib
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .runner import TestResult, TimeLimitExceeded, load_manifest, run_question, run_test
from .sandbox import (
    NO_SANDBOX_WARNING,
    Namespace,
    Session,
    SessionDied,
    StudentCrash,
    bwrap_path,
)

CHECK_CELL = re.compile(r"""^\s*grader\.check(_all)?\((["'][\w-]+["'])?\)\s*$""")
MAX_NOTEBOOK_MB = 20
REASON_CHARS = 400  # one reason in the gradebook; the feedback file has the whole message
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


def find_submissions(folder):
    """(notebooks, notes): every ``*.ipynb`` in any case, outside ``.ipynb_checkpoints``."""
    folder = Path(folder)
    found, notes = [], []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if ".ipynb_checkpoints" in rel.parts or not p.is_file():
            continue
        if p.suffix.lower() == ".ipynb":
            found.append(p)
            if p.suffix != ".ipynb":
                notes.append(f"{rel.as_posix()}: graded, although its suffix is {p.suffix!r}")
        elif p.suffix.lower() in {".json", ".py", ".md", ".txt", ".html", ".zip"}:
            notes.append(f"{rel.as_posix()}: not a notebook (.ipynb); not graded")
    return found, notes


def copy_and_hash(folder, notebooks, into):
    """Copy each submission into ``into`` before any runs; {relative path: (copy, sha256)}."""
    out = {}
    for k, nb in enumerate(notebooks):
        data = Path(nb).read_bytes()
        copy = Path(into) / f"{k:05d}.ipynb"
        copy.write_bytes(data)
        out[Path(nb).relative_to(folder).as_posix()] = (copy, hashlib.sha256(data).hexdigest())
    return out


SEED = re.compile(r"\b(seed\s*=\s*|default_rng\(\s*|manual_seed\(\s*)(\d+)\b")


def reseed(source, secret):
    """``source`` with every literal seed (``seed=3``, ``default_rng(0)``) drawn from ``secret``.

    Applied to the given (not answer) cells of a submission, it changes the data of the
    notebook's experiments, so that a number copied from a published solution is wrong
    while a notebook that computes its answers still passes: the checks of values
    (``gap``, ``slope``, ``rate``, ...) recompute the expected value from the notebook's
    own data.
    """

    def draw(match):
        digest = hashlib.sha256(f"{secret}:{match.group(2)}".encode()).hexdigest()
        return f"{match.group(1)}{int(digest, 16) % 1_000_000 + 1000}"

    return SEED.sub(draw, source)


def read_cells(path, secret=None):
    """(code cells to run, answer code, written answers) of a notebook file, or ValueError.

    The answer code is that of the cells tagged ``otter_answer_cell``, or all the code when
    none is tagged; the written answers are the tagged Markdown cells, in order.
    """
    if Path(path).stat().st_size > MAX_NOTEBOOK_MB << 20:
        raise ValueError(f"the file is larger than {MAX_NOTEBOOK_MB} MB")
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        cells = nb["cells"]
        assert isinstance(cells, list)
    except (ValueError, KeyError, TypeError, AssertionError) as e:
        raise ValueError(f"not a readable notebook: {type(e).__name__}: {e}") from None
    code, answers, written = [], [], []
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        tags = (cell.get("metadata") or {}).get("tags") or []
        if cell.get("cell_type") == "code":
            if secret and "otter_answer_cell" not in tags:
                source = reseed(source, secret)
            if not CHECK_CELL.match(source):
                code.append(source)
            if "otter_answer_cell" in tags:
                answers.append(source)
        elif cell.get("cell_type") == "markdown" and "otter_answer_cell" in tags:
            written.append(source)
    return code, answers or code, written


def _short(text, limit=REASON_CHARS):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 25] + " ... (shortened)"


def _run_tests(manifest, session, limits):
    env = Namespace(session)

    def run_guarded(question, test, env):
        try:
            return run_test(question, test, env)
        except (SessionDied, StudentCrash, TimeLimitExceeded) as e:  # pragma: no cover
            return TestResult(question, test["name"], test["hidden"], test["points"], False, str(e))

    return [run_question(q, env, run=run_guarded) for q in manifest["questions"]]


def run_submission(copy, manifest, limits, use_bwrap=True, secret=None):
    """Grade one copied notebook: {"questions": [...], "notes": [...], "status", ...}."""
    try:
        cells, answers, written = read_cells(copy, secret)
    except (OSError, ValueError) as e:
        return {"status": "unreadable", "error": str(e), "questions": [], "notes": []}
    scratch = tempfile.mkdtemp(prefix="lstm-grade-scratch-")
    session = Session(cells, limits, scratch, use_bwrap=use_bwrap)
    session.deadline = time.monotonic() + limits.timeout_s
    try:
        session.start()
        graded = _run_tests(manifest, session, limits)
        discarded = session.output_discarded() if session.proc else 0
    finally:
        session.close()
        shutil.rmtree(scratch, ignore_errors=True)
    notes = list(session.notes)
    if discarded:
        notes.append(
            f"the notebook printed {discarded / (1 << 20):.1f} MB more than the "
            f"{limits.output_kb} KB of output kept; the rest was discarded"
        )
    status = "graded"
    if session.deadline is not None and time.monotonic() >= session.deadline:
        status = "timed out"
        notes.insert(0, f"stopped after {limits.timeout_s:g} s for the whole notebook")
    return {
        "status": status,
        "questions": graded,
        "notes": notes,
        "answers": answers,
        "written": written,
        "cpu_s": getattr(session, "cpu_s", None),  # as the child reports it: not trusted
        "stopped": list(session.setup_failed),
    }


def grade_submission(copy, manifest, limits, use_bwrap=True, secret=None):
    """One gradebook row: {question: points}, total, possible, status, reasons, feedback."""
    start = time.monotonic()
    result = run_submission(copy, manifest, limits, use_bwrap, secret)
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
            feedback.append((name, r.hidden, r.passed, r.points, r.message))
    if "error" in result:
        reasons.insert(0, result["error"])
    stopped = result.get("stopped", [])
    if stopped and any("NameError" in r for r in reasons):
        # A setup cell that ran out of time is the cause, not the NameErrors that follow.
        reasons.insert(
            0,
            f"{stopped[0]} ran out of time and was stopped, so the names it defines are "
            "missing: the NameErrors below follow from that (a busy machine, or a slow cell)",
        )
    reasons += [f"note: {_short(note)}" for note in result.get("notes", [])]
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
    }


def flag_duplicates(rows):
    """Notes on submissions with the same file (hash) or nearly the same answer code."""
    by_hash = {}
    for name, row in rows.items():
        by_hash.setdefault(row.get("sha256"), []).append(name)
    for names in by_hash.values():
        if len(names) > 1:
            for name in names:
                others = ", ".join(n for n in names if n != name)
                rows[name]["reasons"].append(f"note: duplicate: the same file as {others}")
    codes = {
        n: re.sub(r"#.*|\s+", "", "\n".join(r.get("answers", []))) for n, r in rows.items()
    }
    names = [n for n in rows if codes[n]]
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if rows[a].get("sha256") == rows[b].get("sha256") or codes[a] == codes[b] == "":
                continue
            matcher = difflib.SequenceMatcher(None, codes[a], codes[b], autojunk=False)
            if min(matcher.real_quick_ratio(), matcher.quick_ratio()) < NEAR_DUPLICATE:
                continue
            ratio = matcher.ratio()
            if ratio >= NEAR_DUPLICATE:
                for x, y in ((a, b), (b, a)):
                    rows[x]["reasons"].append(
                        f"note: near-duplicate: its answer code is {ratio:.0%} the same as {y}'s"
                    )


def grade_folder(folder, manifest, limits=Limits(), jobs=1, progress=None, on_row=None,
                 use_bwrap=None, secret=None):  # fmt: skip
    """Grade every submission in ``folder``: {relative path: row}, in path order.

    Copies and hashes every submission first. ``progress(done, total, name, row)`` is called
    as each finishes, ``on_row(rows so far)`` too (for a partial gradebook). ``secret``
    re-seeds the notebooks' given cells (:func:`reseed`).
    """
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


def _points(x):
    return "" if x is None else f"{round(x, 2):g}"


def _read_manual(path, manifest):
    """Marks a person entered for the written answers in an earlier gradebook at ``path``."""
    manual = [q["name"] for q in manifest["questions"] if q["manual"]]
    try:
        with open(path, newline="", encoding="utf-8") as f:
            table = list(csv.DictReader(f))
    except (OSError, csv.Error):
        return {}
    return {
        r.get("submission"): {q: r[q] for q in manual if r.get(q, "").strip()}
        for r in table
        if r.get("submission")
    }


def write_gradebook(rows, manifest, path):
    """Write the gradebook CSV atomically, keeping marks entered by hand in an earlier one."""
    path = Path(path)
    names = [q["name"] for q in manifest["questions"]]
    kept = _read_manual(path, manifest) if path.exists() else {}
    fd, tmp = tempfile.mkstemp(prefix=".gradebook-", dir=path.parent or ".")
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "sha256", *names, "total", "possible", "status", "reasons"])
        for submission, row in rows.items():
            scores = {n: _points(row["scores"][n]) for n in names}
            scores.update(kept.get(submission, {}))
            writer.writerow(
                [submission, row.get("sha256", "")]
                + [scores[n] for n in names]
                + [_points(row["total"]), _points(row["possible"]), row["status"]]
                + [" | ".join(row["reasons"])]
            )
    os.replace(tmp, path)


def manual_marks(path, manifest):
    """{submission: points entered by hand} from a gradebook file (empty when none)."""
    out = {}
    for submission, marks in _read_manual(path, manifest).items():
        total = 0.0
        for value in marks.values():
            try:
                total += float(value)
            except ValueError:
                pass
        out[submission] = total
    return out


def read_roster(path):
    """{submission: {"name", "id", "email"}} from a CSV with a ``submission`` column."""
    with open(path, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    if not table or "submission" not in table[0]:
        raise ValueError(f"{path}: expected a CSV with a 'submission' column (and name, id, email)")
    return {r["submission"]: r for r in table}


def write_reports(rows, manifest, gradebook, roster=None):
    """Feedback per submission, written answers, summary, Canvas and Moodle CSVs."""
    out = Path(f"{gradebook}.d")
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    assignment = manifest.get("assignment", "assignment")
    manual = [q for q in manifest["questions"] if q["manual"]]
    marks = manual_marks(gradebook, manifest)
    roster = roster or {}
    for name, row in rows.items():
        lines = [f"# {assignment}: feedback for {name}", ""]
        lines.append(f"Automatic part: **{_points(row['total'])} / {_points(row['possible'])}**"
                     f" ({row['status']})")  # fmt: skip
        lines.append("")
        for q, hidden, passed, points, message in row.get("feedback", []):
            mark = "passed" if passed else f"not passed (-{points:g})"
            test = "a hidden test" if hidden else "a public test"
            lines.append(f"- **{q}**, {test}: {mark}")
            if not passed or not hidden:
                lines += ["", "  " + str(message).replace("\n", "\n  "), ""]
        notes = [r[len("note: "):] for r in row["reasons"] if r.startswith("note: ")]
        if notes:
            lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
        safe = re.sub(r"[^\w.-]+", "_", name)
        (out / "feedback" / f"{safe}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    written = [f"# {assignment}: written answers", ""]
    for k, q in enumerate(manual):
        written += [f"## {q['name']} ({q['points']:g} points)", ""]
        for name, row in rows.items():
            answer = row.get("written", [])[k] if k < len(row.get("written", [])) else ""
            written += [f"### {name}", "", answer.strip() or "_(no answer)_", ""]
    (out / "written_answers.md").write_text("\n".join(written), encoding="utf-8")
    totals = [row["total"] for row in rows.values()]
    possible = max((row["possible"] for row in rows.values()), default=0)
    summary = [f"# {assignment}: summary", "", f"{len(rows)} submissions"]
    if totals:
        ordered = sorted(totals)
        summary.append(f"mean {sum(totals) / len(totals):.2f}, median "
                       f"{ordered[len(ordered) // 2]:g} of {possible:g}")  # fmt: skip
        summary += ["", "Score histogram (automatic part):", ""]
        bins = sorted({round(t, 2) for t in totals})
        for b in bins:
            count = sum(1 for t in totals if round(t, 2) == b)
            summary.append(f"    {b:6g} | {'#' * count} {count}")
    statuses = {}
    for row in rows.values():
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    summary += ["", "Status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))]
    flagged = [n for n, r in rows.items() if any("duplicate" in x for x in r["reasons"])]
    if flagged:
        summary += ["", "Duplicates flagged: " + ", ".join(flagged)]
    found = getattr(grade_folder, "found_notes", [])
    if found:
        summary += ["", "Files noted:"] + [f"- {n}" for n in found]
    (out / "summary.md").write_text("\n".join(summary) + "\n", encoding="utf-8")
    column = f"{assignment} ({possible + sum(q['points'] for q in manual):g})"
    with open(out / "canvas.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
        for name, row in rows.items():
            r = roster.get(name, {})
            grade = row["total"] + marks.get(name, 0.0)
            w.writerow([r.get("name", name), r.get("id", ""), r.get("sis_id", ""),
                        r.get("email", ""), r.get("section", ""), _points(grade)])  # fmt: skip
    with open(out / "moodle.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Email address", "Full name", "Grade", "Submission"])
        for name, row in rows.items():
            r = roster.get(name, {})
            grade = row["total"] + marks.get(name, 0.0)
            w.writerow([r.get("email", ""), r.get("name", name), _points(grade), name])
    return out


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
        print(f"[{done}/{total}] {name}: {_points(row['total'])}/{_points(row['possible'])} "
              f"({row['status']}), {time.monotonic() - start:.0f} s", file=sys.stderr)  # fmt: skip

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
        print(f"{submission}: {_points(row['total'])}/{_points(row['possible'])} ({row['status']})")
    print(f"{len(rows)} submissions graded in {time.monotonic() - start:.0f} s; "
          f"gradebook: {args.out}; feedback, summary, LMS files: {reports}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
