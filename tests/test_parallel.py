"""Process pools: never fork beside another thread; BLAS pinned to one thread and restored."""

from __future__ import annotations

import multiprocessing
import sys
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from sim.parallel import blas_single_thread, process_context, start_method


def test_no_fork_while_another_thread_runs():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert start_method() != "fork"
        assert process_context().get_start_method() == start_method()
    finally:
        stop.set()
        thread.join()
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        assert start_method() == "fork"
    assert start_method() in multiprocessing.get_all_start_methods()


def test_blas_single_thread_pins_every_pool_and_restores_it():
    np.ones((64, 64)) @ np.ones((64, 64))  # numpy's BLAS is loaded
    before = [(lib["filepath"], lib["num_threads"]) for lib in threadpool_info()]
    if not before:
        pytest.skip("no BLAS/OpenMP pool found by threadpoolctl")
    for _ in range(2):  # the second time from the cached controller
        with blas_single_thread():
            assert {lib["num_threads"] for lib in threadpool_info()} == {1}
        assert [(lib["filepath"], lib["num_threads"]) for lib in threadpool_info()] == before


# --------------------------------------------------------------------------- the executor interface

_STATE: dict[str, int] = {}


def _set_offset(offset: int) -> None:
    """An initializer: what every worker keeps before its first task."""
    _STATE["offset"] = offset


def _task(x: int) -> tuple[int, int]:
    """A task that needs the initializer's state: (x + offset, the pid that ran it)."""
    import os
    import time

    time.sleep(0.01 * (x % 3))  # finish out of order
    return x + _STATE["offset"], os.getpid()


@pytest.mark.parametrize("kind", ["serial", "local", "dask"])
def test_every_executor_maps_in_order_with_its_initializer(kind):
    """One interface (sim.parallel.Executor): map returns results in the order of the items, every
    worker ran the initializer, on_done sees each item once."""
    from sim.parallel import EXECUTORS, Executor, SerialExecutor, make_executor

    assert EXECUTORS == ("local", "dask")
    ex = (SerialExecutor(_set_offset, (100,)) if kind == "serial"
          else make_executor(kind, 2, initializer=_set_offset, initargs=(100,)))
    assert isinstance(ex, Executor)
    seen: list[int] = []
    with ex:
        out = ex.map(_task, range(12), on_done=seen.append)
        one = ex.result(ex.submit(_task, 5))
    assert [y for y, _ in out] == [x + 100 for x in range(12)] and one[0] == 105
    assert sorted(seen) == list(range(12))
    pids = {pid for _, pid in out}
    assert (pids == {__import__("os").getpid()}) if kind == "serial" else (len(pids) >= 1)


def test_bad_executor_names_and_counts_are_one_line_errors():
    from sim.config import ConfigError
    from sim.parallel import make_executor

    with pytest.raises(ConfigError, match="--executor: must be one of local, dask, got 'slurm'"):
        make_executor("slurm")
    with pytest.raises(ConfigError, match="--workers: must be >= 1, got 0"):
        make_executor("local", 0)
