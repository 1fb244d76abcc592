"""Effects of an exposure on every outcome class, guidance intensity and the pilot comparison."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from lvv_eval.analysis import (
    FitSettings,
    compare_pilots,
    compare_shelter_effect,
    exposure_effects,
    guidance_effects,
)
from lvv_eval.analysis.caveats import AnalysisWarning, DroppedRowsWarning
from lvv_eval.analysis.exposures import GUIDANCE_STEP, guidance_frame
from lvv_eval.disclosure import DisclosureGate
from tests.helpers.fake_stays import PILOT_FACTOR

ADJUST = ["n_prior", "safe_country"]


@pytest.fixture(scope="module")
def shelter(tte):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        return exposure_effects(tte, "shelter_24h", ADJUST, settings=FitSettings(n_reps=999))


def test_every_class_naive_and_adjusted_on_the_same_rows(tte, shelter):
    t = shelter.table
    classes = list(tte.attrs["coding"].classes)
    assert list(dict.fromkeys(t["cause"])) == classes
    assert list(t["estimate"]) == ["naive", "adjusted"] * len(classes)
    assert t["n_obs"].nunique() == 1 and len(shelter.models) == len(t)
    assert t.loc[t["estimate"] == "naive", "e_value"].isna().all()
    assert (t.loc[t["estimate"] == "adjusted", "e_value"] >= 1).all()


def test_one_class_equals_the_shelter_comparison(tte, shelter):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        single = compare_shelter_effect(tte, "semi_durable", ADJUST, n_reps=999).table
    mine = shelter.table[shelter.table["cause"] == "semi_durable"].reset_index(drop=True)
    for col in ("hr", "hr_lower", "hr_upper", "p_value", "e_value", "e_value_ci"):
        np.testing.assert_allclose(mine[col].to_numpy(float), single[col].to_numpy(float),
                                   rtol=1e-12, equal_nan=True)


def test_guidance_frame_puts_standard_first_and_steps_in_order(tte):
    frame = guidance_frame(tte)
    assert list(frame["guidance_intensity"].cat.categories) == ["standard", "light", "intensive"]
    steps = frame.groupby(frame["guidance_intensity"].astype("object"))[GUIDANCE_STEP].first()
    assert steps.to_dict() == {"light": 0.0, "standard": 1.0, "intensive": 2.0}
    with pytest.raises(ValueError, match="reference"):
        guidance_frame(tte, "medium")


def test_guidance_has_levels_and_trend_per_class(stays):
    from lvv_eval.analysis import time_to_event

    rng = np.random.default_rng(3)
    stays = stays.assign(guidance_intensity=pd.Categorical(
        rng.choice(["light", "standard", "intensive"], size=len(stays)),
        categories=["light", "standard", "intensive"], ordered=True))
    tte = time_to_event(stays, "ee2022")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        result = guidance_effects(tte, ["shelter_24h", *ADJUST], causes=["durable"],
                                  settings=FitSettings(n_reps=999))
    t = result.table
    assert list(zip(t["kind"], t["estimate"], t["level"], strict=True)) == [
        ("level", "naive", "light"), ("level", "naive", "intensive"),
        ("level", "adjusted", "light"), ("level", "adjusted", "intensive"),
        ("trend", "naive", "per step"), ("trend", "adjusted", "per step")]
    for row, model in zip(t.itertuples(), result.models, strict=True):  # each row from its model
        assert row.log_hr == pytest.approx(model.params[row.term])
    # the bootstrap interval (test inversion) excludes 1 exactly when p < 0.05
    holds_one = (t["hr_lower"] <= 1) & (t["hr_upper"] >= 1)
    assert (holds_one == (t["p_value"] >= 0.05)).all()


def test_pilots_compared_recover_the_fake_pilot_factors(reasons_tte):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        result = compare_pilots(reasons_tte, ["shelter_24h", "n_prior", "safe_country"],
                                causes=["subsequent_asylum", "unknown_destination"])
    t = result.adjusted()
    assert set(t["reference"]) == {"Amsterdam"}  # the pilot with the most stays
    assert t["ci_method"].str.startswith("cluster-robust").all()
    assert (t["n_clusters"] > 1000).all()  # clusters are people, not pilots
    factor = PILOT_FACTOR
    z = (t["log_hr"] - np.log(t["level"].map(factor) / factor["Amsterdam"])) / t["se_cluster_robust"]
    assert (z.abs() < 3).all(), z.tolist()


def test_a_named_reference_pilot_must_have_stays(tte):
    with pytest.raises(ValueError, match="Leiden"):
        compare_pilots(tte, ADJUST, reference="Leiden")


def test_exposure_cannot_be_adjusted_for(tte):
    with pytest.raises(ValueError, match="exposure"):
        exposure_effects(tte, "shelter_24h", ["shelter_24h"])


def test_gate_withholds_a_row_whose_level_has_few_events(tte):
    few = tte.copy()
    few.attrs = dict(tte.attrs)
    eindhoven = few["pilot"] == "Eindhoven"
    durable = few["event"] == few.attrs["coding"].code("durable")
    drop = few.index[eindhoven & durable][5:]  # leave five durable exits in Eindhoven
    few = few.drop(drop)
    few.attrs = dict(tte.attrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        result = compare_pilots(few, ADJUST, causes=["durable"])
    checked = DisclosureGate.from_policy(synthetic=True).effects(result, "pilots")
    shown = checked.data.set_index(["estimate", "level"])
    assert pd.isna(shown.loc[("adjusted", "Eindhoven"), "hr"])
    assert shown.loc[("adjusted", "Eindhoven"), "disclosure"] == "MODEL_LEVEL"
    assert pd.notna(shown.loc[("adjusted", "Groningen"), "hr"])


def test_guidance_says_once_how_many_stays_it_leaves_out(tte):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = guidance_effects(tte, ["shelter_24h", *ADJUST], causes=["durable"],
                                  settings=FitSettings(bootstrap=False, cluster="person_id"))
    dropped = [w for w in caught if issubclass(w.category, DroppedRowsWarning)]
    n = int(result.table["n_dropped_missing"].iloc[0])
    assert (len(dropped) == 1 and str(n) in str(dropped[0].message)) if n else not dropped
    assert result.table["n_dropped_missing"].nunique() == 1  # levels and trend on the same stays
