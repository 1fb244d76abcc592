"""Which stays and persons link to which chain register, and which chain records link to nobody.

A stay links through its person: ``person_links`` gives the person's ``v_key`` (from a delivery
whose source id is the V-number, or from the municipality's crosswalk), and the person is found
in a register when that register holds a record with the same ``v_key``. Link status per stay:
``linked`` (found in at least one register), ``not_found`` (a V-number that is in no register:
mistyped, or left out of the registers' selection), ``no_v_number`` (no V-number known: not in
a crosswalk, or the crosswalk leaves it empty).

Keys are factorised once into integer codes (:class:`KeyIndex`): every join and membership test
below runs on integers, which keeps a million stays within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lvv_eval.config import PILOTS
from lvv_eval.linkage.data import ChainData

LINK_STATUSES: tuple[str, ...] = ("linked", "not_found", "no_v_number")
REGISTER_COLUMNS = {"IND": "in_ind", "DTV": "in_dtv", "any": "in_any"}
UNLINKED_REASONS: tuple[str, ...] = (
    "no_crosswalk_row", "crosswalk_without_v_number", "v_number_in_no_register", "no_record_in_register",
)


@dataclass(frozen=True)
class KeyIndex:
    """``v_key`` as integer codes shared by the stays and both registers (-1: no key)."""

    uniques: np.ndarray      # the v_key of each code
    stay: np.ndarray         # code of each stay's person
    ind: np.ndarray          # code of each IND record
    dtv: np.ndarray          # code of each DT&V record
    in_ind: np.ndarray       # per code (+1 slot for -1): has an IND record
    in_dtv: np.ndarray       # per code: has a DT&V record
    in_lvv: np.ndarray       # per code: belongs to a person with a stay
    listed: np.ndarray       # per stay: the person is in person_links (with or without a key)
    link_source: np.ndarray  # per stay: delivery | crosswalk | None

    def v_keys(self, codes: np.ndarray) -> np.ndarray:
        """The v_key of each code (None for -1)."""
        out = np.full(len(codes), None, dtype=object)
        ok = codes >= 0
        out[ok] = self.uniques[codes[ok]]
        return out


def _present(codes: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n + 1, dtype=bool)  # the extra last slot is where code -1 points: never present
    out[codes[codes >= 0]] = True
    return out


def key_index(stays: pd.DataFrame, chain: ChainData) -> KeyIndex:
    """Codes of the stays' person keys and of the registers' keys (see :class:`KeyIndex`)."""
    pos = pd.Index(chain.links["person_id"].to_numpy(dtype=object)).get_indexer(
        stays["person_id"].to_numpy(dtype=object))
    found = pos >= 0
    stay_v = np.full(len(stays), None, dtype=object)
    stay_v[found] = chain.links["v_key"].to_numpy(dtype=object)[pos[found]]
    source = np.full(len(stays), None, dtype=object)
    source[found] = chain.links["link_source"].astype("object").to_numpy()[pos[found]]
    n_s, n_i = len(stays), len(chain.ind)
    codes, uniques = pd.factorize(np.concatenate([stay_v, chain.ind["v_key"].to_numpy(dtype=object),
                                                  chain.dtv["v_key"].to_numpy(dtype=object)]), use_na_sentinel=True)
    stay, ind, dtv = codes[:n_s], codes[n_s:n_s + n_i], codes[n_s + n_i:]
    n = len(uniques)
    return KeyIndex(np.asarray(uniques, dtype=object), stay, ind, dtv, _present(ind, n), _present(dtv, n),
                    _present(stay, n), found, source)


def stay_keys(stays: pd.DataFrame, index: KeyIndex) -> pd.DataFrame:
    """Per stay: its person's ``v_key`` (and code), where the key came from, where it is found."""
    code = index.stay
    in_ind, in_dtv = index.in_ind[code], index.in_dtv[code]
    status = np.where(code < 0, "no_v_number", np.where(in_ind | in_dtv, "linked", "not_found"))
    keys = stays[["stay_id", "person_id", "pilot"]].copy()
    keys["v_key"] = pd.array(index.v_keys(code), dtype="str")
    keys["v_code"] = code
    keys["person_code"] = pd.factorize(stays["person_id"])[0]
    keys["link_source"] = index.link_source
    keys["listed"] = index.listed
    keys["in_ind"], keys["in_dtv"], keys["in_any"] = in_ind, in_dtv, in_ind | in_dtv
    keys["link_status"] = pd.Categorical(status, categories=list(LINK_STATUSES))
    return keys


def _per_pilot(keys: pd.DataFrame, flag: np.ndarray) -> pd.DataFrame:
    """Persons and stays per pilot, and how many of them have ``flag`` (a person: on any stay)."""
    pilot = pd.Categorical(keys["pilot"].astype(str), categories=list(PILOTS)).codes
    person = keys["person_code"].to_numpy()
    first = np.unique(person, return_index=True)[1]
    person_flag = np.zeros(person.max() + 1 if len(person) else 0, dtype=bool)
    np.logical_or.at(person_flag, person, flag)
    k = len(PILOTS)
    return pd.DataFrame({
        "pilot": list(PILOTS),
        "persons": np.bincount(pilot[first], minlength=k),
        "linked_persons": np.bincount(pilot[first], weights=person_flag[person[first]], minlength=k).astype(np.int64),
        "stays": np.bincount(pilot, minlength=k),
        "linked_stays": np.bincount(pilot, weights=flag, minlength=k).astype(np.int64),
    })


def linkage_rates(keys: pd.DataFrame, registers: tuple[str, ...] = ("IND", "DTV")) -> pd.DataFrame:
    """Per pilot and register (and 'any'): persons and stays, how many link, and the rates."""
    parts = [_per_pilot(keys, keys[REGISTER_COLUMNS[r]].to_numpy()).assign(register=r) for r in (*registers, "any")]
    out = pd.concat(parts, ignore_index=True)
    out = out[out["persons"] > 0].reset_index(drop=True)
    out["pilot"] = pd.Categorical(out["pilot"], categories=list(PILOTS))
    out["register"] = pd.Categorical(out["register"], categories=[*registers, "any"])
    out["person_rate"] = out["linked_persons"] / out["persons"]
    out["stay_rate"] = out["linked_stays"] / out["stays"]
    cols = ["pilot", "register", "persons", "linked_persons", "stays", "linked_stays", "person_rate", "stay_rate"]
    return out.loc[:, cols]


def unlinked_persons(keys: pd.DataFrame, registers: tuple[str, ...]) -> pd.DataFrame:
    """Why persons do not link, per pilot, register and reason (persons and stays)."""
    status = keys["link_status"].cat.codes.to_numpy()  # LINK_STATUSES order: linked, not_found, no_v_number
    base = np.select([(status == 2) & ~keys["listed"].to_numpy(), status == 2, status == 1], [0, 1, 2], -1)
    pilot = pd.Categorical(keys["pilot"].astype(str), categories=list(PILOTS)).codes
    person = keys["person_code"].to_numpy()
    parts = []
    for register in (*registers, "any"):
        reason = np.where(base >= 0, base, np.where(~keys[REGISTER_COLUMNS[register]].to_numpy(), 3, -1))
        hit = reason >= 0
        frame = pd.DataFrame({"pilot": pilot[hit], "reason": reason[hit], "person": person[hit]})
        stays = frame.groupby(["pilot", "reason"]).size()
        persons = frame.drop_duplicates().groupby(["pilot", "reason"]).size()
        parts.append(pd.DataFrame({"pilot": stays.index.get_level_values(0), "reason": stays.index.get_level_values(1),
                                   "persons": persons.reindex(stays.index).to_numpy(), "stays": stays.to_numpy(),
                                   "register": register}))
    out = pd.concat(parts, ignore_index=True)
    out["pilot"] = pd.Categorical.from_codes(out["pilot"].astype(np.int64), categories=list(PILOTS))
    out["reason"] = pd.Categorical.from_codes(out["reason"].astype(np.int64), categories=list(UNLINKED_REASONS))
    return out.loc[:, ["pilot", "register", "reason", "persons", "stays"]]


def chain_only_records(chain: ChainData, index: KeyIndex) -> pd.DataFrame:
    """Per register and ``v_key`` that no LVV person has: the number of records and the first one."""
    parts = []
    for register, table, codes in (("IND", chain.ind, index.ind), ("DTV", chain.dtv, index.dtv)):
        rows = np.flatnonzero(~index.in_lvv[codes])
        if len(rows) == 0:
            continue
        code = codes[rows]
        firsts = np.unique(code, return_index=True)[1]  # records are in file order: the first row of each key
        counts = np.bincount(code - code.min())[code[firsts] - code.min()]
        first_rows = table.iloc[rows[firsts]]
        parts.append(pd.DataFrame({
            "register": register, "v_key": first_rows["v_key"].to_numpy(), "records": counts,
            "source_file": first_rows["source_file"].to_numpy(), "sheet": first_rows["sheet"].to_numpy(),
            "source_row": first_rows["source_row"].to_numpy(),
        }))
    cols = ["register", "v_key", "records", "source_file", "sheet", "source_row"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
