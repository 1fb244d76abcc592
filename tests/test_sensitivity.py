"""The sensitivity grid: specifications, headline shares, curve, variance, published placement.

The data are the calibrated SYNTHETIC cohort (the generator's truth), on which every hard
published figure reproduces; expected values below come from the published figures table or from
direct pandas counts written out here, never from the engine under test.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from lvv_eval.measures.indicators import compute_indicator
from lvv_eval.measures.reproduce import load_published, reproduce_table, round_half_up
from lvv_eval.sensitivity import (
    axis_variance_table,
    canonical_json,
    curve_data,
    excluded_specifications,
    hash_id,
    load_grid,
    merge_patch,
    place_published,
    plot_specification_curve,
    run_grid,
)
from lvv_eval.sensitivity.grid import DEFAULT_GRID_YAML, GridError
from lvv_eval.sensitivity.indicators import PILOT_LABELS
from lvv_eval.sensitivity.models import analysis_frame, model_inputs
from lvv_eval.sensitivity.specs import (
    SpecificationError,
    base_definitions_raw,
    resolve,
    resolve_grid,
)
from tests.helpers.stays import make_stays

REFERENCE = Path(__file__).parent / "reference"


def published(figure_id: str) -> float:
    table = load_published()
    return float(table.loc[table["figure_id"] == figure_id, "value"].iloc[0])


@pytest.fixture(scope="module")
def grid():
    return load_grid()


@pytest.fixture(scope="module")
def results(truth_stays, grid):
    return run_grid(truth_stays, grid)


@pytest.fixture(scope="module")
def base_raw():
    return base_definitions_raw()


def value(results, outcome: str, pilot: str = "all", **choices) -> pd.Series:
    """The results row of one outcome and pilot for the base specification with ``choices``."""
    wanted = results.grid.base_choices() | choices
    rows = results.outcome(outcome, pilot)
    hit = rows[np.logical_and.reduce([rows[a].astype(str) == o for a, o in wanted.items()])]
    assert len(hit) == 1, (wanted, len(hit))
    return hit.iloc[0]


# ---------------------------------------------------------------------------------------------
# the grid and its specifications


def test_default_grid_has_at_least_1000_specifications_with_unique_ids(grid, results):
    assert len(grid.choices()) >= 1000
    ids = results.specifications()["spec_id"]
    assert ids.is_unique and len(ids) == len(grid.choices())


def test_merge_patch_follows_rfc_7396():
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "l": [3]}
    assert merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}, "l": [3]}
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}  # untouched


def test_spec_id_is_a_golden_hash_of_the_canonical_serialisation(grid, base_raw):
    # Stable because it hashes text that depends on nothing but the values: keys sorted, fixed
    # separators, ASCII only, dates as ISO 8601, floats by their shortest round-trip repr
    # (Python's json on every platform); no dict order, hash seed, locale or pickling involved.
    assert canonical_json({"b": [1.5, "x"], "a": 1, "d": dt.date(2022, 7, 1)}) == \
        '{"a":1,"b":[1.5,"x"],"d":"2022-07-01"}'
    assert hash_id({"d": dt.date(2022, 7, 1), "b": [1.5, "x"], "a": 1}) == "12c4270f5928"
    # The base specification: its resolved definitions, serialised canonically, are committed in
    # tests/reference/sensitivity_base_spec.json (a change there is a change of definition).
    committed = (REFERENCE / "sensitivity_base_spec.json").read_text(encoding="utf-8").strip()
    base = resolve(grid, grid.base_choices(), base_raw)
    assert canonical_json(base.closure) == committed
    assert base.spec_id == "502bb48a72a6"


def test_spec_id_is_the_same_in_a_fresh_process_with_another_hash_seed(grid, base_raw):
    code = ("from lvv_eval.sensitivity.grid import load_grid;"
            "from lvv_eval.sensitivity.specs import resolve, base_definitions_raw;"
            "g = load_grid(); print(resolve(g, g.base_choices(), base_definitions_raw()).spec_id)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": ""})
    assert out.stdout.strip() == resolve(grid, grid.base_choices(), base_raw).spec_id


def test_a_constraint_keeps_a_bad_combination_out(grid, base_raw, truth_stays):
    bad = grid.base_choices() | {"denominator": "present_2020", "reference": "kb2020",
                                 "unit": "stays"}
    assert bad not in grid.choices()
    excluded = excluded_specifications(grid)
    row = excluded[np.logical_and.reduce([excluded[a] == o for a, o in bad.items()])]
    assert len(row) == 1 and "0 by construction" in row.iloc[0]["reason_en"]
    # and the reason holds: resolved anyway, every share of that combination is 0
    defs = resolve(grid, bad, base_raw).definitions
    result = compute_indicator(defs, defs.indicators["headline.durable"], truth_stays)
    assert result.value == 0 and result.denominator > 0


def test_grid_errors_name_the_file_and_the_yaml_path(tmp_path):
    raw = yaml.safe_load(DEFAULT_GRID_YAML.read_text(encoding="utf-8"))
    raw["axes"]["unit"]["base"] = "people"
    raw["constraints"][0]["when"]["denominator"] = "present_2021"
    raw["axes"]["scheme"]["options"]["letter2020"]["colour"] = "red"
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(GridError) as err:
        load_grid(path)
    text = str(err.value)
    assert str(path) in text and "grid.yaml: axes.unit: " in text
    assert "base 'people' is not one of the options" in text
    assert "grid.yaml: axes.scheme.options.letter2020: unknown key(s) ['colour']" in text


def test_an_option_giving_invalid_definitions_is_named_with_the_loaders_message(tmp_path, base_raw):
    raw = yaml.safe_load(DEFAULT_GRID_YAML.read_text(encoding="utf-8"))
    raw["axes"]["unit"]["options"]["stays"]["set"] = {"units": {"headline": {"reduce": "all"}}}
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecificationError) as err:
        resolve_grid(load_grid(path))
    text = str(err.value)
    assert "axes.unit.options.stays.set" in text and "units.headline.reduce: unknown unit reduction 'all'" in text


# ---------------------------------------------------------------------------------------------
# the base specification and each axis


def test_base_specification_reproduces_the_hard_published_figures_exactly(grid, base_raw,
                                                                          results, truth_stays):
    defs = resolve(grid, grid.base_choices(), base_raw).definitions
    table = reproduce_table(truth_stays, "all", defs)
    hard = table[table["role"] == "hard"]
    # computed figures match; the agreed places are inputs (status "input"), not computations
    computed = hard[hard["kind"] == "computed"]
    assert len(computed) > 30 and (computed["status"] == "match").all()
    assert (hard.loc[hard["kind"] == "input", "status"] == "input").all()
    durable, no_solution = value(results, "durable_share"), value(results, "no_solution_share")
    assert round_half_up(durable["estimate"], 0) == published("ee2022.durable.share")
    assert round_half_up(no_solution["estimate"], 0) == published("ee2022.no_solution.share")
    assert durable["n"] == published("ee2022.leavers.all")
    assert bool(durable["is_base"])


def test_headline_engine_equals_compute_indicator_on_every_option(grid, results, truth_stays):
    # every option of every axis at least once, with the other axes drawn at random
    rng = np.random.default_rng(7)
    specs = {s.spec_id: s for s in results.specs}
    chosen = []
    for axis, spec in grid.axes.items():
        for option in spec.options:
            pool = [s for s in results.specs if s.choices[axis] == option]
            chosen.append(pool[rng.integers(len(pool))])
    table = results.table.set_index(["spec_id", "outcome", "pilot"])
    for i, spec in enumerate(chosen):
        defs = specs[spec.spec_id].definitions
        for name, outcome in grid.spec.outcomes.items():
            for pilot in ("all", PILOT_LABELS[1 + i % 5], PILOT_LABELS[1 + (i + 2) % 5]):
                expected = compute_indicator(defs, defs.indicators[outcome.indicator],
                                             truth_stays, pilot=pilot)
                row = table.loc[(spec.spec_id, name, pilot)]
                assert row["n"] == expected.denominator
                assert row["numerator"] == expected.numerator
                if expected.computable:
                    assert row["estimate"] == expected.value
                else:
                    assert np.isnan(row["estimate"])


def test_scheme_axis_moves_numerators_between_outcomes_and_never_the_denominator(results):
    base = {o: value(results, o) for o in ("durable_share", "departure_share", "no_solution_share")}
    for option in results.grid.axes["scheme"].options:
        for outcome, row in base.items():
            assert value(results, outcome, scheme=option)["n"] == row["n"]
    asylum = value(results, "durable_share", scheme="subsequent_asylum_durable")
    assert asylum["numerator"] > base["durable_share"]["numerator"]
    assert value(results, "departure_share", scheme="subsequent_asylum_durable")["numerator"] == \
        base["departure_share"]["numerator"]
    assert value(results, "no_solution_share", scheme="subsequent_asylum_durable")["numerator"] == \
        base["no_solution_share"]["numerator"]
    moved = value(results, "departure_share", scheme="unknown_destination_departure")["numerator"] \
        - base["departure_share"]["numerator"]
    assert moved > 0
    assert value(results, "no_solution_share", scheme="unknown_destination_departure")["numerator"] \
        == base["no_solution_share"]["numerator"] - moved
    letter = value(results, "no_solution_share", scheme="letter2020")
    assert letter["numerator"] < base["no_solution_share"]["numerator"]
    assert value(results, "durable_share", scheme="letter2020")["estimate"] == \
        base["durable_share"]["estimate"]


def test_scheme_axis_with_the_letters_counting_gives_the_letters_durable_count(results):
    # stays, since the start, on 2020-11-01: the 2020 letter's own definition of its 107
    row = value(results, "durable_share", scheme="letter2020", unit="stays", reference="kb2020")
    assert row["numerator"] == published("kb2020.durable.all")


def test_population_axis_changes_only_the_pilots_its_condition_touches(results, truth_stays):
    base = {p: value(results, "durable_share", p) for p in PILOT_LABELS}
    pre_lso = set(truth_stays.loc[truth_stays["registration_group"] == "pre_lso", "pilot"])
    for pilot in PILOT_LABELS[1:]:
        official = value(results, "durable_share", pilot, population="official_only")
        if pilot in pre_lso:
            assert official["n"] < base[pilot]["n"]
        else:
            assert official[["n", "numerator"]].tolist() == base[pilot][["n", "numerator"]].tolist()
        wider = value(results, "durable_share", pilot, population="all_registered")
        assert wider["n"] >= base[pilot]["n"]
    groningen = value(results, "durable_share", "Groningen", population="without_first_day_intake")
    assert groningen["n"] < base["Groningen"]["n"] - 50  # the day-one intake from the former BBB


def test_unit_axis_counts_stays_or_persons_as_pandas_does(results, truth_stays):
    ref = pd.Timestamp("2022-07-01")
    covenant = truth_stays[truth_stays["in_covenant"].fillna(False).astype(bool)]
    covenant = covenant[covenant["admission_date"] <= ref]
    left = covenant["exit_date"] < ref
    assert value(results, "durable_share", unit="stays")["n"] == int(left.sum())
    ordered = covenant.sort_values(["person_id", "admission_date", "exit_date"], na_position="last")
    first = ordered.groupby("person_id").head(1)
    assert value(results, "durable_share", unit="persons_first_stay")["n"] == \
        int((first["exit_date"] < ref).sum())


def test_unit_axis_changes_nothing_when_nobody_is_readmitted(grid):
    stays = make_stays([{"exit_date": "2021-03-01", "exit_reason": "return_origin"},
                        {"exit_date": "2021-05-01", "exit_reason": "subsequent_asylum"},
                        {"pilot": "Amsterdam"}])
    units = [dict(grid.base_choices(), unit=u) for u in grid.axes["unit"].options]
    res = run_grid(stays, grid, only=units)
    values = res.table.groupby("unit", observed=True)["estimate"].apply(
        lambda s: tuple(s.fillna(-1)))
    assert values.nunique() == 1


def test_reference_axis_moves_the_date_or_the_cohort(results):
    base = value(results, "durable_share")
    assert value(results, "durable_share", reference="kb2020")["n"] < base["n"]
    assert value(results, "durable_share", reference="mid2021")["n"] < base["n"]
    assert value(results, "durable_share", reference="cohort_2019_2020")["n"] < base["n"]
    # the letter's ever-sheltered count: stays, admitted since the start, on 2020-11-01
    row = value(results, "durable_share", unit="stays", reference="kb2020", denominator="admitted")
    assert row["n"] == published("kb2020.ever_sheltered.all")


def test_denominator_axis_keeps_the_numerator_and_changes_the_base(results):
    base = value(results, "durable_share")
    admitted = value(results, "durable_share", denominator="admitted")
    assert admitted["numerator"] == base["numerator"]
    assert admitted["n"] == published("ee2022.participants.all")
    present = value(results, "durable_share", unit="stays", denominator="present_2020")
    assert present["n"] == published("kb2020.present.all")


def test_censoring_axis_changes_the_models_and_not_the_shares(results, grid, base_raw, truth_stays):
    shares = results.table[results.table["outcome"].str.endswith("_share")]
    others = [a for a in results.axes if a != "censoring"]
    spread = shares.groupby([*others, "outcome", "pilot"], observed=True)["estimate"].nunique()
    assert (spread <= 1).all()
    frames = {}
    for option in grid.axes["censoring"].options:
        defs = resolve(grid, dict(grid.base_choices(), censoring=option), base_raw).definitions
        frames[option] = analysis_frame(truth_stays, model_inputs(
            defs, grid.spec.models, pd.Timestamp("2022-07-01")))
    base, mob, two = frames["data_cut"], frames["unknown_destination_censored"], frames["two_years"]
    assert two["time"].max() == 730 and base["time"].max() > 730
    lost = base["exit_reason"].astype(str).eq("unknown_destination").to_numpy()
    assert (mob["event"].to_numpy()[lost] == 0).all() and (base["event"].to_numpy()[lost] > 0).all()
    assert (mob["event"].to_numpy()[~lost] == base["event"].to_numpy()[~lost]).all()


# ---------------------------------------------------------------------------------------------
# curve, variance, placement


def test_curve_data_equal_the_results_table(results):
    drawn = curve_data(results, "durable_share")
    table = results.outcome("durable_share")
    cols = ["spec_id", "estimate", "lower", "upper", "n", *results.axes]
    left = drawn[cols].sort_values("spec_id").reset_index(drop=True)
    right = table[cols].sort_values("spec_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right)
    assert drawn["estimate"].is_monotonic_increasing
    fig = plot_specification_curve(results, "durable_share")
    points = next(line for line in fig.axes[0].get_lines() if line.get_label() == "estimate")
    np.testing.assert_array_equal(np.asarray(points.get_ydata()), drawn["estimate"].to_numpy())


def test_the_gate_checks_every_drawn_estimate_and_a_hidden_one_is_not_drawn(results):
    from lvv_eval.disclosure import DisclosureGate

    rows = curve_data(results, "durable_share")
    rows.loc[0, ["numerator", "estimate", "lower", "upper"]] = [3.0, 4.0123, 1.0123, 9.0123]
    # a small numerator: its share and limits (values no other specification has) are hidden
    gate = DisclosureGate.from_policy()
    checked = gate.specification_curve(rows)
    assert checked.data.loc[0, ["estimate", "lower", "upper"]].isna().all()
    fig = plot_specification_curve(results, "durable_share", rows=checked.data)
    entry, drawn = gate.figure(fig, "curve", [checked])
    assert entry.status == "pass" and len(drawn) >= 3 * (len(rows) - 1)
    assert (drawn["series"] == "estimate").sum() == len(rows) - 1  # all but the hidden one
    unchecked = plot_specification_curve(results, "durable_share", rows=rows)
    assert gate.figure(unchecked, "curve", [checked])[0].status == "withheld"


def test_variance_table_credits_the_scheme_and_not_the_censoring(results):
    table = axis_variance_table(results, "durable_share").set_index("axis")
    assert table.loc["censoring", "share_unique"] == pytest.approx(0.0, abs=1e-9)
    assert table["share_unique"].idxmax() == "scheme"
    assert table["share_unique"].sum() == pytest.approx(1.0, abs=0.05)


def test_published_18_59_75_are_placed_on_the_curve(results):
    placement = place_published(results).set_index("name")
    assert placement["published"].tolist() == [
        published("ee2022.durable.share"),
        published("ee2022.durable.share") + published("ee2022.semi_durable.share"),
        published("vk2023.11")]
    base_id = results.specifications().query("is_base")["spec_id"].iloc[0]
    assert placement.loc["final_evaluation_durable", "spec_id"] == base_id
    assert placement.loc["final_evaluation_temporary_solution", "changes"] == \
        "scheme = temporary_durable"
    assert placement.loc["press_ministry", "changes"] == \
        "scheme = temporary_durable_unknown_departure"
    assert placement["reached"].all()


def test_a_figure_beyond_the_grid_names_the_axis_that_would_have_to_move(truth_stays, tmp_path):
    raw = yaml.safe_load(DEFAULT_GRID_YAML.read_text(encoding="utf-8"))
    del raw["axes"]["scheme"]["options"]["temporary_durable_unknown_departure"]
    for name, axis in raw["axes"].items():  # a small grid: the scheme and the unit axes
        if name not in ("scheme", "unit"):
            axis["options"] = {axis["base"]: axis["options"][axis["base"]]}
    raw["constraints"] = []
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    placement = place_published(run_grid(truth_stays, path)).set_index("name")
    press = placement.loc["press_ministry"]
    assert not press["reached"] and press["highest"] < 75
    assert press["move_axis"] == "scheme"
    assert "would have to go beyond the grid's options" in press["explanation_en"]
    assert "zou verder moeten gaan" in press["explanation_nl"]


def test_an_option_that_breaks_a_published_indicator_is_caught(tmp_path):
    # the option touches an entry the published indicators name: they are validated with it
    raw = yaml.safe_load(DEFAULT_GRID_YAML.read_text(encoding="utf-8"))
    raw["axes"]["denominator"]["options"]["admitted"]["set"] = {
        "bases": {"leavers": {"status_date": "kb2021"}}}
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecificationError, match="bases.leavers.status_date: unknown reference date 'kb2021'"):
        resolve_grid(load_grid(path))
    raw["axes"]["denominator"]["options"]["admitted"]["set"] = {
        "outcome_schemes": {"ee2022": {"classes": {"semi_durable": None}}}}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecificationError, match="ee2022.semi_durable.share.condition.outcome.class"):
        resolve_grid(load_grid(path))


# ---------------------------------------------------------------------------------------------
# the command line and its outputs


def test_cli_writes_the_tables_and_refuses_a_folder_it_did_not_make(tmp_path, capsys,
                                                                   truth_stays_file):
    from lvv_eval.cli import main

    out = tmp_path / "sens"
    args = ["sensitivity", "--stays", str(truth_stays_file), "--spec", "502bb48a72a6",
            "--out", str(out), "--lang", "en"]
    assert main(args) == 0
    for name in ("results.csv", "specifications.csv", "excluded.csv", "axis_variance.csv",
                 "published_placement.csv", "curve_durable_share.png", "curve_durable_share.csv",
                 "manifest.json", "disclosure.html"):
        assert (out / name).exists(), name
    table = pd.read_csv(out / "results.csv", dtype={"spec_id": str})
    assert set(table["spec_id"]) == {"502bb48a72a6"}
    assert {"scheme", "population", "unit", "reference", "denominator", "censoring", "outcome",
            "pilot", "estimate", "lower", "upper", "n"} <= set(table.columns)
    manifest = yaml.safe_load((out / "manifest.json").read_text())
    assert manifest["inputs"]["stays"]["path"] == str(truth_stays_file)
    # every table and figure passed the disclosure gate and is in the folder's record
    record = json.loads((out / "disclosure.json").read_text(encoding="utf-8"))
    recorded = {e["path"] for e in record["outputs"]}
    written = {p.name for p in out.iterdir() if p.suffix in (".csv", ".png") and not p.name.startswith("disclosure")
               and not p.name.endswith(".values.csv")}
    assert written <= recorded
    assert {t["disclosure"] for t in manifest["tables"]} <= {"pass", "suppressed"}
    # no count of people from 1 to 9 is shown (Eindhoven's durable numerator is 6 at the base)
    counts = pd.to_numeric(table[["n", "numerator"]].stack(), errors="coerce").dropna()
    assert not counts.between(1, 9).any()
    raw = pd.read_csv(out / "results.csv", dtype=str).set_index(["outcome", "pilot"])
    assert raw.loc[("durable_share", "Eindhoven"), "numerator"] == "x"
    assert main(args) == 0  # its own folder: replaced
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert main([*args[:-4], "--out", str(other)]) == 2
    assert "did not write" in capsys.readouterr().err
    assert (other / "notes.txt").read_text() == "keep me"


@pytest.mark.slow
def test_model_outcomes_agree_with_the_analysis_layer_and_move_with_censoring(grid, truth_stays):
    from lvv_eval.analysis import compare_shelter_effect

    base = grid.base_choices()
    chosen = [base | {"censoring": c} for c in grid.axes["censoring"].options]
    res = run_grid(truth_stays, grid, "models", only=chosen, n_jobs=1)
    hr = res.table[res.table["outcome"] == "hr_shelter_24h_adjusted"].set_index("censoring")
    # a cause-specific hazard censors every other exit anyway: censoring an unknown destination
    # leaves the hazard ratio as it is; truncating follow-up at two years changes it
    assert hr.loc["unknown_destination_censored", "estimate"] == hr.loc["data_cut", "estimate"]
    assert hr.loc["two_years", "estimate"] != hr.loc["data_cut", "estimate"]
    row = hr.loc["data_cut"]
    assert row["lower"] < row["estimate"] < row["upper"]
    assert (row["p_value"] >= 0.05) == (row["lower"] <= 1 <= row["upper"])
    defs = resolve(grid, base, base_definitions_raw()).definitions
    tte = analysis_frame(truth_stays, model_inputs(defs, grid.spec.models,
                                                   pd.Timestamp("2022-07-01")))
    effect = compare_shelter_effect(tte, "durable", list(grid.spec.models.adjust), bootstrap=False)
    assert row["estimate"] == pytest.approx(effect.table.iloc[1]["hr"], rel=1e-9)
    # the cumulative incidence does move: a censored exit is no longer a competing one
    cif = res.table[(res.table["outcome"] == "cif_durable_365d") & (res.table["pilot"] == "all")]
    cif = cif.set_index("censoring")["estimate"]
    assert cif["unknown_destination_censored"] > cif["data_cut"]
