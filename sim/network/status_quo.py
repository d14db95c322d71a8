"""The status quo that moves: what a hand-over between two different record systems carries at month t.

Pure functions (DESIGN.md, Second model version: a status quo that improves on a dated timeline of
national services). A hand-over outside the platform carries a message (share ``m`` of what a shared
record gives, ``network.message_channel_information_share`` and delay, on the pairs in
``network.message_channels``; 0 on the others) and, once in use at the receiver, what each national
service s (kjernejournal, document sharing, the shared medication list) supplies of the rest:

    I_sq(t) = 1 - (1 - m) prod_s (1 - c_s a_s(t)),
    a_s(t) = reach_s clip((t - t_s) / ramp_s, 0, 1)  (a step to reach_s at t_s when ramp_s = 0),

c_s = ``information_share``, t_s = the month the service comes into use at the receiving kind
(``in_use_from``), and a_s = 0 where the sender's information is not in the service (``senders``).
The missing-information rates (:func:`avoidable_missing_factor`) are calibrated to the observed
status quo of messages alone, I_ref = m, so no rate is counted twice.
"""

from __future__ import annotations

import numpy as np

from sim.config import NationalService, NetworkSection, month_index


def service_use(service: NationalService, receiver: str, sender: str, t: np.ndarray | int, start_month: str) -> np.ndarray:
    """a_s(t): share of hand-overs from ``sender`` to ``receiver`` at which the service is used at month t
    (months since ``start_month``); reach x clip((t - t_s) / ramp, 0, 1), a step when ramp = 0; 0 where
    the receiver never uses it or the sender's information is not in it."""
    t = np.asarray(t, dtype=float)
    if receiver not in service.in_use_from or (service.senders and sender not in service.senders):
        return np.zeros_like(t)
    t0 = month_index(service.in_use_from[receiver], start_month)
    if service.ramp_months <= 0:
        on = (t >= t0).astype(float)
    else:
        on = np.clip((t - t0) / service.ramp_months, 0.0, 1.0)
    return service.reach * on


def status_quo_information(net: NetworkSection, start_month: str, t: np.ndarray | int, sender: str, receiver: str,
                           message_share: float) -> np.ndarray:
    """I_sq(t) = 1 - (1 - m) prod_s (1 - c_s a_s(t)): the information a hand-over from ``sender`` to
    ``receiver`` carries at month t when the two are on different record systems (m = ``message_share``,
    the pair's message information, 0 without a message channel). In [m, 1], non-decreasing in t
    (each a_s is)."""
    lack = np.full(np.shape(t), 1.0 - message_share)
    for name in type(net.national_services).model_fields:
        s = getattr(net.national_services, name)
        lack = lack * (1.0 - s.information_share * service_use(s, receiver, sender, t, start_month))
    return 1.0 - lack


def avoidable_missing_factor(information: np.ndarray | float, reference_information: float) -> np.ndarray:
    """(1 - I) / (1 - I_ref): the avoidable part of the missing-information rate at information I, relative to
    the observed status quo I_ref (messages alone). A rate observed at I_ref, r_obs, becomes
    r(I) = r_obs [(1 - f) + f (1 - I) / (1 - I_ref)], f the share of the missing information a shared
    record can supply: r(I_ref) = r_obs (no double count), r(1) = r_obs (1 - f)."""
    if reference_information >= 1.0:
        raise ValueError(f"reference information must be < 1, got {reference_information}")
    return (1.0 - np.asarray(information, dtype=float)) / (1.0 - reference_information)
