"""The checks own their inputs: the data of the given cells comes from the grader's own run.

A notebook that changes a given cell (``dh = 0``, a seed written so that the secret does not
re-seed it) used to change both sides of a check of a value at once. Now the checks take the
given names from the manifest's given cells, run by the grader (re-seeded from the secret as
the submission is), and the feedback says which given cell was changed.
"""

import json

import nbformat
import numpy as np
import pytest
from grading_helpers import ROOT, need_bwrap

from lstm_lessons.homework.given import (
    GIVEN_KEY,
    GivenNamespace,
    answer_names,
    changed_given,
    differing_names,
    given_cells,
    given_values,
)
from lstm_lessons.homework.grading import Limits, grade_folder
from lstm_lessons.homework.notebook import Grader
from lstm_lessons.homework.runner import load_manifest, load_public_manifest

LIMITS = Limits(cell_timeout_s=120, test_timeout_s=120, timeout_s=600)


def test_the_given_cells_are_those_that_make_the_checked_data():
    cells = [
        "%pip install something\nimport sys",  # the install cell: never run by the grader
        "import numpy as np\ngrader = Grader('toy')",
        "x = np.ones(3)\nk = 2",
        "y = my_function(x)",  # reads an answer: the grader cannot run it
        "z = x + 1",
        "w = 5",  # after the last wanted name: not needed
    ]
    answers = answer_names(["def my_function(x):\n    return x", "slope = 1.0"])
    assert answers == {"my_function", "slope"}
    given = given_cells(cells, answers, wanted={"x", "z", "slope", "my_function"})
    assert given == {"cells": [cells[1], cells[2], cells[4]], "names": ["k", "x", "z"]}
    assert given_cells(cells, answers, wanted={"slope"}) == {"cells": [], "names": []}
    with pytest.raises(ValueError, match=r"defines \['y'\].*without the student's code"):
        given_cells(cells, answers, wanted={"y"})


@pytest.mark.parametrize(
    ("assignment", "names"),
    [
        ("ch02_vanishing_exploding", {"params", "h0", "x", "u"}),
        ("ch03_cell_state", {"cells", "x"}),
        ("ch04_forget_gate", {"seed", "x", "H"}),
        ("ch05_input_gate", {"params", "x", "h0", "c0"}),
        ("ch07_output_gate", {"params", "x", "h_prev", "c_prev", "dh"}),
        ("ch14_parallel_scans", {"a", "b"}),
        ("ch15_xlstm", {"x", "params"}),
        ("ch16_state_tracking", {"bits", "grid"}),
    ],
)
def test_every_set_that_checks_given_data_ships_its_given_cells(assignment, names):
    public = load_public_manifest(assignment)
    full = load_manifest(ROOT / "solutions" / f"{assignment}.ipynb")
    assert public[GIVEN_KEY] == full[GIVEN_KEY]
    assert names <= set(public[GIVEN_KEY]["names"])
    values = given_values(public)
    assert names <= values.keys() and "grader" not in values and "np" not in values


def test_each_caller_gets_its_own_copy_and_the_secret_reseeds():
    manifest = load_public_manifest("ch07_output_gate")
    first = given_values(manifest)
    first["dh"][:] = 0.0
    first["params"]["b"][:] = 0.0
    again = given_values(manifest)
    assert np.all(again["dh"] == 1.0) and np.any(again["params"]["b"] != 0.0)
    secret = given_values(manifest, "s3cret")
    assert not np.array_equal(secret["x"], again["x"])
    assert np.array_equal(secret["x"], given_values(manifest, "s3cret")["x"])
    namespace = GivenNamespace({"dh": "the notebook's", "slope": 0.5}, again)
    assert namespace.get("slope") == 0.5 and np.all(namespace["dh"] == 1.0)
    namespace["dh"][:] = 7.0  # a copy again: the next reader sees the given value
    assert np.all(namespace["dh"] == 1.0)


def test_a_changed_given_cell_is_found():
    manifest = load_public_manifest("ch07_output_gate")
    cells = list(manifest[GIVEN_KEY]["cells"])
    assert changed_given(manifest, [c + "   \n" for c in cells]) == []
    edited = [cells[0], cells[1].replace("dh = np.ones((N, H))", "dh = 0 * np.ones((N, H))")]
    assert changed_given(manifest, edited) == [cells[1]]
    # Under a secret the submission's cells are compared as they run: re-seeded.
    from lstm_lessons.homework.collect import reseed

    assert changed_given(manifest, [reseed(c, "k") for c in cells], "k") == []
    assert changed_given(manifest, cells, "k") == [cells[1]]


def _ch07_solution(edit=None):
    nb = nbformat.read(ROOT / "solutions" / "ch07_output_gate.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.source.startswith(("def ", "# Sweep")):
            cell.metadata["tags"] = ["otter_answer_cell"]
        elif edit and cell.source.startswith("N, D, H, UNIT"):
            cell.source = edit(cell.source)
    return nb


def test_the_local_grader_uses_the_given_data_and_says_what_was_changed(capsys):
    grader = Grader("ch07_output_gate")
    given = given_values(grader.manifest)
    env = {**given, "dh": np.zeros_like(given["dh"]), "slope": 0.0}
    assert differing_names(env, given, ["dh", "slope", "x"]) == ["dh"]
    result = grader.check("q2", env)
    out = capsys.readouterr().out
    assert "Note: dh in your notebook differs from what the given cell makes" in out
    slope_test = next(r for r in result.results if r.test == "test_slope")
    assert not slope_test.passed, slope_test.message


def test_changing_dh_to_make_slope_zero_scores_nothing_for_slope(tmp_path):
    """ch07 ``dh = 0; slope = 0.0`` used to pass: both sides of the check read dh = 0."""
    need_bwrap()
    folder = tmp_path / "class"
    folder.mkdir()
    nbformat.write(_ch07_solution(), folder / "honest.ipynb")
    cheat = _ch07_solution(lambda s: s.replace("dh = np.ones((N, H))", "dh = 0 * np.ones((N, H))"))
    for cell in cheat.cells:
        if cell.source.startswith("# Sweep"):
            cell.source += "\nslope = 0.0\n"
    nbformat.write(cheat, folder / "cheat.ipynb")
    reseeded = _ch07_solution(lambda s: s.replace("default_rng(7)", "default_rng(int('7'))"))
    nbformat.write(reseeded, folder / "seed_edited.ipynb")
    manifest = load_manifest(ROOT / "solutions" / "ch07_output_gate.ipynb")

    rows = grade_folder(folder, manifest, LIMITS, jobs=2, secret="s3cret")

    honest, cheat, edited = rows["honest.ipynb"], rows["cheat.ipynb"], rows["seed_edited.ipynb"]
    assert honest["scores"]["q2"] == 3 and not any("given cell" in r for r in honest["reasons"])
    assert cheat["scores"]["q2"] < honest["scores"]["q2"], cheat["reasons"]
    assert any(r.startswith("q2:") and "slope" in r for r in cheat["reasons"]), cheat["reasons"]
    assert any("a given cell was changed (the one that begins `N, D, H, UNIT" in r
               for r in cheat["reasons"])  # fmt: skip
    # A seed written so that the secret does not re-seed it: the notebook computes its slope
    # on the published data, the check on the re-seeded data.
    assert edited["scores"]["q2"] < honest["scores"]["q2"], edited["reasons"]
    assert any("a given cell was changed" in r for r in edited["reasons"])
    feedback = json.dumps(rows)
    assert "s3cret" not in feedback
