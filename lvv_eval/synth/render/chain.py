"""Write the chain registers' extracts (IND, DT&V) and the municipal V-number crosswalks.

``write_chain_extracts(cohort, out_dir, seed)`` draws the chain side (:mod:`lvv_eval.synth.chain`)
and renders each extract in its register's own layout (``synth/layouts/chain/*.yaml``: headers,
codes, date formats), with a few ingest faults of its own, and writes its answer key beside the
municipal one (``_answer_key/chain_*``; see docs/ANSWER_KEY.md):

- ``chain_stays.csv``: per truth stay, the linkage, agreement class, rule, chain exit reason and
  DT&V count of prior departure procedures a correct reconciliation finds;
- ``chain_discrepancies.csv``: every deliberate discrepancy with the record that shows it;
- ``chain_only.csv``: every register V-number that links to no LVV person, with why;
- ``chain_linkage.csv``: expected linkage per pilot and register;
- ``chain_faults.csv`` and ``chain_row_map.csv``: ingest faults and the role of every raw row;
- ``chain_people.parquet``: every person with V-number, pilot, source id and pseudonym.

Randomness: ``default_rng([seed, CHAIN_STREAM, ...])`` only, so the municipal files do not move.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.files import sha256_of
from lvv_eval.synth.chain import (
    CHAIN_STREAM,
    RESIDENCE_PROCEDURES,
    ChainTruth,
    draw_chain,
    load_chain_params,
)
from lvv_eval.synth.render.encode import EncodedColumn, encode_column
from lvv_eval.synth.render.faults import Override
from lvv_eval.synth.render.layout import LAYOUTS_DIR, Layout, LayoutError, load_layout
from lvv_eval.synth.render.writers import RawSheet, write_csv, write_workbook

CHAIN_LAYOUTS_DIR = LAYOUTS_DIR / "chain"
ANSWER_KEY_DIR = "_answer_key"
ROLE_RECORD, ROLE_QUARANTINE, ROLE_MERGE = "record", "quarantine", "merge"
# fault_type -> (expected_handling, rule_id): the contract with the chain ingest
FAULT_RULES: dict[str, tuple[str, str]] = {
    "missing_v_number": ("quarantine", "V_CHAIN_V_NUMBER_PRESENT"),
    "unmapped_code": ("quarantine", "V_CHAIN_LABELS_MAPPED"),
    "decision_before_application": ("quarantine", "V_IND_DECISION_NOT_BEFORE_APPLICATION"),
    "end_before_start": ("quarantine", "V_DTV_END_NOT_BEFORE_START"),
    "exact_duplicate": ("merge", "M_EXACT_DUPLICATE"),
    "v_number_separators": ("repair", "R_V_NUMBER_SEPARATORS"),
    "trailing_whitespace": ("repair", "R_TRIM_WHITESPACE"),
}
FAULT_COLUMNS = ("fault_id", "register", "fault_type", "source_file", "sheet", "source_row", "column",
                 "raw_value", "true_value", "expected_handling", "rule_id")


def load_chain_layouts(directory: Path = CHAIN_LAYOUTS_DIR) -> list[Layout]:
    """Every chain extract and crosswalk layout, by file name."""
    layouts = [load_layout(p) for p in sorted(directory.glob("*.yaml"))]
    for lay in layouts:
        if lay.raw.get("kind") not in ("ind", "dtv", "crosswalk"):
            raise LayoutError(f"{lay.path.name}: kind must be ind, dtv or crosswalk")
    return layouts


# --------------------------------------------------------------------------- logical records


def _case_numbers(dates: pd.Series, template: str, rng: np.random.Generator) -> np.ndarray:
    """Register case numbers: the year of the case and a serial in date order."""
    order = np.argsort(dates.fillna(pd.Timestamp("2100-01-01")).to_numpy(), kind="stable")
    serial = np.empty(len(dates), dtype=np.int64)
    serial[order] = int(rng.integers(100_000, 900_000)) + np.arange(len(dates))
    years = dates.dt.year.fillna(0).astype(int).to_numpy()
    return np.array([template.format(year=y, serial=s) for y, s in zip(years, serial, strict=True)], dtype=object)


def register_records(truth: ChainTruth, layout: Layout, rng: np.random.Generator) -> pd.DataFrame:
    """The logical rows of one extract (before faults): fields by the layout's field names."""
    kind = layout.raw["kind"]
    if kind == "crosswalk":
        table = truth.crosswalks.get(layout.pilot, pd.DataFrame(columns=["client_number", "v_number", "person_id"]))
        frame = table.copy()
        remark = layout.raw.get("unknown_remark")
        frame["remark"] = np.where(frame["v_number"].isna(), remark, None) if remark else None
        frame["_rid"] = np.arange(len(frame), dtype=np.int64)
    else:
        frame = (truth.ind if kind == "ind" else truth.dtv).copy()
        if kind == "ind":
            granted = (frame["decision"] == "granted") & frame["procedure"].isin(RESIDENCE_PROCEDURES)
            frame["permit_from"] = frame["application_date"].where(granted)
        spec = layout.raw["case_number"]
        frame["case_number"] = _case_numbers(frame[spec["date_field"]], spec["template"], rng)
    frame["_role"] = ROLE_RECORD
    frame["_anchor"] = -1
    frame["_copy_of"] = -1
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- faults


@dataclass
class ChainFault:
    """One injected ingest fault in an extract."""

    fault_type: str
    rid: int
    header: str
    true_value: str


class ExtractFaults:
    """Adds the configured ingest faults to one extract's logical records."""

    def __init__(self, layout: Layout, records: pd.DataFrame, counts: dict[str, int], values: dict[str, Any],
                 rng: np.random.Generator) -> None:
        self.layout, self.records, self.counts, self.rng = layout, records, counts, rng
        self.values = values
        self.use = dict(layout.raw.get("faults_use") or {})
        self.faults: list[ChainFault] = []
        self.overrides: list[Override] = []
        self.taken: set[int] = set()

    def _bases(self, n: int, eligible: np.ndarray | None = None) -> np.ndarray:
        real = (self.records["_role"] == ROLE_RECORD).to_numpy()
        ok = real & ~self.records["_rid"].isin(self.taken).to_numpy()
        if eligible is not None:
            ok &= eligible
        pool = self.records["_rid"].to_numpy()[ok]
        chosen = np.sort(self.rng.choice(pool, size=min(n, len(pool)), replace=False))
        self.taken.update(int(r) for r in chosen)
        return chosen

    def _extra(self, base: int, role: str, **changes: Any) -> int:
        row = self.records.loc[self.records["_rid"] == base].copy()
        rid = int(self.records["_rid"].max()) + 1
        row["_rid"], row["_role"], row["_anchor"] = rid, role, base
        for col, value in changes.items():
            row[col] = value
        self.records = pd.concat([self.records, row], ignore_index=True)
        self.taken.add(rid)
        return rid

    def _cell(self, field: str) -> str:
        return next(c.header for c in self.layout.columns if c.field == field)

    def run(self) -> None:
        """Inject every fault type the extract's kind has, in a fixed order."""
        for fault_type in FAULT_RULES:
            n = int(self.counts.get(fault_type, 0))
            if n:
                getattr(self, fault_type)(n)

    def missing_v_number(self, n: int) -> None:
        header = self.use["v_number"]
        for base in self._bases(n):
            rid = self._extra(int(base), ROLE_QUARANTINE)
            self.overrides.append(Override(rid, header, "set", None))
            self.faults.append(ChainFault("missing_v_number", rid, header, ""))

    def unmapped_code(self, n: int) -> None:
        header = self.use["code"]
        codes = self.values["unmapped_codes"][self.layout.raw["kind"]]
        for k, base in enumerate(self._bases(n)):
            rid = self._extra(int(base), ROLE_QUARANTINE)
            self.overrides.append(Override(rid, header, "set", codes[k % len(codes)]))
            self.faults.append(ChainFault("unmapped_code", rid, header, ""))

    def _date_before(self, fault_type: str, n: int, later: str, earlier: str) -> None:
        has = self.records[later].notna().to_numpy()
        for base in self._bases(n, has):
            row = self.records.loc[self.records["_rid"] == base].iloc[0]
            wrong = row[earlier] - pd.Timedelta(days=int(self.rng.integers(10, 300)))
            rid = self._extra(int(base), ROLE_QUARANTINE, **{later: wrong})
            self.faults.append(ChainFault(fault_type, rid, self._cell(later), ""))

    def decision_before_application(self, n: int) -> None:
        self._date_before("decision_before_application", n, "decision_date", "application_date")

    def end_before_start(self, n: int) -> None:
        self._date_before("end_before_start", n, "end_date", "start_date")

    def exact_duplicate(self, n: int) -> None:
        for base in self._bases(n):
            rid = self._extra(int(base), ROLE_MERGE)
            self.records.loc[self.records["_rid"] == rid, "_copy_of"] = int(base)
            self.faults.append(ChainFault("exact_duplicate", rid, "", ""))

    def v_number_separators(self, n: int) -> None:
        header, sep = self.use["v_number"], str(self.layout.raw.get("separator", "."))
        has = self.records["v_number"].notna().to_numpy()
        for base in self._bases(n, has):
            v = str(self.records.loc[self.records["_rid"] == base, "v_number"].iloc[0])
            self.overrides.append(Override(int(base), header, "set", f"{v[:4]}{sep}{v[4:7]}{sep}{v[7:]}"))
            self.faults.append(ChainFault("v_number_separators", int(base), header, "[V-number]"))

    def trailing_whitespace(self, n: int) -> None:
        header = self.use["whitespace"]
        field = next(c.field for c in self.layout.columns if c.header == header)
        has = self.records[field].notna().to_numpy()
        for base in self._bases(n, has):
            self.overrides.append(Override(int(base), header, "pad_right", " "))
            self.faults.append(ChainFault("trailing_whitespace", int(base), header, ""))


# --------------------------------------------------------------------------- placing and encoding


def file_order(records: pd.DataFrame, order_by: list[str]) -> pd.DataFrame:
    """Rows as the register sorts them; every extra row right after the row it copies."""
    base = records[records["_anchor"] < 0].sort_values([*order_by, "_rid"], kind="stable", na_position="last")
    rank = pd.Series(np.arange(len(base)), index=base["_rid"].to_numpy())
    anchor = records["_anchor"].where(records["_anchor"] >= 0, records["_rid"])
    out = records.assign(_rank=rank.reindex(anchor.to_numpy()).to_numpy(), _extra=(records["_anchor"] >= 0).astype(int))
    return out.sort_values(["_rank", "_extra", "_rid"], kind="stable").reset_index(drop=True)


def encode_extract(records: pd.DataFrame, layout: Layout, seed: int, index: int) -> dict[str, EncodedColumn]:
    """Every column of one extract, encoded in the register's own codes and date formats."""
    return {
        col.header: encode_column(records[col.field], col, layout, np.random.default_rng([seed, CHAIN_STREAM, index, j]))
        for j, col in enumerate(layout.columns)
    }


def explanation_sheet(layout: Layout) -> RawSheet | None:
    """The sheet that explains the codes (IND), built from the layout's labels and descriptions."""
    spec = layout.raw.get("explanation_sheet")
    if not spec:
        return None
    rows: list[tuple[str, str, str]] = []
    for col in layout.columns:
        descriptions = col.options.get("descriptions") or {}
        for value, codes in (col.options.get("labels") or {}).items():
            if value in descriptions:
                rows.append((col.header, str(codes[0]), str(descriptions[value])))
        if col.options.get("missing_description"):
            rows.append((col.header, "", str(col.options["missing_description"])))
    cols = [EncodedColumn(np.array([r[j] for r in rows], dtype=object)) for j in range(3)]
    return RawSheet(spec["name"], list(spec["headers"]), cols)


@dataclass
class RenderedExtract:
    """One extract, encoded and placed, with its faults and row roles."""

    layout: Layout
    rel_path: str
    sheets: list[RawSheet]
    records: pd.DataFrame  # in file order, with source_row
    cells: dict[str, EncodedColumn]
    faults: list[ChainFault]


def render_extract(truth: ChainTruth, layout: Layout, seed: int, index: int, params: dict[str, Any]) -> RenderedExtract:
    """One register extract or crosswalk, with its ingest faults, in file order."""
    from lvv_eval.synth.render.deliveries import apply_copies, apply_overrides

    rng = np.random.default_rng([seed, CHAIN_STREAM, 50 + index])
    records = register_records(truth, layout, rng)
    injector = ExtractFaults(layout, records, dict((params.get("faults") or {}).get(layout.raw["kind"], {})),
                             dict(params.get("fault_values") or {}), rng)
    injector.run()
    records = file_order(injector.records, list(layout.raw.get("order_by", [])))
    pos = dict(zip(records["_rid"].tolist(), range(len(records)), strict=True))
    cells = encode_extract(records, layout, seed, index)
    apply_overrides(cells, injector.overrides, pos)
    apply_copies(cells, records, pos)
    headers = list(cells)
    sheet_name = (layout.raw.get("sheets") or {}).get("names", {}).get("all", "") if layout.format == "xlsx" else ""
    data = RawSheet(sheet_name, headers, [cells[h] for h in headers])
    records["source_row"] = np.arange(len(records)) + data.first_data_row
    records["sheet"] = sheet_name
    dates = {"extract": pd.Timestamp(truth.extract_date), "crosswalk": pd.Timestamp(truth.crosswalk_date)}
    rel = f"{layout.folder}/{layout.file_name.format(**dates)}"
    extra = explanation_sheet(layout)
    return RenderedExtract(layout, rel, [data] + ([extra] if extra else []), records, cells, injector.faults)


def write_extract(rendered: RenderedExtract, out_dir: Path) -> Path:
    """Write one rendered extract (Excel workbook or CSV file)."""
    path = out_dir / rendered.rel_path
    layout = rendered.layout
    if layout.format == "xlsx":
        write_workbook(path, rendered.sheets, f"{layout.raw['register']} extract (SYNTHETIC)")
    else:
        opts = layout.raw.get("csv", {})
        write_csv(path, rendered.sheets[0], opts.get("sep", ","), opts.get("encoding", "utf-8"),
                  opts.get("line_terminator", "\n"))
    return path


# --------------------------------------------------------------------------- answer key


def fault_table(rendered: list[RenderedExtract]) -> pd.DataFrame:
    """``chain_faults.csv``: every injected ingest fault with its file, row and rule."""
    rows = []
    for r in rendered:
        place = r.records.set_index("_rid")
        position = pd.Series(np.arange(len(r.records)), index=r.records["_rid"].to_numpy())
        for f in r.faults:
            i = int(position[f.rid])
            handling, rule = FAULT_RULES[f.fault_type]
            rows.append({"register": r.layout.raw["register"], "fault_type": f.fault_type,
                         "source_file": r.rel_path, "sheet": place.at[f.rid, "sheet"],
                         "source_row": int(place.at[f.rid, "source_row"]), "column": f.header,
                         "raw_value": r.cells[f.header].display(i) if f.header else "",
                         "true_value": f.true_value, "expected_handling": handling, "rule_id": rule})
    table = pd.DataFrame(rows, columns=[c for c in FAULT_COLUMNS if c != "fault_id"])
    table = table.sort_values(["source_file", "source_row", "fault_type"], kind="stable").reset_index(drop=True)
    table.insert(0, "fault_id", [f"CHN-{k:05d}" for k in range(1, len(table) + 1)])
    table.loc[table["fault_type"] == "v_number_separators", "raw_value"] = "[V-number with separators]"
    return table


def row_map(rendered: list[RenderedExtract]) -> pd.DataFrame:
    """``chain_row_map.csv``: the role of every raw data row of every extract."""
    return pd.concat([pd.DataFrame({
        "register": r.layout.raw["register"], "source_file": r.rel_path, "sheet": r.records["sheet"],
        "source_row": r.records["source_row"], "role": r.records["_role"],
    }) for r in rendered], ignore_index=True)


def located_discrepancies(truth: ChainTruth, rendered: list[RenderedExtract]) -> pd.DataFrame:
    """The deliberate discrepancies with the file, sheet and row of the record that shows each."""
    out = truth.discrepancies.copy()
    if out.empty:
        return out
    out["source_file"], out["sheet"], out["source_row"] = "", "", pd.array([pd.NA] * len(out), dtype="Int64")
    for r in rendered:
        kind = r.layout.raw["kind"]
        rows = r.records[r.records["_role"] == ROLE_RECORD]
        if kind == "crosswalk":
            by_person = rows.set_index("person_id")
            hit = (out["record_table"] == "crosswalk") & out["person_id"].isin(by_person.index)
            keys = out.loc[hit, "person_id"]
        else:
            by_person = rows.set_index("_rid")
            hit = (out["record_table"] == kind) & out["record"].isin(by_person.index)
            keys = out.loc[hit, "record"]
        out.loc[hit, "source_file"] = r.rel_path
        out.loc[hit, "sheet"] = by_person.loc[keys.to_numpy(), "sheet"].to_numpy()
        out.loc[hit, "source_row"] = by_person.loc[keys.to_numpy(), "source_row"].astype("int64").to_numpy()
    out.insert(0, "discrepancy_id", [f"DIS-{k:05d}" for k in range(1, len(out) + 1)])
    return out.drop(columns=["record_table", "record"])


def expected_linkage(truth: ChainTruth) -> pd.DataFrame:
    """``chain_linkage.csv``: per pilot and register, persons and stays, and how many link."""
    s = truth.stays
    parts = []
    for register, col in (("IND", "linked_ind"), ("DTV", "linked_dtv"), ("any", None)):
        linked = s["linked_ind"] | s["linked_dtv"] if col is None else s[col]
        frame = s.assign(linked=linked.to_numpy())
        persons = frame.groupby(["pilot", "person_id"])["linked"].max().groupby("pilot").agg(["size", "sum"])
        stays = frame.groupby("pilot")["linked"].agg(["size", "sum"])
        parts.append(pd.DataFrame({
            "pilot": persons.index, "register": register, "persons": persons["size"].to_numpy(),
            "linked_persons": persons["sum"].astype(int).to_numpy(), "stays": stays["size"].to_numpy(),
            "linked_stays": stays["sum"].astype(int).to_numpy(),
        }))
    return pd.concat(parts, ignore_index=True)


@dataclass
class ChainWritten:
    """What :func:`write_chain_extracts` wrote: the truth, and per file (path, sha256, rows, kind)."""

    truth: ChainTruth
    files: list[tuple[str, str, int, str, str]]


def write_chain_answer_key(truth: ChainTruth, rendered: list[RenderedExtract], out_dir: Path) -> list[tuple[str, str, int, str, str]]:
    """Write the chain part of the answer key; returns the written files."""
    key = out_dir / ANSWER_KEY_DIR
    key.mkdir(parents=True, exist_ok=True)
    tables: dict[str, pd.DataFrame] = {
        "chain_stays.csv": truth.stays, "chain_discrepancies.csv": located_discrepancies(truth, rendered),
        "chain_only.csv": truth.chain_only, "chain_linkage.csv": expected_linkage(truth),
        "chain_faults.csv": fault_table(rendered), "chain_row_map.csv": row_map(rendered),
    }
    written = []
    for name, table in tables.items():
        table.to_csv(key / name, index=False, lineterminator="\n")
        written.append((f"{ANSWER_KEY_DIR}/{name}", sha256_of(key / name), len(table), "answer_key", ""))
    truth.people.to_parquet(key / "chain_people.parquet", index=False)
    written.append((f"{ANSWER_KEY_DIR}/chain_people.parquet", sha256_of(key / "chain_people.parquet"),
                    len(truth.people), "answer_key", ""))
    return written


def write_chain_extracts(cohort: Any, out_dir: Path, seed: int, *, layouts: list[Layout] | None = None,
                         params: dict[str, Any] | None = None) -> ChainWritten:
    """Draw the chain side of ``cohort`` and write its extracts, crosswalks and answer key."""
    params = params or load_chain_params()
    truth = draw_chain(cohort, seed, params)
    rendered = []
    for index, layout in enumerate(layouts if layouts is not None else load_chain_layouts()):
        if layout.raw["kind"] == "crosswalk" and layout.pilot not in truth.crosswalks:
            continue  # no client-number people of this pilot in the cohort
        rendered.append(render_extract(truth, layout, seed, index, params))
    files = []
    for r in rendered:
        path = write_extract(r, out_dir)
        kind = "crosswalk" if r.layout.raw["kind"] == "crosswalk" else "chain_extract"
        files.append((r.rel_path, sha256_of(path), len(r.records), kind, r.layout.pilot))
    files.extend(write_chain_answer_key(truth, rendered, out_dir))
    return ChainWritten(truth, files)
