"""reproduce: every hard figure matches on the calibrated synthetic truth (checked against the
CSV, not against numbers copied here); soft figures show their deviation; a definition changed
in a YAML copy changes the computed figure without a code change; the waterfall adds up."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from lvv_eval.capacity import load_capacity_file
from lvv_eval.cli import main
from lvv_eval.files import sha256_of
from lvv_eval.measures.definitions import DEFINITIONS_YAML, load_definitions
from lvv_eval.measures.indicators import IndicatorResult, compute_figure
from lvv_eval.measures.reconcile import AuditTrail, reconcile_figure
from lvv_eval.measures.reproduce import (
    AGREES,
    STATUSES,
    compare,
    format_table,
    load_published,
    parse_published_value,
    reproduce_table,
    round_half_up,
)
from tests.helpers.stays import make_stays


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    from lvv_eval.synth.calibrate import calibrated_cohort

    return calibrated_cohort().stays


@pytest.fixture(scope="module")
def defs():
    return load_definitions()


@pytest.fixture(scope="module")
def table(truth, defs) -> pd.DataFrame:
    return reproduce_table(truth, "all", defs)


def test_every_hard_figure_matches_the_csv_on_the_default_data(table):
    published = load_published()
    hard = published[published["role"] == "hard"]
    assert len(hard) > 40
    rows = table.set_index("figure_id")
    for _, fig in hard.iterrows():
        row = rows.loc[fig["figure_id"]]
        expected = "input" if row["kind"] == "input" else "match"
        assert row["status"] == expected, (fig["figure_id"], row["computed_value"], fig["value"])
        if fig["value"] == "yes":
            assert row["computed_value"] is True or row["computed_value"] == True  # noqa: E712
        else:  # compare with the CSV directly, rounded to the unit as the publication did
            assert round_half_up(float(row["computed_value"]), 0) == float(fig["value"])


def test_table_lists_every_figure_with_status_and_definitions_in_both_languages(table):
    assert len(table) == len(load_published())
    assert set(table["status"].astype(str)) <= set(STATUSES)
    assert table["definition_en"].str.len().gt(20).all()
    assert table["definition_nl"].str.len().gt(20).all()
    assert (table["definition_en"] != table["definition_nl"]).all()


def test_soft_figures_show_their_deviation(table):
    soft = table[table["role"] == "soft"]
    assert len(soft) > 5
    computable = soft[soft["status"] != "not computable"]
    assert computable["difference"].notna().all()
    assert (computable["difference"] == computable["computed_rounded"]
            - computable["published_value"]).all()


def test_publication_filter(truth, defs):
    only = reproduce_table(truth, "ee2022", defs)
    assert set(only["figure_id"].str.split(".").str[0]) == {"ee2022"}
    with pytest.raises(ValueError, match="unknown publication"):
        reproduce_table(truth, "xx2099", defs)


@pytest.mark.parametrize(
    ("text", "number", "qualifier", "boolean"),
    [("1142", 1142.0, None, None), ("about 20", 20.0, "about", None),
     ("a little over 10", 10.0, "a little over", None), ("yes", None, None, True)],
)
def test_parse_published_value(defs, text, number, qualifier, boolean):
    value = parse_published_value(defs, text)
    assert (value.number, value.qualifier, value.boolean) == (number, qualifier, boolean)


def test_rounding_is_half_up():
    assert round_half_up(17.5, 0) == 18.0
    assert round_half_up(41.49, 0) == 41.0
    assert round_half_up(2.5, 0) == 3.0  # Python's round() would give 2


@pytest.mark.parametrize(
    ("text", "computed", "status"),
    [("a little over 10", 10.0, "deviation"), ("a little over 10", 11.2, "match"),
     ("about 20", 21.5, "match"), ("about 20", 23.0, "deviation"), ("41", 40.6, "match"),
     ("41", 40.4, "deviation"), ("yes", False, "deviation")],
)
def test_compare(defs, text, computed, status):
    result = compare(defs, parse_published_value(defs, text), "%", IndicatorResult(computed))
    assert result.status == status


def test_not_computable_carries_its_reason(defs):
    result = compare(defs, parse_published_value(defs, "41"), "%",
                     IndicatorResult(None, reason="empty base"))
    assert (result.status, result.detail) == ("not computable", "empty base")


def test_definition_changed_in_yaml_changes_the_figure_without_code(tmp_path, truth, defs):
    raw = yaml.safe_load(DEFINITIONS_YAML.read_text(encoding="utf-8"))
    raw["outcome_schemes"]["kb2020_letter"]["groups"]["durable"]["classes"].append(
        "subsequent_asylum"
    )  # count HASA as durable, as some municipalities did before the 2020 letter
    path = tmp_path / "definitions.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    changed = load_definitions(path)
    before = compute_figure(defs, "kb2020.durable.all", truth).value
    after = compute_figure(changed, "kb2020.durable.all", truth).value
    hasa = compute_figure(defs, "kb2020.subsequent_asylum.all", truth).value
    assert hasa > 0
    assert after == before + hasa
    row = reproduce_table(truth, "kb2020", changed).set_index("figure_id").loc["kb2020.durable.all"]
    assert row["status"] == "deviation" and row["difference"] == hasa


def test_cli_prints_and_writes_the_table(tmp_path, capsys, monkeypatch, truth_stays_file):
    monkeypatch.setenv("LVV_DATA_ROOT", str(tmp_path))
    out = tmp_path / "rep.csv"
    assert main(["reproduce", "--stays", str(truth_stays_file), "--publication", "kb2020", "--out", str(out),
                 "--check"]) == 0
    written = pd.read_csv(out)
    assert set(written["publication"]) == {"kb2020"}
    printed = capsys.readouterr().out
    hard = written[written["role"] == "hard"]
    n_input = int((hard["kind"] == "input").sum())
    assert n_input == 6  # the agreed places: inputs, not computations
    assert f"hard: {len(hard) - n_input} match, {n_input} input, 0 deviation, 0 not computable" in printed
    assert written.loc[hard.index, "data_source"].str.contains("truth_stays.parquet|capacity.yaml").all()
    assert main(["reproduce", "--publication", "kb2020"]) == 2  # no data_clean/stays.parquet


def test_cli_unknown_publication_is_a_user_error(capsys, truth_stays_file):
    assert main(["reproduce", "--stays", str(truth_stays_file), "--publication", "xx2099"]) == 2
    assert "unknown publication" in capsys.readouterr().err


def _closes(waterfall: pd.DataFrame) -> None:
    running = None
    for _, line in waterfall.iterrows():
        if line["step"] in ("base", "computed", "published", "difference", "temporary_recoded"):
            continue
        if running is not None and line["change"] != 0:
            assert running + line["change"] == line["remaining"], line["step"]
        if line["change"] != 0 or running is None:
            running = line["remaining"]


@pytest.mark.parametrize("figure_id", ["kb2020.durable.all", "ee2022.durable.share",
                                       "ppe2019.scenario_base.utrecht"])
def test_waterfall_without_audit_trail_ends_at_the_published_figure(tmp_path, truth, figure_id):
    waterfall = reconcile_figure(figure_id, truth)
    _closes(waterfall)
    lines = waterfall.set_index("step")
    pilot = waterfall.attrs["pilot"]
    in_pilot = len(truth) if pilot == "all" else int((truth["pilot"] == pilot).sum())
    assert lines.loc["stays", "remaining"] == in_pilot
    published = float(load_published().set_index("figure_id").loc[figure_id, "value"])
    assert round_half_up(lines.loc["computed", "remaining"], 0) == published


def test_waterfall_reads_the_audit_trail(tmp_path, defs):
    stays = pd.concat([
        _two_stays(),
    ])
    stays["source_file"] = "utrecht.xlsx"
    stays["source_row"] = pd.array([5, 6], dtype="Int64")
    _write_trail(tmp_path)
    waterfall = reconcile_figure("kb2020.durable.all", stays, pilot="Utrecht", defs=defs,
                                 trail=AuditTrail(tmp_path))
    _closes(waterfall)
    lines = waterfall.set_index("step")
    # 2 stays + 1 quarantined + 1 non-participant + 1 merged away
    assert lines.loc["raw_rows", "remaining"] == 5
    assert lines.loc["non_participants", "change"] == -1
    assert "quarantined:unexplained" not in lines.index
    assert lines.loc["quarantined:V_EXIT_BEFORE_ADMISSION", "change"] == -1
    assert lines.loc["merged:M_EXACT_DUPLICATE", "change"] == -1
    assert lines.loc["stays", "remaining"] == 2
    assert "1 in the base, of which 1 now outside" in lines.loc["temporary_recoded", "detail"]
    assert lines.loc["computed", "remaining"] == 1


def test_reconcile_refuses_a_stays_file_without_its_own_audit_trail(tmp_path, capsys,
                                                                    truth_stays_file):
    """The generator's truth has no ingest trail; a trail beside another stays file is not its."""
    assert main(["reproduce", "--stays", str(truth_stays_file),
                 "--reconcile", "kb2020.durable.all"]) == 2
    assert "no ingest audit trail beside it" in capsys.readouterr().err
    _write_trail(tmp_path)
    stays = tmp_path / "stays.parquet"
    _two_stays().to_parquet(stays)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["output_sha256"] = {"stays.parquet": "0" * 64}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert main(["reproduce", "--stays", str(stays), "--reconcile", "kb2020.durable.all"]) == 2
    assert "does not record this file (another stays file)" in capsys.readouterr().err


def _two_stays() -> pd.DataFrame:
    return make_stays([
        {"admission_date": "2019-09-01", "exit_date": "2020-05-01",
         "exit_reason": "subsequent_asylum"},
        {"admission_date": "2019-09-01", "exit_date": "2020-05-01",
         "exit_reason": "return_origin"},
    ])


def _write_trail(folder: Path) -> None:
    quarantine = pd.DataFrame({
        "pilot": ["Utrecht", "Amsterdam"], "source_file": ["utrecht.xlsx", "amsterdam.xlsx"],
        "source_row": [8, 3], "rule_id": ["V_EXIT_BEFORE_ADMISSION", "V_EXIT_BEFORE_ADMISSION"],
    })
    accounting = [
        {"pilot": "Utrecht", "file": "utrecht.xlsx", "sheet": "", "raw_rows": 5, "stays": 2,
         "events": 0, "quarantined": 1, "merged": 1, "non_participants": 1, "closes": True},
        {"pilot": "Amsterdam", "file": "amsterdam.xlsx", "sheet": "", "raw_rows": 9, "stays": 8,
         "events": 0, "quarantined": 1, "merged": 0, "non_participants": 0, "closes": True},
    ]
    (folder / "manifest.json").write_text(json.dumps({"row_accounting": accounting}))
    changes = pd.DataFrame({
        "step": ["merge", "repair"], "rule_id": ["M_EXACT_DUPLICATE",
                                                 "R_OLD_DEFINITION_TEMPORARY"],
        "pilot": ["Utrecht", "Utrecht"], "source_file": ["utrecht.xlsx"] * 2,
        "sheet": ["", ""], "source_row": [9, 5], "column": ["(row)", "Uitstroom"],
        "old_value": ["", "Bestendig - HASA"], "new_value": ["", "HASA"],
    })
    quarantine.to_parquet(folder / "quarantine.parquet")
    changes.to_parquet(folder / "changes.parquet")


def test_cli_takes_a_definitions_copy_and_names_its_problems(tmp_path, capsys, truth_stays_file):
    raw = yaml.safe_load(DEFINITIONS_YAML.read_text(encoding="utf-8"))
    raw["indicators"]["kb2020.present.all"]["base"] = "admitted"  # ever sheltered, not present
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "rep.csv"
    assert main(["reproduce", "--stays", str(truth_stays_file), "--publication", "kb2020", "--definitions", str(path),
                 "--out", str(out), "--check"]) == 1
    table = pd.read_csv(out).set_index("figure_id")
    assert table.loc["kb2020.present.all", "computed_value"] == \
        table.loc["kb2020.ever_sheltered.all", "computed_value"]
    assert table.loc["kb2020.present.all", "status"] == "differs under variant"
    assert set(table["definitions"]) == {"mine"}
    assert set(table["definitions_sha256"]) == {sha256_of(path)}
    assert "variant 'mine'" in table.loc["kb2020.present.all", "reason_en"]
    raw["indicators"]["kb2020.present.all"]["base"] = "presnt"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert main(["reproduce", "--stays", str(truth_stays_file), "--definitions", str(path)]) == 2
    assert "indicators.kb2020.present.all.base: unknown base 'presnt'" in capsys.readouterr().err


def test_every_figure_that_does_not_match_says_why_in_both_languages() -> None:
    from lvv_eval.synth.calibrate import calibrated_cohort

    table = reproduce_table(calibrated_cohort().stays, "all")
    gaps = table[~table["status"].astype(str).isin(AGREES)]
    assert len(gaps) > 0  # the soft and context figures of the default data differ
    assert (gaps["reason_en"].str.len() > 20).all() and (gaps["reason_nl"].str.len() > 20).all()
    matched = table[table["status"].astype(str).isin(AGREES)]
    assert (matched["reason_en"].fillna("") == "").all()
    own = gaps.set_index("figure_id").loc["tel2019.06", "reason_en"]
    assert "De Telegraaf" in own  # a figure's own reason from the YAML beats the general one


def test_agreed_places_are_inputs_with_their_own_source_not_computations(table):
    """The kb2020.capacity.* figures restate the capacity file: kind and status 'input', the
    capacity file (with its provenance) as data source; every other hard figure is computed."""
    hard = table[table["role"] == "hard"].set_index("figure_id")
    inputs = hard[hard["kind"] == "input"]
    assert sorted(inputs.index) == sorted(f for f in hard.index if f.startswith("kb2020.capacity."))
    assert (inputs["status"].astype(str) == "input").all()
    assert inputs["data_source"].str.contains("capacity.yaml").all()
    assert inputs["data_source"].str.contains("Kamerbrief").all()
    assert inputs["detail"].str.startswith("not computed from stays").all()
    computed = hard[hard["kind"] == "computed"]
    assert (computed["status"].astype(str) == "match").all()
    assert not computed["data_source"].str.startswith("input").any()


def test_summary_counts_inputs_apart_from_matches(table):
    hard = table[table["role"] == "hard"]
    n_input = int((hard["kind"] == "input").sum())
    assert n_input == 6
    text = format_table(table)
    assert f"hard: {len(hard) - n_input} match, {n_input} input, 0 deviation, 0 not computable" in text
    assert "Inputs, not computed from stays" in text


def test_an_input_that_disagrees_with_the_publication_is_a_deviation_naming_the_file(tmp_path, truth):
    path = tmp_path / "capacity.csv"
    path.write_text("pilot,places,valid_from,source\nAmsterdam,400,2019-01-01,my count\n"
                    "Eindhoven,130,2019-01-01,x\nGroningen,300,2019-01-01,x\n"
                    "Rotterdam,117,2019-01-01,x\nUtrecht,235,2019-01-01,x\n")
    table = reproduce_table(truth, "kb2020", capacity=load_capacity_file(path)).set_index("figure_id")
    row = table.loc["kb2020.capacity.amsterdam"]
    assert (row["status"], row["difference"]) == ("deviation", 40)
    assert str(path) in row["detail"] and "my count" in row["detail"]
    assert table.loc["kb2020.capacity.all", "status"] == "deviation"
    assert table.loc["kb2020.capacity.utrecht", "status"] == "input"


def test_cli_takes_the_agreed_places_from_a_users_capacity_file(tmp_path, capsys, monkeypatch,
                                                                truth_stays_file):
    monkeypatch.setenv("LVV_DATA_ROOT", str(tmp_path))
    own = tmp_path / "places.csv"
    own.write_text("pilot,places,valid_from,source\nAmsterdam,361,2019-01-01,our count\n"
                   "Eindhoven,130,2019-01-01,x\nGroningen,300,2019-01-01,x\n"
                   "Rotterdam,117,2019-01-01,x\nUtrecht,235,2019-01-01,x\n")
    out = tmp_path / "rep.csv"
    assert main(["reproduce", "--stays", str(truth_stays_file), "--publication", "kb2020",
                 "--capacity", str(own), "--out", str(out), "--check"]) == 1
    written = pd.read_csv(out).set_index("figure_id")
    row = written.loc["kb2020.capacity.amsterdam"]
    assert (row["kind"], row["status"]) == ("input", "deviation")
    assert str(own) in row["data_source"] and "our count" in row["data_source"]
    printed = capsys.readouterr().out
    assert "hard: 28 match, 4 input, 2 deviation, 0 not computable" in printed
    assert f"6 figure(s) of agreed places, taken from {own}" in printed
    bad = tmp_path / "bad.yaml"
    bad.write_text("capacity:\n  - {pilot: Amsterdam, places: many, source: x}\n")
    assert main(["reproduce", "--stays", str(truth_stays_file), "--capacity", str(bad)]) == 2
    assert "bad.yaml: capacity[0].places:" in capsys.readouterr().err


def test_a_definitions_variant_is_named_and_written_beside_not_over_the_default(
        tmp_path, capsys, monkeypatch, truth_stays_file):
    monkeypatch.setenv("LVV_DATA_ROOT", str(tmp_path))
    raw = yaml.safe_load(DEFINITIONS_YAML.read_text(encoding="utf-8"))
    raw["outcome_schemes"]["ee2022"]["classes"]["durable"]["exit_reasons"].append("subsequent_asylum")
    raw["outcome_schemes"]["ee2022"]["classes"]["semi_durable"]["exit_reasons"].remove(
        "subsequent_asylum")
    path = tmp_path / "hasa_durable.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    common = ["reproduce", "--stays", str(truth_stays_file), "--publication", "ee2022"]
    assert main(common) == 0
    default = tmp_path / "reports" / "reproduce" / "reproduce_ee2022.csv"
    before = default.read_bytes()
    assert main([*common, "--definitions", str(path)]) == 0
    printed = capsys.readouterr().out
    assert f"variant 'hasa_durable' from {path} (sha256 {sha256_of(path)})" in printed
    assert default.read_bytes() == before
    variant = pd.read_csv(tmp_path / "reports" / "reproduce" / "variants" / "hasa_durable"
                          / "reproduce_ee2022.csv").set_index("figure_id")
    assert variant.loc["ee2022.durable.share", "status"] == "differs under variant"
    assert variant.loc["ee2022.leavers.all", "status"] == "match"
    assert "deviation" not in set(variant["status"])
    assert set(pd.read_csv(default)["definitions"]) == {"default"}
