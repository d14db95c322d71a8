"""The GP office's choice among join / integrate / stay (#19): the pure rules by hand, the Bass limit,
one account of money (the decision's money term recomputed from costs_gp.csv), the network's time
saving against its own metrics, the uptake split and break-even prices."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.agents import DT_YEARS
from sim.config import GP_ALTERNATIVES, with_overrides
from sim.economics import (break_even_licence_nok_per_gp_year, break_even_subsidy_nok_per_gp_year, gp_price,
                           join_money_nok_per_gp_year)
from sim.gp_choice import (INTEGRATE, JOIN, NO_CHOICE, STAY, choice_probability, choice_rate_per_year,
                           incident_risk_knok, inverse_cdf_choice, logit_probabilities, utility_knok, utility_terms_knok)
from sim.gp_uptake import break_even_distribution, residual_uptake, uptake_split
from sim.model import RolloutModel
from sim.builds import BuildCache
from sim.runner import replicate_seed, run_one

ALL = np.ones(3, dtype=bool)
BUILDS = BuildCache()  # this module's regions and networks, built once


# --------------------------------------------------------------------------- the rules by hand


def test_choice_rate_and_probability():
    assert choice_rate_per_year(0.5, False, 0.01, 0.4, 2.0) == pytest.approx(0.21)
    assert choice_rate_per_year(0.5, True, 0.01, 0.4, 2.0) == pytest.approx(2.21)
    assert choice_probability(2.21, DT_YEARS) == pytest.approx(1 - math.exp(-2.21 / 12))
    assert choice_probability(0.0, DT_YEARS) == 0.0


def test_logit_two_alternatives_and_limits():
    v = np.array([[10.0, 0.0, 0.0]])
    only_join_stay = np.array([True, False, True])
    p = logit_probabilities(v, only_join_stay, 0.1)
    assert p[0, JOIN] == pytest.approx(1 / (1 + math.exp(-1.0))) and p[0, INTEGRATE] == 0.0
    np.testing.assert_allclose(logit_probabilities(v, ALL, 0.0), [[1 / 3] * 3])  # no utility weight: uniform
    np.testing.assert_allclose(logit_probabilities(v, ALL, np.inf), [[1.0, 0.0, 0.0]])  # no random term: the best
    np.testing.assert_allclose(logit_probabilities(np.zeros((1, 3)), ALL, np.inf), [[1 / 3] * 3])  # ties share
    np.testing.assert_allclose(logit_probabilities(v, [True, False, False], 0.05), [[1.0, 0.0, 0.0]])  # Bass: join only
    big = logit_probabilities(np.array([[1e6, -1e6, 0.0]]), ALL, 1.0)  # no overflow
    assert np.isfinite(big).all() and big[0, JOIN] == 1.0


def test_inverse_cdf_bands_join_first():
    p = np.array([[0.2, 0.3, 0.5]])
    h = np.array([0.5])
    codes = [int(inverse_cdf_choice(np.array([u]), h, p)[0]) for u in (0.0, 0.099, 0.1, 0.249, 0.25, 0.499, 0.5, 0.99)]
    assert codes == [JOIN, JOIN, INTEGRATE, INTEGRATE, STAY, STAY, NO_CHOICE, NO_CHOICE]
    u = np.random.default_rng(1).random(200_000)
    c = inverse_cdf_choice(u, np.full(len(u), 0.5), np.broadcast_to(p, (len(u), 3)))
    freq = [(c == k).mean() for k in (JOIN, INTEGRATE, STAY, NO_CHOICE)]
    np.testing.assert_allclose(freq, [0.1, 0.15, 0.25, 0.5], atol=0.004)  # > 4 standard errors


@given(u=st.floats(0, 1, exclude_max=True), h=st.floats(0, 1), dh=st.floats(0, 1), v=st.lists(st.floats(-100, 100), min_size=3, max_size=3),
       dv=st.floats(0, 100), beta=st.sampled_from([0.0, 0.02, 0.3, np.inf]))
def test_a_better_join_never_turns_a_join_into_no_join(u, h, dh, v, dv, beta):
    """Join iff u < h P_join: raising V_join or h (more peers) can only add joins, whatever the rest."""
    v0 = np.array([v])
    v1 = v0.copy()
    v1[0, JOIN] += dv
    join0 = inverse_cdf_choice(np.array([u]), np.array([h]), logit_probabilities(v0, ALL, beta))[0] == JOIN
    join1 = inverse_cdf_choice(np.array([u]), np.array([min(h + dh, 1.0)]), logit_probabilities(v1, ALL, beta))[0] == JOIN
    assert join1 or not join0


def test_terms_and_zeroing():
    money = np.array([[-50.0, -2.0, 0.0]])
    saved = np.array([[7.0, 3.0, 0.0]])
    terms = utility_terms_knok(money_knok=money, time_saved_knok=saved, functionality_knok=-6.0, risk_knok=4.0,
                               peer_knok=np.array([2.0]))
    np.testing.assert_allclose(utility_knok(terms), [[-50 - 6 - 4 + 2, -2, 0]])
    np.testing.assert_allclose(utility_knok(terms, ["money"]), [[-8, 0, 0]])
    np.testing.assert_allclose(utility_knok(terms, ["time_saved"]), [[-57 - 8, -5, 0]])
    np.testing.assert_allclose(utility_knok(terms, ["functionality", "risk", "peer"]), money)
    assert not utility_knok(terms, ["money", "functionality", "risk", "peer"]).any()


def test_incident_risk_decays():
    assert incident_risk_knok(10, np.array([20.0]), 20.0, 12.0) == 0.0  # before the incident
    assert incident_risk_knok(20, np.array([20.0]), 20.0, 12.0) == pytest.approx(20.0)
    assert incident_risk_knok(32, np.array([20.0, 32.0]), 20.0, 12.0) == pytest.approx(20 / math.e + 20)


def test_break_even_prices_zero_the_money_term(small_config):
    price = gp_price(small_config)
    saved, subsidy = np.array([0.0, 7_000.0, 90_000.0]), 10_000.0
    lic = break_even_licence_nok_per_gp_year(price, saved, subsidy)
    at = gp_price(with_overrides(small_config, {"gp_price.licence_nok_per_gp_year": float(lic[1])}))
    assert join_money_nok_per_gp_year(at, saved[1], subsidy) == pytest.approx(0.0, abs=1e-6)
    sub = break_even_subsidy_nok_per_gp_year(price, saved, subsidy)
    np.testing.assert_allclose(join_money_nok_per_gp_year(price, saved, sub), 0.0, atol=1e-6)
    np.testing.assert_allclose(lic + sub, price.licence_nok_per_gp_year + subsidy)  # both close the same gap


# --------------------------------------------------------------------------- the network's time saving


def test_integrating_saves_what_the_status_quo_lacks(small_config):
    """The integrate alternative's saving per GP: nothing with no information; with full read access (m' = 1) exactly
    the saving of joining with every partner on the platform; more read access never saves less; and it shrinks as
    the status quo improves (the national services' timeline)."""
    region, net = BUILDS.get(small_config)
    t_end = small_config.n_months - 1
    full = net.practice_search_hours_saved_per_gp_year(np.ones(net.n_providers), 0)
    assert np.all(net.practice_search_hours_saved_if_integrated_per_gp_year(0.0, 0) == 0)
    np.testing.assert_allclose(net.practice_search_hours_saved_if_integrated_per_gp_year(1.0, 0), full, rtol=1e-12)
    lo, hi = (net.practice_search_hours_saved_if_integrated_per_gp_year(m, 0) for m in (0.6, 0.8))
    assert np.all(hi >= lo - 1e-12) and (hi > lo).any()
    assert np.all(net.practice_search_hours_saved_if_integrated_per_gp_year(0.8, t_end) <= hi + 1e-12)


# --------------------------------------------------------------------------- one account of money


@pytest.fixture(scope="module")
def small_run(small_config):
    cfg = with_overrides(small_config, {  # ~70 single-GP offices, offered from the start, an agreement from 2030
        "agreement.subsidy_nok_per_gp_year": 20_000.0, "agreement.start_month": "2030-01", "gp.offered_from_start": True,
        "region.gp_list_mean_persons": 300, "region.office_size_pmf": [1.0], "region.single_office_below_persons": 0,
        "region.single_office_prob_below_5000": 0.0})
    region, network = BUILDS.get(cfg)
    model = RolloutModel(cfg, region=region, network=network, seed=replicate_seed(cfg, 5)).run()  # as run_one(cfg, 5)
    return cfg, model, run_one(cfg, 5)


def test_the_decision_money_term_recomputes_from_costs_gp(small_run):
    cfg, model, tables = small_run
    cg = tables.costs_gp
    assert (cg["valued_month"] >= 0).all() and set(cg["choice"]) <= {*GP_ALTERNATIVES, "follow", "none"}
    join = (cg["time_saved_nok_per_gp_year"] + cg["current_ehr_cost_nok_per_gp_year"] + cg["subsidy_nok_per_gp_year"]
            - cg["licence_nok_per_gp_year"] - cg["implementation_annualised_nok_per_gp_year"]
            - cg["training_annualised_nok_per_gp_year"] - cg["productivity_dip_annualised_nok_per_gp_year"])
    integrate = cg["integrate_time_saved_nok_per_gp_year"] - cg["integration_nok_per_gp_year"]
    np.testing.assert_allclose(join, 1000 * model.gp_money_knok[:, JOIN], rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(integrate, 1000 * model.gp_money_knok[:, INTEGRATE], rtol=1e-12, atol=1e-6)
    assert not model.gp_money_knok[:, STAY].any()
    np.testing.assert_allclose(cg["money_join_nok_per_gp_year"], join, rtol=1e-12)
    # the subsidy counts from the agreement's start: choices before it were valued without it
    before = cg["valued_month"] < cfg.t_of(cfg.agreement.start_month)
    assert before.any() and (cg.loc[before, "subsidy_nok_per_gp_year"] == 0).all()
    assert (cg.loc[~before, "subsidy_nok_per_gp_year"] == 20_000).all()


def test_the_time_saving_valued_is_the_networks_for_that_office(small_run):
    cfg, model, tables = small_run
    cg = tables.costs_gp
    joined = cg[cg["choice"] == "join"]
    assert len(joined) > 0
    # the saving at month t of a joined office, as the run recorded it, x list of GPs = network hours x hour value
    months = joined["joined_month"].to_numpy()
    recorded = model.gp_time_saved_by_month[joined.index.to_numpy(), months]
    assert np.all(recorded > 0) and np.all(joined["time_saved_nok_per_gp_year"] > 0)
    assert np.all(joined["time_saved_nok_per_gp_year"] <= recorded + 1e-9)  # valued before its own month's joins


def test_residual_uptake_of_money_losing_offices(small_config):
    """Named terms at zero: money-losing offices join only through the random term; with the random term
    also at zero (best alternative chosen) none of them joins."""
    res = residual_uptake(small_config, [0, 1])
    assert (res["share_gps_money_losing"] > 0.9).all()  # at baseline prices every office loses money by joining
    assert (res["share_gps_money_losing_joined"] <= res["share_gps_joined_by_choice"] + 1e-12).all()
    assert (res["share_gps_money_losing_joined"] > 0).any()
    deterministic = residual_uptake(with_overrides(small_config, {"gp.beta_u_per_knok": 1e9}), [0, 1])
    assert (deterministic["share_gps_money_losing_joined"] == 0).all()


def test_uptake_split_rows_and_signs(small_config):
    df = uptake_split(small_config, [0])
    assert set(df["term"]) == {"none", "money", "time_saved", "functionality", "risk", "peer", "random", "named"}
    row = df.set_index("term")
    assert (row.loc["none", [c for c in df.columns if c.startswith("accounts_for")]] == 0).all()
    # money is negative at baseline prices: dropping it raises uptake; risk holds uptake back
    assert row.loc["money", "accounts_for_share_gps_end"] < 0
    assert row.loc["risk", "accounts_for_share_gps_end"] <= 0
    assert df.drop(columns="term").apply(np.isfinite).all().all()


def test_break_even_distribution_by_hand():
    cg = pd.DataFrame({"scenario": "s", "n_gps": [1, 1, 2], "break_even_licence_nok_per_gp_year": [-10.0, 0.0, 10.0],
                       "break_even_subsidy_nok_per_gp_year": [30.0, 20.0, -5.0]})
    d = break_even_distribution(cg).set_index("quantity")
    assert d.loc["licence", "q50"] == pytest.approx(10 / 3)  # GP-weighted midpoints 1/8, 3/8, 3/4: 0.5 is 1/3 of 3/8..3/4
    assert d.loc["licence", "share_gps_below_zero"] == pytest.approx(0.25)
    assert d.loc["subsidy", "share_gps_below_zero"] == pytest.approx(0.5)
    assert (d["n_offices"] == 3).all()


def test_uptake_over_levers_is_monotone_per_seed_and_draw(small_config):
    """Same draws: a lower licence or a higher subsidy never lowers any seed's (or parameter draw's) GP share."""
    from sim.gp_uptake import uptake_over_levers

    cfg = with_overrides(small_config, {"run.draws": 1, "gp.offered_from_start": True})
    df = uptake_over_levers(cfg, [0, 1], licences_nok=[0.0, 60_000.0, 120_000.0], subsidies_nok=[0.0, 60_000.0])
    assert set(df["draw"]) == {0, 1} and len(df) == 5 * 2 * 2
    for lever, sign in (("licence", -1), ("subsidy", 1)):
        for _, g in df[df["lever"] == lever].groupby(["draw", "seed"]):
            g = g.sort_values("value_nok_per_gp_year")
            for col in ("share_gps_2030", "share_gps_end"):
                assert np.all(sign * np.diff(g[col].to_numpy()) >= 0), (lever, col)
    lic = df[df["lever"] == "licence"]
    assert lic.loc[lic["value_nok_per_gp_year"] == 0, "share_gps_end"].mean() > \
        lic.loc[lic["value_nok_per_gp_year"] == 120_000, "share_gps_end"].mean()  # the lever does something


def test_gp_drivers_cli_writes_tables_and_figures(tmp_path):
    import subprocess
    import sys

    from .conftest import BASELINE, ROOT, SMALL

    sets = [a for s in SMALL for a in ("--set", s)]
    args = [sys.executable, "-m", "sim", "gp-drivers", str(BASELINE), "--seeds", "1", "--licence", "0",
            "--licence", "60000", "--subsidy", "0", "--out", str(tmp_path), *sets]
    res = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    (d,) = (tmp_path / "baseline").iterdir()  # its run id: scenario, region kind, overrides, gp-drivers, hash
    assert d.name.startswith("baseline-synthetic-") and "-gp-drivers-" in d.name
    for name in ("gp_uptake_split", "gp_residual_uptake", "gp_levers", "costs_gp", "gp_break_even"):
        assert len(pd.read_csv(d / f"{name}.csv")) > 0
    assert (d / "figures" / "gp_levers_en.pdf").exists() and (d / "figures" / "gp_drivers_break_even_en.png").exists()
    assert "break-even licence median" in res.stdout
    bad = subprocess.run([*args[:7], "--licence=-5", "--out", str(tmp_path / "x"), *sets], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "must be >= 0" in bad.stderr and not (tmp_path / "x").exists()
