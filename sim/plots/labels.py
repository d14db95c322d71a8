"""Every name and word a reader sees, in English (``en``) and Norwegian bokmål (``nb``), and how numbers
are written: the one table of display names and the one number formatter.

* Display names (:func:`display_name`): scenarios (:data:`SCENARIOS`), parameters, i.e. every uncertain
  input and lever of :mod:`sim.config` (:data:`PARAMETERS`), summary outputs and monitored series
  (:data:`OUTPUTS`), cost components and actors (:data:`COMPONENTS`), values of categorical settings
  (:data:`VALUES`), and the council sheet's columns (:data:`COLUMNS`, read by :mod:`sim.sheets`). Each
  entry is ``key: (English, Norwegian)``, so no name exists in one language only. The age band of a
  table parameter (``network.gp_consultations_per_person_year.80-89``), the year of a summary output
  (``share_gps_2030``) and the dummy prefix are handled; a raw key is shown only for a key no table
  has (tests check that every scenario, parameter and output has a name).
* Figure words (:data:`WORDS`): axis, title and legend texts. :data:`LABELS` is every word and name per
  language, read by :func:`label`.
* Numbers (:func:`fmt`, :func:`number`, :func:`tick_formatter`): ``nb`` writes a decimal comma, a narrow
  no-break space (U+202F, :data:`THOUSANDS_NB`) between thousands and before the per cent sign
  ("12 %"); ``en`` writes "1,234.5" and "12%". Locale-independent (no ``setlocale``).
"""

from __future__ import annotations

import math
import re

from sim.config import DUMMY_PREFIX, ConfigError

LANGS = ("en", "nb")
"""The languages of figure labels and reports."""

THOUSANDS_NB = "\u202f"
"""The Norwegian thousands separator (narrow no-break space), used in every figure and report."""

MINUS = "\u2212"
"""The minus sign Norwegian numbers take (nb); English keeps the hyphen-minus."""

PERCENT_SPACE_NB = THOUSANDS_NB
"""The space between a Norwegian number and its per cent sign or unit word: the same narrow no-break space."""


SCENARIOS: dict[str, tuple[str, str]] = {
    "baseline": ("Baseline", "Basis"),
    "calibrated": ("Calibrated base", "Kalibrert basis"),
    "gp_agreement": ("GP agreement", "Fastlegeavtale"),
    "gp_price_half": ("Licence halved", "Halvert lisens"),
    "functionality_fixed": ("Functionality fixed", "Funksjonalitet rettet"),
    "gp_all_levers": ("All GP levers", "Alle fastlegetiltak"),
    "no_gp_network_benefit": ("No network benefit", "Ingen nettverksgevinst"),
    "state_finances_half": ("State pays half", "Staten betaler halvparten"),
    "state_finances_all": ("State pays all", "Staten betaler alt"),
    "floor_key": ("Key with floor", "Nøkkel med gulv"),
    "ks_proposal": ("KS proposal", "KS' forslag"),
    "grant_as_loan": ("715 m as a loan", "715 mill. som lån"),
    "norway": ("All of Norway", "Hele Norge"),
}
"""Scenario name (``scenario`` in its config) -> display name."""

PARAMETERS: dict[str, tuple[str, str]] = {
    # region
    "region.gp_list_mean_persons": ("GP list length", "Listelengde per fastlege"),
    "region.share_gps_salaried": ("Share of GPs salaried", "Andel fastlønte fastleger"),
    # functionality
    "functionality.initial": ("Initial functionality", "Funksjonalitet ved start"),
    "functionality.improvement_per_release": ("Improvement per release", "Forbedring per versjon"),
    "functionality.golive_shock": ("Go-live shock", "Fall ved oppstart"),
    "functionality.shock_recovery_months": ("Shock recovery (months)", "Tid til bedring etter fall (mnd.)"),
    # municipal decision
    "municipality.threshold_mean": ("Municipal threshold, mean", "Kommunal terskel, snitt"),
    "municipality.threshold_sd": ("Municipal threshold, spread", "Kommunal terskel, spredning"),
    "municipality.decision_noise": ("Decision noise", "Støy i beslutningen"),
    "municipality.weight_cost": ("Weight of cost", "Vekt på kostnad"),
    "municipality.weight_functionality": ("Weight of functionality", "Vekt på funksjonalitet"),
    "municipality.weight_peers": ("Weight of peers", "Vekt på nabokommuner"),
    "municipality.weight_gp": ("Weight of GP uptake", "Vekt på fastlegeoppslutning"),
    "municipality.budget_capacity_nok_per_inhabitant_year": ("Budget capacity (NOK/inhabitant)",
                                                             "Budsjettrom (kr per innbygger)"),
    "municipality.binding_threshold_offset": ("Binding-agreement margin", "Margin for bindende avtale"),
    "municipality.decline_margin": ("Decline margin", "Margin for å takke nei"),
    "municipality.postpone_margin": ("Postpone margin", "Margin for utsettelse"),
    "municipality.budget_capacity_log_sd": ("Budget capacity spread", "Spredning i budsjettrom"),
    "municipality.contract_end_spread_years": ("Contract ends spread (years)", "Spredning i avtaleslutt (år)"),
    "municipality.exit_enabled": ("Exit allowed", "Utmelding tillatt"),
    "municipality.exit_margin": ("Exit margin", "Margin for utmelding"),
    "municipality.switch_back_cost_nok_per_inhabitant": ("Switch-back cost (NOK/inhabitant)",
                                                         "Kostnad ved tilbakebytte (kr per innbygger)"),
    # GP choice
    "gp.bass_p_per_year": ("GP spontaneous choice rate (Bass p)", "Fastlegers spontane valgrate (Bass p)"),
    "gp.bass_q_per_year": ("GP peer choice rate (Bass q)", "Fastlegers kollegavalgrate (Bass q)"),
    "gp.window_choice_rate_per_year": ("Choice rate at contract end", "Valgrate ved avtaleslutt"),
    "gp.beta_u_per_knok": ("GP utility weight (beta_u)", "Fastlegers nyttevekt (beta_u)"),
    "gp.functionality_fit": ("Fit to general practice", "Tilpasning til allmennpraksis"),
    "gp.functionality_value_knok_per_gp_year": ("Value of functionality to GPs", "Verdi av funksjonalitet for fastleger"),
    "gp.risk_knok_per_gp_year_per_incident": ("Perceived risk per incident", "Opplevd risiko per hendelse"),
    "gp.risk_recovery_months": ("Risk recovery (months)", "Tid til risiko avtar (mnd.)"),
    "gp.peer_value_knok_per_gp_year": ("Value of peers on the platform", "Verdi av kolleger på plattformen"),
    "gp.contract_length_years": ("GP system contract length (years)", "Lengde på fastlegenes journalavtale (år)"),
    "gp.amortisation_years": ("GP amortisation (years)", "Avskrivningstid for fastleger (år)"),
    # GP price
    "gp_price.licence_nok_per_gp_year": ("GP licence price", "Lisenspris per fastlege"),
    "gp_price.implementation_oneoff_nok_per_gp": ("GP one-off implementation cost", "Engangskostnad per fastlege"),
    "gp_price.training_days_per_gp": ("GP training days", "Opplæringsdager per fastlege"),
    "gp_price.productivity_loss_share": ("GP productivity loss after go-live", "Fastlegers produktivitetstap etter oppstart"),
    "gp_price.productivity_loss_months": ("GP productivity loss (months)", "Fastlegers produktivitetstap (mnd.)"),
    "gp_price.current_ehr_cost_nok_per_gp_year": ("Current GP record cost", "Kostnad for dagens fastlegejournal"),
    "gp_price.consultations_per_gp_year": ("Consultations per GP", "Konsultasjoner per fastlege"),
    "gp_price.net_income_per_consultation_nok": ("GP net income per consultation", "Fastlegers nettoinntekt per konsultasjon"),
    "gp_price.hourly_value_nok": ("Value of a GP hour", "Verdi av en legetime"),
    "gp_price.integration_nok_per_gp_year": ("Integration cost per GP", "Integrasjonskostnad per fastlege"),
    "gp_price.integration_information_share": ("Information with integration", "Informasjon ved integrasjon"),
    # agreement and financing
    "agreement.subsidy_nok_per_gp_year": ("GP subsidy", "Tilskudd per fastlege"),
    "agreement.start_month": ("Agreement start", "Avtalestart"),
    "financing.state_share": ("State share", "Statens andel"),
    "financing.regional_share": ("Regional share", "Regionens andel"),
    "financing.state_grant_nok": ("State grant", "Statlig tilskudd"),
    "financing.allocation_key": ("Allocation key", "Fordelingsnøkkel"),
    "financing.floor_nok_per_municipality_year": ("Floor per municipality", "Gulv per kommune"),
    "financing.mix_weight_inhabitant": ("Key mix: weight on inhabitants", "Nøkkelmiks: vekt på innbyggere"),
    "financing.fixed_part_share": ("Fixed part of the fee", "Fast del av avgiften"),
    "financing.grant_mode": ("Grant or loan", "Tilskudd eller lån"),
    "financing.loan_years": ("Loan period (years)", "Nedbetalingstid (år)"),
    "financing.loan_rate": ("Loan interest rate", "Lånerente"),
    "financing.gp_licence_credit": ("Who GP licence income credits", "Hvem fastlegelisensen godskrives"),
    "financing.state_share_local": ("State share of local one-off", "Statens andel av lokale engangskostnader"),
    # economics
    "economics.investment_nok": ("Platform investment", "Investering i plattformen"),
    "economics.operating_nok_per_year": ("Platform operating cost", "Driftskostnad for plattformen"),
    "economics.non_hospital_share": ("Municipal part of the cost", "Kommunenes del av kostnaden"),
    "economics.discount_rate": ("Discount rate", "Diskonteringsrente"),
    "economics.nurse_hourly_cost_nok": ("Nurse hourly cost", "Timekostnad sykepleier"),
    "economics.physician_hourly_cost_nok": ("Physician hourly cost", "Timekostnad lege"),
    "economics.adverse_event_extra_bed_days": ("Extra bed-days per adverse event", "Ekstra liggedøgn per uønsket hendelse"),
    "economics.hospital_cost_per_bed_day_nok": ("Cost per bed-day", "Kostnad per liggedøgn"),
    "economics.daly_per_adverse_event": ("DALY per adverse event", "DALY per uønsket hendelse"),
    "economics.value_nok_per_daly": ("Value of a DALY", "Verdi av et DALY"),
    "economics.imaging_cost_nok_per_exam": ("Cost per imaging exam", "Kostnad per bildeundersøkelse"),
    "economics.unsent_letters_per_week_per_100k_residents": ("Unsent letters after go-live",
                                                             "Brev som ikke ble sendt etter oppstart"),
    "economics.unsent_letters_weeks": ("Weeks of unsent letters", "Uker med brev som ikke ble sendt"),
    "economics.users_per_inhabitant_municipal": ("Municipal users per inhabitant", "Kommunale brukere per innbygger"),
    "economics.investment_annualisation_years": ("Investment annualisation (years)", "Annuitetstid for investeringen (år)"),
    # municipal bill
    "bill.project_fte_base": ("Project staff, base", "Prosjektstab, grunnbemanning"),
    "bill.project_fte_per_1000_users": ("Project staff per 1,000 users", "Prosjektstab per 1000 brukere"),
    "bill.project_months": ("Project length (months)", "Prosjektlengde (mnd.)"),
    "bill.superuser_share": ("Share of super-users", "Andel superbrukere"),
    "bill.superuser_hours": ("Hours per super-user", "Timer per superbruker"),
    "bill.training_hours_per_user": ("Training hours per user", "Opplæringstimer per bruker"),
    "bill.migration_nok_per_municipality": ("Data migration cost", "Kostnad for datakonvertering"),
    "bill.integrations_nok_per_municipality": ("Local integrations cost", "Kostnad for lokale integrasjoner"),
    "bill.equipment_nok_per_user": ("Equipment per user", "Utstyr per bruker"),
    "bill.productivity_dip_share": ("Productivity dip", "Produktivitetsfall"),
    "bill.productivity_dip_months": ("Productivity dip (months)", "Produktivitetsfall (mnd.)"),
    "bill.local_running_fte_base": ("Local running staff, base", "Lokal drift, grunnbemanning"),
    "bill.local_running_fte_per_1000_users": ("Local running staff per 1,000 users", "Lokal drift per 1000 brukere"),
    "bill.legacy_nok_per_municipality_year": ("Old record contract, fixed part", "Gammel journalavtale, fast del"),
    "bill.legacy_nok_per_user_year": ("Old record contract per user", "Gammel journalavtale per bruker"),
    "bill.legacy_overlap_months": ("Old contract overlap (months)", "Overlapp med gammel avtale (mnd.)"),
    "bill.appraisal_years": ("Appraisal period (years)", "Vurderingsperiode (år)"),
    "bill.hospital_replaced_nok_per_inhabitant_year": ("Hospital systems replaced (NOK/inhabitant)",
                                                       "Erstattede sykehussystemer (kr per innbygger)"),
    # network: contact rates by age band (one parameter per band in designs)
    "network.gp_consultations_per_person_year": ("GP consultations per person", "Fastlegekonsultasjoner per person"),
    "network.legevakt_contacts_per_person_year": ("Out-of-hours contacts per person", "Legevaktkontakter per person"),
    "network.inpatient_stays_per_person_year": ("Inpatient stays per person", "Innleggelser per person"),
    "network.outpatient_consultations_per_person_year": ("Outpatient visits per person", "Polikliniske konsultasjoner per person"),
    "network.share_receiving_home_care": ("Share receiving home care", "Andel med hjemmetjenester"),
    "network.share_long_term_nursing_home": ("Share in nursing homes", "Andel i langtidsopphold på sykehjem"),
    "network.specialist_consultations_per_person_year": ("Specialist visits per person", "Avtalespesialistkonsultasjoner per person"),
    "network.specialist_adoption_share": ("Specialists on the platform", "Avtalespesialister på plattformen"),
    "network.message_channel_information_share": ("Information a message carries", "Informasjon i en melding"),
    "network.message_channel_mean_delay_days": ("Message delay (days)", "Forsinkelse i meldinger (dager)"),
    "network.message_delay_information_loss_per_day": ("Information lost per day of delay", "Informasjonstap per dags forsinkelse"),
    "network.share_handovers_missing_information": ("Hand-overs missing information", "Overføringer med manglende informasjon"),
    "network.search_minutes_per_missing_information_event": ("Search minutes per missing item", "Letetid per manglende opplysning"),
    "network.share_hospital_stays_with_adverse_event": ("Stays with an adverse event", "Opphold med uønsket hendelse"),
    "network.share_adverse_events_preventable": ("Adverse events preventable", "Forebyggbare uønskede hendelser"),
    "network.share_preventable_adverse_events_from_communication": ("Preventable events from missing information",
                                                                    "Forebyggbare hendelser fra manglende informasjon"),
    "network.share_missing_information_outside_own_system": ("Missing information held elsewhere",
                                                             "Manglende informasjon som ligger hos andre"),
    "network.care_messages_per_resident_year": ("Care messages per resident", "Pleie- og omsorgsmeldinger per innbygger"),
    "network.hospital_patients_per_resident_year": ("Hospital patients per resident", "Sykehuspasienter per innbygger"),
    "network.referrals_per_hospital_patient_year": ("Referrals per hospital patient", "Henvisninger per sykehuspasient"),
    "network.referrals_per_specialist_patient_year": ("Referrals per specialist patient", "Henvisninger per spesialistpasient"),
    "network.imaging_exams_per_person_year": ("Imaging exams per person", "Bildeundersøkelser per person"),
    "network.share_images_repeated": ("Imaging exams repeated", "Gjentatte bildeundersøkelser"),
    "network.repeat_imaging_reduction_shared_record": ("Fewer repeats with a shared record", "Færre gjentak med felles journal"),
    **{f"network.national_services.{s}.{k}": (f"{en}: {ek}", f"{nb}: {nk}")
       for s, en, nb in (("kjernejournal", "Summary care record", "Kjernejournal"),
                         ("document_sharing", "Document sharing", "Dokumentdeling"),
                         ("medication_list", "Medication list", "Pasientens legemiddelliste"))
       for k, ek, nk in (("information_share", "information share", "informasjonsandel"), ("reach", "reach", "dekning"),
                         ("in_use_from", "in use from", "i bruk fra"), ("ramp_months", "ramp-up (months)", "opptrapping (mnd.)"))},
    # settings of sweeps and the explorer that are not schema parameters
    "explore.recruitment_order": ("Recruitment order (uptake curve)", "Rekrutteringsrekkefølge (oppslutningskurve)"),
}
"""Dotted parameter key -> display name (every uncertain input and lever of :mod:`sim.config`; a test checks)."""

OUTPUTS: dict[str, tuple[str, str]] = {
    "functionality": ("Perceived functionality", "Opplevd funksjonalitet"),
    "n_gp_offices_live": ("GP offices live", "Fastlegekontor i drift"),
    "n_gps_live": ("GPs live", "Fastleger i drift"),
    "share_gp_offices": ("GP uptake (share of GP offices)", "Fastlegeoppslutning (andel legekontor)"),
    "share_gps": ("GP uptake (share of GPs)", "Fastlegeoppslutning (andel fastleger)"),
    "share_list_patients": ("GP uptake (share of list patients)", "Fastlegeoppslutning (andel listepasienter)"),
    "share_gps_integrated": ("Share of GPs integrated", "Andel fastleger med integrasjon"),
    "n_municipalities_decided": ("Municipalities decided (option)", "Kommuner som har bestemt seg (opsjon)"),
    "n_municipalities_bound": ("Municipalities bound", "Kommuner med bindende avtale"),
    "n_municipalities_deferred": ("Municipalities deferring", "Kommuner som venter"),
    "n_municipalities_declined": ("Municipalities declined", "Kommuner som har takket nei"),
    "n_municipalities_exited": ("Municipalities exited", "Kommuner som har meldt seg ut"),
    "n_municipalities_live": ("Municipalities live", "Kommuner i drift"),
    "share_municipalities_live": ("Share of municipalities live", "Andel kommuner i drift"),
    "share_residents_municipalities_live": ("Share of residents live", "Andel innbyggere i drift"),
    "n_hospitals_live": ("Hospitals live", "Sykehus i drift"),
    "share_hospitals_live": ("Share of hospitals live", "Andel sykehus i drift"),
    "one_record_coverage": ("One-record coverage", "Én-journal-dekning"),
    "handover_same_record": ("Hand-overs in the same record", "Overføringer i samme journal"),
    "information_available": ("Information available", "Tilgjengelig informasjon"),
    "status_quo_information": ("Information without the platform", "Informasjon uten plattformen"),
    "gain_realized": ("Gain realized (share of full gain)", "Realisert gevinst (andel av full gevinst)"),
    "search_hours": ("Search hours", "Letetimer"),
    "search_hours_gp": ("Search hours, GPs", "Letetimer, fastleger"),
    "search_hours_municipal": ("Search hours, municipal care", "Letetimer, kommunale tjenester"),
    "search_hours_hospital": ("Search hours, hospitals", "Letetimer, sykehus"),
    "search_hours_specialist": ("Search hours, specialists", "Letetimer, avtalespesialister"),
    "search_nok": ("Search time (NOK)", "Letetid (kr)"),
    "repeat_imaging": ("Repeated imaging exams", "Gjentatte bildeundersøkelser"),
    "repeat_imaging_nok": ("Repeated imaging (NOK)", "Gjentatte bildeundersøkelser (kr)"),
    "adverse_events": ("Adverse events", "Uønskede hendelser"),
    "adverse_events_treatment_nok": ("Adverse events, treatment (NOK)", "Uønskede hendelser, behandling (kr)"),
    "adverse_events_daly": ("Adverse events (DALY)", "Uønskede hendelser (DALY)"),
    "adverse_events_health_nok": ("Adverse events, health lost (NOK)", "Uønskede hendelser, tapt helse (kr)"),
    "loss_nok": ("Loss from missing information (NOK)", "Tap fra manglende informasjon (kr)"),
    "loss_nok_gp": ("Loss, GPs (NOK)", "Tap, fastleger (kr)"),
    "loss_nok_municipal": ("Loss, municipal care (NOK)", "Tap, kommunale tjenester (kr)"),
    "loss_nok_hospital": ("Loss, hospitals (NOK)", "Tap, sykehus (kr)"),
    "loss_nok_specialist": ("Loss, specialists (NOK)", "Tap, avtalespesialister (kr)"),
    "loss_nok_patients": ("Loss, patients (NOK)", "Tap, pasienter (kr)"),
    "gain_nok": ("Gain (NOK)", "Gevinst (kr)"),
    "gain_nok_gp": ("Gain, GPs (NOK)", "Gevinst, fastleger (kr)"),
    "gain_nok_municipal": ("Gain, municipal care (NOK)", "Gevinst, kommunale tjenester (kr)"),
    "gain_nok_hospital": ("Gain, hospitals (NOK)", "Gevinst, sykehus (kr)"),
    "gain_nok_specialist": ("Gain, specialists (NOK)", "Gevinst, avtalespesialister (kr)"),
    "gain_nok_patients": ("Gain, patients (NOK)", "Gevinst, pasienter (kr)"),
    "harm_productivity_nok_hospital": ("Go-live harm, hospitals (NOK)", "Oppstartsskade, sykehus (kr)"),
    "harm_productivity_nok_municipal": ("Go-live harm, municipalities (NOK)", "Oppstartsskade, kommuner (kr)"),
    "harm_letters_unsent": ("Letters never sent", "Brev som aldri ble sendt"),
    "harm_letters_nok_gp": ("Unsent letters, GPs (NOK)", "Brev som ikke ble sendt, fastleger (kr)"),
    "harm_nok": ("Go-live harm (NOK)", "Oppstartsskade (kr)"),
    "net_benefit_nok": ("Net benefit (NOK)", "Netto nytte (kr)"),
    "nok_per_inhabitant_median_municipality": ("Net cost, median municipality (NOK per inhabitant)",
                                               "Nettokostnad, mediankommunen (kr per innbygger)"),
    "gp_payback_years_median": ("GP payback, median (years)", "Fastlegers tilbakebetalingstid, median (år)"),
    "npv_municipal_net_cost_nok": ("Municipal net cost, NPV (NOK)", "Kommunenes nettokostnad, nåverdi (kr)"),
}
"""Summary output (without its ``_<year>``/``_end`` suffix) or monitored series -> display name."""

COMPONENTS: dict[str, tuple[str, str]] = {
    # bill components (sim.economics.bill.BILL_COMPONENTS) and the net
    "platform_investment_nok": ("Platform investment share", "Investeringsandel Helseplattformen"),
    "platform_operating_nok": ("Platform operating fee", "Driftsavgift Helseplattformen"),
    "loan_repayment_nok": ("Loan repayment (grant scheme)", "Avdrag på lån (tilskuddsordningen)"),
    "project_staff_nok": ("Local project staff", "Lokal prosjektstab"),
    "super_users_nok": ("Super-users", "Superbrukere"),
    "training_backfill_nok": ("Training (backfill)", "Opplæring (vikardekning)"),
    "migration_nok": ("Data migration", "Datakonvertering"),
    "integrations_nok": ("Local integrations", "Lokale integrasjoner"),
    "equipment_nok": ("Equipment", "Utstyr"),
    "state_local_share_nok": ("State's share of the local one-off", "Statens andel av lokale engangskostnader"),
    "productivity_dip_nok": ("Productivity dip after go-live", "Produktivitetsfall etter innføring"),
    "local_running_nok": ("Local running cost", "Lokal drift"),
    "legacy_contract_saving_nok": ("Legacy record contract ended", "Avsluttet gammel journalavtale"),
    "gp_subsidy_nok": ("GP subsidy", "Tilskudd til fastleger"),
    "net_cost_nok": ("Net cost", "Netto kostnad"),
    # who pays, who gains: actor types (sim.economics.tables.ACTORS)
    "state": ("State", "Staten"),
    "region_trusts": ("Region and trusts", "Region og helseforetak"),
    "municipalities": ("Municipalities", "Kommunene"),
    "gps": ("GPs", "Fastlegene"),
    "patients": ("Patients", "Pasientene"),
}
"""Cost component or actor -> display name."""

COLUMNS: dict[str, tuple[str, str]] = {
    "scenario": ("Financing scenario", "Finansieringsscenario"), "component": ("Item", "Post"), "year": ("Year", "År"),
    "median_nok": ("Median (NOK)", "Median (kr)"), "p05_nok": ("5% (NOK)", "5 % (kr)"), "p95_nok": ("95% (NOK)", "95 % (kr)"),
    "samples": ("Runs", "Antall kjøringer"), "kommunenummer": ("Municipality number", "Kommunenummer"),
    "name": ("Municipality", "Kommune"), "population": ("Residents", "Innbyggere"),
    "golive_year": ("Go-live year (median)", "Innføringsår (median)"),
    "share_runs_live": ("Share of runs live", "Andel kjøringer i bruk"),
    "oneoff_nok": ("One-off (NOK, median)", "Engangskostnad (kr, median)"),
    "annual_net_nok": ("Net a year after go-live (NOK, median)", "Netto per år etter innføring (kr, median)"),
    "annual_net_nok_per_inhabitant": ("Net per resident a year (NOK, median)", "Netto per innbygger per år (kr, median)"),
    "npv_net_cost_nok": ("NPV net cost (NOK, median)", "Nåverdi netto kostnad (kr, median)"),
    "npv_p05_nok": ("NPV 5% (NOK)", "Nåverdi 5 % (kr)"), "npv_p95_nok": ("NPV 95% (NOK)", "Nåverdi 95 % (kr)"),
    "expected_nok_per_inhabitant": ("Expected net per resident a year (NOK)", "Forventet netto per innbygger per år (kr)"),
    "practice_idx": ("Office no.", "Kontor nr."), "n_gps": ("GPs", "Fastleger"), "list_patients": ("List patients", "Listepasienter"),
    "share_runs_joined": ("Share of runs joined", "Andel kjøringer med"),
    "net_nok_per_gp_year": ("Net per GP a year (NOK, median)", "Netto per lege per år (kr, median)"),
    "net_p05": ("Net 5% (NOK)", "Netto 5 % (kr)"), "net_p95": ("Net 95% (NOK)", "Netto 95 % (kr)"),
    "payback_years": ("Payback (years, median)", "Tilbakebetaling (år, median)"),
    "licence_nok_per_gp_year": ("Licence per GP a year (NOK)", "Lisens per lege per år (kr)"),
    "annualised_oneoff_nok_per_gp_year": ("One-off annualised (NOK)", "Engangskostnad annualisert (kr)"),
    "current_ehr_cost_nok_per_gp_year": ("Current record (NOK)", "Dagens journal (kr)"),
    "subsidy_nok_per_gp_year": ("Subsidy (NOK)", "Tilskudd (kr)"),
    "time_saved_nok_per_gp_year": ("Time saved (NOK)", "Spart tid (kr)"),
    "breakeven_licence_nok_per_gp_year": ("Break-even licence price (NOK per GP a year)",
                                          "Lisenspris som går i null (kr per lege per år)"),
    "item": ("Item", "Punkt"), "value": ("Value", "Verdi"), "kind": ("Kind", "Type"), "nok": ("NOK", "Kroner"),
    "one_off": ("one-off", "engangs"), "annual": ("a year", "per år"),
    # sheet names
    "if_joins": ("Bill if it joins", "Regning ved innføring"), "summary": ("Summary", "Sammendrag"), "bill": ("Bill", "Regning"),
    "net_by_year": ("Net by year", "Netto per år"), "gp": ("GP offices", "Fastlegekontor"), "about": ("About the figures", "Om tallene"),
}
"""Columns and sheet names of the council sheet (:mod:`sim.sheets`); looked up there first, since a few
keys (``gp``, ``scenario``) mean something else in a figure."""

VALUES: dict[str, tuple[str, str]] = {
    # financing.allocation_key
    "per_inhabitant_floor": ("per inhabitant, with floor", "per innbygger, med gulv"),
    "per_inhabitant": ("per inhabitant", "per innbygger"), "per_user": ("per user", "per bruker"), "mix": ("mix", "blanding"),
    # financing.grant_mode
    "grant": ("grant", "tilskudd"), "loan": ("loan", "lån"),
    # recruitment orders of the uptake curve
    "random": ("random", "tilfeldig"), "largest_first": ("largest lists first", "største lister først"),
    "most_connected_first": ("most connected first", "mest tilknyttet først"), "by_municipality": ("by municipality", "kommunevis"),
}
"""Values of categorical settings -> display name."""

WORDS: dict[str, dict[str, str]] = {
    "en": {
        # run figures
        "month": "Month", "share": "Share adopted", "hospital": "Hospitals", "municipality": "Municipalities",
        "gp_office": "GP offices", "gp": "GPs", "adoption_title": "Adoption by actor type",
        "coverage_title": "Information sharing over time", "gain_title": "Gain against GP uptake",
        "median_band": "median, band 5–95% over replicates", "compare_title": "Scenarios compared", "scenario": "Scenario",
        "median_bars": "median; bars: 5–95% at the end of the period",
        "share_0_1": "Share (0–1)",
        # economics
        "nok_per_inhabitant": "Net cost (NOK per inhabitant per year)", "municipalities_sorted": "Municipalities, sorted",
        "cost_title": "Net cost per inhabitant, {year}", "pays": "Pays", "gains": "Gains", "net": "Net",
        "by_municipality_title": "{what}, sorted by the first scenario", "expected_bill": "Expected bill if it joins",
        "run_bill": "Net cost over its years live (median over runs)",
        "breakeven_x": "Break-even licence price (NOK per GP per year)", "breakeven_title": "Break-even licence price per GP office",
        "licence_in_scenario": "licence in the scenario",
        "who_title": "Who pays, who gains (NPV, NOK million)", "nok_million": "NOK million (NPV)",
        "net_title": "Net present value by actor",
        # uptake curve
        "uptake_x": "GP uptake (share of GPs on the platform)", "uptake_title": "By recruitment order",
        "uptake_band": "band: min–max over {n} runs",
        # GP office's choice (#19)
        "break_even_x": "Break-even licence price (kNOK per GP per year)", "share_gps_cum": "Share of GPs (cumulative)",
        "break_even_title": "Licence price at which joining pays for the office",
        "licence_knok": "Licence price (kNOK per GP per year)", "subsidy_knok": "Subsidy (kNOK per GP per year)",
        "levers_title": "GP uptake over price and subsidy",
        # sensitivity
        "sobol": "Sobol total index ST", "morris": "Morris mu* (change over the whole range)",
        "sobol_method": "Sobol", "morris_method": "Morris elementary effects",
        "drivers_title": "Top drivers", "largest_shown": "(the {k} largest of {n})",
        "largest_named": "(the {k} largest named where the name fits)", "heat_mean": "mean over replicates", "heat_mark": "the scenario's values", "end": "end of horizon",
        "st_total": "ST (total)", "s1_first": "S1 (first order)", "sobol_ci": "Sobol index (95% CI)",
        "mu_star_x": "mu* (change over the range)", "sigma": "sigma",
        "at_low": "parameter at low bound", "at_high": "parameter at high bound",
        "tornado_x": "output (base scenario: {base})", "dummy": "{name} (dummy)", "age": "age",
        "profile_min_max": "min–max over replicates", "profile_p10_p90": "10–90% over replicates", "profile_mean": "mean over replicates",
        "profile_base": "base value",
        "prim_title": "PRIM trajectory: {target}", "coverage": "coverage", "density": "density",
        "chosen_box": "chosen box", "restricted_levers": "restricted levers",
        "share_of_range": "share of the sampled range", "box_title": "Chosen box (blue: restricted)",
        # calibration
        "band_90": "90% band", "band_50": "50% band", "median": "median", "observed": "observed",
        "observed_lower": "observed (lower bound)",
        "fit_title": "Calibration: posterior predictive bands (50%, 90%) against the 2020–2023 history",
        "forecast_title": "Calibrated model: forecast with 50% and 90% bands (posterior draws × replicates)",
        # validation
        "bass_x": "Years since the platform was offered", "bass_y": "Cumulative share of GPs adopted",
        "simulated_mean": "simulated mean, band ±4 standard errors ({n} replicates)", "bass_cdf": "Bass closed form F(t)",
        "bass_title": "Bass special case (beta_u = 0, complete peer graph)",
    },
    "nb": {
        "month": "Måned", "share": "Andel som har tatt i bruk", "hospital": "Sykehus", "municipality": "Kommuner",
        "gp_office": "Fastlegekontor", "gp": "Fastleger", "adoption_title": "Innføring etter aktørtype",
        "coverage_title": "Informasjonsdeling over tid", "gain_title": "Gevinst mot fastlegeoppslutning",
        "median_band": "median, bånd 5–95 % over simuleringer", "compare_title": "Scenarioer sammenlignet", "scenario": "Scenario",
        "median_bars": "median; stolper: 5–95 % ved periodens slutt",
        "share_0_1": "Andel (0–1)",
        "nok_per_inhabitant": "Nettokostnad (kr per innbygger per år)", "municipalities_sorted": "Kommuner, sortert",
        "cost_title": "Nettokostnad per innbygger, {year}", "pays": "Betaler", "gains": "Gevinst", "net": "Netto",
        "by_municipality_title": "{what}, sortert etter første scenario", "expected_bill": "Forventet regning ved innføring",
        "run_bill": "Nettokostnad over årene i bruk (median over kjøringer)",
        "breakeven_x": "Lisenspris som går i null (kr per lege per år)", "breakeven_title": "Lisenspris som går i null, per fastlegekontor",
        "licence_in_scenario": "lisens i scenarioet",
        "who_title": "Hvem betaler, hvem vinner (nåverdi, mill. kr)", "nok_million": "Mill. kr (nåverdi)",
        "net_title": "Netto nåverdi per aktør",
        "uptake_x": "Fastlegeoppslutning (andel fastleger på plattformen)", "uptake_title": "Etter rekrutteringsrekkefølge",
        "uptake_band": "bånd: min–maks over {n} kjøringer",
        # fastlegekontorets valg (#19)
        "break_even_x": "Lisenspris der innføring lønner seg (tusen kr per fastlege per år)",
        "share_gps_cum": "Andel fastleger (kumulativ)", "break_even_title": "Lisenspris der innføring lønner seg for kontoret",
        "licence_knok": "Lisenspris (tusen kr per fastlege per år)", "subsidy_knok": "Tilskudd (tusen kr per fastlege per år)",
        "levers_title": "Fastlegeoppslutning etter pris og tilskudd",
        "sobol": "Sobol totalindeks ST", "morris": "Morris mu* (endring over hele intervallet)",
        "sobol_method": "Sobol", "morris_method": "Morris elementæreffekter",
        "drivers_title": "Viktigste drivere", "largest_shown": "(de {k} største av {n})",
        "largest_named": "(de {k} største navngitt der navnet får plass)", "heat_mean": "snitt over simuleringer", "heat_mark": "scenarioets verdier", "end": "slutten av perioden",
        "st_total": "ST (total)", "s1_first": "S1 (første orden)", "sobol_ci": "Sobol-indeks (95 % KI)",
        "mu_star_x": "mu* (endring over intervallet)", "sigma": "sigma",
        "at_low": "parameter på nedre grense", "at_high": "parameter på øvre grense",
        "tornado_x": "utfall (basisscenario: {base})", "dummy": "{name} (blindparameter)", "age": "alder",
        "profile_min_max": "min–maks over simuleringer", "profile_p10_p90": "10–90 % over simuleringer", "profile_mean": "gjennomsnitt over simuleringer",
        "profile_base": "basisverdi",
        "prim_title": "PRIM-bane: {target}", "coverage": "dekning", "density": "tetthet",
        "chosen_box": "valgt boks", "restricted_levers": "begrensede virkemidler",
        "share_of_range": "andel av utvalgsintervallet", "box_title": "Valgt boks (blå: begrenset)",
        "band_90": "90 %-bånd", "band_50": "50 %-bånd", "median": "median", "observed": "observert",
        "observed_lower": "observert (nedre grense)",
        "fit_title": "Kalibrering: prediktive bånd (50 %, 90 %) mot historikken 2020–2023",
        "forecast_title": "Kalibrert modell: framskriving med 50 %- og 90 %-bånd (posteriortrekk × simuleringer)",
        "bass_x": "År siden plattformen ble tilbudt", "bass_y": "Kumulativ andel fastleger",
        "simulated_mean": "simulert gjennomsnitt, bånd ±4 standardfeil ({n} simuleringer)", "bass_cdf": "Bass lukket form F(t)",
        "bass_title": "Bass-spesialtilfellet (beta_u = 0, komplett nettverk)",
    },
}



_NAMED: tuple[dict[str, tuple[str, str]], ...] = (SCENARIOS, PARAMETERS, OUTPUTS, COMPONENTS, VALUES)
"""The display-name tables :func:`display_name` reads (no key is in two, nor in :data:`WORDS`; a test checks)."""

LABELS: dict[str, dict[str, str]] = {
    lang: {**WORDS[lang], **{k: v[i] for table in _NAMED for k, v in table.items()}} for i, lang in enumerate(LANGS)}
"""Every figure word and display name per language (``LABELS[lang][key]``)."""


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


def has_name(key: str) -> bool:
    """Whether :func:`display_name` finds a name for ``key`` (else it would show the key itself)."""
    return display_name(key, "en", default="") != ""


def display_name(key: str, lang: str = "en", default: str | None = None) -> str:
    """The display name of a scenario, parameter, output, component, actor or setting value in ``lang``.

    ``dummy.x`` -> "x (dummy)"; an age band of a table parameter -> "<name>, age 80–89"; a summary output
    with a year -> "<name>, 2030" (``_end``: "..., end of horizon"); "baseline (<run folder>)" (a scenario
    compared twice) -> "Baseline (<run folder>)". A key no table names gives ``default``,
    else the key itself (the last resort; tests keep every known key named)."""
    check_lang(lang)
    key = str(key)
    if key.startswith(DUMMY_PREFIX):
        return label("dummy", lang, name=key.removeprefix(DUMMY_PREFIX))
    if key in LABELS[lang]:
        return LABELS[lang][key]
    base, _, band = key.rpartition(".")
    if base in PARAMETERS and re.fullmatch(r"\d+(-\d+|\+)", band):
        return f"{PARAMETERS[base][LANGS.index(lang)]}, {label('age', lang)} {band.replace('-', '–')}"
    m = re.fullmatch(r"(.+)_(\d{4}|end)", key)
    if m and m.group(1) in OUTPUTS:
        return output_label(key, lang)
    m = re.fullmatch(r"(\S+) \((.+)\)", key)  # a scenario compared twice: "baseline (<its run folder>)"
    if m and m.group(1) in SCENARIOS:
        return f"{SCENARIOS[m.group(1)][LANGS.index(lang)]} ({m.group(2)})"
    return key if default is None else default


def output_label(column: str, lang: str, when: bool = True) -> str:
    """A summary column's display name: ``share_gps_2030`` -> "GP uptake (share of GPs), 2030", ``_end`` ->
    "..., end of horizon"; ``when=False`` leaves the year out."""
    m = re.fullmatch(r"(.+)_(\d{4}|end)", column)
    base, suffix = (m.group(1), m.group(2)) if m else (column, "")
    suffix = label(suffix, lang) if suffix == "end" else suffix
    return f"{label(base, lang)}, {suffix}" if suffix and when else label(base, lang)


def number(v: float, lang: str, decimals: int | None = None, *, percent: bool = False, sign: bool = False) -> str:
    """``v`` written in ``lang``: ``decimals`` places (None: as few as show it, at most 6), thousands
    grouped (nb: narrow no-break space, decimal comma, minus sign U+2212; en: comma, decimal point, hyphen); ``percent``: ``v`` is a
    share written as per cent ("12,5 %" / "12.5%"); ``sign``: a plus sign on positive values. No "-0";
    NaN is a dash. ``number(1234567.5, "nb")`` -> "1 234 567,5" (U+202F between the groups)."""
    check_lang(lang)
    if v is None or math.isnan(float(v)):
        return "–"
    v = float(v) * (100 if percent else 1)
    if math.isinf(v):
        return "∞" if v > 0 else ("−∞" if lang == "nb" else "-∞")
    if decimals is None:
        decimals = next((d for d in range(7) if abs(round(v, d) - v) <= 1e-9 * max(1.0, abs(v))), 6)
    s = format(v, f"{'+' if sign else ''},.{decimals}f")
    if float(s.replace(",", "")) == 0:
        s = s.lstrip("-+")  # no "-0.0"
    if lang == "nb":  # Norwegian typesetting: a minus sign (U+2212), not a hyphen
        s = s.replace(",", THOUSANDS_NB).replace(".", ",").replace("-", MINUS)
    if percent:
        s += PERCENT_SPACE_NB + "%" if lang == "nb" else "%"
    return s


def fmt(v: float, kind: str, lang: str) -> str:
    """A number as the report and figures write it: ``pct`` (a share as per cent, one decimal), ``pct0``
    (whole per cent), ``pp`` (a difference of shares in percentage points), ``nok`` (whole kroner),
    ``mnok`` (NOK million, whole), ``idx`` (two decimals), ``int``, ``num`` (whole numbers whole, else three
    significant digits). Separators as :func:`number`; NaN is a dash."""
    if kind not in ("pct", "pct0", "pp", "nok", "mnok", "idx", "int", "num"):
        raise ValueError(f"unknown number kind {kind!r}")
    if v is None or math.isnan(float(v)) or math.isinf(float(v)):
        return number(v, lang)
    v = float(v)
    if kind == "num":
        if v.is_integer():
            return number(v, lang, 0)
        return number(float(format(v, ".3g")), lang)  # three significant digits
    if kind == "mnok":
        return number(v / 1e6, lang, 0)
    decimals = {"pct": 1, "pct0": 0, "pp": 1, "nok": 0, "idx": 2, "int": 0}[kind]
    if kind in ("pct", "pct0"):
        return number(v, lang, decimals, percent=True)
    s = number(v * (100 if kind == "pp" else 1), lang, decimals)
    return s + ({"en": " pp", "nb": PERCENT_SPACE_NB + "prosentpoeng"}[lang] if kind == "pp" else "")


def tick_formatter(lang: str, kind: str = "num", scale: float = 1.0):
    """The one matplotlib tick formatter of every axis (FuncFormatter, locale-independent): ``num``
    (:func:`number`, as few decimals as the tick needs), ``pct`` (a share as per cent), ``int`` (whole);
    the tick value is multiplied by ``scale`` first (e.g. 1e-3 for kNOK)."""
    from matplotlib.ticker import FuncFormatter

    check_lang(lang)
    if kind not in ("num", "pct", "int"):
        raise ValueError(f"unknown tick kind {kind!r}")

    def text(v: float, _pos=None) -> str:
        v = round(float(v) * scale, 9)
        return number(v, lang, 0 if kind == "int" else None, percent=kind == "pct")

    return FuncFormatter(text)
