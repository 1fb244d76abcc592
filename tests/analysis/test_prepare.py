"""From stays to analysis frames: times, event codes under any scheme, bands, window outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lvv_eval.analysis.prepare import (
    CENSORED,
    EXIT_REASON_SCHEME,
    check_scheme,
    outcome_scheme,
    prior_procedure_band,
    time_to_event,
    window_outcome,
)
from lvv_eval.measures.definitions import load_definitions
from lvv_eval.schema import validate_stays


def test_fake_stays_meet_the_contract(stays):
    validate_stays(stays)


def test_time_counts_nights_and_censors_at_the_data_cut(stays, tte):
    exited = stays["exit_date"].notna().to_numpy()
    expected = np.where(
        exited,
        (stays["exit_date"] - stays["admission_date"]).dt.days + 1,
        (stays["data_cut_date"] - stays["admission_date"]).dt.days + 1,
    )
    np.testing.assert_array_equal(tte["time"], expected)
    assert (tte.loc[~exited, "event"] == 0).all()
    assert (tte.loc[exited, "event"] > 0).all()
    assert (tte.loc[~exited, "cause"] == CENSORED).all()


@pytest.mark.parametrize("name", list(load_definitions().outcome_schemes))
def test_every_scheme_of_the_definitions_file_works(stays, name):
    scheme = outcome_scheme(name)
    tte = time_to_event(stays, name)
    exited = stays["exit_reason"].notna().to_numpy()
    expected = stays.loc[exited, "exit_reason"].astype("object").map(scheme)
    assert (tte.loc[exited, "cause"].astype("object").to_numpy() == expected.to_numpy()).all()
    coding = tte.attrs["coding"]
    assert [coding.label(c) for c in tte["event"]] == tte["cause"].astype("object").tolist()


def test_scheme_must_classify_every_exit_reason():
    partial = dict(EXIT_REASON_SCHEME)
    partial.pop("deceased")
    with pytest.raises(ValueError, match="deceased"):
        check_scheme(partial)
    with pytest.raises(KeyError, match="no_such_scheme"):
        outcome_scheme("no_such_scheme")


def test_prior_procedure_bands():
    n = pd.Series([0, 1, 2, 5, 6, 30, None], dtype="Int64")
    bands = prior_procedure_band(n)
    assert bands.astype("object").tolist()[:6] == ["0", "1", "2-5", "2-5", ">5", ">5"]
    assert pd.isna(bands.iloc[6])
    assert bands.cat.ordered


def test_window_outcome_leaves_out_stays_censored_before_the_window(tte):
    w = window_outcome(tte, "durable", 180)
    censored_early = ((tte["event"] == 0) & (tte["time"] < 180)).sum()
    assert len(w) + censored_early == len(tte)
    assert w.attrs["n_censored_before_window"] == censored_early
    code = tte.attrs["coding"].code("durable")
    expected = ((w["event"] == code) & (w["time"] <= 180)).astype(float)
    np.testing.assert_array_equal(w["outcome"], expected)


def test_bad_dates_are_named(stays):
    bad = stays.copy()
    bad.loc[0, "exit_date"] = bad.loc[0, "admission_date"] - pd.Timedelta(days=3)
    with pytest.raises(ValueError, match=bad.loc[0, "stay_id"]):
        time_to_event(bad, "ee2022")
