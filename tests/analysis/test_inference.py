"""Wild cluster bootstrap (Webb weights): p-values, intervals by test inversion, CR2, permutation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

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
from lvv_eval.analysis.inference import (
    WEBB_VALUES,
    WebbScheme,
    all_webb_vectors,
    cr2_vcov,
    invert_test,
    permute_within,
    wild_cluster_bootstrap_ols,
)


def test_webb_weights_have_six_values_mean_zero_variance_one():
    w = webb_weights(5, 20_000, np.random.default_rng(1))
    assert set(np.round(np.unique(w), 12)) == set(np.round(WEBB_VALUES, 12))
    assert WEBB_VALUES.mean() == pytest.approx(0.0)
    assert (WEBB_VALUES**2).mean() == pytest.approx(1.0)


def test_five_clusters_enumerate_every_webb_vector_once():
    v = all_webb_vectors(5)
    assert v.shape == (6**5, 5)
    assert len(np.unique(v, axis=0)) == 6**5
    scheme = WebbScheme.make(5, n_reps=999, seed=1)
    assert scheme.enumerated and scheme.n_reps == 7776
    assert not WebbScheme.make(7, n_reps=999).enumerated  # 6^7 vectors: drawn instead


def _ols_data(effect: float, seed: int = 3, n: int = 1000, g: int = 5):
    rng = np.random.default_rng(seed)
    cl = rng.integers(0, g, n)
    x = np.column_stack([np.ones(n), rng.normal(size=n) + 0.5 * cl, rng.normal(size=n)])
    y = x @ np.array([1.0, 0.3, effect]) + rng.normal(size=n) + rng.normal(size=g)[cl]
    return y, x, cl


def test_wcr_t_statistic_is_the_hc1_cluster_t():
    y, x, cl = _ols_data(0.2)
    fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": cl})
    _, t, _ = wild_cluster_bootstrap_ols(y, x, cl, 2, n_reps=999, seed=1)
    assert t == pytest.approx(fit.tvalues[2], rel=1e-10)


def _hc1_t(y, x, cl, k, null):
    n, p = x.shape
    g = cl.max() + 1
    xtx = np.linalg.inv(x.T @ x)
    b = xtx @ x.T @ y
    s = np.zeros((g, p))
    np.add.at(s, cl, x * (y - x @ b)[:, None])
    v = g / (g - 1) * (n - 1) / (n - p) * xtx @ s.T @ s @ xtx
    return (b[k] - null) / np.sqrt(v[k, k])


@pytest.mark.parametrize("seed", [3, 5])
def test_wcr_p_value_equals_refitting_every_webb_vector(seed):
    # brute force: impose the null, perturb restricted residuals by each of the 7,776 Webb
    # vectors, refit OLS and recompute the HC1 cluster t; the fast algebra must give the same p
    y, x, cl = _ols_data(1.0, seed=seed, n=80)
    null = 1.0
    y_r = y - null * x[:, 2]
    b_r = np.linalg.lstsq(x[:, :2], y_r, rcond=None)[0]
    u_r = y_r - x[:, :2] @ b_r
    t0 = _hc1_t(y, x, cl, 2, null)
    t_star = np.array([_hc1_t(x[:, :2] @ b_r + null * x[:, 2] + w[cl] * u_r, x, cl, 2, null)
                       for w in all_webb_vectors(5)])
    _, t, p = wild_cluster_bootstrap_ols(y, x, cl, 2, null=null)
    assert t == pytest.approx(t0, rel=1e-10)
    assert p == pytest.approx(np.mean(np.abs(t_star) >= abs(t0) - 1e-12), abs=1e-12)


def test_wcr_rejects_a_large_effect():
    y, x, cl = _ols_data(1.0)
    assert wild_cluster_bootstrap_ols(y, x, cl, 2, null=0.0)[2] < 0.05


def test_too_few_replications_is_an_error():
    y, x, cl = _ols_data(0.0)
    with pytest.raises(ValueError, match="999"):
        wild_cluster_bootstrap_ols(y, x, cl, 2, n_reps=99)


def test_inversion_recovers_a_known_p_value_function():
    # a normal test of mean 1 with SE 0.5: the 95% interval is 1 -/+ 1.96 * 0.5
    def p(v: float) -> float:
        return float(2 * stats.norm.sf(abs(v - 1.0) / 0.5))

    lo, hi = invert_test(p, 1.0, 0.5)
    assert lo == pytest.approx(1 - 1.959964 * 0.5, abs=1e-4)
    assert hi == pytest.approx(1 + 1.959964 * 0.5, abs=1e-4)


def test_inversion_keeps_a_null_that_the_test_accepts_inside():
    # a p-value function that dips below 0.05 between the estimate (1) and the null (0)
    def p(v: float) -> float:
        return 0.01 if 0.3 < v < 0.6 else 0.5

    lo, hi = invert_test(p, 1.0, 0.1, nulls=(0.0,))
    assert lo < 0 < hi
    lo, _ = invert_test(p, 1.0, 0.1, nulls=())
    assert lo == pytest.approx(0.6, abs=1e-3)
    assert np.isinf(invert_test(lambda v: 0.5, 1.0, 0.1)[1])  # never rejects: unbounded


@pytest.fixture(scope="module")
def models(tte):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        w = window_outcome(tte, "durable", 365)
        return {
            "cox": fit_cause_specific_cox(tte, "durable", ["shelter_24h", "n_prior"]),
            "lpm": fit_window_model(w, ["shelter_24h", "n_prior"], model="lpm"),
            "logit": fit_window_model(w, ["shelter_24h", "n_prior"], model="logit"),
        }


@pytest.mark.parametrize("name", ["cox", "lpm", "logit"])
def test_interval_and_p_value_agree_and_bound_is_where_p_crosses_alpha(models, name):
    result, term = models[name], "shelter_24h"
    b = wild_cluster_bootstrap(result, term, interval=True)
    assert b.enumerated and b.n_reps == 7776 and b.n_clusters == 5
    assert b.lower < b.estimate < b.upper
    assert (b.p_value < 0.05) == (not b.lower <= 0 <= b.upper)
    for bound, outward in ((b.lower, -1), (b.upper, 1)):
        if np.isfinite(bound):
            eps = 1e-3 * result.se(term)
            inside = wild_cluster_bootstrap(result, term, null=bound - outward * eps).p_value
            outside = wild_cluster_bootstrap(result, term, null=bound + outward * eps).p_value
            assert inside >= 0.05 > outside


def test_enumeration_makes_the_bootstrap_independent_of_the_seed(models):
    a = wild_cluster_bootstrap(models["cox"], "shelter_24h", seed=1)
    b = wild_cluster_bootstrap(models["cox"], "shelter_24h", seed=2)
    assert a.p_value == b.p_value


def test_tables_take_interval_and_p_value_from_the_bootstrap(models):
    for name, result in models.items():
        row = result.row("shelter_24h")
        b = wild_cluster_bootstrap(result, "shelter_24h", interval=True)
        f = np.exp if name != "lpm" else (lambda v: v)
        lower = "hr_lower" if name == "cox" else "lower"
        upper = "hr_upper" if name == "cox" else "upper"
        assert row["p_value"] == b.p_value
        assert row[lower] == pytest.approx(f(b.lower)) and row[upper] == pytest.approx(f(b.upper))
        assert "bootstrap" in row["ci_method"] and "7776" in row["ci_method"]
        robust = result.row("shelter_24h", inference="cluster_robust")
        assert robust["p_value"] == pytest.approx(row["p_cluster_robust"])
        assert "se_cluster_robust" in row.index and "se_model" in row.index


def test_with_wild_bootstrap_leaves_the_intercept_out(models):
    table = with_wild_bootstrap(models["lpm"]).set_index("term")
    assert np.isnan(table.loc["Intercept", "p_value"])
    assert table.loc["shelter_24h", "p_value"] == models["lpm"].row("shelter_24h")["p_value"]
    assert {"se_cr2", "p_cr2", "lower_cr2", "upper_cr2"} <= set(table.columns)


def test_cr2_equals_the_dense_formula_on_a_small_problem():
    y, x, cl = _ols_data(0.3, n=60)
    e = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    bread = np.linalg.inv(x.T @ x)
    meat = np.zeros((3, 3))
    for g in np.unique(cl):
        xg, eg = x[cl == g], e[cl == g]
        val, vec = np.linalg.eigh(np.eye(len(eg)) - xg @ bread @ xg.T)
        a = vec @ np.diag(val**-0.5) @ vec.T
        u = xg.T @ a @ eg
        meat += np.outer(u, u)
    np.testing.assert_allclose(cr2_vcov(x, e, cl), bread @ meat @ bread, rtol=1e-10)


def test_five_clusters_raise_the_dedicated_warning(tte):
    with pytest.warns(FewClustersWarning, match="5 clusters"):
        fit_cause_specific_cox(tte, "durable", ["shelter_24h"], cluster="pilot")


def test_many_clusters_draw_seeded_weights_and_fit_in_memory(tte):
    cox = fit_cause_specific_cox(tte, "durable", ["shelter_24h"], cluster="person_id")
    # 3,000 clusters x 2,000 draws: more cells than one block (CHUNK_CELLS), drawn in blocks
    a = wild_cluster_bootstrap(cox, "shelter_24h", n_reps=2000, seed=1)
    b = wild_cluster_bootstrap(cox, "shelter_24h", n_reps=2000, seed=1)
    assert a.n_clusters == tte["person_id"].nunique() and not a.enumerated
    assert a.p_value == b.p_value
    assert cox.resolve_inference() == "cluster_robust"  # many clusters: sandwich is primary


def test_permutation_stays_within_strata():
    rng = np.random.default_rng(2)
    values = np.arange(12)
    strata = np.repeat(["a", "b", "c"], 4)
    out = permute_within(values, strata, rng)
    for s in "abc":
        assert sorted(out[strata == s]) == sorted(values[strata == s])


def test_randomisation_inference_separates_an_effect_from_a_coin(tte):
    frame = tte.iloc[:200].copy()  # small: 2 x 999 permutations
    rng = np.random.default_rng(4)
    frame["coin"] = rng.random(len(frame)) < 0.5
    frame["treated"] = rng.random(len(frame)) < 0.5
    frame.loc[frame["treated"], "time"] += 300  # a real effect on the stay length

    def estimate(d: pd.DataFrame, col: str) -> float:
        return d.loc[d[col], "time"].mean() - d.loc[~d[col], "time"].mean()

    null = randomisation_inference(frame, lambda d: estimate(d, "coin"), "coin", n_reps=999, seed=1)
    effect = randomisation_inference(frame, lambda d: estimate(d, "treated"), "treated",
                                     n_reps=999, seed=1)
    assert null.p_value > 0.05
    assert effect.p_value == pytest.approx(1 / 1000)
