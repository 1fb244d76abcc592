"""Cause-specific Cox models: strata by pilot, ties (Breslow or Efron) set explicitly.

The partial likelihood is maximised by :mod:`lvv_eval.analysis.partial_likelihood` (it equals
statsmodels ``PHReg`` and R ``coxph`` to 1e-6 relative or better, tested), which also serves the
many null-restricted refits of the wild cluster score bootstrap.

Robust (sandwich) errors are built from score residuals summed by cluster, with residuals of rows
that leave before the first event of their stratum set to 0 as R does (STATISTICS_NOTES trap 3).
The score residuals follow the model's ties method (R ``coxscore2``; Efron spreads tied events
over its steps), so robust errors equal R ``coxph(cluster = )`` for Breslow and Efron alike
(measured on the reference data: 1.4e-10 relative for both, ``tests/analysis/test_r_agreement.py``).
Other exit classes are censored: that is what "cause-specific" means.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from lvv_eval.analysis.caveats import (
    DroppedRowsWarning,
    NonConvergenceWarning,
    NotEstimable,
    SmallCellWarning,
    warn_few_clusters,
)
from lvv_eval.analysis.design import check_full_rank, design_matrix, reference_levels
from lvv_eval.analysis.inference import DEFAULT_SEED, CoxScoreTest, WebbScheme
from lvv_eval.analysis.partial_likelihood import TIES, CoxArrays
from lvv_eval.analysis.prepare import complete_cases, event_coding
from lvv_eval.analysis.results import ModelResult


@dataclass
class CoxDesign:
    """The arrays a Cox model was fitted on (kept for bootstrap and randomisation inference)."""

    time: np.ndarray
    status: np.ndarray
    exog: pd.DataFrame
    strata: np.ndarray | None
    clusters: pd.Series | None


@dataclass(kw_only=True)
class CoxResult(ModelResult):
    """A fitted cause-specific Cox model; ``table`` is the tidy coefficient table.

    ``cov_model`` is the model-based (naive) covariance, ``cov_cluster`` the cluster-robust one;
    the effect is the hazard ratio ``hr`` with ``hr_lower``/``hr_upper``.
    """

    cause: str
    covariates: tuple[str, ...]
    ties: str
    strata: str | None
    reference_levels: dict[str, str]
    cluster_scores: pd.DataFrame | None = field(default=None, repr=False)
    design: CoxDesign | None = field(default=None, repr=False)

    EFFECT: ClassVar[str] = "hr"
    LOWER: ClassVar[str] = "hr_lower"
    UPPER: ClassVar[str] = "hr_upper"

    @property
    def cov_naive(self) -> pd.DataFrame:
        """The model-based covariance (R ``fit$naive.var``)."""
        return self.cov_model

    @property
    def cov_robust(self) -> pd.DataFrame | None:
        """The cluster-robust covariance (R ``fit$var`` with ``cluster =``)."""
        return self.cov_cluster

    def transform(self) -> Callable[[Any], Any]:
        """Log hazard ratio -> hazard ratio."""
        return np.exp

    def head_columns(self) -> dict[str, Any]:
        """Model and cause."""
        return {"model": "cox", "cause": self.cause}

    def tail_columns(self) -> dict[str, Any]:
        """Ties method and strata."""
        return {"ties": self.ties, "strata": self.strata}

    def describe(self) -> str:
        """First line of the summary."""
        return f"Cause-specific Cox model, cause {self.cause!r}; ties={self.ties}; strata={self.strata}"

    def bootstrap_test(self, term: str, scheme: WebbScheme) -> CoxScoreTest:
        """The restricted wild cluster score bootstrap test of ``term``."""
        d = self.design
        if d is None or d.clusters is None:
            raise ValueError("the Cox model was fitted without clusters; refit with cluster=...")
        index = list(d.exog.columns).index(term)
        return CoxScoreTest(d.time, d.status, d.exog.to_numpy(), d.strata, d.clusters.to_numpy(),
                            self.ties, index, scheme)


def breslow_score_residuals(
    time: np.ndarray,
    status: np.ndarray,
    exog: np.ndarray,
    params: np.ndarray,
    strata: np.ndarray | None = None,
) -> np.ndarray:
    """Score residuals of a Cox model with Breslow ties, 0 for rows before any event of their stratum.

    Equals R ``residuals(coxph(..., ties="breslow"), "score")``.
    """
    return score_residuals(time, status, exog, params, strata, ties="breslow")


def score_residuals(
    time: np.ndarray,
    status: np.ndarray,
    exog: np.ndarray,
    params: np.ndarray,
    strata: np.ndarray | None = None,
    ties: str = "breslow",
) -> np.ndarray:
    """Score residuals of a Cox model with Breslow or Efron ties (R ``coxscore2``).

    Equals R ``residuals(coxph(..., ties = ties), "score")``; 0 for rows before any event of
    their stratum.
    """
    return CoxArrays(time, status, exog, strata, ties).score_residuals(params)


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


def _fit_reporting_convergence(
    arrays: CoxArrays, x: pd.DataFrame, status: np.ndarray, cause: str
) -> tuple[np.ndarray, np.ndarray]:
    """(estimate, model-based covariance), warning when the fit did not converge cleanly."""
    params, derivatives, converged = arrays.newton()
    empty = terms_without_events(x, status)
    if not converged or empty:
        warnings.warn(
            f"Cox model for {cause!r} did not converge cleanly"
            + (f"; no {cause!r} events in one level of {empty}: drop or merge these" if empty else ""),
            NonConvergenceWarning,
            stacklevel=3,
        )
    return params, np.linalg.pinv(derivatives.information)


def fit_cause_specific_cox(
    tte: pd.DataFrame,
    cause: str,
    covariates: Sequence[str],
    strata: str | None = "pilot",
    ties: str = "breslow",
    cluster: str | None = "pilot",
    alpha: float = 0.05,
    min_events: int = 10,
    n_boot: int = 9999,
    seed: int = DEFAULT_SEED,
) -> CoxResult:
    """Fit the cause-specific hazard of ``cause`` on ``covariates`` (other exits censored).

    ``tte`` is a :func:`~lvv_eval.analysis.prepare.time_to_event` frame (plus any extra columns,
    such as a merged confounder). Rows with a missing covariate are dropped with a
    :class:`DroppedRowsWarning`. ``cluster`` gives sandwich errors (R ``coxph(cluster=)``, no
    small-sample factor) and a :class:`FewClustersWarning` when there are few clusters; with
    fewer than 30 clusters the table's interval and p-value come from the restricted wild cluster
    score bootstrap (``n_boot`` and ``seed`` matter only above six clusters, below that every
    Webb weight vector is used). The number of stays dropped is ``n_dropped`` and the table's
    ``n_dropped_missing``.
    """
    _check_cox_inputs(tte, ties, strata, cluster)
    needed = list(covariates) + [c for c in (strata, cluster) if c is not None]
    data, n_dropped = complete_cases(tte, needed)
    if data.empty:
        raise NotEstimable(f"Cox model for {cause!r}: no stays with every one of {needed} known")
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
    arrays = CoxArrays(time, status, x.to_numpy(), strata_codes, ties)
    estimate, cov = _fit_reporting_convergence(arrays, x, status, cause)
    params = pd.Series(estimate, index=x.columns)
    cov_naive = pd.DataFrame(cov, index=x.columns, columns=x.columns)
    cov_robust = None
    scores_by_cluster = None
    n_clusters = None
    if cluster is not None:
        resid = arrays.score_residuals(estimate)
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
        cov_model=cov_naive,
        cov_cluster=cov_robust,
        n_obs=len(data),
        n_events=n_events,
        n_dropped=n_dropped,
        n_clusters=n_clusters,
        reference_levels=reference_levels(data, covariates),
        alpha=alpha,
        n_boot=n_boot,
        seed=seed,
        cluster_scores=scores_by_cluster,
        design=CoxDesign(
            time=time,
            status=status,
            exog=x,
            strata=strata_codes,
            clusters=data[cluster] if cluster is not None else None,
        ),
    )
