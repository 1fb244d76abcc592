"""Ingest machinery on small hand-made deliveries: readers, mapping, rules, change log, errors,
pseudonymisation and atomic output. Expected values are worked out by hand in each test."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from lvv_eval.cli import main as cli_main
from lvv_eval.config import DEMO_PSEUDONYM_KEY
from lvv_eval.errors import UserError
from lvv_eval.ingest.errors import IngestError, SpecError
from lvv_eval.ingest.mapping import map_labels, parse_dates
from lvv_eval.ingest.pipeline import run_ingest
from lvv_eval.ingest.readers import column_text
from lvv_eval.ingest.rules import Rule, confront
from lvv_eval.ingest.tracking import REDACTED, ChangeLog, apply_tracked
from lvv_eval.pseudonym import person_key
from tests.helpers.small_delivery import HEADER, LONG_ROWS, LONG_SPEC, ROWS, SPEC, write_delivery
from tests.helpers.synthetic import mark_synthetic


@pytest.fixture
def delivery(tmp_path) -> tuple[Path, Path]:
    return write_delivery(tmp_path)


def test_small_delivery_end_to_end(delivery, tmp_path):
    raw, src = delivery
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    # lines 2, 3, 8 become stays; 4 (no admission), 5 and 6 (unmapped), 7 (exit before admission) quarantined
    assert sorted(res.stays["source_row"]) == [2, 3, 8]
    assert res.quarantine.set_index("source_row")["rule_id"].to_dict() == {
        4: "V_ADMISSION_PRESENT", 5: "V_EXIT_LABEL_MAPPED", 6: "V_EXIT_LABEL_MAPPED", 7: "V_EXIT_BEFORE_ADMISSION"}
    assert "column 'Reden' value <aaa aaaaaaa, 11 chars, #" in res.quarantine.set_index("source_row").loc[5, "detail"]
    by_rule = res.changes.groupby("rule_id")["source_row"].apply(list).to_dict()
    assert by_rule == {"R_TRIM_WHITESPACE": [3], "R_SENTINEL_TO_MISSING": [3], "R_DAYMONTH_SWAP": [8]}
    swap = res.changes[res.changes["rule_id"] == "R_DAYMONTH_SWAP"].iloc[0]
    assert (swap["column"], swap["old_value"], swap["new_value"]) == ("Datum uitstroom", "2020-02-04", "2020-04-02")
    trim = res.changes[res.changes["rule_id"] == "R_TRIM_WHITESPACE"].iloc[0]
    assert trim["old_value"] == REDACTED and "RTM" not in trim.to_string()
    row3 = res.stays.set_index("source_row").loc[3]
    key = DEMO_PSEUDONYM_KEY.encode()
    assert row3["person_id"] == person_key("RTM-2", "Rotterdam", key) and row3["stay_id"].endswith("-1")
    assert pd.isna(row3["age_at_admission"])
    acc = res.manifest["row_accounting"][0]
    assert (acc["raw_rows"], acc["stays"], acc["quarantined"], acc["closes"]) == (7, 3, 4, True)
    validation = res.validation.set_index("rule_id")
    assert validation.loc["V_ADMISSION_PRESENT", ["items", "passes", "fails"]].tolist() == [7, 6, 1]
    # exit before admission is missing (not failed) where the admission date is missing
    assert validation.loc["V_EXIT_BEFORE_ADMISSION", "missing"] == 1
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"stays.parquet", "quarantine.parquet", "changes.parquet", "validation.csv", "manifest.json",
            "capacity.csv", "SYNTHETIC.txt"} <= written
    for p in (tmp_path / "out").iterdir():
        assert b"RTM-" not in p.read_bytes(), p.name


def test_repairs_can_be_switched_off_by_id(delivery, tmp_path):
    raw, src = delivery
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False, skip_steps=["R_DAYMONTH_SWAP"])
    assert res.quarantine.set_index("source_row").loc[8, "rule_id"] == "V_EXIT_BEFORE_ADMISSION"
    assert res.manifest["row_accounting_closes"]


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda raw, src: (raw / "demo" / "d.csv").unlink(), ["missing file", "demo/*.csv", "demo.yaml"]),
        (lambda raw, src: (raw / "demo" / "d.csv").write_bytes(b""), ["empty file", "demo/d.csv"]),
        (lambda raw, src: (raw / "demo" / "d.csv").write_bytes(HEADER.encode() + b"\n"), ["empty file", "no data rows"]),
        (lambda raw, src: (raw / "demo" / "d.csv").write_bytes(
            (HEADER.replace(";Gezin", "") + "\n" + ROWS[0].replace(";N;N;", ";N;", 1) + "\n").encode("cp1252")),
         ["missing column", "column 'Gezin'", "demo/d.csv"]),
        (lambda raw, src: (raw / "demo" / "d.csv").write_bytes(
            (HEADER + ";Extra\n" + ROWS[0] + ";x\n").encode("cp1252")),
         ["unexpected column", "column 'Extra'", "ignore_columns"]),
        (lambda raw, src: (src / "demo.yaml").write_text(SPEC.replace("cp1252", "utf-8")),
         ["undecodable encoding", "row 2", "utf-8", "encoding"]),
        (lambda raw, src: (src / "demo.yaml").write_text(SPEC.replace("Clientnr: source_id", "Clientnr: client")),
         ["source spec", "unknown field 'client'"]),
    ],
)
def test_bad_input_gives_one_clear_message_and_writes_nothing(tmp_path, mutate, words):
    raw, src = write_delivery(tmp_path)
    mutate(raw, src)
    mark_synthetic(raw)
    with pytest.raises(IngestError) as info:
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    message = str(info.value)
    for word in words:
        assert word in message, message
    assert not (tmp_path / "out").exists()
    assert isinstance(info.value, UserError)


def test_wrong_sheet_is_named_with_the_sheets_there_are(tmp_path):
    raw, src = tmp_path / "raw", tmp_path / "src"
    (raw / "x").mkdir(parents=True)
    src.mkdir()
    wb = xlsxwriter.Workbook(raw / "x" / "book.xlsx")
    wb.add_worksheet("Blad1").write_row(0, 0, ["Clientnr"])
    wb.close()
    mark_synthetic(raw)
    (src / "x.yaml").write_text("name: x\npilot: Utrecht\nfiles:\n  - {pattern: 'x/*.xlsx', reader: excel, "
                                "sheets: [{name: Deelnemers}]}\ncolumns: {Clientnr: source_id}\n"
                                    "constants: {data_cut_date: '2022-07-01'}\n")
    with pytest.raises(IngestError, match=r"wrong sheet: file x/book.xlsx has no sheet 'Deelnemers' \(sheets: \['Blad1'\]\)"):
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)


def test_real_data_without_a_key_are_refused(tmp_path, monkeypatch):
    raw, src = write_delivery(tmp_path, synthetic=False)
    monkeypatch.delenv("LVV_PSEUDONYM_KEY", raising=False)
    with pytest.raises(IngestError, match="LVV_PSEUDONYM_KEY"):
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    secret = "a-secret-for-the-test-0123456789abcdef"
    monkeypatch.setenv("LVV_PSEUDONYM_KEY", secret)
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    assert res.manifest["synthetic"] is False
    assert res.stays.set_index("source_row").loc[2, "person_id"] == person_key("RTM-1", "Rotterdam", secret.encode())


def test_a_failed_run_leaves_the_previous_output_intact(delivery, tmp_path):
    raw, src = delivery
    out = tmp_path / "out"
    run_ingest(raw, out, sources_dir=src, progress=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (raw / "demo" / "d.csv").write_bytes(b"")
    mark_synthetic(raw)
    with pytest.raises(IngestError, match="empty file"):
        run_ingest(raw, out, sources_dir=src, progress=False)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_cli_reports_a_user_error_in_one_line(delivery, tmp_path, capsys):
    raw, src = delivery
    (raw / "demo" / "d.csv").unlink()
    mark_synthetic(raw)
    code = cli_main(["ingest", "--raw-dir", str(raw), "--out-dir", str(tmp_path / "o"), "--sources-dir", str(src)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("lvv-eval ingest: error: missing file")


def test_dates_in_several_formats_dutch_month_names_and_excel_serials():
    values = pd.Series(["3 maart 2020", "2020-03-03", "03-03-2020", "43893", "15 mei 2021", "31-02-2020", None],
                       dtype="str")
    months = {"maart": 3, "mei": 5}
    dates, bad = parse_dates(values, ["%d-%m-%Y", "%Y-%m-%d", "%d %m %Y"], excel_serial=True, month_names=months)
    assert dates.dt.strftime("%Y-%m-%d").tolist()[:5] == ["2020-03-03"] * 4 + ["2021-05-15"]
    assert bad.tolist() == [False] * 5 + [True, False]  # 31 February is not a date; missing is not unparsed


def test_labels_map_case_insensitively_and_flag_the_unknown():
    mapped, unmapped = map_labels(pd.Series(["Man", " man", "VROUW", "x", None], dtype="str"),
                                  {"man": "male", "vrouw": "female", "onbekend": None})
    assert mapped.tolist()[:3] == ["male", "male", "female"]
    assert unmapped.tolist() == [False, False, False, True, False]


def test_excel_cells_become_text_like_a_spreadsheet_shows_them():
    assert column_text([1.0, "", 2.5, 43831.0]).tolist()[::2] == ["1", "2.5"]
    assert column_text([dt.date(2020, 1, 2), dt.datetime(2020, 1, 2, 13, 5)]).tolist() == [
        "2020-01-02", "2020-01-02 13:05:00"]


def test_rules_count_missing_and_survive_a_broken_rule():
    records = pd.DataFrame({"admission_date": pd.to_datetime(["2020-01-01", None, "2020-01-05"]),
                            "exit_date": pd.to_datetime(["2020-02-01", "2020-01-01", "2020-01-01"])})
    rules = [Rule(id="V_ORDER", label="exit not before admission", severity="error",
                  expression="isna(exit_date) | (exit_date >= admission_date)"),
             Rule(id="V_BROKEN", label="refers to a field that is not there", severity="error",
                  expression="no_such_field > 1")]
    conf = confront(records, pd.DataFrame(index=records.index), rules)
    s = conf.summary.set_index("rule_id")
    assert s.loc["V_ORDER", ["items", "passes", "fails", "missing", "errors"]].tolist() == [3, 1, 1, 1, 0]
    assert s.loc["V_BROKEN", "errors"] == 3 and "NameError" in s.loc["V_BROKEN", "error_message"]


def test_change_log_records_what_a_repair_changes_without_the_repair_logging():
    frame = pd.DataFrame({"_file": "f.csv", "_sheet": "", "_row": [2, 3, 4],
                          "source_id": pd.Series(["V1 ", "V2", "V3"], dtype="str"),
                          "age": pd.array([40, -5, 200], dtype="Int64")})
    log = ChangeLog()

    def repair(f: pd.DataFrame) -> dict[str, pd.Series]:
        return {"source_id": f["source_id"].str.strip(), "age": f["age"].where(f["age"].between(0, 100))}

    out = apply_tracked(frame, repair, rule_id="R_TEST", step="repair:test", pilot="Utrecht", log=log,
                        column_names={"age": "Leeftijd"}, redact=["source_id"])
    changes = log.frame()
    assert changes[["source_row", "column", "old_value"]].values.tolist() == [
        [2, "source_id", REDACTED], [3, "Leeftijd", "-5"], [4, "Leeftijd", "200"]]
    assert out["age"].isna().tolist() == [False, True, True] and frame["age"].notna().all()


def test_spec_typos_are_errors_naming_the_file(tmp_path):
    raw, src = write_delivery(tmp_path, spec=SPEC + "colums: {}\n")
    with pytest.raises(SpecError, match=r"demo.yaml: \(top level\): unknown key\(s\) \['colums'\]; "
                       r"allowed: .*\(did you mean 'columns'\?\)"):
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    (src / "demo.yaml").write_text(SPEC.replace("residence_permit", "residence_permitt"))
    with pytest.raises(SpecError, match="residence_permitt"):
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)


def test_every_spec_problem_is_reported_at_once_with_its_yaml_path(tmp_path):
    """The declared schema (spec_models.SourceSpec) and its cross-checks report all problems of
    a spec in one message, each line naming the file and the YAML path."""
    bad = (SPEC.replace("pilot: Rotterdam", "pilot: Rotterdm")
               .replace("reader: csv", "reader: cvs")
               .replace("sex: {M: male, V: female}", "sex: {M: male, V: femail}")
               .replace("method: covenant_from_exclusion", "method: covenant_from_exclusions")
           + "recodes:\n  - {rule: R_OLD_DEFINITON_TEMPORARY, field: exit_reason, map: {a: b}}\n"
           + "  - {rule: R_TRIM_WHITESPACE, field: exit_reason, map: {a: b}}\n")
    raw, src = write_delivery(tmp_path, spec=bad)
    with pytest.raises(SpecError) as err:
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    lines = str(err.value).splitlines()
    assert lines[0].startswith("source spec ") and lines[0].endswith("demo.yaml: 6 problem(s):")
    expected = [
        "demo.yaml: pilot: unknown pilot 'Rotterdm' (choose one of Amsterdam, Eindhoven,",
        "demo.yaml: files[0].reader: unknown reader 'cvs' (choose one of csv, excel)",
        "demo.yaml: labels.sex: maps to ['femail'], which are not values of 'sex'",
        "demo.yaml: derive[0]: unknown method 'covenant_from_exclusions' (choose one of "
        "age_from_birth_date, age_from_birth_year, covenant_from_exclusion,",
        "demo.yaml: recodes[0].rule: unknown repair rule 'R_OLD_DEFINITON_TEMPORARY': a recode runs"
        " as a repair of repairs.yaml (repairs that recode labels: R_OLD_DEFINITION_TEMPORARY)",
        "demo.yaml: recodes[1].rule: repair 'R_TRIM_WHITESPACE' does not recode labels",
    ]
    for text in expected:
        assert any(line.strip().startswith(text) for line in lines), (text, lines)
    assert lines[-1] == "Fix the YAML file and run again."


def test_a_spec_mapping_is_validated_without_a_file(tmp_path):
    """What `lvv-eval spec check` will use: a mapping in, a SourceSpec (or every problem) out."""
    import yaml

    from lvv_eval.ingest.spec import validate_source_spec

    mapping = yaml.safe_load(SPEC)
    spec = validate_source_spec(mapping, tmp_path / "demo.yaml")
    assert (spec.pilot, spec.path, spec.flags.true, spec.date_formats) == (
        "Rotterdam", tmp_path / "demo.yaml", ("J",), ("%d-%m-%Y",))
    mapping["recodes"] = [{"rule": "R_MINE", "field": "exit_reason", "map": {"a": "b"}}]
    assert validate_source_spec(mapping, "x.yaml", {"R_MINE": "recode_labels"}).recodes[0].mapping == {"a": "b"}
    with pytest.raises(SpecError, match=r"x.yaml: recodes\[0\].rule: unknown repair rule 'R_MINE'"):
        validate_source_spec(mapping, "x.yaml")


def test_manifest_lists_inputs_with_hashes(delivery, tmp_path):
    raw, src = delivery
    run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False, skip_steps=["R_TRIM_WHITESPACE"])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    import hashlib
    assert manifest["inputs"][0]["sha256"] == hashlib.sha256((raw / "demo" / "d.csv").read_bytes()).hexdigest()
    assert manifest["parameters"]["skip_steps"] == ["R_TRIM_WHITESPACE"]
    assert manifest["versions"]["pandas"] == pd.__version__


def test_rows_of_another_width_are_quarantined_not_fatal(tmp_path):
    rows = [*ROWS, "RTM-9;01-03-2020;;;M;40;J;N;N;x;EXTRA;MORE", "RTM-10;01-03-2020"]
    raw, src = write_delivery(tmp_path, rows=rows)
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    q = res.quarantine.set_index("source_row")
    assert q.loc[[9, 10], "rule_id"].tolist() == ["V_ROW_SHAPE", "V_ROW_SHAPE"]
    assert '"_extra": "<AAAAA;AAAA, 10 chars, #' in q.loc[9, "cells"]
    assert sorted(res.stays["source_row"]) == [2, 3, 8] and res.manifest["row_accounting_closes"]


def test_long_event_layout_folds_events_into_stays(tmp_path):
    raw, src = tmp_path / "raw", tmp_path / "src"
    (raw / "long").mkdir(parents=True)
    src.mkdir()
    (raw / "long" / "e.csv").write_text("\n".join(["Client,Type,Date,Value,Mod", *LONG_ROWS]) + "\n")
    mark_synthetic(raw)
    (src / "long.yaml").write_text(LONG_SPEC)
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    stays = res.stays.set_index("source_row")
    assert sorted(stays.index) == [2, 4, 6, 9]
    assert stays.loc[2, "exit_date"] == pd.Timestamp("2020-03-01") and stays.loc[2, "exit_reason"] == "return_origin"
    assert pd.isna(stays.loc[4, "exit_date"]) and stays.loc[4, "stay_id"].endswith("-2")
    assert stays.loc[6, "scenario"] == "departure" and stays.loc[6, "scenario_date"] == pd.Timestamp("2020-02-15")
    assert stays.loc[9, "exit_date"] == pd.Timestamp("2020-04-01")
    assert res.quarantine.set_index("source_row")["rule_id"].to_dict() == {7: "V_ADMISSION_PRESENT"}
    merges = res.changes[res.changes["rule_id"].str.startswith("M_")]
    assert merges[["rule_id", "source_row"]].values.tolist() == [["M_KEY_DUPLICATE", 8]]
    acc = res.manifest["row_accounting"][0]
    assert (acc["raw_rows"], acc["stays"], acc["events"], acc["quarantined"], acc["merged"]) == (9, 4, 3, 1, 1)


def test_a_column_without_header_is_an_error_not_dropped(tmp_path):
    header = HEADER.replace(";Opmerking", ";;Opmerking")
    raw, src = write_delivery(tmp_path, rows=[r.replace(";N;N;", ";N;N;;", 1) for r in ROWS[:1]], header=header)
    with pytest.raises(IngestError, match=r"file demo/d.csv: column number 10 has no header"):
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)


def test_a_header_ending_in_the_delimiter_is_fine(tmp_path):
    raw, src = write_delivery(tmp_path, rows=[r + ";" for r in ROWS], header=HEADER + ";")
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    assert sorted(res.stays["source_row"]) == [2, 3, 8]


def test_excel_cells_beyond_the_header_are_an_error(tmp_path):
    raw, src = tmp_path / "raw", tmp_path / "src"
    (raw / "x").mkdir(parents=True)
    src.mkdir()
    wb = xlsxwriter.Workbook(raw / "x" / "book.xlsx")
    ws = wb.add_worksheet("Blad1")
    ws.write_row(0, 0, ["Clientnr"])
    ws.write_row(1, 0, ["V1"])
    ws.write_row(2, 0, ["V2", "stray note"])
    wb.close()
    mark_synthetic(raw)
    (src / "x.yaml").write_text("name: x\npilot: Utrecht\nfiles:\n  - {pattern: 'x/*.xlsx', reader: excel, "
                                "sheets: [{name: Blad1}]}\ncolumns: {Clientnr: source_id}\n"
                                    "constants: {data_cut_date: '2022-07-01'}\n")
    with pytest.raises(IngestError, match=r"sheet 'Blad1', row 3: cells to the right of the last named column"):
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)


@pytest.mark.parametrize(("name", "text", "problems"), [
    ("repairs.yaml",
     "repairs:\n  - {id: R_A, stage: cooked, action: trim_whitespace}\n"
     "  - {id: R_B, stage: raw, action: trim_whitespaces}\n"
     "  - {id: R_A, stage: raw, when: 'age > 1'}\n",
     ["repairs[0].stage: unknown stage 'cooked'",
      "repairs[1].action: unknown action 'trim_whitespaces'",
      "repairs[2]: a 'when' needs the values to 'set'"]),
    ("validation_rules.yaml",
     "rules:\n  - {id: V_A, label: a, severity: error, expression: 'x > 1'}\n"
     "  - {id: V_C, label: c, severity: fatal, expresion: 'x'}\n",
     ["rules[1].severity: unknown severity 'fatal' (choose one of error, warning)",
      "rules[1].expression: missing (required)",
      "rules[1]: unknown key(s) ['expresion']"]),
    ("validation_rules.yaml",
     "rules:\n  - {id: V_A, label: a, severity: error, expression: 'x > 1'}\n"
     "  - {id: V_A, label: b, severity: warning, expression: 'x > 2'}\n",
     ["rules[1].id: rule id 'V_A' also used by entry 1"]),
])
def test_rules_and_repairs_files_report_every_problem_with_its_yaml_path(tmp_path, name, text, problems):
    from lvv_eval.ingest.repairs import load_repairs
    from lvv_eval.ingest.rules import load_rules

    (tmp_path / name).write_text(text)
    load = load_repairs if name == "repairs.yaml" else load_rules
    with pytest.raises(SpecError) as err:
        load(tmp_path / name)
    for problem in problems:
        assert f"{name}: {problem}" in str(err.value)
    assert f"{len(problems)} problem(s)" in str(err.value)
