"""Figures of a sensitivity analysis and of the sweeps behind the report: Sobol and Morris indices,
tornado, PRIM, the top drivers, and a two-parameter grid as a heatmap.

``tables`` has the analysis' tables under the names of its files (``indices``, ``tornado``,
``prim_boxes``, ``prim_trajectory``, ``summary``; :class:`sim.sensitivity.SensitivityResult`), or,
for :func:`fig_drivers`, ``drivers`` (output, rank, parameter, value, conf) and, for
:func:`fig_heatmap`, ``heatmap`` (cells x, y, value).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sim.plots.labels import display_name, fmt, label, output_label, tick_formatter
from sim.plots.style import axes, legend_below, paper_style, panels, size, wrap


def _panel_title(a, out: str, lang: str) -> None:
    a.set_title(wrap(output_label(out, lang), 46))


TOP_BARS = 10
"""At most this many parameters per panel of a bar chart (the largest); the tables hold them all."""


def _bar_labels(keys, lang: str) -> list[str]:
    return [wrap(display_name(k, lang), 36) for k in keys]


def _bar_height(labels: list[list[str]]) -> float:
    """Inches per panel row of bar charts with these y labels (per panel): room for each label's lines at 7 pt."""
    lines = max((t.count("\n") + 1 for ls in labels for t in ls), default=1)
    bars = max((len(ls) for ls in labels), default=1)
    return bars * (0.05 + 0.125 * lines) + 1.0


def _shown(n_shown: int, n_all: int, lang: str, xlabel: str) -> str:
    """``xlabel``, with "(the k largest of n)" when a panel leaves parameters out."""
    return xlabel if n_shown >= n_all else f"{xlabel}\n{label('largest_shown', lang, k=n_shown, n=n_all)}"


def fig_sobol(tables, lang: str = "en", ax=None):
    """S1 and ST per parameter with bootstrap confidence intervals, one panel per output (the
    :data:`TOP_BARS` largest ST of each)."""
    indices = tables.indices
    sob = indices[(indices["method"] == "sobol") & indices["index"].isin(["S1", "ST"])]
    outputs = list(dict.fromkeys(sob["output"]))
    tops = {}
    for out in outputs:
        g = sob[sob["output"] == out]
        tops[out] = g[g["index"] == "ST"].set_index("parameter").sort_values("value").tail(TOP_BARS)
    labels = {out: _bar_labels(st.index, lang) for out, st in tops.items()}
    with paper_style() as plt:
        fig, axs = panels(plt, len(outputs), height=_bar_height(list(labels.values())), ax=ax)
        for a, out in zip(axs, outputs):
            g = sob[sob["output"] == out]
            st = tops[out]
            s1 = g[g["index"] == "S1"].set_index("parameter").reindex(st.index)
            y = np.arange(len(st))
            a.barh(y + 0.2, st["value"], 0.4, xerr=st["conf"], label=label("st_total", lang), color="C0",
                   error_kw={"lw": 0.6})
            a.barh(y - 0.2, s1["value"], 0.4, xerr=s1["conf"], label=label("s1_first", lang), color="C1",
                   error_kw={"lw": 0.6})
            a.set_yticks(y, labels[out])
            a.axvline(0, color="black", linewidth=0.6)
            a.grid(axis="x")
            _panel_title(a, out, lang)
            a.set(xlabel=_shown(len(st), g["parameter"].nunique(), lang, label("sobol_ci", lang)))
        legend_below(fig, axs[0], ax, ncol=2)
    return fig


MORRIS_NAMED = 6
"""At most this many Morris points are named (the largest mu*), each where its name fits."""


def _label_points(a, xs, ys, texts, n: int = MORRIS_NAMED) -> None:
    """Name the ``n`` points with the largest x, each beside its point where the name fits inside the axes
    without covering a name already placed; the figure's layout is final by then (frozen), so the names
    stay where they were checked."""
    fig = a.figure
    renderer = fig.canvas.get_renderer()
    placed = []
    offsets = ((3, 2, "left", "bottom"), (3, -2, "left", "top"), (-3, 2, "right", "bottom"), (-3, -2, "right", "top"))
    for x, y, text in sorted(zip(xs, ys, texts), key=lambda r: -r[0])[:n]:
        for dx, dy, ha, va in offsets:
            t = a.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va)
            bb = t.get_window_extent(renderer)
            inside = a.bbox.x0 <= bb.x0 and bb.x1 <= a.bbox.x1 and a.bbox.y0 <= bb.y0 and bb.y1 <= a.bbox.y1
            if inside and not any(bb.overlaps(p) for p in placed):
                placed.append(bb)
                break
            t.remove()


def fig_morris(tables, lang: str = "en", ax=None):
    """Morris mu* against sigma (with mu* confidence intervals), one panel per output; the
    :data:`MORRIS_NAMED` points of largest mu* named where the name fits (the table has them all)."""
    mor = tables.indices[tables.indices["method"] == "morris"]
    outputs = list(dict.fromkeys(mor["output"]))
    with paper_style() as plt:
        fig, axs = panels(plt, len(outputs), height=2.6, ax=ax)
        for a, out in zip(axs, outputs):
            g = mor[mor["output"] == out].pivot_table(index="parameter", columns="index", values=["value", "conf"])
            a.errorbar(g[("value", "mu_star")], g[("value", "sigma")], xerr=g[("conf", "mu_star")], fmt="o",
                       markersize=3, color="C0", elinewidth=0.6)
            _panel_title(a, out, lang)
            xlabel = label("mu_star_x", lang)
            a.set(xlabel=xlabel if len(g) <= MORRIS_NAMED else f"{xlabel}\n{label('largest_named', lang, k=MORRIS_NAMED)}",
                  ylabel=label("sigma", lang))
            a.set_xlim(0, 1.05 * float((g[("value", "mu_star")] + g[("conf", "mu_star")]).max() or 1))
            a.set_ylim(0, 1.15 * float(g[("value", "sigma")].max() or 1))
        fig.canvas.draw()  # the layout, then frozen: the names are placed in the final axes
        if ax is None:
            fig.set_layout_engine("none")
        for a, out in zip(axs, outputs):
            g = mor[mor["output"] == out].pivot_table(index="parameter", columns="index", values="value")
            _label_points(a, g["mu_star"], g["sigma"], [display_name(p, lang) for p in g.index])
    return fig


def fig_tornado(tables, lang: str = "en", ax=None):
    """One-at-a-time swings around the base scenario: bars from the low- to the high-bound output (the
    :data:`TOP_BARS` largest swings of each output)."""
    tornado = tables.tornado
    outputs = list(dict.fromkeys(tornado["output"]))
    tops = {out: tornado[tornado["output"] == out].sort_values("swing").tail(TOP_BARS) for out in outputs}
    labels = {out: _bar_labels(g["parameter"], lang) for out, g in tops.items()}
    with paper_style() as plt:
        fig, axs = panels(plt, len(outputs), height=_bar_height(list(labels.values())), ax=ax)
        for a, out in zip(axs, outputs):
            g = tops[out]
            y, base = np.arange(len(g)), g["y_base"].iloc[0]
            a.barh(y, g["y_low"] - base, left=base, color="C0", label=label("at_low", lang))
            a.barh(y, g["y_high"] - base, left=base, color="C1", label=label("at_high", lang), alpha=0.8)
            a.axvline(base, color="black", linewidth=0.8)
            a.set_yticks(y, labels[out])
            a.grid(axis="x")
            _panel_title(a, out, lang)
            n_all = int((tornado["output"] == out).sum())
            a.set(xlabel=_shown(len(g), n_all, lang, label("tornado_x", lang, base=fmt(base, "num", lang))))
        legend_below(fig, axs[0], ax, ncol=2)
    return fig


def fig_prim(tables, lang: str = "en", ax=None):
    """PRIM: the peeling trajectory (coverage against density) and the chosen box's lever limits (two Axes)."""
    boxes, trajectory = tables.prim_boxes, tables.prim_trajectory
    target = (getattr(tables, "summary", None) or {}).get("target") or ""
    m = re_target(target)
    ops = {">=": "≥", "<=": "≤"}
    target = f"{output_label(m[0], lang)} {ops.get(m[1], m[1])} {fmt(float(m[2]), 'num', lang)}" if m else target
    with paper_style() as plt:
        fig, (a, b) = axes(plt, ax, 2, figsize=size(2.8, two_columns=True), width_ratios=[1, 1.3])
        sc = a.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis", s=10)
        ch = trajectory[trajectory["chosen"]]
        a.scatter(ch["coverage"], ch["density"], s=60, facecolors="none", edgecolors="C3", label=label("chosen_box", lang))
        fig.colorbar(sc, ax=a, label=wrap(label("restricted_levers", lang), 24))
        a.set(xlabel=label("coverage", lang), ylabel=label("density", lang), xlim=(0, 1.02), ylim=(0, 1.02),
              title=wrap(label("prim_title", lang, target=target), 44))
        a.legend(loc="lower left")
        sel = boxes[boxes["chosen"]].reset_index(drop=True)
        span = (sel["range_high"] - sel["range_low"]).replace(0, 1)
        lo, hi = (sel["low"] - sel["range_low"]) / span, (sel["high"] - sel["range_low"]) / span
        y = np.arange(len(sel))
        b.barh(y, np.ones(len(sel)), color="#e6e6e6")
        b.barh(y, hi - lo, left=lo, color=["C0" if r else "#bbbbbb" for r in sel["restricted"]])
        for i, r in sel.iterrows():
            b.text(1.03, i, f"{fmt(r['low'], 'num', lang)} – {fmt(r['high'], 'num', lang)}", va="center")
        b.set_yticks(y, [wrap(display_name(p, lang), 30) for p in sel["parameter"]])
        b.set(xlim=(0, 1.6), xlabel=label("share_of_range", lang), title=wrap(label("box_title", lang), 44))
        b.set_xticks([0, 0.5, 1])
        b.grid(axis="x")
    return fig


def re_target(target: str):
    """(output, operator, value) of a PRIM target such as ``share_gps_2030 >= 0.5``, or None."""
    m = re.fullmatch(r"\s*(\w+)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*", target)
    return m.groups() if m else None


def fig_drivers(tables, lang: str = "en", ax=None, *, method: str = "sobol"):
    """The top parameters per output by ST (Sobol) or mu* (Morris), with confidence half-widths."""
    top = tables.drivers
    outputs = list(dict.fromkeys(top["output"]))
    with paper_style() as plt:
        groups = {out: top[top["output"] == out].sort_values("rank", ascending=False) for out in outputs}
        labels = {out: _bar_labels(g["parameter"], lang) for out, g in groups.items()}
        fig, axs = panels(plt, len(outputs), height=_bar_height(list(labels.values())) - 0.2, ax=ax)
        for a, out in zip(axs, outputs):
            g = groups[out]
            a.barh(np.arange(len(g)), g["value"], xerr=g["conf"].fillna(0), color="C0", error_kw={"lw": 0.6})
            a.set_yticks(np.arange(len(g)), labels[out])
            _panel_title(a, out, lang)
            a.set(xlabel=label(method, lang))
            a.grid(axis="x")
        if ax is None:
            fig.suptitle(label("drivers_title", lang))
    return fig


def fig_heatmap(tables, lang: str = "en", ax=None, *, x_key: str, y_key: str, output: str,
                mark: tuple[float, float] | None = None):
    """A grid of cell values (x, y, value; ``output`` a summary column, e.g. ``share_gps_2030``) as a colour
    map with each value written in its cell (per cent); ``mark`` (the scenario's own x, y) is drawn as a
    point where it lies (between levels too), and its cell outlined when it is on the grid."""
    cells: pd.DataFrame = tables.heatmap
    grid = cells.pivot(index="y", columns="x", values="value").sort_index()
    values = grid.to_numpy()
    top = max(float(np.nanmax(values)), 1e-9)
    with paper_style() as plt:
        fig, (ax,) = axes(plt, ax, figsize=size(3.6, two_columns=True))
        im = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=top)
        for (i, j), v in np.ndenumerate(values):
            ax.text(j, i, fmt(v, "pct", lang), ha="center", va="center", fontsize=7,
                    color="white" if v < 0.6 * np.nanmax(values) else "black")
        ax.set_xticks(range(grid.shape[1]), [fmt(v, "num", lang) for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [fmt(v, "num", lang) for v in grid.index])
        if mark is not None:
            px, py = _grid_position(grid.columns, mark[0]), _grid_position(grid.index, mark[1])
            if px is not None and py is not None:
                if float(px).is_integer() and float(py).is_integer():  # on the grid: its cell outlined
                    ax.add_patch(plt.Rectangle((px - 0.5, py - 0.5), 1, 1, fill=False, edgecolor="#D55E00", linewidth=2,
                                               label=label("heat_mark", lang)))
                else:  # between levels: a point where it lies
                    ax.plot([px], [py], marker="o", ms=9, mfc="none", mec="#D55E00", mew=1.5, linestyle="none",
                            label=label("heat_mark", lang))
                ax.legend(loc="upper right", bbox_to_anchor=(1.0, -0.12), borderaxespad=0)
        ax.set(xlabel=display_name(x_key, lang), ylabel=wrap(display_name(y_key, lang), 40),
               title=wrap(f"{output_label(output, lang)} ({label('heat_mean', lang)})", 90))
        ax.grid(False)
        bar = fig.colorbar(im, ax=ax, label=wrap(output_label(output, lang, when=False), 40))
        bar.ax.yaxis.set_major_formatter(tick_formatter(lang, "pct"))
    return fig


def _grid_position(levels, value: float) -> float | None:
    """``value``'s position on an axis of sorted ``levels`` (index units; interpolated between levels), or
    None outside them."""
    lv = np.asarray(levels, dtype=float)
    v = float(value)
    hit = np.flatnonzero(np.isclose(lv, v, rtol=1e-9, atol=1e-12))
    if len(hit):
        return float(hit[0])
    if len(lv) < 2 or not lv.min() <= v <= lv.max():
        return None
    return float(np.interp(v, lv, np.arange(len(lv))))


def fig_profile(tables, lang: str = "en", ax=None, profile_output: str | None = None):
    """An output (``profile_output``, default: the profile's first) against each parameter over its range, one panel per
    parameter (:mod:`sim.sensitivity.profile`): the mean over seeds, the 10-90% band, every seed's
    extremes, the base value dotted. ``tables.profile``: the profile table."""
    prof = tables.profile
    output = profile_output or prof["output"].iloc[0]
    g = prof[prof["output"] == output]
    params = list(dict.fromkeys(g["parameter"]))
    with paper_style() as plt:
        fig, axs = panels(plt, len(params), height=2.0, ax=ax)
        for a, key in zip(axs, params):
            p = g[g["parameter"] == key].sort_values("value")
            a.fill_between(p["value"], p["min"], p["max"], color="C0", alpha=0.12, linewidth=0,
                           label=label("profile_min_max", lang))
            a.fill_between(p["value"], p["p10"], p["p90"], color="C0", alpha=0.3, linewidth=0,
                           label=label("profile_p10_p90", lang))
            a.plot(p["value"], p["mean"], "o-", color="C0", markersize=3, label=label("profile_mean", lang))
            a.axvline(p["base_value"].iloc[0], color="black", linewidth=0.6, linestyle=":", label=label("profile_base", lang))
            a.set(xlabel=wrap(display_name(key, lang), 46))
            a.grid(True)
        axs[0].set_ylabel(wrap(output_label(output, lang), 40))
        legend_below(fig, axs[0], ax, ncol=4 if len(params) > 1 else 2)
    return fig
