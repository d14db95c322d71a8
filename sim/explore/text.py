"""The explorer's words in Norwegian (bokmål) and English.

Figure words come from the figures' own table (:func:`sim.plots.label`), so a view and a saved
figure say the same thing; this table holds only what the page adds (controls, panels, and lever
names until the figures' table has display names for those parameters).
"""

from __future__ import annotations

from sim.plots.labels import LABELS, label

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "onerecord explorer", "levers": "Levers", "views": "Views", "base": "Base scenario",
        "seeds": "Seeds", "language": "Language", "municipality_pick": "Municipality",
        "running": "Running {n} seeds…", "ready": "{n} seeds, {seconds} s", "against_base": "dashed: base scenario, same seeds",
        "gp_uptake": "GP uptake {year}", "gain": "Gain realized {year}", "coverage": "One-record coverage {year}",
        "bill": "{name}: net cost {year}", "per_inhabitant": "NOK per inhabitant",
        "base_value": "base {value}", "command": "Command that reproduces this view", "download": "Download tables (zip)",
        "download_sheet": "Council sheet, {name} (every financing scenario)",
        "invalid": "Not run, the last good result is shown", "view_adoption": "Adoption",
        "view_gain": "Gain and coverage", "view_bill": "Municipal bill", "view_who": "Who pays, who gains",
        "view_gp": "GP office business case", "band_seeds": "lines: median; bands: 5–95% over {n} seeds (seed noise only)",
        "band_draws": "lines: median; bands: 5–95% over {n} seeds × {k} parameter draws",
        "bill_ranked": "All municipalities, {year}, ranked", "bill_years": "{name} by year",
        "gp_net": "Net NOK per GP per year (all offices)", "gp_offices": "GP offices",
        "gp_median_net": "median net NOK per GP per year", "gp_share_positive": "offices that gain",
        "gp_payback": "median payback of joined offices (years)", "gp_joined": "offices joined",
        "scenario_col": "this setting", "base_col": "base", "actor": "Actor",
        "uptake_curve": "static curve, order: {order}", "trajectory": "{what}, months (median over seeds)",
        "gp_price.licence_nok_per_gp_year": "GP licence price", "agreement.subsidy_nok_per_gp_year": "GP subsidy",
        "agreement.start_month": "Agreement start", "financing.state_share": "State share",
        "financing.regional_share": "Regional share", "financing.allocation_key": "Allocation key",
        "functionality.improvement_per_release": "Functionality improvement per release",
        "functionality.golive_shock": "Go-live shock", "explore.recruitment_order": "Recruitment order (uptake curve)",
        "per_inhabitant_floor": "per inhabitant, with floor", "per_inhabitant": "per inhabitant", "per_user": "per user",
        "mix": "mix", "this_setting": "this setting", "base_scenario": "base",
    },
    "nb": {
        "title": "onerecord-utforsker", "levers": "Spaker", "views": "Visninger", "base": "Grunnscenario",
        "seeds": "Frø (replikater)", "language": "Språk", "municipality_pick": "Kommune",
        "running": "Kjører {n} replikater …", "ready": "{n} replikater, {seconds} s",
        "against_base": "stiplet: grunnscenario, samme frø",
        "gp_uptake": "Fastlegeoppslutning {year}", "gain": "Realisert gevinst {year}",
        "coverage": "Én-journal-dekning {year}", "bill": "{name}: nettokostnad {year}", "per_inhabitant": "kr per innbygger",
        "base_value": "grunnscenario {value}", "command": "Kommando som gjenskaper visningen",
        "download": "Last ned tabeller (zip)",
        "download_sheet": "Ark for kommunestyret, {name} (alle finansieringsscenarioer)", "invalid": "Ikke kjørt, siste gyldige resultat vises",
        "view_adoption": "Innføring", "view_gain": "Gevinst og dekning", "view_bill": "Kommunens regning",
        "view_who": "Hvem betaler, hvem vinner", "view_gp": "Fastlegekontorets regnestykke",
        "band_seeds": "linjer: median; bånd: 5–95 % over {n} replikater (bare tilfeldig variasjon)",
        "band_draws": "linjer: median; bånd: 5–95 % over {n} replikater × {k} parametertrekk",
        "bill_ranked": "Alle kommuner, {year}, rangert", "bill_years": "{name} per år",
        "gp_net": "Netto kr per fastlege per år (alle kontor)", "gp_offices": "Fastlegekontor",
        "gp_median_net": "median netto kr per fastlege per år", "gp_share_positive": "kontor som tjener på det",
        "gp_payback": "median tilbakebetalingstid for kontor som har gått over (år)", "gp_joined": "kontor som har gått over",
        "scenario_col": "denne innstillingen", "base_col": "grunnscenario", "actor": "Aktør",
        "uptake_curve": "statisk kurve, rekkefølge: {order}", "trajectory": "{what}, måneder (median over replikater)",
        "gp_price.licence_nok_per_gp_year": "Lisenspris per fastlege", "agreement.subsidy_nok_per_gp_year": "Tilskudd per fastlege",
        "agreement.start_month": "Avtalestart", "financing.state_share": "Statens andel",
        "financing.regional_share": "Regionens andel", "financing.allocation_key": "Fordelingsnøkkel",
        "functionality.improvement_per_release": "Bedre funksjonalitet per versjon",
        "functionality.golive_shock": "Fall i funksjonalitet ved oppstart",
        "explore.recruitment_order": "Rekrutteringsrekkefølge (oppslutningskurve)",
        "per_inhabitant_floor": "per innbygger, med gulv", "per_inhabitant": "per innbygger", "per_user": "per bruker",
        "mix": "blanding", "this_setting": "denne innstillingen", "base_scenario": "grunnscenario",
    },
}


def t(key: str, lang: str = "en", **fmt) -> str:
    """The page's word for ``key`` in ``lang``, else the figures' label (:data:`sim.plots.labels.LABELS`,
    which also wins for a parameter key it has a display name for), formatted with ``fmt``."""
    own = TEXT[lang].get(key) if lang in TEXT else None
    if own is None or ("." in key and key in LABELS[lang]):  # a parameter's display name there wins
        return label(key, lang, **fmt)
    return own.format(**fmt)
