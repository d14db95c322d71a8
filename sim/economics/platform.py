"""The platform's cost and who pays it: cost by year, the financing split between state,
region, hospitals, municipalities and GP licences, the allocation keys with their floor, the
bill each municipality sees ex ante, and money frames scaled to a synthetic region.

Pure functions; whole kroner by the largest-remainder method (:func:`sim.region.largest_remainder`).
The rules are listed in :mod:`sim.economics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config import Config
from sim.economics.months import economics_years, month_years, months_on_by_year
from sim.economics.valuation import annuity_factor, capital_charge_factor
from sim.region import Region, largest_remainder, spread_rates_to_bands


def scaled_to_region(cfg: Config, region: Region) -> Config:
    """The config with its money frames scaled to a synthetic region's size.

    The investment, the operating cost and the state grant are given for the real region
    (``economics.reference_population_persons`` residents). A synthetic region of N residents
    gets them multiplied by f = N / reference, so cost per inhabitant stays comparable; the
    real region is unchanged (f = 1).
    """
    if cfg.region.kind == "real":
        return cfg
    f = region.population / cfg.economics.reference_population_persons
    return cfg.model_copy(update={
        "economics": cfg.economics.model_copy(update={"investment_nok": cfg.economics.investment_nok * f,
                                                      "operating_nok_per_year": cfg.economics.operating_nok_per_year * f}),
        "financing": cfg.financing.model_copy(update={"state_grant_nok": cfg.financing.state_grant_nok * f}),
    })


# --------------------------------------------------------------------------- allocation keys


def users_by_municipality(cfg: Config, region: Region) -> np.ndarray:
    """Municipal platform users per municipality (region row order), for the per_user key.

    The region's users, U = users_per_inhabitant_municipal x population, are spread over
    municipalities in proportion to their care recipients (home care plus long-term nursing home,
    age-specific shares of ``cfg.network``), since municipal users are mostly care staff:
    u_m = U x R_m / sum R, R_m = sum_b persons_{m,b} (home_b + nursing_b). Population shares when no one receives care.
    """
    pop = region.municipalities["population"].to_numpy(dtype=float)
    share = (spread_rates_to_bands(cfg.network.share_receiving_home_care)
             + spread_rates_to_bands(cfg.network.share_long_term_nursing_home))
    res = region.residents
    recipients = np.bincount(res["muni_idx"].to_numpy(), weights=res["persons"].to_numpy() * share[res["band_idx"].to_numpy()],
                             minlength=len(pop))
    basis = recipients if recipients.sum() > 0 else pop
    return cfg.economics.users_per_inhabitant_municipal * pop.sum() * basis / basis.sum()


def allocation_weights(cfg: Config, region: Region) -> np.ndarray:
    """Key weights per municipality (region row order), before any floor.

    per_inhabitant and per_inhabitant_floor: population; per_user: :func:`users_by_municipality`;
    mix: w x (population share) + (1 - w) x (user share), w = financing.mix_weight_inhabitant.
    """
    pop = region.municipalities["population"].to_numpy(dtype=float)
    key = cfg.financing.allocation_key
    if key in ("per_inhabitant", "per_inhabitant_floor"):
        return pop
    users = users_by_municipality(cfg, region)
    if key == "per_user":
        return users
    w = cfg.financing.mix_weight_inhabitant
    user_share = users / users.sum() if users.sum() > 0 else pop / pop.sum()
    return w * pop / pop.sum() + (1.0 - w) * user_share


def fixed_variable_shares(weights: np.ndarray, presence: np.ndarray, fixed_part_share: float) -> np.ndarray:
    """Shares of a fee with a fixed part per member and a variable part by the key.

    s_i = phi p_i / sum_j p_j + (1 - phi) w_i p_i / sum_j w_j p_j, with phi = ``fixed_part_share``,
    w_i the key weight and p_i >= 0 the presence (1 for a member, months live / 12 in a year, 0
    outside). The shares of the members sum to 1 (none when no one is present); zero key weights
    on every member put the variable part on presence too.
    """
    p = np.asarray(presence, dtype=float)
    wp = np.asarray(weights, dtype=float) * p
    if p.sum() <= 0:
        return np.zeros(len(p))
    variable = wp / wp.sum() if wp.sum() > 0 else p / p.sum()
    return fixed_part_share * p / p.sum() + (1.0 - fixed_part_share) * variable


def floor_nok_per_year(cfg: Config) -> float:
    """The floor (NOK per municipality per year) of the configured key; 0 for keys without one (per_inhabitant, per_user)."""
    f = cfg.financing
    return f.floor_nok_per_municipality_year if f.allocation_key in ("per_inhabitant_floor", "mix") else 0.0


def allocate_with_floor(total: float, weights: np.ndarray, floor: float | np.ndarray, members: np.ndarray) -> np.ndarray:
    """Split ``total`` over ``members`` pro rata to ``weights``, none below its floor (real numbers).

    Water-filling: a_i = max(f_i, lambda w_i), lambda such that sum_i a_i = total. Since lambda <= the
    pro-rata lambda_0 = total / sum w, every member whose pro-rata share lambda_0 w_i is below f_i is
    raised to exactly f_i; the others pay at most their pro-rata share and never less than f_i. If
    sum_i f_i >= total: a_i = total f_i / sum f. Zero weights on every member mean equal weights.
    Non-members get 0.
    """
    members = np.asarray(members, dtype=bool)
    n = len(members)
    w = np.where(members, np.asarray(weights, dtype=float), 0.0)
    f = np.where(members, np.broadcast_to(np.asarray(floor, dtype=float), (n,)), 0.0)
    out = np.zeros(n)
    if not members.any() or total <= 0:
        return out
    if w.sum() <= 0:
        w = members.astype(float)
    if f.sum() >= total:
        return total * f / f.sum()
    at_floor = members & (w <= 0)
    while True:
        free = members & ~at_floor
        pro_rata = (total - f[at_floor].sum()) * (w / w[free].sum())  # lambda w_i, shares first: no overflow
        newly = free & (pro_rata < f)
        if not newly.any():
            break
        at_floor |= newly
    out[at_floor] = f[at_floor]
    out[free] = pro_rata[free]
    return out


# --------------------------------------------------------------------------- platform cost and financing


@dataclass(frozen=True)
class PlatformAllocation:
    """The platform cost of each year and who pays it, to the krone.

    platform: one row per year (see :func:`allocate_platform_cost` for the columns); identity
        ``state_nok + regional_nok + hospital_nok + municipal_nok + gp_licence_nok == cost_nok``.
    municipal: arrays of shape (n_municipalities, n_years), int64 NOK, region row order:
        ``gross``, ``state``, ``regional``, ``gp_licence``, ``net`` (= gross - state - regional - gp_licence),
        ``net_investment``, ``net_operating``, ``loan_repayment`` (net = the three summed).
    years: the calendar years (columns of the municipal arrays).
    """

    years: np.ndarray
    platform: pd.DataFrame
    municipal: dict[str, np.ndarray]


def _split(total: int, weights: list[float]) -> list[int]:
    """Whole-krone split of a non-negative integer total (:func:`sim.region.largest_remainder`)."""
    return [int(x) for x in largest_remainder(int(total), np.asarray(weights, dtype=float))]


def platform_cost_by_year(cfg: Config, years: np.ndarray) -> pd.DataFrame:
    """Platform cost per year, whole kroner: investment I_y + operating O_y = cost C_y.

    I_y: round(investment_nok x sum(profile)) split over the profile's years by largest remainder
    (years outside ``years`` are dropped); O_y = round(operating_nok_per_year) from
    operating_start_year on, 0 before.
    """
    e = cfg.economics
    prof_years = np.array([int(k) for k in e.investment_profile], dtype=np.int64)
    prof = np.array(list(e.investment_profile.values()), dtype=float)
    invest = largest_remainder(int(round(e.investment_nok * prof.sum())), prof)
    inv_y = np.zeros(len(years), dtype=np.int64)
    for y, v in zip(prof_years, invest):
        inv_y[years == y] += v
    op_y = np.where(years >= e.operating_start_year, int(round(e.operating_nok_per_year)), 0).astype(np.int64)
    return pd.DataFrame({"year": years, "investment_nok": inv_y, "operating_nok": op_y, "cost_nok": inv_y + op_y})


def gp_licence_income_by_year(cfg: Config, region: Region, gp_join_month: np.ndarray, years: np.ndarray) -> np.ndarray:
    """GP licence income per year (whole kroner): L_y = round(sum_i n_gps_i x licence x months_on_{i,y} / 12)."""
    months = months_on_by_year(gp_join_month, cfg, years)
    n_gps = region.practices["n_gps"].to_numpy(dtype=float)
    return np.rint(cfg.gp_price.licence_nok_per_gp_year * (n_gps @ months) / 12.0).astype(np.int64)


def allocate_platform_cost(cfg: Config, region: Region, muni_live_month: np.ndarray,
                           gp_join_month: np.ndarray) -> PlatformAllocation:
    """Split the platform cost of every year between state, region, hospitals, municipalities and GP licences.

    Platform level, per year y, whole kroner by largest remainder (nh = economics.non_hospital_share;
    s, r = financing.state_share, regional_share):

    1. C_y = I_y + O_y (:func:`platform_cost_by_year`); municipal gross parts M^I_y = nh I_y,
       M^O_y = nh O_y; the rest is the hospital part (Helse Midt-Norge and the trusts).
    2. The state grant G = min(state_grant_nok, sum_y M^I_y) is spread over the years pro rata to
       the municipal investment M^I_y (it lowers the municipal investment only).
    3. GP licences L_y (:func:`gp_licence_income_by_year`) are income of Helseplattformen AS. With
       financing.gp_licence_credit = owners_pro_rata (default) they lower the operating cost billed to
       its owners pro rata to their parts, L^M_y = nh L_y to the municipal part (at most M^O_y) and the
       rest to the hospital part; with ``municipalities`` they lower the municipal part up to M^O_y and
       a surplus lowers the hospital part.
    4. The remaining R^I_y = M^I_y - G_y and R^O_y = M^O_y - L_y go s to the state, r to the region
       and 1 - s - r to the municipalities: P^I_y, P^O_y.

    Municipal level ("joined" = live, i.e. past its go-live month; ``muni_live_month`` t or -1):

    * Fixed and variable part: every split among municipalities uses :func:`fixed_variable_shares`,
      a share financing.fixed_part_share equally per municipality (x its presence) and the rest by the key.
    * Operating: P^O_y is allocated among the municipalities live in year y, presence = months live / 12. The key's floor (NOK/municipality/year, x months live / 12) applies to the
      gross allocation of M^O_y (:func:`allocate_with_floor`); the state, regional, licence and net
      parts are then split pro rata to that gross allocation. If none is live, the region pays P^O_y.
    * Investment: a municipality pays nothing before it joins and never pays if it never joins. The
      municipalities that join within the horizon share each year's P^I_y by the key weights
      (no floor; the floor is a minimum annual fee). The region pre-finances it; municipality m pays
      its share of the outlay of year y' as equal annual charges over investment_annualisation_years
      years from max(y', go-live year), the principal carried at the discount rate to that year
      (:func:`capital_charge_factor`), so the charges are worth the share in present value, as in
      Averøy's offer (one-off investment plus an annual charge); with investment_annualisation_years = 1
      the whole share falls in the go-live year. Charges after the horizon are not shown.
    * Loan (financing.grant_mode = loan): the state still pays the grant G when the investment falls due,
      but each joining municipality repays its share (1 - s - r) phi_m G (the state and region carry
      their shares s, r of the lent grant) as equal annual payments (1 - s - r) phi_m G a(loan_rate, loan_years) (:func:`sim.economics.valuation.annuity_factor`) for loan_years years from its
      go-live year (``loan_repayment``, paid to the state, which the state column nets out:
      ``state`` = the state's parts - repayments). Repayments after the horizon are not shown.

    Platform columns: year, investment_nok, operating_nok, cost_nok, hospital_nok (hospital part net of
    any licence surplus), grant_nok, state_nok (grant + state shares), regional_share_nok,
    prefinancing_nok (region: municipal investment outlay + operating no municipality was live to
    pay - investment charges received), regional_nok (share + pre-financing), gp_licence_nok,
    municipal_nok (what municipalities pay that year), municipal_gross_nok, municipal_net_investment_nok,
    municipal_net_operating_nok (P^I_y, P^O_y), loan_repayment_nok (repayments to the state, inside
    municipal_nok and netted out of state_nok). Identity, every year, to the krone:
    state_nok + regional_nok + hospital_nok + municipal_nok + gp_licence_nok = cost_nok.
    """
    e, f = cfg.economics, cfg.financing
    years = economics_years(cfg)
    ny, nm = len(years), len(region.municipalities)
    cost = platform_cost_by_year(cfg, years)
    nh, s, r = e.non_hospital_share, f.state_share, f.regional_share
    shares = [s, r, max(0.0, 1.0 - s - r)]

    m_inv = np.array([_split(v, [nh, 1 - nh])[0] for v in cost["investment_nok"]], dtype=np.int64)
    m_op = np.array([_split(v, [nh, 1 - nh])[0] for v in cost["operating_nok"]], dtype=np.int64)
    hospital = cost["cost_nok"].to_numpy() - m_inv - m_op
    grant = largest_remainder(int(min(round(f.state_grant_nok), m_inv.sum())), m_inv) if m_inv.sum() else np.zeros(ny, np.int64)
    licence = gp_licence_income_by_year(cfg, region, gp_join_month, years)
    if f.gp_licence_credit == "owners_pro_rata":
        licence_muni = np.minimum(np.rint(nh * licence).astype(np.int64), m_op)
    else:
        licence_muni = np.minimum(licence, m_op)
    hospital = hospital - (licence - licence_muni)
    s_inv, r_inv, p_inv = np.array([_split(v, shares) for v in m_inv - grant], dtype=np.int64).reshape(ny, 3).T
    s_op, r_op, p_op = np.array([_split(v, shares) for v in m_op - licence_muni], dtype=np.int64).reshape(ny, 3).T

    weights = allocation_weights(cfg, region)
    live = np.asarray(muni_live_month, dtype=np.int64)
    months = months_on_by_year(live, cfg, years)
    floor = floor_nok_per_year(cfg)

    # operating: among municipalities live in the year, floor on the gross allocation
    parts = {k: np.zeros((nm, ny), dtype=np.int64) for k in ("op_state", "op_regional", "op_licence", "op_net")}
    unallocated = np.zeros(ny, dtype=np.int64)
    for j in range(ny):
        frac = months[:, j] / 12.0
        on = months[:, j] > 0
        if not on.any():
            unallocated[j] = p_op[j]
            continue
        key_shares = fixed_variable_shares(weights, frac, f.fixed_part_share)
        gross = allocate_with_floor(float(m_op[j]), key_shares, floor * frac, on)
        basis = gross if gross.sum() > 0 else on.astype(float)
        for k, total in (("op_state", s_op[j]), ("op_regional", r_op[j]), ("op_licence", licence_muni[j]), ("op_net", p_op[j])):
            parts[k][:, j] = largest_remainder(int(total), basis)

    # investment: shared by the municipalities that ever join, charged from their go-live year
    joins = live >= 0
    phi = fixed_variable_shares(weights, joins, f.fixed_part_share)
    golive_year = np.where(joins, month_years(cfg)[np.clip(live, 0, cfg.n_months - 1)], 0)
    n_charge = max(1, int(round(e.investment_annualisation_years)))
    ccf = capital_charge_factor(e.discount_rate, e.investment_annualisation_years)
    charge = {k: np.zeros((nm, ny)) for k in ("state", "regional", "net")}
    for j in range(ny):
        outlay = {"state": grant[j] + s_inv[j], "regional": r_inv[j], "net": p_inv[j]}
        if not any(outlay.values()):
            continue
        start = np.maximum(years[j], golive_year)
        factor = (1.0 + e.discount_rate) ** (start - years[j]) * ccf
        for step in range(n_charge):
            col = start + step - years[0]
            ok = joins & (col < ny)
            for k, v in outlay.items():
                np.add.at(charge[k], (np.flatnonzero(ok), col[ok]), phi[ok] * v * factor[ok])
    inv = {k: np.rint(v).astype(np.int64) for k, v in charge.items()}
    repay = np.zeros((nm, ny), dtype=np.int64)
    if f.grant_mode == "loan" and joins.any():
        annual = shares[2] * phi * grant.sum() * annuity_factor(f.loan_rate, f.loan_years)
        for step in range(max(1, int(round(f.loan_years)))):
            col = golive_year + step - years[0]
            ok = joins & (col >= 0) & (col < ny)
            np.add.at(repay, (np.flatnonzero(ok), col[ok]), np.rint(annual[ok]).astype(np.int64))

    municipal = {
        "state": parts["op_state"] + inv["state"] - repay,
        "regional": parts["op_regional"] + inv["regional"],
        "gp_licence": parts["op_licence"],
        "net_investment": inv["net"],
        "net_operating": parts["op_net"],
        "loan_repayment": repay,
    }
    municipal["net"] = municipal["net_investment"] + municipal["net_operating"] + repay
    municipal["gross"] = municipal["state"] + municipal["regional"] + municipal["gp_licence"] + municipal["net"]
    paid = municipal["net"].sum(axis=0)
    prefinancing = p_inv + unallocated - municipal["net_investment"].sum(axis=0)
    state = grant + s_inv + s_op - repay.sum(axis=0)
    platform = cost.assign(
        hospital_nok=hospital, grant_nok=grant, state_nok=state, regional_share_nok=r_inv + r_op,
        prefinancing_nok=prefinancing, regional_nok=r_inv + r_op + prefinancing, gp_licence_nok=licence,
        municipal_nok=paid, municipal_gross_nok=m_inv + m_op,
        municipal_net_investment_nok=p_inv, municipal_net_operating_nok=p_op, loan_repayment_nok=repay.sum(axis=0),
    )
    return PlatformAllocation(years=years, platform=platform, municipal=municipal)


# --------------------------------------------------------------------------- municipal cost seen ex ante


def ex_ante_charges_nok(cfg: Config, region: Region, members: np.ndarray | None = None) -> pd.DataFrame:
    """Each municipality's platform bill if every option holder joins (NOK, region row order).

    ``members`` (bool per municipality, default all) narrows who shares the fee; the others' rows
    show what they would pay as the only newcomer is not modelled: they get 0.

    With nh = economics.non_hospital_share, I = investment_nok x sum(investment_profile),
    G = min(state_grant_nok, nh I), O = operating_nok_per_year, k = 1 - state_share - regional_share,
    s_m = :func:`fixed_variable_shares` of the key weights (:func:`allocation_weights`) over everyone:
    investment_nok = k (nh I - G) s_m (its share of the net municipal investment, one-off);
    investment_charge_nok_per_year = investment_nok x capital_charge_factor(discount_rate, investment_annualisation_years);
    operating_nok_per_year = k x (nh O split by s_m with the floor, :func:`allocate_with_floor`);
    loan_repayment_nok_per_year = k s_m G a(loan_rate, loan_years) when grant_mode = loan (for loan_years years), else 0.
    GP licence income is not counted (a municipality does not count on GP uptake).
    Columns: kommunenummer, name, population, investment_nok, investment_charge_nok_per_year,
    operating_nok_per_year, loan_repayment_nok_per_year.
    """
    e, f = cfg.economics, cfg.financing
    nh = e.non_hospital_share
    k = 1.0 - f.state_share - f.regional_share
    invest_muni = nh * e.investment_nok * sum(e.investment_profile.values())
    grant = min(f.state_grant_nok, invest_muni)
    munis = region.municipalities
    everyone = np.ones(len(munis), dtype=bool) if members is None else np.asarray(members, dtype=bool)
    share = fixed_variable_shares(allocation_weights(cfg, region), everyone, f.fixed_part_share)
    investment = k * (invest_muni - grant) * share
    loan = k * share * grant * annuity_factor(f.loan_rate, f.loan_years) if f.grant_mode == "loan" else np.zeros(len(share))
    return pd.DataFrame({
        "kommunenummer": munis["kommunenummer"].astype(str).to_numpy(),
        "name": munis["name"].to_numpy(),
        "population": munis["population"].to_numpy(dtype=np.int64),
        "investment_nok": investment,
        "investment_charge_nok_per_year": investment * capital_charge_factor(e.discount_rate, e.investment_annualisation_years),
        "operating_nok_per_year": k * allocate_with_floor(nh * e.operating_nok_per_year, share, floor_nok_per_year(cfg), everyone),
        "loan_repayment_nok_per_year": loan,
    })
