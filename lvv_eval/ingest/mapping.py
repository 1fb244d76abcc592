"""Mapping raw text to harmonised fields: column names, labels, flags, dates, numbers.

Driven entirely by the source spec. A value that cannot be mapped is never guessed: it becomes
missing and is marked in the issues frame (``unmapped:<field>`` or ``unparsed:<field>``), which
the validation rules turn into a quarantine entry naming the rule.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from lvv_eval.ingest.errors import IngestError, locate
from lvv_eval.ingest.readers import META_COLUMNS, RawTable
from lvv_eval.ingest.spec import (
    BOOL_FIELDS,
    DATE_FIELDS,
    INT_FIELDS,
    LABEL_FIELDS,
    SourceSpec,
)

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_SERIAL = re.compile(r"^\d{1,6}(\.0+)?$")


def by_unique(values: pd.Series, func: Callable[[pd.Series], tuple[pd.Series, ...]]) -> tuple[pd.Series, ...]:
    """Apply ``func`` to the distinct non-missing values only and spread its outputs back.

    Deliveries repeat the same labels and dates many times, so this is much faster than working
    on every cell; missing cells give missing (or False for boolean outputs).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    outputs = func(pd.Series(uniques, dtype=values.dtype))
    spread = []
    for out in outputs:
        if pd.api.types.is_bool_dtype(out) and not isinstance(out.dtype, pd.BooleanDtype):
            arr = np.append(out.to_numpy(dtype=bool), False)[codes]
            spread.append(pd.Series(arr, index=values.index))
        else:
            taken = pd.api.extensions.take(out.array, codes, allow_fill=True)
            spread.append(pd.Series(taken, index=values.index, dtype=out.dtype))
    return tuple(spread)


def spec_columns(spec: SourceSpec) -> list[str]:
    """The raw headers a delivery of ``spec`` must have (mapped and combined columns)."""
    return list(dict.fromkeys([*spec.columns, *(c for entry in getattr(spec, "combine", ()) for c in entry.columns)]))


def check_columns(table: RawTable, spec: SourceSpec) -> None:
    """Raise a clear error for a missing or unexpected column."""
    required = spec_columns(spec)
    known = set(required) | set(spec.ignore_columns)
    got = table.columns
    missing = [c for c in required if c not in got]
    unexpected = [c for c in got if c not in known]
    where = locate(table.file, table.sheet or None, table.header_row)
    if missing:
        raise IngestError(
            f"missing column: {where}, column '{missing[0]}' (all missing: {missing}) is required by "
            f"source spec {spec.path.name}. Row {table.header_row} holds {_listing(got)}."
            f"{_column_hint(missing, [c for c in got if c not in known])} Restore the column or update the spec's 'columns'."
        )
    if unexpected:
        raise IngestError(
            f"unexpected column: {where}, column '{unexpected[0]}' (all unexpected: {unexpected}) is "
            f"not in source spec {spec.path.name}. Map it under 'columns' or list it under "
            f"'ignore_columns'."
        )


def _listing(headers: list[str], limit: int = 12) -> str:
    more = f", ... ({len(headers) - limit} more)" if len(headers) > limit else ""
    return "[" + ", ".join(repr(h) for h in headers[:limit]) + more + "]"


def _column_hint(missing: list[str], got: list[str]) -> str:
    """Close spellings of missing columns among the unknown headers found, as a suggested fix."""
    pairs = [(m, difflib.get_close_matches(m, got, n=1, cutoff=0.6)) for m in missing]
    close = [f"'{m}' -> '{g[0]}'" for m, g in pairs if g]
    return f" Perhaps renamed: {', '.join(close)}." if close else ""


def combine_columns(frame: pd.DataFrame, columns: Sequence[str], separator: str) -> pd.Series:
    """The filled cells of ``columns`` joined by ``separator`` (missing when all are empty)."""
    parts = [frame[c].astype("str").str.strip().replace("", None) for c in columns]
    joined = parts[0].copy()
    for part in parts[1:]:
        both = joined.notna() & part.notna()
        joined = joined.where(~both, joined + separator + part).fillna(part)
    return joined.astype("str")


def rename_to_fields(frame: pd.DataFrame, spec: SourceSpec) -> tuple[pd.DataFrame, dict[str, str]]:
    """Frame with one column per harmonised field (text) and the field -> raw column names."""
    out = pd.DataFrame(index=frame.index)
    names: dict[str, str] = {}
    for raw, fld in spec.columns.items():
        out[fld] = frame[raw]
        names[fld] = raw
    for entry in getattr(spec, "combine", ()):
        out[entry.field] = combine_columns(frame, entry.columns, entry.separator)
        names[entry.field] = " + ".join(entry.columns)
    for meta in META_COLUMNS:
        out[meta] = frame[meta]
    return out, names


def _norm(values: pd.Series) -> pd.Series:
    return values.astype("str").str.strip().str.casefold()


def map_labels(values: pd.Series, mapping: Mapping[str, object]) -> tuple[pd.Series, pd.Series]:
    """Map labels case-insensitively; returns (mapped values, mask of unmapped non-missing)."""
    return by_unique(values, lambda u: _map_labels(u, mapping))  # type: ignore[return-value]


def _map_labels(values: pd.Series, mapping: Mapping[str, object]) -> tuple[pd.Series, pd.Series]:
    lookup = {str(k).strip().casefold(): v for k, v in mapping.items()}
    present = values.notna()
    norm = _norm(values)
    mapped = pd.Series([lookup.get(v) for v in norm.astype(object)], index=values.index, dtype=object)
    mapped = mapped.where(present)
    unmapped = present & mapped.isna() & ~norm.isin([k for k, v in lookup.items() if v is None])
    return mapped, unmapped.astype(bool)


def map_flags(values: pd.Series, true: Sequence[str], false: Sequence[str],
              missing: Sequence[str] = ()) -> tuple[pd.Series, pd.Series]:
    """Yes/no labels to a nullable boolean (``missing`` labels mean unknown); returns (flags,
    mask of unmapped non-missing)."""
    lookup: dict[str, object] = {"true": True, "false": False}
    lookup |= {s.strip().casefold(): True for s in true} | {s.strip().casefold(): False for s in false}
    lookup |= {s.strip().casefold(): None for s in missing}
    mapped, unmapped = map_labels(values, lookup)
    return mapped.astype("boolean"), unmapped


def _replace_month_names(values: pd.Series, month_names: Mapping[str, int]) -> pd.Series:
    words = sorted(month_names, key=len, reverse=True)
    pattern = re.compile(r"(?<![a-z])(" + "|".join(re.escape(w) for w in words) + r")\.?(?![a-z])")
    has_letters = values.str.contains(r"[A-Za-z]", regex=True, na=False)
    if not has_letters.any():
        return values
    lowered = values[has_letters].str.lower().map(
        lambda s: pattern.sub(lambda m: f"{month_names[m.group(1)]:02d}", s)
    )
    out = values.copy()
    out[has_letters] = lowered.str.replace(r"\s+", " ", regex=True).str.strip()
    return out


def parse_dates(
    values: pd.Series,
    formats: Sequence[str],
    *,
    excel_serial: bool = False,
    month_names: Mapping[str, int] | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Parse text dates by a list of formats (first match wins); returns (dates, unparsed mask)."""
    return by_unique(values, lambda u: _parse_dates(u, formats, excel_serial=excel_serial,  # type: ignore[return-value]
                                                    month_names=month_names))


def _parse_dates(
    values: pd.Series,
    formats: Sequence[str],
    *,
    excel_serial: bool = False,
    month_names: Mapping[str, int] | None = None,
) -> tuple[pd.Series, pd.Series]:
    text = values.astype("str").str.strip()
    if month_names:
        text = _replace_month_names(text, month_names)
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    todo = text.notna()
    if excel_serial and todo.any():
        serial = todo & text.str.match(_SERIAL.pattern, na=False)
        if serial.any():
            days = pd.to_numeric(text[serial], errors="coerce")
            result[serial] = EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
            todo &= ~serial
    for fmt in formats:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        ok = parsed.notna()
        if ok.any():
            idx = parsed.index[ok.to_numpy()]
            result[idx] = parsed[ok].astype("datetime64[ns]")
            todo[idx] = False
    return result, (todo & values.notna()).astype(bool)


def parse_ints(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole numbers (``"40"``, ``"40.0"``) to Int64; returns (numbers, unparsed mask)."""
    return by_unique(values, _parse_ints)  # type: ignore[return-value]


def _parse_ints(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    num = pd.to_numeric(values.astype("str").str.strip(), errors="coerce")
    whole = num.notna() & (np.floor(num) == num)
    out = num.where(whole).astype("Float64").astype("Int64")
    return out, (values.notna() & ~whole).astype(bool)


def apply_codebook(values: pd.Series, codebook: Mapping[str, str]) -> pd.Series:
    """Replace codes by their code-book labels; codes not in the book stay as they are."""
    lookup = {str(k).strip(): v for k, v in codebook.items()}

    def translate(u: pd.Series) -> tuple[pd.Series]:
        text = u.astype("str").str.strip()
        return (pd.Series([lookup.get(v, v) for v in text.astype(object)], dtype="str"),)

    return by_unique(values, translate)[0]


def convert_fields(frame: pd.DataFrame, spec: SourceSpec, constants: Mapping[str, object]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed fields from text fields; returns (records, issues) with aligned indexes."""
    out = frame.copy()
    issues = pd.DataFrame(index=frame.index)
    for fld, value in {**spec.constants, **constants}.items():
        if fld not in out.columns:
            out[fld] = pd.Series(str(value), index=out.index, dtype="str")
    for fld in [c for c in out.columns if not c.startswith("_")]:
        col = out[fld]
        if fld in DATE_FIELDS:
            out[fld], bad = parse_dates(col, spec.formats_for(fld),
                                        excel_serial=spec.excel_serial, month_names=spec.month_names)
            issues[f"unparsed:{fld}"] = bad
        elif fld in BOOL_FIELDS and fld in spec.labels:
            mapped, bad = map_labels(col, spec.labels[fld])
            out[fld] = mapped.astype("boolean")
            issues[f"unmapped:{fld}"] = bad
        elif fld in BOOL_FIELDS:
            out[fld], bad = map_flags(col, spec.flags.true, spec.flags.false, spec.flags.missing)
            issues[f"unmapped:{fld}"] = bad
        elif fld in INT_FIELDS:
            out[fld], bad = parse_ints(col)
            issues[f"unparsed:{fld}"] = bad
        elif fld in LABEL_FIELDS and fld in spec.labels:
            out[fld], bad = map_labels(col, spec.labels[fld])
            issues[f"unmapped:{fld}"] = bad
        elif fld in LABEL_FIELDS:
            out[fld] = col.astype("str").str.strip()
    return out, issues


def category_values(fld: str) -> list[str] | None:
    """The contract's full category list of a stays field, or None when it is not categorical."""
    from lvv_eval.schema import STAYS_DTYPES

    dtype = STAYS_DTYPES.get(fld)
    return list(dtype.categories) if isinstance(dtype, pd.CategoricalDtype) else None


def flag_invalid_categories(records: pd.DataFrame, issues: pd.DataFrame) -> None:
    """Mark values of categorical fields outside the contract's category list as unmapped."""
    for fld in records.columns:
        allowed = category_values(fld)
        if allowed is None:
            continue
        col = records[fld]
        bad = col.notna() & ~col.isin(allowed)
        if bad.any():
            key = f"unmapped:{fld}"
            issues[key] = (issues[key] | bad) if key in issues else bad
            records[fld] = col.where(~bad)
