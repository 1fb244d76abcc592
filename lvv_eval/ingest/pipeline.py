"""``run_ingest``: raw deliveries -> validated, harmonised ``data_clean/`` with an audit trail.

Per delivered table: read -> raw repairs -> map columns -> text repairs -> interpret labels,
flags and dates -> typed repairs -> (long layouts: events into stays) -> derive -> derived repairs
-> set non-participants aside -> confront with the validation rules -> quarantine. Per delivery:
merge duplicates -> pseudonymise. Then the pandera contract, row accounting, atomic write.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from lvv_eval.capacity import CAPACITY_YAML, load_capacity_file
from lvv_eval.config import PACKAGE_DIR, SOURCES_DIR
from lvv_eval.files import sha256_of
from lvv_eval.ingest import events as event_layout
from lvv_eval.ingest.accounting import Accounting
from lvv_eval.ingest.chain.pipeline import (
    ChainIngestResult,
    format_chain_summary,
    ingest_chain,
    merge_person_links,
)
from lvv_eval.ingest.chain.spec import load_chain_specs
from lvv_eval.ingest.checks import check_skip_ids, loss_problems, strict_problems
from lvv_eval.ingest.dedup import log_merges, merge_duplicates
from lvv_eval.ingest.derive import derive_fields
from lvv_eval.ingest.diagnose import date_findings
from lvv_eval.ingest.errors import IngestError, locate
from lvv_eval.ingest.inventory import check_overlaps, take_inventory, unexpected_files
from lvv_eval.ingest.mapping import (
    apply_codebook,
    check_columns,
    convert_fields,
    flag_invalid_categories,
    rename_to_fields,
    spec_columns,
)
from lvv_eval.ingest.output import (
    chain_manifest,
    check_out_dir,
    versions,
    write_atomically,
    write_chain_outputs,
    write_outputs,
)
from lvv_eval.ingest.pseudonymise import person_ids, resolve_key, stay_ids
from lvv_eval.ingest.quarantine import build_quarantine, empty_quarantine, issue_details
from lvv_eval.ingest.readers import (
    RawTable,
    find_files,
    footer_note,
    header_note,
    read_file,
    read_text,
)
from lvv_eval.ingest.repairs import REPAIRS_FILE, Repair, run_repairs
from lvv_eval.ingest.rules import (
    RULES_FILE,
    Rule,
    combine_summaries,
    confront,
    failed_rules,
    first_failed_rule,
    load_rules,
)
from lvv_eval.ingest.spec import FileSpec, SourceSpec, folder_repairs, load_specs, specs_folder
from lvv_eval.ingest.summary import delivery_summary, format_summary, unmapped_warnings
from lvv_eval.ingest.tracking import ChangeLog, with_stay_ids
from lvv_eval.provenance import check_marker
from lvv_eval.pseudonym import v_keys
from lvv_eval.schema import coerce_stays, empty_stays, validate_stays

NON_PARTICIPANT_RULE = "X_NON_PARTICIPANT"


@dataclass
class IngestResult:
    """Everything one ingest run produced (also written to the output folder)."""

    stays: pd.DataFrame
    quarantine: pd.DataFrame
    changes: pd.DataFrame
    validation: pd.DataFrame
    manifest: dict
    summary: pd.DataFrame
    out_dir: Path | None = None
    chain: ChainIngestResult | None = None
    person_links: pd.DataFrame | None = None


@dataclass
class _TableResult:
    records: pd.DataFrame
    quarantine: pd.DataFrame
    non_participants: pd.DataFrame
    validation: pd.DataFrame
    folded: pd.DataFrame = field(default_factory=pd.DataFrame)
    duplicates: pd.DataFrame = field(default_factory=pd.DataFrame)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Context:
    rules: list[Rule]
    repairs: list[Repair]
    skip: frozenset[str]
    key: bytes
    log: ChangeLog
    raw_cells: bool = False


def _codebooks(raw_dir: Path, spec: SourceSpec, inputs: list[dict]) -> dict[str, dict[str, str]]:
    """Code books named by the spec, as code -> label; each is listed among the inputs."""
    books = {}
    for cb in spec.codebooks:
        fs = FileSpec(pattern=cb.pattern, reader="csv", delimiter=cb.delimiter, encoding=cb.encoding)
        path = find_files(raw_dir, fs, spec.path)[0]
        rel = path.relative_to(raw_dir).as_posix()
        table = read_text(path, rel, fs, [cb.code_column, cb.label_column], spec.path.name)
        for col in (cb.code_column, cb.label_column):
            if col not in table.columns:
                raise IngestError(f"missing column: {locate(rel, column=col)} (code book named in "
                                  f"{spec.path.name}). Correct the code book or the spec.")
        inputs.append({"file": rel, "source_spec": spec.path.name, "pilot": spec.pilot, "role": "code book",
                       "sha256": sha256_of(path), "bytes": path.stat().st_size, "rows": {"": len(table.frame)}})
        frame = table.frame.dropna(subset=[cb.code_column])
        books[cb.field] = dict(zip(frame[cb.code_column].str.strip(), frame[cb.label_column], strict=True))
    return books


def _harmonise(table: RawTable, spec: SourceSpec, ctx: _Context, books: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """Typed records and issues for one table (one row per raw row)."""
    id_raw = [c for c, f in spec.columns.items() if f == "source_id"]
    raw = run_repairs(table.frame, stage="raw", repairs=ctx.repairs, spec=spec, log=ctx.log,
                      skip=ctx.skip, redact=id_raw)
    fields, names = rename_to_fields(raw, spec)
    for fld, book in books.items():
        if fld in fields.columns:
            fields[fld] = apply_codebook(fields[fld], book)
    fields = run_repairs(fields, stage="text", repairs=ctx.repairs, spec=spec, log=ctx.log,
                         skip=ctx.skip, column_names=names, redact=["source_id"])
    if spec.layout == "long":
        fields = event_layout.spread_event_values(fields, spec)
    fields = run_repairs(fields, stage="labels", repairs=ctx.repairs, spec=spec, log=ctx.log, skip=ctx.skip,
                         column_names=event_layout.raw_column_names(names, spec) if spec.layout == "long" else names,
                         redact=["source_id"])
    records, issues = convert_fields(fields, spec, table.constants)
    flag_invalid_categories(records, issues)
    if "_malformed" in table.frame:
        issues["malformed:row"] = table.frame["_malformed"].astype(bool)
    return records, issues, fields, names


def _process_table(table: RawTable, spec: SourceSpec, ctx: _Context, books: dict) -> _TableResult:
    check_columns(table, spec)
    duplicates = pd.DataFrame()
    if spec.layout == "long" and event_layout.DUPLICATE_EVENT_RULE not in ctx.skip:
        frame, duplicates = event_layout.drop_exact_duplicates(table.frame)
        table = replace(table, frame=frame)
    records, issues, fields, names = _harmonise(table, spec, ctx, books)
    spec_problems, spec_warnings = date_findings(fields, issues, spec, names, table.file, table.sheet)
    owner = pd.Series(table.frame.index, index=table.frame.index)  # raw row -> row of its stay
    row_issues, row_fields, row_names = issues, fields, names  # per raw row, for quarantine details
    if spec.layout == "long":
        records, issues, fields, folded = event_layout.events_to_stays(records, issues, fields, spec)
        owner[folded.index] = folded[event_layout.STAY_KEY].to_numpy()
        row_names = event_layout.raw_column_names(names, spec)
    records = run_repairs(records, stage="typed", repairs=ctx.repairs, spec=spec, log=ctx.log,
                          skip=ctx.skip, issues=issues, column_names=names, redact=["source_id"])
    records = derive_fields(records, spec)
    records = run_repairs(records, stage="derived", repairs=ctx.repairs, spec=spec, log=ctx.log,
                          skip=ctx.skip, issues=issues, column_names=names, redact=["source_id"])
    outside = _non_participants(records, spec, ctx.skip)
    inside = records.index[~outside.to_numpy()]
    conf = confront(records.loc[inside], issues.loc[inside], ctx.rules)
    first = first_failed_rule(conf.outcomes, ctx.rules)
    bad = first.index[first.notna().to_numpy()]
    quarantine = _quarantine(spec, ctx, table.frame, owner, records, row_issues, row_fields, row_names,
                             first[bad], failed_rules(conf.outcomes, ctx.rules)[bad])
    raw_meta = table.frame[["_file", "_sheet", "_row"]]
    owner_out = owner.isin(records.index[outside.to_numpy()]).to_numpy()
    kept_owner = ~owner.isin(bad).to_numpy() & ~owner_out
    folded_rows = (owner != owner.index).to_numpy() & kept_owner
    folded = raw_meta[folded_rows].assign(_owner_row=table.frame["_row"].reindex(owner[folded_rows]).to_numpy())
    return _TableResult(records.loc[inside].drop(index=bad), quarantine, raw_meta[owner_out], conf.summary, folded,
                        duplicates, spec_problems, spec_warnings)


def _non_participants(records: pd.DataFrame, spec: SourceSpec, skip: Collection[str]) -> pd.Series:
    fld = spec.participation.field if spec.participation is not None else None
    if not fld or NON_PARTICIPANT_RULE in skip or fld not in records.columns:
        return pd.Series(False, index=records.index)
    return records[fld].eq(False).fillna(False).astype(bool)


def _quarantine(spec: SourceSpec, ctx: _Context, raw: pd.DataFrame, owner: pd.Series, records: pd.DataFrame,
                row_issues: pd.DataFrame, row_fields: pd.DataFrame, names: dict, first: pd.Series,
                failed: pd.Series) -> pd.DataFrame:
    """Quarantine entries for every raw row whose stay failed a rule.

    Every row of a failed stay is quarantined with the stay's rule (in an event log: the intake
    and all events of that client's stay), and names the row that opened the stay
    (``stay_row``), so that a fault is counted once per stay. The detail is the row's own:
    the unreadable cell is named on the row that holds it.
    """
    if first.empty:
        return empty_quarantine()
    rows = owner[owner.isin(first.index)]
    stay_of_row = rows.to_numpy()
    detail = issue_details(row_issues.loc[rows.index], row_fields.loc[rows.index], names,
                           key=None if ctx.raw_cells else ctx.key)
    return build_quarantine(
        pilot=spec.pilot, raw=raw.loc[rows.index],
        rule_ids=pd.Series(first.reindex(stay_of_row).to_numpy(), index=rows.index),
        rules_failed=pd.Series(failed.reindex(stay_of_row).to_numpy(), index=rows.index),
        reasons={r.id: r.label for r in ctx.rules},
        detail=detail,
        stay_rows=pd.Series(raw.loc[stay_of_row, "_row"].to_numpy(), index=rows.index),
        person_ids=person_ids(pd.Series(records["source_id"].reindex(stay_of_row).to_numpy(), index=rows.index),
                              spec.pilot, ctx.key),
        id_columns=[c for c, f in spec.columns.items() if f == "source_id"],
        key=ctx.key, raw_cells=ctx.raw_cells,
    )


def _finish_delivery(spec: SourceSpec, records: pd.DataFrame, ctx: _Context
                     ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Merge duplicates and pseudonymise one delivery's valid records.

    Returns the contract stays, the provenance (``_file``, ``_sheet``, ``_row``) of the records
    kept, the merged-away rows, and the person links (``v_key`` per ``person_id``) when the
    delivery's source id is the V-number.
    """
    merged_empty = pd.DataFrame(columns=["_file", "_sheet", "_row", "rule_id"])
    if records.empty:
        return (empty_stays(), pd.DataFrame(columns=["_file", "_sheet", "_row"]), merged_empty,
                pd.DataFrame())
    outcome = merge_duplicates(records, spec, ctx.log, ctx.skip)
    kept = outcome.kept
    kept["person_id"] = person_ids(kept["source_id"], spec.pilot, ctx.key)
    kept["stay_id"] = stay_ids(kept["person_id"], kept["admission_date"])
    kept["pilot"] = spec.pilot
    kept["source_file"] = kept["_file"]
    kept["source_sheet"] = kept["_sheet"]
    kept["source_row"] = kept["_row"]
    return coerce_stays(kept), kept[["_file", "_sheet", "_row"]], outcome.merged, _person_links(spec, kept, ctx.key)


def _person_links(spec: SourceSpec, kept: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """``v_key`` per person of a delivery whose source id is the V-number (else no links)."""
    if spec.source_id_is != "v_number":
        return pd.DataFrame()
    first = kept.drop_duplicates("person_id")
    return pd.DataFrame({
        "person_id": first["person_id"], "pilot": spec.pilot, "v_key": v_keys(first["source_id"], key),
        "link_source": "delivery", "source_file": first["_file"], "sheet": first["_sheet"], "source_row": first["_row"],
    })


@dataclass
class _DeliveryResult:
    inputs: list[dict]
    stays: pd.DataFrame
    quarantine: list[pd.DataFrame]
    validation: list[pd.DataFrame]
    accounting: Accounting
    changes: list[pd.DataFrame]
    stay_rows: pd.DataFrame
    links: pd.DataFrame


def _ingest_delivery(spec: SourceSpec, raw_dir: Path, ctx: _Context, progress: bool) -> _DeliveryResult:
    """One delivery (all files of one source spec) into contract stays, with its audit trail."""
    local = replace(ctx, log=ChangeLog())
    accounting = Accounting()
    inputs: list[dict] = []
    books = _codebooks(raw_dir, spec, inputs)
    valid_parts, folded_parts, quarantine_parts, validation_parts, duplicate_parts = [], [], [], [], []
    for fs in spec.files:
        for path in find_files(raw_dir, fs, spec.path):
            rel = path.relative_to(raw_dir).as_posix()
            tables = read_file(path, rel, fs, [*spec_columns(spec), *spec.ignore_columns], spec.path.name)
            declared = {s.name: s.header_row for s in fs.sheets}
            notes = [header_note(t, declared.get(t.sheet, fs.header_row)) for t in tables]
            notes += [footer_note(t, spec.path.name) for t in tables]
            inputs.append({"file": rel, "source_spec": spec.path.name, "pilot": spec.pilot, "role": "delivery",
                           "sha256": sha256_of(path), "bytes": path.stat().st_size,
                           "rows": {t.sheet or "": len(t.frame) for t in tables},
                           "header_rows": {t.sheet or "": t.header_row for t in tables},
                           "notes": [n for n in notes if n]})
            for table in tables:
                res = _process_table(table, spec, local, books)
                accounting.add_raw(spec.pilot, table.frame)
                accounting.add_rows(res.quarantine.rename(
                    columns={"source_file": "_file", "sheet": "_sheet", "source_row": "_row"}), "quarantined")
                accounting.add_rows(res.non_participants, "non_participants")
                folded_parts.append(res.folded)
                duplicate_parts.append(res.duplicates)
                quarantine_parts.append(res.quarantine)
                validation_parts.append(res.validation)
                valid_parts.append(res.records)
                inputs[-1]["notes"].extend(res.warnings)
                inputs[-1].setdefault("problems", []).extend(res.problems)
            if progress:
                print(f"  {spec.pilot}: read {rel} ({sum(len(t.frame) for t in tables):,} rows)",
                      file=sys.stderr, flush=True)
    records = pd.concat(valid_parts, ignore_index=True) if valid_parts else pd.DataFrame()
    stays, kept, merged, links = _finish_delivery(spec, records, local)
    accounting.add_rows(kept, "stays")
    accounting.add_rows(merged, "merged")
    _account_folded(accounting, folded_parts, merged, local.log, spec.pilot)
    duplicates = [d for d in duplicate_parts if len(d)]
    if duplicates:  # doubled event rows, folded before the events were read
        doubled = pd.concat(duplicates, ignore_index=True)
        accounting.add_rows(doubled, "merged")
        log_merges(doubled, spec.pilot, local.log)
        merged = pd.concat([merged, doubled], ignore_index=True)
    return _DeliveryResult(inputs, stays, quarantine_parts, validation_parts, accounting, local.log.parts,
                           _rows_of_stays(kept, stays, folded_parts, merged), links)


def _rows_of_stays(kept: pd.DataFrame, stays: pd.DataFrame, folded_parts: list[pd.DataFrame],
                   merged: pd.DataFrame) -> pd.DataFrame:
    """Every raw row that ended up in a stay (its own row, an event row folded into it, or a
    duplicate merged into it), with the stay id: ``_file``, ``_sheet``, ``_row``, ``stay_id``."""
    key = ["_file", "_sheet", "_row"]
    rows = kept.assign(stay_id=stays["stay_id"].to_numpy()).astype({"_file": "str", "_sheet": "str", "_row": "int64"})
    rows = rows[[*key, "stay_id"]]
    folded = [f for f in folded_parts if len(f)]
    if folded:
        events = pd.concat(folded, ignore_index=True).astype({"_file": "str", "_sheet": "str", "_owner_row": "int64"})
        events = events.merge(rows.rename(columns={"_row": "_owner_row"}), on=["_file", "_sheet", "_owner_row"])
        rows = pd.concat([rows, events[[*key, "stay_id"]]], ignore_index=True)
    if len(merged):  # a duplicate merged into a row merged away in its turn is followed too
        away = merged.astype({"_file": "str", "_sheet": "str", "_row": "int64", "kept_file": "str",
                              "kept_sheet": "str", "kept_row": "int64"})
        for _ in range(3):
            found = away.merge(rows.rename(columns={"_file": "kept_file", "_sheet": "kept_sheet", "_row": "kept_row"}),
                               on=["kept_file", "kept_sheet", "kept_row"])[[*key, "stay_id"]]
            new = found.merge(rows[key], on=key, how="left", indicator=True)
            new = new[new["_merge"] == "left_only"].drop(columns="_merge")
            if new.empty:
                break
            rows = pd.concat([rows, new], ignore_index=True)
    return rows


PARALLEL_FROM_BYTES = 20_000_000


def _delivery_bytes(spec: SourceSpec, raw_dir: Path) -> int:
    return sum(p.stat().st_size for fs in spec.files for p in find_files(raw_dir, fs, spec.path))


def _run_deliveries(specs: list[SourceSpec], raw_dir: Path, ctx: _Context, workers: int | None,
                    progress: bool) -> list[_DeliveryResult]:
    """:func:`_ingest_delivery` for every spec, in spec order; side by side in worker processes
    (largest delivery first) when there is more than one worker."""
    sizes = [_delivery_bytes(spec, raw_dir) for spec in specs]  # also: a missing file fails here, early
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if sum(sizes) >= PARALLEL_FROM_BYTES else 1
    shared = replace(ctx, log=ChangeLog())
    if workers <= 1 or len(specs) <= 1:
        return [_ingest_delivery(spec, raw_dir, shared, progress) for spec in specs]
    order = sorted(range(len(specs)), key=lambda i: -sizes[i])
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = {i: pool.submit(_ingest_delivery, specs[i], raw_dir, shared, progress) for i in order}
        return [futures[i].result() for i in range(len(specs))]


def _account_folded(accounting: Accounting, folded_parts: list[pd.DataFrame], merged: pd.DataFrame,
                    log: ChangeLog, pilot: str) -> None:
    """Event rows folded into a stay count as events, or as merged when their stay was merged away."""
    folded = pd.concat([f for f in folded_parts if len(f)], ignore_index=True) if any(
        len(f) for f in folded_parts) else pd.DataFrame()
    if folded.empty:
        return
    owners = merged.loc[:, ["_file", "_sheet", "_row", "rule_id"]].rename(columns={"_row": "_owner_row"})
    owners = owners.astype({"_file": "str", "_sheet": "str", "_owner_row": "int64"})
    folded = folded.astype({"_file": "str", "_sheet": "str", "_owner_row": "int64"}).merge(
        owners, on=["_file", "_sheet", "_owner_row"], how="left")
    mask = folded["rule_id"].notna()
    accounting.add_rows(folded[mask], "merged")
    accounting.add_rows(folded[~mask], "events")
    if mask.any():  # the event rows of a merged-away stay are merged away with it
        gone = folded[mask]
        log.record(pd.DataFrame({
            "step": "merge", "pilot": pilot, "rule_id": gone["rule_id"],
            "source_file": gone["_file"], "sheet": gone["_sheet"], "source_row": gone["_row"], "column": "",
            "old_value": "event row merged away with its stay",
            "new_value": "kept with the stay's merged record (row " + gone["_owner_row"].astype(str) + ")",
        }))


def run_ingest(
    raw_dir: Path,
    out_dir: Path,
    *,
    skip_steps: Collection[str] = (),
    strict: bool = False,
    progress: bool = True,
    sources_dir: Path | None = None,
    workers: int | None = None,
    capacity_file: Path | None = None,
    raw_cells: bool = False,
    max_lost_share: float | None = None,
    chain_sources_dir: Path | None = None,
) -> IngestResult:
    """Ingest every delivery in ``raw_dir`` into ``out_dir`` (written atomically).

    ``skip_steps`` switches off named repairs, merges or exclusions by rule id (for example
    ``R_DAYMONTH_SWAP``, ``M_EXACT_DUPLICATE``, ``X_NON_PARTICIPANT``); ``strict`` makes any
    quarantined row a fatal error; ``sources_dir`` points at another folder of source specs;
    ``workers`` is the number of processes that read and harmonise files side by side (default:
    two for large deliveries on a machine with two or more cores, else one); ``capacity_file``
    names the agreed places copied into ``capacity.csv`` (default: the package's capacity.yaml);
    ``raw_cells`` keeps raw cell values in the quarantine (SYNTHETIC data only);
    ``max_lost_share`` overrides the specs' allowed share of a table's rows lost to quarantine.
    Chain extracts and crosswalks (specs in ``chain_sources_dir``, default the package's
    ``sources/chain/``) found in ``raw_dir`` are ingested by
    :func:`lvv_eval.ingest.chain.pipeline.ingest_chain` into ``chain_ind``, ``chain_dtv`` and
    ``person_links`` in the same output folder.

    A delivery that loses more rows than allowed, or any quarantined row under ``strict``, fails
    the run (:class:`IngestError`) after the output is written with ``status: failed`` and the
    problems in its manifest, so that the quarantine can be read.
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    if not raw_dir.is_dir():
        raise IngestError(f"missing folder: raw deliveries folder {raw_dir} does not exist. "
                          f"Run `lvv-eval synth` for the synthetic default or pass --raw-dir.")
    marker = check_marker(raw_dir)
    synthetic = marker.valid
    sources_dir = specs_folder(sources_dir, synthetic)
    specs = load_specs(sources_dir)
    check_overlaps(raw_dir, specs)
    chain_sources_dir = _chain_specs_dir(sources_dir, chain_sources_dir)
    capacity_file = Path(capacity_file) if capacity_file is not None else CAPACITY_YAML
    capacity = load_capacity_file(capacity_file)
    out_dir = check_out_dir(out_dir, [raw_dir, *([sources_dir] if sources_dir else [])], synthetic)
    if raw_cells and not synthetic:
        raise IngestError(f"--raw-cells keeps raw cell values in the quarantine; only for SYNTHETIC data, and "
                          f"{raw_dir} is not ({marker.reason})")
    rules, repairs = load_rules(), folder_repairs(sources_dir)
    check_skip_ids(skip_steps, [r.id for r in repairs], [r.id for r in rules])
    ctx = _Context(rules, repairs, frozenset(skip_steps), resolve_key(synthetic, marker.reason), ChangeLog(),
                   raw_cells)
    files = take_inventory(raw_dir, specs, load_chain_specs(chain_sources_dir))
    accounting = Accounting()
    stays_parts, quarantine_parts, validation_parts, inputs, stay_rows, links = [], [], [], [], [], []
    for res in _run_deliveries(specs, raw_dir, ctx, workers, progress):
        stay_rows.append(res.stay_rows)
        links.append(res.links)
        inputs.extend(res.inputs)
        ctx.log.parts.extend(res.changes)
        accounting.merge(res.accounting)
        stays_parts.append(res.stays)
        quarantine_parts.extend(res.quarantine)
        validation_parts.extend(res.validation)
    stays = coerce_stays(pd.concat(stays_parts, ignore_index=True)) if stays_parts else empty_stays()
    stays = stays.sort_values(["pilot", "stay_id"], kind="stable").reset_index(drop=True)
    check_doubled_stays(stays, inputs)
    validate_stays(stays)
    quarantine = pd.concat(quarantine_parts, ignore_index=True) if quarantine_parts else empty_quarantine()
    changes = with_stay_ids(ctx.log.frame(), pd.concat(stay_rows, ignore_index=True) if stay_rows else None)
    validation = combine_summaries(validation_parts, ctx.rules)
    summary = delivery_summary(accounting, quarantine, changes)
    chain = ingest_chain(raw_dir, ctx.key, skip_steps=ctx.skip, progress=progress, specs_dir=chain_sources_dir)
    person_links = merge_person_links([x for x in links if len(x)], chain.tables["person_links"])
    limits = {s.pilot: (s.max_lost_share if max_lost_share is None else max_lost_share) for s in specs}
    problems = [p for entry in inputs for p in entry.get("problems", ())]
    problems += loss_problems(accounting.per_file(), limits)
    if strict:
        problems += strict_problems(quarantine) + strict_problems(chain.quarantine, by="source")
    warnings = run_warnings(files, changes, inputs)
    manifest = {
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "failed" if problems else "ok",
        "problems": problems,
        "warnings": warnings,
        "synthetic": synthetic,
        "provenance": {"synthetic": synthetic, "why": marker.reason,
                       "marker": {k: v for k, v in (marker.marker or {}).items() if k != "files"} or None},
        "raw_dir": str(raw_dir), "sources": [s.path.name for s in specs],
        "spec_files": _spec_hashes(sources_dir, capacity_file, chain_sources_dir),
        "parameters": {"skip_steps": sorted(ctx.skip), "strict": strict, "raw_cells": raw_cells,
                       "max_lost_share": limits,
                       "sources_dir": str(sources_dir.resolve()) if sources_dir else "package"},
        "files": files,
        "versions": versions(),
        "inputs": inputs,
        "row_accounting": accounting.per_file(),
        "row_accounting_closes": accounting.closes(),
        "outputs": {"stays": len(stays), "quarantine": len(quarantine), "changes": len(changes)},
        "chain": chain_manifest(chain, person_links),
    }
    if not accounting.closes():
        raise RuntimeError(f"row accounting does not close: {accounting.per_file()}")
    def write(tmp: Path) -> None:
        write_chain_outputs(tmp, chain, person_links, manifest)
        write_outputs(tmp, stays=stays, capacity=capacity, quarantine=quarantine, changes=changes,
                      validation=validation, manifest=manifest)

    notes = write_atomically(out_dir, write)
    if progress:
        print(format_summary(summary, quarantine, synthetic), file=sys.stderr)
        print(format_chain_summary(chain), file=sys.stderr)
    for line in notes + warnings:
        print(f"warning: {line}", file=sys.stderr)
    if problems:
        raise IngestError(f"{len(problems)} problem(s) with the deliveries; {out_dir} is written with status "
                          f"'failed' so that quarantine.parquet can be read: " + " | ".join(problems))
    return IngestResult(stays, quarantine, changes, validation, manifest, summary, out_dir, chain, person_links)


def check_doubled_stays(stays: pd.DataFrame, inputs: list[dict]) -> None:
    """An :class:`IngestError` naming the source specs when the same stay (person and admission
    date) comes from deliveries of two specs: their deliveries overlap."""
    doubled = stays[stays["stay_id"].duplicated(keep=False)]
    if doubled.empty:
        return
    spec_of = {e["file"]: e["source_spec"] for e in inputs if e.get("role") == "delivery"}
    by_stay = doubled.assign(spec=doubled["source_file"].astype(str).map(spec_of)).groupby("stay_id")["spec"]
    pairs = sorted({tuple(sorted(set(v))) for v in by_stay.agg(list) if len(set(v)) > 1})
    if not pairs:
        return  # within one delivery: the duplicate merge rules have their say (pandera reports it)
    files = sorted(set(doubled["source_file"].astype(str)))
    raise IngestError(f"overlapping source specs: {doubled['stay_id'].nunique()} stays come from the deliveries of "
                      f"{' and '.join(pairs[0])} (files {', '.join(files[:4])}); each stay is delivered once. "
                      f"Remove the older delivery or its spec, or narrow the specs' file patterns.")


def run_warnings(files: list[dict], changes: pd.DataFrame, inputs: list[dict]) -> list[str]:
    """What the data manager should know although nothing failed: a header found below title
    rows, files nobody read, labels set to missing because the vocabulary lacks them."""
    lines = [note for entry in inputs for note in entry.get("notes", ())]
    lines += unmapped_warnings(changes)
    stray = unexpected_files(files)
    if stray:
        lines.append(f"{len(stray)} file(s) under the raw folder match no source spec and were not read: "
                     f"{', '.join(stray[:5])}{' ...' if len(stray) > 5 else ''} (listed in manifest.json 'files')")
    return lines


def _chain_specs_dir(sources_dir: Path | None, chain_sources_dir: Path | None) -> Path | None:
    """The chain specs: the folder given, else a specs folder's ``chain/``, else the package's."""
    if chain_sources_dir is None and sources_dir is not None and (sources_dir / "chain").is_dir():
        return sources_dir / "chain"
    return chain_sources_dir


def _spec_hashes(sources_dir: Path | None, capacity_file: Path, chain_dir: Path | None) -> dict[str, str]:
    """SHA-256 of every YAML file that shaped the result (source specs, vocabularies, repairs,
    rules, capacity), keyed ``package:<path in the package>`` or ``specs_dir:<path in the
    specs folder>`` (``--specs-dir`` or ``$LVV_DATA_ROOT/specs``), else the file's own path."""
    folders = [Path(sources_dir or SOURCES_DIR)] + ([Path(chain_dir)] if chain_dir else [])
    paths = {p for f in folders for p in Path(f).rglob("*.yaml")} | {RULES_FILE, REPAIRS_FILE, Path(capacity_file)}
    out = {}
    for p in sorted(p.resolve() for p in paths):
        if p.is_relative_to(PACKAGE_DIR):
            key = f"package:{p.relative_to(PACKAGE_DIR).as_posix()}"
        elif sources_dir is not None and p.is_relative_to(Path(sources_dir).resolve()):
            key = f"specs_dir:{p.relative_to(Path(sources_dir).resolve()).as_posix()}"
        else:
            key = str(p)
        out[key] = sha256_of(p)
    return out
