"""The rollout model: one Mesa ``Model`` that wires hospitals, municipalities and GP practices
to the rollout calendar, the economics and the care network, and steps monthly.

A month t (DESIGN.md, Time and units; STYLE.md, agents.py and model.py) runs these phases:

1. hospitals whose (possibly delayed) go-live month is t switch on;
2. to the end of the history (``rollout.replay_history``), the recorded municipal decisions of
   month t happen as recorded (:class:`sim.municipal_decision` names the stages);
3. at a decision point (every ``municipality.decision_interval_months`` to the last wave deadline)
   every municipality acts on its stage, in shuffled order (who books the last slot of a wave):
   option or binding answer (yes, defer, no), postponement of a booked wave, exit where enabled;
   the probabilities are computed for all of them from the start-of-month state and logged;
4. waves due at t are postponed (perceived functionality too low, after the history) or go live,
   and so do the recorded go-lives of month t;
5. GP choices (sim.gp_choice): the choice probability h and the logit's probabilities over join /
   integrate / stay are computed for all practices as arrays from the state after 1-4, and every
   practice with h > 0 draws its choice (the order does not matter: each only touches its own entry);
6. the month is recorded with its set on the platform; :meth:`RolloutModel.monthly` computes the
   network metrics of every month afterwards, one pass per distinct set, the status quo of each
   month on top (the metrics never feed back into decisions), and the platform's harms.

Random numbers (DESIGN.md, Random numbers): one ``SeedSequence`` per run, split into named
child streams (:func:`named_stream`). Uniforms are drawn up front as matrices
``u[agent, month]``, and each agent reads its own entry every month whatever its status, so
two scenarios run with the same seed see the same draws (common random numbers).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.agents import (DT_YEARS, GPPractice, Hospital, Municipality, decision_probability, in_contract_window,
                        municipal_score, peer_share, perceived_functionality)
from sim.config import GP_ALTERNATIVES, Config, month_date
from sim.economics import (GPValuation, gp_price, integrate_money_nok_per_gp_year, join_money_nok_per_gp_year,
                           scaled_to_region)
from sim.gp_choice import (FOLLOW, INTEGRATE, JOIN, choice_probability, choice_rate_per_year, incident_risk_knok,
                           inverse_cdf_choice, logit_probabilities, utility_knok, utility_terms_knok)
from sim.economics import HARM_COLUMNS, golive_harms, users_by_municipality
from sim.economics.bill import legacy_contract_nok_per_year
from sim.municipal_decision import (BOUND, DECLINED, DEFER, EXITED, LIVE, NO, OPTION, UNDECIDED, YES,
                                    budget_capacity_nok_per_inhabitant_year, expected_bill_nok_per_inhabitant_year,
                                    exit_probability, headroom, legacy_overlap_nok_per_inhabitant_year,
                                    postpone_probability, stage_probabilities)
from sim.history import decision_count_rows, recorded_decision_rows
from sim.network import METRICS, build_network
from sim.region import Region, load_region

def _gp(m: "RolloutModel") -> np.ndarray:
    return m.gp_join_month >= 0


def _live(m: "RolloutModel") -> np.ndarray:
    return (m.muni_live_month >= 0) & (m.muni_stage != EXITED)


def _deferred(m: "RolloutModel") -> np.ndarray:
    """Municipalities whose latest answer is a deferral they still wait on."""
    stage = m.muni_stage
    return (m.muni_last_answer == DEFER) & ((stage == UNDECIDED) | (stage == OPTION) | (stage == BOUND))


ADOPTION: dict[str, tuple[str, Callable[["RolloutModel"], float]]] = {
    # column: (aggregation over a year, its value in the month being simulated)
    "t": ("index", lambda m: m.t),
    "functionality": ("stock", lambda m: float(m.functionality[m.t])),
    "n_gp_offices_live": ("stock", lambda m: int(_gp(m).sum())),
    "n_gps_live": ("stock", lambda m: int(m.gp_n[_gp(m)].sum())),
    "share_gp_offices": ("stock", lambda m: float(_gp(m).mean()) if m.n_practices else 0.0),
    "share_gps": ("stock", lambda m: float(m.gp_n[_gp(m)].sum() / max(m.gp_n.sum(), 1))),
    "share_list_patients": ("stock", lambda m: float(m.gp_lists[_gp(m)].sum() / max(m.gp_lists.sum(), 1.0))),
    "share_gps_integrated": ("stock", lambda m: float(m.gp_n[m.gp_choice == INTEGRATE].sum() / max(m.gp_n.sum(), 1))),
    "n_municipalities_decided": ("stock", lambda m: int((m.muni_decision_month >= 0).sum())),
    "n_municipalities_bound": ("stock", lambda m: int((m.muni_binding_month >= 0).sum())),
    "n_municipalities_deferred": ("stock", lambda m: int(_deferred(m).sum())),
    "n_municipalities_declined": ("stock", lambda m: int((m.muni_stage == DECLINED).sum())),
    "n_municipalities_exited": ("stock", lambda m: int((m.muni_stage == EXITED).sum())),
    "n_municipalities_live": ("stock", lambda m: int(_live(m).sum())),
    "share_municipalities_live": ("stock", lambda m: float(_live(m).mean())),
    "share_residents_municipalities_live": ("stock", lambda m: float(m.population[_live(m)].sum() / m.population.sum())),
    "n_hospitals_live": ("stock", lambda m: int((m.hospital_live_month >= 0).sum())),
    "share_hospitals_live": ("stock", lambda m: int((m.hospital_live_month >= 0).sum()) / max(m.n_hospitals, 1)),
}
"""The model's own monthly columns (besides ``month`` and the network's :data:`sim.network.METRICS`),
each with its aggregation over a year (``stock``: the last month; ``flow``: the sum; ``index``: not
aggregated) and its value; the DataCollector records exactly these, so a column declared here
reaches ``monthly()``, the timeseries and the summary."""

ADOPTION_COLUMNS: tuple[str, ...] = tuple(ADOPTION)

NET_COLUMNS: tuple[str, ...] = (*HARM_COLUMNS, "net_benefit_nok")
"""The platform's harms of a month (sim.economics.golive_harms) and net_benefit_nok = gain_nok - harm_nok (flows)."""

MONTHLY_AGGREGATION: dict[str, str] = {**{c: agg for c, (agg, _) in ADOPTION.items()}, **METRICS,
                                       **dict.fromkeys(NET_COLUMNS, "flow")}
"""Every column of :meth:`RolloutModel.monthly` but ``month``, with its aggregation."""


def named_stream(root: np.random.SeedSequence, name: str) -> np.random.Generator:
    """A generator for the stream ``name`` of a run: ``SeedSequence(entropy, spawn_key + (crc32(name),))``.

    Keyed by name, not by position, so adding a stream never shifts the draws of another.
    """
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, key)))


def root_seed(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """The run's ``SeedSequence`` from an int or a ``SeedSequence`` (used as given)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, (bool, float)) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative int or a numpy SeedSequence, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def _per_trust(table: dict, trust: str, key: str):
    """The entry of a per-trust table (``hospitals.<key>``), falling back on ``default``."""
    if trust in table:
        return table[trust]
    if "default" in table:
        return table["default"]
    raise ValueError(f"hospitals.{key}: no entry for trust {trust!r} and no 'default' "
                     f"(known: {', '.join(sorted(table))})")


@dataclass
class WaveCalendar:
    """The municipal rollout waves (DESIGN.md, Rollout calendar): data, not code.

    ``planned_t``: planned month of each wave; ``month_t``: its month after postponements;
    ``deadline_t`` = planned_t - decision_lead_months; ``postponable``: after the history.
    """

    planned_t: np.ndarray
    month_t: np.ndarray
    deadline_t: np.ndarray
    capacity_left: np.ndarray
    postponable: np.ndarray

    @classmethod
    def from_config(cls, cfg: Config) -> "WaveCalendar":
        """The calendar of ``[rollout]``: months as t, deadlines ``decision_lead_months`` before them."""
        ro = cfg.rollout
        planned = np.array([cfg.t_of(m) for m in ro.wave_months], dtype=np.int64)
        return cls(planned_t=planned, month_t=np.maximum(planned, 0),
                   deadline_t=planned - cfg.municipality.decision_lead_months,
                   capacity_left=np.array(ro.wave_capacity, dtype=np.int64),
                   postponable=np.array([m > ro.history_end_month for m in ro.wave_months], dtype=bool))

    def book(self, t: int | None) -> int:
        """Take a slot in the earliest wave with free capacity whose deadline is >= t (any wave if
        t is None); returns the wave index, or -1 when no wave has room."""
        ok = self.capacity_left > 0
        if t is not None:
            ok &= self.deadline_t >= t
        free = np.flatnonzero(ok)
        if len(free) == 0:
            return -1
        w = int(free[0])
        self.capacity_left[w] -= 1
        return w

    def book_after(self, w: int) -> int:
        """Move a booking from wave w to the next later wave with room (-1, booking kept, if none)."""
        later = np.flatnonzero((self.capacity_left > 0) & (np.arange(len(self.capacity_left)) > w))
        if len(later) == 0:
            return -1
        self.capacity_left[w] += 1
        self.capacity_left[later[0]] -= 1
        return int(later[0])

    def due(self, t: int, functionality: float, below: float, postpone_months: int) -> np.ndarray:
        """Waves that go live at t; postponable waves due at t slip by ``postpone_months`` when
        functionality < ``below`` (checked again at the new month)."""
        at_t = self.month_t == t
        slip = at_t & self.postponable & (functionality < below) & (postpone_months > 0)
        self.month_t[slip] += postpone_months
        return np.flatnonzero(at_t & ~slip)


class RolloutModel(mesa.Model):
    """Helseplattformen's rollout, monthly from ``run.start_month`` to ``run.end_month``.

    After :meth:`run`: ``gp_join_month`` (n_practices), ``muni_decision_month`` (option
    exercised), ``muni_binding_month``, ``muni_live_month``, ``muni_decline_month``,
    ``muni_exit_month`` (n_municipalities), ``hospital_live_month`` (n_hospitals), all int64
    month indices with -1 for never; ``muni_stage`` (int8, :data:`sim.municipal_decision.STAGES`),
    ``muni_declined`` (bool); :meth:`monthly`, :meth:`stage_by_month`, :meth:`decision_log`.
    """

    def __init__(self, cfg: Config, region: Region | None = None, network=None,
                 seed: int | np.random.SeedSequence = 0):
        self.seed_sequence = root_seed(seed)
        super().__init__(rng=named_stream(self.seed_sequence, "activation"))
        self.region = region if region is not None else load_region(cfg.region)
        self.cfg = cfg = scaled_to_region(cfg, self.region)  # money frames of a synthetic region scale with it
        if network is None:
            network = build_network(self.region, cfg)
        self.network = network
        self.n_months = cfg.n_months
        self.t = -1  # month being simulated; -1 before the first step
        self._setup_arrays()
        self._draw()
        self._create_agents()
        self.functionality = perceived_functionality(np.arange(self.n_months), cfg.functionality,
                                                     cfg.t_of(cfg.functionality.first_release_month),
                                                     np.array([h.live_t for h in self._hospitals]))
        self._economics_inputs()
        self._replay_setup()
        self._precommit()
        self._on_platform: dict[str, Any] = {}  # values derived from the set on the platform; emptied when it changes
        self.n_metric_passes = 0
        self.gp_choice_h = np.zeros(self.n_practices)  # h_i(t): probability of a choice this month
        self.gp_choice_p = np.zeros((self.n_practices, len(GP_ALTERNATIVES)))  # P_i(a | choice) this month
        self._platform_sets: list[np.ndarray] = []
        self._month_set = np.full(self.n_months, -1, dtype=np.int64)
        self.muni_p_option = np.zeros((self.n_munis, 3))  # answer probabilities at the current decision point
        self.muni_p_binding = np.zeros((self.n_munis, 3))
        self.muni_p_postpone = np.zeros(self.n_munis)
        self.muni_p_exit = np.zeros(self.n_munis)
        self._decision_log: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        self._stage_hist = np.zeros((self.n_months, self.n_munis), dtype=np.int8)
        self._deferred_hist = np.zeros((self.n_months, self.n_munis), dtype=bool)
        self._option_hist = np.zeros((self.n_months, self.n_munis), dtype=bool)
        self._bound_hist = np.zeros((self.n_months, self.n_munis), dtype=bool)
        self.datacollector = mesa.DataCollector(model_reporters={
            c: value for c, (_, value) in ADOPTION.items()})

    # ------------------------------------------------------------------ setup

    def _setup_arrays(self) -> None:
        reg, cfg = self.region, self.cfg
        mu, pr = reg.municipalities, reg.practices
        self.n_munis, self.n_practices, self.n_hospitals = len(mu), len(pr), len(reg.hospitals)
        self.population = mu["population"].to_numpy(dtype=float)
        self.hospital_residents = np.bincount(mu["hospital_idx"].to_numpy(), weights=self.population,
                                              minlength=len(reg.hospitals))
        self.muni_council = mu["council_idx"].to_numpy(dtype=np.int64)
        self.muni_trust = mu["trust_idx"].to_numpy(dtype=np.int64)
        self.gp_muni = pr["muni_idx"].to_numpy(dtype=np.int64)
        self.gp_council = self.muni_council[self.gp_muni]
        self.gp_trust = self.muni_trust[self.gp_muni]
        self.gp_n = pr["n_gps"].to_numpy(dtype=np.int64)
        self.gp_lists = pr["list_patients"].to_numpy(dtype=float)
        self.gp_salaried = pr["salaried"].to_numpy(dtype=bool)
        self.gp_follows = self.gp_salaried & cfg.gp.salaried_follow_municipality
        self.gps_per_trust = np.bincount(self.gp_trust, weights=self.gp_n, minlength=len(reg.trusts))
        self.gp_join_month = np.full(self.n_practices, -1, dtype=np.int64)
        # the office's last choice (sim.gp_choice codes; FOLLOW: joined with its municipality; -1: none yet),
        # and what it was valued at in that month (one account of money: costs_gp.csv reads these)
        self.gp_choice = np.full(self.n_practices, -1, dtype=np.int64)
        self.gp_choice_month = np.full(self.n_practices, -1, dtype=np.int64)
        self.gp_valued_month = np.full(self.n_practices, -1, dtype=np.int64)
        self.gp_time_saved_nok = np.zeros(self.n_practices)  # join: NOK/GP/year at the valued month
        self.gp_subsidy_nok = np.zeros(self.n_practices)
        self.gp_money_knok = np.zeros((self.n_practices, len(GP_ALTERNATIVES)))  # money term used in the choice
        self.gp_time_saved_by_month = np.zeros((self.n_practices, cfg.n_months))  # join: NOK/GP/year at end of t
        self.gp_integrated_by_month = np.zeros((self.n_practices, cfg.n_months), dtype=bool)
        self.muni_stage = np.full(self.n_munis, UNDECIDED, dtype=np.int8)
        self.muni_decision_month = np.full(self.n_munis, -1, dtype=np.int64)  # option exercised
        self.muni_binding_month = np.full(self.n_munis, -1, dtype=np.int64)
        self.muni_live_month = np.full(self.n_munis, -1, dtype=np.int64)
        self.muni_decline_month = np.full(self.n_munis, -1, dtype=np.int64)
        self.muni_exit_month = np.full(self.n_munis, -1, dtype=np.int64)
        self.muni_wave = np.full(self.n_munis, -1, dtype=np.int64)
        self.muni_last_answer = np.full(self.n_munis, -1, dtype=np.int8)  # YES, DEFER (or postponed), NO; -1 none
        self.muni_deferrals = np.zeros(self.n_munis, dtype=np.int64)
        self.hospital_live_month = np.full(self.n_hospitals, -1, dtype=np.int64)
        self.muni_peers = self._peer_matrix()
        self.calendar = WaveCalendar.from_config(cfg)
        mc = cfg.municipality
        first = max(cfg.t_of(mc.first_decision_month), 0)
        last = min(int(self.calendar.deadline_t.max()) if len(self.calendar.deadline_t) else -1, self.n_months - 1)
        self.decision_points = np.arange(first, last + 1, mc.decision_interval_months, dtype=np.int64)
        self.decision_months = frozenset(int(d) for d in self.decision_points)
        self.binding_first_t = cfg.t_of(mc.binding_first_month)
        self.history_end_t = cfg.t_of(cfg.rollout.history_end_month)

    @property
    def muni_declined(self) -> np.ndarray:
        """True where the council said no (final for the horizon)."""
        return self.muni_stage == DECLINED

    def _peer_matrix(self) -> np.ndarray:
        """Row-normalised peers of each municipality: its council's other members, or its trust
        area's when it is alone in its council."""
        c, tr = self.muni_council, self.muni_trust
        same_council = c[:, None] == c[None, :]
        same_trust = tr[:, None] == tr[None, :]
        np.fill_diagonal(same_council, False)
        np.fill_diagonal(same_trust, False)
        peers = np.where(same_council.any(axis=1)[:, None], same_council, same_trust).astype(float)
        n = peers.sum(axis=1, keepdims=True)
        return np.divide(peers, n, out=np.zeros_like(peers), where=n > 0)

    def _draw(self) -> None:
        """All random draws of the run, up front, each from its own named stream."""
        cfg, root = self.cfg, self.seed_sequence
        n_trusts = len(self.region.trusts)
        rng = named_stream(root, "hospital_delays")
        self.u_hospital_slip, self.u_hospital_delay = rng.random(n_trusts), rng.random(n_trusts)
        z = named_stream(root, "municipal_thresholds").standard_normal(self.n_munis)
        self.muni_threshold = cfg.municipality.threshold_mean + cfg.municipality.threshold_sd * z
        self.muni_budget_z = named_stream(root, "municipal_budgets").standard_normal(self.n_munis)
        self.muni_contract_u = named_stream(root, "municipal_contract_ends").random(self.n_munis)
        self.muni_uniforms = named_stream(root, "municipal_uniforms").random((self.n_munis, self.n_months))
        self.gp_uniforms = named_stream(root, "gp_uniforms").random((self.n_practices, self.n_months))
        self.contract_length_months = 12.0 * cfg.gp.contract_length_years
        self.contract_end_phase = named_stream(root, "contract_ends").random(self.n_practices) * self.contract_length_months

    def _create_agents(self) -> None:
        cfg, reg = self.cfg, self.region
        hc = cfg.hospitals
        hosp_trust = reg.hospitals["trust_idx"].to_numpy()
        self._hospitals = []
        for k, name in enumerate(reg.trusts["hospital_trust"]):
            planned = cfg.t_of(_per_trust(hc.golive_month, name, "golive_month"))
            slips = self.u_hospital_slip[k] < _per_trust(hc.delay_probability, name, "delay_probability")
            delay = 1 + int(self.u_hospital_delay[k] * hc.delay_months_max) if slips and hc.delay_months_max > 0 else 0
            self._hospitals.append(Hospital(self, k, name, np.flatnonzero(hosp_trust == k), planned, planned + delay))
        for m, knr in enumerate(reg.municipalities["kommunenummer"]):
            Municipality(self, m, knr)
        self.gp_practices = [GPPractice(self, i, int(n)) for i, n in enumerate(self.gp_n)]  # by idx

    def _economics_inputs(self) -> None:
        """The numbers the agents take from the economics: municipal headroom, GP net price (kNOK)."""
        cfg = self.cfg
        mc = cfg.municipality
        self.muni_net_cost = expected_bill_nok_per_inhabitant_year(cfg, self.region)
        self.muni_capacity = budget_capacity_nok_per_inhabitant_year(mc.budget_capacity_nok_per_inhabitant_year,
                                                                     mc.budget_capacity_log_sd, self.muni_budget_z)
        self.muni_contract_end_t = np.floor(self.muni_contract_u * 12.0 * mc.contract_end_spread_years).astype(np.int64)
        self.muni_switch_back_score = (mc.weight_cost * mc.switch_back_cost_nok_per_inhabitant
                                       / cfg.bill.appraisal_years / self.muni_capacity)
        # the legacy record-system contract of each municipality (sim.economics.bill), per inhabitant and year
        pop = self.region.municipalities["population"].to_numpy(dtype=float)
        self.muni_legacy_nok_per_inhabitant = legacy_contract_nok_per_year(cfg, users_by_municipality(cfg, self.region)) / pop
        g = cfg.gp
        self.gp_price = gp_price(cfg)
        self.agreement_t = cfg.t_of(cfg.agreement.start_month)
        self.gp_incident_t = np.array([cfg.t_of(m) for m in g.incident_months], dtype=float)
        self.gp_offered_alternatives = np.isin(GP_ALTERNATIVES, g.alternatives)
        self.gp_beta = np.inf if "random" in g.zero_terms else g.beta_u_per_knok
        self.gp_integrate_time_saved_nok = np.zeros(self.n_practices)  # integrate: NOK/GP/year at the valued month

    def _replay_setup(self) -> None:
        """The recorded decisions as forced events, by kommunenummer (``rollout.replay_history``).

        ``replay_events[t]``: (municipality, event) pairs of month t (events before the start at
        t = 0); a recorded go-live books the wave of its month; to the end of the history a named
        municipality takes no rule decision the record contradicts (:meth:`rule_allowed`).
        Municipalities the history does not name, and every municipality of a synthetic region,
        follow the rules throughout, except that the history's dated counts hold
        (:meth:`_condition_on_counts`, ``replay_counts[t]``).
        """
        n = self.n_munis
        self.replay_events: dict[int, list[tuple[int, str]]] = {}
        self.replay_named = np.zeros(n, dtype=bool)
        self.replay_exact_option_t = np.full(n, -1, dtype=np.int64)
        self.replay_golive_t = np.full(n, -1, dtype=np.int64)
        self.replay_declines = np.zeros(n, dtype=bool)
        self.replay_option_pinned_t = np.full(n, -1, dtype=np.int64)  # first month the record fixes its option
        self.replay_binding_pinned_t = np.full(n, -1, dtype=np.int64)  # ... its binding agreement
        self.replay_counts: dict[int, list[tuple[str, int, int]]] = {}
        if not self.cfg.rollout.replay_history:
            return
        index = {k: i for i, k in enumerate(self.region.municipalities["kommunenummer"])}
        end = self.cfg.rollout.history_end_month
        for knr, event, month, timing in recorded_decision_rows():
            if knr not in index or month > end:
                continue
            m, t = index[knr], max(self.cfg.t_of(month), 0)
            if t >= self.n_months:
                continue
            self.replay_named[m] = True
            self.replay_events.setdefault(t, []).append((m, event))
            for pinned, events in ((self.replay_option_pinned_t, ("option", "binding", "golive")),
                                   (self.replay_binding_pinned_t, ("binding", "golive"))):
                if event in events and (pinned[m] < 0 or t < pinned[m]):
                    pinned[m] = t
            if event == "option" and timing == "exact":
                self.replay_exact_option_t[m] = t
            elif event == "golive":
                self.replay_golive_t[m] = t
                w = np.flatnonzero(self.calendar.planned_t == t)
                if len(w) and self.muni_wave[m] < 0:
                    self.muni_wave[m] = int(w[0])
                    self.calendar.capacity_left[w[0]] -= 1
            elif event == "decline":
                self.replay_declines[m] = True
        for t in self.replay_events:  # a municipality's events of one month in stage order
            order = {"option": 0, "binding": 1, "postpone": 2, "decline": 3, "golive": 4}
            self.replay_events[t].sort(key=lambda e: order[e[1]])
        if not self.replay_named.any():
            return  # a region the history does not name: its counts do not apply
        for month, measure, low, high in decision_count_rows():
            t = self.cfg.t_of(month)
            if measure in ("options", "bound") and month <= end and 0 <= t < self.n_months:
                self.replay_counts.setdefault(t, []).append((measure, low, min(high, n)))
        self.u_condition = named_stream(self.seed_sequence, "history_counts").random((self.n_months, n))

    def _condition_on_counts(self) -> None:
        """Make the history's dated counts of month t hold (options exercised; bound or live).

        With N municipalities at the stage and [low, high] the record, too few: the missing ones are
        drawn among those that may still move up (not declined, not contradicting the record),
        weighted by the rule's current P(yes) of that stage; too many: the excess among those the
        rules moved up during the replay (not yet fixed by the record), weighted by P(no or defer),
        move back (a booked wave slot is freed). Weighted sampling without replacement by the keys
        u_m^(1 / w_m) (Efraimidis and Spirakis 2006), u_m from the stream ``history_counts``.
        """
        t = self.t
        u = self.u_condition[t]

        def pick(candidates: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
            idx = np.flatnonzero(candidates)
            if k <= 0 or len(idx) == 0:
                return idx[:0]
            w = np.maximum(weights[idx], 1e-12)
            keys = np.log(np.maximum(u[idx], 1e-300)) / w
            return idx[np.argsort(-keys, kind="stable")[:k]]

        stage = self.muni_stage

        def unpinned(pinned_t: np.ndarray) -> np.ndarray:
            return (pinned_t < 0) | (pinned_t > t)
        for measure, low, high in self.replay_counts.get(t, ()):
            if measure == "options":
                have = (self.muni_decision_month >= 0) & (stage != DECLINED)
                n = int(have.sum())
                for m in pick((stage == UNDECIDED) & (self.replay_exact_option_t < 0), self.muni_p_option[:, YES], low - n):
                    self.exercise_option(int(m), t)
                for m in pick((stage == OPTION) & unpinned(self.replay_option_pinned_t), 1.0 - self.muni_p_option[:, YES],
                              n - high):
                    self.muni_stage[m], self.muni_decision_month[m], self.muni_last_answer[m] = UNDECIDED, -1, DEFER
            else:
                n = int(((stage == BOUND) | (stage == LIVE)).sum())
                may = ((stage == UNDECIDED) & (self.replay_exact_option_t < 0)) | (stage == OPTION)
                for m in pick(may & ~self.replay_declines, self.muni_p_binding[:, YES], low - n):
                    self.bind(int(m), t)
                for m in pick((stage == BOUND) & unpinned(self.replay_binding_pinned_t) & (self.muni_live_month < 0),
                              1.0 - self.muni_p_binding[:, YES], n - high):
                    if self.replay_golive_t[m] < 0:  # a recorded go-live keeps its recorded wave
                        self.calendar.capacity_left[self.muni_wave[m]] += 1
                        self.muni_wave[m] = -1
                    self.muni_binding_month[m] = -1
                    self.muni_stage[m], self.muni_last_answer[m] = OPTION, DEFER

    def _precommit(self) -> None:
        """Municipalities committed before the start are bound at t = 0 and take the first free wave
        (a replayed one keeps its recorded wave); the pilot GP offices of each (its
        ``gp.pilot_offices_per_precommitted_municipality`` offices with the longest lists; Øya
        legesenter with Trondheim) go live with it."""
        knr = self.region.municipalities["kommunenummer"].to_numpy()
        self.gp_pilot = np.zeros(self.n_practices, dtype=bool)
        n_pilot = self.cfg.gp.pilot_offices_per_precommitted_municipality
        for m in np.flatnonzero(np.isin(knr, self.cfg.municipality.pre_committed)):
            self.exercise_option(int(m), 0)
            self.bind(int(m), 0, any_wave=True)
            self.replay_option_pinned_t[m] = self.replay_binding_pinned_t[m] = 0
            offices = np.flatnonzero(self.gp_muni == m)
            self.gp_pilot[offices[np.argsort(-self.gp_lists[offices], kind="stable")[:n_pilot]]] = True

    # ------------------------------------------------------------------ state changes

    def mark_changed(self) -> None:
        """Note that the set of providers on the platform changed: what was derived from it (platform
        vector, practices' time saving if they join, the metric pass) is computed again when next asked for."""
        self._on_platform.clear()

    def _derived(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, kept until the set on the platform changes (:meth:`mark_changed`)."""
        if name not in self._on_platform:
            self._on_platform[name] = compute()
        return self._on_platform[name]

    def exercise_option(self, m: int, t: int) -> None:
        """Municipality m exercises its option (non-binding) at t."""
        if self.muni_stage[m] == UNDECIDED:
            self.muni_stage[m], self.muni_decision_month[m], self.muni_last_answer[m] = OPTION, t, YES

    def bind(self, m: int, t: int, any_wave: bool = False) -> bool:
        """Municipality m signs the binding agreement at t and books a wave: its recorded one if it
        has one, else the earliest free wave whose deadline it meets (any wave if ``any_wave``).
        False, stage unchanged, when no wave has room."""
        if self.muni_stage[m] not in (UNDECIDED, OPTION):
            return self.muni_stage[m] in (BOUND, LIVE)
        if self.muni_wave[m] < 0:
            w = self.calendar.book(None if any_wave else t)
            if w < 0:
                return False  # no room left in the plan
            self.muni_wave[m] = w
        self.exercise_option(m, t)
        self.muni_stage[m], self.muni_binding_month[m], self.muni_last_answer[m] = BOUND, t, YES
        return True

    def decline(self, m: int, t: int) -> None:
        """Municipality m says no at t (final for the horizon); a booked wave slot is released."""
        if self.muni_stage[m] == BOUND and self.muni_wave[m] >= 0:
            self.calendar.capacity_left[self.muni_wave[m]] += 1
            self.muni_wave[m] = -1
        self.muni_stage[m], self.muni_decline_month[m], self.muni_last_answer[m] = DECLINED, t, NO

    def defer(self, m: int) -> None:
        """Municipality m defers its decision (or postpones its wave) to a later point."""
        self.muni_last_answer[m] = DEFER
        self.muni_deferrals[m] += 1

    def postpone(self, m: int) -> None:
        """Municipality m moves its booking to the next later wave with room (a deferral)."""
        w = self.calendar.book_after(int(self.muni_wave[m]))
        if w >= 0:
            self.muni_wave[m] = w
            self.defer(m)

    def leave(self, m: int, t: int) -> None:
        """Municipality m leaves the platform at t (exit rule)."""
        self.muni_stage[m], self.muni_exit_month[m] = EXITED, t
        self.mark_changed()

    def replaying(self) -> bool:
        """True while the history is replayed (``rollout.replay_history``, to ``history_end_month``)."""
        return self.cfg.rollout.replay_history and self.t <= self.history_end_t

    def rule_allowed(self, m: int, answer: int) -> bool:
        """Whether municipality m may give ``answer`` by the rules now: while the history is replayed a
        named municipality does not exercise its option before its recorded council vote, says no
        only as recorded, and does not bind when the record has it decline."""
        if not (self.replay_named[m] and self.replaying()):
            return True
        stage = self.muni_stage[m]
        if answer == NO:
            return False
        if stage == UNDECIDED and answer == YES:
            return self.replay_exact_option_t[m] < 0
        if stage == OPTION and answer == YES:
            return not self.replay_declines[m]
        return True

    def _replay_month(self) -> None:
        """The recorded decisions of month t (go-lives are the calendar's: :meth:`_waves_go_live`)."""
        for m, event in self.replay_events.get(self.t, ()):
            if event == "option":
                self.exercise_option(m, self.t)
            elif event == "binding" or (event == "golive" and self.muni_stage[m] in (UNDECIDED, OPTION)):
                self.bind(m, self.t, any_wave=True)
            elif event == "decline":
                self.decline(m, self.t)
            elif event == "postpone":
                self.defer(m)

    def municipal_scores(self) -> np.ndarray:
        """Score s_m of every municipality from the start-of-month state (:func:`municipal_score` with the
        headroom of :func:`sim.municipal_decision.headroom`; peers: share of its peers that exercised the
        option and have not declined or left; the go-live it weighs: t + decision lead, for every
        municipality, so a booking never changes the score)."""
        mc, cfg, t = self.cfg.municipality, self.cfg, self.t
        exercised = ((self.muni_decision_month >= 0) & (self.muni_stage != DECLINED)
                     & (self.muni_stage != EXITED)).astype(float)
        gp_live = self.gp_join_month >= 0
        gp_share_trust = np.divide(np.bincount(self.gp_trust, weights=self.gp_n * gp_live, minlength=len(self.gps_per_trust)),
                                   self.gps_per_trust, out=np.zeros(len(self.gps_per_trust)), where=self.gps_per_trust > 0)
        legacy = legacy_overlap_nok_per_inhabitant_year(self.muni_contract_end_t, t + mc.decision_lead_months,
                                                        self.muni_legacy_nok_per_inhabitant, cfg.bill.appraisal_years)
        return municipal_score(headroom(self.muni_capacity, self.muni_net_cost, legacy), float(self.functionality[t]),
                               self.muni_peers @ exercised, gp_share_trust[self.muni_trust], weight_cost=mc.weight_cost,
                               weight_functionality=mc.weight_functionality,
                               functionality_reference=mc.functionality_reference, weight_peers=mc.weight_peers,
                               weight_gp=mc.weight_gp)

    def _decision_probabilities(self) -> None:
        """Answer, postponement and exit probabilities of every municipality at this point (logged)."""
        mc = self.cfg.municipality
        s, th = self.municipal_scores(), self.muni_threshold
        self.muni_p_option = stage_probabilities(s, th, mc.decision_noise, mc.decline_margin)
        self.muni_p_binding = stage_probabilities(s, th + mc.binding_threshold_offset, mc.decision_noise,
                                                  mc.decline_margin)
        self.muni_p_postpone = postpone_probability(s, th, mc.decision_noise, mc.postpone_margin)
        self.muni_p_exit = exit_probability(s, th, mc.decision_noise, mc.exit_margin, self.muni_switch_back_score,
                                            mc.exit_enabled)
        self._decision_log.append((self.t, self.muni_p_option, self.muni_p_binding, self.muni_p_postpone))

    def decision_log(self) -> dict[str, np.ndarray]:
        """The probabilities logged at each decision point so far: ``points_t`` (K,), ``p_option`` and
        ``p_binding`` (K, M, 3; YES, DEFER, NO), ``p_postpone`` (K, M; a bound municipality's, whatever its
        stage), ``binding_open`` (K,): what the likelihood reads."""
        t = np.array([e[0] for e in self._decision_log], dtype=np.int64)
        shape = (0, self.n_munis, 3)
        return {"points_t": t,
                "p_option": np.stack([e[1] for e in self._decision_log]) if len(t) else np.zeros(shape),
                "p_binding": np.stack([e[2] for e in self._decision_log]) if len(t) else np.zeros(shape),
                "p_postpone": np.stack([e[3] for e in self._decision_log]) if len(t) else np.zeros(shape[:2]),
                "binding_open": t >= self.binding_first_t}

    def _waves_go_live(self) -> None:
        """Postpone or switch on the waves due this month, and the recorded go-lives of this month; pilot
        offices, and salaried offices when they follow their municipality, go live with it."""
        t, mc = self.t, self.cfg.municipality
        due = self.calendar.due(t, float(self.functionality[t]), mc.postpone_below_functionality, mc.postpone_months)
        recorded = (self.replay_golive_t == t) & self.replaying()
        if len(due) == 0 and not recorded.any():
            return
        live = ((np.isin(self.muni_wave, due) & (self.muni_stage == BOUND)) | recorded) & (self.muni_live_month < 0)
        if not live.any():
            return
        self.muni_live_month[live] = t
        self.muni_stage[live] = LIVE
        follow = (self.gp_follows | self.gp_pilot) & live[self.gp_muni] & (self.gp_join_month < 0)
        self.gp_join_month[follow] = t
        self.gp_choice[follow], self.gp_choice_month[follow] = FOLLOW, t
        self.mark_changed()

    def _gp_month(self) -> None:
        """This month's money, utilities, choice probabilities h_i and logit probabilities P_i for every
        practice (sim.gp_choice); h = 0 where it cannot choose. Offices that joined with their municipality
        this month are valued now."""
        g, t, price = self.cfg.gp, self.t, self.gp_price
        self._gp_subsidy_t = self.cfg.agreement.subsidy_nok_per_gp_year if t >= self.agreement_t else 0.0
        self._gp_time_saved_t = self._join_time_saved_nok()
        self._gp_integrate_saved_t = self.network.practice_search_hours_saved_if_integrated_per_gp_year(
            self.cfg.gp_price.integration_information_share, t) * self.cfg.gp_price.hourly_value_nok
        money = np.zeros((self.n_practices, len(GP_ALTERNATIVES)))
        money[:, JOIN] = join_money_nok_per_gp_year(price, self._gp_time_saved_t, self._gp_subsidy_t)
        money[:, INTEGRATE] = integrate_money_nok_per_gp_year(price, self._gp_integrate_saved_t)
        self._gp_money_knok_t = money / 1000.0
        self._value_practices((self.gp_choice == FOLLOW) & (self.gp_join_month == t))
        joined = self.gp_join_month >= 0
        offered = np.ones(self.n_practices, dtype=bool) if g.offered_from_start else (self.muni_live_month >= 0)[self.gp_muni]
        can = offered & ~joined & ~self.gp_follows
        if not can.any():
            self.gp_choice_h = np.zeros(self.n_practices)
            return
        s = peer_share(joined, self.gp_n, self.gp_muni, self.gp_council, g.peer_weight_municipality,
                       g.peer_weight_council, complete=g.peer_graph == "complete")
        time_saved = np.zeros_like(money)
        time_saved[:, JOIN], time_saved[:, INTEGRATE] = self._gp_time_saved_t, self._gp_integrate_saved_t
        terms = utility_terms_knok(
            money_knok=self._gp_money_knok_t, time_saved_knok=time_saved / 1000.0,
            functionality_knok=g.functionality_value_knok_per_gp_year * (
                g.functionality_fit * float(self.functionality[t]) - g.current_system_functionality),
            risk_knok=incident_risk_knok(t, self.gp_incident_t, g.risk_knok_per_gp_year_per_incident, g.risk_recovery_months),
            peer_knok=g.peer_value_knok_per_gp_year * s)
        self.gp_choice_p = logit_probabilities(utility_knok(terms, g.zero_terms), self.gp_offered_alternatives, self.gp_beta)
        window = in_contract_window(t, self.contract_end_phase, self.contract_length_months, g.contract_end_window_months)
        rate = choice_rate_per_year(s, window, g.bass_p_per_year, g.bass_q_per_year, g.window_choice_rate_per_year)
        self.gp_choice_h = np.where(can, choice_probability(rate, DT_YEARS), 0.0)
        # one uniform per office and month, drawn up front (same draws in every scenario), inverse CDF "join" first
        self.gp_choice_code = inverse_cdf_choice(self.gp_uniforms[:, t], self.gp_choice_h, self.gp_choice_p)

    def _value_practices(self, which: np.ndarray) -> None:
        """Record, for the practices selected, the money they are valued at this month (one account of money)."""
        self.gp_valued_month[which] = self.t
        self.gp_time_saved_nok[which] = self._gp_time_saved_t[which]
        self.gp_integrate_time_saved_nok[which] = self._gp_integrate_saved_t[which]
        self.gp_subsidy_nok[which] = self._gp_subsidy_t
        self.gp_money_knok[which] = self._gp_money_knok_t[which]

    def record_gp_choice(self, i: int, code: int) -> None:
        """Practice i chose alternative ``code`` (sim.gp_choice) this month: joining puts it on the platform."""
        self.gp_choice[i], self.gp_choice_month[i] = code, self.t
        self._value_practices(np.array([i]))
        if code == JOIN:
            self.gp_join_month[i] = self.t
            self.mark_changed()

    def gp_valuation(self) -> GPValuation:
        """What each practice chose and the money it was valued at (sim.economics.GPValuation)."""
        return GPValuation(choice=self.gp_choice.copy(), choice_month=self.gp_choice_month.copy(),
                           valued_month=self.gp_valued_month.copy(), time_saved_nok_per_gp_year=self.gp_time_saved_nok.copy(),
                           integrate_time_saved_nok_per_gp_year=self.gp_integrate_time_saved_nok.copy(),
                           subsidy_nok_per_gp_year=self.gp_subsidy_nok.copy(), money_knok=self.gp_money_knok.copy(),
                           time_saved_by_month=self.gp_time_saved_by_month, integrated_by_month=self.gp_integrated_by_month)

    # ------------------------------------------------------------------ network (cached per platform set)

    def _platform_vector(self) -> np.ndarray:
        t = self.t
        return self._derived("x", lambda: self.network.platform_vector(
            self.gp_join_month >= 0,
            (self.muni_live_month >= 0) & (self.muni_live_month <= t) & (self.muni_stage != EXITED),
            (self.hospital_live_month >= 0) & (self.hospital_live_month <= t)))

    def _join_time_saved_nok(self) -> np.ndarray:
        """Per practice: NOK per GP per year of search time it would save by joining, the others as now, under
        this month's status quo (sim.network.CareNetwork.practice_search_hours_saved_per_gp_year x the GP hour value);
        kept for the month while the set on the platform stays the same."""
        t, saved = self._derived("join_time_saved_nok", lambda: [-1, None])
        if t != self.t:
            saved = self.network.practice_search_hours_saved_per_gp_year(self._platform_vector(), self.t) \
                * self.cfg.gp_price.hourly_value_nok
            self._on_platform["join_time_saved_nok"] = [self.t, saved]
        return saved

    def _note_platform_set(self) -> None:
        """Remember the month's platform set; the network metrics of every month are computed in :meth:`monthly`,
        one pass per distinct set (the status quo of each month applies on top)."""
        self._derived("metric_pass", self._count_pass)
        if not self._platform_sets or self._platform_sets[-1] is not self._platform_vector():
            self._platform_sets.append(self._platform_vector())
        self._month_set[self.t] = len(self._platform_sets) - 1

    def _count_pass(self) -> bool:
        self.n_metric_passes += 1
        return True

    # ------------------------------------------------------------------ stepping

    def step(self) -> None:
        """Advance one month (phases in the module docstring)."""
        self.t = self.steps - 1  # Mesa counts steps from 1
        if self.t >= self.n_months:
            raise RuntimeError(f"the horizon ends at t = {self.n_months - 1} ({self.cfg.run.end_month})")
        self.agents_by_type[Hospital].do("go_live")
        if self.replaying():
            self._replay_month()
        if self.t in self.decision_months:
            self._decision_probabilities()
            self.agents_by_type[Municipality].shuffle_do("decide")
        if self.replaying() and self.t in self.replay_counts:
            self._condition_on_counts()
        self._waves_go_live()
        self._gp_month()
        for i in np.flatnonzero(self.gp_choice_h):  # h = 0 cannot choose: only these practices need to decide
            self.gp_practices[i].decide()
        self._record_month()
        self.running = self.t < self.n_months - 1

    def run(self) -> "RolloutModel":
        """Step to the end of the horizon (``cfg.n_months`` steps in all)."""
        while self.t < self.n_months - 1:
            self.step()
        return self

    def _record_month(self) -> None:
        """Keep the month's municipal stages (:meth:`stage_by_month`) and record its row: every
        :data:`ADOPTION` column and network metric."""
        t = self.t
        self.gp_time_saved_by_month[:, t] = self._join_time_saved_nok()
        self.gp_integrated_by_month[:, t] = self.gp_choice == INTEGRATE
        if t == self.n_months - 1:  # offices never valued: at the last month, as if they chose then
            self._value_practices(self.gp_valued_month < 0)
        self._stage_hist[t], self._deferred_hist[t] = self.muni_stage, _deferred(self)
        self._option_hist[t], self._bound_hist[t] = self.muni_decision_month >= 0, self.muni_binding_month >= 0
        self._note_platform_set()
        self.datacollector.collect(self)

    def stage_by_month(self) -> dict[str, np.ndarray]:
        """Per month recorded, (n_months, n_municipalities) arrays: ``stage`` (int8 codes), ``deferred``
        (its latest answer a deferral it still waits on), ``option`` (has exercised its option),
        ``bound`` (has a binding agreement), as they stood at the end of that month."""
        n = max(self.t + 1, 0)
        return {"stage": self._stage_hist[:n], "deferred": self._deferred_hist[:n], "option": self._option_hist[:n],
                "bound": self._bound_hist[:n]}

    def monthly(self) -> pd.DataFrame:
        """One row per simulated month: ``t``, ``month`` (first of month), adoption counts and
        shares, perceived functionality, every network metric (``METRIC_COLUMNS``), the platform's harms and
        net_benefit_nok (:data:`NET_COLUMNS`)."""
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df["t"] = df["t"].astype(np.int64)
        t = df["t"].to_numpy()
        cols = self.network.metrics_of_months(self._platform_sets, self._month_set[t], t)
        cols = {c: cols[c] for c in METRICS}
        # the harms of month t depend only on go-lives by t, which never change later: computed for all months at once
        cols |= golive_harms(self.cfg, t, self.hospital_live_month, self.hospital_residents, self.muni_live_month,
                             users_by_municipality(self.cfg, self.region))
        cols["net_benefit_nok"] = cols.get("gain_nok", 0.0) - cols["harm_nok"]
        df = pd.concat([df, pd.DataFrame(cols, index=df.index)], axis=1)
        months = pd.to_datetime([month_date(self.cfg.run.start_month, int(t)) for t in df["t"]])
        df.insert(1, "month", months)
        return df
