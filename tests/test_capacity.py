"""The agreed places: one file (specs/capacity.yaml), one reader, used by every stage; a user's
own capacity file (YAML or CSV) goes through the same checks."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

import lvv_eval
from lvv_eval.analysis import occupancy_against_capacity
from lvv_eval.capacity import (
    CAPACITY_YAML,
    CapacityError,
    find_capacity,
    load_capacity_file,
    places_at,
)
from lvv_eval.measures.definitions import DefinitionsError, load_definitions_mapping
from lvv_eval.measures.indicators import compute_figure
from lvv_eval.measures.reproduce import reproduce_table
from tests.helpers.stays import make_stays

PACKAGE = Path(lvv_eval.__file__).resolve().parent
KB = pd.Timestamp("2020-11-01")


def _own_capacity(tmp_path: Path, amsterdam: int) -> Path:
    raw = yaml.safe_load(CAPACITY_YAML.read_text(encoding="utf-8"))
    for entry in raw["capacity"]:
        if entry["pilot"] == "Amsterdam":
            entry["places"] = amsterdam
            entry["source"] = "test: a user's own file"
    path = tmp_path / "my_capacity.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_the_package_capacity_file_holds_the_2020_agreed_places():
    table = load_capacity_file()
    assert table.set_index("pilot")["places"].to_dict() == {
        "Amsterdam": 360, "Eindhoven": 130, "Groningen": 300, "Rotterdam": 117, "Utrecht": 235}
    assert places_at(table, "all", KB) == 1142
    assert table["source"].str.contains("Kamerbrief").all()


def test_no_other_file_of_the_package_states_the_agreed_places():
    """One source per fact: no YAML of the package but capacity.yaml carries agreed places, and
    no module builds a capacity table from numbers of its own."""
    for path in PACKAGE.rglob("*.yaml"):
        if path == CAPACITY_YAML:
            continue
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(raw, dict):
            assert "agreed_places" not in raw and "capacity" not in raw, path
    for path in PACKAGE.rglob("*.py"):
        names = {n.name for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(n, ast.FunctionDef)}
        assert not names & {"capacity_from_places", "capacity_from_definitions", "capacity_table"}, path


def test_definitions_with_agreed_places_are_refused_with_a_pointer_to_capacity_yaml():
    from lvv_eval.measures.definitions import DEFINITIONS_YAML

    raw = yaml.safe_load(DEFINITIONS_YAML.read_text(encoding="utf-8"))
    raw["agreed_places"] = {"places": {"Amsterdam": 1}}
    with pytest.raises(DefinitionsError, match=r"definitions.yaml: agreed_places: .*specs/capacity.yaml"):
        load_definitions_mapping(raw, DEFINITIONS_YAML)


def test_every_reader_uses_the_named_capacity_file(tmp_path):
    """Measures, analyses and the default lookup all take the agreed places from the one file:
    change it, and every figure that uses agreed places changes with it."""
    from lvv_eval.measures.definitions import load_definitions

    own = load_capacity_file(_own_capacity(tmp_path, 400))
    stays = make_stays([{"pilot": "Amsterdam", "admission_date": "2020-01-01"}])
    defs = load_definitions()
    assert compute_figure(defs, "kb2020.capacity.amsterdam", stays, own).value == 400
    assert compute_figure(defs, "kb2020.capacity.all", stays, own).value == 1182
    occupancy = occupancy_against_capacity(stays, own, ["2020-11-01"])
    assert occupancy.set_index("pilot").loc["Amsterdam", "places"] == 400
    assert find_capacity(None, _own_capacity(tmp_path, 401))["places"].iloc[0] == 401


def test_the_copy_beside_the_stays_wins_over_the_package_file(tmp_path):
    assert find_capacity(tmp_path / "stays.parquet").attrs["path"] == str(CAPACITY_YAML)
    load_capacity_file(_own_capacity(tmp_path, 77)).to_csv(tmp_path / "capacity.csv", index=False)
    found = find_capacity(tmp_path / "stays.parquet")
    assert found.attrs["path"] == str(tmp_path / "capacity.csv")
    assert found.set_index("pilot").loc["Amsterdam", "places"] == 77


def test_reproduce_names_the_capacity_file_as_the_source_of_the_agreed_places(tmp_path):
    own = load_capacity_file(_own_capacity(tmp_path, 360))
    table = reproduce_table(make_stays([{"pilot": "Amsterdam"}]), "kb2020", capacity=own)
    row = table.set_index("figure_id").loc["kb2020.capacity.amsterdam"]
    assert str(tmp_path / "my_capacity.yaml") in row["data_source"]
    assert "a user's own file" in row["data_source"]


def test_bad_capacity_rows_are_named_by_row_and_column(tmp_path):
    path = tmp_path / "capacity.csv"
    path.write_text("pilot,places\nAmsterdam,360\nAmsterdamm,1\nUtrecht,-3\n")
    with pytest.raises(CapacityError) as err:
        load_capacity_file(path)
    text = str(err.value)
    assert "capacity.csv: row 3, column pilot: unknown pilot 'Amsterdamm'" in text
    assert "capacity.csv: row 4, column places:" in text
    assert "2 problem(s)" in text


@pytest.mark.parametrize(("entry", "problem"), [
    ({"pilot": "Utrecht", "places": 1, "valid_from": "2020-01-01"},
     "capacity[5].source: missing (required)"),
    ({"pilot": "Utrecht", "places": 1, "valid_from": "2020-01-01", "source": "x"},
     "capacity[5]: Utrecht: period overlaps entry 5"),
    ({"pilot": "Utrecht", "places": 1, "valid_from": "2020-01-01", "valid_to": "2019-01-01",
      "source": "x"}, "capacity[5]: valid_to 2019-01-01 is before valid_from 2020-01-01"),
])
def test_overlapping_periods_and_missing_sources_are_refused(tmp_path, entry, problem):
    raw = yaml.safe_load(CAPACITY_YAML.read_text(encoding="utf-8"))
    raw["capacity"].append(entry)
    path = tmp_path / "capacity.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(CapacityError, match=re.escape(f"capacity.yaml: {problem}")):
        load_capacity_file(path)
