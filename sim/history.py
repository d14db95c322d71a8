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

:func:`option_decision_points` gives the dated counts of first-stage option decisions;
:func:`recorded_decisions` the municipal decisions the history names (by kommunenummer, including
the names a cumulative row gives only in its text, :data:`NAMED_IN_TEXT`), which the model replays
(``rollout.replay_history``); :func:`decision_count_points` the dated counts of both stages, for
the decision likelihood (:mod:`sim.municipal_decision`) and the replay.
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

DECIDED = "n_municipalities_decided"
"""Series name of the municipalities that have decided (observed and simulated tables alike)."""

FORECAST_COLUMNS = ("n_municipalities_live", "n_gp_offices_live", "one_record_coverage", "gain_realized")
"""Series the calibration's forecast reports after the history."""

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


# --------------------------------------------------------------------------- named decisions

NAMED_IN_TEXT: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    # (date, unit) of a cumulative row -> the municipalities its description names, (kommunenummer, name)
    ("2021-10-12", "municipalities_call_off"): (
        ("5037", "Levanger"), ("5038", "Verdal"), ("5054", "Indre Fosen"), ("5058", "Åfjord"), ("5057", "Ørland"),
        ("5025", "Røros"), ("5026", "Holtålen")),
    ("2021-11-11", "municipalities_planned"): (
        ("5001", "Trondheim"), ("5058", "Åfjord"), ("5054", "Indre Fosen"), ("5057", "Ørland"), ("5037", "Levanger"),
        ("5038", "Verdal"), ("5026", "Holtålen"), ("3430", "Os"), ("5025", "Røros"), ("1505", "Kristiansund"),
        ("1579", "Hustadvika"), ("1506", "Molde"), ("1539", "Rauma"), ("1547", "Aukra"), ("1535", "Vestnes"),
        ("1507", "Ålesund"), ("1578", "Fjord"), ("5061", "Rindal"), ("1531", "Sula")),
}
"""Municipalities named only in the text of a cumulative row (tests check each name is in it):
the seven call-off agreements of 2021-10-12 and the plan published 2021-11-11."""

DECISION_EVENTS = ("option", "binding", "golive", "decline", "postpone")


def recorded_decisions() -> pd.DataFrame:
    """The municipal decisions the history names (a copy of :func:`_recorded_decisions`)."""
    return _recorded_decisions().copy()


@lru_cache(maxsize=1)
def recorded_decision_rows() -> tuple[tuple[str, str, str, str], ...]:
    """:func:`recorded_decisions` as (kommunenummer, event, "YYYY-MM", timing) tuples (what the model replays)."""
    d = _recorded_decisions()
    return tuple(zip(d["kommunenummer"], d["event"], d["month"].dt.strftime("%Y-%m"), d["timing"]))


@lru_cache(maxsize=1)
def decision_count_rows() -> tuple[tuple[str, str, int, int], ...]:
    """:func:`decision_count_points` as ("YYYY-MM", measure, low, high) tuples."""
    d = decision_count_points()
    return tuple(zip(d["month"].dt.strftime("%Y-%m"), d["measure"], d["low"].astype(int), d["high"].astype(int)))


@lru_cache(maxsize=1)
def _recorded_decisions() -> pd.DataFrame:
    """The municipal decisions the history names, one row per (municipality, event).

    Columns: kommunenummer, event (option | binding | golive | decline | postpone), month (first
    of month), timing ("exact": the decision was taken that month; "by": it had been taken by then),
    row (date and event type of the history row). Read as:

    * ``option_decision`` rows of one municipality: the option, exact (Trondheim 2019-08,
      Indre Fosen 2020-12, the six councils and Fjord's committee of 2021-06-17);
    * the 2021-11-11 plan: the option by then for the 19 it names (a place in a plan is not a
      binding agreement: five Møre og Romsdal councils put off signing in 2022-05);
    * the 2021-10-12 call-off agreements: binding by then for the seven it names;
    * ``golive_municipality`` rows: the go-live, exact (and so binding by then);
    * ``option_declined`` rows of one municipality: a decline, exact (Averøy 2023-10);
    * ``postponement`` rows of one municipality: a postponement, exact (Kristiansund 2022-06).

    Not read as decisions: Stjørdal's chief executive asking for more time (2022-10, not a council
    decision) and the five unnamed Møre og Romsdal deferrals (a count, :func:`decision_count_points`).
    """
    h = _history()
    one = h[h["kommunenummer"].notna()]
    rows = []

    def add(frame: pd.DataFrame, event: str, timing: str) -> None:
        for _, r in frame.iterrows():
            rows.append({"kommunenummer": r["kommunenummer"], "event": event, "month": r["month"], "timing": timing,
                         "row": f"{r['date']:%Y-%m-%d} {r['event_type']}"})

    add(one[one["event_type"] == "option_decision"], "option", "exact")
    add(one[one["event_type"] == "golive_municipality"], "golive", "exact")
    add(one[one["event_type"] == "option_declined"], "decline", "exact")
    add(one[one["event_type"] == "postponement"], "postpone", "exact")
    for (day, unit), named in NAMED_IN_TEXT.items():
        r = h[(h["date"] == pd.Timestamp(day)) & (h["unit"] == unit)]
        if len(r) != 1:
            raise ValueError(f"{HISTORY_FILE}: expected one {unit} row on {day}, found {len(r)}")
        event = "binding" if unit == "municipalities_call_off" else "option"
        for knr, _ in named:
            rows.append({"kommunenummer": knr, "event": event, "month": r["month"].iloc[0], "timing": "by",
                         "row": f"{day} {r['event_type'].iloc[0]}"})
    out = pd.DataFrame(rows, columns=["kommunenummer", "event", "month", "timing", "row"])
    out["month"] = out["month"].astype("datetime64[ns]")
    return out.sort_values(["month", "event", "kommunenummer"], kind="stable").reset_index(drop=True)


def decision_count_points() -> pd.DataFrame:
    """Dated counts of municipal decisions (source note, step 4), for the likelihood.

    Columns: month, measure (options: exercised the option, incl. later stages; bound: a binding
    agreement, incl. live; option_stage: exercised but not bound), low, high (inclusive; the
    region has 66), label. Counts include Trondheim (co-owner since 2019), so a source that
    leaves it out is one more here:

    * options 2 by 2020-12 (Indre Fosen the second), 19 on 2021-05-26, at least 34 on 2021-11-11;
    * bound 8 on 2021-10-12 (7 call-off agreements besides Trondheim), 18 to 19 in autumn 2022
      (Helseplattformen: 18 owners on 2022-11-11; NRK: 19 signed in 2022-10), 31 and 33 live or
      decided on 2023-06-30 and 2023-09-15;
    * option_stage at least 5 in 2022-05 (five Møre og Romsdal councils put off signing).

    Left out: the two service agreements of 2022-03-22 (the binding stage here starts with the
    call-off agreement, which Røros and Holtålen had signed in 2021).
    """
    n = REGION_MUNICIPALITIES
    rows = [("2020-12", "options", 2, 2, "options 2020-12 (Indre Fosen the second)"),
            ("2021-05", "options", 19, 19, "options 2021-05-26"),
            ("2021-11", "options", 34, n, "options 2021-11-11 (more than half)"),
            ("2021-10", "bound", 8, 8, "call-off agreements 2021-10-12 (7 + Trondheim)"),
            ("2022-05", "option_stage", 5, n, "deferred signing 2022-05 (five Møre og Romsdal councils)"),
            ("2022-11", "bound", 18, 19, "owners 2022-10/11 (18 to 19)"),
            ("2023-06", "bound", 31, 31, "live or decided 2023-06-30"),
            ("2023-09", "bound", 33, 33, "live or decided 2023-09-15")]
    out = pd.DataFrame(rows, columns=["month", "measure", "low", "high", "label"])
    out["month"] = pd.to_datetime(out["month"] + "-01").astype("datetime64[ns]")
    return out
