"""Estimates and bootstrap inference against the known hazards of the fake stays (FAKE_HAZARDS).

The fake stays have constant cause-specific hazards with known log hazard ratios and no pilot
effect on them, so each estimate must lie near its truth, a known effect must be detected and a
known null must not be. A wrong sign, a wrong column or a p-value that is always 1 fails here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from lvv_eval.analysis import FewClustersWarning, fit_cause_specific_cox, prior_procedures_gradient
from tests.helpers.fake_stays import FAKE_HAZARDS

TERMS = ("shelter_24h", "n_prior", "safe_country")
CAUSES = ("residence_permit", "return_origin", "subsequent_asylum", "unknown_destination")


def _fit(tte: pd.DataFrame, cause: str, covariates=TERMS, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        return fit_cause_specific_cox(tte, cause, list(covariates), **kw)


@pytest.mark.parametrize("cause", CAUSES)
def test_every_log_hazard_ratio_within_3_se_of_its_truth(reasons_tte, cause):
    fit = _fit(reasons_tte, cause, cluster=None)
    truth = dict(zip(TERMS, FAKE_HAZARDS[cause][1:], strict=True))
    z = {t: (fit.params[t] - truth[t]) / fit.se(t) for t in TERMS}
    assert all(abs(v) < 3 for v in z.values()), z


def test_known_effect_is_detected_and_its_interval_covers_the_truth(reasons_tte):
    # residence permit: log HR of 24-hour shelter 0.3 (FAKE_HAZARDS)
    row = _fit(reasons_tte, "residence_permit").row("shelter_24h")
    assert "bootstrap" in row["ci_method"]
    assert row["p_value"] < 0.05
    assert 1 < row["hr_lower"] < np.exp(0.3) < row["hr_upper"]


def test_known_null_is_not_rejected_and_its_interval_covers_one(reasons_tte):
    # subsequent asylum: 24-hour shelter has no effect (log HR 0.0)
    row = _fit(reasons_tte, "subsequent_asylum").row("shelter_24h")
    assert row["p_value"] >= 0.05
    assert row["hr_lower"] < 1 < row["hr_upper"]


def test_protective_effect_has_the_right_direction(reasons_tte):
    # unknown destination: log HR of 24-hour shelter -0.4
    row = _fit(reasons_tte, "unknown_destination").row("shelter_24h")
    assert row["hr"] < 1 and row["hr_upper"] < 1 and row["p_value"] < 0.05
    assert row["coef"] == pytest.approx(-0.4, abs=3 * row["se_model"])


@pytest.fixture(scope="module")
def gradient(reasons_tte):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        return prior_procedures_gradient(reasons_tte, "residence_permit",
                                         ["shelter_24h", "safe_country"], bootstrap=False)


def test_prior_procedures_trend_has_the_true_sign_and_size(gradient):
    # residence permit: log HR -0.10 per prior procedure; a flipped sign is 8 SE away
    per = gradient.table.set_index("contrast").loc["per procedure"]
    assert per["log_hr"] == pytest.approx(-0.10, abs=3 * per["se_model"])
    step = gradient.table.set_index("contrast").loc["per band step"]
    assert step["log_hr"] < 0


def test_prior_procedure_bands_follow_the_true_gradient(reasons_tte, gradient):
    # band b against 0: about -0.10 times the mean number of procedures in the band
    bands = gradient.table[gradient.table["kind"] == "band"].set_index("contrast")
    mean_n = reasons_tte.groupby("prior_band", observed=True)["n_prior"].mean()
    for band in ("1", "2-5", ">5"):
        row = bands.loc[f"{band} vs 0"]
        assert row["log_hr"] == pytest.approx(-0.10 * mean_n[band], abs=3 * row["se_model"])
    assert bands["log_hr"].is_monotonic_decreasing
