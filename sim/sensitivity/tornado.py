"""The tornado: one parameter at a time at its low and high bound, the others at the base scenario.

Run through the sweep's evaluator, executor and replicate seeds, so it is the same model as the
global analysis; its ranking is compared with the global one (:func:`ranking_agreement`).
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from sim.config import Config, get_dotted
from sim.sensitivity.indices import top_parameters
from sim.sweep import Experiment
from sim.sweep.evaluate import ModelEvaluator, SweepContext, evaluate_in_worker, sweep_executor
from sim.sweep.experiment import DUMMY_PREFIX, sweep_run_id


def tornado_design(exp: Experiment, base: Config) -> pd.DataFrame:
    """Row 0: every parameter at its base-scenario value (dummy keys at mid-range); then, per parameter,
    a row at its low and one at its high bound with the others at base. Columns: design_row,
    parameter, side (base | low | high), one column per key."""
    center = {}
    for p in exp.parameters:
        center[p.key] = (p.low + p.high) / 2 if p.key.startswith(DUMMY_PREFIX) else get_dotted(base, p.key)
    rows = [{"parameter": "", "side": "base", **center}]
    for p in exp.parameters:
        is_int = isinstance(center[p.key], int) and not isinstance(center[p.key], bool)
        for side, v in (("low", p.low), ("high", p.high)):
            rows.append({"parameter": p.key, "side": side, **center, p.key: int(round(v)) if is_int else float(v)})
    design = pd.DataFrame(rows)
    design.insert(0, "design_row", np.arange(len(design), dtype=np.int64))
    return design


def run_design(exp: Experiment, base: Config, design: pd.DataFrame, replicates: int, evaluate=None,
               executor: str = "local", workers: int | None = None, scheduler: str | None = None,
               tag: str = "tornado") -> pd.DataFrame:
    """Evaluate extra design rows of ``exp`` on its base config (``sim.sweep.base_config``) with the
    sweep's evaluator, executor and replicate seeds (not stored as a sweep): one row per (design row,
    replicate) with the experiment's outputs. Raises on a failed run."""
    ctx = SweepContext(base=base, outputs=tuple(exp.outputs),
                       evaluate=evaluate if evaluate is not None else ModelEvaluator())
    params = design[exp.keys].to_dict(orient="records")
    runs = [{"run_id": sweep_run_id(exp.name, row, r, tag), "design_row": row, "replicate": r, **params[i]}
            for i, row in enumerate(design["design_row"].tolist()) for r in range(replicates)]
    with sweep_executor(ctx, executor, workers, scheduler) as pool:
        results = pool.map(evaluate_in_worker, runs)
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
