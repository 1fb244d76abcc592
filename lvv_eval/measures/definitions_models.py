"""The structure of ``specs/definitions.yaml``, declared once (pydantic models).

Read this file to learn what a definitions file may say. Each section is a mapping of names to
entries; an entry that names another section's entry (an indicator's population, a condition's
outcome scheme) is checked against the names in that section. The checks no structure can say
are the validators below: a scheme's classes partition the exit reasons, a measure has the keys
it needs, a value fits the stays column it is compared with.

:func:`load_definitions_mapping` in :mod:`lvv_eval.measures.definitions` validates a parsed
mapping with :class:`DefinitionsFile`; the sensitivity grid and ``lvv-eval spec check`` use the
same models.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from lvv_eval.config import PILOTS
from lvv_eval.measures.chain_choices import ChainVerification
from lvv_eval.schema import EXIT_REASONS, STAYS_COLUMNS, STAYS_DTYPES
from lvv_eval.specfiles import NonEmptyStr, Problems, SpecModel, choices, one_of, reference

STATUSES: tuple[str, ...] = ("not_admitted", "present", "left")
UNIT_REDUCTIONS: tuple[str, ...] = ("none", "last_stay_per_person", "first_stay_per_person")
BASE_WEIGHTS: tuple[str, ...] = ("person_days",)
OPERATORS: tuple[str, ...] = ("in", "eq", "gt", "ge", "lt", "le", "is_null")
CONDITION_KINDS: tuple[str, ...] = ("outcome", "known_at_reference", "where")
# a comparison value that stands for each pilot's first admission date (in the table compared)
FIRST_ADMISSION = "first_admission"
# where follow-up ends in a censoring rule: the data cut, a reference date name or a date
DATA_CUT = "data_cut"
LANGUAGES: tuple[str, ...] = ("en", "nl")
# report wording the code needs from the YAML's `words` section, per language
REQUIRED_WORDS: tuple[str, ...] = (
    "count", "share", "mean", "capacity", "below_capacity", "percent_of_capacity",
    "average_occupancy", "monitor_rounds", "rate", "reference_date", "pilot", "all_pilots",
    "known_at_reference", "among", "where", "meeting", "raw_rows", "events", "quarantined_by",
    "quarantine_gap", "merged_gap", "stays_clean", "stays_no_trail", "outside_population",
    "admitted_after", "readmissions", "still_present", "left_before", "base",
    "condition_not_met", "computed", "published", "published_other_pilot", "difference",
    "gap_variant",
)
# measure -> keys an indicator with that measure must have
MEASURE_NEEDS: dict[str, tuple[str, ...]] = {
    "count": ("population", "unit", "base"),
    "share": ("population", "unit", "base", "condition"),
    "mean": ("population", "unit", "base", "column"),
    "capacity": (),
    "below_capacity": ("population", "unit", "base"),
    "percent_of_capacity": ("population", "unit", "base"),
    "average_occupancy": ("population", "unit", "base", "period_start"),
    "monitor_rounds": (),
    "rate": ("population", "unit", "base", "condition", "per"),
}
# measures whose value is an input of the toolkit (the agreed places), not computed from stays
INPUT_MEASURES: tuple[str, ...] = ("capacity",)
# measures that read the agreed places (inputs) besides the stays
USES_CAPACITY: tuple[str, ...] = ("capacity", "below_capacity", "percent_of_capacity")
# sections whose entry names other entries may refer to
NAMED_SECTIONS: tuple[str, ...] = (
    "reference_dates", "outcome_schemes", "populations", "units", "bases",
)

StaysColumn = one_of("stays column", STAYS_COLUMNS)
ExitReason = one_of("exit reason", EXIT_REASONS)
Status = one_of("status", STATUSES)
Weight = one_of("weight", BASE_WEIGHTS)
UnitReduction = one_of("unit reduction", UNIT_REDUCTIONS)
Measure = one_of("measure", MEASURE_NEEDS)
Pilot = one_of("pilot", ("all", *PILOTS))
SchemeName = reference("outcome_schemes", "outcome scheme")
PopulationName = reference("populations", "population")
UnitName = reference("units", "unit")
BaseName = reference("bases", "base")


class Labelled(SpecModel):
    """An entry with words in English and Dutch."""

    label_en: NonEmptyStr
    label_nl: NonEmptyStr


class ReferenceDate(Labelled):
    date: dt.date


# ---------------------------------------------------------------------------------------------
# outcome schemes


class OutcomeClass(Labelled):
    exit_reasons: list[ExitReason]


class OutcomeGroup(Labelled):
    classes: list[str] = Field(min_length=1)


class OutcomeScheme(Labelled):
    """Classes that partition the exit reasons, and groups (unions of classes)."""

    classes: dict[str, OutcomeClass] = Field(min_length=1)
    groups: dict[str, OutcomeGroup] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _partition(self) -> OutcomeScheme:
        problems = Problems()
        seen: dict[str, str] = {}
        for name, cls in self.classes.items():
            for reason in cls.exit_reasons:
                if reason in seen:
                    problems.add(("classes", name), f"exit reason {reason!r} is also in class "
                                 f"{seen[reason]!r} (the classes must partition the exit reasons)")
                seen.setdefault(reason, name)
        missing = [r for r in EXIT_REASONS if r not in seen]
        if missing:
            problems.add(("classes",), f"exit reasons in no class: {', '.join(missing)} (the "
                         "classes must partition the exit reasons)")
        for group, entry in self.groups.items():
            if group in self.classes:
                problems.add(("groups", group), "name clashes with a class")
            for cls in entry.classes:
                if cls not in self.classes:
                    problems.add(("groups", group, "classes"), f"unknown class {cls!r} (choose "
                                 f"one of {choices(self.classes)})")
        problems.raise_if_any("outcome scheme")
        return self


# ---------------------------------------------------------------------------------------------
# column conditions (populations and indicator `where`)


def value_problems(column: str, values: list[Any]) -> list[str]:
    """Values that cannot occur in a stays column (categories, booleans)."""
    dtype = STAYS_DTYPES[column]
    if isinstance(dtype, pd.CategoricalDtype):
        known = set(dtype.categories)
        return [f"{v!r} is not a category of {column} (choose one of {choices(sorted(known))})"
                for v in values if v not in known]
    if dtype == "boolean":
        return [f"{v!r} is not true/false" for v in values if not isinstance(v, bool)]
    return []


Bound = float | dt.date | Literal["first_admission"]


class ColumnCondition(SpecModel):
    """One or more operators, all of which must hold: ``{in: [..]}``, ``{eq: v}``,
    ``{gt|ge|lt|le: number, date or (for a date column) first_admission}`` (e.g. a range
    ``{ge: 2019-01-01, lt: 2021-01-01}``), ``{is_null: true|false}``."""

    in_: list[Any] | None = Field(default=None, alias="in")
    eq: Any = None
    gt: Bound | None = None
    ge: Bound | None = None
    lt: Bound | None = None
    le: Bound | None = None
    is_null: bool | None = None

    @model_validator(mode="after")
    def _some_operator(self) -> ColumnCondition:
        if not self.model_fields_set:
            raise ValueError(f"expected one or more of {', '.join(OPERATORS)} (all must hold)")
        return self

    def bounds(self) -> dict[str, Any]:
        """The comparison operators given, with their values."""
        return {op: getattr(self, op) for op in ("gt", "ge", "lt", "le") if op in self.model_fields_set}

    def values(self) -> list[Any]:
        """The values compared by ``in`` or ``eq`` (empty for other operators)."""
        if self.in_ is not None:
            return list(self.in_)
        return [self.eq] if "eq" in self.model_fields_set else []


def _where_values(where: dict[str, ColumnCondition]) -> dict[str, ColumnCondition]:
    problems = Problems()
    for column, cond in where.items():
        for op in sorted(cond.model_fields_set & {"in_", "eq"}):
            for text in value_problems(column, cond.values()):
                problems.add((column, op.rstrip("_")), text)
        for op, value in cond.bounds().items():
            if value == FIRST_ADMISSION and STAYS_DTYPES[column] != "datetime64[ns]":
                problems.add((column, op), f"{FIRST_ADMISSION!r} compares dates; {column} is not one")
    problems.raise_if_any("where")
    return where


Where = Annotated[dict[StaysColumn, ColumnCondition], AfterValidator(_where_values)]


class Population(Labelled):
    where: Where = Field(default_factory=dict)
    removed: dict[StaysColumn, Labelled] = Field(default_factory=dict)


class Unit(Labelled):
    reduce: UnitReduction


def _date_or_reference(value: str | dt.date, info: ValidationInfo, extra: tuple[str, ...] = ()) -> str | dt.date:
    names = ((info.context or {}).get("names") or {}).get("reference_dates")
    if isinstance(value, str) and value not in extra and names is not None and value not in names:
        raise ValueError(f"unknown reference date {value!r} (choose one of "
                         f"{choices([*extra, *names])} or give a date)")
    return value


class Base(Labelled):
    status: list[Status] = Field(min_length=1)
    weight: Weight | None = None
    status_date: Annotated[dt.date | str, AfterValidator(_date_or_reference)] | None = Field(
        default=None, description="the date the status is taken on, when not the indicator's "
                                  "reference date (a date or a reference date name)")


def _censoring_end(value: str | dt.date, info: ValidationInfo) -> str | dt.date:
    return _date_or_reference(value, info, (DATA_CUT,))


class CensoringRule(Labelled):
    """Where follow-up ends in the time-to-event analyses (the sensitivity grid varies it)."""

    end: Annotated[dt.date | str, AfterValidator(_censoring_end)] = DATA_CUT
    censor_exit_reasons: list[ExitReason] = Field(default_factory=list)
    max_days: int | None = Field(default=None, gt=0)


# ---------------------------------------------------------------------------------------------
# indicator conditions


class OutcomeCondition(SpecModel):
    scheme: SchemeName
    class_: str = Field(alias="class")

    @field_validator("class_")
    @classmethod
    def _known_class(cls, value: str, info: ValidationInfo) -> str:
        schemes = ((info.context or {}).get("raw") or {}).get("outcome_schemes") or {}
        scheme = schemes.get(info.data.get("scheme"))
        if not isinstance(scheme, Mapping):
            return value
        known = [*(scheme.get("classes") or {}), *(scheme.get("groups") or {})]
        if value not in known:
            raise ValueError(f"{value!r} is no class or group of {info.data['scheme']} (choose "
                             f"one of {choices(known)})")
        return value


class KnownAtReference(SpecModel):
    column: StaysColumn
    date_column: StaysColumn
    in_: list[Any] | None = Field(default=None, alias="in")

    @model_validator(mode="after")
    def _values(self) -> KnownAtReference:
        problems = Problems()
        for text in value_problems(self.column, list(self.in_ or [])):
            problems.add(("in",), text)
        problems.raise_if_any("known_at_reference")
        return self


class Condition(SpecModel):
    outcome: OutcomeCondition | None = None
    known_at_reference: KnownAtReference | None = None
    where: Where | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        if not self.model_fields_set:
            raise ValueError(f"expected one or more of {', '.join(CONDITION_KINDS)}")
        return self


# ---------------------------------------------------------------------------------------------
# indicators


def _reference_date(value: str | dt.date, info: ValidationInfo) -> str | dt.date:
    return _date_or_reference(value, info)


def _period_start(value: str | dt.date) -> str | dt.date:
    if isinstance(value, str) and value != "first_admission":
        raise ValueError("'first_admission' or a date")
    return value



class IndicatorBase(SpecModel):
    """An indicator: what to count, among whom, on which date (one per published figure)."""

    measure: Measure
    reference_date: Annotated[dt.date | str, AfterValidator(_reference_date)] | None = None
    pilot: Pilot | None = None
    population: PopulationName | None = None
    unit: UnitName | None = None
    base: BaseName | None = None
    condition: Condition | None = None
    column: StaysColumn | None = None
    period_start: Annotated[dt.date | str, AfterValidator(_period_start)] | None = None
    per: int | None = Field(default=None, gt=0)
    note_en: str | None = None
    note_nl: str | None = None
    label_en: str | None = None
    label_nl: str | None = None
    gap_reason_en: str | None = None
    gap_reason_nl: str | None = None

    @model_validator(mode="after")
    def _measure_needs(self, info: ValidationInfo) -> IndicatorBase:
        problems = Problems()
        for key in MEASURE_NEEDS[self.measure]:
            if getattr(self, key) is None:
                problems.add((key,), f"missing: measure {self.measure!r} needs it")
        bases = ((info.context or {}).get("raw") or {}).get("bases") or {}
        base = bases.get(self.base) if self.base else None
        if self.measure == "rate" and isinstance(base, Mapping) and base.get("weight") != "person_days":
            problems.add(("base",), f"a rate needs a person-time base ({self.base!r} has no "
                         "weight: person_days)")
        problems.raise_if_any("indicator")
        return self


class Indicator(IndicatorBase):
    """An indicator for a published figure: it names its pilot and its reference date."""

    reference_date: Annotated[dt.date | str, AfterValidator(_reference_date)]
    pilot: Pilot


class MonitorIndicator(IndicatorBase):
    """An indicator of ``lvv-eval monitor`` (pilot and date come from the monitor run)."""

    label_en: NonEmptyStr
    label_nl: NonEmptyStr


# ---------------------------------------------------------------------------------------------
# comparison, reconciliation, words


class Qualifier(SpecModel):
    low: float
    high: float
    exclusive_low: bool = False
    label_nl: str | None = None


class Comparison(SpecModel):
    decimals: dict[str, int] = Field(default_factory=dict)
    approximate_qualifiers: dict[str, Qualifier] = Field(default_factory=dict)
    booleans: dict[str, bool] = Field(default_factory=dict)


class ReconciliationStep(Labelled):
    rules: list[str] = Field(default_factory=list)
    rule_prefixes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some_rules(self) -> ReconciliationStep:
        if not (self.rules or self.rule_prefixes):
            raise ValueError("give `rules` (rule ids) or `rule_prefixes`")
        return self


class _OpenWords(SpecModel):
    """Report wording: the keys the code needs (below) and any others the file adds."""

    model_config = ConfigDict(extra="allow", frozen=True)


Words = create_model(
    "Words", __base__=_OpenWords, **{key: (NonEmptyStr, ...) for key in REQUIRED_WORDS})


class WordsByLanguage(SpecModel):
    en: Words  # type: ignore[valid-type]
    nl: Words  # type: ignore[valid-type]


def _moved_to_capacity(value: Any) -> Any:
    raise ValueError("the agreed places are no longer part of the definitions: they live in "
                     "one file, specs/capacity.yaml (give your own with --capacity FILE)")


class DefinitionsFile(SpecModel):
    """A whole definitions file."""

    schema_version: Literal[1] = 1
    reference_dates: dict[str, ReferenceDate]
    outcome_schemes: dict[str, OutcomeScheme]
    populations: dict[str, Population]
    units: dict[str, Unit]
    bases: dict[str, Base]
    comparison: Comparison
    blocks: dict[str, Any] = Field(default_factory=dict, description="YAML anchors only")
    indicators: dict[str, Indicator]
    monitor: dict[str, MonitorIndicator] = Field(default_factory=dict)
    reconciliation: dict[str, ReconciliationStep] = Field(default_factory=dict)
    words: WordsByLanguage
    censoring: dict[str, CensoringRule] = Field(
        default_factory=dict, description="censoring rules of the time-to-event analyses")
    chain_verification: ChainVerification | None = Field(
        default=None, description="where outcomes and prior procedures come from (municipal "
                                  "records, the IND and DT&V registers, or both agreeing)")
    agreed_places: Annotated[Any, AfterValidator(_moved_to_capacity)] = Field(
        default=None, json_schema_extra={"deprecated": True})


def definitions_context(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What the cross-checks look up: the names in each section and the raw sections."""
    names = {s: list(raw[s]) for s in NAMED_SECTIONS if isinstance(raw.get(s), Mapping)}
    return {"names": names, "raw": raw}
