"""The report sentences about inference: both languages, and a missed coverage target is said."""

from __future__ import annotations

import pytest
import yaml

from lvv_eval.analysis import coverage_note, inference_note


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_inference_note_says_bootstrap_in_both_languages(lang):
    assert "bootstrap" in inference_note(lang)


def _measured(tmp_path, coverages):
    path = tmp_path / "coverage.yaml"
    scenarios = {name: {"coverage": c, "replications": 500, "unbounded_share": 0.5}
                 for name, c in coverages.items()}
    path.write_text(yaml.safe_dump({"target": [0.93, 0.97], "scenarios": scenarios}))
    return path


def test_a_missed_target_is_stated_not_hidden(tmp_path):
    path = _measured(tmp_path, {"homogeneous": 0.951, "concentrated": 0.902})
    en = coverage_note("en", path)
    assert en.startswith("Note:") and "90.2%" in en and "95.1%" in en
    assert coverage_note("nl", path).startswith("Let op:")
    ok = coverage_note("en", _measured(tmp_path, {"homogeneous": 0.951}))
    assert not ok.startswith("Note:") and "95.1%" in ok


def test_no_measurement_gives_no_sentence(tmp_path):
    assert coverage_note("en", tmp_path / "absent.yaml") == ""
