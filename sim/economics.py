"""Economics: who pays, who gains (DESIGN.md, Economics).

Pure functions over numpy arrays and pandas tables: the GP price, hours and adverse
events valued in NOK, the platform cost and its financing split, NPV and payback.
No Mesa, no I/O (bar :func:`observed_prices_nok`, which reads a shipped data file).
Money is 2023 NOK (real); years are calendar years; amounts shared between payers are
whole kroner by the largest-remainder method.

Choices where the brief left room (details in each docstring):

* "Joined" means live: past its go-live month (``muni_live_month``). A municipality that
  never goes live pays nothing for the platform and keeps its status-quo EPJ cost.
* The state grant lowers the municipal part of the investment, spread over the years pro
  rata to it; the state and regional shares apply to what remains; GP licences lower the
  municipal operating part (a surplus lowers the hospital part).
* Operating cost is shared among the municipalities live that year (weighted by months
  live); the floor key's floor is a minimum annual fee on that gross allocation.
* Investment is pre-financed by the region and charged to each joining municipality as
  equal annual charges from its go-live year (principal carried at the discount rate,
  ``economics.investment_annualisation_years``), like Averøy's offer of a one-off plus an
  annual charge; the region keeps the shares of municipalities that never join.
* Gains are measured against nobody on the platform (the network metrics at x = 0).
* Largest-remainder rounding can move one krone the "wrong" way when a total changes
  (the Alabama paradox); monotonicity holds up to that krone per charge.
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


def capital_charge_factor(rate: float, years: float) -> float:
    """Equal charges in years 0..n-1 whose present value at year 0 is one NOK: c = a(r, n) / (1 + r).

    n = max(1, round(years)) whole years (charges fall in calendar years); a = :func:`annuity_factor`.
    An annuity-due: the first charge falls in the year the principal is valued.
    """
    n = max(1, int(round(years)))
    return annuity_factor(rate, n) / (1.0 + rate)


# --------------------------------------------------------------------------- discounting and payback


def npv(values: np.ndarray, years: np.ndarray, rate: float, base_year: int) -> float:
    """Net present value at ``base_year``: NPV = sum_y v_y (1 + r)^-(y - base_year).

    Values of years before ``base_year`` are compounded forward (exponent < 0), so the NPV is
    the value in ``base_year`` money-time of the whole stream.
    """
    v = np.asarray(values, dtype=float)
    y = np.asarray(years, dtype=float)
    if v.shape != y.shape:
        raise ValueError(f"npv: values {v.shape} and years {y.shape} differ in shape")
    return float(np.sum(v * (1.0 + rate) ** -(y - base_year)))


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


# --------------------------------------------------------------------------- calendar


def month_years(cfg: Config) -> np.ndarray:
    """Calendar year of each simulated month t = 0 .. n_months - 1."""
    y0, m0 = (int(x) for x in cfg.run.start_month.split("-"))
    t = np.arange(cfg.n_months)
    return y0 + (m0 - 1 + t) // 12


def economics_years(cfg: Config) -> np.ndarray:
    """Years of the cost tables: from the first investment year (or the run's first year, if earlier) to the run's last."""
    first = min([int(k) for k in cfg.economics.investment_profile] + [int(month_years(cfg)[0])])
    return np.arange(first, int(month_years(cfg)[-1]) + 1)


def months_on_by_year(start_month: np.ndarray, cfg: Config, years: np.ndarray) -> np.ndarray:
    """Months on the platform in each year: M[i, y] = #{t in year y : t >= start_i}; 0 when start_i = -1.

    ``start_month`` holds month indices t (-1 = never). Shape (n, len(years)), int64.
    """
    start = np.asarray(start_month, dtype=np.int64)
    t = np.arange(cfg.n_months)
    on = (start[:, None] >= 0) & (t[None, :] >= start[:, None])
    year_of = month_years(cfg)
    onehot = (year_of[:, None] == years[None, :]).astype(np.int64)
    return on.astype(np.int64) @ onehot


# --------------------------------------------------------------------------- allocation keys


def users_by_municipality(cfg: Config, region: Region) -> np.ndarray:
    """Municipal platform users per municipality (region row order), for the per_user key.

    The region's users, U = users_per_inhabitant_municipal x population, are spread over
    municipalities in proportion to their care recipients (home care plus long-term nursing home,
    age-specific shares of ``cfg.network``), since municipal users are mostly care staff:
    u_m = U x R_m / sum R, R_m = sum_b persons_{m,b} (home_b + nursing_b). Population shares when no one receives care.
    """
    from sim.region import spread_rates_to_bands

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
        lam = (total - f[at_floor].sum()) / w[free].sum()
        newly = free & (lam * w < f)
        if not newly.any():
            break
        at_floor |= newly
    out[at_floor] = f[at_floor]
    out[free] = lam * w[free]
    return out


# --------------------------------------------------------------------------- municipal cost seen ex ante


def ex_ante_charges_nok(cfg: Config, region: Region) -> pd.DataFrame:
    """Each municipality's platform bill if every option holder joins (NOK, region row order).

    With nh = economics.non_hospital_share, I = investment_nok x sum(investment_profile),
    G = min(state_grant_nok, nh I), O = operating_nok_per_year, k = 1 - state_share - regional_share,
    w_m the key weights (:func:`allocation_weights`):
    investment_nok = k (nh I - G) w_m / sum w (its share of the net municipal investment, paid up front);
    investment_charge_nok_per_year = investment_nok x capital_charge_factor(discount_rate, investment_annualisation_years);
    operating_nok_per_year = k x (nh O split by the key with the floor, :func:`allocate_with_floor`).
    GP licence income is not counted (a municipality does not count on GP uptake).
    Columns: kommunenummer, name, population, investment_nok, investment_charge_nok_per_year, operating_nok_per_year.
    """
    e, f = cfg.economics, cfg.financing
    nh = e.non_hospital_share
    k = 1.0 - f.state_share - f.regional_share
    invest_muni = nh * e.investment_nok * sum(e.investment_profile.values())
    net_invest = k * (invest_muni - min(f.state_grant_nok, invest_muni))
    munis = region.municipalities
    w = allocation_weights(cfg, region)
    share = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    everyone = np.ones(len(w), dtype=bool)
    investment = net_invest * share
    return pd.DataFrame({
        "kommunenummer": munis["kommunenummer"].astype(str).to_numpy(),
        "name": munis["name"].to_numpy(),
        "population": munis["population"].to_numpy(dtype=np.int64),
        "investment_nok": investment,
        "investment_charge_nok_per_year": investment * capital_charge_factor(e.discount_rate, e.investment_annualisation_years),
        "operating_nok_per_year": k * allocate_with_floor(nh * e.operating_nok_per_year, w, floor_nok_per_year(cfg), everyone),
    })


def expected_net_cost_nok_per_inhabitant_year(cfg: Config, region: Region) -> np.ndarray:
    """Annual net platform cost per inhabitant each municipality expects if every option holder joins.

    c_m = (investment charge_m + operating_m) / population_m - economics.status_quo_epj_nok_per_inhabitant_year,
    the bill of :func:`ex_ante_charges_nok` (municipal part after the state grant, state and regional
    shares, split by the allocation key with its floor; investment annualised over
    investment_annualisation_years at the discount rate). NOK/inhabitant/year, region row order; the
    same rules as :func:`allocate_platform_cost` when everyone joins at once.
    """
    bill = ex_ante_charges_nok(cfg, region)
    annual = bill["investment_charge_nok_per_year"] + bill["operating_nok_per_year"]
    return (annual / bill["population"]).to_numpy(dtype=float) - cfg.economics.status_quo_epj_nok_per_inhabitant_year


OBSERVED_PRICE_ROWS: dict[tuple[str, str], str] = {
    ("1554", "investment_oneoff"): "municipal_cost_averoy_investment_nok",
    ("1554", "annual_operating"): "municipal_cost_averoy_annual_nok",
    ("5038", "annual_total"): "municipal_cost_verdal_annual_nok",
}
"""Observed municipal prices: (kommunenummer, item) -> row key in sim/data/parameters_sources.csv.

Averøy's offer (2023) was an 18.6 m one-off investment plus 2.2 m a year, so its annual figure pairs
with the model's operating charge; Verdal's 2019 plan (4.5 m a year) pairs with operating plus the
annualised investment charge."""


def observed_prices_nok() -> dict[str, float]:
    """The values of the :data:`OBSERVED_PRICE_ROWS` keys, read from the shipped parameters_sources.csv (read-only)."""
    from sim.region import data_path

    ps = pd.read_csv(data_path("parameters_sources.csv"), usecols=[0, 1])
    ps = ps.set_index(ps.columns[0])[ps.columns[1]]
    return {key: float(ps[key]) for key in OBSERVED_PRICE_ROWS.values()}


def cross_check_observed_prices(cfg: Config, region: Region, observed: dict[str, float] | None = None) -> pd.DataFrame:
    """The model's top-down bill (:func:`ex_ante_charges_nok`) for Averøy (1554) and Verdal (5038) against observed prices.

    Items per municipality: investment_oneoff (its share of the net municipal investment),
    annual_operating, annual_total (operating + investment charge). ``observed`` maps the
    parameters_sources.csv keys of :data:`OBSERVED_PRICE_ROWS` to NOK (None: :func:`observed_prices_nok`).
    Columns: kommunenummer, name, population, item, model_nok, model_nok_per_inhabitant, observed_key,
    observed_nok, observed_nok_per_inhabitant, model_over_observed (NaN where nothing was observed).
    Municipalities missing from the region are skipped.
    """
    obs = observed_prices_nok() if observed is None else observed
    bill = ex_ante_charges_nok(cfg, region).set_index("kommunenummer")
    rows = []
    for knr in sorted({k for k, _ in OBSERVED_PRICE_ROWS}):
        if knr not in bill.index:
            continue
        b = bill.loc[knr]
        model = {"investment_oneoff": b["investment_nok"], "annual_operating": b["operating_nok_per_year"],
                 "annual_total": b["operating_nok_per_year"] + b["investment_charge_nok_per_year"]}
        for item, value in model.items():
            key = OBSERVED_PRICE_ROWS.get((knr, item))
            seen = float(obs[key]) if key is not None else float("nan")
            rows.append({"kommunenummer": knr, "name": b["name"], "population": int(b["population"]), "item": item,
                         "model_nok": float(value), "model_nok_per_inhabitant": float(value) / b["population"],
                         "observed_key": key, "observed_nok": seen, "observed_nok_per_inhabitant": seen / b["population"],
                         "model_over_observed": float(value) / seen if seen == seen and seen else float("nan")})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- platform cost and financing


@dataclass(frozen=True)
class PlatformAllocation:
    """The platform cost of each year and who pays it, to the krone.

    platform: one row per year (see :func:`allocate_platform_cost` for the columns); identity
        ``state_nok + regional_nok + hospital_nok + municipal_nok + gp_licence_nok == cost_nok``.
    municipal: arrays of shape (n_municipalities, n_years), int64 NOK, region row order:
        ``gross``, ``state``, ``regional``, ``gp_licence``, ``net`` (= gross - state - regional - gp_licence),
        ``net_investment``, ``net_operating``.
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
    3. GP licences L_y (:func:`gp_licence_income_by_year`) are platform income that lowers the
       municipal operating part, up to M^O_y; a surplus lowers the hospital part.
    4. The remaining R^I_y = M^I_y - G_y and R^O_y = M^O_y - L_y go s to the state, r to the region
       and 1 - s - r to the municipalities: P^I_y, P^O_y.

    Municipal level ("joined" = live, i.e. past its go-live month; ``muni_live_month`` t or -1):

    * Operating: P^O_y is allocated among the municipalities live in year y, weights = key weight x
      months live / 12. The key's floor (NOK/municipality/year, x months live / 12) applies to the
      gross allocation of M^O_y (:func:`allocate_with_floor`); the state, regional, licence and net
      parts are then split pro rata to that gross allocation. If none is live, the region pays P^O_y.
    * Investment: a municipality pays nothing before it joins and never pays if it never joins. The
      municipalities that join within the horizon share each year's P^I_y by the key weights
      (no floor; the floor is a minimum annual fee). The region pre-finances it; municipality m pays
      its share of the outlay of year y' as equal annual charges over investment_annualisation_years
      years from max(y', go-live year), the principal carried at the discount rate to that year
      (:func:`capital_charge_factor`), so the charges are worth the share in present value, as in
      Averøy's offer (one-off investment plus an annual charge). Charges after the horizon are not shown.

    Platform columns: year, investment_nok, operating_nok, cost_nok, hospital_nok (hospital part net of
    any licence surplus), grant_nok, state_nok (grant + state shares), regional_share_nok,
    prefinancing_nok (region: municipal investment outlay + operating no municipality was live to
    pay - investment charges received), regional_nok (share + pre-financing), gp_licence_nok,
    municipal_nok (what municipalities pay that year), municipal_gross_nok, municipal_net_investment_nok,
    municipal_net_operating_nok (P^I_y, P^O_y). Identity, every year, to the krone:
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
        gross = allocate_with_floor(float(m_op[j]), weights * frac, floor * frac, on)
        basis = gross if gross.sum() > 0 else on.astype(float)
        for k, total in (("op_state", s_op[j]), ("op_regional", r_op[j]), ("op_licence", licence_muni[j]), ("op_net", p_op[j])):
            parts[k][:, j] = largest_remainder(int(total), basis)

    # investment: shared by the municipalities that ever join, charged from their go-live year
    joins = live >= 0
    phi = np.zeros(nm)
    if joins.any():
        wj = np.where(joins, weights, 0.0)
        phi = wj / wj.sum() if wj.sum() > 0 else joins / joins.sum()
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

    municipal = {
        "state": parts["op_state"] + inv["state"],
        "regional": parts["op_regional"] + inv["regional"],
        "gp_licence": parts["op_licence"],
        "net_investment": inv["net"],
        "net_operating": parts["op_net"],
    }
    municipal["net"] = municipal["net_investment"] + municipal["net_operating"]
    municipal["gross"] = municipal["state"] + municipal["regional"] + municipal["gp_licence"] + municipal["net"]
    paid = municipal["net"].sum(axis=0)
    prefinancing = p_inv + unallocated - municipal["net_investment"].sum(axis=0)
    state = grant + s_inv + s_op
    platform = cost.assign(
        hospital_nok=hospital, grant_nok=grant, state_nok=state, regional_share_nok=r_inv + r_op,
        prefinancing_nok=prefinancing, regional_nok=r_inv + r_op + prefinancing, gp_licence_nok=licence,
        municipal_nok=paid, municipal_gross_nok=m_inv + m_op,
        municipal_net_investment_nok=p_inv, municipal_net_operating_nok=p_op,
    )
    return PlatformAllocation(years=years, platform=platform, municipal=municipal)


# --------------------------------------------------------------------------- gains


def savings_by_month(monthly: pd.DataFrame, no_platform_metrics: dict[str, float] | None = None) -> pd.DataFrame:
    """Search hours saved per provider kind and adverse events avoided, per month, against no platform.

    saved_k(t) = H_k(0) - H_k(x_t), avoided(t) = A(0) - A(x_t), where H_k = ``search_hours_<kind>`` and
    A = ``adverse_events`` are monthly flows and (0) is the network with nobody on the platform
    (``no_platform_metrics``, e.g. ``network.metrics(zeros)``). Without it the first month of
    ``monthly`` stands in for x = 0 (exact when nobody is live at t = 0 and no contract specialist
    is on the platform). Columns: t, hours_saved_<kind>, adverse_events_avoided.
    """
    base = no_platform_metrics if no_platform_metrics is not None else monthly.sort_values("t").iloc[0].to_dict()
    out = pd.DataFrame({"t": monthly["t"].to_numpy(dtype=np.int64)})
    for kind in PROVIDER_KINDS_VALUED:
        col = f"search_hours_{kind}"
        out[f"hours_saved_{kind}"] = float(base[col]) - monthly[col].to_numpy(dtype=float)
    out["adverse_events_avoided"] = float(base["adverse_events"]) - monthly["adverse_events"].to_numpy(dtype=float)
    return out


def _share_among_on(total_by_month: np.ndarray, start_month: np.ndarray, weights: np.ndarray, n_months: int) -> np.ndarray:
    """Split a monthly total among agents on at t (start_i >= 0 and t >= start_i) pro rata to weights: (n_agents, n_months)."""
    start = np.asarray(start_month, dtype=np.int64)
    t = np.arange(n_months)
    on = (start[:, None] >= 0) & (t[None, :] >= start[:, None])
    w = on * np.asarray(weights, dtype=float)[:, None]
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
    """One row per (municipality, year): what it pays for the platform, saves and gains (NOK).

    platform_gross_nok = state_nok + regional_nok + gp_licence_nok + platform_net_nok (its bill and who
    covers it, :func:`allocate_platform_cost`); gp_subsidy_nok = agreement subsidy paid to its GPs on the
    platform (n_gps x subsidy x months on and under the agreement / 12); status_quo_epj_nok = the
    status-quo EPJ cost it no longer pays (per inhabitant x population x months live / 12; 0 before it
    joins: it keeps paying it); net_cost_nok = platform_net_nok + gp_subsidy_nok - status_quo_epj_nok;
    gains_nok = its municipal care's search hours saved x nurse hourly cost (the region's monthly saving
    shared among municipalities live that month by population). ``joined`` = live in some month of the
    year. npv_net_cost_nok, npv_gains_nok: NPV over all years of the table at discount_rate to base_year,
    repeated on every row of the municipality (tidy: drop duplicates on kommunenummer to get one per
    municipality).
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
    subsidy = np.rint(subsidy).astype(np.int64)
    status_quo = np.rint(e.status_quo_epj_nok_per_inhabitant_year * pop[:, None] * months / 12.0).astype(np.int64)

    hours = _monthly_series(saved, "hours_saved_municipal", cfg.n_months)
    gains_month = _share_among_on(hours * e.nurse_hourly_cost_nok, live, pop, cfg.n_months)
    onehot = (month_years(cfg)[:, None] == years[None, :]).astype(float)
    gains = gains_month @ onehot

    mu = alloc.municipal
    net = mu["net"] + subsidy - status_quo
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
        "investment_charge_nok": flat(mu["net_investment"]),
        "operating_charge_nok": flat(mu["net_operating"]),
        "gp_subsidy_nok": flat(subsidy),
        "status_quo_epj_nok": flat(status_quo),
        "net_cost_nok": flat(net),
        "net_cost_nok_per_inhabitant": flat(net / pop[:, None]),
        "gains_nok": flat(gains),
        "npv_net_cost_nok": rep(npv_net),
        "npv_gains_nok": rep(npv_gains),
    })


def costs_gp(cfg: Config, region: Region, gp_join_month: np.ndarray, saved: pd.DataFrame) -> pd.DataFrame:
    """One row per GP practice: the platform's price and gains per GP (NOK per GP, :class:`GPPrice`).

    time_saved_nok_per_gp_year: the region's monthly GP search hours saved x gp_price.hourly_value_nok,
    shared among practices on the platform that month by list patients, per GP, averaged over the
    practice's months on the platform x 12 (for a practice that never joined: what a practice of its
    list would have saved per GP over the last 12 months of the horizon, from the joined practices'
    saving per list patient). subsidy_nok_per_gp_year: the agreement subsidy, averaged the same way
    (its value at the end of the horizon for a practice that never joined).
    net_nok_per_gp_year = time saved + current EHR cost + subsidy - licence - annualised one-off.
    payback_years: simple payback (:func:`payback_years`) of the one-off from the joined month, with
    monthly inflow (current EHR cost + subsidy_t + time saved_t - licence) / 12; inf = joined but not
    paid back within the horizon ("never"), NaN = never joined.
    """
    price = gp_price(cfg)
    pr = region.practices
    n = cfg.n_months
    start = np.asarray(gp_join_month, dtype=np.int64)
    n_gps = pr["n_gps"].to_numpy(dtype=float)
    lists = pr["list_patients"].to_numpy(dtype=float)
    hours = _monthly_series(saved, "hours_saved_gp", n)
    per_gp = _share_among_on(hours * cfg.gp_price.hourly_value_nok, start, lists, n) / n_gps[:, None] * 12.0  # NOK/GP/year at t
    t = np.arange(n)
    on = (start[:, None] >= 0) & (t[None, :] >= start[:, None])
    t_agreement = cfg.t_of(cfg.agreement.start_month)
    subsidy_t = np.where(t >= t_agreement, cfg.agreement.subsidy_nok_per_gp_year, 0.0)
    months_on = on.sum(axis=1)
    joined = start >= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        time_saved = np.where(months_on > 0, per_gp.sum(axis=1) / months_on, 0.0)
        subsidy = np.where(months_on > 0, (on * subsidy_t[None, :]).sum(axis=1) / months_on, 0.0)
    last = slice(max(0, n - 12), n)
    lists_on = (on[:, last] * lists[:, None]).sum(axis=0)
    per_list = np.divide(hours[last] * cfg.gp_price.hourly_value_nok, lists_on, out=np.zeros(len(lists_on)), where=lists_on > 0)
    hypothetical = per_list.sum() * lists / n_gps
    time_saved = np.where(joined & (months_on > 0), time_saved, hypothetical)
    subsidy = np.where(joined & (months_on > 0), subsidy, subsidy_t[-1])
    inflow = (price.current_ehr_cost_nok_per_gp_year + subsidy_t[None, :] + per_gp - price.licence_nok_per_gp_year) / 12.0
    payback = np.array([payback_years(price.oneoff_nok_per_gp, inflow[i, start[i]:]) if joined[i] else np.nan
                        for i in range(len(pr))])
    net = time_saved + price.current_ehr_cost_nok_per_gp_year + subsidy - price.licence_nok_per_gp_year \
        - price.annualised_oneoff_nok_per_gp_year
    return pd.DataFrame({
        "practice_idx": pr["practice_idx"].to_numpy(dtype=np.int64),
        "kommunenummer": pr["kommunenummer"].astype(str).to_numpy(),
        "n_gps": pr["n_gps"].to_numpy(dtype=np.int64),
        "list_patients": pr["list_patients"].to_numpy(dtype=np.int64),
        "joined_month": start,
        "licence_nok_per_gp_year": price.licence_nok_per_gp_year,
        "oneoff_nok_per_gp": price.oneoff_nok_per_gp,
        "annualised_oneoff_nok_per_gp_year": price.annualised_oneoff_nok_per_gp_year,
        "current_ehr_cost_nok_per_gp_year": price.current_ehr_cost_nok_per_gp_year,
        "subsidy_nok_per_gp_year": subsidy,
        "time_saved_nok_per_gp_year": time_saved,
        "net_nok_per_gp_year": net,
        "payback_years": payback,
    })


ACTORS: tuple[str, ...] = ("state", "region_trusts", "municipalities", "gps", "patients")
"""Actor types of the who-pays-who-gains table, in row order."""


def who_pays_who_gains(cfg: Config, region: Region, alloc: PlatformAllocation, costs_muni: pd.DataFrame,
                       gp_join_month: np.ndarray, saved: pd.DataFrame) -> pd.DataFrame:
    """One row per actor type: what it pays for the platform and what it gains, summed and as NPV (NOK).

    Pays: state = grant + state shares; region_trusts = hospital part + regional share + pre-financing
    (:func:`allocate_platform_cost`); municipalities = platform charges + GP subsidies; gps = licences +
    one-offs (implementation, training and lost consultations, in the join year); patients = 0.
    Gains, against nobody on the platform (:func:`savings_by_month`): search hours saved x wage of the
    receiving kind (gp -> gps; municipal -> municipalities; hospital, specialist -> region_trusts);
    adverse events avoided x cost_per_adverse_event_nok, a share adverse_event_cost_share_patients to
    patients and the rest to region_trusts; municipalities also gain the status-quo EPJ cost saved,
    GPs their current EHR cost saved and the subsidy. Columns: actor, pays_nok, gains_nok,
    net_nok = gains - pays, and pays_npv_nok, gains_npv_nok, net_npv_nok (discount_rate, base_year).
    """
    e = cfg.economics
    years = alloc.years
    p = alloc.platform
    wage = hour_value_nok(cfg)
    onehot = (month_years(cfg)[:, None] == years[None, :]).astype(float)
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
    cm = costs_muni.groupby("year")[["platform_net_nok", "gp_subsidy_nok", "status_quo_epj_nok"]].sum().reindex(years, fill_value=0)

    flows = {
        "state": (p["state_nok"].to_numpy(dtype=float), np.zeros(len(years))),
        "region_trusts": ((p["hospital_nok"] + p["regional_nok"]).to_numpy(dtype=float),
                          by_year("hours_saved_hospital") * wage["hospital"] + by_year("hours_saved_specialist") * wage["specialist"]
                          + (1.0 - share_pat) * avoided_nok),
        "municipalities": ((cm["platform_net_nok"] + cm["gp_subsidy_nok"]).to_numpy(dtype=float),
                           cm["status_quo_epj_nok"].to_numpy(dtype=float) + by_year("hours_saved_municipal") * wage["municipal"]),
        "gps": (p["gp_licence_nok"].to_numpy(dtype=float) + oneoffs,
                gp_years_on * price.current_ehr_cost_nok_per_gp_year + cm["gp_subsidy_nok"].to_numpy(dtype=float)
                + by_year("hours_saved_gp") * wage["gp"]),
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
                  monthly: pd.DataFrame, no_platform_metrics: dict[str, float] | None = None) -> dict[str, pd.DataFrame]:
    """The economics of one run: {"costs_municipality", "costs_gp", "who_pays_who_gains"} (NOK, 2023 money).

    ``muni_live_month[m]`` and ``gp_join_month[i]`` are month indices t (-1 = never); ``monthly`` has one
    row per month with ``t`` and the network metric columns; ``no_platform_metrics`` are the metrics with
    nobody on the platform (the runner passes ``network.metrics(zeros)``; None: the first month stands
    in, :func:`savings_by_month`). Costs: :func:`allocate_platform_cost`; tables: :func:`costs_municipality`,
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
        "costs_gp": costs_gp(cfg, region, gp, saved),
        "who_pays_who_gains": who_pays_who_gains(cfg, region, alloc, cm, gp, saved),
    }
