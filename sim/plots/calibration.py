"""Figures of a calibration: the fit to the 2020-2023 history and the forecast.

``tables`` has the calibration's tables (:class:`sim.calibrate.CalibrationResult`): ``bands``,
``observed``, ``decision_points`` and ``forecast`` (columns series, month, p05..p95).
"""

from __future__ import annotations

from sim.history import DECIDED
from sim.plots.labels import label
from sim.plots.style import axes, paper_style


def _band_axes(ax, b, lang: str, color: str = "C0") -> None:
    ax.fill_between(b["month"], b["p05"], b["p95"], color=color, alpha=0.18, linewidth=0, label=label("band_90", lang))
    ax.fill_between(b["month"], b["p25"], b["p75"], color=color, alpha=0.35, linewidth=0, label=label("band_50", lang))
    ax.plot(b["month"], b["p50"], color=color, label=label("median", lang))


def fig_fit(tables, lang: str = "en", ax=None):
    """Simulated 50% and 90% bands (posterior x seeds) against the observed monthly points, 2020-2023,
    and, when there are any, against the option-decision points (open markers: lower bounds)."""
    bands, observed, decisions = tables.bands, tables.observed, getattr(tables, "decision_points", None)
    with_decisions = decisions is not None and len(decisions) > 0 and DECIDED in set(bands["series"])
    n = 3 + with_decisions
    with paper_style() as plt:
        fig, axs = axes(plt, ax, n, figsize=(3.6 * n, 3.6), sharex=True)
        obs_cols = {"n_municipalities_live": "n_municipalities_live",
                    "share_residents_municipalities_live": "share_residents_municipalities_live",
                    "n_gp_offices_live": ("n_gp_offices_live_lower" if "n_gp_offices_live_lower" in observed
                                          else "n_gp_offices_live")}
        for a, (series, ocol) in zip(axs, obs_cols.items()):
            _band_axes(a, bands[bands["series"] == series], lang)
            lower = ocol.endswith("_lower")
            a.scatter(observed["month"], observed[ocol], s=9, color="black", marker="^" if lower else "o", zorder=3,
                      label=label("observed_lower" if lower else "observed", lang))
            a.set(title=label(series, lang), xlabel=label("month", lang))
        if with_decisions:
            _band_axes(axs[3], bands[bands["series"] == DECIDED], lang)
            for lower, marker in ((False, "o"), (True, "^")):
                d = decisions[decisions["lower_bound"] == lower]
                axs[3].scatter(d["month"], d["count"], s=18, color="black", marker=marker, zorder=3,
                               label=label("observed_lower" if lower else "observed", lang))
            axs[3].set(title=label(DECIDED, lang), xlabel=label("month", lang))
            axs[3].legend(loc="upper left", fontsize="small")
        axs[0].legend(loc="upper left", fontsize="small")
        axs[2].legend(loc="upper left", fontsize="small")
        fig.suptitle(label("fit_title", lang))
        if ax is None:
            fig.autofmt_xdate()
            pass  # constrained layout (the paper style)
    return fig


def fig_forecast(tables, lang: str = "en", ax=None):
    """Forecast 2024 to the report year: 50% and 90% bands for each forecast series."""
    fc = tables.forecast
    series = list(dict.fromkeys(fc["series"]))  # in the table's order
    with paper_style() as plt:
        fig, axs = axes(plt, ax, len(series), figsize=(3.0 * len(series), 3.2), sharex=True)
        for a, s in zip(axs, series):
            _band_axes(a, fc[fc["series"] == s], lang, color="C1")
            a.set(title=label(s, lang), xlabel=label("month", lang))
        axs[0].legend(loc="upper left", fontsize="small")
        fig.suptitle(label("forecast_title", lang))
        if ax is None:
            fig.autofmt_xdate()
            pass  # constrained layout (the paper style)
    return fig
