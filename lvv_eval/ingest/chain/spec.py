"""Chain source specs: one YAML file per extract layout, checked by a pydantic model.

A spec names its ``kind`` (``ind``: IND procedures, ``dtv``: DT&V departure cases, ``crosswalk``:
a municipality's client number -> V-number table), the register or pilot it comes from, the files
and how to read them (as municipal specs do), which raw column fills which field of the kind, the
labels of coded fields, date formats and constants. A new extract layout (another export of the
same register, another municipality's crosswalk) is one more YAML file in ``sources/chain/``.

Keys: ``name``, ``kind``, ``register`` (IND, DTV, or ``crosswalk``), ``pilot`` (crosswalks),
``description``, ``files`` (``pattern``, ``reader`` csv|excel, ``delimiter``, ``encoding``,
``header_row``, ``sheets``: [{``name``, ``header_row``}], ``constants``), ``columns`` (raw header
-> field), ``ignore_columns``, ``redact_columns`` (raw headers that hold identifiers, such as case
numbers: never written to any output, also not in the quarantine), ``labels`` (field -> {raw
label: value}), ``dates`` (``formats``, ``excel_serial``), ``constants`` (field -> value, e.g.
``extract_date``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lvv_eval.chain_schema import CHAIN_CATEGORIES
from lvv_eval.config import PILOTS, SOURCES_DIR
from lvv_eval.ingest.errors import SpecError
from lvv_eval.ingest.spec import FileSpec, SheetSpec, read_yaml

CHAIN_SOURCES_DIR = SOURCES_DIR / "chain"
# field -> type of every field a kind's raw columns can fill
KIND_FIELDS: dict[str, dict[str, str]] = {
    "ind": {"v_number": "text", "procedure": "label", "application_date": "date", "decision": "label",
            "decision_date": "date", "extract_date": "date"},
    "dtv": {"v_number": "text", "case_start_date": "date", "case_end_date": "date", "closure": "label",
            "departure_mode": "label", "destination": "label", "extract_date": "date"},
    "crosswalk": {"client_number": "text", "v_number": "text"},
}
# the output table of each kind
KIND_TABLES: dict[str, str] = {"ind": "chain_ind", "dtv": "chain_dtv", "crosswalk": "person_links"}
IDENTIFIER_FIELDS: tuple[str, ...] = ("v_number", "client_number")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChainSheet(_Strict):
    """One worksheet of an Excel extract."""

    name: str
    header_row: int = 1


class ChainFile(_Strict):
    """One kind of file of an extract: where it is and how to read it."""

    pattern: str
    reader: Literal["csv", "excel"]
    delimiter: str = ","
    encoding: str = "utf-8"
    header_row: int = 1
    sheets: tuple[ChainSheet, ...] = ()
    constants: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _excel_needs_sheets(self) -> ChainFile:
        if self.reader == "excel" and not self.sheets:
            raise ValueError(f"excel file {self.pattern!r} needs a 'sheets' list")
        return self

    def file_spec(self) -> FileSpec:
        """The reader's view of this file entry (shared with the municipal readers)."""
        return FileSpec(pattern=self.pattern, reader=self.reader, delimiter=self.delimiter,
                        encoding=self.encoding, header_row=self.header_row,
                        sheets=tuple(SheetSpec(name=s.name, header_row=s.header_row) for s in self.sheets),
                        constants=dict(self.constants))


class ChainDates(_Strict):
    """How dates are written."""

    formats: tuple[str, ...] = ("%Y-%m-%d",)
    excel_serial: bool = False


class ChainSpec(_Strict):
    """Everything the chain ingest needs to know about one extract layout."""

    name: str
    kind: Literal["ind", "dtv", "crosswalk"]
    register_name: str = Field(alias="register")
    pilot: str | None = None
    description: str = ""
    files: tuple[ChainFile, ...]
    columns: dict[str, str]
    ignore_columns: tuple[str, ...] = ()
    redact_columns: tuple[str, ...] = ()
    labels: dict[str, dict[str, str | None]] = Field(default_factory=dict)
    dates: ChainDates = ChainDates()
    constants: dict[str, str] = Field(default_factory=dict)
    path: Path = Path("<memory>")

    @model_validator(mode="after")
    def _consistent(self) -> ChainSpec:
        fields = KIND_FIELDS[self.kind]
        unknown = sorted({f for f in [*self.columns.values(), *self.constants] if f not in fields})
        if unknown:
            raise ValueError(f"fields {unknown} are not fields of kind {self.kind!r}: {sorted(fields)}")
        covered = set(self.columns.values()) | set(self.constants)
        missing = [f for f in fields if f not in covered]
        if missing:
            raise ValueError(f"no column or constant fills {missing} (kind {self.kind!r} needs every one of "
                             f"{sorted(fields)})")
        for fld, mapping in self.labels.items():
            if fields.get(fld) != "label":
                raise ValueError(f"labels.{fld}: not a coded field of kind {self.kind!r}")
            wrong = sorted({v for v in mapping.values() if v is not None and v not in CHAIN_CATEGORIES[fld]})
            if wrong:
                raise ValueError(f"labels.{fld} maps to {wrong}, not values of {fld}: {list(CHAIN_CATEGORIES[fld])}")
        unlabelled = [f for f, t in fields.items() if t == "label" and f in self.columns.values() and f not in self.labels]
        if unlabelled:
            raise ValueError(f"coded fields {unlabelled} need a 'labels' map")
        if self.kind == "crosswalk" and self.pilot not in PILOTS:
            raise ValueError(f"a crosswalk names its pilot, one of {list(PILOTS)} (got {self.pilot!r})")
        return self

    # the repair machinery logs every changed cell under the source's name
    @property
    def source_name(self) -> str:
        """The name changes and quarantine rows are filed under: the pilot of a crosswalk, else the register."""
        return self.pilot if self.kind == "crosswalk" and self.pilot else self.register_name

    @property
    def table(self) -> str:
        """The ``data_clean`` table this kind fills."""
        return KIND_TABLES[self.kind]

    def field_columns(self, kind: str) -> dict[str, str]:
        """Field -> raw header of the fields of type ``kind`` (text, label or date)."""
        types = KIND_FIELDS[self.kind]
        return {f: h for h, f in self.columns.items() if types.get(f) == kind}

    def identifier_headers(self) -> list[str]:
        """Raw headers whose cells identify someone: never written to any output."""
        return [h for h, f in self.columns.items() if f in IDENTIFIER_FIELDS] + list(self.redact_columns)


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'the spec'}: {err['msg']}" for err in exc.errors())


def load_chain_spec(path: Path) -> ChainSpec:
    """Load and check one chain source spec; every problem named with its key."""
    path = Path(path)
    try:
        raw: Any = read_yaml(path)
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"chain source spec {path}: cannot be read as YAML ({exc}).") from exc
    if not isinstance(raw, dict):
        raise SpecError(f"chain source spec {path}: the top level must be a mapping.")
    try:
        return ChainSpec.model_validate({**raw, "path": path})
    except ValidationError as exc:
        raise SpecError(f"chain source spec {path}: {_problems(exc)}. Fix the YAML file and run again.") from exc


def load_chain_specs(folder: Path | None = None) -> list[ChainSpec]:
    """Every chain spec in ``folder`` (default ``sources/chain/``), by file name; none when absent."""
    folder = Path(folder) if folder is not None else CHAIN_SOURCES_DIR
    return [load_chain_spec(p) for p in sorted(folder.glob("*.yaml"))] if folder.is_dir() else []
