"""``lvv-eval synth`` as a library call: draw a cohort and write it as five messy deliveries."""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lvv_eval.config import PILOTS, synthetic_dir
from lvv_eval.synth.calibrate import DEFAULT_SEED, calibrated_cohort
from lvv_eval.synth.dgp import DGPParams, SyntheticCohort, simulate_cohort

FINGERPRINT_FILE = "_answer_key/generator_fingerprint.txt"


def generator_fingerprint() -> str:
    """sha256 over the generator's code and YAML (its DGP, calibration plan and layouts)."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in sorted(p for p in here.rglob("*") if p.suffix in (".py", ".yaml")):
        h.update(path.relative_to(here).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def is_current(out_dir: Path, seed: int = DEFAULT_SEED, chain: bool = True) -> bool:
    """Whether ``out_dir`` holds deliveries written by this generator version with ``seed`` (and,
    with ``chain``, the chain extracts)."""
    stamp = out_dir / FINGERPRINT_FILE
    wanted = [generator_fingerprint(), str(seed)] + (["chain"] if chain else [])
    return stamp.exists() and stamp.read_text(encoding="utf-8").split() == wanted


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
    """Write a SYNTHETIC cohort as five deliveries (plus answer key) into ``out_dir``, atomically;
    with ``chain`` also the IND and DT&V extracts and the V-number crosswalks (default: for the
    calibrated default yes, for an uncalibrated cohort no: drawing them costs about 10 s per
    100,000 people)."""
    chain = (not uncalibrated) if chain is None else chain
    out_dir = Path(out_dir or synthetic_dir()).resolve()
    check_arguments(people, uncalibrated, pilots)
    check_writable(out_dir)
    from lvv_eval.synth.render.deliveries import write_deliveries
    t0 = time.perf_counter()
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    kind = "calibrated default" if not uncalibrated else f"uncalibrated cohort of {people or 10_000:,} people"
    say(f"synth: drawing the {kind} (seed {seed}) ...")
    cohort = make_cohort(seed, people, uncalibrated, pilots)
    say(f"synth: {len(cohort.stays):,} stays; writing deliveries ...")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".synth-", dir=out_dir.parent))
    try:
        manifest = write_deliveries(cohort, tmp, seed, chain=chain)
        if not uncalibrated:
            (tmp / FINGERPRINT_FILE).write_text(
                f"{generator_fingerprint()} {seed}{' chain' if chain else ''}\n", encoding="utf-8")
        if out_dir.exists():
            old = out_dir.with_name(out_dir.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    seconds = time.perf_counter() - t0
    say(f"synth: SYNTHETIC deliveries written to {out_dir} in {seconds:.1f} s")
    return SynthResult(out_dir, cohort, manifest, seconds)
