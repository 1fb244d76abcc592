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
# # Monitor / Monitor
#
# De indicatoren van de landelijke monitor per pilot op de monitorrondes, en de bezetting
# (aanwezig binnen het convenant) tegen de afgesproken plaatsen door de tijd. Elke indicator
# heeft zijn eigen populatie en basis (de monitor telt alleen binnen het convenant); de
# parameters `population` en `reference_date` gelden hier niet, behalve dat de reeks tot de
# peildatum loopt.
#
# The national monitor's indicators per pilot at the monitor rounds, and occupancy (present
# within the covenant) against the agreed places over time. Each indicator has its own population
# and base; the series runs to the reference date.

# %% tags=["parameters"]
population: str = "in_covenant"  # population of the definitions file; choices: @populations
pilots: list = []  # pilots to include (empty: all); choices: @pilots
reference_date: str = "ee2022"  # reference date: a name in the definitions file or YYYY-MM-DD; choices: @reference_dates
definitions: str = ""  # definitions YAML or sensitivity grid (empty: the package's)
lang: str = "nl"  # report language; choices: nl, en
scheme: str = "ee2022"  # outcome scheme of the definitions file; choices: @schemes
classes: list = []  # outcome classes shown (empty: every class of the scheme); choices: @classes
stays_path: str = ""  # stays table (empty: data_clean/stays.parquet)
series_start: str = "2019-01-01"  # first month of the occupancy series (YYYY-MM-DD)

# %%
from lvv_eval.capacity import find_capacity
from lvv_eval.measures import views as V
from lvv_eval.measures.monitor import monitor_over_time, monitor_rounds
from lvv_eval.report.present import Report
from lvv_eval.report.style import pilot_palette

rep = Report.start("03_monitor", globals())  # refuses unknown or bad parameters
gate = rep.gate  # every table and figure below passes the disclosure rules
defs, capacity = rep.definitions, find_capacity(rep.stays_path)
scope = V.view_labels(lang)["notes"]["monitor_scope"]

# %% [markdown]
# ## De monitorrondes / The monitor rounds
#
# Gepubliceerd is dat de gemeenten sinds de start op 1 april 2019 zes keer zijn bevraagd, de
# laatste keer op 1 november 2020 (Kamerbrief november 2020). De data van de andere rondes zijn
# niet gepubliceerd: die kiest de toolkit zelf.
#
# Published: six rounds since the start on 1 April 2019, the last on 1 November 2020. The dates
# of the other rounds were not published: they are the toolkit's own choice.

# %%
rounds = monitor_rounds(lang)
rep.show_table(gate.table(rounds, "monitor_rounds", keys=["round"],
                          structural={"round": "number of the round"}),
               "monitor_rounds", view=V.rounds_view(rounds), n=len(rep.all_stays), note=scope)

# %% [markdown]
# ## Indicatoren per pilot op de rondes / Indicators by pilot at the rounds
#
# De monitor en de bezettingsreeks hieronder gaan samen door één openbaarmakingscontrole, zodat
# de twee samen nooit laten zien wat een van beide verbergt.

# %%
snapshots = monitor_over_time(rep.all_stays, series_start, rep.reference_date, defs, capacity)
checked = gate.monitor(snapshots, defs.monitor, "all", "monitor")
rep.show_table(checked, "monitor", view=V.labelled(V.monitor_view(checked.shown(), defs, lang, pilots), lang),
               n=len(rep.all_stays), note=scope)

# %% [markdown]
# ## Bezetting tegen afgesproken plaatsen / Occupancy against agreed places
#
# Aanwezig binnen het convenant op de eerste van elke maand (doorgetrokken lijn) en de
# afgesproken plaatsen (gestreept, zelfde kleur); verticale lijnen: de monitorrondes, doorgetrokken
# waar de datum gepubliceerd is, gestippeld waar de toolkit hem koos.

# %%
rep.show_figure(V.plot_occupancy(V.for_pilots(checked.shown(), pilots), lang, rep.synthetic,
                                 pilot_palette(), rounds),
                "occupancy", sources=[checked], n=len(rep.all_stays), note=scope)
