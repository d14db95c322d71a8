"""Process pools on this machine: how workers start, how many, and BLAS pinned to one thread.

Every pool of the package (replicates of ``onerecord run --jobs``, sweep workers, calibration's
posterior predictive) starts its workers the same way, by :func:`start_pool` with the method of
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
import multiprocessing
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager
from importlib import import_module

from sim.interrupt import ignore_in_worker


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
        from threadpoolctl import ThreadpoolController

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
            import select

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


def stop_pool(pool: ProcessPoolExecutor, cancel: bool) -> None:
    """Shut ``pool`` down: after its runs (``cancel`` False), or at once (True: queued runs cancelled,
    workers terminated, not waited for beyond 5 s each), as after Ctrl-C or a failure."""
    procs = list((getattr(pool, "_processes", None) or {}).values()) if cancel else []
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=not cancel, cancel_futures=cancel)
    for p in procs:
        p.terminate()
    for p in procs:
        p.join(timeout=5)
    if manager is not None:  # done before exit, else its wake-up pipe can close under the exit hook (EBADF)
        manager.join(timeout=5)
