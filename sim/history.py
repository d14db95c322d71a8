"""The rollout history to 31 Dec 2023 as data, and the observed monthly series derived from it.

``sim/data/helseplattformen_history.csv`` lists dated, sourced events (its source note,
``helseplattformen_history.md``, says how to read them). :func:`load_history` reads it typed;
:func:`observed_series` derives the monthly series that calibration fits, following the note's
section "Deriving the observed monthly series":

* ``n_municipalities_live``: distinct ``kommunenummer`` among ``golive_municipality`` rows
  dated on or before the month (a go-live counts in its own month);
* ``share_residents_municipalities_live``: population of the live municipalities over the
  population of the whole region, both from the region's population column. **Choice
  recorded:** a fixed denominator, the region's population in ``region.population_year``
  (2023 in the baseline: ``population_2023`` of ``midt_norge_municipalities.csv``, 750,070
  residents in 66 municipalities), the same year for numerator and denominator;
* ``n_gp_offices_live_lower``: GP offices live, a lower bound (0 to 2022-04, 1 from 2022-05:
  Øya legesenter; no later office go-live was found, the upper value is unknown).

:func:`option_decision_points` gives the dated counts of first-stage option decisions.
Nothing here reads a date after ``HISTORY_END`` (2023-12).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from sim.config import Config, data_path, month_index
from sim.region import Region, load_region

HISTORY_FILE = "helseplattformen_history.csv"
HISTORY_END = "2023-12"
"""Last month the history covers; no observation after it exists or may be used in fitting."""

ALL_MUNICIPALITIES = "Helseplattformen (all municipalities)"
"""Actor of the cumulative checkpoint rows (empty kommunenummer)."""

REGION_MUNICIPALITIES = 66
"""Option-holding municipalities in the 2020-2023 structure (source note, Conventions)."""

COLUMNS = ("date", "date_precision", "month", "event_type", "actor", "kommunenummer", "value", "unit",
           "description", "source")


def _parse_date(text: str) -> tuple[pd.Timestamp, str]:
    """``YYYY-MM-DD`` -> (that day, "day"); ``YYYY-MM`` -> (first of the month, "month");
    ``YYYY`` -> (1 January, "year": annual figures such as a year's payments)."""
    s = str(text).strip()
    if len(s) == 10:
        return pd.Timestamp(s), "day"
    if len(s) == 7:
        return pd.Timestamp(f"{s}-01"), "month"
    if len(s) == 4 and s.isdigit():
        return pd.Timestamp(f"{s}-01-01"), "year"
    raise ValueError(f"{HISTORY_FILE}: date must be YYYY, YYYY-MM or YYYY-MM-DD, got {text!r}")


@lru_cache(maxsize=1)
def _history() -> pd.DataFrame:
    raw = pd.read_csv(data_path(HISTORY_FILE), dtype=str, keep_default_na=False)
    parsed = [_parse_date(d) for d in raw["date"]]
    knr = raw["kommunenummer"].str.strip()
    bad = knr[(knr != "") & ~knr.str.fullmatch(r"\d{4}")]
    if len(bad):
        raise ValueError(f"{HISTORY_FILE}: kommunenummer must be 4 digits, got {bad.iloc[0]!r}")
    out = pd.DataFrame({
        "date": pd.to_datetime([d for d, _ in parsed]).astype("datetime64[ns]"),
        "date_precision": [p for _, p in parsed],
        "event_type": raw["event_type"].str.strip(),
        "actor": raw["actor"].str.strip(),
        "kommunenummer": knr.where(knr != "", None).astype("string"),
        "value": pd.to_numeric(raw["value"].replace("", np.nan), errors="raise").astype(float),
        "unit": raw["unit"].str.strip().replace("", None).astype("string"),
        "description": raw["description"],
        "source": raw["source"],
    })
    out.insert(2, "month", out["date"].dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]"))
    if (out["month"] > pd.Timestamp(f"{HISTORY_END}-01")).any():
        raise ValueError(f"{HISTORY_FILE}: rows after {HISTORY_END}")
    return out.sort_values(["date", "event_type"], kind="stable").reset_index(drop=True)


def load_history() -> pd.DataFrame:
    """The event history, typed, one row per event, sorted by date.

    Columns: ``date`` (datetime64; the first of the month when the source gives only a month),
    ``date_precision`` ("day" | "month" | "year"), ``month`` (first of the event's month), ``event_type``,
    ``actor``, ``kommunenummer`` (4-character string, NA unless the actor is one municipality),
    ``value`` (float, NaN if none), ``unit`` (string, NA if none), ``description``, ``source``.
    """
    return _history().copy()


def golive_months() -> pd.Series:
    """Go-live month per municipality (index kommunenummer): the first ``golive_municipality`` row of each."""
    h = _history()
    rows = h[(h["event_type"] == "golive_municipality") & h["kommunenummer"].notna()]
    return rows.groupby("kommunenummer")["month"].min().sort_values(kind="stable")


def checkpoints(unit: str = "municipalities_live") -> pd.DataFrame:
    """Cumulative checkpoint rows of ``unit`` (actor "all municipalities"): columns month, value."""
    h = _history()
    rows = h[(h["unit"] == unit) & (h["actor"] == ALL_MUNICIPALITIES)]
    return rows[["month", "value"]].reset_index(drop=True)


def gp_office_golive_months() -> pd.Series:
    """Month of each dated GP-office go-live (``golive_gp_office`` rows; index: actor)."""
    h = _history()
    rows = h[h["event_type"] == "golive_gp_office"]
    return rows.set_index("actor")["month"]


def _region_of(cfg_or_region: Config | Region) -> Region:
    region = load_region(cfg_or_region.region) if isinstance(cfg_or_region, Config) else cfg_or_region
    missing = sorted(set(golive_months().index) - set(region.municipalities["kommunenummer"]))
    if missing:
        raise ValueError(f"observed_series needs the real region: the history's municipalities {missing[:3]}"
                         f"{'...' if len(missing) > 3 else ''} are not in region {region.name!r}")
    return region


def observed_series(cfg_or_region: Config | Region, start_month: str | None = None,
                    end_month: str = HISTORY_END) -> pd.DataFrame:
    """The observed monthly series from ``start_month`` to ``end_month`` (at most 2023-12).

    For month-end t: ``n_municipalities_live(t) = #{m : golive_m <= t}``;
    ``share_residents_municipalities_live(t) = sum_{m live} pop_m / sum_{all m} pop_m`` with the
    region's (fixed-year) population column; ``n_gp_offices_live_lower(t) = #{GP-office go-lives <= t}``,
    a lower bound. ``start_month`` defaults to the config's ``run.start_month`` (required for a Region).
    Columns: month (datetime64, first of month), t (months since start_month), and the three series.
    """
    if start_month is None:
        if not isinstance(cfg_or_region, Config):
            raise ValueError("observed_series: start_month is required when given a Region")
        start_month = cfg_or_region.run.start_month
    if month_index(end_month, HISTORY_END) > 0:
        raise ValueError(f"observed_series: end_month {end_month} is after the history's end {HISTORY_END}")
    n = month_index(end_month, start_month) + 1
    if n < 1:
        raise ValueError(f"observed_series: end_month {end_month} is before start_month {start_month}")
    region = _region_of(cfg_or_region)
    months = pd.date_range(f"{start_month}-01", periods=n, freq="MS").astype("datetime64[ns]")
    live = golive_months()
    pop = region.municipalities.set_index("kommunenummer")["population"].astype(float)
    live_at = live.to_numpy()[None, :] <= months.to_numpy()[:, None]  # (month, municipality)
    gp_at = gp_office_golive_months().to_numpy()[None, :] <= months.to_numpy()[:, None]
    return pd.DataFrame({
        "month": months,
        "t": np.arange(n, dtype=np.int64),
        "n_municipalities_live": live_at.sum(axis=1).astype(np.int64),
        "share_residents_municipalities_live": live_at @ pop.loc[live.index].to_numpy() / pop.sum(),
        "n_gp_offices_live_lower": gp_at.sum(axis=1).astype(np.int64),
    })


def option_decision_points() -> pd.DataFrame:
    """Dated counts of first-stage option decisions (source note, step 4).

    One row per dated count: month, count, ``lower_bound`` (True where the source gives only
    "more than", e.g. "more than half" on 11 Nov 2021 = at least 34 of 66), and the actor.
    Individual decisions count as points only where the row carries a cumulative value.
    """
    h = _history()
    rows = h[(h["event_type"] == "option_decision")
             & ((h["unit"] == "municipalities") | (h["actor"] == ALL_MUNICIPALITIES) & h["unit"].isna())]
    out = rows[["date", "month", "actor", "value"]].rename(columns={"value": "count"}).reset_index(drop=True)
    more_than_half = out["count"].isna()
    out.loc[more_than_half, "count"] = REGION_MUNICIPALITIES // 2 + 1  # "more than half"
    out["lower_bound"] = more_than_half.to_numpy()
    return out
