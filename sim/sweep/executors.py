"""Executors: where runs are evaluated. Each is a context manager with the same three verbs.

* ``submit(run) -> future``: evaluate one run (a dict) remotely;
* ``wait_any(futures) -> done``: block until at least one future has finished;
* ``capacity``: how many workers there are (the sweep keeps 4 x capacity runs in flight).

``local``: a process pool whose workers die with their parent, started by
:func:`sim.parallel.start_pool` (``fork`` on Linux when no other Python thread runs, so each
worker starts with the parent's imports and, for the model, the base scenario's region and
network already built; else a fork server that preloads the model). The workers start on
entering, before the sweep starts a progress bar's thread. ``dask``: ``dask.distributed`` on a
``LocalCluster`` (one thread per worker process) or, given a scheduler address, on that
cluster (e.g. ``dask-jobqueue`` on Slurm). Both evaluate :func:`sim.sweep.evaluate.evaluate_run`, which pins BLAS to one
thread in the worker.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sim.config import MAX_JOBS, ConfigError, EnvironmentFault
from sim.parallel import default_workers, start_pool, stop_pool
from sim.sweep.evaluate import SweepContext, evaluate_in_worker, evaluate_run, init_worker

EXECUTORS = ("local", "dask")

CONNECT_TIMEOUT_S = 10
"""How long a Dask client tries to reach its scheduler."""

NO_WORKERS_TIMEOUT_S = 30.0
"""How long a sweep waits for a Dask scheduler's first worker before saying it has none."""

PRELOAD = ("sim.sweep.evaluate", "sim.runner", "sim.model")
"""Modules every local worker starts with: imported by the parent before it forks, or by the fork server."""


class WorkerCrash(Exception):
    """A worker process died while runs were in flight (which run caused it is not known)."""


class LocalExecutor:
    """A process pool on this machine whose workers die with their parent."""

    crash_breaks_pool = True  # a dead worker fails every run in flight

    def __init__(self, ctx: SweepContext, workers: int | None = None):
        self.ctx, self.capacity = ctx, workers or default_workers()
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "LocalExecutor":
        self._start()
        return self

    def _start(self) -> None:
        """Start the workers (:func:`sim.parallel.start_pool`; the start method is chosen now, so a
        restart beside a progress bar's thread does not fork). Forking, the parent imports
        :data:`PRELOAD` and lets the evaluator warm its caches (``evaluate.warm(base)``: the model
        builds the base scenario's region and network) once for every worker."""
        warm = getattr(self.ctx.evaluate, "warm", None)
        self.pool = start_pool(self.capacity, PRELOAD, initializer=init_worker, initargs=(self.ctx,),
                               before_fork=(lambda: warm(self.ctx.base)) if warm is not None else None)

    def restart(self) -> None:
        """A fresh pool after a worker crash broke the old one."""
        self._stop(cancel=True)
        self._start()

    def submit(self, run: dict[str, Any]):
        return self.pool.submit(evaluate_in_worker, run)

    def wait_any(self, futures) -> set:
        return wait(futures, return_when=FIRST_COMPLETED).done

    def result(self, future) -> dict[str, Any]:
        """The future's result; a broken pool becomes :class:`WorkerCrash`."""
        try:
            return future.result()
        except BrokenProcessPool as err:
            raise WorkerCrash(str(err)) from err

    def _stop(self, cancel: bool) -> None:
        if self.pool is None:
            return
        stop_pool(self.pool, cancel)  # interrupted: do not wait for runs in flight
        self.pool = None

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stop(cancel=exc_type is not None)


class DaskExecutor:
    """dask.distributed: a LocalCluster of single-threaded worker processes, or the cluster at ``scheduler``."""

    crash_breaks_pool = False  # the scheduler reschedules; KilledWorker names the task

    def __init__(self, ctx: SweepContext, workers: int | None = None, scheduler: str | None = None):
        self.ctx, self.workers, self.scheduler = ctx, workers, scheduler
        self.client = self.cluster = self._ctx_future = None

    def __enter__(self) -> "DaskExecutor":
        from dask.distributed import LocalCluster

        if self.scheduler is None:
            self.cluster = LocalCluster(n_workers=self.workers or default_workers(), threads_per_worker=1,
                                        processes=True, dashboard_address=None)
        self._connect()
        return self

    def _connect(self) -> None:
        """A client of the cluster, once it has a worker (EnvironmentFault after :data:`NO_WORKERS_TIMEOUT_S`)."""
        from dask.distributed import Client

        self.client = Client(self.cluster if self.scheduler is None else self.scheduler, timeout=CONNECT_TIMEOUT_S)
        try:
            self.client.wait_for_workers(1, timeout=NO_WORKERS_TIMEOUT_S)
        except TimeoutError:
            self.client.close()
            raise EnvironmentFault(f"--scheduler {self.scheduler}: no worker joined within {NO_WORKERS_TIMEOUT_S:.0f} s; "
                                   f"start workers (dask worker {self.scheduler}) and run again") from None
        self._ctx_future = self.client.scatter(self.ctx, broadcast=True)

    @property
    def capacity(self) -> int:
        n = sum(w.get("nthreads", 1) for w in self.client.scheduler_info(n_workers=-1)["workers"].values())
        return max(1, n or self.workers or 1)

    def restart(self) -> None:
        """A new client (after a lost scheduler; Dask reschedules the tasks of a lost worker itself)."""
        try:
            self.client.close(timeout=5)
        except Exception:  # the old connection is gone already
            pass
        self._connect()

    def submit(self, run: dict[str, Any]):
        return self.client.submit(evaluate_run, self._ctx_future, run, pure=False)

    def wait_any(self, futures) -> set:
        from dask.distributed import wait as dask_wait

        return dask_wait(list(futures), return_when="FIRST_COMPLETED").done

    def result(self, future) -> dict[str, Any]:
        """The future's result; a task that killed its workers becomes :class:`WorkerCrash`."""
        from distributed.scheduler import KilledWorker

        try:
            return future.result()
        except KilledWorker as err:
            raise WorkerCrash(str(err)) from err

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(kind: str, ctx: SweepContext, workers: int | None = None, scheduler: str | None = None):
    """The executor called ``kind`` ("local" or "dask"); a scheduler address implies dask."""
    if kind not in EXECUTORS:
        raise ConfigError(f"--executor: must be one of {', '.join(EXECUTORS)}, got {kind!r}")
    if workers is not None and not 1 <= workers <= MAX_JOBS:
        raise ConfigError(f"--workers: must be a whole number from 1 to {MAX_JOBS:,}, got {workers}")
    if kind == "dask" or scheduler is not None:
        return DaskExecutor(ctx, workers, scheduler)
    return LocalExecutor(ctx, workers)
