"""``ingest_chain``: the chain extracts and crosswalks in a raw folder -> chain tables.

Per extract table: read -> raw repairs -> map columns -> text repairs -> interpret codes and dates
-> confront with the chain rules -> quarantine -> merge exact duplicates. Per extract: pseudonymise
(``v_key`` from the V-number, ``person_id`` from a crosswalk's client number and pilot) -> the
table's pandera contract. An extract whose files are absent is skipped and named in the result
(real deliveries may come without chain data); row accounting closes per file.
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lvv_eval.chain_schema import coerce_table, empty_table, validate_table
from lvv_eval.config import SPECS_DIR
from lvv_eval.files import sha256_of
from lvv_eval.ingest.accounting import Accounting
from lvv_eval.ingest.chain.spec import ChainSpec, load_chain_specs
from lvv_eval.ingest.errors import IngestError
from lvv_eval.ingest.mapping import check_columns, map_labels, parse_dates, rename_to_fields
from lvv_eval.ingest.pseudonymise import person_ids
from lvv_eval.ingest.quarantine import build_quarantine, empty_quarantine, issue_details
from lvv_eval.ingest.readers import RawTable, find_files, read_file
from lvv_eval.ingest.repairs import Repair, load_repairs, run_repairs
from lvv_eval.ingest.rules import (
    Rule,
    combine_summaries,
    confront,
    failed_rules,
    first_failed_rule,
)
from lvv_eval.ingest.spec_models import load_chain_rules_file
from lvv_eval.ingest.tracking import CHANGE_COLUMNS, ChangeLog
from lvv_eval.pseudonym import v_keys

CHAIN_RULES_FILE = SPECS_DIR / "chain_rules.yaml"
CHAIN_REPAIRS_FILE = SPECS_DIR / "chain_repairs.yaml"
EXACT_DUPLICATE_RULE = "M_EXACT_DUPLICATE"
CHAIN_CATEGORIES = ("records", "quarantined", "merged")
CHAIN_TABLES = ("chain_ind", "chain_dtv", "person_links")


@dataclass
class ChainIngestResult:
    """The chain tables and their audit trail (``quarantine``/``changes`` name the register or
    pilot in ``source``, persons only by ``v_key`` / ``person_id``)."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    changes: pd.DataFrame
    validation: pd.DataFrame
    accounting: Accounting
    inputs: list[dict]
    specs: list[ChainSpec]
    absent: list[dict] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        """Whether any chain extract or crosswalk was found."""
        return bool(self.inputs)


@dataclass(frozen=True)
class _Source:
    """What the shared repair machinery needs of a source: the name its changes are logged under."""

    pilot: str
    sentinels: tuple[str, ...] = ()
    recodes: tuple = ()


@dataclass
class _Context:
    rules: dict[str, list[Rule]]
    repairs: list[Repair]
    skip: frozenset[str]
    key: bytes
    log: ChangeLog
    accounting: Accounting


def load_chain_rules(path: Path = CHAIN_RULES_FILE) -> dict[str, list[Rule]]:
    """The chain rules per extract kind (a rule's ``kinds`` say where it applies)."""
    out: dict[str, list[Rule]] = {"ind": [], "dtv": [], "crosswalk": []}
    for rule in load_chain_rules_file(Path(path)).rules:
        for kind in rule.kinds:
            out[kind].append(rule)
    return out


# ---- helpers rule expressions may use -------------------------------------------------------


def chain_namespace(records: pd.DataFrame) -> dict[str, object]:
    """``matches(field, regex)`` and ``conflicting(key, value)`` for chain rule expressions."""
    index = records.index

    def matches(values: pd.Series, pattern: str) -> pd.Series:
        s = pd.Series(values, index=index)
        return s.astype("str").str.fullmatch(pattern).astype("boolean").mask(s.isna())

    def conflicting(key: pd.Series, value: pd.Series) -> pd.Series:
        pair = pd.DataFrame({"k": pd.Series(key, index=index), "v": pd.Series(value, index=index).fillna("\x00")})
        distinct = pair.groupby("k", dropna=True)["v"].transform("nunique")
        return (distinct > 1).fillna(False).astype("boolean")

    return {"matches": matches, "conflicting": conflicting}


# ---- one table ------------------------------------------------------------------------------


def convert(fields: pd.DataFrame, spec: ChainSpec, constants: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed fields (text stripped, codes mapped, dates parsed) and the issues frame."""
    out = fields.copy()
    issues = pd.DataFrame(index=fields.index)
    for fld, value in {**spec.constants, **constants}.items():
        if fld not in out.columns:
            out[fld] = pd.Series(str(value), index=out.index, dtype="str")
    for fld in spec.field_columns("label"):
        out[fld], issues[f"unmapped:{fld}"] = map_labels(out[fld], spec.labels[fld])
    date_fields = [f for f in out.columns if not f.startswith("_") and f.endswith("_date")]
    for fld in date_fields:
        out[fld], issues[f"unparsed:{fld}"] = parse_dates(out[fld], spec.dates.formats + ("%Y-%m-%d",),
                                                          excel_serial=spec.dates.excel_serial)
    for fld in spec.field_columns("text"):
        out[fld] = out[fld].astype("str").str.strip()
    return out, issues


def _harmonise(table: RawTable, spec: ChainSpec, ctx: _Context) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    source = _Source(spec.source_name)
    redact_raw = spec.identifier_headers()
    raw = run_repairs(table.frame, stage="raw", repairs=ctx.repairs, spec=source, log=ctx.log, skip=ctx.skip,
                      redact=redact_raw)
    fields, names = rename_to_fields(raw, spec)
    fields = run_repairs(fields, stage="text", repairs=ctx.repairs, spec=source, log=ctx.log, skip=ctx.skip,
                         column_names=names, redact=["v_number", "client_number"])
    records, issues = convert(fields, spec, table.constants)
    if "_malformed" in table.frame:
        issues["malformed:row"] = table.frame["_malformed"].astype(bool)
    return records, issues, fields, names


def _row_keys(records: pd.DataFrame, spec: ChainSpec, key: bytes) -> pd.Series:
    """The pseudonym of each row's person (``person_id`` for a crosswalk, else ``v_key``)."""
    if spec.kind == "crosswalk":
        return person_ids(records["client_number"], str(spec.pilot), key)
    return v_keys(records["v_number"], key)


def _quarantine(table: RawTable, spec: ChainSpec, ctx: _Context, records: pd.DataFrame, issues: pd.DataFrame,
                fields: pd.DataFrame, names: dict, first: pd.Series, failed: pd.Series) -> pd.DataFrame:
    if first.empty:
        return empty_quarantine()
    rows = first.index
    rules = ctx.rules[spec.kind]
    return build_quarantine(
        pilot=spec.source_name, raw=table.frame.loc[rows], rule_ids=first, rules_failed=failed,
        reasons={r.id: r.label for r in rules}, detail=_redacted_detail(issues.loc[rows], fields.loc[rows], names, ctx.key),
        person_ids=_row_keys(records.loc[rows], spec, ctx.key), id_columns=spec.identifier_headers(), key=ctx.key,
    )


def _redacted_detail(issues: pd.DataFrame, fields: pd.DataFrame, names: dict, key: bytes) -> pd.Series:
    """Which cell could not be read and why; identifier cells are named but never shown, other
    cells only by their shape, length and keyed hash."""
    shown = fields.copy()
    for fld in ("v_number", "client_number"):
        if fld in shown.columns:
            shown[fld] = shown[fld].where(shown[fld].isna(), "[identifier]")
    return issue_details(issues, shown, names, key)


def exact_duplicates(records: pd.DataFrame) -> tuple[pd.Index, pd.Series]:
    """Rows equal to an earlier row on every field: their index and the index of the row kept."""
    fields = [c for c in records.columns if not c.startswith("_")]
    text = records[fields].astype("str").fillna("\x00")
    dup = text.duplicated(keep="first")
    if not dup.any():
        return pd.Index([]), pd.Series(dtype="int64")
    group = text.groupby(fields, sort=False, dropna=False).ngroup()
    first = pd.Series(records.index, index=records.index).groupby(group).transform("first")
    return records.index[dup.to_numpy()], first[dup]


def _merge_duplicates(records: pd.DataFrame, spec: ChainSpec, ctx: _Context) -> pd.DataFrame:
    """Drop exact duplicates (logged as ``M_EXACT_DUPLICATE``) unless that step is switched off."""
    if EXACT_DUPLICATE_RULE in ctx.skip:
        return records
    away, kept = exact_duplicates(records)
    if len(away) == 0:
        return records
    gone = records.loc[away]
    ctx.log.record(pd.DataFrame({
        "step": "merge", "rule_id": EXACT_DUPLICATE_RULE, "pilot": spec.source_name,
        "source_file": gone["_file"], "sheet": gone["_sheet"], "source_row": gone["_row"], "column": "",
        "old_value": "exact duplicate row merged away",
        "new_value": "kept row " + records.loc[kept.to_numpy(), "_row"].astype(str).to_numpy(),
    }))
    ctx.accounting.add_rows(gone, "merged")
    return records.drop(index=away)


@dataclass(frozen=True)
class _ColumnsView:
    """The column check's view of a chain spec: identifier columns kept out are expected too."""

    columns: dict[str, str]
    ignore_columns: tuple[str, ...]
    path: Path


def process_table(table: RawTable, spec: ChainSpec, ctx: _Context) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One sheet or file: valid records, quarantine rows, rule summary."""
    check_columns(table, _ColumnsView(spec.columns, spec.ignore_columns + spec.redact_columns, spec.path))
    records, issues, fields, names = _harmonise(table, spec, ctx)
    rules = ctx.rules[spec.kind]
    conf = confront(records, issues, rules, extra=chain_namespace(records))
    first = first_failed_rule(conf.outcomes, rules)
    bad = first.index[first.notna().to_numpy()]
    quarantine = _quarantine(table, spec, ctx, records, issues, fields, names, first[bad],
                             failed_rules(conf.outcomes, rules)[bad])
    ctx.accounting.add_raw(spec.source_name, table.frame)
    ctx.accounting.add_rows(table.frame.loc[bad], "quarantined")
    valid = _merge_duplicates(records.drop(index=bad), spec, ctx)
    ctx.accounting.add_rows(valid, "records")
    return valid, quarantine, conf.summary


# ---- one extract ----------------------------------------------------------------------------


def to_table(records: pd.DataFrame, spec: ChainSpec, key: bytes) -> pd.DataFrame:
    """Valid records of one extract as its contract table, persons pseudonymised."""
    out = records.assign(source_file=records["_file"], sheet=records["_sheet"], source_row=records["_row"])
    if spec.kind == "crosswalk":
        out = out.assign(person_id=_row_keys(out, spec, key), pilot=spec.pilot, link_source="crosswalk")
    out["v_key"] = v_keys(out["v_number"].where(out["v_number"].ne("")), key)
    return coerce_table(out, spec.table)


def ingest_source(spec: ChainSpec, raw_dir: Path, ctx: _Context, progress: bool) -> tuple[pd.DataFrame, list, list, list]:
    """One chain spec: its table, quarantine parts, rule summaries and input records."""
    valid_parts, quarantine_parts, summaries, inputs = [], [], [], []
    for chain_file in spec.files:
        fs = chain_file.file_spec()
        for path in find_files(raw_dir, fs, spec.path):
            rel = path.relative_to(raw_dir).as_posix()
            tables = read_file(path, rel, fs)
            inputs.append({"file": rel, "source_spec": spec.path.name, "kind": spec.kind, "source": spec.source_name,
                           "sha256": sha256_of(path), "bytes": path.stat().st_size,
                           "rows": {t.sheet or "": len(t.frame) for t in tables}})
            for table in tables:
                valid, quarantine, summary = process_table(table, spec, ctx)
                valid_parts.append(valid)
                quarantine_parts.append(quarantine)
                summaries.append(summary)
            if progress:
                print(f"  chain {spec.source_name}: read {rel} ({sum(len(t.frame) for t in tables):,} rows)",
                      file=sys.stderr, flush=True)
    records = pd.concat(valid_parts) if valid_parts else pd.DataFrame()
    table = to_table(records, spec, ctx.key) if len(records) else empty_table(spec.table)
    return table, quarantine_parts, summaries, inputs


def _files_present(spec: ChainSpec, raw_dir: Path) -> bool:
    return all(any(p.is_file() for p in raw_dir.glob(f.pattern)) for f in spec.files)


def ingest_chain(raw_dir: Path, key: bytes, *, skip_steps: Collection[str] = (), progress: bool = True,
                 specs_dir: Path | None = None) -> ChainIngestResult:
    """Ingest every chain extract and crosswalk found in ``raw_dir`` (see the module docstring)."""
    specs = load_chain_specs(specs_dir)
    all_rules = load_chain_rules()
    ctx = _Context(all_rules, load_repairs(CHAIN_REPAIRS_FILE), frozenset(skip_steps), key, ChangeLog(),
                   Accounting(categories=CHAIN_CATEGORIES))
    parts: dict[str, list[pd.DataFrame]] = {t: [] for t in CHAIN_TABLES}
    quarantine, summaries, inputs, absent, used = [], [], [], [], []
    for spec in specs:
        if not _files_present(spec, raw_dir):
            absent.append({"source_spec": spec.path.name, "kind": spec.kind, "source": spec.source_name,
                           "patterns": [f.pattern for f in spec.files]})
            continue
        table, q, s, i = ingest_source(spec, raw_dir, ctx, progress)
        parts[spec.table].append(table)
        quarantine += q
        summaries += s
        inputs += i
        used.append(spec)
    tables = {t: (pd.concat(p, ignore_index=True) if p else empty_table(t)) for t, p in parts.items()}
    for name in ("chain_ind", "chain_dtv"):
        validate_table(tables[name], name)
    rules = list({r.id: r for rs in all_rules.values() for r in rs}.values())
    validation = combine_summaries(summaries, rules).fillna(
        {"items": 0, "passes": 0, "fails": 0, "missing": 0, "errors": 0, "error_message": ""})
    if not ctx.accounting.closes():
        raise IngestError(f"chain row accounting does not close: {ctx.accounting.per_file()}")
    return ChainIngestResult(tables, _chain_quarantine(quarantine), _chain_changes(ctx.log), validation,
                             ctx.accounting, inputs, used, absent)


def _chain_quarantine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Quarantine rows with the register or pilot as ``source`` and the row's pseudonym as ``key``."""
    q = pd.concat(parts, ignore_index=True) if parts else empty_quarantine()
    return q.rename(columns={"pilot": "source", "person_id": "key"})


def _chain_changes(log: ChangeLog) -> pd.DataFrame:
    changes = log.frame()
    return changes.loc[:, list(CHANGE_COLUMNS)].rename(columns={"pilot": "source"})


def merge_person_links(municipal: list[pd.DataFrame], crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Person links from deliveries whose source id is a V-number and from crosswalks, one per
    person (a delivery's own V-number wins over a crosswalk's)."""
    links = pd.concat([*municipal, crosswalk], ignore_index=True) if municipal else crosswalk
    if links.empty:
        return empty_table("person_links")
    links = coerce_table(links, "person_links").drop_duplicates("person_id", keep="first").reset_index(drop=True)
    return validate_table(links, "person_links")


def format_chain_summary(result: ChainIngestResult) -> str:
    """Rows in and where they went per chain file, and the quarantine by rule (or why nothing was read)."""
    lines = ["chain extracts:"]
    for row in result.accounting.per_file():
        lines.append(f"  {row['pilot']}: {row['file']}{' sheet ' + repr(row['sheet']) if row['sheet'] else ''}: "
                     f"{row['raw_rows']:,} rows in, {row['records']:,} records, {row['quarantined']:,} quarantined, "
                     f"{row['merged']:,} merged")
    if len(result.quarantine):
        for (source, rule), n in result.quarantine.groupby(["source", "rule_id"]).size().items():
            lines.append(f"    quarantined by rule {rule} ({source}): {n}")
    for absent in result.absent:
        lines.append(f"  {absent['source']}: no file matches {', '.join(absent['patterns'])} (spec {absent['source_spec']})")
    return "\n".join(lines)
