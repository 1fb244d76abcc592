"""The change log: every cell a repair changes is recorded by diffing the frame before and after.

Repair functions are pure (they look at a frame and propose new versions of the columns they
work on) and never log anything themselves; :func:`apply_tracked` runs one, compares cell by
cell and records each changed cell with the rule id, in the manner of the R package
``lumberjack``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

CHANGE_COLUMNS: tuple[str, ...] = (
    "step", "rule_id", "pilot", "source_file", "sheet", "source_row", "column", "old_value",
    "new_value",
)
REDACTED = "[source identifier, pseudonymised]"


def _as_text(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.dt.strftime("%Y-%m-%d")
    else:
        out = values.astype("object").map(lambda v: None if pd.isna(v) else str(v))
    return out.astype("str")


def with_stay_ids(changes: pd.DataFrame, stay_rows: pd.DataFrame | None) -> pd.DataFrame:
    """The change log with the stay each changed row ended up in (for a duplicate merged away:
    the stay it was merged into; missing for quarantined rows), as ``stay_id`` after ``pilot``."""
    out = changes.copy()
    out["stay_id"] = pd.Series(pd.NA, index=out.index, dtype="str")
    if stay_rows is not None and len(stay_rows) and len(out):
        keys = stay_rows.drop_duplicates(["_file", "_sheet", "_row"]).set_index(["_file", "_sheet", "_row"])["stay_id"]
        index = pd.MultiIndex.from_arrays([out["source_file"], out["sheet"], out["source_row"]])
        out["stay_id"] = keys.reindex(index).to_numpy()
    order = ["step", "rule_id", "pilot", "stay_id", *[c for c in CHANGE_COLUMNS if c not in ("step", "rule_id", "pilot")]]
    return out.loc[:, order].astype({"stay_id": "str"})


def changed_mask(before: pd.Series, after: pd.Series) -> pd.Series:
    """Cells that differ, missing values compared as equal to each other."""
    na_b, na_a = before.isna(), after.isna()
    if before.dtype != after.dtype:
        before, after = _as_text(before), _as_text(after)
    both = ~na_b & ~na_a
    differs = pd.Series(False, index=before.index)
    if both.any():
        differs[both] = (before[both] != after[both]).to_numpy(dtype=bool)
    return (na_b != na_a) | differs


@dataclass
class ChangeLog:
    """Accumulates changed cells (and merged-away rows) for ``changes.parquet``."""

    parts: list[pd.DataFrame] = field(default_factory=list)

    def record(self, part: pd.DataFrame) -> None:
        """Add rows that already have the :data:`CHANGE_COLUMNS`."""
        if len(part):
            self.parts.append(part.loc[:, list(CHANGE_COLUMNS)])

    def frame(self) -> pd.DataFrame:
        """All recorded changes as one table."""
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c == "source_row" else "str")
                                 for c in CHANGE_COLUMNS})
        out = pd.concat(self.parts, ignore_index=True)
        for c in CHANGE_COLUMNS:
            out[c] = out[c].astype("int64" if c == "source_row" else "str")
        return out


def apply_tracked(
    frame: pd.DataFrame,
    func: Callable[[pd.DataFrame], Mapping[str, pd.Series]],
    *,
    rule_id: str,
    step: str,
    pilot: str,
    log: ChangeLog,
    column_names: Mapping[str, str] | None = None,
    redact: Iterable[str] = (),
    shown: Callable[[pd.Series], pd.Series] | None = None,
) -> pd.DataFrame:
    """Run the repair ``func`` and log every cell it changes; returns the repaired frame.

    ``func`` looks at the frame and proposes new versions of the columns it works on (it never
    logs); this function compares each proposed column with the current one cell by cell,
    records every difference, and puts the new columns in place. ``column_names`` translates
    frame columns to the names reported in the log (the raw headers); values of ``redact``
    columns (source identifiers) are never written to the log; ``shown`` (when given) turns the
    old and new values into what the log may show (for example their shape only).
    """
    proposed = func(frame)
    if not proposed:
        return frame
    names = column_names or {}
    redacted = set(redact)
    updates = {}
    for col, new in proposed.items():
        if col.startswith("_") or col not in frame.columns:
            raise RuntimeError(f"repair {rule_id} proposes unknown column {col!r}")
        new = pd.Series(new, index=frame.index) if not isinstance(new, pd.Series) else new
        if not new.index.equals(frame.index):
            raise RuntimeError(f"repair {rule_id} changed the rows of column {col!r}; repairs change cells only")
        mask = changed_mask(frame[col], new)
        if not mask.any():
            continue
        updates[col] = new
        rows = frame.loc[mask, ["_file", "_sheet", "_row"]].copy()
        if f"_row@{col}" in frame.columns:  # the cell came from another raw row (long layouts)
            rows["_row"] = frame.loc[mask, f"_row@{col}"]
        old, new_text = _as_text(frame.loc[mask, col]), _as_text(new[mask])
        if col in redacted:
            old = pd.Series(REDACTED, index=old.index, dtype="str")
            new_text = old
        elif shown is not None:
            old, new_text = shown(old), shown(new_text)
        log.record(pd.DataFrame({
            "step": step, "rule_id": rule_id, "pilot": pilot,
            "source_file": rows["_file"], "sheet": rows["_sheet"], "source_row": rows["_row"],
            "column": names.get(col, col), "old_value": old, "new_value": new_text,
        }))
    return frame.assign(**updates) if updates else frame
