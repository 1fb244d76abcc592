"""Source specs: one YAML file per delivery layout (file pattern, reader, column and label maps).

A spec is data. Adding a delivery layout means adding a YAML file to the sources folder; no
reader code names a pilot. :func:`load_spec` checks every key so that a typo in a spec is an
error naming the spec file and the key, not a silent default.

Keys of a spec (see ``lvv_eval/sources/*.yaml`` for the five deliveries):

- ``name``, ``pilot`` (one of config.PILOTS), ``description``.
- ``files``: list of ``{pattern (glob under the raw folder), reader: csv|excel, delimiter,
  encoding, header_row (1-based), sheets: [{name, header_row, constants}], constants}``.
- ``layout``: ``wide`` (a row per stay) or ``long`` (a row per event; then ``events.kinds``
  maps each event kind to the date field it fills, the field its value fills, and which kind
  opens a stay).
- ``columns``: raw header -> harmonised field (:data:`FIELDS`); ``ignore_columns``: headers that
  are delivered but not used. Any other header is an error.
- ``labels``: field -> {raw label: contract value}; matching ignores case and outer spaces;
  ``null`` means "known to mean unknown"; ``include: [vocab/x.yaml]`` merges a shared
  vocabulary (own entries win).
- ``flags``: ``{true: [...], false: [...], missing: [...]}`` for yes/no fields without labels.
- ``dates``: ``{formats: [strptime formats], excel_serial: bool, month_names: {word: month}}``.
- ``sentinels``: raw values meaning unknown (set missing by repair R_SENTINEL_TO_MISSING).
- ``codebooks``: ``[{field, pattern, code_column, label_column, delimiter, encoding}]``.
- ``recodes``: ``[{rule, field, map}]``: label -> label recodes run as the named repair.
- ``constants``: field -> value for every row (e.g. ``data_cut_date``).
- ``derive``: ``[{field, method, ...}]`` (see :mod:`lvv_eval.ingest.derive`).
- ``participation``: ``{field}``: rows where that flag is false are non-participants.
- ``duplicates``: ``{cross_sheet: {prefer: {field: value}}}`` (see :mod:`lvv_eval.ingest.dedup`).
- ``source_id_is``: ``v_number`` when the source identifier is the person's V-number (then each
  person also gets ``v_key``, the cross-source key, in ``person_links``), ``client_number``
  (default) when it is the municipality's own number (linked through a crosswalk, if any).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lvv_eval.config import PILOTS, SOURCES_DIR
from lvv_eval.ingest.errors import SpecError

# Harmonised fields a raw column can be mapped to (the stays contract plus helper fields that
# ingest derives stays columns from).
DATE_FIELDS: tuple[str, ...] = (
    "admission_date",
    "exit_date",
    "scenario_date",
    "mrt_date",
    "birth_date",
    "modified_date",
    "data_cut_date",
    "event_date",
)
BOOL_FIELDS: tuple[str, ...] = (
    "in_covenant",
    "safe_country",
    "asylum_background",
    "family",
    "shelter_24h",
    "mrt_referred",
    "participates",
)
INT_FIELDS: tuple[str, ...] = ("age_at_admission", "birth_year", "n_prior_departure_procedures")
LABEL_FIELDS: tuple[str, ...] = (
    "exit_reason",
    "exclusion_reason",
    "registration_group",
    "sex",
    "country_of_origin",
    "guidance_intensity",
    "scenario",
    "mrt_conclusion",
    "event_type",
    "event_value",
)
TEXT_FIELDS: tuple[str, ...] = ("source_id",)
FIELDS: tuple[str, ...] = DATE_FIELDS + BOOL_FIELDS + INT_FIELDS + LABEL_FIELDS + TEXT_FIELDS

_SPEC_KEYS = {
    "name", "pilot", "description", "files", "layout", "columns", "ignore_columns", "labels",
    "codebooks", "flags", "dates", "sentinels", "constants", "recodes",
    "duplicates", "participation", "events", "derive", "source_id_is",
}
SOURCE_ID_KINDS = ("v_number", "client_number")
_FILE_KEYS = {"pattern", "reader", "delimiter", "encoding", "header_row", "sheets", "constants"}
_SHEET_KEYS = {"name", "header_row", "constants"}
_READERS = ("csv", "excel")
_LAYOUTS = ("wide", "long")


@dataclass(frozen=True)
class SheetSpec:
    """One worksheet of an Excel delivery."""

    name: str
    header_row: int = 1
    constants: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FileSpec:
    """One kind of file in a delivery: how to find it and how to read it."""

    pattern: str
    reader: str
    delimiter: str = ","
    encoding: str = "utf-8"
    header_row: int = 1
    sheets: tuple[SheetSpec, ...] = ()
    constants: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CodebookSpec:
    """A code book file that turns codes in a column into labels before label mapping."""

    field: str
    pattern: str
    code_column: str
    label_column: str
    delimiter: str = ","
    encoding: str = "utf-8"


@dataclass(frozen=True)
class RecodeSpec:
    """A named label recode (for example old-definition labels), logged as a change."""

    rule: str
    field: str
    mapping: Mapping[str, str]


@dataclass(frozen=True)
class SourceSpec:
    """Everything ingest needs to know about one delivery layout."""

    path: Path
    name: str
    pilot: str
    files: tuple[FileSpec, ...]
    columns: Mapping[str, str]
    layout: str = "wide"
    description: str = ""
    ignore_columns: tuple[str, ...] = ()
    labels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    codebooks: tuple[CodebookSpec, ...] = ()
    flags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    excel_serial: bool = False
    month_names: Mapping[str, int] = field(default_factory=dict)
    sentinels: tuple[str, ...] = ()
    constants: Mapping[str, Any] = field(default_factory=dict)
    recodes: tuple[RecodeSpec, ...] = ()
    duplicates: Mapping[str, Any] = field(default_factory=dict)
    participation: Mapping[str, Any] = field(default_factory=dict)
    events: Mapping[str, Any] = field(default_factory=dict)
    derive: tuple[Mapping[str, Any], ...] = ()
    source_id_is: str = "client_number"

    def fields(self) -> list[str]:
        """Harmonised fields this spec fills from raw columns."""
        return list(dict.fromkeys(self.columns.values()))


class _SpecLoader(yaml.SafeLoader):
    """YAML 1.2-style booleans: only true/false, so labels such as yes, no, on, off stay text."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _SpecLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), [_first])


def read_yaml(path: Path) -> object:
    """Parse a spec YAML file (only true/false are booleans)."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_SpecLoader)  # noqa: S506 - safe loader subclass


def read_spec_mapping(path: Path, what: str) -> dict[str, Any]:
    """A YAML file of the package's specs as a mapping; a :class:`SpecError` naming it otherwise."""
    try:
        raw = read_yaml(path)
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"{what} {path} cannot be read ({exc}).") from exc
    if not isinstance(raw, dict):
        raise SpecError(f"{what} {path}: the top level must be a mapping.")
    return raw


def _fail(path: Path, msg: str) -> SpecError:
    return SpecError(f"source spec {path}: {msg}. Fix the YAML file and run again.")


def _check_keys(path: Path, where: str, got: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(got) - allowed)
    if unknown:
        raise _fail(path, f"unknown key(s) {unknown} in {where}; allowed: {sorted(allowed)}")


def _check_field(path: Path, where: str, name: str) -> None:
    if name not in FIELDS:
        raise _fail(path, f"{where} names unknown field '{name}'; known fields: {list(FIELDS)}")


def _sheet(path: Path, raw: Mapping[str, Any]) -> SheetSpec:
    _check_keys(path, "a sheet", raw, _SHEET_KEYS)
    if "name" not in raw:
        raise _fail(path, "every sheet needs a 'name'")
    return SheetSpec(str(raw["name"]), int(raw.get("header_row", 1)), dict(raw.get("constants") or {}))


def _file(path: Path, raw: Mapping[str, Any]) -> FileSpec:
    _check_keys(path, "files", raw, _FILE_KEYS)
    reader = raw.get("reader")
    if reader not in _READERS:
        raise _fail(path, f"files.reader must be one of {_READERS}, got {reader!r}")
    if "pattern" not in raw:
        raise _fail(path, "every file entry needs a 'pattern' (glob relative to the raw folder)")
    sheets = tuple(_sheet(path, s) for s in raw.get("sheets") or ())
    if reader == "excel" and not sheets:
        raise _fail(path, f"excel file {raw['pattern']!r} needs a 'sheets' list")
    return FileSpec(
        pattern=str(raw["pattern"]),
        reader=reader,
        delimiter=str(raw.get("delimiter", ",")),
        encoding=str(raw.get("encoding", "utf-8")),
        header_row=int(raw.get("header_row", 1)),
        sheets=sheets,
        constants=dict(raw.get("constants") or {}),
    )


def _flags(path: Path, raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    raw = {str(k).lower(): v for k, v in raw.items()}
    _check_keys(path, "flags", raw, {"true", "false", "missing"})
    return {k: tuple(str(v) for v in raw.get(k) or ()) for k in ("true", "false", "missing")}


def _label_map(path: Path, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """A label map; ``include: [file, ...]`` merges shared vocabularies (own entries win)."""
    raw = dict(raw or {})
    merged: dict[str, Any] = {}
    includes = raw.pop("include", [])
    for name in [includes] if isinstance(includes, str) else includes:
        candidates = [path.parent / name, SOURCES_DIR / name]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise _fail(path, f"included vocabulary {name!r} not found (looked in {path.parent} and {SOURCES_DIR})")
        vocab = read_yaml(found)
        if not isinstance(vocab, dict):
            raise _fail(found, "a vocabulary must be a mapping of label: value")
        merged.update({str(k): v for k, v in vocab.items()})
    merged.update({str(k): v for k, v in raw.items()})
    return merged


def _parse(path: Path, raw: Mapping[str, Any]) -> SourceSpec:
    _check_keys(path, "the spec", raw, _SPEC_KEYS)
    for key in ("name", "pilot", "files", "columns"):
        if key not in raw:
            raise _fail(path, f"missing required key '{key}'")
    if raw["pilot"] not in PILOTS:
        raise _fail(path, f"pilot {raw['pilot']!r} is not one of {PILOTS}")
    layout = raw.get("layout", "wide")
    if layout not in _LAYOUTS:
        raise _fail(path, f"layout must be one of {_LAYOUTS}")
    if raw.get("source_id_is", "client_number") not in SOURCE_ID_KINDS:
        raise _fail(path, f"source_id_is must be one of {SOURCE_ID_KINDS}, got {raw.get('source_id_is')!r}")
    columns = {str(k): str(v) for k, v in (raw["columns"] or {}).items()}
    for col, fld in columns.items():
        _check_field(path, f"columns['{col}']", fld)
    labels = {str(k): _label_map(path, v) for k, v in (raw.get("labels") or {}).items()}
    for fld in labels:
        _check_field(path, "labels", fld)
    dates = dict(raw.get("dates") or {})
    _check_keys(path, "dates", dates, {"formats", "excel_serial", "month_names"})
    constants = dict(raw.get("constants") or {})
    for fld in constants:
        _check_field(path, "constants", fld)
    codebooks = tuple(
        CodebookSpec(**{k: str(v) for k, v in cb.items()}) for cb in raw.get("codebooks") or ()
    )
    recodes = tuple(
        RecodeSpec(str(r["rule"]), str(r["field"]), {str(k): str(v) for k, v in r["map"].items()})
        for r in raw.get("recodes") or ()
    )
    for fld in [cb.field for cb in codebooks] + [r.field for r in recodes]:
        _check_field(path, "codebooks/recodes", fld)
    return SourceSpec(
        path=path,
        name=str(raw["name"]),
        pilot=str(raw["pilot"]),
        description=str(raw.get("description", "")),
        files=tuple(_file(path, f) for f in raw["files"]),
        layout=layout,
        columns=columns,
        ignore_columns=tuple(str(c) for c in raw.get("ignore_columns") or ()),
        labels=labels,
        codebooks=codebooks,
        flags=_flags(path, raw.get("flags") or {}),
        date_formats=tuple(dates.get("formats") or ("%Y-%m-%d",)),
        excel_serial=bool(dates.get("excel_serial", False)),
        month_names={str(k).lower(): int(v) for k, v in (dates.get("month_names") or {}).items()},
        sentinels=tuple(str(s) for s in raw.get("sentinels") or ()),
        constants=constants,
        recodes=recodes,
        duplicates=dict(raw.get("duplicates") or {}),
        participation=dict(raw.get("participation") or {}),
        events=dict(raw.get("events") or {}),
        derive=tuple(raw.get("derive") or ()),
        source_id_is=str(raw.get("source_id_is", "client_number")),
    )


def load_spec(path: Path) -> SourceSpec:
    """Load and check one source spec YAML file."""
    path = Path(path)
    try:
        raw = read_yaml(path)
    except (OSError, yaml.YAMLError) as exc:
        raise _fail(path, f"cannot be read as YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise _fail(path, "top level must be a mapping")
    try:
        return _parse(path, raw)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _fail(path, f"malformed entry ({exc!r})") from exc


def load_specs(sources_dir: Path | None = None) -> list[SourceSpec]:
    """All source specs in ``sources_dir`` (default: the package's ``sources/``), by file name."""
    folder = Path(sources_dir) if sources_dir is not None else SOURCES_DIR
    paths = sorted(folder.glob("*.yaml"))
    if not paths:
        raise SpecError(f"no source specs (*.yaml) in {folder}; add one YAML file per delivery layout")
    return [load_spec(p) for p in paths]
