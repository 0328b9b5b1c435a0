"""Without PyTorch (``pip install lstm-lessons``, no ``[torch]`` extra), the NumPy layers work.

Each test runs a fresh interpreter in which ``import torch`` fails (``tests/no_torch.py``, as
if torch were not installed): the NumPy cells forward and backward (checked by gradients),
the diagrams, the NumPy exercise checks with the in-notebook grader, and the tests of those
layers that need no torch. A torch-facing name says which extra to install.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def run(code):
    """Run ``code`` with torch unimportable; its stdout (the test fails on a non-zero exit)."""
    script = "import no_torch\n" + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(TESTS), "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_numpy_cells_run_and_their_gradients_check():
    out = run(
        """
        import sys
        import numpy as np
        import lstm_lessons as ll

        rng = np.random.default_rng(0)
        T, N, D, H = 4, 3, 2, 5
        x = rng.standard_normal((T, N, D))
        h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
        worst = 0.0
        dout = rng.standard_normal((T, N, H))
        for variant in ll.VARIANT_NAMES:
            params = ll.init_lstm_params(D, H, variant, seed=1)
            _, _, cache = ll.lstm_forward(x, h0, c0, params, variant)
            f = lambda x_: ll.lstm_forward(x_, h0, c0, params, variant)[0]
            dx = ll.lstm_backward(dout, cache)[0]
            worst = max(worst, ll.gradient_check(f, x, dx, dout))
        for init, fwd, bwd in [(ll.init_gru_params, ll.gru_forward, ll.gru_backward),
                               (ll.init_rnn_params, ll.rnn_forward, ll.rnn_backward)]:
            params = init(D, H, seed=2)
            _, cache = fwd(x, h0, params)
            f = lambda x_: fwd(x_, h0, params)[0]
            worst = max(worst, ll.gradient_check(f, x, bwd(dout, cache)[0], dout))
        assert "torch" not in sys.modules
        print(f"{len(ll.VARIANT_NAMES) + 2} cells, worst relative error {worst:.1e}")
        assert worst < 1e-6, worst
        """
    )
    assert "worst relative error" in out


def test_the_diagrams_draw():
    run(
        """
        import sys
        from lstm_lessons.plotting import diagrams
        fig = diagrams.draw_variant_comparison("cifg")
        assert fig.axes and "torch" not in sys.modules
        """
    )


def test_the_numpy_exercise_checks_and_the_grader_run():
    out = run(
        """
        import sys
        import lstm_lessons as ll
        from lstm_lessons.homework.checks import check_lstm_step, check_rnn_step
        from lstm_lessons.homework.notebook import Grader

        def lstm_step(x, h_prev, c_prev, W_x, W_h, b):
            h, c, _ = ll.lstm_step_forward(x, h_prev, c_prev, {"W_x": W_x, "W_h": W_h, "b": b})
            return h, c

        def rnn_step(x, h_prev, W_x, W_h, b):
            return ll.rnn_step_forward(x, h_prev, {"W_x": W_x, "W_h": W_h, "b": b})[0]

        print(check_lstm_step(lstm_step))
        print(check_rnn_step(rnn_step))
        grader = Grader("ch01_simple_rnn")
        print(type(grader).__name__)
        assert "torch" not in sys.modules
        """
    )
    assert out.count("passed") >= 2 and "Grader" in out


def test_a_torch_facing_name_names_the_extra():
    out = run(
        """
        import lstm_lessons
        for use in (lambda: lstm_lessons.to_torch,
                    lambda: __import__("lstm_lessons.training"),
                    lambda: __import__("lstm_lessons.experiments.ablation")):
            try:
                use()
            except ImportError as error:
                print(error)
            else:
                raise SystemExit("no ImportError")
        """
    )
    lines = out.strip().splitlines()
    assert len(lines) == 3
    for line, what in zip(lines, ["pytorch", "training", "experiments"], strict=True):
        assert line.startswith(f"lstm_lessons.{what} needs PyTorch"), line
        assert 'pip install "lstm-lessons[torch]"' in line


def test_the_numpy_layers_tests_pass_without_torch():
    files = ["test_checks_ex_memory.py", "test_diagrams.py", "test_leaky_and_gradcheck.py"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no_torch", "-p", "no:cacheprovider",
         *(str(TESTS / f) for f in files)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={"PYTHONPATH": str(TESTS), "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-500:]
