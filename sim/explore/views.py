"""The explorer's views: tidy tables and figures of a setting against its base under the same seeds.

Every function takes the tables of two runs (``RunResults`` of ``sim.api.run``: the setting and
the base scenario, both over the same replicate seeds, so a difference is the levers' effect and
not seed noise) and returns a DataFrame or a matplotlib Figure in the figures' style and words
(:mod:`sim.plots`). Bands are the 5-95% quantiles over seeds (seed noise only: the shipped
configs are not posterior draws). No model code: tables in, tables and figures out.
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pandas as pd

from sim.explore.text import t

from sim.plots import band, fmt, label, localize, paper_style
from sim.plots.uptake import fig_uptake

ACTORS = ("municipality", "gp_office", "gp")
BASE_STYLE = {"linestyle": "--", "linewidth": 1.0}


# --------------------------------------------------------------------------- numbers


def headline(res, year: int, kommune: str) -> dict[str, float]:
    """Median over seeds of GP uptake, gain realized and coverage (December of ``year``) and of the
    net cost per inhabitant of municipality ``kommune`` (kommunenummer) in ``year``."""
    s = res.summary
    cm = res.costs_municipality
    bill = cm[(cm["kommunenummer"] == kommune) & (cm["year"] == year)]["net_cost_nok_per_inhabitant"]
    return {
        "gp_uptake": float(s[f"share_gps_{year}"].median()),
        "gain": float(s[f"gain_realized_{year}"].median()),
        "coverage": float(s[f"one_record_coverage_{year}"].median()),
        "bill": float(bill.median()) if len(bill) else float("nan"),
    }


def format_headline(values: dict[str, float], lang: str) -> dict[str, str]:
    """The headline numbers as the page shows them: shares as percentages (one decimal), the bill in whole kroner."""
    return {k: fmt(v, "nok" if k == "bill" else "pct", lang) for k, v in values.items()}


def municipalities(res) -> pd.DataFrame:
    """kommunenummer and name of every municipality of a run, by name."""
    cm = res.costs_municipality
    return cm[["kommunenummer", "name"]].drop_duplicates().sort_values("name", ignore_index=True)


# --------------------------------------------------------------------------- tables


def band_text(res, lang: str) -> str:
    """What the bands are over: seeds only, or seeds x parameter draws where the run has draws."""
    n, k = res.summary["seed"].nunique(), res.config.run.draws
    return t("band_seeds", lang, n=n) if not k else t("band_draws", lang, n=n, k=k + 1)


def bill_by_year(res, kommune: str) -> pd.DataFrame:
    """One municipality's net cost per inhabitant by year: median, 5% and 95% over seeds."""
    cm = res.costs_municipality
    g = cm[cm["kommunenummer"] == kommune].groupby("year")["net_cost_nok_per_inhabitant"]
    return pd.DataFrame({"median": g.median(), "lo": g.quantile(0.05), "hi": g.quantile(0.95)}).reset_index()


def bills_ranked(res, base, year: int) -> pd.DataFrame:
    """Every municipality's median net cost per inhabitant in ``year`` (setting and base), ranked by the setting's."""
    def med(r):
        cm = r.costs_municipality
        return cm[cm["year"] == year].groupby(["kommunenummer", "name"])["net_cost_nok_per_inhabitant"].median()

    out = pd.DataFrame({"setting": med(res), "base": med(base)}).reset_index()
    return out.sort_values(["setting", "name"], ascending=[False, True], ignore_index=True)


def who_pays(res, base) -> pd.DataFrame:
    """Pays, gains and net (NPV, NOK million, median over seeds) per actor, setting and base side by side."""
    def med(r):
        return r.who_pays_who_gains.groupby("actor", sort=False)[["pays_npv_nok", "gains_npv_nok", "net_npv_nok"]].median() / 1e6

    a, b = med(res), med(base)
    out = a.add_suffix("_setting").join(b.add_suffix("_base"))
    out["net_change"] = out["net_npv_nok_setting"] - out["net_npv_nok_base"]
    return out.reset_index()


def gp_case(res) -> dict[str, float]:
    """The GP office business case over offices and seeds: median net NOK per GP per year, share of
    offices with a positive net, median payback (years) of joined offices, offices joined (median over seeds)."""
    gp = res.costs_gp
    joined = gp[gp["joined_month"] >= 0]
    return {
        "median_net": float(gp["money_join_nok_per_gp_year"].median()),
        "share_positive": float((gp["money_join_nok_per_gp_year"] > 0).mean()),
        "payback": float(joined["payback_years"].median()) if len(joined) else float("nan"),
        "joined": float(joined.groupby("seed").size().reindex(gp["seed"].unique(), fill_value=0).median()),
    }


def gp_case_table(res, base, lang: str) -> pd.DataFrame:
    """The GP business case of the setting and the base as display text (rows: measures)."""
    a, b = gp_case(res), gp_case(base)
    kinds = {"median_net": "nok", "share_positive": "pct", "payback": "idx", "joined": "int"}
    names = {"median_net": "gp_median_net", "share_positive": "gp_share_positive", "payback": "gp_payback",
             "joined": "gp_joined"}
    return pd.DataFrame({"": [t(names[k], lang) for k in kinds],
                         t("scenario_col", lang): [fmt(a[k], kind, lang) for k, kind in kinds.items()],
                         t("base_col", lang): [fmt(b[k], kind, lang) for k, kind in kinds.items()]})


# --------------------------------------------------------------------------- figures


def svg(fig) -> bytes:
    """The figure as SVG bytes, then closed (a long session keeps no figure open)."""

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    return buf.getvalue()


def fig_adoption(res, base, lang: str = "en"):
    """Share adopted over time for municipalities, GP offices and GPs: setting (median, band) and base (dashed)."""
    with paper_style() as plt:
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for key in ACTORS:
            sel = res.timeseries[(res.timeseries["level"] == "actor_type") & (res.timeseries["key"] == key)]
            line = band(ax, sel, "month", "share_adopted", label(key, lang))
            b = base.timeseries[(base.timeseries["level"] == "actor_type") & (base.timeseries["key"] == key)]
            med = b.groupby("month")["share_adopted"].median()
            ax.plot(med.index, med.to_numpy(), color=line.get_color(), **BASE_STYLE)
        ax.set(xlabel=label("month", lang), ylabel=label("share", lang), ylim=(0, 1.02),
               title=f"{label('adoption_title', lang)}")
        ax.legend(loc="upper left", title=t("against_base", lang), fontsize="small", title_fontsize="small")
        ax.annotate(band_text(res, lang), (0.99, 0.01), xycoords="axes fraction", ha="right", fontsize=6)
    localize(fig, lang)  # every number axis in lang: shares and kroner alike
    return fig


def fig_gain_coverage(res, base, uptake: pd.DataFrame | None, order: str, lang: str = "en"):
    """Left: gain realized and one-record coverage over time (setting with band, base dashed). Right: both
    against GP uptake, the months of the setting and base as trajectories, and the static curve of the
    chosen recruitment order (hospitals and municipalities on; ``onerecord uptake-curve``)."""
    with paper_style() as plt:
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.6, 3.6))
        for col in ("gain_realized", "one_record_coverage"):
            reg = res.timeseries[res.timeseries["level"] == "region"]
            line = band(ax, reg, "month", col, label(col, lang))
            b = base.timeseries[base.timeseries["level"] == "region"].groupby("month")[col].median()
            ax.plot(b.index, b.to_numpy(), color=line.get_color(), **BASE_STYLE)
            for r, style in ((res, {}), (base, BASE_STYLE)):
                m = r.timeseries[r.timeseries["level"] == "region"].groupby("month")[["share_gps", col]].median()
                ax2.plot(m["share_gps"], m[col], color=line.get_color(), **style)
        ax.set(xlabel=label("month", lang), ylabel=label("share_0_1", lang), ylim=(0, 1.02), title=label("coverage_title", lang))
        ax.legend(loc="upper left", fontsize="small")
        if uptake is not None and len(uptake):
            fig_uptake(SimpleNamespace(uptake_curve=uptake), lang, ax=ax2, metric="gain_realized")
            ax2.lines[-1].set(color="grey", label=t("uptake_curve", lang, order=label(order, lang)))
        ax2.set(xlabel=label("share_gps", lang), ylabel=label("share_0_1", lang), xlim=(0, 1), ylim=(0, 1.02),
                title=label("gain_title", lang))
        ax2.legend(loc="upper left", fontsize="small")
    localize(fig, lang)  # every number axis in lang: shares and kroner alike
    return fig


def fig_bill(res, base, kommune: str, name: str, year: int, lang: str = "en"):
    """Left: the picked municipality's net cost per inhabitant by year (setting: median and band; base: dashed).
    Right: all municipalities in ``year`` ranked by the setting (bars; base as dots), the picked one highlighted."""
    with paper_style() as plt:
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.6, 4.2), gridspec_kw={"width_ratios": [1, 1.4]})
        a, b = bill_by_year(res, kommune), bill_by_year(base, kommune)
        (line,) = ax.plot(a["year"], a["median"], marker="o", ms=3, label=t("this_setting", lang))
        ax.fill_between(a["year"], a["lo"], a["hi"], color=line.get_color(), alpha=0.2, linewidth=0)
        ax.plot(b["year"], b["median"], color="black", label=t("base_scenario", lang), **BASE_STYLE)
        ax.axhline(0, color="black", linewidth=0.5)
        ax.set(xlabel="", ylabel=label("nok_per_inhabitant", lang), title=t("bill_years", lang, name=name))
        ax.legend(fontsize="small")
        ranked = bills_ranked(res, base, year)
        y = np.arange(len(ranked))
        picked = (ranked["kommunenummer"] == kommune).to_numpy()
        ax2.barh(y, ranked["setting"], color=np.where(picked, "C5", "C0"), height=0.8)
        ax2.scatter(ranked["base"], y, s=3, color="black", zorder=3, label=t("base_scenario", lang))
        ax2.set_yticks(y, ranked["name"], fontsize=3.2)
        for tick, p in zip(ax2.get_yticklabels(), picked):
            if p:
                tick.set(fontsize=6, fontweight="bold", color="C5")
        ax2.invert_yaxis()
        ax2.set(xlabel=label("nok_per_inhabitant", lang), title=t("bill_ranked", lang, year=year))
        ax2.legend(fontsize="small", loc="lower right")
    localize(fig, lang)  # every number axis in lang: shares and kroner alike
    return fig


def fig_who_pays(res, base, lang: str = "en"):
    """Pays and gains (NPV, NOK million, median over seeds) per actor, setting bars and base markers."""
    w = who_pays(res, base)
    with paper_style() as plt:
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        x = np.arange(len(w))
        ax.bar(x - 0.2, w["pays_npv_nok_setting"], width=0.4, label=label("pays", lang), color="C3")
        ax.bar(x + 0.2, w["gains_npv_nok_setting"], width=0.4, label=label("gains", lang), color="C2")
        ax.scatter(x, w["net_npv_nok_setting"], color="black", zorder=3, s=14, label=label("net", lang))
        ax.scatter(x, w["net_npv_nok_base"], color="black", marker="x", zorder=3, s=14,
                   label=f"{label('net', lang)}, {t('base_scenario', lang)}")
        ax.set_xticks(x, [label(a, lang) for a in w["actor"]], fontsize="small")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set(ylabel=label("nok_million", lang), title=label("who_title", lang))
        ax.legend(fontsize="small")
    localize(fig, lang)  # every number axis in lang: shares and kroner alike
    return fig


def fig_gp_case(res, base, lang: str = "en"):
    """Distribution of net NOK per GP per year over offices and seeds: setting and base."""
    with paper_style() as plt:
        fig, ax = plt.subplots(figsize=(6.4, 3.2))
        a, b = res.costs_gp["money_join_nok_per_gp_year"], base.costs_gp["money_join_nok_per_gp_year"]
        bins = np.histogram_bin_edges(np.concatenate([a, b]), bins=40)
        ax.hist(a, bins=bins, alpha=0.6, label=t("this_setting", lang), color="C0")
        ax.hist(b, bins=bins, histtype="step", color="black", label=t("base_scenario", lang), linestyle="--")
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set(xlabel=t("gp_net", lang), ylabel=t("gp_offices", lang), title=t("view_gp", lang))
        ax.legend(fontsize="small")
    localize(fig, lang)  # every number axis in lang: shares and kroner alike
    return fig
