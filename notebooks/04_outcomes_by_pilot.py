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
# # Uitkomsten van de LVV-pilots / Outcomes of the LVV pilots
#
# Uitstroom per pilot, naar 24-uursopvang en naar eerdere vertrekprocedures, met concurrerende
# risico's. Alle berekeningen staan in het pakket `lvv_eval`; dit notebook roept ze alleen aan.

# %% tags=["parameters"]
population: str = "in_covenant"  # population of the definitions file; choices: @populations
pilots: list = []  # pilots to include (empty: all); choices: @pilots
reference_date: str = "ee2022"  # reference date: a name in the definitions file or YYYY-MM-DD; choices: @reference_dates
definitions: str = ""  # definitions YAML or sensitivity grid (empty: the package's)
lang: str = "nl"  # report language; choices: nl, en
scheme: str = "ee2022"  # outcome scheme of the definitions file; choices: @schemes
classes: list = []  # outcome classes shown (empty: every class of the scheme); choices: @classes
stays_path: str = ""  # stays table (empty: data_clean/stays.parquet)
cause: str = "durable"  # outcome class modelled for 24-hour shelter and prior procedures; choices: @classes
horizon_days: int = 365  # cumulative incidence read at this many days; min: 1
n_boot: int = 999  # wild cluster bootstrap replications (Webb weights; all 7,776 enumerated for five pilots); min: 999
adjust: list = ["n_prior", "safe_country", "asylum_background", "age_10y", "female"]  # case-mix covariates of the adjusted models

# %%
import warnings

from IPython.display import Markdown, display

from lvv_eval import analysis as A
from lvv_eval.analysis.plots import plot_cumulative_incidence, plot_rates
from lvv_eval.report.present import Report

rep = Report.start("04_outcomes_by_pilot", globals())  # refuses unknown or bad parameters
gate = rep.gate  # every table and figure below passes the disclosure rules
tte = rep.time_to_event()

# %% [markdown]
# ## Verblijfsduur en uitstroom per pilot / Length of stay and exits by pilot

# %%
los = rep.show_table(gate.length_of_stay(A.length_of_stay(tte)), "length_of_stay")
rates = rep.show_table(gate.rates(A.rates_per_100_person_years(tte, by="pilot"), tte),
                       "rates_per_100py")
rep.show_figure(plot_rates(rates.data, lang=lang, synthetic=rep.synthetic), "rates_per_100py",
                sources=[rates])

# %% [markdown]
# ## Cumulatieve incidentie (Aalen-Johansen) / Cumulative incidence
#
# Op een grof tijdsrooster; een stap alleen als er genoeg gebeurtenissen achter zitten.
# On a coarse time grid; a step only when enough events stand behind it.

# %%
cif = gate.cumulative_incidence(A.cumulative_incidence(tte, by="pilot"), tte,
                                "cumulative_incidence_by_pilot")
rep.show_table(cif, "cumulative_incidence_by_pilot", view=cif.at([horizon_days]))
rep.show_figure(plot_cumulative_incidence(cif.result, lang=lang, synthetic=rep.synthetic),
                "cumulative_incidence_by_pilot", sources=[cif])

# %% [markdown]
# ## 24-uursopvang: naief en gecorrigeerd / 24-hour shelter: naive and adjusted
#
# Observationeel: de E-waarde zegt hoe sterk een niet-gemeten verstoorder zou moeten zijn.
# De intervallen en p-waarden zijn de wild cluster bootstrap; de cluster-robuuste en modelmatige
# standaardfouten staan in het CSV-bestand en de werkmap ernaast.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    effect = A.compare_shelter_effect(tte, cause, adjust, n_reps=n_boot)
    gradient = A.prior_procedures_gradient(tte, cause, [a for a in adjust if a != "n_prior"],
                                           n_reps=n_boot)
for w in caught:
    print(gate.text(f"{type(w.message).__name__}: {w.message}"))
effect_table = gate.shelter_effect(effect)
gradient_table = gate.prior_procedures_gradient(gradient)
dropped = {"missing_covariates": int(effect.table["n_dropped_missing"].max())}
rep.show_table(effect_table, "shelter_24h_effect", n=int(effect.table["n_obs"].max()),
               excluded=dropped)
display(Markdown(A.inference_note(lang) + " " + A.coverage_note(lang)))

# %%
rep.show_table(gradient_table, "prior_procedures_gradient",
               n=int(gradient.table["n_obs"].max()),
               excluded={"missing_covariates": int(gradient.table["n_dropped_missing"].max())})
