"""The policy file, the record for the output checker, exception requests, the unchecked switch,
and the gated writers of `reproduce`, `monitor` and the reconciliation waterfall."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from lvv_eval.cli import main
from lvv_eval.disclosure import (
    CHECK_COLUMN,
    POLICY_YAML,
    DisclosureGate,
    DisclosurePolicy,
    DisclosurePolicyError,
    load_policy,
    read_record,
)
from lvv_eval.disclosure.monitor import check_monitor, indicator_sources
from lvv_eval.disclosure.published import check_published_comparison
from lvv_eval.disclosure.waterfall import check_waterfall
from lvv_eval.errors import UserError

TABLE = pd.DataFrame({"group": ["a", "b", "c"], "n": [3, 40, 50]})


# ------------------------------------------------------------------------------ policy

def test_the_package_policy_is_valid_and_holds_the_defaults() -> None:
    policy = load_policy()
    assert policy.model_dump(exclude={"monitor"}) == DisclosurePolicy().model_dump(exclude={"monitor"})
    assert policy.threshold == 10 and policy.survival.grid_days == 30
    assert policy.monitor.identities and policy.source == str(POLICY_YAML)


def write_policy(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(POLICY_YAML.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_a_bad_value_is_named_by_file_and_yaml_path(tmp_path) -> None:
    path = write_policy(tmp_path, lambda raw: raw["frequency"].update(method="blank"))
    with pytest.raises(DisclosurePolicyError, match=r"policy\.yaml: frequency\.method: .*'blank'"):
        load_policy(path)


def test_an_unknown_key_is_named(tmp_path) -> None:
    path = write_policy(tmp_path, lambda raw: raw["survival"].update(grid_weeks=4))
    with pytest.raises(DisclosurePolicyError, match=r"policy\.yaml: survival: unknown key\(s\) \['grid_weeks'\].*did you mean 'grid_days'"):
        load_policy(path)


def test_an_impossible_threshold_is_refused(tmp_path) -> None:
    path = write_policy(tmp_path, lambda raw: raw.update(threshold=0))
    with pytest.raises(DisclosurePolicyError, match=r"threshold"):
        load_policy(path)


def test_a_changed_policy_changes_the_gate(tmp_path) -> None:
    path = write_policy(tmp_path, lambda raw: raw.update(threshold=3))
    checked = DisclosureGate.from_policy(path).table(TABLE, "t", counts=["n"], dims=["group"])
    assert not checked.hidden["n"].any()


def test_policy_errors_are_user_errors() -> None:
    assert issubclass(DisclosurePolicyError, UserError)


# ------------------------------------------------------------------------------ record

def test_the_record_lists_outputs_with_status_rule_and_reason_in_both_languages(tmp_path) -> None:
    gate = DisclosureGate.from_policy(synthetic=True)
    checked = gate.table(TABLE, "counts", counts=["n"], dims=["group"])
    gate.write_table(checked, tmp_path / "tables" / "counts.csv", record_root=tmp_path)
    gate.save_record(tmp_path)
    record = read_record(tmp_path)
    (entry,) = record["outputs"]
    assert entry["status"] == "suppressed" and entry["path"] == "tables/counts.csv"
    assert "FREQ_MIN" in entry["rules"] and entry["reason_en"] and entry["reason_nl"]
    assert record["synthetic"] is True and record["policy"]["threshold"] == 10
    csv = pd.read_csv(tmp_path / "disclosure.csv")
    assert csv.loc[0, "status"] == "suppressed"
    page = (tmp_path / "disclosure.html").read_text(encoding="utf-8")
    assert "niet getoond" in page and "not shown" in page and "SYNTHETIC" in page


def test_saving_merges_with_the_record_already_in_the_folder(tmp_path) -> None:
    for name in ("first", "second"):
        gate = DisclosureGate.from_policy()
        gate.table(TABLE, name, counts=["n"], dims=["group"])
        gate.save_record(tmp_path)
    assert {o["output"] for o in read_record(tmp_path)["outputs"]} == {"first", "second"}


def test_an_exception_request_is_recorded_and_never_applied(tmp_path) -> None:
    requests = tmp_path / "exceptions.yaml"
    requests.write_text(yaml.safe_dump({"exceptions": [
        {"output": "counts", "reason": "the 3 are staff, not clients; agreed with the checker",
         "requested_by": "researcher A"},
        {"output": "nothing_by_that_name", "reason": "a request naming no output at all"}]}))
    gate = DisclosureGate.from_policy(exceptions=requests)
    checked = gate.table(TABLE, "counts", counts=["n"], dims=["group"])
    gate.write_table(checked, tmp_path / "counts.csv")
    assert pd.read_csv(tmp_path / "counts.csv")["n"].tolist()[0] == "x"  # still suppressed
    entry = gate.record.entries["counts"]
    assert "staff" in entry.exception_request and "EXCEPTION" in entry.rules
    assert entry.status == "suppressed"
    gate.save_record(tmp_path)
    record = read_record(tmp_path)
    assert [r["output"] for r in record["exceptions_unmatched"]] == ["nothing_by_that_name"]


def test_an_exception_request_needs_a_written_reason(tmp_path) -> None:
    requests = tmp_path / "exceptions.yaml"
    requests.write_text(yaml.safe_dump({"exceptions": [{"output": "counts", "reason": "pls"}]}))
    with pytest.raises(DisclosurePolicyError, match=r"exceptions\.yaml: exceptions\[0\]\.reason: must not be empty"):
        DisclosureGate.from_policy(exceptions=requests)


# ------------------------------------------------------------------ the unchecked switch

def test_unchecked_output_is_refused_on_data_not_marked_synthetic() -> None:
    with pytest.raises(DisclosurePolicyError, match="only on SYNTHETIC"):
        DisclosureGate.from_policy(synthetic=False, unchecked=True)


def test_unchecked_output_on_synthetic_data_is_marked_everywhere(tmp_path) -> None:
    gate = DisclosureGate.from_policy(synthetic=True, unchecked=True)
    checked = gate.table(TABLE, "counts", counts=["n"], dims=["group"])
    gate.write_table(checked, tmp_path / "counts.csv")
    written = pd.read_csv(tmp_path / "counts.csv")
    assert written["n"].tolist() == [3, 40, 50]
    assert set(written[CHECK_COLUMN]) == {"UNCHECKED (SYNTHETIC)"}
    assert gate.record.entries["counts"].status == "unchecked"
    gate.save_record(tmp_path)
    assert read_record(tmp_path)["unchecked"] is True
    assert "NIET GECONTROLEERD" in (tmp_path / "disclosure.html").read_text(encoding="utf-8")


def test_the_audit_lists_files_written_without_the_gate(tmp_path) -> None:
    gate = DisclosureGate.from_policy()
    checked = gate.table(TABLE, "counts", counts=["n"], dims=["group"])
    gate.write_table(checked, tmp_path / "tables" / "counts.csv", record_root=tmp_path)
    TABLE.to_csv(tmp_path / "tables" / "sneaky.csv", index=False)
    (tmp_path / "report.html").write_text("<p>text</p>")
    added = gate.audit_folder(tmp_path, narrative=[tmp_path / "report.html"])
    by_path = {e.path: e for e in added}
    assert by_path["tables/sneaky.csv"].status == "needs review"
    assert by_path["tables/sneaky.csv"].rules == ["NOT_GATED"]
    assert by_path["report.html"].rules == ["NARRATIVE"]
    assert "tables/counts.csv" not in by_path


# ------------------------------------------------------------------------ the writers

def reproduce_rows() -> pd.DataFrame:
    rows = [
        # figure, pilot, indicator, unit, published, computed, status
        ("p.dep.a", "A", "departures", "persons", 2, 2, "match"),
        ("p.dep.b", "B", "departures", "persons", 30, 27, "deviation"),
        ("p.dep.c", "C", "departures", "persons", 20, 4, "deviation"),
        ("p.dep.all", "all", "departures", "persons", 52, 33, "deviation"),
        ("p.share", "all", "share durable", "%", 18, 25, "deviation"),
        ("p.places", "all", "places", "places", 100, 120, "deviation"),
    ]
    table = pd.DataFrame(rows, columns=["figure_id", "pilot", "indicator", "unit", "published_value",
                                        "computed_value", "status"])
    return table.assign(publication="p", reference_date="2020-11-01", role="hard",
                        published=table["published_value"].astype(str),
                        computed_rounded=table["computed_value"],
                        difference=table["computed_value"] - table["published_value"],
                        detail="")


def test_reproduce_shows_published_figures_and_gates_new_cells() -> None:
    measures = {"p.dep.a": "count", "p.dep.b": "count", "p.dep.c": "count", "p.dep.all": "count",
                "p.share": "share", "p.places": "capacity"}
    checked = check_published_comparison(reproduce_rows(), DisclosurePolicy(), measures,
                                         bases={"p.share": (6, 24)})
    shown = checked.shown().set_index("figure_id")
    assert shown.loc["p.dep.a", "computed_value"] == 2  # equals the published 2: public
    assert shown.loc["p.dep.c", "computed_value"] == "x"  # a new 4
    # the new 4 could be had as total - B: one of them is hidden too
    assert "x" in (shown.loc["p.dep.b", "computed_value"], shown.loc["p.dep.all", "computed_value"])
    assert shown.loc["p.share", "computed_value"] == "x"  # 25% of 24 rests on 6
    assert shown.loc["p.places", "computed_value"] == 120  # agreed places are not people
    assert (shown["published_value"] != "x").all()
    assert shown.loc["p.dep.c", "difference"] == "x"


def monitor_specs() -> dict:
    base = {"population": "in", "unit": "stays"}
    return {
        "capacity": {"measure": "capacity"},
        "present": base | {"base": "present", "measure": "count"},
        "occupancy": base | {"base": "present", "measure": "percent_of_capacity"},
        "left": base | {"base": "leavers", "measure": "count"},
        "durable": base | {"base": "leavers", "measure": "count", "condition": {"c": "durable"}},
        "durable_rate": base | {"base": "person_time", "measure": "rate",
                                "condition": {"c": "durable"}},
    }


def test_indicator_sources_find_the_count_behind_each_number() -> None:
    src = indicator_sources(monitor_specs())
    assert src["occupancy"]["numerator"] == ("present",)
    assert src["durable"]["denominator"] == ("left",)
    assert src["durable_rate"]["value"] == ("durable",)
    assert src["capacity"]["value"] == "structural"


def test_monitor_hides_every_number_resting_on_a_hidden_count() -> None:
    rows = []
    for pilot, present, left, durable in (("A", 50, 30, 4), ("B", 60, 40, 20), ("all", 110, 70, 24)):
        rows += [
            (pilot, "capacity", 100, None, None),
            (pilot, "present", present, None, present),
            (pilot, "occupancy", present, present, 100),
            (pilot, "left", left, None, left),
            (pilot, "durable", durable, None, left),
            (pilot, "durable_rate", durable / 10, durable, 10000),
        ]
    table = pd.DataFrame(rows, columns=["pilot", "indicator", "value", "numerator", "denominator"])
    table = table.assign(date=pd.Timestamp("2020-11-01"), label_en="", label_nl="", note="")
    checked = check_monitor(table, monitor_specs(), DisclosurePolicy())
    shown = checked.shown().set_index(["pilot", "indicator"])
    assert shown.loc[("A", "durable"), "value"] == "x"
    assert shown.loc[("A", "durable_rate"), "value"] == "x"
    assert shown.loc[("A", "durable_rate"), "numerator"] == "x"
    # A's 4 = all's 24 - B's 20: one of those is hidden as well
    assert "x" in (shown.loc[("B", "durable"), "value"], shown.loc[("all", "durable"), "value"])
    assert shown.loc[("A", "present"), "value"] == 50 and shown.loc[("A", "capacity"), "value"] == 100


def test_waterfall_hides_small_steps_and_what_gives_them_away() -> None:
    table = pd.DataFrame({
        "step": ["raw_rows", "quarantined:X", "merged:Y", "stays", "computed", "published",
                 "difference"],
        "label_en": [""] * 7, "label_nl": [""] * 7,
        "change": [500, -3, -40, 0, 0, 0, 0],
        "remaining": [500, 497, 457, 457, 457, 457, 0],
        "detail": ["", "", "", "", "", "457", ""],
    })
    checked = check_waterfall(table, DisclosurePolicy())
    shown = checked.shown().set_index("step")
    assert shown.loc["quarantined:X", "change"] == "x"
    # 500 - 497 gives the 3 away: one of the remaining counts around it is hidden
    assert "x" in (shown.loc["raw_rows", "remaining"], shown.loc["quarantined:X", "remaining"])
    assert shown.loc["published", "remaining"] == 457


def test_the_waterfall_of_large_steps_passes() -> None:
    table = pd.DataFrame({"step": ["raw_rows", "merged:Y", "stays"], "label_en": [""] * 3,
                          "label_nl": [""] * 3, "change": [500, -40, 0],
                          "remaining": [500, 460, 460], "detail": [""] * 3})
    assert check_waterfall(table, DisclosurePolicy()).entry.status == "pass"


def test_reproduce_cli_writes_a_gated_table_and_its_record(truth_stays_file, tmp_path) -> None:
    out = tmp_path / "reproduce.csv"
    assert main(["reproduce", "--publication", "tel2019", "--stays", str(truth_stays_file),
                 "--out", str(out)]) == 0
    written = pd.read_csv(out, dtype=str)
    computed = pd.to_numeric(written["computed_value"], errors="coerce")
    small = computed[(computed > 0) & (computed < 10)]
    assert small.empty, f"counts below 10 written unmarked: {small.tolist()}"
    record = read_record(tmp_path)
    assert record["outputs"][0]["path"] == "reproduce.csv"
    assert json.dumps(record["outputs"][0]["checks"])


def test_cli_refuses_unchecked_output_for_data_not_marked_synthetic(truth_stays_file, tmp_path,
                                                                   capsys) -> None:
    code = main(["reproduce", "--publication", "tel2019", "--stays", str(truth_stays_file),
                 "--out", str(tmp_path / "r.csv"), "--unchecked-synthetic"])
    assert code == 2 and "only on SYNTHETIC" in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()


def test_gate_text_masks_small_numbers_in_narrative() -> None:
    gate = DisclosureGate.from_policy()
    assert gate.text("Cox model: only 7 events in 5 pilots, 2147 stays") == (
        "Cox model: only x events in x pilots, 2147 stays")
    assert np.isfinite(gate.policy.threshold)
