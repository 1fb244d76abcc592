"""Write a SYNTHETIC cohort as the five messy municipal deliveries, with an answer key.

``write_deliveries(cohort, out_dir, seed)`` renders each pilot's truth stays in that
municipality's own layout (``synth/layouts/<pilot>.yaml``: headers, labels, date formats, code
books), injects known faults, and writes under ``out_dir``:

- ``<pilot>/...``: the delivery files (Excel or CSV, plus code books);
- ``_answer_key/``: ``faults.csv`` (every extra or altered raw row), ``row_map.csv`` (the role of
  every raw data row), ``truth_stays.parquet``, ``hidden.parquet``, ``non_participants.parquet``,
  ``truth.json`` and ``delivery_manifest.json`` (files with sha256 and row counts, fault counts);
- ``README.md`` saying plainly that all of it is SYNTHETIC (for people; it proves nothing);
- ``SYNTHETIC.json``, written last: the machine-written marker (generator version, fingerprint,
  seed, and the SHA-256 of every file above) that alone makes ingest treat the folder as synthetic
  (:mod:`lvv_eval.provenance`).

The answer-key contract (shared with ingest): the truth table is the clean result; faults that
ingest repairs or recodes are on real rows; quarantined, merged-away and non-participant rows are
extra rows; per raw file, data rows = stays (or events) + quarantined + merged + non-participants.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

import lvv_eval
from lvv_eval.config import PILOTS
from lvv_eval.files import sha256_of
from lvv_eval.provenance import write_marker
from lvv_eval.synth.fingerprint import FINGERPRINT_FILE, generator_fingerprint
from lvv_eval.synth.render.encode import EncodedColumn, encode_column
from lvv_eval.synth.render.faults import Fault, FaultInjector, Override
from lvv_eval.synth.render.layout import ColumnSpec, Layout, LayoutError, load_layouts
from lvv_eval.synth.render.records import (
    ROLE_STAY,
    explode_events,
    non_participant_records,
    number_records,
    sheet_groups,
    stay_records,
)
from lvv_eval.synth.render.writers import EXCEL_MAX_ROWS, RawSheet, write_csv, write_workbook

ANSWER_KEY_DIR = "_answer_key"
FAULT_COLUMNS = (
    "fault_id", "pilot", "fault_type", "source_file", "sheet", "source_row", "column", "stay_id",
    "raw_value", "true_value", "expected_handling", "rule_id",
)
ROW_MAP_COLUMNS = ("source_file", "sheet", "source_row", "role", "stay_id")
CONTRACT_FIELDS_NOT_DELIVERED = ("stay_id", "person_id", "pilot", "source_file", "source_sheet", "source_row")


class Cohort(Protocol):
    """What the renderer needs of a ``SyntheticCohort``."""

    stays: pd.DataFrame
    hidden: pd.DataFrame
    non_participants: pd.DataFrame
    truth: dict[str, Any]
    seed: int
    calibrated: bool


@dataclass(frozen=True)
class FileRecord:
    """One written file: path relative to the output folder, sha256, data rows, kind."""

    path: str
    sha256: str
    data_rows: int
    kind: str  # delivery | codebook | answer_key | readme | chain_extract | crosswalk
    pilot: str = ""


@dataclass
class DeliveryManifest:
    """What ``write_deliveries`` wrote: files with hashes and row counts, and the faults."""

    out_dir: str
    seed: int
    cohort_seed: int
    calibrated: bool
    files: list[FileRecord] = field(default_factory=list)
    fault_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # pilot -> type -> n
    stays_per_pilot: dict[str, int] = field(default_factory=dict)
    raw_rows_per_pilot: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        """The manifest as stable, sorted JSON (without the output folder, so copies compare equal)."""
        data = asdict(self)
        data.pop("out_dir")
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass
class RenderedDelivery:
    """One pilot's delivery, encoded and placed, before writing."""

    pilot: str
    files: dict[str, list[RawSheet]]  # relative path -> sheets (one for CSV)
    extra_files: dict[str, bytes]  # code books
    faults: pd.DataFrame
    row_map: pd.DataFrame


# --------------------------------------------------------------------------- checks


def covered_fields(layout: Layout) -> set[str]:
    """Contract fields a reader can recover from this layout (columns, events or implied)."""
    fields = {c.field for c in layout.all_columns()}
    for ev in layout.events:
        fields.add(ev.date_field)
    for key in layout.implied:
        fields.update(k.strip() for k in key.split(","))
    if "exclusion_reason" in fields:
        fields.add("in_covenant")
    if "birth_date" in fields:
        fields.add("age_at_admission")
    return fields


def check_layout_covers_contract(layout: Layout, contract_fields: tuple[str, ...]) -> None:
    """Every stays field must be recoverable from the delivery."""
    missing = [
        f for f in contract_fields
        if f not in CONTRACT_FIELDS_NOT_DELIVERED and f not in covered_fields(layout)
    ]
    if missing:
        raise LayoutError(f"{layout.path.name}: no column or implied source for {missing}")


def check_implied_constants(layout: Layout, stays: pd.DataFrame) -> None:
    """Fields a layout implies as one constant value (e.g. only 'official') must be so in the truth."""
    for key, value in layout.implied.items():
        dtype = stays[key].dtype if key in stays.columns else None
        if isinstance(dtype, pd.CategoricalDtype) and value in dtype.categories:
            found = sorted(set(stays[key].dropna().astype(str)) - {value})
            if found:
                raise LayoutError(
                    f"{layout.path.name}: the layout implies {key}={value} but the truth has {found}; "
                    f"add a column or sheet split for {key}"
                )
    cuts = stays["data_cut_date"].dropna().unique()
    if len(cuts) > 1:
        raise LayoutError(f"{layout.pilot}: one delivery cannot have several data cut dates {cuts}")


# --------------------------------------------------------------------------- records


def pilot_records(cohort: Cohort, layout: Layout, rng: np.random.Generator) -> pd.DataFrame:
    """The logical records of one pilot's delivery, before faults."""
    mask = (cohort.stays["pilot"] == layout.pilot).to_numpy()
    stays = cohort.stays.loc[mask]
    check_implied_constants(layout, stays)
    records = stay_records(stays, cohort.hidden.loc[mask], rng)
    records.loc[records["age_at_admission"].isna(), "birth_date"] = pd.NaT
    nonp = cohort.non_participants
    if nonp is not None and len(nonp):
        mine = nonp.loc[nonp["pilot"] == layout.pilot]
        if len(mine):
            if locate_field(layout, "participant") is None:
                raise LayoutError(f"{layout.path.name}: non-participants but no participation column")
            records = pd.concat([records, non_participant_records(mine, records, rng)], ignore_index=True)
    if layout.format == "csv_long":
        records = explode_events(records, layout, rng)
    return number_records(records)


def locate_field(layout: Layout, field_name: str) -> ColumnSpec | None:
    """The first column (wide or event) that shows ``field_name``, if any."""
    for col in layout.all_columns():
        if col.field == field_name:
            return col
    return None


# --------------------------------------------------------------------------- order


def output_order(records: pd.DataFrame, layout: Layout, rng: np.random.Generator) -> pd.DataFrame:
    """Records in file order: grouped by sheet, sorted as the municipality sorts, extras placed."""
    group_names = list(layout.sheets["names"])
    records = records.copy()
    records["_group"] = sheet_groups(records, layout).to_numpy()
    unknown = set(records["_group"]) - set(group_names)
    if unknown:
        raise LayoutError(f"{layout.path.name}: no sheet for {sorted(map(str, unknown))}")
    records["_gorder"] = records["_group"].map({g: i for i, g in enumerate(group_names)}).astype(int)
    if layout.raw.get("order") == "shuffled":
        perm = rng.permutation(len(records))
        return records.iloc[perm].sort_values("_gorder", kind="stable").reset_index(drop=True)
    base = records.loc[records["_anchor"] < 0]
    keys = ["_gorder", *layout.raw.get("order_by", [])]
    ranked = base.sort_values(keys, kind="stable", na_position="last")
    rank = pd.Series(np.arange(len(ranked)), index=ranked["_rid"].to_numpy())
    anchored = records["_anchor"] >= 0
    records["_rank"] = np.where(
        anchored, rank.reindex(records["_anchor"]).to_numpy(), rank.reindex(records["_rid"]).to_numpy()
    )
    return records.sort_values(["_gorder", "_rank", "_offset", "_rid"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- encoding


def _column_rng(seed: int, pilot_index: int, column_index: int) -> np.random.Generator:
    return np.random.default_rng([seed, pilot_index, 1000 + column_index])


def encode_wide(records: pd.DataFrame, layout: Layout, seed: int, pilot_index: int) -> dict[str, EncodedColumn]:
    """Encode every column of a wide layout, in file order."""
    return {
        col.header: encode_column(records[col.field], col, layout, _column_rng(seed, pilot_index, j))
        for j, col in enumerate(layout.columns)
    }


def _merge_into(target: EncodedColumn, part: EncodedColumn, rows: np.ndarray) -> None:
    target.values[rows] = part.values
    if part.date_cells is not None:
        if target.date_cells is None:
            target.date_cells = np.zeros(len(target.values), dtype=bool)
        target.date_cells[rows] = part.date_cells


def encode_long(records: pd.DataFrame, layout: Layout, seed: int, pilot_index: int) -> dict[str, EncodedColumn]:
    """Encode a long (event) layout: key, event, date, event-specific columns, registration date."""
    raw = layout.raw
    n = len(records)
    key = layout.columns[0]
    out: dict[str, EncodedColumn] = {
        key.header: encode_column(records[key.field], key, layout, _column_rng(seed, pilot_index, 0))
    }
    labels = {ev.name: ev.label for ev in layout.events}
    out[raw["event_column"]] = EncodedColumn(records["_event"].map(labels).to_numpy(dtype=object))
    date_spec = ColumnSpec(raw["date_column"]["header"], "event_date", raw["date_column"]["encode"],
                           {k: v for k, v in raw["date_column"].items() if k not in ("header", "encode")})
    out[date_spec.header] = encode_column(records["event_date"], date_spec, layout, _column_rng(seed, pilot_index, 1))
    j = 2
    for ev in layout.events:
        rows = np.flatnonzero((records["_event"] == ev.name).to_numpy())
        for col in ev.columns:
            target = out.setdefault(col.header, EncodedColumn(np.full(n, None, dtype=object)))
            part = encode_column(records[col.field].iloc[rows], col, layout, _column_rng(seed, pilot_index, j))
            _merge_into(target, part, rows)
            j += 1
    reg = raw["registered_column"]
    reg_spec = ColumnSpec(reg["header"], reg["field"], reg["encode"],
                          {k: v for k, v in reg.items() if k not in ("header", "field", "encode")})
    out[reg_spec.header] = encode_column(records[reg_spec.field], reg_spec, layout, _column_rng(seed, pilot_index, j))
    return out


def apply_overrides(cells: dict[str, EncodedColumn], overrides: list[Override], pos: dict[int, int]) -> None:
    """Raw-cell faults that encoding cannot express (unmapped labels, old labels, stray spaces)."""
    for ov in overrides:
        col = cells[ov.header]
        i = pos[ov.rid]
        if ov.kind == "set":
            col.values[i] = ov.value
            if col.date_cells is not None:
                col.date_cells[i] = False
        elif ov.kind == "pad_left":
            col.values[i] = f"{ov.value}{col.values[i]}"
        elif ov.kind == "pad_right":
            col.values[i] = f"{col.values[i]}{ov.value}"
        else:
            raise ValueError(f"unknown override kind {ov.kind!r}")


def apply_copies(cells: dict[str, EncodedColumn], records: pd.DataFrame, pos: dict[int, int]) -> None:
    """Exact (copy-paste) duplicates get the very cells of their original."""
    copies = records.loc[records["_copy_of"] >= 0, ["_rid", "_copy_of"]]
    for rid, src in zip(copies["_rid"].tolist(), copies["_copy_of"].tolist(), strict=True):
        for col in cells.values():
            col.values[pos[rid]] = col.values[pos[src]]
            if col.date_cells is not None:
                col.date_cells[pos[rid]] = col.date_cells[pos[src]]


def sentinel_faults(cells: dict[str, EncodedColumn], records: pd.DataFrame) -> list[Fault]:
    """Every unknown value written as the layout's sentinel on a real row (e.g. Rotterdam -99)."""
    real = (records["_role"] == ROLE_STAY).to_numpy()
    faults = []
    for header, col in cells.items():
        if col.sentinel is None:
            continue
        rows = np.flatnonzero(col.sentinel & real)
        rids = records["_rid"].to_numpy()[rows].tolist()
        stay_ids = records["_stay_id"].to_numpy()[rows].tolist()
        faults.extend(
            Fault("sentinel_unknown", rid, header, stay_id, "") for rid, stay_id in zip(rids, stay_ids, strict=True)
        )
    return faults


# --------------------------------------------------------------------------- files


def _month_name(layout: Layout, month: int) -> str:
    names = layout.raw.get("month_names")
    return names[month - 1] if names else str(month)


def file_name(layout: Layout, cut: pd.Timestamp) -> str:
    """The delivery's file name, with its data cut date."""
    return layout.file_name.format(cut=cut)


def title_lines(layout: Layout, cut: pd.Timestamp) -> list[str]:
    """The title block above the table (Utrecht), with the data cut date filled in."""
    cut_long = f"{cut.day} {_month_name(layout, cut.month)} {cut.year}"
    return [str(line).format(cut=cut, cut_long=cut_long) for line in layout.raw.get("title_block", [])]


def codebook_files(layout: Layout) -> dict[str, bytes]:
    """Code book files as the municipality sends them beside the data (same CSV dialect)."""
    csv_opts = layout.raw.get("csv", {})
    sep, enc, eol = csv_opts.get("sep", ";"), csv_opts.get("encoding", "utf-8"), csv_opts.get("line_terminator", "\n")
    out = {}
    for book in layout.raw.get("codebooks", []):
        lines = [sep.join(book["headers"])]
        lines += [f"{e['code']}{sep}{e['label']}" for e in book["entries"]]
        out[f"{layout.folder}/{book['file_name']}"] = (eol.join(lines) + eol).encode(enc, errors="strict")
    return out


def split_sheets(layout: Layout, records: pd.DataFrame, cells: dict[str, EncodedColumn], cut: pd.Timestamp,
                 max_rows: int) -> tuple[dict[str, list[RawSheet]], pd.DataFrame]:
    """Cut the ordered rows into files and sheets; returns them and each row's file/sheet/row.

    A sheet that would pass Excel's row limit continues on numbered sheets ('name (2)', ...).
    """
    title = title_lines(layout, cut)
    headers = list(cells)
    capacity = max_rows - len(title) - 1 if layout.format == "xlsx" else len(records) + 1
    files: dict[str, list[RawSheet]] = {}
    place = pd.DataFrame(index=range(len(records)), columns=["source_file", "sheet", "source_row"], dtype=object)
    group_names = layout.sheets["names"]
    rel = f"{layout.folder}/{file_name(layout, cut)}"
    for group in group_names:
        rows = np.flatnonzero((records["_group"] == group).to_numpy())
        if len(rows) == 0 and layout.format != "xlsx":
            continue
        chunks = [rows[i : i + capacity] for i in range(0, max(len(rows), 1), capacity)]
        for k, chunk in enumerate(chunks):
            sheet_name = ""
            if layout.format == "xlsx":
                suffix = "" if k == 0 else f" ({k + 1})"
                sheet_name = group_names[group][: 31 - len(suffix)] + suffix
            sheet = RawSheet(sheet_name, headers, [_take(cells[h], chunk) for h in headers], title)
            files.setdefault(rel, []).append(sheet)
            place.loc[chunk, "source_file"] = rel
            place.loc[chunk, "sheet"] = sheet_name
            place.loc[chunk, "source_row"] = np.arange(len(chunk)) + sheet.first_data_row
    return files, place


def _take(col: EncodedColumn, rows: np.ndarray) -> EncodedColumn:
    return EncodedColumn(
        col.values[rows],
        None if col.date_cells is None else col.date_cells[rows],
        None if col.sentinel is None else col.sentinel[rows],
    )


# --------------------------------------------------------------------------- one pilot


def render_pilot(cohort: Cohort, layout: Layout, seed: int, max_rows: int = EXCEL_MAX_ROWS) -> RenderedDelivery:
    """Encode one pilot's truth as its delivery, with faults, placed in files and sheets."""
    pilot_index = PILOTS.index(layout.pilot)
    rng = np.random.default_rng([seed, pilot_index])
    records = pilot_records(cohort, layout, rng)
    injector = FaultInjector(layout, records, rng)
    injector.run()
    records = output_order(injector.records.reset_index(drop=True), layout, rng)
    pos = dict(zip(records["_rid"].tolist(), range(len(records)), strict=True))
    encode = encode_long if layout.format == "csv_long" else encode_wide
    cells = encode(records, layout, seed, pilot_index)
    apply_overrides(cells, injector.overrides, pos)
    apply_copies(cells, records, pos)
    faults = injector.faults + sentinel_faults(cells, records)
    cut = pd.Timestamp(cohort.stays.loc[cohort.stays["pilot"] == layout.pilot, "data_cut_date"].max())
    if pd.isna(cut):
        cut = pd.Timestamp(cohort.stays["data_cut_date"].max())
    files, place = split_sheets(layout, records, cells, cut, max_rows)
    row_map = pd.DataFrame({
        "source_file": place["source_file"].to_numpy(),
        "sheet": place["sheet"].to_numpy(),
        "source_row": place["source_row"].astype("int64").to_numpy(),
        "role": records["_role"].to_numpy(),
        "stay_id": records["_stay_id"].where(records["_role"].isin(["stay", "event", "merge"]), None).to_numpy(),
    })
    merge_stay = {f.rid: f.stay_id for f in faults if f.expected_handling == "merge"}
    for rid, stay_id in merge_stay.items():
        row_map.at[pos[rid], "stay_id"] = stay_id
    return RenderedDelivery(layout.pilot, files, codebook_files(layout), fault_table(faults, layout, cells, place, pos), row_map)


def fault_table(faults: list[Fault], layout: Layout, cells: dict[str, EncodedColumn], place: pd.DataFrame,
                pos: dict[int, int]) -> pd.DataFrame:
    """The answer-key rows of one pilot's faults, with where they are and the raw value."""
    at = np.array([pos[f.rid] for f in faults], dtype=np.int64)
    rows = {
        "pilot": layout.pilot,
        "fault_type": [f.fault_type for f in faults],
        "source_file": place["source_file"].to_numpy()[at],
        "sheet": place["sheet"].to_numpy()[at],
        "source_row": place["source_row"].to_numpy()[at].astype(np.int64),
        "column": [f.header for f in faults],
        "stay_id": [f.stay_id or "" for f in faults],
        "raw_value": [cells[f.header].display(i) if f.header else "" for f, i in zip(faults, at.tolist(), strict=True)],
        "true_value": [f.true_value for f in faults],
        "expected_handling": [f.expected_handling for f in faults],
        "rule_id": [f.rule_id for f in faults],
    }
    table = pd.DataFrame(rows, columns=[c for c in FAULT_COLUMNS if c != "fault_id"], index=range(len(faults)))
    table = table.sort_values(["source_file", "sheet", "source_row", "fault_type", "column"], kind="stable")
    prefix = layout.pilot[:3].upper()
    table.insert(0, "fault_id", [f"{prefix}-{k:05d}" for k in range(1, len(table) + 1)])
    return table.reset_index(drop=True)


# --------------------------------------------------------------------------- writing


def write_rendered(rendered: RenderedDelivery, layout: Layout, out_dir: Path) -> list[FileRecord]:
    """Write one pilot's files; returns their records."""
    written = []
    csv_opts = layout.raw.get("csv", {})
    for rel, sheets in rendered.files.items():
        path = out_dir / rel
        if layout.format == "xlsx":
            write_workbook(path, sheets, f"LVV {layout.pilot} (SYNTHETIC)")
        else:
            write_csv(path, sheets[0], csv_opts.get("sep", ","), csv_opts.get("encoding", "utf-8"),
                      csv_opts.get("line_terminator", "\n"))
        written.append(FileRecord(rel, sha256_of(path), sum(s.n_rows for s in sheets), "delivery", layout.pilot))
    for rel, data in rendered.extra_files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(FileRecord(rel, sha256_of(path), data.count(b"\n") - 1, "codebook", layout.pilot))
    return written


def readme_text(cohort: Cohort, seed: int, manifest: DeliveryManifest) -> str:
    """README of the synthetic folder: SYNTHETIC, how it was made, what the answer key is."""
    lines = [
        "# SYNTHETIC LVV deliveries - not real people",
        "",
        "Everything in this folder is SYNTHETIC. No record describes a real person. The files were",
        f"generated by `lvv-eval synth` (lvv_eval.synth.render.deliveries) with delivery seed {seed} from",
        f"{'a calibrated' if cohort.calibrated else 'an uncalibrated'} synthetic cohort (cohort seed {cohort.seed}).",
        "",
        "Each pilot folder holds a delivery in that municipality's own layout, with deliberate faults.",
        f"`{ANSWER_KEY_DIR}/` is the answer key, there for tests: the clean truth (`truth_stays.parquet`),",
        "the hidden variables never delivered, `faults.csv` (every injected fault: file, sheet, row,",
        "column, raw and true value, expected handling and rule id) and `row_map.csv` (the role of every",
        "raw data row). An ingest must never read the answer key.",
        "",
        "| pilot | stays in truth | raw data rows | injected faults |",
        "|---|---|---|---|",
    ]
    for pilot in PILOTS:
        if pilot not in manifest.raw_rows_per_pilot:
            lines.append(f"| {pilot} | 0 | no delivery (not in this cohort) | 0 |")
            continue
        n_faults = sum(manifest.fault_counts.get(pilot, {}).values())
        lines.append(f"| {pilot} | {manifest.stays_per_pilot.get(pilot, 0)} | "
                     f"{manifest.raw_rows_per_pilot.get(pilot, 0)} | {n_faults} |")
    chain = [f for f in manifest.files if f.kind in ("chain_extract", "crosswalk")]
    if chain:
        lines += [
            "",
            "## Chain extracts (SYNTHETIC)",
            "",
            "`chain/` holds what the chain partners would send for the same people: an IND extract",
            "(procedures, decisions, permits, art. 64) and a DT&V extract (departure cases and how they",
            "ended). Pilots whose delivery uses client numbers also sent a crosswalk to V-numbers. The",
            "registers disagree with the municipal records on purpose; `_answer_key/chain_*` lists",
            "every discrepancy (docs/ANSWER_KEY.md).",
            "",
            "| file | kind | data rows |",
            "|---|---|---|",
        ]
        lines += [f"| {f.path} | {f.kind} | {f.data_rows} |" for f in chain]
    return "\n".join(lines) + "\n"


def _write_answer_key(cohort: Cohort, out_dir: Path, faults: pd.DataFrame, row_map: pd.DataFrame) -> list[FileRecord]:
    key_dir = out_dir / ANSWER_KEY_DIR
    key_dir.mkdir(parents=True, exist_ok=True)
    faults.to_csv(key_dir / "faults.csv", index=False, lineterminator="\n")
    row_map.to_csv(key_dir / "row_map.csv", index=False, lineterminator="\n")
    cohort.stays.to_parquet(key_dir / "truth_stays.parquet", index=False)
    cohort.hidden.to_parquet(key_dir / "hidden.parquet", index=False)
    cohort.non_participants.to_parquet(key_dir / "non_participants.parquet", index=False)
    (key_dir / "truth.json").write_text(
        json.dumps(cohort.truth, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    sizes = {"faults.csv": len(faults), "row_map.csv": len(row_map), "truth_stays.parquet": len(cohort.stays),
             "hidden.parquet": len(cohort.hidden), "non_participants.parquet": len(cohort.non_participants),
             "truth.json": 0}
    return [FileRecord(f"{ANSWER_KEY_DIR}/{name}", sha256_of(key_dir / name), n, "answer_key") for name, n in sizes.items()]


def has_records(cohort: Cohort, pilot: str) -> bool:
    """Whether the cohort has anything (stays or non-participants) for this pilot's delivery."""
    nonp = cohort.non_participants
    in_nonp = nonp is not None and len(nonp) > 0 and bool((nonp["pilot"] == pilot).any())
    return bool((cohort.stays["pilot"] == pilot).any()) or in_nonp


def write_deliveries(
    cohort: Cohort,
    out_dir: Path,
    seed: int,
    *,
    layouts: dict[str, Layout] | None = None,
    max_rows_per_sheet: int = EXCEL_MAX_ROWS,
    stamp_fingerprint: bool = False,
    chain: bool = False,
) -> DeliveryManifest:
    """Write the five SYNTHETIC deliveries, the answer key, a README and (last) the SYNTHETIC.json
    marker under ``out_dir``; with ``chain`` also the IND and DT&V extracts and the V-number
    crosswalks (their randomness has its own stream, so the municipal files are the same bytes
    either way); ``stamp_fingerprint`` also writes the generator fingerprint and seed that
    `lvv-eval run` checks before reusing the default deliveries."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    layouts = layouts if layouts is not None else load_layouts()
    missing = [p for p in PILOTS if p not in layouts]
    if missing:
        raise LayoutError(f"no delivery layout for {missing}")
    manifest = DeliveryManifest(str(out_dir), int(seed), int(cohort.seed), bool(cohort.calibrated))
    all_faults, all_rows = [], []
    for pilot in PILOTS:
        layout = layouts[pilot]
        check_layout_covers_contract(layout, tuple(cohort.stays.columns))
        if not has_records(cohort, pilot):
            manifest.stays_per_pilot[pilot] = 0
            continue  # a cohort restricted to other pilots: no delivery for this one
        rendered = render_pilot(cohort, layout, seed, max_rows_per_sheet)
        manifest.files.extend(write_rendered(rendered, layout, out_dir))
        manifest.fault_counts[pilot] = {k: int(v) for k, v in rendered.faults["fault_type"].value_counts().sort_index().items()}
        manifest.stays_per_pilot[pilot] = int((cohort.stays["pilot"] == pilot).sum())
        manifest.raw_rows_per_pilot[pilot] = len(rendered.row_map)
        all_faults.append(rendered.faults)
        all_rows.append(rendered.row_map)
    faults = pd.concat(all_faults, ignore_index=True)
    row_map = pd.concat(all_rows, ignore_index=True)
    manifest.files.extend(_write_answer_key(cohort, out_dir, faults, row_map))
    if chain:
        from lvv_eval.synth.render.chain import write_chain_extracts

        written = write_chain_extracts(cohort, out_dir, seed)
        manifest.files.extend(FileRecord(path, digest, rows, kind, pilot) for path, digest, rows, kind, pilot in written.files)
    readme = out_dir / "README.md"
    readme.write_text(readme_text(cohort, seed, manifest), encoding="utf-8")
    manifest.files.append(FileRecord("README.md", sha256_of(readme), 0, "readme"))
    (out_dir / ANSWER_KEY_DIR / "delivery_manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    fingerprint = generator_fingerprint()
    if stamp_fingerprint:
        (out_dir / FINGERPRINT_FILE).write_text(f"{fingerprint} {seed}{' chain' if chain else ''}\n",
                                                encoding="utf-8")
    write_marker(out_dir, generator_version=lvv_eval.__version__, generator_fingerprint=fingerprint, seed=seed,
                 calibrated=bool(cohort.calibrated))
    return manifest
