"""Figure of the Bass validation: the simulated GP share against the closed form.

``tables`` has ``bass_curves``, the table of :func:`sim.validation.bass_validation`.
"""

from __future__ import annotations

from sim.plots.labels import label
from sim.plots.style import axes, legend_below, paper_style, size, wrap


def fig_bass(tables, lang: str = "en", ax=None):
    """Simulated mean cumulative GP share (band: 4 standard errors) against the Bass closed form F(t)."""
    df = tables.bass_curves
    with paper_style() as plt:
        fig, (a,) = axes(plt, ax, figsize=size(2.9))
        a.plot(df["t_years"], df["share_mean"], label=label("simulated_mean", lang, n=int(df["n_seeds"].iloc[0])))
        a.fill_between(df["t_years"], df["share_mean"] - 4 * df["share_se"], df["share_mean"] + 4 * df["share_se"],
                       alpha=0.2, linewidth=0)
        a.plot(df["t_years"], df["bass_cdf"], linestyle="--", color="black", label=label("bass_cdf", lang))
        a.set(xlabel=label("bass_x", lang), ylabel=label("bass_y", lang), ylim=(0, 1.02), title=wrap(label("bass_title", lang), 52))
        legend_below(fig, a, ax, ncol=1)
    return fig
