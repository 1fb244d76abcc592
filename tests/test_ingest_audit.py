"""The audit trail read back for the data manager (lvv_eval.ingest.audit), on the ingested default
SYNTHETIC deliveries: the tables agree with each other, with the stays and with the generator's
answer key, and a broken trail shows as a broken trail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from lvv_eval.ingest import audit
from lvv_eval.ingest.accounting import CATEGORIES
from lvv_eval.ingest.pipeline import run_ingest
from lvv_eval.synth.run import synthesise


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> tuple[Path, Path]:
    raw = tmp_path_factory.mktemp("audit") / "synthetic"
    synthesise(raw, progress=False)
    out = tmp_path_factory.mktemp("audit_clean") / "data_clean"
    run_ingest(raw, out, progress=False)
    return raw, out


@pytest.fixture(scope="module")
def trail(ingested) -> audit.AuditTrail:
    return audit.AuditTrail.beside(ingested[1] / "stays.parquet")


@pytest.fixture(scope="module")
def faults(ingested) -> pd.DataFrame:
    return pd.read_csv(ingested[0] / "_answer_key" / "faults.csv")


def test_every_delivery_file_and_sheet_closes_and_the_stays_are_those_of_the_table(trail, ingested):
    per_file = audit.row_accounting(trail)
    assert len(per_file) and per_file["closes"].all()
    assert (per_file["raw_rows"] == per_file[list(CATEGORIES)].sum(axis=1)).all()
    stays = pd.read_parquet(ingested[1] / "stays.parquet")
    by_pilot = audit.accounting_by_pilot(trail, stays)
    assert by_pilot["stays_match"].all()
    assert by_pilot["stays"].sum() == len(stays)


def test_the_deliveries_hold_the_raw_rows_the_accounting_starts_from(trail):
    came_in = audit.deliveries(trail)
    delivered = came_in[came_in["role"] == "delivery"].set_index(["file", "sheet"])["rows"]
    accounted = audit.row_accounting(trail).set_index(["file", "sheet"])["raw_rows"]
    assert delivered.sort_index().astype(int).to_dict() == accounted.sort_index().to_dict()
    manifest_inputs = {e["file"] for e in trail.manifest["inputs"]} | {
        e["file"] for e in trail.manifest["chain"]["inputs"]}
    assert set(came_in["file"]) == manifest_inputs
    read = audit.inventory(trail).query("status == 'read'")["files"].sum()
    assert read == len(manifest_inputs)


def test_quarantine_by_rule_is_quarantine_parquet_and_the_injected_faults(trail, faults):
    table = audit.quarantine_by_rule(trail)
    assert table["rows"].sum() == len(trail.quarantine)
    listed = trail.quarantine.groupby(["pilot", "rule_id"]).size()
    assert table.set_index(["pilot", "rule_id"])["rows"].sort_index().equals(listed.sort_index())
    injected = faults[faults["expected_handling"] == "quarantine"].groupby(["pilot", "rule_id"]).size()
    assert table.set_index(["pilot", "rule_id"])["stays"].sort_index().to_dict() == \
        injected.sort_index().to_dict()
    assert audit.quarantine_check(trail)["agrees"].all()


def test_merges_in_the_change_log_are_the_injected_duplicates_and_the_accounting(trail, faults):
    changes = audit.changes_by_rule(trail)
    assert changes["cells"].sum() == len(trail.changes)
    merged = changes[changes["kind"] == "merge"].set_index(["pilot", "rule_id"])["rows"]
    injected = faults[faults["expected_handling"] == "merge"].groupby(["pilot", "rule_id"]).size()
    assert merged.sort_index().to_dict() == injected.sort_index().to_dict()
    per_pilot = audit.accounting_by_pilot(trail).set_index("pilot")["merged"]
    assert merged.groupby(level="pilot").sum().to_dict() == per_pilot[per_pilot > 0].to_dict()
    by_column = audit.changes_by_column(trail)
    assert by_column["cells"].sum() == changes.loc[changes["kind"] == "repair", "cells"].sum()


def test_validation_counts_add_up_and_every_rule_is_described_in_both_languages(trail):
    nl, en = audit.validation_results(trail, "nl"), audit.validation_results(trail, "en")
    assert (nl[["passes", "fails", "missing", "errors"]].sum(axis=1) == nl["items"]).all()
    assert (nl["rule"] != nl["rule_id"]).all() and (nl["rule"] != en["rule"]).all()
    for lang in ("nl", "en"):
        for table in (audit.quarantine_by_rule(trail, lang), audit.changes_by_rule(trail, lang)):
            assert (table["rule"] != table["rule_id"]).all(), table


def test_a_gap_in_the_trail_shows(trail, ingested, tmp_path):
    broken = tmp_path / "data_clean"
    shutil.copytree(ingested[1], broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["row_accounting"][0]["raw_rows"] += 1  # one raw row that went nowhere
    (broken / "manifest.json").write_text(json.dumps(manifest))
    q = pd.read_parquet(broken / "quarantine.parquet")
    q.iloc[1:].to_parquet(broken / "quarantine.parquet", index=False)  # one entry lost
    gap = audit.AuditTrail(broken)
    assert audit.row_accounting(gap)["closes"].tolist() == [False] + [True] * (len(manifest["row_accounting"]) - 1)
    check = audit.quarantine_check(gap).set_index("pilot")["agrees"]
    assert not check[q.iloc[0]["pilot"]] and check.drop(q.iloc[0]["pilot"]).all()


def test_a_stays_file_the_trail_does_not_record_is_refused(ingested, tmp_path):
    other = tmp_path / "stays.parquet"
    pd.read_parquet(ingested[1] / "stays.parquet").head(5).to_parquet(other)
    for name in ("manifest.json", "quarantine.parquet", "changes.parquet"):
        shutil.copy(ingested[1] / name, tmp_path / name)
    with pytest.raises(audit.AuditTrailError, match="does not record this file"):
        audit.AuditTrail.beside(other)


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="lang='fr'"):
        audit.audit_labels("fr")


def test_margins_sum_the_cells_and_the_crosstab_shows_them_by_rule_and_pilot(trail):
    table = audit.quarantine_by_rule(trail, "en")
    margins = audit.with_totals(table.drop(columns="rule"), ["pilot", "rule_id"], ["stays", "rows"])
    inner = margins[(margins["pilot"] != audit.ALL) & (margins["rule_id"] != audit.ALL)]
    assert len(inner) == len(table)
    per_rule = margins[(margins["pilot"] == audit.ALL) & (margins["rule_id"] != audit.ALL)]
    assert per_rule.set_index("rule_id")["stays"].to_dict() == \
        table.groupby("rule_id")["stays"].sum().to_dict()
    grand = margins[(margins["pilot"] == audit.ALL) & (margins["rule_id"] == audit.ALL)]
    assert grand["rows"].tolist() == [len(trail.quarantine)]
    cross = audit.rule_crosstab(margins, "stays", "en")
    assert cross.shape == (table["rule_id"].nunique() + 1, 2 + table["pilot"].nunique() + 1)
    assert cross.iloc[-1, -1] == grand["stays"].iloc[0]


def test_long_and_wide_are_inverse(trail):
    per_file = audit.row_accounting(trail)
    keys = ["pilot", "file", "sheet"]
    long = audit.as_long(per_file, keys, ["raw_rows", *CATEGORIES])
    assert len(long) == len(per_file) * (1 + len(CATEGORIES))
    back = audit.as_wide(long, keys)
    assert back.equals(per_file[[*keys, "raw_rows", *CATEGORIES]].sort_values(keys).reset_index(drop=True))
