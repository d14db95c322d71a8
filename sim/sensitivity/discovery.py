"""Scenario discovery: which ranges of the policy levers reach a target (PRIM).

Uses the maintained implementation, ``ema_workbench.analysis.prim`` (Friedman and Fisher 1999;
Bryant and Lempert 2010), imported inside the function: sweep workers never load it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sim.sensitivity.options import Target


def scenario_discovery(runs: pd.DataFrame, target: Target, levers: list[str], threshold: float = 0.8,
                       peel_alpha: float = 0.05, mass_min: float = 0.05,
                       min_coverage: float = 0.5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PRIM (Friedman and Fisher 1999; ``ema_workbench.analysis.prim``) over the runs: which lever
    ranges reach ``target``. Every run is a case (seeds are part of the uncertainty).

    Returns (boxes, trajectory). trajectory: one row per peeling/pasting step (step, coverage =
    share of all target runs inside the box, density = share of the box's runs reaching the target,
    mass, res_dim, n, k, chosen). boxes: per step and lever the limits (low, high), whether the box
    restricts it, and the quasi-p values of a restricted limit (one-sided binomial test: a value
    above 0.05 says the limit may be noise). The chosen box is the step of largest coverage among
    those with density >= threshold; when no step is that dense, the densest step that still
    covers >= min_coverage of the target runs (the levers alone cannot secure the target).
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

        # EMA's threshold both defines a case of interest (y >= threshold: any value in (0, 1] for
        # y in {0, 1}) and keeps the final box only if its density reaches it (else it returns the
        # unpeeled box and the trajectory is lost). A tiny threshold keeps every trajectory; ours
        # picks the step below. The peeling itself does not depend on it.
        box = prim.Prim(x, y, threshold=1e-9, peel_alpha=peel_alpha, mass_min=mass_min).find_box()
    traj = box.peeling_trajectory.rename(columns={"id": "step"}).astype({"step": int, "res_dim": int, "n": int, "k": int})
    ok = traj["density"] >= threshold
    if ok.any():
        chosen = int(traj.loc[ok, "coverage"].idxmax())
    else:
        covers = traj["coverage"] >= min_coverage
        chosen = int(traj.loc[covers, "density"].idxmax()) if covers.any() else 0
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
