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
stays_path = ""           # empty: data_clean/stays.parquet
scheme = "ee2022"         # outcome scheme from lvv_eval/specs/definitions.yaml
cause = "durable"         # outcome class to model
lang = "nl"               # "nl" or "en"
horizon_days = 365        # cumulative incidence read at this many days
n_boot = 999              # wild cluster bootstrap replications (Webb weights)
adjust = ["n_prior", "safe_country", "asylum_background", "age_10y", "female"]

# %%
import warnings

from IPython.display import Markdown, display

from lvv_eval import analysis as A
from lvv_eval.analysis.plots import plot_cumulative_incidence, plot_rates
from lvv_eval.report.notebook import (
    banner,
    check_parameters,
    load_stays,
    provenance,
    report_gate,
    save_figure,
    save_table,
)

check_parameters(
    {"scheme": scheme, "cause": cause, "lang": lang, "horizon_days": horizon_days, "n_boot": n_boot,
     "adjust": adjust, "stays_path": stays_path},
    {"scheme": str, "cause": str, "lang": ("nl", "en"), "horizon_days": int, "n_boot": int,
     "adjust": list, "stays_path": str},
)
stays, synthetic = load_stays(stays_path)
gate = report_gate(synthetic)  # every table and figure below passes the disclosure rules
display(Markdown(banner(provenance(stays_path), lang)))
display(Markdown(gate.marker_text(lang)))
tte = A.time_to_event(stays, scheme)
print(gate.text(f"{len(stays):,} stays, {stays.person_id.nunique():,} persons; "
                f"classes: {tte.attrs['coding'].classes}"))

# %% [markdown]
# ## Verblijfsduur en uitstroom per pilot / Length of stay and exits by pilot

# %%
los = gate.length_of_stay(A.length_of_stay(tte))
save_table(los, "length_of_stay", synthetic)
rates = gate.rates(A.rates_per_100_person_years(tte, by="pilot"), tte)
save_table(rates, "rates_per_100py", synthetic)
save_figure(plot_rates(rates.data, lang=lang, synthetic=synthetic), "rates_per_100py",
            sources=[rates])
los

# %% [markdown]
# ## Cumulatieve incidentie (Aalen-Johansen) / Cumulative incidence
#
# Op een grof tijdsrooster; een stap alleen als er genoeg gebeurtenissen achter zitten.
# On a coarse time grid; a step only when enough events stand behind it.

# %%
cif = gate.cumulative_incidence(A.cumulative_incidence(tte, by="pilot"), tte,
                                "cumulative_incidence_by_pilot")
save_table(cif, "cumulative_incidence_by_pilot", synthetic)
fig = plot_cumulative_incidence(cif.result, lang=lang, synthetic=synthetic)
save_figure(fig, "cumulative_incidence_by_pilot", sources=[cif])
cif.at([horizon_days])

# %% [markdown]
# ## 24-uursopvang: naief en gecorrigeerd / 24-hour shelter: naive and adjusted
#
# Observationeel: de E-waarde zegt hoe sterk een niet-gemeten verstoorder zou moeten zijn.
# `hr_lower`/`hr_upper` en `p_value` zijn de wild cluster bootstrap (zie `ci_method`); de
# cluster-robuuste en modelmatige standaardfouten staan er als tweede kolommen naast.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    effect = A.compare_shelter_effect(tte, cause, adjust, n_reps=n_boot)
    gradient = A.prior_procedures_gradient(tte, cause, [a for a in adjust if a != "n_prior"], n_reps=n_boot)
for w in caught:
    print(gate.text(f"{type(w.message).__name__}: {w.message}"))
effect_table = gate.shelter_effect(effect)
gradient_table = gate.prior_procedures_gradient(gradient)
save_table(effect_table, "shelter_24h_effect", synthetic)
save_table(gradient_table, "prior_procedures_gradient", synthetic)
display(Markdown(A.inference_note(lang) + " " + A.coverage_note(lang)))
effect_table

# %%
gradient_table
