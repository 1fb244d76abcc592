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
# # Eerdere vertrekprocedures / Prior departure procedures
#
# Stromen mensen met meer eerdere (afgeronde) vertrekprocedures anders uit? Cumulatieve
# incidentie per band (0, 1, 2-5, meer dan 5 procedures) en de gradiënt, gecorrigeerd voor case
# mix en gestratificeerd naar pilot: per band t.o.v. 0 en als trend (per procedure en per
# bandstap) met de toets daarvan.
#
# *Do people with more prior departure procedures leave differently? Cumulative incidence by band
# and the adjusted gradient: each band against 0 and as a trend with its test.*

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
n_boot: int = 999  # wild cluster bootstrap draws above six pilots (with five all 7776 Webb vectors are used); min: 999
adjust: list = ["safe_country", "asylum_background", "age_10y", "female"]  # case-mix covariates of the gradient models (not the number of procedures itself)

# %%
import warnings

from IPython.display import Markdown, display

from lvv_eval import analysis as A
from lvv_eval.analysis.plots import labels, plot_cumulative_incidence_by_group, plot_effects
from lvv_eval.report.present import Report

rep = Report.start("06_prior_procedures", globals())  # refuses unknown or bad parameters
gate = rep.gate  # every table and figure below passes the disclosure rules
tte = rep.time_to_event()
shown_classes = list(rep.classes)

# %% [markdown]
# ## Uitstroom per band / Exits by band of prior procedures

# %%
with rep.estimable():  # a section the data cannot support says why
    curves = gate.cumulative_incidence(A.cumulative_incidence(tte, by="prior_band"), tte,
                                       "cumulative_incidence_by_prior_band")
    at = curves.at([horizon_days])
    missing = {"missing_group": int(curves.result.table.attrs.get("n_missing_group", 0))}
    counted = {"n": rep.n - missing["missing_group"], "excluded": missing}
    rep.show_table(curves, "cumulative_incidence_by_prior_band",
                   view=at[at["cause"].isin(shown_classes)], **counted)
    rep.show_figure(plot_cumulative_incidence_by_group(curves.result, lang=lang, classes=shown_classes,
                                                       synthetic=rep.synthetic),
                    "cumulative_incidence_by_prior_band", sources=[curves], **counted)

# %% [markdown]
# ## De gradiënt, gecorrigeerd / The adjusted gradient
#
# Cause-specific hazard ratio's per band t.o.v. 0 procedures en de trend per procedure en per
# bandstap. De p-waarde van een trend is de toets van de gradiënt (nulhypothese: geen verschil
# met het aantal procedures). Intervallen en p-waarden: wild cluster bootstrap per pilot.
#
# *Hazard ratios of each band against none, and the trend per procedure and per band step; a
# trend's p-value tests the gradient. Intervals and p-values: wild cluster bootstrap by pilot.*

# %%
with rep.estimable():  # a section the data cannot support says why
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        one_pilot = tte["pilot"].nunique() < 2  # then clusters by person: a bootstrap needs two pilots
        gradients = A.prior_procedures_gradients(tte, adjust, causes=shown_classes, n_reps=n_boot,
                                                 cluster="person_id" if one_pilot else "pilot",
                                                 bootstrap=not one_pilot)
    rep.show_caveats(caught)
    gradient_table = gate.effects(gradients, "prior_procedures_gradient")
    model_n = {"n": int(gradients.table["n_obs"].max()),
               "excluded": {"missing_covariates": int(gradients.table["n_dropped_missing"].max())}}
    rep.show_table(gradient_table, "prior_procedures_gradient", **model_n,
                   columns=["cause", "level", "hr", "hr_lower", "hr_upper", "p_value",
                            "hr_lower_cluster_robust", "hr_upper_cluster_robust", "p_cluster_robust",
                            "n_obs", "n_events", "disclosure"])
    rep.show_figure(plot_effects(gradient_table.data, lang=lang, synthetic=rep.synthetic,
                                 title=labels(lang)["gradient_title"]),
                    "prior_procedures_gradient", sources=[gradient_table], axis="x", **model_n)
    rep.show_text(A.trend_test_note(gradient_table.data, lang))

# %%
with rep.estimable():  # a section the data cannot support says why
    display(Markdown(A.inference_note(lang) + " " + A.coverage_note(lang)))
