"""Figures from saved result tables: tables in, figures out, never the model.

Every figure is written as PDF (vector) and PNG (300 dpi) in one paper style
(``sim/onerecord.mplstyle``: Okabe-Ito colours, units on axes, no chart junk), with
labels in Norwegian (``nb``) or English (``en``). ``plot_run(run_dir)`` rebuilds every
figure of a run directory from its files alone.
"""

from __future__ import annotations

from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import ConfigError
from sim.results import RunTables, read_run

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "month": "Month", "share": "Share adopted", "hospital": "Hospitals", "municipality": "Municipalities",
        "gp_office": "GP offices", "gp": "GPs", "adoption_title": "Adoption by actor type",
        "one_record_coverage": "One-record coverage", "information_available": "Information available",
        "handover_same_record": "Hand-overs in the same record",
        "coverage_title": "Information sharing over time", "share_gps": "GP uptake (share of GPs)",
        "gain_realized": "Gain realized (share of full gain)", "gain_title": "Gain against GP uptake",
        "nok_per_inhabitant": "Net platform cost (NOK per inhabitant per year)", "municipalities_sorted": "Municipalities, sorted",
        "cost_title": "Net cost per inhabitant, {year}", "pays": "Pays", "gains": "Gains", "net": "Net",
        "who_title": "Who pays, who gains (NPV, NOK million)", "nok_million": "NOK million (NPV)",
        "state": "State", "region_trusts": "Region and trusts", "municipalities": "Municipalities",
        "gps": "GPs", "patients": "Patients", "median_band": "median, band 5-95% over seeds",
        "compare_title": "Scenarios compared", "scenario": "Scenario", "share_0_1": "Share (0-1)",
        "uptake_x": "GP uptake (share of GPs on the platform)", "uptake_title": "By recruitment order",
        "random": "random", "largest_first": "largest lists first", "most_connected_first": "most connected first",
        "by_municipality": "by municipality",
    },
    "nb": {
        "month": "Måned", "share": "Andel som har tatt i bruk", "hospital": "Sykehus", "municipality": "Kommuner",
        "gp_office": "Fastlegekontor", "gp": "Fastleger", "adoption_title": "Innføring etter aktørtype",
        "one_record_coverage": "Én-journal-dekning", "information_available": "Tilgjengelig informasjon",
        "handover_same_record": "Overføringer i samme journal",
        "coverage_title": "Informasjonsdeling over tid", "share_gps": "Fastlegeoppslutning (andel fastleger)",
        "gain_realized": "Realisert gevinst (andel av full gevinst)", "gain_title": "Gevinst mot fastlegeoppslutning",
        "nok_per_inhabitant": "Netto plattformkostnad (kr per innbygger per år)", "municipalities_sorted": "Kommuner, sortert",
        "cost_title": "Nettokostnad per innbygger, {year}", "pays": "Betaler", "gains": "Gevinst", "net": "Netto",
        "who_title": "Hvem betaler, hvem vinner (nåverdi, mill. kr)", "nok_million": "Mill. kr (nåverdi)",
        "state": "Staten", "region_trusts": "Region og helseforetak", "municipalities": "Kommunene",
        "gps": "Fastlegene", "patients": "Pasientene", "median_band": "median, bånd 5-95 % over frø",
        "compare_title": "Scenarioer sammenlignet", "scenario": "Scenario", "share_0_1": "Andel (0-1)",
        "uptake_x": "Fastlegeoppslutning (andel fastleger på plattformen)", "uptake_title": "Etter rekrutteringsrekkefølge",
        "random": "tilfeldig", "largest_first": "største lister først", "most_connected_first": "mest tilknyttet først",
        "by_municipality": "kommunevis",
    },
}


LANGS = ("en", "nb")
"""The languages of figure labels and reports."""


def check_lang(lang: str) -> str:
    """``lang`` if it is a figure language (nb | en), else ConfigError (the CLI's one line)."""
    if lang not in LANGS:
        raise ConfigError(f"--lang: must be nb or en, got {lang!r}")
    return lang


def label(key: str, lang: str = "en") -> str:
    """The label of ``key`` in ``lang`` (nb | en); the key itself when there is none."""
    return LABELS[check_lang(lang)].get(key, key)


THIN_SPACE = "\u202f"
"""Thousands separator in Norwegian numbers: a narrow (thin) no-break space."""


def format_number(x: float, lang: str = "en", decimals: int = 0) -> str:
    """``x`` rounded to ``decimals``: en ``12,345.6``, nb ``12 345,6`` (thin space, decimal comma); NaN as "–",
    infinity as "∞"."""
    check_lang(lang)
    if x != x:
        return "–"
    if x in (float("inf"), float("-inf")):
        return ("-" if x < 0 else "") + "∞"
    s = f"{x:,.{decimals}f}"
    if s.startswith("-") and float(s.replace(",", "")) == 0:
        s = s[1:]
    return s.replace(",", THIN_SPACE).replace(".", ",") if lang == "nb" else s


def format_percent(share: float, lang: str = "en", decimals: int = 1) -> str:
    """A share in [0, 1] as a percentage: en ``5.4%``, nb ``5,4 %``."""
    return format_number(100 * share, lang, decimals) + (f"{THIN_SPACE}%" if lang == "nb" else "%")


@contextmanager
def paper_style():
    """Matplotlib with the package's paper style (the backend is left as it is: Agg without a display)."""
    import matplotlib.pyplot as plt

    with resources.as_file(resources.files("sim") / "onerecord.mplstyle") as style, plt.style.context(str(style)):
        yield plt


def save(fig, stem: Path) -> list[Path]:
    """Write ``stem.pdf`` and ``stem.png`` (300 dpi) and close the figure."""
    import matplotlib.pyplot as plt

    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".pdf"), stem.with_suffix(".png")]
    for p in paths:
        fig.savefig(p)
    plt.close(fig)
    return paths


def band(ax, df: pd.DataFrame, x: str, y: str, label_text: str, color=None):
    """Median over seeds as a line, 5-95% quantiles over seeds as a band (x shared by all seeds)."""
    g = df.groupby(x)[y]
    q = pd.DataFrame({"lo": g.quantile(0.05), "mid": g.median(), "hi": g.quantile(0.95)})
    (line,) = ax.plot(q.index, q["mid"], label=label_text, color=color)
    ax.fill_between(q.index, q["lo"], q["hi"], color=line.get_color(), alpha=0.2, linewidth=0)
    return line


def _region(ts: pd.DataFrame) -> pd.DataFrame:
    return ts[ts["level"] == "region"]


# --------------------------------------------------------------------------- figures of one run


def fig_adoption(ts: pd.DataFrame, lang: str = "en"):
    """Share adopted over time by actor type, median and 5-95% band over seeds."""
    with paper_style() as plt:
        fig, ax = plt.subplots()
        actors = ts[ts["level"] == "actor_type"]
        for key in ("hospital", "municipality", "gp_office", "gp"):
            band(ax, actors[actors["key"] == key], "month", "share_adopted", label(key, lang))
        ax.set(xlabel=label("month", lang), ylabel=label("share", lang), ylim=(0, 1.02),
               title=f"{label('adoption_title', lang)} ({label('median_band', lang)})")
        ax.legend(loc="upper left")
    return fig


def fig_coverage(ts: pd.DataFrame, lang: str = "en"):
    """One-record coverage, hand-overs in the same record and information available over time."""
    with paper_style() as plt:
        fig, ax = plt.subplots()
        reg = _region(ts)
        for col in ("one_record_coverage", "handover_same_record", "information_available"):
            band(ax, reg, "month", col, label(col, lang))
        ax.set(xlabel=label("month", lang), ylabel=label("share_0_1", lang), ylim=(0, 1.02),
               title=label("coverage_title", lang))
        ax.legend(loc="upper left")
    return fig


def fig_gain_vs_uptake(ts: pd.DataFrame, lang: str = "en"):
    """Gain realized against GP uptake (share of GPs), one line per seed, months as points in time."""
    with paper_style() as plt:
        fig, ax = plt.subplots()
        reg = _region(ts)
        for i, (_, run) in enumerate(reg.groupby(["scenario", "seed"])):
            ax.plot(run["share_gps"], run["gain_realized"], color="C0", alpha=0.5, linewidth=1,
                    label=label("gain_realized", lang) if i == 0 else None)
            ax.plot(run["share_gps"], run["one_record_coverage"], color="C1", alpha=0.5, linewidth=1,
                    label=label("one_record_coverage", lang) if i == 0 else None)
        ax.set(xlabel=label("share_gps", lang), ylabel=label("share_0_1", lang),
               xlim=(0, 1), ylim=(0, 1.02), title=label("gain_title", lang))
        ax.legend(loc="upper left")
    return fig


def fig_cost_per_inhabitant(costs: pd.DataFrame, lang: str = "en", year: int | None = None):
    """Net platform cost per inhabitant per municipality in one year, sorted, coloured by scenario."""
    cm = costs[costs["joined"].astype(bool)] if "joined" in costs else costs
    year = int(year if year is not None else cm["year"].max())
    sel = cm[cm["year"] == year]
    med = sel.groupby(["scenario", "kommunenummer"])["net_cost_nok_per_inhabitant"].median().reset_index()
    with paper_style() as plt:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for scen, grp in med.groupby("scenario", sort=False):
            vals = np.sort(grp["net_cost_nok_per_inhabitant"].to_numpy())
            ax.plot(np.arange(1, len(vals) + 1), vals, marker="o", markersize=2.5, linewidth=1, label=scen)
        ax.set(xlabel=label("municipalities_sorted", lang), ylabel=label("nok_per_inhabitant", lang),
               title=label("cost_title", lang).format(year=year))
        ax.legend(title=label("scenario", lang))
    return fig


def fig_who_pays(who: pd.DataFrame, lang: str = "en"):
    """Pays, gains and net per actor type (NPV in NOK million, median over seeds)."""
    pays, gains = ("pays_npv_nok", "gains_npv_nok") if "pays_npv_nok" in who else ("pays_nok", "gains_nok")
    med = who.groupby("actor", sort=False)[[pays, gains]].median() / 1e6
    with paper_style() as plt:
        fig, ax = plt.subplots()
        x = np.arange(len(med))
        ax.bar(x - 0.2, med[pays], width=0.4, label=label("pays", lang), color="C3")
        ax.bar(x + 0.2, med[gains], width=0.4, label=label("gains", lang), color="C2")
        ax.scatter(x, med[gains] - med[pays], color="black", zorder=3, label=label("net", lang), s=14)
        ax.set_xticks(x, [label(a, lang) for a in med.index])
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set(ylabel=label("nok_million", lang), title=label("who_title", lang))
        ax.legend()
    return fig


FIGURES = {
    "adoption": lambda t, lang: fig_adoption(t.timeseries, lang),
    "coverage": lambda t, lang: fig_coverage(t.timeseries, lang),
    "gain_vs_uptake": lambda t, lang: fig_gain_vs_uptake(t.timeseries, lang),
    "cost_per_inhabitant": lambda t, lang: fig_cost_per_inhabitant(
        t.costs_municipality, lang, int(t.summary.attrs.get("report_year", 0)) or None),
    "who_pays_who_gains": lambda t, lang: fig_who_pays(t.who_pays_who_gains, lang),
}
"""Figure name -> function of (RunTables, lang); the names are the files in ``figures/``."""


def plot_tables(tables: RunTables, out_dir: Path, lang: str = "en", names: list[str] | None = None,
                report_year: int | None = None) -> list[Path]:
    """Write the named figures (default: all) of a run's tables to ``out_dir``; returns the files."""
    if report_year is not None:
        tables.summary.attrs["report_year"] = report_year
    paths: list[Path] = []
    for name in names or list(FIGURES):
        if name not in FIGURES:
            raise ValueError(f"unknown figure {name!r}; known: {', '.join(FIGURES)}")
        paths += save(FIGURES[name](tables, lang), Path(out_dir) / f"{name}_{lang}")
    return paths


def plot_run(run_dir: str | Path, lang: str = "en") -> list[Path]:
    """Rebuild every figure of a run directory from its saved tables (no model run)."""
    from sim.results import read_manifest

    d = Path(run_dir)
    year = read_manifest(d)["config"]["run"]["report_year"]
    return plot_tables(read_run(d), d / "figures", lang, report_year=year)


# --------------------------------------------------------------------------- comparing runs

KEY_FIGURES = ("share_gps", "n_municipalities_live", "one_record_coverage", "information_available",
               "gain_realized", "nok_per_inhabitant_median_municipality")


def compare_table(summaries: dict[str, pd.DataFrame], year: int) -> pd.DataFrame:
    """Key figures of the report year per scenario: median and 5-95% range over seeds."""
    rows = []
    for name, s in summaries.items():
        for fig in KEY_FIGURES:
            col = f"{fig}_{year}"
            if col in s:
                v = s[col].astype(float)
                rows.append({"scenario": name, "figure": col, "median": v.median(), "p05": v.quantile(0.05),
                             "p95": v.quantile(0.95), "seeds": int(v.notna().sum())})
    return pd.DataFrame(rows)


def fig_compare(runs: dict[str, RunTables], lang: str = "en"):
    """Scenarios side by side: GP uptake and one-record coverage over time (median, 5-95% band)."""
    with paper_style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6), sharex=True)
        for i, (name, t) in enumerate(runs.items()):
            reg = _region(t.timeseries)
            band(axes[0], reg, "month", "share_gps", name, color=f"C{i}")
            band(axes[1], reg, "month", "one_record_coverage", name, color=f"C{i}")
        axes[0].set(ylabel=label("share_gps", lang), xlabel=label("month", lang), ylim=(0, 1.02))
        axes[1].set(ylabel=label("one_record_coverage", lang), xlabel=label("month", lang), ylim=(0, 1.02))
        axes[0].legend(title=label("scenario", lang), loc="upper left")
        fig.suptitle(f"{label('compare_title', lang)} ({label('median_band', lang)})")
    return fig


def compare_runs(run_dirs: list[str | Path], out_dir: str | Path, lang: str = "en") -> tuple[pd.DataFrame, list[Path]]:
    """Compare saved runs: the figure (scenarios side by side), the cost figure and the key-figure table."""
    from sim.results import read_manifest

    runs: dict[str, RunTables] = {}
    year = None
    for d in run_dirs:
        man = read_manifest(d)
        name = man["scenario"] if man["scenario"] not in runs else f"{man['scenario']} ({Path(d).name})"
        runs[name] = read_run(d)
        year = year or man["config"]["run"]["report_year"]
    out = Path(out_dir)
    table = compare_table({k: v.summary for k, v in runs.items()}, year)
    paths = save(fig_compare(runs, lang), out / f"compare_{lang}")
    costs = pd.concat([t.costs_municipality.assign(scenario=k) for k, t in runs.items()], ignore_index=True)
    paths += save(fig_cost_per_inhabitant(costs, lang, year), out / f"compare_cost_per_inhabitant_{lang}")
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "compare.csv", index=False)
    return table, paths


# --------------------------------------------------------------------------- the uptake curve

UPTAKE_METRICS = ("gain_realized", "one_record_coverage", "handover_same_record", "information_available")


def plot_uptake_curve(df: pd.DataFrame, metric: str = "gain_realized", lang: str = "en", ax=None):
    """One line per recruitment order: the median over seeds of ``metric`` against gp_share, with the
    seeds' min-max band for seeded orders. Returns the Axes."""
    if metric not in df.columns:
        raise ValueError(f"metric {metric!r} is not a column of the table")
    label("x", lang)  # validates lang
    with paper_style() as plt:
        if ax is None:
            _, ax = plt.subplots()
        for order, g in df.groupby("order", sort=False):
            stats = g.groupby("gp_share")[metric].agg(["median", "min", "max"])
            (line,) = ax.plot(stats.index, stats["median"], marker="o", ms=3, label=label(order, lang))
            if g["seed"].nunique() > 1:
                ax.fill_between(stats.index, stats["min"], stats["max"], color=line.get_color(), alpha=0.2, lw=0)
        ax.set(xlabel=label("uptake_x", lang), ylabel=label(metric, lang), title=label("uptake_title", lang),
               xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(loc="upper left")
    return ax


def plot_uptake_tables(df: pd.DataFrame, out_dir: str | Path, lang: str = "en") -> list[Path]:
    """One figure per metric of the uptake-curve table, ``uptake_<metric>_<lang>.pdf/png``."""
    paths: list[Path] = []
    for metric in UPTAKE_METRICS:
        ax = plot_uptake_curve(df, metric, lang)
        paths += save(ax.figure, Path(out_dir) / f"uptake_{metric}_{lang}")
    return paths


# --------------------------------------------------------------------------- the Bass validation


def fig_bass(df: pd.DataFrame, lang: str = "en"):
    """Simulated mean cumulative GP share (band: 4 standard errors) against the Bass closed form F(t)."""
    txt = {"en": ("Years since the platform was offered", "Cumulative share of GPs adopted", "simulated mean",
                  "Bass closed form F(t)", "Bass special case (beta_u = 0, complete peer graph)"),
           "nb": ("År siden plattformen ble tilbudt", "Kumulativ andel fastleger", "simulert gjennomsnitt",
                  "Bass lukket form F(t)", "Bass-spesialtilfellet (beta_u = 0, komplett nettverk)")}[lang]
    with paper_style() as plt:
        fig, ax = plt.subplots()
        ax.plot(df["t_years"], df["share_mean"], label=f"{txt[2]} ({int(df['n_seeds'].iloc[0])} seeds)")
        ax.fill_between(df["t_years"], df["share_mean"] - 4 * df["share_se"], df["share_mean"] + 4 * df["share_se"],
                        alpha=0.2, linewidth=0)
        ax.plot(df["t_years"], df["bass_cdf"], linestyle="--", color="black", label=txt[3])
        ax.set(xlabel=txt[0], ylabel=txt[1], ylim=(0, 1.02), title=txt[4])
        ax.legend(loc="upper left")
    return fig
