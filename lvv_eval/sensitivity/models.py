"""Analysis outcomes per specification: cumulative incidence at a horizon and the adjusted
24-hour-shelter hazard ratio with its wild cluster bootstrap interval.

A specification's model reads a few entries of its resolved definitions: the population, the
counting unit, the outcome scheme's cause group and the censoring rule (:func:`model_inputs`).
Specifications whose inputs are the same share one fit. Fits run in parallel processes through
joblib (``joblib.parallel_config(backend="dask")`` moves them to a Dask cluster without a code
change) and report their progress.

The analysis layer is called through :mod:`lvv_eval.analysis`'s public functions only, and its
bootstrap interval through the single adapter :func:`bootstrap_interval`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from lvv_eval.analysis import cumulative_incidence, fit_cause_specific_cox, time_to_event
from lvv_eval.analysis.cox import CoxResult
from lvv_eval.analysis.inference import wild_cluster_bootstrap
from lvv_eval.measures.definitions import (
    DATA_CUT,
    Definitions,
    reduce_stays,
    resolve_reference_date,
    scheme_classes,
    where_mask,
)
from lvv_eval.schema import EXIT_REASONS
from lvv_eval.sensitivity.grid import Models
from lvv_eval.sensitivity.indicators import PILOT_LABELS, RESULT_COLUMNS
from lvv_eval.sensitivity.specs import Specification, canonical_json

OTHER_EXIT = "other_exit"
BOOTSTRAP_REPS = 9999


# ---------------------------------------------------------------------------------------------
# the one call point into the analysis layer's bootstrap interval


@dataclass(frozen=True)
class BootstrapInterval:
    """A hazard ratio's wild cluster bootstrap interval and p-value (of HR = 1)."""

    lower: float
    upper: float
    p_value: float
    method: str


def bootstrap_interval(result: CoxResult, term: str, level: float, seed: int,
                       n_reps: int = BOOTSTRAP_REPS) -> BootstrapInterval:
    """The restricted wild cluster (score) bootstrap interval of ``term``'s hazard ratio, from
    the analysis layer (:func:`lvv_eval.analysis.inference.wild_cluster_bootstrap`: with five
    pilots all 6^5 Webb weight vectors are enumerated, so ``seed`` and ``n_reps`` do not matter
    there; the interval is the test's inversion, so it excludes 1 exactly when p < 1 - level)."""
    r = wild_cluster_bootstrap(result, term, n_reps=n_reps, seed=seed, interval=True,
                               alpha=1 - level)
    draws = f"all {r.n_reps} Webb vectors" if r.enumerated else f"{r.n_reps} Webb draws, seed {seed}"
    method = f"{r.method}, restricted, {draws}; interval by test inversion"
    return BootstrapInterval(math.exp(r.lower), math.exp(r.upper), r.p_value, method)


def model_inputs(defs: Definitions, settings: Models, data_cut: pd.Timestamp) -> dict[str, Any]:
    """Everything the model of one specification depends on, as plain data (its cache key)."""
    rule = defs.censoring[settings.censoring]
    end = rule.get("end", DATA_CUT)
    end_day = None if end == DATA_CUT else resolve_reference_date(defs, end)
    cause = scheme_classes(defs, settings.scheme)[settings.cause]
    return {
        "where": defs.populations[settings.population].get("where") or {},
        "reduce": defs.units[settings.unit]["reduce"],
        "reduce_at": (end_day or data_cut).date().isoformat(),
        "end": end_day.date().isoformat() if end_day is not None else None,
        "censor_exit_reasons": sorted(rule.get("censor_exit_reasons", [])),
        "max_days": rule.get("max_days"),
        "cause": settings.cause,
        "cause_exit_reasons": sorted(cause),
        "treatment": settings.treatment,
        "adjust": list(settings.adjust),
        "horizon_days": settings.horizon_days,
        "level": settings.level,
        "seed": settings.seed,
    }


def _censor(units: pd.DataFrame, inputs: Mapping[str, Any]) -> pd.DataFrame:
    units = units.copy()
    if inputs["end"] is not None:
        end = pd.Timestamp(inputs["end"])
        units = units[units["admission_date"] <= end].copy()
        after = (units["exit_date"] >= end).fillna(False).astype(bool)
        units.loc[after, ["exit_date", "exit_reason"]] = [pd.NaT, np.nan]
        units["data_cut_date"] = units["data_cut_date"].clip(upper=end)
    lost = units["exit_reason"].isin(inputs["censor_exit_reasons"]).fillna(False).astype(bool)
    units.loc[lost, "data_cut_date"] = units.loc[lost, "exit_date"]
    units.loc[lost, ["exit_date", "exit_reason"]] = [pd.NaT, np.nan]
    return units


def analysis_frame(stays: pd.DataFrame, inputs: Mapping[str, Any]) -> pd.DataFrame:
    """The time-to-event frame of a specification: population, unit, censoring; the cause group
    against every other exit."""
    selected = stays[where_mask(stays, inputs["where"]).to_numpy()]
    units = reduce_stays(selected, inputs["reduce"], pd.Timestamp(inputs["reduce_at"]))
    units = _censor(units, inputs)
    scheme = {r: inputs["cause"] if r in inputs["cause_exit_reasons"] else OTHER_EXIT
              for r in EXIT_REASONS}
    tte = time_to_event(units, scheme)
    if inputs["max_days"] is not None:
        late = tte["time"] > inputs["max_days"]
        tte.loc[late, "time"] = inputs["max_days"]
        tte.loc[late, "event"] = 0
        tte.loc[late, "cause"] = "censored"
    return tte


# ---------------------------------------------------------------------------------------------
# one fit


def _cif_rows(tte: pd.DataFrame, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    horizon, cause = inputs["horizon_days"], inputs["cause"]
    outcome = f"cif_{cause}_{horizon}d"
    rows = []
    for pilot in PILOT_LABELS:
        part = tte if pilot == "all" else tte[tte["pilot"] == pilot]
        part.attrs = dict(tte.attrs)
        row = {"outcome": outcome, "pilot": pilot, "n": float(len(part)),
               "interval": f"Aalen-Johansen, log, {inputs['level']:.0%} pointwise"}
        if len(part) == 0:
            rows.append(row | {"estimate": np.nan, "lower": np.nan, "upper": np.nan,
                               "numerator": 0.0})
            continue
        read = cumulative_incidence(part, alpha=1 - inputs["level"]).at([horizon])
        read = read[read["cause"] == cause]
        cif = read.iloc[0] if len(read) else pd.Series({"cif": 0.0, "lower": 0.0, "upper": 0.0})
        events = float(((part["cause"] == cause) & (part["time"] <= horizon)).sum())
        rows.append(row | {"estimate": 100 * cif["cif"], "lower": 100 * cif["lower"],
                           "upper": 100 * cif["upper"], "numerator": events})
    return rows


def _hazard_ratio_row(tte: pd.DataFrame, inputs: Mapping[str, Any]) -> dict[str, Any]:
    treatment = inputs["treatment"]
    covariates = [treatment, *inputs["adjust"]]
    data = tte.dropna(subset=[*covariates, "pilot"])
    data.attrs = dict(tte.attrs)
    fit = fit_cause_specific_cox(data, inputs["cause"], covariates, strata="pilot",
                                 cluster="pilot")
    interval = bootstrap_interval(fit, treatment, inputs["level"], inputs["seed"])
    return {"outcome": f"hr_{treatment}_adjusted", "pilot": "all",
            "estimate": float(np.exp(fit.params[treatment])), "lower": interval.lower,
            "upper": interval.upper, "n": float(fit.n_obs), "numerator": float(fit.n_events),
            "interval": interval.method, "p_value": interval.p_value}


def fit_one(stays: pd.DataFrame, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The model outcomes of one set of inputs: CIF rows per pilot and the hazard-ratio row,
    each with the statistical caveats raised while fitting (``notes``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tte = analysis_frame(stays, inputs)
        rows = _cif_rows(tte, inputs)
        try:
            rows.append(_hazard_ratio_row(tte, inputs))
        except (ValueError, np.linalg.LinAlgError) as exc:
            rows.append({"outcome": f"hr_{inputs['treatment']}_adjusted", "pilot": "all",
                         "estimate": np.nan, "lower": np.nan, "upper": np.nan,
                         "n": float(len(tte)), "numerator": np.nan,
                         "interval": f"not estimable: {exc}"})
    notes = "; ".join(sorted({f"{w.category.__name__}" for w in caught}))
    return [row | {"notes": notes} for row in rows]


def _fit_batch(stays: pd.DataFrame, batch: Sequence[tuple[str, Mapping[str, Any]]]
               ) -> list[tuple[str, list[dict[str, Any]]]]:
    return [(key, fit_one(stays, inputs)) for key, inputs in batch]


# ---------------------------------------------------------------------------------------------
# every specification


Progress = Callable[[int, int], None]


def model_table(stays: pd.DataFrame, specs: Sequence[Specification], settings: Models,
                n_jobs: int = -1, progress: Progress | None = None,
                batch_size: int = 8) -> pd.DataFrame:
    """Model outcomes of every specification (rows as in the headline table, plus ``p_value``
    and ``notes``). Distinct model inputs are fitted once each, in parallel with joblib."""
    data_cut = pd.Timestamp(stays["data_cut_date"].max())
    keys: list[str] = []
    distinct: dict[str, Mapping[str, Any]] = {}
    for spec in specs:
        inputs = model_inputs(spec.definitions, settings, data_cut)
        key = canonical_json(inputs)
        keys.append(key)
        distinct.setdefault(key, inputs)
    items = list(distinct.items())
    batches = [items[i:i + batch_size] for i in range(0, len(items), batch_size)]
    fitted: dict[str, list[dict[str, Any]]] = {}
    jobs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(_fit_batch)(stays, batch) for batch in batches)
    for done in jobs:
        fitted.update(done)
        if progress is not None:
            progress(len(fitted), len(items))
    rows = [row | {"spec_index": i} for i, key in enumerate(keys) for row in fitted[key]]
    columns = [*RESULT_COLUMNS, "p_value", "notes"]
    return pd.DataFrame(rows).reindex(columns=columns)
