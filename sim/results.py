"""Result files: the run directory layout, atomic writes, the manifest, reading back.

A run directory ``<out>/<scenario>/<run id>/`` holds

* ``timeseries.parquet``: one row per (scenario, seed, month, level, key);
* ``summary.csv``: one row per (scenario, seed);
* ``costs_municipality.csv``, ``costs_gp.csv``, ``who_pays_who_gains.csv``;
* ``draws.csv``: one row per parameter draw (``draw`` 0 = the config as given) with the value
  of every drawn uncertain input (:mod:`sim.draws`); every other table has a ``draw`` column;
* ``manifest.json``: resolved config, seeds, package version, git commit, times, host;
* ``figures/``: written by :mod:`sim.plots` from the files above.

The directory is written under a temporary name beside its target and renamed whole,
so an interrupted run leaves either a complete directory or none.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__, interrupt
from sim.config import Config, ConfigError, config_identity, config_to_dict

TABLE_FILES: dict[str, str] = {
    "timeseries": "timeseries.parquet",
    "summary": "summary.csv",
    "costs_municipality": "costs_municipality.csv",
    "costs_gp": "costs_gp.csv",
    "who_pays_who_gains": "who_pays_who_gains.csv",
    "draws": "draws.csv",
}
"""Table name -> file name in a run directory; the names are the interface."""

CSV_DTYPES = {"kommunenummer": str, "key": str}


@dataclass
class RunTables:
    """The tidy tables of one or more replicate runs (columns documented in the README).

    ``draws`` is the run's draws table (:func:`sim.draws.draw_table`); the per-run tables have a
    ``draw`` column that keys into it.
    """

    timeseries: pd.DataFrame
    summary: pd.DataFrame
    costs_municipality: pd.DataFrame
    costs_gp: pd.DataFrame
    who_pays_who_gains: pd.DataFrame
    draws: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"draw": [0]}))

    @classmethod
    def concat(cls, parts: list["RunTables"], draws: pd.DataFrame | None = None) -> "RunTables":
        """Stack the tables of several runs (row order: as given) under one draws table."""
        stacked = {f.name: pd.concat([getattr(p, f.name) for p in parts], ignore_index=True)
                   for f in fields(cls) if f.name != "draws"}
        return cls(**stacked, **({"draws": draws} if draws is not None else {}))

    def items(self):
        """(name, DataFrame) pairs in file order."""
        return [(name, getattr(self, name)) for name in TABLE_FILES]


# --------------------------------------------------------------------------- identity


READABLE_MAX_CHARS = 120
"""Longest readable part of a run id (the hash keeps longer ones apart)."""


def _slug(text: str) -> str:
    """``text`` with every character outside ``[A-Za-z0-9_.,=+-]`` replaced by ``_`` (a safe folder name)."""
    return re.sub(r"[^A-Za-z0-9_.,=+-]", "_", text)


def readable_id(cfg: Config) -> str:
    """What a run holds, readably: scenario, ``synthetic`` for a synthetic region, then each override.

    ``baseline-synthetic-bass_q_per_year=0.5`` (each override by its last key part, as ``--set`` or the API
    gave it, :attr:`sim.config.Config.overrides`; the manifest names them in full), cut to
    :data:`READABLE_MAX_CHARS` characters.
    """
    parts = [cfg.scenario] + (["synthetic"] if cfg.region.kind == "synthetic" else [])
    for key, value in cfg.overrides.items():
        if key == "region.kind":
            continue
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
        parts.append(_slug(f"{key.rsplit('.', 1)[-1]}={text}"))
    return "-".join(parts)[:READABLE_MAX_CHARS].rstrip("-.")


def hashed_id(readable: str, what: Any) -> str:
    """A result folder's name: ``<readable>-<first 8 hex of sha256(json(what))>``; ``what`` is everything the
    folder's content depends on, so equal inputs give the same name and different ones never do."""
    blob = json.dumps(what, sort_keys=True, default=float)
    return f"{readable}-{hashlib.sha256(blob.encode()).hexdigest()[:8]}"


def run_id(cfg: Config, replicates: list[int], draws: pd.DataFrame | None = None, command: str | None = None,
           **params: Any) -> str:
    """The readable part (:func:`readable_id`), the command when not ``run``, and an 8-hex hash of the
    resolved config, the replicate list, any drawn values and the command's own parameters.

    The same config and seeds land in the same place, a different one never does:
    id = f"{readable}[-{command}]-{sha256(config, seeds, draws, params)[:8]}" (the config as
    :func:`sim.config.config_identity` gives it: a posterior file by its content, not its path); a run with parameter
    draws (``draws`` has rows beyond draw 0) hashes the drawn values too, so a run over posterior
    draws never lands where a run over prior draws did. ``command`` may carry a readable label of its
    own parameters (``bill-5037_Levanger``).
    """
    what: dict[str, Any] = {"config": config_identity(cfg), "replicates": list(replicates)}
    if draws is not None and len(draws) > 1:
        what["draws"] = draws.to_dict("records")
    if command is not None:
        what |= {"command": command, "params": params}
    return hashed_id("-".join([readable_id(cfg), *([_slug(command)] if command else [])]), what)


def compare_id(manifests: list[dict]) -> str:
    """The folder of a comparison of saved runs: the runs' readable parts joined by ``-vs-`` (cut to
    :data:`READABLE_MAX_CHARS`) and a hash of their run ids in the order given (the figures' order)."""
    ids = [m["run_id"] for m in manifests]
    readable = "-vs-".join(i.rsplit("-", 1)[0] for i in ids)[:READABLE_MAX_CHARS].rstrip("-.")
    return hashed_id(readable, {"compare": ids})


def git_commit() -> str | None:
    """The commit of the source tree the package runs from, if it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def manifest(cfg: Config, replicates: list[int], started: datetime, ended: datetime,
             draws: pd.DataFrame | None = None, draw_spec: str = "prior", **extra: Any) -> dict:
    """The run's manifest: enough to reproduce it (resolved config, seeds, drawn values) and to know
    where it came from. ``draws``: the draws table (values of every drawn key per draw)."""
    drawn = draws if draws is not None else pd.DataFrame({"draw": [0]})
    return {
        "run_id": run_id(cfg, replicates, drawn),
        "scenario": cfg.scenario,
        "config": config_to_dict(cfg),
        "overrides": cfg.overrides,
        "held": sorted(cfg.held),
        "root_seed": cfg.run.seed,
        "replicates": list(replicates),
        "seed_rule": "numpy.random.SeedSequence(root_seed, spawn_key=(replicate,))",
        "draws": {"count": len(drawn) - 1, "spec": draw_spec if len(drawn) > 1 else None,
                  "design": "scrambled Sobol, SeedSequence([root_seed, sim.draws.DRAW_STREAM]); draw 0 = the config",
                  "values": drawn.to_dict("records")},
        "package_version": __version__,
        "git_commit": git_commit(),
        "started": started.isoformat(),
        "ended": ended.isoformat(),
        "host": platform.node(),
        "python": sys.version.split()[0],
        **extra,
    }


def now() -> datetime:
    """The current UTC time (manifest timestamps)."""
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- writing


def check_out_dir(out: str | Path) -> Path:
    """Fail early (ConfigError) when the output root exists and is not a directory."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise ConfigError(f"--out {p}: exists and is a file, not a directory")
    for parent in p.parents:
        if parent.exists() and not parent.is_dir():
            raise ConfigError(f"--out {p}: {parent} is a file, not a directory")
    return p


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write one table by its file ending (Parquet or CSV, UTF-8, no index)."""
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)


STALE_UNOWNED_S = 3600.0
"""A temporary folder whose owner is unknown (another host, or killed before naming itself) is stale after this."""

OWNER_FILE = ".owner"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(tmp: Path) -> bool:
    """A ``.tmp-*`` folder left by a killed writer: its owner (``.owner``: host and pid) is gone from
    this host, or it names no owner on this host and is older than :data:`STALE_UNOWNED_S`."""
    try:
        host, pid = (tmp / OWNER_FILE).read_text(encoding="utf-8").split()
        if host == platform.node():
            return not _alive(int(pid))
    except (OSError, ValueError):
        pass
    try:
        return tmp.stat().st_mtime < datetime.now().timestamp() - STALE_UNOWNED_S
    except OSError:
        return False


def remove_stale(folder: Path) -> list[Path]:
    """Remove what killed writers left in ``folder``: ``.tmp-*`` folders whose owner is gone
    (:func:`_stale`) and ``.old-*`` folders (a replaced run) whose successor is in place; returns them.
    (Killed between its two renames, a writer leaves the only copy in ``.old-*``: it is kept.)"""
    gone = []
    for tmp in sorted(folder.glob(".tmp-*")) + sorted(folder.glob(".old-*")) if folder.is_dir() else []:
        if tmp.name.startswith(".old-"):  # a replaced run: garbage once its successor is in place
            stale = (folder / tmp.name[5:].rsplit("-", 1)[0]).exists()
        else:
            stale = _stale(tmp)
        if tmp.is_dir() and stale:
            shutil.rmtree(tmp, ignore_errors=True)
            gone.append(tmp)
    return gone


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders made for a run, deepest first, up to the first that is not empty."""
    for folder in folders:
        if not folder.exists():
            continue
        try:
            folder.rmdir()
        except OSError:
            break


def atomic_dir(target: Path):
    """Context manager: yields a temporary directory that replaces ``target`` whole on success.

    On an exception (Ctrl-C, a full disk) the temporary directory and every folder made for it
    are removed and ``target`` is untouched. Temporary folders that killed runs left beside
    ``target`` are removed first (:func:`remove_stale`).
    """
    @contextmanager
    def _cm():
        made = [p for p in (target.parent, *target.parent.parents) if not p.exists()]  # deepest first
        tmp = target.parent / f".tmp-{target.name}-{uuid.uuid4().hex[:8]}"
        try:  # a Ctrl-C from here on removes what was made, also the folders
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_stale(target.parent)
            tmp.mkdir()
            (tmp / OWNER_FILE).write_text(f"{platform.node()} {os.getpid()}", encoding="utf-8")
            yield tmp
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            _remove_empty(made)
            raise
        try:
            interrupt.check()  # a Ctrl-C that a finalizer swallowed: keep nothing
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            _remove_empty(made)
            raise
        old = None
        if target.exists():
            old = target.parent / f".old-{target.name}-{uuid.uuid4().hex[:8]}"
            os.replace(target, old)
        os.replace(tmp, target)
        (target / OWNER_FILE).unlink(missing_ok=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    return _cm()


def write_file_atomic(path: Path, write: Callable[[Path], Any]) -> None:
    """``write(tmp_path)``, then rename to ``path`` (readers see the whole file or none)."""
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}-{path.name}"
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(text: str, path: Path) -> None:
    """Write a text file under a temporary name and rename it into place."""
    write_file_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_run(out_root: str | Path, cfg: Config, tables: RunTables, man: dict,
              then: "Callable[[Path], None] | None" = None) -> Path:
    """Write a run directory atomically and return its path ``<out_root>/<scenario>/<run id>``.

    ``then(tmp_dir)`` runs after the tables are written and before the rename (figures are
    drawn there from the written files), so the directory appears complete or not at all.
    """
    target = Path(out_root) / cfg.scenario / man["run_id"]
    with atomic_dir(target) as tmp:
        for name, df in tables.items():
            write_table(df, tmp / TABLE_FILES[name])
        (tmp / "manifest.json").write_text(json.dumps(man, indent=2, ensure_ascii=False), encoding="utf-8")
        if then is not None:
            then(tmp)
    return target


# --------------------------------------------------------------------------- reading


def read_table(run_dir: str | Path, name: str) -> pd.DataFrame:
    """One table of a run directory, with its documented dtypes (kommunenummer as text)."""
    path = Path(run_dir) / TABLE_FILES[name]
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=CSV_DTYPES)


def read_run(run_dir: str | Path) -> RunTables:
    """All tables of a run directory."""
    d = Path(run_dir)
    if not (d / "manifest.json").exists():
        raise ConfigError(f"{d}: not a run directory (no manifest.json)")
    return RunTables(**{name: read_table(d, name) for name in TABLE_FILES if (d / TABLE_FILES[name]).exists()})


def read_manifest(folder: str | Path, what: str = "run directory") -> dict:
    """The ``manifest.json`` of a run directory (or of a sweep folder, ``what="sweep folder"``);
    ConfigError naming ``what`` when there is none. The one manifest reader of the package."""
    p = Path(folder) / "manifest.json"
    if not p.is_file():
        raise ConfigError(f"{Path(folder)}: not a {what} (no manifest.json)")
    return json.loads(p.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- comparing runs

KEY_FIGURES = ("share_gps", "n_municipalities_live", "one_record_coverage", "information_available",
               "gain_realized", "nok_per_inhabitant_median_municipality")
"""The report-year figures ``onerecord compare`` prints per scenario."""


def compare_table(summaries: dict[str, pd.DataFrame], year: int) -> pd.DataFrame:
    """Key figures of the report year per scenario: median and 5-95% range over seeds."""
    rows = []
    for name, s in summaries.items():
        for fig in KEY_FIGURES:
            col = f"{fig}_{year}"
            if col in s:
                v = s[col].astype(float)
                rows.append({"scenario": name, "figure": col, "median": v.median(), "p05": v.quantile(0.05),
                             "p95": v.quantile(0.95), "seeds": int(v.notna().sum())})
    return pd.DataFrame(rows)
