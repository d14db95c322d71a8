"""Sweeps: designs, bad experiment files, executors that agree, crashes that lose nothing.

Most sweeps here use cheap stand-ins for the model (functions of the config, the design row
and the replicate's seed), defined in this module so that worker processes can import them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError
from sim.sweep import (TIMING_COLUMNS, base_config, expand_runs, load_experiment, make_design, merge_shards, open_dataset,
                       run_sweep, salib_problem, sweep_status)
from sim.sweep.store import read_failures

from .conftest import SMALL

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"


# --------------------------------------------------------------------------- stand-in evaluators


def toy(cfg, replicate, params):
    """Deterministic in (config, replicate): a smooth function of the parameters plus seeded noise."""
    rng = np.random.default_rng(np.random.SeedSequence(cfg.run.seed, spawn_key=(replicate,)))
    q, p = cfg.gp.bass_q_per_year, cfg.gp.bass_p_per_year
    return {"y": q + 10 * p + 0.01 * rng.standard_normal(), "z": q * cfg.financing.state_share + rng.random(),
            "unused": 1.0}


def slow_toy(cfg, replicate, params):
    """:func:`toy`, 100 ms slower (so a sweep can be killed midway)."""
    time.sleep(0.1)
    return toy(cfg, replicate, params)


@dataclass(frozen=True)
class Rendezvous:
    """:func:`toy`, but a run waits until runs have started in ``workers`` processes (each leaves its pid
    in ``folder``), so a pool of that many workers must share the runs however the OS schedules them.
    (A guard of ``guard_s`` seconds, far above any start-up, keeps a broken pool from hanging the test;
    the test does not time anything.)"""

    folder: str
    workers: int = 2
    guard_s: float = 300.0

    def __call__(self, cfg, replicate, params):
        Path(self.folder, str(os.getpid())).touch()
        t0 = time.monotonic()
        while len(os.listdir(self.folder)) < self.workers and time.monotonic() - t0 < self.guard_s:
            time.sleep(0.01)
        return toy(cfg, replicate, params)


@dataclass(frozen=True)
class Flaky:
    """:func:`toy`, but raises for dummy.x > 0.6 while the marker file exists."""

    marker: str

    def __call__(self, cfg, replicate, params):
        if params["dummy.x"] > 0.6 and Path(self.marker).exists():
            raise RuntimeError(f"transient failure at dummy.x = {params['dummy.x']:.3f}")
        return toy(cfg, replicate, params)


_WARMED: list[int] = []  # filled by WarmProbe.warm in the sweep's parent process


@dataclass(frozen=True)
class WarmProbe:
    """:func:`toy`, plus ``warm`` = 1 when this worker inherited the parent's ``warm(base)`` call, else 0."""

    def warm(self, base) -> None:
        _WARMED.append(base.run.seed)

    def __call__(self, cfg, replicate, params):
        return {**toy(cfg, replicate, params), "warm": float(bool(_WARMED))}


# --------------------------------------------------------------------------- helpers


def write_experiment(folder: Path, name: str = "toy", body: str | None = None, **top) -> Path:
    """An experiment file in ``folder`` on the small baseline; ``top`` overrides top-level keys."""
    fields = {"name": f'"{name}"', "base": f'"{BASELINE}"', "overrides": repr(SMALL).replace("'", '"'),
              "seed": "0", "replicates": "2", "design": '"lhs"', "samples": "12", "outputs": '["y", "z"]',
              "chunk_size": "4"} | {k: str(v) for k, v in top.items()}
    params = body if body is not None else """
[[parameters]]
key = "gp.bass_q_per_year"
[[parameters]]
key = "gp.bass_p_per_year"
low = 0.005
high = 0.02
[[parameters]]
key = "dummy.x"
"""
    path = folder / f"{name}.toml"
    path.write_text("\n".join(f"{k} = {v}" for k, v in fields.items()) + "\n" + params, encoding="utf-8")
    return path


def frame(sweep_dir: Path) -> pd.DataFrame:
    """A sweep's runs sorted by run_id, without timing and host fields (how sweeps are compared)."""
    df = open_dataset(sweep_dir).to_table().to_pandas()
    return df.drop(columns=list(TIMING_COLUMNS)).sort_values("run_id").reset_index(drop=True)


@pytest.fixture(scope="session")
def toy_experiment(tmp_path_factory):
    return write_experiment(tmp_path_factory.mktemp("exp"))


@pytest.fixture(scope="session")
def reference(toy_experiment, tmp_path_factory):
    """The toy experiment swept once, uninterrupted, on one local worker."""
    return frame(run_sweep(toy_experiment, tmp_path_factory.mktemp("ref"), workers=1, progress=False, evaluate=toy))


# --------------------------------------------------------------------------- designs


def _exp(tmp_path, design, samples, **kw):
    return load_experiment(write_experiment(tmp_path, design=f'"{design}"', samples=samples, **kw))


@pytest.mark.parametrize("design,samples,rows", [("lhs", 12, lambda d: 12), ("sobol", 8, lambda d: 8 * (d + 2)),
                                                 ("morris", 5, lambda d: 5 * (d + 1))])
def test_design_sizes_bounds_and_seed(tmp_path, design, samples, rows):
    exp = _exp(tmp_path, design, samples)
    d = make_design(exp)
    assert list(d.columns) == ["design_row", *exp.keys]
    assert len(d) == rows(len(exp.keys)) and d["design_row"].tolist() == list(range(len(d)))
    for p in exp.parameters:
        assert d[p.key].between(p.low, p.high).all()
    pd.testing.assert_frame_equal(d, make_design(exp))  # seed 0 is a seed, not "no seed"
    other = _exp(tmp_path, design, samples, seed=1)
    assert not np.allclose(make_design(other)[exp.keys].to_numpy(), d[exp.keys].to_numpy())


def test_sobol_second_order_and_lhs_strata(tmp_path):
    exp = _exp(tmp_path, "sobol", 4, second_order="true")
    assert len(make_design(exp)) == 4 * (2 * len(exp.keys) + 2)
    lhs = _exp(tmp_path, "lhs", 10)
    d = make_design(lhs)
    # the calibrated base fits gp.bass_q_per_year: without bounds it is drawn from its posterior (its strata are
    # the posterior's deciles, not the range's); the others are uniform
    assert {p.key: p.dist for p in lhs.parameters}["gp.bass_q_per_year"] == "posterior"
    for p in lhs.parameters:  # Latin hypercube: one point in each of the N equal strata of every uniform column
        assert d[p.key].between(p.low, p.high).all()
        if p.dist == "uniform":
            strata = np.floor((d[p.key] - p.low) / (p.high - p.low) * 10).astype(int)
            assert sorted(strata) == list(range(10))


def test_loguniform_grid_and_integer_keys(tmp_path):
    body = """
[[parameters]]
key = "gp.bass_p_per_year"
low = 0.001
high = 0.1
dist = "loguniform"
[[parameters]]
key = "functionality.release_interval_months"
low = 3
high = 12
"""
    exp = load_experiment(write_experiment(tmp_path, body=body, samples=8))
    d = make_design(exp)
    strata = np.floor(np.log10(d["gp.bass_p_per_year"] / 0.001) / 2 * 8).astype(int)
    assert sorted(strata) == list(range(8))  # stratified in log space
    assert d["functionality.release_interval_months"].dtype == np.int64
    assert salib_problem(exp)["dists"] == ["logunif", "unif"]
    grid = """
[[parameters]]
key = "gp.bass_q_per_year"
levels = [0.3, 0.5]
[[parameters]]
key = "dummy.x"
levels = [0, 1, 2]
"""
    g = make_design(load_experiment(write_experiment(tmp_path, design='"grid"', body=grid)))
    assert g[["gp.bass_q_per_year", "dummy.x"]].values.tolist() == [[0.3, 0], [0.3, 1], [0.3, 2],
                                                                     [0.5, 0], [0.5, 1], [0.5, 2]]


def test_expand_runs_ids_and_replicates(toy_experiment):
    exp = load_experiment(toy_experiment)
    runs = expand_runs(exp)
    assert len(runs) == 12 * 2 and runs["run_id"].is_unique
    assert runs["run_id"].iloc[3] == "toy-000001-001"
    assert list(runs.columns[:3]) == ["run_id", "design_row", "replicate"]
    design = make_design(exp).set_index("design_row")
    np.testing.assert_array_equal(runs[exp.keys].to_numpy(), design.loc[runs["design_row"], exp.keys].to_numpy())


# --------------------------------------------------------------------------- bad experiment files


@pytest.mark.parametrize("edit,expect", [
    ({"replicats": 2}, "replicats: unknown key (did you mean 'replicates'?)"),
    ({"design": '"lhc"'}, "design: must be 'grid', 'lhs', 'sobol' or 'morris'"),
    ({"samples": 10, "design": '"sobol"'}, "samples: sobol needs a power of 2, got 10 (try 8 or 16)"),
    ({"overrides": '["region.kindd=synthetic"]'}, "overrides:"),
])
def test_bad_top_level_keys(tmp_path, edit, expect):
    path = write_experiment(tmp_path, **edit)
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(str(path)), msg
    assert expect.split(" (")[0] in msg, msg
    if "did you mean" in expect:
        assert expect in msg


@pytest.mark.parametrize("param,expect", [
    ('key = "gp.bass_q_per_year"\nhihg = 0.5', "parameters.0.hihg: unknown key (did you mean 'high'?)"),
    ('key = "gp.bass_q_per_yer"', "parameters.0.key: gp.bass_q_per_yer: unknown key (did you mean 'gp.bass_q_per_year'?)"),
    ('key = "gp.bass_q_per_year"\nlow = 0.6\nhigh = 0.3', "parameters.0.low: must be < high, got low 0.6 and high 0.3"),
    ('key = "gp.bass_q_per_year"\nlow = -1.0', "parameters.0.low: gp.bass_q_per_year: must be >= 0"),
    ('key = "gp.peer_graph"', "parameters.0.key: gp.peer_graph is not a numeric parameter"),
    ('key = "region.single_office_prob_below_5000"', "has no declared sweep range; give low and high"),
    ('key = "gp.bass_q_per_year"\ndist = "lognormal"', "parameters.0.dist: must be"),
])
def test_bad_parameters(tmp_path, param, expect):
    path = write_experiment(tmp_path, body=f"[[parameters]]\n{param}\n")
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{path}: "), msg
    assert expect in msg, msg


# --------------------------------------------------------------------------- executors agree


@pytest.mark.slow
def test_executors_agree(toy_experiment, reference, tmp_path):
    """Local with 1 (the reference) and 2 workers and Dask give the same rows, sorted by run_id."""
    exp = load_experiment(toy_experiment)
    assert len(reference) == 24 and reference["run_id"].is_unique
    (tmp_path / "pids").mkdir()
    two = run_sweep(exp, tmp_path / "two", workers=2, progress=False, evaluate=Rendezvous(str(tmp_path / "pids")))
    pd.testing.assert_frame_equal(frame(two), reference, check_exact=True)
    dask = run_sweep(exp, tmp_path / "dask", executor="dask", workers=2, progress=False, evaluate=toy)
    pd.testing.assert_frame_equal(frame(dask), reference, check_exact=True)
    # really two processes: the first runs waited for each other (Rendezvous), whichever worker was faster
    assert len(set(open_dataset(two).to_table().column("pid").to_pylist())) == 2
    runs = expand_runs(exp)  # every row carries its design values and the experiment seed
    pd.testing.assert_frame_equal(reference[runs.columns.tolist()], runs, check_dtype=False)
    assert (reference["seed"] == exp.seed).all()


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_start_methods_agree_and_forked_workers_share_the_warm_parent(toy_experiment, reference, tmp_path,
                                                                      monkeypatch, method):
    """Every way a local worker can start gives the reference rows; only forked workers inherit the
    evaluator's ``warm`` (the model's built region and network), called once in the parent."""
    import multiprocessing

    import sim.parallel

    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} on this platform")
    monkeypatch.setattr(sim.parallel, "start_method", lambda: method)
    path = write_experiment(tmp_path, name=f"warm_{method}", outputs='["y", "z", "warm"]')
    _WARMED.clear()
    try:
        got = frame(run_sweep(path, tmp_path / "out", workers=2, progress=False, evaluate=WarmProbe()))
    finally:
        _WARMED.clear()
    same = [c for c in reference.columns if c != "run_id"]  # run ids carry the experiment's name
    pd.testing.assert_frame_equal(got.sort_values(["design_row", "replicate"])[same].reset_index(drop=True),
                                  reference.sort_values(["design_row", "replicate"])[same].reset_index(drop=True),
                                  check_exact=True)
    assert (got["warm"] == (1.0 if method == "fork" else 0.0)).all()


# --------------------------------------------------------------------------- a killed sweep loses nothing


def test_sigkill_midway_then_resume(toy_experiment, reference, tmp_path):
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim", "sweep", str(toy_experiment), "--out", str(out), "--workers", "2",
           "--quiet", "--evaluator", "tests.test_sweep:slow_toy"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    runs_dir = out / "toy" / "runs"
    deadline = time.monotonic() + 60
    while not list(runs_dir.glob("part-*.parquet")):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "no chunk written within 60 s"
        time.sleep(0.01)
    workers = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=15)
    for p in alive:  # clean up before failing
        p.kill()
    assert not alive, f"workers outlived their parent: {alive}"

    partial = frame(out / "toy")
    assert 0 < len(partial) < len(reference), "the kill did not land midway"
    part = sorted(runs_dir.glob("part-*.parquet"))[0]  # a duplicated chunk (as from a doubled job) is dropped
    shutil.copy(part, runs_dir / "part-copy.parquet")
    run_sweep(toy_experiment, out, workers=2, progress=False, evaluate=slow_toy)
    final = frame(out / "toy")
    assert final["run_id"].is_unique
    pd.testing.assert_frame_equal(final, reference, check_exact=True)
    assert sweep_status(out / "toy") == {"n_runs": 24, "done": 24, "failed": 0, "missing": 0}


# --------------------------------------------------------------------------- failures and retries


def test_failed_runs_are_recorded_and_retried(tmp_path):
    """Runs with state_share + regional_share > 1 are invalid configs; flaky runs fail until fixed."""
    body = """
[[parameters]]
key = "financing.state_share"
[[parameters]]
key = "financing.regional_share"
[[parameters]]
key = "dummy.x"
"""
    exp = load_experiment(write_experiment(tmp_path, name="failing", body=body, samples=16, replicates=1))
    marker = tmp_path / "flaky-on"
    marker.touch()
    root = run_sweep(exp, tmp_path / "out", workers=2, progress=False, evaluate=Flaky(str(marker)))

    design = make_design(exp)
    invalid = design["financing.state_share"] + design["financing.regional_share"] > 1
    flaky = ~invalid & (design["dummy.x"] > 0.6)
    assert invalid.any() and flaky.any() and (~invalid & ~flaky).any()
    fails = pd.read_csv(root / "failures.csv")
    by_type = fails.groupby("error_type")["run_id"].apply(set).to_dict()
    runs = expand_runs(exp)
    assert by_type == {"ConfigError": set(runs["run_id"][invalid.to_numpy()]),
                       "RuntimeError": set(runs["run_id"][flaky.to_numpy()])}
    assert fails["message"].str.len().gt(0).all() and fails["traceback"].str.contains("Traceback").all()
    assert fails["message"][fails["error_type"] == "ConfigError"].str.contains("regional_share").all()
    np.testing.assert_allclose(fails.set_index("run_id").loc[runs["run_id"][invalid.to_numpy()], "financing.state_share"],
                               design["financing.state_share"][invalid])
    assert set(frame(root)["run_id"]) == set(runs["run_id"][(~invalid & ~flaky).to_numpy()])

    run_sweep(exp, tmp_path / "out", workers=2, progress=False, evaluate=Flaky(str(marker)))  # resume: no reruns
    assert read_failures(root / "failures.csv").keys() == set(fails["run_id"])

    marker.unlink()  # the transient cause is fixed: retry only the failed runs
    run_sweep(exp, tmp_path / "out", workers=2, progress=False, retry_failed=True, evaluate=Flaky(str(marker)))
    assert set(read_failures(root / "failures.csv")) == by_type["ConfigError"]
    done = frame(root)
    assert done["run_id"].is_unique and set(done["run_id"]) == set(runs["run_id"][(~invalid).to_numpy()])
    assert sweep_status(root) == {"n_runs": 16, "done": int((~invalid).sum()), "failed": int(invalid.sum()),
                                  "missing": 0}


# --------------------------------------------------------------------------- shards


def test_shards_merge_to_the_whole_sweep(toy_experiment, reference, tmp_path):
    out = tmp_path / "out"
    for i in range(3):
        run_sweep(toy_experiment, out, workers=1, shard=f"{i}/3", progress=False, evaluate=toy)
    root = out / "toy"
    assert len(frame(root)) == 0  # nothing merged yet
    shard0 = sorted((root / "shards" / "0-of-3" / "runs").glob("part-*.parquet"))[0]
    shutil.copy(shard0, root / "shards" / "1-of-3" / "runs" / "part-dup.parquet")  # a run in two shards
    merge_shards(root)
    assert not (root / "shards").exists()
    pd.testing.assert_frame_equal(frame(root), reference, check_exact=True)
    with pytest.raises(ConfigError, match="need 0 <= I < N"):
        run_sweep(toy_experiment, out, shard="3/3", progress=False, evaluate=toy)


def test_another_design_in_the_same_folder_is_refused(toy_experiment, tmp_path):
    out = tmp_path / "out"
    run_sweep(toy_experiment, out, workers=1, progress=False, evaluate=toy)
    changed = write_experiment(tmp_path, seed=7)
    with pytest.raises(ConfigError, match="holds a different design"):
        run_sweep(changed, out, workers=1, progress=False, evaluate=toy)


# --------------------------------------------------------------------------- the loop: bounded, crash-safe


class _Done:
    """A finished future."""

    def __init__(self, value=None, error=None):
        self.value, self.error = value, error

    def result(self):
        if self.error:
            raise self.error
        return self.value


class FakeExecutor:
    """In-process executor: records the largest window; a 'poison' run crashes the pool it runs in,
    which then refuses runs until restarted (as a broken ProcessPoolExecutor does)."""

    crash_breaks_pool = True

    def __init__(self, ctx, capacity=2, poison=(), interrupt_after=None):
        self.ctx, self.capacity, self.poison = ctx, capacity, set(poison)
        self.inflight, self.max_inflight, self.pending = 0, 0, []
        self.interrupt_after, self.n_waits = interrupt_after, 0
        self.broken, self.restarts = False, 0

    def submit(self, fn, run):
        from sim.sweep.evaluate import evaluate_run

        if self.broken:
            raise RuntimeError("submit to a broken pool")
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        fut = _Done(evaluate_run(self.ctx, run))
        fut.run_id = run["run_id"]
        self.pending.append(fut)
        return fut

    def wait_any(self, futures):
        from sim.parallel import WorkerCrash

        self.n_waits += 1
        if self.n_waits == self.interrupt_after:
            raise KeyboardInterrupt
        if any(f.run_id in self.poison for f in futures):  # the pool breaks: every run in flight fails
            for f in futures:
                f.error = WorkerCrash("a worker died")
            done = set(futures)
            self.broken = True
        else:
            done = {next(iter(futures))}
        self.inflight -= len(done)
        return done

    def result(self, fut):
        return fut.result()

    def restart(self):
        self.inflight, self.broken = 0, False
        self.restarts += 1


def test_loop_keeps_a_bounded_window_and_isolates_a_crashing_run(toy_experiment, tmp_path):
    from sim.sweep.evaluate import SweepContext
    from sim.sweep.experiment import base_config
    from sim.sweep.run import WINDOW_PER_WORKER, _drive, runs_schema
    from sim.sweep.store import Sink, iter_missing

    exp = load_experiment(toy_experiment)
    runs = expand_runs(exp)
    ctx = SweepContext(base=base_config(exp), outputs=("y", "z"), evaluate=toy)
    poison = runs["run_id"].iloc[5]
    ex = FakeExecutor(ctx, capacity=2, poison=[poison])
    sink = Sink(tmp_path, runs_schema(exp, make_design(exp)), exp.keys).open()
    n_done = []
    _drive(ex, iter_missing(runs, set()), sink, chunk_size=3, on_done=n_done.append)
    assert ex.max_inflight <= WINDOW_PER_WORKER * 2
    chunks = [pd.read_parquet(f) for f in sorted((tmp_path / "runs").glob("part-*.parquet"))]
    assert max(len(c) for c in chunks) <= 3  # never more than a chunk of results held
    got = pd.concat(chunks)
    assert set(got["run_id"]) == set(runs["run_id"]) - {poison} and got["run_id"].is_unique
    assert list(read_failures(tmp_path / "failures.csv")) == [poison]
    assert sum(n_done) == 1 and len(n_done) == len(runs)
    assert ex.restarts == 2  # after the crash with runs in flight, and after the isolated poison run


@dataclass(frozen=True)
class KillsItsWorker:
    """:func:`toy`, but the worker process dies (os._exit) on replicate 0 of the row with dummy.x = ``dummy_x``."""

    dummy_x: float

    def __call__(self, cfg, replicate, params):
        if params["dummy.x"] == self.dummy_x and replicate == 0:
            os._exit(3)
        return toy(cfg, replicate, params)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_run_that_kills_its_worker_is_recorded_and_the_sweep_goes_on(toy_experiment, reference, tmp_path, workers):
    """A real worker death (os._exit) on one run: that run is a WorkerCrash failure, every other run is done."""
    dummy_x = float(make_design(load_experiment(toy_experiment))["dummy.x"][4])
    root = run_sweep(toy_experiment, tmp_path, workers=workers, progress=False, evaluate=KillsItsWorker(dummy_x))
    killer = reference.loc[(reference["design_row"] == 4) & (reference["replicate"] == 0), "run_id"].item()
    failures = read_failures(root / "failures.csv")
    assert list(failures) == [killer] and failures[killer]["error_type"] == "WorkerCrash"
    pd.testing.assert_frame_equal(frame(root), reference[reference["run_id"] != killer].reset_index(drop=True),
                                  check_exact=True)


def test_an_interrupt_commits_every_finished_run(toy_experiment, tmp_path):
    from sim.sweep.evaluate import SweepContext
    from sim.sweep.experiment import base_config
    from sim.sweep.run import _drive, runs_schema
    from sim.sweep.store import Sink, iter_missing

    exp = load_experiment(toy_experiment)
    runs = expand_runs(exp)
    ex = FakeExecutor(SweepContext(base=base_config(exp), outputs=("y", "z"), evaluate=toy), interrupt_after=8)
    sink = Sink(tmp_path, runs_schema(exp, make_design(exp)), exp.keys).open()
    n_done = []
    with pytest.raises(KeyboardInterrupt):
        _drive(ex, iter_missing(runs, set()), sink, chunk_size=5, on_done=n_done.append)
    assert len(n_done) == 7 and sink.done_ids() == set(runs["run_id"][:7])  # 5 + a partial chunk of 2


# --------------------------------------------------------------------------- the model


@pytest.mark.slow
def test_model_sweep_agrees_across_executors_and_ignores_dummy_keys(tmp_path, monkeypatch):
    """The model itself: local with 1 worker (forked from a parent that built the network, where
    fork exists), 2 workers (from a fork server) and Dask give identical rows; rows that differ
    only in a dummy key give identical outputs (the dummy's sensitivity index is exactly 0)."""
    import multiprocessing

    import sim.parallel

    methods = multiprocessing.get_all_start_methods()
    start = iter(m for m in ("fork", "forkserver") if m in methods)
    monkeypatch.setattr(sim.parallel, "start_method", lambda: next(start, "spawn"))
    economics = pytest.importorskip("sim.economics")
    if not hasattr(economics, "run_economics"):
        pytest.skip("the model's economics are not in yet")
    outputs = ["share_gps_2030", "gain_realized_2030", "information_available_2030", "search_hours_2030"]
    body = '[[parameters]]\nkey = "dummy.x"\nlevels = [0.0, 1.0]\n[[parameters]]\nkey = "gp.bass_q_per_year"\nlevels = [0.6]\n'
    path = write_experiment(tmp_path, name="model", design='"grid"', replicates=2, body=body,
                            outputs=repr(outputs).replace("'", '"'), timeseries="true")
    root = run_sweep(path, tmp_path / "one", workers=1, progress=False)
    one = frame(root)
    assert len(one) == 4 and one[outputs].notna().all().all(), one

    def monthly(sweep_dir):
        ts = open_dataset(sweep_dir, "timeseries").to_table().to_pandas()
        return ts.sort_values(["run_id", "t"]).reset_index(drop=True)

    ts = monthly(root)
    n_months = base_config(load_experiment(path)).n_months
    assert set(ts["run_id"]) == set(one["run_id"])
    assert ts.groupby("run_id")["t"].apply(list).map(lambda t: t == list(range(n_months))).all()
    for kw in ({"workers": 2}, {"executor": "dask", "workers": 2}):
        other = run_sweep(path, tmp_path / kw.get("executor", "two"), progress=False, **kw)
        pd.testing.assert_frame_equal(frame(other), one, check_exact=True)
        pd.testing.assert_frame_equal(monthly(other), ts, check_exact=True)
    by_dummy = [g.set_index("replicate")[outputs] for _, g in one.groupby("dummy.x")]
    pd.testing.assert_frame_equal(by_dummy[0], by_dummy[1], check_exact=True)
