"""The ``onerecord`` command line: a thin layer over :mod:`sim.api`.

Bad input prints one line ``<file>: <key>: <problem>`` on stderr and exits with status 2,
before anything is created under ``--out``.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from functools import wraps
from pathlib import Path
from typing import Annotated


def _interrupted_while_starting(signum, frame) -> None:
    os.write(2, b"onerecord: interrupted while starting; nothing was written\n")
    os._exit(130)


# Ctrl-C while the command line's own imports load (about half a second): one line, not a traceback.
_BEFORE_IMPORTS = (signal.signal(signal.SIGINT, _interrupted_while_starting)
                   if threading.current_thread() is threading.main_thread() else None)

import typer  # noqa: E402

from sim.config import ConfigError, EnvironmentFault  # noqa: E402

if _BEFORE_IMPORTS is not None:
    signal.signal(signal.SIGINT, _BEFORE_IMPORTS)

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="onerecord: agent-based rollout simulation of a shared regional health record.")

SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override a key: section.key=value (TOML literal).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output root; runs go to OUT/<scenario>/<run id>/.")]
LangOpt = Annotated[str, typer.Option("--lang", help="Figure labels: nb (Norwegian) or en (English).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


def _fail(msg: str, code: int = 2) -> None:
    typer.echo(msg, err=True)
    raise typer.Exit(code)


def guarded(fn):
    """Turn ConfigError into one line on stderr and exit 2; Ctrl-C into exit 130."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        from sim import interrupt

        try:
            with interrupt.handling():
                return fn(*args, **kwargs)
        except ConfigError as err:
            _fail(f"onerecord: {err}")
        except EnvironmentFault as err:
            _fail(f"onerecord: {err}", 3)
        except KeyboardInterrupt:
            _fail("onerecord: interrupted; nothing half-written was kept", 130)
        except MemoryError:
            _fail("onerecord: out of memory; nothing half-written was kept (fewer seeds or workers need less)", 3)
        except OSError as err:
            _fail(f"onerecord: {describe_os_error(err, kwargs.get('out'))}; nothing half-written was kept", 3)
        except Exception as err:
            cause = os_fault_in(err)
            if cause is None:
                raise
            _fail(f"onerecord: {describe_os_error(cause, kwargs.get('out'))}; nothing half-written was kept", 3)

    return wrapper


def os_fault_in(err: BaseException) -> OSError | None:
    """The OSError behind ``err``, if any (a library that fails while handling a full disk, as
    matplotlib's PDF writer does with an AttributeError, hides it in ``__context__``)."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, OSError) and err.errno is not None:
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def describe_os_error(err: OSError, out: Path | None = None) -> str:
    """One line for an operating-system fault: the file (else the ``--out`` folder), then what the system
    said (``No space left on device``)."""
    where = f"{err.filename}: " if err.filename else f"--out {out}: " if out is not None else ""
    return f"{where}{err.strerror or err}"


def _progress(total: int, quiet: bool, what: str):
    """A rich progress bar over ``total`` items (a no-op when quiet); returns (context, advance)."""
    from contextlib import nullcontext

    if quiet:
        return nullcontext(), lambda *_: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), transient=True, console=None)
    task = bar.add_task(what, total=total)
    return bar, lambda *_: bar.advance(task)


def _scenario(config: Path, set_: list[str] | None, out: Path, lang: str | None = None):
    """A command's scenario: --lang checked (when given), the config loaded with its --set overrides, --out checked.

    Every check runs before anything is written under --out.
    """
    from sim import api
    from sim.results import check_out_dir

    if lang is not None:
        api.check_lang(lang)
    cfg = api.load_config(config, list(set_ or []))
    check_out_dir(out)
    return cfg


@app.command()
@guarded
def run(
    config: Annotated[Path, typer.Argument(help="Scenario TOML (configs/baseline.toml), or a run's manifest.json to re-run it.")],
    seeds: Annotated[int | None, typer.Option("--seeds", help="Replicate seeds (default: run.seeds, or the manifest's).")] = None,
    out: OutOpt = Path("results"),
    set_: SetOpt = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes for the replicates.")] = 1,
    lang: LangOpt = "en",
    quiet: QuietOpt = False,
) -> None:
    """Run replicate seeds of a scenario; write tables, manifest and figures to OUT/<scenario>/<run id>/."""
    from sim import api

    cfg = _scenario(config, set_, out, lang)
    reps = api.manifest_replicates(config) if seeds is None else None  # a manifest.json re-runs its seeds
    n = len(reps) if reps is not None else (seeds if seeds is not None else cfg.run.seeds)
    api.check_counts(seeds=n, jobs=jobs)
    t0 = time.perf_counter()
    bar, advance = _progress(n * (cfg.run.draws + 1), quiet, f"{cfg.scenario}: seeds x draws")
    with bar:
        res = api.run(cfg, seeds=reps if reps is not None else n, jobs=jobs, on_done=advance)
        path = res.save(out, lang=lang)
    s = res.summary
    y = cfg.run.report_year
    draws = f" x {cfg.run.draws + 1} draws" if cfg.run.draws else ""
    typer.echo(f"wrote {path} ({n} seeds{draws}, {time.perf_counter() - t0:.1f} s): {y} GP uptake median "
               f"{s[f'share_gps_{y}'].median():.2f}, one-record coverage {s[f'one_record_coverage_{y}'].median():.2f}, "
               f"gain realized {s[f'gain_realized_{y}'].median():.2f}")


@app.command()
@guarded
def plot(
    results_dir: Annotated[Path, typer.Argument(help="A run directory (with manifest.json).")],
    lang: LangOpt = "en",
) -> None:
    """Rebuild every figure of a run directory from its saved tables (no re-run)."""
    from sim.api import check_lang
    from sim.plots import plot_run

    check_lang(lang)
    paths = plot_run(results_dir, lang)
    typer.echo(f"wrote {len(paths)} files to {results_dir / 'figures'}")


@app.command()
@guarded
def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="Two or more run directories.")],
    out: OutOpt = Path("results/compare"),
    lang: LangOpt = "en",
) -> None:
    """Plot scenarios side by side and print the key report-year figures with their spread over seeds."""
    from sim.api import check_lang
    from sim.plots import compare_runs
    from sim.results import check_out_dir

    check_lang(lang)
    check_out_dir(out)
    table, paths = compare_runs(run_dirs, out, lang)
    with __import__("pandas").option_context("display.width", 120, "display.max_columns", 10):
        typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    typer.echo(f"wrote {len(paths)} figure files and compare.csv to {out}")


@app.command("uptake-curve")
@guarded
def uptake_curve(
    config: Annotated[Path, typer.Argument(help="Scenario TOML.")],
    steps: Annotated[int, typer.Option("--steps", help="GP-share steps from 0 to 1.")] = 21,
    orders: Annotated[list[str] | None, typer.Option("--orders", help="random, largest_first, most_connected_first, by_municipality")] = None,
    seeds: Annotated[int, typer.Option("--seeds", help="Seeds for the random orders.")] = 5,
    out: OutOpt = Path("results"),
    set_: SetOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Hold hospitals and municipalities on the platform; sweep GP share per recruitment order."""
    from sim import api
    from sim.results import atomic_dir

    cfg = _scenario(config, set_, out, lang)
    df = api.uptake_curve(cfg, steps=steps, orders=tuple(orders) if orders else None, seeds=seeds)
    from sim.plots import plot_uptake_tables

    target = Path(out) / cfg.scenario / "uptake_curve"
    with atomic_dir(target) as tmp:
        df.to_csv(tmp / "uptake_curve.csv", index=False)
        plot_uptake_tables(df, tmp / "figures", lang)
    typer.echo(f"wrote {target}/uptake_curve.csv and figures ({len(df)} rows)")


@app.command("calibrate")
@guarded
def calibrate_cmd(
    config: Annotated[Path, typer.Argument(help="Scenario TOML to calibrate; the fitted keys' prior ranges (sim/config.py) are the priors.")],
    quick: Annotated[bool, typer.Option("--quick", help="A small fit (seconds) for tests and smoke runs.")] = False,
    out: OutOpt = Path("results"),
    set_: SetOpt = None,
    seeds: Annotated[int | None, typer.Option("--seeds", help="Replicate seeds per particle (default 2; quick 1).")] = None,
    config_out: Annotated[Path | None, typer.Option("--config-out", help="Where to write calibrated.toml too (default: "
                                                    "beside CONFIG, unless --quick or --set).")] = None,
) -> None:
    """Fit the adoption parameters to the 2020-2023 history (ABC-SMC); write OUT/<scenario>/calibration/."""
    from sim import api
    from sim.calibrate import calibrate as fit
    from sim.results import atomic_dir

    cfg = _scenario(config, set_, out)
    if seeds is not None:
        api.check_counts(seeds=seeds)
    if config_out is None and not quick and not set_:
        config_out = config.parent / "calibrated.toml"
    target = Path(out) / cfg.scenario / "calibration"
    typer.echo(f"calibrating {cfg.scenario} ({'quick' if quick else 'default'} settings) ...")
    with atomic_dir(target) as tmp:
        res = fit(cfg, quick=quick, out_dir=tmp, seeds=seeds, config_path=config_out, base_config_path=config)
    for _, r in res.parameters.iterrows():
        typer.echo(f"  {r['parameter']:<30} {r['posterior_median']:.4g}  [{r['p05']:.4g}, {r['p95']:.4g}]")
    cov = res.coverage["covered_90"]
    typer.echo(f"wrote {target} ({res.wall_seconds:.0f} s; observed points inside the 90% band: {cov.sum()}/{len(cov)})"
               + (f" and {config_out}" if config_out else ""))


@app.command()
@guarded
def sweep(
    experiment: Annotated[Path | None, typer.Argument(help="Experiment TOML, e.g. experiments/smoke.toml.")] = None,
    executor: Annotated[str, typer.Option("--executor", help="local (process pool) or dask.")] = "local",
    workers: Annotated[int | None, typer.Option("--workers", "-w", help="Worker processes (default: all cores).")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address (default: a LocalCluster).")] = None,
    shard: Annotated[str | None, typer.Option("--shard", help="I/N: run slice I (0..N-1) of N, e.g. $SLURM_ARRAY_TASK_ID/N.")] = None,
    merge: Annotated[bool, typer.Option("--merge", help="Join the shards of OUT/<name> into one dataset.")] = False,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Rerun only the runs in failures.csv.")] = False,
    out: OutOpt = Path("results"),
    quiet: QuietOpt = False,
) -> None:
    """Run (or resume) an experiment's design on a process pool or Dask; results stream to Parquet."""
    from importlib import import_module

    from sim.results import check_out_dir

    sw = import_module("sim.sweep")  # the package, not sim.api.sweep

    if experiment is None:
        raise ConfigError("sweep: missing EXPERIMENT (an experiment TOML file)")
    exp = sw.load_experiment(experiment)
    check_out_dir(out)
    if merge:
        path = sw.merge_shards(sw.sweep_path(out, exp.name))
    else:
        path = sw.run_sweep(exp, out, executor=executor, workers=workers, scheduler=scheduler, shard=shard,
                            retry_failed=retry_failed, progress=not quiet)
    st = sw.sweep_status(path, shard=None if merge else shard)
    what = f" shard {shard}" if shard and not merge else ""
    typer.echo(f"wrote {path}{what}: {st['done']} of {st['n_runs']} runs done, {st['failed']} failed, {st['missing']} missing")
    if st["failed"] and not st["done"]:
        _fail(f"onerecord: every run failed; see {path / 'failures.csv'}", 1)


@app.command("sensitivity")
@guarded
def sensitivity_cmd(
    experiment: Annotated[Path, typer.Argument(help="Experiment TOML with a morris or sobol design, e.g. experiments/sobol_core.toml.")],
    executor: Annotated[str, typer.Option("--executor", help="local (process pool) or dask.")] = "local",
    workers: Annotated[int | None, typer.Option("--workers", "-w", help="Worker processes (default: all cores).")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address.")] = None,
    analyse_only: Annotated[bool, typer.Option("--analyse-only", help="Analyse the saved sweep; run nothing.")] = False,
    out: OutOpt = Path("results"),
    quiet: QuietOpt = False,
) -> None:
    """Morris or Sobol indices (SALib), seed variance, tornado and PRIM boxes for an experiment; resumable."""
    from importlib import import_module

    from sim.results import check_out_dir

    sens = import_module("sim.sensitivity")  # the package, not sim.api.sensitivity
    check_out_dir(out)
    res = sens.sensitivity(experiment, out, executor=executor, workers=workers, scheduler=scheduler,
                           progress=not quiet, run=not analyse_only)
    top = sens.top_parameters(res.indices, 3) if len(res.indices) else None
    typer.echo(f"wrote {res.path} ({len(res.indices)} index rows)")
    if top is not None and not quiet:
        typer.echo(top.to_string(index=False))


@app.command("report")
@guarded
def report_cmd(
    experiment: Annotated[Path, typer.Argument(help="Position-paper experiment TOML, e.g. experiments/position_paper.toml.")],
    lang: Annotated[str, typer.Option("--lang", help="Report language: nb (Norwegian) or en (English).")] = "en",
    out: Annotated[Path, typer.Option("--out", help="Output root; the pack goes to OUT/<name>/.")] = Path("results"),
    rebuild_only: Annotated[bool, typer.Option("--rebuild-only", help="Build from saved results only (no runs).")] = False,
    quick: Annotated[bool, typer.Option("--quick", help="The experiment's [quick] smoke version (OUT/<name>-quick/).")] = False,
    workers: Annotated[int | None, typer.Option("--workers", "-w", help="Worker processes for the sweeps (default: all cores).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Run what the position paper needs (saved pieces are skipped) and write one report, Markdown and HTML."""
    from sim.api import check_lang
    from sim.report import report

    check_lang(lang)
    t0 = time.perf_counter()
    path = report(experiment, out, lang=lang, rebuild_only=rebuild_only, quick=quick, workers=workers,
                  progress=not quiet, say=(lambda _: None) if quiet else typer.echo)
    typer.echo(f"wrote {path} and {path.with_suffix('.html')} ({time.perf_counter() - t0:.0f} s)")


@app.command("validate-bass")
@guarded
def validate_bass(
    config: Annotated[Path, typer.Argument(help="The Bass case, e.g. experiments/validation/bass.toml.")] = Path(
        "experiments/validation/bass.toml"),
    seeds: Annotated[int, typer.Option("--seeds", help="Replicate seeds averaged.")] = 40,
    out: OutOpt = Path("results"),
    set_: SetOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Run the Bass special case and write the simulated and analytic curves side by side (CSV and figure)."""
    from sim.plots import fig_bass, save
    from sim.results import atomic_dir
    from sim.validation import bass_validation, check_bass_case

    cfg = _scenario(config, set_, out, lang)
    try:
        check_bass_case(cfg)
    except ValueError as err:
        raise ConfigError(f"{config}: {err}") from None
    if seeds < 2:
        raise ConfigError(f"--seeds: must be >= 2, got {seeds}")
    df = bass_validation(cfg, seeds)
    target = Path(out) / cfg.scenario
    with atomic_dir(target) as tmp:
        df.to_csv(tmp / "bass_curves.csv", index=False)
        save(fig_bass(df, lang), tmp / "figures" / f"bass_{lang}")
    gap = (df["share_mean"] - df["bass_cdf"]).abs().max()
    typer.echo(f"wrote {target}/bass_curves.csv and figures: max |simulated - F(t)| = {gap:.4f} over {len(df)} months")


@app.command()
@guarded
def params(
    config: Annotated[Path | None, typer.Argument(help="Scenario TOML (default: configs/baseline.toml).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md or csv")] = "md",
) -> None:
    """Print every scenario key with type, unit, value, allowed range, description and source."""
    from sim.params import parameter_table, render

    if fmt not in ("md", "csv"):
        raise ConfigError(f"--format: must be md or csv, got {fmt!r}")
    typer.echo(render(parameter_table(config), fmt), nl=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``onerecord`` console script: a usage error (``--seeds two``) is one line, exit 2."""
    usage_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")  # click's, as typer vendors it
    try:
        return app(args=argv, prog_name="onerecord", standalone_mode=False) or 0
    except usage_error as err:
        where = f" (see {err.ctx.command_path} --help)" if err.ctx is not None else ""
        if err.format_message():  # (no arguments: the help was printed)
            typer.echo(f"onerecord: {err.format_message()}{where}".replace("\n", " "), err=True)
        return 2
    except typer.Exit as err:
        return err.exit_code
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("onerecord: interrupted; nothing half-written was kept", err=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
