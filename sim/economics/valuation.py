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


HARMS_BOOKED: tuple[str, ...] = ("harm_productivity_nok_hospital", "harm_letters_nok_gp")
"""Harm columns of the monthly table that the accounts book (the municipal dip is in the municipal bill)."""

LOSS_ACTORS: tuple[str, ...] = ("gp", "municipal", "hospital", "specialist", "patients")
"""Who bears each part of the loss from missing information: search time at the receiving kind; repeat imaging
and adverse-event treatment at the hospital (trusts); adverse events' health at the patients."""


def adverse_event_treatment_nok(cfg: Config) -> float:
    """Treatment cost of one adverse event: extra bed-days x cost per bed-day (NOK)."""
    return cfg.economics.adverse_event_extra_bed_days * cfg.economics.hospital_cost_per_bed_day_nok


def adverse_event_health_nok(cfg: Config) -> float:
    """Health lost by the patient per adverse event, valued: DALY per event x NOK per DALY."""
    return cfg.economics.daly_per_adverse_event * cfg.economics.value_nok_per_daly


def loss_nok_by_actor(search_hours_by_kind: dict[str, float | np.ndarray], repeat_images: float | np.ndarray,
                      adverse_events: float | np.ndarray, cfg: Config) -> dict[str, float | np.ndarray]:
    """NOK of loss per actor (:data:`LOSS_ACTORS`): search hours_k x wage_k at kind k; repeat images x cost per exam
    plus adverse events x treatment cost at the hospital; adverse events x health value at the patients.

    Keys of ``search_hours_by_kind`` must be provider kinds of :func:`hour_value_nok` (a missing kind is 0 hours).
    Arrays broadcast (e.g. one entry per month).
    """
    wage = hour_value_nok(cfg)
    unknown = set(search_hours_by_kind) - set(wage)
    if unknown:
        raise ValueError(f"loss_nok_by_actor: unknown provider kinds {sorted(unknown)} (known: {sorted(wage)})")
    out = {k: search_hours_by_kind.get(k, 0.0) * wage[k] for k in PROVIDER_KINDS_VALUED}
    out["hospital"] = (out["hospital"] + repeat_images * cfg.economics.imaging_cost_nok_per_exam
                       + adverse_events * adverse_event_treatment_nok(cfg))
    out["patients"] = adverse_events * adverse_event_health_nok(cfg)
    return out


def savings_by_month(monthly: pd.DataFrame, no_platform_metrics: dict[str, float] | pd.DataFrame | None = None) -> pd.DataFrame:
    """Search hours saved per provider kind, repeat images and adverse events avoided, per month, against no platform.

    saved_k(t) = H_k(0, t) - H_k(x_t, t), avoided(t) = A(0, t) - A(x_t, t), where H_k = ``search_hours_<kind>``,
    ``repeat_imaging`` and A = ``adverse_events`` are monthly flows and (0, t) is the network with nobody on the
    platform under the status quo of month t: ``no_platform_metrics`` a table with one row per ``t`` (the runner
    passes ``network.metrics(zeros, t)`` for every t) or one dict for every month. Without it the first month of
    ``monthly`` stands in for x = 0 (exact when nobody is live at t = 0, no contract specialist is on the
    platform and the status quo does not move). Columns: t, hours_saved_<kind>, repeat_imaging_avoided,
    adverse_events_avoided, and the harms of :data:`HARMS_BOOKED` as recorded in ``monthly`` (0 if absent).
    """
    t = monthly["t"].to_numpy(dtype=np.int64)
    if isinstance(no_platform_metrics, pd.DataFrame):
        base = no_platform_metrics.set_index("t").reindex(t)
        get = lambda col: base[col].to_numpy(dtype=float)  # noqa: E731
    else:
        b = no_platform_metrics if no_platform_metrics is not None else monthly.sort_values("t").iloc[0].to_dict()
        get = lambda col: float(b[col])  # noqa: E731
    out = pd.DataFrame({"t": t})
    for kind in PROVIDER_KINDS_VALUED:
        col = f"search_hours_{kind}"
        out[f"hours_saved_{kind}"] = get(col) - monthly[col].to_numpy(dtype=float)
    out["repeat_imaging_avoided"] = get("repeat_imaging") - monthly["repeat_imaging"].to_numpy(dtype=float)
    out["adverse_events_avoided"] = get("adverse_events") - monthly["adverse_events"].to_numpy(dtype=float)
    for col in HARMS_BOOKED:  # the platform's own harms of the month, passed on for the accounts (0 if not recorded)
        out[col] = monthly[col].to_numpy(dtype=float) if col in monthly else 0.0
    return out
