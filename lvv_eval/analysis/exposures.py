"""Effects of an exposure on every outcome class in one run: 24-hour shelter, guidance intensity,
and the pilots compared with each other.

:func:`exposure_effects` fits, for each outcome class, a naive (crude, unstratified) and an
adjusted cause-specific Cox model and returns one row per class, estimate and exposure term, with
the E-value of every adjusted row; the rows of all classes together are what one forest plot
draws. A categorical exposure gives one term per level against its reference level.

- :func:`guidance_effects`: guidance intensity, each level against ``standard`` (the generator's
  and the pilots' usual level) and the ordered trend light < standard < intensive (one step per
  level, a test of a dose-response).
- :func:`compare_pilots`: each pilot against a reference pilot, adjusted for case mix. With five
  pilots the pilot is the comparison itself, so it cannot also be the cluster: the errors are
  cluster-robust by person (several stays of one person), and the estimates say nothing about
  what is common to all stays of a pilot beyond the case mix (policy, municipality, period).

Interval and p-value follow :mod:`lvv_eval.analysis.results`: wild cluster bootstrap with
clusters by pilot, cluster-robust with many clusters (by person), model-based without clusters.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lvv_eval.analysis.caveats import DroppedRowsWarning, FewClustersWarning
from lvv_eval.analysis.cox import CoxResult, fit_cause_specific_cox
from lvv_eval.analysis.cuminc import cumulative_incidence
from lvv_eval.analysis.evalue import e_value
from lvv_eval.analysis.inference import DEFAULT_SEED
from lvv_eval.analysis.prepare import complete_cases, event_coding
from lvv_eval.schema import GUIDANCE_LEVELS

RARE_OUTCOME_THRESHOLD = 0.15
GUIDANCE_REFERENCE = "standard"
GUIDANCE_STEP = "guidance_step"
EFFECT_COLUMNS = (
    "term", "hr", "hr_lower", "hr_upper", "p_value", "ci_method", "se_model", "se_cluster_robust",
    "hr_lower_cluster_robust", "hr_upper_cluster_robust", "p_cluster_robust", "n_obs", "n_events",
    "n_clusters", "strata",
)
"""Columns of a model's tidy row that an effects table keeps (the primary interval first)."""


@dataclass
class EffectsResult:
    """Effects of one exposure on several outcome classes; ``models[i]`` made ``table`` row i."""

    exposure: str
    table: pd.DataFrame
    models: list[CoxResult] = field(repr=False)

    def concat(self, other: EffectsResult) -> EffectsResult:
        """This table's rows followed by ``other``'s (e.g. the levels and the trend)."""
        table = pd.concat([self.table, other.table], ignore_index=True)
        return EffectsResult(self.exposure, table, [*self.models, *other.models])

    def adjusted(self) -> pd.DataFrame:
        """The adjusted rows only."""
        return self.table[self.table["estimate"] == "adjusted"].reset_index(drop=True)


def inference_kind(bootstrap: bool, cluster: str | None) -> str:
    """The ``inference`` argument of :meth:`ModelResult.tidy` for these settings."""
    if cluster is None:
        return "model"
    return "auto" if bootstrap else "cluster_robust"


def complete_for(tte: pd.DataFrame, needed: Sequence[str], stacklevel: int = 3) -> tuple[pd.DataFrame, int]:
    """Rows with every needed column known (the same rows for all fits) and how many were left
    out (a :class:`DroppedRowsWarning` says so)."""
    needed = list(dict.fromkeys(needed))  # strata and cluster are often the same column
    data, n_dropped = complete_cases(tte, needed)
    if n_dropped:
        warnings.warn(f"{n_dropped} stays left out for missing values in {list(needed)}",
                      DroppedRowsWarning, stacklevel=stacklevel)
    data = data.copy()
    data.attrs = dict(tte.attrs)
    return data, n_dropped


def final_cumulative_incidence(tte: pd.DataFrame, cause: str) -> float:
    """The cumulative incidence of ``cause`` at the end of follow-up (all stays together)."""
    curve = cumulative_incidence(tte).table
    curve = curve[curve["cause"] == cause]
    return float(curve["cif"].iloc[-1]) if len(curve) else 0.0


def effect_row(result: CoxResult, term: str, inference: str, n_reps: int, seed: int) -> dict:
    """One term of a fitted model as an effects-table row (``log_hr`` and :data:`EFFECT_COLUMNS`)."""
    row = result.tidy(inference, terms=[term], n_reps=n_reps, seed=seed).set_index("term").loc[term]
    out = {"log_hr": row["coef"]}
    out |= {c: (term if c == "term" else row[c]) for c in EFFECT_COLUMNS}
    return out


def exposure_terms(result: CoxResult, exposure: str) -> list[str]:
    """The design columns of ``exposure`` in a fitted model (one, or one per non-reference level)."""
    return [t for t in result.params.index if t == exposure or t.startswith(f"{exposure}[")]


def _level(term: str, exposure: str) -> str:
    return term[len(exposure) + 1:-1] if term.startswith(f"{exposure}[") else exposure


def _with_e_values(table: pd.DataFrame, rare: bool) -> pd.DataFrame:
    points, cis = [], []
    for _, row in table.iterrows():
        if row["estimate"] != "adjusted" or not np.isfinite(row["hr"]) or row["hr"] <= 0:
            points.append(np.nan)
            cis.append(np.nan)
            continue
        ev = e_value(row["hr"], row["hr_lower"], row["hr_upper"], scale="hr", rare_outcome=rare)
        points.append(ev.point)
        cis.append(ev.ci if ev.ci is not None else np.nan)
    return table.assign(e_value=points, e_value_ci=cis)


@dataclass(frozen=True)
class FitSettings:
    """How the models of an effects table are fitted and their intervals computed."""

    strata: str | None = "pilot"
    cluster: str | None = "pilot"
    ties: str = "breslow"
    bootstrap: bool = True
    n_reps: int = 9999
    seed: int = DEFAULT_SEED

    def fit(self, data: pd.DataFrame, cause: str, covariates: Sequence[str],
            strata: str | None) -> CoxResult:
        """A cause-specific Cox model with these settings (``strata`` given per fit)."""
        return fit_cause_specific_cox(data, cause, list(covariates), strata=strata,
                                      ties=self.ties, cluster=self.cluster)


def _one_cause(data: pd.DataFrame, cause: str, exposure: str, adjust: Sequence[str],
               settings: FitSettings, naive: bool) -> tuple[list[dict], list[CoxResult]]:
    fits: list[tuple[str, CoxResult]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        if naive:
            fits.append(("naive", settings.fit(data, cause, [exposure], None)))
        fits.append(("adjusted", settings.fit(data, cause, [exposure, *adjust], settings.strata)))
    how = inference_kind(settings.bootstrap, settings.cluster)
    rows, models = [], []
    for label, fit in fits:
        for term in exposure_terms(fit, exposure):
            row = {"cause": cause, "estimate": label, "exposure": exposure,
                   "level": _level(term, exposure),
                   "reference": fit.reference_levels.get(exposure, "")}
            row |= effect_row(fit, term, how, settings.n_reps, settings.seed)
            rows.append(row)
            models.append(fit)
    return rows, models


def exposure_effects(
    tte: pd.DataFrame,
    exposure: str,
    adjust: Sequence[str] = (),
    causes: Sequence[str] | None = None,
    *,
    naive: bool = True,
    settings: FitSettings | None = None,
    rare_outcome: bool | None = None,
) -> EffectsResult:
    """Naive and adjusted cause-specific hazard ratios of ``exposure`` for every class in
    ``causes`` (default: every class of the scheme), on the same rows for all fits.

    The naive model has the exposure alone and no strata; the adjusted one adds ``adjust`` and
    the settings' strata. Rows left out for a missing value are ``n_dropped_missing``. The E-value
    of an adjusted row treats the outcome as rare when its cumulative incidence at the end of
    follow-up is below 15% (``rare_outcome`` overrides).
    """
    if exposure in adjust:
        raise ValueError(f"{exposure!r} is the exposure; leave it out of adjust")
    settings = settings or FitSettings()
    causes = list(causes) if causes is not None else list(event_coding(tte).classes)
    needed = [exposure, *adjust] + [c for c in (settings.strata, settings.cluster) if c is not None]
    data, n_dropped = complete_for(tte, needed)
    parts, models = [], []
    for cause in causes:
        rows, fitted = _one_cause(data, cause, exposure, adjust, settings, naive)
        rare = (rare_outcome if rare_outcome is not None
                else final_cumulative_incidence(data, cause) < RARE_OUTCOME_THRESHOLD)
        parts.append(_with_e_values(pd.DataFrame(rows), rare))
        models += fitted
    table = pd.concat(parts, ignore_index=True)
    table["n_dropped_missing"] = n_dropped
    table["adjusted_for"] = ", ".join(adjust)
    return EffectsResult(exposure, table, models)


def guidance_frame(tte: pd.DataFrame, reference: str = GUIDANCE_REFERENCE) -> pd.DataFrame:
    """``tte`` with ``guidance_intensity`` as a category whose first (reference) level is
    ``reference`` and :data:`GUIDANCE_STEP` the ordered level (light 0, standard 1, intensive 2)."""
    if reference not in GUIDANCE_LEVELS:
        raise ValueError(f"reference must be one of {GUIDANCE_LEVELS}, got {reference!r}")
    out = tte.copy()
    values = tte["guidance_intensity"].astype("object")
    order = [reference, *(lv for lv in GUIDANCE_LEVELS if lv != reference)]
    out["guidance_intensity"] = pd.Categorical(values, categories=order)
    out[GUIDANCE_STEP] = values.map({lv: float(i) for i, lv in enumerate(GUIDANCE_LEVELS)})
    out[GUIDANCE_STEP] = out[GUIDANCE_STEP].astype("float64")
    out.attrs = dict(tte.attrs)
    return out


def guidance_effects(
    tte: pd.DataFrame,
    adjust: Sequence[str],
    causes: Sequence[str] | None = None,
    reference: str = GUIDANCE_REFERENCE,
    settings: FitSettings | None = None,
) -> EffectsResult:
    """Guidance intensity on every class: each level against ``reference`` (``kind`` ``level``)
    and the trend per step light < standard < intensive (``kind`` ``trend``), naive and adjusted.

    Guidance is assigned per pilot and shelter type, so ``adjust`` should hold ``shelter_24h``
    (the adjusted models are stratified by pilot).
    """
    frame = guidance_frame(tte, reference)
    levels = exposure_effects(frame, "guidance_intensity", adjust, causes, settings=settings)
    with warnings.catch_warnings():  # the same stays as the levels, which said so already
        warnings.simplefilter("ignore", DroppedRowsWarning)
        trend = exposure_effects(frame, GUIDANCE_STEP, adjust, causes, settings=settings)
    levels.table.insert(1, "kind", "level")
    trend.table.insert(1, "kind", "trend")
    trend.table["level"] = "per step"
    trend.table["reference"] = "light < standard < intensive"
    out = levels.concat(trend)
    table = out.table
    causes_in_order = {c: i for i, c in enumerate(dict.fromkeys(table["cause"]))}
    order = np.lexsort((np.arange(len(table)),
                        table["estimate"].map({"naive": 0, "adjusted": 1}).to_numpy(),
                        table["kind"].map({"level": 0, "trend": 1}).to_numpy(),
                        table["cause"].map(causes_in_order).to_numpy()))
    out.table = table.iloc[order].reset_index(drop=True)
    out.models = [out.models[i] for i in order]
    return out


def compare_pilots(
    tte: pd.DataFrame,
    adjust: Sequence[str],
    causes: Sequence[str] | None = None,
    reference: str | None = None,
    cluster: str | None = "person_id",
    ties: str = "breslow",
) -> EffectsResult:
    """Each pilot against ``reference`` (default: the pilot with the most stays) on every class,
    crude and adjusted for ``adjust``: a Cox model with the pilot as a factor, unstratified,
    errors cluster-robust by ``cluster`` (person; see the module docstring for why not by pilot)."""
    pilots = tte["pilot"].astype("object")
    counts = pilots.value_counts()
    reference = reference if reference is not None else str(counts.index[0])
    if reference not in counts.index:
        raise ValueError(f"reference pilot {reference!r} has no stays; pilots: {sorted(counts.index)}")
    frame = tte.copy()
    frame["pilot"] = pd.Categorical(pilots, categories=[reference, *sorted(set(counts.index) - {reference})])
    frame.attrs = dict(tte.attrs)
    settings = FitSettings(strata=None, cluster=cluster, ties=ties, bootstrap=False)
    return exposure_effects(frame, "pilot", adjust, causes, settings=settings)
