"""Fault injection: what was killed or fed, what happened, what was kept. Rebuilds docs/reliability.md.

    nice .venv/bin/python benchmarks/faults.py            # every fault (about 30 minutes on a loaded 2-core machine)
    .venv/bin/python benchmarks/faults.py --quick         # fewer fuzz examples and kills, no Dask
    .venv/bin/python benchmarks/faults.py --fuzz 1000     # more mutated configs

Real processes get real signals (SIGINT to the process group, as a terminal's Ctrl-C; SIGKILL to
a parent or a worker); a full or read-only disk is a small tmpfs mounted for the purpose when this
user may mount one (else the write is monkeypatched to fail, as in tests/test_reliability.py, and
the table says so). Stop latency is the time from SIGINT to the process's exit. Each row's
outcome is judged: "ok" (one line and the documented exit code, nothing half-written, nothing
lost), or what went wrong.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import BASELINE, SMALL  # noqa: E402
from tests.test_interrupt import _quick_paper, _sweep_experiment, cpu_seconds, interrupt_when  # noqa: E402
from tests.test_reliability import (CONFIG_CORPUS, EXPERIMENT_CORPUS, LEAVES, ODD_LIST,  # noqa: E402
                                    check_mutated_scenario, experiment_file, scenario_file)

DOC = ROOT / "docs" / "reliability.md"
SMALL_SETS = [a for s in [*SMALL, "run.end_month=2030-12"] for a in ("--set", s)]
ROWS: list[dict] = []
MEASURED: dict[str, str] = {}
LOAD = {"start": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def add(group: str, fault: str, done: str, happened: str, kept: str, ok: bool) -> None:
    ROWS.append({"group": group, "fault": fault, "done": done, "happened": happened, "kept": kept,
                 "verdict": "ok" if ok else "**NOT OK**"})
    print(f"[{'ok' if ok else 'NOT OK'}] {group}: {fault}: {happened} | {kept}", flush=True)


def cli(*args, timeout: float = 900, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, **kw)


def lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.strip()]


SCRUB: list[tuple[str, str]] = [(str(ROOT) + "/", "")]
"""Machine-specific path prefixes replaced in the table (the temporary folder becomes DIR)."""


def said(code: int, err: str) -> str:
    for a, b in SCRUB:
        err = err.replace(a, b)
    ls = lines(err)
    first = (ls[0][:140] + ("..." if len(ls[0]) > 140 else "")) if ls else ""
    tb = " (a traceback)" if "Traceback" in err else ""
    if tb:  # the whole of it in this script's output, for whoever fixes it
        print(f"---- traceback (exit {code}):\n{err}\n----", flush=True)
    return f"exit {code}, {len(ls)} line{'s' if len(ls) != 1 else ''}{tb}: `{first.replace('|', '/')}`"


def leftovers(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*")) if out.exists() else []


def hidden_or_empty(out: Path) -> list[Path]:
    return [p for p in leftovers(out) if p.name.startswith((".tmp-", ".old-")) or (p.is_dir() and not any(p.iterdir()))]


# --------------------------------------------------------------------------- bad input


def main_cli(*args) -> subprocess.CompletedProcess:
    """``onerecord ARGS`` through ``sim.cli.main`` in this process (the console script's own handling;
    no interpreter start-up per case), as a CompletedProcess."""
    from tests.test_reliability import run_cli

    code, out, err = run_cli(*args)
    return subprocess.CompletedProcess(list(args), code, out, err)


def bad_input(tmp: Path) -> None:
    """The issue's cases through the command line's entry point (in this process; the first one and
    ``--seeds two`` also through ``python -m sim``, whose exit code must pass through)."""
    for i, (body, _) in enumerate(CONFIG_CORPUS):
        path, out = scenario_file(tmp, body), tmp / "out"
        res = (cli if i == 0 else main_cli)("run", path, "--seeds", 1, "--out", out, "-q")
        add("bad input", f"scenario `{body.splitlines()[-1]}`", "`run FILE --seeds 1`", said(res.returncode, res.stderr),
            "nothing written" if not out.exists() else f"{len(leftovers(out))} paths written",
            res.returncode == 2 and len(lines(res.stderr)) == 1 and not out.exists())
    for (pat, rep), _ in EXPERIMENT_CORPUS:
        path, out = experiment_file(tmp, (pat, rep)), tmp / "xout" / "inner"
        res = main_cli("sweep", path, "--out", out, "--workers", 1, "-q")
        add("bad input", f"experiment `{rep.splitlines()[-1]}`", "`sweep FILE`", said(res.returncode, res.stderr),
            "nothing written" if not (tmp / "xout").exists() else "written", res.returncode == 2
            and len(lines(res.stderr)) == 1 and not (tmp / "xout").exists())
    for args in (["run", BASELINE, "--seeds", "two"], ["run", BASELINE, "--seeds", "100000000"],
                 ["run", BASELINE, "--set", "gp.bass_p=0.1"], ["report", BASELINE], ["compare", ROOT / "configs"]):
        res = (cli if args[-1] == "two" else main_cli)(*args, "--out", tmp / "cout")
        shown = " ".join(str(a).replace(str(ROOT) + "/", "") for a in args).replace(str(tmp), "DIR")
        add("bad input", f"`{shown}`", "command line", said(res.returncode, res.stderr),
            "nothing written" if not (tmp / "cout").exists() else "written",
            res.returncode == 2 and len(lines(res.stderr)) == 1 and not (tmp / "cout").exists())


def fuzz(tmp: Path, n: int, seed: int) -> None:
    """``n`` baselines with one key set to an odd value (tests/test_reliability.py's check)."""
    rng = random.Random(seed)
    counts = {"rejected": 0, "accepted": 0, "quietly wrong": 0, "traceback": 0}
    for i in range(n):
        key, value = rng.choice(LEAVES), rng.choice(ODD_LIST)
        case = tmp / f"fuzz{i}"
        case.mkdir()
        try:
            counts[check_mutated_scenario(case, key, value)] += 1
        except AssertionError as err:
            counts["quietly wrong"] += 1
            print(f"quietly wrong: {'.'.join(key)} = {value!r}: {str(err)[:300]}", flush=True)
        except Exception as err:  # noqa: BLE001 (the point: count what escapes)
            counts["traceback"] += 1
            print(f"traceback: {'.'.join(key)} = {value!r}: {type(err).__name__}: {err}", flush=True)
        shutil.rmtree(case, ignore_errors=True)
    MEASURED["fuzz"] = (f"{n} mutated scenario files (seed {seed}): {counts['rejected']} rejected in one line, "
                        f"{counts['accepted']} accepted and sound, {counts['quietly wrong']} quietly wrong, "
                        f"{counts['traceback']} tracebacks")
    add("bad input", f"{n} mutated scenario files (one key set to an odd value)", "validate; run 1 seed if accepted",
        f"{counts['rejected']} rejected (exit 2, one line), {counts['accepted']} accepted", "rejections wrote nothing; "
        f"accepted runs: no NaN/inf where a number is promised, no coercion",
        counts["quietly wrong"] == 0 and counts["traceback"] == 0)


# --------------------------------------------------------------------------- the operating system


def _mount(where: Path, options: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True).returncode == 0


def _umount(where: Path) -> None:
    subprocess.run(["umount", str(where)], capture_output=True)


def os_faults(tmp: Path) -> None:
    disk = tmp / "disk"
    if _mount(disk, "size=150k"):
        out = disk / "out"
        res = cli("run", BASELINE, "--seeds", 2, "--out", out, "-q", *SMALL_SETS)
        add("operating system", "full disk (150 kB tmpfs)", "`run` small region, 2 seeds", said(res.returncode, res.stderr),
            f"{len(leftovers(disk))} paths on the disk", res.returncode == 3 and len(lines(res.stderr)) == 1
            and not leftovers(disk))
        _umount(disk)
        exp = _sweep_experiment(tmp)
        _mount(disk, "size=60k")
        out = disk / "sweep"
        res = cli("sweep", exp, "--workers", 2, "--out", out, "-q")
        kept = len(list((out / "smoke" / "runs").glob("part-*.parquet"))) if out.exists() else 0
        add("operating system", "full disk during a sweep (60 kB tmpfs)", "`sweep` smoke (40 runs)",
            said(res.returncode, res.stderr), f"{kept} whole chunk files kept, {len(hidden_or_empty(out))} temporary",
            res.returncode == 3 and len(lines(res.stderr)) == 1 and not hidden_or_empty(out))
        _umount(disk)
        _mount(disk, "size=1m,ro")
        res = cli("run", BASELINE, "--seeds", 1, "--out", disk / "out", "-q", *SMALL_SETS)
        add("operating system", "read-only output folder (tmpfs mounted ro)", "`run`", said(res.returncode, res.stderr),
            "nothing written", res.returncode in (2, 3) and len(lines(res.stderr)) == 1)
        _umount(disk)
    else:
        add("operating system", "full disk / read-only folder", "(no tmpfs: this user may not mount)",
            "see tests/test_reliability.py (monkeypatched ENOSPC and EROFS)", "", True)
    out = tmp / "missing" / "deeper" / "out"
    res = cli("run", BASELINE, "--seeds", 1, "--out", out, "-q", *SMALL_SETS)
    add("operating system", "missing output folder (two levels)", "`run`", said(res.returncode, res.stderr),
        "created, the run written", res.returncode == 0 and any(out.rglob("manifest.json")))
    (tmp / "afile").write_text("x")
    res = cli("run", BASELINE, "--seeds", 1, "--out", tmp / "afile" / "out", "-q")
    add("operating system", "output folder under a file", "`run`", said(res.returncode, res.stderr), "nothing written",
        res.returncode == 2 and len(lines(res.stderr)) == 1)

    def limit_memory() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))

    out = tmp / "mem"
    res = cli("run", BASELINE, "--seeds", 400, "--out", out, "-q", preexec_fn=limit_memory)
    add("operating system", "memory (address space limited to 1.5 GB)", "`run` baseline, 400 seeds",
        said(res.returncode, res.stderr), f"{len(leftovers(out))} paths written",
        res.returncode in (0, 3) and len(lines(res.stderr)) <= 1 and "Traceback" not in res.stderr
        and not hidden_or_empty(out))


# --------------------------------------------------------------------------- signals


def _latency(args: list[str], ready) -> tuple[int, str, float]:
    t = {}

    def when(text, proc):
        if ready(text, proc):
            t["sent"] = time.monotonic()
            return True
        return False

    code, _, err = interrupt_when(args, when)
    return code, err, time.monotonic() - t["sent"]


def signals(tmp: Path, quick: bool) -> None:
    from tests.test_interrupt import seeds_done

    latencies = []
    cases = [("`run` --jobs 1, after 2 seeds", ["run", str(BASELINE), "--seeds", "60", "--jobs", "1"], seeds_done(2)),
             ("`run` --jobs 2, after 4 seeds", ["run", str(BASELINE), "--seeds", "60", "--jobs", "2"], seeds_done(4))]
    exp = _sweep_experiment(tmp)
    for i, (name, args, ready) in enumerate(cases * (1 if quick else 4)):
        out = tmp / f"sig{i}"
        code, err, dt = _latency([*args, "--out", str(out)], ready)
        latencies.append(dt)
        add("Ctrl-C", f"SIGINT to the process group: {name}", "", f"{said(code, err)}; stopped in {dt:.2f} s",
            f"{len(leftovers(out))} paths", code == 130 and len(lines(err)) == 1 and not leftovers(out))
    out = tmp / "sigsave"
    code, err, dt = _latency(["run", str(BASELINE), "--seeds", "2", "--out", str(out), *SMALL_SETS],
                             lambda _t, _p: any(out.glob("*/.tmp-*/timeseries.parquet")))
    latencies.append(dt)
    add("Ctrl-C", "SIGINT during the save (figures being drawn)", "", f"{said(code, err)}; stopped in {dt:.2f} s",
        f"{len(leftovers(out))} paths (no temporary, no empty scenario folder)", code == 130 and not leftovers(out))
    out = tmp / "sigsweep"
    code, err, dt = _latency(["sweep", str(exp), "--workers", "2", "--out", str(out)],
                             lambda _t, _p: len(list((out / "smoke" / "runs").glob("part-*.parquet"))) >= 2)
    latencies.append(dt)
    res = cli("sweep", exp, "--workers", 2, "--out", out, "-q")
    add("Ctrl-C", "SIGINT during a sweep (after 2 chunks), then the same command", "",
        f"{said(code, err)}; stopped in {dt:.2f} s; resumed: {res.stdout.strip().split(': ')[-1]}",
        f"{len(hidden_or_empty(out))} temporary", code == 130 and "40 of 40 runs done" in res.stdout
        and not hidden_or_empty(out))
    paper, out = _quick_paper(tmp), tmp / "sigreport"
    code, err, dt = _latency(["report", str(paper), "--quick", "--workers", "2", "--out", str(out)],
                             lambda _t, _p: out.exists() and any(p.is_file() for p in out.rglob("*")))
    latencies.append(dt)
    add("Ctrl-C", "SIGINT during `report --quick` (after its first file)", "", f"{said(code, err)}; stopped in {dt:.2f} s",
        f"{len(hidden_or_empty(out))} temporary or empty", code == 130 and len(lines(err)) == 1 and not hidden_or_empty(out))
    out = tmp / "sigcal"
    start: list[float] = []

    def cal_ready(text, proc):
        if "calibrating" in text and not start:
            start.append(cpu_seconds(proc.pid))
        return bool(start) and cpu_seconds(proc.pid) - start[0] > 2.0

    code, err, dt = _latency(["calibrate", str(BASELINE), "--quick", "--seeds", "1", "--out", str(out)], cal_ready)
    latencies.append(dt)
    add("Ctrl-C", "SIGINT during `calibrate --quick` (2 s of fitting)", "", f"{said(code, err)}; stopped in {dt:.2f} s",
        f"{len(leftovers(out))} paths", code == 130 and len(lines(err)) == 1 and not hidden_or_empty(out))
    MEASURED["stop latency"] = (f"SIGINT to exit over {len(latencies)} interrupts: median {sorted(latencies)[len(latencies) // 2]:.2f} s, "
                                f"max {max(latencies):.2f} s")


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` now, whichever of its threads started them (Linux /proc; a Dask nanny
    starts its worker from a thread other than the main one), oldest first."""
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(set(kids))


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _kill_a_child(pid: int, tries: int = 50) -> bool:
    """SIGKILL one live worker child of ``pid`` (the newest, not multiprocessing's resource tracker; a child may
    end between listing and killing: try again)."""
    for _ in range(tries):
        for child in reversed(_children(pid)):
            if "resource_tracker" in _cmdline(child):
                continue
            try:
                os.kill(child, signal.SIGKILL)
                return True
            except ProcessLookupError:
                continue
        time.sleep(0.1)
    return False


def _runs(out: Path):
    """A sweep's runs without timing columns, sorted by run id (how sweeps are compared)."""
    import pandas as pd

    folder = out / "smoke" / "runs"
    if not folder.exists():
        return pd.DataFrame({"run_id": []})
    df = pd.read_parquet(folder).drop(columns=["elapsed_s", "host", "pid"])
    return df.sort_values("run_id").reset_index(drop=True)


FORKSERVER_SWEEP = ("import sys, sim.parallel as p\n"
                    "p.start_method = lambda: 'forkserver'  # as a process with other threads (a notebook) starts workers\n"
                    "from sim.cli import main\nraise SystemExit(main(sys.argv[1:]))\n")


def kill_fork_server(tmp: Path, exp: Path, ref: Path) -> None:
    """SIGKILL of the fork server and one of its workers mid-sweep (a pool whose restart needs a new server)."""
    out = tmp / "killforkserver"
    proc = subprocess.Popen([sys.executable, "-c", FORKSERVER_SWEEP, "sweep", str(exp), "--workers", "2", "--out", str(out),
                             "-q"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server, workers = None, []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 300 and proc.poll() is None:
        server = next((c for c in _children(proc.pid) if "forkserver" in _cmdline(c)), None)
        workers = _children(server) if server else []
        if workers and list((out / "smoke" / "runs").glob("part-*.parquet")):
            break
        time.sleep(0.1)
    killed = []
    for pid in ([server] if server else []) + workers[-1:]:
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            pass
    stdout, err = proc.communicate(timeout=900)
    a, b = _runs(out), _runs(ref)
    same = len(a) == len(b) and a.equals(b)
    add("SIGKILL", "SIGKILL of the fork server and one of its workers mid-sweep (workers started by a fork server)", "",
        f"{said(proc.returncode, err)}: {stdout.strip().split(': ')[-1]}",
        f"{len(a)} runs, identical to a 1-worker sweep: {same}", len(killed) == 2 and proc.returncode == 0 and same)


def kills(tmp: Path, quick: bool) -> None:
    out = tmp / "killsave"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", str(BASELINE), "--seeds", "2", "--out", str(out), "-q",
                             *SMALL_SETS], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not any(out.glob("*/.tmp-*/timeseries.parquet")) and proc.poll() is None:
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    stale = [p.name for p in out.glob("*/.tmp-*")]
    res = cli("run", BASELINE, "--seeds", 2, "--out", out, "-q", *SMALL_SETS)
    add("SIGKILL", "SIGKILL of `run` during its save, then the same run", "", f"left {len(stale)} `.tmp-*` folder; "
        f"next run: {said(res.returncode, res.stderr)}", f"{len(list(out.glob('*/.tmp-*')))} `.tmp-*` left after the next run",
        len(stale) == 1 and res.returncode == 0 and not list(out.glob("*/.tmp-*")))

    exp = _sweep_experiment(tmp)
    ref = tmp / "ref"
    cli("sweep", exp, "--workers", 1, "--out", ref, "-q")
    out = tmp / "killsweep"
    rng = random.Random(24)
    n_kills = 2 if quick else 5
    for _ in range(n_kills):
        proc = subprocess.Popen([sys.executable, "-m", "sim", "sweep", str(exp), "--workers", "2", "--out", str(out), "-q"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.5, 6.0))
        proc.kill()
        proc.wait()
    res = cli("sweep", exp, "--workers", 2, "--out", out, "-q")
    import pandas as pd

    a = pd.read_parquet(out / "smoke" / "runs").drop(columns=["elapsed_s", "host", "pid"]).sort_values("run_id")
    b = pd.read_parquet(ref / "smoke" / "runs").drop(columns=["elapsed_s", "host", "pid"]).sort_values("run_id")
    same = a.reset_index(drop=True).equals(b.reset_index(drop=True))
    add("SIGKILL", f"SIGKILL of a sweep's parent {n_kills} times at random moments, then the same command", "",
        f"{said(res.returncode, res.stderr)}: {res.stdout.strip().split(': ')[-1]}",
        f"{len(a)} runs, {a['run_id'].duplicated().sum()} duplicated, identical to a 1-worker sweep: {same}",
        res.returncode == 0 and len(a) == 40 and a["run_id"].is_unique and same)

    out = tmp / "killworker"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "sweep", str(exp), "--workers", "2", "--out", str(out), "-q"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not _children(proc.pid) and time.monotonic() - t0 < 120:
        time.sleep(0.3)
    time.sleep(1.0)
    _kill_a_child(proc.pid)
    stdout, err = proc.communicate(timeout=900)
    n = len(pd.read_parquet(out / "smoke" / "runs", columns=["run_id"])) if (out / "smoke" / "runs").exists() else 0
    add("SIGKILL", "SIGKILL of one local worker mid-sweep", "", f"{said(proc.returncode, err)}: {stdout.strip().split(': ')[-1]}",
        f"{n} runs kept", proc.returncode == 0 and n == 40)
    if not quick:
        kill_fork_server(tmp, exp, ref)


# --------------------------------------------------------------------------- bugs are not machinery faults


def bugs(tmp: Path) -> None:
    """A bug in the model is that run's failure (one line, exit 1; a sweep records it and goes on), never
    retried; a dead worker is the machinery's fault: retried, and the tables are those of an undisturbed run."""
    from tests.test_reliability import Unpicklable, _patched_run

    for jobs in (1, 2):
        res = _patched_run(tmp, jobs, bug=True, out=f"bug{jobs}")
        add("bugs and dead workers", f"the model raises KeyError in replicate 1 (a bug)", f"`run --seeds 3 --jobs {jobs}`",
            said(res.returncode, res.stderr), f"{len(leftovers(tmp / f'bug{jobs}'))} paths; restarts: "
            f"{res.stdout.count('restarted')}", res.returncode == 1 and len(lines(res.stderr)) == 1
            and "replicate 1: KeyError" in res.stderr and not leftovers(tmp / f"bug{jobs}") and "restarted" not in res.stdout)

    ref = cli("run", BASELINE, "--seeds", 12, "--jobs", 1, "--out", tmp / "ref", "-q")
    out = tmp / "killrun"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", str(BASELINE), "--seeds", "12", "--jobs", "2", "--out",
                             str(out), "-q"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while len(_children(proc.pid)) < 2 and time.monotonic() - t0 < 120 and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(1.5)  # a few seeds in
    killed = _kill_a_child(proc.pid)
    stdout, err = proc.communicate(timeout=900)
    import pandas as pd

    same = False
    if proc.returncode == 0 and ref.returncode == 0:
        a, b = (pd.read_csv(next(d.glob("baseline/*/summary.csv"))) for d in (out, tmp / "ref"))
        same = a.equals(b)
    add("bugs and dead workers", "SIGKILL of one worker of `run --jobs 2` (12 seeds, real region)", "",
        said(proc.returncode, err), f"summary.csv identical to `--jobs 1`: {same}",
        killed and proc.returncode == 0 and not lines(err) and same)

    import sim.parallel
    import sim.sweep.run as sweep_run
    from tests.test_sweep import write_experiment

    restarts: list = []
    real_restart, real_method = sweep_run.restart_with_backoff, sim.parallel.start_method
    sweep_run.restart_with_backoff = lambda ex, cause: restarts.append(cause)
    sim.parallel.start_method = lambda: "fork"
    try:
        root = sweep_run.run_sweep(write_experiment(tmp, name="bugs"), tmp / "bugsweep", workers=2, progress=False,
                                   evaluate=Unpicklable())
    finally:
        sweep_run.restart_with_backoff, sim.parallel.start_method = real_restart, real_method
    fails = pd.read_csv(root / "failures.csv")
    n_done = len(pd.read_parquet(root / "runs", columns=["run_id"]))
    kinds = sorted(set(fails["error_type"]))
    add("bugs and dead workers", "the evaluator raises (ZeroDivisionError) in some runs, returns an unpicklable "
        "result in others", "`run_sweep`, 24 runs, 2 workers", f"{n_done} done, {len(fails)} failed ({', '.join(kinds)}), "
        f"{len(restarts)} restarts", "failures.csv: one line per failed run", n_done + len(fails) == 24
        and 0 < len(fails) < 24 and not restarts and all("\n" not in str(m) for m in fails["message"]))


# --------------------------------------------------------------------------- sweep machinery


def machinery(tmp: Path, quick: bool) -> None:
    from tests.test_reliability import run_cli

    exp = _sweep_experiment(tmp)
    import sim.runner as runner
    import sim.parallel as executors

    real = runner.summarise_run
    runner.summarise_run = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom"))
    try:
        code, stdout, err = run_cli("sweep", exp, "--out", tmp / "allfail", "--workers", 2, "-q")
    finally:
        runner.summarise_run = real
    add("sweep", "every run fails", "`sweep`", f"{said(code, err)}; stdout `{stdout.strip().split(': ')[-1]}`",
        "failures.csv names each run", code == 1 and len(lines(err)) == 1)

    code, stdout, err = run_cli("sweep", exp, "--out", tmp / "shard", "--workers", 2, "-q", "--shard", "1/4")
    add("sweep", "a shard of 4", "`sweep --shard 1/4`", f"exit {code}: `{stdout.strip().split(': ', 1)[-1]}`",
        "its own counts", code == 0 and "10 of 10 runs done" in stdout)

    from concurrent.futures.process import BrokenProcessPool

    real_start = executors.start_pool
    calls = {"n": 0}

    def failing_restart(*a, **k):
        calls["n"] += 1
        if calls["n"] > 1:  # the first start works; every restart finds a worker dead
            raise BrokenProcessPool("A child process terminated abruptly, the process pool is not usable anymore")
        return real_start(*a, **k)

    def crash_once(cfg, replicate, params=None):
        if replicate == 1 and not Path(tmp / "crashed").exists():
            Path(tmp / "crashed").touch()
            os._exit(1)
        return real(cfg, replicate)

    executors.start_pool = failing_restart
    runner.summarise_run = crash_once
    t0 = time.monotonic()
    try:
        code, stdout, err = run_cli("sweep", exp, "--out", tmp / "norestart", "--workers", 2, "-q")
    finally:
        executors.start_pool, runner.summarise_run = real_start, real
    dt = time.monotonic() - t0
    code2, stdout2, _ = run_cli("sweep", exp, "--out", tmp / "norestart", "--workers", 2, "-q")
    add("sweep", "a worker dies and every pool restart fails (BrokenProcessPool)", "`sweep`, then the same command",
        f"{said(code, err)} after {dt:.0f} s (4 tries, back-off 0.5-4 s); resumed: `{stdout2.strip().split(': ')[-1]}`",
        "every finished run", code == 3 and len(lines(err)) == 1 and "40 of 40 runs done" in stdout2)
    if quick:
        return
    dask_faults(tmp, exp)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask(*args) -> subprocess.Popen:
    return subprocess.Popen([str(Path(sys.executable).parent / "dask"), *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _wait_port(port: int, timeout: float = 60) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)


def dask_faults(tmp: Path, exp: Path) -> None:
    ref = tmp / "daskref"
    cli("sweep", exp, "--workers", 1, "--out", ref, "-q")
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    sched = _dask("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
    _wait_port(port)
    t0 = time.monotonic()
    res = cli("sweep", exp, "--scheduler", addr, "--out", tmp / "noworkers", "-q")
    dt = time.monotonic() - t0
    add("Dask", "a scheduler with no workers", "`sweep --scheduler ADDR`", f"{said(res.returncode, res.stderr)} after {dt:.0f} s",
        "nothing run", res.returncode == 3 and len(lines(res.stderr)) == 1)
    MEASURED["no workers"] = f"a Dask scheduler with no workers is reported after {dt:.0f} s (aim: 30 s)"
    worker = _dask("worker", addr, "--nworkers", "2", "--nthreads", "1", "--no-dashboard")
    out = tmp / "lostsched"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "sweep", str(exp), "--scheduler", addr, "--out", str(out), "-q"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while len(list((out / "smoke" / "runs").glob("part-*.parquet"))) < 2 and proc.poll() is None and time.monotonic() - t0 < 300:
        time.sleep(0.1)
    os.killpg(sched.pid, signal.SIGKILL)
    t1 = time.monotonic()
    stdout, err = proc.communicate(timeout=600)
    dt = time.monotonic() - t1
    for p in (worker, sched):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    sched = _dask("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
    _wait_port(port)
    worker = _dask("worker", addr, "--nworkers", "2", "--nthreads", "1", "--no-dashboard")
    res = cli("sweep", exp, "--scheduler", addr, "--out", out, "-q")
    for p in (worker, sched):
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    add("Dask", "SIGKILL of the Dask scheduler mid-sweep, then a new scheduler and the same command", "",
        f"{said(proc.returncode, err)} {dt:.0f} s after the kill; resumed: `{res.stdout.strip().split(': ')[-1]}`",
        "every finished run", proc.returncode == 3 and len(lines(err)) == 1 and "40 of 40 runs done" in res.stdout)

    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    sched = _dask("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
    _wait_port(port)
    worker = _dask("worker", addr, "--nworkers", "2", "--nthreads", "1", "--no-dashboard")
    out = tmp / "killdaskworker"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "sweep", str(exp), "--scheduler", addr, "--out", str(out), "-q"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not list((out / "smoke" / "runs").glob("part-*.parquet")) and proc.poll() is None and time.monotonic() - t0 < 300:
        time.sleep(0.1)
    killed = _kill_a_child(worker.pid)  # a worker process; its nanny starts another, the scheduler reschedules
    stdout, err = proc.communicate(timeout=900)
    for p in (worker, sched):
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    a, b = _runs(out), _runs(ref)
    same = len(a) == len(b) and a.equals(b)
    add("Dask", "SIGKILL of a Dask worker process mid-sweep (its nanny starts another)", "",
        f"{said(proc.returncode, err)}: {stdout.strip().split(': ')[-1]}", f"{len(a)} runs, identical to a 1-worker "
        f"local sweep: {same}", killed and proc.returncode == 0 and same)


# --------------------------------------------------------------------------- the document


def write_doc(args: argparse.Namespace, seconds: float) -> None:
    head = ["What was killed or fed", "What was done", "What happened", "What was kept", "Verdict"]
    table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    group = None
    for r in ROWS:
        if r["group"] != group:
            group = r["group"]
            table.append(f"| **{group}** | | | | |")
        table.append(f"| {r['fault']} | {r['done']} | {r['happened']} | {r['kept']} | {r['verdict']} |")
    bad = sum(r["verdict"] != "ok" for r in ROWS)
    load = f"load average {LOAD['start']} at the start, {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end"
    text = f"""# Reliability: every bad input and every fault

Rebuilt by `benchmarks/faults.py{' --quick' if args.quick else ''}{f' --fuzz {args.fuzz}' if args.fuzz != 200 else ''}`
({seconds / 60:.0f} minutes on {os.cpu_count()} cores, {load}{'' if os.nice(0) == 0 else f', run under nice {os.nice(0)}'};
the machine is shared, so stop latencies and the Dask times are upper bounds; rerun it after a change to
the command line, the results layer or the sweep machinery). Do not edit by hand.

The rules (issue 24): bad input is one line naming the file and key, exit 2, nothing written; a
fault of the machine (full disk, read-only folder, memory, a pool or scheduler that does not come
back) is one line, exit 3, nothing half-written, and what was finished is kept; a bug in the model
(an exception raised inside a run) is that run's failure, never retried: `run` prints one line naming
the scenario and replicate and exits 1, a sweep records it in failures.csv and goes on; only the
machinery (a dead worker, a broken pool, a lost scheduler, a refused fork server) is retried with
back-off; Ctrl-C is one line, exit 130, nothing half-written and no empty folder; a sweep whose runs
all failed exits 1. Killed runs leave `.tmp-*` folders that the next run of the same scenario removes
(a folder whose owner process is alive on this host is left alone). Every command writes under a run
id (scenario, region kind and overrides readably, a hash of the rest): the same inputs land in the
same folder, different ones never overwrite each other.

Measured:

{chr(10).join(f'* {k}: {v}' for k, v in MEASURED.items())}
* {len(ROWS)} rows, {bad} not ok

{chr(10).join(table)}
"""
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC} ({len(ROWS)} rows, {bad} not ok)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer fuzz examples and kills, no Dask")
    ap.add_argument("--fuzz", type=int, default=200, help="mutated scenario files (default 200; --quick 40)")
    ap.add_argument("--only", nargs="*", default=None,
                    help="sections: bad_input fuzz os_faults signals kills bugs machinery (default: all)")
    args = ap.parse_args()
    n_fuzz = 40 if args.quick and args.fuzz == 200 else args.fuzz
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="onerecord-faults-") as d:
        tmp = Path(d)
        SCRUB.insert(0, (d, "DIR"))
        folders = {"bad_input": "bad", "fuzz": "fuzz", "os_faults": "os", "signals": "sig", "kills": "kill",
                   "bugs": "bugs", "machinery": "mach"}
        sections = {"bad_input": lambda: bad_input(tmp / "bad"), "fuzz": lambda: fuzz(tmp / "fuzz", n_fuzz, 24),
                    "os_faults": lambda: os_faults(tmp / "os"), "signals": lambda: signals(tmp / "sig", args.quick),
                    "kills": lambda: kills(tmp / "kill", args.quick), "bugs": lambda: bugs(tmp / "bugs"),
                    "machinery": lambda: machinery(tmp / "mach", args.quick)}
        for name, fn in sections.items():
            if args.only is None or name in args.only:
                (tmp / folders[name]).mkdir(parents=True, exist_ok=True)
                t1 = time.monotonic()
                try:
                    fn()
                except Exception as err:  # noqa: BLE001 (a section that breaks is a row, and the others still run)
                    add(name, f"the section `{name}` itself", "", f"raised {type(err).__name__}: {err}", "", False)
                print(f"-- {name}: {time.monotonic() - t1:.0f} s", flush=True)
                MEASURED.setdefault("section times", "")
                MEASURED["section times"] += f"{', ' if MEASURED['section times'] else ''}{name} {time.monotonic() - t1:.0f} s"
    write_doc(args, time.monotonic() - t0)


if __name__ == "__main__":
    main()
