"""Running a setting: validate, run the chosen seeds through ``sim.api.run`` in one open pool, keep the base.

One :class:`Engine` serves every browser tab of an ``onerecord explore`` process. Its pool is
started before the web server's threads (so its workers fork with the base region and care network
built); the base scenario's results are cached per (base file, seeds), so a lever change runs the
setting's seeds only, and the last few settings' results are kept, so going back to one is instant.
A run asks ``is_current()`` after each seed and stops (cancelling the seeds not yet started) once a
newer request has superseded it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim import api
from sim.builds import BuildCache
from sim.explore.levers import RECRUITMENT_ORDER, base_values, run_command, scenario_overrides


class Superseded(Exception):
    """A newer request replaced this run."""


@dataclass
class Outcome:
    """A finished run of a setting and its base under the same seeds."""

    config: str
    seeds: int
    overrides: dict[str, Any]
    order: str
    res: Any  # sim.api.RunResults of the setting
    base: Any  # sim.api.RunResults of the base scenario, same seeds
    uptake: pd.DataFrame
    seconds: float
    command: str = field(init=False)

    def __post_init__(self) -> None:
        self.command = run_command(self.config, self.seeds, self.overrides)


class Engine:
    """The pool, the caches and the run of a setting (thread-safe; one per explorer process)."""

    KEEP = 16
    """Settings whose results are kept (besides the bases)."""

    def __init__(self, jobs: int = 1, pool=None, uptake_seeds: int = 3, uptake_steps: int = 11):
        self.jobs, self.pool = jobs, pool
        self.builds = BuildCache()  # this process's regions and networks, kept from one setting to the next
        self.uptake_seeds, self.uptake_steps = uptake_seeds, uptake_steps
        self._base: dict[tuple[str, int], Any] = {}
        self._recent: dict[str, Any] = {}
        self._uptake: dict[str, pd.DataFrame] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close(cancel=True)
            self.pool = None

    @staticmethod
    def validate(config: str, values: dict[str, Any]):
        """The setting's Config (ConfigError with the one-line message if validation rejects it)."""
        return api.load_config(config, scenario_overrides(values, base_values(config)))

    def _run(self, cfg, seeds: int, progress: Callable[[int, int], None] | None):
        return api.run(cfg, seeds=seeds, jobs=self.jobs, progress=progress, figures=False, pool=self.pool,
                       builds=self.builds)

    def base(self, config: str, seeds: int):
        """The base scenario's results over replicates 0..seeds-1 (cached)."""
        key = (str(Path(config).resolve()), int(seeds))
        with self._lock:
            hit = self._base.get(key)
        if hit is None:
            hit = self._run(api.load_config(config), seeds, None)
            with self._lock:
                self._base[key] = hit
        return hit

    def uptake(self, cfg, order: str) -> pd.DataFrame:
        """The static gain-against-uptake curve of one recruitment order (cached by what it reads:
        region, network, economics and the root seed)."""
        data = cfg.model_dump(mode="json")
        key = json.dumps([data["region"], data["network"], data["economics"], data["run"]["seed"], order], sort_keys=True)
        with self._lock:
            hit = self._uptake.get(key)
        if hit is None:
            hit = api.uptake_curve(cfg, steps=self.uptake_steps, orders=(order,), seeds=self.uptake_seeds).uptake_curve
            with self._lock:
                self._uptake[key] = hit
        return hit

    def run(self, config: str, values: dict[str, Any], seeds: int,
            is_current: Callable[[], bool] = lambda: True,
            progress: Callable[[float], None] | None = None) -> Outcome:
        """Run a setting (levers' ``values``) and its base over ``seeds`` replicates.

        Raises ConfigError for a rejected setting (before anything runs) and :class:`Superseded`
        as soon as ``is_current()`` turns false.
        """
        started = time.perf_counter()
        cfg = self.validate(config, values)
        overrides = scenario_overrides(values, base_values(config))

        def counted(done: int, total: int) -> None:
            if not is_current():
                raise Superseded()
            if progress:
                progress(50.0 + 50.0 * done / total)  # the base's half is in

        base = self.base(config, seeds)
        key = json.dumps([str(Path(config).resolve()), overrides, int(seeds)], sort_keys=True)
        with self._lock:
            res = base if not overrides else self._recent.get(key)
        if res is None:
            res = self._run(cfg, seeds, counted)
            with self._lock:
                self._recent[key] = res
                while len(self._recent) > self.KEEP:
                    self._recent.pop(next(iter(self._recent)))
        if not is_current():
            raise Superseded()
        order = values.get(RECRUITMENT_ORDER, api.RECRUITMENT_ORDERS[0])
        uptake = self.uptake(cfg, order)
        return Outcome(config, int(seeds), overrides, order, res, base, uptake, time.perf_counter() - started)
