"""The definitions file: it loads, covers every published figure, rejects malformed entries with
the YAML path, and its building blocks (status, units, outcomes, conditions) mean what the
design documents say."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from lvv_eval.config import PUBLISHED_FIGURES_CSV
from lvv_eval.measures.definitions import (
    DEFINITIONS_YAML,
    DefinitionsError,
    base_mask,
    classify_exits,
    known_at_reference_mask,
    last_stay_per_person,
    load_definitions,
    load_definitions_mapping,
    reduce_to_unit,
    resolve_reference_date,
    scheme_classes,
    stay_status,
    where_mask,
)
from lvv_eval.schema import EXIT_REASONS
from tests.helpers.stays import make_stays

REF = pd.Timestamp("2020-11-01")


def raw_yaml() -> dict:
    return yaml.safe_load(DEFINITIONS_YAML.read_text(encoding="utf-8"))


def write_yaml(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "definitions.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def defs():
    return load_definitions()


def test_package_definitions_load(defs):
    assert defs.path == DEFINITIONS_YAML
    assert {"kb2020_letter", "ee2022", "temporary_solution_broad"} <= set(defs.outcome_schemes)
    assert {"admitted", "present", "leavers", "person_time"} <= set(defs.bases)
    assert {"stays", "persons"} <= set(defs.units)


def test_every_published_figure_has_an_indicator_for_its_pilot_and_date(defs):
    published = pd.read_csv(PUBLISHED_FIGURES_CSV, dtype=str, keep_default_na=False)
    assert set(published["figure_id"]) == set(defs.indicators)
    for _, row in published.iterrows():
        spec = defs.indicators[row["figure_id"]]
        assert spec["pilot"] == row["pilot"], row["figure_id"]
        if row["reference_date"]:
            ref = resolve_reference_date(defs, spec["reference_date"])
            assert ref == pd.Timestamp(row["reference_date"]), row["figure_id"]


def test_every_scheme_partitions_the_exit_reasons(defs):
    for name in defs.outcome_schemes:
        classes = defs.outcome_schemes[name]["classes"]
        reasons = [r for c in classes.values() for r in c["exit_reasons"]]
        assert sorted(reasons) == sorted(EXIT_REASONS), name


def test_broad_variant_is_labelled_as_such(defs):
    scheme = defs.outcome_schemes["temporary_solution_broad"]
    assert "BROAD VARIANT" in scheme["label_en"] and "BREDE VARIANT" in scheme["label_nl"]


def test_kb2020_durable_group_is_residence_plus_departure(defs):
    classes = scheme_classes(defs, "kb2020_letter")
    assert classes["durable"] == {"residence_permit", "return_origin", "onward_migration"}
    assert classes["durable"] == scheme_classes(defs, "ee2022")["durable"]


def test_exit_reason_in_two_classes_is_rejected_with_its_path(tmp_path):
    raw = raw_yaml()
    raw["outcome_schemes"]["ee2022"]["classes"]["durable"]["exit_reasons"].append(
        "subsequent_asylum"
    )
    with pytest.raises(DefinitionsError, match=r"definitions.yaml: outcome_schemes\.ee2022\.classes"
                       r"\.semi_durable: exit reason 'subsequent_asylum' is also in class 'durable'"):
        load_definitions(write_yaml(tmp_path, raw))


def test_unknown_names_are_all_reported_at_once(tmp_path):
    raw = raw_yaml()
    raw["indicators"]["kb2020.present.all"]["population"] = "in_covenent"
    raw["indicators"]["kb2020.durable.all"]["condition"]["outcome"]["class"] = "durabel"
    raw["populations"]["in_covenant"]["where"]["in_covenant"] = {"eq": "ja"}
    with pytest.raises(DefinitionsError) as err:
        load_definitions(write_yaml(tmp_path, raw))
    text = str(err.value)
    assert "indicators.kb2020.present.all.population: unknown population 'in_covenent'" in text
    assert "indicators.kb2020.durable.all.condition.outcome.class" in text
    assert "populations.in_covenant.where.in_covenant" in text
    assert "3 problem(s)" in text


def test_structure_and_cross_checks_are_reported_together_with_their_yaml_paths(tmp_path):
    """The declared schema (definitions_models.py) reports typos of keys and values, the
    cross-checks report names of other sections; every line starts with the file name."""
    raw = raw_yaml()
    raw["indicators"]["kb2020.durable.all"]["base"] = "presnt"
    raw["indicators"]["kb2020.durable.all"]["meassure"] = "count"
    raw["units"]["persons"]["reduce"] = "last_stay"
    raw["bases"]["present"]["status"] = ["present", "gone"]
    raw["reference_dates"]["kb2020"]["date"] = "soon"
    raw["words"]["nl"].pop("count")
    raw["indicators"]["kb2020.mean_age.all"].pop("column")
    raw["indicators"]["kb2020.scenario.all"]["reference_date"] = "kb2021"
    with pytest.raises(DefinitionsError) as err:
        load_definitions(write_yaml(tmp_path, raw))
    lines = str(err.value).splitlines()
    assert lines[0].endswith("definitions.yaml: 8 problem(s):")
    expected = [
        "indicators.kb2020.durable.all.base: unknown base 'presnt' (choose one of ",
        "indicators.kb2020.durable.all: unknown key(s) ['meassure']",
        "(did you mean 'measure'?)",
        "units.persons.reduce: unknown unit reduction 'last_stay' (choose one of none, "
        "last_stay_per_person, first_stay_per_person)",
        "bases.present.status[1]: unknown status 'gone'",
        "reference_dates.kb2020.date: expected a date (YYYY-MM-DD), got 'soon'",
        "words.nl.count: missing (required)",
        "indicators.kb2020.mean_age.all.column: missing: measure 'mean' needs it",
        "indicators.kb2020.scenario.all.reference_date: unknown reference date 'kb2021'",
    ]
    for text in expected:
        assert any(line.strip().startswith("definitions.yaml: ") and text in line
                   for line in lines), text


def test_a_mapping_is_validated_with_the_same_models_without_a_file():
    """What a sensitivity grid or `spec check` uses: a mapping in, Definitions out."""
    raw = raw_yaml()
    raw["bases"]["leavers"]["status"] = ["left", "present"]
    defs = load_definitions_mapping(raw, "grid variant 7")
    assert defs.bases["leavers"]["status"] == ["left", "present"]
    assert defs.model.bases["leavers"].status == ["left", "present"]
    raw["indicators"]["kb2020.durable.all"]["condition"]["outcome"]["scheme"] = "ee2023"
    with pytest.raises(DefinitionsError, match=r"grid variant 7: indicators.kb2020.durable.all"
                       r".condition.outcome.scheme: unknown outcome scheme 'ee2023'"):
        load_definitions_mapping(raw, "grid variant 7")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DefinitionsError, match="not found"):
        load_definitions(tmp_path / "nope.yaml")


def test_status_on_reference_date_follows_the_published_rule():
    stays = make_stays([
        {"admission_date": "2020-11-02"},                                   # admitted after
        {"admission_date": "2020-11-01"},                                   # admitted on R
        {"exit_date": "2020-11-01", "exit_reason": "return_origin"},        # exits on R: present
        {"exit_date": "2020-10-31", "exit_reason": "return_origin"},        # exits before: left
    ])
    assert list(stay_status(stays, REF)) == ["not_admitted", "present", "present", "left"]


def test_bases(defs):
    stays = make_stays([
        {"admission_date": "2020-11-02"},
        {"admission_date": "2020-05-01"},
        {"exit_date": "2020-10-31", "exit_reason": "detention"},
    ])
    assert list(base_mask(defs, stays, "admitted", REF)) == [False, True, True]
    assert list(base_mask(defs, stays, "present", REF)) == [False, True, False]
    assert list(base_mask(defs, stays, "leavers", REF)) == [False, False, True]


def test_persons_are_classified_by_their_last_stay(defs):
    stays = make_stays([
        {"person_id": "A", "admission_date": "2019-05-01", "exit_date": "2020-03-01",
         "exit_reason": "unknown_destination"},
        {"person_id": "A", "admission_date": "2021-01-01", "exit_date": "2022-01-01",
         "exit_reason": "residence_permit"},
        {"person_id": "B", "admission_date": "2019-05-01", "exit_date": "2020-03-01",
         "exit_reason": "forced_termination"},
        {"person_id": "B", "admission_date": "2021-06-01"},
    ])
    ref = pd.Timestamp("2022-07-01")
    persons = reduce_to_unit(defs, stays, "persons", ref)
    last_exit = persons.set_index("person_id")["exit_reason"]
    assert last_exit["A"] == "residence_permit"
    assert pd.isna(last_exit["B"])
    assert list(base_mask(defs, persons, "leavers", ref)) == [True, False]
    # before the readmissions the first stays count
    early = last_stay_per_person(stays, pd.Timestamp("2020-11-01"))
    assert early["exit_reason"].astype("object").tolist() == ["unknown_destination",
                                                               "forced_termination"]
    assert len(reduce_to_unit(defs, stays, "stays", ref)) == 4


def test_classify_exits_uses_the_scheme(defs):
    reasons = pd.Series(["subsequent_asylum", None, "onward_migration"], dtype="object")
    assert classify_exits(defs, reasons, "ee2022").astype("object").tolist()[0::2] == [
        "semi_durable", "durable"]
    assert pd.isna(classify_exits(defs, reasons, "ee2022").iloc[1])


def test_known_at_reference_needs_the_date_on_or_before_it():
    stays = make_stays([
        {"scenario": "departure", "scenario_date": "2020-11-01"},
        {"scenario": "departure", "scenario_date": "2020-11-02"},
        {"scenario": "residence", "scenario_date": "2020-06-01"},
        {},
    ])
    assert list(known_at_reference_mask(stays, "scenario", "scenario_date", REF)) == [
        True, False, True, False]
    assert list(known_at_reference_mask(stays, "scenario", "scenario_date", REF,
                                        ["departure"])) == [True, False, False, False]


def test_where_conditions_treat_missing_as_not_meeting():
    stays = make_stays([
        {"n_prior_departure_procedures": 6},
        {"n_prior_departure_procedures": 5},
        {"n_prior_departure_procedures": None},
    ])
    assert list(where_mask(stays, {"n_prior_departure_procedures": {"gt": 5}})) == [
        True, False, False]
    assert list(where_mask(stays, {"n_prior_departure_procedures": {"is_null": True}})) == [
        False, False, True]


def test_report_words_must_exist_in_both_languages(tmp_path):
    raw = raw_yaml()
    del raw["words"]["nl"]["computed"]
    with pytest.raises(DefinitionsError, match=r"words\.nl\.computed: missing"):
        load_definitions(write_yaml(tmp_path, raw))


def test_rate_per_person_time(defs):
    from lvv_eval.measures.indicators import compute_indicator

    stays = make_stays([
        # 10 days present (2020-01-01 .. 2020-01-10), exit with a durable solution
        {"admission_date": "2020-01-01", "exit_date": "2020-01-10",
         "exit_reason": "residence_permit"},
        # 30 days present up to the reference date 2020-01-30 (inclusive); its later exit is
        # not known on the reference date and must not count
        {"admission_date": "2020-01-01", "exit_date": "2020-03-01",
         "exit_reason": "return_origin"},
    ])
    spec = {"population": "in_covenant", "unit": "stays", "base": "person_time",
            "measure": "rate", "per": 1000,
            "condition": {"outcome": {"scheme": "kb2020_letter", "class": "durable"}}}
    result = compute_indicator(defs, spec, stays, reference_date=pd.Timestamp("2020-01-30"))
    assert (result.numerator, result.denominator) == (1.0, 40.0)
    assert result.value == 1000 / 40
