"""An analysis the data cannot support raises NotEstimable, and a report section says why."""

from __future__ import annotations

import pandas as pd
import pytest

from lvv_eval.analysis import NotEstimable, cumulative_incidence, fit_cause_specific_cox
from lvv_eval.analysis.design import check_full_rank


def _tte(n: int = 12) -> pd.DataFrame:
    return pd.DataFrame({
        "time": [float(10 + i) for i in range(n)],
        "cause": ["durable" if i % 3 == 0 else ("censored" if i % 3 == 1 else "departure") for i in range(n)],
        "pilot": ["Rotterdam"] * n,
        "person_id": [f"p{i}" for i in range(n)],
        "guidance_intensity": pd.Series([pd.NA] * n, dtype="object"),
        "age_10y": [3.0 + i / 10 for i in range(n)],
    })


def test_cumulative_incidence_by_a_variable_never_delivered_is_not_estimable(truth_stays):
    from lvv_eval.analysis import time_to_event

    tte = time_to_event(truth_stays.assign(guidance_intensity=pd.NA), "ee2022")
    with pytest.raises(NotEstimable, match="no stays with a known guidance_intensity"):
        cumulative_incidence(tte, by="guidance_intensity")


def test_an_empty_design_is_not_estimable_and_still_a_value_error():
    with pytest.raises(ValueError, match="no stays with every covariate known"):
        check_full_rank(pd.DataFrame({"age_10y": pd.Series([], dtype=float)}))
    with pytest.raises(NotEstimable, match="without variation"):
        check_full_rank(pd.DataFrame({"age_10y": [1.0, 1.0, 1.0]}))


def test_a_cox_model_on_no_complete_stays_is_not_estimable():
    tte = _tte()
    with pytest.raises(NotEstimable, match="no stays with every one of"):
        fit_cause_specific_cox(tte, "durable", ["guidance_intensity"])


def test_a_report_section_the_data_cannot_support_says_why(monkeypatch):
    from lvv_eval.report import present

    shown: list[str] = []

    class FakeReport:
        lang = "nl"
        estimable = present.Report.estimable

        def show_text(self, text: str) -> None:
            shown.append(text)

    with FakeReport().estimable():
        raise NotEstimable("cumulative incidence by ['guidance_intensity']: no stays with a known x")
    assert shown and "niet te berekenen" in shown[0] and "guidance_intensity" in shown[0]
    with pytest.raises(ZeroDivisionError), FakeReport().estimable():  # other errors still fail
        _ = 1 / 0


def test_gated_curves_keep_the_count_of_stays_without_a_group(truth_stays):
    """The note under a curve by guidance intensity names the stays without a known intensity;
    the gate used to drop that count with the table's other attributes."""
    import warnings

    from lvv_eval.analysis import time_to_event
    from lvv_eval.disclosure import DisclosureGate

    stays = truth_stays.copy()
    stays.loc[stays.index[:25], "guidance_intensity"] = pd.NA
    tte = time_to_event(stays, "ee2022")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curves = cumulative_incidence(tte, by="guidance_intensity")
    missing = int(tte["guidance_intensity"].isna().sum())
    assert missing >= 25 and curves.table.attrs["n_missing_group"] == missing
    gated = DisclosureGate.from_policy(synthetic=True).cumulative_incidence(curves, tte, "by_guidance")
    assert gated.result.table.attrs["n_missing_group"] == missing
