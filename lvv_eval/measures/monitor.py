"""Monitor snapshots: the monitor's indicators per pilot at a list of dates, as one tidy table.

Also which monitor rounds were published and which dates are the toolkit's own choice
(``monitor_rounds.yaml`` beside this module), and the occupancy against the agreed places over
time (the monitor's own indicators at regular dates).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import pandas as pd
from pydantic import Field, model_validator

from lvv_eval import config
from lvv_eval.capacity import load_capacity_file
from lvv_eval.measures.definitions import Definitions, load_definitions
from lvv_eval.measures.indicators import compute_indicator, make_context
from lvv_eval.specfiles import NonEmptyStr, SpecFileError, SpecModel, read_mapping, validate_spec

MONITOR_COLUMNS: tuple[str, ...] = (
    "date", "pilot", "indicator", "value", "numerator", "denominator", "label_en", "label_nl",
    "note",
)
ALL_PILOTS = "all"
ROUNDS_YAML = Path(__file__).with_name("monitor_rounds.yaml")
ROUND_COLUMNS: tuple[str, ...] = ("round", "date", "published", "basis")
OCCUPANCY_INDICATORS: tuple[str, ...] = ("present", "capacity", "occupancy_pct")


class MonitorRoundsError(SpecFileError, ValueError):
    """The monitor rounds file is malformed or does not list the toolkit's monitor rounds."""


class MonitorRound(SpecModel):
    """One monitor round: its date, whether that date was published, and on what basis."""

    date: dt.date
    published: bool
    basis_en: NonEmptyStr
    basis_nl: NonEmptyStr


class MonitorRoundsFile(SpecModel):
    """Every monitor round (the dates of ``config.MONITOR_ROUNDS``, in order) and the labels of
    the rounds table in Dutch and English."""

    labels: dict[str, dict[str, NonEmptyStr]]
    rounds: list[MonitorRound] = Field(min_length=1)

    @model_validator(mode="after")
    def _the_toolkits_rounds(self) -> MonitorRoundsFile:
        listed = tuple(r.date for r in self.rounds)
        if listed != tuple(config.MONITOR_ROUNDS):
            raise ValueError(
                f"rounds list {', '.join(map(str, listed))}; the toolkit's monitor rounds "
                f"(lvv_eval.config.MONITOR_ROUNDS) are {', '.join(map(str, config.MONITOR_ROUNDS))}")
        needed = {"round", "date", "published", "basis", "yes", "no"}
        for lang in ("en", "nl"):
            missing = needed - set(self.labels.get(lang, {}))
            if missing:
                raise ValueError(f"labels.{lang} lacks {', '.join(sorted(missing))}")
        return self


def load_monitor_rounds(path: Path | None = None) -> MonitorRoundsFile:
    """The monitor rounds file (default: the package's), validated."""
    path = Path(path) if path is not None else ROUNDS_YAML
    raw = read_mapping(path, "monitor rounds file", MonitorRoundsError)
    return validate_spec(MonitorRoundsFile, raw, path, MonitorRoundsError)


def monitor_rounds(lang: str = "nl", path: Path | None = None) -> pd.DataFrame:
    """The monitor rounds in order: number, date, whether the date was published and the basis
    for it, in ``lang`` (nl or en); the table's column labels are in ``attrs['labels']``."""
    if lang not in ("nl", "en"):
        raise ValueError(f"lang={lang!r}: choose nl or en")
    spec = load_monitor_rounds(path)
    table = pd.DataFrame({
        "round": range(1, len(spec.rounds) + 1),
        "date": pd.to_datetime([r.date for r in spec.rounds]),
        "published": [r.published for r in spec.rounds],
        "basis": [r.basis_nl if lang == "nl" else r.basis_en for r in spec.rounds],
    }, columns=list(ROUND_COLUMNS))
    table.attrs["labels"] = dict(spec.labels[lang])
    return table


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
    indicators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Each monitor indicator (or those named in ``indicators``) per pilot (and all pilots) at
    each date (default: MONITOR_ROUNDS)."""
    defs = defs or load_definitions()
    names = list(indicators) if indicators is not None else list(defs.monitor)
    unknown = [n for n in names if n not in defs.monitor]
    if unknown:
        raise ValueError(f"no monitor indicator {', '.join(map(repr, unknown))} in "
                         f"{defs.path.name} (choose from {', '.join(defs.monitor)})")
    capacity = capacity if capacity is not None else load_capacity_file()
    dates = list(dates) if dates is not None else list(config.MONITOR_ROUNDS)
    pilots = list(pilots) if pilots is not None else [*config.PILOTS, ALL_PILOTS]
    context = make_context(defs, stays, capacity)
    rows = []
    for day in dates:
        for pilot in pilots:
            for name in names:
                spec = defs.monitor[name]
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
    table["indicator"] = pd.Categorical(table["indicator"], categories=names)
    table["value"] = table["value"].astype("float64")
    return table


def monitor_wide(table: pd.DataFrame, pilot: str = ALL_PILOTS) -> pd.DataFrame:
    """One pilot's snapshots as indicators x dates (for printing)."""
    one = table[table["pilot"] == pilot]
    wide = one.pivot(index="indicator", columns="date", values="value")
    wide.columns = [c.date().isoformat() for c in wide.columns]
    return wide


def month_starts(start: date | str, end: date | str) -> list[date]:
    """The first day of every month from ``start`` (rounded up to a month start) to ``end``."""
    return [d.date() for d in pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="MS")]


def monitor_over_time(
    stays: pd.DataFrame,
    start: date | str,
    end: date | str,
    defs: Definitions | None = None,
    capacity: pd.DataFrame | None = None,
    pilots: Sequence[str] | None = None,
    rounds: Sequence[date] | None = None,
) -> pd.DataFrame:
    """One snapshot table for the monitor and the occupancy over time: every monitor indicator at
    the monitor ``rounds`` up to ``end`` (default: MONITOR_ROUNDS) and the occupancy indicators
    (present in the covenant, agreed places, present as a percentage of them) on the first of
    every other month from ``start`` to ``end``; ``at_round`` marks the rounds. Gated as one table, a count hidden at a round is hidden in the
    occupancy series too, so the two never reveal together what one hides."""
    rounds = [d for d in (rounds if rounds is not None else config.MONITOR_ROUNDS)
              if pd.Timestamp(d) <= pd.Timestamp(end)]
    at_rounds = monitor_snapshots(stays, rounds, defs, capacity, pilots)
    months = [d for d in month_starts(start, end) if d not in set(rounds)]
    between = monitor_snapshots(stays, months, defs, capacity, pilots, OCCUPANCY_INDICATORS)
    between["indicator"] = between["indicator"].astype(at_rounds["indicator"].dtype)
    table = pd.concat([at_rounds, between], ignore_index=True)
    table["date"] = pd.to_datetime(table["date"]).astype("datetime64[ns]")
    table = table.sort_values(["date", "pilot", "indicator"], kind="stable").reset_index(drop=True)
    table["at_round"] = table["date"].isin(pd.to_datetime(rounds))
    return table
