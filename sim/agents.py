"""The three actors of the rollout and the rules they decide by (DESIGN.md, Agents).

* :class:`Hospital`: one per health trust; goes live on the regional plan, possibly late.
  Its go-live shifts everyone's perceived functionality (:func:`perceived_functionality`).
* :class:`Municipality`: holds an option; decides at wave deadlines by a threshold rule
  (:func:`municipal_score`, :func:`decision_probability`) and goes live with its wave.
* :class:`GPPractice`: private; chooses among join / integrate / stay by its own monthly draw
  (:mod:`sim.gp_choice`), whose inputs include :func:`peer_share` and :func:`in_contract_window`.

The rules are pure functions over numpy arrays: the model evaluates them for every agent
at once from the start-of-month state, so the order in which agents act within a month
changes nothing but who takes the last slot of a wave. State lives in the model's arrays
(indexed by each agent's ``idx``); an agent holds its fixed facts and reads and writes its
own entries.
"""

from __future__ import annotations

import itertools
import weakref
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.config import FunctionalitySection
from sim.gp_choice import NO_CHOICE, inverse_cdf_choice
from sim.municipal_decision import (BOUND, DEFER, LIVE, NO, OPTION, UNDECIDED, YES,  # noqa: F401 (re-exported)
                                    decision_probability)

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import RolloutModel

DT_YEARS = 1.0 / 12.0
"""Length of one model step in years (DESIGN.md, Time and units)."""


# --------------------------------------------------------------------------- rules (pure)


def releases_by(t: np.ndarray, first_release_t: int, interval_months: int) -> np.ndarray:
    """Number of releases out by month t: floor((t - t0) / interval) + 1 for t >= t0, else 0."""
    t = np.asarray(t)
    return np.where(t >= first_release_t, (t - first_release_t) // interval_months + 1, 0)


def perceived_functionality(t: np.ndarray, cfg: FunctionalitySection, first_release_t: int,
                            golive_t: np.ndarray) -> np.ndarray:
    """Perceived functionality F(t) in [0, 1] (DESIGN.md, Hospital):

        F(t) = clip(F0 + d * n_rel(t) - sum_k S * exp(-(t - t_k) / tau) * [t >= t_k], 0, 1)

    F0 = ``initial``, d = ``improvement_per_release``, n_rel(t) = :func:`releases_by`,
    S = ``golive_shock``, tau = ``shock_recovery_months``, t_k the go-live month of trust k.
    """
    t = np.asarray(t, dtype=float)
    tk = np.asarray(golive_t, dtype=float).reshape(-1)
    since = t[..., None] - tk  # months since each go-live
    shocks = np.where(since >= 0, cfg.golive_shock * np.exp(-np.maximum(since, 0.0) / cfg.shock_recovery_months), 0.0)
    raw = cfg.initial + cfg.improvement_per_release * releases_by(t.astype(np.int64), first_release_t,
                                                                  cfg.release_interval_months)
    return np.clip(raw - shocks.sum(axis=-1), 0.0, 1.0)


def peer_share(adopted: np.ndarray, n_gps: np.ndarray, muni_idx: np.ndarray, council_idx: np.ndarray,
               weight_municipality: float, weight_council: float, complete: bool = False) -> np.ndarray:
    """GP-weighted adopted share of each practice's peers, s_i in [0, 1].

    Groups: g = municipality, council (practices sharing it, i itself excluded). With
    share_g(i) = sum_{j in g(i), j != i} n_j a_j / sum_{j in g(i), j != i} n_j,

        s_i = sum_g w_g share_g(i) [g(i) non-empty] / sum_g w_g [g(i) non-empty]   (0 if no group)

    ``complete``: every practice is a peer, s_i = sum_j n_j a_j / sum_j n_j (the Bass limit).
    """
    a = np.asarray(adopted, dtype=bool)
    g = np.asarray(n_gps, dtype=float)
    ga = g * a
    if complete:
        return np.full(len(a), ga.sum() / g.sum() if g.sum() > 0 else 0.0)
    num = np.zeros(len(a))
    den = np.zeros(len(a))
    for group, w in ((np.asarray(muni_idx), weight_municipality), (np.asarray(council_idx), weight_council)):
        tot = np.bincount(group, weights=g)[group] - g
        adopted_others = np.bincount(group, weights=ga)[group] - ga
        has = tot > 0
        num += np.where(has, w * adopted_others / np.where(has, tot, 1.0), 0.0)
        den += np.where(has, w, 0.0)
    return np.divide(num, den, out=np.zeros(len(a)), where=den > 0)


def in_contract_window(t: int, contract_end_phase_months: np.ndarray, contract_length_months: float,
                       window_months: float) -> np.ndarray:
    """True where month t lies within ``window`` months before the practice's next contract end.

    Contract ends fall at phi_i + k * L (k integer); with d_i = (phi_i - t) mod L, the practice
    is in its window when d_i < window.
    """
    d = np.mod(np.asarray(contract_end_phase_months) - t, contract_length_months)
    return d < window_months


def municipal_score(headroom: np.ndarray, functionality: float, peers_decided: np.ndarray,
                    gp_share_trust: np.ndarray, *, weight_cost: float, weight_functionality: float,
                    functionality_reference: float, weight_peers: float, weight_gp: float) -> np.ndarray:
    """Score of exercising the option (DESIGN.md, Municipal option decisions):

        score_m = w_c (cap - c_m) / cap + w_F (F - F_ref) + w_p peers_m + w_g gp_m

    headroom = (cap - c_m) / cap with c_m the expected net cost per inhabitant and year;
    peers_m = share of its council peers decided; gp_m = share of GPs on the platform in its trust area.
    """
    return (weight_cost * np.asarray(headroom) + weight_functionality * (functionality - functionality_reference)
            + weight_peers * np.asarray(peers_decided) + weight_gp * np.asarray(gp_share_trust))


# --------------------------------------------------------------------------- agents


class _WeakIdCounters(weakref.WeakKeyDictionary):
    """Mesa's per-model ``unique_id`` counters, holding each model weakly.

    Mesa 3.3 keeps them in ``mesa.Agent._ids``, a class-level dict keyed by the model, so every
    model ever built stays alive with its agents and arrays: memory and GC time grow with every
    run of a sweep or ``mesa.batch_run``. Ids are numbered as Mesa numbers them (from 1 per model).
    """

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = self[model] = itertools.count(1)
            return counter


class RolloutAgent(mesa.Agent):
    """A Mesa agent whose id counter does not keep its model alive once the run is over."""

    _ids = _WeakIdCounters()


class Hospital(RolloutAgent):
    """A health trust and its local hospitals: go live on the plan, possibly late (DESIGN.md, Hospital)."""

    def __init__(self, model: RolloutModel, trust_idx: int, name: str, hospital_idx: np.ndarray,
                 planned_t: int, live_t: int):
        super().__init__(model)
        self.trust_idx, self.name = trust_idx, name
        self.hospital_idx = np.asarray(hospital_idx, dtype=np.int64)  # its local hospitals (region.hospitals rows)
        self.planned_t, self.live_t = planned_t, live_t  # live_t = planned_t + drawn delay

    def go_live(self) -> None:
        """Switch its local hospitals on in the month it goes live (from t = 0 if live before the start)."""
        m = self.model
        if m.t == max(self.live_t, 0):
            m.hospital_live_month[self.hospital_idx] = m.t
            m.mark_changed()


class Municipality(RolloutAgent):
    """A municipal council: option, binding agreement, its wave, possibly exit (sim.municipal_decision)."""

    def __init__(self, model: RolloutModel, idx: int, kommunenummer: str):
        super().__init__(model)
        self.idx, self.kommunenummer = idx, kommunenummer  # idx: its row in the model's arrays

    @property
    def threshold(self) -> float:
        """theta_m, its own heterogeneous threshold (Granovetter), drawn by the model."""
        return float(self.model.muni_threshold[self.idx])

    def decide(self) -> None:
        """Act on its stage at a decision point with the probabilities the model computed for all
        (its uniform of the month: one draw whatever the stage, common random numbers):
        undecided or option: yes, defer or no (binding once open: books a wave, defers if none has
        room); bound with its wave ahead, after the history: postpone; live: leave (exit rule).
        Postponing and leaving take the upper tail of u, like "no", so under common random numbers a
        higher score never turns a yes into a later go-live."""
        m, i = self.model, self.idx
        u, stage, t = m.muni_uniforms[i, m.t], m.muni_stage[i], m.t
        if stage == UNDECIDED or (stage == OPTION and t >= m.binding_first_t):
            p = m.muni_p_option[i] if stage == UNDECIDED else m.muni_p_binding[i]
            a = YES if u < p[YES] else (NO if u >= 1.0 - p[NO] else DEFER)  # sim.municipal_decision.answers
            if not m.rule_allowed(i, a):
                a = DEFER
            if a == YES and stage == UNDECIDED:
                m.exercise_option(i, t)
            elif a == YES and not m.bind(i, t):
                m.defer(i)
            elif a == NO:
                m.decline(i, t)
            elif a == DEFER:
                m.defer(i)
        elif stage == BOUND and not m.replaying() and m.calendar.month_t[m.muni_wave[i]] > t:
            if u >= 1.0 - m.muni_p_postpone[i]:  # the upper tail, like "no": monotone in the score
                m.postpone(i)
        elif stage == LIVE and u >= 1.0 - m.muni_p_exit[i]:
            m.leave(i, t)


class GPPractice(RolloutAgent):
    """A GP office. Private: chooses join / integrate / stay by its own monthly draw (sim.gp_choice)."""

    def __init__(self, model: RolloutModel, idx: int, n_gps: int):
        super().__init__(model)
        self.idx, self.n_gps = idx, n_gps  # idx: this practice's row in the model's arrays

    def decide(self) -> None:
        """Draw this month's choice from h_i(t) and P_i(t), computed for all practices by the model
        (inverse CDF, "join" first); the office decides as one."""
        m = self.model
        u = m.gp_uniforms[self.idx, m.t]  # drawn up front: same draws in every scenario
        code = int(inverse_cdf_choice(u, m.gp_choice_h[self.idx], m.gp_choice_p[self.idx])[0])
        if code != NO_CHOICE and m.gp_join_month[self.idx] < 0:
            m.record_gp_choice(self.idx, code)
