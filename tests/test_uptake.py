"""The uptake curve: monotone in GP share, equal endpoints across orders, visible order differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.network import METRIC_COLUMNS, build_network
from sim.region import load_region
from sim.uptake import (
    ORDERS, SEEDED_ORDERS, gain_bands, practices_to_reach, recruitment_order, uptake_curve,
)

GAINS = ("one_record_coverage", "handover_same_record", "information_available", "gain_realized")
LOSSES = ("search_hours", "search_nok", "repeat_imaging", "adverse_events", "loss_nok")


@pytest.fixture(scope="module")
def setup(small_config):
    region = load_region(small_config.region)
    network = build_network(region, small_config)
    df = uptake_curve(small_config, steps=9, seeds=3, region=region, network=network)
    return small_config, region, network, df


def test_table_shape_and_seeds(setup):
    _, _, _, df = setup
    assert list(df.columns[:7]) == ["order", "gp_share", "seed", "draw", "month", "gp_share_achieved", "n_practices_live"]
    assert (df["draw"] == 0).all() and (df["month"] == f"{df['month'].iat[0]}").all()
    assert set(METRIC_COLUMNS) <= set(df.columns)
    for order in ORDERS:
        seeds = sorted(df.loc[df["order"] == order, "seed"].unique())
        assert seeds == ([0, 1, 2] if order in SEEDED_ORDERS else [0])
    assert len(df) == 9 * (3 * len(SEEDED_ORDERS) + len(ORDERS) - len(SEEDED_ORDERS))
    assert np.allclose(sorted(df["gp_share"].unique()), np.linspace(0, 1, 9))


def test_monotone_in_gp_share(setup):
    _, _, _, df = setup
    for _, g in df.groupby(["order", "seed"]):
        g = g.sort_values("gp_share")
        for c in GAINS + ("gp_share_achieved",):
            assert (np.diff(g[c].to_numpy()) >= -1e-12).all(), c
        for c in LOSSES:
            assert (np.diff(g[c].to_numpy()) <= 1e-9).all(), c


def test_endpoints_equal_across_orders(setup):
    _, _, _, df = setup
    for share in (0.0, 1.0):
        ends = df.loc[df["gp_share"] == share, list(METRIC_COLUMNS)]
        assert np.allclose(ends.to_numpy(), ends.iloc[[0]].to_numpy(), rtol=1e-12, atol=1e-12)
    assert (df.loc[df["gp_share"] == 1.0, "gp_share_achieved"] == 1.0).all()
    assert (df.loc[df["gp_share"] == 0.0, "n_practices_live"] == 0).all()


def test_each_target_reached_with_the_fewest_practices(setup):
    _, region, network, df = setup
    gps = region.practices["n_gps"].to_numpy()
    perm = recruitment_order("largest_first", region, network)
    for row in df[df["order"] == "largest_first"].itertuples():
        k = row.n_practices_live
        assert gps[perm[:k]].sum() / gps.sum() >= row.gp_share - 1e-12
        if k > 0:
            assert gps[perm[:k - 1]].sum() / gps.sum() < row.gp_share
    assert practices_to_reach(np.array([2, 2, 1]), 0.4) == 1 and practices_to_reach(np.array([2, 2, 1]), 0.41) == 2


def test_recruitment_orders_follow_their_rule(setup):
    _, region, network, _ = setup
    lists = region.practices["list_patients"].to_numpy()
    assert (np.diff(lists[recruitment_order("largest_first", region, network)]) <= 0).all()
    degree = dict(network.graph().degree(weight="weight"))
    deg = np.array([degree[i] for i in range(len(lists))])
    assert (np.diff(deg[recruitment_order("most_connected_first", region, network)]) <= 0).all()
    perm = recruitment_order("by_municipality", region, network, np.random.default_rng(0))
    munis = region.practices["muni_idx"].to_numpy()[perm]
    assert len(pd.unique(munis)) == len(set(munis)) == int((np.diff(munis) != 0).sum()) + 1  # contiguous blocks
    with pytest.raises(ValueError, match="unknown recruitment order"):
        recruitment_order("alphabetical", region, network)


def test_orders_differ_and_seeds_reproduce(setup):
    cfg, region, network, df = setup
    inner = df[(df["gp_share"] > 0) & (df["gp_share"] < 1)]
    spread = inner.groupby(["gp_share"])["gain_realized"].agg(lambda v: v.max() - v.min())
    assert spread.max() > 1e-3  # the order of recruitment shows in the gain at partial uptake
    assert not inner[inner["order"] == "random"].groupby("seed")["gain_realized"].apply(tuple).duplicated().all()
    again = uptake_curve(cfg, steps=9, seeds=3, region=region, network=network)
    pd.testing.assert_frame_equal(again, df)


def test_bad_arguments(setup):
    cfg, region, network, _ = setup
    with pytest.raises(ValueError, match="unknown recruitment order"):
        uptake_curve(cfg, orders=("random", "by_size"), region=region, network=network)
    with pytest.raises(ValueError, match="steps"):
        uptake_curve(cfg, steps=1, region=region, network=network)
    with pytest.raises(ValueError, match="outside the run"):
        uptake_curve(cfg, month="2040-01", region=region, network=network)


def test_parameter_draws_give_bands_that_hold_the_invariants(setup):
    """The model's parameter draws (sim.draws) give one curve per draw; each stays in [0, 1], rises with GP share
    and stays below 1 with the specialists off; draw 0 is the config itself; bands are ordered."""
    cfg, region, network, df = setup
    curve = uptake_curve(cfg, steps=5, seeds=2, region=region, network=network, draws=2, orders=("random", "largest_first"))
    assert sorted(curve["draw"].unique()) == [0, 1, 2]
    ends = curve[curve["gp_share"] == 1.0].groupby("draw")["search_hours"].first()
    assert ends.nunique() == 3  # the draws move the inputs
    for _, g in curve.groupby(["order", "seed", "draw"]):
        g = g.sort_values("gp_share")
        assert (np.diff(g["gain_realized"].to_numpy()) >= -1e-12).all()
        assert 0.0 <= g["gain_realized"].iat[0] < g["gain_realized"].iat[-1] <= 1.0
    d0 = curve[curve["draw"] == 0].drop(columns="draw").reset_index(drop=True)
    ref = df[df["order"].isin(["random", "largest_first"]) & df["gp_share"].isin([0, 0.25, 0.5, 0.75, 1.0])
             & (df["seed"] < 2)]
    assert np.allclose(sorted(d0["gain_realized"]), sorted(ref["gain_realized"]))
    bands = gain_bands(curve)
    assert (bands["low"] <= bands["median"] + 1e-15).all() and (bands["median"] <= bands["high"] + 1e-15).all()
    assert (bands["seeds_low"] <= bands["seeds_high"]).all()


def test_plot_uptake_curve(setup):
    import matplotlib

    matplotlib.use("Agg")
    from types import SimpleNamespace

    from sim.plots.uptake import fig_uptake

    _, _, _, df = setup
    fig = fig_uptake(SimpleNamespace(uptake_curve=df), lang="nb", metric="gain_realized")
    assert len(fig.axes[0].get_lines()) == len(ORDERS)
    with pytest.raises(ValueError, match="metric"):
        fig_uptake(SimpleNamespace(uptake_curve=df), metric="no_such_metric")


def test_uptake_curve_command_writes_table_and_figures(tmp_path):
    import subprocess
    import sys

    from .conftest import BASELINE, ROOT, SMALL

    sets = [a for kv in SMALL for a in ("--set", kv)]
    res = subprocess.run([sys.executable, "-m", "sim", "uptake-curve", str(BASELINE), "--steps", "5", "--seeds", "2",
                          "--out", str(tmp_path), *sets], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    (d,) = (tmp_path / "baseline").glob("baseline-synthetic-*-uptake-curve-*")  # its run id (issue 24)
    df = pd.read_csv(d / "uptake_curve.csv")
    assert set(df["order"]) == set(ORDERS) and sorted(df["gp_share"].unique()) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert (d / "figures" / "uptake_gain_realized_en.pdf").exists()
    bad = subprocess.run([sys.executable, "-m", "sim", "uptake-curve", str(BASELINE), "--steps", "1", "--out", str(tmp_path / "x")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and not (tmp_path / "x").exists()
