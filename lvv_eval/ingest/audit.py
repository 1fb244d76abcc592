"""The ingest's audit trail in ``data_clean/``, read back as tables for the data manager.

:class:`AuditTrail` holds what ``lvv-eval ingest`` wrote beside the stays: ``manifest.json``
(inventory of the raw folder, inputs with their rows per sheet, row accounting),
``quarantine.parquet``, ``changes.parquet`` and ``validation.csv``. The functions below turn it
into tidy tables: what came in per delivery, where every raw row went, quarantine by rule and
pilot, the change log by rule and by column, and the validation results. Each checks what it can
(the accounting must close, quarantine must explain every quarantined row) and says so in a
column rather than hiding a gap.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from lvv_eval.config import PILOTS
from lvv_eval.errors import UserError
from lvv_eval.files import sha256_of
from lvv_eval.ingest.accounting import CATEGORIES
from lvv_eval.ingest.repairs import load_repairs
from lvv_eval.ingest.rules import load_rules

LABELS_YAML = Path(__file__).with_name("audit_labels.yaml")
LANGUAGES: tuple[str, ...] = ("nl", "en")
DELIVERY_COLUMNS: tuple[str, ...] = ("pilot", "role", "file", "sheet", "rows", "bytes", "sha256")
ACCOUNTING_COLUMNS: tuple[str, ...] = ("pilot", "file", "sheet", "raw_rows", *CATEGORIES, "closes")
QUARANTINE_COLUMNS: tuple[str, ...] = ("pilot", "rule_id", "rule", "rows", "stays")
CHANGE_COLUMNS: tuple[str, ...] = ("pilot", "rule_id", "rule", "kind", "cells", "rows")
COLUMN_CHANGE_COLUMNS: tuple[str, ...] = ("pilot", "column", "rule_id", "cells")
VALIDATION_COLUMNS: tuple[str, ...] = ("rule_id", "rule", "severity", "items", "passes", "fails",
                                       "missing", "errors")
MERGE_PREFIX = "M_"
ALL = "all"  # the total level of a dimension in a table with margins


class AuditTrailError(UserError):
    """The stays file has no ingest audit trail that belongs to it."""


def _read_parquet(path: Path) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path.exists() else None


class AuditTrail:
    """Ingest's audit tables for one data_clean folder (each may be absent)."""

    def __init__(self, clean_dir: Path):
        self.clean_dir = Path(clean_dir)
        self.changes = _read_parquet(self.clean_dir / "changes.parquet")
        self.quarantine = _read_parquet(self.clean_dir / "quarantine.parquet")
        validation = self.clean_dir / "validation.csv"
        self.validation = pd.read_csv(validation) if validation.exists() else None
        manifest = self.clean_dir / "manifest.json"
        self.manifest: dict[str, Any] | None = (
            json.loads(manifest.read_text(encoding="utf-8")) if manifest.exists() else None
        )

    @classmethod
    def beside(cls, stays_path: Path) -> AuditTrail:
        """The audit trail the ingest wrote beside ``stays_path``; an error unless that ingest
        manifest records exactly this stays file (so a report never mixes two datasets)."""
        stays_path = Path(stays_path)
        trail = cls(stays_path.parent)
        if not trail.available:
            raise AuditTrailError(
                f"{stays_path}: no ingest audit trail beside it (manifest.json, changes.parquet, "
                f"quarantine.parquet), so raw rows cannot be named; use the stays.parquet that "
                f"`lvv-eval ingest` wrote")
        recorded = (trail.manifest or {}).get("output_sha256", {}).get(stays_path.name)
        if recorded != sha256_of(stays_path):
            raise AuditTrailError(
                f"{stays_path}: the manifest.json beside it does not record this file "
                f"({'another stays file' if recorded else 'no output hashes'}); the audit trail "
                f"belongs to other data. Re-run `lvv-eval ingest` to get a matching trail")
        return trail

    @property
    def available(self) -> bool:
        """Whether the manifest and the quarantine and change tables are present."""
        return (self.changes is not None and self.quarantine is not None
                and self.manifest is not None)

    def _manifest(self) -> dict[str, Any]:
        if self.manifest is None:
            raise AuditTrailError(f"{self.clean_dir / 'manifest.json'} does not exist: run "
                                  f"`lvv-eval ingest` first")
        return self.manifest


# ---------------------------------------------------------------------------------- labels


@cache
def _labels_file() -> dict[str, Any]:
    return yaml.safe_load(LABELS_YAML.read_text(encoding="utf-8"))


def audit_labels(lang: str = "nl") -> dict[str, str]:
    """Column and value labels of the audit tables in ``lang`` (nl or en)."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r}: choose one of {', '.join(LANGUAGES)}")
    return dict(_labels_file()[lang])


@cache
def rule_labels(lang: str = "nl") -> dict[str, str]:
    """What each validation, repair and merge rule does, by rule id, in ``lang``: from the rules
    and repairs files (their ``label_nl`` in Dutch, when given) and the merge rules' labels."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r}: choose one of {', '.join(LANGUAGES)}")
    out: dict[str, str] = {}
    for rule in [*load_rules(), *load_repairs()]:
        out[rule.id] = (rule.label_nl or rule.label) if lang == "nl" else rule.label
    out.update(_labels_file()["merge_rules"][lang])
    return out


def _rule_text(ids: pd.Series, lang: str) -> pd.Series:
    known = rule_labels(lang)
    return ids.map(lambda r: known.get(str(r), str(r))).astype("str")


# ---------------------------------------------------------------------------------- tables


def deliveries(trail: AuditTrail) -> pd.DataFrame:
    """What came in: one row per file and sheet the ingest read (deliveries, code books and
    chain extracts), with its pilot (or register), role, data rows, size and sha256."""
    manifest = trail._manifest()
    entries = [(e, e.get("pilot", ""), e.get("role", "delivery")) for e in manifest.get("inputs", [])]
    chain = manifest.get("chain") or {}
    entries += [(e, e.get("source", ""), "chain extract") for e in chain.get("inputs", [])]
    rows = []
    for entry, pilot, role in entries:
        for sheet, n in (entry.get("rows") or {"": None}).items():
            rows.append({"pilot": pilot, "role": role, "file": entry["file"], "sheet": sheet,
                         "rows": n, "bytes": entry.get("bytes"),
                         "sha256": str(entry.get("sha256", ""))[:12]})
    table = pd.DataFrame(rows, columns=list(DELIVERY_COLUMNS))
    table["rows"] = table["rows"].astype("Int64")
    table["bytes"] = table["bytes"].astype("Int64")
    return table.sort_values(["role", "pilot", "file", "sheet"], kind="stable").reset_index(drop=True)


def inventory(trail: AuditTrail) -> pd.DataFrame:
    """Every file in the raw folder by status (read or ignored) and role or reason, counted."""
    files = pd.DataFrame(trail._manifest().get("files", []), columns=["file", "status", "role", "reason"])
    files["what"] = files["role"].fillna(files["reason"]).fillna("")
    counts = files.groupby(["status", "what"], sort=True).size().rename("files").reset_index()
    return counts


def row_accounting(trail: AuditTrail) -> pd.DataFrame:
    """Where every raw row of each delivery file and sheet went (stays, event rows folded into a
    stay, quarantined, merged away, non-participants); ``closes`` is recomputed here (raw rows
    equal the sum of the outcomes), not taken from the manifest."""
    entries = trail._manifest().get("row_accounting")
    if not isinstance(entries, list):
        raise AuditTrailError(f"{trail.clean_dir / 'manifest.json'}: no row_accounting")
    table = pd.DataFrame(entries).reindex(columns=list(ACCOUNTING_COLUMNS))
    for col in ("raw_rows", *CATEGORIES):
        table[col] = table[col].fillna(0).astype("int64")
    table["closes"] = table["raw_rows"] == table[list(CATEGORIES)].sum(axis=1)
    return table


def accounting_by_pilot(trail: AuditTrail, stays: pd.DataFrame | None = None) -> pd.DataFrame:
    """The row accounting summed per pilot; with ``stays`` also the stays the table holds per
    pilot and whether they equal the accounting's stays (``stays_match``)."""
    per_file = row_accounting(trail)
    table = per_file.groupby("pilot", sort=True)[["raw_rows", *CATEGORIES]].sum().reset_index()
    table["closes"] = per_file.groupby("pilot", sort=True)["closes"].all().to_numpy()
    if stays is not None:
        held = stays["pilot"].astype("str").value_counts()
        table["stays_in_table"] = table["pilot"].map(held).fillna(0).astype("int64")
        table["stays_match"] = table["stays_in_table"] == table["stays"]
    return table


def _per_pilot_and_rule(log: pd.DataFrame | None, place: list[str], entries: str,
                        distinct: str) -> pd.DataFrame:
    """Entries of an audit log (quarantine or changes) per pilot and rule: how many (``entries``)
    and at how many distinct places (``distinct``: file, sheet and row)."""
    log = log if log is not None else pd.DataFrame(columns=["pilot", "rule_id", *place])
    key = (log[place].astype("str").agg("|".join, axis=1) if len(log) else pd.Series(dtype="str"))
    grouped = log.assign(_place=key).groupby(["pilot", "rule_id"], sort=True)
    return grouped.agg(**{entries: ("rule_id", "size"), distinct: ("_place", "nunique")}).reset_index()


def quarantine_by_rule(trail: AuditTrail, lang: str = "nl") -> pd.DataFrame:
    """Quarantined raw rows and stays (distinct file, sheet and opening row: one fault is one
    stay) per pilot and the first rule each failed, with what the rule checks in ``lang``."""
    table = _per_pilot_and_rule(trail.quarantine, ["source_file", "sheet", "stay_row"], "rows", "stays")
    table["rule"] = _rule_text(table["rule_id"], lang)
    return table.reindex(columns=list(QUARANTINE_COLUMNS))


def quarantine_check(trail: AuditTrail) -> pd.DataFrame:
    """Per pilot: quarantined rows in the accounting, rows in quarantine.parquet, and whether
    they agree (a gap means quarantined rows the audit trail does not explain)."""
    acc = row_accounting(trail).groupby("pilot", sort=True)["quarantined"].sum()
    q = trail.quarantine
    listed = (q.groupby("pilot").size() if q is not None and len(q) else pd.Series(dtype="int64"))
    table = pd.DataFrame({"pilot": acc.index, "accounting": acc.to_numpy(),
                          "quarantine_file": listed.reindex(acc.index, fill_value=0).to_numpy()})
    table["agrees"] = table["accounting"] == table["quarantine_file"]
    return table


def changes_by_rule(trail: AuditTrail, lang: str = "nl") -> pd.DataFrame:
    """The change log per pilot and rule: cells changed and raw rows touched, with what the rule
    does in ``lang``; ``kind`` is ``merge`` for rows merged away (M_ rules), else ``repair``."""
    table = _per_pilot_and_rule(trail.changes, ["source_file", "sheet", "source_row"], "cells", "rows")
    table["kind"] = table["rule_id"].astype("str").str.startswith(MERGE_PREFIX).map(
        {True: "merge", False: "repair"})
    table["rule"] = _rule_text(table["rule_id"], lang)
    return table.reindex(columns=list(CHANGE_COLUMNS))


def changes_by_column(trail: AuditTrail) -> pd.DataFrame:
    """Changed cells per pilot, column (as the delivery names it) and repair rule (merges,
    which change no cell, left out)."""
    c = trail.changes
    if c is None or not len(c):
        return pd.DataFrame(columns=list(COLUMN_CHANGE_COLUMNS))
    repairs = c[~c["rule_id"].astype("str").str.startswith(MERGE_PREFIX)]
    table = repairs.groupby(["pilot", "column", "rule_id"], sort=True).size().rename("cells")
    return table.reset_index().reindex(columns=list(COLUMN_CHANGE_COLUMNS))


def validation_results(trail: AuditTrail, lang: str = "nl") -> pd.DataFrame:
    """Each validation rule with its severity and how many records passed, failed or could not be
    decided (missing input), as ``validation.csv`` holds them, described in ``lang``."""
    v = trail.validation
    if v is None:
        raise AuditTrailError(f"{trail.clean_dir / 'validation.csv'} does not exist")
    table = v.copy()
    table["rule"] = _rule_text(table["rule_id"], lang)
    return table.reindex(columns=list(VALIDATION_COLUMNS))


# ---------------------------------------------------------------------------------- for reports


def for_pilots(table: pd.DataFrame, pilots: Sequence[str] = ()) -> pd.DataFrame:
    """The rows of ``pilots`` (all when empty); rows of a register that is no pilot (the IND and
    DT&V extracts) stay."""
    if not pilots or "pilot" not in table.columns:
        return table.reset_index(drop=True)
    names = table["pilot"].astype("str")
    keep = names.isin(list(pilots)) | ~names.isin(list(PILOTS))
    return table[keep].reset_index(drop=True)


def as_long(table: pd.DataFrame, keys: Sequence[str], columns: Sequence[str],
            measure: str = "measure", value: str = "count") -> pd.DataFrame:
    """A wide count table as one row per key and counted column (for the disclosure gate, whose
    layout can then say that one column is the total of the others)."""
    long = table.melt(id_vars=list(keys), value_vars=list(columns), var_name=measure,
                      value_name=value)
    long[measure] = pd.Categorical(long[measure], categories=list(columns))
    return long.sort_values([*keys, measure], kind="stable").reset_index(drop=True)


def as_wide(long: pd.DataFrame, keys: Sequence[str], measure: str = "measure",
            value: str = "count") -> pd.DataFrame:
    """The inverse of :func:`as_long` (on the gated table: the marker stays where it is)."""
    wide = long.pivot(index=list(keys), columns=measure, values=value)
    order = (list(long[measure].cat.categories) if isinstance(long[measure].dtype, pd.CategoricalDtype)
             else list(dict.fromkeys(long[measure])))
    wide = wide.reindex(columns=[c for c in order if c in wide.columns])
    wide.columns.name = None
    return wide.reset_index()


def audit_view(table: pd.DataFrame, lang: str = "nl") -> pd.DataFrame:
    """An audit table with its column names and coded values (roles, statuses, kinds, yes/no)
    in ``lang``; rule ids, file names and numbers as they are."""
    words = audit_labels(lang)
    values = words["values"]
    out = table.copy()
    for col in out.columns:
        if col in ("role", "status", "what", "kind", "severity") or out[col].dtype == bool:
            out[col] = out[col].map(lambda v: values.get(str(v), v))
    return out.rename(columns={c: words.get(c, c) for c in out.columns if isinstance(words.get(c), str)})


def with_totals(table: pd.DataFrame, dims: Sequence[str], counts: Sequence[str],
                total: str = ALL) -> pd.DataFrame:
    """``table`` with a total row for every margin of its dimensions (``total`` in a dimension's
    column: summed over it), so that the gate can show a margin where the cells are too small."""
    parts = [table]
    dims = list(dims)
    for r in range(1, len(dims) + 1):
        for summed in combinations(dims, r):
            kept = [d for d in dims if d not in summed]
            part = (table.groupby(kept, sort=True, observed=True)[list(counts)].sum().reset_index()
                    if kept else table[list(counts)].sum().to_frame().T)
            for d in summed:
                part[d] = total
            parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out.reindex(columns=[*dims, *counts, *[c for c in table.columns
                                                    if c not in dims and c not in counts]])


def rule_crosstab(shown: pd.DataFrame, value: str, lang: str = "nl") -> pd.DataFrame:
    """A gated table with margins (:func:`with_totals` over pilot and rule id) as rules by
    pilots: what each rule does, then ``value`` per pilot and for all pilots, the total rule last."""
    wide = shown.pivot(index="rule_id", columns="pilot", values=value)
    pilots = [p for p in [*PILOTS, ALL] if p in wide.columns]
    others = [p for p in wide.columns if p not in pilots]
    wide = wide.reindex(columns=[*pilots[:-1], *others, pilots[-1]] if ALL in pilots else pilots + others)
    order = sorted(i for i in wide.index if i != ALL) + ([ALL] if ALL in wide.index else [])
    wide = wide.reindex(order)
    words = audit_labels(lang)
    texts = rule_labels(lang)
    out = pd.DataFrame({words["rule_id"]: ["" if r == ALL else r for r in wide.index],
                        words["rule"]: [texts.get(r, words["all_rules"] if r == ALL else r)
                                        for r in wide.index]})
    for col in wide.columns:
        out[words["values"].get(col, col)] = wide[col].to_numpy()
    return out
