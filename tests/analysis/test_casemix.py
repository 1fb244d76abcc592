"""The case-mix table ("table 1") and the region of origin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lvv_eval.analysis import case_mix, time_to_event
from lvv_eval.analysis.regions import origin_region, origin_regions, region_label
from lvv_eval.disclosure import DisclosureGate
from lvv_eval.schema import COUNTRIES


@pytest.fixture(scope="module")
def table(tte) -> pd.DataFrame:
    return case_mix(tte)


def test_levels_add_up_to_the_group_and_groups_to_all(tte, table):
    counted = table[table["n"].notna() & ~table["variable"].isin(["stays", "persons"])]
    sums = counted.groupby(["pilot", "variable"], observed=True)["n"].sum().unstack("variable")
    stays = table[table["variable"] == "stays"].set_index("pilot")["n"]
    for variable in sums.columns:
        assert (sums[variable] == stays.reindex(sums.index)).all(), variable
    by_pilot = counted[counted["pilot"] != "all"].groupby(["variable", "level"])["n"].sum()
    overall = counted[counted["pilot"] == "all"].set_index(["variable", "level"])["n"]
    assert (by_pilot.reindex(overall.index) == overall).all()
    assert stays["all"] == len(tte)


def test_counts_percentages_and_medians_match_the_frame(tte, table):
    ams = tte[tte["pilot"] == "Amsterdam"]
    row = table[(table["pilot"] == "Amsterdam") & (table["variable"] == "shelter_24h")
                & (table["level"] == "24h")].iloc[0]
    assert row["n"] == int((ams["shelter_24h"] == 1).sum())
    assert row["percent"] == pytest.approx(100 * row["n"] / len(ams))
    sex = table[(table["pilot"] == "Amsterdam") & (table["variable"] == "sex")].set_index("level")
    assert sex.loc["missing", "n"] == int(ams["female"].isna().sum())  # unknown sex is not male
    age = table[(table["pilot"] == "Amsterdam") & (table["variable"] == "age")
                & (table["level"] == "median")].iloc[0]
    known = ams["age"].dropna()
    assert age["median"] == pytest.approx(known.median())
    assert age["q1"] == pytest.approx(np.percentile(known, 25))
    assert age["n_known"] == len(known)


def test_a_missing_level_only_where_something_is_missing(tte, table):
    assert not ((table["variable"] == "shelter_24h") & (table["level"] == "missing")).any()
    assert tte["shelter_24h"].notna().all()
    frame = tte.copy()
    frame.loc[frame.index[:3], "shelter_24h"] = np.nan
    with_missing = case_mix(frame)
    rows = with_missing[(with_missing["variable"] == "shelter_24h") & (with_missing["level"] == "missing")]
    assert rows.set_index("pilot").loc["all", "n"] == 3


def test_every_country_has_a_region_and_known_ones_are_right():
    regions = origin_regions()
    assert set(COUNTRIES) <= set(regions["countries"])
    codes = pd.Series(["ERI", "IRN", "MAR", "ALB", "NGA", "CHN", "ARM", "XXX", None])
    got = origin_region(codes).astype("object").tolist()
    assert got[:-1] == ["east_central_southern_africa", "south_central_asia", "north_africa",
                        "europe", "west_africa", "east_asia", "west_asia", "other"]
    assert pd.isna(got[-1])
    assert region_label("north_africa", "nl") == "Noord-Afrika"


def test_an_unknown_country_code_is_named():
    with pytest.raises(KeyError, match="QQQ"):
        origin_region(pd.Series(["QQQ"]))


def test_the_gate_hides_small_cells_and_what_gives_them_away(stays):
    small = stays[stays["pilot"] != "Eindhoven"].copy()
    small.loc[small.index[:4], "family"] = True
    small.loc[small.index[4:], "family"] = False
    tte = time_to_event(small, "ee2022")
    gate = DisclosureGate.from_policy(synthetic=True)
    checked = gate.case_mix(case_mix(tte))
    shown = checked.data
    family = shown[(shown["variable"] == "family")]
    yes = family[family["level"] == "yes"]
    assert yes["n"].isna().any() and yes["percent"].isna().any()  # 4 people: below the threshold
    first = family[(family["pilot"] == str(small["pilot"].iloc[0]))].set_index("level")
    assert pd.isna(first.loc["no", "n"])  # the group's size would give the small cell away
