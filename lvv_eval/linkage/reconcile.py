"""Reconcile stays with the chain: agreement per stay, the agreement matrix, DT&V's count of prior
departure procedures, and the discrepancy list for data managers.

The rules are data (``specs/chain_reconciliation.yaml``, :mod:`lvv_eval.linkage.spec`). For a stay
with an exit, the chain's outcome events of the person count from the admission date up to the
earlier of ``search_after_exit_days`` after the exit and the day before the person's next
admission. Classes, in order of precedence: ``confirmed`` (an event implying the municipal exit
reason within its tolerance), ``contradicted`` (an event implying another outcome within the
contradiction window), ``timing_difference`` (a matching event outside the tolerance),
``not_in_chain``; ``unlinked`` when the person cannot be looked up, ``not_checkable`` when the
chain registers no counterpart of the exit reason. Among several events the nearest to the exit
decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.config import PILOTS
from lvv_eval.linkage.data import ChainData
from lvv_eval.linkage.link import (
    KeyIndex,
    chain_only_records,
    key_index,
    linkage_rates,
    stay_keys,
    unlinked_persons,
)
from lvv_eval.linkage.spec import AGREEMENT_CLASSES, ReconciliationSpec, load_reconciliation_spec
from lvv_eval.schema import EXIT_REASONS

EXIT_DTYPE = pd.CategoricalDtype(list(EXIT_REASONS))
CLASS_DTYPE = pd.CategoricalDtype(list(AGREEMENT_CLASSES))
KIND_CONFIRM, KIND_CONTRA, KIND_TIMING = 0, 1, 2
CLASS_RULE = {"contradicted": "C_CONTRADICTED", "timing_difference": "C_TIMING", "not_in_chain": "C_NOT_IN_CHAIN"}
STATUS_RULE = {"no_v_number": "C_NO_V_NUMBER", "not_found": "C_PERSON_NOT_FOUND"}
DISCREPANCY_COLUMNS = (
    "level", "rule_id", "rule_en", "rule_nl", "pilot", "stay_id", "person_id", "v_key", "register",
    "municipal_fact", "chain_fact", "municipal_file", "municipal_row", "chain_file", "chain_sheet", "chain_row",
)


# ---- outcome events ---------------------------------------------------------------------------

REGISTERS = ("IND", "DTV")


def chain_events(chain: ChainData, spec: ReconciliationSpec, index: KeyIndex) -> pd.DataFrame:
    """Every chain record that is an outcome event, as integers: key code, event (position in the
    spec), register (0 IND, 1 DT&V), record (row of its register table), implied exit reason
    (position in EXIT_REASONS), and its date."""
    parts = []
    for number, rule in enumerate(spec.events.values()):
        register = REGISTERS.index(rule.register_name)
        table, codes = (chain.ind, index.ind) if register == 0 else (chain.dtv, index.dtv)
        mask = table[rule.date].notna().to_numpy().copy()
        for col, values in rule.where.items():
            mask &= table[col].isin(values).to_numpy()
        rows = np.flatnonzero(mask)
        parts.append(pd.DataFrame({
            "v_code": codes[rows], "event": number, "register": register, "record": rows,
            "implies": EXIT_REASONS.index(rule.implies), "date": table[rule.date].to_numpy()[rows],
        }))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {c: pd.Series(dtype="int64") for c in ("v_code", "event", "register", "record", "implies")} | {
            "date": pd.Series(dtype="datetime64[ns]")})


def next_admission(admission: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Each stay's person's next admission date (NaT for the person's last stay), given the
    admission dates and a code per person."""
    order = np.lexsort((admission, person))
    nxt = np.full(len(admission), np.datetime64("NaT"), dtype=admission.dtype)
    same = person[order][1:] == person[order][:-1]
    nxt[order[:-1][same]] = admission[order][1:][same]
    return nxt


def _reason_codes(values: pd.Series) -> np.ndarray:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.set_categories(list(EXIT_REASONS)).cat.codes.to_numpy().astype(np.int64)
    return pd.Categorical(values.astype("object"), categories=list(EXIT_REASONS)).codes.astype(np.int64)


def _tolerances(spec: ReconciliationSpec) -> tuple[np.ndarray, np.ndarray]:
    """Per exit reason code: the days before and after the exit a matching event may lie (NaN: no check)."""
    lo = np.full(len(EXIT_REASONS), np.nan)
    hi = np.full(len(EXIT_REASONS), np.nan)
    for reason, tol in spec.checks.items():
        lo[EXIT_REASONS.index(reason)] = -tol.before
        hi[EXIT_REASONS.index(reason)] = tol.after
    return lo, hi


def _candidate_events(exits: pd.DataFrame, events: pd.DataFrame, spec: ReconciliationSpec) -> pd.DataFrame:
    """Stay x event pairs inside each stay's window, with their kind (confirm, contra, timing)."""
    w = spec.windows
    day = np.timedelta64(1, "D")
    left = exits[exits["v_code"] >= 0]
    pairs = left.merge(events, on="v_code", how="inner")
    date, exit_date = pairs["date"].to_numpy(), pairs["exit_date"].to_numpy()
    upper = exit_date + w.search_after_exit_days * day
    nxt = pairs["next_admission"].to_numpy()
    upper = np.where(np.isnat(nxt), upper, np.minimum(upper, nxt - day))
    inside = (date >= pairs["admission_date"].to_numpy()) & (date <= upper)
    pairs = pairs[inside]
    offset = ((pairs["date"].to_numpy() - pairs["exit_date"].to_numpy()) // day).astype(np.int64)
    reason = pairs["reason"].to_numpy()
    lo, hi = _tolerances(spec)
    match = pairs["implies"].to_numpy() == reason
    in_tol = match & (offset >= lo[reason]) & (offset <= hi[reason])
    contra = ~match & (offset >= -w.contradiction.before) & (offset <= w.contradiction.after)
    kind = np.select([in_tol, contra, match], [KIND_CONFIRM, KIND_CONTRA, KIND_TIMING], -1)
    return pairs.assign(kind=kind, offset_days=offset, distance=np.abs(offset))[kind >= 0]


def _best_event(pairs: pd.DataFrame, n_exits: int) -> pd.DataFrame:
    """Per exit (by position) the deciding event: the best kind, then the nearest to the exit, then
    the earliest; a row of NaN where there is none."""
    order = np.lexsort((pairs["event"].to_numpy(), pairs["date"].to_numpy(), pairs["distance"].to_numpy(),
                        pairs["kind"].to_numpy(), pairs["exit_pos"].to_numpy()))
    ordered = pairs.iloc[order]
    firsts = np.unique(ordered["exit_pos"].to_numpy(), return_index=True)[1]
    best = ordered.iloc[firsts].set_index("exit_pos")
    return best.reindex(np.arange(n_exits))


def _provenance(chain: ChainData, register: np.ndarray, record: np.ndarray) -> dict[str, np.ndarray]:
    """File, sheet and row of chain records given by register (0/1, NaN none) and row position."""
    out = {"chain_file": np.full(len(register), None, dtype=object),
           "chain_sheet": np.full(len(register), None, dtype=object),
           "chain_row": np.full(len(register), np.nan)}
    for number, table in enumerate((chain.ind, chain.dtv)):
        hit = register == number
        rows = table.iloc[record[hit].astype(np.int64)]
        out["chain_file"][hit] = rows["source_file"].to_numpy(dtype=object)
        out["chain_sheet"][hit] = rows["sheet"].to_numpy(dtype=object)
        out["chain_row"][hit] = rows["source_row"].to_numpy(dtype=float)
    return out


# ---- agreement per stay ------------------------------------------------------------------------


def _classify(checkable: np.ndarray, status: np.ndarray, kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Agreement class and rule id per exit (see the module docstring for the precedence)."""
    klass = np.select(
        [~checkable, status != "linked", kind == KIND_CONFIRM, kind == KIND_CONTRA, kind == KIND_TIMING],
        ["not_checkable", "unlinked", "confirmed", "contradicted", "timing_difference"], "not_in_chain")
    rule = np.array([CLASS_RULE.get(k, "") for k in klass], dtype=object)
    unlinked = klass == "unlinked"
    rule[unlinked] = [STATUS_RULE[s] for s in status[unlinked]]
    return klass, rule


def agreement(stays: pd.DataFrame, keys: pd.DataFrame, events: pd.DataFrame, chain: ChainData,
              spec: ReconciliationSpec) -> pd.DataFrame:
    """Per stay with an exit: its agreement class with the chain, the rule, and the deciding event."""
    has_exit = stays["exit_date"].notna().to_numpy()
    exits = pd.DataFrame({
        "exit_pos": np.arange(int(has_exit.sum())), "v_code": keys["v_code"].to_numpy()[has_exit],
        "admission_date": stays["admission_date"].to_numpy()[has_exit],
        "exit_date": stays["exit_date"].to_numpy()[has_exit],
        "next_admission": next_admission(stays["admission_date"].to_numpy(), keys["person_code"].to_numpy())[has_exit],
        "reason": _reason_codes(stays["exit_reason"])[has_exit],
    })
    best = _best_event(_candidate_events(exits, events, spec), len(exits))
    kind = best["kind"].to_numpy(dtype=float)
    checkable = ~np.isnan(_tolerances(spec)[0][exits["reason"].to_numpy()])
    status = keys["link_status"].astype(str).to_numpy()[has_exit]
    klass, rule = _classify(checkable, status, kind)
    show = (klass != "unlinked") & ~np.isnan(kind)
    implies = best["implies"].to_numpy(dtype=float)
    chain_reason = pd.Categorical.from_codes(np.where(show, implies, -1).astype(np.int64), dtype=EXIT_DTYPE)
    event_names = np.array(list(spec.events), dtype=object)
    event = np.full(len(exits), None, dtype=object)
    event[show] = event_names[best["event"].to_numpy(dtype=float)[show].astype(np.int64)]
    register = np.where(show, best["register"].to_numpy(dtype=float), np.nan)
    prov = _provenance(chain, register, best["record"].to_numpy(dtype=float))
    out = stays.loc[has_exit, ["stay_id", "person_id", "pilot", "admission_date", "exit_date", "exit_reason"]]
    out = out.reset_index(drop=True)
    out["v_key"] = keys["v_key"].array[has_exit]
    out["link_status"] = keys["link_status"].array[has_exit]
    out["agreement"] = pd.Categorical(klass, dtype=CLASS_DTYPE)
    out["rule_id"] = rule
    out["chain_exit_reason"] = chain_reason
    out["chain_event"] = event
    out["chain_register"] = np.where(register == 0, "IND", np.where(register == 1, "DTV", None))
    out["chain_event_date"] = np.where(show, best["date"].to_numpy(), np.datetime64("NaT"))
    out["offset_days"] = pd.array(np.where(show, best["offset_days"].to_numpy(dtype=float), np.nan), dtype="Int64")
    out["municipal_file"] = stays["source_file"].array[has_exit]
    out["municipal_row"] = stays["source_row"].array[has_exit]
    out["chain_file"], out["chain_sheet"] = prov["chain_file"], prov["chain_sheet"]
    out["chain_row"] = pd.array(prov["chain_row"], dtype="Int64")
    return out


# ---- prior departure procedures -------------------------------------------------------------


def prior_procedures(stays: pd.DataFrame, keys: pd.DataFrame, chain: ChainData, index: KeyIndex,
                     spec: ReconciliationSpec) -> pd.DataFrame:
    """Per stay: the municipal count of prior departure procedures beside DT&V's (the person's
    cases closed before the admission date; missing when the person does not link)."""
    day = np.timedelta64(1, "D")
    closed = chain.dtv["case_end_date"].notna().to_numpy()
    span = 1 << 20  # a key's cases are code * span + days since 1970 (any date within 1,400 years)
    epoch = np.datetime64("1970-01-01")
    case_key = np.sort(index.dtv[closed] * span + (chain.dtv["case_end_date"].to_numpy()[closed] - epoch) // day)
    code = keys["v_code"].to_numpy()
    start = np.searchsorted(case_key, code * span - span // 2)
    admitted = code * span + (stays["admission_date"].to_numpy() - epoch) // day
    n = np.searchsorted(case_key, admitted, side="left") - start  # cases of the key closed before admission
    linked = (keys["link_status"] == "linked").to_numpy() & ("DTV" in chain.registers)
    dtv = pd.array(np.where(linked, n, np.nan), dtype="Float64").astype("Int64")
    municipal = pd.array(stays["n_prior_departure_procedures"].to_numpy(), dtype="Int64")
    diff = dtv - municipal
    out = stays[["stay_id", "person_id", "pilot", "admission_date"]].reset_index(drop=True)
    out.insert(3, "v_key", keys["v_key"].array)
    out["n_prior_municipal"], out["n_prior_dtv"], out["difference"] = municipal, dtv, diff
    out["differs"] = (abs(diff) > spec.prior_procedures.tolerance).fillna(False).to_numpy(dtype=bool)
    out["municipal_file"] = stays["source_file"].array
    out["municipal_row"] = stays["source_row"].array
    return out


# ---- the result ---------------------------------------------------------------------------------


@dataclass
class ChainReconciliation:
    """Everything :func:`reconcile_chain` found (pseudonymised ids only)."""

    keys: pd.DataFrame           # per stay: v_key, where it came from, in which registers
    linkage: pd.DataFrame        # per pilot x register: persons/stays linked and the rates
    unlinked: pd.DataFrame       # per pilot x register x reason: unlinked persons and stays
    chain_only: pd.DataFrame     # per register x v_key: records no LVV person links to
    agreement: pd.DataFrame      # per stay with an exit: agreement class and deciding event
    prior: pd.DataFrame          # per stay: municipal and DT&V counts of prior procedures
    spec: ReconciliationSpec
    registers: tuple[str, ...]

    def matrix(self, outcome: pd.Series | None = None, outcome_name: str = "exit_reason") -> pd.DataFrame:
        """Agreement classes (columns) per pilot and outcome class (rows), zeros kept, with totals
        over all pilots. ``outcome`` (aligned with :attr:`agreement`) groups exit reasons, e.g.
        ``classify_exits(defs, rec.agreement['exit_reason'], 'kb2020_letter')``."""
        return agreement_matrix(self.agreement, outcome, outcome_name)

    @property
    def discrepancies(self) -> pd.DataFrame:
        """The discrepancy list for data managers (see :func:`discrepancy_list`)."""
        return discrepancy_list(self)

    def summary(self) -> dict[str, Any]:
        """Headline numbers: stays with an exit per agreement class, linked persons, flags."""
        return {
            "stays_with_exit": len(self.agreement),
            "agreement": self.agreement["agreement"].value_counts().reindex(list(AGREEMENT_CLASSES)).astype(int).to_dict(),
            "persons": int(self.keys["person_id"].nunique()),
            "persons_linked": int(self.keys.loc[self.keys["in_any"], "person_id"].nunique()),
            "prior_procedures_differ": int(self.prior["differs"].sum()),
            "chain_only_keys": int(self.chain_only["v_key"].nunique()) if len(self.chain_only) else 0,
        }


def reconcile_chain(stays: pd.DataFrame, chain: ChainData, spec: ReconciliationSpec | None = None) -> ChainReconciliation:
    """Link ``stays`` to the chain registers and reconcile every outcome (see the module docstring)."""
    spec = spec or load_reconciliation_spec()
    stays = stays.reset_index(drop=True)
    index = key_index(stays, chain)
    keys = stay_keys(stays, index)
    events = chain_events(chain, spec, index)
    return ChainReconciliation(
        keys=keys, linkage=linkage_rates(keys, chain.registers), unlinked=unlinked_persons(keys, chain.registers),
        chain_only=chain_only_records(chain, index), agreement=agreement(stays, keys, events, chain, spec),
        prior=prior_procedures(stays, keys, chain, index, spec), spec=spec, registers=chain.registers,
    )


def agreement_matrix(table: pd.DataFrame, outcome: pd.Series | None = None,
                     outcome_name: str = "exit_reason") -> pd.DataFrame:
    """Counts of stays per pilot x outcome class x agreement class, all categories kept, plus an
    'all pilots' block."""
    grouping = table["exit_reason"] if outcome is None else pd.Series(outcome, index=table.index)
    frame = pd.DataFrame({"pilot": pd.Categorical(table["pilot"].astype(str), categories=[*PILOTS, "all pilots"]),
                          outcome_name: grouping.astype("category") if grouping.dtype != "category" else grouping,
                          "agreement": table["agreement"]})
    both = pd.concat([frame, frame.assign(pilot=pd.Categorical(["all pilots"] * len(frame),
                                                                 categories=frame["pilot"].cat.categories))])
    counts = both.groupby(["pilot", outcome_name, "agreement"], observed=False).size()
    wide = counts.unstack("agreement").reindex(columns=list(AGREEMENT_CLASSES), fill_value=0)
    wide["total"] = wide.sum(axis=1)
    return wide.astype("int64")


# ---- the discrepancy list ----------------------------------------------------------------------


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d").fillna("")


def _labels(rec: ChainReconciliation, rules: pd.Series) -> tuple[pd.Series, pd.Series]:
    names = pd.unique(rules)
    return tuple(rules.map({r: rec.spec.label(r, lang) for r in names}) for lang in ("en", "nl"))  # type: ignore[return-value]


def _stay_rows(rec: ChainReconciliation) -> pd.DataFrame:
    a = rec.agreement[rec.agreement["agreement"].isin(["contradicted", "timing_difference", "not_in_chain"])]
    event_label = a["chain_event"].astype("object").map({k: v.label_en for k, v in rec.spec.events.items()})
    chain_fact = np.where(a["chain_event"].notna(),
                          event_label.fillna("").astype(str) + " on " + _dates(a["chain_event_date"]),
                          f"no outcome event between the admission and {rec.spec.windows.search_after_exit_days} "
                          "days after the exit")
    return pd.DataFrame({
        "level": "stay", "rule_id": a["rule_id"].to_numpy(), "pilot": a["pilot"].to_numpy(),
        "stay_id": a["stay_id"].to_numpy(), "person_id": a["person_id"].to_numpy(), "v_key": a["v_key"].to_numpy(),
        "register": a["chain_register"].to_numpy(),
        "municipal_fact": (a["exit_reason"].astype(str) + " on " + _dates(a["exit_date"])).to_numpy(),
        "chain_fact": chain_fact, "municipal_file": a["municipal_file"].to_numpy(),
        "municipal_row": a["municipal_row"].to_numpy(), "chain_file": a["chain_file"].to_numpy(),
        "chain_sheet": a["chain_sheet"].to_numpy(), "chain_row": a["chain_row"].to_numpy(),
    })


def _prior_rows(rec: ChainReconciliation) -> pd.DataFrame:
    p = rec.prior[rec.prior["differs"]]
    return pd.DataFrame({
        "level": "stay", "rule_id": "C_PRIOR_PROCEDURES_DIFFER", "pilot": p["pilot"].to_numpy(),
        "stay_id": p["stay_id"].to_numpy(), "person_id": p["person_id"].to_numpy(), "v_key": p["v_key"].to_numpy(),
        "register": "DTV",
        "municipal_fact": (p["n_prior_municipal"].astype(str) + " prior departure procedures").to_numpy(),
        "chain_fact": (p["n_prior_dtv"].astype(str) + " DT&V cases closed before the admission").to_numpy(),
        "municipal_file": p["municipal_file"].to_numpy(), "municipal_row": p["municipal_row"].to_numpy(),
    })


def _person_rows(rec: ChainReconciliation, stays_rows: pd.DataFrame) -> pd.DataFrame:
    k = rec.keys[rec.keys["link_status"] != "linked"].drop_duplicates("person_id")
    status = k["link_status"].astype(str)
    return pd.DataFrame({
        "level": "person", "rule_id": status.map(STATUS_RULE).to_numpy(), "pilot": k["pilot"].to_numpy(),
        "stay_id": "", "person_id": k["person_id"].to_numpy(), "v_key": k["v_key"].to_numpy(),
        "municipal_fact": np.where(status == "no_v_number", "no V-number for this person",
                                   "V-number given (" + k["link_source"].astype(str) + ")"),
        "chain_fact": np.where(status == "no_v_number", "", "no record with this V-number in any register"),
        "municipal_file": stays_rows.loc[k.index, "source_file"].to_numpy(),
        "municipal_row": stays_rows.loc[k.index, "source_row"].to_numpy(),
    })


def _chain_only_rows(rec: ChainReconciliation) -> pd.DataFrame:
    c = rec.chain_only
    return pd.DataFrame({
        "level": "chain_person", "rule_id": "C_CHAIN_ONLY", "pilot": "", "stay_id": "", "person_id": "",
        "v_key": c["v_key"].to_numpy(), "register": c["register"].to_numpy(), "municipal_fact": "",
        "chain_fact": (c["records"].astype(str) + " record(s) in " + c["register"].astype(str)).to_numpy(),
        "chain_file": c["source_file"].to_numpy(), "chain_sheet": c["sheet"].to_numpy(),
        "chain_row": c["source_row"].to_numpy(),
    })


def discrepancy_list(rec: ChainReconciliation, stays_rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every flagged item, one row each, for data managers: stays whose outcome the chain does not
    confirm, stays whose prior procedures differ, persons that do not link, and chain records of
    persons no LVV registered. Names each item by pseudonym and by the file and row to look it up
    in (municipal delivery, chain extract); no V-number. Not for publication as is: it is
    microdata; tables made from it pass the disclosure gate."""
    provenance = stays_rows if stays_rows is not None else rec.prior.rename(
        columns={"municipal_file": "source_file", "municipal_row": "source_row"})
    parts = [_stay_rows(rec), _prior_rows(rec), _person_rows(rec, provenance), _chain_only_rows(rec)]
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else \
        pd.DataFrame(columns=list(DISCREPANCY_COLUMNS))
    out["rule_en"], out["rule_nl"] = _labels(rec, out["rule_id"])
    for col in ("municipal_row", "chain_row"):
        out[col] = pd.array(pd.to_numeric(out[col], errors="coerce"), dtype="Int64")
    return out.loc[:, list(DISCREPANCY_COLUMNS)]
