"""How a municipality decides, in two stages (DESIGN.md, Second model version): pure functions.

A municipality moves through the stages of :data:`STAGES`:

    undecided --yes--> option --yes--> bound --(its wave)--> live [--exit--> exited]
        |                 |              |
        no / defer        no / defer     postpone (to the next wave with room)

The option is the council's non-binding decision to take part; the binding agreement (the
call-off or service agreement) commits money and books a wave. At each decision point a council
at the option or binding stage answers yes, defer or no (:func:`stage_probabilities`, one
uniform per municipality and month: :func:`answers`); "no" is final for the horizon. A bound
municipality whose wave is still ahead may postpone it (:func:`postpone_probability`); a live
one may leave only where a scenario turns the exit rule on (:func:`exit_probability`).

The score is :func:`sim.agents.municipal_score` with the municipality's own
headroom (:func:`headroom`): its expected bill (:func:`expected_bill_nok_per_inhabitant_year`,
the adapter to the economics), what it would still pay on its current record-system contract
(:func:`legacy_overlap_nok_per_inhabitant_year`) and its own budget capacity
(:func:`budget_capacity_nok_per_inhabitant_year`). Contract ends and budget capacities have no
per-municipality data: they are drawn (documented assumptions with ranges).

The likelihood of the rule against the record (:func:`decision_log_likelihood`) treats each
municipality as a four-state chain over the decision points (undecided, option, bound, declined)
whose transition probabilities the model logs along a simulated path; recorded named decisions
are evidence on the chain (:func:`chain_forward_backward`), dated counts are Poisson-binomial
in the municipalities' marginal probabilities (:func:`count_probability`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.economics import expected_net_cost_nok_per_inhabitant_year
from sim.history import decision_count_points, recorded_decisions

UNDECIDED, OPTION, BOUND, LIVE, DECLINED, EXITED = range(6)
STAGES = ("undecided", "option", "bound", "live", "declined", "exited")
"""Stage codes (int8 in the model's ``muni_stage``)."""

YES, DEFER, NO = 0, 1, 2
"""Answer codes at a decision point (postponing a wave counts as a deferral)."""

CHAIN_STATES = ("undecided", "option", "bound", "declined")
"""States of the likelihood's chain: live and exited are bound (going live is the calendar's, not a decision)."""


def decision_probability(score: np.ndarray, threshold: np.ndarray, noise: float) -> np.ndarray:
    """P(yes) = sigmoid((score - theta) / noise); with noise 0 the threshold rule [score >= theta]."""
    z = np.asarray(score, dtype=float) - np.asarray(threshold, dtype=float)
    if noise == 0:
        return (z >= 0).astype(float)
    with np.errstate(over="ignore"):  # z / noise -> +-inf for a tiny noise; tanh(+-inf) = +-1 is the limit
        return 0.5 * (1.0 + np.tanh(0.5 * z / noise))  # = 1 / (1 + exp(-z / noise))


# --------------------------------------------------------------------------- money terms


def expected_bill_nok_per_inhabitant_year(cfg, region) -> np.ndarray:
    """The adapter to the economics: each municipality's expected net cost of joining,
    NOK per inhabitant and year, region row order.

    :func:`sim.economics.expected_net_cost_nok_per_inhabitant_year`: the municipality's own bottom-up
    bill (issue 21; platform fee with a fixed part, local one-offs annualised, running cost, legacy
    contract ended), so it differs by size.
    """
    return np.asarray(expected_net_cost_nok_per_inhabitant_year(cfg, region), dtype=float)


def budget_capacity_nok_per_inhabitant_year(capacity_mean: float, log_sd: float, z: np.ndarray) -> np.ndarray:
    """Each municipality's budget capacity, a lognormal around the mean:

        cap_m = cap * exp(sd * z_m - sd^2 / 2),   z_m ~ N(0, 1)

    so E[cap_m] = cap; sd = 0 gives every municipality the mean.
    """
    return capacity_mean * np.exp(log_sd * np.asarray(z, dtype=float) - 0.5 * log_sd ** 2)


def legacy_overlap_nok_per_inhabitant_year(contract_end_t: np.ndarray, golive_t: np.ndarray | float,
                                           legacy_cost_nok_per_inhabitant_year: float,
                                           annualisation_years: float) -> np.ndarray:
    """What a municipality still pays on its current record-system contract when it goes live
    before the contract ends, spread like the platform investment:

        c_leg,m = L * max(0, e_m - g_m) / 12 / A

    L the current system's cost per inhabitant and year, e_m the contract's end month, g_m the
    go-live month it expects (both as t), A the annualisation years. Zero once the contract has ended.
    """
    months_left = np.maximum(0.0, np.asarray(contract_end_t, dtype=float) - np.asarray(golive_t, dtype=float))
    return legacy_cost_nok_per_inhabitant_year * months_left / 12.0 / annualisation_years


def headroom(capacity_nok: np.ndarray, bill_nok: np.ndarray, legacy_nok: np.ndarray) -> np.ndarray:
    """Budget headroom of joining, the cost term of the score: h_m = (cap_m - c_m - c_leg,m) / cap_m."""
    cap = np.asarray(capacity_nok, dtype=float)
    return (cap - np.asarray(bill_nok, dtype=float) - np.asarray(legacy_nok, dtype=float)) / cap


# --------------------------------------------------------------------------- transitions


def stage_probabilities(score: np.ndarray, threshold: np.ndarray, noise: float,
                        decline_margin: float) -> np.ndarray:
    """P(yes), P(defer), P(no) of a council at a decision point, an ordered logit with two cuts:

        P(yes) = sigma((s - theta) / nu),   P(no) = sigma((theta - delta - s) / nu),
        P(defer) = 1 - P(yes) - P(no)  (>= 0 since delta >= 0)

    theta the stage's threshold (option: theta_m; binding: theta_m + offset), delta the decline
    margin, nu the noise (0: the deterministic rule, yes at s >= theta, no at s < theta - delta).
    Returns shape score.shape + (3,) in the order (YES, DEFER, NO).
    """
    s = np.asarray(score, dtype=float)
    th = np.asarray(threshold, dtype=float)
    p_yes = decision_probability(s, th, noise)
    p_no = 1.0 - decision_probability(s, th - decline_margin, noise)  # sigma((theta - delta - s) / nu)
    p_defer = np.clip(1.0 - p_yes - p_no, 0.0, 1.0)
    return np.stack([p_yes, p_defer, p_no], axis=-1)


def answers(u: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Each council's answer from its uniform u_m: YES if u < P(yes), NO if u >= 1 - P(no), else DEFER.

    One uniform per municipality and month: a higher score moves the same u from no to defer to
    yes, never back (monotone under common random numbers).
    """
    u = np.asarray(u, dtype=float)
    out = np.full(u.shape, DEFER, dtype=np.int8)
    out[u >= 1.0 - p[..., NO]] = NO
    out[u < p[..., YES]] = YES
    return out


def postpone_probability(score: np.ndarray, threshold: np.ndarray, noise: float, margin: float) -> np.ndarray:
    """P(a bound municipality postpones its coming wave) = sigma((theta - m_post - s) / nu)."""
    return 1.0 - decision_probability(score, np.asarray(threshold, dtype=float) - margin, noise)


def exit_probability(score: np.ndarray, threshold: np.ndarray, noise: float, margin: float,
                     switch_back_score: np.ndarray | float, enabled: bool) -> np.ndarray:
    """P(a live municipality leaves) = [enabled] sigma((theta - m_exit - kappa_m - s) / nu), with
    kappa_m = w_c * (switch-back cost / A) / cap_m the switch-back cost in score units."""
    s = np.asarray(score, dtype=float)
    if not enabled:
        return np.zeros(s.shape)
    return 1.0 - decision_probability(s, np.asarray(threshold, dtype=float) - margin - switch_back_score, noise)


# --------------------------------------------------------------------------- the likelihood


WAVE_NO_RECORD, WAVE_KEPT, WAVE_POSTPONED = 0, 1, 2
"""What the record says of a municipality's booked wave at a decision point (``DecisionEvidence.wave``):
nothing; kept (its recorded go-live is still ahead and came on time: it did not postpone here);
postponed here (a recorded postponement)."""


def wave_record_factor(p_postpone: np.ndarray, wave: np.ndarray) -> np.ndarray:
    """The probability of what the record says of a bound municipality's wave at each decision point:

        f[k, m] = 1 - p_post[k, m]   where the record has the wave kept at k (WAVE_KEPT),
                  p_post[k, m]       where it records a postponement at k (WAVE_POSTPONED),
                  1                  where it says nothing (WAVE_NO_RECORD),

    p_post = :func:`postpone_probability` as the model logged it at point k. The model lets a municipality
    bound before point k postpone at k while its wave is still ahead (t_k < go-live), so a recorded on-time
    go-live at g after binding at point b contributes prod_{b < k, t_k < g} (1 - p_post[k]);
    :func:`transition_matrices` puts f on the bound -> bound step, so the chain integrates an unrecorded
    binding date. ``p_postpone`` and ``wave``: (K, M).
    """
    p = np.asarray(p_postpone, dtype=float)
    w = np.asarray(wave)
    return np.where(w == WAVE_KEPT, 1.0 - p, np.where(w == WAVE_POSTPONED, p, 1.0))


def transition_matrices(p_option: np.ndarray, p_binding: np.ndarray, binding_open: np.ndarray,
                        p_postpone: np.ndarray | None = None, wave: np.ndarray | None = None) -> np.ndarray:
    """Per decision point k and municipality m, the chain's transition matrix P[k, m, from, to]
    over (undecided, option, bound, declined):

        undecided -> option P_opt(yes), undecided P_opt(defer), declined P_opt(no)
        option    -> bound  P_bind(yes), option P_bind(defer), declined P_bind(no)   (binding open at k)
        option    -> option 1                                                       (not yet open)
        bound     -> bound  f[k, m]  (:func:`wave_record_factor`; 1 without a wave record)
        declined absorbing

    With the wave record, bound -> bound is the probability of what the record says of the wave (kept:
    1 - P_post; postponed: P_post), so the rows are sub-stochastic where the record rules a path out; at a
    recorded postponement a municipality still at the option stage deferred (option -> bound and
    option -> declined are 0 there: the record shows neither a yes nor a no).
    ``p_option``, ``p_binding``: (K, M, 3) answer probabilities; ``binding_open``: (K,) bool;
    ``p_postpone``, ``wave``: (K, M) or None.
    """
    K, M, _ = p_option.shape
    P = np.zeros((K, M, 4, 4))
    P[:, :, 0, 1], P[:, :, 0, 0], P[:, :, 0, 3] = p_option[..., YES], p_option[..., DEFER], p_option[..., NO]
    open_ = np.asarray(binding_open, dtype=bool)[:, None]
    P[:, :, 1, 2] = np.where(open_, p_binding[..., YES], 0.0)
    P[:, :, 1, 1] = np.where(open_, p_binding[..., DEFER], 1.0)
    P[:, :, 1, 3] = np.where(open_, p_binding[..., NO], 0.0)
    P[:, :, 2, 2] = P[:, :, 3, 3] = 1.0
    if p_postpone is not None and wave is not None:
        P[:, :, 2, 2] = wave_record_factor(p_postpone, wave)
        postponed = np.asarray(wave) == WAVE_POSTPONED
        P[:, :, 1, 2] = np.where(postponed, 0.0, P[:, :, 1, 2])
        P[:, :, 1, 3] = np.where(postponed, 0.0, P[:, :, 1, 3])
    return P


def chain_forward_backward(P: np.ndarray, allowed: np.ndarray, start: np.ndarray | None = None
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Evidence probability and posterior marginals of each municipality's chain.

    ``P``: (K, M, 4, 4) transitions; ``allowed``: (K + 1, M, 4) 0/1 evidence masks on the state
    before the first point (row 0) and after each point k (row k + 1); ``start``: (M, 4) initial
    distribution (default: undecided). With alpha_0 = start * a_0,
    alpha_{k+1} = (alpha_k P_k) * a_{k+1}, beta_{K} = 1, beta_k = P_k (a_{k+1} * beta_{k+1}):

        P(evidence_m) = sum_s alpha_K(s),   gamma_k(s) = alpha_k(s) beta_k(s) / P(evidence_m)

    Returns (P(evidence) of shape (M,), gamma of shape (K + 1, M, 4)); gamma is 0 where the
    evidence is impossible. Each step is rescaled, so long chains do not underflow.
    """
    K, M = P.shape[:2]
    a = np.asarray(allowed, dtype=float)
    alpha = np.zeros((K + 1, M, 4))
    s0 = np.zeros((M, 4))
    if start is None:
        s0[:, 0] = 1.0
    else:
        s0[:] = start
    alpha[0] = s0 * a[0]
    log_c = np.zeros(M)
    for k in range(K + 1):
        if k > 0:
            alpha[k] = np.einsum("ms,mst->mt", alpha[k - 1], P[k - 1]) * a[k]
        c = alpha[k].sum(axis=1)
        ok = c > 0
        alpha[k][ok] /= c[ok, None]
        log_c += np.log(np.where(ok, c, 1.0))
        log_c[~ok] = -np.inf
    beta = np.ones((K + 1, M, 4))
    for k in range(K - 1, -1, -1):
        beta[k] = np.einsum("mst,mt->ms", P[k], a[k + 1] * beta[k + 1])
        norm = beta[k].max(axis=1, keepdims=True)
        beta[k] = np.divide(beta[k], norm, out=np.zeros_like(beta[k]), where=norm > 0)
    gamma = alpha * beta
    tot = gamma.sum(axis=2, keepdims=True)
    gamma = np.divide(gamma, tot, out=np.zeros_like(gamma), where=tot > 0)
    return np.exp(log_c), gamma


def poisson_binomial_logpmf(p: np.ndarray) -> np.ndarray:
    """log P(sum_m X_m = n), X_m ~ Bernoulli(p_m) independent, n = 0..M, by convolution in log space:
    f_0 = [1], f_m(n) = f_{m-1}(n) (1 - p_m) + f_{m-1}(n - 1) p_m (no underflow for tiny tails)."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        lp, lq = np.log(p), np.log1p(-p)
    f = np.full(len(p) + 1, -np.inf)
    f[0] = 0.0
    for m in range(len(p)):
        f[1:m + 2] = np.logaddexp(f[1:m + 2] + lq[m], f[:m + 1] + lp[m])
        f[0] += lq[m]
    return f


def poisson_binomial_pmf(p: np.ndarray) -> np.ndarray:
    """P(sum_m X_m = n) for n = 0..M (:func:`poisson_binomial_logpmf`, exponentiated)."""
    return np.exp(poisson_binomial_logpmf(p))


def count_log_probability(p: np.ndarray, low: int, high: int) -> float:
    """log P(low <= sum_m X_m <= high) for independent X_m ~ Bernoulli(p_m) (-inf if impossible)."""
    f = poisson_binomial_logpmf(p)
    lo, hi = max(int(low), 0), min(int(high), len(f) - 1)
    if hi < lo:
        return float("-inf")
    top = f[lo:hi + 1].max()
    return float(top + np.log(np.exp(f[lo:hi + 1] - top).sum())) if np.isfinite(top) else float("-inf")


def count_probability(p: np.ndarray, low: int, high: int) -> float:
    """P(low <= sum_m X_m <= high) for independent X_m ~ Bernoulli(p_m)."""
    return float(np.exp(count_log_probability(p, low, high)))


PROBABILITY_FLOOR = 1e-12
"""Floor on a municipality's marginal probability in the count terms (a saturated logistic gives exactly 0 or 1)."""


@dataclass(frozen=True)
class DecisionEvidence:
    """What the record says about the decisions, on the model's decision points.

    ``allowed``: (K + 1, M, 4) masks of the chain state before the first point and after each
    point (1 everywhere for a municipality the record does not name); ``counts``: dated counts,
    each (k, states, low, high): the number of municipalities whose chain state after point k is
    in ``states`` lies in [low, high]; ``labels``: a name per count (for tables); ``start``: (M, 4)
    initial distribution (None: every municipality undecided; a municipality committed before the
    start begins bound); ``wave``: (K, M) what the record says of each booked wave at each point
    (:data:`WAVE_KEPT`, :data:`WAVE_POSTPONED`, :data:`WAVE_NO_RECORD`; None: nothing).
    """

    allowed: np.ndarray
    counts: tuple[tuple[int, tuple[int, ...], int, int], ...]
    labels: tuple[str, ...] = ()
    start: np.ndarray | None = None
    wave: np.ndarray | None = None


def path_log_likelihood(p_option: np.ndarray, p_binding: np.ndarray, binding_open: np.ndarray,
                        evidence: DecisionEvidence, p_postpone: np.ndarray | None = None) -> tuple[float, float]:
    """(named, counts) log-likelihood of the record given one simulated path's probabilities.

    named = sum_m log P(evidence_m) (the rule's probability of each municipality's recorded
    yes / defer / no, including the deferrals a dated yes implies, and, given ``p_postpone`` (K, M) and
    the evidence's wave record, of each booked wave kept or postponed as recorded:
    :func:`wave_record_factor`); counts = sum_j log
    P(low_j <= N_j <= high_j | evidence), N_j Poisson-binomial in the posterior marginals
    gamma_{k_j}(states_j) of every municipality, named or not (unnamed ones are unknown: their
    marginals are the rule's). Counts at different dates enter as independent terms (a composite
    likelihood). Each marginal is kept within [eps, 1 - eps] (:data:`PROBABILITY_FLOOR`), so a count
    the rule finds practically impossible costs about log(eps) = -28 per municipality it is short, not -inf.
    """
    P = transition_matrices(p_option, p_binding, binding_open, p_postpone, evidence.wave)
    p_ev, gamma = chain_forward_backward(P, evidence.allowed, evidence.start)
    with np.errstate(divide="ignore"):
        named = float(np.log(p_ev).sum())
        counts = 0.0
        for k, states, lo, hi in evidence.counts:
            q = np.clip(gamma[k + 1][:, list(states)].sum(axis=1), PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
            counts += count_log_probability(q, lo, hi)
    return named, counts


def decision_log_likelihood(p_option: np.ndarray, p_binding: np.ndarray, binding_open: np.ndarray,
                            evidence: DecisionEvidence, p_postpone: np.ndarray | None = None) -> float:
    """Simulated log-likelihood of the decision rule over R paths (the latent peers, functionality
    and drawn thresholds integrated by Monte Carlo):

        log L = log (1/R) sum_r exp(named_r + counts_r)

    ``p_option``, ``p_binding``: (R, K, M, 3) answer probabilities logged by R runs
    (``RolloutModel.decision_log``); ``p_postpone``: (R, K, M) or None (no wave term). -inf when no
    path can give the record.
    """
    p_option, p_binding = np.asarray(p_option, dtype=float), np.asarray(p_binding, dtype=float)
    if p_option.ndim == 3:
        p_option, p_binding = p_option[None], p_binding[None]
        p_postpone = None if p_postpone is None else np.asarray(p_postpone, dtype=float)[None]
    terms = np.array([sum(path_log_likelihood(p_option[r], p_binding[r], binding_open, evidence,
                                              None if p_postpone is None else p_postpone[r]))
                      for r in range(len(p_option))])
    top = terms.max()
    if not np.isfinite(top):
        return float("-inf")
    return float(top + np.log(np.mean(np.exp(terms - top))))


def history_evidence(cfg, region, points_t: np.ndarray) -> DecisionEvidence:
    """The recorded decisions (:func:`sim.history.recorded_decisions`) and dated counts
    (:func:`sim.history.decision_count_points`) as chain evidence on the decision points ``points_t``.

    An event of month t belongs to the last point k with t_k <= t (a count of month t reads the
    state after it). Masks per named municipality: option exact at k: undecided before k, option
    after (so every earlier point was a deferral); option by k: option or bound after k; binding
    by k, or a go-live after k: bound; decline exact at k: undecided or option before, declined
    after. Events before the first point set the start (the pre-committed start bound).
    Wave record (``wave``, :func:`wave_record_factor`): a municipality with a recorded go-live at month g
    kept its wave at every point k with t_k < g (the rule could have postponed it there had it been bound:
    the on-time go-lives of 2022-05, 2022-11, 2023-02, 2023-04 and 2023-11), except at the point of a
    recorded postponement (Kristiansund 2022-06), where it postponed (or, still at the option stage,
    deferred). Counts: options -> (option, bound), bound -> (bound,), option_stage -> (option,).
    """
    pts = np.asarray(points_t, dtype=np.int64)
    K, M = len(pts), len(region.municipalities)
    allowed = np.ones((K + 1, M, 4))
    start = np.zeros((M, 4))
    start[:, 0] = 1.0
    knr = list(region.municipalities["kommunenummer"])
    index = {k: i for i, k in enumerate(knr)}
    for k in cfg.municipality.pre_committed:
        if k in index:
            start[index[k]] = [0.0, 0.0, 1.0, 0.0]
    only = {"U": [1, 0, 0, 0], "O": [0, 1, 0, 0], "B": [0, 0, 1, 0], "D": [0, 0, 0, 1], "UO": [1, 1, 0, 0],
            "OB": [0, 1, 1, 0]}

    def point(month) -> int:  # rows of ``allowed``: k + 1 after point k; 0 before the first
        t = cfg.t_of(f"{month:%Y-%m}")
        return int(np.searchsorted(pts, t, side="right"))

    wave = np.full((K, M), WAVE_NO_RECORD, dtype=np.int8)
    for _, r in recorded_decisions().iterrows():
        if r["kommunenummer"] not in index:
            continue
        m, row = index[r["kommunenummer"]], point(r["month"])
        if r["event"] == "golive":
            ahead = (pts < cfg.t_of(f"{r['month']:%Y-%m}")) & (wave[:, m] == WAVE_NO_RECORD)
            wave[ahead, m] = WAVE_KEPT
        if r["event"] == "postpone":
            if row > 0:
                wave[row - 1, m] = WAVE_POSTPONED
            continue
        if row == 0:  # before the first point: the start
            if start[m, 2] == 0 and r["event"] in ("option", "binding", "golive"):
                start[m] = only["O"] if r["event"] == "option" else only["B"]
            continue
        ev, exact = r["event"], r["timing"] == "exact"
        if ev == "option":
            if exact:
                allowed[row - 1, m] *= only["U"]
            allowed[row, m] *= only["O"] if exact else only["OB"]
        elif ev in ("binding", "golive"):
            allowed[row, m] *= only["B"]
        elif ev == "decline":
            allowed[row - 1, m] *= only["UO"]
            allowed[row, m] *= only["D"]
    states = {"options": (1, 2), "bound": (2,), "option_stage": (1,)}
    step = int(pts[1] - pts[0]) if K > 1 else 1
    counts, labels = [], []
    for _, c in decision_count_points().iterrows():
        row, t = point(c["month"]), cfg.t_of(f"{c['month']:%Y-%m}")
        if row == 0 or t >= pts[-1] + step:  # before the first point, or after the logged points
            continue
        counts.append((row - 1, states[c["measure"]], int(c["low"]), int(min(c["high"], M))))
        labels.append(c["label"])
    return DecisionEvidence(allowed=allowed, counts=tuple(counts), labels=tuple(labels), start=start, wave=wave)
