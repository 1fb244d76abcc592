"""Binary outcomes within a fixed window: logistic and linear probability models.

statsmodels formula API; cluster-robust errors with statsmodels' default correction, which equals
R ``sandwich::vcovCL(type = "HC1")`` (STATISTICS_NOTES trap 5). Parameters are matched by name
(trap 8).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from lvv_eval.analysis.prepare import complete_cases
from lvv_eval.analysis.warnings import DroppedRowsWarning, SmallCellWarning, warn_few_clusters

MODELS = ("logit", "lpm")


@dataclass
class BinaryResult:
    """A fitted window-outcome model; ``table`` is the tidy coefficient table."""

    model: str
    outcome_class: str | None
    window_days: int | None
    formula: str
    params: pd.Series
    cov_model: pd.DataFrame
    cov_cluster: pd.DataFrame | None
    cluster: str | None
    n_obs: int
    n_events: int
    n_dropped: int
    n_clusters: int | None
    alpha: float = 0.05
    fit: Any = field(default=None, repr=False)
    data: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def table(self) -> pd.DataFrame:
        """One row per term: coefficient, model and cluster-robust SE, effect with CI, p-value.

        The effect is an odds ratio for ``logit`` and a risk difference for ``lpm``.
        """
        se_model = np.sqrt(np.diag(self.cov_model.to_numpy()))
        se_cl = np.sqrt(np.diag(self.cov_cluster.to_numpy())) if self.cov_cluster is not None else None
        se = se_cl if se_cl is not None else se_model
        z = stats.norm.ppf(1 - self.alpha / 2)
        coef = self.params.to_numpy()
        transform = np.exp if self.model == "logit" else (lambda v: v)
        return pd.DataFrame(
            {
                "model": self.model,
                "outcome_class": self.outcome_class,
                "window_days": self.window_days,
                "term": self.params.index,
                "coef": coef,
                "se_model": se_model,
                "se_cluster": se_cl if se_cl is not None else np.nan,
                "effect": transform(coef),
                "effect_scale": "odds_ratio" if self.model == "logit" else "risk_difference",
                "lower": transform(coef - z * se),
                "upper": transform(coef + z * se),
                "p_value": 2 * stats.norm.sf(np.abs(coef / se)),
                "se_type": "cluster_hc1" if se_cl is not None else "model",
                "n_obs": self.n_obs,
                "n_clusters": self.n_clusters if self.n_clusters is not None else pd.NA,
            }
        )

    def se(self, term: str) -> float:
        """Standard error of one term (cluster-robust when available)."""
        cov = self.cov_cluster if self.cov_cluster is not None else self.cov_model
        return float(np.sqrt(cov.loc[term, term]))

    def summary(self) -> str:
        """A plain-text summary for notebooks and logs."""
        head = (
            f"{self.model} model: {self.formula}; outcome {self.outcome_class!r} within "
            f"{self.window_days} days; cluster={self.cluster} ({self.n_clusters} clusters)\n"
            f"{self.n_obs} stays, {self.n_events} with the outcome, {self.n_dropped} dropped for "
            f"missing values\n"
        )
        cols = ["term", "coef", "se_model", "se_cluster", "effect", "lower", "upper", "p_value"]
        return head + self.table[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}")


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
) -> BinaryResult:
    """Fit a logistic (``logit``) or linear probability (``lpm``) model of a window outcome.

    ``window`` is a :func:`~lvv_eval.analysis.prepare.window_outcome` frame. Rows with missing
    values in the model's columns are dropped with a :class:`DroppedRowsWarning`. With ``cluster``
    the errors are cluster-robust (HC1) and a :class:`FewClustersWarning` is raised below 30
    clusters.
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
    formula = model_formula(data, covariates, outcome)
    if model == "logit":
        mod = smf.glm(formula, data=data, family=sm.families.Binomial())
    else:
        mod = smf.ols(formula, data=data)
    fit = mod.fit()
    names = list(fit.params.index)
    cov_model = pd.DataFrame(fit.cov_params(), index=names, columns=names)
    cov_cluster = None
    n_clusters = None
    if cluster is not None:
        groups = pd.factorize(data[cluster], sort=True)[0]
        n_clusters = int(groups.max()) + 1
        robust = mod.fit(cov_type="cluster", cov_kwds={"groups": groups})
        cov_cluster = pd.DataFrame(robust.cov_params(), index=names, columns=names)
        warn_few_clusters(n_clusters, f"{model} model")
    return BinaryResult(
        model=model,
        outcome_class=window.attrs.get("outcome_class"),
        window_days=window.attrs.get("window_days"),
        formula=formula,
        params=fit.params,
        cov_model=cov_model,
        cov_cluster=cov_cluster,
        cluster=cluster,
        n_obs=len(data),
        n_events=n_events,
        n_dropped=n_dropped,
        n_clusters=n_clusters,
        alpha=alpha,
        fit=fit,
        data=data,
    )
