"""The questions of the evaluation: 24-hour shelter (naive vs adjusted) and prior procedures.

24-hour shelter is observational: the naive (crude) and the adjusted cause-specific hazard ratio
are shown side by side, each with cluster-robust and wild cluster bootstrap inference, and the
adjusted one with an E-value. The prior-procedures gradient is shown as bands (1, 2-5, >5 against
0) and as a trend (per procedure, and per band step).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lvv_eval.analysis.cox import CoxResult, fit_cause_specific_cox
from lvv_eval.analysis.cuminc import cumulative_incidence
from lvv_eval.analysis.evalue import EValue, e_value
from lvv_eval.analysis.inference import DEFAULT_SEED, wild_cluster_bootstrap
from lvv_eval.analysis.prepare import PRIOR_PROCEDURE_BANDS
from lvv_eval.analysis.warnings import FewClustersWarning

RARE_OUTCOME_THRESHOLD = 0.15


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
        cols = ["estimate", "hr", "hr_lower", "hr_upper", "p_robust", "p_wild_bootstrap", "e_value"]
        return (
            f"24-hour shelter, cause {self.cause!r} (cause-specific hazard ratio; "
            f"adjusted for {', '.join(self.adjusted.covariates[1:])}; strata {self.adjusted.strata})\n"
            + self.table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}")
        )


def _final_cumulative_incidence(tte: pd.DataFrame, cause: str) -> float:
    curve = cumulative_incidence(tte).table
    curve = curve[curve["cause"] == cause]
    return float(curve["cif"].iloc[-1]) if len(curve) else 0.0


def _effect_row(
    result: CoxResult, term: str, label: str, n_reps: int, seed: int, bootstrap: bool
) -> dict:
    row = result.table.set_index("term").loc[term]
    p_boot = np.nan
    if bootstrap and result.cluster is not None:
        p_boot = wild_cluster_bootstrap(result, term, n_reps=n_reps, seed=seed).p_value
    return {
        "estimate": label,
        "term": term,
        "log_hr": row["coef"],
        "se_naive": row["se_naive"],
        "se_robust": row["se_robust"],
        "hr": row["hr"],
        "hr_lower": row["hr_lower"],
        "hr_upper": row["hr_upper"],
        "p_robust": row["p_value"],
        "p_wild_bootstrap": p_boot,
        "n_obs": result.n_obs,
        "n_events": result.n_events,
        "n_clusters": result.n_clusters,
        "strata": result.strata,
    }


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
    use the same rows (complete cases over all the adjusted model's variables).
    """
    if treatment in adjust:
        raise ValueError(f"{treatment!r} is the treatment; leave it out of adjust")
    needed = [treatment, *adjust] + [c for c in (strata, cluster) if c is not None]
    data = tte.dropna(subset=needed)
    data.attrs = dict(tte.attrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        naive = fit_cause_specific_cox(data, cause, [treatment], strata=None, ties=ties, cluster=cluster)
    adjusted = fit_cause_specific_cox(
        data, cause, [treatment, *adjust], strata=strata, ties=ties, cluster=cluster
    )
    rows = [
        _effect_row(naive, treatment, "naive", n_reps, seed, bootstrap),
        _effect_row(adjusted, treatment, "adjusted", n_reps, seed, bootstrap),
    ]
    table = pd.DataFrame(rows)
    if rare_outcome is None:
        rare_outcome = _final_cumulative_incidence(data, cause) < RARE_OUTCOME_THRESHOLD
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
    data = tte.copy()
    data["prior_band_step"] = data["prior_band"].cat.codes.astype("float64")
    data.loc[data["prior_band"].isna(), "prior_band_step"] = np.nan
    needed = ["n_prior", *adjust] + [c for c in (strata, cluster) if c is not None]
    data = data.dropna(subset=needed)
    data.attrs = dict(tte.attrs)
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
                        | _effect_row(fits["bands"], term, "adjusted", n_reps, seed, bootstrap))
    rows.append({"contrast": "per procedure", "kind": "trend"}
                | _effect_row(fits["per_procedure"], "n_prior", "adjusted", n_reps, seed, bootstrap))
    rows.append({"contrast": "per band step", "kind": "trend"}
                | _effect_row(fits["per_band_step"], "prior_band_step", "adjusted", n_reps, seed, bootstrap))
    table = pd.DataFrame(rows)
    table.insert(0, "cause", cause)
    if cluster is not None:
        warnings.warn(
            f"prior-procedures gradient for {cause!r}: {fits['bands'].n_clusters} clusters; read "
            f"p_wild_bootstrap beside p_robust",
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
