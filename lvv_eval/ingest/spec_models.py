"""The structure of the ingest's YAML files, declared once (pydantic models).

Read this file to learn what a file may say:

- :class:`SourceSpec`: one delivery layout (``lvv_eval/sources/*.yaml``; a new layout is a new
  YAML file, never code);
- :class:`RulesFile`: the validation rules (``specs/validation_rules.yaml``);
- :class:`RepairsFile`: the named repairs (``specs/repairs.yaml``).

Cross-checks that a structure cannot say live in the validators: a recode names a repair of
the repairs file that recodes labels, label maps map onto the stays contract's categories, a
long layout names exactly one event kind that opens a stay. The loaders are in
:mod:`lvv_eval.ingest.spec` (``validate_source_spec``), :mod:`lvv_eval.ingest.rules` and
:mod:`lvv_eval.ingest.repairs`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from lvv_eval.config import PILOTS, SOURCES_DIR, SPECS_DIR
from lvv_eval.ingest.errors import SpecError
from lvv_eval.schema import STAYS_DTYPES
from lvv_eval.specfiles import (
    NonEmptyStr,
    Problems,
    SpecFileError,
    SpecModel,
    choices,
    one_of,
    read_mapping,
    read_yaml,
    validate_spec,
)
from lvv_eval.vocabulary import check_language, is_vocabulary_table, load_vocabulary_table

RULES_FILE = SPECS_DIR / "validation_rules.yaml"
REPAIRS_FILE = SPECS_DIR / "repairs.yaml"

# Harmonised fields a raw column can be mapped to (the stays contract plus helper fields that
# ingest derives stays columns from).
DATE_FIELDS: tuple[str, ...] = (
    "admission_date", "exit_date", "scenario_date", "mrt_date", "birth_date", "modified_date",
    "data_cut_date", "event_date",
)
BOOL_FIELDS: tuple[str, ...] = (
    "in_covenant", "safe_country", "asylum_background", "family", "shelter_24h", "mrt_referred",
    "participates",
)
INT_FIELDS: tuple[str, ...] = (
    "age_at_admission", "birth_year", "n_prior_departure_procedures", "length_of_stay_days",
)
LABEL_FIELDS: tuple[str, ...] = (
    "exit_reason", "exclusion_reason", "registration_group", "sex", "country_of_origin",
    "guidance_intensity", "scenario", "mrt_conclusion", "event_type", "event_value",
)
TEXT_FIELDS: tuple[str, ...] = ("source_id",)
FIELDS: tuple[str, ...] = DATE_FIELDS + BOOL_FIELDS + INT_FIELDS + LABEL_FIELDS + TEXT_FIELDS
READERS: tuple[str, ...] = ("csv", "excel")
LAYOUTS: tuple[str, ...] = ("wide", "long")
SEVERITIES: tuple[str, ...] = ("error", "warning")
STAGES: tuple[str, ...] = ("raw", "text", "labels", "typed", "derived")
# named repair actions (functions in lvv_eval.ingest.repairs.ACTIONS)
REPAIR_ACTIONS: tuple[str, ...] = (
    "trim_whitespace", "sentinel_to_missing", "recode_labels", "swap_day_month",
    "unmapped_to_missing", "strip_identifier_separators",
)
# share of a table's rows that may be quarantined before the ingest fails (``max_lost_share``)
DEFAULT_MAX_LOST_SHARE = 0.25
RECODE_ACTION = "recode_labels"

FieldName = one_of("field", FIELDS)
Reader = one_of("reader", READERS)
Layout = one_of("layout", LAYOUTS)
Severity = one_of("severity", SEVERITIES)
Stage = one_of("stage", STAGES)
Action = one_of("action", REPAIR_ACTIONS)
DateField = one_of("date field", DATE_FIELDS)
BoolField = one_of("yes/no field", BOOL_FIELDS)
IntField = one_of("number field", INT_FIELDS)
Pilot = one_of("pilot", PILOTS)
StaysField = one_of("stays field", tuple(STAYS_DTYPES))


class IngestSpecModel(SpecModel):
    """Spec models of the ingest: numbers written where text is meant (a header ``2019``, a
    sentinel ``-99``) are read as text."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True,
                              populate_by_name=True)


# ---------------------------------------------------------------------------------------------
# source specs: files


# rows searched for the header below the declared ``header_row`` (``header_search_rows``)
DEFAULT_HEADER_SEARCH_ROWS = 10


class SheetSpec(IngestSpecModel):
    """One worksheet of an Excel delivery."""

    name: str
    header_row: int = Field(default=1, ge=1)
    constants: dict[FieldName, Any] = Field(default_factory=dict)


class FooterSpec(IngestSpecModel):
    """Rows below the data that are not data (a "Totaal" line, a signature): the last ``rows``
    rows, and any row whose first filled cell starts with one of ``starts_with`` (ignoring case)."""

    rows: int = Field(default=0, ge=0)
    starts_with: tuple[NonEmptyStr, ...] = ()


class DateFromName(IngestSpecModel):
    """The data cut date read from the delivered file's name: ``pattern`` is a regular
    expression whose group ``date`` (or first group) holds the date, written as ``format``."""

    pattern: NonEmptyStr
    format: NonEmptyStr = "%Y%m%d"

    @field_validator("pattern")
    @classmethod
    def _one_group(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression ({exc})") from None
        if compiled.groups < 1:
            raise ValueError("needs a group around the date, e.g. 'export_(\\d{8})' or '(?P<date>\\d{8})'")
        return value


class FileSpec(IngestSpecModel):
    """One kind of file in a delivery: how to find it (``pattern``, a glob under the raw
    folder) and how to read it."""

    pattern: NonEmptyStr
    reader: Reader
    delimiter: str = ","
    encoding: str = "utf-8"
    header_row: int = Field(default=1, ge=1)
    sheets: tuple[SheetSpec, ...] = ()
    constants: dict[FieldName, Any] = Field(default_factory=dict)
    several: bool = Field(default=False, description="more than one file may match the pattern")
    header_search_rows: int = Field(
        default=DEFAULT_HEADER_SEARCH_ROWS, ge=0,
        description="rows below header_row searched for the header (title rows above it)")
    footer: FooterSpec = FooterSpec()
    data_cut_date_from_name: DateFromName | None = Field(
        default=None, description="read the data cut date from the file name by a pattern")

    @model_validator(mode="after")
    def _excel_has_sheets(self) -> FileSpec:
        if self.reader == "excel" and not self.sheets:
            raise ValueError(f"excel file {self.pattern!r} needs a 'sheets' list")
        return self


class CodebookSpec(IngestSpecModel):
    """A code book file that turns codes in a column into labels before label mapping."""

    field: FieldName
    pattern: NonEmptyStr
    code_column: str
    label_column: str
    delimiter: str = ","
    encoding: str = "utf-8"


# ---------------------------------------------------------------------------------------------
# source specs: values


def _lower_keys(value: Any) -> Any:
    """``true:``/``false:`` keys of a flags block as text (YAML may read them as booleans)."""
    if isinstance(value, Mapping):
        return {str(k).lower(): v for k, v in value.items()}
    return value


class FlagsSpec(IngestSpecModel):
    """Yes/no words of the delivery for fields without their own label map."""

    true: tuple[str, ...] = ()
    false: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


class DatesSpec(IngestSpecModel):
    """How dates are written: strptime formats (ISO is always tried last), Excel serial
    numbers, month names (``26 mei 2019``); ``columns`` gives formats for one column (raw
    header or date field) that replace ``formats`` there."""

    formats: tuple[str, ...] = ("%Y-%m-%d",)
    excel_serial: bool = False
    month_names: dict[str, int] = Field(default_factory=dict)
    columns: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="raw column header or date field -> its own formats")

    @field_validator("month_names")
    @classmethod
    def _months(cls, value: dict[str, int]) -> dict[str, int]:
        wrong = [k for k, m in value.items() if not 1 <= m <= 12]
        if wrong:
            raise ValueError(f"months are 1 to 12 (wrong: {wrong})")
        return {k.lower(): m for k, m in value.items()}


LabelValue = str | bool | None


def _label_map(value: Any, info: ValidationInfo) -> Any:
    """A label map with its ``include`` (a vocabulary file or table) merged in; own entries win."""
    value = _no_null(value)
    if not isinstance(value, Mapping) or "include" not in value:
        return value
    own = {str(k): v for k, v in value.items() if k not in ("include", "language")}
    includes = value["include"]
    dirs = (info.context or {}).get("include_dirs") or [SOURCES_DIR]
    merged: dict[str, Any] = {}
    for name in [includes] if isinstance(includes, str) else list(includes):
        found = next((Path(d) / name for d in dirs if (Path(d) / name).is_file()), None)
        if found is None:
            raise ValueError(f"included vocabulary {name!r} not found (looked in "
                             f"{', '.join(str(d) for d in dirs)})")
        merged.update(_vocabulary(found, value.get("language")))
    return merged | own


@cache
def _read_vocabulary_file(path: Path, mtime_ns: int) -> object:
    """A vocabulary file parsed once per version (specs of several pilots include the same)."""
    return read_yaml(path)


def _vocabulary(path: Path, language: str | None) -> dict[str, Any]:
    """Label -> value from a vocabulary file: a table (in ``language``) or a plain mapping."""
    try:
        raw = _read_vocabulary_file(path, path.stat().st_mtime_ns)
        if is_vocabulary_table(raw):
            if language is None:
                raise ValueError(f"{path.name} is a table in several languages: add "
                                 "'language: nl' (or en) beside the include")
            return load_vocabulary_table(path).label_map(check_language(language))
    except SpecFileError as exc:
        raise ValueError(f"included vocabulary: {exc}") from None
    if language is not None:
        raise ValueError(f"{path.name} is a plain label map: 'language' applies to tables only")
    if not isinstance(raw, dict):
        raise ValueError(f"included vocabulary {path.name} must be a mapping of label: value")
    return {str(k): v for k, v in raw.items()}


class RecodeSpec(IngestSpecModel):
    """A label -> label recode run as the named repair (e.g. old-definition labels), logged
    as a change under the repair's id."""

    rule: str
    field: FieldName
    mapping: dict[str, str] = Field(alias="map")

    @field_validator("rule")
    @classmethod
    def _known_repair(cls, value: str, info: ValidationInfo) -> str:
        repairs = (info.context or {}).get("repair_actions")
        if repairs is None:
            return value
        if value not in repairs:
            raise ValueError(f"unknown repair rule {value!r}: a recode runs as a repair of "
                             f"repairs.yaml (repairs that recode labels: "
                             f"{choices(k for k, a in repairs.items() if a == RECODE_ACTION)})")
        if repairs[value] != RECODE_ACTION:
            raise ValueError(f"repair {value!r} does not recode labels (its action is "
                             f"{repairs[value]!r}, not {RECODE_ACTION!r})")
        return value


class EventKind(IngestSpecModel):
    """One kind of event row of a long layout: the date field it fills, the field its value
    fills, whether it opens a stay, further fields it carries and values it sets."""

    date: DateField
    value: FieldName | None = None
    starts_stay: bool = False
    also: tuple[FieldName, ...] = ()
    set_: dict[FieldName, Any] = Field(default_factory=dict, alias="set")


class EventsSpec(IngestSpecModel):
    kinds: dict[str, EventKind] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_opening_kind(self) -> EventsSpec:
        starts = [k for k, v in self.kinds.items() if v.starts_stay]
        if len(starts) != 1:
            raise ValueError(f"exactly one kind needs 'starts_stay: true' (found {starts or 'none'})")
        return self


class CrossSheet(IngestSpecModel):
    prefer: dict[FieldName, Any] = Field(min_length=1)


class DuplicatesSpec(IngestSpecModel):
    cross_sheet: CrossSheet | None = None


class ParticipationSpec(IngestSpecModel):
    """Rows where this yes/no field is false are not LVV participants (rule X_NON_PARTICIPANT)."""

    field: BoolField


# derived fields: one model per method, chosen by `method`
class _Derive(IngestSpecModel):
    field: StaysField


class AgeFromBirthDate(_Derive):
    method: Literal["age_from_birth_date"]


class AgeFromBirthYear(_Derive):
    method: Literal["age_from_birth_year"]


class CovenantFromExclusion(_Derive):
    method: Literal["covenant_from_exclusion"]


class FlagFromDate(_Derive):
    method: Literal["flag_from_date"]
    source: DateField


class ValueWhenFlag(_Derive):
    method: Literal["value_when_flag"]
    source: BoolField
    value: Any


class Constant(_Derive):
    method: Literal["constant"]
    value: Any


class DatePlusDays(_Derive):
    """A date from another date plus a number of days (exit date = admission date + length of
    stay): ``date`` and ``days`` name harmonised fields."""

    method: Literal["date_plus_days"]
    date: DateField
    days: IntField


DeriveSpec = Annotated[
    AgeFromBirthDate | AgeFromBirthYear | CovenantFromExclusion | FlagFromDate | ValueWhenFlag
    | Constant | DatePlusDays,
    Discriminator("method"),
]
DERIVE_METHODS: tuple[str, ...] = (
    "age_from_birth_date", "age_from_birth_year", "covenant_from_exclusion", "flag_from_date",
    "value_when_flag", "constant", "date_plus_days",
)


class CombineSpec(IngestSpecModel):
    """One field written over several raw columns (an exit reason in a main and a sub column):
    the filled cells of ``columns`` joined by ``separator`` before labels are mapped."""

    field: FieldName
    columns: tuple[NonEmptyStr, ...] = Field(min_length=2)
    separator: str = " - "


def _no_null(value: Any) -> Any:
    """An empty YAML entry (``family:``) means an empty mapping or list."""
    return {} if value is None else value


# ---------------------------------------------------------------------------------------------
# the source spec


class SourceSpec(IngestSpecModel):
    """Everything ingest needs to know about one delivery layout."""

    name: NonEmptyStr
    pilot: Pilot
    description: str = ""
    files: tuple[FileSpec, ...] = Field(min_length=1)
    layout: Layout = "wide"
    columns: dict[str, FieldName] = Field(min_length=1)
    ignore_columns: tuple[str, ...] = ()
    combine: tuple[CombineSpec, ...] = Field(
        default=(), description="a field written over several raw columns, joined before mapping")
    labels: dict[FieldName, Annotated[dict[str, LabelValue], BeforeValidator(_label_map)]] = Field(
        default_factory=dict,
        description="field -> {raw label: contract value}; null means 'known to mean unknown'; "
                    "`include: FILE` merges a vocabulary (`language: nl|en` for a table)")
    codebooks: tuple[CodebookSpec, ...] = ()
    flags: Annotated[FlagsSpec, BeforeValidator(_lower_keys)] = FlagsSpec()
    dates: DatesSpec = DatesSpec()
    sentinels: tuple[str, ...] = ()
    constants: dict[FieldName, Any] = Field(default_factory=dict)
    recodes: tuple[RecodeSpec, ...] = ()
    duplicates: DuplicatesSpec = DuplicatesSpec()
    participation: ParticipationSpec | None = None
    events: EventsSpec | None = None
    derive: tuple[DeriveSpec, ...] = ()
    source_id_is: Literal["v_number", "client_number"] = Field(
        default="client_number", description="what the source identifier is: a V-number (links to "
                                             "the chain registers directly) or a client number")
    max_lost_share: float = Field(
        default=DEFAULT_MAX_LOST_SHARE, ge=0, le=1,
        description="share of a table's rows that may be quarantined before the ingest fails")

    _path: Path = PrivateAttr(default=Path("<mapping>"))

    @field_validator("labels", "constants", "columns", "dates", "duplicates", mode="before")
    @classmethod
    def _empty_is_nothing(cls, value: Any) -> Any:
        return _no_null(value)

    @field_validator("labels")
    @classmethod
    def _labels_fit_the_contract(cls, labels: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        problems = Problems()
        for fld, mapping in labels.items():
            _check_label_values(problems, (fld,), fld, mapping, _allowed_values(fld))
        problems.raise_if_any("labels")
        return labels

    @field_validator("events")
    @classmethod
    def _event_labels_name_kinds(cls, events: EventsSpec | None, info: ValidationInfo) -> EventsSpec | None:
        problems = Problems()
        mapping = (info.data.get("labels") or {}).get("event_type")
        if events is not None and mapping:
            _check_label_values(problems, ("kinds",), "event_type", mapping, list(events.kinds))
        problems.raise_if_any("events")
        return events

    @model_validator(mode="after")
    def _long_layout_has_events(self) -> SourceSpec:
        if self.layout == "long" and self.events is None:
            raise ValueError("a long layout needs 'events.kinds' (which event fills which field)")
        return self

    @model_validator(mode="after")
    def _fields_are_complete(self) -> SourceSpec:
        problems = Problems()
        _check_data_cut_date(problems, self)
        _check_age_derivation(problems, self)
        _check_date_columns(problems, self)
        _check_combine(problems, self)
        _check_constant_dates(problems, self)
        problems.raise_if_any("source spec")
        return self

    @property
    def path(self) -> Path:
        """The YAML file the spec came from."""
        return self._path

    @property
    def date_formats(self) -> tuple[str, ...]:
        return self.dates.formats

    def formats_for(self, fld: str) -> tuple[str, ...]:
        """The strptime formats tried for a date field (its column's own, else the spec's); the
        ISO format is always tried last."""
        own = self.dates.columns.get(fld)
        if own is None:
            raw = [c for c, f in self.columns.items() if f == fld and c in self.dates.columns]
            own = self.dates.columns[raw[0]] if raw else None
        formats = own if own is not None else self.dates.formats
        return tuple(formats) + (ISO_FORMAT,)

    def filled_fields(self) -> set[str]:
        """Every harmonised field some column, combination, constant or derivation fills."""
        out = set(self.columns.values()) | {c.field for c in self.combine} | set(self.constants)
        out |= {d.field for d in self.derive}
        for fs in self.files:
            out |= set(fs.constants) | {k for s in fs.sheets for k in s.constants}
            if fs.data_cut_date_from_name is not None:
                out.add("data_cut_date")
        if self.events is not None:
            for kind in self.events.kinds.values():
                out |= {kind.date, *kind.also, *kind.set_} | ({kind.value} if kind.value else set())
        return out

    @property
    def excel_serial(self) -> bool:
        return self.dates.excel_serial

    @property
    def month_names(self) -> Mapping[str, int]:
        return self.dates.month_names

    def fields(self) -> list[str]:
        """Harmonised fields this spec fills from raw columns."""
        return list(dict.fromkeys(self.columns.values()))

    def with_path(self, path: Path) -> SourceSpec:
        """The same spec, marked as read from ``path``."""
        self._path = Path(path)
        return self


ISO_FORMAT = "%Y-%m-%d"
AGE_METHODS = {"birth_date": "age_from_birth_date", "birth_year": "age_from_birth_year"}


def _check_data_cut_date(problems: Problems, spec: SourceSpec) -> None:
    if "data_cut_date" in spec.filled_fields():
        return
    problems.add(("constants", "data_cut_date"),
                 "missing (required): the date the delivery was drawn up. Add it under 'constants' "
                 "(data_cut_date: \"2022-07-01\"), map a column to it, or read it from the file name "
                 "(files[].data_cut_date_from_name)")


def _check_age_derivation(problems: Problems, spec: SourceSpec) -> None:
    filled = spec.filled_fields()
    if "age_at_admission" in filled:
        return
    for source, method in AGE_METHODS.items():
        if source in filled:
            problems.add(("derive",), f"'{source}' is mapped but nothing fills age_at_admission, so age "
                         f"would be missing for every stay: add '- {{field: age_at_admission, method: "
                         f"{method}}}' under derive")


def _check_date_columns(problems: Problems, spec: SourceSpec) -> None:
    for key in spec.dates.columns:
        fld = spec.columns.get(key, key)
        if fld not in DATE_FIELDS:
            problems.add(("dates", "columns", key), f"{key!r} is neither a raw column mapped to a date field "
                         f"nor a date field (date fields: {choices(DATE_FIELDS)})")


def _check_constant_dates(problems: Problems, spec: SourceSpec) -> None:
    """A date given as a constant must be readable by the spec's formats (else every row fails)."""
    places: list[tuple[tuple[str | int, ...], dict[str, Any]]] = [(("constants",), spec.constants)]
    for i, fs in enumerate(spec.files):
        places.append((("files", i, "constants"), fs.constants))
        places += [(("files", i, "sheets", j, "constants"), sh.constants) for j, sh in enumerate(fs.sheets)]
    for loc, constants in places:
        for fld, value in constants.items():
            if fld in DATE_FIELDS and value is not None and not _reads_as_date(str(value), spec.formats_for(fld),
                                                                                      spec.month_names):
                problems.add((*loc, fld), f"{value!r} is not a date in the spec's formats "
                             f"{list(dict.fromkeys(spec.formats_for(fld)))}; write it as YYYY-MM-DD")


def _reads_as_date(text: str, formats: tuple[str, ...], month_names: Mapping[str, int]) -> bool:
    text = " ".join(str(month_names.get(w.rstrip("."), w)) for w in text.lower().split())
    for fmt in formats:
        try:
            datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return True
    return False


def _check_combine(problems: Problems, spec: SourceSpec) -> None:
    for i, entry in enumerate(spec.combine):
        if entry.field in spec.columns.values():
            problems.add(("combine", i, "field"), f"'{entry.field}' is also filled by a column under 'columns'; "
                         "a field comes from one column or from one combination")
        taken = [c for c in entry.columns if c in spec.columns or c in spec.ignore_columns]
        if taken:
            problems.add(("combine", i, "columns"), f"{taken} also listed under 'columns' or 'ignore_columns'")


def _allowed_values(fld: str) -> list[Any] | None:
    """What a label map for ``fld`` may map to (None: anything)."""
    dtype = STAYS_DTYPES.get(fld)
    if isinstance(dtype, pd.CategoricalDtype):
        return list(dtype.categories)
    if fld in BOOL_FIELDS:
        return [True, False]
    return None


def _check_label_values(problems: Problems, loc: tuple[str, ...], fld: str,
                        mapping: Mapping[str, Any], allowed: list[Any] | None) -> None:
    if allowed is None:
        return
    wrong = sorted({str(v) for v in mapping.values() if v is not None and v not in allowed})
    if wrong:
        what = "maps" if loc == (fld,) else f"labels.{fld} maps"
        problems.add(loc, f"{what} to {wrong}, which are not values of '{fld}' "
                     f"(choose from {choices(str(a).lower() if isinstance(a, bool) else a for a in allowed)})")


# ---------------------------------------------------------------------------------------------
# validation rules and repairs


class Rule(SpecModel):
    """One validation rule: an expression over the harmonised fields (see ingest.rules)."""

    id: NonEmptyStr
    label: NonEmptyStr
    severity: Severity
    expression: NonEmptyStr


class RulesFile(SpecModel):
    rules: list[Rule] = Field(min_length=1)
    placeholder_ids: tuple[str, ...] = Field(
        default=(), description="identifier values that mean 'no identifier' (compared ignoring "
                                "case and outer spaces)")

    @model_validator(mode="after")
    def _unique_ids(self) -> RulesFile:
        _unique(self.rules, "rules", "rule")
        return self


class ChainRule(Rule):
    """A validation rule of the chain extracts, with the extract kinds it applies to."""

    kinds: tuple[Literal["ind", "dtv", "crosswalk"], ...] = Field(min_length=1)


class ChainRulesFile(SpecModel):
    rules: list[ChainRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> ChainRulesFile:
        _unique(self.rules, "rules", "rule")
        return self


def load_chain_rules_file(path: Path) -> ChainRulesFile:
    """The chain extracts' validation rules file, checked (every problem with its YAML path)."""
    return validate_spec(ChainRulesFile, read_mapping(path, "chain rules", SpecError), path,
                         SpecError, what="chain rules")


class Repair(SpecModel):
    """One named repair: a named action, or a condition (``when``) with the values to ``set``."""

    id: NonEmptyStr
    label: str = ""
    stage: Stage
    action: Action | None = None
    when: str | None = None
    set: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _action_or_when(self) -> Repair:
        if (self.action is None) == (self.when is None):
            raise ValueError("give either an 'action' or a 'when' with 'set'")
        if self.when is not None and not self.set:
            raise ValueError("a 'when' needs the values to 'set'")
        return self


class RepairsFile(SpecModel):
    repairs: list[Repair] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> RepairsFile:
        _unique(self.repairs, "repairs", "repair")
        return self


def _unique(entries: list[Rule] | list[Repair], section: str, what: str) -> None:
    problems = Problems()
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        if entry.id in seen:
            problems.add((section, i, "id"), f"{what} id {entry.id!r} also used by entry {seen[entry.id] + 1}")
        seen.setdefault(entry.id, i)
    problems.raise_if_any(section)


def load_rules_file(path: Path = RULES_FILE) -> RulesFile:
    """The validation rules file, checked (every problem with its YAML path)."""
    return validate_spec(RulesFile, read_mapping(path, "validation rules", SpecError), path,
                         SpecError, what="validation rules")


def load_repairs_file(path: Path = REPAIRS_FILE) -> RepairsFile:
    """The repairs file, checked (every problem with its YAML path)."""
    return validate_spec(RepairsFile, read_mapping(path, "repairs file", SpecError), path,
                         SpecError, what="repairs file")
