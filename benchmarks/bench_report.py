"""Speed of `lvv-eval report` against the issue's targets (medians of several runs, same-run baseline).

    .venv/bin/python benchmarks/bench_report.py [--reps 3] [--stays PATH]

Runs the command line as a user would (``lvv-eval report``, every notebook in notebooks/, two
worker processes) on the default data (``data_clean/stays.parquet``; run ``make run`` first),
writing into a temporary data root so that reports/ is left alone. Measured, each the median of
``--reps`` runs:

1. the full report from cold (``--no-cache``): target <= 90 s;
2. a re-run with nothing changed (every notebook reused): target <= 10 s;
3. notebook 04 re-run after a change of one of its integer parameters (a new value each time;
   the whole report when no other notebook takes that parameter, so that the others are
   reused, else ``--notebook 04``): target <= notebook 04's single cold run
   (``--notebook 04 --no-cache``).

Baseline in the same run: a single sequential papermill run of the notebooks (the documented
one-liner ``jupytext --to ipynb -o - NB | papermill - OUT``, one notebook after the other, no
HTML, workbook or cache). Prints each median, the ratios and whether the targets hold.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOTEBOOK = "04_outcomes_by_pilot"


def timed_command(command: list[str] | str, env: dict[str, str], cwd: Path) -> float:
    """Wall seconds of one command (which must succeed)."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          shell=isinstance(command, str), timeout=3600)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def changed_parameter(notebooks: list[Path]) -> tuple[str, int, bool]:
    """An integer parameter of NOTEBOOK with its default, and whether no other notebook takes it
    (then the whole report is re-run and the others are reused; else NOTEBOOK alone)."""
    from lvv_eval.report.params import notebook_parameters

    declared = {nb.stem: notebook_parameters(nb) for nb in notebooks}
    others = {name for stem, params in declared.items() if stem != NOTEBOOK for name in params}
    ints = [(name, p) for name, p in declared[NOTEBOOK].items() if p.type == "int"]
    if not ints:
        raise SystemExit(f"{NOTEBOOK} declares no integer parameter")
    own = [(name, p) for name, p in ints if name not in others]
    name, param = (own or ints)[0]
    return name, int(param.default), bool(own)


def median_of(label: str, runs: list[float]) -> float:
    value = statistics.median(runs)
    print(f"  {label}: median {value:.1f} s of {len(runs)} ({', '.join(f'{r:.1f}' for r in runs)})",
          flush=True)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--stays", type=Path, default=ROOT / "data_clean" / "stays.parquet")
    parser.add_argument("--parameter-change-only", action="store_true",
                        help="measure only 3. (the single cold run and the parameter change)")
    args = parser.parse_args()
    stays = args.stays.resolve()
    if not stays.is_file():
        raise SystemExit(f"{stays} not found: run `make run` first")
    notebooks = sorted((ROOT / "notebooks").glob("*.py"))
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        root = Path(tmp)
        env = dict(os.environ, LVV_DATA_ROOT=str(root))
        report = [str(BIN / "lvv-eval"), "report", "--stays", str(stays)]
        print(f"bench_report: {len(notebooks)} notebook(s) on {stays}; {os.cpu_count()} cores; "
              f"{args.reps} runs each", flush=True)

        baseline = []
        for _ in range(0 if args.parameter_change_only else args.reps):
            start = time.perf_counter()
            for nb in notebooks:
                out = root / f"baseline-{nb.stem}.ipynb"
                timed_command(f"{BIN}/jupytext --to ipynb -o - {nb} | {BIN}/papermill - {out} "
                              f"-p stays_path {stays} --no-progress-bar", env, root)
            baseline.append(time.perf_counter() - start)
        if args.parameter_change_only:
            base = full = unchanged = float("nan")
        else:
            base = median_of("baseline: sequential papermill, every notebook", baseline)
            full = median_of("full report, cold (--no-cache)", [
                timed_command([*report, "--no-cache"], env, ROOT) for _ in range(args.reps)])
            unchanged = median_of("re-run, nothing changed", [
                timed_command(report, env, ROOT) for _ in range(args.reps)])
        single = median_of(f"{NOTEBOOK} alone, cold", [
            timed_command([*report, "--notebook", NOTEBOOK, "--no-cache"], env, ROOT)
            for _ in range(args.reps)])
        name, default, own = changed_parameter(notebooks)
        scope = [] if own else ["--notebook", NOTEBOOK]
        label = "the report" if own else f"{NOTEBOOK} alone"
        changed = median_of(f"{label} after a change of {NOTEBOOK}'s {name}", [
            timed_command([*report, *scope, "-p", f"{name}={default + 1 + i}"], env, ROOT)
            for i in range(args.reps)])

    print("ratios:")
    print(f"  full report / sequential papermill baseline: {full / base:.2f}")
    print(f"  nothing changed / full report: {unchanged / full:.3f}")
    print(f"  parameter change / single cold run: {changed / single:.2f}")
    print("targets:")
    for name, value, target in (("full report <= 90 s", full, 90.0),
                                ("nothing changed <= 10 s", unchanged, 10.0),
                                ("parameter change <= single cold run", changed, single)):
        print(f"  {name}: {value:.1f} s {'OK' if value <= target else 'MISSED'}")


if __name__ == "__main__":
    main()
