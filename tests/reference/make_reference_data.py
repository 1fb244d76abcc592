"""Recipe of the fixed input of the R agreement tests, ``analysis_reference_data.csv``.

The CSV is committed and is the input of ``make r-reference``; this recipe documents how it was
made and can rebuild it without the project's generator (``lvv_eval.synth`` changes with
calibration, which is why the old recipe stopped reproducing the file):

    .venv/bin/python -m tests.reference.make_reference_data [--check]

It draws 2,000 stays from the hand-made constant-hazard table of ``tests/helpers/fake_stays.py``
(seed 51; five pilots, day-level times, 2% unknown sex), turns them into a time-to-event frame
under the final evaluation's scheme (``ee2022``: 1 durable, 2 semi_durable, 3 none, 0 censored)
and adds ``durable_365`` (a durable exit within 365 days; empty when censored before day 365).
Unknown sex stays unknown (``female`` empty): R's ``na.omit`` and the library both leave those
stays out of models that use it. ``--check`` compares the rebuild with the committed file byte
for byte (``tests/analysis/test_r_agreement.py`` does the same).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from lvv_eval.analysis.prepare import time_to_event, window_outcome
from tests.helpers.fake_stays import fake_stays

HERE = Path(__file__).resolve().parent
OUT = HERE / "analysis_reference_data.csv"
N_STAYS, SEED = 2000, 51
COLUMNS = [
    "stay_id", "pilot", "time", "event", "cause", "shelter_24h", "guidance_intensity", "n_prior",
    "prior_band", "safe_country", "asylum_background", "age_10y", "female",
]


def reference_frame() -> pd.DataFrame:
    """The reference input as a DataFrame (column order and values as in the CSV)."""
    tte = time_to_event(fake_stays(N_STAYS, seed=SEED), "ee2022")
    window = window_outcome(tte, "durable", 365).set_index("stay_id")["outcome"]
    out = tte[COLUMNS].copy()
    out["durable_365"] = out["stay_id"].map(window)
    return out


def reference_csv() -> str:
    """The CSV text of :func:`reference_frame`."""
    return reference_frame().to_csv(index=False, float_format="%.10g", lineterminator="\n")


def main() -> int:
    """Write the CSV, or with ``--check`` compare it with the committed one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    text = reference_csv()
    if parser.parse_args().check:
        same = OUT.read_text(encoding="utf-8") == text
        print(f"{OUT}: {'identical to the recipe' if same else 'DIFFERS from the recipe'}")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({text.count(chr(10)) - 1} stays)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
