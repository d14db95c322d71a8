"""The GP office's choice: join the platform, integrate (own record with messages, kjernejournal and
read access), or stay as it is (issue #19; DESIGN.md, Adoption rule).

A month for an office that is offered the platform, has not joined and does not follow its
municipality:

1. **Timing.** It makes a choice with probability h = 1 - exp(-dt lambda), lambda = p + q s + r_w [in window]
   (:func:`choice_rate_per_year`): p a spontaneous rate, q s its peers (s = :func:`sim.agents.peer_share`),
   r_w the extra rate inside the window before its contract end (:func:`sim.agents.in_contract_window`;
   ends drawn per office). An office that integrated or stayed chooses again at a later occasion,
   most likely at its next contract window. Joining is final.
2. **Alternatives.** Utility V_a in kNOK per GP per year, "stay" the reference (V_stay = 0):

       V_join      = M_join + functionality + risk + peer
       V_integrate = M_integrate

   M = the money terms of :mod:`sim.economics.gp` (the same money costs_gp.csv reports; M_join includes
   the network's time saving for the office's own patients, the named part ``time_saved``); named
   non-monetary terms, in kNOK-equivalents (:func:`utility_terms_knok`): functionality
   v_F (fit F(t) - F_cur), risk -R sum_k exp(-(t - t_k)/tau) over incidents k, peer v_P s.
3. **Logit.** P_a = exp(beta V_a) / sum_{b offered} exp(beta V_b) (:func:`logit_probabilities`);
   beta = 1 / scale of the random (Gumbel) term. ``gp.zero_terms`` sets terms to zero; "random" zero
   is beta = inf, the best alternative chosen.
4. **Draw.** One uniform u per office-month, drawn up front; inverse CDF with "join" first
   (:func:`inverse_cdf_choice`): join if u < h P_join, integrate if u < h (P_join + P_integrate), stay
   if u < h, else no choice this month. P_join rises with a lower price, a higher subsidy, more
   peers and more partners on the platform, and h with more peers, so under common random numbers
   such a lever never makes an office join later (the joined sets are nested month by month).

The Bass model is the special case alternatives = ["join"], beta = 0, r_w = 0, complete peers:
every choice is a join and h = 1 - exp(-dt (p + q s)).
"""

from __future__ import annotations

import numpy as np

from sim.config import GP_ALTERNATIVES, GP_CHOICES

NO_CHOICE = -1
"""Code of :func:`inverse_cdf_choice` for an office that makes no choice this month."""

JOIN, INTEGRATE, STAY = (GP_ALTERNATIVES.index(a) for a in ("join", "integrate", "stay"))
FOLLOW = GP_CHOICES.index("follow")
"""Code of an office that joined with its municipality without a choice of its own (salaried, pilot)."""

NAMED_TERMS: tuple[str, ...] = ("functionality", "risk", "peer")
"""The non-monetary terms of joining, in kNOK-equivalents per GP per year."""


def choice_rate_per_year(peer_share: np.ndarray, in_window: np.ndarray, p_per_year: float, q_per_year: float,
                         window_rate_per_year: float) -> np.ndarray:
    """lambda_i = p + q s_i + r_w [i in its contract window] (choice occasions per year)."""
    return p_per_year + q_per_year * np.asarray(peer_share, dtype=float) \
        + window_rate_per_year * np.asarray(in_window, dtype=float)


def choice_probability(rate_per_year: np.ndarray, dt_years: float) -> np.ndarray:
    """h = 1 - exp(-dt lambda): probability of a choice occasion within one step of dt years."""
    return -np.expm1(-dt_years * np.asarray(rate_per_year, dtype=float))


def incident_risk_knok(t: int, incident_t: np.ndarray, size_knok: float, recovery_months: float) -> float:
    """Perceived risk of joining at month t, kNOK per GP per year: R sum_k exp(-(t - t_k)/tau) [t >= t_k]."""
    since = t - np.asarray(incident_t, dtype=float)
    return float(size_knok * np.exp(-since[since >= 0] / recovery_months).sum())


def utility_terms_knok(*, money_knok: np.ndarray, time_saved_knok: np.ndarray, functionality_knok: float,
                       risk_knok: float, peer_knok: np.ndarray) -> dict[str, np.ndarray]:
    """The terms of V (n offices x alternatives in :data:`GP_ALTERNATIVES` order), kNOK per GP per year.

    ``money`` (n x 3): the money term of each alternative (:func:`sim.economics.join_money_nok_per_gp_year`,
    :func:`sim.economics.integrate_money_nok_per_gp_year`, 0 for "stay") / 1000; ``time_saved`` (n x 3): its
    part from the network's time saving (reported, not added again). Named terms on "join" only:
    functionality, risk (subtracted), peer. "stay" is 0 in every term.
    """
    money = np.asarray(money_knok, dtype=float)
    out = {"money": money, "time_saved": np.asarray(time_saved_knok, dtype=float)}
    for name, value in (("functionality", functionality_knok), ("risk", -risk_knok), ("peer", peer_knok)):
        out[name] = np.zeros_like(money)
        out[name][:, JOIN] = value
    return out


def utility_knok(terms: dict[str, np.ndarray], zero_terms=()) -> np.ndarray:
    """V = money + functionality + risk + peer, less the terms set to zero: "money" drops the money term,
    "time_saved" only its time-saving part, a named term itself ("random" is for :func:`logit_probabilities`)."""
    zero = set(zero_terms)
    v = np.zeros_like(terms["money"])
    if "money" not in zero:
        v = v + terms["money"] - (terms["time_saved"] if "time_saved" in zero else 0.0)
    for name in NAMED_TERMS:
        if name not in zero:
            v = v + terms[name]
    return v


def logit_probabilities(utility_knok: np.ndarray, offered: np.ndarray, beta_per_knok: float) -> np.ndarray:
    """Multinomial logit over the offered alternatives (rows: offices):

        P_a = [a offered] exp(beta V_a) / sum_{b offered} exp(beta V_b)

    beta = 0: every offered alternative equally likely; beta = inf (no random term): the offered
    alternatives of highest V share the probability equally.
    """
    v = np.atleast_2d(np.asarray(utility_knok, dtype=float))
    on = np.broadcast_to(np.asarray(offered, dtype=bool), v.shape)
    if np.isinf(beta_per_knok):
        best = np.where(on, v, -np.inf).max(axis=1, keepdims=True)
        w = (on & (v >= best)).astype(float)
    else:
        z = np.where(on, beta_per_knok * v, -np.inf)
        w = np.exp(z - z.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)


def inverse_cdf_choice(u: np.ndarray, h: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Alternative index a with h sum_{b<a} P_b <= u < h sum_{b<=a} P_b ("join" first); :data:`NO_CHOICE`
    where u >= h. One uniform decides both the occasion and the alternative."""
    u = np.asarray(u, dtype=float)
    edges = np.asarray(h, dtype=float)[..., None] * np.cumsum(np.atleast_2d(probabilities), axis=-1)
    edges[..., -1] = np.asarray(h, dtype=float)  # the last edge is h exactly (no rounding gap)
    code = (u[..., None] >= edges).sum(axis=-1)
    return np.where(u < np.asarray(h, dtype=float), code, NO_CHOICE)
