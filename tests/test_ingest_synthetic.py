"""Ingest on the SYNTHETIC default deliveries, checked against the renderer's answer key.

The answer key (``_answer_key/``) is written by the synth renderer from the clean truth; ingest
never reads it. These tests compare: every injected fault is found (counts per fault type and
pilot), the ingested stays equal the truth table, row accounting closes per file and agrees
with the answer key's row map, and no source identifier reaches the output folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from lvv_eval.cli import main as cli_main
from lvv_eval.ingest.pipeline import run_ingest
from lvv_eval.schema import STAYS_COLUMNS, validate_stays

deliveries = pytest.importorskip("lvv_eval.synth.render.deliveries")
calibrate = pytest.importorskip("lvv_eval.synth.calibrate")


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("raw") / "synthetic"
    cohort = calibrate.calibrated_cohort()
    deliveries.write_deliveries(cohort, out, seed=cohort.seed)
    return out


@pytest.fixture(scope="module")
def result(raw_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean") / "data_clean"
    return run_ingest(raw_dir, out, progress=False)


@pytest.fixture(scope="module")
def key(raw_dir) -> dict[str, pd.DataFrame]:
    folder = raw_dir / "_answer_key"
    return {
        "faults": pd.read_csv(folder / "faults.csv", dtype=str, keep_default_na=False),
        "row_map": pd.read_csv(folder / "row_map.csv", dtype=str, keep_default_na=False),
        "truth": pd.read_parquet(folder / "truth_stays.parquet"),
    }


def _row_key(frame: pd.DataFrame) -> pd.Series:
    return (frame["source_file"].astype(str) + "|" + frame["sheet"].astype(str) + "|"
            + frame["source_row"].astype(str))


def _quarantined_faults(quarantine: pd.DataFrame) -> pd.Series:
    """Quarantined faults per (pilot, rule id): one per stay, not per row.

    faults.csv lists one row per fault (the row and cell that are wrong). In an event log an
    extra client is one fault on several rows (an intake and an exit dated before it, say):
    ingest quarantines every row of the stay with the stay's rule, each naming the row that
    opened the stay (``stay_row``), and row_map lists every one of them as 'quarantine'. So
    rows are compared with row_map, faults with faults.csv: distinct stays per rule.
    """
    stays = quarantine.drop_duplicates(["pilot", "source_file", "sheet", "stay_row", "rule_id"])
    return stays.groupby(["pilot", "rule_id"]).size()


def _found_per_rule(result, key) -> pd.Series:
    """What ingest logged per (pilot, rule id), counted the way faults.csv counts faults."""
    q = _quarantined_faults(result.quarantine)
    changes = result.changes
    merges = changes[changes["rule_id"].str.startswith("M_")]
    merges = merges.assign(_k=_row_key(merges)).drop_duplicates("_k").groupby(["pilot", "rule_id"]).size()
    # a repaired fault sits on a real row: count the changed cells of rows that became stays
    # (or, in a long layout, event rows folded into a stay)
    stay_rows = set(_row_key(key["row_map"][key["row_map"]["role"].isin(["stay", "event"])]))
    cells = changes[changes["step"].str.startswith("repair") & _row_key(changes).isin(stay_rows)]
    repairs = cells.groupby(["pilot", "rule_id"]).size()
    stays = result.stays
    nonpart = pd.Series({(p, "X_NON_PARTICIPANT"): n for p, n in pd.DataFrame(
        result.manifest["row_accounting"]).groupby("pilot")["non_participants"].sum().items() if n})
    return pd.concat([q, merges, repairs, nonpart]).rename("found").astype(int), stays


def test_every_injected_fault_is_found_per_type_and_pilot(result, key):
    faults = key["faults"]
    expected = faults.groupby(["pilot", "rule_id"]).size().rename("injected")
    found, _ = _found_per_rule(result, key)
    table = pd.concat([expected, found], axis=1).fillna(0).astype(int)
    # rules that never appear in the answer key (e.g. other label checks) must not fire either
    assert (table["injected"] == table["found"]).all(), table[table["injected"] != table["found"]]


def test_each_fault_is_handled_on_its_own_row(result, key):
    faults = key["faults"]
    quarantined = set(zip(_row_key(result.quarantine), result.quarantine["rule_id"], strict=True))
    for _, f in faults[faults["expected_handling"] == "quarantine"].iterrows():
        assert (_row_key(f.to_frame().T).iloc[0], f["rule_id"]) in quarantined, f.to_dict()
    changes = result.changes
    changed = set(zip(_row_key(changes), changes["rule_id"], strict=True))
    for _, f in faults[faults["expected_handling"].isin(["repair", "recode", "merge"])].iterrows():
        assert (_row_key(f.to_frame().T).iloc[0], f["rule_id"]) in changed, f.to_dict()


def test_merged_duplicates_point_to_the_stay_they_were_merged_into(result, key):
    faults = key["faults"]
    merges = faults[faults["expected_handling"] == "merge"]
    assert len(merges) > 0
    changes = result.changes[result.changes["step"] == "merge"]
    logged = dict(zip(_row_key(changes), changes["stay_id"], strict=True))
    for _, f in merges.iterrows():
        assert logged[_row_key(f.to_frame().T).iloc[0]] == f["stay_id"], f.to_dict()
    assert result.changes["stay_id"].notna().all()  # every logged change names its stay


def test_ingested_stays_equal_the_truth_table(result, key):
    truth = key["truth"].set_index("stay_id").sort_index()
    stays = result.stays.set_index("stay_id").sort_index()
    assert list(stays.index) == list(truth.index)
    for col in STAYS_COLUMNS:
        if col in ("stay_id", "source_file", "source_sheet", "source_row"):
            continue
        a, b = stays[col], truth[col]
        if col == "age_at_admission":
            # documented tolerance: Eindhoven delivers the birth year only (age +0/+1 year)
            eind = stays["pilot"] == "Eindhoven"
            diff = (a - b)[eind].dropna()
            assert diff.between(0, 1).all() and (a[eind].isna() == b[eind].isna()).all()
            a, b = a[~eind], b[~eind]
        same = (a.astype(object) == b.astype(object)).fillna(False) | (a.isna() & b.isna())
        assert same.all(), f"{col}: {int((~same).sum())} differ, e.g. {a[~same].head(3).to_dict()} vs {b[~same].head(3).to_dict()}"


def test_stays_meet_the_contract_and_carry_provenance(result, key):
    validate_stays(result.stays)
    assert result.stays["source_file"].notna().all() and (result.stays["source_row"] >= 2).all()
    # file, sheet and row name one raw row each (Amsterdam's two sheets share row numbers)
    assert not result.stays.duplicated(["source_file", "source_sheet", "source_row"]).any()
    stay_rows = key["row_map"][key["row_map"]["role"] == "stay"]
    mine = set(zip(result.stays["source_file"], result.stays["source_sheet"].fillna(""),
                   result.stays["source_row"].astype(str), strict=True))
    assert mine == set(zip(stay_rows["source_file"], stay_rows["sheet"], stay_rows["source_row"], strict=True))
    assert list(result.stays["exit_reason"].cat.categories)[0] == "residence_permit"


def test_row_accounting_closes_and_matches_the_answer_key(result, key):
    acc = pd.DataFrame(result.manifest["row_accounting"])
    assert acc["closes"].all() and result.manifest["row_accounting_closes"]
    roles = key["row_map"].groupby(["source_file", "role"]).size().unstack(fill_value=0)
    mine = acc.groupby("file")[["stays", "events", "quarantined", "merged", "non_participants"]].sum()
    names = {"stay": "stays", "event": "events", "quarantine": "quarantined", "merge": "merged",
             "non_participant": "non_participants"}
    for role, col in names.items():
        if role in roles.columns:
            assert mine[col].to_dict() == roles[role].reindex(mine.index, fill_value=0).to_dict(), role
    assert (acc["raw_rows"].sum()) == len(key["row_map"])


def test_no_source_identifier_reaches_the_output(result, key, raw_dir):
    hidden = pd.read_parquet(raw_dir / "_answer_key" / "hidden.parquet")
    nonpart = pd.read_parquet(raw_dir / "_answer_key" / "non_participants.parquet")
    ids = set(hidden["source_id"].astype(str)) | set(nonpart["source_id"].astype(str))
    assert len(ids) > 2000
    blobs = {p.name: p.read_bytes() for p in result.out_dir.rglob("*") if p.is_file()}
    assert {"stays.parquet", "quarantine.parquet", "changes.parquet", "validation.csv",
            "manifest.json", "capacity.csv"} <= set(blobs)
    for name, blob in blobs.items():
        leaked = [i for i in ids if i.encode() in blob]
        assert not leaked, f"{name} holds source ids such as {leaked[:3]}"


def test_outputs_side_tables(result):
    out = result.out_dir
    capacity = pd.read_csv(out / "capacity.csv")
    assert capacity.set_index("pilot")["places"].to_dict() == {
        "Amsterdam": 360, "Eindhoven": 130, "Groningen": 300, "Rotterdam": 117, "Utrecht": 235}
    validation = pd.read_csv(out / "validation.csv")
    assert {"rule_id", "label", "severity", "items", "passes", "fails", "missing", "errors"} <= set(validation.columns)
    assert (validation["errors"] == 0).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["synthetic"] is True and len(manifest["inputs"]) == 6
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert (out / "SYNTHETIC.txt").exists()
    # deliveries without chain extracts (write_deliveries' default): the chain is skipped and said so,
    # the person links of the V-number deliveries are still written
    assert not manifest["chain"]["delivered"] and len(manifest["chain"]["absent"]) == 4
    assert not (out / "chain_ind.parquet").exists() and len(pd.read_parquet(out / "person_links.parquet")) > 0


def test_cli_ingest_prints_summary_and_writes(raw_dir, tmp_path, capsys):
    code = cli_main(["ingest", "--raw-dir", str(raw_dir), "--out-dir", str(tmp_path / "clean")])
    assert code == 0
    err = capsys.readouterr().err
    assert "Utrecht:" in err and "R_OLD_DEFINITION_TEMPORARY" in err and "rows in" in err
    assert "row " in err and "column '" in err and "unmapped -> V_EXIT_LABEL_MAPPED" in err  # named by file/row/column
    assert "zie dossier" not in err  # ... without the cell's content


def test_strict_refuses_quarantine_with_a_located_message(raw_dir, tmp_path, capsys):
    code = cli_main(["ingest", "--raw-dir", str(raw_dir), "--out-dir", str(tmp_path / "c"), "--strict", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--strict" in err and "row" in err and "file" in err
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())  # written, marked failed
    quarantine = pd.read_parquet(tmp_path / "c" / "quarantine.parquet")
    assert manifest["status"] == "failed"
    assert len(manifest["problems"]) == quarantine.groupby(["pilot", "rule_id"]).ngroups


def test_skipping_a_step_changes_the_result(raw_dir, tmp_path, result):
    res = run_ingest(raw_dir, tmp_path / "c", skip_steps=["M_EXACT_DUPLICATE", "X_NON_PARTICIPANT"], progress=False)
    assert res.manifest["row_accounting_closes"]
    assert not (res.changes["rule_id"] == "M_EXACT_DUPLICATE").any()
    assert len(res.stays) > len(result.stays)
    assert res.manifest["parameters"]["skip_steps"] == ["M_EXACT_DUPLICATE", "X_NON_PARTICIPANT"]


def test_worker_processes_give_the_same_result(raw_dir, tmp_path, result):
    parallel = run_ingest(raw_dir, tmp_path / "c", progress=False, workers=2)
    pd.testing.assert_frame_equal(parallel.stays, result.stays)
    pd.testing.assert_frame_equal(parallel.quarantine, result.quarantine)
    pd.testing.assert_frame_equal(parallel.changes, result.changes)
    assert parallel.manifest["row_accounting"] == result.manifest["row_accounting"]


@pytest.mark.slow
def test_a_million_uncalibrated_stays_ingest_completely(tmp_path):
    """At scale every injected fault is still found and nothing else is quarantined (speed and
    memory are measured by benchmarks/bench_ingest.py)."""
    from lvv_eval.synth.dgp import simulate_cohort

    raw = tmp_path / "raw"
    cohort = simulate_cohort(1_000_000, seed=7)
    deliveries.write_deliveries(cohort, raw, seed=7)
    res = run_ingest(raw, tmp_path / "clean", progress=False)
    assert res.manifest["row_accounting_closes"]
    assert len(res.stays) == len(cohort.stays)
    faults = pd.read_csv(raw / "_answer_key" / "faults.csv", dtype=str, keep_default_na=False)
    quarantined = faults[faults["expected_handling"] == "quarantine"].groupby(["pilot", "rule_id"]).size()
    assert _quarantined_faults(res.quarantine).sort_index().equals(quarantined.sort_index())
