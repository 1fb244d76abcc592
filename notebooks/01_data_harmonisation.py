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
# # Gegevens en harmonisatie / Data and harmonisation
#
# Voor de gegevensbeheerder: wat er per levering binnenkwam, waar elke ruwe regel terechtkwam,
# wat in quarantaine ging en waarom, wat de reparaties veranderden en hoe de validatieregels
# uitvielen. Alles komt uit de audittrail die `lvv-eval ingest` naast `stays.parquet` schreef
# (`manifest.json`, `quarantine.parquet`, `changes.parquet`, `validation.csv`). De audittrail
# beschrijft alle geleverde regels: populatie en peildatum gelden hier niet, de pilotkeuze wel.
#
# For the data manager: what came in per delivery, where every raw row went, what was
# quarantined and why, what the repairs changed and how the validation rules came out. The audit
# trail covers every delivered row: population and reference date do not apply here, the pilot
# selection does.

# %% tags=["parameters"]
population: str = "in_covenant"  # population of the definitions file; choices: @populations
pilots: list = []  # pilots to include (empty: all); choices: @pilots
reference_date: str = "ee2022"  # reference date: a name in the definitions file or YYYY-MM-DD; choices: @reference_dates
definitions: str = ""  # definitions YAML or sensitivity grid (empty: the package's)
lang: str = "nl"  # report language; choices: nl, en
scheme: str = "ee2022"  # outcome scheme of the definitions file; choices: @schemes
classes: list = []  # outcome classes shown (empty: every class of the scheme); choices: @classes
stays_path: str = ""  # stays table (empty: data_clean/stays.parquet)

# %%
from lvv_eval.ingest import audit
from lvv_eval.report.present import Report

rep = Report.start("01_data_harmonisation", globals())  # refuses unknown or bad parameters
gate = rep.gate  # every table below passes the disclosure rules
trail = audit.AuditTrail.beside(rep.stays_path)  # refused unless it records this stays file
scope = audit.audit_labels(lang)["scope_note"]
UNITS = {"nl": {"rows": "regels", "files": "bestanden", "cells": "cellen"},
         "en": {"rows": "rows", "files": "files", "cells": "cells"}}[lang]

# %% [markdown]
# ## Wat er binnenkwam / What came in
#
# Elk bestand dat de ingest las (leveringen, codeboeken, ketenbestanden), per werkblad, en alle
# bestanden in de map met ruwe gegevens naar wat ermee gebeurde.

# %%
came_in = audit.for_pilots(audit.deliveries(trail), pilots)
checked = gate.table(came_in, "deliveries", keys=["file", "sheet"], counts=["rows"],
                     structural={"bytes": "file size"})
rep.show_table(checked, "deliveries", view=audit.audit_view(checked.shown(), lang),
               n=int(came_in["rows"].sum()), note=scope, selection=False,
               unit=UNITS["rows"])
files = audit.inventory(trail)
checked = gate.table(files, "raw_folder_inventory", keys=["status", "what"],
                     structural={"files": "number of files"})
rep.show_table(checked, "raw_folder_inventory", view=audit.audit_view(checked.shown(), lang),
               n=int(files["files"].sum()), note=scope, selection=False,
               unit=UNITS["files"])

# %% [markdown]
# ## Waar elke ruwe regel bleef / Where every raw row went
#
# Ruwe regels = verblijven + gebeurtenisregels in een verblijf + quarantaine + samengevoegd +
# niet-deelnemers, per bestand en werkblad; "sluit" is hier opnieuw nagerekend. Per pilot staat
# erbij hoeveel verblijven `stays.parquet` werkelijk bevat.

# %%
keys = ["pilot", "file", "sheet"]
per_file = audit.for_pilots(audit.row_accounting(trail), pilots)
long = audit.as_long(per_file, keys, ["raw_rows", *audit.CATEGORIES])
checked = gate.table(long, "row_accounting", keys=[*keys, "measure"], dims=["measure"],
                     totals={"measure": "raw_rows"}, counts=["count"])
shown = audit.as_wide(checked.shown(), keys).merge(per_file[[*keys, "closes"]], on=keys)
rep.show_table(checked, "row_accounting", view=audit.audit_view(shown, lang),
               n=int(per_file["raw_rows"].sum()), note=scope, selection=False,
               unit=UNITS["rows"])

by_pilot = audit.for_pilots(audit.accounting_by_pilot(trail, rep.all_stays), pilots)
long = audit.as_long(by_pilot, ["pilot"], ["raw_rows", *audit.CATEGORIES])
checked = gate.table(long, "row_accounting_by_pilot", keys=["pilot", "measure"], dims=["measure"],
                     totals={"measure": "raw_rows"}, counts=["count"])
shown = audit.as_wide(checked.shown(), ["pilot"]).merge(
    by_pilot[["pilot", "closes", "stays_match"]], on="pilot")
rep.show_table(checked, "row_accounting_by_pilot", view=audit.audit_view(shown, lang),
               n=int(by_pilot["raw_rows"].sum()), note=scope, selection=False,
               unit=UNITS["rows"])

# %% [markdown]
# ## Quarantaine naar regel en pilot / Quarantine by rule and pilot
#
# Een regel die een validatieregel met ernst "fout" niet haalt, gaat in quarantaine onder de
# eerste zo'n regel. De tabel telt verblijven (één fout is één verblijf; in een
# gebeurtenissenlog gaan alle regels van het verblijf mee), per regel en pilot, met de totalen;
# het CSV-bestand heeft ook de ruwe regels. Daaronder: klopt quarantine.parquet met de telling?
#
# Quarantined stays (one fault is one stay) by rule and pilot, with the totals; the CSV also has
# the raw rows. Below: does quarantine.parquet agree with the accounting?

# %%
quarantined = audit.for_pilots(audit.quarantine_by_rule(trail, lang), pilots)
margins = audit.with_totals(quarantined.drop(columns="rule"), ["pilot", "rule_id"], ["stays", "rows"])
checked = gate.table(margins, "quarantine_by_rule", keys=["pilot", "rule_id"],
                     dims=["pilot", "rule_id"], totals={"pilot": "all", "rule_id": "all"},
                     counts=["stays", "rows"])
rep.show_table(checked, "quarantine_by_rule",
               view=audit.rule_crosstab(checked.shown(), "stays", lang),
               n=int(quarantined["stays"].sum()), note=scope, selection=False)
agree = audit.for_pilots(audit.quarantine_check(trail), pilots)
long = audit.as_long(agree, ["pilot"], ["accounting", "quarantine_file"])
checked = gate.table(long, "quarantine_check", keys=["pilot", "measure"], counts=["count"])
shown = audit.as_wide(checked.shown(), ["pilot"]).merge(agree[["pilot", "agrees"]], on="pilot")
rep.show_table(checked, "quarantine_check", view=audit.audit_view(shown, lang),
               n=int(agree["accounting"].sum()), note=scope, selection=False)

# %% [markdown]
# ## Het wijzigingslog / The change log
#
# Elke reparatie en samenvoeging is een benoemde regel; elke gewijzigde cel staat in
# `changes.parquet`. Per regel en pilot de gewijzigde cellen (het CSV-bestand heeft ook de
# geraakte ruwe regels); daarna per kolom zoals de levering haar noemt.
#
# Every repair and merge is a named rule; every changed cell is in `changes.parquet`. Changed
# cells by rule and pilot (the CSV also has the raw rows touched), then by column.

# %%
changed = audit.for_pilots(audit.changes_by_rule(trail, lang), pilots)
margins = audit.with_totals(changed[["pilot", "rule_id", "cells", "rows"]], ["pilot", "rule_id"],
                            ["cells", "rows"])
checked = gate.table(margins, "changes_by_rule", keys=["pilot", "rule_id"],
                     dims=["pilot", "rule_id"], totals={"pilot": "all", "rule_id": "all"},
                     counts=["cells", "rows"])
rep.show_table(checked, "changes_by_rule", view=audit.rule_crosstab(checked.shown(), "cells", lang),
               n=int(changed["cells"].sum()), note=scope, selection=False,
               unit=UNITS["cells"])
columns = audit.for_pilots(audit.changes_by_column(trail), pilots)
checked = gate.table(columns, "changes_by_column", keys=["pilot", "column", "rule_id"],
                     dims=["pilot", "column", "rule_id"], counts=["cells"])
rep.show_table(checked, "changes_by_column", view=audit.audit_view(checked.shown(), lang),
               n=int(columns["cells"].sum()), note=scope, selection=False,
               unit=UNITS["cells"])

# %% [markdown]
# ## Validatie / Validation
#
# Elke validatieregel tegen elk geharmoniseerd record (alle pilots samen, zoals
# `validation.csv`): voldoet, voldoet niet, of niet te bepalen omdat een gegeven ontbreekt.

# %%
checks = audit.validation_results(trail, lang)
measures = ["items", "passes", "fails", "missing", "errors"]
long = audit.as_long(checks, ["rule_id", "rule", "severity"], measures)
checked = gate.table(long, "validation", keys=["rule_id", "measure"], dims=["measure"],
                     totals={"measure": "items"}, counts=["count"])
rep.show_table(checked, "validation",
               view=audit.audit_view(audit.as_wide(checked.shown(), ["rule_id", "rule", "severity"]), lang),
               n=int(checks["items"].max()), note=scope, selection=False)
