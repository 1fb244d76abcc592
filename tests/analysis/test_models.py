"""Cumulative incidence and Cox model behaviour beyond the R agreement tests."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from statsmodels.duration.hazard_regression import PHReg

from lvv_eval.analysis import (
    DroppedRowsWarning,
    FewClustersWarning,
    SmallCellWarning,
    breslow_score_residuals,
    cumulative_incidence,
    fit_cause_specific_cox,
    prior_procedures_gradient,
)
from lvv_eval.analysis.cox import score_residuals
from lvv_eval.analysis.design import design_matrix
from lvv_eval.analysis.partial_likelihood import CoxArrays


def test_cumulative_incidences_and_survival_add_to_one(tte):
    from statsmodels.duration.survfunc import SurvfuncRight

    cif = cumulative_incidence(tte).at([100, 400, 900])
    total = cif.groupby("time")["cif"].sum().to_numpy()
    sf = SurvfuncRight(tte["time"].to_numpy(float), (tte["event"] > 0).to_numpy(float))
    pos = np.searchsorted(sf.surv_times, [100, 400, 900], side="right") - 1
    np.testing.assert_allclose(total + sf.surv_prob[pos], 1.0, rtol=1e-10)


@pytest.mark.parametrize("by", ["pilot", "shelter_24h", "guidance_intensity", "prior_band"])
def test_cumulative_incidence_by_each_grouping(tte, by):
    res = cumulative_incidence(tte, by=by)
    groups = tte[by].dropna().unique()
    assert set(res.table[by].dropna().unique()) == set(groups)
    t = res.table[res.table["se"].notna()]  # NaN once survival reaches 0 (trap 6)
    assert (t["lower"] <= t["cif"] + 1e-15).all()
    assert (t["cif"] <= t["upper"] + 1e-15).all()


def test_read_at_a_day_includes_that_days_exits(tte):
    res = cumulative_incidence(tte)
    curve = res.table[res.table["cause"] == "durable"]
    day = float(curve.loc[curve["cif"].diff() > 0, "time"].iloc[3])
    at = res.at([day, day - 0.5])
    at = at[at["cause"] == "durable"]["cif"].to_numpy()
    assert at[0] > at[1]  # trap 1


def test_group_smaller_than_min_cell_warns(tte):
    small = tte[(tte["pilot"] != "Eindhoven") | (tte.index < tte.index[tte["pilot"] == "Eindhoven"][5])]
    with pytest.warns(SmallCellWarning):
        cumulative_incidence(small, by="pilot")


def test_score_residuals_equal_statsmodels_where_defined(tte):
    x = design_matrix(tte, ["shelter_24h", "n_prior"]).to_numpy()
    status = (tte["event"] == 1).to_numpy(float)
    strata = tte["pilot"].cat.codes.to_numpy()
    model = PHReg(tte["time"].to_numpy(float), x, status=status, strata=strata)
    params = model.fit().params
    theirs = model.score_residuals(params)
    ours = breslow_score_residuals(tte["time"].to_numpy(float), status, x, params, strata)
    defined = ~np.isnan(theirs[:, 0])
    np.testing.assert_allclose(ours[defined], theirs[defined], rtol=1e-9, atol=1e-12)
    assert (ours[~defined] == 0).all()  # trap 3: R's 0 where statsmodels gives NaN


def test_missing_covariates_are_dropped_loudly(tte):
    frame = tte.copy()
    frame.loc[frame.index[:7], "n_prior"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        with pytest.warns(DroppedRowsWarning, match="7 stays"):
            res = fit_cause_specific_cox(frame, "durable", ["shelter_24h", "n_prior"])
    assert res.n_dropped == 7 and res.n_obs == len(frame) - 7


def test_ties_must_be_explicit_and_known(tte):
    with pytest.raises(ValueError, match="ties"):
        fit_cause_specific_cox(tte, "durable", ["shelter_24h"], ties="exact")


def test_unknown_cause_is_named(tte):
    with pytest.raises(KeyError, match="departure"):
        fit_cause_specific_cox(tte, "departure", ["shelter_24h"])


def test_collinear_covariates_are_refused(tte):
    frame = tte.assign(shelter_copy=tte["shelter_24h"])
    with pytest.raises(ValueError, match="rank"):
        fit_cause_specific_cox(frame, "durable", ["shelter_24h", "shelter_copy"], cluster=None)


def test_cox_result_table_and_summary(tte):
    res = fit_cause_specific_cox(tte, "durable", ["shelter_24h", "guidance_intensity"], cluster=None)
    assert list(res.table["term"]) == [
        "shelter_24h", "guidance_intensity[standard]", "guidance_intensity[intensive]"
    ]
    assert res.reference_levels == {"guidance_intensity": "light"}
    row = res.table.iloc[0]
    assert row["ci_method"] == "model-based SE, normal"
    assert row["hr_lower"] == pytest.approx(np.exp(row["coef"] - 1.959964 * row["se_model"]))
    assert np.isnan(row["se_cluster_robust"])
    assert "durable" in res.summary()


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_partial_likelihood_equals_statsmodels(tte, ties):
    x = design_matrix(tte, ["shelter_24h", "n_prior"]).to_numpy()
    status = (tte["event"] == 1).to_numpy(float)
    strata = tte["pilot"].cat.codes.to_numpy()
    model = PHReg(tte["time"].to_numpy(float), x, status=status, strata=strata, ties=ties)
    ours = CoxArrays(tte["time"].to_numpy(float), status, x, strata, ties)
    np.testing.assert_allclose(ours.fit(), model.fit().params, rtol=1e-8)
    at = np.array([0.2, -0.1])
    d = ours.derivatives(at)
    assert d.loglik == pytest.approx(model.loglike(at), rel=1e-12)
    np.testing.assert_allclose(d.gradient, model.score(at), rtol=1e-9)
    np.testing.assert_allclose(d.information, -model.hessian(at), rtol=1e-9)


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_score_residuals_add_up_to_the_score_of_their_ties_method(tte, ties):
    x = design_matrix(tte, ["shelter_24h", "n_prior"]).to_numpy()
    status = (tte["event"] == 1).to_numpy(float)
    strata = tte["pilot"].cat.codes.to_numpy()
    at = np.array([0.2, -0.1])
    resid = score_residuals(tte["time"].to_numpy(float), status, x, at, strata, ties)
    score = CoxArrays(tte["time"].to_numpy(float), status, x, strata, ties).derivatives(at).gradient
    np.testing.assert_allclose(resid.sum(axis=0), score, rtol=1e-9)
    other = score_residuals(tte["time"].to_numpy(float), status, x, at, strata,
                            "efron" if ties == "breslow" else "breslow")
    assert np.abs(other - resid).max() > 1e-6  # day-level ties: the two methods differ


def test_unknown_sex_is_left_out_and_counted(stays, tte):
    unknown = (stays["sex"].astype("object") == "unknown").to_numpy()
    assert unknown.sum() > 0 and tte.loc[unknown, "female"].isna().all()
    assert set(tte.loc[~unknown, "female"]) == {0.0, 1.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        with pytest.warns(DroppedRowsWarning, match=f"{unknown.sum()} stays"):
            res = fit_cause_specific_cox(tte, "durable", ["shelter_24h", "female"])
    assert (res.table["n_dropped_missing"] == unknown.sum()).all()


def test_prior_procedures_gradient_rows_agree_with_their_bootstrap(tte):
    with pytest.warns(FewClustersWarning):
        g = prior_procedures_gradient(tte, "durable", ["shelter_24h"])
    t = g.table
    assert list(t["contrast"]) == ["1 vs 0", "2-5 vs 0", ">5 vs 0", "per procedure", "per band step"]
    assert t["ci_method"].str.contains("bootstrap").all()
    excludes_one = (t["hr_lower"] > 1) | (t["hr_upper"] < 1)
    assert (excludes_one == (t["p_value"] < 0.05)).all()
    assert (t["n_dropped_missing"] == tte["n_prior"].isna().sum()).all()


def test_a_level_without_events_is_reported(tte):
    from lvv_eval.analysis import NonConvergenceWarning

    frame = tte.copy()
    durable = frame["cause"] == "durable"
    frame["never_durable"] = 0.0
    frame.loc[~durable & (np.arange(len(frame)) % 7 == 0), "never_durable"] = 1.0
    with pytest.warns(NonConvergenceWarning, match="never_durable"):
        fit_cause_specific_cox(frame, "durable", ["shelter_24h", "never_durable"], cluster=None)
