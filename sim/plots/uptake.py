"""Figures of the uptake curve: each network metric against GP uptake, one line per recruitment order.

``tables`` has ``uptake_curve``, the tidy table of :func:`sim.uptake.uptake_curve` (columns order,
gp_share, seed and the metrics).
"""

from __future__ import annotations

from sim.plots.labels import label
from sim.plots.style import axes, paper_style

UPTAKE_METRICS = ("gain_realized", "one_record_coverage", "handover_same_record", "information_available")
"""The metrics drawn against GP uptake, one figure each (``uptake_<metric>``)."""


def fig_uptake(tables, lang: str = "en", ax=None, *, metric: str = "gain_realized"):
    """One line per recruitment order: the median over seeds (and parameter draws, if the table has a ``draw``
    column) of ``metric`` against gp_share, with their min-max band where there is more than one."""
    df = tables.uptake_curve
    if metric not in df.columns:
        raise ValueError(f"metric {metric!r} is not a column of the table")
    with paper_style() as plt:
        fig, (ax,) = axes(plt, ax)
        for order, g in df.groupby("order", sort=False):
            stats = g.groupby("gp_share")[metric].agg(["median", "min", "max"])
            (line,) = ax.plot(stats.index, stats["median"], marker="o", ms=3, label=label(order, lang))
            if g["seed"].nunique() > 1 or ("draw" in g and g["draw"].nunique() > 1):
                ax.fill_between(stats.index, stats["min"], stats["max"], color=line.get_color(), alpha=0.2, lw=0)
        ax.set(xlabel=label("uptake_x", lang), ylabel=label(metric, lang), title=label("uptake_title", lang),
               xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(loc="upper left")
    return fig


def fig_uptake_panels(tables, lang: str = "en", ax=None):
    """Gain realized and one-record coverage against GP uptake per recruitment order, side by side."""
    with paper_style() as plt:
        fig, (left, right) = axes(plt, ax, 2, figsize=(9.0, 3.6))
        fig_uptake(tables, lang, left, metric="gain_realized")
        fig_uptake(tables, lang, right, metric="one_record_coverage")
        right.get_legend().remove()
        if ax is None:
            pass  # constrained layout (the paper style)
    return fig
