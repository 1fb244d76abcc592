"""Speed of `lvv-eval sensitivity` against the issue's targets (medians, same-run baselines).

    .venv/bin/python benchmarks/bench_sensitivity.py [--reps 3] [--large PATH] [--models]

1. Headline shares of the default grid (>= 1,000 specifications x 5 pilots + all) on the default
   data (calibrated SYNTHETIC cohort): target <= 10 s. Baselines timed in the same run: one
   ``reproduce_table`` call (all 63 published figures) and a naive per-specification loop of
   ``compute_indicator`` (timed on 40 specifications, scaled to the grid).
2. The same on 1,000,000 stays (``lvv-eval synth --uncalibrated --people 1000000``; its truth
   stays in ``_answer_key/truth_stays.parquet``; give the file with --large): target <= 60 s.
   Baseline: the naive loop on 3 specifications, scaled.
3. With --models: the model part (adjusted 24-hour-shelter HR with its bootstrap interval,
   cumulative incidence at 365 days by pilot) for the first 1,000 specifications of the grid on
   the default data, all cores: target <= 120 s. Baseline: one ``compare_shelter_effect`` call.
"""

from __future__ import annotations

import argparse
import statistics
import time
import timeit
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from lvv_eval.measures.indicators import compute_indicator
from lvv_eval.measures.reproduce import reproduce_table
from lvv_eval.schema import coerce_stays
from lvv_eval.sensitivity import load_grid, run_grid
from lvv_eval.sensitivity.indicators import PILOT_LABELS
from lvv_eval.sensitivity.specs import resolve_grid


def timed(fn: Callable[[], object], reps: int) -> float:
    """Median wall time of ``reps`` calls."""
    return statistics.median(timeit.repeat(fn, number=1, repeat=reps))


def naive_loop_seconds(stays: pd.DataFrame, n_specs: int) -> float:
    """Seconds per specification of a loop of compute_indicator over outcomes and pilots."""
    grid = load_grid()
    specs = resolve_grid(grid)[:n_specs]
    outcomes = [o.indicator for o in grid.spec.outcomes.values()]
    start = time.perf_counter()
    for spec in specs:
        defs = spec.definitions
        for indicator in outcomes:
            for pilot in PILOT_LABELS:
                compute_indicator(defs, defs.indicators[indicator], stays, pilot=pilot)
    return (time.perf_counter() - start) / len(specs)


def bench_indicators(stays: pd.DataFrame, label: str, reps: int, naive_specs: int,
                     target: float) -> None:
    n_specs = len(load_grid().choices())
    grid_s = timed(lambda: run_grid(stays), reps)
    per_spec = naive_loop_seconds(stays, naive_specs)
    print(f"{label}: {len(stays):,} stays, {n_specs} specifications x {len(PILOT_LABELS)} "
          f"pilot rows x 3 outcomes")
    print(f"  run_grid (indicators): median {grid_s:.2f} s over {reps} runs (target <= {target:g} s)")
    print(f"  naive compute_indicator loop: {per_spec:.3f} s per specification "
          f"(timed on {naive_specs}) -> {per_spec * n_specs:.0f} s for the grid; "
          f"ratio {per_spec * n_specs / grid_s:.0f}x")
    return per_spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--large", type=Path, default=None,
                        help="stays parquet with ~1,000,000 stays (the uncalibrated answer key)")
    parser.add_argument("--models", action="store_true", help="also time the model part")
    parser.add_argument("--model-specs", type=int, default=1000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    from lvv_eval.synth.calibrate import calibrated_cohort

    stays = calibrated_cohort().stays
    reproduce_s = timed(lambda: reproduce_table(stays, "all"), args.reps)
    print(f"baseline: one reproduce_table call (63 figures), median {reproduce_s:.2f} s")
    bench_indicators(stays, "default data", args.reps, 40, 10)
    if args.large is not None:
        large = coerce_stays(pd.read_parquet(args.large))
        bench_indicators(large, "large data", max(1, args.reps), 3, 60)
    if args.models:
        from lvv_eval.analysis import compare_shelter_effect, time_to_event

        grid = load_grid()
        tte = time_to_event(stays[stays["in_covenant"].fillna(False).astype(bool)], "ee2022")
        adjust = list(grid.spec.models.adjust)
        one = timed(lambda: compare_shelter_effect(tte, "durable", adjust), 1)
        chosen = grid.choices()[: args.model_specs]
        start = time.perf_counter()
        res = run_grid(stays, grid, "models", only=chosen, n_jobs=-1)
        models_s = time.perf_counter() - start
        fits = res.table["interval"].str.startswith("wild").sum() // max(1, 1)
        print(f"baseline: one compare_shelter_effect (naive + adjusted, bootstrap p): {one:.2f} s")
        print(f"models: {len(chosen)} specifications ({res.table.spec_id.nunique()} ids, "
              f"{fits} hazard-ratio rows) in {models_s:.1f} s, all cores (target <= 120 s); "
              f"{models_s / one:.0f}x one compare_shelter_effect")


if __name__ == "__main__":
    main()
