"""Figures of the uptake curve: each network metric against GP uptake, one line per recruitment order.

``tables`` has ``uptake_curve``, the tidy table of :func:`sim.uptake.uptake_curve` (columns order,
gp_share, seed and the metrics).
"""

from __future__ import annotations

from sim.plots.labels import display_name, label
from sim.plots.style import axes, paper_style, size, wrap

UPTAKE_METRICS = ("gain_realized", "one_record_coverage", "handover_same_record", "information_available")
"""The metrics drawn against GP uptake, one figure each (``uptake_<metric>``)."""


def fig_uptake(tables, lang: str = "en", ax=None, *, metric: str = "gain_realized"):
    """One line per recruitment order: the median over replicates (and parameter draws, if the table has a
    ``draw`` column) of ``metric`` against gp_share, with their min-max band where an order has more than one
    run (the seeded orders; the legend says over how many); deterministic orders are one run, a line."""
    from matplotlib.patches import Patch

    df = tables.uptake_curve
    if metric not in df.columns:
        raise ValueError(f"metric {metric!r} is not a column of the table")
    with paper_style() as plt:
        fig, (ax,) = axes(plt, ax, figsize=size(2.8))
        runs = 1
        for order, g in df.groupby("order", sort=False):
            stats = g.groupby("gp_share")[metric].agg(["median", "min", "max"])
            (line,) = ax.plot(stats.index, stats["median"], marker="o", label=display_name(order, lang))
            n = g.groupby(["seed", "draw"] if "draw" in g else ["seed"]).ngroups
            if n > 1:
                runs = max(runs, n)
                ax.fill_between(stats.index, stats["min"], stats["max"], color=line.get_color(), alpha=0.25, lw=0.4)
        handles, texts = ax.get_legend_handles_labels()
        if runs > 1:
            handles.append(Patch(color="0.6", alpha=0.5, lw=0))
            texts.append(label("uptake_band", lang, n=runs))
        ax.set(xlabel=wrap(label("uptake_x", lang), 52), ylabel=wrap(display_name(metric, lang), 40),
               title=label("uptake_title", lang), xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(handles, texts, loc="lower right")
    return fig


def fig_uptake_panels(tables, lang: str = "en", ax=None):
    """Gain realized and one-record coverage against GP uptake per recruitment order, side by side."""
    with paper_style() as plt:
        fig, (left, right) = axes(plt, ax, 2, figsize=size(2.8, two_columns=True))
        fig_uptake(tables, lang, left, metric="gain_realized")
        fig_uptake(tables, lang, right, metric="one_record_coverage")
        right.get_legend().remove()
    return fig
