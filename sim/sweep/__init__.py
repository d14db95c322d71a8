"""Sensitivity sweeps that run on a laptop and on a cluster, and lose nothing.

An experiment file (TOML) varies a scenario's parameters over a design (grid, lhs, sobol,
morris); each design row x replicate is a run. Runs are evaluated by a process pool or by
Dask, stream to a Parquet dataset as they finish, and a re-run resumes where it stopped.

    >>> from sim.sweep import load_experiment, run_sweep, open_dataset
    >>> exp = load_experiment("experiments/smoke.toml")
    >>> path = run_sweep(exp, "results", workers=2)          # results/smoke/
    >>> runs = open_dataset(path).to_table().to_pandas()     # one row per run

Modules: :mod:`~sim.sweep.experiment` (schema, designs), :mod:`~sim.sweep.evaluate` (one run
in a worker; its executor comes from :mod:`sim.parallel`), :mod:`~sim.sweep.store` (files),
:mod:`~sim.sweep.run` (the loop). ``onerecord sweep EXPERIMENT`` (:func:`sim.api.sweep`) runs one from a shell.
"""

from sim.sweep.evaluate import TIMING_COLUMNS, ModelEvaluator
from sim.sweep.experiment import (Experiment, Parameter, base_config, expand_runs, load_experiment, make_design,
                                  salib_problem, sweep_run_id)
from sim.sweep.run import parse_shard, run_sweep, sweep_status
from sim.sweep.store import merge_shards, open_dataset, read_manifest, sweep_path

__all__ = ["Experiment", "Parameter", "ModelEvaluator", "TIMING_COLUMNS", "load_experiment", "base_config",
           "make_design", "salib_problem", "expand_runs", "sweep_run_id", "run_sweep", "merge_shards", "open_dataset",
           "read_manifest", "sweep_path", "sweep_status", "parse_shard"]
