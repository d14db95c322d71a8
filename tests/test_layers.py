"""The layering of DESIGN.md, Layout, held over the code (an ast pass over sim/, nothing imported).

Layers, each importing only itself and the layers before it:

    config -> region -> economics/network -> agents/model -> runner/results/parallel
    -> sweep/sensitivity/calibrate -> plots/report -> api -> cli

plus: the model never imports views, the CLI or sweeps; views never run the model; no import
cycles; imports at module top except heavy optional libraries (matplotlib, pyabc, dask, rich,
solara), which load lazily inside the functions that need them.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("config", ("sim.config", "sim.draws", "sim.params")),
    ("region", ("sim.region", "sim.history")),
    ("economics/network", ("sim.economics", "sim.network")),
    ("agents/model", ("sim.agents", "sim.municipal_decision", "sim.gp_choice", "sim.model")),
    ("runner/results/parallel", ("sim.builds", "sim.interrupt", "sim.runner", "sim.results", "sim.parallel", "sim.uptake",
                                 "sim.validation")),
    ("sweep/sensitivity/calibrate", ("sim.sweep", "sim.sensitivity", "sim.calibrate", "sim.paper", "sim.gp_uptake")),
    ("plots/report", ("sim.plots", "sim.report", "sim.sheets")),
    ("api", ("sim.api",)),
    ("cli", ("sim.cli", "sim.__main__", "sim.explore")),  # the explorer calls the API only
)
"""Layer name -> module prefixes (a package prefix covers its modules)."""

HEAVY = ("matplotlib", "pyabc", "dask", "distributed", "rich", "solara", "ema_workbench", "uvicorn", "openpyxl")
"""Optional heavy libraries that load lazily, inside functions (ema_workbench: ~5 s to import, for PRIM
only; uvicorn and openpyxl: the explorer's server and the council sheets, optional extras)."""

MODEL = ("sim.agents", "sim.model", "sim.network", "sim.economics")
VIEWS = ("sim.plots", "sim.report")
RUNS_THE_MODEL = ("sim.model", "sim.agents", "sim.runner", "sim.builds", "sim.sweep", "sim.sensitivity",
                  "sim.calibrate", "sim.uptake", "sim.validation", "sim.gp_uptake", "sim.api")

PENDING: dict[str, str] = {
    # module -> why it is exempt for now; an entry goes when its module keeps the rules (a test fails
    # while an entry is no longer needed). Found after merging main (#18, #21, #23, #17 items 1-2):
    "sim.explore.server": "imports the API, the app and the engine inside functions (#23)",
    "sim.__main__": "imports the CLI inside main() so that Ctrl-C while it loads ends in one line (#17 item 1)",
    "sim.report.tables": "a view reads saved sweeps through sim.sweep.store and sim.sensitivity.indices",
}
KNOWN_CYCLES: dict[str, str] = {
    "sim.explore.app -> sim.explore.server -> sim.explore.app": "app imports MAX_SEEDS from the server module, "
    "which imports the app lazily to serve it (#23)",
}


def module_name(path: Path) -> str:
    rel = path.relative_to(SIM.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int | None:
    for i, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    return None


def resolve(module: str, node: ast.ImportFrom | ast.Import, is_package: bool) -> list[str]:
    """The sim modules an import statement names (``from sim.x import y`` -> sim.x.y when that is a module)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        pkg = module.split(".") if is_package else module.split(".")[:-1]
        pkg = pkg[: len(pkg) - (node.level - 1)]
        base = ".".join([*pkg, base] if base else pkg)
    out = []
    for a in node.names:
        sub = f"{base}.{a.name}"
        out.append(sub if _exists(sub) else base)
    return out


def _exists(module: str) -> bool:
    rel = Path(*module.split("."))
    return (SIM.parent / rel).with_suffix(".py").exists() or (SIM.parent / rel / "__init__.py").exists()


@functools.cache
def imports() -> list[tuple[str, str, bool, int]]:
    """(importer, imported, at module top, line) for every import in sim/ (TYPE_CHECKING blocks skipped)."""
    rows = []
    for path in sorted(SIM.rglob("*.py")):
        module = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(n) for n in tree.body}
        typing_only = {id(n) for block in tree.body if isinstance(block, ast.If)
                       and getattr(block.test, "id", None) == "TYPE_CHECKING" for n in ast.walk(block)}
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name in resolve(module, node, path.name == "__init__.py"):
                    rows.append((module, name, id(node) in top, node.lineno))
    return rows


ALLOWED_LATE: dict[str, str] = {
    # module -> why it imports sim modules inside functions (for good, not pending)
    "sim.sweep.evaluate": "the model loads when a sweep run is evaluated, not when sim.sweep is imported: "
                         "views read saved sweeps (sim.sweep.open_dataset) with the model blocked (test_report.py)",
}


def _pending(module: str) -> bool:
    return module in PENDING


def test_every_module_has_a_layer():
    mods = {module_name(p) for p in SIM.rglob("*.py")} - {"sim"}
    assert [m for m in sorted(mods) if layer_of(m) is None] == []


def layer_violations() -> list[str]:
    out = []
    for importer, name, _, line in imports():
        if not name.startswith("sim.") or importer == "sim":
            continue
        a, b = layer_of(importer), layer_of(name)
        if a is not None and b is not None and b > a:
            out.append(f"{importer}:{line} imports {name} ({LAYERS[a][0]} must not import {LAYERS[b][0]})")
    return out


def test_imports_run_down_the_layers():
    assert [v for v in layer_violations() if not _pending(v.split(":")[0])] == []


def test_the_model_never_imports_views_cli_or_sweeps():
    bad = [(i, n) for i, n, _, _ in imports() if i.startswith(MODEL) and n.startswith(
        ("sim.plots", "sim.report", "sim.cli", "sim.api", "sim.sweep", "sim.sensitivity", "sim.calibrate", "sim.runner"))]
    assert bad == []


def view_violations() -> list[tuple[str, str]]:
    return [(i, n) for i, n, _, _ in imports() if i.startswith(VIEWS) and n.startswith(RUNS_THE_MODEL)]


def test_views_never_run_the_model():
    assert [(i, n) for i, n in view_violations() if not _pending(i)] == []


def test_no_import_cycles():
    graph: dict[str, set[str]] = {}
    for importer, name, _, _ in imports():
        if name.startswith("sim.") and importer != "sim":
            graph.setdefault(importer, set()).add(name)
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert [c for c in cycles if c not in KNOWN_CYCLES] == []


def late_imports() -> list[str]:
    out = []
    for importer, name, at_top, line in imports():
        if at_top or importer == "sim" or name.split(".")[0] in HEAVY or importer in ALLOWED_LATE:
            continue
        out.append(f"{importer}:{line} imports {name} inside a function")
    return out


def test_imports_are_at_module_top_except_heavy_optional_libraries():
    assert [v for v in late_imports() if not _pending(v.split(":")[0])] == []


@pytest.mark.parametrize("module", sorted(PENDING))
def test_a_pending_exemption_is_still_needed(module):
    """An exemption goes once its module keeps the rules (so the list cannot go stale)."""
    needed = ([v for v in layer_violations() + late_imports() if v.split(":")[0] == module]
              + [i for i, _ in view_violations() if i == module])
    assert needed, f"{module} keeps every rule now: remove it from PENDING"


def test_the_check_sees_a_violation(tmp_path, monkeypatch):
    """The pass can fail: a model module importing the runner inside a function is caught twice."""
    fake = SIM / "model.py"
    text = fake.read_text(encoding="utf-8") + "\n\ndef _probe():\n    from sim.runner import run_one\n"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None, _orig=Path.read_text:
                        text if self == fake else _orig(self, encoding=encoding))
    imports.cache_clear()
    try:
        assert any(v.startswith("sim.model:") and "sim.runner" in v for v in layer_violations())
        assert any(v.startswith("sim.model:") for v in late_imports())
    finally:
        imports.cache_clear()
