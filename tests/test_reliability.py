"""Every bad input and every fault (issue 24): one line, exit 2 (input) or 3 (environment), nothing
written, nothing quietly wrong.

* a seeded corpus of every case the issue names, as plain tests, through the command line;
* a fuzz test (hypothesis, the profile's examples) that mutates the baseline and an experiment file;
* operating-system faults (full disk, read-only folder, memory) simulated by monkeypatching writes;
* stale temporary folders of killed runs removed on the next run.

Ctrl-C is tested in tests/test_interrupt.py (real SIGINTs to real processes).
"""

from __future__ import annotations

import errno
import json
import math
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import BASELINE, ROOT, SMALL

SMOKE = ROOT / "experiments" / "smoke.toml"
SHORT = [*SMALL, "run.end_month=2030-12"]
"""A small synthetic region over a short horizon (the report year 2030 inside it)."""


def run_cli(*args) -> tuple[int, str, str]:
    """``main(argv)`` with stdout/stderr captured (capsys is not available in module helpers)."""
    import contextlib
    import io

    from sim.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:  # typer.echo may exit through click on a closed stream
            code = e.code
    return code, out.getvalue(), err.getvalue()


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    return lines[0]


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*")) if path.exists() else []


def scenario_file(tmp_path: Path, body: str, name: str = "mutated.toml") -> Path:
    p = tmp_path / name
    p.write_text(f'extends = "{BASELINE.as_posix()}"\n{body}\n', encoding="utf-8")
    return p


def experiment_file(tmp_path: Path, *subs: tuple[str, str]) -> Path:
    """experiments/smoke.toml with its base made absolute and each (regex, replacement) applied once."""
    text = SMOKE.read_text(encoding="utf-8").replace('"../configs/baseline.toml"', f'"{BASELINE.as_posix()}"')
    for pat, rep in subs:
        text, n = re.subn(pat, rep, text, count=1, flags=re.M)
        assert n == 1, pat
    p = tmp_path / "experiment.toml"
    p.write_text(text, encoding="utf-8")
    return p


# --------------------------------------------------------------------------- the cases, one by one

CONFIG_CORPUS = [
    ("[gp]\namortisation_years = true", r"gp\.amortisation_years: must be a number, got True"),
    ('[gp_price]\nlicence_nok_per_gp_year = "60000"', r"gp_price\.licence_nok_per_gp_year: must be a number, got '60000'"),
    ("[gp]\nbass_q_per_year = inf", r"gp\.bass_q_per_year: must be a finite number, got inf"),
    ('[gp]\nbass_q_per_year = "Infinity"', r"gp\.bass_q_per_year: must be a number, got 'Infinity'"),
    ("[gp]\nbass_p_per_year = nan", r"gp\.bass_p_per_year: must be a finite number, got nan"),
    ('[financing]\nstate_grant_nok = "inf"', r"financing\.state_grant_nok: must be a number, got 'inf'"),
    ("[region]\nseed = 1.0", r"region\.seed: must be a whole number"),
    ('[region]\npopulation_year = "2023"', r"region\.population_year: must be one of 2020, 2023"),
    ("[gp]\noffered_from_start = 1", r"gp\.offered_from_start: must be true or false"),
    ("[run]\nreport_year = 2040", r"run: report_year: 2040 is not a whole year inside the horizon"),
    ('[hospitals]\ngolive_month = { "Helse Sørlandet HF" = "2024-01", default = "2024-01" }',
     r"hospitals\.golive_month: unknown hospital trust 'Helse Sørlandet HF'"),
    ('[municipality]\npre_committed = ["9999"]', r"municipality\.pre_committed: kommunenummer '9999' is not a municipality"),
    ('[municipality]\npre_committed = ["５００１"]', r"municipality\.pre_committed: '５００１' is not a kommunenummer"),
    ('[economics]\ninvestment_profile = { "2020" = 10.0 }', r"economics\.investment_profile: shares must sum to 1, got 10"),
    ('[economics]\ninvestment_profile = { "2020" = -1.0, "2021" = 2.0 }', r"investment_profile: 2020: share must be >= 0"),
    ("[hospitals]\ngolive_month = {}", r"hospitals\.golive_month: needs an entry per hospital trust or a 'default'"),
    ("[hospitals]\ndelay_probability = {}", r"hospitals\.delay_probability: needs an entry per hospital trust"),
    ('[hospitals]\ngolive_month = { "St. Olavs hospital HF" = "2022-11", "Helse Møre og Romsdal HF" = "2024-04" }',
     r"hospitals\.golive_month: no entry for trust 'Helse Nord-Trøndelag HF' and no 'default'"),
    ('scenario = ".."', r"scenario: must be a plain name"),
]


@pytest.mark.parametrize("body,message", CONFIG_CORPUS, ids=[c[0].split("\n")[-1][:40] for c in CONFIG_CORPUS])
def test_bad_scenario_is_one_line_exit_2_nothing_written(tmp_path, body, message):
    path = scenario_file(tmp_path, body)
    out = tmp_path / "out"
    code, _, err = run_cli("run", path, "--seeds", 1, "--out", out, "-q")
    line = one_line(err)
    assert code == 2 and str(path) in line and re.search(message, line), line
    assert not out.exists()


EXPERIMENT_CORPUS = [
    ((r'^name = "smoke"', 'name = ".."'), r"name: must be a plain name"),
    ((r'"share_gps_2030",', '"share_gps_2099",'), r"outputs: 'share_gps_2099' is not a summary column \(did you mean 'share_gps_2030'\?\)"),
    ((r'^key = "gp.bass_q_per_year".*$', 'key = "gp.bass_q_per_year"\nhigh = inf'), r"parameters\.0\.high: must be a finite number"),
    ((r'^key = "gp.bass_p_per_year"', 'key = "functionality.release_interval_months"\nlow = 0.2\nhigh = 0.4'),
     r"parameters\.1\.low: functionality\.release_interval_months takes whole numbers, got 0\.2"),
    ((r"^replicates = 2", "replicates = 2.0"), r"replicates: must be a whole number"),
    ((r"^seed = 12345", 'seed = "12345"'), r"seed: must be a whole number"),
]


@pytest.mark.parametrize("sub,message", EXPERIMENT_CORPUS, ids=[c[0][1][:30] for c in EXPERIMENT_CORPUS])
def test_bad_experiment_is_one_line_exit_2_nothing_written(tmp_path, sub, message):
    path = experiment_file(tmp_path, sub)
    out = tmp_path / "out" / "inner"
    code, _, err = run_cli("sweep", path, "--out", out, "--workers", 1, "-q")
    line = one_line(err)
    assert code == 2 and str(path) in line and re.search(message, line), line
    assert not (tmp_path / "out").exists()  # in particular nothing in the parent of --out (name = "..")


@pytest.mark.parametrize("args,message", [
    (("run", BASELINE, "--seeds", "two"), r"Invalid value for '--seeds'.*run --help"),
    (("run", BASELINE, "--seeds", 100_000_000), r"--seeds: must be <= 10,000, got 100000000"),
    (("run", BASELINE, "--jobs", 0), r"--jobs: must be >= 1, got 0"),
    (("run", BASELINE, "--jobs", 5000), r"--jobs: must be <= 1,024, got 5000"),
    (("run", BASELINE, "--set", "gp.bass_p=0.1"), r"gp\.bass_p: unknown key \(did you mean 'bass_p_per_year'\?\)"),
    (("report", BASELINE), r"is a scenario file; this command wants a position-paper experiment file"),
    (("sweep", BASELINE), r"is a scenario file; this command wants a sweep experiment file"),
    (("run", SMOKE), r"is a sweep experiment file; this command wants a scenario file"),
    (("run", BASELINE, "--bogus"), r"No such option: --bogus"),
    (("compare", ROOT / "configs"), r"compare: give two or more run directories, got 1"),
])
def test_bad_command_line_is_one_line_exit_2(tmp_path, args, message):
    out = tmp_path / "out"
    code, _, err = run_cli(*args, "--out", out) if args[0] != "run" or "--bogus" not in args else run_cli(*args)
    line = one_line(err)
    assert code == 2 and re.search(message, line), line
    assert not out.exists()


def test_python_dash_m_sim_exits_with_the_commands_code(tmp_path):
    """The module entry point passes the exit code on (a usage error is 2, not 0)."""
    res = subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), "--seeds", "two"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr


# --------------------------------------------------------------------------- run folders say what they hold


def test_overrides_and_synthetic_region_are_in_the_run_id(tmp_path):
    from sim import api

    plain = api.load_config(BASELINE)
    small = api.load_config(BASELINE, SMALL)
    faster = api.load_config(BASELINE, [*SMALL, "gp.bass_q_per_year=0.5"])
    from sim.results import run_id

    ids = [run_id(c, [0]) for c in (plain, small, faster)]
    assert ids[0].startswith("baseline-") and "synthetic" not in ids[0]
    assert ids[1].startswith("baseline-synthetic-synthetic_municipalities=8-synthetic_population=60000-")
    assert "-bass_q_per_year=0.5-" in ids[2] and len(set(ids)) == 3
    # a config carries its overrides through with_overrides and a manifest round trip
    from sim.config import with_overrides

    assert with_overrides(faster, {"run.seeds": 2}).overrides == {**faster.overrides, "run.seeds": 2}


def test_runs_with_and_without_override_land_apart_and_record_it(tmp_path):
    out = tmp_path / "out"
    paths = []
    for extra in ([], ["--set", "gp.bass_q_per_year=0.5"]):
        code, stdout, err = run_cli("run", BASELINE, "--seeds", 1, "--out", out, "-q",
                                    *[a for s in SHORT for a in ("--set", s)], *extra)
        assert code == 0, err
        paths.append(Path(re.search(r"wrote (\S+)", stdout).group(1)))
    assert paths[0] != paths[1] and all(p.is_dir() for p in paths)
    assert "bass_q_per_year=0.5" in paths[1].name and "synthetic" in paths[0].name
    man = json.loads((paths[1] / "manifest.json").read_text(encoding="utf-8"))
    assert man["overrides"]["gp.bass_q_per_year"] == 0.5 and man["run_id"] == paths[1].name
    assert not [p for p in (out / "baseline").iterdir() if p.name.startswith(".")]


def test_uptake_curves_with_and_without_override_land_apart(tmp_path):
    """An uptake curve with --set never replaces one without it: each lands under its own run id."""
    out = tmp_path / "out"
    for extra in ([], ["--set", "gp.functionality_fit=0.5"]):
        code, _, err = run_cli("uptake-curve", BASELINE, "--steps", 2, "--seeds", 1, "--orders", "largest_first",
                               "--out", out, *[a for s in SHORT for a in ("--set", s)], *extra)
        assert code == 0, err
    dirs = sorted(p.name for p in (out / "baseline").iterdir())
    assert len(dirs) == 2 and all("-synthetic-" in d and "-uptake-curve-" in d for d in dirs), dirs
    assert sum("functionality_fit=0.5" in d for d in dirs) == 1


def _folders(root: Path) -> list[Path]:
    """The result folders under ``root`` (visible, two levels: ``<scenario or compare>/<id>``)."""
    return sorted(p for p in root.glob("*/*") if p.is_dir() and not p.name.startswith("."))


def test_every_command_writes_under_a_run_id_idempotent_and_apart(tmp_path):
    """bill, gp-drivers and compare (as run and uptake-curve): the folder names scenario, region kind and
    overrides readably with a hash of the rest; the same command again lands in the same folder (and replaces
    it whole), an override lands apart, nothing else is touched."""
    from sim import api
    from sim.region import load_region

    sets = [a for x in SHORT for a in ("--set", x)]
    knr = str(load_region(api.load_config(BASELINE, SHORT).region).municipalities["kommunenummer"].iloc[0])
    commands = {
        "bill": ["bill", knr, BASELINE, "--seeds", 1, "--draws", 0, "-q"],
        "gp-drivers": ["gp-drivers", BASELINE, "--seeds", 1, "--licence", 0, "--licence", 60000, "--subsidy", 0],
    }
    for name, args in commands.items():
        out = tmp_path / name
        seen = []
        for extra in ([], [], ["--set", "gp.bass_q_per_year=0.5"]):
            code, stdout, err = run_cli(*args, "--out", out, *sets, *extra)
            assert code == 0, (name, err)
            seen.append(_folders(out))
        assert len(seen[0]) == 1 and seen[1] == seen[0], (name, seen)  # same inputs: the same folder, no second one
        (first,), (new,) = seen[0], set(seen[2]) - set(seen[0])
        assert len(seen[2]) == 2 and first.parent.name == new.parent.name == "baseline"
        assert first.name.startswith("baseline-synthetic-") and f"-{name}" in first.name
        assert "bass_q_per_year=0.5" in new.name and "bass_q_per_year" not in first.name
    # compare: the same runs compared twice share a folder, other runs get their own
    runs = tmp_path / "runs"
    dirs = []
    for extra in ([], ["--set", "gp.bass_q_per_year=0.5"]):
        code, stdout, err = run_cli("run", BASELINE, "--seeds", 1, "--out", runs, "-q", *sets, *extra)
        assert code == 0, err
        dirs.append(Path(re.search(r"wrote (\S+)", stdout).group(1)))
    out = tmp_path / "cmp"
    for pair in ([dirs[0], dirs[1]], [dirs[0], dirs[1]], [dirs[1], dirs[0]]):
        code, _, err = run_cli("compare", *pair, "--out", out)
        assert code == 0, err
    made = _folders(out)
    assert len(made) == 2 and {p.parent.name for p in made} == {"compare"}  # the order of the runs is the figures'
    assert all(f"{dirs[0].name.rsplit('-', 1)[0]}" in p.name and "-vs-" in p.name for p in made)
    assert not [p for p in out.rglob("*") if p.name.startswith((".tmp-", ".old-"))]


# --------------------------------------------------------------------------- operating-system faults


def _small_run(tmp_path: Path, out: Path, *extra) -> tuple[int, str, str]:
    return run_cli("run", BASELINE, "--seeds", 1, "--out", out, "-q", *[a for s in SHORT for a in ("--set", s)], *extra)


def test_full_disk_is_one_line_exit_3_nothing_half_written(tmp_path, monkeypatch):
    import sim.results as results

    real = results.write_table
    calls = []

    def full(df, path):
        calls.append(path)
        if len(calls) == 2:  # the second table: the disk fills up half-way through the run folder
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(df, path)

    monkeypatch.setattr(results, "write_table", full)
    out = tmp_path / "out"
    code, _, err = _small_run(tmp_path, out)
    line = one_line(err)
    assert code == 3 and "No space left on device" in line and str(calls[-1]) in line, line
    assert files_under(out) == []  # no temporary folder, no empty scenario folder


def test_read_only_output_folder_is_one_line_exit_3(tmp_path, monkeypatch):
    import sim.results as results

    def read_only(self, *a, **k):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    out = tmp_path / "out"
    monkeypatch.setattr(results.Path, "mkdir", read_only)
    code, _, err = _small_run(tmp_path, out)
    line = one_line(err)
    assert code == 3 and "Read-only file system" in line, line
    monkeypatch.undo()
    assert files_under(out) == []


def test_out_of_memory_is_one_line_exit_3(tmp_path, monkeypatch):
    import sim.runner as runner

    def no_memory(*a, **k):
        raise MemoryError

    monkeypatch.setattr(runner, "run_one", no_memory)
    out = tmp_path / "out"
    code, _, err = _small_run(tmp_path, out)
    assert code == 3 and "out of memory" in one_line(err)
    assert files_under(out) == []


def test_out_is_a_file_is_exit_2(tmp_path):
    out = tmp_path / "out"
    out.write_text("x")
    code, _, err = _small_run(tmp_path, out)
    assert code == 2 and "is a file" in one_line(err)


def test_stale_temporary_folders_of_killed_runs_are_removed(tmp_path):
    """A killed run leaves ``.tmp-*``: the next run of the scenario removes it, not a live writer's."""
    out = tmp_path / "out"
    scen = out / "baseline"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import platform

        stale = scen / ".tmp-baseline-synthetic-abc-1234abcd"
        busy = scen / ".tmp-baseline-synthetic-abc-5678abcd"
        for folder, pid in ((stale, dead.pid), (busy, live.pid)):
            folder.mkdir(parents=True)
            (folder / "summary.csv").write_text("partial")
            (folder / ".owner").write_text(f"{platform.node()} {pid}")
        code, _, err = _small_run(tmp_path, out)
        assert code == 0, err
        assert not stale.exists() and busy.exists()
    finally:
        live.kill()
        live.wait()


# --------------------------------------------------------------------------- sweeps


def test_sweep_whose_runs_all_fail_exits_non_zero(tmp_path):
    path = experiment_file(tmp_path, (r"^samples = 20", "samples = 2"), (r"^replicates = 2", "replicates = 1"),
                           (r"^overrides = \[", 'overrides = ["run.end_month=2031-12", '))
    code, stdout, err = run_cli("sweep", path, "--out", tmp_path / "out", "--workers", 1, "-q")
    assert code == 0 and "2 of 2 runs done" in stdout, err
    # every run failing: a model that raises, patched in a fresh process whose workers fork from it
    script = ("import sys, sim.runner as r\n"
              "def boom(*a, **k):\n    raise RuntimeError('boom')\n"
              "r.summarise_run = boom\n"
              "from sim.cli import main\nraise SystemExit(main(sys.argv[1:]))\n")
    res = subprocess.run([sys.executable, "-c", script, "sweep", str(path), "--out", str(tmp_path / "out2"),
                          "--workers", "1", "-q"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    code, stdout, err = res.returncode, res.stdout, res.stderr
    assert code == 1 and "0 of 2 runs done, 2 failed" in stdout and "every run failed" in one_line(err), (stdout, err)


# --------------------------------------------------------------------------- bugs are not machinery faults

PATCHED_CLI = """import os, sys, sim.parallel as par, sim.runner as r
real = r.run_one
def run_one(cfg, replicate, *a, **k):
    if replicate == 1 and {crash!r} and not os.path.exists({marker!r}):
        open({marker!r}, "w").close()
        os._exit(1)  # the worker dies once (a machinery fault: retried)
    if replicate == 1 and {bug!r}:
        return {{}}["no such key"]  # a plain bug of the model (KeyError): not retried
    return real(cfg, replicate, *a, **k)
r.run_one = run_one
par.RESTART_BACKOFF_S = 0.01
restart = par.LocalExecutor.restart
def counted(self):
    sys.stdout.write("restarted\\n")
    restart(self)
par.LocalExecutor.restart = counted
from sim.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def _patched_run(tmp_path: Path, jobs: int, crash: bool = False, bug: bool = False, out: str = "out"):
    """``onerecord run`` (3 seeds) in a fresh process whose model raises a KeyError in replicate 1 (``bug``) or
    whose worker for replicate 1 dies once (``crash``); its pool workers fork with the patch."""
    script = PATCHED_CLI.format(crash=crash, bug=bug, marker=str(tmp_path / f"crashed-{out}"))
    args = ["run", str(BASELINE), "--seeds", "3", "--jobs", str(jobs), "--out", str(tmp_path / out), "-q",
            *[a for x in SHORT for a in ("--set", x)]]
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_bug_in_the_model_is_one_line_naming_the_run_exit_1_not_retried(tmp_path, jobs):
    res = _patched_run(tmp_path, jobs, bug=True)
    assert res.returncode == 1, res.stderr
    line = one_line(res.stderr)
    assert line.startswith("onerecord: baseline: replicate 1: KeyError: 'no such key'"), line
    assert "restarted" not in res.stdout and not (tmp_path / "out").exists()


def test_a_dead_worker_during_run_is_retried_and_changes_nothing(tmp_path):
    res = _patched_run(tmp_path, 2, crash=True, out="crashed")
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("restarted") == 1 and (tmp_path / "crashed-crashed").exists()
    ref = _patched_run(tmp_path, 1, out="ref")
    assert ref.returncode == 0, ref.stderr
    got, want = (pd.read_csv(next((tmp_path / d).glob("baseline/*/summary.csv"))) for d in ("crashed", "ref"))
    pd.testing.assert_frame_equal(got, want, check_exact=True)


class Unpicklable:
    """A stand-in evaluator: :func:`tests.test_sweep.toy`, but dummy.x < 0.3 raises ZeroDivisionError (the
    evaluator's own error) and dummy.x > 0.7 returns a result that cannot travel back from the worker (a
    lock in its timeseries: the error surfaces in the parent, from the future)."""

    def __call__(self, cfg, replicate, params):
        import threading

        from tests.test_sweep import toy

        if params["dummy.x"] < 0.3:
            return 1 / 0
        out = toy(cfg, replicate, params)
        if params["dummy.x"] > 0.7:
            return out, pd.DataFrame({"lock": [threading.Lock()]})
        return out


def test_a_sweep_records_a_runs_own_error_and_goes_on_without_a_restart(tmp_path, monkeypatch):
    import sim.sweep.run as sweep_run
    from tests.test_sweep import write_experiment

    restarts = []  # (the evaluator is importable: workers may start by fork, fork server or spawn)
    monkeypatch.setattr(sweep_run, "restart_with_backoff", lambda ex, cause: restarts.append(cause))
    exp = write_experiment(tmp_path, name="bugs")
    root = sweep_run.run_sweep(exp, tmp_path / "out", workers=2, progress=False, evaluate=Unpicklable())
    from sim.sweep.store import read_failures

    fails = pd.read_csv(root / "failures.csv")
    runs = pd.read_parquet(root / "runs")
    x = pd.concat([runs["dummy.x"], fails["dummy.x"]])
    assert len(runs) + len(fails) == 24 and set(read_failures(root / "failures.csv")) == set(fails["run_id"])
    assert ((runs["dummy.x"] >= 0.3) & (runs["dummy.x"] <= 0.7)).all() and len(x) == 24
    kinds = dict(zip(fails["dummy.x"] < 0.3, fails["error_type"]))
    assert kinds.get(True) == "ZeroDivisionError" and kinds.get(False) in ("TypeError", "PicklingError"), kinds
    assert all("\n" not in m for m in fails["message"].astype(str)) and restarts == []


def test_machinery_faults_and_bugs_are_told_apart():
    from concurrent.futures.process import BrokenProcessPool

    from distributed.client import FuturesCancelledError
    from distributed.comm.core import CommClosedError

    from sim.parallel import WorkerCrash, machinery_fault

    for err in (BrokenProcessPool("x"), WorkerCrash("x"), ConnectionRefusedError(111, "refused"), EOFError(),
                FuturesCancelledError([]), CommClosedError("in <TCP>: Stream is closed"), TimeoutError()):
        assert machinery_fault(err), err
    for err in (ValueError("x"), ZeroDivisionError(), KeyError("k"), RuntimeError("boom"), TypeError("pickle"),
                OSError(errno.ENOSPC, "No space left on device"), MemoryError()):
        assert not machinery_fault(err), err


def test_shard_status_counts_its_own_runs(tmp_path):
    path = experiment_file(tmp_path, (r"^samples = 20", "samples = 3"), (r"^replicates = 2", "replicates = 1"),
                           (r"^overrides = \[", 'overrides = ["run.end_month=2031-12", '))
    code, stdout, err = run_cli("sweep", path, "--out", tmp_path / "out", "--workers", 1, "-q", "--shard", "0/2")
    assert code == 0, err
    assert "shard 0/2: 2 of 2 runs done, 0 failed, 0 missing" in stdout, stdout


# --------------------------------------------------------------------------- fuzz

BASE_DATA = tomllib.loads(BASELINE.read_text(encoding="utf-8"))


def _leaves(d: dict, prefix: tuple = ()) -> list[tuple]:
    out = []
    for k, v in d.items():
        if isinstance(v, dict) and k not in ("golive_month", "delay_probability", "investment_profile"):
            out += _leaves(v, (*prefix, k))
        else:
            out.append((*prefix, k))
    return out


LEAVES = [p for p in _leaves(BASE_DATA) if p[0] not in ("scenario", "description")]
ODD_LIST = [
    True, False, "60000", "inf", "Infinity", "nan", "", "x", "５００１", "9999", "5001", 0, -1, 1, 2, 0.5, 1.5, -0.5,
    1e12, 2040, 1999, math.inf, -math.inf, math.nan, [], [0.5, 0.5], ["9999"], ["5001"], {}, {"default": 0.3},
    {"default": "2023-06"}, {"Nowhere HF": 0.1, "default": 0.2}, {"2020": 10.0}, {"2020": 0.5, "2021": 0.5},
    "2023-13", "2040-01", "2019-01",
]
"""Values a mutation sets a key to: wrong types, non-finite numbers, out-of-range years, odd names and tables."""
ODD_VALUES = st.sampled_from(ODD_LIST)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(x)}" for k, x in v.items()) + " }"


def _schema_value(cfg, path: tuple):
    node = cfg
    for p in path:  # sections and models by attribute, tables (a service's in_use_from by actor) by key
        node = node[p] if isinstance(node, dict) else getattr(node, p)
    return node


def _same_as_given(given, got) -> bool:
    """No coercion: what was accepted equals what was written, with the type the schema promises."""
    if isinstance(given, bool) or isinstance(got, bool):
        return type(given) is type(got) and given == got
    if isinstance(given, (int, float)):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and float(given) == float(got)
    if isinstance(given, list):
        return isinstance(got, list) and len(given) == len(got) and all(map(_same_as_given, given, got))
    if isinstance(given, dict):
        return isinstance(got, dict) and given.keys() == got.keys() and all(_same_as_given(given[k], got[k]) for k in given)
    return type(given) is type(got) and given == got


def check_mutated_scenario(tmp: Path, key: tuple, value) -> str:
    """Set ``key`` of the baseline to ``value`` in a file under ``tmp``: "rejected" (exit 2, one line naming
    the file, nothing written) or "accepted" (a run whose summary holds finite numbers where the schema
    promises them, with the value given, uncoerced); AssertionError when quietly wrong.

    Validation is the command line's (``sim.api.load_config``); a rejected file goes through the
    command line itself, an accepted one is run through the API (no figures: faster, same tables)."""
    from sim import api
    from sim.config import ConfigError

    dotted = ".".join(key)
    head = f"[{key[0]}]\n" if len(key) > 1 else ""
    path = scenario_file(tmp, f"{head}{'.'.join(key[1:]) or key[0]} = {_toml_value(value)}")
    sets = [s for s in SHORT if not s.startswith(dotted + "=")]
    try:
        cfg = api.load_config(path, sets)
    except ConfigError:
        out = tmp / "out"
        code, _, err = run_cli("run", path, "--seeds", 1, "--out", out, "-q", *[a for s in sets for a in ("--set", s)])
        line = one_line(err)
        assert code == 2 and str(path) in line, line
        assert not out.exists(), files_under(out)
        return "rejected"
    if len(sets) == len(SHORT):  # the value given is the value used, with the type the schema promises
        assert _same_as_given(value, _schema_value(cfg, key)), (key, value, _schema_value(cfg, key))
    summary = api.run(cfg, seeds=1).summary.drop(columns=["scenario", "draw", "seed"])
    # documented as possibly empty: a median over no joined municipality or GP (NaN); payback never reached (inf)
    may_be_empty = {c for c in summary.columns if c.startswith(("nok_per_inhabitant_median", "gp_payback"))}
    bad = [c for c in summary.columns if c not in may_be_empty and not np.isfinite(summary[c].to_numpy(float)).all()]
    assert not bad, (key, value, summary[bad].T)
    assert not np.isinf(summary[[c for c in may_be_empty if not c.startswith("gp_payback")]].to_numpy(float)).any()
    return "accepted"


@given(key=st.sampled_from(LEAVES), value=ODD_VALUES)
def test_fuzz_mutated_scenario_is_rejected_in_one_line_or_not_quietly_wrong(tmp_path_factory, key, value):
    """A baseline with one key set to an odd value (:func:`check_mutated_scenario`)."""
    check_mutated_scenario(tmp_path_factory.mktemp("fuzz"), key, value)


EXPERIMENT_KEYS = ["name", "seed", "replicates", "samples", "outputs", "chunk_size", "design", "overrides",
                   "parameters.0.low", "parameters.0.high", "parameters.0.key", "parameters.0.dist",
                   "parameters.1.low", "parameters.1.levels"]


@given(key=st.sampled_from(EXPERIMENT_KEYS), value=ODD_VALUES | st.sampled_from(
    ["..", "../x", "a/b", ".hidden", "share_gps_2099", ["share_gps_2099"], "region.synthetic_municipalities",
     "functionality.release_interval_months", "loguniform", "grid", "sobol", 3, 0.2, 100]))
def test_fuzz_mutated_experiment_is_rejected_in_one_line_or_gives_a_sound_design(tmp_path_factory, key, value):
    """An experiment file with one key set to an odd value: a one-line ConfigError naming file and key,
    or a design of finite values of the right type inside each key's validity, and outputs the model gives."""
    from sim.config import ConfigError, with_overrides
    from sim.sweep import load_experiment
    from sim.sweep.evaluate import ModelEvaluator
    from sim.sweep.experiment import _numeric_kind, base_config, make_design
    from sim.sweep.run import check_outputs

    tmp = tmp_path_factory.mktemp("xfuzz")
    data = tomllib.loads(experiment_file(tmp).read_text(encoding="utf-8"))
    data["samples"], data["replicates"] = 4, 1
    parts = key.split(".")
    node = data
    for p in parts[:-1]:
        node = node[int(p)] if p.isdigit() else node[p]
    node[parts[-1]] = value
    text = "\n".join(f"{k} = {_toml_value(v)}" for k, v in data.items() if k != "parameters")
    text += "".join("\n\n[[parameters]]\n" + "\n".join(f"{k} = {_toml_value(v)}" for k, v in p.items())
                    for p in data["parameters"])
    path = tmp / "experiment.toml"
    path.write_text(text, encoding="utf-8")
    try:
        exp = load_experiment(path)
        base = base_config(exp)
        check_outputs(exp, base, ModelEvaluator())
        design = make_design(exp)
    except ConfigError as err:
        assert "\n" not in str(err) and str(err).startswith(str(path)), str(err)
        return
    assert "/" not in exp.name and not exp.name.startswith(".")
    for k in exp.keys:
        col = design[k].to_numpy(float)
        assert np.isfinite(col).all(), (k, col)
        if k.startswith("dummy."):
            continue
        if _numeric_kind(k) is int:
            assert design[k].dtype.kind == "i"
        for v in design[k].iloc[:3]:
            with_overrides(base, {k: v.item() if hasattr(v, "item") else v})  # a valid value of its key


def test_summary_columns_are_known_before_a_run(small_config):
    """The columns an experiment's outputs are checked against are exactly those a run gives."""
    from sim.runner import run_one, summary_columns

    cols = list(run_one(small_config, 0).summary.columns)
    ids = ["scenario", "draw", "seed"]
    assert cols[:len(ids)] == ids and cols[len(ids):] == summary_columns(small_config)


# --------------------------------------------------------------------------- sweep machinery


class FlakyExecutor:
    """In-process executor whose machinery fails: the ``lose_at``-th wait raises ConnectionError (a lost
    scheduler, every run in flight lost), and the next ``restart_failures`` restarts fail too."""

    crash_breaks_pool = False
    capacity = 2

    def __init__(self, ctx, lose_at: int, restart_failures: int):
        self.ctx, self.lose_at, self.restart_failures = ctx, lose_at, restart_failures
        self.waits = self.restarts = 0
        self.lost = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def submit(self, fn, run):
        from sim.sweep.evaluate import evaluate_run

        if self.lost:
            raise ConnectionError("not connected to the scheduler")
        fut = type("Future", (), {})()
        fut.value = evaluate_run(self.ctx, run)
        return fut

    def wait_any(self, futures):
        self.waits += 1
        if self.waits == self.lose_at:
            self.lost = True
            raise ConnectionError("the scheduler was lost")
        return {next(iter(futures))}

    def result(self, fut):
        return fut.value

    def restart(self):
        self.restarts += 1
        if self.restarts <= self.restart_failures:
            raise ConnectionRefusedError(111, "Connection refused")
        self.lost = False


class _Made(list):
    """The executors a sweep made (and the faults the next ones get)."""


def _flaky_sweep(tmp_path, monkeypatch, lose_at, restart_failures):
    import sim.parallel
    import sim.sweep.run as sweep_run
    from tests.test_sweep import toy, write_experiment

    made = _Made()
    faults = {"lose_at": lose_at, "restart_failures": restart_failures}

    def make(ctx, kind="local", workers=None, scheduler=None):
        made.append(FlakyExecutor(ctx, **faults))
        return made[-1]

    made.faults = faults  # type: ignore[attr-defined]

    monkeypatch.setattr(sweep_run, "sweep_executor", make)
    monkeypatch.setattr(sim.parallel, "RESTART_BACKOFF_S", 0.001)
    exp = write_experiment(tmp_path, name="flaky")
    return exp, made, lambda: sweep_run.run_sweep(exp, tmp_path / "out", progress=False, evaluate=toy)


def test_lost_machinery_is_retried_with_back_off_and_loses_no_run(tmp_path, monkeypatch):
    exp, made, sweep = _flaky_sweep(tmp_path, monkeypatch, lose_at=5, restart_failures=2)
    root = sweep()
    ids = pd.read_parquet(root / "runs", columns=["run_id"])["run_id"]
    assert made[0].restarts == 3 and len(ids) == 24 and ids.is_unique


def test_machinery_that_never_comes_back_ends_in_one_line_saying_what_is_kept(tmp_path, monkeypatch):
    from sim.config import EnvironmentFault
    from sim.sweep.run import RESTART_TRIES

    exp, made, sweep = _flaky_sweep(tmp_path, monkeypatch, lose_at=5, restart_failures=10**6)
    with pytest.raises(EnvironmentFault) as err:
        sweep()
    msg = str(err.value)
    assert "\n" not in msg and f"after {RESTART_TRIES} tries" in msg and "ConnectionRefusedError" in msg
    kept = int(re.search(r"(\d+) of 24 runs are kept", msg).group(1))
    assert 0 < kept < 24 and "run the same command again to resume" in msg
    made.faults.update(lose_at=0, restart_failures=0)  # the cluster is back: the same call resumes
    root = sweep()
    ids = pd.read_parquet(root / "runs", columns=["run_id"])["run_id"]
    assert len(ids) == 24 and ids.is_unique
