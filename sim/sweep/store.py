"""A sweep on disk: a Parquet dataset of finished runs, the failures, the design and its manifest.

Layout of ``<out>/<experiment name>/``::

    manifest.json        experiment, resolved base config, design hash, package version, git commit
    design.parquet       the design table (design_row, one column per parameter key)
    runs/part-*.parquet  one file per chunk of finished runs (one row per run)
    timeseries/part-*.parquet  region-level monthly rows of the same runs (only with timeseries = true)
    failures.csv         runs that raised: run_id, parameters, error_type, message, traceback
    shards/<I>-of-<N>/   a shard's own runs/, timeseries/ and failures.csv until merge_shards

Every file is written to a temporary name (``.tmp-*``, which readers skip) and renamed into
place, so a killed sweep leaves whole chunk files or none. A runs chunk is the commit of its
runs: a timeseries chunk without its runs chunk is an orphan and is removed on resume.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from sim import __version__
from sim.config import ConfigError
from sim.results import git_commit, now, write_file_atomic, write_text_atomic
from sim.results import read_manifest as read_run_manifest

FAILURE_COLUMNS = ["run_id", "design_row", "replicate", "error_type", "message", "traceback"]
STALE_TMP_S = 60.0
"""A temporary file older than this is left over from a killed writer."""


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    """Write a Parquet file under a temporary name and rename it into place."""
    write_file_atomic(path, lambda tmp: pq.write_table(table, tmp))


def parquet_files(folder: Path) -> list[Path]:
    """The chunk files of a folder, sorted (temporary files excluded)."""
    return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []


class Sink:
    """One writer's folder: ``runs/``, ``timeseries/`` and ``failures.csv`` (the sweep root or a shard)."""

    def __init__(self, root: Path, schema: pa.Schema, param_keys: list[str]):
        self.root, self.schema, self.param_keys = root, schema, param_keys
        self.runs_dir, self.ts_dir = root / "runs", root / "timeseries"
        self.failures_csv = root / "failures.csv"
        self.failures: dict[str, dict] = {}

    # ---- opening: clean up after a killed writer, drop duplicates, read what is done
    def open(self) -> "Sink":
        """Create the folders, remove stale temporary files and orphan timeseries chunks, dedup."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        now = time.time()
        for folder in (self.root, self.runs_dir, self.ts_dir):
            for tmp in folder.glob(".tmp-*") if folder.is_dir() else []:
                if now - tmp.stat().st_mtime > STALE_TMP_S:
                    tmp.unlink(missing_ok=True)
        committed = {f.name for f in parquet_files(self.runs_dir)}
        for f in parquet_files(self.ts_dir):
            if f.name not in committed:
                f.unlink(missing_ok=True)
        dedup_files(parquet_files(self.runs_dir), set(), self.ts_dir)
        self.failures = read_failures(self.failures_csv)
        return self

    def done_ids(self) -> set[str]:
        """run_ids with a row in this folder's runs/."""
        return run_ids(parquet_files(self.runs_dir))

    # ---- writing
    def write_chunk(self, rows: list[dict], failures: list[dict], timeseries: list[pd.DataFrame]) -> None:
        """Commit finished runs: the timeseries chunk, then the runs chunk, then failures.csv.

        Successful runs leave failures.csv; failed ones replace their earlier entry.
        """
        if rows:
            name = f"part-{uuid.uuid4().hex}.parquet"
            if timeseries:
                self.ts_dir.mkdir(exist_ok=True)
                ts = pa.Table.from_pandas(pd.concat(timeseries, ignore_index=True), preserve_index=False)
                write_parquet_atomic(ts, self.ts_dir / name)
            write_parquet_atomic(pa.Table.from_pylist(rows, schema=self.schema), self.runs_dir / name)
        changed = False
        for r in rows:
            changed |= self.failures.pop(r["run_id"], None) is not None
        for f in failures:
            self.failures[f["run_id"]] = f
            changed = True
        if changed:
            write_failures(self.failures, self.failures_csv, self.param_keys)


def read_failures(path: Path) -> dict[str, dict]:
    """failures.csv as {run_id: row} (empty when absent)."""
    if not path.exists():
        return {}
    df = pd.read_csv(path, dtype={"run_id": str, "error_type": str, "message": str, "traceback": str},
                     keep_default_na=False)
    return {r["run_id"]: r for r in df.to_dict(orient="records")}


def write_failures(failures: dict[str, dict], path: Path, param_keys: list[str]) -> None:
    """Write failures.csv atomically (removed when no failure is left), sorted by run_id."""
    if not failures:
        path.unlink(missing_ok=True)
        return
    cols = FAILURE_COLUMNS[:3] + param_keys + FAILURE_COLUMNS[3:]
    df = pd.DataFrame([failures[k] for k in sorted(failures)]).reindex(columns=cols)
    write_text_atomic(df.to_csv(index=False), path)


def run_ids(files: Iterable[Path]) -> set[str]:
    """Every run_id in the given chunk files (reads only that column)."""
    out: set[str] = set()
    for f in files:
        out.update(pq.read_table(f, columns=["run_id"]).column("run_id").to_pylist())
    return out


def dedup_files(files: Iterable[Path], seen: set[str], ts_dir: Path | None) -> set[str]:
    """Keep the first row of every run_id over the files in order; rewrite (or delete) a file holding repeats.

    Streams one file at a time; returns the run_ids seen (``seen`` is updated in place).
    """
    for f in files:
        ids = pq.read_table(f, columns=["run_id"]).column("run_id").to_pylist()
        keep = []
        for i, rid in enumerate(ids):
            if rid not in seen:
                seen.add(rid)
                keep.append(i)
        if len(keep) == len(ids):
            continue
        ts = ts_dir / f.name if ts_dir is not None else None
        if not keep:
            f.unlink()
            if ts is not None:
                ts.unlink(missing_ok=True)
            continue
        kept_ids = {ids[i] for i in keep}
        if ts is not None and ts.exists():
            t = pq.read_table(ts)
            mask = pa.array([r in kept_ids for r in t.column("run_id").to_pylist()])
            write_parquet_atomic(t.filter(mask), ts)
        write_parquet_atomic(pq.read_table(f).take(pa.array(keep)), f)
    return seen


# --------------------------------------------------------------------------- the sweep folder


def sweep_path(out_dir: str | Path, name: str) -> Path:
    """``<out>/<experiment name>``: where a sweep lives."""
    return Path(out_dir) / name


def shard_path(root: Path, shard: tuple[int, int]) -> Path:
    """A shard's folder: ``<root>/shards/<I>-of-<N>``."""
    return root / "shards" / f"{shard[0]}-of-{shard[1]}"


def read_manifest(root: Path) -> dict:
    """The sweep's manifest.json (:func:`sim.results.read_manifest`); ConfigError when ``root`` is not a sweep folder."""
    return read_run_manifest(root, "sweep folder")


def prepare(root: Path, manifest: dict, design: pd.DataFrame) -> None:
    """Write manifest.json and design.parquet, or check that the folder holds this very design.

    A folder holding a different experiment (another design hash) is an error: nothing is written.
    """
    path = root / "manifest.json"
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old.get("design_hash") != manifest["design_hash"]:
            raise ConfigError(f"{root}: holds a different design of experiment {old.get('experiment', {}).get('name')!r} "
                              "(other parameters, seed, outputs or base config); use another --out or remove it")
        return
    root.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(pa.Table.from_pandas(design, preserve_index=False), root / "design.parquet")
    write_text_atomic(json.dumps(manifest, indent=2, ensure_ascii=False, default=str), path)


def environment() -> dict:
    """Package version, git commit, host, Python and time of the process writing the manifest."""
    return {"package_version": __version__, "git_commit": git_commit(), "host": platform.node(),
            "python": sys.version.split()[0], "created": now().isoformat()}


def shard_folders(root: Path) -> list[Path]:
    """Every shard folder under ``root/shards``, sorted."""
    base = root / "shards"
    return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def merge_shards(root: str | Path) -> Path:
    """Move every shard's chunks into ``runs/`` (and ``timeseries/``), keeping the first row per run_id.

    Files stream one at a time (flat memory). Failures merge into failures.csv, minus runs that
    finished in any shard. Safe to re-run after an interruption. Returns the sweep folder.
    """
    root = Path(root)
    man = read_manifest(root)
    keys = list(man["parameter_keys"])
    main = Sink(root, pa.schema([]), keys)
    main.runs_dir.mkdir(exist_ok=True)
    seen = dedup_files(parquet_files(main.runs_dir), set(), main.ts_dir)
    failures = read_failures(main.failures_csv)
    for shard in shard_folders(root):
        failures |= read_failures(shard / "failures.csv")
        for f in parquet_files(shard / "runs"):
            ts = shard / "timeseries" / f.name
            dedup_files([f], seen, ts.parent)
            if f.exists():  # some rows are new: move the (deduplicated) chunk over, timeseries first
                if ts.exists():
                    main.ts_dir.mkdir(exist_ok=True)
                    os.replace(ts, main.ts_dir / f.name)
                os.replace(f, main.runs_dir / f.name)
            ts.unlink(missing_ok=True)
    failures = {k: v for k, v in failures.items() if k not in seen}
    write_failures(failures, main.failures_csv, keys)
    for shard in shard_folders(root):
        if not parquet_files(shard / "runs"):  # a shard still writing keeps its folder
            shutil.rmtree(shard, ignore_errors=True)
    if (root / "shards").is_dir() and not any((root / "shards").iterdir()):
        (root / "shards").rmdir()
    return root


def open_dataset(root: str | Path, table: str = "runs") -> ds.Dataset:
    """The sweep's results as a pyarrow dataset (``.to_table().to_pandas()`` on demand).

    ``table`` is ``"runs"`` (one row per finished run) or ``"timeseries"``. Reads the merged
    ``runs/`` folder: after a sharded sweep, call :func:`merge_shards` first.
    """
    root = Path(root)
    man = read_manifest(root)
    if table not in ("runs", "timeseries"):
        raise ConfigError(f"{root}: table must be 'runs' or 'timeseries', got {table!r}")
    folder = root / table
    files = [str(f) for f in parquet_files(folder)]
    if table == "runs" and not files:
        return ds.dataset(pa.Table.from_pylist([], schema=schema_from_manifest(man)))
    return ds.dataset(files, format="parquet")


def schema_from_manifest(man: dict) -> pa.Schema:
    """The runs table's schema, stored in the manifest."""
    return pa.schema([(name, pa.type_for_alias(t)) for name, t in man["runs_schema"]])


def iter_missing(runs: pd.DataFrame, skip: set[str]) -> Iterator[dict]:
    """Runs (as dicts) whose run_id is not in ``skip``, in order, lazily."""
    cols = list(runs.columns)
    for values in runs.itertuples(index=False, name=None):
        if values[0] not in skip:
            yield dict(zip(cols, values))
