"""The pieces of a run folder made after its notebooks ran: disclosure record, workbook, index,
manifest (see :mod:`lvv_eval.report.runner`)."""

from __future__ import annotations

import html
import json
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from lvv_eval.disclosure import DisclosureGate, Entry, Record
from lvv_eval.files import sha256_of
from lvv_eval.outputs import write_owner_marker
from lvv_eval.report.notebook import DISCLOSURE_SETTINGS, TABLES_INDEX

WORKBOOK = "tables.xlsx"
INDEX = "index.html"
MANIFEST = "manifest.json"
MARKS = {"synthetic": ("SYNTHETISCHE GEGEVENS - geen echte personen.",
                       "SYNTHETIC DATA - no real people."),
         "unknown": ("HERKOMST ONBEKEND - geen ingest-manifest naast het verblijvenbestand; niet als "
                     "synthetisch gemarkeerd.",
                     "PROVENANCE UNKNOWN - no ingest manifest beside the stays file; not marked "
                     "synthetic."),
         "real": ("", "")}


def settings_gate(settings: Mapping[str, Any], synthetic: bool) -> DisclosureGate:
    """A gate with the run's disclosure settings (policy, exceptions, unchecked switch)."""
    return DisclosureGate.from_policy(settings.get("policy") or None, synthetic=synthetic,
                                      unchecked=bool(settings.get("unchecked", False)),
                                      exceptions=settings.get("exceptions") or None)


def audit_notebook_folder(folder: Path, settings: Mapping[str, Any], synthetic: bool) -> None:
    """Record every file of a notebook's folder no entry names (the executed notebook as the
    output checker's narrative; anything else written without the gate needs review)."""
    gate = settings_gate(settings, synthetic)
    gate.audit_folder(folder, narrative=list(folder.glob("*.ipynb")))
    gate.save_record(folder)


def combined_record(run: Path, stems: list[str], gate: DisclosureGate) -> Record:
    """The run's record: every notebook folder's entries (named ``<notebook>/<output>``), each
    notebook's HTML page as narrative and the workbook."""
    record = Record(gate.policy, gate.synthetic, gate.unchecked, exceptions=gate.record.exceptions)
    for stem in stems:
        path = run / stem / "disclosure.json"
        if path.is_file():
            for raw in json.loads(path.read_text(encoding="utf-8")).get("outputs", []):
                entry = Entry(**raw)
                entry.output = f"{stem}/{entry.output}"
                entry.path = f"{stem}/{entry.path}" if entry.path else ""
                record.add(entry)
        rules = ["UNCHECKED"] if gate.unchecked else ["NARRATIVE"]
        record.add(_entry(gate, f"{stem}.html", "notebook", "unchecked" if gate.unchecked else "needs review",
                          rules))
    workbook = _entry(gate, WORKBOOK, "workbook", "unchecked" if gate.unchecked else "pass",
                      ["UNCHECKED"] if gate.unchecked else [])
    workbook.details = ["every sheet is one of this run's tables as written through the gate"]
    record.add(workbook)
    return record


def _entry(gate: DisclosureGate, output: str, kind: str, status: str, rules: list[str]) -> Entry:
    from lvv_eval.disclosure.record import describe

    return Entry(output=output, kind=kind, status=status, rules=rules,
                 reason_en=describe(rules, gate.policy, "en") if rules else "",
                 reason_nl=describe(rules, gate.policy, "nl") if rules else "", path=output,
                 synthetic=gate.synthetic)


def listed_tables(run: Path, stems: list[str]) -> list[dict[str, Any]]:
    """Every table the notebooks showed, in notebook order (from their ``tables.json``)."""
    out = []
    for stem in stems:
        path = run / stem / TABLES_INDEX
        if not path.is_file():
            continue
        for entry in json.loads(path.read_text(encoding="utf-8")).values():
            out.append({**entry, "notebook": stem, "csv": f"{stem}/{entry['csv']}"})
    return out


def _sheet_name(stem: str, name: str, used: set[str]) -> str:
    base = f"{stem.split('_', 1)[0]}_{name}"[:31]
    candidate, n = base, 1
    while candidate in used:
        n += 1
        suffix = f"~{n}"
        candidate = base[:31 - len(suffix)] + suffix
    used.add(candidate)
    return candidate


def write_workbook(run: Path, tables: list[dict[str, Any]], provenance: str) -> Path:
    """``tables.xlsx``: a contents sheet, then one sheet per table (title, note, the table with
    its headings in the report language, the disclosure marker where a cell is not shown)."""
    path = run / WORKBOOK
    used: set[str] = {"index"}
    contents = []
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame().to_excel(writer, sheet_name="index")
        for table in tables:
            sheet = _sheet_name(table["notebook"], table["name"], used)
            frame = pd.read_csv(run / table["csv"], dtype=str, keep_default_na=False)
            frame = frame.apply(lambda col: pd.to_numeric(col, errors="coerce").where(
                col.ne("") & pd.to_numeric(col, errors="coerce").notna(), col))
            frame.columns = [table.get("headings", {}).get(c, c) for c in frame.columns]
            head = pd.DataFrame({0: [table.get("title") or table["name"], table.get("note", "")]})
            head.to_excel(writer, sheet_name=sheet, header=False, index=False)
            frame.to_excel(writer, sheet_name=sheet, startrow=3, index=False)
            contents.append({"sheet": sheet, "notebook": table["notebook"], "table": table["name"],
                             "title": table.get("title", ""), "csv": table["csv"],
                             "note": table.get("note", "")})
        first = [MARKS.get(provenance, ("", ""))[1]] if MARKS.get(provenance, ("", ""))[1] else []
        sheet = writer.sheets["index"]
        for i, line in enumerate(first):
            sheet.cell(row=i + 1, column=1, value=line)
        pd.DataFrame(contents, columns=["sheet", "notebook", "table", "title", "csv", "note"]).to_excel(
            writer, sheet_name="index", startrow=len(first) + 1 if first else 0, index=False)
    return path


def write_index(run: Path, notebooks: list[dict[str, Any]], provenance: str, run_id: str) -> Path:
    """``index.html`` linking every notebook's page, the workbook, the disclosure record and the
    manifest, marked with the data's provenance."""
    mark_nl, mark_en = MARKS.get(provenance, MARKS["unknown"])
    mark = (f"<p style='color:#c00'><strong>{html.escape(mark_nl)}<br>{html.escape(mark_en)}"
            f"</strong></p>") if mark_nl else ""
    rows = []
    for nb in notebooks:
        state = (f"uit run / from run {html.escape(nb['cached_from'])}" if nb.get("cached_from")
                 else f"{nb['seconds']:.0f} s")
        params = ", ".join(f"{k}={v}" for k, v in nb.get("changed", {}).items()) or "standaard / defaults"
        rows.append(f"<tr><td><a href='{html.escape(nb['stem'])}.html'>{html.escape(nb['title'])}</a></td>"
                    f"<td>{html.escape(params)}</td><td>{state}</td></tr>")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>LVV-rapportage {html.escape(run_id)}</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}td,th{padding:3px 10px;"
        "border-bottom:1px solid #ddd;text-align:left}table{border-collapse:collapse}</style></head><body>"
        f"<h1>LVV-rapportage / LVV report {html.escape(run_id)}</h1>{mark}"
        "<table><tr><th>notebook</th><th>parameters (afwijkend van standaard / non-default)</th>"
        "<th>tijd / time</th></tr>" + "".join(rows) + "</table>"
        f"<p><a href='{WORKBOOK}'>Alle tabellen (Excel) / all tables (Excel)</a> · "
        "<a href='disclosure.html'>Openbaarmakingscontrole / output disclosure control</a> · "
        f"<a href='{MANIFEST}'>manifest</a></p></body></html>")
    path = run / INDEX
    path.write_text(page, encoding="utf-8")
    return path


def notebook_title(executed: Path, stem: str) -> str:
    """The first markdown heading of an executed notebook (the stem when there is none)."""
    try:
        cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return stem
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return stem


def finish_run(run: Path, plan: Any, *, run_id: str, timings: Mapping[str, float],
               cached: Mapping[str, str], gate: DisclosureGate | None, seconds: float) -> None:
    """Audit the new notebook folders, then write the run's record, workbook, index, manifest
    and owner marker into ``run``."""
    from lvv_eval.report.runner import environment_summary

    synthetic = plan.provenance == "synthetic"
    gate = gate or settings_gate(plan.disclosure, synthetic)
    stems = [nb.stem for nb in plan.notebooks]
    for stem in stems:
        if stem not in cached:
            audit_notebook_folder(run / stem, plan.disclosure, synthetic)
    tables = listed_tables(run, stems)
    write_workbook(run, tables, plan.provenance)
    combined_record(run, stems, gate).save(run)
    if plan.disclosure.get("exceptions"):
        shutil.copyfile(plan.disclosure["exceptions"], run / "disclosure_exceptions.yaml")
    entries = []
    for nb in plan.notebooks:
        changed = {k: v for k, v in nb.parameters.items()
                   if k in nb.defaults and v != nb.defaults[k] and k != "stays_path"}
        entries.append({"stem": nb.stem, "title": notebook_title(run / nb.stem / f"{nb.stem}.ipynb", nb.stem),
                        "seconds": timings.get(nb.stem, 0.0), "cached_from": cached.get(nb.stem, ""),
                        "changed": changed})
    write_index(run, entries, plan.provenance, run_id)
    write_manifest(run, plan, run_id=run_id, entries=entries, tables=tables,
                   environment=environment_summary(), seconds=seconds)
    write_owner_marker(run, "report", provenance=plan.provenance, run_id=run_id)


def write_manifest(run: Path, plan: Any, *, run_id: str, entries: list[dict[str, Any]],
                   tables: list[dict[str, Any]], environment: Mapping[str, Any], seconds: float) -> Path:
    """``manifest.json``: everything needed to say what this run is and to redo it."""
    from lvv_eval.disclosure.record import read_record

    record = read_record(run)
    by_stem = {e["stem"]: e for e in entries}
    manifest = {
        "run_id": run_id,
        "kind": "lvv-eval report",
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "provenance": plan.provenance,
        "stays_path": str(plan.stays_path),
        "stays_sha256": sha256_of(plan.stays_path) if plan.stays_path.is_file() else "",
        **environment,
        "disclosure_settings": plan.disclosure,
        "settings_files": plan.settings_files,
        "disclosure": {"status_counts": record.get("status_counts", {}),
                       "policy": record.get("policy", {}), "record": "disclosure.json"},
        "seconds_total": round(seconds, 2),
        "notebooks": {
            nb.stem: {"notebook": str(nb.path), "notebook_sha256": sha256_of(nb.path),
                      "parameters": nb.parameters, "defaults": nb.defaults, "inputs": nb.inputs,
                      "cache_key": nb.key,
                      "cached_from": by_stem[nb.stem]["cached_from"],
                      "seconds": round(by_stem[nb.stem]["seconds"], 2),
                      "title": by_stem[nb.stem]["title"],
                      "settings": DISCLOSURE_SETTINGS}
            for nb in plan.notebooks},
        "tables": [{k: t[k] for k in ("notebook", "name", "title", "csv", "n")} for t in tables],
    }
    path = run / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, default=str, ensure_ascii=False), encoding="utf-8")
    return path
