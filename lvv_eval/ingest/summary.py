"""The data-quality summary printed per delivery: rows in, stays out, quarantined, repaired."""

from __future__ import annotations

import pandas as pd

from lvv_eval.ingest.accounting import Accounting

MAX_LISTED = 10


def delivery_summary(accounting: Accounting, quarantine: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """Long table: pilot, measure, key, count (rows in/out, quarantine reasons, repairs, merges)."""
    acc = accounting.frame()
    rows = []
    for pilot, part in acc.groupby("pilot", sort=True):
        for measure, col in (("rows in", "raw_rows"), ("stays out", "stays"), ("event rows folded into stays", "events"),
                             ("quarantined", "quarantined"), ("merged away", "merged"),
                             ("non-participants", "non_participants")):
            rows.append({"pilot": pilot, "measure": measure, "key": "", "count": int(part[col].sum())})
    if len(quarantine):
        for (pilot, rule), n in quarantine.groupby(["pilot", "rule_id"]).size().items():
            rows.append({"pilot": pilot, "measure": "quarantined by rule", "key": rule, "count": int(n)})
    if len(changes):
        for (pilot, rule), n in changes.groupby(["pilot", "rule_id"]).size().items():
            measure = "merged by rule" if rule.startswith("M_") else "changed cells by rule"
            rows.append({"pilot": pilot, "measure": measure, "key": rule, "count": int(n)})
    return pd.DataFrame(rows, columns=["pilot", "measure", "key", "count"])


def format_summary(summary: pd.DataFrame, quarantine: pd.DataFrame, synthetic: bool) -> str:
    """Readable text of :func:`delivery_summary`, naming unreadable cells by file, row and column."""
    lines = ["data-quality summary" + (" (SYNTHETIC data)" if synthetic else "")]
    for pilot, part in summary.groupby("pilot", sort=True):
        lines.append(f"{pilot}:")
        for _, r in part.iterrows():
            label = f"{r['measure']} {r['key']}".strip()
            lines.append(f"  {label:<52} {r['count']:>9,}")
        q = quarantine[(quarantine["pilot"] == pilot) & (quarantine["detail"] != "")] if len(quarantine) else quarantine
        for _, r in q.head(MAX_LISTED).iterrows():
            sheet = f" sheet '{r['sheet']}'" if r["sheet"] else ""
            lines.append(f"    {r['source_file']}{sheet} row {r['source_row']}: {r['detail']} -> {r['rule_id']}")
        if len(q) > MAX_LISTED:
            lines.append(f"    ... and {len(q) - MAX_LISTED} more (see quarantine.parquet)")
    return "\n".join(lines)


UNMAPPED_RULE = "R_UNMAPPED_DESCRIPTIVE_TO_MISSING"


def unmapped_warnings(changes: pd.DataFrame) -> list[str]:
    """One line per pilot and column whose labels outside the vocabulary were set to missing
    (counts only: the labels themselves are in changes.parquet, never on the screen)."""
    part = changes[changes["rule_id"] == UNMAPPED_RULE] if len(changes) else changes
    if part.empty:
        return []
    return [f"{pilot}: {n} cell(s) of column '{column}' hold a label outside the source spec's vocabulary and "
            f"were set to missing ({UNMAPPED_RULE}); add the label to the spec if it means something"
            for (pilot, column), n in part.groupby(["pilot", "column"]).size().items()]
