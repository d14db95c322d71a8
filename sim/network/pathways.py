"""Care pathways: who contacts which provider types in a year, and the hand-overs that follow.

Pure functions over arrays (DESIGN.md, Network model; Definitions: The region, Providers and the
network). The rules are listed in :mod:`sim.network`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config import NetworkSection
from sim.region import AGE_BANDS, spread_rates_to_bands

PROVIDER_KINDS: tuple[str, ...] = ("gp", "home_care", "nursing_home", "legevakt", "hospital", "specialist")
"""Provider node kinds: GP practices, each municipality's three services (home care, nursing home,
legevakt: DESIGN.md, Second model version), local hospitals, contract specialists per trust."""

MUNICIPAL_SERVICES: tuple[str, ...] = ("home_care", "nursing_home", "legevakt")
"""A municipality's service nodes; all three go live with the municipality."""

VALUED_KIND: dict[str, str] = {"gp": "gp", "home_care": "municipal", "nursing_home": "municipal", "legevakt": "municipal",
                               "hospital": "hospital", "specialist": "specialist"}
"""Provider kind -> the kind whose search time and wage it counts under (sim.economics.hour_value_nok)."""

VALUED_KINDS: tuple[str, ...] = ("gp", "municipal", "hospital", "specialist")

CONTACT_TYPES: tuple[str, ...] = ("gp", "legevakt", "inpatient", "outpatient", "home_care", "nursing_home", "specialist")
"""Contact types of a year; bit i of a contact pattern is CONTACT_TYPES[i]."""

CONTACT_PROVIDER: dict[str, str] = {
    "gp": "gp", "legevakt": "legevakt", "inpatient": "hospital", "outpatient": "hospital",
    "home_care": "home_care", "nursing_home": "nursing_home", "specialist": "specialist",
}
"""The provider kind each contact type goes to."""

CHANNEL_ENDS: tuple[str, ...] = (*PROVIDER_KINDS, "care")
"""End types of a hand-over: a provider kind, or ``care`` = the resident's nursing home if contacted, else home care."""

BENEFITS: tuple[str, ...] = ("search", "imaging", "adverse")
"""Benefit channels of a missing-information event: search time, repeat imaging, preventable adverse events."""

IMAGING_ORDERERS: frozenset[str] = frozenset({"gp", "legevakt", "hospital", "specialist"})
"""Receiving kinds that order imaging (repeat imaging is spread over hand-overs to them)."""

_FLOW_METRICS: tuple[str, ...] = (
    "search_hours", "search_hours_gp", "search_hours_municipal", "search_hours_hospital", "search_hours_specialist",
    "search_nok", "repeat_imaging", "repeat_imaging_nok", "adverse_events", "adverse_events_treatment_nok",
    "adverse_events_daly", "adverse_events_health_nok", "loss_nok", "loss_nok_gp", "loss_nok_municipal",
    "loss_nok_hospital", "loss_nok_specialist", "loss_nok_patients", "gain_nok", "gain_nok_gp", "gain_nok_municipal",
    "gain_nok_hospital", "gain_nok_specialist", "gain_nok_patients",
)
METRICS: dict[str, str] = {
    "one_record_coverage": "stock", "handover_same_record": "stock", "information_available": "stock",
    "status_quo_information": "stock", **dict.fromkeys(_FLOW_METRICS, "flow"), "gain_realized": "stock",
}
"""The network metrics of a month (see :meth:`sim.network.CareNetwork.metrics`) and how a year aggregates them:
a ``stock`` is read at the year's last month, a ``flow`` (per month) is summed over its months
(``sim.runner.summary_row``)."""

METRIC_COLUMNS: tuple[str, ...] = tuple(METRICS)

_RATE_FIELDS: tuple[tuple[str, str, bool], ...] = (  # contact type, config field, is an event rate (else a share)
    ("gp", "gp_consultations_per_person_year", True),
    ("legevakt", "legevakt_contacts_per_person_year", True),
    ("inpatient", "inpatient_stays_per_person_year", True),
    ("outpatient", "outpatient_consultations_per_person_year", True),
    ("home_care", "share_receiving_home_care", False),
    ("nursing_home", "share_long_term_nursing_home", False),
    ("specialist", "specialist_consultations_per_person_year", True),
)


@dataclass(frozen=True)
class HandOver:
    """One kind of hand-over from ``sender`` to ``receiver`` (end types of :data:`CHANNEL_ENDS`).

    Events per person-year = [each group in ``requires`` has a contact] x (sum of the mean event counts
    of the contacted types in ``per``, or 1 when ``per`` is empty) x ``scale`` (a ``network`` field;
    ``"care_messages"``: calibrated so that the region's care messages per resident equal
    ``network.care_messages_per_resident_year``, half each way; ``"hospital_referrals"``: so that referrals per
    resident equal referrals_per_hospital_patient_year x hospital_patients_per_resident_year). ``message``: the
    status quo sends a message for it (where the pair has a message channel); ``source``: the data row behind
    its volume; ``at_stay``: a hand-over of an inpatient stay (admission or discharge), which carries the
    stay's adverse-event weight (:func:`stay_weights`).
    """

    name: str
    sender: str
    receiver: str
    requires: tuple[tuple[str, ...], ...]
    per: tuple[str, ...]
    scale: str | None
    message: bool
    source: str
    at_stay: bool = False


_HOSPITAL, _CARE = ("inpatient", "outpatient"), ("home_care", "nursing_home")
HANDOVERS: tuple[HandOver, ...] = (
    # GP <-> hospital: one referral per hospital patient-year, a discharge summary per stay, a letter per outpatient visit
    HandOver("referral_gp_hospital", "gp", "hospital", (("gp",), _HOSPITAL), (), "hospital_referrals", True,
             "hospital_patients_per_resident_year"),
    HandOver("discharge_summary_hospital_gp", "hospital", "gp", (("gp",), ("inpatient",)), ("inpatient",), None, True,
             "inpatient_stays_per_person_year", at_stay=True),
    HandOver("outpatient_letter_hospital_gp", "hospital", "gp", (("gp",), ("outpatient",)), ("outpatient",), None, True,
             "outpatient_consultations_per_person_year"),
    # hospital <-> municipal care: admission and discharge reports for each stay of a care recipient
    HandOver("admission_report_care_hospital", "care", "hospital", (("inpatient",), _CARE), ("inpatient",), None, True,
             "inpatient_stays_per_person_year", at_stay=True),
    HandOver("discharge_report_hospital_care", "hospital", "care", (("inpatient",), _CARE), ("inpatient",), None, True,
             "inpatient_stays_per_person_year", at_stay=True),
    # GP <-> municipal care: care (PLO) messages, calibrated to the observed count per resident
    HandOver("care_message_care_gp", "care", "gp", (("gp",), _CARE), (), "care_messages", True,
             "care_messages_per_resident_year"),
    HandOver("care_message_gp_care", "gp", "care", (("gp",), _CARE), (), "care_messages", True,
             "care_messages_per_resident_year"),
    # legevakt <-> GP: a note to the GP per legevakt contact; the GP's record needed at legevakt (no message: a lookup)
    HandOver("legevakt_note_gp", "legevakt", "gp", (("gp",), ("legevakt",)), ("legevakt",), None, True,
             "legevakt_contacts_per_person_year"),
    HandOver("gp_record_legevakt", "gp", "legevakt", (("gp",), ("legevakt",)), ("legevakt",), None, False,
             "legevakt_contacts_per_person_year"),
    # inside a municipality: legevakt <-> care services per legevakt contact of a care recipient; home care <-> nursing home
    HandOver("legevakt_note_care", "legevakt", "care", (("legevakt",), _CARE), ("legevakt",), None, True,
             "legevakt_contacts_per_person_year"),
    HandOver("care_record_legevakt", "care", "legevakt", (("legevakt",), _CARE), ("legevakt",), None, False,
             "legevakt_contacts_per_person_year"),
    HandOver("transfer_home_care_nursing_home", "home_care", "nursing_home", (("home_care",), ("nursing_home",)), (),
             None, True, "share_long_term_nursing_home"),
    # contract specialists: one referral per specialist patient-year, a report per consultation
    HandOver("referral_gp_specialist", "gp", "specialist", (("gp",), ("specialist",)), (), "referrals_per_specialist_patient_year",
             True, "referrals_per_specialist_patient_year"),
    HandOver("report_specialist_gp", "specialist", "gp", (("gp",), ("specialist",)), ("specialist",), None, True,
             "specialist_consultations_per_person_year"),
)


# --------------------------------------------------------------------------- pathways


def contact_probabilities(net: NetworkSection) -> np.ndarray:
    """P(at least one contact in the year), (9 SSB bands x 7 contact types):
    1 - exp(-rate_b) for event rates, share_b for home care and nursing home."""
    cols = []
    for _, field, is_rate in _RATE_FIELDS:
        r = spread_rates_to_bands(getattr(net, field), AGE_BANDS)
        cols.append(-np.expm1(-r) if is_rate else r)
    return np.column_stack(cols)


def events_if_contacted(net: NetworkSection) -> np.ndarray:
    """Mean events per person-year given at least one, (9 x 7): the zero-truncated Poisson
    mean rate / (1 - exp(-rate)) (1 as rate -> 0); 1 person-year for home care and nursing home."""
    cols = []
    for _, field, is_rate in _RATE_FIELDS:
        r = spread_rates_to_bands(getattr(net, field), AGE_BANDS)
        if is_rate:
            with np.errstate(invalid="ignore", divide="ignore"):
                cols.append(np.where(r > 0, r / -np.expm1(-r), 1.0))
        else:
            cols.append(np.ones_like(r))
    return np.column_stack(cols)


def pattern_flags() -> np.ndarray:
    """(128 x 7) bool: contact type i is in pattern k iff bit i of k is set."""
    k = np.arange(2 ** len(CONTACT_TYPES))
    return ((k[:, None] >> np.arange(len(CONTACT_TYPES))[None, :]) & 1).astype(bool)


def pattern_probabilities(p_contact: np.ndarray) -> np.ndarray:
    """(bands x 128): P(pattern k) = prod_i p_i^[i in k] (1 - p_i)^[i not in k] (independent types)."""
    f = pattern_flags()
    return np.prod(np.where(f[None, :, :], p_contact[:, None, :], 1.0 - p_contact[:, None, :]), axis=2)


def split_cohorts(residents: pd.DataFrame, net: NetworkSection, seed: int) -> pd.DataFrame:
    """Sub-cohorts (muni_idx, practice_idx, band_idx, pattern, persons): each cohort's persons split by
    one multinomial draw over the contact patterns, from ``SeedSequence(seed, spawn_key=(2,))``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,)))
    probs = pattern_probabilities(contact_probabilities(net))
    band = residents["band_idx"].to_numpy()
    counts = rng.multinomial(residents["persons"].to_numpy(dtype=np.int64), probs[band])
    ci, pat = np.nonzero(counts)
    return pd.DataFrame({
        "muni_idx": residents["muni_idx"].to_numpy()[ci], "practice_idx": residents["practice_idx"].to_numpy()[ci],
        "band_idx": band[ci], "pattern": pat.astype(np.int64), "persons": counts[ci, pat].astype(np.int64),
    })


def _pair(pair: str, key: str) -> frozenset:
    ends = pair.split("-")
    if len(ends) != 2 or any(e not in PROVIDER_KINDS for e in ends):
        raise ValueError(f"network.{key}: {pair!r} must be 'a-b' with a, b in {', '.join(PROVIDER_KINDS)}")
    return frozenset(ends)


def message_information(net: NetworkSection) -> dict[frozenset, float]:
    """Information the status quo carries per provider-kind pair, before national services:
    m = share x max(0, 1 - loss_per_day x delay_days) on the pairs in ``message_channels``, 1 on the
    ``same_record_pairs`` (one record system already), nothing (absent) elsewhere."""
    m = net.message_channel_information_share * max(0.0, 1.0 - net.message_delay_information_loss_per_day
                                                    * net.message_channel_mean_delay_days)
    out = {_pair(p, "message_channels"): m for p in net.message_channels}
    out |= {_pair(p, "same_record_pairs"): 1.0 for p in net.same_record_pairs}
    return out


def reference_information(net: NetworkSection) -> float:
    """I_ref = m: what a message carries, the status quo in which the missing-information rates were observed."""
    return net.message_channel_information_share * max(0.0, 1.0 - net.message_delay_information_loss_per_day
                                                       * net.message_channel_mean_delay_days)


def _requirement(flags: np.ndarray, h: HandOver) -> np.ndarray:
    col = {c: i for i, c in enumerate(CONTACT_TYPES)}
    ok = np.ones(len(flags), dtype=bool)
    for group in h.requires:
        ok &= flags[:, [col[c] for c in group]].any(axis=1)
    return ok


def handover_scales(net: NetworkSection, flags: np.ndarray, persons: np.ndarray) -> dict[str, float]:
    """Each hand-over's ``scale``: the ``network`` field it names; for ``care_messages``
    k = (care_messages_per_resident_year / 2) x residents / persons meeting the requirement (the region's
    care messages per resident then equal the data row, half each way; 0 with nobody eligible); for
    ``hospital_referrals`` k = referrals_per_hospital_patient_year x hospital_patients_per_resident_year x
    residents / persons meeting the requirement."""
    out: dict[str, float] = {}
    total = float(persons.sum())
    for h in HANDOVERS:
        if h.scale is None or h.scale in out:
            continue
        if h.scale in ("care_messages", "hospital_referrals"):
            eligible = float(persons[_requirement(flags, h)].sum())
            per_resident = (0.5 * net.care_messages_per_resident_year if h.scale == "care_messages"
                            else net.referrals_per_hospital_patient_year * net.hospital_patients_per_resident_year)
            out[h.scale] = per_resident * total / eligible if eligible else 0.0
        else:
            out[h.scale] = float(getattr(net, h.scale))
    return out


def handover_events(flags: np.ndarray, band: np.ndarray, net: NetworkSection, scales: dict[str, float]) -> np.ndarray:
    """Hand-over events per person-year, (sub-cohorts x HANDOVERS), by each hand-over's rule
    (``scales`` from :func:`handover_scales`)."""
    n_if = events_if_contacted(net)[band]  # (rows x 7)
    col = {c: i for i, c in enumerate(CONTACT_TYPES)}
    out = np.zeros((len(band), len(HANDOVERS)))
    for j, h in enumerate(HANDOVERS):
        if h.per:
            idx = [col[c] for c in h.per]
            ev = (flags[:, idx] * n_if[:, idx]).sum(axis=1)
        else:
            ev = np.ones(len(band))
        k = 1.0 if h.scale is None else scales[h.scale]
        out[:, j] = np.where(_requirement(flags, h), ev * k, 0.0)
    return out


def stay_weights(flags: np.ndarray, band: np.ndarray, events: np.ndarray, net: NetworkSection) -> np.ndarray:
    """Adverse-event weight of each hand-over per person-year: stays x e_h / sum_{h' of the stay} e_h' for the
    hand-overs of an inpatient stay (``at_stay``: discharge summary to the GP, admission and discharge reports
    with municipal care; 0 elsewhere), so that sum_h weight_h (1 - I_h) = stays x (1 - information at the stay's
    hand-overs). A stay with no hand-over (no GP, no municipal care) misses nothing."""
    stays = flags[:, CONTACT_TYPES.index("inpatient")] * events_if_contacted(net)[band, CONTACT_TYPES.index("inpatient")]
    at_hosp = np.array([h.at_stay for h in HANDOVERS])
    ev = events * at_hosp[None, :]
    total = ev.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, stays[:, None] * ev / total, 0.0)
