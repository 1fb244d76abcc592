"""Benchmark ``lvv-eval ingest``: 1,000,000 uncalibrated stays across the five delivery layouts.

Prints the median wall time of several ingest runs, their peak memory (each run in a fresh
process, so that the figure is the ingest's own; the RSS of the process and its worker
processes is sampled every 50 ms, and an upper bound from the per-process peaks is printed too), the median time of merely reading the same
files with pandas (calamine engine for Excel, pyarrow engine for CSV), and the ratio of the two.
Targets (issue 3): ingest at most 30 s, peak memory under 4 GB, ratio at most 3.

The deliveries are generated once (not timed) and cached in the temporary folder (``lvv_eval_bench/``).

    .venv/bin/python benchmarks/bench_ingest.py [--people 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(tempfile.gettempdir()) / "lvv_eval_bench"

CHILD = r"""
import json, os, resource, sys, threading, time
from lvv_eval.ingest.pipeline import run_ingest

def tree_rss_kib(pid):
    total = 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            total += next(int(l.split()[1]) for l in fh if l.startswith("VmRSS:"))
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                total += sum(tree_rss_kib(int(c)) for c in fh.read().split())
    except (OSError, StopIteration):
        pass
    return total

peak, done = [0], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], tree_rss_kib(os.getpid()))
        time.sleep(0.05)
threading.Thread(target=sample, daemon=True).start()
t = time.perf_counter()
result = run_ingest(sys.argv[1], sys.argv[2], progress=False,
                    workers=int(sys.argv[3]) if sys.argv[3] != "auto" else None)
seconds = time.perf_counter() - t
done.set()
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mib": peak[0] / 1024, "bound_mib": (own + 2 * worker) / 1024,
                  "stays": len(result.stays), "quarantined": len(result.quarantine),
                  "closes": result.manifest["row_accounting_closes"]}))
"""


def deliveries(people: int, seed: int) -> Path:
    """Raw deliveries of an uncalibrated cohort of ``people`` (generated once, then cached)."""
    folder = CACHE / f"ingest_{people}_{seed}"
    if (folder / "README.md").exists():
        return folder
    from lvv_eval.synth.dgp import simulate_cohort
    from lvv_eval.synth.render.deliveries import write_deliveries

    print(f"generating {people:,} people (seed {seed}) into {folder} (not timed) ...", flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    cohort = simulate_cohort(people, seed=seed)
    write_deliveries(cohort, folder, seed=seed)
    return folder


def read_plain(raw: Path) -> int:
    """Read every delivery with plain pandas, the baseline: returns the number of data rows."""
    import pandas as pd

    rows = 0
    for path in sorted(raw.glob("*/*")):
        if path.suffix == ".xlsx":
            sheets = pd.read_excel(path, sheet_name=None, engine="calamine", header=None)
            rows += sum(len(s) for s in sheets.values())
        elif path.suffix == ".csv":
            text = path.read_bytes()
            encoding = "utf-8"
            try:
                text.decode("utf-8")
            except UnicodeDecodeError:
                encoding = "cp1252"
            sep = ";" if b";" in text[:2000] else ","
            rows += len(pd.read_csv(path, sep=sep, encoding=encoding, engine="pyarrow", dtype=str))
    return rows


def time_reading(raw: Path, runs: int) -> list[float]:
    """Wall times of :func:`read_plain`, each in a fresh process."""
    code = (f"import sys, time; sys.path.insert(0, {str(HERE)!r}); from bench_ingest import read_plain; "
            "t = time.perf_counter(); read_plain(__import__('pathlib').Path(sys.argv[1])); "
            "print(time.perf_counter() - t)")
    return [float(subprocess.run([sys.executable, "-c", code, str(raw)], check=True, capture_output=True,
                                 text=True).stdout.split()[-1]) for _ in range(runs)]


def time_ingest(raw: Path, runs: int, workers: str = "auto") -> list[dict]:
    """Ingest runs, each in a fresh process; returns their JSON reports."""
    reports = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([sys.executable, "-c", CHILD, str(raw), str(Path(tmp) / "clean"), workers],
                                 check=True, capture_output=True, text=True).stdout
            reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    raw = deliveries(args.people, args.seed)
    t0 = time.perf_counter()
    reading = time_reading(raw, args.runs)
    ingest = time_ingest(raw, args.runs)
    single = time_ingest(raw, 1, workers="1")[0]
    read_s = statistics.median(reading)
    ingest_s = statistics.median(r["seconds"] for r in ingest)
    peak = max(r["peak_mib"] for r in ingest)
    bound = max(r["bound_mib"] for r in ingest)
    r0 = ingest[0]
    print(f"ingest benchmark: {args.people:,} people -> {r0['stays']:,} stays, {r0['quarantined']:,} "
          f"quarantined rows, accounting closes: {r0['closes']}")
    print(f"  plain pandas read (calamine / pyarrow): median {read_s:6.2f} s  runs {[round(x, 2) for x in reading]}")
    print(f"  lvv-eval ingest                       : median {ingest_s:6.2f} s  runs "
          f"{[round(r['seconds'], 2) for r in ingest]}")
    print(f"  ratio ingest / read                   : {ingest_s / read_s:6.2f}   (target <= 3)")
    print(f"  lvv-eval ingest, one process only     : {single['seconds']:6.2f} s  (ratio {single['seconds'] / read_s:.2f}; "
          f"the default uses two worker processes on two cores)")
    print(f"  peak memory of ingest (process tree)  : {peak:8.0f} MiB sampled; at most {bound:.0f} MiB "
          f"(own peak + 2 x largest worker peak) (target < 4096)")
    print(f"  target 30 s: {'met' if ingest_s <= 30 else 'NOT met'}; benchmark took {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
