"""Figures of the money: net cost per inhabitant by municipality, who pays and who gains, NPV by actor.

``tables`` is a run's tables (``costs_municipality``, ``who_pays_who_gains``); for
:func:`fig_net_by_actor`, ``nets``: a mapping scenario name -> net present value per actor (``net_npv_nok``).
"""

from __future__ import annotations

import numpy as np

from sim.plots.labels import label
from sim.plots.style import axes, paper_style


def fig_cost_per_inhabitant(tables, lang: str = "en", ax=None, *, report_year: int | None = None):
    """Net platform cost per inhabitant per municipality in ``report_year`` (default: the last year), sorted, one line
    per scenario (the median over seeds)."""
    costs = tables.costs_municipality
    cm = costs[costs["joined"].astype(bool)] if "joined" in costs else costs
    year = int(report_year if report_year is not None else cm["year"].max())
    sel = cm[cm["year"] == year]
    med = sel.groupby(["scenario", "kommunenummer"])["net_cost_nok_per_inhabitant"].median().reset_index()
    with paper_style() as plt:
        fig, (ax,) = axes(plt, ax, figsize=(6.4, 4.2))
        for scen, grp in med.groupby("scenario", sort=False):
            vals = np.sort(grp["net_cost_nok_per_inhabitant"].to_numpy())
            ax.plot(np.arange(1, len(vals) + 1), vals, marker="o", markersize=2.5, linewidth=1, label=label(scen, lang))
        ax.set(xlabel=label("municipalities_sorted", lang), ylabel=label("nok_per_inhabitant", lang),
               title=label("cost_title", lang, year=year))
        ax.legend(title=label("scenario", lang))
    return fig


def fig_who_pays(tables, lang: str = "en", ax=None):
    """Pays, gains and net per actor type (NPV in NOK million, median over seeds)."""
    who = tables.who_pays_who_gains
    pays, gains = ("pays_npv_nok", "gains_npv_nok") if "pays_npv_nok" in who else ("pays_nok", "gains_nok")
    med = who.groupby("actor", sort=False)[[pays, gains]].median() / 1e6
    with paper_style() as plt:
        fig, (ax,) = axes(plt, ax)
        x = np.arange(len(med))
        ax.bar(x - 0.2, med[pays], width=0.4, label=label("pays", lang), color="C3")
        ax.bar(x + 0.2, med[gains], width=0.4, label=label("gains", lang), color="C2")
        ax.scatter(x, med[gains] - med[pays], color="black", zorder=3, label=label("net", lang), s=14)
        ax.set_xticks(x, [label(a, lang) for a in med.index])
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set(ylabel=label("nok_million", lang), title=label("who_title", lang))
        ax.legend()
    return fig


def fig_net_by_actor(tables, lang: str = "en", ax=None):
    """Net present value per actor (NOK million), one bar per scenario (financing split)."""
    nets = tables.nets
    with paper_style() as plt:
        fig, (ax,) = axes(plt, ax, figsize=(6.4, 3.8))
        actors = list(next(iter(nets.values())).index)
        width = 0.8 / len(nets)
        for k, (name, df) in enumerate(nets.items()):
            ax.bar(np.arange(len(actors)) - 0.4 + width * (k + 0.5), df.reindex(actors)["net_npv_nok"] / 1e6,
                   width=width, label=label(name, lang))
        ax.set_xticks(np.arange(len(actors)), [label(a, lang) for a in actors])
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set(ylabel=label("nok_million", lang), title=label("net_title", lang))
        ax.legend(title=label("scenario", lang))
    return fig
