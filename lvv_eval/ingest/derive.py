"""Derived fields, named in the source spec's ``derive`` list (for example age from a birth date).

Each derivation fills one harmonised field from others; it only fills, it never overwrites a
delivered value. After derivation every stays field exists (missing where a delivery lacks it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from lvv_eval.ingest.errors import SpecError
from lvv_eval.ingest.spec_models import DERIVE_METHODS, SourceSpec
from lvv_eval.schema import STAYS_DTYPES

Derivation = Callable[[pd.DataFrame, Any], pd.Series]


def age_from_birth_date(records: pd.DataFrame, entry: Any) -> pd.Series:
    """Completed years between the birth date and the admission date."""
    born, adm = records["birth_date"], records["admission_date"]
    years = adm.dt.year - born.dt.year
    before_birthday = (adm.dt.month < born.dt.month) | (
        (adm.dt.month == born.dt.month) & (adm.dt.day < born.dt.day))
    return (years - before_birthday.astype("int64")).astype("Int64")


def age_from_birth_year(records: pd.DataFrame, entry: Any) -> pd.Series:
    """Admission year minus birth year (may be one year too high; the documented tolerance)."""
    return (records["admission_date"].dt.year.astype("Int64") - records["birth_year"]).astype("Int64")


def covenant_from_exclusion(records: pd.DataFrame, entry: Any) -> pd.Series:
    """In the covenant exactly when no exclusion reason is recorded."""
    return records["exclusion_reason"].isna().astype("boolean")


def flag_from_date(records: pd.DataFrame, entry: Any) -> pd.Series:
    """True when the date in ``source`` is filled in."""
    return records[entry.source].notna().astype("boolean")


def value_when_flag(records: pd.DataFrame, entry: Any) -> pd.Series:
    """``value`` where the boolean field ``source`` is true, else missing."""
    flag = records[entry.source].fillna(False).astype(bool)
    return pd.Series(np.where(flag, entry.value, None), index=records.index, dtype="object").astype("str")


def constant(records: pd.DataFrame, entry: Any) -> pd.Series:
    """The same ``value`` for every record."""
    return pd.Series(entry.value, index=records.index)


def date_plus_days(records: pd.DataFrame, entry: Any) -> pd.Series:
    """The date in ``date`` plus the number of days in ``days`` (missing when either is)."""
    days = pd.to_timedelta(records[entry.days].astype("Float64").astype("float64"), unit="D")
    return (records[entry.date] + days).astype("datetime64[ns]")


DERIVATIONS: dict[str, Derivation] = {
    "age_from_birth_date": age_from_birth_date,
    "age_from_birth_year": age_from_birth_year,
    "covenant_from_exclusion": covenant_from_exclusion,
    "flag_from_date": flag_from_date,
    "value_when_flag": value_when_flag,
    "constant": constant,
    "date_plus_days": date_plus_days,
}
assert tuple(DERIVATIONS) == DERIVE_METHODS, "every method named in spec_models needs a function here"


def _empty(field: str, index: pd.Index) -> pd.Series:
    dtype = STAYS_DTYPES[field]
    if dtype == "datetime64[ns]":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if isinstance(dtype, pd.CategoricalDtype) or dtype == "str":
        return pd.Series(pd.NA, index=index, dtype="str")
    return pd.Series(pd.NA, index=index, dtype=dtype)


def derive_fields(records: pd.DataFrame, spec: SourceSpec) -> pd.DataFrame:
    """Fill derived fields (only where missing) and add every absent stays field as missing."""
    out = records.copy()
    for fld in STAYS_DTYPES:
        if fld not in out.columns and fld not in ("stay_id", "person_id", "pilot", "source_file", "source_sheet",
                                                            "source_row"):
            out[fld] = _empty(fld, out.index)
    for entry in spec.derive:
        method, fld = entry.method, entry.field
        try:
            derived = DERIVATIONS[method](out, entry)
        except KeyError as exc:
            raise SpecError(f"source spec {spec.path}: derive {method} for {fld} needs field {exc}, "
                            f"which no column is mapped to.") from exc
        current = out[fld]
        out[fld] = current.where(current.notna(), derived)
    return out
