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
# # Gevoeligheid voor de definities / Sensitivity to the definitions
#
# Hoeveel hangt een kopcijfer af van de keuzes achter de definitie (welke uitstroom telt als
# bestendig, wie er meetelt, personen of verblijven, de peildatum, de noemer)? De
# specificatiecurve toont elke combinatie van keuzes in het raster (`sensitivity_grid.yaml`),
# de basisspecificatie als rode ruit en de gepubliceerde cijfers als lijnen; daaronder welke keuze
# elke specificatie maakt. De populatie en de peildatum zijn hier assen van het raster: de
# invoer is elk geregistreerd verblijf van de gekozen pilots.
#
# *How much does a headline figure depend on the choices behind its definition? The
# specification curve shows every combination of choices in the grid; population and reference
# date are axes of the grid here, so the input is every registered stay of the chosen pilots.*

# %% tags=["parameters"]
population: str = "in_covenant"  # population of the definitions file; choices: @populations
pilots: list = []  # pilots to include (empty: all); choices: @pilots
reference_date: str = "ee2022"  # reference date: a name in the definitions file or YYYY-MM-DD; choices: @reference_dates
definitions: str = ""  # definitions YAML or sensitivity grid (empty: the package's)
lang: str = "nl"  # report language; choices: nl, en
scheme: str = "ee2022"  # outcome scheme of the definitions file; choices: @schemes
classes: list = []  # outcome classes shown (empty: every class of the scheme); choices: @classes
stays_path: str = ""  # stays table (empty: data_clean/stays.parquet)
outcome: str = "durable_share"  # headline share on the curve; choices: durable_share, departure_share, no_solution_share
models: bool = False  # also the model part (cumulative incidence at 365 days, adjusted 24-hour-shelter HR): about 2 minutes on 2 cores
n_jobs: int = 2  # parallel processes for the model part; min: 1

# %%
from pathlib import Path

from IPython.display import Markdown, display

from lvv_eval import sensitivity as S
from lvv_eval.analysis.plots import labels
from lvv_eval.report.params import ParameterError, is_grid_file
from lvv_eval.report.present import Report

rep = Report.start("07_sensitivity", globals())  # refuses unknown or bad parameters
if population != "in_covenant" or reference_date != "ee2022":
    raise ParameterError("07_sensitivity: population and reference date are axes of the grid; "
                         "change them in a copy of the grid (definitions=GRID.yaml)")
rep.reselect("all_registered", rep.all_stays["data_cut_date"].max())  # the grid's axes choose
gate = rep.gate
grid_file = definitions if definitions and is_grid_file(definitions) else None
base_file = definitions if definitions and grid_file is None else None
results = S.run_grid(rep.stays, grid_file, outcomes="all" if models else "indicators",
                     definitions=base_file, n_jobs=n_jobs)
stamp = f"{labels(lang)['synthetic']} - " if rep.synthetic else ""
grid_note = (f"Indeling, populatie, teleenheid en peildatum: per specificatie; "
             f"{len(results.specs)} specificaties in raster {Path(results.grid.path).name}."
             if lang == "nl" else
             f"Scheme, population, unit and reference date: per specification; "
             f"{len(results.specs)} specifications in grid {Path(results.grid.path).name}.")
axis_words = {a: getattr(results.grid.axes[a], f"label_{lang}") for a in results.axes}

# %% [markdown]
# ## De specificatiecurve / The specification curve

# %%
placement = S.place_published(results) if results.grid.spec.published else None
curve = S.curve_data(results, outcome)
curve_table = gate.specification_curve(curve, f"specification_curve_{outcome}")
ends = curve.index[(curve["rank"] <= 5) | (curve["rank"] > len(curve) - 5) | curve["is_base"]]
view = curve_table.shown().loc[ends].rename(columns={"estimate": "percent", **axis_words})
rep.show_table(curve_table, f"specification_curve_{outcome}", view=view, note=grid_note,
               columns=["rank", "spec_id", *axis_words.values(), "is_base", "percent", "lower",
                        "upper", "n", "numerator"])
entry = results.grid.spec.outcomes[outcome]
figure = S.plot_specification_curve(results, outcome, published=placement, lang=lang,
                                    title=stamp + getattr(entry, f"label_{lang}"),
                                    rows=curve_table.data)  # drawn from the checked table
rep.show_figure(figure, f"specification_curve_{outcome}", sources=[curve_table], note=grid_note)

# %% [markdown]
# De tabel toont de basisspecificatie en de vijf laagste en hoogste; het CSV-bestand en de
# werkmap hebben ze allemaal. *The table shows the base specification and the five lowest and
# highest; the CSV file and the workbook hold them all.*
#
# ## Welke keuze telt het zwaarst / Which choice matters most
#
# Aandeel van de spreiding van de curve per as: wat de as verklaart naast de andere assen
# (type II), en wat zij op zichzelf verklaart. *Share of the curve's spread per axis: what it
# explains beside the other axes, and on its own.*

# %%
basis = float(curve["n"].min())
variance = gate.specification_summary(S.axis_variance_table(results, outcome), "axis_variance",
                                      basis, structural=["options"])
rep.show_table(variance, "axis_variance", note=grid_note,
               view=variance.shown().assign(label=lambda t: t["axis"].map(axis_words).fillna(t["label"])),
               columns=["axis", "label", "options", "share_unique", "share_alone", "range"])

# %% [markdown]
# ## Gepubliceerde cijfers op de curve / Published figures on the curve

# %%
if placement is not None:
    placed = gate.specification_summary(
        placement, "published_placement", basis,
        structural=["published", "n_specifications", "n_reaching"],
        text=["changes", "explanation_en", "explanation_nl"])
    rep.show_table(placed, "published_placement", note=grid_note,
                   view=placed.shown().rename(columns={"estimate": "percent"}),
                   columns=[f"label_{lang}", "published", "n_reaching", "n_specifications",
                            "lowest", "highest", "percent", "changes"])
    display(Markdown(gate.text(S.describe_placement(placement, lang))))

# %% [markdown]
# ## Het modeldeel / The model part
#
# Alleen met `models=True` (ongeveer twee minuten op twee kernen): per specificatie de
# cumulatieve incidentie van bestendige uitstroom na 365 dagen en de gecorrigeerde hazard ratio
# van 24-uursopvang met het wild-cluster-bootstrapinterval. *Only with models=True.*

# %%
for model_outcome in ("hr_shelter_24h_adjusted", "cif_durable_365d") if models else ():
    rows = S.curve_data(results, model_outcome)
    checked = gate.specification_curve(rows.drop(columns=["p_value", "notes"], errors="ignore"),
                                       f"specification_curve_{model_outcome}")
    rep.show_figure(S.plot_specification_curve(results, model_outcome, lang=lang,
                                               title=stamp + model_outcome, rows=checked.data,
                                               null=1.0 if model_outcome.startswith("hr_") else None),
                    f"specification_curve_{model_outcome}", sources=[checked], note=grid_note)
