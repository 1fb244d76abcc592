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
# # 24-uursopvang en begeleidingsintensiteit / 24-hour shelter and guidance intensity
#
# Uitstroom naar soort opvang (nacht- of 24-uursopvang) en naar begeleidingsintensiteit (licht,
# standaard, intensief), het naïeve en het voor case mix gecorrigeerde effect op elke
# uitstroomklasse, met E-waarden en met intervallen die ook met vijf pilots kloppen.
#
# *Exits by type of shelter and by guidance intensity; the naive and the case-mix adjusted effect
# on every outcome class, with E-values and intervals that hold with five pilots.*

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
adjust: list = ["n_prior", "safe_country", "asylum_background", "age_10y", "female"]  # case-mix covariates of the adjusted models
guidance_reference: str = "standard"  # guidance level the others are compared with; choices: light, standard, intensive

# %%
import warnings

from IPython.display import Markdown, display

from lvv_eval import analysis as A
from lvv_eval.analysis.plots import labels, plot_cumulative_incidence_by_group, plot_effects
from lvv_eval.report.present import Report

rep = Report.start("05_shelter_and_guidance", globals())  # refuses unknown or bad parameters
gate = rep.gate  # every table and figure below passes the disclosure rules
tte = rep.time_to_event()
shown_classes = list(rep.classes)
one_pilot = tte["pilot"].nunique() < 2  # then clusters by person: a bootstrap needs two pilots
settings = A.FitSettings(n_reps=n_boot, cluster="person_id" if one_pilot else "pilot",
                         bootstrap=not one_pilot)


def show_curves(by: str, name: str) -> None:
    """Cumulative incidence by ``by``: the table at the horizon and the curves per class."""
    curves = gate.cumulative_incidence(A.cumulative_incidence(tte, by=by), tte, name)
    at = curves.at([horizon_days])
    missing = {"missing_group": int(curves.result.table.attrs.get("n_missing_group", 0))}
    counted = {"n": rep.n - missing["missing_group"], "excluded": missing}
    rep.show_table(curves, name, view=at[at["cause"].isin(shown_classes)], **counted)
    rep.show_figure(plot_cumulative_incidence_by_group(curves.result, lang=lang,
                                                       classes=shown_classes,
                                                       synthetic=rep.synthetic),
                    name, sources=[curves], **counted)


def show_effects(effects: A.EffectsResult, name: str, title: str, columns: list[str]) -> object:
    """An effects table (every class, naive and adjusted) and its forest plot."""
    checked = gate.effects(effects, name)
    model_n = {"n": int(effects.table["n_obs"].max()),
               "excluded": {"missing_covariates": int(effects.table["n_dropped_missing"].max())}}
    rep.show_table(checked, name, columns=columns, **model_n)
    rep.show_figure(plot_effects(checked.data, lang=lang, synthetic=rep.synthetic, title=title),
                    name, sources=[checked], axis="x", **model_n)
    return checked


# %% [markdown]
# ## Uitstroom naar soort opvang / Exits by type of shelter

# %%
with rep.estimable():  # a section the data cannot support says why
    show_curves("shelter_24h", "cumulative_incidence_by_shelter")

# %% [markdown]
# ## Uitstroom naar begeleidingsintensiteit / Exits by guidance intensity
#
# Verblijven zonder bekende intensiteit tellen hier niet mee (*stays without a known intensity are
# left out here*).

# %%
with rep.estimable():  # a section the data cannot support says why
    show_curves("guidance_intensity", "cumulative_incidence_by_guidance")

# %% [markdown]
# ## Effect van 24-uursopvang op elke uitstroomklasse / Effect of 24-hour shelter on every class
#
# Cause-specific hazard ratio van 24-uursopvang t.o.v. nachtopvang: naïef (alleen de
# opvangsoort) en gecorrigeerd (case mix, gestratificeerd naar pilot), op dezelfde verblijven.
# Wie 24-uursopvang krijgt is niet willekeurig: mensen met medische problemen (die de LVV niet
# registreert) komen er vaker terecht en stromen anders uit. Ook de gecorrigeerde schatting kan
# dus vertekend zijn; de E-waarde zegt hoe sterk een niet-gemeten verstoorder dan moet zijn.
#
# *Observational: who gets 24-hour shelter is not random (medical problems the LVV does not
# register). The adjusted estimate can still be confounded; the E-value says how strong an
# unmeasured confounder would have to be.*

# %%
with rep.estimable():  # a section the data cannot support says why
    EFFECT_COLUMNS = ["cause", "estimate", "hr", "hr_lower", "hr_upper", "p_value",
                      "hr_lower_cluster_robust", "hr_upper_cluster_robust", "p_cluster_robust",
                      "e_value", "e_value_ci", "n_obs", "n_events", "disclosure"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shelter = A.exposure_effects(tte, "shelter_24h", adjust, causes=shown_classes,
                                     settings=settings)
    rep.show_caveats(caught)
    shelter_table = show_effects(shelter, "shelter_24h_effects", labels(lang)["effects_title"],
                                 EFFECT_COLUMNS)
    rep.show_text(A.e_value_note(shelter_table.data, lang))

# %% [markdown]
# ## Begeleidingsintensiteit / Guidance intensity
#
# Elk niveau t.o.v. het referentieniveau en de trend per stap (licht < standaard < intensief),
# naïef en gecorrigeerd voor case mix en soort opvang (de intensiteit wordt per pilot en
# opvangsoort toegekend), gestratificeerd naar pilot. Ook dit is observationeel.
#
# *Each level against the reference level and the trend per step, naive and adjusted for case
# mix and type of shelter (intensity is assigned per pilot and shelter type). Observational too.*

# %%
with rep.estimable():  # a section the data cannot support says why
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        guidance = A.guidance_effects(tte, [*adjust, "shelter_24h"], causes=shown_classes,
                                      reference=guidance_reference, settings=settings)
    rep.show_caveats(caught)
    guidance_table = show_effects(guidance, "guidance_effects", labels(lang)["guidance_title"],
                                  ["cause", "estimate", "level", "reference", *EFFECT_COLUMNS[2:]])
    rep.show_text(A.e_value_note(guidance_table.data, lang))

# %% [markdown]
# ## Inferentie met vijf pilots / Inference with five pilots
#
# De kolommen "ondergrens/bovengrens 95%-BI" en "p-waarde (bootstrap)" zijn de restricted wild
# cluster bootstrap met clusters per pilot; de cluster-robuuste (sandwich) intervallen staan
# ernaast ter vergelijking. *The bootstrap interval and p-value are primary; the cluster-robust
# ones are shown beside them for comparison.*

# %%
with rep.estimable():  # a section the data cannot support says why
    display(Markdown(A.inference_note(lang) + " " + A.coverage_note(lang)))
