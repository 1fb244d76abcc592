"""Issue 9, point 2: data count as SYNTHETIC only by the marker `lvv-eval synth` writes.

A README saying "SYNTHETIC" (or "not synthetic") proves nothing; a changed or added file voids
the marker; stays without an ingest manifest are of unknown provenance, never shown as synthetic.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lvv_eval.ingest.errors import IngestError
from lvv_eval.ingest.pipeline import run_ingest
from lvv_eval.provenance import MARKER_FILE, check_marker
from lvv_eval.report.notebook import UNKNOWN_BANNER, banner, load_stays, provenance
from tests.helpers.small_delivery import write_delivery
from tests.helpers.synthetic import mark_synthetic

deliveries = pytest.importorskip("lvv_eval.synth.render.deliveries")
dgp = pytest.importorskip("lvv_eval.synth.dgp")


@pytest.mark.parametrize("note", ["This delivery is NOT SYNTHETIC: real LVV records.",
                                  "SYNTHETIC DATA - no real people."])
def test_a_readme_never_makes_a_delivery_synthetic(tmp_path, monkeypatch, note):
    raw, src = write_delivery(tmp_path, synthetic=False)
    (raw / "README.md").write_text(note + "\n")
    monkeypatch.delenv("LVV_PSEUDONYM_KEY", raising=False)
    with pytest.raises(IngestError, match="LVV_PSEUDONYM_KEY") as info:
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    assert f"no {MARKER_FILE}" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_the_marker_makes_it_synthetic_and_the_manifest_records_it(tmp_path):
    raw, src = write_delivery(tmp_path)
    res = run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    assert res.manifest["synthetic"] is True
    marker = res.manifest["provenance"]["marker"]
    assert marker["written_by"] == "lvv-eval synth" and marker["seed"] == 0 and "statement" in marker


def test_a_changed_or_added_file_voids_the_marker(tmp_path, monkeypatch):
    raw, src = write_delivery(tmp_path)
    monkeypatch.delenv("LVV_PSEUDONYM_KEY", raising=False)
    (raw / "demo" / "extra.csv").write_text("a real delivery dropped in\n")
    assert "did not write" in check_marker(raw).reason
    (raw / "demo" / "extra.csv").unlink()
    with open(raw / "demo" / "d.csv", "ab") as fh:
        fh.write(b"RTM-7;01-03-2020;;;M;40;J;N;N;\n")
    with pytest.raises(IngestError, match=r"treated as real: files changed .*demo/d.csv"):
        run_ingest(raw, tmp_path / "out", sources_dir=src, progress=False)
    mark_synthetic(raw)
    assert check_marker(raw).valid


def test_synth_writes_a_valid_marker_with_version_seed_and_fingerprint(tmp_path):
    out = tmp_path / "syn"
    deliveries.write_deliveries(dgp.simulate_cohort(150, seed=3), out, seed=5)
    check = check_marker(out)
    assert check.valid, check.reason
    marker = json.loads((out / MARKER_FILE).read_text())
    assert marker["seed"] == 5 and marker["generator_version"] and len(marker["generator_fingerprint"]) == 64
    assert "SYNTHETIC" in marker["statement"]
    assert set(marker["files"]) >= {"README.md", "_answer_key/faults.csv"}


def test_stays_without_a_manifest_are_of_unknown_provenance_not_synthetic(tmp_path, truth_stays):
    path = tmp_path / "stays.parquet"
    truth_stays.head(5).to_parquet(path, index=False)
    stays, synthetic = load_stays(path)
    assert synthetic is False and provenance(path) == "unknown"
    assert banner(provenance(path), "nl") == UNKNOWN_BANNER["nl"] and "ONBEKEND" in UNKNOWN_BANNER["nl"]
    (tmp_path / "manifest.json").write_text(json.dumps({"synthetic": False}))
    assert load_stays(path)[1] is False and provenance(path) == "real" and banner("real") == ""
    (tmp_path / "manifest.json").write_text(json.dumps({"synthetic": True}))
    assert load_stays(path)[1] is True and "SYNTHET" in banner(provenance(path))
    assert isinstance(stays, pd.DataFrame)


def test_reproduce_names_unknown_provenance(tmp_path, capsys, truth_stays):
    from lvv_eval.cli import main

    path = tmp_path / "stays.parquet"
    truth_stays.to_parquet(path, index=False)
    assert main(["reproduce", "--stays", str(path), "--publication", "kb2020", "--out", str(tmp_path / "r.csv")]) == 0
    out = capsys.readouterr().out
    assert "provenance unknown" in out and "SYNTHETIC" not in out.splitlines()[0]
