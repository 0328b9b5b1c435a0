"""Hidden tests that are not public: a secret re-seeds the data, an instructor adds tests."""

import json

import nbformat
from grading_helpers import ROOT, need_bwrap

from lstm_lessons.homework.grading import Limits, add_extra_tests, grade_folder, reseed
from lstm_lessons.homework.runner import load_manifest
from lstm_lessons.homework.sandbox import Namespace, Session

SET = "ch02_vanishing_exploding"
LIMITS = Limits(cell_timeout_s=120, test_timeout_s=120, timeout_s=600)


def test_reseed_changes_literal_seeds_only():
    source = "W = f(H, seed=0)\nrng = np.random.default_rng(3)\nseed = 3\nT = 40\n"
    once, again = reseed(source, "s3cret"), reseed(source, "s3cret")
    assert once == again != source and "T = 40" in once
    assert reseed(source, "other") != once
    assert "seed=0" not in once and "default_rng(3)" not in once


def _tagged_solution():
    nb = nbformat.read(ROOT / "solutions" / f"{SET}.ipynb", as_version=4)
    for cell in nb.cells:  # the cells a student writes, as the exercise notebook tags them
        if cell.cell_type == "code" and cell.source.startswith(("def ", "# Plot")):
            cell.metadata["tags"] = ["otter_answer_cell"]
    return nb


def test_a_number_copied_from_the_published_solution_fails_under_a_secret(tmp_path):
    need_bwrap()
    nb = _tagged_solution()
    # The number that the published solution computes, as a student would copy it.
    session = Session([c.source for c in nb.cells if c.cell_type == "code"], LIMITS, tmp_path)
    try:
        session.start()
        published = float(Namespace(session)["rate"])
    finally:
        session.close()
    folder = tmp_path / "class"
    folder.mkdir()
    nbformat.write(nb, folder / "honest.ipynb")
    copier = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in copier.cells:
        if cell.source.startswith("# Plot"):
            cell.source = f"rate = {published!r}  # copied from the published solution\n"
    nbformat.write(copier, folder / "copier.ipynb")
    manifest = load_manifest(ROOT / "solutions" / f"{SET}.ipynb")
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"q1": [{"name": "test_clip_is_a_function", "points": 1,
                                         "source": "def test_clip_is_a_function(clip_gradients):"
                                         "\n    assert callable(clip_gradients)\n"}]}))  # fmt: skip
    manifest = add_extra_tests(manifest, extra)

    rows = grade_folder(folder, manifest, LIMITS, jobs=2, secret="s3cret")

    honest, copied = rows["honest.ipynb"], rows["copier.ipynb"]
    assert (honest["total"], honest["possible"]) == (6, 6), honest["reasons"]
    assert copied["total"] == 5, copied["reasons"]
    assert [r for r in copied["reasons"] if not r.startswith("note")] == [
        next(r for r in copied["reasons"] if r.startswith("q2: rate ="))
    ]
