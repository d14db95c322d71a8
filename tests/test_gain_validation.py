"""docs/gain_validation.md and .csv: the gain's validation table, rebuilt from the baseline and compared.

Regenerate after a change that moves it: ``python -m tests.test_gain_validation``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MD, CSV = ROOT / "docs" / "gain_validation.md", ROOT / "docs" / "gain_validation.csv"


def build():
    from sim.config import load_config
    from sim.network import build_network
    from sim.network.evidence import validation_markdown, validation_table
    from sim.region import load_region

    cfg = load_config(ROOT / "configs" / "baseline.toml")
    df = validation_table(cfg, build_network(load_region(cfg.region), cfg))
    return df, validation_markdown(df)


def test_validation_table_is_current_and_sound():
    df, md = build()
    assert MD.read_text(encoding="utf-8") == md, "docs/gain_validation.md is stale: python -m tests.test_gain_validation"
    back = pd.read_csv(CSV)
    assert list(back.columns) == list(df.columns) and len(back) == len(df)
    assert np.allclose(back["model"], df["model"], rtol=1e-9, equal_nan=True)
    assert set(df["role"]) <= {"input", "check", "assumption", "context"}
    # every input row reproduces its anchor; every row without an anchor says so
    inputs = df[df["role"] == "input"]
    assert np.allclose(inputs["ratio"], 1.0, rtol=0.1), inputs[["quantity", "ratio"]]
    assert (df.loc[df["anchor"].isna(), "role"] == "assumption").all()
    assert df["note"].str.len().min() > 20


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    df, md = build()
    MD.write_text(md, encoding="utf-8")
    df.to_csv(CSV, index=False)
    print(f"wrote {MD.relative_to(ROOT)} and {CSV.relative_to(ROOT)}")
