"""Ctrl-C stops run, sweep, report and calibrate every time (issue 24 item 5).

Each test starts a real ``python -m sim`` process in its own session and sends SIGINT to the whole
process group (as a terminal's Ctrl-C does) at a moment chosen from signs of progress: seeds done on
the progress bar, a chunk file of a sweep, a temporary folder of a save, a piece of a report. It then
asserts exit 130, one line on stderr, nothing half-written (no temporary or empty folder) and,
for a sweep, that the same command resumes to every run exactly once. The guard against a hang is
generous (HANG_GUARD_S); how fast the process stops is measured by benchmarks/faults.py, not here.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import BASELINE, ROOT, SMALL

HANG_GUARD_S = 240.0
"""Longest wait for a moment, and for the process to stop after SIGINT (a loaded machine is slow)."""

SETS = [a for s in [*SMALL, "run.end_month=2030-12"] for a in ("--set", s)]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), 0 where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _terminal_sigint() -> None:
    """In the child, before exec: SIGINT as a terminal's command gets it. A test run from a background job
    (``pytest &`` in a script) inherits SIGINT ignored, and a process that starts with it ignored keeps
    ignoring it until it installs a handler: a Ctrl-C in its first 0.1 s would be lost (exit 0)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_when(args: list[str], ready: Callable[[str, subprocess.Popen], bool]) -> tuple[int, str, str]:
    """Start ``onerecord ARGS``, SIGINT its process group once ``ready(stdout so far, process)``; (code, stdout, stderr).

    The progress bar is forced on (FORCE_COLOR) so that its counts are a sign of progress on a pipe.
    """
    env = dict(os.environ, FORCE_COLOR="1", COLUMNS="160")
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_terminal_sigint)
    os.set_blocking(proc.stdout.fileno(), False)
    seen = b""
    t0 = time.monotonic()
    try:
        while not ready(seen.decode(errors="replace"), proc):
            assert proc.poll() is None, f"finished before the moment came:\n{seen.decode()}\n{proc.stderr.read().decode()}"
            assert time.monotonic() - t0 < HANG_GUARD_S, "the moment never came"
            seen += proc.stdout.read() or b""
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        rest, err = proc.communicate(timeout=HANG_GUARD_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, (seen + (rest or b"")).decode(errors="replace"), err.decode(errors="replace")


def assert_interrupted(code: int, err: str, out: Path) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 130, (code, err)
    assert len(lines) == 1 and "interrupted" in lines[0], err
    left = [p for p in out.rglob("*")] if out.exists() else []
    assert not [p for p in left if p.name.startswith((".tmp-", ".old-"))], left
    assert not [p for p in left if p.is_dir() and not any(p.iterdir())], left  # no empty folder


def seeds_done(k: int) -> Callable[[str, subprocess.Popen], bool]:
    """The progress bar shows at least ``k`` seeds done."""
    def ready(text: str, _proc) -> bool:
        counts = [int(m) for m in re.findall(r"(\d+)/\d+", text)]
        return bool(counts) and max(counts) >= k
    return ready


def path_exists(pattern: str, root: Path) -> Callable[[str, subprocess.Popen], bool]:
    return lambda _text, _proc: any(root.glob(pattern))


@pytest.mark.parametrize("jobs,k", [(1, 1), (1, 3), (2, 2), (2, 5)])
def test_ctrl_c_during_run_replicates(tmp_path, jobs, k):
    out = tmp_path / "out"
    code, _, err = interrupt_when(["run", str(BASELINE), "--seeds", "60", "--jobs", str(jobs), "--out", str(out),
                                   *SETS], seeds_done(k))
    assert_interrupted(code, err, out)
    assert not out.exists() or not any(out.rglob("manifest.json"))


def test_ctrl_c_during_the_save(tmp_path):
    """Interrupted while figures are drawn into the temporary folder: no run folder, no scenario folder."""
    out = tmp_path / "out"
    code, _, err = interrupt_when(["run", str(BASELINE), "--seeds", "2", "--out", str(out), *SETS],
                                  path_exists("*/.tmp-*/timeseries.parquet", out))
    assert_interrupted(code, err, out)
    assert not out.exists() or not list(out.iterdir())


def _sweep_experiment(tmp_path: Path) -> Path:
    text = (ROOT / "experiments" / "smoke.toml").read_text(encoding="utf-8")
    text = text.replace('"../configs/baseline.toml"', f'"{BASELINE.as_posix()}"')
    text = text.replace("overrides = [", 'overrides = ["run.end_month=2030-12", ').replace("chunk_size = 10", "chunk_size = 2")
    p = tmp_path / "smoke.toml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("chunks", [1, 4])
def test_ctrl_c_during_a_sweep_then_resume(tmp_path, chunks):
    exp, out = _sweep_experiment(tmp_path), tmp_path / "out"
    code, _, err = interrupt_when(["sweep", str(exp), "--workers", "2", "--out", str(out)],
                                  lambda _t, _p: len(list((out / "smoke" / "runs").glob("part-*.parquet"))) >= chunks)
    assert_interrupted(code, err, out)
    res = subprocess.run([sys.executable, "-m", "sim", "sweep", str(exp), "--workers", "2", "--out", str(out), "-q"],
                         cwd=ROOT, capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert res.returncode == 0 and "40 of 40 runs done" in res.stdout, (res.stdout, res.stderr)
    ids = pd.read_parquet(out / "smoke" / "runs", columns=["run_id"])["run_id"]
    assert len(ids) == 40 and ids.is_unique


def _quick_paper(tmp_path: Path) -> Path:
    """experiments/position_paper_quick.toml, its relative paths made absolute."""
    src = ROOT / "experiments" / "position_paper_quick.toml"
    text = src.read_text(encoding="utf-8")
    text = re.sub(r'"(\.\./[^"]+|[A-Za-z_][\w/]*\.toml)"', lambda m: f'"{(src.parent / m.group(1)).resolve().as_posix()}"',
                  text)  # ../configs/x.toml, sensitivity_smoke.toml, validation/bass.toml
    p = tmp_path / "position_paper_quick.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_ctrl_c_during_a_report(tmp_path):
    paper, out = _quick_paper(tmp_path), tmp_path / "out"
    code, _, err = interrupt_when(["report", str(paper), "--quick", "--workers", "2", "--out", str(out)],
                                  lambda _t, _p: out.exists() and any(p.is_file() for p in out.rglob("*")))
    assert_interrupted(code, err, out)


@pytest.mark.parametrize("cpu_s", [0.0, 3.0])
def test_ctrl_c_during_calibrate(tmp_path, cpu_s):
    out = tmp_path / "out"
    started: list[float] = []

    def ready(text: str, proc) -> bool:
        if "calibrating" not in text:
            return False
        started.append(cpu_seconds(proc.pid)) if not started else None
        return cpu_seconds(proc.pid) - started[0] >= cpu_s

    code, _, err = interrupt_when(["calibrate", str(BASELINE), "--quick", "--out", str(out), "--seeds", "1"], ready)
    assert_interrupted(code, err, out)
    assert not (ROOT / "configs" / ".tmp-calibrated.toml").exists()


@pytest.mark.parametrize("cpu_s", [0.12, 0.15, 0.3, 0.6])
def test_ctrl_c_while_starting(tmp_path, cpu_s):
    """Interrupted while starting: the command line's imports (0.1-0.2 s of CPU), typer parsing the arguments
    (typer turns that Ctrl-C into a silent exit 130), sim.api loading lazily: one line, exit 130, nothing written."""
    out = tmp_path / "out"
    code, _, err = interrupt_when(["run", str(BASELINE), "--seeds", "1", "--out", str(out)],
                                  lambda _t, proc: cpu_seconds(proc.pid) >= cpu_s)
    assert_interrupted(code, err, out)


def test_a_library_that_fails_after_catching_ctrl_c_still_ends_in_the_one_line(tmp_path, monkeypatch):
    """A library that catches the KeyboardInterrupt and then fails in another way (a database rollback during
    the fit, say) still ends as an interruption: one line, exit 130, not a traceback."""
    from sim import api
    from tests.test_reliability import run_cli

    def fails_after_ctrl_c(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("rollback failed: the connection was closed") from None

    monkeypatch.setattr(api, "run", fails_after_ctrl_c)
    code, _, err = run_cli("run", BASELINE, "--seeds", 1, "--out", tmp_path / "out")
    assert_interrupted(code, err, tmp_path / "out")
    monkeypatch.setattr(api, "run", lambda *a, **k: 1 / 0)  # a bug of this process is still a traceback
    with pytest.raises(ZeroDivisionError):
        run_cli("run", BASELINE, "--seeds", 1, "--out", tmp_path / "out")
