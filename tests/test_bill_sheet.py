"""The sheet a council opens: sim.api.bill and `onerecord bill` (xlsx with Norwegian headers, CSV in both
variants, figures), bands over seeds and parameter draws, bad input."""

from __future__ import annotations

import re

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import api
from sim.config import ConfigError
from sim.sheets import BILL_ROWS, bill_bands, name_of

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"
SCENARIOS = [BASELINE, ROOT / "configs" / "grant_as_loan.toml", ROOT / "configs" / "state_finances_all.toml"]


@pytest.fixture(scope="module")
def result():
    return api.bill("5001", BASELINE, seeds=1, scenarios=SCENARIOS)


@pytest.fixture(scope="module")
def saved(result, tmp_path_factory):
    return result.save(tmp_path_factory.mktemp("bill"))


def test_the_shipped_financing_scenarios_are_found():
    names = [p.name for p in api.financing_scenarios(ROOT / "configs")]
    assert names[0] == "baseline.toml"
    assert {"grant_as_loan.toml", "ks_proposal.toml", "state_finances_all.toml", "state_finances_half.toml", "floor_key.toml"} <= set(names)
    assert "gp_agreement.toml" not in names  # changes more than [financing]


def test_bill_adds_up_under_every_scenario(result):
    assert result.name == "Trondheim" and result.scenarios == ["baseline", "grant_as_loan", "state_finances_all"]
    b = result.bill.set_index(["scenario", "year", "component"])["median_nok"].unstack("component")
    assert np.array_equal(b[list(BILL_ROWS[:-1])].sum(axis=1).to_numpy(), b["net_cost_nok"].to_numpy())  # one seed: medians add up
    loan = b.loc["grant_as_loan", "loan_repayment_nok"]
    assert loan.sum() > 0 and not b.loc["baseline", "loan_repayment_nok"].any()
    s = result.summary.set_index("scenario")
    assert s.loc["state_finances_all", "expected_nok_per_inhabitant"] < s.loc["baseline", "expected_nok_per_inhabitant"] \
        < s.loc["grant_as_loan", "expected_nok_per_inhabitant"]
    assert s.loc["baseline", "share_runs_live"] == 1.0  # Trondheim is committed before the start


def test_sheet_opens_with_the_municipality_by_name(saved):
    from openpyxl import load_workbook

    assert saved.parent.name == "baseline" and re.fullmatch(r"baseline-bill-5001_Trondheim-[0-9a-f]{8}", saved.name)
    wb = load_workbook(saved / "bill.xlsx")
    assert wb.sheetnames == ["Sammendrag", "Regning ved innføring", "Regning", "Netto per år", "Fastlegekontor", "Om tallene"]
    ws = wb["Sammendrag"]
    header = [c.value for c in ws[1]]
    assert "Kommune" in header and "Finansieringsscenario" in header
    assert ws.cell(row=2, column=header.index("Kommune") + 1).value == "Trondheim"
    bill = wb["Regning"]
    head = [c.value for c in bill[1]]
    col = head.index("Median (kr)") + 1
    assert bill.cell(row=2, column=col).number_format == "#,##0"
    items = {bill.cell(row=r, column=head.index("Post") + 1).value for r in range(2, bill.max_row + 1)}
    assert {name_of(k, "nb") for k in BILL_ROWS} == items


def test_bill_if_it_joins_gives_the_expected_bill(result):
    from sim.economics.valuation import annuity_factor

    cfg = api.load_config(BASELINE)
    j = result.if_joins[result.if_joins["scenario"] == "baseline"].set_index("component")
    a = annuity_factor(cfg.economics.discount_rate, cfg.bill.appraisal_years)
    per_year = a * j.loc[j["kind"] == "one_off", "nok"].sum() + j.loc[j["kind"] == "annual", "nok"].sum()
    expected = result.summary.set_index("scenario").loc["baseline", "expected_nok_per_inhabitant"]
    assert per_year / result.summary["population"].iloc[0] == pytest.approx(expected, abs=1.0)  # no loan in the baseline


def test_csv_variants(saved, result):
    nb = pd.read_csv(saved / "bill_nb.csv", sep=";", decimal=",", encoding="utf-8-sig")
    en = pd.read_csv(saved / "bill_en.csv")
    assert list(nb.columns)[:3] == ["Finansieringsscenario", "Post", "År"] and list(en.columns)[:3] == ["Financing scenario", "Item", "Year"]
    assert np.array_equal(nb["Median (kr)"].to_numpy(), en["Median (NOK)"].to_numpy())
    s = pd.read_csv(saved / "summary_nb.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert np.allclose(s["Forventet netto per innbygger per år (kr)"], result.summary["expected_nok_per_inhabitant"])
    assert (saved / "figures" / "bill_by_municipality_nb.png").exists() and (saved / "figures" / "bill_by_municipality_en.pdf").exists()
    assert (saved / "figures" / "gp_breakeven_nb.png").exists()


def test_bands_cover_seeds_and_draws():
    rows = []
    for seed in range(3):
        for draw in range(4):
            rows.append({"scenario": "s", "seed": seed, "draw": draw, "kommunenummer": "0001", "year": 2030, "joined": True,
                         **{k: 0 for k in BILL_ROWS}, "net_cost_nok": 100 * draw + seed})
    b = bill_bands(pd.DataFrame(rows), "0001")
    net = b[b["component"] == "net_cost_nok"].iloc[0]
    assert net["samples"] == 12
    values = np.array([100 * d + s for s in range(3) for d in range(4)])
    assert net["median_nok"] == round(np.median(values)) and net["p95_nok"] == round(np.quantile(values, 0.95))


def test_unknown_municipality_names_the_closest():
    with pytest.raises(ConfigError, match="did you mean Trondheim"):
        api.bill("Trondhjem", BASELINE, seeds=1)
    region_name = api.find_municipality("Snåsa", __import__("sim.region", fromlist=["load_region"]).load_region(
        api.load_config(BASELINE).region))
    assert region_name >= 0  # the Norwegian part of "Snåsa - Snåase" is enough


def test_cli_bill(tmp_path):
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "sim", "bill", "Averøy", str(BASELINE), "--seeds", "1", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "Averøy (1554)" in res.stdout and "ks_proposal" in res.stdout
    assert len(list(out.glob("baseline/baseline-bill-1554_Averoy-*/bill.xlsx"))) == 1  # the run id spells ø as o
    bad = subprocess.run([sys.executable, "-m", "sim", "bill", "Averoy", str(BASELINE), "--out", str(tmp_path / "bad"), "--quiet"],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Averøy" in bad.stderr
    assert not (tmp_path / "bad").exists()


def test_cost_figure_names_every_municipality_in_one_order(result):
    fig = result.plot("bill_by_municipality", "nb")  # highlights the sheet's municipality
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    first = result.expected[result.expected["scenario"] == "baseline"].sort_values("expected_nok_per_inhabitant", ascending=False)
    assert labels == list(first["name"]) and len(labels) == 66
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["Trondheim"]
    for coll, scen in zip(ax.collections, reversed(result.scenarios)):  # drawn last-first; y from the one order
        d = result.expected[result.expected["scenario"] == scen]
        ys = coll.get_offsets()[:, 1]
        assert np.array_equal(np.sort(ys), np.arange(66))
