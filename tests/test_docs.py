"""docs/model.md and docs/params.md against the code.

The parameter table is generated, never retyped: docs/params.md is exactly the output of
``onerecord params --format md`` (:func:`sim.params.parameter_table` rendered by
:func:`sim.params.render`), and docs/model.md includes the same table between the markers
``<!-- params:start -->`` and ``<!-- params:end -->``. After changing a key in sim/config.py or
its value or source comment in configs/baseline.toml, regenerate both from the repository root:

    python -m tests.test_docs

The tests fail when the table is stale, when a schema key is missing from model.md's table or a
documented key no longer exists, when the prose names a config key, metric or output column that
the code does not have, or when a cited ``sim.module.function`` does not resolve.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL_MD = ROOT / "docs" / "model.md"
PARAMS_MD = ROOT / "docs" / "params.md"
START, END = "<!-- params:start -->", "<!-- params:end -->"
REGENERATE = "python -m tests.test_docs"
NOTE = (f"<!-- Generated from sim/config.py and configs/baseline.toml by `{REGENERATE}` "
        "(the table is `onerecord params --format md`, also in docs/params.md); do not edit by hand. -->")


# --------------------------------------------------------------------------- generation


def params_markdown() -> str:
    """The parameter table exactly as ``onerecord params --format md`` prints it."""
    from sim.params import parameter_table, render

    return render(parameter_table(), "md")


def params_block(table_md: str) -> str:
    """The text between the markers of docs/model.md: the regenerate note and the table."""
    return f"\n{NOTE}\n\n{table_md}"


def included_block(text: str) -> str:
    """The text between the params markers of a document (ValueError when they are missing or out of order)."""
    i, j = text.find(START), text.find(END)
    if i < 0 or j < 0 or j < i or text.count(START) != 1 or text.count(END) != 1:
        raise ValueError(f"docs/model.md must contain {START} ... {END} exactly once, in that order")
    return text[i + len(START):j]


def with_block(text: str, block: str) -> str:
    """``text`` with the params block replaced by ``block``."""
    included_block(text)
    i, j = text.find(START) + len(START), text.find(END)
    return text[:i] + block + text[j:]


def write_docs() -> list[Path]:
    """Regenerate docs/params.md and the params block of docs/model.md; returns the files changed."""
    table = params_markdown()
    changed = []
    if not PARAMS_MD.exists() or PARAMS_MD.read_text(encoding="utf-8") != table:
        PARAMS_MD.write_text(table, encoding="utf-8")
        changed.append(PARAMS_MD)
    text = MODEL_MD.read_text(encoding="utf-8")
    new = with_block(text, params_block(table))
    if new != text:
        MODEL_MD.write_text(new, encoding="utf-8")
        changed.append(MODEL_MD)
    return changed


def table_keys(block: str) -> list[str]:
    """The ``key`` column of the Markdown table in a block (rows after the header and rule)."""
    rows = [line for line in block.splitlines() if line.startswith("|")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    assert header[0] == "key", header
    return [line.strip("|").split("|")[0].strip() for line in rows[2:]]


# --------------------------------------------------------------------------- tests


def model_text() -> str:
    return MODEL_MD.read_text(encoding="utf-8")


def schema_keys() -> list[str]:
    from sim.config import iter_parameters

    return [k for k, _ in iter_parameters()]


def test_model_md_table_has_every_schema_key_and_no_other():
    documented = table_keys(included_block(model_text()))
    keys = schema_keys()
    missing = [k for k in keys if k not in documented]
    gone = [k for k in documented if k not in keys]
    assert not missing, f"keys missing from docs/model.md's parameter table (run `{REGENERATE}`): {missing}"
    assert not gone, f"docs/model.md documents keys that no longer exist (run `{REGENERATE}`): {gone}"
    assert documented == keys, f"parameter table out of schema order or with duplicates (run `{REGENERATE}`)"


def test_included_block_is_a_fresh_render():
    table = params_markdown()
    assert included_block(model_text()) == params_block(table), f"docs/model.md params block is stale: run `{REGENERATE}`"
    assert PARAMS_MD.read_text(encoding="utf-8") == table, f"docs/params.md is stale: run `{REGENERATE}`"


def test_block_helpers_reject_missing_markers_and_replace_only_the_block():
    import pytest

    with pytest.raises(ValueError):
        included_block("no markers here")
    with pytest.raises(ValueError):
        included_block(f"{END} reversed {START}")
    text = f"before\n{START}\nold\n{END}\nafter\n"
    new = with_block(text, "\nnew\n")
    assert new == f"before\n{START}\nnew\n{END}\nafter\n" and included_block(new) == "\nnew\n"
    assert table_keys("| key | unit |\n|---|---|\n| a.b | x |\n| c | y |\n") == ["a.b", "c"]


def _prose() -> str:
    """model.md without the generated block (the part written by hand)."""
    text = model_text()
    return text[:text.find(START)] + text[text.find(END):]


def test_config_keys_named_in_the_prose_exist():
    from sim.config import Config

    sections = set(Config.model_fields)
    keys = set(schema_keys())
    named = set(re.findall(r"`([a-z_]+\.[a-z_0-9]+)", _prose()))
    in_schema = {k for k in named if k.split(".")[0] in sections}
    assert in_schema, "the prose names no config keys at all"
    unknown = sorted(k for k in in_schema if k not in keys)
    assert not unknown, f"docs/model.md names config keys that do not exist: {unknown}"


def test_cited_functions_exist():
    cited = sorted(set(re.findall(r"`(sim(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`", _prose())))
    assert len(cited) > 30, "the submodels must cite the functions that implement them"
    broken = []
    for name in cited:
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):  # longest importable module prefix, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                broken.append(name)
            break
        else:
            broken.append(name)
    assert not broken, f"docs/model.md cites names that do not exist: {broken}"


def test_every_metric_and_monthly_column_is_documented():
    from sim.model import ADOPTION_COLUMNS
    from sim.network import HANDOVERS, METRIC_COLUMNS

    prose = _prose()
    names = [*METRIC_COLUMNS, *ADOPTION_COLUMNS, *(h.name for h in HANDOVERS)]
    undocumented = [c for c in names if c != "t" and c not in prose]
    assert not undocumented, f"docs/model.md does not describe: {undocumented}"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    for path in write_docs():
        print(f"wrote {path.relative_to(ROOT)}")
