"""The position-paper experiment file: scenarios, uptake curve, heatmap grid, sensitivity experiment.

What the pack runs (:func:`sim.api.report` runs it; the views in :mod:`sim.report` read only what it saved).

Validated like a scenario (pydantic, unknown keys are errors) and, at load, every scenario it names,
the generated grid experiment and the sensitivity experiment are loaded too: a bad key anywhere fails
with one line ``<file>: <key>: <problem>`` before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import ConfigDict, Field, field_validator

from sim.config import NAME_PATTERN, ConfigError, StrictModel, load_config, load_toml_as
from sim.sensitivity import check_analysis, load_analysis
from sim.sweep import load_experiment
from sim.uptake import ORDERS


class _Strict(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Axis(_Strict):
    """One heatmap axis: a numeric scenario key and the grid values it takes."""

    key: str = Field(..., description="Dotted config key, e.g. gp_price.licence_nok_per_gp_year")
    levels: list[float] = Field(..., min_length=2, description="Grid values (at least two)")


class UptakeSettings(_Strict):
    """The uptake curve (question 1): hospitals and municipalities on, GP practices added in each order."""

    scenario: str = Field("baseline", description="Scenario whose region, network and seed it uses")
    steps: int = Field(21, ge=2, description="GP shares from 0 to 1 (linspace)")
    seeds: int = Field(5, ge=1, description="Seeds of the seeded orders (random, by_municipality)")
    orders: list[str] = Field(list(ORDERS), min_length=1, description="Recruitment orders (sim.uptake.ORDERS)")
    at: list[float] = Field([0.25, 0.5, 0.75], min_length=1, description="GP shares at which orders are compared")

    @field_validator("orders")
    @classmethod
    def _known_orders(cls, orders: list[str]) -> list[str]:
        unknown = [o for o in orders if o not in ORDERS]
        if unknown:
            raise ValueError(f"unknown recruitment order {unknown[0]!r}; known: {', '.join(ORDERS)}")
        return orders


class HeatmapSettings(_Strict):
    """The price x functionality grid (question 2), run as a sweep with a grid design."""

    scenario: str = Field("baseline", description="Scenario the grid varies")
    replicates: int | None = Field(None, ge=1, description="Seeds per cell (default: the experiment's seeds)")
    output: Literal["share_gps", "share_gp_offices", "share_list_patients", "one_record_coverage",
                    "gain_realized"] = Field("share_gps", description="Report-year figure shown")
    x: Axis
    y: Axis


class SensitivitySettings(_Strict):
    """Question 4: a sensitivity experiment file, optionally made smaller."""

    experiment: str = Field(..., description="Experiment TOML (sobol or morris), relative to this file")
    samples: int | None = Field(None, ge=1, description="Replace the experiment's samples (a smaller run)")
    replicates: int | None = Field(None, ge=1, description="Replace the experiment's replicate seeds")
    tornado: bool | None = Field(None, description="Replace [analysis] tornado")


class ValidationSettings(_Strict):
    """The Bass check the report quotes (:func:`sim.api.validate_bass`)."""

    bass: str = Field("validation/bass.toml", description="The Bass special case, relative to this file")
    seeds: int = Field(40, ge=2, description="Seeds of the Bass check")


class QuickSettings(_Strict):
    """What ``--quick`` shrinks the experiment to (a smoke version under ``<name>-quick``, marked a smoke test)."""

    seeds: int = Field(2, ge=1)
    draws: int = Field(2, ge=0, description="Posterior draws beside draw 0")
    bass_seeds: int = Field(4, ge=2)
    uptake_steps: int = Field(5, ge=2)
    uptake_seeds: int = Field(2, ge=1)
    heatmap_levels: int = Field(3, ge=2, description="Levels kept per axis: first, last and evenly between")
    heatmap_replicates: int = Field(2, ge=1)
    sensitivity_samples: int = Field(4, ge=1)
    sensitivity_replicates: int = Field(1, ge=1)


class PaperExperiment(_Strict):
    """A validated position-paper experiment file."""

    name: str = Field(..., pattern=NAME_PATTERN, description="Used in result paths (a plain name)")
    description: str = Field("", description="One line on what it answers")
    seeds: int = Field(..., ge=1, le=1000, description="Replicate seeds per scenario")
    draws: int = Field(0, ge=0, le=1000, description="Parameter draws beside draw 0 (the posterior medians) per "
                       "scenario: bands over (draws + 1) x seeds; fitted keys from the posterior, others from their priors")
    smoke: bool = Field(False, description="A smoke test: every page and figure says so (set by --quick)")
    overrides: list[str] = Field(default_factory=list, description="--set overrides applied to every scenario, "
                                 "the uptake curve and the heatmap (e.g. a small region)")
    baseline: str = Field("baseline", description="The reference scenario (key numbers, parameter table)")
    adoption_scenarios: list[str] = Field(..., min_length=1, description="Question 2: GP adoption scenarios")
    financing_scenarios: list[str] = Field(..., min_length=1, description="Question 3: financing splits")
    scenarios: dict[str, str] = Field(..., min_length=1, description="Scenario name -> TOML, relative to this file")
    labels: dict[str, dict[Literal["en", "nb"], str]] = Field(
        default_factory=dict, description="Display names that replace the one table's (sim.plots.labels.display_name)")
    uptake_curve: UptakeSettings = Field(default_factory=UptakeSettings)
    heatmap: HeatmapSettings
    sensitivity: SensitivitySettings
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
    quick: QuickSettings = Field(default_factory=QuickSettings)
    source: str = Field("", description="The experiment file (set by load_paper)")

    def scenario_path(self, name: str) -> Path:
        """A scenario's TOML, resolved against the experiment file's folder."""
        return (Path(self.source).parent / self.scenarios[name]).resolve()

    def bass_path(self) -> Path:
        """The Bass check's TOML, resolved against the experiment file's folder."""
        return (Path(self.source).parent / self.validation.bass).resolve()


def load_paper(path: str | Path) -> PaperExperiment:
    """Load and validate a position-paper experiment; every scenario, the grid and the sensitivity
    experiment are loaded too, so a bad key fails here with one line ``<file>: <key>: <problem>``."""
    p = Path(path)
    paper = load_toml_as(p, PaperExperiment, kind="paper")
    named = [("baseline", paper.baseline), ("uptake_curve.scenario", paper.uptake_curve.scenario),
             ("heatmap.scenario", paper.heatmap.scenario)]
    named += [(f"adoption_scenarios.{i}", s) for i, s in enumerate(paper.adoption_scenarios)]
    named += [(f"financing_scenarios.{i}", s) for i, s in enumerate(paper.financing_scenarios)]
    named += [(f"labels.{s}", s) for s in paper.labels]
    for where, s in named:
        if s not in paper.scenarios:
            raise ConfigError(f"{p}: {where}: {s!r} is not in [scenarios] ({', '.join(paper.scenarios)})")
    for i, a in enumerate(paper.uptake_curve.at):
        if not 0 < a < 1:
            raise ConfigError(f"{p}: uptake_curve.at.{i}: must be between 0 and 1, got {a!r}")
    for name in paper.scenarios:
        scenario_config(paper, name)
    if not paper.bass_path().is_file():
        raise ConfigError(f"{p}: validation.bass: file not found: {paper.bass_path()}")
    heatmap_experiment(paper, Path(tempfile.gettempdir()), validate_only=True)
    sensitivity_experiment(paper)
    return paper


def scenario_config(paper: PaperExperiment, name: str):
    """The scenario's Config: its TOML + the experiment's overrides, named ``name``, with ``run.draws`` the
    experiment's ``draws``."""
    path = paper.scenario_path(name)
    if not path.is_file():
        raise ConfigError(f"{paper.source}: scenarios.{name}: file not found: {path}")
    try:
        return load_config(path, [*paper.overrides, f"scenario={name}", f"run.draws={paper.draws}"])
    except ConfigError as err:
        raise ConfigError(f"{paper.source}: scenarios.{name}: {err}") from None


def quick_version(paper: PaperExperiment) -> PaperExperiment:
    """The experiment shrunk by its ``[quick]`` table, named ``<name>-quick``."""
    q = paper.quick

    def fewer(levels: list[float]) -> list[float]:
        idx = np.unique(np.round(np.linspace(0, len(levels) - 1, min(q.heatmap_levels, len(levels)))).astype(int))
        return [levels[i] for i in idx]

    h = paper.heatmap
    heat = h.model_copy(update={"replicates": q.heatmap_replicates,
                                "x": h.x.model_copy(update={"levels": fewer(h.x.levels)}),
                                "y": h.y.model_copy(update={"levels": fewer(h.y.levels)})})
    return paper.model_copy(update={
        "name": f"{paper.name}-quick", "seeds": q.seeds, "draws": min(q.draws, paper.draws), "smoke": True,
        "heatmap": heat, "validation": paper.validation.model_copy(update={"seeds": q.bass_seeds}),
        "uptake_curve": paper.uptake_curve.model_copy(update={"steps": q.uptake_steps, "seeds": q.uptake_seeds}),
        "sensitivity": paper.sensitivity.model_copy(update={"samples": q.sensitivity_samples,
                                                            "replicates": q.sensitivity_replicates})})


def heatmap_toml(paper: PaperExperiment) -> str:
    """The grid experiment file of the heatmap (base: the scenario file, seed: its ``run.seed``)."""
    h = paper.heatmap
    cfg = scenario_config(paper, h.scenario)
    y = cfg.run.report_year
    outputs = list(dict.fromkeys([f"{h.output}_{y}", f"share_gps_{y}", f"gain_realized_{y}"]))
    q = json.dumps
    lines = [f"# Generated by sim.paper from {paper.source}: the {h.x.key} x {h.y.key} grid",
             f"name = {q('heatmap')}", f"description = {q('Position paper: ' + h.x.key + ' x ' + h.y.key)}",
             f"base = {q(str(paper.scenario_path(h.scenario)))}",
             f"overrides = {q([*paper.overrides, f'scenario={h.scenario}'])}",
             f"seed = {cfg.run.seed}", f"replicates = {h.replicates or paper.seeds}", 'design = "grid"',
             f"outputs = {q(outputs)}", "chunk_size = 50"]
    for ax in (h.x, h.y):
        lines += ["", "[[parameters]]", f"key = {q(ax.key)}", f"levels = {q(ax.levels)}"]
    return "\n".join(lines) + "\n"


def heatmap_experiment(paper: PaperExperiment, root: Path, validate_only: bool = False):
    """The heatmap's sweep Experiment, named ``heatmap-<hash of its file>``; its file is written to
    ``<root>/<name>/experiment.toml`` (a temporary folder when only validating)."""
    text = heatmap_toml(paper)
    name = f"heatmap-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    text = text.replace('name = "heatmap"', f'name = "{name}"')

    def load(folder: Path):
        f = folder / "experiment.toml"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text, encoding="utf-8")
        return load_experiment(f)

    try:
        if validate_only:
            with tempfile.TemporaryDirectory() as tmp:
                return load(Path(tmp))
        return load(root / name)
    except ConfigError as err:
        msg = str(err).split(": ", 1)[-1].replace("parameters.0", "heatmap.x").replace("parameters.1", "heatmap.y")
        raise ConfigError(f"{paper.source}: {msg}") from None


def sensitivity_experiment(paper: PaperExperiment):
    """(Experiment, Analysis) of question 4: the named file, with samples/replicates/tornado replaced
    when given (the experiment then gets the name ``<name>-n<samples>r<replicates>``)."""
    s = paper.sensitivity
    path = (Path(paper.source).parent / s.experiment).resolve()
    try:
        exp = load_experiment(path)
        ana = load_analysis(exp)
        check_analysis(ana, exp)
    except ConfigError as err:
        raise ConfigError(f"{paper.source}: sensitivity.experiment: {err}") from None
    if s.samples is not None or s.replicates is not None:
        samples, reps = s.samples or exp.samples, s.replicates or exp.replicates
        if exp.design == "sobol" and samples & (samples - 1):
            raise ConfigError(f"{paper.source}: sensitivity.samples: sobol needs a power of 2, got {samples}")
        exp = exp.model_copy(update={"samples": samples, "replicates": reps, "name": f"{exp.name}-n{samples}r{reps}"})
    if s.tornado is not None:
        ana = ana.model_copy(update={"tornado": s.tornado})
    return exp, ana


