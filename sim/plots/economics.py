"""Figures of the money: net cost per inhabitant by municipality (by name), a municipality's expected bill
against the others', its GP offices' break-even price, who pays and who gains, NPV by actor.

``tables`` is a run's tables (``costs_municipality``, ``who_pays_who_gains``) or a bill sheet
(:class:`sim.api.BillResult`: ``expected``, ``gp``); for
:func:`fig_net_by_actor`, ``nets``: a mapping scenario name -> net present value per actor (``net_npv_nok``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.plots.labels import display_name, label
from sim.plots.style import axes, legend_below, paper_style, size, wrap


def net_cost_per_inhabitant(costs: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and municipality: its net cost per inhabitant and year over the years it is live,
    median over runs (seed, draw); municipalities never live are left out. Columns scenario,
    kommunenummer, name, nok_per_inhabitant."""
    keys = ["scenario", "seed"] + (["draw"] if "draw" in costs else []) + ["kommunenummer", "name", "population"]
    per = costs.groupby(keys, sort=False).agg(net=("net_cost_nok", "sum"), years=("joined", "sum")).reset_index()
    per = per[per["years"] > 0]
    per["nok_per_inhabitant"] = per["net"] / per["years"] / per["population"]
    return per.groupby(["scenario", "kommunenummer", "name"], sort=False)["nok_per_inhabitant"].median().reset_index()


def _by_municipality(df: pd.DataFrame, value: str, lang: str, ax, highlight: str | None, what: str):
    """Municipalities sorted by ``value`` (the first scenario's order for every scenario), names on the axis."""
    scen = list(dict.fromkeys(df["scenario"]))
    names = dict(zip(df["kommunenummer"].astype(str), df["name"]))
    first = df[df["scenario"] == scen[0]].sort_values(value, ascending=False)
    order = list(first["kommunenummer"].astype(str))
    order += [k for k in dict.fromkeys(df["kommunenummer"].astype(str)) if k not in order]
    pos = {k: i for i, k in enumerate(order)}
    with paper_style() as plt:
        given = ax
        fig, (ax,) = axes(plt, ax, figsize=size(0.125 * len(order) + 1.5))
        for i, s in enumerate(scen):  # the first scenario (the order) hollow, on top (zorder)
            d = df[df["scenario"] == s]
            y = d["kommunenummer"].astype(str).map(pos).to_numpy()
            style = {"facecolors": "none", "edgecolors": "black", "s": 16, "linewidths": 0.7} if i == 0 else {"s": 7}
            ax.scatter(d[value], y, label=display_name(s, lang), zorder=3 + (i == 0), marker="os^Dv<>"[i % 7], **style)
        ax.set_yticks(range(len(order)), [names[k] for k in order])
        ax.set_ylim(len(order) - 0.3, -0.7)  # the largest on top
        key = next((k for k in order if k == str(highlight) or names[k].lower() == str(highlight).lower()), None) \
            if highlight is not None else None
        if key is not None:
            ax.axhspan(pos[key] - 0.5, pos[key] + 0.5, color="0.85", zorder=0)
            ax.get_yticklabels()[pos[key]].set_fontweight("bold")
        ax.set(xlabel=wrap(label("nok_per_inhabitant", lang), 48),
               title=wrap(label("by_municipality_title", lang, what=label(what, lang)), 48))
        ax.grid(axis="x", alpha=0.3)
        legend_below(fig, ax, given, ncol=2)
    return fig


def fig_cost_per_inhabitant(tables, lang: str = "en", ax=None, *, report_year: int | None = None,
                            highlight: str | None = None):
    """Net cost per inhabitant and year over its years live, per municipality by name, sorted by the first
    scenario, one order for every scenario (median over runs; never-live municipalities left out);
    ``highlight`` (a name or kommunenummer) is drawn bold with a band. ``report_year`` is not used: the
    figure averages over the years live (kept so callers may pass it)."""
    return _by_municipality(net_cost_per_inhabitant(tables.costs_municipality), "nok_per_inhabitant", lang, ax,
                            highlight, "run_bill")


def fig_bill_by_municipality(tables, lang: str = "en", ax=None, *, highlight: str | None = None):
    """Every municipality's expected bill if it joins (``tables.expected``: scenario, kommunenummer, name,
    expected_nok_per_inhabitant; the bill sheet's table), sorted by the first scenario, names on the axis,
    ``highlight`` drawn bold."""
    return _by_municipality(tables.expected, "expected_nok_per_inhabitant", lang, ax, highlight, "expected_bill")


def fig_gp_breakeven(tables, lang: str = "en", ax=None):
    """A municipality's GP offices (``tables.gp``, the bill sheet's table; the first scenario): the break-even
    licence price of each office against the scenario's licence."""
    g = tables.gp
    d = g[g["scenario"] == list(dict.fromkeys(g["scenario"]))[0]].sort_values("breakeven_licence_nok_per_gp_year")
    with paper_style() as plt:
        given = ax
        fig, (ax,) = axes(plt, ax, figsize=size(max(2.2, 0.16 * len(d) + 1.4)))
        y = np.arange(len(d))
        ax.barh(y, d["breakeven_licence_nok_per_gp_year"], color="C0")
        ax.axvline(float(d["licence_nok_per_gp_year"].iloc[0]) if len(d) else 0.0, color="C3", label=label("licence_in_scenario", lang))
        ax.set_yticks(y, [f"{int(i)} ({int(n)})" for i, n in zip(d["practice_idx"], d["n_gps"])])
        ax.set(xlabel=wrap(label("breakeven_x", lang), 48), ylabel=label("gp_office", lang),
               title=wrap(label("breakeven_title", lang), 48))
        ax.grid(axis="x")
        legend_below(fig, ax, given, ncol=1)
    return fig


def fig_who_pays(tables, lang: str = "en", ax=None):
    """Pays, gains and net per actor type (NPV in NOK million, median over runs), one row per actor."""
    who = tables.who_pays_who_gains
    pays, gains = ("pays_npv_nok", "gains_npv_nok") if "pays_npv_nok" in who else ("pays_nok", "gains_nok")
    med = who.groupby("actor", sort=False)[[pays, gains]].median() / 1e6
    with paper_style() as plt:
        given = ax
        fig, (ax,) = axes(plt, ax, figsize=size(0.35 * len(med) + 1.3))
        y = np.arange(len(med))
        ax.barh(y - 0.2, -med[pays], height=0.4, label=label("pays", lang), color="C3")
        ax.barh(y + 0.2, med[gains], height=0.4, label=label("gains", lang), color="C2")
        ax.scatter(med[gains] - med[pays], y, color="black", zorder=3, label=label("net", lang), s=12)
        ax.set_yticks(y, [display_name(a, lang) for a in med.index])
        ax.set_ylim(len(med) - 0.5, -0.5)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.grid(axis="x")
        ax.set(xlabel=label("nok_million", lang), title=wrap(label("who_title", lang), 52))
        legend_below(fig, ax, given, ncol=3)
    return fig


def fig_net_by_actor(tables, lang: str = "en", ax=None):
    """Net present value per actor (NOK million), one bar per scenario (financing split), one row per actor."""
    nets = tables.nets
    with paper_style() as plt:
        actors = list(next(iter(nets.values())).index)
        given = ax
        fig, (ax,) = axes(plt, ax, figsize=size(0.22 * len(actors) * len(nets) + 1.6))
        height = 0.8 / len(nets)
        for k, (name, df) in enumerate(nets.items()):
            ax.barh(np.arange(len(actors)) - 0.4 + height * (k + 0.5), df.reindex(actors)["net_npv_nok"] / 1e6,
                    height=height, label=display_name(name, lang))
        ax.set_yticks(np.arange(len(actors)), [display_name(a, lang) for a in actors])
        ax.set_ylim(len(actors) - 0.5, -0.5)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.grid(axis="x")
        ax.set(xlabel=label("nok_million", lang), title=wrap(label("net_title", lang), 52))
        legend_below(fig, ax, given, ncol=2, title=label("scenario", lang))
    return fig
