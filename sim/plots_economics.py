"""Economics figures with municipality names: tables in, figures out (moves to sim/plots/economics.py
when the plots package lands).

Every figure is ``fig_x(tables, lang="en", ax=None, ...)``: ``tables`` a tidy DataFrame, ``lang`` nb | en.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SCENARIO_NAMES: dict[str, dict[str, str]] = {
    "nb": {"baseline": "Grunnlag (715 mill. som tilskudd)", "grant_as_loan": "715 mill. som lån", "ks_proposal": "KS' forslag (staten betaler halvparten)",
           "state_finances_half": "Staten betaler halvparten", "state_finances_all": "Staten betaler alt", "floor_key": "Innbyggernøkkel med gulv"},
    "en": {"baseline": "Baseline (715 m as a grant)", "grant_as_loan": "715 m as a loan", "ks_proposal": "KS's proposal (state pays half)",
           "state_finances_half": "State pays half", "state_finances_all": "State pays all", "floor_key": "Per-inhabitant key with a floor"},
}
"""Display names of the shipped financing scenarios."""

LABELS = {
    "en": {"x": "nok_per_inhabitant", "title": "{what}, sorted by the first scenario",
           "expected": "Expected bill if it joins", "run": "Net cost over its years live (median over runs)",
           "gp_x": "Break-even licence price (NOK per GP per year)", "gp_y": "GP offices", "gp_title": "Break-even licence price per GP office",
           "licence": "licence in the scenario"},
    "nb": {"x": "nok_per_inhabitant", "title": "{what}, sortert etter første scenario",
           "expected": "Forventet regning ved innføring", "run": "Nettokostnad over årene i bruk (median over kjøringer)",
           "gp_x": "Lisenspris som går i null (kr per lege per år)", "gp_y": "Fastlegekontor", "gp_title": "Lisenspris som går i null, per fastlegekontor",
           "licence": "lisens i scenarioet"},
}


def _fmt_axis(ax, lang: str, axis: str = "x") -> None:
    """Thousands separated by a thin space in nb, a comma in en (locale-independent)."""
    from matplotlib.ticker import FuncFormatter

    sep = "\u2009" if lang == "nb" else ","
    f = FuncFormatter(lambda v, _: f"{v:,.0f}".replace(",", sep))
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(f)


def net_cost_per_inhabitant(costs: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and municipality: its net cost per inhabitant and year over the years it is live,
    median over runs (seed, draw); municipalities never live are left out. Columns scenario,
    kommunenummer, name, nok_per_inhabitant."""
    keys = ["scenario", "seed"] + (["draw"] if "draw" in costs else []) + ["kommunenummer", "name", "population"]
    per = costs.groupby(keys, sort=False).agg(net=("net_cost_nok", "sum"), years=("joined", "sum")).reset_index()
    per = per[per["years"] > 0]
    per["nok_per_inhabitant"] = per["net"] / per["years"] / per["population"]
    return per.groupby(["scenario", "kommunenummer", "name"], sort=False)["nok_per_inhabitant"].median().reset_index()


def fig_cost_by_municipality(tables: pd.DataFrame, lang: str = "en", ax=None, highlight: str | None = None,
                             what: str = "expected", value: str = "nok_per_inhabitant"):
    """The municipalities sorted by cost per inhabitant, names on the axis, one dot per scenario.

    ``tables``: scenario, kommunenummer, name and nok_per_inhabitant (e.g. the BillResult's ``expected``
    table, or :func:`net_cost_per_inhabitant` of a run's costs). One municipality order for every
    scenario: the first scenario's, cheapest at the top. ``highlight``: a name or kommunenummer drawn
    bold with a band across. ``what``: "expected" or "run" (the title); ``value``: the column plotted.
    """
    from sim.plots import label, paper_style

    lab = LABELS[lang]
    scen = list(dict.fromkeys(tables["scenario"]))
    first = tables[tables["scenario"] == scen[0]].sort_values(value, ascending=False)
    order = list(first["kommunenummer"].astype(str))
    names = dict(zip(tables["kommunenummer"].astype(str), tables["name"]))
    order += [k for k in dict.fromkeys(tables["kommunenummer"].astype(str)) if k not in order]
    pos = {k: i for i, k in enumerate(order)}
    with paper_style() as plt:
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.4, max(4.0, 0.16 * len(order) + 1.2)))
        else:
            fig = ax.figure
        for i, s in reversed(list(enumerate(scen))):  # the first scenario (the order) on top, hollow
            d = tables[tables["scenario"] == s]
            y = d["kommunenummer"].astype(str).map(pos).to_numpy()
            style = {"facecolors": "none", "edgecolors": "black", "s": 22, "linewidths": 0.8} if i == 0 else {"s": 10}
            ax.scatter(d[value], y, label=_scenario_label(s, lang), zorder=3 + (i == 0), marker="os^Dv<>"[i % 7], **style)
        ax.set_yticks(range(len(order)), [names[k] for k in order], fontsize=6)
        ax.set_ylim(-0.7, len(order) - 0.3)
        _fmt_axis(ax, lang)
        if highlight is not None:
            key = next((k for k in order if k == str(highlight) or names[k].lower() == str(highlight).lower()), None)
            if key is not None:
                ax.axhspan(pos[key] - 0.5, pos[key] + 0.5, color="0.85", zorder=0)
                ax.get_yticklabels()[pos[key]].set_fontweight("bold")
        ax.set(xlabel=label(lab["x"], lang), title=lab["title"].format(what=lab[what]))
        ax.grid(axis="x", alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], labels[::-1], fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.06 * 14 / max(14, len(order) / 4)),
                  ncol=2, frameon=False)
        fig.tight_layout()
    return fig


def fig_gp_breakeven(tables: pd.DataFrame, lang: str = "en", ax=None):
    """GP offices of a municipality: break-even licence price per office (median, 5-95 % band of the net money
    over runs shifted by the licence), one row per office, the scenario's licence as a line.

    ``tables``: the BillResult's ``gp`` table (scenario, practice_idx, n_gps, breakeven_licence_nok_per_gp_year,
    licence_nok_per_gp_year); the first scenario's offices."""
    from sim.plots import paper_style

    lab = LABELS[lang]
    scen = list(dict.fromkeys(tables["scenario"]))[0]
    d = tables[tables["scenario"] == scen].sort_values("breakeven_licence_nok_per_gp_year")
    with paper_style() as plt:
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.4, max(2.5, 0.25 * len(d) + 1.2)))
        else:
            fig = ax.figure
        y = np.arange(len(d))
        ax.barh(y, d["breakeven_licence_nok_per_gp_year"], color="C0")
        ax.axvline(float(d["licence_nok_per_gp_year"].iloc[0]) if len(d) else 0.0, color="C3", label=lab["licence"])
        ax.set_yticks(y, [f"{int(i)} ({int(n)})" for i, n in zip(d["practice_idx"], d["n_gps"])], fontsize=7)
        _fmt_axis(ax, lang)
        ax.set(xlabel=lab["gp_x"], ylabel=lab["gp_y"], title=lab["gp_title"])
        ax.legend(fontsize=7)
        fig.tight_layout()
    return fig


def _scenario_label(s: str, lang: str) -> str:
    return SCENARIO_NAMES[lang].get(s, s)
