"""Every disclosure rule: a table that must be suppressed (or withheld) and one that must pass."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from lvv_eval.analysis import cumulative_incidence, fit_cause_specific_cox, time_to_event
from lvv_eval.disclosure import (
    Cumulative,
    DisclosureGate,
    DisclosurePolicy,
    Relation,
    check_model,
)
from lvv_eval.disclosure.survival import shown_points
from lvv_eval.disclosure.tables import mask_small_counts, small_counts_in_text
from tests.helpers.fake_stays import fake_stays

POLICY = DisclosurePolicy()  # the defaults, equal to the package's YAML (tested elsewhere)


def gate(**changes) -> DisclosureGate:
    policy = POLICY.model_copy(update=changes)
    return DisclosureGate(policy)


def one_way(values, total=None) -> pd.DataFrame:
    groups = [f"g{i}" for i in range(len(values))]
    if total is not None:
        return pd.DataFrame({"group": [*groups, "all"], "n": [*values, total]})
    return pd.DataFrame({"group": groups, "n": values})


def hidden(checked, column="n") -> list[bool]:
    return checked.hidden[column].tolist()


# --------------------------------------------------------------------------------- counts

def test_freq_min_suppresses_a_count_below_the_threshold() -> None:
    checked = gate().table(one_way([3, 40, 50]), "t", counts=["n"], dims=["group"])
    assert hidden(checked)[0]
    assert "FREQ_MIN" in checked.entry.rules and checked.entry.status == "suppressed"
    assert checked.shown()["n"].iloc[0] == "x"


def test_freq_min_passes_counts_at_the_threshold() -> None:
    checked = gate().table(one_way([10, 40, 50]), "t", counts=["n"], dims=["group"])
    assert not any(hidden(checked))
    assert checked.entry.status == "pass" and checked.entry.rules == []
    assert checked.shown()["n"].tolist() == [10, 40, 50]


def test_freq_zero_suppresses_a_sampling_zero_by_default() -> None:
    checked = gate().table(one_way([0, 40, 50]), "t", counts=["n"], dims=["group"])
    assert hidden(checked)[0] and "FREQ_ZERO" in checked.entry.rules


def test_freq_zero_shows_zeros_when_the_policy_says_so() -> None:
    policy_zeros = POLICY.zeros.model_copy(update={"sampling": "show"})
    checked = gate(zeros=policy_zeros).table(one_way([0, 40, 50]), "t", counts=["n"],
                                             dims=["group"])
    assert not any(hidden(checked))


def test_structural_zeros_show_under_the_default_policy() -> None:
    checked = gate().table(one_way([0, 40, 50]), "t", counts=["n"], dims=["group"],
                           structural_zeros=[True, False, False])
    assert not any(hidden(checked))


def test_freq_secondary_protects_a_cell_against_its_total() -> None:
    checked = gate().table(one_way([3, 40, 50], total=93), "t", counts=["n"], dims=["group"],
                           totals={"group": "all"})
    flags = hidden(checked)
    assert flags[0] and sum(flags[:3]) >= 2, "a lone suppressed cell is the total minus the rest"
    assert "FREQ_SECONDARY" in checked.entry.rules


def test_freq_secondary_does_nothing_when_nothing_is_small() -> None:
    checked = gate().table(one_way([12, 40, 50], total=102), "t", counts=["n"], dims=["group"],
                           totals={"group": "all"})
    assert not any(hidden(checked))


def test_freq_secondary_makes_the_suppressed_parts_reach_the_threshold() -> None:
    """Two small cells of one published total: hiding both still pins them (their sum is 5)."""
    checked = gate().table(one_way([2, 3, 40, 50], total=95), "t", counts=["n"], dims=["group"],
                           totals={"group": "all"})
    flags = hidden(checked)
    assert flags[0] and flags[1] and sum(flags[2:4]) >= 1


def test_secondary_suppression_off_leaves_only_the_primary_cells() -> None:
    freq = POLICY.frequency.model_copy(update={"secondary": False})
    checked = gate(frequency=freq).table(one_way([3, 40, 50], total=93), "t", counts=["n"],
                                         dims=["group"], totals={"group": "all"})
    assert hidden(checked) == [True, False, False, False]


def test_freq_round_rounds_counts_and_hides_what_rests_on_small_ones() -> None:
    freq = POLICY.frequency.model_copy(update={"method": "round"})
    table = one_way([3, 41, 52]).assign(share=[0.03, 0.43, 0.54])
    checked = gate(frequency=freq).table(table, "t", counts=["n"], dims=["group"],
                                         derived={"n": ["share"]})
    assert checked.shown()["n"].tolist() == [5, 40, 50]
    assert hidden(checked, "share") == [True, False, False]
    assert checked.entry.status == "rounded" and "FREQ_ROUND" in checked.entry.rules


def test_freq_round_passes_counts_already_on_the_base() -> None:
    freq = POLICY.frequency.model_copy(update={"method": "round"})
    checked = gate(frequency=freq).table(one_way([15, 40, 50]), "t", counts=["n"], dims=["group"])
    assert checked.shown()["n"].tolist() == [15, 40, 50]
    assert not checked.hidden.to_numpy().any()


# ------------------------------------------------------------------- derived, statistics

def test_derived_values_are_hidden_with_their_count() -> None:
    table = one_way([4, 40, 50]).assign(rate=[1.2, 12.0, 15.0], lower=[0.3, 9.0, 11.0])
    checked = gate().table(table, "t", counts=["n"], dims=["group"],
                           derived={"n": ["rate", "lower"]})
    for col in ("n", "rate", "lower"):
        assert hidden(checked, col)[0]
    assert "DERIVED" in checked.entry.rules


def test_derived_values_show_with_a_count_that_passes() -> None:
    table = one_way([14, 40, 50]).assign(rate=[1.2, 12.0, 15.0])
    checked = gate().table(table, "t", counts=["n"], dims=["group"], derived={"n": ["rate"]})
    assert not checked.hidden.to_numpy().any()


def test_stat_basis_hides_a_median_resting_on_few_exits() -> None:
    table = pd.DataFrame({"group": ["a", "b"], "n_exits": [7, 30], "median": [120.0, 300.0]})
    checked = gate().table(table, "t", counts=["n_exits"], statistics={"median": "n_exits"},
                           keys=["group"])
    assert hidden(checked, "median") == [True, False] and "STAT_BASIS" in checked.entry.rules


def test_stat_basis_takes_a_basis_given_as_values() -> None:
    table = pd.DataFrame({"group": ["a", "b"], "person_years": [80.0, 300.0]})
    checked = gate().table(table, "t", statistics={"person_years": [25, 9]}, keys=["group"])
    assert hidden(checked, "person_years") == [False, True]


# ---------------------------------------------------------------- identities and growth

def test_relations_protect_a_part_of_an_identity() -> None:
    table = pd.DataFrame({"indicator": ["durable", "residence", "departure"], "n": [47, 3, 44]})
    checked = gate().table(table, "t", counts=["n"], keys=["indicator"],
                           relations=[Relation("indicator", "durable", ("residence", "departure"))])
    flags = hidden(checked)
    assert flags[1] and (flags[0] or flags[2]), "durable minus departure gives residence away"


def test_relations_change_nothing_when_every_part_passes() -> None:
    table = pd.DataFrame({"indicator": ["durable", "residence", "departure"], "n": [57, 13, 44]})
    checked = gate().table(table, "t", counts=["n"], keys=["indicator"],
                           relations=[Relation("indicator", "durable", ("residence", "departure"))])
    assert not any(hidden(checked))


def test_a_relation_that_does_not_hold_is_not_used_and_is_recorded() -> None:
    table = pd.DataFrame({"indicator": ["durable", "residence", "departure"], "n": [50, 13, 44]})
    checked = gate().table(table, "t", counts=["n"], keys=["indicator"],
                           relations=[Relation("indicator", "durable", ("residence", "departure"))])
    assert any("do not add up" in d for d in checked.entry.details)


def test_cumulative_counts_protect_the_growth_between_dates() -> None:
    table = pd.DataFrame({"date": ["2020-01", "2020-02", "2020-03"], "n": [20, 25, 40]})
    checked = gate().table(table, "t", counts=["n"], keys=["date"], cumulative=Cumulative("date"))
    flags = hidden(checked)
    assert flags[0] or flags[1], "25 - 20 gives away the 5 who came in between"


def test_cumulative_counts_pass_when_every_step_is_large() -> None:
    table = pd.DataFrame({"date": ["2020-01", "2020-02", "2020-03"], "n": [20, 35, 50]})
    checked = gate().table(table, "t", counts=["n"], keys=["date"], cumulative=Cumulative("date"))
    assert not any(hidden(checked))


# ------------------------------------------------------------------- public, text, roles

def test_published_cells_are_shown_as_published() -> None:
    table = one_way([2, 40, 50])
    checked = gate().table(table, "t", counts=["n"], dims=["group"], public=[True, False, False])
    assert not hidden(checked)[0] and "PUBLISHED" in checked.entry.rules


def test_the_same_count_unpublished_is_suppressed() -> None:
    checked = gate().table(one_way([2, 40, 50]), "t", counts=["n"], dims=["group"],
                           public=[False, False, False])
    assert hidden(checked)[0]


def test_text_quoting_a_small_count_is_hidden() -> None:
    table = pd.DataFrame({"key": ["a", "b"], "detail": ["Amsterdam 3/360", "period 2019-03-01 to 2022-07-01"]})
    checked = gate().table(table, "t", keys=["key"], text=["detail"])
    assert hidden(checked, "detail") == [True, False] and "TEXT_COUNTS" in checked.entry.rules
    assert small_counts_in_text("51 in the base", 10) is False
    assert small_counts_in_text("2,237 stays", 10) is False
    assert mask_small_counts("only 7 events on 2020-01-05, 0.05 level", 10, "x") == (
        "only x events on 2020-01-05, 0.05 level")


def test_a_numeric_column_without_a_role_is_hidden_and_needs_review() -> None:
    table = one_way([40, 50]).assign(mystery=[3.0, 4.0])
    checked = gate().table(table, "t", counts=["n"], dims=["group"])
    assert hidden(checked, "mystery") == [True, True]
    assert checked.entry.status == "needs review" and "UNCLASSIFIED" in checked.entry.rules


def test_a_structural_column_passes_with_its_reason_recorded() -> None:
    table = one_way([40, 50]).assign(places=[3.0, 4.0])
    checked = gate().table(table, "t", counts=["n"], dims=["group"],
                           structural={"places": "agreed places, not people"})
    assert checked.entry.status == "pass"
    assert checked.entry.columns["places"] == "structural: agreed places, not people"


# -------------------------------------------------------------------------- survival

def test_surv_grid_hides_steps_with_few_events() -> None:
    times = np.array([5, 10, 15, 20, 25, 35, 95, 100] + [400] * 40, dtype=float)
    events = np.array([True] * 8 + [False] * 40)
    grid = np.arange(0, 450, 30, dtype=float)
    shown = shown_points(times, events, grid, POLICY)
    # 5 events by day 30 and 6 by day 60: too few; 8 by day 120 still too few
    assert shown[0] and not shown[1:].any()


def test_surv_grid_shows_steps_with_enough_events_and_people_at_risk() -> None:
    times = np.concatenate([np.full(12, 10.0), np.full(12, 40.0), np.full(30, 400.0)])
    events = np.concatenate([np.ones(24, bool), np.zeros(30, bool)])
    grid = np.array([0, 30, 60, 90], dtype=float)
    assert shown_points(times, events, grid, POLICY).tolist() == [True, True, True, False]


def test_surv_grid_stops_where_fewer_than_the_minimum_are_at_risk() -> None:
    times = np.concatenate([np.full(40, 10.0), np.full(12, 100.0)])
    events = np.ones(52, bool)
    grid = np.array([0, 30, 60, 90, 120], dtype=float)
    # 40 exits by day 30 (12 still at risk): shown; the last 12 exits happen when nobody is at
    # risk on the next grid day, so that step is never shown
    assert shown_points(times, events, grid, POLICY).tolist() == [True, True, False, False, False]


@pytest.fixture(scope="module")
def tte() -> pd.DataFrame:
    return time_to_event(fake_stays(1500, seed=3), "ee2022")


def test_cumulative_incidence_is_gated_onto_the_grid(tte) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cif = cumulative_incidence(tte, by="pilot")
    curves = gate().cumulative_incidence(cif, tte, "cif")
    table = curves.table.data
    assert set(np.mod(table["time"], 30)) == {0}
    assert len(table) < len(cif.table)
    assert curves.table.hidden["cif"].any() and curves.entry.rules == ["SURV_GRID"]
    shown = curves.result.table.dropna(subset=["cif"])  # a NaN row ends each curve
    assert set(shown["time"]) <= set(table["time"])
    # every shown point is a value of the full curve read at that day
    one = cif.table[(cif.table["pilot"] == "Amsterdam") & (cif.table["cause"] == "durable")]
    mine = shown[(shown["pilot"] == "Amsterdam") & (shown["cause"] == "durable")]
    for _, row in mine.iterrows():
        before = one[one["time"] <= row["time"]]
        expected = before["cif"].iloc[-1] if len(before) else 0.0
        assert row["cif"] == pytest.approx(expected)


def test_reading_the_gated_curves_names_the_step_and_stops_at_the_last_one(tte) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cif = cumulative_incidence(tte, by="pilot")
    curves = gate().cumulative_incidence(cif, tte, "cif")
    read = curves.at([0, 365, 10_000]).set_index(["pilot", "cause", "time"])
    shown = curves.table.data.dropna(subset=["cif"])
    for (pilot, cause, time), row in read.iterrows():
        if row["cif"] == "x":
            assert time > 0  # past the curve's last shown step
            continue
        assert row["shown_at"] <= time and row["shown_at"] % 30 == 0
        match = shown[(shown["pilot"] == pilot) & (shown["cause"] == cause)
                      & (shown["time"] == row["shown_at"])]
        assert row["cif"] == pytest.approx(match["cif"].iloc[0])
    assert (read.xs(10_000, level="time")["cif"] == "x").all()


# ---------------------------------------------------------------------------- models

def ols(n: int, p: int):
    rng = np.random.default_rng(0)
    x = sm.add_constant(rng.normal(size=(n, p - 1)))
    return sm.OLS(x @ np.ones(p) + rng.normal(size=n), x).fit()


def test_model_df_withholds_a_model_close_to_its_data() -> None:
    verdict = check_model(ols(12, 5), POLICY)
    assert not verdict.passed and verdict.failed == ["MODEL_DF"]


def test_model_df_passes_a_model_with_enough_residual_df() -> None:
    assert check_model(ols(200, 5), POLICY).passed


@pytest.fixture(scope="module")
def small_tte() -> pd.DataFrame:
    return time_to_event(fake_stays(60, seed=5), "ee2022")


def cox(data: pd.DataFrame, covariates: list[str]):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_cause_specific_cox(data, "durable", covariates, strata=None, cluster=None)


def test_model_epp_withholds_a_model_with_few_events_per_parameter(small_tte) -> None:
    result = cox(small_tte, ["shelter_24h", "n_prior", "safe_country"])
    assert result.n_events < 30  # fewer than 10 per parameter
    verdict = check_model(result, POLICY)
    assert "MODEL_EPP" in verdict.failed


def test_model_epp_passes_with_enough_events(tte) -> None:
    result = cox(tte, ["shelter_24h", "n_prior"])
    assert result.n_events >= 20
    assert check_model(result, POLICY, "shelter_24h").passed


def test_model_level_withholds_a_category_with_few_events(tte) -> None:
    data = tte.copy()
    events = data.index[data["cause"] == "durable"]
    data["rare"] = 0.0
    data.loc[events[:4], "rare"] = 1.0  # four events in the category
    data.loc[data.index.difference(events)[:200], "rare"] = 1.0
    verdict = check_model(cox(data, ["rare", "n_prior"]), POLICY, "rare")
    assert verdict.failed == ["MODEL_LEVEL"]


def test_model_level_passes_a_category_with_events_on_both_sides(tte) -> None:
    verdict = check_model(cox(tte, ["shelter_24h", "n_prior"]), POLICY, "shelter_24h")
    assert "MODEL_LEVEL" not in verdict.failed


def test_model_table_withholds_the_estimates_of_a_failing_row(small_tte, tte) -> None:
    weak = cox(small_tte, ["shelter_24h", "n_prior", "safe_country"])
    strong = cox(tte, ["shelter_24h", "n_prior"])
    rows = pd.concat([weak.table.iloc[[0]], strong.table.iloc[[0]]], ignore_index=True)
    checked = gate().model_table(rows, "effects", [weak, strong],
                                 structural={"n_clusters": "pilots"})
    shown = checked.shown()
    assert shown.loc[0, "hr"] == "x" and shown.loc[1, "hr"] != "x"
    assert "MODEL_EPP" in shown.loc[0, "disclosure"] and shown.loc[1, "disclosure"] == ""
    assert checked.entry.status == "withheld"


# ---------------------------------------------------------------------------- figures

def test_figure_source_withholds_a_figure_drawing_a_hidden_value(tmp_path) -> None:
    import matplotlib.pyplot as plt

    g = gate()
    checked = g.table(one_way([3, 40, 50]), "t", counts=["n"], dims=["group"])
    fig, ax = plt.subplots()
    ax.bar(["a", "b", "c"], [3, 40, 50])  # the raw counts, not the gated ones
    assert g.write_figure(fig, tmp_path / "raw.png", [checked]) is None
    assert not (tmp_path / "raw.png").exists()
    assert g.record.entries["raw.png"].status == "withheld"
    plt.close(fig)


def test_figure_source_writes_a_figure_drawn_from_the_gated_table(tmp_path) -> None:
    import matplotlib.pyplot as plt

    g = gate()
    checked = g.table(one_way([3, 40, 50]), "t", counts=["n"], dims=["group"])
    fig, ax = plt.subplots()
    ax.bar(["a", "b", "c"], checked.data["n"].to_numpy(float))
    ax.axhline(1.0)  # a reference line (axes coordinates) is not data
    path = g.write_figure(fig, tmp_path / "gated.png", [checked])
    assert path is not None and path.exists()
    drawn = pd.read_csv(tmp_path / "gated.values.csv")
    assert sorted(drawn["y"]) == sorted(checked.data["n"].dropna())
    plt.close(fig)
