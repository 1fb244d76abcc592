"""``lvv-eval``: one verb per stage, each a thin shell over a library function.

Every verb is a module of this package offering ``add_arguments(parser)`` and
``run_cli(args) -> int``; this module only wires them up, so that adding a verb is one module and
one entry in :data:`VERBS`. Options shared by several verbs live in :mod:`lvv_eval.cli.common`.
The library never imports this package: its user-facing errors derive from
:class:`lvv_eval.errors.UserError`, which :func:`main` turns into one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from lvv_eval.errors import UserError

# verb -> (module offering add_arguments/run_cli, one-line help)
VERBS: dict[str, tuple[str, str]] = {
    "synth": ("lvv_eval.cli.synth", "write the SYNTHETIC default deliveries to data_raw/"),
    "ingest": ("lvv_eval.cli.ingest", "harmonise the raw deliveries into data_clean/"),
    "reproduce": ("lvv_eval.cli.reproduce", "recompute the published figures and explain gaps"),
    "monitor": ("lvv_eval.cli.monitor", "monitor indicators per pilot at a list of dates"),
    "sensitivity": ("lvv_eval.cli.sensitivity",
                    "run a grid of definitions through the figures: specification curve"),
    "report": ("lvv_eval.cli.report", "run the parameterised notebooks into reports/<run_id>/"),
    "run": ("lvv_eval.cli.run", "the whole pipeline on the default data"),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per available stage."""
    parser = argparse.ArgumentParser(
        prog="lvv-eval",
        description="Harmonise, reproduce and analyse the LVV pilot deliveries (one verb per stage).",
        epilog="`lvv-eval run` runs every stage on the default SYNTHETIC data; "
        "`lvv-eval VERB --help` shows a verb's options.",
    )
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, (module_name, help_text) in VERBS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(verb, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lvv-eval`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args._module.run_cli(args) or 0)
    except UserError as exc:
        print(f"lvv-eval {args.verb}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
