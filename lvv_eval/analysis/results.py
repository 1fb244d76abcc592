"""What Cox and window models share: standard errors, the tidy table, the summary.

The primary interval and p-value of a table are chosen per model (``inference="auto"``):

- clustered with fewer than 30 clusters (the five pilots): the restricted wild cluster
  bootstrap with Webb weights, interval by test inversion (:mod:`lvv_eval.analysis.inference`);
- clustered with more clusters: the cluster-robust (sandwich) standard error, normal quantiles;
- not clustered: the model-based standard error, normal quantiles.

The model-based and cluster-robust standard errors, with the cluster-robust interval and p-value,
stay in the table as secondary columns whose names say so; ``ci_method`` states what the
primary columns are. ``n_dropped_missing`` is the number of stays the model left out because a
variable it uses is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from lvv_eval.analysis.caveats import MIN_CLUSTERS
from lvv_eval.analysis.inference import (
    DEFAULT_SEED,
    InferenceResult,
    NullTest,
    WebbScheme,
    wild_cluster_bootstrap,
)

INFERENCE = ("auto", "bootstrap", "cluster_robust", "model")
INTERCEPT = "Intercept"


def _identity(v: Any) -> Any:
    return v


@dataclass(kw_only=True)
class ModelResult:
    """A fitted regression model: coefficients, covariances, counts and bootstrap settings."""

    params: pd.Series
    cov_model: pd.DataFrame
    cov_cluster: pd.DataFrame | None
    cluster: str | None
    n_obs: int
    n_events: int
    n_dropped: int
    n_clusters: int | None
    alpha: float = 0.05
    n_boot: int = 9999
    seed: int = DEFAULT_SEED
    _bootstraps: dict[tuple[str, int, int], InferenceResult] = field(default_factory=dict, repr=False, compare=False)

    EFFECT: ClassVar[str] = "effect"
    LOWER: ClassVar[str] = "lower"
    UPPER: ClassVar[str] = "upper"

    # ------------------------------------------------------------------ hooks of the subclasses
    def transform(self) -> Callable[[Any], Any]:
        """Coefficient scale -> reported effect scale (``np.exp`` for ratios)."""
        return _identity

    def head_columns(self) -> dict[str, Any]:
        """Leading columns that say which model this is."""
        return {}

    def tail_columns(self) -> dict[str, Any]:
        """Trailing model-specific columns."""
        return {}

    def extra_columns(self, coef: np.ndarray) -> dict[str, Any]:
        """Further secondary columns (CR2 for linear models)."""
        return {}

    def bootstrap_test(self, term: str, scheme: WebbScheme) -> NullTest:
        """The restricted bootstrap test of ``term``."""
        raise NotImplementedError

    def describe(self) -> str:
        """First line of :meth:`summary`."""
        return type(self).__name__

    # ------------------------------------------------------------------ shared plumbing
    def se(self, term: str) -> float:
        """Standard error of one term (cluster-robust when available)."""
        cov = self.cov_cluster if self.cov_cluster is not None else self.cov_model
        return float(np.sqrt(cov.loc[term, term]))

    def resolve_inference(self, inference: str = "auto") -> str:
        """The inference the primary columns use: see the module docstring."""
        if inference not in INFERENCE:
            raise ValueError(f"inference must be one of {INFERENCE}, got {inference!r}")
        if inference == "auto":
            if self.cluster is None:
                return "model"
            return "bootstrap" if (self.n_clusters or 0) < MIN_CLUSTERS else "cluster_robust"
        if inference in ("bootstrap", "cluster_robust") and self.cluster is None:
            raise ValueError(f"{inference} inference needs a model fitted with cluster=...")
        return inference

    def bootstrap(self, term: str, n_reps: int | None = None, seed: int | None = None) -> InferenceResult:
        """Bootstrap p-value and interval of one term (computed once, then cached)."""
        key = (term, n_reps or self.n_boot, seed if seed is not None else self.seed)
        if key not in self._bootstraps:
            self._bootstraps[key] = wild_cluster_bootstrap(
                self, term, n_reps=key[1], seed=key[2], interval=True, alpha=self.alpha
            )
        return self._bootstraps[key]

    def _primary(self, term: str, coef: float, how: str, n_reps: int | None, seed: int | None) -> dict:
        f = self.transform()
        if how == "bootstrap":
            if term == INTERCEPT:
                return {self.LOWER: np.nan, self.UPPER: np.nan, "p_value": np.nan,
                        "ci_method": "not computed for the intercept"}
            b = self.bootstrap(term, n_reps, seed)
            draws = (f"all {b.n_reps} Webb weight vectors" if b.enumerated
                     else f"{b.n_reps} Webb weight vectors, seed {b.seed}")
            return {self.LOWER: f(b.lower), self.UPPER: f(b.upper), "p_value": b.p_value,
                    "ci_method": f"{b.method}; {b.n_clusters} clusters; {draws}; test inversion"}
        cov = self.cov_cluster if how == "cluster_robust" else self.cov_model
        se = float(np.sqrt(cov.loc[term, term]))
        z = stats.norm.ppf(1 - self.alpha / 2)
        label = "cluster-robust (sandwich) SE" if how == "cluster_robust" else "model-based SE"
        return {self.LOWER: f(coef - z * se), self.UPPER: f(coef + z * se),
                "p_value": 2 * stats.norm.sf(abs(coef / se)), "ci_method": f"{label}, normal"}

    def _secondary(self, coef: np.ndarray) -> dict[str, Any]:
        f = self.transform()
        out: dict[str, Any] = {"se_model": np.sqrt(np.diag(self.cov_model.to_numpy()))}
        if self.cov_cluster is None:
            se = np.full(len(coef), np.nan)
        else:
            se = np.sqrt(np.diag(self.cov_cluster.to_numpy()))
        z = stats.norm.ppf(1 - self.alpha / 2)
        out["se_cluster_robust"] = se
        out[f"{self.LOWER}_cluster_robust"] = f(coef - z * se)
        out[f"{self.UPPER}_cluster_robust"] = f(coef + z * se)
        out["p_cluster_robust"] = 2 * stats.norm.sf(np.abs(coef / se))
        return out

    def tidy(
        self,
        inference: str = "auto",
        terms: Sequence[str] | None = None,
        n_reps: int | None = None,
        seed: int | None = None,
    ) -> pd.DataFrame:
        """The coefficient table; the primary interval of ``terms`` (default all) per ``inference``.

        Rows outside ``terms`` get NaN in the primary columns when the bootstrap is asked for.
        """
        how = self.resolve_inference(inference)
        names = list(self.params.index)
        chosen = set(names if terms is None else terms)
        unknown = chosen - set(names)
        if unknown:
            raise KeyError(f"terms not in the model: {sorted(unknown)}; terms: {names}")
        coef = self.params.to_numpy(dtype=float)
        empty = {self.LOWER: np.nan, self.UPPER: np.nan, "p_value": np.nan, "ci_method": "not computed"}
        primary = pd.DataFrame([
            self._primary(t, c, how, n_reps, seed) if t in chosen else empty
            for t, c in zip(names, coef, strict=True)
        ])
        counts = {"n_obs": self.n_obs, "n_events": self.n_events,
                  "n_dropped_missing": self.n_dropped,
                  "n_clusters": self.n_clusters if self.n_clusters is not None else pd.NA}
        table = pd.DataFrame(
            self.head_columns()
            | {"term": names, "coef": coef, self.EFFECT: self.transform()(coef)}
            | {c: primary[c].to_numpy() for c in primary.columns}
            | self._secondary(coef)
            | self.extra_columns(coef)
            | counts
            | self.tail_columns()
        )
        return table

    @property
    def table(self) -> pd.DataFrame:
        """The tidy coefficient table with the default (``auto``) primary inference."""
        return self.tidy()

    def row(self, term: str, inference: str = "auto") -> pd.Series:
        """One term's row of :meth:`tidy` (only that term's bootstrap is computed)."""
        return self.tidy(inference, terms=[term]).set_index("term").loc[term]

    def summary(self) -> str:
        """A plain-text summary for notebooks and logs."""
        head = (
            f"{self.describe()}; cluster={self.cluster} ({self.n_clusters} clusters)\n"
            f"{self.n_obs} stays, {self.n_events} events, {self.n_dropped} dropped for missing "
            f"values\n"
        )
        t = self.table
        cols = ["term", "coef", self.EFFECT, self.LOWER, self.UPPER, "p_value", "se_model",
                "se_cluster_robust", "p_cluster_robust"]
        methods = "; ".join(dict.fromkeys(t["ci_method"]))
        return (head + t[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}")
                + f"\ninterval and p_value: {methods}")
