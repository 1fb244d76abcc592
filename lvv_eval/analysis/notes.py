"""Sentences for the report text about the inference (Dutch and English, from ``labels.yaml``).

``inference_note`` says in one sentence why the tables' intervals are bootstrap intervals;
``coverage_note`` states the coverage of those intervals measured by
``benchmarks/coverage_shelter_effect.py`` (``coverage.yaml``), and says so plainly when a scenario
missed the 93-97% target.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from lvv_eval.analysis.plots import labels

COVERAGE_YAML = Path(__file__).with_name("coverage.yaml")


def inference_note(lang: str = "nl") -> str:
    """Why the intervals and p-values are wild cluster bootstrap ones (one sentence)."""
    return labels(lang)["inference_note"]


def coverage_note(lang: str = "nl", path: Path = COVERAGE_YAML) -> str:
    """The measured coverage of the bootstrap interval per simulation scenario, or '' if none."""
    if not path.exists():
        return ""
    measured = yaml.safe_load(path.read_text(encoding="utf-8"))
    lab = labels(lang)
    low, high = measured["target"]
    parts, missed = [], False
    for name, entry in measured["scenarios"].items():
        parts.append(lab["coverage_scenario"].format(
            coverage=entry["coverage"], name=lab["coverage_scenarios"].get(name, name),
            replications=entry["replications"], unbounded=entry.get("unbounded_share", 0.0),
            intervals=entry.get("intervals_computed", entry["replications"])))
        missed |= not low <= entry["coverage"] <= high
    key = "coverage_missed_target" if missed else "coverage_within_target"
    return lab[key].format(scenarios="; ".join(parts))
