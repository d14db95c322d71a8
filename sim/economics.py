"""Economics: who pays, who gains (DESIGN.md, Economics).

Pure functions over numpy arrays and pandas tables: the GP price, hours and adverse
events valued in NOK, the platform cost and its financing split, NPV and payback.
No Mesa, no I/O. Money is 2023 NOK (real); years are calendar years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config import Config
from sim.region import Region, largest_remainder

PROVIDER_KINDS_VALUED: tuple[str, ...] = ("gp", "municipal", "hospital", "specialist")
"""Provider kinds whose search time is valued (the keys of :func:`hour_value_nok`)."""


# --------------------------------------------------------------------------- basic rates


def annuity_factor(rate: float, years: float) -> float:
    """Annual payment per NOK of present value: a = r / (1 - (1 + r)^-n); a = 1/n when r = 0.

    ``rate`` is per year (real), ``years`` the repayment period n > 0.
    """
    if years <= 0:
        raise ValueError(f"annuity_factor: years must be > 0, got {years}")
    if rate < 0:
        raise ValueError(f"annuity_factor: rate must be >= 0, got {rate}")
    if rate == 0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** (-years))


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


def hour_value_nok(cfg: Config) -> dict[str, float]:
    """NOK per hour of search time by provider kind: GP hour value, nurse (municipal care), physician (hospital, specialist)."""
    e = cfg.economics
    return {
        "gp": cfg.gp_price.hourly_value_nok,
        "municipal": e.nurse_hourly_cost_nok,
        "hospital": e.physician_hourly_cost_nok,
        "specialist": e.physician_hourly_cost_nok,
    }


def gain_value_nok(search_hours_by_kind: dict[str, float | np.ndarray], adverse_events: float | np.ndarray,
                   cfg: Config) -> float | np.ndarray:
    """NOK of loss: V = sum_k hours_k x wage_k + adverse_events x cost_per_adverse_event (lower is better).

    Keys of ``search_hours_by_kind`` must be provider kinds of :func:`hour_value_nok`; a missing
    kind counts as 0 hours. Arrays broadcast (e.g. one entry per month).
    """
    wage = hour_value_nok(cfg)
    unknown = set(search_hours_by_kind) - set(wage)
    if unknown:
        raise ValueError(f"gain_value_nok: unknown provider kinds {sorted(unknown)} (known: {sorted(wage)})")
    value = adverse_events * cfg.economics.cost_per_adverse_event_nok
    for kind, hours in search_hours_by_kind.items():
        value = value + hours * wage[kind]
    return value


# --------------------------------------------------------------------------- municipal cost seen ex ante


def expected_net_cost_nok_per_inhabitant_year(cfg: Config, region: Region) -> np.ndarray:
    """Annual net platform cost per inhabitant that each municipality expects if every option holder joins.

    Municipal part of the annualised platform cost,
    C = nh x [(I - G') x a(r, N) + O] with nh = economics.non_hospital_share, I = investment_nok,
    G' = min(state_grant_nok, nh x I) / nh (the grant lowers the municipal investment),
    a = annuity_factor(discount_rate, economics.investment_annualisation_years), O = operating_nok_per_year;
    after the state and regional shares, (1 - state_share - regional_share) x C is split over all
    municipalities by the allocation key (floor included); minus the status-quo EPJ cost per inhabitant.
    GP licence income is not counted (municipalities do not count on GP uptake).
    Returns NOK per inhabitant per year, one entry per municipality in region row order.
    """
    e, f = cfg.economics, cfg.financing
    nh = e.non_hospital_share
    invest_muni = nh * e.investment_nok
    grant = min(f.state_grant_nok, invest_muni)
    a = annuity_factor(e.discount_rate, e.investment_annualisation_years)
    annual_muni = (invest_muni - grant) * a + nh * e.operating_nok_per_year
    payable = annual_muni * (1.0 - f.state_share - f.regional_share)
    pop = region.municipalities["population"].to_numpy(dtype=float)
    weights = allocation_weights(cfg, region)
    alloc = allocate_with_floor(payable, weights, _floor(cfg), np.ones(len(pop), dtype=bool))
    return alloc / pop - e.status_quo_epj_nok_per_inhabitant_year


# --------------------------------------------------------------------------- allocation keys


def allocation_weights(cfg: Config, region: Region) -> np.ndarray:
    """Key weights per municipality (region row order), before any floor.

    per_inhabitant and per_inhabitant_floor: population; per_user: users = users_per_inhabitant_municipal
    x population; mix: w x population share + (1 - w) x user share, w = mix_weight_inhabitant.
    """
    pop = region.municipalities["population"].to_numpy(dtype=float)
    key = cfg.financing.allocation_key
    users = cfg.economics.users_per_inhabitant_municipal * pop
    if key in ("per_inhabitant", "per_inhabitant_floor"):
        return pop
    if key == "per_user":
        return users
    w = cfg.financing.mix_weight_inhabitant
    return w * pop / pop.sum() + (1.0 - w) * users / max(users.sum(), 1e-300)


def _floor(cfg: Config) -> float:
    """The floor (NOK per municipality per year) of the configured key; 0 for keys without one."""
    return cfg.financing.floor_nok_per_municipality_year if cfg.financing.allocation_key in ("per_inhabitant_floor", "mix") else 0.0


def allocate_with_floor(total: float, weights: np.ndarray, floor: float, members: np.ndarray) -> np.ndarray:
    """Split ``total`` over ``members`` pro rata to ``weights``, no member below ``floor`` (real numbers).

    Water-filling: a_i = max(floor, lambda x w_i) with lambda such that sum_i a_i = total; members whose
    pro-rata share is below the floor are raised to it, the others pay less. When members x floor >=
    total, every member pays total / members. Non-members get 0.
    """
    w = np.where(members, np.asarray(weights, dtype=float), 0.0)
    out = np.zeros(len(w))
    n = int(members.sum())
    if n == 0 or total <= 0:
        return out
    if floor <= 0 or w.sum() <= 0:
        if w.sum() <= 0:
            out[members] = total / n
            return out
        return total * w / w.sum()
    if n * floor >= total:
        out[members] = total / n
        return out
    at_floor = members & (w <= 0)
    while True:
        free = members & ~at_floor
        lam = (total - floor * at_floor.sum()) / w[free].sum()
        newly = free & (lam * w < floor)
        if not newly.any():
            break
        at_floor |= newly
    out[at_floor] = floor
    out[free] = lam * w[free]
    return out
