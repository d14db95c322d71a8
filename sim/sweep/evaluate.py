"""One run of a sweep, as a worker evaluates it: config from the design row, BLAS pinned, errors kept.

An evaluator is a picklable callable ``evaluate(cfg, replicate, params) -> outputs`` where
``outputs`` is a mapping of summary values, or a pair (mapping, region-level timeseries
DataFrame). ``cfg`` is the base scenario with the row's parameters applied (``run.seed`` =
the experiment seed); ``params`` holds every varied key, ``dummy.`` keys included, which the
config does not. It may have a method ``columns(base_cfg)`` naming the outputs it gives (checked
before a sweep starts) and a method ``warm(base_cfg)``, which a forking pool calls in the
parent before the workers start (caches they then share). The default, :class:`ModelEvaluator`,
runs the model through :func:`sim.runner.summarise_run`, whose seed is
``SeedSequence(cfg.run.seed, spawn_key=(replicate,))``.
"""

from __future__ import annotations

import os
import platform
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.config import Config, with_overrides
from sim.parallel import Executor, blas_single_thread, make_executor
from sim.sweep.experiment import DUMMY_PREFIX

Evaluator = Callable[[Config, int, dict[str, Any]], Any]

PRELOAD = ("sim.sweep.evaluate", "sim.runner", "sim.model")
"""Modules every local worker starts with: imported by the parent before it forks, or by the fork server."""

TIMING_COLUMNS = ("elapsed_s", "host", "pid")
"""Columns that differ between executors and are ignored when sweeps are compared."""

REGION_DROP = ("scenario", "seed", "level", "key", "n_adopted", "n_total", "share_adopted")
"""Timeseries columns a sweep's region-level rows leave out (identifiers it replaces; actor-level counts)."""


def _build_cache():
    """A new ``sim.builds.BuildCache`` (imported here: see :class:`ModelEvaluator`)."""
    from sim.builds import BuildCache  # the model: see ModelEvaluator

    return BuildCache()


@dataclass(frozen=True)
class ModelEvaluator:
    """The model: summary row of one replicate (and its region-level monthly rows when ``timeseries``).

    ``builds`` keeps the regions and networks of the process it runs in (a ``sim.builds.BuildCache``;
    it pickles empty: a worker builds its own, a forked one inherits the parent's warm builds).
    The model stack loads when a run is evaluated, not when the sweep package is imported, so
    views read saved sweeps (:func:`sim.sweep.open_dataset`) without the model.
    """

    timeseries: bool = False
    builds: Any = field(default_factory=_build_cache, compare=False, repr=False)

    def __call__(self, cfg: Config, replicate: int, params: dict[str, Any]):
        """``summarise_run(cfg, replicate)``; with timeseries, ``run_one`` and its region rows."""
        from sim.runner import run_one, summarise_run  # the model: see the class docstring

        if not self.timeseries:
            return summarise_run(cfg, replicate, self.builds)
        tables = run_one(cfg, replicate, self.builds)
        ts = tables.timeseries
        ts = ts[ts["level"] == "region"].drop(columns=list(REGION_DROP), errors="ignore")
        return tables.summary.iloc[0].to_dict(), ts.reset_index(drop=True)

    def columns(self, base: Config) -> list[str]:
        """The summary columns a run gives (what ``outputs`` may name)."""
        from sim.runner import summary_columns

        return summary_columns(base)

    def warm(self, base: Config) -> None:
        """Build the base scenario's region and network into its cache (before workers fork)."""
        self.builds.get(base)


@dataclass(frozen=True)
class SweepContext:
    """What every run of a sweep shares (sent to each worker once)."""

    base: Config
    outputs: tuple[str, ...]
    evaluate: Evaluator


def run_config(base: Config, params: Mapping[str, Any]) -> Config:
    """The base config with a design row's parameters applied (``dummy.`` keys left out)."""
    real = {k: v for k, v in params.items() if not k.startswith(DUMMY_PREFIX)}
    return with_overrides(base, real) if real else base


def evaluate_run(ctx: SweepContext, run: dict[str, Any]) -> dict[str, Any]:
    """Evaluate one run; never raises for the run's own errors.

    Returns ``{"row": {run_id, design_row, replicate, params..., outputs..., elapsed_s, host, pid},
    "timeseries": DataFrame | None}`` or, when the run raised, ``{"failure": {run_id, design_row,
    replicate, params..., error_type, message, traceback}}``. BLAS is pinned to one thread.
    """
    t0 = time.perf_counter()
    params = {k: v for k, v in run.items() if k not in ("run_id", "design_row", "replicate")}
    ident = {"run_id": run["run_id"], "design_row": int(run["design_row"]), "replicate": int(run["replicate"])}
    try:
        with blas_single_thread():
            cfg = run_config(ctx.base, params)
            result = ctx.evaluate(cfg, int(run["replicate"]), params)
        summary, ts = result if isinstance(result, tuple) else (result, None)
        missing = [k for k in ctx.outputs if k not in summary]
        if missing:
            raise KeyError(f"outputs {missing} not produced by the evaluator (it gives: {sorted(summary)})")
        outputs = {k: float("nan") if summary[k] is None else float(summary[k]) for k in ctx.outputs}
    except Exception as err:  # a run's own failure is recorded, the sweep goes on
        return {"failure": {**ident, **params, "error_type": type(err).__name__,
                            "message": str(err).splitlines()[0] if str(err) else "",
                            "traceback": traceback.format_exc()}}
    row = {**ident, "seed": ctx.base.run.seed, **params, **outputs,
           "elapsed_s": time.perf_counter() - t0, "host": platform.node(), "pid": os.getpid()}
    if ts is not None:
        ts = ts.copy()
        for i, (k, v) in enumerate(ident.items()):
            ts.insert(i, k, v)
    return {"row": row, "timeseries": ts}


# --------------------------------------------------------------------------- worker process set-up

_CONTEXT: SweepContext | None = None


def init_worker(ctx: SweepContext) -> None:
    """Pool initializer: keep the sweep's shared context."""
    global _CONTEXT
    _CONTEXT = ctx


def evaluate_in_worker(run: dict[str, Any]) -> dict[str, Any]:
    """:func:`evaluate_run` with the context the pool initializer stored."""
    assert _CONTEXT is not None, "init_worker was not called in this process"
    return evaluate_run(_CONTEXT, run)


def sweep_executor(ctx: SweepContext, kind: str = "local", workers: int | None = None,
                   scheduler: str | None = None) -> Executor:
    """The executor a sweep's runs go to (:func:`sim.parallel.make_executor`): every worker keeps
    ``ctx`` (:func:`init_worker`) and evaluates runs with :func:`evaluate_in_worker`. Forking, the
    parent imports :data:`PRELOAD` and lets the evaluator warm its caches (``evaluate.warm(base)``:
    the model builds the base scenario's region and network) once for every worker."""
    warm = getattr(ctx.evaluate, "warm", None)
    return make_executor(kind, workers, scheduler, preload=PRELOAD, initializer=init_worker, initargs=(ctx,),
                         before_fork=(lambda: warm(ctx.base)) if warm is not None else None)
