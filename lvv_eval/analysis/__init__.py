"""Analysis library: outcomes by pilot, 24-hour shelter and prior departure procedures.

A notebook is a short sequence of calls::

    tte = time_to_event(stays, "ee2022")
    cif = cumulative_incidence(tte, by="pilot")              # .table, .at([365])
    cox = fit_cause_specific_cox(tte, "durable", ["shelter_24h", "n_prior"])   # .table
    cox.table          # five pilots: interval and p-value from the wild cluster bootstrap
    effect = compare_shelter_effect(tte, "durable", ["n_prior", "safe_country"])
    effects = exposure_effects(tte, "shelter_24h", adjust)   # every class, naive and adjusted
    guidance = guidance_effects(tte, [*adjust, "shelter_24h"])  # levels vs standard, trend
    pilots = compare_pilots(tte, adjust)                      # each pilot vs the largest
    table1 = case_mix(tte)                                    # the case mix per pilot
    fig = plot_cumulative_incidence(cif, lang="nl")

Statistical caveats are warnings of the classes in :mod:`lvv_eval.analysis.caveats`.
"""

from lvv_eval.analysis.binary import BinaryResult, fit_window_model
from lvv_eval.analysis.casemix import case_mix, case_mix_view
from lvv_eval.analysis.caveats import (
    AnalysisWarning,
    DroppedRowsWarning,
    FewClustersWarning,
    NonConvergenceWarning,
    NotEstimable,
    SmallCellWarning,
)
from lvv_eval.analysis.cox import (
    CoxResult,
    breslow_score_residuals,
    fit_cause_specific_cox,
    score_residuals,
)
from lvv_eval.analysis.cuminc import CumIncResult, cumulative_incidence
from lvv_eval.analysis.descriptives import (
    exits_by_reason,
    kaplan_meier,
    length_of_stay,
    occupancy_against_capacity,
    rates_per_100_person_years,
    stock_and_flows,
    stock_at,
)
from lvv_eval.analysis.effects import (
    GradientResult,
    ShelterEffect,
    compare_shelter_effect,
    prior_procedures_gradient,
    prior_procedures_gradients,
)
from lvv_eval.analysis.evalue import EValue, e_value
from lvv_eval.analysis.exposures import (
    EffectsResult,
    FitSettings,
    compare_pilots,
    exposure_effects,
    guidance_effects,
)
from lvv_eval.analysis.inference import (
    InferenceResult,
    cr2_vcov,
    randomisation_inference,
    webb_weights,
    wild_cluster_bootstrap,
    with_wild_bootstrap,
)
from lvv_eval.analysis.notes import coverage_note, e_value_note, inference_note, trend_test_note
from lvv_eval.analysis.prepare import (
    EXIT_REASON_SCHEME,
    PRIOR_PROCEDURE_BANDS,
    outcome_scheme,
    prior_procedure_band,
    time_to_event,
    window_outcome,
)

__all__ = [
    "EXIT_REASON_SCHEME",
    "PRIOR_PROCEDURE_BANDS",
    "AnalysisWarning",
    "BinaryResult",
    "CoxResult",
    "CumIncResult",
    "DroppedRowsWarning",
    "NotEstimable",
    "EValue",
    "EffectsResult",
    "FitSettings",
    "FewClustersWarning",
    "GradientResult",
    "InferenceResult",
    "NonConvergenceWarning",
    "ShelterEffect",
    "SmallCellWarning",
    "breslow_score_residuals",
    "coverage_note",
    "cr2_vcov",
    "inference_note",
    "score_residuals",
    "case_mix",
    "case_mix_view",
    "compare_pilots",
    "compare_shelter_effect",
    "cumulative_incidence",
    "e_value",
    "e_value_note",
    "exposure_effects",
    "exits_by_reason",
    "fit_cause_specific_cox",
    "fit_window_model",
    "guidance_effects",
    "kaplan_meier",
    "length_of_stay",
    "occupancy_against_capacity",
    "outcome_scheme",
    "prior_procedure_band",
    "prior_procedures_gradient",
    "prior_procedures_gradients",
    "randomisation_inference",
    "rates_per_100_person_years",
    "stock_and_flows",
    "stock_at",
    "time_to_event",
    "trend_test_note",
    "wild_cluster_bootstrap",
    "webb_weights",
    "with_wild_bootstrap",
    "window_outcome",
]
