"""The public Python API: what notebooks call and what every ``onerecord`` command wraps.

    >>> import sim
    >>> cfg = sim.load_config("configs/baseline.toml", ["run.seeds=4"])
    >>> res = sim.run(cfg, seeds=4)
    >>> res.summary[["seed", "share_gps_2030"]]
    >>> res.save("results")            # results/baseline/<run id>/ with figures/

Bad input raises :class:`ConfigError`, whose message is the one line the command line prints.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import Config, ConfigError
from sim.config import load_config as _load_config
from sim.config import override_pairs, with_overrides
from sim.draws import Spec, draw_configs, draw_table
from sim.plots import check_lang  # noqa: F401 (public: the CLI checks --lang through the API)
from sim.results import RunTables, check_out_dir, manifest, now, read_run, write_run
from sim.runner import run_replicates

__all__ = ["ConfigError", "Config", "RunResults", "load_config", "run", "load_results", "uptake_curve", "sweep",
           "sensitivity"]


def load_config(path: str | Path, overrides: list[str] | dict[str, Any] | None = None, **kw: Any) -> Config:
    """Load and validate a scenario TOML (``extends`` resolved).

    ``path`` may also be a run's ``manifest.json``: its resolved config is loaded (re-running it
    with :func:`manifest_replicates` reproduces the run). ``overrides`` are ``--set`` strings (``["gp.bass_q_per_year=0.5"]``) or a dict of dotted keys;
    keyword arguments use ``__`` for the dot (``load_config(p, gp__bass_q_per_year=0.5)``) and win
    over ``overrides``.
    """
    pairs = override_pairs(overrides)
    pairs.update({k.replace("__", "."): v for k, v in kw.items()})
    if Path(path).suffix == ".json":  # a run's manifest.json: its resolved config and the overrides it records
        from sim.config import apply_overrides, validate
        from sim.results import read_manifest

        man = read_manifest(Path(path).parent)
        data = man["config"]
        cfg = validate(apply_overrides(data, pairs, source=f"{path}: --set") if pairs else data, str(path))
        return cfg.with_override_record({**man.get("overrides", {}), **pairs})
    return _load_config(path, pairs or None)


def manifest_replicates(path: str | Path) -> list[int] | None:
    """The replicate list of a run's ``manifest.json`` (None for a scenario TOML)."""
    from sim.results import read_manifest

    return read_manifest(Path(path).parent)["replicates"] if Path(path).suffix == ".json" else None


def check_counts(**counts: int) -> None:
    """Each named count (``seeds=8, jobs=1``) must be a whole number from 1 to its cap
    (:data:`sim.config.MAX_SEEDS` seeds, :data:`sim.config.MAX_JOBS` jobs or workers), else ConfigError."""
    from sim.config import MAX_JOBS, MAX_SEEDS

    for name, n in counts.items():
        cap = MAX_SEEDS if name == "seeds" else MAX_JOBS
        if n is None or isinstance(n, bool) or int(n) != n or not 1 <= int(n) <= cap:
            raise ConfigError(f"--{name}: must be a whole number from 1 to {cap:,}, got {n}")


def _as_config(config: Config | str | Path) -> Config:
    return config if isinstance(config, Config) else load_config(config)


def _replicates(cfg: Config, seeds: int | list[int] | None) -> list[int]:
    if seeds is None:
        return list(range(cfg.run.seeds))
    if isinstance(seeds, int):
        check_counts(seeds=seeds)
        return list(range(seeds))
    return [int(s) for s in seeds]


class RunResults:
    """The tables of a run (all replicates) with the config and manifest that made them.

    ``.timeseries``, ``.summary``, ``.costs_municipality``, ``.costs_gp``,
    ``.who_pays_who_gains`` and ``.draws`` are DataFrames with exactly the columns of the files.
    """

    def __init__(self, config: Config, tables: RunTables, manifest: dict, path: Path | None = None):
        self.config, self.tables, self.manifest, self.path = config, tables, manifest, path

    timeseries = property(lambda self: self.tables.timeseries)
    summary = property(lambda self: self.tables.summary)
    costs_municipality = property(lambda self: self.tables.costs_municipality)
    costs_gp = property(lambda self: self.tables.costs_gp)
    who_pays_who_gains = property(lambda self: self.tables.who_pays_who_gains)
    draws = property(lambda self: self.tables.draws)

    @property
    def run_id(self) -> str:
        """Scenario name plus a hash of the resolved config and seeds."""
        return self.manifest["run_id"]

    def save(self, out: str | Path = "results", figures: bool = True, lang: str = "en") -> Path:
        """Write ``<out>/<scenario>/<run id>/`` atomically (tables, manifest and, by default, figures)."""
        from sim.plots import plot_tables

        check_lang(lang)
        check_out_dir(out)

        def draw(tmp: Path) -> None:
            if figures:
                plot_tables(read_run(tmp), tmp / "figures", lang, report_year=self.config.run.report_year)

        self.path = write_run(out, self.config, self.tables, self.manifest, then=draw)
        return self.path

    def plot(self, name: str, lang: str = "en"):
        """One figure (a matplotlib Figure) by name: adoption, coverage, gain_vs_uptake, cost_per_inhabitant,
        who_pays_who_gains."""
        from sim.plots import FIGURES

        check_lang(lang)
        if name not in FIGURES:
            raise ConfigError(f"unknown figure {name!r}; known: {', '.join(FIGURES)}")
        self.tables.summary.attrs["report_year"] = self.config.run.report_year
        return FIGURES[name](self.tables, lang)

    def __repr__(self) -> str:
        return f"RunResults({self.run_id}, seeds={self.manifest['replicates']})"


def run(config: Config | str | Path, seeds: int | list[int] | None = None, jobs: int = 1,
        on_done: Callable[[int], None] | None = None, draws: int | None = None,
        spec: Spec | None = None) -> RunResults:
    """Run replicate seeds (x parameter draws) of a scenario and return its tables (nothing is written).

    Replicate r uses ``SeedSequence(config.run.seed, spawn_key=(r,))`` in every draw; ``seeds`` is a
    count (replicates 0..N-1) or a list of replicate indices; ``jobs`` > 1 runs them in a process
    pool with identical results. ``draws`` (default ``run.draws``) adds K parameter draws to draw 0,
    the config as given: every uncertain input over its prior range, or ``spec`` (posteriors;
    :func:`sim.draws.draw_table`). Every table has a ``draw`` column; ``.draws`` holds the values.
    """
    cfg = _as_config(config)
    if draws is not None:
        if int(draws) < 0:
            raise ConfigError(f"--draws: must be >= 0, got {draws}")
        cfg = with_overrides(cfg, {"run.draws": int(draws)})
    reps = _replicates(cfg, seeds)
    check_counts(jobs=jobs)
    started = now()
    table = draw_table(cfg, cfg.run.draws, spec)
    tables = run_replicates(draw_configs(cfg, table), reps, jobs=jobs, on_done=on_done)
    tables.draws = table
    from sim.runner import cached_region_network

    man = manifest(cfg, reps, started, now(), draws=table, draw_spec="prior" if spec is None else "given",
                   region=cached_region_network(cfg)[0].summary())
    return RunResults(cfg, tables, man)


def load_results(run_dir: str | Path) -> RunResults:
    """A saved run directory as :class:`RunResults` (no re-run)."""
    from sim.config import validate
    from sim.results import read_manifest

    man = read_manifest(run_dir)
    cfg = validate(man["config"], f"{run_dir}/manifest.json").with_override_record(man.get("overrides", {}))
    return RunResults(cfg, read_run(run_dir), man, Path(run_dir))


def uptake_curve(config: Config | str | Path, steps: int = 21, orders: tuple[str, ...] | None = None,
                 seeds: int = 5) -> pd.DataFrame:
    """Every metric against GP share per recruitment order (hospitals and municipalities on); tidy table."""
    from sim import uptake

    if steps < 2:
        raise ConfigError(f"--steps: must be >= 2, got {steps}")
    check_counts(seeds=seeds)
    unknown = [o for o in orders or () if o not in uptake.ORDERS]
    if unknown:
        raise ConfigError(f"--orders: unknown order {unknown[0]!r}; known: {', '.join(uptake.ORDERS)}")
    kw = {"orders": tuple(orders)} if orders else {}
    return uptake.uptake_curve(_as_config(config), steps=steps, seeds=seeds, **kw)


def sweep(experiment: str | Path, out: str | Path = "results", **kw: Any):
    """Run (or resume) an experiment's sweep and return its results as a lazy pyarrow dataset."""
    _sweep = import_module("sim.sweep")
    exp = _sweep.load_experiment(experiment)
    path = _sweep.run_sweep(exp, out, **kw)
    return _sweep.open_dataset(path)


def sensitivity(experiment: str | Path, out: str | Path = "results", **kw: Any):
    """Global sensitivity (Morris or Sobol), tornado and PRIM scenario discovery for an experiment.

    Runs (or resumes) the experiment's sweep and returns a ``sim.sensitivity.SensitivityResult``
    (``.indices``, ``.seed_variance``, ``.tornado``, ``.ranking``, ``.prim_boxes``, ``.path``).
    """
    _sens = import_module("sim.sensitivity")
    return _sens.sensitivity(experiment, out, **kw)
