"""The book's editions and what may be published (README, "For instructors").

- ``tools/editions.py``: the student edition's table of contents and configuration are the
  book's own, without the solutions;
- ``tools/sphinx_editions.py``: in the student edition a link to a solution becomes text; in
  every edition the published notebooks lose their hidden tests, and a build whose output still
  shows one fails, naming the file (small Sphinx builds);
- ``tools/handout.py``: the exercise notebooks alone, never a solution or a manifest.

``make test`` also builds the real student edition (stage ``student``).
"""

import json
import re
from pathlib import Path

import pytest
import yaml
from helpers import load_tool

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"


editions = load_tool("editions")
sphinx_editions = load_tool("sphinx_editions")
handout = load_tool("handout")


def test_the_student_toc_is_the_books_without_solutions():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    student = editions.student_toc(toc)
    files = lambda t: [c["file"] for p in t["parts"] for c in p["chapters"]]  # noqa: E731
    assert any(f.startswith("solutions/") for f in files(toc))
    assert files(student) == [f for f in files(toc) if not f.startswith("solutions/")]
    assert "Solutions" not in [p["caption"] for p in student["parts"]]
    assert student["root"] == toc["root"]
    with pytest.raises(ValueError, match="root page cannot be a solution"):
        editions.student_toc({"root": "solutions/x", "chapters": []})


def test_the_student_config_excludes_solutions_and_reuses_the_cache(tmp_path):
    editions.write(tmp_path)
    config = yaml.safe_load((tmp_path / "_config.yml").read_text(encoding="utf-8"))
    book = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["exclude_patterns"] == [*book["exclude_patterns"], "solutions"]
    assert config["sphinx"]["config"]["lstm_lessons_edition"] == "student"
    assert config["execute"]["cache"] == str((ROOT / "_build" / ".jupyter_cache").resolve())
    assert config["sphinx"]["local_extensions"] == {
        name: str((ROOT / path).resolve())
        for name, path in book["sphinx"]["local_extensions"].items()
    }
    assert "sphinx_editions" in config["sphinx"]["local_extensions"]
    assert (tmp_path / "_toc.yml").read_text(encoding="utf-8").startswith("# Written by")


def test_the_chinese_edition_is_the_book_in_chinese_from_the_same_cache(tmp_path):
    editions.write(tmp_path, "zh")
    config = yaml.safe_load((tmp_path / "_config.yml").read_text(encoding="utf-8"))
    book = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    toc = yaml.safe_load((tmp_path / "_toc.yml").read_text(encoding="utf-8"))
    sphinx = config["sphinx"]["config"]
    assert config["exclude_patterns"] == book["exclude_patterns"]  # solutions included
    assert config["execute"]["cache"] == str((ROOT / "_build" / ".jupyter_cache").resolve())
    assert sphinx["language"] == "zh_CN" and sphinx["gettext_compact"] is False
    assert sphinx["locale_dirs"] == [str((ROOT / "locales").resolve())]
    assert sphinx["lstm_lessons_require_translation"] is True
    assert sphinx["lstm_lessons_other_language"]["prefix"] == "../"
    assert book["sphinx"]["config"]["lstm_lessons_other_language"]["prefix"] == "zh/"
    # The search cuts Chinese text into words, the glossary's terms among them.
    assert sphinx["html_search_language"] == "zh"
    words = Path(sphinx["html_search_options"]["dict"]).read_text(encoding="utf-8")
    assert "细胞状态 1000 n" in words and "遗忘门 1000 n" in words
    # The same pages, the parts' captions in Chinese (from the root page's catalog).
    english = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    assert [p.get("chapters") for p in toc["parts"]] == [
        p.get("chapters") for p in english["parts"]
    ]
    captions = [p["caption"] for p in toc["parts"]]
    assert all(re.search("[\u4e00-\u9fff]", c) for c in captions), captions
    assert editions.translated_toc(english, {})["parts"][1]["caption"].startswith("Part I")


def test_the_student_edition_has_no_language_link_and_no_bundle(tmp_path):
    editions.write(tmp_path)
    sphinx = yaml.safe_load((tmp_path / "_config.yml").read_text(encoding="utf-8"))["sphinx"]
    assert sphinx["config"]["lstm_lessons_other_language"] is None
    assert sphinx["config"]["lstm_lessons_bundle"] is None


def test_the_gettext_build_renders_outputs_so_that_their_alt_text_is_extracted():
    book = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config = editions.gettext_config(book)["sphinx"]["config"]
    overrides = {(b, mime) for b, mime, _ in config["nb_mime_priority_overrides"]}
    assert ("gettext", "image/png") in overrides and ("gettext", "text/markdown") in overrides
    assert config["gettext_location"] is False and config["gettext_uuid"] is False


def test_a_bad_edition_says_which_there_are(tmp_path):
    with pytest.raises(ValueError, match="edition must be one of student, zh, got 'fr'"):
        editions.write(tmp_path, "fr")


# --- Hidden tests ----------------------------------------------------------------------------

HIDDEN_SOURCE = "def test_secret_sizes(f):\n    return check(f, cases=((9, 8, 7, 6),))\n"
MANIFEST = {
    "assignment": "set1",
    "questions": [
        {"name": "q1", "tests": [
            {"name": "test_public", "hidden": False, "source": "def test_public(f):\n    pass\n"},
            {"name": "test_secret_sizes", "hidden": True, "source": HIDDEN_SOURCE},
        ]},
    ],
}  # fmt: skip


def notebook(manifest=MANIFEST, text="x = 1"):
    return {
        "cells": [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# Set 1"},
                  {"cell_type": "code", "id": "code", "metadata": {}, "source": text,
                   "outputs": [], "execution_count": None}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"},
                     **({"lstm_lessons": json.loads(json.dumps(manifest))} if manifest else {})},
        "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip


def test_strip_hidden_keeps_the_public_tests():
    nb = notebook()
    assert sphinx_editions.strip_hidden(nb) is True
    assert [t["name"] for t in nb["metadata"]["lstm_lessons"]["questions"][0]["tests"]] == [
        "test_public"
    ]
    assert sphinx_editions.strip_hidden(nb) is False


def test_leaks_finds_a_hidden_test_however_it_is_written(tmp_path):
    tests = [("set1", "q1", "test_secret_sizes", HIDDEN_SOURCE)]
    (tmp_path / "clean.html").write_text("<p>test_public passes</p>", encoding="utf-8")
    assert sphinx_editions.leaks(tmp_path, tests) == []
    (tmp_path / "a.ipynb").write_text(json.dumps(notebook()), encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("return check(f, cases=((9, 8, 7, 6),))",
                                            encoding="utf-8")  # fmt: skip
    assert sphinx_editions.leaks(tmp_path, tests) == [
        ("a.ipynb", "set1 q1 test_secret_sizes"),
        ("sub/b.txt", "set1 q1 test_secret_sizes"),
    ]


PAGE = """# Chapter

Worked solutions: {doc}`../solutions/set1`.
"""


def small_build(tmp_path, edition, extra_page=""):
    """Build a chapter and a solution with the extension; (html of the chapter, warnings)."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    src = tmp_path / "src"
    (src / "book").mkdir(parents=True)
    (src / "solutions").mkdir()
    (src / "book" / "ch.md").write_text(PAGE + extra_page, encoding="utf-8")
    (src / "solutions" / "set1.ipynb").write_text(json.dumps(notebook()), encoding="utf-8")
    toc = "book/ch\nsolutions/set1" if edition == "self-study" else "book/ch"
    (src / "index.md").write_text(f"# Index\n\n```{{toctree}}\n{toc}\n```\n", encoding="utf-8")
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(TOOLS)!r})\n"
        "extensions = ['myst_nb', 'sphinx_editions']\n"
        "nb_execution_mode = 'off'\n"
        f"lstm_lessons_edition = {edition!r}\n"
        + ("exclude_patterns = ['solutions']\n" if edition == "student" else ""),
        encoding="utf-8",
    )
    warnings = tmp_path / "warnings.txt"
    with warnings.open("w") as stream, docutils_namespace():
        app = Sphinx(src, src, tmp_path / "html", tmp_path / "doctrees", "html",
                     status=None, warning=stream, freshenv=True)  # fmt: skip
        app.build()
    html = (tmp_path / "html" / "book" / "ch.html").read_text(encoding="utf-8")
    return html, warnings.read_text(encoding="utf-8"), tmp_path / "html"


def test_the_self_study_edition_links_the_solution_without_its_hidden_tests(tmp_path):
    html, warnings, out = small_build(tmp_path, "self-study")
    assert "WARNING" not in warnings, warnings
    assert 'href="../solutions/set1.html"' in html
    published = json.loads((out / "_sources" / "solutions" / "set1.ipynb.txt").read_text("utf-8"))
    tests = published["metadata"]["lstm_lessons"]["questions"][0]["tests"]
    assert [t["name"] for t in tests] == ["test_public"]
    assert sphinx_editions.leaks(out, sphinx_editions.secrets(tmp_path / "src")) == []


def test_the_student_edition_writes_the_solution_link_as_text(tmp_path):
    html, warnings, out = small_build(tmp_path, "student")
    assert "WARNING" not in warnings, warnings
    assert "solutions/set1.html" not in html
    assert (
        f'Worked solutions: <span class="no-solution">{sphinx_editions.NO_SOLUTION}</span>' in html
    )
    assert not (out / "solutions").exists()


def test_a_build_that_shows_a_hidden_test_fails_naming_the_file(tmp_path):
    from sphinx.errors import ExtensionError

    leak = "\nA hint: `return check(f, cases=((9, 8, 7, 6),))`.\n"
    with pytest.raises(ExtensionError, match="the built book shows hidden tests:") as error:
        small_build(tmp_path, "self-study", extra_page=leak)
    assert "\n  book/ch.html: set1 q1 test_secret_sizes" in str(error.value)


def test_an_unknown_edition_is_refused(tmp_path):
    from sphinx.errors import ExtensionError

    with pytest.raises(ExtensionError, match="must be one of .*got 'teacher'"):
        small_build(tmp_path, "teacher")


# --- Hand-out ---------------------------------------------------------------------------------


def test_handout_writes_the_exercises_alone(tmp_path):
    written = handout.handout(tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    sets = sorted(p.name for p in (ROOT / "exercises").glob("*.ipynb"))
    assert names == sorted([*sets, "README.md"]) and len(written) == len(sets)
    for path in written:
        assert path.read_bytes() == (ROOT / "exercises" / path.name).read_bytes()
    tests = sphinx_editions.secrets(ROOT)
    assert tests and sphinx_editions.leaks(tmp_path / "out", tests) == []


def test_handout_of_some_sets_and_an_unknown_one(tmp_path):
    handout.handout(tmp_path / "out", ["ch04_forget_gate"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "README.md", "ch04_forget_gate.ipynb"]  # fmt: skip
    with pytest.raises(ValueError, match=r"no exercise set \['ch99'\]"):
        handout.handout(tmp_path / "out", ["ch99"])


def test_handout_refuses_a_solution_or_a_manifest(tmp_path):
    ex = tmp_path / "exercises"
    ex.mkdir()
    (ex / "a.ipynb").write_text(json.dumps(notebook(manifest=None)), encoding="utf-8")
    (ex / "b.ipynb").write_text(json.dumps(notebook()), encoding="utf-8")
    (ex / "c.ipynb").write_text(
        json.dumps(notebook(manifest=None, text="# BEGIN SOLUTION\nx = 2")), encoding="utf-8"
    )
    assert handout.handout(tmp_path / "out", ["a"], exercises=ex)
    with pytest.raises(ValueError) as error:
        handout.handout(tmp_path / "out", exercises=ex)
    assert str(error.value) == (
        "not handed out:\n"
        "b.ipynb: carries a grading manifest (metadata.lstm_lessons)\n"
        "c.ipynb: a cell contains '# BEGIN SOLUTION'"
    )
