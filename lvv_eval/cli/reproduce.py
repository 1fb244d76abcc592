"""``lvv-eval reproduce``: the published figures recomputed, and a waterfall for one of them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from lvv_eval import config
from lvv_eval.cli.common import add_data_arguments, inputs_from_args
from lvv_eval.errors import UserError
from lvv_eval.measures.definitions import Definitions
from lvv_eval.measures.reproduce import format_table, load_published, reproduce_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval reproduce``."""
    parser.add_argument(
        "--publication", default="all",
        help="publication key (kb2020, ppe2019, ee2022, or another figure-id prefix) or 'all'",
    )
    add_data_arguments(parser)
    parser.add_argument("--out", type=Path, default=None,
                        help="CSV to write (default: reports/reproduce/reproduce_<publication>.csv)")
    parser.add_argument("--show-definitions", action="store_true",
                        help="print each figure's definition in words")
    parser.add_argument("--check", action="store_true",
                        help="exit with 1 when a hard figure is not a match")
    parser.add_argument("--reconcile", metavar="FIGURE_ID", default=None,
                        help="print the waterfall from the raw delivery to this figure (needs the "
                             "ingest's audit trail beside the stays file)")
    parser.add_argument("--pilot", default=None,
                        help="pilot for --reconcile (default: the figure's own pilot)")
    parser.add_argument("--chain-verified", choices=("chain", "both"), default=None,
                        help="also compute every figure with outcomes verified against the IND and DT&V "
                             "extracts (chain: the chain's outcome; both: only where municipality and chain "
                             "agree) and show it beside the published and the municipal value")


def run_cli(args: argparse.Namespace) -> int:
    """Print the reproduce table (or a reconciliation waterfall) and write it as CSV."""
    defs, stays, path, source, capacity = inputs_from_args(args)
    if args.reconcile:
        return _run_reconcile(args, defs, stays, path, capacity)
    published = load_published()
    try:
        table = reproduce_table(stays, args.publication, defs, capacity, published)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    out = args.out or config.reports_dir() / "reproduce" / f"reproduce_{args.publication}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.chain_verified:
        table = _with_chain_verified(args, defs, stays, path, capacity, published, table)
    table.assign(data_source=source).to_csv(out, index=False)
    print(f"published vs computed ({args.publication}) from {source}")
    print(format_table(table, definitions=args.show_definitions))
    if args.chain_verified:
        print(format_chain_verified(table))
    print(f"written: {out}")
    hard = table[table["role"] == "hard"]
    return 1 if args.check and (hard["status"] != "match").any() else 0


def _with_chain_verified(args: argparse.Namespace, defs: Definitions, stays: pd.DataFrame, path: Path,
                         capacity: pd.DataFrame, published: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The table with every figure's chain-verified counterpart beside it."""
    from lvv_eval.linkage.data import load_chain_data
    from lvv_eval.linkage.outcomes import apply_chain_choices, beside_chain_verified
    from lvv_eval.linkage.reconcile import reconcile_chain

    if defs.chain_verification.needs_chain:
        raise UserError("--chain-verified compares with the municipal records, but these definitions already take "
                        "outcomes or prior procedures from the chain (chain_verification); use the package's "
                        "definitions or set both sources to municipal")
    chain_defs = defs.with_chain_choices(outcome_source=args.chain_verified)
    rec = reconcile_chain(stays, load_chain_data(path.parent))
    if not rec.registers:
        raise UserError(f"no IND or DT&V extract was ingested beside {path}; --chain-verified needs them")
    chain_stays = apply_chain_choices(stays, rec, chain_defs.chain_verification)
    chain_table = reproduce_table(chain_stays, args.publication, chain_defs, capacity, published)
    return beside_chain_verified(table, chain_table, args.chain_verified)


def format_chain_verified(table: pd.DataFrame) -> str:
    """The figures whose chain-verified value differs from the municipal one, as text."""
    moved = table[pd.to_numeric(table["chain_shift"], errors="coerce").fillna(0) != 0]
    source = table["chain_verified_source"].iloc[0] if len(table) else ""
    if moved.empty:
        return f"\nchain-verified ({source}): no figure moves"
    shown = moved.loc[:, ["figure_id", "published", "computed_value", "chain_verified_value", "chain_shift"]]
    return (f"\nchain-verified ({source}): figures that move when outcomes must be "
            f"{'confirmed by' if source == 'both' else 'read from'} the IND and DT&V registers\n"
            + shown.to_string(index=False, float_format=lambda v: f"{v:g}"))


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
