"""Shared fixtures of the analysis tests: a small hand-made stays table (see fake_stays.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_stays import fake_stays  # noqa: E402

from lvv_eval.analysis import time_to_event  # noqa: E402


@pytest.fixture(scope="session")
def stays() -> pd.DataFrame:
    return fake_stays(3000, seed=11)


@pytest.fixture(scope="session")
def tte(stays) -> pd.DataFrame:
    return time_to_event(stays, "ee2022")
