"""The E-value and trend-test sentences, the forest plot's drawn values, the sensitivity gates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lvv_eval.analysis import e_value_note, trend_test_note
from lvv_eval.analysis.plots import plot_effects
from lvv_eval.disclosure import CheckedTable, DisclosureGate
from lvv_eval.disclosure.figures import drawn_values


def _effects() -> pd.DataFrame:
    return pd.DataFrame({
        "cause": ["durable", "durable", "none", "none"],
        "estimate": ["naive", "adjusted", "naive", "adjusted"],
        "exposure": "shelter_24h", "level": "shelter_24h",
        "hr": [0.6, 0.75, 1.2, np.nan],  # the last row withheld by the gate
        "hr_lower": [0.0, 0.52, 0.9, np.nan], "hr_upper": [1.4, 1.03, np.inf, np.nan],
        "e_value": [np.nan, 2.0, np.nan, np.nan], "e_value_ci": [np.nan, 1.0, np.nan, np.nan],
    })


def test_e_value_note_names_each_adjusted_row_and_skips_withheld_ones():
    text = e_value_note(_effects(), "nl")
    assert "bestendige oplossing: HR 0,75, E-waarde 2,00 (1,00)" in text
    assert "geen oplossing" not in text and "naïef" not in text
    assert e_value_note(_effects().assign(e_value=np.nan), "en") == ""


def test_trend_test_note_reads_the_per_procedure_rows():
    table = pd.DataFrame({"cause": ["durable", "durable"], "level": ["1 vs 0", "per procedure"],
                          "hr": [1.1, 0.91], "hr_lower": [0.5, 0.77], "hr_upper": [2.0, 1.05],
                          "p_value": [0.8, 0.0004]})
    text = trend_test_note(table, "en")
    assert "durable solution: HR 0.91 (0.77-1.05), p < 0.001" in text and "1.10" not in text


def test_forest_plot_draws_estimates_and_finite_limits_only():
    fig = plot_effects(_effects(), "en")
    assert len(fig.axes) == 2  # one panel per class
    drawn = drawn_values(fig)
    assert sorted(drawn.loc[drawn["series"] == "hr", "x"]) == pytest.approx([0.6, 0.75, 1.2])
    table = CheckedTable("t", _effects(), pd.DataFrame(False, index=range(4), columns=_effects().columns),
                         entry=None)  # type: ignore[arg-type]
    from lvv_eval.disclosure.figures import check_figure

    _, stray = check_figure(fig, [table], axis="x")
    assert len(stray) == 0  # unbounded sides are marked in axes coordinates, not as values


def test_specification_curve_gate_hides_a_small_numerator():
    rows = pd.DataFrame({"rank": [1, 2], "spec_id": ["a", "b"], "estimate": [2.0, 30.0],
                         "lower": [0.5, 25.0], "upper": [6.0, 35.0], "n": [300.0, 400.0],
                         "numerator": [6.0, 120.0]})
    checked = DisclosureGate.from_policy().specification_curve(rows)
    assert checked.data.loc[0, ["numerator", "estimate", "lower", "upper"]].isna().all()
    assert checked.data.loc[1, "estimate"] == 30.0


def test_specification_summary_rests_on_the_smallest_denominator():
    table = pd.DataFrame({"axis": ["scheme"], "options": [6], "share_unique": [0.6]})
    gate = DisclosureGate.from_policy()
    assert gate.specification_summary(table, "v", 500, structural=["options"]).data.notna().all().all()
    assert gate.specification_summary(table, "v", 4, structural=["options"]).data["share_unique"].isna().all()


@pytest.mark.parametrize("by", ["shelter_24h", "pilot"])
def test_curves_by_group_one_panel_per_class_one_line_per_group(tte, by):
    from matplotlib.colors import to_hex

    from lvv_eval.analysis import cumulative_incidence
    from lvv_eval.analysis.plots import plot_cumulative_incidence_by_group
    from lvv_eval.report.style import pilot_colour

    fig = plot_cumulative_incidence_by_group(cumulative_incidence(tte, by=by), "en",
                                             classes=["durable", "none"])
    assert [ax.get_title() for ax in fig.axes] == ["durable solution", "no solution"]
    groups = tte[by].dropna().unique()
    assert len(fig.axes[0].get_lines()) == len(groups)
    if by == "pilot":
        colours = {line.get_label(): to_hex(line.get_color()) for line in fig.axes[0].get_lines()}
        assert all(colours[p] == pilot_colour(p) for p in colours)  # fixed pilot colours
