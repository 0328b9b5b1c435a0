"""tools/install_env.py: uv gets the package sources that pip would use here.

The CPU build of torch is picked only because pip's find-links (or an index) offers it; uv does
not read pip's configuration, so if the settings were not passed on, uv would resolve
``torch==2.13.0`` to the multi-gigabyte CUDA build.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("install_env", ROOT / "tools" / "install_env.py")
install_env = importlib.util.module_from_spec(spec)
spec.loader.exec_module(install_env)

LISTING = """\
:env:.default-timeout='180'
:env:.find-links='/opt/wheels'
global.cert='/etc/ssl/certs/ca-certificates.crt'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
global.find-links='/old/wheels'
"""


def test_settings_that_choose_packages_are_read_and_split():
    settings = install_env.pip_settings(LISTING)
    assert settings == {
        "find-links": ["/opt/wheels"],  # the environment variable wins over the config file
        "constraint": ["/etc/xdg/pip/constraints.txt"],
        "extra-index-url": ["file:///opt/pypi/simple", "file:///opt/pypi-more/simple"],
    }


def test_install_section_wins_over_global_and_env_over_both():
    listing = "global.index-url='a'\ninstall.index-url='b'\n"
    assert install_env.pip_settings(listing) == {"index-url": ["b"]}
    listing += ":env:.index-url='c'\n"
    assert install_env.pip_settings(listing) == {"index-url": ["c"]}


def test_uv_gets_each_setting_and_pips_index_strategy():
    args = install_env.uv_arguments(install_env.pip_settings(LISTING))
    assert args[:2] == ["--index-strategy", "unsafe-best-match"]
    pairs = list(zip(args[2::2], args[3::2], strict=True))
    assert ("--find-links", "/opt/wheels") in pairs
    assert ("--constraint", "/etc/xdg/pip/constraints.txt") in pairs
    assert ("--extra-index-url", "file:///opt/pypi/simple") in pairs
    assert ("--extra-index-url", "file:///opt/pypi-more/simple") in pairs
    assert len(pairs) == 4


def test_no_settings_give_only_the_strategy():
    assert install_env.uv_arguments(install_env.pip_settings("")) == [
        "--index-strategy", "unsafe-best-match"]  # fmt: skip


def test_the_installed_torch_is_the_cpu_build():
    """What the install put in this environment: the CPU build, as the README promises."""
    torch = pytest.importorskip("torch")
    assert torch.__version__.startswith("2.13.0")
    assert torch.version.cuda is None, f"torch {torch.__version__} is a CUDA build"


def test_uv_resolves_torch_to_the_cpu_build_here():
    """uv, given this machine's pip settings, picks torch 2.13.0+cpu (a dry run, no download).

    Skipped where uv is not installed (an environment installed with pip) or where pip's
    settings offer no CPU build (then the README's first install line provides it).
    """
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout
    settings = install_env.pip_settings(listing)
    if not any(
        "cpu" in p.name
        for d in settings.get("find-links", [])
        if Path(d).is_dir()
        for p in Path(d).glob("torch-*.whl")
    ):
        pytest.skip("no CPU build of torch on pip's find-links here")
    if importlib.util.find_spec("uv") is None:
        pytest.skip("uv is not installed in this environment")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "uv",
            "pip",
            "install",
            "--dry-run",
            "--python",
            sys.executable,
            "--reinstall-package",
            "torch",
            *install_env.uv_arguments(settings),
            "torch==2.13.0",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "torch==2.13.0+cpu" in done.stderr + done.stdout, done.stderr


# --- The CPU build of torch, under both configurations -------------------------------------


def test_the_pinned_torch_version_is_read_from_requirements():
    assert install_env.pinned_torch("numpy==2.0\ntorch==2.13.0\n") == "2.13.0"
    assert install_env.pinned_torch("torch==2.13.0+cpu\n") == "2.13.0"
    assert install_env.pinned_torch("numpy==2.0\n") is None
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert install_env.pinned_torch(requirements) == "2.13.0"


def test_a_find_links_folder_with_the_cpu_wheel_needs_nothing_more(tmp_path):
    (tmp_path / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"")
    settings = {"find-links": [str(tmp_path)], "extra-index-url": ["file:///mirror/simple"]}
    for tool in ("uv", "pip"):
        assert install_env.torch_arguments(settings, "2.13.0", tool) == []
    settings = {"find-links": [f"file://{tmp_path}"]}
    assert install_env.torch_arguments(settings, "2.13.0", "uv") == []


def test_a_find_links_address_on_the_web_is_a_mirror_of_the_cpu_builds():
    # A reader behind a firewall configures pip with a PyPI mirror and a mirror of PyTorch's CPU
    # wheels (README.md, "Installing through a PyPI mirror"): nothing points at PyTorch's index.
    settings = {
        "index-url": ["https://pypi.tuna.tsinghua.edu.cn/simple"],
        "find-links": ["https://mirrors.example.cn/pytorch-wheels/cpu/"],
    }
    for tool in ("uv", "pip"):
        assert install_env.torch_arguments(settings, "2.13.0", tool) == []


def test_without_one_the_cpu_build_comes_from_pytorchs_index(tmp_path):
    # A public index, a mirror, a folder with another version or with the CUDA build: none
    # offers the CPU wheel of the pin.
    (tmp_path / "torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"")
    (tmp_path / "torch-2.12.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"")
    configurations = [
        {},
        {"index-url": ["https://mirror.example/simple"]},
        {"find-links": [str(tmp_path)]},
        {"find-links": ["/no/such/folder"]},
    ]
    for settings in configurations:
        assert install_env.torch_arguments(settings, "2.13.0", "uv") == ["--torch-backend", "cpu"]
        assert install_env.torch_arguments(settings, "2.13.0", "pip") == [
            "--extra-index-url", "https://download.pytorch.org/whl/cpu"]  # fmt: skip
    assert install_env.torch_arguments({}, None, "uv") == []
    with pytest.raises(ValueError, match="tool must be 'uv' or 'pip', got 'conda'"):
        install_env.torch_arguments({}, "2.13.0", "conda")


def test_this_machines_configuration_is_the_find_links_one():
    """Here, pip's find-links offers the CPU wheel, so the install needs no network."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout
    settings = install_env.pip_settings(listing)
    if not install_env.cpu_wheel_offered(settings, "2.13.0"):
        pytest.skip("no CPU wheel of torch on pip's find-links here")
    assert install_env.torch_arguments(settings, "2.13.0", "uv") == []
