"""Past report runs: what each was (:func:`list_runs`) and what changed between two (:func:`diff_runs`).

A run is a folder under ``reports/`` with the ``manifest.json`` of ``lvv-eval report``. The diff
compares every table the two runs share by its CSV: rows are matched on the table's text
columns (pilot, outcome class, ...; by position when those do not identify a row), numbers
cell by cell; a cell the disclosure gate hid in one run and showed in the other counts as changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.config import reports_dir
from lvv_eval.errors import UserError

MANIFEST = "manifest.json"
_IGNORED_COLUMNS = ("data", "disclosure_check")


def read_manifest(run: Path) -> dict[str, Any]:
    """The manifest of a run folder (a :class:`UserError` when it is not a report run)."""
    try:
        manifest = json.loads((run / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{run} is not a report run (no readable {MANIFEST})") from exc
    if manifest.get("kind") != "lvv-eval report":
        raise UserError(f"{run} is not a report run ({MANIFEST} of another kind)")
    return manifest


def run_folder(name: str | Path, root: Path | None = None) -> Path:
    """A run by id (a folder of ``reports/``) or path; ``latest`` and ``previous`` name the
    newest two."""
    root = root or reports_dir()
    if str(name) in ("latest", "previous"):
        runs = list_runs(root)
        index = 0 if str(name) == "latest" else 1
        if len(runs) <= index:
            raise UserError(f"no {name} run in {root}")
        return root / runs[index]["run_id"]
    path = Path(name)
    if not path.is_dir():
        path = root / str(name)
    if not path.is_dir():
        known = ", ".join(r["run_id"] for r in list_runs(root)[:5])
        raise UserError(f"run {str(name)!r} not found in {root}" + (f"; recent: {known}" if known else ""))
    return path


def _non_default(params: dict[str, Any], defaults: dict[str, Any] | None) -> dict[str, Any]:
    skip = {"stays_path"}
    if defaults is None:
        return {k: v for k, v in params.items() if k not in skip}
    return {k: v for k, v in params.items() if k not in skip and defaults.get(k) != v}


def list_runs(root: Path | None = None) -> list[dict[str, Any]]:
    """Every report run under ``root`` (default ``reports/``), newest first: id, date,
    notebooks, parameters that differ from the notebooks' defaults, provenance, seconds."""
    root = root or reports_dir()
    out = []
    for manifest_path in sorted(root.glob(f"[!.]*/{MANIFEST}"), reverse=True):
        try:
            manifest = read_manifest(manifest_path.parent)
        except UserError:
            continue
        changed: dict[str, Any] = {}
        for nb in manifest.get("notebooks", {}).values():
            changed.update(_non_default(nb.get("parameters", {}), nb.get("defaults")))
        out.append({
            "run_id": manifest["run_id"], "created_utc": manifest.get("created_utc", ""),
            "notebooks": list(manifest.get("notebooks", {})),
            "cached": sum(bool(nb.get("cached_from")) for nb in manifest.get("notebooks", {}).values()),
            "parameters": changed, "provenance": manifest.get("provenance", "unknown"),
            "seconds": manifest.get("seconds_total"), "git_commit": manifest.get("git_commit", ""),
        })
    return out


@dataclass
class TableDiff:
    """How one table differs between two runs."""

    notebook: str
    table: str
    status: str  # same, changed, added, removed
    rows_a: int = 0
    rows_b: int = 0
    cells_changed: int = 0
    max_abs_change: float = 0.0
    max_rel_change: float = 0.0
    where: str = ""
    rows_removed: int = 0
    rows_added: int = 0


def _tables(run: Path) -> dict[tuple[str, str], Path]:
    manifest = read_manifest(run)
    return {(t["notebook"], t["name"]): run / t["csv"] for t in manifest.get("tables", [])}


def _keys(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    common = [c for c in a.columns if c in b.columns and c not in _IGNORED_COLUMNS]
    text = [c for c in common if _is_text(a[c]) and _is_text(b[c])]
    if text and not a.duplicated(text).any() and not b.duplicated(text).any():
        return text
    return []


def _is_text(col: pd.Series) -> bool:
    values = col.dropna().astype(str)
    numeric = pd.to_numeric(values, errors="coerce")
    return bool(len(values)) and bool(numeric.isna().mean() > 0.5)


def _aligned(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    keys = _keys(a, b)
    if keys:
        merged = a.merge(b, on=keys, how="outer", suffixes=("\0a", "\0b"), indicator=True)
    else:
        n = max(len(a), len(b))
        merged = a.reindex(range(n)).join(b.reindex(range(n)), lsuffix="\0a", rsuffix="\0b")
    return merged, keys, [c for c in a.columns if c in b.columns and c not in keys
                          and c not in _IGNORED_COLUMNS]


def compare_tables(a: pd.DataFrame, b: pd.DataFrame) -> tuple[int, float, float, str, int, int]:
    """(cells changed, largest absolute change, largest relative change, where the largest is,
    rows only in ``a``, rows only in ``b``)."""
    merged, keys, values = _aligned(a, b)
    changed = 0
    best = (0.0, 0.0, "")
    for col in values:
        left, right = merged[f"{col}\0a"], merged[f"{col}\0b"]
        ln, rn = pd.to_numeric(left, errors="coerce"), pd.to_numeric(right, errors="coerce")
        both = ln.notna() & rn.notna()
        diff = (ln - rn).abs().where(both, 0.0)
        differs = (both & ~np.isclose(ln.fillna(0), rn.fillna(0), rtol=1e-9, atol=1e-12)) | (
            ~both & (left.astype(str) != right.astype(str)))
        changed += int(differs.sum())
        if both.any() and float(diff.max()) > best[0]:
            i = int(diff.to_numpy().argmax())
            rel = float(diff.iloc[i] / abs(ln.iloc[i])) if ln.iloc[i] else float("inf")
            row = ", ".join(str(merged[k].iloc[i]) for k in keys) if keys else f"row {i + 1}"
            best = (float(diff.iloc[i]), rel, f"{col} at {row}: {ln.iloc[i]:g} -> {rn.iloc[i]:g}")
    only_a = only_b = 0
    if "_merge" in merged.columns:
        only_a = int((merged["_merge"] == "left_only").sum())
        only_b = int((merged["_merge"] == "right_only").sum())
    return changed, best[0], best[1], best[2], only_a, only_b


def diff_runs(run_a: Path, run_b: Path) -> list[TableDiff]:
    """Every table of either run: same, changed (by how much), added or removed."""
    tables_a, tables_b = _tables(run_a), _tables(run_b)
    out = []
    for key in sorted(set(tables_a) | set(tables_b)):
        notebook, name = key
        if key not in tables_b:
            out.append(TableDiff(notebook, name, "removed"))
            continue
        if key not in tables_a:
            out.append(TableDiff(notebook, name, "added"))
            continue
        a = pd.read_csv(tables_a[key], dtype=str, keep_default_na=False)
        b = pd.read_csv(tables_b[key], dtype=str, keep_default_na=False)
        cells, abs_change, rel_change, where, removed, added = compare_tables(a, b)
        same = cells == 0 and not removed and not added and list(a.columns) == list(b.columns)
        out.append(TableDiff(notebook, name, "same" if same else "changed", len(a), len(b), cells,
                             abs_change, rel_change, where, removed, added))
    return out


def parameter_changes(run_a: Path, run_b: Path) -> list[str]:
    """Parameters whose values differ between the two runs, one line each."""
    nb_a = read_manifest(run_a).get("notebooks", {})
    nb_b = read_manifest(run_b).get("notebooks", {})
    lines = []
    for stem in sorted(set(nb_a) & set(nb_b)):
        pa, pb = nb_a[stem].get("parameters", {}), nb_b[stem].get("parameters", {})
        for name in sorted(set(pa) | set(pb)):
            if pa.get(name) != pb.get(name):
                lines.append(f"{stem}: {name} {pa.get(name)!r} -> {pb.get(name)!r}")
    return lines
