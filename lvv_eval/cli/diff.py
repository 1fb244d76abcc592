"""``lvv-eval diff RUN_A RUN_B``: which tables changed between two report runs, and by how much."""

from __future__ import annotations

import argparse

from lvv_eval.report.history import diff_runs, parameter_changes, run_folder


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval diff``."""
    parser.add_argument("run_a", help="run id in reports/ (or a path; 'previous' and 'latest' work)")
    parser.add_argument("run_b", help="run id in reports/ (or a path)")
    parser.add_argument("--all", action="store_true", help="list unchanged tables too")


def run_cli(args: argparse.Namespace) -> int:
    """Run ``lvv-eval diff``; exit 0 whether or not tables changed."""
    a, b = run_folder(args.run_a), run_folder(args.run_b)
    print(f"diff: {a.name} -> {b.name}")
    for line in parameter_changes(a, b):
        print(f"  parameter {line}")
    diffs = diff_runs(a, b)
    changed = [d for d in diffs if d.status != "same"]
    for d in diffs:
        if d.status == "same" and not args.all:
            continue
        if d.status == "changed":
            detail = f"{d.cells_changed} cell(s) changed, rows {d.rows_a} -> {d.rows_b}"
            if d.rows_removed or d.rows_added:
                detail += f" ({d.rows_removed} row(s) only in A, {d.rows_added} only in B)"
            if d.where:
                detail += f"; largest change {d.max_abs_change:.4g} ({d.max_rel_change:.1%}): {d.where}"
        else:
            detail = ""
        print(f"  {d.status:8s} {d.notebook}/{d.table}" + (f": {detail}" if detail else ""))
    print(f"diff: {len(changed)} of {len(diffs)} table(s) differ")
    return 0
