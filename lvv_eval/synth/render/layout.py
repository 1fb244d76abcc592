"""Delivery layouts: the municipalities' own vocabularies, loaded from ``synth/layouts/*.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lvv_eval.vocabulary import COUNTRIES_YAML, check_language, load_vocabulary_table

LAYOUTS_DIR = Path(__file__).resolve().parent.parent / "layouts"
FORMATS = ("xlsx", "csv", "csv_long")
ENCODERS = ("text", "label", "bool", "int", "date", "year", "country", "code")


class LayoutError(ValueError):
    """A layout YAML file is incomplete or inconsistent."""


@dataclass(frozen=True)
class ColumnSpec:
    """One raw column: its header, the logical field it shows, and how values are written."""

    header: str
    field: str
    encode: str
    options: dict[str, Any]


@dataclass(frozen=True)
class EventSpec:
    """One event type of a long-format delivery (Groningen)."""

    name: str
    label: str
    date_field: str
    present_if: str | None
    columns: tuple[ColumnSpec, ...]


@dataclass(frozen=True)
class Layout:
    """Everything the renderer needs to know about one municipality's delivery."""

    pilot: str
    folder: str
    format: str
    file_name: str
    columns: tuple[ColumnSpec, ...]
    path: Path
    raw: dict[str, Any] = field(repr=False)

    @property
    def faults(self) -> dict[str, int]:
        """Requested number of injected faults per fault type."""
        return dict(self.raw.get("faults") or {})

    @property
    def fault_values(self) -> dict[str, Any]:
        """Raw values and column choices the fault injector uses."""
        return dict(self.raw.get("fault_values") or {})

    @property
    def sheets(self) -> dict[str, Any]:
        """Sheet split (``by`` a field, ``names`` per value, or ``all``)."""
        return dict(self.raw.get("sheets") or {"names": {"all": "Blad1"}})

    @property
    def implied(self) -> dict[str, str]:
        """Stays fields not shown in a column and where a reader finds them."""
        return dict(self.raw.get("implied") or {})

    @property
    def events(self) -> tuple[EventSpec, ...]:
        """Event types of a long-format delivery (empty for wide layouts)."""
        return tuple(
            EventSpec(
                name=e["name"],
                label=e["label"],
                date_field=e["date_field"],
                present_if=e.get("present_if"),
                columns=tuple(_column(c, self.path) for c in e.get("columns", [])),
            )
            for e in self.raw.get("events", [])
        )

    def column(self, header: str) -> ColumnSpec:
        """The column with this header (wide layouts and long-format event columns)."""
        for col in self.all_columns():
            if col.header == header:
                return col
        raise LayoutError(f"{self.path.name}: no column with header {header!r}")

    def all_columns(self) -> tuple[ColumnSpec, ...]:
        """Every column spec, including long-format key, date and event columns."""
        cols = list(self.columns)
        for ev in self.events:
            cols.extend(ev.columns)
        return tuple(cols)


def _column(spec: dict[str, Any], path: Path) -> ColumnSpec:
    try:
        header, fld, enc = spec["header"], spec["field"], spec["encode"]
    except KeyError as exc:
        raise LayoutError(f"{path.name}: column {spec!r} lacks key {exc}") from None
    if enc not in ENCODERS:
        raise LayoutError(f"{path.name}: column {header!r} has unknown encode {enc!r}")
    # YAML 1.1 reads the keys true/false as booleans; the layouts mean the words.
    options = {
        ("true" if k is True else "false" if k is False else k): v
        for k, v in spec.items()
        if k not in ("header", "field", "encode")
    }
    return ColumnSpec(str(header), str(fld), str(enc), options)


def _read_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise LayoutError(f"{path}: expected a mapping at the top level")
    return data


def load_layout(path: Path) -> Layout:
    """Read and check one layout file (a municipal delivery names its ``pilot``; a chain register
    extract its ``register``)."""
    raw = _read_yaml(path)
    owner = "pilot" if "pilot" in raw or "register" not in raw else "register"
    for key in (owner, "folder", "format", "file_name"):
        if key not in raw:
            raise LayoutError(f"{path.name}: missing top-level key {key!r}")
    if raw["format"] not in FORMATS:
        raise LayoutError(f"{path.name}: format {raw['format']!r} not one of {FORMATS}")
    columns = tuple(_column(c, path) for c in raw.get("columns", []))
    if raw["format"] == "csv_long":
        columns = (_column(raw["key_column"], path),)
    return Layout(
        pilot=str(raw.get("pilot", "")),
        folder=raw["folder"],
        format=raw["format"],
        file_name=raw["file_name"],
        columns=columns,
        path=path,
        raw=raw,
    )


def country_spellings(language: str) -> dict[str, list[str]]:
    """ISO alpha-3 code -> the country names registration staff type in ``language`` (the
    usual one first), from the toolkit's one country table, which the ingest reads too."""
    try:
        return load_vocabulary_table(COUNTRIES_YAML).spellings(check_language(language))
    except ValueError as exc:
        raise LayoutError(f"country column: {exc}") from None


def load_layouts(directory: Path = LAYOUTS_DIR) -> dict[str, Layout]:
    """Every pilot layout in ``directory``, keyed by pilot name."""
    layouts = {}
    for path in sorted(directory.glob("*.yaml")):
        layout = load_layout(path)
        if layout.pilot in layouts:
            raise LayoutError(f"{path.name}: a second layout for pilot {layout.pilot}")
        layouts[layout.pilot] = layout
    return layouts
