"""Pseudonymisation: ``person_id`` as a keyed hash of source id and pilot, ``stay_id`` per person.

The key comes from ``LVV_PSEUDONYM_KEY``; SYNTHETIC deliveries may use the documented demo key;
real deliveries without a key are refused (see :mod:`lvv_eval.pseudonym`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lvv_eval.ingest.errors import IngestError
from lvv_eval.pseudonym import MissingPseudonymKeyError, person_key, pseudonym_key


def resolve_key(synthetic: bool, why: str = "") -> bytes:
    """The HMAC key for this run; a clear error for real data without a (strong enough) key.

    ``why`` says why the data count as synthetic or real (named in the error)."""
    try:
        return pseudonym_key(synthetic)
    except MissingPseudonymKeyError as exc:
        raise IngestError(f"{exc}{f' (treated as real: {why})' if why and not synthetic else ''}") from exc


def person_ids(source_ids: pd.Series, pilot: str, key: bytes) -> pd.Series:
    """Pseudonymous person ids (missing where the source id is missing)."""
    codes, uniques = pd.factorize(source_ids.astype("str"), use_na_sentinel=True)
    hashed = np.array([person_key(str(u), pilot, key) for u in uniques] + [None], dtype=object)
    return pd.Series(hashed[codes], index=source_ids.index, dtype="str")


def stay_ids(person_id: pd.Series, admission_date: pd.Series) -> pd.Series:
    """``person_id-<n>``, n = 1, 2, ... in order of admission within each person."""
    order = pd.DataFrame({"p": person_id, "a": admission_date}).sort_values(["p", "a"], kind="stable")
    seq = order.groupby("p", sort=False).cumcount() + 1
    seq = seq.reindex(person_id.index)
    return (person_id + "-" + seq.astype("str")).astype("str")
