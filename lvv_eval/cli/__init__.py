"""``lvv-eval``: one verb per stage, each a thin shell over a library function.

Every verb is a module of this package offering ``add_arguments(parser)`` and
``run_cli(args) -> int``; this module only wires them up, so that adding a verb is one module and
one entry in :data:`VERBS`. Options shared by several verbs live in :mod:`lvv_eval.cli.common`.
The library never imports this package: its user-facing errors derive from
:class:`lvv_eval.errors.UserError`, which :func:`main` turns into one line on stderr and exit 2;
so are operating-system errors (a read-only folder, a full disk, a path under a file) and
argument errors.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from lvv_eval.errors import UserError

# verb -> (module offering add_arguments/run_cli, one-line help)
VERBS: dict[str, tuple[str, str]] = {
    "synth": ("lvv_eval.cli.synth", "write the SYNTHETIC default deliveries to data_raw/"),
    "ingest": ("lvv_eval.cli.ingest", "harmonise the raw deliveries into data_clean/"),
    "spec": ("lvv_eval.cli.spec", "check source specs, or draft one from a delivered file"),
    "reproduce": ("lvv_eval.cli.reproduce", "recompute the published figures and explain gaps"),
    "monitor": ("lvv_eval.cli.monitor", "monitor indicators per pilot at a list of dates"),
    "chain": ("lvv_eval.cli.chain", "link stays to the IND and DT&V extracts and reconcile outcomes"),
    "sensitivity": ("lvv_eval.cli.sensitivity",
                    "run a grid of definitions through the figures: specification curve"),
    "report": ("lvv_eval.cli.report", "run the parameterised notebooks into reports/<run_id>/"),
    "runs": ("lvv_eval.cli.runs", "list the report runs in reports/"),
    "diff": ("lvv_eval.cli.diff", "which tables changed between two report runs, and by how much"),
    "run": ("lvv_eval.cli.run", "the whole pipeline on the default data"),
}


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit 2); ``--help`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: error: <message>`` and exit with 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def os_error_message(exc: OSError) -> str:
    """One line naming the path and the cause of an operating-system error."""
    cause = exc.strerror or str(exc) or type(exc).__name__
    paths = [p for p in (exc.filename, exc.filename2) if p not in (None, "")]
    where = " -> ".join(str(p) for p in paths) if paths else "a file or folder"
    return f"cannot read or write {where}: {cause}"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with one sub-command per available stage; with ``only``, just that
    verb's module is imported (the others are listed with their help, without options)."""
    parser = OneLineParser(
        prog="lvv-eval",
        description="Harmonise, reproduce and analyse the LVV pilot deliveries (one verb per stage).",
        epilog="`lvv-eval run` runs every stage on the default SYNTHETIC data; "
        "`lvv-eval VERB --help` shows a verb's options.",
    )
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB", parser_class=OneLineParser)
    for verb, (module_name, help_text) in VERBS.items():
        p = sub.add_parser(verb, help=help_text, description=help_text)
        if only is None or verb == only:
            module = importlib.import_module(module_name)
            module.add_arguments(p)
            p.set_defaults(_module=module)
    return parser


def _chosen_verb(argv: Sequence[str]) -> str | None:
    """The verb named on the command line (the first word that is one), if any."""
    return next((a for a in argv if not a.startswith("-")), None) if argv else None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lvv-eval`` console script."""
    try:
        words = list(sys.argv[1:] if argv is None else argv)
        verb = _chosen_verb(words)
        args = build_parser(verb if verb in VERBS else None).parse_args(words)
    except SystemExit as exc:  # --help, or an argument error already printed in one line
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args._module.run_cli(args) or 0)
    except UserError as exc:
        print(f"lvv-eval {args.verb}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # read-only folder, full disk, a path under a file, ...
        print(f"lvv-eval {args.verb}: error: {os_error_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
