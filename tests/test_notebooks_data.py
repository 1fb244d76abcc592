"""Notebooks 01-03 (data and harmonisation, published figures, monitor) run by papermill on the
ingested default SYNTHETIC deliveries: no cell fails, every table has its note, and every figure
draws only values of the table written beside it."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from lvv_eval.ingest.pipeline import run_ingest
from lvv_eval.report.runner import NotebookError, run_notebook
from lvv_eval.synth.run import synthesise

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stays_file(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("nb_raw") / "synthetic"
    synthesise(raw, progress=False)
    out = tmp_path_factory.mktemp("nb_clean") / "data_clean"
    run_ingest(raw, out, progress=False)
    return out / "stays.parquet"


def _run(name: str, folder: Path, **params) -> tuple[str, Path]:
    (folder / "disclosure_settings.json").write_text("{}")  # a run folder of `lvv-eval report`
    run = run_notebook(name, params, folder, synthetic=True)
    nb = nbformat.read(run.executed, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    return run.html.read_text(encoding="utf-8"), folder


def _every_table_has_its_note(html: str) -> int:
    blocks = re.findall(r"<div class=[\"']lvv-output lvv-table-output[\"']>(.*?)</div>", html, re.S)
    assert blocks and all("lvv-table" in b and "lvv-note" in b for b in blocks)
    assert all("SYNTHETI" in b for b in blocks)
    return len(blocks)


def _drawn_values_are_in(figure: Path, table: Path, axis: str) -> None:
    drawn = pd.read_csv(figure.with_suffix(".values.csv"))[axis].to_numpy(float)
    shown = pd.read_csv(table, dtype=str).apply(pd.to_numeric, errors="coerce").to_numpy(float).ravel()
    shown = shown[np.isfinite(shown)]
    assert len(drawn) and all(np.isclose(shown, v).any() or v == 0 for v in drawn)


def test_data_harmonisation_notebook(stays_file, tmp_path) -> None:
    html, folder = _run("01_data_harmonisation.py", tmp_path, stays_path=str(stays_file))
    assert _every_table_has_its_note(html) == len(list((folder / "tables").glob("*.csv")))
    accounting = pd.read_csv(folder / "tables" / "row_accounting_by_pilot.csv")
    raw = accounting[accounting["measure"] == "raw_rows"]
    assert pd.to_numeric(raw["count"]).sum() > 0  # the raw rows per pilot are shown
    assert "Waar elke ruwe regel bleef" in html


def test_published_figures_notebook_in_english_with_a_chosen_figure(stays_file, tmp_path) -> None:
    html, folder = _run("02_published_figures.py", tmp_path, stays_path=str(stays_file), lang="en",
                        figure_id="kb2020.durable.all", figure_pilot="Utrecht")
    assert _every_table_has_its_note(html) == len(list((folder / "tables").glob("*.csv")))
    assert "match</td>" in html and "komt overeen</td>" not in html  # outcomes in English
    figure = folder / "figures" / "waterfall_kb2020.durable.all_Utrecht.png"
    _drawn_values_are_in(figure, folder / "tables" / "waterfall_kb2020.durable.all_Utrecht.csv", "x")


def test_monitor_notebook(stays_file, tmp_path) -> None:
    html, folder = _run("03_monitor.py", tmp_path, stays_path=str(stays_file))
    assert _every_table_has_its_note(html) == len(list((folder / "tables").glob("*.csv")))
    assert "eigen keuze van de toolkit" in html
    _drawn_values_are_in(folder / "figures" / "occupancy.png", folder / "tables" / "monitor.csv", "y")


def test_a_figure_without_a_waterfall_is_refused_by_name(stays_file, tmp_path) -> None:
    with pytest.raises(NotebookError, match="figure_id='kb2020.capacity.all'"):
        _run("02_published_figures.py", tmp_path, stays_path=str(stays_file),
             figure_id="kb2020.capacity.all")
