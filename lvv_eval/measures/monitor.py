"""Monitor snapshots: the monitor's indicators per pilot at a list of dates, as one tidy table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import pandas as pd

from lvv_eval import config
from lvv_eval.capacity import load_capacity_file
from lvv_eval.measures.definitions import Definitions, load_definitions
from lvv_eval.measures.indicators import compute_indicator, make_context

MONITOR_COLUMNS: tuple[str, ...] = (
    "date", "pilot", "indicator", "value", "numerator", "denominator", "label_en", "label_nl",
    "note",
)
ALL_PILOTS = "all"


def parse_dates(texts: Iterable[str]) -> list[date]:
    """Dates from ``YYYY-MM-DD`` strings; a bad one raises ValueError naming it."""
    out = []
    for text in texts:
        try:
            out.append(date.fromisoformat(text.strip()))
        except ValueError as exc:
            raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from exc
    return out


def monitor_snapshots(
    stays: pd.DataFrame,
    dates: Sequence[date] | None = None,
    defs: Definitions | None = None,
    capacity: pd.DataFrame | None = None,
    pilots: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Each monitor indicator per pilot (and all pilots) at each date (default: MONITOR_ROUNDS)."""
    defs = defs or load_definitions()
    capacity = capacity if capacity is not None else load_capacity_file()
    dates = list(dates) if dates is not None else list(config.MONITOR_ROUNDS)
    pilots = list(pilots) if pilots is not None else [*config.PILOTS, ALL_PILOTS]
    context = make_context(defs, stays, capacity)
    rows = []
    for day in dates:
        for pilot in pilots:
            for name, spec in defs.monitor.items():
                result = compute_indicator(defs, spec, stays, pilot=pilot, reference_date=day,
                                           context=context)
                rows.append({
                    "date": pd.Timestamp(day), "pilot": pilot, "indicator": name,
                    "value": result.value, "numerator": result.numerator,
                    "denominator": result.denominator, "label_en": spec["label_en"],
                    "label_nl": spec["label_nl"], "note": result.reason,
                })
    table = pd.DataFrame(rows, columns=list(MONITOR_COLUMNS))
    table["pilot"] = pd.Categorical(table["pilot"], categories=[*config.PILOTS, ALL_PILOTS])
    table["indicator"] = pd.Categorical(table["indicator"], categories=list(defs.monitor))
    table["value"] = table["value"].astype("float64")
    return table


def monitor_wide(table: pd.DataFrame, pilot: str = ALL_PILOTS) -> pd.DataFrame:
    """One pilot's snapshots as indicators x dates (for printing)."""
    one = table[table["pilot"] == pilot]
    wide = one.pivot(index="indicator", columns="date", values="value")
    wide.columns = [c.date().isoformat() for c in wide.columns]
    return wide
