"""Notebook parameters: one declaration, read as papermill reads it, checked before running."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lvv_eval.report.params import (
    COMMON,
    ParameterError,
    check_values,
    coerce,
    common_block,
    notebook_parameters,
    parse_cell,
)
from lvv_eval.report.present import NOTEBOOKS_DIR, namespace_values

CELL = common_block() + '\ncause: str = "durable"  # class modelled; choices: @classes\n' \
    "horizon_days: int = 365  # days; min: 1\n"


def test_the_common_block_reads_back_as_declared():
    assert parse_cell(common_block()) == COMMON


def test_papermill_inspection_shows_name_type_default_and_help(tmp_path):
    import nbformat
    import papermill as pm

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(CELL)
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    shown = pm.inspect_notebook(str(path))
    assert shown["pilots"]["inferred_type_name"] == "list"
    assert shown["horizon_days"]["default"] == "365"
    assert "choices: nl, en" in shown["lang"]["help"]


@pytest.mark.parametrize("path", sorted(NOTEBOOKS_DIR.glob("*.py")), ids=lambda p: p.stem)
def test_our_reading_of_every_notebook_agrees_with_papermills(path, tmp_path):
    import ast

    import jupytext
    import papermill as pm

    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    jupytext.write(nb, tmp_path / "nb.ipynb")
    theirs = {name: SimpleNamespace(**p) for name, p in pm.inspect_notebook(str(tmp_path / "nb.ipynb")).items()}
    ours = notebook_parameters(path)
    assert list(theirs) == list(ours)
    for name, param in ours.items():
        assert theirs[name].inferred_type_name == param.type
        assert ast.literal_eval(theirs[name].default) == param.default
        assert theirs[name].help.startswith(param.help)


def test_every_notebook_declares_the_common_parameters():
    paths = sorted(NOTEBOOKS_DIR.glob("*.py"))
    assert paths
    for path in paths:
        declared = notebook_parameters(path)
        assert set(COMMON) <= set(declared), path.name


def test_a_notebook_declaring_a_common_parameter_differently_is_refused(tmp_path):
    path = tmp_path / "nb.py"
    path.write_text('# %% tags=["parameters"]\n' + common_block().replace('"nl"', '"en"', 1) + "\n")
    with pytest.raises(ParameterError, match="lang declared differently"):
        notebook_parameters(path)


def test_unknown_name_is_refused_with_the_closest_known_one():
    with pytest.raises(ParameterError, match=r"unknown parameter 'pilot' \(did you mean pilots\?\)"):
        check_values({"pilot": "Utrecht"}, parse_cell(CELL))


@pytest.mark.parametrize(("values", "named"), [
    ({"pilots": ["Utrecht", "Zwolle"]}, "'Zwolle' not allowed; choose any of Amsterdam"),
    ({"lang": "fr"}, "lang='fr'"),
    ({"population": "everyone"}, "population='everyone'"),
    ({"cause": "semi"}, "cause='semi'"),
    ({"scheme": "kb2020_letter", "cause": "none"}, "cause='none'"),
    ({"horizon_days": 0}, "horizon_days=0: must be >= 1"),
    ({"horizon_days": "a year"}, "horizon_days='a year'"),
    ({"reference_date": "2022-13-01"}, "reference_date='2022-13-01'"),
])
def test_bad_values_are_refused_naming_the_parameter(values, named):
    with pytest.raises(ParameterError, match=named.replace("(", r"\(").replace("?", r"\?")):
        check_values(values, parse_cell(CELL))


def test_text_from_the_command_line_is_converted_and_defaults_fill_in():
    declared = parse_cell(CELL)
    out = check_values({"pilots": "Utrecht,Rotterdam", "horizon_days": "180",
                        "reference_date": "2021-01-01"}, declared)
    assert out["pilots"] == ["Utrecht", "Rotterdam"] and out["horizon_days"] == 180
    assert out["lang"] == "nl" and out["scheme"] == "ee2022"
    assert coerce(declared["pilots"], '["Utrecht"]') == ["Utrecht"]


def test_the_notebook_namespace_check_sees_an_injected_unknown_name():
    declared = parse_cell(CELL)
    namespace = {"lang": "nl", "pilot": "Utrecht", "In": [], "_": None, "display": print}
    assert set(namespace_values(namespace, declared)) == {"lang", "pilot"}
