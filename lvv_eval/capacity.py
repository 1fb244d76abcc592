"""The agreed places per pilot (capacity): one file, one reader.

The agreed places are an input of the toolkit, not something computed from stays. They live in
one file, ``specs/capacity.yaml`` (pilot, places, valid_from, valid_to, source), whose structure
is declared by :class:`CapacityFile`. Every reader goes through :func:`load_capacity_file`: the
ingest copies the table into ``data_clean/capacity.csv`` (so that the cleaned data carry the
places they were checked against), the published measures and the analyses read it from there or
from a file the user names (``--capacity FILE``, YAML in this format or a CSV with the same
columns).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field, model_validator

from lvv_eval.config import PILOTS, SPECS_DIR
from lvv_eval.specfiles import (
    Loc,
    NonEmptyStr,
    Problems,
    SpecFileError,
    SpecModel,
    one_of,
    read_mapping,
    validate_spec,
)

CAPACITY_YAML = SPECS_DIR / "capacity.yaml"
CAPACITY_CSV = "capacity.csv"  # the copy ingest writes beside stays.parquet
CAPACITY_COLUMNS: tuple[str, ...] = ("pilot", "places", "valid_from", "valid_to", "source")
_CSV_ALIASES = {"agreed_places": "places", "capacity": "places", "period_start": "valid_from",
                "period_end": "valid_to"}


Pilot = one_of("pilot", PILOTS)


class CapacityError(SpecFileError, ValueError):
    """A capacity file is malformed; the message names the file and each problem's place."""


class AgreedPlaces(SpecModel):
    """The places agreed for one pilot over a period (open at either end when a date is empty)."""

    pilot: Pilot
    places: int = Field(ge=0)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    source: NonEmptyStr = Field(description="where the number comes from (publication, figure id)")

    @model_validator(mode="after")
    def _period(self) -> AgreedPlaces:
        if None not in (self.valid_from, self.valid_to) and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        return self


class CapacityFile(SpecModel):
    """A capacity file: a list of agreed places; one pilot's periods must not overlap."""

    capacity: list[AgreedPlaces] = Field(min_length=1)

    @model_validator(mode="after")
    def _no_overlap(self) -> CapacityFile:
        problems = Problems()
        for i, a in enumerate(self.capacity):
            for j, b in enumerate(self.capacity[:i]):
                if a.pilot == b.pilot and _overlap(a, b):
                    problems.add(("capacity", i), f"{a.pilot}: period overlaps entry {j + 1}")
        problems.raise_if_any("capacity")
        return self


def _overlap(a: AgreedPlaces, b: AgreedPlaces) -> bool:
    start_a, start_b = a.valid_from or dt.date.min, b.valid_from or dt.date.min
    end_a, end_b = a.valid_to or dt.date.max, b.valid_to or dt.date.max
    return start_a <= end_b and start_b <= end_a


def validate_capacity(mapping: Any, path: Path | str) -> CapacityFile:
    """A parsed capacity mapping validated (every problem at once, each with its YAML path)."""
    return validate_spec(CapacityFile, mapping, path, CapacityError)


def capacity_frame(model: CapacityFile, path: Path | str) -> pd.DataFrame:
    """The agreed places as a table (``CAPACITY_COLUMNS``); ``attrs['path']`` names the file."""
    table = pd.DataFrame([e.model_dump() for e in model.capacity], columns=list(CAPACITY_COLUMNS))
    for col in ("valid_from", "valid_to"):
        table[col] = pd.to_datetime(table[col]).astype("datetime64[ns]")
    table["places"] = table["places"].astype("int64")
    table.attrs["path"] = str(path)
    return table


def load_capacity_file(path: Path | str | None = None) -> pd.DataFrame:
    """Agreed places from a capacity file: YAML (the package's ``specs/capacity.yaml`` by
    default) or a CSV with the same columns (``source`` optional there: the file is named)."""
    path = Path(path) if path is not None else CAPACITY_YAML
    if path.suffix.lower() == ".csv":
        return _read_capacity_csv(path)
    raw = read_mapping(path, "capacity file", CapacityError)
    return capacity_frame(validate_capacity(raw, path), path)


def _read_capacity_csv(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CapacityError(path, [f"capacity file cannot be read as CSV ({exc})"]) from exc
    table = table.rename(columns={k: v for k, v in _CSV_ALIASES.items() if k in table.columns})
    if "source" not in table.columns:
        table["source"] = str(path)
    rows = [{k: (v if v != "" else None) for k, v in row.items()}
            for row in table.to_dict(orient="records")]
    model = validate_spec(CapacityFile, {"capacity": rows}, path, CapacityError, where=_csv_place)
    return capacity_frame(model, path)


def _csv_place(loc: Loc) -> str:
    """``row 3, column pilot`` (the header is row 1) for a location in the rows of a CSV."""
    if len(loc) >= 2 and loc[0] == "capacity" and isinstance(loc[1], int):
        return ", ".join([f"row {loc[1] + 2}", *(f"column {c}" for c in loc[2:3])])
    return "the table"


def find_capacity(stays_path: Path | None = None, capacity_file: Path | None = None) -> pd.DataFrame:
    """The agreed places for an analysis of ``stays_path``: ``capacity_file`` when given, else
    the ``capacity.csv`` that ingest wrote beside the stays, else the package's file."""
    if capacity_file is not None:
        return load_capacity_file(capacity_file)
    if stays_path is not None and (Path(stays_path).parent / CAPACITY_CSV).is_file():
        return load_capacity_file(Path(stays_path).parent / CAPACITY_CSV)
    return load_capacity_file()


def places_at(capacity: pd.DataFrame, pilot: str, ref: pd.Timestamp) -> int | None:
    """Agreed places of a pilot (or ``"all"`` pilots) valid on ``ref``; None if a pilot has none."""
    valid = capacity[
        (capacity["valid_from"].isna() | (capacity["valid_from"] <= ref))
        & (capacity["valid_to"].isna() | (capacity["valid_to"] >= ref))
    ]
    pilots = PILOTS if pilot == "all" else (pilot,)
    total = 0
    for p in pilots:
        rows = valid[valid["pilot"] == p]
        if rows.empty:
            return None
        total += int(rows["places"].iloc[-1])
    return total


def capacity_provenance(capacity: pd.DataFrame, pilot: str = "all") -> str:
    """Where a pilot's (or all pilots') agreed places come from: the file and its sources."""
    rows = capacity if pilot == "all" else capacity[capacity["pilot"] == pilot]
    sources = "; ".join(dict.fromkeys(str(s) for s in rows["source"]))
    return f"{capacity.attrs.get('path', 'capacity table')} ({sources})"
