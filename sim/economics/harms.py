"""The platform's own harms after go-live, per actor and month (DESIGN.md, Second model version; issue 20).

Pure functions over go-live months; money is 2023 NOK. Three harms:

* **Hospital productivity**: extra cost and lost revenue of a trust in year y after its hospitals go live,
  ``hospital_golive_harm_nok_per_resident_year[y]`` x its catchment residents, spread evenly over the
  year's months (St. Olavs: NOK 290 m in 2022 and 150 m in 2023 over its 345,209 residents).
* **Municipal productivity**: the municipal bill's productivity dip (:func:`sim.economics.bill.productivity_dip_nok`,
  one account of it), spread evenly over ceil(``bill.productivity_dip_months``) months from the go-live month.
* **Incidents: unsent letters**: for ``unsent_letters_weeks`` after a hospital's go-live,
  ``unsent_letters_per_week_per_100k_residents`` x catchment / 100,000 letters a week never sent (St. Olavs
  2022-23); a share ``share_unsent_letters_gp_copy`` lost the GP's copy, each a missing-information event
  at the GP (``search_minutes_per_missing_information_event`` at the GP's hour value).

A month's harm is a flow; the columns are :data:`HARM_COLUMNS`.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config import Config
from sim.economics.bill import productivity_dip_nok

HARM_COLUMNS: tuple[str, ...] = (
    "harm_productivity_nok_hospital", "harm_productivity_nok_municipal", "harm_letters_unsent",
    "harm_letters_nok_gp", "harm_nok",
)

WEEKS_PER_MONTH = 52.0 / 12.0


def year_profile(per_year: list[float], months_since: np.ndarray) -> np.ndarray:
    """Monthly share of a yearly profile: per_year[y] / 12 in months 12 y .. 12 y + 11 after go-live (month 0 =
    the go-live month), 0 before go-live (months_since < 0) and after the profile ends."""
    k = np.asarray(months_since)
    y = np.floor_divide(k, 12)
    prof = np.asarray(list(per_year) + [0.0], dtype=float)
    return np.where((k >= 0) & (y < len(per_year)), prof[np.clip(y, 0, len(per_year))], 0.0) / 12.0


def golive_harms(cfg: Config, t: int | np.ndarray, hospital_live_month: np.ndarray, hospital_residents: np.ndarray,
                 muni_live_month: np.ndarray, muni_users: np.ndarray) -> dict[str, float | np.ndarray]:
    """The harms of month t, or of every month in an array t (keys :data:`HARM_COLUMNS`, NOK and letters per month;
    floats for a scalar t, arrays like t otherwise).

    ``hospital_live_month[h]``, ``muni_live_month[m]``: go-live month index (-1 never); ``hospital_residents[h]``:
    residents of the hospital's catchment; ``muni_users[m]``: municipal platform users
    (:func:`sim.economics.users_by_municipality`). harm_nok is the sum of the NOK columns.
    """
    e, net = cfg.economics, cfg.network
    tt = np.atleast_1d(np.asarray(t, dtype=np.int64))[:, None]
    hl = np.asarray(hospital_live_month, dtype=np.int64)[None, :]
    ml = np.asarray(muni_live_month, dtype=np.int64)[None, :]
    h_since = np.where(hl >= 0, tt - hl, -1)
    m_since = np.where(ml >= 0, tt - ml, -1)
    hosp = year_profile(e.hospital_golive_harm_nok_per_resident_year, h_since) @ np.asarray(hospital_residents, float)
    dip_months = max(1, math.ceil(cfg.bill.productivity_dip_months))
    in_dip = ((m_since >= 0) & (m_since < dip_months)).astype(float)
    muni = in_dip @ (productivity_dip_nok(cfg, np.asarray(muni_users, float)) / dip_months)
    weeks = np.clip(e.unsent_letters_weeks - h_since * WEEKS_PER_MONTH, 0.0, WEEKS_PER_MONTH) * (h_since >= 0)
    letters = weeks @ np.asarray(hospital_residents, float) * e.unsent_letters_per_week_per_100k_residents / 1e5
    letters_nok = (letters * e.share_unsent_letters_gp_copy * net.search_minutes_per_missing_information_event / 60.0
                   * cfg.gp_price.hourly_value_nok)
    out = {"harm_productivity_nok_hospital": hosp, "harm_productivity_nok_municipal": muni,
           "harm_letters_unsent": letters, "harm_letters_nok_gp": letters_nok, "harm_nok": hosp + muni + letters_nok}
    if np.ndim(t) == 0:
        return {k: float(v[0]) for k, v in out.items()}
    return out
