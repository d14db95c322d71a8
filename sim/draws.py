"""Parameter draws: the design over the uncertain inputs that parameter bands are made of.

A run with ``draws = K`` runs K + 1 parameter sets x N replicate seeds. Draw 0 is the config
as given; draws 1..K set every uncertain input (:func:`sim.config.prior_ranges`: role
``uncertain``, scalars and each age band of a rate table) to a point of a scrambled Sobol
sequence (``scipy.stats.qmc.Sobol``) mapped through each input's distribution. The sequence
is seeded from ``SeedSequence([run.seed, DRAW_STREAM])``, a stream apart from the replicate
seeds, so the design is reproducible and draws 1..K are the first K points whatever K is
(asking for more draws adds rows, it never moves the earlier ones). Replicate r uses the
same seed in every draw (common random numbers), so draw-to-draw differences are the
parameters' doing, not the dice's.

The distribution spec: :func:`draw_table` takes ``spec``, a mapping from dotted key to anything
with a ``ppf`` (a frozen ``scipy.stats`` distribution), or a callable ``(unit_points) -> DataFrame``
that turns an (K, d) array of points in the unit cube into values. Without a spec it draws from
:func:`posterior_spec`: in a calibrated config (``[calibration]``, :class:`sim.config.CalibrationSection`)
the fitted keys jointly from the posterior particles, every other uncertain input uniform over its
prior range (``x = low + u (high - low)``); in an uncalibrated config every input from its prior
(:func:`prior_spec`, the same table). A key the scenario sets itself (:attr:`sim.config.Config.held`:
its file's keys on top of the calibrated base, ``--set``) keeps its value in every draw, so a policy
scenario's lever (``functionality_fixed``: no go-live shock) is not redrawn away. Its column is overwritten
after the design is drawn, so the other inputs take the same values in every scenario (common draws).
:func:`spec_sources` says which key came from where.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from sim.config import (POSTERIOR_WEIGHT, Config, ConfigError, config_to_dict, get_dotted,
                        load_posterior, prior_ranges, schema_fields, validate)

DRAW_STREAM = 0x64726177  # "draw": the entropy word that keeps the design's stream apart from replicate seeds
"""Second entropy word of the draw design's ``SeedSequence([run.seed, DRAW_STREAM])``."""

Spec = Mapping[str, Any] | Callable[[np.ndarray], pd.DataFrame]
"""Dotted key -> distribution with ``ppf`` (frozen scipy.stats), or unit points -> values."""


def prior_spec(cfg: Config) -> dict[str, Any]:
    """Every uncertain input of ``cfg`` uniform over its prior range: ``stats.uniform(low, high - low)``."""
    return {key: stats.uniform(lo, hi - lo) for key, (lo, hi) in prior_ranges(cfg).items()}


def posterior_table(cfg: Config) -> pd.DataFrame | None:
    """The weighted particles of ``cfg.calibration.posterior`` (columns ``weight`` and the fitted keys),
    or None in an uncalibrated config."""
    if cfg.calibration is None:
        return None
    try:
        return load_posterior(cfg.calibration.posterior)
    except ValueError as err:  # the file changed after the config was loaded
        raise ConfigError(f"{cfg.scenario}: calibration.posterior: {err}, got {cfg.calibration.posterior!r}") from None


def spec_sources(cfg: Config) -> dict[str, str]:
    """Where :func:`posterior_spec` draws each uncertain input of ``cfg`` from: ``"posterior"`` (a
    fitted key, a column of the posterior file), ``"prior"`` (uniform over its prior range) or ``"held"``
    (the scenario sets it: every draw keeps its value); keys in :func:`sim.config.prior_ranges` order."""
    post = posterior_table(cfg)
    fitted = set() if post is None else set(post.columns) - {POSTERIOR_WEIGHT}
    ranges = prior_ranges(cfg)
    held = set(held_keys(cfg, ranges))
    return {k: "held" if k in held else "posterior" if k in fitted else "prior" for k in ranges}


def particle_index(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Inverse weighted CDF over particle index: particle i for u in [C_{i-1}, C_i), C_i = sum_{j<=i} w_j / sum w.

    A stratified u (a Sobol coordinate) picks particle i about K w_i / sum w times in K draws;
    zero-weight particles are never picked.
    """
    w = np.asarray(weights, float)
    cdf = np.cumsum(w) / w.sum()
    return np.minimum(np.searchsorted(cdf, np.asarray(u, float), side="right"), len(w) - 1)


def posterior_spec(cfg: Config) -> Callable[[np.ndarray], pd.DataFrame]:
    """The draws' spec of ``cfg`` (a callable of (K, d) unit points, d = the number of uncertain inputs).

    Calibrated config: the fitted keys are drawn jointly, resampling posterior particles by the first
    coordinate through :func:`particle_index` (so draws keep the posterior's correlations); every other
    uncertain input uniform over its prior range from the next coordinates, in :func:`prior_ranges`
    order. Uncalibrated: coordinate j to input j through :func:`prior_spec` (the same table as it).
    """
    ranges = prior_ranges(cfg)
    priors = prior_spec(cfg)
    post = posterior_table(cfg)
    fitted = [] if post is None else [k for k in ranges if k in post.columns]
    if post is not None and len(fitted) != len(post.columns) - 1:
        missing = sorted(set(post.columns) - {POSTERIOR_WEIGHT} - set(fitted))
        raise ConfigError(f"{cfg.scenario}: calibration.posterior: {missing[0]!r} is not an uncertain input of this config")
    others = [k for k in ranges if k not in fitted]

    def spec(u: np.ndarray) -> pd.DataFrame:
        offset = 1 if fitted else 0
        if u.shape[1] < offset + len(others):
            raise ValueError(f"posterior_spec: {u.shape[1]} unit coordinates, needs {offset + len(others)}")
        out = {k: priors[k].ppf(u[:, offset + j]) for j, k in enumerate(others)}
        if fitted:
            rows = particle_index(u[:, 0], post[POSTERIOR_WEIGHT].to_numpy())
            out |= {k: post[k].to_numpy(float)[rows] for k in fitted}
        return pd.DataFrame({k: out[k] for k in ranges}, index=range(len(u)))

    return spec


def unit_points(n: int, d: int, seed: int) -> np.ndarray:
    """The first ``n`` points of a scrambled Sobol sequence in [0, 1)^d, seeded by ``seed``.

    A prefix of the sequence: ``unit_points(k, d, s)`` is the first k rows of ``unit_points(n, d, s)``
    for k <= n, so adding draws never moves the earlier ones.
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), DRAW_STREAM]))
    with warnings.catch_warnings():  # balance properties want n a power of 2; the prefix property matters more here
        warnings.simplefilter("ignore", UserWarning)
        return qmc.Sobol(d, scramble=True, seed=rng).random(n) if n else np.empty((0, d))


def draw_table(cfg: Config, draws: int, spec: Spec | None = None) -> pd.DataFrame:
    """The draws table: one row per draw (0..K), column ``draw`` then one column per drawn key.

    Row 0 holds the config's own values; rows 1..K the design (see the module docstring): ``spec``,
    by default :func:`posterior_spec` (the posterior's fitted keys, the priors of the others).
    """
    if draws < 0:
        raise ConfigError(f"--draws: must be >= 0, got {draws}")
    data = config_to_dict(cfg)
    if draws == 0 and spec is None:  # draw 0 alone: the config's own values, no design to build
        spec = lambda u: pd.DataFrame(columns=list(prior_ranges(cfg)), dtype=float)  # noqa: E731
    spec = posterior_spec(cfg) if spec is None else spec
    if callable(spec):
        keys = list(prior_ranges(cfg))
        values = spec(unit_points(draws, len(keys), cfg.run.seed))
        keys = list(values.columns)
    else:
        keys = list(spec)
        u = unit_points(draws, len(keys), cfg.run.seed)
        values = pd.DataFrame({k: spec[k].ppf(u[:, j]) for j, k in enumerate(keys)})
    base = pd.DataFrame([{k: float(get_dotted(data, k)) for k in keys}])
    table = pd.concat([base, values[keys].astype(float)], ignore_index=True)
    for key in keys:  # integer keys take whole values
        if _annotation(key) is int:
            table[key] = table[key].round().astype(np.int64)
    for key in held_keys(cfg, keys):  # the scenario's own settings stay as set; the other columns stay put (CRN)
        table[key] = table.at[0, key]
    table.insert(0, "draw", np.arange(len(table), dtype=np.int64))
    return table


def held_keys(cfg: Config, keys: Iterable[str]) -> list[str]:
    """The drawn ``keys`` that ``cfg`` holds (:attr:`sim.config.Config.held`: the key, or a table it is a band of)."""
    held = cfg.held
    return [k for k in keys if any(".".join(k.split(".")[:n]) in held for n in range(1, k.count(".") + 2))]


def _annotation(key: str):
    """The type of a scalar key (None for an age band of a table)."""
    f = schema_fields().get(key)
    return None if f is None else f.annotation


def draw_config(cfg: Config, row: Mapping[str, Any]) -> Config:
    """``cfg`` with one draw's values set (age bands of a rate table replace that band only; a key may name a
    nested section's field, e.g. ``network.national_services.kjernejournal.information_share``).

    Values are validated as any override is; a drawn value outside a key's bounds is a ConfigError.
    """
    data = config_to_dict(cfg)
    for key, value in row.items():
        if key == "draw":
            continue
        *path, last = key.split(".")
        target = data
        for part in path:  # sections, nested sections (network.national_services.<service>) and rate tables
            target[part] = dict(target[part])
            target = target[part]
        target[last] = value.item() if isinstance(value, np.generic) else value
    return validate(data, f"{cfg.scenario}: draw {int(row.get('draw', -1))}")


def draw_configs(cfg: Config, table: pd.DataFrame) -> list[Config]:
    """One config per row of a draws table (row 0: ``cfg`` itself, untouched)."""
    return [cfg if int(r["draw"]) == 0 else draw_config(cfg, r) for r in table.to_dict("records")]


def marginal_ppf(posterior: pd.DataFrame, key: str) -> Callable[[np.ndarray], np.ndarray]:
    """The inverse weighted CDF of one fitted key's posterior marginal (a step function over its particles:
    value x_(i) for u in [C_(i-1), C_(i)), x sorted, C the cumulative normalised weights). Applied to a
    design's unit column it draws that key from its marginal alone (global sensitivity treats inputs as
    independent: the posterior's correlations are not kept there)."""
    x = posterior[key].to_numpy(float)
    order = np.argsort(x, kind="stable")
    x, w = x[order], posterior[POSTERIOR_WEIGHT].to_numpy(float)[order]
    return lambda u: x[particle_index(u, w)]
