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
from sim.economics import LOSS_ACTORS, adverse_event_health_nok, adverse_event_treatment_nok, hour_value_nok, loss_nok_by_actor
from sim.network.pathways import (
    CONTACT_PROVIDER, CONTACT_TYPES, HANDOVERS, IMAGING_ORDERERS, METRIC_COLUMNS, MUNICIPAL_SERVICES, PROVIDER_KINDS,
    VALUED_KIND, VALUED_KINDS, handover_events, handover_scales, message_information, pattern_flags,
    reference_information, split_cohorts, stay_weights,
)
from sim.network.status_quo import status_quo_information
from sim.region import Region

_GROUPS: tuple[str, ...] = ("info", *(f"search_{k}" for k in VALUED_KINDS), "imaging", "adverse")
"""Sums of the metric pass per status-quo class: hand-over events and each benefit channel's weight."""


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """sum_i a_i b_i summed like ``a.sum()`` (so b = 1 gives exactly a.sum()), without BLAS: a threaded
    BLAS dot on >10k entries stalls when the cores are busy."""
    return float((a * b).sum())


class CareNetwork:
    """Providers, resident rows and hand-over edges of a region, with the vectorised metric pass.

    Provider order (``providers.provider_idx``): practices, then each municipality's home care, nursing
    home and legevakt nodes (three blocks in region row order), hospitals, specialist nodes (one per trust).
    ``subcohorts``: the drawn sub-cohorts (muni_idx, practice_idx, band_idx, pattern, persons, then one bool
    column per contact type). ``rows``: distinct provider sets (node per kind, -1 none) with persons;
    ``incidence``: the rows x providers 0/1 matrix. ``handovers``: one edge per hand-over kind and provider
    pair: handover, sender, receiver, sender_kind, receiver_kind, message_information (the status quo before
    national services), events_per_year, stay_weight_per_year, sq_class (its status-quo class).
    """

    def __init__(self, region: Region, cfg: Config, subcohorts: pd.DataFrame):
        self.cfg = cfg
        net = cfg.network
        munis = region.municipalities
        n_p, n_m, n_h, n_s = len(region.practices), len(munis), len(region.hospitals), len(region.trusts)
        self.n_practices, self.n_municipalities, self.n_hospitals, self.n_specialists = n_p, n_m, n_h, n_s
        sizes = [n_p, n_m, n_m, n_m, n_h, n_s]
        self.offsets = dict(zip(PROVIDER_KINDS, np.cumsum([0, *sizes[:-1]]).tolist()))
        self.n_providers = int(sum(sizes))
        self.practice_gps = region.practices["n_gps"].to_numpy(dtype=float)
        service_name = {"home_care": "home care", "nursing_home": "nursing home", "legevakt": "legevakt"}
        self.providers = pd.DataFrame({
            "provider_idx": np.arange(self.n_providers),
            "kind": np.repeat(PROVIDER_KINDS, sizes),
            "ref_idx": np.concatenate([np.arange(k) for k in sizes]),
            "name": ([f"GP office {i + 1} ({munis['name'].iat[m]})" for i, m in enumerate(region.practices["muni_idx"])]
                     + [f"{n} {service_name[k]}" for k in MUNICIPAL_SERVICES for n in munis["name"]]
                     + list(region.hospitals["local_hospital"])
                     + [f"Contract specialists ({t})" for t in region.trusts["hospital_trust"]]),
        })
        self.hospital_residents = np.bincount(munis["hospital_idx"].to_numpy(), weights=munis["population"].to_numpy(float),
                                              minlength=n_h)

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
        ref = {"gp": sub["practice_idx"].to_numpy(), "home_care": m, "nursing_home": m, "legevakt": m,
               "hospital": munis["hospital_idx"].to_numpy()[m], "specialist": munis["trust_idx"].to_numpy()[m]}
        nodes = np.column_stack([np.where(has[k], self.offsets[k] + ref[k], -1) for k in PROVIDER_KINDS])

        self._build_rows(nodes, persons)
        self._build_edges(nodes, flags, band, persons)
        self._graph: nx.Graph | None = None
        self._set_valuation(cfg)

    # ------------------------------------------------------------------ build

    def _build_rows(self, nodes: np.ndarray, persons: np.ndarray) -> None:
        """Resident rows (one per distinct provider set, persons summed) and the rows x providers incidence."""
        row_nodes, inv = np.unique(nodes, axis=0, return_inverse=True)
        inv = inv.ravel()
        self.rows = pd.DataFrame(row_nodes, columns=[f"{k}_node" for k in PROVIDER_KINDS])
        self.rows["persons"] = np.bincount(inv, weights=persons, minlength=len(row_nodes)).astype(np.int64)
        on = row_nodes >= 0
        self.incidence = sparse.csr_array(
            (np.ones(int(on.sum())), row_nodes[on], np.concatenate([[0], np.cumsum(on.sum(axis=1))])),
            shape=(len(row_nodes), self.n_providers))
        self._w = self.rows["persons"].to_numpy(dtype=float)
        self.residents_total = int(persons.sum())

    def _build_edges(self, nodes: np.ndarray, flags: np.ndarray, band: np.ndarray, persons: np.ndarray) -> None:
        """Hand-over edges, one per (hand-over kind, sender node, receiver node): events and stay weights per
        year summed over the sub-cohorts (persons x per-person rates); status-quo classes; benefit weights."""
        cfg, net = self.cfg, self.cfg.network
        ev_pp = handover_events(flags, band, net, handover_scales(net, flags, persons))
        aw_pp = stay_weights(flags, band, ev_pp, net)
        msg = message_information(net)
        role = {k: i for i, k in enumerate(PROVIDER_KINDS)}
        nh = flags[:, CONTACT_TYPES.index("nursing_home")]
        care_node = np.where(nh, nodes[:, role["nursing_home"]], nodes[:, role["home_care"]])
        kind_of = np.asarray(self.providers["kind"])
        base = self.n_providers + 1
        parts = []
        for j, h in enumerate(HANDOVERS):
            r = np.nonzero(ev_pp[:, j] > 0)[0]
            end = [care_node[r] if e == "care" else nodes[r, role[e]] for e in (h.sender, h.receiver)]
            u, inv = np.unique(end[0] * base + end[1], return_inverse=True)
            s_node, r_node = u // base, u % base
            sk, rk = kind_of[s_node], kind_of[r_node]
            info = [msg.get(frozenset((a, b)), 0.0) if (h.message or msg.get(frozenset((a, b))) == 1.0) else 0.0
                    for a, b in zip(sk, rk)]
            parts.append(pd.DataFrame({
                "handover": h.name, "sender": s_node, "receiver": r_node, "sender_kind": sk, "receiver_kind": rk,
                "message_information": np.asarray(info, dtype=float),
                "events_per_year": np.bincount(inv, weights=persons[r] * ev_pp[r, j], minlength=len(u)),
                "stay_weight_per_year": np.bincount(inv, weights=persons[r] * aw_pp[r, j], minlength=len(u)),
            }))
        e = pd.concat(parts, ignore_index=True)
        cls = e[["sender_kind", "receiver_kind", "message_information"]].drop_duplicates().reset_index(drop=True)
        e["sq_class"] = e.merge(cls.reset_index(), on=["sender_kind", "receiver_kind", "message_information"],
                                how="left")["index"].to_numpy(np.int64)
        self.handovers = e
        self.sq_classes = cls
        self._ea, self._eb = e["sender"].to_numpy(np.int64), e["receiver"].to_numpy(np.int64)
        self._ev = e["events_per_year"].to_numpy()
        self._ev_total = float(self._ev.sum())
        self._cls = e["sq_class"].to_numpy(np.int64)

        # status-quo information per class and month: I_sq[c, t]
        t = np.arange(cfg.n_months)
        self._i_ref = reference_information(net)
        self._i_sq = np.vstack([status_quo_information(net, cfg.run.start_month, t, c.sender_kind, c.receiver_kind,
                                                       c.message_information) for c in cls.itertuples()]) \
            if len(cls) else np.zeros((0, cfg.n_months))

        # benefit weights per edge and year at the observed status quo (I = I_ref): search hours by valued kind,
        # repeat images, preventable adverse events from missing information
        r_obs = net.share_handovers_missing_information
        search = self._ev * r_obs * net.search_minutes_per_missing_information_event / 60.0
        valued = e["receiver_kind"].map(VALUED_KIND).to_numpy()
        orders = e["receiver_kind"].isin(IMAGING_ORDERERS).to_numpy()
        d_ev = float(self._ev[orders].sum())
        repeats = net.imaging_exams_per_person_year * self.residents_total * net.share_images_repeated
        imaging = np.where(orders, self._ev * repeats / d_ev, 0.0) if d_ev > 0 else np.zeros(len(e))
        adverse = (e["stay_weight_per_year"].to_numpy() * net.share_hospital_stays_with_adverse_event
                   * net.share_adverse_events_preventable * net.share_preventable_adverse_events_from_communication)
        weights = np.column_stack([self._ev, *[np.where(valued == k, search, 0.0) for k in VALUED_KINDS], imaging, adverse])
        self._reach = np.array([1.0, *[net.share_missing_information_outside_own_system] * len(VALUED_KINDS),
                                net.repeat_imaging_reduction_shared_record, net.share_missing_information_outside_own_system])
        self._wsum = weights.sum(axis=0)
        # K[(c, g), e] = weight_g(e) [class(e) = c]: S(x) = K @ (1 - x_a x_b) sums each group per class in one product
        n_c, n_g = len(cls), len(_GROUPS)
        rows = (self._cls[:, None] * n_g + np.arange(n_g)[None, :]).ravel()
        cols = np.repeat(np.arange(len(e)), n_g)
        self._K = sparse.csr_array((weights.ravel(), (rows, cols)), shape=(n_c * n_g, len(e)))
        self._n_g = n_g

        # practices: GP-received search weights (own time) and hand-over events touching each practice
        n_p = self.n_practices
        to_gp = self._eb < n_p
        self._gp_in = sparse.csr_array((search[to_gp], (self._eb[to_gp], np.nonzero(to_gp)[0])), shape=(n_p, len(e)))
        gp_end = np.where(self._ea < n_p, self._ea, self._eb)
        other = np.where(self._ea < n_p, self._eb, self._ea)
        touch = (self._ea < n_p) | (self._eb < n_p)
        self._practice_edges = sparse.csr_array((self._ev[touch], (gp_end[touch], np.nonzero(touch)[0])),
                                                shape=(n_p, len(e)))
        self._practice_handovers = sparse.csr_array(
            (self._ev[touch], (gp_end[touch], other[touch])), shape=(n_p, self.n_providers))
        self._practice_den = np.asarray(self._practice_handovers.sum(axis=1)).ravel()

    def _set_valuation(self, cfg: Config) -> None:
        """Value the benefit channels by ``cfg`` (hour values, unit costs); L0(t), L1(t) for every month."""
        self.cfg = cfg
        self._hour_value = hour_value_nok(cfg)
        e = cfg.economics
        # NOK per yearly unit of each group (info carries none), and each group's actor (LOSS_ACTORS)
        self._price = np.array([0.0, *[self._hour_value[k] for k in VALUED_KINDS], e.imaging_cost_nok_per_exam,
                                adverse_event_treatment_nok(cfg)])
        self._s_none = self._sums(np.zeros(self.n_providers))
        self._s_full = self._sums(np.ones(self.n_providers))
        t = np.arange(cfg.n_months)
        none, full = self._frame(self._s_none, t, gain=False), self._frame(self._s_full, t, gain=False)
        self._l0, self._l1 = none["loss_nok"], full["loss_nok"]
        self._l0_actor = {a: none[f"loss_nok_{a}"] for a in LOSS_ACTORS}
        self._sq_info = none["information_available"]

    def revalued(self, cfg: Config) -> CareNetwork:
        """This network under ``cfg``, whose ``region`` and ``network`` sections and run months must equal the ones
        it was built with: a copy sharing every array, valued by ``cfg`` (``gp_price``, ``economics``), so a sweep
        over prices or wages reuses one build. Equals ``build_network(region, cfg)`` exactly."""
        if (cfg.region != self.cfg.region or cfg.network != self.cfg.network
                or (cfg.run.start_month, cfg.run.end_month) != (self.cfg.run.start_month, self.cfg.run.end_month)):
            raise ValueError("revalued: cfg must have the region and network sections and the run months the network "
                             "was built with")
        out = copy.copy(self)
        out._set_valuation(cfg)
        return out

    # ------------------------------------------------------------------ inputs

    def platform_vector(self, gp_live: np.ndarray, muni_live: np.ndarray, hospital_live: np.ndarray) -> np.ndarray:
        """x (n_providers) in [0, 1]: 1 for live practices, the three service nodes of live municipalities and live
        hospitals, 0 for the others; specialist nodes get ``network.specialist_adoption_share``."""
        parts = []
        for name, v, n in (("gp_live", gp_live, self.n_practices), ("muni_live", muni_live, self.n_municipalities),
                           ("hospital_live", hospital_live, self.n_hospitals)):
            a = np.asarray(v)
            if a.shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {a.shape}")
            parts.append(a.astype(float))
        muni = parts[1]
        parts[1:2] = [muni] * len(MUNICIPAL_SERVICES)
        parts.append(np.full(self.n_specialists, self.cfg.network.specialist_adoption_share))
        return np.concatenate(parts)

    def _check(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.shape != (self.n_providers,):
            raise ValueError(f"x must have shape ({self.n_providers},), got {x.shape}")
        if not (x.min(initial=0.0) >= 0.0 and x.max(initial=0.0) <= 1.0):
            raise ValueError("x must lie in [0, 1] (share of each provider on the platform)")
        return x

    def _month(self, t: int) -> int:
        if not 0 <= int(t) < self.cfg.n_months:
            raise ValueError(f"t must be a month index in [0, {self.cfg.n_months - 1}], got {t}")
        return int(t)

    # ------------------------------------------------------------------ the metric pass

    def _sums(self, x: np.ndarray) -> np.ndarray:
        """The pass over x alone: [coverage, same-record share, then S(x) = K @ (1 - x_a x_b), (classes x groups)]
        flattened; everything that depends on t is applied afterwards (:meth:`_at`)."""
        zero = self.incidence @ (x <= 0.0).astype(float)
        logx = self.incidence @ np.log(np.where(x > 0.0, x, 1.0))
        covered = np.where(zero == 0.0, np.exp(logx), 0.0)  # P(every provider of the row on) = prod_p x_p
        coverage = _dot(self._w, covered) / self.residents_total if self.residents_total else 1.0
        same = x[self._ea] * x[self._eb]
        same_share = _dot(self._ev, same) / self._ev_total if self._ev_total > 0 else 1.0
        return np.concatenate([[coverage, same_share], self._K @ (1.0 - same)])

    def _frame(self, sums: np.ndarray, t: np.ndarray, gain: bool = True) -> dict[str, np.ndarray]:
        """The metrics at months t (an array) of one pass (``sums``, a vector) or of one pass per month (rows), as
        arrays over t (flows per month): missing_g(t) = sum_c (1 - I_sq[c, t]) S_cg; loss_g = W_g (1 - f_g) +
        f_g missing_g / (1 - I_ref)."""
        n = len(t)
        sums = np.broadcast_to(sums, (n, sums.shape[-1]))  # one pass for every month, or one per month
        s = sums[:, 2:].reshape(n, -1, self._n_g)
        missing = np.einsum("cn,ncg->ng", 1.0 - self._i_sq[:, t], s)  # (months x groups)
        loss = (self._wsum * (1.0 - self._reach) + self._reach * missing / (1.0 - self._i_ref)) / 12.0
        e = self.cfg.economics
        out = {"one_record_coverage": sums[:, 0].copy(), "handover_same_record": sums[:, 1].copy(),
               "information_available": 1.0 - missing[:, 0] / self._ev_total if self._ev_total > 0 else np.ones(n)}
        if gain:
            out["status_quo_information"] = self._sq_info[t]
        hours = loss[:, 1:1 + len(VALUED_KINDS)]
        out["search_hours"] = hours.sum(axis=1)
        out |= {f"search_hours_{k}": hours[:, i] for i, k in enumerate(VALUED_KINDS)}
        out["search_nok"] = hours @ self._price[1:1 + len(VALUED_KINDS)]
        images, ae = loss[:, -2], loss[:, -1]
        out |= {"repeat_imaging": images, "repeat_imaging_nok": images * e.imaging_cost_nok_per_exam,
                "adverse_events": ae, "adverse_events_treatment_nok": ae * self._price[-1],
                "adverse_events_daly": ae * e.daly_per_adverse_event,
                "adverse_events_health_nok": ae * adverse_event_health_nok(self.cfg)}
        by_actor = loss_nok_by_actor({k: hours[:, i] for i, k in enumerate(VALUED_KINDS)}, images, ae, self.cfg)
        out["loss_nok"] = sum(by_actor.values())
        out |= {f"loss_nok_{a}": v for a, v in by_actor.items()}
        if gain:
            l0, span = self._l0[t], self._l0[t] - self._l1[t]
            out["gain_nok"] = l0 - out["loss_nok"]
            out |= {f"gain_nok_{a}": self._l0_actor[a][t] - out[f"loss_nok_{a}"] for a in LOSS_ACTORS}
            with np.errstate(invalid="ignore", divide="ignore"):
                out["gain_realized"] = np.where(span > 0, np.clip(out["gain_nok"] / span, 0.0, 1.0), 1.0)
        return out

    def loss_nok(self, x: np.ndarray, t: int = 0) -> float:
        """L(x, t): NOK of loss per month from missing information (search, repeat imaging, adverse events)."""
        t = self._month(t)
        return float(self._frame(self._sums(self._check(x)), np.array([t]), gain=False)["loss_nok"][0])

    def timeline(self, x: np.ndarray) -> pd.DataFrame:
        """The metrics of platform vector x held fixed in every month of the run: one row per t (column t, then
        :data:`METRIC_COLUMNS`), e.g. x = 0 for the savings against nobody on the platform."""
        t = np.arange(self.cfg.n_months)
        return pd.DataFrame({"t": t, **self.metrics_at(x, t)})

    def metrics(self, x: np.ndarray, t: int = 0) -> dict[str, float]:
        """The network metrics of month t for platform vector x (keys :data:`METRIC_COLUMNS`; flows per month).

        * one_record_coverage = sum_r w_r prod_{p in r} x_p / sum_r w_r (no contacts = covered);
        * handover_same_record = sum_e E_e x_a x_b / sum_e E_e (E_e hand-over events per year);
        * information_available = sum_e E_e I_e / sum_e E_e, I_e = x_a x_b + (1 - x_a x_b) I_sq,e(t), the
          status quo I_sq (:mod:`sim.network.status_quo`); status_quo_information: the same at x = 0;
        * per benefit channel b (search at the receiving kind, repeat imaging, preventable adverse events), with
          W_be its weight at the observed status quo and f_b the share a shared record removes:
          loss_b = sum_e W_be [(1 - f_b) + f_b (1 - I_e) / (1 - I_ref)] / 12, so at I = I_ref the observed rate;
        * NOK: search hours x wage; repeat images x cost per exam; adverse events x treatment cost (bed-days) and
          x DALY x value per DALY (patients); loss_nok their sum, loss_nok_<actor> by who bears it;
        * gain_nok = L0(t) - L(x, t); gain_realized = gain_nok / (L0(t) - L1(t)), L0 and L1 with nobody and
          everybody on the platform at the same t (1 if L0 = L1).
        """
        f = self._frame(self._sums(self._check(x)), np.array([self._month(t)]))
        return {c: float(f[c][0]) for c in METRIC_COLUMNS}

    def metrics_at(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """:meth:`metrics` of platform vector x at each month of the array t, as arrays over t (one pass over x)."""
        return self.metrics_of_months([x], np.zeros(np.shape(t), dtype=np.int64), t)

    def metrics_of_months(self, platform_sets: list[np.ndarray], set_of_month: np.ndarray, t: np.ndarray
                          ) -> dict[str, np.ndarray]:
        """:meth:`metrics` of a run's months: month t[i] had platform vector platform_sets[set_of_month[i]]; one pass
        per set, then every month at once (arrays over t)."""
        t = np.asarray(t, dtype=np.int64)
        if t.size and (t.min() < 0 or t.max() >= self.cfg.n_months):
            raise ValueError(f"t must be month indices in [0, {self.cfg.n_months - 1}]")
        sums = np.stack([self._sums(self._check(x)) for x in platform_sets])
        f = self._frame(sums[np.asarray(set_of_month, dtype=np.int64)], t)
        return {c: f[c] for c in METRIC_COLUMNS}

    # ------------------------------------------------------------------ per practice (the GP office's choice)

    def practice_search_hours_saved_if_integrated_per_gp_year(self, information_share: float, t: int) -> np.ndarray:
        """Per practice p, the search hours its own GPs would save per GP and year by integrating (own record,
        messages plus read access: every hand-over it receives then carries max(m', I_sq,e(t)) of the information)
        instead of staying, at month t, the others off the platform for p's hand-overs:

            S'_p = sum_{e received by p} W_e f max(m' - I_sq,e(t), 0) / (1 - I_ref) / GPs_p

        (the same W_e, f and I_ref as :meth:`practice_search_hours_saved_per_gp_year`; with m' = 1 it equals the
        saving of joining with every partner on the platform)."""
        t = self._month(t)
        f = self.cfg.network.share_missing_information_outside_own_system
        v = np.maximum(information_share - self._i_sq[self._cls, t], 0.0) * f / (1.0 - self._i_ref)
        return (self._gp_in @ v) / self.practice_gps

    def practice_status_quo_information(self, t: int) -> np.ndarray:
        """Per practice, the information its hand-overs carry at month t without the platform (messages plus the
        national services in use, :func:`sim.network.status_quo.status_quo_information`), hand-over weighted:
        sum_{e touching p} E_e I_sq,e(t) / sum_e E_e (0 for a practice with no hand-overs). This is what an
        office that stays on its own record and "integrates" gets from the status quo."""
        t = self._month(t)
        num = self._practice_edges @ self._i_sq[self._cls, t]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self._practice_den > 0, num / self._practice_den, 0.0)

    def practice_search_hours_saved_per_gp_year(self, x: np.ndarray, t: int) -> np.ndarray:
        """Per practice p, the search hours its own GPs would save per GP and year by joining, the others as in x,
        at month t: sum_{e received by p} W_e f x_sender (1 - I_sq,e(t)) / (1 - I_ref) / GPs_p, W_e the search hours
        of hand-over e at the observed status quo and f = share_missing_information_outside_own_system (joining
        moves x_p from 0 to 1, so I_e rises by x_sender (1 - I_sq,e)). Independent of x_p itself."""
        x = self._check(x)
        t = self._month(t)
        f = self.cfg.network.share_missing_information_outside_own_system
        v = x[self._ea] * (1.0 - self._i_sq[self._cls, t]) * f / (1.0 - self._i_ref)
        return (self._gp_in @ v) / self.practice_gps

    # ------------------------------------------------------------------ the provider graph

    def graph(self) -> nx.Graph:
        """Providers as nodes (kind, name, ref_idx, residents); edges between providers that share residents,
        with ``shared_residents`` (persons per year), ``weight`` = hand-over events per year (both ways) and one
        ``events_<handover>`` attribute per hand-over kind on the edge (events per year, both ways)."""
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
            names = self.handovers["handover"].tolist()
            for i, j, v, h in zip(self._ea.tolist(), self._eb.tolist(), self._ev.tolist(), names):
                d = g.edges[i, j]
                d["weight"] += v
                d[f"events_{h}"] = d.get(f"events_{h}", 0.0) + v
            self._graph = g
        return self._graph

    def write_graphml(self, path) -> None:
        """Write the provider graph as GraphML."""
        nx.write_graphml(self.graph(), str(path))


def build_network(region: Region, cfg: Config) -> CareNetwork:
    """The care network of a region: sub-cohorts drawn once from the region seed, then rows, edges, graph."""
    return CareNetwork(region, cfg, split_cohorts(region.residents, cfg.network, cfg.region.seed))
