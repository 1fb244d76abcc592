"""Wild cluster bootstrap (Webb weights) and randomisation inference with five clusters."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from lvv_eval.analysis import (
    FewClustersWarning,
    fit_cause_specific_cox,
    fit_window_model,
    randomisation_inference,
    webb_weights,
    wild_cluster_bootstrap,
    window_outcome,
    with_wild_bootstrap,
)
from lvv_eval.analysis.inference import WEBB_VALUES, permute_within, wild_cluster_bootstrap_ols


def test_webb_weights_have_six_values_mean_zero_variance_one():
    w = webb_weights(5, 20_000, np.random.default_rng(1))
    assert set(np.round(np.unique(w), 12)) == set(np.round(WEBB_VALUES, 12))
    assert WEBB_VALUES.mean() == pytest.approx(0.0)
    assert (WEBB_VALUES**2).mean() == pytest.approx(1.0)


def _ols_data(effect: float, seed: int = 3, n: int = 1000, g: int = 5):
    rng = np.random.default_rng(seed)
    cl = rng.integers(0, g, n)
    x = np.column_stack([np.ones(n), rng.normal(size=n) + 0.5 * cl, rng.normal(size=n)])
    y = x @ np.array([1.0, 0.3, effect]) + rng.normal(size=n) + rng.normal(size=g)[cl]
    return y, x, cl


def test_wcr_t_statistic_is_the_hc1_cluster_t():
    import statsmodels.api as sm

    y, x, cl = _ols_data(0.2)
    fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": cl})
    _, t, _ = wild_cluster_bootstrap_ols(y, x, cl, 2, n_reps=999, seed=1)
    assert t == pytest.approx(fit.tvalues[2], rel=1e-10)


def test_wcr_rejects_a_large_effect_and_is_seeded():
    y, x, cl = _ols_data(1.0)
    _, _, p1 = wild_cluster_bootstrap_ols(y, x, cl, 2, n_reps=999, seed=7)
    _, _, p2 = wild_cluster_bootstrap_ols(y, x, cl, 2, n_reps=999, seed=7)
    assert p1 == p2
    assert p1 < 0.05


def test_wcr_size_under_the_null_is_not_far_off():
    # 200 datasets without effect: the 5% test should reject in roughly 5% (wide band: G = 5)
    rejections = [
        wild_cluster_bootstrap_ols(*_ols_data(0.0, seed=s), 2, n_reps=999, seed=s)[2] < 0.05
        for s in range(200)
    ]
    assert np.mean(rejections) < 0.12


def test_too_few_replications_is_an_error():
    y, x, cl = _ols_data(0.0)
    with pytest.raises(ValueError, match="999"):
        wild_cluster_bootstrap_ols(y, x, cl, 2, n_reps=99)


def test_bootstrap_of_fitted_models(tte):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        cox = fit_cause_specific_cox(tte, "durable", ["shelter_24h", "n_prior"], cluster="pilot")
        w = window_outcome(tte, "durable", 365)
        lpm = fit_window_model(w, ["shelter_24h", "n_prior", "pilot"], model="lpm")
        logit = fit_window_model(w, ["shelter_24h", "n_prior", "pilot"], model="logit")
    for result in (cox, lpm, logit):
        b = wild_cluster_bootstrap(result, "shelter_24h", n_reps=999, seed=5)
        assert 0 < b.p_value <= 1
        assert b.n_clusters == 5 and b.weights == "webb" and b.n_reps == 999
        assert b.table.shape[0] == 1
    with pytest.raises(KeyError):
        wild_cluster_bootstrap(cox, "no_such_term")


def test_five_clusters_raise_the_dedicated_warning(tte):
    with pytest.warns(FewClustersWarning, match="5 clusters"):
        fit_cause_specific_cox(tte, "durable", ["shelter_24h"], cluster="pilot")


def test_permutation_stays_within_strata():
    rng = np.random.default_rng(2)
    values = np.arange(12)
    strata = np.repeat(["a", "b", "c"], 4)
    out = permute_within(values, strata, rng)
    for s in "abc":
        assert sorted(out[strata == s]) == sorted(values[strata == s])


def test_randomisation_inference_on_a_null_treatment(tte):
    frame = tte.copy()
    rng = np.random.default_rng(4)
    frame["coin"] = rng.random(len(frame)) < 0.5

    def estimate(d: pd.DataFrame) -> float:
        return d.loc[d["coin"], "time"].mean() - d.loc[~d["coin"], "time"].mean()

    r = randomisation_inference(frame, estimate, "coin", within="pilot", n_reps=999, seed=1)
    assert r.p_value > 0.01
    assert r.n_reps == 999


def test_model_table_with_bootstrap_beside_cluster_errors(tte):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        lpm = fit_window_model(window_outcome(tte, "durable", 365), ["shelter_24h", "pilot"],
                               model="lpm")
    table = with_wild_bootstrap(lpm, n_reps=999, seed=3)
    assert np.isnan(table.set_index("term").loc["Intercept", "p_wild_bootstrap"])
    assert table.set_index("term").loc["shelter_24h", "p_wild_bootstrap"] > 0
    assert {"se_cluster", "p_value", "p_wild_bootstrap"} <= set(table.columns)


def test_many_clusters_fit_in_memory(tte):
    cox = fit_cause_specific_cox(tte, "durable", ["shelter_24h"], cluster="person_id")
    b = wild_cluster_bootstrap(cox, "shelter_24h", n_reps=9999, seed=1)
    assert b.n_clusters == tte["person_id"].nunique() and 0 < b.p_value <= 1
