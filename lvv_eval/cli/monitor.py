"""``lvv-eval monitor``: the monitor's indicators per pilot at a list of dates."""

from __future__ import annotations

import argparse

import pandas as pd

from lvv_eval import config
from lvv_eval.cli.common import (
    add_data_arguments,
    add_disclosure_arguments,
    gate_from_args,
    inputs_from_args,
    mark_reports_subfolder,
    path_argument,
    synthetic_stays,
)
from lvv_eval.errors import UserError
from lvv_eval.measures.monitor import ALL_PILOTS, monitor_snapshots, monitor_wide, parse_dates


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval monitor``."""
    parser.add_argument("--dates", nargs="+", default=None, metavar="YYYY-MM-DD",
                        help="snapshot dates (default: the six monitor rounds up to 2020-11-01)")
    add_data_arguments(parser)
    parser.add_argument("--pilot", default=ALL_PILOTS,
                        help="pilot to print (all are written); default: all pilots together")
    parser.add_argument("--out", type=path_argument, default=None,
                        help="CSV to write (default: reports/monitor/monitor_snapshots.csv)")
    add_disclosure_arguments(parser)


def run_cli(args: argparse.Namespace) -> int:
    """Print one pilot's snapshots and write the tidy table of all pilots as CSV."""
    if args.pilot not in (*config.PILOTS, ALL_PILOTS):
        raise UserError(f"unknown pilot {args.pilot!r}; use one of {', '.join(config.PILOTS)} or all")
    try:
        dates = parse_dates(args.dates) if args.dates else None
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    defs, stays, path, source, capacity = inputs_from_args(args)
    gate = gate_from_args(args, synthetic_stays(path))
    table = monitor_snapshots(stays, dates, defs, capacity)
    out = args.out or config.reports_dir() / "monitor" / "monitor_snapshots.csv"
    checked = gate.monitor(table, defs.monitor, ALL_PILOTS, out.stem)
    gate.write_table(checked, out, extra={"data_source": source}, record_root=out.parent)
    gate.save_record(out.parent)
    mark_reports_subfolder(out.parent, "monitor", path)
    print(f"monitor snapshots, pilot {args.pilot}, from {source}, as written (x: not shown, "
          f"disclosure control)")
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(monitor_wide(checked.shown(), args.pilot).to_string(
            float_format=lambda v: f"{v:.4g}"))
    print(f"written (all pilots, tidy): {out} ({checked.entry.status}; "
          f"record: {out.parent / 'disclosure.html'})")
    return 0
