"""The care network of a region: resident rows, hand-over edges, the provider graph and the
vectorised metric pass (DESIGN.md, Definitions: Metrics). The rules are listed in :mod:`sim.network`.
"""

from __future__ import annotations

import copy

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse

from sim.config import Config
from sim.economics import gain_value_nok, hour_value_nok
from sim.network.pathways import (
    CHANNEL_ENDS, CONTACT_PROVIDER, CONTACT_TYPES, HANDOVERS, PROVIDER_KINDS, handover_events,
    message_information, pattern_flags, split_cohorts, stay_weights,
)
from sim.region import Region


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """sum_i a_i b_i summed like ``a.sum()`` (so b = 1 gives exactly a.sum()), without BLAS: a threaded
    BLAS dot on >10k entries stalls when the cores are busy."""
    return float((a * b).sum())


class CareNetwork:
    """Providers, resident rows and hand-over edges of a region, with the vectorised metric pass.

    Provider order (``providers.provider_idx``): practices, municipal nodes, hospitals, specialist
    nodes (one per trust), each in region row order. ``subcohorts``: the drawn sub-cohorts
    (muni_idx, practice_idx, band_idx, pattern, persons, then one bool column per contact type).
    ``rows``: distinct provider sets (node per kind, -1 none) with persons; ``incidence``: the
    rows x providers 0/1 matrix. ``handovers``: (handover, sender, receiver, receiver_kind,
    message_information, events_per_year, stay_weight_per_year), one edge per hand-over kind and
    provider pair.
    """

    def __init__(self, region: Region, cfg: Config, subcohorts: pd.DataFrame):
        self.cfg = cfg
        net = cfg.network
        munis = region.municipalities
        n_p, n_m, n_h, n_s = len(region.practices), len(munis), len(region.hospitals), len(region.trusts)
        self.n_practices, self.n_municipalities, self.n_hospitals, self.n_specialists = n_p, n_m, n_h, n_s
        self.offsets = dict(zip(PROVIDER_KINDS, np.cumsum([0, n_p, n_m, n_h])))
        self.n_providers = n_p + n_m + n_h + n_s
        self.providers = pd.DataFrame({
            "provider_idx": np.arange(self.n_providers),
            "kind": np.repeat(PROVIDER_KINDS, [n_p, n_m, n_h, n_s]),
            "ref_idx": np.concatenate([np.arange(k) for k in (n_p, n_m, n_h, n_s)]),
            "name": ([f"GP office {i + 1} ({munis['name'].iat[m]})" for i, m in enumerate(region.practices["muni_idx"])]
                     + [f"{n} municipal care" for n in munis["name"]] + list(region.hospitals["local_hospital"])
                     + [f"Contract specialists ({t})" for t in region.trusts["hospital_trust"]]),
        })

        flags = pattern_flags()[subcohorts["pattern"].to_numpy()]
        sub = subcohorts.copy()
        for i, c in enumerate(CONTACT_TYPES):
            sub[c] = flags[:, i]
        self.subcohorts = sub
        persons = sub["persons"].to_numpy(dtype=np.int64)
        band = sub["band_idx"].to_numpy()
        m = sub["muni_idx"].to_numpy()
        # each sub-cohort's provider node per kind (-1: not contacted this year)
        has = {k: np.zeros(len(sub), dtype=bool) for k in PROVIDER_KINDS}
        for i, c in enumerate(CONTACT_TYPES):
            has[CONTACT_PROVIDER[c]] |= flags[:, i]
        ref = {"gp": sub["practice_idx"].to_numpy(), "municipal": m,
               "hospital": munis["hospital_idx"].to_numpy()[m], "specialist": munis["trust_idx"].to_numpy()[m]}
        nodes = np.column_stack([np.where(has[k], self.offsets[k] + ref[k], -1) for k in PROVIDER_KINDS])

        self._build_rows(nodes, persons)
        self._build_edges(nodes, flags, band, persons)
        self._search_hours_per_event = (net.share_handovers_missing_information
                                        * net.search_minutes_per_missing_information_event / 60.0)
        self._ae_per_stay = (net.share_hospital_stays_with_adverse_event * net.share_adverse_events_preventable
                             * net.share_preventable_from_information)

        # practice x provider: hand-overs each practice receives, events x (1 - m), for its GPs' time saving
        recv = self._eb < n_p
        self._practice_received = sparse.csr_array(
            (self._ev[recv] * self._m_off[recv], (self._eb[recv], self._ea[recv])), shape=(n_p, self.n_providers))

        self._graph: nx.Graph | None = None
        self._set_valuation(cfg)

    def _set_valuation(self, cfg: Config) -> None:
        """Value search hours and adverse events by ``cfg`` (hour values, V(0), V(1))."""
        self.cfg = cfg
        self._hour_value = hour_value_nok(cfg)
        self._v_none = self._loss(np.zeros(self.n_providers))
        self._v_full = self._loss(np.ones(self.n_providers))

    def revalued(self, cfg: Config) -> CareNetwork:
        """This network under ``cfg``, whose ``region`` and ``network`` sections must equal the ones it was
        built with: a copy sharing every array, valued by ``cfg`` (``gp_price``, ``economics``), so a sweep over
        prices or wages reuses one build. Equals ``build_network(region, cfg)`` exactly."""
        if cfg.region != self.cfg.region or cfg.network != self.cfg.network:
            raise ValueError("revalued: cfg must have the region and network sections the network was built with")
        out = copy.copy(self)
        out._set_valuation(cfg)
        return out

    def _build_rows(self, nodes: np.ndarray, persons: np.ndarray) -> None:
        """Resident rows (one per distinct provider set, persons summed) and the rows x providers incidence."""
        base = self.n_providers + 1
        key = ((nodes + 1) * base ** np.arange(nodes.shape[1])[None, :]).sum(axis=1)
        uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
        row_nodes = nodes[first]
        self.rows = pd.DataFrame(row_nodes, columns=[f"{k}_node" for k in PROVIDER_KINDS])
        self.rows["persons"] = np.bincount(inv, weights=persons, minlength=len(uniq)).astype(np.int64)
        on = row_nodes >= 0
        self.incidence = sparse.csr_array(
            (np.ones(int(on.sum())), row_nodes[on], np.concatenate([[0], np.cumsum(on.sum(axis=1))])),
            shape=(len(uniq), self.n_providers))
        self._w = self.rows["persons"].to_numpy(dtype=float)
        self.residents_total = int(persons.sum())

    def _build_edges(self, nodes: np.ndarray, flags: np.ndarray, band: np.ndarray, persons: np.ndarray) -> None:
        """Hand-over edges, one per (hand-over kind, sender node, receiver node): events and stay weights
        per year summed over the sub-cohorts (persons x per-person rates)."""
        net = self.cfg.network
        ev_pp = handover_events(flags, band, net)
        aw_pp = stay_weights(flags, band, ev_pp, net)
        msg = message_information(net)
        role = {k: i for i, k in enumerate(PROVIDER_KINDS)}
        base = self.n_providers + 1
        parts = []
        for j, h in enumerate(HANDOVERS):
            r = np.nonzero(ev_pp[:, j] > 0)[0]
            s_node, r_node = nodes[r, role[CHANNEL_ENDS[h.sender]]], nodes[r, role[CHANNEL_ENDS[h.receiver]]]
            u, inv = np.unique(s_node * base + r_node, return_inverse=True)
            parts.append(pd.DataFrame({
                "handover": h.name, "sender": u // base, "receiver": u % base, "receiver_kind": CHANNEL_ENDS[h.receiver],
                "message_information": msg.get(frozenset((h.sender, h.receiver)), 0.0),
                "events_per_year": np.bincount(inv, weights=persons[r] * ev_pp[r, j], minlength=len(u)),
                "stay_weight_per_year": np.bincount(inv, weights=persons[r] * aw_pp[r, j], minlength=len(u)),
            }))
        self.handovers = e = pd.concat(parts, ignore_index=True)
        self._ea, self._eb = e["sender"].to_numpy(np.int64), e["receiver"].to_numpy(np.int64)
        self._ev = e["events_per_year"].to_numpy()
        self._ev_total = float(self._ev.sum())
        self._m_off = 1.0 - e["message_information"].to_numpy()
        self._aw = e["stay_weight_per_year"].to_numpy()
        self._kind = e["receiver_kind"].map({k: i for i, k in enumerate(PROVIDER_KINDS)}).to_numpy(np.int64)

    # ------------------------------------------------------------------ inputs

    def platform_vector(self, gp_live: np.ndarray, muni_live: np.ndarray, hospital_live: np.ndarray) -> np.ndarray:
        """x (n_providers) in [0, 1]: 1 for live practices, municipal nodes and hospitals, 0 for the others;
        specialist nodes get ``network.specialist_adoption_share``."""
        parts = []
        for name, v, n in (("gp_live", gp_live, self.n_practices), ("muni_live", muni_live, self.n_municipalities),
                           ("hospital_live", hospital_live, self.n_hospitals)):
            a = np.asarray(v)
            if a.shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {a.shape}")
            parts.append(a.astype(float))
        parts.append(np.full(self.n_specialists, self.cfg.network.specialist_adoption_share))
        return np.concatenate(parts)

    def _check(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.shape != (self.n_providers,):
            raise ValueError(f"x must have shape ({self.n_providers},), got {x.shape}")
        if not (x.min(initial=0.0) >= 0.0 and x.max(initial=0.0) <= 1.0):
            raise ValueError("x must lie in [0, 1] (share of each provider on the platform)")
        return x

    # ------------------------------------------------------------------ the metric pass

    def _pass(self, x: np.ndarray) -> tuple[float, float, float, np.ndarray, float]:
        """Raw sums: coverage, same-record share, information, missing-information events by
        receiving kind (per year), expected adverse events from missing information (per year)."""
        zero = self.incidence @ (x <= 0.0).astype(float)
        logx = self.incidence @ np.log(np.where(x > 0.0, x, 1.0))
        covered = np.where(zero == 0.0, np.exp(logx), 0.0)  # P(every provider of the row on) = prod_p x_p
        coverage = _dot(self._w, covered) / self.residents_total if self.residents_total else 1.0
        same = x[self._ea] * x[self._eb]
        missing = (1.0 - same) * self._m_off  # 1 - I, I = same + (1 - same) m
        ev_missing = self._ev * missing
        if self._ev_total > 0:
            same_share = _dot(self._ev, same) / self._ev_total
            info = 1.0 - float(ev_missing.sum()) / self._ev_total
        else:
            same_share = info = 1.0
        by_kind = np.bincount(self._kind, weights=ev_missing, minlength=len(PROVIDER_KINDS))
        adverse = _dot(self._aw, missing) * self._ae_per_stay
        return coverage, same_share, info, by_kind, adverse

    def _monthly_loss(self, by_kind: np.ndarray, adverse: float) -> tuple[np.ndarray, dict[str, float], float, float]:
        """From the yearly sums of :meth:`_pass`: search hours per month (array and by kind), adverse events
        per month and V, the NOK of loss per month (sim.economics.gain_value_nok)."""
        hours = by_kind * self._search_hours_per_event / 12.0
        hours_by_kind = dict(zip(PROVIDER_KINDS, hours.tolist()))
        adverse_month = adverse / 12.0
        return hours, hours_by_kind, adverse_month, float(gain_value_nok(hours_by_kind, adverse_month, self.cfg))

    def _loss(self, x: np.ndarray) -> float:
        """V(x): NOK of loss per month from search hours and adverse events."""
        _, _, _, by_kind, adverse = self._pass(x)
        return self._monthly_loss(by_kind, adverse)[3]

    def metrics(self, x: np.ndarray) -> dict[str, float]:
        """The network metrics of one month for platform vector x (keys :data:`METRIC_COLUMNS`).

        * one_record_coverage = sum_r w_r prod_{p in r} x_p / sum_r w_r (no contacts = covered);
        * handover_same_record = sum_e E_e x_a x_b / sum_e E_e (E_e hand-over events per year);
        * information_available = sum_e E_e I_e / sum_e E_e, I_e = x_a x_b + (1 - x_a x_b) m_e;
        * search_hours_k = sum_{e received by kind k} E_e (1 - I_e) x share_missing x minutes / 60 / 12;
        * search_nok = sum_k search_hours_k x hour_value_nok[k];
        * adverse_events = sum_e S_e (1 - I_e) x share_with_AE x preventable x from_information / 12,
          S_e the stays' weight on hand-over e (stays x information missing at its hospital hand-overs);
        * gain_realized = (V(0) - V(x)) / (V(0) - V(1)), V = gain_value_nok (loss), 1 if V(0) = V(1).
        """
        x = self._check(x)
        coverage, same_share, info, by_kind, adverse = self._pass(x)
        hours, hours_by_kind, adverse_month, v = self._monthly_loss(by_kind, adverse)
        span = self._v_none - self._v_full
        gain = 1.0 if span <= 0 else min(1.0, max(0.0, (self._v_none - v) / span))
        out = {
            "one_record_coverage": coverage, "handover_same_record": same_share, "information_available": info,
            "search_hours": float(hours.sum()),
            **{f"search_hours_{k}": hours_by_kind[k] for k in PROVIDER_KINDS},
            "search_nok": float(sum(hours_by_kind[k] * self._hour_value[k] for k in PROVIDER_KINDS)),
            "adverse_events": adverse_month, "gain_realized": gain,
        }
        return out

    def practice_hours_saved_if_joined(self, x: np.ndarray) -> np.ndarray:
        """Per practice: search hours a year its GPs would save on the hand-overs they receive if it were on
        the platform, the others as in x (its own entry is ignored):

            S_p = sum_{e received by p} E_e x_q (1 - m_e) x share_missing x minutes / 60

        q the sender of e. For a practice on the platform this is its share of ``search_hours_gp``'s saving
        against nobody on the platform (x 12), so the sum over live practices is the region's GP saving.
        """
        # TODO(#20 gain): switch to the gain issue's per-office time saving once sim/network has it
        return (self._practice_received @ self._check(x)) * self._search_hours_per_event

    def practice_hours_saved_if_integrated(self, information_share: float) -> np.ndarray:
        """Per practice: search hours a year its GPs would save by integrating (own record, messages plus
        read access) off the platform, every received hand-over then carrying max(m', m_e) of the information:

            S'_p = sum_{e received by p} E_e max(m' - m_e, 0) x share_missing x minutes / 60
        """
        # TODO(#20 gain): m' from the gain issue's dated status-quo timeline (kjernejournal, document sharing)
        recv = self._eb < self.n_practices
        m = 1.0 - self._m_off[recv]
        gain = self._ev[recv] * np.maximum(information_share - m, 0.0)
        return np.bincount(self._eb[recv], weights=gain, minlength=self.n_practices) * self._search_hours_per_event

    # ------------------------------------------------------------------ the provider graph

    def graph(self) -> nx.Graph:
        """Providers as nodes (kind, name, ref_idx, residents); edges between providers that share residents,
        with ``shared_residents`` (persons per year) and ``weight`` = hand-over events per year (both ways)."""
        if self._graph is None:
            g = nx.Graph()
            a = self.incidence
            shared = (a.T @ (a * self._w[:, None])).tocoo()
            res = np.asarray((a * self._w[:, None]).sum(axis=0)).ravel()
            for p in self.providers.itertuples(index=False):
                g.add_node(int(p.provider_idx), kind=str(p.kind), name=str(p.name), ref_idx=int(p.ref_idx),
                           residents=int(round(res[p.provider_idx])))
            for i, j, v in zip(shared.row.tolist(), shared.col.tolist(), shared.data.tolist()):
                if i < j:
                    g.add_edge(i, j, shared_residents=int(round(v)), weight=0.0)
            for i, j, v in zip(self._ea.tolist(), self._eb.tolist(), self._ev.tolist()):
                g.edges[i, j]["weight"] += v
            self._graph = g
        return self._graph

    def write_graphml(self, path) -> None:
        """Write the provider graph as GraphML."""
        nx.write_graphml(self.graph(), str(path))


def build_network(region: Region, cfg: Config) -> CareNetwork:
    """The care network of a region: sub-cohorts drawn once from the region seed, then rows, edges, graph."""
    return CareNetwork(region, cfg, split_cohorts(region.residents, cfg.network, cfg.region.seed))
