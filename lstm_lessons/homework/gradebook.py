"""What grading a class writes: the gradebook CSV, feedback, written answers, summary, LMS files.

Marks entered by hand live in the gradebook's columns of the written answers. A run reads the
earlier gradebook once, before it writes anything (:func:`read_gradebook`), and every write
(:func:`write_gradebook`) is a whole file, written to a temporary file, synced and renamed over
the old one: it holds every row (graded in this run, or carried from the earlier gradebook
until its submission is graded again) and every mark, so no interruption loses either.

Every cell of the CSV files is escaped against formula injection as OWASP advises for CSV
(:func:`escape_cell`); the student text in ``written_answers.md`` is fenced, so that it cannot
forge a heading or a question.
"""

import csv
import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict
from pathlib import Path

import lstm_lessons

from .language import tr, use

# OWASP, "CSV Injection": a cell that starts with one of these is read as a formula by
# spreadsheets; it is prefixed with a single quote. A cell that starts with a quote gets one
# too, so that reading back (:func:`unescape_cell`) removes exactly what was added.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def points_text(x):
    return "" if x is None else f"{round(x, 2):g}"


def escape_cell(value):
    """``value`` as a CSV cell no spreadsheet runs: ``=1+1`` becomes ``'=1+1``."""
    value = "" if value is None else str(value)
    return "'" + value if value.startswith((*FORMULA_START, "'")) else value


def unescape_cell(value):
    """The value :func:`escape_cell` escaped."""
    return value[1:] if value.startswith("'") else value


def printable(text):
    """``text`` on one line: a newline or other control character written as an escape."""
    return CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))


def _csv_writer(f):
    writer = csv.writer(f)

    class Escaped:
        def writerow(self, cells):
            writer.writerow([escape_cell(c) for c in cells])

    return Escaped()


def _atomic_write(path, write):
    """Call ``write(file)`` on a temporary file beside ``path``, sync it, rename it to ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover (a folder that cannot be opened: nothing to sync)
        return
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def read_gradebook(path, manifest):
    """(marks, table) of an earlier gradebook: {submission: {question: mark}}, {submission: row}.

    ``marks`` are the non-empty cells of the written answers' columns; ``table`` is every row
    as read (unescaped). Both are empty when there is no gradebook.
    """
    manual = [q["name"] for q in manifest["questions"] if q["manual"]]
    try:
        with open(path, newline="", encoding="utf-8") as f:
            table = [{k: unescape_cell(v or "") for k, v in r.items() if k}
                     for r in csv.DictReader(f)]  # fmt: skip
    except (OSError, csv.Error, UnicodeDecodeError):
        return {}, {}
    table = {r["submission"]: r for r in table if r.get("submission")}
    marks = {s: {q: r[q] for q in manual if r.get(q, "").strip()} for s, r in table.items()}
    return {s: m for s, m in marks.items() if m}, table


def _read_manual(path, manifest):
    return read_gradebook(path, manifest)[0]


def write_gradebook(rows, manifest, path, kept=None, carried=None):
    """Write the gradebook CSV atomically, with the marks entered by hand.

    ``kept`` is {submission: {question: mark}} as :func:`read_gradebook` read it before the
    run wrote anything; when None, the gradebook at ``path`` is read now. ``carried`` is
    {submission: row of the earlier gradebook}: written as it was for each submission not in
    ``rows`` (not graded again yet), so that an interrupted run drops no row.
    """
    path = Path(path)
    names = [q["name"] for q in manifest["questions"]]
    header = ["submission", "sha256", *names, "total", "possible", "status", "reasons"]
    if kept is None:
        kept = _read_manual(path, manifest) if path.exists() else {}
    lines = {}
    for submission, old in (carried or {}).items():
        if submission not in rows:
            lines[submission] = [old.get(h, "") for h in header]
    for submission, row in rows.items():
        scores = {n: points_text(row["scores"].get(n)) for n in names}
        lines[submission] = (
            [submission, row.get("sha256", "")]
            + [scores[n] for n in names]
            + [points_text(row["total"]), points_text(row["possible"]), row["status"]]
            + [" | ".join(row["reasons"])]
        )
    for submission, marks in kept.items():
        if submission in lines:
            for q, mark in marks.items():
                if q in names:
                    lines[submission][2 + names.index(q)] = mark

    def write(f):
        writer = _csv_writer(f)
        writer.writerow(header)
        for submission in sorted(lines):
            writer.writerow(lines[submission])

    _atomic_write(path, write)


def manual_marks_total(marks):
    """The sum of one submission's marks {question: mark}; a mark that is not a number counts 0."""
    total = 0.0
    for value in marks.values():
        try:
            total += float(value)
        except ValueError:
            pass
    return total


def manual_marks(path, manifest):
    """{submission: points entered by hand} from a gradebook file (empty when none)."""
    return {s: manual_marks_total(m) for s, m in _read_manual(path, manifest).items()}


def read_roster(path):
    """{submission: {"name", "id", "email", ...}} from a CSV with a ``submission`` column.

    A student who handed nothing in has an empty ``submission``; they are kept under the key
    ``"(none) <k>"`` (k their line), so that the LMS files still have their row.
    """
    with open(path, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    if not table or "submission" not in table[0]:
        raise ValueError(f"{path}: expected a CSV with a 'submission' column (and name, id, email)")
    out = {}
    for k, r in enumerate(table, start=2):
        key = r["submission"] or f"(none) {k}"
        if key in out:
            raise ValueError(f"{path}: the submission {key!r} is on two lines; expected one each")
        out[key] = r
    return out


def options_key(manifest, limits, use_bwrap, secret):
    """What a row depends on besides the file: grader version, tests, limits, sandbox, secret."""
    blob = json.dumps(
        {
            "version": lstm_lessons.__version__,
            "manifest": manifest,
            "limits": asdict(limits),
            "sandbox": bool(use_bwrap),
            "secret": hashlib.sha256(secret.encode()).hexdigest() if secret else None,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class RowCache:
    """The rows graded so far, one JSON file each, keyed by the file's SHA-256 and the options.

    A re-run with the same file, grader version and options (:func:`options_key`) takes the
    row from here instead of grading the notebook again.
    """

    def __init__(self, folder, key):
        self.folder, self.key = Path(folder), key

    def _path(self, sha256):
        return self.folder / (hashlib.sha256(f"{sha256}:{self.key}".encode()).hexdigest() + ".json")

    def get(self, sha256):
        try:
            stored = json.loads(self._path(sha256).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or stored.get("key") != self.key:
            return None
        return stored.get("row")

    def put(self, sha256, row):
        self.folder.mkdir(parents=True, exist_ok=True)
        _atomic_write(self._path(sha256),
                      lambda f: json.dump({"key": self.key, "row": row}, f))  # fmt: skip


def feedback_name(submission):
    """The feedback file's name: the submission's, or, when that needs changing, with a hash.

    ``jane_doe.ipynb`` keeps its name; ``jane doe.ipynb`` and ``alice/ch01.ipynb`` become
    ``jane_doe.ipynb-<8 hex>`` and ``alice_ch01.ipynb-<8 hex>``, so no two submissions share
    a file.
    """
    safe = re.sub(r"[^\w.-]+", "_", submission)
    if safe != submission or safe.startswith("."):
        safe += "-" + hashlib.sha256(submission.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{safe}.md"


def _code_span(text):
    text = printable(text)
    ticks = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks} {text} {ticks}"


def _fence(text):
    """``text`` in a fenced block that no line of it can close."""
    ticks = "`" * max(3, max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    return [f"{ticks}text", text.rstrip("\n"), ticks]


def _lms_rows(rows, roster, marks):
    """[(roster entry or {}, submission or None, grade or None)]: the roster's students first."""
    out, seen = [], set()

    def grade(name):
        row = rows[name]
        return None if row["status"] == "not graded" else row["total"] + marks.get(name, 0.0)

    for key, r in roster.items():
        if key in rows:
            seen.add(key)
            out.append((r, key, grade(key)))
        else:
            out.append((r, None, None))
    for name in rows:
        if name not in seen and not roster:
            out.append(({}, name, grade(name)))
    return out


def _feedback_lines(assignment, name, row):
    """The lines of one student's feedback file, in the current language."""
    lines = [tr("# {assignment}: feedback for {name}", assignment=assignment, name=printable(name))]
    lines.append("")
    score = f"{points_text(row['total'])} / {points_text(row['possible'])}"
    lines.append(
        tr("Automatic part: **{score}** ({status})", score=score, status=_status(row["status"]))
    )
    lines.append("")
    if row.get("error"):
        if row["status"] == "not graded":
            lines += [tr("This file was not graded: {error}", error=row["error"]), ""]
        else:
            lines += [tr("This file could not be read: {error}", error=row["error"]), ""]
    for q, hidden, passed, points, message in row.get("feedback", []):
        if passed:
            mark = tr("passed")
        else:
            mark = tr("not passed (-{points:g})", points=points)
        if hidden:
            lines.append(tr("- **{question}**, a hidden test: {mark}", question=q, mark=mark))
        else:
            lines.append(tr("- **{question}**, a public test: {mark}", question=q, mark=mark))
        if not passed or not hidden:
            lines += ["", "  " + str(message).replace("\n", "\n  "), ""]
    row_notes = [_note(r[len("note: ") :]) for r in row["reasons"] if r.startswith("note: ")]
    if row_notes:
        lines += ["", tr("## Notes"), ""] + [f"- {n}" for n in row_notes]
    return lines


def _note(note):
    """A note as the feedback file says it: its marker (kept in English in the gradebook, where
    the summary counts the duplicates by it) in the file's language."""
    if note.startswith("duplicate: "):
        return tr("duplicate: {note}", note=note[len("duplicate: ") :])
    if note.startswith("near-duplicate: "):
        return tr("near-duplicate: {note}", note=note[len("near-duplicate: ") :])
    return note


def _status(status):
    """A row's status (a gradebook value, English there) as the feedback file says it."""
    said = {
        "graded": tr("graded"),
        "not graded": tr("not graded"),
        "timed out": tr("timed out"),
        "unreadable": tr("unreadable"),
    }
    return said.get(status, status)


def write_reports(rows, manifest, gradebook, roster=None, marks=None, notes=(),
                  canvas_assignment_id=None):  # fmt: skip
    """Feedback per submission, written answers, summary, Canvas and Moodle CSVs.

    ``marks`` is {submission: points entered by hand} (read from ``gradebook`` when None);
    ``notes`` are the grader's notes on the files found. Returns the folder written.
    """
    out = Path(f"{gradebook}.d")
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    assignment = manifest.get("assignment", "assignment")
    manual = [q for q in manifest["questions"] if q["manual"]]
    if marks is None:
        marks = manual_marks(gradebook, manifest)
    roster = roster or {}
    for name, row in rows.items():
        # Each student's file is in the language of the student's notebook (score.py).
        with use(row.get("language", "en")):
            lines = _feedback_lines(assignment, name, row)
        text = "\n".join(lines) + "\n"
        (out / "feedback" / feedback_name(name)).write_text(text, encoding="utf-8")
    written = [f"# {assignment}: written answers", "",
               "Each answer is quoted as the student wrote it, in a fenced block.", ""]  # fmt: skip
    for k, q in enumerate(manual):
        written += [f"## {q['name']} ({q['points']:g} points)", ""]
        for name, row in rows.items():
            if row["status"] == "not graded":
                continue
            answer = row.get("written", [])[k] if k < len(row.get("written", [])) else ""
            written += [f"### Submission {_code_span(name)}", ""]
            written += (_fence(answer) if answer.strip() else ["_(no answer)_"]) + [""]
    (out / "written_answers.md").write_text("\n".join(written), encoding="utf-8")
    graded = {n: r for n, r in rows.items() if r["status"] != "not graded"}
    totals = [row["total"] for row in graded.values()]
    possible = max((row["possible"] for row in rows.values()), default=0)
    summary = [f"# {assignment}: summary", "", f"{len(graded)} submissions"]
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
    flagged = [printable(n) for n, r in rows.items()
               if any("duplicate" in x for x in r["reasons"])]  # fmt: skip
    if flagged:
        summary += ["", "Duplicates flagged: " + ", ".join(flagged)]
    if notes:
        summary += ["", "Files noted:"] + [f"- {printable(n)}" for n in notes]
    unlisted = [n for n in rows if roster and n not in roster]
    absent = [r for key, r in roster.items() if key not in rows]
    if unlisted:
        summary += ["", "Submissions missing from the roster (not in the LMS files):"]
        summary += [f"- {printable(n)}" for n in unlisted]
    if absent:
        summary += ["", "Students of the roster with no submission (no grade in the LMS files):"]
        summary += [f"- {printable(r.get('name', ''))} ({printable(r.get('id', ''))})"
                    for r in absent]  # fmt: skip
    (out / "summary.md").write_text("\n".join(summary) + "\n", encoding="utf-8")
    full = possible + sum(q["points"] for q in manual)
    lms = _lms_rows(rows, roster, marks)

    # Canvas's gradebook import ("How do I import grades in the Gradebook?", Canvas Instructor
    # Guide): the columns Student, ID, SIS User ID, SIS Login ID, Section, then one column per
    # assignment headed "<name> (<assignment id>)" for an existing assignment, or "<name>"
    # alone to create one; a row "Points Possible" under the header gives its points. A blank
    # grade leaves the student's grade as it is.
    column = f"{assignment} ({canvas_assignment_id})" if canvas_assignment_id else assignment

    def canvas(f):
        w = _csv_writer(f)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
        w.writerow(["Points Possible", "", "", "", "", points_text(full)])
        for r, name, grade in lms:
            w.writerow([printable(r.get("name") or name or ""), r.get("id", ""),
                        r.get("sis_id", ""), r.get("email", ""), r.get("section", ""),
                        points_text(grade)])  # fmt: skip

    # Moodle's grade import ("Grade import", MoodleDocs, CSV import): one row per student, a
    # column that identifies them (mapped "Email address" -> useremail, or "ID number" ->
    # useridnumber) and a column per grade item, mapped by hand on import; other columns are
    # ignored.
    def moodle(f):
        w = _csv_writer(f)
        w.writerow(["Email address", "Full name", "Grade", "ID number", "Submission"])
        for r, name, grade in lms:
            w.writerow([r.get("email", ""), printable(r.get("name") or name or ""),
                        points_text(grade), r.get("id", ""), printable(name or "")])  # fmt: skip

    _atomic_write(out / "canvas.csv", canvas)
    _atomic_write(out / "moodle.csv", moodle)
    return out
