"""Options of an analysis: the ``[analysis]`` table of an experiment file and the PRIM target.

Checked against the experiment before anything runs: outputs it keeps, a target on one of
them (``"<output> <op> <number>"``), PRIM levers among its parameters, a sobol or morris design.
"""

from __future__ import annotations

import operator
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.config import ConfigError, format_validation_error
from sim.sweep import Experiment

DEFAULT_OUTPUTS = ("share_gps_2030", "one_record_coverage_2030", "gain_realized_2030",
                   "nok_per_inhabitant_median_municipality_2030")
"""The outputs an analysis needs at least (DESIGN.md question 4)."""

POLICY_LEVERS = ("gp_price.licence_nok_per_gp_year", "agreement.subsidy_nok_per_gp_year",
                 "functionality.improvement_per_release", "financing.state_share")
"""Scenario parameters a policy maker sets: the default PRIM dimensions."""

INDEX_COLUMNS = ["output", "parameter", "method", "index", "value", "conf"]


class Analysis(BaseModel):
    """The ``[analysis]`` table of an experiment file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outputs: list[str] | None = Field(None, description="Outputs to analyse (default: every output of the experiment)")
    conf_level: float = Field(0.95, gt=0, lt=1, description="Confidence level of the bootstrap intervals")
    num_resamples: int = Field(1000, ge=10, description="Bootstrap resamples of the confidence intervals")
    tornado: bool = Field(True, description="Run the one-at-a-time tornado around the base scenario")
    tornado_replicates: int | None = Field(None, ge=1, description="Replicate seeds per tornado point (default: the experiment's)")
    target: str | None = Field(None, description="PRIM target, e.g. 'one_record_coverage_2030 >= 0.8' (none: no PRIM)")
    prim_levers: list[str] | None = Field(None, description="PRIM dimensions (default: the policy levers the experiment varies)")
    prim_threshold: float = Field(0.8, gt=0, le=1, description="Density (share of a box's runs reaching the target) a box must reach")
    prim_peel_alpha: float = Field(0.05, gt=0, lt=0.5, description="Share of the box peeled off per step")
    prim_mass_min: float = Field(0.05, gt=0, lt=1, description="Smallest box, as a share of all runs")
    prim_min_coverage: float = Field(0.5, ge=0, le=1, description="When no box reaches prim_threshold: the densest "
                                     "box that still holds this share of the target runs")
    figures: bool = Field(True, description="Write the figures")


def load_analysis(source: Experiment | str | Path) -> Analysis:
    """The ``[analysis]`` table of an experiment (object or file), validated; defaults when absent.

    Errors are one line ``<file>: analysis.<key>: <problem>`` (:class:`ConfigError`).
    """
    if isinstance(source, Experiment):
        data, path = source.analysis, source.source
    else:
        path = str(source)
        data = tomllib.loads(Path(source).read_text(encoding="utf-8")).get("analysis", {})
    try:
        return Analysis.model_validate(data)
    except ValidationError as err:
        msg = format_validation_error(path, err, Analysis, missing_hint="")
        raise ConfigError(msg.replace(f"{path}: ", f"{path}: analysis.", 1)) from None


@dataclass(frozen=True)
class Target:
    """A scenario-discovery target ``output op value`` (op one of >=, >, <=, <); NaN never reaches it."""

    output: str
    op: str
    value: float

    def reached(self, y: np.ndarray) -> np.ndarray:
        """Boolean mask of the values that reach the target."""
        y = np.asarray(y, dtype=float)
        return _OPS[self.op](np.nan_to_num(y, nan=np.inf if self.op in ("<", "<=") else -np.inf), self.value)

    def __str__(self) -> str:
        return f"{self.output} {self.op} {self.value:g}"


_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
_TARGET_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*([-+]?[0-9.]+(?:[eE][-+]?\d+)?)\s*$")


def parse_target(text: str) -> Target:
    """``"one_record_coverage_2030 >= 0.8"`` -> Target; ValueError on anything else."""
    m = _TARGET_RE.match(text)
    if not m:
        raise ValueError(f"target {text!r}: expected '<output> <op> <number>' with op one of >=, >, <=, <")
    return Target(m.group(1), m.group(2), float(m.group(3)))


def check_analysis(ana: Analysis, exp: Experiment) -> tuple[list[str], Target | None, list[str]]:
    """(outputs, target, PRIM levers) of an analysis, checked against its experiment before anything runs."""
    where = f"{exp.source}: analysis"
    if exp.design not in ("sobol", "morris"):
        raise ConfigError(f"{exp.source}: design: sensitivity needs 'sobol' or 'morris', got {exp.design!r}")
    outputs = list(ana.outputs or exp.outputs)
    unknown = [o for o in outputs if o not in exp.outputs]
    if unknown:
        raise ConfigError(f"{where}.outputs: {unknown[0]} is not among the experiment's outputs {exp.outputs}")
    target = None
    if ana.target is not None:
        try:
            target = parse_target(ana.target)
        except ValueError as err:
            raise ConfigError(f"{where}.target: {err}") from None
        if target.output not in exp.outputs:
            raise ConfigError(f"{where}.target: {target.output} is not among the experiment's outputs {exp.outputs}")
    if ana.prim_levers is None:
        levers = [k for k in POLICY_LEVERS if k in exp.keys]
    else:
        levers = list(ana.prim_levers)
        missing = [k for k in levers if k not in exp.keys]
        if missing:
            raise ConfigError(f"{where}.prim_levers: {missing[0]} is not a parameter of the experiment")
    if target is not None and not levers:
        raise ConfigError(f"{where}.prim_levers: the experiment varies none of {list(POLICY_LEVERS)}; name the levers")
    return outputs, target, levers
