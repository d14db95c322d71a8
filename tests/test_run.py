"""`onerecord run` end to end: files, columns, figures, reproducibility, atomic writes, API = CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import api
from sim.results import TABLE_FILES, atomic_dir, read_run

from .conftest import BASELINE, ROOT, SMALL

SETS = [a for kv in SMALL for a in ("--set", kv)]
DOCUMENTED_TS = [
    "scenario", "seed", "t", "month", "level", "key", "n_adopted", "n_total", "share_adopted", "share_gps",
    "functionality", "n_gp_offices_live", "n_gps_live", "share_gp_offices", "share_list_patients",
    "n_municipalities_decided", "n_municipalities_live", "share_municipalities_live",
    "share_residents_municipalities_live", "n_hospitals_live", "share_hospitals_live", "one_record_coverage",
    "handover_same_record", "information_available", "search_hours", "search_hours_gp", "search_hours_municipal",
    "search_hours_hospital", "search_hours_specialist", "search_nok", "adverse_events", "gain_realized",
    "status_quo_information", "repeat_imaging", "adverse_events_health_nok", "loss_nok", "gain_nok", "harm_nok",
    "net_benefit_nok",
]
SHARES = ["share_adopted", "share_gps", "functionality", "share_gp_offices", "share_list_patients",
          "share_municipalities_live", "share_residents_municipalities_live", "share_hospitals_live",
          "one_record_coverage", "handover_same_record", "information_available", "gain_realized"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    """One small CLI run shared by the tests of this module (2 seeds, small synthetic region)."""
    out = tmp_path_factory.mktemp("results")
    res = cli("run", str(BASELINE), "--seeds", "2", "--out", str(out), "--quiet", *SETS)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("wrote ") and res.stdout.count("\n") == 1
    (d,) = list((out / "baseline").iterdir())
    return d


def test_run_writes_every_file_and_figure(run_dir):
    for f in TABLE_FILES.values():
        assert (run_dir / f).exists(), f
    man = json.loads((run_dir / "manifest.json").read_text())
    for k in ("config", "replicates", "root_seed", "package_version", "git_commit", "started", "ended", "host"):
        assert k in man
    assert man["replicates"] == [0, 1] and man["run_id"] == run_dir.name
    figs = {p.name for p in (run_dir / "figures").iterdir()}
    for name in ("adoption", "coverage", "gain_vs_uptake", "cost_per_inhabitant", "who_pays_who_gains"):
        assert {f"{name}_en.pdf", f"{name}_en.png"} <= figs
    assert not list(run_dir.parent.glob(".tmp-*"))


def test_run_writes_the_provider_graph_with_channel_volumes(run_dir, small_config):
    """network.graphml beside the tables: every provider a node, each hand-over channel's events per year on the
    edges, equal to the network the run used."""
    import networkx as nx

    from sim.network import build_network
    from sim.region import load_region

    g = nx.read_graphml(run_dir / "network.graphml")
    net = build_network(load_region(small_config.region), small_config)
    assert g.number_of_nodes() == net.n_providers
    assert {d["kind"] for _, d in g.nodes(data=True)} == set(net.providers["kind"])
    for h, total in net.handovers.groupby("handover")["events_per_year"].sum().items():
        assert sum(d.get(f"events_{h}", 0.0) for *_, d in g.edges(data=True)) == pytest.approx(total, rel=1e-9), h


def test_summary_sums_the_gain_and_harm_flows(run_dir):
    """Flows declared in the runner reach summary.csv: net benefit = gain - harms, every year's sum."""
    from sim.runner import FLOW_COLUMNS

    s = pd.read_csv(run_dir / "summary.csv")
    for c in FLOW_COLUMNS:
        assert f"{c}_2030" in s and f"{c}_end" in s, c
    assert np.allclose(s["net_benefit_nok_2030"], s["gain_nok_2030"] - s["harm_nok_2030"])
    assert ((s["gain_realized_2030"] >= 0) & (s["gain_realized_2030"] <= 1)).all()


def test_timeseries_is_tidy_with_documented_columns(run_dir):
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    assert set(DOCUMENTED_TS) <= set(ts.columns)
    assert set(ts["level"]) == {"region", "actor_type", "municipality"}
    assert ts.duplicated(["scenario", "seed", "month", "level", "key"]).sum() == 0
    months = pd.to_datetime(ts["month"])
    assert (months.dt.day == 1).all() and months.min() == pd.Timestamp("2020-01-01")
    assert ts["t"].max() == 191
    for col in SHARES:
        v = ts[col].dropna()
        assert ((v >= 0) & (v <= 1)).all(), col
    muni = ts[ts["level"] == "municipality"]
    assert (muni["key"].str.len() == 4).all()
    # adoption is a stock: never falls
    reg = ts[ts["level"] == "region"].sort_values(["seed", "t"])
    for col in ("n_gps_live", "n_municipalities_live", "n_hospitals_live"):
        assert (reg.groupby("seed")[col].diff().dropna() >= 0).all(), col


def test_summary_has_report_year_and_end_columns(run_dir):
    s = pd.read_csv(run_dir / "summary.csv")
    assert list(s["seed"]) == [0, 1]
    for col in ("share_gps_2030", "one_record_coverage_2030", "gain_realized_2030", "share_gps_end",
                "nok_per_inhabitant_median_municipality_2030", "search_hours_2030"):
        assert col in s
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    reg = ts[(ts["level"] == "region") & (ts["seed"] == 0)]
    dec = reg[pd.to_datetime(reg["month"]) == pd.Timestamp("2030-12-01")]
    assert s.loc[0, "share_gps_2030"] == pytest.approx(float(dec["share_gps"].iloc[0]), rel=1e-12)
    in2030 = reg[pd.to_datetime(reg["month"]).dt.year == 2030]
    assert s.loc[0, "search_hours_2030"] == pytest.approx(float(in2030["search_hours"].sum()), rel=1e-12)


def test_every_declared_monthly_column_reaches_the_summary(run_dir):
    """Each monthly column is declared once with its aggregation (sim.model.MONTHLY_AGGREGATION):
    every stock is the December value and every flow the year's sum, for the report year and the
    last 12 months, and no monthly column is left out of summary.csv."""
    from sim.model import MONTHLY_AGGREGATION

    s = pd.read_csv(run_dir / "summary.csv")
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    reg = ts[(ts["level"] == "region") & (ts["seed"] == 1)]
    monthly_cols = [c for c in reg.columns if c in MONTHLY_AGGREGATION]
    assert set(monthly_cols) == set(MONTHLY_AGGREGATION)  # the declaration is exactly the model's columns
    months = pd.to_datetime(reg["month"])
    for suffix, window in (("2030", months.dt.year == 2030), ("end", months >= months.max() - pd.DateOffset(months=11))):
        sel = reg[window.to_numpy()]
        assert len(sel) == 12
        for col, agg in MONTHLY_AGGREGATION.items():
            if agg == "index":
                continue
            want = float(sel[col].iloc[-1]) if agg == "stock" else float(sel[col].sum())
            assert s.loc[1, f"{col}_{suffix}"] == pytest.approx(want, rel=1e-12, abs=1e-12), (col, suffix)
    assert {"search_hours_gp_2030", "search_hours_specialist_end"} <= set(s.columns)  # the per-kind flows, too


def test_manifest_reproduces_the_run_and_api_equals_cli(run_dir, tmp_path):
    res = api.load_results(run_dir)
    again = api.run(res.config, seeds=res.manifest["replicates"])
    saved = read_run(run_dir)
    for name in TABLE_FILES:
        fresh = getattr(again, name)
        disk = getattr(saved, name)
        assert list(fresh.columns) == list(disk.columns), name
        if name != "timeseries":  # CSV round trip: compare values with the file's dtypes
            buf = tmp_path / f"{name}.csv"
            fresh.to_csv(buf, index=False)
            fresh = pd.read_csv(buf, dtype={"kommunenummer": str, "key": str})
        pd.testing.assert_frame_equal(fresh.reset_index(drop=True), disk.reset_index(drop=True), check_dtype=False)
    assert again.run_id == run_dir.name


def test_rerun_from_manifest_gives_identical_parquet(run_dir, tmp_path):
    res = cli("run", str(run_dir / "manifest.json"), "--out", str(tmp_path), "--quiet")
    assert res.returncode == 0, res.stderr
    again = tmp_path / "baseline" / run_dir.name  # same config and seeds: same run id
    assert (again / "timeseries.parquet").read_bytes() == (run_dir / "timeseries.parquet").read_bytes()
    pd.testing.assert_frame_equal(pd.read_csv(again / "summary.csv"), pd.read_csv(run_dir / "summary.csv"))


def test_jobs_do_not_change_results(small_config):
    one = api.run(small_config, seeds=[0, 1, 2], jobs=1)
    two = api.run(small_config, seeds=[0, 1, 2], jobs=2)
    pd.testing.assert_frame_equal(one.timeseries, two.timeseries)
    pd.testing.assert_frame_equal(one.summary, two.summary)
    assert not one.summary.iloc[0].equals(one.summary.iloc[1])  # seeds differ


def test_plot_rebuilds_figures_from_saved_results(run_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    shutil.rmtree(copy / "figures")
    res = cli("plot", str(copy), "--lang", "nb")
    assert res.returncode == 0, res.stderr
    assert (copy / "figures" / "adoption_nb.pdf").exists() and (copy / "figures" / "who_pays_who_gains_nb.png").exists()
    bad = cli("plot", str(tmp_path))
    assert bad.returncode == 2 and "not a saved result" in bad.stderr


def test_compare_prints_key_figures(run_dir, tmp_path):
    res = cli("compare", str(run_dir), str(run_dir), "--out", str(tmp_path / "cmp"))
    assert res.returncode == 0, res.stderr
    (folder,) = (tmp_path / "cmp" / "compare").iterdir()  # <runs compared>-<hash>
    assert folder.name.startswith(f"{run_dir.name.rsplit('-', 1)[0]}-vs-")
    assert "share_gps_2030" in res.stdout and (folder / "compare_en.pdf").exists()
    table = pd.read_csv(folder / "compare.csv")
    assert {"scenario", "figure", "median", "p05", "p95", "seeds"} <= set(table.columns)


def test_atomic_dir_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "scen" / "run"
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "half.csv").write_text("x")
            raise RuntimeError("interrupted")
    assert not target.exists() and not (tmp_path / "scen").exists()  # no empty scenario folder either (issue 24)


def _wait_for_progress(fd: int, proc: subprocess.Popen, guard_s: float = 300.0) -> str:
    """Read the progress bar the command draws on a terminal (``fd``: the pty's master side) until it
    shows a finished seed ("k/400" with k >= 1); the guard only stops a hang."""
    import os
    import re

    seen, deadline = "", time.monotonic() + guard_s
    while time.monotonic() < deadline and proc.poll() is None:
        if select_ready(fd):
            try:
                seen += os.read(fd, 65536).decode("utf-8", "replace")
            except OSError:
                break
            if any(int(k) >= 1 for k in re.findall(r"(\d+)/400", seen)):
                return seen
    raise AssertionError(f"no progress shown (exit {proc.poll()}): {seen[-500:]!r}")


@pytest.mark.slow
def test_ctrl_c_leaves_no_half_written_run(tmp_path):
    """Ctrl-C once the run shows progress (a seed done of far more than it can finish): exit 130,
    one line, nothing under --out."""
    import os
    import pty

    out = tmp_path / "out"
    master, slave = pty.openpty()  # the progress bar (rich, on stdout) is drawn on a terminal only
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", str(BASELINE), "--seeds", "400", "--out", str(out)],
                            cwd=ROOT, stdout=slave, stderr=subprocess.PIPE, text=True)
    os.close(slave)
    try:
        _wait_for_progress(master, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        os.close(master)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    leftovers = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert leftovers == []


def select_ready(fd: int) -> bool:
    """Whether ``fd`` has data to read now."""
    import select

    return bool(select.select([fd], [], [], 0.2)[0])


def test_validate_bass_writes_curves_side_by_side(tmp_path):
    res = cli("validate-bass", "experiments/validation/bass.toml", "--seeds", "3", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    (d,) = (tmp_path / "bass_validation").glob("bass_validation-*validate-bass-*")  # its run id (issue 24)
    df = pd.read_csv(d / "bass_curves.csv")
    assert {"t_years", "share_mean", "bass_cdf", "bass_discrete", "share_se"} <= set(df.columns)
    assert (d / "figures" / "bass_en.pdf").exists()
    not_bass = cli("validate-bass", str(BASELINE), "--seeds", "3", "--out", str(tmp_path / "x"))
    assert not_bass.returncode == 2 and "not the Bass special case" in not_bass.stderr
    assert not (tmp_path / "x").exists()
