"""The information-sharing network: care pathways, the resident-by-provider incidence,
the provider graph and the vectorised metric pass (DESIGN.md: Network model; Definitions:
Providers and the network, Metrics).

The model, rule by rule (each function below implements one):

* **Contacts.** In a year a resident of SSB age band b contacts each of seven contact
  types independently: GP (own list practice), legevakt (emergency primary care),
  hospital inpatient stay, hospital outpatient consultation, contract specialist, each with
  P = 1 - exp(-rate_b) (Poisson events at the config's age-band rate), and home care,
  long-term nursing home with P = share_b. Every cohort of ``region.residents``
  (municipality x practice x age band) is split ONCE, by a multinomial over the 2^7
  contact patterns drawn from ``SeedSequence(region.seed, spawn_key=(2,))``, into
  sub-cohorts with int64 persons (shared by all replicates).
* **Providers.** GP practices; each municipality's home care, nursing home and legevakt as
  nodes of their own; the local hospitals; one contract-specialist node per trust area. A
  resident's providers: own practice, own municipality's service nodes, the municipality's local
  hospital and its trust's specialist node, each if contacted in the year. Residents with the
  same provider set are one weighted row of the resident-row x provider incidence.
* **Hand-overs** (:data:`HANDOVERS`), events per person-year given the pattern, each volume tied to
  a data row (docs/gain_validation.md): referrals, discharge summaries and outpatient letters
  between GP and hospital; admission and discharge reports between hospital and municipal care;
  care (PLO) messages between GP and municipal care, calibrated to the observed count per
  resident; legevakt notes to the GP and to municipal care and the records legevakt needs;
  transfers between home care and nursing home; referrals and reports with contract specialists.
  Contact types are independent given the age band (a simplification).
* **Channel and status quo** (:mod:`sim.network.status_quo`). A hand-over between providers a
  and b carries ``I = x_a x_b + (1 - x_a x_b) I_sq(t)``: same record with probability x_a x_b,
  else the status quo of month t, a message (where the pair has one) raised by the national
  services in use (kjernejournal, document sharing, the shared medication list) on a dated
  timeline.
* **Benefit channels** (search time, repeat imaging, preventable adverse events) scale the rate
  observed in the status quo of messages alone, r_obs [(1 - f) + f (1 - I) / (1 - I_ref)], so no
  rate is counted twice; f is the share a shared record removes, each from a named study.
* **Metrics** per month (:data:`METRIC_COLUMNS`, see :meth:`CareNetwork.metrics`); flows are
  yearly / 12; ``gain_realized`` = (L0(t) - L(x, t)) / (L0(t) - L1(t)) under the same status quo.
  Hand-over counts are expectations (floats); persons are int64, so with 0/1 x coverage is an
  integer count over one division.
"""

from sim.network.care import CareNetwork, build_network
from sim.network.pathways import (
    BENEFITS, CHANNEL_ENDS, CONTACT_PROVIDER, CONTACT_TYPES, HANDOVERS, METRIC_COLUMNS, METRICS, MUNICIPAL_SERVICES,
    PROVIDER_KINDS, VALUED_KIND, VALUED_KINDS, HandOver, contact_probabilities, events_if_contacted, handover_events,
    handover_scales, message_information, pattern_flags, pattern_probabilities, reference_information, split_cohorts,
    stay_weights,
)
from sim.network.status_quo import avoidable_missing_factor, service_use, status_quo_information

__all__ = [
    "BENEFITS", "CHANNEL_ENDS", "CONTACT_PROVIDER", "CONTACT_TYPES", "HANDOVERS", "METRIC_COLUMNS", "METRICS",
    "MUNICIPAL_SERVICES", "PROVIDER_KINDS", "VALUED_KIND", "VALUED_KINDS", "CareNetwork", "HandOver",
    "avoidable_missing_factor", "build_network", "contact_probabilities", "events_if_contacted", "handover_events",
    "handover_scales", "message_information", "pattern_flags", "pattern_probabilities", "reference_information",
    "service_use", "split_cohorts", "status_quo_information", "stay_weights",
]
