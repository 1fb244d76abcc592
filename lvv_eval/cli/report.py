"""``lvv-eval report``: run the parameterised notebooks into ``reports/<run_id>/``."""

from __future__ import annotations

import argparse
import html
from pathlib import Path

from lvv_eval.config import clean_dir
from lvv_eval.report.notebook import load_stays
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
    parser.add_argument("--out", type=Path, default=None, help="report folder (default reports/<run_id>)")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                        help="extra notebook parameter (integers and floats are converted)")


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


def write_index(out_dir: Path, runs: list[NotebookRun], synthetic: bool) -> Path:
    """``index.html`` linking every notebook's HTML."""
    items = "\n".join(f'<li><a href="{html.escape(r.html.name)}">{html.escape(r.notebook.stem)}</a> '
                      f"({r.seconds:.0f} s)</li>" for r in runs)
    mark = "<p><strong>SYNTHETIC DATA - no real people.</strong></p>" if synthetic else ""
    path = out_dir / "index.html"
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>LVV report</title></head>"
                    f"<body><h1>LVV report {html.escape(out_dir.name)}</h1>{mark}<ul>{items}</ul>"
                    f"</body></html>", encoding="utf-8")
    return path


def run_cli(args: argparse.Namespace) -> int:
    """Run ``lvv-eval report``."""
    from lvv_eval.errors import UserError

    names = args.notebook or sorted(p.name for p in NOTEBOOKS_DIR.glob("*.py"))
    stays_path = args.stays or str(clean_dir() / "stays.parquet")
    try:
        _, synthetic = load_stays(stays_path)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from exc
    params = {"stays_path": str(Path(stays_path).resolve()), "lang": args.lang}
    params.update(dict(parse_param(p) for p in args.param))
    out_dir = args.out or new_run_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    for name in names:
        print(f"report: running {name} ...", flush=True)
        try:
            runs.append(run_notebook(name, params, out_dir, synthetic=synthetic))
        except NotebookError as exc:
            raise UserError(str(exc)) from exc
    index = write_index(out_dir, runs, synthetic)
    print(f"report: {len(runs)} notebook(s) in {out_dir} (open {index})")
    return 0
