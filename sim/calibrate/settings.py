"""Calibration settings: the keys fitted, the fit's size and the likelihood's and distance's weights."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.config import Config, ConfigError
from sim.config import prior_range as config_prior_range

ROOT = Path(__file__).resolve().parents[2]
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

JOINT_PARAMETERS: tuple[str, ...] = (
    "municipality.threshold_mean",
    "municipality.threshold_sd",
    "municipality.decision_noise",
    "municipality.binding_threshold_offset",
    "municipality.decline_margin",
    "municipality.postpone_margin",
    "gp.bass_p_per_year",
    "gp.bass_q_per_year",
    "gp.beta_u_per_knok",
    "functionality.golive_shock",
)
"""The keys of the joint calibration against the real history (:func:`sim.calibrate.driver.fit_importance`):
the municipal rule's threshold, its spread and noise, the binding stage's offset, the decline margin and the
postponement margin (the decision likelihood's parameters that the record can inform; the postponement
margin by the recorded on-time go-lives and Kristiansund's postponement), the GP choice's p, q and beta_u, and the
go-live shock (both read perceived functionality). The score's weights, budget capacity and contract ends,
and the GP window rate stay on their priors (drawn from them in parameter draws)."""

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
METHOD = "ABC-SMC (pyabc {version})"
METHOD_JOINT = "importance sampling (Sobol prior design + {stages} adaptive stages), simulated likelihood"
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
    max_walltime_s: float = 1200.0      # start no generation (ABC) or stage (importance sampling) after this many seconds
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
    stage_sizes: tuple[int, ...] = (512,) + (192,) * 12  # importance sampling: Sobol prior design, then adaptive stages
    likelihood_replicates: int = 4      # simulated paths per particle of the joint likelihood (replicates 0..R-1)
    proposal_ess: float = 40.0          # an adaptive stage's Gaussian is fitted to weights tempered to this ESS
    proposal_inflation: float = 1.3     # ... with its covariance widened by this factor
    prior_proposal_prefixes: tuple[str, ...] = ("gp.",)  # keys drawn from their prior in every stage (barely informed)

    def __post_init__(self) -> None:
        for name in ("population_size", "max_generations", "seeds_per_particle", "n_procs", "predictive_draws",
                     "predictive_seeds", "likelihood_replicates"):
            if getattr(self, name) < 1:
                raise ConfigError(f"calibration: {name} must be >= 1, got {getattr(self, name)}")
        if not self.stage_sizes or min(self.stage_sizes) < 2:
            raise ConfigError(f"calibration: stage_sizes must be sizes >= 2, got {self.stage_sizes}")
        if self.gp_offices_soft_max <= 0:
            raise ConfigError(f"calibration: gp_offices_soft_max must be > 0, got {self.gp_offices_soft_max}")


DEFAULT = CalibrationSettings()
QUICK = CalibrationSettings(population_size=16, max_generations=2, max_walltime_s=60.0, seeds_per_particle=1,
                            n_procs=1, predictive_draws=8, predictive_seeds=1, stage_sizes=(16, 16),
                            likelihood_replicates=1, proposal_ess=8.0)
"""A quick fit for tests: a few seconds to a minute on a small region."""

QUICK_REGION = ["region.kind=synthetic", "region.synthetic_municipalities=8", "region.synthetic_population=60000"]
"""The small region ``quick=True`` switches to, so a quick fit stays fast."""



def prior_range(key: str) -> tuple[float, float]:
    """The uniform prior of a key: its prior range in sim/config.py (:func:`sim.config.prior_range`:
    the declared prior of an uncertain input, else its data row's low/high)."""
    r = config_prior_range(key)
    if r is None:
        raise ConfigError(f"calibration: {key} is not an uncertain input with a prior range in sim/config.py")
    return float(r[0]), float(r[1])
