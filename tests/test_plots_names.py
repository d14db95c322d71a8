"""The one display-name table and the one number formatter (sim.plots.labels).

Every scenario shipped in configs/, every uncertain input and lever of the schema (and each age band
a design samples), every summary output, bill component and actor has a name in both languages that
is not its raw key; no key is named twice; the council sheet and the explorer read their names from
the table; numbers follow each language's conventions (nb: decimal comma, U+202F between thousands,
"12 %"; en: "1,234.5", "12%") in text and on axes.
"""

from __future__ import annotations

import tomllib

import pytest

from sim.config import DUMMY_PREFIX, iter_parameters, load_config, prior_ranges
from sim.economics import ACTORS, BILL_COMPONENTS
from sim.plots.labels import (
    COLUMNS, COMPONENTS, LABELS, OUTPUTS, PARAMETERS, SCENARIOS, THOUSANDS_NB, VALUES, WORDS, display_name, fmt, has_name,
    number, tick_formatter,
)
from sim.runner import summary_columns

from .conftest import ROOT

NNBSP = NBSP = "\u202f"  # one narrow no-break space for thousands and before %


def _roles(*roles: str) -> list[str]:
    return [k for k, f in iter_parameters() if (f.json_schema_extra or {}).get("role") in roles]


def _named_in_both(key: str) -> None:
    en, nb = display_name(key, "en"), display_name(key, "nb")
    assert has_name(key), key
    assert en != key and nb != key and en.strip() and nb.strip(), (key, en, nb)


def test_every_uncertain_input_and_lever_has_a_name_in_both_languages():
    keys = _roles("uncertain", "lever")
    assert len(keys) > 100
    for key in keys:
        _named_in_both(key)
    for key in prior_ranges(load_config(ROOT / "configs" / "baseline.toml")):  # age bands: one key per band
        _named_in_both(key)
    assert display_name("network.gp_consultations_per_person_year.80-89", "nb") == \
        "Fastlegekonsultasjoner per person, alder 80–89"
    assert display_name("network.share_long_term_nursing_home.80+", "en") == "Share in nursing homes, age 80+"
    assert display_name(f"{DUMMY_PREFIX}unused", "nb") == "unused (blindparameter)"


def test_every_shipped_scenario_output_component_and_actor_has_a_name():
    scenarios = {tomllib.loads(p.read_text(encoding="utf-8")).get("scenario") for p in (ROOT / "configs").glob("*.toml")}
    assert {"baseline", "gp_all_levers", "norway"} <= scenarios
    outputs = summary_columns(load_config(ROOT / "configs" / "baseline.toml"))
    for key in [*scenarios, *outputs, *BILL_COMPONENTS, "net_cost_nok", *ACTORS]:
        _named_in_both(key)
    assert display_name("share_gps_2030", "nb") == "Fastlegeoppslutning (andel fastleger), 2030"
    assert display_name("share_gps_end", "en") == "GP uptake (share of GPs), end of horizon"
    assert display_name("gp_all_levers", "nb") == "Alle fastlegetiltak"


def test_a_key_unknown_to_every_table_is_shown_as_it_is_only_as_a_last_resort():
    assert not has_name("no.such_key")
    assert display_name("no.such_key", "nb") == "no.such_key"
    assert display_name("no.such_key", "nb", default="?") == "?"
    with pytest.raises(Exception, match="--lang"):
        display_name("baseline", "de")


def test_no_key_is_named_twice_and_both_languages_have_the_same_words():
    tables = [WORDS["en"], SCENARIOS, PARAMETERS, OUTPUTS, COMPONENTS, VALUES]
    for i, a in enumerate(tables):
        for b in tables[i + 1:]:
            assert not set(a) & set(b), set(a) & set(b)
    assert WORDS["en"].keys() == WORDS["nb"].keys()
    assert LABELS["en"].keys() == LABELS["nb"].keys()
    for table in (SCENARIOS, PARAMETERS, OUTPUTS, COMPONENTS, VALUES, COLUMNS):
        assert all(len(v) == 2 and all(s.strip() for s in v) for v in table.values())
    assert not any("frø" in v for v in LABELS["nb"].values())


def test_the_sheet_and_the_explorer_read_their_names_from_the_table():
    from sim.explore.text import TEXT, t
    from sim.sheets import name_of

    assert name_of("gp", "nb") == COLUMNS["gp"][1] == "Fastlegekontor"  # the sheet's column, not the actor
    assert name_of("legacy_contract_saving_nok", "en") == COMPONENTS["legacy_contract_saving_nok"][0]
    assert name_of("grant_as_loan", "nb") == SCENARIOS["grant_as_loan"][1]
    for key in ("gp_price.licence_nok_per_gp_year", "financing.allocation_key", "explore.recruitment_order"):
        assert key not in TEXT["nb"] and t(key, "nb") == display_name(key, "nb")
    assert t("per_inhabitant_floor", "nb") == VALUES["per_inhabitant_floor"][1]


@pytest.mark.parametrize("v, nb, en", [
    (1234567.5, f"1{NNBSP}234{NNBSP}567,5", "1,234,567.5"),
    (0.125, "0,125", "0.125"),
    (-3, "\u22123", "-3"),  # nb: the minus sign U+2212, as Norwegian typesetting writes it
    (-0.00001, "\u22120,00001", "-0.00001"),
])
def test_numbers_in_both_languages(v, nb, en):
    assert number(v, "nb") == nb and number(v, "en") == en
    assert tick_formatter("nb")(v) == nb and tick_formatter("en")(v) == en


def test_number_kinds_in_both_languages():
    assert THOUSANDS_NB == NNBSP
    assert fmt(0.125, "pct", "nb") == f"12,5{NBSP}%" and fmt(0.125, "pct", "en") == "12.5%"
    assert fmt(0.125, "pct0", "nb") == f"12{NBSP}%" and fmt(0.12, "pct0", "en") == "12%"
    assert fmt(1234567.5, "nok", "nb") == f"1{NNBSP}234{NNBSP}568" and fmt(1234567.5, "nok", "en") == "1,234,568"
    assert fmt(-3, "nok", "nb") == "\u22123" and fmt(-0.2, "nok", "en") == "0" and fmt(-0.2, "nok", "nb") == "0"  # no "-0"
    assert fmt(-3.0e6, "mnok", "nb") == "\u22123" and fmt(0.126, "idx", "nb") == "0,13"
    assert fmt(1234567.5, "num", "nb") == f"1{NNBSP}230{NNBSP}000" and fmt(0.125, "num", "en") == "0.125"
    assert fmt(0.0125, "pp", "nb") == f"1,2{NBSP}prosentpoeng" and fmt(0.0125, "pp", "en") == "1.2 pp"
    assert tick_formatter("nb", "pct")(0.125) == f"12,5{NBSP}%" and tick_formatter("en", "pct")(0.2) == "20%"
    assert tick_formatter("nb", scale=1e-3)(60000.0) == "60" and tick_formatter("en", "int")(1234.6) == "1,235"
    assert fmt(float("nan"), "pct", "nb") == "–"
    with pytest.raises(ValueError):
        tick_formatter("nb", "furlongs")
