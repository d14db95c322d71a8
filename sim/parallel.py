"""The one executor interface (local pool or Dask), how local workers start, and BLAS pinned to one thread.

Everything that runs in parallel (replicates of ``onerecord run --jobs``, sweeps, the tornado,
calibration's ABC sampler and posterior predictive) goes through an :class:`Executor`:
``submit(fn, *args) -> future``, ``map(fn, items) -> results in order``, ``close()``, made by
:func:`make_executor` from one of the names in :data:`EXECUTORS` (the CLI and API import it):

* :class:`SerialExecutor`: in this process, one run at a time (a pool of one without a pool);
* :class:`LocalExecutor`: a process pool on this machine (:func:`start_pool`);
* :class:`DaskExecutor`: ``dask.distributed``, a ``LocalCluster`` or the cluster at a scheduler
  address (``dask-jobqueue`` on Slurm/PBS).

A pool's ``initializer(*initargs)`` runs once in every worker process before its first task
(for Dask: on first use in each worker process, also in workers that join later).

Every local pool starts its workers the same way, by :func:`start_pool` with the method of
:func:`start_method`:

* ``fork`` on Linux when this process runs no other Python thread: a worker starts in
  milliseconds with the parent's imports and caches (the model stack costs ~0.65 s to import
  in a fresh interpreter, and a built region and network are shared copy-on-write);
* else ``forkserver`` (POSIX), whose server imports ``preload`` once, or ``spawn`` (macOS,
  Windows). A process with other Python threads (a progress bar, a Jupyter kernel, a Dask
  client) never forks: a thread holding a lock at the fork would leave it locked in the child.
  Native thread pools (OpenBLAS, Arrow) re-initialise themselves in a forked child, so the
  warning Python 3.12+ gives for forking beside them is silenced.

:func:`start_pool` starts every worker at once (before a caller starts a progress bar's
thread) and makes each die with its parent. The start method changes start-up time only: a
run's seed is fixed by its config and replicate, so every method gives identical results.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import select
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from importlib import import_module
from typing import Any, Protocol, runtime_checkable

from threadpoolctl import ThreadpoolController

from sim.config import MAX_JOBS, ConfigError, EnvironmentFault
from sim import interrupt
from sim.interrupt import ignore_in_worker

EXECUTORS: tuple[str, ...] = ("local", "dask")
"""The executor names a user chooses from (``--executor``): a local process pool or Dask."""

CONNECT_TIMEOUT_S = 10
"""How long a Dask client tries to reach its scheduler."""

NO_WORKERS_TIMEOUT_S = 25.0
"""How long a Dask executor waits for its scheduler's first worker before saying it has none (issue 24's aim:
the user hears it within 30 s of starting the command, start-up included)."""


def default_workers() -> int:
    """Workers when none are given: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def start_method() -> str:
    """``fork`` on Linux with no other Python thread running (native BLAS/Arrow pools are not
    counted); else ``forkserver`` where available, else ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def process_context(preload: tuple[str, ...] = ()):
    """The multiprocessing context of :func:`start_method`; a fork server imports ``preload`` once."""
    ctx = multiprocessing.get_context(start_method())
    if ctx.get_start_method() == "forkserver" and preload:
        ctx.set_forkserver_preload(list(preload))
    return ctx


_CONTROLLER: list = [None, -1]  # [ThreadpoolController, len(sys.modules) when it was made]


def blas_single_thread() -> AbstractContextManager:
    """A context in which BLAS/OpenMP pools use one thread (workers share the cores between them).

    ``threadpoolctl``'s controller (a scan of the loaded libraries, ~0.6 ms, which a
    ``threadpool_limits`` call pays every time) is made once and made again only after new
    modules were imported (which may have loaded another BLAS, e.g. SciPy's own OpenBLAS).
    """
    if _CONTROLLER[1] != len(sys.modules):
        _CONTROLLER[0] = ThreadpoolController()
        _CONTROLLER[1] = len(sys.modules)
    return _CONTROLLER[0].limit(limits=1)


def die_with(pid: int) -> None:
    """Exit this worker as soon as process ``pid`` (its parent) ends, however it ends.

    A watcher thread waits on a pidfd (Linux), else polls every second. (A killed parent's forked
    workers live on as orphans, and forkserver workers are children of the fork server: the
    parent must be watched.)
    """

    def watch() -> None:
        try:
            fd = os.pidfd_open(pid)
            select.select([fd], [], [])  # readable when the process has exited
        except (AttributeError, OSError):
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
                time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _init_worker(parent_pid: int, initializer: Callable | None, initargs: tuple) -> None:
    ignore_in_worker()
    die_with(parent_pid)
    if initializer is not None:
        initializer(*initargs)


def start_pool(workers: int, preload: tuple[str, ...] = (), initializer: Callable | None = None,
               initargs: tuple = (), before_fork: Callable[[], None] | None = None) -> ProcessPoolExecutor:
    """A process pool of ``workers`` started now, by :func:`process_context`, each worker dying with this process.

    Forking, the parent first imports ``preload`` and calls ``before_fork`` (caches the workers
    then share; an error there only costs the workers the warm start), and freezes its objects
    out of the garbage collector, so that no worker's collection copies the pages they share.
    """
    mp = process_context(preload)
    forking = mp.get_start_method() == "fork"
    if forking:
        for module in preload:
            import_module(module)
        if before_fork is not None:
            try:
                before_fork()
            except Exception:  # the workers build what they need themselves
                pass
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp, initializer=_init_worker,
                               initargs=(os.getpid(), initializer, initargs))
    freeze = forking and gc.get_freeze_count() == 0  # a caller's own freeze is left alone
    if freeze:
        gc.freeze()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*multi-threaded.*fork", category=DeprecationWarning)
            pool.submit(os.getpid).result()  # forks every worker now (one, by a fork server)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        if freeze:
            gc.unfreeze()
    return pool


# --------------------------------------------------------------------------- bugs and machinery faults


class WorkerCrash(Exception):
    """A worker process died while tasks were in flight (which task caused it is not known)."""


class TaskFailed(Exception):
    """A task raised an exception of its own: a bug or a case the model cannot run (ValueError,
    ZeroDivisionError, KeyError ...), not a fault of the pool, so it is never retried.

    ``item``: what the task was given; ``error``: the exception; ``what``: the task in words (set by
    the caller that knows, e.g. "baseline: replicate 3"). ``str()`` is one line
    ``<what>: <ErrorType>: <first line of its message>``; the command line prints it and exits 1.
    """

    def __init__(self, item: Any, error: BaseException, what: str = ""):
        super().__init__(item, error, what)
        self.item, self.error, self.what = item, error, what

    def __str__(self) -> str:
        first = (str(self.error).splitlines() or [""])[0]
        return f"{self.what + ': ' if self.what else ''}{type(self.error).__name__}: {first}".rstrip(": ")


MACHINERY_TYPES: tuple[type[BaseException], ...] = (BrokenProcessPool, WorkerCrash, ConnectionError, EOFError,
                                                    CancelledError, TimeoutError)
"""Faults of the pool or scheduler: a broken pool or dead worker, a refused or reset connection (a dead fork
server, a lost scheduler), a cancelled future (Dask's FuturesCancelledError: a lost scheduler cancels every
future), a timeout. Dask's CommClosedError is an OSError without an errno, also counted (:func:`machinery_fault`)."""


def machinery_fault(err: BaseException) -> bool:
    """Whether ``err`` is a fault of the pool or scheduler (retried with back-off: :func:`restart_with_backoff`),
    not of a task (a bug: recorded as that task's failure, never retried) nor of the disk (an OSError with an
    errno, e.g. ENOSPC: raised as it is). ``err = f(x)``'s own exceptions never count, whatever their type: a
    caller asks this only of what the machinery raised."""
    if isinstance(err, MACHINERY_TYPES):
        return True
    return isinstance(err, OSError) and err.errno is None  # a closed comm (distributed's CommClosedError)


RESTART_TRIES = 4
"""Tries to bring an executor back (a new pool, a reconnected client) before giving up."""

RESTART_BACKOFF_S = 0.5
"""Wait before the first retry; doubled after each (0.5, 1, 2, 4 s)."""


class MachineryFailure(EnvironmentFault):
    """The executor itself failed and did not come back after :data:`RESTART_TRIES` tries (exit 3)."""


def _first_line(err: BaseException | None) -> str:
    return f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}" if err is not None else ""


def restart_with_backoff(executor: "Executor", cause: BaseException | None) -> None:
    """``executor.restart()``, retried :data:`RESTART_TRIES` times with back-off (:data:`RESTART_BACKOFF_S`,
    doubled each time); :class:`MachineryFailure` naming the last error after the last try. A Ctrl-C
    between tries stops it (:func:`sim.interrupt.check`)."""
    delay = RESTART_BACKOFF_S
    last = cause
    for _ in range(RESTART_TRIES):
        try:
            executor.restart()
            return
        except Exception as err:  # a worker dying while the pool starts, a dead fork server, no scheduler
            last = err
        interrupt.check()
        time.sleep(delay)
        delay *= 2
    raise MachineryFailure(f"the {type(executor).__name__} could not be restarted after {RESTART_TRIES} tries "
                           f"({_first_line(last)})")


def task_result(executor: "Executor", future: Any, item: Any) -> Any:
    """``executor.result(future)``; the task's own exception raised as :class:`TaskFailed` (``item``: what it
    was given), a machinery fault (:func:`machinery_fault`) as it is. Input errors, faults of the machine
    (memory, disk: an OSError with an errno) and a task's TaskFailed also pass as they are."""
    try:
        return executor.result(future)
    except (ConfigError, EnvironmentFault, MemoryError, TaskFailed):
        raise
    except Exception as err:
        if machinery_fault(err) or isinstance(err, OSError):
            raise
        raise TaskFailed(item, err) from err


# --------------------------------------------------------------------------- the executor interface


@runtime_checkable
class Executor(Protocol):
    """Where tasks run: the one interface of replicates, sweeps, the tornado and calibration.

    ``submit(fn, *args)`` returns a future (``done()``, ``result()``, ``cancel()``);
    ``map(fn, items, on_done)`` returns the results in the order of ``items`` (``on_done(i)`` as
    item i finishes); ``wait_any(futures)`` blocks until at least one has finished and returns
    those; ``result(future)`` is its value, a dead worker raised as :class:`WorkerCrash`;
    ``capacity`` is how many tasks run at once; ``crash_breaks_pool`` says whether a dead worker
    fails every task in flight (then ``restart()`` gives a fresh pool); ``close(cancel)`` stops the
    workers. An executor is a context manager: it starts on entering and closes on leaving
    (cancelling what is in flight when leaving on an exception).
    """

    capacity: int
    crash_breaks_pool: bool

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any: ...

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any],
            on_done: Callable[[int], None] | None = None) -> list[Any]: ...

    def wait_any(self, futures: Iterable[Any]) -> set: ...

    def result(self, future: Any) -> Any: ...

    def restart(self) -> None: ...

    def close(self, cancel: bool = False) -> None: ...

    def __enter__(self) -> "Executor": ...

    def __exit__(self, exc_type, exc, tb) -> None: ...


class _Executor:
    """What every executor derives from submit, wait_any, result, start and close."""

    capacity: int = 1
    crash_breaks_pool: bool = False

    def start(self) -> None:
        """Start the workers (entering the context does)."""

    def close(self, cancel: bool = False) -> None:
        """Stop the workers; ``cancel``: do not wait for tasks in flight."""

    def restart(self) -> None:
        """A fresh pool after a dead worker broke this one."""
        self.close(cancel=True)
        self.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any:
        raise NotImplementedError

    def wait_any(self, futures: Iterable[Any]) -> set:
        return wait(list(futures), return_when=FIRST_COMPLETED).done

    def result(self, future: Any) -> Any:
        return future.result()

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any],
            on_done: Callable[[int], None] | None = None) -> list[Any]:
        """``[fn(x) for x in items]`` on the workers, in the order of ``items``.

        A task's own exception is :class:`TaskFailed` (not retried; the tasks not yet finished are
        cancelled). A fault of the machinery (:func:`machinery_fault`: a dead worker breaking the pool,
        a lost scheduler) restarts the executor with back-off (:func:`restart_with_backoff`) and submits
        the unfinished tasks again, at most :data:`RESTART_TRIES` times in all (then
        :class:`MachineryFailure`); tasks are pure, so the results are those of an undisturbed map.
        """
        items = list(items)
        out: list[Any] = [None] * len(items)
        todo = list(range(len(items)))
        faults = 0
        while todo:
            futures: dict[Any, int] = {}
            calling_back = False  # an exception of on_done is the caller's: never retried
            try:
                for i in todo:
                    futures[self.submit(fn, items[i])] = i
                pending = set(futures)
                while pending:
                    for f in self.wait_any(pending):
                        pending.discard(f)
                        i = futures[f]
                        out[i] = task_result(self, f, items[i])
                        todo.remove(i)
                        if on_done is not None:
                            calling_back = True
                            on_done(i)
                            calling_back = False
            except BaseException as err:
                for f in futures:
                    f.cancel()
                if calling_back or not isinstance(err, Exception) or not machinery_fault(err):
                    raise
                faults += 1
                if faults > RESTART_TRIES:
                    raise MachineryFailure(f"the {type(self).__name__} failed {faults} times ({_first_line(err)}); "
                                           "nothing was kept") from None
                restart_with_backoff(self, err)
        return out

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(cancel=exc_type is not None)


class SerialExecutor(_Executor):
    """This process, one task at a time: ``submit`` runs the task at once and returns a done future.

    ``initializer(*initargs)`` runs in this process on entering, as a pool's would in its workers.
    """

    def __init__(self, initializer: Callable | None = None, initargs: tuple = ()):
        self.initializer, self.initargs = initializer, initargs

    def start(self) -> None:
        if self.initializer is not None:
            self.initializer(*self.initargs)

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args))
        except Exception as err:  # a task's error is raised by result(), as a pool's is
            fut.set_exception(err)
        return fut

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any],
            on_done: Callable[[int], None] | None = None) -> list[Any]:
        """``[fn(x) for x in items]`` here; a task's own exception is :class:`TaskFailed`, as on a pool."""
        out = []
        for i, x in enumerate(items):
            try:
                out.append(fn(x))
            except (ConfigError, EnvironmentFault, MemoryError, OSError, TaskFailed):
                raise
            except Exception as err:
                raise TaskFailed(x, err) from err
            if on_done is not None:
                on_done(i)
        return out


class LocalExecutor(_Executor):
    """A process pool on this machine (:func:`start_pool`), its workers dying with this process.

    ``preload`` and ``before_fork`` give forked workers a warm start (:func:`start_pool`).
    """

    crash_breaks_pool = True  # a dead worker fails every task in flight

    def __init__(self, workers: int | None = None, preload: tuple[str, ...] = (), initializer: Callable | None = None,
                 initargs: tuple = (), before_fork: Callable[[], None] | None = None):
        self.capacity = workers or default_workers()
        self.preload, self.initializer, self.initargs, self.before_fork = preload, initializer, initargs, before_fork
        self.pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start every worker now (the start method is chosen now, so a restart beside a progress
        bar's thread does not fork)."""
        self.pool = start_pool(self.capacity, self.preload, self.initializer, self.initargs, self.before_fork)

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future:
        return self.pool.submit(fn, *args)

    def result(self, future: Future) -> Any:
        """The future's result; a broken pool becomes :class:`WorkerCrash`."""
        try:
            return future.result()
        except BrokenProcessPool as err:
            raise WorkerCrash(str(err)) from err

    def close(self, cancel: bool = False) -> None:
        """Stop the pool: after its tasks, or at once (``cancel``: queued tasks cancelled, workers
        terminated, each waited for at most 5 s), as after Ctrl-C or a failure."""
        if self.pool is None:
            return
        procs = list((getattr(self.pool, "_processes", None) or {}).values()) if cancel else []
        manager = getattr(self.pool, "_executor_manager_thread", None)
        self.pool.shutdown(wait=not cancel, cancel_futures=cancel)
        for p in procs:  # interrupted: do not wait for tasks in flight
            p.terminate()
        for p in procs:
            p.join(timeout=5)
        if manager is not None:  # done before exit, else its wake-up pipe can close under the exit hook (EBADF)
            manager.join(timeout=5)
        self.pool = None


_INITIALIZED: set[str] = set()  # tokens of the Dask executors whose initializer ran in this worker process


def _dask_task(token: str, initializer: Callable | None, initargs: list, fn: Callable[..., Any], *args: Any) -> Any:
    """A Dask task: the executor's initializer once per worker process, then ``fn(*args)``."""
    if initializer is not None and token not in _INITIALIZED:
        initializer(*initargs)
        _INITIALIZED.add(token)
    return fn(*args)


class DaskExecutor(_Executor):
    """dask.distributed: a LocalCluster of single-threaded worker processes, or the cluster at ``scheduler``."""

    crash_breaks_pool = False  # the scheduler reschedules; KilledWorker names the task

    def __init__(self, workers: int | None = None, scheduler: str | None = None, initializer: Callable | None = None,
                 initargs: tuple = ()):
        self.workers, self.scheduler, self.initializer, self.initargs = workers, scheduler, initializer, initargs
        self.client = self.cluster = None
        self._token, self._initargs = uuid.uuid4().hex, []

    def _quiet(self) -> None:
        """Silence Dask's own log lines (a lost scheduler logs a traceback on every reconnect) until :meth:`close`:
        what the user needs is the one line the sweep ends with."""

        if not hasattr(self, "_log_levels"):
            names = [n for n in list(logging.root.manager.loggerDict) if n == "distributed" or n.startswith("distributed.")]
            self._log_levels = {n: logging.getLogger(n).level for n in names}
            for n in names:
                logging.getLogger(n).setLevel(logging.CRITICAL + 1)

    def start(self) -> None:
        from dask.distributed import LocalCluster

        self._quiet()
        if self.scheduler is None and self.cluster is None:
            self.cluster = LocalCluster(n_workers=self.workers or default_workers(), threads_per_worker=1,
                                        processes=True, dashboard_address=None)
        self._connect()

    def _connect(self) -> None:
        """A client of the cluster once it has a worker (EnvironmentFault after :data:`NO_WORKERS_TIMEOUT_S`)."""
        from dask.distributed import Client

        self.client = Client(self.cluster if self.scheduler is None else self.scheduler, timeout=CONNECT_TIMEOUT_S)
        try:
            self.client.wait_for_workers(1, timeout=NO_WORKERS_TIMEOUT_S)
        except TimeoutError:
            self.client.close()
            self.client = None
            raise EnvironmentFault(f"--scheduler {self.scheduler}: no worker joined within {NO_WORKERS_TIMEOUT_S:.0f} s; "
                                   f"start workers (dask worker {self.scheduler}) and run again") from None
        # sent to every worker once, not with every task
        self._initargs = self.client.scatter(list(self.initargs), broadcast=True) if self.initargs else []

    @property
    def capacity(self) -> int:  # type: ignore[override]
        if self.client is None:  # not started: what it will ask for
            return self.workers or default_workers()
        n = sum(w.get("nthreads", 1) for w in self.client.scheduler_info(n_workers=-1)["workers"].values())
        return max(1, n or self.workers or 1)

    def restart(self) -> None:
        """A new client (after a lost scheduler; Dask reschedules the tasks of a lost worker itself)."""
        if self.client is not None:
            try:
                self.client.close(timeout=5)
            except Exception:  # the old connection is gone already
                pass
        self._connect()

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any:
        return self.client.submit(_dask_task, self._token, self.initializer, self._initargs, fn, *args, pure=False)

    def wait_any(self, futures: Iterable[Any]) -> set:
        from dask.distributed import wait as dask_wait

        return dask_wait(list(futures), return_when="FIRST_COMPLETED").done

    def result(self, future: Any) -> Any:
        """The future's result; a task that killed its workers becomes :class:`WorkerCrash`."""
        from distributed.scheduler import KilledWorker

        try:
            return future.result()
        except KilledWorker as err:
            raise WorkerCrash(str(err)) from err

    def close(self, cancel: bool = False) -> None:
        try:
            if self.client is not None:
                self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        finally:
            self.client = self.cluster = None

            for n, level in getattr(self, "_log_levels", {}).items():
                logging.getLogger(n).setLevel(level)
            self.__dict__.pop("_log_levels", None)


def make_executor(kind: str = "local", workers: int | None = None, scheduler: str | None = None, *,
                  preload: tuple[str, ...] = (), initializer: Callable | None = None, initargs: tuple = (),
                  before_fork: Callable[[], None] | None = None) -> Executor:
    """The executor called ``kind`` (one of :data:`EXECUTORS`; a scheduler address implies Dask),
    not yet started (enter it: ``with make_executor(...) as ex``). Bad names or counts are ConfigError."""
    if kind not in EXECUTORS:
        raise ConfigError(f"--executor: must be one of {', '.join(EXECUTORS)}, got {kind!r}")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers: must be >= 1, got {workers}")
    if workers is not None and workers > MAX_JOBS:
        raise ConfigError(f"--workers: must be <= {MAX_JOBS:,}, got {workers}")
    if kind == "dask" or scheduler is not None:
        return DaskExecutor(workers, scheduler, initializer, initargs)
    return LocalExecutor(workers, preload, initializer, initargs, before_fork)


def pool_for(jobs: int, preload: tuple[str, ...] = ()) -> Executor:
    """An executor for ``jobs`` local workers: this process when jobs <= 1, else a local pool."""
    return SerialExecutor() if jobs <= 1 else make_executor("local", jobs, preload=preload)
