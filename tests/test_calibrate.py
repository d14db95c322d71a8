"""Calibration: the distance, weighted quantiles, the calibrated config, and parameter recovery.

Recovery runs twice: against a cheap fake simulator (a function of the parameters and the
seed, so the ABC machinery is checked in seconds) and against the model itself on a small
synthetic region (synthetic history made by the model with known parameters).
"""

from __future__ import annotations

from dataclasses import replace
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.calibrate import (FIT_PARAMETERS, QUICK, CalibrationSettings, bands_table, calibrate, calibrated_toml,
                           coverage_table, draw_posterior, forecast, make_target, parameter_table, particle_replicates,
                           prior_range, series_distance, weighted_quantile)
from sim.config import ConfigError, load_config, with_horizon, with_overrides

from .conftest import SMALL

ROOT = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- a cheap fake simulator

FAKE_MUNICIPALITIES = 30
FAKE_OFFICES = 60
FAKE_GOLIVE_T = 28  # 2022-05 from 2020-01
FAKE_GP_RATE_FACTOR = 1.4  # the fake's fixed multiplier of the GP rate (it read 1 + 20 beta_u with beta_u = 0.02 before #19)


def fake_simulator(cfg, replicate: int) -> pd.DataFrame:
    """A stand-in for the model: municipal thresholds ~ N(mean, sd) against a rising utility,
    GP offices by a discrete Bass process from the first go-live. Depends only on the parameters
    and the seed, like the model."""
    rng = np.random.default_rng(np.random.SeedSequence(7, spawn_key=(replicate,)))
    n = cfg.n_months
    t = np.arange(n)
    thresholds = rng.normal(cfg.municipality.threshold_mean, cfg.municipality.threshold_sd, FAKE_MUNICIPALITIES)
    utility = np.clip((t - FAKE_GOLIVE_T + 1) / 24, 0, None) - cfg.functionality.golive_shock
    live = (thresholds[None, :] <= utility[:, None]) & (t[:, None] >= FAKE_GOLIVE_T)
    pop = np.linspace(1, 3, FAKE_MUNICIPALITIES)
    p, q = cfg.gp.bass_p_per_year / 12, cfg.gp.bass_q_per_year / 12
    offices = np.zeros(n)
    u = rng.random((n, FAKE_OFFICES))
    joined = np.zeros(FAKE_OFFICES, bool)
    for k in range(FAKE_GOLIVE_T, n):
        share = joined.mean()
        joined |= u[k] < 1 - np.exp(-(p + q * share) * 12 * FAKE_GP_RATE_FACTOR)
        offices[k] = joined.sum()
    return pd.DataFrame({
        "t": t, "month": pd.date_range(f"{cfg.run.start_month}-01", periods=n, freq="MS"),
        "n_municipalities_live": live.sum(axis=1), "share_residents_municipalities_live": live @ pop / pop.sum(),
        "n_gp_offices_live": offices, "one_record_coverage": offices / FAKE_OFFICES * 0.5,
        "gain_realized": offices / FAKE_OFFICES,
    })


#: The fake's inputs other than the fitted keys, fixed here so the fake does not follow the baseline's calibration
#: (at the fitted spread 0.057 its 48 thresholds fall in one step and 60 particles cannot place it).
FAKE_FIXED = {"municipality.threshold_sd": 0.3, "functionality.golive_shock": 0.2, "gp.bass_p_per_year": 0.005}


@pytest.fixture(scope="module")
def cfg48(small_config):
    return with_overrides(with_horizon(small_config, "2023-12"), FAKE_FIXED)


# --------------------------------------------------------------------------- pieces


def test_priors_are_the_declared_prior_ranges():
    from sim.config import prior_range as declared

    for key in FIT_PARAMETERS:
        lo, hi = prior_range(key)
        assert lo < hi and (lo, hi) == declared(key)
    with pytest.raises(ConfigError, match="not an uncertain input"):
        prior_range("run.seed")
    with pytest.raises(ConfigError, match="not an uncertain input"):
        prior_range("gp_price.licence_nok_per_gp_year")  # a policy lever: swept, never fitted


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=40), st.floats(0.0, 1.0))
def test_weighted_quantile_with_equal_weights_is_hazen(xs, q):
    x = np.array(xs)
    got = weighted_quantile(x, np.ones_like(x), q)
    assert got == pytest.approx(np.quantile(x, q, method="hazen"), abs=1e-9)


def test_weighted_quantile_follows_the_weights():
    x = np.array([0.0, 1.0, 2.0, 10.0])
    assert weighted_quantile(x, np.array([0, 0, 1, 0.0]), 0.5) == 2.0
    assert weighted_quantile(x, np.array([1, 0, 0, 3.0]), 0.5) > weighted_quantile(x, np.ones(4), 0.5)
    with pytest.raises(ValueError):
        weighted_quantile(x, -np.ones(4), 0.5)
    with pytest.raises(ValueError):
        weighted_quantile(x, np.ones(3), 0.5)


def _obs(n=48, lower=True):
    t = np.arange(n)
    df = pd.DataFrame({"month": pd.date_range("2020-01-01", periods=n, freq="MS"), "t": t,
                       "n_municipalities_live": np.where(t >= 28, 5, 0),
                       "share_residents_municipalities_live": np.where(t >= 28, 0.3, 0.0)})
    df["n_gp_offices_live_lower" if lower else "n_gp_offices_live"] = np.where(t >= 28, 1, 0)
    return df


def _sim(obs, gp):
    return {"n_municipalities_live": obs["n_municipalities_live"].to_numpy(float),
            "share_residents_municipalities_live": obs["share_residents_municipalities_live"].to_numpy(float),
            "n_gp_offices_live": np.asarray(gp, float)}


def test_distance_is_zero_at_the_observation_and_grows_with_the_error():
    obs = _obs(lower=False)
    target, s = make_target(obs, 10), CalibrationSettings()
    exact = _sim(obs, obs["n_gp_offices_live"])
    assert series_distance(exact, target, s) == 0.0
    worse = [series_distance({**exact, "n_municipalities_live": exact["n_municipalities_live"] + k}, target, s)
             for k in (1, 2, 4)]
    assert 0 < worse[0] < worse[1] < worse[2]
    # replicate seeds as rows: the distance is the RMS over seeds and months
    two = {k: np.stack([v, v]) for k, v in exact.items()}
    assert series_distance(two, target, s) == 0.0


def test_gp_lower_bound_penalises_shortfall_and_many_offices_softly():
    obs = _obs(lower=True)
    target, s = make_target(obs, 10), CalibrationSettings(gp_offices_soft_max=5)
    t = obs["t"].to_numpy()
    d = {g: series_distance(_sim(obs, np.where(t >= 28, g, 0)), target, s) for g in (0, 1, 3, 5, 8, 10, 20)}
    assert d[1] == d[3] == d[5] == 0.0          # anything from the bound up to the soft maximum fits
    assert d[0] > 0 and d[10] > 0 and d[20] > d[10]
    assert d[8] < d[0] and d[10] == pytest.approx(d[0])   # soft: c offices above c cost as much as one missing


def test_particle_replicates_are_deterministic_and_distinct():
    a = particle_replicates({"x": 0.1, "y": 2.0}, 3)
    assert a == particle_replicates({"y": 2.0, "x": 0.1}, 3)
    assert len(set(a)) == 3 and min(a) >= 1_000_000
    assert particle_replicates({"x": 0.1000001, "y": 2.0}, 3) != a


def test_settings_are_validated():
    with pytest.raises(ConfigError, match="population_size"):
        CalibrationSettings(population_size=0)


def test_calibrated_toml_loads_and_carries_the_medians(tmp_path):
    from sim.params import source_comments

    post = pd.DataFrame({"municipality.threshold_mean": [0.1, 0.2, 0.3], "gp.bass_q_per_year": [0.3, 0.4, 0.5],
                         "weight": [0.25, 0.5, 0.25]})
    base = load_config(ROOT / "configs" / "baseline.toml")
    table = parameter_table(post, base, ["municipality.threshold_mean", "gp.bass_q_per_year"])
    assert table["posterior_median"].tolist() == pytest.approx([0.2, 0.4])
    assert (table["p05"] <= table["posterior_median"]).all() and (table["posterior_median"] <= table["p95"]).all()
    path = tmp_path / "calibrated.toml"
    import os

    path.write_text(calibrated_toml(table, os.path.relpath(ROOT / "configs" / "baseline.toml", tmp_path), "test"))
    cfg = load_config(path)
    assert cfg.scenario == "calibrated"
    assert cfg.municipality.threshold_mean == pytest.approx(0.2)
    assert cfg.gp.bass_q_per_year == pytest.approx(0.4)
    assert cfg.gp.bass_p_per_year == base.gp.bass_p_per_year      # untouched keys come from the baseline
    comments = source_comments(path)
    assert comments["gp.bass_q_per_year"].startswith("calibrated: median, 90% interval [")


def test_the_baseline_is_the_joint_fit():
    """configs/baseline.toml, which every scenario, sweep and the report extend, carries the joint calibration: [calibration] with date, data end and method,
    its posterior beside it, each fitted key at its posterior's weighted median with a comment giving its
    interval, date and data end; the bill's fitted rows; its draws resample the fitted keys from the
    posterior. docs/calibration_fit/ holds the same fit's tables (``api.apply_calibration`` folds them)."""
    from sim.config import load_posterior, prior_ranges
    from sim.draws import spec_sources
    from sim.params import source_comments

    path = ROOT / "configs" / "baseline.toml"
    cfg = load_config(path)
    cal = cfg.calibration
    assert cal is not None and cal.data_end == "2023-12"
    assert Path(cal.posterior) == (ROOT / "configs" / "baseline_posterior.csv").resolve()
    post = load_posterior(cal.posterior)
    keys = [c for c in post.columns if c != "weight"]
    assert 100 <= len(post) <= 2000 and set(keys) <= set(prior_ranges(cfg))
    pd.testing.assert_frame_equal(post, load_posterior(ROOT / "docs" / "calibration_fit" / "posterior.csv"))
    comments = source_comments(path)
    for key in keys:
        lo, hi = prior_range(key)
        q = weighted_quantile(post[key].to_numpy(), post["weight"].to_numpy(), 0.5)
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        assert lo <= value <= hi and value == pytest.approx(q, rel=5e-4), key  # written to 4 significant digits
        assert comments[key].startswith("calibrated: median, 90% interval [") and "data to 2023-12" in comments[key]
    assert comments["bill.project_fte_base"].startswith("fitted: ")
    assert {k for k, v in spec_sources(cfg).items() if v == "posterior"} == set(keys)
    for scenario in sorted((ROOT / "configs").glob("*.toml")):  # every shipped scenario inherits the fit
        assert load_config(scenario).calibration == cal, scenario.name


def test_bands_and_coverage_tables():
    obs = _obs(lower=True)
    runs = pd.concat([obs.assign(draw=d, replicate=d, n_gp_offices_live=obs["n_gp_offices_live_lower"] + d % 3,
                                 n_municipalities_live=obs["n_municipalities_live"] + (d % 5 - 2) * (obs["t"] >= 28))
                      for d in range(40)], ignore_index=True)
    b = bands_table(runs, ["n_municipalities_live", "share_residents_municipalities_live", "n_gp_offices_live"])
    assert (b["p05"] <= b["p25"]).all() and (b["p25"] <= b["p50"]).all() and (b["p75"] <= b["p95"]).all()
    cov = coverage_table(b, obs)
    assert cov["covered_90"].all()
    assert cov["t"].min() == 28                          # checked from the first go-live on
    shifted = obs.assign(n_municipalities_live=obs["n_municipalities_live"] + 3 * (obs["t"] >= 40))
    cov2 = coverage_table(b, shifted)
    bad = cov2[~cov2["covered_90"]]
    assert set(bad["series"]) == {"n_municipalities_live"} and bad["t"].min() == 40


def test_draw_posterior_is_seeded_and_follows_weights():
    post = pd.DataFrame({"a": [0.0, 1.0], "weight": [0.0, 1.0]})
    d = draw_posterior(post, 50, seed=3)
    assert (d["a"] == 1.0).all() and "weight" not in d
    post = pd.DataFrame({"a": np.arange(10.0), "weight": np.full(10, 0.1)})
    pd.testing.assert_frame_equal(draw_posterior(post, 20, 5), draw_posterior(post, 20, 5))


# --------------------------------------------------------------------------- recovery (fake simulator)

FAKE_KEYS = ["municipality.threshold_mean", "gp.bass_q_per_year"]
TRUTH = {"municipality.threshold_mean": 0.8, "gp.bass_q_per_year": 0.3}


def _check_recovery(table: pd.DataFrame, truth: dict[str, float]) -> None:
    for key, value in truth.items():
        r = table.set_index("parameter").loc[key]
        assert r["p05"] <= value <= r["p95"], (key, value, r[["p05", "posterior_median", "p95"]].to_dict())
        assert abs(r["posterior_median"] - value) < abs(r["prior_median"] - value), key


def test_fit_recovers_known_parameters_of_a_fake_simulator(cfg48, tmp_path):
    truth_cfg = with_overrides(cfg48, TRUTH)
    observed = fake_simulator(truth_cfg, 12345)[["month", "t", "n_municipalities_live",
                                                 "share_residents_municipalities_live", "n_gp_offices_live"]]
    settings = replace(QUICK, population_size=60, max_generations=4, seeds_per_particle=2, predictive_draws=20,
                       predictive_seeds=2)
    from sim import api

    # the scenario's own horizon and report year (the forecast runs to 2030); the fit cuts it to the observed 2023-12
    full = with_overrides(cfg48, {"run.end_month": "2035-12", "run.report_year": 2030})
    res = api.calibrate(full, out=tmp_path, keys=FAKE_KEYS, observed=observed, settings=settings,
                        simulator=fake_simulator)  # the files of `onerecord calibrate`, figures included
    (out,) = (tmp_path / cfg48.scenario).glob("*-calibration-*")  # its run id (issue 24)
    assert res.out_dir == out and not list(tmp_path.glob(f"{cfg48.scenario}/.tmp-*"))
    _check_recovery(res.parameters, TRUTH)
    assert res.posterior["weight"].sum() == pytest.approx(1.0)
    assert (res.generations["epsilon"].diff().dropna() <= 0).all()          # tolerances shrink
    assert res.coverage["covered_90"].mean() > 0.8
    for name in ("fitted_parameters.csv", "posterior.csv", "bands.csv", "coverage.csv", "forecast.csv",
                 "calibrated.toml", "calibration.json", "figures/calibration_fit_en.pdf", "figures/calibration_fit_en.png",
                 "figures/calibration_forecast_en.png"):
        assert (out / name).exists(), name
    # the written calibrated.toml extends the baseline and loads
    cal = load_config(out / "calibrated.toml", SMALL)
    assert cal.municipality.threshold_mean == pytest.approx(res.medians()["municipality.threshold_mean"])




@pytest.mark.slow
def test_a_parallel_fit_is_the_same_on_any_executor(cfg48):
    """pyabc runs on our executor (sim.parallel): particles are seeded by their index and taken in
    index order, so 2 local workers and 3 Dask workers give the same posterior."""
    from sim.calibrate import fit_abc

    observed = fake_simulator(with_overrides(cfg48, TRUTH), 1)
    quick = replace(QUICK, population_size=8, max_generations=2)
    fits = [fit_abc(cfg48, observed, FAKE_KEYS, replace(quick, **kw), fake_simulator)
            for kw in ({"n_procs": 2}, {"n_procs": 3, "executor": "dask"})]
    pd.testing.assert_frame_equal(fits[1][0], fits[0][0])
    pd.testing.assert_frame_equal(fits[1][1], fits[0][1])
    assert len(fits[0][1]) == 2 and fits[0][0]["weight"].sum() == pytest.approx(1.0)


def test_fit_never_simulates_past_the_observed_window(cfg48):
    seen: list[str] = []

    def spy(cfg, replicate):
        seen.append(cfg.run.end_month)
        return fake_simulator(cfg, replicate)

    long_cfg = with_overrides(cfg48, {"run.end_month": "2035-12"})
    observed = fake_simulator(with_overrides(cfg48, TRUTH), 1)
    from sim.calibrate import fit_abc

    fit_abc(long_cfg, observed, FAKE_KEYS, replace(QUICK, population_size=8, max_generations=1), spy,
            n_municipalities=FAKE_MUNICIPALITIES)
    assert seen and set(seen) == {"2023-12"}


def test_real_history_after_2023_is_refused(baseline_config):
    from sim.history import observed_series

    obs = observed_series(baseline_config)
    later = pd.concat([obs, obs.tail(1).assign(month=pd.Timestamp("2024-01-01"), t=48)], ignore_index=True)
    with pytest.raises(ValueError, match="2023-12"):
        calibrate(baseline_config, quick=True, out_dir=None, observed=later)


def test_forecast_without_posterior_bands_over_seeds(cfg48):
    cfg = with_overrides(cfg48, {"run.end_month": "2026-12", "run.report_year": 2026})  # forecast runs to 2026-12
    fc = forecast(cfg, n_draws=6, simulator=fake_simulator)
    assert set(fc["series"]) == {"n_municipalities_live", "n_gp_offices_live", "one_record_coverage", "gain_realized"}
    assert fc["month"].min() == pd.Timestamp("2024-01-01") and fc["month"].max() == pd.Timestamp("2026-12-01")
    assert (fc["p05"] <= fc["p50"]).all() and (fc["p50"] <= fc["p95"]).all()


# --------------------------------------------------------------------------- recovery (the model itself)

# A synthetic region where both fitted parameters leave a trace: wave capacity never binds (so the
# threshold sets how many municipalities are live), GP offices are offered from the start with
# only "join" offered, beta_u = 0, no window rate and a complete peer graph (the Bass case of the GP
# choice, so q sets the growth). The window runs to
# 2027-12 because this is synthetic data, not the history (the history is fitted to 2023-12 only).
# The recovery check tests the fit machinery on the threshold and q; each municipality's headroom
# comes from its own bottom-up bill (issue 21).
MODEL_RECOVERY = ["region.kind=synthetic", "region.synthetic_municipalities=30", "region.synthetic_population=300000",
                  "run.end_month=2027-12", "run.report_year=2027", "rollout.wave_capacity=[30,30,30,30,30,30,30,30,30,30,30]",
                  "gp.offered_from_start=true", "gp.beta_u_per_knok=0.0", 'gp.peer_graph="complete"',
                  "gp.bass_p_per_year=0.03", 'gp.alternatives=["join"]', "gp.window_choice_rate_per_year=0.0"]
MODEL_TRUTH = {"municipality.threshold_mean": 1.0, "gp.bass_q_per_year": 0.3}
# threshold_mean 1.0: about 13-18 of the 30 municipalities live by 2027 under the two-stage rule (at
# 0.55, the truth before it, 27-29 are live and every lower value gives about the same: no trace)
SERIES = ["n_municipalities_live", "share_residents_municipalities_live", "n_gp_offices_live"]


def typical_realization(runs: list[pd.DataFrame]) -> pd.DataFrame:
    """The medoid run: the realization closest to the pointwise median (each series scaled by its max)."""
    arr = np.stack([np.concatenate([r[c].to_numpy(float) / max(1.0, r[c].max()) for c in SERIES]) for r in runs])
    i = int(np.argmin(((arr - np.median(arr, axis=0)) ** 2).sum(axis=1)))
    return runs[i][["month", "t", *SERIES]].reset_index(drop=True)


@pytest.mark.slow
def test_fit_recovers_known_parameters_of_the_model():
    """Synthetic history from the model with known threshold_mean and bass_q (a typical one of seven
    realizations); the fit's 90% interval holds the truth and its median moved towards it."""
    from sim.calibrate import simulate_monthly

    cfg = load_config(ROOT / "configs" / "baseline.toml", MODEL_RECOVERY)
    truth_cfg = with_overrides(cfg, MODEL_TRUTH)
    observed = typical_realization([simulate_monthly(truth_cfg, 900 + r) for r in range(7)])
    assert observed["n_municipalities_live"].iloc[-1] > 0 and observed["n_gp_offices_live"].iloc[-1] > 0
    # two seeds per particle: under the two-stage rule one seed's distance at a given threshold varies
    # a lot (a council cascade goes one way or the other), e.g. 0.12 to 0.38 at 0.8 over three seeds
    settings = replace(QUICK, population_size=60, max_generations=5, seeds_per_particle=2, predictive_draws=10)
    res = calibrate(cfg, out_dir=None, keys=list(MODEL_TRUTH), observed=observed, settings=settings)
    _check_recovery(res.parameters, MODEL_TRUTH)


def test_decision_points_enter_the_distance():
    from sim.calibrate import decision_error, decision_points_in_window

    obs = _obs(lower=False)
    pts = pd.DataFrame({"month": pd.to_datetime(["2019-08-01", "2021-05-01", "2021-11-01"]), "count": [1, 19, 34],
                        "lower_bound": [False, False, True]})
    inside = decision_points_in_window(pts, "2020-01", len(obs))
    assert inside["t"].tolist() == [16, 22]                    # 2019-08 is before the window
    target, s = make_target(obs, 66, inside), CalibrationSettings()
    sim = _sim(obs, obs["n_gp_offices_live"])
    decided = np.zeros(48)
    decided[16:] = 19
    decided[22:] = 40                                           # above the lower bound: no error
    assert decision_error(decided, target).ravel().tolist() == [0.0, 0.0]
    assert series_distance({**sim, "n_municipalities_decided": decided}, target, s) == 0.0
    decided[22:] = 30                                           # below it: the shortfall counts
    assert decision_error(decided, target)[0, 1] == pytest.approx(4 / 66)
    assert series_distance({**sim, "n_municipalities_decided": decided}, target, s) > 0
    # without points there is no decision term (and no decided series is needed)
    assert series_distance(sim, make_target(obs, 66), s) == 0.0


def test_history_fit_coverage_check(baseline_config, tmp_path):
    """The real history, quick settings (the joint fit): every observed point gets a coverage row, the dated
    binding counts too; the points that hold by construction in runs with the rules from the start (the
    GP lower bound, met by the forced pilot office) are marked, the others are not; the bill's fitted rows
    are solved and written; nothing after 2023-12 is fitted or banded."""
    res = calibrate(baseline_config, quick=True, out_dir=tmp_path)
    cov = res.coverage
    assert set(cov["series"]) == {"n_municipalities_live", "share_residents_municipalities_live",
                                  "n_gp_offices_live", "n_municipalities_decided", "n_municipalities_bound"}
    assert len(cov[cov["series"] == "n_municipalities_decided"]) == 3          # Dec 2020, May 2021, Nov 2021
    assert len(cov[cov["series"] == "n_municipalities_bound"]) == 4           # 2021-10, 2022-11, 2023-06, 2023-09
    gp = cov[cov["series"] == "n_gp_offices_live"]
    assert gp["observed_is_lower_bound"].all() and gp["by_construction"].all() and gp["covered_90"].all()
    assert not cov.loc[cov["series"] != "n_gp_offices_live", "by_construction"].any()
    owners = cov[(cov["series"] == "n_municipalities_bound") & (cov["t"] == baseline_config.t_of("2022-11"))].iloc[0]
    assert (owners["observed"], owners["observed_high"]) == (18, 19)
    assert res.bands["month"].max() == pd.Timestamp("2023-12-01")             # bands: fit window only
    assert res.forecast["month"].min() == pd.Timestamp("2024-01-01")
    assert set(res.fitted) == {"economics.operating_nok_per_year", "financing.fixed_part_share", "bill.project_fte_base"}
    assert res.posterior["weight"].sum() == pytest.approx(1.0) and list(res.posterior.columns) == [
        *res.meta["keys"], "weight"]
    # the results folder's calibrated.toml is a calibrated scenario as it stands: its posterior drives the draws
    cal = load_config(tmp_path / "calibrated.toml")
    assert cal.calibration.posterior == str((tmp_path / "posterior.csv").resolve())
    assert cal.economics.operating_nok_per_year == pytest.approx(res.fitted["economics.operating_nok_per_year"], rel=1e-5)
    from sim.draws import spec_sources

    assert {k for k, v in spec_sources(cal).items() if v == "posterior"} == set(res.meta["keys"])


# --------------------------------------------------------------------------- the joint fit's pieces


def test_importance_sampling_recovers_an_analytic_posterior():
    """A Gaussian likelihood inside uniform priors: the adaptive stages' weighted particles give its
    mean within 0.1 sd and its sd within 20%, and the fit is a function of its seed."""
    from sim.calibrate import effective_sample_size, fit_importance

    keys = ["municipality.threshold_mean", "gp.bass_q_per_year"]
    mean, sd = np.array([1.1, 0.45]), np.array([0.05, 0.01])   # narrow against the priors (-0.5..2, 0.25..0.6)

    def loglik(thetas):
        return [{"loglik": float(-0.5 * np.sum(((np.array([t[k] for k in keys]) - mean) / sd) ** 2))} for t in thetas]

    settings = replace(QUICK, stage_sizes=(256, 256, 256, 256), proposal_ess=40.0)
    post, stages = fit_importance(keys, loglik, settings, seed=1)
    w = post["weight"].to_numpy()
    assert w.sum() == pytest.approx(1.0) and list(stages["stage"]) == [0, 1, 2, 3]
    for j, key in enumerate(keys):
        m = float(np.sum(w * post[key]))
        s = float(np.sqrt(np.sum(w * (post[key] - m) ** 2)))
        assert abs(m - mean[j]) < 0.1 * sd[j], key
        assert abs(s / sd[j] - 1) < 0.2, key
    assert stages["ess"].iloc[-1] > stages["ess"].iloc[0] and stages["ess"].iloc[-1] > 100  # the stages home in
    assert effective_sample_size(np.log(w)) == pytest.approx(stages["ess"].iloc[-1], abs=0.01)  # rounded to 0.01
    again, _ = fit_importance(keys, loglik, settings, seed=1)
    pd.testing.assert_frame_equal(again, post)
    # a key the likelihood ignores, drawn from its prior in every stage, keeps its prior: U(0, 0.1), mean 0.05, sd 0.029
    flat, _ = fit_importance([*keys, "gp.beta_u_per_knok"], loglik, settings, seed=1, adapt=keys)
    w = flat["weight"].to_numpy()
    m = float(np.sum(w * flat["gp.beta_u_per_knok"]))
    s = float(np.sqrt(np.sum(w * (flat["gp.beta_u_per_knok"] - m) ** 2)))
    assert abs(m - 0.05) < 0.01 and abs(s / (0.1 / np.sqrt(12)) - 1) < 0.25


def test_the_joint_likelihood_terms():
    from sim.calibrate import gp_record_log_likelihood, joint_log_likelihood

    assert gp_record_log_likelihood(np.array([0, 1, 5, 6, 8]), 5.0).tolist() == pytest.approx(
        [0, 0, 0, -np.log(2), -3 * np.log(2)])
    terms = pd.DataFrame({"named": [-10.0, -12.0], "counts": [-1.0, -1.0], "gp": [0.0, -np.log(2)]})
    got = joint_log_likelihood(terms)
    assert got["loglik"] == pytest.approx(np.log((np.exp(-11) + np.exp(-13) / 2) / 2))
    assert got["loglik_decisions"] == pytest.approx(np.log((np.exp(-11) + np.exp(-13)) / 2))
    assert got["loglik_gp"] == pytest.approx(np.log(0.75))
    assert joint_log_likelihood(terms.assign(named=-np.inf))["loglik"] == -np.inf


def test_pyabc_leaves_the_global_random_state_as_it_found_it(cfg48):
    import random

    from sim.calibrate import fit_abc

    np.random.seed(2024)
    random.seed(2024)
    before, before_py = np.random.get_state(), random.getstate()
    observed = fake_simulator(with_overrides(cfg48, TRUTH), 1)
    fit_abc(cfg48, observed, FAKE_KEYS, replace(QUICK, population_size=8, max_generations=1), fake_simulator,
            n_municipalities=FAKE_MUNICIPALITIES)
    after = np.random.get_state()
    assert after[0] == before[0] and np.array_equal(after[1], before[1]) and after[2:] == before[2:]
    assert random.getstate() == before_py


def test_coverage_marks_points_by_construction_and_count_ranges():
    obs = _obs(lower=True)
    runs = pd.concat([obs.assign(draw=d, replicate=d, n_gp_offices_live=obs["n_gp_offices_live_lower"] + d % 3,
                                 n_municipalities_bound=10.0 + d % 5) for d in range(40)], ignore_index=True)
    b = bands_table(runs, ["n_municipalities_live", "share_residents_municipalities_live", "n_gp_offices_live",
                           "n_municipalities_bound"])
    counts = pd.DataFrame({"month": pd.to_datetime(["2021-10-01", "2022-11-01", "2023-06-01"]), "t": [21, 34, 41],
                           "series": "n_municipalities_bound", "low": [8.0, 13.0, 31.0], "high": [8.0, 19.0, 31.0]})
    cov = coverage_table(b, obs, construction={"n_gp_offices_live": 47}, counts=counts)
    bound = cov[cov["series"] == "n_municipalities_bound"].set_index("t")
    assert bound["covered_90"].tolist() == [False, True, False]   # band 10..14: misses 8 and 31, meets 13..19
    assert np.isnan(bound.at[21, "observed_high"]) and bound.at[34, "observed_high"] == 19
    assert cov.loc[cov["series"] == "n_gp_offices_live", "by_construction"].all()
    assert not cov.loc[cov["series"] != "n_gp_offices_live", "by_construction"].any()
    assert list(cov.columns)[-2:] == ["by_construction", "observed_high"]


def test_a_calibration_folds_into_a_scenario_file(tmp_path):
    """``--apply``: the medians with comments that keep the data row, the bill rows, the [calibration] table
    and the posterior beside the file; the file loads and folding twice gives the same text."""
    import shutil

    from sim import api

    base = tmp_path / "baseline.toml"
    shutil.copy(ROOT / "configs" / "baseline.toml", base)
    shutil.copy(ROOT / "configs" / "baseline_posterior.csv", tmp_path)  # the baseline's own [calibration]
    res = tmp_path / "res"
    res.mkdir()
    post = pd.DataFrame({"gp.bass_p_per_year": [0.01, 0.02], "municipality.threshold_mean": [1.0, 1.2],
                         "weight": [0.25, 0.75]})
    post.to_csv(res / "posterior.csv", index=False)
    table = parameter_table(post, load_config(base), list(post.columns[:2]))
    table.to_csv(res / "fitted_parameters.csv", index=False)
    (res / "calibration.json").write_text(json.dumps({"method": "m", "date": "2026-12-07", "data_end": "2023-12",
                                                      "fitted": {"bill.project_fte_base": 7.8}}))
    api.apply_calibration(res, base)
    text = base.read_text()
    cfg = load_config(base)
    medians = dict(zip(table["parameter"], table["posterior_median"]))
    assert cfg.gp.bass_p_per_year == pytest.approx(medians["gp.bass_p_per_year"], rel=1e-3)
    assert cfg.municipality.threshold_mean == pytest.approx(medians["municipality.threshold_mean"], rel=1e-3)
    assert cfg.bill.project_fte_base == 7.8
    assert cfg.calibration.posterior == str(tmp_path / "baseline_posterior.csv") and cfg.calibration.method == "m"
    line = next(ln for ln in text.splitlines() if ln.startswith("bass_p_per_year"))
    assert "calibrated: median, 90% interval" in line and "data to 2023-12" in line and "PS: bass_p_ehr_physicians" in line
    api.apply_calibration(res, base)
    assert base.read_text() == text
