"""The position-paper report: views over a saved pack of results (files in, report out, never the model).

A position-paper experiment (TOML, :class:`sim.paper.PaperExperiment`, :mod:`sim.paper`) names the
scenarios, the uptake-curve settings, a price x functionality grid and a sensitivity experiment.
:func:`sim.api.report` runs what is missing (each piece resumable and skipped when saved) and writes
``report_inputs.json``, the index of the saved pack:

* every scenario's run directory ``<out>/<name>/runs/<scenario>/<run id>/``, over the experiment's
  ``draws`` posterior draws (draw 0: the posterior medians) x ``seeds`` (tables keep the ``draw`` column);
* the uptake curve in ``<out>/<name>/uptake_curve/``;
* the heatmap, a ``grid`` sweep, in ``<out>/<name>/heatmap-<hash>/`` (its seed is the scenario's
  ``run.seed``, so a cell at the scenario's own values repeats its runs);
* the sensitivity experiment in its usual place ``<out>/<experiment>/`` (so a sensitivity run made
  before is reused);
* ``parameters.csv`` (the parameter table, values as resolved);
* ``business_cases.csv`` (per scenario and run: the GP office's break-even licence, share of GPs for whom
  joining pays and payback; the median municipality's net cost and the municipalities' payback year);
* ``coverage.csv`` (real region only: the observed 2020-2023 points against the baseline's 90 % band over
  draws x seeds, ``by_construction`` marking those that hold by construction);
* ``validation/<scenario>/<run id>/`` (the Bass check, ``bass_check.json`` with its PASS/FAIL verdict);
* in ``report_inputs.json`` also the base config's ``[calibration]`` and where each uncertain input is
  drawn from (``draw_sources``: posterior or prior).

Every headline number is a median with its 5-95 % band over draws x seeds and the share of the band's
variance that is parameter uncertainty (:mod:`~sim.report.bands`). A smoke test (``smoke = true``, or
``--quick``) is marked on the title, the page and every figure; drivers are named only when the
sensitivity intervals are narrower than the indices (:func:`~sim.report.tables.drivers_verdict`).

:func:`build_report` (:mod:`~sim.report.document`) then writes ``<out>/<name>/report_<lang>/``:
``report.md``, ``report.html`` (figures embedded as base64 PNG, no scripts, no fetches), ``numbers.json``
and ``figures/``, **from the saved files alone**: :mod:`~sim.report.tables`, :mod:`~sim.report.text` and
:mod:`~sim.report.document` import neither the model nor the runner, and draw every figure through the
registry :data:`sim.plots.FIGURES`. Every number in the text is a fact computed from those tables
(:func:`facts`) and formatted by :func:`fmt`; the templates in :data:`TEXT` contain no digits.
"""

from sim.report.document import build_report, compose, render_html, render_markdown
from sim.report.tables import INPUTS_FILE, Pack, facts, municipal_costs, top_drivers, uptake_gaps, who_pays_npv
from sim.report.text import LANGS, TEXT, check_lang, fmt

__all__ = ["build_report", "Pack", "facts", "compose",
           "render_markdown", "render_html", "uptake_gaps", "municipal_costs", "who_pays_npv", "top_drivers", "fmt",
           "check_lang", "TEXT", "LANGS", "INPUTS_FILE"]
