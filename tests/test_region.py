"""Region tables: the real region matches its CSV; the synthetic generator scales to Norway."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.config import load_config
from sim.region import AGE_BANDS, largest_remainder, load_region, region_age_profile, spread_rates_to_bands

from .conftest import BASELINE


def test_real_region_matches_the_csv(baseline_config):
    csv = pd.read_csv(BASELINE.parents[1] / "sim" / "data" / "midt_norge_municipalities.csv", dtype={"kommunenummer": str})
    r = load_region(baseline_config.region)
    assert len(r.municipalities) == len(csv) == 66
    assert r.population == csv["population_2023"].sum() == 750_070
    assert (r.municipalities["kommunenummer"].str.len() == 4).all()
    assert r.municipalities["hospital_trust"].nunique() == 3 and len(r.hospitals) == 9
    # every resident is in exactly one cohort, by municipality and by age band
    by_muni = r.residents.groupby("muni_idx")["persons"].sum().to_numpy()
    np.testing.assert_array_equal(by_muni, r.municipalities["population"].to_numpy())
    # list patients sum to the municipal population; GPs from the mean list length
    lists = r.practices.groupby("muni_idx")["list_patients"].sum().to_numpy()
    np.testing.assert_array_equal(lists, r.municipalities["population"].to_numpy())
    assert abs(r.n_gps - 750_070 / 1010) < 15
    small = r.municipalities["population"] < 2000
    offices = r.practices.groupby("muni_idx").size()
    assert (offices[small[small].index] == 1).all()


def test_population_year_2020():
    cfg = load_config(BASELINE, ["region.population_year=2020"])
    assert load_region(cfg.region).population == 737_257


def test_office_sizes_match_the_sourced_distribution(baseline_config):
    norway = load_config(BASELINE, ["region.kind=synthetic", "region.synthetic_municipalities=356",
                                    "region.synthetic_population=5475240"])
    r = load_region(norway.region)
    s = r.summary()
    assert s["municipalities"] == 356 and s["residents"] == 5_475_240
    assert abs(s["gps"] - 5224) / 5224 < 0.10 and abs(s["gp_offices"] - 1331) / 1331 < 0.10
    sizes = r.practices["n_gps"]
    assert 3.4 < sizes.mean() < 4.3
    assert 0.15 < (sizes <= 2).mean() < 0.35 and 0.07 < (sizes >= 7).mean() < 0.2


def test_region_is_deterministic_in_its_seed(small_config):
    a, b = load_region(small_config.region), load_region(small_config.region)
    pd.testing.assert_frame_equal(a.practices, b.practices)
    other = load_region(small_config.region.model_copy(update={"seed": 99}))
    assert not a.practices["salaried"].equals(other.practices["salaried"]) or len(a.practices) != len(other.practices)


@given(total=st.integers(0, 10**9), weights=st.lists(st.floats(0, 1e6), min_size=1, max_size=30))
def test_largest_remainder_sums_exactly(total, weights):
    w = np.asarray(weights)
    out = largest_remainder(total, w)
    assert out.sum() == (total if w.sum() > 0 else 0)
    assert (out >= 0).all()
    if w.sum() > 0:
        assert np.all(np.abs(out - total * w / w.sum()) < 1 + 1e-6)


def test_spreading_rates_by_single_year():
    rates = {"0-17": 1.0, "18-44": 2.0, "45-66": 3.0, "67-79": 4.0, "80+": 5.0}
    out = spread_rates_to_bands(rates)
    # 16-19 is two years at 1.0 and two at 2.0; 30-49 is 15 years at 2.0 and 5 at 3.0
    assert out[AGE_BANDS.index("16-19")] == pytest.approx(1.5)
    assert out[AGE_BANDS.index("30-49")] == pytest.approx((15 * 2 + 5 * 3) / 20)
    assert out[AGE_BANDS.index("90+")] == 5.0
    same = {b: float(i) for i, b in enumerate(AGE_BANDS)}
    np.testing.assert_allclose(spread_rates_to_bands(same), np.arange(len(AGE_BANDS)))
    assert region_age_profile().sum() == pytest.approx(1.0)


def test_bad_age_bands_are_config_errors(tmp_path):
    from sim.config import ConfigError

    p = tmp_path / "x.toml"
    p.write_text(f'extends = "{BASELINE.as_posix()}"\n[network]\nshare_receiving_home_care = {{ "0-60" = 0.1, "67+" = 0.2 }}\n')
    with pytest.raises(ConfigError, match="network.share_receiving_home_care: age bands must be contiguous"):
        load_config(p)
