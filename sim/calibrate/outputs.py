"""The calibration's tables and files: parameter table, weighted quantiles, bands, coverage,
calibrated.toml and the results folder."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibrate.settings import BASELINE_PATH, CALIBRATION_STREAM, QUANTILES, CalibrationSettings, prior_range
from sim.config import Config, get_dotted
from sim.history import DECIDED, HISTORY_END

# --------------------------------------------------------------------------- results


@dataclass
class CalibrationResult:
    """What a calibration produced; tables with exactly the columns of the files."""

    parameters: pd.DataFrame        # fitted_parameters.csv
    posterior: pd.DataFrame         # posterior.csv: one row per particle, parameter columns + weight
    generations: pd.DataFrame       # generations.csv: t, epsilon, samples, particles
    observed: pd.DataFrame          # the observed monthly series that was fitted
    decision_points: pd.DataFrame   # the option-decision points that were fitted (month, t, count, lower_bound)
    bands: pd.DataFrame             # bands.csv: month, t, series, observed, p05..p95
    coverage: pd.DataFrame          # coverage.csv: observed points against the 90% band
    forecast: pd.DataFrame          # forecast.csv
    calibrated_config: str          # text of calibrated.toml
    wall_seconds: float
    settings: CalibrationSettings
    out_dir: Path | None = None
    config_path: Path | None = None
    files: list[Path] = field(default_factory=list)
    method: str = ""                # "ABC-SMC (pyabc <version>)"
    base_config_path: Path = BASELINE_PATH  # what calibrated.toml extends
    meta: dict = field(default_factory=dict)  # calibration.json: settings, keys, wall time, config
    fitted: dict = field(default_factory=dict)  # the bill's fitted rows, solved exactly (dotted key -> value)
    particles: pd.DataFrame | None = None   # particles.csv: every particle with its log-likelihood parts (joint fit)
    data_end: str = HISTORY_END             # last month of the data fitted

    def medians(self) -> dict[str, float]:
        """Posterior median per dotted key."""
        return dict(zip(self.parameters["parameter"], self.parameters["posterior_median"]))


# --------------------------------------------------------------------------- weighted statistics


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | Sequence[float]) -> np.ndarray:
    """Quantiles of a weighted sample: the inverse of the midpoint-interpolated weighted CDF.

    With sorted x_i and normalised weights w_i, F(x_i) = sum_{j<i} w_j + w_i / 2; Q(q) interpolates
    linearly between these points (equal weights give numpy's 'hazen' quantiles).
    """
    x = np.asarray(values, float)
    w = np.asarray(weights, float)
    if x.shape != w.shape or x.size == 0 or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weighted_quantile: values and non-negative weights of equal, non-zero length required")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order] / w.sum()
    cdf = np.cumsum(w) - w / 2
    return np.interp(np.asarray(q, float), cdf, x)


def parameter_table(posterior: pd.DataFrame, cfg: Config, keys: Sequence[str]) -> pd.DataFrame:
    """fitted_parameters.csv: per key its prior range, baseline value and posterior quantiles."""
    rows = []
    w = posterior["weight"].to_numpy(float)
    for key in keys:
        lo, hi = prior_range(key)
        q = weighted_quantile(posterior[key].to_numpy(float), w, QUANTILES)
        rows.append({"parameter": key, "prior_low": lo, "prior_high": hi, "prior_median": (lo + hi) / 2,
                     "baseline_value": get_dotted(cfg, key), "posterior_median": q[2], "p05": q[0], "p25": q[1],
                     "p75": q[3], "p95": q[4],
                     "posterior_mean": float(np.average(posterior[key], weights=w)),
                     # 90% interval width relative to the prior's (0.9 (hi - lo)): 1 = the data said nothing
                     "width_ratio_90": float((q[4] - q[0]) / (0.9 * (hi - lo)))})
    return pd.DataFrame(rows)


def draw_posterior(posterior: pd.DataFrame, n_draws: int, seed: int) -> pd.DataFrame:
    """n parameter vectors resampled from the weighted posterior (multinomial, seeded)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(CALIBRATION_STREAM, 1)))
    idx = rng.choice(len(posterior), size=n_draws, replace=True, p=posterior["weight"].to_numpy(float))
    return posterior.drop(columns="weight").iloc[idx].reset_index(drop=True)



def bands_table(runs: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Per month and series, quantiles 5/25/50/75/95% over all trajectories (draws x seeds)."""
    long = runs.melt(id_vars=["t", "month"], value_vars=list(columns), var_name="series", value_name="value")
    g = long.groupby(["series", "t", "month"])["value"]
    out = g.quantile(list(QUANTILES)).unstack()
    out.columns = [f"p{round(q * 100):02d}" for q in QUANTILES]
    return out.reset_index().sort_values(["series", "t"], kind="stable").reset_index(drop=True)


def _covered(p05: float, p95: float, low: float, high: float) -> bool:
    """The 90% band [p05, p95] meets the observed range [low, high] (a point: low = high)."""
    return bool(p95 >= low - 1e-9 and p05 <= high + 1e-9)


def coverage_table(bands: pd.DataFrame, observed: pd.DataFrame, decisions: pd.DataFrame | None = None,
                   construction: dict[str, int] | None = None, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Observed points against the 90% band (p05..p95).

    ``by_construction`` marks the points that hold by how the model is set up, not by fit: ``construction``
    maps a series to the last month index t it holds by construction to (the replayed history holds the
    municipal series; the wave capacities, the history's counts, hold the municipalities live; the forced
    pilot office holds the GP lower bound); None: none. Report them apart from the points the model could miss.

    Counts and shares: covered if p05 <= observed <= p95. GP offices (a lower bound L):
    covered if p95 >= L, i.e. the band reaches the bound (any value above it is consistent).
    Monthly series are checked from the first go-live on; option-decision points (``decisions``
    with t, count, lower_bound) at their months, a lower bound covered if p95 >= it; dated count
    ranges (``counts``: t, series, low, high, e.g. the binding agreements) covered if the band meets
    [low, high] (``observed`` = low, ``observed_high`` = high; NaN for a point).
    """
    rows = []

    def add(month, t: int, series: str, low: float, high: float, lower: bool, b: pd.DataFrame) -> None:
        lo, hi = b.at[t, "p05"], b.at[t, "p95"]
        rows.append({"month": month, "t": int(t), "series": series, "observed": low, "observed_is_lower_bound": lower,
                     "p05": lo, "p50": b.at[t, "p50"], "p95": hi,
                     "covered_90": _covered(lo, hi, low, np.inf if lower else high),
                     "observed_high": np.nan if (lower or high == low) else high})

    if decisions is not None and len(decisions) and DECIDED in set(bands["series"]):
        b = bands[bands["series"] == DECIDED].set_index("t")
        for _, r in decisions.iterrows():
            add(r["month"], r["t"], DECIDED, float(r["count"]), float(r["count"]), bool(r["lower_bound"]), b)
    if counts is not None:
        for _, r in counts.iterrows():
            if r["series"] in set(bands["series"]):
                add(r["month"], r["t"], r["series"], float(r["low"]), float(r["high"]), False,
                    bands[bands["series"] == r["series"]].set_index("t"))
    first = observed.loc[observed["n_municipalities_live"] > 0, "t"].min()
    obs = observed[observed["t"] >= first]
    gp_col = "n_gp_offices_live_lower" if "n_gp_offices_live_lower" in obs else "n_gp_offices_live"
    pairs = [("n_municipalities_live", "n_municipalities_live"),
             ("share_residents_municipalities_live", "share_residents_municipalities_live"),
             ("n_gp_offices_live", gp_col)]
    for series, ocol in pairs:
        b = bands[bands["series"] == series].set_index("t")
        for _, r in obs.iterrows():
            value = float(r[ocol])
            add(r["month"], r["t"], series, value, value, ocol.endswith("_lower"), b)
    out = pd.DataFrame(rows, columns=["month", "t", "series", "observed", "observed_is_lower_bound", "p05", "p50",
                                      "p95", "covered_90", "observed_high"])
    until = out["series"].map(construction or {}).fillna(-1)
    out.insert(len(out.columns) - 1, "by_construction", (out["t"] <= until).astype(bool))
    return out


# --------------------------------------------------------------------------- the calibrated config


def calibration_comment(r: pd.Series, when: date, method: str, data_end: str) -> str:
    """The source comment of a calibrated key (``onerecord params`` shows it)."""
    return (f"calibrated: median, 90% interval [{float(r['p05']):.4g}, {float(r['p95']):.4g}], {when.isoformat()}, "
            f"data to {data_end}, {method}")


def calibrated_toml(table: pd.DataFrame, extends: str, method: str, when: date | None = None,
                    scenario: str = "calibrated", posterior: str | None = None, data_end: str = HISTORY_END,
                    fitted: dict[str, float] | None = None) -> str:
    """Text of calibrated.toml: ``extends`` the baseline and sets each posterior median.

    Each key's comment reads "calibrated: median, 90% interval [a, b], <date>, data to <end>, <method>",
    which ``onerecord params`` shows as its source; ``fitted`` (the bill's fitted rows, solved exactly)
    are set with their own comment; ``posterior`` (a file name beside calibrated.toml) adds the
    ``[calibration]`` table, so parameter draws of the config come from the posterior (:mod:`sim.draws`).
    """
    when = when or date.today()
    lines = [
        "# Generated by sim.calibrate.calibrate() (onerecord calibrate); do not edit by hand, re-run it.",
        f"# Posterior medians of the parameters fitted to the history to {data_end}",
        "# (sim/data/helseplattformen_history.csv); see docs/calibration.md.",
        f'extends = "{extends}"',
        f'scenario = "{scenario}"',
        f'description = "Baseline calibrated to the rollout to {data_end} ({method})"',
    ]
    if posterior is not None:
        lines += ["", "[calibration]", f'date = "{when.isoformat()}"', f'data_end = "{data_end}"', f'method = "{method}"',
                  f'posterior = "{posterior}"']
    by_section: dict[str, list[str]] = {}
    for _, r in table.iterrows():
        section, key = r["parameter"].split(".", 1)
        by_section.setdefault(section, []).append(
            f"{key} = {float(r['posterior_median']):.6g}   # {calibration_comment(r, when, method, data_end)}")
    for dotted, value in (fitted or {}).items():
        section, key = dotted.split(".", 1)
        by_section.setdefault(section, []).append(
            f"{key} = {float(value):.6g}   # fitted: a bill row solved exactly (docs/bill_validation.md), {when.isoformat()}")
    for section, items in by_section.items():
        lines += ["", f"[{section}]", *items]
    return "\n".join(lines) + "\n"


POSTERIOR_FILE = "posterior.csv"
"""The posterior's file name in a results folder (calibrated.toml's ``[calibration] posterior``)."""


def _when(result: CalibrationResult) -> date:
    return date.fromisoformat(result.meta["date"]) if "date" in result.meta else date.today()


def write_files(result: CalibrationResult, out_dir: str | Path,
                then: Callable[[Path, CalibrationResult], None] | None = None) -> Path:
    """The calibration's files (module docstring) into ``out_dir``; ``then(out_dir, result)`` after the tables."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rel = os.path.relpath(result.base_config_path.resolve(), out.resolve())
    text = calibrated_toml(result.parameters, rel, result.method, posterior=POSTERIOR_FILE, data_end=result.data_end,
                           fitted=result.fitted, when=_when(result))
    result.calibrated_config = result.calibrated_config or text
    if result.particles is not None:
        result.particles.to_csv(out / "particles.csv", index=False)
        result.files.append(out / "particles.csv")
    files = {"fitted_parameters.csv": result.parameters, "posterior.csv": result.posterior,
             "generations.csv": result.generations, "observed.csv": result.observed,
             "observed_decisions.csv": result.decision_points, "bands.csv": result.bands,
             "coverage.csv": result.coverage, "forecast.csv": result.forecast}
    for name, df in files.items():
        df.to_csv(out / name, index=False)
        result.files.append(out / name)
    (out / "calibrated.toml").write_text(text, encoding="utf-8")
    result.files.append(out / "calibrated.toml")
    result.out_dir = out
    if then is not None:  # the API draws the figures (sim.plots) here
        then(out, result)
    (out / "calibration.json").write_text(json.dumps(result.meta, indent=2, default=str), encoding="utf-8")
    return out



# --------------------------------------------------------------------------- folding a calibration into a scenario file


def _fmt(value: float) -> str:
    """A value as the baseline writes it: 4 significant digits, no exponent (815600000, 0.2011, 7.711)."""
    v = float(f"{float(value):.4g}")
    return str(int(v)) if v.is_integer() and abs(v) >= 1 else repr(v)


def _set_line(lines: list[str], dotted: str, value: str, comment: str | None) -> None:
    """Set ``key = value   # comment`` in the key's ``[section]`` of a TOML text (``comment`` None: keep the line's)."""
    section, key = dotted.rsplit(".", 1)
    current = ""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1].strip()
            continue
        if current == section and re.match(rf"^{re.escape(key)}\s*=", stripped):
            old = line.split("#", 1)[1].strip() if "#" in line else ""
            lines[i] = f"{key} = {value}".ljust(30) + f" # {comment if comment is not None else old}"
            return
    raise ValueError(f"{dotted}: no such line in the scenario file")


def _previous_source(line_comment: str) -> str:
    """The key's source before a calibration (a comment that is itself a calibration keeps its 'prior:' part)."""
    return line_comment.split("; prior: ", 1)[1] if line_comment.startswith("calibrated:") and "; prior: " in line_comment \
        else line_comment


def fold_into_config(config_path: str | Path, results_dir: str | Path) -> tuple[Path, Path]:
    """Fold a calibration's results folder into a scenario file (``onerecord calibrate CONFIG --apply``).

    Sets each fitted key to its posterior median (comment "calibrated: median, 90% interval [a, b],
    <date>, data to <end>, <method>; prior: <the key's earlier source>", so its data row stays named), the
    bill's fitted rows to their solved values (comments kept), writes the ``[calibration]`` table (date,
    data end, method, posterior), and copies ``posterior.csv`` beside the file as ``<stem>_posterior.csv``.
    Returns (scenario file, posterior file).
    """
    cfg_path, res = Path(config_path), Path(results_dir)
    table = pd.read_csv(res / "fitted_parameters.csv")
    meta = json.loads((res / "calibration.json").read_text(encoding="utf-8"))
    when, method, data_end = meta["date"], meta["method"], meta.get("data_end", HISTORY_END)
    lines = cfg_path.read_text(encoding="utf-8").splitlines()
    comments = {}
    current = ""
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1].strip()
        elif "=" in stripped and "#" in line:
            comments[f"{current}.{stripped.split('=', 1)[0].strip()}"] = line.split("#", 1)[1].strip()
    for _, r in table.iterrows():
        prior = _previous_source(comments.get(r["parameter"], ""))
        comment = calibration_comment(r, date.fromisoformat(when), method, data_end) + (f"; prior: {prior}" if prior else "")
        _set_line(lines, r["parameter"], _fmt(r["posterior_median"]), comment)
    for dotted, value in meta.get("fitted", {}).items():
        _set_line(lines, dotted, _fmt(value), None)
    posterior = cfg_path.with_name(f"{cfg_path.stem}_posterior.csv")
    block = ["# generated by onerecord calibrate --apply (docs/calibration.md); parameter draws use the posterior", "[calibration]",
             f'date = "{when}"', f'data_end = "{data_end}"', f'method = "{method}"', f'posterior = "{posterior.name}"']
    if "[calibration]" in [ln.split("#", 1)[0].strip() for ln in lines]:
        start = [ln.split("#", 1)[0].strip() for ln in lines].index("[calibration]")
        end = next((i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("[")), len(lines))
        start -= start > 0 and lines[start - 1].startswith("# generated by onerecord calibrate")
        end -= end < len(lines) and lines[end - 1].startswith("#")  # the next table's own comment stays
        lines[start:end] = block + ([""] if end < len(lines) else [])
    else:
        lines += ["", *block]
    pd.read_csv(res / POSTERIOR_FILE).to_csv(posterior, index=False)
    cfg_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cfg_path, posterior
