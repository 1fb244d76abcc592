"""Definitions as data: load and check ``specs/definitions.yaml`` and evaluate its parts on stays.

The YAML holds outcome schemes, populations, counting units, denominators (bases), reference
dates and one indicator per published figure. This module validates that file (every error at
once, each named by its path in the YAML) and offers one function per building block:
population, unit, base, outcome class, condition, each evaluated on a stays table at a
reference date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from lvv_eval.config import SPECS_DIR
from lvv_eval.measures.chain_choices import ChainVerification, chain_choices, with_choices
from lvv_eval.measures.definitions_models import (
    CONDITION_KINDS,
    DATA_CUT,
    FIRST_ADMISSION,
    INPUT_MEASURES,
    LANGUAGES,
    MEASURE_NEEDS,
    OPERATORS,
    REQUIRED_WORDS,
    STATUSES,
    UNIT_REDUCTIONS,
    USES_CAPACITY,
    DefinitionsFile,
    definitions_context,
)
from lvv_eval.specfiles import SpecFileError, read_mapping, validate_spec

DEFINITIONS_YAML = SPECS_DIR / "definitions.yaml"

__all__ = [
    "CONDITION_KINDS", "DATA_CUT", "DEFINITIONS_YAML", "FIRST_ADMISSION", "INPUT_MEASURES", "LANGUAGES", "MEASURE_NEEDS",
    "OPERATORS", "REQUIRED_WORDS", "STATUSES", "UNIT_REDUCTIONS", "USES_CAPACITY", "Definitions", "DefinitionsError",
    "load_definitions", "load_definitions_mapping",
]


class DefinitionsError(SpecFileError, ValueError):
    """The definitions file is malformed; the message lists every problem with its YAML path."""


@dataclass(frozen=True)
class Definitions:
    """A validated definitions file: the parsed YAML (what the evaluation reads), its model
    (the same content, typed) and where it came from."""

    raw: Mapping[str, Any]
    path: Path
    model: DefinitionsFile | None = field(default=None, repr=False, compare=False)

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

    def words(self, lang: str) -> Mapping[str, str]:
        """Report wording in ``lang`` ("en" or "nl")."""
        return self.raw["words"][lang]

    @property
    def reconciliation(self) -> Mapping[str, Any]:
        return self.raw.get("reconciliation", {})

    @property
    def chain_verification(self) -> ChainVerification:
        """Where outcomes and prior departure procedures come from (municipal, chain, both)."""
        return chain_choices(self.raw)

    def with_chain_choices(self, **choices: str) -> Definitions:
        """A copy with other chain verification choices (``outcome_source=``,
        ``prior_procedures_source=``, ``unverified_exit_reason=``), for the sensitivity grid."""
        return Definitions(raw=with_choices(self.raw, **choices), path=self.path)

    @property
    def censoring(self) -> Mapping[str, Any]:
        return self.raw.get("censoring") or {}


# ---------------------------------------------------------------------------------------------
# loading and validation (the structure is declared in definitions_models.py)


def load_definitions(path: str | Path | None = None) -> Definitions:
    """Read and validate a definitions YAML (the package's own by default)."""
    path = Path(path) if path is not None else DEFINITIONS_YAML
    raw = read_mapping(path, "definitions file", DefinitionsError, loader=_read_yaml_1_1)
    return load_definitions_mapping(raw, path)


def _read_yaml_1_1(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_definitions_mapping(raw: Mapping[str, Any], path: str | Path) -> Definitions:
    """A parsed definitions mapping validated (every problem at once, each with its YAML path);
    ``path`` names where it came from in messages (e.g. a grid variant of the package's file)."""
    model = validate_spec(DefinitionsFile, raw, path, DefinitionsError,
                          context=definitions_context(raw))
    return Definitions(raw=raw, path=Path(path), model=model)


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
