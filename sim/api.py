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
from sim.config import parse_override, with_overrides
from sim.draws import Spec, draw_configs, draw_table
from sim.plots import check_lang  # noqa: F401 (public: the CLI checks --lang through the API)
from sim.results import RunTables, check_out_dir, manifest, now, read_run, write_run
from sim.runner import run_replicates

__all__ = ["ConfigError", "Config", "RunResults", "load_config", "run", "load_results", "uptake_curve", "sweep",
           "sensitivity", "bill", "BillResult"]


def load_config(path: str | Path, overrides: list[str] | dict[str, Any] | None = None, **kw: Any) -> Config:
    """Load and validate a scenario TOML (``extends`` resolved).

    ``path`` may also be a run's ``manifest.json``: its resolved config is loaded (re-running it
    with :func:`manifest_replicates` reproduces the run). ``overrides`` are ``--set`` strings (``["gp.bass_q_per_year=0.5"]``) or a dict of dotted keys;
    keyword arguments use ``__`` for the dot (``load_config(p, gp__bass_q_per_year=0.5)``) and win
    over ``overrides``.
    """
    if isinstance(overrides, dict):
        pairs = dict(overrides)
    else:
        pairs = {".".join(k): v for k, v in (parse_override(o) for o in overrides or [])}
    pairs.update({k.replace("__", "."): v for k, v in kw.items()})
    if Path(path).suffix == ".json":  # a run's manifest.json: its resolved config
        from sim.config import apply_overrides, validate
        from sim.results import read_manifest

        data = read_manifest(Path(path).parent)["config"]
        return validate(apply_overrides(data, pairs, source=f"{path}: --set") if pairs else data, str(path))
    return _load_config(path, pairs or None)


def manifest_replicates(path: str | Path) -> list[int] | None:
    """The replicate list of a run's ``manifest.json`` (None for a scenario TOML)."""
    from sim.results import read_manifest

    return read_manifest(Path(path).parent)["replicates"] if Path(path).suffix == ".json" else None


def check_counts(**counts: int) -> None:
    """Each named count (``seeds=8, jobs=1``) must be a whole number >= 1, else ConfigError."""
    for name, n in counts.items():
        if n is None or int(n) < 1:
            raise ConfigError(f"--{name}: must be >= 1, got {n}")


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
    return RunResults(validate(man["config"], f"{run_dir}/manifest.json"), read_run(run_dir), man, Path(run_dir))


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


# --------------------------------------------------------------------------- the municipal bill sheet


def financing_scenarios(config_dir: str | Path) -> list[Path]:
    """The shipped financing scenarios beside a config: the TOML files there that extend another and change
    only ``[financing]`` (plus scenario and description), baseline.toml first."""
    import tomllib

    found = []
    for p in sorted(Path(config_dir).glob("*.toml")):
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        if p.name == "baseline.toml" or ("extends" in data and set(data) <= {"extends", "scenario", "description", "financing"}
                                         and "financing" in data):
            found.append(p)
    return sorted(found, key=lambda p: (p.name != "baseline.toml", p.name))


def find_municipality(kommune: str, region) -> int:
    """Row of a municipality by kommunenummer or name (case-insensitive; the Norwegian part of a bilingual
    name is enough); an unknown one is a ConfigError with the closest names."""
    import difflib

    munis = region.municipalities
    knr = munis["kommunenummer"].astype(str).tolist()
    names = munis["name"].astype(str).tolist()
    k = str(kommune).strip()
    if k in knr:
        return knr.index(k)
    low = [n.lower() for n in names]
    short = [n.split(" - ")[0].strip().lower() for n in names]
    for pool in (low, short):
        if k.lower() in pool:
            return pool.index(k.lower())
    close = difflib.get_close_matches(k, names + [n.split(" - ")[0] for n in names], n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(dict.fromkeys(close))}?" if close else "; give a name or a kommunenummer of the region"
    raise ConfigError(f"kommune: unknown municipality {kommune!r}{hint}")


class BillResult:
    """One municipality's bill under every financing scenario (:func:`bill`).

    ``summary`` (one row per scenario), ``bill`` (component x year with bands), ``net_by_year`` (the net
    cost by year, scenarios side by side), ``gp`` (its GP offices), ``expected`` (every municipality's
    expected net cost per inhabitant per scenario: the figure's table), ``costs`` and ``costs_gp`` (the
    run tables of every scenario, all municipalities). ``.save(dir)`` writes the sheet.
    """

    def __init__(self, kommunenummer: str, name: str, costs: pd.DataFrame, costs_gp: pd.DataFrame, expected: pd.DataFrame,
                 scenarios: list[str], about: pd.DataFrame):
        from sim import sheets

        self.kommunenummer, self.name, self.scenarios = kommunenummer, name, scenarios
        self.costs, self.costs_gp, self.expected, self.about = costs, costs_gp, expected, about
        self.bill = sheets.bill_bands(costs, kommunenummer, scenarios)
        self.summary = sheets.bill_summary(costs, kommunenummer, expected)
        self.net_by_year = sheets.net_by_year(self.bill)
        self.gp = sheets.gp_offices(costs_gp, kommunenummer)

    def figure(self, lang: str = "en", highlight: str | None = None):
        """The municipalities sorted by their expected cost per inhabitant, this one highlighted."""
        from sim.plots_economics import fig_cost_by_municipality

        check_lang(lang)
        return fig_cost_by_municipality(self.expected, lang, highlight=highlight or self.kommunenummer,
                                        value="expected_nok_per_inhabitant")

    def save(self, out: str | Path, lang: str = "nb") -> Path:
        """Write ``<out>/bill_<kommunenummer>_<name>/`` atomically: ``bill.xlsx`` (headers in ``lang``),
        the CSVs in both variants (``*_nb.csv``: ``;`` and decimal comma; ``*_en.csv``: plain) and the
        figures (PDF and PNG, nb and en). Returns the directory."""
        from sim import sheets
        from sim.plots import save as save_fig
        from sim.plots_economics import fig_gp_breakeven
        from sim.results import atomic_dir

        check_lang(lang)
        check_out_dir(out)
        slug = "".join(c if c.isalnum() else "_" for c in self.name.split(" - ")[0]).strip("_")
        target = Path(out) / f"bill_{self.kommunenummer}_{slug}"
        tables = {"summary": self.summary, "bill": self.bill, "net_by_year": self.net_by_year, "gp": self.gp,
                  "about": self.about}
        with atomic_dir(target) as tmp:
            sheets.write_xlsx(tables, tmp / "bill.xlsx", lang, title=f"{self.name} ({self.kommunenummer})")
            for key in ("summary", "bill", "net_by_year", "gp"):
                for lg in ("nb", "en"):
                    sheets.write_csv(tables[key], tmp / f"{key}_{lg}.csv", lg)
            for lg in ("nb", "en"):
                save_fig(self.figure(lg), tmp / "figures" / f"cost_by_municipality_{lg}")
                if len(self.gp):
                    save_fig(fig_gp_breakeven(self.gp, lg), tmp / "figures" / f"gp_breakeven_{lg}")
        return target

    def __repr__(self) -> str:
        return f"BillResult({self.name} {self.kommunenummer}, scenarios={self.scenarios})"


def bill(kommune: str, config: Config | str | Path = "configs/baseline.toml", seeds: int | list[int] | None = None,
         scenarios: list[str | Path] | None = None, jobs: int = 1,
         on_done: Callable[[int], None] | None = None, draws: int | None = None) -> BillResult:
    """One municipality's bill by component and year, bands over seeds (and parameter draws where the run
    tables have a ``draw`` column), under every financing scenario side by side.

    ``kommune``: a name or kommunenummer of the config's region. ``scenarios``: financing scenario TOMLs
    (default: :func:`financing_scenarios` beside ``config``, or beside configs/baseline.toml when ``config``
    is a Config); each one's ``[financing]`` replaces the config's, everything else stays. Each scenario
    runs ``seeds`` replicates (default run.seeds) x ``draws`` parameter draws (default run.draws; the same
    draws in every scenario, since scenarios change only levers) with the same seeds (:func:`run`).
    """
    from sim.config import config_to_dict, with_overrides
    from sim.economics import expected_net_cost_nok_per_inhabitant_year, scaled_to_region
    from sim.region import load_region

    cfg = _as_config(config)
    region = load_region(cfg.region)
    m = find_municipality(kommune, region)
    reps = _replicates(cfg, seeds)
    check_counts(jobs=jobs)
    if scenarios is None:
        base_dir = Path(config).parent if not isinstance(config, Config) else Path("configs")
        scenarios = financing_scenarios(base_dir)
    costs, costs_gp, expected, names = [], [], [], []
    for path in scenarios or []:
        scen = _load_config(path) if not isinstance(path, Config) else path
        fin = {f"financing.{k}": v for k, v in config_to_dict(scen)["financing"].items()}
        cs = with_overrides(cfg, {**fin, "scenario": scen.scenario})
        names.append(cs.scenario)
        tables = run(cs, seeds=reps, jobs=jobs, on_done=on_done, draws=draws).tables
        costs.append(tables.costs_municipality)
        costs_gp.append(tables.costs_gp)
        expected.append(pd.DataFrame({"scenario": cs.scenario, "kommunenummer": region.municipalities["kommunenummer"].astype(str),
                                      "name": region.municipalities["name"],
                                      "expected_nok_per_inhabitant": expected_net_cost_nok_per_inhabitant_year(scaled_to_region(cs, region), region)}))
    if not names:
        raise ConfigError(f"{config}: no financing scenarios found")
    munis = region.municipalities
    n_draws = int(costs[0]["draw"].nunique()) if "draw" in costs[0] else 1
    about = pd.DataFrame({"item": ["config", "scenarios", "seeds", "parameter draws", "money", "bands", "signs", "model"],
                          "value": [str(config if not isinstance(config, Config) else cfg.scenario), ", ".join(names), str(len(reps)),
                                    f"{n_draws} (draw 0 = the config; others uniform over the uncertain inputs' prior ranges)",
                                    "2023 NOK, whole kroner", "median and 5-95 % over runs (seeds x parameter draws)",
                                    "costs positive, savings negative; net = sum of the items",
                                    "onerecord: docs/model.md (Economics), docs/bill_validation.md"]})
    return BillResult(str(munis["kommunenummer"].iloc[m]), str(munis["name"].iloc[m]), pd.concat(costs, ignore_index=True),
                      pd.concat(costs_gp, ignore_index=True), pd.concat(expected, ignore_index=True), names, about)
