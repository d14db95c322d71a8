"""Calibration: fit the uncertain adoption parameters to the observed 2020-2023 rollout by ABC-SMC.

Method (docs/calibration.md says why): approximate Bayesian computation with sequential Monte
Carlo (pyabc's ``ABCSMC``). Priors are uniform over each key's prior range
(:func:`sim.config.prior_range`, kept apart from the posterior); a particle is a parameter vector; its simulation is the model
run to the last observed month (never past 2023-12 for the real history) for
``seeds_per_particle`` replicate seeds; its distance to the observed series is
:func:`series_distance`. The accepted population of the last generation, with its importance
weights, is the posterior.

Outputs (:func:`calibrate`, under ``out_dir``): ``fitted_parameters.csv`` (prior range, posterior
median, 5/25/75/95% quantiles), ``posterior.csv`` (weighted draws), ``generations.csv``,
``observed.csv`` and ``observed_decisions.csv`` (what was fitted), ``bands.csv`` and ``coverage.csv``
(posterior predictive 50% and 90% bands against the observed points), ``forecast.csv`` (2024 to
the report year), ``calibrated.toml`` and ``calibration.json`` (settings, wall time); :func:`sim.api.calibrate`
adds ``figures/`` (:mod:`sim.plots.calibration`).
``configs/calibrated.toml`` is the same file written beside the baseline.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd

from sim import interrupt
from sim.config import Config, ConfigError, config_to_dict, get_dotted, month_index, with_horizon, with_overrides
from sim.config import prior_range as config_prior_range
from sim.history import DECIDED, FORECAST_COLUMNS, HISTORY_END, observed_series, option_decision_points
from sim.parallel import Executor, SerialExecutor, blas_single_thread, make_executor, pool_for
from sim.region import load_region

ROOT = Path(__file__).resolve().parents[1]
BASELINE_PATH = ROOT / "configs" / "baseline.toml"

FIT_PARAMETERS: tuple[str, ...] = (
    "municipality.threshold_mean",
    "municipality.threshold_sd",
    "gp.bass_p_per_year",
    "gp.bass_q_per_year",
    "gp.beta_u_per_knok",
    "functionality.golive_shock",
)
"""The uncertain adoption parameters fitted by default (dotted config keys). For the GP office's choice
(sim.gp_choice): its spontaneous and peer choice rates p and q and its logit's utility weight beta_u;
the contract window's rate (gp.window_choice_rate_per_year) keeps its assumed value."""

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
METHOD = "ABC-SMC (pyabc {version})"
CALIBRATION_STREAM = 11  # spawn key of the calibration's own random stream (issue #11)

Simulator = Callable[[Config, int], pd.DataFrame]
"""(config, replicate) -> the model's monthly table (columns t, month and the series)."""


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class CalibrationSettings:
    """Size of the fit and the distance's weights (see docs/calibration.md for the choices)."""

    population_size: int = 200          # accepted particles per generation
    max_generations: int = 6            # ABC-SMC generations (populations)
    min_epsilon: float = 0.0            # stop early when the tolerance falls below this
    min_acceptance_rate: float = 0.05   # a generation needing more than population/rate evaluations ends the fit
    max_walltime_s: float = 540.0       # start no generation after this many seconds of fitting
    seeds_per_particle: int = 2         # replicate seeds simulated per particle (distance = RMS over them)
    n_procs: int = 2                    # workers (1: this process, pyabc's SingleCoreSampler)
    executor: str = "local"             # where particles run (sim.parallel.EXECUTORS); local: a process pool
    scheduler: str | None = None        # a Dask scheduler address (implies executor dask)
    predictive_draws: int = 100         # posterior draws for the bands and the forecast
    predictive_seeds: int = 2           # replicate seeds per posterior draw
    weight_municipalities: float = 1.0  # weight of the count term (count / number of municipalities)
    weight_share: float = 1.0           # weight of the share-of-residents term
    weight_gp: float = 0.25             # weight of the GP-office term
    weight_decisions: float = 1.0       # weight of the option-decision points (count / number of municipalities)
    gp_offices_soft_max: float = 5.0    # offices above this are penalised softly (lower-bound history only)

    def __post_init__(self) -> None:
        for name in ("population_size", "max_generations", "seeds_per_particle", "n_procs", "predictive_draws",
                     "predictive_seeds"):
            if getattr(self, name) < 1:
                raise ConfigError(f"calibration: {name} must be >= 1, got {getattr(self, name)}")
        if self.gp_offices_soft_max <= 0:
            raise ConfigError(f"calibration: gp_offices_soft_max must be > 0, got {self.gp_offices_soft_max}")


DEFAULT = CalibrationSettings()
QUICK = CalibrationSettings(population_size=16, max_generations=2, max_walltime_s=60.0, seeds_per_particle=1,
                            n_procs=1, predictive_draws=8, predictive_seeds=1)
"""A quick fit for tests: a few seconds to a minute on a small region."""

QUICK_REGION = ["region.kind=synthetic", "region.synthetic_municipalities=8", "region.synthetic_population=20000"]
"""The small region ``quick=True`` switches to, so a quick fit stays fast."""


# --------------------------------------------------------------------------- results


@dataclass
class CalibrationResult:
    """What a calibration produced; tables with exactly the columns of the files."""

    parameters: pd.DataFrame        # fitted_parameters.csv
    posterior: pd.DataFrame         # posterior.csv: one row per particle, parameter columns + weight
    generations: pd.DataFrame       # generations.csv: t, epsilon, samples, particles
    observed: pd.DataFrame          # the observed monthly series that was fitted
    decision_points: pd.DataFrame   # the option-decision points that were fitted (month, t, count, lower_bound)
    bands: pd.DataFrame             # bands.csv: month, t, series, observed, p05..p95
    coverage: pd.DataFrame          # coverage.csv: observed points against the 90% band
    forecast: pd.DataFrame          # forecast.csv
    calibrated_config: str          # text of calibrated.toml
    wall_seconds: float
    settings: CalibrationSettings
    out_dir: Path | None = None
    config_path: Path | None = None
    files: list[Path] = field(default_factory=list)
    method: str = ""                # "ABC-SMC (pyabc <version>)"
    base_config_path: Path = BASELINE_PATH  # what calibrated.toml extends
    meta: dict = field(default_factory=dict)  # calibration.json: settings, keys, wall time, config

    def medians(self) -> dict[str, float]:
        """Posterior median per dotted key."""
        return dict(zip(self.parameters["parameter"], self.parameters["posterior_median"]))


# --------------------------------------------------------------------------- simulation


_BUILDS: dict = {}
"""This process's ``sim.builds.BuildCache`` for :func:`simulate_monthly` (a worker's own; read only here).
The model stack loads when a simulation runs, not when this module is imported: the calibration
figures (sim.plots.calibration) read its column names with the model blocked."""


def _builds():
    from sim.builds import BuildCache  # the model: see _BUILDS

    return _BUILDS.setdefault("builds", BuildCache())


def simulate_monthly(cfg: Config, replicate: int) -> pd.DataFrame:
    """The model's monthly table for one replicate (runner.simulate; region and network kept in
    this process's build cache, which forked workers inherit)."""
    from sim.runner import simulate  # the model: see _BUILDS

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


@dataclass(frozen=True)
class _Target:
    """The observed series as arrays, with the scales of the distance."""

    n_municipalities_live: np.ndarray
    share_residents_municipalities_live: np.ndarray
    gp: np.ndarray
    gp_is_lower_bound: bool
    n_municipalities: int
    gp_scale: float
    decision_t: np.ndarray          # month index of each option-decision point (empty: no decision term)
    decision_count: np.ndarray
    decision_lower: np.ndarray      # True where the count is a lower bound ("more than half")


def decision_points_in_window(decisions: pd.DataFrame | None, start_month: str, n_months: int) -> pd.DataFrame:
    """The option-decision points (columns month, count, lower_bound) inside the window, with their t."""
    cols = ["month", "t", "count", "lower_bound"]
    if decisions is None or len(decisions) == 0:
        return pd.DataFrame(columns=cols)
    t = [month_index(f"{pd.Timestamp(m):%Y-%m}", start_month) for m in decisions["month"]]
    out = decisions.assign(t=t)[cols[:1] + ["t", "count", "lower_bound"]]
    return out[(out["t"] >= 0) & (out["t"] < n_months)].reset_index(drop=True)


def make_target(observed: pd.DataFrame, n_municipalities: int, decisions: pd.DataFrame | None = None) -> _Target:
    """Observed table -> arrays. GP offices: ``n_gp_offices_live`` (exact) or ``n_gp_offices_live_lower``.

    ``decisions``: option-decision points already in the window (:func:`decision_points_in_window`), or None.
    """
    lower = "n_gp_offices_live_lower" in observed.columns
    col = "n_gp_offices_live_lower" if lower else "n_gp_offices_live"
    if col not in observed.columns:
        raise ValueError("observed needs n_gp_offices_live or n_gp_offices_live_lower")
    gp = observed[col].to_numpy(float)
    d = decisions if decisions is not None else pd.DataFrame({"t": [], "count": [], "lower_bound": []})
    return _Target(
        n_municipalities_live=observed["n_municipalities_live"].to_numpy(float),
        share_residents_municipalities_live=observed["share_residents_municipalities_live"].to_numpy(float),
        gp=gp, gp_is_lower_bound=lower, n_municipalities=int(n_municipalities),
        gp_scale=max(1.0, float(gp.max())),
        decision_t=d["t"].to_numpy(np.int64), decision_count=d["count"].to_numpy(float),
        decision_lower=d["lower_bound"].to_numpy(bool),
    )


def gp_penalty(sim: np.ndarray, target: _Target, soft_max: float) -> np.ndarray:
    """Per-month GP-office error.

    Exact observation: (g_sim - g_obs) / max(1, max g_obs).
    Lower bound L (the real history): (L - g_sim)^+ + (g_sim - c)^+ / c, with c = ``soft_max``:
    a shortfall below the bound costs one per missing office; "many" offices cost softly,
    linearly in multiples of c above c.
    """
    if not target.gp_is_lower_bound:
        return (sim - target.gp) / target.gp_scale
    return np.maximum(0.0, target.gp - sim) + np.maximum(0.0, sim - soft_max) / soft_max


def decision_error(decided: np.ndarray, target: _Target) -> np.ndarray:
    """Per decision point k: (D(t_k) - D_k) / N, or (D_k - D(t_k))^+ / N where D_k is a lower bound."""
    d = np.atleast_2d(decided)[:, target.decision_t].astype(float)
    diff = (d - target.decision_count) / target.n_municipalities
    return np.where(target.decision_lower, np.maximum(0.0, -diff), diff)


def series_distance(sim: dict[str, np.ndarray], target: _Target, settings: CalibrationSettings) -> float:
    """Scaled root-mean-square distance between simulated and observed series.

    d = sqrt( w_m mean_{k,t} ((m_kt - m_t) / N)^2 + w_s mean_{k,t} (s_kt - s_t)^2 + w_g mean_{k,t} g_kt^2
              + w_d mean_{k,j} e_kj^2 ),
    m the municipalities live (N the region's municipalities), s the share of residents in live
    municipalities, g the GP-office error of :func:`gp_penalty`, e the option-decision error of
    :func:`decision_error` at the dated points j (no term without points); k over replicate seeds,
    t over months.
    """
    m = (np.atleast_2d(sim["n_municipalities_live"]) - target.n_municipalities_live) / target.n_municipalities
    s = np.atleast_2d(sim["share_residents_municipalities_live"]) - target.share_residents_municipalities_live
    g = gp_penalty(np.atleast_2d(sim["n_gp_offices_live"]).astype(float), target, settings.gp_offices_soft_max)
    d2 = settings.weight_municipalities * np.mean(m ** 2) + settings.weight_share * np.mean(s ** 2) \
        + settings.weight_gp * np.mean(g ** 2)
    if len(target.decision_t):
        d2 += settings.weight_decisions * np.mean(decision_error(sim["n_municipalities_decided"], target) ** 2)
    return float(np.sqrt(d2))


SERIES = ("n_municipalities_live", "share_residents_municipalities_live", "n_gp_offices_live")
def _simulate_series(cfg_fit: Config, theta: dict[str, float], k: int, simulator: Simulator) -> dict[str, np.ndarray]:
    c = with_overrides(cfg_fit, theta)
    runs = [simulator(c, r).sort_values("t") for r in particle_replicates(theta, k)]
    n = cfg_fit.n_months
    cols = [*SERIES, DECIDED] if DECIDED in runs[0].columns else SERIES
    return {s: np.stack([r[s].to_numpy(float)[:n] for r in runs]) for s in cols}


# --------------------------------------------------------------------------- the decision likelihood


def decision_likelihood(cfg: Config, evidence=None, replicates: int = 8, simulator=None) -> float:
    """Simulated log-likelihood of the municipal decision rule (:func:`sim.municipal_decision.decision_log_likelihood`).

    Runs ``replicates`` paths (replicate seeds 0..R-1, so two parameter vectors share their draws)
    to the last decision point the evidence needs, with the history replayed as the config says
    (``rollout.replay_history``: the named decisions condition the peers and the calendar; the
    likelihood still scores the rule's own probability of each of them). ``evidence`` defaults to
    the history's (:func:`sim.municipal_decision.history_evidence`: named decisions and dated counts
    to 2023; municipalities the record does not name are unknown). ``simulator``: (cfg, r) -> model.
    """
    from sim.municipal_decision import decision_log_likelihood, history_evidence
    from sim.runner import simulate

    run = simulator or (lambda c, r: simulate(c, r)[0])
    models = [run(cfg, r) for r in range(int(replicates))]
    logs = [m.decision_log() for m in models]
    pts = logs[0]["points_t"]
    if evidence is None:
        end = cfg.t_of(HISTORY_END)
        logs = [{k: (v[pts <= end] if k != "points_t" else v[v <= end]) for k, v in lg.items()} for lg in logs]
        pts = logs[0]["points_t"]
        evidence = history_evidence(cfg, models[0].region, pts)
    K = evidence.allowed.shape[0] - 1
    return decision_log_likelihood(np.stack([lg["p_option"][:K] for lg in logs]),
                                   np.stack([lg["p_binding"][:K] for lg in logs]), logs[0]["binding_open"][:K],
                                   evidence)


# --------------------------------------------------------------------------- weighted statistics


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | Sequence[float]) -> np.ndarray:
    """Quantiles of a weighted sample: the inverse of the midpoint-interpolated weighted CDF.

    With sorted x_i and normalised weights w_i, F(x_i) = sum_{j<i} w_j + w_i / 2; Q(q) interpolates
    linearly between these points (equal weights give numpy's 'hazen' quantiles).
    """
    x = np.asarray(values, float)
    w = np.asarray(weights, float)
    if x.shape != w.shape or x.size == 0 or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weighted_quantile: values and non-negative weights of equal, non-zero length required")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order] / w.sum()
    cdf = np.cumsum(w) - w / 2
    return np.interp(np.asarray(q, float), cdf, x)


def parameter_table(posterior: pd.DataFrame, cfg: Config, keys: Sequence[str]) -> pd.DataFrame:
    """fitted_parameters.csv: per key its prior range, baseline value and posterior quantiles."""
    rows = []
    w = posterior["weight"].to_numpy(float)
    for key in keys:
        lo, hi = prior_range(key)
        q = weighted_quantile(posterior[key].to_numpy(float), w, QUANTILES)
        rows.append({"parameter": key, "prior_low": lo, "prior_high": hi, "prior_median": (lo + hi) / 2,
                     "baseline_value": get_dotted(cfg, key), "posterior_median": q[2], "p05": q[0], "p25": q[1],
                     "p75": q[3], "p95": q[4],
                     "posterior_mean": float(np.average(posterior[key], weights=w)),
                     # 90% interval width relative to the prior's (0.9 (hi - lo)): 1 = the data said nothing
                     "width_ratio_90": float((q[4] - q[0]) / (0.9 * (hi - lo)))})
    return pd.DataFrame(rows)


def prior_range(key: str) -> tuple[float, float]:
    """The uniform prior of a key: its prior range in sim/config.py (:func:`sim.config.prior_range`:
    the declared prior of an uncertain input, else its data row's low/high)."""
    r = config_prior_range(key)
    if r is None:
        raise ConfigError(f"calibration: {key} is not an uncertain input with a prior range in sim/config.py")
    return float(r[0]), float(r[1])


# --------------------------------------------------------------------------- fitting


def fit_abc(cfg: Config, observed: pd.DataFrame, keys: Sequence[str] = FIT_PARAMETERS,
            settings: CalibrationSettings = DEFAULT, simulator: Simulator | None = None,
            db_dir: str | Path | None = None, n_municipalities: int | None = None,
            decisions: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run ABC-SMC for ``keys`` against ``observed`` (and option-decision points, if given).

    The fit runs the model from ``run.start_month`` to the last observed month only. Returns
    (posterior, generations); the posterior has one row per particle of the last generation:
    the dotted keys and ``weight`` (sums to 1).
    """
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
    with _executor(settings) as ex, tempfile.TemporaryDirectory(dir=db_dir) as tmp:
        sampler = (pyabc.sampler.SingleCoreSampler() if isinstance(ex, SerialExecutor)
                   else executor_sampler(ex, cfg.run.seed))
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


def draw_posterior(posterior: pd.DataFrame, n_draws: int, seed: int) -> pd.DataFrame:
    """n parameter vectors resampled from the weighted posterior (multinomial, seeded)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(CALIBRATION_STREAM, 1)))
    idx = rng.choice(len(posterior), size=n_draws, replace=True, p=posterior["weight"].to_numpy(float))
    return posterior.drop(columns="weight").iloc[idx].reset_index(drop=True)


def predictive_runs(cfg: Config, draws: pd.DataFrame | None, n_draws: int, seeds_per_draw: int, end_month: str,
                    simulator: Simulator | None = None, n_procs: int = 1,
                    columns: Sequence[str] = (*SERIES, DECIDED, "one_record_coverage", "gain_realized")) -> pd.DataFrame:
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


def bands_table(runs: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Per month and series, quantiles 5/25/50/75/95% over all trajectories (draws x seeds)."""
    long = runs.melt(id_vars=["t", "month"], value_vars=list(columns), var_name="series", value_name="value")
    g = long.groupby(["series", "t", "month"])["value"]
    out = g.quantile(list(QUANTILES)).unstack()
    out.columns = [f"p{round(q * 100):02d}" for q in QUANTILES]
    return out.reset_index().sort_values(["series", "t"], kind="stable").reset_index(drop=True)


def coverage_table(bands: pd.DataFrame, observed: pd.DataFrame, decisions: pd.DataFrame | None = None,
                   replayed_until_t: int | None = None) -> pd.DataFrame:
    """Observed points against the 90% band (p05..p95).

    ``by_replay`` marks the points that hold by the replayed history, not by fit: the municipal
    live series and the option counts to ``replayed_until_t`` (the history's end when
    ``rollout.replay_history`` names the real region's municipalities; None: none). Report them
    apart from the points the model could miss.

    Counts and shares: covered if p05 <= observed <= p95. GP offices (a lower bound L):
    covered if p95 >= L, i.e. the band reaches the bound (any value above it is consistent).
    Monthly series are checked from the first go-live on; option-decision points (``decisions``
    with t, count, lower_bound) at their months, a lower bound covered if p95 >= it.
    """
    rows = []
    if decisions is not None and len(decisions) and DECIDED in set(bands["series"]):
        b = bands[bands["series"] == DECIDED].set_index("t")
        for _, r in decisions.iterrows():
            lo, hi, lower = b.at[r["t"], "p05"], b.at[r["t"], "p95"], bool(r["lower_bound"])
            value = float(r["count"])
            rows.append({"month": r["month"], "t": int(r["t"]), "series": DECIDED, "observed": value,
                         "observed_is_lower_bound": lower, "p05": lo, "p50": b.at[r["t"], "p50"], "p95": hi,
                         "covered_90": bool(hi >= value - 1e-9) if lower else bool(lo - 1e-9 <= value <= hi + 1e-9)})
    first = observed.loc[observed["n_municipalities_live"] > 0, "t"].min()
    obs = observed[observed["t"] >= first]
    gp_col = "n_gp_offices_live_lower" if "n_gp_offices_live_lower" in obs else "n_gp_offices_live"
    pairs = [("n_municipalities_live", "n_municipalities_live"),
             ("share_residents_municipalities_live", "share_residents_municipalities_live"),
             ("n_gp_offices_live", gp_col)]
    for series, ocol in pairs:
        b = bands[bands["series"] == series].set_index("t")
        for _, r in obs.iterrows():
            lo, hi = b.at[r["t"], "p05"], b.at[r["t"], "p95"]
            value = float(r[ocol])
            lower = ocol.endswith("_lower")
            covered = bool(hi >= value - 1e-9) if lower else bool(lo - 1e-9 <= value <= hi + 1e-9)
            rows.append({"month": r["month"], "t": int(r["t"]), "series": series, "observed": value,
                         "observed_is_lower_bound": lower, "p05": lo, "p50": b.at[r["t"], "p50"], "p95": hi,
                         "covered_90": covered})
    out = pd.DataFrame(rows)
    if out.empty:
        return out.assign(by_replay=pd.Series(dtype=bool))
    replayed = out["series"].isin(["n_municipalities_live", "share_residents_municipalities_live", DECIDED])
    out["by_replay"] = replayed & (out["t"] <= replayed_until_t) if replayed_until_t is not None else False
    return out


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


# --------------------------------------------------------------------------- the calibrated config


def calibrated_toml(table: pd.DataFrame, extends: str, method: str, when: date | None = None,
                    scenario: str = "calibrated") -> str:
    """Text of calibrated.toml: ``extends`` the baseline and sets each posterior median.

    Each key's comment reads "calibrated: median of posterior, 90% interval [a, b], <date>, <method>",
    which ``onerecord params`` shows as its source.
    """
    when = when or date.today()
    lines = [
        "# Generated by sim.calibrate.calibrate() (onerecord calibrate); do not edit by hand, re-run it.",
        "# Posterior medians of the adoption parameters fitted to the 2020-2023 history",
        "# (sim/data/helseplattformen_history.csv); see docs/calibration.md.",
        f'extends = "{extends}"',
        f'scenario = "{scenario}"',
        f'description = "Baseline with adoption parameters calibrated to the 2020-2023 rollout ({method})"',
    ]
    by_section: dict[str, list[str]] = {}
    for _, r in table.iterrows():
        section, key = r["parameter"].split(".", 1)
        by_section.setdefault(section, []).append(
            f"{key} = {float(r['posterior_median']):.6g}   # calibrated: median of posterior, 90% interval "
            f"[{float(r['p05']):.4g}, {float(r['p95']):.4g}], {when.isoformat()}, {method}")
    for section, items in by_section.items():
        lines += ["", f"[{section}]", *items]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the whole calibration


def calibrate(cfg: Config, quick: bool = False, out_dir: str | Path | None = "results/calibration",
              seeds: int | None = None, *, config_path: str | Path | None = None,
              base_config_path: str | Path = BASELINE_PATH, keys: Sequence[str] = FIT_PARAMETERS,
              observed: pd.DataFrame | None = None, decisions: pd.DataFrame | None = None,
              settings: CalibrationSettings | None = None, simulator: Simulator | None = None,
              then: Callable[[Path, CalibrationResult], None] | None = None) -> CalibrationResult:
    """Fit ``keys`` to the observed 2020-2023 series by ABC-SMC, then check and forecast.

    ``quick``: the QUICK settings (a small ABC population; the region stays the config's, since
    the real history needs the real region). ``seeds``: replicate seeds per particle (default
    from the settings). ``observed`` defaults to :func:`sim.history.observed_series` from
    ``run.start_month`` to 2023-12, and then ``decisions`` to the history's option-decision points
    (:func:`sim.history.option_decision_points`); with ``observed`` given, ``decisions`` defaults to
    none. Nothing after 2023-12 of the history is fitted. The fit runs with
    ``rollout.replay_history = false`` (the rules from the start; a replayed history would hold
    the series by construction); the predictive bands and the forecast use ``cfg`` as given, and
    ``coverage.csv`` marks the points that then hold by the replay (``by_replay``). Writes the files listed in the module
    docstring to ``out_dir`` (nothing if None), and calibrated.toml to ``config_path`` too when
    given (its ``extends`` points at ``base_config_path`` relative to it); ``then(out_dir, result)`` runs after
    the tables are written (the API draws the figures there).
    """
    import pyabc

    t0 = time.perf_counter()
    settings = settings or (QUICK if quick else DEFAULT)
    if seeds is not None:
        settings = replace(settings, seeds_per_particle=int(seeds))
    for k in keys:
        prior_range(k)
    if observed is None:
        observed = observed_series(cfg, cfg.run.start_month, HISTORY_END)
        decisions = option_decision_points() if decisions is None else decisions
    elif "n_gp_offices_live_lower" in observed and pd.Timestamp(observed["month"].max()) > pd.Timestamp(f"{HISTORY_END}-01"):
        raise ValueError(f"observed history after {HISTORY_END} may not be fitted")
    # the fit runs the rules from the start: a replayed history (rollout.replay_history) would hold the
    # fitted series by construction; the predictive runs and the forecast replay it as configured
    cfg_fit = with_overrides(cfg, {"rollout.replay_history": False})
    posterior, gens = fit_abc(cfg_fit, observed, keys, settings, simulator, db_dir=None, decisions=decisions)
    points = decision_points_in_window(decisions, cfg.run.start_month, len(observed))
    table = parameter_table(posterior, cfg, keys)
    method = METHOD.format(version=pyabc.__version__)

    medians = {k: float(v) for k, v in zip(table["parameter"], table["posterior_median"])}
    draws = draw_posterior(posterior, settings.predictive_draws, cfg.run.seed)
    end = f"{max(cfg.run.report_year, int(HISTORY_END[:4]))}-12"
    runs = predictive_runs(cfg, draws, settings.predictive_draws, settings.predictive_seeds, end, simulator,
                           settings.n_procs)
    fit_end = pd.Timestamp(observed["month"].max())
    bands = bands_table(runs[runs["month"] <= fit_end], [c for c in (*SERIES, DECIDED) if c in runs.columns])
    replayed = cfg.t_of(cfg.rollout.history_end_month) if (cfg.rollout.replay_history and cfg.region.kind == "real") else None
    coverage = coverage_table(bands, observed, points, replayed)
    cal_cfg = with_overrides(cfg, medians)
    fc = forecast(cal_cfg, runs=runs) if fit_end < pd.Timestamp(f"{end}-01") else bands.iloc[:0]

    result = CalibrationResult(parameters=table, posterior=posterior, generations=gens, observed=observed,
                               decision_points=points,
                               bands=bands, coverage=coverage, forecast=fc, calibrated_config="",
                               wall_seconds=0.0, settings=settings)
    if config_path is not None:
        config_path = Path(config_path)
        rel = os.path.relpath(Path(base_config_path).resolve(), config_path.resolve().parent)
        result.calibrated_config = calibrated_toml(table, rel, method)
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(result.calibrated_config, encoding="utf-8")
        result.config_path = config_path
        result.files.append(config_path)
    result.wall_seconds = time.perf_counter() - t0
    result.method, result.base_config_path = method, Path(base_config_path)
    result.meta = {"method": method, "settings": asdict(settings), "keys": list(keys),
                   "wall_seconds": round(result.wall_seconds, 1), "config": config_to_dict(cfg),
                   "generations": int(len(gens)), "simulations": int(gens["samples"].sum())}
    if out_dir is not None:
        write_files(result, out_dir, then)
    return result


def write_files(result: CalibrationResult, out_dir: str | Path,
                then: Callable[[Path, CalibrationResult], None] | None = None) -> Path:
    """The calibration's files (module docstring) into ``out_dir``; ``then(out_dir, result)`` after the tables."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rel = os.path.relpath(result.base_config_path.resolve(), out.resolve())
    text = calibrated_toml(result.parameters, rel, result.method)
    result.calibrated_config = result.calibrated_config or text
    files = {"fitted_parameters.csv": result.parameters, "posterior.csv": result.posterior,
             "generations.csv": result.generations, "observed.csv": result.observed,
             "observed_decisions.csv": result.decision_points, "bands.csv": result.bands,
             "coverage.csv": result.coverage, "forecast.csv": result.forecast}
    for name, df in files.items():
        df.to_csv(out / name, index=False)
        result.files.append(out / name)
    (out / "calibrated.toml").write_text(text, encoding="utf-8")
    result.files.append(out / "calibrated.toml")
    result.out_dir = out
    if then is not None:  # the API draws the figures (sim.plots) here
        then(out, result)
    (out / "calibration.json").write_text(json.dumps(result.meta, indent=2, default=str), encoding="utf-8")
    return out
