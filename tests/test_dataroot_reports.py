"""Folders under reports/ that collect the outputs of several runs (reproduce, monitor) say whose
data they hold, so that a demo root with synthetic outputs stays a demo root and one real (or
unknown) output makes it real for good."""

from __future__ import annotations

import shutil

from lvv_eval.cli import main
from lvv_eval.dataroot import real_data_found
from tests.helpers.synthetic import mark_synthetic


def test_reproduce_outputs_keep_their_provenance(tmp_path, monkeypatch, truth_stays_file):
    monkeypatch.setenv("LVV_DATA_ROOT", str(tmp_path))
    answer_key = tmp_path / "key"
    answer_key.mkdir()
    shutil.copy(truth_stays_file, answer_key / "truth_stays.parquet")
    mark_synthetic(answer_key)
    assert main(["reproduce", "--publication", "kb2020", "--stays",
                 str(answer_key / "truth_stays.parquet")]) == 0
    assert main(["monitor", "--dates", "2020-11-01", "--stays",
                 str(answer_key / "truth_stays.parquet")]) == 0
    assert real_data_found(tmp_path) == []  # the first row of the table is an input (agreed places)

    unknown = tmp_path / "elsewhere" / "stays.parquet"
    unknown.parent.mkdir()
    shutil.copy(truth_stays_file, unknown)
    assert main(["reproduce", "--publication", "kb2020", "--stays", str(unknown)]) == 0
    assert any("reports/reproduce" in line for line in real_data_found(tmp_path))
    assert main(["reproduce", "--publication", "kb2020", "--stays",
                 str(answer_key / "truth_stays.parquet")]) == 0
    assert any("reports/reproduce" in line for line in real_data_found(tmp_path))
