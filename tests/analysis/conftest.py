"""Shared fixtures of the analysis tests: a small hand-made stays table (tests/helpers/fake_stays.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from lvv_eval.analysis import time_to_event
from tests.helpers.fake_stays import fake_stays


@pytest.fixture(scope="session")
def stays() -> pd.DataFrame:
    return fake_stays(3000, seed=11)


@pytest.fixture(scope="session")
def tte(stays) -> pd.DataFrame:
    return time_to_event(stays, "ee2022")
