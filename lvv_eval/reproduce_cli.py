"""``lvv-eval reproduce``: the published figures recomputed, and a waterfall for one of them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from lvv_eval import config
from lvv_eval.cli import UserError
from lvv_eval.definitions import Definitions, DefinitionsError, load_definitions
from lvv_eval.indicators import load_capacity
from lvv_eval.reproduce import format_table, load_published, reproduce_table
from lvv_eval.schema import coerce_stays


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Options naming the stays table and the definitions file (shared by reproduce and monitor)."""
    parser.add_argument("--stays", type=Path, default=None,
                        help="stays table (default: data_clean/stays.parquet)")
    parser.add_argument("--truth", action="store_true",
                        help="use the calibrated SYNTHETIC truth instead of data_clean/")
    parser.add_argument("--definitions", type=Path, default=None,
                        help="definitions YAML (default: the package's specs/definitions.yaml)")


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
                        help="print the waterfall from the raw delivery to this figure")
    parser.add_argument("--pilot", default=None,
                        help="pilot for --reconcile (default: the figure's own pilot)")


def read_stays(path: Path) -> pd.DataFrame:
    """A stays table from parquet, in the contract's dtypes."""
    if not path.exists():
        raise UserError(f"{path} does not exist: run `lvv-eval ingest` first, or use --truth")
    try:
        return coerce_stays(pd.read_parquet(path))
    except KeyError as exc:
        raise UserError(f"{path}: {exc.args[0]}") from exc
    except (ValueError, TypeError) as exc:
        raise UserError(f"{path}: not a stays table in the contract's types ({exc})") from exc


def clean_is_synthetic(clean_dir: Path) -> bool:
    """Whether ingest's manifest in ``clean_dir`` marks the data as SYNTHETIC."""
    manifest = clean_dir / "manifest.json"
    if not manifest.exists():
        return False
    return bool(json.loads(manifest.read_text(encoding="utf-8")).get("synthetic", False))


def truth_stays() -> pd.DataFrame:
    """The calibrated SYNTHETIC cohort's stays (the generator's truth, not a delivery)."""
    from lvv_eval.synth.calibrate import calibrated_cohort

    return calibrated_cohort().stays


def definitions_from_args(path: Path | None) -> Definitions:
    """The definitions file named on the command line (or the package's); errors for the user."""
    try:
        return load_definitions(path)
    except DefinitionsError as exc:
        raise UserError(str(exc)) from exc


def stays_from_args(args: argparse.Namespace) -> tuple[pd.DataFrame, str]:
    """The stays chosen on the command line (--truth, --stays or data_clean/) and their source."""
    if args.truth:
        return truth_stays(), "SYNTHETIC calibrated truth (lvv_eval.synth.calibrate)"
    path = args.stays or config.clean_dir() / "stays.parquet"
    stays = read_stays(path)
    return stays, ("SYNTHETIC " if clean_is_synthetic(path.parent) else "") + str(path)


def inputs_from_args(args: argparse.Namespace) -> tuple[Definitions, pd.DataFrame, str, pd.DataFrame]:
    """Definitions, stays (with a description of their source) and capacity named by the options."""
    defs = definitions_from_args(args.definitions)
    stays, source = stays_from_args(args)
    try:
        capacity = load_capacity(defs)
    except DefinitionsError as exc:
        raise UserError(str(exc)) from exc
    return defs, stays, source, capacity


def run_cli(args: argparse.Namespace) -> int:
    """Print the reproduce table (or a reconciliation waterfall) and write it as CSV."""
    defs, stays, source, capacity = inputs_from_args(args)
    if args.reconcile:
        return _run_reconcile(args, defs, stays, capacity)
    published = load_published()
    try:
        table = reproduce_table(stays, args.publication, defs, capacity, published)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    out = args.out or config.reports_dir() / "reproduce" / f"reproduce_{args.publication}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    table.assign(data_source=source).to_csv(out, index=False)
    print(f"published vs computed ({args.publication}) from {source}")
    print(format_table(table, definitions=args.show_definitions))
    print(f"written: {out}")
    hard = table[table["role"] == "hard"]
    return 1 if args.check and (hard["status"] != "match").any() else 0


def _run_reconcile(
    args: argparse.Namespace, defs: Definitions, stays: pd.DataFrame, capacity: pd.DataFrame
) -> int:
    from lvv_eval.reconcile import format_waterfall, reconcile_figure

    try:
        waterfall = reconcile_figure(
            args.reconcile, stays, pilot=args.pilot, defs=defs, capacity=capacity,
            clean_dir=None if args.truth else (args.stays.parent if args.stays else None),
        )
    except (KeyError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    out = args.out or (config.reports_dir() / "reproduce"
                       / f"reconcile_{args.reconcile}_{waterfall.attrs['pilot']}.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    waterfall.to_csv(out, index=False)
    print(format_waterfall(waterfall))
    print(f"written: {out}")
    return 0
