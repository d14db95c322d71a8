"""Scenario configuration: the pydantic schema, TOML loading, ``extends`` and ``--set``.

This is the one place a parameter is *declared*: its type, unit, validity bounds and
sweep range. Its *value* and source live once, in ``configs/baseline.toml`` (a comment
per key). Every field is required, so a scenario either ``extends`` the baseline or
states every value itself.

Errors are one line that names the file and the key path, raised as
:class:`ConfigError`; the command line prints that line and exits with status 2.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import math
import numbers
import re
import tomllib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, reduce
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator,
                      model_validator)

MONTH_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
"""A plain file name (scenario, experiment): no path separator, not "." or "..", not hidden."""
KOMMUNENUMMER_RE = re.compile(r"^[0-9]{4}$")
"""Exactly four ASCII digits (full-width digits such as "\uff15\uff10\uff10\uff11" are not kommunenummer)."""
MAX_SEEDS = 10_000
"""Most replicate seeds of one run (``run.seeds``, ``--seeds``): more is a typo, and would not fit in memory."""
MAX_JOBS = 1024
"""Most worker processes (``--jobs``, ``--workers``): more is a typo."""
SUM_TOLERANCE = 1e-6
"""How far a profile or distribution may sum from 1 (rounding in a TOML file)."""


class ConfigError(ValueError):
    """A bad scenario or experiment input; ``str(err)`` is the one-line message."""


class EnvironmentFault(RuntimeError):
    """A fault of the machine or cluster, not of the input (a pool that cannot restart, a lost
    scheduler); ``str(err)`` is the one-line message, which says what was kept. The CLI exits 3."""


# --------------------------------------------------------------------------- field helper

Role = Literal["uncertain", "lever", "fixed"]
"""What a parameter is for the bands and the analyses:

* ``uncertain``: an uncertain input: drawn over its prior range for parameter bands
  (``run.draws``, :mod:`sim.draws`), a candidate for calibration and global sensitivity;
* ``lever``: a policy lever, a scenario choice (prices, subsidies, financing shares, the
  discount rate): swept in scenarios and designs, never drawn;
* ``fixed``: a run setting, a structural choice or a fact held fixed (seeds, horizon, test
  scales, rules of the region).
"""

DUMMY_PREFIX = "dummy."
"""Experiment keys under this prefix are sampled but never read by the model (no config key has it)."""

ROLES: tuple[str, ...] = ("uncertain", "lever", "fixed")


def P(*, unit: str, desc: str, role: Role, ge: float | None = None, le: float | None = None,
      gt: float | None = None, lt: float | None = None, row: str | None = None,
      prior: tuple[float, float] | None = None, sweep: tuple[float, float] | None = None,
      range_note: str | None = None) -> Any:
    """A required parameter with unit, description, role, validity bounds and its ranges.

    ``row`` names the row of ``sim/data/parameters_sources.csv`` whose value (and low/high
    range) the parameter takes; a row with a ``*`` stands for one row per age band of a
    table parameter (``"90+"`` -> ``90plus``, ``"0-5"`` -> ``0_5``). ``prior`` is the prior
    range of an uncertain input (uniform), kept apart from any calibrated range; without it
    the prior is the row's low/high (:func:`prior_range`). ``sweep`` is the range designs
    (:mod:`sim.sweep`) sample by default when it should differ from the prior (levers have
    only a sweep range). A ``prior`` or ``sweep`` that differs from the row's low/high says
    why in ``range_note`` (``tests/test_config.py`` lists every undocumented disagreement).
    """
    extra: dict[str, Any] = {"unit": unit, "role": role}
    for name, value in (("row", row), ("prior", prior), ("sweep", sweep), ("range_note", range_note)):
        if value is not None:
            extra[name] = tuple(value) if isinstance(value, tuple | list) else value
    return Field(..., ge=ge, le=le, gt=gt, lt=lt, description=desc, json_schema_extra=extra)


def Prob(*, desc: str, role: Role, row: str | None = None, prior: tuple[float, float] | None = None,
         sweep: tuple[float, float] | None = None, range_note: str | None = None) -> Any:
    """A probability or share in [0, 1]."""
    return P(unit="fraction", desc=desc, role=role, ge=0.0, le=1.0, row=row, prior=prior, sweep=sweep,
             range_note=range_note)


def Table(*, desc: str, role: Role = "fixed", row: str | None = None) -> Any:
    """A required non-scalar parameter (a table, list or choice) with its role and data row."""
    extra: dict[str, Any] = {"role": role} | ({"row": row} if row else {})
    return Field(..., description=desc, json_schema_extra=extra)


def Month(*, desc: str) -> Any:
    """A calendar month written ``YYYY-MM``."""
    return Field(..., description=desc, pattern=MONTH_RE.pattern, json_schema_extra={"unit": "YYYY-MM", "role": "fixed"})


def month_index(month: str, start_month: str) -> int:
    """Months from ``start_month`` to ``month`` (both ``YYYY-MM``): t = 12 (y - y0) + (m - m0)."""
    y, m = (int(x) for x in month.split("-"))
    y0, m0 = (int(x) for x in start_month.split("-"))
    return 12 * (y - y0) + (m - m0)


def month_date(start_month: str, t: int) -> date:
    """First day of the month ``t`` months after ``start_month``."""
    y0, m0 = (int(x) for x in start_month.split("-"))
    k = (m0 - 1) + t
    return date(y0 + k // 12, k % 12 + 1, 1)


def _check_strict(ann: Any, v: Any, where: str = "") -> Any:
    """``v`` if it has the declared type ``ann`` exactly, else ValueError; numbers must be finite.

    No coercion: a string or boolean is never a number (``"60000"``, ``true``), a float never a
    whole number (``1.0``), a number never a boolean or string; ``inf`` and ``nan`` are not numbers
    here. NumPy scalars (design values) count as the Python type they hold. Containers (``list[X]``,
    ``dict[str, X]``, ``X | None``) are checked item by item, ``where`` naming the item.
    """
    at = f"{where}: " if where else ""
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin in (typing.Union, types.UnionType):
        if v is None and type(None) in args:
            return v
        inner = [a for a in args if a is not type(None)]
        return _check_strict(inner[0], v, where) if len(inner) == 1 else v
    if origin is Literal:
        kinds = {type(a) for a in args}
        if isinstance(v, bool) and bool not in kinds or not isinstance(v, tuple(kinds)):
            raise ValueError(f"{at}must be one of {', '.join(repr(a) for a in args)}, got {v!r}")
        return v
    if origin is list and isinstance(v, list):
        return [_check_strict(args[0], x, f"{where}[{i}]" if where else f"item {i}") for i, x in enumerate(v)]
    if origin is dict and isinstance(v, dict):
        return {k: _check_strict(args[1], x, f"{where}.{k}" if where else str(k)) for k, x in v.items()}
    if ann is float:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ValueError(f"{at}must be a number, got {v!r}")
        if not math.isfinite(v):
            raise ValueError(f"{at}must be a finite number, got {v!r}")
        return float(v)
    if ann is int:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise ValueError(f"{at}must be a whole number (no decimal point, no quotes), got {v!r}")
        return int(v)
    if ann is bool and not isinstance(v, bool):
        raise ValueError(f"{at}must be true or false, got {v!r}")
    if ann is str and not isinstance(v, str):
        raise ValueError(f"{at}must be a string, got {v!r}")
    return v


class StrictModel(BaseModel):
    """A model whose fields take values of their declared type only (:func:`_check_strict`)."""

    @field_validator("*", mode="before")
    @classmethod
    def _strict(cls, v: Any, info: ValidationInfo) -> Any:
        return _check_strict(cls.model_fields[info.field_name].annotation, v)


class Section(StrictModel):
    """Base of every config section: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


def check_shares(shares: dict[str, float], what: str, key_pattern: str | None = None) -> dict[str, float]:
    """A distribution over named items: keys matching ``key_pattern``, shares >= 0 summing to 1 (within
    :data:`SUM_TOLERANCE`)."""
    if not shares:
        raise ValueError(f"needs at least one {what}")
    for k, x in shares.items():
        if key_pattern is not None and not re.match(key_pattern, k):
            raise ValueError(f"{k!r} is not a {what}")
        if x < 0:
            raise ValueError(f"{k}: share must be >= 0, got {x!r}")
    total = math.fsum(shares.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(f"shares must sum to 1, got {total:.6g}")
    return shares
def data_path(name: str):
    """Path of a file shipped in ``sim/data``."""
    return resources.files("sim") / "data" / name


def parse_band(label: str) -> tuple[int, int | None]:
    """``"a-b"`` -> (a, b); ``"a+"`` -> (a, None). Raises ValueError on anything else."""
    s = label.strip()
    try:
        if s.endswith("+"):
            return int(s[:-1]), None
        a, b = s.split("-")
        lo, hi = int(a), int(b)
    except ValueError:
        raise ValueError(f"age band must look like '20-29' or '80+', got {label!r}") from None
    if hi < lo:
        raise ValueError(f"age band {label!r} ends before it starts")
    return lo, hi


def _check_bands(rates: dict[str, float]) -> dict[str, float]:
    """Age-band keys ``"a-b"`` or ``"a+"`` must cover ages 0.. without gaps, ending in ``"a+"``."""
    spans = sorted(parse_band(k) for k in rates)
    if not spans or spans[0][0] != 0 or spans[-1][1] is not None:
        raise ValueError(f"age bands must start at 0 and end with an open band 'a+', got {sorted(rates)}")
    for (a0, b0), (a1, _) in zip(spans, spans[1:]):
        if b0 is None or b0 + 1 != a1:
            raise ValueError(f"age bands must be contiguous, got {sorted(rates)}")
    for k, v in rates.items():
        if v < 0:
            raise ValueError(f"rate for band {k} must be >= 0, got {v}")
    return rates


AgeRates = dict[str, float]

AGE_BAND_FIELDS: tuple[str, ...] = (
    "gp_consultations_per_person_year", "legevakt_contacts_per_person_year", "inpatient_stays_per_person_year",
    "outpatient_consultations_per_person_year", "share_receiving_home_care", "share_long_term_nursing_home",
    "specialist_consultations_per_person_year",
)
"""The ``network`` fields that are rates or shares by age band (``"a-b"``/``"a+"`` keys)."""


# --------------------------------------------------------------------------- sections


class RunSection(Section):
    start_month: str = Month(desc="First simulated month (t = 0)")
    end_month: str = Month(desc="Last simulated month, inclusive")
    seed: int = P(unit="integer", desc="Root seed; replicate seeds are spawned from it with numpy's SeedSequence", role="fixed", ge=0)
    seeds: int = P(unit="runs", desc="Default number of replicate seeds for `onerecord run`", role="fixed", ge=1, le=MAX_SEEDS)
    draws: int = P(unit="draws", desc="Parameter draws beside the config as given (draw 0): draws 1..K sample the fitted inputs jointly from the posterior of [calibration] and every other uncertain input over its prior range, keys the scenario sets itself held (sim.draws); each runs every replicate seed", role="fixed", ge=0, le=10_000)
    report_year: int = P(unit="year", desc="Year whose figures summary.csv reports beside the end of the horizon", role="fixed", ge=2000, le=2100)

    @model_validator(mode="after")
    def _order(self) -> "RunSection":
        if month_index(self.end_month, self.start_month) < 0:
            raise ValueError(f"end_month {self.end_month} is before start_month {self.start_month}")
        if not (f"{self.report_year}-01" >= self.start_month and f"{self.report_year}-12" <= self.end_month):
            raise ValueError(f"report_year: {self.report_year} is not a whole year inside the horizon "
                             f"{self.start_month} to {self.end_month}")
        return self


class RegionSection(Section):
    kind: Literal["real", "synthetic"] = Table(desc="Real Central Norway municipalities or a synthetic region")
    population_year: Literal[2020, 2023] = Table(desc="Which SSB population column the real region uses (held constant)")
    seed: int = P(unit="integer", desc="Seed of the region (practices, cohorts), shared by all replicates", role="fixed", ge=0)
    gp_list_mean_persons: float = P(unit="persons/list", desc="Mean GP list length; GPs per municipality = max(1, round(pop / list))", role="uncertain", row="gp_list_length_mean_persons", gt=0)
    office_size_pmf: list[float] = Table(desc="Probability of an office of 1, 2, ... GPs (fraction per size)")
    single_office_below_persons: float = P(unit="persons", desc="Municipalities below this size always have one GP office", role="fixed", ge=0)
    single_office_prob_below_5000: float = Prob(desc="Probability that a municipality of 2,000-5,000 residents has one office", role="fixed")
    share_gps_salaried: float = Prob(desc="Share of GPs whose office is salaried (municipal)", role="uncertain", row="share_gp_lists_salaried")
    synthetic_municipalities: int = P(unit="municipalities", desc="Synthetic region: number of municipalities", role="fixed", ge=1, le=2000)
    synthetic_population: int = P(unit="persons", desc="Synthetic region: total residents", role="fixed", ge=100)
    synthetic_size_sigma: float = P(unit="log-persons", desc="Synthetic region: sd of log municipal population (lognormal)", role="fixed", ge=0, le=5)
    synthetic_municipalities_per_council: int = P(unit="municipalities", desc="Synthetic region: municipalities per regional council", role="fixed", ge=1)
    synthetic_municipalities_per_trust: int = P(unit="municipalities", desc="Synthetic region: municipalities per hospital trust", role="fixed", ge=1)
    synthetic_hospitals_per_trust: int = P(unit="hospitals", desc="Synthetic region: local hospitals per trust", role="fixed", ge=1)

    @field_validator("office_size_pmf")
    @classmethod
    def _pmf(cls, v: list[float]) -> list[float]:
        if not v or any(p < 0 for p in v) or abs(math.fsum(v) - 1.0) > SUM_TOLERANCE:
            raise ValueError(f"must be non-negative and sum to 1, got sum {math.fsum(v):.6f}")
        return v

    @model_validator(mode="after")
    def _synthetic(self) -> "RegionSection":
        if self.kind == "synthetic" and self.synthetic_population < 100 * self.synthetic_municipalities:
            raise ValueError(f"synthetic_population: must be >= 100 per municipality ({100 * self.synthetic_municipalities}), "
                             f"got {self.synthetic_population}")
        return self


class HospitalsSection(Section):
    golive_month: dict[str, str] = Table(desc="Planned go-live month (YYYY-MM) per hospital trust")
    delay_probability: dict[str, float] = Table(desc="Probability (fraction) that a trust's go-live slips")
    delay_months_max: int = P(unit="months", desc="A slipping go-live slips by 1..max months (uniform)", role="fixed", ge=0, le=120)

    @field_validator("golive_month", "delay_probability")
    @classmethod
    def _not_empty(cls, v: dict) -> dict:
        if not v:
            raise ValueError("needs an entry per hospital trust or a 'default' entry, got an empty table")
        return v

    @field_validator("golive_month")
    @classmethod
    def _months(cls, v: dict[str, str]) -> dict[str, str]:
        for k, m in v.items():
            if not MONTH_RE.match(m):
                raise ValueError(f"{k}: month must be YYYY-MM, got {m!r}")
        return v

    @field_validator("delay_probability")
    @classmethod
    def _probs(cls, v: dict[str, float]) -> dict[str, float]:
        for k, p in v.items():
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{k}: probability must be in [0, 1], got {p}")
        return v


class FunctionalitySection(Section):
    initial: float = Prob(desc="Perceived functionality of the platform at the start (0 unusable, 1 as promised)", role="uncertain", prior=(0.4, 0.8))
    improvement_per_release: float = P(unit="functionality/release", desc="Rise in functionality with each release", role="uncertain", ge=0, le=1, prior=(0.0, 0.06))
    release_interval_months: int = P(unit="months", desc="Months between releases", role="fixed", ge=1, le=60)
    first_release_month: str = Month(desc="Month of the first release")
    golive_shock: float = Prob(desc="Drop in perceived functionality at each hospital go-live (problems at go-live)", role="uncertain", prior=(0.0, 0.4))
    shock_recovery_months: float = P(unit="months", desc="e-folding time of a go-live shock", role="uncertain", gt=0, prior=(6, 36))


class MunicipalitySection(Section):
    first_decision_month: str = Month(desc="First month a municipality can exercise its option")
    decision_lead_months: int = P(unit="months", desc="A decision must come this many months before its wave", role="fixed", ge=0, le=60)
    pre_committed: list[str] = Table(desc="kommunenummer of municipalities committed before the start (join the first wave)")
    threshold_mean: float = P(unit="score", desc="Mean of the heterogeneous decision thresholds", role="uncertain", prior=(-0.5, 2.0))
    threshold_sd: float = P(unit="score", desc="Standard deviation of the decision thresholds", role="uncertain", ge=0, prior=(0.05, 0.6))
    decision_noise: float = P(unit="score", desc="Logistic noise scale of a decision; 0 = deterministic threshold rule", role="uncertain", ge=0, prior=(0.02, 0.3))
    weight_cost: float = P(unit="score per unit headroom", desc="Weight of budget headroom (capacity - net cost) / capacity", role="uncertain", ge=0, prior=(0, 2))
    weight_functionality: float = P(unit="score per unit functionality", desc="Weight of perceived functionality above its reference", role="uncertain", ge=0, prior=(0, 3))
    functionality_reference: float = Prob(desc="Functionality that a municipality counts as neutral", role="fixed")
    weight_peers: float = P(unit="score per share", desc="Weight of the share of council peers that have joined", role="uncertain", ge=0, prior=(0, 2))
    weight_gp: float = P(unit="score per share", desc="Weight of expected GP uptake (share of GPs on the platform in the trust area)", role="uncertain", ge=0, prior=(0, 1))
    budget_capacity_nok_per_inhabitant_year: float = P(unit="NOK/inhabitant/year", desc="Net cost per inhabitant a year (the bottom-up expected bill) a municipality can carry", role="uncertain", gt=0, prior=(500, 3500))
    postpone_below_functionality: float = Prob(desc="A future wave is postponed when perceived functionality at its month is below this", role="fixed")
    postpone_months: int = P(unit="months", desc="How far a postponed wave slips", role="fixed", ge=0, le=60)
    decision_interval_months: int = P(unit="months", desc="Months between a council's decision points (first at first_decision_month, last at the last wave deadline)", role="fixed", ge=1, le=24)
    binding_first_month: str = Month(desc="First month a binding agreement (call-off or service agreement) that books a wave can be signed")
    binding_threshold_offset: float = P(unit="score", desc="A binding agreement needs score >= threshold + this (the option needs score >= threshold)", role="uncertain", ge=0, prior=(0.0, 1.0))
    decline_margin: float = P(unit="score", desc="A council declines (for good) when its score is this far below its stage's threshold; in between it defers", role="uncertain", ge=0, prior=(0.1, 2.0))
    postpone_margin: float = P(unit="score", desc="A bound municipality postpones its wave (to the next with room) when its score is this far below its threshold", role="uncertain", ge=0, prior=(0.0, 1.0))
    budget_capacity_log_sd: float = P(unit="log NOK", desc="Spread of each municipality's budget capacity: cap_m = cap exp(sd z_m - sd^2 / 2), z_m drawn standard normal", role="uncertain", ge=0, le=2, prior=(0.0, 0.6))
    contract_end_spread_years: float = P(unit="years", desc="Ends of the municipalities' current record-system contracts are drawn uniformly over this many years from run.start_month (0: all ended)", role="uncertain", ge=0, le=30, prior=(0.0, 15.0))
    exit_enabled: bool = Table(desc="Live municipalities may leave the platform (exit rule); off unless a scenario turns it on", role="lever")
    exit_margin: float = P(unit="score", desc="A live municipality leaves when its score is this far below its threshold, after the switch-back cost", role="uncertain", ge=0, prior=(0.0, 2.0))
    switch_back_cost_nok_per_inhabitant: float = P(unit="NOK/inhabitant", desc="One-off cost of switching back to a record system of its own after leaving (annualised like the investment)", role="uncertain", ge=0, prior=(500, 5000))

    @field_validator("pre_committed")
    @classmethod
    def _kommunenummer(cls, v: list[str]) -> list[str]:
        for k in v:
            if not KOMMUNENUMMER_RE.match(k):
                raise ValueError(f"{k!r} is not a kommunenummer (exactly 4 ASCII digits, e.g. \"5001\")")
        if len(set(v)) != len(v):
            raise ValueError(f"lists a municipality twice: {sorted(k for k in set(v) if v.count(k) > 1)}")
        return v


class RolloutSection(Section):
    wave_months: list[str] = Table(desc="Municipal go-live wave months (YYYY-MM), in order")
    wave_capacity: list[int] = Table(desc="Municipalities per wave (count), one per wave month")
    history_end_month: str = Month(desc="Waves up to this month are history: never postponed")
    replay_history: bool = Table(desc="To history_end_month the recorded municipalities go live in their recorded waves and recorded decisions happen as recorded, by kommunenummer (false: the rules run from the start)")

    @model_validator(mode="after")
    def _waves(self) -> "RolloutSection":
        if len(self.wave_months) != len(self.wave_capacity):
            raise ValueError(f"wave_months has {len(self.wave_months)} entries, wave_capacity {len(self.wave_capacity)}")
        for m in self.wave_months:
            if not MONTH_RE.match(m):
                raise ValueError(f"wave month must be YYYY-MM, got {m!r}")
        if list(self.wave_months) != sorted(self.wave_months):
            raise ValueError("wave_months must be in calendar order")
        if any(c < 0 for c in self.wave_capacity):
            raise ValueError("wave_capacity must be >= 0")
        return self


GP_ALTERNATIVES: tuple[str, ...] = ("join", "integrate", "stay")
"""The alternatives of a GP office's choice (sim.gp_choice), in the order of the inverse-CDF draw."""

GP_CHOICES: tuple[str, ...] = (*GP_ALTERNATIVES, "follow")
"""Name of each choice code of a GP office (index = code; "follow": joined with its municipality); -1 = none."""

GP_UTILITY_TERMS: tuple[str, ...] = ("money", "time_saved", "functionality", "risk", "peer", "random")
"""Terms of the GP choice that ``gp.zero_terms`` can set to zero (``time_saved`` is the part of ``money``
that the network computes; ``random`` zero = the logit's random term off, the best alternative chosen)."""


class GPSection(Section):
    bass_p_per_year: float = P(unit="1/year", desc="Spontaneous choice rate of an office (Bass p: choice occasions per year without peers)", role="uncertain", row="bass_p_ehr_physicians", ge=0)
    bass_q_per_year: float = P(unit="1/year", desc="Peer-driven choice rate at peer share 1 (Bass q)", role="uncertain", row="bass_q_ehr_physicians", ge=0)
    window_choice_rate_per_year: float = P(unit="1/year", desc="Extra choice rate of an office inside its contract-end window", role="uncertain", ge=0, prior=(0.5, 4.0))
    beta_u_per_knok: float = P(unit="1/(kNOK/GP/year)", desc="Logit weight of utility (1 / scale of the random term); 0: every offered alternative equally likely", role="uncertain", ge=0, prior=(0.0, 0.1))
    alternatives: list[Literal["join", "integrate", "stay"]] = Table(desc="Alternatives offered to a choosing office; must include 'join' (Bass case: ['join'])")
    zero_terms: list[Literal["money", "time_saved", "functionality", "risk", "peer", "random"]] = Table(desc="Utility terms set to zero (uptake split and counterfactuals; [] in every scenario)")
    peer_graph: Literal["municipality_council", "complete"] = Table(desc="Peers of a practice: its municipality and council, or every practice")
    peer_weight_municipality: float = P(unit="weight", desc="Weight of same-municipality practices in the peer share", role="fixed", ge=0)
    peer_weight_council: float = P(unit="weight", desc="Weight of same-council practices in the peer share", role="fixed", ge=0)
    offered_from_start: bool = Table(desc="Offer the platform to every GP from t = 0 (Bass validation), not from its municipality's go-live")
    salaried_follow_municipality: bool = Table(desc="Salaried GP offices join when their municipality goes live")
    pilot_offices_per_precommitted_municipality: int = P(unit="GP offices", desc="Pilot GP offices (longest lists) that go live with each pre-committed municipality", role="fixed", ge=0)
    functionality_fit: float = Prob(desc="How well the platform fits general practice (multiplies perceived functionality)", role="uncertain", prior=(0.5, 1.0))
    current_system_functionality: float = Prob(desc="Functionality of the current GP system on the same scale", role="fixed")
    functionality_value_knok_per_gp_year: float = P(unit="kNOK/GP/year", desc="Value of moving from functionality 0 to 1 (named term 'functionality' of joining)", role="uncertain", ge=0, prior=(0, 150))
    risk_knok_per_gp_year_per_incident: float = P(unit="kNOK/GP/year", desc="Perceived risk of joining right after one incident (named term 'risk'), decaying with risk_recovery_months", role="uncertain", ge=0, prior=(0, 60))
    risk_recovery_months: float = P(unit="months", desc="e-folding time of the perceived risk after an incident", role="uncertain", gt=0, prior=(6, 48))
    incident_months: list[str] = Table(desc="Months of incidents that raise GPs' perceived risk of joining (YYYY-MM)")
    peer_value_knok_per_gp_year: float = P(unit="kNOK/GP/year", desc="Value of joining when all the office's peers are on the platform (named term 'peer')", role="uncertain", ge=0, prior=(0, 40))
    contract_length_years: float = P(unit="years", desc="Length of a current-system contract (ends are spread uniformly)", role="uncertain", gt=0, prior=(3, 7))
    contract_end_window_months: int = P(unit="months", desc="Months before a contract end in which the office makes its choice at the window rate", role="fixed", ge=0)
    amortisation_years: float = P(unit="years", desc="Years over which one-off GP costs are annualised", role="uncertain", gt=0, prior=(3, 10))

    @field_validator("incident_months")
    @classmethod
    def _months(cls, v: list[str]) -> list[str]:
        bad = [m for m in v if not MONTH_RE.match(m)]
        if bad:
            raise ValueError(f"months must be YYYY-MM, got {bad}")
        return v

    @field_validator("alternatives")
    @classmethod
    def _join_offered(cls, v: list[str]) -> list[str]:
        if "join" not in v or len(set(v)) != len(v):
            raise ValueError(f"must include 'join' once and no alternative twice, got {v}")
        return v


class GPPriceSection(Section):
    licence_nok_per_gp_year: float = P(unit="NOK/GP/year", desc="Platform licence per GP per year", role="lever", row="gp_platform_licence_nok_per_gp_year", ge=0)
    implementation_oneoff_nok_per_gp: float = P(unit="NOK/GP", desc="One-off implementation cost per GP", role="lever", row="gp_platform_implementation_oneoff_nok_per_gp", ge=0)
    training_days_per_gp: float = P(unit="days/GP", desc="Training days per GP (lost consultations)", role="uncertain", row="gp_training_days_per_gp", ge=0)
    productivity_loss_share: float = Prob(desc="Share of consultations lost just after go-live", role="uncertain", row="gp_productivity_loss_after_golive_share")
    productivity_loss_months: float = P(unit="months", desc="Duration of the post-go-live productivity loss", role="uncertain", row="gp_productivity_loss_duration_months", ge=0)
    current_ehr_cost_nok_per_gp_year: float = P(unit="NOK/GP/year", desc="Cost of the current GP EHR system per GP per year", role="uncertain", row="gp_current_ehr_cost_nok_per_gp_year", ge=0)
    consultations_per_gp_year: float = P(unit="consultations/GP/year", desc="Consultations per GP per year", role="uncertain", row="gp_consultations_per_gp_year", gt=0)
    working_days_per_year: float = P(unit="days/year", desc="GP working days per year", role="fixed", gt=0, le=366)
    net_income_per_consultation_nok: float = P(unit="NOK/consultation", desc="GP net income per consultation", role="uncertain", row="gp_net_income_per_consultation_nok", ge=0)
    hourly_value_nok: float = P(unit="NOK/hour", desc="Value of one GP hour", role="uncertain", row="gp_hourly_value_nok", ge=0)
    integration_nok_per_gp_year: float = P(unit="NOK/GP/year", desc="Cost of the 'integrate' alternative: read access and integration modules on the office's own record", role="uncertain", ge=0, prior=(0, 20_000))
    integration_information_share: float = Prob(desc="Share of relevant information an integrated office's hand-overs carry (messages plus kjernejournal and read access)", role="uncertain", prior=(0.6, 0.8))


class AgreementSection(Section):
    subsidy_nok_per_gp_year: float = P(unit="NOK/GP/year", desc="Subsidy per GP per year under a municipal/platform agreement", role="lever", ge=0, sweep=(0, 60_000))
    start_month: str = Month(desc="Month the agreement takes effect")


class FinancingSection(Section):
    state_share: float = Prob(desc="Share of the municipal part of the platform cost paid by the state", role="lever", sweep=(0, 1))
    regional_share: float = Prob(desc="Share of the municipal part paid by the region (Helse Midt-Norge)", role="lever", sweep=(0, 0.5))
    state_grant_nok: float = P(unit="NOK", desc="State grant (lump sum) towards the municipal part, before the shares", role="lever", row="state_grant_scheme_municipalities_gps_nok", ge=0)
    allocation_key: Literal["per_inhabitant", "per_inhabitant_floor", "per_user", "mix"] = Table(desc="How the municipal part is split among joined municipalities", role="lever")
    floor_nok_per_municipality_year: float = P(unit="NOK/municipality/year", desc="Minimum gross allocation per municipality (key per_inhabitant_floor, mix)", role="lever", ge=0)
    mix_weight_inhabitant: float = Prob(desc="Key mix: weight on inhabitants (the rest per user)", role="lever")
    fixed_part_share: float = Prob(desc="Share of the municipal platform fee split equally among the municipalities that share it (the fixed part per municipality); the rest goes by the allocation key (the variable part)", role="lever", sweep=(0.0, 0.4))
    grant_mode: Literal["grant", "loan"] = Table(desc="The state_grant_nok scheme as a grant (lowers the municipal investment) or a loan (the state pre-pays it; each municipality repays its share as an annuity from its go-live)", role="lever")
    loan_years: float = P(unit="years", desc="Repayment period of the grant scheme when grant_mode = loan", role="lever", gt=0, sweep=(5, 20))
    loan_rate: float = P(unit="1/year", desc="Real interest rate of the grant scheme when grant_mode = loan", role="lever", ge=0, le=0.2, sweep=(0.0, 0.05))
    gp_licence_credit: Literal["owners_pro_rata", "municipalities"] = Table(desc="Who GP licence income (paid to Helseplattformen AS) lowers: its owners pro rata to their parts of the operating cost, or the municipal part only", role="lever")
    state_share_local: float = Prob(desc="Share of the municipalities' own one-off costs (project staff, super-users, training backfill, migration, integrations, equipment) paid by the state", role="lever", sweep=(0, 1))

    @model_validator(mode="after")
    def _shares(self) -> "FinancingSection":
        if self.state_share + self.regional_share > 1.0 + 1e-12:
            raise ValueError(f"state_share + regional_share must be <= 1, got {self.state_share + self.regional_share}")
        return self


class EconomicsSection(Section):
    investment_nok: float = P(unit="NOK", desc="Platform one-off investment (whole project)", role="uncertain", row="hp_cost_frame_nok", ge=0,
                              sweep=(2.8e9, 4.2e9), range_note="the sweep reaches down to the 2019 decision's NOK 2.7-2.8 bn "
                              "(what if the first frame had held); the prior is the row's 2022 frame range, 4.0-4.2 bn")
    investment_profile: dict[str, float] = Table(desc="Share (fraction) of the investment paid in each year")
    operating_nok_per_year: float = P(unit="NOK/year", desc="Platform annual operating cost once live", role="uncertain", ge=0, prior=(4e8, 1.2e9))
    reference_population_persons: float = P(unit="persons", desc="Residents the money frames (investment, operating cost, state grant) are for; a synthetic region scales them by its population / this", role="fixed", row="population_region_persons", gt=0)
    operating_start_year: int = P(unit="year", desc="First year of operating cost", role="fixed", ge=2000, le=2100)
    non_hospital_share: float = Prob(desc="Municipal part of the platform cost", role="uncertain", row="hp_non_hospital_share_of_cost_frame")
    discount_rate: float = P(unit="1/year", desc="Real discount rate", role="lever", ge=0, le=0.2, sweep=(0.02, 0.06))
    base_year: int = P(unit="year", desc="Year that NPVs discount to (money in 2023 NOK)", role="fixed", ge=2000, le=2100)
    nurse_hourly_cost_nok: float = P(unit="NOK/hour", desc="Nurse hourly cost incl. employer costs", role="uncertain", row="nurse_hourly_cost_nok", ge=0)
    physician_hourly_cost_nok: float = P(unit="NOK/hour", desc="Hospital physician hourly cost incl. employer costs", role="uncertain", row="physician_hourly_cost_nok", ge=0)
    adverse_event_extra_bed_days: float = P(unit="bed-days/event", desc="Extra hospital bed-days of one adverse event (its treatment cost)", role="uncertain", row="adverse_event_extra_bed_days", ge=0)
    hospital_cost_per_bed_day_nok: float = P(unit="NOK/bed-day", desc="Hospital cost of one bed-day (all inpatient costs)", role="uncertain", row="hospital_cost_per_bed_day_nok_2022", ge=0)
    daly_per_adverse_event: float = P(unit="DALY/event", desc="Health lost by the patient per adverse event", role="uncertain", ge=0, prior=(0.05, 0.54))
    value_nok_per_daly: float = P(unit="NOK/DALY", desc="Value of one disability-adjusted life year", role="uncertain", row="value_daly_nok_2021", ge=0)
    imaging_cost_nok_per_exam: float = P(unit="NOK/exam", desc="Cost of one imaging examination (mix of x-ray, ultrasound, CT, MR)", role="uncertain", ge=0, prior=(650, 3000))
    hospital_golive_harm_nok_per_resident_year: list[float] = Table(desc="Extra cost and lost revenue of a hospital trust after its go-live (NOK per resident of its catchment), one entry per year after go-live")
    unsent_letters_per_week_per_100k_residents: float = P(unit="letters/week/100k residents", desc="Hospital letters never sent (no error shown) per week after a hospital go-live, per 100,000 catchment residents", role="uncertain", ge=0, prior=(301, 362))
    unsent_letters_weeks: float = P(unit="weeks", desc="Weeks after a hospital go-live during which letters go unsent", role="uncertain", ge=0, prior=(8, 24))
    share_unsent_letters_gp_copy: float = Prob(desc="Share of unsent letters whose copy to the GP was lost (each a missing-information event at the GP)", role="fixed", row="hp_undelivered_letters_share_gp_copy_only")
    users_per_inhabitant_municipal: float = P(unit="users/inhabitant", desc="Municipal platform users (health and care employees trained) per inhabitant; spread by care recipients (per_user key, bill)", role="uncertain", ge=0, prior=(0.015, 0.047))
    investment_annualisation_years: float = P(unit="years", desc="Years over which the municipal part of the platform investment is charged to a joined municipality as an annuity at discount_rate (1: a one-off at go-live)", role="lever", gt=0, sweep=(1, 20))

    @field_validator("investment_profile")
    @classmethod
    def _profile(cls, v: dict[str, float]) -> dict[str, float]:
        return check_shares(v, "year", r"^[0-9]{4}$")


class BillSection(Section):
    """The municipality's own costs and savings around the platform fee (sim.economics.bill)."""

    hours_per_fte_year: float = P(unit="hours/FTE/year", desc="Productive hours of one full-time employee a year (turns FTE into hours at economics.nurse_hourly_cost_nok)", role="fixed", gt=0, le=2200)
    project_fte_base: float = P(unit="FTE", desc="Local project staff every joining municipality needs whatever its size (project lead, coordinator, IT)", role="uncertain", ge=0, prior=(1, 12),
                                range_note="fitted to Averøy's one-off (7.7); the prior reaches past it because the fit absorbs what the quote holds beyond the listed items")
    project_fte_per_1000_users: float = P(unit="FTE per 1000 users", desc="Local project staff per 1000 municipal platform users", role="uncertain", ge=0, prior=(1, 6))
    project_months: float = P(unit="months", desc="Months of local project work before go-live", role="uncertain", ge=0, prior=(12, 30))
    superuser_share: float = Prob(desc="Share of municipal users trained as super-users", role="uncertain", prior=(0.05, 0.15))
    superuser_hours: float = P(unit="hours/super-user", desc="Extra training and go-live support hours per super-user", role="uncertain", ge=0, prior=(20, 80))
    training_hours_per_user: float = P(unit="hours/user", desc="Training hours per municipal user, all backfilled at the hourly cost", role="uncertain", ge=0, prior=(8, 30))
    migration_nok_per_municipality: float = P(unit="NOK/municipality", desc="Data migration from the legacy record system, bought from Helseplattformen AS", role="uncertain", ge=0, prior=(300_000, 2_000_000))
    integrations_nok_per_municipality: float = P(unit="NOK/municipality", desc="Local integrations (other municipal systems), bought from Helseplattformen AS", role="uncertain", ge=0, prior=(300_000, 2_000_000))
    equipment_nok_per_user: float = P(unit="NOK/user", desc="Equipment per user (devices, scanners, printers, network)", role="uncertain", ge=0, prior=(1_000, 8_000))
    productivity_dip_share: float = Prob(desc="Share of municipal users' working time lost just after go-live", role="uncertain", prior=(0.05, 0.25))
    productivity_dip_months: float = P(unit="months", desc="Duration of the productivity dip after go-live", role="uncertain", ge=0, prior=(1, 6))
    local_running_fte_base: float = P(unit="FTE", desc="Local running staff every live municipality needs (system owner, super-user upkeep)", role="uncertain", ge=0, prior=(0.2, 1.5))
    local_running_fte_per_1000_users: float = P(unit="FTE per 1000 users", desc="Local running staff per 1000 municipal users (support, extra documentation time)", role="uncertain", ge=0, prior=(1, 10))
    legacy_nok_per_municipality_year: float = P(unit="NOK/municipality/year", desc="Fixed part of the legacy record-system contract a municipality ends when it goes live", role="uncertain", ge=0, prior=(50_000, 500_000))
    legacy_nok_per_user_year: float = P(unit="NOK/user/year", desc="Per-user part of the legacy record-system contract (licences, operation)", role="uncertain", ge=0, prior=(1_000, 5_000))
    legacy_overlap_months: float = P(unit="months", desc="Months the legacy contract runs on after go-live (paid in parallel)", role="uncertain", ge=0, prior=(0, 12))
    appraisal_years: float = P(unit="years", desc="Years over which a municipality annualises one-off costs (at economics.discount_rate) in its expected bill", role="uncertain", gt=0, prior=(5, 15))
    hospital_replaced_nok_per_inhabitant_year: float = P(unit="NOK/inhabitant/year", desc="Running cost of the hospital record systems the platform replaced, per resident of the trust's area (saved from the trust's go-live)", role="uncertain", ge=0, prior=(60, 150))


SERVICE_RECEIVERS: tuple[str, ...] = ("gp", "home_care", "nursing_home", "legevakt", "hospital", "specialist")
"""Provider kinds that receive hand-overs (and can use a national service)."""


class NationalService(Section):
    """One national service of the status quo (kjernejournal, document sharing, the shared medication list):
    where and from when it is in use, and how much of the information a message lacks it supplies."""

    information_share: float = Prob(desc="Share of the information a message hand-over lacks (against a shared record) that the service supplies where it is used", role="uncertain", prior=(0.2, 0.8))
    reach: float = Prob(desc="Share of hand-overs at which the service is used once fully rolled out", role="lever", sweep=(0.0, 1.0))
    in_use_from: dict[str, str] = Table(desc="Month (YYYY-MM) the service comes into use at each receiving provider kind (gp, home_care, nursing_home, legevakt, hospital, specialist); kinds not listed never use it", role="lever")
    ramp_months: float = P(unit="months", desc="Months from first use to full reach (0: a step)", role="lever", ge=0, le=240)
    senders: list[str] = Table(desc="Sending provider kinds whose information the service holds (empty: every kind)")

    @field_validator("in_use_from")
    @classmethod
    def _kinds_months(cls, v: dict[str, str]) -> dict[str, str]:
        for k, m in v.items():
            if k not in SERVICE_RECEIVERS:
                raise ValueError(f"unknown provider kind {k!r} (known: {', '.join(SERVICE_RECEIVERS)})")
            if not MONTH_RE.match(m):
                raise ValueError(f"{k}: month must be YYYY-MM, got {m!r}")
        return v

    @field_validator("senders")
    @classmethod
    def _senders(cls, v: list[str]) -> list[str]:
        bad = [k for k in v if k not in SERVICE_RECEIVERS]
        if bad:
            raise ValueError(f"unknown provider kind(s) {bad} (known: {', '.join(SERVICE_RECEIVERS)})")
        return v


class NationalServicesSection(Section):
    """The dated timeline of national services that raise what the status quo delivers (DESIGN.md, Second model version)."""

    kjernejournal: NationalService
    document_sharing: NationalService
    medication_list: NationalService


class NetworkSection(Section):
    gp_consultations_per_person_year: AgeRates = Table(desc="GP consultations per person per year (consultations/person/year) by age band", role="uncertain", row="gp_consultations_per_person_year_age_*")
    legevakt_contacts_per_person_year: AgeRates = Table(desc="Emergency primary care contacts per person per year by age band", role="uncertain", row="legevakt_contacts_per_person_year_age_*")
    inpatient_stays_per_person_year: AgeRates = Table(desc="Hospital inpatient stays per person per year by age band", role="uncertain", row="hospital_inpatient_stays_per_person_year_age_*")
    outpatient_consultations_per_person_year: AgeRates = Table(desc="Hospital outpatient consultations per person per year by age band", role="uncertain", row="hospital_outpatient_consultations_per_person_year_age_*")
    share_receiving_home_care: AgeRates = Table(desc="Share (fraction) of residents receiving home care by age band", role="uncertain", row="share_age_*_receiving_home_care")
    share_long_term_nursing_home: AgeRates = Table(desc="Share (fraction) of residents in long-term nursing home care by age band", role="uncertain", row="share_age_*_long_term_nursing_home")
    specialist_consultations_per_person_year: AgeRates = Table(desc="Contract-specialist consultations per person per year by age band", role="uncertain", row="contract_specialist_consultations_per_person_year_age_*")
    specialist_adoption_share: float = Prob(desc="Share of contract specialists on the platform", role="lever", sweep=(0, 0.5))
    message_channel_information_share: float = Prob(desc="Share of relevant information a message hand-over carries", role="uncertain", row="message_channel_information_share")
    message_channel_mean_delay_days: float = P(unit="days", desc="Mean delay of a message hand-over", role="uncertain", row="message_channel_mean_delay_days", ge=0)
    message_delay_information_loss_per_day: float = P(unit="fraction/day", desc="Information value lost per day of message delay", role="uncertain", ge=0, le=1, prior=(0, 0.1))
    message_channels: list[str] = Table(desc="Provider-kind pairs with a message channel, as 'a-b' (gp, home_care, nursing_home, legevakt, hospital, specialist)")
    same_record_pairs: list[str] = Table(desc="Provider-kind pairs already on one record system in the status quo, as 'a-b'")
    share_handovers_missing_information: float = Prob(desc="Share of hand-over visits missing important information in the observed status quo (messages)", role="uncertain", row="share_primary_care_visits_with_missing_information")
    search_minutes_per_missing_information_event: float = P(unit="minutes/event", desc="Search time per missing-information event", role="uncertain", row="search_minutes_per_missing_information_event", ge=0)
    share_hospital_stays_with_adverse_event: float = Prob(desc="Share of hospital stays with an adverse event", role="uncertain", row="share_hospital_stays_with_adverse_event")
    share_adverse_events_preventable: float = Prob(desc="Share of adverse events that are preventable", role="uncertain", row="share_adverse_events_preventable")
    share_preventable_adverse_events_from_communication: float = Prob(desc="Share of preventable adverse events at a stay that stem from information missing at its hand-overs (status quo)", role="uncertain", row="share_malpractice_claims_communication_failure")
    share_missing_information_outside_own_system: float = Prob(desc="Share of the status quo's missing information that sits outside the receiver's own system, which a shared record makes available", role="uncertain", row="share_missing_information_located_outside_own_system", prior=(0.4, 0.6), range_note="the row has no range; +-0.1 around Smith's 52.3% (assumption)")
    care_messages_per_resident_year: float = P(unit="messages/person/year", desc="Care (PLO) messages between GPs and municipal care per resident per year, both directions", role="uncertain", row="plo_messages_gp_municipality_per_resident_year", ge=0)
    hospital_patients_per_resident_year: float = P(unit="patients/person/year", desc="Residents treated at a somatic hospital per resident and year", role="uncertain", ge=0, le=1, prior=(0.35, 0.42))
    referrals_per_hospital_patient_year: float = P(unit="referrals/patient/year", desc="Referrals from the GP per hospital patient-year (inpatient or outpatient)", role="uncertain", ge=0, prior=(0.6, 1.2))
    referrals_per_specialist_patient_year: float = P(unit="referrals/patient/year", desc="Referrals from the GP per contract-specialist patient-year", role="uncertain", ge=0, prior=(0.6, 1.2))
    imaging_exams_per_person_year: float = P(unit="exams/person/year", desc="Imaging examinations per resident per year", role="uncertain", ge=0, prior=(0.77, 0.9))
    share_images_repeated: float = Prob(desc="Share of imaging examinations repeated within 90 days (status quo)", role="uncertain", row="share_images_repeated_within_90_days")
    repeat_imaging_reduction_shared_record: float = Prob(desc="Relative cut in repeat imaging with full access to the other providers' information", role="uncertain", row="hie_repeat_imaging_odds_reduction", prior=(0.0, 0.35), range_note="low end 0: no effect in the Medicare readmission study (hie_effect_repeat_imaging_readmissions_or)")
    national_services: NationalServicesSection

    @field_validator(*AGE_BAND_FIELDS)
    @classmethod
    def _bands(cls, v: AgeRates) -> AgeRates:
        return _check_bands(v)

    @field_validator("share_receiving_home_care", "share_long_term_nursing_home")
    @classmethod
    def _shares(cls, v: AgeRates) -> AgeRates:
        for k, p in v.items():
            if p > 1:
                raise ValueError(f"share for band {k} must be in [0, 1], got {p}")
        return v


POSTERIOR_WEIGHT = "weight"
"""The weight column of a posterior file (``calibration.posterior``); every other column is a dotted key."""


def _is_uncertain_dimension(key: str) -> bool:
    """An uncertain scalar input with a prior range, or one age band of an uncertain rate table."""
    fields = dict(iter_parameters())
    if key in fields:
        return prior_range(key) is not None
    table, _, band = key.rpartition(".")
    if table not in fields or (fields[table].json_schema_extra or {}).get("role") != "uncertain":
        return False
    try:
        parse_band(band)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=16)
def _read_posterior(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    """The checked particles of a posterior file (cached per file version; see :func:`load_posterior`)."""
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read it: {str(err).splitlines()[0]}") from None
    cols = list(df.columns)
    if POSTERIOR_WEIGHT not in cols:
        raise ValueError(f"no '{POSTERIOR_WEIGHT}' column (columns: weight and dotted uncertain keys)")
    keys = [c for c in cols if c != POSTERIOR_WEIGHT]
    if not keys:
        raise ValueError(f"no parameter column beside '{POSTERIOR_WEIGHT}'")
    for key in keys:
        if not _is_uncertain_dimension(key):
            raise ValueError(f"column {key!r} is not an uncertain input with a prior range"
                             f"{suggest(key.split('.')[-1], [k for k, _ in iter_parameters()])}")
    if len(df) == 0:
        raise ValueError("no particles (rows)")
    for col in cols:
        x = pd.to_numeric(df[col], errors="coerce")
        if x.isna().any() or not x.map(math.isfinite).all():
            raise ValueError(f"column {col!r}: every value must be a finite number")
        df[col] = x.astype(float)
    w = df[POSTERIOR_WEIGHT]
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be >= 0 with a positive sum")
    return df


def load_posterior(path: str | Path) -> pd.DataFrame:
    """The weighted particles of a posterior file: column ``weight`` (>= 0, finite, positive sum, not
    normalised) and one column per fitted dotted key (an uncertain input). ValueError on a bad file."""
    p = Path(path)
    if not p.is_file():
        raise ValueError("file not found")
    st = p.stat()
    return _read_posterior(str(p.resolve()), st.st_mtime_ns, st.st_size).copy()


class CalibrationSection(Section):
    """How this config's fitted values were obtained (``[calibration]``; absent in an uncalibrated config).

    ``posterior`` names the weighted particles (a CSV beside the config that declares it, resolved
    relative to that file as ``extends`` is; stored resolved); parameter draws (:mod:`sim.draws`)
    resample its fitted keys jointly and draw every other uncertain input from its prior range.
    """

    date: str = Field(..., description="Date of the calibration (ISO, YYYY-MM-DD)")
    data_end: str = Field(..., description="Last month of the data fitted (YYYY-MM; at most the history's end)",
                          pattern=MONTH_RE.pattern)
    method: str = Field(..., description="Method of the fit, e.g. 'importance sampling (Sobol prior design)'")
    posterior: str = Field(..., description="Posterior file: weighted particles, columns weight + fitted dotted keys")

    @field_validator("date")
    @classmethod
    def _iso_date(cls, v: str) -> str:
        try:
            date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"must be an ISO date YYYY-MM-DD, got {v!r}") from None
        return v

    @field_validator("posterior")
    @classmethod
    def _posterior_file(cls, v: str) -> str:
        p = Path(v).resolve()
        load_posterior(p)  # ValueError names the problem
        return str(p)


@dataclass(frozen=True)
class RegionNames:
    """Names a config may refer to: those of the region it builds (``trusts``, ``kommunenummer``,
    ``municipalities``) and the ``known_*`` ones, which add the real region's (a synthetic scenario may
    extend the real baseline: its real names are ignored there, its typos are not)."""

    trusts: tuple[str, ...]
    kommunenummer: frozenset[str]
    municipalities: frozenset[str]
    known_trusts: frozenset[str]
    known_kommunenummer: frozenset[str]
    known_municipalities: frozenset[str]


def synthetic_names(n: int, per_trust: int) -> tuple[list[str], list[str], list[str]]:
    """The synthetic region's naming rule, one place for the region and the validation: municipality k
    (0-based) is kommunenummer ``f"{k + 1:04d}"``, named ``"Synthetic {k + 1}"``, in trust ``"Trust {k // per_trust + 1}"``.

    Returns (kommunenummer, municipality names, trust of each municipality), one entry per municipality.
    """
    return ([f"{k + 1:04d}" for k in range(n)], [f"Synthetic {k + 1}" for k in range(n)],
            [f"Trust {k // per_trust + 1}" for k in range(n)])


@lru_cache(maxsize=None)
def _names_of(kind: str, n: int, per_trust: int) -> RegionNames:
    if kind == "real":
        with open(data_path("midt_norge_municipalities.csv"), encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        trusts = tuple(sorted({r["hospital_trust"] for r in rows}))
        knr, munis = frozenset(r["kommunenummer"] for r in rows), frozenset(r["name"] for r in rows)
        return RegionNames(trusts, knr, munis, frozenset(trusts), knr, munis)
    real = _names_of("real", 0, 0)
    knr_list, muni_list, trust_list = synthetic_names(n, per_trust)
    trusts = tuple(dict.fromkeys(trust_list))
    knr, munis = frozenset(knr_list), frozenset(muni_list)
    return RegionNames(trusts, knr, munis, real.known_trusts | set(trusts), real.known_kommunenummer | knr,
                       real.known_municipalities | munis)


def region_names(cfg: RegionSection) -> RegionNames:
    """The trust names, kommunenummer and municipality names of the region ``cfg`` builds (no build:
    read from the data file, or the synthetic region's naming rule)."""
    if cfg.kind == "real":
        return _names_of("real", 0, 0)
    return _names_of("synthetic", cfg.synthetic_municipalities, cfg.synthetic_municipalities_per_trust)


class Config(Section):
    """A whole scenario. ``scenario`` names it; sections hold the parameters."""

    scenario: str = Field(..., description="Scenario name, used in result paths (a plain name)", pattern=NAME_PATTERN,
                          json_schema_extra={"role": "fixed"})
    description: str = Table(desc="One line on what the scenario changes")
    run: RunSection
    region: RegionSection
    hospitals: HospitalsSection
    functionality: FunctionalitySection
    municipality: MunicipalitySection
    rollout: RolloutSection
    gp: GPSection
    gp_price: GPPriceSection
    agreement: AgreementSection
    financing: FinancingSection
    economics: EconomicsSection
    bill: BillSection
    network: NetworkSection
    calibration: CalibrationSection | None = Field(
        None, description="How the fitted values were obtained: date, data end, method, posterior file (absent: uncalibrated)",
        json_schema_extra={"role": "fixed"})

    _overrides: dict[str, Any] = PrivateAttr(default_factory=dict)
    _held: frozenset[str] = PrivateAttr(default_factory=frozenset)

    @property
    def overrides(self) -> dict[str, Any]:
        """Dotted keys set on top of the scenario file (``--set``, the API), in order: named in the run id."""
        return dict(self._overrides)

    @property
    def held(self) -> frozenset[str]:
        """Dotted keys this scenario sets itself: those of the files that extend its base (the last file of the
        ``extends`` chain with a ``[calibration]``, or the chain's root) and of ``--set``. Parameter draws keep
        them at this config's values (:func:`sim.draws.draw_table`): a scenario's lever is not redrawn."""
        return self._held

    def with_held(self, keys: Iterable[str]) -> "Config":
        """This config, holding ``keys`` as well as those it holds."""
        self._held = self._held | frozenset(keys)
        return self

    def with_override_record(self, overrides: dict[str, Any]) -> "Config":
        """This config, recording ``overrides`` (already applied) after those it records."""
        self._overrides = {**self._overrides, **overrides}
        return self

    @model_validator(mode="after")
    def _names(self) -> "Config":
        """Trust names and kommunenummer must exist in the region (:func:`region_names`)."""
        names = region_names(self.region)
        for key in ("golive_month", "delay_probability"):
            table = getattr(self.hospitals, key)
            uncovered = [t for t in names.trusts if t not in table]
            if uncovered and "default" not in table:
                raise ValueError(f"hospitals.{key}: no entry for trust {uncovered[0]!r} and no 'default' entry")
            for trust in table:
                if trust != "default" and trust not in names.known_trusts:
                    raise ValueError(f"hospitals.{key}: unknown hospital trust {trust!r}"
                                     f"{suggest(trust, sorted(names.trusts))}")
        for k in self.municipality.pre_committed:
            if k not in names.known_kommunenummer:
                raise ValueError(f"municipality.pre_committed: kommunenummer {k!r} is not a municipality of the region")
        return self

    # ---- derived time axis
    @property
    def n_months(self) -> int:
        """Number of simulated months, start and end inclusive."""
        return month_index(self.run.end_month, self.run.start_month) + 1

    def t_of(self, month: str) -> int:
        """Month index of ``YYYY-MM`` relative to the run's start."""
        return month_index(month, self.run.start_month)


# --------------------------------------------------------------------------- loading


def _deep_merge(base: dict, over: dict) -> dict:
    """Merge ``over`` into a copy of ``base``; sub-tables merge, everything else replaces."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and not _is_value_table(k):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


# Tables whose keys are data (trust names, age bands, years): replaced whole by an override.
_VALUE_TABLES = {"golive_month", "delay_probability", "investment_profile", "in_use_from", *AGE_BAND_FIELDS}


def _is_value_table(key: str) -> bool:
    return key in _VALUE_TABLES


def _parse_toml(path: Path) -> dict:
    """The table of one TOML file; malformed TOML or text that is not UTF-8 is a one-line ConfigError naming the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: malformed TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text: {err}") from None


def _read_chain(path: Path, chain: tuple[Path, ...] = ()) -> list[dict]:
    """The tables of ``path`` and of the files it ``extends`` (relative to the file that says it), root first,
    each with ``extends`` removed and its posterior resolved beside it."""
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ConfigError(f"{chain[0]}: extends: cycle: {cycle}")
    if not path.exists():
        where = f"{chain[-1]}: extends" if chain else f"{path}"
        raise ConfigError(f"{where}: file not found: {path}")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a TOML file")
    data = _parse_toml(path)
    cal = data.get("calibration")
    if isinstance(cal, dict) and isinstance(cal.get("posterior"), str):  # like extends: relative to this file
        data["calibration"] = {**cal, "posterior": str((path.parent / cal["posterior"]).resolve())}
    parent = data.pop("extends", None)
    if parent is None:
        return [data]
    if not isinstance(parent, str):
        raise ConfigError(f"{path}: extends: must be a file name string, got {parent!r}")
    return [*_read_chain((path.parent / parent).resolve(), (*chain, path)), data]


def _dotted_leaves(data: dict, prefix: str = "") -> set[str]:
    """Every leaf of nested tables as a dotted key (``functionality.golive_shock``, an age band of a rate table)."""
    out: set[str] = set()
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        out |= _dotted_leaves(value, f"{dotted}.") if isinstance(value, dict) else {dotted}
    return out


def scenario_keys(files: list[dict]) -> set[str]:
    """The dotted keys a scenario sets on top of its base (:attr:`Config.held`), from its ``extends`` chain
    (root first, :func:`_read_chain`): the keys of the files after the last one that declares ``[calibration]``
    (or after the chain's root)."""
    base = max([0] + [i for i, d in enumerate(files) if "calibration" in d])
    return set().union(*(_dotted_leaves(d) for d in files[base + 1:])) - {"scenario", "description"}


def parse_override(item: str) -> tuple[list[str], Any]:
    """Parse ``section.key=value``; the value is a TOML literal, a bare word is a string.

    Never evaluated as code: ``tomllib`` parses ``x = <value>``; if that fails the raw
    text is taken as a string.
    """
    if "=" not in item:
        raise ConfigError(f"--set {item}: expected section.key=value")
    key, raw = item.split("=", 1)
    key, raw = key.strip(), raw.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {item}: expected section.key=value")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.split("."), value


def _section_type(ann: Any) -> Any:
    """``X`` of an optional section ``X | None`` (``calibration``); any other annotation unchanged."""
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if typing.get_origin(ann) in (typing.Union, types.UnionType) and len(args) == 1 and isinstance(args[0], type) \
            and issubclass(args[0], BaseModel):
        return args[0]
    return ann


def _known_keys(model: type[BaseModel], path: list[str]) -> list[str] | None:
    """Field names at ``path`` in the schema (None where the path leaves the schema)."""
    cls: Any = model
    for part in path:
        if str(part).isdigit() and getattr(cls, "__origin__", None) is list:  # an item of a list of tables
            cls = cls.__args__[0]
            continue
        fields = getattr(cls, "model_fields", None)
        if fields is None or part not in fields:
            return None
        cls = _section_type(fields[part].annotation)
    fields = getattr(cls, "model_fields", None)
    return list(fields) if fields is not None else None


def suggest(word: str, options: list[str]) -> str:
    """" (did you mean 'x'?)": a unique option that starts with ``word``, else the closest by difflib."""
    starts = [o for o in options if o.startswith(word)]
    close = starts if len(starts) == 1 else difflib.get_close_matches(word, options, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(options))})"


def override_pairs(overrides: list[str] | dict[str, Any] | None) -> dict[str, Any]:
    """``--set`` strings (``["a.b=1"]``) or a dict of dotted keys as ``{"a.b": 1}``."""
    if isinstance(overrides, dict):
        return dict(overrides)
    return {".".join(k): v for k, v in (parse_override(o) for o in overrides or [])}


def apply_overrides(data: dict, overrides: list[str] | dict[str, Any], source: str = "--set") -> dict:
    """Apply ``--set`` overrides (``["a.b=1"]`` or ``{"a.b": 1}``); unknown keys are errors."""
    out = dict(data)
    for dotted, value in override_pairs(overrides).items():
        parts = dotted.split(".")
        for depth in range(len(parts)):
            known = _known_keys(Config, parts[:depth])
            if known is None or parts[depth] not in known:
                raise ConfigError(f"{source} {dotted}: unknown key{suggest(parts[depth], known or [])}")
        node = out
        for p in parts[:-1]:
            node[p] = dict(node.get(p, {}))
            node = node[p]
        node[parts[-1]] = value
    return out


def _num(v: Any) -> Any:
    """0.0 -> 0 for messages; other values unchanged."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


_MESSAGES = {
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be a table",
    "literal_error": "must be {expected}",
    "string_pattern_mismatch": "must match {pattern}",
}


def format_validation_error(path: str, err: ValidationError, model: type[BaseModel] = Config,
                            missing_hint: str = " (add it, or extends = \"baseline.toml\")") -> str:
    """The first pydantic error as one line ``<file>: <key.path>: <problem>``; unknown keys get "did you mean"."""
    e = err.errors()[0]
    loc = [str(x) for x in e["loc"]]
    if not loc:  # a whole-model check: its message names the key
        return f"{path}: {e['msg'].removeprefix('Value error, ')}"
    if e["type"] == "extra_forbidden":
        known = _known_keys(model, loc[:-1]) or []
        return f"{path}: {'.'.join(loc)}: unknown key{suggest(loc[-1], known)}"
    if e["type"] == "missing":
        return f"{path}: {'.'.join(loc)}: missing{missing_hint}"
    if e["type"] == "string_pattern_mismatch" and e.get("ctx", {}).get("pattern") == NAME_PATTERN:
        return f"{path}: {'.'.join(loc)}: must be a plain name (letters, digits, '_', '.', '-'; not starting with '.' or '-'), got {e.get('input')!r}"
    msg = _MESSAGES.get(e["type"], "{msg}").format(msg=e["msg"].removeprefix("Value error, "), **{k: _num(v) for k, v in e.get("ctx", {}).items()})
    got = e.get("input")
    if isinstance(got, dict) or ", got " in msg:
        return f"{path}: {'.'.join(loc)}: {msg}"
    return f"{path}: {'.'.join(loc)}: {msg}, got {got!r}"


FILE_KINDS = {
    "scenario": ("a scenario file", "configs/baseline.toml"),
    "experiment": ("a sweep experiment file", "experiments/smoke.toml"),
    "paper": ("a position-paper experiment file", "experiments/position_paper.toml"),
}
"""The TOML files the commands read: kind -> (what it is called, an example)."""


def file_kind(data: dict) -> str | None:
    """Which kind of file (:data:`FILE_KINDS`) a TOML table looks like, from its top-level keys."""
    if "adoption_scenarios" in data or "heatmap" in data:
        return "paper"
    if "design" in data or "parameters" in data:
        return "experiment"
    if "run" in data or "extends" in data or "scenario" in data and "gp" in data:
        return "scenario"
    return None


def check_kind(path: Path, data: dict, wants: str) -> None:
    """A one-line ConfigError when ``data`` is plainly another kind of file than the ``wants`` kind."""
    kind = file_kind(data)
    if kind is not None and kind != wants:
        name, example = FILE_KINDS[wants]
        raise ConfigError(f"{path}: is {FILE_KINDS[kind][0]}; this command wants {name} (e.g. {example})")


def load_toml_as(path: str | Path, model: type[BaseModel], kind: str | None = None) -> Any:
    """Read a TOML file (no ``extends``) into ``model``, with ``source`` set to its resolved path.

    For experiment-like files (sweeps, position papers) whose schema has a ``source`` field; a file
    of another ``kind`` (:data:`FILE_KINDS`) is named as such. Errors are one-line
    :class:`ConfigError` naming the file and key.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: file not found")
    data = _parse_toml(p)
    if kind is not None:
        check_kind(p, data, kind)
    if "source" in data:
        raise ConfigError(f"{p}: source: unknown key (set by the loader)")
    try:
        return model.model_validate({**data, "source": str(p.resolve())})
    except ValidationError as err:
        raise ConfigError(format_validation_error(str(p), err, model, missing_hint="")) from None


def validate(data: dict, source: str) -> Config:
    """Validate a merged dict into a :class:`Config`; errors become one-line :class:`ConfigError`."""
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(source, err)) from None


def load_config(path: str | Path, overrides: list[str] | dict[str, Any] | None = None) -> Config:
    """Load a scenario TOML, resolve ``extends``, apply ``--set`` overrides and validate.

    Raises :class:`ConfigError` with one line ``<file>: <key.path>: <problem>``.
    """
    p = Path(path)
    files = _read_chain(p.resolve())
    data = reduce(_deep_merge, files)
    check_kind(p, data, "scenario")
    if overrides:
        data = apply_overrides(data, overrides, source=f"{p}: --set")
    pairs = override_pairs(overrides)
    return validate(data, str(p)).with_override_record(pairs).with_held(scenario_keys(files) | set(pairs))


def config_to_dict(cfg: Config) -> dict:
    """The resolved config as plain data (JSON/TOML-able)."""
    return cfg.model_dump(mode="json")


@lru_cache(maxsize=16)
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def file_sha256(path: str | Path) -> str:
    """sha256 (hex) of a file's bytes, cached per file version (path, mtime, size)."""
    st = Path(path).stat()
    return _file_sha256(str(Path(path).resolve()), st.st_mtime_ns, st.st_size)


def config_identity(cfg: Config) -> dict:
    """The resolved config as it identifies a result (run ids, sweep design hashes): :func:`config_to_dict`
    with the posterior file named by its content, ``"sha256:<hex of its bytes>"``, not by the absolute path
    it was resolved to, so the same configs give the same ids wherever the repository is checked out (and
    an edited posterior never reuses an old id)."""
    data = config_to_dict(cfg)
    cal = data.get("calibration")
    if isinstance(cal, dict) and cal.get("posterior"):
        data["calibration"] = {**cal, "posterior": f"sha256:{file_sha256(cal['posterior'])}"}
    unc = set(uncertain_keys()) if cfg.held else set()
    held = sorted(k for k in cfg.held if k in unc or k.rpartition(".")[0] in unc)  # an input, or a band of a table
    if held:  # the draws keep them: another result than the same values drawn (sim.draws)
        data["held_in_draws"] = held
    return data


def with_overrides(cfg: Config, overrides: dict[str, Any]) -> Config:
    """A copy of ``cfg`` with dotted-key overrides applied and re-validated."""
    data = apply_overrides(config_to_dict(cfg), overrides, source=f"{cfg.scenario}: override")
    return validate(data, cfg.scenario).with_override_record({**cfg.overrides, **overrides}).with_held(cfg.held)


def with_horizon(cfg: Config, end_month: str) -> Config:
    """``cfg`` ending at ``end_month``; a report year after the new horizon moves to its last whole year
    (a fit to the history runs to 2023-12 and reads monthly series, not the report year)."""
    y, m = (int(x) for x in end_month.split("-"))
    last_whole = y if m == 12 else y - 1
    return with_overrides(cfg, {"run.end_month": end_month, "run.report_year": min(cfg.run.report_year, last_whole)})


def iter_parameters(model: type[BaseModel] = Config, prefix: str = ""):
    """Yield ``(dotted_key, field_info)`` for every leaf parameter of the schema."""
    for name, f in model.model_fields.items():
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from iter_parameters(ann, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", f


@lru_cache(maxsize=1)
def schema_fields() -> dict[str, Any]:
    """Dotted key -> schema field (:func:`iter_parameters`), built once: the schema is fixed at import."""
    return dict(iter_parameters())


def _field(key: str):
    """The schema field of a dotted key; ConfigError (with a suggestion) for an unknown key."""
    fields = schema_fields()
    if key not in fields:
        raise ConfigError(f"{key}: unknown key{suggest(key.split('.')[-1], list(fields))}")
    return fields[key]


def _extra(key: str) -> dict[str, Any]:
    return dict(_field(key).json_schema_extra or {})


@lru_cache(maxsize=1)
def source_rows() -> pd.DataFrame:
    """``sim/data/parameters_sources.csv`` indexed by key (value, unit, low, high, year, source, note)."""
    return pd.read_csv(data_path("parameters_sources.csv")).set_index("key")


def band_row(row: str, band: str) -> str:
    """The row key of one age band of a table row: ``"x_age_*"`` and ``"90+"`` -> ``"x_age_90plus"``."""
    return row.replace("*", band.replace("-", "_").replace("+", "plus"))


def row_range(row: str) -> tuple[float, float] | None:
    """The (low, high) of a parameters_sources.csv row, None when the row gives no range."""
    rows = source_rows()
    if row not in rows.index:
        raise ConfigError(f"sim/data/parameters_sources.csv: no row {row!r}")
    lo, hi = rows.at[row, "low"], rows.at[row, "high"]
    return None if pd.isna(lo) or pd.isna(hi) else (float(lo), float(hi))


def parameter_role(key: str) -> str:
    """``uncertain``, ``lever`` or ``fixed`` (see :data:`Role`)."""
    return _extra(key).get("role", "fixed")


def prior_range(key: str) -> tuple[float, float] | None:
    """The uniform prior range of an uncertain scalar input: its declared ``prior``, else its
    data row's low/high; None for levers, fixed keys and tables (see :func:`prior_ranges`)."""
    extra = _extra(key)
    if extra.get("role") != "uncertain" or "*" in extra.get("row", ""):
        return None
    if "prior" in extra:
        return tuple(extra["prior"])  # type: ignore[return-value]
    return row_range(extra["row"]) if "row" in extra else None


def sweep_range(key: str) -> tuple[float, float] | None:
    """The default design range of a dotted numeric key: its declared ``sweep``, else its prior,
    else its data row's low/high (None if it has none)."""
    extra = _extra(key)
    if "sweep" in extra:
        return tuple(extra["sweep"])  # type: ignore[return-value]
    if (prior := prior_range(key)) is not None:
        return prior
    return row_range(extra["row"]) if "row" in extra and "*" not in extra["row"] else None


def uncertain_keys() -> list[str]:
    """Every uncertain input (scalar or age-band table), in schema order."""
    return [k for k, f in iter_parameters() if (f.json_schema_extra or {}).get("role") == "uncertain"]


def prior_ranges(cfg: "Config") -> dict[str, tuple[float, float]]:
    """The prior range of every uncertain input of ``cfg``, one dotted key per dimension.

    A scalar input is its key; an age-band table has one key per band of the scenario's table
    (``network.gp_consultations_per_person_year.80-89``) with the range of that band's data row.
    """
    data = config_to_dict(cfg)
    out: dict[str, tuple[float, float]] = {}
    for key in uncertain_keys():
        row = _extra(key).get("row", "")
        if "*" not in row:
            rng = prior_range(key)
            if rng is None:
                raise ConfigError(f"{key}: an uncertain input without a prior range (give prior= or a data row with low/high)")
            out[key] = rng
            continue
        node = get_dotted(data, key)
        for band in node:
            rng = row_range(band_row(row, band))
            if rng is None:
                raise ConfigError(f"{key}.{band}: data row {band_row(row, band)} gives no low/high")
            out[f"{key}.{band}"] = rng
    return out


def get_dotted(data: Any, key: str) -> Any:
    """The value at the dotted key ``"a.b"``: ``data["a"]["b"]`` in plain dicts (a manifest's config),
    ``data.a.b`` in a :class:`Config`; the one dotted-key getter of the package."""
    node: Any = data
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node
