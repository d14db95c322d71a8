"""Calibration: the distance, weighted quantiles, the calibrated config, and parameter recovery.

Recovery runs twice: against a cheap fake simulator (a function of the parameters and the
seed, so the ABC machinery is checked in seconds) and against the model itself on a small
synthetic region (synthetic history made by the model with known parameters).
"""

from __future__ import annotations

from dataclasses import replace
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


@pytest.fixture(scope="module")
def cfg48(small_config):
    return with_horizon(small_config, "2023-12")


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
    assert comments["gp.bass_q_per_year"].startswith("calibrated: median of posterior, 90% interval [")


def test_shipped_calibrated_config_is_valid():
    path = ROOT / "configs" / "calibrated.toml"
    if not path.exists():
        pytest.skip("configs/calibrated.toml not generated yet")
    cfg = load_config(path)
    base = load_config(ROOT / "configs" / "baseline.toml")
    text = path.read_text()
    for key in FIT_PARAMETERS:
        assert key.split(".")[1] in text
        lo, hi = prior_range(key)
        section, name = key.split(".")
        assert lo <= getattr(getattr(cfg, section), name) <= hi
    assert cfg.network == base.network and cfg.run == base.run


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
    cal = load_config(out / "calibrated.toml", SMALL_OVERRIDES)
    assert cal.municipality.threshold_mean == pytest.approx(res.medians()["municipality.threshold_mean"])


SMALL_OVERRIDES = ["region.kind=synthetic", "region.synthetic_municipalities=8", "region.synthetic_population=20000"]


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
    """The real history, quick settings: every observed point gets a coverage row, and the count of
    municipalities live (pinned by the wave calendar to 2023) lies inside the 90% band every month."""
    settings = replace(QUICK, population_size=24, max_generations=2, predictive_draws=12)
    res = calibrate(baseline_config, out_dir=None, settings=settings)
    cov = res.coverage
    assert set(cov["series"]) == {"n_municipalities_live", "share_residents_municipalities_live",
                                  "n_gp_offices_live", "n_municipalities_decided"}
    assert len(cov[cov["series"] == "n_municipalities_decided"]) == 3          # Dec 2020, May 2021, Nov 2021
    assert cov.loc[cov["series"] == "n_municipalities_live", "covered_90"].all()
    assert cov.loc[cov["series"] == "n_gp_offices_live", "observed_is_lower_bound"].all()
    assert res.bands["month"].max() == pd.Timestamp("2023-12-01")             # bands: fit window only
    assert res.forecast["month"].min() == pd.Timestamp("2024-01-01")
