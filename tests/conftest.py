"""Fixtures shared by the test modules."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def truth_stays() -> pd.DataFrame:
    """The calibrated SYNTHETIC cohort's stays (the generator's truth)."""
    from lvv_eval.synth.calibrate import calibrated_cohort

    return calibrated_cohort().stays


@pytest.fixture(scope="session")
def truth_stays_file(tmp_path_factory, truth_stays) -> Path:
    """The truth stays as a parquet file, as `lvv-eval synth` writes it into its answer key."""
    path = tmp_path_factory.mktemp("answer_key") / "truth_stays.parquet"
    truth_stays.to_parquet(path, index=False)
    return path
