"""Sentences for the report text about the inference (Dutch and English, from ``labels.yaml``).

``inference_note`` says in one sentence why the tables' intervals are bootstrap intervals;
``e_value_note`` reads the E-values of an effects table out in words;
``coverage_note`` states the coverage of those intervals measured by
``benchmarks/coverage_shelter_effect.py`` (``coverage.yaml``), and says so plainly when a scenario
missed the 93-97% target.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
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


def _decimal(value: float, lang: str) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "nl" else text


def e_value_note(table: pd.DataFrame, lang: str = "nl") -> str:
    """One sentence per adjusted row of an effects table with an E-value (rows the disclosure
    gate withheld are left out): how strong an unmeasured confounder would have to be."""
    lab = labels(lang)
    rows = table[(table["estimate"] == "adjusted") & table["e_value"].notna()]
    parts = []
    for _, row in rows.iterrows():
        name = lab["classes"].get(str(row["cause"]), str(row["cause"]))
        if "level" in row and str(row["level"]) != str(row.get("exposure", row["level"])):
            level = lab["groups"].get("level", {}).get(str(row["level"]), str(row["level"]))
            name = f"{name}, {level}"
        ci = row.get("e_value_ci")
        parts.append(lab["e_value_row"].format(
            name=name, hr=_decimal(row["hr"], lang), e=_decimal(row["e_value"], lang),
            ci=_decimal(ci, lang) if pd.notna(ci) else "-"))
    return lab["e_value_intro"] + " " + "; ".join(parts) + "." if parts else ""


def _p_value(p: float, lang: str) -> str:
    if p < 0.001:
        return "< 0,001" if lang == "nl" else "< 0.001"
    text = f"{p:.3f}"
    return "= " + (text.replace(".", ",") if lang == "nl" else text)


def trend_test_note(table: pd.DataFrame, lang: str = "nl") -> str:
    """The test of the prior-procedures gradient per class in words: the hazard ratio per
    procedure with its interval and p-value (rows the disclosure gate withheld are left out)."""
    lab = labels(lang)
    rows = table[(table["level"] == "per procedure") & table["hr"].notna()]
    parts = [lab["trend_test_row"].format(
        name=lab["classes"].get(str(r["cause"]), str(r["cause"])), hr=_decimal(r["hr"], lang),
        lower=_decimal(r["hr_lower"], lang), upper=_decimal(r["hr_upper"], lang),
        p=_p_value(r["p_value"], lang)) for _, r in rows.iterrows()]
    return lab["trend_test_intro"] + " " + "; ".join(parts) + "." if parts else ""
