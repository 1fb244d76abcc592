"""What a data manager needs when the spec, not the data, is wrong: a date column that the spec's
formats cannot read.

:func:`date_findings` looks at each date column of a table after interpretation. When none of
its filled values (at least :data:`MIN_VALUES`) parses, the spec lacks the column's format: that is a problem (the ingest
fails, naming the column, the spec key and a format that parses the values seen). When most of
them fail, a warning says the same. :func:`fit_problems` runs these checks, and the reader's,
for ``lvv-eval spec check --raw-dir`` without ingesting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from lvv_eval.ingest.errors import IngestError, locate
from lvv_eval.ingest.spec_models import DATE_FIELDS, SourceSpec

# formats tried when the spec's do not read a column (day first: Dutch deliveries)
CANDIDATE_FORMATS: tuple[str, ...] = (
    "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%d %m %Y", "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%d-%m-%y",
    "%d/%m/%y", "%d.%m.%y", "%m/%d/%Y", "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M", "%d %m %y",
)
DUTCH_MONTHS: dict[str, int] = {
    "januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7, "augustus": 8,
    "september": 9, "oktober": 10, "november": 11, "december": 12, "jan": 1, "feb": 2, "mrt": 3, "apr": 4,
    "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "okt": 10, "nov": 11, "dec": 12,
}
MOST = 0.5  # share of a column's filled values that fail before a warning
MIN_VALUES = 5  # fewer filled dates in a column: a data fault, not a format the spec lacks
EXAMPLES = 3


def suggest_date_format(values: Sequence[str], month_names: Mapping[str, int] | None = None) -> tuple[str | None, bool]:
    """The candidate format that parses the most of ``values`` (None when none parses any), and
    whether Dutch month names are needed for it."""
    from lvv_eval.ingest.mapping import parse_dates

    text = pd.Series(list(values), dtype="str")
    best: tuple[int, str | None, bool] = (0, None, False)
    tries = [(dict(month_names or {}), False)]
    if text.str.contains(r"[A-Za-z]", regex=True, na=False).any():
        tries.append((dict(month_names or {}) | DUTCH_MONTHS, True))
    for months, needs_months in tries:
        for fmt in CANDIDATE_FORMATS:
            _, bad = parse_dates(text, [fmt], month_names=months)
            ok = int((~bad).sum())
            if ok > best[0]:
                best = (ok, fmt, needs_months and not month_names)
    return best[1], best[2]


def date_findings(fields: pd.DataFrame, issues: pd.DataFrame, spec: SourceSpec, names: Mapping[str, str],
                  file: str, sheet: str = "") -> tuple[list[str], list[str]]:
    """(problems, warnings) about date columns the spec's formats do not read."""
    problems: list[str] = []
    warnings: list[str] = []
    for fld in (f for f in DATE_FIELDS if f"unparsed:{f}" in issues and f in fields):
        bad = issues[f"unparsed:{fld}"].to_numpy(dtype=bool)
        filled = int(fields[fld].notna().sum())
        if filled < MIN_VALUES or bad.sum() <= MOST * filled:
            continue
        values = fields.loc[bad, fld].dropna().astype(str).unique()
        fmt, months = suggest_date_format(values, spec.month_names)
        column = names.get(fld, fld)
        where = locate(file, sheet or None, column=column)
        tried = list(dict.fromkeys(spec.formats_for(fld)))
        shown = ", ".join(repr(v) for v in values[:EXAMPLES])
        key = f"dates.columns.{column}" if column in spec.dates.columns or fld in spec.dates.columns else "dates.formats"
        fix = (f"'{fmt}' reads them: add it under {key} in source spec {spec.path.name}"
               + (" and add dates.month_names (januari: 1, ...)" if months else "")
               if fmt else f"no common format reads them; write their format under {key} in source spec "
                           f"{spec.path.name}")
        line = (f"{where} ({fld}): {int(bad.sum())} of {filled} dates do not parse with the spec's formats "
                f"{tried} (e.g. {shown}); {fix}")
        (problems if bad.sum() == filled else warnings).append(line)
    return problems, warnings


def fit_problems(spec: SourceSpec, raw_dir: Path) -> list[str]:
    """Whether a spec fits the deliveries in ``raw_dir``, without ingesting: every file found and
    readable, its columns the spec's, its date columns read by the spec's formats; one line per
    problem (the date warnings included)."""
    from lvv_eval.ingest.mapping import (
        check_columns,
        convert_fields,
        rename_to_fields,
        spec_columns,
    )
    from lvv_eval.ingest.readers import find_files, read_file

    lines: list[str] = []
    for fs in spec.files:
        try:
            paths = find_files(raw_dir, fs, spec.path)
        except IngestError as exc:
            lines.append(str(exc))
            continue
        for path in paths:
            rel = path.relative_to(raw_dir).as_posix()
            try:
                tables = read_file(path, rel, fs, [*spec_columns(spec), *spec.ignore_columns], spec.path.name)
                for table in tables:
                    check_columns(table, spec)
                    fields, names = rename_to_fields(table.frame, spec)
                    _, issues = convert_fields(fields, spec, table.constants)
                    problems, warnings = date_findings(fields, issues, spec, names, table.file, table.sheet)
                    lines += problems + warnings
            except IngestError as exc:
                lines.append(str(exc))
    return lines
