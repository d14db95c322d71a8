"""onerecord: agent-based rollout simulation of a shared regional health record.

The public API lives in :mod:`sim.api` and is re-exported here lazily (module-level
``__getattr__``), so that ``import sim`` in a sweep worker loads neither matplotlib
nor the analysis libraries.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("onerecord")  # one place: pyproject.toml
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0+unknown"

# The API's names that are not also a module of the package; sim.api.sweep, .sensitivity, .calibrate, .params
# and .report are called through sim.api (sim.sweep etc. are the subpackages they are built on).
_API = {"load_config", "run", "load_results", "plot", "compare", "uptake_curve", "validate_bass", "RunResults",
        "ConfigError"}


def __getattr__(name: str):
    if name in _API:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_API))
