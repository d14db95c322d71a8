"""Scenario configs: extends, --set, and one-line errors (file, key, exit 2, nothing written)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import numpy as np

from sim.config import (ROLES, ConfigError, band_row, config_to_dict, get_dotted, iter_parameters, load_config,
                        parse_override, prior_range, prior_ranges, row_range, source_rows, sweep_range, with_overrides)

from .conftest import BASELINE, ROOT


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def child(tmp_path: Path, body: str, name: str = "x.toml") -> Path:
    """A scenario extending the shipped baseline by absolute path."""
    return write(tmp_path, name, f'extends = "{BASELINE.as_posix()}"\nscenario = "x"\n{body}\n')


# --------------------------------------------------------------------------- the happy path


def test_baseline_loads_and_every_key_has_unit_and_source():
    from sim.params import parameter_table

    cfg = load_config(BASELINE)
    assert cfg.scenario == "baseline" and cfg.n_months == 192
    table = parameter_table(BASELINE)
    assert len(table) == len(list(iter_parameters()))
    missing_source = table[table["source"].str.strip() == ""]["key"].tolist()
    assert missing_source == [], f"keys without a source comment in baseline.toml: {missing_source}"
    numeric = table[table["type"].isin(["float", "int"])]
    no_unit = numeric[numeric["unit"] == ""]["key"].tolist()
    assert no_unit == [], f"numeric keys without a unit: {no_unit}"


def test_extends_inherits_and_overrides(tmp_path):
    cfg = load_config(child(tmp_path, "[gp]\nbass_q_per_year = 0.55"))
    base = load_config(BASELINE)
    assert cfg.gp.bass_q_per_year == 0.55
    assert cfg.gp.bass_p_per_year == base.gp.bass_p_per_year
    assert cfg.scenario == "x"


def test_extends_is_relative_to_the_file_that_says_it(tmp_path):
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    child(tmp_path / "a", "[gp]\nbass_q_per_year = 0.5", name="mid.toml")
    leaf = write(sub, "leaf.toml", 'extends = "../mid.toml"\nscenario = "leaf"\n')
    cfg = load_config(leaf)
    assert cfg.scenario == "leaf" and cfg.gp.bass_q_per_year == 0.5


def test_set_parses_toml_literals_never_code(tmp_path):
    cfg = load_config(BASELINE, ["gp.bass_q_per_year=0.5", "financing.allocation_key=per_user",
                                 'municipality.pre_committed=["5001", "5006"]'])
    assert cfg.gp.bass_q_per_year == 0.5
    assert cfg.financing.allocation_key == "per_user"
    assert cfg.municipality.pre_committed == ["5001", "5006"]
    assert parse_override("scenario=__import__('os')")[1] == "__import__('os')"  # a string, not evaluated


def test_sweep_ranges_come_from_the_schema():
    assert sweep_range("gp.bass_q_per_year") == (0.25, 0.6)  # the data row's low/high (bass_q_ehr_physicians)
    assert sweep_range("economics.investment_nok") == (2.8e9, 4.2e9)  # a declared sweep, wider than the prior
    assert prior_range("economics.investment_nok") == (4.0e9, 4.2e9)  # the row hp_cost_frame_nok
    assert prior_range("gp_price.licence_nok_per_gp_year") is None  # a lever has no prior ...
    assert sweep_range("gp_price.licence_nok_per_gp_year") == (20_000, 120_000)  # ... but its row's range to sweep
    with pytest.raises(ConfigError, match="did you mean"):
        sweep_range("gp.bass_q_per_yer")


# --------------------------------------------------------------------------- ranges against the data rows


def _row_disagreements(cfg) -> list[str]:
    """Every disagreement between a key's declared ranges/value and its parameters_sources.csv row."""
    from sim.params import source_comments

    rows, comments, data = source_rows(), source_comments(BASELINE), config_to_dict(cfg)
    out = []
    for key, f in iter_parameters():
        extra = f.json_schema_extra or {}
        row = extra.get("row")
        if row is None:
            continue
        if f"PS: {row}" not in comments.get(key, ""):
            out.append(f"{key}: configs/baseline.toml's comment does not name its row PS: {row}")
        value = get_dotted(data, key)
        bands = {band: band_row(row, band) for band in value} if "*" in row else {"": row}
        for band, r in bands.items():
            where = f"{key}{'.' + band if band else ''} (row {r})"
            if r not in rows.index:
                out.append(f"{where}: no such row in parameters_sources.csv")
                continue
            v = value[band] if band else value
            calibrated = comments.get(key, "").startswith("calibrated:")  # the posterior median, not the row's value
            if not calibrated and not np.isclose(float(rows.at[r, "value"]), float(v), rtol=1e-9):
                out.append(f"{where}: baseline value {v} != row value {rows.at[r, 'value']}")
            rng = row_range(r)
            for name in ("prior", "sweep"):
                declared = extra.get(name)
                if declared is not None and rng is not None and tuple(map(float, declared)) != rng \
                        and not extra.get("range_note"):
                    out.append(f"{where}: {name} {tuple(declared)} != row low/high {rng} (no range_note says why)")
    return out


def test_every_range_agrees_with_its_data_row_or_says_why(baseline_config):
    assert _row_disagreements(baseline_config) == []


def test_a_range_that_differs_from_its_row_is_listed(baseline_config, monkeypatch):
    """The check above can fail: a prior off its row's low/high is listed, unless a note says why."""
    f = dict(iter_parameters())["gp.bass_p_per_year"]
    monkeypatch.setitem(f.json_schema_extra, "prior", (0.0, 0.1))
    assert _row_disagreements(baseline_config) == [
        "gp.bass_p_per_year (row bass_p_ehr_physicians): prior (0.0, 0.1) != row low/high (0.001, 0.03) "
        "(no range_note says why)"]
    monkeypatch.setitem(f.json_schema_extra, "range_note", "a test says so")
    assert _row_disagreements(baseline_config) == []


def test_every_parameter_has_a_role_and_every_uncertain_input_a_prior(baseline_config):
    for key, f in iter_parameters():
        role = (f.json_schema_extra or {}).get("role")
        assert role in ROLES, f"{key}: role {role!r}"
        if role != "uncertain":
            assert prior_range(key) is None, f"{key}: a {role} has no prior"
    ranges = prior_ranges(baseline_config)
    assert {"gp.bass_p_per_year", "economics.investment_nok", "network.gp_consultations_per_person_year.90+"} <= set(ranges)
    assert not {"gp_price.licence_nok_per_gp_year", "agreement.subsidy_nok_per_gp_year", "financing.state_share",
                "economics.discount_rate", "run.seed"} & {k.rsplit(".", 1)[0] if k.count(".") > 1 else k for k in ranges}
    data = config_to_dict(baseline_config)
    for key, (lo, hi) in ranges.items():
        assert lo < hi, key
        assert lo <= get_dotted(data, key) <= hi, f"{key}: baseline value outside its prior {lo, hi}"
        for end in (lo, hi):  # each end of a prior is a valid value of the key
            table, _, band = key.rpartition(".")
            if table in dict(iter_parameters()) and "*" in (dict(iter_parameters())[table].json_schema_extra or {}).get("row", ""):
                with_overrides(baseline_config, {table: get_dotted(data, table) | {band: end}})
            else:
                with_overrides(baseline_config, {key: end})


# --------------------------------------------------------------------------- bad input, through the API


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        ("[gp]\nbass_q_per_yer = 0.4", r"x\.toml: gp\.bass_q_per_yer: unknown key \(did you mean 'bass_q_per_year'\?\)"),
        ("[gp_price]\nlicence_nok_per_gp_year = \"cheap\"", r"gp_price\.licence_nok_per_gp_year: .*number"),
        ("[gp_price]\nlicence_nok_per_gp_year = -5", r"gp_price\.licence_nok_per_gp_year: .*>= 0.*-5"),
        ("[financing]\nstate_share = 1.5", r"financing\.state_share: .*<= 1.*1\.5"),
        ("[network]\nmessage_channel_information_share = -0.1", r"network\.message_channel_information_share: .*>= 0"),
        ('[run]\nend_month = "2019-01"', r"run: .*end_month 2019-01 is before start_month"),
        ('[hospitals]\ndelay_probability = { default = 2.0 }', r"hospitals\.delay_probability: .*\[0, 1\]"),
    ],
)
def test_bad_values_give_one_line_naming_file_and_key(tmp_path, body, expect):
    with pytest.raises(ConfigError, match=expect) as err:
        load_config(child(tmp_path, body))
    assert "\n" not in str(err.value)


def test_malformed_missing_extends_and_cycle(tmp_path):
    with pytest.raises(ConfigError, match=r"bad\.toml: malformed TOML"):
        load_config(write(tmp_path, "bad.toml", "[gp\nx = 1"))
    with pytest.raises(ConfigError, match=r"orphan\.toml: extends: file not found: .*nope\.toml"):
        load_config(write(tmp_path, "orphan.toml", 'extends = "nope.toml"\n'))
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ConfigError, match=r"extends: cycle: .*a\.toml -> .*b\.toml -> .*a\.toml"):
        load_config(tmp_path / "a.toml")


def test_set_of_unknown_key():
    with pytest.raises(ConfigError, match=r"--set gp\.bass_q: unknown key \(did you mean 'bass_q_per_year'\?\)"):
        load_config(BASELINE, ["gp.bass_q=0.3"])
    with pytest.raises(ConfigError, match=r"--set gpp\.x: unknown key \(did you mean 'gp'\?\)"):
        load_config(BASELINE, ["gpp.x=1"])


# --------------------------------------------------------------------------- bad input, from the shell


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("body", "args", "expect"),
    [
        ("[gp\n", [], "malformed TOML"),
        ("[gp]\nbass_q_per_yer = 0.4", [], "did you mean 'bass_q_per_year'"),
        ("[gp_price]\nlicence_nok_per_gp_year = -5", [], "gp_price.licence_nok_per_gp_year: must be >= 0, got -5"),
        ("[financing]\nstate_share = 1.5", [], "financing.state_share"),
        ("", ["--set", "gp.bass_q=0.3"], "--set gp.bass_q: unknown key"),
        ('extends = "missing.toml"', [], "file not found"),
    ],
)
def test_cli_bad_input_exit_2_one_line_nothing_written(tmp_path, body, args, expect):
    cfg = write(tmp_path, "x.toml", body) if body.startswith("extends") else child(tmp_path, body)
    out = tmp_path / "out"
    res = cli("run", str(cfg), "--out", str(out), "--quiet", *args)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and expect in lines[0], res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()


def test_cli_extends_cycle_and_output_path_is_a_file(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    res = cli("run", str(tmp_path / "a.toml"), "--out", str(tmp_path / "out"), "--quiet")
    assert res.returncode == 2 and "cycle" in res.stderr and not (tmp_path / "out").exists()
    afile = write(tmp_path, "results_file", "not a directory")
    res = cli("run", str(BASELINE), "--out", str(afile), "--quiet")
    assert res.returncode == 2 and "is a file" in res.stderr and res.stderr.count("\n") == 1
    assert afile.read_text() == "not a directory"


def test_help_lists_every_option():
    top = cli("--help").stdout
    for cmd in ("run", "plot", "compare", "uptake-curve", "params", "sweep", "sensitivity", "calibrate", "report",
                "validate-bass"):
        assert cmd in top
    for cmd in ("sweep", "sensitivity", "report"):
        res = cli(cmd, "experiments/no_such.toml")
        assert res.returncode == 2 and res.stderr == "onerecord: experiments/no_such.toml: file not found\n", res.stderr
    run_help = cli("run", "--help").stdout
    for opt in ("--seeds", "--out", "--set", "--jobs", "--quiet", "--lang"):
        assert opt in run_help
