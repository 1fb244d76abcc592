"""Error types of the ingest stage."""

from __future__ import annotations

from lvv_eval.errors import UserError
from lvv_eval.specfiles import SpecFileError


def locate(file: str, sheet: str | None = None, row: int | None = None, column: str | None = None) -> str:
    """A human-readable location: file, sheet, row and column where known."""
    parts = [f"file {file}"]
    if sheet:
        parts.append(f"sheet '{sheet}'")
    if row is not None:
        parts.append(f"row {row}")
    if column:
        parts.append(f"column '{column}'")
    return ", ".join(parts)


class IngestError(UserError):
    """A delivery or spec problem the user can fix; the message names where and what to do."""


class SpecError(IngestError, SpecFileError):
    """A source spec, vocabulary, rules or repairs file is malformed (every problem listed with
    its YAML path), or a spec does not fit a delivery."""
