"""Speed and memory of writing the SYNTHETIC deliveries (issue 2 targets).

Prints, each a median of several runs on this machine:
1. the calibrated default (about 2,200 stays): generation + all five deliveries + answer key
   (target: well under 10 s);
2. Excel writing alone on one large encoded sheet: rows/s of the prepared-row writer, against
   writing the same rows to CSV and with plain XlsxWriter ``write_row`` in the same run;
3. 1,000,000 uncalibrated people with deliveries, in a child process: wall time and peak memory
   (target: at most 60 s and under 4 GB).

Usage: python benchmarks/bench_deliveries.py [--repeat N] [--million-repeat N] [--skip-million]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter

from lvv_eval.synth.calibrate import calibrated_cohort
from lvv_eval.synth.dgp import simulate_cohort
from lvv_eval.synth.render.deliveries import (
    encode_wide,
    output_order,
    pilot_records,
    write_deliveries,
)
from lvv_eval.synth.render.layout import load_layouts
from lvv_eval.synth.render.writers import RawSheet, write_csv, write_workbook


def timed(fn, repeat: int) -> float:
    """Median wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_default(repeat: int, tmp: Path) -> None:
    def run() -> None:
        write_deliveries(calibrated_cohort(), tmp / "default", seed=20191)

    t = timed(run, repeat)
    print(f"calibrated default, generate + write all deliveries: median {t:.2f} s over {repeat} runs "
          f"(target < 10 s)")


def big_sheet(n_people: int) -> RawSheet:
    """Amsterdam's official sheet of an uncalibrated cohort, encoded, ready to write."""
    import numpy as np

    layout = load_layouts()["Amsterdam"]
    cohort = simulate_cohort(n_people, seed=3)
    records = pilot_records(cohort, layout, np.random.default_rng(0))
    records = output_order(records, layout, np.random.default_rng(0))
    cells = encode_wide(records, layout, 1, 0)
    return RawSheet("Officieel toegelaten", list(cells), list(cells.values()))


def plain_xlsxwriter(path: Path, sheet: RawSheet) -> None:
    """Baseline: XlsxWriter's own write_row, one call per row (constant_memory)."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet(sheet.name)
    date_format = wb.add_format({"num_format": "dd-mm-yyyy"})
    ws.write_row(0, 0, sheet.headers)
    columns = [c.values.tolist() for c in sheet.columns]
    for i, row in enumerate(zip(*columns, strict=True), start=1):
        ws.write_row(i, 0, row)
    del date_format
    wb.close()


def bench_excel(repeat: int, tmp: Path, n_people: int) -> None:
    sheet = big_sheet(n_people)
    rows, cells = sheet.n_rows, sheet.n_rows * len(sheet.headers)
    t_fast = timed(lambda: write_workbook(tmp / "fast.xlsx", [sheet], "bench"), repeat)
    t_csv = timed(lambda: write_csv(tmp / "same.csv", sheet, ";", "utf-8", "\n"), repeat)
    t_plain = timed(lambda: plain_xlsxwriter(tmp / "plain.xlsx", sheet), repeat)
    print(f"Excel, one sheet of {rows:,} rows x {len(sheet.headers)} columns ({cells:,} cells), "
          f"median of {repeat}:")
    print(f"  prepared-row XlsxWriter writer: {t_fast:.2f} s = {rows / t_fast:,.0f} rows/s")
    print(f"  same rows to CSV:               {t_csv:.2f} s = {rows / t_csv:,.0f} rows/s "
          f"(Excel/CSV time ratio {t_fast / t_csv:.1f})")
    print(f"  plain XlsxWriter write_row:     {t_plain:.2f} s = {rows / t_plain:,.0f} rows/s "
          f"(speed-up of the prepared-row writer {t_plain / t_fast:.1f}x)")


def million_child(out: Path) -> None:
    """Run inside a child process: 1,000,000 people, write, report time and peak memory as JSON."""
    t0 = time.perf_counter()
    cohort = simulate_cohort(1_000_000, seed=1)
    t1 = time.perf_counter()
    manifest = write_deliveries(cohort, out, seed=1)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"generate_s": t1 - t0, "write_s": t2 - t1, "peak_bytes": peak,
                      "stays": len(cohort.stays), "raw_rows": sum(manifest.raw_rows_per_pilot.values())}))


def bench_million(repeat: int, tmp: Path) -> None:
    results = []
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, __file__, "--million-child", str(tmp / "million")],
            check=True, capture_output=True, text=True,
        )
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    total = statistics.median(r["generate_s"] + r["write_s"] for r in results)
    gen = statistics.median(r["generate_s"] for r in results)
    peak = max(r["peak_bytes"] for r in results) / 2**30
    print(f"1,000,000 people ({results[0]['stays']:,} stays, {results[0]['raw_rows']:,} raw rows), "
          f"median of {repeat}: {total:.1f} s total (generation {gen:.1f} s, baseline in the same run; "
          f"deliveries/generation ratio {(total - gen) / gen:.1f}); peak memory {peak:.2f} GiB "
          f"(targets: <= 60 s, < 4 GiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--million-repeat", type=int, default=3)
    parser.add_argument("--skip-million", action="store_true")
    parser.add_argument("--excel-people", type=int, default=300_000)
    parser.add_argument("--million-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.million_child:
        million_child(args.million_child)
        return
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bench_default(args.repeat, tmp)
        bench_excel(args.repeat, tmp, args.excel_people)
        if not args.skip_million:
            bench_million(args.million_repeat, tmp)


if __name__ == "__main__":
    main()
