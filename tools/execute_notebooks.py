"""Execute the book's notebooks in parallel into its jupyter-cache, before the book build.

Usage: python tools/execute_notebooks.py [--jobs N] [--root DIR] CACHE_DIR

The book build (``execute_notebooks: cache``) takes a notebook's outputs from the
jupyter-cache whenever the cache holds a run of the same code, and otherwise executes
the notebook itself, one at a time. This step fills the cache first with N notebooks
running at once (N = the number of cores by default), so that on a 2-core CI machine
the build's execution takes about half the time. The build then executes nothing.

Which notebooks: every page in ``_toc.yml`` that MyST-NB treats as a notebook (a
``.ipynb`` file, or a ``.md`` file with a notebook's front matter), except those that
``execute.exclude_patterns`` in ``_config.yml`` leaves unexecuted; those already in the
cache are skipped. The timeout is ``execute.timeout`` of ``_config.yml``.

A notebook that fails is reported with its traceback and the exit status is 1; it is
not cached, so the book build would execute it again and fail on it too.
"""

import argparse
import fnmatch
import multiprocessing
import os
import sys
import time
from pathlib import Path

import yaml
from jupyter_cache import get_cache
from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData
from myst_nb.core.read import is_myst_markdown_notebook

# How jupyter-cache reads a MyST markdown notebook: MyST-NB's own reader, the one the
# build uses, so that the cache matches the notebook the build reads.
MYST_READER = {"name": "myst_nb_md", "type": "plugin"}
IPYNB_READER = {"name": "nbformat", "type": "plugin"}


def toc_files(toc: dict) -> list[str]:
    """Every ``root`` and ``file`` entry of a jupyter-book table of contents, in order."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    found.append(node[key])
            for value in node.values():
                if isinstance(value, list | dict):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


def notebooks(root: Path) -> list[Path]:
    """The notebooks that the book build executes, in the order of the table of contents."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    execute = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")).get("execute", {})
    excluded = execute.get("exclude_patterns", [])
    found = []
    for entry in toc_files(toc):
        candidates = [root / f"{entry}{suffix}" for suffix in ("", ".ipynb", ".md")]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise SystemExit(f"execute_notebooks: _toc.yml names {entry!r}, but no such file")
        relative = path.relative_to(root).as_posix()
        if any(fnmatch.fnmatch(relative, pattern) for pattern in excluded):
            continue
        if path.suffix == ".ipynb" or (
            path.suffix == ".md" and is_myst_markdown_notebook(path.read_text(encoding="utf-8"))
        ):
            found.append(path)
    return found


def quiet_stderr(log: Path):
    """Send a worker's stderr, and so its kernels' (a transport warning at every start), to LOG.

    Also: a worker never truncates the cache. jupyter-cache trims the cache to its limit each
    time it stores a notebook, by listing the records to keep and then deleting every other;
    a record that another worker added between the two queries is deleted before its notebook
    file is written, and that worker's store fails ("Notebook file does not exist for cache
    record"). The book's cache holds one record per page, far below the limit.
    """
    from jupyter_cache.cache.main import JupyterCacheBase

    JupyterCacheBase.truncate_caches = lambda self: None
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)


def run_one(data: ProcessData) -> tuple[int, str, float]:
    """Execute one notebook and cache it; (status, path, seconds), status 0 on success."""
    start = time.perf_counter()
    status, uri = ExecutionWorkerLocalMProc()(data)
    return status, uri, time.perf_counter() - start


# What a failed execution's traceback says when the kernel never started.
KERNEL_START_FAILURES = ("Kernel died before replying to kernel_info", "Address already in use",
                         "Kernel didn't respond")  # fmt: skip


def _died_starting(cache, uri: str) -> bool:
    traceback = cache.get_project_record(uri).traceback or ""
    return any(message in traceback for message in KERNEL_START_FAILURES)


def main(cache_dir: Path, root: Path, jobs: int) -> int:
    root = root.resolve()
    timeout = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    timeout = (timeout.get("execute") or {}).get("timeout", 30)
    cache = get_cache(str(cache_dir))
    todo = []
    for path in notebooks(root):
        reader = MYST_READER if path.suffix == ".md" else IPYNB_READER
        record = cache.add_nb_to_project(str(path), read_data=reader)
        if cache.get_cached_project_nb(record.pk) is None:
            todo.append(ProcessData(record.pk, record.uri, cache, timeout, False))
    if not todo:
        print("execute_notebooks: every notebook is already in the cache")
        return 0

    print(f"execute_notebooks: {len(todo)} notebooks, {jobs} at a time")
    failed = []
    # One notebook per task, in the table's order: the long early chapters start first.
    log = cache_dir / "execute_notebooks.log"
    log.unlink(missing_ok=True)
    with multiprocessing.Pool(jobs, initializer=quiet_stderr, initargs=(log,)) as pool:
        for status, uri, seconds in pool.imap_unordered(run_one, todo, chunksize=1):
            name = Path(uri).relative_to(root)
            print(f"  {seconds:6.1f} s  {name}{'' if status == 0 else '  FAILED'}", flush=True)
            if status != 0:
                failed.append(uri)
    # A kernel that died while starting (parallel kernels can be handed the same TCP port:
    # "Address already in use") says nothing about its notebook: run it again, alone.
    for data in [d for d in todo if d.uri in failed and _died_starting(cache, d.uri)]:
        status, uri, seconds = run_one(data)
        name = Path(uri).relative_to(root)
        print(f"  {seconds:6.1f} s  {name}  (again: its kernel died while starting)"
              f"{'' if status == 0 else '  FAILED'}", flush=True)  # fmt: skip
        if status == 0:
            failed.remove(uri)
    for uri in failed:
        traceback = cache.get_project_record(uri).traceback or "(no traceback recorded)"
        print(f"\nexecute_notebooks: {Path(uri).relative_to(root)} failed:\n{traceback}",
              file=sys.stderr)  # fmt: skip
    if failed:
        print(f"execute_notebooks: the kernels' own messages are in {log}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", type=Path, help="the build's jupyter-cache folder")
    parser.add_argument("--root", type=Path, default=Path("."), help="the book's root folder")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="notebooks executed at once (default: one per core)")  # fmt: skip
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f"--jobs must be a positive integer, got {args.jobs}")
    sys.exit(main(args.cache, args.root, args.jobs))
