"""The Chinese exercise and solution notebooks (exercises/zh, solutions/zh), feedback in Chinese,
and the offline bundle.

- The copies are what the English notebooks and the catalogs make, every paragraph translated
  (``tools/translate_notebooks.py --check``), with the English notebooks' code but for the
  grader's language.
- A Chinese exercise notebook's grader gives its feedback in Chinese: a wrong answer is diagnosed
  in Chinese with no English left but code and names; a right answer passes.
- The class grader grades a Chinese solution as it grades the English one (full marks) and writes
  its feedback in Chinese; an English submission in the same class keeps English.
- The bundle holds every notebook in both languages and the package, and no hidden test.
"""

import json
import re
import zipfile

import nbformat
import pytest
from grading_helpers import ROOT, need_bwrap
from helpers import load_tool

from lstm_lessons.homework import language
from lstm_lessons.homework.grading import Limits, grade_folder
from lstm_lessons.homework.runner import load_manifest

translate_notebooks = load_tool("translate_notebooks")
translations = load_tool("translations")
bundle = load_tool("bundle")
LIMITS = Limits(cell_timeout_s=120, test_timeout_s=120, timeout_s=600)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_the_copies_are_current_and_whole():
    made = translate_notebooks.copies()
    assert len(made) == 2 * len(list((ROOT / "exercises").glob("*.ipynb")))
    for path, (notebook, missing) in made.items():
        rel = path.relative_to(ROOT)
        assert missing == [], f"{rel}: not translated: {missing[0][:80]!r}"
        assert path.read_text(encoding="utf-8") == translate_notebooks.dumps(notebook), (
            f"{rel} is stale: run python tools/translate_notebooks.py"
        )


@pytest.mark.parametrize("folder", ["exercises", "solutions"])
def test_a_copy_has_the_english_code_and_chinese_prose(folder):
    for english_path in sorted((ROOT / folder).glob("*.ipynb")):
        english = json.loads(english_path.read_text(encoding="utf-8"))
        chinese = json.loads((ROOT / folder / "zh" / english_path.name).read_text("utf-8"))
        code = [_source(c) for c in english["cells"] if c["cell_type"] == "code"]
        code_zh = [_source(c) for c in chinese["cells"] if c["cell_type"] == "code"]
        assert [re.sub(r', language="zh"\)', ")", c) for c in code_zh] == code
        assert any('language="zh"' in c for c in code_zh), english_path.name
        prose = [_source(c) for c in chinese["cells"] if c["cell_type"] == "markdown"]
        assert all(CJK.search(p) for p in prose if translations.needs_translation(p))
        assert chinese["metadata"]["lstm_lessons_language"] == "zh"
        assert "lstm_lessons" not in chinese["metadata"]  # no grading manifest


def _run_until_grader(path):
    """The namespace of a notebook's code cells up to and including the one making the grader."""
    namespace = {}
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = _source(cell)
        if cell["cell_type"] != "code" or source.lstrip().startswith(("#", "%")) and "%" in source:
            continue
        exec(compile(source, str(path), "exec"), namespace)
        if "grader" in namespace:
            return namespace
    raise AssertionError(f"{path} makes no grader")


def _no_english(message):
    """The English left in a message once its code, values and names are set aside."""
    text = re.sub(r"`[^`]*`", " ", message)
    text = re.sub(r"\([^()]*\)|\[[^\]]*\]|'[^']*'", " ", text)  # shapes, indices, repr values
    return translations.english_left(text)


def test_a_chinese_exercise_notebook_gives_its_feedback_in_chinese():
    env = _run_until_grader(ROOT / "exercises" / "zh" / "ch04_forget_gate.ipynb")
    np = env["np"]

    def forget_gate(x, h_prev, W_xf, W_hf, b_f):  # tanh where the gate needs a sigmoid
        return np.tanh(x @ W_xf + h_prev @ W_hf + b_f)

    env["forget_gate"] = forget_gate
    wrong = repr(env["grader"].check("q1", env))
    assert wrong.startswith("q1：") and "❌" in wrong, wrong
    assert CJK.search(wrong.split("\n", 1)[1]), wrong
    assert _no_english(wrong) == [], wrong

    env["forget_gate"] = lambda x, h_prev, W_xf, W_hf, b_f: (
        1 / (1 + np.exp(-(x @ W_xf + h_prev @ W_hf + b_f)))
    )
    right = repr(env["grader"].check("q1", env))
    assert "❌" not in right and CJK.search(right), right
    # The English notebooks keep English in the same session only if it says so: the Chinese
    # grader chose Chinese for the session, as a notebook's setting does.
    assert language.language() == "zh"


def test_the_class_grader_grades_a_chinese_notebook_as_the_english_one_in_chinese(tmp_path):
    need_bwrap()
    folder = tmp_path / "class"
    folder.mkdir()
    name = "ch04_forget_gate.ipynb"
    english = nbformat.read(ROOT / "solutions" / name, as_version=4)
    english.metadata.pop("lstm_lessons", None)
    nbformat.write(english, folder / "english.ipynb")
    (folder / "chinese.ipynb").write_text(
        (ROOT / "solutions" / "zh" / name).read_text(encoding="utf-8"), encoding="utf-8"
    )
    blank = nbformat.read(ROOT / "exercises" / "zh" / name, as_version=4)
    nbformat.write(blank, folder / "blank_chinese.ipynb")
    manifest = load_manifest(ROOT / "solutions" / name)

    rows = grade_folder(folder, manifest, LIMITS, jobs=2)

    en, zh, blank_zh = rows["english.ipynb"], rows["chinese.ipynb"], rows["blank_chinese.ipynb"]
    assert zh["scores"] == en["scores"] and zh["total"] == zh["possible"] > 0, zh["reasons"]
    assert (en["language"], zh["language"], blank_zh["language"]) == ("en", "zh", "zh")
    assert blank_zh["total"] == 0
    failed = [m for _, hidden, passed, _, m in blank_zh["feedback"] if not passed and not hidden]
    assert failed and all(CJK.search(m) for m in failed), failed
    passed = [m for _, _, ok, _, m in en["feedback"] if ok]
    assert passed and not any(CJK.search(m) for m in passed), passed


def test_the_bundle_holds_every_notebook_in_both_languages_and_the_package(tmp_path):
    path = bundle.write(tmp_path / "b.zip")
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        for folder in ("notebooks", "exercises", "solutions"):
            for nb in (ROOT / folder).rglob("*.ipynb"):
                assert f"{bundle.NAME}/{nb.relative_to(ROOT).as_posix()}" in names, nb
        assert any(n.startswith(f"{bundle.NAME}/notebooks/zh/") for n in names)
        assert f"{bundle.NAME}/lstm-lessons/pyproject.toml" in names
        assert f"{bundle.NAME}/lstm-lessons/lstm_lessons/homework/locale/zh_CN.po" in names
        for name in names:
            if name.endswith(".ipynb") and "/solutions/" in name:
                manifest = json.loads(z.read(name)).get("metadata", {}).get("lstm_lessons", {})
                hidden = [t for q in manifest.get("questions", []) for t in q["tests"]
                          if t.get("hidden")]  # fmt: skip
                assert hidden == [], name
        readme = z.read(f"{bundle.NAME}/README.md").decode("utf-8")
        assert "pip config set global.index-url" in readme and "镜像" in readme
    assert bundle.write(tmp_path / "again.zip").read_bytes() == path.read_bytes()
