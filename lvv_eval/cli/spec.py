"""``lvv-eval spec``: check source specs without ingesting, or draft one from a delivered file.

``lvv-eval spec check [FILE ...]`` validates source specs (default: every spec of the specs
folder the ingest would read) and prints one line per problem, naming the file and the key
(with ``--raw-dir``: also whether each spec fits its delivery there, without ingesting);
``lvv-eval spec draft FILE`` prints (or writes, ``--out``) a starting spec for a delivered file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lvv_eval.cli.common import add_specs_dir_argument, path_argument
from lvv_eval.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands ``check`` and ``draft``."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=type(parser))
    check = sub.add_parser("check", help="validate source specs without running the ingest",
                           description="validate source specs without running the ingest")
    check.add_argument("files", nargs="*", type=path_argument, metavar="FILE",
                       help="source spec YAML files (default: every spec in the specs folder)")
    add_specs_dir_argument(check)
    check.add_argument("--raw-dir", type=path_argument, default=None,
                       help="also check that each spec fits its delivery in this folder (files found, header, "
                            "columns, date formats) without ingesting")
    draft = sub.add_parser("draft", help="propose a starting source spec from a delivered file",
                           description="propose a starting source spec from a delivered file")
    draft.add_argument("file", type=path_argument, metavar="FILE", help="a delivered CSV or Excel file")
    draft.add_argument("--raw-dir", type=path_argument, default=None,
                       help="the deliveries folder (the spec's file pattern is relative to it)")
    draft.add_argument("--out", type=path_argument, default=None,
                       help="write the draft to this new file (never over an existing one; default: print it)")


def run_cli(args: argparse.Namespace) -> int:
    """Run ``spec check`` or ``spec draft``."""
    return _check(args) if args.action == "check" else _draft(args)


def _check(args: argparse.Namespace) -> int:
    from lvv_eval.ingest.spec import check_spec_files

    files, lines = check_spec_files(args.files, args.specs_dir, args.raw_dir)
    for line in lines:
        print(line)
    print(f"{len(files)} spec file(s) checked, {len(lines)} problem(s)", file=sys.stderr)
    return 1 if lines else 0


def _draft(args: argparse.Namespace) -> int:
    from lvv_eval.ingest.draft import draft_spec

    if not Path(args.file).is_file():
        raise UserError(f"{args.file} is not a file; name one delivered CSV or Excel file")
    text = draft_spec(args.file, args.raw_dir)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        with open(args.out, "x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        raise UserError(f"{args.out} exists; the draft is never written over a file (choose another --out)") from None
    print(f"wrote a draft source spec to {args.out}; edit every TODO, then run `lvv-eval spec check {args.out}`")
    return 0
