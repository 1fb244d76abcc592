"""Notebook smoke run through papermill (the one CI runs) and the parameter checks."""

from __future__ import annotations

import ast
import json

import nbformat
import pytest

from lvv_eval.report.notebook import ParameterError, check_parameters
from lvv_eval.report.runner import NOTEBOOKS_DIR, NotebookError, load_notebook, run_notebook
from lvv_eval.synth.calibrate import calibrated_cohort
from tests.report.test_runner import assert_every_table_noted


@pytest.fixture(scope="module")
def stays_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    calibrated_cohort().stays.to_parquet(folder / "stays.parquet")
    (folder / "manifest.json").write_text(json.dumps({"synthetic": True}))
    return folder / "stays.parquet"


def test_outcomes_notebook_runs_and_writes_its_bundle(stays_file, tmp_path) -> None:
    (tmp_path / "disclosure_settings.json").write_text("{}")  # a run folder of `lvv-eval report`
    run = run_notebook("04_outcomes_by_pilot.py", {"stays_path": str(stays_file), "lang": "en"},
                       tmp_path, synthetic=True)
    nb = nbformat.read(run.executed, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    html = run.html.read_text(encoding="utf-8")
    assert "SYNTHETIC" in html
    assert_every_table_noted(html)  # and no table shows itself without its note
    assert html.count("data:image/png;base64,") >= 2  # the figures are in the page
    for code_name in ("p_value", "n_obs", "rate_per_100py", "hr_lower"):
        assert f"<th>{code_name}</th>" not in html
    assert "def " not in html and "import " not in html  # code cells are left out
    manifest = json.loads(run.manifest.read_text())
    assert manifest["synthetic"] is True and manifest["inputs_sha256"]["stays_path"]
    tables = {p.name for p in (tmp_path / "tables").glob("*.csv")}
    assert {"case_mix.csv", "cumulative_incidence_by_pilot.csv", "pilots_compared.csv"} <= tables
    assert (tmp_path / "figures" / "cumulative_incidence_by_pilot.png").stat().st_size > 10_000


def test_every_notebook_has_a_literal_parameters_cell() -> None:
    for path in NOTEBOOKS_DIR.glob("*.py"):
        nb = load_notebook(path)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        for stmt in ast.parse(cell.source).body:
            assert isinstance(stmt, ast.Assign | ast.AnnAssign), \
                f"{path.name}: only assignments in the parameters cell"
            ast.literal_eval(stmt.value)  # raises unless the value is a literal


def test_bad_parameter_is_named() -> None:
    with pytest.raises(ParameterError, match="lang='fr'"):
        check_parameters({"lang": "fr"}, {"lang": ("nl", "en")})


def test_missing_notebook_is_named(tmp_path) -> None:
    with pytest.raises(NotebookError, match="does not exist"):
        run_notebook(tmp_path / "nope.py", {}, tmp_path, synthetic=True)
