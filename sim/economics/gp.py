"""The GP's side: what the platform costs one GP against the current system, the money term of
each alternative of an office's choice (join, integrate, stay), break-even prices and payback.

Pure functions; NOK per GP, 2023 money. The model's decision (sim.gp_choice) and the accounts
(costs_gp.csv) take the money term from the same functions here: one account of money.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import Config
from sim.economics.valuation import annuity_factor


@dataclass(frozen=True)
class GPValuation:
    """What each GP office chose and the money it was valued at in that month (arrays over practices).

    ``choice``: codes into ``sim.config.GP_CHOICES`` (join, integrate, stay, follow), -1 = never chose;
    ``choice_month``: month of that choice (-1 none); ``valued_month``: month the money below is valued at
    (the choice month; the last month for an office that never chose); ``time_saved_nok_per_gp_year``: the
    network's time saving if it joins, x GP hour value, per GP; ``integrate_time_saved_nok_per_gp_year``: the
    same if it integrates; ``subsidy_nok_per_gp_year``: the subsidy then; ``money_knok`` (practices x
    alternatives): the money term the choice used (kNOK/GP/year); ``time_saved_by_month`` (practices x months):
    the time saving if joined at the end of each month; ``integrated_by_month``: integrated at the end of each month.
    """

    choice: np.ndarray
    choice_month: np.ndarray
    valued_month: np.ndarray
    time_saved_nok_per_gp_year: np.ndarray
    integrate_time_saved_nok_per_gp_year: np.ndarray
    subsidy_nok_per_gp_year: np.ndarray
    money_knok: np.ndarray
    time_saved_by_month: np.ndarray
    integrated_by_month: np.ndarray


@dataclass(frozen=True)
class GPPrice:
    """What the platform costs one GP (NOK per GP), against the current system.

    training = days x (consultations/year / working days/year) x net income/consultation;
    productivity loss = share x months x (consultations/year / 12) x net income/consultation;
    oneoff = implementation + training + productivity loss;
    annualised oneoff = oneoff x a, a = annuity_factor(economics.discount_rate, gp.amortisation_years),
    and each one-off item annualised the same way (the three sum to the annualised oneoff);
    net price = licence + annualised oneoff - current system cost (NOK/GP/year);
    integration = the yearly cost of the "integrate" alternative (gp_price.integration_nok_per_gp_year).
    """

    licence_nok_per_gp_year: float
    implementation_oneoff_nok_per_gp: float
    training_oneoff_nok_per_gp: float
    productivity_loss_oneoff_nok_per_gp: float
    oneoff_nok_per_gp: float
    annualised_oneoff_nok_per_gp_year: float
    current_ehr_cost_nok_per_gp_year: float
    net_price_nok_per_gp_year: float
    implementation_annualised_nok_per_gp_year: float
    training_annualised_nok_per_gp_year: float
    productivity_dip_annualised_nok_per_gp_year: float
    integration_nok_per_gp_year: float


def gp_price(cfg: Config) -> GPPrice:
    """The GP price model of :class:`GPPrice` from ``cfg.gp_price``, ``cfg.gp`` and the discount rate."""
    p = cfg.gp_price
    per_consultation = p.net_income_per_consultation_nok
    training = p.training_days_per_gp * (p.consultations_per_gp_year / p.working_days_per_year) * per_consultation
    productivity = p.productivity_loss_share * p.productivity_loss_months * (p.consultations_per_gp_year / 12.0) * per_consultation
    oneoff = p.implementation_oneoff_nok_per_gp + training + productivity
    a = annuity_factor(cfg.economics.discount_rate, cfg.gp.amortisation_years)
    annualised = oneoff * a
    return GPPrice(
        licence_nok_per_gp_year=p.licence_nok_per_gp_year,
        implementation_oneoff_nok_per_gp=p.implementation_oneoff_nok_per_gp,
        training_oneoff_nok_per_gp=training,
        productivity_loss_oneoff_nok_per_gp=productivity,
        oneoff_nok_per_gp=oneoff,
        annualised_oneoff_nok_per_gp_year=annualised,
        current_ehr_cost_nok_per_gp_year=p.current_ehr_cost_nok_per_gp_year,
        net_price_nok_per_gp_year=p.licence_nok_per_gp_year + annualised - p.current_ehr_cost_nok_per_gp_year,
        implementation_annualised_nok_per_gp_year=p.implementation_oneoff_nok_per_gp * a,
        training_annualised_nok_per_gp_year=training * a,
        productivity_dip_annualised_nok_per_gp_year=productivity * a,
        integration_nok_per_gp_year=p.integration_nok_per_gp_year,
    )


def join_money_nok_per_gp_year(price: GPPrice, time_saved_nok_per_gp_year, subsidy_nok_per_gp_year):
    """Money term of joining, NOK per GP per year, against staying as is:

        M_join = time saved + current record-system cost saved + subsidy - licence
                 - annualised (implementation + training + productivity dip)

    time saved = the network's search hours saved for the office's own patients x the GP hour value,
    per GP. Arrays broadcast.
    """
    return (np.asarray(time_saved_nok_per_gp_year, dtype=float) + price.current_ehr_cost_nok_per_gp_year
            + np.asarray(subsidy_nok_per_gp_year, dtype=float) - price.licence_nok_per_gp_year
            - price.annualised_oneoff_nok_per_gp_year)


def integrate_money_nok_per_gp_year(price: GPPrice, time_saved_nok_per_gp_year):
    """Money term of integrating (own record, messages, kjernejournal and read access), NOK per GP per year:

        M_integrate = time saved by integrating - integration cost
    """
    return np.asarray(time_saved_nok_per_gp_year, dtype=float) - price.integration_nok_per_gp_year


def break_even_licence_nok_per_gp_year(price: GPPrice, time_saved_nok_per_gp_year, subsidy_nok_per_gp_year):
    """The licence price at which the money term of joining is zero (M_join = 0 solved for the licence):

        L* = time saved + current record-system cost + subsidy - annualised one-off

    Negative: the office loses money at any licence price.
    """
    return join_money_nok_per_gp_year(price, time_saved_nok_per_gp_year, subsidy_nok_per_gp_year) \
        + price.licence_nok_per_gp_year


def break_even_subsidy_nok_per_gp_year(price: GPPrice, time_saved_nok_per_gp_year, subsidy_nok_per_gp_year):
    """The subsidy at which the money term of joining is zero: S* = subsidy - M_join
    (= licence + annualised one-off - current record-system cost - time saved). Negative: no subsidy needed."""
    return np.asarray(subsidy_nok_per_gp_year, dtype=float) - join_money_nok_per_gp_year(
        price, time_saved_nok_per_gp_year, subsidy_nok_per_gp_year)


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
