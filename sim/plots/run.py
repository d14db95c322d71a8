"""Figures of one run and of runs side by side: adoption, coverage, gain against uptake, scenarios compared.

``tables`` is a run's tables (:class:`sim.results.RunTables`, or anything with a ``timeseries``);
for :func:`fig_compare`, ``runs``: a mapping scenario name -> such tables.
"""

from __future__ import annotations

import pandas as pd

from sim.plots.labels import display_name, label
from sim.plots.style import axes, band, legend_below, paper_style, size, wrap

BANDS_AT_MOST = 2
"""fig_compare draws bands over time for up to this many scenarios; beyond, one 5-95% bar each at the end."""


def _region(ts: pd.DataFrame) -> pd.DataFrame:
    return ts[ts["level"] == "region"]


def fig_adoption(tables, lang: str = "en", ax=None):
    """Share adopted over time by actor type, median and 5-95% band over seeds."""
    ts = tables.timeseries
    with paper_style() as plt:
        fig, (a,) = axes(plt, ax, figsize=size(2.9))
        actors = ts[ts["level"] == "actor_type"]
        for key in ("hospital", "municipality", "gp_office", "gp"):
            band(a, actors[actors["key"] == key], "month", "share_adopted", label(key, lang))
        a.set(xlabel=label("month", lang), ylabel=label("share", lang), ylim=(0, 1.02),
              title=wrap(f"{label('adoption_title', lang)} ({label('median_band', lang)})", 52))
        legend_below(fig, a, ax)
    return fig


def fig_coverage(tables, lang: str = "en", ax=None):
    """One-record coverage, hand-overs in the same record and information available over time."""
    reg = _region(tables.timeseries)
    with paper_style() as plt:
        fig, (a,) = axes(plt, ax, figsize=size(2.9))
        for col in ("one_record_coverage", "handover_same_record", "information_available"):
            band(a, reg, "month", col, display_name(col, lang))
        a.set(xlabel=label("month", lang), ylabel=label("share_0_1", lang), ylim=(0, 1.02),
              title=wrap(f"{label('coverage_title', lang)} ({label('median_band', lang)})", 52))
        legend_below(fig, a, ax, ncol=1)
    return fig


def fig_gain_vs_uptake(tables, lang: str = "en", ax=None):
    """Gain realized against GP uptake (share of GPs), one line per seed, months as points in time."""
    reg = _region(tables.timeseries)
    with paper_style() as plt:
        fig, (a,) = axes(plt, ax, figsize=size(2.9))
        for i, (_, run) in enumerate(reg.groupby(["scenario", "seed"])):
            a.plot(run["share_gps"], run["gain_realized"], color="C0", alpha=0.5, linewidth=1,
                   label=display_name("gain_realized", lang) if i == 0 else None)
            a.plot(run["share_gps"], run["one_record_coverage"], color="C1", alpha=0.5, linewidth=1,
                   label=display_name("one_record_coverage", lang) if i == 0 else None)
        a.set(xlabel=display_name("share_gps", lang), ylabel=label("share_0_1", lang),
              xlim=(0, 1), ylim=(0, 1.02), title=label("gain_title", lang))
        legend_below(fig, a, ax, ncol=1)
    return fig


def fig_compare(tables, lang: str = "en", ax=None):
    """Scenarios side by side: GP uptake and one-record coverage over time (median, 5-95% band).

    ``tables.runs``: scenario name -> its run tables; ``ax``: two Axes."""
    with paper_style() as plt:
        fig, (left, right) = axes(plt, ax, 2, figsize=size(2.8, two_columns=True), sharex=True)
        n = len(tables.runs)
        bars = n > BANDS_AT_MOST  # more bands than that over each other are unreadable: bars at the end instead
        for i, (name, t) in enumerate(tables.runs.items()):
            reg = _region(t.timeseries)
            for a, col in ((left, "share_gps"), (right, "one_record_coverage")):
                band(a, reg, "month", col, display_name(name, lang), color=f"C{i}", bar_slot=(i, n) if bars else None)
        left.set(ylabel=display_name("share_gps", lang), xlabel=label("month", lang), ylim=(0, 1.02))
        right.set(ylabel=display_name("one_record_coverage", lang), xlabel=label("month", lang), ylim=(0, 1.02))
        legend_below(fig, left, ax, ncol=3, title=label("scenario", lang))
        fig.suptitle(wrap(f"{label('compare_title', lang)} ({label('median_bars' if bars else 'median_band', lang)})", 110))
    return fig
