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
* **Providers.** GP practices; one municipal care node per municipality (legevakt, home
  care, nursing homes); the local hospitals; one contract-specialist node per trust area.
  A resident's providers: own practice, own municipality's node, the municipality's local
  hospital and its trust's specialist node, each if contacted in the year. Residents with
  the same provider set are one weighted row of the resident-row x provider incidence.
* **Hand-overs** (:data:`HANDOVERS`), events per person-year given the pattern; a contacted
  type counts its zero-truncated Poisson mean rate / (1 - exp(-rate)) events. Each hospital
  episode (stay or outpatient consultation) of a GP patient: referral GP -> hospital and
  discharge summary hospital -> GP; each stay of a home-care or nursing-home resident:
  admission report municipal -> hospital and discharge report hospital -> municipal; care
  messages municipal <-> GP, ``care_messages_per_care_recipient_year`` each way; each legevakt
  contact of a GP patient: GP record -> legevakt and legevakt note -> GP (channel end
  ``legevakt``, node the municipal one); each contract-specialist consultation of a GP
  patient: referral GP -> specialist and report specialist -> GP. Contact types are
  independent given the age band (a simplification: no correlation between, e.g., stays and
  home care beyond age).
* **Channel.** A hand-over between providers a and b carries information
  ``I = x_a x_b + (1 - x_a x_b) m_ab``: same record with probability x_a x_b (both on the
  platform; fractional x = an expectation), else a message ``m_ab = share (1 - loss x delay)``
  if the pair has a message channel in the config, else nothing (m_ab = 0).
* **Adverse events.** Stays x share with an adverse event x preventable share x share
  preventable from information x (1 - information at the stay's hospital hand-overs, event
  weighted); a stay with no hand-over (no GP, no municipal care) misses nothing.
* **Metrics** per month (:data:`METRIC_COLUMNS`, see :meth:`CareNetwork.metrics`); flows are
  yearly / 12. Hand-over counts are expectations (floats); persons are int64, so with 0/1 x
  coverage is an integer count over one division.
"""

from sim.network.care import CareNetwork, build_network
from sim.network.pathways import (
    CHANNEL_ENDS, CONTACT_PROVIDER, CONTACT_TYPES, HANDOVERS, METRIC_COLUMNS, METRICS, PROVIDER_KINDS, HandOver,
    contact_probabilities, events_if_contacted, handover_events, message_information, pattern_flags,
    pattern_probabilities, split_cohorts, stay_weights,
)

__all__ = [
    "CHANNEL_ENDS", "CONTACT_PROVIDER", "CONTACT_TYPES", "HANDOVERS", "METRIC_COLUMNS", "METRICS", "PROVIDER_KINDS", "CareNetwork",
    "HandOver", "build_network", "contact_probabilities", "events_if_contacted", "handover_events",
    "message_information", "pattern_flags", "pattern_probabilities", "split_cohorts", "stay_weights",
]
