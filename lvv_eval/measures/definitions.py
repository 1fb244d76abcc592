"""Definitions as data: load and check ``specs/definitions.yaml`` and evaluate its parts on stays.

The YAML holds outcome schemes, populations, counting units, denominators (bases), reference
dates and one indicator per published figure. This module validates that file (every error at
once, each named by its path in the YAML) and offers one function per building block:
population, unit, base, outcome class, condition, each evaluated on a stays table at a
reference date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from lvv_eval.config import PILOTS, SPECS_DIR
from lvv_eval.schema import EXIT_REASONS, STAYS_COLUMNS, STAYS_DTYPES

DEFINITIONS_YAML = SPECS_DIR / "definitions.yaml"

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
INDICATOR_KEYS: frozenset[str] = frozenset(
    {
        "reference_date", "pilot", "population", "unit", "base", "measure", "condition",
        "column", "period_start", "per", "note_en", "note_nl", "label_en", "label_nl",
        "gap_reason_en", "gap_reason_nl",
    }
)


class DefinitionsError(ValueError):
    """The definitions file is malformed; the message lists every problem with its YAML path."""


@dataclass(frozen=True)
class Definitions:
    """A validated definitions file (the parsed YAML plus where it came from)."""

    raw: Mapping[str, Any]
    path: Path

    @property
    def reference_dates(self) -> Mapping[str, Any]:
        return self.raw["reference_dates"]

    @property
    def outcome_schemes(self) -> Mapping[str, Any]:
        return self.raw["outcome_schemes"]

    @property
    def populations(self) -> Mapping[str, Any]:
        return self.raw["populations"]

    @property
    def units(self) -> Mapping[str, Any]:
        return self.raw["units"]

    @property
    def bases(self) -> Mapping[str, Any]:
        return self.raw["bases"]

    @property
    def indicators(self) -> Mapping[str, Any]:
        return self.raw["indicators"]

    @property
    def monitor(self) -> Mapping[str, Any]:
        return self.raw.get("monitor", {})

    @property
    def comparison(self) -> Mapping[str, Any]:
        return self.raw["comparison"]

    @property
    def agreed_places(self) -> Mapping[str, Any]:
        return self.raw["agreed_places"]

    def words(self, lang: str) -> Mapping[str, str]:
        """Report wording in ``lang`` ("en" or "nl")."""
        return self.raw["words"][lang]

    @property
    def reconciliation(self) -> Mapping[str, Any]:
        return self.raw.get("reconciliation", {})

    @property
    def censoring(self) -> Mapping[str, Any]:
        return self.raw.get("censoring") or {}


# ---------------------------------------------------------------------------------------------
# loading and validation


def load_definitions(path: str | Path | None = None) -> Definitions:
    """Read and validate a definitions YAML (the package's own by default)."""
    path = Path(path) if path is not None else DEFINITIONS_YAML
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DefinitionsError(f"{path}: definitions file not found") from exc
    except yaml.YAMLError as exc:
        raise DefinitionsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise DefinitionsError(f"{path}: expected a mapping at the top level")
    errors = definitions_errors(raw)
    if errors:
        listing = "\n  ".join(errors)
        raise DefinitionsError(f"{path}: {len(errors)} problem(s):\n  {listing}")
    return Definitions(raw=raw, path=path)


def definitions_errors(raw: Mapping[str, Any]) -> list[str]:
    """Every problem in a parsed definitions mapping, each prefixed by its YAML path."""
    errors: list[str] = []
    for section in ("reference_dates", "outcome_schemes", "populations", "units", "bases",
                    "indicators", "comparison", "agreed_places", "words"):
        if not isinstance(raw.get(section), dict):
            errors.append(f"{section}: missing or not a mapping")
    if errors:
        return errors
    errors += _reference_date_errors(raw["reference_dates"])
    errors += _scheme_errors(raw["outcome_schemes"])
    for name, pop in raw["populations"].items():
        errors += _label_errors(f"populations.{name}", pop)
        errors += _where_errors(f"populations.{name}.where", (pop or {}).get("where", {}))
        for column, words in ((pop or {}).get("removed") or {}).items():
            errors += _label_errors(f"populations.{name}.removed.{column}", words)
    for name, unit in raw["units"].items():
        errors += _label_errors(f"units.{name}", unit)
        if (unit or {}).get("reduce") not in UNIT_REDUCTIONS:
            errors.append(f"units.{name}.reduce: must be one of {', '.join(UNIT_REDUCTIONS)}")
    for name, base in raw["bases"].items():
        errors += _base_errors(f"bases.{name}", base)
    errors += _base_date_errors(raw)
    errors += _agreed_places_errors(raw["agreed_places"])
    errors += _words_errors(raw["words"])
    for fid, ind in raw["indicators"].items():
        errors += indicator_errors(raw, f"indicators.{fid}", ind, needs_context=True)
    for name, step in (raw.get("reconciliation") or {}).items():
        errors += _reconciliation_errors(f"reconciliation.{name}", step)
    for name, ind in (raw.get("monitor") or {}).items():
        errors += indicator_errors(raw, f"monitor.{name}", ind, needs_context=False)
        errors += _label_errors(f"monitor.{name}", ind)
    errors += [e for name, rule in (raw.get("censoring") or {}).items()
               for e in _censoring_errors(raw, f"censoring.{name}", rule)]
    return errors


def _label_errors(where: str, entry: Any) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{where}: expected a mapping"]
    return [f"{where}.{key}: missing label" for key in ("label_en", "label_nl")
            if not isinstance(entry.get(key), str) or not entry[key].strip()]


def _reference_date_errors(dates: Mapping[str, Any]) -> list[str]:
    errors = []
    for name, entry in dates.items():
        errors += _label_errors(f"reference_dates.{name}", entry)
        if isinstance(entry, dict) and not isinstance(entry.get("date"), date):
            errors.append(f"reference_dates.{name}.date: expected a date (YYYY-MM-DD)")
    return errors


def _scheme_errors(schemes: Mapping[str, Any]) -> list[str]:
    errors = []
    for name, scheme in schemes.items():
        where = f"outcome_schemes.{name}"
        errors += _label_errors(where, scheme)
        classes = (scheme or {}).get("classes") if isinstance(scheme, dict) else None
        if not isinstance(classes, dict) or not classes:
            errors.append(f"{where}.classes: missing or empty")
            continue
        seen: dict[str, str] = {}
        for cls, entry in classes.items():
            errors += _label_errors(f"{where}.classes.{cls}", entry)
            for reason in (entry or {}).get("exit_reasons", []):
                if reason not in EXIT_REASONS:
                    errors.append(f"{where}.classes.{cls}: unknown exit reason {reason!r}")
                elif reason in seen:
                    errors.append(
                        f"{where}.classes.{cls}: exit reason {reason!r} already in class "
                        f"{seen[reason]!r} (classes must partition the exit reasons)"
                    )
                else:
                    seen[reason] = cls
        missing = [r for r in EXIT_REASONS if r not in seen]
        if missing:
            errors.append(f"{where}.classes: exit reasons in no class: {', '.join(missing)}")
        for group, entry in ((scheme.get("groups") or {}).items()):
            errors += _label_errors(f"{where}.groups.{group}", entry)
            if group in classes:
                errors.append(f"{where}.groups.{group}: name clashes with a class")
            for cls in (entry or {}).get("classes", []):
                if cls not in classes:
                    errors.append(f"{where}.groups.{group}: unknown class {cls!r}")
    return errors


def _base_errors(where: str, base: Any) -> list[str]:
    errors = _label_errors(where, base)
    if not isinstance(base, dict):
        return errors
    status = base.get("status")
    if not isinstance(status, list) or not status or any(s not in STATUSES for s in status):
        errors.append(f"{where}.status: a non-empty list drawn from {', '.join(STATUSES)}")
    if base.get("weight") is not None and base["weight"] not in BASE_WEIGHTS:
        errors.append(f"{where}.weight: must be one of {', '.join(BASE_WEIGHTS)}")
    return errors


def _date_or_reference_errors(raw: Mapping[str, Any], where: str, value: Any,
                              extra: tuple[str, ...] = ()) -> list[str]:
    if isinstance(value, date) or (isinstance(value, str) and (
            value in raw["reference_dates"] or value in extra)):
        return []
    names = ", ".join([*extra, *raw["reference_dates"]])
    return [f"{where}: a date or one of {names}"]


def _base_date_errors(raw: Mapping[str, Any]) -> list[str]:
    return [error for name, base in raw["bases"].items()
            if isinstance(base, dict) and "status_date" in base
            for error in _date_or_reference_errors(raw, f"bases.{name}.status_date",
                                                   base["status_date"])]


def _censoring_errors(raw: Mapping[str, Any], where: str, rule: Any) -> list[str]:
    errors = _label_errors(where, rule)
    if not isinstance(rule, dict):
        return errors
    errors += [f"{where}.{k}: unknown key" for k in rule
               if k not in ("label_en", "label_nl", "end", "censor_exit_reasons", "max_days")]
    errors += _date_or_reference_errors(raw, f"{where}.end", rule.get("end", DATA_CUT),
                                        (DATA_CUT,))
    reasons = rule.get("censor_exit_reasons", [])
    if not isinstance(reasons, list) or any(r not in EXIT_REASONS for r in reasons):
        errors.append(f"{where}.censor_exit_reasons: a list of exit reasons")
    days = rule.get("max_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days <= 0):
        errors.append(f"{where}.max_days: a whole number of days > 0")
    return errors


def _reconciliation_errors(where: str, step: Any) -> list[str]:
    errors = _label_errors(where, step)
    if isinstance(step, dict) and not (step.get("rules") or step.get("rule_prefixes")):
        errors.append(f"{where}: give `rules` (rule ids) or `rule_prefixes`")
    return errors


def _words_errors(words: Mapping[str, Any]) -> list[str]:
    errors = [f"words.{lang}: missing" for lang in LANGUAGES if not isinstance(words.get(lang), dict)]
    if errors:
        return errors
    for lang in LANGUAGES:
        errors += [f"words.{lang}.{key}: missing" for key in REQUIRED_WORDS
                   if not str(words[lang].get(key, "")).strip()]
    return errors


def _agreed_places_errors(places: Mapping[str, Any]) -> list[str]:
    errors = []
    if not str(places.get("source", "")).strip():
        errors.append("agreed_places.source: say where the agreed places come from")
    if not isinstance(places.get("valid_from"), date):
        errors.append("agreed_places.valid_from: expected a date")
    table = places.get("places") or {}
    for pilot in PILOTS:
        if not isinstance(table.get(pilot), int) or table[pilot] < 0:
            errors.append(f"agreed_places.places.{pilot}: expected a whole number >= 0")
    errors += [f"agreed_places.places.{p}: unknown pilot" for p in table if p not in PILOTS]
    return errors


def _where_errors(where: str, conditions: Any) -> list[str]:
    if not isinstance(conditions, dict):
        return [f"{where}: expected a mapping column -> condition"]
    errors = []
    for column, cond in conditions.items():
        path = f"{where}.{column}"
        if column not in STAYS_COLUMNS:
            errors.append(f"{path}: unknown stays column")
        elif not isinstance(cond, dict) or not cond:
            errors.append(f"{path}: expected one or more of {', '.join(OPERATORS)} (all must hold)")
        else:
            errors += [e for op, value in cond.items()
                       for e in _operator_errors(path, column, op, value)]
    return errors


def _operator_errors(path: str, column: str, op: str, value: Any) -> list[str]:
    if op not in OPERATORS:
        return [f"{path}: unknown operator {op!r} (use {', '.join(OPERATORS)})"]
    if op == "in":
        return _value_errors(path, column, value if isinstance(value, list) else [value])
    if op == "eq":
        return _value_errors(path, column, [value])
    if op == "is_null" and not isinstance(value, bool):
        return [f"{path}.is_null: expected true or false"]
    if op in ("gt", "ge", "lt", "le"):
        if value == FIRST_ADMISSION and STAYS_DTYPES[column] == "datetime64[ns]":
            return []
        if not isinstance(value, int | float | date):
            return [f"{path}.{op}: expected a number, a date or (for a date column) "
                    f"{FIRST_ADMISSION!r}"]
    return []


def _value_errors(path: str, column: str, values: list[Any]) -> list[str]:
    dtype = STAYS_DTYPES[column]
    if isinstance(dtype, pd.CategoricalDtype):
        known = set(dtype.categories)
        return [f"{path}: {v!r} is not a category of {column}" for v in values if v not in known]
    if dtype == "boolean":
        return [f"{path}: {v!r} is not true/false" for v in values if not isinstance(v, bool)]
    return []


def indicator_errors(
    raw: Mapping[str, Any], where: str, ind: Any, needs_context: bool
) -> list[str]:
    """Problems in one indicator entry (``needs_context``: it must name a pilot and a date)."""
    if not isinstance(ind, dict):
        return [f"{where}: expected a mapping"]
    errors = [f"{where}.{k}: unknown key" for k in ind if k not in INDICATOR_KEYS]
    measure = ind.get("measure")
    if measure not in MEASURE_NEEDS:
        return errors + [f"{where}.measure: must be one of {', '.join(MEASURE_NEEDS)}"]
    errors += [f"{where}: measure {measure!r} needs {key!r}" for key in MEASURE_NEEDS[measure]
               if key not in ind]
    if needs_context:
        if "reference_date" not in ind:
            errors.append(f"{where}.reference_date: missing")
        if ind.get("pilot") != "all" and ind.get("pilot") not in PILOTS:
            errors.append(f"{where}.pilot: 'all' or one of {', '.join(PILOTS)}")
    ref = ind.get("reference_date")
    if ref is not None and not isinstance(ref, date) and ref not in raw["reference_dates"]:
        errors.append(f"{where}.reference_date: unknown reference date {ref!r}")
    for key, section in (("population", "populations"), ("unit", "units"), ("base", "bases")):
        if key in ind and ind[key] not in raw[section]:
            errors.append(f"{where}.{key}: unknown {key} {ind[key]!r} (not in {section})")
    if "column" in ind and ind["column"] not in STAYS_COLUMNS:
        errors.append(f"{where}.column: unknown stays column {ind['column']!r}")
    if "per" in ind and (not isinstance(ind["per"], int) or ind["per"] <= 0):
        errors.append(f"{where}.per: a whole number > 0 (e.g. 1000 person-days)")
    if measure == "rate" and ind.get("base") in raw["bases"] and \
            raw["bases"][ind["base"]].get("weight") != "person_days":
        errors.append(f"{where}.base: a rate needs a person-time base")
    start = ind.get("period_start")
    if start is not None and start != "first_admission" and not isinstance(start, date):
        errors.append(f"{where}.period_start: 'first_admission' or a date")
    if "condition" in ind:
        errors += _condition_errors(raw, f"{where}.condition", ind["condition"])
    return errors


def _condition_errors(raw: Mapping[str, Any], where: str, cond: Any) -> list[str]:
    if not isinstance(cond, dict) or not cond:
        return [f"{where}: expected a mapping with {', '.join(CONDITION_KINDS)}"]
    errors = [f"{where}.{k}: unknown condition kind" for k in cond if k not in CONDITION_KINDS]
    if "outcome" in cond:
        out = cond["outcome"] or {}
        scheme = raw["outcome_schemes"].get(out.get("scheme"))
        if scheme is None:
            errors.append(f"{where}.outcome.scheme: unknown scheme {out.get('scheme')!r}")
        elif out.get("class") not in {**scheme["classes"], **(scheme.get("groups") or {})}:
            errors.append(
                f"{where}.outcome.class: {out.get('class')!r} is no class or group of "
                f"{out.get('scheme')}"
            )
    if "known_at_reference" in cond:
        known = cond["known_at_reference"] or {}
        for key in ("column", "date_column"):
            if known.get(key) not in STAYS_COLUMNS:
                errors.append(f"{where}.known_at_reference.{key}: unknown stays column")
        if "in" in known and known.get("column") in STAYS_COLUMNS:
            errors += _value_errors(f"{where}.known_at_reference.in", known["column"],
                                    list(known["in"]))
    if "where" in cond:
        errors += _where_errors(f"{where}.where", cond["where"])
    return errors


# ---------------------------------------------------------------------------------------------
# evaluation on a stays table


def resolve_reference_date(defs: Definitions, ref: str | date | datetime) -> pd.Timestamp:
    """The reference date named ``ref`` in the definitions, or ``ref`` itself if it is a date."""
    if isinstance(ref, date | datetime):
        return pd.Timestamp(ref)
    if ref not in defs.reference_dates:
        raise DefinitionsError(f"unknown reference date {ref!r}")
    return pd.Timestamp(defs.reference_dates[ref]["date"])


def where_mask(stays: pd.DataFrame, conditions: Mapping[str, Any]) -> pd.Series:
    """Rows meeting every column condition (null values never meet a comparison)."""
    mask = pd.Series(True, index=stays.index)
    for column, cond in conditions.items():
        for op, value in cond.items():
            hit = _operator_hit(stays, stays[column], op, value)
            mask &= pd.Series(hit, index=stays.index).fillna(False).astype(bool)
    return mask


def _operator_hit(stays: pd.DataFrame, col: pd.Series, op: str, value: Any) -> Any:
    if op == "is_null":
        return col.isna() if value else col.notna()
    if op in ("in", "eq"):
        return col.isin(value if isinstance(value, list) else [value])
    if value == FIRST_ADMISSION:
        ref = stays.groupby("pilot", observed=True)["admission_date"].transform("min")
    else:
        ref = pd.Timestamp(value) if isinstance(value, date) else value
    return {"gt": col.gt, "ge": col.ge, "lt": col.lt, "le": col.le}[op](ref)


def population_mask(defs: Definitions, stays: pd.DataFrame, population: str) -> pd.Series:
    """Stays that belong to the named population."""
    return where_mask(stays, defs.populations[population].get("where") or {})


def pilot_mask(stays: pd.DataFrame, pilot: str) -> pd.Series:
    """Stays of one pilot, or all stays for ``"all"``."""
    if pilot == "all":
        return pd.Series(True, index=stays.index)
    return (stays["pilot"] == pilot).fillna(False).astype(bool)


def stay_status(stays: pd.DataFrame, ref: pd.Timestamp) -> pd.Series:
    """Each stay's status on ``ref``: ``not_admitted``, ``present`` or ``left`` (exit before ref)."""
    admitted = (stays["admission_date"] <= ref).to_numpy(dtype=bool, na_value=False)
    left = (stays["exit_date"] < ref).to_numpy(dtype=bool, na_value=False)
    status = np.where(~admitted, "not_admitted", np.where(left, "left", "present"))
    return pd.Series(pd.Categorical(status, categories=list(STATUSES)), index=stays.index)


def last_stay_per_person(stays: pd.DataFrame, ref: pd.Timestamp) -> pd.DataFrame:
    """Per person, the last stay admitted on or before ``ref`` (ties: the ongoing or latest exit)."""
    admitted = stays[stays["admission_date"] <= ref]
    ordered = admitted.sort_values(
        ["person_id", "admission_date", "exit_date"], na_position="last", kind="stable"
    )
    return ordered.drop_duplicates("person_id", keep="last")


def first_stay_per_person(stays: pd.DataFrame, ref: pd.Timestamp) -> pd.DataFrame:
    """Per person, the first stay admitted on or before ``ref`` (ties: the earliest exit)."""
    admitted = stays[stays["admission_date"] <= ref]
    ordered = admitted.sort_values(
        ["person_id", "admission_date", "exit_date"], na_position="last", kind="stable"
    )
    return ordered.drop_duplicates("person_id", keep="first")


def reduce_stays(stays: pd.DataFrame, reduce: str, ref: pd.Timestamp) -> pd.DataFrame:
    """Stays reduced by a unit's ``reduce`` rule at ``ref`` (one of :data:`UNIT_REDUCTIONS`)."""
    if reduce == "last_stay_per_person":
        return last_stay_per_person(stays, ref)
    if reduce == "first_stay_per_person":
        return first_stay_per_person(stays, ref)
    return stays


def reduce_to_unit(
    defs: Definitions, stays: pd.DataFrame, unit: str, ref: pd.Timestamp
) -> pd.DataFrame:
    """The counting units at ``ref``: stays as they are, or one row per person (its last or its
    first stay)."""
    return reduce_stays(stays, defs.units[unit]["reduce"], ref)


def base_status_date(defs: Definitions, base: str, ref: pd.Timestamp) -> pd.Timestamp:
    """The date a base takes its status on: its own ``status_date``, or the indicator's ``ref``."""
    on = defs.bases[base].get("status_date")
    return ref if on is None else resolve_reference_date(defs, on)


def base_mask(defs: Definitions, table: pd.DataFrame, base: str, ref: pd.Timestamp) -> pd.Series:
    """Units that belong to the named base (denominator): status on ``ref`` (or the base's own
    ``status_date``)."""
    status_date = base_status_date(defs, base, ref)
    return stay_status(table, status_date).isin(defs.bases[base]["status"]).astype(bool)


def person_days(
    table: pd.DataFrame, ref: pd.Timestamp, start: pd.Timestamp | None = None
) -> pd.Series:
    """Days each unit was present (by the present-on-day rule) from ``start`` up to ``ref``."""
    first = table["admission_date"] if start is None else table["admission_date"].clip(lower=start)
    last = table["exit_date"].fillna(ref).clip(upper=ref)
    days = (last - first).dt.days + 1
    return days.clip(lower=0).fillna(0).astype("int64")


def base_weights(
    defs: Definitions, table: pd.DataFrame, base: str, ref: pd.Timestamp
) -> pd.Series:
    """Weight of each unit in the base: 1, or its person-days for a person-time base."""
    if defs.bases[base].get("weight") == "person_days":
        return person_days(table, ref)
    return pd.Series(1, index=table.index, dtype="int64")


def scheme_classes(defs: Definitions, scheme: str) -> dict[str, frozenset[str]]:
    """Exit reasons per class and per group of an outcome scheme."""
    entry = defs.outcome_schemes[scheme]
    out = {cls: frozenset(c.get("exit_reasons", [])) for cls, c in entry["classes"].items()}
    for group, g in (entry.get("groups") or {}).items():
        out[group] = frozenset().union(*(out[c] for c in g["classes"]))
    return out


def classify_exits(defs: Definitions, exit_reason: pd.Series, scheme: str) -> pd.Series:
    """The class (not group) of each exit under a scheme; null where there is no exit."""
    classes = defs.outcome_schemes[scheme]["classes"]
    mapping = {r: cls for cls, c in classes.items() for r in c.get("exit_reasons", [])}
    return exit_reason.astype("object").map(mapping).astype(
        pd.CategoricalDtype(list(classes))
    )


def outcome_mask(
    defs: Definitions, table: pd.DataFrame, scheme: str, outcome_class: str
) -> pd.Series:
    """Units whose exit falls in a class or group of the scheme."""
    reasons = scheme_classes(defs, scheme)[outcome_class]
    return table["exit_reason"].isin(list(reasons)).fillna(False).astype(bool)


def known_at_reference_mask(
    table: pd.DataFrame,
    column: str,
    date_column: str,
    ref: pd.Timestamp,
    values: list[Any] | None = None,
) -> pd.Series:
    """Units whose ``column`` is set (and in ``values``) with its date on or before ``ref``."""
    dated = (table[date_column] <= ref).fillna(False).astype(bool)
    value = table[column].isin(values) if values is not None else table[column].notna()
    return dated & pd.Series(value, index=table.index).fillna(False).astype(bool)


def condition_mask(
    defs: Definitions, table: pd.DataFrame, condition: Mapping[str, Any], ref: pd.Timestamp
) -> pd.Series:
    """Units meeting every part of an indicator condition (outcome, known_at_reference, where)."""
    mask = pd.Series(True, index=table.index)
    if "outcome" in condition:  # an outcome counts once the stay ended before the date
        out = condition["outcome"]
        ended = (table["exit_date"] < ref).fillna(False).astype(bool)
        mask &= outcome_mask(defs, table, out["scheme"], out["class"]) & ended
    if "known_at_reference" in condition:
        k = condition["known_at_reference"]
        mask &= known_at_reference_mask(table, k["column"], k["date_column"], ref, k.get("in"))
    if "where" in condition:
        mask &= where_mask(table, condition["where"])
    return mask


# ---------------------------------------------------------------------------------------------
# definitions in words


def label(entry: Mapping[str, Any], lang: str) -> str:
    """The label of a definitions entry in ``lang`` ("en" or "nl")."""
    return str(entry[f"label_{lang}"])


def outcome_label(defs: Definitions, scheme: str, outcome_class: str, lang: str) -> str:
    """Words for a class or group of a scheme, with the scheme's name."""
    entry = defs.outcome_schemes[scheme]
    part = {**entry["classes"], **(entry.get("groups") or {})}[outcome_class]
    return f"{label(part, lang)} [{label(entry, lang)}]"
