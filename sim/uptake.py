"""How much of the "one record" gain is left with partial GP uptake (DESIGN.md, question 1).

Hospitals and municipalities are held on the platform, contract specialists at their own
``network.specialist_adoption_share``, and whole GP practices are added in a recruitment order
until the share of GPs on the platform (``share_gps``) first reaches each target in
``linspace(0, 1, steps)``:

* ``random``: a seeded random permutation of the practices;
* ``largest_first``: by list size (list patients), largest first;
* ``most_connected_first``: by weighted degree (hand-over events per year) in the provider graph;
* ``by_municipality``: municipalities in a seeded random order, each one's practices together
  (in practice order); the target stops within a municipality, like every order, at a whole practice.

Seeded orders use ``SeedSequence(cfg.run.seed, spawn_key=(1000 + s,))`` for s = 0..seeds-1;
deterministic orders (ties broken by practice index) are evaluated once, as seed 0.

The curve is read at one month (default December of ``run.report_year``), since the status quo the
platform is measured against moves with the national services. Parameter draws (``draws`` = K > 0):
the model's draws (:func:`sim.draws.draw_table`: draw 0 the config as given, draws 1..K every uncertain
input over its prior range, or ``spec``), each with its own network.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import Config
from sim.draws import Spec, draw_configs, draw_table
from sim.network import METRIC_COLUMNS, CareNetwork, build_network
from sim.region import Region, load_region

ORDERS: tuple[str, ...] = ("random", "largest_first", "most_connected_first", "by_municipality")
SEEDED_ORDERS: frozenset[str] = frozenset({"random", "by_municipality"})

def report_month(cfg: Config) -> str:
    """December of the report year, or the run's last month if earlier (YYYY-MM)."""
    return min(f"{cfg.run.report_year}-12", cfg.run.end_month)


def recruitment_order(order: str, region: Region, network: CareNetwork,
                      rng: np.random.Generator | None = None) -> np.ndarray:
    """Practice indices in the order they join (see the module docstring for each rule)."""
    n = len(region.practices)
    idx = np.arange(n)
    if order == "random":
        return rng.permutation(n)
    if order == "largest_first":
        return np.lexsort((idx, -region.practices["list_patients"].to_numpy()))
    if order == "most_connected_first":
        degree = dict(network.graph().degree(weight="weight"))
        return np.lexsort((idx, -np.array([degree[i] for i in range(n)])))
    if order == "by_municipality":
        rank = rng.permutation(len(region.municipalities))
        return np.lexsort((idx, rank[region.practices["muni_idx"].to_numpy()]))
    raise ValueError(f"unknown recruitment order {order!r}; choose from {', '.join(ORDERS)}")


def practices_to_reach(gps_in_order: np.ndarray, target: float) -> int:
    """Smallest k with sum(gps of the first k practices) / all GPs >= target (0 for target 0)."""
    cum = np.cumsum(gps_in_order)
    if target <= 0 or cum[-1] == 0:
        return 0
    return int(min(len(cum), np.searchsorted(cum, target * cum[-1] * (1 - 1e-12), side="left") + 1))


def uptake_curve(cfg: Config, steps: int = 21, orders: tuple[str, ...] = ORDERS, seeds: int = 5,
                 region: Region | None = None, network: CareNetwork | None = None, month: str | None = None,
                 draws: int = 0, spec: Spec | None = None) -> pd.DataFrame:
    """Every network metric against GP uptake, per recruitment order, seed and parameter draw (tidy table).

    Columns: order, gp_share (the target), seed, draw, month, gp_share_achieved (share of GPs actually on),
    n_practices_live, then :data:`METRIC_COLUMNS` at ``month`` (default :func:`report_month`). Hospitals and
    municipal services are on; specialists at ``network.specialist_adoption_share``; the row at gp_share 0 is
    the gain with hospitals and municipalities alone. ``network`` (draw 0 only) saves a rebuild.
    """
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    if draws < 0:
        raise ValueError(f"draws must be >= 0, got {draws}")
    unknown = [o for o in orders if o not in ORDERS]
    if unknown:
        raise ValueError(f"unknown recruitment order(s) {unknown}; choose from {', '.join(ORDERS)}")
    month = report_month(cfg) if month is None else month
    t = cfg.t_of(month)
    if not 0 <= t < cfg.n_months:
        raise ValueError(f"month {month} is outside the run ({cfg.run.start_month} to {cfg.run.end_month})")
    region = load_region(cfg.region) if region is None else region
    gps = region.practices["n_gps"].to_numpy()
    rows = []
    configs = draw_configs(cfg, draw_table(cfg, draws, spec)) if draws else [cfg]
    for d, cfg_d in enumerate(configs):
        net = network if (d == 0 and network is not None) else build_network(region, cfg_d)
        muni_on = np.ones(net.n_municipalities, dtype=bool)
        hosp_on = np.ones(net.n_hospitals, dtype=bool)
        for order in orders:
            for s in range(seeds if order in SEEDED_ORDERS else 1):
                rng = np.random.default_rng(np.random.SeedSequence(cfg.run.seed, spawn_key=(1000 + s,)))
                perm = recruitment_order(order, region, net, rng)
                for target in np.linspace(0.0, 1.0, steps):
                    k = practices_to_reach(gps[perm], float(target))
                    live = np.zeros(len(gps), dtype=bool)
                    live[perm[:k]] = True
                    m = net.metrics(net.platform_vector(live, muni_on, hosp_on), t)
                    rows.append({"order": order, "gp_share": float(target), "seed": s, "draw": d, "month": month,
                                 "gp_share_achieved": float(gps[live].sum() / gps.sum()), "n_practices_live": k,
                                 **{c: m[c] for c in METRIC_COLUMNS}})
    return pd.DataFrame(rows)


def gain_bands(curve: pd.DataFrame, metric: str = "gain_realized", at: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
               ) -> pd.DataFrame:
    """Per order and GP share in ``at``: the median of ``metric`` and its 5-95% band over seeds and draws together,
    and over seeds alone (draw 0). Columns: order, gp_share, median, low, high, seeds_low, seeds_high."""
    rows = []
    for (order, share), g in curve[curve["gp_share"].round(9).isin(np.round(at, 9))].groupby(["order", "gp_share"]):
        v, v0 = g[metric].to_numpy(), g.loc[g["draw"] == 0, metric].to_numpy()
        rows.append({"order": order, "gp_share": share, "median": float(np.median(v)),
                     "low": float(np.quantile(v, 0.05)), "high": float(np.quantile(v, 0.95)),
                     "seeds_low": float(v0.min()), "seeds_high": float(v0.max())})
    return pd.DataFrame(rows)
