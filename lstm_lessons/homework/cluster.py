"""Grading a class, or running a sweep, on a Dask cluster (the extra ``grading-cluster``).

``python -m lstm_lessons.grade ... --dask ADDRESS`` (a running scheduler) or ``--dask-local N``
(a ``distributed.LocalCluster`` of N worker processes, one thread each) makes each
submission one task on the cluster's workers. The task carries the submission's bytes, not a
path: the worker writes them into a private folder of its own, and the sandbox and the trusted
checks run there, on the worker. The rows stream back as the tasks finish
(``distributed.as_completed``) to the one process that writes the gradebook
(:mod:`lstm_lessons.homework.gradebook`), which keys every row by its submission.

A worker that dies mid-task costs a retry: the scheduler runs the task again on another worker
(up to ``distributed.scheduler.allowed-failures`` deaths, 3 by default), and a task that raised
is run again up to :data:`RETRIES` times. A task that still fails gives its submission a row
with the status ``not graded`` and why, so no submission is left out; a re-run grades it again.
The bytes travel inside the task (not scattered to one worker) so that a task can be re-run
after any worker is lost.

:func:`map_units` maps any list of independent units (the units of a sweep script,
``scripts/run_ablation.py --dask``) over a client the same way.
"""

import os
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path

EXTRA = "grading-cluster"
RETRIES = 2  # a task that raised is run again this many times before its row says why
MISSING = (
    "{what} needs Dask's distributed scheduler (the packages dask and distributed), which is "
    "not installed here: install the extra with pip install 'lstm-lessons[" + EXTRA + "]' "
    "(or dask and distributed as pinned in requirements.txt); ImportError: {error}"
)


def require_distributed(what="--dask"):
    """The module ``distributed``, or a :class:`RuntimeError` that names the extra."""
    try:
        import distributed
    except ImportError as e:
        raise RuntimeError(MISSING.format(what=what, error=e)) from None
    return distributed


@contextmanager
def open_client(address=None, local_workers=None, what="--dask"):
    """A ``distributed.Client`` of the scheduler at ``address``, or of a LocalCluster.

    ``local_workers`` (an int, at least 1) starts a LocalCluster of that many worker
    processes with one thread each (no dashboard), closed again on leaving.
    """
    if (address is None) == (local_workers is None):
        raise ValueError(f"expected either a scheduler address or a number of local workers, "
                         f"got address={address!r}, local_workers={local_workers!r}")  # fmt: skip
    if local_workers is not None and (not isinstance(local_workers, int) or local_workers < 1):
        raise ValueError(f"expected a number of local workers of at least 1, got "
                         f"{local_workers!r}")  # fmt: skip
    distributed = require_distributed(what)
    if local_workers is not None:
        with distributed.LocalCluster(
            n_workers=local_workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            with distributed.Client(cluster) as client:
                yield client
    else:
        with distributed.Client(address) as client:
            yield client


def _worker_sandbox():
    from .sandbox import bwrap_path

    return socket.gethostname(), bwrap_path() is not None


def check_workers(client, use_bwrap):
    """Stop with a clear error when a worker cannot run the sandbox the grading asks for."""
    if not use_bwrap:
        return
    missing = sorted(w for w, (_, ok) in client.run(_worker_sandbox).items() if not ok)
    if missing:
        raise RuntimeError(
            f"bubblewrap (bwrap) does not work on {len(missing)} worker(s) of the cluster "
            f"({', '.join(missing)}): install it on every worker, or grade with --no-sandbox "
            "(unsafe)"
        )


def grade_task(copy_name, data, manifest, limits, use_bwrap, secret):
    """Runs on a worker: grade one submission from its bytes; its row (without ``sha256``)."""
    from .score import Stop, grade_submission

    if use_bwrap:
        host, ok = _worker_sandbox()
        if not ok:
            raise RuntimeError(f"bubblewrap (bwrap) does not work on the worker on {host}")
    with tempfile.TemporaryDirectory(prefix="lstm-grade-copy-") as private:
        os.chmod(private, 0o700)
        copy = Path(private) / copy_name
        copy.write_bytes(data)
        return grade_submission(copy, manifest, limits, use_bwrap, secret, Stop())


def failed_row(manifest, error):
    """The row of a submission whose task failed on the cluster after its retries."""
    from .score import not_graded_row

    return not_graded_row(
        manifest,
        f"not graded: its grading failed on the cluster after {RETRIES} retries "
        f"({type(error).__name__}: {' '.join(str(error).split())}); grade it again",
    )


def grade_on_cluster(client, todo, manifest, limits, use_bwrap, secret):
    """Yield (name, digest, row) as each task of ``todo`` ({name: (copy, digest)}) finishes.

    Leaving early (Ctrl-C) cancels the tasks not finished.
    """
    distributed = require_distributed()
    check_workers(client, use_bwrap)
    futures = {}
    for name, (copy, digest) in todo.items():
        copy = Path(copy)
        future = client.submit(grade_task, copy.name, copy.read_bytes(), manifest, limits,
                               use_bwrap, secret, key=f"grade-{copy.stem}-{digest[:16]}",
                               retries=RETRIES, pure=False)  # fmt: skip
        futures[future] = (name, digest)
    try:
        for future in distributed.as_completed(futures):
            name, digest = futures.pop(future)
            try:
                row = future.result()
            except Exception as e:  # the task raised after its retries, or its workers died
                row = failed_row(manifest, e)
            yield name, digest, row
    finally:
        if futures:
            client.cancel(list(futures))


def map_units(client, function, units, retries=RETRIES):
    """Run ``function(unit)`` for each unit as a task; yield (index, result) as each finishes.

    The units must be independent; a task that raised is run again ``retries`` times (then
    its exception is raised here), one whose worker died is run again by the scheduler.
    """
    distributed = require_distributed("running units on a cluster")
    futures = {client.submit(function, unit, retries=retries, pure=False): k
               for k, unit in enumerate(units)}  # fmt: skip
    try:
        for future in distributed.as_completed(futures):
            k = futures.pop(future)
            yield k, future.result()
    finally:
        if futures:
            client.cancel(list(futures))
