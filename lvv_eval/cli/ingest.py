"""``lvv-eval ingest``: harmonise the raw deliveries into data_clean/."""

from __future__ import annotations

import argparse

from lvv_eval import config
from lvv_eval.cli.common import add_specs_dir_argument, path_argument
from lvv_eval.dataroot import default_deliveries_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``ingest`` verb."""
    parser.add_argument("--raw-dir", type=path_argument, default=None,
                        help="folder with the deliveries (default: data_raw/ of a data root with real "
                             "deliveries, else data_raw/synthetic)")
    parser.add_argument("--out-dir", type=path_argument, default=None,
                        help="output folder (default: data_clean); replaced only when ingest wrote it or it is empty")
    add_specs_dir_argument(parser)
    parser.add_argument("--skip", action="append", default=[], metavar="RULE_ID",
                        help="switch off a named cleaning step (repair, merge or exclusion rule id); repeatable")
    parser.add_argument("--strict", action="store_true",
                        help="fail when any row is quarantined (all of them listed by pilot and rule; the output "
                             "is written with status 'failed' so the quarantine can be read)")
    parser.add_argument("--max-lost-share", type=float, default=None, metavar="SHARE",
                        help="fail when a table loses more than this share of its rows to quarantine "
                             "(default: each source spec's max_lost_share, 0.25 unless set)")
    parser.add_argument("--raw-cells", action="store_true",
                        help="keep raw cell values in quarantine.parquet (SYNTHETIC data only; "
                             "by default cells are kept as shape, length and keyed hash)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes that ingest deliveries side by side (default: 2 for large inputs)")
    parser.add_argument("--capacity", type=path_argument, default=None,
                        help="agreed places per pilot to copy into capacity.csv (YAML like the "
                             "package's specs/capacity.yaml, or CSV; default: that file)")
    parser.add_argument("--quiet", action="store_true", help="do not print progress and the summary")


def run_cli(args: argparse.Namespace) -> int:
    """Run the ingest and print the data-quality summary."""
    from lvv_eval.ingest.pipeline import run_ingest

    raw = args.raw_dir or default_deliveries_dir()
    out = args.out_dir or config.clean_dir()
    result = run_ingest(raw, out, skip_steps=args.skip, strict=args.strict, progress=not args.quiet,
                        sources_dir=args.specs_dir, workers=args.workers, raw_cells=args.raw_cells,
                        max_lost_share=args.max_lost_share, capacity_file=args.capacity)
    if not args.quiet:
        specs = result.manifest["parameters"]["sources_dir"]
        print(f"wrote {len(result.stays):,} stays, {len(result.quarantine):,} quarantined rows and "
              f"{len(result.changes):,} logged changes to {out} (source specs: "
              f"{'the package' if specs == 'package' else specs})")
    return 0
