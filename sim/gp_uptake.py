"""What drives GP uptake (issue #19): the split of uptake by utility term, the uptake of offices that
lose money, the break-even price over offices, and uptake curves over the licence price and subsidy.

Every function reruns the model under common random numbers (the same replicate seeds), changing
only the term or lever named, so differences between rows are the term's or lever's effect alone.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from sim.config import Config, with_overrides
from sim.draws import draw_configs, draw_table
from sim.gp_choice import NAMED_TERMS
from sim.runner import run_replicates

SPLIT_TERMS: tuple[str, ...] = ("money", "time_saved", *NAMED_TERMS, "random")
"""Terms the uptake split sets to zero one at a time (``gp.zero_terms``)."""


def _share_columns(cfg: Config) -> list[str]:
    return [f"share_gps_{cfg.run.report_year}", "share_gps_end", "share_gps_integrated_end"]


def uptake_split(cfg: Config, seeds: Iterable[int]) -> pd.DataFrame:
    """GP uptake with each utility term set to zero in turn, under the same draws.

    One row per (term, seed): ``term`` = "none" (the model as configured), each of :data:`SPLIT_TERMS`,
    or "named" (functionality, risk and peer together); the GP shares at the report year and the end;
    ``accounts_for_<col>`` = share with nothing zeroed - share with the term zeroed (what the term adds;
    negative where the term holds uptake back, e.g. "risk"; for "random" the uptake the logit's random
    term adds or removes against choosing the best alternative).
    """
    reps = list(seeds)
    cols = _share_columns(cfg)
    rows = []
    for term, zero in [("none", []), *((t, [t]) for t in SPLIT_TERMS), ("named", list(NAMED_TERMS))]:
        s = run_replicates(with_overrides(cfg, {"gp.zero_terms": zero}), reps).summary
        rows.append(s[["seed", *cols]].assign(term=term))
    df = pd.concat(rows, ignore_index=True)
    full = df[df["term"] == "none"].set_index("seed")[cols]
    for c in cols:
        df[f"accounts_for_{c}"] = full.loc[df["seed"], c].to_numpy() - df[c].to_numpy()
    return df[["term", "seed", *cols, *(f"accounts_for_{c}" for c in cols)]]


def residual_uptake(cfg: Config, seeds: Iterable[int]) -> pd.DataFrame:
    """Uptake of offices that lose money when only the money term and the random term act.

    The model runs with the named terms (functionality, risk, peer) at zero; an office "loses money"
    when its money term for joining at the month it was valued (its choice) is negative. One row per
    seed: ``share_gps_money_losing_joined`` = GPs in money-losing offices that chose to join / all GPs
    (the random term's residual uptake), ``share_gps_money_losing`` = GPs in money-losing offices /
    all GPs, ``share_gps_joined_by_choice`` = GPs in offices that chose to join / all GPs (offices
    following their municipality are left out of all three).
    """
    tables = run_replicates(with_overrides(cfg, {"gp.zero_terms": list(NAMED_TERMS)}), list(seeds))
    cg = tables.costs_gp
    rows = []
    for seed, g in cg.groupby("seed", sort=True):
        n = g["n_gps"].sum()
        losing = g["money_join_nok_per_gp_year"] < 0
        chose_join = g["choice"] == "join"
        rows.append({"seed": int(seed), "share_gps_money_losing": g.loc[losing, "n_gps"].sum() / n,
                     "share_gps_money_losing_joined": g.loc[losing & chose_join, "n_gps"].sum() / n,
                     "share_gps_joined_by_choice": g.loc[chose_join, "n_gps"].sum() / n})
    return pd.DataFrame(rows)


def break_even_distribution(costs_gp: pd.DataFrame, quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)) -> pd.DataFrame:
    """The break-even licence price and subsidy over offices (and seeds), per scenario, GP-weighted.

    One row per (scenario, quantity): quantity = licence | subsidy (NOK per GP per year), the GP-weighted
    quantiles ``q10``, ``q50``, ``q90`` (of ``quantiles``), ``share_gps_below_zero`` (licence: offices
    that lose money at any price; subsidy: offices that need none) and ``n_offices`` (rows counted).
    """
    rows = []
    for scenario, g in costs_gp.groupby("scenario", sort=False):
        w = g["n_gps"].to_numpy(dtype=float)
        for quantity in ("licence", "subsidy"):
            x = g[f"break_even_{quantity}_nok_per_gp_year"].to_numpy(dtype=float)
            order = np.argsort(x, kind="stable")
            cum = (np.cumsum(w[order]) - 0.5 * w[order]) / w.sum()
            row = {"scenario": scenario, "quantity": quantity}
            row |= {f"q{round(q * 100):02d}": float(np.interp(q, cum, x[order])) for q in quantiles}
            row |= {"share_gps_below_zero": float(w[x < 0].sum() / w.sum()), "n_offices": len(g)}
            rows.append(row)
    return pd.DataFrame(rows)


def uptake_over_levers(cfg: Config, seeds: Iterable[int], licences_nok: Iterable[float] = (),
                       subsidies_nok: Iterable[float] = ()) -> pd.DataFrame:
    """GP uptake over the licence price and over the subsidy, each varied alone from ``cfg``, same draws.

    One row per (lever, value, draw, seed): lever = "licence" (``gp_price.licence_nok_per_gp_year``) or
    "subsidy" (``agreement.subsidy_nok_per_gp_year``), the GP shares at the report year and the end. With
    ``run.draws`` = K > 0 every value runs the same K parameter draws of the uncertain inputs
    (:func:`sim.draws.draw_table`; levers are never drawn), so the bands of :func:`sim.plots.gp.fig_gp_levers`
    (quantiles over seeds and draws) carry the parameter uncertainty as well.
    """
    reps = list(seeds)
    cols = _share_columns(cfg)
    front = ["lever", "value_nok_per_gp_year", "draw", "seed"]
    rows = []
    for lever, key, values in (("licence", "gp_price.licence_nok_per_gp_year", licences_nok),
                               ("subsidy", "agreement.subsidy_nok_per_gp_year", subsidies_nok)):
        for v in values:
            at = with_overrides(cfg, {key: float(v)})
            s = run_replicates(draw_configs(at, draw_table(at, at.run.draws)), reps).summary
            rows.append(s[["draw", "seed", *cols]].assign(lever=lever, value_nok_per_gp_year=float(v)))
    if not rows:
        return pd.DataFrame(columns=[*front, *cols])
    return pd.concat(rows, ignore_index=True)[[*front, *cols]]
