"""Sensitivity analysis: known answers through the same code path as the model.

Each test writes an experiment file, runs it with ``sim.sensitivity.sensitivity`` (design ->
``run_sweep`` in a process pool with a stand-in evaluator -> analysis -> files) and compares
the indices with closed forms: the Ishigami function (Sobol), a linear function (Morris,
tornado), a known box (PRIM).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError
from sim.sensitivity import (Analysis, check_analysis, load_analysis, parse_target, replicate_means,
                             scenario_discovery, sensitivity, seed_variance)
from sim.sweep import load_experiment

ROOT = Path(__file__).resolve().parents[1]
BASELINE = (ROOT / "configs" / "baseline.toml").as_posix()

# Ishigami, a = 7, b = 0.1 (Ishigami and Homma 1990; SALib test_functions/Ishigami.py)
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)
# Keys the stand-ins read (real config keys, so the design reaches the config as for the model).
K1, K2, K3 = "gp.bass_q_per_year", "gp.functionality_fit", "network.message_channel_information_share"
BOUNDS = {K1: (0.25, 0.6), K2: (0.5, 1.0), K3: (0.4, 0.8)}


def _get(cfg, key: str) -> float:
    return float(reduce(getattr, key.split("."), cfg))


def _replicate_normal(seed: int, replicate: int) -> float:
    """One N(0, 1) draw from the replicate's seed: the same for every design row (common random numbers)."""
    return float(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replicate,))).standard_normal())


@dataclass(frozen=True)
class Ishigami:
    """y = sin x1 + 7 sin^2 x2 + 0.1 x3^4 sin x1, x_i mapped from the keys' bounds to [-pi, pi].

    Also: ``ishigami_noisy`` adds replicate noise 3 z_r; ``ishigami_het`` adds z_r (1 + sin x1), a seed
    effect that depends on a parameter. None reads ``dummy.unused``.
    """

    def __call__(self, cfg, replicate: int, params: dict) -> dict:
        x = [-math.pi + 2 * math.pi * (_get(cfg, k) - BOUNDS[k][0]) / (BOUNDS[k][1] - BOUNDS[k][0]) for k in (K1, K2, K3)]
        y = math.sin(x[0]) + 7 * math.sin(x[1]) ** 2 + 0.1 * x[2] ** 4 * math.sin(x[0])
        z = _replicate_normal(cfg.run.seed, replicate)
        return {"ishigami": y, "ishigami_noisy": y + 3 * z, "ishigami_het": y + z * (1 + math.sin(x[0]))}


LINEAR = {K1: 5.0, K2: -3.0, K3: 1.0}


@dataclass(frozen=True)
class Linear:
    """y = sum_i c_i v_i over the keys' values v_i (natural units); ``dummy.unused`` is not read."""

    def __call__(self, cfg, replicate: int, params: dict) -> dict:
        return {"linear": sum(c * _get(cfg, k) for k, c in LINEAR.items())}


def _experiment(tmp_path: Path, name: str, design: str, samples: int, outputs: list[str], replicates: int = 1,
                analysis: str = "") -> Path:
    params = "".join(f'[[parameters]]\nkey = "{k}"\nlow = {lo}\nhigh = {hi}\n\n' for k, (lo, hi) in BOUNDS.items())
    text = (f'name = "{name}"\nbase = "{BASELINE}"\nseed = 7\nreplicates = {replicates}\ndesign = "{design}"\n'
            f'samples = {samples}\noutputs = {outputs!r}\nchunk_size = 5000\nmorris_levels = 4\n\n'
            f'{params}[[parameters]]\nkey = "dummy.unused"\n\n{analysis}')
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace("'", '"'), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ishigami(tmp_path_factory):
    """Sobol, N = 1024, two replicates, first and total order: 6,144 design rows, 12,288 runs."""
    tmp = tmp_path_factory.mktemp("ishigami")
    exp = _experiment(tmp, "ishigami", "sobol", 1024, ["ishigami", "ishigami_noisy", "ishigami_het"], replicates=2,
                      analysis="[analysis]\ntornado = false\nfigures = false\n")
    return sensitivity(exp, tmp / "out", workers=2, evaluate=Ishigami(), progress=False)


def _index(res, output: str, index: str) -> pd.DataFrame:
    t = res.indices
    return t[(t["output"] == output) & (t["index"] == index)].set_index("parameter")


def test_ishigami_sobol_indices_within_their_confidence_intervals(ishigami):
    """Tolerance: |estimate - closed form| <= the 95% bootstrap half-width SALib reports (conf)."""
    for index, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        got = _index(ishigami, "ishigami", index).loc[[K1, K2, K3]]
        err = np.abs(got["value"].to_numpy() - np.array(truth))
        assert (err <= got["conf"].to_numpy()).all(), f"{index}: {got['value'].tolist()} vs {truth} (conf {got['conf'].tolist()})"
        assert (got["conf"] < 0.1).all()  # the intervals are informative, not vacuous


def test_unread_parameter_has_exactly_zero_total_index(ishigami):
    """With common seeds per replicate, a key nobody reads changes no run: ST = 0 and its CI half-width 0."""
    for out in ("ishigami", "ishigami_noisy", "ishigami_het"):
        st = _index(ishigami, out, "ST").loc["dummy.unused"]
        assert st["value"] == 0.0 and st["conf"] == 0.0
        assert abs(_index(ishigami, out, "S1").loc["dummy.unused", "value"]) <= _index(ishigami, out, "S1").loc["dummy.unused", "conf"] + 1e-12


def test_common_replicate_noise_cancels_and_seed_variance_is_reported(ishigami):
    """Noise shared by every row of a replicate shifts all row means alike: the indices do not move;
    the seed variance table shows it (0 for the deterministic output, > 0 for the noisy ones)."""
    t = ishigami.indices
    clean = t[t["output"] == "ishigami"].set_index(["parameter", "index"])
    noisy = t[t["output"] == "ishigami_noisy"].set_index(["parameter", "index"])
    np.testing.assert_allclose(noisy["value"], clean["value"], atol=1e-9)
    sv = ishigami.seed_variance.set_index("output")
    assert sv.loc["ishigami", "seed_share"] == 0.0
    assert 0 < sv.loc["ishigami_noisy", "seed_share"] < 1 and 0 < sv.loc["ishigami_het", "seed_share"] < 1
    # within-row variance of y + 3 z_r is the sample variance of 3 z_r over the two replicates, in every row
    z = np.array([_replicate_normal(7, r) for r in (0, 1)])  # experiment seed 7
    assert sv.loc["ishigami_noisy", "within_row_variance"] == pytest.approx(np.var(3 * z, ddof=1), rel=1e-9)
    assert (ishigami.path / "indices.csv").is_file() and (ishigami.path / "seed_variance.csv").is_file()
    assert list(pd.read_csv(ishigami.path / "indices.csv").columns) == ["output", "parameter", "method", "index", "value", "conf"]


@pytest.fixture(scope="module")
def linear(tmp_path_factory):
    """Morris, 20 trajectories on 4 levels, with tornado and PRIM (target: the upper half of y)."""
    tmp = tmp_path_factory.mktemp("linear")
    # y at the centre of the ranges: the target splits the runs in two
    mid = sum(c * sum(BOUNDS[k]) / 2 for k, c in LINEAR.items())
    ana = (f'[analysis]\ntarget = "linear >= {mid}"\nprim_levers = ["{K1}", "{K2}", "{K3}", "dummy.unused"]\n'
           "prim_threshold = 0.9\n")
    exp = _experiment(tmp, "linear", "morris", 20, ["linear"], analysis=ana)
    from sim import api  # the command's path: tables and figures

    return api.sensitivity(exp, tmp / "out", workers=2, evaluate=Linear(), progress=False)


def test_morris_linear_function_exact_effects_and_ranking(linear):
    """For y = sum c_i v_i every elementary effect is c_i (high_i - low_i): mu* = |c_i| range_i, sigma = 0."""
    mu = _index(linear, "linear", "mu_star")["value"]
    sigma = _index(linear, "linear", "sigma")["value"]
    expect = {k: abs(c) * (BOUNDS[k][1] - BOUNDS[k][0]) for k, c in LINEAR.items()} | {"dummy.unused": 0.0}
    for k, v in expect.items():
        assert mu[k] == pytest.approx(v, rel=1e-9, abs=1e-12)
        assert sigma[k] == pytest.approx(0.0, abs=1e-9)
    assert list(mu.sort_values(ascending=False).index) == sorted(expect, key=expect.get, reverse=True)


def test_tornado_swings_and_agreement_on_linear_function(linear):
    """One-at-a-time swing of a linear term is |c| (high - low) around the base scenario; it ranks like mu*."""
    tor = linear.tornado.set_index("parameter")
    for k, c in LINEAR.items():
        assert tor.loc[k, "swing"] == pytest.approx(abs(c) * (BOUNDS[k][1] - BOUNDS[k][0]), rel=1e-9)
        assert tor.loc[k, "y_high"] - tor.loc[k, "y_low"] == pytest.approx(c * (BOUNDS[k][1] - BOUNDS[k][0]), rel=1e-9)
    assert tor.loc["dummy.unused", "swing"] == 0.0
    assert bool(linear.ranking.loc[0, "same_order"])
    figs = {p.name for p in (linear.path / "figures").iterdir()}
    assert {"morris_mu_star_sigma_en.pdf", "morris_mu_star_sigma_en.png", "tornado_en.pdf", "prim_en.png"} <= figs


def test_prim_through_the_pipeline_finds_a_dense_box(linear):
    tr, boxes = linear.prim_trajectory, linear.prim_boxes
    chosen = tr[tr["chosen"]].iloc[0]
    assert chosen["density"] >= 0.9 and 0 < chosen["coverage"] <= 1
    assert tr["coverage"].iloc[0] == 1.0  # the first box holds every run
    free = boxes[boxes["chosen"] & (boxes["parameter"] == "dummy.unused")].iloc[0]
    assert not free["restricted"]  # the unread key is never a condition


def test_prim_recovers_a_known_box():
    """y reached iff a > 0.6 and b < 0.4 on uniform a, b, c: the chosen box restricts exactly a and b, near the truth."""
    rng = np.random.default_rng(3)
    runs = pd.DataFrame(rng.uniform(size=(4000, 3)), columns=["a", "b", "c"])
    runs["y"] = ((runs["a"] > 0.6) & (runs["b"] < 0.4)).astype(float)
    boxes, tr = scenario_discovery(runs, parse_target("y >= 0.5"), ["a", "b", "c"], threshold=0.95)
    box = boxes[boxes["chosen"]].set_index("parameter")
    assert box.loc["a", "low"] == pytest.approx(0.6, abs=0.03) and box.loc["b", "high"] == pytest.approx(0.4, abs=0.03)
    assert box.loc["a", "restricted"] and box.loc["b", "restricted"] and not box.loc["c", "restricted"]
    chosen = tr[tr["chosen"]].iloc[0]
    assert chosen["density"] >= 0.95 and chosen["coverage"] >= 0.85


def test_prim_when_levers_cannot_secure_the_target():
    """y reached iff a > 0.6 and a coin flip: no box is denser than ~0.5. The trajectory is kept (EMA
    would return the unpeeled box), and the chosen box is the densest that still covers half the target runs."""
    rng = np.random.default_rng(5)
    runs = pd.DataFrame(rng.uniform(size=(4000, 2)), columns=["a", "b"])
    runs["y"] = ((runs["a"] > 0.6) & (rng.uniform(size=4000) < 0.5)).astype(float)
    boxes, tr = scenario_discovery(runs, parse_target("y >= 1"), ["a", "b"], threshold=0.9, min_coverage=0.5)
    assert len(tr) > 5 and tr["density"].max() < 0.9
    chosen = tr[tr["chosen"]].iloc[0]
    assert chosen["coverage"] >= 0.5
    assert chosen["density"] == tr.loc[tr["coverage"] >= 0.5, "density"].max()
    box = boxes[boxes["chosen"]].set_index("parameter")
    assert box.loc["a", "low"] == pytest.approx(0.6, abs=0.05)


def test_target_parsing_and_bad_targets():
    t = parse_target("one_record_coverage_2030 >= 0.8")
    assert (t.output, t.op, t.value) == ("one_record_coverage_2030", ">=", 0.8)
    np.testing.assert_array_equal(t.reached(np.array([0.79, 0.8, np.nan])), [False, True, False])
    assert parse_target("x<-1e3").reached(np.array([-2000.0, np.nan]))[0]
    for bad in ("x => 1", "x >= one", ">= 1", "x >= 1 and y < 2"):
        with pytest.raises(ValueError, match="target"):
            parse_target(bad)
    runs = pd.DataFrame({"a": [0.1, 0.2], "y": [1.0, 2.0]})
    with pytest.raises(ValueError, match="reached in 2 of 2"):
        scenario_discovery(runs, parse_target("y > 0"), ["a"])


def test_analysis_options_are_validated_against_the_experiment(tmp_path):
    exp_path = _experiment(tmp_path, "opts", "sobol", 8, ["ishigami"], analysis="[analysis]\nprim_treshold = 0.5\n")
    with pytest.raises(ConfigError, match=r"opts\.toml: analysis\.prim_treshold: unknown key \(did you mean 'prim_threshold'"):
        load_analysis(load_experiment(exp_path))
    exp = load_experiment(_experiment(tmp_path, "opts2", "sobol", 8, ["ishigami"]))
    assert load_analysis(exp) == Analysis()
    with pytest.raises(ConfigError, match="analysis.target: nope is not among"):
        check_analysis(Analysis(target="nope >= 1"), exp)
    with pytest.raises(ConfigError, match="analysis.prim_levers: gp.bass_p_per_year is not a parameter"):
        check_analysis(Analysis(target="ishigami >= 1", prim_levers=["gp.bass_p_per_year"]), exp)
    with pytest.raises(ConfigError, match="the experiment varies none of"):
        check_analysis(Analysis(target="ishigami >= 1"), exp)
    lhs = load_experiment(_experiment(tmp_path, "opts3", "lhs", 8, ["ishigami"]))
    with pytest.raises(ConfigError, match="needs 'sobol' or 'morris'"):
        check_analysis(Analysis(), lhs)


def test_replicate_means_refuses_incomplete_rows_and_seed_variance_definition():
    runs = pd.DataFrame({"design_row": [0, 0, 1, 1, 2], "replicate": [0, 1, 0, 1, 0], "y": [1.0, 3.0, 2.0, 2.0, 5.0]})
    with pytest.raises(ValueError, match="row 2 has 1 of 2"):
        replicate_means(runs, ["y"], 3, 2)
    full = pd.concat([runs, pd.DataFrame({"design_row": [2], "replicate": [1], "y": [7.0]})], ignore_index=True)
    means = replicate_means(full, ["y"], 3, 2)
    np.testing.assert_array_equal(means["y"], [2.0, 2.0, 6.0])
    sv = seed_variance(full, ["y"]).iloc[0]
    assert sv["within_row_variance"] == pytest.approx(np.mean([2.0, 0.0, 2.0]))
    assert sv["seed_share"] == pytest.approx(sv["within_row_variance"] / np.var(full["y"], ddof=1))


@pytest.mark.parametrize("name", ["sobol_core", "sobol_core_cluster", "sensitivity_smoke"])
def test_shipped_experiments_are_valid(name):
    exp = load_experiment(ROOT / "experiments" / f"{name}.toml")
    outputs, target, levers = check_analysis(load_analysis(exp), exp)
    assert {"share_gps_2030", "one_record_coverage_2030", "gain_realized_2030",
            "nok_per_inhabitant_median_municipality_2030"} <= set(outputs)
    assert exp.design in ("sobol", "morris")
    if name == "sensitivity_smoke":
        assert "dummy.unused" in exp.keys
    else:
        assert target is not None and levers


# --------------------------------------------------------------------------- a calibrated base: posterior marginals


def test_a_calibrated_base_draws_its_fitted_keys_from_their_posterior_marginals(tmp_path):
    """Keys the base's [calibration] fitted (and the file gives no bounds for) take the inverse weighted CDF
    of their posterior marginal; the others stay uniform over their range; parameters.csv says which."""
    from sim.sweep.experiment import make_design, parameter_sources

    post = pd.DataFrame({"gp.bass_q_per_year": [0.30, 0.40, 0.50], "municipality.threshold_mean": [0.9, 1.0, 1.1],
                         "weight": [0.0, 0.25, 0.75]})
    post.to_csv(tmp_path / "post.csv", index=False)
    (tmp_path / "cal.toml").write_text(
        f'extends = "{BASELINE}"\nscenario = "cal"\n[calibration]\ndate = "2026-12-07"\ndata_end = "2023-12"\n'
        'method = "m"\nposterior = "post.csv"\n')
    body = ('name = "cal_lhs"\nbase = "cal.toml"\nseed = 3\ndesign = "lhs"\nsamples = 64\noutputs = ["share_gps_2030"]\n'
            '[[parameters]]\nkey = "gp.bass_q_per_year"\n'
            '[[parameters]]\nkey = "municipality.threshold_mean"\nlow = 0.5\nhigh = 1.5\n'
            '[[parameters]]\nkey = "gp.bass_p_per_year"\n')
    (tmp_path / "exp.toml").write_text(body)
    exp = load_experiment(tmp_path / "exp.toml")
    design = make_design(exp)
    q = design["gp.bass_q_per_year"]
    assert set(q) == {0.40, 0.50} and 0.6 < (q == 0.50).mean() < 0.9     # weight 0.75 of 0.5, never the 0-weight 0.3
    assert design["municipality.threshold_mean"].between(0.5, 1.5).all()  # own bounds: uniform over them
    assert design["municipality.threshold_mean"].nunique() == 64
    src = parameter_sources(exp).set_index("parameter")
    assert src["source"].to_dict() == {"gp.bass_q_per_year": "posterior", "municipality.threshold_mean": "prior",
                                       "gp.bass_p_per_year": "prior"}
    assert src.at["gp.bass_q_per_year", "dist"] == "posterior" and src.at["gp.bass_q_per_year", "low"] == 0.40
    bad = body.replace('key = "gp.bass_p_per_year"\n', 'key = "gp.bass_p_per_year"\ndist = "posterior"\n')
    (tmp_path / "bad.toml").write_text(bad)
    with pytest.raises(ConfigError, match=r"parameters.2.dist: gp.bass_p_per_year has no posterior"):
        load_experiment(tmp_path / "bad.toml")
