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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import Config
from sim.network import METRIC_COLUMNS, CareNetwork, build_network
from sim.region import Region, load_region

ORDERS: tuple[str, ...] = ("random", "largest_first", "most_connected_first", "by_municipality")
SEEDED_ORDERS: frozenset[str] = frozenset({"random", "by_municipality"})


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
                 region: Region | None = None, network: CareNetwork | None = None) -> pd.DataFrame:
    """Every network metric against GP uptake, per recruitment order and seed (tidy table).

    Columns: order, gp_share (the target), seed, gp_share_achieved (share of GPs actually on),
    n_practices_live, then :data:`METRIC_COLUMNS`. Hospitals and municipal nodes are on; specialists
    at ``network.specialist_adoption_share``.
    """
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    unknown = [o for o in orders if o not in ORDERS]
    if unknown:
        raise ValueError(f"unknown recruitment order(s) {unknown}; choose from {', '.join(ORDERS)}")
    region = load_region(cfg.region) if region is None else region
    network = build_network(region, cfg) if network is None else network
    gps = region.practices["n_gps"].to_numpy()
    muni_on = np.ones(network.n_municipalities, dtype=bool)
    hosp_on = np.ones(network.n_hospitals, dtype=bool)
    rows = []
    for order in orders:
        for s in range(seeds if order in SEEDED_ORDERS else 1):
            rng = np.random.default_rng(np.random.SeedSequence(cfg.run.seed, spawn_key=(1000 + s,)))
            perm = recruitment_order(order, region, network, rng)
            for target in np.linspace(0.0, 1.0, steps):
                k = practices_to_reach(gps[perm], float(target))
                live = np.zeros(len(gps), dtype=bool)
                live[perm[:k]] = True
                m = network.metrics(network.platform_vector(live, muni_on, hosp_on))
                rows.append({"order": order, "gp_share": float(target), "seed": s,
                             "gp_share_achieved": float(gps[live].sum() / gps.sum()), "n_practices_live": k,
                             **{c: m[c] for c in METRIC_COLUMNS}})
    return pd.DataFrame(rows)
