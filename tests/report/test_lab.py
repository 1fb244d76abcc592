"""JupyterLab and papermill on the .py notebooks: the jupytext settings, the documented papermill
one-liner, and interactive outputs kept out of notebooks/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lvv_eval.config import NOTEBOOKS_DIR, PROJECT_ROOT

BIN = Path(sys.executable).parent


def one_liner(notebook: Path, out: Path, params: list[str], cwd: Path, root: Path) -> subprocess.CompletedProcess:
    """The README's command: ``jupytext --to ipynb -o - NOTEBOOK | papermill - OUT -p NAME VALUE``."""
    args = " ".join(f"-p {p}" for p in params)
    command = f"{BIN}/jupytext --to ipynb -o - {notebook} | {BIN}/papermill - {out} {args}"
    env = dict(os.environ, LVV_DATA_ROOT=str(root))
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_the_notebooks_are_percent_scripts_without_ipynb_pairing():
    from jupytext.config import find_jupytext_configuration_file, load_jupytext_configuration_file

    found = find_jupytext_configuration_file(str(NOTEBOOKS_DIR))
    assert found and Path(found) == PROJECT_ROOT / "jupytext.toml"
    config = load_jupytext_configuration_file(found)
    assert config.formats in ("py:percent", ["py:percent"])  # the .py file is the notebook; no .ipynb beside it
    overrides = json.loads((PROJECT_ROOT / "scripts" / "jupyterlab-overrides.json").read_text())
    assert overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["python"] == \
        "Jupytext Notebook"


def test_the_papermill_one_liner_refuses_an_unknown_parameter(tmp_path):
    before = sorted(p.name for p in NOTEBOOKS_DIR.iterdir())
    done = one_liner(NOTEBOOKS_DIR / "04_outcomes_by_pilot.py", tmp_path / "out.ipynb",
                     ["pilot Utrecht"], tmp_path, tmp_path)
    assert done.returncode != 0
    assert "unknown parameter 'pilot' (did you mean pilots?)" in done.stderr + done.stdout
    assert sorted(p.name for p in NOTEBOOKS_DIR.iterdir()) == before
    assert not (tmp_path / "reports").exists()  # refused before anything was written


@pytest.mark.slow
def test_the_papermill_one_liner_runs_and_writes_to_the_scratch_folder(tmp_path, truth_stays_file):
    (truth_stays_file.parent / "manifest.json").write_text(json.dumps({"synthetic": True}))
    before = sorted(p.name for p in NOTEBOOKS_DIR.iterdir())
    done = one_liner(NOTEBOOKS_DIR / "04_outcomes_by_pilot.py", tmp_path / "out.ipynb",
                     ["lang en", f"stays_path {truth_stays_file}", "pilots Amsterdam,Utrecht"],
                     NOTEBOOKS_DIR, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    scratch = tmp_path / "reports" / "scratch" / "04_outcomes_by_pilot"
    assert (scratch / "tables" / "rates_per_100py.csv").is_file()
    assert (scratch / "figures" / "rates_per_100py.png").is_file()
    assert sorted(p.name for p in NOTEBOOKS_DIR.iterdir()) == before  # nothing in notebooks/
    rates = (scratch / "tables" / "rates_per_100py.csv").read_text()
    assert "Rotterdam" not in rates and "Utrecht" in rates  # the pilots given as text were applied
