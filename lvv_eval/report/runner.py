"""Run the parameterised notebooks into ``reports/<run_id>/``: checked first, in parallel, cached.

``lvv-eval report`` is :func:`plan_report` (every parameter of every chosen notebook checked
against its declaration; an unknown name or a bad value stops here, before anything runs) and
:func:`run_report`:

- the run is built in a temporary sibling folder and swapped in whole
  (:func:`lvv_eval.outputs.replace_folder`): a failed run leaves no half-filled folder; the failing
  notebook, executed up to its error with the traceback, is kept in ``reports/failed/<run_id>/``
  and named in the error;
- notebooks run in parallel worker processes (``jobs``, default 2), each in its own kernel, with
  a progress line when one starts, finishes or is still running;
- a notebook whose code (its file and the package's source), parameters and inputs (the stays
  folder, files named by parameters, definitions, disclosure settings) are unchanged since an
  earlier run is not run again: its outputs are copied from that run (the cache key is
  :func:`cache_key`, stored in every run's manifest);
- the run folder holds one folder per notebook (its executed notebook, ``tables/``,
  ``figures/``, disclosure record), one HTML page per notebook without code and with its
  figures embedded, ``index.html``, ``tables.xlsx`` (every table), the run's disclosure record
  and ``manifest.json`` (every parameter with defaults, git commit, hashes of inputs,
  definitions and policy files, package versions, timings, cache hits, disclosure summary).

:func:`run_notebook` executes a single notebook into a folder (no cache, no swap).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from lvv_eval.config import NOTEBOOKS_DIR, PACKAGE_DIR, PROJECT_ROOT, clean_dir, reports_dir
from lvv_eval.errors import UserError
from lvv_eval.files import sha256_of
from lvv_eval.report.notebook import DISCLOSURE_SETTINGS
from lvv_eval.report.params import ParameterError, check_values, notebook_parameters, unknown_names

KERNEL_NAME = "python3"
VERSIONED_PACKAGES = ("lvv_eval", "pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn",
                      "papermill", "nbconvert", "jupytext", "pandera", "pyarrow", "openpyxl")
FAILED_SUBDIR = "failed"
MANIFEST = "manifest.json"
HEARTBEAT_SECONDS = 20.0
_SOURCE_SUFFIXES = (".py", ".yaml", ".yml", ".csv", ".json", ".txt")


class NotebookError(UserError, RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


@dataclass
class NotebookRun:
    """One executed notebook and what it wrote."""

    notebook: Path
    executed: Path
    html: Path
    manifest: Path
    seconds: float


@cache
def versions() -> dict[str, str]:
    """Versions of Python and the packages a report depends on."""
    out = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str:
    """The project's git commit (``+dirty`` when files differ from it), or ``unknown``."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty.strip() else "")


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
    """HTML of the executed notebook without code cells; figures are embedded in the page."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                            embed_images=True)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    html.write_text(body, encoding="utf-8")


def input_hashes(parameters: Mapping[str, Any]) -> dict[str, str]:
    """sha256 of every file a parameter points to."""
    out = {}
    for key, value in parameters.items():
        if isinstance(value, str) and value and Path(value).is_file():
            out[key] = sha256_of(Path(value))
    return out


def notebook_file(name: str | Path) -> Path:
    """The notebook a name stands for: a path, a file in ``notebooks/``, its stem, or its number
    (``04``); a :class:`UserError` listing the notebooks when there is none."""
    path = Path(name)
    if path.is_file():
        return path.resolve()
    available = sorted(NOTEBOOKS_DIR.glob("*.py"))
    for candidate in available:
        if str(name) in (candidate.name, candidate.stem) or candidate.stem.split("_", 1)[0] == str(name):
            return candidate
    raise UserError(f"notebook {str(name)!r} not found; choose one of "
                    f"{', '.join(p.stem for p in available)}")


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


def new_run_id(root: Path | None = None) -> str:
    """A run id not yet used under ``root`` (UTC timestamp, ``-2`` ... when taken)."""
    root = root or reports_dir()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = run_id, 1
    while (root / candidate).exists() or (root / FAILED_SUBDIR / candidate).exists():
        n += 1
        candidate = f"{run_id}-{n}"
    return candidate


def new_run_dir(root: Path | None = None) -> Path:
    """A fresh ``reports/<run_id>/`` folder (run id: UTC timestamp)."""
    root = root or reports_dir()
    path = root / new_run_id(root)
    path.mkdir(parents=True)
    return path


# --------------------------------------------------------------------------- planning


@dataclass
class NotebookPlan:
    """One notebook of a run: its file, every parameter's value and what its cache key covers."""

    path: Path
    parameters: dict[str, Any]
    inputs: dict[str, str] = field(default_factory=dict)
    key: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclass
class ReportPlan:
    """The notebooks of a run with their checked parameters and the run's settings."""

    notebooks: list[NotebookPlan]
    stays_path: Path
    provenance: str
    disclosure: dict[str, Any]
    settings_files: dict[str, str] = field(default_factory=dict)


def plan_report(names: Sequence[str | Path] | None, values: Mapping[str, Any],
                provenance: str = "unknown", disclosure: Mapping[str, Any] | None = None) -> ReportPlan:
    """Check ``values`` (from ``-p NAME=VALUE``: text is converted) against the declarations of
    the chosen notebooks (default: all in ``notebooks/``): a :class:`ParameterError` naming every
    unknown name (declared by none of them) and every bad value, before anything runs."""
    paths = [notebook_file(n) for n in names] if names else sorted(NOTEBOOKS_DIR.glob("*.py"))
    if not paths:
        raise UserError(f"no notebooks in {NOTEBOOKS_DIR}")
    declared = {p: notebook_parameters(p) for p in paths}
    every_name = {name for d in declared.values() for name in d}
    problems = unknown_names(values, every_name)
    if problems:
        raise ParameterError("; ".join(problems))
    plans = []
    for path, params in declared.items():
        mine = {k: v for k, v in values.items() if k in params}
        plans.append(NotebookPlan(path, check_values(mine, params, origin=path.name),
                                  defaults={k: p.default for k, p in params.items()}))
    stays = Path(plans[0].parameters.get("stays_path") or clean_dir() / "stays.parquet").resolve()
    settings = dict(disclosure or {})
    return ReportPlan(plans, stays, provenance, settings, settings_hashes(settings))


def settings_hashes(settings: Mapping[str, Any]) -> dict[str, str]:
    """sha256 of the disclosure policy (the package's when none is named) and exception files."""
    from lvv_eval.disclosure import POLICY_YAML

    policy = Path(settings.get("policy") or POLICY_YAML)
    out = {"disclosure_policy": f"{policy}:{sha256_of(policy)}"}
    if settings.get("exceptions"):
        path = Path(settings["exceptions"])
        out["disclosure_exceptions"] = f"{path}:{sha256_of(path)}"
    return out


@cache
def package_source_hash() -> str:
    """One sha256 over the package's source and data files (its code as the notebooks see it)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.suffix in _SOURCE_SUFFIXES and path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


VOLATILE_KEYS = frozenset({"created_utc", "finished_utc", "written"})
"""Keys of the JSON records a verb writes beside its data that only say when it ran."""


def _without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


def content_hash(path: Path) -> str:
    """sha256 of a file's content; of a JSON record without the keys that only say when it was
    written, so that the same data written again hash the same."""
    if path.suffix == ".json":
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return sha256_of(path)
        canonical = json.dumps(_without_volatile(record), sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()
    return sha256_of(path)


def folder_hash(folder: Path) -> str:
    """One sha256 over every file below ``folder`` (names and contents; JSON records without
    their timestamps, see :func:`content_hash`)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(content_hash(path).encode())
    return digest.hexdigest()


def notebook_inputs(plan: NotebookPlan, stays_path: Path) -> dict[str, str]:
    """sha256 of what a notebook reads: the stays file's folder (the ingest output with its
    audit trail), the definitions file, and every file or folder a parameter names."""
    from lvv_eval.measures.definitions import DEFINITIONS_YAML

    out = {"stays_folder": f"{stays_path.parent}:{folder_hash(stays_path.parent)}"
           if stays_path.parent.is_dir() else "missing"}
    if not plan.parameters.get("definitions"):  # the package's definitions file
        out["definitions"] = f"{DEFINITIONS_YAML}:{sha256_of(DEFINITIONS_YAML)}"
    for name, value in plan.parameters.items():
        if not isinstance(value, str) or not value or name == "stays_path":
            continue
        path = Path(value)
        if path.is_file():
            out[name] = f"{path.resolve()}:{sha256_of(path)}"
        elif path.is_dir():
            out[name] = f"{path.resolve()}:{folder_hash(path)}"
    return out


def cache_key(plan: NotebookPlan, report: ReportPlan) -> str:
    """The hash of everything a notebook's outputs depend on: its file, the package source,
    every parameter, its inputs and the disclosure settings."""
    payload = {
        "notebook": sha256_of(plan.path),
        "package": package_source_hash(),
        "parameters": plan.parameters,
        "inputs": plan.inputs,
        "disclosure": {k: v for k, v in report.disclosure.items() if k != "exceptions"},
        "settings_files": report.settings_files,
        "versions": dict(versions()),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def find_cached(key: str, stem: str, root: Path) -> Path | None:
    """The folder of the newest earlier run whose notebook ``stem`` has cache key ``key`` and
    whose outputs are complete."""
    for manifest in sorted(root.glob(f"[!.]*/{MANIFEST}"), reverse=True):
        try:
            entry = json.loads(manifest.read_text(encoding="utf-8"))["notebooks"][stem]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        run = manifest.parent
        if entry.get("cache_key") == key and (run / stem).is_dir() and (run / f"{stem}.html").is_file():
            return run
    return None


# --------------------------------------------------------------------------- executing


def _worker(path: str, parameters: dict[str, Any], folder: str, settings: dict[str, Any],
            run_root: str) -> dict[str, Any]:
    """Run one notebook into ``folder`` (a worker process): executed notebook, HTML beside."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    (target / DISCLOSURE_SETTINGS).write_text(json.dumps(settings, indent=2), encoding="utf-8")
    stem = Path(path).stem
    executed = target / f"{stem}.ipynb"
    t0 = time.perf_counter()
    try:
        execute(load_notebook(Path(path)), executed, parameters, cwd=target)
    except NotebookError as exc:
        return {"stem": stem, "error": str(exc), "executed": str(executed),
                "seconds": time.perf_counter() - t0}
    export_html(executed, Path(run_root) / f"{stem}.html")
    return {"stem": stem, "error": "", "seconds": time.perf_counter() - t0}


Progress = Callable[[str], None]


class _Watch:
    """Progress lines for running futures: when each starts, and every
    :data:`HEARTBEAT_SECONDS` which are still running and for how long."""

    def __init__(self, names: Mapping[Future, str], progress: Progress) -> None:
        self.names = names
        self.progress = progress
        self.started: dict[Future, float] = {}
        self.last_beat = time.perf_counter()

    def poll(self, pending: set[Future]) -> None:
        now = time.perf_counter()
        for fut in pending:
            if fut not in self.started and fut.running():
                self.started[fut] = now
                self.progress(f"{self.names[fut]}: started")
        running = [f for f in pending if f in self.started]
        if running and now - self.last_beat >= HEARTBEAT_SECONDS:
            self.last_beat = now
            self.progress("still running: " + ", ".join(
                f"{self.names[f]} ({now - self.started[f]:.0f} s)" for f in running))


def _run_parallel(jobs: list[NotebookPlan], tmp: Path, settings: dict[str, Any], workers: int,
                  progress: Progress) -> dict[str, dict[str, Any]]:
    """Run ``jobs`` (in this order) in ``workers`` processes; stops at the first failure
    (returned with it)."""
    results: dict[str, dict[str, Any]] = {}
    if not jobs:
        return results
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs))),
                             mp_context=get_context("spawn")) as pool:
        names = {pool.submit(_worker, str(job.path), job.parameters, str(tmp / job.stem), settings,
                             str(tmp)): job.stem for job in jobs}
        watch = _Watch(names, progress)
        pending = set(names)
        while pending:
            done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            watch.poll(pending)
            for fut in done:
                result = fut.result()
                results[result["stem"]] = result
                state = "FAILED" if result["error"] else "done"
                progress(f"[{len(results)}/{len(jobs)}] {result['stem']} {state} "
                         f"({result['seconds']:.1f} s)")
                if result["error"]:
                    for other in pending:
                        other.cancel()
                    return results
    return results


def longest_first(jobs: list[NotebookPlan], root: Path) -> list[NotebookPlan]:
    """``jobs`` ordered by how long each took when it last ran (unknown ones first), so that two
    workers finish close together."""
    last: dict[str, float] = {}
    for manifest in sorted(root.glob(f"[!.]*/{MANIFEST}")):
        try:
            notebooks = json.loads(manifest.read_text(encoding="utf-8"))["notebooks"]
        except (OSError, ValueError, KeyError):
            continue
        last.update({stem: float(nb["seconds"]) for stem, nb in notebooks.items()
                     if not nb.get("cached_from") and nb.get("seconds")})
    return sorted(jobs, key=lambda job: -last.get(job.stem, float("inf")))


def _keep_failure(result: Mapping[str, Any], run_id: str, root: Path, provenance: str) -> Path:
    """Copy a failed notebook (executed up to the error) to ``reports/failed/<run_id>/``."""
    from lvv_eval.outputs import mark_shared_output_folder

    folder = root / FAILED_SUBDIR / run_id
    folder.mkdir(parents=True, exist_ok=True)
    mark_shared_output_folder(root / FAILED_SUBDIR, "report", provenance)
    executed = Path(result["executed"])
    kept = folder / executed.name
    if executed.is_file():
        shutil.copyfile(executed, kept)
        with contextlib.suppress(Exception):  # the notebook itself is what matters
            export_html(kept, kept.with_suffix(".html"))
    return kept


@dataclass
class ReportRun:
    """What :func:`run_report` did."""

    folder: Path
    run_id: str
    ran: list[str]
    cached: dict[str, str]
    seconds: float


def run_report(plan: ReportPlan, *, root: Path | None = None, out_dir: Path | None = None,
               workers: int = 2, use_cache: bool = True, gate: Any = None,
               progress: Progress = print) -> ReportRun:
    """Run the plan into ``out_dir`` (default ``<root>/<run_id>``; ``root`` default
    ``reports/``), reusing unchanged notebooks from earlier runs; see the module docstring."""
    from lvv_eval.outputs import replace_folder
    from lvv_eval.report.bundle import finish_run

    root = Path(root or reports_dir()).resolve()
    run_id = new_run_id(root) if out_dir is None else Path(out_dir).name
    target = Path(out_dir).resolve() if out_dir is not None else root / run_id
    t0 = time.perf_counter()
    for nb in plan.notebooks:
        nb.inputs = notebook_inputs(nb, plan.stays_path)
        nb.key = cache_key(nb, plan)
    cached = {nb.stem: find_cached(nb.key, nb.stem, root) for nb in plan.notebooks} if use_cache else {}
    cached = {k: v for k, v in cached.items() if v is not None}
    jobs = longest_first([nb for nb in plan.notebooks if nb.stem not in cached], root)
    for stem, run in cached.items():
        progress(f"{stem}: unchanged since run {run.name} (cached; -p or --no-cache to run again)")
    timings: dict[str, float] = {}

    def write(tmp: Path) -> None:
        for stem, run in cached.items():
            shutil.copytree(run / stem, tmp / stem)
            shutil.copyfile(run / f"{stem}.html", tmp / f"{stem}.html")
        if jobs:
            progress(f"running {len(jobs)} notebook(s), {min(workers, len(jobs))} at a time: "
                     + ", ".join(j.stem for j in jobs))
        results = _run_parallel(jobs, tmp, plan.disclosure, workers, progress)
        failed = [r for r in results.values() if r["error"]]
        if failed:
            kept = _keep_failure(failed[0], run_id, root, plan.provenance)
            raise NotebookError(f"{failed[0]['error'].split(' (the executed notebook')[0]}; no run "
                                f"folder written; the notebook with its traceback is kept at {kept}")
        timings.update({stem: r["seconds"] for stem, r in results.items()})
        finish_run(tmp, plan, run_id=run_id, timings=timings,
                   cached={k: v.name for k, v in cached.items()}, gate=gate,
                   seconds=time.perf_counter() - t0)

    replace_folder(target, write)
    return ReportRun(target, run_id, [j.stem for j in jobs], {k: v.name for k, v in cached.items()},
                     time.perf_counter() - t0)


def environment_summary() -> dict[str, Any]:
    """Where and with what a run was made (for the manifest)."""
    return {"git_commit": git_commit(), "versions": versions(), "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "package_source_sha256": package_source_hash()}
