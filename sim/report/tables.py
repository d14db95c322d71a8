"""Reading a saved pack (files only, never the model) and the facts the report quotes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import ConfigError, get_dotted
from sim.plots.labels import display_name, fmt, label, output_label
from sim.report.text import name_of
from sim.report.bands import QUANTILES, band_with_share
from sim.report.text import TEXT
from sim.results import compare_table, read_manifest, read_table
from sim.sensitivity.indices import top_parameters
from sim.sweep.store import open_dataset

INPUTS_FILE = "report_inputs.json"
"""The pack's index: what was run and where it lies (written last by :func:`sim.api.report`)."""

OVERRIDE_SOURCE = "override in "
"""Source, in parameters.csv, of a key the experiment overrides (followed by the experiment file's name)."""

TOP_K = 3
"""Top drivers shown per output."""


def read_json(path: Path):
    """A JSON file's content, or None when it does not exist."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


class Pack:
    """The saved results of a pack, read from its files only (``report_inputs.json`` says where they lie)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        inputs = read_json(self.root / INPUTS_FILE)
        if inputs is None:
            raise ConfigError(f"{self.root}: no saved results ({INPUTS_FILE}); run `onerecord report EXPERIMENT` "
                              "without --rebuild-only first")
        self.inputs = inputs
        self.exp = inputs["experiment"]
        self.year = int(inputs["report_year"])
        self.dirs = {k: self.root / v for k, v in inputs["scenarios"].items()}
        for name, d in self.dirs.items():
            if not (d / "manifest.json").is_file():
                raise ConfigError(f"{d}: scenario {name} is not saved; run without --rebuild-only")
        self.manifest = read_manifest(self.dirs[self.exp["baseline"]])
        self.summaries = {k: read_table(d, "summary") for k, d in self.dirs.items()}
        self.uptake = pd.read_csv(self.root / inputs["uptake_curve"])
        self.params = pd.read_csv(self.root / inputs["parameters"], dtype=str, keep_default_na=False)
        self.sens_dir = (self.root / inputs["sensitivity"]).resolve()
        self.indices = pd.read_csv(self.sens_dir / "indices.csv")
        self.sens_summary = json.loads((self.sens_dir / "summary.json").read_text(encoding="utf-8"))
        self.heat = self._heatmap()
        self.cases = pd.read_csv(self.root / inputs["business_cases"])
        self.coverage = pd.read_csv(self.root / inputs["coverage"]) if inputs.get("coverage") else None
        self.bass = read_json(self.root / inputs["bass"] / "bass_check.json")
        self.calibration = inputs.get("calibration")
        self.smoke = bool(self.exp.get("smoke"))

    def table(self, scenario: str, name: str) -> pd.DataFrame:
        """One saved table of a scenario's run directory."""
        return read_table(self.dirs[scenario], name)

    def timeseries(self, scenario: str) -> pd.DataFrame:
        """The region-level rows of a scenario's timeseries."""
        return pd.read_parquet(self.dirs[scenario] / "timeseries.parquet", filters=[("level", "==", "region")])

    def name(self, scenario: str, lang: str) -> str:
        """A scenario's display name in ``lang``: the experiment's ``[labels]`` if it gives one, else the one
        display-name table (:func:`sim.plots.labels.display_name`)."""
        return self.exp["labels"].get(scenario, {}).get(lang) or display_name(scenario, lang)

    def _heatmap(self) -> pd.DataFrame:
        """Mean over the replicate seeds of each grid cell: x, y, value, seeds."""
        h = self.inputs["heatmap"]
        runs = open_dataset(self.root / h["dir"]).to_table(columns=[h["x"], h["y"], h["output"]]).to_pandas()
        g = runs.groupby([h["x"], h["y"]])[h["output"]]
        return pd.DataFrame({"value": g.mean(), "seeds": g.count()}).reset_index().rename(
            columns={h["x"]: "x", h["y"]: "y"})



def _qcols(table: pd.DataFrame) -> tuple[float, float]:
    """The quantiles compare_table reports, read from its column names (p05 -> 0.05)."""
    lo, hi = (c for c in table.columns if re.fullmatch(r"p\d+", c))
    return int(lo[1:]) / 100, int(hi[1:]) / 100


def uptake_gaps(curve: pd.DataFrame, at: list[float], metric: str = "gain_realized") -> pd.DataFrame:
    """``metric`` at each GP share in ``at`` per order: the median over seeds at each step, linearly
    interpolated in gp_share; columns share, order, value, then gap = max - min over orders per share."""
    rows = []
    for order, g in curve.groupby("order", sort=False):
        med = g.groupby("gp_share")[metric].median()
        rows += [{"share": a, "order": order, "value": float(np.interp(a, med.index, med.to_numpy()))} for a in at]
    df = pd.DataFrame(rows)
    return df.assign(gap=df.groupby("share")["value"].transform(lambda v: v.max() - v.min()))


def uptake_gap_runs(curve: pd.DataFrame, at: float, metric: str = "gain_realized") -> pd.DataFrame:
    """The gap between the best and the worst recruitment order at GP share ``at``, one value per run
    (draw, seed): each order's ``metric`` interpolated linearly in gp_share; an order with one seed only
    (the deterministic orders) takes that value in every seed of its draw. Columns draw, seed, value."""
    curve = curve if "draw" in curve else curve.assign(draw=0)
    rows = [{"draw": d, "order": o, "seed": s_, "v": float(np.interp(at, g["gp_share"], g[metric]))}
            for (d, o, s_), g in curve.sort_values("gp_share").groupby(["draw", "order", "seed"])]
    df = pd.DataFrame(rows)
    seeds = sorted(df["seed"].unique())
    full = []
    for (d, o), g in df.groupby(["draw", "order"]):
        v = g.set_index("seed")["v"]
        full += [{"draw": d, "order": o, "seed": s_, "v": v.get(s_, v.mean()) if len(v) > 1 else v.iloc[0]}
                 for s_ in seeds]
    wide = pd.DataFrame(full).groupby(["draw", "seed"])["v"]
    return (wide.max() - wide.min()).rename("value").reset_index()


def drivers_verdict(top: pd.DataFrame) -> dict[str, int]:
    """Whether the top drivers may be named: ``refused`` (1 or 0) when any top index's interval is as wide
    as the index (conf >= value, or no interval) or a Sobol total index exceeds one by more than its
    interval (ST > 1 + conf: too few samples); the counts ``n_wide``, ``n_above_one`` and ``n_top``."""
    conf, value = top["conf"].astype(float), top["value"].astype(float)
    wide = ~(conf < value)
    above = (top["index"] == "ST") & (value > 1 + conf)
    return {"refused": int(bool(wide.any() or above.any())), "n_wide": int(wide.sum()),
            "n_above_one": int(above.sum()), "n_top": len(top)}


def coverage_split(coverage: pd.DataFrame) -> dict[str, object]:
    """Coverage of the observed points by the 90 % band, the points the model could miss apart from those
    that hold by construction (column ``by_construction``; ``by_replay`` in older tables): ``n_free``,
    ``n_free_covered``, ``n_constructed``, ``n_constructed_covered`` and ``constructed_by_series``
    (series -> count)."""
    col = "by_construction" if "by_construction" in coverage else "by_replay"
    built = coverage[col].astype(bool)
    free = coverage[~built]
    return {"n_free": int(len(free)), "n_free_covered": int(free["covered_90"].astype(bool).sum()),
            "n_constructed": int(built.sum()), "n_constructed_covered": int(coverage[built]["covered_90"].astype(bool).sum()),
            "constructed_by_series": coverage[built].groupby("series", sort=False).size().to_dict()}


def municipal_costs(costs: pd.DataFrame, year: int) -> pd.DataFrame:
    """Net NOK per inhabitant per joined municipality in ``year``, median over the seeds in which it had
    joined: kommunenummer, name, population, nok_per_inhabitant."""
    sel = costs[(costs["year"] == year) & costs["joined"].astype(bool)]
    g = sel.groupby(["kommunenummer", "name", "population"])["net_cost_nok_per_inhabitant"].median()
    return g.rename("nok_per_inhabitant").reset_index()


def who_pays_npv(who: pd.DataFrame) -> pd.DataFrame:
    """Pays, gains and net (NPV, NOK) per actor: medians over seeds, actors in file order."""
    cols = ["pays_npv_nok", "gains_npv_nok", "net_npv_nok"]
    return who.groupby("actor", sort=False)[cols].median()


def municipal_payback_year(costs: pd.DataFrame) -> float:
    """The year the municipalities' cumulative account turns even, from one run's ``costs_municipality``:

        A(Y) = sum_{y <= Y} sum_m (gains_nok - net_cost_nok)_{m, y}      (undiscounted NOK)
        payback = min{Y : A(Y) >= 0 and A(y) < 0 for some y < Y}

    The first year of a horizon with no cost at all; inf ("never") when A stays below zero to the
    horizon's end. Gains are the municipal search hours saved, valued at the nurse's wage (time, not
    cash; docs/model.md 7.14)."""
    by_year = costs.groupby("year")[["gains_nok", "net_cost_nok"]].sum().sort_index()
    acc = (by_year["gains_nok"] - by_year["net_cost_nok"]).cumsum()
    below = np.flatnonzero(acc.to_numpy() < 0)
    if len(below) == 0:
        return float(acc.index[0])
    after = np.flatnonzero((acc.to_numpy() >= 0) & (np.arange(len(acc)) > below[0]))
    return float(acc.index[after[0]]) if len(after) else float("inf")


def gp_share_gps_gaining(costs_gp: pd.DataFrame) -> float:
    """The GP-weighted share of offices for which joining pays at the scenario's prices, from one run's
    ``costs_gp``: sum of n_gps where money_join_nok_per_gp_year >= 0, over all GPs (docs/model.md 7.10)."""
    w = costs_gp["n_gps"].to_numpy(dtype=float)
    return float(w[costs_gp["money_join_nok_per_gp_year"].to_numpy(dtype=float) >= 0].sum() / w.sum())


def top_drivers(indices: pd.DataFrame, k: int = TOP_K) -> pd.DataFrame:
    """The k parameters with the largest ST (Sobol) or mu* (Morris) per output
    (:func:`sim.sensitivity.top_parameters`)."""
    return top_parameters(indices, k)




def facts(pack: Pack, lang: str) -> tuple[dict[str, str], dict[str, float]]:
    """Every number (and name) the text quotes: (formatted, raw values). Raw values go to numbers.json."""
    e, y, base = pack.exp, pack.year, pack.exp["baseline"]
    raw: dict[str, float] = {}
    out: dict[str, str] = {}

    def put(key: str, value: float, kind: str) -> None:
        raw[key] = float(value)
        out[key] = fmt(value, kind, lang)

    man, cfg = pack.manifest, pack.manifest["config"]
    reg = man.get("region", {})
    out |= {"version": man["package_version"], "commit": (man.get("git_commit") or "?")[:8],
            "experiment": f"`{e['name']}`", "band": "", "start": cfg["run"]["start_month"], "end": cfg["run"]["end_month"],
            "region_text": TEXT[lang]["region_real" if cfg["region"]["kind"] == "real" else "region_synthetic"],
            "base_name": pack.name(base, lang)}
    out["year"] = str(y)
    out["end_year"] = cfg["run"]["end_month"][:4]
    put("n_scenarios", len(e["scenarios"]), "int")
    put("seeds", e["seeds"], "int")
    for k, key in (("n_munis", "municipalities"), ("n_residents", "residents"), ("n_gps", "gps"),
                   ("n_offices", "gp_offices"), ("n_hospitals", "hospitals")):
        put(k, reg.get(key, float("nan")), "int")
    out["base_year"] = str(cfg["economics"]["base_year"])
    put("discount", cfg["economics"]["discount_rate"], "pct")

    # headline numbers: median and 5-95 % band over runs (draws x seeds), the parameters' share of the variance
    lo_q, hi_q = QUANTILES
    out["band"] = f"{fmt(100 * lo_q, 'int', lang)}–{fmt(hi_q, 'pct0', lang)}"
    put("band90", hi_q - lo_q, "pct0")
    never = TEXT[lang]["never"]

    def put_band(tag: str, runs: pd.DataFrame, kind: str) -> None:
        b = band_with_share(runs)
        for suffix, key in (("", "median"), ("_lo", "p05"), ("_hi", "p95")):
            v = b[key]
            if kind in ("year", "years") and np.isinf(v):
                raw[tag + suffix], out[tag + suffix] = float("inf"), never
            elif kind == "year":
                raw[tag + suffix], out[tag + suffix] = float(v), "–" if np.isnan(v) else str(int(round(v)))
            else:
                put(tag + suffix, v, "num" if kind == "years" else kind)
        put(f"{tag}_par", b["param_share"], "pct0")

    def col_runs(table: pd.DataFrame, column: str) -> pd.DataFrame:
        t = table if "draw" in table else table.assign(draw=0)
        return t[["draw", "seed", column]].rename(columns={column: "value"})

    sb = pack.summaries[base]
    put("n_draws", sb["draw"].nunique() if "draw" in sb else 1, "int")
    put("n_runs", len(sb), "int")
    put_band("base_gp", col_runs(sb, f"share_gps_{y}"), "pct")
    put_band("base_gp_end", col_runs(sb, "share_gps_end"), "pct")
    put_band("base_cov", col_runs(sb, f"one_record_coverage_{y}"), "pct")
    put_band("base_gain", col_runs(sb, f"gain_realized_{y}"), "pct")
    gp = compare_table(pack.summaries, y)
    share = gp[gp["figure"] == f"share_gps_{y}"].set_index("scenario")
    adopt = share.loc[e["adoption_scenarios"]]
    for tag, name in (("top", adopt["median"].idxmax()), ("low", adopt["median"].idxmin())):
        out[f"{tag}_name"] = pack.name(name, lang)
        put_band(f"{tag}_gp", col_runs(pack.summaries[name], f"share_gps_{y}"), "pct")
    put_band("cost_median", col_runs(sb, f"nok_per_inhabitant_median_municipality_{y}"), "nok")

    # business cases (business_cases.csv: one row per run and scenario)
    cases = pack.cases[pack.cases["scenario"] == base]
    put_band("gp_be", col_runs(cases, "gp_break_even_licence_nok_per_gp_year"), "nok")
    put("gp_licence", cases["gp_licence_nok_per_gp_year"].median(), "nok")
    put_band("gp_gain", col_runs(cases, "gp_share_gps_gaining"), "pct")
    put_band("gp_payback", col_runs(cases, "gp_payback_years"), "years")
    put_band("muni_payback", col_runs(cases, "muni_payback_year"), "year")

    # question 1: the uptake curve
    u = e["uptake_curve"]
    gaps = uptake_gaps(pack.uptake, u["at"])
    mid = min(u["at"], key=lambda a: abs(a - 0.5))
    at_mid = gaps[gaps["share"] == mid].set_index("order")["value"]
    put("mid", mid, "pct0")
    put("n_orders", pack.uptake["order"].nunique(), "int")
    put("steps", pack.uptake["gp_share"].nunique(), "int")
    put("useeds", u["seeds"], "int")
    put("best_mid", at_mid.max(), "pct"), put("worst_mid", at_mid.min(), "pct")
    put_band("gap_mid", uptake_gap_runs(pack.uptake, mid), "pp")
    out["best_order"], out["worst_order"] = label(at_mid.idxmax(), lang), label(at_mid.idxmin(), lang)
    widest = gaps.loc[gaps["gap"].idxmax()]
    put("max_gap", widest["gap"], "pp"), put("max_gap_at", widest["share"], "pct0")
    full = pack.uptake[pack.uptake["gp_share"] == pack.uptake["gp_share"].max()]["gain_realized"].median()
    put("gain_full", full, "pct")

    # question 2: the heatmap
    h, hx = pack.heat, pack.inputs["heatmap"]
    out |= {"x_key": name_of(hx["x"], lang), "y_key": name_of(hx["y"], lang),
            "output": output_label(hx["output"], lang, when=False)}
    put("n_cells", len(h), "int"), put("h_seeds", h["seeds"].min(), "int")
    for tag, v in (("x_min", h["x"].min()), ("x_max", h["x"].max()), ("y_min", h["y"].min()), ("y_max", h["y"].max())):
        put(tag, v, "num")
    for tag, i in (("h_min", h["value"].idxmin()), ("h_max", h["value"].idxmax())):
        put(tag, h.at[i, "value"], "pct"), put(f"{tag}_x", h.at[i, "x"], "num"), put(f"{tag}_y", h.at[i, "y"], "num")
    x_ref, y_ref = _nearest_level(h["x"], get_dotted(cfg, hx["x"])), _nearest_level(h["y"], get_dotted(cfg, hx["y"]))
    put("x_ref", x_ref, "num"), put("y_ref", y_ref, "num")
    cell = h.set_index(["x", "y"])["value"]
    put("h_xhi", cell.get((h["x"].max(), y_ref), np.nan), "pct"), put("h_xlo", cell.get((h["x"].min(), y_ref), np.nan), "pct")
    put("h_ylo", cell.get((x_ref, h["y"].min()), np.nan), "pct"), put("h_yhi", cell.get((x_ref, h["y"].max()), np.nan), "pct")

    # question 3: cost per inhabitant and who pays
    cm = municipal_costs(pack.table(base, "costs_municipality"), y)
    for tag, i in (("cost_min", cm["nok_per_inhabitant"].idxmin()), ("cost_max", cm["nok_per_inhabitant"].idxmax())):
        put(tag, cm.at[i, "nok_per_inhabitant"], "nok")
        out[f"{tag}_name"] = str(cm.at[i, "name"])
    put("cost_mid", cm["nok_per_inhabitant"].median(), "nok")  # the q3 table's median, not cost_median (over runs)
    put("n_joined", pack.summaries[base][f"n_municipalities_live_{y}"].median(), "int")
    who = who_pays_npv(pack.table(base, "who_pays_who_gains"))
    for tag, actor, col in (("muni_pays", "municipalities", "pays_npv_nok"), ("muni_gains", "municipalities", "gains_npv_nok"),
                            ("gp_pays", "gps", "pays_npv_nok"), ("gp_gains", "gps", "gains_npv_nok"),
                            ("pat_gains", "patients", "gains_npv_nok"), ("state_pays", "state", "pays_npv_nok")):
        put(tag, who.at[actor, col] if actor in who.index else np.nan, "mnok")

    # question 4: sensitivity
    s = pack.sens_summary
    top = top_drivers(pack.indices)
    method = s["design"]
    out |= {"sens_name": f"`{s['experiment']}`", "sens_method": label(f"{method}_method", lang),
            "sens_index": "ST" if method == "sobol" else "mu*"}
    put("sens_rows", s["design_rows"], "int"), put("sens_reps", s["replicates"], "int"), put("sens_runs", s["runs"], "int")
    first = top[(top["output"] == f"share_gps_{y}") & (top["rank"] == 1)]
    verdict = drivers_verdict(top)
    raw |= {f"drivers_{k}": float(v) for k, v in verdict.items()}
    reasons = [TEXT[lang][k].format(**{n: fmt(v, "int", lang) for n, v in verdict.items()})
               for k, n in (("drivers_wide", "n_wide"), ("drivers_above", "n_above_one")) if verdict[n]]
    out["driver_reason"] = "; ".join(reasons)
    out["driver1"] = name_of(first["parameter"].iloc[0], lang) if len(first) else "–"
    if len(first) and not verdict["refused"]:
        raw["driver1_value"] = float(first["value"].iloc[0])
    weak = list(dict.fromkeys(top[top["rank"] == 1]["parameter"]))
    out["weak_drivers"] = TEXT[lang]["not_ranked"] if verdict["refused"] else ", ".join(name_of(k, lang) for k in weak)

    n_assumption = int(pack.params["source"].str.contains("assumption", case=False).sum()
                       + (pack.params["source"].str.strip() == "").sum())
    put("n_params", len(pack.params), "int"), put("n_assumption", n_assumption, "int")
    weak_assumed = assumed_uncertain(pack.params)
    put("n_uncertain", int((pack.params["role"] == "uncertain").sum()) if "role" in pack.params else 0, "int")
    put("n_weak_assumed", len(weak_assumed), "int")
    ranked = influence(pack.indices)
    varied = [k for k in ranked.index if k in set(weak_assumed)]
    out["weak_assumed"] = ", ".join(name_of(k, lang) for k in varied) or "–"

    # calibration, coverage, Bass
    cal = pack.calibration or {}
    out |= {"cal_method": str(cal.get("method", "")), "cal_date": str(cal.get("date", "")),
            "cal_data_end": str(cal.get("data_end", HISTORY_END))}
    sources = pd.Series(pack.inputs.get("draw_sources") or {}, dtype=str)
    put("n_posterior", int((sources == "posterior").sum()), "int"), put("n_prior", int((sources == "prior").sum()), "int")
    out["posterior_keys"] = ", ".join(name_of(k, lang) for k in sources[sources == "posterior"].index) or "–"
    if pack.coverage is not None:
        split = coverage_split(pack.coverage)
        for k in ("n_free", "n_free_covered", "n_constructed", "n_constructed_covered"):
            put(k, split[k], "int")
        out["constructed"] = "; ".join(
            TEXT[lang].get(f"why_{series}", TEXT[lang]["why_other"]).format(n=fmt(n, "int", lang), series=display_name(series, lang))
            for series, n in split["constructed_by_series"].items()) or "–"
    b = pack.bass
    put("bass_seeds", b["n_seeds"], "int"), put("bass_gap", b["max_gap"], "pp"), put("bass_tol", b["tolerance_at_max"], "pp")
    put("bass_z", b["z"], "num"), put("bass_outside", b["months_outside"], "int")
    raw["bass_passed"] = float(b["passed"])
    out["bass_verdict"] = TEXT[lang]["pass" if b["passed"] else "fail"]
    return out, raw


HISTORY_END = "2023-12"
"""The last month of fitted history an uncalibrated pack names (sim.history.HISTORY_END; not imported: a view)."""


def influence(indices: pd.DataFrame) -> pd.Series:
    """Each parameter's largest main index (ST or mu*) over the outputs, largest first."""
    main = indices[indices["index"].isin(["ST", "mu_star"])]
    return main.groupby("parameter")["value"].max().sort_values(ascending=False, kind="stable")


def assumed_uncertain(params: pd.DataFrame) -> list[str]:
    """The uncertain inputs (role ``uncertain``) whose source is an assumption alone (it says "assumption" and
    names no data row, no ``PS:`` and no file), from the pack's parameters.csv."""
    if "role" not in params:
        return []
    src = params["source"].fillna("").str.strip()
    alone = (src == "") | (src.str.lower().str.startswith("assumption")
                           & ~src.str.contains(r"PS:|\.csv|DESIGN|issue|fitted|calibrated", case=False))
    return params.loc[(params["role"] == "uncertain") & alone, "key"].tolist()


def _nearest_level(levels: pd.Series, value: float) -> float:
    u = np.unique(levels.to_numpy(dtype=float))
    return float(u[np.argmin(np.abs(u - value))])

