"""A small, seeded, hand-made stays table for the analysis tests (not the project's generator).

Competing exits from constant cause-specific hazards with known log hazard ratios, day-level
times, five pilots, administrative censoring at the data cut; 2% of stays have sex ``unknown``
(missing at random). Used for the fixed R reference dataset (``tests/reference/
make_reference_data.py``, no part of the project's generator) and for the fast unit tests,
which check estimates against ``FAKE_HAZARDS``; the recovery-of-truth tests on the full
generator use ``lvv_eval.synth``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lvv_eval.config import DATA_CUT_DATE, PILOTS
from lvv_eval.schema import coerce_stays

# exit reason -> (baseline hazard per day, log HR of shelter_24h, of n_prior, of safe_country)
FAKE_HAZARDS: dict[str, tuple[float, float, float, float]] = {
    "residence_permit": (0.0006, 0.3, -0.10, -1.0),
    "return_origin": (0.0005, 0.2, 0.05, 0.7),
    "subsequent_asylum": (0.0008, 0.0, 0.00, 0.0),
    "art64_postponement": (0.0002, 0.5, 0.00, 0.0),
    "unknown_destination": (0.0007, -0.4, 0.05, 0.0),
    "forced_termination": (0.0003, -0.2, 0.00, 0.0),
}
PILOT_FACTOR = dict(zip(PILOTS, (1.0, 0.7, 1.3, 0.9, 1.1), strict=True))


def fake_stays(n: int, seed: int = 1) -> pd.DataFrame:
    """``n`` stays conforming to lvv_eval.schema, with constant cause-specific hazards."""
    rng = np.random.default_rng(seed)
    pilot = rng.choice(PILOTS, size=n, p=[0.3, 0.05, 0.25, 0.15, 0.25])
    admission = pd.Timestamp("2019-03-01") + pd.to_timedelta(rng.integers(0, 1100, n), unit="D")
    cut = pd.Timestamp(DATA_CUT_DATE)
    n_prior = rng.poisson(1.8, n)
    safe = rng.random(n) < 0.2
    shelter = rng.random(n) < np.where(np.isin(pilot, ["Amsterdam", "Groningen"]), 0.7, 0.3)
    base = np.array([PILOT_FACTOR[p] for p in pilot])
    reasons = list(FAKE_HAZARDS)
    hazards = np.column_stack(
        [
            h0 * base * np.exp(b_sh * shelter + b_np * n_prior + b_sc * safe)
            for h0, b_sh, b_np, b_sc in FAKE_HAZARDS.values()
        ]
    )
    total = hazards.sum(axis=1)
    days = np.ceil(rng.exponential(1.0 / total)).astype(int)  # day-level times, >= 1
    cum = np.cumsum(hazards / total[:, None], axis=1)
    which = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(reasons) - 1)
    exit_date = admission + pd.to_timedelta(days - 1, unit="D")
    ongoing = exit_date > cut
    sex = rng.choice(["male", "female", "unknown"], size=n, p=[0.78, 0.2, 0.02])
    frame = pd.DataFrame(
        {
            "stay_id": pd.Series(np.arange(n)).map("S{:07d}-1".format),
            "person_id": pd.Series(np.arange(n)).map("S{:07d}".format),
            "pilot": pilot,
            "source_file": None,
            "source_sheet": None,
            "source_row": pd.array([pd.NA] * n, dtype="Int64"),
            "admission_date": admission,
            "exit_date": exit_date.where(~ongoing),
            "data_cut_date": cut,
            "exit_reason": np.where(ongoing, None, np.array(reasons, dtype=object)[which]),
            "in_covenant": True,
            "exclusion_reason": None,
            "registration_group": "official",
            "sex": sex,
            "age_at_admission": rng.integers(18, 70, n),
            "country_of_origin": rng.choice(["ERI", "IRN", "NGA", "GIN", "ARM"], size=n),
            "safe_country": safe,
            "asylum_background": rng.random(n) < 0.7,
            "family": False,
            "n_prior_departure_procedures": n_prior,
            "shelter_24h": shelter,
            "guidance_intensity": rng.choice(["light", "standard", "intensive"], size=n),
            "scenario": None,
            "scenario_date": pd.NaT,
            "mrt_referred": False,
            "mrt_date": pd.NaT,
            "mrt_conclusion": None,
        }
    )
    return coerce_stays(frame)
