"""24-hour shelter naive vs adjusted with E-value; figures in Dutch and English."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.figure import Figure

from lvv_eval.analysis import (
    FewClustersWarning,
    compare_shelter_effect,
    cumulative_incidence,
    e_value,
    rates_per_100_person_years,
    stock_at,
)
from lvv_eval.analysis.plots import (
    labels,
    plot_cumulative_incidence,
    plot_effects,
    plot_rates,
    plot_stock,
)


@pytest.fixture(scope="module")
def effect(tte):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        return compare_shelter_effect(tte, "durable", ["n_prior", "safe_country"], n_reps=999)


def test_naive_and_adjusted_side_by_side(effect):
    t = effect.table
    assert list(t["estimate"]) == ["naive", "adjusted"]
    assert pd.isna(t.loc[0, "strata"]) and t.loc[1, "strata"] == "pilot"
    assert t["n_obs"].nunique() == 1  # same rows in both fits
    assert t["p_wild_bootstrap"].between(0, 1).all()
    adj = t.iloc[1]
    expected = e_value(adj["hr"], adj["hr_lower"], adj["hr_upper"], "hr",
                       rare_outcome=effect.e_value.rare_outcome)
    assert adj["e_value"] == pytest.approx(expected.point)
    assert "naive" in effect.summary()


def test_treatment_cannot_be_its_own_adjustment(tte):
    with pytest.raises(ValueError, match="treatment"):
        compare_shelter_effect(tte, "durable", ["shelter_24h"], bootstrap=False)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_figures_are_returned_with_labels_in_the_language(tte, stays, effect, lang):
    figs = [
        plot_cumulative_incidence(cumulative_incidence(tte, by="pilot"), lang=lang, synthetic=True),
        plot_stock(stock_at(stays, ["2020-01-01", "2021-01-01"]), lang=lang),
        plot_effects(effect.table, lang=lang),
        plot_rates(rates_per_100_person_years(tte), lang=lang),
    ]
    for fig in figs:
        assert isinstance(fig, Figure)
    ax = figs[0].axes[0]
    assert ax.get_xlabel() == labels(lang)["days_since_admission"]
    assert any(t.get_text() == labels(lang)["synthetic"] for t in figs[0].texts)
    for fig in figs:
        plt.close(fig)


def test_unknown_language_is_an_error():
    with pytest.raises(ValueError, match="lang"):
        labels("de")
