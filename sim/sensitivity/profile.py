"""One parameter at a time over its whole range: the profile of an output (issue 18: municipalities
live in 2030 against ``municipality.threshold_mean`` and the other decision parameters).

A profile is a tornado with many points: row 0 is the base scenario; then, per parameter, one row
per level (its grid ``levels``, else ``points`` evenly spaced over [low, high]) with every other key
at its base value. Runs go through the sweep's evaluator, executor and replicate seeds
(:func:`sim.sensitivity.tornado.run_design`), so every level of every parameter sees the same seeds
(common random numbers). The table keeps every seed's value: a curve that jumps between two levels
is shown as it is, never smoothed by widening drawn differences.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import Config, get_dotted
from sim.sensitivity.tornado import run_design
from sim.sweep import Experiment, base_config, load_experiment


def profile_levels(p, points: int) -> list[float]:
    """A parameter's levels: its grid ``levels``, else ``points`` evenly spaced over [low, high]."""
    return [float(v) for v in p.levels] if p.levels else np.linspace(p.low, p.high, points).tolist()


def profile_design(exp: Experiment, base: Config, points: int = 7) -> pd.DataFrame:
    """Columns: design_row, parameter ("" for the base row), value, one column per key."""
    center = {p.key: get_dotted(base, p.key) for p in exp.parameters}
    rows = [{"parameter": "", "value": float("nan"), **center}]
    for p in exp.parameters:
        is_int = isinstance(center[p.key], int) and not isinstance(center[p.key], bool)
        for v in profile_levels(p, points):
            rows.append({"parameter": p.key, "value": float(v), **center, p.key: int(round(v)) if is_int else float(v)})
    design = pd.DataFrame(rows)
    design.insert(0, "design_row", np.arange(len(design), dtype=np.int64))
    return design


def profile_table(design: pd.DataFrame, runs: pd.DataFrame, outputs: list[str]) -> pd.DataFrame:
    """Tidy profile: one row per (output, parameter, value) with the mean, min, max, 10% and 90% over
    seeds, ``n_seeds``, the base value, and ``jump``: the largest change of the mean between neighbouring
    levels as a share of the whole swing (near 1: the curve flips on one step)."""
    d = design[design["parameter"] != ""]
    base_row = design[design["parameter"] == ""].iloc[0]
    merged = runs.merge(d[["design_row", "parameter", "value"]], on="design_row")
    rows = []
    for out in outputs:
        for key, g in merged.groupby("parameter", sort=False):
            stats = g.groupby("value")[out].agg(["mean", "min", "max", "count",
                                                 lambda x: float(np.quantile(x, 0.1)),
                                                 lambda x: float(np.quantile(x, 0.9))])
            stats.columns = ["mean", "min", "max", "n_seeds", "p10", "p90"]
            steps = np.abs(np.diff(stats["mean"].to_numpy()))
            swing = float(stats["mean"].max() - stats["mean"].min())
            jump = float(steps.max() / swing) if swing > 0 and len(steps) else 0.0
            for v, r in stats.iterrows():
                rows.append({"output": out, "parameter": key, "value": float(v), "base_value": float(base_row[key]),
                             "mean": float(r["mean"]), "p10": float(r["p10"]), "p90": float(r["p90"]),
                             "min": float(r["min"]), "max": float(r["max"]), "n_seeds": int(r["n_seeds"]),
                             "jump": jump})
    return pd.DataFrame(rows)


def run_profile(experiment: Experiment | str, *, points: int = 7, executor: str = "local", workers: int | None = None,
                scheduler: str | None = None, evaluate=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run an experiment's profile: (profile table of :func:`profile_table`, runs table: every run's
    outputs with design_row, replicate, parameter and value). Writing is the API's
    (:func:`sim.api.municipal_sensitivity`)."""
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    base = base_config(exp)
    design = profile_design(exp, base, points)
    runs = run_design(exp, base, design, exp.replicates, evaluate, executor, workers, scheduler, tag="profile")
    return profile_table(design, runs, list(exp.outputs)), runs.merge(design[["design_row", "parameter", "value"]],
                                                                      on="design_row")
