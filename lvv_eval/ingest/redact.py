"""Cells named without their content: the shape, the length and a keyed hash of a value.

Quarantine entries and messages must let a data manager find and fix a cell (file, sheet, row,
column, rule) without carrying what it holds: a name typed in a label cell, a full birth date or
a source identifier in a shifted row are personal data. :func:`redact` keeps the value's shape
(letters as ``a``/``A``, digits as ``9``, other characters as they are), its length, and the
first 8 hex characters of an HMAC under the run's pseudonymisation key, so that equal values can
be recognised as equal without being readable.
"""

from __future__ import annotations

import hmac
import json
import re

import pandas as pd

MAX_SHAPE = 20
_UPPER = re.compile(r"[^\W\d_]", re.UNICODE)


def shape(value: str) -> str:
    """``Jan de Vries`` -> ``Aaa aa Aaaaa``; ``1987-03-14`` -> ``9999-99-99`` (cut at 20 characters)."""
    out = []
    for ch in value[:MAX_SHAPE]:
        if ch.isdigit():
            out.append("9")
        elif _UPPER.match(ch):
            out.append("A" if ch.isupper() else "a")
        else:
            out.append(ch)
    return "".join(out) + ("…" if len(value) > MAX_SHAPE else "")


def redact(value: object, key: bytes) -> str:
    """``<shape, n chars, #hash>`` for a value; ``<empty>`` for a missing one."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "<empty>"
    text = str(value)
    digest = hmac.digest(key, text.encode("utf-8"), "sha256").hex()[:8]
    return f"<{shape(text)}, {len(text)} chars, #{digest}>"


def shape_only(values: pd.Series) -> pd.Series:
    """``<shape, n chars>`` of each text value (missing stays missing): for logs without a key."""
    return values.map(lambda v: v if pd.isna(v) else f"<{shape(str(v))}, {len(str(v))} chars>").astype("str")


def cells_json(raw: pd.DataFrame, columns: list[str], key: bytes | None) -> pd.Series:
    """Each row's cells as JSON: redacted (``key`` given) or verbatim (``key`` is None)."""
    frame = raw[columns].astype("object").where(raw[columns].notna(), None)
    if key is not None:
        frame = frame.apply(lambda col: col.map(lambda v: None if v is None else redact(v, key)))
    records = frame.to_dict("records")
    return pd.Series([json.dumps(r, ensure_ascii=False) for r in records], index=raw.index, dtype="str")
