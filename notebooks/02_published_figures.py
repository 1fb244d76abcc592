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
# # Gepubliceerde cijfers / Published figures
#
# Elk gepubliceerd cijfer over de LVV-pilots (Kamerbrieven, evaluaties, pers) opnieuw berekend
# uit de verblijven, met de definitie in woorden en, waar het niet klopt, waarom. Daarna de
# reconciliatie van één cijfer (parameter `figure_id`): van de ruwe regels in de levering, via
# quarantaine en samenvoegingen, populatie, peildatum en basis, naar het cijfer.
#
# Every published figure on the LVV pilots recomputed from the stays, with its definition in
# words and, where it does not agree, why; then the waterfall of one figure (`figure_id`) from
# the raw rows of the delivery to the figure. Each figure has its own population and reference
# date (its definition); the notebook's `population` and `reference_date` do not apply to them.

# %% tags=["parameters"]
population: str = "in_covenant"  # population of the definitions file; choices: @populations
pilots: list = []  # pilots to include (empty: all); choices: @pilots
reference_date: str = "ee2022"  # reference date: a name in the definitions file or YYYY-MM-DD; choices: @reference_dates
definitions: str = ""  # definitions YAML or sensitivity grid (empty: the package's)
lang: str = "nl"  # report language; choices: nl, en
scheme: str = "ee2022"  # outcome scheme of the definitions file; choices: @schemes
classes: list = []  # outcome classes shown (empty: every class of the scheme); choices: @classes
stays_path: str = ""  # stays table (empty: data_clean/stays.parquet)
publication: str = "all"  # publication key of the figures shown (kb2020, ppe2019, ee2022, ...) or all
figure_id: str = "ee2022.durable.share"  # figure whose waterfall is drawn (a count or share)
figure_pilot: str = ""  # pilot of the waterfall (empty: the figure's own pilot)

# %%
from lvv_eval.capacity import find_capacity
from lvv_eval.ingest.audit import AuditTrail
from lvv_eval.measures import reproduce as R
from lvv_eval.measures import views as V
from lvv_eval.measures.reconcile import check_figure_choice, reconcile_figure
from lvv_eval.report.present import Report

rep = Report.start("02_published_figures", globals())  # refuses unknown or bad parameters
gate = rep.gate  # every table and figure below passes the disclosure rules
check_figure_choice(rep.definitions, figure_id, figure_pilot)  # before anything is computed
defs, capacity = rep.definitions, find_capacity(rep.stays_path)
scope = V.view_labels(lang)["notes"]["figures_scope"]

# %% [markdown]
# ## Gepubliceerd en berekend / Published and computed
#
# Uitkomst per cijfer: *komt overeen* (afgerond zoals gepubliceerd, of binnen de marge van
# "ongeveer"), *invoer* (afgesproken plaatsen: een invoer van de toolkit, niet berekend), *wijkt
# af* (met de reden hieronder) of *niet te berekenen*. Harde cijfers moeten precies kloppen.

# %%
table = R.reproduce_table(rep.all_stays, publication, defs, capacity,
                          stays_source=str(rep.stays_path), variant=R.variant_of(definitions))
table = R.for_pilots(table, pilots)
checked = gate.published_comparison(table, "reproduce", R.indicator_measures(defs),
                                    R.figure_bases(table, defs, rep.all_stays, capacity))
shown = checked.shown()
counts = V.status_counts(shown, lang)
rep.show_table(gate.table(counts, "reproduce_status", keys=[counts.columns[0]],
                          structural={c: "number of published figures" for c in counts.columns[1:]}),
               "reproduce_status", n=len(rep.all_stays), note=scope)
rep.show_table(checked, "reproduce", view=V.labelled(V.reproduce_figures(shown, lang, defs), lang),
               n=len(rep.all_stays), note=scope)

# %% [markdown]
# ## Definities en redenen / Definitions and reasons
#
# Elk cijfer in woorden zoals de toolkit het berekent, en waarom een cijfer niet klopt.

# %%
reasons = V.reproduce_reasons(shown, lang)
rep.show_table(gate.table(reasons, "reproduce_definitions", keys=["figure_id"]),
               "reproduce_definitions", view=V.labelled(reasons, lang), n=len(rep.all_stays),
               note=scope)

# %% [markdown]
# ## Van levering naar cijfer / From delivery to figure
#
# De regels uit de levering (manifest, quarantaine, wijzigingslog), daarna de definitie van het
# cijfer stap voor stap. Een regel zonder getal houdt de openbaarmakingscontrole tegen.

# %%
waterfall = reconcile_figure(figure_id, rep.all_stays, pilot=figure_pilot or None, defs=defs,
                             capacity=capacity, trail=AuditTrail.beside(rep.stays_path))
name = f"waterfall_{figure_id}_{waterfall.attrs['pilot']}"
steps = gate.waterfall(waterfall, name)
rep.show_table(steps, name, view=V.labelled(V.waterfall_view(steps.shown(), lang, defs, figure_id), lang),
               n=len(rep.all_stays), note=scope)
rep.show_figure(V.plot_waterfall(steps.shown(), lang, rep.synthetic, figure_id,
                                 waterfall.attrs["pilot"]),
                name, sources=[steps], axis="x", n=len(rep.all_stays), note=scope)
