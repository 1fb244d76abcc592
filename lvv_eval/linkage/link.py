"""Which stays and persons link to which chain register, and which chain records link to nobody.

A stay links through its person: ``person_links`` gives the person's ``v_key`` (from a delivery
whose source id is the V-number, or from the municipality's crosswalk), and the person is found
in a register when that register holds a record with the same ``v_key``. Link status per stay:
``linked`` (found in at least one register), ``not_found`` (a V-number that is in no register:
mistyped, or left out of the registers' selection), ``no_v_number`` (no V-number known: not in
a crosswalk, or the crosswalk leaves it empty).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lvv_eval.config import PILOTS
from lvv_eval.linkage.data import ChainData

LINK_STATUSES: tuple[str, ...] = ("linked", "not_found", "no_v_number")
REGISTER_COLUMNS = {"IND": "in_ind", "DTV": "in_dtv", "any": "in_any"}
UNLINKED_REASONS: tuple[str, ...] = (
    "no_crosswalk_row", "crosswalk_without_v_number", "v_number_in_no_register", "no_record_in_register",
)


def stay_keys(stays: pd.DataFrame, chain: ChainData) -> pd.DataFrame:
    """Per stay: its person's ``v_key``, where the key came from, and where the person is found."""
    links = chain.links.set_index("person_id")
    person = stays["person_id"].astype("str")
    v = links["v_key"].reindex(person.to_numpy())
    source = links["link_source"].astype("object").reindex(person.to_numpy())
    in_ind = v.isin(set(chain.ind["v_key"])).to_numpy() & v.notna().to_numpy()
    in_dtv = v.isin(set(chain.dtv["v_key"])).to_numpy() & v.notna().to_numpy()
    status = np.where(v.isna().to_numpy(), "no_v_number", np.where(in_ind | in_dtv, "linked", "not_found"))
    return pd.DataFrame({
        "stay_id": stays["stay_id"].to_numpy(), "person_id": person.to_numpy(), "pilot": stays["pilot"].to_numpy(),
        "v_key": v.to_numpy(), "link_source": source.to_numpy(),
        "in_ind": in_ind, "in_dtv": in_dtv, "in_any": in_ind | in_dtv,
        "link_status": pd.Categorical(status, categories=list(LINK_STATUSES)),
    }, index=stays.index)


def linkage_rates(keys: pd.DataFrame, registers: tuple[str, ...] = ("IND", "DTV")) -> pd.DataFrame:
    """Per pilot and register (and 'any'): persons and stays, how many link, and the rates."""
    parts = []
    for register in (*registers, "any"):
        col = REGISTER_COLUMNS[register]
        persons = keys.groupby(["pilot", "person_id"], observed=True)[col].max().groupby("pilot", observed=True).agg(
            ["size", "sum"])
        stays = keys.groupby("pilot", observed=True)[col].agg(["size", "sum"])
        parts.append(pd.DataFrame({
            "pilot": persons.index.astype(str), "register": register, "persons": persons["size"].to_numpy(),
            "linked_persons": persons["sum"].astype("int64").to_numpy(), "stays": stays["size"].to_numpy(),
            "linked_stays": stays["sum"].astype("int64").to_numpy(),
        }))
    out = pd.concat(parts, ignore_index=True)
    out["pilot"] = pd.Categorical(out["pilot"], categories=list(PILOTS))
    out["register"] = pd.Categorical(out["register"], categories=[*registers, "any"])
    out["person_rate"] = out["linked_persons"] / out["persons"]
    out["stay_rate"] = out["linked_stays"] / out["stays"]
    return out.sort_values(["register", "pilot"], kind="stable").reset_index(drop=True)


def unlinked_persons(keys: pd.DataFrame, chain: ChainData) -> pd.DataFrame:
    """Why persons do not link, per pilot, register and reason (persons and stays)."""
    person_link = chain.links.set_index("person_id")["v_key"]
    listed = keys["person_id"].isin(person_link.index).to_numpy()
    base = np.select([keys["link_status"].eq("no_v_number").to_numpy() & ~listed,
                      keys["link_status"].eq("no_v_number").to_numpy(),
                      keys["link_status"].eq("not_found").to_numpy()],
                     ["no_crosswalk_row", "crosswalk_without_v_number", "v_number_in_no_register"], "")
    parts = []
    for register in (*chain.registers, "any"):
        col = REGISTER_COLUMNS[register]
        reason = np.where(base != "", base, np.where(~keys[col].to_numpy(), "no_record_in_register", ""))
        frame = keys.assign(reason=reason)[reason != ""]
        counts = frame.groupby(["pilot", "reason"], observed=True).agg(
            persons=("person_id", "nunique"), stays=("stay_id", "size")).reset_index()
        parts.append(counts.assign(register=register))
    cols = ["pilot", "register", "reason", "persons", "stays"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    out["reason"] = pd.Categorical(out["reason"], categories=list(UNLINKED_REASONS))
    return out.loc[:, cols].sort_values(["register", "pilot", "reason"], kind="stable").reset_index(drop=True)


def chain_only_records(keys: pd.DataFrame, chain: ChainData) -> pd.DataFrame:
    """Per register and ``v_key`` that no LVV person has: the number of records and the first one."""
    lvv = set(keys["v_key"].dropna())
    parts = []
    for register, table in (("IND", chain.ind), ("DTV", chain.dtv)):
        alone = table[~table["v_key"].isin(lvv)]
        if alone.empty:
            continue
        first = alone.sort_values(["source_file", "sheet", "source_row"]).drop_duplicates("v_key")
        counts = alone.groupby("v_key").size()
        parts.append(pd.DataFrame({
            "register": register, "v_key": first["v_key"].to_numpy(),
            "records": counts.reindex(first["v_key"]).to_numpy(), "source_file": first["source_file"].to_numpy(),
            "sheet": first["sheet"].to_numpy(), "source_row": first["source_row"].to_numpy(),
        }))
    cols = ["register", "v_key", "records", "source_file", "sheet", "source_row"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
