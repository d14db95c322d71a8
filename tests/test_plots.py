"""The figure registry: every registered figure renders in nb and en from small saved tables.

Run figures are drawn from a small saved run (read back from its files), the others from small
tables with the columns of their files. Each figure must draw something, show words of its own
language and none that only the other language has, and accept the caller's Axes; ``onerecord
plot`` redraws the figures of each kind of saved result; the labels table has the same keys in
both languages; and sim.plots loads without the model.
"""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim import api  # noqa: E402
from sim.plots import FIGURES, LABELS, SUBJECTS, figure, names, write_figures  # noqa: E402
from sim.validation import bass_cdf, bass_discrete  # noqa: E402

from .conftest import ROOT  # noqa: E402

ONLY = {lang: set(LABELS[lang].values()) - set(LABELS[other].values())
        for lang, other in (("en", "nb"), ("nb", "en"))}
PARAMS = ["gp.bass_p_per_year", "gp_price.licence_nok_per_gp_year", "dummy.unused"]
OUTPUTS = ["share_gps_2030", "gain_realized_2030"]


def _months(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2020-01-01", periods=n, freq="MS")


def _bands(series: list[str], months: pd.DatetimeIndex) -> pd.DataFrame:
    rows = []
    for s in series:
        for t, m in enumerate(months):
            mid = t / len(months)
            rows.append({"series": s, "t": t, "month": m, "p05": mid - 0.1, "p25": mid - 0.05, "p50": mid,
                         "p75": mid + 0.05, "p95": mid + 0.1})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def tables(small_config, tmp_path_factory) -> dict[str, object]:
    """Small tables for every subject; the run's read back from a saved run directory."""
    out = tmp_path_factory.mktemp("plots")
    run = api.load_results(api.run(small_config, seeds=2, overrides=["gp.offered_from_start=true",
                                                                       "gp.bass_p_per_year=0.2"]).save(out, figures=False))
    uptake = api.uptake_curve(small_config, steps=3, seeds=2, orders=["random", "largest_first"])
    rng = np.random.default_rng(0)
    indices = pd.DataFrame(
        [{"output": o, "parameter": p, "method": "sobol", "index": i, "value": rng.uniform(0, 1), "conf": 0.05}
         for o in OUTPUTS for p in PARAMS for i in ("S1", "ST")]
        + [{"output": o, "parameter": p, "method": "morris", "index": i, "value": rng.uniform(0, 1), "conf": 0.05}
           for o in OUTPUTS for p in PARAMS for i in ("mu_star", "mu", "sigma")])
    tornado = pd.DataFrame([{"output": o, "parameter": p, "y_base": 0.5, "y_low": 0.4 - 0.1 * k,
                             "y_high": 0.6 + 0.1 * k, "swing": 0.2 + 0.2 * k}
                            for o in OUTPUTS for k, p in enumerate(PARAMS)])
    boxes = pd.DataFrame({"parameter": PARAMS, "low": [0.01, 1000.0, 0.0], "high": [0.02, 3000.0, 1.0],
                          "range_low": [0.0, 0.0, 0.0], "range_high": [0.03, 6000.0, 1.0],
                          "restricted": [True, True, False], "chosen": [True, True, True]})
    trajectory = pd.DataFrame({"coverage": [1.0, 0.8, 0.6], "density": [0.5, 0.7, 0.9], "res_dim": [0, 1, 2],
                               "chosen": [False, True, False]})
    sensitivity = SimpleNamespace(indices=indices, tornado=tornado, prim_boxes=boxes, prim_trajectory=trajectory,
                                  summary={"target": "share_gps_2030 >= 0.5"})
    fit_months, fc_months = _months(48), pd.date_range("2024-01-01", periods=24, freq="MS")
    observed = pd.DataFrame({"month": fit_months, "t": range(48), "n_municipalities_live": np.arange(48) // 6,
                             "share_residents_municipalities_live": np.linspace(0, 0.6, 48),
                             "n_gp_offices_live_lower": np.arange(48) // 24})
    calibration = SimpleNamespace(
        bands=_bands(["n_municipalities_live", "share_residents_municipalities_live", "n_gp_offices_live",
                      "n_municipalities_decided"], fit_months), observed=observed,
        decision_points=pd.DataFrame({"month": fit_months[[10, 30]], "t": [10, 30], "count": [5, 30],
                                      "lower_bound": [False, True]}),
        forecast=_bands(["n_municipalities_live", "n_gp_offices_live", "one_record_coverage", "gain_realized"],
                        fc_months))
    t = np.arange(24)
    bass = pd.DataFrame({"t": t, "t_years": (t + 1) / 12, "share_mean": bass_cdf((t + 1) / 12, 0.05, 0.4),
                         "share_se": 0.01, "bass_cdf": bass_cdf((t + 1) / 12, 0.05, 0.4), "n_seeds": 3,
                         "share_var": 3e-4, "bass_discrete": bass_discrete(24, 0.05, 0.4), "bias_bound": 0.0,
                         "n_practices": 200, "p_per_year": 0.05, "q_per_year": 0.4})  # bass_validation's columns
    nets = {"baseline": pd.DataFrame({"net_npv_nok": [-1e8, 2e7, 5e7]}, index=["state", "municipalities", "gps"]),
            "state_finances_all": pd.DataFrame({"net_npv_nok": [-2e8, 6e7, 5e7]}, index=["state", "municipalities", "gps"])}
    profile = pd.DataFrame([{"output": o, "parameter": p, "value": v, "base_value": 0.5, "mean": v * k, "p10": v * k - 0.1,
                             "p90": v * k + 0.1, "min": v * k - 0.2, "max": v * k + 0.2, "n_seeds": 3}
                            for o in OUTPUTS for k, p in enumerate(PARAMS[:2], 1) for v in (0.0, 0.5, 1.0)])
    heat = pd.DataFrame([{"x": x, "y": y, "value": (x + y) / 10} for x in (0.0, 1.0, 2.0) for y in (0.0, 0.5)])
    drivers = indices[(indices["method"] == "sobol") & (indices["index"] == "ST")].assign(
        rank=lambda d: d.groupby("output")["value"].rank(ascending=False).astype(int))
    profile = pd.DataFrame([{"output": o, "parameter": p, "value": v, "base_value": 1.0, "mean": 30 - 5 * v,
                             "p10": 28 - 5 * v, "p90": 32 - 5 * v, "min": 27 - 5 * v, "max": 33 - 5 * v, "n_seeds": 4,
                             "jump": 0.5}
                            for o in ("n_municipalities_live_2030", "n_municipalities_declined_2030")
                            for p in ("municipality.threshold_mean", "municipality.decline_margin") for v in (0.5, 1.0, 1.5)])
    return {
        "run": run,
        "profile": SimpleNamespace(profile=profile),
        "gp": SimpleNamespace(costs_gp=run.costs_gp, gp_levers=pd.DataFrame(
            [{"lever": lever, "value_nok_per_gp_year": v, "draw": 0, "seed": s, "share_gps_2030": 0.1 + s / 10 - v / 1e6,
              "share_gps_end": 0.3 + s / 10 - v / 1e6} for lever in ("licence", "subsidy") for v in (0.0, 60_000.0)
             for s in (0, 1)])),
        "compare": SimpleNamespace(runs={"baseline": run.tables, "gp_agreement": run.tables},
                                   costs_municipality=run.costs_municipality),
        "uptake": uptake,
        "sensitivity": sensitivity,
        "profile": SimpleNamespace(profile=profile),
        "calibration": calibration,
        "validation": SimpleNamespace(bass_curves=bass),
        "bill": SimpleNamespace(
            expected=pd.DataFrame([{"scenario": s, "kommunenummer": f"{k:04d}", "name": f"Kommune {k}",
                                    "expected_nok_per_inhabitant": 300.0 * k + 100 * j}
                                   for j, s in enumerate(("baseline", "grant_as_loan")) for k in range(1, 6)]),
            gp=pd.DataFrame({"scenario": "baseline", "practice_idx": [3, 4], "n_gps": [4, 2],
                             "breakeven_licence_nok_per_gp_year": [7000, 12000], "licence_nok_per_gp_year": 60000})),
        "report": SimpleNamespace(nets=nets, heatmap=heat, drivers=drivers),
        "_options": {"report_year": run.report_year, "x_key": "gp_price.licence_nok_per_gp_year",
                     "y_key": "functionality.improvement_per_release", "output": "share_gps_2030", "mark": (1.0, 0.5),
                     "method": "sobol"},
        "_out": out,
    }


def _texts(fig) -> set[str]:
    out = {fig._suptitle.get_text()} if fig._suptitle is not None else set()
    for ax in fig.axes:
        out |= {ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), *(t.get_text() for t in ax.get_xticklabels()),
                *(t.get_text() for t in ax.get_yticklabels())}
        legend = ax.get_legend()
        if legend is not None:
            out |= {t.get_text() for t in legend.get_texts()} | {legend.get_title().get_text()}
    return {t for t in out if t}


@pytest.mark.parametrize("name", list(FIGURES))
def test_every_registered_figure_renders_in_both_languages(name, tables):
    spec = FIGURES[name]
    src = tables[spec.subject]
    assert spec.applies(src), f"{name}: the test tables do not cover it"
    for lang, other in (("en", "nb"), ("nb", "en")):
        fig = figure(name, src, lang, **tables["_options"])
        try:
            assert isinstance(fig, Figure) and fig.axes
            assert any(a.lines or a.patches or a.collections or a.images for a in fig.axes), f"{name}: nothing drawn"
            texts = _texts(fig)
            assert texts & ONLY[lang], f"{name}/{lang}: no label in {lang}: {texts}"
            assert not texts & ONLY[other], f"{name}/{lang}: {other} labels {texts & ONLY[other]}"
        finally:
            plt.close(fig)


@pytest.mark.parametrize("name", ["adoption", "cost_per_inhabitant", "compare", "uptake_panels", "sobol_indices",
                                  "prim", "calibration_fit", "bass", "heatmap"])
def test_figures_draw_into_the_callers_axes(name, tables):
    spec = FIGURES[name]
    fig, axes = plt.subplots(2, 4)
    try:
        got = figure(name, tables[spec.subject], "en", axes, **tables["_options"])
        assert got is fig and any(a.has_data() for a in axes.flat)
        with pytest.raises(ValueError, match="panels"):
            figure(name, tables[spec.subject], "en", [], **tables["_options"])
    finally:
        plt.close(fig)


def test_registry_subjects_and_files(tables, tmp_path):
    assert {f.subject for f in FIGURES.values()} == set(SUBJECTS)
    assert names("run") == ["adoption", "coverage", "gain_vs_uptake", "cost_per_inhabitant", "who_pays_who_gains",
                            "gp_break_even"]
    paths = write_figures("validation", tables["validation"], tmp_path, "nb")
    assert sorted(p.name for p in paths) == ["bass_nb.pdf", "bass_nb.png"]
    with pytest.raises(api.ConfigError, match="--lang"):
        write_figures("run", tables["run"], tmp_path, "de")
    with pytest.raises(api.ConfigError, match="known: adoption"):
        figure("nope", tables["run"])


def test_labels_table_has_the_same_keys_in_both_languages():
    assert LABELS["en"].keys() == LABELS["nb"].keys()
    assert all(v.strip() for lang in LABELS for v in LABELS[lang].values())


def test_plot_command_redraws_each_kind_of_saved_result(tables, tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    run_dir = tables["run"].path
    uptake_dir = tables["uptake"].save(tmp_path, figures=False)
    bass_dir = api.BassResult(tables["validation"].bass_curves, "bass_case").save(tmp_path)
    for d, stem in ((run_dir, "adoption_nb"), (uptake_dir, "uptake_gain_realized_nb"), (bass_dir, "bass_nb")):
        res = CliRunner().invoke(app, ["plot", str(d), "--lang", "nb"])
        assert res.exit_code == 0, res.output
        assert (d / "figures" / f"{stem}.pdf").is_file() and (d / "figures" / f"{stem}.png").is_file()


def test_plots_load_without_the_model():
    blocked = ["sim.model", "sim.runner", "sim.agents", "sim.network", "sim.economics", "sim.api", "mesa"]
    code = (f"import sys\nfor m in {blocked!r}:\n    sys.modules[m] = None\n"
            "import sim.plots, sim.report\nprint(len(sim.plots.FIGURES))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "MPLBACKEND": "Agg"}, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert int(res.stdout) == len(FIGURES)
