# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Uitkomsten per pilot / Outcomes by pilot
#
# Wie de pilots opvangen (case mix), hoe lang, en hoe zij de LVV verlaten: cumulatieve incidentie
# van elke uitstroomklasse met concurrerende risico's, uitstroom per 100 persoonsjaren, en de
# pilots vergeleken na correctie voor de case mix. Alle berekeningen staan in het pakket
# `lvv_eval`; dit notebook roept ze alleen aan.
#
# *Who the pilots shelter (case mix), for how long, and how they leave: cumulative incidence of
# each outcome class with competing risks, exits per 100 person-years, and the pilots compared
# after adjusting for case mix.*

# %% tags=["parameters"]
population: str = "in_covenant"  # population of the definitions file; choices: @populations
pilots: list = []  # pilots to include (empty: all); choices: @pilots
reference_date: str = "ee2022"  # reference date: a name in the definitions file or YYYY-MM-DD; choices: @reference_dates
definitions: str = ""  # definitions YAML or sensitivity grid (empty: the package's)
lang: str = "nl"  # report language; choices: nl, en
scheme: str = "ee2022"  # outcome scheme of the definitions file; choices: @schemes
classes: list = []  # outcome classes shown (empty: every class of the scheme); choices: @classes
stays_path: str = ""  # stays table (empty: data_clean/stays.parquet)
horizon_days: int = 365  # cumulative incidence read at this many days; min: 1
adjust: list = ["n_prior", "safe_country", "asylum_background", "age_10y", "female"]  # case-mix covariates of the adjusted pilot comparison
reference_pilot: str = ""  # pilot the others are compared with (empty: the pilot with the most stays)

# %%
import warnings

from lvv_eval import analysis as A
from lvv_eval.analysis.plots import labels, plot_cumulative_incidence, plot_effects, plot_rates
from lvv_eval.report.params import ParameterError
from lvv_eval.report.present import Report

rep = Report.start("04_outcomes_by_pilot", globals())  # refuses unknown or bad parameters
gate = rep.gate  # every table and figure below passes the disclosure rules
tte = rep.time_to_event()
shown_classes = list(rep.classes)
if reference_pilot and reference_pilot not in set(tte["pilot"].astype(str)):
    raise ParameterError(f"reference_pilot={reference_pilot!r}: no stays of that pilot in the "
                         f"selection; choose one of {', '.join(sorted(set(tte['pilot'].astype(str))))}")

# %% [markdown]
# ## Case mix per pilot
#
# Aantallen met het aandeel van de verblijven van de pilot; leeftijd en aantal eerdere
# vertrekprocedures als mediaan met interkwartielafstand. *Counts with the share of the pilot's
# stays; age and prior procedures as median [interquartile range].*

# %%
with rep.estimable():  # a section the data cannot support says why
    case_mix = gate.case_mix(A.case_mix(tte))
    rep.show_table(case_mix, "case_mix", title="Case mix",
                   view=A.case_mix_view(case_mix.data, case_mix.hidden, lang, case_mix.marker))

# %% [markdown]
# ## Verblijfsduur / Length of stay
#
# Mediane verblijfsduur tot elke uitstroom (Kaplan-Meier), met 95%-betrouwbaarheidsinterval.

# %%
with rep.estimable():  # a section the data cannot support says why
    los = rep.show_table(gate.length_of_stay(A.length_of_stay(tte)), "length_of_stay")

# %% [markdown]
# ## Cumulatieve incidentie per uitstroomklasse / Cumulative incidence by outcome class
#
# Aalen-Johansen, met concurrerende risico's (nooit 1 - Kaplan-Meier per klasse). Getoond op een
# grof tijdsrooster; een stap alleen als er genoeg gebeurtenissen achter zitten. *On a coarse
# time grid; a step only when enough events stand behind it.*

# %%
with rep.estimable():  # a section the data cannot support says why
    cif = gate.cumulative_incidence(A.cumulative_incidence(tte, by="pilot"), tte,
                                    "cumulative_incidence_by_pilot")
    at_horizon = cif.at([horizon_days])
    rep.show_table(cif, "cumulative_incidence_by_pilot",
                   view=at_horizon[at_horizon["cause"].isin(shown_classes)])
    rep.show_figure(plot_cumulative_incidence(cif.result, lang=lang, synthetic=rep.synthetic),
                    "cumulative_incidence_by_pilot", sources=[cif])

# %% [markdown]
# ## Uitstroom per 100 persoonsjaren / Exits per 100 person-years
#
# Met exacte (Poisson) 95%-intervallen.

# %%
with rep.estimable():  # a section the data cannot support says why
    rates = gate.rates(A.rates_per_100_person_years(tte, by="pilot"), tte)
    in_classes = rates.data["cause"].isin(shown_classes).to_numpy()
    rep.show_table(rates, "rates_per_100py", view=rates.shown()[in_classes])
    rep.show_figure(plot_rates(rates.data[in_classes], lang=lang, synthetic=rep.synthetic),
                    "rates_per_100py", sources=[rates])

# %% [markdown]
# ## Pilots vergeleken, gecorrigeerd voor case mix / Pilots compared, adjusted for case mix
#
# Een cause-specific Cox-model per uitstroomklasse met de pilot als factor (t.o.v. de
# referentiepilot) en de case-mixkenmerken, ongecorrigeerd (naïef) en gecorrigeerd. Met vijf
# pilots is de pilot zelf de vergelijking: hij kan dan niet ook het cluster zijn, dus de
# standaardfouten zijn cluster-robuust per persoon (meerdere verblijven van één persoon), niet per
# pilot. Een verschil tussen pilots is dus niet het effect van de aanpak: alles wat alle
# verblijven van een pilot delen (beleid, gemeente, periode, wie er wordt aangemeld) zit erin.
#
# *A cause-specific Cox model per outcome class with the pilot as a factor and the case-mix
# covariates. With five pilots the pilot is the comparison itself, so it cannot also be the
# cluster: errors are cluster-robust by person, not by pilot. A difference between pilots is not
# the effect of an approach: whatever all stays of a pilot share is in it.*

# %%
with rep.estimable():  # a section the data cannot support says why
    if tte["pilot"].nunique() < 2:
        rep.show_text("Eén pilot gekozen: er valt niets te vergelijken." if lang == "nl"
                      else "One pilot chosen: nothing to compare.")
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            compared = A.compare_pilots(tte, adjust, causes=shown_classes,
                                        reference=reference_pilot or None)
        rep.show_caveats(caught)
        compared_table = gate.effects(compared, "pilots_compared")
        model_n = {"n": int(compared.table["n_obs"].max()),
                   "excluded": {"missing_covariates": int(compared.table["n_dropped_missing"].max())}}
        rep.show_table(compared_table, "pilots_compared", **model_n,
                       columns=["cause", "estimate", "level", "reference", "hr", "hr_lower",
                                "hr_upper", "p_value", "n_obs", "n_events", "disclosure"])
        rep.show_figure(plot_effects(compared_table.data, lang=lang, synthetic=rep.synthetic,
                                     title=labels(lang)["pilots_compared_title"]),
                        "pilots_compared", sources=[compared_table], axis="x", **model_n)
