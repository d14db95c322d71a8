"""The output tables of one run (costs per municipality, per GP practice, who pays and who
gains) and the cross-check of the ex-ante bill against observed municipal prices.

Pure functions over the run's arrays, bar :func:`observed_prices_nok`, which reads a shipped
data file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import GP_CHOICES, Config, data_path
from sim.economics.gp import (GPValuation, break_even_licence_nok_per_gp_year, break_even_subsidy_nok_per_gp_year,
                              gp_price, integrate_money_nok_per_gp_year, join_money_nok_per_gp_year, payback_years)
from sim.economics.months import month_years, months_on_by_year, on_platform_by_month, year_of_month
from sim.economics.bill import BILL_COMPONENTS, PAID_TO_HELSEPLATTFORMEN, municipal_bill
from sim.economics.platform import PlatformAllocation, allocate_platform_cost
from sim.economics.valuation import hour_value_nok, npv, savings_by_month
from sim.region import Region


def _share_among_on(total_by_month: np.ndarray, start_month: np.ndarray, weights: np.ndarray, n_months: int) -> np.ndarray:
    """Split a monthly total among agents on at t (start_i >= 0 and t >= start_i) pro rata to weights: (n_agents, n_months)."""
    w = on_platform_by_month(start_month, n_months) * np.asarray(weights, dtype=float)[:, None]
    tot = w.sum(axis=0)
    return np.divide(w * total_by_month[None, :], tot[None, :], out=np.zeros_like(w), where=tot[None, :] > 0)


def _monthly_series(saved: pd.DataFrame, col: str, n_months: int) -> np.ndarray:
    """A column of :func:`savings_by_month` as an array indexed by t (0 where a month is missing)."""
    out = np.zeros(n_months)
    t = saved["t"].to_numpy()
    ok = (t >= 0) & (t < n_months)
    out[t[ok]] = saved[col].to_numpy()[ok]
    return out


# --------------------------------------------------------------------------- output tables


def costs_municipality(cfg: Config, region: Region, alloc: PlatformAllocation, muni_live_month: np.ndarray,
                       gp_join_month: np.ndarray, saved: pd.DataFrame) -> pd.DataFrame:
    """One row per (municipality, year): its bill by component, who covers the platform fee, its gains (NOK).

    platform_gross_nok = state_nok + regional_nok + gp_licence_nok + platform_net_nok (its share of the
    platform cost and who covers it, :func:`allocate_platform_cost`); platform_net_nok = investment +
    operating + loan repayments it pays. The bill: one column per :data:`sim.economics.bill.BILL_COMPONENTS`
    (:func:`sim.economics.bill.municipal_bill`; gp_subsidy_nok = agreement subsidy paid to its GPs on the
    platform, n_gps x subsidy x months on and under the agreement / 12); net_cost_nok = their sum
    (savings negative); paid_to_helseplattformen_nok = the components invoiced by the company. gains_nok =
    its municipal care's search hours saved x nurse hourly cost (the region's monthly saving shared
    among municipalities live that month by population). ``joined`` = live in some month of the year.
    npv_net_cost_nok, npv_gains_nok: NPV over all years of the table at discount_rate to base_year,
    repeated on every row of the municipality (tidy: drop duplicates on kommunenummer to get one per
    municipality). All money columns are whole kroner (int64) bar the per-inhabitant and NPV columns.
    """
    e = cfg.economics
    years = alloc.years
    munis = region.municipalities
    nm, ny = len(munis), len(years)
    pop = munis["population"].to_numpy(dtype=float)
    live = np.asarray(muni_live_month, dtype=np.int64)
    months = months_on_by_year(live, cfg, years)

    t_agreement = cfg.t_of(cfg.agreement.start_month)
    gp_start = np.asarray(gp_join_month, dtype=np.int64)
    gp_start = np.where(gp_start >= 0, np.maximum(gp_start, t_agreement), -1)
    gp_months = months_on_by_year(gp_start, cfg, years)
    subsidy_by_practice = cfg.agreement.subsidy_nok_per_gp_year * region.practices["n_gps"].to_numpy()[:, None] * gp_months / 12.0
    subsidy = np.zeros((nm, ny))
    np.add.at(subsidy, region.practices["muni_idx"].to_numpy(), subsidy_by_practice)
    bill = municipal_bill(cfg, region, alloc, live, np.rint(subsidy).astype(np.int64))

    hours = _monthly_series(saved, "hours_saved_municipal", cfg.n_months)
    gains_month = _share_among_on(hours * e.nurse_hourly_cost_nok, live, pop, cfg.n_months)
    gains = np.rint(gains_month @ year_of_month(cfg, years).astype(float)).astype(np.int64)

    mu = alloc.municipal
    net = bill["net_cost_nok"]
    npv_net = np.array([npv(row, years, e.discount_rate, e.base_year) for row in net])
    npv_gains = np.array([npv(row, years, e.discount_rate, e.base_year) for row in gains])
    rep = lambda a: np.repeat(np.asarray(a), ny)  # noqa: E731 - one value per municipality, on each of its rows
    flat = lambda a: np.asarray(a).reshape(-1)  # noqa: E731 - (municipality, year) arrays, municipality-major
    return pd.DataFrame({
        "kommunenummer": rep(munis["kommunenummer"].astype(str)),
        "name": rep(munis["name"]),
        "year": np.tile(years, nm),
        "population": rep(munis["population"].astype(np.int64)),
        "joined": flat(months > 0),
        "months_live": flat(months),
        "platform_gross_nok": flat(mu["gross"]),
        "state_nok": flat(mu["state"]),
        "regional_nok": flat(mu["regional"]),
        "gp_licence_nok": flat(mu["gp_licence"]),
        "platform_net_nok": flat(mu["net"]),
        **{k: flat(bill[k]) for k in BILL_COMPONENTS},
        "paid_to_helseplattformen_nok": flat(sum(bill[k] for k in PAID_TO_HELSEPLATTFORMEN)),
        "net_cost_nok": flat(net),
        "net_cost_nok_per_inhabitant": flat(np.round(net / pop[:, None], 2)),
        "gains_nok": flat(gains),
        "npv_net_cost_nok": rep(np.rint(npv_net).astype(np.int64)),
        "npv_gains_nok": rep(np.rint(npv_gains).astype(np.int64)),
    })


def costs_gp(cfg: Config, region: Region, gp_join_month: np.ndarray, valuation: GPValuation) -> pd.DataFrame:
    """One row per GP office: its choice and the money of each alternative per GP, valued at the month it chose.

    The components (NOK per GP per year; :class:`GPPrice`, :class:`GPValuation`) are the ones the office's
    decision used (sim.gp_choice), so the money terms recompute from them:

        money_join = time_saved + current_ehr_cost + subsidy - licence
                     - (implementation + training + productivity_dip) annualised   (:func:`join_money_nok_per_gp_year`)
        money_integrate = integrate_time_saved - integration                     (:func:`integrate_money_nok_per_gp_year`)

    ``choice``: join, integrate, stay, follow (joined with its municipality) or none; ``valued_month``: the
    month of that choice, or the last month for an office that never chose. time_saved: the network's search
    hours saved for the office's own patients if it joins (others as they were then) x the GP hour value, per
    GP. break_even_licence / break_even_subsidy: the licence (or subsidy) at which money_join is zero
    (:func:`break_even_licence_nok_per_gp_year`). payback_years: simple payback (:func:`payback_years`) of the
    one-off from the joined month, monthly inflow (current EHR cost + subsidy_t + time saved_t - licence) / 12
    with its time saving month by month; inf = joined but not paid back within the horizon, NaN = never joined.
    """
    price = gp_price(cfg)
    pr = region.practices
    n = cfg.n_months
    start = np.asarray(gp_join_month, dtype=np.int64)
    v = valuation
    joined = start >= 0
    t_agreement = cfg.t_of(cfg.agreement.start_month)
    subsidy_t = np.where(np.arange(n) >= t_agreement, cfg.agreement.subsidy_nok_per_gp_year, 0.0)
    inflow = (price.current_ehr_cost_nok_per_gp_year + subsidy_t[None, :] + v.time_saved_by_month
              - price.licence_nok_per_gp_year) / 12.0
    payback = np.array([payback_years(price.oneoff_nok_per_gp, inflow[i, start[i]:]) if joined[i] else np.nan
                        for i in range(len(pr))])
    ts, sub = v.time_saved_nok_per_gp_year, v.subsidy_nok_per_gp_year
    names = np.array([*GP_CHOICES, "none"])
    return pd.DataFrame({
        "practice_idx": pr["practice_idx"].to_numpy(dtype=np.int64),
        "kommunenummer": pr["kommunenummer"].astype(str).to_numpy(),
        "n_gps": pr["n_gps"].to_numpy(dtype=np.int64),
        "list_patients": pr["list_patients"].to_numpy(dtype=np.int64),
        "salaried": pr["salaried"].to_numpy(dtype=bool),
        "choice": names[np.asarray(v.choice)],  # -1 -> "none"
        "choice_month": np.asarray(v.choice_month, dtype=np.int64),
        "joined_month": start,
        "valued_month": np.asarray(v.valued_month, dtype=np.int64),
        "licence_nok_per_gp_year": price.licence_nok_per_gp_year,
        "implementation_annualised_nok_per_gp_year": price.implementation_annualised_nok_per_gp_year,
        "training_annualised_nok_per_gp_year": price.training_annualised_nok_per_gp_year,
        "productivity_dip_annualised_nok_per_gp_year": price.productivity_dip_annualised_nok_per_gp_year,
        "oneoff_nok_per_gp": price.oneoff_nok_per_gp,
        "annualised_oneoff_nok_per_gp_year": price.annualised_oneoff_nok_per_gp_year,
        "current_ehr_cost_nok_per_gp_year": price.current_ehr_cost_nok_per_gp_year,
        "subsidy_nok_per_gp_year": sub,
        "time_saved_nok_per_gp_year": ts,
        "money_join_nok_per_gp_year": join_money_nok_per_gp_year(price, ts, sub),
        "integration_nok_per_gp_year": price.integration_nok_per_gp_year,
        "integrate_time_saved_nok_per_gp_year": v.integrate_time_saved_nok_per_gp_year,
        "money_integrate_nok_per_gp_year": integrate_money_nok_per_gp_year(price, v.integrate_time_saved_nok_per_gp_year),
        "break_even_licence_nok_per_gp_year": break_even_licence_nok_per_gp_year(price, ts, sub),
        "break_even_subsidy_nok_per_gp_year": break_even_subsidy_nok_per_gp_year(price, ts, sub),
        "payback_years": payback,
    })


ACTORS: tuple[str, ...] = ("state", "region_trusts", "municipalities", "gps", "patients")
"""Actor types of the who-pays-who-gains table, in row order."""


def hospital_replaced_systems_nok(cfg: Config, region: Region, trust_live_month: np.ndarray | None, years: np.ndarray) -> np.ndarray:
    """Running cost of the hospital record systems the platform replaced, saved per year (NOK, whole kroner).

    H_y = sum_k bill.hospital_replaced_nok_per_inhabitant_year x population of trust k's area x months of
    year y from trust k's go-live month / 12. ``trust_live_month`` (month index per region.trusts row; None:
    each trust's planned ``hospitals.golive_month``, "default" for trusts not listed).
    """
    trusts = region.trusts
    if trust_live_month is None:
        gm = cfg.hospitals.golive_month
        trust_live_month = np.array([max(0, cfg.t_of(gm.get(name, gm.get("default", cfg.run.start_month))))
                                     for name in trusts["hospital_trust"]], dtype=np.int64)
    months = months_on_by_year(np.asarray(trust_live_month, dtype=np.int64), cfg, years)
    pop = trusts["population"].to_numpy(dtype=float)
    return np.rint(cfg.bill.hospital_replaced_nok_per_inhabitant_year * (pop @ months) / 12.0)


def who_pays_who_gains(cfg: Config, region: Region, alloc: PlatformAllocation, costs_muni: pd.DataFrame,
                       gp_join_month: np.ndarray, saved: pd.DataFrame,
                       valuation: GPValuation, trust_live_month: np.ndarray | None = None) -> pd.DataFrame:
    """One row per actor type: what it pays for the platform and what it gains, summed and as NPV (NOK).

    Pays: state = grant + state shares - loan repayments (:func:`allocate_platform_cost`) + its share of
    the municipalities' local one-off (-state_local_share_nok); region_trusts = hospital part + regional
    share + pre-financing; municipalities = their bill's costs (platform net, GP subsidies, local
    one-off net of the state's share, productivity dip, local running); gps = licences + one-offs
    (implementation, training and lost consultations, in the join year) + the integration cost of
    integrated offices; patients = 0.
    Gains, against nobody on the platform (:func:`savings_by_month`): search hours saved x wage of the
    receiving kind (gp -> gps; municipal -> municipalities; hospital, specialist -> region_trusts);
    adverse events avoided x cost_per_adverse_event_nok, a share adverse_event_cost_share_patients to
    patients and the rest to region_trusts; municipalities also gain the legacy contracts they ended,
    region_trusts the hospital systems replaced (:func:`hospital_replaced_systems_nok`), GPs their current
    EHR cost saved and the subsidy. Columns: actor, pays_nok, gains_nok,
    net_nok = gains - pays, and pays_npv_nok, gains_npv_nok, net_npv_nok (discount_rate, base_year).
    """
    e = cfg.economics
    years = alloc.years
    p = alloc.platform
    wage = hour_value_nok(cfg)
    onehot = year_of_month(cfg, years).astype(float)
    by_year = lambda col: _monthly_series(saved, col, cfg.n_months) @ onehot  # noqa: E731 - monthly flow summed by year
    avoided_nok = by_year("adverse_events_avoided") * e.cost_per_adverse_event_nok
    share_pat = e.adverse_event_cost_share_patients

    price = gp_price(cfg)
    start = np.asarray(gp_join_month, dtype=np.int64)
    n_gps = region.practices["n_gps"].to_numpy(dtype=float)
    gp_months = months_on_by_year(start, cfg, years)
    gp_years_on = n_gps @ gp_months / 12.0
    join_year = month_years(cfg)[np.clip(start, 0, cfg.n_months - 1)]
    oneoffs = np.array([(n_gps * (start >= 0) * (join_year == y)).sum() for y in years]) * price.oneoff_nok_per_gp
    integrated = valuation.integrated_by_month.astype(float) * n_gps[:, None] / 12.0  # GP-years integrated per month
    integrated_years = integrated.sum(axis=0) @ onehot
    integrate_saved = (integrated * valuation.integrate_time_saved_nok_per_gp_year[:, None]).sum(axis=0) @ onehot
    cols = [*BILL_COMPONENTS, "platform_net_nok"]
    cm = costs_muni.groupby("year")[cols].sum().reindex(years, fill_value=0).astype(float)
    muni_costs = cm["platform_net_nok"] + sum(cm[k] for k in BILL_COMPONENTS
                                              if k not in ("platform_investment_nok", "platform_operating_nok",
                                                           "loan_repayment_nok", "legacy_contract_saving_nok"))

    flows = {
        "state": (p["state_nok"].to_numpy(dtype=float) - cm["state_local_share_nok"].to_numpy(), np.zeros(len(years))),
        "region_trusts": ((p["hospital_nok"] + p["regional_nok"]).to_numpy(dtype=float),
                          by_year("hours_saved_hospital") * wage["hospital"] + by_year("hours_saved_specialist") * wage["specialist"]
                          + (1.0 - share_pat) * avoided_nok + hospital_replaced_systems_nok(cfg, region, trust_live_month, years)),
        "municipalities": (muni_costs.to_numpy(),
                           -cm["legacy_contract_saving_nok"].to_numpy() + by_year("hours_saved_municipal") * wage["municipal"]),
        "gps": (p["gp_licence_nok"].to_numpy(dtype=float) + oneoffs + integrated_years * price.integration_nok_per_gp_year,
                gp_years_on * price.current_ehr_cost_nok_per_gp_year + cm["gp_subsidy_nok"].to_numpy(dtype=float)
                + by_year("hours_saved_gp") * wage["gp"] + integrate_saved),
        "patients": (np.zeros(len(years)), share_pat * avoided_nok),
    }
    rows = []
    for actor in ACTORS:
        pays, gains = flows[actor]
        pv_p, pv_g = npv(pays, years, e.discount_rate, e.base_year), npv(gains, years, e.discount_rate, e.base_year)
        rows.append({"actor": actor, "pays_nok": float(pays.sum()), "gains_nok": float(gains.sum()),
                     "net_nok": float(gains.sum() - pays.sum()), "pays_npv_nok": pv_p, "gains_npv_nok": pv_g,
                     "net_npv_nok": pv_g - pv_p})
    return pd.DataFrame(rows)


def run_economics(cfg: Config, region: Region, muni_live_month: np.ndarray, gp_join_month: np.ndarray,
                  monthly: pd.DataFrame, gp_valuation: GPValuation, no_platform_metrics: dict[str, float] | None = None,
                  trust_live_month: np.ndarray | None = None) -> dict[str, pd.DataFrame]:
    """The economics of one run: {"costs_municipality", "costs_gp", "who_pays_who_gains"} (NOK, 2023 money).

    ``muni_live_month[m]`` and ``gp_join_month[i]`` are month indices t (-1 = never); ``monthly`` has one
    row per month with ``t`` and the network metric columns; ``gp_valuation``: what each GP office chose
    and was valued at (``RolloutModel.gp_valuation``); ``no_platform_metrics`` are the metrics with
    nobody on the platform (the runner passes ``network.metrics(zeros)``; None: the first month stands
    in, :func:`savings_by_month`); ``trust_live_month``: each trust's go-live month (None: as planned). Costs: :func:`allocate_platform_cost`; tables: :func:`costs_municipality`,
    :func:`costs_gp`, :func:`who_pays_who_gains`.
    """
    live = np.asarray(muni_live_month, dtype=np.int64)
    gp = np.asarray(gp_join_month, dtype=np.int64)
    if live.shape != (len(region.municipalities),):
        raise ValueError(f"run_economics: muni_live_month has shape {live.shape}, expected ({len(region.municipalities)},)")
    if gp.shape != (len(region.practices),):
        raise ValueError(f"run_economics: gp_join_month has shape {gp.shape}, expected ({len(region.practices)},)")
    alloc = allocate_platform_cost(cfg, region, live, gp)
    saved = savings_by_month(monthly, no_platform_metrics)
    cm = costs_municipality(cfg, region, alloc, live, gp, saved)
    return {
        "costs_municipality": cm,
        "costs_gp": costs_gp(cfg, region, gp, gp_valuation),
        "who_pays_who_gains": who_pays_who_gains(cfg, region, alloc, cm, gp, saved, gp_valuation, trust_live_month),
    }
