"""Pseudonymous person keys: a keyed hash (HMAC-SHA256) of the source id and the pilot."""

from __future__ import annotations

import hashlib
import hmac
import os

import numpy as np
import pandas as pd

from lvv_eval.config import DEMO_PSEUDONYM_KEY, PSEUDONYM_KEY_ENV


class MissingPseudonymKeyError(RuntimeError):
    """Real (non-synthetic) data were to be pseudonymised without a secret key."""


def pseudonym_key(synthetic: bool) -> bytes:
    """The HMAC key: from ``LVV_PSEUDONYM_KEY``; the documented demo key only for SYNTHETIC data."""
    key = os.environ.get(PSEUDONYM_KEY_ENV)
    if key:
        return key.encode("utf-8")
    if synthetic:
        return DEMO_PSEUDONYM_KEY.encode("utf-8")
    raise MissingPseudonymKeyError(
        f"These deliveries are not marked SYNTHETIC, so person ids need a secret key: set the "
        f"environment variable {PSEUDONYM_KEY_ENV} (keep it outside the repository) and run again."
    )


def person_key(source_id: str, pilot: str, key: bytes) -> str:
    """Pseudonymous ``person_id`` for one source id within one pilot (16 hex characters)."""
    msg = f"{pilot}\x1f{source_id.strip().upper()}".encode()
    return "P" + hmac.new(key, msg, hashlib.sha256).hexdigest()[:16]


def person_keys(source_ids: pd.Series, pilots: pd.Series, key: bytes) -> pd.Series:
    """Vectorised :func:`person_key` over aligned series (unique pairs are hashed once)."""
    pairs = pd.DataFrame({"s": source_ids.astype("str"), "p": pilots.astype("str")})
    codes, uniques = pd.factorize(pairs["p"] + "\x1f" + pairs["s"])
    hashed = np.array(
        [person_key(u.split("\x1f", 1)[1], u.split("\x1f", 1)[0], key) for u in uniques],
        dtype=object,
    )
    return pd.Series(hashed[codes], index=source_ids.index, dtype="str")
