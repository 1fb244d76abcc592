"""``lvv-eval chain``: link the stays to the IND and DT&V extracts and reconcile their outcomes."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from lvv_eval import config
from lvv_eval.cli.common import add_disclosure_arguments, gate_from_args, path_argument, read_stays
from lvv_eval.disclosure import CheckedTable, DisclosureGate
from lvv_eval.errors import UserError
from lvv_eval.linkage.reconcile import ChainReconciliation
from lvv_eval.outputs import check_output_folder, replace_folder, write_owner_marker
from lvv_eval.provenance import stays_provenance

REVIEW_FILES = ("agreement.parquet", "prior_procedures.parquet", "discrepancies.csv", "chain_only.csv",
                "agreement_matrix_unchecked.csv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval chain``."""
    parser.add_argument("--clean-dir", type=Path, default=None,
                        help="ingest's output with stays and chain tables (default: data_clean)")
    parser.add_argument("--out", type=path_argument, default=None,
                        help="folder for the disclosure-checked aggregate tables (default: reports/chain; "
                             "replaced only if `lvv-eval chain` wrote it)")
    parser.add_argument("--review-out", type=path_argument, default=None,
                        help="folder for the per-stay tables and discrepancy list, microdata for data "
                             "managers (default: data_review/chain, outside reports/)")
    parser.add_argument("--if-present", action="store_true",
                        help="do nothing (exit 0) when no IND or DT&V extract was ingested")
    parser.add_argument("--scheme", default="kb2020_letter",
                        help="outcome scheme of definitions.yaml that groups exit reasons in the "
                             "agreement matrix (default kb2020_letter; 'exit_reason' for none)")
    parser.add_argument("--definitions", type=Path, default=None, help="definitions YAML (default: the package's)")
    parser.add_argument("--lang", choices=("en", "nl"), default="en", help="labels in English or Dutch")
    add_disclosure_arguments(parser)


def run_cli(args: argparse.Namespace) -> int:
    """Reconcile, print the linkage and agreement tables, and write them with the discrepancy list."""
    from lvv_eval.cli.common import definitions_from_args
    from lvv_eval.linkage.tables import agreement_matrix_table, chain_overview, checked_chain_tables

    clean = args.clean_dir or config.clean_dir()
    stays = read_stays(clean / "stays.parquet")
    defs = definitions_from_args(args.definitions)
    scheme = None if args.scheme == "exit_reason" else args.scheme
    if scheme is not None and scheme not in defs.outcome_schemes:
        raise UserError(f"unknown outcome scheme {scheme!r}; choose from {', '.join(defs.outcome_schemes)} "
                        f"or 'exit_reason'")
    overview = chain_overview(clean, stays=stays, defs=defs, scheme=scheme, lang=args.lang)
    rec = overview.reconciliation
    if not rec.registers and args.if_present:
        print(f"chain: no IND or DT&V extract was ingested into {clean}; nothing to link")
        return 0
    if not rec.registers:
        raise UserError(f"no IND or DT&V extract was ingested into {clean}: put the extracts in the raw folder "
                        f"(specs: lvv_eval/sources/chain/) and run `lvv-eval ingest` again")
    provenance = stays_provenance(clean / "stays.parquet")
    tag = {"synthetic": "SYNTHETIC ", "unknown": "(provenance unknown) "}.get(provenance, "")
    print(f"{tag}chain linkage of {clean} (registers: {', '.join(rec.registers)})\n")
    print(overview.linkage.to_string(index=False))
    print("\nunlinked, by reason:")
    print(rec.unlinked.to_string(index=False) if len(rec.unlinked) else "  none")
    print("\nagreement of outcomes with the chain, all pilots:")
    matrix = agreement_matrix_table(rec, defs, scheme, args.lang)
    print(matrix.loc["all pilots"].to_string())
    summary = overview.summary
    print(f"\nprior departure procedures differing beyond the tolerance: {summary['prior_procedures_differ']} stays;"
          f" chain keys without an LVV person: {summary['chain_only_keys']}")
    gate = gate_from_args(args, provenance == "synthetic")
    tables = checked_chain_tables(gate, overview, args.lang)
    out = write_aggregates(args.out or config.reports_dir() / "chain", clean, tables, gate, provenance)
    review = write_review(args.review_out or config.review_dir() / "chain", clean, rec, matrix, provenance)
    held = sum(t.entry.status != "pass" for t in tables.values())
    print(f"\nwritten: {out} (aggregates, disclosure-checked: {len(tables) - held} passed, {held} with "
          f"suppressed cells; record in disclosure.html)\n         {review} (per-stay tables and the "
          f"discrepancy list: microdata for data managers, not for publication)")
    return 0


LEGACY_MARKER = ".lvv-eval-chain"  # the owner marker of versions before the disclosure gate


def _is_own_legacy(folder: Path) -> bool:
    return (folder / LEGACY_MARKER).exists()


def write_review(out: Path, clean: Path, rec: ChainReconciliation, matrix: pd.DataFrame,
                 provenance: str) -> Path:
    """Write the per-stay tables and the discrepancy list for data managers into ``out`` (replaced
    as a whole, only if `lvv-eval chain` wrote it): microdata, kept out of ``reports/``."""
    out = check_output_folder(out, "chain", inputs=[clean], is_own=_is_own_legacy)

    def write(tmp: Path) -> None:
        rec.agreement.to_parquet(tmp / "agreement.parquet", index=False)
        rec.prior.to_parquet(tmp / "prior_procedures.parquet", index=False)
        rec.discrepancies.to_csv(tmp / "discrepancies.csv", index=False)
        rec.chain_only.to_csv(tmp / "chain_only.csv", index=False)
        matrix.to_csv(tmp / "agreement_matrix_unchecked.csv")
        lines = ["SYNTHETIC DATA: not real LVV records." if provenance == "synthetic" else "",
                 "Review material for data managers (pseudonymised ids, small counts): NOT for publication.",
                 f"Files: {', '.join(REVIEW_FILES)}. The disclosure-checked aggregates are in reports/chain."]
        (tmp / "README.txt").write_text("\n".join(x for x in lines if x) + "\n", encoding="utf-8")
        write_owner_marker(tmp, "chain", provenance=provenance)

    replace_folder(out, write)
    return out


def write_aggregates(out: Path, clean: Path, tables: dict[str, CheckedTable], gate: DisclosureGate,
                     provenance: str) -> Path:
    """Write the disclosure-checked aggregate tables with the gate's record into ``out``."""
    out = check_output_folder(out, "chain", inputs=[clean], is_own=_is_own_legacy)
    extra = {"data": "SYNTHETIC"} if provenance == "synthetic" else None

    def write(tmp: Path) -> None:
        for name, checked in tables.items():
            gate.write_table(checked, tmp / f"{name}.csv", extra=extra, record_root=tmp)
        gate.save_record(tmp)
        write_owner_marker(tmp, "chain", provenance=provenance)

    replace_folder(out, write)
    return out
