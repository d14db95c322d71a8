"""The care network: cohort split, coverage, hand-over channels, the vectorised metric pass
against a slow reference loop, the closed-form expected coverage, the graph."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.config import load_config, with_overrides
from sim.economics import gain_value_nok, hour_value_nok
from sim.network import CONTACT_TYPES, METRIC_COLUMNS, PROVIDER_KINDS, build_network
from sim.region import load_region, spread_rates_to_bands

from .conftest import BASELINE

KINDS_OF_X = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0]))


@pytest.fixture(scope="module")
def small(small_config):
    region = load_region(small_config.region)
    return small_config, region, build_network(region, small_config)


def _x(net, gp=0.0, muni=0.0, hosp=0.0, spec=0.0):
    """A platform vector with one value (or array) per provider kind."""
    return np.concatenate([np.broadcast_to(np.asarray(v, dtype=float), (n,)) for v, n in (
        (gp, net.n_practices), (muni, net.n_municipalities), (hosp, net.n_hospitals), (spec, net.n_specialists))])


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


def test_full_adoption_and_no_adoption(small):
    _, _, net = small
    full = net.metrics(np.ones(net.n_providers))
    assert full["one_record_coverage"] == 1.0 and full["handover_same_record"] == 1.0
    assert full["information_available"] == 1.0 and full["gain_realized"] == 1.0
    assert all(full[c] == 0.0 for c in METRIC_COLUMNS if c.startswith("search") or c == "adverse_events")
    none = net.metrics(np.zeros(net.n_providers))
    sub = net.subcohorts
    no_contact = int(sub.loc[~sub[list(CONTACT_TYPES)].any(axis=1), "persons"].sum())
    assert none["one_record_coverage"] == no_contact / int(sub["persons"].sum())
    assert none["handover_same_record"] == 0.0 and none["gain_realized"] == 0.0
    assert none["search_hours"] > 0 and none["adverse_events"] > 0


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
    """Random x and a random superset y >= x: gains never fall, search hours and adverse events never rise."""
    _, _, net = small
    n = net.n_providers
    x = np.array(data.draw(st.lists(KINDS_OF_X, min_size=n, max_size=n)))
    u = np.array(data.draw(st.lists(KINDS_OF_X, min_size=n, max_size=n)))
    y = x + u * (1 - x)
    mx, my = net.metrics(x), net.metrics(y)
    for m in (mx, my):
        assert set(m) == set(METRIC_COLUMNS)
        for c in ("one_record_coverage", "handover_same_record", "information_available", "gain_realized"):
            assert 0.0 <= m[c] <= 1.0, c
        assert all(m[c] >= 0 for c in METRIC_COLUMNS)
        assert m["search_hours"] == pytest.approx(sum(m[f"search_hours_{k}"] for k in PROVIDER_KINDS), rel=1e-12)
    tol = 1e-12
    for c in ("one_record_coverage", "handover_same_record", "information_available", "gain_realized"):
        assert my[c] >= mx[c] - tol, c
    for c in [c for c in METRIC_COLUMNS if c.startswith("search") or c == "adverse_events"]:
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


def _reference(cfg, region, net, x):
    """A slow, obvious pass: a Python loop over sub-cohorts and their hand-overs (rules restated)."""
    nw = cfg.network
    P, M, H = net.n_practices, net.n_municipalities, net.n_hospitals
    hosp_of, trust_of = region.municipalities["hospital_idx"].to_numpy(), region.municipalities["trust_idx"].to_numpy()

    def mean_if(field):  # zero-truncated Poisson mean per band
        r = spread_rates_to_bands(getattr(nw, field))
        return r / (1 - np.exp(-r))

    n_lv, n_in = mean_if("legevakt_contacts_per_person_year"), mean_if("inpatient_stays_per_person_year")
    n_out, n_sp = mean_if("outpatient_consultations_per_person_year"), mean_if("specialist_consultations_per_person_year")
    k = nw.care_messages_per_care_recipient_year
    msg = nw.message_channel_information_share * (1 - nw.message_delay_information_loss_per_day
                                                  * nw.message_channel_mean_delay_days)
    channels = {frozenset(p.split("-")) for p in nw.message_channels}
    total = cov = ev = same = info = ae = 0.0
    missing = dict.fromkeys(PROVIDER_KINDS, 0.0)
    for row in net.subcohorts.itertuples(index=False):
        w, b, m = row.persons, row.band_idx, row.muni_idx
        gp, mun = row.practice_idx, P + m
        hosp, spec = P + M + hosp_of[m], P + M + H + trust_of[m]
        nodes = ([gp] if row.gp else []) + ([mun] if row.legevakt or row.home_care or row.nursing_home else []) \
            + ([hosp] if row.inpatient or row.outpatient else []) + ([spec] if row.specialist else [])
        total += w
        cov += w * math.prod(x[p] for p in nodes)
        care = row.home_care or row.nursing_home
        hos = []  # (sender, receiver, receiver kind, channel pair, events per person)
        if row.gp and (row.inpatient or row.outpatient):
            e = n_in[b] * row.inpatient + n_out[b] * row.outpatient
            hos += [(gp, hosp, "hospital", "gp-hospital", e), (hosp, gp, "gp", "gp-hospital", e)]
        if row.inpatient and care:
            hos += [(mun, hosp, "hospital", "hospital-municipal", n_in[b]), (hosp, mun, "municipal", "hospital-municipal", n_in[b])]
        if row.gp and care:
            hos += [(mun, gp, "gp", "gp-municipal", k), (gp, mun, "municipal", "gp-municipal", k)]
        if row.gp and row.legevakt:
            hos += [(gp, mun, "municipal", "gp-legevakt", n_lv[b]), (mun, gp, "gp", "gp-legevakt", n_lv[b])]
        if row.gp and row.specialist:
            hos += [(gp, spec, "specialist", "gp-specialist", n_sp[b]), (spec, gp, "gp", "gp-specialist", n_sp[b])]
        hosp_e = hosp_i = 0.0
        for a, c, kind, pair, e in hos:
            both = x[a] * x[c]
            i = both + (1 - both) * (msg if frozenset(pair.split("-")) in channels else 0.0)
            ev += w * e
            same += w * e * both
            info += w * e * i
            missing[kind] += w * e * (1 - i)
            if hosp in (a, c):
                hosp_e, hosp_i = hosp_e + e, hosp_i + e * i
        if row.inpatient and hosp_e > 0:
            ae += w * n_in[b] * (1 - hosp_i / hosp_e)
    hours = {kd: v * nw.share_handovers_missing_information * nw.search_minutes_per_missing_information_event / 60 / 12
             for kd, v in missing.items()}
    ae *= nw.share_hospital_stays_with_adverse_event * nw.share_adverse_events_preventable \
        * nw.share_preventable_from_information / 12
    wage = hour_value_nok(cfg)
    return {"one_record_coverage": cov / total, "handover_same_record": same / ev, "information_available": info / ev,
            "search_hours": sum(hours.values()), **{f"search_hours_{kd}": hours[kd] for kd in PROVIDER_KINDS},
            "search_nok": sum(hours[kd] * wage[kd] for kd in PROVIDER_KINDS), "adverse_events": ae,
            "loss": gain_value_nok(hours, ae, cfg)}


def test_vectorised_pass_equals_the_reference_loop(small):
    cfg, region, net = small
    rng = np.random.default_rng(3)
    v0 = _reference(cfg, region, net, np.zeros(net.n_providers))["loss"]
    v1 = _reference(cfg, region, net, np.ones(net.n_providers))["loss"]
    xs = [np.zeros(net.n_providers), np.ones(net.n_providers), _x(net, rng.random(net.n_practices) < 0.5, 1, 1, 0.2),
          rng.random(net.n_providers), (rng.random(net.n_providers) < 0.6).astype(float)]
    for x in xs:
        ref, got = _reference(cfg, region, net, x), net.metrics(x)
        for c in METRIC_COLUMNS:
            want = (v0 - ref["loss"]) / (v0 - v1) if c == "gain_realized" else ref[c]
            assert got[c] == pytest.approx(want, rel=1e-12, abs=1e-12), c
    binary = xs[-1]  # binary x: coverage is an integer count over one division, exactly
    sub = net.subcohorts
    assert net.metrics(binary)["one_record_coverage"] * sub["persons"].sum() == pytest.approx(
        round(_reference(cfg, region, net, binary)["one_record_coverage"] * sub["persons"].sum()), abs=1e-6)


# --------------------------------------------------------------------------- channels and inputs


def test_message_channel_information_and_no_channels(small):
    cfg, region, net = small
    x = _x(net, 0, 0, 0, 0)
    nw = cfg.network
    m = nw.message_channel_information_share * (1 - nw.message_delay_information_loss_per_day
                                                * nw.message_channel_mean_delay_days)
    hv = net.handovers
    with_msg = hv["handover"].isin(["referral_gp_hospital", "discharge_summary_hospital_gp", "care_message_gp_municipal",
                                    "care_message_municipal_gp", "admission_report_municipal_hospital",
                                    "discharge_report_hospital_municipal", "referral_gp_specialist",
                                    "report_specialist_gp"])  # the baseline's four channel pairs; legevakt has none
    expected = m * hv.loc[with_msg, "events_per_year"].sum() / hv["events_per_year"].sum()
    assert net.metrics(x)["information_available"] == pytest.approx(expected, rel=1e-12)
    bare = build_network(region, with_overrides(cfg, {"network.message_channels": []}))
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
    with pytest.raises(ValueError, match="muni_live"):
        net.platform_vector(np.ones(net.n_practices, bool), np.ones(net.n_municipalities + 1, bool),
                            np.ones(net.n_hospitals, bool))
    with pytest.raises(ValueError, match="message_channels"):
        build_network(region, with_overrides(cfg, {"network.message_channels": ["gp-pharmacy"]}))


def test_platform_vector_layout(small):
    cfg, _, net = small
    s = 0.35
    net2 = build_network(load_region(cfg.region), with_overrides(cfg, {"network.specialist_adoption_share": s}))
    gp = np.arange(net.n_practices) % 2 == 0
    x = net2.platform_vector(gp, np.zeros(net.n_municipalities, bool), np.ones(net.n_hospitals, bool))
    kinds = net2.providers["kind"].to_numpy()
    assert np.array_equal(x[kinds == "gp"], gp.astype(float))
    assert (x[kinds == "municipal"] == 0).all() and (x[kinds == "hospital"] == 1).all()
    assert (x[kinds == "specialist"] == s).all()
    assert list(net2.providers.columns) == ["provider_idx", "kind", "ref_idx", "name"]


def test_provider_graph_and_graphml(small, tmp_path):
    _, _, net = small
    g = net.graph()
    assert g.number_of_nodes() == net.n_providers
    assert {d["kind"] for _, d in g.nodes(data=True)} == set(PROVIDER_KINDS)
    assert sum(d["weight"] for *_, d in g.edges(data=True)) == pytest.approx(net.handovers["events_per_year"].sum())
    sub = net.subcohorts
    p = 0
    m_node = net.n_practices + int(sub.loc[sub["practice_idx"] == p, "muni_idx"].iat[0])
    both = sub[(sub["practice_idx"] == p) & sub["gp"] & sub[["legevakt", "home_care", "nursing_home"]].any(axis=1)]
    assert g.edges[p, m_node]["shared_residents"] == int(both["persons"].sum())
    path = tmp_path / "providers.graphml"
    net.write_graphml(path)
    back = nx.read_graphml(path)
    assert back.number_of_nodes() == net.n_providers and back.number_of_edges() == g.number_of_edges()


def test_revalued_network_equals_a_fresh_build(small):
    """A build revalued under other prices and wages gives exactly the metrics of a fresh build, and
    leaves the original as it was; another network section is refused."""
    cfg, region, net = small
    other = with_overrides(cfg, {"gp_price.hourly_value_nok": 900.0, "economics.nurse_hourly_cost_nok": 500.0,
                                 "economics.cost_per_adverse_event_nok": 100_000.0})
    fresh, revalued = build_network(region, other), net.revalued(other)
    rng = np.random.default_rng(1)
    for x in [_x(net), _x(net, 1.0, 1.0, 1.0, 1.0), *rng.random((5, net.n_providers))]:
        before = net.metrics(x)
        assert revalued.metrics(x) == fresh.metrics(x)
        assert net.metrics(x) == before and build_network(region, cfg).metrics(x) == before
    assert revalued.metrics(_x(net, 0.5))["search_nok"] != net.metrics(_x(net, 0.5))["search_nok"]
    with pytest.raises(ValueError, match="network sections"):
        net.revalued(with_overrides(cfg, {"network.specialist_adoption_share": 0.5}))
