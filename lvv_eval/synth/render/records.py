"""The logical record frame of one delivery: one row per raw record, with contract values.

Rows carry the truth stay's values plus what deliveries show but the contract does not keep
(source id, birth date, last-modified date, LVV participation, former BBB client), and bookkeeping
columns (prefix ``_``) that say what each row is. Faults change this frame before encoding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lvv_eval.schema import STAYS_COLUMNS
from lvv_eval.synth.render.layout import Layout

ROLE_STAY = "stay"
ROLE_QUARANTINE = "quarantine"
ROLE_MERGE = "merge"
ROLE_NON_PARTICIPANT = "non_participant"
ROLE_EVENT = "event"
ROLES = (ROLE_STAY, ROLE_QUARANTINE, ROLE_MERGE, ROLE_NON_PARTICIPANT, ROLE_EVENT)

DATE_FIELDS = ("admission_date", "exit_date", "scenario_date", "mrt_date")
BOOKKEEPING = ("_rid", "_role", "_stay_id", "_group", "_anchor", "_offset", "_copy_of", "_event")


def _modified_dates(frame: pd.DataFrame, cut: pd.Timestamp, rng: np.random.Generator) -> pd.Series:
    """A plausible 'last modified' date: the latest event of the record plus a short delay."""
    latest = frame[list(DATE_FIELDS)].max(axis=1)
    delay = pd.to_timedelta(rng.integers(0, 21, len(frame)), unit="D")
    return (latest + delay).clip(upper=cut)


FORMER_BBB_WINDOW = pd.Timedelta(days=14)


def _former_bbb(stays: pd.DataFrame) -> pd.Series:
    """Clients who came over from the municipality's BBB: admitted in the pilot's first two weeks."""
    first_day = stays["admission_date"].min()
    return pd.Series(stays["admission_date"] < first_day + FORMER_BBB_WINDOW, index=stays.index)


def stay_records(stays: pd.DataFrame, hidden: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Logical records of one pilot's truth stays (one row per stay, role ``stay``)."""
    frame = stays.loc[:, list(STAYS_COLUMNS)].reset_index(drop=True).copy()
    hid = hidden.reset_index(drop=True)
    if not (hid["stay_id"].to_numpy() == frame["stay_id"].to_numpy()).all():
        raise ValueError("cohort.hidden is not aligned row for row with cohort.stays")
    frame["source_id"] = hid["source_id"].astype(str).to_numpy()
    frame["birth_date"] = pd.to_datetime(hid["birth_date"]).to_numpy()
    cut = frame["data_cut_date"].max()
    frame["modified_date"] = _modified_dates(frame, cut, rng)
    frame["participant"] = pd.array([True] * len(frame), dtype="boolean")
    frame["dublin_claimant"] = pd.array(frame["exclusion_reason"] == "dublin_claimant", dtype="boolean")
    frame["former_bbb"] = pd.array(_former_bbb(frame), dtype="boolean")
    frame["_role"] = ROLE_STAY
    frame["_stay_id"] = frame["stay_id"].astype(object)
    return frame


def non_participant_records(
    non_participants: pd.DataFrame, template: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Logical records of municipal-shelter-only users listed beside the LVV participants."""
    n = len(non_participants)
    frame = pd.DataFrame(index=range(n), columns=template.columns).astype(template.dtypes.to_dict())
    np_ = non_participants.reset_index(drop=True)
    shared = [c for c in np_.columns if c in frame.columns and c not in ("source_id", "pilot")]
    for col in shared:  # the municipality registers them in the same columns as participants
        frame[col] = pd.array(np_[col].to_numpy(), dtype=frame[col].dtype) if str(frame[col].dtype) != "object" \
            else np_[col].to_numpy()
    frame["source_id"] = np_["source_id"].astype(str).to_numpy()
    frame["pilot"] = np_["pilot"].to_numpy()
    frame["data_cut_date"] = template["data_cut_date"].max()
    frame["modified_date"] = _modified_dates(frame, frame["data_cut_date"].max(), rng)
    frame["participant"] = pd.array([False] * n, dtype="boolean")
    frame["_role"] = ROLE_NON_PARTICIPANT
    frame["_stay_id"] = None
    return frame


def number_records(frame: pd.DataFrame) -> pd.DataFrame:
    """Give every record a unique id ``_rid`` and empty placement columns."""
    out = frame.reset_index(drop=True)
    out["_rid"] = np.arange(len(out), dtype=np.int64)
    out["_anchor"] = -1
    out["_offset"] = 0
    out["_copy_of"] = -1
    if "_event" not in out.columns:
        out["_event"] = None
    return out


def sheet_groups(frame: pd.DataFrame, layout: Layout) -> pd.Series:
    """Which sheet (by key of the layout's ``sheets.names``) each record goes to."""
    by = layout.sheets.get("by")
    if by is None:
        return pd.Series(["all"] * len(frame), index=frame.index, dtype=object)
    return frame[by].astype(object)


def _present(flag: pd.Series) -> pd.Series:
    if flag.dtype == "boolean":
        return flag.fillna(False).astype(bool)
    return flag.notna()


def explode_events(frame: pd.DataFrame, layout: Layout, rng: np.random.Generator) -> pd.DataFrame:
    """Long format: one record per event of each stay (intake first, then scenario, MRT, exit).

    Every event record keeps its stay's values; ``event_date`` is the event's own date and
    ``modified_date`` when the event was entered in the case system.
    """
    parts = []
    for i, ev in enumerate(layout.events):
        rows = frame if ev.present_if is None else frame[_present(frame[ev.present_if])]
        part = rows.copy()
        part["_event"] = ev.name
        part["event_date"] = part[ev.date_field]
        if i > 0:
            part["_role"] = ROLE_EVENT
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    cut = out["data_cut_date"].max()
    delay = pd.to_timedelta(rng.integers(0, 15, len(out)), unit="D")
    out["modified_date"] = (out["event_date"].fillna(out["admission_date"]) + delay).clip(upper=cut)
    return out
