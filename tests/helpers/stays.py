"""Hand-written stays tables for unit tests."""

from __future__ import annotations

import pandas as pd

from lvv_eval.schema import STAYS_COLUMNS, coerce_stays


def make_stays(rows: list[dict]) -> pd.DataFrame:
    """A stays table from a few hand-written rows (defaults for everything not given)."""
    defaults = {
        "pilot": "Utrecht", "source_file": None, "source_sheet": None, "source_row": None,
        "admission_date": "2020-01-01", "exit_date": None, "data_cut_date": "2022-07-01",
        "exit_reason": None, "in_covenant": True, "exclusion_reason": None,
        "registration_group": "official", "sex": "male", "age_at_admission": 40,
        "country_of_origin": "ERI", "safe_country": False, "asylum_background": True,
        "family": False, "n_prior_departure_procedures": 1, "shelter_24h": True,
        "guidance_intensity": "standard", "scenario": None, "scenario_date": None,
        "mrt_referred": False, "mrt_date": None, "mrt_conclusion": None,
    }
    full = []
    for i, row in enumerate(rows):
        entry = {**defaults, "person_id": f"P{i}", **row}
        entry.setdefault("stay_id", f"{entry['person_id']}-{i}")
        full.append(entry)
    frame = pd.DataFrame(full)
    assert set(frame.columns) >= set(STAYS_COLUMNS)
    return coerce_stays(frame)
