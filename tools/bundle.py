"""Write the offline bundle: every notebook of the course, in both languages, in one zip file
that the site offers for download (the download menu of every page).

Usage:
    python tools/bundle.py OUT.zip

For readers who cannot reach Colab, Binder or GitHub. The zip holds:

- ``notebooks/`` and ``notebooks/zh/``: the chapters as executed notebooks, in English and in
  Chinese (``tools/build_notebooks.py``);
- ``exercises/``, ``exercises/zh/``, ``solutions/``, ``solutions/zh/``: the exercise sets and
  their worked solutions (a solution's hidden tests are not in it);
- ``lstm-lessons/``: the package's source, so that ``pip install ./lstm-lessons`` installs it
  without GitHub, its dependencies coming from whatever index pip is configured with (a PyPI
  mirror: see ``README.md`` in the zip);
- ``README.md``: how to install and open them, in English and Chinese.

The files are written in a fixed order with a fixed time stamp, so that the same sources make
the same zip.
"""

import argparse
import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from sphinx_editions import strip_hidden  # noqa: E402

NAME = "lstm-lessons-notebooks"
FOLDERS = ("notebooks", "exercises", "solutions")
PACKAGE = ("pyproject.toml", "README.md", "LICENSE", "requirements.txt")
STAMP = (2026, 1, 1, 0, 0, 0)

README = """\
# LSTM Gating: the notebooks / LSTM 门控：全部笔记本

Every notebook of the course, in English and in Chinese (the `zh/` folders).
本课程的全部笔记本，英文版与中文版（各个`zh/`文件夹）。

- `notebooks/`, `notebooks/zh/`: the chapters / 各章
- `exercises/`, `exercises/zh/`: the exercises / 练习
- `solutions/`, `solutions/zh/`: worked solutions / 参考解答
- `lstm-lessons/`: the course's package / 课程的软件包

## Install / 安装

Python 3.11 or newer. If pypi.org is slow or out of reach, set a PyPI mirror in pip's own
configuration (`pip config set global.index-url https://pypi.tuna.tsinghua.edu.cn/simple`, or
any mirror you trust), then, in this folder:

需要Python 3.11或更高版本。若访问pypi.org很慢或无法访问，先在pip自己的配置中设置PyPI镜像
（`pip config set global.index-url https://pypi.tuna.tsinghua.edu.cn/simple`，或任何可信的镜像），
然后在本文件夹中运行：

    python -m venv .venv
    .venv/bin/pip install "./lstm-lessons[torch]" jupyterlab

On Linux, PyPI's torch is the large CUDA build; the course needs only the CPU build. Add its
index, or a mirror of it, to pip's configuration first (`find-links`), as the course's README
explains (section "Installing through a PyPI mirror").

在Linux上，PyPI中的torch是体积很大的CUDA版本，而本课程只需要CPU版本。请先把CPU版本的索引或其镜像加入
pip的配置（`find-links`），做法见课程README的“Installing through a PyPI mirror”一节。

Then start JupyterLab (`.venv/bin/jupyter lab`) and open a notebook.
然后启动JupyterLab（`.venv/bin/jupyter lab`），打开任一笔记本。
"""


def members(root=ROOT):
    """``[(name in the zip, bytes)]``, in the zip's order."""
    out = [(f"{NAME}/README.md", README.encode("utf-8"))]
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" in path.parts:
                continue
            data = path.read_bytes()
            if folder == "solutions":
                notebook = json.loads(data)
                if strip_hidden(notebook):
                    data = (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode()
            out.append((f"{NAME}/{path.relative_to(root).as_posix()}", data))
    for name in PACKAGE:
        if (root / name).is_file():
            out.append((f"{NAME}/lstm-lessons/{name}", (root / name).read_bytes()))
    for path in sorted((root / "lstm_lessons").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            rel = path.relative_to(root).as_posix()
            out.append((f"{NAME}/lstm-lessons/{rel}", path.read_bytes()))
    return out


def write(out, root=ROOT):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for name, data in members(root):
            info = zipfile.ZipInfo(name, date_time=STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the zip file to write")
    args = parser.parse_args(argv)
    path = write(args.out)
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
