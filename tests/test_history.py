"""The history loader and the observed series derived from it (source note, helseplattformen_history.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.history import (checkpoints, golive_months, load_history, observed_series, option_decision_points,
                         HISTORY_END)
from sim.region import load_region


@pytest.fixture(scope="module")
def observed(baseline_config):
    return observed_series(baseline_config, "2020-01")


def test_load_history_is_typed():
    h = load_history()
    assert str(h["date"].dtype).startswith("datetime64")
    assert set(h["date_precision"]) == {"day", "month", "year"}
    knr = h["kommunenummer"].dropna()
    assert len(knr) > 20 and knr.str.fullmatch(r"\d{4}").all()
    assert h["value"].dtype == float
    # month-only dates sit on the first of the month; day dates keep their day
    month_only = h[h["date_precision"] == "month"]
    assert (month_only["date"].dt.day == 1).all()
    # year-only dates (annual figures) sit on 1 January
    year_only = h[h["date_precision"] == "year"]
    assert len(year_only) and ((year_only["date"].dt.month == 1) & (year_only["date"].dt.day == 1)).all()
    assert (h["month"] == h["date"].dt.to_period("M").dt.to_timestamp()).all()
    assert h["date"].is_monotonic_increasing
    assert h["month"].max() <= pd.Timestamp(f"{HISTORY_END}-01")


def test_load_history_returns_a_copy():
    h = load_history()
    h.loc[0, "actor"] = "changed"
    assert load_history().loc[0, "actor"] != "changed"


def test_trondheim_went_live_first_and_alone():
    live = golive_months()
    assert live.index.is_unique
    assert live.iloc[0] == pd.Timestamp("2022-05-01") and live.index[0] == "5001"
    assert (live.iloc[1:] > pd.Timestamp("2022-05-01")).all()


def test_count_matches_every_cumulative_checkpoint(observed):
    """The derived count equals each checkpoint row (1, 7, 9, 10, 19) from its month on to the next."""
    cp = checkpoints()
    assert list(cp["value"]) == [1, 7, 9, 10, 19]
    series = observed.set_index("month")["n_municipalities_live"]
    for i, row in cp.iterrows():
        until = cp["month"].iloc[i + 1] if i + 1 < len(cp) else series.index.max() + pd.offsets.MonthBegin(1)
        window = series[(series.index >= row["month"]) & (series.index < until)]
        assert len(window) and (window == row["value"]).all(), row["month"]
    assert (series[series.index < pd.Timestamp("2022-05-01")] == 0).all()


@pytest.mark.parametrize("month, share", [("2022-05", 0.28), ("2022-11", 0.33), ("2023-02", 0.375),
                                          ("2023-04", 0.465), ("2023-11", 0.60), ("2023-12", 0.60)])
def test_shares_match_the_worked_example(observed, month, share):
    """Source note worked example, within a point (its denominator lacked Os: well under a point)."""
    got = observed.set_index("month").at[pd.Timestamp(f"{month}-01"), "share_residents_municipalities_live"]
    assert abs(got - share) < 0.01


def test_share_uses_a_fixed_denominator(observed, baseline_config):
    """share(t) * population of the region = population of the live municipalities, every month."""
    region = load_region(baseline_config.region)
    pop = region.municipalities.set_index("kommunenummer")["population"]
    live = golive_months()
    for _, r in observed.iterrows():
        live_now = live[live <= r["month"]].index
        assert r["share_residents_municipalities_live"] * pop.sum() == pytest.approx(pop.loc[live_now].sum())


def test_series_are_monotone_and_bounded(observed):
    for col in ("n_municipalities_live", "share_residents_municipalities_live", "n_gp_offices_live_lower"):
        assert (np.diff(observed[col].to_numpy()) >= 0).all()
    assert observed["share_residents_municipalities_live"].between(0, 1).all()
    assert observed["n_municipalities_live"].max() <= 66


def test_gp_offices_lower_bound(observed):
    s = observed.set_index("month")["n_gp_offices_live_lower"]
    assert (s[s.index <= pd.Timestamp("2022-04-01")] == 0).all()
    assert (s[s.index >= pd.Timestamp("2022-05-01")] == 1).all()


def test_time_axis(observed):
    assert observed["t"].tolist() == list(range(48))
    assert observed["month"].iloc[0] == pd.Timestamp("2020-01-01")
    assert observed["month"].iloc[-1] == pd.Timestamp("2023-12-01")


def test_start_month_shifts_t_not_values(baseline_config, observed):
    later = observed_series(baseline_config, "2022-01")
    assert later["t"].iloc[0] == 0 and len(later) == 24
    merged = later.merge(observed, on="month", suffixes=("", "_full"))
    assert (merged["n_municipalities_live"] == merged["n_municipalities_live_full"]).all()


def test_no_observation_after_the_history_ends(baseline_config):
    with pytest.raises(ValueError, match="after the history"):
        observed_series(baseline_config, "2020-01", "2024-01")
    with pytest.raises(ValueError, match="before start_month"):
        observed_series(baseline_config, "2023-06", "2023-01")


def test_synthetic_region_is_refused(small_config):
    with pytest.raises(ValueError, match="real region"):
        observed_series(small_config, "2020-01")


def test_region_needs_start_month(baseline_config):
    region = load_region(baseline_config.region)
    with pytest.raises(ValueError, match="start_month"):
        observed_series(region)
    assert len(observed_series(region, "2023-01")) == 12


def test_option_decision_points():
    pts = option_decision_points()
    assert list(pts["count"]) == [1, 2, 19, 34]
    assert list(pts["lower_bound"]) == [False, False, False, True]
    assert pts["month"].is_monotonic_increasing
