"""Inference that holds with five pilots: wild cluster bootstrap, its intervals, CR2, permutation.

- Linear probability models: the restricted wild cluster bootstrap-t (WCR; Cameron, Gelbach &
  Miller 2008; Roodman et al. 2019 "boottest"), null imposed, Webb six-point weights.
- Logistic and Cox models: the restricted wild cluster *score* bootstrap (Kline & Santos 2012):
  cluster sums of the efficient score at the null-restricted estimate, perturbed by Webb weights,
  self-normalised. One restricted refit per trial value, none per bootstrap draw.
- Confidence intervals by test inversion, as ``boottest`` and R ``fwildclusterboot`` do: the
  interval holds every trial value that the same bootstrap test does not reject at level alpha.
  The search runs outwards from the estimate and passes the null value (0) only when the test
  does not reject it, so the interval excludes the null exactly when the reported p < alpha.
- With G clusters there are only 6^G distinct Webb weight vectors: up to
  :data:`ENUMERATE_MAX` of them (G <= 6) all are enumerated, which makes p-values and intervals
  exact and deterministic; with more clusters ``n_reps`` vectors are drawn (seeded).
- CR2 (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018) cluster-robust variance of OLS, with
  t(G - 1) reference distribution, as a cross-check (R ``clubSandwich``).
- Randomisation inference: permute a treatment within strata (e.g. within pilot) and refit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from lvv_eval.analysis.partial_likelihood import CoxArrays

MIN_REPS = 999
DEFAULT_SEED = 20191
WEBB_VALUES = np.array(
    [-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)]
)
ENUMERATE_MAX = 6**6
"""Enumerate every Webb weight vector when there are at most this many (six clusters or fewer)."""
CHUNK_CELLS = 5_000_000
"""Drawn weights come in blocks of about this many cells, so that many clusters fit in memory."""
SEARCH_STEPS = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0)
"""Trial values (in standard errors from the estimate) at which the interval search looks for a
rejection before it bisects; beyond the last one the bound is reported as infinite."""
BISECTION_TOL = 1e-4
"""The interval bounds are located to this fraction of a standard error."""


def _check_reps(n_reps: int) -> None:
    if n_reps < MIN_REPS:
        raise ValueError(f"n_reps must be at least {MIN_REPS}, got {n_reps}")


def webb_weights(n_clusters: int, n_reps: int, rng: np.random.Generator) -> np.ndarray:
    """Webb's six-point weights (±√½, ±1, ±√1.5, equally likely), shape (n_reps, n_clusters)."""
    return WEBB_VALUES[rng.integers(0, 6, size=(n_reps, n_clusters))]


def all_webb_vectors(n_clusters: int) -> np.ndarray:
    """Every one of the 6^G Webb weight vectors, shape (6^G, G)."""
    idx = np.array(list(itertools.product(range(6), repeat=n_clusters)), dtype=np.int64)
    return WEBB_VALUES[idx.reshape(-1, n_clusters)]


@dataclass(frozen=True)
class WebbScheme:
    """The Webb weight vectors of one bootstrap: all of them (few clusters) or seeded draws."""

    n_clusters: int
    n_reps: int = 9999
    seed: int = DEFAULT_SEED
    _all: np.ndarray | None = field(default=None, repr=False, compare=False)

    @classmethod
    def make(cls, n_clusters: int, n_reps: int = 9999, seed: int = DEFAULT_SEED) -> WebbScheme:
        """Enumerate when 6^G <= :data:`ENUMERATE_MAX`, else draw ``n_reps`` vectors."""
        _check_reps(n_reps)
        if n_clusters < 2:
            raise ValueError(f"a cluster bootstrap needs at least 2 clusters, got {n_clusters}")
        if 6**n_clusters <= ENUMERATE_MAX:
            return cls(n_clusters, 6**n_clusters, seed, all_webb_vectors(n_clusters))
        return cls(n_clusters, n_reps, seed)

    @property
    def enumerated(self) -> bool:
        """True when every Webb vector is used (the result does not depend on the seed)."""
        return self._all is not None

    @property
    def description(self) -> str:
        """How the weight vectors were obtained, for tables."""
        if self.enumerated:
            return f"all {self.n_reps} Webb weight vectors of {self.n_clusters} clusters"
        return f"{self.n_reps} Webb weight vectors drawn with seed {self.seed}"

    def blocks(self) -> Iterator[np.ndarray]:
        """The weight vectors in memory-sized blocks (the same ones on every call)."""
        if self._all is not None:
            yield self._all
            return
        rng = np.random.default_rng(self.seed)
        block = max(1, CHUNK_CELLS // self.n_clusters)
        done = 0
        while done < self.n_reps:
            size = min(block, self.n_reps - done)
            yield webb_weights(self.n_clusters, size, rng)
            done += size


def _share_at_least(stat: float, draws: Iterator[np.ndarray]) -> float:
    """Share of bootstrap statistics at least as extreme as ``stat`` (two-sided)."""
    hits = total = 0
    edge = abs(stat) - 1e-12 * max(1.0, abs(stat))
    for b in draws:
        b = b[np.isfinite(b)]
        hits += int(np.sum(np.abs(b) >= edge))
        total += len(b)
    return hits / total if total else float("nan")


def score_statistic_p(eff: np.ndarray, scheme: WebbScheme) -> tuple[float, float]:
    """Self-normalised score statistic of cluster scores ``eff`` (G,) and its bootstrap p-value."""
    eff = np.asarray(eff, dtype=float)
    denom = np.sqrt(np.sum(eff**2))
    if denom == 0:
        return 0.0, 1.0
    stat = float(eff.sum() / denom)
    sq = eff**2
    draws = ((w @ eff) / np.sqrt((w**2) @ sq) for w in scheme.blocks())
    return stat, _share_at_least(stat, draws)


class NullTest(Protocol):
    """A bootstrap test of one coefficient against a trial value: ``p_value(null)``."""

    scheme: WebbScheme
    method: str

    def statistic_p(self, null: float) -> tuple[float, float]:
        """(statistic, bootstrap p-value) of the hypothesis coefficient == ``null``."""


def _efficient_scores(sums: np.ndarray, information: np.ndarray, index: int) -> np.ndarray:
    """Cluster scores of parameter ``index`` with the other parameters partialled out."""
    keep = [j for j in range(sums.shape[1]) if j != index]
    if not keep:
        return sums[:, index]
    proj = np.linalg.solve(information[np.ix_(keep, keep)], information[keep, index])
    return sums[:, index] - sums[:, keep] @ proj


def cluster_codes(clusters: Any) -> np.ndarray:
    """Integer codes 0..G-1 of cluster labels (sorted)."""
    return pd.factorize(pd.Series(np.asarray(clusters)), sort=True)[0]


def _cluster_sums(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    out = np.zeros((int(codes.max()) + 1, values.shape[1]))
    np.add.at(out, codes, values)
    return out


class CoxScoreTest:
    """Restricted wild cluster score bootstrap for one coefficient of a stratified Cox model."""

    method = "wild cluster score bootstrap, restricted"

    def __init__(self, time, status, exog, strata, clusters, ties: str, index: int,
                 scheme: WebbScheme) -> None:
        x = np.asarray(exog, dtype=float)
        self.index = index
        self.x_k = x[:, index]
        self.full = CoxArrays(time, status, x, strata, ties)
        keep = [j for j in range(x.shape[1]) if j != index]
        self.keep = keep
        self.restricted = CoxArrays(time, status, x[:, keep], strata, ties) if keep else None
        self.codes = cluster_codes(clusters)
        self.scheme = scheme
        self._start = np.zeros(len(keep))
        self.unconverged = 0

    def restricted_params(self, null: float) -> np.ndarray:
        """Full parameter vector at the restricted estimate (coefficient fixed at ``null``)."""
        params = np.zeros(len(self.keep) + 1)
        params[self.index] = null
        if self.restricted is not None:
            # far from the estimate a nuisance coefficient can drift off (no events left in one
            # level); its scores are then those at the supremum, which is what the test needs
            offset = null * self.x_k
            est, _, converged = self.restricted.newton(self._start, offset, max_iter=200)
            if not converged:  # a warm start far from this null can fail: start again from 0
                est, _, converged = self.restricted.newton(None, offset, max_iter=200)
            self.unconverged += not converged
            self._start = est if converged else np.zeros(len(self.keep))
            params[self.keep] = est
        return params

    def statistic_p(self, null: float) -> tuple[float, float]:
        """(statistic, p-value) of the hypothesis coefficient == ``null``."""
        params = self.restricted_params(null)
        with np.errstate(all="ignore"):
            sums = _cluster_sums(self.full.score_residuals(params), self.codes)
            info = self.full.derivatives(params).information
        if not (np.all(np.isfinite(sums)) and np.all(np.isfinite(info))):
            return float("nan"), float("nan")  # not computable this far out
        return score_statistic_p(_efficient_scores(sums, info, self.index), self.scheme)


def fit_logit(y: np.ndarray, x: np.ndarray, offset: np.ndarray, start: np.ndarray,
              max_iter: int = 50, tol: float = 1e-10) -> np.ndarray:
    """Logistic regression with an offset by Newton-Raphson (for the restricted refits)."""
    beta = start.copy()
    for _ in range(max_iter):
        mu = 1.0 / (1.0 + np.exp(-(x @ beta + offset)))
        step = np.linalg.solve((x * (mu * (1 - mu))[:, None]).T @ x, x.T @ (y - mu))
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            return beta
    raise RuntimeError("logistic regression: Newton-Raphson did not converge")


class LogitScoreTest:
    """Restricted wild cluster score bootstrap for one coefficient of a logistic regression."""

    method = "wild cluster score bootstrap, restricted"

    def __init__(self, y, exog, clusters, index: int, scheme: WebbScheme) -> None:
        self.y = np.asarray(y, dtype=float)
        self.x = np.asarray(exog, dtype=float)
        self.index = index
        self.keep = [j for j in range(self.x.shape[1]) if j != index]
        self.codes = cluster_codes(clusters)
        self.scheme = scheme
        self._start = np.zeros(len(self.keep))

    def statistic_p(self, null: float) -> tuple[float, float]:
        """(statistic, p-value) of the hypothesis coefficient == ``null``."""
        offset = null * self.x[:, self.index]
        xr = self.x[:, self.keep]
        if self.keep:
            self._start = fit_logit(self.y, xr, offset, self._start)
        mu = 1.0 / (1.0 + np.exp(-(xr @ self._start + offset)))
        sums = _cluster_sums(self.x * (self.y - mu)[:, None], self.codes)
        info = (self.x * (mu * (1 - mu))[:, None]).T @ self.x
        return score_statistic_p(_efficient_scores(sums, info, self.index), self.scheme)


class OlsWildBootstrapT:
    """Restricted wild cluster bootstrap-t (WCR) for one OLS coefficient, HC1 cluster errors."""

    method = "wild cluster bootstrap-t, restricted (WCR)"

    def __init__(self, y, exog, clusters, index: int, scheme: WebbScheme) -> None:
        self.y = np.asarray(y, dtype=float)
        self.x = x = np.asarray(exog, dtype=float)
        self.codes = cluster_codes(clusters)
        self.index = index
        self.scheme = scheme
        g, (n, p) = int(self.codes.max()) + 1, x.shape
        self.xtx_inv = np.linalg.inv(x.T @ x)
        self.beta = self.xtx_inv @ x.T @ self.y
        self.c = g / (g - 1) * (n - 1) / (n - p)  # HC1 / statsmodels' cluster correction
        self.a = self.xtx_inv[:, index]
        a_g = np.zeros((g, p, p))
        np.add.at(a_g, self.codes, x[:, :, None] * x[:, None, :])
        self.qm = a_g @ self.a  # (G, p): A_g a
        self.keep = [j for j in range(p) if j != index]
        self.s_hat = _cluster_sums(x * (self.y - x @ self.beta)[:, None], self.codes)

    def statistic_p(self, null: float) -> tuple[float, float]:
        """(HC1 cluster t statistic, bootstrap p-value) of the hypothesis coefficient == ``null``."""
        k, x = self.index, self.x
        t_stat = (self.beta[k] - null) / np.sqrt(self.c * np.sum((self.s_hat @ self.a) ** 2))
        y_r = self.y - null * x[:, k]
        beta_r = np.linalg.lstsq(x[:, self.keep], y_r, rcond=None)[0] if self.keep else np.zeros(0)
        s_r = _cluster_sums(x * (y_r - x[:, self.keep] @ beta_r)[:, None], self.codes)
        q = s_r @ self.a

        def draws() -> Iterator[np.ndarray]:
            for w in self.scheme.blocks():
                b = (w @ s_r) @ self.xtx_inv
                terms = w * q[None, :] - b @ self.qm.T
                yield b[:, k] / np.sqrt(self.c * np.sum(terms**2, axis=1))

        return float(t_stat), _share_at_least(float(t_stat), draws())


def _first_rejection(
    p_at: Callable[[float], float], estimate: float, scale: float, side: int, alpha: float,
    nulls: Sequence[float],
) -> tuple[float, float | None]:
    """(last accepted, first rejected or None) trial value going outwards on one side.

    A rejection closer to the estimate than a null value that is not rejected is passed over, so
    that such a null value ends up inside the interval.
    """
    distance = lambda v: side * (v - estimate)  # noqa: E731
    own_nulls = [v for v in nulls if distance(v) > 0]
    reach = max((distance(v) for v in own_nulls if not p_at(v) < alpha), default=0.0)
    points = sorted([estimate + side * s * scale for s in SEARCH_STEPS] + own_nulls, key=distance)
    inner = estimate
    for v in points:
        if not p_at(v) < alpha:
            inner = v
        elif distance(v) > reach:
            return inner, v
    return inner, None


def invert_test(
    p_at: Callable[[float], float],
    estimate: float,
    scale: float,
    alpha: float = 0.05,
    nulls: Sequence[float] = (0.0,),
    tol: float = BISECTION_TOL,
) -> tuple[float, float]:
    """The interval of trial values whose bootstrap p-value is at least ``alpha``.

    Searches outwards from ``estimate`` in steps of ``scale`` (a standard error) and bisects
    between the last accepted and the first rejected value. A value in ``nulls`` that the test
    does not reject is always inside; one that it rejects is always outside. A side without a
    rejection within 64 standard errors is unbounded (infinite). A trial value whose p-value
    cannot be computed (NaN: the restricted model has no estimate that far out) is not counted as
    a rejection, which can only widen the interval.
    """
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive standard error, got {scale}")
    bounds = []
    for side in (-1, 1):
        inner, outer = _first_rejection(p_at, estimate, scale, side, alpha, nulls)
        if outer is None:
            bounds.append(side * np.inf)
            continue
        while abs(outer - inner) > tol * scale:
            mid = 0.5 * (inner + outer)
            if not p_at(mid) < alpha:
                inner = mid
            else:
                outer = mid
        bounds.append(0.5 * (inner + outer))
    return bounds[0], bounds[1]


@dataclass(frozen=True)
class InferenceResult:
    """A p-value (and interval) from a resampling method, with everything needed to redo it.

    ``lower``/``upper`` are on the coefficient scale (log hazard or log odds ratio, risk
    difference); NaN when no interval was asked for, infinite when a side is unbounded.
    """

    method: str
    term: str
    estimate: float
    null: float
    statistic: float
    p_value: float
    n_reps: int
    n_clusters: int
    seed: int
    weights: str
    lower: float = float("nan")
    upper: float = float("nan")
    level: float = float("nan")
    enumerated: bool = False

    @property
    def table(self) -> pd.DataFrame:
        """The result as a one-row tidy DataFrame."""
        return pd.DataFrame([self.__dict__])


class Bootstrappable(Protocol):
    """A fitted model that offers a restricted wild cluster bootstrap test of its terms."""

    params: pd.Series
    cluster: str | None
    n_clusters: int | None

    def bootstrap_test(self, term: str, scheme: WebbScheme) -> NullTest:
        """The restricted bootstrap test of ``term``."""

    def se(self, term: str) -> float:
        """Standard error of a term."""


def wild_cluster_bootstrap(
    result: Bootstrappable,
    term: str,
    null: float = 0.0,
    n_reps: int = 9999,
    seed: int = DEFAULT_SEED,
    interval: bool = False,
    alpha: float = 0.05,
    tol: float = BISECTION_TOL,
) -> InferenceResult:
    """Restricted wild cluster bootstrap (Webb weights) for one term of a fitted model.

    Linear probability model: bootstrap-t (WCR). Logistic and Cox models: score bootstrap. With
    ``interval`` also the (1 - ``alpha``) interval by test inversion, which excludes ``null``
    exactly when the p-value is below ``alpha``; its bounds are located to ``tol`` standard
    errors.
    """
    if term not in result.params.index:
        raise KeyError(f"term {term!r} not in the model; terms: {list(result.params.index)}")
    if result.cluster is None:
        raise ValueError("the model was fitted without clusters; refit with cluster=...")
    scheme = WebbScheme.make(int(result.n_clusters or 0), n_reps, seed)
    test = result.bootstrap_test(term, scheme)
    cache: dict[float, tuple[float, float]] = {}

    def at(value: float) -> tuple[float, float]:
        if value not in cache:
            cache[value] = test.statistic_p(value)
        return cache[value]

    estimate = float(result.params[term])
    stat, p = at(null)
    lower = upper = float("nan")
    if interval:
        lower, upper = invert_test(lambda v: at(v)[1], estimate, result.se(term), alpha, (null,),
                                   tol)
    return InferenceResult(
        method=test.method,
        term=term,
        estimate=estimate,
        null=null,
        statistic=stat,
        p_value=p,
        n_reps=scheme.n_reps,
        n_clusters=scheme.n_clusters,
        seed=seed,
        weights="webb",
        lower=lower,
        upper=upper,
        level=1 - alpha if interval else float("nan"),
        enumerated=scheme.enumerated,
    )


def wild_cluster_bootstrap_ols(
    y: np.ndarray,
    x: np.ndarray,
    clusters: np.ndarray,
    index: int,
    null: float = 0.0,
    n_reps: int = 9999,
    seed: int = DEFAULT_SEED,
) -> tuple[float, float, float]:
    """Restricted wild cluster bootstrap-t for OLS coefficient ``index`` against ``null``.

    Returns (estimate, t statistic with HC1 cluster errors, bootstrap p-value).
    """
    codes = cluster_codes(clusters)
    test = OlsWildBootstrapT(y, x, codes, index, WebbScheme.make(int(codes.max()) + 1, n_reps, seed))
    stat, p = test.statistic_p(null)
    return float(test.beta[index]), stat, p


def cr2_vcov(exog: np.ndarray, resid: np.ndarray, clusters: Any, tol: float = 1e-12) -> np.ndarray:
    """CR2 (bias-reduced linearisation) cluster-robust covariance of OLS coefficients.

    ``(X'X)^-1 sum_g X_g' A_g e_g e_g' A_g X_g (X'X)^-1`` with ``A_g = (I - H_gg)^(-1/2)``
    (symmetric square root; eigenvalues below ``tol`` get 0, as ``clubSandwich`` does), computed
    in the p-dimensional column space of ``X_g`` so that large clusters cost O(n_g p^2).
    """
    x = np.asarray(exog, dtype=float)
    e = np.asarray(resid, dtype=float)
    codes = cluster_codes(clusters)
    bread = np.linalg.inv(x.T @ x)
    meat = np.zeros_like(bread)
    for g in range(int(codes.max()) + 1):
        rows = codes == g
        q, r = np.linalg.qr(x[rows])
        lam, v = np.linalg.eigh(r @ bread @ r.T)  # eigenvalues of H_gg in Q's span
        one_minus = 1.0 - lam
        safe = np.where(one_minus > tol, one_minus, 1.0)
        factor = np.where(one_minus > tol, safe**-0.5, 0.0) - 1.0
        qv = q @ v
        adjusted = e[rows] + qv @ (factor * (qv.T @ e[rows]))
        u = x[rows].T @ adjusted
        meat += np.outer(u, u)
    return bread @ meat @ bread


def permute_within(
    values: np.ndarray, strata: np.ndarray | None, rng: np.random.Generator
) -> np.ndarray:
    """A random permutation of ``values`` within each stratum."""
    values = np.asarray(values)
    if strata is None:
        return rng.permutation(values)
    codes = pd.factorize(pd.Series(strata))[0]
    base = np.argsort(codes, kind="stable")
    shuffled = np.lexsort((rng.random(len(values)), codes))
    out = values.copy()
    out[base] = values[shuffled]
    return out


def randomisation_inference(
    frame: pd.DataFrame,
    estimate: Callable[[pd.DataFrame], float],
    treatment: str,
    within: str | None = "pilot",
    n_reps: int = 999,
    seed: int = DEFAULT_SEED,
) -> InferenceResult:
    """Randomisation p-value: permute ``treatment`` within ``within`` and re-estimate.

    ``estimate`` maps a frame to the coefficient of interest (e.g. a fitted model's log hazard
    ratio of ``shelter_24h``). Valid for the sharp null of no effect when treatment is as good as
    randomly assigned within strata; with confounding it tests that assumption too.
    """
    _check_reps(n_reps)
    rng = np.random.default_rng(seed)
    observed = float(estimate(frame))
    strata = frame[within].to_numpy() if within is not None else None
    values = frame[treatment].to_numpy()
    draws = np.empty(n_reps)
    permuted = frame.copy()
    for i in range(n_reps):
        permuted[treatment] = permute_within(values, strata, rng)
        draws[i] = estimate(permuted)
    p = (1 + np.sum(np.abs(draws) >= abs(observed))) / (n_reps + 1)
    n_groups = int(frame[within].nunique()) if within is not None else 1
    return InferenceResult(
        method=f"randomisation inference, permuted within {within}",
        term=treatment,
        estimate=observed,
        null=0.0,
        statistic=observed,
        p_value=float(p),
        n_reps=n_reps,
        n_clusters=n_groups,
        seed=seed,
        weights="permutation",
    )


def with_wild_bootstrap(
    result: Any,
    terms: Sequence[str] | None = None,
    n_reps: int = 9999,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """The model's tidy table with the bootstrap interval and p-value as the primary columns.

    ``terms`` defaults to every term except the intercept; other rows get NaN.
    """
    return result.tidy(inference="bootstrap", terms=terms, n_reps=n_reps, seed=seed)
