"""Known truth: guidance intensity, each level against standard and the ordered trend.

The generator (lvv_eval.synth.dgp) draws guidance intensity per pilot and shelter type and gives
it log hazard ratios per exit reason (``intensity_light``, ``intensity_intensive`` against
standard). Here the truth for an unknown destination is made linear in the step light < standard
< intensive (-0.25, 0, +0.25), so that both the levels and the trend per step have a known value;
with the pilot as strata and shelter type, the observed case mix and the generator's hidden
factors adjusted for, the estimates lie within 3 SE of it (robust by person).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from lvv_eval.analysis import EXIT_REASON_SCHEME, FitSettings, guidance_effects, time_to_event
from lvv_eval.synth.dgp import DGPParams, return_country_ratio, simulate_cohort

STEP = 0.25
ADJUST = ["shelter_24h", "n_prior", "safe_country", "asylum_background", "age_10y", "female",
          "family", "medical", "country_return"]


@pytest.fixture(scope="module")
def linear_truth() -> tuple[pd.DataFrame, dict]:
    params = DGPParams.default().override(
        log_hazard_ratios__unknown_destination__intensity_light=-STEP,
        log_hazard_ratios__unknown_destination__intensity_intensive=STEP,
    )
    cohort = simulate_cohort(15_000, seed=31, params=params)
    tte = time_to_event(cohort.stays, EXIT_REASON_SCHEME)
    tte["medical"] = cohort.hidden["medical"].astype(float).to_numpy()
    ratio = return_country_ratio(cohort.stays["country_of_origin"],
                                 cohort.truth["return_country_hazard_ratio"])
    tte["country_return"] = np.log(np.clip(ratio, 0.01, None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effects = guidance_effects(tte, ADJUST, causes=["unknown_destination", "return_origin"],
                                   settings=FitSettings(cluster="person_id", bootstrap=False))
    return effects.adjusted(), cohort.truth["log_hazard_ratios"]


def _z(row: pd.Series, target: float) -> float:
    return (row["log_hr"] - target) / row["se_cluster_robust"]


def test_levels_are_against_standard_and_recover_the_truth(linear_truth):
    table, truth = linear_truth
    levels = table[table["kind"] == "level"]
    assert set(levels["reference"]) == {"standard"}
    assert set(levels["level"]) == {"light", "intensive"}
    for _, row in levels.iterrows():
        target = truth[row["cause"]][f"intensity_{row['level']}"]
        assert abs(_z(row, target)) < 3, (row["cause"], row["level"], row["log_hr"], target)


def test_trend_per_step_recovers_a_linear_truth(linear_truth):
    table, truth = linear_truth
    trend = table[(table["kind"] == "trend") & (table["cause"] == "unknown_destination")].iloc[0]
    assert truth["unknown_destination"]["intensity_intensive"] == STEP
    assert abs(_z(trend, STEP)) < 3, trend["log_hr"]
    assert trend["p_cluster_robust"] < 0.001  # 0.25 per step is found, not just not excluded
