"""End to end: every table the pipeline writes under reports/ is scanned for counts 1-9 that are
not marked, and every figure's drawn values are looked up in the gated tables it was drawn from.

The fast test runs the outcomes notebook's code in this process on a small SYNTHETIC cohort (the
same save_table/save_figure calls the papermill kernel makes); the slow one runs `lvv-eval run`
on the default SYNTHETIC data in a temporary data root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lvv_eval.config import PROJECT_ROOT
from lvv_eval.disclosure import read_record
from lvv_eval.report import notebook as notebook_helpers
from lvv_eval.report.runner import NOTEBOOKS_DIR, load_notebook
from tests.helpers.fake_stays import fake_stays

THRESHOLD = 10
MARKER = "x"
RECORD_FILES = {"disclosure.csv"}


def numbers(column: pd.Series) -> pd.Series:
    """A written column as numbers (markers and text become NaN)."""
    return pd.to_numeric(column.where(column != MARKER), errors="coerce")


def small_counts(values: pd.Series) -> pd.Series:
    return values[(values >= 1) & (values < THRESHOLD) & (values == values.round())]


def count_columns(entry: dict) -> list[str]:
    return [c for c, role in entry["columns"].items() if role.startswith("count")]


def unmarked_small_counts(path: Path, entry: dict) -> list[str]:
    """Cells of a count column holding 1-9 without the marker (published figures exempt)."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    problems = []
    for col in count_columns(entry):
        bad = small_counts(numbers(table[col]))
        problems += [f"{path.name}:{col}: row {i} holds {v:g}" for i, v in bad.items()]
    if entry["kind"] == "published":
        computed = numbers(table["computed_value"])
        public = computed == numbers(table["published_value"])
        bad = small_counts(computed[~public])
        problems += [f"{path.name}: {table.at[i, 'figure_id']} computes {v:g}" for i, v in bad.items()]
    return problems


def scan_folder(folder: Path) -> list[str]:
    """Every problem in an output folder: a table not in the record, an unmarked count 1-9, a
    figure drawing a value its gated sources do not show."""
    record = read_record(folder)
    by_path = {o["path"]: o for o in record["outputs"] if o["path"]}
    by_name = {o["output"]: o for o in record["outputs"]}
    problems = []
    for path in sorted(folder.rglob("*.csv")):
        rel = str(path.relative_to(folder))
        if path.name in RECORD_FILES or path.name.endswith(".values.csv"):
            continue
        if rel not in by_path:
            problems.append(f"{rel}: written but not in the record")
            continue
        problems += unmarked_small_counts(path, by_path[rel])
    for entry in by_name.values():
        if entry["kind"] == "figure":
            problems += figure_problems(folder, entry, by_name)
    return problems


def figure_problems(folder: Path, entry: dict, by_name: dict) -> list[str]:
    """A figure's drawn values (written beside it) must all be shown in its source tables."""
    if entry["status"] != "pass":
        return [f"{entry['output']}: status {entry['status']}"]
    drawn = pd.read_csv((folder / entry["path"]).with_suffix(".values.csv"))
    if drawn.empty:
        return [f"{entry['output']}: draws nothing"]
    allowed = []
    for source in entry["sources"]:
        table = pd.read_csv(folder / by_name[source]["path"], dtype=str, keep_default_na=False)
        for col in table.columns:
            vals = numbers(table[col]).dropna().to_numpy(dtype=float)
            allowed.append(vals)
    allowed = np.sort(np.concatenate(allowed))
    axis = "x" if any(d.endswith("checked on x") for d in entry["details"]) else "y"
    y = drawn[axis].to_numpy(dtype=float)  # the axis the gate checked (a forest plot: x)
    pos = np.clip(np.searchsorted(allowed, y), 1, len(allowed) - 1)
    near = np.minimum(abs(allowed[pos] - y), abs(allowed[pos - 1] - y))
    stray = y[near > 1e-9 * np.maximum(1, abs(y))]
    return [f"{entry['output']}: draws {v:g}, not shown in {entry['sources']}" for v in stray[:5]]


# ------------------------------------------------------------------------------ fast

def run_notebook_here(notebook: str, parameters: dict, folder: Path) -> None:
    """Execute a notebook's code cells in this process with ``folder`` as working folder."""
    nb = load_notebook(NOTEBOOKS_DIR / notebook)
    namespace: dict = {"display": lambda *a, **k: None}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        source = "\n".join(line for line in cell.source.splitlines()
                           if not line.startswith(("%", "!")))
        exec(compile(source, f"{notebook}:cell", "exec"), namespace)
        if "parameters" in tags:
            namespace.update(parameters)


@pytest.fixture(scope="module")
def small_report(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("clean")
    fake_stays(600, seed=11).to_parquet(data / "stays.parquet")
    (data / "manifest.json").write_text(json.dumps({"synthetic": True}))
    run = tmp_path_factory.mktemp("run")
    cwd = Path.cwd()
    os.chdir(run)
    try:
        notebook_helpers._GATES.clear()
        (run / notebook_helpers.DISCLOSURE_SETTINGS).write_text("{}")  # a run folder
        run_notebook_here("04_outcomes_by_pilot.py",
                          {"stays_path": str(data / "stays.parquet"), "lang": "en"}, run)
    finally:
        os.chdir(cwd)
    return run


def test_the_small_report_writes_no_unmarked_small_count(small_report) -> None:
    assert scan_folder(small_report) == []


def test_the_small_report_records_every_table_and_figure(small_report) -> None:
    record = read_record(small_report)
    outputs = {o["output"]: o for o in record["outputs"]}
    written = {str(p.relative_to(small_report)) for p in small_report.rglob("*")
               if p.suffix in (".csv", ".png") and not p.name.endswith(".values.csv")
               and p.name not in RECORD_FILES}
    assert written == {o["path"] for o in outputs.values() if o["path"][-4:] in (".csv", ".png")}
    assert outputs["tables.json"]["status"] == "pass"  # the list of tables with their notes
    assert outputs["rates_per_100py"]["status"] == "suppressed"  # the small cohort has small cells
    assert outputs["cumulative_incidence_by_pilot"]["rules"] == ["SURV_GRID"]
    assert record["synthetic"] is True


def test_the_cumulative_incidence_table_is_on_the_grid(small_report) -> None:
    table = pd.read_csv(small_report / "tables" / "cumulative_incidence_by_pilot.csv")
    assert (table["time"] % 30 == 0).all()
    assert len(table) < 1000  # every exit day would be thousands of rows


def test_the_scan_finds_an_unmarked_small_count(small_report, tmp_path) -> None:
    """The scanner is not blind: a table with a raw small count is caught."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(small_report, copy)
    rates = copy / "tables" / "rates_per_100py.csv"
    table = pd.read_csv(rates, dtype=str)
    table.loc[table["events"] == MARKER, "events"] = "3"
    table.to_csv(rates, index=False)
    assert any("rates_per_100py.csv:events" in p for p in scan_folder(copy))


# ------------------------------------------------------------------------------ slow

@pytest.mark.slow
def test_make_run_is_gated_end_to_end(tmp_path) -> None:
    """`lvv-eval run` (what `make run` calls) on the default SYNTHETIC data, in a fresh root."""
    env = dict(os.environ, LVV_DATA_ROOT=str(tmp_path))
    # a fresh LVV_DATA_ROOT holds no deliveries: `run` draws the demo only where `synth` put it
    command = "import sys; from lvv_eval.cli import main; sys.exit(main(['synth']) or main(['run']))"
    done = subprocess.run([sys.executable, "-c", command], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-2000:]
    runs = [p for p in (tmp_path / "reports").iterdir() if p.is_dir() and p.name[:2] == "20"]
    assert len(runs) == 1
    run = runs[0]
    assert scan_folder(run) == []
    assert scan_folder(tmp_path / "reports" / "reproduce") == []
    record = read_record(run)
    statuses = {o["output"]: o["status"] for o in record["outputs"]}
    assert statuses["04_outcomes_by_pilot/cumulative_incidence_by_pilot.png"] == "pass"
    assert statuses["04_outcomes_by_pilot/rates_per_100py.png"] == "pass"
    assert {o["kind"] for o in record["outputs"] if o["status"] == "needs review"} <= {"notebook"}
    assert "disclosure.html" in (run / "index.html").read_text(encoding="utf-8")
