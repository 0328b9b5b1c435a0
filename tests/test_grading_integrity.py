"""The answers cannot be borrowed or bent: delegation to the package, inputs changed in place,
copies flagged without naming classmates.

Each attack is a blank exercise notebook (or the published solution) with one cell added, as a
student would hand it in; the class of each chapter is graded once (module fixtures) and every
test reads its rows. The decision on delegation is made by the grader from its own copy of the
notebook's cells (:mod:`lstm_lessons.homework.checks.delegation`), so the cases that need no
sandbox are tested on that function directly.
"""

import nbformat
import numpy as np
import pytest
from grading_helpers import ROOT, need_bwrap

from lstm_lessons.homework.checks import CheckFailed, check_lstm_step, check_state_distance
from lstm_lessons.homework.checks.cells import REFERENCE_STEPS
from lstm_lessons.homework.checks.delegation import delegation
from lstm_lessons.homework.grading import Limits, grade_folder
from lstm_lessons.homework.runner import load_manifest
from lstm_lessons.homework.score import flag_duplicates

CH05, CH07 = "ch05_input_gate", "ch07_output_gate"
LIMITS = Limits(timeout_s=300, cell_timeout_s=120, test_timeout_s=120, kill_grace_s=10)

# ch05: every graded function hands its work to the package, under names no AST check of the
# function alone can see.
BORROW_CH05 = """\
import lstm_lessons.cells.lstm as _m
from lstm_lessons.homework.sets import gates as _g
_fwd = getattr(_m, "lstm_step_" + "forward")

def lstm_step(x, h_prev, c_prev, W_x, W_h, b):
    h, c, _ = _fwd(x, h_prev, c_prev, {"W_x": W_x, "W_h": W_h, "b": b})
    return h, c

def cifg_step(x, h_prev, c_prev, W_x, W_h, b):
    h, c, _ = _fwd(x, h_prev, c_prev, {"W_x": W_x, "W_h": W_h, "b": b}, variant="cifg")
    return h, c

def compare_with_torch(step, x, h0, c0, params):
    import torch
    hs, cs = _g._run(step, x, h0, c0, params)
    lstm = torch.nn.LSTM(x.shape[2], h0.shape[1]).double()
    lstm.load_state_dict(ll.to_torch(params))
    with torch.no_grad():
        out, _ = lstm(torch.from_numpy(x), (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    return float(np.abs(out.numpy() - hs).max())
"""
# cifg_step alone, by the import-as the issue names.
BORROW_CIFG = """\
from lstm_lessons import lstm_step_forward as _fwd

def cifg_step(x, h_prev, c_prev, W_x, W_h, b):
    return _fwd(x, h_prev, c_prev, {"W_x": W_x, "W_h": W_h, "b": b}, variant="cifg")[:2]
"""
# ch07: the backward pass and the memory gradient borrowed under other names.
BORROW_CH07 = """\
from lstm_lessons.homework.checks import cases as _cases

def lstm_cell_backward(dh, dc, i, f, g, o, c_prev, c):
    logit = lambda s: np.log(s / (1 - s))
    a = np.concatenate([logit(i), logit(f), np.arctanh(g), logit(o)], axis=1)
    cache = _cases.cell_from_a(a, c_prev)[2]
    da, _, dc_prev, _ = vars(ll)["lstm_step_backward"](dh, dc, cache)
    H = dh.shape[1]
    return tuple(da[:, k * H:(k + 1) * H] for k in range(4)) + (dc_prev,)

_bw = ll.lstm_step_backward

def memory_gradient(params, x, h_prev, c_prev, dh, shift):
    H = h_prev.shape[1]
    b = params["b"].copy()
    b[3 * H:] += shift
    _, c, cache = ll.lstm_step_forward(x, h_prev, c_prev, {**params, "b": b})
    _, _, dc_prev, _ = _bw(dh, np.zeros_like(dh), cache)
    return cache.o, dc_prev / cache.f
"""


def _notebook(path, stem, answers, extra):
    folder = "solutions" if answers == "solution" else "exercises"
    nb = nbformat.read(ROOT / folder / f"{stem}.ipynb", as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(c) for c in extra]
    nbformat.write(nb, path)


def _grade(tmp_path_factory, stem, cls):
    need_bwrap()
    folder = tmp_path_factory.mktemp(stem)
    for name, (answers, extra) in cls.items():
        _notebook(folder / name, stem, answers, extra)
    manifest = load_manifest(ROOT / "solutions" / f"{stem}.ipynb")
    return grade_folder(folder, manifest, LIMITS, jobs=2)


@pytest.fixture(scope="module")
def ch05(tmp_path_factory):
    return _grade(tmp_path_factory, CH05, {
        "honest.ipynb": ("solution", []),
        "borrower.ipynb": ("blank", [BORROW_CH05]),
        "cifg_borrower.ipynb": ("solution", [BORROW_CIFG]),
    })  # fmt: skip


@pytest.fixture(scope="module")
def ch07(tmp_path_factory):
    return _grade(tmp_path_factory, CH07, {
        "honest.ipynb": ("solution", []),
        "borrower.ipynb": ("blank", [BORROW_CH07]),
    })  # fmt: skip


def _scores(row):
    return {q: p for q, p in row["scores"].items() if p is not None}


def test_the_honest_solutions_keep_full_marks(ch05, ch07):
    for rows in (ch05, ch07):
        row = rows["honest.ipynb"]
        assert row["total"] == row["possible"], row["reasons"]
        assert not [r for r in row["reasons"] if "not checked" in r], row["reasons"]


def test_a_blank_notebook_that_borrows_the_reference_scores_nothing_for_those_tasks(ch05):
    row = ch05["borrower.ipynb"]
    assert _scores(row)["q1"] == _scores(row)["q2"] == 0, row["reasons"]
    # q3: compare_with_torch borrowed the sets' private helper; only the gap it printed is left.
    failed = {name for q, _, passed, _, _ in row["feedback"] for name in [q] if not passed}
    assert failed == {"q1", "q2", "q3"}, row["feedback"]
    why = [(q, m) for q, _, passed, _, m in row["feedback"] if "was not checked" in m]
    assert any(q == "q1" and "`getattr`" in m for q, m in why), why
    assert any(q == "q3" and "lstm_lessons.homework" in m for q, m in why), why
    assert row["total"] <= 1, row["reasons"]


def test_cifg_step_is_guarded_too(ch05):
    row = ch05["cifg_borrower.ipynb"]  # the solution, whose cifg_step is replaced afterwards
    assert _scores(row) == {"q1": 2, "q2": 0, "q3": 3}, row["reasons"]
    why = [m for q, _, _, _, m in row["feedback"] if q == "q2"]
    assert any("imports `lstm_step_forward`" in m for m in why), why


def test_ch07_borrowed_backward_and_memory_gradient_score_nothing(ch07):
    row = ch07["borrower.ipynb"]
    assert _scores(row) == {"q1": 0, "q2": 0}, row["reasons"]
    why = " ".join(m for _, _, _, _, m in row["feedback"] if "was not checked" in m)
    assert "lstm_cell_backward was not checked: it imports `lstm_lessons.homework.checks" in why
    assert "memory_gradient was not checked" in why, why


SOLUTION_CELLS = {
    stem: [c.source for c in nbformat.read(ROOT / "solutions" / f"{stem}.ipynb", 4).cells
           if c.cell_type == "code"]
    for stem in (CH05, CH07)
}  # fmt: skip
STEP = (
    "def lstm_step(x, h_prev, c_prev, W_x, W_h, b):\n"
    "    return {}(x, h_prev, c_prev, W_x, W_h, b)\n"
)


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ("from lstm_lessons.cells.plain import lstm_step_forward as _fwd\n" + STEP.format("_fwd"),
         "imports `lstm_step_forward`"),
        ("_f = ll.cells.plain.lstm_step_forward\n" + STEP.format("_f"), "`lstm_step_forward`"),
        ("n = 'lstm_step' + '_forward'\n" + STEP.format("getattr(ll, n)"), "`getattr`"),
        ("m = ll\n" + STEP.format("m.X"), "module `ll` around"),
        ("def _h(mod=ll):\n    return mod\n" + STEP.format("_h().Y"), "module `ll` around"),
        (STEP.format("ll.pytorch.Z"), "`ll.pytorch`"),
        ("%time _f = ll.lstm_step_forward\n" + STEP.format("_f"), "`lstm_step_forward`"),
        ("exec('from lstm_lessons import lstm_step_forward as lstm_step')\n", "`exec`"),
        ("%run helper.py\n", "`get_ipython`"),
        ("import builtins\nbuiltins.fwd = 1\n" + STEP.format("fwd"), "no cell of the notebook"),
        ("import lstm_lessons.homework.sets.gates as g\n" + STEP.format("g._package_step"),
         "grading code's own"),
        ("import sys\n" + STEP.format("sys.modules['lstm_lessons'].W"), "`.modules`"),
        (STEP.format("ll.sigmoid.__globals__['x']"), "`.__globals__`"),
        ("def _f():\n    return vars()\n" + STEP.format("_f()['x']"), "`vars`"),
    ],
)
def test_delegation_by_any_name_or_path_is_refused(cell, why):
    got = delegation(SOLUTION_CELLS[CH05] + [cell], "lstm_step", REFERENCE_STEPS)
    assert got is not None and why in got, got


def test_the_published_solutions_are_not_refused():
    cells5, cells7 = SOLUTION_CELLS[CH05], SOLUTION_CELLS[CH07]
    assert delegation(cells5, "lstm_step", REFERENCE_STEPS) is None
    assert delegation(cells5, "cifg_step", REFERENCE_STEPS) is None
    assert delegation(cells5, "compare_with_torch", ("lstm_forward", "_run")) is None
    assert delegation(cells7, "lstm_cell_backward", ("lstm_step_backward",)) is None
    # memory_gradient may run the package's forward step, and only that.
    forward = ("lstm_step_forward",)
    assert delegation(cells7, "memory_gradient", ("lstm_step_backward",), forward) is None
    backward = ("lstm_step_backward",)
    assert "`ll.lstm_step_forward`" in delegation(cells7, "memory_gradient", backward)
    # A scratch cell that prints the reference, outside the graded function, is no delegation.
    scratch = [*cells5, "print(ll.lstm_step_forward)\n"]
    assert delegation(scratch, "lstm_step", REFERENCE_STEPS) is None


def test_a_local_function_that_calls_the_reference_under_another_name_is_refused():
    from lstm_lessons import lstm_step_forward as _fwd

    def lstm_step(x, h_prev, c_prev, W_x, W_h, b):
        return _fwd(x, h_prev, c_prev, {"W_x": W_x, "W_h": W_h, "b": b})[:2]

    with pytest.raises(CheckFailed, match="`lstm_step_forward` \\(as `_fwd`\\)"):
        check_lstm_step(lstm_step)


def test_params_changed_in_place_cannot_rewrite_the_reference_inputs():
    """ch01 q3 scored 3/3 with ``return 1e-16`` after zeroing the weights it was given."""

    def state_distance(x, x_prime, h0, params):
        for value in params.values():
            value[...] = 0.0
        return np.full(x.shape[0], 1e-16)

    with pytest.raises(CheckFailed, match="changed params\\['W_x'\\] in place"):
        check_state_distance(state_distance)


def _row(sha, total, answers):
    return {"sha256": sha, "status": "graded", "total": total, "reasons": [], "answers": answers}


def test_copies_are_flagged_without_naming_classmates_and_blank_templates_are_not():
    blank = ["def f(x):\n    ...\n"]
    work = ["def f(x):\n    return np.tanh(x @ W) * 2 + 1  # mine\n"]
    rows = {
        "alice.ipynb": _row("a", 3, work),
        "bob.ipynb": _row("a", 3, work),
        "carol.ipynb": _row("c", 3, [work[0].replace("# mine", "# ours")]),
        "blank1.ipynb": _row("b", 0, blank),
        "blank2.ipynb": _row("b", 0, blank),
        "blank3.ipynb": _row("b", 0, blank),
    }
    flag_duplicates(rows)
    for name in ("blank1.ipynb", "blank2.ipynb", "blank3.ipynb"):
        assert rows[name]["reasons"] == [], rows[name]
    for name in ("alice.ipynb", "bob.ipynb", "carol.ipynb"):
        text = " ".join(rows[name]["reasons"])
        assert "duplicate" in text, rows[name]
        assert not any(other.split(".")[0] in text for other in rows), text
    assert rows["alice.ipynb"]["duplicate_of"] == ["bob.ipynb", "carol.ipynb"]
    assert rows["carol.ipynb"]["duplicate_of"] == ["alice.ipynb", "bob.ipynb"]


def test_hidden_and_extra_test_inputs_stay_out_of_the_feedback(tmp_path):
    """A failed hidden test's message (its inputs) is for the gradebook, not the student."""
    import json

    from grading_helpers import HONEST, TINY, TOY, notebook

    from lstm_lessons.homework.grading import add_extra_tests

    need_bwrap()
    extra = tmp_path / "extra.json"
    source = ("def test_mine(double):\n"
              "    assert double(4242) == 1, f'double(4242) gave {double(4242)}'\n")  # fmt: skip
    extra.write_text(json.dumps({"q1": [{"name": "test_mine", "points": 1, "source": source}]}))
    manifest = add_extra_tests(TOY, extra)
    notebook(tmp_path / "class" / "a.ipynb", HONEST)
    row = grade_folder(tmp_path / "class", manifest, TINY)["a.ipynb"]
    assert row["scores"]["q1"] == 1, row["reasons"]
    assert any("4242" in r for r in row["reasons"])  # the instructor's gradebook
    hidden = [m for q, h, passed, _, m in row["feedback"] if h and not passed]
    assert hidden and not any("4242" in m for m in hidden), hidden
    assert not any("4242" in str(m) for *_, m in row["feedback"])


def test_the_published_solution_and_the_package_source_are_compared(ch05):
    honest = " ".join(ch05["honest.ipynb"]["reasons"])
    assert "note: near-duplicate: lstm_step is 100% the published solution's" in honest
    # The blank template's functions (a docstring and ...) are not compared at all.
    assert "published" not in " ".join(ch05["borrower.ipynb"]["reasons"])
    import inspect

    from lstm_lessons.cells import plain
    from lstm_lessons.homework.score import published_notes

    copied = inspect.getsource(plain.lstm_step_forward).replace("lstm_step_forward", "lstm_step")
    assert published_notes([copied], {"published": []}) == [
        "note: near-duplicate: lstm_step is 100% the package's "
        "lstm_lessons.cells.plain.lstm_step_forward"
    ]
    mine = SOLUTION_CELLS[CH05]
    assert published_notes(mine, {"published": []}) == []  # written by hand: no note
    # A body too short to say anything (``return x``, the template's ``...``) is not compared.
    short = "def f(x):\n    return np.tanh(x)\n"
    assert published_notes([short], {"published": [short.replace("f(", "g(")]}) == []
