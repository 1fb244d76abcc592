"""Row accounting: every raw data row ends up in exactly one place, per source file and sheet.

raw rows = rows that became stays + event rows folded into a stay (long layouts) + quarantined
rows + rows merged away + non-participant rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pandas as pd


def _outcomes() -> defaultdict:
    return defaultdict(Counter)


CATEGORIES: tuple[str, ...] = ("stays", "events", "quarantined", "merged", "non_participants")


@dataclass
class Accounting:
    """Counts of raw rows and of where they went, per (file, sheet)."""

    raw: dict[tuple[str, str], int] = field(default_factory=dict)
    pilot: dict[tuple[str, str], str] = field(default_factory=dict)
    outcome: dict[tuple[str, str], Counter] = field(default_factory=lambda: _outcomes())
    categories: tuple[str, ...] = CATEGORIES

    def merge(self, other: Accounting) -> None:
        """Add another accounting (of other files) to this one."""
        for key, n in other.raw.items():
            self.raw[key] = self.raw.get(key, 0) + n
        self.pilot.update(other.pilot)
        for key, counts in other.outcome.items():
            self.outcome[key].update(counts)

    def __getstate__(self) -> dict:
        return {"raw": self.raw, "pilot": self.pilot, "outcome": dict(self.outcome), "categories": self.categories}

    def __setstate__(self, state: dict) -> None:
        self.raw, self.pilot = state["raw"], state["pilot"]
        self.categories = state.get("categories", CATEGORIES)
        self.outcome = _outcomes()
        self.outcome.update(state["outcome"])

    def add_raw(self, pilot: str, frame: pd.DataFrame) -> None:
        """Count the raw data rows of one table (``_file``, ``_sheet`` columns)."""
        for (file, sheet), n in frame.groupby(["_file", "_sheet"], sort=False).size().items():
            self.raw[(file, sheet)] = self.raw.get((file, sheet), 0) + int(n)
            self.pilot[(file, sheet)] = pilot

    def add_rows(self, frame: pd.DataFrame, category: str) -> None:
        """Count rows (``_file``, ``_sheet``) that ended up in ``category``."""
        if category not in self.categories:
            raise ValueError(f"unknown accounting category {category!r}")
        if frame is None or len(frame) == 0:
            return
        for (file, sheet), n in frame.groupby(["_file", "_sheet"], sort=False).size().items():
            self.outcome[(file, sheet)][category] += int(n)

    def per_file(self) -> list[dict]:
        """One entry per source file and sheet: raw rows, each outcome, and whether it closes."""
        rows = []
        for key in sorted(set(self.raw) | set(self.outcome)):
            out = {c: self.outcome[key].get(c, 0) for c in self.categories}
            raw = self.raw.get(key, 0)
            rows.append({"pilot": self.pilot.get(key, ""), "file": key[0], "sheet": key[1],
                         "raw_rows": raw, **out, "closes": raw == sum(out.values())})
        return rows

    def closes(self) -> bool:
        """True when the accounting closes for every file and sheet."""
        return all(r["closes"] for r in self.per_file())

    def frame(self) -> pd.DataFrame:
        """The accounting as a table."""
        return pd.DataFrame(self.per_file(), columns=["pilot", "file", "sheet", "raw_rows", *self.categories, "closes"])
