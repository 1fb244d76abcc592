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
import pyarrow as pa
import pyarrow.compute as pc

from lvv_eval.config import PILOTS
from lvv_eval.linkage.data import ChainData

LINK_STATUSES: tuple[str, ...] = ("linked", "not_found", "no_v_number")
REGISTER_COLUMNS = {"IND": "in_ind", "DTV": "in_dtv", "any": "in_any"}
UNLINKED_REASONS: tuple[str, ...] = (
    "no_crosswalk_row", "crosswalk_without_v_number", "v_number_in_no_register", "no_record_in_register",
)


def encode_strings(*columns: pd.Series) -> tuple[list[np.ndarray], pa.Array]:
    """Integer codes of several string columns over one shared dictionary (missing: -1), by
    Arrow's dictionary encoding (no per-string Python work)."""
    arrays = [_arrow(c).cast(pa.large_string()) for c in columns]
    encoded = pa.concat_arrays(arrays).dictionary_encode() if arrays else pa.array([], pa.large_string())
    codes = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64)
    bounds = np.cumsum([0, *(len(a) for a in arrays)])
    return [codes[bounds[i]:bounds[i + 1]] for i in range(len(arrays))], encoded.dictionary


def _arrow(column: pd.Series) -> pa.Array:
    """A column as one Arrow array (zero-copy for Arrow-backed strings)."""
    arr = pa.array(column, from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def take_strings(dictionary: pa.Array, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """The strings of ``codes`` in ``dictionary`` as a pandas string array (missing for -1)."""
    missing = codes < 0
    picked = dictionary.take(pa.array(np.where(missing, 0, codes), mask=missing)) if len(dictionary) else \
        pa.nulls(len(codes), pa.large_string())
    return pd.array(picked, dtype="str")


@dataclass(frozen=True)
class KeyIndex:
    """``v_key`` as integer codes shared by the stays and both registers (-1: no key)."""

    uniques: pa.Array        # the v_key of each code
    stay: np.ndarray         # code of each stay's person
    ind: np.ndarray          # code of each IND record
    dtv: np.ndarray          # code of each DT&V record
    in_ind: np.ndarray       # per code (+1 slot for -1): has an IND record
    in_dtv: np.ndarray       # per code: has a DT&V record
    in_lvv: np.ndarray       # per code: belongs to a person with a stay
    listed: np.ndarray       # per stay: the person is in person_links (with or without a key)
    link_source: np.ndarray  # per stay: delivery | crosswalk | None
    person: np.ndarray       # per stay: a code of its person_id

    def v_keys(self, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
        """The v_key of each code (missing for -1)."""
        return take_strings(self.uniques, codes)


def _present(codes: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n + 1, dtype=bool)  # the extra last slot is where code -1 points: never present
    out[codes[codes >= 0]] = True
    return out


def key_index(stays: pd.DataFrame, chain: ChainData) -> KeyIndex:
    """Codes of the stays' person keys and of the registers' keys (see :class:`KeyIndex`)."""
    (person, link_person), _ = encode_strings(stays["person_id"], chain.links["person_id"])
    link_row = np.full(int(max(person.max(initial=-1), link_person.max(initial=-1))) + 2, -1, dtype=np.int64)
    link_row[link_person] = np.arange(len(link_person))
    pos = link_row[person]
    found = pos >= 0
    (link_v, ind, dtv), uniques = encode_strings(chain.links["v_key"], chain.ind["v_key"], chain.dtv["v_key"])
    stay = np.where(found, link_v[np.maximum(pos, 0)] if len(link_v) else -1, -1)
    sources = np.array(chain.links["link_source"].cat.categories, dtype=object)
    source_code = chain.links["link_source"].cat.codes.to_numpy()
    source = np.full(len(stays), None, dtype=object)
    source[found] = sources[source_code[pos[found]]] if len(sources) else None
    n = len(uniques)
    return KeyIndex(uniques, stay, ind, dtv, _present(ind, n), _present(dtv, n), _present(stay, n), found, source,
                    person)


def stay_keys(stays: pd.DataFrame, index: KeyIndex) -> pd.DataFrame:
    """Per stay: its person's ``v_key`` (and code), where the key came from, where it is found."""
    code = index.stay
    in_ind, in_dtv = index.in_ind[code], index.in_dtv[code]
    status = np.where(code < 0, 2, np.where(in_ind | in_dtv, 0, 1))  # LINK_STATUSES order
    keys = stays[["stay_id", "person_id", "pilot"]].copy()
    keys["v_key"] = index.v_keys(code)
    keys["v_code"] = code
    keys["person_code"] = index.person
    keys["link_source"] = index.link_source
    keys["listed"] = index.listed
    keys["in_ind"], keys["in_dtv"], keys["in_any"] = in_ind, in_dtv, in_ind | in_dtv
    keys["link_status"] = pd.Categorical.from_codes(status, categories=list(LINK_STATUSES))
    return keys


def pilot_codes(pilot: pd.Series) -> np.ndarray:
    """Positions of the pilots in config.PILOTS."""
    if isinstance(pilot.dtype, pd.CategoricalDtype):
        return pilot.cat.set_categories(list(PILOTS)).cat.codes.to_numpy().astype(np.int64)
    return pd.Categorical(pilot.astype(str), categories=list(PILOTS)).codes.astype(np.int64)


def _per_pilot(keys: pd.DataFrame, flag: np.ndarray) -> pd.DataFrame:
    """Persons and stays per pilot, and how many of them have ``flag`` (a person: on any stay)."""
    pilot = pilot_codes(keys["pilot"])
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
    pilot = pilot_codes(keys["pilot"])
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
