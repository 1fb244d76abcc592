"""Turn logical (contract) values into the raw cell values a municipality would type.

Every encoder is vectorised over a pandas Series and returns an :class:`EncodedColumn`: an object
array of Python values (``str``, ``int`` or ``None`` for an empty cell) and, for Excel, which
cells are numbers to be shown with a date format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.synth.render.layout import ColumnSpec, Layout, LayoutError, country_spellings

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
VARIANT_SHARE = 0.15  # share of cells written with a non-main spelling variant


@dataclass
class EncodedColumn:
    """Raw cell values of one column."""

    values: np.ndarray  # object: str | int | None
    date_cells: np.ndarray | None = None  # bool: numeric cell shown as a date (Excel)
    sentinel: np.ndarray | None = None  # bool: unknown value written as a sentinel code

    def __post_init__(self) -> None:
        if self.values.dtype != object or not self.values.flags.writeable:
            self.values = np.array(self.values, dtype=object)

    def display(self, i: int) -> str:
        """The cell as a reader sees it: ISO date for date cells, '' for an empty cell."""
        v = self.values[i]
        if v is None:
            return ""
        if self.date_cells is not None and self.date_cells[i]:
            return serial_to_iso(int(v))
        return str(v)


def serial_to_iso(serial: int) -> str:
    """Excel (1900 system) serial number to an ISO date string."""
    return (EXCEL_EPOCH + pd.Timedelta(days=serial)).strftime("%Y-%m-%d")


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def pick_variants(
    keys: pd.Series, variants: dict[str, list[str]], rng: np.random.Generator, missing: Any
) -> np.ndarray:
    """Per row, the main spelling of its key (mostly) or one of the variants; missing keys -> ``missing``."""
    n = len(keys)
    out = np.full(n, missing, dtype=object)
    u = rng.random(n)
    present = keys.notna().to_numpy()
    if not present.any():
        return out
    str_keys = keys.astype(object).where(keys.notna(), None).to_numpy()
    uniq = pd.unique(str_keys[present])
    for key in uniq:
        try:
            options = variants[str(key)]
        except KeyError:
            raise LayoutError(f"no raw label for value {key!r}") from None
        rows = np.flatnonzero(present & (str_keys == key))
        if len(options) == 1:
            out[rows] = options[0]
            continue
        ur = u[rows]
        idx = np.where(
            ur < 1 - VARIANT_SHARE,
            0,
            1 + ((ur - (1 - VARIANT_SHARE)) / VARIANT_SHARE * (len(options) - 1)).astype(int),
        )
        idx = np.minimum(idx, len(options) - 1)
        out[rows] = np.asarray(options, dtype=object)[idx]
    return out


def _missing(spec: ColumnSpec, default: Any = None) -> Any:
    value = spec.options.get("missing", default)
    return None if value == "" else value


def _sentinel_mask(spec: ColumnSpec, values: pd.Series) -> np.ndarray | None:
    if spec.options.get("sentinel"):
        return values.isna().to_numpy()
    return None


def encode_text(values: pd.Series, spec: ColumnSpec, **_: Any) -> EncodedColumn:
    """Text as is (ids)."""
    arr = values.astype(object).where(values.notna(), None).to_numpy()
    return EncodedColumn(arr)


def encode_label(values: pd.Series, spec: ColumnSpec, rng: np.random.Generator, **_: Any) -> EncodedColumn:
    """Category codes to the municipality's labels, with spelling variants."""
    variants = {k: _as_list(v) for k, v in spec.options["labels"].items()}
    arr = pick_variants(values, variants, rng, _missing(spec))
    return EncodedColumn(arr, sentinel=_sentinel_mask(spec, values))


def encode_bool(values: pd.Series, spec: ColumnSpec, rng: np.random.Generator, **_: Any) -> EncodedColumn:
    """Booleans to flags such as J/N, ja/nee or '24-uurs'/'nachtopvang'."""
    keys = values.astype("boolean").map({True: "T", False: "F"}, na_action="ignore")
    variants = {"T": _as_list(spec.options["true"]), "F": _as_list(spec.options["false"])}
    arr = pick_variants(keys.astype(object), variants, rng, _missing(spec))
    return EncodedColumn(arr, sentinel=_sentinel_mask(spec, values))


def encode_int(values: pd.Series, spec: ColumnSpec, **_: Any) -> EncodedColumn:
    """Whole numbers; unknown as empty or as the layout's sentinel (e.g. -99)."""
    ints = values.astype("Int64")
    arr = np.full(len(ints), _missing(spec), dtype=object)
    ok = ints.notna().to_numpy()
    arr[ok] = ints[ok].astype("int64").to_numpy().tolist()
    return EncodedColumn(arr, sentinel=_sentinel_mask(spec, values))


def _serials(dates: pd.Series) -> np.ndarray:
    days = (dates - EXCEL_EPOCH).dt.days
    arr = np.full(len(dates), None, dtype=object)
    ok = dates.notna().to_numpy()
    arr[ok] = days[ok].astype("int64").to_numpy().tolist()
    return arr


def _text_dates(dates: pd.Series, fmt: str) -> np.ndarray:
    arr = np.full(len(dates), None, dtype=object)
    ok = dates.notna().to_numpy()
    arr[ok] = dates[ok].dt.strftime(fmt).to_numpy(dtype=object)
    return arr


def _month_name_dates(dates: pd.Series, fmt: str, month_names: list[str]) -> np.ndarray:
    arr = np.full(len(dates), None, dtype=object)
    ok = dates.notna().to_numpy()
    d = dates[ok]
    days, months, years = d.dt.day.to_numpy(), d.dt.month.to_numpy(), d.dt.year.to_numpy()
    arr[ok] = [
        fmt.format(day=dd, month=month_names[mm - 1], year=yy)
        for dd, mm, yy in zip(days, months, years, strict=True)
    ]
    return arr


def _date_style(dates: pd.Series, style: dict[str, Any], layout: Layout) -> tuple[np.ndarray, bool]:
    kind = style["style"]
    if kind in ("serial", "cell"):
        return _serials(dates), kind == "cell"
    if kind == "text":
        return _text_dates(dates, style["format"]), False
    if kind == "month_name":
        names = layout.raw.get("month_names")
        if not names or len(names) != 12:
            raise LayoutError(f"{layout.path.name}: style month_name needs 12 month_names")
        return _month_name_dates(dates, style["format"], names), False
    raise LayoutError(f"{layout.path.name}: unknown date style {kind!r}")


def encode_date(
    values: pd.Series, spec: ColumnSpec, rng: np.random.Generator, layout: Layout, **_: Any
) -> EncodedColumn:
    """Dates as Excel serials, date cells, text in a format, or a mix of these per cell."""
    dates = pd.to_datetime(values)
    style = spec.options.get("style", "cell")
    if style != "mixed":
        arr, is_cell = _date_style(dates, spec.options, layout)
        cells = np.full(len(arr), is_cell) & (arr != None)  # noqa: E711
        return EncodedColumn(arr, date_cells=cells if is_cell else None)
    styles = spec.options["styles"]
    weights = np.array([s["weight"] for s in styles], dtype=float)
    choice = rng.choice(len(styles), size=len(dates), p=weights / weights.sum())
    arr = np.full(len(dates), None, dtype=object)
    cells = np.zeros(len(dates), dtype=bool)
    for k, style_k in enumerate(styles):
        rows = choice == k
        if not rows.any():
            continue
        part, is_cell = _date_style(dates[rows], style_k, layout)
        arr[rows] = part
        if is_cell:
            cells[rows] = dates[rows].notna().to_numpy()
    return EncodedColumn(arr, date_cells=cells)


def encode_year(values: pd.Series, spec: ColumnSpec, **_: Any) -> EncodedColumn:
    """Year of a date (Eindhoven keeps the birth year only)."""
    return encode_int(pd.to_datetime(values).dt.year.astype("Int64"), spec)


def encode_country(values: pd.Series, spec: ColumnSpec, rng: np.random.Generator, **_: Any) -> EncodedColumn:
    """ISO alpha-3 codes to country names in the column's language, with the spelling variants
    of the toolkit's one country table (``sources/vocab/countries.yaml``, which the ingest reads
    too); unknown countries are written as the column's ``missing`` (default: an empty cell)."""
    variants = country_spellings(spec.options["language"])
    arr = pick_variants(values, variants, rng, _missing(spec))
    return EncodedColumn(arr, sentinel=_sentinel_mask(spec, values))


def codebook_for(layout: Layout, file_name: str) -> dict[str, Any]:
    """The code book with this file name in the layout."""
    for book in layout.raw.get("codebooks", []):
        if book["file_name"] == file_name:
            return book
    raise LayoutError(f"{layout.path.name}: no code book {file_name!r}")


def encode_code(values: pd.Series, spec: ColumnSpec, layout: Layout, **_: Any) -> EncodedColumn:
    """Category values to the numeric codes of a code book file."""
    book = codebook_for(layout, spec.options["codebook"])
    codes = {str(e["value"]): int(e["code"]) for e in book["entries"]}
    keys = values.astype(object).where(values.notna(), None)
    unknown = set(keys.dropna().unique()) - set(codes)
    if unknown:
        raise LayoutError(f"{layout.path.name}: code book {book['file_name']} lacks {sorted(unknown)}")
    arr = keys.map(codes).astype(object).where(keys.notna(), _missing(spec)).to_numpy()
    arr = np.array([None if v is None else int(v) for v in arr], dtype=object)
    return EncodedColumn(arr)


ENCODER_FUNCTIONS = {
    "text": encode_text,
    "label": encode_label,
    "bool": encode_bool,
    "int": encode_int,
    "date": encode_date,
    "year": encode_year,
    "country": encode_country,
    "code": encode_code,
}


def encode_column(
    values: pd.Series, spec: ColumnSpec, layout: Layout, rng: np.random.Generator
) -> EncodedColumn:
    """Encode one logical column into raw cells as the layout says."""
    try:
        return ENCODER_FUNCTIONS[spec.encode](
            values.reset_index(drop=True), spec, rng=rng, layout=layout
        )
    except LayoutError as exc:
        raise LayoutError(f"{layout.path.name}, column {spec.header!r}: {exc}") from None
