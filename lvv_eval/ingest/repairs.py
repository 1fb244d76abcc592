"""Repairs as named rules (after the R package ``dcmodify``), each run through the change log.

``specs/repairs.yaml`` lists the repairs in order, each with an id, a label, the stage it works
on (``raw`` text cells, ``text`` fields before mapping, ``typed`` fields, ``derived`` fields) and
either a named vectorised action or a condition (``when``) with the values to ``set``. Repair
functions only propose new column values; :func:`lvv_eval.ingest.tracking.apply_tracked`
compares them with the current values and logs every cell that changes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lvv_eval.config import SPECS_DIR
from lvv_eval.ingest.errors import SpecError
from lvv_eval.ingest.mapping import by_unique
from lvv_eval.ingest.rules import Rule, evaluate, namespace
from lvv_eval.ingest.spec import SourceSpec, read_spec_mapping
from lvv_eval.ingest.tracking import ChangeLog, apply_tracked
from lvv_eval.pseudonym import V_NUMBER_SEPARATORS

REPAIRS_FILE = SPECS_DIR / "repairs.yaml"
STAGES = ("raw", "text", "typed", "derived")


@dataclass(frozen=True)
class Repair:
    """One named repair rule."""

    id: str
    label: str
    stage: str
    action: str | None = None
    when: str | None = None
    set: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)


def load_repairs(path: Path = REPAIRS_FILE) -> list[Repair]:
    """Read the repairs file; an unknown action or stage is an error naming the repair."""
    raw = read_spec_mapping(Path(path), "repairs file")
    out = []
    for entry in raw.get("repairs") or []:
        rep = Repair(
            id=str(entry["id"]), label=str(entry.get("label", "")), stage=str(entry.get("stage")),
            action=entry.get("action"), when=entry.get("when"), set=dict(entry.get("set") or {}),
            params=dict(entry.get("params") or {}),
        )
        if rep.stage not in STAGES:
            raise SpecError(f"repairs file {path}, {rep.id}: stage must be one of {STAGES}.")
        if (rep.action is None) == (rep.when is None):
            raise SpecError(f"repairs file {path}, {rep.id}: give either an 'action' or a 'when' with 'set'.")
        if rep.action is not None and rep.action not in ACTIONS:
            raise SpecError(f"repairs file {path}, {rep.id}: unknown action {rep.action!r}; known: {sorted(ACTIONS)}.")
        out.append(rep)
    return out


# ---- named actions: (frame, repair, spec) -> proposed new columns -----------------------------

Proposal = dict[str, pd.Series]


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not c.startswith("_") and pd.api.types.is_string_dtype(frame[c])]


def _strip(values: pd.Series) -> tuple[pd.Series]:
    stripped = values.str.strip()
    return (stripped.where(stripped.ne("").fillna(True)),)


def trim_whitespace(frame: pd.DataFrame, repair: Repair, spec: SourceSpec) -> Proposal:
    """Strip leading and trailing spaces from text cells; a cell left empty becomes missing."""
    out = {}
    for col in _text_columns(frame):
        values = frame[col]
        if values.str.len().ne(values.str.strip().str.len()).fillna(False).any():
            out[col] = by_unique(values, _strip)[0]
    return out


def sentinel_to_missing(frame: pd.DataFrame, repair: Repair, spec: SourceSpec) -> Proposal:
    """Cells holding one of the spec's sentinel values (such as ``-99``) become missing."""
    out = {}
    for col in _text_columns(frame) if spec.sentinels else []:
        hit = frame[col].isin(spec.sentinels)
        if hit.any():
            out[col] = frame[col].where(~hit)
    return out


def recode_labels(frame: pd.DataFrame, repair: Repair, spec: SourceSpec) -> Proposal:
    """Apply the spec's recodes registered under this repair's id (label -> label)."""
    out = {}
    for recode in spec.recodes:
        if recode.rule != repair.id or recode.field not in frame.columns:
            continue
        lookup = {k.strip().casefold(): v for k, v in recode.mapping.items()}

        def recode_unique(u: pd.Series, lookup: dict = lookup) -> tuple[pd.Series]:
            keys = u.str.strip().str.casefold().astype(object)
            return (pd.Series([lookup.get(k, v) for k, v in zip(keys, u.astype(object), strict=True)], dtype="str"),)

        out[recode.field] = by_unique(frame[recode.field], recode_unique)[0]
    return out


def swap_day_month(frame: pd.DataFrame, repair: Repair, spec: SourceSpec) -> Proposal:
    """A date before its reference date is swapped (day <-> month) when that gives a valid date
    between the reference date and the data cut."""
    col, ref = repair.params["column"], repair.params["reference"]
    if col not in frame.columns or ref not in frame.columns:
        return {}
    values, reference = frame[col], frame[ref]
    candidates = (values < reference) & (values.dt.day <= 12)
    if not candidates.any():
        return {}
    sub = values[candidates]
    swapped = pd.to_datetime(
        pd.DataFrame({"year": sub.dt.year, "month": sub.dt.day, "day": sub.dt.month}), errors="coerce"
    )
    upper = frame.loc[candidates, "data_cut_date"] if "data_cut_date" in frame.columns else swapped
    ok = swapped.notna() & (swapped >= reference[candidates]) & (swapped <= upper)
    new = values.copy()
    new[ok[ok].index] = swapped[ok].astype(values.dtype)
    return {col: new}


def strip_identifier_separators(frame: pd.DataFrame, repair: Repair, spec: SourceSpec) -> Proposal:
    """Separators typed inside an identifier (``params.field``) removed: '1234.567.890' -> '1234567890'."""
    col = repair.params["field"]
    if col not in frame.columns:
        return {}
    values = frame[col]
    pattern = "[" + "".join("\\" + s for s in V_NUMBER_SEPARATORS) + "]"
    hit = values.str.contains(pattern, regex=True, na=False)
    if not hit.any():
        return {}
    return {col: values.where(~hit, values.str.replace(pattern, "", regex=True))}


def _conditional(frame: pd.DataFrame, repair: Repair, issues: pd.DataFrame) -> Proposal:
    rule = Rule(repair.id, repair.label, "error", str(repair.when))
    hit = evaluate(rule, namespace(frame, issues), frame.index).fillna(False).to_numpy(dtype=bool)
    out = {}
    if hit.any():
        for col, value in repair.set.items():
            new = frame[col].copy()
            new[hit] = pd.NA if value is None else value
            out[col] = new
    return out


ACTIONS: dict[str, Callable[[pd.DataFrame, Repair, SourceSpec], Proposal]] = {
    "trim_whitespace": trim_whitespace,
    "sentinel_to_missing": sentinel_to_missing,
    "recode_labels": recode_labels,
    "swap_day_month": swap_day_month,
    "strip_identifier_separators": strip_identifier_separators,
}


def run_repairs(
    frame: pd.DataFrame,
    *,
    stage: str,
    repairs: list[Repair],
    spec: SourceSpec,
    log: ChangeLog,
    skip: Collection[str] = (),
    issues: pd.DataFrame | None = None,
    column_names: Mapping[str, str] | None = None,
    redact: Collection[str] = (),
) -> pd.DataFrame:
    """Run every repair of one stage (except those in ``skip``) through the change log."""
    for rep in repairs:
        if rep.stage != stage or rep.id in skip:
            continue
        if rep.action is not None:
            def func(f: pd.DataFrame, rep: Repair = rep) -> Proposal:
                return ACTIONS[rep.action](f, rep, spec)
        else:
            iss = issues if issues is not None else pd.DataFrame(index=frame.index)

            def func(f: pd.DataFrame, rep: Repair = rep, iss: pd.DataFrame = iss) -> Proposal:
                return _conditional(f, rep, iss)
        frame = apply_tracked(frame, func, rule_id=rep.id, step=f"repair:{stage}", pilot=spec.pilot,
                              log=log, column_names=column_names, redact=redact)
    return frame
