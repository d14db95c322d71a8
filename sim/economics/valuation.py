"""Money over time and the value of information: annuities, capital charges, NPV, the NOK
value of search hours and adverse events, and the monthly savings against no platform.

Pure functions; money is 2023 NOK (real), rates per year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import Config

PROVIDER_KINDS_VALUED: tuple[str, ...] = ("gp", "municipal", "hospital", "specialist")
"""Provider kinds whose search time is valued (the keys of :func:`hour_value_nok`)."""


def annuity_factor(rate: float, years: float) -> float:
    """Annual payment per NOK of present value: a = r / (1 - (1 + r)^-n); a = 1/n when r = 0.

    ``rate`` is per year (real), ``years`` the repayment period n > 0.
    """
    if years <= 0:
        raise ValueError(f"annuity_factor: years must be > 0, got {years}")
    if rate < 0:
        raise ValueError(f"annuity_factor: rate must be >= 0, got {rate}")
    if rate == 0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** (-years))


def capital_charge_factor(rate: float, years: float) -> float:
    """Equal charges in years 0..n-1 whose present value at year 0 is one NOK: c = a(r, n) / (1 + r).

    n = max(1, round(years)) whole years (charges fall in calendar years); a = :func:`annuity_factor`.
    An annuity-due: the first charge falls in the year the principal is valued.
    """
    n = max(1, int(round(years)))
    return annuity_factor(rate, n) / (1.0 + rate)


def npv(values: np.ndarray, years: np.ndarray, rate: float, base_year: int) -> float:
    """Net present value at ``base_year``: NPV = sum_y v_y (1 + r)^-(y - base_year).

    Values of years before ``base_year`` are compounded forward (exponent < 0), so the NPV is
    the value in ``base_year`` money-time of the whole stream.
    """
    v = np.asarray(values, dtype=float)
    y = np.asarray(years, dtype=float)
    if v.shape != y.shape:
        raise ValueError(f"npv: values {v.shape} and years {y.shape} differ in shape")
    return float(np.sum(v * (1.0 + rate) ** -(y - base_year)))


def hour_value_nok(cfg: Config) -> dict[str, float]:
    """NOK per hour of search time by provider kind: GP hour value, nurse (municipal care), physician (hospital, specialist)."""
    e = cfg.economics
    return {
        "gp": cfg.gp_price.hourly_value_nok,
        "municipal": e.nurse_hourly_cost_nok,
        "hospital": e.physician_hourly_cost_nok,
        "specialist": e.physician_hourly_cost_nok,
    }


def gain_value_nok(search_hours_by_kind: dict[str, float | np.ndarray], adverse_events: float | np.ndarray,
                   cfg: Config) -> float | np.ndarray:
    """NOK of loss: V = sum_k hours_k x wage_k + adverse_events x cost_per_adverse_event (lower is better).

    Keys of ``search_hours_by_kind`` must be provider kinds of :func:`hour_value_nok`; a missing
    kind counts as 0 hours. Arrays broadcast (e.g. one entry per month).
    """
    wage = hour_value_nok(cfg)
    unknown = set(search_hours_by_kind) - set(wage)
    if unknown:
        raise ValueError(f"gain_value_nok: unknown provider kinds {sorted(unknown)} (known: {sorted(wage)})")
    value = adverse_events * cfg.economics.cost_per_adverse_event_nok
    for kind, hours in search_hours_by_kind.items():
        value = value + hours * wage[kind]
    return value


def savings_by_month(monthly: pd.DataFrame, no_platform_metrics: dict[str, float] | None = None) -> pd.DataFrame:
    """Search hours saved per provider kind and adverse events avoided, per month, against no platform.

    saved_k(t) = H_k(0) - H_k(x_t), avoided(t) = A(0) - A(x_t), where H_k = ``search_hours_<kind>`` and
    A = ``adverse_events`` are monthly flows and (0) is the network with nobody on the platform
    (``no_platform_metrics``, e.g. ``network.metrics(zeros)``). Without it the first month of
    ``monthly`` stands in for x = 0 (exact when nobody is live at t = 0 and no contract specialist
    is on the platform). Columns: t, hours_saved_<kind>, adverse_events_avoided.
    """
    base = no_platform_metrics if no_platform_metrics is not None else monthly.sort_values("t").iloc[0].to_dict()
    out = pd.DataFrame({"t": monthly["t"].to_numpy(dtype=np.int64)})
    for kind in PROVIDER_KINDS_VALUED:
        col = f"search_hours_{kind}"
        out[f"hours_saved_{kind}"] = float(base[col]) - monthly[col].to_numpy(dtype=float)
    out["adverse_events_avoided"] = float(base["adverse_events"]) - monthly["adverse_events"].to_numpy(dtype=float)
    return out
