"""Validation rules as data, confronted with the data (after the R package ``validate``).

A rule has an id, a label, a severity and an expression over the harmonised fields. Confronting
a frame with the rules gives, per rule and row, True (pass), False (fail) or missing (the rule
could not be decided because an input is missing); a rule whose expression cannot be evaluated is
counted as an error, never fatal. Rows that fail a rule of severity ``error`` are quarantined.

Expressions see each field as a column with missing-value logic (dates as day numbers, so that
``exit_date >= admission_date`` is missing when either date is), plus the helpers of
:func:`namespace`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from lvv_eval.config import DATA_CUT_DATE, EARLIEST_VALID_DATE
from lvv_eval.ingest.spec_models import RULES_FILE, Rule, load_rules_file

SUMMARY_COLUMNS = ("rule_id", "label", "severity", "items", "passes", "fails", "missing", "errors",
                   "error_message")


def load_rules(path: Path = RULES_FILE) -> list[Rule]:
    """Read the validation rules file (structure: :class:`~lvv_eval.ingest.spec_models.Rule`);
    every malformed rule is named with its YAML path."""
    return list(load_rules_file(Path(path)).rules)


PLACEHOLDER_FILLER = re.compile(r"[\W_0]*")


@cache
def load_placeholders(path: Path = RULES_FILE) -> frozenset[str]:
    """Identifier values that stand for "no identifier" (``placeholder_ids`` in the rules file)."""
    return frozenset(v.strip().casefold() for v in load_rules_file(Path(path)).placeholder_ids)


def placeholder_mask(values: pd.Series, placeholders: frozenset[str]) -> pd.Series:
    """True where an identifier is a placeholder: a listed word (``onbekend``, ``n.b.``), or only
    zeros, punctuation and spaces (``0``, ``-``, ``?``, ``000``); missing where it is missing."""
    def one(v: str) -> bool:
        norm = v.strip().casefold()
        return norm in placeholders or PLACEHOLDER_FILLER.fullmatch(norm) is not None

    text = values.astype("str")
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    present = text.notna()
    out[present] = [one(v) for v in text[present]]
    return out


def day_number(value: date | str) -> int:
    """Days since 1970-01-01 of a date (how rule expressions see dates)."""
    return int((pd.Timestamp(value) - pd.Timestamp("1970-01-01")).days)


def _as_rule_column(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        days = values.to_numpy(dtype="datetime64[D]").astype("int64")
        return pd.Series(pd.array(days, dtype="Int64"), index=values.index).mask(values.isna())
    if pd.api.types.is_bool_dtype(values) and not isinstance(values.dtype, pd.BooleanDtype):
        return values.astype("boolean")
    return values


def namespace(records: pd.DataFrame, issues: pd.DataFrame) -> dict[str, object]:
    """Names a rule expression can use: the fields and the helper functions."""
    index = records.index

    def flag(prefix: str, fields: Iterable[str] | None, exclude: Iterable[str] = ()) -> pd.Series:
        skip = set(exclude)
        cols = [c for c in issues.columns if c.startswith(prefix) and c.split(":", 1)[1] not in skip
                and (fields is None or c.split(":", 1)[1] in set(fields))]
        if not cols:
            return pd.Series(False, index=index, dtype="boolean")
        return issues[cols].any(axis=1).astype("boolean")

    ns: dict[str, object] = {c: _as_rule_column(records[c]) for c in records.columns if not c.startswith("_")}
    ns.update(
        isna=lambda x: pd.Series(x, index=index).isna().astype("boolean"),
        notna=lambda x: pd.Series(x, index=index).notna().astype("boolean"),
        unmapped=lambda *f: flag("unmapped:", f),
        unparsed=lambda *f: flag("unparsed:", f),
        any_unmapped=lambda exclude=(): flag("unmapped:", None, exclude),
        any_unparsed=lambda exclude=(): flag("unparsed:", None, exclude),
        malformed=lambda: flag("malformed:", None),
        placeholder=lambda x: placeholder_mask(pd.Series(x, index=index), load_placeholders()),
        day=day_number,
        between=lambda x, lo, hi: (x >= lo) & (x <= hi),
        isin=lambda x, values: pd.Series(x, index=index).isin(list(values)).astype("boolean").mask(
            pd.Series(x, index=index).isna()),
        EARLIEST_VALID_DATE=day_number(EARLIEST_VALID_DATE),
        DATA_CUT_DATE=day_number(DATA_CUT_DATE),
    )
    return ns


def evaluate(rule: Rule, ns: dict[str, object], index: pd.Index) -> pd.Series:
    """Evaluate one rule: a boolean Series with missing where it cannot be decided."""
    result = eval(compile(rule.expression, f"<rule {rule.id}>", "eval"), {"__builtins__": {}}, ns)  # noqa: S307 - rules are package data
    if np.isscalar(result) or result is pd.NA:
        result = pd.Series(result, index=index)
    result = pd.Series(result, index=index)
    if not (pd.api.types.is_bool_dtype(result) or result.isna().all()):
        raise TypeError(f"expression gives {result.dtype}, not true/false")
    return result.astype("boolean")


@dataclass
class Confrontation:
    """Per-row outcomes (one column per rule) and the per-rule summary of one confrontation."""

    outcomes: pd.DataFrame
    summary: pd.DataFrame


def confront(records: pd.DataFrame, issues: pd.DataFrame, rules: list[Rule],
             extra: Mapping[str, object] | None = None) -> Confrontation:
    """Confront records with every rule; a rule that cannot be evaluated is counted, not fatal.

    ``extra`` adds names (helper functions) that rule expressions may use."""
    ns = namespace(records, issues) | dict(extra or {})
    outcomes = pd.DataFrame(index=records.index)
    rows = []
    for rule in rules:
        message = ""
        try:
            res = evaluate(rule, ns, records.index)
            n_err = 0
        except Exception as exc:  # noqa: BLE001 - a broken rule is reported, not fatal
            res = pd.Series(pd.NA, index=records.index, dtype="boolean")
            n_err, message = len(records), f"{type(exc).__name__}: {exc}"
        outcomes[rule.id] = res
        rows.append({
            "rule_id": rule.id, "label": rule.label, "severity": rule.severity,
            "items": len(records), "passes": int(res.eq(True).sum()), "fails": int(res.eq(False).sum()),
            "missing": 0 if n_err else int(res.isna().sum()), "errors": n_err, "error_message": message,
        })
    return Confrontation(outcomes, pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)))


def combine_summaries(summaries: list[pd.DataFrame], rules: list[Rule]) -> pd.DataFrame:
    """Add up per-table summaries into one row per rule (in rule order)."""
    if not summaries:
        return pd.DataFrame({c: [] for c in SUMMARY_COLUMNS})
    allrows = pd.concat(summaries, ignore_index=True)
    counts = allrows.groupby("rule_id", sort=False)[["items", "passes", "fails", "missing", "errors"]].sum()
    messages = allrows.groupby("rule_id", sort=False)["error_message"].agg(
        lambda s: "; ".join(sorted({m for m in s if m})))
    out = pd.DataFrame({
        "rule_id": [r.id for r in rules], "label": [r.label for r in rules],
        "severity": [r.severity for r in rules],
    }).set_index("rule_id").join(counts).join(messages).reset_index()
    return out.loc[:, list(SUMMARY_COLUMNS)]


def first_failed_rule(outcomes: pd.DataFrame, rules: list[Rule]) -> pd.Series:
    """Per row, the id of the first failed rule of severity error (missing when none failed)."""
    first = pd.Series(pd.NA, index=outcomes.index, dtype="str")
    for rule in reversed([r for r in rules if r.severity == "error"]):
        failed = outcomes[rule.id].eq(False).fillna(False).to_numpy(dtype=bool)
        first[failed] = rule.id
    return first


def failed_rules(outcomes: pd.DataFrame, rules: list[Rule]) -> pd.Series:
    """Per row, all failed error rules joined by ``;`` (empty string when none)."""
    errors = [r.id for r in rules if r.severity == "error"]
    failed = outcomes[errors].eq(False).fillna(False).to_numpy(dtype=bool)
    out = pd.Series("", index=outcomes.index, dtype="str")
    rows = np.flatnonzero(failed.any(axis=1))
    out.iloc[rows] = [";".join(np.array(errors)[failed[i]]) for i in rows]
    return out
