"""Issue 9, points 8, 9 and 11-17: a wrong delivery is diagnosed rightly, without personal data.

Each test builds a small delivery by hand (tests/helpers/small_delivery.py) and damages it the
way a real one gets damaged; the expected outcome is worked out by hand in the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from lvv_eval.cli import main as cli_main
from lvv_eval.ingest.errors import IngestError
from lvv_eval.ingest.pipeline import run_ingest
from tests.helpers.small_delivery import (
    HEADER,
    LONG_ROWS,
    ROWS,
    SPEC,
    write_delivery,
    write_long_delivery,
)
from tests.helpers.synthetic import mark_synthetic

REAL_KEY = "k3Y-for-tests_0123456789-abcdefghijKLMN"
SPEC_DEFAULT_LIMIT = SPEC.replace("max_lost_share: 1.0   # a delivery made mostly of faults, on purpose\n", "")


def _ingest(raw: Path, src: Path, out: Path, *extra: str) -> tuple[int, str]:
    code = cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--sources-dir", str(src), *extra])
    return code, ""


# ---- point 8: nothing personal in quarantine or on stderr --------------------------------------

PERSONAL_ROWS = [
    *ROWS,
    "RTM-8;01-03-2020;02-04-2020;Jan de Vries;V;30;N;N;N;",  # line 9: a name typed in the exit-label cell
    ";RTM-77;01-03-2020;;M;40;J;N;N;x",                       # line 10: shifted by one field (id in a date cell)
]


def test_quarantine_and_stderr_hold_no_cell_content(tmp_path, capsys):
    raw, src = write_delivery(tmp_path, rows=PERSONAL_ROWS)
    code = cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", str(tmp_path / "out"), "--sources-dir", str(src)])
    assert code == 0
    err = capsys.readouterr().err
    stored = (tmp_path / "out" / "quarantine.parquet").read_bytes()
    for secret in ("Jan de Vries", "RTM-77", "zie dossier"):
        assert secret.encode() not in stored and secret not in err, secret
    q = pd.read_parquet(tmp_path / "out" / "quarantine.parquet").set_index("source_row")
    assert q.loc[9, "rule_id"] == "V_EXIT_LABEL_MAPPED"
    assert "column 'Reden' value <Aaa aa Aaaaa, 12 chars, #" in q.loc[9, "detail"]  # enough to find and fix it
    assert q.loc[10, "rule_id"] == "V_SOURCE_ID_PRESENT" and (q["raw_values"] == "").all()


def test_raw_cells_only_on_request_and_only_on_synthetic_data(tmp_path, monkeypatch):
    raw, src = write_delivery(tmp_path, rows=PERSONAL_ROWS)
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False, raw_cells=True)
    assert "Jan de Vries" in res.quarantine.set_index("source_row").loc[9, "raw_values"]
    real, real_src = write_delivery(tmp_path / "real", rows=PERSONAL_ROWS, synthetic=False)
    monkeypatch.setenv("LVV_PSEUDONYM_KEY", REAL_KEY)
    with pytest.raises(IngestError, match="only for SYNTHETIC data"):
        run_ingest(real, tmp_path / "out2", sources_dir=real_src, progress=False, raw_cells=True)


# ---- point 9: placeholder identifiers are quarantined, never merged into one person ---------

def test_placeholder_ids_are_quarantined_with_their_own_rule(tmp_path):
    rows = [f"{pid};0{i}-03-2020;;;M;40;J;N;N;" for i, pid in enumerate(["onbekend", "?", "0", "-", " N.B. "], 1)]
    raw, src = write_delivery(tmp_path, rows=[ROWS[0], *rows])
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    assert res.quarantine.set_index("source_row")["rule_id"].to_dict() == {
        r: "V_SOURCE_ID_PLACEHOLDER" for r in range(3, 8)}
    assert sorted(res.stays["source_row"]) == [2]


# ---- point 11: a delivery that loses most of its rows fails loudly ---------------------------

def test_a_delivery_that_loses_its_rows_fails_and_marks_the_manifest(tmp_path, capsys):
    swapped = HEADER.replace("Reden;Geslacht", "Geslacht;Reden")  # two header cells swapped
    good = [r for i, r in enumerate(ROWS) if i in (0, 1, 6)]
    raw, src = write_delivery(tmp_path, rows=good, header=swapped, spec=SPEC_DEFAULT_LIMIT)
    out = tmp_path / "out"
    code = cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--sources-dir", str(src), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "lost 3 of 3 rows (100%)" in err[0] and "max_lost_share" in err[0]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed" and len(manifest["problems"]) == 1
    assert len(pd.read_parquet(out / "quarantine.parquet")) == 3  # written, to be read
    res = run_ingest(raw, tmp_path / "out2", sources_dir=src, progress=False, max_lost_share=1.0)
    assert res.manifest["status"] == "ok"


def test_reproduce_refuses_the_stays_of_a_failed_ingest(tmp_path, capsys):
    raw, src = write_delivery(tmp_path, spec=SPEC_DEFAULT_LIMIT)
    assert cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", str(tmp_path / "out"), "--sources-dir",
                     str(src), "--quiet"]) == 2
    capsys.readouterr()
    assert cli_main(["reproduce", "--stays", str(tmp_path / "out" / "stays.parquet")]) == 2
    assert "failed" in capsys.readouterr().err


# ---- point 12: the cause of a header problem is named (missing, title rows, encoding, BOM) ----

def test_a_missing_header_line_is_named_as_such_without_the_data(tmp_path):
    raw, src = write_delivery(tmp_path, rows=ROWS[1:], header=ROWS[0])  # the header line is gone
    with pytest.raises(IngestError, match="no header: file demo/d.csv: none of the 10 column names") as info:
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    assert "RTM" not in str(info.value)  # the data row is not printed


def test_title_rows_above_the_header_are_skipped_in_excel_and_text(tmp_path):
    raw, src = tmp_path / "raw", tmp_path / "src"
    (raw / "x").mkdir(parents=True)
    src.mkdir()
    wb = xlsxwriter.Workbook(raw / "x" / "book.xlsx")
    ws = wb.add_worksheet("Blad1")
    ws.write_row(0, 0, ["Overzicht LVV Utrecht, peildatum 1 juli 2022"])
    ws.write_row(2, 0, ["Clientnr", "Instroom", "Geslacht", "Gezin", "24u", "MRT"])
    ws.write_row(3, 0, ["A1", "01-03-2020", "M", "N", "N", "N"])
    wb.close()
    mark_synthetic(raw)
    (src / "x.yaml").write_text(
        "name: x\npilot: Utrecht\nfiles:\n  - {pattern: 'x/*.xlsx', reader: excel, sheets: [{name: Blad1}], "
        "constants: {registration_group: official}}\ncolumns: {Clientnr: source_id, Instroom: admission_date, "
        "Geslacht: sex, Gezin: family, 24u: shelter_24h, MRT: mrt_referred}\nlabels: {sex: {M: male}}\n"
        "flags: {true: [J], false: [N]}\ndates: {formats: ['%d-%m-%Y']}\nconstants: {data_cut_date: '2022-07-01'}\n"
        "derive:\n  - {field: in_covenant, method: covenant_from_exclusion}\n")
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    assert res.stays["source_row"].tolist() == [4]
    assert any("the header is on row 3, not on row 1" in w for w in res.manifest["warnings"])
    raw2, src2 = write_delivery(tmp_path / "csv", rows=ROWS, header="Export LVV Rotterdam\n;;\n" + HEADER)
    res2 = run_ingest(raw2, tmp_path / "out2", sources_dir=src2, progress=False)
    assert sorted(res2.stays["source_row"]) == [4, 5, 10]  # line numbers as the file shows them


@pytest.mark.parametrize(("data", "words"), [
    (lambda text: text.encode("utf-16"), "is UTF-16 (little-endian)"),
    (lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), "starts with a UTF-8 byte-order mark"),
])
def test_a_file_in_another_encoding_is_named(tmp_path, data, words):
    raw, src = write_delivery(tmp_path)
    text = (raw / "demo" / "d.csv").read_bytes().decode("cp1252")
    (raw / "demo" / "d.csv").write_bytes(data(text))
    mark_synthetic(raw)
    with pytest.raises(IngestError, match="wrong encoding") as info:
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    assert words in str(info.value) and "cp1252" in str(info.value)


def test_a_stray_byte_order_mark_before_the_header_is_dropped(tmp_path):
    raw, src = write_delivery(tmp_path, spec=SPEC.replace("cp1252", "utf-8"))
    text = (raw / "demo" / "d.csv").read_bytes().decode("cp1252")
    (raw / "demo" / "d.csv").write_bytes(("\ufeff\ufeff" + text).encode("utf-8"))  # a BOM twice
    mark_synthetic(raw)
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    assert sorted(res.stays["source_row"]) == [2, 3, 8]


# ---- point 13: a doubled event log folds back into the same stays -----------------------------

def test_a_doubled_event_log_gives_the_same_stays_with_the_merges_logged(tmp_path):
    raw, src = write_long_delivery(tmp_path / "once")
    once = run_ingest(raw, tmp_path / "o1", sources_dir=src, progress=False)
    doubled = [row for row in LONG_ROWS for _ in range(2)]  # every row twice, each copy right below it
    raw, src = write_long_delivery(tmp_path / "twice", doubled)
    twice = run_ingest(raw, tmp_path / "o2", sources_dir=src, progress=False)
    columns = [c for c in once.stays.columns if c != "source_row"]
    pd.testing.assert_frame_equal(once.stays[columns], twice.stays[columns])
    merges = twice.changes[twice.changes["rule_id"] == "M_EXACT_DUPLICATE_EVENT"]
    assert sorted(merges["source_row"]) == list(range(3, 2 * len(LONG_ROWS) + 2, 2))
    assert merges["new_value"].iloc[0] == "kept long/e.csv row 2"
    acc = twice.manifest["row_accounting"][0]
    assert acc["closes"] and acc["merged"] == len(LONG_ROWS) + 1  # the doubled rows and C4's older intake
    exit_row = merges[merges["source_row"] == 5]  # the copy of C1's exit names the stay it folded into
    assert exit_row["stay_id"].iloc[0] == twice.stays.set_index("source_row").loc[2, "stay_id"]


# ---- point 14: every file is accounted for; a copy beside the original is refused -------------

def test_a_copy_beside_the_delivery_is_refused_and_other_files_are_listed(tmp_path, capsys):
    raw, src = write_delivery(tmp_path)
    (raw / "demo" / "Kopie van d.csv").write_bytes((raw / "demo" / "d.csv").read_bytes())
    mark_synthetic(raw)
    with pytest.raises(IngestError, match=r"several files match 'demo/\*\.csv'.*'demo/Kopie van d.csv', 'demo/d.csv'"):
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    (raw / "demo" / "Kopie van d.csv").rename(raw / "notities.xlsx")
    mark_synthetic(raw)
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=True)
    files = {f["file"]: f for f in res.manifest["files"]}
    assert files["demo/d.csv"]["status"] == "read"
    assert files["notities.xlsx"] == {"file": "notities.xlsx", "status": "ignored",
                                      "reason": "matches no source spec's file pattern"}
    assert files["SYNTHETIC.json"]["status"] == "ignored"
    assert set(files) == {p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file()}
    assert "1 file(s) under the raw folder match no source spec" in capsys.readouterr().err


def test_a_spec_may_allow_several_files(tmp_path):
    raw, src = write_delivery(tmp_path, spec=SPEC.replace("    reader: csv\n", "    reader: csv\n    several: true\n"))
    (raw / "demo" / "e.csv").write_bytes((HEADER + "\nRTM-50;01-05-2020;;;M;40;J;N;N;\n").encode("cp1252"))
    mark_synthetic(raw)
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    assert sorted(res.stays["source_file"].unique()) == ["demo/d.csv", "demo/e.csv"]


# ---- point 15: --strict lists every failing row by rule and pilot; unknown --skip refused ----

def test_strict_lists_every_rule_and_writes_the_quarantine(tmp_path, capsys):
    raw, src = write_delivery(tmp_path)
    assert cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", str(tmp_path / "out"), "--sources-dir", str(src),
                     "--strict", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Rotterdam: 1 row(s) fail V_ADMISSION_PRESENT" in err
    assert "Rotterdam: 2 row(s) fail V_EXIT_LABEL_MAPPED" in err and "row 5" in err and "row 6" in err
    assert "Rotterdam: 1 row(s) fail V_EXIT_BEFORE_ADMISSION" in err
    assert len(pd.read_parquet(tmp_path / "out" / "quarantine.parquet")) == 4


@pytest.mark.parametrize(("step", "words"), [("NOT_A_RULE", "no such step"),
                                             ("V_AGE_RANGE", "cannot be switched off")])
def test_unknown_skip_ids_are_refused(tmp_path, capsys, step, words):
    raw, src = write_delivery(tmp_path)
    assert cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", str(tmp_path / "out"), "--sources-dir", str(src),
                     "--skip", step]) == 2
    err = capsys.readouterr().err
    assert words in err and "R_DAYMONTH_SWAP" in err and not (tmp_path / "out").exists()


# ---- point 16: an unknown label in a descriptive field becomes missing, logged and warned ----

COUNTRY_SPEC = SPEC.replace("ignore_columns: [Opmerking]", "ignore_columns: [Opmerking]\n").replace(
    "  Leeftijd: age_at_admission\n", "  Leeftijd: age_at_admission\n  Land: country_of_origin\n").replace(
    "  sex: {M: male, V: female}\n", "  sex: {M: male, V: female}\n  country_of_origin: {include: vocab/countries.yaml, language: nl}\n")


def test_an_unknown_country_label_becomes_missing_with_a_logged_change(tmp_path, capsys):
    header = HEADER + ";Land"
    rows = [ROWS[0] + ";Syrië", "RTM-60;01-03-2020;;;M;40;J;N;N;;Atlantis"]
    raw, src = write_delivery(tmp_path, rows=rows, header=header, spec=COUNTRY_SPEC)
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    stays = res.stays.set_index("source_row")
    assert sorted(stays.index) == [2, 3] and res.quarantine.empty
    assert stays.loc[2, "country_of_origin"] == "SYR" and pd.isna(stays.loc[3, "country_of_origin"])
    change = res.changes[res.changes["rule_id"] == "R_UNMAPPED_DESCRIPTIVE_TO_MISSING"]
    assert change[["source_row", "column", "old_value"]].values.tolist() == [[3, "Land", "<Aaaaaaaa, 8 chars>"]]
    assert change["stay_id"].iloc[0] == stays.loc[3, "stay_id"]
    assert any("column 'Land'" in w for w in res.manifest["warnings"])
    cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", str(tmp_path / "o2"), "--sources-dir", str(src), "--quiet"])
    err = capsys.readouterr().err
    assert "warning: Rotterdam: 1 cell(s) of column 'Land'" in err and "Atlantis" not in err
    off = run_ingest(raw, tmp_path / "o3", sources_dir=src, progress=False,
                     skip_steps=["R_UNMAPPED_DESCRIPTIVE_TO_MISSING"])
    assert off.quarantine.set_index("source_row")["rule_id"].to_dict() == {3: "V_LABELS_MAPPED"}


# ---- point 17: the sheet is part of a stay's provenance ---------------------------------------

def test_stays_name_the_sheet_of_their_source_row(tmp_path):
    raw, src = tmp_path / "raw", tmp_path / "src"
    (raw / "x").mkdir(parents=True)
    src.mkdir()
    wb = xlsxwriter.Workbook(raw / "x" / "book.xlsx")
    for name, cid in (("Officieel", "A1"), ("Voorlopig", "A2")):
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, ["Clientnr", "Instroom", "Geslacht", "Gezin", "24u", "MRT"])
        ws.write_row(1, 0, [cid, "01-03-2020", "M", "N", "N", "N"])
    wb.close()
    mark_synthetic(raw)
    (src / "x.yaml").write_text(
        "name: x\npilot: Utrecht\nfiles:\n  - {pattern: 'x/*.xlsx', reader: excel, sheets: [{name: Officieel, constants: "
        "{registration_group: official}}, {name: Voorlopig, constants: {registration_group: pre_lso}}]}\n"
        "columns: {Clientnr: source_id, Instroom: admission_date, Geslacht: sex, Gezin: family, 24u: shelter_24h, "
        "MRT: mrt_referred}\nlabels: {sex: {M: male}}\nflags: {true: [J], false: [N]}\n"
        "dates: {formats: ['%d-%m-%Y']}\nconstants: {data_cut_date: '2022-07-01'}\n"
        "derive:\n  - {field: in_covenant, method: covenant_from_exclusion}\n")
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    got = res.stays[["source_file", "source_sheet", "source_row"]].sort_values("source_sheet").values.tolist()
    assert got == [["x/book.xlsx", "Officieel", 2], ["x/book.xlsx", "Voorlopig", 2]]
