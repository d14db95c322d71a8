"""Parameter draws (sim.draws): the design, its reproducibility, and runs over draws x seeds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import api
from sim.config import ConfigError, config_to_dict, get_dotted, prior_ranges, with_overrides
from sim.draws import draw_config, draw_configs, draw_table, unit_points


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
                  spec={"economics.cost_per_adverse_event_nok": stats.uniform(40_000, 110_000)})
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
