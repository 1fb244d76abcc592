"""Notebooks 04-07 on the default (calibrated SYNTHETIC) data: each runs alone through papermill,
writes its tables with a note under each, and draws only what its tables show."""

from __future__ import annotations

import json
import re

import nbformat
import numpy as np
import pandas as pd
import pytest

from lvv_eval.report.runner import run_notebook
from tests import test_notebooks

pytestmark = pytest.mark.slow
stays_file = test_notebooks.stays_file  # the default data as a stays file (module fixture)

EXPECTED = {
    "04_outcomes_by_pilot.py": {"case_mix", "length_of_stay", "cumulative_incidence_by_pilot",
                                "rates_per_100py", "pilots_compared"},
    "05_shelter_and_guidance.py": {"cumulative_incidence_by_shelter",
                                   "cumulative_incidence_by_guidance", "shelter_24h_effects",
                                   "guidance_effects"},
    "06_prior_procedures.py": {"cumulative_incidence_by_prior_band", "prior_procedures_gradient"},
    "07_sensitivity.py": {"specification_curve_durable_share", "axis_variance",
                          "published_placement"},
}


def _run(notebook: str, stays_file, folder, **params):
    (folder / "disclosure_settings.json").write_text("{}")  # a run folder of `lvv-eval report`
    run = run_notebook(notebook, {"stays_path": str(stays_file), **params}, folder, synthetic=True)
    nb = nbformat.read(run.executed, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
    return run


@pytest.mark.parametrize("notebook", sorted(EXPECTED))
def test_notebook_runs_alone_and_notes_every_table(notebook, stays_file, tmp_path):
    run = _run(notebook, stays_file, tmp_path, lang="en")
    tables = {p.stem for p in (tmp_path / "tables").glob("*.csv")}
    assert EXPECTED[notebook] <= tables
    html = run.html.read_text(encoding="utf-8")
    n_tables = html.count("<table class='lvv-table'>") + html.count('<table class="lvv-table">')
    n_notes = len(re.findall(r"lvv-note", html))
    assert n_tables >= len(EXPECTED[notebook]) and n_notes >= n_tables
    assert "SYNTHETIC" in html and "Source" in html
    record = json.loads((tmp_path / "disclosure.json").read_text())
    assert not [o for o in record["outputs"] if o["status"] == "needs review"]


def test_forest_plot_draws_the_table_estimates(stays_file, tmp_path):
    _run("05_shelter_and_guidance.py", stays_file, tmp_path)
    table = pd.read_csv(tmp_path / "tables" / "shelter_24h_effects.csv")
    drawn = pd.read_csv(tmp_path / "figures" / "shelter_24h_effects.values.csv")
    shown = pd.to_numeric(table["hr"], errors="coerce").dropna().to_numpy()
    dots = drawn.loc[drawn["series"] == "hr", "x"].to_numpy()
    np.testing.assert_allclose(np.sort(dots), np.sort(shown), rtol=1e-9)
    assert set(table["cause"]) == {"durable", "semi_durable", "none"}  # every class in one run
    assert (table["estimate"].value_counts() == 3).all()


def test_guidance_reference_and_classes_are_parameters(stays_file, tmp_path):
    _run("05_shelter_and_guidance.py", stays_file, tmp_path, guidance_reference="light",
         classes=["durable"])
    table = pd.read_csv(tmp_path / "tables" / "guidance_effects.csv")
    assert set(table["cause"]) == {"durable"}
    levels = table[table["kind"] == "level"]
    assert set(levels["reference"]) == {"light"} and set(levels["level"]) == {"standard", "intensive"}


def test_sensitivity_refuses_a_population(stays_file, tmp_path):
    (tmp_path / "disclosure_settings.json").write_text("{}")
    with pytest.raises(Exception, match="axes of the grid"):
        run_notebook("07_sensitivity.py", {"stays_path": str(stays_file),
                                           "population": "all_registered"}, tmp_path,
                     synthetic=True)


@pytest.mark.parametrize("notebook", ["04_outcomes_by_pilot.py", "05_shelter_and_guidance.py",
                                      "06_prior_procedures.py"])
def test_one_pilot_runs_with_errors_by_person(notebook, stays_file, tmp_path):
    _run(notebook, stays_file, tmp_path, pilots=["Groningen"])
    tables = {p.stem: pd.read_csv(p) for p in (tmp_path / "tables").glob("*.csv")}
    assert "pilots_compared" not in tables  # nothing to compare
    for name in ("shelter_24h_effects", "guidance_effects", "prior_procedures_gradient"):
        if name in tables:
            assert set(tables[name]["n_clusters"].dropna()) != {1}
            assert tables[name]["ci_method"].str.startswith("cluster-robust").all()
