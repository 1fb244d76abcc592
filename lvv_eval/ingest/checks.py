"""Checks that make a wrong delivery fail loudly, naming what is wrong.

- :func:`check_skip_ids`: ``--skip`` takes only ids of steps that can be switched off.
- :func:`loss_problems`: a table (file, sheet) that loses more than its spec's ``max_lost_share``
  of rows to quarantine (a swapped header, a wrong date format) fails the ingest.
- :func:`strict_problems`: under ``--strict`` every quarantined row fails the ingest, listed by
  pilot and rule with the first rows of each.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import pandas as pd

from lvv_eval.ingest.errors import IngestError, locate

MERGE_RULES = ("M_EXACT_DUPLICATE", "M_KEY_DUPLICATE", "M_CROSS_SHEET", "M_EXACT_DUPLICATE_EVENT")
EXCLUSION_RULES = ("X_NON_PARTICIPANT",)
ROWS_SHOWN = 3


def check_skip_ids(skip: Collection[str], repair_ids: Iterable[str], rule_ids: Iterable[str]) -> None:
    """Raise an :class:`IngestError` for a ``--skip`` id that names no step that can be switched off."""
    allowed = sorted({*repair_ids, *MERGE_RULES, *EXCLUSION_RULES})
    rules = set(rule_ids)
    for step in skip:
        if step in rules:
            raise IngestError(f"--skip {step}: a validation rule cannot be switched off (its rows would enter the "
                              f"stays unchecked); steps that can: {', '.join(allowed)}")
        if step not in allowed:
            raise IngestError(f"--skip {step}: no such step; steps that can be switched off: {', '.join(allowed)}")


def loss_problems(per_file: list[dict], limits: dict[str, float]) -> list[str]:
    """One line per table that lost more than its pilot's allowed share of rows to quarantine."""
    problems = []
    for entry in per_file:
        raw, lost = entry["raw_rows"], entry["quarantined"]
        limit = limits.get(entry["pilot"], 1.0)
        if raw and lost / raw > limit:
            problems.append(f"{entry['pilot']}: {locate(entry['file'], entry['sheet'] or None)} lost {lost} of "
                            f"{raw} rows ({lost / raw:.0%}) to quarantine, more than the allowed {limit:.0%} "
                            f"(source spec key max_lost_share)")
    return problems


def strict_problems(quarantine: pd.DataFrame, by: str = "pilot") -> list[str]:
    """Under ``--strict``: every quarantined row, by pilot (or the column ``by``, e.g. a chain
    extract's ``source``) and rule, with the first rows of each."""
    lines = []
    for (pilot, rule), part in quarantine.groupby([by, "rule_id"], sort=True):
        rows = [locate(r.source_file, r.sheet or None, int(r.source_row)) for r in part.head(ROWS_SHOWN).itertuples()]
        more = f" and {len(part) - ROWS_SHOWN} more" if len(part) > ROWS_SHOWN else ""
        lines.append(f"--strict: {pilot}: {len(part)} row(s) fail {rule} ({part['reason'].iloc[0]}): {'; '.join(rows)}{more}")
    return lines
