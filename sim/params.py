"""The parameter reference: every scenario key with type, unit, value, range, description and source.

Types, units, bounds and descriptions come from the pydantic schema (:mod:`sim.config`);
values from the resolved scenario; sources from the comment beside each key in
``configs/baseline.toml`` (or the scenario file that sets it). Generated, never retyped,
so it cannot drift from the code (``onerecord params --format md`` feeds docs/model.md).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pandas as pd

from sim.config import Config, get_dotted, iter_parameters, load_config, prior_range, sweep_range

KEY_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=.*?#\s*(.+?)\s*$")
SECTION_LINE = re.compile(r"^\s*\[([A-Za-z_.]+)\]\s*$")
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "baseline.toml"


def source_comments(path: str | Path) -> dict[str, str]:
    """``section.key`` -> the comment on its line (or the comment lines just above it) in a TOML file."""
    out: dict[str, str] = {}
    section, pending = "", []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if m := SECTION_LINE.match(line):
            section, pending = m.group(1) + ".", []
            continue
        if line.strip().startswith("#"):
            pending.append(line.strip().lstrip("#").strip())
            continue
        key = line.split("=", 1)[0].strip() if "=" in line else None
        if key and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            m = KEY_LINE.match(line)
            comment = m.group(2) if m else " ".join(pending)
            out[f"{section}{key}"] = comment
        pending = [] if line.strip() else pending
    return out


def _type_name(ann) -> str:
    s = getattr(ann, "__name__", None) or str(ann)
    return str(ann).replace("typing.", "") if s.startswith("Literal") or "[" in str(ann) else s


def _bounds(f) -> str:
    """Validity bounds as an interval: ``[0, 1]``, ``(0, ]`` (strictly above 0), ``[0, ]``."""
    lo = hi = None
    lo_open = hi_open = False
    for m in f.metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, lo_open = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
        if getattr(m, "lt", None) is not None:
            hi, hi_open = m.lt, True
    if lo is None and hi is None:
        return ""
    return f"{'(' if lo_open else '['}{'' if lo is None else lo}, {'' if hi is None else hi}{')' if hi_open else ']'}"


def _range(r: tuple[float, float]) -> str:
    return f"{_num(r[0])} to {_num(r[1])}"


def _num(x: float):
    return int(x) if float(x).is_integer() else x


def parameter_table(config: str | Path | None = None) -> pd.DataFrame:
    """One row per scenario key: key, type, unit, value, role, allowed, prior_range, sweep_range,
    description, source (prior and sweep as declared or from the key's data row)."""
    path = Path(config) if config is not None else DEFAULT_CONFIG
    cfg: Config = load_config(path)
    sources = source_comments(DEFAULT_CONFIG) | (source_comments(path) if path.resolve() != DEFAULT_CONFIG else {})
    rows = []
    data = cfg.model_dump(mode="json")
    for key, f in iter_parameters():
        node = get_dotted(data, key)
        if key == "calibration" and node:  # the posterior as the config names it, not where this checkout is
            node = {**node, "posterior": Path(os.path.relpath(node["posterior"], path.resolve().parent)).as_posix()}
        extra = f.json_schema_extra or {}
        numeric = f.annotation in (int, float)
        prior = prior_range(key) if numeric else None
        sweep = sweep_range(key) if numeric else None
        rows.append({
            "key": key,
            "type": _type_name(f.annotation),
            "unit": extra.get("unit", ""),
            "value": node,
            "role": extra.get("role", "fixed"),
            "allowed": _bounds(f),
            "prior_range": _range(prior) if prior else ("per band: data rows " + extra["row"] if "*" in extra.get("row", "") else ""),
            "sweep_range": _range(sweep) if sweep else "",
            "description": f.description or "",
            "source": sources.get(key, "") or ("not set: an uncalibrated config" if node is None
                                                else "written by onerecord calibrate --apply (docs/calibration.md)" if key == "calibration" else ""),
        })
    return pd.DataFrame(rows)


def render(table: pd.DataFrame, fmt: str = "md") -> str:
    """The table as Markdown (pipes escaped) or CSV."""
    if fmt == "csv":
        buf = io.StringIO()
        table.to_csv(buf, index=False)
        return buf.getvalue()
    cols = list(table.columns)
    esc = lambda v: str(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(esc(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines) + "\n"
