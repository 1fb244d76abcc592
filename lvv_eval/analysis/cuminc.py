"""Cumulative incidence of each exit class with competing risks (Aalen–Johansen).

Computed with statsmodels ``CumIncidenceRight`` (its estimate and standard error equal R
``survfit(Surv(time, factor(event, levels = 0:K)) ~ group)`` exactly). Never 1 - Kaplan–Meier per
cause. A curve read at day t includes the exits of day t (STATISTICS_NOTES trap 1).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.survfunc import CumIncidenceRight

from lvv_eval.analysis.caveats import NotEstimable, SmallCellWarning
from lvv_eval.analysis.prepare import EventCoding, event_coding

CONF_TYPES = ("log", "log-log", "plain")


@dataclass
class CumIncResult:
    """Cumulative incidence curves; ``table`` has one row per group, cause and time."""

    table: pd.DataFrame
    by: tuple[str, ...]
    coding: EventCoding
    conf_type: str
    alpha: float

    def at(self, times: Sequence[float]) -> pd.DataFrame:
        """The curves read at ``times`` (days), exits on that day included."""
        rows = []
        keys = [*self.by, "cause"]
        for key, curve in self.table.groupby(keys, observed=True, sort=False):
            read = read_curve(curve, times)
            for col, val in zip(keys, key if isinstance(key, tuple) else (key,), strict=True):
                read[col] = val
            rows.append(read)
        return pd.concat(rows, ignore_index=True)[[*keys, "time", "cif", "se", "lower", "upper"]]


def read_curve(curve: pd.DataFrame, times: Sequence[float]) -> pd.DataFrame:
    """Step-function values of one curve (sorted by ``time``) at ``times``; 0 before the first."""
    t = curve["time"].to_numpy()
    pos = np.searchsorted(t, np.asarray(times, dtype=float), side="right") - 1
    out = {"time": np.asarray(times, dtype=float)}
    for col in ("cif", "se", "lower", "upper"):
        vals = curve[col].to_numpy()
        out[col] = np.where(pos >= 0, vals[np.clip(pos, 0, None)], 0.0)
    return pd.DataFrame(out)


def confidence_limits(
    cif: np.ndarray, se: np.ndarray, alpha: float = 0.05, conf_type: str = "log"
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise limits; ``log`` is R survfit's default (upper limit capped at 1)."""
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "log":
            lower = cif * np.exp(-z * se / cif)
            upper = np.minimum(cif * np.exp(z * se / cif), 1.0)
        elif conf_type == "log-log":
            # on log(-log(cif)); the curve rises, so the limits swap relative to survival
            w = z * se / (cif * np.abs(np.log(cif)))
            lower = cif ** np.exp(w)
            upper = cif ** np.exp(-w)
        elif conf_type == "plain":
            lower = np.clip(cif - z * se, 0.0, 1.0)
            upper = np.clip(cif + z * se, 0.0, 1.0)
        else:
            raise ValueError(f"conf_type must be one of {CONF_TYPES}, got {conf_type!r}")
    zero = cif <= 0
    lower = np.where(zero, 0.0, lower)
    upper = np.where(zero, 0.0, upper)
    return lower, upper


def _one_group(
    time: np.ndarray, event: np.ndarray, coding: EventCoding, alpha: float, conf_type: str
) -> pd.DataFrame:
    k = len(coding.classes)
    if event.max(initial=0) == 0:
        utime = np.unique(time)
        cinc = [np.zeros(len(utime))] * k
        cinc_se = [np.zeros(len(utime))] * k
    else:
        with np.errstate(divide="ignore", invalid="ignore"):  # trap 6, see cumulative_incidence
            fit = CumIncidenceRight(time, event)
        utime = fit.times
        # trap 7: only causes up to the largest code present are returned
        cinc = list(fit.cinc) + [np.zeros(len(utime))] * (k - len(fit.cinc))
        cinc_se = list(fit.cinc_se) + [np.zeros(len(utime))] * (k - len(fit.cinc_se))
    parts = []
    for j, cause in enumerate(coding.classes):
        lower, upper = confidence_limits(cinc[j], cinc_se[j], alpha, conf_type)
        parts.append(
            pd.DataFrame(
                {
                    "cause": cause,
                    "time": utime.astype(float),
                    "cif": cinc[j],
                    "se": cinc_se[j],
                    "lower": lower,
                    "upper": upper,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _group_keys(by: str | Sequence[str] | None) -> tuple[str, ...]:
    if by is None:
        return ()
    return (by,) if isinstance(by, str) else tuple(by)


def cumulative_incidence(
    tte: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    alpha: float = 0.05,
    conf_type: str = "log",
    min_cell: int = 10,
) -> CumIncResult:
    """Aalen–Johansen cumulative incidence of every outcome class, overall or by group(s).

    ``tte`` is a :func:`~lvv_eval.analysis.prepare.time_to_event` frame. Groups are e.g.
    ``"pilot"``, ``"shelter_24h"``, ``"guidance_intensity"`` or ``"prior_band"``; rows with a
    missing group value are left out and counted in ``table.attrs["n_missing_group"]``. Groups
    with fewer than ``min_cell`` stays raise a :class:`SmallCellWarning`. Where every stay still
    at risk exits on the same day (survival reaches 0) statsmodels' standard error is NaN from
    there on, and so are the limits (STATISTICS_NOTES trap 6); the estimate itself is defined.
    """
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {CONF_TYPES}, got {conf_type!r}")
    keys = _group_keys(by)
    coding = event_coding(tte)
    time = tte["time"].to_numpy(dtype=float)
    event = tte["event"].to_numpy(dtype=np.int64)
    n_missing = 0
    if not keys:
        table = _one_group(time, event, coding, alpha, conf_type)
    else:
        missing = tte[list(keys)].isna().any(axis=1).to_numpy()
        n_missing = int(missing.sum())
        codes, uniques = pd.MultiIndex.from_frame(tte.loc[~missing, list(keys)]).factorize(
            sort=True
        )
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        t_ok, e_ok = time[~missing][order], event[~missing][order]
        parts = []
        small = []
        for g, key in enumerate(uniques):
            sl = slice(bounds[g], bounds[g + 1])
            if sl.stop - sl.start < min_cell:
                small.append(key)
            part = _one_group(t_ok[sl], e_ok[sl], coding, alpha, conf_type)
            for col, val in zip(keys, key, strict=True):
                part[col] = val
            parts.append(part)
        if small:
            warnings.warn(
                f"cumulative incidence by {keys}: fewer than {min_cell} stays in {small}",
                SmallCellWarning,
                stacklevel=2,
            )
        if not parts:
            raise NotEstimable(f"cumulative incidence by {keys}: no stays with a known {', '.join(keys)}")
        table = pd.concat(parts, ignore_index=True)
        table = table[[*keys, "cause", "time", "cif", "se", "lower", "upper"]]
        for col in keys:
            if isinstance(tte[col].dtype, pd.CategoricalDtype):
                table[col] = table[col].astype(tte[col].dtype)
    table["cause"] = pd.Categorical(table["cause"], categories=list(coding.classes))
    table.attrs["n_missing_group"] = n_missing
    return CumIncResult(table=table, by=keys, coding=coding, conf_type=conf_type, alpha=alpha)
