"""Parameter draws (sim.draws): the design, its reproducibility, and runs over draws x seeds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import api
from sim.config import ConfigError, config_to_dict, get_dotted, prior_ranges, with_overrides
from sim.draws import (draw_config, draw_configs, draw_table, particle_index, posterior_spec, posterior_table, prior_spec,
                       spec_sources, unit_points)


def test_sobol_points_are_stratified_and_a_reproducible_prefix():
    u = unit_points(64, 5, seed=7)
    assert u.shape == (64, 5) and ((u >= 0) & (u < 1)).all()
    for j in range(5):  # the first 2^m points of a (t, m, s)-net put one point in each of 2^m equal bins per axis
        assert sorted(np.floor(u[:, j] * 64).astype(int)) == list(range(64))
    np.testing.assert_array_equal(unit_points(64, 5, seed=7), u)
    np.testing.assert_array_equal(unit_points(10, 5, seed=7), u[:10])  # more draws never move the earlier ones
    assert not np.array_equal(unit_points(64, 5, seed=8), u)


def test_draw_zero_is_the_config_and_draws_lie_in_their_priors(small_config):
    table = draw_table(small_config, 16)
    ranges = prior_ranges(small_config)
    assert list(table.columns) == ["draw", *ranges] and table["draw"].tolist() == list(range(17))
    data = config_to_dict(small_config)
    assert all(table.at[0, k] == get_dotted(data, k) for k in ranges)
    for key, (lo, hi) in ranges.items():
        assert table[key].iloc[1:].between(lo, hi).all(), key
    # seeded from run.seed: the same config gives the same design, another root seed another one
    pd.testing.assert_frame_equal(draw_table(small_config, 16), table)
    other = draw_table(with_overrides(small_config, {"run.seed": small_config.run.seed + 1}), 16)
    assert not other.iloc[1:].equals(table.iloc[1:])


def test_draw_configs_set_the_drawn_values_and_nothing_else(small_config):
    table = draw_table(small_config, 2)
    cfgs = draw_configs(small_config, table)
    assert cfgs[0] is small_config
    d2 = config_to_dict(cfgs[2])
    for key in table.columns[1:]:
        assert get_dotted(d2, key) == pytest.approx(table.at[2, key], rel=1e-12), key
    base = config_to_dict(small_config)
    assert d2["run"] == base["run"] and d2["gp_price"]["licence_nok_per_gp_year"] == base["gp_price"]["licence_nok_per_gp_year"]
    assert d2["network"]["gp_consultations_per_person_year"].keys() == base["network"]["gp_consultations_per_person_year"].keys()
    with pytest.raises(ConfigError, match="draw 1.*bass_q_per_year"):
        draw_config(small_config, {"draw": 1, "gp.bass_q_per_year": -1.0})


def test_a_distribution_spec_replaces_the_priors(small_config):
    """The posterior hook: any ppf (here a narrow uniform) or a callable of the unit points."""
    table = draw_table(small_config, 8, {"gp.bass_q_per_year": stats.uniform(0.5, 0.01)})
    assert list(table.columns) == ["draw", "gp.bass_q_per_year"]
    assert table["gp.bass_q_per_year"].iloc[1:].between(0.5, 0.51).all()

    def particles(u: np.ndarray) -> pd.DataFrame:  # resample two weighted particles by the first coordinate
        pick = (u[:, 0] < 0.25).astype(int)
        return pd.DataFrame({"gp.bass_p_per_year": np.array([0.004, 0.02])[pick]})

    got = draw_table(small_config, 8, particles)
    assert set(got["gp.bass_p_per_year"].iloc[1:]) <= {0.004, 0.02}
    with pytest.raises(ConfigError, match="--draws"):
        draw_table(small_config, -1)


@pytest.fixture(scope="module")
def drawn(small_config):
    return api.run(small_config, seeds=[0, 1], draws=2)


def test_a_run_over_draws_has_a_draw_column_in_every_table(drawn, small_config):
    assert drawn.summary[["draw", "seed"]].values.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]
    for name, df in drawn.tables.items():
        if name != "draws":
            assert set(df["draw"]) == {0, 1, 2}, name
            assert list(df.columns[:3]) == ["scenario", "draw", "seed"], name
    assert drawn.draws["draw"].tolist() == [0, 1, 2]
    assert drawn.config.run.draws == 2
    assert drawn.manifest["draws"]["count"] == 2
    assert drawn.manifest["draws"]["values"] == json.loads(json.dumps(drawn.draws.to_dict("records")))
    # draw 0 is the config as given: the same rows as a run without draws
    plain = api.run(small_config, seeds=[0, 1])
    assert (plain.summary["draw"] == 0).all()
    got0 = drawn.summary[drawn.summary["draw"] == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(got0, plain.summary)
    assert drawn.run_id != plain.run_id
    # the draws move the answers (they are not copies of draw 0)
    assert drawn.summary.groupby("draw")["gain_realized_end"].mean().nunique() == 3


def test_draws_use_common_random_numbers(small_config):
    """Draws of a key the adoption never reads leave adoption identical seed by seed: replicate r
    has the same seed in every draw."""
    res = api.run(small_config, seeds=[0, 1], draws=2,
                  spec={"economics.hospital_cost_per_bed_day_nok": stats.uniform(15_000, 4_000)})
    s = res.summary
    for col in ("share_gps_2030", "n_municipalities_live_2030", "one_record_coverage_2030"):
        wide = s.pivot(index="seed", columns="draw", values=col)
        np.testing.assert_array_equal(wide[1], wide[0])
        np.testing.assert_array_equal(wide[2], wide[0])
    assert s.pivot(index="seed", columns="draw", values="npv_municipal_net_cost_nok").nunique(axis=1).max() >= 1


def test_a_saved_run_keeps_its_draws(drawn, tmp_path):
    path = drawn.save(tmp_path, figures=False)
    back = api.load_results(path)
    pd.testing.assert_frame_equal(back.draws, drawn.draws, check_dtype=False)
    pd.testing.assert_frame_equal(back.summary, drawn.summary, check_dtype=False)
    assert (path / "draws.csv").exists()


def test_bad_draws_are_one_line_errors(small_config):
    with pytest.raises(ConfigError, match="--draws: must be >= 0"):
        api.run(small_config, seeds=1, draws=-1)
    with pytest.raises(ConfigError, match="run.draws"):
        with_overrides(small_config, {"run.draws": "many"})


# --------------------------------------------------------------------------- posterior draws (calibrated configs)

FITTED = ("municipality.threshold_mean", "gp.bass_p_per_year")


def _posterior(n: int = 40, seed: int = 3) -> pd.DataFrame:
    """Correlated particles inside the priors with uneven weights (some zero)."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 1.5, n)
    w = rng.uniform(0, 1, n)
    w[:5] = 0.0
    return pd.DataFrame({FITTED[0]: a, FITTED[1]: 0.002 + 0.01 * (a - 0.5), "weight": w})


@pytest.fixture()
def calibrated(tmp_path):
    """A scenario in its own folder that extends the baseline and declares a posterior beside it."""
    from tests.conftest import BASELINE, SMALL
    from sim.config import load_config

    folder = tmp_path / "scen"
    folder.mkdir()
    post = _posterior()
    post.to_csv(folder / "post.csv", index=False)
    (folder / "cal.toml").write_text(
        f'extends = "{BASELINE}"\nscenario = "cal"\n\n[calibration]\ndate = "2026-12-07"\ndata_end = "2023-12"\n'
        'method = "test"\nposterior = "post.csv"\n', encoding="utf-8")
    return load_config(folder / "cal.toml", SMALL), post


def test_the_posterior_file_resolves_beside_the_config_that_declares_it(calibrated, tmp_path, monkeypatch):
    cfg, post = calibrated
    assert cfg.calibration.posterior == str((tmp_path / "scen" / "post.csv").resolve())
    assert cfg.calibration.data_end == "2023-12" and cfg.calibration.method == "test"
    pd.testing.assert_frame_equal(posterior_table(cfg), post)
    # a scenario elsewhere that extends it keeps the path of the file that declared the posterior
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "child.toml").write_text(f'extends = "{tmp_path / "scen" / "cal.toml"}"\nscenario = "child"\n')
    monkeypatch.chdir(other)
    from sim.config import load_config

    assert load_config(other / "child.toml").calibration.posterior == cfg.calibration.posterior
    assert spec_sources(cfg) == {k: "posterior" if k in FITTED else "prior" for k in prior_ranges(cfg)}


def test_posterior_draws_are_joint_particles_and_other_inputs_stay_on_their_priors(calibrated):
    cfg, post = calibrated
    table = draw_table(cfg, 64)  # the default spec of a calibrated config is its posterior
    assert list(table.columns) == ["draw", *prior_ranges(cfg)]
    rows = {tuple(r) for r in post.loc[post["weight"] > 0, list(FITTED)].to_numpy()}
    drawn = [tuple(r) for r in table.loc[1:, list(FITTED)].to_numpy()]
    assert set(drawn) <= rows  # each draw's fitted values are one posterior particle (joint, correlation kept)
    assert len(set(drawn)) > 10
    for key, (lo, hi) in prior_ranges(cfg).items():
        if key not in FITTED:
            assert table[key].iloc[1:].between(lo, hi).all(), key
            assert table[key].iloc[1:].nunique() > 32, key
    # a prefix: more draws never move the earlier ones
    pd.testing.assert_frame_equal(draw_table(cfg, 8), table.iloc[:9])


def test_the_weighted_mean_of_many_posterior_draws_is_the_posterior_mean(calibrated):
    """4096 stratified draws reproduce the weighted mean: the first Sobol coordinate puts K w_i / sum w
    draws (less than 2 off: one point per bin of 1/K, two partial bins at the interval's ends) on particle i,
    so |mean error| < 2 n_particles range / K; tolerance 1% of the posterior sd."""
    cfg, post = calibrated
    table = draw_table(cfg, 4096).iloc[1:]
    w = post["weight"] / post["weight"].sum()
    for key in FITTED:
        mean = float(np.sum(w * post[key]))
        sd = float(np.sqrt(np.sum(w * (post[key] - mean) ** 2)))
        assert abs(table[key].mean() - mean) <= 0.01 * sd, key
    counts = pd.Series(particle_index(unit_points(4096, 1, 0)[:, 0], post["weight"].to_numpy())).value_counts()
    expected = 4096 * w
    assert all(abs(counts.get(i, 0) - expected[i]) < 2 for i in range(len(post)))
    assert not set(counts.index) & set(range(5))  # zero-weight particles are never drawn


def test_an_uncalibrated_config_draws_from_its_priors(calibrated):
    cfg, _ = calibrated
    plain = with_overrides(cfg, {"calibration": None})
    assert plain.calibration is None and set(spec_sources(plain).values()) == {"prior"}
    pd.testing.assert_frame_equal(draw_table(plain, 32), draw_table(plain, 32, prior_spec(plain)))
    pd.testing.assert_frame_equal(draw_table(plain, 32, posterior_spec(plain)), draw_table(plain, 32, prior_spec(plain)))


def test_a_run_over_draws_of_a_calibrated_config_draws_from_its_posterior(calibrated):
    cfg, post = calibrated
    res = api.run(cfg, seeds=[0], draws=2)
    rows = {tuple(r) for r in post[list(FITTED)].to_numpy()}
    assert {tuple(r) for r in res.draws.loc[1:, list(FITTED)].to_numpy()} <= rows


@pytest.mark.parametrize(("csv", "expect"), [
    (None, "calibration.posterior: file not found"),
    ("weight,gp.bass_q_per_year\n1,0.4\n", None),
    ("w,gp.bass_q_per_year\n1,0.4\n", "no 'weight' column"),
    ("weight,gp.licence\n1,0.4\n", "'gp.licence' is not an uncertain input"),
    ("weight,gp_price.licence_nok_per_gp_year\n1,1000\n", "is not an uncertain input"),
    ("weight,gp.bass_q_per_year\n-1,0.4\n2,0.5\n", "weights must be >= 0"),
    ("weight,gp.bass_q_per_year\n0,0.4\n", "positive sum"),
    ("weight,gp.bass_q_per_year\n1,nan\n", "'gp.bass_q_per_year': every value must be a finite number"),
    ("weight,gp.bass_q_per_year\n1,many\n", "every value must be a finite number"),
    ("weight\n1\n", "no parameter column"),
])
def test_a_bad_posterior_file_is_a_one_line_error_naming_file_and_key(tmp_path, csv, expect):
    from tests.conftest import BASELINE
    from sim.config import load_config

    if csv is not None:
        (tmp_path / "p.csv").write_text(csv)
    (tmp_path / "c.toml").write_text(
        f'extends = "{BASELINE}"\nscenario = "c"\n[calibration]\ndate = "2026-12-07"\ndata_end = "2023-12"\n'
        'method = "m"\nposterior = "p.csv"\n')
    if expect is None:
        assert load_config(tmp_path / "c.toml").calibration.posterior == str(tmp_path / "p.csv")
        return
    with pytest.raises(ConfigError, match="c.toml: calibration.posterior") as err:
        load_config(tmp_path / "c.toml")
    assert expect in str(err.value) and "\n" not in str(err.value)


def test_bad_calibration_fields_are_one_line_errors(calibrated):
    cfg, _ = calibrated
    for key, value, expect in [("calibration.date", "7 Dec 2026", "must be an ISO date"),
                               ("calibration.data_end", "2023-13", "calibration.data_end: must match"),
                               ("calibration.extra", 1, "calibration.extra: unknown key")]:
        with pytest.raises(ConfigError, match=expect):
            with_overrides(cfg, {key: value})


def test_run_ids_and_design_hashes_do_not_depend_on_where_the_configs_are(tmp_path):
    """A calibrated config resolves its posterior to an absolute path; the ids hash the file's content."""
    import shutil
    from pathlib import Path

    from sim.config import load_config
    from sim.params import parameter_table
    from sim.results import run_id
    from sim.sweep.experiment import base_config, design_hash, expand_runs, load_experiment

    repo = Path(__file__).resolve().parents[1]
    ids, hashes, paths, tables = [], [], [], []
    for place in ("a/deep/checkout", "b"):
        root = tmp_path / place
        shutil.copytree(repo / "configs", root / "configs")
        (root / "experiments").mkdir()
        shutil.copy(repo / "experiments" / "smoke.toml", root / "experiments" / "smoke.toml")
        cfg = load_config(root / "configs" / "baseline.toml")  # the calibrated base
        paths.append(cfg.calibration.posterior)
        ids.append(run_id(cfg, [0, 1]))
        exp = load_experiment(root / "experiments" / "smoke.toml")
        hashes.append(design_hash(exp, base_config(exp), expand_runs(exp)))
        assert len(posterior_table(cfg)) > 0  # loading still works from the copy
        tables.append(parameter_table(root / "configs" / "baseline.toml"))  # docs/params.md, a report's parameters
    assert paths[0] != paths[1] and Path(paths[0]).is_file() and Path(paths[1]).is_file()
    assert ids[0] == ids[1] and hashes[0] == hashes[1]
    pd.testing.assert_frame_equal(tables[0], tables[1])  # the posterior named as the config names it
    # an edited posterior is a different input: a new id
    post = tmp_path / "b" / "configs" / "baseline_posterior.csv"
    df = pd.read_csv(post)
    df.loc[0, "weight"] *= 2
    df.to_csv(post, index=False)
    assert run_id(load_config(tmp_path / "b" / "configs" / "baseline.toml"), [0, 1]) != ids[0]


def test_a_scenario_keeps_its_own_settings_in_every_draw():
    """functionality_fixed sets two uncertain inputs (golive_shock, fitted; improvement_per_release, a prior):
    every draw keeps them; every other column is the baseline's draw for draw (common draws across scenarios);
    --set holds a key too, and the baseline and a config that declares [calibration] hold none of their keys."""
    from sim.config import config_identity, load_config
    from tests.conftest import ROOT

    base = load_config(ROOT / "configs" / "baseline.toml")
    fixed = load_config(ROOT / "configs" / "functionality_fixed.toml")
    own = ["functionality.golive_shock", "functionality.improvement_per_release"]
    assert not {k for k, v in spec_sources(base).items() if v == "held"}
    assert {k for k, v in spec_sources(fixed).items() if v == "held"} == set(own)
    tb, tf = draw_table(base, 16), draw_table(fixed, 16)
    assert (tf[own].to_numpy() == [0.0, 0.04]).all() and tb[own].iloc[1:].nunique().min() > 8
    pd.testing.assert_frame_equal(tf.drop(columns=own), tb.drop(columns=own))
    assert config_identity(fixed)["held_in_draws"] == own and "held_in_draws" not in config_identity(base)
    # a held key survives with_overrides; --set holds
    assert set(own) <= with_overrides(fixed, {"run.draws": 2}).held
    cli = load_config(ROOT / "configs" / "baseline.toml", ["network.share_images_repeated=0.05"])
    assert (draw_table(cli, 4)["network.share_images_repeated"] == 0.05).all()
    # a rate table set whole holds each of its age bands
    table_keys = [k for k in prior_ranges(base) if k.startswith("network.gp_consultations_per_person_year.")]
    assert table_keys and all(spec_sources(with_overrides(base, {}).with_held(["network.gp_consultations_per_person_year"]))[k]
                              == "held" for k in table_keys)


def test_a_fit_folded_into_a_file_is_drawn_not_held(tmp_path):
    """A calibration's calibrated.toml sets the medians on top of the baseline and declares [calibration]:
    it is the base, so its fitted keys are drawn from its posterior, not held at the medians."""
    from sim.config import load_config
    from tests.conftest import BASELINE

    pd.DataFrame({FITTED[0]: [0.9, 1.1], FITTED[1]: [0.004, 0.006], "weight": [0.5, 0.5]}).to_csv(
        tmp_path / "posterior.csv", index=False)
    (tmp_path / "calibrated.toml").write_text(
        f'extends = "{BASELINE}"\nscenario = "calibrated"\n\n[municipality]\nthreshold_mean = 1.0\n\n'
        '[calibration]\ndate = "2026-12-07"\ndata_end = "2023-12"\nmethod = "test"\nposterior = "posterior.csv"\n',
        encoding="utf-8")
    (tmp_path / "child.toml").write_text('extends = "calibrated.toml"\nscenario = "child"\n\n[financing]\n'
                                         'state_share = 1.0\n', encoding="utf-8")
    cal, child = load_config(tmp_path / "calibrated.toml"), load_config(tmp_path / "child.toml")
    assert not cal.held
    assert child.held == {"financing.state_share"}
    assert set(draw_table(cal, 8)[FITTED[0]].iloc[1:]) == {0.9, 1.1}


def test_a_saved_run_of_a_scenario_keeps_what_it_holds(tmp_path):
    """The manifest records the held keys: the run reloaded, or re-run from its manifest.json, draws the same."""
    from sim.config import load_config
    from tests.conftest import ROOT, SMALL

    cfg = load_config(ROOT / "configs" / "functionality_fixed.toml", SMALL)
    res = api.run(cfg, seeds=[0], draws=2, out=tmp_path, figures=False)
    assert set(res.draws["functionality.improvement_per_release"]) == {0.04}
    back = api.load_results(res.path)
    assert back.config.held == cfg.held and back.config == res.config
    again = api.load_config(res.path / "manifest.json")
    pd.testing.assert_frame_equal(draw_table(again, 2), res.draws)
