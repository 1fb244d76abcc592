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
from lvv_eval.measures.reproduce import (
    AGREES,
    DefinitionsVariant,
    format_table,
    load_published,
    reproduce_table,
)

if TYPE_CHECKING:
    from lvv_eval.disclosure import CheckedTable, DisclosureGate


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
    parser.add_argument("--out", type=path_argument, default=None,
                        help="CSV to write (default: reports/reproduce/reproduce_<publication>.csv; "
                             "with --definitions reports/reproduce/variants/<NAME>/...)")
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
    parser.add_argument("--chain-verified", choices=("chain", "both"), default=None,
                        help="also compute every figure with outcomes verified against the IND and DT&V "
                             "extracts (chain: the chain's outcome; both: only where municipality and chain "
                             "agree) and show it beside the published and the municipal value")
    add_disclosure_arguments(parser)


def run_cli(args: argparse.Namespace) -> int:
    """Print the reproduce table (or a reconciliation waterfall) and write it, gated, as CSV."""
    defs, stays, path, source, capacity = inputs_from_args(args)
    gate = gate_from_args(args, synthetic_stays(path))
    if args.reconcile:
        return _run_reconcile(args, defs, stays, path, capacity, gate)
    published = load_published()
    variant = DefinitionsVariant.of(args.definitions, args.variant) if args.definitions else None
    try:
        table = reproduce_table(stays, args.publication, defs, capacity, published,
                                stays_source=source, variant=variant)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    out = args.out or default_output(args.publication, variant)
    if variant is not None and out.resolve() == variant.path.resolve():
        raise UserError(f"{out} is the definitions file itself; name another --out")
    measures = {fid: spec.get("measure", "") for fid, spec in defs.indicators.items()}
    checked = gate.published_comparison(table, out.stem, measures,
                                        _bases(table, measures, defs, stays, capacity))
    extra = {} if "data_source" in table.columns else {"data_source": source}
    gate.write_table(checked, out, extra=extra, record_root=out.parent)
    print(f"published vs computed ({args.publication}) from {source}, as written "
          f"(x: not shown, disclosure control)")
    if variant is not None:
        print(f"definitions: variant '{variant.name}' from {variant.path} (sha256 {variant.sha256})")
    print(format_table(checked.shown(), definitions=args.show_definitions))
    print(f"written: {out} ({checked.entry.status}; record: {out.parent / 'disclosure.html'})")
    if args.chain_verified:
        _write_chain_verified(args, defs, stays, path, capacity, published, checked, gate, out)
    gate.save_record(out.parent)
    mark_reports_subfolder(out.parent, "reproduce", path)
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


def _write_chain_verified(args: argparse.Namespace, defs: Definitions, stays: pd.DataFrame, path: Path,
                          capacity: pd.DataFrame, published: pd.DataFrame, checked: CheckedTable,
                          gate: DisclosureGate, out: Path) -> None:
    """Every figure recomputed with chain-verified outcomes, gated and written beside the
    municipal table; the figures that move are printed."""
    from lvv_eval.linkage.outcomes import beside_chain_verified

    chain_defs, chain_stays = _chain_verified_inputs(args, defs, stays, path)
    chain_table = reproduce_table(chain_stays, args.publication, chain_defs, capacity, published)
    measures = {fid: spec.get("measure", "") for fid, spec in chain_defs.indicators.items()}
    name = f"{out.stem}_chain_{args.chain_verified}"
    chain_checked = gate.published_comparison(chain_table, name, measures,
                                              _bases(chain_table, measures, chain_defs, chain_stays, capacity))
    gate.write_table(chain_checked, out.with_name(f"{name}.csv"), record_root=out.parent)
    print(format_chain_verified(beside_chain_verified(checked.shown(), chain_checked.shown(),
                                                      args.chain_verified)))
    print(f"written: {out.with_name(f'{name}.csv')} ({chain_checked.entry.status})")


def _chain_verified_inputs(args: argparse.Namespace, defs: Definitions, stays: pd.DataFrame,
                           path: Path) -> tuple[Definitions, pd.DataFrame]:
    """The definitions with outcomes from the chain, and the stays with those outcomes applied."""
    from lvv_eval.linkage.data import load_chain_data
    from lvv_eval.linkage.outcomes import apply_chain_choices
    from lvv_eval.linkage.reconcile import reconcile_chain

    if defs.chain_verification.needs_chain:
        raise UserError("--chain-verified compares with the municipal records, but these definitions already take "
                        "outcomes or prior procedures from the chain (chain_verification); use the package's "
                        "definitions or set both sources to municipal")
    chain_defs = defs.with_chain_choices(outcome_source=args.chain_verified)
    rec = reconcile_chain(stays, load_chain_data(path.parent))
    if not rec.registers:
        raise UserError(f"no IND or DT&V extract was ingested beside {path}; --chain-verified needs them")
    return chain_defs, apply_chain_choices(stays, rec, chain_defs.chain_verification)


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


def default_output(publication: str, variant: DefinitionsVariant | None) -> Path:
    """Where the table goes: reports/reproduce/, a variant in its own folder (never the default
    file)."""
    folder = config.reports_dir() / "reproduce"
    if variant is not None:
        folder = folder / "variants" / variant.name
    return folder / f"reproduce_{publication}.csv"


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
