"""Cause-specific Cox models: statsmodels ``PHReg``, strata by pilot, ties set explicitly.

Robust (sandwich) errors are built from score residuals summed by cluster, with residuals of rows
that leave before the first event of their stratum set to 0 as R does (STATISTICS_NOTES trap 3).
The score residuals are the Breslow form (trap 4: with Efron ties R's robust errors differ by up
to ~5e-4 relative). Other exit classes are censored: that is what "cause-specific" means.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from lvv_eval.analysis.design import check_full_rank, design_matrix, reference_levels
from lvv_eval.analysis.prepare import complete_cases, event_coding
from lvv_eval.analysis.warnings import (
    DroppedRowsWarning,
    NonConvergenceWarning,
    SmallCellWarning,
    warn_few_clusters,
)

TIES = ("breslow", "efron")


@dataclass
class CoxDesign:
    """The arrays a Cox model was fitted on (kept for bootstrap and randomisation inference)."""

    time: np.ndarray
    status: np.ndarray
    exog: pd.DataFrame
    strata: np.ndarray | None
    clusters: pd.Series | None


@dataclass
class CoxResult:
    """A fitted cause-specific Cox model; ``table`` is the tidy coefficient table."""

    cause: str
    covariates: tuple[str, ...]
    ties: str
    strata: str | None
    cluster: str | None
    params: pd.Series
    cov_naive: pd.DataFrame
    cov_robust: pd.DataFrame | None
    n_obs: int
    n_events: int
    n_dropped: int
    n_clusters: int | None
    reference_levels: dict[str, str]
    alpha: float = 0.05
    cluster_scores: pd.DataFrame | None = field(default=None, repr=False)
    design: CoxDesign | None = field(default=None, repr=False)

    @property
    def table(self) -> pd.DataFrame:
        """One row per term: coefficient, naive and robust SE, hazard ratio with CI, p-value.

        CI and p-value use the robust SE when there is one, otherwise the naive SE.
        """
        se_naive = np.sqrt(np.diag(self.cov_naive.to_numpy()))
        se_robust = (
            np.sqrt(np.diag(self.cov_robust.to_numpy())) if self.cov_robust is not None else None
        )
        se = se_robust if se_robust is not None else se_naive
        z = stats.norm.ppf(1 - self.alpha / 2)
        coef = self.params.to_numpy()
        return pd.DataFrame(
            {
                "model": "cox",
                "cause": self.cause,
                "term": self.params.index,
                "coef": coef,
                "se_naive": se_naive,
                "se_robust": se_robust if se_robust is not None else np.nan,
                "hr": np.exp(coef),
                "hr_lower": np.exp(coef - z * se),
                "hr_upper": np.exp(coef + z * se),
                "p_value": 2 * stats.norm.sf(np.abs(coef / se)),
                "se_type": "robust" if se_robust is not None else "naive",
                "n_obs": self.n_obs,
                "n_events": self.n_events,
                "n_clusters": self.n_clusters if self.n_clusters is not None else pd.NA,
                "ties": self.ties,
            }
        )

    def se(self, term: str) -> float:
        """Standard error of one term (robust when available)."""
        cov = self.cov_robust if self.cov_robust is not None else self.cov_naive
        return float(np.sqrt(cov.loc[term, term]))

    def summary(self) -> str:
        """A plain-text summary for notebooks and logs."""
        head = (
            f"Cause-specific Cox model, cause {self.cause!r}; ties={self.ties}; "
            f"strata={self.strata}; cluster={self.cluster} ({self.n_clusters} clusters)\n"
            f"{self.n_obs} stays, {self.n_events} events, {self.n_dropped} dropped for missing values\n"
        )
        cols = ["term", "coef", "se_naive", "se_robust", "hr", "hr_lower", "hr_upper", "p_value"]
        return head + self.table[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}")


def breslow_score_residuals(
    time: np.ndarray,
    status: np.ndarray,
    exog: np.ndarray,
    params: np.ndarray,
    strata: np.ndarray | None = None,
) -> np.ndarray:
    """Score residuals of a Cox model (Breslow form), 0 for rows before any event of their stratum.

    Vectorised per stratum; equals R ``residuals(coxph(..., ties="breslow"), "score")``.
    """
    time = np.asarray(time, dtype=np.float64)
    status = np.asarray(status, dtype=np.float64)
    exog = np.asarray(exog, dtype=np.float64)
    out = np.zeros_like(exog)
    strata = np.zeros(len(time), dtype=np.int64) if strata is None else np.asarray(strata)
    for s in np.unique(strata):
        rows = np.flatnonzero(strata == s)
        out[rows] = _stratum_score_residuals(time[rows], status[rows], exog[rows], params)
    return out


def _stratum_score_residuals(
    time: np.ndarray, status: np.ndarray, x: np.ndarray, params: np.ndarray
) -> np.ndarray:
    eta = x @ params
    r = np.exp(eta - eta.max())
    utime, idx = np.unique(time, return_inverse=True)
    m, p = len(utime), x.shape[1]
    # risk-set sums S0, S1 over rows with time >= utime[j]: reverse cumulative sums
    s0 = np.bincount(idx, weights=r, minlength=m)[::-1].cumsum()[::-1]
    s1 = np.empty((m, p))
    for k in range(p):
        s1[:, k] = np.bincount(idx, weights=r * x[:, k], minlength=m)[::-1].cumsum()[::-1]
    d = np.bincount(idx, weights=status, minlength=m)
    xbar = s1 / s0[:, None]
    dlam = d / s0
    h = np.cumsum(dlam)
    g = np.cumsum(xbar * dlam[:, None], axis=0)
    resid = status[:, None] * (x - xbar[idx]) - r[:, None] * (x * h[idx, None] - g[idx])
    return resid


def cluster_sums(values: np.ndarray, clusters: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Column sums of ``values`` within each cluster; returns (labels, G x p sums)."""
    codes, labels = pd.factorize(clusters, sort=True)
    sums = np.zeros((len(labels), values.shape[1]))
    np.add.at(sums, codes, values)
    return np.asarray(labels), sums


def _check_cox_inputs(tte: pd.DataFrame, ties: str, strata: str | None, cluster: str | None) -> None:
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    for col in (strata, cluster):
        if col is not None and col not in tte.columns:
            raise KeyError(f"column {col!r} is not in the analysis frame")


def _event_indicator(tte: pd.DataFrame, cause: str) -> np.ndarray:
    code = event_coding(tte).code(cause)
    return (tte["event"].to_numpy() == code).astype(np.float64)


def terms_without_events(x: pd.DataFrame, status: np.ndarray) -> list[str]:
    """Binary design columns with no event at 0 or at 1: their coefficient runs off to infinity."""
    out = []
    for col in x.columns:
        v = x[col].to_numpy()
        if np.isin(v, (0.0, 1.0)).all():
            on = status[v == 1].sum()
            off = status[v == 0].sum()
            if on == 0 or off == 0:
                out.append(col)
    return out


def _fit_reporting_convergence(model: PHReg, x: pd.DataFrame, status: np.ndarray, cause: str):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = model.fit()
    failed = False
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            failed = True
        else:
            warnings.warn(w.message, w.category, stacklevel=3)
    empty = terms_without_events(x, status)
    if failed or empty:
        warnings.warn(
            f"Cox model for {cause!r} did not converge cleanly"
            + (f"; no {cause!r} events in one level of {empty}: drop or merge these" if empty else ""),
            NonConvergenceWarning,
            stacklevel=3,
        )
    return fit


def fit_cause_specific_cox(
    tte: pd.DataFrame,
    cause: str,
    covariates: Sequence[str],
    strata: str | None = "pilot",
    ties: str = "breslow",
    cluster: str | None = "pilot",
    alpha: float = 0.05,
    min_events: int = 10,
) -> CoxResult:
    """Fit the cause-specific hazard of ``cause`` on ``covariates`` (other exits censored).

    ``tte`` is a :func:`~lvv_eval.analysis.prepare.time_to_event` frame (plus any extra columns,
    such as a merged confounder). Rows with a missing covariate are dropped with a
    :class:`DroppedRowsWarning`. ``cluster`` gives sandwich errors (R ``coxph(cluster=)``, no
    small-sample factor) and a :class:`FewClustersWarning` when there are few clusters.
    """
    _check_cox_inputs(tte, ties, strata, cluster)
    needed = list(covariates) + [c for c in (strata, cluster) if c is not None]
    data, n_dropped = complete_cases(tte, needed)
    if n_dropped:
        warnings.warn(
            f"Cox model for {cause!r}: {n_dropped} stays dropped for missing values in {needed}",
            DroppedRowsWarning,
            stacklevel=2,
        )
    status = _event_indicator(data, cause)
    n_events = int(status.sum())
    if n_events < min_events:
        warnings.warn(
            f"Cox model for {cause!r}: only {n_events} events", SmallCellWarning, stacklevel=2
        )
    x = design_matrix(data, covariates)
    check_full_rank(x)
    strata_codes = (
        pd.factorize(data[strata], sort=True)[0] if strata is not None else None
    )
    time = data["time"].to_numpy(dtype=np.float64)
    model = PHReg(time, x.to_numpy(), status=status, strata=strata_codes, ties=ties)
    fit = _fit_reporting_convergence(model, x, status, cause)
    params = pd.Series(fit.params, index=x.columns)
    cov_naive = pd.DataFrame(fit.cov_params(), index=x.columns, columns=x.columns)
    cov_robust = None
    scores_by_cluster = None
    n_clusters = None
    if cluster is not None:
        resid = breslow_score_residuals(time, status, x.to_numpy(), fit.params, strata_codes)
        labels, sums = cluster_sums(resid, data[cluster])
        n_clusters = len(labels)
        meat = sums.T @ sums
        bread = cov_naive.to_numpy()
        cov_robust = pd.DataFrame(bread @ meat @ bread, index=x.columns, columns=x.columns)
        scores_by_cluster = pd.DataFrame(sums, index=labels, columns=x.columns)
        warn_few_clusters(n_clusters, f"Cox model for {cause!r}")
    return CoxResult(
        cause=cause,
        covariates=tuple(covariates),
        ties=ties,
        strata=strata,
        cluster=cluster,
        params=params,
        cov_naive=cov_naive,
        cov_robust=cov_robust,
        n_obs=len(data),
        n_events=n_events,
        n_dropped=n_dropped,
        n_clusters=n_clusters,
        reference_levels=reference_levels(data, covariates),
        alpha=alpha,
        cluster_scores=scores_by_cluster,
        design=CoxDesign(
            time=time,
            status=status,
            exog=x,
            strata=strata_codes,
            clusters=data[cluster] if cluster is not None else None,
        ),
    )
