"""Duplicates merged by stated rules, each merged-away row logged.

- ``M_EXACT_DUPLICATE``: records equal on every harmonised field; the first is kept.
- ``M_KEY_DUPLICATE``: the same source key and admission date with conflicting values; the most
  recently modified record is kept (the spec's modification date, else the last one in the file).
- ``M_CROSS_SHEET``: one person registered in two registration groups (spec ``duplicates.
  cross_sheet``): a record outside the preferred group is merged into the person's first
  preferred record admitted on or after it, which keeps the earliest admission date of the two
  (that cell change is logged as ``R_CROSS_SHEET_EARLIEST_ADMISSION``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lvv_eval.ingest.spec import SourceSpec
from lvv_eval.ingest.tracking import ChangeLog, apply_tracked

KEY = ("source_id", "admission_date")
# The kept record's admission date, moved to the earliest of the pair, is a cell change that is
# logged under its own id, so that changes with an M_ id are exactly the merged-away rows.
CROSS_SHEET_ADMISSION_RULE = "R_CROSS_SHEET_EARLIEST_ADMISSION"


@dataclass
class MergeOutcome:
    """Records kept, and one row per merged-away record (``_file``, ``_sheet``, ``_row``, rule, kept)."""

    kept: pd.DataFrame
    merged: pd.DataFrame


def _fields(records: pd.DataFrame) -> list[str]:
    return [c for c in records.columns if not c.startswith("_")]


def _merged_rows(records: pd.DataFrame, away: np.ndarray, kept_pos: np.ndarray, rule: str) -> pd.DataFrame:
    gone, keep = records.iloc[away], records.iloc[kept_pos]
    return pd.DataFrame({
        "_file": gone["_file"].to_numpy(), "_sheet": gone["_sheet"].to_numpy(),
        "_row": gone["_row"].to_numpy(), "rule_id": rule,
        "kept_file": keep["_file"].to_numpy(), "kept_sheet": keep["_sheet"].to_numpy(),
        "kept_row": keep["_row"].to_numpy(),
    })


def exact_duplicates(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Positions of exact duplicates and of the record each duplicates."""
    fields = _fields(records)
    candidates = np.flatnonzero(records.duplicated(subset=list(KEY), keep=False).to_numpy())
    if len(candidates) == 0:
        return np.array([], dtype=int), np.array([], dtype=int)
    sub = records.iloc[candidates]
    group = sub[fields].astype("str").fillna("\x00").groupby(fields, sort=False, dropna=False).ngroup().to_numpy()
    first = pd.Series(candidates).groupby(group).transform("first").to_numpy()
    away = candidates[first != candidates]
    return away, first[first != candidates]


def key_duplicates(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Positions of older records sharing the key with a newer one, and of the newer one."""
    dup = records.duplicated(subset=list(KEY), keep=False).to_numpy()
    candidates = np.flatnonzero(dup)
    if len(candidates) == 0:
        return np.array([], dtype=int), np.array([], dtype=int)
    sub = records.iloc[candidates].assign(_pos=candidates)
    modified = sub["modified_date"] if "modified_date" in sub.columns else pd.Series(pd.NaT, index=sub.index)
    sub = sub.assign(_mod=modified.fillna(pd.Timestamp.min)).sort_values(["_mod", "_pos"], kind="stable")
    newest = sub.groupby(list(KEY), sort=False, dropna=False)["_pos"].transform("last").to_numpy()
    pos = sub["_pos"].to_numpy()
    return pos[newest != pos], newest[newest != pos]


def cross_sheet_pairs(records: pd.DataFrame, prefer: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Records of a person outside the preferred registration that another, preferred record of the
    same person covers (admitted not later than it), and that preferred record."""
    (fld, value), = prefer.items()
    pos = np.arange(len(records))
    is_pref = records[fld].eq(value).fillna(False).to_numpy(dtype=bool)
    pref = pd.DataFrame({"source_id": records["source_id"].to_numpy()[is_pref],
                         "adm_p": records["admission_date"].to_numpy()[is_pref], "pos_p": pos[is_pref]})
    other = pd.DataFrame({"source_id": records["source_id"].to_numpy()[~is_pref],
                          "adm_o": records["admission_date"].to_numpy()[~is_pref], "pos_o": pos[~is_pref]})
    pairs = other.merge(pref, on="source_id")
    pairs = pairs[pairs["adm_o"] <= pairs["adm_p"]].sort_values(["pos_o", "adm_p"])
    pairs = pairs.drop_duplicates("pos_o", keep="first").drop_duplicates("pos_p", keep="first")
    return pairs["pos_o"].to_numpy(), pairs["pos_p"].to_numpy()


def merge_duplicates(
    records: pd.DataFrame, spec: SourceSpec, log: ChangeLog, skip: Collection[str] = ()
) -> MergeOutcome:
    """Apply the three merge rules in turn; merged-away records go to the merge log."""
    records = records.reset_index(drop=True)
    merged = []
    exact_away, exact_kept = exact_duplicates(records)
    if "M_EXACT_DUPLICATE" not in skip and len(exact_away):
        merged.append(_merged_rows(records, exact_away, exact_kept, "M_EXACT_DUPLICATE"))
        records = records.drop(index=records.index[exact_away]).reset_index(drop=True)
        exact_away = np.array([], dtype=int)
    if "M_KEY_DUPLICATE" not in skip:
        # identical copies are not conflicting records: left alone when exact merging is off
        candidates = records.drop(index=records.index[exact_away])
        away, kept = key_duplicates(candidates)
        if len(away):
            pos = records.index.get_indexer(candidates.index)
            merged.append(_merged_rows(records, pos[away], pos[kept], "M_KEY_DUPLICATE"))
            records = records.drop(index=records.index[pos[away]]).reset_index(drop=True)
    cross = spec.duplicates.cross_sheet
    if cross and "M_CROSS_SHEET" not in skip:
        away, kept = cross_sheet_pairs(records, dict(cross.prefer))
        if len(away):
            merged.append(_merged_rows(records, away, kept, "M_CROSS_SHEET"))
            def keep_earliest(frame: pd.DataFrame) -> dict[str, pd.Series]:
                """The kept record takes the admission date (and the age at that admission) of
                the merged-away record when that was earlier."""
                adm = frame["admission_date"]
                earlier = (adm.to_numpy()[away] < adm.to_numpy()[kept])
                out = {}
                for col in ("admission_date", "age_at_admission"):
                    if col in frame.columns:
                        new = frame[col].copy()
                        new.iloc[kept[earlier]] = frame[col].iloc[away[earlier]].to_numpy()
                        out[col] = new
                return out

            records = apply_tracked(records, keep_earliest, rule_id=CROSS_SHEET_ADMISSION_RULE, step="merge",
                                    pilot=spec.pilot, log=log, column_names={v: k for k, v in spec.columns.items()},
                                    redact=["source_id"])
            records = records.drop(index=records.index[away]).reset_index(drop=True)
    merged_frame = pd.concat(merged, ignore_index=True) if merged else pd.DataFrame(
        columns=["_file", "_sheet", "_row", "rule_id", "kept_file", "kept_sheet", "kept_row"])
    log_merges(merged_frame, spec.pilot, log)
    return MergeOutcome(records, merged_frame)


def log_merges(merged: pd.DataFrame, pilot: str, log: ChangeLog) -> None:
    """Log each merged-away row, naming the row it was merged into."""
    if merged.empty:
        return
    kept = ("kept " + merged["kept_file"].astype(str) + np.where(merged["kept_sheet"].astype(str) != "",
            " sheet " + merged["kept_sheet"].astype(str), "") + " row " + merged["kept_row"].astype(str))
    log.record(pd.DataFrame({
        "step": "merge", "rule_id": merged["rule_id"], "pilot": pilot,
        "source_file": merged["_file"], "sheet": merged["_sheet"], "source_row": merged["_row"],
        "column": "", "old_value": "row merged away", "new_value": kept,
    }))
