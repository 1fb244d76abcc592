"""Deliberate faults, injected in small known numbers and listed in the answer key.

Faults a correct ingest repairs are put onto real rows; faults it quarantines or merges away are
extra rows (see the answer-key contract in ``deliveries.py``). In an event log an exit fault is an
extra client with an intake and an exit row: the answer key lists the fault once, on the row that
is wrong, and the row map lists both rows as quarantined. Each injector changes the logical
record frame or schedules a raw-cell override (applied after encoding) and records a
:class:`Fault`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.synth.render.layout import Layout, LayoutError
from lvv_eval.synth.render.records import (
    ROLE_MERGE,
    ROLE_NON_PARTICIPANT,
    ROLE_QUARANTINE,
    ROLE_STAY,
)

# fault_type -> (expected_handling, rule_id): the shared contract with ingest.
FAULT_RULES: dict[str, tuple[str, str]] = {
    "daymonth_swapped_exit": ("repair", "R_DAYMONTH_SWAP"),
    "exit_before_admission": ("quarantine", "V_EXIT_BEFORE_ADMISSION"),
    "missing_admission_date": ("quarantine", "V_ADMISSION_PRESENT"),
    "unmapped_exit_label": ("quarantine", "V_EXIT_LABEL_MAPPED"),
    "date_after_data_cut": ("quarantine", "V_DATES_NOT_AFTER_CUT"),
    "impossible_age": ("repair", "R_IMPOSSIBLE_AGE_TO_MISSING"),
    "key_duplicate_conflict": ("merge", "M_KEY_DUPLICATE"),
    "exact_duplicate": ("merge", "M_EXACT_DUPLICATE"),
    "cross_sheet_duplicate": ("merge", "M_CROSS_SHEET"),
    "old_definition_label": ("recode", "R_OLD_DEFINITION_TEMPORARY"),
    "non_participant": ("exclude_non_participant", "X_NON_PARTICIPANT"),
    "trailing_whitespace": ("repair", "R_TRIM_WHITESPACE"),
    "sentinel_unknown": ("repair", "R_SENTINEL_TO_MISSING"),
}
# Order of injection: row-level repairs first, whole-row copies last (they copy the final cells).
INJECTION_ORDER: tuple[str, ...] = (
    "cross_sheet_duplicate",
    "daymonth_swapped_exit",
    "impossible_age",
    "exit_before_admission",
    "missing_admission_date",
    "unmapped_exit_label",
    "date_after_data_cut",
    "key_duplicate_conflict",
    "old_definition_label",
    "trailing_whitespace",
    "exact_duplicate",
)
FAR_FUTURE_YEAR = 2032  # the typo year of 'date_after_data_cut'
OFFSET_BEFORE, OFFSET_AFTER, OFFSET_NEAR = -1, 1, 2


@dataclass
class Fault:
    """One injected fault: which record, which raw column, what the truth is."""

    fault_type: str
    rid: int
    header: str
    stay_id: str | None
    true_value: str

    @property
    def expected_handling(self) -> str:
        return FAULT_RULES[self.fault_type][0]

    @property
    def rule_id(self) -> str:
        return FAULT_RULES[self.fault_type][1]


@dataclass(frozen=True)
class Target:
    """Where a logical field shows in the raw file: header, logical column, event (long format)."""

    header: str
    column: str
    event: str | None = None


@dataclass
class Override:
    """A raw-cell change applied after encoding: set a value, or pad the text with spaces."""

    rid: int
    header: str
    kind: str  # "set" | "pad_left" | "pad_right"
    value: Any = None


def truth_text(value: Any) -> str:
    """A contract value as text for the answer key ('' when missing, ISO for dates)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def locate(layout: Layout, field_name: str) -> Target | None:
    """Where ``field_name`` is written in this layout (None when the layout does not show it)."""
    if layout.format == "csv_long":
        return _locate_in_event_log(layout, field_name)
    for col in layout.columns:
        if col.field == field_name:
            return Target(col.header, field_name, None)
    return None


def _locate_in_event_log(layout: Layout, field_name: str) -> Target | None:
    """Where ``field_name`` is written in a long (event) layout: a per-client column, the event
    date of the event that sets it, or a column of one event kind."""
    raw = layout.raw
    for key in ("key_column", "registered_column"):
        if field_name == raw.get(key, {}).get("field"):
            return Target(raw[key]["header"], field_name, None)
    for ev in layout.events:
        if ev.date_field == field_name:
            return Target(raw["date_column"]["header"], "event_date", ev.name)
    for ev in layout.events:
        for col in ev.columns:
            if col.field == field_name:
                return Target(col.header, field_name, ev.name)
    return None


@dataclass
class FaultInjector:
    """Adds the layout's faults to one pilot's logical records."""

    layout: Layout
    records: pd.DataFrame
    rng: np.random.Generator
    faults: list[Fault] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)
    _clones: list[pd.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.records = self.records.set_index(self.records["_rid"].to_numpy(), drop=False)
        self._next_rid = int(self.records["_rid"].max()) + 1 if len(self.records) else 0
        self._used_ids = set(self.records["source_id"].dropna().astype(str))

    # ----------------------------------------------------------------- helpers
    def target(self, field_name: str) -> Target:
        t = locate(self.layout, field_name)
        if t is None:
            raise LayoutError(f"{self.layout.path.name}: no column shows {field_name!r}")
        return t

    def candidates(self, mask: pd.Series | np.ndarray, event: str | None = None) -> np.ndarray:
        """Record ids of untouched truth records matching ``mask`` (intake/stay row or ``event``)."""
        rec = self.records
        ok = np.asarray(mask, dtype=bool) & ~rec["_rid"].isin(self.touched).to_numpy()
        if event is None:
            ok &= (rec["_role"] == ROLE_STAY).to_numpy()
        else:
            ok &= (rec["_event"] == event).to_numpy()
        return rec["_rid"].to_numpy()[ok]

    def single_stay(self) -> pd.Series:
        """Records of people with one stay only (faults that need the person's stay unambiguous)."""
        rec = self.records
        first = rec["_role"] == ROLE_STAY
        counts = rec.loc[first, "source_id"].value_counts()
        return rec["source_id"].map(counts).fillna(0).eq(1)

    def pick(self, rids: np.ndarray, count: int) -> list[int]:
        """Up to ``count`` distinct record ids, drawn at random, marked as touched."""
        if count <= 0 or len(rids) == 0:
            return []
        chosen = self.rng.choice(rids, size=min(count, len(rids)), replace=False)
        chosen = sorted(int(r) for r in chosen)
        self.touched.update(chosen)
        return chosen

    def row(self, rid: int) -> pd.Series:
        return self.records.loc[rid]

    def set_value(self, rid: int, column: str, value: Any) -> None:
        self.records.loc[rid, column] = value

    def fresh_id(self, template: str) -> str:
        """A source id in the same format as ``template`` that no record uses."""
        for _ in range(1000):
            digits = iter(self.rng.integers(0, 10, len(template)).tolist())
            candidate = "".join(str(next(digits)) if ch.isdigit() else ch for ch in template)
            if candidate not in self._used_ids and candidate[0] != "0":
                self._used_ids.add(candidate)
                return candidate
        raise RuntimeError(f"could not find a fresh source id like {template!r}")

    def clone(self, rid: int, role: str, anchor: int, offset: int, **changes: Any) -> int:
        """Add a copy of truth record ``rid`` as a new raw record; returns its id."""
        new = self.records.loc[[rid]].copy()
        new_rid = self._next_rid
        self._next_rid += 1
        new.index = [new_rid]
        new["_rid"] = new_rid
        new["_role"] = role
        new["_anchor"] = anchor
        new["_offset"] = offset
        new["_stay_id"] = None
        for col, value in changes.items():
            new[col] = value
        self._clones.append(new)  # joined to the records once, by run()
        self.touched.add(new_rid)
        return new_rid

    def record(self, fault_type: str, rid: int, header: str, stay_id: Any, true_value: Any) -> None:
        self.faults.append(
            Fault(fault_type, rid, header, None if stay_id is None else str(stay_id), truth_text(true_value))
        )

    def quarantine_clone(self, template: int, **changes: Any) -> int:
        """An extra record of a stay nobody could use: a new person modelled on ``template``."""
        src = self.row(template)
        return self.clone(
            template, ROLE_QUARANTINE, template, OFFSET_NEAR, source_id=self.fresh_id(str(src["source_id"])), **changes
        )

    def untouched_stays(self) -> pd.Series:
        """Records whose stay has no touched record (in an event log: none of its events)."""
        rec = self.records
        touched = set(rec.loc[rec["_rid"].isin(self.touched), "_stay_id"].dropna())
        return ~rec["_stay_id"].isin(touched)

    def quarantine_exit_clone(self, template: int, **changes: Any) -> int:
        """An extra stay with an exit, nobody could use it: a new person modelled on ``template``
        (a stay record with an exit). Returns the record that shows the exit.

        A wide layout shows the stay on one record. An event log shows it as an intake and an
        exit event: both are cloned under one new client number (both rows are quarantined), and
        the exit event's record carries the fault (``event_date`` follows a changed exit date).
        """
        ev = self.target("exit_date").event
        if ev is None:
            return self.quarantine_clone(template, **changes)
        rec = self.records
        exit_rids = rec.index[(rec["_stay_id"] == rec.at[template, "_stay_id"]) & (rec["_event"] == ev)]
        if len(exit_rids) != 1:
            raise LayoutError(f"{self.layout.path.name}: stay of record {template} has {len(exit_rids)} exit events")
        source_id = self.fresh_id(str(self.row(template)["source_id"]))
        self.clone(template, ROLE_QUARANTINE, template, OFFSET_NEAR, source_id=source_id, **changes)
        exit_changes = dict(changes)
        if "exit_date" in changes:
            exit_changes["event_date"] = changes["exit_date"]
        exit_rid = int(exit_rids[0])
        return self.clone(exit_rid, ROLE_QUARANTINE, exit_rid, OFFSET_NEAR, source_id=source_id, **exit_changes)

    # ----------------------------------------------------------------- injectors
    def inject_daymonth_swapped_exit(self, count: int) -> None:
        t = self.target("exit_date")
        rec = self.records
        ex = rec["exit_date"]
        day, month = ex.dt.day, ex.dt.month
        swappable = ex.notna() & (day <= 12) & (day != month)
        swapped = pd.to_datetime(
            {"year": ex.dt.year.where(swappable, 2000), "month": day.where(swappable, 1), "day": month.where(swappable, 1)}
        )
        ok = swappable & (swapped < rec["admission_date"]) & self.single_stay()
        for rid in self.pick(self.candidates(ok, t.event), count):
            r = self.row(rid)
            bad = pd.Timestamp(year=r["exit_date"].year, month=r["exit_date"].day, day=r["exit_date"].month)
            self.set_value(rid, t.column, bad)
            self.record("daymonth_swapped_exit", rid, t.header, r["_stay_id"], r["exit_date"])

    def inject_impossible_age(self, count: int) -> None:
        t = locate(self.layout, "birth_date") or self.target("age_at_admission")
        unknown = self.records["age_at_admission"].isna()
        event = self.layout.events[0].name if self.layout.events else None
        for k, rid in enumerate(self.pick(self.candidates(unknown, event), count)):
            r = self.row(rid)
            adm = r["admission_date"]
            if k % 2 == 0:  # far too old
                born = pd.Timestamp(year=adm.year - 112, month=6, day=15)
            else:  # born after admission
                born = pd.Timestamp(year=adm.year + 2, month=1, day=15)
            age = adm.year - born.year - int((adm.month, adm.day) < (born.month, born.day))
            self.set_value(rid, "birth_date", born)
            self.set_value(rid, "age_at_admission", age)
            self.record("impossible_age", rid, t.header, r["_stay_id"], None)

    def _templates(self, mask: pd.Series, count: int, event: str | None = None) -> list[int]:
        rids = self.candidates(mask, event)
        if count <= 0 or len(rids) == 0:
            return []
        return sorted(int(r) for r in self.rng.choice(rids, size=min(count, len(rids)), replace=False))

    def inject_exit_before_admission(self, count: int) -> None:
        t = self.target("exit_date")
        has_exit = self.records["exit_date"].notna() & self.untouched_stays()
        for template in self._templates(has_exit, count):
            adm = self.row(template)["admission_date"]
            bad = adm - pd.Timedelta(days=int(self.rng.integers(40, 200)))
            bad = bad.replace(day=int(self.rng.integers(13, 29)))  # day > 12: no swap repairs it
            rid = self.quarantine_exit_clone(template, exit_date=bad)
            self.record("exit_before_admission", rid, t.header, None, None)

    def inject_missing_admission_date(self, count: int) -> None:
        t = self.target("admission_date")
        event = t.event
        for template in self._templates(pd.Series(True, index=self.records.index), count, event):
            changes = {"admission_date": pd.NaT}
            if event is not None:
                changes["event_date"] = pd.NaT
            rid = self.quarantine_clone(template, **changes)
            self.record("missing_admission_date", rid, t.header, None, None)

    def inject_unmapped_exit_label(self, count: int) -> None:
        t = self.target("exit_reason")
        labels = [str(v) for v in self.layout.fault_values.get("unmapped_exit_labels", ["?"])]
        has_exit = self.records["exit_date"].notna() & self.untouched_stays()
        for k, template in enumerate(self._templates(has_exit, count)):
            rid = self.quarantine_exit_clone(template)
            self.overrides.append(Override(rid, t.header, "set", labels[k % len(labels)]))
            self.record("unmapped_exit_label", rid, t.header, None, None)

    def inject_date_after_data_cut(self, count: int) -> None:
        if self.layout.format == "csv_long":  # an intake typed in the future
            t = self.target("admission_date")
            for template in self._templates(pd.Series(True, index=self.records.index), count, t.event):
                adm = self.row(template)["admission_date"]
                bad = adm.replace(year=FAR_FUTURE_YEAR, day=min(adm.day, 28))
                rid = self.quarantine_clone(template, admission_date=bad, event_date=bad)
                self.record("date_after_data_cut", rid, t.header, None, None)
            return
        t = self.target("exit_date")
        for template in self._templates(self.records["exit_date"].notna(), count):
            ex = self.row(template)["exit_date"]
            bad = ex.replace(year=FAR_FUTURE_YEAR, day=min(ex.day, 28))
            rid = self.quarantine_clone(template, exit_date=bad)
            self.record("date_after_data_cut", rid, t.header, None, None)

    def _conflicting(self, column: str, value: Any) -> Any:
        series = self.records[column]
        if series.dtype == "boolean":
            return not bool(value) if not pd.isna(value) else True
        if isinstance(series.dtype, pd.CategoricalDtype):
            others = [c for c in series.cat.categories if c != value]
            return others[int(self.rng.integers(0, len(others)))]
        if str(series.dtype) == "Int64":
            return 1 if pd.isna(value) else int(value) + int(self.rng.integers(1, 4))
        raise LayoutError(f"conflict field {column!r} has unsupported type {series.dtype}")

    def inject_key_duplicate_conflict(self, count: int) -> None:
        fields = list(self.layout.fault_values.get("conflict_fields", []))
        if not fields:
            raise LayoutError(f"{self.layout.path.name}: key_duplicate_conflict needs conflict_fields")
        m = self.target("modified_date")
        rec = self.records
        has_room = rec["modified_date"] > rec["admission_date"] + pd.Timedelta(days=1)
        event = self.layout.events[0].name if self.layout.events else None
        for k, rid in enumerate(self.pick(self.candidates(has_room, event), count)):
            r = self.row(rid)
            column = fields[k % len(fields)]
            t = self.target(column)
            room = (r["modified_date"] - r["admission_date"]).days
            older = r["modified_date"] - pd.Timedelta(days=int(self.rng.integers(1, room)))
            new = self.clone(
                rid, ROLE_MERGE, rid, OFFSET_BEFORE, **{column: self._conflicting(column, r[column]), m.column: older}
            )
            self.record("key_duplicate_conflict", new, t.header, r["_stay_id"], r[column])

    def inject_exact_duplicate(self, count: int) -> None:
        for rid in self.pick(self.candidates(pd.Series(True, index=self.records.index)), count):
            r = self.row(rid)
            new = self.clone(rid, ROLE_MERGE, rid, OFFSET_AFTER, _copy_of=rid)
            self.record("exact_duplicate", new, "", r["_stay_id"], None)

    def inject_cross_sheet_duplicate(self, count: int) -> None:
        t = self.target("admission_date")
        rec = self.records
        end = rec[["exit_date", "scenario_date", "mrt_date"]].min(axis=1).fillna(rec["data_cut_date"])
        room = (end - rec["admission_date"]).dt.days
        ok = (rec["registration_group"] == "official") & (room >= 2) & self.single_stay()
        for rid in self.pick(self.candidates(ok), count):
            r = self.row(rid)
            span = int((min(r[["exit_date", "scenario_date", "mrt_date"]].dropna(), default=r["data_cut_date"]) - r["admission_date"]).days)
            official = r["admission_date"] + pd.Timedelta(days=int(self.rng.integers(1, span)))
            new = self.clone(
                rid, ROLE_MERGE, -1, 0,
                registration_group="pre_lso", exit_date=pd.NaT, exit_reason=None, scenario=None,
                scenario_date=pd.NaT, mrt_referred=False, mrt_date=pd.NaT, mrt_conclusion=None,
                modified_date=official,
            )
            self.set_value(rid, "admission_date", official)
            self.record("cross_sheet_duplicate", new, t.header, r["_stay_id"], r["admission_date"])

    def inject_old_definition_label(self, count: int) -> None:
        """Every eligible exit (not a sample): the municipality used the old labels throughout."""
        t = self.target("exit_reason")
        spec = self.layout.column(t.header).options.get("old_definition")
        if not spec:
            raise LayoutError(f"{self.layout.path.name}: old_definition_label needs 'old_definition' on {t.header!r}")
        before = pd.Timestamp(spec["before"])
        rec = self.records
        for value, label in spec["labels"].items():
            ok = (rec["exit_reason"] == value) & (rec["exit_date"] < before)
            rids = self.candidates(ok, t.event)
            for rid, stay_id in zip(rids.tolist(), rec.loc[rids, "_stay_id"].tolist(), strict=True):
                self.overrides.append(Override(rid, t.header, "set", str(label)))
                self.record("old_definition_label", rid, t.header, stay_id, value)

    def inject_trailing_whitespace(self, count: int) -> None:
        headers = list(self.layout.fault_values.get("whitespace_columns", []))
        if not headers:
            raise LayoutError(f"{self.layout.path.name}: trailing_whitespace needs whitespace_columns")
        for k in range(count):
            header = headers[k % len(headers)]
            col = self.layout.column(header)
            chosen = self.pick(self.candidates(self.records[col.field].notna()), 1)
            for rid in chosen:
                self.overrides.append(Override(rid, header, "pad_right" if k % 3 else "pad_left", "  " if k % 3 else " "))
                self.record("trailing_whitespace", rid, header, self.row(rid)["_stay_id"], None)

    def note_non_participants(self) -> None:
        """Municipal-shelter-only users are extra rows, each listed in the answer key."""
        t = self.target("participant")
        for rid in self.records.loc[self.records["_role"] == ROLE_NON_PARTICIPANT, "_rid"].tolist():
            self.record("non_participant", int(rid), t.header, None, False)

    def run(self) -> None:
        """Inject every fault type the layout asks for, in :data:`INJECTION_ORDER`."""
        requested = self.layout.faults
        unknown = set(requested) - set(INJECTION_ORDER)
        if unknown:
            raise LayoutError(f"{self.layout.path.name}: unknown fault types {sorted(unknown)}")
        for fault_type in INJECTION_ORDER:
            if fault_type in requested:
                count = requested[fault_type]
                getattr(self, f"inject_{fault_type}")(-1 if count == "all" else int(count))
        if (self.records["_role"] == ROLE_NON_PARTICIPANT).any():
            self.note_non_participants()
        if self._clones:
            self.records = pd.concat([self.records, *self._clones])
            self._clones = []
