"""The ``onerecord`` command line: a thin layer over :mod:`sim.api`.

Every command parses its arguments, calls exactly one function of :mod:`sim.api` (which checks
the input, computes and saves) and prints from the result; it writes no file itself
(tests/test_cli.py checks this over the source). Bad input prints one line
``onerecord: <file>: <key>: <problem>`` on stderr and exits with status 2, before anything is
created under ``--out``; a fault of the machine (disk, memory, a pool that does not come back) exits 3,
the model raising in a run exits 1 (one line naming the run), Ctrl-C exits with 130; nothing is left
half-written.
"""

from __future__ import annotations

import importlib
import multiprocessing.util
import os
import signal
import sys
import threading
import time
import types
from functools import wraps
from pathlib import Path
from typing import Annotated


def _interrupted_while_starting(signum, frame) -> None:
    os.write(2, b"onerecord: interrupted while starting; nothing was written\n")
    os._exit(130)


# Ctrl-C while the command line's own imports load: one line, not a traceback.
_BEFORE_IMPORTS = (signal.signal(signal.SIGINT, _interrupted_while_starting)
                   if threading.current_thread() is threading.main_thread() else None)

import typer  # noqa: E402

from sim import __version__  # noqa: E402


class _LazyModule(types.ModuleType):
    """A stand-in that imports the module it names on its first attribute access and hands every attribute on.

    It is not put into ``sys.modules``: a library that walks the loaded modules (Mesa's logger does) would
    otherwise trigger the import half-way through an unrelated one (``import sim.cli; import sim.model``
    failed with a circular import when a :class:`importlib.util.LazyLoader` module stood there)."""

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self.__name__), attr)


def lazy_module(name: str) -> types.ModuleType:
    """Module ``name``, imported on its first attribute access.

    ``sim.api`` pulls in pandas, SciPy, Mesa and the model (1.7 s of imports, 3.4 s on a loaded 2-core machine):
    ``onerecord --version`` and ``--help`` need none of it, a command loads it when it calls the API.
    """
    return sys.modules.get(name) or _LazyModule(name)


api = lazy_module("sim.api")  # the one way this module reaches the package (tests/test_cli.py)

if _BEFORE_IMPORTS is not None:
    signal.signal(signal.SIGINT, _BEFORE_IMPORTS)

EXECUTORS = ("local", "dask")
"""sim.parallel.EXECUTORS, spelled out so that ``--help`` loads no model (tests/test_cli.py checks they agree)."""

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="onerecord: agent-based rollout simulation of a shared regional health record.")

SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override a key: section.key=value (TOML literal).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output root; runs go to OUT/<scenario>/<run id>/.")]
LangOpt = Annotated[str, typer.Option("--lang", help="Figure labels: nb (Norwegian) or en (English).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
ExecutorOpt = Annotated[str, typer.Option("--executor", help=f"Where runs are evaluated: {' or '.join(EXECUTORS)}.")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", "-w", help="Worker processes (default: all cores).")]
SchedulerOpt = Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address (default: a LocalCluster).")]


INTERRUPTED = "onerecord: interrupted; nothing half-written was kept"


_SAID: list[str] = []
"""The line a command printed on failing (so that the exit code alone does not print a second one)."""


def _fail(msg: str, code: int = 2) -> None:
    typer.echo(msg, err=True)
    _SAID.append(msg)
    raise typer.Exit(code)


def load_api() -> None:
    """Load the lazy ``sim.api`` now, a Ctrl-C meanwhile being "interrupted while starting" (one line, exit 130):
    interrupted half-way, a module would be left half-loaded for the error handling that follows."""
    if threading.current_thread() is not threading.main_thread():
        api.ConfigError  # noqa: B018 (the attribute access loads it)
        return
    previous = signal.signal(signal.SIGINT, _interrupted_while_starting)
    try:
        api.ConfigError  # noqa: B018
    finally:
        signal.signal(signal.SIGINT, previous)


def guarded(fn):
    """One line on stderr for every expected failure: ConfigError exit 2; EnvironmentFault, memory and disk
    exit 3; the model raising in a run (TaskFailed) exit 1; Ctrl-C exit 130."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        load_api()
        try:
            with api.interrupt.handling():
                return fn(*args, **kwargs)
        except KeyboardInterrupt:  # first (load_api loads sim.api whole before this try; kept as a second guard)
            _fail(INTERRUPTED, 130)
        except api.ConfigError as err:
            _fail(f"onerecord: {err}")
        except api.EnvironmentFault as err:
            _fail(f"onerecord: {err}", 3)
        except api.TaskFailed as err:  # the model raised in a run: a bug or a case it cannot run, not retried
            _fail(f"onerecord: {err} (the model failed in this run; nothing half-written was kept)", 1)
        except MemoryError:
            _fail("onerecord: out of memory; nothing half-written was kept (fewer seeds or workers need less)", 3)
        except OSError as err:
            _fail(f"onerecord: {describe_os_error(err, kwargs.get('out'))}; nothing half-written was kept", 3)
        except Exception as err:
            if isinstance(err, typer.Exit):  # a command's own exit (a sweep whose runs all failed)
                raise
            if api.interrupt.requested() or in_chain(err, KeyboardInterrupt):
                _fail(INTERRUPTED, 130)  # a library that caught the Ctrl-C failed in another way after it
            cause = os_fault_in(err)
            if cause is None:
                raise
            _fail(f"onerecord: {describe_os_error(cause, kwargs.get('out'))}; nothing half-written was kept", 3)

    return wrapper


def in_chain(err: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``err`` or an exception it was raised from or while handling is a ``kind``."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, kind):
            return True
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return False


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


class Bar:
    """A rich progress bar driven by ``progress(done, total)`` callbacks; nothing when quiet.

    The bar starts at the first callback (after the API has checked the input) and stops on exit.
    """

    def __init__(self, what: str, quiet: bool):
        self.what, self.quiet, self.bar, self.task = what, quiet, None, None

    def __call__(self, done: int, total: int) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TimeRemainingColumn(), transient=True)
            self.task = self.bar.add_task(self.what, total=total)
            self.bar.start()
        self.bar.update(self.task, completed=done, total=total)

    def __enter__(self) -> "Bar":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"onerecord {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the package version and exit.")] = False,
) -> None:
    """onerecord: agent-based rollout simulation of a shared regional health record."""


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
    t0 = time.perf_counter()
    with Bar("seeds x draws", quiet) as bar:
        res = api.run(config, seeds=seeds, jobs=jobs, overrides=set_, out=out, lang=lang, progress=bar)
    s, y, k = res.summary, res.report_year, len(res.draws) - 1
    draws = f" x {k + 1} draws" if k else ""
    typer.echo(f"wrote {res.path} ({len(res.manifest['replicates'])} seeds{draws}, {time.perf_counter() - t0:.1f} s): {y} GP "
               f"uptake median {s[f'share_gps_{y}'].median():.2f}, one-record coverage "
               f"{s[f'one_record_coverage_{y}'].median():.2f}, gain realized {s[f'gain_realized_{y}'].median():.2f}")


@app.command()
@guarded
def plot(
    results_dir: Annotated[Path, typer.Argument(help="A saved result: run directory (with manifest.json), uptake curve, "
                                                     "sensitivity, calibration or Bass folder.")],
    lang: LangOpt = "en",
) -> None:
    """Redraw every figure of a saved result from its tables (no re-run)."""
    res = api.plot(results_dir, lang)
    typer.echo(f"wrote {len(res.files)} files to {res.path / 'figures'}")


@app.command()
@guarded
def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="Two or more run directories.")],
    out: Annotated[Path, typer.Option("--out", help="Output root; the comparison goes to OUT/compare/<runs compared>-<hash>/.")] = Path("results"),
    lang: LangOpt = "en",
) -> None:
    """Plot scenarios side by side and print the key report-year figures with their spread over seeds."""
    res = api.compare(run_dirs, out=out, lang=lang)
    typer.echo(res.text)
    typer.echo(f"wrote compare.csv and figures to {res.path}")


@app.command("uptake-curve")
@guarded
def uptake_curve(
    config: Annotated[Path, typer.Argument(help="Scenario TOML.")],
    steps: Annotated[int, typer.Option("--steps", help="GP-share steps from 0 to 1.")] = 21,
    orders: Annotated[list[str] | None, typer.Option("--orders", help="random, largest_first, most_connected_first, by_municipality")] = None,
    seeds: Annotated[int, typer.Option("--seeds", help="Seeds for the random orders.")] = 5,
    draws: Annotated[int, typer.Option("--draws", help="Parameter draws of the uncertain inputs (0: the config only).")] = 0,
    month: Annotated[str | None, typer.Option("--month", help="Month (YYYY-MM) whose status quo the gain is measured against (default: December of run.report_year).")] = None,
    out: OutOpt = Path("results"),
    set_: SetOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Hold hospitals and municipalities on the platform; sweep GP share per recruitment order."""
    res = api.uptake_curve(config, steps=steps, orders=orders, seeds=seeds, overrides=set_, out=out, lang=lang,
                           draws=draws, month=month)
    typer.echo(f"wrote {res.path}/uptake_curve.csv and figures ({len(res.uptake_curve)} rows)")


@app.command("gp-drivers")
@guarded
def gp_drivers(
    config: Annotated[Path, typer.Argument(help="Scenario TOML.")],
    seeds: Annotated[int, typer.Option("--seeds", help="Replicate seeds (the same in every variant).")] = 8,
    licences: Annotated[list[float] | None, typer.Option("--licence", help="Licence prices, NOK per GP per year (repeat; default 0-120,000).")] = None,
    subsidies: Annotated[list[float] | None, typer.Option("--subsidy", help="Subsidies, NOK per GP per year (repeat; default 0-60,000).")] = None,
    out: OutOpt = Path("results"),
    set_: SetOpt = None,
    lang: LangOpt = "en",
) -> None:
    """What drives GP uptake: the split by utility term, money-losing offices' residual uptake, uptake over
    price and subsidy, the break-even licence price; write OUT/<scenario>/<run id>/."""
    res = api.gp_drivers(config, seeds=seeds, licences_nok=licences, subsidies_nok=subsidies, overrides=set_,
                         out=out, lang=lang)
    be = res.break_even.set_index("quantity").loc["licence"]
    typer.echo(f"wrote {res.path} (residual uptake of money-losing offices, median over seeds: "
               f"{res.residual['share_gps_money_losing_joined'].median():.3f} of GPs; break-even licence median "
               f"{be['q50']:,.0f} NOK per GP per year, 10-90% {be['q10']:,.0f}-{be['q90']:,.0f})")


@app.command()
@guarded
def calibrate(
    config: Annotated[Path, typer.Argument(help="Scenario TOML to calibrate; the fitted keys' sweep ranges are the priors.")],
    quick: Annotated[bool, typer.Option("--quick", help="A small fit (seconds) for tests and smoke runs.")] = False,
    out: OutOpt = Path("results"),
    set_: SetOpt = None,
    seeds: Annotated[int | None, typer.Option("--seeds", help="Replicate seeds per particle (default 2; quick 1).")] = None,
    config_out: Annotated[Path | None, typer.Option("--config-out", help="Write calibrated.toml (and its posterior "
                                                    "beside it) here too.")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Fold the result into CONFIG: posterior medians, the bill's "
                                        "fitted rows, [calibration] and <stem>_posterior.csv beside it.")] = False,
    lang: LangOpt = "en",
) -> None:
    """Fit the uncertain inputs jointly to the history to 2023-12; write OUT/<scenario>/<run id>/."""
    if apply and (quick or set_):
        _fail("onerecord: calibrate --apply: not with --quick or --set (a smoke fit or an altered config "
              "must not become the base)", 2)
    typer.echo(f"calibrating {config} ({'quick' if quick else 'default'} settings) ...")
    res = api.calibrate(config, quick=quick, seeds=seeds, overrides=set_, config_out=config_out, out=out, lang=lang,
                        apply_to=config if apply else None)
    for _, r in res.parameters.iterrows():
        typer.echo(f"  {r['parameter']:<38} {r['posterior_median']:.4g}  [{r['p05']:.4g}, {r['p95']:.4g}]")
    cov = res.coverage[~res.coverage["by_construction"]]["covered_90"]
    ess = f"; ESS {res.meta['ess']:.1f} of {res.meta['particles']} particles" if "ess" in res.meta else ""
    typer.echo(f"wrote {res.out_dir} ({res.wall_seconds:.0f} s{ess}; observed points the model could miss inside the "
               f"90% band: {cov.sum()}/{len(cov)})" + (f" and {res.config_path}" if res.config_path else ""))
    if apply:
        typer.echo(f"folded into {config} (posterior: {res.files[-1]})")


@app.command()
@guarded
def sweep(
    experiment: Annotated[Path | None, typer.Argument(help="Experiment TOML, e.g. experiments/smoke.toml.")] = None,
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    shard: Annotated[str | None, typer.Option("--shard", help="I/N: run slice I (0..N-1) of N, e.g. $SLURM_ARRAY_TASK_ID/N.")] = None,
    merge: Annotated[bool, typer.Option("--merge", help="Join the shards of OUT/<name> into one dataset.")] = False,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Rerun only the runs in failures.csv.")] = False,
    evaluator: Annotated[str | None, typer.Option("--evaluator", help="module:function evaluating a run instead of "
                                                  "the model (tests, stand-ins).")] = None,
    out: OutOpt = Path("results"),
    quiet: QuietOpt = False,
) -> None:
    """Run (or resume) an experiment's design on a process pool or Dask; results stream to Parquet."""
    res = api.sweep(experiment, out, executor=executor, workers=workers, scheduler=scheduler, shard=shard, merge=merge,
                    retry_failed=retry_failed, progress=not quiet, evaluate=evaluator)
    st = res.status
    what = f" shard {shard}" if shard and not merge else ""
    typer.echo(f"wrote {res.path}{what}: {st['done']} of {st['n_runs']} runs done, {st['failed']} failed, "
               f"{st['missing']} missing")
    if st["failed"] and not st["done"]:
        _fail(f"onerecord: every run failed; see failures.csv under {res.path}", 1)


@app.command()
@guarded
def sensitivity(
    experiment: Annotated[Path, typer.Argument(help="Experiment TOML with a morris or sobol design, e.g. experiments/sobol_core.toml.")],
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    analyse_only: Annotated[bool, typer.Option("--analyse-only", help="Analyse the saved sweep; run nothing.")] = False,
    out: OutOpt = Path("results"),
    lang: LangOpt = "en",
    quiet: QuietOpt = False,
) -> None:
    """Morris or Sobol indices (SALib), seed variance, tornado and PRIM boxes for an experiment; resumable."""
    res = api.sensitivity(experiment, out, executor=executor, workers=workers, scheduler=scheduler,
                          analyse_only=analyse_only, progress=not quiet, lang=lang)
    typer.echo(f"wrote {res.path} ({len(res.indices)} index rows)")
    if len(res.top) and not quiet:
        typer.echo(res.top.to_string(index=False))


@app.command()
@guarded
def report(
    experiment: Annotated[Path, typer.Argument(help="Position-paper experiment TOML, e.g. experiments/position_paper.toml.")],
    lang: Annotated[str, typer.Option("--lang", help="Report language: nb (Norwegian) or en (English).")] = "en",
    out: Annotated[Path, typer.Option("--out", help="Output root; the pack goes to OUT/<name>/.")] = Path("results"),
    rebuild_only: Annotated[bool, typer.Option("--rebuild-only", help="Build from saved results only (no runs).")] = False,
    quick: Annotated[bool, typer.Option("--quick", help="The experiment's [quick] smoke version (OUT/<name>-quick/).")] = False,
    workers: WorkersOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run what the position paper needs (saved pieces are skipped) and write one report, Markdown and HTML."""
    t0 = time.perf_counter()
    res = api.report(experiment, out, lang=lang, rebuild_only=rebuild_only, quick=quick, workers=workers,
                     progress=not quiet, say=(lambda _: None) if quiet else typer.echo)
    typer.echo(f"wrote {res.path} and {res.path.with_suffix('.html')} ({time.perf_counter() - t0:.0f} s)")


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
    res = api.validate_bass(config, seeds=seeds, overrides=set_, out=out, lang=lang)
    typer.echo(f"wrote {res.path}/bass_curves.csv and figures")
    typer.echo(res.verdict_line())


@app.command()
@guarded
def params(
    config: Annotated[Path | None, typer.Argument(help="Scenario TOML (default: configs/baseline.toml).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md or csv")] = "md",
) -> None:
    """Print every scenario key with type, unit, value, allowed range, description and source."""
    typer.echo(api.params(config, fmt).text, nl=False)


@app.command("bill")
@guarded
def bill(
    kommune: Annotated[str, typer.Argument(help="Municipality: name (Levanger) or kommunenummer (5037).")],
    config: Annotated[Path, typer.Argument(help="Scenario TOML; the financing scenarios beside it are compared.")] = Path(
        "configs/baseline.toml"),
    seeds: Annotated[int | None, typer.Option("--seeds", help="Replicate seeds per scenario (default: run.seeds).")] = None,
    draws: Annotated[int | None, typer.Option("--draws", help="Parameter draws besides the config (default: run.draws).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Output root; the sheet goes to OUT/<scenario>/<run id>/ "
                                                    "(e.g. baseline-bill-5037_Levanger-<hash>).")] = Path("results"),
    set_: SetOpt = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes for the replicates.")] = 1,
    lang: Annotated[str, typer.Option("--lang", help="Headers of bill.xlsx: nb (default) or en.")] = "nb",
    quiet: QuietOpt = False,
) -> None:
    """One municipality's bill by component and year under every financing scenario: xlsx, CSV and figures."""
    with Bar("scenarios x seeds x draws", quiet) as bar:
        res = api.bill(kommune, config, seeds=seeds, jobs=jobs, overrides=set_, out=out, lang=lang, progress=bar, draws=draws)
    s = res.summary
    typer.echo(f"{res.name} ({res.kommunenummer}), {int(s['population'].iloc[0]):,} residents; NOK, 2023 money, median over runs:")
    fmt = {"share_runs_live": "{:.0%}".format, "golive_year": lambda v: "-" if v != v else f"{v:.0f}"}
    cols = ["scenario", "share_runs_live", "golive_year", "oneoff_nok", "annual_net_nok_per_inhabitant",
            "expected_nok_per_inhabitant", "npv_net_cost_nok"]
    typer.echo(s[cols].to_string(index=False, na_rep="-", formatters={c: fmt.get(c, "{:,.0f}".format) for c in cols[1:]}))
    typer.echo(f"wrote {res.path}: bill.xlsx, CSVs (nb and en) and figures")


@app.command()
@guarded
def explore(
    config: Annotated[Path, typer.Argument(help="Base scenario TOML; the others beside it are offered too.")] = Path("configs/baseline.toml"),
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 8765,
    seeds: Annotated[int, typer.Option("--seeds", help="Replicate seeds per setting (changeable in the page).")] = 8,
    jobs: Annotated[int, typer.Option("--jobs", help="Worker processes (default: the CPUs).")] = 0,
    kommune: Annotated[str, typer.Option("--kommune", help="Municipality whose bill is shown first (name or number).")] = "Trondheim",
    lang: LangOpt = "en",
) -> None:
    """Start the explorer in the browser at http://127.0.0.1:PORT (offline; Ctrl-C stops it)."""
    api.explore(config, port=port, seeds=seeds, jobs=jobs or None, kommune=kommune, lang=lang,
                ready=lambda: typer.echo(f"onerecord explorer: http://127.0.0.1:{port}  (Ctrl-C stops it)"))


def main() -> None:
    """Entry point of the ``onerecord`` console script."""
    app(prog_name="onerecord")
def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``onerecord`` console script: a usage error (``--seeds two``) is one line, exit 2.

    Interrupted (exit 130) as the process's entry point (``argv`` None), the process ends at once
    after its one line: what it wrote is complete or removed by then, and a pool's manager thread
    that a Ctrl-C left waiting must not hold up the interpreter's exit (its workers die with it).
    """
    code = _main(argv)
    if code == 130 and argv is None:
        sys.stdout.flush()
        sys.stderr.flush()
        # unlink the pool's semaphores first (their finalizers, exit priority 0; no child is joined), so the
        # resource tracker has nothing to warn about on stderr after the one line
        multiprocessing.util._run_finalizers(0)
        os._exit(130)
    return code


def _main(argv: list[str] | None) -> int:
    usage_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")  # click's, as typer vendors it
    _SAID.clear()
    try:
        code = app(args=argv, prog_name="onerecord", standalone_mode=False) or 0
        if code == 130 and not _SAID:  # typer turns a Ctrl-C outside a command (parsing the arguments) into a silent 130
            typer.echo(INTERRUPTED, err=True)
        return code
    except usage_error as err:
        where = f" (see {err.ctx.command_path} --help)" if err.ctx is not None else ""
        if err.format_message():  # (no arguments: the help was printed)
            typer.echo(f"onerecord: {err.format_message()}{where}".replace("\n", " "), err=True)
        return 2
    except typer.Exit as err:
        return err.exit_code
    except (typer.Abort, KeyboardInterrupt):
        typer.echo(INTERRUPTED, err=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
