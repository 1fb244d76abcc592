"""The calibrated SYNTHETIC default: the data-generating process conditioned on the published figures.

How the calibration adjusts the data-generating process, and why it is small:

1. Intake counts per pilot, period and covenant status are fixed by ``calibration.yaml`` (their
   totals are hard figures; the splits are documented design choices). Covariates are drawn from
   the data-generating process as in uncalibrated mode.
2. Exit *times*: every person keeps their own exponential draw and covariate effects; only a
   baseline-hazard multiplier per pilot and calendar period (pilot start to 2019-12-31, to
   2020-11-01, to the data cut) is solved so that exactly the published number is present at
   each reference date. Each person's crossing multiplier is known in closed form, so the solve is
   a sort, not an iteration. Covariate effects (the log hazard ratios of ``truth.json``) are
   untouched.
3. Exit *reasons*: each exit has Gumbel-perturbed log cause probabilities whose argmax is its
   uncalibrated reason. Where a published cell (for example departures in Groningen) needs more or
   fewer exits of a kind, the exits relabelled are those that lose the least score; everyone else
   keeps their drawn reason. The number relabelled is reported in ``truth.json``.
4. Countries of return, scenarios on 2020-11-01 and MRT cases are adjusted likewise, minimally.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from lvv_eval.config import PILOTS, PUBLISHED_FIGURES_CSV
from lvv_eval.synth.dgp import (
    CAUSES,
    CUT_DAY,
    DGPParams,
    SyntheticCohort,
    add_exits,
    assemble,
    cause_hazards,
    day_of,
    draw_mrt,
    draw_people,
    draw_scenarios,
    durations,
    exit_day_or_nan,
    gumbel_cause_scores,
    non_participants_for,
    scenario_logits,
    source_ids,
    whole_years,
)

PLAN_YAML = Path(__file__).with_name("calibration.yaml")
DEFAULT_SEED = 20191
B1 = day_of("2019-12-31")  # plan- en procesevaluatie reference date
B2 = day_of("2020-11-01")  # 2020 letter reference date
BOUNDS = np.array([B1, B2], dtype=float)


class CalibrationError(RuntimeError):
    """The calibration plan cannot be met (inconsistent with the figures or infeasible)."""


# --------------------------------------------------------------------------- plan and figures


def load_figures(path: Path = PUBLISHED_FIGURES_CSV) -> dict[str, str]:
    """Published values by figure id (as text)."""
    with open(path, encoding="utf-8") as fh:
        return {row["figure_id"]: row["value"] for row in csv.DictReader(fh)}


def figure_int(figures: dict[str, str], figure_id: str) -> int:
    """A published count as an integer."""
    try:
        return int(figures[figure_id])
    except (KeyError, ValueError) as exc:
        raise CalibrationError(f"figure {figure_id!r} is not a published count") from exc


def load_plan(path: Path = PLAN_YAML) -> dict[str, Any]:
    """The calibration plan (``calibration.yaml``)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def check_plan(plan: dict[str, Any], figures: dict[str, str]) -> None:
    """Raise :class:`CalibrationError` when the plan's design splits do not add up to the figures."""
    intake = plan["in_covenant_intake"]
    for check in plan["intake_checks"]:
        total = sum(intake[p].get(k, 0) for p in PILOTS for k in check["sum_of"])
        if total != figure_int(figures, check["figure"]):
            raise CalibrationError(f"intake {check['sum_of']} sums to {total}, not {check['figure']}")
    for check in plan["base_checks"]:
        pilot = check["pilot"]
        total = sum(intake[pilot].get(k, 0) for k in check["periods"])
        total += sum(v.get(k, 0) for v in plan["out_of_covenant_intake"].get(pilot, {}).values()
                     for k in check["periods"])
        if total != figure_int(figures, check["figure"]):
            raise CalibrationError(f"{pilot} intake {total} does not match {check['figure']}")
    if sum(plan["present_2020"].values()) != figure_int(figures, plan["present_2020_figure"]):
        raise CalibrationError("present_2020 does not add up to the 2020 letter's present figure")
    persons = sum(sum(v.values()) for v in intake.values())
    leavers = persons - sum(plan["present_2022"].values())
    if leavers != figure_int(figures, plan["leavers_figure"]):
        raise CalibrationError(f"present_2022 leaves {leavers} leavers, not {plan['leavers_figure']}")


# --------------------------------------------------------------------------- intake


def _period_days(plan: dict[str, Any], period: str, pilot: str, p: DGPParams) -> tuple[int, int]:
    spec = plan["periods"][period]
    start = p["pilot_start"][pilot] if spec["start"] == "pilot_start" else spec["start"]
    return day_of(start), day_of(spec["end"])


def calibrated_intake(plan: dict[str, Any], p: DGPParams, rng: np.random.Generator) -> pd.DataFrame:
    """First stays with pilot, period, admission day, covenant status and registration group."""
    rows: list[pd.DataFrame] = []

    def block(pilot: str, period: str, n: int, reason: str | None) -> None:
        if n <= 0:
            return
        lo, hi = _period_days(plan, period, pilot, p)
        adm = lo + np.floor(rng.random(n) * (hi - lo + 1))
        rows.append(pd.DataFrame({"pilot": pilot, "period": period, "admission_day": adm,
                                  "exclusion_reason": reason, "in_covenant": reason is None}))

    for pilot, per in plan["in_covenant_intake"].items():
        for period, n in per.items():
            block(pilot, period, int(n), None)
    for pilot, reasons in plan["out_of_covenant_intake"].items():
        for reason, per in reasons.items():
            for period, n in per.items():
                block(pilot, period, int(n), reason)
    frame = pd.concat(rows, ignore_index=True)
    for pilot, n_initial in plan["initial_intake"].items():
        first_period = np.flatnonzero(((frame["pilot"] == pilot) & (frame["period"] == "P1")
                                       & frame["in_covenant"]).to_numpy())
        initial = rng.choice(first_period, size=int(n_initial), replace=False)
        frame.loc[initial, "admission_day"] = float(day_of(p["pilot_start"][pilot]))
    share = frame["pilot"].map(plan["pre_lso_share"]).fillna(0.0).to_numpy(dtype=float)
    pre = rng.random(len(frame)) < share
    frame["registration_group"] = np.where(pre, "pre_lso", "official")
    return frame


# --------------------------------------------------------------------------- solving multipliers


def solve_multiplier(crossings: np.ndarray, n_exits: int, what: str) -> float:
    """A multiplier at which exactly ``n_exits`` of the crossings lie below it."""
    c = np.sort(crossings[np.isfinite(crossings)])
    if n_exits < 0 or n_exits > len(c):
        raise CalibrationError(f"{what}: {n_exits} exits needed, {len(c)} possible")
    if n_exits == 0:
        return float(c[0] / 2) if len(c) else 1.0
    if n_exits == len(c):
        return float(c[-1] * 1.5)
    return float(np.sqrt(c[n_exits - 1] * c[n_exits]))


def _exposure(adm: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Days of [lo, hi) after admission."""
    return np.clip(hi - np.maximum(adm, lo), 0.0, None)


@dataclass
class ExitPlan:
    """Calendar-period multipliers per pilot, and what they were solved for."""

    mult: dict[str, list[float]]

    def matrix(self, pilots: np.ndarray) -> np.ndarray:
        return np.array([self.mult[x] for x in PILOTS])[pd.Categorical(pilots, categories=list(PILOTS)).codes]


def solve_p1_p2(first: pd.DataFrame, plan: dict[str, Any], figures: dict[str, str]) -> ExitPlan:
    """Multipliers for periods 1 and 2 per pilot (present on 2019-12-31 and on 2020-11-01)."""
    mult = {pl: [1.0, 1.0, 1.0] for pl in PILOTS}
    adm = first["admission_day"].to_numpy()
    eff = first["effort"].to_numpy()
    e1 = _exposure(adm, -np.inf, B1)
    e2 = _exposure(adm, B1, B2)
    for pilot in PILOTS:
        pm = (first["pilot"] == pilot).to_numpy()
        spec = plan["present_2019"].get(pilot)
        if spec is not None:
            sel = pm & (adm <= B1) & (first["in_covenant"].to_numpy() if spec["covenant"] == "in" else True)
            need = int(sel.sum()) - figure_int(figures, spec["figure"])
            with np.errstate(divide="ignore"):
                cross = np.where(e1[sel] > 0, eff[sel] / e1[sel], np.inf)
            mult[pilot][0] = solve_multiplier(cross, need, f"{pilot} present 2019-12-31")
        m1 = mult[pilot][0]
        sel = pm & (adm <= B2) & first["in_covenant"].to_numpy()
        gone = eff[sel] < m1 * e1[sel]
        need = int(sel.sum()) - int(plan["present_2020"][pilot]) - int(gone.sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            cross = np.where(~gone & (e2[sel] > 0), (eff[sel] - m1 * e1[sel]) / e2[sel], np.inf)
        mult[pilot][1] = solve_multiplier(cross, need, f"{pilot} present 2020-11-01")
    return ExitPlan(mult)


def solve_p3(stays: pd.DataFrame, plan: ExitPlan, present_2022: dict[str, int]) -> None:
    """Period-3 multiplier per pilot: the number of in-covenant persons present on the data cut."""
    for pilot in PILOTS:
        m1, m2, _ = plan.mult[pilot]
        s = stays[(stays["pilot"] == pilot).to_numpy() & stays["in_covenant"].to_numpy()]
        last = s.sort_values("seq").groupby("source_id").tail(1)
        adm = last["admission_day"].to_numpy()
        eff = last["effort"].to_numpy()
        pre = m1 * _exposure(adm, -np.inf, B1) + m2 * _exposure(adm, B1, B2)
        e3 = _exposure(adm, B2, CUT_DAY)
        gone = eff < pre
        need = len(last) - int(present_2022[pilot]) - int(gone.sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            cross = np.where(~gone & (e3 > 0), (eff - pre) / e3, np.inf)
        plan.mult[pilot][2] = solve_multiplier(cross, need, f"{pilot} present 2022-07-01")


def apply_exit_times(stays: pd.DataFrame, plan: ExitPlan) -> pd.DataFrame:
    """Exit days under the solved multipliers."""
    adm = stays["admission_day"].to_numpy()
    t = durations(adm, stays["effort"].to_numpy(), BOUNDS, plan.matrix(stays["pilot"].to_numpy()))
    out = stays.copy()
    out["exit_day"] = exit_day_or_nan(adm, t)
    return out


# --------------------------------------------------------------------------- relabelling


@dataclass(frozen=True)
class Cell:
    """Exactly ``target`` of the rows in ``mask`` get one of ``labels``."""

    mask: np.ndarray
    labels: tuple[int, ...]
    target: int
    name: str


def assign_to_cells(scores: np.ndarray, cells: Sequence[Cell], rest: Sequence[int],
                    rng: np.random.Generator) -> np.ndarray:
    """Labels (column indices of ``scores``) meeting every cell's target with the least score lost.

    Cells are filled in order; a row's cost for a cell is its best score minus its best score
    among the cell's labels (zero when its drawn label is in the cell). Rows no cell takes get
    their best label among ``rest``.
    """
    n = len(scores)
    assigned = np.full(n, -1)
    best = scores.max(axis=1)
    tiebreak = rng.random(n)
    for cell in cells:
        cand = np.flatnonzero(cell.mask & (assigned < 0))
        if len(cand) < cell.target:
            raise CalibrationError(f"{cell.name}: {cell.target} needed, {len(cand)} available")
        labels = np.array(cell.labels)
        sub = scores[np.ix_(cand, labels)]
        cost = best[cand] - sub.max(axis=1)
        order = np.lexsort((tiebreak[cand], cost))[: cell.target]
        assigned[cand[order]] = labels[np.argmax(sub[order], axis=1)]
    left = np.flatnonzero(assigned < 0)
    rest_idx = np.array(rest)
    assigned[left] = rest_idx[np.argmax(scores[np.ix_(left, rest_idx)], axis=1)]
    return assigned


def _cause_idx(names: Sequence[str]) -> tuple[int, ...]:
    return tuple(CAUSES.index(c) for c in names)


def calibrate_exit_reasons_2020(stays: pd.DataFrame, scores: np.ndarray, plan: dict[str, Any],
                                figures: dict[str, str], rng: np.random.Generator) -> np.ndarray:
    """Exit reasons (cause indices) for in-covenant exits before 2020-11-01; boolean mask too."""
    sel = (stays["exit_day"] < B2).to_numpy() & stays["in_covenant"].to_numpy()
    pilots = stays["pilot"].to_numpy()[sel]
    spec = plan["exits_2020"]
    cells = [Cell(pilots == pilot, _cause_idx(c["causes"]),
                  figure_int(figures, c["figure"].format(pilot=pilot.lower())), f"{c['figure']} {pilot}")
             for c in spec["per_pilot"] for pilot in PILOTS]
    totals = sorted(spec["total"], key=lambda c: figure_int(figures, c["figure"]))
    cells += [Cell(np.ones(len(pilots), bool), _cause_idx(c["causes"]),
                   figure_int(figures, c["figure"]), c["figure"]) for c in totals]
    return sel, assign_to_cells(scores[sel], cells, _cause_idx(spec["rest"]), rng)


def calibrate_return_countries(stays: pd.DataFrame, plan: dict[str, Any], figures: dict[str, str],
                               p: DGPParams, rng: np.random.Generator) -> int:
    """Exact counts for the published countries of return, every other country below them.

    Changes ``country_of_origin`` (and ``safe_country``) of the fewest returners; returns how many.
    """
    targets = {c: figure_int(figures, f) for c, f in plan["return_countries"].items()}
    cap = min(targets.values()) - 1
    ret = np.flatnonzero(((stays["exit_reason"] == "return_origin") & (stays["exit_day"] < B2)
                          & stays["in_covenant"]).to_numpy())
    country = np.array([None if pd.isna(c) else c for c in stays["country_of_origin"]], dtype=object)
    original = country.copy()
    counts = Counter(c for c in country[ret] if c is not None)
    pool: list[int] = []
    for c, k in counts.items():
        limit = targets.get(c, cap)
        if k > limit:
            members = [i for i in ret if country[i] == c]
            pool += list(rng.choice(members, size=k - limit, replace=False))
    in_pool = set(pool)
    donors = [i for i in ret if country[i] is not None and country[i] not in targets and i not in in_pool]
    for c, want in targets.items():
        missing = want - sum(1 for i in ret if country[i] == c and i not in in_pool)
        while missing > 0:
            if not pool:
                if not donors:
                    raise CalibrationError("not enough returners to place the published countries")
                pool.append(donors.pop(int(rng.integers(len(donors)))))
            country[pool.pop()] = c
            missing -= 1
    weights = {k: v for k, v in p["country_weights"].items() if k not in targets and k != "XXX"}
    names = list(weights)
    w = np.array([weights[k] for k in names], dtype=float)
    for i in pool:
        now = Counter(c for c in country[ret] if c is not None)
        ok = np.array([now.get(k, 0) < cap for k in names])
        country[i] = rng.choice(np.array(names, dtype=object)[ok], p=(w[ok] / w[ok].sum()))
    changed = int((country != original).sum())
    stays["country_of_origin"] = country
    stays["safe_country"] = pd.array([None if c is None else c in p["safe_countries"] for c in country],
                                     dtype="boolean")
    return changed


def leaver_class_targets(plan: dict[str, Any], figures: dict[str, str], n_leavers: int) -> dict[str, int]:
    """Leavers per class of the final evaluation whose shares round to the published percents."""
    classes = plan["leaver_classes"]
    shares = {k: float(figures[v["figure"]]) for k, v in classes.items()}
    counts = {k: int(round(shares[k] / 100 * n_leavers)) for k in ("durable", "semi_durable")}
    counts["none"] = n_leavers - sum(counts.values())
    for k, c in counts.items():
        if round(100 * c / n_leavers) != shares[k]:
            raise CalibrationError(f"no split of {n_leavers} leavers rounds to the published shares")
    return counts


def calibrate_leaver_classes(stays: pd.DataFrame, scores: np.ndarray, plan: dict[str, Any],
                             figures: dict[str, str], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Exit reasons of in-covenant last exits after 2020-11-01 so that leaver shares round right."""
    classes = plan["leaver_classes"]
    cov = stays["in_covenant"].to_numpy()
    is_last = ~stays.duplicated("source_id", keep="last").to_numpy()  # sorted by seq
    left = stays["exit_day"].notna().to_numpy() & cov & is_last
    early = left & (stays["exit_day"] < B2).to_numpy()
    late = left & ~early
    targets = leaver_class_targets(plan, figures, int(left.sum()))
    fixed = stays.loc[early, "exit_reason"]
    cells = []
    for name in ("durable", "semi_durable"):
        causes = classes[name]["causes"]
        need = targets[name] - int(fixed.isin(causes).sum())
        cells.append(Cell(np.ones(int(late.sum()), bool), _cause_idx(causes), need, f"leavers {name}"))
    in_class = {c for name in ("durable", "semi_durable") for c in classes[name]["causes"]}
    rest = _cause_idx([c for c in CAUSES if c not in in_class])
    return late, assign_to_cells(scores[late], cells, rest, rng)


def calibrate_scenarios(stays: pd.DataFrame, p: DGPParams, plan: dict[str, Any],
                        figures: dict[str, str], rng: np.random.Generator) -> int:
    """Scenario state on 2020-11-01 of in-covenant persons present; returns how many changed."""
    spec = plan["scenarios_2020"]
    adm = stays["admission_day"].to_numpy()
    ex = stays["exit_day"].to_numpy()
    sel = stays["in_covenant"].to_numpy() & (adm <= B2) & (np.isnan(ex) | (ex >= B2))
    mean = p["scenario"]["mean_delay_days"]
    lin = scenario_logits(stays.loc[sel], p)
    prob = np.exp(lin - lin.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    q = 1 - np.exp(-(B2 - adm[sel] + 1) / mean)  # set by the reference date, given a scenario
    state_p = np.column_stack([prob[:, 0] + (prob[:, 1] + prob[:, 2]) * (1 - q),
                               prob[:, 1] * q, prob[:, 2] * q])
    idx = np.flatnonzero(sel)
    old_kind = np.array([None if pd.isna(k) else k for k in stays["scenario"].to_numpy()[idx]], dtype=object)
    old_day = stays["scenario_day"].to_numpy(dtype=float)[idx]
    was_set = (old_kind != None) & (old_day <= B2)  # noqa: E711
    drawn = np.where(was_set, np.where(old_kind == "departure", 1, 2), 0)
    scores = np.log(state_p) + rng.gumbel(size=state_p.shape)
    rows = np.arange(len(idx))
    scores[rows, drawn] = scores.max(axis=1) + 1e-9  # the drawn state is each row's best
    pilots = stays["pilot"].to_numpy()[sel]
    residence = figure_int(figures, spec["residence_total"])
    cells = [Cell(pilots == pl, (1,), figure_int(figures, spec["departure_per_pilot"].format(pilot=pl.lower())),
                  f"scenario departure {pl}") for pl in PILOTS]
    cells.append(Cell(np.ones(len(pilots), bool), (2,), residence, "scenario residence"))
    total_dep = sum(c.target for c in cells[:-1])
    if total_dep + residence != figure_int(figures, spec["set_total"]):
        raise CalibrationError("scenario figures do not add up")
    state = assign_to_cells(scores, cells, (0,), rng)
    kinds = np.array([None, "departure", "residence"], dtype=object)
    new_kind = old_kind.copy()
    new_day = old_day.copy()
    for j, i in enumerate(idx):
        s = state[j]
        if s > 0 and not (was_set[j] and old_kind[j] == kinds[s]):
            span = B2 - adm[i]
            u = rng.random()
            d = np.floor(-mean * np.log(1 - u * (1 - np.exp(-(span + 1) / mean))))
            new_kind[j], new_day[j] = kinds[s], adm[i] + min(d, span)
        elif s == 0 and was_set[j]:
            later = B2 + 1 + np.floor(rng.exponential(mean))
            end = ex[i] if not np.isnan(ex[i]) else CUT_DAY
            new_kind[j], new_day[j] = (old_kind[j], later) if later <= end else (None, np.nan)
    changed = int(((new_kind != old_kind) | ~np.isclose(new_day, old_day, equal_nan=True)).sum())
    stays.loc[idx, "scenario"] = new_kind
    stays.loc[idx, "scenario_day"] = new_day
    return changed


def calibrate_mrt(stays: pd.DataFrame, p: DGPParams, plan: dict[str, Any], figures: dict[str, str],
                  rng: np.random.Generator) -> int:
    """Exactly the published number of MRT cases by 2020-11-01, one concluding no durable solution."""
    m = p["mrt"]
    want = figure_int(figures, plan["mrt_2020"]["cases"])
    want_none = figure_int(figures, plan["mrt_2020"]["no_durable"])
    day = stays["mrt_day"].to_numpy().copy()
    ref = stays["mrt_referred"].to_numpy().copy()
    concl = stays["mrt_conclusion"].to_numpy(dtype=object).copy()
    early = np.flatnonzero(ref & (day <= B2))
    changed = 0
    if len(early) > want:
        for i in rng.choice(early, size=len(early) - want, replace=False):
            ref[i], day[i], concl[i] = False, np.nan, None
            changed += 1
    elif len(early) < want:
        adm = stays["admission_day"].to_numpy()
        end = np.fmin(np.nan_to_num(stays["exit_day"].to_numpy(), nan=CUT_DAY), B2)
        ok = np.flatnonzero(~ref & stays["in_covenant"].to_numpy() & (adm + m["min_days"] <= end))
        for i in rng.choice(ok, size=want - len(early), replace=False):
            ref[i], day[i] = True, adm[i] + rng.integers(m["min_days"], end[i] - adm[i] + 1)
            concl[i] = "solution_possible"
            changed += 1
    early = np.flatnonzero(ref & (day <= B2))
    none_now = [i for i in early if concl[i] == "no_durable_solution"]
    others = [i for i in early if concl[i] != "no_durable_solution"]
    while len(none_now) > want_none:
        concl[none_now.pop()] = "solution_possible"
        changed += 1
    while len(none_now) < want_none:
        i = others.pop()
        concl[i] = "no_durable_solution"
        none_now.append(i)
        changed += 1
    stays["mrt_day"], stays["mrt_referred"], stays["mrt_conclusion"] = day, ref, concl
    return changed


# --------------------------------------------------------------------------- the cohort


def choose_readmissions(first: pd.DataFrame, n: int, p: DGPParams, rng: np.random.Generator) -> pd.DataFrame:
    """Second stays for ``n`` in-covenant persons who left before 2020-11-01 without any solution."""
    no_solution = ~first["exit_reason"].isin(
        ["residence_permit", "return_origin", "onward_migration", "subsequent_asylum",
         "art64_postponement", "deceased"])
    ok = np.flatnonzero((first["exit_day"] < B2).to_numpy() & first["in_covenant"].to_numpy()
                        & no_solution.to_numpy())
    if len(ok) < n:
        raise CalibrationError(f"{n} readmissions planned, {len(ok)} candidates")
    pick = np.sort(rng.choice(ok, size=n, replace=False))
    second = first.iloc[pick].copy()
    gap = 14 + np.floor(rng.exponential(p["readmission_gap_mean_days"], n))
    second["admission_day"] = np.minimum(np.maximum(second["exit_day"].to_numpy() + gap,
                                                    day_of(p["earliest_readmission"])), CUT_DAY - 60)
    second["seq"] = 2
    second["age_at_admission"] = whole_years(second["birth_day"].to_numpy(), second["admission_day"].to_numpy())
    second["period"] = "P3"
    return second.drop(columns=["exit_day", "exit_reason", "latent_cause", "effort"])


def calibrated_cohort(seed: int = DEFAULT_SEED, params: DGPParams | None = None,
                      plan_path: Path = PLAN_YAML) -> SyntheticCohort:
    """The calibrated SYNTHETIC default: every hard published figure reproduced exactly."""
    p = params or DGPParams.default()
    plan = load_plan(plan_path)
    figures = load_figures()
    check_plan(plan, figures)
    rng = np.random.default_rng(seed)

    first = draw_people(calibrated_intake(plan, p, rng), rng, p)
    first["source_id"] = source_ids(first["pilot"].to_numpy(dtype=object), rng, p)
    first["seq"] = 1
    first, scores1 = add_exits(first, rng, p)  # latent draws; times are recomputed below
    exit_plan = solve_p1_p2(first, plan, figures)
    first = apply_exit_times(first, exit_plan)
    first["exit_reason"] = np.where(first["exit_day"].isna(), None, first["latent_cause"])
    sel, causes = calibrate_exit_reasons_2020(first, scores1, plan, figures, rng)
    first.loc[sel, "exit_reason"] = np.array(CAUSES, dtype=object)[causes]
    relabelled_2020 = int((first.loc[sel, "exit_reason"] != first.loc[sel, "latent_cause"]).sum())

    second = choose_readmissions(first, int(plan["readmissions"]), p, rng)
    haz2 = cause_hazards(second, p)
    second["effort"] = rng.exponential(size=len(second)) / haz2.sum(axis=1)
    scores2 = gumbel_cause_scores(haz2, rng)
    second["latent_cause"] = np.array(CAUSES, dtype=object)[np.argmax(scores2, axis=1)]
    stays = pd.concat([first, second], ignore_index=True)
    scores = np.vstack([scores1, scores2])
    order = np.lexsort((stays["seq"].to_numpy(), stays["source_id"].to_numpy().astype(str)))
    stays, scores = stays.iloc[order].reset_index(drop=True), scores[order]

    solve_p3(stays, exit_plan, plan["present_2022"])
    stays = apply_exit_times(stays, exit_plan)
    early = (stays["exit_day"] < B2).to_numpy()
    stays["exit_reason"] = np.where(stays["exit_day"].isna(), None,
                                    np.where(early, stays["exit_reason"], stays["latent_cause"]))
    late, causes = calibrate_leaver_classes(stays, scores, plan, figures, rng)
    stays.loc[late, "exit_reason"] = np.array(CAUSES, dtype=object)[causes]
    relabelled_late = int((stays.loc[late, "exit_reason"] != stays.loc[late, "latent_cause"]).sum())
    countries_changed = calibrate_return_countries(stays, plan, figures, p, rng)

    stays = stays.join(draw_scenarios(stays, rng, p)).join(draw_mrt(stays, rng, p))
    scenarios_changed = calibrate_scenarios(stays, p, plan, figures, rng)
    mrt_changed = calibrate_mrt(stays, p, plan, figures, rng)
    nonp = pd.concat([non_participants_for(pl, int(n), rng, p) for pl, n in plan["non_participants"].items()],
                     ignore_index=True)

    n_exits = int(stays["exit_day"].notna().sum())
    truth = p.truth() | {
        "mode": "calibrated",
        "seed": seed,
        "calibration": {
            "method": __doc__.split("How the calibration", 1)[1].strip(),
            "period_bounds": ["2019-12-31", "2020-11-01"],
            "baseline_multipliers": exit_plan.mult,
            "exits": n_exits,
            "exit_reasons_relabelled": relabelled_2020 + relabelled_late,
            "exit_reasons_relabelled_share": round((relabelled_2020 + relabelled_late) / n_exits, 4),
            "countries_changed": countries_changed,
            "scenarios_changed": scenarios_changed,
            "mrt_changed": mrt_changed,
        },
    }
    return assemble(stays, nonp, truth, seed, calibrated=True)
