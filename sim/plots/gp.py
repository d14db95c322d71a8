"""Figures of the GP office's choice (#19): the break-even licence price over offices, and GP uptake
over the licence price and the subsidy.

``tables`` has ``costs_gp`` (:func:`fig_break_even`, a run's tables) or ``gp_levers``
(:func:`fig_gp_levers`, the table of :func:`sim.api.gp_uptake_over_levers`).
"""

from __future__ import annotations

import numpy as np

from sim.plots.labels import display_name, label
from sim.plots.style import axes, band, paper_style, size, wrap


def fig_break_even(tables, lang: str = "en", ax=None):
    """Distribution over offices (GP-weighted, all seeds) of the break-even licence price per scenario, with the
    scenario's licence price as a dotted line: offices left of it lose money by joining."""
    cg = tables.costs_gp
    with paper_style() as plt:
        fig, (ax,) = axes(plt, ax)
        for scen, g in cg.groupby("scenario", sort=False):
            g = g.sort_values("break_even_licence_nok_per_gp_year", kind="stable")
            w = g["n_gps"].to_numpy(dtype=float)
            (line,) = ax.step(g["break_even_licence_nok_per_gp_year"] / 1000, np.cumsum(w) / w.sum(), where="post",
                              label=display_name(scen, lang))
            ax.axvline(g["licence_nok_per_gp_year"].iloc[0] / 1000, color=line.get_color(), linestyle=":", linewidth=1)
        ax.set(xlabel=wrap(label("break_even_x", lang), 50), ylabel=label("share_gps_cum", lang), ylim=(0, 1.02),
               title=wrap(label("break_even_title", lang), 52))
        ax.legend(title=label("scenario", lang), loc="lower right")
    return fig


def fig_gp_levers(tables, lang: str = "en", ax=None):
    """GP uptake against the licence price and against the subsidy: median and 5-95% band over seeds, at the
    report year and at the end of the horizon (two panels)."""
    df = tables.gp_levers
    year_col = next(c for c in df.columns if c.startswith("share_gps_") and c[len("share_gps_"):].isdigit())
    with paper_style() as plt:
        fig, axs = axes(plt, ax, n=2, figsize=size(2.6, two_columns=True), sharey=True)
        for a, lever in zip(axs, ("licence", "subsidy")):
            sel = df[df["lever"] == lever].assign(value_knok=lambda d: d["value_nok_per_gp_year"] / 1000)
            for col, text in ((year_col, year_col[len("share_gps_"):]), ("share_gps_end", label("end", lang))):
                if len(sel):
                    band(a, sel, "value_knok", col, text)
            a.set(xlabel=label(f"{lever}_knok", lang), ylim=(0, 1.02))
            a.legend(loc="upper left")
        axs[0].set(ylabel=display_name("share_gps", lang))
        fig.suptitle(wrap(f"{label('levers_title', lang)} ({label('median_band', lang)})", 110))
    return fig
