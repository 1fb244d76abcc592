"""The questions of the evaluation: 24-hour shelter (naive vs adjusted) and prior procedures.

24-hour shelter is observational: the naive (crude) and the adjusted cause-specific hazard ratio
are shown side by side, and the adjusted one with an E-value. Interval and p-value are the
restricted wild cluster bootstrap ones when clustered by the five pilots (the E-value's interval
uses the bootstrap limit); the cluster-robust and model-based errors stay as secondary columns. The prior-procedures gradient is shown as bands (1, 2-5, >5 against
0) and as a trend (per procedure, and per band step).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.analysis.caveats import FewClustersWarning
from lvv_eval.analysis.cox import CoxResult, fit_cause_specific_cox
from lvv_eval.analysis.evalue import EValue, e_value
from lvv_eval.analysis.exposures import (
    RARE_OUTCOME_THRESHOLD,
    EffectsResult,
    complete_for,
    effect_row,
    final_cumulative_incidence,
    inference_kind,
)
from lvv_eval.analysis.inference import DEFAULT_SEED
from lvv_eval.analysis.prepare import PRIOR_PROCEDURE_BANDS, event_coding


@dataclass
class ShelterEffect:
    """Naive and adjusted effect of 24-hour shelter on one exit class, side by side."""

    cause: str
    table: pd.DataFrame
    naive: CoxResult = field(repr=False)
    adjusted: CoxResult = field(repr=False)
    e_value: EValue

    def summary(self) -> str:
        """A plain-text summary for notebooks and logs."""
        cols = ["estimate", "hr", "hr_lower", "hr_upper", "p_value", "p_cluster_robust", "e_value"]
        return (
            f"24-hour shelter, cause {self.cause!r} (cause-specific hazard ratio; "
            f"adjusted for {', '.join(self.adjusted.covariates[1:])}; strata {self.adjusted.strata})\n"
            + self.table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}")
            + f"\ninterval and p_value: {self.table['ci_method'].iloc[-1]}"
        )


def _effect_row(
    result: CoxResult, term: str, label: str, inference: str, n_reps: int, seed: int, n_dropped: int
) -> dict:
    row = effect_row(result, term, inference, n_reps, seed)
    return {"estimate": label, **row, "n_dropped_missing": n_dropped}


def compare_shelter_effect(
    tte: pd.DataFrame,
    cause: str,
    adjust: Sequence[str],
    treatment: str = "shelter_24h",
    strata: str | None = "pilot",
    ties: str = "breslow",
    cluster: str | None = "pilot",
    bootstrap: bool = True,
    n_reps: int = 9999,
    seed: int = DEFAULT_SEED,
    rare_outcome: bool | None = None,
) -> ShelterEffect:
    """Naive (crude, unstratified) and adjusted (``adjust`` + strata) hazard ratio of ``treatment``.

    The E-value of the adjusted estimate treats the outcome as rare when its cumulative incidence
    at the end of follow-up is below 15% (``rare_outcome`` overrides). The naive and adjusted fits
    use the same rows (complete cases over all the adjusted model's variables); the number left
    out is ``n_dropped_missing``. With ``bootstrap`` and clusters by pilot the interval and p-value
    are the wild cluster bootstrap ones (else cluster-robust), and so is the E-value's interval.
    """
    if treatment in adjust:
        raise ValueError(f"{treatment!r} is the treatment; leave it out of adjust")
    needed = [treatment, *adjust] + [c for c in (strata, cluster) if c is not None]
    data, n_dropped = complete_for(tte, needed)
    how = inference_kind(bootstrap, cluster)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        naive = fit_cause_specific_cox(data, cause, [treatment], strata=None, ties=ties, cluster=cluster)
    adjusted = fit_cause_specific_cox(
        data, cause, [treatment, *adjust], strata=strata, ties=ties, cluster=cluster
    )
    rows = [
        _effect_row(naive, treatment, "naive", how, n_reps, seed, n_dropped),
        _effect_row(adjusted, treatment, "adjusted", how, n_reps, seed, n_dropped),
    ]
    table = pd.DataFrame(rows)
    if rare_outcome is None:
        rare_outcome = final_cumulative_incidence(data, cause) < RARE_OUTCOME_THRESHOLD
    adj = table.iloc[1]
    ev = e_value(adj["hr"], adj["hr_lower"], adj["hr_upper"], scale="hr", rare_outcome=rare_outcome)
    table["e_value"] = [np.nan, ev.point]
    table["e_value_ci"] = [np.nan, ev.ci]
    table.insert(0, "cause", cause)
    return ShelterEffect(cause=cause, table=table, naive=naive, adjusted=adjusted, e_value=ev)


@dataclass
class GradientResult:
    """The prior-procedures gradient: hazard ratios by band and as trends."""

    cause: str
    table: pd.DataFrame
    bands: CoxResult = field(repr=False)
    trend_per_procedure: CoxResult = field(repr=False)
    trend_per_band: CoxResult = field(repr=False)

    def models(self) -> list[CoxResult]:
        """The model behind each row of ``table``: the bands model for a band, each trend its own."""
        out = []
        for kind, term in zip(self.table["kind"], self.table["term"], strict=True):
            if kind == "band":
                out.append(self.bands)
            elif term == "n_prior":
                out.append(self.trend_per_procedure)
            else:
                out.append(self.trend_per_band)
        return out


def prior_procedures_gradient(
    tte: pd.DataFrame,
    cause: str,
    adjust: Sequence[str],
    strata: str | None = "pilot",
    ties: str = "breslow",
    cluster: str | None = "pilot",
    bootstrap: bool = True,
    n_reps: int = 9999,
    seed: int = DEFAULT_SEED,
) -> GradientResult:
    """Hazard ratios of bands 1, 2-5 and >5 against 0, a per-procedure and a per-band-step trend."""
    clash = {"n_prior", "prior_band"} & set(adjust)
    if clash:
        raise ValueError(f"{sorted(clash)} describe the exposure; leave them out of adjust")
    needed = ["n_prior", *adjust] + [c for c in (strata, cluster) if c is not None]
    data, n_dropped = complete_for(tte, needed)
    data["prior_band_step"] = data["prior_band"].cat.codes.astype("float64")
    how = inference_kind(bootstrap, cluster)
    fits = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        for name, exposure in (
            ("bands", "prior_band"),
            ("per_procedure", "n_prior"),
            ("per_band_step", "prior_band_step"),
        ):
            fits[name] = fit_cause_specific_cox(
                data, cause, [exposure, *adjust], strata=strata, ties=ties, cluster=cluster
            )
    rows = []
    for band in PRIOR_PROCEDURE_BANDS[1:]:
        term = f"prior_band[{band}]"
        if term in fits["bands"].params.index:
            rows.append({"contrast": f"{band} vs 0", "kind": "band"}
                        | _effect_row(fits["bands"], term, "adjusted", how, n_reps, seed, n_dropped))
    for contrast, fit, term in (("per procedure", "per_procedure", "n_prior"),
                                ("per band step", "per_band_step", "prior_band_step")):
        rows.append({"contrast": contrast, "kind": "trend"}
                    | _effect_row(fits[fit], term, "adjusted", how, n_reps, seed, n_dropped))
    table = pd.DataFrame(rows)
    table.insert(0, "cause", cause)
    if cluster is not None:
        warnings.warn(
            f"prior-procedures gradient for {cause!r}: {fits['bands'].n_clusters} clusters; the "
            f"interval and p-value are {'bootstrap' if how == 'auto' else how} ones (ci_method)",
            FewClustersWarning,
            stacklevel=2,
        )
    return GradientResult(
        cause=cause,
        table=table,
        bands=fits["bands"],
        trend_per_procedure=fits["per_procedure"],
        trend_per_band=fits["per_band_step"],
    )


def prior_procedures_gradients(
    tte: pd.DataFrame,
    adjust: Sequence[str],
    causes: Sequence[str] | None = None,
    **kwargs: Any,
) -> EffectsResult:
    """:func:`prior_procedures_gradient` for every class in ``causes`` (default: every class of
    the scheme) as one effects table (``level`` is the contrast, ``estimate`` adjusted), ready
    for ``gate.effects`` and the forest plot; ``kwargs`` go to :func:`prior_procedures_gradient`."""
    causes = list(causes) if causes is not None else list(event_coding(tte).classes)
    tables, models = [], []
    for cause in causes:
        gradient = prior_procedures_gradient(tte, cause, adjust, **kwargs)
        tables.append(gradient.table.assign(exposure="n_prior", level=gradient.table["contrast"],
                                            reference=""))
        models += gradient.models()
    return EffectsResult("n_prior", pd.concat(tables, ignore_index=True), models)
