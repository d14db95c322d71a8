"""The calendar of the cost tables: calendar year of each simulated month, the years the
tables cover, who is on the platform in each month and months on the platform per year."""

from __future__ import annotations

import numpy as np

from sim.config import Config


def month_years(cfg: Config) -> np.ndarray:
    """Calendar year of each simulated month t = 0 .. n_months - 1."""
    y0, m0 = (int(x) for x in cfg.run.start_month.split("-"))
    t = np.arange(cfg.n_months)
    return y0 + (m0 - 1 + t) // 12


def economics_years(cfg: Config) -> np.ndarray:
    """Years of the cost tables: from the first investment year (or the run's first year, if earlier) to the run's last."""
    first = min([int(k) for k in cfg.economics.investment_profile] + [int(month_years(cfg)[0])])
    return np.arange(first, int(month_years(cfg)[-1]) + 1)


def year_of_month(cfg: Config, years: np.ndarray) -> np.ndarray:
    """Y[t, j] = month t falls in calendar year years[j] (bool, n_months x len(years)): summing a
    monthly series into years is ``series @ Y``."""
    return month_years(cfg)[:, None] == np.asarray(years)[None, :]


def on_platform_by_month(start_month: np.ndarray, n_months: int) -> np.ndarray:
    """O[i, t] = start_i >= 0 and t >= start_i: agent i is on the platform in month t (bool, n x n_months).

    ``start_month`` holds month indices t (-1 = never); on from its start month to the end.
    """
    start = np.asarray(start_month, dtype=np.int64)
    t = np.arange(n_months)
    return (start[:, None] >= 0) & (t[None, :] >= start[:, None])


def months_on_by_year(start_month: np.ndarray, cfg: Config, years: np.ndarray) -> np.ndarray:
    """Months on the platform in each year: M[i, y] = #{t in year y : t >= start_i}; 0 when start_i = -1.

    ``start_month`` holds month indices t (-1 = never). Shape (n, len(years)), int64.
    """
    on = on_platform_by_month(start_month, cfg.n_months)
    return on.astype(np.int64) @ year_of_month(cfg, years).astype(np.int64)
