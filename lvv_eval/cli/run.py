"""``lvv-eval run``: the whole pipeline, ending in a report.

On the default (demo) data root it draws the SYNTHETIC deliveries when they are absent or stale,
then ingests, reproduces and reports. On a data root that holds real data (see
:mod:`lvv_eval.dataroot`) it never synthesises: it runs ingest, reproduce and report on the real
deliveries in ``data_raw/``, or refuses with a message saying what it found.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lvv_eval.cli.common import add_specs_dir_argument
from lvv_eval.config import clean_dir, data_root, raw_dir, synthetic_dir
from lvv_eval.dataroot import real_data_found, real_deliveries, root_is_set
from lvv_eval.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lvv-eval run``."""
    parser.add_argument("--fresh", action="store_true",
                        help="redraw the synthetic deliveries even when they are current (demo data root only)")
    add_specs_dir_argument(parser)


def stage_steps(raw: Path | None = None, specs_dir: Path | None = None) -> list[tuple[str, list[str]]]:
    """The verbs ``run`` chains after the data are in place, with their arguments, in order."""
    specs = ["--specs-dir", str(specs_dir)] if specs_dir is not None else []
    return [
        ("ingest", ["--raw-dir", str(raw or synthetic_dir()), "--out-dir", str(clean_dir()), *specs]),
        ("reproduce", ["--publication", "all"]),
        ("chain", ["--if-present"]),
        ("report", []),
    ]


def plan(fresh: bool) -> tuple[Path, bool]:
    """The deliveries folder to run on and whether to draw the synthetic demo first; a
    :class:`UserError` when the data root is real but holds no deliveries."""
    root = data_root()
    real = real_data_found(root)
    if real:
        if not real_deliveries(root):
            raise UserError(f"the data root {root} holds real data ({'; '.join(real[:3])}) but no deliveries in "
                            f"{raw_dir()}; `lvv-eval run` never writes SYNTHETIC data there. Put the deliveries "
                            f"in {raw_dir()} (one folder per pilot) or point LVV_DATA_ROOT elsewhere")
        if fresh:
            raise UserError(f"--fresh redraws SYNTHETIC data; the data root {root} holds real data")
        print(f"run: REAL data root {root}: ingest -> reproduce -> report on {raw_dir()} (no synthetic data)")
        return raw_dir(), False
    if root_is_set() and not synthetic_dir().exists():
        raise UserError(f"no deliveries in {raw_dir()} (LVV_DATA_ROOT={root}). Put the real deliveries there "
                        f"(one folder per pilot), or run `lvv-eval synth` first to try the SYNTHETIC demo in "
                        f"this folder, or unset LVV_DATA_ROOT")
    from lvv_eval.synth.run import is_current

    return synthetic_dir(), fresh or not is_current(synthetic_dir())


def run_cli(args: argparse.Namespace) -> int:
    """Run synth (demo root, when the default data is absent or stale), ingest, reproduce and the
    report notebooks."""
    from lvv_eval.cli import main

    raw, draw = plan(args.fresh)
    if draw:
        code = main(["synth"])
        if code:
            return code
    elif raw == synthetic_dir():
        print(f"run: the SYNTHETIC deliveries in {raw} are current (--fresh to redraw anyway)")
    for verb, verb_args in stage_steps(raw, args.specs_dir):
        print(f"\n=== lvv-eval {verb} ===", flush=True)
        code = main([verb, *verb_args])
        if code:
            return code
    return 0
