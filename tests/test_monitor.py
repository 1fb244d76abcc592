"""monitor: one tidy table of the monitor's indicators per pilot and date, consistent with the
2020 letter's figures at its last round."""

from __future__ import annotations

import pandas as pd
import pytest

from lvv_eval.cli import main
from lvv_eval.config import MONITOR_ROUNDS, PILOTS
from lvv_eval.measures.definitions import load_definitions
from lvv_eval.measures.monitor import monitor_snapshots, parse_dates
from lvv_eval.measures.reproduce import load_published


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    from lvv_eval.synth.calibrate import calibrated_cohort

    return calibrated_cohort().stays


@pytest.fixture(scope="module")
def snapshots(truth) -> pd.DataFrame:
    return monitor_snapshots(truth)


def test_tidy_table_covers_every_round_pilot_and_indicator(snapshots):
    n_indicators = len(load_definitions().monitor)
    assert len(snapshots) == len(MONITOR_ROUNDS) * (len(PILOTS) + 1) * n_indicators
    assert not snapshots.duplicated(["date", "pilot", "indicator"]).any()
    assert sorted(snapshots["date"].unique()) == [pd.Timestamp(d) for d in MONITOR_ROUNDS]


def test_last_round_agrees_with_the_2020_letter(snapshots):
    published = load_published().set_index("figure_id")["value"]
    last = snapshots[(snapshots["date"] == pd.Timestamp("2020-11-01"))
                     & (snapshots["pilot"] == "all")].set_index("indicator")["value"]
    assert last["present"] == float(published["kb2020.present.all"])
    assert last["ever_sheltered"] == float(published["kb2020.ever_sheltered.all"])
    assert last["durable"] == float(published["kb2020.durable.all"])
    assert last["scenario_departure"] == float(published["kb2020.scenario_departure.all"])
    assert last["capacity"] == float(published["kb2020.capacity.all"])


def test_pilots_add_up_to_all_and_cumulative_counts_never_fall(snapshots):
    counts = ["present", "ever_sheltered", "left", "durable", "scenario_set", "mrt_cases"]
    sub = snapshots[snapshots["indicator"].isin(counts)]
    per_pilot = sub[sub["pilot"] != "all"].groupby(["date", "indicator"], observed=True)["value"].sum()
    total = sub[sub["pilot"] == "all"].set_index(["date", "indicator"])["value"]
    pd.testing.assert_series_equal(per_pilot.sort_index(), total.sort_index(), check_names=False)
    ever = snapshots[(snapshots["indicator"] == "ever_sheltered")].sort_values("date")
    for _, series in ever.groupby("pilot", observed=True)["value"]:
        assert series.is_monotonic_increasing


def test_parse_dates_names_the_bad_one():
    with pytest.raises(ValueError, match="'2020-13-01'"):
        parse_dates(["2020-01-01", "2020-13-01"])


def test_cli(tmp_path, capsys, truth_stays_file):
    out = tmp_path / "monitor.csv"
    assert main(["monitor", "--stays", str(truth_stays_file), "--dates", "2020-01-01", "2020-11-01", "--pilot",
                 "Groningen", "--out", str(out)]) == 0
    written = pd.read_csv(out)
    assert set(written["date"]) == {"2020-01-01", "2020-11-01"}
    assert "Groningen" in capsys.readouterr().out
    assert main(["monitor", "--stays", str(truth_stays_file), "--dates", "2020-02-30"]) == 2
