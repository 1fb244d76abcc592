"""Binary outcomes within a fixed window: logistic and linear probability models.

statsmodels formula API; cluster-robust errors with statsmodels' default correction, which equals
R ``sandwich::vcovCL(type = "HC1")`` (STATISTICS_NOTES trap 5). Parameters are matched by name
(trap 8).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from lvv_eval.analysis.caveats import DroppedRowsWarning, SmallCellWarning, warn_few_clusters
from lvv_eval.analysis.inference import (
    DEFAULT_SEED,
    LogitScoreTest,
    NullTest,
    OlsWildBootstrapT,
    WebbScheme,
    cr2_vcov,
)
from lvv_eval.analysis.prepare import complete_cases
from lvv_eval.analysis.results import ModelResult

MODELS = ("logit", "lpm")


@dataclass(kw_only=True)
class BinaryResult(ModelResult):
    """A fitted window-outcome model; ``table`` is the tidy coefficient table.

    The effect is an odds ratio for ``logit`` and a risk difference for ``lpm``; ``cov_model`` is
    the model-based covariance, ``cov_cluster`` the HC1 cluster-robust one and ``cov_cr2`` (LPM
    only) the CR2 one.
    """

    model: str
    outcome_class: str | None
    window_days: int | None
    formula: str
    cov_cr2: pd.DataFrame | None = None
    fit: Any = field(default=None, repr=False)
    data: pd.DataFrame | None = field(default=None, repr=False)

    def transform(self) -> Callable[[Any], Any]:
        """Log odds ratio -> odds ratio (logit); a risk difference stays as it is (lpm)."""
        return np.exp if self.model == "logit" else (lambda v: v)

    def head_columns(self) -> dict[str, Any]:
        """Model, outcome class and window."""
        return {"model": self.model, "outcome_class": self.outcome_class,
                "window_days": self.window_days}

    def tail_columns(self) -> dict[str, Any]:
        """The effect's scale."""
        return {"effect_scale": "odds_ratio" if self.model == "logit" else "risk_difference"}

    def extra_columns(self, coef: np.ndarray) -> dict[str, Any]:
        """CR2 standard error with a t(G - 1) interval and p-value (linear model only)."""
        if self.cov_cr2 is None:
            return {}
        se = np.sqrt(np.diag(self.cov_cr2.to_numpy()))
        df = int(self.n_clusters or 0) - 1
        q = stats.t.ppf(1 - self.alpha / 2, df)
        return {"se_cr2": se, "lower_cr2": coef - q * se, "upper_cr2": coef + q * se,
                "p_cr2": 2 * stats.t.sf(np.abs(coef / se), df)}

    def describe(self) -> str:
        """First line of the summary."""
        return (f"{self.model} model: {self.formula}; outcome {self.outcome_class!r} within "
                f"{self.window_days} days")

    def bootstrap_test(self, term: str, scheme: WebbScheme) -> NullTest:
        """WCR bootstrap-t (lpm) or score bootstrap (logit) test of ``term``."""
        if self.cluster is None or self.data is None:
            raise ValueError("the model was fitted without clusters; refit with cluster=...")
        x = np.asarray(self.fit.model.exog, dtype=float)
        y = np.asarray(self.fit.model.endog, dtype=float)
        index = list(self.params.index).index(term)
        clusters = self.data[self.cluster].to_numpy()
        if self.model == "lpm":
            return OlsWildBootstrapT(y, x, clusters, index, scheme)
        return LogitScoreTest(y, x, clusters, index, scheme)

def _term(frame: pd.DataFrame, name: str) -> str:
    s = frame[name]
    categorical = isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s)
    return f"C({name})" if categorical else name


def model_formula(frame: pd.DataFrame, covariates: Sequence[str], outcome: str = "outcome") -> str:
    """``outcome ~ a + C(b) + ...``: categorical columns wrapped in ``C()``."""
    rhs = " + ".join(_term(frame, c) for c in covariates) if covariates else "1"
    return f"{outcome} ~ {rhs}"


def fit_window_model(
    window: pd.DataFrame,
    covariates: Sequence[str],
    model: str = "logit",
    cluster: str | None = "pilot",
    outcome: str = "outcome",
    alpha: float = 0.05,
    min_events: int = 10,
    n_boot: int = 9999,
    seed: int = DEFAULT_SEED,
) -> BinaryResult:
    """Fit a logistic (``logit``) or linear probability (``lpm``) model of a window outcome.

    ``window`` is a :func:`~lvv_eval.analysis.prepare.window_outcome` frame. Rows with missing
    values in the model's columns are dropped with a :class:`DroppedRowsWarning`. With ``cluster``
    the errors are cluster-robust (HC1), the linear model also gets CR2 errors with t(G - 1)
    (R ``clubSandwich``), and a :class:`FewClustersWarning` is raised below 30 clusters; there
    the table's interval and p-value come from the restricted wild cluster bootstrap.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    needed = [outcome, *covariates] + ([cluster] if cluster else [])
    data, n_dropped = complete_cases(window, needed)
    if n_dropped:
        warnings.warn(
            f"{model} model: {n_dropped} stays dropped for missing values in {needed}",
            DroppedRowsWarning,
            stacklevel=2,
        )
    data = data.reset_index(drop=True)
    n_events = int(data[outcome].sum())
    if min(n_events, len(data) - n_events) < min_events:
        warnings.warn(
            f"{model} model: only {n_events} of {len(data)} stays have the outcome",
            SmallCellWarning,
            stacklevel=2,
        )
    import statsmodels.api as sm  # here, not at import: 1 s of every notebook's start
    import statsmodels.formula.api as smf

    formula = model_formula(data, covariates, outcome)
    options: dict[str, Any] = {}
    if model == "logit":  # converged well past the default 1e-8 (cluster SEs of pilot dummies)
        mod = smf.glm(formula, data=data, family=sm.families.Binomial())
        options = {"tol": 1e-12, "maxiter": 100}
    else:
        mod = smf.ols(formula, data=data)
    fit = mod.fit(**options)
    names = list(fit.params.index)
    cov_model = pd.DataFrame(fit.cov_params(), index=names, columns=names)
    cov_cluster = None
    cov_cr2 = None
    n_clusters = None
    if cluster is not None:
        groups = pd.factorize(data[cluster], sort=True)[0]
        n_clusters = int(groups.max()) + 1
        robust = mod.fit(cov_type="cluster", cov_kwds={"groups": groups}, **options)
        cov_cluster = pd.DataFrame(robust.cov_params(), index=names, columns=names)
        if model == "lpm":
            cr2 = cr2_vcov(mod.exog, fit.resid.to_numpy(), groups)
            cov_cr2 = pd.DataFrame(cr2, index=names, columns=names)
        warn_few_clusters(n_clusters, f"{model} model")
    return BinaryResult(
        model=model,
        outcome_class=window.attrs.get("outcome_class"),
        window_days=window.attrs.get("window_days"),
        formula=formula,
        params=fit.params,
        cov_model=cov_model,
        cov_cluster=cov_cluster,
        cov_cr2=cov_cr2,
        cluster=cluster,
        n_obs=len(data),
        n_events=n_events,
        n_dropped=n_dropped,
        n_clusters=n_clusters,
        alpha=alpha,
        n_boot=n_boot,
        seed=seed,
        fit=fit,
        data=data,
    )
