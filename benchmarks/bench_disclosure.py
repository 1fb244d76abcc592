"""Time the disclosure gate adds to the default report (issue 11: under 1 s).

The report's tables and figures are computed once (length of stay, rates per 100 person-years,
cumulative incidence by pilot, the 24-hour shelter effect and the prior-procedures gradient, on
the default SYNTHETIC cohort: ``data_clean/stays.parquet`` when ``make run`` made it, else the
calibrated cohort). Then, several times each, in the same run:

* baseline: write the raw tables as CSV and the raw figures as PNG (the writing without the gate);
* gated: gate every table, draw the figures from the gated data, write tables, figures, drawn
  values and the record (JSON, CSV, HTML) through the gate.

Prints the medians, the difference (what the gate adds) and the ratio.

    .venv/bin/python benchmarks/bench_disclosure.py [--runs 5] [--stays PATH]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from lvv_eval import analysis as A
from lvv_eval.analysis.plots import plot_cumulative_incidence, plot_rates
from lvv_eval.config import clean_dir
from lvv_eval.disclosure import DisclosureGate

CAUSE = "durable"
ADJUST = ["n_prior", "safe_country", "asylum_background", "age_10y", "female"]


def default_stays(path: Path | None) -> pd.DataFrame:
    path = path or clean_dir() / "stays.parquet"
    if path.exists():
        return pd.read_parquet(path)
    from lvv_eval.synth.calibrate import calibrated_cohort

    return calibrated_cohort().stays


def report_results(stays: pd.DataFrame) -> dict:
    """Everything the outcomes notebook computes (computed once; not timed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tte = A.time_to_event(stays, "ee2022")
        return {
            "tte": tte,
            "los": A.length_of_stay(tte),
            "rates": A.rates_per_100_person_years(tte, by="pilot"),
            "cif": A.cumulative_incidence(tte, by="pilot"),
            "effect": A.compare_shelter_effect(tte, CAUSE, ADJUST, n_reps=999),
            "gradient": A.prior_procedures_gradient(
                tte, CAUSE, [a for a in ADJUST if a != "n_prior"], n_reps=999),
        }


def write_ungated(r: dict, folder: Path) -> None:
    """The writing the gate replaces: raw tables and figures."""
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    for name, table in (("length_of_stay", r["los"]), ("rates_per_100py", r["rates"]),
                        ("cumulative_incidence_by_pilot", r["cif"].table),
                        ("shelter_24h_effect", r["effect"].table),
                        ("prior_procedures_gradient", r["gradient"].table)):
        table.to_csv(folder / "tables" / f"{name}.csv", index=False)
    for name, fig in (("rates_per_100py", plot_rates(r["rates"])),
                      ("cumulative_incidence_by_pilot", plot_cumulative_incidence(r["cif"]))):
        fig.savefig(folder / "figures" / f"{name}.png", dpi=120, bbox_inches="tight")
        plt.close(fig)


def check_only(r: dict, folder: Path | None = None) -> tuple:
    """The gate's checks of the five tables (no writing, no figures)."""
    gate = DisclosureGate.from_policy(synthetic=True)
    return (gate, gate.length_of_stay(r["los"]), gate.rates(r["rates"], r["tte"]),
            gate.cumulative_incidence(r["cif"], r["tte"], "cumulative_incidence_by_pilot"),
            gate.shelter_effect(r["effect"]), gate.prior_procedures_gradient(r["gradient"]))


def write_gated(r: dict, folder: Path) -> None:
    """The same outputs through the gate, with the record."""
    gate, los, rates, cif, effect, gradient = check_only(r)
    tables = folder / "tables"
    for checked in (los, rates, cif, effect, gradient):
        name = checked.table.name if hasattr(checked, "result") else checked.name
        gate.write_table(checked, tables / f"{name}.csv", record_root=folder)
    for name, fig, source in (("rates_per_100py", plot_rates(rates.data), rates),
                              ("cumulative_incidence_by_pilot",
                               plot_cumulative_incidence(cif.result), cif)):
        gate.write_figure(fig, folder / "figures" / f"{name}.png", [source], record_root=folder)
        plt.close(fig)
    gate.save_record(folder)


def seconds(write: Callable[[dict, Path], None], results: dict) -> float:
    """Wall time of one ``write`` into a fresh temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write(results, Path(tmp))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stays", type=Path, default=None)
    args = parser.parse_args()
    stays = default_stays(args.stays)
    results = report_results(stays)
    seconds(write_gated, results)  # warm-up: imports, the first linear programme
    seconds(write_ungated, results)
    plain, gated, checks = [], [], []
    for _ in range(args.runs):  # interleaved, so that drift in the machine's speed hits all
        plain.append(seconds(write_ungated, results))
        gated.append(seconds(write_gated, results))
        checks.append(seconds(check_only, results))
    p, g, c = (statistics.median(x) for x in (plain, gated, checks))
    print(f"default report tables ({len(stays):,} stays), medians of {args.runs} runs:")
    print(f"  ungated writing (tables CSV, figures PNG):        {p:6.2f} s")
    print(f"  gated writing (checks, figures, values, record):  {g:6.2f} s")
    print(f"  the checks alone (five tables, no writing):       {c:6.2f} s")
    print(f"  the gate adds {g - p:5.2f} s to the writing (target < 1 s); "
          f"ratio gated/ungated {g / p:4.2f}; checks/ungated {c / p:4.2f}")


if __name__ == "__main__":
    main()
