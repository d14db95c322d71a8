"""What the fit compares: the observed series' distance (ABC) and the likelihood of the municipal
decision rule with the GP-office record (the joint fit)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calibrate.settings import CalibrationSettings
from sim.config import Config, month_index
from sim.history import HISTORY_END
from sim.municipal_decision import decision_log_likelihood, history_evidence, path_log_likelihood
from sim.runner import simulate

@dataclass(frozen=True)
class _Target:
    """The observed series as arrays, with the scales of the distance."""

    n_municipalities_live: np.ndarray
    share_residents_municipalities_live: np.ndarray
    gp: np.ndarray
    gp_is_lower_bound: bool
    n_municipalities: int
    gp_scale: float
    decision_t: np.ndarray          # month index of each option-decision point (empty: no decision term)
    decision_count: np.ndarray
    decision_lower: np.ndarray      # True where the count is a lower bound ("more than half")


def decision_points_in_window(decisions: pd.DataFrame | None, start_month: str, n_months: int) -> pd.DataFrame:
    """The option-decision points (columns month, count, lower_bound) inside the window, with their t."""
    cols = ["month", "t", "count", "lower_bound"]
    if decisions is None or len(decisions) == 0:
        return pd.DataFrame(columns=cols)
    t = [month_index(f"{pd.Timestamp(m):%Y-%m}", start_month) for m in decisions["month"]]
    out = decisions.assign(t=t)[cols[:1] + ["t", "count", "lower_bound"]]
    return out[(out["t"] >= 0) & (out["t"] < n_months)].reset_index(drop=True)


def make_target(observed: pd.DataFrame, n_municipalities: int, decisions: pd.DataFrame | None = None) -> _Target:
    """Observed table -> arrays. GP offices: ``n_gp_offices_live`` (exact) or ``n_gp_offices_live_lower``.

    ``decisions``: option-decision points already in the window (:func:`decision_points_in_window`), or None.
    """
    lower = "n_gp_offices_live_lower" in observed.columns
    col = "n_gp_offices_live_lower" if lower else "n_gp_offices_live"
    if col not in observed.columns:
        raise ValueError("observed needs n_gp_offices_live or n_gp_offices_live_lower")
    gp = observed[col].to_numpy(float)
    d = decisions if decisions is not None else pd.DataFrame({"t": [], "count": [], "lower_bound": []})
    return _Target(
        n_municipalities_live=observed["n_municipalities_live"].to_numpy(float),
        share_residents_municipalities_live=observed["share_residents_municipalities_live"].to_numpy(float),
        gp=gp, gp_is_lower_bound=lower, n_municipalities=int(n_municipalities),
        gp_scale=max(1.0, float(gp.max())),
        decision_t=d["t"].to_numpy(np.int64), decision_count=d["count"].to_numpy(float),
        decision_lower=d["lower_bound"].to_numpy(bool),
    )


def gp_penalty(sim: np.ndarray, target: _Target, soft_max: float) -> np.ndarray:
    """Per-month GP-office error.

    Exact observation: (g_sim - g_obs) / max(1, max g_obs).
    Lower bound L (the real history): (L - g_sim)^+ + (g_sim - c)^+ / c, with c = ``soft_max``:
    a shortfall below the bound costs one per missing office; "many" offices cost softly,
    linearly in multiples of c above c.
    """
    if not target.gp_is_lower_bound:
        return (sim - target.gp) / target.gp_scale
    return np.maximum(0.0, target.gp - sim) + np.maximum(0.0, sim - soft_max) / soft_max


def decision_error(decided: np.ndarray, target: _Target) -> np.ndarray:
    """Per decision point k: (D(t_k) - D_k) / N, or (D_k - D(t_k))^+ / N where D_k is a lower bound."""
    d = np.atleast_2d(decided)[:, target.decision_t].astype(float)
    diff = (d - target.decision_count) / target.n_municipalities
    return np.where(target.decision_lower, np.maximum(0.0, -diff), diff)


def series_distance(sim: dict[str, np.ndarray], target: _Target, settings: CalibrationSettings) -> float:
    """Scaled root-mean-square distance between simulated and observed series.

    d = sqrt( w_m mean_{k,t} ((m_kt - m_t) / N)^2 + w_s mean_{k,t} (s_kt - s_t)^2 + w_g mean_{k,t} g_kt^2
              + w_d mean_{k,j} e_kj^2 ),
    m the municipalities live (N the region's municipalities), s the share of residents in live
    municipalities, g the GP-office error of :func:`gp_penalty`, e the option-decision error of
    :func:`decision_error` at the dated points j (no term without points); k over replicate seeds,
    t over months.
    """
    m = (np.atleast_2d(sim["n_municipalities_live"]) - target.n_municipalities_live) / target.n_municipalities
    s = np.atleast_2d(sim["share_residents_municipalities_live"]) - target.share_residents_municipalities_live
    g = gp_penalty(np.atleast_2d(sim["n_gp_offices_live"]).astype(float), target, settings.gp_offices_soft_max)
    d2 = settings.weight_municipalities * np.mean(m ** 2) + settings.weight_share * np.mean(s ** 2) \
        + settings.weight_gp * np.mean(g ** 2)
    if len(target.decision_t):
        d2 += settings.weight_decisions * np.mean(decision_error(sim["n_municipalities_decided"], target) ** 2)
    return float(np.sqrt(d2))



SERIES = ("n_municipalities_live", "share_residents_municipalities_live", "n_gp_offices_live")


# --------------------------------------------------------------------------- the decision likelihood


def decision_likelihood(cfg: Config, evidence=None, replicates: int = 8, simulator=None) -> float:
    """Simulated log-likelihood of the municipal decision rule (:func:`sim.municipal_decision.decision_log_likelihood`).

    Runs ``replicates`` paths (replicate seeds 0..R-1, so two parameter vectors share their draws)
    to the last decision point the evidence needs, with the history replayed as the config says
    (``rollout.replay_history``: the named decisions condition the peers and the calendar; the
    likelihood still scores the rule's own probability of each of them). ``evidence`` defaults to
    the history's (:func:`sim.municipal_decision.history_evidence`: named decisions and dated counts
    to 2023; municipalities the record does not name are unknown). ``simulator``: (cfg, r) -> model.
    """
    run = simulator or (lambda c, r: simulate(c, r)[0])
    models = [run(cfg, r) for r in range(int(replicates))]
    logs = [m.decision_log() for m in models]
    pts = logs[0]["points_t"]
    if evidence is None:
        end = cfg.t_of(HISTORY_END)
        logs = [{k: (v[pts <= end] if k != "points_t" else v[v <= end]) for k, v in lg.items()} for lg in logs]
        pts = logs[0]["points_t"]
        evidence = history_evidence(cfg, models[0].region, pts)
    K = evidence.allowed.shape[0] - 1
    return decision_log_likelihood(np.stack([lg["p_option"][:K] for lg in logs]),
                                   np.stack([lg["p_binding"][:K] for lg in logs]), logs[0]["binding_open"][:K],
                                   evidence, np.stack([lg["p_postpone"][:K] for lg in logs]))



# --------------------------------------------------------------------------- the joint likelihood (decisions + GP record)


def gp_record_log_likelihood(offices_live: np.ndarray, soft_max: float) -> np.ndarray:
    """Log-probability that the record would show what it shows (one GP office found live by 2023-12,
    none other reported) given G offices live in the model at the history's end:

        log k(G) = -ln 2 * (G - c)^+,  c = ``soft_max``

    Up to c offices the record is as likely (a few could go unreported); each office beyond c halves
    the chance that no source would mention it (an assumption, as the ABC distance's soft maximum)."""
    g = np.asarray(offices_live, dtype=float)
    return -np.log(2.0) * np.maximum(0.0, g - soft_max)


def log_mean_exp(terms: np.ndarray) -> float:
    """log (1/R) sum_r exp(terms_r), stable; -inf when every term is -inf."""
    terms = np.asarray(terms, dtype=float)
    top = terms.max()
    if not np.isfinite(top):
        return float("-inf")
    return float(top + np.log(np.mean(np.exp(terms - top))))


def path_terms(logs: list[dict], gp_end: np.ndarray, evidence, soft_max: float) -> pd.DataFrame:
    """Per simulated path r: the decision record's log-likelihood (named, counts; the rule's probabilities
    logged along the path, the postponement probabilities of the recorded waves included,
    :func:`sim.municipal_decision.path_log_likelihood`) and the GP record's
    (:func:`gp_record_log_likelihood` of the offices live at the history's end)."""
    K = evidence.allowed.shape[0] - 1
    rows = []
    for lg, g in zip(logs, gp_end):
        named, counts = path_log_likelihood(lg["p_option"][:K], lg["p_binding"][:K], lg["binding_open"][:K], evidence,
                                            lg["p_postpone"][:K] if "p_postpone" in lg else None)
        rows.append({"named": named, "counts": counts, "gp": float(gp_record_log_likelihood(g, soft_max))})
    return pd.DataFrame(rows)


def joint_log_likelihood(terms: pd.DataFrame) -> dict[str, float]:
    """The simulated joint log-likelihood over R paths of one parameter vector, with its parts:

        log L = log (1/R) sum_r exp(named_r + counts_r + gp_r)

    (an unbiased estimate of L inside the log: the paths integrate the latent thresholds, peers and GP
    choices). ``decisions`` and ``gp`` are the same over the decision and GP terms alone (diagnostics)."""
    total = terms["named"] + terms["counts"] + terms["gp"]
    return {"loglik": log_mean_exp(total.to_numpy()),
            "loglik_decisions": log_mean_exp((terms["named"] + terms["counts"]).to_numpy()),
            "loglik_gp": log_mean_exp(terms["gp"].to_numpy())}
