"""Compute an indicator (a definitions-file entry) on a stays table, and say it in words."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from lvv_eval import config
from lvv_eval.capacity import load_capacity_file, places_at
from lvv_eval.measures.definitions import (
    MEASURE_NEEDS,
    Definitions,
    DefinitionsError,
    base_mask,
    base_weights,
    condition_mask,
    label,
    outcome_label,
    person_days,
    pilot_mask,
    population_mask,
    reduce_to_unit,
    resolve_reference_date,
)


@dataclass(frozen=True)
class IndicatorResult:
    """The value of one indicator, with its parts and, if not computable, the reason."""

    value: float | bool | None
    numerator: float | None = None
    denominator: float | None = None
    reason: str = ""

    @property
    def computable(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Context:
    """What indicators are evaluated on: definitions, stays and agreed places (plus a memo of
    base units, so that many indicators on the same data share their work)."""

    defs: Definitions
    stays: pd.DataFrame
    capacity: pd.DataFrame
    memo: dict[tuple[Any, ...], pd.DataFrame] = field(default_factory=dict, compare=False)

    def units(self, spec: Mapping[str, Any], pilot: str, ref: pd.Timestamp) -> pd.DataFrame:
        """The indicator's base units (memoised by population, unit, base, pilot and date)."""
        key = (spec["population"], spec["unit"], spec["base"], pilot, ref)
        if key not in self.memo:
            self.memo[key] = base_units(self.defs, spec, self.stays, pilot, ref)
        return self.memo[key]


# ---------------------------------------------------------------------------------------------
# the units an indicator counts


def indicator_reference_date(defs: Definitions, spec: Mapping[str, Any]) -> pd.Timestamp:
    """The indicator's reference date as a timestamp."""
    return resolve_reference_date(defs, spec["reference_date"])


def base_units(
    defs: Definitions, spec: Mapping[str, Any], stays: pd.DataFrame, pilot: str,
    ref: pd.Timestamp,
) -> pd.DataFrame:
    """The units in the indicator's base: population, pilot, counting unit, then base."""
    selected = stays[population_mask(defs, stays, spec["population"]) & pilot_mask(stays, pilot)]
    units = reduce_to_unit(defs, selected, spec["unit"], ref)
    return units[base_mask(defs, units, spec["base"], ref)]


def numerator_mask(
    defs: Definitions, spec: Mapping[str, Any], units: pd.DataFrame, ref: pd.Timestamp
) -> pd.Series:
    """Units of the base that meet the indicator's condition (all of them if it has none)."""
    if "condition" not in spec:
        return pd.Series(True, index=units.index)
    return condition_mask(defs, units, spec["condition"], ref)


# ---------------------------------------------------------------------------------------------
# measures: one function each, registered in MEASURES


def _count(ctx: Context, spec: Mapping[str, Any], pilot: str, ref: pd.Timestamp) -> IndicatorResult:
    units = ctx.units(spec, pilot, ref)
    weights = base_weights(ctx.defs, units, spec["base"], ref)
    hit = numerator_mask(ctx.defs, spec, units, ref)
    return IndicatorResult(value=float(weights[hit].sum()), denominator=float(weights.sum()))


def _share(ctx: Context, spec: Mapping[str, Any], pilot: str, ref: pd.Timestamp) -> IndicatorResult:
    units = ctx.units(spec, pilot, ref)
    weights = base_weights(ctx.defs, units, spec["base"], ref)
    hit = numerator_mask(ctx.defs, spec, units, ref)
    num, den = float(weights[hit].sum()), float(weights.sum())
    if den == 0:
        return IndicatorResult(None, num, den, reason="empty base: no units to take a share of")
    return IndicatorResult(value=100.0 * num / den, numerator=num, denominator=den)


def _mean(ctx: Context, spec: Mapping[str, Any], pilot: str, ref: pd.Timestamp) -> IndicatorResult:
    units = ctx.units(spec, pilot, ref)
    values = units.loc[numerator_mask(ctx.defs, spec, units, ref), spec["column"]].dropna()
    if values.empty:
        return IndicatorResult(None, reason=f"no known {spec['column']} in the base")
    return IndicatorResult(float(values.astype("float64").mean()), float(values.sum()),
                           float(len(values)))


def _capacity(ctx: Context, spec: Mapping[str, Any], pilot: str, ref: pd.Timestamp) -> IndicatorResult:
    places = places_at(ctx.capacity, pilot, ref)
    if places is None:
        return IndicatorResult(None, reason=f"no agreed places for {pilot} on {ref.date()}")
    return IndicatorResult(float(places))


def _percent_of_capacity(
    ctx: Context, spec: Mapping[str, Any], pilot: str, ref: pd.Timestamp
) -> IndicatorResult:
    count = _count(ctx, spec, pilot, ref)
    places = places_at(ctx.capacity, pilot, ref)
    if not places:
        return IndicatorResult(None, reason=f"no agreed places for {pilot} on {ref.date()}")
    return IndicatorResult(100.0 * float(count.value) / places, count.value, float(places))


def _below_capacity(
    ctx: Context, spec: Mapping[str, Any], pilot: str, ref: pd.Timestamp
) -> IndicatorResult:
    pilots = config.PILOTS if pilot == "all" else (pilot,)
    parts, below = [], True
    for p in pilots:
        places = places_at(ctx.capacity, p, ref)
        if places is None:
            return IndicatorResult(None, reason=f"no agreed places for {p} on {ref.date()}")
        count = _count(ctx, spec, p, ref).value
        below &= bool(count < places)
        parts.append(f"{p} {count:.0f}/{places}")
    return IndicatorResult(below, reason="; ".join(parts))


def _average_occupancy(
    ctx: Context, spec: Mapping[str, Any], pilot: str, ref: pd.Timestamp
) -> IndicatorResult:
    units = ctx.units(spec, pilot, ref)
    units = units[numerator_mask(ctx.defs, spec, units, ref)]
    if units.empty:
        return IndicatorResult(None, reason="nobody in the base")
    start = spec["period_start"]
    start = units["admission_date"].min() if start == "first_admission" else pd.Timestamp(start)
    days_in_period = (ref - start).days + 1
    occupied = float(person_days(units, ref, start=start).sum())
    return IndicatorResult(occupied / days_in_period, occupied, float(days_in_period),
                           reason=f"period {start.date()} to {ref.date()}")


def _rate(ctx: Context, spec: Mapping[str, Any], pilot: str, ref: pd.Timestamp) -> IndicatorResult:
    units = ctx.units(spec, pilot, ref)
    days = float(base_weights(ctx.defs, units, spec["base"], ref).sum())
    events = float(numerator_mask(ctx.defs, spec, units, ref).sum())
    if days == 0:
        return IndicatorResult(None, events, days, reason="no person-time in the base")
    return IndicatorResult(spec["per"] * events / days, events, days)


def _monitor_rounds(
    ctx: Context, spec: Mapping[str, Any], pilot: str, ref: pd.Timestamp
) -> IndicatorResult:
    return IndicatorResult(float(sum(pd.Timestamp(d) <= ref for d in config.MONITOR_ROUNDS)))


Measure = Callable[[Context, Mapping[str, Any], str, pd.Timestamp], IndicatorResult]
MEASURES: dict[str, Measure] = {
    "count": _count,
    "share": _share,
    "mean": _mean,
    "capacity": _capacity,
    "below_capacity": _below_capacity,
    "percent_of_capacity": _percent_of_capacity,
    "average_occupancy": _average_occupancy,
    "monitor_rounds": _monitor_rounds,
    "rate": _rate,
}
assert set(MEASURES) == set(MEASURE_NEEDS), "every measure in definitions needs a function here"


def make_context(
    defs: Definitions, stays: pd.DataFrame, capacity: pd.DataFrame | None = None
) -> Context:
    """A context for evaluating many indicators on the same stays (agreed places by default
    from the package's capacity file)."""
    return Context(defs, stays, capacity if capacity is not None else load_capacity_file())


def compute_indicator(
    defs: Definitions,
    spec: Mapping[str, Any],
    stays: pd.DataFrame,
    capacity: pd.DataFrame | None = None,
    pilot: str | None = None,
    reference_date: str | date | None = None,
    context: Context | None = None,
) -> IndicatorResult:
    """Evaluate one indicator spec on ``stays`` (``pilot``/``reference_date`` override the spec's;
    pass a ``context`` from :func:`make_context` to share work across many indicators)."""
    ref = resolve_reference_date(defs, reference_date or spec["reference_date"])
    pilot = pilot or spec.get("pilot", "all")
    ctx = context if context is not None else make_context(defs, stays, capacity)
    return MEASURES[spec["measure"]](ctx, spec, pilot, ref)


def compute_figure(
    defs: Definitions, figure_id: str, stays: pd.DataFrame, capacity: pd.DataFrame | None = None
) -> IndicatorResult:
    """Evaluate the indicator defined for a published figure id."""
    if figure_id not in defs.indicators:
        raise DefinitionsError(f"no indicator defined for figure {figure_id!r}")
    return compute_indicator(defs, defs.indicators[figure_id], stays, capacity)


# ---------------------------------------------------------------------------------------------
# in words

_OPS = {"in": "in", "eq": "=", "gt": ">", "ge": ">=", "lt": "<", "le": "<=", "is_null": "is null:"}


def _condition_words(defs: Definitions, condition: Mapping[str, Any], lang: str) -> list[str]:
    words = defs.words(lang)
    parts = []
    if "outcome" in condition:
        out = condition["outcome"]
        parts.append(outcome_label(defs, out["scheme"], out["class"], lang))
    if "known_at_reference" in condition:
        k = condition["known_at_reference"]
        text = words["known_at_reference"].format(column=k["column"])
        if "in" in k:
            text += f" ({words['among']} {', '.join(map(str, k['in']))})"
        parts.append(text)
    for column, cond in (condition.get("where") or {}).items():
        (op, value), = cond.items()
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(words["where"].format(column=column, op=_OPS[op], value=shown))
    return parts


def describe_indicator(defs: Definitions, spec: Mapping[str, Any], lang: str = "en") -> str:
    """The indicator's definition in words (``lang`` "en" or "nl"), built from YAML labels."""
    words = defs.words(lang)
    measure = spec["measure"]
    ref = spec.get("reference_date")
    ref_text = ""
    if ref is not None:
        ref_date = resolve_reference_date(defs, ref).date()
        ref_text = f"{words['reference_date']} {ref_date}"
    head = words[measure].format(column=spec.get("column", ""), per=spec.get("per", ""))
    pieces = [head]
    if "unit" in spec:
        pieces.append(label(defs.units[spec["unit"]], lang))
        pieces.append(f"({label(defs.populations[spec['population']], lang)};")
        pieces.append(f"{label(defs.bases[spec['base']], lang)})")
    if "condition" in spec:
        pieces.append(f"{words['meeting']}: " + "; ".join(_condition_words(defs, spec["condition"], lang)))
    pilot = spec.get("pilot")
    if pilot is not None:
        pieces.append(f"- {words['pilot']}: {words['all_pilots'] if pilot == 'all' else pilot}")
    if ref_text:
        pieces.append(f"- {ref_text}")
    note = spec.get(f"note_{lang}")
    if note:
        pieces.append(f"- {note}")
    return " ".join(p for p in pieces if p)
