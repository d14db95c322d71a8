"""Adoption dynamics (#4): the rules, the agents and the rollout model.

Analytic checks of the pure rules, invariants of whole runs, the threshold cascade by hand,
run-by-run monotonicity under common random numbers (hypothesis), reproducibility, and
``mesa.batch_run`` compatibility.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.agents import (GPPractice, Hospital, Municipality, decision_probability,
                        in_contract_window, municipal_score, peer_share, perceived_functionality, releases_by)
from sim.builds import BuildCache
from sim.config import load_config, with_overrides
from sim.model import ADOPTION_COLUMNS, NET_COLUMNS, RolloutModel, named_stream, root_seed
from sim.municipal_decision import DECLINED, EXITED, LIVE, OPTION, UNDECIDED
from sim.network import METRIC_COLUMNS

from .conftest import BASELINE, SMALL

N_WAVES = 11  # waves in the baseline calendar
WIDE_WAVES = {"rollout.wave_capacity": [1000] * N_WAVES}  # holds the go-live calendar fixed (DESIGN.md, Random numbers)

BUILDS = BuildCache()  # this module's regions and networks, built once


def small(**overrides):
    """The baseline on the small synthetic region, with overrides (``a__b`` = ``a.b``).

    The model scales the platform's money frames to a synthetic region (``economics.scaled_to_region``),
    so its municipalities face the real region's cost per inhabitant.
    """
    cfg = load_config(BASELINE, SMALL)
    return with_overrides(cfg, {k.replace("__", "."): v for k, v in overrides.items()}) if overrides else cfg


def run(cfg, seed=0) -> RolloutModel:
    region, network = BUILDS.get(cfg)
    return RolloutModel(cfg, region=region, network=network, seed=seed).run()


def many_practices(**overrides):
    """The small region with ~100 single-GP practices (short lists), so monotonicity tests have many agents."""
    return small(region__gp_list_mean_persons=200, region__office_size_pmf=[1.0],
                 region__single_office_below_persons=0, region__single_office_prob_below_5000=0.0, **overrides)


def never_last(months: np.ndarray) -> np.ndarray:
    """Month indices with 'never' (-1) as +inf, for comparing who came first."""
    return np.where(months < 0, np.inf, months.astype(float))


# --------------------------------------------------------------------------- pure rules


def test_releases_and_functionality_equation():
    f = load_config(BASELINE).functionality.model_copy(update={
        "initial": 0.5, "improvement_per_release": 0.05, "release_interval_months": 3,
        "golive_shock": 0.2, "shock_recovery_months": 10.0})
    t = np.arange(60)
    assert releases_by(t, 12, 3).tolist()[10:19] == [0, 0, 1, 1, 1, 2, 2, 2, 3]
    no_golive = perceived_functionality(t, f, 12, np.array([]))
    np.testing.assert_allclose(no_golive, np.clip(0.5 + 0.05 * releases_by(t, 12, 3), 0, 1))
    one = perceived_functionality(t, f, 12, np.array([20]))
    shock = no_golive - one
    assert np.all(shock[:20] == 0)
    assert shock[20] == pytest.approx(0.2)
    assert shock[30] == pytest.approx(0.2 / math.e)  # e-folding after shock_recovery_months
    # clipping: a huge shock floors at 0; many releases cap at 1
    big = f.model_copy(update={"golive_shock": 1.0, "improvement_per_release": 0.3})
    vals = perceived_functionality(t, big, 0, np.array([5, 6]))
    assert vals.min() == 0.0 and vals.max() == 1.0


def test_peer_share_by_hand():
    # practices 0,1,2 in municipality 0, practice 3 in municipality 1; one council; GPs 1,2,3,4
    n = np.array([1, 2, 3, 4])
    muni, council = np.array([0, 0, 0, 1]), np.array([0, 0, 0, 0])
    adopted = np.array([False, True, False, True])
    s = peer_share(adopted, n, muni, council, 2.0, 1.0)
    # practice 0: municipality others {1,2}: 2/5; council others {1,2,3}: 6/9
    assert s[0] == pytest.approx((2 * 2 / 5 + 1 * 6 / 9) / 3)
    # practice 3 is alone in its municipality: only the council counts, others {0,1,2}: 2/6
    assert s[3] == pytest.approx(2 / 6)
    assert np.all(peer_share(adopted, n, muni, council, 2.0, 1.0, complete=True) == pytest.approx(6 / 10))
    assert peer_share(np.array([False]), np.array([3]), np.array([0]), np.array([0]), 1.0, 1.0)[0] == 0.0


def test_contract_window():
    phase = np.array([6.0])
    assert in_contract_window(0, phase, 60.0, 12)[0]  # 6 months before its end
    assert not in_contract_window(7, phase, 60.0, 12)[0]  # just renewed
    assert not in_contract_window(54, phase, 60.0, 12)[0]  # 12 months before the next end: not yet
    assert in_contract_window(55, phase, 60.0, 12)[0]


def test_municipal_score_terms():
    s = municipal_score(np.array([0.5]), 0.7, np.array([0.25]), np.array([0.1]), weight_cost=2.0,
                        weight_functionality=1.0, functionality_reference=0.5, weight_peers=4.0, weight_gp=10.0)
    assert s[0] == pytest.approx(1.0 + 0.2 + 1.0 + 1.0)
    assert decision_probability(np.array([0.3]), np.array([0.3]), 0.0)[0] == 1.0
    assert decision_probability(np.array([0.29]), np.array([0.3]), 0.0)[0] == 0.0
    assert decision_probability(np.array([0.3]), np.array([0.3]), 0.1)[0] == pytest.approx(0.5)
    assert decision_probability(np.array([1e6]), np.array([0.0]), 1e-3)[0] == 1.0  # no overflow


# --------------------------------------------------------------------------- seeds and streams


def test_seed_forms_and_named_streams():
    assert root_seed(5).entropy == 5
    ss = np.random.SeedSequence(7, spawn_key=(3,))
    assert root_seed(ss) is ss
    for bad in (-1, 1.5, "x", True):
        with pytest.raises((ValueError, TypeError)):
            root_seed(bad)
    a = named_stream(ss, "gp_uniforms").random(4)
    assert np.array_equal(a, named_stream(ss, "gp_uniforms").random(4))
    assert not np.array_equal(a, named_stream(ss, "municipal_uniforms").random(4))
    assert not np.array_equal(a, named_stream(np.random.SeedSequence(7, spawn_key=(4,)), "gp_uniforms").random(4))


def test_same_seed_identical_other_seed_differs():
    cfg = small(gp__offered_from_start=True, gp__bass_p_per_year=0.05)
    a, b, c = run(cfg, seed=3), run(cfg, seed=3), run(cfg, seed=4)
    pd.testing.assert_frame_equal(a.monthly(), b.monthly())
    for name in ("gp_join_month", "muni_decision_month", "muni_live_month", "hospital_live_month", "muni_declined"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.gp_join_month, c.gp_join_month)
    assert not a.monthly().equals(c.monthly())


def test_common_random_numbers_across_scenarios():
    """Two scenarios with one seed draw the same uniforms, and thresholds shift by the mean only."""
    cfg = small()
    other = with_overrides(cfg, {"gp_price.licence_nok_per_gp_year": 20_000, "municipality.threshold_mean": 0.9,
                                 "financing.state_share": 1.0})
    region, network = BUILDS.get(cfg)
    a = RolloutModel(cfg, region, network, seed=11)
    b = RolloutModel(other, region, network, seed=11)
    assert np.array_equal(a.gp_uniforms, b.gp_uniforms) and np.array_equal(a.muni_uniforms, b.muni_uniforms)
    assert np.array_equal(a.contract_end_phase, b.contract_end_phase)
    np.testing.assert_allclose(b.muni_threshold - a.muni_threshold, 0.9 - cfg.municipality.threshold_mean)


# --------------------------------------------------------------------------- whole runs: columns and invariants


def test_monthly_columns_and_invariants():
    cfg = small()
    m = run(cfg, seed=1)
    df = m.monthly()
    assert list(df.columns) == ["t", "month", *ADOPTION_COLUMNS[1:], *METRIC_COLUMNS, *NET_COLUMNS]
    assert len(df) == cfg.n_months and df["t"].tolist() == list(range(cfg.n_months))
    assert np.allclose(df["net_benefit_nok"], df["gain_nok"] - df["harm_nok"])
    assert ((df["gain_realized"] >= 0) & (df["gain_realized"] <= 1)).all() and (df[list(NET_COLUMNS[:-1])] >= 0).all().all()
    live = m.hospital_live_month[m.hospital_live_month >= 0]
    assert (df.loc[df["t"] < live.min(), "harm_productivity_nok_hospital"] == 0).all()
    assert df.loc[df["t"] == live.min(), "harm_productivity_nok_hospital"].iat[0] > 0
    assert pd.api.types.is_datetime64_any_dtype(df["month"])
    assert df["month"].iloc[0] == pd.Timestamp("2020-01-01") and df["month"].iloc[-1] == pd.Timestamp("2035-12-01")
    shares = [c for c in df.columns if c.startswith("share_")] + ["functionality"]
    assert ((df[shares] >= 0) & (df[shares] <= 1)).all().all()
    for c in ("n_gp_offices_live", "n_gps_live", "n_municipalities_decided", "n_municipalities_bound",
              "n_municipalities_declined", "n_municipalities_live", "n_hospitals_live"):
        assert (df[c].diff().dropna() >= 0).all(), c
    assert (df["n_municipalities_live"] <= df["n_municipalities_bound"]).all()
    assert (df["n_municipalities_bound"] <= df["n_municipalities_decided"]).all()
    assert (df["n_municipalities_bound"] + df["n_municipalities_declined"] + df["n_municipalities_deferred"]
            <= m.n_munis).all()
    assert (df["n_municipalities_exited"] == 0).all()  # exit is off in the baseline
    for name, n in (("gp_join_month", m.n_practices), ("muni_decision_month", m.n_munis),
                    ("muni_live_month", m.n_munis), ("hospital_live_month", m.n_hospitals)):
        arr = getattr(m, name)
        assert arr.dtype == np.int64 and arr.shape == (n,) and arr.min() >= -1 and arr.max() < cfg.n_months
    assert m.muni_declined.dtype == bool
    # stages in order: option <= binding <= live; a decliner never binds or goes live
    live, bound = m.muni_live_month >= 0, m.muni_binding_month >= 0
    assert np.all(bound[live]) and np.all(m.muni_decision_month[bound] >= 0)
    assert np.all(m.muni_live_month[live] >= m.muni_binding_month[live])
    assert np.all(m.muni_binding_month[bound] >= m.muni_decision_month[bound])
    assert np.array_equal(m.muni_declined, m.muni_decline_month >= 0)
    assert not np.any(m.muni_declined & (bound | live))
    # GPs join only once their municipality is live (offered_from_start is false in the baseline)
    joined = m.gp_join_month >= 0
    muni_live = m.muni_live_month[m.gp_muni]
    assert np.all((muni_live[joined] >= 0) & (m.gp_join_month[joined] >= muni_live[joined]))


def test_baseline_calendar_history_and_capacity(baseline_config):
    """Real region: Trondheim decided at t = 0 and live in the first wave; waves never over capacity;
    live months are wave months; St. Olavs (no delay risk) live on plan; other trusts within the slip."""
    cfg = baseline_config
    m = run(cfg, seed=0)
    knr = m.region.municipalities["kommunenummer"].tolist()
    trondheim = knr.index("5001")
    assert m.muni_decision_month[trondheim] == 0 and m.muni_live_month[trondheim] == cfg.t_of("2022-05")
    counts = np.bincount(m.muni_wave[m.muni_wave >= 0], minlength=N_WAVES)
    assert np.all(counts <= np.array(cfg.rollout.wave_capacity))
    live = m.muni_live_month >= 0
    assert np.array_equal(m.muni_live_month[live], m.calendar.month_t[m.muni_wave[live]])
    history = np.array(cfg.rollout.wave_months) <= cfg.rollout.history_end_month
    assert np.array_equal(m.calendar.month_t[history], m.calendar.planned_t[history])  # history never postponed
    trusts = m.region.trusts["hospital_trust"].tolist()
    hosp_trust = m.region.hospitals["trust_idx"].to_numpy()
    for k, name in enumerate(trusts):
        planned = cfg.t_of(cfg.hospitals.golive_month[name])
        got = m.hospital_live_month[hosp_trust == k]
        assert len(set(got)) == 1  # local hospitals go live with their trust
        if cfg.hospitals.delay_probability[name] == 0:
            assert got[0] == planned
        else:
            assert planned <= got[0] <= planned + cfg.hospitals.delay_months_max


def test_hospital_delay_always_and_never():
    always = run(small(hospitals__delay_probability={"default": 1.0}, hospitals__delay_months_max=5), seed=2)
    planned = always.cfg.t_of(always.cfg.hospitals.golive_month["default"])
    assert np.all((always.hospital_live_month >= planned + 1) & (always.hospital_live_month <= planned + 5))
    never = run(small(hospitals__delay_probability={"default": 0.0}), seed=2)
    assert np.all(never.hospital_live_month == planned)


def test_missing_trust_without_default_is_an_error():
    # rejected when the config is validated (issue 24), before a model is built
    with pytest.raises(ValueError, match="hospitals.golive_month: no entry for trust 'Trust 1'"):
        cfg = small(hospitals__golive_month={"Somewhere HF": "2023-01"})
        region, network = BUILDS.get(cfg)
        RolloutModel(cfg, region, network, seed=0)


def test_postponement_only_after_history():
    """Functionality never reaches the threshold: every wave after the history slips, again and again; history waves do not."""
    cfg = small(municipality__postpone_below_functionality=1.0, functionality__initial=0.6,
                functionality__improvement_per_release=0.0, municipality__postpone_months=6, **{
                    "rollout.wave_capacity": [1000] * N_WAVES})
    m = run(cfg, seed=0)
    history_end = cfg.t_of(cfg.rollout.history_end_month)
    late = m.calendar.planned_t > history_end
    assert np.all(m.calendar.month_t[~late] == m.calendar.planned_t[~late])
    assert np.all(m.calendar.month_t[late] >= cfg.n_months)  # slipped past the horizon
    assert np.all((m.muni_live_month < 0) | (m.muni_live_month <= history_end))


def test_salaried_offices_follow_their_municipality():
    cfg = small(gp__salaried_follow_municipality=True, gp__bass_p_per_year=0.0, gp__bass_q_per_year=0.0,
                gp__window_choice_rate_per_year=0.0,
                municipality__threshold_mean=-2.0, **WIDE_WAVES)  # every municipality joins
    m = run(cfg, seed=1)
    sal = m.gp_salaried
    live = m.muni_live_month[m.gp_muni]
    assert sal.any() and (live[sal] >= 0).any()
    assert np.array_equal(m.gp_join_month[sal], live[sal])
    assert np.all(m.gp_join_month[~sal] == -1)  # no choice rate: nobody else ever joins


def test_peer_matrix_uses_trust_area_for_lone_council():
    cfg = small(region__synthetic_municipalities_per_council=1, region__synthetic_municipalities_per_trust=4)
    region, network = BUILDS.get(cfg)
    m = RolloutModel(cfg, region, network, seed=0)
    trust = m.muni_trust
    expected = (trust[:, None] == trust[None, :]) & ~np.eye(len(trust), dtype=bool)
    expected = expected / expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(m.muni_peers, expected)


# --------------------------------------------------------------------------- the threshold cascade by hand


def cascade(thresholds: list[float], *extra: str) -> RolloutModel:
    """One council of four; the score is the peers term alone; deterministic thresholds."""
    cfg = load_config(BASELINE, [
        "region.kind=synthetic", "region.synthetic_municipalities=4", "region.synthetic_population=8000",
        "region.synthetic_municipalities_per_council=4", "municipality.pre_committed=[]",
        "municipality.decision_noise=0", "municipality.weight_cost=0", "municipality.weight_functionality=0",
        "municipality.weight_gp=0", "municipality.weight_peers=1", "municipality.binding_threshold_offset=0",
        "municipality.decline_margin=10", f"rollout.wave_capacity={[1000] * N_WAVES}", *extra])
    region, network = BUILDS.get(cfg)
    m = RolloutModel(cfg, region, network, seed=0)
    m.muni_threshold[:] = thresholds  # a hand-made case: thresholds chosen, not drawn
    return m.run()


def test_one_early_adopter_tips_the_council():
    # peers exercised: 1/3 after the first, 2/3 after the second, 1 after the third
    m = cascade([-0.1, 0.3, 0.6, 0.9])
    points = m.decision_points.tolist()
    assert m.muni_decision_month.tolist() == points[:4]  # one more option at each successive point
    # binding opens at binding_first_month: everyone whose score clears theta binds at the first open point
    first_binding = min(p for p in points if p >= m.binding_first_t)
    assert m.muni_binding_month.tolist() == [first_binding] * 4
    assert not m.muni_declined.any() and np.all(m.muni_live_month >= 0)


def test_one_early_adopter_does_not_tip_a_slightly_harder_council():
    # the second threshold just above 1/3: the chain breaks; with a decline margin of 0.7 the
    # council whose first score (0) is below theta - 0.7 = 0.2 says no, the two within the margin keep deferring
    m = cascade([-0.1, 0.4, 0.6, 0.9], "municipality.decline_margin=0.7")
    assert m.muni_decision_month[0] == m.decision_points[0]
    assert m.muni_stage.tolist() == [LIVE, UNDECIDED, UNDECIDED, DECLINED]
    assert m.muni_declined.tolist() == [False, False, False, True]
    assert m.muni_decline_month[3] == m.decision_points[0]
    assert m.muni_deferrals[1] == m.muni_deferrals[2] == len(m.decision_points)
    assert np.all(m.muni_live_month[1:] == -1)
    last = m.monthly().iloc[-1]
    assert (last["n_municipalities_deferred"], last["n_municipalities_declined"]) == (2, 1)


def test_binding_offset_holds_options_back():
    """Every council clears its option threshold, none the binding one: four options, no agreement, nobody live."""
    m = cascade([-0.1] * 4, "municipality.binding_threshold_offset=2")
    assert np.all(m.muni_decision_month == m.decision_points[0])
    assert np.all(m.muni_binding_month == -1) and np.all(m.muni_live_month == -1)
    assert np.all(m.muni_stage == OPTION)
    assert m.monthly().iloc[-1]["n_municipalities_deferred"] == 4


def test_bound_municipality_postpones_to_the_next_wave():
    """After the history a bound council whose score falls below theta - margin moves to the next wave
    with room at each point (deterministic rule), until no later wave is left."""
    extra = ("municipality.postpone_margin=0", "municipality.weight_peers=0", "municipality.postpone_below_functionality=0",
             "municipality.first_decision_month=2024-03", "municipality.binding_first_month=2024-03")
    steady = cascade([-0.1] * 4, *extra)  # score 0 >= -0.1: option 2024-03, binding 2024-06, wave 2025-10
    assert np.all(steady.muni_binding_month == steady.cfg.t_of("2024-06"))
    assert np.all(steady.muni_live_month == steady.cfg.t_of("2025-10")) and np.all(steady.muni_deferrals == 0)
    m = RolloutModel(steady.cfg, steady.region, steady.network, seed=0)
    m.muni_threshold[:] = -0.1
    while m.t < m.cfg.t_of("2024-06"):
        m.step()
    m.muni_threshold[:] = 0.5  # a hand-made shock after binding: 0 < 0.5 - 0, but no decline (margin 10)
    m.run()
    # points 2024-09 -> wave 2026-04, 2024-12 -> 2026-10, later points: no later wave, booking kept
    assert np.all(m.muni_live_month == m.cfg.t_of("2026-10")) and np.all(m.muni_deferrals == 2)
    assert np.all(m.muni_stage == LIVE)


def test_exit_rule_is_off_unless_enabled():
    on = cascade([-0.1] * 4, "municipality.exit_enabled=true", "municipality.exit_margin=0",
                 "municipality.switch_back_cost_nok_per_inhabitant=0")
    assert np.all(on.muni_exit_month == -1)  # score 1 (all peers) is above theta: nobody leaves
    m = RolloutModel(on.cfg, on.region, on.network, seed=0)
    m.muni_threshold[:] = -0.1
    for _ in range(on.cfg.t_of("2024-06")):
        m.step()
    live = m.muni_stage == LIVE
    assert live.all()
    m.muni_threshold[:] = 5.0  # a hand-made shock: every council now far below its threshold
    m.run()
    assert np.all(m.muni_stage == EXITED) and np.all(m.muni_exit_month > m.muni_live_month)
    assert m.monthly().iloc[-1]["n_municipalities_live"] == 0 and m.monthly().iloc[-1]["n_municipalities_exited"] == 4


# --------------------------------------------------------------------------- monotonicity under common random numbers


gp_params = st.fixed_dictionaries({
    "gp.bass_p_per_year": st.floats(0.001, 0.08), "gp.bass_q_per_year": st.floats(0.0, 0.8),
    "gp.beta_u_per_knok": st.floats(0.0, 0.2), "gp.window_choice_rate_per_year": st.floats(0.0, 4.0),
    "gp.alternatives": st.sampled_from([["join"], ["join", "stay"], ["join", "integrate", "stay"], ["integrate", "join"]]),
    "gp.zero_terms": st.sampled_from([[], ["random"], ["money"], ["functionality", "risk", "peer"], ["time_saved"]]),
    "gp.risk_knok_per_gp_year_per_incident": st.floats(0, 60), "gp.peer_value_knok_per_gp_year": st.floats(0, 40),
    "gp_price.integration_nok_per_gp_year": st.floats(0, 20_000), "gp.functionality_value_knok_per_gp_year": st.floats(0, 150),
    "gp.offered_from_start": st.booleans(), "gp.salaried_follow_municipality": st.booleans(),
    "gp.peer_graph": st.sampled_from(["municipality_council", "complete"]),
    "municipality.threshold_mean": st.floats(-0.5, 1.0), "municipality.weight_gp": st.floats(0, 1),
    "municipality.decision_noise": st.floats(0.0, 0.3),
})


def assert_gp_uptake_not_lower(hi: RolloutModel, lo: RolloutModel) -> None:
    """Every practice joins in ``hi`` no later than in ``lo``; so the share is never lower, month by month."""
    assert np.all(never_last(hi.gp_join_month) <= never_last(lo.gp_join_month))
    assert np.all(never_last(hi.muni_live_month) <= never_last(lo.muni_live_month))
    assert np.all(hi.monthly()["share_gps"].to_numpy() >= lo.monthly()["share_gps"].to_numpy())


@given(params=gp_params, licence=st.floats(20_000, 120_000), cut=st.floats(1_000, 80_000), seed=st.integers(0, 10**6))
def test_lower_gp_price_never_lowers_gp_uptake(params, licence, cut, seed):
    base = with_overrides(many_practices(**WIDE_WAVES), params | {"gp_price.licence_nok_per_gp_year": licence})
    cheaper = with_overrides(base, {"gp_price.licence_nok_per_gp_year": max(licence - cut, 0.0)})
    assert_gp_uptake_not_lower(run(cheaper, seed), run(base, seed))


@given(params=gp_params, subsidy=st.floats(0, 60_000), extra=st.floats(1_000, 60_000), seed=st.integers(0, 10**6))
def test_higher_subsidy_never_lowers_gp_uptake(params, subsidy, extra, seed):
    base = with_overrides(many_practices(**WIDE_WAVES), params | {"agreement.subsidy_nok_per_gp_year": subsidy})
    richer = with_overrides(base, {"agreement.subsidy_nok_per_gp_year": subsidy + extra})
    assert_gp_uptake_not_lower(run(richer, seed), run(base, seed))


@given(params=gp_params, share=st.floats(0.0, 0.99), weight_cost=st.floats(0.1, 2.0), seed=st.integers(0, 10**6))
def test_full_state_share_never_lowers_municipal_uptake(params, share, weight_cost, seed):
    base = with_overrides(many_practices(**WIDE_WAVES), params | {"financing.state_share": share,
                                                          "municipality.weight_cost": weight_cost})
    state_pays = with_overrides(base, {"financing.state_share": 1.0})
    hi, lo = run(state_pays, seed), run(base, seed)
    assert np.all(never_last(hi.muni_decision_month) <= never_last(lo.muni_decision_month))
    assert np.all(never_last(hi.muni_live_month) <= never_last(lo.muni_live_month))
    assert np.all(hi.monthly()["n_municipalities_live"].to_numpy() >= lo.monthly()["n_municipalities_live"].to_numpy())
    assert_gp_uptake_not_lower(hi, lo)


# --------------------------------------------------------------------------- Mesa integration


def test_agents_are_mesa_agents_of_three_types():
    m = run(small(), seed=0)
    by_type = m.agents_by_type
    assert len(by_type[Hospital]) == len(m.region.trusts)
    assert len(by_type[Municipality]) == m.n_munis and len(by_type[GPPractice]) == m.n_practices
    assert sorted(a.idx for a in by_type[GPPractice]) == list(range(m.n_practices))
    assert m.steps == m.cfg.n_months and not m.running
    with pytest.raises(RuntimeError, match="horizon ends"):
        m.step()


def test_mesa_batch_run_runs_the_model():
    cfg = small(gp__offered_from_start=True, gp__bass_p_per_year=0.05)
    region, network = BUILDS.get(cfg)
    rows = mesa.batch_run(RolloutModel, {"cfg": [cfg], "region": [region], "network": [network], "seed": [0, 1]},
                          number_processes=1, iterations=1, max_steps=cfg.n_months, display_progress=False)
    assert len(rows) == 2
    for row in rows:
        direct = run(cfg, seed=row["seed"]).monthly().iloc[-1]
        assert row["Step"] == cfg.n_months - 1
        assert row["share_gps"] == direct["share_gps"] and row["t"] == cfg.n_months - 1


# --------------------------------------------------------------------------- scenario files

SCENARIOS = {
    "gp_agreement": {"agreement.subsidy_nok_per_gp_year"},
    "state_finances_half": {"financing.state_share"},
    "functionality_fixed": {"functionality.golive_shock", "functionality.improvement_per_release"},
    "no_gp_network_benefit": {"gp.zero_terms"},
}


def flat(cfg) -> dict:
    """``section.key -> value`` of a config (tables such as golive_month compare whole)."""
    from sim.config import config_to_dict

    return {f"{sec}.{k}": v for sec, body in config_to_dict(cfg).items() if isinstance(body, dict) for k, v in body.items()}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_files_change_only_their_levers(name, baseline_config):
    cfg = load_config(BASELINE.parent / f"{name}.toml")
    assert cfg.scenario == name and cfg.description
    a, b = flat(baseline_config), flat(cfg)
    changed = {k for k in a if a[k] != b[k]}
    assert changed == SCENARIOS[name]


def test_a_finished_model_is_freed_and_ids_count_from_one():
    """Nothing keeps a model alive after its run (Mesa 3.3's class-level ``Agent._ids`` would: memory
    would grow with every run of a sweep); agents are numbered 1..n in each model, as Mesa numbers them."""
    import gc
    import weakref

    model = run(small())
    assert [a.unique_id for a in model.agents] == list(range(1, len(model.agents) + 1))
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
