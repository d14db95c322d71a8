"""Every word a figure shows, in English (``en``) and Norwegian bokmål (``nb``): one table.

:data:`LABELS` maps a key to its text per language. Keys are metric columns (``share_gps``), actor
types (``gp_office``), recruitment orders, axis and title texts, and may be any other name a figure
shows: a dotted parameter key (``gp.bass_q_per_year``) or a scenario name can be given a display
name here, and every figure that shows that name picks it up through :func:`label` (a name without
an entry is shown as it is, or by the figure's own fallback). Both languages must have the same
keys (a test checks it). :func:`fmt` writes a number the way figures and the report do.
"""

from __future__ import annotations

import math
import re

from sim.config import ConfigError

LANGS = ("en", "nb")
"""The languages of figure labels and reports."""

LABELS: dict[str, dict[str, str]] = {
    "en": {
        # run figures
        "month": "Month", "share": "Share adopted", "hospital": "Hospitals", "municipality": "Municipalities",
        "gp_office": "GP offices", "gp": "GPs", "adoption_title": "Adoption by actor type",
        "one_record_coverage": "One-record coverage", "information_available": "Information available",
        "handover_same_record": "Hand-overs in the same record",
        "coverage_title": "Information sharing over time", "share_gps": "GP uptake (share of GPs)",
        "share_gp_offices": "GP uptake (share of GP offices)", "share_list_patients": "GP uptake (share of list patients)",
        "gain_realized": "Gain realized (share of full gain)", "gain_title": "Gain against GP uptake",
        "median_band": "median, band 5-95% over seeds", "compare_title": "Scenarios compared", "scenario": "Scenario",
        "share_0_1": "Share (0-1)",
        # economics
        "nok_per_inhabitant": "Net cost (NOK per inhabitant per year)", "municipalities_sorted": "Municipalities, sorted",
        "cost_title": "Net cost per inhabitant, {year}", "pays": "Pays", "gains": "Gains", "net": "Net",
        "by_municipality_title": "{what}, sorted by the first scenario", "expected_bill": "Expected bill if it joins",
        "run_bill": "Net cost over its years live (median over runs)",
        "breakeven_x": "Break-even licence price (NOK per GP per year)", "breakeven_title": "Break-even licence price per GP office",
        "licence_in_scenario": "licence in the scenario",
        "baseline": "Baseline (715 m as a grant)", "grant_as_loan": "715 m as a loan", "ks_proposal": "KS's proposal (state pays half)",
        "state_finances_half": "State pays half", "state_finances_all": "State pays all", "floor_key": "Per-inhabitant key with a floor",
        "who_title": "Who pays, who gains (NPV, NOK million)", "nok_million": "NOK million (NPV)",
        "state": "State", "region_trusts": "Region and trusts", "municipalities": "Municipalities",
        "gps": "GPs", "patients": "Patients", "net_title": "Net present value by actor",
        "nok_per_inhabitant_median_municipality": "Net cost, median municipality (NOK per inhabitant)",
        # uptake curve
        "uptake_x": "GP uptake (share of GPs on the platform)", "uptake_title": "By recruitment order",
        "random": "random", "largest_first": "largest lists first", "most_connected_first": "most connected first",
        "by_municipality": "by municipality",
        # GP office's choice (#19)
        "break_even_x": "Break-even licence price (kNOK per GP per year)", "share_gps_cum": "Share of GPs (cumulative)",
        "break_even_title": "Licence price at which joining pays for the office",
        "licence_knok": "Licence price (kNOK per GP per year)", "subsidy_knok": "Subsidy (kNOK per GP per year)",
        "levers_title": "GP uptake over price and subsidy",
        # sensitivity
        "sobol": "Sobol total index ST", "morris": "Morris mu* (change over the whole range)",
        "sobol_method": "Sobol", "morris_method": "Morris elementary effects",
        "drivers_title": "Top drivers", "heat_mean": "mean over seeds", "end": "end of horizon",
        "st_total": "ST (total)", "s1_first": "S1 (first order)", "sobol_ci": "Sobol index (95% CI)",
        "mu_star_x": "mu* (change over the range)", "sigma": "sigma",
        "at_low": "parameter at low bound", "at_high": "parameter at high bound",
        "tornado_x": "output (base scenario: {base})", "dummy": "{name} (dummy)",
        "profile_min_max": "min-max over seeds", "profile_p10_p90": "10-90% over seeds", "profile_mean": "mean over seeds",
        "profile_base": "base value",
        "prim_title": "PRIM trajectory: {target}", "coverage": "coverage", "density": "density",
        "chosen_box": "chosen box", "restricted_levers": "restricted levers",
        "share_of_range": "share of the sampled range", "box_title": "Chosen box (blue: restricted)",
        # calibration
        "n_municipalities_live": "Municipalities live", "share_residents_municipalities_live": "Share of residents live",
        "n_gp_offices_live": "GP offices live", "n_municipalities_decided": "Municipalities decided (option)",
        "band_90": "90% band", "band_50": "50% band", "median": "median", "observed": "observed",
        "observed_lower": "observed (lower bound)",
        "fit_title": "Calibration: posterior predictive bands (50%, 90%) against the 2020-2023 history",
        "forecast_title": "Calibrated model: forecast with 50% and 90% bands (posterior draws x seeds)",
        # validation
        "bass_x": "Years since the platform was offered", "bass_y": "Cumulative share of GPs adopted",
        "simulated_mean": "simulated mean ({n} seeds)", "bass_cdf": "Bass closed form F(t)",
        "bass_title": "Bass special case (beta_u = 0, complete peer graph)",
    },
    "nb": {
        "month": "Måned", "share": "Andel som har tatt i bruk", "hospital": "Sykehus", "municipality": "Kommuner",
        "gp_office": "Fastlegekontor", "gp": "Fastleger", "adoption_title": "Innføring etter aktørtype",
        "one_record_coverage": "Én-journal-dekning", "information_available": "Tilgjengelig informasjon",
        "handover_same_record": "Overføringer i samme journal",
        "coverage_title": "Informasjonsdeling over tid", "share_gps": "Fastlegeoppslutning (andel fastleger)",
        "share_gp_offices": "Fastlegeoppslutning (andel legekontor)",
        "share_list_patients": "Fastlegeoppslutning (andel listepasienter)",
        "gain_realized": "Realisert gevinst (andel av full gevinst)", "gain_title": "Gevinst mot fastlegeoppslutning",
        "median_band": "median, bånd 5-95 % over frø", "compare_title": "Scenarioer sammenlignet", "scenario": "Scenario",
        "share_0_1": "Andel (0-1)",
        "nok_per_inhabitant": "Nettokostnad (kr per innbygger per år)", "municipalities_sorted": "Kommuner, sortert",
        "cost_title": "Nettokostnad per innbygger, {year}", "pays": "Betaler", "gains": "Gevinst", "net": "Netto",
        "by_municipality_title": "{what}, sortert etter første scenario", "expected_bill": "Forventet regning ved innføring",
        "run_bill": "Nettokostnad over årene i bruk (median over kjøringer)",
        "breakeven_x": "Lisenspris som går i null (kr per lege per år)", "breakeven_title": "Lisenspris som går i null, per fastlegekontor",
        "licence_in_scenario": "lisens i scenarioet",
        "baseline": "Grunnlag (715 mill. som tilskudd)", "grant_as_loan": "715 mill. som lån", "ks_proposal": "KS' forslag (staten betaler halvparten)",
        "state_finances_half": "Staten betaler halvparten", "state_finances_all": "Staten betaler alt", "floor_key": "Innbyggernøkkel med gulv",
        "who_title": "Hvem betaler, hvem vinner (nåverdi, mill. kr)", "nok_million": "Mill. kr (nåverdi)",
        "state": "Staten", "region_trusts": "Region og helseforetak", "municipalities": "Kommunene",
        "gps": "Fastlegene", "patients": "Pasientene", "net_title": "Netto nåverdi per aktør",
        "nok_per_inhabitant_median_municipality": "Nettokostnad, mediankommunen (kr per innbygger)",
        "uptake_x": "Fastlegeoppslutning (andel fastleger på plattformen)", "uptake_title": "Etter rekrutteringsrekkefølge",
        "random": "tilfeldig", "largest_first": "største lister først", "most_connected_first": "mest tilknyttet først",
        "by_municipality": "kommunevis",
        # fastlegekontorets valg (#19)
        "break_even_x": "Lisenspris der innføring lønner seg (tusen kr per fastlege per år)",
        "share_gps_cum": "Andel fastleger (kumulativ)", "break_even_title": "Lisenspris der innføring lønner seg for kontoret",
        "licence_knok": "Lisenspris (tusen kr per fastlege per år)", "subsidy_knok": "Tilskudd (tusen kr per fastlege per år)",
        "levers_title": "Fastlegeoppslutning etter pris og tilskudd",
        "sobol": "Sobol totalindeks ST", "morris": "Morris mu* (endring over hele intervallet)",
        "sobol_method": "Sobol", "morris_method": "Morris elementæreffekter",
        "drivers_title": "Viktigste drivere", "heat_mean": "snitt over frø", "end": "slutten av perioden",
        "st_total": "ST (total)", "s1_first": "S1 (første orden)", "sobol_ci": "Sobol-indeks (95 % KI)",
        "mu_star_x": "mu* (endring over intervallet)", "sigma": "sigma",
        "at_low": "parameter på nedre grense", "at_high": "parameter på øvre grense",
        "tornado_x": "utfall (basisscenario: {base})", "dummy": "{name} (blindparameter)",
        "profile_min_max": "min-maks over frø", "profile_p10_p90": "10-90 % over frø", "profile_mean": "gjennomsnitt over frø",
        "profile_base": "basisverdi",
        "prim_title": "PRIM-bane: {target}", "coverage": "dekning", "density": "tetthet",
        "chosen_box": "valgt boks", "restricted_levers": "begrensede virkemidler",
        "share_of_range": "andel av utvalgsintervallet", "box_title": "Valgt boks (blå: begrenset)",
        "n_municipalities_live": "Kommuner i drift", "share_residents_municipalities_live": "Andel innbyggere i drift",
        "n_gp_offices_live": "Fastlegekontor i drift", "n_municipalities_decided": "Kommuner som har bestemt seg (opsjon)",
        "band_90": "90 %-bånd", "band_50": "50 %-bånd", "median": "median", "observed": "observert",
        "observed_lower": "observert (nedre grense)",
        "fit_title": "Kalibrering: prediktive bånd (50 %, 90 %) mot historikken 2020-2023",
        "forecast_title": "Kalibrert modell: framskriving med 50 %- og 90 %-bånd (posteriortrekk x frø)",
        "bass_x": "År siden plattformen ble tilbudt", "bass_y": "Kumulativ andel fastleger",
        "simulated_mean": "simulert gjennomsnitt ({n} frø)", "bass_cdf": "Bass lukket form F(t)",
        "bass_title": "Bass-spesialtilfellet (beta_u = 0, komplett nettverk)",
    },
}


def check_lang(lang: str) -> str:
    """``lang`` if it is a figure language (nb | en), else ConfigError (the CLI's one line)."""
    if lang not in LANGS:
        raise ConfigError(f"--lang: must be nb or en, got {lang!r}")
    return lang


def label(key: str, lang: str = "en", default: str | None = None, **fields) -> str:
    """The text of ``key`` in ``lang`` (nb | en), its ``{fields}`` filled; ``default`` (else the key
    itself) when the table has none."""
    text = LABELS[check_lang(lang)].get(key)
    if text is None:
        return key if default is None else default
    return text.format(**fields) if fields else text


def output_label(column: str, lang: str, when: bool = True) -> str:
    """A summary column's display name: ``share_gps_2030`` -> "GP uptake (share of GPs), 2030", ``_end`` ->
    "..., end of horizon"; ``when=False`` leaves the year out."""
    m = re.fullmatch(r"(.+)_(\d{4}|end)", column)
    base, suffix = (m.group(1), m.group(2)) if m else (column, "")
    suffix = label(suffix, lang) if suffix == "end" else suffix
    return f"{label(base, lang)}, {suffix}" if suffix and when else label(base, lang)


def fmt(v: float, kind: str, lang: str) -> str:
    """A number as the report writes it: ``pct`` (a share as per cent, one decimal), ``pct0`` (whole per
    cent), ``pp`` (a difference of shares in percentage points), ``nok`` (whole kroner), ``mnok`` (NOK
    million, whole), ``idx`` (two decimals), ``int``, ``num`` (whole numbers whole, else three significant
    digits). nb: decimal comma and a space between thousands; NaN is a dash."""
    if v is None or math.isnan(float(v)):
        return "–"
    v = float(v)
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    scale = {"pct": 100, "pct0": 100, "pp": 100, "mnok": 1e-6}.get(kind, 1)
    spec = {"pct": ",.1f", "pct0": ",.0f", "pp": ",.1f", "nok": ",.0f", "mnok": ",.0f", "idx": ",.2f",
            "int": ",.0f", "num": ",.0f" if v.is_integer() else ",.3g"}.get(kind)
    if spec is None:
        raise ValueError(f"unknown number kind {kind!r}")
    s = format(v * scale, spec)
    s = s.lstrip("-") if float(s.replace(",", "")) == 0 else s  # no "-0.0"
    if lang == "nb":
        s = s.replace(",", "\u00a0").replace(".", ",")
    unit = {"en": {"pct": "%", "pct0": "%", "pp": " pp"}, "nb": {"pct": " %", "pct0": " %", "pp": " prosentpoeng"}}
    return s + unit[lang].get(kind, "")
