"""``lvv-eval reproduce``: the published figures recomputed, and a waterfall for one of them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from lvv_eval import config
from lvv_eval.cli.common import add_data_arguments, inputs_from_args, path_argument
from lvv_eval.errors import UserError
from lvv_eval.measures.definitions import Definitions
from lvv_eval.measures.reproduce import AGREES, format_table, load_published, reproduce_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval reproduce``."""
    parser.add_argument(
        "--publication", default="all",
        help="publication key (kb2020, ppe2019, ee2022, or another figure-id prefix) or 'all'",
    )
    add_data_arguments(parser)
    parser.add_argument("--out", type=path_argument, default=None,
                        help="CSV to write (default: reports/reproduce/reproduce_<publication>.csv)")
    parser.add_argument("--show-definitions", action="store_true",
                        help="print each figure's definition in words")
    parser.add_argument("--check", action="store_true",
                        help="exit with 1 when a hard figure is neither a match nor an input equal to "
                             "its publication")
    parser.add_argument("--reconcile", metavar="FIGURE_ID", default=None,
                        help="print the waterfall from the raw delivery to this figure (needs the "
                             "ingest's audit trail beside the stays file)")
    parser.add_argument("--pilot", default=None,
                        help="pilot for --reconcile (default: the figure's own pilot)")


def run_cli(args: argparse.Namespace) -> int:
    """Print the reproduce table (or a reconciliation waterfall) and write it as CSV."""
    defs, stays, path, source, capacity = inputs_from_args(args)
    if args.reconcile:
        return _run_reconcile(args, defs, stays, path, capacity)
    published = load_published()
    try:
        table = reproduce_table(stays, args.publication, defs, capacity, published,
                                stays_source=source)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    out = args.out or config.reports_dir() / "reproduce" / f"reproduce_{args.publication}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    print(f"published vs computed ({args.publication}) from {source}")
    print(format_table(table, definitions=args.show_definitions))
    print(f"written: {out}")
    hard = table[table["role"] == "hard"]
    return 1 if args.check and (~hard["status"].astype(str).isin(AGREES)).any() else 0


def _run_reconcile(args: argparse.Namespace, defs: Definitions, stays: pd.DataFrame,
                   stays_path: Path, capacity: pd.DataFrame) -> int:
    from lvv_eval.measures.reconcile import AuditTrail, format_waterfall, reconcile_figure

    trail = AuditTrail.beside(stays_path)
    try:
        waterfall = reconcile_figure(args.reconcile, stays, pilot=args.pilot, defs=defs,
                                     capacity=capacity, trail=trail)
    except (KeyError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    out = args.out or (config.reports_dir() / "reproduce"
                       / f"reconcile_{args.reconcile}_{waterfall.attrs['pilot']}.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    waterfall.to_csv(out, index=False)
    print(format_waterfall(waterfall))
    print(f"written: {out}")
    return 0
