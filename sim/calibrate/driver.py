"""The fit: simulations on the shared executor (sim.parallel), ABC-SMC through pyabc, and the whole
calibration command."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import date, timedelta
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd
from scipy.stats import multivariate_normal, qmc

from sim.calibrate.likelihood import (SERIES, decision_points_in_window, joint_log_likelihood, make_target, path_terms,
                                      series_distance)
from sim.calibrate.outputs import (CalibrationResult, bands_table, calibrated_toml, coverage_table, draw_posterior,
                                   parameter_table, write_files)
from sim.calibrate.settings import (BASELINE_PATH, CALIBRATION_STREAM, DEFAULT, FIT_PARAMETERS, JOINT_PARAMETERS, METHOD,
                                    METHOD_JOINT, QUICK, CalibrationSettings, Simulator, prior_range)
from sim import interrupt
from sim.builds import BuildCache
from sim.config import Config, config_to_dict, with_horizon, with_overrides
from sim.economics.observed import fit_bill_parameters
from sim.history import (DECIDED, FORECAST_COLUMNS, HISTORY_END, decision_count_points, observed_series,
                         option_decision_points)
from sim.parallel import Executor, SerialExecutor, blas_single_thread, make_executor, pool_for
from sim.municipal_decision import history_evidence
from sim.region import load_region
from sim.runner import simulate

# --------------------------------------------------------------------------- simulation


BOUND = "n_municipalities_bound"
"""The monthly series of municipalities with a binding agreement (live ones included)."""

_BUILDS: dict = {}
"""This process's ``sim.builds.BuildCache`` for :func:`simulate_monthly` (a worker's own; read only here)."""


def _builds() -> BuildCache:
    return _BUILDS.setdefault("builds", BuildCache())


def simulate_monthly(cfg: Config, replicate: int) -> pd.DataFrame:
    """The model's monthly table for one replicate (runner.simulate; region and network kept in
    this process's build cache, which forked workers inherit)."""
    model, _, _ = simulate(cfg, replicate, _builds())
    return model.monthly()


def particle_replicates(theta: dict[str, float], k: int) -> list[int]:
    """k replicate indices derived from a hash of the parameter vector.

    A particle's simulation is then a deterministic function of its parameters (any sampler,
    any worker), and distinct particles get distinct seeds: r_j = 10^6 + (sha256(theta) mod 2^30) + j.
    The offset keeps them apart from the predictive replicates 0..N.
    """
    blob = json.dumps({k_: round(float(v), 12) for k_, v in sorted(theta.items())}).encode()
    base = 1_000_000 + int.from_bytes(hashlib.sha256(blob).digest()[:4], "little") % (1 << 30)
    return [base + j for j in range(k)]


def _abc_name(key: str) -> str:
    return key.replace(".", "__")


def _dotted(name: str) -> str:
    return name.replace("__", ".")


def _simulate_series(cfg_fit: Config, theta: dict[str, float], k: int, simulator: Simulator) -> dict[str, np.ndarray]:
    c = with_overrides(cfg_fit, theta)
    runs = [simulator(c, r).sort_values("t") for r in particle_replicates(theta, k)]
    n = cfg_fit.n_months
    cols = [*SERIES, DECIDED] if DECIDED in runs[0].columns else SERIES
    return {s: np.stack([r[s].to_numpy(float)[:n] for r in runs]) for s in cols}


# --------------------------------------------------------------------------- fitting


def fit_abc(cfg: Config, observed: pd.DataFrame, keys: Sequence[str] = FIT_PARAMETERS,
            settings: CalibrationSettings = DEFAULT, simulator: Simulator | None = None,
            db_dir: str | Path | None = None, n_municipalities: int | None = None,
            decisions: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run ABC-SMC for ``keys`` against ``observed`` (and option-decision points, if given).

    The fit runs the model from ``run.start_month`` to the last observed month only. Returns
    (posterior, generations); the posterior has one row per particle of the last generation:
    the dotted keys and ``weight`` (sums to 1). numpy's and Python's global random states are as they were
    before the call (pyabc draws from them, and seeds Python's when it is first imported).
    """
    saved = np.random.get_state(), random.getstate()
    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)
    simulator = simulator or simulate_monthly
    start = pd.Timestamp(f"{cfg.run.start_month}-01")
    if pd.Timestamp(observed["month"].iloc[0]) != start:
        raise ValueError(f"observed starts {observed['month'].iloc[0]:%Y-%m}, the config at {cfg.run.start_month}")
    end_month = f"{pd.Timestamp(observed['month'].iloc[-1]):%Y-%m}"
    cfg_fit = with_horizon(cfg, end_month)
    if cfg_fit.n_months != len(observed):
        raise ValueError(f"observed has {len(observed)} months, {cfg.run.start_month}..{end_month} has {cfg_fit.n_months}")
    if n_municipalities is None:
        n_municipalities = len(load_region(cfg.region).municipalities)
    target = make_target(observed, n_municipalities,
                         decision_points_in_window(decisions, cfg.run.start_month, len(observed)))
    if simulator is simulate_monthly:
        _builds().get(cfg_fit)  # build once in the parent; forked workers inherit it

    def model(par) -> dict:
        theta = {_dotted(k): float(v) for k, v in dict(par).items()}
        return _simulate_series(cfg_fit, theta, settings.seeds_per_particle, simulator)

    def distance(x: dict, x0: dict) -> float:
        return series_distance(x, target, settings)

    prior = pyabc.Distribution(**{_abc_name(k): pyabc.RV("uniform", prior_range(k)[0], np.diff(prior_range(k))[0])
                                  for k in keys})
    np.random.seed(np.random.SeedSequence(cfg.run.seed, spawn_key=(CALIBRATION_STREAM,)).generate_state(1)[0])
    try:
        return _run_abc(pyabc, model, prior, distance, target, keys, settings, cfg.run.seed, db_dir)
    finally:
        np.random.set_state(saved[0])
        random.setstate(saved[1])


def _run_abc(pyabc, model, prior, distance, target, keys: Sequence[str], settings: CalibrationSettings, seed: int,
             db_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    """pyabc's ABCSMC on the calibration's executor; (posterior, generations)."""
    with _executor(settings) as ex, tempfile.TemporaryDirectory(dir=db_dir) as tmp:
        sampler = (pyabc.sampler.SingleCoreSampler() if isinstance(ex, SerialExecutor)
                   else executor_sampler(ex, seed))
        abc = pyabc.ABCSMC(model, prior, distance, population_size=settings.population_size, sampler=sampler)
        abc.new("sqlite:///" + os.path.join(tmp, "abc.db"),
                {"n_municipalities_live": target.n_municipalities_live,
                 "share_residents_municipalities_live": target.share_residents_municipalities_live,
                 "n_gp_offices_live": target.gp})
        hist = abc.run(minimum_epsilon=settings.min_epsilon, max_nr_populations=settings.max_generations,
                       min_acceptance_rate=settings.min_acceptance_rate,
                       max_walltime=timedelta(seconds=settings.max_walltime_s))
        pars, w = hist.get_distribution()
        gens = hist.get_all_populations()
        gens = gens[gens["t"] >= 0][["t", "epsilon", "samples", "particles"]].reset_index(drop=True)
        posterior = pars.rename(columns=_dotted).reset_index(drop=True)[list(keys)]
        posterior["weight"] = np.asarray(w, float) / np.sum(w)
    return posterior, gens


# --------------------------------------------------------------------------- posterior predictive


def _run_job(job: tuple[Config, dict[str, float], int, Simulator]) -> pd.DataFrame:
    cfg, theta, replicate, simulator = job
    with blas_single_thread():
        out = simulator(with_overrides(cfg, theta) if theta else cfg, replicate)
    return out


def _executor(settings: CalibrationSettings) -> Executor:
    """The calibration's executor: this process for one local worker, else a pool (sim.parallel)."""
    if settings.executor == "local" and settings.scheduler is None and settings.n_procs <= 1:
        return SerialExecutor()
    return make_executor(settings.executor, settings.n_procs, settings.scheduler, preload=("sim.runner", "sim.model"))


def _abc_batch(simulate_one: bytes, seeds: list[int]) -> list:
    """Particles of one ABC job: numpy's and random's global generators (pyabc's proposals) seeded
    per particle, so a particle is a function of its seed on any worker."""
    fn = cloudpickle.loads(simulate_one)
    out = []
    for seed in seeds:
        random.seed(seed)
        np.random.seed(seed)
        out.append(fn())
    return out


def executor_sampler(executor: Executor, seed: int, batch: int = 2):
    """A pyabc sampler on our executor (local pool or Dask): :class:`sim.parallel.Executor` as
    pyabc's ``Sampler`` (pyabc's own samplers start their own processes or need a Dask client).

    Particle k of generation t is simulated with the global generators seeded from
    ``SeedSequence(seed, spawn_key=(CALIBRATION_STREAM, 2, t + 1, k))``, and particles are taken in
    k order until n are accepted (or ``max_eval`` evaluations are used: the generation is then not
    ok, as pyabc's ``check_max_eval`` does). So a fit on any number of workers gives the same
    population: the order of finishing never matters.
    """
    import pyabc

    class ExecutorSampler(pyabc.sampler.Sampler):
        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False,
                                    ana_vars=None):
            blob = cloudpickle.dumps(simulate_one)
            window = 2 * executor.capacity
            inflight: dict = {}
            finished: dict[int, list] = {}
            taken: list = []
            next_job = next_take = accepted = 0
            try:
                while accepted < n and len(taken) < max_eval:
                    interrupt.check()  # a Ctrl-C that a library swallowed stops the fit here
                    while next_take in finished and accepted < n and len(taken) < max_eval:
                        for particle in finished.pop(next_take):
                            if accepted >= n or len(taken) >= max_eval:
                                break
                            taken.append(particle)
                            accepted += bool(particle.accepted)
                        next_take += 1
                    if accepted >= n or len(taken) >= max_eval:
                        break
                    while len(inflight) < window:
                        ks = range(next_job * batch, (next_job + 1) * batch)
                        seeds = [int(np.random.SeedSequence(seed, spawn_key=(CALIBRATION_STREAM, 2, t + 1, k))
                                     .generate_state(1)[0]) for k in ks]
                        inflight[executor.submit(_abc_batch, blob, seeds)] = next_job
                        next_job += 1
                    for fut in executor.wait_any(inflight):
                        finished[inflight.pop(fut)] = executor.result(fut)
            finally:
                for fut in inflight:
                    fut.cancel()
            sample = self._create_empty_sample()
            for particle in taken:
                sample.append(particle)
            self.nr_evaluations_ = len(taken)
            if sample.n_accepted < n:
                sample.ok = False
            return sample

    return ExecutorSampler()


def _map(jobs: list, n_procs: int) -> list[pd.DataFrame]:
    """The posterior predictive's simulations, in order, on ``n_procs`` local workers."""
    with pool_for(n_procs if len(jobs) > 1 else 1, ("sim.runner", "sim.model")) as pool:
        return pool.map(_run_job, jobs)


def predictive_runs(cfg: Config, draws: pd.DataFrame | None, n_draws: int, seeds_per_draw: int, end_month: str,
                    simulator: Simulator | None = None, n_procs: int = 1,
                    columns: Sequence[str] = (*SERIES, DECIDED, BOUND, "one_record_coverage", "gain_realized")) -> pd.DataFrame:
    """Monthly trajectories for draws x seeds to ``end_month``: columns draw, replicate, t, month, ``columns``.

    Draw d (a row of ``draws``, or the config itself when ``draws`` is None) runs replicates
    d * seeds_per_draw + j, j < seeds_per_draw, so every trajectory has its own seed.
    """
    simulator = simulator or simulate_monthly
    c = with_horizon(cfg, end_month)
    thetas = ([{}] * n_draws if draws is None
              else [{k: float(v) for k, v in row.items()} for _, row in draws.iloc[:n_draws].iterrows()])
    jobs = [(c, th, d * seeds_per_draw + j, simulator) for d, th in enumerate(thetas) for j in range(seeds_per_draw)]
    outs = _map(jobs, n_procs)
    keep = [col for col in columns if col in outs[0].columns]
    parts = [o[["t", "month", *keep]].assign(draw=job[2] // seeds_per_draw, replicate=job[2])
             for o, job in zip(outs, jobs)]
    df = pd.concat(parts, ignore_index=True)
    return df[["draw", "replicate", "t", "month", *keep]]



def forecast(calibrated_cfg: Config, n_draws: int = 100, posterior: pd.DataFrame | str | Path | None = None,
             seeds_per_draw: int = 1, simulator: Simulator | None = None, n_procs: int = 1,
             runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Out-of-sample forecast, 2024-01 to December of ``run.report_year``, with 50% and 90% bands.

    Trajectories over ``n_draws`` posterior draws x ``seeds_per_draw`` seeds (the config alone,
    over n_draws x seeds seeds, when ``posterior`` is None; a path reads ``posterior.csv``).
    Columns: series, t, month, p05, p25, p50, p75, p95 for municipalities live, GP offices
    live, one-record coverage and gain realized. ``runs`` reuses trajectories already simulated.
    """
    if isinstance(posterior, (str, Path)):
        posterior = pd.read_csv(posterior)
    end = f"{calibrated_cfg.run.report_year}-12"
    if runs is None:
        draws = None if posterior is None else draw_posterior(posterior, n_draws, calibrated_cfg.run.seed)
        runs = predictive_runs(calibrated_cfg, draws, n_draws, seeds_per_draw, end, simulator, n_procs)
    runs = runs[(runs["month"] >= pd.Timestamp(f"{int(HISTORY_END[:4]) + 1}-01-01"))
                & (runs["month"] <= pd.Timestamp(f"{end}-01"))]
    return bands_table(runs, [c for c in FORECAST_COLUMNS if c in runs.columns])



# --------------------------------------------------------------------------- the whole calibration


def coverage_counts(cfg: Config) -> pd.DataFrame:
    """The dated binding-agreement counts (:func:`sim.history.decision_count_points`, measure ``bound``) as
    coverage points of the series ``n_municipalities_bound``: month, t, series, low, high."""
    pts = decision_count_points()
    pts = pts[pts["measure"] == "bound"]
    return pd.DataFrame({"month": pts["month"].to_numpy(), "t": [cfg.t_of(f"{m:%Y-%m}") for m in pts["month"]],
                         "series": BOUND, "low": pts["low"].to_numpy(float), "high": pts["high"].to_numpy(float)})


def by_construction(cfg: Config, replay: bool, end_t: int) -> dict[str, int]:
    """Series -> last month index whose observed points hold by construction in runs of ``cfg`` (real region):
    with the history replayed, every municipal series (named go-lives, decisions and the dated counts are
    replayed); the GP offices' lower bound whenever pilot offices are forced in with the first municipality.
    Without the replay the municipalities live are not by construction: the wave capacities (the history's
    counts) cap them, but the rules can leave a wave short."""
    if cfg.region.kind != "real":
        return {}
    out = {}
    if replay:
        out |= {s: end_t for s in ("n_municipalities_live", "share_residents_municipalities_live", DECIDED, BOUND)}
    if cfg.gp.pilot_offices_per_precommitted_municipality > 0:
        out["n_gp_offices_live"] = end_t
    return out


def trim_posterior(particles: pd.DataFrame, keys: Sequence[str], floor: float = 1e-3) -> pd.DataFrame:
    """posterior.csv from the weighted particles: the keys and ``weight`` (renormalised to sum 1) of every
    particle whose weight is at least ``floor`` times the largest (the rest carry no mass a draw could pick)."""
    w = particles["weight"].to_numpy(float)
    keep = particles[w >= floor * w.max()][[*keys, "weight"]].reset_index(drop=True)
    keep["weight"] = keep["weight"] / keep["weight"].sum()
    return keep


def calibrate(cfg: Config, quick: bool = False, out_dir: str | Path | None = "results/calibration",
              seeds: int | None = None, *, config_path: str | Path | None = None,
              base_config_path: str | Path = BASELINE_PATH, keys: Sequence[str] | None = None,
              observed: pd.DataFrame | None = None, decisions: pd.DataFrame | None = None,
              settings: CalibrationSettings | None = None, simulator: Simulator | None = None,
              then: Callable[[Path, CalibrationResult], None] | None = None,
              particles: pd.DataFrame | None = None, generations: pd.DataFrame | None = None) -> CalibrationResult:
    """The calibration: fit, check against the history, forecast, write.

    **The real history** (``observed`` None; the real region): first the bill's ``fitted`` rows are solved
    exactly (:func:`sim.economics.observed.fit_bill_parameters`), then ``keys`` (default
    :data:`JOINT_PARAMETERS`) are fitted jointly by adaptive importance sampling
    (:func:`fit_importance`) of the simulated likelihood of the municipal decision record and the GP-office
    record (:func:`sim.calibrate.likelihood.joint_log_likelihood`), with the history replayed as ``cfg``
    says. ``particles`` (a previous fit's particles.csv, with its generations.csv as ``generations``) skips
    the fit and rebuilds every output from them. **A given observed
    series** (synthetic histories, recovery tests): ABC-SMC on :func:`series_distance` (:func:`fit_abc`,
    default keys :data:`FIT_PARAMETERS`), the rules from the start, ``decisions`` the option points.

    Then, over ``predictive_draws`` posterior draws x ``predictive_seeds`` seeds: bands and coverage
    from runs with the rules from the start (``rollout.replay_history = false``) to the last observed
    month, ``coverage.csv`` marking the points that hold by construction (:func:`by_construction`); the
    forecast from runs of ``cfg`` as given (2024 to the report year). ``quick``: the QUICK settings;
    ``seeds``: replicate seeds per particle. Nothing after 2023-12 of the history is fitted. Writes the
    files listed in the package docstring to ``out_dir`` (nothing if None), and calibrated.toml with
    its posterior beside it to ``config_path`` when given; ``then(out_dir, result)`` runs after the tables
    are written (the API draws the figures there).
    """
    t0 = time.perf_counter()
    settings = settings or (QUICK if quick else DEFAULT)
    if seeds is not None:
        settings = replace(settings, seeds_per_particle=int(seeds), likelihood_replicates=int(seeds))
    joint = observed is None
    keys = list(keys or (JOINT_PARAMETERS if joint else FIT_PARAMETERS))
    for k in keys:
        prior_range(k)
    fitted: dict[str, float] = {}
    extra: dict = {}
    if joint:
        observed = observed_series(cfg, cfg.run.start_month, HISTORY_END)
        decisions = option_decision_points() if decisions is None else decisions
        fitted = {k: float(v) for k, v in fit_bill_parameters(cfg, load_region(cfg.region)).items()}
        cfg = with_overrides(cfg, fitted)
        if particles is None:
            adapt = [k for k in keys if not k.startswith(settings.prior_proposal_prefixes)]
            particles, gens = fit_importance(keys, joint_log_likelihoods(cfg, settings), settings, cfg.run.seed, t0,
                                             adapt)
        else:
            gens = generations if generations is not None else pd.DataFrame(
                {"stage": sorted(set(particles["stage"])), "particles": particles.groupby("stage").size().cumsum().to_numpy()})
        posterior = trim_posterior(particles, keys)
        method = METHOD_JOINT.format(stages=int(particles["stage"].max()))
        simulations = int(len(particles) * settings.likelihood_replicates)
        extra = {"ess": round(float(1.0 / np.sum(particles["weight"].to_numpy(float) ** 2)), 2),
                 "particles": int(len(particles)), "posterior_rows": int(len(posterior))}
    else:
        import pyabc

        if "n_gp_offices_live_lower" in observed and pd.Timestamp(observed["month"].max()) > pd.Timestamp(f"{HISTORY_END}-01"):
            raise ValueError(f"observed history after {HISTORY_END} may not be fitted")
        posterior, gens = fit_abc(with_overrides(cfg, {"rollout.replay_history": False}), observed, keys, settings,
                                  simulator, db_dir=None, decisions=decisions)
        method = METHOD.format(version=pyabc.__version__)
        simulations = int(gens["samples"].sum())
    points = decision_points_in_window(decisions, cfg.run.start_month, len(observed))
    table = parameter_table(posterior, cfg, keys)

    medians = {k: float(v) for k, v in zip(table["parameter"], table["posterior_median"])}
    draws = draw_posterior(posterior, settings.predictive_draws, cfg.run.seed)
    fit_end = pd.Timestamp(observed["month"].max())
    fit_month = f"{fit_end:%Y-%m}"
    rules = with_overrides(cfg, {"rollout.replay_history": False})
    runs_fit = predictive_runs(rules, draws, settings.predictive_draws, settings.predictive_seeds, fit_month, simulator,
                               settings.n_procs)
    bands = bands_table(runs_fit, [c for c in (*SERIES, DECIDED, BOUND) if c in runs_fit.columns])
    counts = coverage_counts(cfg) if joint else None
    coverage = coverage_table(bands, observed, points, by_construction(cfg, False, cfg.t_of(fit_month)), counts)
    end = f"{max(cfg.run.report_year, int(HISTORY_END[:4]))}-12"
    cal_cfg = with_overrides(cfg, medians)
    if fit_end < pd.Timestamp(f"{end}-01"):
        runs = predictive_runs(cfg, draws, settings.predictive_draws, settings.predictive_seeds, end, simulator,
                               settings.n_procs)
        fc = forecast(cal_cfg, runs=runs)
    else:
        fc = bands.iloc[:0]

    result = CalibrationResult(parameters=table, posterior=posterior, generations=gens, observed=observed,
                               decision_points=points,
                               bands=bands, coverage=coverage, forecast=fc, calibrated_config="",
                               wall_seconds=0.0, settings=settings, fitted=fitted,
                               particles=particles if joint else None, data_end=fit_month)
    when = date.today()
    if config_path is not None:
        config_path = Path(config_path)
        rel = os.path.relpath(Path(base_config_path).resolve(), config_path.resolve().parent)
        post_path = config_path.with_name(f"{config_path.stem}_posterior.csv")
        result.calibrated_config = calibrated_toml(table, rel, method, when, posterior=post_path.name,
                                                   data_end=fit_month, fitted=fitted)
        config_path.parent.mkdir(parents=True, exist_ok=True)
        posterior.to_csv(post_path, index=False)
        config_path.write_text(result.calibrated_config, encoding="utf-8")
        result.config_path = config_path
        result.files += [config_path, post_path]
    result.wall_seconds = time.perf_counter() - t0
    result.method, result.base_config_path = method, Path(base_config_path)
    result.meta = {"method": method, "date": when.isoformat(), "data_end": fit_month, "settings": asdict(settings),
                   "keys": list(keys), "fitted": fitted, "wall_seconds": round(result.wall_seconds, 1),
                   "config": config_to_dict(cfg), "generations": int(len(gens)), "simulations": simulations, **extra}
    if out_dir is not None:
        write_files(result, out_dir, then)
    return result


# --------------------------------------------------------------------------- the joint fit: importance sampling


def effective_sample_size(log_w: np.ndarray) -> float:
    """Kish's ESS of log-weights: (sum w)^2 / sum w^2 (0 when every weight is 0)."""
    lw = np.asarray(log_w, float)
    if not np.isfinite(lw.max(initial=-np.inf)):
        return 0.0
    w = np.exp(lw - lw.max())
    return float(w.sum() ** 2 / np.sum(w ** 2))


def tempered(log_like: np.ndarray, log_q: np.ndarray, ess: float) -> np.ndarray:
    """Log-weights beta log L - log q with the largest beta in (0, 1] whose ESS reaches ``ess``
    (beta = 1 when the untempered weights already do; bisection on beta otherwise)."""
    if effective_sample_size(log_like - log_q) >= ess:
        return log_like - log_q
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if effective_sample_size(mid * log_like - log_q) >= ess else (lo, mid)
    return lo * log_like - log_q


def gaussian_proposal(z: np.ndarray, log_w: np.ndarray, inflation: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of a stage's Gaussian in the unit cube: the weighted mean and the weighted
    covariance times ``inflation``, plus 1e-4 on the diagonal (never singular)."""
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    mu = w @ z
    cov = (z - mu).T @ ((z - mu) * w[:, None]) * inflation + 1e-4 * np.eye(z.shape[1])
    return mu, cov


def truncated_gaussian(mu: np.ndarray, cov: np.ndarray, n: int, rng: np.random.Generator
                       ) -> tuple[np.ndarray, float]:
    """n points of N(mu, cov) inside [0, 1]^d (rejection), and the mass Z of the unit cube under it
    (estimated from 100,000 draws of ``rng``), so the truncated density is N(z; mu, cov) / Z."""
    inside = lambda x: np.all((x >= 0) & (x <= 1), axis=1)  # noqa: E731
    mass = float(inside(rng.multivariate_normal(mu, cov, 100_000)).mean())
    out = np.empty((0, len(mu)))
    while len(out) < n:
        x = rng.multivariate_normal(mu, cov, max(4 * n, int(2 * n / max(mass, 1e-3))))
        out = np.vstack([out, x[inside(x)]])
    return out[:n], max(mass, 1e-12)


def log_mixture_density(z: np.ndarray, stages: list[dict], total: int, adapt: np.ndarray | None = None) -> np.ndarray:
    """log q(z) of the deterministic mixture of the stages' proposals, each weighted by its share of
    the points: q = sum_s (N_s / N) q_s, q_0 = 1 (uniform on the cube), q_s a truncated Gaussian in the
    adapted coordinates (``adapt``, a boolean mask; all by default) times 1 (uniform) in the others."""
    a = np.ones(z.shape[1], bool) if adapt is None else adapt
    parts = []
    for st in stages:
        share = np.log(st["n"] / total)
        if st["mu"] is None:
            parts.append(np.full(len(z), share))
        else:
            parts.append(share + multivariate_normal(st["mu"], st["cov"]).logpdf(z[:, a]) - np.log(st["mass"]))
    return np.logaddexp.reduce(np.vstack(parts), axis=0)


def fit_importance(keys: Sequence[str], log_likelihood: Callable[[list[dict[str, float]]], list[dict]],
                   settings: CalibrationSettings, seed: int, t0: float | None = None,
                   adapt: Sequence[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Adaptive importance sampling of the posterior of ``keys`` under uniform priors (their prior ranges).

    Stage 0 is a scrambled Sobol design over the prior box; each later stage draws from a Gaussian
    (truncated to the box) fitted to the weights so far, tempered to ESS ``proposal_ess`` and widened by
    ``proposal_inflation``. Every particle's weight uses the deterministic mixture of all stages
    (Veach-Guibas / AMIS):

        w_i = L_i pi(theta_i) / sum_s (N_s / N) q_s(theta_i)

    with L_i the simulated likelihood (``log_likelihood(thetas)`` -> dicts with ``loglik``), an unbiased
    estimate inside the log, so the weighted particles target the posterior. Only the keys in ``adapt``
    (default: all) get an adaptive Gaussian; the others are drawn from their uniform prior in every stage
    (a key the data barely inform keeps its prior spread instead of a Gaussian fitted to a few particles). No stage starts after
    ``max_walltime_s``. Returns (posterior: keys, weight (sums to 1), loglik and its parts, stage; stages:
    stage, particles, ess, seconds).
    """
    t0 = time.perf_counter() if t0 is None else t0
    ranges = np.array([prior_range(k) for k in keys])
    lo, width = ranges[:, 0], ranges[:, 1] - ranges[:, 0]
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(CALIBRATION_STREAM, 3)))

    mask = np.array([adapt is None or k in adapt for k in keys])
    stages: list[dict] = []
    z_all = np.empty((0, len(keys)))
    rows: list[dict] = []
    table: list[dict] = []
    for s, n in enumerate(settings.stage_sizes):
        if s and time.perf_counter() - t0 > settings.max_walltime_s:
            break
        if s == 0:
            z = qmc.Sobol(len(keys), scramble=True, seed=rng).random(n)
            stages.append({"n": n, "mu": None, "cov": None, "mass": 1.0})
        else:
            ll = np.array([r["loglik"] for r in rows])
            logw = tempered(ll, log_mixture_density(z_all, stages, len(z_all), mask), settings.proposal_ess)
            mu, cov = gaussian_proposal(z_all[:, mask], logw, settings.proposal_inflation)
            za, mass = truncated_gaussian(mu, cov, n, rng)
            z = rng.random((n, len(keys)))
            z[:, mask] = za
            stages.append({"n": n, "mu": mu, "cov": cov, "mass": mass})
        thetas = [{k: float(lo[j] + width[j] * zi[j]) for j, k in enumerate(keys)} for zi in z]
        out = log_likelihood(thetas)
        rows += [{**th, **res, "stage": s} for th, res in zip(thetas, out)]
        z_all = np.vstack([z_all, z])
        ll = np.array([r["loglik"] for r in rows])
        logw = ll - log_mixture_density(z_all, stages, len(z_all), mask)
        table.append({"stage": s, "particles": len(rows), "ess": round(effective_sample_size(logw), 2),
                      "max_loglik": float(ll.max()), "seconds": round(time.perf_counter() - t0, 1)})
    post = pd.DataFrame(rows)
    ll = post["loglik"].to_numpy(float)
    logw = ll - log_mixture_density(z_all, stages, len(z_all), mask)
    w = np.exp(logw - logw.max()) if np.isfinite(logw.max()) else np.zeros(len(logw))
    if w.sum() <= 0:
        raise ValueError("calibration: every particle has likelihood 0; the record cannot be reproduced")
    post["weight"] = w / w.sum()
    return post[[*keys, "weight", *[c for c in post.columns if c not in (*keys, "weight")]]], pd.DataFrame(table)


def _joint_job(job: tuple[Config, dict[str, float], int, float]) -> dict:
    """One particle of the joint fit: R paths to the history's end (replicates 0..R-1, common to every
    particle), the decision record's and the GP record's log-likelihood (:func:`joint_log_likelihood`)."""
    cfg, theta, replicates, soft_max = job
    with blas_single_thread():
        c = with_overrides(cfg, theta)
        models = [simulate(c, r, _builds())[0] for r in range(replicates)]
    end = c.t_of(HISTORY_END)
    logs = []
    for m in models:
        lg = m.decision_log()
        keep = lg["points_t"] <= end
        logs.append({k: v[keep] for k, v in lg.items()})
    evidence = history_evidence(c, models[0].region, logs[0]["points_t"])
    gp_end = np.array([m.monthly()["n_gp_offices_live"].to_numpy()[end] for m in models], dtype=float)
    return joint_log_likelihood(path_terms(logs, gp_end, evidence, soft_max))


def joint_log_likelihoods(cfg: Config, settings: CalibrationSettings) -> Callable[[list[dict[str, float]]], list[dict]]:
    """``thetas -> [{loglik, loglik_decisions, loglik_gp}]`` on the calibration's executor (in order, so any
    number of workers gives the same numbers); the model runs to the history's end."""
    c = with_horizon(cfg, HISTORY_END)
    _builds().get(c)  # build once in the parent; forked workers inherit it

    def run(thetas: list[dict[str, float]]) -> list[dict]:
        jobs = [(c, th, settings.likelihood_replicates, settings.gp_offices_soft_max) for th in thetas]
        with _executor(settings) as ex:
            return ex.map(_joint_job, jobs)

    return run
