"""The position-paper report: built from saved results alone, figures present, both languages,
every quoted number traceable to the result tables (experiments/position_paper_quick.toml)."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import string
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError
from sim.api import report
from sim.paper import load_paper, quick_version
from sim.report import TEXT, build_report, fmt, uptake_gaps
from sim.report.bands import band, parameter_share
from sim.report.tables import coverage_split, drivers_verdict, municipal_payback_year, uptake_gap_runs

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "experiments" / "position_paper_quick.toml"
FULL = ROOT / "experiments" / "position_paper.toml"

# Modules the build path must never need: blocked in a subprocess (None in sys.modules -> ImportError).
MODEL_MODULES = ["sim.model", "sim.runner", "sim.agents", "sim.network", "sim.economics", "sim.uptake", "sim.api",
                 "mesa"]


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """The quick pack run once (English report); returns (out root, pack folder)."""
    out = tmp_path_factory.mktemp("report")
    report(QUICK, out, "en", progress=False)
    return out, out / "position_paper_quick"


def _inputs(root: Path) -> dict:
    return json.loads((root / "report_inputs.json").read_text(encoding="utf-8"))


def _baseline_dir(root: Path) -> Path:
    inputs = _inputs(root)
    return root / inputs["scenarios"][inputs["experiment"]["baseline"]]


# --------------------------------------------------------------------------- files


def test_every_figure_the_report_references_exists(pack):
    _, root = pack
    rep = root / "report_en"
    md = (rep / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(links) >= 7  # uptake, adoption, heatmap, cost, who pays, net by actor, drivers
    for link in links:
        assert not link.startswith(("http:", "https:", "/")), link
        assert (rep / link).is_file(), link
        assert (rep / link).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (rep / "report.html").read_text(encoding="utf-8")
    srcs = re.findall(r'<img[^>]*\bsrc="([^"]+)"', page)
    assert len(srcs) == len(links)
    for src in srcs:
        head, data = src.split(",", 1)
        assert head == "data:image/png;base64"
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    # self-contained: no scripts, no stylesheets or anything else fetched
    assert "<script" not in page and "<link" not in page
    assert not re.search(r'(src|href)="(?!data:)', page)


def test_report_builds_from_saved_results_with_the_model_blocked(pack):
    _, root = pack
    code = (
        "import sys\n"
        f"for m in {MODEL_MODULES!r}:\n"
        "    sys.modules[m] = None\n"
        "from sim.report import build_report\n"
        f"for lang in ('nb', 'en'):\n"
        f"    print(build_report({str(root)!r}, lang))\n"
        f"assert all(sys.modules[m] is None for m in {MODEL_MODULES!r})\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "MPLBACKEND": "Agg"}, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    nb = (root / "report_nb" / "report.md").read_text(encoding="utf-8")
    assert nb.startswith(f"# {TEXT['nb']['smoke_title']}: {TEXT['nb']['title']}")
    for key in ("q1_title", "q2_title", "q3_title", "q4_title", "methods_title", "params_title"):
        assert TEXT["nb"][key] in nb and TEXT["en"][key] not in nb
    assert '<html lang="nb">' in (root / "report_nb" / "report.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- numbers


def test_quoted_numbers_equal_the_result_tables(pack):
    _, root = pack
    y = _inputs(root)["report_year"]
    summary = pd.read_csv(_baseline_dir(root) / "summary.csv")
    gp = float(summary[f"share_gps_{y}"].median())
    numbers = json.loads((root / "report_en" / "numbers.json").read_text(encoding="utf-8"))
    assert numbers["base_gp"] == pytest.approx(gp, rel=1e-12)
    md = (root / "report_en" / "report.md").read_text(encoding="utf-8")
    assert f"Baseline GP uptake in {y}: {fmt(gp, 'pct', 'en')} of GPs" in md

    # cost per inhabitant: each run's median municipality (joined, year y), then the median over runs
    cm = pd.read_csv(_baseline_dir(root) / "costs_municipality.csv", dtype={"kommunenummer": str})
    cm = cm[(cm["year"] == y) & cm["joined"].astype(bool)]
    per_run = cm.groupby(["draw", "seed"])["net_cost_nok_per_inhabitant"].median()
    assert numbers["cost_median"] == pytest.approx(per_run.median(), rel=1e-12)
    assert numbers["cost_median_lo"] == pytest.approx(per_run.quantile(0.05), rel=1e-12)
    assert f"{fmt(per_run.median(), 'nok', 'en')} NOK per inhabitant" in md


def test_heatmap_cell_at_the_baseline_values_repeats_the_baseline_runs(pack):
    """Same seed rule and root seed: the grid's baseline cell and the baseline scenario are the same runs."""
    from sim.sweep import open_dataset

    _, root = pack
    inputs = _inputs(root)
    h, y = inputs["heatmap"], inputs["report_year"]
    runs = open_dataset(root / h["dir"]).to_table().to_pandas()
    cfg = json.loads((_baseline_dir(root) / "manifest.json").read_text(encoding="utf-8"))["config"]
    x0, y0 = cfg["gp_price"]["licence_nok_per_gp_year"], cfg["functionality"]["improvement_per_release"]
    cell = runs[np.isclose(runs[h["x"]], x0) & np.isclose(runs[h["y"]], y0)].sort_values("replicate")
    summary = pd.read_csv(_baseline_dir(root) / "summary.csv").query("draw == 0").sort_values("seed")  # draw 0: as given
    assert len(cell) == len(summary) > 0
    np.testing.assert_allclose(cell[f"share_gps_{y}"].to_numpy(), summary[f"share_gps_{y}"].to_numpy(), rtol=1e-12)


def test_numbers_follow_the_data_not_the_text(pack, tmp_path):
    """Change a saved table, rebuild: the text quotes the new value."""
    out, root = pack
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    croot = copy / root.name
    y = _inputs(croot)["report_year"]
    path = _baseline_dir(croot) / "summary.csv"
    summary = pd.read_csv(path)
    summary[f"share_gps_{y}"] = 0.4321
    summary.to_csv(path, index=False)
    md = build_report(croot, "en").read_text(encoding="utf-8")
    assert f"Baseline GP uptake in {y}: {fmt(0.4321, 'pct', 'en')} of GPs" in md
    numbers = json.loads((croot / "report_en" / "numbers.json").read_text(encoding="utf-8"))
    assert numbers["base_gp"] == pytest.approx(0.4321)


def test_templates_hold_no_digits_and_match_across_languages():
    fields = {}
    for lang, texts in TEXT.items():
        for key, template in texts.items():
            assert not re.search(r"\d", re.sub(r"\{[^}]*\}", "", template)), f"{lang}.{key} types a number: {template!r}"
        fields[lang] = {k: {f for _, f, _, _ in string.Formatter().parse(t) if f} for k, t in texts.items()}
    assert fields["en"] == fields["nb"]


def test_fmt_formats_by_language():
    assert fmt(0.1234, "pct", "en") == "12.3%"
    assert fmt(0.1234, "pct", "nb") == "12,3\u202f%"
    assert fmt(1234567.4, "nok", "en") == "1,234,567"
    assert fmt(1234567.4, "nok", "nb") == "1\u202f234\u202f567"
    assert fmt(-2.5e8, "mnok", "en") == "-250"
    assert fmt(-0.0001, "pct", "en") == "0.0%"  # no "-0.0%"
    assert fmt(float("nan"), "pct", "nb") == "–"
    assert fmt(0.05, "num", "nb") == "0,05" and fmt(60000.0, "num", "en") == "60,000"
    with pytest.raises(ValueError):
        fmt(1.0, "furlongs", "en")


def test_uptake_gaps_by_hand():
    """gain = s for one order, s^2 for the other (two seeds around it): gap at s is s - s^2."""
    shares = np.linspace(0, 1, 5)
    rows = [{"order": "largest_first", "gp_share": s, "seed": 0, "gain_realized": s} for s in shares]
    rows += [{"order": "random", "gp_share": s, "seed": k, "gain_realized": s ** 2 + d}
             for s in shares for k, d in ((0, -0.01), (1, 0.0), (2, 0.01))]
    gaps = uptake_gaps(pd.DataFrame(rows), [0.25, 0.5, 0.75])
    at = gaps.set_index(["share", "order"])["value"]
    assert at[(0.5, "random")] == pytest.approx(0.25)
    assert at[(0.5, "largest_first")] == pytest.approx(0.5)
    assert gaps.groupby("share")["gap"].first().to_dict() == pytest.approx({0.25: 0.1875, 0.5: 0.25, 0.75: 0.1875})


# --------------------------------------------------------------------------- running and resuming


def test_second_run_skips_what_is_saved(pack):
    out, root = pack
    manifests = sorted(root.glob("runs/*/*/manifest.json"))
    before = {p: p.stat().st_mtime_ns for p in manifests}
    sens = root / _inputs(root)["sensitivity"] / "indices.csv"
    sens_before = sens.stat().st_mtime_ns
    said: list[str] = []
    report(QUICK, out, "en", progress=False, say=said.append)
    assert {p: p.stat().st_mtime_ns for p in manifests} == before
    assert sens.stat().st_mtime_ns == sens_before
    assert sum("saved" in s for s in said) == len(manifests) + 3  # scenarios, uptake curve, sensitivity, Bass


def test_cli_rebuild_only_and_bad_input(pack, tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    out, root = pack
    runner = CliRunner()
    res = runner.invoke(app, ["report", str(QUICK), "--lang", "nb", "--out", str(out), "--rebuild-only", "--quiet"])
    assert res.exit_code == 0, res.output
    assert (root / "report_nb" / "report.html").is_file()
    res = runner.invoke(app, ["report", str(QUICK), "--lang", "de", "--out", str(out)])
    assert res.exit_code == 2 and "--lang" in res.output
    empty = tmp_path / "empty"
    res = runner.invoke(app, ["report", str(QUICK), "--out", str(empty), "--rebuild-only"])
    assert res.exit_code == 2 and "no saved results" in res.output
    assert not empty.exists()


# --------------------------------------------------------------------------- the experiment file


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "paper.toml"
    p.write_text(text.replace("../configs/", f"{ROOT}/configs/").replace(
        '"sensitivity_smoke.toml"', f'"{ROOT}/experiments/sensitivity_smoke.toml"').replace(
        '"validation/bass.toml"', f'"{ROOT}/experiments/validation/bass.toml"'), encoding="utf-8")
    return p


@pytest.mark.parametrize("change, where", [
    (("seeds = 2", "seeds = 2\nseedz = 3"), "seedz: unknown key"),
    (('adoption_scenarios = ["baseline", "gp_agreement", "gp_all_levers"]',
      'adoption_scenarios = ["baseline", "gp_agreemnt"]'), "adoption_scenarios.1"),
    (("gp_price.licence_nok_per_gp_year", "gp_price.licence_nok_per_gp_yr"), "heatmap.x"),
    (("levels = [0.0, 0.02, 0.06]", "levels = [-1.0, 0.02, 0.06]"), "heatmap.y"),
    (("steps = 5", "steps = 1"), "uptake_curve.steps"),
    (("at = [0.25, 0.5, 0.75]", "at = [0.25, 1.5]"), "uptake_curve.at.1"),
    (('gp_agreement = "../configs/gp_agreement.toml"', 'gp_agreement = "../configs/nope.toml"'),
     "scenarios.gp_agreement: file not found"),
])
def test_bad_experiment_names_file_and_key_and_writes_nothing(tmp_path, change, where):
    text = QUICK.read_text(encoding="utf-8")
    assert change[0] in text
    path = _write(tmp_path, text.replace(change[0], change[1], 1))
    with pytest.raises(ConfigError) as err:
        report(path, tmp_path / "out", "en", progress=False)
    assert str(err.value).startswith(str(path)) and where in str(err.value), str(err.value)
    assert not (tmp_path / "out").exists()


def test_quick_version_of_the_default_experiment():
    paper = load_paper(FULL)
    q = quick_version(paper)
    assert q.name == f"{paper.name}-quick" and q.seeds == paper.quick.seeds
    for full_axis, quick_axis in ((paper.heatmap.x, q.heatmap.x), (paper.heatmap.y, q.heatmap.y)):
        assert len(quick_axis.levels) == paper.quick.heatmap_levels
        assert quick_axis.levels[0] == full_axis.levels[0] and quick_axis.levels[-1] == full_axis.levels[-1]
        assert set(quick_axis.levels) <= set(full_axis.levels)
    assert q.sensitivity.samples == paper.quick.sensitivity_samples
    assert set(paper.adoption_scenarios) | set(paper.financing_scenarios) <= set(paper.scenarios)


def test_norwegian_report_names_parameters_not_keys(pack):
    """Prose and captions use display names (sim.plots.labels); a raw dotted key appears only as code or in
    the parameter table's rows."""
    from sim.config import iter_parameters

    out, root = pack
    report(QUICK, out, "nb", rebuild_only=True, progress=False)
    md = (root / "report_nb" / "report.md").read_text(encoding="utf-8")
    prose = re.sub(r"`[^`]*`", "", "\n".join(line for line in md.splitlines() if not line.startswith("|")))
    raw = sorted(k for k, _ in iter_parameters() if "." in k and k in prose)
    assert not raw, raw


# --------------------------------------------------------------------------- bands over draws x seeds


def test_parameter_share_analytic_case():
    """Two draws with means +1 and -1, two seeds each at +-1 around them: y = 2, 0, 0, -2.
    Total sum of squares 8, between draws 2 x 2 x 1^2 = 4: half the variance is the parameters'."""
    assert parameter_share([2.0, 0.0, 0.0, -2.0], [0, 0, 1, 1]) == pytest.approx(0.5)
    # seeds that agree within each draw: all of it; one draw, or equal draw means: none of it
    assert parameter_share([1.0, 1.0, 3.0, 3.0], [0, 0, 1, 1]) == pytest.approx(1.0)
    assert parameter_share([1.0, 3.0, 1.0, 3.0], [0, 0, 1, 1]) == pytest.approx(0.0)
    assert parameter_share([1.0, 2.0, 3.0], [0, 0, 0]) == pytest.approx(0.0)
    assert np.isnan(parameter_share([2.0, 2.0, 2.0], [0, 1, 2]))  # no band to split
    # law of total variance on random data, unequal group sizes
    rng = np.random.default_rng(0)
    d = rng.integers(0, 5, 200)
    y = rng.normal(d * 0.3, 1.0)
    means = pd.Series(y).groupby(d).transform("mean").to_numpy()
    assert parameter_share(y, d) == pytest.approx(np.var(means) / np.var(y), rel=1e-12)


def test_band_treats_never_as_largest():
    b = band([1.0, 2.0, 3.0, float("nan")])
    assert (b["median"], b["runs"]) == (2.0, 3) and b["p05"] == pytest.approx(1.1) and b["p95"] == pytest.approx(2.9)
    b = band([1.0, 2.0, float("inf"), float("inf"), float("inf")])
    assert b["median"] == float("inf") and b["p05"] == pytest.approx(1.2) and b["p95"] == float("inf")


def test_municipal_payback_year_by_hand():
    rows = [(2022, 0, 100), (2023, 50, 50), (2024, 80, 10), (2025, 80, 10)]  # account -100, -100, -30, +40
    costs = pd.DataFrame(rows, columns=["year", "gains_nok", "net_cost_nok"])
    assert municipal_payback_year(costs) == 2025
    assert municipal_payback_year(costs[costs["year"] < 2025]) == float("inf")  # never within the horizon
    assert municipal_payback_year(costs.assign(net_cost_nok=0)) == 2022  # nothing to pay back


def test_drivers_verdict():
    top = pd.DataFrame({"index": ["ST", "ST"], "value": [0.5, 0.3], "conf": [0.1, 0.05]})
    assert drivers_verdict(top)["refused"] == 0
    assert drivers_verdict(top.assign(conf=[0.1, 0.3])) | {} == {"refused": 1, "n_wide": 1, "n_above_one": 0, "n_top": 2}
    above = drivers_verdict(top.assign(value=[1.28, 0.3], conf=[0.2, 0.05]))
    assert above["refused"] == 1 and above["n_above_one"] == 1 and above["n_wide"] == 0


def test_coverage_leaves_out_points_that_hold_by_construction():
    cov = pd.DataFrame({"series": ["n_municipalities_live"] * 3 + ["n_gp_offices_live"] * 2 + ["share_x"] * 2,
                        "covered_90": [True, True, True, True, False, False, True],
                        "by_construction": [True, True, True, True, False, False, False]})
    split = coverage_split(cov)
    assert (split["n_free"], split["n_free_covered"]) == (3, 1)
    assert (split["n_constructed"], split["n_constructed_covered"]) == (4, 4)
    assert split["constructed_by_series"] == {"n_municipalities_live": 3, "n_gp_offices_live": 1}
    # an older table marks the replayed points only
    assert coverage_split(cov.drop(columns="by_construction").assign(by_replay=cov["by_construction"]))["n_free"] == 3


def test_uptake_gap_runs_broadcast_deterministic_orders():
    shares = np.linspace(0, 1, 5)
    rows = [{"order": "largest_first", "gp_share": s, "seed": 0, "draw": d, "gain_realized": s + 0.1 * d}
            for s in shares for d in (0, 1)]
    rows += [{"order": "random", "gp_share": s, "seed": k, "draw": d, "gain_realized": s ** 2 + 0.01 * k}
             for s in shares for k in (0, 1) for d in (0, 1)]
    gaps = uptake_gap_runs(pd.DataFrame(rows), 0.5).set_index(["draw", "seed"])["value"]
    assert gaps[(0, 0)] == pytest.approx(0.25) and gaps[(0, 1)] == pytest.approx(0.24)
    assert gaps[(1, 0)] == pytest.approx(0.35) and len(gaps) == 4


def test_bands_over_draws_in_the_saved_tables_and_the_text(pack):
    _, root = pack
    y = _inputs(root)["report_year"]
    summary = pd.read_csv(_baseline_dir(root) / "summary.csv")
    assert summary["draw"].nunique() == _inputs(root)["experiment"]["draws"] + 1 > 1
    assert len(summary) == summary["draw"].nunique() * summary["seed"].nunique()
    numbers = json.loads((root / "report_en" / "numbers.json").read_text(encoding="utf-8"))
    v = summary[f"share_gps_{y}"]
    assert numbers["base_gp_lo"] == pytest.approx(v.quantile(0.05)) and numbers["base_gp_hi"] == pytest.approx(v.quantile(0.95))
    assert numbers["base_gp_par"] == pytest.approx(parameter_share(v, summary["draw"]))
    shares = {k: x for k, x in numbers.items() if k.endswith("_par")}
    assert len(shares) >= 6 and all(0 <= x <= 1 for x in shares.values() if not np.isnan(x))
    md = (root / "report_en" / "report.md").read_text(encoding="utf-8")
    assert f"parameters {fmt(numbers['base_gp_par'], 'pct0', 'en')}" in md
    cases = pd.read_csv(root / "business_cases.csv")
    assert len(cases) == len(summary) * len(_inputs(root)["scenarios"]) and {"draw", "seed"} <= set(cases.columns)


def test_smoke_test_marked_on_every_page_and_figure(pack, tmp_path):
    out, root = pack
    build_report(root, "nb")
    for lang in ("en", "nb"):
        mark = TEXT[lang]["smoke_title"]
        md = (root / f"report_{lang}" / "report.md").read_text(encoding="utf-8")
        assert md.startswith(f"# {mark}: ") and md.splitlines()[2].startswith(f"> **{mark}.")
        page = (root / f"report_{lang}" / "report.html").read_text(encoding="utf-8")
        assert f"<title>{mark}: " in page and f'<div class="smoke">{mark}.' in page
        assert "position:fixed" in page  # printed: on every page
    # figures: the same pack rebuilt as no smoke test gives other pixels in every figure, and no mark in the text
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    croot = copy / root.name
    inputs = _inputs(croot)
    inputs["experiment"]["smoke"] = False
    (croot / "report_inputs.json").write_text(json.dumps(inputs), encoding="utf-8")
    md = build_report(croot, "en").read_text(encoding="utf-8")
    assert TEXT["en"]["smoke_title"] not in md
    figs = sorted((root / "report_en" / "figures").glob("*.png"))
    assert len(figs) >= 7
    for f in figs:
        assert f.read_bytes() != (croot / "report_en" / "figures" / f.name).read_bytes(), f.name


def test_no_driver_named_when_intervals_exceed_the_indices(pack, tmp_path):
    out, root = pack
    numbers = json.loads((root / "report_en" / "numbers.json").read_text(encoding="utf-8"))
    md = (root / "report_en" / "report.md").read_text(encoding="utf-8")
    assert numbers["drivers_refused"] == 1 and "driver1_value" not in numbers
    assert "Top driver" not in md and "No driver is named: " in md and TEXT["en"]["q4_refused"].split(":")[0] in md
    # the same pack with narrow intervals names its driver
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    croot = copy / root.name
    sens = (croot / _inputs(croot)["sensitivity"]).resolve() / "indices.csv"
    ind = pd.read_csv(sens)
    ind["value"] = ind["value"] + 0.01  # no index of zero
    ind["conf"] = ind["value"] / 10
    ind.to_csv(sens, index=False)
    md = build_report(croot, "en").read_text(encoding="utf-8")
    numbers = json.loads((croot / "report_en" / "numbers.json").read_text(encoding="utf-8"))
    assert numbers["drivers_refused"] == 0 and "Top driver of GP uptake" in md and "No driver is named" not in md


def test_limitations_business_cases_and_checks_in_both_languages(pack):
    _, root = pack
    build_report(root, "nb")
    for lang in ("en", "nb"):
        T = TEXT[lang]
        md = (root / f"report_{lang}" / "report.md").read_text(encoding="utf-8")
        for key in ("lim_title", "cases_title", "calib_title"):
            assert f"## {T[key]}" in md
        for key in ("lim_counted", "lim_not_counted", "lim_muni", "lim_gp"):
            assert T[key].split(":")[0][:30] in md
        assert T["pass"] in md  # the Bass check's verdict
        assert T["not_calibrated"][:40] in md or T["calibrated"][:20] in md
        assert T["coverage_none"][:30] in md  # the quick pack runs a synthetic region


def test_no_raw_keys_in_norwegian_prose(pack):
    """Parameters, scenarios and outputs go by their display names in nb prose (headings, paragraphs, lists,
    captions); raw keys appear only as code (file names, the parameter table's key column); a symbol
    such as beta_u in a display name is not a key."""
    _, root = pack
    build_report(root, "nb")
    md = (root / "report_nb" / "report.md").read_text(encoding="utf-8")
    prose = [line for line in md.splitlines() if line and not line.startswith(("|", "!["))]
    assert len(prose) > 20
    for line in prose:
        text = re.sub(r"`[^`]+`", "", line)
        raw = re.findall(r"\b[a-z]+(?:_[a-z0-9]{2,})+\b|\b[a-z_]+\.[a-z_]+\b", text)
        assert not raw, f"raw key {raw} in: {line[:160]}"


def test_method_section_names_the_calibration(pack, tmp_path):
    """A pack whose base carries [calibration] says when, to which data end and how it was fitted, and which
    inputs the draws take from the posterior; one without says it is uncalibrated (test_limitations...)."""
    out, root = pack
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    croot = copy / root.name
    inputs = _inputs(croot)
    inputs["calibration"] = {"date": "2026-12-07", "data_end": "2023-12", "method": "ABC-SMC (pyabc)",
                             "posterior": "baseline_posterior.csv"}
    keys = list(inputs["draw_sources"])
    inputs["draw_sources"] = {k: "posterior" if k in ("gp.bass_p_per_year", "municipality.threshold_mean") else "prior"
                              for k in keys}
    (croot / "report_inputs.json").write_text(json.dumps(inputs), encoding="utf-8")
    for lang in ("en", "nb"):
        md = build_report(croot, lang).read_text(encoding="utf-8")
        assert "ABC-SMC (pyabc)" in md and "2026-12-07" in md and md.count("2023-12") >= 2
        assert TEXT[lang]["not_calibrated"][:30] not in md
        assert TEXT[lang]["lim_history"].split("{")[0] in md
    numbers = json.loads((croot / "report_nb" / "numbers.json").read_text(encoding="utf-8"))
    assert (numbers["n_posterior"], numbers["n_prior"]) == (2, len(keys) - 2)
