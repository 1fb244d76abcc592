"""Long (event) layouts: one raw row per intake, scenario, MRT referral or exit, folded into stays.

The spec's ``events.kinds`` says, per event kind (the value of ``event_type`` after its label
map), which field the event's date fills and which field its value (``event_value``) fills;
the kind with ``starts_stay: true`` opens a stay. Events are placed by date, not by file order:
an event belongs to the person's last stay opened on or before its date (the first stay when it
is dated before every intake; the last stay when undated). When a stay has several events of one
kind, the latest counts and the others are folded in (counted as event rows). An event whose
person has no intake at all becomes a stay of its own without admission date, which the rules
quarantine.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from lvv_eval.ingest.errors import SpecError
from lvv_eval.ingest.mapping import map_labels
from lvv_eval.ingest.spec_models import EventKind, SourceSpec

STAY_KEY = "_stay"


def _kinds(spec: SourceSpec) -> dict[str, EventKind]:
    if spec.events is None:  # the spec model requires events for a long layout
        raise SpecError(f"source spec {spec.path}: a long layout needs 'events.kinds'.")
    return dict(spec.events.kinds)


def event_kind(fields: pd.DataFrame, spec: SourceSpec) -> pd.Series:
    """The event kind of each row (missing when the type label is unknown)."""
    kind, _ = map_labels(fields["event_type"], spec.labels.get("event_type", {}))
    return kind


def spread_event_values(fields: pd.DataFrame, spec: SourceSpec) -> pd.DataFrame:
    """Move each row's event date and value into the fields its kind fills (still text)."""
    kinds = _kinds(spec)
    kind = event_kind(fields, spec)
    out = fields.copy()
    for name, conf in kinds.items():
        rows = kind.eq(name).fillna(False).to_numpy(dtype=bool)
        for src, dst in (("event_date", conf.date), ("event_value", conf.value)):
            if dst is None or src not in out.columns:
                continue
            target = out[dst] if dst in out.columns else pd.Series(pd.NA, index=out.index, dtype="str")
            out[dst] = target.where(~rows, out[src])
    return out.drop(columns=[c for c in ("event_date", "event_value") if c in out.columns])


def raw_column_names(names: Mapping[str, str], spec: SourceSpec) -> dict[str, str]:
    """Field -> raw column, the fields an event's date and value fill named by the raw date and
    value columns (so that an unreadable exit label is named as the cell it is in)."""
    out = dict(names)
    for conf in _kinds(spec).values():
        for src, dst in (("event_date", conf.date), ("event_value", conf.value)):
            if dst is not None and src in names:
                out.setdefault(dst, names[src])
    return out


def _assign_stays(records: pd.DataFrame, kind: pd.Series, kinds: Mapping[str, EventKind]) -> pd.Series:
    """Index of the opening row of the stay each row belongs to."""
    start = next(k for k, v in kinds.items() if v.starts_stay)
    start_date = kinds[start].date
    is_start = kind.eq(start).fillna(False).to_numpy(dtype=bool)
    event_date = pd.Series(pd.NaT, index=records.index, dtype="datetime64[ns]")
    for name, conf in kinds.items():
        rows = kind.eq(name).fillna(False).to_numpy(dtype=bool)
        event_date[rows] = records.loc[rows, conf.date]
    modified = records["modified_date"] if "modified_date" in records else pd.Series(pd.NaT, index=records.index)
    # Among intakes of one person on one date (key duplicates) the most recently modified, else
    # the last in the file, takes the events: the record the key-duplicate merge keeps.
    starts = pd.DataFrame({"sid": records.loc[is_start, "source_id"].to_numpy(),
                           "adm": records.loc[is_start, start_date].to_numpy(),
                           "mod": modified[is_start].fillna(pd.Timestamp.min).to_numpy(),
                           "stay": records.index[is_start]}).sort_values(
        ["sid", "adm", "mod", "stay"], na_position="first", kind="stable")
    stay = pd.Series(records.index, index=records.index)  # an opening row is its own stay
    others = records.index[~is_start]
    if len(others) == 0 or starts.empty:
        return stay
    first = starts.groupby("sid", sort=False)["stay"].first()
    last = starts.groupby("sid", sort=False)["stay"].last()
    ev = pd.DataFrame({"sid": records.loc[others, "source_id"].to_numpy(),
                       "d": event_date[others].to_numpy(), "row": others})
    dated = ev[ev["d"].notna()].sort_values("d")
    known = starts[starts["adm"].notna()].sort_values(["adm", "mod", "stay"], kind="stable")
    if len(dated) and len(known):
        hit = pd.merge_asof(dated, known, left_on="d", right_on="adm", by="sid", direction="backward")
        stay[hit["row"].to_numpy()] = np.where(hit["stay"].notna(), hit["stay"], -1).astype("int64")
        unplaced = hit["row"].to_numpy()[hit["stay"].isna().to_numpy()]
    else:
        unplaced = dated["row"].to_numpy()
    undated = ev.loc[ev["d"].isna(), "row"].to_numpy()
    sid = records["source_id"]
    for rows, choice in ((unplaced, first), (undated, last)):
        if len(rows):
            mapped = sid[rows].map(choice)
            stay[rows] = np.where(mapped.notna(), mapped, rows).astype("int64")
    return stay


def events_to_stays(
    records: pd.DataFrame, issues: pd.DataFrame, fields: pd.DataFrame, spec: SourceSpec
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Fold event rows into one record per stay.

    Returns the stay records (indexed by their opening row), their issues (any issue of any of
    their rows), their text fields, and the folded event rows (``_file``, ``_sheet``, ``_row``,
    ``_stay``).
    """
    kinds = _kinds(spec)
    kind = records["event_type"]
    stay = _assign_stays(records, kind, kinds)
    order = records.assign(_kind=kind, **{STAY_KEY: stay})
    base = order[order.index == order[STAY_KEY]].copy()
    for name, conf in kinds.items():
        if conf.starts_stay:
            continue
        ev = order[(order["_kind"] == name) & (order.index != order[STAY_KEY])]
        if ev.empty:
            continue
        latest = ev.sort_values(conf.date, na_position="first").groupby(STAY_KEY).last()
        for fld in [conf.date, conf.value, *conf.also]:
            if fld is None:
                continue
            filled = latest[fld].reindex(base.index)
            use = filled.notna() & (base[fld].isna() if fld in base else True)
            base[fld] = base[fld].where(~use, filled) if fld in base else filled
            # provenance per cell: the event row the value came from (see tracking.ROW_OF)
            rows = latest["_row"].reindex(base.index)
            base[f"_row@{fld}"] = rows.where(use, base["_row"]).astype("int64")
        for fld, value in conf.set_.items():
            has = base.index.isin(latest.index)
            base[fld] = base[fld].where(~has, value) if fld in base else pd.Series(has, index=base.index).where(has)
    stay_issues = issues.groupby(stay.to_numpy()).any().reindex(base.index, fill_value=False)
    events = order.loc[order.index != order[STAY_KEY], ["_file", "_sheet", "_row", STAY_KEY]]
    base = base.drop(columns=["_kind", STAY_KEY, "event_type"])
    return base, stay_issues, fields.loc[base.index], events


DUPLICATE_EVENT_RULE = "M_EXACT_DUPLICATE_EVENT"


def drop_exact_duplicates(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw event rows equal in every cell to an earlier row (a doubled export) fold into that row.

    Returns the frame without them and one row per folded row (``_file``, ``_sheet``, ``_row``,
    ``rule_id``, ``kept_file``, ``kept_sheet``, ``kept_row``), for the merge log and the accounting.
    """
    cells = [c for c in frame.columns if not c.startswith("_") or c == "_extra"]
    dup = frame.duplicated(subset=cells, keep="first").to_numpy()
    if not dup.any():
        return frame, pd.DataFrame(columns=["_file", "_sheet", "_row", "rule_id", "kept_file", "kept_sheet", "kept_row"])
    kept_row = frame.groupby(cells, dropna=False, sort=False)["_row"].transform("first")
    gone = frame[dup]
    folded = pd.DataFrame({"_file": gone["_file"].to_numpy(), "_sheet": gone["_sheet"].to_numpy(),
                           "_row": gone["_row"].to_numpy(), "rule_id": DUPLICATE_EVENT_RULE,
                           "kept_file": gone["_file"].to_numpy(), "kept_sheet": gone["_sheet"].to_numpy(),
                           "kept_row": kept_row[dup].to_numpy()})
    return frame[~dup], folded
