"""Stratified Cox partial likelihood (Breslow or Efron ties) on prepared arrays.

One :class:`CoxArrays` holds the sort order, tie groups and strata of a dataset once; its
methods give the log partial likelihood with gradient and information, a Newton fit (used for
the many null-restricted refits of the wild cluster score bootstrap) and the score residuals.

The score residuals follow R ``survival``'s ``coxscore2`` for either ties method: with Efron
ties a tied event spreads its contribution over the Efron steps, so robust (sandwich) errors
built from them equal ``coxph(..., ties = "efron", cluster = )``. Breslow is Efron with every
step weight set to 0. Rows that leave before the first event of their stratum get 0, as in R.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TIES = ("breslow", "efron")


@dataclass(frozen=True)
class Derivatives:
    """Log partial likelihood, its gradient and the observed information at one parameter."""

    loglik: float
    gradient: np.ndarray
    information: np.ndarray


def _within_stratum_revcumsum(values: np.ndarray, next_start: np.ndarray) -> np.ndarray:
    """Sum over groups g' >= g of the same stratum (groups sorted by stratum, then time)."""
    cs = np.cumsum(values[::-1], axis=0)[::-1]
    padded = np.concatenate([cs, np.zeros((1, *cs.shape[1:]))])
    return cs - padded[next_start]


def _within_stratum_cumsum(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Sum over groups g' <= g of the same stratum."""
    cs = np.cumsum(values, axis=0)
    padded = np.concatenate([np.zeros((1, *cs.shape[1:])), cs])
    return cs - padded[first]


class CoxArrays:
    """A Cox dataset prepared once: rows sorted by stratum and time, tie groups, Efron steps."""

    def __init__(
        self,
        time: np.ndarray,
        status: np.ndarray,
        exog: np.ndarray,
        strata: np.ndarray | None = None,
        ties: str = "breslow",
    ) -> None:
        if ties not in TIES:
            raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
        time = np.asarray(time, dtype=np.float64)
        n = len(time)
        strata = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata)
        self.ties = ties
        self.order = np.lexsort((time, strata))
        self.x = np.asarray(exog, dtype=np.float64).reshape(n, -1)[self.order]
        self.status = np.asarray(status, dtype=np.float64)[self.order]
        self.strata = strata[self.order]
        t = time[self.order]
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = (t[1:] != t[:-1]) | (self.strata[1:] != self.strata[:-1])
        self.group = np.cumsum(new_group) - 1  # row -> (stratum, time) group
        m = int(self.group[-1]) + 1 if n else 0
        g_stratum = self.strata[new_group]
        new_stratum = np.ones(m, dtype=bool)
        new_stratum[1:] = g_stratum[1:] != g_stratum[:-1]
        starts = np.flatnonzero(new_stratum)
        stratum_index = np.cumsum(new_stratum) - 1
        self.first = starts[stratum_index]  # group -> first group of its stratum
        self.next_start = np.append(starts[1:], m)[stratum_index]  # -> first group of next stratum
        self.n_groups = m
        self.events = np.flatnonzero(self.status > 0)
        ev_group = self.group[self.events]
        d = np.bincount(ev_group, minlength=m)
        rank = np.arange(len(self.events)) - np.searchsorted(ev_group, ev_group)
        self.step = rank / d[ev_group] if ties == "efron" else np.zeros(len(self.events))
        self.d = d
        self._row_stratum_codes = np.unique(self.strata, return_inverse=True)[1]

    @property
    def n_params(self) -> int:
        """Number of covariates."""
        return self.x.shape[1]

    def _risk(
        self, params: np.ndarray, offset: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        eta = self.x @ params
        if offset is not None:
            eta = eta + np.asarray(offset, dtype=np.float64)[self.order]
        shift = np.full(self._row_stratum_codes.max() + 1 if len(eta) else 0, -np.inf)
        np.maximum.at(shift, self._row_stratum_codes, eta)
        row_shift = shift[self._row_stratum_codes]
        return eta, np.exp(eta - row_shift), row_shift

    def _sums(self, r: np.ndarray) -> dict[str, np.ndarray]:
        """Risk-set and tied-event sums per event (Efron step applied)."""
        m, g, ev = self.n_groups, self.group, self.events
        xr = self.x * r[:, None]
        s0 = _within_stratum_revcumsum(np.bincount(g, weights=r, minlength=m), self.next_start)
        s1 = _within_stratum_revcumsum(_group_sums(g, xr, m), self.next_start)
        e0 = np.bincount(g[ev], weights=r[ev], minlength=m)
        e1 = _group_sums(g[ev], xr[ev], m)
        ge, f = g[ev], self.step
        s0_e = s0[ge] - f * e0[ge]
        s1_e = s1[ge] - f[:, None] * e1[ge]
        return {"s0_e": s0_e, "mean_e": s1_e / s0_e[:, None]}

    def derivatives(self, params: np.ndarray, offset: np.ndarray | None = None) -> Derivatives:
        """Log partial likelihood, gradient and information (minus the Hessian) at ``params``."""
        params = np.asarray(params, dtype=np.float64)
        eta, r, row_shift = self._risk(params, offset)
        s = self._sums(r)
        ev, m, g = self.events, self.n_groups, self.group
        loglik = float(np.sum(eta[ev] - row_shift[ev]) - np.sum(np.log(s["s0_e"])))
        gradient = self.x[ev].sum(axis=0) - s["mean_e"].sum(axis=0)
        a = np.bincount(g[ev], weights=1.0 / s["s0_e"], minlength=m)
        b = np.bincount(g[ev], weights=self.step / s["s0_e"], minlength=m)
        a_cum = _within_stratum_cumsum(a, self.first)
        weight = r * (a_cum[g] - self.status * b[g])
        information = (self.x * weight[:, None]).T @ self.x - s["mean_e"].T @ s["mean_e"]
        return Derivatives(loglik, gradient, information)

    def newton(
        self,
        start: np.ndarray | None = None,
        offset: np.ndarray | None = None,
        max_iter: int = 50,
        tol: float = 1e-10,
    ) -> tuple[np.ndarray, Derivatives, bool]:
        """Newton-Raphson with step halving: (estimate, derivatives there, converged).

        Stops when the step or the gain in log likelihood is negligible; the latter also when a
        coefficient drifts off to infinity because one level has no events (as R ``coxph``).
        """
        beta = np.zeros(self.n_params) if start is None else np.asarray(start, dtype=np.float64).copy()
        cur = self.derivatives(beta, offset)
        if self.n_params == 0:
            return beta, cur, True
        for _ in range(max_iter):
            if not (np.isfinite(cur.loglik) and np.all(np.isfinite(cur.information))):
                return beta, cur, False  # risk sets underflow this far out: no estimate here
            step = np.linalg.lstsq(cur.information, cur.gradient, rcond=None)[0]
            new = self.derivatives(beta + step, offset)
            halvings = 0
            while not new.loglik >= cur.loglik - 1e-12 * abs(cur.loglik) and halvings < 30:
                step /= 2
                new = self.derivatives(beta + step, offset)
                halvings += 1
            gain = new.loglik - cur.loglik
            beta, cur = beta + step, new
            if np.max(np.abs(step)) < tol or abs(gain) <= 1e-13 * max(1.0, abs(cur.loglik)):
                return beta, cur, True
        return beta, cur, False

    def fit(
        self,
        start: np.ndarray | None = None,
        offset: np.ndarray | None = None,
        max_iter: int = 50,
        tol: float = 1e-10,
    ) -> np.ndarray:
        """Maximum partial likelihood estimate (see :meth:`newton`); raises when it fails."""
        beta, _, converged = self.newton(start, offset, max_iter, tol)
        if not converged:
            raise RuntimeError("Cox partial likelihood: Newton-Raphson did not converge")
        return beta

    def score_residuals(self, params: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
        """Score residuals (n x p) in the original row order; R ``residuals(fit, "score")``."""
        params = np.asarray(params, dtype=np.float64)
        _, r, _ = self._risk(params, offset)
        s = self._sums(r)
        ev, m, g, f = self.events, self.n_groups, self.group, self.step
        inv_s0 = 1.0 / s["s0_e"]
        a_cum = _within_stratum_cumsum(np.bincount(g[ev], weights=inv_s0, minlength=m), self.first)
        mean_cum = _within_stratum_cumsum(_group_sums(g[ev], s["mean_e"] * inv_s0[:, None], m),
                                          self.first)
        b = np.bincount(g[ev], weights=f * inv_s0, minlength=m)
        mean_b = _group_sums(g[ev], s["mean_e"] * (f * inv_s0)[:, None], m)
        mean_bar = _group_sums(g[ev], s["mean_e"], m) / np.maximum(self.d, 1)[:, None]
        x, st = self.x, self.status[:, None]
        resid = (
            st * (x - mean_bar[g])
            - r[:, None] * (x * a_cum[g, None] - mean_cum[g])
            + st * r[:, None] * (x * b[g, None] - mean_b[g])
        )
        out = np.empty_like(resid)
        out[self.order] = resid
        return out


def _group_sums(groups: np.ndarray, values: np.ndarray, m: int) -> np.ndarray:
    """Column sums of ``values`` (n x p) per group code; ``groups`` is sorted (contiguous groups)."""
    out = np.zeros((m, values.shape[1]))
    if len(groups):
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
        out[groups[starts]] = np.add.reduceat(values, starts, axis=0)
    return out
