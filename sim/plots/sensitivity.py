"""Figures of a sensitivity analysis and of the sweeps behind the report: Sobol and Morris indices,
tornado, PRIM, the top drivers, and a two-parameter grid as a heatmap.

``tables`` has the analysis' tables under the names of its files (``indices``, ``tornado``,
``prim_boxes``, ``prim_trajectory``, ``summary``; :class:`sim.sensitivity.SensitivityResult`), or,
for :func:`fig_drivers`, ``drivers`` (output, rank, parameter, value, conf) and, for
:func:`fig_heatmap`, ``heatmap`` (cells x, y, value).
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from sim.plots.labels import display_name, fmt, label, output_label
from sim.plots.style import axes, paper_style, panels


def _number(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def fig_sobol(tables, lang: str = "en", ax=None):
    """S1 and ST per parameter with bootstrap confidence intervals, one panel per output."""
    indices = tables.indices
    sob = indices[(indices["method"] == "sobol") & indices["index"].isin(["S1", "ST"])]
    outputs = list(dict.fromkeys(sob["output"]))
    with paper_style() as plt:
        fig, axs = panels(plt, len(outputs), height=0.25 * sob["parameter"].nunique() + 1.0, ax=ax)
        for a, out in zip(axs, outputs):
            g = sob[sob["output"] == out]
            st = g[g["index"] == "ST"].set_index("parameter").sort_values("value")
            s1 = g[g["index"] == "S1"].set_index("parameter").reindex(st.index)
            y = np.arange(len(st))
            a.barh(y + 0.2, st["value"], 0.4, xerr=st["conf"], label=label("st_total", lang), color="C0",
                   error_kw={"lw": 0.8})
            a.barh(y - 0.2, s1["value"], 0.4, xerr=s1["conf"], label=label("s1_first", lang), color="C1",
                   error_kw={"lw": 0.8})
            a.set_yticks(y, [display_name(p, lang) for p in st.index])
            a.axvline(0, color="black", linewidth=0.6)
            a.grid(axis="x")
            a.set_title(output_label(out, lang), fontsize=8)
            a.set(xlabel=label("sobol_ci", lang))
        axs[0].legend(loc="lower right")
        if ax is None:
            pass  # constrained layout (the paper style)
    return fig


def fig_morris(tables, lang: str = "en", ax=None):
    """Morris mu* against sigma (with mu* confidence intervals), one panel per output."""
    mor = tables.indices[tables.indices["method"] == "morris"]
    outputs = list(dict.fromkeys(mor["output"]))
    with paper_style() as plt:
        fig, axs = panels(plt, len(outputs), height=3.2, ax=ax)
        for a, out in zip(axs, outputs):
            g = mor[mor["output"] == out].pivot_table(index="parameter", columns="index", values=["value", "conf"])
            a.errorbar(g[("value", "mu_star")], g[("value", "sigma")], xerr=g[("conf", "mu_star")], fmt="o",
                       markersize=3, color="C0", elinewidth=0.8)
            for p, row in g.iterrows():
                a.annotate(display_name(p, lang), (row[("value", "mu_star")], row[("value", "sigma")]), fontsize=6,
                           xytext=(3, 2), textcoords="offset points")
            a.set_title(output_label(out, lang), fontsize=8)
            a.set(xlabel=label("mu_star_x", lang), ylabel=label("sigma", lang))
            a.set_xlim(left=0)
            a.set_ylim(bottom=0)
        if ax is None:
            pass  # constrained layout (the paper style)
    return fig


def fig_tornado(tables, lang: str = "en", ax=None):
    """One-at-a-time swings around the base scenario: bars from the low- to the high-bound output."""
    tornado = tables.tornado
    outputs = list(dict.fromkeys(tornado["output"]))
    with paper_style() as plt:
        fig, axs = panels(plt, len(outputs), height=0.25 * tornado["parameter"].nunique() + 1.0, ax=ax)
        for a, out in zip(axs, outputs):
            g = tornado[tornado["output"] == out].sort_values("swing")
            y, base = np.arange(len(g)), g["y_base"].iloc[0]
            a.barh(y, g["y_low"] - base, left=base, color="C0", label=label("at_low", lang))
            a.barh(y, g["y_high"] - base, left=base, color="C1", label=label("at_high", lang), alpha=0.8)
            a.axvline(base, color="black", linewidth=0.8)
            a.set_yticks(y, [display_name(p, lang) for p in g["parameter"]])
            a.grid(axis="x")
            a.set_title(output_label(out, lang), fontsize=8)
            a.set(xlabel=label("tornado_x", lang, base=f"{base:.3g}"))
        axs[0].legend(loc="lower right")
        if ax is None:
            pass  # constrained layout (the paper style)
    return fig


def fig_prim(tables, lang: str = "en", ax=None):
    """PRIM: the peeling trajectory (coverage against density) and the chosen box's lever limits (two Axes)."""
    boxes, trajectory = tables.prim_boxes, tables.prim_trajectory
    target = (getattr(tables, "summary", None) or {}).get("target") or ""
    with paper_style() as plt:
        fig, (a, b) = axes(plt, ax, 2, figsize=(9.2, 3.4))
        sc = a.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis", s=12)
        ch = trajectory[trajectory["chosen"]]
        a.scatter(ch["coverage"], ch["density"], s=80, facecolors="none", edgecolors="C3", label=label("chosen_box", lang))
        fig.colorbar(sc, ax=a, label=label("restricted_levers", lang))
        a.set(xlabel=label("coverage", lang), ylabel=label("density", lang), xlim=(0, 1.02), ylim=(0, 1.02),
              title=label("prim_title", lang, target=target))
        a.legend(loc="lower left")
        sel = boxes[boxes["chosen"]].reset_index(drop=True)
        span = (sel["range_high"] - sel["range_low"]).replace(0, 1)
        lo, hi = (sel["low"] - sel["range_low"]) / span, (sel["high"] - sel["range_low"]) / span
        y = np.arange(len(sel))
        b.barh(y, np.ones(len(sel)), color="#e6e6e6")
        b.barh(y, hi - lo, left=lo, color=["C0" if r else "#bbbbbb" for r in sel["restricted"]])
        for i, r in sel.iterrows():
            b.text(1.02, i, f"{_number(r['low'])} - {_number(r['high'])}", va="center", fontsize=7)
        b.set_yticks(y, [display_name(p, lang) for p in sel["parameter"]])
        b.set(xlim=(0, 1.45), xlabel=label("share_of_range", lang), title=label("box_title", lang))
        b.grid(axis="x")
        if ax is None:
            pass  # constrained layout (the paper style)
    return fig


def fig_drivers(tables, lang: str = "en", ax=None, *, method: str = "sobol"):
    """The top parameters per output by ST (Sobol) or mu* (Morris), with confidence half-widths."""
    top = tables.drivers
    outputs = list(dict.fromkeys(top["output"]))
    k = int(top.groupby("output").size().max()) if len(top) else 1
    with paper_style() as plt:
        cols = min(2, len(outputs))
        rows = -(-len(outputs) // cols)
        if ax is None:
            fig, grid = plt.subplots(rows, cols, figsize=(4.8 * cols, 0.35 * k * rows + 1.2 * rows), squeeze=False)
            for a in grid.flat[len(outputs):]:
                a.set_visible(False)
            axs = list(grid.flat)
        else:
            fig, axs = axes(plt, ax, len(outputs))
        for a, out in zip(axs, outputs):
            g = top[top["output"] == out].sort_values("rank", ascending=False)
            a.barh(np.arange(len(g)), g["value"], xerr=g["conf"].fillna(0), color="C0", error_kw={"lw": 0.8})
            a.set_yticks(np.arange(len(g)), [display_name(p, lang) for p in g["parameter"]])
            a.set(title=textwrap.fill(output_label(out, lang), 32), xlabel=label(method, lang))
            a.grid(axis="x")
        fig.suptitle(label("drivers_title", lang))
        if ax is None:
            pass  # constrained layout (the paper style)
    return fig


def fig_heatmap(tables, lang: str = "en", ax=None, *, x_key: str, y_key: str, output: str,
                mark: tuple[float, float] | None = None):
    """A grid of cell values (x, y, value; ``output`` a summary column, e.g. ``share_gps_2030``) as a colour
    map with each value written in its cell (per cent); ``mark`` outlines the cell at (x, y)."""
    cells: pd.DataFrame = tables.heatmap
    grid = cells.pivot(index="y", columns="x", values="value").sort_index()
    values = grid.to_numpy()
    top = max(float(np.nanmax(values)), 1e-9)
    with paper_style() as plt:
        fig, (ax,) = axes(plt, ax, figsize=(6.4, 4.6))
        im = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=top)
        for (i, j), v in np.ndenumerate(values):
            ax.text(j, i, fmt(v, "pct", lang), ha="center", va="center", fontsize=7,
                    color="white" if v < 0.6 * np.nanmax(values) else "black")
        ax.set_xticks(range(grid.shape[1]), [fmt(v, "num", lang) for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [fmt(v, "num", lang) for v in grid.index])
        if mark is not None and mark[0] in grid.columns and mark[1] in grid.index:
            ax.add_patch(plt.Rectangle((list(grid.columns).index(mark[0]) - 0.5, list(grid.index).index(mark[1]) - 0.5),
                                       1, 1, fill=False, edgecolor="red", linewidth=1.5))
        ax.set(xlabel=label(x_key, lang), ylabel=label(y_key, lang),
               title=f"{output_label(output, lang)} ({label('heat_mean', lang)})")
        ax.grid(False)
        fig.colorbar(im, ax=ax, label=output_label(output, lang, when=False))
    return fig


def fig_profile(tables, lang: str = "en", ax=None, profile_output: str | None = None):
    """An output (``profile_output``, default: the profile's first) against each parameter over its range, one panel per
    parameter (:mod:`sim.sensitivity.profile`): the mean over seeds, the 10-90% band, every seed's
    extremes, the base value dotted. ``tables.profile``: the profile table."""
    prof = tables.profile
    output = profile_output or prof["output"].iloc[0]
    g = prof[prof["output"] == output]
    params = list(dict.fromkeys(g["parameter"]))
    with paper_style() as plt:
        fig, axs = panels(plt, len(params), height=2.2, ax=ax)
        for a, key in zip(axs, params):
            p = g[g["parameter"] == key].sort_values("value")
            a.fill_between(p["value"], p["min"], p["max"], color="C0", alpha=0.12, linewidth=0,
                           label=label("profile_min_max", lang))
            a.fill_between(p["value"], p["p10"], p["p90"], color="C0", alpha=0.3, linewidth=0,
                           label=label("profile_p10_p90", lang))
            a.plot(p["value"], p["mean"], "o-", color="C0", markersize=3, label=label("profile_mean", lang))
            a.axvline(p["base_value"].iloc[0], color="black", linewidth=0.6, linestyle=":", label=label("profile_base", lang))
            a.set(xlabel=display_name(key, lang))
            a.grid(True)
        axs[0].set_ylabel(output_label(output, lang))
        axs[0].legend(loc="best", fontsize=6)
        if ax is None:
            pass  # constrained layout (the paper style)
    return fig
