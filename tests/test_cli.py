"""The command line is a thin layer over sim.api, checked over its source (ast) and through typer.

Every command body calls exactly one function of ``sim.api`` (besides printing), imports nothing
and writes no file; every API command has its command; ``onerecord --version`` prints the version.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys

from typer.testing import CliRunner

import sim
from sim import api, cli

from .conftest import ROOT

SOURCE = ast.parse(inspect.getsource(cli))
API_COMMANDS = ["run", "plot", "compare", "uptake_curve", "params", "sweep", "sensitivity", "calibrate",
                "validate_bass", "report", "bill", "explore", "gp_drivers"]
WRITES = {"open", "write_text", "write_bytes", "to_csv", "to_parquet", "mkdir", "savefig", "atomic_dir", "save",
          "copytree", "rename", "replace", "unlink", "rmtree", "touch"}


def _commands() -> dict[str, ast.FunctionDef]:
    """The functions decorated with ``@app.command(...)``."""
    out = {}
    for node in SOURCE.body:
        if isinstance(node, ast.FunctionDef):
            for d in node.decorator_list:
                call = d.func if isinstance(d, ast.Call) else d
                if isinstance(call, ast.Attribute) and call.attr == "command":
                    out[node.name] = node
    return out


def _called(node: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)]


def _api_calls(fn: ast.FunctionDef) -> list[str]:
    """Names of ``api.<name>(...)`` calls in a function body (attribute access on the ``api`` module)."""
    return [c.func.attr for c in _called(fn) if isinstance(c.func, ast.Attribute)
            and isinstance(c.func.value, ast.Name) and c.func.value.id == "api"]


def test_every_command_calls_exactly_one_api_function():
    commands = _commands()
    assert len(commands) >= len(API_COMMANDS)
    for name, fn in commands.items():
        calls = _api_calls(fn)
        assert len(calls) == 1, f"{name}: calls {calls or 'no'} sim.api functions; a command calls exactly one"
        assert calls[0] in api.__all__ and callable(getattr(api, calls[0])), f"{name}: api.{calls[0]} is not public"
    assert sorted(c for fn in commands.values() for c in _api_calls(fn)) == sorted(API_COMMANDS)


def test_commands_import_nothing_and_write_no_file():
    for name, fn in _commands().items():
        imports = [n for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert not imports, f"{name}: imports inside the command"
        names = {c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "") for c in _called(fn)}
        assert not names & WRITES, f"{name}: writes files itself ({names & WRITES})"
    # the module reaches the package through one lazily loaded sim.api (plus the version), nothing else
    top = [n for n in SOURCE.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    sim_imports = {(n.module, a.name) for n in top if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("sim")
                   for a in n.names}
    assert sim_imports == {("sim", "__version__")}, sim_imports
    lazy = [n for n in SOURCE.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
            and getattr(n.value.func, "id", "") == "lazy_module"]
    assert [(n.targets[0].id, n.value.args[0].value) for n in lazy] == [("api", "sim.api")]
    assert not any("sim" in str(getattr(n, "module", "") or "") or any("sim" in a.name for a in n.names)
                   for n in top if isinstance(n, ast.Import))
    inner = [n for n in ast.walk(SOURCE) if isinstance(n, (ast.Import, ast.ImportFrom)) and n not in top]
    assert all(isinstance(n, ast.ImportFrom) and n.module.startswith("rich") for n in inner), "only rich loads lazily"


def test_version_and_help_load_no_model():
    """``import sim.cli``, ``onerecord --version`` and ``--help`` load neither pandas nor the model (sim.api is
    lazy: the start-up a shell user waits for; the time is benchmarks/run.py's start-up row); a command loads it."""
    probe = ("import sys; from sim import cli; code = cli.main(%r); "
             "print(code, sorted(m for m in ('pandas', 'scipy.stats', 'mesa', 'sim.model') if m in sys.modules))")
    for argv in (["--version"], ["--help"], ["sweep", "--help"]):
        res = subprocess.run([sys.executable, "-c", probe % argv], capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert res.returncode == 0 and res.stdout.strip().splitlines()[-1] == "0 []", (argv, res.stdout, res.stderr)
    res = subprocess.run([sys.executable, "-c", probe % ["params", "--format", "csv"]], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert res.stdout.strip().splitlines()[-1].startswith("0 ['mesa', 'pandas'"), res.stdout[-300:]


def test_the_lazy_api_does_not_break_other_imports():
    """A notebook that imports the command line first and the model after (Mesa's logger walks the loaded
    modules: a lazy module in sys.modules was imported half-way through sim.agents, a circular ImportError)."""
    res = subprocess.run([sys.executable, "-c", "import sim.cli, sim.model, sim.runner; print(sim.cli.api.run.__name__)"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "run", res.stderr[-500:]


def test_every_api_command_has_its_command_and_documented_pattern():
    commands = {c.name or c.callback.__name__.replace("_", "-") for c in cli.app.registered_commands}
    assert commands == {c.replace("_", "-") for c in API_COMMANDS}
    assert "pattern every command follows" in api.__doc__
    for name in API_COMMANDS:
        doc = getattr(api, name).__doc__
        assert f"``onerecord {name.replace('_', '-')}``" in doc, f"api.{name}: docstring names no command"


def test_version_option_prints_the_package_version():
    from importlib.metadata import version

    res = CliRunner().invoke(cli.app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"onerecord {version('onerecord')}"  # pyproject's version
    assert sim.__version__ == version("onerecord")


def test_ctrl_c_while_loading_prints_the_commands_line():
    """python -m sim catches Ctrl-C during its imports with the line the commands print (sim.cli.INTERRUPTED)."""
    main = (ROOT / "sim" / "__main__.py").read_text(encoding="utf-8")
    assert f'"{cli.INTERRUPTED}\\n"' in main and "sys.exit(130)" in main


def test_executor_names_come_from_one_constant():
    from sim.parallel import EXECUTORS

    assert api.EXECUTORS is EXECUTORS and cli.EXECUTORS == EXECUTORS  # the command line spells them out (no model at --help)
    help_text = CliRunner().invoke(cli.app, ["sweep", "--help"], terminal_width=200).output
    assert " or ".join(EXECUTORS) in help_text
    assert not (ROOT / "sim" / "sweep" / "__main__.py").exists()  # one command line
