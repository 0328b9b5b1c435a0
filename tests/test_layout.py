"""The layout: layers whose imports point down, no torch for the NumPy API, old paths kept."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import lstm_lessons
from lstm_lessons import _legacy

PACKAGE = Path(lstm_lessons.__file__).parent

# What each layer may import from the package; anything else is an import sideways or up.
ALLOWED = {
    "cells": {"cells"},
    "pytorch": {"cells", "pytorch"},
    "training": {"cells", "pytorch", "training"},
    "experiments": {"cells", "pytorch", "training", "experiments"},
    "plotting": {"cells", "plotting"},
    "homework": {"cells", "pytorch", "homework"},
    "inspect": {"cells", "pytorch", "plotting", "inspect"},
}
# Top-level modules that every layer may use: the check that PyTorch is installed.
SHARED = {"_torch"}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if len(rel.parts) > 1:
            yield rel, path


def _package_imports(rel, path):
    """(layer imported, module, names) for every import of the package inside ``path``."""
    here = ["lstm_lessons", *rel.parts[:-1]]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "lstm_lessons":
                target = node.module.split(".")
            else:
                continue
            names = [a.name for a in node.names]
            if len(target) == 1:  # from lstm_lessons import x: x is the layer
                for n in names:
                    yield n, "lstm_lessons." + n, [n]
            else:
                yield target[1], ".".join(target), names
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "lstm_lessons" and len(parts) > 1:
                    yield parts[1], a.name, []


@pytest.mark.parametrize("rel,path", list(_modules()), ids=lambda v: str(v))
def test_imports_point_down_and_stay_public(rel, path):
    if not isinstance(rel, Path):
        return
    layer = rel.parts[0]
    for target_layer, module, names in _package_imports(rel, path):
        allowed = ALLOWED[layer] | SHARED
        assert target_layer in allowed, f"{rel} imports {module}: {layer} may not use it"
        private = [n for n in names if n.startswith("_")]
        assert not private, f"{rel} imports private names {private} from {module}"


def test_the_import_checker_sees_a_sideways_import(tmp_path):
    bad = tmp_path / "homework" / "x.py"
    bad.parent.mkdir()
    bad.write_text("from ..experiments.cell_state import carousel_gradients\nfrom .a import _p\n")
    found = list(_package_imports(Path("homework/x.py"), bad))
    assert ("experiments", "lstm_lessons.experiments.cell_state", ["carousel_gradients"]) in found
    assert ("homework", "lstm_lessons.homework.a", ["_p"]) in found


def _fresh(code):
    """Run ``code`` in a new interpreter (nothing imported yet) and return what it prints."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    return done.stdout.strip()


def test_numpy_api_imports_and_runs_without_torch():
    code = (
        "import sys, numpy as np, lstm_lessons as ll\n"
        "p = ll.init_lstm_params(3, 2)\n"
        "z = np.zeros((1, 2))\n"
        "ll.lstm_forward(np.ones((4, 1, 3)), z, z, p)\n"
        "ll.gru_forward(np.ones((4, 1, 3)), z, ll.init_gru_params(3, 2))\n"
        "import lstm_lessons.cells.bptt, lstm_lessons.cells.leaky\n"
        "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    )
    assert _fresh(code) == "[]"


def test_torch_loads_when_a_torch_name_is_used():
    code = (
        "import sys, lstm_lessons as ll\n"
        "before = 'torch' in sys.modules\n"
        "sd = ll.to_torch(ll.init_lstm_params(3, 2))\n"
        "print(before, 'torch' in sys.modules, sorted(sd)[0])"
    )
    assert _fresh(code) == "False True bias_hh_l0"


@pytest.mark.parametrize("old", sorted(_legacy.MOVED))
def test_old_module_paths_alias_their_new_homes(old):
    import importlib

    module = importlib.import_module(f"lstm_lessons.{old}")
    assert module is importlib.import_module(f"lstm_lessons.{_legacy.MOVED[old]}")


# The imports that the exercise notebooks handed out with version 0.1 make.
HANDED_OUT = """
import lstm_lessons as ll
from lstm_lessons.exercise import Grader
from lstm_lessons import carousel
from lstm_lessons import gradient_flow as gf
from lstm_lessons import gate_probes
from lstm_lessons.checks import CheckFailed, check_cell_update, check_cifg_step
from lstm_lessons.checks import check_clip_gradients
from lstm_lessons.checks import check_ema, check_forget_gate, check_lstm_step, check_rnn_step
from lstm_lessons.checks import check_lstm_step_backward, check_shrink, check_sigmoid
from lstm_lessons.checks import check_state_distance
from lstm_lessons.checks.ex_gates import check_bias_table, check_compare_with_torch, check_gap
from lstm_lessons.checks.ex_gates import check_gate_survival
from lstm_lessons.checks.ex_gradients_flow import check_carousel_ratio, check_cell_update_carousel
from lstm_lessons.checks.ex_gradients_flow import check_clip_more, check_decay_rate
from lstm_lessons.checks.ex_gradients_flow import check_forget_products, check_gradient_norms
from lstm_lessons.checks.ex_memory import check_cell_backward_more, check_ema_long
from lstm_lessons.checks.ex_memory import check_gate_slope, check_leak_choice
from lstm_lessons.checks.ex_memory import check_memory_gradient, check_residual_noise
from lstm_lessons.checks.ex_memory import check_step_lag
from lstm_lessons.plotting import CYCLE, GATE_STYLE, OKABE_ITO, use_course_style
from lstm_lessons.torch_cells import GRU, LSTM
from lstm_lessons.train import SequenceModel, evaluate, train
from lstm_lessons.tasks import key_query
for name in ("sigmoid", "lstm_forward", "init_lstm_params", "ema", "gradient_check",
             "lstm_step_forward", "lstm_step_backward", "lstm_backward", "to_torch",
             "rnn_forward", "rnn_backward", "init_rnn_params", "leaky_bound", "rnn_step_forward"):
    getattr(ll, name)
carousel.carousel_gradients, carousel.forget_gate_products, gf.gradient_norms_through_time
gf.matrix_with_spectral_radius, gate_probes.torch_gap
Grader("ch01_simple_rnn").check
print("ok")
"""


def test_handed_out_notebooks_imports_still_work():
    assert _fresh(HANDED_OUT) == "ok"


def test_grade_command_still_runs():
    done = subprocess.run(
        [sys.executable, "-m", "lstm_lessons.grade", "--help"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "--assignment" in done.stdout


def test_unknown_attribute_says_so():
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        lstm_lessons.nothing_here  # noqa: B018
