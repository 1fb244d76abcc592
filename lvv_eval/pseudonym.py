"""Pseudonymous keys: ``person_id``, a keyed hash (HMAC-SHA256) of the source id and the pilot,
and ``v_key``, a keyed hash of the V-number alone that links a person across sources."""

from __future__ import annotations

import hmac
import os

import numpy as np
import pandas as pd

from lvv_eval.config import DEMO_PSEUDONYM_KEY, PSEUDONYM_KEY_ENV

MIN_KEY_LENGTH = 32
MIN_KEY_DISTINCT = 10


class MissingPseudonymKeyError(RuntimeError):
    """Real (non-synthetic) data were to be pseudonymised without a (strong enough) secret key."""


def key_weakness(key: str) -> str | None:
    """Why ``key`` is too weak to pseudonymise real data (``None`` when it is strong enough).

    The key is the only secret between a V-number and its ``person_id``: whoever can guess it can
    hash every known V-number and re-identify the people. A key of at least
    :data:`MIN_KEY_LENGTH` characters with :data:`MIN_KEY_DISTINCT` different characters (such as
    ``secrets.token_urlsafe(32)``) cannot be found by trying keys; the public demo key is no secret.
    """
    if key == DEMO_PSEUDONYM_KEY:
        return "it is the public demo key of the SYNTHETIC data"
    if len(key) < MIN_KEY_LENGTH:
        return f"it has {len(key)} characters; at least {MIN_KEY_LENGTH} are needed"
    if len(set(key)) < MIN_KEY_DISTINCT:
        return f"it uses only {len(set(key))} different characters; at least {MIN_KEY_DISTINCT} are needed"
    return None


def pseudonym_key(synthetic: bool) -> bytes:
    """The HMAC key: from ``LVV_PSEUDONYM_KEY``; the documented demo key only for SYNTHETIC data."""
    key = os.environ.get(PSEUDONYM_KEY_ENV)
    if key:
        weakness = key_weakness(key)
        if weakness:
            raise MissingPseudonymKeyError(
                f"{PSEUDONYM_KEY_ENV} is too weak to pseudonymise person ids: {weakness}. Whoever guesses "
                f"the key can hash known V-numbers and re-identify people; make one with "
                f"`python -c \"import secrets; print(secrets.token_urlsafe(32))\"` and keep it outside "
                f"the repository.")
        return key.encode("utf-8")
    if synthetic:
        return DEMO_PSEUDONYM_KEY.encode("utf-8")
    raise MissingPseudonymKeyError(
        f"These deliveries are not marked SYNTHETIC, so person ids need a secret key: set the "
        f"environment variable {PSEUDONYM_KEY_ENV} (keep it outside the repository) and run again."
    )


def _message(source_id: str, pilot: str) -> str:
    return f"{pilot}\x1f{source_id.strip().upper()}"


def person_key(source_id: str, pilot: str, key: bytes) -> str:
    """Pseudonymous ``person_id`` for one source id within one pilot ("P" + 16 hex characters)."""
    return "P" + hmac.digest(key, _message(source_id, pilot).encode(), "sha256").hex()[:16]


def person_keys(source_ids: pd.Series, pilots: pd.Series, key: bytes) -> pd.Series:
    """Vectorised :func:`person_key` over aligned series (each distinct pair is hashed once)."""
    messages = pilots.astype("str") + "\x1f" + source_ids.astype("str").str.strip().str.upper()
    codes, uniques = pd.factorize(messages)
    digest = hmac.digest
    hashed = np.array(["P" + digest(key, m.encode(), "sha256").hex()[:16] for m in uniques], dtype=object)
    return pd.Series(hashed[codes], index=source_ids.index, dtype="str")


# ---- the cross-source key: a keyed hash of the V-number alone --------------------------------
#
# ``person_id`` is keyed on (pilot, source id) so that client numbers of two municipalities can
# never collide; it therefore cannot link a person across sources. ``v_key`` is a second keyed
# hash, of the V-number alone (with its own domain prefix, so that it can never equal a
# ``person_id``), computed wherever a V-number is read: in a municipal delivery whose source id is
# the V-number, in a municipal crosswalk of client number to V-number, and in the IND and DT&V
# extracts. It is the only key on which stays and chain records meet.

V_KEY_DOMAIN = "v-number"
V_NUMBER_SEPARATORS = (" ", ".", "-", "/")


def normalise_v_number(value: str) -> str:
    """A V-number as the hash sees it: outer spaces and the separators people type (space, dot,
    hyphen, slash) removed, upper case."""
    text = str(value).strip().upper()
    for sep in V_NUMBER_SEPARATORS:
        text = text.replace(sep, "")
    return text


def v_key(v_number: str, key: bytes) -> str:
    """Pseudonymous cross-source key of one V-number ("V" + 16 hex characters)."""
    message = f"{V_KEY_DOMAIN}\x1f{normalise_v_number(v_number)}"
    return "V" + hmac.digest(key, message.encode(), "sha256").hex()[:16]


def v_keys(v_numbers: pd.Series, key: bytes) -> pd.Series:
    """Vectorised :func:`v_key` (each distinct V-number hashed once; missing stays missing)."""
    codes, uniques = pd.factorize(v_numbers.astype("str"), use_na_sentinel=True)
    hashed = np.array([v_key(str(u), key) for u in uniques] + [None], dtype=object)
    return pd.Series(hashed[codes], index=v_numbers.index, dtype="str")
