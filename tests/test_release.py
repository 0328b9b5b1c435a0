"""A release a user can install and cite.

- the sdist and the wheel build; the wheel built from the sdist holds the same files (nothing
  the package needs is left out of the sdist);
- the wheel installs in a clean environment, without torch (the ``[torch]`` extra is optional),
  with its data (the exercise sets' public checks, chapter 12's text) and both commands;
- one version everywhere: the package, the wheel, ``CITATION.cff``, the changelog's newest entry.
"""

import importlib.util
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("install_env", ROOT / "tools" / "install_env.py")
install_env = importlib.util.module_from_spec(spec)
spec.loader.exec_module(install_env)

import lstm_lessons  # noqa: E402

VERSION = lstm_lessons.__version__


def uv(*args, timeout=300):
    done = subprocess.run(
        [sys.executable, "-m", "uv", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def clean_checkout(dest):
    """The repository's files (what git tracks or would add) copied to ``dest``: a release is
    built from a clean checkout, not from a tree with an earlier build's egg-info in it."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if listed.returncode != 0 or not listed.stdout:
        pytest.skip("not a git checkout")
    for rel in filter(None, listed.stdout.split("\0")):
        if (ROOT / rel).is_file() and not rel.startswith(("notebooks/", "_build/")):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    return dest


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    if importlib.util.find_spec("uv") is None:
        pytest.skip("uv is not installed in this environment (make install installs it)")
    src = clean_checkout(tmp_path_factory.mktemp("src"))
    out = tmp_path_factory.mktemp("dist")
    uv("build", "--no-build-isolation", "--python", sys.executable, "--sdist", "--wheel",
       "--out-dir", out, src)  # fmt: skip
    return out


def wheel_files(path):
    with zipfile.ZipFile(path) as wheel:
        return sorted(n for n in wheel.namelist() if ".dist-info/" not in n)


def test_the_sdist_holds_everything_the_wheel_does(dist, tmp_path):
    (sdist,) = dist.glob(f"lstm_lessons-{VERSION}.tar.gz")
    (wheel,) = dist.glob(f"lstm_lessons-{VERSION}-py3-none-any.whl")
    uv("build", "--no-build-isolation", "--python", sys.executable, "--wheel",
       "--out-dir", tmp_path, sdist)  # fmt: skip
    (again,) = tmp_path.glob("*.whl")
    files = wheel_files(wheel)
    assert files == wheel_files(again)
    data = [
        "lstm_lessons/homework/manifests/ch01_simple_rnn.json",
        "lstm_lessons/experiments/data/ablation.json",
        "lstm_lessons/data/README.md",
    ]
    assert set(data) <= set(files)


def test_the_wheel_installs_and_runs_in_a_clean_environment_without_torch(dist, tmp_path):
    (wheel,) = dist.glob("*.whl")
    env = tmp_path / "env"
    uv("venv", "--quiet", "--python", sys.executable, env)
    python = env / "bin" / "python"
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout
    sources = install_env.uv_arguments(install_env.pip_settings(listing))
    uv("pip", "install", "--quiet", "--python", python, *sources, wheel, timeout=600)
    script = f"""
import importlib.resources, importlib.util
import lstm_lessons as ll
from lstm_lessons.homework.notebook import Grader
assert ll.__version__ == {VERSION!r}, ll.__version__
assert importlib.util.find_spec("torch") is None, "torch came without the extra"
Grader("ch01_simple_rnn")
assert importlib.resources.files("lstm_lessons").joinpath("data/README.md").is_file()
try:
    ll.to_torch
except ImportError as error:
    assert "lstm-lessons[torch]" in str(error), error
else:
    raise SystemExit("to_torch imported without torch")
print("ok")
"""
    done = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
    for command in ("lstm-lessons-grade", "lstm-lessons-inspect"):
        assert (env / "bin" / command).is_file(), command


def test_one_version_in_the_citation_and_the_changelog():
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(rf'^version: "{re.escape(VERSION)}"$', citation, re.MULTILINE)
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    newest = re.search(r"^## (\S+)", changelog, re.MULTILINE)
    assert newest and newest.group(1) == VERSION, (
        "CHANGELOG.md: the newest entry is not this version"
    )
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject and "version = {attr" in pyproject
    assert not re.search(r'^version = "', pyproject, re.MULTILINE)
