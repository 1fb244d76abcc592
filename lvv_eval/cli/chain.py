"""``lvv-eval chain``: link the stays to the IND and DT&V extracts and reconcile their outcomes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from lvv_eval import config
from lvv_eval.cli.common import read_stays
from lvv_eval.errors import UserError

OWNER_MARKER = ".lvv-eval-chain"
MICRODATA = ("agreement.parquet", "prior_procedures.parquet", "discrepancies.csv", "chain_only.csv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval chain``."""
    parser.add_argument("--clean-dir", type=Path, default=None,
                        help="ingest's output with stays and chain tables (default: data_clean)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder to write the tables to (default: reports/chain; replaced only if "
                             "`lvv-eval chain` wrote it)")
    parser.add_argument("--scheme", default="kb2020_letter",
                        help="outcome scheme of definitions.yaml that groups exit reasons in the "
                             "agreement matrix (default kb2020_letter; 'exit_reason' for none)")
    parser.add_argument("--definitions", type=Path, default=None, help="definitions YAML (default: the package's)")
    parser.add_argument("--lang", choices=("en", "nl"), default="en", help="labels in English or Dutch")


def run_cli(args: argparse.Namespace) -> int:
    """Reconcile, print the linkage and agreement tables, and write them with the discrepancy list."""
    from lvv_eval.cli.common import definitions_from_args
    from lvv_eval.linkage.tables import agreement_matrix_table, chain_overview

    clean = args.clean_dir or config.clean_dir()
    stays = read_stays(clean / "stays.parquet")
    defs = definitions_from_args(args.definitions)
    scheme = None if args.scheme == "exit_reason" else args.scheme
    if scheme is not None and scheme not in defs.outcome_schemes:
        raise UserError(f"unknown outcome scheme {scheme!r}; choose from {', '.join(defs.outcome_schemes)} "
                        f"or 'exit_reason'")
    overview = chain_overview(clean, stays=stays, defs=defs, scheme=scheme, lang=args.lang)
    rec = overview.reconciliation
    if not rec.registers:
        raise UserError(f"no IND or DT&V extract was ingested into {clean}: put the extracts in the raw folder "
                        f"(specs: lvv_eval/sources/chain/) and run `lvv-eval ingest` again")
    synthetic = json.loads((clean / "manifest.json").read_text(encoding="utf-8")).get("synthetic", False) \
        if (clean / "manifest.json").exists() else False
    tag = "SYNTHETIC " if synthetic else ""
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
    out = write_tables(args.out or config.reports_dir() / "chain", rec, overview.linkage, matrix, synthetic)
    print(f"\nwritten: {out} (the discrepancy list and per-stay tables are microdata for data managers, "
          f"not for publication)")
    return 0


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; choose a folder for --out")
    if out.is_dir() and any(out.iterdir()) and not (out / OWNER_MARKER).exists():
        raise UserError(f"{out} holds files `lvv-eval chain` did not write; choose a new or empty folder")


def write_tables(out: Path, rec, linkage: pd.DataFrame, matrix: pd.DataFrame, synthetic: bool) -> Path:
    """Write the reconciliation's tables into ``out`` (replaced as a whole, atomically)."""
    from lvv_eval.ingest.output import write_atomically

    _check_out(out)

    def write(tmp: Path) -> None:
        (tmp / OWNER_MARKER).write_text("written by lvv-eval chain\n", encoding="utf-8")
        linkage.to_csv(tmp / "linkage.csv", index=False)
        rec.unlinked.to_csv(tmp / "unlinked.csv", index=False)
        matrix.to_csv(tmp / "agreement_matrix.csv")
        rec.agreement.to_parquet(tmp / "agreement.parquet", index=False)
        rec.prior.to_parquet(tmp / "prior_procedures.parquet", index=False)
        rec.discrepancies.to_csv(tmp / "discrepancies.csv", index=False)
        rec.chain_only.to_csv(tmp / "chain_only.csv", index=False)
        lines = ["SYNTHETIC DATA: not real LVV records." if synthetic else "",
                 "Aggregates: linkage.csv, unlinked.csv, agreement_matrix.csv (not yet disclosure-checked).",
                 f"Microdata for data managers (pseudonymised ids only, not for publication): {', '.join(MICRODATA)}."]
        (tmp / "README.txt").write_text("\n".join(x for x in lines if x) + "\n", encoding="utf-8")

    write_atomically(out, write)
    return out
