"""reproduce on ingest's output: every hard figure matches on the cleaned default deliveries, and
switching off each cleaning step that matters breaks at least one named hard figure, so the
match cannot come from the generator alone."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lvv_eval.capacity import find_capacity
from lvv_eval.ingest import pipeline
from lvv_eval.measures.definitions import load_definitions
from lvv_eval.measures.reconcile import AuditTrail, reconcile_figure
from lvv_eval.measures.reproduce import load_published, reproduce_table
from lvv_eval.synth.run import synthesise

# cleaning step -> hard figures it must break when switched off, and why (the delivery faults
# of SYNTHETIC_DATA.md). The figures are named here; their values are read from the CSV.
STEPS_THAT_MATTER: dict[str, tuple[tuple[str, ...], str]] = {
    "R_OLD_DEFINITION_TEMPORARY": (
        ("kb2020.subsequent_asylum.all", "kb2020.art64.all", "ee2022.semi_durable.share"),
        "Utrecht labels HASA and art. 64 exits 'Bestendig - ...' under the old definition",
    ),
    "M_CROSS_SHEET": (
        ("ppe2019.scenario_base.amsterdam", "kb2020.ever_sheltered.all"),
        "Amsterdam people moved from the pre-LSO sheet to the official one appear on both",
    ),
    "M_KEY_DUPLICATE": (
        ("kb2020.ever_sheltered.all", "ppe2019.scenario_base.groningen"),
        "the same key twice with conflicting values would count twice",
    ),
    "R_DAYMONTH_SWAP": (
        ("kb2020.ever_sheltered.all", "ee2022.participants.all"),
        "exit dates with day and month swapped fall before admission and get quarantined",
    ),
    # without the sentinel repair, -99 in a descriptive field is a label outside the vocabulary,
    # which R_UNMAPPED_DESCRIPTIVE_TO_MISSING also sets missing (with a warning): both off breaks it
    "R_SENTINEL_TO_MISSING+R_UNMAPPED_DESCRIPTIVE_TO_MISSING": (
        ("ppe2019.scenario_base.rotterdam", "ee2022.participants.all"),
        "Rotterdam's -99 for unknown would fail validation and be quarantined",
    ),
    "R_IMPOSSIBLE_AGE_TO_MISSING": (
        ("kb2020.present.all", "ee2022.participants.all"),
        "rows with an impossible age would be quarantined instead of repaired",
    ),
    "M_EXACT_DUPLICATE": (
        ("kb2020.ever_sheltered.all", "ppe2019.scenario_base.utrecht"),
        "Utrecht's copy-paste duplicate rows would count twice",
    ),
    "X_NON_PARTICIPANT": (
        ("ppe2019.scenario_base.eindhoven", "kb2020.ever_sheltered.all"),
        "Eindhoven's municipal-shelter-only users are not LVV stays",
    ),
}


def _step_params() -> list:
    return list(STEPS_THAT_MATTER)


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lvv") / "synthetic"
    synthesise(out, progress=False)
    return out


def _ingest(raw_dir: Path, out_dir: Path, skip: tuple[str, ...] = ()) -> pd.DataFrame:
    return pipeline.run_ingest(raw_dir, out_dir, skip_steps=skip, progress=False, max_lost_share=1.0).stays


def _hard_status(stays: pd.DataFrame, clean_dir: Path) -> pd.Series:
    defs = load_definitions()
    table = reproduce_table(stays, "all", defs, find_capacity(clean_dir / "stays.parquet"))
    hard = table[table["role"] == "hard"]
    return hard.set_index("figure_id")["status"].astype(str)


@pytest.fixture(scope="module")
def clean(raw_dir, tmp_path_factory) -> tuple[pd.DataFrame, Path]:
    out = tmp_path_factory.mktemp("clean")
    return _ingest(raw_dir, out), out


def test_every_hard_figure_matches_on_the_ingested_default_deliveries(clean):
    stays, out = clean
    status = _hard_status(stays, out)
    hard_ids = set(load_published().query("role == 'hard'")["figure_id"])
    assert set(status.index) == hard_ids
    expected = {f: "input" if f.startswith("kb2020.capacity.") else "match" for f in hard_ids}
    assert status.to_dict() == expected


def test_waterfall_from_the_raw_delivery_closes(clean):
    stays, out = clean
    for figure_id, pilot in [("kb2020.durable.all", "Utrecht"),
                             ("ppe2019.scenario_base.eindhoven", None),
                             ("ppe2019.scenario_base.amsterdam", None)]:
        waterfall = reconcile_figure(figure_id, stays, pilot=pilot, trail=AuditTrail.beside(out / "stays.parquet"))
        lines = waterfall.set_index("step")
        assert not lines["detail"].str.contains("MISMATCH|gap").any(), waterfall
        n_pilot = int((stays["pilot"] == waterfall.attrs["pilot"]).sum())
        assert lines.loc["stays", "remaining"] == n_pilot
        assert lines.loc["raw_rows", "remaining"] >= n_pilot


@pytest.mark.parametrize("step", _step_params())
def test_switching_off_a_cleaning_step_breaks_a_named_hard_figure(step, raw_dir, tmp_path):
    named, why = STEPS_THAT_MATTER[step]
    stays = _ingest(raw_dir, tmp_path / "clean", skip=tuple(step.split("+")))
    status = _hard_status(stays, tmp_path / "clean")
    broken = sorted(f for f in named if status[f] != "match")
    assert broken, f"switching off {step} broke none of {named} ({why})"
