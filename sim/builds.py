"""The build cache: a region and its care network, built once per region/network setup.

A region and its care network depend only on the config's ``region`` and ``network`` sections
and cost far more to build than a run (the real region: ~0.5 s against ~0.05 s a run), so what
runs many configs holds a :class:`BuildCache` and passes it to what builds: the replicate runner,
a sweep's evaluator, calibration, the Bass check, the benchmarks. There is no module-level cache:
whoever holds the object decides how long builds live. A cache pickles empty, so a worker
process that receives one builds its own (a forked worker inherits its parent's builds instead).
"""

from __future__ import annotations

import json
from collections import OrderedDict

from sim.config import Config
from sim.network import CareNetwork, build_network
from sim.region import Region, load_region


def build_key(cfg: Config) -> str:
    """What a build depends on: the region and network sections, as canonical JSON."""
    return json.dumps({"region": cfg.region.model_dump(mode="json"), "network": cfg.network.model_dump(mode="json")},
                      sort_keys=True)


class BuildCache:
    """(Region, CareNetwork) per distinct region/network setup; the ``max_size`` most recent are kept.

    A config that differs elsewhere (prices, wages: the network's valuation) gets the cached build
    revalued (``CareNetwork.revalued``), so a sweep over such keys builds once per worker.
    """

    def __init__(self, max_size: int = 4):
        self.max_size = int(max_size)
        self._builds: OrderedDict[str, tuple[Region, CareNetwork]] = OrderedDict()

    def get(self, cfg: Config) -> tuple[Region, CareNetwork]:
        """The region and network of ``cfg``, built on first use."""
        key = build_key(cfg)
        if key in self._builds:
            self._builds.move_to_end(key)
        else:
            while len(self._builds) >= self.max_size:
                self._builds.popitem(last=False)
            region = load_region(cfg.region)
            self._builds[key] = (region, build_network(region, cfg))
        region, network = self._builds[key]
        return region, (network if network.cfg == cfg else network.revalued(cfg))

    def __len__(self) -> int:
        return len(self._builds)

    def __getstate__(self) -> dict:
        return {"max_size": self.max_size, "_builds": OrderedDict()}  # a receiving process builds its own
