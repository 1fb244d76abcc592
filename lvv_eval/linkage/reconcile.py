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
from lvv_eval.linkage.link import chain_only_records, linkage_rates, stay_keys, unlinked_persons
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


def chain_events(chain: ChainData, spec: ReconciliationSpec) -> pd.DataFrame:
    """Every chain record that is an outcome event: key, event id, register, date, implied reason."""
    parts = []
    for event_id, rule in spec.events.items():
        table = chain.ind if rule.register_name == "IND" else chain.dtv
        mask = pd.Series(True, index=table.index)
        for col, values in rule.where.items():
            mask &= table[col].isin(values).to_numpy()
        mask &= table[rule.date].notna()
        hit = table[mask.to_numpy()]
        parts.append(pd.DataFrame({
            "v_key": hit["v_key"].to_numpy(), "event": event_id, "register": rule.register_name,
            "date": hit[rule.date].to_numpy(), "implies": rule.implies,
            "chain_file": hit["source_file"].to_numpy(), "chain_sheet": hit["sheet"].to_numpy(),
            "chain_row": hit["source_row"].to_numpy(),
        }))
    cols = ["v_key", "event", "register", "date", "implies", "chain_file", "chain_sheet", "chain_row"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def next_admission(stays: pd.DataFrame) -> pd.Series:
    """Each stay's person's next admission date (missing for the last stay)."""
    order = stays.sort_values(["person_id", "admission_date"], kind="stable")
    nxt = order.groupby("person_id", sort=False)["admission_date"].shift(-1)
    return nxt.reindex(stays.index)


# ---- agreement per stay ------------------------------------------------------------------------


def _candidate_events(exits: pd.DataFrame, events: pd.DataFrame, spec: ReconciliationSpec) -> pd.DataFrame:
    """Stay x event pairs inside each stay's window, with their kind (confirm, contra, timing)."""
    w = spec.windows
    left = exits.loc[exits["v_key"].notna(), ["stay_id", "v_key", "admission_date", "exit_date", "next_admission",
                                               "exit_reason"]]
    pairs = left.merge(events, on="v_key", how="inner")
    upper = (pairs["exit_date"] + pd.Timedelta(days=w.search_after_exit_days)).where(
        pairs["next_admission"].isna(),
        np.minimum(pairs["exit_date"] + pd.Timedelta(days=w.search_after_exit_days),
                   pairs["next_admission"] - pd.Timedelta(days=1)))
    pairs = pairs[(pairs["date"] >= pairs["admission_date"]) & (pairs["date"] <= upper)]
    offset = (pairs["date"] - pairs["exit_date"]).dt.days.to_numpy()
    reason = pairs["exit_reason"].astype("str").to_numpy()
    lo = -pd.Series(reason).map({r: t.before for r, t in spec.checks.items()}).to_numpy(dtype=float)
    hi = pd.Series(reason).map({r: t.after for r, t in spec.checks.items()}).to_numpy(dtype=float)
    match = pairs["implies"].to_numpy(dtype=object) == reason
    in_tol = match & (offset >= lo) & (offset <= hi)
    contra = ~match & (offset >= -w.contradiction.before) & (offset <= w.contradiction.after)
    kind = np.select([in_tol, contra, match], [KIND_CONFIRM, KIND_CONTRA, KIND_TIMING], -1)
    return pairs.assign(kind=kind, offset_days=offset, distance=np.abs(offset))[kind >= 0]


def _best_event(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per stay the deciding event: the best kind, then the nearest to the exit, then the earliest."""
    ordered = pairs.sort_values(["stay_id", "kind", "distance", "date", "event"], kind="stable")
    return ordered.drop_duplicates("stay_id").set_index("stay_id")


def agreement(stays: pd.DataFrame, keys: pd.DataFrame, events: pd.DataFrame, spec: ReconciliationSpec) -> pd.DataFrame:
    """Per stay with an exit: its agreement class with the chain, the rule, and the deciding event."""
    exits = stays.assign(next_admission=next_admission(stays), v_key=keys["v_key"],
                         link_status=keys["link_status"])[stays["exit_date"].notna()]
    best = _best_event(_candidate_events(exits, events, spec)).reindex(exits["stay_id"])
    kind = best["kind"].to_numpy(dtype=float)
    checkable = exits["exit_reason"].isin(list(spec.checks)).to_numpy()
    status = exits["link_status"].astype("str").to_numpy()
    klass = np.select(
        [~checkable, status != "linked", kind == KIND_CONFIRM, kind == KIND_CONTRA, kind == KIND_TIMING],
        ["not_checkable", "unlinked", "confirmed", "contradicted", "timing_difference"], "not_in_chain")
    rule = np.array([CLASS_RULE.get(k, "") for k in klass], dtype=object)
    unlinked = klass == "unlinked"
    rule[unlinked] = [STATUS_RULE[s] for s in status[unlinked]]
    usable = (klass != "unlinked") & ~np.isnan(kind)
    chain_reason = np.where(usable, best["implies"].to_numpy(dtype=object), None)
    show = usable  # unlinked stays show no event
    return pd.DataFrame({
        "stay_id": exits["stay_id"].to_numpy(), "person_id": exits["person_id"].to_numpy(),
        "pilot": exits["pilot"].to_numpy(), "admission_date": exits["admission_date"].to_numpy(),
        "exit_date": exits["exit_date"].to_numpy(), "exit_reason": exits["exit_reason"].to_numpy(),
        "v_key": exits["v_key"].to_numpy(), "link_status": exits["link_status"].to_numpy(),
        "agreement": pd.Categorical(klass, dtype=CLASS_DTYPE), "rule_id": rule,
        "chain_exit_reason": pd.Categorical(chain_reason, dtype=EXIT_DTYPE),
        "chain_event": np.where(show, best["event"].to_numpy(dtype=object), None),
        "chain_register": np.where(show, best["register"].to_numpy(dtype=object), None),
        "chain_event_date": pd.Series(best["date"].to_numpy()).where(show).to_numpy(),
        "offset_days": pd.array(np.where(show, best["offset_days"].to_numpy(dtype=float), np.nan), dtype="Int64"),
        "municipal_file": exits["source_file"].to_numpy(), "municipal_row": exits["source_row"].to_numpy(),
        "chain_file": np.where(show, best["chain_file"].to_numpy(dtype=object), None),
        "chain_sheet": np.where(show, best["chain_sheet"].to_numpy(dtype=object), None),
        "chain_row": pd.array(np.where(show, best["chain_row"].to_numpy(dtype=float), np.nan), dtype="Int64"),
    })


# ---- prior departure procedures -------------------------------------------------------------


def prior_procedures(stays: pd.DataFrame, keys: pd.DataFrame, chain: ChainData, spec: ReconciliationSpec) -> pd.DataFrame:
    """Per stay: the municipal count of prior departure procedures beside DT&V's (the person's
    cases closed before the admission date; missing when the person does not link)."""
    closed = chain.dtv.loc[chain.dtv["case_end_date"].notna(), ["v_key", "case_end_date"]]
    left = pd.DataFrame({"row": np.arange(len(stays)), "v_key": keys["v_key"].to_numpy(),
                         "admission_date": stays["admission_date"].to_numpy()})
    pairs = left.dropna(subset=["v_key"]).merge(closed, on="v_key")
    counts = pairs[pairs["case_end_date"] < pairs["admission_date"]].groupby("row").size()
    n = counts.reindex(np.arange(len(stays)), fill_value=0).to_numpy()
    linked = (keys["link_status"] == "linked").to_numpy() & ("DTV" in chain.registers)
    dtv = pd.array(np.where(linked, n, np.nan), dtype="Float64").astype("Int64")
    municipal = stays["n_prior_departure_procedures"].astype("Int64").to_numpy()
    diff = pd.array(dtv, dtype="Int64") - pd.array(municipal, dtype="Int64")
    return pd.DataFrame({
        "stay_id": stays["stay_id"].to_numpy(), "person_id": stays["person_id"].to_numpy(),
        "pilot": stays["pilot"].to_numpy(), "v_key": keys["v_key"].to_numpy(),
        "admission_date": stays["admission_date"].to_numpy(),
        "n_prior_municipal": pd.array(municipal, dtype="Int64"), "n_prior_dtv": dtv, "difference": diff,
        "differs": (abs(diff) > spec.prior_procedures.tolerance).fillna(False).to_numpy(dtype=bool),
        "municipal_file": stays["source_file"].to_numpy(), "municipal_row": stays["source_row"].to_numpy(),
    })


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
    keys = stay_keys(stays, chain)
    events = chain_events(chain, spec)
    return ChainReconciliation(
        keys=keys, linkage=linkage_rates(keys, chain.registers), unlinked=unlinked_persons(keys, chain),
        chain_only=chain_only_records(keys, chain), agreement=agreement(stays, keys, events, spec),
        prior=prior_procedures(stays, keys, chain, spec), spec=spec, registers=chain.registers,
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


def _labels(rec: ChainReconciliation, rules: pd.Series) -> tuple[list[str], list[str]]:
    return ([rec.spec.label(r, "en") for r in rules], [rec.spec.label(r, "nl") for r in rules])


def _stay_rows(rec: ChainReconciliation) -> pd.DataFrame:
    a = rec.agreement[rec.agreement["agreement"].isin(["contradicted", "timing_difference", "not_in_chain"])]
    event_label = a["chain_event"].map({k: v.label_en for k, v in rec.spec.events.items()})
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
