"""Sheets a council can open: one municipality's bill (and its GP offices') by component and year, with
bands over seeds and parameter draws, every financing scenario side by side.

Tables in, files out (never the model): :func:`bill_bands`, :func:`bill_summary` and :func:`gp_offices`
build tidy tables from the run tables (``costs_municipality``, ``costs_gp`` with a ``scenario`` and a
``seed`` column, and a ``draw`` column where parameter draws were run); :func:`write_xlsx` writes them
with Norwegian (or English) headers and number formats through openpyxl; :func:`write_csv` writes the
plain CSV (``en``: ``,`` and decimal point) or the Norwegian one (``nb``: ``;`` and decimal comma).
Bands: median and the 5 % and 95 % quantiles over every (seed, draw) sample of a scenario.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.economics.bill import BILL_COMPONENTS, LOCAL_ONEOFF
from sim.plots.labels import COLUMNS, LANGS, display_name

BILL_ROWS: tuple[str, ...] = (*BILL_COMPONENTS, "net_cost_nok")
"""The rows of a bill: every component, then the net cost (their sum)."""


def name_of(key: str, lang: str) -> str:
    """Display name of a column, sheet, component or scenario in ``lang`` (:mod:`sim.plots.labels`: the
    sheet's columns first, then every other display name; the key itself when there is none)."""
    return COLUMNS[key][LANGS.index(lang)] if key in COLUMNS else display_name(key, lang)


def samples_of(df: pd.DataFrame) -> list[str]:
    """The columns that index the samples of a band: seed, and draw where parameter draws were run."""
    return ["seed"] + (["draw"] if "draw" in df.columns else [])


def _q(g, q: float) -> pd.Series:
    return g.quantile(q)


def runs_live(sel: pd.DataFrame) -> pd.DataFrame:
    """The rows of the runs (scenario, seed, draw) in which the municipality went live; all rows of a
    scenario in which it never did (its bill is then zero)."""
    keys = ["scenario", *samples_of(sel)]
    live = sel.groupby(keys)["joined"].transform("any").astype(bool)
    any_live = live.groupby(sel["scenario"]).transform("any").astype(bool)
    return sel[live | ~any_live]


def bill_bands(costs: pd.DataFrame, kommunenummer: str, scenarios: list[str] | None = None) -> pd.DataFrame:
    """One municipality's bill: scenario, component (:data:`BILL_ROWS`), year, median_nok, p05_nok, p95_nok
    (whole kroner) and samples (the number of (seed, draw) runs), scenarios in the given order. The bands
    cover the runs in which it went live (:func:`runs_live`): the bill if it joins, as the model sees it."""
    sel = runs_live(costs[costs["kommunenummer"].astype(str) == str(kommunenummer)])
    long = sel.melt(id_vars=["scenario", *samples_of(sel), "year"], value_vars=list(BILL_ROWS), var_name="component", value_name="nok")
    g = long.groupby(["scenario", "component", "year"], sort=False)["nok"]
    out = pd.DataFrame({"median_nok": g.median(), "p05_nok": _q(g, 0.05), "p95_nok": _q(g, 0.95), "samples": g.size()}).reset_index()
    for c in ("median_nok", "p05_nok", "p95_nok"):
        out[c] = np.rint(out[c]).astype(np.int64)
    order = {s: i for i, s in enumerate(scenarios or list(dict.fromkeys(out["scenario"])))}
    out["_s"], out["_c"] = out["scenario"].map(order), out["component"].map({c: i for i, c in enumerate(BILL_ROWS)})
    return out.sort_values(["_s", "_c", "year"], kind="stable").drop(columns=["_s", "_c"]).reset_index(drop=True)


def bill_summary(costs: pd.DataFrame, kommunenummer: str, expected: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per scenario for one municipality: population, share of runs in which it went live, median
    go-live year, one-off (platform investment share + local one-off), net a year after go-live (mean
    over its live years) and per inhabitant, NPV of the net cost with its 5-95 % band, and (when
    ``expected`` has it: scenario, kommunenummer, expected_nok_per_inhabitant) the bill it expects."""
    sel = costs[costs["kommunenummer"].astype(str) == str(kommunenummer)]
    keys = samples_of(sel)
    rows = []
    for scen, grp in sel.groupby("scenario", sort=False):
        per = grp.groupby(keys)
        live_years = per["joined"].sum()
        live = live_years > 0
        first = grp[grp["joined"].astype(bool)].groupby(keys)["year"].min()
        oneoff = per.apply(lambda d: d[["platform_investment_nok", *LOCAL_ONEOFF]].to_numpy().sum(), include_groups=False)
        annual = per["net_cost_nok"].sum() / live_years.where(live)
        npv = per["npv_net_cost_nok"].first()
        pop = int(grp["population"].iloc[0])
        row = {"scenario": scen, "kommunenummer": str(kommunenummer), "name": grp["name"].iloc[0], "population": pop,
               "share_runs_live": float(live.mean()), "golive_year": float(first.median()) if len(first) else np.nan,
               "oneoff_nok": float(oneoff[live].median()) if live.any() else 0.0,
               "annual_net_nok": float(annual[live].median()) if live.any() else 0.0,
               "npv_net_cost_nok": float(npv.median()), "npv_p05_nok": float(npv.quantile(0.05)), "npv_p95_nok": float(npv.quantile(0.95))}
        row["annual_net_nok_per_inhabitant"] = row["annual_net_nok"] / pop
        if expected is not None:
            e = expected[(expected["scenario"] == scen) & (expected["kommunenummer"].astype(str) == str(kommunenummer))]
            row["expected_nok_per_inhabitant"] = float(e["expected_nok_per_inhabitant"].iloc[0]) if len(e) else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    for c in ("oneoff_nok", "annual_net_nok", "npv_net_cost_nok", "npv_p05_nok", "npv_p95_nok"):
        out[c] = np.rint(out[c]).astype(np.int64)
    return out.round({"share_runs_live": 3, "annual_net_nok_per_inhabitant": 0, "expected_nok_per_inhabitant": 0})


def net_by_year(bands: pd.DataFrame) -> pd.DataFrame:
    """The net cost by year with its band, one column group per scenario side by side (wide)."""
    net = bands[bands["component"] == "net_cost_nok"]
    wide = net.pivot(index="year", columns="scenario", values=["median_nok", "p05_nok", "p95_nok"])
    scen = list(dict.fromkeys(net["scenario"]))
    wide = wide.reindex(columns=[(v, s) for s in scen for v in ("median_nok", "p05_nok", "p95_nok")])
    wide.columns = [f"{s}|{v}" for v, s in wide.columns]
    return wide.reset_index()


def gp_offices(costs_gp: pd.DataFrame, kommunenummer: str) -> pd.DataFrame:
    """The GP offices of one municipality per scenario: size, share of runs in which each joined, net money per
    GP a year (median and 5-95 % band over runs), payback (median over the runs it joined; inf = never),
    price components and the break-even licence price, the licence at which its money term for joining is
    zero: time saved + current record cost + subsidy - annualised one-off (costs_gp's money term of joining
    and break-even licence, valued at the month each office chose; sim.gp_choice)."""
    sel = costs_gp[costs_gp["kommunenummer"].astype(str) == str(kommunenummer)].copy()
    sel["net_nok_per_gp_year"] = sel["money_join_nok_per_gp_year"]
    sel["breakeven_licence_nok_per_gp_year"] = sel["break_even_licence_nok_per_gp_year"]
    sel["joined"] = sel["joined_month"] >= 0
    g = sel.groupby(["scenario", "practice_idx"], sort=False)
    out = pd.DataFrame({
        "n_gps": g["n_gps"].first(), "list_patients": g["list_patients"].first(), "share_runs_joined": g["joined"].mean(),
        "net_nok_per_gp_year": g["net_nok_per_gp_year"].median(), "net_p05": _q(g["net_nok_per_gp_year"], 0.05),
        "net_p95": _q(g["net_nok_per_gp_year"], 0.95),
        "payback_years": g["payback_years"].median(),
        **{c: g[c].median() for c in ("licence_nok_per_gp_year", "annualised_oneoff_nok_per_gp_year", "current_ehr_cost_nok_per_gp_year",
                                       "subsidy_nok_per_gp_year", "time_saved_nok_per_gp_year", "breakeven_licence_nok_per_gp_year")},
    }).reset_index()
    money = [c for c in out.columns if c.endswith("_year") or c in ("net_p05", "net_p95")]
    out[money] = np.rint(out[money]).astype(np.int64)
    return out


# --------------------------------------------------------------------------- files


def display(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``df`` with display names: columns, and the values of ``component`` and ``scenario``."""
    out = df.copy()
    for col in ("component", "scenario", "kind"):
        if col in out:
            out[col] = out[col].map(lambda k: name_of(k, lang))
    out.columns = [" | ".join(name_of(p, lang) for p in str(c).split("|")) for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path: Path, lang: str) -> Path:
    """CSV with display names: ``nb`` uses ``;`` and decimal comma (a Norwegian spreadsheet opens it), ``en`` plain."""
    d = display(df, lang)
    if lang == "nb":
        d.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8-sig")
    else:
        d.to_csv(path, index=False, encoding="utf-8")
    return path


def _format(col: str) -> str | None:
    if col == "nok" or col.endswith("_nok") or col.endswith("_nok_per_gp_year") or col in ("net_p05", "net_p95", "population", "list_patients") \
            or col.rsplit("|", 1)[-1].endswith("_nok"):
        return "#,##0"
    if col.startswith("share_"):
        return "0 %"
    if col in ("annual_net_nok_per_inhabitant", "expected_nok_per_inhabitant"):
        return "#,##0"
    if col == "golive_year":
        return "0"
    if col == "payback_years":
        return "0.0"
    return None


def write_xlsx(sheets: dict[str, pd.DataFrame], path: Path, lang: str = "nb", title: str = "") -> Path:
    """A workbook with one sheet per table (sheet names and headers in ``lang``), NOK as whole kroner with
    thousands separators (``#,##0``: the spreadsheet shows its locale's separator), shares as percent,
    a bold frozen header row and widths that fit; ``title`` goes in the first sheet's name cell note."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for key, df in sheets.items():
        ws = wb.create_sheet(name_of(key, lang)[:31])
        d = display(df, lang)
        ws.append(list(d.columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in d.itertuples(index=False):
            ws.append([None if (isinstance(v, float) and np.isnan(v)) else (float(v) if isinstance(v, np.floating) else
                                                                             int(v) if isinstance(v, np.integer) else v) for v in row])
        for j, col in enumerate(df.columns, start=1):
            fmt = _format(str(col))
            if fmt:
                for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = fmt
            width = max([len(str(d.columns[j - 1]))] + [len(str(v)) for v in d.iloc[:, j - 1].head(200)]) + 2
            ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = min(60, width)
        ws.freeze_panes = "A2"
    if title:
        wb.properties.title = title
    wb.save(path)
    return path
