"""The published book: the deployment workflow, the launch settings and the Binder environment.

The GitHub Actions workflow cannot run here, so these tests check what it would run against
what the README promises, and that the settings the book's buttons are built from agree.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def readme_build_command():
    """The command after which the README says "# build the book", in its first bash block."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^(\S.*?)\s+# build the book\s*$", readme, flags=re.MULTILINE)
    assert match, "README.md no longer shows the command that builds the book"
    return match.group(1).strip()


def workflow_steps():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_the_workflow_builds_with_the_readme_command():
    runs = [step["run"].strip() for step in workflow_steps() if "run" in step]
    builds = [run for run in runs if "jupyter-book" in run or run.startswith("make")]
    assert builds == [readme_build_command()], (
        f"the workflow builds with {builds}, the README says {readme_build_command()!r}"
    )


def test_the_workflow_publishes_the_built_html():
    uploads = [s for s in workflow_steps() if s.get("uses", "").startswith("actions/upload-pages")]
    assert [u["with"]["path"] for u in uploads] == ["_build/html"]
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in workflow_steps())


def test_the_workflow_leaves_the_cpu_build_of_torch_to_make_book():
    """No install step of its own: ``make book`` installs (tools/install_env.py), and on GitHub's
    runners, where pip has no find-links folder, that takes torch from PyTorch's CPU index."""
    import importlib.util

    runs = "\n".join(step.get("run", "") for step in workflow_steps())
    assert "pip install" not in runs and "torch" not in runs
    spec = importlib.util.spec_from_file_location("install_env", ROOT / "tools" / "install_env.py")
    install_env = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(install_env)
    assert install_env.torch_arguments({}, pinned_torch(), "uv") == ["--torch-backend", "cpu"]


def pinned_torch():
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    return re.search(r"^torch==(\S+)$", text, flags=re.MULTILINE).group(1)


def test_binder_installs_the_pinned_cpu_torch_and_the_package():
    lines = (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    lines = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert f"torch=={pinned_torch()}+cpu" in lines
    assert "-r ../requirements.txt" in lines
    assert "-e ." in lines


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_every_launch_button_and_live_code_are_on(config):
    buttons = config["launch_buttons"]
    for key in ("binderhub_url", "colab_url"):
        assert buttons.get(key, "").startswith("https://"), key
    assert buttons.get("thebe") is True
    assert "sphinx_launch" in config["sphinx"]["local_extensions"]
    assert config["html"]["use_download_button"] is True
    assert config["repository"]["url"].startswith("https://github.com/")


def test_jupyterhub_is_opt_in_and_documented(config):
    """No button to a hub that does not exist: an instructor sets their own (README)."""
    hub = config["launch_buttons"].get("jupyterhub_url")
    assert hub is None or hub.startswith("https://"), hub
    text = (ROOT / "_config.yml").read_text(encoding="utf-8")
    assert re.search(r"^  # jupyterhub_url: https://", text, flags=re.MULTILINE)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "jupyterhub_url" in readme and "nbgitpuller" in readme


def test_math_is_bundled_not_loaded_from_a_cdn(config):
    assert "sphinx-mathjax-offline" in config["sphinx"]["extra_extensions"]
    assert "mathjax_path" not in config["sphinx"].get("config", {})
    pins = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^sphinx-mathjax-offline==\S+$", pins, flags=re.MULTILINE)


def test_the_book_lists_the_reference_pages():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for page in ("book/glossary", "book/benchmarks", "book/execution_report"):
        assert f"file: {page}\n" in toc, page
