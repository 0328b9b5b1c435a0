"""A kernel that dies while starting is started again, in the nbval stage and in the book's
execution of notebooks; a notebook that fails once its kernel runs is not run again.

Parallel kernels can be handed the same TCP port and die before they answer (seen once in CI:
every cell of chapter 6 errored at setup with "Kernel died before replying to kernel_info").
"""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def retry(monkeypatch):
    import nbval.kernel

    original = nbval.kernel.start_new_kernel
    module = load("nbval_kernel_retry")
    yield module
    monkeypatch.setattr(nbval.kernel, "start_new_kernel", original)


def test_the_plugin_replaces_nbvals_kernel_start(retry):
    import nbval.kernel

    assert nbval.kernel.start_new_kernel is retry.start_new_kernel


def test_a_kernel_that_dies_starting_is_started_again(retry, monkeypatch):
    calls = []

    def flaky(*args, **kwargs):
        calls.append(kwargs)
        if len(calls) < 3:  # dies twice, starts the third time
            raise RuntimeError("Kernel died before replying to kernel_info")
        return "km", "kc"

    monkeypatch.setattr(retry, "_start_new_kernel", flaky)
    assert retry.start_new_kernel(kernel_name="k") == ("km", "kc")
    assert calls == [{"kernel_name": "k"}] * 3


def test_after_the_last_attempt_the_error_is_raised(retry, monkeypatch):
    def dead(*args, **kwargs):
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(retry, "_start_new_kernel", dead)
    with pytest.raises(RuntimeError, match="kernel_info"):
        retry.start_new_kernel()


def test_other_errors_are_not_retried(retry, monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise ValueError("no such kernel")

    monkeypatch.setattr(retry, "_start_new_kernel", broken)
    with pytest.raises(ValueError):
        retry.start_new_kernel()
    assert calls == [1]


@pytest.mark.parametrize(
    "traceback, again",
    [
        ("RuntimeError: Kernel died before replying to kernel_info", True),
        ("zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:39979')", True),
        ("CellExecutionError: ZeroDivisionError: division by zero", False),
        (None, False),
    ],
)
def test_the_book_runs_a_notebook_again_only_when_its_kernel_never_started(traceback, again):
    execute = load("execute_notebooks")
    record = SimpleNamespace(traceback=traceback)
    cache = SimpleNamespace(get_project_record=lambda uri: record)
    assert execute._died_starting(cache, "book/ch06.md") is again
