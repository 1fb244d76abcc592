"""Descriptives per pilot and over time: stock and flows, exits by reason, rates, occupancy, length of stay.

Every function returns a tidy DataFrame with the full category lists of the stays contract, so
that empty cells (a pilot without exits of some kind) show as zeros instead of vanishing.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.survfunc import SurvfuncRight

from lvv_eval.analysis.caveats import SmallCellWarning
from lvv_eval.analysis.prepare import OutcomeScheme, event_coding, resolve_scheme
from lvv_eval.capacity import places_at

DAYS_PER_YEAR = 365.25


def _as_dates(dates: Sequence | pd.DatetimeIndex) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(list(dates)))


def stock_at(stays: pd.DataFrame, dates: Sequence, by: str = "pilot") -> pd.DataFrame:
    """Stays present on each date (admitted on or before it, last night on or after it)."""
    dates = _as_dates(dates)
    adm = stays["admission_date"].to_numpy()
    end = stays["exit_date"].fillna(stays["data_cut_date"]).to_numpy()
    cut = stays["data_cut_date"].to_numpy()
    groups = stays[by]
    rows = []
    for d in dates:
        present = (adm <= d) & (end >= d) & (cut >= d)
        counts = pd.Series(present).groupby(groups.to_numpy(), observed=False).sum()
        counts = counts.reindex(_levels(groups), fill_value=0)
        rows.append(pd.DataFrame({"date": d, by: counts.index, "stock": counts.to_numpy()}))
    return _with_dtype(pd.concat(rows, ignore_index=True), stays, by)


def _levels(s: pd.Series) -> list:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return list(s.cat.categories)
    return sorted(s.dropna().unique().tolist())


def _with_dtype(table: pd.DataFrame, stays: pd.DataFrame, by: str) -> pd.DataFrame:
    if isinstance(stays[by].dtype, pd.CategoricalDtype):
        table[by] = table[by].astype(stays[by].dtype)
    return table


def stock_and_flows(
    stays: pd.DataFrame,
    freq: str = "QS",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    by: str = "pilot",
) -> pd.DataFrame:
    """Per period and group: stock at the start, admissions, exits, stock at the end.

    Periods follow the pandas frequency ``freq`` (``"MS"`` months, ``"QS"`` quarters, ``"YS"``
    years) from ``start`` (default: first admission) up to ``end`` (default: data cut). An exit
    counts in the period of its last night. ``stock_start`` holds stays admitted before the period
    and not yet left; ``stock_end`` those admitted by its last day that had not left by then, so
    ``stock_start + admissions - exits == stock_end`` and each period starts where the last ended.
    """
    start = pd.Timestamp(start) if start is not None else stays["admission_date"].min()
    end = pd.Timestamp(end) if end is not None else stays["data_cut_date"].max()
    edges = pd.date_range(start.to_period(freq[0]).to_timestamp(), end, freq=freq)
    if len(edges) == 0 or edges[0] > start:
        edges = edges.insert(0, start.normalize())
    periods = list(zip(edges, [*edges[1:], end + pd.Timedelta(days=1)], strict=True))
    groups = stays[by].to_numpy()
    levels = _levels(stays[by])
    adm = stays["admission_date"]
    left = stays["exit_date"]
    rows = []
    for lo, hi in periods:
        last_day = hi - pd.Timedelta(days=1)
        frame = pd.DataFrame(
            {
                "g": groups,
                "stock_start": ((adm < lo) & (left.isna() | (left >= lo))).to_numpy(),
                "admissions": adm.between(lo, last_day).to_numpy(),
                "exits": left.between(lo, last_day).fillna(False).to_numpy(dtype=bool),
                "stock_end": ((adm <= last_day) & (left.isna() | (left > last_day))).to_numpy(),
            }
        )
        sums = frame.groupby("g", observed=False).sum().reindex(levels, fill_value=0)
        sums.insert(0, by, levels)
        sums.insert(0, "period_end", last_day)
        sums.insert(0, "period_start", lo)
        rows.append(sums.reset_index(drop=True))
    return _with_dtype(pd.concat(rows, ignore_index=True), stays, by)


def exits_by_reason(
    stays: pd.DataFrame, scheme: OutcomeScheme | str | None = None, by: str = "pilot"
) -> pd.DataFrame:
    """Exits per group and exit reason (all reasons, zeros kept), with the outcome class and share."""
    exited = stays[stays["exit_reason"].notna()]
    counts = (
        exited.groupby([by, "exit_reason"], observed=False).size().rename("exits").reset_index()
    )
    counts["share"] = counts["exits"] / counts.groupby(by, observed=False)["exits"].transform("sum")
    counts["share"] = counts["share"].fillna(0.0)
    if scheme is not None:
        mapping = resolve_scheme(scheme)
        counts.insert(2, "outcome_class", counts["exit_reason"].astype("object").map(dict(mapping)))
    return counts


def _poisson_limits(events: np.ndarray, exposure: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) limits of a Poisson rate."""
    lower = np.where(events > 0, stats.chi2.ppf(alpha / 2, 2 * events) / 2, 0.0) / exposure
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * (events + 1)) / 2 / exposure
    return lower, upper


def rates_per_100_person_years(
    tte: pd.DataFrame, by: str | Sequence[str] = "pilot", alpha: float = 0.05
) -> pd.DataFrame:
    """Exits of each outcome class per 100 person-years on the LVV, with exact Poisson limits."""
    keys = [by] if isinstance(by, str) else list(by)
    coding = event_coding(tte)
    data = tte.assign(person_years=tte["time"] / DAYS_PER_YEAR)
    exposure = data.groupby(keys, observed=False)["person_years"].sum()
    rows = []
    for cause in coding.classes:
        events = (data["cause"] == cause).groupby([data[k] for k in keys], observed=False).sum()
        events = events.reindex(exposure.index, fill_value=0)
        ev, py = events.to_numpy(dtype=float), exposure.to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            lo, hi = _poisson_limits(ev, py, alpha)
            rate = ev / py
        part = exposure.index.to_frame(index=False)
        part["cause"] = cause
        part["events"] = ev.astype(int)
        part["person_years"] = py
        part["rate_per_100py"] = 100 * rate
        part["lower"] = 100 * lo
        part["upper"] = 100 * hi
        rows.append(part)
    out = pd.concat(rows, ignore_index=True)
    out["cause"] = pd.Categorical(out["cause"], categories=list(coding.classes))
    return out


def occupancy_against_capacity(
    stays: pd.DataFrame, capacity: pd.DataFrame, dates: Sequence
) -> pd.DataFrame:
    """Stock, agreed places and occupancy (stock / places) per pilot on each date.

    ``capacity`` is the agreed-places table of :func:`lvv_eval.capacity.load_capacity_file`
    (``pilot``, ``places``, ``valid_from``, ``valid_to``); on each date the entry valid on it
    applies (places missing when none is).
    """
    for col in ("pilot", "places", "valid_from", "valid_to"):
        if col not in capacity.columns:
            raise KeyError(f"capacity table lacks column {col!r} (load it with "
                           "lvv_eval.capacity.load_capacity_file)")
    out = stock_at(stays, dates, "pilot")
    places = [places_at(capacity, str(p), pd.Timestamp(d)) for d, p in zip(out["date"], out["pilot"],
                                                                         strict=True)]
    out["places"] = pd.array(places, dtype="Int64")
    out["occupancy"] = out["stock"] / out["places"].astype("Float64")
    out["below_capacity"] = out["stock"] < out["places"]
    out = out[["date", "pilot", "stock", "places", "occupancy", "below_capacity"]]
    return out.sort_values(["date", "pilot"]).reset_index(drop=True)


def _groups(tte: pd.DataFrame, by: str | None):
    if by is None:
        yield "all", tte
        return
    yield from tte.groupby(by, observed=True, sort=True)


def kaplan_meier(tte: pd.DataFrame, by: str | None = "pilot") -> pd.DataFrame:
    """Kaplan–Meier curve of time to any exit with its Greenwood SE, one row per event time."""
    parts = []
    for key, part in _groups(tte, by):
        sf = SurvfuncRight(part["time"].to_numpy(float), (part["event"] > 0).to_numpy(float))
        parts.append(
            pd.DataFrame(
                {
                    "group": key,
                    "time": sf.surv_times,
                    "n_risk": sf.n_risk,
                    "n_events": sf.n_events,
                    "surv": sf.surv_prob,
                    "se": sf.surv_prob_se,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def read_survival(curve: pd.DataFrame, times: Sequence[float]) -> pd.DataFrame:
    """A KM curve of one group read at ``times`` (exits on that day included; 1 before any)."""
    t = curve["time"].to_numpy()
    pos = np.searchsorted(t, np.asarray(times, dtype=float), side="right") - 1
    surv = np.where(pos >= 0, curve["surv"].to_numpy()[np.clip(pos, 0, None)], 1.0)
    se = np.where(pos >= 0, curve["se"].to_numpy()[np.clip(pos, 0, None)], 0.0)
    return pd.DataFrame({"time": np.asarray(times, dtype=float), "surv": surv, "se": se})


def length_of_stay(
    tte: pd.DataFrame, by: str | None = "pilot", alpha: float = 0.05, min_cell: int = 10
) -> pd.DataFrame:
    """Median days on the LVV (Kaplan–Meier, any exit) with its CI, per group.

    The CI inverts the pointwise log-transformed interval of the survival curve (R ``survfit``'s
    default ``conf.type = "log"``); a limit that is never reached is NaN (R: NA).
    """
    rows = []
    small = []
    for key, part in _groups(tte, by):
        if len(part) < min_cell:
            small.append(key)
        sf = SurvfuncRight(part["time"].to_numpy(float), (part["event"] > 0).to_numpy(float))
        lower, upper = _median_ci_log(sf, alpha)
        rows.append(
            {
                "group": key,
                "n_stays": len(part),
                "n_exits": int((part["event"] > 0).sum()),
                "median_days": _median(sf),
                "lower": lower,
                "upper": upper,
            }
        )
    if small:
        warnings.warn(f"length of stay: fewer than {min_cell} stays in {small}", SmallCellWarning, stacklevel=2)
    return pd.DataFrame(rows)


def _first_time_at_or_below(times: np.ndarray, values: np.ndarray, level: float) -> float:
    hit = np.flatnonzero(values <= level + 1e-12)
    return float(times[hit[0]]) if len(hit) else np.nan


def _median(sf: SurvfuncRight) -> float:
    """R's median: the first time S(t) <= 0.5, averaged with the next time when S(t) == 0.5."""
    t, s = sf.surv_times, sf.surv_prob
    hit = np.flatnonzero(s <= 0.5 + 1e-12)
    if not len(hit):
        return np.nan
    i = hit[0]
    if abs(s[i] - 0.5) < 1e-12 and i + 1 < len(t):
        return float((t[i] + t[i + 1]) / 2)
    return float(t[i])


def _median_ci_log(sf: SurvfuncRight, alpha: float) -> tuple[float, float]:
    z = stats.norm.ppf(1 - alpha / 2)
    s, se = sf.surv_prob, sf.surv_prob_se
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = s * np.exp(-z * se / s)
        hi = np.minimum(s * np.exp(z * se / s), 1.0)
    return (
        _first_time_at_or_below(sf.surv_times, lo, 0.5),
        _first_time_at_or_below(sf.surv_times, hi, 0.5),
    )


__all__ = [
    "exits_by_reason",
    "kaplan_meier",
    "length_of_stay",
    "occupancy_against_capacity",
    "rates_per_100_person_years",
    "read_survival",
    "stock_and_flows",
    "stock_at",
]
