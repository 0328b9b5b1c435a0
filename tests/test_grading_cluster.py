"""Grading on a Dask cluster (``--dask``, ``--dask-local``): the gradebook a local run writes,
a worker killed mid-task costing only a retry, units of a sweep mapped over a client, and the
clear errors (the extra missing, bad options, a worker without the sandbox).

The clusters are LocalClusters; a Slurm or Kubernetes cluster is not tested here.
"""

import csv
import hashlib
import importlib.util
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from grading_helpers import HONEST, ROOT, TOY, need_bwrap, notebook

from lstm_lessons.homework import cluster, grading
from lstm_lessons.homework.cli import main
from lstm_lessons.homework.gradebook import RowCache
from lstm_lessons.homework.grading import Limits, grade_folder, write_gradebook

distributed = pytest.importorskip("distributed")

SLOW_S = 3  # the slow submission's cell: the kill lands while it runs
LIMITS = Limits(cell_timeout_s=90, test_timeout_s=5, memory_mb=1024, kill_grace_s=2)


def _solution(path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["lstm_lessons"] = TOY
    nbformat.write(nb, path)
    return path


def _class(folder, slow=False):
    """Five files: full marks, q3 missing, q1 and q2 wrong, a slow full-marks one, a .txt."""
    notebook(folder / "a.ipynb", HONEST, markdown=["An answer."])
    notebook(folder / "b.ipynb", HONEST[:2])
    notebook(folder / "c.ipynb", ["def double(x):\n    return x\n", "value = 8\n", HONEST[2]])
    pause = f"import time\ntime.sleep({SLOW_S if slow else 0})\n"
    notebook(folder / "d.ipynb", [pause, *HONEST])
    (folder / "e.txt").write_text("not a notebook")
    return {"a.ipynb": ("4", "graded"), "b.ipynb": ("2", "graded"), "c.ipynb": ("2", "graded"),
            "d.ipynb": ("4", "graded"), "e.txt": ("0", "not graded")}  # fmt: skip


def _table(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_gradebook_of_a_local_cluster_equals_a_local_run(tmp_path, monkeypatch):
    need_bwrap()
    folder = tmp_path / "class"
    expected = _class(folder)
    solution = _solution(tmp_path / "toy.ipynb")
    outs, from_cluster = {}, []
    real = cluster.grade_on_cluster

    def grade_on_cluster(client, *args):
        assert len(client.scheduler_info()["workers"]) == 2
        for name, digest, row in real(client, *args):
            from_cluster.append(name)
            yield name, digest, row

    for how, extra in (("local", ["--jobs", "2"]), ("cluster", ["--dask-local", "2"])):
        if how == "cluster":  # every notebook is graded on a worker, none in this process
            monkeypatch.setattr(cluster, "grade_on_cluster", grade_on_cluster)
            monkeypatch.setattr(grading, "grade_submission", None)
        (tmp_path / how).mkdir()
        outs[how] = out = tmp_path / how / "gradebook.csv"
        args = [str(folder), "--assignment", str(solution), "--out", str(out),
                "--cell-timeout", "90", "--test-timeout", "5", *extra]  # fmt: skip
        assert main(args) == 0
    assert sorted(from_cluster) == ["a.ipynb", "b.ipynb", "c.ipynb", "d.ipynb"]
    local, on_cluster = _table(outs["local"]), _table(outs["cluster"])
    assert {r["submission"]: (r["total"], r["status"]) for r in on_cluster} == expected
    assert on_cluster == local  # the gradebook has no timing column
    # Feedback, written answers, summary, LMS files: the same bytes; the kept rows differ only
    # in their timing entries.
    left, right = (Path(f"{outs[how]}.d") for how in ("local", "cluster"))
    files = sorted(p.relative_to(left) for p in left.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(right) for p in right.rglob("*") if p.is_file())
    assert len(files) == 13  # 5 feedback, 4 rows, written answers, summary, Canvas, Moodle
    for name in files:
        if name.parts[0] == "rows":
            untimed = [json.loads((side / name).read_text()) for side in (left, right)]
            for kept in untimed:
                assert kept["row"].pop("seconds") > 0 and kept["row"].pop("cpu_s") > 0
            assert untimed[0] == untimed[1], name
        else:
            assert (left / name).read_bytes() == (right / name).read_bytes(), name


@pytest.fixture(scope="module")
def two_workers():
    """The fault test's cluster: two worker processes, one thread each."""
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as lc, distributed.Client(lc) as client:
        yield lc, client


def _kill_mid_run(tmp_path, two_workers, allowed_failures):
    """Grade the class on two worker processes, SIGKILL the one running d.ipynb mid-task."""
    folder = tmp_path / "class"
    expected = _class(folder, slow=True)
    manifest = TOY
    digest = hashlib.sha256((folder / "d.ipynb").read_bytes()).hexdigest()
    out = tmp_path / "gradebook.csv"
    seen, outcome = [], {}
    cache = RowCache(tmp_path / "rows", "options")

    def progress(done, total, name, row):
        seen.append(name)

    def on_row(rows):
        write_gradebook(rows, manifest, out)

    lc, client = two_workers
    client.wait_for_workers(2, timeout=60)  # the worker killed by an earlier test is back
    lc.scheduler.allowed_failures = allowed_failures
    since = time.time()

    def grade():
        try:
            outcome["rows"] = grade_folder(folder, manifest, LIMITS, progress=progress,
                                           on_row=on_row, cache=cache, client=client)  # fmt: skip
        except BaseException as e:  # pragma: no cover - shown by the assert below
            outcome["error"] = e

    thread = threading.Thread(target=grade)
    thread.start()
    victim, deadline = None, time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        running = client.run(
            lambda dask_worker: [str(ts.key) for ts in dask_worker.state.executing]
        )
        victim = next((w for w, keys in running.items()
                       if any(digest[:16] in k for k in keys)), None)  # fmt: skip
        time.sleep(0.1)
    assert victim is not None, "d.ipynb never ran"
    time.sleep(0.5)  # inside its slow cell (SLOW_S s)
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    thread.join(120)
    story = [e for e in lc.scheduler.transition_log
             if digest[:16] in str(e.key) and e.timestamp >= since]  # fmt: skip
    assert "error" not in outcome, outcome.get("error")
    assert not thread.is_alive()
    kept = {n: cache.get(r["sha256"]) is not None for n, r in outcome["rows"].items()}
    return expected, outcome["rows"], seen, _table(out), story, kept


def test_a_worker_killed_mid_task_costs_a_retry(tmp_path, two_workers):
    # Fault test: no row lost, none doubled, every row right.
    need_bwrap()
    run = _kill_mid_run(tmp_path, two_workers, allowed_failures=3)
    expected, rows, seen, table, story, kept = run
    assert kept == {"a.ipynb": True, "b.ipynb": True, "c.ipynb": True, "d.ipynb": True,
                    "e.txt": False}  # fmt: skip
    assert sorted(seen) == sorted(expected)  # each row recorded once
    assert [r["submission"] for r in table] == sorted(expected)
    assert {r["submission"]: (r["total"], r["status"]) for r in table} == expected
    assert rows["d.ipynb"]["reasons"] == [] and rows["d.ipynb"]["scores"]["q3"] == 2.0
    # The scheduler's log: d's task was processing when its worker died, then ran again.
    moves = [(e.start, e.finish, e.stimulus_id.rsplit("-", 1)[0]) for e in story]
    assert moves.count(("processing", "released", "handle-worker-cleanup")) == 1
    assert [m for m in moves if m[1] in ("memory", "erred")] == [
        ("processing", "memory", "task-finished")]  # fmt: skip


def test_a_task_whose_workers_keep_dying_gets_a_row_saying_why(tmp_path, two_workers):
    need_bwrap()
    run = _kill_mid_run(tmp_path, two_workers, allowed_failures=0)
    expected, rows, seen, table, story, kept = run
    # graded again on the next run: its row is not kept
    assert kept == {"a.ipynb": True, "b.ipynb": True, "c.ipynb": True, "d.ipynb": False,
                    "e.txt": False}  # fmt: skip
    assert [(e.start, e.finish) for e in story if e.finish in ("memory", "erred")] == [
        ("processing", "erred")]  # fmt: skip
    assert sorted(seen) == sorted(expected)
    assert [r["submission"] for r in table] == sorted(expected)
    expected["d.ipynb"] = ("0", "not graded")
    assert {r["submission"]: (r["total"], r["status"]) for r in table} == expected
    (reason,) = rows["d.ipynb"]["reasons"]
    assert reason.startswith("not graded: its grading failed on the cluster after 2 retries "
                             "(KilledWorker: ") and reason.endswith("grade it again")  # fmt: skip


# --- units of a sweep ------------------------------------------------------------------------

ATTEMPTS = {}


def _flaky_square(unit):
    """Raises the first time it sees a unit (a transient failure), then squares it."""
    ATTEMPTS[unit] = ATTEMPTS.get(unit, 0) + 1
    if ATTEMPTS[unit] == 1:
        raise OSError(f"transient failure of unit {unit}")
    return unit * unit


@pytest.fixture
def inprocess_client():
    with distributed.LocalCluster(
        n_workers=1, processes=False, threads_per_worker=2, dashboard_address=None
    ) as lc, distributed.Client(lc) as c:
        yield c


def _run_ablation_script():
    spec = importlib.util.spec_from_file_location("run_ablation", ROOT / "scripts/run_ablation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sweep_units_run_as_tasks_and_a_failed_unit_is_retried(inprocess_client):
    ATTEMPTS.clear()
    done = dict(cluster.map_units(inprocess_client, _flaky_square, [2, 3, 4]))
    assert done == {0: 4, 1: 9, 2: 16} and ATTEMPTS == {2: 2, 3: 2, 4: 2}
    ATTEMPTS.clear()
    run_ablation = _run_ablation_script()
    assert run_ablation.run_units(_flaky_square, [5, 6], client=inprocess_client) == [25, 36]
    ATTEMPTS.clear()
    with pytest.raises(OSError, match="transient failure of unit 7"):
        list(cluster.map_units(inprocess_client, _flaky_square, [7], retries=0))


def test_a_worker_without_the_sandbox_is_named(inprocess_client, monkeypatch):
    monkeypatch.setattr(cluster, "_worker_sandbox", lambda: ("node-7", False))
    (worker,) = inprocess_client.scheduler_info()["workers"]
    with pytest.raises(RuntimeError, match=rf"bwrap\) does not work on 1 worker\(s\) of the "
                       rf"cluster \({worker}\): install it on every worker, or grade with "
                       r"--no-sandbox"):  # fmt: skip
        cluster.check_workers(inprocess_client, use_bwrap=True)
    cluster.check_workers(inprocess_client, use_bwrap=False)


# --- clear errors ----------------------------------------------------------------------------


def _cli_error(capsys, tmp_path, *extra):
    (tmp_path / "class").mkdir(exist_ok=True)
    solution = _solution(tmp_path / "toy.ipynb")
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / "class"), "--assignment", str(solution), *extra])
    assert stop.value.code == 2
    return capsys.readouterr().err


def test_dask_without_the_extra_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    err = _cli_error(capsys, tmp_path, "--dask", "tcp://127.0.0.1:8786")
    assert "--dask needs Dask's distributed scheduler" in err
    assert "pip install 'lstm-lessons[grading-cluster]'" in err
    err = _cli_error(capsys, tmp_path, "--dask-local", "2")
    assert "--dask-local needs Dask's distributed scheduler" in err
    with pytest.raises(RuntimeError, match=r"lstm-lessons\[grading-cluster\]"):
        cluster.require_distributed()


def test_bad_cluster_options_are_refused(tmp_path, capsys):
    err = _cli_error(capsys, tmp_path, "--dask-local", "0")
    assert "--dask-local: expected a number of workers of at least 1, got 0" in err
    err = _cli_error(capsys, tmp_path, "--dask-local", "2", "--jobs", "2")
    assert "with --dask or --dask-local the workers' threads set that: leave --jobs out" in err
    err = _cli_error(capsys, tmp_path, "--dask-local", "2", "--dask", "tcp://x:1")
    assert "not allowed with argument" in err
    with pytest.raises(ValueError, match="expected either a scheduler address or a number"):
        with cluster.open_client():
            pass
    with pytest.raises(ValueError, match="at least 1, got 0"):
        with cluster.open_client(local_workers=0):
            pass


def test_a_missing_output_folder_or_secret_file_is_a_clear_error(tmp_path, capsys):
    err = _cli_error(capsys, tmp_path, "--out", str(tmp_path / "no" / "gradebook.csv"))
    assert f"--out: expected the gradebook's file in an existing folder; {tmp_path / 'no'}" in err
    err = _cli_error(capsys, tmp_path, "--secret-file", str(tmp_path / "missing.txt"))
    assert f"--secret-file: cannot read {tmp_path / 'missing.txt'}: No such file" in err
    (tmp_path / "empty.txt").write_text("\n")
    err = _cli_error(capsys, tmp_path, "--secret-file", str(tmp_path / "empty.txt"))
    assert "is empty; expected a random secret" in err


def test_a_short_secret_is_warned_about(tmp_path, capsys):
    (tmp_path / "class").mkdir()
    (tmp_path / "short.txt").write_text("abc")
    solution = _solution(tmp_path / "toy.ipynb")
    out = tmp_path / "gradebook.csv"
    assert main([str(tmp_path / "class"), "--assignment", str(solution), "--out", str(out),
                 "--secret-file", str(tmp_path / "short.txt"), "--no-sandbox"]) == 0  # fmt: skip
    assert "warning: the secret has 3 characters" in capsys.readouterr().err
