"""Reading a saved pack (files only, never the model) and the facts the report quotes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import ConfigError, get_dotted
from sim.plots.labels import display_name, fmt, label, output_label
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

    def table(self, scenario: str, name: str) -> pd.DataFrame:
        """One saved table of a scenario's run directory."""
        return read_table(self.dirs[scenario], name)

    def timeseries(self, scenario: str) -> pd.DataFrame:
        """The region-level rows of a scenario's timeseries."""
        return pd.read_parquet(self.dirs[scenario] / "timeseries.parquet", filters=[("level", "==", "region")])

    def name(self, scenario: str, lang: str) -> str:
        """A scenario's display name in ``lang`` (its key when the experiment gives none)."""
        return self.exp["labels"].get(scenario, {}).get(lang, scenario)

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
            "experiment": e["name"], "band": "", "start": cfg["run"]["start_month"], "end": cfg["run"]["end_month"],
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

    # question 2: GP uptake per scenario (compare_table: median and its quantile range over seeds)
    gp = compare_table(pack.summaries, y)
    lo_q, hi_q = _qcols(gp)
    out["band"] = f"{fmt(100 * lo_q, 'int', lang)}–{fmt(hi_q, 'pct0', lang)}"
    share = gp[gp["figure"] == f"share_gps_{y}"].set_index("scenario")
    for tag, row in (("base_gp", share.loc[base]),):
        put(tag, row["median"], "pct"), put(f"{tag}_lo", row["p05"], "pct"), put(f"{tag}_hi", row["p95"], "pct")
    put("base_gp_end", pack.summaries[base]["share_gps_end"].median(), "pct")
    put("base_cov", pack.summaries[base][f"one_record_coverage_{y}"].median(), "pct")
    put("base_gain", pack.summaries[base][f"gain_realized_{y}"].median(), "pct")
    adopt = share.loc[e["adoption_scenarios"]]
    for tag, name in (("top", adopt["median"].idxmax()), ("low", adopt["median"].idxmin())):
        out[f"{tag}_name"] = pack.name(name, lang)
        put(f"{tag}_gp", adopt.at[name, "median"], "pct")
        put(f"{tag}_gp_lo", adopt.at[name, "p05"], "pct"), put(f"{tag}_gp_hi", adopt.at[name, "p95"], "pct")

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
    put("gap_mid", at_mid.max() - at_mid.min(), "pp")
    out["best_order"], out["worst_order"] = label(at_mid.idxmax(), lang), label(at_mid.idxmin(), lang)
    widest = gaps.loc[gaps["gap"].idxmax()]
    put("max_gap", widest["gap"], "pp"), put("max_gap_at", widest["share"], "pct0")
    full = pack.uptake[pack.uptake["gp_share"] == pack.uptake["gp_share"].max()]["gain_realized"].median()
    put("gain_full", full, "pct")

    # question 2: the heatmap
    h, hx = pack.heat, pack.inputs["heatmap"]
    out |= {"x_key": display_name(hx["x"], lang), "y_key": display_name(hx["y"], lang),
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
    put("cost_median", cm["nok_per_inhabitant"].median(), "nok")
    for tag, i in (("cost_min", cm["nok_per_inhabitant"].idxmin()), ("cost_max", cm["nok_per_inhabitant"].idxmax())):
        put(tag, cm.at[i, "nok_per_inhabitant"], "nok")
        out[f"{tag}_name"] = str(cm.at[i, "name"])
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
    out |= {"sens_name": s["experiment"], "sens_method": label(f"{method}_method", lang),
            "sens_index": "ST" if method == "sobol" else "mu*"}
    put("sens_rows", s["design_rows"], "int"), put("sens_reps", s["replicates"], "int"), put("sens_runs", s["runs"], "int")
    first = top[(top["output"] == f"share_gps_{y}") & (top["rank"] == 1)]
    out["driver1"] = display_name(first["parameter"].iloc[0], lang) if len(first) else "–"
    if len(first):
        raw["driver1_value"] = float(first["value"].iloc[0])

    n_assumption = int(pack.params["source"].str.contains("assumption", case=False).sum()
                       + (pack.params["source"].str.strip() == "").sum())
    put("n_params", len(pack.params), "int"), put("n_assumption", n_assumption, "int")
    return out, raw


def _nearest_level(levels: pd.Series, value: float) -> float:
    u = np.unique(levels.to_numpy(dtype=float))
    return float(u[np.argmin(np.abs(u - value))])

