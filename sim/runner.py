"""One run as a function: (config, replicate) -> tidy tables; replicates in parallel.

A replicate's seed is ``SeedSequence(cfg.run.seed, spawn_key=(replicate,))`` on every
executor, so the same config and replicate give identical tables whether they run
alone, in a pool of 1 or 2 workers, or on Dask. The region and the care network depend
only on the region and network sections, so they are built once per :class:`sim.builds.BuildCache`
and reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext

import numpy as np
import pandas as pd

from sim.builds import BuildCache
from sim.config import Config
from sim import interrupt
from sim.economics import on_platform_by_month, run_economics
from sim.model import MONTHLY_AGGREGATION, RolloutModel
from sim.municipal_decision import DECLINED
from sim.parallel import Executor, LocalExecutor, SerialExecutor, blas_single_thread
from sim.results import RunTables

# Region-level columns copied from the model's monthly table into the timeseries.
ACTOR_TYPES: dict[str, tuple[str, str]] = {
    # key: (adopted count column, share column) of the model's monthly table
    "hospital": ("n_hospitals_live", "share_hospitals_live"),
    "municipality": ("n_municipalities_live", "share_municipalities_live"),
    "gp_office": ("n_gp_offices_live", "share_gp_offices"),
    "gp": ("n_gps_live", "share_gps"),
}

STOCK_COLUMNS: tuple[str, ...] = tuple(c for c, agg in MONTHLY_AGGREGATION.items() if agg == "stock")
FLOW_COLUMNS: tuple[str, ...] = tuple(c for c, agg in MONTHLY_AGGREGATION.items() if agg == "flow")
"""The summary's columns, from the one declaration (sim.model.MONTHLY_AGGREGATION): stocks are read
at December of the report year, flows summed over its months."""


def replicate_seed(cfg: Config, replicate: int) -> np.random.SeedSequence:
    """The seed of replicate r: ``SeedSequence(cfg.run.seed, spawn_key=(r,))``."""
    return np.random.SeedSequence(cfg.run.seed, spawn_key=(int(replicate),))


# --------------------------------------------------------------------------- tables from a model


def _muni_level(cfg: Config, model, region, months: pd.Series) -> pd.DataFrame:
    """Per municipality and month: live (0/1), the share of its GPs on the platform, and its decision
    stage as 0/1 columns: option_exercised (ever), binding_agreement (ever), deferred (its latest
    answer a deferral or postponement it still waits on), declined."""
    n_t, n_m = cfg.n_months, len(region.municipalities)
    live = on_platform_by_month(model.muni_live_month, n_t).T.astype(np.int64)  # (month, municipality)
    pr = region.practices
    join = np.asarray(model.gp_join_month)
    joined_gps = np.zeros((n_t + 1, n_m))
    ok = join >= 0
    np.add.at(joined_gps, (join[ok], pr["muni_idx"].to_numpy()[ok]), pr["n_gps"].to_numpy()[ok])
    joined_gps = np.cumsum(joined_gps[:n_t], axis=0)
    gps_total = np.bincount(pr["muni_idx"], weights=pr["n_gps"], minlength=n_m)
    return pd.DataFrame({
        "t": np.repeat(np.arange(n_t), n_m),
        "month": np.repeat(months.to_numpy(), n_m),
        "level": "municipality",
        "key": np.tile(region.municipalities["kommunenummer"].to_numpy(), n_t),
        "n_adopted": live.ravel().astype(float),
        "n_total": 1.0,
        "share_adopted": live.ravel().astype(float),
        "share_gps": (joined_gps / gps_total[None, :]).ravel(),
        **_stage_columns(model, n_t, n_m, DECLINED),
    })


def _stage_columns(model, n_t: int, n_m: int, declined_code: int) -> dict[str, np.ndarray]:
    """The (month, municipality) stage indicators, raveled month-major like the other columns."""
    h = model.stage_by_month()
    return {"option_exercised": h["option"][:n_t].astype(float).ravel(),
            "binding_agreement": h["bound"][:n_t].astype(float).ravel(),
            "deferred": h["deferred"][:n_t].astype(float).ravel(),
            "declined": (h["stage"][:n_t] == declined_code).astype(float).ravel()}


def timeseries_table(cfg: Config, replicate: int, model, region, monthly: pd.DataFrame | None = None) -> pd.DataFrame:
    """The tidy timeseries of one run: region, actor-type and municipality rows per month.

    Region rows (level "region", key "region") carry every monthly model column; actor-type
    rows (level "actor_type", key hospital | municipality | gp_office | gp) carry n_adopted,
    n_total and share_adopted; municipality rows (key = kommunenummer) carry live (n_adopted,
    share_adopted in {0, 1}) and share_gps. ``monthly``: the model's :meth:`monthly` table when
    the caller has it already (None: built here).
    """
    monthly = (model.monthly() if monthly is None else monthly).reset_index(drop=True)
    region_rows = monthly.assign(level="region", key="region")
    totals = {"hospital": len(region.hospitals), "municipality": len(region.municipalities),
              "gp_office": len(region.practices), "gp": region.n_gps}
    actor_rows = [
        pd.DataFrame({"t": monthly["t"], "month": monthly["month"], "level": "actor_type", "key": k,
                      "n_adopted": monthly[n].astype(float), "n_total": float(totals[k]), "share_adopted": monthly[s]})
        for k, (n, s) in ACTOR_TYPES.items()
    ]
    ts = pd.concat([region_rows, *actor_rows, _muni_level(cfg, model, region, monthly["month"])], ignore_index=True)
    ts["month"] = ts["month"].astype("datetime64[ms]")  # Parquet's unit, so a read-back frame is equal
    ts.insert(0, "seed", int(replicate))
    ts.insert(0, "scenario", cfg.scenario)
    front = ["scenario", "seed", "t", "month", "level", "key", "n_adopted", "n_total", "share_adopted"]
    return ts[front + [c for c in ts.columns if c not in front]]


def _year_figures(monthly: pd.DataFrame, months: pd.DatetimeIndex, suffix: str) -> dict[str, float]:
    """Stocks at the last month of the window, flows summed over the window's months."""
    if len(months) == 0:
        return {f"{c}_{suffix}": float("nan") for c in (*STOCK_COLUMNS, *FLOW_COLUMNS)}
    sel = monthly[monthly["month"].isin(months)]
    last = sel[sel["month"] == months.max()].iloc[0]
    out = {f"{c}_{suffix}": float(last[c]) for c in STOCK_COLUMNS}
    out |= {f"{c}_{suffix}": float(sel[c].sum()) for c in FLOW_COLUMNS}
    return out


def summary_columns(cfg: Config) -> list[str]:
    """The figures of a summary row, in order (every column but ``scenario`` and ``seed``), known before a run."""
    suffixes = (str(cfg.run.report_year), "end")
    return [*(f"{c}_{s}" for s in suffixes for c in (*STOCK_COLUMNS, *FLOW_COLUMNS)),
            *(f"nok_per_inhabitant_median_municipality_{s}" for s in suffixes),
            "gp_payback_years_median", "npv_municipal_net_cost_nok"]


def summary_row(cfg: Config, replicate: int, monthly: pd.DataFrame, econ: dict[str, pd.DataFrame]) -> dict:
    """One summary row: report-year and end-of-horizon figures (stocks at December, flows summed)."""
    y = cfg.run.report_year
    month = pd.to_datetime(monthly["month"])
    in_year = pd.DatetimeIndex(month[month.dt.year == y])
    in_year = in_year if len(in_year) == 12 else pd.DatetimeIndex([])
    last12 = pd.DatetimeIndex(month.iloc[-12:])
    row: dict = {"scenario": cfg.scenario, "seed": int(replicate)}
    row |= _year_figures(monthly.assign(month=month), in_year, str(y))
    row |= _year_figures(monthly.assign(month=month), last12, "end")
    cm = econ["costs_municipality"]
    for suffix, year in ((str(y), y), ("end", int(last12.max().year))):
        sel = cm[(cm["year"] == year) & cm["joined"].astype(bool)]
        row[f"nok_per_inhabitant_median_municipality_{suffix}"] = (
            float(sel["net_cost_nok_per_inhabitant"].median()) if len(sel) else float("nan"))
    gp = econ["costs_gp"]
    joined = gp[gp["joined_month"] >= 0]
    row["gp_payback_years_median"] = float(joined["payback_years"].median()) if len(joined) else float("nan")
    if "npv_net_cost_nok" in cm.columns:
        row["npv_municipal_net_cost_nok"] = float(cm.drop_duplicates("kommunenummer")["npv_net_cost_nok"].sum())
    return row


# --------------------------------------------------------------------------- one run


def simulate(cfg: Config, replicate: int, builds: BuildCache | None = None):
    """Build (or take from ``builds``) the region and network and run the model for one replicate;
    returns (model, region, network)."""
    region, network = (builds if builds is not None else BuildCache()).get(cfg)
    model = RolloutModel(cfg, region=region, network=network, seed=replicate_seed(cfg, replicate))
    model.run()
    return model, region, network


def _economics(model, region, network, monthly: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The economics tables of a finished model (its config: money frames scaled to the region);
    ``monthly`` is the model's :meth:`monthly` table."""
    return run_economics(model.cfg, region, np.asarray(model.muni_live_month), np.asarray(model.gp_join_month),
                         monthly, model.gp_valuation(), no_platform_metrics=no_platform_by_month(network, model.cfg.n_months),
                         trust_live_month=np.array([h.live_t for h in model._hospitals], dtype=np.int64))


def no_platform_by_month(network, n_months: int) -> pd.DataFrame:
    """The network metrics with nobody on the platform, one row per month t (the status quo moves with t)."""
    out = network.timeline(np.zeros(network.n_providers))
    return out[out["t"] < n_months]


def run_one(cfg: Config, replicate: int, builds: BuildCache | None = None, draw: int = 0) -> RunTables:
    """All tables of one replicate run of one parameter draw (scenario, draw and seed columns added)."""
    model, region, network = simulate(cfg, replicate, builds)
    monthly = model.monthly()  # built once: the economics, the timeseries and the summary read it
    econ = _economics(model, region, network, monthly)
    tag = {"scenario": cfg.scenario, "draw": int(draw), "seed": int(replicate)}

    def tagged(df: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([pd.DataFrame(tag, index=df.index), df], axis=1)

    return RunTables(
        timeseries=with_draw(timeseries_table(cfg, replicate, model, region, monthly), draw),
        summary=with_draw(pd.DataFrame([summary_row(cfg, replicate, monthly, econ)]), draw),
        costs_municipality=tagged(econ["costs_municipality"]),
        costs_gp=tagged(econ["costs_gp"]),
        who_pays_who_gains=tagged(econ["who_pays_who_gains"]),
    )


def with_draw(df: pd.DataFrame, draw: int) -> pd.DataFrame:
    """``df`` with a ``draw`` column (int64) right after ``scenario``."""
    df.insert(df.columns.get_loc("scenario") + 1, "draw", np.int64(draw))
    return df


def summarise_model(cfg: Config, replicate: int, model, region, network) -> dict:
    """The summary row of a model that has run: economics, then report-year and end figures."""
    monthly = model.monthly()
    return summary_row(cfg, replicate, monthly, _economics(model, region, network, monthly))


def summarise_run(cfg: Config, replicate: int, builds: BuildCache | None = None) -> dict:
    """The summary row of one replicate run (what sweeps keep)."""
    model, region, network = simulate(cfg, replicate, builds)
    return summarise_model(cfg, replicate, model, region, network)


# --------------------------------------------------------------------------- replicates


_WORKER: dict[str, BuildCache] = {}
"""A pool worker's builds (read only by :func:`_pinned_run_one`; filled before the fork by
:func:`replicate_pool`'s ``warm``, so forked workers start with the region and network built)."""


def _worker_builds() -> BuildCache:
    return _WORKER.setdefault("builds", BuildCache())


def _pinned_run_one(job: tuple[Config, int, int]) -> RunTables:
    """run_one of a (config, replicate, draw) job in a pool worker, with the worker's builds, BLAS
    pinned to one thread."""
    cfg, replicate, draw = job
    with blas_single_thread():
        return run_one(cfg, replicate, _worker_builds(), draw=draw)


def replicate_pool(jobs: int, warm: Config | None = None) -> LocalExecutor:
    """A local pool of ``jobs`` workers for :func:`run_replicates` (not started: enter it, or
    ``.start()`` it to keep it open call after call); with ``warm``, its workers fork with that
    config's region and network built."""
    return LocalExecutor(jobs, ("sim.runner", "sim.model"),
                         before_fork=None if warm is None else (lambda: _worker_builds().get(warm)))


def run_replicates(cfg: Config | Sequence[Config], replicates: Iterable[int], jobs: int = 1,
                   on_done: Callable[[int], None] | None = None, pool: Executor | None = None,
                   builds: BuildCache | None = None) -> RunTables:
    """Run replicates of one config, or of each parameter draw's config (``cfg`` a list: draw d is
    ``cfg[d]``), on ``jobs`` local workers (:func:`replicate_pool`; this process when jobs <= 1);
    the tables are stacked in (draw, replicate) order. Replicate r has the same seed in every draw.
    ``on_done(replicate)`` is called once per finished (draw, replicate) run.

    ``builds``: the regions and networks of runs in this process (default: a new cache).
    ``pool``: an open executor to run on instead (left open for the next call, its workers' builds
    warm). If ``on_done`` raises, the runs not yet started are cancelled and the error propagates
    (how a caller abandons a run that a newer request superseded)."""
    cfgs = [cfg] if isinstance(cfg, Config) else list(cfg)
    builds = builds if builds is not None else BuildCache()
    reps = list(replicates)
    runs = [(cfgs[d], r, d) for d in range(len(cfgs)) for r in reps]

    def done(i: int) -> None:
        interrupt.check()  # a Ctrl-C that a finalizer swallowed stops the run here
        if on_done:
            on_done(runs[i][1])

    if pool is None and (jobs <= 1 or len(runs) <= 1):
        mine = builds if builds is not None else BuildCache()
        return RunTables.concat(SerialExecutor().map(lambda job: run_one(job[0], job[1], mine, draw=job[2]), runs,
                                                     on_done=done))
    with replicate_pool(jobs, warm=cfgs[0]) if pool is None else nullcontext(pool) as ex:
        return RunTables.concat(ex.map(_pinned_run_one, runs, on_done=done))
