"""Figures of a calibration: the fit to the 2020-2023 history and the forecast.

``tables`` has the calibration's tables (:class:`sim.calibrate.CalibrationResult`): ``bands``,
``observed``, ``decision_points`` and ``forecast`` (columns series, month, p05..p95).
"""

from __future__ import annotations

from sim.history import DECIDED
from sim.plots.labels import display_name, label
from sim.plots.style import paper_style, panels, wrap


def _band_axes(ax, b, lang: str, color: str = "C0") -> None:
    ax.fill_between(b["month"], b["p05"], b["p95"], color=color, alpha=0.18, linewidth=0, label=label("band_90", lang))
    ax.fill_between(b["month"], b["p25"], b["p75"], color=color, alpha=0.35, linewidth=0, label=label("band_50", lang))
    ax.plot(b["month"], b["p50"], color=color, label=label("median", lang))


def _years(a) -> None:
    """Whole years on a date axis (the months are in the data; ticks every year, no rotation)."""
    import matplotlib.dates as mdates

    a.xaxis.set_major_locator(mdates.YearLocator())
    a.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))


def fig_fit(tables, lang: str = "en", ax=None):
    """Simulated 50% and 90% bands (posterior x seeds) against the observed monthly points, 2020-2023,
    and, when there are any, against the option-decision points (open markers: lower bounds); one
    panel per series, two columns wide."""
    bands, observed, decisions = tables.bands, tables.observed, getattr(tables, "decision_points", None)
    with_decisions = decisions is not None and len(decisions) > 0 and DECIDED in set(bands["series"])
    n = 3 + with_decisions
    with paper_style() as plt:
        fig, axs = panels(plt, n, height=1.9, ax=ax, sharex=True)
        obs_cols = {"n_municipalities_live": "n_municipalities_live",
                    "share_residents_municipalities_live": "share_residents_municipalities_live",
                    "n_gp_offices_live": ("n_gp_offices_live_lower" if "n_gp_offices_live_lower" in observed
                                          else "n_gp_offices_live")}
        for a, (series, ocol) in zip(axs, obs_cols.items()):
            _band_axes(a, bands[bands["series"] == series], lang)
            lower = ocol.endswith("_lower")
            a.scatter(observed["month"], observed[ocol], s=7, color="black", marker="^" if lower else "o", zorder=3,
                      label=label("observed_lower" if lower else "observed", lang))
            a.set(title=display_name(series, lang))
        if with_decisions:
            _band_axes(axs[3], bands[bands["series"] == DECIDED], lang)
            for lower, marker in ((False, "o"), (True, "^")):
                d = decisions[decisions["lower_bound"] == lower]
                axs[3].scatter(d["month"], d["count"], s=14, color="black", marker=marker, zorder=3,
                               label=label("observed_lower" if lower else "observed", lang))
            axs[3].set(title=display_name(DECIDED, lang))
        for a in axs:
            _years(a)
        handles = {t: h for a in axs for h, t in zip(*a.get_legend_handles_labels())}
        if ax is None:
            fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=len(handles))
            fig.suptitle(wrap(label("fit_title", lang), 110))
        else:
            axs[0].legend(loc="upper left")
    return fig


def fig_forecast(tables, lang: str = "en", ax=None):
    """Forecast 2024 to the report year: 50% and 90% bands for each forecast series, one panel each."""
    fc = tables.forecast
    series = list(dict.fromkeys(fc["series"]))  # in the table's order
    with paper_style() as plt:
        fig, axs = panels(plt, len(series), height=1.9, ax=ax, sharex=True)
        for a, s in zip(axs, series):
            _band_axes(a, fc[fc["series"] == s], lang, color="C1")
            a.set(title=wrap(display_name(s, lang), 50))
            _years(a)
        if ax is None:
            fig.legend(*axs[0].get_legend_handles_labels(), loc="outside lower center", ncol=3)
            fig.suptitle(wrap(label("forecast_title", lang), 110))
        else:
            axs[0].legend(loc="upper left")
    return fig
