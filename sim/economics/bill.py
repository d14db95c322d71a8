"""The municipal bill, bottom-up: what one municipality pays each year, component by component.

A municipality's bill is its share of Helseplattformen AS's fee (:func:`allocate_platform_cost`:
the investment share, the operating fee, loan repayments) plus its own costs around it
(``cfg.bill``): the local one-off (project staff, super-users, training backfill, data migration,
local integrations, equipment), the productivity dip after go-live, the local running cost, less
the legacy record-system contract it ends. Users are the municipal platform users
(:func:`sim.economics.platform.users_by_municipality`: ``economics.users_per_inhabitant_municipal``
spread by care recipients); an hour is valued at ``economics.nurse_hourly_cost_nok``, one FTE-year
at that x ``bill.hours_per_fte_year``.

Signs: costs are positive, savings (the legacy contract, the state's share of the local one-off)
negative, so the net cost is the sum of the components. Whole kroner per (municipality, year).
Timing (month t = go-live month L of the municipality): project staff evenly over the
``project_months`` months before L; super-users, training, migration, integrations and equipment
in month L - 1; the productivity dip evenly over ceil(productivity_dip_months) months from L; the
local running cost from L on; the legacy saving from L + legacy_overlap_months on. A municipality
that never goes live has no bill. Amounts in months outside the table years are not shown.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config import Config
from sim.economics.months import months_on_by_year
from sim.economics.platform import PlatformAllocation, ex_ante_charges_nok, users_by_municipality
from sim.economics.valuation import annuity_factor
from sim.region import Region, largest_remainder

LOCAL_ONEOFF: tuple[str, ...] = ("project_staff_nok", "super_users_nok", "training_backfill_nok", "migration_nok",
                                 "integrations_nok", "equipment_nok")
"""The local one-off components (NOK per municipality)."""

BILL_COMPONENTS: tuple[str, ...] = (
    "platform_investment_nok", "platform_operating_nok", "loan_repayment_nok", *LOCAL_ONEOFF,
    "state_local_share_nok", "productivity_dip_nok", "local_running_nok", "legacy_contract_saving_nok", "gp_subsidy_nok",
)
"""Every column of the bill, in sheet order; their sum is ``net_cost_nok``."""

PAID_TO_HELSEPLATTFORMEN: tuple[str, ...] = ("platform_investment_nok", "platform_operating_nok", "migration_nok",
                                             "integrations_nok")
"""The components invoiced by Helseplattformen AS (what a municipality's payments to the company comprise)."""


# --------------------------------------------------------------------------- amounts per municipality


def fte_cost_nok_per_year(cfg: Config) -> float:
    """One FTE-year: c = economics.nurse_hourly_cost_nok x bill.hours_per_fte_year (NOK, employer costs included)."""
    return cfg.economics.nurse_hourly_cost_nok * cfg.bill.hours_per_fte_year


def local_oneoff_nok(cfg: Config, users: np.ndarray) -> dict[str, np.ndarray]:
    """The local one-off per municipality (NOK), u = its users, w = nurse hourly cost, c = :func:`fte_cost_nok_per_year`.

    project_staff = (project_fte_base + project_fte_per_1000_users u / 1000) c project_months / 12;
    super_users = superuser_share u superuser_hours w; training_backfill = u training_hours_per_user w;
    migration = migration_nok_per_municipality; integrations = integrations_nok_per_municipality;
    equipment = u equipment_nok_per_user. The fixed terms make it weigh more per inhabitant on small
    municipalities.
    """
    b, u = cfg.bill, np.asarray(users, dtype=float)
    w, c = cfg.economics.nurse_hourly_cost_nok, fte_cost_nok_per_year(cfg)
    one = np.ones_like(u)
    return {
        "project_staff_nok": (b.project_fte_base + b.project_fte_per_1000_users * u / 1000.0) * c * b.project_months / 12.0,
        "super_users_nok": b.superuser_share * u * b.superuser_hours * w,
        "training_backfill_nok": u * b.training_hours_per_user * w,
        "migration_nok": b.migration_nok_per_municipality * one,
        "integrations_nok": b.integrations_nok_per_municipality * one,
        "equipment_nok": u * b.equipment_nok_per_user,
    }


def productivity_dip_nok(cfg: Config, users: np.ndarray) -> np.ndarray:
    """Working time lost after go-live (NOK per municipality): D = u x productivity_dip_share x productivity_dip_months / 12 x c."""
    b = cfg.bill
    return np.asarray(users, dtype=float) * b.productivity_dip_share * b.productivity_dip_months / 12.0 * fte_cost_nok_per_year(cfg)


def local_running_nok_per_year(cfg: Config, users: np.ndarray) -> np.ndarray:
    """Local running cost (NOK per municipality and year): R = (local_running_fte_base + local_running_fte_per_1000_users u / 1000) c."""
    b = cfg.bill
    return (b.local_running_fte_base + b.local_running_fte_per_1000_users * np.asarray(users, dtype=float) / 1000.0) \
        * fte_cost_nok_per_year(cfg)


def legacy_contract_nok_per_year(cfg: Config, users: np.ndarray) -> np.ndarray:
    """The legacy record-system contract a municipality ends (NOK per year): S = legacy_nok_per_municipality_year + legacy_nok_per_user_year u."""
    b = cfg.bill
    return b.legacy_nok_per_municipality_year + b.legacy_nok_per_user_year * np.asarray(users, dtype=float)


# --------------------------------------------------------------------------- timing


def window_share_by_year(start: np.ndarray, length: int, cfg: Config, years: np.ndarray) -> np.ndarray:
    """Share of an amount spread evenly over months [start_i, start_i + length) that falls in each year.

    W[i, j] = |[start_i, start_i + length) ∩ months of years[j]| / length; months may lie before t = 0
    (the calendar runs on backwards); 0 for start_i = None-like agents is the caller's mask. Shape (n, len(years)).
    """
    y0, m0 = (int(x) for x in cfg.run.start_month.split("-"))
    n = max(1, int(length))
    first = 12 * (np.asarray(years) - y0) - (m0 - 1)  # month index t of each year's January
    s = np.asarray(start, dtype=np.int64)[:, None]
    overlap = np.minimum(s + n, first[None, :] + 12) - np.maximum(s, first[None, :])
    return np.clip(overlap, 0, None) / n


def spread_whole_kroner(amount: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Whole kroner by year: rint(amount_i) x the share of each year (rows of ``shares``) by largest remainder,
    so each row sums to rint(amount_i) x (the share of its window inside the table years, 1 when all of it is)."""
    total = np.rint(np.asarray(amount, dtype=float) * shares.sum(axis=1)).astype(np.int64)
    out = np.zeros(shares.shape, dtype=np.int64)
    for i in np.flatnonzero(total):
        out[i] = largest_remainder(int(total[i]), shares[i])
    return out


def local_costs_by_year(cfg: Config, region: Region, muni_live_month: np.ndarray, years: np.ndarray) -> dict[str, np.ndarray]:
    """The municipality's own components by year (whole kroner, int64, shape (n_municipalities, len(years))).

    Keys: the :data:`LOCAL_ONEOFF` components (each whole-krone amount split over its months' years by
    largest remainder, :func:`spread_whole_kroner`, so it is paid to the krone), ``state_local_share_nok`` = -rint(financing.state_share_local x
    the local one-offs of the year), ``productivity_dip_nok``, ``local_running_nok`` (R x months live / 12)
    and ``legacy_contract_saving_nok`` = -rint(S x months past go-live + overlap / 12). Timing: module docstring.
    """
    live = np.asarray(muni_live_month, dtype=np.int64)
    joins = (live >= 0)[:, None]
    users = users_by_municipality(cfg, region)
    b = cfg.bill
    project = window_share_by_year(live - max(1, int(round(b.project_months))), int(round(b.project_months)), cfg, years)
    before = window_share_by_year(live - 1, 1, cfg, years)
    dip_months = max(1, math.ceil(b.productivity_dip_months))
    after = window_share_by_year(live, dip_months, cfg, years)
    whole = lambda a: np.where(joins, np.rint(a), 0).astype(np.int64)  # noqa: E731 - whole kroner, joiners only
    out: dict[str, np.ndarray] = {}
    for k, v in local_oneoff_nok(cfg, users).items():
        out[k] = spread_whole_kroner(np.where(joins[:, 0], v, 0.0), project if k == "project_staff_nok" else before)
    oneoff = sum(out[k] for k in LOCAL_ONEOFF)
    out["state_local_share_nok"] = -np.rint(cfg.financing.state_share_local * oneoff).astype(np.int64)
    out["productivity_dip_nok"] = spread_whole_kroner(np.where(joins[:, 0], productivity_dip_nok(cfg, users), 0.0), after)
    out["local_running_nok"] = whole(local_running_nok_per_year(cfg, users)[:, None] * months_on_by_year(live, cfg, years) / 12.0)
    ended = np.where(live >= 0, live + int(round(b.legacy_overlap_months)), -1)
    out["legacy_contract_saving_nok"] = -whole(legacy_contract_nok_per_year(cfg, users)[:, None]
                                               * months_on_by_year(ended, cfg, years) / 12.0)
    return out


def municipal_bill(cfg: Config, region: Region, alloc: PlatformAllocation, muni_live_month: np.ndarray,
                   gp_subsidy_nok: np.ndarray) -> dict[str, np.ndarray]:
    """Every :data:`BILL_COMPONENTS` array (int64, (n_municipalities, n_years)) plus ``net_cost_nok``, their sum.

    The platform components come from ``alloc.municipal`` (net of the state grant and the state, regional
    and GP-licence parts): platform_investment = net_investment, platform_operating = net_operating,
    loan_repayment; the rest from :func:`local_costs_by_year`; gp_subsidy_nok is given (the agreement subsidy
    the municipality pays its GPs).
    """
    mu = alloc.municipal
    out = {"platform_investment_nok": mu["net_investment"], "platform_operating_nok": mu["net_operating"],
           "loan_repayment_nok": mu["loan_repayment"]}
    out.update(local_costs_by_year(cfg, region, muni_live_month, alloc.years))
    out["gp_subsidy_nok"] = np.asarray(gp_subsidy_nok, dtype=np.int64)
    out = {k: out[k] for k in BILL_COMPONENTS}
    out["net_cost_nok"] = sum(out[k] for k in BILL_COMPONENTS)
    return out


# --------------------------------------------------------------------------- the bill a municipality expects


def expected_bill_nok(cfg: Config, region: Region, members: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """What each municipality expects to pay if it joins, per component (NOK, region row order).

    One-offs (NOK): platform_investment (:func:`ex_ante_charges_nok`, its share of the net municipal
    investment), the :func:`local_oneoff_nok` components x (1 - financing.state_share_local), productivity_dip.
    Annual (NOK/year): platform_operating, loan_repayment (for loan_years years), local_running,
    legacy_contract_saving (negative). ``members``: who shares the platform fee (default: all option holders).
    """
    bill = ex_ante_charges_nok(cfg, region, members)
    users = users_by_municipality(cfg, region)
    keep = 1.0 - cfg.financing.state_share_local
    out = {"platform_investment_nok": bill["investment_nok"].to_numpy(dtype=float)}
    out.update({k: v * keep for k, v in local_oneoff_nok(cfg, users).items()})
    out["productivity_dip_nok"] = productivity_dip_nok(cfg, users)
    out["platform_operating_nok"] = bill["operating_nok_per_year"].to_numpy(dtype=float)
    out["loan_repayment_nok"] = bill["loan_repayment_nok_per_year"].to_numpy(dtype=float)
    out["local_running_nok"] = local_running_nok_per_year(cfg, users)
    out["legacy_contract_saving_nok"] = -legacy_contract_nok_per_year(cfg, users)
    return out


ONEOFF_KEYS: tuple[str, ...] = ("platform_investment_nok", *LOCAL_ONEOFF, "productivity_dip_nok")
"""Components of :func:`expected_bill_nok` that are one-offs; the others are annual."""


def expected_net_cost_nok_per_inhabitant_year(cfg: Config, region: Region, members: np.ndarray | None = None) -> np.ndarray:
    """What each municipality expects to pay per inhabitant and year, net of what it saves (region row order).

    c_m = [a(r, A) (sum of one-offs_m + PV(loan_m)) + operating_m + running_m - legacy_m] / population_m,
    the components of :func:`expected_bill_nok`, a = :func:`annuity_factor` at r = economics.discount_rate over
    A = bill.appraisal_years, PV(loan) = loan_repayment x sum_{t < n} (1 + r)^-t over n = loan_years.
    NOK/inhabitant/year. Fixed local costs (project lead, migration, integrations, the fixed part of the
    fee and of the legacy contract) make it differ by size. ``members``: who shares the platform fee.
    """
    e = cfg.economics
    parts = expected_bill_nok(cfg, region, members)
    r = e.discount_rate
    n_loan = max(1, int(round(cfg.financing.loan_years)))
    loan_pv = parts["loan_repayment_nok"] * float(np.sum((1.0 + r) ** -np.arange(n_loan)))
    oneoff = sum(parts[k] for k in ONEOFF_KEYS) + loan_pv
    annual = parts["platform_operating_nok"] + parts["local_running_nok"] + parts["legacy_contract_saving_nok"]
    pop = region.municipalities["population"].to_numpy(dtype=float)
    return (annuity_factor(r, cfg.bill.appraisal_years) * oneoff + annual) / pop
