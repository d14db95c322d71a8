"""The explorer's levers: which scenario keys it moves, their ranges, and the command a setting is.

A lever's unit, range and description come from the schema through ``sim.api.params`` (the table
of ``onerecord params``): a slider spans the key's prior range (the sourced range of its
``parameters_sources.csv`` row) or, for a policy lever without one, its sweep range, widened to hold
the base scenario's value and clipped to the validity bounds, so it cannot leave them. The hover
text names the key, unit, range and the source comment of ``configs/baseline.toml``. Nothing here
imports the model.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from sim import api


@dataclass(frozen=True)
class Lever:
    """One control: a scenario key (or ``explore.*`` for a view setting), how it is shown, its range."""

    key: str
    kind: str  # "slider", "select"
    unit: str = ""
    low: float = 0.0
    high: float = 1.0
    step: float = 1.0
    choices: tuple = ()
    description: str = ""
    source: str = ""

    @property
    def hover(self) -> str:
        """Key, description and unit, range and source, one after the other."""
        rng = f"{self.low:g} to {self.high:g}" if self.kind == "slider" else ", ".join(map(str, self.choices))
        lines = [self.key, f"{self.description} ({self.unit})" if self.unit else self.description, f"range: {rng}"]
        return " · ".join([*lines, f"source: {self.source or 'assumption'}"])

    def clamp(self, value: Any) -> Any:
        """The nearest allowed value: a slider value clipped to [low, high] on the step grid, a choice or the first."""
        if self.kind == "select":
            return value if value in self.choices else self.choices[0]
        v = min(max(float(value), self.low), self.high)
        return round(self.low + round((v - self.low) / self.step) * self.step, 10)


# key -> slider step (a presentation choice: about 50-100 positions over the range)
SLIDERS: dict[str, float] = {
    "gp_price.licence_nok_per_gp_year": 1000.0,
    "agreement.subsidy_nok_per_gp_year": 1000.0,
    "financing.state_share": 0.05,
    "financing.regional_share": 0.05,
    "functionality.improvement_per_release": 0.002,
    "functionality.golive_shock": 0.01,
}
SELECTS: tuple[str, ...] = ("agreement.start_month", "financing.allocation_key")
RECRUITMENT_ORDER = "explore.recruitment_order"
"""Not a scenario key: the order of the gain-against-uptake curve (``onerecord uptake-curve --orders``)."""


def _interval(allowed: str) -> tuple[float, float]:
    """``[0, 1]``, ``(0, ]``, ``[0, ]`` -> (low, high) with open ends as +-inf (open bounds nudged inwards)."""
    if not allowed:
        return -math.inf, math.inf
    lo, hi = (s.strip() for s in allowed[1:-1].split(","))
    low = float(lo) if lo else -math.inf
    high = float(hi) if hi else math.inf
    if allowed[0] == "(":
        low = math.nextafter(low, math.inf)
    if allowed[-1] == ")":
        high = math.nextafter(high, -math.inf)
    return low, high


def slider_range(sweep: str, allowed: str, value: float) -> tuple[float, float]:
    """The sweep range ``"a to b"`` widened to hold ``value``, clipped to the validity bounds ``allowed``."""
    lo_ok, hi_ok = _interval(allowed)
    if sweep:
        a, b = (float(x) for x in sweep.split(" to "))
    else:
        a, b = lo_ok, hi_ok
    a, b = min(a, value), max(b, value)
    return max(a, lo_ok), min(b, hi_ok)


def agreement_months(start_month: str, end_month: str, value: str) -> tuple[str, ...]:
    """January of every simulated year (and the base value), in calendar order."""
    y0, y1 = int(start_month[:4]), int(end_month[:4])
    return tuple(sorted({f"{y}-01" for y in range(y0, y1 + 1)} | {value}))


@lru_cache(maxsize=32)
def levers(config: str | Path) -> tuple[Lever, ...]:
    """The levers for a base scenario, each with its unit, range, description and source (cached per file)."""
    table = api.params(config).parameters.set_index("key")
    cfg = api.load_config(config)
    out = []
    for key, step in SLIDERS.items():
        row = table.loc[key]
        low, high = slider_range(row.get("prior_range") or row["sweep_range"], row["allowed"], float(row["value"]))
        out.append(Lever(key, "slider", row["unit"], low, high, step, (), row["description"], row["source"]))
    row = table.loc["agreement.start_month"]
    out.append(Lever("agreement.start_month", "select", row["unit"],
                     choices=agreement_months(cfg.run.start_month, cfg.run.end_month, cfg.agreement.start_month),
                     description=row["description"], source=row["source"]))
    row = table.loc["financing.allocation_key"]
    keys = tuple(row["type"].split("[", 1)[1].rstrip("]").replace("'", "").replace(" ", "").split(","))
    out.append(Lever("financing.allocation_key", "select", "", choices=keys, description=row["description"],
                     source=row["source"]))
    out.append(Lever(RECRUITMENT_ORDER, "select", "", choices=api.RECRUITMENT_ORDERS,
                     description="Order in which GP practices join in the gain-against-uptake curve",
                     source="DESIGN.md, question 1 (onerecord uptake-curve --orders)"))
    return tuple(out)


def base_values(config: str | Path) -> dict[str, Any]:
    """Each lever's value in the base scenario (the recruitment order: ``random``)."""
    return dict(_base_values(str(config)))


@lru_cache(maxsize=32)
def _base_values(config: str) -> dict[str, Any]:
    data = api.load_config(config).model_dump(mode="json")
    out: dict[str, Any] = {}
    for key in (*SLIDERS, *SELECTS):
        node = data
        for part in key.split("."):
            node = node[part]
        out[key] = node
    out[RECRUITMENT_ORDER] = api.RECRUITMENT_ORDERS[0]
    return out


def scenario_overrides(values: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The scenario keys whose value differs from the base (view settings left out), in lever order."""
    return {k: v for k, v in values.items() if not k.startswith("explore.") and v != base.get(k)}


def toml_literal(value: Any) -> str:
    """A ``--set`` value as a TOML literal: numbers as the shortest repr, strings quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def set_args(overrides: dict[str, Any]) -> list[str]:
    """``--set`` strings (``key=literal``) of the overrides."""
    return [f"{k}={toml_literal(v)}" for k, v in overrides.items()]


def run_command(config: str | Path, seeds: int, overrides: dict[str, Any]) -> str:
    """The ``onerecord run`` command line (shell-quoted) that reproduces a setting."""
    parts = ["onerecord", "run", str(config), "--seeds", str(int(seeds))]
    for s in set_args(overrides):
        parts += ["--set", s]
    return shlex.join(parts)


def parse_run_command(command: str) -> tuple[str, int, list[str]]:
    """(config, seeds, --set strings) of a command from :func:`run_command` (what the test replays)."""
    parts = shlex.split(command)
    if parts[:2] != ["onerecord", "run"]:
        raise ValueError(f"not an onerecord run command: {command!r}")
    config, rest = parts[2], parts[3:]
    seeds, sets = 0, []
    for flag, value in zip(rest[::2], rest[1::2]):
        if flag == "--seeds":
            seeds = int(value)
        elif flag == "--set":
            sets.append(value)
        else:
            raise ValueError(f"unexpected option {flag!r} in {command!r}")
    return config, seeds, sets


def shipped_configs(config: str | Path) -> list[Path]:
    """The scenario files beside ``config`` (the shipped configs when it is one of them), sorted; ``config`` first."""
    p = Path(config)
    others = sorted(q for q in p.parent.glob("*.toml") if q.resolve() != p.resolve())
    return [p, *others]


def lever_table(config: str | Path) -> pd.DataFrame:
    """The levers as a table (key, kind, unit, low, high, step, choices, source): what the page shows on hover."""
    return pd.DataFrame([{**vars(lv), "choices": ", ".join(map(str, lv.choices))} for lv in levers(config)])
