"""The GP's side: what the platform costs one GP against the current system, and payback.

Pure functions; NOK per GP, 2023 money.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import Config
from sim.economics.valuation import annuity_factor


@dataclass(frozen=True)
class GPPrice:
    """What the platform costs one GP (NOK per GP), against the current system.

    training = days x (consultations/year / working days/year) x net income/consultation;
    productivity loss = share x months x (consultations/year / 12) x net income/consultation;
    oneoff = implementation + training + productivity loss;
    annualised oneoff = oneoff x annuity_factor(economics.discount_rate, gp.amortisation_years);
    net price = licence + annualised oneoff - current system cost (NOK/GP/year).
    """

    licence_nok_per_gp_year: float
    implementation_oneoff_nok_per_gp: float
    training_oneoff_nok_per_gp: float
    productivity_loss_oneoff_nok_per_gp: float
    oneoff_nok_per_gp: float
    annualised_oneoff_nok_per_gp_year: float
    current_ehr_cost_nok_per_gp_year: float
    net_price_nok_per_gp_year: float


def gp_price(cfg: Config) -> GPPrice:
    """The GP price model of :class:`GPPrice` from ``cfg.gp_price``, ``cfg.gp`` and the discount rate."""
    p = cfg.gp_price
    per_consultation = p.net_income_per_consultation_nok
    training = p.training_days_per_gp * (p.consultations_per_gp_year / p.working_days_per_year) * per_consultation
    productivity = p.productivity_loss_share * p.productivity_loss_months * (p.consultations_per_gp_year / 12.0) * per_consultation
    oneoff = p.implementation_oneoff_nok_per_gp + training + productivity
    annualised = oneoff * annuity_factor(cfg.economics.discount_rate, cfg.gp.amortisation_years)
    return GPPrice(
        licence_nok_per_gp_year=p.licence_nok_per_gp_year,
        implementation_oneoff_nok_per_gp=p.implementation_oneoff_nok_per_gp,
        training_oneoff_nok_per_gp=training,
        productivity_loss_oneoff_nok_per_gp=productivity,
        oneoff_nok_per_gp=oneoff,
        annualised_oneoff_nok_per_gp_year=annualised,
        current_ehr_cost_nok_per_gp_year=p.current_ehr_cost_nok_per_gp_year,
        net_price_nok_per_gp_year=p.licence_nok_per_gp_year + annualised - p.current_ehr_cost_nok_per_gp_year,
    )


def payback_years(oneoff_nok: float, inflow_nok_per_step: np.ndarray, dt_years: float = 1.0 / 12.0) -> float:
    """Simple (undiscounted) payback time in years: the smallest T with C(T) >= oneoff.

    Inflow f_k arrives evenly within step k (length dt years), so the cumulative inflow is
    piecewise linear with C(k dt) = sum_{j<k} f_j, and T = (k + (oneoff - C(k dt)) / f_k) dt for the
    first step k with C((k+1) dt) >= oneoff. T = 0 when oneoff <= 0; T = inf ("never") when the
    series ends first.
    """
    if oneoff_nok <= 0:
        return 0.0
    f = np.asarray(inflow_nok_per_step, dtype=float)
    cum = np.cumsum(f)
    hit = np.flatnonzero(cum >= oneoff_nok)
    if len(hit) == 0:
        return float("inf")
    k = int(hit[0])
    before = cum[k] - f[k]
    return float((k + (oneoff_nok - before) / f[k]) * dt_years)
