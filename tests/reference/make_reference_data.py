"""Write the fixed dataset of the R agreement tests (run once; the CSV is committed).

``python tests/reference/make_reference_data.py`` draws an uncalibrated SYNTHETIC cohort of 2,000
people (seed 51) from ``lvv_eval.synth.dgp.simulate_cohort``, turns it into a time-to-event frame
under the final evaluation's scheme (``ee2022``: 1 durable, 2 semi_durable, 3 none) and keeps the
complete cases of the covariates that the R script uses. Day-level times, five pilots.
"""

from __future__ import annotations

from pathlib import Path

from lvv_eval.analysis.prepare import time_to_event, window_outcome
from lvv_eval.synth.dgp import simulate_cohort

HERE = Path(__file__).resolve().parent
OUT = HERE / "analysis_reference_data.csv"
COLUMNS = [
    "stay_id", "pilot", "time", "event", "cause", "shelter_24h", "guidance_intensity", "n_prior",
    "prior_band", "safe_country", "asylum_background", "age_10y", "female",
]


def main() -> None:
    """Write ``analysis_reference_data.csv``."""
    cohort = simulate_cohort(2000, seed=51)
    tte = time_to_event(cohort.stays, "ee2022")
    tte = tte.dropna(subset=COLUMNS).reset_index(drop=True)
    window = window_outcome(tte, "durable", 365).set_index("stay_id")["outcome"]
    out = tte[COLUMNS].copy()
    out["durable_365"] = out["stay_id"].map(window)  # NA: censored before day 365
    out.to_csv(OUT, index=False, float_format="%.10g")
    print(f"wrote {OUT} ({len(out)} stays)")


if __name__ == "__main__":
    main()
