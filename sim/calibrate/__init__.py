"""Calibration: fit the uncertain inputs to what happened to 2023-12, check, forecast, write.

One joint calibration of the second model version (docs/calibration.md says why this method):

* :mod:`sim.calibrate.settings`: :class:`CalibrationSettings` (the fit's size, the likelihood's and the
  distance's constants), the keys fitted (:data:`JOINT_PARAMETERS`), their priors (:func:`prior_range`:
  the data rows' ranges, never an earlier posterior);
* :mod:`sim.calibrate.likelihood`: the municipal decision record's simulated likelihood (#18,
  :func:`decision_likelihood`), the GP-office record's term and their joint log-likelihood
  (:func:`joint_log_likelihood`); the observed series' distance for ABC (:func:`series_distance`);
* :mod:`sim.calibrate.driver`: the bill's fitted rows solved exactly, then adaptive importance sampling of
  the joint posterior (:func:`fit_importance`) on the shared executor (:mod:`sim.parallel`); ABC-SMC
  through pyabc (:func:`fit_abc`, :func:`executor_sampler`) for synthetic histories; the posterior
  predictive and :func:`calibrate`, the whole command;
* :mod:`sim.calibrate.outputs`: the tables and files: ``fitted_parameters.csv`` (prior range, posterior
  median, 5/25/75/95% quantiles), ``posterior.csv`` (weighted particles: the fitted keys and ``weight``),
  ``particles.csv`` (every particle with its log-likelihood parts and stage), ``generations.csv`` (stages
  or ABC generations), ``observed.csv`` and ``observed_decisions.csv``, ``bands.csv`` and ``coverage.csv``
  (posterior predictive bands against the observed points, ``by_construction`` marked), ``forecast.csv``,
  ``calibrated.toml`` (extends the baseline, sets the medians, ``[calibration]`` names posterior.csv),
  ``calibration.json``; :func:`fold_into_config` folds a results folder into a scenario file
  (``onerecord calibrate CONFIG --apply``).
"""

from sim.calibrate.driver import (BOUND, _builds, by_construction, calibrate, effective_sample_size, executor_sampler,
                                  fit_abc, fit_importance, forecast, joint_log_likelihoods, particle_replicates,
                                  predictive_runs, simulate_monthly, trim_posterior)
from sim.calibrate.likelihood import (SERIES, decision_error, decision_likelihood, decision_points_in_window, gp_penalty,
                                      gp_record_log_likelihood, joint_log_likelihood, make_target, series_distance)
from sim.calibrate.outputs import (POSTERIOR_FILE, CalibrationResult, bands_table, calibrated_toml, coverage_table,
                                   draw_posterior, fold_into_config, parameter_table, weighted_quantile, write_files)
from sim.history import DECIDED, HISTORY_END, observed_series, option_decision_points  # re-exported (old module)
from sim.calibrate.settings import (BASELINE_PATH, CALIBRATION_STREAM, DEFAULT, FIT_PARAMETERS, JOINT_PARAMETERS, METHOD,
                                    METHOD_JOINT, QUANTILES, QUICK, QUICK_REGION, ROOT, CalibrationSettings, Simulator,
                                    prior_range)

__all__ = ["DECIDED", "HISTORY_END", "observed_series", "option_decision_points", "BOUND", "JOINT_PARAMETERS", "METHOD_JOINT", "POSTERIOR_FILE", "by_construction", "effective_sample_size",
           "fit_importance", "fold_into_config", "gp_record_log_likelihood", "joint_log_likelihood",
           "joint_log_likelihoods", "trim_posterior", "BASELINE_PATH", "CALIBRATION_STREAM", "DEFAULT", "FIT_PARAMETERS", "METHOD", "QUANTILES", "QUICK",
           "QUICK_REGION", "ROOT", "SERIES", "CalibrationResult", "CalibrationSettings", "Simulator", "bands_table",
           "calibrate", "calibrated_toml", "coverage_table", "decision_error", "decision_likelihood",
           "decision_points_in_window", "draw_posterior", "executor_sampler", "fit_abc", "forecast", "gp_penalty",
           "make_target", "parameter_table", "particle_replicates", "predictive_runs", "prior_range",
           "series_distance", "simulate_monthly", "weighted_quantile", "write_files", "_builds"]
