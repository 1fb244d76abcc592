"""Write a grid's results under reports/: the results, the curves, the variance per axis, the
placement of the published figures.

Every table and figure passes the disclosure gate (:mod:`lvv_eval.disclosure`) and is listed in
the folder's record (``disclosure.html``); the folder is written through
:mod:`lvv_eval.outputs`: never into a folder another program made, nor over an input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from lvv_eval.disclosure import CheckedTable, DisclosureGate
from lvv_eval.files import sha256_of
from lvv_eval.outputs import check_output_folder, replace_folder, write_owner_marker
from lvv_eval.sensitivity.curve import axis_variance_table, curve_data, plot_specification_curve
from lvv_eval.sensitivity.published import place_published
from lvv_eval.sensitivity.run import GridResults, excluded_specifications

LEGACY_MARKER = ".lvv-sensitivity"
"""The marker of run folders written before the disclosure gate (still recognised as own)."""
MODEL_EXTRAS = ("p_value", "notes")


def _is_own_legacy(folder: Path) -> bool:
    return (folder / LEGACY_MARKER).exists()


def check_results(gate: DisclosureGate, table: pd.DataFrame, name: str = "results") -> CheckedTable:
    """The results table through the disclosure gate: one row per specification, outcome and pilot
    (populations overlap, so no row adds up with another); the numerator and the units of the
    denominator are counts, the estimate and its limits give the numerator away, other numeric
    columns (a model's p-value) rest on the units."""
    known = {"n", "numerator", "estimate", "lower", "upper"}
    other = [c for c in table.columns if c not in known and pd.api.types.is_numeric_dtype(table[c])
             and not pd.api.types.is_bool_dtype(table[c])]
    derived = [c for c in ("estimate", "lower", "upper") if c in table.columns]
    return gate.table(table, name, counts=["n", "numerator"], keys=["spec_id", "outcome", "pilot"],
                      derived={"numerator": derived}, statistics={c: "n" for c in other},
                      text=[c for c in ("interval", "notes") if c in table.columns])


def _write_curve(results: GridResults, outcome: str, gate: DisclosureGate, folder: Path,
                 placement: pd.DataFrame | None, lang: str, mark: str) -> None:
    """The curve's rows checked by the gate, and the figure drawn from the checked rows only."""
    rows = curve_data(results, outcome).drop(columns=list(MODEL_EXTRAS), errors="ignore")
    checked = gate.specification_curve(rows, f"curve_{outcome}")
    gate.write_table(checked, folder / f"curve_{outcome}.csv", record_root=folder)
    entry = results.grid.spec.outcomes.get(outcome)
    label = getattr(entry, f"label_{lang}") if entry is not None else outcome
    fig = plot_specification_curve(results, outcome, published=placement, lang=lang,
                                   title=f"{mark}{label}: {len(results.specs)} specs",
                                   null=1.0 if outcome.startswith("hr_") else None, rows=checked.data)
    gate.write_figure(fig, folder / f"curve_{outcome}.png", [checked], record_root=folder)
    plt.close(fig)


def write_results(results: GridResults, out: Path, inputs: Mapping[str, Path | None],
                  gate: DisclosureGate, provenance: str, lang: str = "en",
                  curves: tuple[str, ...] = ("durable_share", "hr_shelter_24h_adjusted",
                                             "cif_durable_365d")) -> dict[str, Any]:
    """Results, specifications, exclusions, variance, placement and curves into ``out``, each
    through the disclosure ``gate`` with its record; ``out`` is replaced whole, only when
    `lvv-eval sensitivity` wrote it (or it is new or empty), and never holds an input. Returns the
    manifest (also written as manifest.json)."""
    given = [Path(p) for p in inputs.values() if p is not None]
    out = check_output_folder(out, "sensitivity", inputs=given, is_own=_is_own_legacy)
    outcomes = list(results.table["outcome"].unique())
    placement = (place_published(results) if "durable_share" in outcomes and results.grid.spec.published
                 else None)
    mark = "SYNTHETIC - " if provenance == "synthetic" else ""
    manifest: dict[str, Any] = {}

    def write(tmp: Path) -> None:
        checked = check_results(gate, results.table)
        basis = float(checked.data["n"].min()) if checked.data["n"].notna().any() else 0.0
        tables = [checked,
                  gate.table(results.specifications(), "specifications", kind="specifications"),
                  gate.table(excluded_specifications(results.grid), "excluded", kind="specifications")]
        if placement is not None:
            tables.append(gate.specification_summary(
                placement, "published_placement", basis,
                structural=["published", "n_specifications", "n_reaching"],
                text=["changes", "explanation_en", "explanation_nl"]))
        variance = pd.concat([axis_variance_table(results, o).assign(outcome=o) for o in outcomes],
                             ignore_index=True)
        tables.append(gate.specification_summary(variance, "axis_variance", basis, structural=["options"]))
        for table in tables:
            gate.write_table(table, tmp / f"{table.name}.csv", record_root=tmp)
        for outcome in [c for c in curves if c in outcomes]:
            _write_curve(results, outcome, gate, tmp, placement, lang, mark)
        gate.save_record(tmp)
        manifest.update({
            "written": datetime.now(UTC).isoformat(timespec="seconds"),
            "synthetic": provenance == "synthetic", "provenance": provenance,
            "grid": str(results.grid.path), "grid_sha256": sha256_of(results.grid.path),
            "inputs": {k: {"path": str(v), "sha256": sha256_of(Path(v))}
                       for k, v in inputs.items() if v is not None},
            "outcomes": results.attrs.get("outcomes"),
            "n_specifications": len(results.specs),
            "tables": [{"table": t.name, "disclosure": t.entry.status, "rules": list(t.entry.rules)}
                       for t in tables],
        })
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        write_owner_marker(tmp, "sensitivity", provenance=provenance)

    replace_folder(out, write)
    return manifest
