"""The reconciliation rules on small hand-made cases, each written down from the rules in
specs/chain_reconciliation.yaml (not from the generator): tolerance edges, precedence, the window
between admission and the next admission, linkage statuses, prior procedures, chain choices."""

from __future__ import annotations

import pandas as pd
import pytest

from lvv_eval.chain_schema import coerce_table
from lvv_eval.linkage.data import ChainData
from lvv_eval.linkage.outcomes import apply_chain_choices
from lvv_eval.linkage.reconcile import reconcile_chain
from lvv_eval.linkage.spec import load_reconciliation_spec
from lvv_eval.measures.chain_choices import ChainVerification
from tests.helpers.stays import make_stays

EXTRACT = pd.Timestamp("2022-09-30")


def _stay(sid: str, person: str, adm: str, exit_: str | None, reason: str | None, n_prior: int = 2, pilot: str = "Amsterdam") -> dict:
    return {"stay_id": sid, "person_id": person, "pilot": pilot, "admission_date": adm, "exit_date": exit_,
            "exit_reason": reason, "n_prior_departure_procedures": n_prior}


def _ind(v: str, procedure: str, applied: str, decision: str | None = None, decided: str | None = None, row: int = 2) -> dict:
    return {"v_key": v, "procedure": procedure, "application_date": applied, "decision": decision,
            "decision_date": decided, "extract_date": EXTRACT, "source_file": "ind.xlsx", "sheet": "P", "source_row": row}


def _dtv(v: str, start: str, end: str | None = None, closure: str | None = None, mode: str | None = None,
         dest: str | None = None, row: int = 2) -> dict:
    return {"v_key": v, "case_start_date": start, "case_end_date": end, "closure": closure, "departure_mode": mode,
            "destination": dest, "extract_date": EXTRACT, "source_file": "dtv.csv", "sheet": "", "source_row": row}


def _numbered(rows: list[dict]) -> list[dict]:
    return [{**r, "source_row": i + 2} for i, r in enumerate(rows)]


def chain_of(ind: list[dict], dtv: list[dict], links: dict[str, str | None]) -> ChainData:
    link_rows = [{"person_id": p, "pilot": "Amsterdam", "v_key": v, "link_source": "delivery",
                  "source_file": "a.xlsx", "sheet": "s", "source_row": i + 2} for i, (p, v) in enumerate(links.items())]
    return ChainData(coerce_table(pd.DataFrame(_numbered(ind), columns=list(_ind("", "art64", "2020-01-01"))), "chain_ind"),
                     coerce_table(pd.DataFrame(_numbered(dtv), columns=list(_dtv("", "2020-01-01"))), "chain_dtv"),
                     coerce_table(pd.DataFrame(link_rows, columns=list(link_rows[0])), "person_links"),
                     registers=("IND", "DTV"))


@pytest.fixture(scope="module")
def case():
    stays = make_stays([
        _stay("A-1", "A", "2020-01-01", "2020-06-30", "residence_permit"),    # permit 14 days after: confirmed (edge)
        _stay("B-1", "B", "2020-01-01", "2020-06-30", "residence_permit"),    # permit 15 days after: timing
        _stay("C-1", "C", "2020-01-01", "2020-06-30", "unknown_destination"),  # MOB +20 and departure +10: MOB wins
        _stay("D-1", "D", "2020-01-01", "2020-06-30", "unknown_destination"),  # departure +100 only: contradicted
        _stay("E-1", "E", "2020-01-01", "2020-06-30", "return_origin"),       # open case: not in chain
        _stay("F-1", "F", "2020-01-01", "2020-06-30", "return_origin"),       # no V-number: unlinked
        _stay("G-1", "G", "2020-01-01", "2020-06-30", "return_origin"),       # V-number in no register: unlinked
        _stay("H-1", "H", "2020-01-01", "2020-06-30", "detention"),           # forced departure +30: not checkable
        _stay("I-1", "I", "2020-01-01", "2020-03-01", "subsequent_asylum"),   # lodged before readmission: confirmed
        _stay("I-2", "I", "2020-05-01", "2020-09-01", "unknown_destination"),  # stay 1's events do not count
        _stay("J-1", "J", "2020-01-01", None, None),                           # ongoing: no agreement row
    ])
    ind = [
        _ind("vA", "regular_no_fault", "2019-06-01", "granted", "2020-07-14"),
        _ind("vB", "regular_no_fault", "2019-06-01", "granted", "2020-07-15"),
        _ind("vI", "asylum_subsequent", "2020-03-01", "rejected", "2020-04-20"),
        _ind("vE", "asylum_first", "2010-01-01", "rejected", "2011-01-01"),
    ]
    dtv = [
        _dtv("vC", "2019-12-20", "2020-07-20", "departure", "unknown_destination"),
        _dtv("vC", "2019-12-21", "2020-07-10", "departure", "independent", "origin"),
        _dtv("vD", "2019-12-20", "2020-10-08", "departure", "independent", "origin"),
        _dtv("vE", "2019-12-20"),
        _dtv("vE", "2015-01-01", "2016-01-01", "administrative"),
        _dtv("vE", "2016-01-01", "2020-01-01", "transfer"),  # closed ON the admission date: not before it
        _dtv("vH", "2019-12-20", "2020-07-30", "departure", "forced", "origin"),
        _dtv("vI", "2020-04-25", "2020-10-01", "departure", "unknown_destination"),
        _dtv("vX", "2020-01-01"),  # a person no LVV registered
    ]
    links = {"A": "vA", "B": "vB", "C": "vC", "D": "vD", "E": "vE", "F": None, "G": "vG", "H": "vH", "I": "vI", "J": "vA"}
    chain = chain_of(ind, dtv, links)
    return stays, chain, reconcile_chain(stays, chain)


def test_classes_follow_the_rules_at_their_edges(case):
    _, _, rec = case
    got = rec.agreement.set_index("stay_id")[["agreement", "rule_id", "chain_exit_reason"]].astype(object)
    expected = {
        "A-1": ("confirmed", "", "residence_permit"),
        "B-1": ("timing_difference", "C_TIMING", "residence_permit"),
        "C-1": ("confirmed", "", "unknown_destination"),
        "D-1": ("contradicted", "C_CONTRADICTED", "return_origin"),
        "E-1": ("not_in_chain", "C_NOT_IN_CHAIN", None),
        "F-1": ("unlinked", "C_NO_V_NUMBER", None),
        "G-1": ("unlinked", "C_PERSON_NOT_FOUND", None),
        "H-1": ("not_checkable", "", "return_origin"),
        "I-1": ("confirmed", "", "subsequent_asylum"),
        "I-2": ("confirmed", "", "unknown_destination"),
    }
    assert set(got.index) == set(expected)
    for sid, (klass, rule, reason) in expected.items():
        row = got.loc[sid]
        assert (row["agreement"], row["rule_id"]) == (klass, rule), sid
        assert (None if pd.isna(row["chain_exit_reason"]) else row["chain_exit_reason"]) == reason, sid


def test_the_nearest_matching_event_decides_and_is_named(case):
    _, _, rec = case
    c = rec.agreement.set_index("stay_id").loc["C-1"]
    assert c["chain_event"] == "E_LEFT_UNKNOWN_DESTINATION" and c["offset_days"] == 20
    assert c["chain_file"] == "dtv.csv" and c["chain_row"] == 2


def test_linkage_and_prior_procedures(case):
    _, _, rec = case
    keys = rec.keys.set_index("stay_id")
    assert keys.loc["F-1", "link_status"] == "no_v_number" and keys.loc["G-1", "link_status"] == "not_found"
    prior = rec.prior.set_index("stay_id")
    assert prior.loc["E-1", "n_prior_dtv"] == 1  # the case closed on the admission date does not count
    assert not prior.loc["E-1", "differs"]  # |1 - 2| <= tolerance 1
    assert pd.isna(prior.loc["F-1", "n_prior_dtv"]) and pd.isna(prior.loc["G-1", "n_prior_dtv"])
    assert prior.loc["A-1", "n_prior_dtv"] == 0 and prior.loc["A-1", "differs"]  # |0 - 2| > 1
    assert set(rec.chain_only["v_key"]) == {"vX"}
    rates = rec.linkage[rec.linkage["register"] == "any"].set_index("pilot").loc["Amsterdam"]
    assert (rates["persons"], rates["linked_persons"]) == (10, 8)


def test_discrepancy_list_names_every_flag_once(case):
    _, _, rec = case
    d = rec.discrepancies
    flagged = set(zip(d["rule_id"], d["stay_id"].fillna(""), d["person_id"].fillna(""), d["v_key"].fillna(""), strict=True))
    assert ("C_TIMING", "B-1", "B", "vB") in flagged and ("C_CONTRADICTED", "D-1", "D", "vD") in flagged
    assert ("C_NOT_IN_CHAIN", "E-1", "E", "vE") in flagged
    assert ("C_NO_V_NUMBER", "", "F", "") in flagged and ("C_PERSON_NOT_FOUND", "", "G", "vG") in flagged
    assert ("C_CHAIN_ONLY", "", "", "vX") in flagged
    assert d["rule_en"].str.len().gt(0).all() and d["rule_nl"].str.len().gt(0).all()


@pytest.mark.parametrize(("source", "expected"), [
    ("chain", {"A-1": "residence_permit", "B-1": "residence_permit", "D-1": "return_origin", "E-1": "other",
               "F-1": "other", "H-1": "return_origin"}),
    ("both", {"A-1": "residence_permit", "B-1": "residence_permit", "D-1": "other", "E-1": "other",
              "F-1": "other", "H-1": "detention"}),
])
def test_outcome_source_rewrites_exit_reasons(case, source, expected):
    stays, _, rec = case
    out = apply_chain_choices(stays, rec, ChainVerification(outcome_source=source)).set_index("stay_id")
    for sid, reason in expected.items():
        assert out.loc[sid, "exit_reason"] == reason, (source, sid)
    assert pd.isna(out.loc["J-1", "exit_reason"]) and (out["exit_date"].isna() == out["exit_reason"].isna()).all()


def test_prior_procedures_source(case):
    stays, _, rec = case
    dtv = apply_chain_choices(stays, rec, ChainVerification(prior_procedures_source="dtv")).set_index("stay_id")
    fallback = apply_chain_choices(stays, rec, ChainVerification(prior_procedures_source="dtv_else_municipal")
                                   ).set_index("stay_id")
    assert dtv.loc["E-1", "n_prior_departure_procedures"] == 1 and pd.isna(dtv.loc["F-1", "n_prior_departure_procedures"])
    assert fallback.loc["F-1", "n_prior_departure_procedures"] == 2


def test_tolerances_are_data(case, tmp_path):
    stays, chain, _ = case
    text = (load_reconciliation_spec.__globals__["RECONCILIATION_YAML"]).read_text(encoding="utf-8")
    wider = text.replace("residence_permit: {before: 120, after: 14}", "residence_permit: {before: 120, after: 15}")
    path = tmp_path / "rules.yaml"
    path.write_text(wider, encoding="utf-8")
    rec = reconcile_chain(stays, chain, load_reconciliation_spec(path))
    assert rec.agreement.set_index("stay_id").loc["B-1", "agreement"] == "confirmed"


def test_a_malformed_reconciliation_spec_is_a_clear_error(tmp_path):
    from lvv_eval.linkage.spec import ReconciliationSpecError

    text = load_reconciliation_spec.__globals__["RECONCILIATION_YAML"].read_text(encoding="utf-8")
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("implies: return_origin", "implies: went_home"), encoding="utf-8")
    with pytest.raises(ReconciliationSpecError, match="went_home"):
        load_reconciliation_spec(path)


def test_chain_verification_choices_are_checked_in_the_definitions(tmp_path):
    from lvv_eval.measures.chain_choices import CHAIN_AXES
    from lvv_eval.measures.definitions import DEFINITIONS_YAML, DefinitionsError, load_definitions

    defs = load_definitions()
    assert defs.chain_verification.outcome_source == "municipal" and not defs.chain_verification.needs_chain
    assert CHAIN_AXES["outcome_source"] == ("municipal", "chain", "both")
    assert defs.with_chain_choices(outcome_source="chain").chain_verification.outcome_source == "chain"
    with pytest.raises(ValueError, match="outcome_source"):
        defs.with_chain_choices(outcome_source="registers")
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFINITIONS_YAML.read_text(encoding="utf-8").replace(
        "  prior_procedures_source: municipal\n", "  prior_procedures_source: police\n", 1), encoding="utf-8")
    with pytest.raises(DefinitionsError, match="chain_verification.prior_procedures_source"):
        load_definitions(bad)
