"""The Python API (sim.api) against the command line, beyond tests/test_run.py.

test_run.py re-runs a CLI run from its manifest. Here: keyword overrides of ``load_config``
(``section__key=value``) give the same resolved config as ``--set`` (same run id, same tables
column for column); ``RunResults.save()`` writes the same files as ``onerecord run``;
``.plot()`` draws every figure in both languages; and bad input through the API raises
``sim.ConfigError`` (one type) whose message is the one line ``python -m sim`` prints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim import api
from sim.config import ConfigError, load_config
from sim.results import TABLE_FILES, read_run

from .conftest import BASELINE, ROOT, SMALL

#: Extra overrides given as --set on the command line and as keywords to api.load_config (GP uptake
#: helped along, so that every table and figure of the small run has content).
EXTRA_SETS = ["gp.bass_p_per_year=0.2", "gp.bass_q_per_year=0.5", "agreement.subsidy_nok_per_gp_year=20000", "gp.offered_from_start=true"]
EXTRA_KW = {"gp__bass_p_per_year": 0.2, "gp__bass_q_per_year": 0.5, "agreement__subsidy_nok_per_gp_year": 20000, "gp__offered_from_start": True}
SEEDS = 2


def cli_args(*args: str) -> list[str]:
    return [sys.executable, "-m", "sim", *args]


def sets(items: list[str]) -> list[str]:
    return [a for kv in items for a in ("--set", kv)]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory) -> Path:
    """`onerecord run` on the small region with the extra overrides, 2 seeds."""
    out = tmp_path_factory.mktemp("cli")
    res = subprocess.run(cli_args("run", str(BASELINE), "--seeds", str(SEEDS), "--out", str(out), "--quiet",
                                  *sets(SMALL + EXTRA_SETS)), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    (d,) = list((out / "baseline").iterdir())
    return d


@pytest.fixture(scope="module")
def api_run() -> api.RunResults:
    """The same run through the API: --set strings for the region, keywords for the rest."""
    return api.run(api.load_config(BASELINE, SMALL, **EXTRA_KW), seeds=SEEDS)


# --------------------------------------------------------------------------- load_config keywords


def test_keyword_overrides_equal_set_strings():
    by_set = load_config(BASELINE, SMALL + EXTRA_SETS).model_dump()
    assert api.load_config(BASELINE, SMALL, **EXTRA_KW).model_dump() == by_set
    small = {"region.kind": "synthetic", "region.synthetic_municipalities": 8, "region.synthetic_population": 60000}
    assert [f"{k}={v}" for k, v in small.items()] == SMALL
    assert api.load_config(BASELINE, small, **EXTRA_KW).model_dump() == by_set  # dict overrides plus keywords
    cfg = api.load_config(BASELINE, municipality__pre_committed=["5001", "5006"], financing__allocation_key="per_user",
                          hospitals__delay_probability={"default": 0.0})
    assert cfg.municipality.pre_committed == ["5001", "5006"] and cfg.financing.allocation_key == "per_user"
    assert cfg.hospitals.delay_probability == {"default": 0.0}


def test_keywords_win_over_positional_overrides():
    for overrides in (["gp.bass_q_per_year=0.3"], {"gp.bass_q_per_year": 0.3}):
        assert api.load_config(BASELINE, overrides, gp__bass_q_per_year=0.45).gp.bass_q_per_year == 0.45
    assert api.load_config(BASELINE, ["gp.bass_q_per_year=0.3"]).gp.bass_q_per_year == 0.3


def test_table_valued_keyword_with_list_overrides():
    cfg = api.load_config(BASELINE, SMALL, hospitals__delay_probability={"default": 0.0})
    assert cfg.hospitals.delay_probability == {"default": 0.0}


# --------------------------------------------------------------------------- tables and files = CLI


def _same_column(mine: pd.Series, disk: pd.Series, where: str) -> None:
    """Equal values; the same dtype, except the unit of a datetime (Parquet stores ms, not s)."""
    if mine.dtype.kind == "M":
        assert disk.dtype.kind == "M", where
        np.testing.assert_array_equal(mine.to_numpy("datetime64[ms]"), disk.to_numpy("datetime64[ms]"), err_msg=where)
        return
    pd.testing.assert_series_equal(mine, disk, check_dtype=False, check_exact=True, obj=where)
    if mine.dtype.kind in "biuf":
        assert disk.dtype.kind in "biuf", where


def test_api_tables_equal_cli_files_column_for_column(cli_run, api_run):
    assert api_run.run_id == cli_run.name  # keywords resolve to the same config and seeds as --set
    assert (api_run.summary["n_municipalities_live_end"] > 0).all() and (api_run.summary["share_gps_end"] > 0).any()
    disk = read_run(cli_run)
    for name in TABLE_FILES:
        mine, theirs = getattr(api_run, name).reset_index(drop=True), getattr(disk, name)
        assert list(mine.columns) == list(theirs.columns), name
        assert len(mine) == len(theirs) > 0, name
        for col in mine.columns:
            _same_column(mine[col], theirs[col], f"{name}.{col}")


def _files(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())


def test_save_writes_the_same_files_as_the_cli(cli_run, api_run, tmp_path):
    path = api_run.save(tmp_path / "out")
    assert path == tmp_path / "out" / "baseline" / cli_run.name and api_run.path == path
    assert _files(path) == _files(cli_run)
    assert any(f.startswith("figures/") for f in _files(path))
    for name, file in TABLE_FILES.items():
        if file.endswith(".csv"):
            assert (path / file).read_bytes() == (cli_run / file).read_bytes(), file
        else:
            pd.testing.assert_frame_equal(getattr(read_run(path), name), getattr(read_run(cli_run), name))
    mine, theirs = (json.loads((d / "manifest.json").read_text()) for d in (path, cli_run))
    assert mine.keys() == theirs.keys()
    varying = {"started", "ended", "host"}
    assert {k: v for k, v in mine.items() if k not in varying} == {k: v for k, v in theirs.items() if k not in varying}
    # saving again replaces the directory whole; without figures there is no figures/ folder
    again = api_run.save(tmp_path / "out", figures=False)
    assert again == path and not (path / "figures").exists()
    assert not list(path.parent.glob(".tmp-*")) and not list(path.parent.glob(".old-*"))
    reloaded = api.load_results(path)
    assert reloaded.run_id == api_run.run_id and reloaded.config == api_run.config


# --------------------------------------------------------------------------- figures


def _texts(fig) -> set[str]:
    out = {fig._suptitle.get_text()} if fig._suptitle is not None else set()
    for ax in fig.axes:
        out |= {ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), *(t.get_text() for t in ax.get_xticklabels())}
        legend = ax.get_legend()
        if legend is not None:
            out |= {t.get_text() for t in legend.get_texts()} | {legend.get_title().get_text()}
    return {t for t in out if t}


@pytest.mark.parametrize("name", ["adoption", "coverage", "gain_vs_uptake", "cost_per_inhabitant", "who_pays_who_gains"])
def test_plot_draws_each_figure_in_both_languages(api_run, name):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    from sim.plots import LABELS

    figs = {lang: api_run.plot(name, lang=lang) for lang in ("en", "nb")}
    try:
        only = {lang: set(LABELS[lang].values()) - set(LABELS["nb" if lang == "en" else "en"].values())
                for lang in ("en", "nb")}
        for lang, fig in figs.items():
            assert isinstance(fig, Figure) and fig.axes
            ax = fig.axes[0]
            assert ax.lines or ax.patches or ax.collections, f"{name}: nothing drawn"
            texts = _texts(fig)
            other = "nb" if lang == "en" else "en"
            assert texts & only[lang], f"{name}/{lang}: no label in {lang}: {texts}"
            assert not texts & only[other], f"{name}/{lang}: {other} labels {texts & only[other]}"
    finally:
        for fig in figs.values():
            plt.close(fig)


# --------------------------------------------------------------------------- bad input: one type, one line


def _bad_file(tmp: Path, name: str, text: str) -> str:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return str(p)


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict:
    """Bad inputs: CLI arguments and the equivalent API call (a function of the shared API run)."""
    tmp = tmp_path_factory.mktemp("bad")
    base = str(BASELINE)
    unknown = _bad_file(tmp, "unknown.toml", f'extends = "{base}"\n[gp]\nbass_q = 0.4\n')
    malformed = _bad_file(tmp, "malformed.toml", "[gp\nbass_q_per_year = \n")
    a_file = _bad_file(tmp, "a_file", "not a directory")
    missing = str(tmp / "missing.toml")
    empty_dir = str(tmp_path_factory.mktemp("empty"))
    return {
        "missing file": (["run", missing], lambda r: api.load_config(missing)),
        "bad value": (["run", base, "--set", "gp_price.licence_nok_per_gp_year=-5"],
                      lambda r: api.load_config(base, gp_price__licence_nok_per_gp_year=-5)),
        "unknown --set key": (["run", base, "--set", "gp.bass_qq=1"], lambda r: api.load_config(base, gp__bass_qq=1)),
        "shares over 1": (["run", base, "--set", "financing.state_share=0.8", "--set", "financing.regional_share=0.5"],
                          lambda r: api.load_config(base, {"financing.state_share": 0.8, "financing.regional_share": 0.5})),
        "unknown key in file": (["run", unknown], lambda r: api.load_config(unknown)),
        "malformed file": (["run", malformed], lambda r: api.load_config(malformed)),
        "out is a file": (["run", base, "--out", a_file, *sets(SMALL)], lambda r: r.save(a_file)),
        "not a saved result": (["plot", empty_dir], lambda r: api.plot(empty_dir)),
        "seeds 0": (["run", base, "--seeds", "0"], lambda r: api.run(r.config, seeds=0)),
        "jobs 0": (["run", base, "--jobs", "0"], lambda r: api.run(r.config, seeds=1, jobs=0)),
        "bad lang": (["run", base, "--lang", "de"], lambda r: r.plot("adoption", lang="de")),
        "bad order": (["uptake-curve", base, "--orders", "bogus"], lambda r: api.uptake_curve(r.config, orders=("bogus",))),
        "steps 1": (["uptake-curve", base, "--steps", "1"], lambda r: api.uptake_curve(r.config, steps=1)),
        "bad format": (["params", "--format", "xls"], lambda r: api.params(fmt="xls")),
        "bass seeds 1": (["validate-bass", "--seeds", "1"], lambda r: api.validate_bass(ROOT / "experiments/validation/bass.toml", seeds=1)),
        "bad executor": (["sweep", "experiments/smoke.toml", "--executor", "spark"],
                         lambda r: api.sweep(ROOT / "experiments/smoke.toml", executor="spark")),
    }


@pytest.fixture(scope="module")
def cli_errors(bad, tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Every bad case through the command line, in this process (typer's runner, from the repository's
    folder); test_a_process_prints_the_same_line checks that `python -m sim` prints the same."""
    from typer.testing import CliRunner

    from sim.cli import app

    out = tmp_path_factory.mktemp("cli_errors")
    runner, done, cwd = CliRunner(), {}, os.getcwd()
    os.chdir(ROOT)
    try:
        for case, (args, _) in bad.items():
            extra = [] if "--out" in args or args[0] in ("plot", "params") else ["--out", str(out / "results")]
            res = runner.invoke(app, [*args, *extra])
            done[case] = subprocess.CompletedProcess(args, res.exit_code, res.stdout, res.stderr)
    finally:
        os.chdir(cwd)
    assert not (out / "results").exists(), "a failing command created its output directory"
    return done


def test_a_process_prints_the_same_line(cli_errors, tmp_path):
    args = ["run", str(BASELINE), "--set", "gp_price.licence_nok_per_gp_year=-5", "--out", str(tmp_path / "results")]
    res = subprocess.run(cli_args(*args), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert (res.returncode, res.stdout, res.stderr) == (2, "", cli_errors["bad value"].stderr)
    assert not (tmp_path / "results").exists()


MATCHING = ["missing file", "bad value", "unknown --set key", "shares over 1", "unknown key in file",
            "malformed file", "out is a file", "not a saved result", "seeds 0", "jobs 0", "bad lang", "bad order",
            "steps 1", "bad format", "bass seeds 1", "bad executor"]
def _check_same_line(case: str, bad: dict, cli_errors: dict, api_run) -> None:
    res = cli_errors[case]
    assert res.returncode == 2 and res.stdout == "", f"{case}: exit {res.returncode}\n{res.stderr}"
    assert res.stderr.startswith("onerecord: ") and res.stderr.count("\n") == 1, res.stderr
    with pytest.raises(ConfigError) as err:
        bad[case][1](api_run)
    assert type(err.value) is ConfigError and "\n" not in str(err.value)
    assert f"onerecord: {err.value}\n" == res.stderr


@pytest.mark.parametrize("case", MATCHING)
def test_bad_input_raises_config_error_with_the_cli_line(case, bad, cli_errors, api_run):
    _check_same_line(case, bad, cli_errors, api_run)


def test_plot_rejects_an_unknown_figure_with_the_known_names(api_run):
    with pytest.raises(ConfigError, match="known: adoption, coverage, gain_vs_uptake"):
        api_run.plot("nope")


def test_one_exception_type_everywhere():
    from sim import config, results

    assert sim.ConfigError is api.ConfigError is config.ConfigError is results.ConfigError
    assert issubclass(ConfigError, ValueError)
