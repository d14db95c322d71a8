"""Validation of the GP adoption rule against the Bass model (DESIGN.md, Adoption rule).

With ``beta_u = 0``, a complete peer graph and the platform offered to every practice from
t = 0, a non-adopter joins in month n with probability h(F_n) = 1 - exp(-dt (p + q F_n)),
F_n the adopted share at the start of the month. Three curves are compared:

* :func:`bass_cdf`, the continuous Bass model F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t});
* :func:`bass_discrete`, the recursion the model's mean follows for an infinite population:
  F_{n+1} = G(F_n) = F_n + (1 - F_n)(1 - e^{-dt (p + q F_n)});
* the mean over seeds of the simulated share (:func:`bass_validation`), which differs from the
  recursion by sampling error and by a finite-population bias bounded by
  :func:`finite_population_bias_bound`.

The run uses ``experiments/validation/bass.toml``. :func:`bass_check` states the verdict: PASS when
the simulated mean lies within the computed tolerance of F(t) in every month (:func:`bass_tolerance`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.agents import DT_YEARS
from sim.builds import BuildCache
from sim.config import Config
from sim.model import RolloutModel
from sim.runner import replicate_seed

Z_SAMPLING = 4.0
"""Standard errors of the mean over seeds allowed per month (P(|Z| > 4) = 6e-5 each; the curve is smooth,
so its ~190 months are far fewer independent tests)."""


def bass_cdf(t_years: np.ndarray | float, p: float, q: float) -> np.ndarray:
    """Bass cumulative adoption F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t}), t in years.

    p = 0 gives F = 0 for all t (no innovators, nobody starts).
    """
    t = np.asarray(t_years, dtype=float)
    if p <= 0:
        return np.zeros_like(t)
    e = np.exp(-(p + q) * t)
    return (1.0 - e) / (1.0 + (q / p) * e)


def bass_discrete(n_steps: int, p: float, q: float, dt_years: float = DT_YEARS) -> np.ndarray:
    """F_1..F_n of the discrete-time Bass recursion on start-of-step state, F_0 = 0:

        F_{n+1} = F_n + (1 - F_n) (1 - exp(-dt (p + q F_n)))
    """
    out = np.empty(n_steps)
    f = 0.0
    for n in range(n_steps):
        f = f + (1.0 - f) * -np.expm1(-dt_years * (p + q * f))
        out[n] = f
    return out


def finite_population_bias_bound(share_var: np.ndarray, p: float, q: float, dt_years: float = DT_YEARS) -> np.ndarray:
    """Bound B_n on |E[F_n] - F_n^rec| for a finite population, from the variance of the share.

    E[F_{n+1}] = E[G(F_n)] exactly (given F_n, the non-adopters join independently with the
    same probability). Split E[G(F_n)] - G(F_n^rec) into Jensen's gap and propagation:

    * |E G(F_n) - G(E F_n)| <= (c2 / 2) Var(F_n), c2 = sup |G''| = dt q (2 + dt q), since
      G''(F) = -dt q e^{-dt(p+qF)} (2 + (1 - F) dt q);
    * |G(E F_n) - G(F_n^rec)| <= G'(max(F_n^rec - B_n, 0)) B_n, since
      G'(F) = e^{-dt(p+qF)} (1 + (1 - F) dt q) is positive and decreasing in F.

    So B_0 = 0, B_{n+1} = G'(max(F_n^rec - B_n, 0)) B_n + (c2 / 2) Var(F_n). ``share_var[n]`` is
    Var(F_{n+1}), the share after step n as recorded; the result is aligned the same way.
    """
    var_before = np.concatenate([[0.0], np.asarray(share_var, dtype=float)[:-1]])  # Var(F_n), F_0 = 0
    rec_before = np.concatenate([[0.0], bass_discrete(len(var_before) - 1, p, q, dt_years)])  # F_n^rec
    c2 = dt_years * q * (2.0 + dt_years * q)
    out = np.empty(len(var_before))
    b = 0.0
    for n, (v, f) in enumerate(zip(var_before, rec_before)):
        lo = max(f - b, 0.0)
        slope = np.exp(-dt_years * (p + q * lo)) * (1.0 + (1.0 - lo) * dt_years * q)
        b = slope * b + 0.5 * c2 * v
        out[n] = b
    return out


def check_bass_case(cfg: Config) -> None:
    """Raise ValueError unless the config is the Bass special case of the GP choice (sim.gp_choice):
    only "join" offered, utility weight beta_u = 0, choice rate p + q s (no window rate), complete
    peers, offered from the start, salaried offices deciding like the others."""
    g = cfg.gp
    problems = [k for k, bad in (("gp.beta_u_per_knok must be 0", g.beta_u_per_knok != 0),
                                 ("gp.alternatives must be ['join']", g.alternatives != ["join"]),
                                 ("gp.window_choice_rate_per_year must be 0", g.window_choice_rate_per_year != 0),
                                 ("gp.peer_graph must be 'complete'", g.peer_graph != "complete"),
                                 ("gp.offered_from_start must be true", not g.offered_from_start),
                                 ("gp.salaried_follow_municipality must be false", g.salaried_follow_municipality))
                if bad]
    if problems:
        raise ValueError(f"{cfg.scenario}: not the Bass special case: {'; '.join(problems)}")


def bass_validation(cfg: Config, n_seeds: int, builds: BuildCache | None = None) -> pd.DataFrame:
    """Run the Bass case ``n_seeds`` times (replicate seeds 0..n-1) and compare with the closed form.

    One row per month: ``t``, ``t_years`` = (t + 1) / 12 (the share is recorded at the end of
    month t; the platform is offered at t_years = 0), ``share_mean``, ``share_var`` (sample
    variance over seeds), ``share_se`` = sd / sqrt(n_seeds), ``bass_discrete`` (the recursion),
    ``bass_cdf`` (the closed form), ``bias_bound`` (:func:`finite_population_bias_bound`), ``n_practices`` and
    the rates ``p_per_year``, ``q_per_year`` (so the table alone can be checked: :func:`bass_check`).
    The share is ``share_gps``; every practice has the same hazard, so its mean is the same as
    that of the office share.
    """
    check_bass_case(cfg)
    if n_seeds < 2:
        raise ValueError(f"n_seeds must be >= 2 (a standard error needs two runs), got {n_seeds}")
    region, network = (builds if builds is not None else BuildCache()).get(cfg)
    shares = np.vstack([
        RolloutModel(cfg, region=region, network=network, seed=replicate_seed(cfg, r)).run().monthly()["share_gps"]
        .to_numpy() for r in range(n_seeds)])
    p, q = cfg.gp.bass_p_per_year, cfg.gp.bass_q_per_year
    n = shares.shape[1]
    t_years = (np.arange(n) + 1) * DT_YEARS
    var = shares.var(axis=0, ddof=1)
    return pd.DataFrame({
        "t": np.arange(n), "t_years": t_years, "share_mean": shares.mean(axis=0), "share_var": var,
        "share_se": np.sqrt(var / n_seeds), "bass_discrete": bass_discrete(n, p, q), "bass_cdf": bass_cdf(t_years, p, q),
        "bias_bound": finite_population_bias_bound(var, p, q), "n_seeds": n_seeds, "n_practices": len(region.practices),
        "p_per_year": p, "q_per_year": q,
    })


def binomial_se_floor(curves: pd.DataFrame, dt_years: float = DT_YEARS) -> pd.Series:
    """A floor for the standard error of the mean share over seeds: the one-month binomial variance at the
    recursion's state, sqrt((1 - F_n) h_n (1 - h_n) / (N n_seeds)), h_n = 1 - e^{-dt (p + q F_n)},
    F_n the recursion before the month, N the practices. Given the start-of-month state the month's
    adopters are binomial, so the share's variance is at least this; it keeps a few seeds that happen
    to agree (sample variance 0, e.g. nobody joined in the first months) from claiming a zero error."""
    n, p, q = len(curves), float(curves["p_per_year"].iloc[0]), float(curves["q_per_year"].iloc[0])
    before = np.concatenate([[0.0], bass_discrete(n - 1, p, q, dt_years)])
    h = -np.expm1(-dt_years * (p + q * before))
    var = (1.0 - before) * h * (1.0 - h) / curves["n_practices"].to_numpy(dtype=float)
    return pd.Series(np.sqrt(var / curves["n_seeds"].to_numpy(dtype=float)), index=curves.index)


def bass_tolerance(curves: pd.DataFrame, z: float = Z_SAMPLING) -> pd.Series:
    """The allowed gap |simulated mean - F(t)| per month, each part computed, none a fudge factor:

        tol_t = |F_rec(t) - F(t)|  (discretisation: the monthly recursion against the closed form)
              + B_t                (finite population: :func:`finite_population_bias_bound`)
              + z max(se_t, se_floor_t)  (sampling: z standard errors of the mean over seeds, the sample's
                                          or :func:`binomial_se_floor`, whichever is larger)
    """
    se = np.maximum(curves["share_se"], binomial_se_floor(curves))
    return (curves["bass_discrete"] - curves["bass_cdf"]).abs() + curves["bias_bound"] + z * se


def bass_check(curves: pd.DataFrame, z: float = Z_SAMPLING) -> dict:
    """The verdict of a Bass validation table (:func:`bass_validation`): ``passed`` (every month's gap
    within its tolerance), ``verdict`` ("PASS" | "FAIL"), ``max_gap`` (max |mean - F(t)|), ``tolerance_at_max``
    (the tolerance in that month), ``max_tolerance``, ``months_outside`` and ``n_seeds``."""
    gap = (curves["share_mean"] - curves["bass_cdf"]).abs()
    tol = bass_tolerance(curves, z)
    i = int(gap.to_numpy().argmax())
    passed = bool((gap <= tol).all())
    return {"passed": passed, "verdict": "PASS" if passed else "FAIL", "max_gap": float(gap.iloc[i]),
            "tolerance_at_max": float(tol.iloc[i]), "max_tolerance": float(tol.max()),
            "months_outside": int((gap > tol).sum()), "n_seeds": int(curves["n_seeds"].iloc[0]), "z": float(z)}
