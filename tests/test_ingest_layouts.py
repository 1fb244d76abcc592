"""A sixth delivery layout is ingested by adding one YAML file, with the same result.

The test re-renders Rotterdam's default delivery with other column names (English), another
delimiter (``|``), another encoding (UTF-8) and another date format (``yyyy/mm/dd``), writes a
new source spec for it into a temporary sources folder, and compares the result with the
original layout's.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from lvv_eval.config import SOURCES_DIR
from lvv_eval.ingest.pipeline import run_ingest
from tests.helpers.synthetic import mark_synthetic

deliveries = pytest.importorskip("lvv_eval.synth.render.deliveries")
calibrate = pytest.importorskip("lvv_eval.synth.calibrate")

ENGLISH = {
    "Cliëntnummer": "client_no", "Geslacht": "sex", "Leeftijd bij instroom": "age_at_entry",
    "Nationaliteit": "nationality", "Veilig land van herkomst (J/N)": "safe_country_yn",
    "Asielverleden (J/N)": "asylum_history_yn", "Aantal eerdere vertrekprocedures": "n_departure_procedures",
    "Gezin (J/N)": "family_yn", "Buiten doelgroep": "outside_target_group", "Startdatum": "start",
    "Einddatum": "end", "Uitstroomcode": "exit_code", "Opvang 24 uur (J/N)": "shelter_24h_yn",
    "Begeleidingsintensiteit": "guidance", "Scenario": "scenario", "Datum scenario": "scenario_on",
    "MRT (J/N)": "mrt_yn", "Datum MRT": "mrt_on", "Advies MRT": "mrt_advice", "Mutatiedatum": "modified_on",
}
DATE_COLUMNS = ("Startdatum", "Einddatum", "Datum scenario", "Datum MRT", "Mutatiedatum")


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    """Only Rotterdam's delivery (and its code book) from the calibrated default."""
    full = tmp_path_factory.mktemp("full")
    cohort = calibrate.calibrated_cohort()
    deliveries.write_deliveries(cohort, full, seed=cohort.seed)
    raw = tmp_path_factory.mktemp("orig")
    shutil.copytree(full / "rotterdam", raw / "rotterdam")
    return mark_synthetic(raw)


def _redate(value: str) -> str:
    try:
        return pd.to_datetime(value, format="%d-%m-%Y").strftime("%Y/%m/%d")
    except (ValueError, TypeError):
        return value  # unreadable dates stay as they were


def rerender(original: Path, target: Path) -> None:
    """Rotterdam's export with English headers, '|' delimiter, UTF-8 and yyyy/mm/dd dates."""
    src = next((original / "rotterdam").glob("lvv_rotterdam_export_*.csv"))
    rows = list(csv.reader(io.StringIO(src.read_bytes().decode("cp1252")), delimiter=";"))
    header, body = rows[0], rows[1:]
    dates = [header.index(c) for c in DATE_COLUMNS]
    for row in body:
        for i in dates:
            row[i] = _redate(row[i]) if row[i] else row[i]
    folder = target / "rdam_v2"
    folder.mkdir(parents=True)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="|", lineterminator="\n")
    writer.writerow([ENGLISH[h] for h in header])
    writer.writerows(body)
    (folder / "export_rotterdam_v2.txt").write_text(buf.getvalue(), encoding="utf-8")
    shutil.copy(next((original / "rotterdam").glob("codeboek_*.csv")), folder / "codebook_exit.csv")
    mark_synthetic(target)


def sixth_spec(sources: Path) -> Path:
    """The one new YAML file: the Rotterdam spec with the new layout's names and formats."""
    spec = yaml.safe_load((SOURCES_DIR / "rotterdam.yaml").read_text(encoding="utf-8"))
    spec["name"] = "rotterdam_v2"
    spec["files"] = [{"pattern": "rdam_v2/export_rotterdam_v2.txt", "reader": "csv", "delimiter": "|",
                      "encoding": "utf-8", "constants": {"registration_group": "official"}}]
    spec["codebooks"][0].update({"pattern": "rdam_v2/codebook_exit.csv"})
    spec["columns"] = {ENGLISH[raw]: field for raw, field in spec["columns"].items()}
    spec["dates"] = {"formats": ["%Y/%m/%d"]}
    sources.mkdir(parents=True, exist_ok=True)
    path = sources / "rotterdam_v2.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _only(spec_name: str, folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(SOURCES_DIR / spec_name, folder / spec_name)
    shutil.copytree(SOURCES_DIR / "vocab", folder / "vocab")
    return folder


def test_a_sixth_layout_needs_one_yaml_file_and_gives_the_same_result(original, tmp_path):
    before = run_ingest(original, tmp_path / "out1", progress=False,
                        sources_dir=_only("rotterdam.yaml", tmp_path / "src1"))
    raw2 = tmp_path / "raw2"
    rerender(original, raw2)
    sources2 = tmp_path / "src2"
    shutil.copytree(SOURCES_DIR / "vocab", sources2 / "vocab")  # shared vocabularies, unchanged
    sixth_spec(sources2)
    after = run_ingest(raw2, tmp_path / "out2", progress=False, sources_dir=sources2)

    cols = [c for c in before.stays.columns if c != "source_file"]
    pd.testing.assert_frame_equal(before.stays[cols], after.stays[cols])
    assert (after.stays["source_file"] == "rdam_v2/export_rotterdam_v2.txt").all()
    assert len(before.stays) > 300
    q = ["rule_id", "source_row"]
    pd.testing.assert_frame_equal(before.quarantine[q], after.quarantine[q])
    # the same cells repaired by the same rules; reported under the new layout's column names
    c1 = before.changes.assign(column=before.changes["column"].map(lambda c: ENGLISH.get(c, c)))
    k = ["rule_id", "source_row", "column"]
    pd.testing.assert_frame_equal(c1[k].reset_index(drop=True), after.changes[k].reset_index(drop=True))
    acc1 = pd.DataFrame(before.manifest["row_accounting"]).drop(columns=["file"])
    acc2 = pd.DataFrame(after.manifest["row_accounting"]).drop(columns=["file"])
    pd.testing.assert_frame_equal(acc1, acc2)
