"""The bill against what municipalities were quoted, budgeted or paid (sim/data/municipal_costs_observed.csv).

One row per comparable observation: the same municipality, year and content as the model figure.
Overruns, risk reserves and running costs "above plan" are differences, not bills, and stay out
(:data:`EXCLUDED`). A row is ``fitted`` when it set a parameter (:func:`fit_bill_parameters` solves
for it; baseline.toml carries the value) or a ``check`` when it did not; checks are never tuned.

Model figures (NOK, 2023 money; observed figures are nominal):

* ``oneoff_cash``: the expected one-off a municipality commits to when it joins, its share of the
  net municipal platform investment plus its local one-off (:func:`sim.economics.bill.expected_bill_nok`;
  the productivity dip is lost time, not a budgeted payment, and is left out);
* ``annual_fee``: its expected annual platform fee (operating share) with everyone on the platform;
* ``paid_to_helseplattformen``: what it pays Helseplattformen AS in the year (platform investment and
  operating shares, migration, integrations) under the recorded go-live calendar to 2023
  (:func:`sim.history.golive_months`; the others live after 2023, which does not move 2023 flows
  bar the investment shares, which count every joiner).

Reads one shipped data file; no other I/O.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from sim.config import Config, with_overrides
from sim.economics.bill import LOCAL_ONEOFF, PAID_TO_HELSEPLATTFORMEN, expected_bill_nok, fte_cost_nok_per_year, municipal_bill
from sim.economics.months import economics_years
from sim.economics.platform import allocate_platform_cost
from sim.history import golive_months
from sim.region import Region, data_path

OBSERVED_FILE = "municipal_costs_observed.csv"

COMPARABLE: tuple[tuple[str, int, str, str, str, str], ...] = (
    # kommunenummer, year, item, model figure, role, fitted parameter ("" for checks)
    ("1554", 2023, "annual_fee", "annual_fee", "fitted", "economics.operating_nok_per_year"),
    ("5038", 2019, "budget_frame", "annual_fee", "fitted", "financing.fixed_part_share"),
    ("1554", 2023, "one_off", "oneoff_cash", "fitted", "bill.project_fte_base"),
    ("5001", 2019, "budget_frame", "oneoff_cash", "check", ""),
    ("5001", 2021, "budget_frame", "oneoff_cash", "check", ""),
    ("5037", 2023, "annual_fee", "paid_to_helseplattformen", "check", ""),
    ("5037", 2023, "budget_frame", "paid_to_helseplattformen", "check", ""),
)
"""The comparable observations and what each is compared with."""

EXCLUDED: dict[tuple[str, int, str, int], str] = {
    ("5001", 2019, "budget_frame", 34_000_000): "risk reserve, not a bill",
    ("5001", 2021, "overrun", 64_000_000): "overrun (difference of two frames)",
    ("5001", 2021, "local_running", 14_500_000): "running cost above plan (a difference, not a bill)",
    ("5037", 2023, "overrun", 2_000_000): "overrun",
    ("1507", 2023, "overrun", 28_000_000): "overrun",
}
"""Rows of the observed file left out, by (kommunenummer, year, item, value_nok), with the reason."""

FIGURE_TEXT = {
    "oneoff_cash": "expected one-off: platform investment share + local one-off (no productivity dip)",
    "annual_fee": "expected annual platform fee (operating share), everyone on the platform",
    "paid_to_helseplattformen": "paid to Helseplattformen AS in the year (investment and operating shares, migration, integrations), recorded go-lives",
}


def observed_costs() -> pd.DataFrame:
    """The shipped municipal_costs_observed.csv, kommunenummer as a 4-character string."""
    return pd.read_csv(data_path(OBSERVED_FILE), dtype={"kommunenummer": str})


def recorded_live_months(cfg: Config, region: Region, later: str = "2024-10") -> np.ndarray:
    """Go-live month index per municipality: the recorded month where history has one, else ``later``."""
    rec = golive_months()
    later_t = cfg.t_of(later)
    return np.array([cfg.t_of(rec[k].strftime("%Y-%m")) if k in rec.index else later_t
                     for k in region.municipalities["kommunenummer"].astype(str)], dtype=np.int64)


def model_figures(cfg: Config, region: Region) -> pd.DataFrame:
    """The three model figures per municipality (index kommunenummer): oneoff_cash, annual_fee and
    paid_to_helseplattformen_<year> for every table year."""
    parts = expected_bill_nok(cfg, region)
    out = pd.DataFrame({"oneoff_cash": parts["platform_investment_nok"] + sum(parts[k] for k in LOCAL_ONEOFF),
                        "annual_fee": parts["platform_operating_nok"]},
                       index=region.municipalities["kommunenummer"].astype(str))
    live = recorded_live_months(cfg, region)
    alloc = allocate_platform_cost(cfg, region, live, np.full(len(region.practices), -1))
    bill = municipal_bill(cfg, region, alloc, live, np.zeros_like(alloc.municipal["net"]))
    paid = sum(bill[k] for k in PAID_TO_HELSEPLATTFORMEN)
    for j, y in enumerate(economics_years(cfg)):
        out[f"paid_to_helseplattformen_{y}"] = paid[:, j]
    return out


def bill_validation(cfg: Config, region: Region) -> pd.DataFrame:
    """One row per comparable observation: kommunenummer, municipality, year, item, what_it_includes,
    model_figure, model_nok, observed_nok, ratio (model / observed), role, fitted_parameter."""
    obs = observed_costs()
    fig = model_figures(cfg, region)
    rows = []
    for knr, year, item, figure, role, param in COMPARABLE:
        hit = obs[(obs["kommunenummer"] == knr) & (obs["year"] == year) & (obs["item"] == item)]
        hit = hit[[(knr, year, item, int(v)) not in EXCLUDED for v in hit["value_nok"]]]
        if knr not in fig.index or len(hit) != 1:
            continue
        o = hit.iloc[0]
        col = f"{figure}_{year}" if figure == "paid_to_helseplattformen" else figure
        model = float(fig.loc[knr, col])
        rows.append({"kommunenummer": knr, "municipality": o["municipality"], "year": year, "item": item,
                     "what_it_includes": o["what_it_includes"], "model_figure": FIGURE_TEXT[figure],
                     "model_nok": round(model), "observed_nok": int(o["value_nok"]),
                     "ratio": round(model / float(o["value_nok"]), 3), "role": role, "fitted_parameter": param})
    return pd.DataFrame(rows)


def fit_bill_parameters(cfg: Config, region: Region) -> dict[str, float]:
    """Solve the ``fitted`` rows exactly, in order: fixed_part_share from Verdal's over Averøy's annual fee
    (the ratio does not depend on the level), operating_nok_per_year from Averøy's annual fee (the fee is
    proportional to it), project_fte_base from Averøy's one-off (linear in it). Returns the dotted keys."""
    obs = observed_costs().set_index(["kommunenummer", "year", "item"])["value_nok"]
    averoy_fee, verdal_fee, averoy_oneoff = (float(obs[("1554", 2023, "annual_fee")]), float(obs[("5038", 2019, "budget_frame")]),
                                             float(obs[("1554", 2023, "one_off")]))

    def fees(c: Config) -> pd.Series:
        return model_figures(c, region)["annual_fee"]

    phi = brentq(lambda x: (lambda f: f["5038"] / f["1554"])(fees(with_overrides(cfg, {"financing.fixed_part_share": x})))
                 - verdal_fee / averoy_fee, 0.0, 1.0, xtol=1e-6)
    cfg = with_overrides(cfg, {"financing.fixed_part_share": phi})
    operating = cfg.economics.operating_nok_per_year * averoy_fee / fees(cfg)["1554"]
    cfg = with_overrides(cfg, {"economics.operating_nok_per_year": operating})
    at0 = with_overrides(cfg, {"bill.project_fte_base": 0.0})
    base = (averoy_oneoff - model_figures(at0, region).loc["1554", "oneoff_cash"]) / (
        fte_cost_nok_per_year(cfg) * cfg.bill.project_months / 12.0)
    return {"financing.fixed_part_share": phi, "economics.operating_nok_per_year": operating, "bill.project_fte_base": base}
