"""The hard published figures recomputed in plain pandas, independently of the calibration and of
lvv_eval.measures: each figure's definition is re-stated here from published_figures.csv's
definition_note and DATA_MODEL.md."""

from __future__ import annotations

import pandas as pd

KB = pd.Timestamp("2020-11-01")
PPE = pd.Timestamp("2019-12-31")
EE = pd.Timestamp("2022-07-01")
CAPACITY_2020 = {"Amsterdam": 360, "Eindhoven": 130, "Groningen": 300, "Rotterdam": 117, "Utrecht": 235}


def present(s: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    return s[(s.admission_date <= day) & (s.exit_date.isna() | (s.exit_date >= day))]


def exited_before(s: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    return s[s.exit_date.notna() & (s.exit_date < day)]


def kb2020_figures(s: pd.DataFrame) -> dict[str, object]:
    cov = s[s.in_covenant & (s.admission_date <= KB)]
    out: dict[str, object] = {
        f"kb2020.capacity.{p.lower()}": v for p, v in CAPACITY_2020.items()
    }
    out["kb2020.capacity.all"] = sum(CAPACITY_2020.values())
    out["kb2020.ever_sheltered.all"] = len(cov)
    pres = present(cov, KB)
    out["kb2020.present.all"] = len(pres)
    ex = exited_before(cov, KB)
    r = ex.exit_reason.astype(str)
    dep = r.isin(["return_origin", "onward_migration"])
    out["kb2020.residence.all"] = int((r == "residence_permit").sum())
    out["kb2020.departure.all"] = int(dep.sum())
    out["kb2020.durable.all"] = out["kb2020.residence.all"] + out["kb2020.departure.all"]
    for p in CAPACITY_2020:
        out[f"kb2020.departure.{p.lower()}"] = int((dep & (ex.pilot == p)).sum())
    for key, reason in [("subsequent_asylum", "subsequent_asylum"), ("art64", "art64_postponement"),
                        ("unknown_destination", "unknown_destination"), ("back_to_bbb", "back_to_bbb"),
                        ("forced_termination", "forced_termination")]:
        out[f"kb2020.{key}.all"] = int((r == reason).sum())
    sc = pres[pres.scenario.notna() & (pres.scenario_date <= KB)]
    out["kb2020.scenario.all"] = len(sc)
    out["kb2020.scenario_residence.all"] = int((sc.scenario == "residence").sum())
    out["kb2020.scenario_departure.all"] = int((sc.scenario == "departure").sum())
    for p in CAPACITY_2020:
        out[f"kb2020.scenario_departure.{p.lower()}"] = int(((sc.scenario == "departure") & (sc.pilot == p)).sum())
    mrt = cov[cov.mrt_date.notna() & (cov.mrt_date <= KB)]
    out["kb2020.mrt_cases.all"] = len(mrt)
    out["kb2020.mrt_no_durable.all"] = int((mrt.mrt_conclusion == "no_durable_solution").sum())
    returned = ex[r == "return_origin"].country_of_origin.astype(str).value_counts()
    for c in ("ARM", "CHN", "NGA"):
        out[f"kb2020.return_country.{c.lower()}"] = int(returned.get(c, 0))
    out["_max_other_return_country"] = int(returned.drop(["ARM", "CHN", "NGA", "nan"], errors="ignore").max())
    return out


def ppe2019_figures(s: pd.DataFrame) -> dict[str, object]:
    adm = s[s.admission_date <= PPE]
    pres = present(s, PPE)
    out: dict[str, object] = {
        "ppe2019.scenario_base.amsterdam": int((adm.pilot == "Amsterdam").sum()),
        "ppe2019.scenario_base.eindhoven": int((adm.pilot == "Eindhoven").sum()),
        "ppe2019.scenario_base.groningen": int(((pres.pilot == "Groningen") & pres.in_covenant).sum()),
        "ppe2019.scenario_base.rotterdam": int(((pres.pilot == "Rotterdam") & pres.in_covenant).sum()),
        "ppe2019.scenario_base.utrecht": int((pres.pilot == "Utrecht").sum()),
    }
    in_cov = pres[pres.in_covenant].pilot.astype(str).value_counts()
    out["ppe2019.free_places.all"] = "yes" if all(in_cov.get(p, 0) < c for p, c in CAPACITY_2020.items()) else "no"
    return out


def ee2022_figures(s: pd.DataFrame) -> dict[str, object]:
    cov = s[s.in_covenant & (s.admission_date <= EE)].sort_values(["person_id", "admission_date"])
    last = cov.groupby("person_id").tail(1)
    leavers = last[last.exit_date.notna() & (last.exit_date < EE)]
    r = leavers.exit_reason.astype(str)
    durable = r.isin(["residence_permit", "return_origin", "onward_migration"]).sum()
    semi = r.isin(["subsequent_asylum", "art64_postponement"]).sum()
    n = len(leavers)
    return {
        "ee2022.participants.all": cov.person_id.nunique(),
        "ee2022.leavers.all": n,
        "ee2022.durable.share": round(100 * durable / n),
        "ee2022.semi_durable.share": round(100 * semi / n),
        "ee2022.no_solution.share": round(100 * (n - durable - semi) / n),
    }
