"""What grading a class writes: the gradebook CSV, feedback, written answers, summary, LMS files."""

import csv
import os
import re
import tempfile
from pathlib import Path


def points_text(x):
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
            scores = {n: points_text(row["scores"][n]) for n in names}
            scores.update(kept.get(submission, {}))
            writer.writerow(
                [submission, row.get("sha256", "")]
                + [scores[n] for n in names]
                + [points_text(row["total"]), points_text(row["possible"]), row["status"]]
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
        score = f"{points_text(row['total'])} / {points_text(row['possible'])}"
        lines.append(f"Automatic part: **{score}** ({row['status']})")
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
    from .grading import grade_folder

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
                        r.get("email", ""), r.get("section", ""), points_text(grade)])  # fmt: skip
    with open(out / "moodle.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Email address", "Full name", "Grade", "Submission"])
        for name, row in rows.items():
            r = roster.get(name, {})
            grade = row["total"] + marks.get(name, 0.0)
            w.writerow([r.get("email", ""), r.get("name", name), points_text(grade), name])
    return out
