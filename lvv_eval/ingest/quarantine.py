"""Quarantine: raw rows that cannot become stays, kept with the rule they failed and where they are.

A quarantine entry holds what a data manager needs to find and fix the row (file, sheet, row,
column, rule) and the row's cells in redacted form (``cells``: shape, length and keyed hash of
each value, see :mod:`lvv_eval.ingest.redact`). Raw cell values (``raw_values``) are kept only
when the user asks for them on SYNTHETIC data. Source identifiers never enter the quarantine: the
identifier column is replaced by the pseudonymous ``person_id`` (when there is an identifier).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from lvv_eval.ingest.redact import cells_json, redact

QUARANTINE_COLUMNS: tuple[str, ...] = (
    "pilot", "source_file", "sheet", "source_row", "stay_row", "rule_id", "rules_failed", "reason", "detail",
    "person_id", "cells", "raw_values",
)
# ``stay_row``: the source row that opened the stay the row belongs to (its own row in a wide
# layout; in an event log the intake row of the client's stay, whose events are all quarantined
# with it). One fault is one stay: count faults as distinct (file, sheet, stay_row, rule_id).


def empty_quarantine() -> pd.DataFrame:
    """A quarantine table without rows."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("source_row", "stay_row") else "str")
                         for c in QUARANTINE_COLUMNS})


def issue_details(issues: pd.DataFrame, fields: pd.DataFrame, names: Mapping[str, str],
                  key: bytes | None = None) -> pd.Series:
    """Per row, which raw column held an unreadable value (empty when none): the value redacted
    under ``key`` (:func:`lvv_eval.ingest.redact.redact`), or verbatim when ``key`` is None."""
    detail = pd.Series("", index=issues.index, dtype="object")
    for col in issues.columns:
        hit = issues[col].to_numpy(dtype=bool)
        if not hit.any():
            continue
        kind, fld = col.split(":", 1)
        raw_col = names.get(fld, fld)
        values = fields.loc[hit, fld].astype("object") if fld in fields.columns else pd.Series("", index=issues.index[hit])
        shown = [repr(v) if key is None else redact(v, key) for v in values]
        text = [f"column '{raw_col}' value {v} {kind}; " for v in shown]
        detail[hit] = detail[hit] + np.array(text, dtype=object)
    return detail.str.rstrip("; ").astype("str")


def cell_columns(raw: pd.DataFrame, drop: list[str]) -> list[str]:
    """The raw data columns of a row that quarantine may describe (identifier columns left out)."""
    return [c for c in raw.columns if (not c.startswith("_") or c == "_extra") and c not in drop]


def build_quarantine(
    *,
    pilot: str,
    raw: pd.DataFrame,
    rule_ids: pd.Series,
    rules_failed: pd.Series,
    reasons: Mapping[str, str],
    detail: pd.Series,
    person_ids: pd.Series,
    id_columns: list[str],
    key: bytes,
    stay_rows: pd.Series | None = None,
    raw_cells: bool = False,
) -> pd.DataFrame:
    """Quarantine rows for the raw rows in ``raw`` (aligned with the other series); cells redacted
    under ``key``, and verbatim as well when ``raw_cells`` (SYNTHETIC data only, checked by the caller)."""
    if raw.empty:
        return empty_quarantine()
    out = pd.DataFrame({
        "pilot": pilot,
        "source_file": raw["_file"].astype("str"),
        "sheet": raw["_sheet"].astype("str"),
        "source_row": raw["_row"].astype("int64"),
        "stay_row": (raw["_row"] if stay_rows is None else stay_rows).astype("int64"),
        "rule_id": rule_ids.astype("str"),
        "rules_failed": rules_failed.astype("str"),
        "reason": rule_ids.map(lambda r: reasons.get(r, r)).astype("str"),
        "detail": detail.astype("str"),
        "person_id": person_ids.astype("str"),
        "cells": cells_json(raw, cell_columns(raw, id_columns), key),
        "raw_values": cells_json(raw, cell_columns(raw, id_columns), None) if raw_cells else "",
    }, index=raw.index)
    return out.loc[:, list(QUARANTINE_COLUMNS)].reset_index(drop=True)
