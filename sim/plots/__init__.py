"""Figures from saved result tables: tables in, figures out, never the model.

One module per subject: :mod:`~sim.plots.run` (adoption, coverage, gain against uptake, scenarios
compared), :mod:`~sim.plots.economics`, :mod:`~sim.plots.uptake`, :mod:`~sim.plots.sensitivity`,
:mod:`~sim.plots.calibration`, :mod:`~sim.plots.validation`. Every figure is a function
``fig_x(tables, lang="en", ax=None, **options)`` returning a matplotlib Figure: ``tables`` is any
object with the subject's tables as attributes (a result object of :mod:`sim.api`, or a namespace),
``lang`` is ``nb`` or ``en`` (every word from :mod:`~sim.plots.labels`), ``ax`` draws into the
caller's Axes (a sequence of Axes for a figure of several panels). Options such as ``report_year``
are arguments, never DataFrame attributes.

:data:`FIGURES` is the one registry: figure name -> :class:`Figure`. ``onerecord plot``, every
result's ``.save()`` (through :func:`write_figures`) and the report draw through it, so a figure
added here appears everywhere its subject is saved. Files are ``<name>_<lang>.pdf`` and ``.png``
(300 dpi) in one paper style (``sim/onerecord.mplstyle``), one or two paper columns wide
(:mod:`~sim.plots.style`), numbers on every axis in the figure's language, and with ``smoke=True``
the stamp "Smoke test, not for use" / "Røyktest, ikke til bruk" across each figure.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sim.config import ConfigError
from sim.plots import calibration, economics, gp, run, sensitivity, uptake, validation
from sim.plots.labels import (
    LABELS, LANGS, check_lang, display_name, fmt, has_name, label, number, output_label, tick_formatter,
)
from sim.plots.style import SMOKE, band, fit_texts, localize, paper_style, save, stamp_smoke

SUBJECTS = ("run", "compare", "uptake", "sensitivity", "profile", "calibration", "validation", "bill", "gp", "report")
"""What a figure reads: one run, runs compared, the uptake curve, a sensitivity analysis, a
profile (one parameter at a time, :mod:`sim.sensitivity.profile`), a calibration, the Bass
validation, a municipality's bill sheet (:class:`sim.api.BillResult`), what drives GP uptake (``gp``), or tables only the report
composes (drawn by name)."""


def _has(*names: str) -> Callable[[Any], bool]:
    """A figure applies when each named table is present and not empty."""
    return lambda t: all(getattr(t, n, None) is not None and len(getattr(t, n)) > 0 for n in names)


def _method(m: str) -> Callable[[Any], bool]:
    return lambda t: _has("indices")(t) and bool((t.indices["method"] == m).any())


@dataclass(frozen=True)
class Figure:
    """One registered figure: what it reads (``subject``), how to draw it, when it applies."""

    subject: str
    draw: Callable
    applies: Callable[[Any], bool] = field(default=lambda t: True)
    auto: bool = True  # drawn by write_figures (False: drawn by name only, e.g. by the report)


FIGURES: dict[str, Figure] = {
    "adoption": Figure("run", run.fig_adoption),
    "coverage": Figure("run", run.fig_coverage),
    "gain_vs_uptake": Figure("run", run.fig_gain_vs_uptake),
    "cost_per_inhabitant": Figure("run", economics.fig_cost_per_inhabitant, _has("costs_municipality")),
    "who_pays_who_gains": Figure("run", economics.fig_who_pays, _has("who_pays_who_gains")),
    "gp_break_even": Figure("run", gp.fig_break_even, _has("costs_gp")),
    "compare": Figure("compare", run.fig_compare),
    "compare_cost_per_inhabitant": Figure("compare", economics.fig_cost_per_inhabitant, _has("costs_municipality")),
    **{f"uptake_{m}": Figure("uptake", partial(uptake.fig_uptake, metric=m)) for m in uptake.UPTAKE_METRICS},
    "uptake_panels": Figure("uptake", uptake.fig_uptake_panels, auto=False),
    "sobol_indices": Figure("sensitivity", sensitivity.fig_sobol, _method("sobol")),
    "morris_mu_star_sigma": Figure("sensitivity", sensitivity.fig_morris, _method("morris")),
    "tornado": Figure("sensitivity", sensitivity.fig_tornado, _has("tornado")),
    "prim": Figure("sensitivity", sensitivity.fig_prim, _has("prim_trajectory")),
    "profile": Figure("profile", sensitivity.fig_profile, _has("profile")),
    "calibration_fit": Figure("calibration", calibration.fig_fit),
    "calibration_forecast": Figure("calibration", calibration.fig_forecast, _has("forecast")),
    "bass": Figure("validation", validation.fig_bass),
    "bill_by_municipality": Figure("bill", economics.fig_bill_by_municipality, _has("expected")),
    "gp_breakeven": Figure("bill", economics.fig_gp_breakeven, _has("gp")),
    "drivers": Figure("report", sensitivity.fig_drivers, auto=False),
    "heatmap": Figure("report", sensitivity.fig_heatmap, auto=False),
    "net_by_actor": Figure("report", economics.fig_net_by_actor, auto=False),
    "gp_levers": Figure("gp", gp.fig_gp_levers, _has("gp_levers")),
    "gp_drivers_break_even": Figure("gp", gp.fig_break_even, _has("costs_gp")),
}
"""Figure name -> :class:`Figure`; the names are the files' stems in ``figures/``."""


def names(subject: str) -> list[str]:
    """The figures ``write_figures`` draws for a subject, in registry order."""
    return [n for n, f in FIGURES.items() if f.subject == subject and f.auto]


def figure(name: str, tables: Any, lang: str = "en", ax=None, *, smoke: bool = False, **options: Any):
    """Draw the registered figure ``name`` from ``tables`` in ``lang`` (its axes' numbers too); ``options``
    it does not take are ignored (so one set, e.g. ``report_year=2030``, serves every figure of a
    subject); ``smoke`` stamps it "Smoke test, not for use"."""
    check_lang(lang)
    if name not in FIGURES:
        raise ConfigError(f"unknown figure {name!r}; known: {', '.join(FIGURES)}")
    draw = FIGURES[name].draw
    accepted = inspect.signature(draw).parameters
    fig = draw(tables, lang, ax, **{k: v for k, v in options.items() if k in accepted})
    localize(fig, lang)
    fit_texts(fig)
    if smoke:
        stamp_smoke(fig, lang)
    return fig


def write_figures(subject: str, tables: Any, out_dir: str | Path, lang: str = "en", *, smoke: bool = False,
                  **options: Any) -> list[Path]:
    """Every figure of ``subject`` that its tables allow, as ``out_dir/<name>_<lang>.pdf`` (vector) and
    ``.png`` (300 dpi) at print width; ``smoke`` stamps each "Smoke test, not for use" (a quick pack);
    returns the files."""
    check_lang(lang)
    if subject not in SUBJECTS:
        raise ValueError(f"unknown subject {subject!r}; known: {', '.join(SUBJECTS)}")
    paths: list[Path] = []
    for name in names(subject):
        if FIGURES[name].applies(tables):
            paths += save(figure(name, tables, lang, smoke=smoke, **options), Path(out_dir) / f"{name}_{lang}")
    return paths


__all__ = ["FIGURES", "Figure", "SUBJECTS", "LABELS", "LANGS", "SMOKE", "band", "check_lang", "display_name", "figure",
           "fmt", "has_name", "label", "localize", "names", "number", "output_label", "paper_style", "save", "stamp_smoke",
           "tick_formatter", "write_figures"]
