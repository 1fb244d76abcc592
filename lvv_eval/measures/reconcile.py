"""Reconciliation: a waterfall from the raw delivery to a published figure, line by line.

The first lines come from ingest's audit trail in ``data_clean/`` (raw rows, non-participants,
quarantined rows per rule, duplicates merged), the rest from the figure's definition (outside
the population, readmissions, outside the reference date, not meeting the condition, and how
many temporary solutions were recoded). Every line says how many rows or units it removes and
how many remain, so a researcher can explain a gap with a municipality's own count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from lvv_eval import config
from lvv_eval.capacity import load_capacity_file
from lvv_eval.errors import UserError
from lvv_eval.ingest.audit import AuditTrail  # the audit trail lives with ingest, which writes it
from lvv_eval.measures.definitions import (
    LANGUAGES,
    Definitions,
    condition_mask,
    label,
    load_definitions,
    pilot_mask,
    reduce_to_unit,
    resolve_reference_date,
    stay_status,
    where_mask,
)
from lvv_eval.measures.indicators import compute_indicator
from lvv_eval.measures.reproduce import load_published, parse_published_value

WATERFALL_COLUMNS: tuple[str, ...] = ("step", "label_en", "label_nl", "change", "remaining",
                                      "detail")
RECONCILABLE_MEASURES: tuple[str, ...] = ("count", "share")
RULE_COLUMN_CANDIDATES: tuple[str, ...] = ("rule_id", "rule_ids", "rules", "rule")


def _rule_column(table: pd.DataFrame, name: str) -> str:
    for col in RULE_COLUMN_CANDIDATES:
        if col in table.columns:
            return col
    raise ValueError(f"{name} has no rule column (expected one of {', '.join(RULE_COLUMN_CANDIDATES)})")


def _first_rule(values: pd.Series) -> pd.Series:
    """The first rule id of each entry (entries may list several, separated by ; , or |)."""
    text = values.astype("object").map(
        lambda v: v[0] if isinstance(v, list | tuple) and v else v
    ).astype("str")
    return text.str.split(r"[;,|]", regex=True).str[0].str.strip()


def rules_of_step(step: Mapping[str, Any], rule_ids: pd.Series) -> pd.Series:
    """Which rule ids belong to a reconciliation step (by id or id prefix)."""
    hit = rule_ids.isin(step.get("rules") or [])
    for prefix in step.get("rule_prefixes") or []:
        hit |= rule_ids.str.startswith(prefix)
    return hit


def _pilot_rows(table: pd.DataFrame, pilot: str) -> pd.DataFrame:
    if pilot == "all":
        return table
    if "pilot" not in table.columns:
        raise ValueError("audit table has no pilot column: cannot reconcile per pilot")
    return table[table["pilot"].astype("str") == pilot]


def _row_key(table: pd.DataFrame) -> pd.Series:
    parts = [table[c].astype("str") for c in ("source_file", "sheet", "source_row")
             if c in table.columns]
    key = parts[0]
    for p in parts[1:]:
        key = key + "|" + p
    return key


def accounting_of(manifest: Mapping[str, Any] | None, pilot: str) -> dict[str, int] | None:
    """Ingest's row accounting (manifest.json) summed over a pilot's files, if present."""
    entries = (manifest or {}).get("row_accounting")
    if not isinstance(entries, list):
        return None
    total: dict[str, int] = {}
    for entry in entries:
        if pilot != "all" and entry.get("pilot") != pilot:
            continue
        for key, value in entry.items():
            if isinstance(value, int) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
    return total


def delivery_lines(
    defs: Definitions, trail: AuditTrail, stays_of_pilot: int, pilot: str
) -> list[dict[str, Any]]:
    """Lines from the raw delivery to the stays in data_clean, from ingest's audit trail.

    Raw rows and the rows per outcome come from the manifest's row accounting; quarantined rows
    are split by the rule that sent them there (quarantine.parquet), merged rows by merge rule
    (changes.parquet). A gap between these sources is shown as its own line, never absorbed.
    """
    steps = defs.reconciliation
    accounting = accounting_of(trail.manifest, pilot)
    if accounting is None:
        raise ValueError(f"{trail.clean_dir / 'manifest.json'}: no row_accounting to start from")
    quarantine = _pilot_rows(trail.quarantine, pilot)
    changes = _pilot_rows(trail.changes, pilot)
    q_rules = _first_rule(quarantine[_rule_column(quarantine, "quarantine.parquet")])
    dup_step = steps.get("duplicates", {})
    merged = changes[rules_of_step(dup_step, changes["rule_id"].astype("str"))]
    merged_per_rule = merged.assign(_key=_row_key(merged)).groupby("rule_id")["_key"].nunique()

    remaining = accounting.get("raw_rows", 0)
    lines = [_line("raw_rows", _said(defs, "raw_rows"), remaining, remaining,
                   "manifest.json row_accounting")]

    def remove(step: str, labels: tuple[str, str], n: int, detail: str = "") -> None:
        nonlocal remaining
        if n:
            remaining -= n
            lines.append(_line(step, labels, -n, remaining, detail))

    nonpart = steps.get("non_participants")
    if nonpart:
        remove("non_participants", _labels(nonpart), accounting.get("non_participants", 0))
    remove("events", _said(defs, "events"), accounting.get("events", 0))
    for rule, n in q_rules.value_counts().sort_index().items():
        remove(f"quarantined:{rule}", _said(defs, "quarantined_by", rule=rule), int(n))
    remove("quarantined:unexplained", _said(defs, "quarantine_gap"),
           accounting.get("quarantined", 0) - int(len(quarantine)), "audit trail gap")
    for rule, n in merged_per_rule.items():
        en, nl = _labels(dup_step)
        remove(f"merged:{rule}", (f"{en} ({rule})", f"{nl} ({rule})"), int(n))
    remove("merged:unexplained", _said(defs, "merged_gap"),
           accounting.get("merged", 0) - int(merged_per_rule.sum()), "audit trail gap")
    lines.append(_line("stays", _said(defs, "stays_clean"), 0, remaining,
                       "" if remaining == stays_of_pilot else
                       f"MISMATCH: the stays table holds {stays_of_pilot}"))
    return lines


def _labels(entry: Mapping[str, Any]) -> tuple[str, str]:
    return label(entry, "en"), label(entry, "nl")


def _said(defs: Definitions, key: str, **fill: Any) -> tuple[str, str]:
    """The words for ``key`` in English and Dutch; a fill value that is a YAML entry with labels
    is put in its own language."""
    out = []
    for lang in LANGUAGES:
        values = {k: label(v, lang) if isinstance(v, Mapping) else v for k, v in fill.items()}
        out.append(defs.words(lang)[key].format(**values))
    return out[0], out[1]


def _line(step: str, labels: tuple[str, str], change: float, remaining: float | None,
          detail: str = "") -> dict[str, Any]:
    return {"step": step, "label_en": labels[0], "label_nl": labels[1], "change": change,
            "remaining": remaining, "detail": detail}


def definition_lines(
    defs: Definitions, spec: Mapping[str, Any], stays: pd.DataFrame, pilot: str,
    changes: pd.DataFrame | None,
) -> tuple[list[dict[str, Any]], float]:
    """Lines from the stays of a pilot to the figure, following its definition."""
    ref = resolve_reference_date(defs, spec["reference_date"])
    table = stays[pilot_mask(stays, pilot)]
    remaining = len(table)
    lines = []
    population = defs.populations[spec["population"]]
    for column, cond in (population.get("where") or {}).items():
        kept = table[where_mask(table, {column: cond})]
        remaining -= len(table) - len(kept)
        (op, value), = cond.items()
        removed_words = (population.get("removed") or {}).get(column)
        labels = (_labels(removed_words) if removed_words else
                  _said(defs, "outside_population", column=column, op=op, value=value))
        lines.append(_line(f"population:{column}", labels, -(len(table) - len(kept)), remaining,
                           label(population, "en")))
        table = kept
    admitted = table[stay_status(table, ref) != "not_admitted"]
    remaining -= len(table) - len(admitted)
    lines.append(_line("admitted_after", _said(defs, "admitted_after", date=ref.date()),
                       -(len(table) - len(admitted)), remaining))
    units = reduce_to_unit(defs, admitted, spec["unit"], ref)
    if len(units) != len(admitted):
        remaining -= len(admitted) - len(units)
        lines.append(_line("readmissions", _said(defs, "readmissions"),
                           -(len(admitted) - len(units)), remaining))
    status = stay_status(units, ref)
    base = defs.bases[spec["base"]]
    for excluded, key in (("present", "still_present"), ("left", "left_before")):
        if excluded in base["status"]:
            continue
        n = int((status == excluded).sum())
        remaining -= n
        lines.append(_line(f"base:{excluded}", _said(defs, key), -n, remaining,
                           label(base, "en")))
    in_base = units[status.isin(base["status"]).to_numpy()]
    lines.append(_line("base", _said(defs, "base", base=base), 0, len(in_base)))
    if "condition" not in spec:
        return lines, float(len(in_base))
    meets = condition_mask(defs, in_base, spec["condition"], ref)
    lines.append(_line("condition", _said(defs, "condition_not_met"), -int((~meets).sum()),
                       int(meets.sum())))
    recoded = recoded_units(defs, in_base, changes)
    if recoded is not None:
        lines.append(_line(
            "temporary_recoded", _labels(defs.reconciliation["temporary_recoded"]), 0,
            int(meets.sum()),
            f"{int(recoded.sum())} in the base, of which {int((recoded & ~meets).sum())} now "
            f"outside the figure and {int((recoded & meets).sum())} inside",
        ))
    return lines, float(meets.sum())


def recoded_units(
    defs: Definitions, units: pd.DataFrame, changes: pd.DataFrame | None
) -> pd.Series | None:
    """Units whose exit label was recoded by a temporary-solution rule (None without a trail)."""
    step = defs.reconciliation.get("temporary_recoded")
    if changes is None or not step or "source_file" not in units.columns:
        return None
    hits = changes[rules_of_step(step, changes["rule_id"].astype("str"))]
    sheets = units["source_sheet"].astype("str") if "source_sheet" in units.columns else None
    keys = set(zip(hits["source_file"].astype("str"), hits["sheet"].astype("str") if sheets is not None else
                   pd.Series("", index=hits.index), hits["source_row"].astype("int64"), strict=True))
    unit_keys = zip(units["source_file"].astype("str"),
                    sheets.fillna("") if sheets is not None else pd.Series("", index=units.index),
                    units["source_row"].astype("Int64").fillna(-1).astype("int64"), strict=True)
    return pd.Series([k in keys for k in unit_keys], index=units.index, dtype=bool)


def reconcilable_figures(defs: Definitions) -> list[str]:
    """The figure ids a waterfall can be drawn for (measures count and share)."""
    return [fid for fid, spec in defs.indicators.items() if spec["measure"] in RECONCILABLE_MEASURES]


class FigureChoiceError(UserError, ValueError):
    """A figure or pilot for a waterfall that does not exist or has no waterfall."""


def check_figure_choice(defs: Definitions, figure_id: str, pilot: str = "") -> None:
    """Raise :class:`FigureChoiceError` unless ``figure_id`` has a waterfall and ``pilot`` (empty:
    the figure's own) is a pilot or ``all``; the message lists what may be chosen."""
    choices = reconcilable_figures(defs)
    if figure_id not in choices:
        raise FigureChoiceError(f"figure_id={figure_id!r}: no waterfall for it in {defs.path.name}; "
                                f"choose one of {', '.join(choices)}")
    if pilot and pilot not in (*config.PILOTS, "all"):
        raise FigureChoiceError(f"figure_pilot={pilot!r}: choose one of "
                                f"{', '.join(config.PILOTS)}, all (or leave it empty)")


def reconcile_figure(
    figure_id: str,
    stays: pd.DataFrame,
    pilot: str | None = None,
    defs: Definitions | None = None,
    capacity: pd.DataFrame | None = None,
    trail: AuditTrail | None = None,
    published: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The waterfall for one figure and pilot (default: the figure's own pilot).

    With ``trail`` (see :meth:`AuditTrail.beside`) it starts from the raw rows of the deliveries;
    without, from the stays.
    """
    defs = defs or load_definitions()
    if figure_id not in defs.indicators:
        raise KeyError(f"no indicator defined for figure {figure_id!r}")
    spec = defs.indicators[figure_id]
    if spec["measure"] not in RECONCILABLE_MEASURES:
        raise ValueError(f"{figure_id}: a waterfall exists only for measures "
                         f"{', '.join(RECONCILABLE_MEASURES)} (this one is {spec['measure']})")
    pilot = pilot or spec["pilot"]
    if pilot != "all" and pilot not in config.PILOTS:
        raise ValueError(f"unknown pilot {pilot!r}")
    lines: list[dict[str, Any]] = []
    n_stays = int(pilot_mask(stays, pilot).sum())
    if trail is not None and trail.available:
        lines += delivery_lines(defs, trail, n_stays, pilot)
    else:
        lines.append(_line("stays", _said(defs, "stays_no_trail"), 0, n_stays,
                           "no ingest audit trail given"))
    changes = (_pilot_rows(trail.changes, pilot)
               if trail is not None and trail.changes is not None else None)
    def_lines, numerator = definition_lines(defs, spec, stays, pilot, changes)
    lines += def_lines
    result = compute_indicator(defs, spec, stays,
                               capacity if capacity is not None else load_capacity_file(),
                               pilot=pilot)
    share = f"{numerator:g} / {result.denominator:g}" if spec["measure"] == "share" else ""
    lines.append(_line("computed", _said(defs, "computed"), 0, result.value, share))
    lines += _published_lines(defs, figure_id, pilot, spec, result.value, published)
    table = pd.DataFrame(lines, columns=list(WATERFALL_COLUMNS))
    table.attrs.update(figure_id=figure_id, pilot=pilot)
    return table


def _published_lines(defs: Definitions, figure_id: str, pilot: str, spec: Mapping[str, Any],
                     computed: Any, published: pd.DataFrame | None) -> list[dict[str, Any]]:
    published = published if published is not None else load_published()
    row = published[published["figure_id"] == figure_id]
    if row.empty or pilot != spec["pilot"]:
        return [_line("published", _said(defs, "published_other_pilot"), 0, None)]
    value = parse_published_value(defs, row.iloc[0]["value"])
    lines = [_line("published", _said(defs, "published"), 0, value.number, row.iloc[0]["value"])]
    if value.number is not None and computed is not None:
        lines.append(_line("difference", _said(defs, "difference"), 0,
                           float(computed) - value.number))
    return lines


def format_waterfall(table: pd.DataFrame) -> str:
    """The waterfall as plain text."""
    shown = table.loc[:, ["label_en", "change", "remaining", "detail"]].copy()
    shown["change"] = shown["change"].map(lambda v: "" if v == 0 else f"{v:+g}")
    shown["remaining"] = shown["remaining"].map(
        lambda v: "" if v is None or pd.isna(v) else f"{v:g}" if float(v) == int(v) else f"{v:.2f}"
    )
    head = f"reconciliation of {table.attrs.get('figure_id')} for {table.attrs.get('pilot')}"
    return head + "\n" + shown.to_string(index=False)
