"""The data-generating process of the SYNTHETIC LVV cohort (individual-level truth).

Exits arise from constant cause-specific hazards (per day) that depend on pilot, 24-hour shelter,
guidance intensity, prior departure procedures, safe country, asylum background, age, sex, family
and a hidden medical factor that is never delivered. The defaults are documented in
``params.yaml`` beside this module; :func:`simulate_cohort` draws an uncalibrated cohort of any
size, and :mod:`lvv_eval.synth.calibrate` builds the calibrated default from the same pieces.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from lvv_eval.config import DATA_CUT_DATE, DEMO_PSEUDONYM_KEY, PILOTS
from lvv_eval.pseudonym import person_keys
from lvv_eval.schema import EXIT_REASONS, coerce_stays

PARAMS_YAML = Path(__file__).with_name("params.yaml")
EPOCH = np.datetime64("2019-01-01", "D")
CAUSES: tuple[str, ...] = EXIT_REASONS
DURABLE_CAUSES = ("residence_permit", "return_origin", "onward_migration")
COVARIATES: tuple[str, ...] = (
    "shelter_24h",
    "intensity_intensive",
    "intensity_light",
    "prior_procedures",
    "safe_country",
    "asylum_background",
    "age_per_10y",
    "female",
    "family",
    "medical",
    "dublin_claimant",
)


def day_of(d: date | str) -> int:
    """Days since 2019-01-01 (the toolkit's internal day count)."""
    return int((np.datetime64(str(d), "D") - EPOCH).astype(int))


def to_datetime(days: np.ndarray) -> pd.Series:
    """Internal day counts (float NaN = missing) as datetime64[ns]."""
    days = np.asarray(days, dtype="float64")
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = ~np.isnan(days)
    out[ok] = (EPOCH + days[ok].astype("int64")).astype("datetime64[ns]")
    return pd.Series(out)


CUT_DAY = day_of(DATA_CUT_DATE)


@dataclass(frozen=True)
class DGPParams:
    """Parameters of the data-generating process (defaults: ``params.yaml``)."""

    values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def default(cls) -> DGPParams:
        """The documented defaults."""
        with open(PARAMS_YAML, encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh))

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def override(self, **changes: Any) -> DGPParams:
        """A copy with values replaced; nested keys as ``log_hazard_ratios__return_origin__medical``."""
        new = copy.deepcopy(dict(self.values))
        for dotted, value in changes.items():
            keys = dotted.split("__")
            node = new
            for k in keys[:-1]:
                node = node.setdefault(k, {})
            if keys[-1] not in node and len(keys) == 1:
                raise KeyError(f"unknown DGP parameter {dotted!r}")
            node[keys[-1]] = value
        return DGPParams(new)

    def log_hr_matrix(self) -> np.ndarray:
        """Log hazard ratios as a (causes x covariates) array."""
        lhr = self["log_hazard_ratios"]
        return np.array([[float(lhr.get(c, {}).get(v, 0.0)) for v in COVARIATES] for c in CAUSES])

    def truth(self) -> dict[str, Any]:
        """The parameters that tests compare estimators against (written to truth.json)."""
        base = self["baseline_hazard_per_day"]
        pilot_hr = self["pilot_hazard_ratio"]
        return {
            "covariates": list(COVARIATES),
            "log_hazard_ratios": {
                c: {v: float(self["log_hazard_ratios"].get(c, {}).get(v, 0.0)) for v in COVARIATES}
                for c in CAUSES
            },
            "baseline_hazard_per_day": {
                c: {p: float(base[c]) * float(pilot_hr.get(p, {}).get(c, 1.0))
                    * float(self["pilot_all_causes_hazard_ratio"].get(p, 1.0)) for p in PILOTS}
                for c in CAUSES
            },
            "return_country_hazard_ratio": dict(self["return_country_hazard_ratio"]),
            "reference_person": "official registration, standard guidance, night shelter, no prior "
            "procedure, not from a safe country, no asylum background, age 40, male, no medical "
            "problem, not in a family, not a Dublin claimant",
            "parameters": copy.deepcopy(dict(self.values)),
        }


@dataclass
class SyntheticCohort:
    """A synthetic cohort: the clean truth in the ``stays`` contract plus what is never delivered."""

    stays: pd.DataFrame
    hidden: pd.DataFrame
    non_participants: pd.DataFrame
    truth: dict[str, Any]
    seed: int
    calibrated: bool


# --------------------------------------------------------------------------- people


def _draw_countries(pilot: np.ndarray, rng: np.random.Generator, p: DGPParams) -> np.ndarray:
    weights = p["country_weights"]
    codes = np.array(list(weights), dtype=object)
    w = np.array([float(weights[c]) for c in codes])
    safe = np.isin(codes, p["safe_countries"])
    custom = p["safe_country_weight"]
    out = np.empty(len(pilot), dtype=object)
    groups = [(~np.isin(pilot, list(custom)), 1.0)] + [(pilot == pl, float(k)) for pl, k in custom.items()]
    for mask, safe_weight in groups:
        wp = w * np.where(safe, safe_weight, 1.0)
        out[mask] = rng.choice(codes, size=int(mask.sum()), p=wp / wp.sum())
    unknown = rng.random(len(pilot)) < p["p_country_unknown"]
    out[unknown] = None
    return out


def _draw_prior_procedures(n: int, rng: np.random.Generator, p: DGPParams) -> np.ndarray:
    pp = p["prior_procedures"]
    size = pp["nb_size"]
    prob = size / (size + pp["nb_mean"] - 1.0)
    k = 1 + rng.negative_binomial(size, prob, size=n)
    return np.where(rng.random(n) < pp["p_zero"], 0, np.minimum(k, 40))


def _logit_draw(lin: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.random(len(lin)) < 1.0 / (1.0 + np.exp(-lin))


def draw_people(frame: pd.DataFrame, rng: np.random.Generator, p: DGPParams) -> pd.DataFrame:
    """Add the person covariates to a frame with ``pilot``, ``admission_day``, ``exclusion_reason``."""
    n = len(frame)
    pilot = frame["pilot"].to_numpy(dtype=object)
    excl = frame["exclusion_reason"].to_numpy(dtype=object)
    out = frame.copy()
    u = rng.random(n)
    out["sex"] = np.where(u < p["p_sex_unknown"], "unknown",
                          np.where(u < p["p_sex_unknown"] + p["p_female"], "female", "male"))
    family = (excl == "family_rijksopvang") | (rng.random(n) < p["p_family_in_covenant"])
    age = np.clip(rng.normal(p["age_mean"], p["age_sd"], n), p["age_min"], p["age_max"])
    age = np.where(family, np.clip(age - 6, 22, 55), age)
    adm = frame["admission_day"].to_numpy()
    birth_day = np.floor(adm - age * 365.25 - rng.random(n) * 30).astype("float64")
    birth_day[rng.random(n) < p["p_age_unknown"]] = np.nan
    out["birth_day"] = birth_day
    out["age_at_admission"] = whole_years(birth_day, adm)
    country = _draw_countries(pilot, rng, p)
    out["country_of_origin"] = country
    out["safe_country"] = pd.array(
        [None if c is None else c in p["safe_countries"] for c in country], dtype="boolean"
    )
    out["asylum_background"] = rng.random(n) < p["p_asylum_background"]
    out["family"] = family
    out["n_prior_departure_procedures"] = _draw_prior_procedures(n, rng, p)
    medical = rng.random(n) < p["p_medical"]
    out["medical"] = medical
    sh = p["shelter_24h"]
    safe = out["safe_country"].fillna(False).to_numpy(dtype=bool)
    lin = (
        np.array([sh["base"][x] for x in pilot], dtype=float)
        + sh["medical"] * medical
        + sh["asylum_background"] * out["asylum_background"].to_numpy()
        + sh["per_prior_procedure"] * out["n_prior_departure_procedures"].to_numpy()
        + sh["safe_country"] * safe
    )
    h24 = _logit_draw(lin, rng)
    out["shelter_24h"] = h24
    out["guidance_intensity"] = _draw_guidance(pilot, h24, rng, p)
    return out


def whole_years(birth_day: np.ndarray, on_day: np.ndarray) -> pd.array:
    """Age in whole years on a day, from day counts (NaN birth day gives <NA>)."""
    b = to_datetime(birth_day)
    d = to_datetime(on_day)
    years = d.dt.year - b.dt.year
    before_birthday = (d.dt.month < b.dt.month) | (
        (d.dt.month == b.dt.month) & (d.dt.day < b.dt.day)
    )
    return pd.array(years - before_birthday.astype("Int64"), dtype="Int64")


def _draw_guidance(pilot: np.ndarray, h24: np.ndarray, rng, p: DGPParams) -> np.ndarray:
    levels = np.array(["light", "standard", "intensive"], dtype=object)
    out = np.empty(len(pilot), dtype=object)
    u = rng.random(len(pilot))
    for key, flag in (("night", False), ("h24", True)):
        for pil, probs in p["guidance"][key].items():
            m = (pilot == pil) & (h24 == flag)
            cum = np.cumsum(probs)
            out[m] = levels[np.searchsorted(cum / cum[-1], u[m], side="right").clip(0, 2)]
    out[rng.random(len(pilot)) < p["p_guidance_unknown"]] = None
    return out


def covariate_matrix(people: pd.DataFrame) -> np.ndarray:
    """The (n x covariates) design of the hazard model, in :data:`COVARIATES` order."""
    g = people["guidance_intensity"].astype("object")
    cols = {
        "shelter_24h": people["shelter_24h"].astype(float),
        "intensity_intensive": (g == "intensive").astype(float),
        "intensity_light": (g == "light").astype(float),
        "prior_procedures": people["n_prior_departure_procedures"].astype(float),
        "safe_country": people["safe_country"].astype("boolean").fillna(False).astype(float),
        "asylum_background": people["asylum_background"].astype(float),
        "age_per_10y": (people["age_at_admission"].astype("Float64").fillna(40.0) - 40.0) / 10.0,
        "female": (people["sex"].astype("object") == "female").astype(float),
        "family": people["family"].astype(float),
        "medical": people["medical"].astype(float),
        "dublin_claimant": (people["exclusion_reason"].astype("object") == "dublin_claimant").astype(float),
    }
    return np.column_stack([np.asarray(cols[c], dtype=float) for c in COVARIATES])


def cause_hazards(people: pd.DataFrame, p: DGPParams) -> np.ndarray:
    """Cause-specific hazards per day, (n x causes)."""
    x = covariate_matrix(people)
    base = p["baseline_hazard_per_day"]
    pilot_hr = p["pilot_hazard_ratio"]
    pilots = people["pilot"].to_numpy(dtype=object)
    b = np.array([[float(base[c]) * float(pilot_hr.get(pl, {}).get(c, 1.0)) for c in CAUSES]
                  for pl in PILOTS])
    b *= np.array([float(p["pilot_all_causes_hazard_ratio"].get(pl, 1.0)) for pl in PILOTS])[:, None]
    pilot_idx = pd.Categorical(pilots, categories=list(PILOTS)).codes
    haz = b[pilot_idx] * np.exp(x @ p.log_hr_matrix().T)
    haz[:, CAUSES.index("return_origin")] *= return_country_ratio(
        people["country_of_origin"], p["return_country_hazard_ratio"])
    return haz


def return_country_ratio(country: pd.Series, ratios: Mapping[str, float]) -> np.ndarray:
    """Hazard ratio of return to the country of origin per person (1 where unknown or unlisted)."""
    return pd.Series(country).astype("object").map(dict(ratios)).fillna(1.0).to_numpy(dtype=float)


def gumbel_cause_scores(hazards: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Log cause probabilities plus Gumbel noise: the argmax is a draw of the exit reason."""
    with np.errstate(divide="ignore"):
        logp = np.log(hazards) - np.log(hazards.sum(axis=1, keepdims=True))
    return logp + rng.gumbel(size=hazards.shape)


# --------------------------------------------------------------------------- exit times


def durations(adm_day: np.ndarray, effort: np.ndarray, bounds: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """Time to exit (days, continuous) under calendar-period hazard multipliers.

    ``effort`` is each person's unit-exponential draw divided by their total hazard: the number of
    reference days they need; ``bounds`` the K-1 calendar period boundaries (day counts);
    ``mult`` (n x K) the multiplier each person has in each period.
    """
    n = len(adm_day)
    t = np.full(n, np.inf)
    remaining = effort.astype(float).copy()
    cur = adm_day.astype(float).copy()
    done = np.zeros(n, dtype=bool)
    edges = list(bounds) + [np.inf]
    for j, end in enumerate(edges):
        seg = np.clip(end - cur, 0.0, None)
        cap = seg * mult[:, j]
        hit = ~done & (remaining <= cap) & (mult[:, j] > 0)
        t[hit] = (cur - adm_day)[hit] + remaining[hit] / mult[hit, j]
        done |= hit
        remaining = np.where(done, 0.0, remaining - cap)
        cur = np.maximum(cur, end)
    return t


def exit_day_or_nan(adm_day: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Exit day (last night) from a continuous duration; NaN when on or after the data cut."""
    ex = adm_day + np.floor(t)
    return np.where(ex < CUT_DAY, ex, np.nan)


# --------------------------------------------------------------------------- scenario and MRT


def scenario_logits(people: pd.DataFrame, p: DGPParams) -> np.ndarray:
    """Linear predictors (n x 3) for scenario none, departure, residence."""
    sc = p["scenario"]
    safe = people["safe_country"].astype("boolean").fillna(False).to_numpy(dtype=float)
    ab = people["asylum_background"].to_numpy(dtype=float)
    pp = people["n_prior_departure_procedures"].to_numpy(dtype=float)
    med = people["medical"].to_numpy(dtype=float)
    dep = sc["departure"]
    res = sc["residence"]
    pilots = people["pilot"].astype("object").to_numpy()
    lin_dep = dep["base"] + np.array([dep["pilot"][x] for x in pilots]) + dep["safe_country"] * safe + dep["asylum_background"] * ab + dep["per_prior_procedure"] * pp
    lin_res = res["base"] + np.array([res["pilot"][x] for x in pilots]) + res["safe_country"] * safe + res["asylum_background"] * ab + res["medical"] * med
    return np.column_stack([np.zeros(len(people)), lin_dep, lin_res])


def draw_scenarios(stays: pd.DataFrame, rng: np.random.Generator, p: DGPParams) -> pd.DataFrame:
    """Scenario type and date per stay (null when none was set before the stay ended)."""
    lin = scenario_logits(stays, p)
    kind = np.argmax(lin + rng.gumbel(size=lin.shape), axis=1)
    delay = np.floor(rng.exponential(p["scenario"]["mean_delay_days"], len(stays)))
    sdate = stays["admission_day"].to_numpy() + delay
    end = stays["exit_day"].fillna(CUT_DAY).to_numpy()
    ok = (kind > 0) & (sdate <= end)
    names = np.array([None, "departure", "residence"], dtype=object)
    return pd.DataFrame({
        "scenario": np.where(ok, names[kind], None),
        "scenario_day": np.where(ok, sdate, np.nan),
    }, index=stays.index)


def draw_mrt(stays: pd.DataFrame, rng: np.random.Generator, p: DGPParams) -> pd.DataFrame:
    """MRT referral, date and conclusion per stay (in-covenant stays only)."""
    m = p["mrt"]
    n = len(stays)
    adm = stays["admission_day"].to_numpy()
    end = stays["exit_day"].fillna(CUT_DAY).to_numpy()
    mdate = adm + rng.integers(m["min_days"], m["max_days"], n)
    ref = (rng.random(n) < m["p_referred"]) & (mdate <= end) & stays["in_covenant"].to_numpy(dtype=bool)
    concl = np.array(list(m["conclusions"]), dtype=object)
    w = np.array(list(m["conclusions"].values()), dtype=float)
    c = rng.choice(concl, size=n, p=w / w.sum())
    return pd.DataFrame({
        "mrt_referred": ref,
        "mrt_day": np.where(ref, mdate, np.nan),
        "mrt_conclusion": np.where(ref, c, None),
    }, index=stays.index)


# --------------------------------------------------------------------------- ids and assembly


def source_ids(pilot: np.ndarray, rng: np.random.Generator, p: DGPParams | None = None) -> np.ndarray:
    """Unique source identifiers: V-numbers (10 digits), or a pilot's own client-number format."""
    formats = (p or DGPParams.default())["source_id_formats"]
    out = np.empty(len(pilot), dtype=object)
    other = np.ones(len(pilot), dtype=bool)
    for pl, template in formats.items():
        mask = pilot == pl
        other &= ~mask
        digits = int(template.split(":")[1].rstrip("d}"))
        out[mask] = [template.format(v) for v in _unique_ints(int(mask.sum()), 10 ** (digits - 1), 10**digits, rng)]
    out[other] = [f"{v:010d}" for v in _unique_ints(int(other.sum()), 10**9, 10**10, rng)]
    return out


def _unique_ints(n: int, low: int, high: int, rng: np.random.Generator) -> np.ndarray:
    v = np.unique(rng.integers(low, high, int(n * 1.2) + 10))
    while len(v) < n:
        v = np.unique(np.concatenate([v, rng.integers(low, high, n)]))
    return rng.permutation(v)[:n]


def assemble(stays: pd.DataFrame, non_participants: pd.DataFrame, truth: dict, seed: int,
             calibrated: bool) -> SyntheticCohort:
    """Turn the internal stay frame (day counts) into the contract tables."""
    stays = stays.sort_values(["pilot", "source_id", "seq"], kind="stable").reset_index(drop=True)
    pid = person_keys(stays["source_id"], stays["pilot"], DEMO_PSEUDONYM_KEY.encode())
    contract = pd.DataFrame({
        "stay_id": pid + "-" + stays["seq"].astype(str),
        "person_id": pid,
        "pilot": stays["pilot"],
        "source_file": None,
        "source_sheet": None,
        "source_row": pd.array([pd.NA] * len(stays), dtype="Int64"),
        "admission_date": to_datetime(stays["admission_day"].to_numpy()),
        "exit_date": to_datetime(stays["exit_day"].to_numpy()),
        "data_cut_date": pd.Timestamp(DATA_CUT_DATE),
        "exit_reason": stays["exit_reason"],
        "in_covenant": stays["in_covenant"],
        "exclusion_reason": stays["exclusion_reason"],
        "registration_group": stays["registration_group"],
        "sex": stays["sex"],
        "age_at_admission": stays["age_at_admission"],
        "country_of_origin": stays["country_of_origin"],
        "safe_country": stays["safe_country"],
        "asylum_background": stays["asylum_background"],
        "family": stays["family"],
        "n_prior_departure_procedures": stays["n_prior_departure_procedures"],
        "shelter_24h": stays["shelter_24h"],
        "guidance_intensity": stays["guidance_intensity"],
        "scenario": stays["scenario"],
        "scenario_date": to_datetime(stays["scenario_day"].to_numpy()),
        "mrt_referred": stays["mrt_referred"],
        "mrt_date": to_datetime(stays["mrt_day"].to_numpy()),
        "mrt_conclusion": stays["mrt_conclusion"],
    })
    hidden = pd.DataFrame({
        "stay_id": contract["stay_id"],
        "source_id": stays["source_id"].astype("str"),
        "medical": stays["medical"].astype(bool),
        "birth_date": to_datetime(stays["birth_day"].to_numpy()),
        "seq": stays["seq"].astype(int),
        "cause_of_latent_exit": stays["latent_cause"],
    })
    return SyntheticCohort(coerce_stays(contract), hidden, non_participants, truth, seed, calibrated)


# --------------------------------------------------------------------------- uncalibrated cohort


def _per_pilot(pilot: np.ndarray, values: Mapping[str, float]) -> np.ndarray:
    """A per-pilot parameter spread over people (0 for pilots it does not name)."""
    return pd.Series(pilot).map(dict(values)).fillna(0.0).to_numpy(dtype=float)


def intake_frame(n_people: int, rng: np.random.Generator, p: DGPParams) -> pd.DataFrame:
    """Pilot, admission day, covenant status and registration group for ``n_people`` first stays."""
    w = np.array([p["pilot_weights"][x] for x in PILOTS], dtype=float)
    pilot = rng.choice(np.array(PILOTS, dtype=object), size=n_people, p=w / w.sum())
    starts = {x: day_of(p["pilot_start"][x]) for x in PILOTS}
    start = pd.Series(pilot).map(starts).to_numpy(dtype=float)
    last = CUT_DAY - 1
    adm = start + np.floor(rng.random(n_people) * (last - start + 1))
    initial = rng.random(n_people) < _per_pilot(pilot, p["initial_intake_share"])
    adm = np.where(initial, start, adm)
    excl = np.full(n_people, None, dtype=object)
    u = rng.random(n_people)
    for pl, shares in p["out_of_covenant"].items():
        acc = 0.0
        for reason, share in shares.items():
            m = (pilot == pl) & (u >= acc) & (u < acc + share)
            excl[m] = reason
            acc += share
    reg = np.where(rng.random(n_people) < _per_pilot(pilot, p["pre_lso_share"]), "pre_lso", "official")
    return pd.DataFrame({"pilot": pilot, "admission_day": adm.astype(float), "exclusion_reason": excl,
                         "in_covenant": excl == None, "registration_group": reg})  # noqa: E711


def add_exits(people: pd.DataFrame, rng: np.random.Generator, p: DGPParams,
              bounds: np.ndarray | None = None, mult: np.ndarray | None = None,
              ) -> tuple[pd.DataFrame, np.ndarray]:
    """Exit day and reason drawn from the cause-specific hazards (optionally period multipliers).

    Returns the frame with ``effort``, ``exit_day``, ``latent_cause`` and ``exit_reason`` added, and
    the Gumbel cause scores (n x causes) whose argmax is the latent cause.
    """
    haz = cause_hazards(people, p)
    total = haz.sum(axis=1)
    effort = rng.exponential(size=len(people)) / total
    scores = gumbel_cause_scores(haz, rng)
    if bounds is None:
        bounds = np.array([], dtype=float)
        mult = np.ones((len(people), 1))
    adm = people["admission_day"].to_numpy(dtype=float)
    t = durations(adm, effort, bounds, mult)
    out = people.copy()
    out["effort"] = effort
    out["exit_day"] = exit_day_or_nan(adm, t)
    out["latent_cause"] = np.array(CAUSES, dtype=object)[np.argmax(scores, axis=1)]
    out["exit_reason"] = np.where(np.isnan(out["exit_day"]), None, out["latent_cause"])
    return out, scores


def draw_readmissions(first: pd.DataFrame, rng: np.random.Generator, p: DGPParams) -> pd.DataFrame:
    """Second stays of people who left without a durable solution (never before 2020-11-02)."""
    left = first["exit_day"].notna().to_numpy() & ~first["exit_reason"].isin(DURABLE_CAUSES + ("deceased",)).to_numpy()
    pick = left & (rng.random(len(first)) < p["p_readmission"])
    gap = 14 + np.floor(rng.exponential(p["readmission_gap_mean_days"], len(first)))
    re_day = np.maximum(first["exit_day"].to_numpy() + gap, day_of(p["earliest_readmission"]))
    pick &= re_day < CUT_DAY - 1
    second = first.loc[pick].copy()
    second["admission_day"] = re_day[pick]
    second["seq"] = 2
    born = second["birth_day"].to_numpy()
    second["age_at_admission"] = whole_years(born, second["admission_day"].to_numpy())
    return second


def non_participants_for(pilot: str, n: int, rng: np.random.Generator, p: DGPParams) -> pd.DataFrame:
    """Municipal-shelter-only users listed in a delivery who never joined the LVV.

    They are drawn like participants (the municipality registers them in the same columns, exits
    and their reasons included), so that only the participation flag tells them apart.
    """
    start = day_of(p["pilot_start"][pilot])
    adm = start + np.floor(rng.random(n) * (CUT_DAY - 1 - start))
    frame = pd.DataFrame({"pilot": np.full(n, pilot, dtype=object), "admission_day": adm,
                          "exclusion_reason": None, "in_covenant": True, "registration_group": "official"})
    people, _ = add_exits(draw_people(frame, rng, p), rng, p)
    return pd.DataFrame({
        "source_id": source_ids(np.full(n, pilot, dtype=object), rng, p),
        "pilot": pilot,
        "admission_date": to_datetime(adm),
        "exit_date": to_datetime(people["exit_day"].to_numpy()),
        "exit_reason": people["exit_reason"].to_numpy(),
        "sex": people["sex"].to_numpy(),
        "birth_date": to_datetime(people["birth_day"].to_numpy()),
        "age_at_admission": people["age_at_admission"].to_numpy(),
        "country_of_origin": people["country_of_origin"].to_numpy(),
        "safe_country": people["safe_country"].to_numpy(),
        "asylum_background": people["asylum_background"].to_numpy(),
        "family": people["family"].to_numpy(),
        "n_prior_departure_procedures": people["n_prior_departure_procedures"].to_numpy(),
        "shelter_24h": people["shelter_24h"].to_numpy(),
        "guidance_intensity": people["guidance_intensity"].to_numpy(),
        "registration_group": "official",
        "in_covenant": True,
        "mrt_referred": False,
    })


def finish_stays(stays: pd.DataFrame, rng: np.random.Generator, p: DGPParams) -> pd.DataFrame:
    """Add scenario and MRT to stays that have their exits."""
    stays = stays.join(draw_scenarios(stays, rng, p)).join(draw_mrt(stays, rng, p))
    return stays


def simulate_cohort(n_people: int, seed: int = 1, params: DGPParams | None = None) -> SyntheticCohort:
    """An uncalibrated synthetic cohort of ``n_people`` persons from the data-generating process."""
    if n_people < 1:
        raise ValueError(f"n_people must be a positive number of people, got {n_people}")
    p = params or DGPParams.default()
    rng = np.random.default_rng(seed)
    first = draw_people(intake_frame(n_people, rng, p), rng, p)
    first["source_id"] = source_ids(first["pilot"].to_numpy(dtype=object), rng, p)
    first["seq"] = 1
    first, _ = add_exits(first, rng, p)
    second = draw_readmissions(first, rng, p)
    if len(second):
        second, _ = add_exits(second.drop(columns=["exit_day", "exit_reason", "latent_cause", "effort"]), rng, p)
    stays = pd.concat([first, second], ignore_index=True)
    stays = finish_stays(stays, rng, p)
    nonp = pd.concat([
        non_participants_for(pl, int(round((first["pilot"] == pl).sum() * ratio)), rng, p)
        for pl, ratio in p["non_participants_per_participant"].items()
    ], ignore_index=True)
    truth = p.truth() | {"mode": "uncalibrated", "seed": seed, "n_people": n_people}
    return assemble(stays, nonp, truth, seed, calibrated=False)
