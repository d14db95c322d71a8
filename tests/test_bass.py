"""The Bass special case of the GP adoption rule (DESIGN.md, Adoption rule; issue #4).

With beta_u = 0, a complete peer graph and the platform offered from t = 0
(``experiments/validation/bass.toml``), the mean simulated share must follow the Bass curve.
The tolerance is not a fudge factor; it adds three parts, each computed:

* **discretisation**: the model steps monthly on start-of-month state, so its infinite-population
  mean follows the recursion F_{n+1} = F_n + (1 - F_n)(1 - e^{-dt(p + q F_n)})
  (:func:`bass_discrete`), which is a first-order scheme for the Bass ODE. The gap
  |recursion - closed form| is computed exactly per month (baseline p, q: at most 0.016) and is
  shown to shrink like dt;
* **finite population**: E[F_{n+1}] = E[G(F_n)] differs from G(E[F_n]) by Jensen's gap, at
  most (c2/2) Var(F_n), propagated by G' (:func:`finite_population_bias_bound`; at most ~0.02 here,
  checked against an exact N = 1 case below);
* **sampling**: 4 standard errors of the mean over seeds, per month (the curve is smooth, so
  its ~190 months are far fewer independent tests; P(|Z| > 4) = 6e-5 each).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import load_config, with_overrides
from sim.validation import bass_cdf, bass_discrete, bass_validation, check_bass_case, finite_population_bias_bound

from .conftest import BASELINE, ROOT

BASS = ROOT / "experiments" / "validation" / "bass.toml"
N_SEEDS = 40  # ~0.2 s per run on ~670 practices
Z = 4.0  # standard errors allowed per month


def test_bass_cdf_closed_form():
    p, q = 0.01, 0.4
    t = np.linspace(0, 60, 6001)
    f = bass_cdf(t, p, q)
    assert f[0] == 0.0 and f[-1] == pytest.approx(1.0, abs=1e-6) and np.all(np.diff(f) > 0)
    # it solves the Bass ODE dF/dt = (p + q F)(1 - F)
    np.testing.assert_allclose(np.gradient(f, t)[1:-1], ((p + q * f) * (1 - f))[1:-1], atol=1e-4)
    np.testing.assert_allclose(bass_cdf(t, p, 0.0), 1 - np.exp(-p * t), atol=1e-12)  # q = 0: pure innovation
    assert np.all(bass_cdf(t, 0.0, q) == 0.0)  # no innovators: nobody starts


def test_discrete_recursion_is_first_order_in_dt():
    p, q = 0.005, 0.4
    gaps = []
    for dt in (1 / 12, 1 / 120, 1 / 1200):
        n = int(round(16 / dt))
        gaps.append(np.abs(bass_discrete(n, p, q, dt) - bass_cdf(np.arange(1, n + 1) * dt, p, q)).max())
    assert gaps[0] < 0.02  # the monthly model's own discretisation error
    assert 8 < gaps[0] / gaps[1] < 12 and 8 < gaps[1] / gaps[2] < 12  # O(dt)


def test_bias_bound_covers_an_exact_small_population():
    """N = 1: the share is 0 or 1, P(adopted by n) = 1 - e^{-n dt p} exactly (peers never help the last one),
    Var = P(1 - P). The bound must cover |P_n - F_n^rec|; with no variance it is 0."""
    p, q, n = 0.05, 0.5, 240
    exact = 1 - np.exp(-np.arange(1, n + 1) / 12 * p)
    bound = finite_population_bias_bound(exact * (1 - exact), p, q)
    gap = np.abs(exact - bass_discrete(n, p, q))
    assert np.all(gap <= bound + 1e-12)
    assert gap.max() > 0.1  # a real gap, not a trivial case
    assert np.all(finite_population_bias_bound(np.zeros(n), p, q) == 0.0)


def test_bass_case_check():
    check_bass_case(load_config(BASS))
    with pytest.raises(ValueError, match="beta_u_per_knok must be 0.*peer_graph"):
        check_bass_case(load_config(BASELINE))


@pytest.fixture(scope="module")
def validation():
    cfg = load_config(BASS)
    return cfg, bass_validation(cfg, N_SEEDS)


def test_simulated_mean_follows_bass(validation):
    cfg, df = validation
    assert len(df) == cfg.n_months and (df["n_seeds"] == N_SEEDS).all()
    np.testing.assert_allclose(df["t_years"], (np.arange(cfg.n_months) + 1) / 12)
    sampling = Z * df["share_se"]
    # the recursion the model follows: finite-population bias + sampling
    assert np.all(np.abs(df["share_mean"] - df["bass_discrete"]) <= df["bias_bound"] + sampling)
    # the closed form: plus the discretisation gap
    discretisation = np.abs(df["bass_discrete"] - df["bass_cdf"])
    tolerance = discretisation + df["bias_bound"] + sampling
    assert np.all(np.abs(df["share_mean"] - df["bass_cdf"]) <= tolerance)
    assert tolerance.max() < 0.1  # a tolerance that can fail: the curve spans 0 .. 0.9
    assert df["share_mean"].iloc[-1] > 0.8


def test_a_wrong_curve_is_rejected(validation):
    """Power: the same tolerance rejects the Bass curve of a 25% different q."""
    cfg, df = validation
    p, q = cfg.gp.bass_p_per_year, cfg.gp.bass_q_per_year
    wrong = bass_cdf(df["t_years"], p, 1.25 * q)
    tolerance = np.abs(df["bass_discrete"] - df["bass_cdf"]) + df["bias_bound"] + Z * df["share_se"]
    assert np.any(np.abs(df["share_mean"] - wrong) > tolerance)


def test_validation_refuses_other_configs():
    with pytest.raises(ValueError, match="not the Bass special case"):
        bass_validation(load_config(BASELINE), 2)
    with pytest.raises(ValueError, match="n_seeds"):
        bass_validation(load_config(BASS), 1)
    cfg = with_overrides(load_config(BASS), {"gp.beta_u_per_knok": 0.01})
    with pytest.raises(ValueError, match="beta_u"):
        bass_validation(cfg, 5)
