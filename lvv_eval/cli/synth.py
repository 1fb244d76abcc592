"""``lvv-eval synth``: write the SYNTHETIC default deliveries (or an uncalibrated cohort)."""

from __future__ import annotations

import argparse

from lvv_eval.cli.common import path_argument
from lvv_eval.synth.calibrate import DEFAULT_SEED


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval synth``."""
    parser.add_argument("--out", type=path_argument, default=None,
                        help="folder to write (default: data_raw/synthetic under LVV_DATA_ROOT)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--people", type=int, default=None,
                        help="size of an uncalibrated cohort (with --uncalibrated; default 10000)")
    parser.add_argument("--uncalibrated", action="store_true",
                        help="draw from the data-generating process without calibrating to the figures")
    parser.add_argument("--pilots", type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
                        default=None, help="comma-separated pilots (uncalibrated only)")
    parser.add_argument("--chain", action=argparse.BooleanOptionalAction, default=None,
                        help="also write the IND and DT&V extracts and the V-number crosswalks "
                             "(default: yes for the calibrated default, no with --uncalibrated)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")


def run_cli(args: argparse.Namespace) -> int:
    """Run ``lvv-eval synth``."""
    from lvv_eval.errors import UserError
    from lvv_eval.synth.calibrate import CalibrationError
    from lvv_eval.synth.run import SynthArgumentError, synthesise

    try:
        result = synthesise(args.out, seed=args.seed, people=args.people, uncalibrated=args.uncalibrated,
                            pilots=args.pilots, progress=not args.quiet, chain=args.chain)
    except (SynthArgumentError, CalibrationError) as exc:
        raise UserError(str(exc)) from exc
    stays = result.cohort.stays
    print(f"SYNTHETIC cohort: {stays.person_id.nunique():,} persons, {len(stays):,} stays "
          f"({'calibrated' if result.cohort.calibrated else 'uncalibrated'}, seed {result.cohort.seed})")
    print(f"written to {result.out_dir} in {result.seconds:.1f} s")
    return 0
