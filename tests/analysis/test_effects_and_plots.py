"""24-hour shelter naive vs adjusted with E-value; figures in Dutch and English."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from lvv_eval.analysis import (
    DroppedRowsWarning,
    FewClustersWarning,
    compare_shelter_effect,
    cumulative_incidence,
    e_value,
    rates_per_100_person_years,
    stock_at,
    wild_cluster_bootstrap,
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
        return compare_shelter_effect(tte, "durable", ["n_prior", "safe_country"])


def test_naive_and_adjusted_side_by_side(effect):
    t = effect.table
    assert list(t["estimate"]) == ["naive", "adjusted"]
    assert pd.isna(t.loc[0, "strata"]) and t.loc[1, "strata"] == "pilot"
    assert t["n_obs"].nunique() == 1  # same rows in both fits
    assert "naive" in effect.summary()


def test_effect_interval_is_the_bootstrap_one_and_agrees_with_its_p_value(effect):
    t = effect.table
    assert t["ci_method"].str.contains("bootstrap").all()
    for _, row in t.iterrows():
        fit = effect.naive if row["estimate"] == "naive" else effect.adjusted
        b = wild_cluster_bootstrap(fit, "shelter_24h", interval=True)
        assert row["p_value"] == b.p_value
        assert row["hr_lower"] == pytest.approx(np.exp(b.lower))
        assert row["hr_upper"] == pytest.approx(np.exp(b.upper))
        assert (row["p_value"] < 0.05) == (not row["hr_lower"] <= 1 <= row["hr_upper"])
        assert row["p_cluster_robust"] == pytest.approx(
            fit.row("shelter_24h", "cluster_robust")["p_value"])


def test_e_value_interval_uses_the_bootstrap_limit(effect):
    adj = effect.table.iloc[1]
    expected = e_value(adj["hr"], adj["hr_lower"], adj["hr_upper"], "hr",
                       rare_outcome=effect.e_value.rare_outcome)
    assert adj["e_value"] == pytest.approx(expected.point)
    assert adj["e_value_ci"] == pytest.approx(expected.ci)
    robust = e_value(adj["hr"], adj["hr_lower_cluster_robust"], adj["hr_upper_cluster_robust"],
                     "hr", rare_outcome=effect.e_value.rare_outcome)
    if robust.ci != expected.ci:  # the two intervals differ: the table must follow the bootstrap
        assert adj["e_value_ci"] != pytest.approx(robust.ci)


def test_stays_left_out_for_missing_covariates_are_counted(tte):
    frame = tte.copy()
    frame.loc[frame.index[:11], "safe_country"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        with pytest.warns(DroppedRowsWarning, match="11 stays"):
            res = compare_shelter_effect(frame, "durable", ["n_prior", "safe_country"], bootstrap=False)
    assert (res.table["n_dropped_missing"] == 11 + frame["n_prior"].isna().sum()).all()
    assert res.table["ci_method"].str.contains("cluster-robust").all()


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
