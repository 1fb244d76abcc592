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
