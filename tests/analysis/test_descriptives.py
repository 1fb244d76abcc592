"""Descriptives: stock and flows close, rates, occupancy, exits by reason with zeros kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lvv_eval.analysis import (
    exits_by_reason,
    kaplan_meier,
    length_of_stay,
    occupancy_against_capacity,
    rates_per_100_person_years,
    stock_and_flows,
    stock_at,
)
from lvv_eval.capacity import load_capacity_file
from lvv_eval.config import PILOTS
from lvv_eval.schema import EXIT_REASONS


def test_stock_counts_stays_present_on_the_date(stays):
    d = pd.Timestamp("2020-11-01")
    expected = stays[
        (stays["admission_date"] <= d) & (stays["exit_date"].isna() | (stays["exit_date"] >= d))
    ].groupby("pilot", observed=False).size()
    got = stock_at(stays, [d]).set_index("pilot")["stock"]
    assert got.to_dict() == expected.to_dict()


def test_stock_and_flows_close(stays):
    table = stock_and_flows(stays, freq="QS")
    closes = table["stock_start"] + table["admissions"] - table["exits"] - table["stock_end"]
    assert (closes == 0).all()
    for _, per_pilot in table.groupby("pilot", observed=True):
        np.testing.assert_array_equal(
            per_pilot["stock_start"].to_numpy()[1:], per_pilot["stock_end"].to_numpy()[:-1]
        )
    assert set(table["pilot"].astype(str)) == set(PILOTS)
    assert table["admissions"].sum() == len(stays)


def test_exits_by_reason_keeps_empty_reasons(stays):
    table = exits_by_reason(stays, "ee2022")
    assert len(table) == len(PILOTS) * len(EXIT_REASONS)
    assert table["exits"].sum() == stays["exit_reason"].notna().sum()
    assert (table.loc[table["exit_reason"] == "back_to_bbb", "exits"] == 0).all()
    assert table.groupby("pilot", observed=False)["share"].sum().round(12).eq(1).all()


def test_rates_per_100_person_years(tte):
    rates = rates_per_100_person_years(tte)
    ams = tte[tte["pilot"] == "Amsterdam"]
    py = ams["time"].sum() / 365.25
    row = rates[(rates["pilot"] == "Amsterdam") & (rates["cause"] == "durable")].iloc[0]
    assert row["rate_per_100py"] == pytest.approx(100 * (ams["cause"] == "durable").sum() / py)
    assert row["lower"] < row["rate_per_100py"] < row["upper"]


def test_occupancy_against_the_package_capacity_file(stays):
    cap = load_capacity_file()
    occ = occupancy_against_capacity(stays, cap, ["2020-11-01", "2021-11-01"])
    assert len(occ) == 10
    assert occ.groupby("pilot", observed=True)["places"].first().to_dict() == dict(
        zip(cap["pilot"], cap["places"], strict=True))
    np.testing.assert_allclose(occ["occupancy"].astype(float),
                               occ["stock"] / occ["places"].astype(float))


def test_capacity_change_takes_effect_from_its_date(stays, tmp_path):
    (tmp_path / "cap.csv").write_text("pilot,places,valid_from,valid_to\n"
                                      "Amsterdam,100,2019-01-01,2020-12-31\n"
                                      "Amsterdam,200,2021-01-01,\n")
    occ = occupancy_against_capacity(stays[stays["pilot"] == "Amsterdam"],
                                     load_capacity_file(tmp_path / "cap.csv"),
                                     ["2020-06-01", "2021-06-01"])
    ams = occ[occ["pilot"] == "Amsterdam"]
    assert ams["places"].tolist() == [100, 200]


def test_kaplan_meier_and_length_of_stay(tte):
    km = kaplan_meier(tte, by="pilot")
    assert (km.groupby("group")["surv"].apply(lambda s: s.is_monotonic_decreasing)).all()
    los = length_of_stay(tte, by="pilot")
    assert len(los) == 5
    ok = los["upper"].notna()
    assert (los.loc[ok, "lower"] <= los.loc[ok, "median_days"]).all()
    assert (los.loc[ok, "median_days"] <= los.loc[ok, "upper"]).all()


def test_rates_over_time_by_pilot_and_admission_year(tte):
    rates = rates_per_100_person_years(tte, by=["pilot", "admission_year"])
    assert set(rates["admission_year"]) == set(tte["admission_year"])
    assert rates["events"].sum() == (tte["event"] > 0).sum()
