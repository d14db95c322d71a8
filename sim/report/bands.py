"""Bands over parameter draws x seeds and the share of a band that is parameter uncertainty.

A pack runs every scenario over K + 1 parameter draws (draw 0: the posterior medians; draws 1..K
from the posterior, :func:`sim.draws.posterior_spec`) x N replicate seeds. A headline number is the
median of its per-run values with the 5-95 % quantile band over all (draw, seed) runs
(:func:`band`), and the report says how much of that spread the parameters make
(:func:`parameter_share`, the law of total variance).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RUN_KEYS = ("draw", "seed")
"""The columns that name one run of a scenario in its saved tables."""

QUANTILES = (0.05, 0.95)
"""The band's quantiles."""


BIG = 1e300
"""Stand-in for an infinite value (a payback that never comes) while quantiles interpolate."""


def band(values) -> dict[str, float]:
    """Median and the 5-95 % quantiles (linear interpolation) of ``values`` over runs, NaNs left out:
    {"median", "p05", "p95", "runs"}; all NaN when there is no value. An infinite value (``inf``: never)
    counts as larger than any other, and a quantile that interpolates into it is infinite."""
    v = pd.Series(values, dtype=float).dropna().to_numpy()
    if len(v) == 0:
        return {"median": np.nan, "p05": np.nan, "p95": np.nan, "runs": 0}
    big = np.clip(v, -BIG, BIG)  # inf ("never") sorts last; a quantile that reaches into it is inf
    q = np.quantile(big, [0.5, *QUANTILES])
    q = np.where(q >= BIG / 2, np.inf, np.where(q <= -BIG / 2, -np.inf, q))
    return {"median": float(q[0]), "p05": float(q[1]), "p95": float(q[2]), "runs": int(len(v))}


def parameter_share(values, draws) -> float:
    """The share of the variance of ``values`` (one per run) that is between parameter draws.

    Law of total variance over runs grouped by draw d (population moments, each run weight 1/n):

        Var(Y) = E_d[Var(Y | d)] + Var_d(E[Y | d])
        share  = Var_d(E[Y | d]) / Var(Y) = sum_d n_d (mean_d - mean)^2 / sum_i (y_i - mean)^2

    0 = the band is all seed noise (one draw, or every draw with the same mean); 1 = all parameter
    uncertainty (the seeds agree within each draw). NaN when Var(Y) = 0 (no band to split) or no value
    is finite, or any value is infinite. Runs with a NaN value are left out.
    """
    df = pd.DataFrame({"y": np.asarray(values, dtype=float), "d": np.asarray(draws)}).dropna(subset=["y"])
    if not np.isfinite(df["y"]).all():
        return float("nan")  # an infinite value (never) has no variance to split
    if df.empty:
        return float("nan")
    total = float(((df["y"] - df["y"].mean()) ** 2).sum())
    if total <= 1e-300 * len(df):
        return float("nan")
    means = df.groupby("d")["y"].agg(["mean", "size"])
    between = float((means["size"] * (means["mean"] - df["y"].mean()) ** 2).sum())
    return min(max(between / total, 0.0), 1.0)


def per_run(table: pd.DataFrame, value: str, reduce: str = "sum", where: pd.Series | None = None) -> pd.DataFrame:
    """One value per run (draw, seed) of a table with many rows per run: ``reduce`` ("sum", "median",
    "mean") of column ``value`` over the rows (``where`` selects rows). Columns draw, seed, value."""
    t = table if where is None else table[where]
    keys = [k for k in RUN_KEYS if k in t.columns]
    out = t.groupby(keys)[value].agg(reduce).rename("value").reset_index()
    return out if "draw" in out else out.assign(draw=0)


def band_with_share(runs: pd.DataFrame, value: str = "value") -> dict[str, float]:
    """:func:`band` of a per-run column plus ``param_share`` (:func:`parameter_share` over ``draw``)."""
    draws = runs["draw"] if "draw" in runs else np.zeros(len(runs), dtype=int)
    return band(runs[value]) | {"param_share": parameter_share(runs[value], draws),
                                "draws": int(pd.Series(draws).nunique())}
