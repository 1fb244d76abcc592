"""Quarantine: raw rows that cannot become stays, kept with the rule they failed and their values.

Source identifiers never enter the quarantine: the identifier column is replaced by the
pseudonymous ``person_id`` (when there is an identifier at all).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pandas as pd

QUARANTINE_COLUMNS: tuple[str, ...] = (
    "pilot", "source_file", "sheet", "source_row", "stay_row", "rule_id", "rules_failed", "reason", "detail",
    "person_id", "raw_values",
)
# ``stay_row``: the source row that opened the stay the row belongs to (its own row in a wide
# layout; in an event log the intake row of the client's stay, whose events are all quarantined
# with it). One fault is one stay: count faults as distinct (file, sheet, stay_row, rule_id).


def empty_quarantine() -> pd.DataFrame:
    """A quarantine table without rows."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("source_row", "stay_row") else "str")
                         for c in QUARANTINE_COLUMNS})


def issue_details(issues: pd.DataFrame, fields: pd.DataFrame, names: Mapping[str, str]) -> pd.Series:
    """Per row, which raw column held which unreadable value (empty when none)."""
    detail = pd.Series("", index=issues.index, dtype="object")
    for col in issues.columns:
        hit = issues[col].to_numpy(dtype=bool)
        if not hit.any():
            continue
        kind, fld = col.split(":", 1)
        raw_col = names.get(fld, fld)
        values = fields.loc[hit, fld].astype("object") if fld in fields.columns else pd.Series("", index=issues.index[hit])
        text = [f"column '{raw_col}' value {v!r} {kind}; " for v in values]
        detail[hit] = detail[hit] + np.array(text, dtype=object)
    return detail.str.rstrip("; ").astype("str")


def raw_values_json(raw: pd.DataFrame, drop: list[str]) -> pd.Series:
    """The raw cells of each row as JSON (identifier columns left out)."""
    cols = [c for c in raw.columns if (not c.startswith("_") or c == "_extra") and c not in drop]
    records = raw[cols].astype("object").where(raw[cols].notna(), None).to_dict("records")
    return pd.Series([json.dumps(r, ensure_ascii=False) for r in records], index=raw.index, dtype="str")


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
    stay_rows: pd.Series | None = None,
) -> pd.DataFrame:
    """Quarantine rows for the raw rows in ``raw`` (aligned with the other series)."""
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
        "raw_values": raw_values_json(raw, id_columns),
    }, index=raw.index)
    return out.loc[:, list(QUARANTINE_COLUMNS)].reset_index(drop=True)
