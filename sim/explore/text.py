"""The explorer's words in Norwegian (bokmål) and English.

Figure words and every display name (levers, scenarios, setting values) come from the one table,
:mod:`sim.plots.labels`, so a view and a saved figure say the same thing; this table holds only
what the page adds (controls, panels, captions).
"""

from __future__ import annotations

from sim.plots.labels import LABELS, display_name, label

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "onerecord explorer", "levers": "Levers", "views": "Views", "base": "Base scenario",
        "seeds": "Replicates", "language": "Language", "municipality_pick": "Municipality",
        "running": "Running {n} replicates…", "ready": "{n} replicates, {seconds} s", "against_base": "dashed: base scenario, same random draws",
        "gp_uptake": "GP uptake {year}", "gain": "Gain realized {year}", "coverage": "One-record coverage {year}",
        "bill": "{name}: net cost {year}",
        "base_value": "base {value}", "command": "Command that reproduces this view", "download": "Download tables (zip)",
        "download_sheet": "Council sheet, {name} (every financing scenario)",
        "invalid": "Not run, the last good result is shown", "view_adoption": "Adoption",
        "view_gain": "Gain and coverage", "view_bill": "Municipal bill", "view_who": "Who pays, who gains",
        "view_gp": "GP office business case", "band_seeds": "lines: median; bands: 5–95% over {n} replicates (random variation only)",
        "band_draws": "lines: median; bands: 5–95% over {n} replicates × {k} parameter draws",
        "bill_ranked": "All municipalities, {year}, ranked", "bill_years": "{name} by year",
        "gp_net": "Net NOK per GP per year (all offices)", "gp_offices": "GP offices",
        "gp_median_net": "median net NOK per GP per year", "gp_share_positive": "offices that gain",
        "gp_payback": "median payback of joined offices (years)", "gp_joined": "offices joined",
        "scenario_col": "this setting", "base_col": "base", "actor": "Actor",
        "uptake_curve": "static curve, order: {order}", "trajectory": "{what}, months (median over replicates)",
        "this_setting": "this setting", "base_scenario": "base",
    },
    "nb": {
        "title": "onerecord-utforsker", "levers": "Spaker", "views": "Visninger", "base": "Grunnscenario",
        "seeds": "Replikater", "language": "Språk", "municipality_pick": "Kommune",
        "running": "Kjører {n} replikater …", "ready": "{n} replikater, {seconds} s",
        "against_base": "stiplet: grunnscenario, samme tilfeldige utfall",
        "gp_uptake": "Fastlegeoppslutning {year}", "gain": "Realisert gevinst {year}",
        "coverage": "Én-journal-dekning {year}", "bill": "{name}: nettokostnad {year}",
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
        "this_setting": "denne innstillingen", "base_scenario": "grunnscenario",
    },
}


def t(key: str, lang: str = "en", **fmt) -> str:
    """The page's word for ``key`` in ``lang``, else the figures' word or display name
    (:func:`sim.plots.labels.display_name`), formatted with ``fmt``."""
    own = TEXT[lang].get(key) if lang in TEXT else None
    if own is None:
        return label(key, lang, **fmt) if key in LABELS[lang] else display_name(key, lang)
    return own.format(**fmt)
