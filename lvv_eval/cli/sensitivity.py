"""``lvv-eval sensitivity``: a grid of definitions run through the headline figures (and on
request the analyses), written as a results table, a specification curve and the placement of
the published figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lvv_eval import config
from lvv_eval.cli.common import (
    add_data_arguments,
    add_disclosure_arguments,
    gate_from_args,
    mark_reports_subfolder,
    path_argument,
    stays_from_args,
)
from lvv_eval.errors import UserError
from lvv_eval.measures.definitions import DefinitionsError
from lvv_eval.provenance import stays_provenance
from lvv_eval.sensitivity import OUTCOME_FAMILIES, place_published, run_grid
from lvv_eval.sensitivity.curve import axis_variance_table
from lvv_eval.sensitivity.grid import load_grid
from lvv_eval.sensitivity.output import write_results
from lvv_eval.sensitivity.published import describe_placement


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval sensitivity``."""
    parser.add_argument("--grid", type=Path, default=None,
                        help="grid YAML (default: the package's specs/sensitivity_grid.yaml)")
    parser.add_argument("--outcomes", choices=OUTCOME_FAMILIES, default="indicators",
                        help="indicators: headline shares per pilot (default); models: cumulative "
                             "incidence and the adjusted 24-hour-shelter hazard ratio with its "
                             "bootstrap interval; all: both")
    add_data_arguments(parser)
    parser.add_argument("--spec", action="append", default=None, metavar="SPEC_ID",
                        help="run only this specification (repeatable)")
    parser.add_argument("--jobs", type=int, default=-1,
                        help="parallel processes for the models (default: all cores)")
    parser.add_argument("--lang", choices=("en", "nl"), default="nl",
                        help="language of the curve and the placement sentences (default nl)")
    parser.add_argument("--out", type=path_argument, default=None,
                        help="folder to write (default: reports/sensitivity/<grid>_<outcomes>/; replaced "
                             "only if `lvv-eval sensitivity` wrote it)")
    add_disclosure_arguments(parser)


def _progress(done: int, total: int) -> None:
    print(f"\rmodels: {done}/{total} distinct fits", end="" if done < total else "\n",
          file=sys.stderr, flush=True)


def run_cli(args: argparse.Namespace) -> int:
    """Run the grid, print its summary and write its outputs."""
    grid = load_grid(args.grid)
    stays, stays_path, source = stays_from_args(args)
    provenance = stays_provenance(stays_path)
    gate = gate_from_args(args, provenance == "synthetic")  # a bad policy stops here, before the grid
    try:
        results = run_grid(stays, grid, args.outcomes, args.definitions, n_jobs=args.jobs,
                           progress=_progress, spec_ids=args.spec)
    except DefinitionsError as exc:
        raise UserError(str(exc)) from exc
    out = args.out or config.reports_dir() / "sensitivity" / f"{grid.path.stem}_{args.outcomes}"
    manifest = write_results(results, out, {"stays": stays_path, "definitions": args.definitions,
                                            "grid": grid.path},
                             gate=gate, provenance=provenance, lang=args.lang)
    mark_reports_subfolder(out.parent, "sensitivity", stays_path)
    n_all = sum(1 for _ in grid.all_choices())
    print(f"{len(results.specs)} specifications ({n_all - len(grid.choices())} combinations kept "
          f"out by constraints) from {grid.path} on {source}")
    outcomes = set(results.table["outcome"])
    if "durable_share" in outcomes:
        print(axis_variance_table(results, "durable_share").round(3).to_string(index=False))
        if grid.spec.published:
            print(describe_placement(place_published(results), args.lang))
    held = [t["table"] for t in manifest["tables"] if t["disclosure"] != "pass"]
    print(f"written: {out} (disclosure-checked; {', '.join(held) or 'no table'} with cells not shown: "
          f"see disclosure.html)")
    return 0
