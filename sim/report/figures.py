"""The report's own figures (tables in, figures out; the package's paper style)."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from sim.plots import label, paper_style, plot_uptake_curve
from sim.report.tables import TOP_K
from sim.report.text import figure_label, fmt, output_label


def plot_uptake_panels(curve: pd.DataFrame, lang: str):
    """Gain realized and one-record coverage against GP uptake per recruitment order, side by side."""
    with paper_style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6))
        plot_uptake_curve(curve, "gain_realized", lang, ax=axes[0])
        plot_uptake_curve(curve, "one_record_coverage", lang, ax=axes[1])
        axes[1].get_legend().remove()
        fig.tight_layout()
    return fig


def fig_heatmap(cells: pd.DataFrame, x_key: str, y_key: str, title: str, bar_label: str, lang: str,
                mark: tuple[float, float] | None = None):
    """A grid of cell values (x, y, value) as a colour map with each value written in its cell (per cent)."""
    grid = cells.pivot(index="y", columns="x", values="value").sort_index()
    with paper_style() as plt:
        fig, ax = plt.subplots(figsize=(6.4, 4.6))
        im = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis", vmin=0,
                       vmax=max(float(np.nanmax(grid.to_numpy())), 1e-9))
        for (i, j), v in np.ndenumerate(grid.to_numpy()):
            ax.text(j, i, fmt(v, "pct", lang), ha="center", va="center", fontsize=7,
                    color="white" if v < 0.6 * np.nanmax(grid.to_numpy()) else "black")
        ax.set_xticks(range(grid.shape[1]), [fmt(v, "num", lang) for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [fmt(v, "num", lang) for v in grid.index])
        if mark is not None and mark[0] in grid.columns and mark[1] in grid.index:
            ax.add_patch(plt.Rectangle((list(grid.columns).index(mark[0]) - 0.5, list(grid.index).index(mark[1]) - 0.5),
                                       1, 1, fill=False, edgecolor="red", linewidth=1.5))
        ax.set(xlabel=x_key, ylabel=y_key, title=title)
        ax.grid(False)
        fig.colorbar(im, ax=ax, label=bar_label)
    return fig


def fig_drivers(top: pd.DataFrame, method: str, lang: str):
    """The top parameters per output by ST (Sobol) or mu* (Morris), with confidence half-widths."""
    outputs = list(dict.fromkeys(top["output"]))
    with paper_style() as plt:
        cols = min(2, len(outputs))
        rows = -(-len(outputs) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, 0.35 * TOP_K * rows + 1.2 * rows), squeeze=False)
        for ax in axes.flat[len(outputs):]:
            ax.set_visible(False)
        for ax, out in zip(axes.flat, outputs):
            g = top[top["output"] == out].sort_values("rank", ascending=False)
            ax.barh(np.arange(len(g)), g["value"], xerr=g["conf"].fillna(0), color="C0", error_kw={"lw": 0.8})
            ax.set_yticks(np.arange(len(g)), [p.split(".")[-1] for p in g["parameter"]])
            ax.set(title=textwrap.fill(output_label(out, lang), 32), xlabel=figure_label(method, lang))
            ax.grid(axis="x")
        fig.suptitle(figure_label("drivers_title", lang))
        fig.tight_layout()
    return fig


def fig_net_by_actor(nets: dict[str, pd.DataFrame], lang: str):
    """Net present value per actor (NOK million), one bar per financing split."""
    with paper_style() as plt:
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        actors = list(next(iter(nets.values())).index)
        width = 0.8 / len(nets)
        for k, (name, df) in enumerate(nets.items()):
            ax.bar(np.arange(len(actors)) - 0.4 + width * (k + 0.5), df.reindex(actors)["net_npv_nok"] / 1e6,
                   width=width, label=name)
        ax.set_xticks(np.arange(len(actors)), [label(a, lang) for a in actors])
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set(ylabel=label("nok_million", lang), title=figure_label("net_title", lang))
        ax.legend(title=label("scenario", lang))
    return fig

