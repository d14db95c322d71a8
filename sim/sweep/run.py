"""Running a sweep: every run not yet done, streamed to Parquet as it finishes, resumable.

The loop keeps at most ``4 x workers`` runs in flight and at most ``chunk_size`` finished runs
in memory, so memory stays flat however long the sweep. A run that raises goes to
failures.csv and the sweep goes on; a worker that dies takes no finished run with it (its
runs in flight are retried one at a time, and the one that kills a worker again is recorded
as a failure). Interrupted (Ctrl-C, SIGKILL), the same call resumes where it stopped.
"""

from __future__ import annotations

import traceback
from collections import deque
from concurrent.futures import CancelledError
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from sim import interrupt
from sim.config import ConfigError, EnvironmentFault, config_to_dict, suggest
from sim.parallel import (RESTART_TRIES, Executor, MachineryFailure, WorkerCrash, machinery_fault,
                          restart_with_backoff)
from sim.sweep.evaluate import TIMING_COLUMNS, ModelEvaluator, SweepContext, evaluate_in_worker, sweep_executor
from sim.sweep.experiment import (SEED_RULE, Experiment, base_config, design_hash, expand_runs, load_experiment,
                                  make_design, sweep_run_id)
from sim.sweep.store import (Sink, environment, read_failures, iter_missing, prepare, read_manifest, run_ids, parquet_files,
                             shard_path, sweep_path)

WINDOW_PER_WORKER = 4
"""Runs in flight per worker."""


def parse_shard(shard: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"I/N"`` (I from 0 to N-1, like SLURM_ARRAY_TASK_ID) or ``(I, N)`` -> (I, N)."""
    if shard is None:
        return None
    try:
        i, n = (int(x) for x in shard.split("/")) if isinstance(shard, str) else (int(shard[0]), int(shard[1]))
    except (ValueError, TypeError, IndexError):
        raise ConfigError(f"--shard {shard}: expected I/N, e.g. 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise ConfigError(f"--shard {shard}: need 0 <= I < N, got I={i}, N={n}")
    return i, n


def shard_runs(runs: pd.DataFrame, shard: tuple[int, int] | None) -> pd.DataFrame:
    """Shard I of N: the runs at positions p with p mod N = I (deterministic, balanced)."""
    if shard is None:
        return runs
    i, n = shard
    return runs.iloc[i::n]


def runs_schema(exp: Experiment, design: pd.DataFrame) -> pa.Schema:
    """One row per run: run_id, design_row, replicate, seed, parameters, outputs, elapsed_s, host, pid."""
    params = [(k, pa.int64() if design[k].dtype.kind == "i" else pa.float64()) for k in exp.keys]
    return pa.schema([("run_id", pa.string()), ("design_row", pa.int64()), ("replicate", pa.int64()),
                      ("seed", pa.int64()), *params, *[(k, pa.float64()) for k in exp.outputs],
                      ("elapsed_s", pa.float64()), ("host", pa.string()), ("pid", pa.int64())])


def _manifest(exp: Experiment, base, design: pd.DataFrame, runs: pd.DataFrame, schema: pa.Schema) -> dict:
    return {
        "experiment": exp.model_dump(mode="json"),
        "base_config": config_to_dict(base),
        "design_hash": design_hash(exp, base, runs),
        "n_design_rows": len(design),
        "n_runs": len(runs),
        "parameter_keys": exp.keys,
        "outputs": list(exp.outputs),
        "seed_rule": SEED_RULE,
        "runs_schema": [[f.name, str(f.type)] for f in schema],
        "ignore_when_comparing": list(TIMING_COLUMNS),
        **environment(),
    }


class _Progress:
    """A rich progress bar (runs done, failed, ETA), or nothing when quiet."""

    def __init__(self, enabled: bool, title: str, total: int):
        self.bar = None
        if enabled and total:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("failed {task.fields[failed]}"), TimeElapsedColumn(),
                                TextColumn("ETA"), TimeRemainingColumn())
            self.task = self.bar.add_task(title, total=total, failed=0)
        self.failed = 0

    def __enter__(self) -> "_Progress":
        if self.bar is not None:
            self.bar.start()
        return self

    def advance(self, failed: bool) -> None:
        self.failed += failed
        if self.bar is not None:
            self.bar.update(self.task, advance=1, failed=self.failed)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _drive(executor: Executor, todo, sink: Sink, chunk_size: int, on_done: Callable[[bool], None]) -> None:
    """Evaluate ``todo`` (an iterator of run dicts) with a bounded window; commit every ``chunk_size`` runs.

    Finished runs are committed on the way out, whatever the exit (so an interrupt loses only
    runs still in flight). Runs in flight when a worker died are retried one at a time; one that
    crashes a worker on its own is recorded as a failure (Dask retries tasks itself: a task that
    killed its workers is recorded at once).
    """
    rows: list[dict] = []
    failures: list[dict] = []
    series: list[pd.DataFrame] = []
    inflight: dict[Any, tuple[dict, bool]] = {}  # future -> (run, isolated)
    suspects: deque[dict] = deque()
    window = WINDOW_PER_WORKER * executor.capacity

    def commit() -> None:
        sink.write_chunk(rows, failures, series)
        rows.clear(), failures.clear(), series.clear()

    def record(res: dict) -> None:
        if "failure" in res:
            failures.append(res["failure"])
        else:
            rows.append(res["row"])
            if res["timeseries"] is not None:
                series.append(res["timeseries"])
        on_done("failure" in res)
        if len(rows) + len(failures) >= chunk_size:
            commit()
        interrupt.check()

    requeued: deque[dict] = deque()  # runs in flight when the machinery failed: submitted again first
    failures_in_a_row = 0

    def next_run() -> dict | None:
        return requeued.popleft() if requeued else next(todo, None)

    try:
        exhausted = False
        while True:
            crashed: list[dict] = []
            broken = False
            try:
                if suspects:  # after a crash: one run at a time, so a crash names its run
                    if not inflight:
                        run = suspects.popleft()
                        inflight[executor.submit(evaluate_in_worker, run)] = (run, True)
                else:
                    while not exhausted and len(inflight) < window:
                        run = next_run()
                        if run is None:
                            exhausted = True
                        else:
                            inflight[executor.submit(evaluate_in_worker, run)] = (run, False)
                if not inflight:
                    break
                for fut in executor.wait_any(inflight):
                    run, isolated = inflight.pop(fut)
                    try:
                        res = executor.result(fut)
                    except WorkerCrash as err:
                        if isolated or not executor.crash_breaks_pool:  # this run killed its worker
                            res = {"failure": {**run, "error_type": "WorkerCrash",
                                               "message": (str(err).splitlines() or [""])[0], "traceback": ""}}
                            broken |= executor.crash_breaks_pool
                        else:
                            crashed.append(run)
                            continue
                    except Exception as err:
                        if machinery_fault(err):  # the run is still to do
                            inflight[fut] = (run, isolated)
                            raise
                        # the task's own error (the evaluator records a run's errors itself; this is one it
                        # could not, e.g. a result that does not pickle): that run's failure, not retried
                        res = {"failure": {**run, "error_type": type(err).__name__,
                                           "message": (str(err).splitlines() or [""])[0],
                                           "traceback": "".join(traceback.format_exception(err))}}
                    failures_in_a_row = 0
                    record(res)
            except (WorkerCrash, KeyboardInterrupt):
                raise
            except Exception as err:  # the machinery failed (a lost scheduler, a pool broken on submit): runs kept
                if not machinery_fault(err):
                    raise  # a fault of this process (a full disk while committing) or a bug: not retried
                failures_in_a_row += 1
                if failures_in_a_row > RESTART_TRIES:
                    raise MachineryFailure(f"the {type(executor).__name__} failed {failures_in_a_row} times in a row "
                                           f"({type(err).__name__}: {err})") from err
                requeued.extendleft(reversed([r for r, isolated in inflight.values() if not isolated]))
                suspects.extendleft(reversed([r for r, isolated in inflight.values() if isolated]))
                inflight.clear()
                exhausted = False
                restart_with_backoff(executor, err)
                continue
            if crashed:  # the broken pool lost every run in flight: retry them one at a time
                suspects.extend(crashed + [run for run, _ in inflight.values()])
                inflight.clear()
                broken = True
            if broken:
                restart_with_backoff(executor, None)
    finally:
        commit()


def check_outputs(exp: Experiment, base, evaluate) -> None:
    """Every output must be a column the evaluator gives (when it says which: ``evaluate.columns(base)``),
    else a one-line ConfigError naming the experiment file (before anything is written)."""
    columns = getattr(evaluate, "columns", None)
    known = columns(base) if columns is not None else None
    for name in exp.outputs if known is not None else ():
        if name not in known:
            raise ConfigError(f"{exp.source}: outputs: {name!r} is not a summary column{suggest(name, known)}")


def run_sweep(exp: Experiment | str | Path, out_dir: str | Path = "results", executor: str = "local",
              workers: int | None = None, scheduler: str | None = None, shard: str | tuple[int, int] | None = None,
              retry_failed: bool = False, progress: bool = True, evaluate=None) -> Path:
    """Run (or resume) an experiment's sweep; returns its folder ``<out_dir>/<name>``.

    Skips runs already present (and failed ones, unless ``retry_failed``, which reruns only the
    failed runs). ``shard`` ("I/N") runs the runs at positions I, I+N, ... into
    ``shards/I-of-N/`` (join them with :func:`sim.sweep.merge_shards`). ``evaluate`` is the
    evaluator (default: the model, :class:`~sim.sweep.evaluate.ModelEvaluator`). Everything is
    validated before anything is written; a folder holding another design is an error.
    """
    exp = exp if isinstance(exp, Experiment) else load_experiment(exp)
    shard = parse_shard(shard)
    base = base_config(exp)
    design = make_design(exp)
    runs = expand_runs(exp, design)
    schema = runs_schema(exp, design)
    ctx = SweepContext(base=base, outputs=tuple(exp.outputs),
                       evaluate=evaluate if evaluate is not None else ModelEvaluator(timeseries=exp.timeseries))
    check_outputs(exp, base, ctx.evaluate)
    pool = sweep_executor(ctx, executor, workers, scheduler)  # validates executor and workers

    root = sweep_path(out_dir, exp.name)
    prepare(root, _manifest(exp, base, design, runs, schema), design)
    sink = Sink(shard_path(root, shard) if shard else root, schema, exp.keys).open()
    done = sink.done_ids() | (run_ids(parquet_files(root / "runs")) if shard else set())
    mine = shard_runs(runs, shard)
    if retry_failed:
        todo_ids = set(sink.failures) - done
        skip = set(mine["run_id"]) - todo_ids
    else:
        skip = done | set(sink.failures)
    n_todo = int((~mine["run_id"].isin(skip)).sum())
    title = f"{exp.name}" + (f" shard {shard[0]}/{shard[1]}" if shard else "") + f" ({len(mine) - n_todo} done before)"
    if n_todo:
        try:
            with pool, _Progress(progress, title, n_todo) as bar:  # workers start before the bar's thread
                _drive(pool, iter_missing(mine, skip), sink, exp.chunk_size, bar.advance)
        except (MachineryFailure, BrokenProcessPool, CancelledError, EOFError, OSError) as err:
            if isinstance(err, OSError) and err.filename is not None:
                raise  # a file fault (full disk, read-only folder): the command line names the file
            st = sweep_status(root, shard)
            raise EnvironmentFault(f"{root}: {str(err).splitlines()[0]}; {st['done']} of {st['n_runs']} runs are kept, "
                                   f"{st['missing']} to go: run the same command again to resume") from None
    return root


def sweep_status(root: str | Path, shard: str | tuple[int, int] | None = None) -> dict[str, int]:
    """Counts for a sweep folder: ``n_runs`` (designed), ``done`` (in runs/), ``failed``, ``missing``.

    With ``shard`` ("I/N"), the counts of that shard's runs only (positions I, I+N, ... of the design),
    done in the shard's folder or already in the merged ``runs/``.
    """
    root = Path(root)
    man = read_manifest(root)
    done = run_ids(parquet_files(root / "runs"))
    failed = set(read_failures(root / "failures.csv"))
    n_runs = man["n_runs"]
    shard = parse_shard(shard)
    if shard is not None:
        reps, name = man["experiment"]["replicates"], man["experiment"]["name"]
        mine = {sweep_run_id(name, p // reps, p % reps) for p in range(shard[0], n_runs, shard[1])}
        folder = shard_path(root, shard)
        done = (done | run_ids(parquet_files(folder / "runs"))) & mine
        failed = (failed | set(read_failures(folder / "failures.csv"))) & mine
        n_runs = len(mine)
    failed -= done
    return {"n_runs": n_runs, "done": len(done), "failed": len(failed),
            "missing": n_runs - len(done) - len(failed)}
