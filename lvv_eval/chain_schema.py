"""The chain tables in ``data_clean/``: IND procedures, DT&V departure cases and person links.

Contract (docs/CODEBOOK.md, section *Chain tables*) between the chain ingest, the linkage and
reconciliation (:mod:`lvv_eval.linkage`) and the notebooks. Persons appear only as keyed hashes:
``v_key`` (of the V-number alone, the key that links sources) and ``person_id`` (of the municipal
source id and pilot, the key of ``stays``); no V-number, client number or case number is kept.
Categorical columns carry their full category list.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from lvv_eval.config import PILOTS

DATE = "datetime64[ns]"
REGISTERS: tuple[str, ...] = ("IND", "DTV")
IND_PROCEDURES: tuple[str, ...] = (
    "asylum_first", "asylum_subsequent", "regular_no_fault", "regular_medical", "regular_other", "art64",
)
IND_DECISIONS: tuple[str, ...] = ("granted", "rejected", "not_processed", "withdrawn")
DTV_CLOSURES: tuple[str, ...] = ("departure", "transfer", "administrative")
DTV_MODES: tuple[str, ...] = ("independent", "forced", "unknown_destination")
DTV_DESTINATIONS: tuple[str, ...] = ("origin", "third_country", "dublin_state")
LINK_SOURCES: tuple[str, ...] = ("delivery", "crosswalk")
PROVENANCE: dict[str, object] = {"source_file": "str", "sheet": "str", "source_row": "int64"}


def _cat(values: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(values))


CHAIN_IND_DTYPES: dict[str, object] = {
    "v_key": "str",
    "procedure": _cat(IND_PROCEDURES),
    "application_date": DATE,
    "decision": _cat(IND_DECISIONS),
    "decision_date": DATE,
    "extract_date": DATE,
    **PROVENANCE,
}
CHAIN_DTV_DTYPES: dict[str, object] = {
    "v_key": "str",
    "case_start_date": DATE,
    "case_end_date": DATE,
    "closure": _cat(DTV_CLOSURES),
    "departure_mode": _cat(DTV_MODES),
    "destination": _cat(DTV_DESTINATIONS),
    "extract_date": DATE,
    **PROVENANCE,
}
PERSON_LINKS_DTYPES: dict[str, object] = {
    "person_id": "str",
    "pilot": _cat(PILOTS),
    "v_key": "str",
    "link_source": _cat(LINK_SOURCES),
    **PROVENANCE,
}
# the categorical fields a chain source spec may map labels onto, with their allowed values
CHAIN_CATEGORIES: dict[str, tuple[str, ...]] = {
    "procedure": IND_PROCEDURES, "decision": IND_DECISIONS, "closure": DTV_CLOSURES,
    "departure_mode": DTV_MODES, "destination": DTV_DESTINATIONS,
}
TABLE_DTYPES: dict[str, dict[str, object]] = {
    "chain_ind": CHAIN_IND_DTYPES, "chain_dtv": CHAIN_DTV_DTYPES, "person_links": PERSON_LINKS_DTYPES,
}


def coerce_table(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """``df`` with exactly the columns of chain table ``table``, in contract order and dtypes."""
    dtypes = TABLE_DTYPES[table]
    missing = [c for c in dtypes if c not in df.columns]
    if missing:
        raise KeyError(f"{table} table lacks columns: {', '.join(missing)}")
    out = df.loc[:, list(dtypes)].copy()
    for col, dtype in dtypes.items():
        out[col] = pd.to_datetime(out[col]).astype(DATE) if dtype == DATE else out[col].astype(dtype)
    return out.reset_index(drop=True)


def empty_table(table: str) -> pd.DataFrame:
    """An empty chain table with its contract's columns and dtypes."""
    return coerce_table(pd.DataFrame({c: [] for c in TABLE_DTYPES[table]}), table)


def _columns(table: str, nullable: set[str]) -> dict[str, pa.Column]:
    return {c: pa.Column(d, nullable=c in nullable) for c, d in TABLE_DTYPES[table].items()}


def _provenance_unique(d: pd.DataFrame) -> bool:
    return not d.duplicated(["source_file", "sheet", "source_row"]).any()


def chain_ind_schema() -> pa.DataFrameSchema:
    """IND procedures: a decision exactly when a decision date, never before the application."""
    return pa.DataFrameSchema(_columns("chain_ind", {"decision", "decision_date"}), checks=[
        pa.Check(lambda d: d["decision"].isna() == d["decision_date"].isna(), name="decision_iff_decision_date"),
        pa.Check(lambda d: d["decision_date"].isna() | (d["decision_date"] >= d["application_date"]),
                 name="decision_not_before_application"),
        pa.Check(_provenance_unique, name="one_row_per_source_row"),
    ], strict=True, ordered=True)


def chain_dtv_schema() -> pa.DataFrameSchema:
    """DT&V cases: closed exactly when an end date; a mode only for departures."""
    return pa.DataFrameSchema(
        _columns("chain_dtv", {"case_end_date", "closure", "departure_mode", "destination"}), checks=[
            pa.Check(lambda d: d["closure"].isna() == d["case_end_date"].isna(), name="closure_iff_end_date"),
            pa.Check(lambda d: d["case_end_date"].isna() | (d["case_end_date"] >= d["case_start_date"]),
                     name="end_not_before_start"),
            pa.Check(lambda d: d["departure_mode"].isna() | (d["closure"] == "departure"),
                     name="mode_only_for_departures"),
            pa.Check(_provenance_unique, name="one_row_per_source_row"),
        ], strict=True, ordered=True)


def person_links_schema() -> pa.DataFrameSchema:
    """One row per person: the V-number key (missing when the source has none) and where it came from."""
    cols = _columns("person_links", {"v_key"})
    cols["person_id"] = pa.Column("str", unique=True)
    return pa.DataFrameSchema(cols, strict=True, ordered=True)


SCHEMAS = {"chain_ind": chain_ind_schema, "chain_dtv": chain_dtv_schema, "person_links": person_links_schema}


def validate_table(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Validate one chain table lazily (every failure at once); returns it unchanged."""
    return SCHEMAS[table]().validate(df, lazy=True)
