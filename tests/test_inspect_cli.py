"""The command ``python -m lstm_lessons.inspect``, run as a subprocess on tiny saved models."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import lstm_lessons as ll
from lstm_lessons.inspect.cli import main


def _run(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "lstm_lessons.inspect", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("saved")
    model = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    x = np.random.default_rng(0).standard_normal((2, 6, 3)).astype(np.float32)  # (N, T, D)
    torch.save(model, tmp_path / "whole.pt")
    torch.save(model.state_dict(), tmp_path / "state.pt")
    torch.jit.save(torch.jit.script(model), tmp_path / "scripted.pt")
    np.save(tmp_path / "batch.npy", x)
    return model, x, tmp_path


def test_a_whole_module_prints_the_summary_and_writes_the_figures(saved):
    model, x, tmp = saved
    done = _run(tmp / "whole.pt", "--input", tmp / "batch.npy", "--figures", tmp / "figs", cwd=tmp)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(ll.inspect(model, x).summary() + "\n")
    names = sorted(p.name for p in (tmp / "figs").iterdir())
    assert names == [
        "gates_l0_backward.png",
        "gates_l0_forward.png",
        "gates_l1_backward.png",
        "gates_l1_forward.png",
        "half_lives.png",
    ]


def test_a_state_dict_needs_the_batch_layout_and_torchscript_does_not(saved, capsys):
    model, x, tmp = saved
    expected = ll.inspect(model, x).summary()
    assert main([str(tmp / "state.pt"), "--input", str(tmp / "batch.npy"), "--batch-first"]) == 0
    assert capsys.readouterr().out == expected + "\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # TorchScript is loaded as such, no detour
        assert main([str(tmp / "scripted.pt"), "--input", str(tmp / "batch.npy")]) == 0
    assert capsys.readouterr().out == expected + "\n"
    with pytest.raises(SystemExit) as stop:
        main([str(tmp / "state.pt"), "--input", str(tmp / "batch.npy")])
    assert stop.value.code == 2
    assert "a state dict, which does not record batch_first: say --batch-first" in (
        capsys.readouterr().err
    )


def test_bad_input_gets_a_clear_error(saved, capsys, monkeypatch):
    _, x, tmp = saved
    monkeypatch.chdir(tmp)
    np.save(tmp / "flat.npy", x[0])
    np.save(tmp / "ints.npy", np.zeros((2, 6, 3), dtype=np.int64))
    torch.save(torch.nn.Linear(3, 3), tmp / "linear.pt")
    cases = [
        (["whole.pt", "--input", "none.npy"], "--input: no such file 'none.npy'"),
        (["batch.npy", "--input", "batch.npy"], "MODEL: expected a file written by torch.save"),
        (
            ["whole.pt", "--input", "flat.npy"],
            "--input: expected a 3-D array of shape (N, T, D), got 2-D with shape (6, 3)",
        ),
        (["whole.pt", "--input", "ints.npy"], "--input: expected a float array, got dtype int64"),
        (["linear.pt", "--input", "batch.npy"], "Linear holds none"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as stop:
            main(args)
        err = capsys.readouterr().err
        assert stop.value.code == 2 and message in err, (args, err)
    # As a command: the status and one line of error, no traceback.
    done = _run("missing.pt", "--input", "batch.npy", cwd=tmp)
    assert done.returncode == 2
    assert done.stderr == "lstm-lessons-inspect: error: MODEL: no such file 'missing.pt'\n"


def test_without_torch_the_command_says_what_to_install(saved, capsys, monkeypatch):
    _, _, tmp = saved
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails
    with pytest.raises(SystemExit) as stop:
        main([str(tmp / "whole.pt"), "--input", str(tmp / "batch.npy")])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert "lstm-lessons-inspect needs PyTorch" in err and "lstm-lessons[torch]" in err
