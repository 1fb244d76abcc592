"""``lvv-eval report``: run the parameterised notebooks into ``reports/<run_id>/``."""

from __future__ import annotations

import argparse
import html
import json
import shutil
from pathlib import Path

from lvv_eval.cli.common import add_disclosure_arguments, gate_from_args, path_argument
from lvv_eval.config import clean_dir
from lvv_eval.outputs import check_output_folder, replace_folder, write_owner_marker
from lvv_eval.report.notebook import DISCLOSURE_SETTINGS, load_stays, provenance
from lvv_eval.report.runner import (
    NOTEBOOKS_DIR,
    NotebookError,
    NotebookRun,
    new_run_dir,
    run_notebook,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval report``."""
    parser.add_argument("--notebook", action="append", default=None,
                        help="notebook name in notebooks/ (repeatable; default: all)")
    parser.add_argument("--lang", choices=("nl", "en"), default="nl", help="report language (default nl)")
    parser.add_argument("--stays", default="", help="stays table (default data_clean/stays.parquet)")
    parser.add_argument("--out", type=path_argument, default=None, help="report folder (default reports/<run_id>)")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                        help="extra notebook parameter (integers and floats are converted)")
    add_disclosure_arguments(parser)


def parse_param(text: str) -> tuple[str, object]:
    """``name=value`` with ints and floats converted."""
    from lvv_eval.errors import UserError

    if "=" not in text:
        raise UserError(f"--param {text!r}: write NAME=VALUE")
    name, value = text.split("=", 1)
    for cast in (int, float):
        try:
            return name, cast(value)
        except ValueError:
            pass
    return name, value


MARKS = {"synthetic": "<p><strong>SYNTHETIC DATA - no real people.</strong></p>",
         "unknown": "<p><strong>PROVENANCE UNKNOWN - no ingest manifest beside the stays file; not marked "
                    "synthetic.</strong></p>",
         "real": ""}


def is_report_folder(folder: Path) -> bool:
    """A report folder of a version before the owner marker: an index and notebook manifests."""
    return (folder / "index.html").is_file() and any(folder.glob("*.manifest.json"))


def write_index(out_dir: Path, runs: list[NotebookRun], synthetic: bool | str) -> Path:
    """``index.html`` linking every notebook's HTML, marked with the data's provenance."""
    items = "\n".join(f'<li><a href="{html.escape(r.html.name)}">{html.escape(r.notebook.stem)}</a> '
                      f"({r.seconds:.0f} s)</li>" for r in runs)
    kind = synthetic if isinstance(synthetic, str) else ("synthetic" if synthetic else "real")
    mark = MARKS[kind]
    record = ("<p><a href='disclosure.html'>Openbaarmakingscontrole / output disclosure control"
              "</a></p>" if (out_dir / "disclosure.html").exists() else "")
    path = out_dir / "index.html"
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>LVV report</title></head>"
                    f"<body><h1>LVV report {html.escape(out_dir.name)}</h1>{mark}{record}"
                    f"<ul>{items}</ul></body></html>", encoding="utf-8")
    return path


def write_disclosure_settings(args: argparse.Namespace, out_dir: Path) -> None:
    """The gate's settings for the notebooks' kernels; the exception requests are copied into the
    run folder so that the record and the requests travel together."""
    exceptions = ""
    if args.exceptions:
        exceptions = str(out_dir / "disclosure_exceptions.yaml")
        shutil.copyfile(args.exceptions, exceptions)
    settings = {"policy": str(Path(args.disclosure_policy).resolve()) if args.disclosure_policy else "",
                "exceptions": exceptions, "unchecked": bool(args.unchecked_synthetic)}
    (out_dir / DISCLOSURE_SETTINGS).write_text(json.dumps(settings, indent=2), encoding="utf-8")


def run_cli(args: argparse.Namespace) -> int:
    """Run ``lvv-eval report``."""
    from lvv_eval.errors import UserError

    names = args.notebook or sorted(p.name for p in NOTEBOOKS_DIR.glob("*.py"))
    stays_path = args.stays or str(clean_dir() / "stays.parquet")
    try:
        _, synthetic = load_stays(stays_path)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from exc
    gate = gate_from_args(args, synthetic)  # a bad policy or a refused switch stops here
    params = {"stays_path": str(Path(stays_path).resolve()), "lang": args.lang}
    params.update(dict(parse_param(p) for p in args.param))
    kind = provenance(stays_path)
    runs: list[NotebookRun] = []

    def write(tmp: Path) -> None:
        write_disclosure_settings(args, tmp)
        for name in names:
            print(f"report: running {name} ...", flush=True)
            try:
                runs.append(run_notebook(name, params, tmp, synthetic=synthetic))
            except NotebookError as exc:
                raise UserError(str(exc)) from exc
        gate.audit_folder(tmp, narrative=[p for r in runs for p in (r.executed, r.html)])
        gate.save_record(tmp)
        write_index(tmp, runs, kind)
        write_owner_marker(tmp, "report", provenance=kind)

    if args.out is None:  # a new folder: nothing to replace, and a failed notebook stays to be read
        out_dir = new_run_dir()
        write(out_dir)
    else:
        out_dir = check_output_folder(args.out, "report", inputs=[Path(stays_path).resolve().parent],
                                      is_own=is_report_folder)
        replace_folder(out_dir, write)
    print(f"report: {len(runs)} notebook(s) in {out_dir} (open {out_dir / 'index.html'}; disclosure "
          f"record {out_dir / 'disclosure.html'})")
    return 0
