"""Global sensitivity and scenario discovery: which assumptions decide the answer.

:func:`sensitivity` runs (or resumes) an experiment's sweep through :func:`sim.sweep.run_sweep`,
averages every output over the replicate seeds of each design row, and writes, under
``<out>/<experiment>/sensitivity/``:

* ``indices.csv``: one long table ``output, parameter, method, index, value, conf`` with the Sobol
  indices S1 and ST (and S2 with ``second_order``; ``SALib.analyze.sobol``, Saltelli 2010 and
  Jansen 1999 estimators) or the Morris statistics mu*, mu and sigma (``SALib.analyze.morris``,
  Campolongo et al. 2007); ``conf`` is the half-width of the bootstrap confidence interval
  (``conf_level``, default 95 %), NaN where SALib gives none (Morris mu and sigma);
* ``seed_variance.csv``: how much of each output's variance the replicate seeds carry;
* ``parameters.csv``: each varied key's range, distribution, role and ``source``: "posterior" (a key the
  calibrated base fitted, drawn from its posterior marginal) or "prior" (uniform over its range);
* ``tornado.csv`` (+ ``tornado_runs.csv``): one parameter at a time at its low and high bound,
  the others at their base-scenario values, run through the same evaluator and seeds;
* ``ranking.csv``: the top three parameters per output by ST (or mu*) and by tornado swing;
* ``prim_boxes.csv`` and ``prim_trajectory.csv``: PRIM scenario discovery
  (``ema_workbench.analysis.prim``) of the policy-lever ranges that reach a target;
* ``summary.json``; the figures (``figures/``) are drawn from these tables by :mod:`sim.plots`
  (:func:`sim.api.sensitivity` passes them as ``then``).

Elementary effects are computed on the unit cube: a Morris mu* is the change of the output over
a parameter's whole range (for y = c x on [low, high], mu* = c (high - low)). Options live in the
experiment file's ``[analysis]`` table (:class:`Analysis`, read by :func:`load_analysis`).
ema_workbench is imported inside the function that needs it.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError
from sim.results import atomic_dir
from sim.sensitivity.discovery import scenario_discovery
from sim.sensitivity.indices import (analysis_seed, global_indices, main_index, morris_indices, read_runs,
                                     replicate_means, seed_variance, sobol_indices, top_parameters)
from sim.sensitivity.options import (DEFAULT_OUTPUTS, INDEX_COLUMNS, POLICY_LEVERS, Analysis, Target, check_analysis,
                                     load_analysis, parse_target)
from sim.sensitivity.tornado import ranking_agreement, run_design, tornado_design, tornado_table
from sim.sweep import Experiment, base_config, load_experiment, make_design, read_manifest, run_sweep, sweep_path
from sim.sweep.experiment import design_hash, expand_runs, parameter_sources

__all__ = ["Analysis", "Target", "SensitivityResult", "DEFAULT_OUTPUTS", "POLICY_LEVERS", "INDEX_COLUMNS",
           "sensitivity", "load_analysis", "check_analysis", "parse_target", "analysis_seed", "read_runs",
           "replicate_means", "seed_variance", "sobol_indices", "morris_indices", "global_indices", "main_index",
           "top_parameters", "tornado_design", "run_design", "tornado_table", "ranking_agreement",
           "scenario_discovery", "write_tables"]


@dataclass
class SensitivityResult:
    """The tables of an analysis (as written under ``path``)."""

    path: Path
    indices: pd.DataFrame
    seed_variance: pd.DataFrame
    tornado: pd.DataFrame = field(default_factory=pd.DataFrame)
    ranking: pd.DataFrame = field(default_factory=pd.DataFrame)
    prim_boxes: pd.DataFrame = field(default_factory=pd.DataFrame)
    prim_trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: dict = field(default_factory=dict)
    tornado_runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    parameters: pd.DataFrame = field(default_factory=pd.DataFrame)


def sensitivity(experiment: Experiment | str | Path, out_dir: str | Path = "results", *, executor: str = "local",
                workers: int | None = None, scheduler: str | None = None, evaluate=None, progress: bool = True,
                run: bool = True, analysis: Analysis | None = None,
                then: Callable[[Path, SensitivityResult], None] | None = None) -> SensitivityResult:
    """Run (or resume, or with ``run=False`` only read) an experiment's sweep and analyse it.

    Outputs are averaged over the replicate seeds of each design row before SALib sees them;
    the files listed in the module docstring go to ``<out_dir>/<name>/sensitivity/`` (replaced
    whole). ``evaluate`` replaces the model (see :mod:`sim.sweep.evaluate`) for the sweep and the
    tornado alike. Options come from ``analysis`` or the experiment's ``[analysis]`` table.
    ``then(tmp_dir, result)`` runs after the tables are written and before the folder is renamed
    into place (the API draws the figures there).
    """
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    ana = analysis if analysis is not None else load_analysis(exp)
    outputs, target, levers = check_analysis(ana, exp)
    n_rows = len(make_design(exp))
    base = base_config(exp)  # read once: the tornado uses the scenario the sweep started from
    clock = {"start": time.perf_counter()}
    if run:
        root = run_sweep(exp, out_dir, executor=executor, workers=workers, scheduler=scheduler, progress=progress,
                         evaluate=evaluate)
    else:
        root = sweep_path(out_dir, exp.name)
        if read_manifest(root).get("design_hash") != design_hash(exp, base, expand_runs(exp)):
            raise ConfigError(f"{root}: holds another design than {exp.source}; run the sweep first")
    clock["sweep"] = time.perf_counter()
    runs = read_runs(root, exp)
    means = replicate_means(runs, outputs, n_rows, exp.replicates)
    indices, skipped = global_indices(exp, means, outputs, ana)
    res = SensitivityResult(root / "sensitivity", indices, seed_variance(runs, outputs),
                            parameters=parameter_sources(exp))
    clock["indices"] = time.perf_counter()
    if ana.tornado:
        design = tornado_design(exp, base)
        truns = run_design(exp, base, design, ana.tornado_replicates or exp.replicates, evaluate, executor, workers,
                           scheduler)
        res.tornado, res.tornado_runs = tornado_table(design, truns, outputs), truns
    clock["tornado"] = time.perf_counter()
    res.ranking = ranking_agreement(indices, res.tornado)
    share = None
    if target is not None:
        share = float(target.reached(runs[target.output].to_numpy()).mean())
        if 0 < share < 1:
            res.prim_boxes, res.prim_trajectory = scenario_discovery(
                runs, target, levers, ana.prim_threshold, ana.prim_peel_alpha, ana.prim_mass_min, ana.prim_min_coverage)
        else:
            warnings.warn(f"sensitivity: target {target} reached in {share:.0%} of runs: no PRIM", stacklevel=2)
    chosen = res.prim_trajectory[res.prim_trajectory["chosen"]] if len(res.prim_trajectory) else pd.DataFrame()
    res.summary = {
        "experiment": exp.name, "design": exp.design, "design_rows": n_rows, "replicates": exp.replicates,
        "runs": len(runs), "analysis": ana.model_dump(), "outputs": outputs, "skipped_outputs": skipped,
        "top_parameters": top_parameters(indices).to_dict(orient="records"),
        "sources": dict(zip(res.parameters["parameter"], res.parameters["source"])),
        "target": str(target) if target else None, "target_share_of_runs": share, "prim_levers": levers,
        "prim_chosen_box": chosen.iloc[0].to_dict() if len(chosen) else None,
        "seconds": {"sweep": clock["sweep"] - clock["start"], "indices": clock["indices"] - clock["sweep"],
                    "tornado": clock["tornado"] - clock["indices"]},
    }
    with atomic_dir(res.path) as tmp:
        write_tables(res, tmp)
        if then is not None:
            then(tmp, res)
    return res


def write_tables(res: SensitivityResult, out_dir: Path) -> None:
    """The analysis' files (module docstring) into ``out_dir``: every table that is not empty and summary.json."""
    res.indices.to_csv(out_dir / "indices.csv", index=False)
    res.seed_variance.to_csv(out_dir / "seed_variance.csv", index=False)
    for name in ("tornado", "ranking", "prim_boxes", "prim_trajectory", "tornado_runs", "parameters"):
        if len(getattr(res, name)):
            getattr(res, name).to_csv(out_dir / f"{name}.csv", index=False)
    (out_dir / "summary.json").write_text(json.dumps(res.summary, indent=2, default=_json_default), encoding="utf-8")


def _json_default(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else str(v)
