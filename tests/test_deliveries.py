"""The five SYNTHETIC municipal deliveries: read back with plain pandas against the answer key."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lvv_eval.config import DEMO_PSEUDONYM_KEY, PILOTS
from lvv_eval.pseudonym import person_keys
from lvv_eval.schema import STAYS_COLUMNS
from lvv_eval.synth.calibrate import calibrated_cohort
from lvv_eval.synth.dgp import simulate_cohort
from lvv_eval.synth.render.deliveries import check_layout_covers_contract, write_deliveries
from lvv_eval.synth.render.encode import EncodedColumn
from lvv_eval.synth.render.layout import load_layouts
from lvv_eval.synth.render.writers import RawSheet, write_workbook

EXTRA_HANDLING = ("quarantine", "merge", "exclude_non_participant")
LAYOUTS = load_layouts()


def _key_cols(layout) -> tuple[str, str | None]:
    """Header of the source id and, for long format, of the event column."""
    if layout.format == "csv_long":
        return layout.raw["key_column"]["header"], layout.raw["event_column"]
    return layout.columns[0].header, None


def read_raw(folder: Path, source_file: str, sheet: str) -> pd.DataFrame:
    """A delivery sheet or CSV read with plain pandas, every cell as the reader sees it (no header)."""
    path = folder / source_file
    if path.suffix == ".xlsx":
        frame = pd.read_excel(path, sheet_name=sheet, header=None, engine="calamine")
    else:
        layout = next(lay for lay in LAYOUTS.values() if source_file.startswith(lay.folder + "/"))
        opts = layout.raw["csv"]
        frame = pd.read_csv(path, sep=opts["sep"], encoding=opts["encoding"], header=None, dtype=str,
                            keep_default_na=False)
    return frame.map(normalise)


def normalise(value: object) -> str:
    """Cell value as text: whole floats without '.0', dates as ISO, empty cells as ''."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def header_row(frame: pd.DataFrame, key_header: str) -> int:
    """0-based index of the header row (below any title block)."""
    hits = np.flatnonzero(frame.iloc[:, 0].to_numpy() == key_header)
    assert len(hits) == 1, f"header {key_header!r} not found once"
    return int(hits[0])


class Delivery:
    """A written delivery folder with its answer key, read once."""

    def __init__(self, folder: Path, cohort, manifest) -> None:
        self.folder, self.cohort, self.manifest = folder, cohort, manifest
        self.faults = pd.read_csv(folder / "_answer_key" / "faults.csv", dtype=str, keep_default_na=False)
        self.row_map = pd.read_csv(folder / "_answer_key" / "row_map.csv", dtype={"sheet": str, "stay_id": str},
                                   keep_default_na=False)
        self._cache: dict[tuple[str, str], pd.DataFrame] = {}

    def raw(self, source_file: str, sheet: str) -> pd.DataFrame:
        key = (source_file, sheet)
        if key not in self._cache:
            self._cache[key] = read_raw(self.folder, source_file, sheet)
        return self._cache[key]

    def tables(self, pilot: str) -> list[tuple[str, str]]:
        rows = self.row_map[self.row_map["source_file"].str.startswith(LAYOUTS[pilot].folder + "/")]
        return sorted(set(zip(rows["source_file"], rows["sheet"], strict=True)))


def _write(cohort, folder: Path, seed: int, **kw) -> Delivery:
    manifest = write_deliveries(cohort, folder, seed=seed, **kw)
    return Delivery(folder, cohort, manifest)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Delivery:
    return _write(simulate_cohort(1500, seed=11), tmp_path_factory.mktemp("small"), seed=4)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> Delivery:
    return _write(calibrated_cohort(), tmp_path_factory.mktemp("calibrated"), seed=20191)


@pytest.fixture(params=["small", "calibrated"])
def delivery(request) -> Delivery:
    return request.getfixturevalue(request.param)


def test_readme_says_synthetic(delivery: Delivery) -> None:
    text = (delivery.folder / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in text.splitlines()[0]
    assert f"seed {delivery.manifest.seed}" in text


@pytest.mark.parametrize("pilot", PILOTS)
def test_stays_recovered_once_extra_rows_are_accounted(delivery: Delivery, pilot: str) -> None:
    """Raw data rows (intakes for an event log) minus the answer key's extra rows = truth stays."""
    layout = LAYOUTS[pilot]
    key_header, event_header = _key_cols(layout)
    n_rows, ids = 0, []
    for source_file, sheet in delivery.tables(pilot):
        frame = delivery.raw(source_file, sheet)
        top = header_row(frame, key_header)
        data = frame.iloc[top + 1 :]
        data.columns = frame.iloc[top].tolist()
        if event_header is not None:
            data = data[data[event_header] == layout.events[0].label]
        n_rows += len(data)
        ids.append(data[key_header])
    extra = delivery.faults[(delivery.faults["pilot"] == pilot)
                            & delivery.faults["expected_handling"].isin(EXTRA_HANDLING)]
    # one extra intake per extra fault row: in an event log an exit fault sits on the exit row of
    # an extra client whose (unfaulted) intake is the extra intake counted here
    n_extra = len(extra.drop_duplicates(["source_file", "sheet", "source_row"]))
    truth = delivery.cohort.stays
    assert n_rows - n_extra == int((truth["pilot"] == pilot).sum())
    # every truth person is in the delivery under the source id the pseudonym is made of
    raw_ids = pd.concat(ids)
    pids = set(person_keys(raw_ids.str.strip(), pd.Series(pilot, index=raw_ids.index), DEMO_PSEUDONYM_KEY.encode()))
    assert set(truth.loc[truth["pilot"] == pilot, "person_id"]) <= pids


def test_row_map_covers_every_raw_row(delivery: Delivery) -> None:
    for pilot in PILOTS:
        layout = LAYOUTS[pilot]
        for source_file, sheet in delivery.tables(pilot):
            frame = delivery.raw(source_file, sheet)
            top = header_row(frame, _key_cols(layout)[0])
            mapped = delivery.row_map[(delivery.row_map["source_file"] == source_file)
                                      & (delivery.row_map["sheet"] == sheet)]
            assert sorted(mapped["source_row"]) == list(range(top + 2, len(frame) + 1))
    roles = delivery.row_map["role"]
    assert set(roles) <= {"stay", "quarantine", "merge", "non_participant", "event"}
    stays = delivery.row_map.loc[roles == "stay", "stay_id"]
    assert sorted(stays) == sorted(delivery.cohort.stays["stay_id"])


def test_every_fault_is_in_the_file_as_stated(delivery: Delivery) -> None:
    faults = delivery.faults
    assert len(faults) > 0 and faults["fault_id"].is_unique
    for f in faults.itertuples():
        frame = delivery.raw(f.source_file, f.sheet)
        layout = next(lay for lay in LAYOUTS.values() if lay.pilot == f.pilot)
        top = header_row(frame, _key_cols(layout)[0])
        headers = frame.iloc[top].tolist()
        row = frame.iloc[int(f.source_row) - 1]
        if f.column:
            assert row.iloc[headers.index(f.column)] == f.raw_value, f
        else:  # a whole-row copy: identical to the row above it
            assert f.fault_type == "exact_duplicate"
            assert row.tolist() == frame.iloc[int(f.source_row) - 2].tolist(), f


def test_fault_types_and_rules_per_pilot(calibrated: Delivery) -> None:
    counts = calibrated.faults.groupby(["pilot", "fault_type"]).size()
    for pilot, layout in LAYOUTS.items():
        for fault_type, wanted in layout.faults.items():
            if wanted != "all":
                assert 1 <= counts.get((pilot, fault_type), 0) <= int(wanted), (pilot, fault_type)
    assert counts[("Eindhoven", "non_participant")] == len(calibrated.cohort.non_participants)
    assert counts[("Rotterdam", "sentinel_unknown")] > 0
    assert counts[("Utrecht", "old_definition_label")] > 0
    rules = calibrated.faults.groupby("fault_type")["rule_id"].unique()
    assert all(len(r) == 1 for r in rules)


def test_repaired_faults_sit_on_truth_stays(calibrated: Delivery) -> None:
    repaired = calibrated.faults[calibrated.faults["expected_handling"].isin(["repair", "recode"])]
    assert set(repaired["stay_id"]) <= set(calibrated.cohort.stays["stay_id"])
    swaps = calibrated.faults[calibrated.faults["fault_type"] == "daymonth_swapped_exit"]
    truth = calibrated.cohort.stays.set_index("stay_id")
    for f in swaps.itertuples():
        exit_true = truth.at[f.stay_id, "exit_date"]
        assert f.true_value == exit_true.strftime("%Y-%m-%d")
        assert exit_true.day <= 12 and exit_true.day != exit_true.month


def sha256s(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_files(small: Delivery, tmp_path: Path) -> None:
    again = write_deliveries(small.cohort, tmp_path / "again", seed=small.manifest.seed)
    first, second = sha256s(small.folder), sha256s(tmp_path / "again")
    assert first == second
    assert {f.path: f.sha256 for f in again.files} == {k: v for k, v in first.items() if k in {f.path for f in again.files}}
    write_deliveries(small.cohort, tmp_path / "other", seed=small.manifest.seed + 1)
    other = sha256s(tmp_path / "other")
    for path, digest in first.items():
        if not path.startswith("_answer_key/truth") and "codeboek" not in path and path.endswith((".xlsx", ".csv")) \
                and not path.startswith("_answer_key/"):
            assert other[path] != digest, path


def test_every_layout_covers_the_contract_and_hides_the_hidden() -> None:
    for layout in LAYOUTS.values():
        check_layout_covers_contract(layout, STAYS_COLUMNS)
        fields = {c.field for c in layout.all_columns()}
        assert "medical" not in fields


def test_huge_sheets_split_instead_of_failing(tmp_path: Path) -> None:
    cohort = simulate_cohort(400, seed=2)
    delivery = _write(cohort, tmp_path, seed=1, max_rows_per_sheet=40)
    ams = [t for t in delivery.tables("Amsterdam")]
    assert len(ams) > 2 and any(sheet.endswith("(2)") for _, sheet in ams)
    for pilot in ("Amsterdam", "Utrecht", "Eindhoven"):
        for source_file, sheet in delivery.tables(pilot):
            assert len(delivery.raw(source_file, sheet)) <= 40
    test_stays_recovered_once_extra_rows_are_accounted(delivery, "Utrecht")
    test_every_fault_is_in_the_file_as_stated(delivery)


def test_prepared_row_writer_reads_back_like_plain_values(tmp_path: Path) -> None:
    values = [["a & <b>", 3, None, 43831, " lead", "trail  "], ["Eritreë", -99, "x", None, "", "é"]]
    cols = [EncodedColumn(np.array([r[j] for r in values], dtype=object)) for j in range(6)]
    cols[3].date_cells = np.array([True, False])
    sheet = RawSheet("Blad1", [f"h{j}" for j in range(6)], cols, title=["Titel", ""])
    write_workbook(tmp_path / "t.xlsx", [sheet], "test")
    back = pd.read_excel(tmp_path / "t.xlsx", header=None, engine="calamine")
    assert back.iloc[2].tolist() == [f"h{j}" for j in range(6)]
    assert [normalise(v) for v in back.iloc[3]] == ["a & <b>", "3", "", "2020-01-01", " lead", "trail  "]
    assert [normalise(v) for v in back.iloc[4]] == ["Eritreë", "-99", "x", "", "", "é"]
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    assert ws["D4"].is_date and ws["A4"].value == "a & <b>" and ws.max_row == 5


# --------------------------------------------------------------------------- round trip
# Decoding with the renderer's own vocabularies (the layout YAMLs) must give back the truth on
# every real row, cell for cell, except the cells the answer key lists as faults.

DATE_TEXT_FORMATS = ("%d-%m-%Y", "%Y-%m-%d")


def _inverse_labels(options: dict) -> dict[str, str]:
    inverse = {}
    for value, labels in options.items():
        for label in labels if isinstance(labels, list) else [labels]:
            inverse[str(label)] = value
    return inverse


def _parse_date(text: str, layout) -> pd.Timestamp:
    if text == "":
        return pd.NaT
    if text.lstrip("-").isdigit():  # a bare Excel serial
        return pd.Timestamp("1899-12-30") + pd.Timedelta(days=int(text))
    for fmt in DATE_TEXT_FORMATS:
        try:
            return pd.Timestamp(dt.datetime.strptime(text, fmt))
        except ValueError:
            pass
    day, month, year = text.split(" ")
    return pd.Timestamp(int(year), layout.raw["month_names"].index(month) + 1, int(day))


def decode_cell(text: str, col, layout):
    """One raw cell back to its contract value, using only the layout's vocabulary."""
    text = text.strip()
    opts = col.options
    missing = str(opts.get("missing", ""))
    if col.encode == "text":
        return text
    if col.encode == "date":
        return _parse_date(text, layout)
    if text == "" or (opts.get("sentinel") and text == missing):
        return None
    if col.encode in ("int", "year"):
        return int(text)
    if col.encode == "label":
        return _inverse_labels(opts["labels"])[text]
    if col.encode == "bool":
        if text == missing:
            return None
        return {**dict.fromkeys(_inverse_labels({"t": opts["true"]}), True),
                **dict.fromkeys(_inverse_labels({"f": opts["false"]}), False)}[text]
    if col.encode == "country":
        from lvv_eval.synth.render.layout import country_spellings

        return _inverse_labels(country_spellings(opts["language"])).get(text) if text != missing else None
    if col.encode == "code":
        from lvv_eval.synth.render.encode import codebook_for

        book = codebook_for(layout, opts["codebook"])
        return {str(e["code"]): e["value"] for e in book["entries"]}[text]
    raise AssertionError(col.encode)


def _same(decoded, truth) -> bool:
    if truth is None or (not isinstance(truth, str) and pd.isna(truth)):
        return decoded is None or (not isinstance(decoded, str) and pd.isna(decoded))
    if isinstance(truth, pd.Timestamp):
        return decoded == truth
    return decoded == truth or str(decoded) == str(truth)


def _age(born: pd.Timestamp, at: pd.Timestamp) -> int:
    return at.year - born.year - int((at.month, at.day) < (born.month, born.day))


@pytest.mark.parametrize("pilot", [p for p in PILOTS if LAYOUTS[p].format != "csv_long"])
def test_wide_delivery_decodes_back_to_the_truth(calibrated: Delivery, pilot: str) -> None:
    layout = LAYOUTS[pilot]
    truth = calibrated.cohort.stays.set_index("stay_id")
    hidden = calibrated.cohort.hidden.set_index("stay_id")
    faulted = calibrated.faults[calibrated.faults["pilot"] == pilot]
    skip_cells = set(zip(faulted["source_file"], faulted["sheet"], faulted["source_row"].astype(int),
                         faulted["column"], strict=True))
    shifted = set(faulted.loc[faulted["fault_type"] == "cross_sheet_duplicate", "stay_id"])
    sheet_groups = {name: key for key, name in layout.sheets["names"].items()}
    rows = calibrated.row_map[(calibrated.row_map["role"] == "stay")
                              & calibrated.row_map["source_file"].str.startswith(layout.folder + "/")]
    checked = 0
    for (source_file, sheet), part in rows.groupby(["source_file", "sheet"]):
        frame = calibrated.raw(source_file, sheet)
        top = header_row(frame, layout.columns[0].header)
        headers = frame.iloc[top].tolist()
        for source_row, stay_id in zip(part["source_row"], part["stay_id"], strict=True):
            cells = frame.iloc[source_row - 1]
            t = truth.loc[stay_id]
            if "by" in layout.sheets:
                assert sheet_groups[sheet.split(" (")[0]] == t[layout.sheets["by"]]
            for col in layout.columns:
                if (source_file, sheet, source_row, col.header) in skip_cells:
                    continue
                value = decode_cell(cells.iloc[headers.index(col.header)], col, layout)
                if col.field == "birth_date":
                    if col.encode == "year":
                        age = None if value is None else t["admission_date"].year - value
                        assert (age is None and pd.isna(t["age_at_admission"])) or \
                            age - 1 <= t["age_at_admission"] <= age, (stay_id, age)
                    else:
                        age = None if pd.isna(value) else _age(value, t["admission_date"])
                        assert _same(age, t["age_at_admission"]), (stay_id, value)
                        assert pd.isna(value) or value == hidden.at[stay_id, "birth_date"]
                elif col.field == "source_id":
                    assert value == hidden.at[stay_id, "source_id"]
                elif col.field in ("modified_date", "former_bbb", "participant", "dublin_claimant"):
                    continue
                elif col.field == "admission_date" and stay_id in shifted:
                    assert value > t["admission_date"]
                else:
                    assert _same(value, t[col.field]), (pilot, stay_id, col.header, value, t[col.field])
            checked += 1
    assert checked == int((calibrated.cohort.stays["pilot"] == pilot).sum())


def test_event_log_folds_back_to_the_truth(calibrated: Delivery) -> None:
    """Groningen: intake, scenario, MRT and exit events of each stay give back its truth values."""
    layout = next(lay for lay in LAYOUTS.values() if lay.format == "csv_long")
    raw = layout.raw
    truth = calibrated.cohort.stays.set_index("stay_id")
    faulted = calibrated.faults[calibrated.faults["pilot"] == layout.pilot]
    skip = set(zip(faulted["source_row"].astype(int), faulted["column"], strict=True))
    rows = calibrated.row_map[calibrated.row_map["source_file"].str.startswith(layout.folder + "/")
                              & calibrated.row_map["role"].isin(["stay", "event"])]
    (source_file,) = rows["source_file"].unique()
    frame = calibrated.raw(source_file, "")
    headers = frame.iloc[0].tolist()
    events = {ev.label: ev for ev in layout.events}
    date_col = ColumnSpecLike(raw["date_column"])
    seen: dict[str, set[str]] = {}
    for source_row, stay_id in zip(rows["source_row"], rows["stay_id"], strict=True):
        cells = frame.iloc[source_row - 1]
        t = truth.loc[stay_id]
        ev = events[cells.iloc[headers.index(raw["event_column"])]]
        seen.setdefault(stay_id, set()).add(ev.name)
        if (source_row, raw["date_column"]["header"]) not in skip:
            when = decode_cell(cells.iloc[headers.index(date_col.header)], date_col, layout)
            assert when == t[ev.date_field], (stay_id, ev.name)
        for col in ev.columns:
            if (source_row, col.header) in skip:
                continue
            value = decode_cell(cells.iloc[headers.index(col.header)], col, layout)
            if col.field == "birth_date":
                age = None if pd.isna(value) else _age(value, t["admission_date"])
                assert _same(age, t["age_at_admission"]), stay_id
            else:
                assert _same(value, t[col.field]), (stay_id, col.header, value, t[col.field])
    mine = truth[truth["pilot"] == layout.pilot]
    assert set(seen) == set(mine.index)
    for stay_id, t in mine.iterrows():
        assert ("exit" in seen[stay_id]) == pd.notna(t["exit_date"])
        assert ("scenario" in seen[stay_id]) == pd.notna(t["scenario"])
        assert ("mrt" in seen[stay_id]) == bool(t["mrt_referred"])


class ColumnSpecLike:
    """A layout's date column written as a plain mapping, seen as a column spec."""

    def __init__(self, spec: dict) -> None:
        self.header, self.encode, self.field = spec["header"], spec["encode"], "event_date"
        self.options = {k: v for k, v in spec.items() if k not in ("header", "encode")}


def test_same_bytes_in_another_process_and_time_zone(small: Delivery, tmp_path: Path) -> None:
    """No dependence on hash randomisation, the clock or the time zone (Excel zip entries included)."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from lvv_eval.synth.dgp import simulate_cohort; "
        "from lvv_eval.synth.render.deliveries import write_deliveries; "
        "write_deliveries(simulate_cohort(1500, seed=11), Path(sys.argv[1]), seed=4)"
    )
    env = os.environ | {"PYTHONHASHSEED": "12345", "TZ": "America/New_York"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "p")], check=True, env=env)
    assert sha256s(tmp_path / "p") == sha256s(small.folder)


def test_rotterdam_is_windows_1252(small: Delivery) -> None:
    layout = LAYOUTS["Rotterdam"]
    (source_file,) = {f for f, _ in small.tables("Rotterdam")}
    data = (small.folder / source_file).read_bytes()
    assert layout.raw["csv"]["encoding"] == "cp1252" and "ë".encode("cp1252") in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("cp1252").splitlines()[0].startswith("Cliëntnummer;")


def test_unencodable_value_names_file_line_and_column(tmp_path: Path) -> None:
    from lvv_eval.synth.render.writers import write_csv

    sheet = RawSheet("", ["Naam", "Land"], [EncodedColumn(np.array(["a", "b"], dtype=object)),
                                            EncodedColumn(np.array(["Eritreë", "Türkiye ☃"], dtype=object))])
    with pytest.raises(ValueError, match=r"x\.csv, line 3, column 'Land'"):
        write_csv(tmp_path / "x.csv", sheet, ";", "cp1252", "\r\n")


def test_truth_a_layout_cannot_show_is_refused(tmp_path: Path) -> None:
    """Rotterdam's layout implies one registration group; a pre-LSO stay there is an error, not lost."""
    from lvv_eval.synth.render.layout import LayoutError

    cohort = simulate_cohort(300, seed=3)
    rotterdam = cohort.stays.index[cohort.stays["pilot"] == "Rotterdam"][0]
    cohort.stays.loc[rotterdam, "registration_group"] = "pre_lso"
    with pytest.raises(LayoutError, match=r"rotterdam\.yaml: the layout implies registration_group=official"):
        write_deliveries(cohort, tmp_path, seed=1)


def test_event_log_extra_clients_are_one_fault_on_all_their_rows(delivery: Delivery) -> None:
    """In an event log a quarantined fault is an extra client: faults.csv lists the one faulty
    row (an exit dated before the intake, an unmapped exit label, ...), row_map lists every row of
    that client as 'quarantine', and the client has an intake."""
    layout = next(lay for lay in LAYOUTS.values() if lay.format == "csv_long")
    key_header, event_header = _key_cols(layout)
    rows = delivery.row_map[delivery.row_map["source_file"].str.startswith(layout.folder + "/")]
    (source_file,) = rows["source_file"].unique()
    frame = delivery.raw(source_file, "")
    data = frame.iloc[1:].set_axis(frame.iloc[0].tolist(), axis=1)
    data.index = range(2, len(frame) + 1)  # source rows
    role = rows.set_index("source_row")["role"].reindex(data.index)
    faults = delivery.faults[(delivery.faults["pilot"] == layout.pilot)
                             & (delivery.faults["expected_handling"] == "quarantine")]
    fault_clients = data.loc[faults["source_row"].astype(int), key_header]
    assert fault_clients.is_unique  # one fault per extra client
    quarantined = data[role == "quarantine"]
    assert set(quarantined[key_header]) == set(fault_clients)
    assert (quarantined.groupby(key_header)[event_header].apply(
        lambda e: (e == layout.events[0].label).sum()) == 1).all()
    assert (data.loc[data[key_header].isin(set(fault_clients)), key_header].index.isin(quarantined.index)).all()
    if layout.faults.get("exit_before_admission"):
        exits = faults[faults["fault_type"].isin(["exit_before_admission", "unmapped_exit_label"])]
        assert len(exits) > 0 and (data.loc[exits["source_row"].astype(int), event_header] == layout.events[-1].label).all()
