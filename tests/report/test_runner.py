"""`lvv-eval report`: parameters refused before running, a failed run leaves no folder, unchanged
notebooks reused, every table with its note, runs and diff."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from lvv_eval.cli import main as cli_main
from lvv_eval.report.history import diff_runs, list_runs
from lvv_eval.report.params import common_block
from lvv_eval.report.runner import FAILED_SUBDIR, NotebookError, plan_report, run_report
from tests.helpers.fake_stays import fake_stays

TINY = '''# %% [markdown]
# # Kleine telling / A small count

# %% tags=["parameters"]
{common}
{extra}

# %%
if fail:
    raise RuntimeError("this notebook was asked to fail")

# %%
import matplotlib.pyplot as plt

from lvv_eval.report.present import Report

rep = Report.start({path!r}, globals())
counts = rep.stays.groupby("pilot").size().rename("n_stays").reset_index()
shown = rep.show_table(counts, "{name}", title="Verblijven per pilot", counts=["n_stays"], dims=["pilot"])
fig, ax = plt.subplots()
ax.bar(shown.data["pilot"], shown.data["n_stays"])
rep.show_figure(fig, "{name}", sources=[shown])
'''


def write_tiny(folder: Path, stem: str, extra: str) -> Path:
    path = folder / f"{stem}.py"
    path.write_text(TINY.format(common=common_block(), extra=extra, path=str(path), name=f"{stem}_counts"))
    return path


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    clean = base / "data_clean"
    clean.mkdir()
    fake_stays(400, seed=5).to_parquet(clean / "stays.parquet")
    (clean / "manifest.json").write_text(json.dumps({"synthetic": True}))
    notebooks = base / "notebooks"
    notebooks.mkdir()
    a = write_tiny(notebooks, "01_tiny", 'fail: bool = False  # fail on purpose\n'
                                         'bins: int = 3  # only in this notebook; min: 1')
    b = write_tiny(notebooks, "02_tiny", 'fail: bool = False  # fail on purpose')
    (base / "reports").mkdir()  # so that a test run alone (or first on its worker) finds it
    return {"root": base / "reports", "stays": clean / "stays.parquet", "notebooks": [a, b]}


def plan(setting, **values):
    values = {"stays_path": str(setting["stays"]), **values}
    return plan_report(setting["notebooks"], values, provenance="synthetic")


@pytest.fixture(scope="module")
def runs(setting):
    """A first run (both notebooks, in parallel) and a second with nothing changed."""
    lines: list[str] = []
    first = run_report(plan(setting), root=setting["root"], progress=lines.append)
    second = run_report(plan(setting), root=setting["root"], progress=lines.append)
    return first, second, lines


@pytest.fixture(scope="module")
def later_runs(setting, runs):
    """A third run with a parameter of the first notebook changed, a fourth with an earlier
    reference date."""
    third = run_report(plan(setting, bins=4), root=setting["root"], progress=lambda line: None)
    fourth = run_report(plan(setting, bins=4, reference_date="2021-01-01"), root=setting["root"],
                        progress=lambda line: None)
    return third, fourth


def test_the_first_run_writes_pages_workbook_record_and_manifest(runs):
    first = runs[0]
    assert sorted(first.ran) == ["01_tiny", "02_tiny"] and not first.cached
    folder = first.folder
    for stem in ("01_tiny", "02_tiny"):
        page = (folder / f"{stem}.html").read_text(encoding="utf-8")
        assert "data:image/png;base64," in page  # the figure is embedded, not only beside
        assert "rep = Report.start" not in page  # no code
        assert (folder / stem / "tables" / f"{stem}_counts.csv").is_file()
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "01_tiny.html" in index and "tables.xlsx" in index and "SYNTHETIC" in index
    book = load_workbook(folder / "tables.xlsx")
    assert {"index", "01_01_tiny_counts", "02_02_tiny_counts"} <= set(book.sheetnames)
    sheet = book["01_01_tiny_counts"]
    assert sheet["A1"].value == "Verblijven per pilot" and "SYNTHETISCHE GEGEVENS" in sheet["A2"].value
    assert sheet["B4"].value == "aantal verblijven"  # the heading in the report language
    manifest = json.loads((folder / "manifest.json").read_text())
    params = manifest["notebooks"]["01_tiny"]["parameters"]
    assert params["bins"] == 3 and params["population"] == "in_covenant"  # defaults recorded
    assert manifest["git_commit"] and manifest["settings_files"]["disclosure_policy"]
    inputs = manifest["notebooks"]["01_tiny"]["inputs"]
    assert inputs["stays_folder"] and re.fullmatch(r".+definitions\.yaml:[0-9a-f]{64}", inputs["definitions"])
    assert manifest["versions"]["papermill"] and manifest["disclosure"]["status_counts"]
    record = json.loads((folder / "disclosure.json").read_text())
    outputs = {o["output"] for o in record["outputs"]}
    assert {"01_tiny/01_tiny_counts", "02_tiny/02_tiny_counts.png", "tables.xlsx",
            "01_tiny/tables.json"} <= outputs
    figure = next(o for o in record["outputs"] if o["output"] == "02_tiny/02_tiny_counts.png")
    assert figure["sources"] == ["02_tiny/02_tiny_counts"]  # names in the run's record
    # only the notebooks' narrative is left for the output checker; nothing written ungated
    assert {o["kind"] for o in record["outputs"] if o["status"] == "needs review"} <= {"notebook"}


def test_every_table_in_the_html_has_its_note(runs):
    folder = runs[0].folder
    for page in folder.glob("*.html"):
        if page.name in ("index.html", "disclosure.html"):
            continue
        assert_every_table_noted(page.read_text(encoding="utf-8"))


def assert_every_table_noted(page: str) -> None:
    """Every table the page shows is one of ours and is followed by its note before the next."""
    tables = [m.start() for m in re.finditer(r"<table", page)]
    assert tables
    for i, start in enumerate(tables):
        assert re.match(r"<table class=[\"']lvv-table", page[start:start + 40]), page[start:start + 80]
        end = tables[i + 1] if i + 1 < len(tables) else len(page)
        between = page[start:end]
        assert re.search(r"class=[\"']lvv-note", between) and "N = " in between and "SYNTHETI" in between


def test_nothing_changed_reuses_every_notebook(runs):
    first, second = runs[0], runs[1]
    assert second.ran == [] and second.cached == {"01_tiny": first.run_id, "02_tiny": first.run_id}
    a = (first.folder / "01_tiny" / "tables" / "01_tiny_counts.csv").read_bytes()
    assert (second.folder / "01_tiny" / "tables" / "01_tiny_counts.csv").read_bytes() == a
    assert any("unchanged since run" in line for line in runs[2])


def test_runs_lists_and_diff_finds_nothing_changed(runs, setting):
    listed = list_runs(setting["root"])
    ids = [r["run_id"] for r in listed]
    assert ids.index(runs[1].run_id) < ids.index(runs[0].run_id)  # newest first
    first = next(r for r in listed if r["run_id"] == runs[0].run_id)
    assert first["parameters"] == {} and first["provenance"] == "synthetic"
    assert first["notebooks"] == ["01_tiny", "02_tiny"]
    assert {d.status for d in diff_runs(runs[0].folder, runs[1].folder)} == {"same"}


@pytest.mark.slow
def test_a_changed_parameter_reruns_only_the_notebook_that_takes_it(later_runs, runs):
    third = later_runs[0]
    assert third.ran == ["01_tiny"] and third.cached == {"02_tiny": runs[1].run_id}  # the newest


@pytest.mark.slow
def test_runs_lists_parameters_and_diff_says_by_how_much(later_runs, setting):
    third, fourth = later_runs
    listed = list_runs(setting["root"])
    assert listed[0]["run_id"] == fourth.run_id
    assert listed[0]["parameters"] == {"bins": 4, "reference_date": "2021-01-01"}
    changed = {d.table: d for d in diff_runs(third.folder, fourth.folder)}
    assert changed["01_tiny_counts"].status == "changed" and changed["01_tiny_counts"].cells_changed > 0
    assert changed["01_tiny_counts"].max_abs_change > 0 and "n_stays" in changed["01_tiny_counts"].where


@pytest.mark.slow
def test_the_diff_and_runs_verbs(later_runs, setting, monkeypatch, capsys):
    third, fourth = later_runs
    monkeypatch.setenv("LVV_DATA_ROOT", str(setting["root"].parent))
    assert cli_main(["runs"]) == 0
    assert fourth.run_id in capsys.readouterr().out
    assert cli_main(["diff", third.run_id, fourth.run_id]) == 0
    out = capsys.readouterr().out
    assert "changed  01_tiny/01_tiny_counts" in out and "reference_date 'ee2022' -> '2021-01-01'" in out
    assert cli_main(["diff", third.run_id, "nope"]) == 2


def test_a_failed_run_leaves_no_folder_and_keeps_the_failing_notebook(setting):
    root = setting["root"]
    before = {p.name for p in root.iterdir()}
    with pytest.raises(NotebookError, match="asked to fail") as caught:
        run_report(plan(setting, fail=True), root=root, progress=lambda line: None, use_cache=False)
    after = {p.name for p in root.iterdir()}
    assert after - before <= {FAILED_SUBDIR}  # no run folder, no temporary folder left
    kept = re.search(r"kept at (\S+\.ipynb)", str(caught.value))
    assert kept and Path(kept.group(1)).is_file()
    assert "RuntimeError" in Path(kept.group(1)).read_text()  # with its traceback
    assert Path(kept.group(1)).parent.parent == root / FAILED_SUBDIR


@pytest.mark.parametrize(("given", "named"), [
    (["-p", "pilot=Utrecht"], "unknown parameter 'pilot' (did you mean pilots?)"),
    (["-p", "lang=fr"], "lang='fr': 'fr' not allowed; choose one of nl, en"),
    (["-p", "horizon_days=soon"], "horizon_days='soon'"),
    (["-p", "pilots=Amsterdam,Zwolle"], "'Zwolle' not allowed; choose any of Amsterdam"),
])
def test_unknown_or_bad_parameters_exit_2_before_anything_runs(given, named, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LVV_DATA_ROOT", str(tmp_path))
    assert cli_main(["report", *given]) == 2
    err = capsys.readouterr().err
    assert named in err
    assert not (tmp_path / "reports").exists()  # nothing ran, nothing written


def test_unknown_notebook_is_named(setting):
    with pytest.raises(Exception, match="notebook 'nope' not found"):
        plan_report(["nope"], {})


def test_the_same_data_written_again_hash_the_same_for_the_cache(tmp_path):
    """`make run` ingests again before the report: the manifest and owner marker differ only in
    when they were written, so the report's cache must still see the same stays folder."""
    from lvv_eval.outputs import write_owner_marker
    from lvv_eval.report.runner import folder_hash

    def ingest_like(folder: Path, when: str, rows: int) -> str:
        folder.mkdir(exist_ok=True)
        fake_stays(rows).to_parquet(folder / "stays.parquet", index=False)
        (folder / "manifest.json").write_text(json.dumps({"created_utc": when, "status": "ok",
                                                          "outputs": {"stays": rows}}))
        write_owner_marker(folder, "ingest", provenance="synthetic")
        return folder_hash(folder)

    first = ingest_like(tmp_path / "a", "2026-12-03T10:00:00+00:00", 5)
    again = ingest_like(tmp_path / "b", "2026-12-03T11:30:00+00:00", 5)
    other = ingest_like(tmp_path / "c", "2026-12-03T11:30:00+00:00", 4)
    assert first == again and first != other
