"""``lvv-eval reproduce``: the published figures recomputed, and a waterfall for one of them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from lvv_eval import config
from lvv_eval.cli.common import add_data_arguments, inputs_from_args
from lvv_eval.errors import UserError
from lvv_eval.measures.definitions import Definitions
from lvv_eval.measures.reproduce import (
    DefinitionsVariant,
    format_table,
    load_published,
    reproduce_table,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval reproduce``."""
    parser.add_argument(
        "--publication", default="all",
        help="publication key (kb2020, ppe2019, ee2022, or another figure-id prefix) or 'all'",
    )
    add_data_arguments(parser)
    parser.add_argument("--variant", default=None, metavar="NAME",
                        help="name of the definitions variant given with --definitions (default: "
                             "the file's name without .yaml)")
    parser.add_argument("--out", type=Path, default=None,
                        help="CSV to write (default: reports/reproduce/reproduce_<publication>.csv; "
                             "with --definitions reports/reproduce/variants/<NAME>/...)")
    parser.add_argument("--show-definitions", action="store_true",
                        help="print each figure's definition in words")
    parser.add_argument("--check", action="store_true",
                        help="exit with 1 when a hard figure is not a match")
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
    variant = DefinitionsVariant.of(args.definitions, args.variant) if args.definitions else None
    try:
        table = reproduce_table(stays, args.publication, defs, capacity, published, variant)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    out = args.out or default_output(args.publication, variant)
    if variant is not None and out.resolve() == variant.path.resolve():
        raise UserError(f"{out} is the definitions file itself; name another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    table.assign(data_source=source).to_csv(out, index=False)
    print(f"published vs computed ({args.publication}) from {source}")
    if variant is not None:
        print(f"definitions: variant '{variant.name}' from {variant.path} (sha256 {variant.sha256})")
    print(format_table(table, definitions=args.show_definitions))
    print(f"written: {out}")
    hard = table[table["role"] == "hard"]
    return 1 if args.check and (hard["status"] != "match").any() else 0


def default_output(publication: str, variant: DefinitionsVariant | None) -> Path:
    """Where the table goes: reports/reproduce/, a variant in its own folder (never the default
    file)."""
    folder = config.reports_dir() / "reproduce"
    if variant is not None:
        folder = folder / "variants" / variant.name
    return folder / f"reproduce_{publication}.csv"


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
