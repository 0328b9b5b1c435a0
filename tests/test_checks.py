"""lstm_lessons.homework.checks: right answers pass, and each known mistake is named in the message.

The implementations live in tests/wrong_implementations.py, which the exercise
pipeline's CI reuses. Every message must be plain language: no traceback, and no
quote at either end (otter-grader strips those from an AssertionError's text).
"""

import numpy as np
import pytest
import wrong_implementations as impl

import lstm_lessons.homework.checks as checks
from lstm_lessons.homework.checks import CheckFailed, cells, gradients
from lstm_lessons.homework.checks.calling import call
from lstm_lessons.homework.checks.cases import CASES, lstm_inputs
from lstm_lessons.homework.checks.report import compare, matches

CHECKS = sorted(impl.CORRECT)


def run(name, fn):
    return getattr(checks, name)(fn, *impl.CHECK_ARGS.get(name, ()))


def failure(name, fn):
    with pytest.raises(CheckFailed) as info:
        run(name, fn)
    message = str(info.value)
    assert "Traceback" not in message and 'File "' not in message
    assert message == message.strip("'"), "otter would cut a quote off this message"
    return message


VALUE_CHECKS = {"check_shrink"}  # they take a student's number, not a function


def test_every_check_is_covered():
    public = {n for n in checks.__all__ if n.startswith("check_")} - VALUE_CHECKS
    assert public == set(impl.CORRECT) == set(impl.WRONG)
    assert issubclass(CheckFailed, AssertionError)


@pytest.mark.parametrize(
    "name, fn",
    [(n, f) for n in CHECKS for f in impl.CORRECT[n]],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_correct_implementations_pass(name, fn):
    assert "passed" in run(name, fn)


@pytest.mark.parametrize(
    "name, fn, words",
    [(n, f, w) for n in CHECKS for f, w in impl.WRONG[n]],
    ids=lambda v: getattr(v, "__name__", "") if callable(v) else "",
)
def test_each_mistake_is_rejected_with_its_diagnosis(name, fn, words):
    message = failure(name, fn)
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"


def _nan_version(fn):
    """``fn`` with one entry of its (first) output replaced by NaN."""

    def nan_fn(*args):
        out = fn(*args)
        first = out[0] if isinstance(out, (tuple, list)) else out
        first = np.array(first, dtype=first.dtype)
        first.flat[0] = np.nan
        if isinstance(out, (tuple, list)):
            return type(out)([first, *out[1:]])
        return first

    return nan_fn


def _raises(*args):
    raise ValueError("something inside went wrong")


@pytest.mark.parametrize("name", CHECKS)
def test_broken_functions_get_plain_messages(name):
    message = failure(name, _raises)
    assert "raised ValueError: something inside went wrong when called with" in message
    assert "It happened in the line `raise ValueError(" in message

    message = failure(name, lambda *args: None)
    assert "None" in message

    message = failure(name, lambda *args: ...)
    assert "not done yet" in message

    message = failure(name, _nan_version(impl.CORRECT[name][0]))
    assert "nan" in message and "NaN or infinite" in message

    message = failure(name, None)
    assert "not defined yet" in message


def test_not_implemented_and_name_error_get_hints():
    def stub(x):
        raise NotImplementedError

    assert "still the template" in failure("check_sigmoid", stub)

    def typo(x):
        return 1 / (1 + np.exp(-xx))  # noqa: F821

    message = failure("check_sigmoid", typo)
    assert "NameError" in message and "not defined" in message


def test_shapes_are_described_with_their_letters():
    message = failure("check_lstm_step", impl.lstm_step_transposed)
    assert "h has the wrong shape: expected (N, H) = (3, 4), got (4, 3) (the transpose" in message


def test_largest_error_names_the_gate_block():
    got = np.zeros((3, 16))
    expected = np.zeros((3, 16))
    expected[1, 6] = 1.0
    message = compare(got, expected, "a", ("N", "4H"), "ifgo")
    assert "a[1, 6] (n=1, column 6: block f, unit 2), expected 1, got 0" in message


def test_the_tolerance_admits_float32_and_rejects_small_real_errors():
    """Fixed numbers, not multiples of RTOL: the test must fail if the tolerance moves."""
    expected = np.linspace(-2, 2, 12).reshape(3, 4)
    # float32 rounding (relative 6e-8) and a summation-order error of 2e-6 relative pass ...
    assert compare(expected.astype(np.float32).astype(np.float64), expected, "h") is None
    assert compare(expected * (1 + 2e-6), expected, "h") is None
    assert compare(expected + 5e-7, expected, "h") is None
    # ... but an error of 1e-4 relative is a real mistake, on one entry or on all.
    assert compare(expected * (1 + 1e-4), expected, "h") is not None
    one_off = expected.copy()
    one_off[2, 3] += 2e-4  # 2.0 -> 2.0002
    message = compare(one_off, expected, "h", ("N", "H"))
    assert message.startswith(
        "h has wrong values: the largest error is at h[2, 3] (n=2, h=3), expected 2, "
        "got 2.0002; 1 of 12 "
    )
    # Near zero the absolute part decides: 1e-5 off a zero is wrong, 5e-7 is not.
    assert compare(np.array([1e-5]), np.array([0.0]), "x") is not None
    assert compare(np.array([5e-7]), np.array([0.0]), "x") is None
    assert matches(expected * (1 + 2e-6), expected) and not matches(expected * (1 + 1e-4), expected)


@pytest.mark.parametrize("N, D, H, seed", CASES)
def test_every_lstm_mistake_changes_the_output(N, D, H, seed):
    """No diagnosis can fire on a right answer: each mistake's output differs visibly."""
    args = lstm_inputs(N, D, H, seed)
    h, c = impl.lstm_step_package(**args)
    mistakes = cells._lstm_mistakes(args)
    assert len(mistakes) == 10 + 23
    for message, (h_bad, c_bad) in mistakes.items():
        gap = max(np.max(np.abs(h_bad - h)), np.max(np.abs(c_bad - c)))
        assert gap > 1e-2, message


def test_inputs_are_left_alone_by_a_correct_function():
    """call runs the function on copies: its caller's arrays never change, and the check of
    what came back is made against the inputs as they were."""
    args = lstm_inputs(3, 5, 4, 0)
    before = {k: v.copy() for k, v in args.items()}
    h, c = call(impl.lstm_step_package, args, name="lstm_step")
    assert all(np.array_equal(before[k], v) for k, v in args.items())
    np.testing.assert_allclose(h, impl.lstm_step_package(**before)[0], rtol=1e-12)
    with pytest.raises(CheckFailed, match="changed its argument `c_prev` in place"):
        call(impl.lstm_step_in_place, args, name="lstm_step")
    assert all(np.array_equal(before[k], v) for k, v in args.items())
    # The check hands the function the seeded inputs of its cases, and a right answer passes.
    seen = []

    def recording(x, h_prev, c_prev, W_x, W_h, b):
        seen.append({"x": x, "h_prev": h_prev, "c_prev": c_prev, "W_x": W_x, "W_h": W_h, "b": b})
        return impl.lstm_step_package(**seen[-1])

    assert "passed" in checks.check_lstm_step(recording, cases=((3, 5, 4, 0),))
    assert len(seen) == 1
    assert all(np.array_equal(before[k], v) for k, v in seen[0].items())


def test_check_gradient_reports_relative_error_and_accepts_own_inputs():
    x = np.linspace(-3, 3, 10)
    dout = np.ones(10)
    assert "relative error" in checks.check_gradient(
        impl.sigmoid_grad, impl.package_sigmoid, x, dout
    )
    # Right only for this x and for dout = 2: it passes only if the check uses both.
    x0, two = np.linspace(-2, 2, 7), np.full(7, 2.0)

    def grad_of_sin_for_x0(x, dout):
        return 2.0 * np.cos(x0)

    assert "passed" in checks.check_gradient(grad_of_sin_for_x0, np.sin, x0, two)
    with pytest.raises(CheckFailed, match="relative error"):
        checks.check_gradient(grad_of_sin_for_x0, np.sin, x0, np.ones(7))
    message = failure("check_gradient", impl.sigmoid_grad_tanh_rule)
    assert "must be below 1e-06" in message


def _other_mistakes(seed=0, N=3, D=5, H=4):
    """(reference output, {message: that mistake's output}) of the checks with many outputs."""
    rng = np.random.default_rng(seed)
    cifg = lstm_inputs(N, D, H, seed, G=3)
    gru = {k: v for k, v in lstm_inputs(N, D, H, seed, G=3).items() if k != "c_prev"}
    gru["b_hn"] = rng.uniform(0.2, 0.6, H)
    peep = {"a": rng.standard_normal((N, 4 * H)), "c_prev": rng.standard_normal((N, H))}
    peep.update(zip(("p_i", "p_f", "p_o"), rng.uniform(0.5, 1.5, (3, H)), strict=True))
    back = dict(zip(("dh", "dc", "c_prev"), rng.standard_normal((3, N, H)), strict=True))
    back.update(
        zip("ifgo", impl.peephole_gates(peep["a"], back["c_prev"], 0, 0, 0)[:4], strict=True)
    )
    back["c"] = back["f"] * back["c_prev"] + back["i"] * back["g"]
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    return [
        (impl.cifg_step_package(**cifg), cells._cifg_mistakes(cifg)),
        (impl.gru_step_package(**gru), cells._gru_mistakes(gru)),
        (impl.peephole_gates_package(**peep), cells._peephole_mistakes(peep)),
        (impl.cell_backward_autograd(**back), gradients._backward_mistakes(back)),
        (tuple(impl.clip_gradients(grads, 1.0)), gradients.clip_mistakes(grads, 1.0)),
    ]


def test_no_diagnosis_fires_on_a_right_answer():
    for reference, mistakes in _other_mistakes():
        for message, value in mistakes.items():
            assert not matches(reference, value), message
    # Below the threshold most clipping mistakes change nothing; rescaling anyway does.
    grads = [np.ones((2, 2)), np.ones(3)]
    mistakes = gradients.clip_mistakes(grads, 100.0)
    rescaled = next(v for m, v in mistakes.items() if m.startswith("you rescaled although"))
    assert not matches(tuple(grads), rescaled)


def test_messages_reach_students_through_otter(tmp_path):
    """In an otter-grader exception-based test, the student sees the check's message."""
    otter_test_files = pytest.importorskip("otter.test_files")
    path = tmp_path / "q1.py"
    path.write_text(
        "from otter.test_files import test_case\n"
        "OK_FORMAT = False\n"
        "name = 'q1'\n"
        "@test_case(points=1)\n"
        "def test_lstm_step(lstm_step):\n"
        "    from lstm_lessons.homework.checks import check_lstm_step\n"
        "    check_lstm_step(lstm_step)\n"
    )
    test_file = otter_test_files.ExceptionTestFile.from_file(str(path))
    test_file.run({"lstm_step": impl.lstm_step_tanh_c_prev})
    summary = test_file.summary()
    assert (
        "h = o * tanh(c_prev): h reads the new cell state c_t of this step, not c_{t-1}." in summary
    )
    assert "Traceback" not in summary
    test_file.run({"lstm_step": impl.lstm_step_loops})
    assert "All test cases passed" in test_file.summary()


def test_check_shrink_accepts_the_mean_factor_and_explains_the_rest():
    d = 0.8 ** np.arange(30.0)
    assert "0.800" in checks.check_shrink(0.8, d)
    for shrink, words in [
        (None, "not computed yet"),
        (..., "not computed yet"),
        (np.full(3, 0.8), "one number"),
        (1.5, "between 0 and 1"),
        (float("nan"), "between 0 and 1"),
        (0.8**20, "is not (d[20] / d[0]) ** (1 / 20) for your d"),  # the value is not shown
    ]:
        with pytest.raises(CheckFailed, match=None) as info:
            checks.check_shrink(shrink, d)
        assert words in str(info.value), (shrink, str(info.value))
    with pytest.raises(CheckFailed, match="run the cell of task 3"):
        checks.check_shrink(0.8, None)
    with pytest.raises(CheckFailed, match="shape"):
        checks.check_shrink(0.8, d[:5])


def test_the_untouched_template_is_reported_as_not_done(tmp_path, monkeypatch):
    # Source must be readable, as it is in a notebook: write the template to a module.
    (tmp_path / "template.py").write_text(
        'def lstm_step(x, h_prev, c_prev, W_x, W_h, b):\n    """One step."""\n    ...\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import template

    message = failure("check_lstm_step", template.lstm_step)
    assert "still the template: the task is not done yet" in message
