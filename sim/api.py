"""The public Python API: one function per ``onerecord`` command, each returning a result object.

    >>> from sim import api
    >>> res = api.run("configs/baseline.toml", seeds=4, overrides=["region.kind=synthetic"])
    >>> res.summary[["seed", "share_gps_2030"]]
    >>> res.save("results")            # results/baseline/<run id>/ with figures/
    >>> api.run("configs/baseline.toml", seeds=4, out="results")   # the same, as `onerecord run` does it

The pattern every command follows (and every command added later, e.g. ``bill`` or ``explore``):

1. **One function per command**, named after it (``onerecord uptake-curve`` -> :func:`uptake_curve`).
   It takes the command's inputs as Python values (a path or a loaded :class:`Config`, ``overrides``
   as ``--set`` strings), checks *all* of them before any work (bad input raises :class:`ConfigError`,
   whose message is the one line the command line prints), computes, and, when ``out`` is given,
   saves before returning. ``progress`` is a callable ``(done, total)`` (or a bool for the sweeps'
   own bar); ``lang`` (nb | en) is the language of the figures.
2. **A result object** (a dataclass) with the command's tables as attributes, under the names of
   their files (``.summary``, ``.uptake_curve``, ``.indices``), and ``.save(out) -> Path`` that
   writes the command's files *atomically* (a folder appears complete or not at all) under a run id
   (:func:`sim.results.run_id`: scenario, region kind and overrides readably, a hash of the rest) with its
   figures drawn through the one registry :data:`sim.plots.FIGURES` (:func:`sim.plots.write_figures`
   for the result's subject). ``.path`` is where it was saved.
3. **The command line** (:mod:`sim.cli`) parses the arguments, calls exactly one function of this
   module and prints from the result; it writes no file itself (tests/test_cli.py checks this over
   the source).

Bad input raises :class:`ConfigError`; Ctrl-C leaves nothing half-written.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from sim import calibrate as _calibration
from sim import gp_uptake as _gp_uptake
from sim import sheets
from sim import uptake as _uptake
from sim.builds import BuildCache
from sim.calibrate import CalibrationResult
from sim.calibrate.driver import coverage_counts
from sim import interrupt  # noqa: F401 (public: the CLI runs every command inside interrupt.handling())
from sim.config import (MAX_JOBS, MAX_SEEDS, MONTH_RE, Config, ConfigError, EnvironmentFault, apply_overrides,
                        config_to_dict, get_dotted, override_pairs, parse_override, validate, with_overrides)
from sim.config import load_config as _load_config
from sim.draws import Spec, draw_configs, draw_table, spec_sources
from sim.history import DECIDED, HISTORY_END, observed_series, option_decision_points
from sim.economics import expected_bill_nok, expected_net_cost_nok_per_inhabitant_year, scaled_to_region
from sim.economics.bill import ONEOFF_KEYS
from sim.paper import PaperExperiment, heatmap_experiment, load_paper, quick_version, scenario_config, \
    sensitivity_experiment
from sim.parallel import EXECUTORS, Executor, TaskFailed, default_workers
from sim.params import parameter_table, render
from sim.plots import LANGS, check_lang, figure, names, write_figures
from sim.region import load_region
from sim.report import build_report
from sim.report.tables import INPUTS_FILE, OVERRIDE_SOURCE, gp_share_gps_gaining, municipal_payback_year, read_json
from sim.results import (RunTables, atomic_dir, check_out_dir, compare_id, compare_table, manifest, now, read_manifest,
                         read_run, read_table, run_id, write_run, write_text_atomic)
from sim.runner import replicate_pool, run_replicates
from sim.sensitivity import SensitivityResult, top_parameters
from sim.sensitivity import sensitivity as _sensitivity
from sim.sensitivity import write_tables as _write_sensitivity_tables
from sim.sensitivity.profile import run_profile
from sim.sweep import Experiment, base_config, load_experiment, merge_shards, open_dataset, run_sweep, sweep_path, \
    sweep_status
from sim.sweep import read_manifest as read_sweep_manifest
from sim.sweep.experiment import design_hash, expand_runs
from sim.validation import bass_check, bass_validation, check_bass_case

__all__ = ["ConfigError", "EnvironmentFault", "TaskFailed", "Config", "EXECUTORS", "LANGS", "RunResults", "PlotResult", "CompareResult", "UptakeResult",
           "ParamsResult", "SweepResult", "SensitivityResults", "CalibrationResults", "BassResult", "ReportResult",
           "ProfileResult", "load_config", "load_results", "run", "plot", "compare", "uptake_curve", "params",
           "sweep", "sensitivity", "calibrate", "apply_calibration", "validate_bass", "report", "municipal_sensitivity", "bill", "BillResult",
           "financing_scenarios", "find_municipality", "explore", "local_pool", "RECRUITMENT_ORDERS",
           "GPDriversResult", "gp_drivers", "gp_uptake_split", "gp_residual_uptake", "gp_break_even",
           "gp_uptake_over_levers"]

Progress = Callable[[int, int], None]
"""``progress(done, total)``, called as items finish."""

RECRUITMENT_ORDERS: tuple[str, ...] = _uptake.ORDERS
"""The recruitment orders of :func:`uptake_curve`."""


# --------------------------------------------------------------------------- inputs


def load_config(path: str | Path, overrides: list[str] | dict[str, Any] | None = None, **kw: Any) -> Config:
    """Load and validate a scenario TOML (``extends`` resolved).

    ``path`` may also be a run's ``manifest.json``: its resolved config is loaded (re-running it
    with :func:`run` reproduces the run). ``overrides`` are ``--set`` strings (``["gp.bass_q_per_year=0.5"]``)
    or a dict of dotted keys; keyword arguments use ``__`` for the dot (``load_config(p, gp__bass_q_per_year=0.5)``)
    and win over ``overrides``.
    """
    pairs = override_pairs(overrides)
    pairs.update({k.replace("__", "."): v for k, v in kw.items()})
    if Path(path).suffix == ".json":  # a run's manifest.json: its resolved config and the overrides it records
        man = read_manifest(Path(path).parent)
        data = man["config"]
        cfg = validate(apply_overrides(data, pairs, source=f"{path}: --set") if pairs else data, str(path))
        return cfg.with_override_record({**man.get("overrides", {}), **pairs}).with_held([*man.get("held", []), *pairs])
    return _load_config(path, pairs or None)


def _config(config: Config | str | Path, overrides: list[str] | dict[str, Any] | None = None) -> Config:
    """A loaded config (``overrides`` applied, if any), or the file loaded with them."""
    if not isinstance(config, Config):
        return load_config(config, overrides)
    if not overrides:
        return config
    return validate(apply_overrides(config_to_dict(config), overrides, source=f"{config.scenario}: --set"),
                    config.scenario).with_override_record({**config.overrides, **override_pairs(overrides)}).with_held(
        [*config.held, *override_pairs(overrides)])


def _check_counts(**counts: int | None) -> None:
    """Each named count (``seeds=8, jobs=1``) must be a whole number from 1 to its cap
    (:data:`sim.config.MAX_SEEDS` seeds, :data:`sim.config.MAX_JOBS` jobs or workers), else ConfigError."""
    for name, n in counts.items():
        cap = MAX_SEEDS if name == "seeds" else MAX_JOBS
        if n is None or isinstance(n, bool) or int(n) != n:
            raise ConfigError(f"--{name}: must be a whole number, got {n}")
        if n < 1:
            raise ConfigError(f"--{name}: must be >= 1, got {n}")
        if n > cap:
            raise ConfigError(f"--{name}: must be <= {cap:,}, got {n}")


def _check_out(out: str | Path | None, lang: str = "en") -> None:
    check_lang(lang)
    if out is not None:
        check_out_dir(out)


def _counter(progress: Progress | None, total: int) -> Callable[..., None] | None:
    """A callback for each finished item that reports ``(done, total)`` to ``progress``."""
    if progress is None:
        return None
    done = [0]
    progress(0, total)

    def advance(*_: Any) -> None:
        done[0] += 1
        progress(done[0], total)

    return advance


class Figures:
    """``.plot(name, lang)``: one registered figure of the result's subject (:data:`sim.plots.FIGURES`)."""

    subject = ""

    def figure_options(self) -> dict:
        """Arguments the subject's figures take besides the tables (e.g. ``report_year``)."""
        return {}

    def plot(self, name: str, lang: str = "en"):
        """One figure (a matplotlib Figure) by name; the names are :func:`sim.plots.names` of the subject."""
        if name not in names(self.subject):
            raise ConfigError(f"unknown figure {name!r}; known: {', '.join(names(self.subject))}")
        return figure(name, self, lang, **self.figure_options())


# --------------------------------------------------------------------------- run, plot, compare


@dataclass
class RunResults(Figures):
    """The tables of a run (all replicates) with the config and manifest that made them.

    ``.timeseries``, ``.summary``, ``.costs_municipality``, ``.costs_gp``,
    ``.who_pays_who_gains`` and ``.draws`` are DataFrames with exactly the columns of the files.
    """

    config: Config
    tables: RunTables
    manifest: dict
    path: Path | None = None
    network: Any = field(default=None, repr=False, compare=False)  # the draw-0 care network (written as network.graphml)

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

    subject = "run"

    @property
    def report_year(self) -> int:
        return self.config.run.report_year

    def figure_options(self) -> dict:
        return {"report_year": self.report_year}

    def save(self, out: str | Path = "results", figures: bool = True, lang: str = "en") -> Path:
        """Write ``<out>/<scenario>/<run id>/`` atomically (tables, manifest, the provider graph ``network.graphml``
        with each hand-over channel's events per year on its edges and, by default, figures)."""
        _check_out(out, lang)

        def draw(tmp: Path) -> None:
            net = self.network if self.network is not None else BuildCache().get(self.config)[1]
            net.write_graphml(tmp / "network.graphml")  # the draw-0 network, each channel's volume per edge
            if figures:
                write_figures("run", read_run(tmp), tmp / "figures", lang, **self.figure_options())

        self.path = write_run(out, self.config, self.tables, self.manifest, then=draw)
        return self.path

    def __repr__(self) -> str:
        return f"RunResults({self.run_id}, seeds={self.manifest['replicates']})"


def run(config: Config | str | Path, seeds: int | list[int] | None = None, jobs: int = 1,
        overrides: list[str] | dict[str, Any] | None = None, out: str | Path | None = None, lang: str = "en",
        figures: bool = True, progress: Progress | None = None, draws: int | None = None,
        spec: Spec | None = None, pool: Executor | None = None, builds: BuildCache | None = None) -> RunResults:
    """Run replicate seeds (x parameter draws) of a scenario (``onerecord run``); saved under ``out`` when given.

    ``config`` is a scenario TOML, a run's ``manifest.json`` (its seeds are re-run unless ``seeds``
    is given) or a loaded :class:`Config`. Replicate r uses ``SeedSequence(config.run.seed,
    spawn_key=(r,))`` in every draw; ``seeds`` is a count (replicates 0..N-1, default ``run.seeds``)
    or a list of replicate indices; ``jobs`` > 1 runs them in a process pool with identical results.
    ``draws`` (default ``run.draws``) adds K parameter draws to draw 0, the config as given: every
    uncertain input over its prior range, or ``spec`` (posteriors; :func:`sim.draws.draw_table`).
    Every table has a ``draw`` column; ``.draws`` holds the values. ``progress(done, total)`` counts
    seeds x draws. ``pool``: an open executor (:func:`local_pool`) to run in, left open for the next
    call; an exception raised by ``progress`` cancels the runs not yet started and propagates.
    ``builds``: a :class:`sim.builds.BuildCache` that keeps regions and networks between calls run in
    this process (an app or notebook re-running one region; default: built for this call).
    """
    check_lang(lang)
    cfg = _config(config, overrides)
    if draws is not None:
        if int(draws) < 0:
            raise ConfigError(f"--draws: must be >= 0, got {draws}")
        cfg = with_overrides(cfg, {"run.draws": int(draws)})
    if out is not None:
        check_out_dir(out)
    if seeds is None and not isinstance(config, Config) and Path(config).suffix == ".json":
        seeds = read_manifest(Path(config).parent)["replicates"]
    if seeds is None:
        seeds = cfg.run.seeds
    if isinstance(seeds, int):
        _check_counts(seeds=seeds)
        seeds = list(range(seeds))
    reps = [int(s) for s in seeds]
    _check_counts(jobs=jobs)
    started = now()
    table = draw_table(cfg, cfg.run.draws, spec)
    builds = builds if builds is not None else BuildCache()
    try:
        tables = run_replicates(draw_configs(cfg, table), reps, jobs=jobs,
                                on_done=_counter(progress, len(reps) * len(table)), pool=pool, builds=builds)
    except TaskFailed as err:  # the model raised in one run: name it (its job is (config, replicate, draw))
        _, replicate, draw = err.item
        err.what = f"{cfg.scenario}: replicate {replicate}" + (f", parameter draw {draw}" if draw else "")
        raise
    tables.draws = table
    man = manifest(cfg, reps, started, now(), draws=table, draw_spec="prior" if spec is None else "given",
                   region=builds.get(cfg)[0].summary())
    res = RunResults(cfg, tables, man, network=builds.get(cfg)[1])
    if out is not None:
        res.save(out, figures=figures, lang=lang)
    return res


def local_pool(jobs: int, warm: Config | str | Path | None = None) -> Executor:
    """An open local pool of ``jobs`` workers to pass to :func:`run` call after call (``.close()`` it).
    Started before any other thread of the process, its workers fork with the region and care network
    of ``warm`` already built."""
    _check_counts(jobs=jobs)
    cfg = None if warm is None else _config(warm)
    pool = replicate_pool(jobs, warm=cfg)
    pool.start()
    return pool


def explore(config: str | Path = "configs/baseline.toml", port: int = 8765, seeds: int = 8, jobs: int | None = None,
            kommune: str = "Trondheim", lang: str = "en", ready: Callable[[], None] | None = None) -> None:
    """Serve the explorer (``onerecord explore``; ``pip install -e ".[explore]"``) at http://127.0.0.1:port
    until interrupted; ``ready()`` is called once the inputs are checked and the first result is in."""
    check_lang(lang)
    _check_counts(seeds=seeds)
    serve = importlib.import_module("sim.explore.server").serve
    serve(config, port=port, seeds=seeds, jobs=jobs or default_workers(), kommune=kommune, lang=lang, ready=ready)


def load_results(run_dir: str | Path) -> RunResults:
    """A saved run directory as :class:`RunResults` (no re-run)."""
    man = read_manifest(run_dir)
    cfg = validate(man["config"], f"{run_dir}/manifest.json").with_override_record(man.get("overrides", {})).with_held(
        man.get("held", []))
    return RunResults(cfg, read_run(run_dir), man, Path(run_dir))


@dataclass
class PlotResult:
    """The figures redrawn from a saved results folder: which subject, the files written."""

    subject: str
    tables: Any
    lang: str
    path: Path
    files: list[Path] = field(default_factory=list)
    options: dict = field(default_factory=dict)

    def save(self, out: str | Path) -> Path:
        """Write the figures again, to ``<out>/figures/`` (files replaced one by one)."""
        self.files = write_figures(self.subject, self.tables, Path(out) / "figures", self.lang, **self.options)
        return Path(out) / "figures"


def _saved(results_dir: Path) -> tuple[str, Any, dict]:
    """(subject, tables, figure options) of a saved results folder, told by its files."""
    d = Path(results_dir)
    if (d / "manifest.json").is_file() and (d / "summary.csv").is_file():
        return "run", read_run(d), {"report_year": read_manifest(d)["config"]["run"]["report_year"]}
    if (d / "uptake_curve.csv").is_file():
        return "uptake", UptakeResult.load(d), {}
    if (d / "bass_curves.csv").is_file():
        return "validation", BassResult.load(d), {}
    if (d / "indices.csv").is_file():
        return "sensitivity", SensitivityResults.load(d), {}
    if (d / "bands.csv").is_file():
        return "calibration", CalibrationResults.load(d), {}
    if (d / "profile.csv").is_file():
        return "profile", ProfileResult.load(d), {}
    raise ConfigError(f"{d}: not a saved result (no manifest.json, uptake_curve.csv, bass_curves.csv, indices.csv, "
                      "bands.csv or profile.csv)")


def plot(results_dir: str | Path, lang: str = "en") -> PlotResult:
    """Redraw every figure of a saved results folder from its tables (``onerecord plot``; no re-run).

    A run directory, an uptake curve, a Bass validation, a sensitivity, calibration or profile folder:
    the figures go to ``<results_dir>/figures/``.
    """
    check_lang(lang)
    subject, tables, options = _saved(Path(results_dir))
    res = PlotResult(subject, tables, lang, Path(results_dir), options=options)
    res.save(results_dir)
    return res


@dataclass
class CompareResult(Figures):
    """Saved runs side by side: the key report-year figures (``table``, compare.csv) and the runs."""

    table: pd.DataFrame
    runs: dict[str, RunTables]
    report_year: int
    lang: str = "en"
    path: Path | None = None
    name: str = "compare"
    """Its folder under ``<out>/compare/``: the runs' readable ids and a hash of them (:func:`sim.results.compare_id`)."""
    subject = "compare"

    def figure_options(self) -> dict:
        return {"report_year": self.report_year}

    @property
    def text(self) -> str:
        """The table as the command line prints it (120 characters wide, three decimals)."""
        with pd.option_context("display.width", 120, "display.max_columns", 10):
            return self.table.to_string(index=False, float_format=lambda v: f"{v:,.3f}")

    @property
    def costs_municipality(self) -> pd.DataFrame:
        """Every run's municipal costs, the scenario column holding the run's name."""
        return pd.concat([t.costs_municipality.assign(scenario=k) for k, t in self.runs.items()], ignore_index=True)

    def save(self, out: str | Path = "results") -> Path:
        """Write ``<out>/compare/<name>/`` atomically: compare.csv and the figures (the same runs compared
        again replace their own folder, other runs get another)."""
        check_out_dir(out)
        target = Path(out) / "compare" / self.name
        with atomic_dir(target) as tmp:
            self.table.to_csv(tmp / "compare.csv", index=False)
            write_figures("compare", self, tmp, self.lang, **self.figure_options())
        self.path = target
        return self.path


def compare(run_dirs: list[str | Path], out: str | Path | None = None, lang: str = "en") -> CompareResult:
    """Compare saved runs (``onerecord compare``): key report-year figures per scenario, median and 5-95%
    over seeds; figures of the scenarios side by side when saved (``<out>/compare/<id>/``, the id naming the
    runs readably with a hash of their run ids: :func:`sim.results.compare_id`)."""
    _check_out(out, lang)
    if len(run_dirs) < 2:
        raise ConfigError(f"compare: give two or more run directories, got {len(run_dirs)}")
    runs: dict[str, RunTables] = {}
    year = None
    mans = [read_manifest(d) for d in run_dirs]
    for d, man in zip(run_dirs, mans):
        name = man["scenario"] if man["scenario"] not in runs else f"{man['scenario']} ({Path(d).name})"
        runs[name] = read_run(d)
        year = year or man["config"]["run"]["report_year"]
    res = CompareResult(compare_table({k: v.summary for k, v in runs.items()}, year), runs, year, lang,
                        name=compare_id(mans))
    if out is not None:
        res.save(out)
    return res


# --------------------------------------------------------------------------- uptake curve, parameters, Bass


@dataclass
class UptakeResult(Figures):
    """The uptake curve (``uptake_curve``: every metric against GP share per recruitment order) and how it was made."""

    uptake_curve: pd.DataFrame
    settings: dict
    lang: str = "en"
    path: Path | None = None
    name: str = "uptake_curve"
    """Its folder: a run id (:func:`uptake_id`) when made by :func:`uptake_curve`."""
    subject = "uptake"

    def save(self, out: str | Path = "results", figures: bool = True) -> Path:
        """Write ``<out>/<scenario>/<name>/`` atomically: uptake_curve.csv, settings.json and figures."""
        check_out_dir(out)
        target = Path(out) / self.settings["config"]["scenario"] / self.name
        with atomic_dir(target) as tmp:
            self.uptake_curve.to_csv(tmp / "uptake_curve.csv", index=False)
            (tmp / "settings.json").write_text(json.dumps(self.settings, indent=2), encoding="utf-8")
            if figures:
                write_figures("uptake", self, tmp / "figures", self.lang)
        self.path = target
        return target

    @classmethod
    def load(cls, d: Path) -> "UptakeResult":
        return cls(pd.read_csv(d / "uptake_curve.csv"), read_json(d / "settings.json") or {}, path=d)


def _uptake_settings(cfg: Config, steps: int, seeds: int, orders, draws: int = 0, month: str | None = None) -> dict:
    """What an uptake curve was made from (its settings.json; a saved curve with equal settings is reused)."""
    return {"config": config_to_dict(cfg), "steps": steps, "seeds": seeds, "orders": list(orders), "draws": draws,
            "month": month or _uptake.report_month(cfg)}


def uptake_id(cfg: Config, steps: int, seeds: int, orders: tuple[str, ...] | list[str], draws: int = 0,
              month: str | None = None) -> str:
    """The uptake curve's run id: what it holds readably (scenario, region kind, overrides), ``uptake-curve``
    and a hash of the config and settings (:func:`sim.results.run_id`): a curve never replaces another's."""
    return run_id(cfg, [], command="uptake-curve", steps=steps, seeds=seeds, orders=list(orders), draws_count=draws,
                  month=month or _uptake.report_month(cfg))


def uptake_curve(config: Config | str | Path, steps: int = 21, orders: tuple[str, ...] | list[str] | None = None,
                 seeds: int = 5, overrides: list[str] | dict[str, Any] | None = None, out: str | Path | None = None,
                 lang: str = "en", figures: bool = True, draws: int = 0, month: str | None = None,
                 spec: Spec | None = None) -> UptakeResult:
    """Every metric against GP share per recruitment order, hospitals and municipalities on, per seed and
    parameter draw (``draws``: :func:`sim.draws.draw_table`, priors or ``spec``), at ``month`` (default December
    of the report year) (``onerecord uptake-curve``; :func:`sim.uptake.uptake_curve`)."""
    check_lang(lang)
    cfg = _config(config, overrides)
    if out is not None:
        check_out_dir(out)
    if steps < 2:
        raise ConfigError(f"--steps: must be >= 2, got {steps}")
    _check_counts(seeds=seeds)
    orders = tuple(orders) if orders else _uptake.ORDERS
    unknown = [o for o in orders if o not in _uptake.ORDERS]
    if unknown:
        raise ConfigError(f"--orders: unknown order {unknown[0]!r}; known: {', '.join(_uptake.ORDERS)}")
    if draws < 0:
        raise ConfigError(f"--draws: must be >= 0, got {draws}")
    if month is not None and not (MONTH_RE.match(month) and 0 <= cfg.t_of(month) < cfg.n_months):
        raise ConfigError(f"--month: must be YYYY-MM within {cfg.run.start_month} to {cfg.run.end_month}, got {month!r}")
    df = _uptake.uptake_curve(cfg, steps=steps, seeds=seeds, orders=orders, draws=draws, month=month, spec=spec)
    settings = _uptake_settings(cfg, steps, seeds, orders, draws, month)
    res = UptakeResult(df, settings, lang, name=uptake_id(cfg, steps, seeds, orders, draws, month))
    if out is not None:
        res.save(out, figures=figures)
    return res


@dataclass
class ParamsResult:
    """Every scenario key (``parameters``: key, type, unit, value, allowed, sweep_range, description, source)."""

    parameters: pd.DataFrame
    fmt: str = "md"
    path: Path | None = None

    @property
    def text(self) -> str:
        """The table as Markdown or CSV (``fmt``)."""
        return render(self.parameters, self.fmt)

    def save(self, out: str | Path = "results") -> Path:
        """Write ``<out>/parameters.<md|csv>`` (atomically: a temporary file renamed)."""
        check_out_dir(out)
        self.path = Path(out) / f"parameters.{self.fmt}"
        write_text_atomic(self.text, self.path)
        return self.path


def params(config: str | Path | None = None, fmt: str = "md", out: str | Path | None = None) -> ParamsResult:
    """The parameter reference of a scenario (default: configs/baseline.toml) (``onerecord params``)."""
    if fmt not in ("md", "csv"):
        raise ConfigError(f"--format: must be md or csv, got {fmt!r}")
    if out is not None:
        check_out_dir(out)
    res = ParamsResult(parameter_table(config), fmt)
    if out is not None:
        res.save(out)
    return res


@dataclass
class BassResult(Figures):
    """The Bass special case (``bass_curves``: simulated mean share, closed form, recursion and bias bound per month)."""

    bass_curves: pd.DataFrame
    scenario: str
    lang: str = "en"
    path: Path | None = None
    name: str | None = None
    """Its folder under ``<out>/<scenario>/``: a run id when made by :func:`validate_bass`."""
    subject = "validation"

    @property
    def max_gap(self) -> float:
        """max over months of |simulated mean - F(t)|."""
        return float((self.bass_curves["share_mean"] - self.bass_curves["bass_cdf"]).abs().max())

    @property
    def check(self) -> dict:
        """The verdict against the computed tolerance (:func:`sim.validation.bass_check`): PASS or FAIL."""
        return bass_check(self.bass_curves)

    def verdict_line(self) -> str:
        """One line: ``PASS``/``FAIL``, the largest gap and the tolerance in that month."""
        c = self.check
        return (f"{c['verdict']}: max |simulated - F(t)| = {c['max_gap']:.4f} against a tolerance of "
                f"{c['tolerance_at_max']:.4f} in that month (discretisation + finite population + {c['z']:g} standard "
                f"errors over {c['n_seeds']} seeds); {c['months_outside']} of {len(self.bass_curves)} months outside")

    def save(self, out: str | Path = "results") -> Path:
        """Write ``<out>/<scenario>/<name>/`` atomically: bass_curves.csv and the figure (without a name,
        ``<out>/<scenario>/validate-bass``)."""
        check_out_dir(out)
        target = Path(out) / self.scenario / (self.name or "validate-bass")
        with atomic_dir(target) as tmp:
            self.bass_curves.to_csv(tmp / "bass_curves.csv", index=False)
            (tmp / "bass_check.json").write_text(json.dumps(self.check, indent=2), encoding="utf-8")
            write_figures("validation", self, tmp / "figures", self.lang)
        self.path = target
        return target

    @classmethod
    def load(cls, d: Path) -> "BassResult":
        return cls(pd.read_csv(d / "bass_curves.csv"), d.parent.name, path=d, name=d.name)


def validate_bass(config: Config | str | Path = "experiments/validation/bass.toml", seeds: int = 40,
                  overrides: list[str] | dict[str, Any] | None = None, out: str | Path | None = None,
                  lang: str = "en") -> BassResult:
    """Run the Bass special case ``seeds`` times and compare with the closed form (``onerecord validate-bass``)."""
    check_lang(lang)
    cfg = _config(config, overrides)
    if out is not None:
        check_out_dir(out)
    try:
        check_bass_case(cfg)
    except ValueError as err:
        raise ConfigError(f"{config}: {err}") from None
    if seeds < 2:
        raise ConfigError(f"--seeds: must be >= 2, got {seeds}")
    res = BassResult(bass_validation(cfg, seeds), cfg.scenario, lang,
                     name=run_id(cfg, [], command="validate-bass", seeds=seeds))
    if out is not None:
        res.save(out)
    return res


# --------------------------------------------------------------------------- sweeps and analyses


@dataclass
class SweepResult:
    """A sweep's folder and counts (``status``: n_runs, done, failed, missing); ``runs`` reads its table."""

    path: Path
    status: dict[str, int]

    @property
    def runs(self) -> pd.DataFrame:
        """One row per finished run (read from the Parquet dataset; large sweeps: use :meth:`dataset`)."""
        return self.dataset().to_table().to_pandas()

    def dataset(self):
        """The runs as a lazy pyarrow dataset."""
        return open_dataset(self.path)

    def save(self, out: str | Path) -> Path:
        """Copy the sweep folder to ``<out>/<name>/`` atomically (a sweep streams to its own folder as it runs)."""
        check_out_dir(out)
        target = Path(out) / self.path.name
        if target.resolve() != self.path.resolve():
            with atomic_dir(target) as tmp:
                shutil.copytree(self.path, tmp, dirs_exist_ok=True)
        return target


def sweep(experiment: Experiment | str | Path, out: str | Path = "results", executor: str = "local",
          workers: int | None = None, scheduler: str | None = None, shard: str | None = None, merge: bool = False,
          retry_failed: bool = False, progress: bool = True, evaluate=None) -> SweepResult:
    """Run (or resume) an experiment's sweep into ``<out>/<name>/`` (``onerecord sweep``; runs stream to Parquet
    as they finish, so ``out`` is where it runs). ``merge`` joins the shards of a sharded sweep instead.
    ``evaluate`` replaces the model (``module:function`` or a callable; see :mod:`sim.sweep.evaluate`)."""
    if experiment is None:
        raise ConfigError("sweep: missing EXPERIMENT (an experiment TOML file)")
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    check_out_dir(out)
    if merge:
        path = merge_shards(sweep_path(out, exp.name))
    else:
        path = run_sweep(exp, out, executor=executor, workers=workers, scheduler=scheduler, shard=shard,
                         retry_failed=retry_failed, progress=progress, evaluate=_evaluator(evaluate))
    return SweepResult(Path(path), sweep_status(path, shard=None if merge else shard))


def _evaluator(spec):
    """An evaluator given as ``module:function`` (the command line's ``--evaluator``), or as it is."""
    if not isinstance(spec, str):
        return spec
    module, _, attr = spec.partition(":")
    if not attr:
        raise ConfigError(f"--evaluator {spec}: expected module:function")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ConfigError(f"--evaluator {spec}: {err}") from None


@dataclass
class SensitivityResults(SensitivityResult, Figures):
    """The tables of a sensitivity analysis (:class:`sim.sensitivity.SensitivityResult`) and its figures."""

    lang: str = "en"
    subject = "sensitivity"

    @property
    def top(self) -> pd.DataFrame:
        """The three most influential parameters per output."""
        return top_parameters(self.indices, 3) if len(self.indices) else pd.DataFrame()

    def draw(self, tmp: Path, *_: Any) -> list[Path]:
        """Every sensitivity figure the tables allow into ``tmp/figures`` (unless ``[analysis] figures = false``)."""
        if not self.summary.get("analysis", {}).get("figures", True):
            return []
        return write_figures("sensitivity", self, Path(tmp) / "figures", self.lang)

    def save(self, out: str | Path) -> Path:
        """Write ``<out>/<experiment>/sensitivity/`` atomically: the tables, summary.json and figures."""
        check_out_dir(out)
        target = Path(out) / self.summary.get("experiment", self.path.parent.name) / "sensitivity"
        with atomic_dir(target) as tmp:
            _write_sensitivity_tables(self, tmp)
            self.draw(tmp)
        self.path = target
        return target

    @classmethod
    def load(cls, d: Path) -> "SensitivityResults":
        read = {f.name: pd.read_csv(d / f"{f.name}.csv") if (d / f"{f.name}.csv").is_file() else pd.DataFrame()
                for f in fields(SensitivityResult) if f.name not in ("path", "summary")}
        return cls(path=d, summary=read_json(d / "summary.json") or {}, **read)


def sensitivity(experiment: Experiment | str | Path, out: str | Path = "results", executor: str = "local",
                workers: int | None = None, scheduler: str | None = None, analyse_only: bool = False,
                progress: bool = True, lang: str = "en", evaluate=None, analysis=None) -> SensitivityResults:
    """Global sensitivity (Morris or Sobol), tornado and PRIM scenario discovery (``onerecord sensitivity``).

    Runs (or resumes; with ``analyse_only`` only reads) the experiment's sweep into ``<out>/<name>/``,
    then writes ``<out>/<name>/sensitivity/`` (tables and figures, see :mod:`sim.sensitivity`).
    """
    check_lang(lang)
    check_out_dir(out)
    box: dict[str, SensitivityResults] = {}

    def draw(tmp: Path, res: SensitivityResult) -> None:
        box["res"] = SensitivityResults(**{f.name: getattr(res, f.name) for f in fields(res)}, lang=lang)
        box["res"].draw(tmp)

    _sensitivity(experiment, out, executor=executor, workers=workers, scheduler=scheduler, progress=progress,
                 run=not analyse_only, evaluate=_evaluator(evaluate), analysis=analysis, then=draw)
    return box["res"]


@dataclass
class CalibrationResults(CalibrationResult, Figures):
    """The tables of a calibration (:class:`sim.calibrate.CalibrationResult`) and its figures."""

    lang: str = "en"
    subject = "calibration"

    def draw(self, out: Path, *_: Any) -> None:
        self.files += write_figures("calibration", self, Path(out) / "figures", self.lang)

    def save(self, out: str | Path = "results", scenario: str | None = None) -> Path:
        """Write ``<out>/<scenario>/calibration/`` atomically: the tables, calibrated.toml, calibration.json and figures."""
        check_out_dir(out)
        target = Path(out) / (scenario or self.meta["config"]["scenario"]) / "calibration"
        kept = [self.config_path] if self.config_path is not None else []
        with atomic_dir(target) as tmp:
            _calibration.write_files(self, tmp, self.draw)
        self.out_dir, self.files = target, kept + sorted(p for p in target.rglob("*") if p.is_file())
        return target

    @classmethod
    def load(cls, d: Path) -> "CalibrationResults":
        def csv(name: str) -> pd.DataFrame:
            df = pd.read_csv(d / name) if (d / name).is_file() else pd.DataFrame()
            return df.assign(month=pd.to_datetime(df["month"])) if "month" in df else df

        meta = read_json(d / "calibration.json") or {}
        return cls(parameters=csv("fitted_parameters.csv"), posterior=csv("posterior.csv"),
                   generations=csv("generations.csv"), observed=csv("observed.csv"),
                   decision_points=csv("observed_decisions.csv"), bands=csv("bands.csv"), coverage=csv("coverage.csv"),
                   forecast=csv("forecast.csv"), calibrated_config="", wall_seconds=meta.get("wall_seconds", 0.0),
                   settings=_calibration.DEFAULT, out_dir=d, meta=meta, fitted=meta.get("fitted", {}),
                   particles=csv("particles.csv") if (d / "particles.csv").is_file() else None,
                   data_end=meta.get("data_end", HISTORY_END))


def calibrate(config: Config | str | Path, quick: bool = False, seeds: int | None = None,
              overrides: list[str] | dict[str, Any] | None = None, config_out: str | Path | None = None,
              out: str | Path | None = None, lang: str = "en", apply_to: str | Path | None = None,
              **kw: Any) -> CalibrationResults:
    """The joint calibration to the history to 2023-12 (``onerecord calibrate``; :func:`sim.calibrate.calibrate`).

    ``config_out``: where calibrated.toml (and its ``<stem>_posterior.csv``) go too. Saved to
    ``<out>/<scenario>/<run id>/`` when ``out`` is given (the id names the scenario, region kind, overrides,
    ``calibration`` and a hash of config and settings); that folder's calibrated.toml and posterior.csv
    are a calibrated scenario as they stand, and :func:`apply_calibration` folds them into the config.
    ``apply_to``: a scenario file to fold the saved result into (:func:`apply_calibration`; needs ``out``).
    Other keywords go to :func:`sim.calibrate.calibrate` (``keys``, ``observed``, ``settings``, ``simulator``,
    ``particles``).
    """
    check_lang(lang)
    cfg = _config(config, overrides)
    if apply_to is not None and out is None:
        raise ConfigError("calibrate: apply_to needs out (the results folder it folds in)")
    if out is not None:
        check_out_dir(out)
    if seeds is not None:
        _check_counts(seeds=seeds)
    base = Path(config) if not isinstance(config, Config) else _calibration.BASELINE_PATH
    if out is None:
        fit = _calibration.calibrate(cfg, quick=quick, out_dir=None, seeds=seeds, config_path=config_out,
                                     base_config_path=base, **kw)
        return CalibrationResults(**{f.name: getattr(fit, f.name) for f in fields(fit)}, lang=lang)
    target = Path(out) / cfg.scenario / run_id(cfg, [], command="calibration", quick=quick, seeds=seeds)
    box: dict[str, CalibrationResults] = {}

    def draw(tmp: Path, fit: CalibrationResult) -> None:
        box["res"] = CalibrationResults(**{f.name: getattr(fit, f.name) for f in fields(fit)}, lang=lang)
        box["res"].draw(tmp)

    with atomic_dir(target) as tmp:
        _calibration.calibrate(cfg, quick=quick, out_dir=tmp, seeds=seeds, config_path=config_out,
                               base_config_path=base, then=draw, **kw)
    res = box["res"]
    kept = [res.config_path] if res.config_path is not None else []
    res.out_dir, res.files = target, kept + sorted(p for p in target.rglob("*") if p.is_file())
    if apply_to is not None:
        res.files += list(apply_calibration(target, apply_to))
    return res


def apply_calibration(results: str | Path, config: str | Path = _calibration.BASELINE_PATH) -> tuple[Path, Path]:
    """Fold a calibration's results folder into a scenario file (``onerecord calibrate CONFIG --apply``):
    the posterior medians with their comments, the bill's fitted rows, the ``[calibration]`` table and
    ``<stem>_posterior.csv`` beside it (:func:`sim.calibrate.fold_into_config`); the file is checked by
    loading it afterwards. Returns (scenario file, posterior file)."""
    paths = _calibration.fold_into_config(config, results)
    _load_config(paths[0])
    return paths


# --------------------------------------------------------------------------- the position-paper report


@dataclass
class ReportResult:
    """The report of a position-paper pack: ``path`` (report.md; report.html beside it), the quoted ``numbers``."""

    path: Path
    numbers: dict
    root: Path

    def save(self, out: str | Path) -> Path:
        """Copy the report folder (report.md, report.html, numbers.json, figures/) to ``<out>/`` atomically."""
        check_out_dir(out)
        target = Path(out) / self.path.parent.name
        with atomic_dir(target) as tmp:
            shutil.copytree(self.path.parent, tmp, dirs_exist_ok=True)
        return target / self.path.name


def report(experiment: str | Path, out: str | Path = "results", lang: str = "en", rebuild_only: bool = False,
           quick: bool = False, workers: int | None = None, progress: bool = True,
           say: Callable[[str], None] | None = None) -> ReportResult:
    """Run what the position paper needs and is not saved yet, then build the report in ``lang``
    (``onerecord report``).

    The report goes to ``<out>/<name>/report_<lang>/report.md`` (``report.html`` beside it). With
    ``rebuild_only`` nothing runs: the report is rebuilt from the saved results. ``quick`` shrinks
    the experiment by its ``[quick]`` table (results under ``<name>-quick``). ``say`` hears one line per piece.
    """
    check_lang(lang)
    paper = load_paper(experiment)
    paper = quick_version(paper) if quick else paper
    check_out_dir(out)
    root = Path(out) / paper.name
    if not rebuild_only:
        run_pack(paper, out, workers=workers, progress=progress, say=say or (lambda _: None))
    path = build_report(root, lang)
    return ReportResult(path, json.loads((path.parent / "numbers.json").read_text(encoding="utf-8")), root)


def run_pack(paper: PaperExperiment, out: str | Path, workers: int | None = None, progress: bool = True,
             say: Callable[[str], None] = lambda _: None) -> Path:
    """Run (or skip, when saved) every piece of the pack; write ``report_inputs.json``; return the folder.

    Each piece is skipped when saved (a scenario's run id, the uptake curve's settings, the sweep's
    finished runs, the sensitivity's design hash and options, the Bass check's run id), so an interrupted
    pack resumes. Scenarios run ``paper.draws`` posterior draws x ``paper.seeds`` on ``workers`` processes
    (default: the CPUs); the business cases and (real region) the coverage of the history are derived
    from their saved tables.
    """
    root = Path(out) / paper.name
    configs = {name: scenario_config(paper, name) for name in paper.scenarios}
    year = configs[paper.baseline].run.report_year
    reps = list(range(paper.seeds))
    runs: dict[str, str] = {}
    for name, cfg in configs.items():
        target = root / "runs" / name / run_id(cfg, reps, draw_table(cfg, cfg.run.draws))
        if (target / "manifest.json").is_file():
            say(f"{name}: saved ({target})")
        else:
            say(f"{name}: running {paper.seeds} seeds x {paper.draws + 1} draws")
            run(cfg, seeds=reps, jobs=min(workers or default_workers(), MAX_JOBS)).save(root / "runs", figures=False)
        runs[name] = target.relative_to(root).as_posix()

    u = paper.uptake_curve
    ucfg = configs[u.scenario]
    udir = root / u.scenario / uptake_id(ucfg, u.steps, u.seeds, u.orders, paper.draws)
    saved = read_json(udir / "settings.json")
    if saved == _uptake_settings(ucfg, u.steps, u.seeds, u.orders, paper.draws):
        say(f"uptake curve: saved ({udir})")
    else:
        say(f"uptake curve: {len(u.orders)} orders x {u.steps} steps x {paper.draws + 1} draws")
        uptake_curve(ucfg, steps=u.steps, orders=tuple(u.orders), seeds=u.seeds,
                     draws=paper.draws).save(root, figures=False)

    hexp = heatmap_experiment(paper, root)
    say(f"heatmap: {hexp.name} ({len(paper.heatmap.x.levels)} x {len(paper.heatmap.y.levels)} cells)")
    hroot = run_sweep(hexp, root, workers=workers, progress=progress)
    st = sweep_status(hroot)
    if st["failed"] or st["missing"]:
        say(f"heatmap: {st['failed']} runs failed, {st['missing']} missing (their cells are blank)")

    sexp, ana = sensitivity_experiment(paper)
    sdir = Path(out) / sexp.name / "sensitivity"
    if _sensitivity_saved(sexp, ana, Path(out)):
        say(f"sensitivity: saved ({sdir})")
    else:
        say(f"sensitivity: {sexp.name} ({sexp.design})")
        sensitivity(sexp, out, workers=workers, progress=progress, analysis=ana)

    bass = _pack_bass(paper, root, say)
    cases = business_cases({name: root / rel for name, rel in runs.items()}, year)
    cases.to_csv(root / "business_cases.csv", index=False)
    base_cfg = configs[paper.baseline]
    coverage = _pack_coverage(base_cfg, paper.seeds, workers)
    if coverage is not None:
        coverage.to_csv(root / "coverage.csv", index=False)
    table = _resolved_parameters(parameter_table(paper.scenario_path(paper.baseline)), base_cfg,
                                 Path(paper.source).name)
    table.to_csv(root / "parameters.csv", index=False)
    calibration = base_cfg.calibration
    inputs = {
        "experiment": paper.model_dump(mode="json"), "report_year": year, "scenarios": runs,
        "bass": bass.relative_to(root).as_posix(), "business_cases": "business_cases.csv",
        "coverage": "coverage.csv" if coverage is not None else None,
        "calibration": calibration.model_dump(mode="json") if calibration is not None else None,
        "draw_sources": spec_sources(base_cfg),
        "uptake_curve": (udir / "uptake_curve.csv").relative_to(root).as_posix(),
        "heatmap": {"dir": hroot.relative_to(root).as_posix(), "x": paper.heatmap.x.key, "y": paper.heatmap.y.key,
                    "output": f"{paper.heatmap.output}_{year}"},
        "sensitivity": os.path.relpath(sdir, root), "parameters": "parameters.csv",
    }
    write_text_atomic(json.dumps(inputs, indent=2, ensure_ascii=False), root / INPUTS_FILE)
    return root


def _pack_bass(paper: PaperExperiment, root: Path, say: Callable[[str], None]) -> Path:
    """The pack's Bass check (:func:`validate_bass`, ``paper.validation``), skipped when saved; its folder."""
    cfg = _config(paper.bass_path())
    seeds = paper.validation.seeds
    target = root / "validation" / cfg.scenario / run_id(cfg, [], command="validate-bass", seeds=seeds)
    if (target / "bass_check.json").is_file():
        say(f"Bass check: saved ({target})")
        return target
    say(f"Bass check: {seeds} seeds")
    return validate_bass(cfg, seeds=seeds, out=root / "validation").path


def business_cases(run_dirs: dict[str, Path], year: int) -> pd.DataFrame:
    """The GP office's and the municipalities' business case per run (scenario, draw, seed), from each
    scenario's saved tables: ``gp_licence_nok_per_gp_year``; ``gp_break_even_licence_nok_per_gp_year``, the
    GP-weighted median over offices (:func:`gp_break_even`); ``gp_share_gps_gaining`` (joining pays at the
    scenario's prices, :func:`sim.report.tables.gp_share_gps_gaining`); ``gp_payback_years`` (median over
    joined offices, inf = never; the summary's ``gp_payback_years_median``); ``muni_net_cost_nok_per_inhabitant``
    (the median municipality in ``year``, the summary's); ``muni_payback_year``
    (:func:`sim.report.tables.municipal_payback_year`, inf = never)."""
    rows = []
    for name, d in run_dirs.items():
        summary = read_table(d, "summary").set_index(["draw", "seed"])
        gp, cm = read_table(d, "costs_gp"), read_table(d, "costs_municipality")
        cm_runs = dict(iter(cm.groupby(["draw", "seed"])))
        for (draw, seed), g in gp.groupby(["draw", "seed"]):
            be = gp_break_even(g).set_index("quantity")
            s = summary.loc[(draw, seed)]
            rows.append({"scenario": name, "draw": int(draw), "seed": int(seed),
                         "gp_licence_nok_per_gp_year": float(g["licence_nok_per_gp_year"].iloc[0]),
                         "gp_break_even_licence_nok_per_gp_year": float(be.at["licence", "q50"]),
                         "gp_share_gps_gaining": gp_share_gps_gaining(g),
                         "gp_payback_years": float(s["gp_payback_years_median"]),
                         "muni_net_cost_nok_per_inhabitant": float(s[f"nok_per_inhabitant_median_municipality_{year}"]),
                         "muni_payback_year": municipal_payback_year(cm_runs[(draw, seed)])})
    return pd.DataFrame(rows)


def _pack_coverage(cfg: Config, seeds: int, workers: int | None) -> pd.DataFrame | None:
    """Coverage of the observed points to 2023-12 by the 90 % band of the pack's draws, as the calibration
    checks itself (:func:`sim.calibrate.calibrate`): the fitted inputs at the pack's posterior draws
    (:func:`draw_table`, the ``posterior`` keys of :func:`spec_sources`) x ``seeds``, the rules from the start
    (no replayed history) to the last observed month; ``by_construction`` marks what holds by how the model
    is set up (:func:`sim.calibrate.by_construction`). None off the real region (no history to cover)."""
    if cfg.region.kind != "real":
        return None
    observed = observed_series(cfg, cfg.run.start_month, HISTORY_END)
    fit_month = f"{pd.Timestamp(observed['month'].max()):%Y-%m}"
    table, sources = draw_table(cfg, cfg.run.draws), spec_sources(cfg)
    fitted = [k for k in table.columns if sources.get(k) == "posterior"]
    rules = with_overrides(cfg, {"rollout.replay_history": False})
    runs = _calibration.predictive_runs(rules, table[fitted] if fitted else None, len(table), seeds, fit_month,
                                        n_procs=min(workers or default_workers(), MAX_JOBS))
    bands = _calibration.bands_table(runs, [c for c in (*_calibration.SERIES, DECIDED, _calibration.BOUND)
                                            if c in runs.columns])
    points = _calibration.decision_points_in_window(option_decision_points(), cfg.run.start_month, len(observed))
    return _calibration.coverage_table(bands, observed, points,
                                       _calibration.by_construction(cfg, False, cfg.t_of(fit_month)),
                                       coverage_counts(cfg))


def _sensitivity_saved(exp: Experiment, ana, out: Path) -> bool:
    """indices.csv exists for this very design (sweep manifest hash) and these analysis options."""
    sroot = out / exp.name
    summary = read_json(sroot / "sensitivity" / "summary.json")
    if summary is None or not (sroot / "sensitivity" / "indices.csv").is_file():
        return False
    same_design = read_sweep_manifest(sroot).get("design_hash") == design_hash(exp, base_config(exp), expand_runs(exp))
    return same_design and summary.get("analysis") == json.loads(json.dumps(ana.model_dump()))


def _resolved_parameters(table: pd.DataFrame, cfg: Config, experiment_file: str) -> pd.DataFrame:
    """The parameter table with the values the runs used: a key the experiment overrides gets its
    resolved value and the source "override in <experiment file>"."""
    data = config_to_dict(cfg)
    out = table.copy()
    for i, key in enumerate(out["key"]):
        node = get_dotted(data, key)
        if node != out.at[i, "value"] and key not in ("scenario", "calibration"):  # the table names the posterior
            # as its config does (relative), the resolved config where this checkout is
            out.at[i, "value"], out.at[i, "source"] = node, f"{OVERRIDE_SOURCE}{experiment_file}"
    out["value"] = [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in out["value"]]
    return out


# --------------------------------------------------------------------------- municipal decisions, one at a time


@dataclass
class ProfileResult(Figures):
    """A profile (:mod:`sim.sensitivity.profile`): ``.profile`` (mean, 10-90%, min-max over seeds per
    parameter level), ``.runs`` (every run), ``.path`` once saved."""

    profile: pd.DataFrame
    runs: pd.DataFrame
    name: str
    lang: str = "en"
    path: Path | None = None
    subject = "profile"

    def save(self, out: str | Path) -> Path:
        """Write ``<out>/<experiment>/profile/`` atomically: profile.csv, profile_runs.csv and the figures."""
        check_out_dir(out)
        target = Path(out) / self.name / "profile"
        with atomic_dir(target) as tmp:
            self.profile.to_csv(tmp / "profile.csv", index=False)
            self.runs.to_csv(tmp / "profile_runs.csv", index=False)
            write_figures("profile", self, tmp / "figures", self.lang)
        self.path = target
        return target

    @classmethod
    def load(cls, d: Path) -> "ProfileResult":
        runs = pd.read_csv(d / "profile_runs.csv") if (d / "profile_runs.csv").is_file() else pd.DataFrame()
        return cls(pd.read_csv(d / "profile.csv"), runs, d.parent.name, path=d)


def municipal_sensitivity(experiment: Experiment | str | Path = "experiments/municipal_decisions.toml",
                          out: str | Path | None = "results", points: int = 7, executor: str = "local",
                          workers: int | None = None, scheduler: str | None = None, lang: str = "en",
                          evaluate=None) -> ProfileResult:
    """Municipalities live (and declined, deferred, bound) in the report year against each decision
    parameter over its range, one at a time, every level on the same seeds (issue 18).

    Levels are each parameter's grid ``levels`` (else ``points`` over its range); writes
    ``<out>/<name>/profile/`` unless ``out`` is None.
    """
    check_lang(lang)
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    table, runs = run_profile(exp, points=points, executor=executor, workers=workers, scheduler=scheduler,
                              evaluate=_evaluator(evaluate))
    res = ProfileResult(profile=table, runs=runs, name=exp.name, lang=lang)
    if out is not None:
        res.save(out)
    return res


# --------------------------------------------------------------------------- the municipal bill sheet


def financing_scenarios(config_dir: str | Path) -> list[Path]:
    """The shipped financing scenarios beside a config: the TOML files there that extend another and change
    only ``[financing]`` (plus scenario and description), baseline.toml first."""
    found = []
    for p in sorted(Path(config_dir).glob("*.toml")):
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        if p.name == "baseline.toml" or ("extends" in data and "financing" in data
                                         and set(data) <= {"extends", "scenario", "description", "financing"}):
            found.append(p)
    return sorted(found, key=lambda p: (p.name != "baseline.toml", p.name))


def find_municipality(kommune: str, region) -> int:
    """Row of a municipality by kommunenummer or name (case-insensitive; the Norwegian part of a bilingual
    name is enough); an unknown one is a ConfigError with the closest names."""
    munis = region.municipalities
    knr = munis["kommunenummer"].astype(str).tolist()
    names_ = munis["name"].astype(str).tolist()
    k = str(kommune).strip()
    if k in knr:
        return knr.index(k)
    for pool in ([n.lower() for n in names_], [n.split(" - ")[0].strip().lower() for n in names_]):
        if k.lower() in pool:
            return pool.index(k.lower())
    close = difflib.get_close_matches(k, names_ + [n.split(" - ")[0] for n in names_], n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(dict.fromkeys(close))}?" if close else "; give a name or a kommunenummer of the region"
    raise ConfigError(f"kommune: unknown municipality {kommune!r}{hint}")


class BillResult(Figures):
    """One municipality's bill under every financing scenario (:func:`bill`).

    ``summary`` (one row per scenario), ``if_joins`` (what it expects to pay if it joins, by component:
    one-offs in NOK and annual items in NOK a year, whether or not it joined in the runs: the bill of
    its decision), ``bill`` (component x year with bands over seeds and draws),
    ``net_by_year`` (the net cost by year, scenarios side by side), ``gp`` (its GP offices, with the
    break-even licence price), ``expected`` (every municipality's expected net cost per inhabitant per
    scenario), ``costs`` and ``costs_gp`` (the run tables of every scenario, all municipalities),
    ``about`` (what the figures are). ``.save(dir)`` writes the sheet; ``.path`` is where.
    """

    subject = "bill"

    def __init__(self, kommunenummer: str, name: str, costs: pd.DataFrame, costs_gp: pd.DataFrame, expected: pd.DataFrame,
                 scenarios: list[str], about: pd.DataFrame, if_joins: pd.DataFrame | None = None,
                 folder: str | None = None):
        self.kommunenummer, self.name, self.scenarios = kommunenummer, name, scenarios
        self.folder = folder or f"{scenarios[0]}/{bill_label(kommunenummer, name)}"
        """Where under ``out`` it is saved: ``<scenario>/<run id>`` when made by :func:`bill`."""
        self.if_joins = if_joins if if_joins is not None else pd.DataFrame(columns=["scenario", "component", "kind", "nok"])
        self.costs, self.costs_gp, self.expected, self.about = costs, costs_gp, expected, about
        self.bill = sheets.bill_bands(costs, kommunenummer, scenarios)
        self.summary = sheets.bill_summary(costs, kommunenummer, expected)
        self.net_by_year = sheets.net_by_year(self.bill)
        self.gp = sheets.gp_offices(costs_gp, kommunenummer)
        self.path: Path | None = None

    def figure_options(self) -> dict:
        return {"highlight": self.kommunenummer}

    def save(self, out: str | Path = "results", lang: str = "nb") -> Path:
        """Write ``<out>/<folder>/`` (``<scenario>/<run id>``, e.g. ``baseline/baseline-bill-5037_Levanger-1a2b3c4d``)
        atomically: ``bill.xlsx`` (headers in ``lang``), the CSVs in both variants (``*_nb.csv``: ``;`` and
        decimal comma; ``*_en.csv``: plain) and the figures (nb and en). Returns the directory."""
        _check_out(out, lang)
        target = Path(out) / self.folder
        tables = {"summary": self.summary, "if_joins": self.if_joins, "bill": self.bill, "net_by_year": self.net_by_year,
                  "gp": self.gp, "about": self.about}
        with atomic_dir(target) as tmp:
            sheets.write_xlsx(tables, tmp / "bill.xlsx", lang, title=f"{self.name} ({self.kommunenummer})")
            for key in ("summary", "if_joins", "bill", "net_by_year", "gp"):
                for lg in LANGS:
                    sheets.write_csv(tables[key], tmp / f"{key}_{lg}.csv", lg)
            for lg in LANGS:
                write_figures("bill", self, tmp / "figures", lg, **self.figure_options())
        self.path = target
        return target

    def __repr__(self) -> str:
        return f"BillResult({self.name} {self.kommunenummer}, scenarios={self.scenarios})"


ASCII_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A", "á": "a", "Á": "A"})
"""Norwegian and Sami letters in folder names, spelled in ASCII (``Averøy`` -> ``Averoy``)."""


def bill_label(kommunenummer: str, name: str) -> str:
    """``bill-<kommunenummer>_<name>`` (the Norwegian part of the name in ASCII letters and digits,
    :data:`ASCII_LETTERS`): the readable command part of a bill's run id."""
    plain = name.split(" - ")[0].translate(ASCII_LETTERS)
    return f"bill-{kommunenummer}_" + "".join(c if c.isascii() and c.isalnum() else "_" for c in plain).strip("_")


def bill(kommune: str, config: Config | str | Path = "configs/baseline.toml", seeds: int | list[int] | None = None,
         scenarios: list[str | Path | Config] | None = None, jobs: int = 1,
         overrides: list[str] | dict[str, Any] | None = None, out: str | Path | None = None, lang: str = "nb",
         progress: Progress | None = None, draws: int | None = None) -> BillResult:
    """One municipality's bill by component and year under every financing scenario (``onerecord bill``).

    ``kommune``: a name or kommunenummer of the config's region (unknown: ConfigError with the closest
    names). ``scenarios``: financing scenario TOMLs (default: :func:`financing_scenarios` beside
    ``config``, or in configs/ when ``config`` is a Config); each one's ``[financing]`` replaces the
    config's, everything else stays. Each scenario runs ``seeds`` replicates (default run.seeds) x
    ``draws`` parameter draws (default run.draws; the same draws in every scenario, which change only
    levers) with the same seeds (:func:`run`); the bands are over those runs. Saved under ``out``
    (:meth:`BillResult.save`: ``<out>/<scenario>/<run id>/``, the id naming the scenario, region kind, overrides
    and municipality, with a hash of the config, seeds, draws and financing scenarios) when given.
    """
    check_lang(lang)
    cfg = _config(config, overrides)
    if out is not None:
        check_out_dir(out)
    region = load_region(cfg.region)
    m = find_municipality(kommune, region)
    if isinstance(seeds, int) or seeds is None:
        _check_counts(seeds=cfg.run.seeds if seeds is None else seeds)
    _check_counts(jobs=jobs)
    if scenarios is None:
        scenarios = financing_scenarios(Path(config).parent if not isinstance(config, Config) else Path("configs"))
    if not scenarios:
        raise ConfigError(f"{config}: no financing scenarios found beside it")
    costs, costs_gp, expected, if_joins, scen_names, scen_cfgs = [], [], [], [], [], []
    munis = region.municipalities
    for k, path in enumerate(scenarios):
        scen = path if isinstance(path, Config) else _load_config(path)
        scen_cfgs.append(scen)
        fin = {f"financing.{key}": v for key, v in config_to_dict(scen)["financing"].items()}
        cs = with_overrides(cfg, {**fin, "scenario": scen.scenario})
        scen_names.append(cs.scenario)
        done = None if progress is None else (lambda d, t, k=k: progress(k * t + d, len(scenarios) * t))
        res = run(cs, seeds=seeds, jobs=jobs, figures=False, progress=done, draws=draws)
        costs.append(res.costs_municipality)
        costs_gp.append(res.costs_gp)
        parts = expected_bill_nok(scaled_to_region(cs, region), region)
        if_joins.append(pd.DataFrame({"scenario": cs.scenario, "component": list(parts),
                                      "kind": ["one_off" if k in ONEOFF_KEYS else "annual" for k in parts],
                                      "nok": [round(float(v[m])) for v in parts.values()]}))
        expected.append(pd.DataFrame({"scenario": cs.scenario, "kommunenummer": munis["kommunenummer"].astype(str),
                                      "name": munis["name"],
                                      "expected_nok_per_inhabitant": expected_net_cost_nok_per_inhabitant_year(
                                          scaled_to_region(cs, region), region)}))
    n_seeds = costs[0]["seed"].nunique()
    n_draws = costs[0]["draw"].nunique() if "draw" in costs[0] else 1
    about = pd.DataFrame({"item": ["config", "scenarios", "seeds", "parameter draws", "money", "bands", "signs", "model"],
                          "value": [str(cfg.scenario if isinstance(config, Config) else config), ", ".join(scen_names), str(n_seeds),
                                    f"{n_draws} (draw 0 = the config; others over the uncertain inputs' prior ranges)",
                                    "2023 NOK, whole kroner", "median and 5-95 % over the runs in which the municipality went live",
                                    "costs positive, savings negative; net = sum of the items",
                                    "onerecord: docs/model.md (Economics), docs/bill_validation.md"]})
    knr, name = str(munis["kommunenummer"].iloc[m]), str(munis["name"].iloc[m])
    reps = _seed_list(cfg, seeds)
    fins = [{"scenario": c.scenario, "financing": config_to_dict(c)["financing"]} for c in scen_cfgs]
    folder = f"{cfg.scenario}/" + run_id(cfg, reps, command=bill_label(knr, name), kommunenummer=knr, scenarios=fins,
                                         draws_count=cfg.run.draws if draws is None else int(draws))
    result = BillResult(knr, name, pd.concat(costs, ignore_index=True), pd.concat(costs_gp, ignore_index=True),
                        pd.concat(expected, ignore_index=True), scen_names, about, pd.concat(if_joins, ignore_index=True),
                        folder=folder)
    if out is not None:
        result.save(out, lang)
    return result


# --------------------------------------------------------------------------- what drives GP uptake (#19)


def _seed_list(cfg: Config, seeds: int | list[int] | None) -> list[int]:
    """Replicate indices: ``run.seeds`` by default, 0..N-1 for a count, else the list given."""
    if seeds is None or isinstance(seeds, int):
        n = cfg.run.seeds if seeds is None else seeds
        _check_counts(seeds=n)
        return list(range(n))
    return [int(s) for s in seeds]


@dataclass
class GPDriversResult(Figures):
    """What drives GP uptake under one scenario (#19): the uptake split by utility term (``split``), the
    residual uptake of money-losing offices (``residual``), uptake over the licence price and subsidy
    (``gp_levers``), a run's ``costs_gp`` and the break-even distribution over offices (``break_even``)."""

    split: pd.DataFrame
    residual: pd.DataFrame
    gp_levers: pd.DataFrame
    costs_gp: pd.DataFrame
    break_even: pd.DataFrame
    scenario: str
    lang: str = "en"
    path: Path | None = None
    name: str = "gp-drivers"
    """Its folder under ``<out>/<scenario>/``: a run id when made by :func:`gp_drivers`."""
    subject = "gp"

    def save(self, out: str | Path = "results", figures: bool = True) -> Path:
        """Write ``<out>/<scenario>/<name>/`` atomically: gp_uptake_split.csv, gp_residual_uptake.csv,
        gp_levers.csv, costs_gp.csv, gp_break_even.csv and the figures."""
        check_out_dir(out)
        target = Path(out) / self.scenario / self.name
        with atomic_dir(target) as tmp:
            for name, df in (("gp_uptake_split", self.split), ("gp_residual_uptake", self.residual),
                             ("gp_levers", self.gp_levers), ("costs_gp", self.costs_gp), ("gp_break_even", self.break_even)):
                df.to_csv(tmp / f"{name}.csv", index=False)
            if figures:
                write_figures("gp", self, tmp / "figures", self.lang)
        self.path = target
        return target


def gp_drivers(config: Config | str | Path, seeds: int | list[int] | None = None,
               licences_nok: list[float] | None = None, subsidies_nok: list[float] | None = None,
               overrides: list[str] | dict[str, Any] | None = None, out: str | Path | None = None,
               lang: str = "en", figures: bool = True) -> GPDriversResult:
    """What drives GP uptake (``onerecord gp-drivers``): :func:`gp_uptake_split`, :func:`gp_residual_uptake`,
    :func:`gp_uptake_over_levers` and :func:`gp_break_even` of one scenario, same seeds; saved under ``out``
    when given (``<out>/<scenario>/<run id>/``: scenario, region kind, overrides, ``gp-drivers`` and a hash of
    the config, seeds and lever grids)."""
    cfg = _config(config, overrides)
    _check_out(out, lang)
    levers = gp_uptake_over_levers(cfg, licences_nok, subsidies_nok, seeds)
    costs = run_replicates(cfg, _seed_list(cfg, seeds)).costs_gp
    grids = {lever: sorted(set(g["value_nok_per_gp_year"])) for lever, g in levers.groupby("lever")}  # as run
    res = GPDriversResult(gp_uptake_split(cfg, seeds), gp_residual_uptake(cfg, seeds), levers, costs,
                          gp_break_even(costs), cfg.scenario, lang,
                          name=run_id(cfg, _seed_list(cfg, seeds), command="gp-drivers", grids=grids))
    if out is not None:
        res.save(out, figures=figures)
    return res


def gp_uptake_split(config: Config | str | Path, seeds: int | list[int] | None = None) -> pd.DataFrame:
    """GP uptake with each utility term (money, time_saved, functionality, risk, peer, random; "named" = the
    three named terms) set to zero under the same draws, and what each term accounts for
    (:func:`sim.gp_uptake.uptake_split`); tidy table, one row per term and seed."""
    cfg = _config(config)
    return _gp_uptake.uptake_split(cfg, _seed_list(cfg, seeds))


def gp_residual_uptake(config: Config | str | Path, seeds: int | list[int] | None = None) -> pd.DataFrame:
    """Uptake of GP offices that lose money, with the named terms at zero: the random term's residual
    (:func:`sim.gp_uptake.residual_uptake`); one row per seed."""
    cfg = _config(config)
    return _gp_uptake.residual_uptake(cfg, _seed_list(cfg, seeds))


def gp_break_even(results: RunResults | pd.DataFrame) -> pd.DataFrame:
    """The break-even licence price and subsidy over GP offices per scenario (GP-weighted 10/50/90% quantiles)
    from a run's ``costs_gp`` (:func:`sim.gp_uptake.break_even_distribution`)."""
    return _gp_uptake.break_even_distribution(results.costs_gp if isinstance(results, RunResults) else results)


def gp_uptake_over_levers(config: Config | str | Path, licences_nok: list[float] | None = None,
                          subsidies_nok: list[float] | None = None, seeds: int | list[int] | None = None) -> pd.DataFrame:
    """GP uptake over the licence price and over the subsidy, one lever at a time, same draws
    (:func:`sim.gp_uptake.uptake_over_levers`; figure ``gp_levers``: :func:`sim.plots.gp.fig_gp_levers`). Default grids:
    licence 0-120,000 and subsidy 0-60,000 NOK per GP per year, 7 points each."""
    cfg = _config(config)
    licences = [20_000.0 * k for k in range(7)] if licences_nok is None else [float(v) for v in licences_nok]
    subsidies = [10_000.0 * k for k in range(7)] if subsidies_nok is None else [float(v) for v in subsidies_nok]
    bad = [v for v in (*licences, *subsidies) if v < 0]
    if bad:
        raise ConfigError(f"gp_uptake_over_levers: prices and subsidies must be >= 0, got {bad[0]}")
    return _gp_uptake.uptake_over_levers(cfg, _seed_list(cfg, seeds), licences, subsidies)
