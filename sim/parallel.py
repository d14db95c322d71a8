"""Process pools on this machine: how workers start, how many, and BLAS pinned to one thread.

Every pool of the package (replicates of ``onerecord run --jobs``, sweep workers, calibration's
posterior predictive) starts its workers the same way, by :func:`process_context`:

* ``fork`` on Linux when this process runs no other Python thread: a worker starts in
  milliseconds with the parent's imports and caches (the model stack costs ~0.65 s to import
  in a fresh interpreter, and a built region and network are shared copy-on-write);
* else ``forkserver`` (POSIX), whose server imports ``preload`` once, or ``spawn`` (macOS,
  Windows). A process with other threads (a progress bar, a Jupyter kernel, a Dask client)
  never forks: a thread holding a lock at the fork would leave it locked in the child.

The start method changes start-up time only: a run's seed is fixed by its config and
replicate, so every method gives identical results.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from contextlib import AbstractContextManager


def default_workers() -> int:
    """Workers when none are given: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def start_method() -> str:
    """``fork`` on Linux with no other Python thread running; else ``forkserver`` where available, else ``spawn``."""
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
