"""Experiment files: a scenario, the parameters it varies, and a design over them.

An experiment TOML names a base scenario (relative to the experiment file), fixed
``--set`` overrides, the design (``grid``, ``lhs``, ``sobol``, ``morris``), the
parameters with their bounds (default: the key's declared sweep range,
:func:`sim.config.sweep_range`), the outputs to keep and the number of replicate seeds.
It is validated like a scenario: one line ``<file>: <key.path>: <problem>``.

Designs sample the unit cube through SALib and map each column through its
parameter's bounds (``uniform``: low + u (high - low); ``loguniform``:
low (high / low)^u) or, for a key the calibrated base scenario fitted (``posterior``, the default
there), through the inverse weighted CDF of its posterior marginal (:func:`sim.draws.marginal_ppf`),
so a design knows nothing of the model. Keys under ``dummy.``
are sampled but never given to the model: their sensitivity index is exactly 0.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field
from SALib.sample import latin, morris, sobol

from sim.config import (DUMMY_PREFIX, NAME_PATTERN, Config, ConfigError, StrictModel, config_identity, iter_parameters,
                        load_config, load_toml_as, parameter_role, sweep_range, with_overrides)
from sim.draws import POSTERIOR_WEIGHT, marginal_ppf, posterior_table


DUMMY_RANGE = (0.0, 1.0)
"""Bounds of a dummy key that gives none."""

SEED_RULE = "numpy.random.SeedSequence(experiment seed, spawn_key=(replicate,))"


class Parameter(StrictModel):
    """One varied key: bounds (default: its sweep range), grid levels, and the distribution on [low, high]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(..., description="Dotted config key, or dummy.<name> for a key the model never reads")
    low: float | None = Field(None, description="Lower bound (default: the key's declared sweep range)")
    high: float | None = Field(None, description="Upper bound (default: the key's declared sweep range)")
    levels: list[float] | None = Field(None, description="Values of a grid design")
    dist: Literal["uniform", "loguniform", "posterior"] | None = Field(
        None, description="Distribution on [low, high]; posterior: the calibrated base's posterior marginal of the key "
                          "(default for a key the base's [calibration] fitted and the file gives no bounds for; "
                          "uniform otherwise)")


class Experiment(StrictModel):
    """A validated experiment file; bounds resolved (every parameter has low < high)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(..., pattern=NAME_PATTERN, description="Experiment name, used in result paths (a plain name)")
    description: str = Field("", description="One line on what the experiment asks")
    base: str = Field(..., description="Scenario TOML it varies, relative to the experiment file")
    overrides: list[str] = Field(default_factory=list, description="Fixed --set overrides on the base")
    seed: int = Field(..., ge=0, description="Experiment seed: design sampling and run.seed of every run")
    replicates: int = Field(1, ge=1, le=10_000, description="Replicate seeds per design row")
    design: Literal["grid", "lhs", "sobol", "morris"]
    samples: int | None = Field(None, ge=1, description="lhs: rows; sobol: N; morris: trajectories; grid: ignored")
    second_order: bool = Field(False, description="sobol: also sample for second-order indices")
    morris_levels: int = Field(4, ge=2, description="morris: grid levels per parameter")
    outputs: list[str] = Field(..., min_length=1, description="Summary columns kept per run")
    timeseries: bool = Field(False, description="Also keep each run's region-level monthly timeseries")
    chunk_size: int = Field(10, ge=1, description="Finished runs per Parquet chunk file")
    parameters: list[Parameter] = Field(..., min_length=1)
    analysis: dict[str, Any] = Field(default_factory=dict, description="[analysis] options of sim.sensitivity "
                                     "(validated there by load_analysis; not part of the design hash)")
    source: str = Field("", description="The experiment file (set by load_experiment)")

    @property
    def keys(self) -> list[str]:
        """The varied keys, in file order (the design's columns)."""
        return [p.key for p in self.parameters]

    @property
    def base_path(self) -> Path:
        """The base scenario file, resolved against the experiment file's folder."""
        return (Path(self.source).parent / self.base).resolve()


# --------------------------------------------------------------------------- loading


def base_config(exp: Experiment) -> Config:
    """The scenario every run varies: base + overrides, with ``run.seed`` = the experiment seed."""
    return load_config(exp.base_path, [*exp.overrides, f"run.seed={exp.seed}"])


def _numeric_kind(key: str) -> type | None:
    """int or float for a numeric config key, None for any other type; ConfigError for an unknown key."""
    sweep_range(key)  # raises the one-line "unknown key (did you mean ...)" error
    ann = dict(iter_parameters())[key].annotation
    return ann if ann in (int, float) else None


def _check_value(base: Config, key: str, value: float, where: str) -> None:
    """A bound or level must be a valid value of its key in the base scenario."""
    try:
        with_overrides(base, {key: value})
    except ConfigError as err:
        raise ConfigError(f"{where}: {str(err).split(': ', 1)[-1]}") from None


def _resolve_parameter(i: int, p: Parameter, exp: Experiment, base: Config, src: str) -> Parameter:
    """Fill default bounds and check them: known numeric key, low < high, valid values."""
    at = f"{src}: parameters.{i}"
    if p.key.startswith(DUMMY_PREFIX):
        kind: type | None = float
        default = DUMMY_RANGE
    else:
        try:
            kind = _numeric_kind(p.key)
        except ConfigError as err:
            raise ConfigError(f"{at}.key: {err}") from None
        if kind is None:
            raise ConfigError(f"{at}.key: {p.key} is not a numeric parameter")
        default = sweep_range(p.key)
    post = posterior_table(base)
    fitted = post is not None and p.key in post.columns
    own_bounds = p.low is not None or p.high is not None
    dist = p.dist or ("posterior" if fitted and exp.design != "grid" and not own_bounds else "uniform")
    if dist == "posterior":
        if not fitted:
            raise ConfigError(f"{at}.dist: {p.key} has no posterior in the base scenario ([calibration] does not fit it)")
        if own_bounds:
            raise ConfigError(f"{at}.low: a posterior parameter takes its range from the posterior; give dist = \"uniform\" "
                              "to sweep a range of your own")
        x = post.loc[post[POSTERIOR_WEIGHT] > 0, p.key]
        default = (float(x.min()), float(x.max()))
    if exp.design == "grid":
        if not p.levels:
            raise ConfigError(f"{at}.levels: a grid design needs levels = [...] for every parameter")
        low, high = min(p.levels), max(p.levels)
        checks = [("levels", v) for v in p.levels]
    else:
        low = p.low if p.low is not None else (default[0] if default else None)
        high = p.high if p.high is not None else (default[1] if default else None)
        if low is None or high is None:
            raise ConfigError(f"{at}: {p.key} has no declared sweep range; give low and high")
        if not low < high:
            raise ConfigError(f"{at}.low: must be < high, got low {low!r} and high {high!r}")
        if dist == "loguniform" and low <= 0:
            raise ConfigError(f"{at}.low: a loguniform parameter needs low > 0, got {low!r}")
        checks = [("low", low), ("high", high)]
    if not p.key.startswith(DUMMY_PREFIX):
        for field, v in checks:
            if kind is int and not float(v).is_integer():
                raise ConfigError(f"{at}.{field}: {p.key} takes whole numbers, got {v!r}")
            _check_value(base, p.key, int(v) if kind is int else v, f"{at}.{field}")
    return p.model_copy(update={"low": float(low), "high": float(high), "dist": dist})


def load_experiment(path: str | Path) -> Experiment:
    """Load and validate an experiment TOML; bounds default to each key's declared sweep range.

    Raises :class:`ConfigError` with one line ``<file>: <key.path>: <problem>`` for unknown keys
    (with "did you mean"), a bad design, low >= high, an unknown or non-numeric parameter key, bounds
    outside a key's validity, bad base overrides, or a sobol ``samples`` that is not a power of 2.
    """
    p = Path(path)
    exp = load_toml_as(p, Experiment, kind="experiment")
    if exp.design != "grid" and exp.samples is None:
        raise ConfigError(f"{p}: samples: missing (design {exp.design!r} needs it)")
    if exp.design == "sobol" and exp.samples & (exp.samples - 1):
        lo = 1 << (exp.samples.bit_length() - 1)
        raise ConfigError(f"{p}: samples: sobol needs a power of 2, got {exp.samples} (try {lo} or {2 * lo})")
    dupes = sorted({k for k in exp.keys if exp.keys.count(k) > 1})
    if dupes:
        raise ConfigError(f"{p}: parameters: key {dupes[0]} appears more than once")
    if not exp.base_path.is_file():
        raise ConfigError(f"{p}: base: file not found: {exp.base_path}")
    try:
        base = base_config(exp)
    except ConfigError as err:
        raise ConfigError(f"{p}: overrides: {err}") from None
    params = [_resolve_parameter(i, q, exp, base, str(p)) for i, q in enumerate(exp.parameters)]
    return exp.model_copy(update={"parameters": params})


# --------------------------------------------------------------------------- designs


def salib_problem(exp: Experiment) -> dict[str, Any]:
    """The SALib problem: ``num_vars``, ``names`` (the keys), ``bounds`` [[low, high], ...], ``dists``
    ("unif" | "logunif") and ``outputs``, in natural units."""
    return {
        "num_vars": len(exp.parameters),
        "names": exp.keys,
        "bounds": [[p.low, p.high] for p in exp.parameters],
        "dists": ["logunif" if p.dist == "loguniform" else "unif" for p in exp.parameters],
        "outputs": list(exp.outputs),
    }


def unit_sample(exp: Experiment) -> np.ndarray:
    """The design on the unit cube, rows in SALib order, sampled with the experiment seed.

    lhs: ``SALib.sample.latin`` (N rows); sobol: ``SALib.sample.sobol`` (N (D + 2) rows, N (2D + 2)
    with second order); morris: ``SALib.sample.morris`` (N (D + 1) rows on ``morris_levels`` levels).
    """
    d = len(exp.parameters)
    unit = {"num_vars": d, "names": exp.keys, "bounds": [[0.0, 1.0]] * d}
    if exp.design == "lhs":
        return latin.sample(unit, exp.samples, seed=exp.seed)
    if exp.design == "sobol":
        return sobol.sample(unit, exp.samples, calc_second_order=exp.second_order, scramble=True, seed=exp.seed)
    if exp.design == "morris":
        return morris.sample(unit, exp.samples, num_levels=exp.morris_levels, seed=exp.seed)
    raise ValueError(f"design {exp.design!r} has no unit-cube sample")


def parameter_sources(exp: Experiment) -> pd.DataFrame:
    """Where each varied key's values come from: parameter, low, high, dist, role (uncertain, lever, fixed;
    dummy) and source: "posterior" (the calibrated base's posterior marginal) or "prior" (uniform or
    loguniform over its range: an uncertain input's prior range, a lever's sweep range, or the file's bounds)."""
    return pd.DataFrame([{"parameter": p.key, "low": p.low, "high": p.high, "dist": p.dist,
                          "role": "dummy" if p.key.startswith(DUMMY_PREFIX) else parameter_role(p.key),
                          "source": "posterior" if p.dist == "posterior" else "prior"} for p in exp.parameters])


def _scale(u: np.ndarray, p: Parameter, posterior: pd.DataFrame | None = None) -> np.ndarray:
    """uniform: low + u (high - low); loguniform: low (high / low)^u; posterior: the inverse weighted CDF
    of the key's posterior marginal (:func:`sim.draws.marginal_ppf`)."""
    if p.dist == "posterior":
        return marginal_ppf(posterior, p.key)(u)
    if p.dist == "loguniform":
        return p.low * (p.high / p.low) ** u
    return p.low + u * (p.high - p.low)


def make_design(exp: Experiment) -> pd.DataFrame:
    """The design table: ``design_row`` and one column per parameter key, rows in SALib order.

    grid: the product of the levels (last parameter fastest); otherwise the unit-cube sample mapped
    through each parameter's bounds. Integer keys are rounded to the nearest whole number.
    """
    if exp.design == "grid":
        values = np.array(list(itertools.product(*[p.levels for p in exp.parameters])), dtype=float)
    else:
        u = unit_sample(exp)
        post = posterior_table(base_config(exp)) if any(p.dist == "posterior" for p in exp.parameters) else None
        values = np.column_stack([_scale(u[:, j], p, post) for j, p in enumerate(exp.parameters)])
    design = pd.DataFrame({"design_row": np.arange(len(values), dtype=np.int64)})
    kinds = {k: (float if k.startswith(DUMMY_PREFIX) else _numeric_kind(k)) for k in exp.keys}
    for j, key in enumerate(exp.keys):
        col = values[:, j]
        design[key] = np.rint(col).astype(np.int64) if kinds[key] is int else col
    return design


def sweep_run_id(name: str, design_row: int, replicate: int, tag: str = "") -> str:
    """A sweep run's stable id: f"{name}-{design_row:06d}-{replicate:03d}" (``tag``, e.g. "tornado",
    after the name for runs that are not the design's). A run directory's id is :func:`sim.results.run_id`."""
    return f"{name}-{tag + '-' if tag else ''}{design_row:06d}-{replicate:03d}"


def expand_runs(exp: Experiment, design: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (design row, replicate), design row major: ``run_id``, ``design_row``, ``replicate``,
    then the parameters. The run's seed is ``SeedSequence(exp.seed, spawn_key=(replicate,))``."""
    design = make_design(exp) if design is None else design
    runs = design.loc[design.index.repeat(exp.replicates)].reset_index(drop=True)
    runs.insert(1, "replicate", np.tile(np.arange(exp.replicates, dtype=np.int64), len(design)))
    runs.insert(0, "run_id", [sweep_run_id(exp.name, r, k) for r, k in zip(runs["design_row"], runs["replicate"])])
    return runs


def design_hash(exp: Experiment, base: Config, runs: pd.DataFrame) -> str:
    """sha256 of what fixes the results: resolved base config, outputs, timeseries flag and every run's
    id and parameters (not the description, chunk size or file location; a posterior file by its
    content, :func:`sim.config.config_identity`)."""
    blob = json.dumps({"base": config_identity(base), "outputs": exp.outputs, "timeseries": exp.timeseries,
                       "seed": exp.seed, "runs": runs.to_dict(orient="split")}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
