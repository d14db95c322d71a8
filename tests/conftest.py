"""Shared test settings: a hypothesis profile and small configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("onerecord", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("ci", parent=settings.get_profile("onerecord"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "onerecord")

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"

#: A small synthetic region: 8 municipalities, 60,000 residents (7,500 a municipality, between the real
#: region's median 5,735 and mean 11,365). Its municipalities join under the calibrated rule (3 to 5 of 8 live
#: in 2030 over 4 seeds); at 20,000 (2,500 a municipality) their bills per inhabitant are too high: none does.
SMALL = ["region.kind=synthetic", "region.synthetic_municipalities=8", "region.synthetic_population=60000"]


@pytest.fixture(scope="session")
def small_config():
    """The baseline on a small synthetic region."""
    from sim.config import load_config

    return load_config(BASELINE, SMALL)


@pytest.fixture(scope="session")
def baseline_config():
    """The baseline scenario as shipped (the real region)."""
    from sim.config import load_config

    return load_config(BASELINE)
