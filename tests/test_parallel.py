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
