"""``lvv-eval synth`` as a library call: draw a cohort and write it as five messy deliveries."""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lvv_eval.config import PILOTS, data_root, synthetic_dir
from lvv_eval.dataroot import real_data_found
from lvv_eval.outputs import check_output_folder, replace_folder
from lvv_eval.provenance import check_marker, written_by_synth
from lvv_eval.synth.calibrate import DEFAULT_SEED, calibrated_cohort
from lvv_eval.synth.dgp import DGPParams, SyntheticCohort, simulate_cohort
from lvv_eval.synth.fingerprint import FINGERPRINT_FILE, generator_fingerprint


def is_current(out_dir: Path, seed: int = DEFAULT_SEED, chain: bool = True) -> bool:
    """Whether ``out_dir`` holds deliveries written by this generator version with ``seed`` (and,
    with ``chain``, the chain extracts), unchanged (its SYNTHETIC marker valid)."""
    stamp = out_dir / FINGERPRINT_FILE
    wanted = [generator_fingerprint(), str(seed)] + (["chain"] if chain else [])
    return (stamp.exists() and stamp.read_text(encoding="utf-8").split() == wanted
            and check_marker(out_dir).valid)


class SynthArgumentError(ValueError):
    """Arguments that cannot describe a synthetic cohort."""


@dataclass
class SynthResult:
    """What ``synthesise`` wrote."""

    out_dir: Path
    cohort: SyntheticCohort
    manifest: object
    seconds: float


def check_arguments(people: int | None, uncalibrated: bool, pilots: list[str] | None) -> None:
    """Raise :class:`SynthArgumentError` with a clear message for impossible arguments."""
    if people is not None and people < 1:
        raise SynthArgumentError(f"--people must be a positive number of people, got {people}")
    if people is not None and not uncalibrated:
        raise SynthArgumentError(
            "--people sets the size of an UNCALIBRATED cohort; the calibrated default has the size "
            "the published figures imply. Add --uncalibrated, or drop --people."
        )
    unknown = sorted(set(pilots or []) - set(PILOTS))
    if unknown:
        raise SynthArgumentError(f"unknown pilot(s) {', '.join(unknown)}; choose from {', '.join(PILOTS)}")
    if pilots and not uncalibrated:
        raise SynthArgumentError("--pilots restricts an uncalibrated cohort only; add --uncalibrated")


def check_writable(out_dir: Path) -> None:
    """Raise :class:`SynthArgumentError` when ``out_dir`` cannot be created or written."""
    parent = out_dir if out_dir.exists() else out_dir.parent
    while not parent.exists():
        parent = parent.parent
    if out_dir.exists() and not out_dir.is_dir():
        raise SynthArgumentError(f"{out_dir} exists and is not a folder")
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise SynthArgumentError(f"cannot write to {parent}: {exc.strerror}; choose another --out") from exc


def check_not_in_real_root(out_dir: Path) -> None:
    """Raise :class:`SynthArgumentError` when ``out_dir`` lies under a data root that holds real data."""
    root = data_root()
    if not (out_dir == root or root in out_dir.parents):
        return
    real = real_data_found(root)
    if real:
        raise SynthArgumentError(
            f"the data root {root} holds real data ({', '.join(real[:3])}); `lvv-eval synth` never writes "
            f"under a real data root: choose --out outside it, or unset LVV_DATA_ROOT for the demo")


def make_cohort(seed: int, people: int | None, uncalibrated: bool, pilots: list[str] | None) -> SyntheticCohort:
    """The calibrated default, or an uncalibrated cohort of ``people`` persons."""
    if not uncalibrated:
        return calibrated_cohort(seed)
    params = DGPParams.default()
    if pilots:
        weights = {p: (w if p in pilots else 0.0) for p, w in params["pilot_weights"].items()}
        params = params.override(pilot_weights=weights)
    return simulate_cohort(people or 10_000, seed=seed, params=params)


def synthesise(out_dir: Path | None = None, seed: int = DEFAULT_SEED, people: int | None = None,
               uncalibrated: bool = False, pilots: list[str] | None = None,
               progress: bool = True, chain: bool | None = None) -> SynthResult:
    """Write a SYNTHETIC cohort as five deliveries (plus answer key and the SYNTHETIC.json marker)
    into ``out_dir``, replacing it only when synth wrote it (safe swap); never under a real data
    root. With ``chain`` also the IND and DT&V extracts and the V-number crosswalks (default: for
    the calibrated default yes, for an uncalibrated cohort no: drawing them costs about 10 s per
    100,000 people)."""
    chain = (not uncalibrated) if chain is None else chain
    check_arguments(people, uncalibrated, pilots)
    out_dir = Path(out_dir if out_dir is not None else synthetic_dir())
    out_dir = check_output_folder(out_dir, "synth", is_own=written_by_synth)
    check_not_in_real_root(out_dir)
    check_writable(out_dir)
    from lvv_eval.synth.render.deliveries import write_deliveries
    t0 = time.perf_counter()
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    kind = "calibrated default" if not uncalibrated else f"uncalibrated cohort of {people or 10_000:,} people"
    say(f"synth: drawing the {kind} (seed {seed}) ...")
    cohort = make_cohort(seed, people, uncalibrated, pilots)
    say(f"synth: {len(cohort.stays):,} stays; writing deliveries ...")
    written = []

    def write(tmp: Path) -> None:
        written.append(write_deliveries(cohort, tmp, seed, stamp_fingerprint=not uncalibrated, chain=chain))

    for note in replace_folder(out_dir, write):
        say(f"synth: {note}")
    manifest = written[0]
    seconds = time.perf_counter() - t0
    say(f"synth: SYNTHETIC deliveries written to {out_dir} in {seconds:.1f} s")
    return SynthResult(out_dir, cohort, manifest, seconds)
