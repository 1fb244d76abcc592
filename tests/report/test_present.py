"""The presentation helpers: the stays a notebook selects and how a table's cells read."""

from __future__ import annotations

import pandas as pd
import pytest

from lvv_eval.measures.definitions import load_definitions
from lvv_eval.report.present import column_formats, format_value, report_labels, select_stays
from tests.helpers.fake_stays import fake_stays


@pytest.fixture(scope="module")
def stays():
    s = fake_stays(300, seed=2)
    s.loc[s.index[:20], "in_covenant"] = False
    return s


def test_population_pilots_and_reference_date_select_and_count(stays):
    ref = pd.Timestamp("2021-01-01")
    sel = select_stays(stays, load_definitions(), "in_covenant", ["Amsterdam", "Utrecht"], ref)
    out = sel.stays
    assert set(out["pilot"].astype(str)) == {"Amsterdam", "Utrecht"}
    assert list(out["pilot"].cat.categories) == ["Amsterdam", "Utrecht"]
    assert out["in_covenant"].all() and (out["admission_date"] <= ref).all()
    assert not (out["exit_date"] > ref).any()  # later exits censored at the reference date
    assert (out["data_cut_date"] <= ref).all()
    later = stays.loc[out.index]
    assert out.loc[later["exit_date"] > ref, "exit_reason"].isna().all()
    assert sel.n_total == len(stays) == len(out) + sum(sel.excluded.values())
    assert sel.excluded["population"] == 20


@pytest.mark.parametrize(("value", "fmt", "lang", "text"), [
    (0.43125, "percent", "nl", "43,1"),
    (0.43125, "percent", "en", "43.1"),
    (1234.0, "integer", "nl", "1.234"),
    (0.0004, "pvalue", "en", "<0.001"),
    (0.0312, "pvalue", "nl", "0,031"),
    (1.23456, "ratio", "en", "1.23"),
    ("x", "percent", "nl", "x"),  # the disclosure marker stays as it is
    (float("nan"), "decimal1", "nl", ""),
])
def test_cells_read_with_one_decimal_percentages_and_local_separators(value, fmt, lang, text):
    assert format_value(value, fmt, lang)[0] == text


def test_an_interval_limit_takes_the_format_of_its_estimate():
    specs = report_labels()["columns"]
    assert column_formats(["pilot", "cif", "lower", "upper"], specs)["lower"] == "percent"
    assert column_formats(["median_days", "lower"], specs)["lower"] == "integer"
    assert column_formats(["rate_per_100py", "upper"], specs)["upper"] == "decimal1"


def test_every_column_of_the_standard_tables_has_dutch_and_english_words():
    specs = report_labels()["columns"]
    for name, spec in specs.items():
        assert spec.get("nl") and spec.get("en"), name


def test_a_small_count_in_a_note_is_not_shown(stays, tmp_path):
    from lvv_eval.report.present import Report

    rep = Report("04_outcomes_by_pilot", {"lang": "en"}, folder=tmp_path,
                 stays=stays.assign(in_covenant=True))
    note = rep.note(n=4, excluded={"missing_covariates": 3})
    assert "N = x stays" in note and "missing covariates (not in the model) x" in note
    assert "N = 300 stays" in rep.note()


def test_a_note_about_every_delivered_row_names_its_unit_and_no_selection(stays, tmp_path):
    """The audit trail's tables count rows, files or cells of every delivery: their note names
    that unit and neither the population nor exclusions that do not apply to them."""
    from lvv_eval.report.present import Report

    rep = Report("01_data_harmonisation", {"lang": "en"}, folder=tmp_path, stays=stays)
    assert rep.excluded and sum(rep.excluded.values()) > 0  # the selection leaves stays out
    note = rep.note(n=3104, unit="rows", selection=False)
    assert "N = 3,104 rows" in note and "excluded" not in note and "population" not in note
    assert "population" in rep.note(n=3104)


def test_the_analysis_caveats_show_once_in_dutch_and_few_clusters_is_left_to_the_note():
    import warnings

    from lvv_eval.analysis.caveats import DroppedRowsWarning, FewClustersWarning
    from lvv_eval.report.present import Report, localise_caveat

    message = "100 stays left out for missing values in ['shelter_24h', 'n_prior']"
    assert localise_caveat(message, "nl") == ("100 verblijven weggelaten wegens ontbrekende waarden in "
                                              "['shelter_24h', 'n_prior']")
    assert localise_caveat(message, "en") == message
    assert localise_caveat("an unforeseen caveat", "nl") == "an unforeseen caveat"
    shown: list[str] = []

    class FakeReport:
        lang = "nl"
        show_caveats = Report.show_caveats

        def show_text(self, text: str) -> None:
            shown.append(text)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            warnings.warn(message, DroppedRowsWarning, stacklevel=1)
        warnings.warn("few clusters", FewClustersWarning, stacklevel=1)
        warnings.warn("not a caveat", UserWarning, stacklevel=1)
    FakeReport().show_caveats(caught)
    assert shown == [localise_caveat(message, "nl")]


def test_reselect_takes_another_population_and_the_note_follows(stays, tmp_path):
    from lvv_eval.report.present import Report

    rep = Report("07_sensitivity", {"lang": "en"}, folder=tmp_path, stays=stays)
    assert rep.excluded["population"] == 20  # the fixture's 20 stays outside the covenant
    rep.reselect("all_registered", stays["data_cut_date"].max())
    assert rep.excluded.get("population", 0) == 0 and rep.n == len(stays)
    assert rep.population == "all_registered" and "outside" not in rep.note()
