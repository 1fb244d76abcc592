"""The harmonised ``stays`` table: column types, full category lists and the pandera contract.

This is the contract between the synthetic generator, ingest, definitions, analysis and
notebooks (see DATA_MODEL.md). Categorical columns always carry their FULL category list so
that empty categories survive into tables.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from lvv_eval.config import DATA_CUT_DATE, EARLIEST_VALID_DATE, PILOTS
from lvv_eval.vocabulary import COUNTRIES_YAML, load_vocabulary_table

EXIT_REASONS: tuple[str, ...] = (
    "residence_permit",
    "return_origin",
    "onward_migration",
    "subsequent_asylum",
    "art64_postponement",
    "unknown_destination",
    "back_to_bbb",
    "forced_termination",
    "detention",
    "dublin_transfer",
    "deceased",
    "other",
)
EXCLUSION_REASONS: tuple[str, ...] = (
    "family_rijksopvang",
    "eu_citizen",
    "dublin_claimant",
    "entry_ban_10y",
    "undesirable_alien",
    "no_regional_tie",
    "other",
)
REGISTRATION_GROUPS: tuple[str, ...] = ("official", "pre_lso")
SEXES: tuple[str, ...] = ("male", "female", "unknown")
GUIDANCE_LEVELS: tuple[str, ...] = ("light", "standard", "intensive")
SCENARIOS: tuple[str, ...] = ("departure", "residence")
MRT_CONCLUSIONS: tuple[str, ...] = ("solution_possible", "no_durable_solution", "pending")
# ISO 3166-1 alpha-3 codes (XXX = stateless, XKX = Kosovo): the codes of the one country table,
# sources/vocab/countries.yaml, which the ingest and the generator read too.
COUNTRIES: tuple[str, ...] = tuple(load_vocabulary_table(COUNTRIES_YAML).entries)

DATE_DTYPE = "datetime64[ns]"


def _cat(values: tuple[str, ...], ordered: bool = False) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(values), ordered=ordered)


STAYS_DTYPES: dict[str, object] = {
    "stay_id": "str",
    "person_id": "str",
    "pilot": _cat(PILOTS),
    "source_file": "str",
    "source_sheet": "str",
    "source_row": "Int64",
    "admission_date": DATE_DTYPE,
    "exit_date": DATE_DTYPE,
    "data_cut_date": DATE_DTYPE,
    "exit_reason": _cat(EXIT_REASONS),
    "in_covenant": "boolean",
    "exclusion_reason": _cat(EXCLUSION_REASONS),
    "registration_group": _cat(REGISTRATION_GROUPS),
    "sex": _cat(SEXES),
    "age_at_admission": "Int64",
    "country_of_origin": _cat(COUNTRIES),
    "safe_country": "boolean",
    "asylum_background": "boolean",
    "family": "boolean",
    "n_prior_departure_procedures": "Int64",
    "shelter_24h": "boolean",
    "guidance_intensity": _cat(GUIDANCE_LEVELS, ordered=True),
    "scenario": _cat(SCENARIOS),
    "scenario_date": DATE_DTYPE,
    "mrt_referred": "boolean",
    "mrt_date": DATE_DTYPE,
    "mrt_conclusion": _cat(MRT_CONCLUSIONS),
}
STAYS_COLUMNS: tuple[str, ...] = tuple(STAYS_DTYPES)


def coerce_stays(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly the stays columns, in contract order and dtypes."""
    missing = [c for c in STAYS_COLUMNS if c not in df.columns]
    if missing:
        raise KeyError(f"stays table lacks columns: {', '.join(missing)}")
    out = df.loc[:, list(STAYS_COLUMNS)].copy()
    for col, dtype in STAYS_DTYPES.items():
        if dtype == DATE_DTYPE:
            out[col] = pd.to_datetime(out[col]).astype(DATE_DTYPE)
        else:
            out[col] = out[col].astype(dtype)
    return out.reset_index(drop=True)


def empty_stays() -> pd.DataFrame:
    """An empty stays table with the contract's columns and dtypes."""
    return coerce_stays(pd.DataFrame({c: [] for c in STAYS_COLUMNS}))


def _within_stay(df: pd.DataFrame, col: str) -> pd.Series:
    end = df["exit_date"].fillna(df["data_cut_date"])
    ok = (df[col] >= df["admission_date"]) & (df[col] <= end)
    return ok | df[col].isna()


def stays_schema() -> pa.DataFrameSchema:
    """The pandera schema that guards every ``stays`` table (strict, full category lists)."""
    earliest = pd.Timestamp(EARLIEST_VALID_DATE)
    cut = pd.Timestamp(DATA_CUT_DATE)

    def col(name: str, nullable: bool, checks: list | None = None, unique: bool = False) -> pa.Column:
        return pa.Column(STAYS_DTYPES[name], nullable=nullable, checks=checks or [], unique=unique)

    columns = {
        "stay_id": col("stay_id", False, unique=True),
        "person_id": col("person_id", False),
        "pilot": col("pilot", False),
        "source_file": col("source_file", True),
        "source_sheet": col("source_sheet", True),
        "source_row": col("source_row", True, [pa.Check.ge(0)]),
        "admission_date": col("admission_date", False, [pa.Check.ge(earliest), pa.Check.le(cut)]),
        "exit_date": col("exit_date", True, [pa.Check.ge(earliest)]),
        "data_cut_date": col("data_cut_date", False),
        "exit_reason": col("exit_reason", True),
        "in_covenant": col("in_covenant", False),
        "exclusion_reason": col("exclusion_reason", True),
        "registration_group": col("registration_group", False),
        "sex": col("sex", False),
        "age_at_admission": col("age_at_admission", True, [pa.Check.in_range(0, 100)]),
        "country_of_origin": col("country_of_origin", True),
        "safe_country": col("safe_country", True),
        "asylum_background": col("asylum_background", True),
        "family": col("family", False),
        "n_prior_departure_procedures": col(
            "n_prior_departure_procedures", True, [pa.Check.in_range(0, 50)]
        ),
        "shelter_24h": col("shelter_24h", False),
        "guidance_intensity": col("guidance_intensity", True),
        "scenario": col("scenario", True),
        "scenario_date": col("scenario_date", True),
        "mrt_referred": col("mrt_referred", False),
        "mrt_date": col("mrt_date", True),
        "mrt_conclusion": col("mrt_conclusion", True),
    }
    checks = [
        pa.Check(
            lambda d: d["exit_date"].isna() | (d["exit_date"] >= d["admission_date"]),
            name="exit_not_before_admission",
        ),
        pa.Check(
            lambda d: d["exit_date"].isna() | (d["exit_date"] <= d["data_cut_date"]),
            name="exit_not_after_data_cut",
        ),
        pa.Check(
            lambda d: d["exit_date"].isna() == d["exit_reason"].isna(),
            name="exit_reason_iff_exit_date",
        ),
        pa.Check(
            lambda d: d["exclusion_reason"].isna() == d["in_covenant"].astype(bool),
            name="exclusion_reason_iff_out_of_covenant",
        ),
        pa.Check(lambda d: _within_stay(d, "scenario_date"), name="scenario_date_within_stay"),
        pa.Check(lambda d: _within_stay(d, "mrt_date"), name="mrt_date_within_stay"),
    ]
    return pa.DataFrameSchema(columns, checks=checks, strict=True, ordered=True, coerce=False)


def validate_stays(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a stays table lazily (all failures reported at once); returns it unchanged."""
    return stays_schema().validate(df, lazy=True)
