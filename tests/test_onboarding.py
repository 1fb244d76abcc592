"""Issue 15: a data manager onboards a real delivery alone.

The worked example of docs/SOURCE_SPECS.md (``docs/examples/onboarding/``: a delivery in a new
layout and the specs folder written for it) is ingested from a data root of its own, with the
specs beside the data, and gives the same stays as the same records in a plain layout. Then the
spec mistakes that used to pass silently or explode, the messages that point at the spec, and the
``lvv-eval spec`` verb.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from lvv_eval.cli import main
from lvv_eval.config import PROJECT_ROOT
from lvv_eval.ingest.errors import IngestError, SpecError
from lvv_eval.ingest.pipeline import run_ingest
from lvv_eval.ingest.spec import load_spec
from tests.helpers import small_delivery as sd
from tests.helpers.synthetic import mark_synthetic

EXAMPLE = PROJECT_ROOT / "docs" / "examples" / "onboarding"
GUIDE = PROJECT_ROOT / "docs" / "SOURCE_SPECS.md"
KEY = "onboarding-test-key-0123456789abcdef0123456789"

# the example's six records in a plain layout (ISO dates, exit dates and reasons in one column each)
PLAIN_SPEC = """
name: plain
pilot: Rotterdam
files:
  - {pattern: "plain/*.csv", reader: csv, constants: {registration_group: official}}
columns: {client: source_id, admitted: admission_date, left: exit_date, reason: exit_reason, sex: sex,
          born: birth_date, shelter24: shelter_24h, family: family, mrt: mrt_referred}
constants: {data_cut_date: "2022-07-01"}
flags: {true: [J], false: [N]}
labels:
  sex: {M: male, V: female}
  exit_reason: {T: return_origin, O: unknown_destination, H: subsequent_asylum}
derive:
  - {field: age_at_admission, method: age_from_birth_date}
  - {field: in_covenant, method: covenant_from_exclusion}
"""
PLAIN = """client,admitted,left,reason,sex,born,shelter24,family,mrt
RTM-1,2020-03-15,,,M,1980-05-12,J,N,N
RTM-2,2020-01-10,2020-04-19,T,V,1975-11-03,N,N,J
RTM-3,2019-06-01,2019-07-16,O,M,1990-01-01,J,N,N
RTM-4,2020-07-01,2020-07-31,T,M,1985-02-28,J,J,N
RTM-5,2021-02-20,,,V,2001-07-07,N,N,N
RTM-6,2019-09-09,2020-03-27,H,M,1968-10-15,J,N,J
"""


@pytest.fixture
def example_root(tmp_path, monkeypatch) -> Path:
    """A data root holding the worked example: data_raw/ with the delivery, specs/ beside it."""
    root = tmp_path / "root"
    shutil.copytree(EXAMPLE, root)
    monkeypatch.setenv("LVV_DATA_ROOT", str(root))
    monkeypatch.setenv("LVV_PSEUDONYM_KEY", KEY)
    return root


def _plain_stays(tmp_path: Path) -> pd.DataFrame:
    raw, src = tmp_path / "plain_raw", tmp_path / "plain_src"
    (raw / "plain").mkdir(parents=True)
    src.mkdir()
    (raw / "plain" / "export.csv").write_text(PLAIN, encoding="utf-8")
    (src / "plain.yaml").write_text(PLAIN_SPEC, encoding="utf-8")
    return run_ingest(raw, tmp_path / "plain_out", progress=False, sources_dir=src).stays


def test_the_guide_shows_the_example_spec_as_it_is_tested():
    """The spec, vocabulary and repairs printed in the guide are the files the next test ingests."""
    guide = GUIDE.read_text(encoding="utf-8")
    for rel in ("specs/rotterdam_v2.yaml", "specs/vocab/uitstroom_rotterdam_v2.yaml", "specs/repairs.yaml"):
        text = (EXAMPLE / rel).read_text(encoding="utf-8")
        assert text.strip() in guide, f"docs/SOURCE_SPECS.md does not show {rel} as it is"


def test_a_new_layout_from_the_guide_gives_the_same_stays_as_the_plain_layout(example_root, tmp_path, capsys):
    assert main(["ingest"]) == 0  # specs from $LVV_DATA_ROOT/specs, deliveries from data_raw/
    err = capsys.readouterr().err
    assert "1 footer row(s) left out" in err and "header is on row 4" in err
    clean = example_root / "data_clean"
    manifest = json.loads((clean / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok" and manifest["synthetic"] is False
    assert manifest["parameters"]["sources_dir"] == str((example_root / "specs").resolve())
    for rel in ("rotterdam_v2.yaml", "repairs.yaml", "vocab/uitstroom_rotterdam_v2.yaml"):
        assert len(manifest["spec_files"][f"specs_dir:{rel}"]) == 64
    assert manifest["row_accounting"][0]["raw_rows"] == 6  # the "Totaal" line is not a row
    new = pd.read_parquet(clean / "stays.parquet")
    assert len(new) == 6 and pd.read_parquet(clean / "quarantine.parquet").empty
    changes = pd.read_parquet(clean / "changes.parquet")
    assert list(changes["rule_id"]) == ["R_ROTTERDAM_V2_OLD_EXIT"]  # the folder's own repair ran
    plain = _plain_stays(tmp_path)
    cols = [c for c in plain.columns if c not in ("source_file", "source_row")]
    pd.testing.assert_frame_equal(new[cols], plain[cols].astype(new[cols].dtypes.to_dict()))
    assert main(["reproduce", "--publication", "all"]) == 0


def test_run_forwards_the_specs_folder(example_root, tmp_path, capsys):
    from lvv_eval.cli.run import stage_steps

    elsewhere = tmp_path / "elsewhere"
    shutil.move(example_root / "specs", elsewhere)
    steps = dict(stage_steps(example_root / "data_raw", elsewhere))
    assert steps["ingest"][-2:] == ["--specs-dir", str(elsewhere)]
    assert main(["ingest", "--specs-dir", str(elsewhere), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["ingest"]) == 2  # no specs in $LVV_DATA_ROOT/specs: the package's do not fit
    err = capsys.readouterr().err
    assert f"for real deliveries put your own specs in {example_root / 'specs'} or name their folder" in err


@pytest.mark.slow
def test_run_takes_the_worked_example_from_ingest_to_the_report(example_root, capsys):
    """User specs beside the data pass through `lvv-eval run` without touching the package: six
    stays of one pilot, no chain extracts, no guidance intensity delivered. The report's sections
    the data cannot support say so instead of failing the run."""
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "nothing to link" in out and "7 ran" in out
    run = sorted(p for p in (example_root / "reports").iterdir() if p.name[:2].isdigit())[-1]
    page = (run / "05_shelter_and_guidance.html").read_text(encoding="utf-8")
    assert "niet te berekenen" in page


def test_synthetic_deliveries_keep_the_package_specs(tmp_path, monkeypatch):
    """A specs folder in the data root is for the real deliveries; the SYNTHETIC default is read
    with the package's specs unless --specs-dir says otherwise."""
    from lvv_eval.ingest.spec import specs_folder

    monkeypatch.setenv("LVV_DATA_ROOT", str(tmp_path))
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "x.yaml").write_text("name: x\n", encoding="utf-8")
    assert specs_folder(None, synthetic=True) is None
    assert specs_folder(None, synthetic=False) == tmp_path / "specs"
    with pytest.raises(SpecError, match="specs folder .*nope does not exist"):
        specs_folder(tmp_path / "nope")


# ---- spec mistakes become load-time errors naming the file and the key ----------------------

def _spec(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_data_cut_date_is_named_at_load_time(tmp_path):
    text = sd.SPEC.replace('constants: {data_cut_date: "2022-07-01"}', "")
    with pytest.raises(SpecError, match=r"demo.yaml: constants.data_cut_date: missing \(required\)"):
        load_spec(_spec(tmp_path, text))
    raw, src = sd.write_delivery(tmp_path / "d", spec=text)
    with pytest.raises(SpecError) as exc:
        run_ingest(raw, tmp_path / "out", progress=False, sources_dir=src)
    assert len(str(exc.value)) < 1000  # one problem line, no pandera report


def test_a_birth_date_without_an_age_derivation_is_named(tmp_path):
    text = sd.SPEC.replace("  Leeftijd: age_at_admission\n", "  Leeftijd: birth_date\n")
    with pytest.raises(SpecError, match=r"demo.yaml: derive: 'birth_date' is mapped but nothing fills "
                                        r"age_at_admission.*method: age_from_birth_date"):
        load_spec(_spec(tmp_path, text))
    load_spec(_spec(tmp_path, text + "  - {field: age_at_admission, method: age_from_birth_date}\n"))


def test_a_recode_may_name_a_repair_of_its_own_folder_but_not_reuse_a_package_id(tmp_path):
    recode = "recodes:\n  - {rule: R_MINE, field: exit_reason, map: {'3': '1'}}\n"
    path = _spec(tmp_path, sd.SPEC + recode)
    with pytest.raises(SpecError, match=r"demo.yaml: recodes\[0\].rule: unknown repair rule 'R_MINE'"):
        load_spec(path)
    (tmp_path / "repairs.yaml").write_text(
        "repairs:\n  - {id: R_MINE, stage: text, action: recode_labels}\n", encoding="utf-8")
    assert load_spec(path).recodes[0].rule == "R_MINE"
    (tmp_path / "repairs.yaml").write_text(
        "repairs:\n  - {id: R_TRIM_WHITESPACE, stage: raw, action: trim_whitespace}\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"R_TRIM_WHITESPACE.*are repairs of the package"):
        load_spec(path)


def test_two_specs_reading_one_file_are_named(tmp_path):
    raw, src = sd.write_delivery(tmp_path)
    shutil.copy(src / "demo.yaml", src / "demo_copy.yaml")
    with pytest.raises(IngestError, match=r"overlapping source specs: file demo/d.csv matches demo.yaml "
                                          r"\(files\[0\].pattern 'demo/\*.csv'\) and demo_copy.yaml"):
        run_ingest(raw, tmp_path / "out", progress=False, sources_dir=src)


def test_two_deliveries_of_the_same_stays_are_named(tmp_path):
    raw, src = sd.write_delivery(tmp_path)
    (raw / "again").mkdir()
    shutil.copy(raw / "demo" / "d.csv", raw / "again" / "d.csv")
    mark_synthetic(raw)
    (src / "again.yaml").write_text(sd.SPEC.replace('"demo/*.csv"', '"again/*.csv"'), encoding="utf-8")
    with pytest.raises(IngestError, match=r"overlapping source specs: 3 stays come from the deliveries of "
                                          r"again.yaml and demo.yaml"):
        run_ingest(raw, tmp_path / "out", progress=False, sources_dir=src)


# ---- messages that point at the spec ----------------------------------------------------------

def _ingest_error(tmp_path: Path, **kwargs) -> str:
    raw, src = sd.write_delivery(tmp_path, **kwargs)
    with pytest.raises(IngestError) as exc:
        run_ingest(raw, tmp_path / "out", progress=False, sources_dir=src)
    return str(exc.value)


def test_a_wrong_delimiter_is_named_with_the_one_that_fits(tmp_path):
    message = _ingest_error(tmp_path, spec=sd.SPEC.replace('delimiter: ";"', 'delimiter: ","'))
    assert "With delimiter ';' row 1 holds the spec's column names: set delimiter: \";\"" in message
    assert "RTM" not in message  # no data shown


def test_a_header_far_below_the_declared_row_is_named_with_its_row(tmp_path):
    titles = "\n".join(["Overzicht LVV"] + [""] * 13)
    message = _ingest_error(tmp_path, header=titles + "\n" + sd.HEADER)
    assert "The spec's column names are on row 15: set header_row: 15" in message


def test_a_renamed_column_is_named_with_the_headers_found(tmp_path):
    message = _ingest_error(tmp_path, header=sd.HEADER.replace("Datum instroom", "Datum instroom LVV"))
    assert "column 'Datum instroom'" in message and "'Datum instroom LVV'" in message
    assert "Perhaps renamed: 'Datum instroom' -> 'Datum instroom LVV'" in message


def test_a_date_format_the_spec_lacks_fails_naming_one_that_reads_the_dates(tmp_path):
    message = _ingest_error(tmp_path, spec=sd.SPEC.replace('formats: ["%d-%m-%Y"]', 'formats: ["%d.%m.%Y"]'))
    assert ("column 'Datum instroom' (admission_date): 6 of 6 dates do not parse with the spec's formats "
            "['%d.%m.%Y', '%Y-%m-%d']") in message
    assert "'%d-%m-%Y' reads them: add it under dates.formats in source spec demo.yaml" in message
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed"


def test_a_data_cut_date_pattern_that_misses_the_file_name_is_named(tmp_path):
    text = sd.SPEC.replace('constants: {data_cut_date: "2022-07-01"}', "").replace(
        "    constants: {registration_group: official}",
        "    constants: {registration_group: official}\n"
        "    data_cut_date_from_name: {pattern: 'export_(\\d{8})'}")
    message = _ingest_error(tmp_path, spec=text)
    assert "does not match data_cut_date_from_name.pattern 'export_(\\d{8})' of source spec demo.yaml" in message


# ---- lvv-eval spec check / draft --------------------------------------------------------------

def test_spec_check_prints_one_line_per_problem_naming_file_and_key(tmp_path, capsys):
    good = _spec(tmp_path, sd.SPEC, "good.yaml")
    bad = _spec(tmp_path, sd.SPEC.replace("sex: {M: male", "sex: {M: mann").replace("reader: csv", "reader: cvs"),
                "bad.yaml")
    assert main(["spec", "check", str(good)]) == 0
    assert main(["spec", "check", str(good), str(bad)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [f"{bad}: files[0].reader: unknown reader 'cvs' (choose one of csv, excel)",
                     f"{bad}: labels.sex: maps to ['mann'], which are not values of 'sex' (choose from male, "
                     f"female, unknown)"]


def test_spec_draft_proposes_a_spec_that_spec_check_leads_to_completion(tmp_path, capsys):
    delivery = EXAMPLE / "data_raw" / "rotterdam_v2" / "lvv_rotterdam_20220701.csv"
    out = tmp_path / "draft.yaml"
    assert main(["spec", "draft", str(delivery), "--raw-dir", str(EXAMPLE / "data_raw"), "--out", str(out)]) == 0
    draft = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert draft["files"][0] | {"data_cut_date_from_name": None} == {
        "pattern": "rotterdam_v2/lvv_rotterdam_20220701.csv", "reader": "csv", "delimiter": ";",
        "encoding": "cp1252", "header_row": 4, "data_cut_date_from_name": None}
    assert {k: draft["columns"][k] for k in ("Cliëntnummer", "Instroom", "Geslacht", "Geboortedatum", "Gezin")} == {
        "Cliëntnummer": "source_id", "Instroom": "admission_date", "Geslacht": "sex",
        "Geboortedatum": "birth_date", "Gezin": "family"}
    assert draft["labels"]["sex"] == {"man": "TODO", "vrouw": "TODO"}
    assert "RTM-1" not in out.read_text(encoding="utf-8")  # identifiers are never copied
    assert {"field": "age_at_admission", "method": "age_from_birth_date"} in draft["derive"]
    capsys.readouterr()
    assert main(["spec", "check", str(out)]) == 1
    problems = capsys.readouterr().out
    assert re.search(r"draft.yaml: pilot: unknown pilot 'TODO'", problems)
    assert main(["spec", "draft", str(delivery), "--out", str(out)]) == 2  # never over an existing file


def test_the_guide_names_every_key_method_field_and_allowed_value():
    """docs/SOURCE_SPECS.md goes stale when a key, a derive method, a field or a category is added
    to the spec models without a word in the guide."""
    from lvv_eval.ingest.spec_models import (
        DERIVE_METHODS,
        FIELDS,
        LABEL_FIELDS,
        DatesSpec,
        FileSpec,
        FooterSpec,
        SourceSpec,
        _allowed_values,
    )

    guide = GUIDE.read_text(encoding="utf-8")
    keys = [f.alias or n for model in (SourceSpec, FileSpec, DatesSpec, FooterSpec)
            for n, f in model.model_fields.items()]
    missing = [k for k in [*keys, *DERIVE_METHODS, *FIELDS] if f"`{k}`" not in guide]
    assert missing == []
    values = [v for f in LABEL_FIELDS if f != "country_of_origin" for v in (_allowed_values(f) or [])]
    assert [v for v in values if f"`{v}`" not in guide] == []


def test_footer_rows_are_left_out_by_count_and_by_first_word():
    from lvv_eval.ingest.readers import drop_footer

    frame = pd.DataFrame({"a": ["x", None, "TOTAAL", "y", "z"], "b": ["1", "Totaal: 3", None, "2", "3"],
                          "_row": [2, 3, 4, 5, 6]}).astype({"a": "str", "b": "str"})
    kept, dropped = drop_footer(frame, 1, ["totaal"])
    assert list(kept["_row"]) == [2, 5] and dropped == 3
    assert drop_footer(frame, 0, [])[1] == 0


def test_header_search_rows_bounds_the_search_for_the_header(tmp_path):
    spec = sd.SPEC.replace("encoding: cp1252", "encoding: cp1252\n    header_search_rows: 1")
    message = _ingest_error(tmp_path, spec=spec, header="Overzicht\n\n" + sd.HEADER)
    assert "on row 1 or the 1 rows after it" in message
    assert "The spec's column names are on row 3: set header_row: 3" in message


def test_spec_draft_matches_columns_best_first_and_finds_dates_in_names():
    from lvv_eval.ingest.draft import date_in_name, match_fields

    headers = ["Leeftijd bij instroom", "Startdatum", "Datum uit", "MRT datum", "Eerdere asielprocedure",
               "Aantal vertrekprocedures", "Opmerking"]
    assert match_fields(headers) == {
        "Leeftijd bij instroom": "age_at_admission", "Startdatum": "admission_date", "Datum uit": "exit_date",
        "MRT datum": "mrt_date", "Eerdere asielprocedure": "asylum_background",
        "Aantal vertrekprocedures": "n_prior_departure_procedures"}
    assert date_in_name("Overzicht LVV Utrecht 2022-07-01.xlsx")[1:] == (
        r"(20[0-9]{2}-[0-9]{2}-[0-9]{2})", "%Y-%m-%d")
    assert date_in_name("LVV peildatum 01-07-2022.xlsx")[0] == "01-07-2022"
    assert date_in_name("export 20221399.csv") is None


def test_spec_check_with_a_raw_dir_says_whether_the_spec_fits_its_delivery(tmp_path, capsys):
    raw, src = sd.write_delivery(tmp_path, spec=sd.SPEC.replace('formats: ["%d-%m-%Y"]', 'formats: ["%d.%m.%Y"]'))
    spec = src / "demo.yaml"
    assert main(["spec", "check", str(spec)]) == 0  # valid by itself
    assert main(["spec", "check", str(spec), "--raw-dir", str(raw)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{spec}: file demo/d.csv, column 'Datum ") for line in lines)
    assert all("'%d-%m-%Y' reads them" in line for line in lines)
    assert not (tmp_path / "out").exists()  # nothing ingested


def test_a_constant_date_the_spec_cannot_read_is_named_at_load_time(tmp_path):
    text = sd.SPEC.replace('constants: {data_cut_date: "2022-07-01"}', 'constants: {data_cut_date: "1 juli 2022"}')
    with pytest.raises(SpecError, match=r"demo.yaml: constants.data_cut_date: '1 juli 2022' is not a date in "
                                        r"the spec's formats \['%d-%m-%Y', '%Y-%m-%d'\]"):
        load_spec(_spec(tmp_path, text))
    load_spec(_spec(tmp_path, text.replace("1 juli 2022", "01-07-2022")))
