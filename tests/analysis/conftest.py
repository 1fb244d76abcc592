"""Shared fixtures of the analysis tests: hand-made stays tables (tests/helpers/fake_stays.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from lvv_eval.analysis import EXIT_REASON_SCHEME, time_to_event
from tests.helpers.fake_stays import fake_stays


@pytest.fixture(scope="session")
def stays() -> pd.DataFrame:
    return fake_stays(3000, seed=11)


@pytest.fixture(scope="session")
def tte(stays) -> pd.DataFrame:
    return time_to_event(stays, "ee2022")


@pytest.fixture(scope="session")
def reasons_tte() -> pd.DataFrame:
    """8,000 fake stays, every exit reason its own class: the causes of ``FAKE_HAZARDS``."""
    return time_to_event(fake_stays(8000, seed=11), EXIT_REASON_SCHEME)
