"""Repairs as named rules (after the R package ``dcmodify``), each run through the change log.

``specs/repairs.yaml`` lists the repairs in order, each with an id, a label, the stage it works
on (``raw`` text cells, ``text`` fields before mapping, ``typed`` fields, ``derived`` fields) and
either a named vectorised action or a condition (``when``) with the values to ``set``. Repair
functions only propose new column values; :func:`lvv_eval.ingest.tracking.apply_tracked`
compares them with the current values and logs every cell that changes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import pandas as pd

from lvv_eval.ingest.mapping import by_unique, map_flags, map_labels
from lvv_eval.ingest.redact import shape_only
from lvv_eval.ingest.rules import Rule, evaluate, namespace
from lvv_eval.ingest.spec_models import (
    BOOL_FIELDS,
    REPAIR_ACTIONS,
    REPAIRS_FILE,
    Repair,
    SourceSpec,
    load_repairs_file,
)
from lvv_eval.ingest.tracking import ChangeLog, apply_tracked
from lvv_eval.pseudonym import V_NUMBER_SEPARATORS


def load_repairs(path: Path = REPAIRS_FILE) -> list[Repair]:
    """Read the repairs file (structure: :class:`~lvv_eval.ingest.spec_models.Repair`); an
    unknown action or stage is named with its YAML path."""
    return list(load_repairs_file(Path(path)).repairs)


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


def unmapped_to_missing(frame: pd.DataFrame, repair: Repair, spec: SourceSpec) -> Proposal:
    """Labels outside the spec's vocabulary in the descriptive fields ``params.fields`` become
    missing (fields that define the outcome or the population are not listed: they quarantine)."""
    out = {}
    for fld in repair.params.get("fields", ()):
        if fld not in frame.columns:
            continue
        if fld in spec.labels:
            _, unmapped = map_labels(frame[fld], spec.labels[fld])
        elif fld in BOOL_FIELDS:
            _, unmapped = map_flags(frame[fld], spec.flags.true, spec.flags.false, spec.flags.missing)
        else:
            continue
        if unmapped.any():
            out[fld] = frame[fld].where(~unmapped.to_numpy())
    return out


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
    rule = Rule(id=repair.id, label=repair.label or repair.id, severity="error",
                expression=str(repair.when))
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
    "unmapped_to_missing": unmapped_to_missing,
    "strip_identifier_separators": strip_identifier_separators,
}
assert tuple(ACTIONS) == REPAIR_ACTIONS, "every action named in spec_models needs a function here"


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
        hidden = rep.params.get("log_values", True) is False
        frame = apply_tracked(frame, func, rule_id=rep.id, step=f"repair:{stage}", pilot=spec.pilot,
                              log=log, column_names=column_names, redact=redact,
                              shown=shape_only if hidden else None)
    return frame
