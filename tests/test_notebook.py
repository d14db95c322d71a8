"""examples/quickstart.ipynb: generated from examples/quickstart.py, committed without outputs, runs.

The single source is ``examples/quickstart.py`` in jupytext's percent format (``# %%`` starts a
code cell, ``# %% [markdown]`` a Markdown cell whose lines start with ``# ``). The notebook is
generated from it, deterministically, by :func:`notebook_from_percent`; after editing the .py,
rewrite the notebook from the repository root with

    python -m tests.test_notebook

The tests check that the committed notebook equals the generated one (so the two never drift),
that it has no outputs, and that it executes end to end with nbclient (no errors, the expected
outputs) with ``ONERECORD_QUICK=1`` (2 seeds instead of 8, a coarser uptake curve), in a kernel started from
the running interpreter. Its wall time (target: under a minute) is measured by
``benchmarks/run.py --only notebook``, not asserted here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / "examples" / "quickstart.py"
NB = ROOT / "examples" / "quickstart.ipynb"
REGENERATE = "python -m tests.test_notebook"
METADATA = {
    "jupytext": {"formats": "ipynb,py:percent"},
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


# --------------------------------------------------------------------------- generation


def _strip_header(lines: list[str]) -> list[str]:
    """Drop a leading jupytext YAML header (``# ---`` ... ``# ---``)."""
    if lines and lines[0].strip() == "# ---":
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "# ---")
        return lines[end + 1:]
    return lines


def _markdown(lines: list[str]) -> str:
    out = []
    for line in lines:
        if line.strip() == "#":
            out.append("")
        elif line.startswith("# "):
            out.append(line[2:])
        else:
            raise ValueError(f"markdown cell line must start with '# ': {line!r}")
    return "\n".join(out)


def notebook_from_percent(text: str) -> nbformat.NotebookNode:
    """A notebook (nbformat 4.5, no outputs, cell ids cell-0, cell-1, ...) from percent-format text."""
    cells: list[tuple[str, list[str]]] = []
    for line in _strip_header(text.splitlines()):
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"text before the first '# %%' cell marker: {line!r}")
    nb = nbformat.v4.new_notebook(metadata=json.loads(json.dumps(METADATA)))
    nb.nbformat, nb.nbformat_minor = 4, 5
    for k, (kind, body) in enumerate(cells):
        while body and not body[0].strip():
            body = body[1:]
        while body and not body[-1].strip():
            body = body[:-1]
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(_markdown(body))
        else:
            cell = nbformat.v4.new_code_cell("\n".join(body))
        cell["id"] = f"cell-{k}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def notebook_text() -> str:
    """The notebook file's text, generated from the .py."""
    return nbformat.writes(notebook_from_percent(PY.read_text(encoding="utf-8"))) + "\n"


# --------------------------------------------------------------------------- tests


def test_notebook_is_generated_from_the_py_twin():
    committed = json.loads(NB.read_text(encoding="utf-8"))
    assert committed == json.loads(notebook_text()), (  # parsed, so JSON layout of another nbformat does not matter
        f"examples/quickstart.ipynb differs from examples/quickstart.py: edit the .py and run `{REGENERATE}`")


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NB, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cells"
    for c in code:
        assert c.outputs == [] and c.execution_count is None, f"cell {c.id} has outputs"
        assert "execution" not in c.metadata


def test_percent_parser_on_a_known_text():
    text = "# ---\n# jupyter:\n#   x: 1\n# ---\n\n# %% [markdown]\n# # Title\n#\n# text\n\n# %%\nx = 1\n\n\ny = 2\n\n"
    nb = notebook_from_percent(text)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code"]
    assert nb.cells[0].source == "# Title\n\ntext" and nb.cells[1].source == "x = 1\n\n\ny = 2"
    with pytest.raises(ValueError):
        notebook_from_percent("x = 1\n# %%\ny = 2\n")
    with pytest.raises(ValueError):
        notebook_from_percent("# %% [markdown]\nnot a comment\n")


@pytest.fixture
def kernel_manager(tmp_path):
    """A kernel manager that launches ipykernel with the running interpreter (sys.executable)."""
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernels = tmp_path / "kernels"
    write_kernel_spec(str(kernels / "onerecord-test"))
    spec = json.loads((kernels / "onerecord-test" / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    ksm = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    return KernelManager(kernel_name="onerecord-test", kernel_spec_manager=ksm)


@pytest.mark.slow
def test_notebook_executes(kernel_manager, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("ONERECORD_QUICK", "1")
    nb = nbformat.read(NB, as_version=4)
    client = NotebookClient(nb, km=kernel_manager, timeout=120,
                            resources={"metadata": {"path": str(NB.parent)}})
    client.execute()  # nbclient's timeout (per cell) is the guard against a hang

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    stdout = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    for scenario in ("baseline", "gp_agreement"):
        assert f"{scenario}-" in stdout, f"no run id of {scenario} printed"
    images = [o for o in outputs if o.output_type in ("display_data", "execute_result") and "image/png" in o.get("data", {})]
    assert len(images) >= 3, f"expected the uptake, gain-vs-share and gain_vs_uptake figures, got {len(images)} images"
    tables = [o["data"]["text/plain"] for o in outputs
              if o.output_type == "execute_result" and "text/html" in o.get("data", {})]
    assert any("gp_agreement" in t and "kommunenummer" in t for t in tables), "the cost table was not shown"


if __name__ == "__main__":
    NB.write_text(notebook_text(), encoding="utf-8")
    print(f"wrote {NB.relative_to(ROOT)}")
