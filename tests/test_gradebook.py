"""What grading writes, on rows made by hand (no sandbox, no notebook runs): the gradebook and
its hand marks, the LMS files, the feedback and the written answers.

Each test pins one defect of the grader's outputs: a formula in a name reaching a spreadsheet,
marks lost between partial writes, a half-written file, two submissions sharing one feedback
file, a student's answer forging a heading, an LMS file its LMS would misread.
"""

import csv
import hashlib
import json
import os
from pathlib import Path

import pytest
from grading_helpers import TOY, notebook
from markdown_it import MarkdownIt

import lstm_lessons
from lstm_lessons.homework import gradebook as gb
from lstm_lessons.homework.grading import (
    Limits,
    RowCache,
    escape_cell,
    grade_folder,
    grade_submission,
    options_key,
    read_gradebook,
    read_roster,
    write_gradebook,
    write_reports,
)


def _row(total, written="", reasons=(), status="graded"):
    scores = {"q1": min(total, 1), "q2": min(max(total - 1, 0), 1), "q3": max(total - 2, 0),
              "q4": None}  # fmt: skip
    return {
        "sha256": hashlib.sha256(str(total).encode()).hexdigest(),
        "scores": scores,
        "total": total,
        "possible": 4,
        "status": status,
        "reasons": list(reasons),
        "feedback": [("q1", False, total > 0, 1.0, "double(2) checked")],
        "answers": [],
        "written": [written],
    }


def _csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


# OWASP's characters that start a formula, each at the start (escaped) and inside (left).
FORMULA_NAMES = ["=1+1.ipynb", "+1.ipynb", "-1.ipynb", "@SUM(A1).ipynb", "\tx.ipynb",
                 "\rx.ipynb", "'x.ipynb"]  # fmt: skip
SAFE_NAMES = ["a=1+1.ipynb", "a+1.ipynb", "a-1.ipynb", "a@b.ipynb", "plain.ipynb"]


@pytest.mark.parametrize("name", FORMULA_NAMES + SAFE_NAMES)
def test_escape_cell_prefixes_a_quote_only_where_a_formula_could_start(name):
    escaped = escape_cell(name)
    assert escaped == ("'" + name if name in FORMULA_NAMES else name)
    assert gb.unescape_cell(escaped) == name


def test_no_csv_cell_starts_a_formula_and_names_read_back_as_written(tmp_path):
    names = FORMULA_NAMES + SAFE_NAMES
    rows = {n: _row(k % 5, reasons=["-1 point: =HYPERLINK(\"x\")"]) for k, n in enumerate(names)}
    rows = dict(sorted(rows.items()))
    roster = {n: {"submission": n, "name": "=HYPERLINK(\"http://x\")", "id": "+7",
                  "email": "@me", "sis_id": "-3", "section": "\tA"} for n in names}  # fmt: skip
    out = tmp_path / "gradebook.csv"
    write_gradebook(rows, TOY, out)
    reports = write_reports(rows, TOY, out, roster)
    for path in (out, reports / "canvas.csv", reports / "moodle.csv"):
        cells = [c for line in _csv(path) for c in line]
        bad = [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
        assert not bad, f"{path.name}: {bad}"
    table = _csv(out)
    assert [r[0] for r in table[1:]] == [escape_cell(n) for n in sorted(names)]
    assert "a=1+1.ipynb" in [r[0] for r in table]  # an = inside a name is left as it is
    assert list(read_gradebook(out, TOY)[1]) == sorted(names)


def test_printable_keeps_a_name_on_one_line():
    assert gb.printable("new\nline\r\t.ipynb") == "new\\nline\\r\\t.ipynb"
    assert gb.printable("学生 a.ipynb") == "学生 a.ipynb"


def test_hand_marks_read_once_survive_every_partial_write(tmp_path):
    # The two-student class: both marks entered, then the run rewrites the gradebook
    # after each row. Before, each partial write re-read the file it had just shortened.
    out = tmp_path / "gradebook.csv"
    rows = {"alice.ipynb": _row(4), "bob.ipynb": _row(4)}
    write_gradebook(rows, TOY, out)
    table = _csv(out)
    for line in table[1:]:
        line[5] = "2"
    with open(out, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(table)
    marks, earlier = read_gradebook(out, TOY)
    assert marks == {"alice.ipynb": {"q4": "2"}, "bob.ipynb": {"q4": "2"}}
    write_gradebook({"bob.ipynb": _row(4)}, TOY, out, kept=marks, carried=earlier)
    assert [(r[0], r[5]) for r in _csv(out)[1:]] == [("alice.ipynb", "2"), ("bob.ipynb", "2")]
    write_gradebook(rows, TOY, out, kept=marks, carried=earlier)
    assert [(r[0], r[5]) for r in _csv(out)[1:]] == [("alice.ipynb", "2"), ("bob.ipynb", "2")]
    reports = write_reports(rows, TOY, out)
    assert [r[-1] for r in _csv(reports / "canvas.csv")[2:]] == ["6", "6"]


def test_a_write_is_synced_before_it_replaces_and_a_failed_one_leaves_the_old_file(
    tmp_path, monkeypatch
):
    out = tmp_path / "gradebook.csv"
    write_gradebook({"a.ipynb": _row(4)}, TOY, out)
    before = out.read_bytes()
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(gb.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(gb.os, "replace",
                        lambda a, b: (calls.append("replace"), real_replace(a, b))[1])  # fmt: skip
    write_gradebook({"a.ipynb": _row(3)}, TOY, out)
    assert calls == ["fsync", "replace", "fsync"]  # the file, the rename, then the folder

    def broken(a, b):
        raise OSError("disk full")

    monkeypatch.setattr(gb.os, "replace", broken)
    after_first = out.read_bytes()
    assert after_first != before
    with pytest.raises(OSError, match="disk full"):
        write_gradebook({"a.ipynb": _row(0)}, TOY, out)
    assert out.read_bytes() == after_first
    assert [p.name for p in tmp_path.iterdir()] == ["gradebook.csv"]  # no temporary file left


def test_two_names_that_map_to_one_file_get_a_feedback_file_each(tmp_path):
    rows = {"jane_doe.ipynb": _row(4), "jane doe.ipynb": _row(0),
            "alice/ch01.ipynb": _row(1), "alice_ch01.ipynb": _row(2)}  # fmt: skip
    reports = write_reports(rows, TOY, tmp_path / "gradebook.csv")
    files = sorted((reports / "feedback").iterdir())
    assert len(files) == 4
    by_title = {}
    for f in files:
        text = f.read_text()
        by_title[text.splitlines()[0].split("feedback for ")[1]] = text
    assert set(by_title) == set(rows)
    for name, row in rows.items():
        assert f"Automatic part: **{row['total']} / 4**" in by_title[name]
    assert (reports / "feedback" / "jane_doe.ipynb.md").exists()  # an ordinary name is kept


def test_written_answers_are_fenced_so_no_answer_forges_a_heading(tmp_path):
    forged = ("My answer.\n\n### classmate.ipynb\n\nTheir answer, rewritten.\n\n"
              "## q5 (9 points)\n\n```\n# not a heading\n```\n")  # fmt: skip
    fence_breaker = "````\n# still not a heading\n````\n"  # a run of 4: the fence needs 5
    rows = {"a.ipynb": _row(4, forged), "b.ipynb": _row(4, fence_breaker),
            "c\n# d.ipynb": _row(4, ""), "e`x`.ipynb": _row(4, "plain")}  # fmt: skip
    reports = write_reports(rows, TOY, tmp_path / "gradebook.csv")
    text = (reports / "written_answers.md").read_text()
    tokens = MarkdownIt("commonmark").parse(text)
    headings = ["".join(c.content for c in tokens[k + 1].children)
                for k, t in enumerate(tokens) if t.type == "heading_open"]  # fmt: skip
    assert headings == [
        "toy: written answers",
        "q4 (2 points)",
        "Submission a.ipynb",
        "Submission b.ipynb",
        "Submission c\\n# d.ipynb",
        "Submission e`x`.ipynb",
    ]
    fenced = [t.content for t in tokens if t.type == "fence"]
    assert fenced == [forged, fence_breaker, "plain\n"]
    assert "````` text" not in text and "`````text" in text  # just longer than the answer's run


def test_a_corrupt_notebook_feedback_says_why_it_could_not_be_read(tmp_path):
    corrupt = tmp_path / "corrupt.ipynb"
    corrupt.write_text('{"cells": [', encoding="utf-8")
    row = grade_submission(corrupt, TOY, Limits(), use_bwrap=False)
    assert row["status"] == "unreadable"
    reports = write_reports({"corrupt.ipynb": row}, TOY, tmp_path / "gradebook.csv")
    feedback = (reports / "feedback" / "corrupt.ipynb.md").read_text()
    assert "This file could not be read: not a readable notebook: JSONDecodeError" in feedback


def test_every_file_gets_a_row_and_a_zip_says_why_it_was_not_graded(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "work.zip").write_bytes(b"PK\x03\x04")
    (folder / "notes").write_text("no suffix")
    (folder / ".DS_Store").write_bytes(b"\0")  # hidden: no row
    rows = grade_folder(folder, TOY, use_bwrap=False)
    assert list(rows) == ["notes", "work.zip"]
    assert rows["work.zip"]["status"] == "not graded"
    assert rows["work.zip"]["reasons"] == [
        "not graded: not a notebook (.ipynb): a .zip archive is not opened; "
        "hand in the .ipynb file itself"
    ]
    assert "a file without a suffix" in rows["notes"]["reasons"][0]
    assert rows["work.zip"]["sha256"] == hashlib.sha256(b"PK\x03\x04").hexdigest()
    reports = write_reports(rows, TOY, tmp_path / "gradebook.csv")
    assert "was not graded: not graded: not a notebook" in (
        reports / "feedback" / "work.zip.md"
    ).read_text()
    assert _csv(reports / "canvas.csv")[2] == ["notes", "", "", "", "", ""]  # no grade given


def test_canvas_and_moodle_files_follow_their_import_formats(tmp_path):
    rows = {"s1.ipynb": _row(4), "s2.ipynb": _row(1), "stray.ipynb": _row(3)}
    roster_csv = tmp_path / "roster.csv"
    roster_csv.write_text(
        "submission,name,id,email,sis_id,section\n"
        "s1.ipynb,Ada Lovelace,101,ada@uni.edu,S101,A\n"
        ",Charles Babbage,102,cb@uni.edu,S102,A\n"
        "s2.ipynb,Alan Turing,103,at@uni.edu,S103,B\n",
        encoding="utf-8",
    )
    roster = read_roster(roster_csv)
    out = tmp_path / "gradebook.csv"
    reports = write_reports(rows, TOY, out, roster, marks={"s1.ipynb": 1.5},
                            canvas_assignment_id="2417")  # fmt: skip
    assert _csv(reports / "canvas.csv") == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "toy (2417)"],
        ["Points Possible", "", "", "", "", "6"],
        ["Ada Lovelace", "101", "S101", "ada@uni.edu", "A", "5.5"],
        ["Charles Babbage", "102", "S102", "cb@uni.edu", "A", ""],
        ["Alan Turing", "103", "S103", "at@uni.edu", "B", "1"],
    ]
    assert _csv(reports / "moodle.csv") == [
        ["Email address", "Full name", "Grade", "ID number", "Submission"],
        ["ada@uni.edu", "Ada Lovelace", "5.5", "101", "s1.ipynb"],
        ["cb@uni.edu", "Charles Babbage", "", "102", ""],
        ["at@uni.edu", "Alan Turing", "1", "103", "s2.ipynb"],
    ]
    summary = (reports / "summary.md").read_text()
    assert "Submissions missing from the roster (not in the LMS files):\n- stray.ipynb" in summary
    assert "no submission (no grade in the LMS files):\n- Charles Babbage (102)" in summary
    # Without an assignment ID the column names the assignment alone (Canvas creates it).
    reports = write_reports(rows, TOY, out)
    assert _csv(reports / "canvas.csv")[0][-1] == "toy"


def test_a_roster_must_name_each_submission_once(tmp_path):
    roster_csv = tmp_path / "roster.csv"
    roster_csv.write_text("submission,name\na.ipynb,A\na.ipynb,B\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'a.ipynb' is on two lines; expected one each"):
        read_roster(roster_csv)


def test_a_row_is_kept_for_the_same_file_version_and_options_only(tmp_path, monkeypatch):
    limits = Limits()
    key = options_key(TOY, limits, True, "s3cret")
    assert key == options_key(json.loads(json.dumps(TOY)), Limits(), True, "s3cret")
    changed = [
        options_key(TOY, Limits(timeout_s=299), True, "s3cret"),
        options_key(TOY, limits, False, "s3cret"),
        options_key(TOY, limits, True, "other"),
        options_key(TOY, limits, True, None),
        options_key({**TOY, "assignment": "toy2"}, limits, True, "s3cret"),
    ]
    monkeypatch.setattr(lstm_lessons, "__version__", "0.0.0-other")
    changed.append(options_key(TOY, limits, True, "s3cret"))
    assert key not in changed and len(set(changed)) == len(changed)
    cache = RowCache(tmp_path / "rows", key)
    row = _row(3)
    assert cache.get(row["sha256"]) is None
    cache.put(row["sha256"], row)
    kept = cache.get(row["sha256"])
    assert kept["total"] == 3 and kept["reasons"] == row["reasons"]
    assert RowCache(tmp_path / "rows", changed[0]).get(row["sha256"]) is None
    assert cache.get("0" * 64) is None
    assert "s3cret" not in "".join(p.read_text() for p in (tmp_path / "rows").iterdir())


def test_notebooks_written_here_are_real_notebooks(tmp_path):
    # (the helper the other grading tests build their classes with)
    notebook(tmp_path / "x.ipynb", ["value = 7\n"])
    assert json.loads(Path(tmp_path / "x.ipynb").read_text())["cells"][0]["source"]


def test_each_feedback_file_is_in_the_language_of_its_notebook(tmp_path):
    # A Chinese notebook's row says "zh" (score.submission_language); its feedback file is in
    # Chinese, the English one's beside it stays English.
    rows = {"en.ipynb": _row(0, reasons=["note: the output was cut"]), "zh.ipynb": _row(0)}
    rows["zh.ipynb"]["language"] = "zh"
    rows["zh.ipynb"]["reasons"] = ["note: 输出被截断", "note: near-duplicate: 与参考答案相同"]
    out = tmp_path / "gradebook.csv"
    write_gradebook(rows, TOY, out)
    reports = write_reports(rows, TOY, out)
    english = (reports / "feedback" / "en.ipynb.md").read_text(encoding="utf-8")
    chinese = (reports / "feedback" / "zh.ipynb.md").read_text(encoding="utf-8")
    assert "Automatic part: **0 / 4** (graded)" in english and "## Notes" in english
    assert "- **q1**, a public test: not passed (-1)" in english
    assert "自动评分部分：**0 / 4**（已评分）" in chinese and "## 备注" in chinese
    assert "- **q1**，一项公开测试：未通过（-1）" in chinese
    assert "- 与已发布答案或他人提交近似重复：与参考答案相同" in chinese
    assert "Automatic" not in chinese and "passed" not in chinese and "duplicate" not in chinese
