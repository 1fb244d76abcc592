"""Writing raw tables: Excel workbooks (XlsxWriter, constant-memory, deterministic) and CSV files.

Excel rows are written as pre-built XML row strings through a small XlsxWriter worksheet subclass
(:class:`PreparedRowWorksheet`): XlsxWriter's per-cell ``write()`` dispatch is the bottleneck at a
million rows, while the workbook packaging (styles, zip, fixed timestamps) stays XlsxWriter's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from lvv_eval.synth.render.encode import EncodedColumn

EXCEL_MAX_ROWS = 1_048_576
FIXED_CREATED = dt.datetime(2022, 7, 1, 9, 0, 0)  # document property: same bytes for the same seed
DATE_NUM_FORMAT = "dd-mm-yyyy"


@dataclass
class RawSheet:
    """One sheet (or one CSV file): title lines, a header row and encoded data columns."""

    name: str
    headers: list[str]
    columns: list[EncodedColumn]
    title: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.columns[0].values) if self.columns else 0

    @property
    def first_data_row(self) -> int:
        """1-based row (line) number of the first data row, as a spreadsheet user sees it."""
        return len(self.title) + 2


def _escape(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    for i, v in enumerate(values):
        if "&" in v or "<" in v or ">" in v:
            out[i] = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return out


def _cell_fragments(col: EncodedColumn, letter: str, row_numbers: np.ndarray, date_xf: int) -> np.ndarray:
    """The ``<c>`` XML of every cell of one column ('' for empty cells)."""
    vals = col.values
    n = len(vals)
    frags = np.full(n, "", dtype=object)
    kinds = np.fromiter((0 if v is None else (1 if type(v) is str else 2) for v in vals), np.int8, n)
    is_str = kinds == 1
    if is_str.any():
        text = _escape(vals[is_str])
        refs = row_numbers[is_str]
        frags[is_str] = [
            f'<c r="{letter}{r}" t="inlineStr"><is><t xml:space="preserve">{t}</t></is></c>'
            if t[:1] == " " or t[-1:] == " "
            else f'<c r="{letter}{r}" t="inlineStr"><is><t>{t}</t></is></c>'
            for r, t in zip(refs.tolist(), text.tolist(), strict=True)
        ]
    is_num = kinds == 2
    if is_num.any():
        dates = col.date_cells[is_num] if col.date_cells is not None else np.zeros(int(is_num.sum()), bool)
        style = f' s="{date_xf}"'
        frags[is_num] = [
            f'<c r="{letter}{r}"{style if d else ""}><v>{v}</v></c>'
            for r, v, d in zip(row_numbers[is_num].tolist(), vals[is_num].tolist(), dates.tolist(), strict=True)
        ]
    return frags


def xml_rows(sheet: RawSheet, first_row: int, date_xf: int) -> list[str]:
    """``<row>`` XML strings of the data rows, starting at 1-based row ``first_row``."""
    numbers = np.arange(first_row, first_row + sheet.n_rows)
    row_numbers = numbers.astype(str).astype(object)
    frags = [
        _cell_fragments(col, xl_col_to_name(j), row_numbers, date_xf)
        for j, col in enumerate(sheet.columns)
    ]
    return [
        f'<row r="{r}">' + "".join(cells) + "</row>"
        for r, cells in zip(row_numbers.tolist(), zip(*frags, strict=True), strict=True)
    ]


class PreparedRowWorksheet(Worksheet):
    """An XlsxWriter worksheet that also accepts whole rows as ready XML (constant_memory only)."""

    def write_xml_rows(self, first_row: int, rows: Sequence[str], n_cols: int) -> None:
        """Append ``rows`` (``<row>`` XML) starting at 0-based ``first_row``."""
        if not self.constant_memory:
            raise RuntimeError("write_xml_rows needs a workbook in constant_memory mode")
        if not rows:
            return
        last_row = first_row + len(rows) - 1
        if last_row >= self.xls_rowmax:
            raise ValueError(f"sheet {self.name!r}: row {last_row + 1} beyond Excel's limit")
        self._write_single_row(first_row)  # flush rows written the ordinary way (title, header)
        self._check_dimensions(first_row, 0)
        self._check_dimensions(last_row, n_cols - 1)
        write = self.fh.write
        for start in range(0, len(rows), 10_000):
            write("".join(rows[start : start + 10_000]))
        self.previous_row = last_row + 1


def write_workbook(path: Path, sheets: Sequence[RawSheet], title_property: str) -> None:
    """Write an .xlsx file with these sheets; identical input gives identical bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "in_memory": False})
    workbook.set_properties(
        {"title": title_property, "author": "lvv-eval synth (SYNTHETIC)", "created": FIXED_CREATED}
    )
    date_format = workbook.add_format({"num_format": DATE_NUM_FORMAT})
    bold = workbook.add_format({"bold": True})
    date_xf = date_format._get_xf_index()
    for sheet in sheets:
        ws = workbook.add_worksheet(sheet.name, worksheet_class=PreparedRowWorksheet)
        ws.set_column(0, max(len(sheet.headers) - 1, 0), 16)
        for i, line in enumerate(sheet.title):
            if line:
                ws.write_string(i, 0, line, bold if i == 0 else None)
        header_row = len(sheet.title)
        ws.write_row(header_row, 0, sheet.headers, bold)
        ws.write_xml_rows(header_row + 1, xml_rows(sheet, header_row + 2, date_xf), len(sheet.headers))
    workbook.close()


def _csv_field(value: object, sep: str) -> str:
    if value is None:
        return ""
    text = str(value)
    if sep in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(sheet: RawSheet, sep: str, line_terminator: str) -> str:
    """The CSV text of a sheet: header line, then one line per data row."""
    cols = [[_csv_field(v, sep) for v in col.values.tolist()] for col in sheet.columns]
    lines = [sep.join(_csv_field(h, sep) for h in sheet.headers)]
    lines.extend(sep.join(row) for row in zip(*cols, strict=True))
    return line_terminator.join(lines) + line_terminator


def write_csv(path: Path, sheet: RawSheet, sep: str, encoding: str, line_terminator: str) -> None:
    """Write a CSV file in the given encoding; a character the encoding lacks is an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if sheet.title:
        raise ValueError(f"{path.name}: CSV deliveries have no title block")
    text = csv_text(sheet, sep, line_terminator)
    try:
        data = text.encode(encoding, errors="strict")
    except UnicodeEncodeError:
        raise ValueError(_unencodable_cell(path, sheet, encoding)) from None
    path.write_bytes(data)


def _unencodable_cell(path: Path, sheet: RawSheet, encoding: str) -> str:
    """Which cell (line and column) has a character the file's encoding cannot write."""
    for j, header in enumerate(sheet.headers):
        try:
            header.encode(encoding)
        except UnicodeEncodeError:
            return f"{path.name}, line 1, header {header!r}: not representable in {encoding}"
        for i, value in enumerate(sheet.columns[j].values.tolist()):
            try:
                str(value).encode(encoding)
            except UnicodeEncodeError:
                return (f"{path.name}, line {i + sheet.first_data_row}, column {header!r}: value "
                        f"{value!r} is not representable in {encoding}")
    return f"{path.name}: text not representable in {encoding}"
