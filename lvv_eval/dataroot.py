"""The data root: where deliveries, cleaned data and reports live, and whether any of it is real.

Layout (``config.data_root()``: ``$LVV_DATA_ROOT``, else the project folder)::

    data_raw/             real deliveries, one folder per pilot as the source specs' patterns say
                          (amsterdam/, eindhoven/, groningen/, rotterdam/, utrecht/)
    data_raw/synthetic/   the SYNTHETIC demo deliveries (written by `lvv-eval synth` only, marked
                          by its SYNTHETIC.json)
    data_clean/           written by `lvv-eval ingest`
    reports/              written by `lvv-eval reproduce`, `monitor`, `chain`, `sensitivity` and
                          `report` (disclosure-checked outputs)
    data_review/          microdata for data managers, not for publication (`lvv-eval chain`)

A data root counts as REAL unless everything in it is demonstrably synthetic: any delivery in
``data_raw/`` beside ``synthetic/``, a ``synthetic/`` folder without a valid marker, cleaned data
whose ingest manifest does not say SYNTHETIC, a report or review folder not marked SYNTHETIC makes it real.
On a real root `synth` writes nothing and `run` works on the real deliveries only.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from lvv_eval import config
from lvv_eval.outputs import folder_provenance
from lvv_eval.provenance import check_marker, written_by_synth

IGNORED_NAMES = ("README.md", "README.txt", "README")


def _listed(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name not in IGNORED_NAMES and not p.name.startswith("."))


def real_deliveries(root: Path | None = None) -> list[Path]:
    """Entries of ``data_raw/`` other than the synthetic demo folder (and READMEs, hidden files)."""
    raw = (root or config.data_root()) / "data_raw"
    return [p for p in _listed(raw) if p.name != config.SYNTHETIC_SUBDIR]


def _manifest_synthetic(path: Path) -> bool:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("synthetic") is True
    except (OSError, ValueError, AttributeError):
        return False


def _csv_marked_synthetic(path: Path) -> bool:
    """A reproduce/monitor table says SYNTHETIC in its data_source (or data) column."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = csv.DictReader(fh)
            first = next(rows, None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    if first is None:
        return False
    return str(first.get("data_source") or "").startswith("SYNTHETIC") or first.get("data") == "SYNTHETIC"


def _report_folder_synthetic(folder: Path) -> bool:
    marked = folder_provenance(folder)
    if marked is not None:
        return marked == "synthetic"
    manifests = list(folder.glob("*.manifest.json"))
    if manifests:
        return all(_manifest_synthetic(m) for m in manifests)
    files = [p for p in folder.rglob("*") if p.is_file()]
    return bool(files) and all(p.suffix == ".csv" and _csv_marked_synthetic(p) for p in files)


def _not_synthetic_reports(reports: Path) -> list[str]:
    found = []
    for entry in _listed(reports):
        if entry.is_dir() and not _report_folder_synthetic(entry) or entry.is_file() and not (entry.suffix == ".csv" and _csv_marked_synthetic(entry)):
            found.append(f"reports/{entry.name} (not marked SYNTHETIC)")
    return found


def real_data_found(root: Path | None = None) -> list[str]:
    """What in the data root is (or may be) real data, one description each; empty when none."""
    root = root or config.data_root()
    found = [f"data_raw/{p.name}" for p in real_deliveries(root)]
    synthetic = root / "data_raw" / config.SYNTHETIC_SUBDIR
    if synthetic.exists() and not written_by_synth(synthetic):
        found.append(f"data_raw/{config.SYNTHETIC_SUBDIR} ({check_marker(synthetic).reason})")
    clean = root / "data_clean"
    if _listed(clean) and not _manifest_synthetic(clean / "manifest.json"):
        found.append("data_clean (its ingest manifest does not say SYNTHETIC)")
    found.extend(_not_synthetic_reports(root / "reports"))
    found.extend(f"data_review/{p.name} (not marked SYNTHETIC)" for p in _listed(root / "data_review")
                 if folder_provenance(p) != "synthetic")
    return found


def root_is_set() -> bool:
    """Whether ``LVV_DATA_ROOT`` names the data root (rather than the project folder)."""
    return bool(os.environ.get("LVV_DATA_ROOT"))


def default_deliveries_dir() -> Path:
    """The folder ``ingest`` reads by default: ``data_raw/`` of a root with real deliveries (or of a
    root named by ``LVV_DATA_ROOT`` without a synthetic demo), else ``data_raw/synthetic``."""
    root = config.data_root()
    if real_deliveries(root) or (root_is_set() and not (root / "data_raw" / config.SYNTHETIC_SUBDIR).exists()):
        return config.raw_dir()
    return config.synthetic_dir()
