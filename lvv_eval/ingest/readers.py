"""Readers driven by a source spec: Excel sheets (calamine) and delimited text (pyarrow).

Every reader returns a :class:`RawTable`: the data rows as text (pandas ``str`` columns named
by the raw headers, empty cells missing) plus the provenance columns ``_file``, ``_sheet`` and
``_row`` (the row number a spreadsheet user sees, header included). Nothing is interpreted here.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import python_calamine as calamine

from lvv_eval.config import SOURCES_DIR, user_specs_dir
from lvv_eval.ingest.errors import IngestError, locate
from lvv_eval.ingest.spec import FileSpec, SheetSpec
from lvv_eval.provenance import check_marker

META_COLUMNS: tuple[str, ...] = ("_file", "_sheet", "_row")
HEADER_SEARCH_ROWS = 10  # rows searched for the header beyond the one the spec names
BOMS = {b"\xff\xfe": "UTF-16 (little-endian)", b"\xfe\xff": "UTF-16 (big-endian)"}
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class RawTable:
    """The data rows of one sheet or text file, as text, with provenance."""

    file: str
    sheet: str
    header_row: int
    frame: pd.DataFrame
    constants: dict
    footer_rows: int = 0

    @property
    def columns(self) -> list[str]:
        """Raw column headers, in file order."""
        return [c for c in self.frame.columns if not c.startswith("_")]


def find_files(raw_dir: Path, spec_file: FileSpec, spec_path: Path) -> list[Path]:
    """Files under ``raw_dir`` matching the spec's pattern; an error when there are none."""
    found = sorted(p for p in raw_dir.glob(spec_file.pattern) if p.is_file())
    if not found:
        package = Path(spec_path).resolve().is_relative_to(SOURCES_DIR)
        hint = (f" The package's specs describe the SYNTHETIC default: for real deliveries put your own specs in "
                f"{user_specs_dir()} or name their folder with --specs-dir (docs/SOURCE_SPECS.md)."
                if package and not check_marker(raw_dir).valid else "")
        raise IngestError(
            f"missing file: nothing in {raw_dir} matches '{spec_file.pattern}' (source spec "
            f"{spec_path.name}). Put the delivery there or correct the pattern in the spec.{hint}"
        )
    return found


def _check_header(header: list[str], where: str) -> None:
    if not any(header):
        raise IngestError(f"empty file: {where} has no header row. Check the file and the spec's header_row.")
    blank = [i + 1 for i, h in enumerate(header) if not h]
    if blank:
        raise IngestError(f"{where}: column number {blank[0]} has no header (a blank header cell between "
                          f"named columns). Give the column a name in the file, or delete it.")
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise IngestError(f"{where}: duplicate column header(s) {dupes}. Rename them in the file.")


def _frame(file: str, sheet: str, rows: pd.DataFrame, first_row: int, row_numbers=None) -> pd.DataFrame:
    out = rows
    out["_file"] = file
    out["_sheet"] = sheet
    out["_row"] = row_numbers if row_numbers is not None else range(first_row, first_row + len(out))
    out["_row"] = out["_row"].astype("int64")
    return out


def _header_cells(cells: list) -> list[str]:
    """Header cells as text, stray byte-order marks removed (a BOM is never part of a name)."""
    return [("" if c is None else str(c)).replace("\ufeff", "").strip() for c in cells]


def find_header_row(rows: list[list], declared: int, expected: Collection[str], where: str, spec_name: str,
                    search: int = HEADER_SEARCH_ROWS, hint: str = "") -> int:
    """The 1-based row that holds the header: the declared one, or (title rows above it) the row
    within ``search`` rows below it that names more of the ``expected`` columns. An error when no
    row names any of them, showing what the declared row holds and ``hint`` (a likely fix)."""
    if not expected:
        return declared
    wanted = set(expected)
    last = min(len(rows), declared + search)
    scores = {i + 1: len(wanted & set(_header_cells(rows[i]))) for i in range(last)}
    best = max(scores, key=lambda r: (scores[r], r == declared)) if scores else declared
    if scores.get(best, 0) == 0:
        found = _header_cells(rows[declared - 1]) if len(rows) >= declared else []
        further = next((i + 1 for i in range(last, len(rows)) if wanted & set(_header_cells(rows[i]))), None)
        if not hint and further is not None:
            hint = (f" The spec's column names are on row {further}: set header_row: {further} "
                    f"(or header_search_rows: {further - declared}) in source spec {spec_name}.")
        raise IngestError(
            f"no header: {where}: none of the {len(wanted)} column names of source spec {spec_name} is on row "
            f"{declared} or the {search} rows after it. Row {declared} holds {_shown(found, wanted)}.{hint or ' The header row is missing (the first row holds data) or the file has another layout: restore the header row, or correct the spec.'}")
    if scores[best] > scores.get(declared, 0):
        return best
    return declared


def _shown(cells: list[str], wanted: Collection[str]) -> str:
    """What a row holds, without showing cells that may be data: their number, and the cells
    that are spelled like one of the spec's column names."""
    filled = [c for c in cells if c]
    if not filled:
        return "nothing"
    close = [f"'{c[:60]}' (like '{m[0]}')" for c in filled
             for m in [difflib.get_close_matches(c, list(wanted), n=1, cutoff=0.75)] if m]
    return f"{len(filled)} filled cell(s)" + (f", close to the spec's names: {', '.join(close[:8])}" if close
                                              else ", none spelled like the spec's column names")


DELIMITERS = (";", ",", "\t", "|")


def delimiter_hint(lines: list[str], delimiter: str, expected: Collection[str], spec_name: str) -> str:
    """A likely fix when another delimiter splits the first lines into the spec's column names."""
    wanted = set(expected)
    for other in (d for d in DELIMITERS if d != delimiter):
        for number, line in enumerate(lines, start=1):
            cells = _header_cells(next(csv.reader([line], delimiter=other), []))
            if wanted & set(cells):
                shown = "\\t" if other == "\t" else other
                return (f" With delimiter '{shown}' row {number} holds the spec's column names: set "
                        f"delimiter: \"{shown}\" in source spec {spec_name}.")
    return ""


def header_note(table: RawTable, declared: int) -> str | None:
    """A line for the data manager when the header was found on another row than the spec says."""
    if table.header_row == declared:
        return None
    where = locate(table.file, table.sheet or None)
    return (f"{where}: the header is on row {table.header_row}, not on row {declared} as the source spec says "
            f"(title rows above it); read from row {table.header_row}")


def footer_note(table: RawTable, spec_name: str) -> str | None:
    """A line for the data manager when footer rows were left out (they are not counted as rows)."""
    if not table.footer_rows:
        return None
    return (f"{locate(table.file, table.sheet or None)}: {table.footer_rows} footer row(s) left out "
            f"(source spec {spec_name}, files[].footer)")


# ---- delimited text -------------------------------------------------------------------------

def _check_byte_order(data: bytes, rel: str, encoding: str) -> None:
    """Name an encoding that differs from the spec's by the file's byte-order mark or NUL bytes."""
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    utf16 = encoding.lower().replace("_", "-").startswith("utf-16")
    for bom, name in BOMS.items():
        if data.startswith(bom) and not utf16:
            raise IngestError(f"wrong encoding: {locate(rel)} is {name} (it starts with that byte-order mark), but "
                              f"the source spec says {encoding}. Re-export the file as {encoding}, or set "
                              f"encoding: utf-16 in the spec.")
    if not utf16 and data[:1000].count(b"\x00") > 10:
        raise IngestError(f"wrong encoding: {locate(rel)} holds NUL bytes between its characters, as UTF-16 text "
                          f"does, but the source spec says {encoding}. Re-export the file as {encoding}.")
    if data.startswith(UTF8_BOM) and not utf8:
        raise IngestError(f"wrong encoding: {locate(rel)} starts with a UTF-8 byte-order mark (it was saved as "
                          f"UTF-8), but the source spec says {encoding}. Re-export the file as {encoding}, or set "
                          f"encoding: utf-8 in the spec.")


def _decode(path: Path, rel: str, encoding: str) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise IngestError(f"empty file: {locate(rel)} has no content. Ask the municipality for the delivery again.")
    _check_byte_order(data, rel, encoding)
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IngestError(
            f"undecodable encoding: {locate(rel, row=line)} is not valid {encoding} (byte "
            f"{data[exc.start:exc.start + 1]!r} at offset {exc.start}). Set the right 'encoding' in "
            f"the source spec or re-export the file."
        ) from exc
    except LookupError as exc:
        raise IngestError(f"{locate(rel)}: unknown encoding {encoding!r} in the source spec.") from exc


def read_text(path: Path, rel: str, spec_file: FileSpec, expected: Collection[str] = (),
              spec_name: str = "") -> RawTable:
    """Read a delimited text file as text columns with line numbers; the header is searched for
    among the first lines when ``expected`` (the spec's column names) is given."""
    text = _decode(path, rel, spec_file.encoding)
    lines = text.splitlines()
    if len(lines) < spec_file.header_row:
        raise IngestError(f"empty file: {locate(rel)} has no header on line {spec_file.header_row}.")
    search = getattr(spec_file, "header_search_rows", HEADER_SEARCH_ROWS)
    first = [next(csv.reader([line], delimiter=spec_file.delimiter), []) for line in
             lines[: max(200, spec_file.header_row + search + 1)]]
    hint = ""
    if expected and not any(set(expected) & set(_header_cells(r)) for r in first[: spec_file.header_row + search]):
        hint = delimiter_hint(lines[: spec_file.header_row + search], spec_file.delimiter, expected, spec_name)
    header_row = find_header_row(first, spec_file.header_row, expected, locate(rel), spec_name, search, hint)
    skip = header_row - 1
    header = _header_cells(first[skip])
    while header and not header[-1]:  # a line ending in the delimiter: no extra column
        header.pop()
    _check_header(header, locate(rel))
    body = lines[skip + 1 :]
    if not any(line.strip() for line in body):
        raise IngestError(f"empty file: {locate(rel)} has a header but no data rows.")
    rows = _read_regular(text, skip, header, spec_file.delimiter) if all(line.strip() for line in body) else None
    if rows is None:  # blank lines or rows of another width: parse line by line
        rows = _read_irregular(body, skip, header, spec_file.delimiter)
    for c in header:
        rows[c] = rows[c].astype("str")
    numbers = rows.pop("_line") if "_line" in rows else None
    return RawTable(rel, "", header_row, _frame(rel, "", rows, header_row + 1, numbers), dict(spec_file.constants))


def _read_regular(text: str, skip: int, header: list[str], delimiter: str) -> pd.DataFrame | None:
    """Fast path (pyarrow) for a file whose every line is a row of the header's width."""
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(skip_rows=skip + 1, column_names=header),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid:
        return None
    return table.to_pandas()


def _read_irregular(body: list[str], skip: int, header: list[str], delimiter: str) -> pd.DataFrame:
    """Line by line, keeping line numbers; a row whose width differs from the header's is kept
    (padded, extra fields in ``_extra``) and marked ``_malformed`` for the rules to quarantine."""
    keep = [(skip + 2 + i, line) for i, line in enumerate(body) if line.strip()]
    # each line on its own, so that a stray quote cannot swallow the lines after it
    parsed = [next(csv.reader([line], delimiter=delimiter)) for _, line in keep]
    width = len(header)
    malformed = [len(r) != width and not (len(r) > width and not any(c.strip() for c in r[width:]))
                 for r in parsed]
    extra = [delimiter.join(r[width:]) if len(r) > width else "" for r in parsed]
    rows = pd.DataFrame([(r + [""] * width)[:width] for r in parsed], columns=header, dtype="str")
    rows = rows.replace("", None)
    rows["_line"] = [n for n, _ in keep]
    if any(malformed):
        rows["_malformed"] = malformed
        rows["_extra"] = pd.Series(extra, dtype="str").replace("", None)
    return rows


# ---- Excel ----------------------------------------------------------------------------------

def _cell_text(value: object) -> str | None:
    if value == "" or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _numbers_text(values: np.ndarray) -> np.ndarray:
    num = values.astype("float64")
    whole = np.isfinite(num) & (np.floor(num) == num) & (np.abs(num) < 2**53)
    out = np.empty(len(num), dtype=object)
    out[whole] = num[whole].astype("int64").astype(str)
    out[~whole] = [repr(float(v)) for v in num[~whole]]
    return out


def _dates_text(values: np.ndarray, kind: str) -> np.ndarray:
    stamps = values.astype("datetime64[s]")
    days = stamps.astype("datetime64[D]")
    midnight = stamps == days
    out = np.where(midnight, days.astype(str), np.datetime_as_string(stamps).astype(object))
    return np.char.replace(out.astype(str), "T", " ").astype(object)


def column_text(values: tuple | list) -> pd.Series:
    """Cells of one Excel column as text: numbers without a spurious ``.0``, date cells as
    ISO dates, empty cells missing (same result as :func:`_cell_text` per cell, vectorised)."""
    arr = np.array(values, dtype=object)
    empty = (arr == "") | pd.isna(arr)
    filled = arr[~empty]
    kind = pd.api.types.infer_dtype(filled, skipna=False) if len(filled) else "empty"
    if kind == "string":
        text = filled
    elif kind in ("floating", "integer", "mixed-integer-float"):
        text = _numbers_text(filled)
    elif kind in ("date", "datetime"):
        text = _dates_text(filled, kind)
    else:
        text = np.array([_cell_text(v) for v in filled], dtype=object)
    out = np.full(len(arr), None, dtype=object)
    out[~empty] = text
    return pd.Series(out, dtype="str")


def read_sheet(path: Path, rel: str, sheet: SheetSpec, workbook: calamine.CalamineWorkbook,
               expected: Collection[str] = (), spec_name: str = "", search: int = HEADER_SEARCH_ROWS) -> RawTable:
    """Read one worksheet as text columns with the row numbers Excel shows (the header searched
    for among the first rows when ``expected`` is given: title rows above it are skipped)."""
    try:
        ws = workbook.get_sheet_by_name(sheet.name)
    except Exception as exc:  # calamine raises its own WorksheetNotFound
        raise IngestError(
            f"wrong sheet: {locate(rel)} has no sheet '{sheet.name}' (sheets: "
            f"{workbook.sheet_names}). Correct the sheet name in the source spec."
        ) from exc
    rows = ws.to_python(skip_empty_area=False)
    where = locate(rel, sheet.name)
    if len(rows) < sheet.header_row:
        raise IngestError(f"empty file: {where} has no header on row {sheet.header_row}.")
    header_row = find_header_row(rows[:max(200, sheet.header_row + search)], sheet.header_row, expected, where,
                                 spec_name, search)
    header = _header_cells(rows[header_row - 1])
    while header and not header[-1]:
        header.pop()
    _check_header(header, where)
    width = len(header)
    body = rows[header_row:]
    beyond = next((i for i, r in enumerate(body) if any(c != "" for c in r[width:])), None)
    if beyond is not None:
        raise IngestError(f"{locate(rel, sheet.name, header_row + 1 + beyond)}: cells to the right of the "
                          f"last named column (column {width}). Give that column a header or delete the cells.")
    if any(len(r) != width for r in body):
        body = [r[:width] + [""] * (width - len(r)) for r in body]
    columns = list(zip(*body, strict=True)) if body else [()] * width
    frame = pd.DataFrame({h: column_text(col) for h, col in zip(header, columns, strict=True) if h})
    frame["_row"] = np.arange(header_row + 1, header_row + 1 + len(frame), dtype="int64")
    filled = frame.drop(columns="_row").notna().any(axis=1).to_numpy()
    frame = frame[filled].reset_index(drop=True)  # blank rows are not data rows
    if frame.empty:
        raise IngestError(f"empty file: {where} has a header but no data rows.")
    numbers = frame.pop("_row")
    return RawTable(rel, sheet.name, header_row, _frame(rel, sheet.name, frame, 0, numbers),
                    dict(sheet.constants))


def open_workbook(path: Path, rel: str) -> calamine.CalamineWorkbook:
    """Open an Excel workbook, with a clear error when it is not one."""
    if path.stat().st_size == 0:
        raise IngestError(f"empty file: {locate(rel)} has no content.")
    try:
        return calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise IngestError(f"{locate(rel)} cannot be opened as an Excel workbook ({exc}). "
                          f"Check the file or the reader in the source spec.") from exc


def read_file(path: Path, rel: str, spec_file: FileSpec, expected: Collection[str] = (),
              spec_name: str = "") -> list[RawTable]:
    """All tables (one per sheet, or one for a text file) of one delivered file, footer rows
    left out, with the data cut date read from the file name when the spec says so."""
    if spec_file.reader == "csv":
        tables = [read_text(path, rel, spec_file, expected, spec_name)]
        tables[0].constants = {**spec_file.constants, **tables[0].constants}
    else:
        wb = open_workbook(path, rel)
        tables = []
        for sheet in spec_file.sheets:
            t = read_sheet(path, rel, sheet, wb, expected, spec_name,
                           getattr(spec_file, "header_search_rows", HEADER_SEARCH_ROWS))
            t.constants = {**spec_file.constants, **sheet.constants}
            tables.append(t)
    footer = getattr(spec_file, "footer", None)
    from_name = getattr(spec_file, "data_cut_date_from_name", None)
    for t in tables:
        if footer is not None and (footer.rows or footer.starts_with):
            t.frame, t.footer_rows = drop_footer(t.frame, footer.rows, footer.starts_with)
        if from_name is not None:
            t.constants["data_cut_date"] = date_from_name(rel, from_name.pattern, from_name.format, spec_name)
    return tables


def drop_footer(frame: pd.DataFrame, rows: int, starts_with: Collection[str]) -> tuple[pd.DataFrame, int]:
    """The frame without its last ``rows`` rows and without rows whose first filled cell starts
    with one of ``starts_with`` (ignoring case); with the number of rows left out."""
    data = [c for c in frame.columns if not c.startswith("_")]
    keep = np.ones(len(frame), dtype=bool)
    if rows:
        keep[max(0, len(frame) - rows):] = False
    if starts_with:
        words = tuple(w.strip().casefold() for w in starts_with)
        first = frame[data].bfill(axis=1).iloc[:, 0].astype("str").str.strip().str.casefold()
        keep &= ~first.fillna("").map(lambda v: v.startswith(words)).to_numpy(dtype=bool)
    dropped = int((~keep).sum())
    return (frame[keep].reset_index(drop=True) if dropped else frame), dropped


def date_from_name(rel: str, pattern: str, fmt: str, spec_name: str) -> str:
    """The date (ISO) that ``pattern`` finds in the file's name; an error naming the spec key
    when it finds none or the text is not a date in ``fmt``."""
    name = rel.rsplit("/", 1)[-1]
    match = re.search(pattern, name)
    if match is None:
        raise IngestError(f"{locate(rel)}: the file name does not match data_cut_date_from_name.pattern "
                          f"'{pattern}' of source spec {spec_name}; rename the file or correct the pattern.")
    text = match.groupdict().get("date") or match.group(1)
    try:
        return dt.datetime.strptime(text, fmt).date().isoformat()
    except ValueError:
        raise IngestError(f"{locate(rel)}: {text!r} from the file name is not a date in data_cut_date_from_name."
                          f"format {fmt!r} of source spec {spec_name}.") from None
