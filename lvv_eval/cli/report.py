"""``lvv-eval report``: run the parameterised notebooks into ``reports/<run_id>/``.

Every ``-p NAME=VALUE`` is checked against the notebooks' declared parameters before anything
runs (exit 2 naming the parameter and what is allowed); ``--parameters`` lists them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lvv_eval.cli.common import add_disclosure_arguments, gate_from_args, path_argument
from lvv_eval.config import clean_dir, reports_dir
from lvv_eval.errors import UserError
from lvv_eval.outputs import check_output_folder
from lvv_eval.report.notebook import provenance
from lvv_eval.report.params import notebook_parameters
from lvv_eval.report.runner import NOTEBOOKS_DIR, notebook_file, plan_report, run_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval report``."""
    parser.add_argument("--notebook", action="append", default=None, metavar="NAME",
                        help="notebook in notebooks/ by file name, stem or number (04); repeatable; "
                             "default: all")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a notebook parameter (lists comma-separated: -p pilots=Utrecht,Rotterdam); "
                             "see --parameters")
    parser.add_argument("--lang", choices=("nl", "en"), default=None,
                        help="report language (same as -p lang=...; default nl)")
    parser.add_argument("--stays", default=None, help="stays table (same as -p stays_path=...; "
                                                      "default data_clean/stays.parquet)")
    parser.add_argument("--out", type=path_argument, default=None,
                        help="run folder (default reports/<run_id>)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at once (default 2)")
    parser.add_argument("--no-cache", action="store_true",
                        help="run every notebook, even when nothing it depends on changed")
    parser.add_argument("--parameters", action="store_true",
                        help="list the notebooks' parameters (type, default, allowed values) and stop")
    add_disclosure_arguments(parser)


def parse_param(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` split (the value is converted by the parameter's declared type)."""
    if "=" not in text:
        raise UserError(f"-p {text!r}: write NAME=VALUE")
    name, value = text.split("=", 1)
    return name.strip(), value


def given_values(args: argparse.Namespace) -> dict[str, str]:
    """The parameters named on the command line (``--lang``/``--stays`` included)."""
    values = dict(parse_param(p) for p in args.param)
    if args.lang is not None:
        values["lang"] = args.lang
    if args.stays is not None:
        values["stays_path"] = str(Path(args.stays).resolve())
    if "stays_path" in values and values["stays_path"]:
        values["stays_path"] = str(Path(values["stays_path"]).resolve())
    return values


def print_parameters(names: list[str] | None) -> None:
    """Each notebook's parameters: ``name: type = default  # help; choices``."""
    paths = [notebook_file(n) for n in names] if names else sorted(NOTEBOOKS_DIR.glob("*.py"))
    for path in paths:
        print(f"{path.stem}:")
        for param in notebook_parameters(path).values():
            print(f"  {param.line()}")


def disclosure_settings(args: argparse.Namespace) -> dict[str, object]:
    """The gate's settings for the notebooks' kernels (absolute paths)."""
    return {"policy": str(Path(args.disclosure_policy).resolve()) if args.disclosure_policy else "",
            "exceptions": str(Path(args.exceptions).resolve()) if args.exceptions else "",
            "unchecked": bool(args.unchecked_synthetic)}


def run_cli(args: argparse.Namespace) -> int:
    """Run ``lvv-eval report``."""
    if args.parameters:
        print_parameters(args.notebook)
        return 0
    if args.jobs < 1:
        raise UserError(f"--jobs {args.jobs}: at least 1")
    values = given_values(args)
    stays_path = Path(values.get("stays_path") or clean_dir() / "stays.parquet")
    kind = provenance(stays_path)
    plan = plan_report(args.notebook, values, provenance=kind, disclosure=disclosure_settings(args))
    if not plan.stays_path.is_file():
        raise UserError(f"{plan.stays_path} does not exist: run `lvv-eval ingest` (or `make run`) first")
    gate = gate_from_args(args, kind == "synthetic")  # a bad policy or a refused switch stops here
    out = None
    if args.out is not None:
        out = check_output_folder(args.out, "report", inputs=[plan.stays_path.parent])
    names = ", ".join(nb.stem for nb in plan.notebooks)
    print(f"report: {len(plan.notebooks)} notebook(s) ({names}) on {kind.upper()} data {plan.stays_path}",
          flush=True)
    result = run_report(plan, root=reports_dir(), out_dir=out, workers=args.jobs,
                        use_cache=not args.no_cache, gate=gate,
                        progress=lambda line: print(f"report: {line}", flush=True))
    print(f"report: run {result.run_id}: {len(result.ran)} ran, {len(result.cached)} reused, "
          f"{result.seconds:.1f} s; open {result.folder / 'index.html'} (tables: "
          f"{result.folder / 'tables.xlsx'}; disclosure record {result.folder / 'disclosure.html'})")
    return 0
