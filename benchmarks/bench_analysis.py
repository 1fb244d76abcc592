"""Speed of the analysis layer on 1,000,000 stays (issue 5).

Targets: cumulative incidence by pilot <= 5 s; cause-specific Cox model (strata by pilot, Breslow
ties, robust errors by pilot) <= 60 s. Prints the median of several runs, the ratio against a
baseline timed in the same run (statsmodels called directly: ``CumIncidenceRight`` per pilot and a
plain ``PHReg`` fit without robust errors) and, where ``Rscript`` is installed, R's time on the same
data (survfit multi-state by pilot; coxph with strata and cluster) as the yardstick.

    .venv/bin/python benchmarks/bench_analysis.py [--stays 1000000] [--runs 5] [--no-r]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import CumIncidenceRight

from lvv_eval.analysis import cumulative_incidence, fit_cause_specific_cox, time_to_event
from lvv_eval.analysis.design import design_matrix
from lvv_eval.synth.dgp import simulate_cohort

COVARIATES = [
    "shelter_24h", "n_prior", "safe_country", "asylum_background", "age_10y", "female",
    "guidance_intensity",
]
CAUSE = "durable"

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
d$guidance_intensity <- factor(d$guidance_intensity, levels = c("light", "standard", "intensive"))
t_aj <- system.time(survfit(Surv(time, factor(event, levels = 0:3)) ~ pilot, data = d))[["elapsed"]]
t_cox <- system.time(coxph(Surv(time, event == 1) ~ shelter_24h + n_prior + safe_country +
  asylum_background + age_10y + female + guidance_intensity + strata(pilot), data = d,
  ties = "breslow", cluster = pilot))[["elapsed"]]
cat(sprintf("%.3f %.3f\n", t_aj, t_cox))
"""


def median_time(fn: Callable[[], object], runs: int) -> float:
    """Median wall time of ``runs`` calls of ``fn`` (seconds)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def benchmark_frame(n_stays: int, seed: int = 5) -> pd.DataFrame:
    """``n_stays`` complete-case stays of an uncalibrated synthetic cohort (ee2022 scheme)."""
    cohort = simulate_cohort(int(n_stays * 1.08), seed=seed)  # unknown sex is missing: ~1% more dropped
    tte = time_to_event(cohort.stays, "ee2022")
    attrs = dict(tte.attrs)
    tte = tte.dropna(subset=COVARIATES).iloc[:n_stays].reset_index(drop=True)
    tte.attrs = attrs
    if len(tte) < n_stays:
        raise RuntimeError(f"only {len(tte)} complete stays drawn; raise the oversampling")
    return tte


def baseline_cuminc(tte: pd.DataFrame) -> None:
    """statsmodels directly: one ``CumIncidenceRight`` per pilot."""
    for _, part in tte.groupby("pilot", observed=True):
        CumIncidenceRight(part["time"].to_numpy(float), part["event"].to_numpy())


def baseline_phreg(tte: pd.DataFrame) -> None:
    """statsmodels directly: a plain stratified ``PHReg`` fit, naive errors only."""
    x = design_matrix(tte, COVARIATES).to_numpy()
    status = (tte["event"] == 1).to_numpy(float)
    PHReg(tte["time"].to_numpy(float), x, status=status, strata=tte["pilot"].cat.codes.to_numpy(),
          ties="breslow").fit()


def r_times(tte: pd.DataFrame) -> tuple[float, float] | None:
    """R's (survfit multi-state, coxph) elapsed seconds on the same data, or None without R."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "stays.csv"
        script = Path(tmp) / "bench.R"
        cols = ["pilot", "time", "event", *COVARIATES]
        tte[cols].to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        out = subprocess.run(["Rscript", str(script), str(csv)], capture_output=True, text=True,
                             check=True)
    aj, cox = (float(v) for v in out.stdout.split())
    return aj, cox


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stays", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-r", action="store_true", help="skip the R yardstick")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    start = time.perf_counter()
    tte = benchmark_frame(args.stays)
    print(f"data: {len(tte):,} stays, {tte['time'].nunique()} distinct days, "
          f"{(tte['event'] == 1).sum():,} '{CAUSE}' exits (drawn in {time.perf_counter() - start:.1f} s)")

    cox_runs = max(3, args.runs // 2)
    t_cif = median_time(lambda: cumulative_incidence(tte, by="pilot"), args.runs)
    t_cif0 = median_time(lambda: baseline_cuminc(tte), args.runs)
    t_cox = median_time(
        lambda: fit_cause_specific_cox(tte, CAUSE, COVARIATES, ties="breslow", cluster="pilot"),
        cox_runs,
    )
    t_cox0 = median_time(lambda: baseline_phreg(tte), cox_runs)

    print(f"cumulative incidence by pilot: {t_cif:6.2f} s (target <= 5 s; median of {args.runs}); "
          f"baseline CumIncidenceRight per pilot {t_cif0:.2f} s, ratio {t_cif / t_cif0:.2f}")
    print(f"cause-specific Cox + robust:   {t_cox:6.2f} s (target <= 60 s; median of {cox_runs}); "
          f"baseline plain PHReg {t_cox0:.2f} s, ratio {t_cox / t_cox0:.2f}")
    r = None if args.no_r else r_times(tte)
    if r is None:
        print("R: not run (Rscript not installed or --no-r)")
    else:
        print(f"R survfit multi-state by pilot: {r[0]:6.2f} s  -> ours/R = {t_cif / r[0]:.3f}")
        print(f"R coxph strata + cluster:       {r[1]:6.2f} s  -> ours/R = {t_cox / r[1]:.3f}")
    print(f"speed check: cuminc {'OK' if t_cif <= 5 else 'TOO SLOW'}, "
          f"cox {'OK' if t_cox <= 60 else 'TOO SLOW'}  (numpy {np.__version__})")


if __name__ == "__main__":
    main()
