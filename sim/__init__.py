"""onerecord: agent-based rollout simulation of a shared regional health record.

The public API lives in :mod:`sim.api` and is re-exported here lazily (module-level
``__getattr__``), so that ``import sim`` in a sweep worker loads neither matplotlib
nor the analysis libraries.
"""

from __future__ import annotations

__version__ = "0.1.0"

# sweep and sensitivity are also subpackage/module names: call them as sim.api.sweep / sim.api.sensitivity.
_API = {"load_config", "run", "load_results", "uptake_curve", "RunResults", "ConfigError"}


def __getattr__(name: str):
    if name in _API:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_API))
