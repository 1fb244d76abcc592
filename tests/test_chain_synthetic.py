"""Chain extracts on the SYNTHETIC default, checked against the generator's chain answer key.

The generator (lvv_eval.synth.chain) states per stay what a correct linkage and reconciliation
must find, from its own intent (which stays got which discrepancy); ingest and the linkage never
read the answer key. Checked here: every chain fault is handled as stated, every deliberate
discrepancy is found and classified, the linkage equals the answer key's, no V-number reaches
any output, a new extract layout is one YAML file, and the municipal deliveries do not move.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from lvv_eval.cli import main as cli_main
from lvv_eval.config import DEMO_PSEUDONYM_KEY
from lvv_eval.ingest.chain.pipeline import ingest_chain
from lvv_eval.ingest.chain.spec import CHAIN_SOURCES_DIR
from lvv_eval.ingest.errors import SpecError
from lvv_eval.ingest.pipeline import run_ingest
from lvv_eval.linkage import load_chain_data, reconcile_chain
from lvv_eval.linkage.outcomes import apply_chain_choices
from lvv_eval.measures.chain_choices import ChainVerification
from lvv_eval.pseudonym import v_keys
from lvv_eval.synth.calibrate import calibrated_cohort
from lvv_eval.synth.render.deliveries import write_deliveries

KEY = DEMO_PSEUDONYM_KEY.encode()


@pytest.fixture(scope="module")
def cohort():
    return calibrated_cohort()


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory, cohort) -> Path:
    out = tmp_path_factory.mktemp("raw") / "synthetic"
    write_deliveries(cohort, out, seed=cohort.seed, chain=True)
    return out


@pytest.fixture(scope="module")
def result(raw_dir, tmp_path_factory):
    return run_ingest(raw_dir, tmp_path_factory.mktemp("clean") / "data_clean", progress=False)


@pytest.fixture(scope="module")
def rec(result):
    return reconcile_chain(result.stays, load_chain_data(result.out_dir))


def _key(raw_dir: Path, name: str) -> pd.DataFrame:
    folder = raw_dir / "_answer_key"
    if name.endswith(".parquet"):
        return pd.read_parquet(folder / name)
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


# ---- synth --------------------------------------------------------------------------------------


def _hashes(folder: Path, skip: tuple[str, ...]) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.relative_to(folder).as_posix().startswith(skip)}


def test_municipal_deliveries_are_the_same_bytes_with_the_chain(raw_dir, cohort, tmp_path):
    plain = tmp_path / "plain"
    write_deliveries(cohort, plain, seed=cohort.seed, chain=False)
    # SYNTHETIC.json lists the hash of every file written, the chain's too
    skip = ("_answer_key/delivery_manifest", "_answer_key/chain_", "README", "chain/", "SYNTHETIC.json")
    with_chain = {k: v for k, v in _hashes(raw_dir, skip).items() if "oppel" not in k}
    assert _hashes(plain, skip) == with_chain
    assert any(k.startswith("amsterdam/") for k in with_chain) and "_answer_key/truth_stays.parquet" in with_chain


def test_every_chain_discrepancy_is_in_the_file_as_stated(raw_dir):
    found = _key(raw_dir, "chain_discrepancies.csv")
    people = _key(raw_dir, "chain_people.parquet").set_index("person_id")
    assert set(found["discrepancy_type"]) >= {
        "departure_not_verified", "verified_departure_after_mob", "permit_weeks_after_exit",
        "crosswalk_v_number_typo", "crosswalk_v_number_unknown", "dtv_v_number_typo", "prior_procedures_far_off"}
    for d in found[found["source_file"] != ""].itertuples():
        path = raw_dir / d.source_file
        frame = (pd.read_excel(path, sheet_name=d.sheet, dtype=str, engine="calamine") if path.suffix == ".xlsx"
                 else pd.read_csv(path, sep=";", dtype=str, encoding="cp1252" if "rotterdam" in d.source_file
                                  else "utf-8", keep_default_na=False))
        row = frame.iloc[int(d.source_row) - 2]
        v_cell = next(str(row[c]) for c in frame.columns if c.upper().replace("-", "") == "VNUMMER")
        if d.discrepancy_type == "dtv_v_number_typo":
            assert v_cell != d.v_number and sorted(v_cell) == sorted(d.v_number)
        elif d.discrepancy_type == "crosswalk_v_number_typo":
            assert v_cell != d.v_number and sorted(v_cell) == sorted(d.v_number)
            assert row.iloc[0] == people.at[d.person_id, "source_id"]
        elif d.discrepancy_type == "crosswalk_v_number_unknown":
            assert v_cell in ("", "nan") and row.iloc[0] == people.at[d.person_id, "source_id"]
        else:
            assert v_cell == d.v_number, d


def test_chain_row_map_covers_every_raw_row(raw_dir):
    rows = _key(raw_dir, "chain_row_map.csv")
    for (source_file, sheet), part in rows.groupby(["source_file", "sheet"]):
        path = raw_dir / source_file
        n = (len(pd.read_excel(path, sheet_name=sheet, engine="calamine")) if path.suffix == ".xlsx"
             else sum(1 for _ in path.open("rb")) - 1)
        assert sorted(part["source_row"].astype(int)) == list(range(2, n + 2))
    assert set(rows["role"]) == {"record", "quarantine", "merge"}


# ---- ingest -------------------------------------------------------------------------------------


def test_every_chain_fault_is_handled_as_stated(raw_dir, result):
    faults = _key(raw_dir, "chain_faults.csv")
    chain = result.chain
    q = chain.quarantine.groupby(["source_file", "source_row"])["rule_id"].first()
    changes = chain.changes
    for f in faults.itertuples():
        at = (f.source_file, int(f.source_row))
        if f.expected_handling == "quarantine":
            assert q.get(at) == f.rule_id, f
        else:
            hit = changes[(changes["source_file"] == f.source_file) & (changes["source_row"] == int(f.source_row))]
            assert f.rule_id in set(hit["rule_id"]), f
    assert len(chain.quarantine) == (faults["expected_handling"] == "quarantine").sum()
    assert (changes["rule_id"] == "M_EXACT_DUPLICATE").sum() == (faults["fault_type"] == "exact_duplicate").sum()


def test_chain_row_accounting_closes_and_matches_the_row_map(raw_dir, result):
    chain = result.manifest["chain"]
    assert chain["row_accounting_closes"] and chain["delivered"] and not chain["absent"]
    roles = _key(raw_dir, "chain_row_map.csv").groupby(["source_file", "role"]).size().unstack(fill_value=0)
    acc = pd.DataFrame(chain["row_accounting"]).set_index("file")
    names = {"record": "records", "quarantine": "quarantined", "merge": "merged"}
    for role, col in names.items():
        assert acc[col].to_dict() == roles[role].reindex(acc.index, fill_value=0).to_dict(), role


def test_person_links_come_from_deliveries_and_crosswalks(result):
    links = result.person_links
    assert links["person_id"].is_unique and set(result.stays["person_id"]) <= set(links["person_id"])
    sources = links.groupby("pilot", observed=True)["link_source"].first().astype(str).to_dict()
    assert sources == {"Amsterdam": "delivery", "Eindhoven": "delivery", "Utrecht": "delivery",
                       "Groningen": "crosswalk", "Rotterdam": "crosswalk"}


# ---- linkage and reconciliation -----------------------------------------------------------------


def test_linkage_rates_equal_the_answer_key(raw_dir, rec):
    expected = _key(raw_dir, "chain_linkage.csv").astype(
        {"persons": int, "linked_persons": int, "stays": int, "linked_stays": int})
    mine = rec.linkage.astype({"pilot": str, "register": str})
    both = expected.merge(mine, on=["pilot", "register"], suffixes=("_key", ""))
    assert len(both) == len(expected) == 15
    for col in ("persons", "linked_persons", "stays", "linked_stays"):
        assert (both[f"{col}_key"] == both[col]).all(), col
    assert (rec.linkage["linked_persons"] < rec.linkage["persons"]).any()  # the default has unlinked people


def test_every_stay_gets_the_expected_class_rule_and_chain_outcome(raw_dir, rec):
    expected = _key(raw_dir, "chain_stays.csv").set_index("stay_id")
    got = rec.agreement.set_index("stay_id")
    with_exit = expected[expected["expected_class"] != ""]
    assert sorted(got.index) == sorted(with_exit.index)
    got = got.loc[with_exit.index]
    assert (got["agreement"].astype(str) == with_exit["expected_class"]).all()
    assert (got["rule_id"] == with_exit["expected_rule_id"]).all()
    assert (got["chain_exit_reason"].astype(object).fillna("") == with_exit["expected_chain_exit_reason"]).all()
    assert set(with_exit["expected_class"]) == {"confirmed", "contradicted", "timing_difference", "not_in_chain",
                                                "unlinked", "not_checkable"}


def test_every_discrepancy_in_the_answer_key_is_listed_with_its_rule(raw_dir, rec):
    listed = rec.discrepancies
    stay_level = set(zip(listed["rule_id"], listed["stay_id"].fillna(""), strict=True))
    person_level = set(zip(listed["rule_id"], listed["person_id"].fillna(""), strict=True))
    for d in _key(raw_dir, "chain_discrepancies.csv").itertuples():
        if d.level == "stay":
            assert (d.rule_id, d.stay_id) in stay_level, d
        else:
            assert (d.rule_id, d.person_id) in person_level, d


def test_chain_only_records_equal_the_answer_key(raw_dir, rec):
    expected = _key(raw_dir, "chain_only.csv")
    expected["v_key"] = v_keys(expected["v_number"], KEY)
    assert set(zip(expected["register"], expected["v_key"], strict=True)) == set(
        zip(rec.chain_only["register"], rec.chain_only["v_key"], strict=True))
    counts = expected.groupby(["register", "v_key"])["records"].apply(lambda s: s.astype(int).sum())
    mine = rec.chain_only.set_index(["register", "v_key"])["records"]
    assert (counts.sort_index() == mine.reindex(counts.index)).all()
    assert set(expected["reason"]) == {"non_participant", "unknown", "no_v_number_in_crosswalk",
                                       "v_number_mistyped_in_crosswalk", "v_number_mistyped_in_register"}


def test_prior_procedures_equal_the_answer_key(raw_dir, rec):
    expected = _key(raw_dir, "chain_stays.csv").set_index("stay_id")["n_prior_dtv_expected"]
    got = rec.prior.set_index("stay_id")["n_prior_dtv"].astype(object).fillna("").astype(str)
    assert (got.reindex(expected.index) == expected).all()
    far = _key(raw_dir, "chain_discrepancies.csv")
    far = set(far.loc[far["discrepancy_type"] == "prior_procedures_far_off", "stay_id"])
    assert far and far <= set(rec.prior.loc[rec.prior["differs"], "stay_id"])


@pytest.mark.parametrize("source", ["chain", "both"])
def test_chain_verified_outcomes_follow_the_answer_key(raw_dir, result, rec, source):
    key = _key(raw_dir, "chain_stays.csv").set_index("stay_id")
    out = apply_chain_choices(result.stays, rec, ChainVerification(outcome_source=source)).set_index("stay_id")
    for sid, row in key[key["expected_class"] != ""].iterrows():
        klass, municipal, chain = row["expected_class"], row["exit_reason"], row["expected_chain_exit_reason"]
        if source == "chain":
            want = chain if klass in ("confirmed", "timing_difference", "contradicted") else (
                "other" if klass in ("not_in_chain", "unlinked") else (chain or municipal))
        else:
            want = "other" if klass in ("contradicted", "not_in_chain", "unlinked") else municipal
        assert out.at[sid, "exit_reason"] == want, (sid, klass)


# ---- no V-number leaves the ingest --------------------------------------------------------------


def _v_numbers(raw_dir: Path) -> set[str]:
    people = _key(raw_dir, "chain_people.parquet")
    only = _key(raw_dir, "chain_only.csv")
    found = set(people["v_number"]) | set(people["crosswalk_v"].dropna()) | set(only["v_number"])
    return {v for v in found if v}


def test_no_v_number_reaches_any_output(raw_dir, result, tmp_path, monkeypatch):
    monkeypatch.setenv("LVV_DATA_ROOT", str(tmp_path))
    reports = tmp_path / "reports"
    assert cli_main(["chain", "--clean-dir", str(result.out_dir), "--out", str(reports / "chain")]) == 0
    assert cli_main(["reproduce", "--stays", str(result.out_dir / "stays.parquet"), "--chain-verified", "chain",
                     "--publication", "ppe2019", "--out", str(reports / "reproduce.csv")]) == 0
    numbers = _v_numbers(raw_dir)
    assert len(numbers) > 2000
    review = tmp_path / "data_review"
    files = [p for folder in (result.out_dir, reports, review) for p in folder.rglob("*") if p.is_file()]
    assert {"chain_ind.parquet", "chain_dtv.parquet", "person_links.parquet", "discrepancies.csv"} <= {p.name for p in files}
    for path in files:
        blob = path.read_bytes()
        assert not [v for v in numbers if v.encode() in blob], path.name
        if path.suffix == ".parquet":  # and in the decoded cells, whatever the compression
            text = "\x1f".join(str(x) for x in pd.read_parquet(path).to_numpy().ravel())
            assert not [v for v in numbers if v in text], path.name


# ---- outputs: aggregates gated in reports/, microdata kept out of it ------------------------------


@pytest.fixture(scope="module")
def chain_root(result, tmp_path_factory):
    """A data root after `lvv-eval chain` on the SYNTHETIC default."""
    root = tmp_path_factory.mktemp("root")
    mp = pytest.MonkeyPatch()
    mp.setenv("LVV_DATA_ROOT", str(root))
    try:
        assert cli_main(["chain", "--clean-dir", str(result.out_dir), "--lang", "nl"]) == 0
    finally:
        mp.undo()
    return root


def test_chain_reports_are_gated_and_hold_no_microdata(chain_root):
    reports = chain_root / "reports" / "chain"
    record = json.loads((reports / "disclosure.json").read_text(encoding="utf-8"))
    recorded = {e["path"] for e in record["outputs"]}
    tables = sorted(p.name for p in reports.glob("*.csv") if not p.name.startswith("disclosure"))
    assert tables == ["chain_agreement_by_outcome.csv", "chain_agreement_by_pilot.csv", "chain_linkage.csv",
                      "chain_unlinked.csv"]
    assert set(tables) <= recorded
    assert not list(reports.glob("*.parquet")) and not (reports / "discrepancies.csv").exists()
    for name in tables:  # no count of people between 1 and 9 is shown
        table = pd.read_csv(reports / name, dtype=str)
        counts = [c for c in table.columns if c in {"persons", "stays", "verblijven", "personen",
                                                    "niet gekoppelde personen", "niet gekoppelde verblijven"}]
        shown = pd.to_numeric(table[counts].stack(), errors="coerce").dropna()
        assert not shown.between(1, 9).any(), name
    review = chain_root / "data_review" / "chain"
    assert {"discrepancies.csv", "agreement.parquet", "chain_only.csv"} <= {p.name for p in review.iterdir()}


def test_chain_outputs_keep_a_demo_root_synthetic(chain_root, monkeypatch):
    """After `chain` on SYNTHETIC data the root still counts as a demo root, so that a second
    `lvv-eval run` works (it refused when reports/chain was unmarked)."""
    from lvv_eval.dataroot import real_data_found

    assert real_data_found(chain_root) == []


# ---- a new layout is one YAML file --------------------------------------------------------------


def test_a_new_extract_layout_is_one_yaml_file(raw_dir, result, tmp_path):
    """DT&V sends its cases as an Excel sheet with Dutch headers, other codes and dd-mm-yyyy dates:
    one new YAML spec in place of the old one gives the same chain_dtv table."""
    raw = tmp_path / "raw"
    shutil.copytree(raw_dir, raw, ignore=shutil.ignore_patterns("DTV_*"))
    old = pd.read_csv(next((raw_dir / "chain" / "dtv").glob("*.csv")), sep=";", dtype=str, keep_default_na=False)
    codes = {"VERTREK": "V", "OVERDRACHT": "O", "ADMINISTRATIEF": "A", "ZELFSTANDIG": "Z", "GEDWONGEN": "G",
             "MOB": "M", "HERKOMST": "H", "DERDE LAND": "D", "DUBLIN": "DUB", "": ""}
    new = pd.DataFrame({
        "Zaak": old["ZAAKNUMMER"], "V-nummer": old["VNUMMER"],
        "Startdatum": pd.to_datetime(old["DATUM_AANVANG"], format="%Y%m%d", errors="coerce").dt.strftime("%d-%m-%Y"),
        "Einddatum": pd.to_datetime(old["DATUM_AFSLUITING"], format="%Y%m%d", errors="coerce").dt.strftime("%d-%m-%Y"),
        "Afdoening": old["AFDOENING"].map(codes).fillna(old["AFDOENING"]),
        "Wijze": old["VERTREKWIJZE"].map(codes), "Bestemming": old["BESTEMMING"].map(codes),
    })
    (raw / "chain" / "dtv").mkdir(parents=True, exist_ok=True)
    new.to_excel(raw / "chain" / "dtv" / "vertrekzaken.xlsx", sheet_name="Zaken", index=False)
    specs = tmp_path / "chain_specs"
    shutil.copytree(CHAIN_SOURCES_DIR, specs)
    (specs / "dtv.yaml").unlink()
    (specs / "dtv_excel.yaml").write_text("""
name: dtv_excel
kind: dtv
register: DTV
files: [{pattern: "chain/dtv/vertrekzaken.xlsx", reader: excel, sheets: [{name: Zaken}]}]
columns: {V-nummer: v_number, Startdatum: case_start_date, Einddatum: case_end_date, Afdoening: closure,
          Wijze: departure_mode, Bestemming: destination}
redact_columns: [Zaak]
constants: {extract_date: "2022-09-30"}
dates: {formats: ["%d-%m-%Y"]}
labels:
  closure: {V: departure, O: transfer, A: administrative}
  departure_mode: {Z: independent, G: forced, M: unknown_destination}
  destination: {H: origin, D: third_country, DUB: dublin_state}
""", encoding="utf-8")
    res = ingest_chain(raw, KEY, progress=False, specs_dir=specs)
    cols = ["v_key", "case_start_date", "case_end_date", "closure", "departure_mode", "destination", "source_row"]
    pd.testing.assert_frame_equal(res.tables["chain_dtv"][cols], result.chain.tables["chain_dtv"][cols])
    def dtv_rules(q: pd.DataFrame) -> dict:
        return q.loc[q["source"] == "DTV", "rule_id"].value_counts().to_dict()

    assert dtv_rules(res.quarantine) == dtv_rules(result.chain.quarantine)


def test_a_chain_spec_error_names_the_file_and_the_key(tmp_path):
    from lvv_eval.ingest.chain.spec import load_chain_spec

    text = (CHAIN_SOURCES_DIR / "dtv.yaml").read_text(encoding="utf-8")
    for bad, words in ((text.replace("MOB: unknown_destination", "MOB: vanished"), "vanished"),
                       (text.replace("VNUMMER: v_number", "VNUMMER: v_nummer"), "v_nummer"),
                       (text.replace("kind: dtv", "kind: dtv\nregistre: x"), "registre")):
        path = tmp_path / "dtv.yaml"
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(SpecError, match=words) as exc:
            load_chain_spec(path)
        assert str(path) in str(exc.value)


# ---- without chain extracts ---------------------------------------------------------------------


def _clean_without_extracts(result, tmp_path: Path) -> Path:
    clean = tmp_path / "clean"
    shutil.copytree(result.out_dir, clean)
    manifest = json.loads((clean / "manifest.json").read_text(encoding="utf-8"))
    manifest["chain"]["inputs"] = []
    (clean / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for name in ("chain_ind.parquet", "chain_dtv.parquet"):
        (clean / name).unlink()
    return clean


def test_without_chain_extracts_the_chain_verb_says_why(result, tmp_path, capsys):
    """(Ingest without chain extracts: tests/test_ingest_synthetic.py::test_outputs_side_tables.)"""
    clean = _clean_without_extracts(result, tmp_path)
    assert cli_main(["chain", "--clean-dir", str(clean), "--out", str(tmp_path / "out")]) == 2
    assert "no IND or DT&V extract" in capsys.readouterr().err


def test_chain_if_present_skips_when_no_extract_was_delivered(result, tmp_path, capsys):
    """`lvv-eval run` calls `chain --if-present`: real deliveries without extracts still run."""
    clean = _clean_without_extracts(result, tmp_path)
    out = tmp_path / "out"
    assert cli_main(["chain", "--clean-dir", str(clean), "--out", str(out), "--if-present"]) == 0
    assert "nothing to link" in capsys.readouterr().out and not out.exists()


def test_chain_refuses_to_replace_a_folder_it_did_not_write(result, tmp_path, capsys):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    assert cli_main(["chain", "--clean-dir", str(result.out_dir), "--out", str(foreign)]) == 2
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert "did not write" in capsys.readouterr().err


def test_a_definitions_copy_with_chain_outcomes_changes_the_figures_without_code(result, tmp_path):
    from lvv_eval.measures.definitions import DEFINITIONS_YAML

    text = DEFINITIONS_YAML.read_text(encoding="utf-8")
    copy = tmp_path / "definitions_both.yaml"
    copy.write_text(text.replace("  outcome_source: municipal\n", "  outcome_source: both\n", 1), encoding="utf-8")
    stays = str(result.out_dir / "stays.parquet")
    assert cli_main(["reproduce", "--stays", stays, "--publication", "kb2020", "--definitions", str(copy),
                     "--out", str(tmp_path / "both.csv")]) == 0
    assert cli_main(["reproduce", "--stays", stays, "--publication", "kb2020", "--chain-verified", "both",
                     "--out", str(tmp_path / "beside.csv")]) == 0
    table = pd.read_csv(tmp_path / "both.csv").set_index("figure_id")
    both = table["computed_value"]
    beside = pd.read_csv(tmp_path / "beside.csv").set_index("figure_id")
    chain = pd.read_csv(tmp_path / "beside_chain_both.csv").set_index("figure_id")  # gated on its own
    assert (both == chain["computed_value"]).all()
    assert (chain["computed_value"] != beside["computed_value"]).any()
    assert table.loc[table["kind"] == "computed", "data_source"].str.contains("outcomes: both").all()
    assert float(both["kb2020.departure.all"]) < float(beside.loc["kb2020.departure.all", "computed_value"])
