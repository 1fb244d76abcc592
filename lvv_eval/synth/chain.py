"""The chain side of the SYNTHETIC cohort: what IND and DT&V register about the same people.

:func:`draw_chain` takes a drawn cohort and returns a :class:`ChainTruth`: a V-number per person
(client-number pilots get one, and a crosswalk), the IND procedures and the DT&V departure cases
as logical records, the deliberate discrepancies with the municipal records, and per stay what a
correct linkage and reconciliation must find. Parameters: ``chain.yaml`` beside this module.

All randomness comes from its own stream (``default_rng([seed, CHAIN_STREAM])``), so the municipal
deliveries of a seed are byte for byte the same with or without the chain extracts.

What a correct reconciliation must find is stated here from the generator's intent (which stays
were given which discrepancy), not recomputed by reconciliation logic: the agreement class of
every stay with an exit, the exit reason the chain implies, the number of DT&V departure cases
completed before each admission, and whether each person links to each register.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from lvv_eval.synth.dgp import CUT_DAY, EPOCH, day_of, to_datetime

CHAIN_YAML = Path(__file__).with_name("chain.yaml")
CHAIN_STREAM = 9_001  # the municipal renderer uses [seed, pilot] and [seed, pilot, 1000 + column]

# municipal exit reasons the registers hold a counterpart of, and which register
COUNTERPART: dict[str, str] = {
    "residence_permit": "IND", "subsequent_asylum": "IND", "art64_postponement": "IND",
    "return_origin": "DTV", "onward_migration": "DTV", "dublin_transfer": "DTV",
    "unknown_destination": "DTV",
}
DEPARTURES = ("return_origin", "onward_migration")
# (closure, mode, destination) of a DT&V case -> the exit reason it implies
DTV_IMPLIES: dict[tuple[str, str, str], str] = {
    ("departure", "independent", "origin"): "return_origin",
    ("departure", "forced", "origin"): "return_origin",
    ("departure", "independent", "third_country"): "onward_migration",
    ("departure", "forced", "third_country"): "onward_migration",
    ("departure", "forced", "dublin_state"): "dublin_transfer",
    ("departure", "unknown_destination", ""): "unknown_destination",
}
RESIDENCE_PROCEDURES = ("asylum_first", "asylum_subsequent", "regular_no_fault", "regular_medical",
                        "regular_other")
# agreement classes and the reconciliation rule that must name each deliberate discrepancy
CLASS_RULES: dict[str, str] = {
    "confirmed": "", "contradicted": "C_CONTRADICTED", "timing_difference": "C_TIMING",
    "not_in_chain": "C_NOT_IN_CHAIN", "not_checkable": "",
}
IND_COLUMNS = ("v_number", "procedure", "application_day", "decision", "decision_day", "_person", "_stay",
               "_role")
DTV_COLUMNS = ("v_number", "start_day", "end_day", "closure", "mode", "destination", "_person", "_stay",
               "_role")


@cache
def _params_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_chain_params(path: Path = CHAIN_YAML) -> dict[str, Any]:
    """The chain generator's parameters (``chain.yaml``)."""
    return yaml.safe_load(_params_text(path))


@dataclass
class ChainTruth:
    """The chain registers' logical records and what a correct reconciliation must find.

    ``people``: one row per person in either world (``v_number``, ``pilot``, ``source_id``,
    ``person_id`` (municipal pseudonym, empty for people never in an LVV), ``kind`` lvv |
    non_participant | unknown, ``link`` delivery | crosswalk, ``crosswalk_v`` as the crosswalk
    writes it (None: unknown). ``ind`` / ``dtv``: logical register records (days since 2019-01-01;
    ``v_number`` is the number as the register writes it, ``_person`` the true person).
    ``crosswalks``: per pilot the client number -> V-number table. ``stays``: per truth stay the
    expected linkage, agreement class, chain exit reason and DT&V count of prior procedures.
    ``discrepancies``: the deliberate ones, each pointing at a record (``record_table``,
    ``record``) whose file position the renderer adds.
    """

    people: pd.DataFrame
    ind: pd.DataFrame
    dtv: pd.DataFrame
    crosswalks: dict[str, pd.DataFrame]
    stays: pd.DataFrame
    discrepancies: pd.DataFrame
    chain_only: pd.DataFrame
    extract_date: date
    crosswalk_date: date


# --------------------------------------------------------------------------- small draws


def _days(rng: np.random.Generator, bounds: list[int] | tuple[int, int], n: int) -> np.ndarray:
    """Whole days drawn uniformly in [lo, hi]."""
    lo, hi = int(bounds[0]), int(bounds[1])
    return rng.integers(lo, hi + 1, n).astype("float64")


def _choice(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    names = np.array(list(shares), dtype=object)
    w = np.array([float(v) for v in shares.values()])
    return rng.choice(names, size=n, p=w / w.sum()) if n else np.array([], dtype=object)


def share_count(share: float, eligible: int) -> int:
    """How many of ``eligible`` a share selects: at least one when any is eligible."""
    return 0 if eligible == 0 else min(eligible, max(1, int(round(share * eligible))))


def fresh_v_numbers(n: int, taken: set[int], rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct 10-digit V-numbers that are not in ``taken``."""
    out: list[int] = []
    seen = set(taken)
    while len(out) < n:
        draw = np.unique(rng.integers(10**9, 10**10, int((n - len(out)) * 1.2) + 10))
        new = [int(v) for v in rng.permutation(draw) if int(v) not in seen]
        out.extend(new[: n - len(out)])
        seen.update(new)
    return np.array([f"{v:010d}" for v in out], dtype=object)


def mistype(v_number: str, rng: np.random.Generator, taken: set[str]) -> str:
    """The V-number with two adjacent, different digits swapped (not another person's number)."""
    for _ in range(100):
        i = int(rng.integers(0, len(v_number) - 1))
        if v_number[i] == v_number[i + 1]:
            continue
        typo = v_number[:i] + v_number[i + 1] + v_number[i] + v_number[i + 2:]
        if typo not in taken and typo[0] != "0":
            return typo
    raise ValueError(f"no typo possible for {v_number!r}")


def _frame(columns: tuple[str, ...], **values: Any) -> pd.DataFrame:
    n = max(len(np.atleast_1d(v)) for v in values.values() if not np.isscalar(v))
    out = {c: values.get(c, [None] * n) for c in columns}
    return pd.DataFrame({c: (np.full(n, v, dtype=object) if np.isscalar(v) or v is None else v)
                         for c, v in out.items()})


# --------------------------------------------------------------------------- inputs


def stay_frame(cohort: Any) -> pd.DataFrame:
    """Per truth stay, the facts the chain draws depend on (days since 2019-01-01)."""
    s, h = cohort.stays.reset_index(drop=True), cohort.hidden.reset_index(drop=True)
    if not (s["stay_id"].to_numpy() == h["stay_id"].to_numpy()).all():
        raise ValueError("cohort.hidden is not aligned row for row with cohort.stays")

    def days(col: pd.Series) -> np.ndarray:
        d = col.to_numpy(dtype="datetime64[D]")
        out = (d - EPOCH).astype("float64")
        out[np.isnat(d)] = np.nan
        return out

    frame = pd.DataFrame({
        "stay_id": s["stay_id"].astype(str), "person_id": s["person_id"].astype(str),
        "pilot": s["pilot"].astype(str), "source_id": h["source_id"].astype(str),
        "seq": h["seq"].astype(int), "adm": days(s["admission_date"]), "exit": days(s["exit_date"]),
        "exit_reason": s["exit_reason"].astype(object).where(s["exit_reason"].notna(), None),
        "n_prior": s["n_prior_departure_procedures"].astype("Float64").to_numpy(dtype=float, na_value=np.nan),
        "asylum": s["asylum_background"].astype("boolean").fillna(True).to_numpy(dtype=bool),
        "scenario": s["scenario"].astype(object).where(s["scenario"].notna(), None),
    })
    frame = frame.sort_values(["person_id", "seq"], kind="stable").reset_index(drop=True)
    frame["next_adm"] = frame.groupby("person_id", sort=False)["adm"].shift(-1)
    frame["person"] = pd.factorize(frame["person_id"])[0]
    return frame


def lvv_people(stays: pd.DataFrame, rng: np.random.Generator, pattern: str) -> pd.DataFrame:
    """One row per LVV person: pilot, source id and a V-number (drawn for client numbers)."""
    first = stays.drop_duplicates("person").sort_values("person").reset_index(drop=True)
    is_v = first["source_id"].str.fullmatch(pattern.strip("^$")).to_numpy(dtype=bool)
    v = first["source_id"].to_numpy(dtype=object).copy()
    taken = {int(x) for x in v[is_v]}
    v[~is_v] = fresh_v_numbers(int((~is_v).sum()), taken, rng)
    return pd.DataFrame({
        "v_number": v, "pilot": first["pilot"].to_numpy(), "source_id": first["source_id"].to_numpy(),
        "person_id": first["person_id"].to_numpy(), "kind": "lvv",
        "link": np.where(is_v, "delivery", "crosswalk"), "ref": first["adm"].to_numpy(),
        "asylum": first["asylum"].to_numpy(),
    })


# --------------------------------------------------------------------------- discrepancies


class _Picker:
    """Draws disjoint sets of people for the deliberate discrepancies."""

    def __init__(self, n_people: int, rng: np.random.Generator) -> None:
        self.used = np.zeros(n_people, dtype=bool)
        self.rng = rng

    def pick(self, persons: np.ndarray, share: float) -> np.ndarray:
        """Positions (into ``persons``) of the chosen candidates, one per person at most."""
        free = np.flatnonzero(~self.used[persons])
        _, first = np.unique(persons[free], return_index=True)
        free = free[np.sort(first)]
        n = share_count(share, len(free))
        chosen = np.sort(self.rng.choice(free, size=n, replace=False)) if n else np.array([], dtype=int)
        self.used[persons[chosen]] = True
        return chosen


@dataclass
class _Picks:
    """Who got which discrepancy: person masks and stay masks."""

    crosswalk_unknown: np.ndarray
    crosswalk_typo: np.ndarray
    dtv_typo: np.ndarray
    not_verified: np.ndarray
    departure_after_mob: np.ndarray
    permit_late: np.ndarray
    prior_far_off: np.ndarray


def pick_discrepancies(stays: pd.DataFrame, people: pd.DataFrame, rng: np.random.Generator,
                       d: dict[str, Any], extract_day: int) -> _Picks:
    """Choose the people and stays that carry each deliberate discrepancy (disjoint people)."""
    picker = _Picker(len(people), rng)
    person = stays["person"].to_numpy()
    reason = stays["exit_reason"].to_numpy(dtype=object)
    exit_day, next_adm = stays["exit"].to_numpy(), stays["next_adm"].fillna(np.inf).to_numpy()
    checkable = np.isin(reason, list(COUNTERPART))

    def person_mask(positions: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        mask = np.zeros(len(people), dtype=bool)
        mask[candidates[positions]] = True
        return mask

    def stay_mask(candidates: np.ndarray, share: float) -> np.ndarray:
        mask = np.zeros(len(stays), dtype=bool)
        mask[candidates[picker.pick(person[candidates], share)]] = True
        return mask

    crosswalk = np.flatnonzero((people["link"] == "crosswalk").to_numpy())
    with_checkable = np.unique(person[checkable])
    typo_candidates = np.intersect1d(crosswalk, with_checkable)
    crosswalk_typo = person_mask(picker.pick(typo_candidates, d["crosswalk_v_number_typo"]), typo_candidates)
    crosswalk_unknown = person_mask(picker.pick(crosswalk, d["crosswalk_v_number_unknown"]), crosswalk)
    departures = np.flatnonzero(np.isin(reason, DEPARTURES))
    late_enough = exit_day <= extract_day - d["verified_departure_days"][1]
    room = next_adm > exit_day + d["verified_departure_days"][1] + 1
    mob = np.flatnonzero((reason == "unknown_destination") & late_enough & room)
    permits = np.flatnonzero((reason == "residence_permit") & (exit_day <= extract_day - d["permit_days_after_exit"][1]))
    first_only = np.flatnonzero((stays["seq"] == 1).to_numpy() & ~np.isfinite(next_adm))
    return _Picks(
        crosswalk_unknown=crosswalk_unknown, crosswalk_typo=crosswalk_typo,
        dtv_typo=stay_mask(departures, d["dtv_v_number_typo"]),
        not_verified=stay_mask(departures, d["departure_not_verified"]),
        departure_after_mob=stay_mask(mob, d["verified_departure_after_mob"]),
        permit_late=stay_mask(permits, d["permit_weeks_after_exit"]),
        prior_far_off=stay_mask(first_only, d["prior_procedures_far_off"]),
    )


# --------------------------------------------------------------------------- IND


def ind_history(people: pd.DataFrame, rng: np.random.Generator, h: dict[str, Any]) -> pd.DataFrame:
    """Procedures decided before each person's first admission (or reference day)."""
    ref = people["ref"].to_numpy(dtype=float)
    asylum = people["asylum"].to_numpy(dtype=bool)
    idx = np.arange(len(people))
    n = len(people)
    app1 = ref - _days(rng, [365 * h["first_asylum_years_before"][0], 365 * h["first_asylum_years_before"][1]], n)
    dec1 = np.minimum(app1 + _days(rng, h["first_decision_days"], n), ref - 30)
    reg_app = ref - _days(rng, [365 * h["regular_years_before"][0], 365 * h["regular_years_before"][1]], n)
    reg_dec = np.minimum(reg_app + _days(rng, [60, 300], n), ref - 30)
    reg_decision = np.where(rng.random(n) < h["p_regular_not_processed"], "not_processed", "rejected")
    first = _frame(IND_COLUMNS, v_number=people["v_number"].to_numpy(),
                   procedure=np.where(asylum, "asylum_first", "regular_other"),
                   application_day=np.where(asylum, app1, reg_app),
                   decision=np.where(asylum, "rejected", reg_decision),
                   decision_day=np.where(asylum, dec1, reg_dec), _person=idx, _stay="", _role="history")
    span = ref - 60 - (dec1 + 30)
    again = asylum & (span > 0) & (rng.random(n) < h["p_subsequent_before"])
    app2 = dec1 + 30 + np.floor(rng.random(n) * np.maximum(span, 0))
    dec2 = np.minimum(app2 + _days(rng, [30, 200], n), ref - 30)
    second = _frame(IND_COLUMNS, v_number=people["v_number"].to_numpy()[again], procedure="asylum_subsequent",
                    application_day=app2[again], decision="rejected", decision_day=dec2[again],
                    _person=idx[again], _stay="", _role="history")
    return pd.concat([first, second], ignore_index=True)


def ind_outcomes(stays: pd.DataFrame, v: np.ndarray, picks: _Picks, rng: np.random.Generator,
                 p: dict[str, Any], extract_day: int) -> pd.DataFrame:
    """IND procedures behind LVV exits: permits granted, subsequent asylum lodged, art. 64 granted,
    and regular applications pending for people still in the LVV."""
    parts = []
    reason = stays["exit_reason"].to_numpy(dtype=object)
    adm, ex = stays["adm"].to_numpy(), stays["exit"].to_numpy()

    def rows(mask: np.ndarray, **cols: Any) -> None:
        if mask.any():
            parts.append(_frame(IND_COLUMNS, v_number=v[stays["person"].to_numpy()[mask]],
                                _person=stays["person"].to_numpy()[mask],
                                _stay=stays["stay_id"].to_numpy()[mask], _role="stay", **cols))

    m = reason == "residence_permit"
    n = int(m.sum())
    dec = np.maximum(adm[m], ex[m] - _days(rng, p["permit_decision_days_before_exit"], n))
    late = picks.permit_late[m]
    dec[late] = ex[m][late] + _days(rng, p["discrepancies"]["permit_days_after_exit"], int(late.sum()))
    rows(m, procedure=_choice(rng, p["residence_procedures"], n),
         application_day=dec - _days(rng, p["permit_application_days_before_decision"], n),
         decision="granted", decision_day=dec)

    m = reason == "subsequent_asylum"
    n = int(m.sum())
    app = np.maximum(adm[m], ex[m] - _days(rng, p["subsequent_asylum_days_before_exit"], n))
    decision = _choice(rng, p["subsequent_asylum_decision"], n)
    dec = app + _days(rng, p["subsequent_asylum_decision_days"], n)
    nxt = stays["next_adm"].to_numpy()[m]
    back = np.isfinite(nxt)  # readmitted: the application was rejected before the next admission
    decision[back] = "rejected"
    dec[back] = np.minimum(dec[back], nxt[back] - 1)
    pending = (decision == "pending") | (dec > extract_day)
    rows(m, procedure="asylum_subsequent", application_day=app,
         decision=np.where(pending, None, decision), decision_day=np.where(pending, np.nan, dec))

    m = reason == "art64_postponement"
    n = int(m.sum())
    app = np.maximum(adm[m], ex[m] - _days(rng, p["art64_application_days_before_exit"], n))
    rows(m, procedure="art64", application_day=app, decision="granted",
         decision_day=np.maximum(app, ex[m] - _days(rng, p["art64_decision_days_before_exit"], n)))

    ongoing = np.isnan(ex)
    m = ongoing & (rng.random(len(stays)) < p["ind_history"]["p_pending_regular_during_stay"])
    n = int(m.sum())
    rows(m, procedure=_choice(rng, {"regular_no_fault": 0.6, "regular_medical": 0.4}, n),
         application_day=adm[m] + np.floor(rng.random(n) * (CUT_DAY - adm[m])), decision=None, decision_day=np.nan)
    return pd.concat(parts, ignore_index=True) if parts else _frame(IND_COLUMNS, v_number=np.array([], dtype=object))


# --------------------------------------------------------------------------- DT&V


def prior_counts(stays: pd.DataFrame, picks: _Picks, rng: np.random.Generator, dp: dict[str, Any]) -> np.ndarray:
    """DT&V's number of departure cases completed before each person's first admission."""
    first = stays.drop_duplicates("person").sort_values("person")
    base = first["n_prior"].to_numpy()
    unknown = np.isnan(base)
    k = np.where(unknown, rng.integers(dp["unknown_count_range"][0], dp["unknown_count_range"][1] + 1, len(base)),
                 np.nan_to_num(base)).astype(int)
    readmitted = np.isfinite(first["next_adm"].to_numpy())
    off = ~readmitted & (rng.random(len(k)) < dp["p_count_off_by_one"])
    k = np.where(off, np.maximum(0, k + np.where(rng.random(len(k)) < 0.5, -1, 1)), k)
    far = picks.prior_far_off[first.index.to_numpy()]
    shift = 4 + rng.integers(0, 3, len(k))
    return np.where(far, np.where(k >= 5, np.maximum(0, k - shift), k + shift), k)


def dtv_prior_cases(stays: pd.DataFrame, v: np.ndarray, counts: np.ndarray, rng: np.random.Generator,
                    dp: dict[str, Any]) -> pd.DataFrame:
    """The completed departure cases before the first admission (their number from :func:`prior_counts`)."""
    first = stays.drop_duplicates("person").sort_values("person")
    person = np.repeat(first["person"].to_numpy(), counts)
    ref = np.repeat(first["adm"].to_numpy(), counts)
    n = len(person)
    gap = dp["closed_at_least_days_before_admission"]
    start = ref - _days(rng, [2 * gap, 365 * dp["years_before"]], n)
    end = np.minimum(start + _days(rng, dp["duration_days"], n), ref - gap)
    closure = _choice(rng, dp["closure"], n)
    mob = closure == "unknown_destination"
    return _frame(DTV_COLUMNS, v_number=v[person], start_day=start, end_day=end,
                  closure=np.where(mob, "departure", closure), mode=np.where(mob, "unknown_destination", None),
                  destination=None, _person=person, _stay="", _role="history")


def _has_lvv_case(stays: pd.DataFrame, picks: _Picks, rng: np.random.Generator, p: dict[str, Any]) -> np.ndarray:
    ends = p["dtv_case_end"]
    about_departure = [r for r, e in ends.items() if e["closure"] == "departure"]
    reason = stays["exit_reason"].to_numpy(dtype=object)
    return (np.isin(reason, about_departure) | (stays["scenario"].to_numpy(dtype=object) == "departure")
            | (rng.random(len(stays)) < p["p_dtv_case_other"]))


def dtv_lvv_cases(stays: pd.DataFrame, v: np.ndarray, picks: _Picks, rng: np.random.Generator,
                  p: dict[str, Any], extract_day: int) -> pd.DataFrame:
    """The departure case of each LVV stay (for the stays that have one) and how it ended."""
    has = _has_lvv_case(stays, picks, rng, p)
    s = stays[has].reset_index(drop=True)
    n = len(s)
    adm, ex, nxt = s["adm"].to_numpy(), s["exit"].to_numpy(), s["next_adm"].to_numpy()
    reason = s["exit_reason"].to_numpy(dtype=object)
    start = adm - np.where(s["seq"].to_numpy() > 1, _days(rng, [0, 13], n), _days(rng, [0, 25], n))
    end = np.full(n, np.nan)
    closure = np.full(n, None, dtype=object)
    mode = np.full(n, None, dtype=object)
    dest = np.full(n, None, dtype=object)
    u = rng.random(n)
    for r, rule in p["dtv_case_end"].items():
        m = (reason == r) & (u < float(rule.get("share", 1.0)))
        k = int(m.sum())
        end[m] = ex[m] + _days(rng, rule["days"], k)
        closure[m] = rule["closure"]
        if "mode" in rule:
            mode[m] = _choice(rng, rule["mode"], k)
        dest[m] = rule.get("destination")
    sel = {name: getattr(picks, name)[has] for name in ("not_verified", "departure_after_mob")}
    end[sel["not_verified"]], closure[sel["not_verified"]] = np.nan, None
    mode[sel["not_verified"]] = dest[sel["not_verified"]] = None
    m = sel["departure_after_mob"]
    end[m] = ex[m] + _days(rng, p["discrepancies"]["verified_departure_days"], int(m.sum()))
    closure[m], mode[m], dest[m] = "departure", "independent", "origin"
    back = np.isfinite(nxt)  # readmitted: the case is closed before the next admission
    still_open = back & np.isnan(end)
    end[still_open] = ex[still_open] + _days(rng, p["readmission_close_days"], int(still_open.sum()))
    closure[still_open] = "administrative"
    end[back] = np.minimum(end[back], nxt[back] - 1)
    late = end > extract_day  # not yet closed on the extract date
    end[late], closure[late], mode[late], dest[late] = np.nan, None, None, None
    return _frame(DTV_COLUMNS, v_number=v[s["person"].to_numpy()], start_day=start, end_day=end, closure=closure,
                  mode=mode, destination=dest, _person=s["person"].to_numpy(), _stay=s["stay_id"].to_numpy(),
                  _role="stay")


# --------------------------------------------------------------------------- people never in an LVV


def chain_only_people(cohort: Any, people: pd.DataFrame, rng: np.random.Generator, d: dict[str, Any],
                      pattern: str) -> pd.DataFrame:
    """People in the registers' LVV selection whom no municipal LVV registered: a share of the
    municipal-shelter-only users, and people unknown to every municipality."""
    nonp = cohort.non_participants
    picked = nonp.iloc[np.sort(rng.choice(len(nonp), share_count(d["chain_only_non_participants"], len(nonp)),
                                          replace=False))] if len(nonp) else nonp
    taken = {int(x) for x in people["v_number"]}
    ids = picked["source_id"].astype(str).to_numpy(dtype=object) if len(picked) else np.array([], dtype=object)
    is_v = np.array([bool(re.fullmatch(pattern.strip("^$"), x)) for x in ids], dtype=bool)
    taken |= {int(x) for x in ids[is_v]}
    n_unknown = share_count(d["chain_only_unknown"], len(people))
    fresh = fresh_v_numbers(int((~is_v).sum()) + n_unknown, taken, rng)
    v_np = ids.copy()
    v_np[~is_v] = fresh[: int((~is_v).sum())]
    ref_np = ((picked["admission_date"].to_numpy(dtype="datetime64[D]") - EPOCH).astype(float)
              if len(picked) else np.array([], dtype=float))
    lo = day_of("2019-03-01")
    ref_unknown = lo + np.floor(rng.random(n_unknown) * (CUT_DAY - lo))
    return pd.DataFrame({
        "v_number": np.concatenate([v_np, fresh[int((~is_v).sum()):]]),
        "pilot": np.concatenate([picked["pilot"].astype(str).to_numpy(dtype=object) if len(picked) else [],
                                 np.full(n_unknown, "", dtype=object)]).astype(object),
        "source_id": np.concatenate([ids, np.full(n_unknown, "", dtype=object)]).astype(object),
        "person_id": "", "kind": ["non_participant"] * len(picked) + ["unknown"] * n_unknown, "link": "",
        "ref": np.concatenate([ref_np, ref_unknown]),
        "asylum": rng.random(len(picked) + n_unknown) < 0.8,
    })


def chain_only_cases(others: pd.DataFrame, offset: int, rng: np.random.Generator, extract_day: int) -> pd.DataFrame:
    """One DT&V case per person never in an LVV: open, departed, or left to an unknown destination."""
    n = len(others)
    start = others["ref"].to_numpy() - _days(rng, [0, 200], n)
    end = start + _days(rng, [30, 400], n)
    kind = _choice(rng, {"open": 0.5, "departed": 0.25, "mob": 0.25}, n)
    open_ = (kind == "open") | (end > extract_day)
    return _frame(DTV_COLUMNS, v_number=others["v_number"].to_numpy(), start_day=start,
                  end_day=np.where(open_, np.nan, end), closure=np.where(open_, None, "departure"),
                  mode=np.where(open_, None, np.where(kind == "departed", "independent", "unknown_destination")),
                  destination=np.where(~open_ & (kind == "departed"), "origin", None),
                  _person=offset + np.arange(n), _stay="", _role="chain_only")


# --------------------------------------------------------------------------- expectations


def implied_by_dtv(dtv: pd.DataFrame) -> np.ndarray:
    """The exit reason each DT&V case implies (None when it implies none)."""
    keys = (dtv["closure"].fillna("").astype(str) + "|" + dtv["mode"].fillna("").astype(str) + "|"
            + dtv["destination"].fillna("").astype(str))
    lookup = {"|".join(k): v for k, v in DTV_IMPLIES.items()}
    return keys.map(lookup).astype(object).where(keys.isin(list(lookup)), None).to_numpy(dtype=object)


def expected_per_stay(stays: pd.DataFrame, people: pd.DataFrame, dtv: pd.DataFrame, ind: pd.DataFrame,
                      picks: _Picks) -> pd.DataFrame:
    """What a correct linkage and reconciliation finds for every truth stay."""
    person = stays["person"].to_numpy()
    lvv = people.iloc[: people["kind"].eq("lvv").sum()]
    v_known = ~(picks.crosswalk_unknown | picks.crosswalk_typo)[person]
    true_v = lvv["v_number"].to_numpy(dtype=object)
    in_dtv = np.zeros(len(lvv), dtype=bool)
    good = dtv[dtv["_person"] < len(lvv)]
    good = good[good["v_number"].to_numpy(dtype=object) == true_v[good["_person"].to_numpy()]]
    in_dtv[good["_person"].unique()] = True
    in_ind = np.zeros(len(lvv), dtype=bool)
    in_ind[ind.loc[ind["_person"] < len(lvv), "_person"].unique()] = True
    reason = stays["exit_reason"].to_numpy(dtype=object)
    has_exit = reason != None  # noqa: E711
    klass = np.where(~has_exit, "", np.where(np.isin(reason, list(COUNTERPART)), "confirmed", "not_checkable"))
    klass = np.where(picks.not_verified | picks.dtv_typo, "not_in_chain", klass)
    klass = np.where(picks.departure_after_mob, "contradicted", klass)
    klass = np.where(picks.permit_late, "timing_difference", klass)
    unlinked = has_exit & (klass != "not_checkable") & ~v_known
    rule = np.array([CLASS_RULES.get(k, "") for k in klass], dtype=object)
    rule[unlinked] = np.where(picks.crosswalk_typo[person[unlinked]], "C_PERSON_NOT_FOUND", "C_NO_V_NUMBER")
    klass = np.where(unlinked, "unlinked", klass)
    chain_reason = np.where(np.isin(klass, ["confirmed", "timing_difference"]), reason, None)
    stay_case = good[good["_stay"] != ""]
    implied = pd.Series(implied_by_dtv(stay_case), index=stay_case["_stay"].to_numpy())
    from_case = implied.reindex(stays["stay_id"]).to_numpy(dtype=object)
    chain_reason = np.where((klass == "contradicted") | ((klass == "not_checkable") & v_known), from_case, chain_reason)
    return pd.DataFrame({
        "stay_id": stays["stay_id"], "person_id": stays["person_id"], "pilot": stays["pilot"],
        "exit_reason": reason, "expected_class": klass, "expected_rule_id": rule,
        "expected_chain_exit_reason": pd.Series(chain_reason, dtype=object).where(
            pd.notna(pd.Series(chain_reason, dtype=object)), None).to_numpy(),
        "n_prior_municipal": stays["n_prior"].astype("Float64").round().astype("Int64"),
        "n_prior_dtv_expected": _dtv_prior_per_stay(stays, good, v_known),
        "linked_ind": v_known & in_ind[person], "linked_dtv": v_known & in_dtv[person],
    })


def _dtv_prior_per_stay(stays: pd.DataFrame, good: pd.DataFrame, v_known: np.ndarray) -> pd.array:
    """Per stay, the DT&V cases of the person completed (closed) before the admission."""
    closed = good.loc[good["end_day"].notna(), ["_person", "end_day"]]
    pairs = stays[["person", "adm"]].reset_index().merge(closed, left_on="person", right_on="_person")
    counts = pairs[pairs["end_day"] < pairs["adm"]].groupby("index").size()
    out = counts.reindex(stays.index, fill_value=0).to_numpy()
    return pd.array(np.where(v_known, out, None), dtype="Int64")


# --------------------------------------------------------------------------- assembly


def draw_chain(cohort: Any, seed: int, params: dict[str, Any] | None = None) -> ChainTruth:
    """The chain registers for a drawn cohort (see the module docstring)."""
    p = params or load_chain_params()
    rng = np.random.default_rng([seed, CHAIN_STREAM])
    extract_day = day_of(p["extract_date"])
    stays = stay_frame(cohort)
    people = lvv_people(stays, rng, p["v_number_pattern"])
    picks = pick_discrepancies(stays, people, rng, p["discrepancies"], extract_day)
    v = people["v_number"].to_numpy(dtype=object)
    counts = prior_counts(stays, picks, rng, p["dtv_prior"])
    others = chain_only_people(cohort, people, rng, p["discrepancies"], p["v_number_pattern"])
    everyone = pd.concat([people, others], ignore_index=True)
    ind = pd.concat([ind_history(everyone, rng, p["ind_history"]),
                     ind_outcomes(stays, v, picks, rng, p, extract_day)], ignore_index=True)
    dtv = pd.concat([dtv_prior_cases(stays, v, counts, rng, p["dtv_prior"]),
                     dtv_lvv_cases(stays, v, picks, rng, p, extract_day),
                     chain_only_cases(others, len(people), rng, extract_day)], ignore_index=True)
    taken = set(everyone["v_number"])
    typo_stays = set(stays.loc[picks.dtv_typo, "stay_id"])
    typo_rows = np.flatnonzero(dtv["_stay"].isin(typo_stays).to_numpy())
    v_col = dtv.columns.get_loc("v_number")
    for i in typo_rows:
        dtv.iat[i, v_col] = mistype(dtv.iat[i, v_col], rng, taken)
    crosswalk_v = v.copy()
    crosswalk_v[picks.crosswalk_unknown] = None
    for i in np.flatnonzero(picks.crosswalk_typo):
        crosswalk_v[i] = mistype(v[i], rng, taken)
    everyone["crosswalk_v"] = np.concatenate([crosswalk_v, np.full(len(others), None, dtype=object)])
    expected = expected_per_stay(stays, everyone, dtv, ind, picks)
    ind, dtv = _with_dates(ind, ("application_day", "decision_day")), _with_dates(dtv, ("start_day", "end_day"))
    return ChainTruth(
        people=everyone.drop(columns=["ref", "asylum"]), ind=ind, dtv=dtv,
        crosswalks=_crosswalks(everyone),
        stays=expected, discrepancies=_discrepancies(stays, everyone, dtv, ind, picks, expected),
        chain_only=_chain_only(everyone, dtv, ind, picks),
        extract_date=p["extract_date"], crosswalk_date=p["crosswalk_date"],
    )


def _with_dates(frame: pd.DataFrame, day_columns: tuple[str, ...]) -> pd.DataFrame:
    out = frame.copy()
    for col in day_columns:
        out[col.replace("_day", "_date")] = to_datetime(out.pop(col).to_numpy(dtype=float)).to_numpy()
    out.insert(0, "_rid", np.arange(len(out), dtype=np.int64))
    return out


def _crosswalks(people: pd.DataFrame) -> dict[str, pd.DataFrame]:
    mine = people[people["link"] == "crosswalk"]
    return {
        pilot: part[["source_id", "crosswalk_v", "person_id"]].rename(
            columns={"source_id": "client_number", "crosswalk_v": "v_number"}
        ).sort_values("client_number", kind="stable").reset_index(drop=True)
        for pilot, part in mine.groupby("pilot", sort=True)
    }


def _chain_only(people: pd.DataFrame, dtv: pd.DataFrame, ind: pd.DataFrame, picks: _Picks) -> pd.DataFrame:
    """Every V-number in a register that links to no LVV person, per register, with why."""
    n_lvv = int(people["kind"].eq("lvv").sum())
    reason_of_person = np.full(len(people), "", dtype=object)
    reason_of_person[n_lvv:] = people["kind"].to_numpy()[n_lvv:]
    reason_of_person[:n_lvv][picks.crosswalk_unknown] = "no_v_number_in_crosswalk"
    reason_of_person[:n_lvv][picks.crosswalk_typo] = "v_number_mistyped_in_crosswalk"
    parts = []
    for register, frame in (("IND", ind), ("DTV", dtv)):
        person = frame["_person"].to_numpy()
        true_v = people["v_number"].to_numpy(dtype=object)[person]
        typo = frame["v_number"].to_numpy(dtype=object) != true_v
        why = np.where(typo, "v_number_mistyped_in_register", reason_of_person[person])
        rows = pd.DataFrame({"register": register, "v_number": frame["v_number"].to_numpy(), "reason": why})
        parts.append(rows[rows["reason"] != ""])
    out = pd.concat(parts, ignore_index=True)
    return out.groupby(["register", "v_number", "reason"], sort=True).size().rename("records").reset_index()


def _discrepancies(stays: pd.DataFrame, people: pd.DataFrame, dtv: pd.DataFrame, ind: pd.DataFrame,
                   picks: _Picks, expected: pd.DataFrame) -> pd.DataFrame:
    """The deliberate discrepancies, each with the record that shows it and the rule that must flag it."""
    parts: list[pd.DataFrame] = []

    def add(kind: str, level: str, rule: str, stay_mask: np.ndarray, table: str, frame: pd.DataFrame | None,
            municipal: str, chain: str) -> None:
        sel = stays[stay_mask]
        if sel.empty:
            return
        rec = None
        if frame is not None:
            rec = frame[frame["_stay"].isin(set(sel["stay_id"]))].drop_duplicates("_stay").set_index("_stay")
            rec = rec.reindex(sel["stay_id"])
        facts = [_facts(r) for r in sel.to_dict("records")]
        records = [{}] * len(sel) if rec is None else [_record_facts(r) for r in rec.to_dict("records")]
        parts.append(pd.DataFrame({
            "discrepancy_type": kind, "level": level, "rule_id": rule, "pilot": sel["pilot"].to_numpy(),
            "stay_id": sel["stay_id"].to_numpy(), "person_id": sel["person_id"].to_numpy(),
            "v_number": people["v_number"].to_numpy(dtype=object)[sel["person"].to_numpy()],
            "record_table": table,
            "record": rec["_rid"].fillna(-1).astype("int64").to_numpy() if rec is not None else -1,
            "municipal_fact": [municipal.format(**f) for f in facts],
            "chain_fact": [chain.format(**r) for r in records],
        }))

    add("departure_not_verified", "stay", "C_NOT_IN_CHAIN", picks.not_verified, "dtv", dtv,
        "{exit_reason} on {exit}", "departure case open since {start}")
    add("dtv_v_number_typo", "stay", "C_NOT_IN_CHAIN", picks.dtv_typo, "dtv", dtv,
        "{exit_reason} on {exit}", "departure case under a mistyped V-number ({closure} {mode} on {end})")
    add("verified_departure_after_mob", "stay", "C_CONTRADICTED", picks.departure_after_mob, "dtv", dtv,
        "{exit_reason} on {exit}", "{closure} {mode} to {destination} on {end}")
    add("permit_weeks_after_exit", "stay", "C_TIMING", picks.permit_late, "ind",
        ind[ind["decision"] == "granted"], "{exit_reason} on {exit}", "{procedure} granted on {decision}")
    add("prior_procedures_far_off", "stay", "C_PRIOR_PROCEDURES_DIFFER", picks.prior_far_off, "", None,
        "{n_prior} prior departure procedures", "")
    first_stay = stays.drop_duplicates("person")
    for kind, mask, rule in (("crosswalk_v_number_unknown", picks.crosswalk_unknown, "C_NO_V_NUMBER"),
                             ("crosswalk_v_number_typo", picks.crosswalk_typo, "C_PERSON_NOT_FOUND")):
        sel = np.zeros(len(stays), dtype=bool)
        sel[first_stay.index[mask[first_stay["person"].to_numpy()]]] = True
        add(kind, "person", rule, sel, "crosswalk", None, "client number in the delivery", "")
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    out = out.merge(expected[["stay_id", "n_prior_dtv_expected"]], on="stay_id", how="left")
    far = out["discrepancy_type"] == "prior_procedures_far_off"
    out.loc[far, "chain_fact"] = out.loc[far, "n_prior_dtv_expected"].astype(str) + " completed DT&V cases"
    out.loc[out["level"] == "person", "stay_id"] = ""
    return out.drop(columns="n_prior_dtv_expected")


def _iso(day: float | pd.Timestamp | None) -> str:
    if day is None or (isinstance(day, float) and np.isnan(day)) or pd.isna(day):
        return ""
    if isinstance(day, pd.Timestamp):
        return day.strftime("%Y-%m-%d")
    return str(EPOCH + np.timedelta64(int(day), "D"))


def _facts(stay: dict[str, Any]) -> dict[str, str]:
    n_prior = "" if np.isnan(stay["n_prior"]) else str(int(stay["n_prior"]))
    return {"exit_reason": stay["exit_reason"] or "", "exit": _iso(stay["exit"]), "n_prior": n_prior}


def _record_facts(r: dict[str, Any]) -> dict[str, str]:
    return {k: (_iso(r[k + "_date"]) if k + "_date" in r else ("" if r.get(k) is None or r.get(k) is np.nan
                                                                 else str(r.get(k))))
            for k in ("start", "end", "closure", "mode", "destination", "procedure", "decision")}
