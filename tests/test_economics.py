"""Economics: annuities, GP price, NPV and payback by hand; the financing split conserves money to the
krone, keys and floors behave as stated, and more state money never costs a municipality more."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.config import with_overrides
from sim.economics import (
    GPValuation,
    ACTORS,
    allocate_platform_cost,
    allocate_with_floor,
    allocation_weights,
    annuity_factor,
    capital_charge_factor,
    economics_years,
    ex_ante_charges_nok,
    expected_net_cost_nok_per_inhabitant_year,
    gain_value_nok,
    gp_price,
    hospital_replaced_systems_nok,
    hour_value_nok,
    month_years,
    months_on_by_year,
    npv,
    on_platform_by_month,
    payback_years,
    platform_cost_by_year,
    run_economics,
    users_by_municipality,
)
from sim.economics import BILL_COMPONENTS, LOCAL_ONEOFF
from sim.region import load_region

KINDS = ("gp", "municipal", "hospital", "specialist")
KEYS = ("per_inhabitant", "per_inhabitant_floor", "per_user", "mix")


@pytest.fixture(scope="module")
def region(small_config):
    return load_region(small_config.region)


def flat_monthly(cfg, hours: float = 100.0, adverse: float = 1.0, saved_share: np.ndarray | None = None) -> pd.DataFrame:
    """A monthly table whose metrics fall from the no-platform level by ``saved_share[t]`` (0: no saving)."""
    n = cfg.n_months
    share = np.zeros(n) if saved_share is None else saved_share
    df = pd.DataFrame({"t": np.arange(n)})
    for k in KINDS:
        df[f"search_hours_{k}"] = hours * (1.0 - share)
    df["adverse_events"] = adverse * (1.0 - share)
    return df


def valuation(cfg, gp_join_month: np.ndarray, time_saved_nok: float = 0.0) -> GPValuation:
    """A GP valuation for hand-made join months: joiners chose "join" then, the rest never chose (valued at the
    last month); a constant time saving per GP."""
    gp = np.asarray(gp_join_month, dtype=np.int64)
    n, t = len(gp), cfg.n_months
    subsidy = cfg.agreement.subsidy_nok_per_gp_year
    return GPValuation(choice=np.where(gp >= 0, 0, -1), choice_month=gp, valued_month=np.where(gp >= 0, gp, t - 1),
                       time_saved_nok_per_gp_year=np.full(n, time_saved_nok), integrate_time_saved_nok_per_gp_year=np.zeros(n),
                       subsidy_nok_per_gp_year=np.full(n, subsidy), money_knok=np.zeros((n, 3)),
                       time_saved_by_month=np.full((n, t), time_saved_nok), integrated_by_month=np.zeros((n, t), dtype=bool))


def no_platform(hours: float = 100.0, adverse: float = 1.0) -> dict[str, float]:
    return {**{f"search_hours_{k}": hours for k in KINDS}, "adverse_events": adverse}


# --------------------------------------------------------------------------- rates by hand


def test_annuity_factor_repays_the_principal():
    for r, n in ((0.04, 5), (0.1, 3), (0.0, 4), (0.07, 12.5)):
        a = annuity_factor(r, n)
        if r == 0:
            assert a == pytest.approx(1 / n)
        else:
            k = np.arange(1, int(n) + 1)
            if float(n).is_integer():  # sum_k a (1+r)^-k over k = 1..n = 1
                assert np.sum(a * (1 + r) ** -k) == pytest.approx(1.0)
    assert annuity_factor(0.04, 5) == pytest.approx(0.04 / (1 - 1.04 ** -5))
    with pytest.raises(ValueError):
        annuity_factor(0.04, 0)
    with pytest.raises(ValueError):
        annuity_factor(-0.01, 5)


def test_capital_charge_is_worth_the_principal_from_year_zero():
    for r, n in ((0.04, 10), (0.0, 7), (0.12, 3)):
        c = capital_charge_factor(r, n)
        assert np.sum(c * (1 + r) ** -np.arange(n)) == pytest.approx(1.0)


def test_gp_price_by_hand(small_config):
    cfg = with_overrides(small_config, {"gp_price.consultations_per_gp_year": 2400, "gp_price.working_days_per_year": 200,
                                        "gp_price.net_income_per_consultation_nok": 500, "gp_price.training_days_per_gp": 2,
                                        "gp_price.productivity_loss_share": 0.5, "gp_price.productivity_loss_months": 2,
                                        "gp_price.implementation_oneoff_nok_per_gp": 10_000, "economics.discount_rate": 0.0,
                                        "gp.amortisation_years": 4, "gp_price.licence_nok_per_gp_year": 50_000,
                                        "gp_price.current_ehr_cost_nok_per_gp_year": 20_000})
    p = gp_price(cfg)
    assert p.training_oneoff_nok_per_gp == pytest.approx(2 * 12 * 500)          # 2 days x 12 consultations/day x 500
    assert p.productivity_loss_oneoff_nok_per_gp == pytest.approx(0.5 * 2 * 200 * 500)  # share x months x 200/month x 500
    assert p.oneoff_nok_per_gp == pytest.approx(10_000 + 12_000 + 100_000)
    assert p.annualised_oneoff_nok_per_gp_year == pytest.approx(122_000 / 4)
    assert p.net_price_nok_per_gp_year == pytest.approx(50_000 + 30_500 - 20_000)


def test_gain_value_is_linear_and_checks_kinds(small_config):
    wage = hour_value_nok(small_config)
    assert set(wage) == set(KINDS) and wage["gp"] == small_config.gp_price.hourly_value_nok
    v = gain_value_nok({"gp": 2.0, "hospital": 1.0}, 0.5, small_config)
    assert v == pytest.approx(2 * wage["gp"] + wage["hospital"] + 0.5 * small_config.economics.cost_per_adverse_event_nok)
    arr = gain_value_nok({"municipal": np.array([0.0, 1.0, 2.0])}, np.zeros(3), small_config)
    assert np.allclose(arr, np.array([0.0, 1.0, 2.0]) * wage["municipal"])
    with pytest.raises(ValueError, match="unknown provider kinds"):
        gain_value_nok({"dentist": 1.0}, 0.0, small_config)


def test_npv_and_payback_by_hand():
    assert npv(np.array([100.0, 100.0]), np.array([2023, 2024]), 0.1, 2023) == pytest.approx(100 + 100 / 1.1)
    assert npv(np.array([100.0]), np.array([2022]), 0.1, 2023) == pytest.approx(110.0)  # compounded forward
    assert npv(np.array([5.0, 7.0]), np.array([2030, 2031]), 0.0, 2023) == pytest.approx(12.0)
    assert payback_years(100.0, np.full(24, 30.0)) == pytest.approx((100 / 30) / 12)
    assert payback_years(100.0, np.array([0.0, 50.0, 50.0]), dt_years=1.0) == pytest.approx(3.0)
    assert payback_years(100.0, np.array([0.0, 50.0, 100.0]), dt_years=1.0) == pytest.approx(2.5)
    assert payback_years(0.0, np.array([-5.0])) == 0.0
    assert math.isinf(payback_years(100.0, np.full(12, 5.0)))
    assert math.isinf(payback_years(100.0, np.full(12, -5.0)))
    with pytest.raises(ValueError):
        npv(np.ones(2), np.ones(3), 0.04, 2023)


@given(st.lists(st.integers(-1, 200), min_size=1, max_size=20))
def test_months_on_count_the_months_from_the_start_month(small_config, starts):
    """On from the start month to the end (never for -1); months per year add up to the months on."""
    cfg, start = small_config, np.asarray(starts)
    on = on_platform_by_month(start, cfg.n_months)
    for i, s in enumerate(start):
        assert on[i].tolist() == [s >= 0 and t >= s for t in range(cfg.n_months)]
    years = np.unique(month_years(cfg))
    by_year = months_on_by_year(start, cfg, years)
    assert np.array_equal(by_year.sum(axis=1), on.sum(axis=1))
    assert by_year.max(initial=0) <= 12 and np.all(by_year[start < 0] == 0)


# --------------------------------------------------------------------------- keys and floors


@given(st.lists(st.floats(0.0, 1e5), min_size=2, max_size=12), st.floats(0.0, 2e6), st.floats(1.0, 1e7), st.data())
def test_floor_raises_exactly_those_below_it(weights, floor, total, data):
    w = np.asarray(weights)
    members = np.asarray(data.draw(st.lists(st.booleans(), min_size=len(w), max_size=len(w))))
    a = allocate_with_floor(total, w, floor, members)
    assert np.all(a[~members] == 0)
    if not members.any():
        return
    assert a.sum() == pytest.approx(total, rel=1e-9)
    plain = allocate_with_floor(total, w, 0.0, members)
    if floor * members.sum() >= total:
        assert np.allclose(a[members], total / members.sum())
        return
    below = members & (plain < floor)
    assert np.all(a[members] >= floor * (1 - 1e-9))
    assert np.allclose(a[below], floor)                       # raised exactly to the floor
    assert np.all(a[members & ~below] <= plain[members & ~below] * (1 + 1e-9))  # the others pay less


def test_floor_allocation_with_a_subnormal_weight():
    """Found by hypothesis: 1 / 2.2e-311 overflows, so lambda w_i must be computed from the shares w_i / sum w."""
    a = allocate_with_floor(1.0, np.array([2.225073858507e-311, 0.0]), 0.0, np.array([True, False]))
    assert a.tolist() == [1.0, 0.0]


def test_keys_weigh_population_or_users(small_config, region):
    pop = region.municipalities["population"].to_numpy(dtype=float)
    users = users_by_municipality(small_config, region)
    assert users.sum() == pytest.approx(small_config.economics.users_per_inhabitant_municipal * pop.sum())
    for key, expect in (("per_inhabitant", pop), ("per_inhabitant_floor", pop), ("per_user", users)):
        w = allocation_weights(with_overrides(small_config, {"financing.allocation_key": key}), region)
        assert np.allclose(w / w.sum(), expect / expect.sum())
    mix = with_overrides(small_config, {"financing.allocation_key": "mix", "financing.mix_weight_inhabitant": 0.25})
    assert np.allclose(allocation_weights(mix, region), 0.25 * pop / pop.sum() + 0.75 * users / users.sum())


# --------------------------------------------------------------------------- the financing split


def random_case(cfg, region, data):
    """A config with random shares, key, grant and floor, and random go-live and GP join months."""
    s = data.draw(st.floats(0.0, 1.0))
    r = data.draw(st.floats(0.0, 1.0 - s))
    cfg = with_overrides(cfg, {
        "financing.state_share": s, "financing.regional_share": r,
        "financing.allocation_key": data.draw(st.sampled_from(KEYS)),
        "financing.state_grant_nok": data.draw(st.sampled_from([0.0, 715e6, 5e9])),
        "financing.floor_nok_per_municipality_year": data.draw(st.sampled_from([0.0, 5e5, 5e7])),
        "financing.mix_weight_inhabitant": data.draw(st.floats(0.0, 1.0)),
        "gp_price.licence_nok_per_gp_year": data.draw(st.sampled_from([0.0, 60_000.0, 5e6])),
        "agreement.subsidy_nok_per_gp_year": data.draw(st.sampled_from([0.0, 20_000.0])),
        "financing.fixed_part_share": data.draw(st.sampled_from([0.0, 0.2, 1.0])),
        "financing.grant_mode": data.draw(st.sampled_from(["grant", "loan"])),
        "financing.loan_rate": data.draw(st.sampled_from([0.0, 0.03])),
        "financing.gp_licence_credit": data.draw(st.sampled_from(["owners_pro_rata", "municipalities"])),
        "financing.state_share_local": data.draw(st.sampled_from([0.0, 0.5, 1.0])),
        "economics.investment_annualisation_years": data.draw(st.sampled_from([1, 10])),
    })
    n = cfg.n_months
    months = st.integers(-1, n - 1)
    live = np.asarray(data.draw(st.lists(months, min_size=len(region.municipalities), max_size=len(region.municipalities))))
    gp = np.asarray(data.draw(st.lists(months, min_size=len(region.practices), max_size=len(region.practices))))
    return cfg, live, gp


@given(st.data())
def test_money_is_conserved_to_the_krone_every_year(small_config, region, data):
    cfg, live, gp = random_case(small_config, region, data)
    alloc = allocate_platform_cost(cfg, region, live, gp)
    p = alloc.platform
    cost = platform_cost_by_year(cfg, economics_years(cfg))["cost_nok"].to_numpy()
    total = p["state_nok"] + p["regional_nok"] + p["hospital_nok"] + p["municipal_nok"] + p["gp_licence_nok"]
    assert np.array_equal(total.to_numpy(), cost)
    assert p[[c for c in p.columns if c.endswith("_nok")]].dtypes.map(lambda d: np.issubdtype(d, np.integer)).all()
    assert p["cost_nok"].sum() == round(cfg.economics.investment_nok * sum(cfg.economics.investment_profile.values())) \
        + cfg.economics.operating_nok_per_year * int((alloc.years >= cfg.economics.operating_start_year).sum())
    out = run_economics(cfg, region, live, gp, flat_monthly(cfg), valuation(cfg, gp), no_platform())
    cm = out["costs_municipality"]
    assert np.array_equal(cm.groupby("year")["platform_net_nok"].sum().to_numpy(), p["municipal_nok"].to_numpy())
    parts = cm["state_nok"] + cm["regional_nok"] + cm["gp_licence_nok"] + cm["platform_net_nok"]
    assert np.array_equal(parts.to_numpy(), cm["platform_gross_nok"].to_numpy())
    never = cm["kommunenummer"].isin(region.municipalities["kommunenummer"][live < 0])
    assert (cm.loc[never, ["platform_net_nok", *LOCAL_ONEOFF, "legacy_contract_saving_nok"]] == 0).all().all()  # pays nothing, saves nothing
    assert np.array_equal(cm.loc[never, "net_cost_nok"], cm.loc[never, "gp_subsidy_nok"])  # bar a GP agreement
    assert not cm.loc[~cm["joined"], ["platform_operating_nok", "local_running_nok", "legacy_contract_saving_nok"]].any().any()
    # the bill: every component whole kroner, the net cost their sum, the platform part the allocation's
    assert cm[list(BILL_COMPONENTS)].dtypes.map(lambda d: np.issubdtype(d, np.integer)).all()
    assert np.array_equal(cm[list(BILL_COMPONENTS)].sum(axis=1).to_numpy(), cm["net_cost_nok"].to_numpy())
    platform = cm["platform_investment_nok"] + cm["platform_operating_nok"] + cm["loan_repayment_nok"]
    assert np.array_equal(platform.to_numpy(), cm["platform_net_nok"].to_numpy())


@given(st.data())
def test_full_state_share_leaves_municipalities_nothing_to_pay(small_config, region, data):
    cfg, live, gp = random_case(small_config, region, data)
    cfg = with_overrides(cfg, {"financing.state_share": 1.0, "financing.regional_share": 0.0})
    mu = allocate_platform_cost(cfg, region, live, gp).municipal
    assert not mu["net"].any()
    assert np.array_equal(mu["state"], mu["gross"] - mu["gp_licence"])


@given(st.data(), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_more_state_money_never_raises_a_municipal_net_cost(small_config, region, data, s1, s2):
    """Net cost per municipality and year falls (weakly) with the state share; largest-remainder rounding
    (the Alabama paradox) may move a single krone per charge, so rows may differ by at most 2 kroner."""
    cfg, live, gp = random_case(small_config, region, data)
    r = min(cfg.financing.regional_share, 1.0 - max(s1, s2))
    lo, hi = sorted((s1, s2))
    tables = [run_economics(with_overrides(cfg, {"financing.state_share": s, "financing.regional_share": r}),
                            region, live, gp, flat_monthly(cfg), valuation(cfg, gp), no_platform())["costs_municipality"] for s in (lo, hi)]
    assert np.all(tables[1]["net_cost_nok"].to_numpy() <= tables[0]["net_cost_nok"].to_numpy() + 2)
    assert np.all(tables[1]["npv_net_cost_nok"].to_numpy() <= tables[0]["npv_net_cost_nok"].to_numpy() + 2 * len(economics_years(cfg)))


def test_floor_in_the_run_raises_the_small_municipalities(small_config, region):
    """Operating only (no investment): the floored gross allocation of a live municipality is the floor
    where its per-inhabitant allocation fell below it, and no more than before elsewhere (4 kroner of rounding)."""
    base = with_overrides(small_config, {"economics.investment_nok": 0.0, "gp_price.licence_nok_per_gp_year": 0.0,
                                         "financing.fixed_part_share": 0.0, "economics.operating_nok_per_year": 4e8})
    floor = 3e6
    live = np.full(len(region.municipalities), 30)
    gp = np.full(len(region.practices), -1)
    plain = allocate_platform_cost(with_overrides(base, {"financing.allocation_key": "per_inhabitant"}), region, live, gp)
    floored = allocate_platform_cost(with_overrides(base, {"financing.allocation_key": "per_inhabitant_floor",
                                                           "financing.floor_nok_per_municipality_year": floor}), region, live, gp)
    years = plain.years
    frac = months_on_by_year(live, base, years) / 12.0
    g0, g1 = plain.municipal["gross"], floored.municipal["gross"]
    paying = frac > 0
    below = paying & (g0 < floor * frac)
    assert below.any() and (paying & ~below).any()
    assert np.all(np.abs(g1[below] - (floor * frac)[below]) <= 4)
    assert np.all(g1[paying & ~below] <= g0[paying & ~below] + 4)
    assert np.array_equal(g0.sum(axis=0), g1.sum(axis=0))


def test_investment_charges_are_worth_the_outlay(small_config, region):
    """Pre-financing is NPV-neutral for the region when the charges end within the horizon."""
    cfg = with_overrides(small_config, {"economics.investment_profile": {"2021": 0.5, "2023": 0.5},
                                        "economics.investment_annualisation_years": 4, "economics.discount_rate": 0.05,
                                        "gp_price.licence_nok_per_gp_year": 0.0, "economics.operating_start_year": 2023})
    live = np.where(np.arange(len(region.municipalities)) % 2 == 0, 40, 100)  # go-live 2023 and 2028
    alloc = allocate_platform_cost(cfg, region, live, np.full(len(region.practices), -1))
    e, p = cfg.economics, alloc.platform
    outlay = npv(p["municipal_net_investment_nok"], alloc.years, e.discount_rate, e.base_year)
    charges = npv(alloc.municipal["net_investment"].sum(axis=0), alloc.years, e.discount_rate, e.base_year)
    assert charges == pytest.approx(outlay, abs=len(live) * len(alloc.years))
    assert npv(p["prefinancing_nok"], alloc.years, e.discount_rate, e.base_year) == pytest.approx(0.0, abs=len(live) * len(alloc.years))
    late = alloc.municipal["net_investment"][1]
    charged = (alloc.years >= 2028) & (alloc.years < 2032)  # four charges from its go-live year, nothing before
    assert not late[~charged].any() and late[charged].all()


def test_expected_cost_matches_a_run_where_everyone_joins_at_once(small_config, region):
    cfg = with_overrides(small_config, {"financing.allocation_key": "per_inhabitant_floor", "financing.state_share": 0.3,
                                        "financing.floor_nok_per_municipality_year": 2e6, "gp_price.licence_nok_per_gp_year": 0.0,
                                        "economics.investment_nok": 0.0})
    bill = ex_ante_charges_nok(cfg, region)
    live = np.zeros(len(region.municipalities), dtype=np.int64)
    alloc = allocate_platform_cost(cfg, region, live, np.full(len(region.practices), -1))
    year = list(alloc.years).index(2030)
    assert np.allclose(alloc.municipal["net_operating"][:, year], bill["operating_nok_per_year"], atol=1.0)
    pop = region.municipalities["population"].to_numpy()
    expected = expected_net_cost_nok_per_inhabitant_year(cfg, region)
    # the annual parts of the expected bill are those of a year in the run where everyone is live
    cm = run_economics(cfg, region, live, np.full(len(region.practices), -1), flat_monthly(cfg), no_platform())["costs_municipality"]
    steady = cm[cm["year"] == 2030]
    annual = steady["platform_operating_nok"] + steady["local_running_nok"] + steady["legacy_contract_saving_nok"]
    oneoff = expected - annual.to_numpy() / pop
    assert np.all(oneoff > 0)  # annualised local one-offs and the productivity dip
    more_state = with_overrides(cfg, {"financing.state_share": 0.6})
    assert np.all(expected_net_cost_nok_per_inhabitant_year(more_state, region) <= expected)


# --------------------------------------------------------------------------- gains, GPs, actors


def test_gp_payback_by_hand(small_config, region):
    """No time saved: payback = one-off / (current system cost + subsidy - licence), from the join month."""
    cfg = with_overrides(small_config, {"gp_price.implementation_oneoff_nok_per_gp": 24_000, "gp_price.training_days_per_gp": 0,
                                        "gp_price.productivity_loss_share": 0.0, "gp_price.licence_nok_per_gp_year": 10_000,
                                        "gp_price.current_ehr_cost_nok_per_gp_year": 22_000,
                                        "agreement.subsidy_nok_per_gp_year": 0.0})
    gp = np.full(len(region.practices), -1)
    gp[0], gp[1] = 24, cfg.n_months - 6
    out = run_economics(cfg, region, np.full(len(region.municipalities), 24), gp, flat_monthly(cfg), valuation(cfg, gp),
                        no_platform())["costs_gp"]
    assert out.loc[0, "payback_years"] == pytest.approx(2.0)            # 24,000 / 12,000 a year
    assert math.isinf(out.loc[1, "payback_years"])                      # joined too late to pay back: never
    assert out["payback_years"].iloc[2:].isna().all()                   # never joined
    assert out.loc[0, "money_join_nok_per_gp_year"] == pytest.approx(22_000 - 10_000 - gp_price(cfg).annualised_oneoff_nok_per_gp_year)
    assert out.loc[0, "break_even_licence_nok_per_gp_year"] == pytest.approx(22_000 - gp_price(cfg).annualised_oneoff_nok_per_gp_year)
    expensive = with_overrides(cfg, {"gp_price.licence_nok_per_gp_year": 40_000})
    out = run_economics(expensive, region, np.full(len(region.municipalities), 24), gp, flat_monthly(cfg), valuation(cfg, gp),
                        no_platform())["costs_gp"]
    assert math.isinf(out.loc[0, "payback_years"])


def test_gains_follow_the_saved_hours(small_config, region):
    cfg = small_config
    n = cfg.n_months
    share = np.where(np.arange(n) >= 36, 0.5, 0.0)
    live = np.full(len(region.municipalities), 36)
    gp = np.full(len(region.practices), 36)
    out = run_economics(cfg, region, live, gp, flat_monthly(cfg, 100.0, 2.0, share), valuation(cfg, gp), no_platform(100.0, 2.0))
    who = out["who_pays_who_gains"].set_index("actor")
    assert list(who.index) == list(ACTORS)
    wage, e = hour_value_nok(cfg), cfg.economics
    months_saving = int((share > 0).sum())
    avoided = 2.0 * 0.5 * months_saving * e.cost_per_adverse_event_nok
    assert who.loc["patients", "gains_nok"] == pytest.approx(avoided * e.adverse_event_cost_share_patients)
    replaced = hospital_replaced_systems_nok(cfg, region, None, economics_years(cfg)).sum()
    assert replaced > 0
    assert who.loc["region_trusts", "gains_nok"] == pytest.approx(
        50.0 * months_saving * (wage["hospital"] + wage["specialist"]) + avoided * (1 - e.adverse_event_cost_share_patients) + replaced)
    cm = out["costs_municipality"]
    assert cm["gains_nok"].sum() == pytest.approx(50.0 * months_saving * wage["municipal"])
    assert who.loc["municipalities", "gains_nok"] == pytest.approx(cm["gains_nok"].sum() - cm["legacy_contract_saving_nok"].sum())
    assert np.allclose(who["net_nok"], who["gains_nok"] - who["pays_nok"])
    assert who.loc["gps", "gains_nok"] == pytest.approx(
        50.0 * months_saving * wage["gp"] + cm["gp_subsidy_nok"].sum()
        + region.n_gps * (n - 36) / 12 * cfg.gp_price.current_ehr_cost_nok_per_gp_year)
    nothing = run_economics(cfg, region, live, gp, flat_monthly(cfg), valuation(cfg, gp), no_platform())["who_pays_who_gains"]
    assert nothing.loc[nothing["actor"] == "patients", "gains_nok"].item() == 0.0
    # without the x = 0 metrics the first month stands in for "nobody on the platform"
    same = run_economics(cfg, region, live, gp, flat_monthly(cfg, 100.0, 2.0, share), valuation(cfg, gp))["who_pays_who_gains"]
    assert np.allclose(same["gains_nok"], out["who_pays_who_gains"]["gains_nok"])


def test_run_economics_rejects_wrong_shapes(small_config, region):
    with pytest.raises(ValueError, match="muni_live_month"):
        run_economics(small_config, region, np.zeros(3, dtype=int), np.zeros(len(region.practices), dtype=int),
                      flat_monthly(small_config), valuation(small_config, np.zeros(len(region.practices))))
    with pytest.raises(ValueError, match="gp_join_month"):
        run_economics(small_config, region, np.zeros(len(region.municipalities), dtype=int), np.zeros(2, dtype=int),
                      flat_monthly(small_config), valuation(small_config, np.zeros(2)))


def test_money_frames_scale_with_a_synthetic_region(small_config, baseline_config):
    """A synthetic region pays the frames in proportion to its residents; the real region is unchanged."""
    from sim.economics import scaled_to_region
    from sim.region import load_region

    real = load_region(baseline_config.region)
    assert scaled_to_region(baseline_config, real) is baseline_config
    small = load_region(small_config.region)
    scaled = scaled_to_region(small_config, small)
    f = small.population / baseline_config.economics.reference_population_persons
    assert scaled.economics.investment_nok == pytest.approx(small_config.economics.investment_nok * f)
    assert scaled.financing.state_grant_nok == pytest.approx(small_config.financing.state_grant_nok * f)
    def fee_per_inhabitant(cfg, region):  # the platform fee per resident of the whole region (fixed local costs do not scale)
        bill = ex_ante_charges_nok(cfg, region)
        return (bill["operating_nok_per_year"] + bill["investment_nok"]).sum() / bill["population"].sum()

    assert fee_per_inhabitant(scaled, small) == pytest.approx(fee_per_inhabitant(baseline_config, real), rel=0.01)
