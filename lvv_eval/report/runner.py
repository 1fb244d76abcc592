"""Parameterised notebooks run by papermill into a reproducible report bundle.

Notebooks live in ``notebooks/`` as jupytext percent files with a cell tagged ``parameters``
that holds only literals. Each run executes in its own kernel process (one retry when the kernel
fails to start) and writes, under ``reports/<run_id>/``: the executed notebook, an HTML export
without code, and ``manifest.json`` (parameters, input hashes, package versions, SYNTHETIC flag).
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from lvv_eval.config import NOTEBOOKS_DIR, PROJECT_ROOT, reports_dir
from lvv_eval.files import sha256_of

KERNEL_NAME = "python3"
VERSIONED_PACKAGES = ("lvv_eval", "pandas", "numpy", "statsmodels", "seaborn", "papermill", "pandera")


class NotebookError(RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


@dataclass
class NotebookRun:
    """One executed notebook and what it wrote."""

    notebook: Path
    executed: Path
    html: Path
    manifest: Path
    seconds: float


def versions() -> dict[str, str]:
    """Versions of Python and the packages a report depends on."""
    out = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def load_notebook(path: Path) -> Any:
    """A jupytext percent file (or .ipynb) as an nbformat notebook with a Python kernelspec."""
    import jupytext

    if not path.exists():
        raise NotebookError(f"notebook {path} does not exist")
    nb = jupytext.read(path)
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells):
        raise NotebookError(f"{path} has no cell tagged 'parameters'")
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    return nb


def execute(nb: Any, out_ipynb: Path, parameters: Mapping[str, Any], cwd: Path, retries: int = 1) -> None:
    """Run ``nb`` with papermill into ``out_ipynb``; one retry when the kernel does not start."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    for attempt in range(retries + 1):
        try:
            pm.execute_notebook(nb, str(out_ipynb), parameters=dict(parameters), kernel_name=KERNEL_NAME,
                                cwd=str(cwd), progress_bar=False, start_timeout=120)
            return
        except PapermillExecutionError as exc:
            raise NotebookError(
                f"{out_ipynb.name}: cell {exc.exec_count} failed: {exc.ename}: {exc.evalue} "
                f"(the executed notebook with the traceback is at {out_ipynb})"
            ) from exc
        except (RuntimeError, TimeoutError) as exc:  # kernel died or did not start
            if attempt == retries:
                raise NotebookError(f"{out_ipynb.name}: kernel failed: {exc}") from exc


def export_html(executed: Path, html: Path) -> None:
    """HTML of the executed notebook without code cells."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    html.write_text(body, encoding="utf-8")


def input_hashes(parameters: Mapping[str, Any]) -> dict[str, str]:
    """sha256 of every file a parameter points to."""
    out = {}
    for key, value in parameters.items():
        if isinstance(value, str) and value and Path(value).is_file():
            out[key] = sha256_of(Path(value))
    return out


def run_notebook(notebook: str | Path, parameters: Mapping[str, Any], out_dir: Path,
                 synthetic: bool) -> NotebookRun:
    """Execute one notebook with ``parameters`` into ``out_dir`` (notebook, HTML, manifest)."""
    path = Path(notebook)
    if not path.is_absolute() and not path.exists():
        path = NOTEBOOKS_DIR / path
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = path.stem
    executed, html, manifest = (out_dir / f"{stem}.ipynb", out_dir / f"{stem}.html",
                                out_dir / f"{stem}.manifest.json")
    t0 = time.perf_counter()
    execute(load_notebook(path), executed, parameters, cwd=out_dir)
    export_html(executed, html)
    seconds = time.perf_counter() - t0
    manifest.write_text(json.dumps({
        "notebook": str(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path),
        "notebook_sha256": sha256_of(path),
        "parameters": dict(parameters),
        "inputs_sha256": input_hashes(parameters),
        "versions": versions(),
        "synthetic": synthetic,
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
    }, indent=2, default=str), encoding="utf-8")
    return NotebookRun(path, executed, html, manifest, seconds)


def new_run_dir(root: Path | None = None) -> Path:
    """A fresh ``reports/<run_id>/`` folder (run id: UTC timestamp)."""
    root = root or reports_dir()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = root / run_id
    n = 1
    while path.exists():
        n += 1
        path = root / f"{run_id}-{n}"
    path.mkdir(parents=True)
    return path
