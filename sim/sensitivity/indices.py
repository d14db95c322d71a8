"""From the runs of a sweep to sensitivity indices: replicate means, seed variance, Sobol, Morris.

Outputs are averaged over the replicate seeds of each design row before SALib sees them. Sobol
indices (``SALib.analyze.sobol``: Saltelli 2010 first order, Jansen 1999 total order) come with
bootstrap half-widths; Morris elementary effects (``SALib.analyze.morris``, Campolongo et al.
2007) are taken on the unit cube, so mu* is the change of the output over a parameter's whole
range (for y = c x on [low, high], mu* = c (high - low)).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from SALib.analyze import morris, sobol

from sim.sensitivity.options import INDEX_COLUMNS, Analysis
from sim.sweep import Experiment, open_dataset
from sim.sweep.experiment import unit_sample


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
