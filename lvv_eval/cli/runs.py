"""``lvv-eval runs``: the report runs under ``reports/``, newest first."""

from __future__ import annotations

import argparse
import json

from lvv_eval.report.history import list_runs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval runs``."""
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.add_argument("--limit", type=int, default=20, help="newest N runs (default 20; 0: all)")


def _summary(params: dict) -> str:
    text = ", ".join(f"{k}={v if not isinstance(v, list) else ','.join(map(str, v))}"
                     for k, v in params.items())
    return text or "defaults"


def run_cli(args: argparse.Namespace) -> int:
    """Run ``lvv-eval runs``."""
    runs = list_runs()
    if args.limit:
        runs = runs[: args.limit]
    if args.json:
        print(json.dumps(runs, indent=2, default=str))
        return 0
    if not runs:
        print("runs: no report runs yet (`lvv-eval report` makes one)")
        return 0
    for run in runs:
        cached = f", {run['cached']} reused" if run["cached"] else ""
        print(f"{run['run_id']}  {run['created_utc']}  {run['provenance'].upper():9s}  "
              f"{len(run['notebooks'])} notebook(s){cached}: {' '.join(run['notebooks'])}  "
              f"[{_summary(run['parameters'])}]")
    return 0
