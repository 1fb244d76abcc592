"""Headline indicators for every specification at once, vectorised over specifications.

Many specifications share their denominator (population, unit, base, reference date) and differ
only in which exit reasons their outcome class holds. So each distinct *selection* is evaluated
once: the units in its base, counted per pilot and per exit reason (exits before the reference
date only); a specification's numerator is then a sum over the reasons of its class. Population
conditions are evaluated by :func:`lvv_eval.measures.definitions.where_mask` itself; the unit
reduction and the base status are array versions of ``reduce_to_unit`` and ``base_mask``, held
equal to them by the tests (every headline value equals :func:`compute_indicator` on the same
definitions). Indicators of another shape (other measures, conditions beyond an outcome class)
are computed by :func:`compute_indicator` directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from lvv_eval.config import PILOTS
from lvv_eval.measures.definitions import (
    Definitions,
    resolve_reference_date,
    scheme_classes,
    where_mask,
)
from lvv_eval.measures.indicators import compute_indicator
from lvv_eval.schema import EXIT_REASONS
from lvv_eval.sensitivity.specs import Specification, canonical_json

PILOT_LABELS: tuple[str, ...] = ("all", *PILOTS)
NO_EXIT = len(EXIT_REASONS)  # reason column for units without an exit before the date
FAST_MEASURES = ("share", "count")
NAT = np.iinfo(np.int64).max  # a missing exit date sorts last and never lies before a date


@dataclass
class StaysArrays:
    """A stays table as the arrays the engine needs, sorted once for the unit reductions."""

    stays: pd.DataFrame
    pilot: np.ndarray
    reason: np.ndarray
    admission: np.ndarray
    exit: np.ndarray
    person: np.ndarray
    order_all: np.ndarray  # by person, admission, exit (stable)
    order_pilot: np.ndarray  # by pilot, person, admission, exit (stable)
    masks: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    units: dict[tuple[Any, ...], Units] = field(default_factory=dict, repr=False)

    @classmethod
    def from_stays(cls, stays: pd.DataFrame) -> StaysArrays:
        """Arrays of a stays table in the contract's dtypes."""
        stays = stays.reset_index(drop=True)
        pilot = pd.Categorical(stays["pilot"], categories=list(PILOTS)).codes.astype(np.int64)
        reason = pd.Categorical(stays["exit_reason"], categories=list(EXIT_REASONS)).codes
        reason = np.where(reason < 0, NO_EXIT, reason).astype(np.int64)
        admission = stays["admission_date"].to_numpy("datetime64[ns]").view(np.int64)
        exit_ = stays["exit_date"].to_numpy("datetime64[ns]").view(np.int64).copy()
        exit_[stays["exit_date"].isna().to_numpy()] = NAT
        person = pd.factorize(stays["person_id"], sort=True)[0].astype(np.int64)
        order_all = np.lexsort((exit_, admission, person))
        order_pilot = np.lexsort((exit_, admission, person, pilot))
        return cls(stays, pilot, reason, admission, exit_, person, order_all, order_pilot)

    def population(self, where: Mapping[str, Any]) -> np.ndarray:
        """Rows meeting a population's conditions (memoised by their canonical text)."""
        key = canonical_json(where)
        if key not in self.masks:
            self.masks[key] = where_mask(self.stays, where).to_numpy(dtype=bool)
        return self.masks[key]


def _keep_one_per_group(order: np.ndarray, eligible: np.ndarray, group: np.ndarray,
                        keep: str) -> np.ndarray:
    rows = order[eligible[order]]
    g = group[rows]
    if keep == "last":
        boundary = np.append(g[1:] != g[:-1], True)
    else:
        boundary = np.insert(g[1:] != g[:-1], 0, True)
    return rows[boundary]


def unit_rows(data: StaysArrays, in_population: np.ndarray, reduce: str, ref: int,
              by_pilot: bool) -> np.ndarray:
    """Row numbers of the counting units (array version of ``reduce_to_unit`` after a pilot
    filter: with ``by_pilot`` a person is reduced within each pilot, as per-pilot indicators do)."""
    if reduce == "none":
        return np.flatnonzero(in_population)
    eligible = in_population & (data.admission <= ref)
    keep = {"last_stay_per_person": "last", "first_stay_per_person": "first"}[reduce]
    if by_pilot:
        group = data.person * (len(PILOTS) + 1) + data.pilot + 1
        return _keep_one_per_group(data.order_pilot, eligible, group, keep)
    return _keep_one_per_group(data.order_all, eligible, data.person, keep)


@dataclass(frozen=True)
class Units:
    """The counting units of one population, reduction and reference date, as gathered arrays:
    ``cell`` is the bincount cell (pilot x exit-reason column; the exit counts only before the
    reference date)."""

    admission: np.ndarray
    exit: np.ndarray
    cell: np.ndarray

    @classmethod
    def gather(cls, data: StaysArrays, rows: np.ndarray, ref: int, by_pilot: bool) -> Units:
        if by_pilot:
            rows = rows[data.pilot[rows] >= 0]
        column = np.where(data.exit[rows] < ref, data.reason[rows], NO_EXIT)
        cell = data.pilot[rows] * (NO_EXIT + 1) + column if by_pilot else column
        return cls(data.admission[rows], data.exit[rows], cell)

    def in_status(self, statuses: Sequence[str], day: int) -> np.ndarray:
        """Units whose status on ``day`` is one of ``statuses`` (as ``stay_status`` says)."""
        admitted = self.admission <= day
        left = self.exit < day
        status = {"not_admitted": ~admitted, "present": admitted & ~left, "left": left}
        out = np.zeros(len(self.cell), dtype=bool)
        for name in statuses:
            out |= status[name]
        return out

    def person_days(self, ref: int) -> np.ndarray:
        """Days in the LVV up to ``ref`` (as ``person_days`` says)."""
        last = np.minimum(self.exit, ref)
        days = (last - self.admission) // (86_400 * 10**9) + 1
        return np.clip(days, 0, None).astype(np.float64)


@dataclass(frozen=True)
class Selection:
    """What a headline indicator's denominator reads from the definitions."""

    where: Mapping[str, Any]
    reduce: str
    statuses: tuple[str, ...]
    status_day: int
    ref_day: int
    weighted: bool

    @property
    def key(self) -> str:
        return canonical_json({"where": self.where, "reduce": self.reduce,
                               "statuses": self.statuses, "status_day": self.status_day,
                               "ref_day": self.ref_day, "weighted": self.weighted})


def _day(ts: pd.Timestamp) -> int:
    return int(pd.Timestamp(ts).to_datetime64().astype("datetime64[ns]").view(np.int64))


def selection_of(defs: Definitions, indicator: Mapping[str, Any]) -> Selection:
    """The selection (denominator) of an indicator in resolved definitions."""
    ref = resolve_reference_date(defs, indicator["reference_date"])
    base = defs.bases[indicator["base"]]
    on = base.get("status_date")
    status_day = ref if on is None else resolve_reference_date(defs, on)
    return Selection(
        where=defs.populations[indicator["population"]].get("where") or {},
        reduce=defs.units[indicator["unit"]]["reduce"],
        statuses=tuple(base["status"]),
        status_day=_day(status_day),
        ref_day=_day(ref),
        weighted=base.get("weight") == "person_days",
    )


def selection_units(data: StaysArrays, sel: Selection, by_pilot: bool) -> Units:
    """The units of a selection before its base is applied (memoised for the latest key)."""
    key = (canonical_json(sel.where), sel.reduce, sel.ref_day, by_pilot)
    if key not in data.units:
        if len(data.units) >= 2:
            data.units.clear()
        rows = unit_rows(data, data.population(sel.where), sel.reduce, sel.ref_day, by_pilot)
        data.units[key] = Units.gather(data, rows, sel.ref_day, by_pilot)
    return data.units[key]


def selection_counts(data: StaysArrays, sel: Selection) -> np.ndarray:
    """Units of a selection per pilot (all, then each pilot) and exit reason (exits before the
    reference date; the last column holds the units without one); weighted by person-days for
    a person-time base. Shape (1 + pilots, reasons + 1)."""
    width = NO_EXIT + 1
    out = np.zeros((len(PILOT_LABELS), width))
    for by_pilot in (False, True):
        units = selection_units(data, sel, by_pilot)
        keep = units.in_status(sel.statuses, sel.status_day)
        weights = units.person_days(sel.ref_day)[keep] if sel.weighted else None
        counts = np.bincount(units.cell[keep], weights=weights,
                             minlength=(len(PILOTS) if by_pilot else 1) * width)
        if by_pilot:
            out[1:] = counts.reshape(len(PILOTS), width)
        else:
            out[0] = counts
    return out


def class_membership(defs: Definitions, indicator: Mapping[str, Any]) -> np.ndarray:
    """0/1 over the exit-reason columns: the reasons the indicator's outcome class holds."""
    outcome = indicator["condition"]["outcome"]
    reasons = scheme_classes(defs, outcome["scheme"])[outcome["class"]]
    member = np.zeros(NO_EXIT + 1)
    member[[EXIT_REASONS.index(r) for r in reasons]] = 1.0
    return member


def is_vectorisable(indicator: Mapping[str, Any]) -> bool:
    """Whether the fast path computes this indicator (a share or count of an outcome class)."""
    condition = indicator.get("condition")
    return (indicator.get("measure") in FAST_MEASURES and condition is not None
            and set(condition) == {"outcome"})


RESULT_COLUMNS: tuple[str, ...] = ("spec_index", "outcome", "pilot", "estimate", "lower",
                                   "upper", "n", "numerator", "interval")


def _rows_for(selection_result: np.ndarray, members: np.ndarray, measure: np.ndarray
              ) -> dict[str, np.ndarray]:
    numerator = members @ selection_result.T  # (specs, pilots)
    denominator = np.broadcast_to(selection_result.sum(axis=1), numerator.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(denominator > 0, 100.0 * numerator / denominator, np.nan)
    is_share = np.broadcast_to((measure == "share")[:, None], numerator.shape)
    return {"estimate": np.where(is_share, share, numerator), "n": denominator,
            "numerator": numerator, "is_share": is_share}


def _wilson(frame: dict[str, np.ndarray], level: float) -> None:
    """Wilson intervals (in percent) of the unweighted shares, in place; NaN elsewhere."""
    ok = frame["is_share"] & ~frame["weighted"] & (frame["n"] > 0)
    frame["lower"] = np.full(len(ok), np.nan)
    frame["upper"] = np.full(len(ok), np.nan)
    lo, hi = proportion_confint(frame["numerator"][ok], frame["n"][ok], alpha=1 - level,
                                method="wilson")
    frame["lower"][ok] = 100.0 * np.clip(np.asarray(lo), 0.0, 1.0)
    frame["upper"][ok] = 100.0 * np.clip(np.asarray(hi), 0.0, 1.0)
    frame["interval"] = np.where(ok, f"Wilson {level:.0%}", "")


def headline_table(data: StaysArrays, specs: Sequence[Specification],
                   outcomes: Mapping[str, str], level: float = 0.95) -> pd.DataFrame:
    """Every outcome of every specification per pilot: one row each (``spec_index`` refers to
    ``specs``). ``outcomes`` maps an outcome name to its indicator id."""
    groups: dict[str, tuple[Selection, list[tuple[int, str, np.ndarray, str]]]] = {}
    slow: list[tuple[int, str, str]] = []
    for i, spec in enumerate(specs):
        defs = spec.definitions
        for name, indicator_id in outcomes.items():
            indicator = defs.indicators[indicator_id]
            if not is_vectorisable(indicator):
                slow.append((i, name, indicator_id))
                continue
            sel = selection_of(defs, indicator)
            entry = groups.setdefault(sel.key, (sel, []))
            entry[1].append((i, name, class_membership(defs, indicator), indicator["measure"]))
    ordered = sorted(groups.values(), key=lambda g: (canonical_json(g[0].where), g[0].reduce,
                                                      g[0].ref_day))
    parts = [_group_arrays(data, sel, members) for sel, members in ordered]
    frames = []
    if parts:
        merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        _wilson(merged, level)
        frames.append(pd.DataFrame({k: merged[k] for k in RESULT_COLUMNS}))
    if slow:
        frames.append(_reference_rows(data.stays, specs, slow, level))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)


def _group_arrays(data: StaysArrays, sel: Selection,
                  members: list[tuple[int, str, np.ndarray, str]]) -> dict[str, np.ndarray]:
    counts = selection_counts(data, sel)
    cols = _rows_for(counts, np.stack([m[2] for m in members]), np.array([m[3] for m in members]))
    n_specs, n_pilots = cols["estimate"].shape
    frame = {k: np.ravel(v) for k, v in cols.items()}
    frame["spec_index"] = np.repeat([m[0] for m in members], n_pilots)
    frame["outcome"] = np.repeat([m[1] for m in members], n_pilots)
    frame["pilot"] = np.tile(PILOT_LABELS, n_specs)
    frame["weighted"] = np.full(n_specs * n_pilots, sel.weighted)
    return frame


def _reference_rows(stays: pd.DataFrame, specs: Sequence[Specification],
                    slow: list[tuple[int, str, str]], level: float) -> pd.DataFrame:
    rows = []
    for i, name, indicator_id in slow:
        defs = specs[i].definitions
        spec = defs.indicators[indicator_id]
        for pilot in PILOT_LABELS:
            result = compute_indicator(defs, spec, stays, pilot=pilot)
            value = float(result.value) if result.computable else np.nan
            rows.append({"spec_index": i, "outcome": name, "pilot": pilot, "estimate": value,
                         "lower": np.nan, "upper": np.nan, "n": result.denominator,
                         "numerator": result.numerator, "interval": ""})
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
