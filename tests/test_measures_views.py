"""Monitor rounds, the monitor over time, and the readable views and figures of the published
figures and the monitor (lvv_eval.measures.monitor, lvv_eval.measures.views): what a figure draws
is what its gated table shows, and one gate over the monitor keeps the two views consistent."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
import yaml

from lvv_eval import config
from lvv_eval.capacity import load_capacity_file
from lvv_eval.disclosure import DisclosureGate
from lvv_eval.disclosure.figures import drawn_values
from lvv_eval.measures import views
from lvv_eval.measures.definitions import load_definitions
from lvv_eval.measures.monitor import (
    ROUNDS_YAML,
    MonitorRoundsError,
    monitor_over_time,
    monitor_rounds,
    monitor_snapshots,
)
from lvv_eval.measures.reconcile import reconcile_figure
from lvv_eval.measures.reproduce import STATUSES, load_published, reproduce_table

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def defs():
    return load_definitions()


@pytest.fixture(scope="module")
def over_time(truth_stays, defs) -> pd.DataFrame:
    return monitor_over_time(truth_stays, "2019-01-01", "2021-01-01", defs, load_capacity_file())


def test_the_rounds_are_the_published_number_and_end_on_the_published_date():
    published = load_published().set_index("figure_id")
    for lang in ("nl", "en"):
        rounds = monitor_rounds(lang)
        assert len(rounds) == int(published.loc["kb2020.monitor_rounds.all", "value"])
        last = rounds.iloc[-1]
        assert last["date"] == pd.Timestamp(config.REFERENCE_DATES["kb2020"]) and last["published"]
        assert not rounds.iloc[:-1]["published"].any()
        assert rounds["basis"].str.len().gt(0).all()
    assert monitor_rounds("nl")["basis"].tolist() != monitor_rounds("en")["basis"].tolist()


def test_a_rounds_file_with_other_dates_is_refused(tmp_path):
    spec = yaml.safe_load(ROUNDS_YAML.read_text(encoding="utf-8"))
    spec["rounds"][1]["date"] = "2019-08-01"
    path = tmp_path / "rounds.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(MonitorRoundsError, match="2019-08-01"):
        monitor_rounds("nl", path)


def test_the_monitor_over_time_holds_the_monitor_at_the_rounds(truth_stays, defs, over_time):
    rounds = [d for d in config.MONITOR_ROUNDS if d <= pd.Timestamp("2021-01-01").date()]
    alone = monitor_snapshots(truth_stays, rounds, defs, load_capacity_file())
    at_rounds = over_time[over_time["at_round"]].reset_index(drop=True)
    keys = ["date", "pilot", "indicator"]
    merged = alone.merge(at_rounds, on=keys, suffixes=("", "_t"), validate="one_to_one")
    assert len(merged) == len(alone)
    assert np.allclose(merged["value"], merged["value_t"], equal_nan=True)
    between = over_time[~over_time["at_round"]]
    assert set(between["indicator"].astype(str)) == {"present", "capacity", "occupancy_pct"}
    assert between["date"].dt.day.eq(1).all()


def test_one_gate_over_the_monitor_and_the_series_hides_at_the_rounds_what_the_monitor_hides(
        truth_stays, defs, over_time):
    gate = DisclosureGate.from_policy(synthetic=True)
    together = gate.monitor(over_time, defs.monitor, "all", "together").shown()
    rounds = sorted(set(over_time.loc[over_time["at_round"], "date"].dt.date))
    alone = gate.monitor(monitor_snapshots(truth_stays, rounds, defs, load_capacity_file()),
                         defs.monitor, "all", "alone").shown()
    at_rounds = together[over_time["at_round"].to_numpy()]
    keys = ["date", "pilot", "indicator"]
    merged = alone.merge(at_rounds, on=keys, suffixes=("", "_t"))
    assert (merged["value"].astype(str) == merged["value_t"].astype(str)).all()
    assert (merged["value"].astype(str) == "x").any()  # the check has something to compare


def test_the_occupancy_figure_draws_exactly_the_shown_present_and_places(defs, over_time):
    gate = DisclosureGate.from_policy(synthetic=True)
    checked = gate.monitor(over_time, defs.monitor, "all", "occupancy")
    shown = checked.shown()
    fig = views.plot_occupancy(shown, "nl", True, rounds=monitor_rounds("nl"))
    drawn = drawn_values(fig)
    for pilot in config.PILOTS:
        present = shown[(shown["pilot"].astype(str) == pilot)
                        & (shown["indicator"].astype(str) == "present")]
        expected = pd.to_numeric(present["value"], errors="coerce").dropna()
        got = drawn[drawn["series"] == pilot]["y"]
        assert sorted(got) == sorted(expected), pilot
    assert gate.figure(fig, "occupancy.png", [checked])[0].status == "pass"


def test_the_waterfall_figure_draws_only_shown_counts_and_passes(truth_stays, defs):
    waterfall = reconcile_figure("kb2020.durable.all", truth_stays, defs=defs,
                                 capacity=load_capacity_file())
    gate = DisclosureGate.from_policy(synthetic=True)
    checked = gate.waterfall(waterfall, "waterfall")
    shown = checked.shown()
    fig = views.plot_waterfall(shown, "en", True, "kb2020.durable.all", "all")
    xs = drawn_values(fig)["x"]
    counts = pd.to_numeric(shown["remaining"], errors="coerce").dropna()
    assert set(xs) <= set(counts) | {0.0}
    assert set(counts[~shown["step"].isin(views.NOT_COUNTS)]) <= set(xs)
    assert gate.figure(fig, "waterfall.png", [checked], axis="x")[0].status == "pass"
    view = views.waterfall_view(shown, "nl")
    assert view["label"].tolist() == waterfall["label_nl"].tolist()


def test_reproduce_views_label_every_status_and_keep_every_figure(truth_stays, defs):
    for lang in ("nl", "en"):
        values = views.view_labels(lang)["values"]
        assert set(STATUSES) <= set(values)
    table = reproduce_table(truth_stays, defs=defs, capacity=load_capacity_file())
    figures = views.reproduce_figures(table, "nl")
    assert figures["figure_id"].tolist() == table["figure_id"].tolist()
    nl_status = {views.view_labels("nl")["values"][s] for s in table["status"].astype(str)}
    assert set(figures["status"]) == nl_status
    gaps = views.reproduce_reasons(table, "en", only_gaps=True)
    assert gaps["reason"].str.len().gt(0).all()
    counts = views.status_counts(table, "en")
    assert counts.drop(columns=counts.columns[0]).to_numpy().sum() == len(table)


def test_a_figure_without_a_waterfall_or_an_unknown_pilot_is_refused(defs):
    from lvv_eval.measures.reconcile import (
        FigureChoiceError,
        check_figure_choice,
        reconcilable_figures,
    )

    choices = reconcilable_figures(defs)
    assert choices and all(defs.indicators[f]["measure"] in ("count", "share") for f in choices)
    check_figure_choice(defs, choices[0], "Utrecht")
    not_reconcilable = next(f for f in defs.indicators if f not in choices)
    with pytest.raises(FigureChoiceError, match=f"figure_id='{not_reconcilable}'"):
        check_figure_choice(defs, not_reconcilable)
    with pytest.raises(FigureChoiceError, match="figure_pilot='Leiden'"):
        check_figure_choice(defs, choices[0], "Leiden")


def test_no_heading_of_these_views_is_taken_for_a_report_column_with_another_meaning():
    """The report shows a heading with the format (or hides it) of the report column of that
    name: a heading such as 'kind' would vanish from the table."""
    from lvv_eval.ingest.audit import audit_labels
    from lvv_eval.report.present import report_labels

    report_columns = report_labels()["columns"]
    for lang in ("nl", "en"):
        for headings in ({k: v for k, v in audit_labels(lang).items() if isinstance(v, str)},
                         views.view_labels(lang)["columns"], monitor_rounds(lang).attrs["labels"]):
            clashes = {code: text for code, text in headings.items()
                       if text in report_columns and text != code}
            assert not clashes, (lang, clashes)


def test_published_values_in_dutch_words(defs):
    qualifiers = defs.comparison["approximate_qualifiers"]
    for qualifier, band in qualifiers.items():
        said = views.published_words(defs, f"{qualifier} 40", "nl")
        assert said.endswith(" 40") and qualifier not in said
        assert said.split(" 40")[0] in band["label_nl"]
        assert views.published_words(defs, f"{qualifier} 40", "en") == f"{qualifier} 40"
    assert views.published_words(defs, "yes", "nl") == "ja"
    assert views.published_words(defs, "1142", "nl") == "1142"


def test_waterfall_details_in_dutch(truth_stays, defs):
    from lvv_eval.measures.definitions import label

    fid = "ee2022.durable.share"
    waterfall = reconcile_figure(fid, truth_stays, defs=defs, capacity=load_capacity_file())
    nl = views.waterfall_view(waterfall, "nl", defs, fid)
    en = views.waterfall_view(waterfall, "en", defs, fid)
    assert en["detail"].tolist() == waterfall["detail"].fillna("").tolist()
    spec = defs.indicators[fid]
    steps = waterfall["step"]
    assert set(nl.loc[steps.str.startswith("population:"), "detail"]) == {
        label(defs.populations[spec["population"]], "nl")}
    assert set(nl.loc[steps.str.startswith("base:"), "detail"]) == {label(defs.bases[spec["base"]], "nl")}
    changed = nl["detail"] != en["detail"]
    assert changed.sum() >= 3 and not nl.loc[changed, "detail"].str.contains("of which|audit trail").any()


def test_the_monitor_over_time_before_the_first_round_is_the_series_alone(truth_stays, defs):
    before = pd.Timestamp(config.MONITOR_ROUNDS[0]) - pd.Timedelta(days=1)
    table = monitor_over_time(truth_stays, "2019-01-01", before, defs, load_capacity_file())
    assert not table["at_round"].any() and len(table)
    assert pd.api.types.is_datetime64_any_dtype(table["date"]) and (table["date"] <= before).all()
    assert views.monitor_view(table, defs, "nl").empty
