"""Global sensitivity and scenario discovery: which assumptions decide the answer.

:func:`sensitivity` runs (or resumes) an experiment's sweep through :func:`sim.sweep.run_sweep`,
averages every output over the replicate seeds of each design row, and writes, under
``<out>/<experiment>/sensitivity/``:

* ``indices.csv``: one long table ``output, parameter, method, index, value, conf`` with the Sobol
  indices S1 and ST (and S2 with ``second_order``; ``SALib.analyze.sobol``, Saltelli 2010 and
  Jansen 1999 estimators) or the Morris statistics mu*, mu and sigma (``SALib.analyze.morris``,
  Campolongo et al. 2007); ``conf`` is the half-width of the bootstrap confidence interval
  (``conf_level``, default 95 %), NaN where SALib gives none (Morris mu and sigma);
* ``seed_variance.csv``: how much of each output's variance the replicate seeds carry;
* ``tornado.csv`` (+ ``tornado_runs.csv``): one parameter at a time at its low and high bound,
  the others at their base-scenario values, run through the same evaluator and seeds;
* ``ranking.csv``: the top three parameters per output by ST (or mu*) and by tornado swing;
* ``prim_boxes.csv`` and ``prim_trajectory.csv``: PRIM scenario discovery
  (``ema_workbench.analysis.prim``) of the policy-lever ranges that reach a target;
* ``summary.json`` and ``figures/`` (PDF and PNG, 300 dpi).

Elementary effects are computed on the unit cube: a Morris mu* is the change of the output over
a parameter's whole range (for y = c x on [low, high], mu* = c (high - low)). Options live in the
experiment file's ``[analysis]`` table (:class:`Analysis`, read by :func:`load_analysis`).
matplotlib and ema_workbench are imported inside the functions that need them.
"""

from __future__ import annotations

import json
import operator
import re
import time
import warnings
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.config import Config, ConfigError, format_validation_error
from sim.sweep import Experiment, base_config, load_experiment, make_design, open_dataset, run_sweep, sweep_path
from sim.sweep.experiment import DUMMY_PREFIX, design_hash, expand_runs, unit_sample

DEFAULT_OUTPUTS = ("share_gps_2030", "one_record_coverage_2030", "gain_realized_2030",
                   "nok_per_inhabitant_median_municipality_2030")
"""The outputs an analysis needs at least (DESIGN.md question 4)."""

POLICY_LEVERS = ("gp_price.licence_nok_per_gp_year", "agreement.subsidy_nok_per_gp_year",
                 "functionality.improvement_per_release", "financing.state_share")
"""Scenario parameters a policy maker sets: the default PRIM dimensions."""

INDEX_COLUMNS = ["output", "parameter", "method", "index", "value", "conf"]


class Analysis(BaseModel):
    """The ``[analysis]`` table of an experiment file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outputs: list[str] | None = Field(None, description="Outputs to analyse (default: every output of the experiment)")
    conf_level: float = Field(0.95, gt=0, lt=1, description="Confidence level of the bootstrap intervals")
    num_resamples: int = Field(1000, ge=10, description="Bootstrap resamples of the confidence intervals")
    tornado: bool = Field(True, description="Run the one-at-a-time tornado around the base scenario")
    tornado_replicates: int | None = Field(None, ge=1, description="Replicate seeds per tornado point (default: the experiment's)")
    target: str | None = Field(None, description="PRIM target, e.g. 'one_record_coverage_2030 >= 0.8' (none: no PRIM)")
    prim_levers: list[str] | None = Field(None, description="PRIM dimensions (default: the policy levers the experiment varies)")
    prim_threshold: float = Field(0.8, gt=0, le=1, description="Density (share of a box's runs reaching the target) a box must reach")
    prim_peel_alpha: float = Field(0.05, gt=0, lt=0.5, description="Share of the box peeled off per step")
    prim_mass_min: float = Field(0.05, gt=0, lt=1, description="Smallest box, as a share of all runs")
    figures: bool = Field(True, description="Write the figures")


def load_analysis(source: Experiment | str | Path) -> Analysis:
    """The ``[analysis]`` table of an experiment (object or file), validated; defaults when absent.

    Errors are one line ``<file>: analysis.<key>: <problem>`` (:class:`ConfigError`).
    """
    if isinstance(source, Experiment):
        data, path = source.analysis, source.source
    else:
        import tomllib

        path = str(source)
        data = tomllib.loads(Path(source).read_text(encoding="utf-8")).get("analysis", {})
    try:
        return Analysis.model_validate(data)
    except ValidationError as err:
        msg = format_validation_error(path, err, Analysis, missing_hint="")
        raise ConfigError(msg.replace(f"{path}: ", f"{path}: analysis.", 1)) from None


@dataclass(frozen=True)
class Target:
    """A scenario-discovery target ``output op value`` (op one of >=, >, <=, <); NaN never reaches it."""

    output: str
    op: str
    value: float

    def reached(self, y: np.ndarray) -> np.ndarray:
        """Boolean mask of the values that reach the target."""
        y = np.asarray(y, dtype=float)
        return _OPS[self.op](np.nan_to_num(y, nan=np.inf if self.op in ("<", "<=") else -np.inf), self.value)

    def __str__(self) -> str:
        return f"{self.output} {self.op} {self.value:g}"


_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
_TARGET_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*([-+]?[0-9.]+(?:[eE][-+]?\d+)?)\s*$")


def parse_target(text: str) -> Target:
    """``"one_record_coverage_2030 >= 0.8"`` -> Target; ValueError on anything else."""
    m = _TARGET_RE.match(text)
    if not m:
        raise ValueError(f"target {text!r}: expected '<output> <op> <number>' with op one of >=, >, <=, <")
    return Target(m.group(1), m.group(2), float(m.group(3)))


def check_analysis(ana: Analysis, exp: Experiment) -> tuple[list[str], Target | None, list[str]]:
    """(outputs, target, PRIM levers) of an analysis, checked against its experiment before anything runs."""
    where = f"{exp.source}: analysis"
    if exp.design not in ("sobol", "morris"):
        raise ConfigError(f"{exp.source}: design: sensitivity needs 'sobol' or 'morris', got {exp.design!r}")
    outputs = list(ana.outputs or exp.outputs)
    unknown = [o for o in outputs if o not in exp.outputs]
    if unknown:
        raise ConfigError(f"{where}.outputs: {unknown[0]} is not among the experiment's outputs {exp.outputs}")
    target = None
    if ana.target is not None:
        try:
            target = parse_target(ana.target)
        except ValueError as err:
            raise ConfigError(f"{where}.target: {err}") from None
        if target.output not in exp.outputs:
            raise ConfigError(f"{where}.target: {target.output} is not among the experiment's outputs {exp.outputs}")
    if ana.prim_levers is None:
        levers = [k for k in POLICY_LEVERS if k in exp.keys]
    else:
        levers = list(ana.prim_levers)
        missing = [k for k in levers if k not in exp.keys]
        if missing:
            raise ConfigError(f"{where}.prim_levers: {missing[0]} is not a parameter of the experiment")
    if target is not None and not levers:
        raise ConfigError(f"{where}.prim_levers: the experiment varies none of {list(POLICY_LEVERS)}; name the levers")
    return outputs, target, levers


def analysis_seed(experiment_seed: int) -> int:
    """Bootstrap seed of the confidence intervals: odd, so never 0 (SALib's sobol tests ``if seed:``)."""
    return int(np.random.SeedSequence(experiment_seed).generate_state(1)[0]) | 1


# --------------------------------------------------------------------------- from runs to indices


def read_runs(root: str | Path, exp: Experiment) -> pd.DataFrame:
    """The sweep's finished runs (design_row, replicate, parameters, outputs), sorted by run."""
    cols = ["design_row", "replicate", *exp.keys, *exp.outputs]
    runs = open_dataset(root).to_table(columns=cols).to_pandas()
    return runs.sort_values(["design_row", "replicate"], ignore_index=True)


def replicate_means(runs: pd.DataFrame, outputs: list[str], n_rows: int, replicates: int) -> pd.DataFrame:
    """Mean of each output over the replicate seeds of each design row, ybar_j = (1/R) sum_r y_jr.

    Every (design row, replicate) must be present: a row with a missing replicate would not share
    the other rows' seeds. Raises ValueError naming what is missing.
    """
    counts = runs.groupby("design_row")["replicate"].nunique().reindex(range(n_rows), fill_value=0)
    short = counts[counts < replicates]
    if len(short):
        raise ValueError(f"{len(short)} of {n_rows} design rows lack replicates (first: row {short.index[0]} has "
                         f"{short.iloc[0]} of {replicates}); finish the sweep (onerecord sweep --retry-failed) first")
    return runs.groupby("design_row")[outputs].mean().reindex(range(n_rows))


def seed_variance(runs: pd.DataFrame, outputs: list[str]) -> pd.DataFrame:
    """How much variance the replicate seeds carry, per output.

    within = mean over rows of Var_r(y_jr); total = Var(y_jr) over all runs; ``seed_share`` =
    within / total (share of a single run's variance due to the seed); ``seed_share_of_row_means``
    = (within / R) / Var_j(ybar_j) (the share of the analysed row means' variance that is seed
    noise). NaN with one replicate.
    """
    rows = []
    for out in outputs:
        g = runs.groupby("design_row")[out]
        n_rep = int(g.size().min())
        within = float(g.var(ddof=1).mean()) if n_rep > 1 else float("nan")
        total, row_means = float(runs[out].var(ddof=1)), float(g.mean().var(ddof=1))
        rows.append({"output": out, "design_rows": int(g.ngroups), "replicates": n_rep,
                     "within_row_variance": within, "row_mean_variance": row_means, "total_variance": total,
                     "seed_share": within / total if total > 0 else float("nan"),
                     "seed_share_of_row_means": within / n_rep / row_means if row_means > 0 else float("nan")})
    return pd.DataFrame(rows)


def sobol_indices(names: list[str], y: np.ndarray, second_order: bool, conf_level: float = 0.95,
                  num_resamples: int = 1000, seed: int = 1) -> pd.DataFrame:
    """S1, ST (and S2) with bootstrap half-widths from ``SALib.analyze.sobol`` on rows in Saltelli order."""
    from SALib.analyze import sobol

    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    si = sobol.analyze(problem, np.asarray(y, dtype=float), calc_second_order=second_order, conf_level=conf_level,
                       num_resamples=num_resamples, seed=seed)
    rows = [{"parameter": n, "method": "sobol", "index": idx, "value": float(si[idx][j]), "conf": float(si[f"{idx}_conf"][j])}
            for idx in ("S1", "ST") for j, n in enumerate(names)]
    if second_order:
        rows += [{"parameter": f"{names[i]}:{names[j]}", "method": "sobol", "index": "S2", "value": float(si["S2"][i, j]),
                  "conf": float(si["S2_conf"][i, j])} for i in range(len(names)) for j in range(i + 1, len(names))]
    return pd.DataFrame(rows)


def morris_indices(names: list[str], x_unit: np.ndarray, y: np.ndarray, num_levels: int, conf_level: float = 0.95,
                   num_resamples: int = 1000, seed: int = 1) -> pd.DataFrame:
    """mu* (with bootstrap half-width), mu and sigma of the elementary effects EE_i = dy / delta on the unit
    cube (delta = levels / (2 (levels - 1))), from ``SALib.analyze.morris``."""
    from SALib.analyze import morris

    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    si = morris.analyze(problem, np.asarray(x_unit, dtype=float), np.asarray(y, dtype=float), num_resamples=num_resamples,
                        conf_level=conf_level, num_levels=num_levels, seed=seed)
    return pd.DataFrame(
        [{"parameter": n, "method": "morris", "index": "mu_star", "value": float(si["mu_star"][j]),
          "conf": float(si["mu_star_conf"][j])} for j, n in enumerate(names)]
        + [{"parameter": n, "method": "morris", "index": idx, "value": float(si[idx][j]), "conf": float("nan")}
           for idx in ("mu", "sigma") for j, n in enumerate(names)])


def global_indices(exp: Experiment, means: pd.DataFrame, outputs: list[str], ana: Analysis) -> tuple[pd.DataFrame, dict]:
    """The long index table over ``outputs`` and the outputs skipped (NaN rows or no variance) with why."""
    seed, parts, skipped = analysis_seed(exp.seed), [], {}
    x_unit = unit_sample(exp) if exp.design == "morris" else None
    for out in outputs:
        y = means[out].to_numpy(dtype=float)
        if np.isnan(y).any():
            skipped[out] = f"NaN in {int(np.isnan(y).sum())} of {len(y)} design rows (every replicate NaN)"
        elif np.ptp(y) == 0:
            skipped[out] = f"constant ({y[0]:g}) over the design"
        if out in skipped:
            warnings.warn(f"sensitivity: {out} skipped: {skipped[out]}", stacklevel=2)
            continue
        if exp.design == "sobol":
            df = sobol_indices(exp.keys, y, exp.second_order, ana.conf_level, ana.num_resamples, seed)
        else:
            df = morris_indices(exp.keys, x_unit, y, exp.morris_levels, ana.conf_level, ana.num_resamples, seed)
        parts.append(df.assign(output=out))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=INDEX_COLUMNS)
    return table[INDEX_COLUMNS], skipped


def main_index(method: str) -> str:
    """The index that ranks parameters: ST (Sobol) or mu_star (Morris)."""
    return "ST" if method == "sobol" else "mu_star"


def top_parameters(indices: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """The k parameters with the largest ST (or mu*) per output: output, rank, parameter, index, value, conf."""
    rows = []
    for (out, method), g in indices.groupby(["output", "method"], sort=False):
        sel = g[g["index"] == main_index(method)].sort_values("value", ascending=False).head(k)
        rows += [{"output": out, "rank": i + 1, **r} for i, r in enumerate(
            sel[["parameter", "index", "value", "conf"]].to_dict(orient="records"))]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- tornado (one at a time)


def _value(cfg: Config, key: str) -> Any:
    return reduce(getattr, key.split("."), cfg)


def tornado_design(exp: Experiment, base: Config) -> pd.DataFrame:
    """Row 0: every parameter at its base-scenario value (dummy keys at mid-range); then, per parameter,
    a row at its low and one at its high bound with the others at base. Columns: design_row,
    parameter, side (base | low | high), one column per key."""
    center = {}
    for p in exp.parameters:
        center[p.key] = (p.low + p.high) / 2 if p.key.startswith(DUMMY_PREFIX) else _value(base, p.key)
    rows = [{"parameter": "", "side": "base", **center}]
    for p in exp.parameters:
        is_int = isinstance(center[p.key], int) and not isinstance(center[p.key], bool)
        for side, v in (("low", p.low), ("high", p.high)):
            rows.append({"parameter": p.key, "side": side, **center, p.key: int(round(v)) if is_int else float(v)})
    design = pd.DataFrame(rows)
    design.insert(0, "design_row", np.arange(len(design), dtype=np.int64))
    return design


def run_design(exp: Experiment, design: pd.DataFrame, replicates: int, evaluate=None, executor: str = "local",
               workers: int | None = None, scheduler: str | None = None, tag: str = "tornado") -> pd.DataFrame:
    """Evaluate extra design rows with the sweep's evaluator, executor and replicate seeds (not stored
    as a sweep): one row per (design row, replicate) with the experiment's outputs. Raises on a failed run."""
    from sim.sweep.evaluate import ModelEvaluator, SweepContext
    from sim.sweep.executors import make_executor

    ctx = SweepContext(base=base_config(exp), outputs=tuple(exp.outputs),
                       evaluate=evaluate if evaluate is not None else ModelEvaluator())
    params = design[exp.keys].to_dict(orient="records")
    runs = [{"run_id": f"{exp.name}-{tag}-{row:06d}-{r:03d}", "design_row": row, "replicate": r, **params[i]}
            for i, row in enumerate(design["design_row"].tolist()) for r in range(replicates)]
    with make_executor(executor, ctx, workers, scheduler) as pool:
        results = [pool.result(f) for f in [pool.submit(run) for run in runs]]
    failed = [r["failure"] for r in results if "failure" in r]
    if failed:
        f = failed[0]
        raise RuntimeError(f"{len(failed)} {tag} runs failed; first {f['run_id']}: {f['error_type']}: {f['message']}\n"
                           f"{f['traceback']}")
    return pd.DataFrame([{k: r["row"][k] for k in ("design_row", "replicate", *exp.outputs)} for r in results])


def tornado_table(design: pd.DataFrame, runs: pd.DataFrame, outputs: list[str]) -> pd.DataFrame:
    """Per output and parameter: the output (mean over seeds) at the base, low and high points;
    swing = max - min of the three, rank 1 = widest swing."""
    means = runs.groupby("design_row")[outputs].mean()
    base_row = int(design.loc[design["side"] == "base", "design_row"].iloc[0])
    rows = []
    for out in outputs:
        y_base = float(means.loc[base_row, out])
        for key, g in design[design["side"] != "base"].groupby("parameter", sort=False):
            lo, hi = g[g["side"] == "low"].iloc[0], g[g["side"] == "high"].iloc[0]
            y_lo, y_hi = float(means.loc[lo["design_row"], out]), float(means.loc[hi["design_row"], out])
            rows.append({"output": out, "parameter": key, "low_value": float(lo[key]), "high_value": float(hi[key]),
                         "base_value": float(design.loc[design["design_row"] == base_row, key].iloc[0]),
                         "y_base": y_base, "y_low": y_lo, "y_high": y_hi,
                         "swing": max(y_base, y_lo, y_hi) - min(y_base, y_lo, y_hi)})
    df = pd.DataFrame(rows)
    df["rank"] = df.groupby("output")["swing"].rank(ascending=False, method="first").astype(int)
    return df


def ranking_agreement(indices: pd.DataFrame, tornado: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """Per output: the top-k parameters by the global index and by tornado swing, and whether they agree."""
    top = top_parameters(indices, k)
    rows = []
    for out, g in top.groupby("output", sort=False):
        glob = g.sort_values("rank")["parameter"].tolist()
        tor = (tornado[tornado["output"] == out].sort_values("rank")["parameter"].head(k).tolist()
               if len(tornado) else [])
        rows.append({"output": out, "index": g["index"].iloc[0], "global_top": "; ".join(glob),
                     "tornado_top": "; ".join(tor), "same_set": bool(tor) and set(glob) == set(tor),
                     "same_order": bool(tor) and glob == tor})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- scenario discovery (PRIM)


def scenario_discovery(runs: pd.DataFrame, target: Target, levers: list[str], threshold: float = 0.8,
                       peel_alpha: float = 0.05, mass_min: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PRIM (Friedman and Fisher 1999; ``ema_workbench.analysis.prim``) over the runs: which lever
    ranges reach ``target``. Every run is a case (seeds are part of the uncertainty).

    Returns (boxes, trajectory). trajectory: one row per peeling/pasting step (step, coverage =
    share of all target runs inside the box, density = share of the box's runs reaching the target,
    mass, res_dim, n, k, chosen). boxes: per step and lever the limits (low, high), whether the box
    restricts it, and the quasi-p values of a restricted limit. The chosen box is the step of
    largest coverage among those with density >= threshold (else the densest step).
    """
    x = runs[levers].astype(float).reset_index(drop=True)
    y = target.reached(runs[target.output].to_numpy()).astype(int)
    k, n = int(y.sum()), len(y)
    if k == 0 or k == n:
        raise ValueError(f"target {target} is reached in {k} of {n} runs: PRIM needs runs on both sides; "
                         "pick another threshold")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        box = prim.Prim(x, y, threshold=threshold, peel_alpha=peel_alpha, mass_min=mass_min).find_box()
    traj = box.peeling_trajectory.rename(columns={"id": "step"}).astype({"step": int, "res_dim": int, "n": int, "k": int})
    ok = traj["density"] >= threshold
    chosen = int(traj.loc[ok, "coverage"].idxmax() if ok.any() else traj["density"].idxmax())
    traj["chosen"] = traj.index == chosen
    init = box.box_lims[0]
    rows = []
    for step, lims in enumerate(box.box_lims):
        qp = box.qp[step] if step < len(box.qp) else {}
        for lever in levers:
            lo, hi = float(lims.loc[0, lever]), float(lims.loc[1, lever])
            q = qp.get(lever, [np.nan, np.nan])
            rows.append({"step": step, "parameter": lever, "low": lo, "high": hi,
                         "range_low": float(init.loc[0, lever]), "range_high": float(init.loc[1, lever]),
                         "restricted": bool(lo > init.loc[0, lever] or hi < init.loc[1, lever]),
                         "qp_low": float(q[0]) if q[0] is not None and q[0] >= 0 else np.nan,
                         "qp_high": float(q[1]) if q[1] is not None and q[1] >= 0 else np.nan,
                         "chosen": step == chosen})
    cols = ["step", "coverage", "density", "mass", "mean", "res_dim", "n", "k", "chosen"]
    return pd.DataFrame(rows), traj[cols].reset_index(drop=True)


# --------------------------------------------------------------------------- figures (tables in, figures out)


def _label(key: str) -> str:
    return key.removeprefix(DUMMY_PREFIX) + " (dummy)" if key.startswith(DUMMY_PREFIX) else key.split(".")[-1]


def _panels(plt, n: int, height: float = 2.6):
    cols = min(2, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, height * rows + 0.4), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def fig_sobol(indices: pd.DataFrame):
    """S1 and ST per parameter with bootstrap confidence intervals, one panel per output."""
    from sim.plots import paper_style

    sob = indices[(indices["method"] == "sobol") & indices["index"].isin(["S1", "ST"])]
    outputs = list(dict.fromkeys(sob["output"]))
    with paper_style() as plt:
        fig, axes = _panels(plt, len(outputs), height=0.25 * sob["parameter"].nunique() + 1.0)
        for ax, out in zip(axes, outputs):
            g = sob[sob["output"] == out]
            st = g[g["index"] == "ST"].set_index("parameter").sort_values("value")
            s1 = g[g["index"] == "S1"].set_index("parameter").reindex(st.index)
            y = np.arange(len(st))
            ax.barh(y + 0.2, st["value"], 0.4, xerr=st["conf"], label="ST (total)", color="C0", error_kw={"lw": 0.8})
            ax.barh(y - 0.2, s1["value"], 0.4, xerr=s1["conf"], label="S1 (first order)", color="C1", error_kw={"lw": 0.8})
            ax.set_yticks(y, [_label(p) for p in st.index])
            ax.axvline(0, color="black", linewidth=0.6)
            ax.grid(axis="x")
            ax.set(title=out, xlabel="Sobol index (95% CI)")
        axes[0].legend(loc="lower right")
        fig.tight_layout()
    return fig


def fig_morris(indices: pd.DataFrame):
    """Morris mu* against sigma (with mu* confidence intervals), one panel per output."""
    from sim.plots import paper_style

    mor = indices[indices["method"] == "morris"]
    outputs = list(dict.fromkeys(mor["output"]))
    with paper_style() as plt:
        fig, axes = _panels(plt, len(outputs), height=3.2)
        for ax, out in zip(axes, outputs):
            g = mor[mor["output"] == out].pivot_table(index="parameter", columns="index", values=["value", "conf"])
            ax.errorbar(g[("value", "mu_star")], g[("value", "sigma")], xerr=g[("conf", "mu_star")], fmt="o",
                        markersize=3, color="C0", elinewidth=0.8)
            for p, row in g.iterrows():
                ax.annotate(_label(p), (row[("value", "mu_star")], row[("value", "sigma")]), fontsize=6,
                            xytext=(3, 2), textcoords="offset points")
            ax.set(title=out, xlabel="mu* (change over the range)", ylabel="sigma")
            ax.set_xlim(left=0)
            ax.set_ylim(bottom=0)
        fig.tight_layout()
    return fig


def fig_tornado(tornado: pd.DataFrame):
    """One-at-a-time swings around the base scenario: bars from the low- to the high-bound output."""
    from sim.plots import paper_style

    outputs = list(dict.fromkeys(tornado["output"]))
    with paper_style() as plt:
        fig, axes = _panels(plt, len(outputs), height=0.25 * tornado["parameter"].nunique() + 1.0)
        for ax, out in zip(axes, outputs):
            g = tornado[tornado["output"] == out].sort_values("swing")
            y, base = np.arange(len(g)), g["y_base"].iloc[0]
            ax.barh(y, g["y_low"] - base, left=base, color="C0", label="parameter at low bound")
            ax.barh(y, g["y_high"] - base, left=base, color="C1", label="parameter at high bound", alpha=0.8)
            ax.axvline(base, color="black", linewidth=0.8)
            ax.set_yticks(y, [_label(p) for p in g["parameter"]])
            ax.grid(axis="x")
            ax.set(title=out, xlabel=f"{out} (base {base:.3g})")
        axes[0].legend(loc="lower right")
        fig.tight_layout()
    return fig


def fig_prim(boxes: pd.DataFrame, trajectory: pd.DataFrame, target: str = ""):
    """PRIM: the peeling trajectory (coverage against density) and the chosen box's lever limits."""
    from sim.plots import paper_style

    with paper_style() as plt:
        fig, (a, b) = plt.subplots(1, 2, figsize=(9.2, 3.4))
        sc = a.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis", s=12)
        ch = trajectory[trajectory["chosen"]]
        a.scatter(ch["coverage"], ch["density"], s=80, facecolors="none", edgecolors="C3", label="chosen box")
        fig.colorbar(sc, ax=a, label="restricted levers")
        a.set(xlabel="coverage", ylabel="density", xlim=(0, 1.02), ylim=(0, 1.02), title=f"PRIM trajectory: {target}")
        a.legend(loc="lower left")
        sel = boxes[boxes["chosen"]].reset_index(drop=True)
        span = (sel["range_high"] - sel["range_low"]).replace(0, 1)
        lo, hi = (sel["low"] - sel["range_low"]) / span, (sel["high"] - sel["range_low"]) / span
        y = np.arange(len(sel))
        b.barh(y, np.ones(len(sel)), color="#e6e6e6")
        b.barh(y, hi - lo, left=lo, color=["C0" if r else "#bbbbbb" for r in sel["restricted"]])
        for i, r in sel.iterrows():
            b.text(1.02, i, f"{r['low']:.3g} - {r['high']:.3g}", va="center", fontsize=7)
        b.set_yticks(y, [_label(p) for p in sel["parameter"]])
        b.set(xlim=(0, 1.45), xlabel="share of the sampled range", title="Chosen box (blue: restricted)")
        b.grid(axis="x")
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- the whole analysis


@dataclass
class SensitivityResult:
    """The tables of an analysis (as written under ``path``)."""

    path: Path
    indices: pd.DataFrame
    seed_variance: pd.DataFrame
    tornado: pd.DataFrame = field(default_factory=pd.DataFrame)
    ranking: pd.DataFrame = field(default_factory=pd.DataFrame)
    prim_boxes: pd.DataFrame = field(default_factory=pd.DataFrame)
    prim_trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: dict = field(default_factory=dict)


def sensitivity(experiment: Experiment | str | Path, out_dir: str | Path = "results", *, executor: str = "local",
                workers: int | None = None, scheduler: str | None = None, evaluate=None, progress: bool = True,
                run: bool = True, analysis: Analysis | None = None) -> SensitivityResult:
    """Run (or resume, or with ``run=False`` only read) an experiment's sweep and analyse it.

    Outputs are averaged over the replicate seeds of each design row before SALib sees them;
    the files listed in the module docstring go to ``<out_dir>/<name>/sensitivity/`` (replaced
    whole). ``evaluate`` replaces the model (see :mod:`sim.sweep.evaluate`) for the sweep and the
    tornado alike. Options come from ``analysis`` or the experiment's ``[analysis]`` table.
    """
    from sim.results import atomic_dir

    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    ana = analysis if analysis is not None else load_analysis(exp)
    outputs, target, levers = check_analysis(ana, exp)
    n_rows = len(make_design(exp))
    clock = {"start": time.perf_counter()}
    if run:
        root = run_sweep(exp, out_dir, executor=executor, workers=workers, scheduler=scheduler, progress=progress,
                         evaluate=evaluate)
    else:
        from sim.sweep import read_manifest

        root = sweep_path(out_dir, exp.name)
        if read_manifest(root).get("design_hash") != design_hash(exp, base_config(exp), expand_runs(exp)):
            raise ConfigError(f"{root}: holds another design than {exp.source}; run the sweep first")
    clock["sweep"] = time.perf_counter()
    runs = read_runs(root, exp)
    means = replicate_means(runs, outputs, n_rows, exp.replicates)
    indices, skipped = global_indices(exp, means, outputs, ana)
    res = SensitivityResult(root / "sensitivity", indices, seed_variance(runs, outputs))
    if ana.tornado:
        design = tornado_design(exp, base_config(exp))
        truns = run_design(exp, design, ana.tornado_replicates or exp.replicates, evaluate, executor, workers, scheduler)
        res.tornado = tornado_table(design, truns, outputs)
    clock["tornado"] = time.perf_counter()
    res.ranking = ranking_agreement(indices, res.tornado)
    share = None
    if target is not None:
        share = float(target.reached(runs[target.output].to_numpy()).mean())
        if 0 < share < 1:
            res.prim_boxes, res.prim_trajectory = scenario_discovery(
                runs, target, levers, ana.prim_threshold, ana.prim_peel_alpha, ana.prim_mass_min)
        else:
            warnings.warn(f"sensitivity: target {target} reached in {share:.0%} of runs: no PRIM", stacklevel=2)
    chosen = res.prim_trajectory[res.prim_trajectory["chosen"]] if len(res.prim_trajectory) else pd.DataFrame()
    res.summary = {
        "experiment": exp.name, "design": exp.design, "design_rows": n_rows, "replicates": exp.replicates,
        "runs": len(runs), "analysis": ana.model_dump(), "outputs": outputs, "skipped_outputs": skipped,
        "top_parameters": top_parameters(indices).to_dict(orient="records"),
        "target": str(target) if target else None, "target_share_of_runs": share, "prim_levers": levers,
        "prim_chosen_box": chosen.iloc[0].to_dict() if len(chosen) else None,
        "seconds": {"sweep": clock["sweep"] - clock["start"], "tornado": clock["tornado"] - clock["sweep"]},
    }
    with atomic_dir(res.path) as tmp:
        res.indices.to_csv(tmp / "indices.csv", index=False)
        res.seed_variance.to_csv(tmp / "seed_variance.csv", index=False)
        for name in ("tornado", "ranking", "prim_boxes", "prim_trajectory"):
            if len(getattr(res, name)):
                getattr(res, name).to_csv(tmp / f"{name}.csv", index=False)
        if ana.tornado:
            truns.to_csv(tmp / "tornado_runs.csv", index=False)
        if ana.figures:
            write_figures(res, tmp / "figures", str(target) if target else "")
        (tmp / "summary.json").write_text(json.dumps(res.summary, indent=2, default=_json_default), encoding="utf-8")
    return res


def _json_default(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else str(v)


def write_figures(res: SensitivityResult, out_dir: Path, target: str = "") -> list[Path]:
    """Every figure the tables allow: sobol or morris indices, tornado, PRIM (PDF and PNG)."""
    from sim.plots import save

    paths: list[Path] = []
    if (res.indices["method"] == "sobol").any():
        paths += save(fig_sobol(res.indices), out_dir / "sobol_indices")
    if (res.indices["method"] == "morris").any():
        paths += save(fig_morris(res.indices), out_dir / "morris_mu_star_sigma")
    if len(res.tornado):
        paths += save(fig_tornado(res.tornado), out_dir / "tornado")
    if len(res.prim_trajectory):
        paths += save(fig_prim(res.prim_boxes, res.prim_trajectory, target), out_dir / "prim")
    return paths
