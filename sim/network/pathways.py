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

PROVIDER_KINDS: tuple[str, ...] = ("gp", "municipal", "hospital", "specialist")

CONTACT_TYPES: tuple[str, ...] = ("gp", "legevakt", "inpatient", "outpatient", "home_care", "nursing_home", "specialist")
"""Contact types of a year; bit i of a contact pattern is CONTACT_TYPES[i]."""

CONTACT_PROVIDER: dict[str, str] = {
    "gp": "gp", "legevakt": "municipal", "inpatient": "hospital", "outpatient": "hospital",
    "home_care": "municipal", "nursing_home": "municipal", "specialist": "specialist",
}
"""The provider kind each contact type goes to."""

CHANNEL_ENDS: dict[str, str] = {"gp": "gp", "municipal": "municipal", "legevakt": "municipal",
                                "hospital": "hospital", "specialist": "specialist"}
"""End types of a hand-over (as named in ``network.message_channels``) and their provider kind."""

METRICS: dict[str, str] = {
    "one_record_coverage": "stock", "handover_same_record": "stock", "information_available": "stock",
    "search_hours": "flow", "search_hours_gp": "flow", "search_hours_municipal": "flow",
    "search_hours_hospital": "flow", "search_hours_specialist": "flow",
    "search_nok": "flow", "adverse_events": "flow", "gain_realized": "stock",
}
"""The network metrics of a month and how a year aggregates them: a ``stock`` is read at the
year's last month, a ``flow`` (per month) is summed over its months (``sim.runner.summary_row``)."""

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

    Events per person-year = [each group in ``requires`` has a contact] x (sum of the mean
    event counts of the contacted types in ``per``; care messages per care recipient-year
    when ``per`` is empty).
    """

    name: str
    sender: str
    receiver: str
    requires: tuple[tuple[str, ...], ...]
    per: tuple[str, ...]


_HOSPITAL, _CARE = ("inpatient", "outpatient"), ("home_care", "nursing_home")
HANDOVERS: tuple[HandOver, ...] = (
    # each hospital episode of a GP patient: referral (GP record) in, discharge summary (epikrise) out
    HandOver("referral_gp_hospital", "gp", "hospital", (("gp",), _HOSPITAL), _HOSPITAL),
    HandOver("discharge_summary_hospital_gp", "hospital", "gp", (("gp",), _HOSPITAL), _HOSPITAL),
    # each stay of a municipal care recipient: admission report in, discharge report out
    HandOver("admission_report_municipal_hospital", "municipal", "hospital", (("inpatient",), _CARE), ("inpatient",)),
    HandOver("discharge_report_hospital_municipal", "hospital", "municipal", (("inpatient",), _CARE), ("inpatient",)),
    # care messages between municipal care and the GP, per care recipient-year, each way
    HandOver("care_message_municipal_gp", "municipal", "gp", (("gp",), _CARE), ()),
    HandOver("care_message_gp_municipal", "gp", "municipal", (("gp",), _CARE), ()),
    # each legevakt contact of a GP patient: GP record read at legevakt, legevakt note to the GP
    HandOver("gp_record_legevakt", "gp", "legevakt", (("gp",), ("legevakt",)), ("legevakt",)),
    HandOver("legevakt_note_gp", "legevakt", "gp", (("gp",), ("legevakt",)), ("legevakt",)),
    # each contract-specialist consultation of a GP patient: referral in, report out
    HandOver("referral_gp_specialist", "gp", "specialist", (("gp",), ("specialist",)), ("specialist",)),
    HandOver("report_specialist_gp", "specialist", "gp", (("gp",), ("specialist",)), ("specialist",)),
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


def message_information(net: NetworkSection) -> dict[frozenset, float]:
    """Information a message carries per end-type pair in ``message_channels``:
    m = share x max(0, 1 - loss_per_day x delay_days); pairs not listed carry nothing."""
    m = net.message_channel_information_share * max(0.0, 1.0 - net.message_delay_information_loss_per_day
                                                    * net.message_channel_mean_delay_days)
    out = {}
    for pair in net.message_channels:
        ends = pair.split("-")
        if len(ends) != 2 or any(e not in CHANNEL_ENDS for e in ends):
            raise ValueError(f"network.message_channels: {pair!r} must be 'a-b' with a, b in {sorted(CHANNEL_ENDS)}")
        out[frozenset(ends)] = m
    return out


def handover_events(flags: np.ndarray, band: np.ndarray, net: NetworkSection) -> np.ndarray:
    """Hand-over events per person-year, (sub-cohorts x HANDOVERS), by each hand-over's rule."""
    n_if = events_if_contacted(net)[band]  # (rows x 7)
    col = {c: i for i, c in enumerate(CONTACT_TYPES)}
    out = np.zeros((len(band), len(HANDOVERS)))
    for j, h in enumerate(HANDOVERS):
        ok = np.ones(len(band), dtype=bool)
        for group in h.requires:
            ok &= flags[:, [col[c] for c in group]].any(axis=1)
        if h.per:
            idx = [col[c] for c in h.per]
            ev = (flags[:, idx] * n_if[:, idx]).sum(axis=1)
        else:
            ev = np.full(len(band), net.care_messages_per_care_recipient_year)
        out[:, j] = np.where(ok, ev, 0.0)
    return out


def stay_weights(flags: np.ndarray, band: np.ndarray, events: np.ndarray, net: NetworkSection) -> np.ndarray:
    """Adverse-event weight of each hand-over per person-year: stays x e_h / sum_{h' at the hospital} e_h'
    for hand-overs with a hospital end (0 elsewhere), so that sum_h weight_h (1 - I_h) = stays x
    (1 - information at the hospital hand-overs). A stay with no hand-over misses nothing."""
    stays = flags[:, CONTACT_TYPES.index("inpatient")] * events_if_contacted(net)[band, CONTACT_TYPES.index("inpatient")]
    at_hosp = np.array([CHANNEL_ENDS[h.sender] == "hospital" or CHANNEL_ENDS[h.receiver] == "hospital" for h in HANDOVERS])
    ev = events * at_hosp[None, :]
    total = ev.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, stays[:, None] * ev / total, 0.0)
