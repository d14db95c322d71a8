"""Running what the pack is missing: scenarios, uptake curve, heatmap sweep, sensitivity, parameters.

Each piece is skipped when saved (a scenario's run id, the uptake curve's settings, the sweep's
finished runs, the sensitivity's design hash and options), so an interrupted pack resumes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.config import config_to_dict
from sim.report.document import build_report
from sim.report.experiment import (PaperExperiment, heatmap_experiment, load_paper, quick_version, scenario_config,
                                   sensitivity_experiment)
from sim.report.tables import INPUTS_FILE, OVERRIDE_SOURCE, config_value, read_json
from sim.report.text import check_lang
from sim.results import atomic_dir, check_out_dir, run_id, write_text_atomic


def report(experiment_path: str | Path, out_dir: str | Path = "results", lang: str = "en", rebuild_only: bool = False,
           quick: bool = False, workers: int | None = None, progress: bool = True,
           say: Callable[[str], None] | None = None) -> Path:
    """Run what the position paper needs and is not saved yet, then build the report in ``lang``.

    Returns ``<out_dir>/<name>/report_<lang>/report.md`` (``report.html`` beside it). With
    ``rebuild_only`` nothing runs: the report is rebuilt from the saved results. ``quick`` shrinks
    the experiment by its ``[quick]`` table (results under ``<name>-quick``).
    """
    check_lang(lang)
    paper = load_paper(experiment_path)
    paper = quick_version(paper) if quick else paper
    check_out_dir(out_dir)
    root = Path(out_dir) / paper.name
    if not rebuild_only:
        run_pack(paper, out_dir, workers=workers, progress=progress, say=say or (lambda _: None))
    return build_report(root, lang)


def run_pack(paper: PaperExperiment, out_dir: str | Path, workers: int | None = None, progress: bool = True,
             say: Callable[[str], None] = lambda _: None) -> Path:
    """Run (or skip, when saved) every piece of the pack; write ``report_inputs.json``; return the folder."""
    from sim import api  # the public run/save: the model loads here only, never in build_report's path
    from sim.params import parameter_table
    from sim.sensitivity import sensitivity
    from sim.sweep import run_sweep, sweep_status
    from sim.uptake import uptake_curve

    root = Path(out_dir) / paper.name
    configs = {name: scenario_config(paper, name) for name in paper.scenarios}
    year = configs[paper.baseline].run.report_year
    reps = list(range(paper.seeds))
    runs: dict[str, str] = {}
    for name, cfg in configs.items():
        target = root / "runs" / name / run_id(cfg, reps)
        if (target / "manifest.json").is_file():
            say(f"{name}: saved ({target})")
        else:
            say(f"{name}: running {paper.seeds} seeds")
            api.run(cfg, seeds=reps).save(root / "runs", figures=False)
        runs[name] = target.relative_to(root).as_posix()

    u = paper.uptake_curve
    ucfg = configs[u.scenario]
    settings = {"config": config_to_dict(ucfg), "steps": u.steps, "seeds": u.seeds, "orders": list(u.orders)}
    udir = root / "uptake_curve"
    if read_json(udir / "settings.json") == settings:
        say(f"uptake curve: saved ({udir})")
    else:
        say(f"uptake curve: {len(u.orders)} orders x {u.steps} steps")
        df = uptake_curve(ucfg, steps=u.steps, orders=tuple(u.orders), seeds=u.seeds)
        with atomic_dir(udir) as tmp:
            df.to_csv(tmp / "uptake_curve.csv", index=False)
            (tmp / "settings.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")

    hexp = heatmap_experiment(paper, root)
    say(f"heatmap: {hexp.name} ({len(paper.heatmap.x.levels)} x {len(paper.heatmap.y.levels)} cells)")
    hroot = run_sweep(hexp, root, workers=workers, progress=progress)
    st = sweep_status(hroot)
    if st["failed"] or st["missing"]:
        say(f"heatmap: {st['failed']} runs failed, {st['missing']} missing (their cells are blank)")

    sexp, ana = sensitivity_experiment(paper)
    sdir = Path(out_dir) / sexp.name / "sensitivity"
    if _sensitivity_saved(sexp, ana, Path(out_dir)):
        say(f"sensitivity: saved ({sdir})")
    else:
        say(f"sensitivity: {sexp.name} ({sexp.design})")
        sensitivity(sexp, out_dir, workers=workers, progress=progress, analysis=ana)

    params = resolved_parameters(parameter_table(paper.scenario_path(paper.baseline)), configs[paper.baseline],
                                 Path(paper.source).name)
    params.to_csv(root / "parameters.csv", index=False)
    inputs = {
        "experiment": paper.model_dump(mode="json"), "report_year": year, "scenarios": runs,
        "uptake_curve": "uptake_curve/uptake_curve.csv",
        "heatmap": {"dir": hroot.relative_to(root).as_posix(), "x": paper.heatmap.x.key, "y": paper.heatmap.y.key,
                    "output": f"{paper.heatmap.output}_{year}"},
        "sensitivity": os.path.relpath(sdir, root), "parameters": "parameters.csv",
    }
    write_text_atomic(json.dumps(inputs, indent=2, ensure_ascii=False), root / INPUTS_FILE)
    return root


def _sensitivity_saved(exp, ana, out_dir: Path) -> bool:
    """indices.csv exists for this very design (sweep manifest hash) and these analysis options."""
    from sim.sweep import base_config, read_manifest as sweep_manifest
    from sim.sweep.experiment import design_hash, expand_runs

    sroot = out_dir / exp.name
    summary = read_json(sroot / "sensitivity" / "summary.json")
    if summary is None or not (sroot / "sensitivity" / "indices.csv").is_file():
        return False
    same_design = sweep_manifest(sroot).get("design_hash") == design_hash(exp, base_config(exp), expand_runs(exp))
    return same_design and summary.get("analysis") == json.loads(json.dumps(ana.model_dump()))


def resolved_parameters(table: pd.DataFrame, cfg, experiment_file: str) -> pd.DataFrame:
    """The parameter table with the values the runs used: a key the experiment overrides gets its
    resolved value and the source "override in <experiment file>"."""
    data = config_to_dict(cfg)
    out = table.copy()
    for i, key in enumerate(out["key"]):
        node = config_value(data, key)
        if node != out.at[i, "value"] and key != "scenario":
            out.at[i, "value"], out.at[i, "source"] = node, f"{OVERRIDE_SOURCE}{experiment_file}"
    out["value"] = [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in out["value"]]
    return out

