"""``lvv-eval run``: the whole pipeline on the default (SYNTHETIC) data, ending in a report."""

from __future__ import annotations

import argparse

from lvv_eval.config import clean_dir, synthetic_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval run``."""
    parser.add_argument("--fresh", action="store_true",
                        help="redraw the synthetic deliveries even when they are current")


def stage_steps() -> list[tuple[str, list[str]]]:
    """The verbs ``run`` chains, with their arguments, in order."""
    raw = synthetic_dir()
    return [
        ("ingest", ["--raw-dir", str(raw), "--out-dir", str(clean_dir())]),
        ("reproduce", ["--publication", "all"]),
        ("chain", []),
        ("report", []),
    ]


def run_cli(args: argparse.Namespace) -> int:
    """Run synth (when the default data is absent or from another generator version), ingest,
    reproduce and the report notebooks."""
    from lvv_eval.cli import main
    from lvv_eval.synth.run import is_current

    if args.fresh or not is_current(synthetic_dir()):
        code = main(["synth"])
        if code:
            return code
    else:
        print(f"run: the SYNTHETIC deliveries in {synthetic_dir()} are current (--fresh to redraw anyway)")
    for verb, verb_args in stage_steps():
        print(f"\n=== lvv-eval {verb} ===", flush=True)
        code = main([verb, *verb_args])
        if code:
            return code
    return 0
