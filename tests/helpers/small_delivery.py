"""A small hand-made Rotterdam-like CSV delivery with its own source spec (expected results are
worked out by hand in the tests that use it)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.synthetic import mark_synthetic

SPEC = """
name: demo
pilot: Rotterdam
files:
  - pattern: "demo/*.csv"
    reader: csv
    delimiter: ";"
    encoding: cp1252
    constants: {registration_group: official}
columns:
  Clientnr: source_id
  Datum instroom: admission_date
  Datum uitstroom: exit_date
  Reden: exit_reason
  Geslacht: sex
  Leeftijd: age_at_admission
  24u: shelter_24h
  Gezin: family
  MRT: mrt_referred
ignore_columns: [Opmerking]
labels:
  exit_reason: {"1": residence_permit, "2": return_origin}
  sex: {M: male, V: female}
flags: {true: [J], false: [N]}
dates: {formats: ["%d-%m-%Y"]}
sentinels: ["-99"]
constants: {data_cut_date: "2022-07-01"}
max_lost_share: 1.0   # a delivery made mostly of faults, on purpose
derive:
  - {field: in_covenant, method: covenant_from_exclusion}
"""
HEADER = "Clientnr;Datum instroom;Datum uitstroom;Reden;Geslacht;Leeftijd;24u;Gezin;MRT;Opmerking"
ROWS = [
    "RTM-1;01-03-2020;;;M;40;J;N;N;caf\xe9",      # line 2: a good ongoing stay
    "RTM-2 ;01-03-2020;02-04-2020;1;V;-99;N;N;N;",  # line 3: trailing space, sentinel age
    "RTM-3;;02-01-2020;1;V;30;N;N;N;",              # line 4: no admission date
    "RTM-4;01-03-2020;02-04-2020;zie dossier;V;30;N;N;N;",  # line 5: unmapped exit label
    "RTM-4;01-03-2020;02-04-2020;zie dossier;V;30;N;N;N;",  # line 6: same again
    "RTM-5;20-03-2020;03-01-2020;2;M;50;J;N;N;",    # line 7: exit 3 Jan before admission; swap gives 1 Mar: still before
    "RTM-6;01-03-2020;04-02-2020;2;M;51;J;N;N;",    # line 8: swap gives 2 Apr 2020: repaired
]


def write_delivery(root: Path, rows: list[str] = ROWS, header: str = HEADER, spec: str = SPEC,
                   synthetic: bool = True) -> tuple[Path, Path]:
    raw, src = root / "raw", root / "src"
    (raw / "demo").mkdir(parents=True)
    src.mkdir()
    (raw / "demo" / "d.csv").write_bytes(("\n".join([header, *rows]) + "\n").encode("cp1252"))
    if synthetic:
        mark_synthetic(raw)
    (src / "demo.yaml").write_text(spec, encoding="utf-8")
    return raw, src


LONG_SPEC = """
name: long
pilot: Groningen
layout: long
files:
  - {pattern: "long/*.csv", reader: csv, delimiter: ",", constants: {registration_group: official}}
columns: {Client: source_id, Type: event_type, Date: event_date, Value: event_value, Mod: modified_date}
events:
  kinds:
    intake: {date: admission_date, starts_stay: true}
    scenario: {date: scenario_date, value: scenario}
    exit: {date: exit_date, value: exit_reason}
constants: {data_cut_date: "2022-07-01", sex: M, family: N, shelter_24h: J}
max_lost_share: 1.0
dates: {formats: ["%d-%m-%Y"]}
flags: {true: [J], false: [N]}
labels:
  event_type: {Intake: intake, Scenario: scenario, Exit: exit}
  exit_reason: {Vertrek: return_origin}
  scenario: {Vertrek: departure}
  sex: {M: male}
derive:
  - {field: in_covenant, method: covenant_from_exclusion}
  - {field: mrt_referred, method: flag_from_date, source: mrt_date}
"""
LONG_ROWS = [
    "C1,Intake,01-01-2020,,01-01-2020",   # 2: first stay of C1
    "C1,Exit,01-03-2020,Vertrek,01-03-2020",  # 3: its exit
    "C1,Intake,01-06-2020,,01-06-2020",   # 4: readmission, ongoing
    "C2,Scenario,15-02-2020,Vertrek,",     # 5: scenario listed before the intake it belongs to
    "C2,Intake,01-02-2020,,01-02-2020",   # 6
    "C3,Exit,01-05-2020,Vertrek,",         # 7: exit of a client without intake
    "C4,Intake,01-02-2020,,01-02-2020",   # 8: older record of the same intake
    "C4,Intake,01-02-2020,,05-02-2020",   # 9: newer record: kept, takes the events
    "C4,Exit,01-04-2020,Vertrek,",         # 10
]


def write_long_delivery(root: Path, rows: list[str] = LONG_ROWS) -> tuple[Path, Path]:
    """A small event log (Groningen-like) with its spec, marked synthetic."""
    raw, src = root / "raw", root / "src"
    (raw / "long").mkdir(parents=True)
    src.mkdir()
    (raw / "long" / "e.csv").write_text("\n".join(["Client,Type,Date,Value,Mod", *rows]) + "\n")
    mark_synthetic(raw)
    (src / "long.yaml").write_text(LONG_SPEC)
    return raw, src
