"""Inference that holds with five pilots: wild cluster bootstrap and randomisation inference.

- Linear probability models: the restricted wild cluster bootstrap-t (WCR; Cameron, Gelbach &
  Miller 2008; Roodman et al. 2019 "boottest"), null imposed, Webb six-point weights.
- Logistic and Cox models: the restricted wild cluster *score* bootstrap (Kline & Santos 2012):
  cluster sums of the efficient score at the null-restricted estimate, perturbed by Webb weights,
  self-normalised. No refit per replication, so 9,999 replications cost next to nothing.
- Randomisation inference: permute a treatment within strata (e.g. within pilot) and refit.

All draws are seeded; at least 999 replications are required.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.duration.hazard_regression import PHReg

from lvv_eval.analysis.binary import BinaryResult
from lvv_eval.analysis.cox import CoxResult, breslow_score_residuals, cluster_sums

MIN_REPS = 999
DEFAULT_SEED = 20191
WEBB_VALUES = np.array(
    [-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)]
)


@dataclass(frozen=True)
class InferenceResult:
    """A p-value from a resampling method, with everything needed to reproduce it."""

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

    @property
    def table(self) -> pd.DataFrame:
        """The result as a one-row tidy DataFrame."""
        return pd.DataFrame([self.__dict__])


def _check_reps(n_reps: int) -> None:
    if n_reps < MIN_REPS:
        raise ValueError(f"n_reps must be at least {MIN_REPS}, got {n_reps}")


def webb_weights(n_clusters: int, n_reps: int, rng: np.random.Generator) -> np.ndarray:
    """Webb's six-point weights (±√½, ±1, ±√1.5, equally likely), shape (n_reps, n_clusters)."""
    return WEBB_VALUES[rng.integers(0, 6, size=(n_reps, n_clusters))]


CHUNK_CELLS = 5_000_000
"""Weights are drawn in blocks of about this many cells, so that many clusters fit in memory."""


def _weight_blocks(n_clusters: int, n_reps: int, seed: int):
    """Webb weights for ``n_reps`` replications, yielded in memory-sized blocks (seeded)."""
    rng = np.random.default_rng(seed)
    block = max(1, CHUNK_CELLS // max(n_clusters, 1))
    done = 0
    while done < n_reps:
        size = min(block, n_reps - done)
        yield webb_weights(n_clusters, size, rng)
        done += size


def _two_sided_p(stat: float, boot: np.ndarray) -> float:
    boot = boot[np.isfinite(boot)]
    return float(np.mean(np.abs(boot) >= abs(stat) - 1e-12 * max(1.0, abs(stat))))


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
    _check_reps(n_reps)
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    codes, _ = pd.factorize(pd.Series(clusters), sort=True)
    g_count = int(codes.max()) + 1
    n, p = x.shape
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    c = g_count / (g_count - 1) * (n - 1) / (n - p)
    a = xtx_inv[:, index]

    def cluster_scores(resid: np.ndarray) -> np.ndarray:
        s = np.zeros((g_count, p))
        np.add.at(s, codes, x * resid[:, None])
        return s

    s_hat = cluster_scores(y - x @ beta)
    t_stat = (beta[index] - null) / np.sqrt(c * np.sum((s_hat @ a) ** 2))
    keep = [j for j in range(p) if j != index]
    y_r = y - null * x[:, index]
    beta_r = np.linalg.lstsq(x[:, keep], y_r, rcond=None)[0] if keep else np.zeros(0)
    u_r = y_r - x[:, keep] @ beta_r
    s_r = cluster_scores(u_r)
    a_g = np.zeros((g_count, p, p))
    np.add.at(a_g, codes, x[:, :, None] * x[:, None, :])
    q = s_r @ a
    qm = a_g @ a  # (G, p): A_g a
    t_star = []
    for w in _weight_blocks(g_count, n_reps, seed):
        b = (w @ s_r) @ xtx_inv
        terms = w * q[None, :] - b @ qm.T
        t_star.append(b[:, index] / np.sqrt(c * np.sum(terms**2, axis=1)))
    return float(beta[index]), float(t_stat), _two_sided_p(t_stat, np.concatenate(t_star))


def score_bootstrap(
    cluster_scores: np.ndarray,
    information: np.ndarray,
    index: int,
    n_reps: int = 9999,
    seed: int = DEFAULT_SEED,
) -> tuple[float, float]:
    """Wild cluster score bootstrap of parameter ``index`` from restricted cluster scores.

    ``cluster_scores`` (G x p) are score sums per cluster at the null-restricted estimate and
    ``information`` (p x p) the observed information there. Returns (statistic, p-value).
    """
    _check_reps(n_reps)
    s = np.asarray(cluster_scores, dtype=float)
    info = np.asarray(information, dtype=float)
    keep = [j for j in range(s.shape[1]) if j != index]
    if keep:
        proj = info[index, keep] @ np.linalg.inv(info[np.ix_(keep, keep)])
        eff = s[:, index] - s[:, keep] @ proj
    else:
        eff = s[:, index]
    stat = eff.sum() / np.sqrt(np.sum(eff**2))
    boot = np.concatenate(
        [(w @ eff) / np.sqrt((w**2) @ (eff**2)) for w in _weight_blocks(len(eff), n_reps, seed)]
    )
    return float(stat), _two_sided_p(stat, boot)


def _cox_restricted_scores(result: CoxResult, term: str, null: float) -> tuple[np.ndarray, np.ndarray]:
    d = result.design
    if d is None or d.clusters is None:
        raise ValueError("the Cox model was fitted without clusters; refit with cluster=...")
    cols = list(d.exog.columns)
    k = cols.index(term)
    x = d.exog.to_numpy()
    keep = [j for j in range(len(cols)) if j != k]
    params = np.zeros(len(cols))
    params[k] = null
    if keep:
        restricted = PHReg(
            d.time, x[:, keep], status=d.status, strata=d.strata, ties=result.ties,
            offset=null * x[:, k],
        ).fit()
        params[keep] = restricted.params
    resid = breslow_score_residuals(d.time, d.status, x, params, d.strata)
    _, sums = cluster_sums(resid, d.clusters)
    full = PHReg(d.time, x, status=d.status, strata=d.strata, ties=result.ties)
    return sums, -full.hessian(params)


def _logit_restricted_scores(result: BinaryResult, term: str, null: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(result.fit.model.exog, dtype=float)
    y = np.asarray(result.fit.model.endog, dtype=float)
    k = list(result.params.index).index(term)
    keep = [j for j in range(x.shape[1]) if j != k]
    offset = null * x[:, k]
    restricted = sm.GLM(y, x[:, keep], family=sm.families.Binomial(), offset=offset).fit()
    mu = restricted.fittedvalues
    _, sums = cluster_sums(x * (y - mu)[:, None], result.data[result.cluster])
    info = (x * (mu * (1 - mu))[:, None]).T @ x
    return sums, info


def wild_cluster_bootstrap(
    result: CoxResult | BinaryResult,
    term: str,
    null: float = 0.0,
    n_reps: int = 9999,
    seed: int = DEFAULT_SEED,
) -> InferenceResult:
    """Restricted wild cluster bootstrap p-value (Webb weights) for one term of a fitted model.

    Linear probability model: bootstrap-t (WCR). Logistic and Cox models: score bootstrap.
    """
    if term not in result.params.index:
        raise KeyError(f"term {term!r} not in the model; terms: {list(result.params.index)}")
    if result.cluster is None:
        raise ValueError("the model was fitted without clusters; refit with cluster=...")
    estimate = float(result.params[term])
    if isinstance(result, BinaryResult) and result.model == "lpm":
        x = np.asarray(result.fit.model.exog, dtype=float)
        y = np.asarray(result.fit.model.endog, dtype=float)
        k = list(result.params.index).index(term)
        _, stat, p = wild_cluster_bootstrap_ols(
            y, x, result.data[result.cluster].to_numpy(), k, null, n_reps, seed
        )
        method = "wild cluster bootstrap-t, restricted (WCR)"
    else:
        if isinstance(result, CoxResult):
            sums, info = _cox_restricted_scores(result, term, null)
        else:
            sums, info = _logit_restricted_scores(result, term, null)
        k = list(result.params.index).index(term)
        stat, p = score_bootstrap(sums, info, k, n_reps, seed)
        method = "wild cluster score bootstrap, restricted"
    return InferenceResult(
        method=method,
        term=term,
        estimate=estimate,
        null=null,
        statistic=stat,
        p_value=p,
        n_reps=n_reps,
        n_clusters=int(result.n_clusters or 0),
        seed=seed,
        weights="webb",
    )


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
    result: CoxResult | BinaryResult,
    terms: Sequence[str] | None = None,
    n_reps: int = 9999,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """The model's tidy table with a ``p_wild_bootstrap`` column beside the cluster-robust p-value.

    ``terms`` defaults to every term except the intercept; other rows get NaN.
    """
    table = result.table.copy()
    chosen = [t for t in table["term"] if t != "Intercept"] if terms is None else list(terms)
    p = {t: wild_cluster_bootstrap(result, t, n_reps=n_reps, seed=seed).p_value for t in chosen}
    table["p_wild_bootstrap"] = table["term"].map(p)
    table["bootstrap"] = f"restricted wild cluster, Webb weights, {n_reps} reps, seed {seed}"
    return table
