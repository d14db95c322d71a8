"""Fixed-seed regression table: the summary of pinned runs, compared with rtol 1e-9.

A change that moves these numbers on purpose rewrites the table, with the reason in the commit:

    python -m tests.test_regression --rewrite
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

TABLE = Path(__file__).parent / "regression" / "summary.csv"
CASES = {  # case -> (--set overrides, replicates)
    "baseline_real": ([], [0]),
    "baseline_small": (["region.kind=synthetic", "region.synthetic_municipalities=8",
                        "region.synthetic_population=60000"], [0, 1]),
    "gp_agreement_small": (["region.kind=synthetic", "region.synthetic_municipalities=8",
                            "region.synthetic_population=60000", "agreement.subsidy_nok_per_gp_year=50000"], [0, 1]),
    # two parameter draws beside draw 0 (sim.draws): pins the draw design and common random numbers
    "baseline_small_draws": (["region.kind=synthetic", "region.synthetic_municipalities=8",
                              "region.synthetic_population=60000", "run.draws=2"], [0]),
}
KEYS = ["case", "scenario", "draw", "seed"]


def current_table() -> pd.DataFrame:
    """The summary rows of every pinned case, as the model gives them now."""
    from sim import api

    from .conftest import BASELINE

    parts = []
    for case, (sets, reps) in CASES.items():
        s = api.run(api.load_config(BASELINE, sets), seeds=reps).summary
        parts.append(s.assign(case=case))
    df = pd.concat(parts, ignore_index=True)
    return df[["case"] + [c for c in df.columns if c != "case"]]


def test_pinned_runs_match_the_regression_table():
    want = pd.read_csv(TABLE)
    got = current_table()
    assert list(got.columns) == list(want.columns), "columns changed: rewrite the table on purpose"
    num = [c for c in want.columns if c not in ("case", "scenario")]
    assert got[KEYS].astype(str).equals(want[KEYS].astype(str))
    np.testing.assert_allclose(got[num].to_numpy(float), want[num].to_numpy(float), rtol=1e-9, atol=0,
                               err_msg="pinned results moved; if on purpose: python -m tests.test_regression --rewrite")


if __name__ == "__main__":
    if "--rewrite" not in sys.argv:
        sys.exit("usage: python -m tests.test_regression --rewrite")
    TABLE.parent.mkdir(exist_ok=True)
    current_table().to_csv(TABLE, index=False, float_format="%.17g")
    print(f"wrote {TABLE}")
