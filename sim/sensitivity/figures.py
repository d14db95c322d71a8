"""Figures of an analysis: tables in, figures out (the package's paper style, ``sim.plots``).

matplotlib is loaded only by these functions (through :func:`sim.plots.paper_style`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.sweep.experiment import DUMMY_PREFIX


def _label(key: str) -> str:
    return key.removeprefix(DUMMY_PREFIX) + " (dummy)" if key.startswith(DUMMY_PREFIX) else key.split(".")[-1]


def _number(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _panels(plt, n: int, height: float = 2.6):
    cols = min(2, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, height * rows + 0.4), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def fig_sobol(indices: pd.DataFrame):
    """S1 and ST per parameter with bootstrap confidence intervals, one panel per output."""
    from sim.plots import paper_style

    sob = indices[(indices["method"] == "sobol") & indices["index"].isin(["S1", "ST"])]
    outputs = list(dict.fromkeys(sob["output"]))
    with paper_style() as plt:
        fig, axes = _panels(plt, len(outputs), height=0.25 * sob["parameter"].nunique() + 1.0)
        for ax, out in zip(axes, outputs):
            g = sob[sob["output"] == out]
            st = g[g["index"] == "ST"].set_index("parameter").sort_values("value")
            s1 = g[g["index"] == "S1"].set_index("parameter").reindex(st.index)
            y = np.arange(len(st))
            ax.barh(y + 0.2, st["value"], 0.4, xerr=st["conf"], label="ST (total)", color="C0", error_kw={"lw": 0.8})
            ax.barh(y - 0.2, s1["value"], 0.4, xerr=s1["conf"], label="S1 (first order)", color="C1", error_kw={"lw": 0.8})
            ax.set_yticks(y, [_label(p) for p in st.index])
            ax.axvline(0, color="black", linewidth=0.6)
            ax.grid(axis="x")
            ax.set_title(out, fontsize=8)
            ax.set(xlabel="Sobol index (95% CI)")
        axes[0].legend(loc="lower right")
        fig.tight_layout()
    return fig


def fig_morris(indices: pd.DataFrame):
    """Morris mu* against sigma (with mu* confidence intervals), one panel per output."""
    from sim.plots import paper_style

    mor = indices[indices["method"] == "morris"]
    outputs = list(dict.fromkeys(mor["output"]))
    with paper_style() as plt:
        fig, axes = _panels(plt, len(outputs), height=3.2)
        for ax, out in zip(axes, outputs):
            g = mor[mor["output"] == out].pivot_table(index="parameter", columns="index", values=["value", "conf"])
            ax.errorbar(g[("value", "mu_star")], g[("value", "sigma")], xerr=g[("conf", "mu_star")], fmt="o",
                        markersize=3, color="C0", elinewidth=0.8)
            for p, row in g.iterrows():
                ax.annotate(_label(p), (row[("value", "mu_star")], row[("value", "sigma")]), fontsize=6,
                            xytext=(3, 2), textcoords="offset points")
            ax.set_title(out, fontsize=8)
            ax.set(xlabel="mu* (change over the range)", ylabel="sigma")
            ax.set_xlim(left=0)
            ax.set_ylim(bottom=0)
        fig.tight_layout()
    return fig


def fig_tornado(tornado: pd.DataFrame):
    """One-at-a-time swings around the base scenario: bars from the low- to the high-bound output."""
    from sim.plots import paper_style

    outputs = list(dict.fromkeys(tornado["output"]))
    with paper_style() as plt:
        fig, axes = _panels(plt, len(outputs), height=0.25 * tornado["parameter"].nunique() + 1.0)
        for ax, out in zip(axes, outputs):
            g = tornado[tornado["output"] == out].sort_values("swing")
            y, base = np.arange(len(g)), g["y_base"].iloc[0]
            ax.barh(y, g["y_low"] - base, left=base, color="C0", label="parameter at low bound")
            ax.barh(y, g["y_high"] - base, left=base, color="C1", label="parameter at high bound", alpha=0.8)
            ax.axvline(base, color="black", linewidth=0.8)
            ax.set_yticks(y, [_label(p) for p in g["parameter"]])
            ax.grid(axis="x")
            ax.set_title(out, fontsize=8)
            ax.set(xlabel=f"output (base scenario: {base:.3g})")
        axes[0].legend(loc="lower right")
        fig.tight_layout()
    return fig


def fig_prim(boxes: pd.DataFrame, trajectory: pd.DataFrame, target: str = ""):
    """PRIM: the peeling trajectory (coverage against density) and the chosen box's lever limits."""
    from sim.plots import paper_style

    with paper_style() as plt:
        fig, (a, b) = plt.subplots(1, 2, figsize=(9.2, 3.4))
        sc = a.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis", s=12)
        ch = trajectory[trajectory["chosen"]]
        a.scatter(ch["coverage"], ch["density"], s=80, facecolors="none", edgecolors="C3", label="chosen box")
        fig.colorbar(sc, ax=a, label="restricted levers")
        a.set(xlabel="coverage", ylabel="density", xlim=(0, 1.02), ylim=(0, 1.02), title=f"PRIM trajectory: {target}")
        a.legend(loc="lower left")
        sel = boxes[boxes["chosen"]].reset_index(drop=True)
        span = (sel["range_high"] - sel["range_low"]).replace(0, 1)
        lo, hi = (sel["low"] - sel["range_low"]) / span, (sel["high"] - sel["range_low"]) / span
        y = np.arange(len(sel))
        b.barh(y, np.ones(len(sel)), color="#e6e6e6")
        b.barh(y, hi - lo, left=lo, color=["C0" if r else "#bbbbbb" for r in sel["restricted"]])
        for i, r in sel.iterrows():
            b.text(1.02, i, f"{_number(r['low'])} - {_number(r['high'])}", va="center", fontsize=7)
        b.set_yticks(y, [_label(p) for p in sel["parameter"]])
        b.set(xlim=(0, 1.45), xlabel="share of the sampled range", title="Chosen box (blue: restricted)")
        b.grid(axis="x")
        fig.tight_layout()
    return fig


def fig_profile(profile: pd.DataFrame, output: str, ax=None):
    """An output against each parameter over its range (one panel per parameter): the mean over seeds,
    the 10-90% band and every seed's extremes, the base value marked."""
    from sim.plots import paper_style

    g = profile[profile["output"] == output]
    params = list(dict.fromkeys(g["parameter"]))
    with paper_style() as plt:
        fig, axes = _panels(plt, len(params), height=2.2)
        for a, key in zip(axes, params):
            p = g[g["parameter"] == key].sort_values("value")
            a.fill_between(p["value"], p["min"], p["max"], color="C0", alpha=0.12, linewidth=0, label="min-max over seeds")
            a.fill_between(p["value"], p["p10"], p["p90"], color="C0", alpha=0.3, linewidth=0, label="10-90%")
            a.plot(p["value"], p["mean"], "o-", color="C0", markersize=3, label="mean")
            a.axvline(p["base_value"].iloc[0], color="black", linewidth=0.6, linestyle=":", label="base")
            a.set(xlabel=_label(key), ylabel=output if a is axes[0] else "")
            a.grid(True)
        axes[0].legend(loc="best", fontsize=6)
        fig.tight_layout()
    return fig
