"""Write a grid's results under reports/: tables (parquet and CSV), the curve, the placement.

Every table leaves through :func:`release` (the disclosure gate's single call point) and every
writer refuses to write into a folder it did not create, or over an input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from lvv_eval.errors import UserError
from lvv_eval.files import sha256_of
from lvv_eval.sensitivity.curve import axis_variance_table, plot_specification_curve
from lvv_eval.sensitivity.published import place_published
from lvv_eval.sensitivity.run import GridResults, excluded_specifications

MARKER = ".lvv-sensitivity"
"""File a run folder holds so that a later run knows it may replace it."""


class OutputFolderError(UserError):
    """The output folder exists and was not made by ``lvv-eval sensitivity``."""


def release(table: pd.DataFrame, name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """DISCLOSURE GATE CALL POINT: every sensitivity table written under reports/ passes here.

    The gate (lvv_eval.disclosure, issue 11) is not on main yet: until it is, the table passes
    unchanged and the manifest says it was NOT checked. When it lands, this function calls it
    (small-cell protection of ``n``/``numerator``, its log entry returned as the record).
    """
    return table, {"table": name, "disclosure": "not checked: lvv_eval.disclosure not available"}


def prepare_folder(out: Path) -> Path:
    """``out`` emptied of an earlier sensitivity run, or made; never a folder someone else made."""
    if out.exists():
        if not (out / MARKER).exists() and any(out.iterdir()):
            raise OutputFolderError(f"{out} exists and was not written by lvv-eval sensitivity; "
                                    f"name another folder with --out")
        for child in out.iterdir():
            if child.is_file():
                child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by lvv-eval sensitivity\n", encoding="utf-8")
    return out


def _write_table(table: pd.DataFrame, out: Path, name: str, parquet: bool) -> dict[str, Any]:
    released, record = release(table, name)
    released.to_csv(out / f"{name}.csv", index=False)
    if parquet:
        released.to_parquet(out / f"{name}.parquet", index=False)
    return record


def write_results(results: GridResults, out: Path, inputs: Mapping[str, Path | None],
                  synthetic: bool, lang: str = "en",
                  curves: tuple[str, ...] = ("durable_share", "hr_shelter_24h_adjusted",
                                             "cif_durable_365d")) -> dict[str, Any]:
    """Results, specifications, exclusions, variance, placement and curves into ``out``; returns
    the manifest (also written as manifest.json)."""
    for path in inputs.values():
        if path is not None and Path(path).resolve().is_relative_to(out.resolve()):
            raise OutputFolderError(f"{out} holds an input ({path}); write elsewhere")
    prepare_folder(out)
    records = [
        _write_table(results.table, out, "results", parquet=True),
        _write_table(results.specifications(), out, "specifications", parquet=False),
        _write_table(excluded_specifications(results.grid), out, "excluded", parquet=False),
    ]
    placement = None
    if "durable_share" in set(results.table["outcome"]) and results.grid.spec.published:
        placement = place_published(results)
        records.append(_write_table(placement, out, "published_placement", parquet=False))
    outcomes = [o for o in results.table["outcome"].unique()]
    variance = pd.concat([axis_variance_table(results, o).assign(outcome=o) for o in outcomes],
                         ignore_index=True)
    records.append(_write_table(variance, out, "axis_variance", parquet=False))
    mark = "SYNTHETIC - " if synthetic else ""
    for outcome in [c for c in curves if c in outcomes]:
        entry = results.grid.spec.outcomes.get(outcome)
        label = getattr(entry, f"label_{lang}") if entry is not None else outcome
        fig = plot_specification_curve(results, outcome, published=placement, lang=lang,
                                       title=f"{mark}{label}: {len(results.specs)} specs",
                                       null=1.0 if outcome.startswith("hr_") else None)
        fig.savefig(out / f"curve_{outcome}.png", dpi=110)
        plt.close(fig)
    manifest = {
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "synthetic": synthetic,
        "grid": str(results.grid.path), "grid_sha256": sha256_of(results.grid.path),
        "inputs": {k: {"path": str(v), "sha256": sha256_of(Path(v))}
                   for k, v in inputs.items() if v is not None},
        "outcomes": results.attrs.get("outcomes"),
        "n_specifications": len(results.specs),
        "tables": records,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest
