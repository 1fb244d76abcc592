"""Speed and memory of ``lvv-eval synth`` (issue 2 targets).

Targets: calibrated default <= 10 s; 1,000,000 uncalibrated people <= 60 s with peak memory
< 4 GB, deliveries included, on a 2-core machine. Each case runs in a fresh subprocess (so peak
RSS is its own) several times; the median is printed with a same-run baseline: writing the same
number of stays as one plain CSV with pandas.

    python benchmarks/bench_synth.py [--runs 3] [--people 1000000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CASE = r"""
import json, resource, sys, time, tempfile
from pathlib import Path
mode, people = sys.argv[1], int(sys.argv[2])
out = Path(tempfile.mkdtemp()) / "synthetic"
t0 = time.perf_counter()
if mode == "baseline":
    from lvv_eval.synth.dgp import simulate_cohort
    cohort = simulate_cohort(people, seed=7)
    t0 = time.perf_counter()
    out.mkdir(parents=True)
    cohort.stays.to_csv(out / "plain.csv", index=False)
else:
    from lvv_eval.synth.run import synthesise
    if mode == "calibrated":
        synthesise(out, progress=False)
    else:
        synthesise(out, seed=7, people=people, uncalibrated=True, progress=False)
secs = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": secs, "peak_mb": peak_mb}))
"""


def run_case(mode: str, people: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CASE, mode, str(people)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def summarise(name: str, results: list[dict[str, float]], target_s: float | None,
              baseline: float | None = None) -> None:
    secs = statistics.median(r["seconds"] for r in results)
    peak = max(r["peak_mb"] for r in results)
    line = f"{name:<36} median {secs:7.2f} s  peak {peak:7.0f} MB  runs {[round(r['seconds'], 2) for r in results]}"
    if baseline:
        line += f"  ratio to plain CSV {secs / baseline:5.1f}x"
    if target_s:
        line += f"  target <= {target_s:.0f} s: {'OK' if secs <= target_s else 'MISSED'}"
    print(line, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--people", type=int, default=1_000_000)
    a = ap.parse_args()
    cal = [run_case("calibrated", 0) for _ in range(a.runs)]
    summarise("calibrated default (synth)", cal, 10)
    base = [run_case("baseline", a.people) for _ in range(a.runs)]
    base_s = statistics.median(r["seconds"] for r in base)
    summarise(f"baseline: {a.people:,} stays to one CSV", base, None)
    big = [run_case("uncalibrated", a.people) for _ in range(a.runs)]
    summarise(f"{a.people:,} uncalibrated people (synth)", big, 60, base_s)
    peak_gb = max(r["peak_mb"] for r in big) / 1024
    print(f"peak memory {peak_gb:.2f} GB (target < 4 GB: {'OK' if peak_gb < 4 else 'MISSED'})")


if __name__ == "__main__":
    main()
