"""``lvv-eval reproduce``: the published figures recomputed, and a waterfall for one of them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

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
from lvv_eval.disclosure.published import MEASURE_KIND, check_matches
from lvv_eval.errors import UserError
from lvv_eval.measures.definitions import Definitions
from lvv_eval.measures.indicators import compute_figure
from lvv_eval.measures.reproduce import AGREES, format_table, load_published, reproduce_table

if TYPE_CHECKING:
    from lvv_eval.disclosure import DisclosureGate


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
    add_disclosure_arguments(parser)


def run_cli(args: argparse.Namespace) -> int:
    """Print the reproduce table (or a reconciliation waterfall) and write it, gated, as CSV."""
    defs, stays, path, source, capacity = inputs_from_args(args)
    gate = gate_from_args(args, synthetic_stays(path))
    if args.reconcile:
        return _run_reconcile(args, defs, stays, path, capacity, gate)
    published = load_published()
    try:
        table = reproduce_table(stays, args.publication, defs, capacity, published,
                                stays_source=source)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    out = args.out or config.reports_dir() / "reproduce" / f"reproduce_{args.publication}.csv"
    measures = {fid: spec.get("measure", "") for fid, spec in defs.indicators.items()}
    checked = gate.published_comparison(table, out.stem, measures,
                                        _bases(table, measures, defs, stays, capacity))
    extra = {} if "data_source" in table.columns else {"data_source": source}
    gate.write_table(checked, out, extra=extra, record_root=out.parent)
    gate.save_record(out.parent)
    mark_reports_subfolder(out.parent, "reproduce", path)
    print(f"published vs computed ({args.publication}) from {source}, as written "
          f"(x: not shown, disclosure control)")
    print(format_table(checked.shown(), definitions=args.show_definitions))
    print(f"written: {out} ({checked.entry.status}; record: {out.parent / 'disclosure.html'})")
    hard = table[table["role"] == "hard"]
    return 1 if args.check and (~hard["status"].astype(str).isin(AGREES)).any() else 0


def _bases(table: pd.DataFrame, measures: dict[str, str], defs: Definitions, stays: pd.DataFrame,
           capacity: pd.DataFrame) -> dict[str, tuple[float | None, float | None]]:
    """Numerator and denominator behind each computed value that differs from its published one
    and rests on counts (the gate checks them against the threshold)."""
    needs = ~check_matches(table) & table["figure_id"].map(
        lambda f: MEASURE_KIND.get(measures.get(f, ""), "") in ("share", "count_share", "mean")
    ).to_numpy(bool)
    out = {}
    for fid in table.loc[needs, "figure_id"]:
        result = compute_figure(defs, fid, stays, capacity)
        out[fid] = (result.numerator, result.denominator)
    return out


def _run_reconcile(args: argparse.Namespace, defs: Definitions, stays: pd.DataFrame,
                   stays_path: Path, capacity: pd.DataFrame, gate: DisclosureGate) -> int:
    from lvv_eval.measures.reconcile import AuditTrail, reconcile_figure

    trail = AuditTrail.beside(stays_path)
    try:
        waterfall = reconcile_figure(args.reconcile, stays, pilot=args.pilot, defs=defs,
                                     capacity=capacity, trail=trail)
    except (KeyError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    out = args.out or (config.reports_dir() / "reproduce"
                       / f"reconcile_{args.reconcile}_{waterfall.attrs['pilot']}.csv")
    checked = gate.waterfall(waterfall, out.stem)
    gate.write_table(checked, out, record_root=out.parent)
    gate.save_record(out.parent)
    mark_reports_subfolder(out.parent, "reproduce", stays_path)
    print(f"reconciliation of {args.reconcile} for {waterfall.attrs['pilot']}, as written "
          f"(x: not shown, disclosure control)")
    print(checked.shown()[["label_en", "change", "remaining", "detail"]].to_string(index=False))
    print(f"written: {out} ({checked.entry.status}; record: {out.parent / 'disclosure.html'})")
    return 0
