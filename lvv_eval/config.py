"""Every path and fixed constant of the toolkit, in one place.

Set ``LVV_DATA_ROOT`` to point the toolkit at another folder that holds ``data_raw/``,
``data_clean/`` and ``reports/`` (for example a secured share with real deliveries); the layout
and what makes a data root real are described in :mod:`lvv_eval.dataroot`.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent

SPECS_DIR = PACKAGE_DIR / "specs"
SOURCES_DIR = PACKAGE_DIR / "sources"
REFERENCE_DIR = PACKAGE_DIR / "reference"
PUBLISHED_FIGURES_CSV = REFERENCE_DIR / "published_figures.csv"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"


def data_root() -> Path:
    """Folder that holds data_raw/, data_clean/ and reports/ (``LVV_DATA_ROOT`` or the project)."""
    return Path(os.environ.get("LVV_DATA_ROOT", PROJECT_ROOT)).resolve()


def raw_dir() -> Path:
    """Immutable raw deliveries."""
    return data_root() / "data_raw"


SYNTHETIC_SUBDIR = "synthetic"


def synthetic_dir() -> Path:
    """Where ``lvv-eval synth`` writes the default synthetic deliveries."""
    return raw_dir() / SYNTHETIC_SUBDIR


def clean_dir() -> Path:
    """Harmonised output of ``lvv-eval ingest``."""
    return data_root() / "data_clean"


def user_specs_dir() -> Path:
    """Source specs for the real deliveries, beside the data: ``$LVV_DATA_ROOT/specs/``."""
    return data_root() / "specs"


def review_dir() -> Path:
    """Review material for data managers that is not for publication (per-stay tables, discrepancy
    lists): microdata, kept apart from ``reports/``."""
    return data_root() / "data_review"


def reports_dir() -> Path:
    """Executed notebooks and report bundles."""
    return data_root() / "reports"


PILOTS: tuple[str, ...] = ("Amsterdam", "Eindhoven", "Groningen", "Rotterdam", "Utrecht")

DATA_CUT_DATE = date(2022, 7, 1)
EARLIEST_VALID_DATE = date(2019, 1, 1)

REFERENCE_DATES: dict[str, date] = {
    "ppe2019": date(2019, 12, 31),
    "kb2020": date(2020, 11, 1),
    "ee2022": date(2022, 7, 1),
}

# The monitor was filled six times between 2019-04-01 and 2020-11-01 (2020 letter).
MONITOR_ROUNDS: tuple[date, ...] = (
    date(2019, 4, 1),
    date(2019, 7, 1),
    date(2019, 10, 1),
    date(2020, 1, 1),
    date(2020, 6, 1),
    date(2020, 11, 1),
)

# Demo key for pseudonymising SYNTHETIC data only. Real data need LVV_PSEUDONYM_KEY.
DEMO_PSEUDONYM_KEY = "lvv-eval-synthetic-demo-key-not-secret"
PSEUDONYM_KEY_ENV = "LVV_PSEUDONYM_KEY"
