"""The care network: cohort split, coverage, hand-over channels, the vectorised metric pass
against a slow reference loop, the closed-form expected coverage, the graph."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.config import ConfigError, load_config, with_overrides
from sim.economics import LOSS_ACTORS, hour_value_nok, loss_nok_by_actor
from sim.network import (
    CONTACT_TYPES, HANDOVERS, METRIC_COLUMNS, PROVIDER_KINDS, VALUED_KINDS, build_network, reference_information,
    service_use, status_quo_information,
)
from sim.region import load_region, spread_rates_to_bands

from .conftest import BASELINE

KINDS_OF_X = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0]))


@pytest.fixture(scope="module")
def small(small_config):
    region = load_region(small_config.region)
    return small_config, region, build_network(region, small_config)


def _x(net, gp=0.0, muni=0.0, hosp=0.0, spec=0.0):
    """A platform vector with one value (or array) per provider kind (muni: the three service nodes)."""
    n_m = net.n_municipalities
    return np.concatenate([np.broadcast_to(np.asarray(v, dtype=float), (n,)) for v, n in (
        (gp, net.n_practices), (muni, n_m), (muni, n_m), (muni, n_m), (hosp, net.n_hospitals), (spec, net.n_specialists))])


# --------------------------------------------------------------------------- the cohort split


def test_split_conserves_every_cohort_and_is_fixed_by_the_region_seed(small):
    cfg, region, net = small
    sub = net.subcohorts.groupby(["muni_idx", "practice_idx", "band_idx"])["persons"].sum()
    res = region.residents.set_index(["muni_idx", "practice_idx", "band_idx"])["persons"]
    assert sub.sort_index().equals(res.sort_index())
    assert net.subcohorts["persons"].dtype == np.int64 and (net.subcohorts["persons"] > 0).all()
    again = build_network(region, cfg)
    assert again.subcohorts.equals(net.subcohorts)
    other = build_network(region, with_overrides(cfg, {"region.seed": cfg.region.seed + 1}))
    assert not other.subcohorts.equals(net.subcohorts)


def test_contact_shares_follow_the_age_rates():
    """Share of each band contacting each type = 1 - exp(-rate) (rates) or the share, within 5 binomial SEs."""
    cfg = load_config(BASELINE, ["region.kind=synthetic", "region.synthetic_municipalities=10",
                                 "region.synthetic_population=300000"])
    net = build_network(load_region(cfg.region), cfg)
    sub = net.subcohorts
    fields = {"gp": ("gp_consultations_per_person_year", True), "legevakt": ("legevakt_contacts_per_person_year", True),
              "inpatient": ("inpatient_stays_per_person_year", True),
              "outpatient": ("outpatient_consultations_per_person_year", True),
              "home_care": ("share_receiving_home_care", False), "nursing_home": ("share_long_term_nursing_home", False),
              "specialist": ("specialist_consultations_per_person_year", True)}
    n_band = sub.groupby("band_idx")["persons"].sum().to_numpy()
    for c in CONTACT_TYPES:
        field, is_rate = fields[c]
        r = spread_rates_to_bands(getattr(cfg.network, field))
        p = 1 - np.exp(-r) if is_rate else r
        seen = sub[sub[c]].groupby("band_idx")["persons"].sum().reindex(range(len(n_band)), fill_value=0).to_numpy()
        se = np.sqrt(p * (1 - p) / n_band)
        assert np.all(np.abs(seen / n_band - p) <= 5 * se + 1e-12), c


# --------------------------------------------------------------------------- coverage and ranges

NO_SERVICES = {f"network.national_services.{s}.in_use_from": {} for s in ("kjernejournal", "document_sharing", "medication_list")}


def test_full_adoption_and_no_adoption(small):
    cfg, _, net = small
    nw = cfg.network
    full = net.metrics(np.ones(net.n_providers))
    assert full["one_record_coverage"] == 1.0 and full["handover_same_record"] == 1.0
    assert full["information_available"] == 1.0 and full["gain_realized"] == 1.0
    # with everyone on, only the part a shared record cannot supply is left: (1 - f) x the observed rate
    f = nw.share_missing_information_outside_own_system
    ev = net.handovers["events_per_year"].sum()
    assert full["search_hours"] == pytest.approx(
        ev * nw.share_handovers_missing_information * (1 - f) * nw.search_minutes_per_missing_information_event / 60 / 12,
        rel=1e-12)
    none = net.metrics(np.zeros(net.n_providers))
    sub = net.subcohorts
    no_contact = int(sub.loc[~sub[list(CONTACT_TYPES)].any(axis=1), "persons"].sum())
    assert none["one_record_coverage"] == no_contact / int(sub["persons"].sum())
    assert none["handover_same_record"] == 0.0 and none["gain_realized"] == 0.0 and none["gain_nok"] == 0.0
    assert none["search_hours"] > full["search_hours"] > 0 and none["adverse_events"] > full["adverse_events"] > 0
    assert none["repeat_imaging"] > full["repeat_imaging"] > 0


def test_full_gp_uptake_leaves_specialists_out(small):
    """Hospitals, municipalities and all GPs on, specialists at 0: coverage = share without a specialist contact."""
    _, _, net = small
    m = net.metrics(_x(net, 1, 1, 1, 0))
    sub = net.subcohorts
    assert m["one_record_coverage"] == pytest.approx(sub.loc[~sub["specialist"], "persons"].sum() / sub["persons"].sum(),
                                                     abs=1e-15)
    assert 0 < m["gain_realized"] < 1


@given(data=st.data())
def test_metrics_in_range_and_monotone_in_adoption(small, data):
    """Random x, a random superset y >= x and a random month: gains never fall, losses never rise, L0 >= L >= L1."""
    cfg, _, net = small
    n = net.n_providers
    x = np.array(data.draw(st.lists(KINDS_OF_X, min_size=n, max_size=n)))
    u = np.array(data.draw(st.lists(KINDS_OF_X, min_size=n, max_size=n)))
    t = data.draw(st.integers(0, cfg.n_months - 1))
    y = x + u * (1 - x)
    mx, my = net.metrics(x, t), net.metrics(y, t)
    l0, l1 = net.loss_nok(np.zeros(n), t), net.loss_nok(np.ones(n), t)
    tol = 1e-9
    for m in (mx, my):
        assert set(m) == set(METRIC_COLUMNS)
        for c in ("one_record_coverage", "handover_same_record", "information_available", "gain_realized"):
            assert 0.0 <= m[c] <= 1.0, c
        assert all(m[c] >= 0 for c in METRIC_COLUMNS)
        assert m["search_hours"] == pytest.approx(sum(m[f"search_hours_{k}"] for k in VALUED_KINDS), rel=1e-12)
        assert m["loss_nok"] == pytest.approx(sum(m[f"loss_nok_{a}"] for a in LOSS_ACTORS), rel=1e-12)
        assert l0 * (1 + tol) >= m["loss_nok"] >= l1 * (1 - tol)
        assert m["gain_nok"] == pytest.approx(l0 - m["loss_nok"], rel=1e-9, abs=1e-6)
        assert m["gain_nok"] == pytest.approx(sum(m[f"gain_nok_{a}"] for a in LOSS_ACTORS), rel=1e-9, abs=1e-6)
    for c in ("one_record_coverage", "handover_same_record", "information_available", "gain_realized", "gain_nok"):
        assert my[c] >= mx[c] - tol * max(1.0, abs(mx[c])), c
    for c in ("search_hours", "search_nok", "repeat_imaging", "adverse_events", "loss_nok"):
        assert my[c] <= mx[c] * (1 + tol) + tol, c


def test_expected_coverage_with_random_gp_uptake_is_closed_form(small):
    """Hospitals and municipalities on, specialists at s, each practice on with probability g:
    E[cov] = sum_r w_r s^[specialist contact] g^[GP contact] / sum_r w_r.

    Exact check: with fractional x the pass computes sum_r w_r prod_p x_p, and each row holds at most
    one practice and one specialist node, so this product IS the expectation over independent
    practices (linearity); it must match to float rounding (1e-12). Monte Carlo check: the mean over
    400 binary draws must lie within 4 standard errors (estimated from the draws) of the closed form;
    the draws are seeded, so the test is deterministic, and a wrong formula misses by far more.
    """
    _, region, net = small
    sub = net.subcohorts
    assert int(sub["persons"].sum()) == int(region.residents["persons"].sum())
    w = sub["persons"].to_numpy(float)
    for g, s in ((0.3, 0.0), (0.7, 0.25)):
        closed = float((w * np.where(sub["specialist"], s, 1.0) * np.where(sub["gp"], g, 1.0)).sum() / w.sum())
        exact = net.metrics(_x(net, g, 1, 1, s))["one_record_coverage"]
        assert exact == pytest.approx(closed, rel=1e-12)
        rng = np.random.default_rng(7)
        draws = np.array([net.metrics(_x(net, rng.random(net.n_practices) < g, 1, 1, s))["one_record_coverage"]
                          for _ in range(400)])
        assert abs(draws.mean() - closed) <= 4 * draws.std(ddof=1) / math.sqrt(len(draws))


# --------------------------------------------------------------------------- the reference loop


def _reference(cfg, region, net, x, t):
    """A slow, obvious pass: a Python loop over sub-cohorts and their hand-overs (rules restated)."""
    nw = cfg.network
    P, M, H = net.n_practices, net.n_municipalities, net.n_hospitals
    hosp_of, trust_of = region.municipalities["hospital_idx"].to_numpy(), region.municipalities["trust_idx"].to_numpy()

    def mean_if(field):  # zero-truncated Poisson mean per band
        r = spread_rates_to_bands(getattr(nw, field))
        return r / (1 - np.exp(-r))

    n_lv, n_in = mean_if("legevakt_contacts_per_person_year"), mean_if("inpatient_stays_per_person_year")
    n_out, n_sp = mean_if("outpatient_consultations_per_person_year"), mean_if("specialist_consultations_per_person_year")
    sub = net.subcohorts
    total = sub["persons"].sum()
    care_any = sub["home_care"] | sub["nursing_home"]
    k_care = nw.care_messages_per_resident_year / 2 * total / sub.loc[sub["gp"] & care_any, "persons"].sum()
    k_ref = (nw.referrals_per_hospital_patient_year * nw.hospital_patients_per_resident_year * total
             / sub.loc[sub["gp"] & (sub["inpatient"] | sub["outpatient"]), "persons"].sum())
    m_ref = nw.message_channel_information_share * (1 - nw.message_delay_information_loss_per_day
                                                    * nw.message_channel_mean_delay_days)
    channels = {frozenset(p.split("-")) for p in nw.message_channels}
    same_system = {frozenset(p.split("-")) for p in nw.same_record_pairs}
    kind = net.providers["kind"].to_numpy()
    valued = {"gp": "gp", "home_care": "municipal", "nursing_home": "municipal", "legevakt": "municipal",
              "hospital": "hospital", "specialist": "specialist"}
    cov = 0.0
    records = []  # (persons, sender, receiver, events per person, message, stay weight per person)
    for row in sub.itertuples(index=False):
        w, b, m = row.persons, row.band_idx, row.muni_idx
        gp, hc, nh, lv = row.practice_idx, P + m, P + M + m, P + 2 * M + m
        hosp, spec = P + 3 * M + hosp_of[m], P + 3 * M + H + trust_of[m]
        nodes = ([gp] if row.gp else []) + ([hc] if row.home_care else []) + ([nh] if row.nursing_home else []) \
            + ([lv] if row.legevakt else []) + ([hosp] if row.inpatient or row.outpatient else []) \
            + ([spec] if row.specialist else [])
        cov += w * math.prod(x[p] for p in nodes)
        care = nh if row.nursing_home else hc
        hos = []  # (sender, receiver, events per person, message, at a stay)
        if row.gp and (row.inpatient or row.outpatient):
            hos += [(gp, hosp, k_ref, True, False)]
        if row.gp and row.inpatient:
            hos += [(hosp, gp, n_in[b], True, True)]
        if row.gp and row.outpatient:
            hos += [(hosp, gp, n_out[b], True, False)]
        if row.inpatient and (row.home_care or row.nursing_home):
            hos += [(care, hosp, n_in[b], True, True), (hosp, care, n_in[b], True, True)]
        if row.gp and (row.home_care or row.nursing_home):
            hos += [(care, gp, k_care, True, False), (gp, care, k_care, True, False)]
        if row.gp and row.legevakt:
            hos += [(lv, gp, n_lv[b], True, False), (gp, lv, n_lv[b], False, False)]
        if row.legevakt and (row.home_care or row.nursing_home):
            hos += [(lv, care, n_lv[b], True, False), (care, lv, n_lv[b], False, False)]
        if row.home_care and row.nursing_home:
            hos += [(hc, nh, 1.0, True, False)]
        if row.gp and row.specialist:
            hos += [(gp, spec, nw.referrals_per_specialist_patient_year, True, False), (spec, gp, n_sp[b], True, False)]
        stay_e = sum(e for *_, e, _, at in hos if at)
        for a, c, e, msg, at in hos:
            weight = n_in[b] * e / stay_e if at else 0.0
            records.append((w, a, c, e, msg, weight))
    r_obs, f, f_img = nw.share_handovers_missing_information, nw.share_missing_information_outside_own_system, \
        nw.repeat_imaging_reduction_shared_record
    orders = {"gp", "legevakt", "hospital", "specialist"}
    d_ev = sum(w * e for w, a, c, e, *_ in records if kind[c] in orders)
    repeats = nw.imaging_exams_per_person_year * total * nw.share_images_repeated
    ev = same = info = images = ae = 0.0
    hours = dict.fromkeys(VALUED_KINDS, 0.0)
    for w, a, c, e, msg, weight in records:
        pair = frozenset((kind[a], kind[c]))
        base = 1.0 if pair in same_system else (m_ref if msg and pair in channels else 0.0)
        i_sq = float(status_quo_information(nw, cfg.run.start_month, t, kind[a], kind[c], base))
        both = x[a] * x[c]
        i = both + (1 - both) * i_sq
        phi = (1 - i) / (1 - m_ref)
        ev += w * e
        same += w * e * both
        info += w * e * i
        hours[valued[kind[c]]] += w * e * r_obs * ((1 - f) + f * phi) * nw.search_minutes_per_missing_information_event / 60 / 12
        if kind[c] in orders:
            images += w * e * repeats / d_ev * ((1 - f_img) + f_img * phi) / 12
        ae += w * weight * ((1 - f) + f * phi)
    ae *= nw.share_hospital_stays_with_adverse_event * nw.share_adverse_events_preventable \
        * nw.share_preventable_adverse_events_from_communication / 12
    wage = hour_value_nok(cfg)
    loss = loss_nok_by_actor(hours, images, ae, cfg)
    return {"one_record_coverage": cov / total, "handover_same_record": same / ev, "information_available": info / ev,
            "search_hours": sum(hours.values()), **{f"search_hours_{kd}": hours[kd] for kd in VALUED_KINDS},
            "search_nok": sum(hours[kd] * wage[kd] for kd in VALUED_KINDS), "repeat_imaging": images,
            "adverse_events": ae, "loss_nok": sum(loss.values()), **{f"loss_nok_{k}": v for k, v in loss.items()}}


def test_vectorised_pass_equals_the_reference_loop(small):
    cfg, region, net = small
    rng = np.random.default_rng(3)
    xs = [np.zeros(net.n_providers), np.ones(net.n_providers), _x(net, rng.random(net.n_practices) < 0.5, 1, 1, 0.2),
          rng.random(net.n_providers), (rng.random(net.n_providers) < 0.6).astype(float)]
    for t in (0, 100):
        v0 = _reference(cfg, region, net, np.zeros(net.n_providers), t)["loss_nok"]
        v1 = _reference(cfg, region, net, np.ones(net.n_providers), t)["loss_nok"]
        for x in xs:
            ref, got = _reference(cfg, region, net, x, t), net.metrics(x, t)
            ref["gain_realized"] = (v0 - ref["loss_nok"]) / (v0 - v1)
            ref["gain_nok"] = v0 - ref["loss_nok"]
            for c, want in ref.items():
                assert got[c] == pytest.approx(want, rel=1e-10, abs=1e-9), (c, t)
    binary = xs[-1]  # binary x: coverage is an integer count over one division, exactly
    sub = net.subcohorts
    assert net.metrics(binary)["one_record_coverage"] * sub["persons"].sum() == pytest.approx(
        round(_reference(cfg, region, net, binary, 0)["one_record_coverage"] * sub["persons"].sum()), abs=1e-6)


# --------------------------------------------------------------------------- volumes, no double count, the status quo


def test_channel_volumes_reproduce_their_data_rows(small):
    """Care messages per resident = the PLO row (half each way); referrals = patients per resident x referrals per patient;
    every hand-over kind of the rules is present."""
    cfg, _, net = small
    nw = cfg.network
    per = net.handovers.groupby("handover")["events_per_year"].sum() / net.residents_total
    assert per["care_message_care_gp"] + per["care_message_gp_care"] == pytest.approx(nw.care_messages_per_resident_year,
                                                                                      rel=1e-12)
    assert per["care_message_care_gp"] == pytest.approx(per["care_message_gp_care"], rel=1e-12)
    assert per["referral_gp_hospital"] == pytest.approx(
        nw.referrals_per_hospital_patient_year * nw.hospital_patients_per_resident_year, rel=1e-12)
    assert set(per.index) == {h.name for h in HANDOVERS}
    doubled = build_network(load_region(cfg.region), with_overrides(cfg, {"network.care_messages_per_resident_year": 1.32}))
    per2 = doubled.handovers.groupby("handover")["events_per_year"].sum() / net.residents_total
    assert per2["care_message_gp_care"] == pytest.approx(2 * per["care_message_gp_care"], rel=1e-12)


def test_no_double_count_status_quo_rate_is_the_observed_rate(small):
    """Without national services and nobody on the platform, each message hand-over misses information at exactly the
    observed rate (Smith 2005): hospitals and specialists receive only message hand-overs, so their search hours are
    events x r_obs x minutes; a shared record then removes the share f outside the own system."""
    cfg, region, _ = small
    c = with_overrides(cfg, NO_SERVICES)
    net = build_network(region, c)
    nw = c.network
    hv = net.handovers
    minutes = nw.search_minutes_per_missing_information_event / 60 / 12
    r_obs, f = nw.share_handovers_missing_information, nw.share_missing_information_outside_own_system
    for kind in ("hospital", "specialist"):
        ev = hv.loc[hv["receiver_kind"] == kind, "events_per_year"].sum()
        assert (hv.loc[hv["receiver_kind"] == kind, "message_information"] == reference_information(nw)).all()
        for t in (0, c.n_months - 1):
            assert net.metrics(np.zeros(net.n_providers), t)[f"search_hours_{kind}"] == pytest.approx(ev * r_obs * minutes,
                                                                                                      rel=1e-12)
            assert net.metrics(np.ones(net.n_providers), t)[f"search_hours_{kind}"] == pytest.approx(
                ev * r_obs * (1 - f) * minutes, rel=1e-12)


def test_service_use_and_status_quo_information_are_analytic(small):
    cfg, _, _ = small
    nw = cfg.network
    kj = nw.national_services.kjernejournal.model_copy(update={"in_use_from": {"gp": "2021-01"}, "ramp_months": 0,
                                                               "reach": 0.4, "senders": []})
    t = np.arange(24)  # start 2020-01: in use from t = 12
    assert np.array_equal(service_use(kj, "gp", "hospital", t, "2020-01"), np.where(t >= 12, 0.4, 0.0))
    assert not service_use(kj, "hospital", "gp", t, "2020-01").any()
    ramp = kj.model_copy(update={"ramp_months": 6})
    assert service_use(ramp, "gp", "hospital", 15, "2020-01") == pytest.approx(0.4 * 3 / 6)
    doc = nw.national_services.document_sharing
    assert not service_use(doc, "gp", "legevakt", 1000, "2020-01").any()  # only hospital documents
    off = with_overrides(cfg, NO_SERVICES).network
    assert status_quo_information(off, "2020-01", 50, "hospital", "gp", 0.54) == pytest.approx(0.54)
    # I = 1 - (1 - m) prod_s (1 - c_s a_s): kjernejournal alone at the GP
    one = with_overrides(cfg, {**NO_SERVICES, "network.national_services.kjernejournal.in_use_from": {"gp": "2020-01"}}).network
    c, a = one.national_services.kjernejournal.information_share, one.national_services.kjernejournal.reach
    assert status_quo_information(one, "2020-01", 0, "hospital", "gp", 0.54) == pytest.approx(1 - 0.46 * (1 - c * a))


def test_the_timeline_raises_the_status_quo_and_scenarios_move_it(small):
    """Information with nobody on the platform never falls over time and rises at a service's date; moving document
    sharing later lowers the status quo in between and raises the platform's gain there; L0 - L1 shrinks."""
    cfg, region, net = small
    zeros = np.zeros(net.n_providers)
    sq = np.array([net.metrics(zeros, t)["status_quo_information"] for t in range(cfg.n_months)])
    assert np.all(np.diff(sq) >= -1e-15) and sq[-1] > sq[0]
    t_doc = cfg.t_of(cfg.network.national_services.document_sharing.in_use_from["gp"])
    assert sq[t_doc + 12] > sq[t_doc - 1]
    span = np.array([net.loss_nok(zeros, t) - net.loss_nok(np.ones(net.n_providers), t) for t in range(cfg.n_months)])
    assert np.all(np.diff(span) <= 1e-6) and span[-1] < span[0]
    late = {f"network.national_services.document_sharing.in_use_from": {
        k: "2032-01" for k in cfg.network.national_services.document_sharing.in_use_from}}
    net_late = build_network(region, with_overrides(cfg, late))
    t = t_doc + 24
    assert net_late.metrics(zeros, t)["status_quo_information"] < sq[t]
    x = _x(net, 1, 1, 1, 0)
    assert net_late.metrics(x, t)["gain_nok"] > net.metrics(x, t)["gain_nok"]
    assert net_late.metrics(zeros, 0) == net.metrics(zeros, 0)


def test_message_channel_information_and_no_channels(small):
    cfg, region, _ = small
    c = with_overrides(cfg, NO_SERVICES)
    net = build_network(region, c)
    x = _x(net, 0, 0, 0, 0)
    hv = net.handovers
    expected = (hv["message_information"] * hv["events_per_year"]).sum() / hv["events_per_year"].sum()
    assert net.metrics(x)["information_available"] == pytest.approx(expected, rel=1e-12)
    assert set(hv.loc[hv["handover"].isin(["gp_record_legevakt", "care_record_legevakt"]), "message_information"]) == {0.0}
    assert set(hv.loc[hv["handover"] == "transfer_home_care_nursing_home", "message_information"]) == {1.0}
    bare = build_network(region, with_overrides(c, {"network.message_channels": [], "network.same_record_pairs": []}))
    for xx in (x, _x(bare, 1, 0, 1, 0), np.random.default_rng(1).random(bare.n_providers)):
        got = bare.metrics(xx)
        assert got["information_available"] == pytest.approx(got["handover_same_record"], rel=1e-12)


def test_bad_inputs_are_refused(small):
    cfg, region, net = small
    with pytest.raises(ValueError, match="shape"):
        net.metrics(np.zeros(net.n_providers + 1))
    for bad in (1.5, -0.1, np.nan):
        x = np.zeros(net.n_providers)
        x[0] = bad
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            net.metrics(x)
    with pytest.raises(ValueError, match="month index"):
        net.metrics(np.zeros(net.n_providers), cfg.n_months)
    with pytest.raises(ValueError, match="muni_live"):
        net.platform_vector(np.ones(net.n_practices, bool), np.ones(net.n_municipalities + 1, bool),
                            np.ones(net.n_hospitals, bool))
    with pytest.raises(ValueError, match="message_channels"):
        build_network(region, with_overrides(cfg, {"network.message_channels": ["gp-pharmacy"]}))
    with pytest.raises(ConfigError, match="in_use_from"):
        with_overrides(cfg, {"network.national_services.kjernejournal.in_use_from": {"pharmacy": "2020-01"}})


def test_platform_vector_layout(small):
    cfg, _, net = small
    s = 0.35
    net2 = build_network(load_region(cfg.region), with_overrides(cfg, {"network.specialist_adoption_share": s}))
    gp = np.arange(net.n_practices) % 2 == 0
    muni = np.arange(net.n_municipalities) % 3 == 0
    x = net2.platform_vector(gp, muni, np.ones(net.n_hospitals, bool))
    kinds = net2.providers["kind"].to_numpy()
    assert np.array_equal(x[kinds == "gp"], gp.astype(float))
    for k in ("home_care", "nursing_home", "legevakt"):
        assert np.array_equal(x[kinds == k], muni.astype(float))
    assert (x[kinds == "hospital"] == 1).all() and (x[kinds == "specialist"] == s).all()
    assert list(net2.providers.columns) == ["provider_idx", "kind", "ref_idx", "name"]


# --------------------------------------------------------------------------- per practice (the GP office's choice)


def test_practice_search_saving_is_the_difference_its_joining_makes(small):
    """For each practice: (GP search hours with it off - with it on) x 12 / its GPs = the saving the function reports,
    whatever the others do and whatever the month; zero when no partner is on the platform."""
    cfg, _, net = small
    rng = np.random.default_rng(5)
    others = _x(net, rng.random(net.n_practices) < 0.5, 1, 1, 0.3)
    gps = net.practice_gps
    for t in (0, 150):
        saved = net.practice_search_hours_saved_per_gp_year(others, t)
        for p in rng.choice(net.n_practices, size=min(6, net.n_practices), replace=False):
            on, off = others.copy(), others.copy()
            on[p], off[p] = 1.0, 0.0
            diff = net.metrics(off, t)["search_hours_gp"] - net.metrics(on, t)["search_hours_gp"]
            assert saved[p] == pytest.approx(diff * 12 / gps[p], rel=1e-9), (p, t)
        assert np.all(saved >= 0)
    assert not net.practice_search_hours_saved_per_gp_year(np.zeros(net.n_providers), 0).any()
    # the status quo improves over time, so joining saves less later
    full = np.ones(net.n_providers)
    assert np.all(net.practice_search_hours_saved_per_gp_year(full, cfg.n_months - 1)
                  <= net.practice_search_hours_saved_per_gp_year(full, 0) + 1e-12)


def test_practice_status_quo_information(small):
    cfg, region, net = small
    off = build_network(region, with_overrides(cfg, NO_SERVICES))
    hv = off.handovers
    for p in range(min(5, off.n_practices)):
        mine = hv[(hv["sender"] == p) | (hv["receiver"] == p)]
        want = (mine["message_information"] * mine["events_per_year"]).sum() / mine["events_per_year"].sum()
        assert off.practice_status_quo_information(0)[p] == pytest.approx(want, rel=1e-12)
    early, late = net.practice_status_quo_information(0), net.practice_status_quo_information(cfg.n_months - 1)
    assert np.all(late >= early) and np.all((0 <= early) & (late <= 1)) and (late > early).any()


# --------------------------------------------------------------------------- graph and valuation


def test_provider_graph_and_graphml_round_trip(small, tmp_path):
    _, _, net = small
    g = net.graph()
    assert g.number_of_nodes() == net.n_providers
    assert {d["kind"] for _, d in g.nodes(data=True)} == set(PROVIDER_KINDS)
    assert sum(d["weight"] for *_, d in g.edges(data=True)) == pytest.approx(net.handovers["events_per_year"].sum())
    sub = net.subcohorts
    p = 0
    hc = net.n_practices + int(sub.loc[sub["practice_idx"] == p, "muni_idx"].iat[0])
    both = sub[(sub["practice_idx"] == p) & sub["gp"] & sub["home_care"]]
    assert g.edges[p, hc]["shared_residents"] == int(both["persons"].sum())
    path = tmp_path / "network.graphml"
    net.write_graphml(path)
    back = nx.read_graphml(path)
    assert back.number_of_nodes() == net.n_providers and back.number_of_edges() == g.number_of_edges()
    by_channel = net.handovers.groupby("handover")["events_per_year"].sum()
    for h, total in by_channel.items():
        got = sum(d.get(f"events_{h}", 0.0) for *_, d in back.edges(data=True))
        assert got == pytest.approx(total, rel=1e-9), h


def test_revalued_network_equals_a_fresh_build(small):
    """A build revalued under other prices and wages gives exactly the metrics of a fresh build, and
    leaves the original as it was; another network section is refused."""
    cfg, region, net = small
    other = with_overrides(cfg, {"gp_price.hourly_value_nok": 900.0, "economics.nurse_hourly_cost_nok": 500.0,
                                 "economics.value_nok_per_daly": 800_000.0})
    fresh, revalued = build_network(region, other), net.revalued(other)
    rng = np.random.default_rng(1)
    for x in [_x(net), _x(net, 1.0, 1.0, 1.0, 1.0), *rng.random((5, net.n_providers))]:
        before = net.metrics(x, 40)
        assert revalued.metrics(x, 40) == fresh.metrics(x, 40)
        assert net.metrics(x, 40) == before and build_network(region, cfg).metrics(x, 40) == before
    assert revalued.metrics(_x(net, 0.5))["search_nok"] != net.metrics(_x(net, 0.5))["search_nok"]
    with pytest.raises(ValueError, match="network"):
        net.revalued(with_overrides(cfg, {"network.specialist_adoption_share": 0.5}))
